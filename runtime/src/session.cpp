#include "session.hpp"

namespace uvinet::detail {

SessionObject::SessionObject(const SessionConfig& config, std::shared_ptr<Loop> loop,
                             std::shared_ptr<WorkerPool> workers)
    : HandleObject(HandleKind::session, nullptr, config.context) {
  set_session(this);
  init_runtime(std::move(loop), std::move(workers));
  set_option(Option::user_agent, config.user_agent);
  set_option(Option::callback_model, static_cast<std::int64_t>(config.callback_model));
  if (config.status_callback) set_status_callback(config.status_callback, config.status_mask);
}

}  // namespace uvinet::detail

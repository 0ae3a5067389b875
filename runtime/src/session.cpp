#include "session.hpp"

#include "loop.hpp"

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

std::shared_ptr<void> SessionObject::module_state(
    const Module* module, const std::function<std::shared_ptr<void>()>& make) {
  // After close, requests still open get a state of their own, which they
  // drop (on the loop thread) when they finish.
  if (states_closed_) return make();
  auto& state = module_states_[module];
  if (!state) state = make();
  return state;
}

void SessionObject::on_close_requested() {
  auto self = std::static_pointer_cast<SessionObject>(shared_from_this());
  const bool posted = loop()->post([self] {
    self->states_closed_ = true;
    self->module_states_.clear();  // requests still using a state hold their own reference
    self->mark_released();
  });
  if (!posted) mark_released();
}

}  // namespace uvinet::detail

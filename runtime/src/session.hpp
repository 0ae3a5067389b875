// The session and connection handle objects.
#pragma once

#include <map>

#include "handles.hpp"
#include "limits.hpp"
#include "uvinet/module.hpp"
#include "uvinet/url.hpp"

namespace uvinet::detail {

class SessionObject final : public HandleObject {
 public:
  SessionObject(const SessionConfig& config, std::shared_ptr<Loop> loop,
                std::shared_ptr<WorkerPool> workers);

  /// Operations in flight on the whole session (C7).
  Gate& operations() noexcept { return operations_; }
  /// Connections per server (C7).
  ServerGates& servers() noexcept { return servers_; }
  /// A module's per-session state, made by `make` on first use. Loop thread.
  std::shared_ptr<void> module_state(const Module* module,
                                     const std::function<std::shared_ptr<void>()>& make);

 private:
  // Module states (pools of sockets) are dropped on the loop thread.
  void on_close_requested() override;

  Gate operations_;
  ServerGates servers_;
  std::map<const Module*, std::shared_ptr<void>> module_states_;  // loop thread
  bool states_closed_ = false;                                    // loop thread
};

class ConnectionObject final : public HandleObject {
 public:
  ConnectionObject(std::shared_ptr<HandleObject> session, Context context, Url url,
                   std::shared_ptr<Module> module)
      : HandleObject(HandleKind::connection, std::move(session), context),
        url_(std::move(url)),
        module_(std::move(module)) {}

  const Url& url() const noexcept { return url_; }
  const std::shared_ptr<Module>& module() const noexcept { return module_; }

 private:
  const Url url_;
  const std::shared_ptr<Module> module_;
};

}  // namespace uvinet::detail

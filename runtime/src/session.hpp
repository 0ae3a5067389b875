// The session and connection handle objects.
#pragma once

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

 private:
  Gate operations_;
  ServerGates servers_;
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

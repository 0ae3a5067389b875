// What the HTTP module keeps per session: the keep-alive pool and the cookie
// jar. The runtime keeps one state object per module and session
// (RequestEnv::session_state), so both live in this one.
#pragma once

#include <memory>

#include "connection_pool.hpp"
#include "cookie_jar.hpp"

namespace uvinet::http::detail {

struct SessionState {
  explicit SessionState(std::unique_ptr<Timer> pool_timer)
      : pool(std::make_shared<ConnectionPool>(std::move(pool_timer))) {}

  // Shared, so an exchange can keep the pool while it cancels a wait in its
  // destructor.
  std::shared_ptr<ConnectionPool> pool;
  // Used only when Option::cookies is on; empty and unused otherwise.
  CookieJar cookies;
};

}  // namespace uvinet::http::detail

// What the HTTP module keeps per session: the keep-alive pool and the cookie
// jar. The runtime keeps one state object per module and session
// (RequestEnv::session_state), so both live in this one.
#pragma once

#include <memory>
#include <string>

#include "connection_pool.hpp"
#include "cookie_jar.hpp"
#include "uvinet/url.hpp"

namespace uvinet::http::detail {

struct SessionState {
  explicit SessionState(std::unique_ptr<Timer> pool_timer)
      : pool(std::make_shared<ConnectionPool>(std::move(pool_timer))) {}

  // Shared, so an exchange can keep the pool while it cancels a wait in its
  // destructor.
  std::shared_ptr<ConnectionPool> pool;
  // Used only when Option::cookies is on; empty and unused otherwise.
  CookieJar cookies;
  // The last URL a Response named, as text (Exchange::publish_response):
  // a session's requests mostly go to a few URLs, and create_url is costly.
  Url shown_for;
  std::string shown;
};

}  // namespace uvinet::http::detail

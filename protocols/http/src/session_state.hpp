// What the HTTP module keeps per session: the keep-alive pool and the cookie
// jar. The runtime keeps one state object per module and session
// (RequestEnv::session_state), so both live in this one.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "connection_pool.hpp"
#include "cookie_jar.hpp"
#include "proxy_choice.hpp"
#include "request_state.hpp"
#include "request_writer.hpp"
#include "uvinet/http.hpp"
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
  // The last URL a Response named, as text (Exchange::publish_response),
  // what it was made from, and the route to it (below): a session's
  // requests mostly go to a few URLs, and create_url is costly.
  Url shown_for;
  std::string shown;

  // The proxy variables, read at the session's first request
  // (Exchange::choose_route).
  std::optional<ProxyEnvironment> environment;

  // The last route chosen (Exchange::choose_route), and what it was chosen
  // from: a session's requests mostly go to one server one way, and choosing
  // again costs a parse, strings and the pool key built anew.
  struct Route {
    std::string scheme;
    std::string host;
    std::uint16_t port = 0;
    ProxySettings settings;
    std::optional<Url> proxy;
    std::string proxy_credentials;
    std::string via;         // the pool key's suffix naming the proxy
    std::string host_field;  // the Host field's value
    // "Host: host_field\r\n", checked once here rather than in every head;
    // empty when host_field fails the check (the head reports it).
    std::string host_line;
    // The whole pool key for http; https keys name TLS options, read anew.
    std::shared_ptr<const std::string> key;
  };
  std::shared_ptr<const Route> route;
  std::shared_ptr<const Route> shown_route;  // shown_for's

  // The User-Agent line of the last head (Exchange::build_head), checked
  // again only when the option's value changes.
  CheckedFieldLine user_agent_line{"User-Agent"};

  // What closed requests leave for the next ones (Exchange::recycle): a
  // response head's strings and a body buffer, which would cost allocations
  // on every request. Requests end and start in bursts (one loop pass
  // completes many), so there is room for as many as a busy session runs at
  // once; small ones only, so an idle session holds at most a few hundred KiB.
  static constexpr std::size_t kSpares = 64;
  static constexpr std::size_t kSpareHeadBytes = 2 * 1024;
  static constexpr std::size_t kSpareBufferBytes = 4 * 1024;
  std::vector<HeadText> spare_heads;
  std::vector<std::string> spare_buffers;  // request heads, body buffers: empty

  /// An empty string, in spare memory when there is some.
  std::string take_buffer() {
    if (spare_buffers.empty()) return {};
    std::string buffer = std::move(spare_buffers.back());
    spare_buffers.pop_back();
    return buffer;
  }
  /// Takes `buffer`'s memory for take_buffer(), emptying it, when it has
  /// some (more than a string holds in itself), not too much, and there is
  /// room; otherwise leaves it as it is.
  bool give_back(std::string& buffer) {
    const std::size_t capacity = buffer.capacity();
    if (capacity <= std::string().capacity() || capacity > kSpareBufferBytes ||
        spare_buffers.size() >= kSpares) {
      return false;
    }
    buffer.clear();
    spare_buffers.push_back(std::move(buffer));
    return true;
  }
};

}  // namespace uvinet::http::detail

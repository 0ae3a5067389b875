// The session's cookie jar (RFC 6265): parses Set-Cookie fields into
// cookies (§5.2), stores them by the storage model (§5.3), and produces the
// Cookie field for a request (§5.4). Pure: no I/O, and the time is a
// parameter, so every rule is tested without waiting. Thread-safe: the
// requests of one session share one jar, so each call takes its mutex.
//
// Deliberately left out: the public suffix list (a Domain without a dot, a
// bare TLD like "com", is refused instead, which stops the worst case), and
// SameSite enforcement (there is no browsing context to tell same-site from
// cross-site; the attribute is kept for whoever reads the jar).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "uvinet/url.hpp"

namespace uvinet::http::detail {

using CookieClock = std::chrono::system_clock;

struct Cookie {
  std::string name;
  std::string value;
  /// Lower-case, without a leading dot: the request host for a host-only cookie.
  std::string domain;
  std::string path;
  /// No Domain attribute: sent to `domain` exactly, never to its subdomains.
  bool host_only = true;
  bool secure = false;
  bool http_only = false;
  /// "Strict", "Lax", "None", or "" when absent or not one of those.
  std::string same_site;
  /// Absent for a session cookie (neither Expires nor Max-Age).
  std::optional<CookieClock::time_point> expires;
  CookieClock::time_point creation;
  CookieClock::time_point last_access;
  /// Increases with each new cookie: ties in creation time keep their order.
  std::uint64_t sequence = 0;
};

/// RFC 6265 §6.1 asks for at least these; beyond them the jar evicts.
struct CookieLimits {
  /// Name, value and attributes: the length of the Set-Cookie field value.
  std::size_t max_cookie_bytes = 4096;
  std::size_t max_per_domain = 50;
  std::size_t max_total = 3000;
};

/// What store() did with one Set-Cookie field.
struct StoreOutcome {
  enum Kind {
    stored,    ///< a new cookie
    replaced,  ///< a cookie of the same name, domain and path was replaced
    deleted,   ///< it had expired already: the matching cookie (if any) is gone
    rejected,  ///< ignored; `reason` says why
  };
  Kind kind = rejected;
  std::string name;
  std::string reason;
  bool accepted() const noexcept { return kind != rejected; }
};

/// The Cookie field for one request.
struct CookieHeader {
  std::string value;  ///< "a=1; b=2", or "" when no cookie applies
  std::size_t count = 0;
};

class CookieJar {
 public:
  explicit CookieJar(CookieLimits limits = {}) : limits_(limits) {}

  /// Takes one Set-Cookie field value that came in the response to a request
  /// for `url`. Attributes are matched ignoring case; of an attribute given
  /// twice the last one counts; malformed Expires or Max-Age values are
  /// ignored (RFC 6265 §5.2); Max-Age wins over Expires.
  StoreOutcome store(std::string_view set_cookie, const Url& url, CookieClock::time_point now);

  /// The cookies to send with a request for `url` (§5.4): domain and path
  /// match, not expired, Secure ones only for https and wss; longest path
  /// first, then oldest first. Updates their last-access time.
  CookieHeader header_for(const Url& url, CookieClock::time_point now);

  /// The unexpired cookies, oldest first (for tests and inspection).
  std::vector<Cookie> cookies(CookieClock::time_point now) const;
  std::size_t size() const;

 private:
  void evict(const std::string& domain, CookieClock::time_point now);  // mutex_ held

  const CookieLimits limits_;
  mutable std::mutex mutex_;
  std::vector<Cookie> cookies_;  // guarded by mutex_
  std::uint64_t next_sequence_ = 0;
};

/// RFC 6265 §5.1.3: `host` is `domain`, or ends with "." + `domain` and is
/// not an IP address.
bool domain_match(std::string_view host, std::string_view domain);
/// RFC 6265 §5.1.4: `cookie_path` is `request_path` or a prefix of it that
/// ends with '/' or is followed by '/'.
bool path_match(std::string_view request_path, std::string_view cookie_path);
/// RFC 6265 §5.1.4: the directory of `uri_path` ("/a/b" -> "/a"; "/a" and
/// "" -> "/").
std::string default_cookie_path(std::string_view uri_path);

}  // namespace uvinet::http::detail

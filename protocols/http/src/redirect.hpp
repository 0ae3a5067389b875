// Following redirects (RFC 9110 §15.4): where a 3xx response sends the
// request, with which method and body, and what must not go along. Pure: no
// I/O, so every rule is tested on its own.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "uvinet/options.hpp"
#include "uvinet/result.hpp"
#include "uvinet/url.hpp"

namespace uvinet::http::detail {

/// Resolves a URI reference (a Location value) against `base` (RFC 3986
/// §5.2): absolute ("http://h/p"), network-path ("//h/p"), absolute-path
/// ("/p"), query ("?q") or relative-path ("../p") references, with dot
/// segments removed. Fails with errc::invalid_url on a malformed reference.
Result<Url> resolve_reference(const Url& base, std::string_view reference);

/// True for the statuses a client follows: 301, 302, 303, 307, 308.
bool is_redirect_status(int status) noexcept;

struct RedirectPlan {
  Url url;
  std::string method;
  /// The request body goes again (307, 308); otherwise it is dropped, and
  /// with it the fields that describe it.
  bool keep_body = false;
  /// The new URL has another origin (scheme, host or port): Authorization,
  /// Cookie and the credentials of the first URL must not go there.
  bool cross_origin = false;
};

/// Where the redirect `status` with `location` sends a `method` request for
/// `current`. Fails with errc::redirect_refused when `policy` forbids it
/// (never, another scheme, https to http) or the new URL's scheme is not
/// http or https, and errc::invalid_response when Location is missing or
/// malformed.
Result<RedirectPlan> plan_redirect(int status, std::optional<std::string_view> location,
                                   const Url& current, std::string_view method,
                                   RedirectPolicy policy);

/// The origin-form request target of `url`: path and query ("/a?b").
std::string origin_form(const Url& url);
/// The Host field value of `url`: the host, with the port when it is not the
/// scheme's default, an IPv6 literal in brackets.
std::string host_field(const Url& url);

}  // namespace uvinet::http::detail

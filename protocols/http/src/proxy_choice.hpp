// Which proxy, if any, a request goes through. Pure: the options and a
// getenv function in, a proxy URL out, so every rule is tested without
// touching the process environment.
//
// The rules, the ones curl and most other clients follow:
//  - the proxy option, when set, applies to every scheme; the no_proxy
//    option lists the exceptions;
//  - otherwise, with proxy_from_environment on, http:// and ws:// use
//    http_proxy, https:// and wss:// use https_proxy (or HTTPS_PROXY; the
//    lower-case name wins when both are set). Never HTTP_PROXY: a CGI
//    program gets a request's "Proxy:" header as HTTP_PROXY, so a client
//    that honoured it would let that request pick its proxy ("httpoxy",
//    CVE-2016-5385; curl ignores it too). The
//    exceptions come from the no_proxy option when it is set, else from
//    no_proxy (or NO_PROXY);
//  - a proxy given as "host:port" means "http://host:port"; a port left out
//    is 80, http's default, as everywhere else in uvinet's URLs;
//  - only http:// proxies exist for now (an https:// proxy needs TLS to it).
//
// No-proxy lists are comma-separated (spaces around entries are ignored).
// An entry is "*" (every host), a domain ("example.com" or ".example.com",
// both matching the domain and every host below it), an IP literal (matched
// exactly; IPv6 with or without brackets), and any of them with ":port" to
// match only that port. Names match ignoring case.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "uvinet/result.hpp"
#include "uvinet/url.hpp"

namespace uvinet::http::detail {

struct ProxySettings {
  std::string proxy;     ///< Option::proxy
  std::string no_proxy;  ///< Option::no_proxy
  bool from_environment = true;

  friend bool operator==(const ProxySettings&, const ProxySettings&) = default;
};

/// Reads an environment variable: null when it is not set.
using Getenv = std::function<const char*(const char*)>;

/// The variables choose_proxy() reads, copied from the process environment
/// once, so later choices cost no getenv() (which scans the environment).
class ProxyEnvironment {
 public:
  ProxyEnvironment();
  /// Looks up a copied variable; null for one not set or not copied.
  Getenv getenv() const;
  /// A proxy variable choose_proxy() may use (http_proxy, https_proxy or
  /// HTTPS_PROXY) is set and not empty.
  bool names_a_proxy() const noexcept { return names_a_proxy_; }

 private:
  std::optional<std::string> values_[5];
  bool names_a_proxy_ = false;
};

/// The proxy for a request to `target`, or nullopt to go direct. Fails with
/// errc::invalid_argument, naming the option or variable and its value (the
/// password masked), when the proxy that applies cannot be parsed or is not
/// an http:// URL.
Result<std::optional<Url>> choose_proxy(const Url& target, const ProxySettings& settings,
                                        const Getenv& getenv);

/// False when choose_proxy() goes direct whatever `settings.no_proxy` says:
/// no proxy option, and no variable in `environment` it would take one from.
/// The caller then need not read the no_proxy option at all.
bool no_proxy_matters(const ProxySettings& settings, const ProxyEnvironment& environment);

/// The absolute-form request target for a proxy (RFC 9112 §3.2.2):
/// "http://host:port/path?query", without user info or fragment, which
/// never go on the wire.
std::string absolute_form(const Url& url);

/// True when `no_proxy` (a list as above) names `target`'s host (and port).
bool bypasses_proxy(const Url& target, std::string_view no_proxy);

}  // namespace uvinet::http::detail

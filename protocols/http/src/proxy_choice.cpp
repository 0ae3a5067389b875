#include "proxy_choice.hpp"

#include <charconv>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <type_traits>

#include "response_parser.hpp"  // iequals

namespace uvinet::http::detail {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// A value for an error message: the password of "http://user:pw@host" must
// not reach logs, even when the rest is too broken to crack.
std::string masked(std::string_view value) {
  const std::size_t start = value.find("://");
  const std::size_t from = start == std::string_view::npos ? 0 : start + 3;
  const std::size_t at = value.find('@', from);
  if (at == std::string_view::npos) return std::string(value);
  const std::size_t colon = value.find(':', from);
  if (colon == std::string_view::npos || colon > at) return std::string(value);
  return std::string(value.substr(0, colon + 1)) + "***" + std::string(value.substr(at));
}

Result<Url> parse_proxy(std::string_view value, std::string_view source) {
  std::string text(value);
  if (text.find("://") == std::string::npos) text = "http://" + text;
  const auto fail = [&](const std::string& why) {
    return Error(errc::invalid_argument, std::string(source) + " '" + masked(value) + "': " + why);
  };
  auto url = crack_url(text);
  if (!url) return fail("not a proxy URL (" + url.error().where() + ")");
  if (url->scheme != "http") {
    return fail("only http:// proxies are supported (an " + url->scheme +
                ":// proxy needs TLS or another protocol to it)");
  }
  if (url->host.empty()) return fail("no host");
  return *url;
}

// One no_proxy entry split into host and optional port: "h", "h:80",
// "[::1]", "[::1]:80", "::1" (a bare IPv6 literal has no port).
struct Entry {
  std::string_view host;
  std::optional<std::uint16_t> port;
};

std::optional<Entry> split_entry(std::string_view e) {
  Entry out;
  if (e.front() == '[') {
    const std::size_t close = e.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    out.host = e.substr(1, close - 1);
    e.remove_prefix(close + 1);
    if (e.empty()) return out;
    if (e.front() != ':') return std::nullopt;
    e.remove_prefix(1);
  } else {
    const std::size_t colon = e.find(':');
    if (colon == std::string_view::npos || e.find(':', colon + 1) != std::string_view::npos) {
      out.host = e;  // no port, or an IPv6 literal without brackets
      return out;
    }
    out.host = e.substr(0, colon);
    e.remove_prefix(colon + 1);
  }
  std::uint16_t port = 0;
  auto [end, ec] = std::from_chars(e.data(), e.data() + e.size(), port);
  if (ec != std::errc() || end != e.data() + e.size()) return std::nullopt;
  out.port = port;
  return out;
}

bool entry_matches(const Url& target, std::string_view raw) {
  const std::string_view e = trim(raw);
  if (e.empty()) return false;
  if (e == "*") return true;
  auto entry = split_entry(e);
  if (!entry) return false;  // a malformed entry matches nothing
  if (entry->port && *entry->port != target.port) return false;
  std::string_view host = entry->host;
  if (!host.empty() && host.front() == '.') host.remove_prefix(1);
  if (host.empty()) return false;
  const std::string_view name = target.host;
  if (iequals(name, host)) return true;
  // A suffix match for names only: "0.1" must not match "127.0.0.1".
  if (target.is_ipv6_literal() || name.size() <= host.size()) return false;
  const bool numeric = name.find_first_not_of("0123456789.") == std::string_view::npos;
  return !numeric && name[name.size() - host.size() - 1] == '.' &&
         iequals(name.substr(name.size() - host.size()), host);
}

const char* first_set(const Getenv& getenv, std::initializer_list<const char*> names,
                      const char** which) {
  for (const char* name : names) {
    const char* v = getenv ? getenv(name) : nullptr;
    if (v && *v) {
      *which = name;
      return v;
    }
  }
  return nullptr;
}

// Every name choose_proxy() asks for.
// Those that name a proxy come first, then those that list exceptions.
constexpr const char* kProxyVariables[] = {"http_proxy", "https_proxy", "HTTPS_PROXY", "no_proxy",
                                           "NO_PROXY"};
constexpr std::size_t kProxyNamingVariables = 3;

}  // namespace

ProxyEnvironment::ProxyEnvironment() {
  static_assert(std::size(kProxyVariables) == std::extent_v<decltype(values_)>);
  for (std::size_t i = 0; i < std::size(kProxyVariables); ++i) {
    if (const char* v = std::getenv(kProxyVariables[i])) values_[i] = v;
  }
  for (std::size_t i = 0; i < kProxyNamingVariables; ++i) {
    if (values_[i] && !values_[i]->empty()) names_a_proxy_ = true;
  }
}

Getenv ProxyEnvironment::getenv() const {
  return [this](const char* name) -> const char* {
    for (std::size_t i = 0; i < std::size(kProxyVariables); ++i) {
      if (std::strcmp(name, kProxyVariables[i]) == 0) {
        return values_[i] ? values_[i]->c_str() : nullptr;
      }
    }
    return nullptr;
  };
}

bool no_proxy_matters(const ProxySettings& settings, const ProxyEnvironment& environment) {
  return !settings.proxy.empty() || (settings.from_environment && environment.names_a_proxy());
}

std::string absolute_form(const Url& url) {
  Url shown = url;
  shown.user.clear();
  shown.password.clear();
  shown.fragment.clear();
  if (shown.path.empty()) shown.path = "/";
  // create_url fails only on parts a cracked http URL cannot have.
  return create_url(shown).value_or(url.scheme + "://" + url.host_port() + shown.path);
}

bool bypasses_proxy(const Url& target, std::string_view no_proxy) {
  while (!no_proxy.empty()) {
    const std::size_t comma = no_proxy.find(',');
    if (entry_matches(target, no_proxy.substr(0, comma))) return true;
    if (comma == std::string_view::npos) break;
    no_proxy.remove_prefix(comma + 1);
  }
  return false;
}

Result<std::optional<Url>> choose_proxy(const Url& target, const ProxySettings& settings,
                                        const Getenv& getenv) {
  if (!trim(settings.proxy).empty()) {
    // Checked before no_proxy, so a broken option fails every request, not
    // only those that happen to use it.
    auto proxy = parse_proxy(trim(settings.proxy), "the proxy option");
    if (!proxy) return proxy.error();
    if (bypasses_proxy(target, settings.no_proxy)) return std::optional<Url>();
    return std::optional<Url>(std::move(*proxy));
  }
  if (!settings.from_environment) return std::optional<Url>();
  const bool secure = target.scheme == "https" || target.scheme == "wss";
  if (!secure && target.scheme != "http" && target.scheme != "ws") return std::optional<Url>();
  const char* name = nullptr;
  const char* value =
      secure ? first_set(getenv, {"https_proxy", "HTTPS_PROXY"}, &name)
             : first_set(getenv, {"http_proxy"}, &name);  // see the header: no HTTP_PROXY
  if (!value) return std::optional<Url>();
  std::string_view exceptions = settings.no_proxy;
  if (trim(exceptions).empty()) {
    const char* ignored = nullptr;
    const char* env = first_set(getenv, {"no_proxy", "NO_PROXY"}, &ignored);
    exceptions = env ? env : "";
  }
  if (bypasses_proxy(target, exceptions)) return std::optional<Url>();
  auto proxy = parse_proxy(trim(value), std::string("the environment variable ") + name);
  if (!proxy) return proxy.error();
  return std::optional<Url>(std::move(*proxy));
}

}  // namespace uvinet::http::detail

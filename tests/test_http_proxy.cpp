// Choosing a proxy (protocols/http/src/proxy_choice.hpp): the options, the
// environment variables (through an injected getenv, so the test process's
// own environment plays no part), and no_proxy lists; and the CONNECT
// request of a tunnel (protocols/http/src/proxy_tunnel.hpp).
#include <doctest/doctest.h>

#include <cstdlib>
#include <map>
#include <optional>
#include <string>

#include "proxy_choice.hpp"
#include "proxy_tunnel.hpp"

using namespace uvinet::http::detail;
using uvinet::errc;

namespace {

uvinet::Url url(std::string_view text) {
  auto u = uvinet::crack_url(text);
  REQUIRE_MESSAGE(u, std::string(text));
  return *u;
}

struct Env {
  std::map<std::string, std::string> vars;
  Getenv getenv() const {
    return [this](const char* name) -> const char* {
      auto it = vars.find(name);
      return it == vars.end() ? nullptr : it->second.c_str();
    };
  }
};

// "host:port" of the chosen proxy, "direct", or "error: <message>".
std::string route(std::string_view target, const ProxySettings& settings, const Env& env = {}) {
  auto chosen = choose_proxy(url(target), settings, env.getenv());
  if (!chosen) return "error: " + chosen.error().message();
  return *chosen ? (*chosen)->host_port() : "direct";
}

ProxySettings option(std::string proxy, std::string no_proxy = {}) {
  ProxySettings s;
  s.proxy = std::move(proxy);
  s.no_proxy = std::move(no_proxy);
  return s;
}

}  // namespace

TEST_CASE("no proxy option and no variables: direct") {
  CHECK(route("http://example.com/", {}) == "direct");
  CHECK(route("https://example.com/", {}) == "direct");
}

TEST_CASE("the proxy option applies to every scheme; 'host:port' means http://") {
  CHECK(route("http://example.com/", option("http://proxy.local:3128")) == "proxy.local:3128");
  CHECK(route("https://example.com/", option("http://proxy.local:3128")) == "proxy.local:3128");
  CHECK(route("http://example.com/", option("proxy.local:8080")) == "proxy.local:8080");
  CHECK(route("http://example.com/", option("  http://proxy.local:1  ")) == "proxy.local:1");
  // No port: http's default, like any http URL.
  CHECK(route("http://example.com/", option("http://proxy.local")) == "proxy.local:80");
}

TEST_CASE("the proxy's user and password are kept for Proxy-Authorization") {
  auto chosen = choose_proxy(url("http://example.com/"),
                             option("http://al%40ice:s%3Ecret@proxy.local:3128"), {});
  REQUIRE(chosen);
  REQUIRE(*chosen);
  CHECK((*chosen)->user == "al@ice");
  CHECK((*chosen)->password == "s>cret");
}

TEST_CASE("the proxy option wins over the environment") {
  Env env;
  env.vars["http_proxy"] = "http://from-env:1";
  CHECK(route("http://example.com/", option("http://from-option:2"), env) == "from-option:2");
}

TEST_CASE("an unparsable or unsupported proxy fails, naming the option or variable and value") {
  auto bad = route("http://example.com/", option("http://proxy:99999"));
  CHECK(bad.starts_with("error: "));
  CHECK(bad.find("proxy option") != std::string::npos);
  CHECK(bad.find("http://proxy:99999") != std::string::npos);
  auto code = choose_proxy(url("http://example.com/"), option("http://pro xy"), {});
  REQUIRE_FALSE(code);
  CHECK(code.error() == errc::invalid_argument);
  auto socks = route("http://example.com/", option("socks5://proxy:1080"));
  CHECK(socks.find("only http://") != std::string::npos);
  CHECK(route("http://example.com/", option("https://proxy:443")).starts_with("error: "));
  // A broken option fails even for a host no_proxy lists.
  CHECK(route("http://example.com/", option("http://proxy:99999", "example.com"))
            .starts_with("error: "));
  // The password never shows.
  auto masked = route("http://example.com/", option("http://user:hunter2@proxy:99999"));
  CHECK(masked.find("hunter2") == std::string::npos);
  CHECK(masked.find("user:***@proxy:99999") != std::string::npos);

  Env env;
  env.vars["http_proxy"] = "http://[broken";
  auto from_env = route("http://example.com/", {}, env);
  CHECK(from_env.find("environment variable http_proxy") != std::string::npos);
  CHECK(from_env.find("http://[broken") != std::string::npos);
}

TEST_CASE("environment: http_proxy for http and ws, https_proxy for https and wss") {
  Env env;
  env.vars["http_proxy"] = "http://plain:1";
  env.vars["https_proxy"] = "http://secure:2";
  CHECK(route("http://example.com/", {}, env) == "plain:1");
  CHECK(route("ws://example.com/", {}, env) == "plain:1");
  CHECK(route("https://example.com/", {}, env) == "secure:2");
  CHECK(route("wss://example.com/", {}, env) == "secure:2");
  CHECK(route("ftp://example.com/", {}, env) == "direct");
  env.vars.erase("https_proxy");
  CHECK(route("https://example.com/", {}, env) == "direct");  // http_proxy is not for https
}

TEST_CASE("environment: HTTPS_PROXY works, HTTP_PROXY never (httpoxy); lower-case wins") {
  Env env;
  env.vars["HTTP_PROXY"] = "http://upper:1";  // what a CGI request's Proxy: header becomes
  env.vars["HTTPS_PROXY"] = "upper-secure:2";
  CHECK(route("http://example.com/", {}, env) == "direct");
  CHECK(route("https://example.com/", {}, env) == "upper-secure:2");
  env.vars["http_proxy"] = "http://lower:3";
  CHECK(route("http://example.com/", {}, env) == "lower:3");
  env.vars["http_proxy"] = "";  // empty means unset
  CHECK(route("http://example.com/", {}, env) == "direct");
  env.vars["https_proxy"] = "http://lower-secure:4";
  CHECK(route("https://example.com/", {}, env) == "lower-secure:4");
}

TEST_CASE("environment: ignored when proxy_from_environment is 0") {
  Env env;
  env.vars["http_proxy"] = "http://from-env:1";
  ProxySettings off;
  off.from_environment = false;
  CHECK(route("http://example.com/", off, env) == "direct");
}

TEST_CASE("no_proxy from the environment, upper or lower case; the option replaces it") {
  Env env;
  env.vars["http_proxy"] = "http://p:1";
  env.vars["no_proxy"] = "example.com";
  CHECK(route("http://example.com/", {}, env) == "direct");
  CHECK(route("http://other.com/", {}, env) == "p:1");
  env.vars.erase("no_proxy");
  env.vars["NO_PROXY"] = "other.com";
  CHECK(route("http://other.com/", {}, env) == "direct");
  ProxySettings with_option;
  with_option.no_proxy = "example.com";
  CHECK(route("http://other.com/", with_option, env) == "p:1");  // NO_PROXY not used
  CHECK(route("http://example.com/", with_option, env) == "direct");
}

TEST_CASE("no_proxy: domains match themselves and their subdomains, with or without a dot") {
  const auto u = [](std::string_view s) { return url(s); };
  CHECK(bypasses_proxy(u("http://example.com/"), "example.com"));
  CHECK(bypasses_proxy(u("http://www.example.com/"), "example.com"));
  CHECK(bypasses_proxy(u("http://a.b.example.com/"), ".example.com"));
  CHECK(bypasses_proxy(u("http://example.com/"), ".example.com"));
  CHECK_FALSE(bypasses_proxy(u("http://notexample.com/"), "example.com"));
  CHECK_FALSE(bypasses_proxy(u("http://example.com.evil/"), "example.com"));
  CHECK(bypasses_proxy(u("http://WWW.Example.com/"), "EXAMPLE.com"));
}

TEST_CASE("no_proxy: lists, spaces, '*', empty entries") {
  const auto u = [](std::string_view s) { return url(s); };
  CHECK(bypasses_proxy(u("http://b.org/"), "a.com, b.org ,c.net"));
  CHECK(bypasses_proxy(u("http://c.net/"), "a.com, b.org ,c.net"));
  CHECK_FALSE(bypasses_proxy(u("http://d.io/"), "a.com, b.org ,c.net"));
  CHECK(bypasses_proxy(u("http://anything.example/"), "*"));
  CHECK(bypasses_proxy(u("http://anything.example/"), "a.com, *"));
  CHECK_FALSE(bypasses_proxy(u("http://anything.example/"), ",, ,"));
  CHECK_FALSE(bypasses_proxy(u("http://anything.example/"), ""));
  CHECK_FALSE(bypasses_proxy(u("http://anything.example/"), "*.example"));  // not a glob
}

TEST_CASE("no_proxy: host:port entries match that port only") {
  const auto u = [](std::string_view s) { return url(s); };
  CHECK(bypasses_proxy(u("http://example.com:8080/"), "example.com:8080"));
  CHECK_FALSE(bypasses_proxy(u("http://example.com:8081/"), "example.com:8080"));
  CHECK_FALSE(bypasses_proxy(u("http://example.com/"), "example.com:8080"));
  CHECK(bypasses_proxy(u("http://example.com/"), "example.com:80"));  // the default port
  CHECK(bypasses_proxy(u("http://127.0.0.1:5000/"), "127.0.0.1:5000"));
  CHECK_FALSE(bypasses_proxy(u("http://127.0.0.1:5001/"), "127.0.0.1:5000"));
  CHECK_FALSE(bypasses_proxy(u("http://example.com/"), "example.com:notaport"));
}

TEST_CASE("no_proxy: IP literals match exactly, never as suffixes") {
  const auto u = [](std::string_view s) { return url(s); };
  CHECK(bypasses_proxy(u("http://127.0.0.1/"), "127.0.0.1"));
  CHECK_FALSE(bypasses_proxy(u("http://127.0.0.1/"), "0.0.1"));
  CHECK_FALSE(bypasses_proxy(u("http://10.0.0.1/"), "0.1"));
  CHECK(bypasses_proxy(u("http://[::1]/"), "::1"));
  CHECK(bypasses_proxy(u("http://[::1]/"), "[::1]"));
  CHECK(bypasses_proxy(u("http://[::1]:8080/"), "[::1]:8080"));
  CHECK_FALSE(bypasses_proxy(u("http://[::1]:8081/"), "[::1]:8080"));
  CHECK_FALSE(bypasses_proxy(u("http://[2001:db8::1]/"), "::1"));
}

TEST_CASE("no_proxy with the proxy option") {
  CHECK(route("http://localhost:8080/", option("http://p:1", "localhost")) == "direct");
  CHECK(route("http://127.0.0.1:8080/", option("http://p:1", "localhost")) == "p:1");
}

TEST_CASE("no_proxy matters only where a proxy may apply") {
  // ProxyEnvironment copies the process environment: set it, then restore it.
  const char* names[] = {"http_proxy", "https_proxy", "HTTPS_PROXY", "no_proxy", "NO_PROXY"};
  std::map<std::string, std::optional<std::string>> saved;
  for (const char* name : names) {
    const char* old = std::getenv(name);
    saved[name] = old ? std::optional<std::string>(old) : std::nullopt;
    ::unsetenv(name);
  }
  ProxySettings from_env;  // from_environment on, no option
  ProxySettings off;
  off.from_environment = false;

  ::setenv("no_proxy", "example.com", 1);
  ::setenv("http_proxy", "", 1);  // set but empty: no proxy
  const ProxyEnvironment none;
  CHECK_FALSE(none.names_a_proxy());
  CHECK_FALSE(no_proxy_matters(from_env, none));
  CHECK_FALSE(no_proxy_matters(off, none));
  CHECK(no_proxy_matters(option("http://p:1"), none));
  CHECK(no_proxy_matters(option(" "), none));  // what choose_proxy() trims, read anyway

  for (const char* name : {"http_proxy", "https_proxy", "HTTPS_PROXY"}) {
    ::setenv(name, "http://p:1", 1);
    const ProxyEnvironment some;
    CHECK_MESSAGE(some.names_a_proxy(), name);
    CHECK(no_proxy_matters(from_env, some));
    CHECK_FALSE(no_proxy_matters(off, some));
    ::unsetenv(name);
  }

  for (const auto& [name, old] : saved) {
    if (old) {
      ::setenv(name.c_str(), old->c_str(), 1);
    } else {
      ::unsetenv(name.c_str());
    }
  }
}

TEST_CASE("absolute-form targets: the whole URL without user info or fragment") {
  CHECK(absolute_form(url("http://example.com/a/b?q=1")) == "http://example.com/a/b?q=1");
  CHECK(absolute_form(url("http://example.com:8080/p")) == "http://example.com:8080/p");
  CHECK(absolute_form(url("http://user:pw@example.com/p#frag")) == "http://example.com/p");
  CHECK(absolute_form(url("http://[::1]:81/")) == "http://[::1]:81/");
}

TEST_CASE("connect_request: authority form with the port, Host the same") {
  auto request = connect_request(url("https://example.com/a?b"), "");
  REQUIRE(request);
  CHECK(*request == "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n");
}

TEST_CASE("connect_request: an IPv6 origin in brackets, and Proxy-Authorization") {
  auto request = connect_request(url("https://[::1]:8443/"), "Basic YTpi");
  REQUIRE(request);
  CHECK(*request ==
        "CONNECT [::1]:8443 HTTP/1.1\r\nHost: [::1]:8443\r\n"
        "Proxy-Authorization: Basic YTpi\r\n\r\n");
}

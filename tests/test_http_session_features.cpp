// Session features of the HTTP client against real servers: the cookie jar
// with nginx setting and echoing cookies, and proxies with a real tinyproxy
// (support/tinyproxy.hpp) in front of nginx (https ones through a CONNECT
// tunnel, with the test CA of support/test_pki.hpp), plus a ScriptServer
// standing in for a proxy where the exact bytes sent matter.
#include <doctest/doctest.h>

#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "support/http_client.hpp"
#include "support/nginx.hpp"
#include "support/script_server.hpp"
#include "support/test_pki.hpp"
#include "support/tinyproxy.hpp"

namespace {

using test_support::fetch;
using test_support::HttpSession;
using uvinet::errc;
using uvinet::Option;
using uvinet::Status;
using uvinet_test::Nginx;
using uvinet_test::Script;
using uvinet_test::ScriptServer;
using uvinet_test::Tinyproxy;
namespace http = uvinet::http;

// Locations that set cookies, and ones that answer with the Cookie field
// they got ("" when none came).
const char* const kCookieLocations = R"(
  location = /cookies/set {
    add_header Set-Cookie "a=1; Path=/" always;
    add_header Set-Cookie "scoped=2; Path=/cookies/deep" always;
    return 200 "set\n";
  }
  location = /cookies/delete {
    add_header Set-Cookie "a=gone; Max-Age=0; Path=/" always;
    return 200 "deleted\n";
  }
  location = /cookies/redirect {
    add_header Set-Cookie "hop=302; Path=/" always;
    return 302 /cookies/echo;
  }
  location = /cookies/foreign {
    add_header Set-Cookie "f=1; Domain=example.com" always;
    return 200 "foreign\n";
  }
  location = /cookies/echo { return 200 "$http_cookie"; }
  location = /cookies/deep/echo { return 200 "$http_cookie"; }
)";

Nginx& cookie_nginx() {
  static Nginx nginx([] {
    Nginx::Options o;
    o.server_config = kCookieLocations;
    return o;
  }());
  return nginx;
}

std::string body_of(HttpSession& s, const std::string& url,
                    const http::OpenUrlOptions& options = {}) {
  auto got = fetch(s, url, options);
  REQUIRE_MESSAGE(got, got.error().message());
  REQUIRE(got->status == 200);
  return got->body;
}

std::vector<uvinet::StatusInfo> infos(const HttpSession& s, Status status) {
  std::vector<uvinet::StatusInfo> out;
  for (const auto& e : s.recorder.events()) {
    if (e.status == status) out.push_back(e.info);
  }
  return out;
}

// A session that ignores the test process's own http_proxy (a CI machine
// may have one), with the cookie jar on or off.
struct Session : HttpSession {
  explicit Session(bool cookies = false) {
    set(Option::proxy_from_environment, 0);
    if (cookies) set(Option::cookies, 1);
  }
  void set_string(Option o, std::string value) { REQUIRE(session.set_option(o, std::move(value))); }
};

// Sets environment variables for one test case and puts back what was there.
class EnvGuard {
 public:
  void set(const char* name, const char* value) {
    save(name);
    if (value) {
      ::setenv(name, value, 1);
    } else {
      ::unsetenv(name);
    }
  }
  ~EnvGuard() {
    for (const auto& [name, old] : saved_) {
      if (old) {
        ::setenv(name.c_str(), old->c_str(), 1);
      } else {
        ::unsetenv(name.c_str());
      }
    }
  }

 private:
  void save(const char* name) {
    if (saved_.count(name)) return;
    const char* old = std::getenv(name);
    saved_[name] = old ? std::optional<std::string>(old) : std::nullopt;
  }
  std::map<std::string, std::optional<std::string>> saved_;
};

// http_proxy names `proxy`; nothing else in the environment says otherwise.
void only_http_proxy(EnvGuard& env, const Tinyproxy& proxy) {
  env.set("http_proxy", proxy.url().c_str());
  env.set("HTTP_PROXY", nullptr);
  env.set("no_proxy", nullptr);
  env.set("NO_PROXY", nullptr);
}

bool via_proxy(const test_support::Fetched& got) {
  auto via = got.response.header("Via");
  return via && via->find(Tinyproxy::via_name) != std::string::npos;
}

using uvinet_test::localhost_url;

void trust_test_ca(HttpSession& s) {
  REQUIRE(s.session.set_option(Option::ca_file, uvinet_test::pki().file("ca.pem")));
}

}  // namespace

// ---------------------------------------------------------------- cookies

TEST_CASE("cookies: the jar is off by default, so nothing is stored or sent") {
  Nginx& nginx = cookie_nginx();
  Session s;
  CHECK(body_of(s, nginx.url("/cookies/set")) == "set\n");
  CHECK(body_of(s, nginx.url("/cookies/echo")) == "");
  CHECK(infos(s, Status::cookie_received).empty());
  CHECK(infos(s, Status::cookie_sent).empty());
}

TEST_CASE("cookies: set by one response, sent with the next, scoped by Path") {
  Nginx& nginx = cookie_nginx();
  Session s(true);
  CHECK(body_of(s, nginx.url("/cookies/echo")) == "");  // nothing yet
  CHECK(body_of(s, nginx.url("/cookies/set")) == "set\n");
  CHECK(body_of(s, nginx.url("/cookies/echo")) == "a=1");
  // The longer path first.
  CHECK(body_of(s, nginx.url("/cookies/deep/echo")) == "scoped=2; a=1");

  const auto received = infos(s, Status::cookie_received);
  REQUIRE(received.size() == 2);
  CHECK(received[0].text == "a=1; Path=/");
  CHECK(received[0].number == 1);
  CHECK(received[1].text == "scoped=2; Path=/cookies/deep");
  const auto sent = infos(s, Status::cookie_sent);
  REQUIRE(sent.size() == 2);  // the first echo and /cookies/set went without
  CHECK(sent[0].text == "a=1");
  CHECK(sent[0].number == 1);
  CHECK(sent[1].text == "scoped=2; a=1");
  CHECK(sent[1].number == 2);
}

TEST_CASE("cookies: each session has its own jar") {
  Nginx& nginx = cookie_nginx();
  Session one(true);
  Session two(true);
  body_of(one, nginx.url("/cookies/set"));
  CHECK(body_of(one, nginx.url("/cookies/echo")) == "a=1");
  CHECK(body_of(two, nginx.url("/cookies/echo")) == "");
}

TEST_CASE("cookies: Max-Age=0 deletes the cookie") {
  Nginx& nginx = cookie_nginx();
  Session s(true);
  body_of(s, nginx.url("/cookies/set"));
  CHECK(body_of(s, nginx.url("/cookies/echo")) == "a=1");
  CHECK(body_of(s, nginx.url("/cookies/delete")) == "deleted\n");
  CHECK(body_of(s, nginx.url("/cookies/echo")) == "");
  CHECK(body_of(s, nginx.url("/cookies/deep/echo")) == "scoped=2");
}

TEST_CASE("cookies: one set on a 302 goes to the redirect's target") {
  Nginx& nginx = cookie_nginx();
  Session s(true);
  auto got = fetch(s, nginx.url("/cookies/redirect"));
  REQUIRE_MESSAGE(got, got.error().message());
  CHECK(got->status == 200);
  CHECK(got->response.redirects == 1);
  CHECK(got->body == "hop=302");
  const auto sent = infos(s, Status::cookie_sent);
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].text == "hop=302");
}

TEST_CASE("cookies: a cookie for a domain the host does not match is refused") {
  Nginx& nginx = cookie_nginx();
  Session s(true);
  body_of(s, nginx.url("/cookies/foreign"));
  const auto received = infos(s, Status::cookie_received);
  REQUIRE(received.size() == 1);
  CHECK(received[0].number == 0);
  CHECK(body_of(s, nginx.url("/cookies/echo")) == "");
}

TEST_CASE("cookies: the no_cookies flag neither stores nor sends") {
  Nginx& nginx = cookie_nginx();
  Session s(true);
  http::OpenUrlOptions without;
  without.flags = http::no_cookies;
  body_of(s, nginx.url("/cookies/set"), without);
  CHECK(body_of(s, nginx.url("/cookies/echo")) == "");  // not stored
  body_of(s, nginx.url("/cookies/set"));
  CHECK(body_of(s, nginx.url("/cookies/echo"), without) == "");  // not sent
  CHECK(body_of(s, nginx.url("/cookies/echo")) == "a=1");        // but kept
}

TEST_CASE("cookies: a Cookie field the application sets goes instead of the jar's") {
  Nginx& nginx = cookie_nginx();
  Session s(true);
  body_of(s, nginx.url("/cookies/set"));
  http::OpenUrlOptions own;
  own.headers = {{"Cookie", "mine=1"}};
  CHECK(body_of(s, nginx.url("/cookies/echo"), own) == "mine=1");
}

// ---------------------------------------------------------------- proxies

TEST_CASE("proxy: a request through tinyproxy reaches nginx, and the proxy saw it") {
  Nginx nginx;
  Tinyproxy proxy;
  Session s;
  s.set_string(Option::proxy, proxy.url());
  auto got = fetch(s, nginx.url("/1k.bin"));
  REQUIRE_MESSAGE(got, (got ? std::string() : got.error().message() + "\n" + proxy.log()));
  CHECK(got->status == 200);
  CHECK(got->body == nginx.file("/1k.bin"));
  CHECK(via_proxy(*got));
  const auto requests = proxy.wait_for_requests(1);
  REQUIRE(requests.size() == 1);
  CHECK(requests[0] == "GET " + nginx.url("/1k.bin") + " HTTP/1.1");
  REQUIRE(nginx.wait_for_access_log(1).size() == 1);
  CHECK(nginx.access_log()[0].uri == "/1k.bin");
}

TEST_CASE("proxy: proxied and direct requests never share a pooled connection") {
  Nginx nginx;
  Tinyproxy proxy;
  Session s;
  // Direct first: nginx keeps the connection alive and the pool keeps it.
  auto direct = fetch(s, nginx.url("/1k.bin"));
  REQUIRE(direct);
  CHECK_FALSE(via_proxy(*direct));
  s.set_string(Option::proxy, proxy.url());
  auto proxied = fetch(s, nginx.url("/1k.bin"));
  REQUIRE_MESSAGE(proxied, proxied.error().message());
  CHECK(via_proxy(*proxied));
  s.set_string(Option::proxy, "");
  auto direct_again = fetch(s, nginx.url("/1k.bin"));
  REQUIRE(direct_again);
  CHECK_FALSE(via_proxy(*direct_again));
  CHECK(proxy.wait_for_requests(1).size() == 1);
  const auto log = nginx.wait_for_access_log(3);
  REQUIRE(log.size() == 3);
  // The two direct requests shared their connection; the proxy made its own.
  CHECK(log[0].connection == log[2].connection);
  CHECK(log[1].connection != log[0].connection);
}

TEST_CASE("proxy: no_proxy entries (host:port) go direct") {
  Nginx nginx;
  Tinyproxy proxy;
  Session s;
  s.set_string(Option::proxy, proxy.url());
  s.set_string(Option::no_proxy, "example.com, 127.0.0.1:" + std::to_string(nginx.port()));
  auto got = fetch(s, nginx.url("/1k.bin"));
  REQUIRE_MESSAGE(got, got.error().message());
  CHECK_FALSE(via_proxy(*got));
  CHECK(proxy.requests().empty());
  // Another port of the same host is not listed: through the proxy.
  s.set_string(Option::no_proxy, "127.0.0.1:1");
  auto proxied = fetch(s, nginx.url("/1k.bin"));
  REQUIRE_MESSAGE(proxied, proxied.error().message());
  CHECK(via_proxy(*proxied));
}

TEST_CASE("proxy: a redirect chooses again (proxied first hop, direct second)") {
  Nginx first;
  Nginx second;
  Tinyproxy proxy;
  Session s;
  s.set_string(Option::proxy, proxy.url());
  s.set_string(Option::no_proxy, "127.0.0.1:" + std::to_string(second.port()));
  auto got = fetch(s, first.url("/redirect/302?to=" + second.url("/1k.bin")));
  REQUIRE_MESSAGE(got, got.error().message());
  CHECK(got->status == 200);
  CHECK(got->response.redirects == 1);
  CHECK(got->body == second.file("/1k.bin"));
  CHECK_FALSE(via_proxy(*got));  // the final response came direct
  const auto requests = proxy.wait_for_requests(1);
  REQUIRE(requests.size() == 1);
  CHECK(requests[0].starts_with("GET " + first.url("/redirect/302?to=")));
  CHECK(second.wait_for_access_log(1).size() == 1);
}

TEST_CASE("proxy: http_proxy from the environment, unless proxy_from_environment is 0") {
  Nginx nginx;
  Tinyproxy proxy;
  EnvGuard env;
  only_http_proxy(env, proxy);
  {
    HttpSession s;  // proxy_from_environment defaults to 1
    auto got = fetch(s, nginx.url("/1k.bin"));
    REQUIRE_MESSAGE(got, got.error().message());
    CHECK(via_proxy(*got));
  }
  CHECK(proxy.wait_for_requests(1).size() == 1);
  {
    Session s;  // proxy_from_environment 0
    auto got = fetch(s, nginx.url("/1k.bin"));
    REQUIRE(got);
    CHECK_FALSE(via_proxy(*got));
  }
  {
    env.set("no_proxy", ("localhost,127.0.0.1:" + std::to_string(nginx.port())).c_str());
    HttpSession s;
    auto got = fetch(s, nginx.url("/1k.bin"));
    REQUIRE(got);
    CHECK_FALSE(via_proxy(*got));
  }
  CHECK(proxy.requests().size() == 1);
}

TEST_CASE("proxy: a session reads the environment once, at its first request") {
  Nginx nginx;
  Tinyproxy proxy;
  EnvGuard env;
  only_http_proxy(env, proxy);
  HttpSession s;
  auto first = fetch(s, nginx.url("/1k.bin"));
  REQUIRE_MESSAGE(first, first.error().message());
  CHECK(via_proxy(*first));
  env.set("http_proxy", nullptr);
  // The same session: still through the proxy, the route it chose kept or
  // chosen again from what it read.
  auto second = fetch(s, nginx.url("/1k.bin"));
  REQUIRE(second);
  CHECK(via_proxy(*second));
  auto other_target = fetch(s, nginx.url("/64k.bin"));
  REQUIRE(other_target);
  CHECK(via_proxy(*other_target));
  // A session opened after the change goes direct.
  HttpSession later;
  auto direct = fetch(later, nginx.url("/1k.bin"));
  REQUIRE(direct);
  CHECK_FALSE(via_proxy(*direct));
  CHECK(proxy.wait_for_requests(3).size() == 3);
}

TEST_CASE("proxy: the exact request a proxy gets, with Proxy-Authorization") {
  ScriptServer fake_proxy(Script().expect_head().send(
      "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"));
  Session s;
  // "alice:s3cret" percent-encodes nothing; "%40" shows the user is decoded.
  s.set_string(Option::proxy,
               "http://al%40ice:s3cret@127.0.0.1:" + std::to_string(fake_proxy.port()));
  // The origin's name is never resolved: only the proxy is connected to.
  auto got = fetch(s, "http://origin.invalid:8080/a/b?q=1#frag");
  REQUIRE_MESSAGE(got, got.error().message());
  CHECK(got->body == "ok");
  REQUIRE(fake_proxy.wait_done(1));
  const std::string sent = fake_proxy.received(0);
  CHECK(sent.starts_with(
      "GET http://origin.invalid:8080/a/b?q=1 HTTP/1.1\r\nHost: origin.invalid:8080\r\n"));
  // base64("al@ice:s3cret")
  CHECK(sent.find("\r\nProxy-Authorization: Basic YWxAaWNlOnMzY3JldA==\r\n") != std::string::npos);
  CHECK(sent.find("\r\nAuthorization:") == std::string::npos);  // nothing for the origin
  CHECK(fake_proxy.errors().empty());
}

TEST_CASE("proxy: tinyproxy with Basic authentication takes our credentials") {
  Nginx nginx;
  Tinyproxy::Options options;
  options.user = "alice";
  options.password = "s3cret";
  Tinyproxy proxy(options);
  Session s;
  s.set_string(Option::proxy, proxy.url());
  auto refused = fetch(s, nginx.url("/1k.bin"));
  REQUIRE_MESSAGE(refused, refused.error().message());
  CHECK(refused->status == 407);
  s.set_string(Option::proxy, "http://alice:s3cret@127.0.0.1:" + std::to_string(proxy.port()));
  auto got = fetch(s, nginx.url("/1k.bin"));
  REQUIRE_MESSAGE(got, got.error().message());
  CHECK(got->status == 200);
  CHECK(got->body == nginx.file("/1k.bin"));
  CHECK(via_proxy(*got));
}

TEST_CASE("proxy: an unparsable proxy fails the request, naming the option and value") {
  Session s;
  s.set_string(Option::proxy, "http://proxy.invalid:99999");
  auto got = fetch(s, "http://127.0.0.1:9/");
  REQUIRE_FALSE(got);
  CHECK(got.error() == errc::invalid_argument);
  CHECK(got.error().message().find("proxy option") != std::string::npos);
  CHECK(got.error().message().find("http://proxy.invalid:99999") != std::string::npos);
}

// ---------------------------------------------------------------- CONNECT tunnels

TEST_CASE("proxy: https through tinyproxy goes in a CONNECT tunnel to nginx") {
  Nginx nginx(uvinet_test::https_nginx("good"));
  Tinyproxy proxy;
  Session s;
  trust_test_ca(s);
  s.set_string(Option::proxy, proxy.url());
  auto got = fetch(s, localhost_url(nginx.port(), "/1k.bin"));
  REQUIRE_MESSAGE(got, (got ? std::string() : got.error().message() + "\n" + proxy.log()));
  CHECK(got->status == 200);
  CHECK(got->body == nginx.file("/1k.bin"));
  // The proxy only relays: it cannot add Via to a response it cannot read.
  CHECK_FALSE(via_proxy(*got));
  const auto requests = proxy.wait_for_requests(1);
  REQUIRE(requests.size() == 1);
  CHECK(requests[0] == "CONNECT localhost:" + std::to_string(nginx.port()) + " HTTP/1.1");
  REQUIRE(nginx.wait_for_access_log(1).size() == 1);
  CHECK(nginx.access_log()[0].uri == "/1k.bin");

  SUBCASE("the tunnel, TLS and all, is pooled for the next request") {
    auto again = fetch(s, localhost_url(nginx.port(), "/64k.bin"));
    REQUIRE_MESSAGE(again, again.error().message());
    CHECK(again->body == nginx.file("/64k.bin"));
    const auto log = nginx.wait_for_access_log(2);
    REQUIRE(log.size() == 2);
    CHECK(Nginx::connection_count(log) == 1);
  }
}

TEST_CASE("proxy: a CONNECT tunnel through tinyproxy with Basic authentication") {
  Nginx nginx(uvinet_test::https_nginx("good"));
  Tinyproxy::Options options;
  options.user = "alice";
  options.password = "s3cret";
  Tinyproxy proxy(options);
  Session s;
  trust_test_ca(s);
  const std::string url = localhost_url(nginx.port(), "/1k.bin");

  s.set_string(Option::proxy, proxy.url());
  auto refused = fetch(s, url);
  REQUIRE_FALSE(refused);
  CHECK_MESSAGE(refused.error() == errc::cannot_connect, refused.error().message());
  CHECK(refused.error().message().find("407") != std::string::npos);
  CHECK(refused.error().message().find("127.0.0.1:" + std::to_string(proxy.port())) !=
        std::string::npos);

  s.set_string(Option::proxy, "http://alice:s3cret@127.0.0.1:" + std::to_string(proxy.port()));
  auto got = fetch(s, url);
  REQUIRE_MESSAGE(got, got.error().message());
  CHECK(got->status == 200);
  CHECK(got->body == nginx.file("/1k.bin"));
}

TEST_CASE("proxy: a proxy refusing CONNECT fails the request; the exact CONNECT it got") {
  ScriptServer fake_proxy(Script().expect_head().send(
      "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"));
  Session s;
  s.set_string(Option::proxy,
               "http://al%40ice:s3cret@127.0.0.1:" + std::to_string(fake_proxy.port()));
  // The origin's name is never resolved: the proxy would do that.
  auto got = fetch(s, "https://origin.invalid:8443/a?q=1");
  REQUIRE_FALSE(got);
  CHECK(got.error() == errc::cannot_connect);
  CHECK(got.error().message().find("403 Forbidden") != std::string::npos);
  CHECK(got.error().message().find("127.0.0.1:" + std::to_string(fake_proxy.port())) !=
        std::string::npos);
  REQUIRE(fake_proxy.wait_done(1));
  // base64("al@ice:s3cret"); nothing of the request itself (path, fields)
  // reaches a proxy that only makes a tunnel.
  CHECK(fake_proxy.received(0) ==
        "CONNECT origin.invalid:8443 HTTP/1.1\r\nHost: origin.invalid:8443\r\n"
        "Proxy-Authorization: Basic YWxAaWNlOnMzY3JldA==\r\n\r\n");
  CHECK(fake_proxy.connections() == 1);
}

TEST_CASE("proxy: a proxy closing before it answers CONNECT is connection_closed") {
  ScriptServer fake_proxy(Script().expect_head().close());
  Session s;
  s.set_string(Option::proxy, fake_proxy.url());
  auto got = fetch(s, "https://origin.invalid/");
  REQUIRE_FALSE(got);
  CHECK(got.error() == errc::connection_closed);
  REQUIRE(fake_proxy.wait_done(1));
  CHECK(fake_proxy.received(0).starts_with("CONNECT origin.invalid:443 HTTP/1.1\r\n"));
}

// The cookie jar (protocols/http/src/cookie_jar.hpp), rule by rule of RFC
// 6265, with the time passed in: no case waits for a cookie to expire.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "cookie_jar.hpp"
#include "uvinet/http_date.hpp"

using namespace uvinet::http::detail;
using namespace std::chrono_literals;

namespace {

uvinet::Url url(std::string_view text) {
  auto u = uvinet::crack_url(text);
  REQUIRE_MESSAGE(u, std::string(text));
  return *u;
}

// A fixed "now": 2026-01-01 00:00:00 UTC.
const CookieClock::time_point t0 = *uvinet::parse_http_date("Thu, 01 Jan 2026 00:00:00 GMT");

struct Jar {
  explicit Jar(CookieLimits limits = {}) : jar(limits) {}
  StoreOutcome set(std::string_view line, std::string_view from = "http://example.com/",
                   CookieClock::time_point now = t0) {
    return jar.store(line, url(from), now);
  }
  std::string get(std::string_view for_url, CookieClock::time_point now = t0) {
    return jar.header_for(url(for_url), now).value;
  }
  CookieJar jar;
};

}  // namespace

TEST_CASE("a cookie set by a response goes back in the Cookie field") {
  Jar j;
  auto out = j.set("sid=abc123");
  CHECK(out.kind == StoreOutcome::stored);
  CHECK(out.name == "sid");
  CHECK(j.get("http://example.com/") == "sid=abc123");
  auto header = j.jar.header_for(url("http://example.com/x"), t0);
  CHECK(header.count == 1);
  CHECK(j.get("http://other.example/") == "");
}

TEST_CASE("the name-value pair: trimmed, '=' required, name required, no controls") {
  Jar j;
  CHECK(j.set("  a = 1 ; Path=/").kind == StoreOutcome::stored);
  CHECK(j.set("b=").kind == StoreOutcome::stored);         // an empty value is fine
  CHECK(j.set("c=x=y").kind == StoreOutcome::stored);      // the first '=' splits
  CHECK(j.set("novalue").kind == StoreOutcome::rejected);  // no '='
  CHECK(j.set("=v").kind == StoreOutcome::rejected);       // no name
  CHECK(j.set("d=a\rb").kind == StoreOutcome::rejected);   // CR would end the header
  CHECK(j.set("e=a\x01").kind == StoreOutcome::rejected);
  CHECK(j.get("http://example.com/") == "a=1; b=; c=x=y");
}

TEST_CASE("host-only cookies go to the host alone; Domain cookies to subdomains too") {
  Jar j;
  j.set("host=1", "http://example.com/");
  j.set("dom=2; Domain=example.com", "http://example.com/");
  CHECK(j.get("http://example.com/") == "host=1; dom=2");
  CHECK(j.get("http://www.example.com/") == "dom=2");
  CHECK(j.get("http://notexample.com/") == "");  // a suffix, but not at a dot
  auto cookies = j.jar.cookies(t0);
  REQUIRE(cookies.size() == 2);
  CHECK(cookies[0].host_only);
  CHECK(cookies[0].domain == "example.com");
  CHECK_FALSE(cookies[1].host_only);
}

TEST_CASE("Domain: leading dot ignored, case folded, must domain-match the request host") {
  Jar j;
  CHECK(j.set("a=1; Domain=.Example.COM", "http://www.example.com/").kind == StoreOutcome::stored);
  CHECK(j.jar.cookies(t0).at(0).domain == "example.com");
  CHECK(j.get("http://example.com/") == "a=1");  // a parent domain was allowed
  auto other = j.set("b=2; Domain=other.com", "http://www.example.com/");
  CHECK(other.kind == StoreOutcome::rejected);
  CHECK(other.reason.find("does not match") != std::string::npos);
  // A subdomain of the request host is not allowed either.
  CHECK(j.set("c=3; Domain=sub.www.example.com", "http://www.example.com/").kind ==
        StoreOutcome::rejected);
  CHECK(j.jar.size() == 1);
}

TEST_CASE("Domain naming a bare TLD is refused; naming the dotless host itself is host-only") {
  Jar j;
  auto tld = j.set("a=1; Domain=com", "http://example.com/");
  CHECK(tld.kind == StoreOutcome::rejected);
  CHECK(tld.reason.find("top-level") != std::string::npos);
  CHECK(j.set("b=2; Domain=.com", "http://example.com/").kind == StoreOutcome::rejected);
  CHECK(j.set("c=3; Domain=localhost", "http://localhost/").kind == StoreOutcome::stored);
  CHECK(j.jar.cookies(t0).at(0).host_only);
  CHECK(j.get("http://localhost/") == "c=3");
}

TEST_CASE("IP hosts: a Domain cookie for the same address is fine, no suffix matching") {
  CHECK(domain_match("127.0.0.1", "127.0.0.1"));
  CHECK_FALSE(domain_match("1.0.0.1", "0.0.1"));
  CHECK(domain_match("a.b.example", "b.example"));
  CHECK_FALSE(domain_match("b.example", "a.b.example"));
  Jar j;
  CHECK(j.set("a=1; Domain=0.0.1", "http://127.0.0.1/").kind == StoreOutcome::rejected);
  CHECK(j.set("b=2", "http://127.0.0.1:8080/").kind == StoreOutcome::stored);
  // Cookies do not care about ports (RFC 6265 §8.5).
  CHECK(j.get("http://127.0.0.1:9090/") == "b=2");
}

TEST_CASE("path-match and default-path follow §5.1.4") {
  CHECK(default_cookie_path("") == "/");
  CHECK(default_cookie_path("/") == "/");
  CHECK(default_cookie_path("/a") == "/");
  CHECK(default_cookie_path("/a/b") == "/a");
  CHECK(default_cookie_path("/a/b/") == "/a/b");
  CHECK(default_cookie_path("a/b") == "/");
  CHECK(path_match("/a", "/a"));
  CHECK(path_match("/a/b", "/a"));
  CHECK(path_match("/a/b", "/a/"));
  CHECK_FALSE(path_match("/ab", "/a"));
  CHECK_FALSE(path_match("/", "/a"));
  CHECK(path_match("/anything", "/"));
}

TEST_CASE("Path scopes a cookie; without Path the request's directory is used") {
  Jar j;
  j.set("scoped=1; Path=/docs", "http://example.com/");
  j.set("dflt=2", "http://example.com/app/page");           // default path /app
  j.set("bad=3; Path=relative", "http://example.com/x/y");  // not '/': default /x
  CHECK(j.get("http://example.com/") == "");
  CHECK(j.get("http://example.com/docs") == "scoped=1");
  CHECK(j.get("http://example.com/docs/a?q=/app") == "scoped=1");
  CHECK(j.get("http://example.com/docsx") == "");
  CHECK(j.get("http://example.com/app/other") == "dflt=2");
  CHECK(j.get("http://example.com/x/z") == "bad=3");
}

TEST_CASE("the Cookie field: longest path first, then oldest first") {
  Jar j;
  j.set("root1=a; Path=/", "http://example.com/", t0);
  j.set("deep=b; Path=/a/b", "http://example.com/", t0 + 1s);
  j.set("mid=c; Path=/a", "http://example.com/", t0 + 2s);
  j.set("root2=d; Path=/", "http://example.com/", t0 + 3s);
  j.set("root0=e; Path=/", "http://example.com/", t0 - 5s);
  CHECK(j.get("http://example.com/a/b/c", t0 + 4s) == "deep=b; mid=c; root0=e; root1=a; root2=d");
}

TEST_CASE("cookies created at the same moment keep the order they came in") {
  Jar j;
  for (const char* name : {"z", "y", "x", "w"}) j.set(std::string(name) + "=1");
  CHECK(j.get("http://example.com/") == "z=1; y=1; x=1; w=1");
}

TEST_CASE("same name, domain and path replaces, keeping the creation time; others coexist") {
  Jar j;
  j.set("a=1; Path=/", "http://example.com/", t0);
  j.set("b=2; Path=/", "http://example.com/", t0 + 1s);
  auto again = j.set("a=3; Path=/", "http://example.com/", t0 + 2s);
  CHECK(again.kind == StoreOutcome::replaced);
  // Kept its place: a is still the older one.
  CHECK(j.get("http://example.com/", t0 + 3s) == "a=3; b=2");
  // Another path is another cookie.
  CHECK(j.set("a=4; Path=/p", "http://example.com/", t0 + 3s).kind == StoreOutcome::stored);
  CHECK(j.jar.size() == 3);
  // The key is name, domain and path: a Domain cookie replaces a host-only
  // one of the same name for the same domain and path (and is no longer
  // host-only).
  CHECK(j.set("a=5; Domain=example.com", "http://example.com/", t0 + 4s).kind ==
        StoreOutcome::replaced);
  CHECK(j.jar.size() == 3);
  CHECK(j.get("http://example.com/p", t0 + 5s) == "a=4; a=5; b=2");
  CHECK(j.get("http://www.example.com/", t0 + 5s) == "a=5");
}

TEST_CASE("Expires makes a cookie persistent until that time") {
  Jar j;
  j.set("e=1; Expires=Thu, 01 Jan 2026 01:00:00 GMT");
  CHECK(j.get("http://example.com/", t0 + 59min) == "e=1");
  CHECK(j.get("http://example.com/", t0 + 60min) == "");
  CHECK(j.jar.size() == 0);  // gone from the jar, not just hidden
  // The other HTTP-date forms, as servers send them.
  j.set("f=2; expires=Thursday, 01-Jan-26 02:00:00 GMT");
  j.set("g=3; EXPIRES=Thu Jan  1 02:00:00 2026");
  CHECK(j.get("http://example.com/", t0 + 90min) == "f=2; g=3");
  // A malformed date is ignored: a session cookie.
  j.set("h=4; Expires=tomorrow");
  CHECK_FALSE(j.jar.cookies(t0).back().expires.has_value());
}

TEST_CASE("Max-Age: seconds from now, taking precedence over Expires either way round") {
  Jar j;
  j.set("m=1; Max-Age=60");
  CHECK(j.get("http://example.com/", t0 + 59s) == "m=1");
  CHECK(j.get("http://example.com/", t0 + 60s) == "");
  j.set("n=2; Expires=Thu, 01 Jan 2026 00:00:10 GMT; Max-Age=3600");
  j.set("o=3; Max-Age=3600; Expires=Thu, 01 Jan 2026 00:00:10 GMT");
  CHECK(j.get("http://example.com/", t0 + 30s) == "n=2; o=3");
  // A malformed Max-Age is ignored, so Expires applies.
  j.set("p=4; Max-Age=12x; Expires=Thu, 01 Jan 2026 00:00:10 GMT");
  CHECK(j.get("http://example.com/", t0 + 5s) == "n=2; o=3; p=4");
  CHECK(j.get("http://example.com/", t0 + 11s) == "n=2; o=3");
  // A huge Max-Age does not overflow into the past.
  j.set("q=5; Max-Age=99999999999999999999");
  CHECK(j.get("http://example.com/", t0 + 24h * 365 * 50).find("q=5") != std::string::npos);
}

TEST_CASE("Max-Age=0, a negative Max-Age or a past Expires deletes the cookie") {
  Jar j;
  j.set("a=1; Path=/");
  j.set("b=2; Path=/");
  j.set("c=3; Path=/");
  j.set("d=4; Path=/");
  CHECK(j.set("a=x; Max-Age=0; Path=/").kind == StoreOutcome::deleted);
  CHECK(j.set("b=x; Max-Age=-1; Path=/").kind == StoreOutcome::deleted);
  CHECK(j.set("c=x; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/").kind == StoreOutcome::deleted);
  // A deletion must name the same path: this one deletes nothing.
  CHECK(j.set("d=x; Max-Age=0; Path=/other").kind == StoreOutcome::deleted);
  CHECK(j.get("http://example.com/") == "d=4");
  CHECK(j.jar.size() == 1);
}

TEST_CASE("Secure cookies go over https and wss only; HttpOnly and SameSite are kept") {
  Jar j;
  j.set("s=1; Secure", "https://example.com/");
  j.set("p=2; HttpOnly; SameSite=lax", "https://example.com/");
  CHECK(j.get("https://example.com/") == "s=1; p=2");
  CHECK(j.get("wss://example.com/") == "s=1; p=2");
  CHECK(j.get("http://example.com/") == "p=2");
  CHECK(j.get("ws://example.com/") == "p=2");
  auto cookies = j.jar.cookies(t0);
  REQUIRE(cookies.size() == 2);
  CHECK(cookies[0].secure);
  CHECK_FALSE(cookies[0].http_only);
  CHECK(cookies[1].http_only);
  CHECK(cookies[1].same_site == "Lax");
  j.set("q=3; SameSite=Bogus");
  CHECK(j.jar.cookies(t0).back().same_site == "");
}

TEST_CASE("the last of an attribute given twice counts") {
  Jar j;
  j.set("a=1; Path=/x; Path=/y; Max-Age=0; Max-Age=100");
  auto cookies = j.jar.cookies(t0);
  REQUIRE(cookies.size() == 1);
  CHECK(cookies[0].path == "/y");
  REQUIRE(cookies[0].expires);
  CHECK(*cookies[0].expires == t0 + 100s);
}

TEST_CASE("limit: a cookie of more than 4096 bytes (name, value, attributes) is refused") {
  Jar j;
  const std::string prefix = "big=";
  const std::string fits = prefix + std::string(4096 - prefix.size(), 'v');
  CHECK(j.set(fits).kind == StoreOutcome::stored);
  auto over = j.set(fits + "v");
  CHECK(over.kind == StoreOutcome::rejected);
  CHECK(over.reason.find("4096") != std::string::npos);
  // Attributes count too.
  CHECK(j.set("x=1; Path=/" + std::string(4096, 'p')).kind == StoreOutcome::rejected);
}

TEST_CASE("limit: 50 cookies per domain, the least recently used evicted first") {
  Jar j;
  for (int i = 0; i < 50; ++i) {
    j.set("c" + std::to_string(i) + "=1", "http://example.com/", t0 + std::chrono::seconds(i));
  }
  CHECK(j.jar.size() == 50);
  // Replacing c0 uses it (and keeps its creation time): c1 is now the least
  // recently used, though c0 is the oldest.
  CHECK(j.set("c0=2", "http://example.com/", t0 + 100s).kind == StoreOutcome::replaced);
  CHECK(j.jar.size() == 50);
  j.set("new=1", "http://example.com/", t0 + 101s);
  CHECK(j.jar.size() == 50);
  std::vector<std::string> names;
  for (const auto& c : j.jar.cookies(t0 + 102s)) names.push_back(c.name);
  CHECK(std::find(names.begin(), names.end(), "new") != names.end());
  CHECK(std::find(names.begin(), names.end(), "c0") != names.end());
  CHECK(std::find(names.begin(), names.end(), "c1") == names.end());
  CHECK(std::find(names.begin(), names.end(), "c2") != names.end());
  j.set("o=1", "http://other.example/", t0 + 105s);  // another domain: no eviction
  CHECK(j.jar.size() == 51);
}

TEST_CASE("sending a cookie counts as using it: the unread one is evicted") {
  CookieLimits limits;
  limits.max_per_domain = 2;
  Jar j(limits);
  j.set("x=1; Path=/x", "http://example.com/", t0);
  j.set("y=1; Path=/y", "http://example.com/", t0 + 1s);
  CHECK(j.get("http://example.com/x", t0 + 2s) == "x=1");
  j.set("z=1", "http://example.com/", t0 + 3s);
  CHECK(j.get("http://example.com/x", t0 + 4s) == "x=1; z=1");
  CHECK(j.get("http://example.com/y", t0 + 4s) == "z=1");
}

TEST_CASE("limit: 3000 cookies in all, the least recently used evicted first") {
  Jar j;
  int n = 0;
  for (int d = 0; d < 61; ++d) {
    for (int i = 0; i < 50; ++i, ++n) {
      j.set("c" + std::to_string(i) + "=1", "http://d" + std::to_string(d) + ".example/",
            t0 + std::chrono::seconds(n));
    }
  }
  CHECK(n == 3050);
  CHECK(j.jar.size() == 3000);
  // The first 50 set (all of d0) went.
  CHECK(j.get("http://d0.example/") == "");
  CHECK(j.get("http://d1.example/", t0 + 1h).starts_with("c0=1; c1=1"));
}

TEST_CASE("smaller limits are each enforced on their own") {
  CookieLimits limits;
  limits.max_cookie_bytes = 10;
  limits.max_per_domain = 2;
  limits.max_total = 3;
  Jar j(limits);
  CHECK(j.set("a=12345678").kind == StoreOutcome::stored);  // 10 bytes
  CHECK(j.set("a=123456789").kind == StoreOutcome::rejected);
  j.set("b=1", "http://example.com/", t0 + 1s);
  j.set("c=1", "http://example.com/", t0 + 2s);
  CHECK(j.get("http://example.com/", t0 + 3s) == "b=1; c=1");
  j.set("d=1", "http://two.example/", t0 + 4s);
  j.set("e=1", "http://three.example/", t0 + 5s);
  CHECK(j.jar.size() == 3);
  CHECK(j.get("http://example.com/", t0 + 6s) == "c=1");  // b was least recently used
}

TEST_CASE("expired cookies are evicted before live ones when a limit is hit") {
  CookieLimits limits;
  limits.max_per_domain = 2;
  Jar j(limits);
  j.set("old=1; Max-Age=5", "http://example.com/", t0);
  j.set("live=1", "http://example.com/", t0 + 1s);
  j.set("newer=1", "http://example.com/", t0 + 10s);  // old has expired by now
  CHECK(j.get("http://example.com/", t0 + 11s) == "live=1; newer=1");
}

TEST_CASE("the jar is safe to use from several threads at once") {
  CookieJar jar;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&jar, t] {
      const auto u = url("http://t" + std::to_string(t) + ".example/");
      for (int i = 0; i < 200; ++i) {
        jar.store("c" + std::to_string(i % 20) + "=" + std::to_string(i), u, t0);
        (void)jar.header_for(u, t0);
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(jar.size() == 80);
  CHECK(jar.header_for(url("http://t2.example/"), t0).count == 20);
}

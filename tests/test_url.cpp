#include <doctest/doctest.h>

#include <atomic>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "uvinet/url.hpp"

using uvinet::crack_url;
using uvinet::create_url;
using uvinet::errc;
using uvinet::Url;

namespace {

Url cracked(std::string_view text) {
  auto url = crack_url(text);
  REQUIRE_MESSAGE(url.has_value(), "crack_url('", std::string(text),
                  "') failed: ", url.error().message());
  return *url;
}

std::string created(const Url& url) {
  auto text = create_url(url);
  REQUIRE_MESSAGE(text.has_value(), "create_url failed: ", text.error().message());
  return *text;
}

// Checks that `text` is rejected as invalid_url with a note mentioning `mention`.
void check_rejected(std::string_view text, std::string_view mention) {
  CAPTURE(text);
  auto url = crack_url(text);
  REQUIRE_FALSE(url.has_value());
  CHECK(url.error() == errc::invalid_url);
  const std::string& where = url.error().where();
  CHECK_MESSAGE(where.find(mention) != std::string::npos, "note was: ", where);
  CHECK_MESSAGE(where.find(" in URL '") != std::string::npos, "note was: ", where);
}

void check_create_rejected(const Url& url, std::string_view mention) {
  auto text = create_url(url);
  REQUIRE_FALSE(text.has_value());
  CHECK(text.error() == errc::invalid_url);
  const std::string& where = text.error().where();
  CHECK_MESSAGE(where.find(mention) != std::string::npos, "note was: ", where);
}

}  // namespace

TEST_CASE("default_port knows every scheme uvinet ships and gives 0 for others") {
  CHECK(uvinet::default_port("http") == 80);
  CHECK(uvinet::default_port("https") == 443);
  CHECK(uvinet::default_port("ftp") == 21);
  CHECK(uvinet::default_port("ftps") == 990);
  CHECK(uvinet::default_port("gopher") == 70);
  CHECK(uvinet::default_port("ws") == 80);
  CHECK(uvinet::default_port("wss") == 443);
  CHECK(uvinet::default_port("foo") == 0);
  CHECK(uvinet::default_port("") == 0);
  CHECK(uvinet::default_port("HTTP") == 0);  // callers pass Url::scheme, which is lower-case
}

TEST_CASE("crack_url splits a URL into its parts") {
  Url url = cracked("http://example.com/a/b?x=1&y=2#top");
  CHECK(url.scheme == "http");
  CHECK(url.user.empty());
  CHECK(url.password.empty());
  CHECK(url.host == "example.com");
  CHECK(url.port == 80);
  CHECK(url.path == "/a/b");
  CHECK(url.query == "x=1&y=2");
  CHECK(url.fragment == "top");
  CHECK_FALSE(url.has_credentials());
  CHECK_FALSE(url.is_ipv6_literal());
}

TEST_CASE("crack_url fills in every known scheme's default port") {
  const std::vector<std::pair<std::string, std::uint16_t>> schemes = {
      {"http", 80},   {"https", 443}, {"ftp", 21}, {"ftps", 990},
      {"gopher", 70}, {"ws", 80},     {"wss", 443}};
  for (const auto& entry : schemes) {
    const std::string& scheme = entry.first;  // not a structured binding: CAPTURE uses a lambda
    std::uint16_t port = entry.second;
    CAPTURE(scheme);
    CHECK(cracked(scheme + "://host/").port == port);
    CHECK(cracked(scheme + "://host:1234/").port == 1234);
    CHECK(cracked(scheme + "://host:/").port == port);  // empty port means the default
  }
  CHECK(cracked("foo://host/").port == 0);
  CHECK(cracked("foo://host:99/").port == 99);
}

TEST_CASE("crack_url lower-cases scheme and host but keeps the path as written") {
  Url url = cracked("HTTPS://Example.COM:8443/Some/PATH?Q=A#Frag");
  CHECK(url.scheme == "https");
  CHECK(url.host == "example.com");
  CHECK(url.port == 8443);
  CHECK(url.path == "/Some/PATH");
  CHECK(url.query == "Q=A");
  CHECK(url.fragment == "Frag");
}

TEST_CASE("crack_url gives an authority URL without a path the path '/'") {
  CHECK(cracked("http://h").path == "/");
  Url with_query = cracked("http://h?q=1");
  CHECK(with_query.path == "/");
  CHECK(with_query.query == "q=1");
  Url with_fragment = cracked("http://h:81#f");
  CHECK(with_fragment.path == "/");
  CHECK(with_fragment.port == 81);
  CHECK(with_fragment.fragment == "f");
  Url empty_parts = cracked("http://h/?#");
  CHECK(empty_parts.query.empty());
  CHECK(empty_parts.fragment.empty());
}

TEST_CASE("crack_url reads ports at the edges of their range") {
  CHECK(cracked("http://h:0/").port == 0);
  CHECK(cracked("http://h:1/").port == 1);
  CHECK(cracked("http://h:65535/").port == 65535);
  CHECK(cracked("http://h:00080/").port == 80);
}

TEST_CASE("crack_url keeps path, query and fragment percent-encoded") {
  Url url = cracked("http://h/a%2Fb/%E2%82%AC?x=%20y&z=a+b#sec%231");
  CHECK(url.path == "/a%2Fb/%E2%82%AC");
  CHECK(url.query == "x=%20y&z=a+b");
  CHECK(url.fragment == "sec%231");
  CHECK(cracked("http://h/a?b?c").query == "b?c");
  CHECK(cracked("http://h/a#b#c").fragment == "b#c");
  CHECK(cracked("http://h/caf\xC3\xA9").path == "/caf\xC3\xA9");  // raw UTF-8 is tolerated
}

TEST_CASE("crack_url reads IPv6 literals with and without port and zone id") {
  Url loopback = cracked("http://[::1]/");
  CHECK(loopback.host == "::1");
  CHECK(loopback.port == 80);
  CHECK(loopback.is_ipv6_literal());

  Url with_port = cracked("http://[::1]:8080/x");
  CHECK(with_port.host == "::1");
  CHECK(with_port.port == 8080);
  CHECK(with_port.path == "/x");

  CHECK(cracked("https://[2001:DB8::A]/").host == "2001:db8::a");
  CHECK(cracked("http://[2001:db8:0:0:0:0:0:1]/").host == "2001:db8:0:0:0:0:0:1");
  CHECK(cracked("http://[::ffff:192.0.2.1]/").host == "::ffff:192.0.2.1");
  CHECK(cracked("http://[1:2:3:4:5:6:192.0.2.1]/").host == "1:2:3:4:5:6:192.0.2.1");
  CHECK(cracked("http://[::]/").host == "::");
  CHECK(cracked("http://[1::]/").host == "1::");
  CHECK(cracked("http://[1:2:3:4:5:6:7::]/").host == "1:2:3:4:5:6:7::");
  CHECK(cracked("http://[::2:3:4:5:6:7:8]/").host == "::2:3:4:5:6:7:8");
  CHECK(cracked("http://[::1]:/").port == 80);

  Url zoned = cracked("http://[fe80::1%25eth0]:8080/");
  CHECK(zoned.host == "fe80::1%eth0");
  CHECK(zoned.port == 8080);
  CHECK(zoned.is_ipv6_literal());
  CHECK(cracked("http://[FE80::1%25En0]/").host == "fe80::1%En0");  // zone keeps its case
  CHECK(cracked("http://[fe80::1%25%65th0]/").host == "fe80::1%eth0");
}

TEST_CASE("crack_url reads and decodes user and password") {
  Url both = cracked("ftp://user:pa%40ss%3Aw%2F@files.example.com/pub");
  CHECK(both.user == "user");
  CHECK(both.password == "pa@ss:w/");
  CHECK(both.host == "files.example.com");
  CHECK(both.port == 21);
  CHECK(both.has_credentials());

  Url user_only = cracked("http://us%20er@h/");
  CHECK(user_only.user == "us er");
  CHECK(user_only.password.empty());
  CHECK(user_only.has_credentials());

  Url password_only = cracked("http://:secret@h/");
  CHECK(password_only.user.empty());
  CHECK(password_only.password == "secret");
  CHECK(password_only.has_credentials());

  Url empty_password = cracked("http://user:@h/");
  CHECK(empty_password.user == "user");
  CHECK(empty_password.password.empty());

  Url empty_info = cracked("http://@h/");
  CHECK_FALSE(empty_info.has_credentials());
  CHECK(empty_info.host == "h");

  CHECK(cracked("http://%E2%82%AC:x@h/").user == "\xE2\x82\xAC");
  CHECK(cracked("http://u:p:q@h/").password == "p:q");  // only the first ':' separates
  Url ipv6 = cracked("http://u:p@[::1]:8080/");
  CHECK(ipv6.user == "u");
  CHECK(ipv6.host == "::1");
  CHECK(ipv6.port == 8080);
}

TEST_CASE("crack_url decodes the host") {
  CHECK(cracked("http://m%C3%BCnchen.example/").host == "m\xC3\xBCnchen.example");
  CHECK(cracked("http://a%2Fb/").host == "a/b");
  CHECK(cracked("http://sub-1.ex_ample~.com!$&'()*+,;=/").host == "sub-1.ex_ample~.com!$&'()*+,;=");
  CHECK(cracked("http://127.0.0.1:8080/").host == "127.0.0.1");
}

TEST_CASE("crack_url takes any syntactically valid scheme") {
  Url file = cracked("file:///etc/hosts");
  CHECK(file.scheme == "file");
  CHECK(file.host.empty());
  CHECK(file.port == 0);
  CHECK(file.path == "/etc/hosts");

  Url mail = cracked("mailto:someone@example.com?subject=hi");
  CHECK(mail.scheme == "mailto");
  CHECK(mail.host.empty());
  CHECK(mail.user.empty());
  CHECK(mail.path == "someone@example.com");
  CHECK(mail.query == "subject=hi");

  CHECK(cracked("urn:isbn:0451450523").path == "isbn:0451450523");
  CHECK(cracked("svn+ssh://h/repo").scheme == "svn+ssh");
  CHECK(cracked("A.b-C+d:x").scheme == "a.b-c+d");
  CHECK(cracked("foo:").path.empty());
  CHECK(cracked("foo://").path == "/");
  CHECK(cracked("foo://u@/x").user == "u");
  CHECK(cracked("foo://:99/x").port == 99);
}

TEST_CASE("crack_url rejects bad characters and missing parts with a clear note") {
  check_rejected("", "empty URL");
  check_rejected("http://h/a b", "space at offset 10");
  check_rejected(" http://h/", "space at offset 0");
  check_rejected("http://h/\t", "control character byte %09");
  check_rejected("http://h/\n", "control character");
  check_rejected("http://h/\x7f", "control character byte %7F");
  check_rejected(std::string_view("http://h/\0", 10), "control character byte %00");
  check_rejected("example.com/path", "missing scheme");
  check_rejected("//h/x", "missing scheme");
  check_rejected(":foo", "missing scheme");
  check_rejected("no-colon", "missing scheme");
  check_rejected("1http://h/", "scheme does not start with a letter");
  check_rejected("ht_tp://h/", "invalid character '_' in scheme");
  check_rejected("http:h/x", "missing '//' and host after 'http:'");
  check_rejected("https:/h/x", "missing '//'");
  check_rejected("http:///x", "missing host");
  check_rejected("https://:443/", "missing host");
  check_rejected("http://user@/x", "missing host");
  check_rejected("ws://?q", "missing host");
}

TEST_CASE("crack_url rejects bad ports") {
  check_rejected("http://h:70000/", "port out of range");
  check_rejected("http://h:65536/", "port out of range");
  check_rejected("http://h:99999999999999999999999/", "port out of range");
  check_rejected("http://h:8a/", "port '8a' is not a number");
  check_rejected("http://h:-1/", "is not a number");
  check_rejected("http://h:+80/", "is not a number");
  check_rejected("http://[::1]:x/", "is not a number");
  check_rejected("http://[::1]:65536/", "port out of range");
  auto url = crack_url("http://h:70000/");
  REQUIRE_FALSE(url.has_value());
  CHECK(url.error().where() == "port out of range (0-65535) in URL 'http://h:70000/'");
  CHECK(url.error().message() ==
        "port out of range (0-65535) in URL 'http://h:70000/': the URL is malformed");
}

TEST_CASE("crack_url rejects bad hosts") {
  check_rejected("http://[::1/", "IPv6 host has '[' but no ']'");
  check_rejected("http://[::1]x/", "unexpected 'x' after ']' in host");
  check_rejected("http://[::g]/", "invalid IPv6 address '::g'");
  check_rejected("http://[]/", "invalid IPv6 address ''");
  check_rejected("http://[1:2:3:4:5:6:7:8:9]/", "invalid IPv6 address");
  check_rejected("http://[1:2:3:4:5:6:7]/", "invalid IPv6 address");
  check_rejected("http://[1::2::3]/", "invalid IPv6 address");
  check_rejected("http://[:::]/", "invalid IPv6 address");
  check_rejected("http://[:1::]/", "invalid IPv6 address");
  check_rejected("http://[12345::]/", "invalid IPv6 address");
  check_rejected("http://[1:2:3:4:5:6:7:8::]/", "invalid IPv6 address");
  check_rejected("http://[::1.2.3.256]/", "invalid IPv6 address");
  check_rejected("http://[::01.2.3.4]/", "invalid IPv6 address");
  check_rejected("http://[1.2.3.4::]/", "invalid IPv6 address");
  check_rejected("http://[example.com]/", "invalid IPv6 address");
  check_rejected("http://[v1.fe]/", "IPvFuture host literals are not supported");
  check_rejected("http://[fe80::1%eth0]/", "zone id must be written as '%25'");
  check_rejected("http://[fe80::1%25]/", "zone id");
  check_rejected("http://[fe80::1%25e!th]/", "invalid character '!' in IPv6 zone id");
  check_rejected("http://[fe80::1%25e%zz]/", "bad percent escape '%zz' in IPv6 zone id");
  check_rejected("http://::1/", "IPv6 host must be enclosed in '[' and ']'");
  check_rejected("http://h%zz/", "bad percent escape '%zz' in host");
  check_rejected("http://h%0A/", "host holds an encoded byte %0A");
  check_rejected("http://a%3Ab/", "host holds an encoded ':'");
  check_rejected("http://a%20b/", "host holds an encoded byte %20");
  check_rejected("http://h<x/", "invalid character '<' in host");
  check_rejected("http://h\\x/", "invalid character '\\' in host");
  check_rejected("http://h\"/", "invalid character '\"' in host");
}

TEST_CASE("crack_url rejects bad percent escapes in every part") {
  check_rejected("http://h/%zz", "bad percent escape '%zz' in path");
  check_rejected("http://h/a%2", "bad percent escape '%2' in path");
  check_rejected("http://h/a%", "bad percent escape '%' in path");
  check_rejected("http://h/?q=%", "in query");
  check_rejected("http://h/?q=%G0", "bad percent escape '%G0' in query");
  check_rejected("http://h/#%g1", "bad percent escape '%g1' in fragment");
  check_rejected("mailto:a%b", "in path");
  check_rejected("http://us%er:pw@h/", "bad percent escape '%er' in user name");
  check_rejected("http://a@b@h/", "'@' in user info (write it as %40)");
}

TEST_CASE("crack_url keeps passwords out of its error messages") {
  auto bad_port = crack_url("http://user:secret@h:99999/");
  REQUIRE_FALSE(bad_port.has_value());
  CHECK(bad_port.error().where().find("secret") == std::string::npos);
  CHECK(bad_port.error().where().find("'http://user:***@h:99999/'") != std::string::npos);

  auto bad_escape = crack_url("http://user:s3%qzx@h/");
  REQUIRE_FALSE(bad_escape.has_value());
  CHECK(bad_escape.error().where().find("in password") != std::string::npos);
  CHECK(bad_escape.error().where().find("qzx") == std::string::npos);

  auto raw_at = crack_url("http://user:p@qzx@h/");
  REQUIRE_FALSE(raw_at.has_value());
  CHECK(raw_at.error().where().find("'@' in user info") != std::string::npos);
  CHECK(raw_at.error().where().find("qzx") == std::string::npos);
}

TEST_CASE("crack_url cuts very long URLs in its messages") {
  std::string url = "http://h:99999/" + std::string(5000, 'a');
  auto result = crack_url(url);
  REQUIRE_FALSE(result.has_value());
  CHECK(result.error().where().size() < 300);
  CHECK(result.error().where().find("...'") != std::string::npos);
}

TEST_CASE("host_port shows host and port, bracketing IPv6, never credentials") {
  CHECK(cracked("http://u:p@example.com/").host_port() == "example.com:80");
  CHECK(cracked("https://[::1]:8443/").host_port() == "[::1]:8443");
  CHECK(cracked("http://[fe80::1%25eth0]/").host_port() == "[fe80::1%eth0]:80");
  CHECK(cracked("foo://h/").host_port() == "h");
  CHECK(Url{}.host_port().empty());
}

TEST_CASE("create_url builds URL text from parts") {
  Url url;
  url.scheme = "http";
  url.host = "example.com";
  CHECK(created(url) == "http://example.com/");
  url.port = 80;
  CHECK(created(url) == "http://example.com/");
  url.port = 8080;
  CHECK(created(url) == "http://example.com:8080/");
  url.scheme = "HTTPS";
  url.port = 443;
  url.path = "/a/b";
  url.query = "x=1";
  url.fragment = "top";
  CHECK(created(url) == "https://example.com/a/b?x=1#top");
  url.path = "relative";
  CHECK(created(url) == "https://example.com/relative?x=1#top");
}

TEST_CASE("create_url brackets IPv6 hosts and encodes their zone id") {
  Url url;
  url.scheme = "http";
  url.host = "::1";
  CHECK(created(url) == "http://[::1]/");
  url.port = 8080;
  CHECK(created(url) == "http://[::1]:8080/");
  url.host = "fe80::1%eth0";
  CHECK(created(url) == "http://[fe80::1%25eth0]:8080/");
  url.host = "fe80::1%e/th";
  CHECK(created(url) == "http://[fe80::1%25e%2Fth]:8080/");
}

TEST_CASE("create_url encodes user, password and host for their sets") {
  Url url;
  url.scheme = "ftp";
  url.host = "h";
  url.user = "us@er:x";
  url.password = "p:w d/?#%";
  CHECK(created(url) == "ftp://us%40er%3Ax:p:w%20d%2F%3F%23%25@h/");
  url.user = "";
  url.password = "pw";
  CHECK(created(url) == "ftp://:pw@h/");
  url.user = "u!$&'()*+,;=";
  url.password = "";
  CHECK(created(url) == "ftp://u!$&'()*+,;=@h/");
  url.user = "";
  url.host = "m\xC3\xBCnchen.example";
  CHECK(created(url) == "ftp://m%C3%BCnchen.example/");
  url.host = "a/b%c";
  CHECK(created(url) == "ftp://a%2Fb%25c/");
}

TEST_CASE("create_url encodes only what may never appear raw in path, query and fragment") {
  Url url;
  url.scheme = "http";
  url.host = "h";
  url.path = "/a b/\x01/caf\xC3\xA9/%41/100%/?x#y";
  url.query = "q=a b&r=%zz?#";
  url.fragment = "f g#";
  CHECK(created(url) ==
        "http://h/a%20b/%01/caf%C3%A9/%41/100%25/%3Fx%23y?q=a%20b&r=%25zz?%23#f%20g%23");
  Url back = cracked(created(url));
  CHECK(back.path == "/a%20b/%01/caf%C3%A9/%41/100%25/%3Fx%23y");
}

TEST_CASE("create_url writes URLs without a host") {
  Url file;
  file.scheme = "file";
  file.path = "/etc/hosts";
  CHECK(created(file) == "file:///etc/hosts");
  Url mail;
  mail.scheme = "mailto";
  mail.path = "a@example.com";
  CHECK(created(mail) == "mailto:a@example.com");
  Url bare;
  bare.scheme = "foo";
  CHECK(created(bare) == "foo:");
  bare.port = 99;
  CHECK(created(bare) == "foo://:99/");
}

TEST_CASE("create_url rejects parts it cannot write") {
  Url url;
  url.host = "h";
  check_create_rejected(url, "empty scheme");
  url.scheme = "1http";
  check_create_rejected(url, "scheme does not start with a letter");
  url.scheme = "ht tp";
  check_create_rejected(url, "invalid character byte %20 in scheme");
  url.scheme = "https";
  url.host = "";
  check_create_rejected(url, "host is empty");
  url.host = "not:ipv6";
  check_create_rejected(url, "host 'not:ipv6' holds ':' but is not an IPv6 address");
  url.host = "a b";
  check_create_rejected(url, "host holds a space or control character");
  url.host = "a\nb";
  check_create_rejected(url, "host holds a space or control character");
  auto text = create_url(url);
  REQUIRE_FALSE(text.has_value());
  CHECK(text.error().where().rfind("cannot create URL: ", 0) == 0);
}

TEST_CASE("create_url inverts crack_url for normalised URLs") {
  const char* const urls[] = {
      "http://example.com/",
      "https://example.com:8443/a/b?x=1&y=%20#frag",
      "ftp://user:pa%40ss@files.example.com/pub/file.txt",
      "ftps://:secret@h/",
      "gopher://gopher.floodgap.com/1/world",
      "ws://h:8080/chat",
      "wss://[2001:db8::1]/socket?token=abc",
      "http://[::1]:8080/",
      "http://[fe80::1%25eth0]:8080/x",
      "http://[::ffff:192.0.2.1]/",
      "http://us%20er:p:w@h/",
      "http://%E2%82%AC@h/",
      "http://m%C3%BCnchen.example/",
      "http://h/a%2Fb/%E2%82%AC?q=%3F#%23",
      "http://h/?q=a?b",
      "http://h/#frag?x",
      "file:///etc/hosts",
      "mailto:someone@example.com?subject=hi",
      "urn:isbn:0451450523",
      "svn+ssh://u@h:2222/repo",
      "foo://h:99/",
      "foo:",
  };
  for (const char* text : urls) {
    CAPTURE(text);
    CHECK(created(cracked(text)) == text);
  }
}

TEST_CASE("crack_url inverts create_url") {
  Url url;
  url.scheme = "https";
  url.user = "a:b@c d";
  url.password = "p@ss:w%rd/";
  url.host = "fe80::1%eth0";
  url.port = 8443;
  url.path = "/x%20y";
  url.query = "q=1";
  url.fragment = "f";
  CHECK(cracked(created(url)) == url);
  url.host = "example.com";
  url.port = 443;
  CHECK(cracked(created(url)) == url);
}

TEST_CASE("percent_encode keeps unreserved characters and those asked for") {
  using uvinet::percent_encode;
  CHECK(percent_encode("") == "");
  CHECK(percent_encode("AZaz09-._~") == "AZaz09-._~");
  CHECK(percent_encode("a b/c?d#e%f") == "a%20b%2Fc%3Fd%23e%25f");
  CHECK(percent_encode("a b/c", "/") == "a%20b/c");
  CHECK(percent_encode("\xE2\x82\xAC") == "%E2%82%AC");
  CHECK(percent_encode(std::string_view("\0\n", 2)) == "%00%0A");
  CHECK(percent_encode("+") == "%2B");
}

TEST_CASE("percent_decode inverts percent_encode for every byte") {
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  auto encoded = uvinet::percent_encode(all);
  auto decoded = uvinet::percent_decode(encoded);
  REQUIRE(decoded.has_value());
  CHECK(*decoded == all);
  CHECK(uvinet::percent_decode("%41%7a%7A").value() == "Azz");
  CHECK(uvinet::percent_decode("a+b").value() == "a+b");
  CHECK(uvinet::percent_decode("").value() == "");
  CHECK(uvinet::percent_decode("%2541").value() == "%41");
}

TEST_CASE("percent_decode rejects bad escapes and says where") {
  for (std::string_view bad : {"%", "%4", "a%zz", "%G1", "ok%2"}) {
    CAPTURE(bad);
    auto decoded = uvinet::percent_decode(bad);
    REQUIRE_FALSE(decoded.has_value());
    CHECK(decoded.error() == errc::invalid_url);
    CHECK(decoded.error().where().find("bad percent escape") != std::string::npos);
  }
  CHECK(uvinet::percent_decode("a%zz").error().where() ==
        "bad percent escape '%zz' at offset 1 in 'a%zz'");
}

TEST_CASE("C9 URL crack and create are safe from any thread") {
  constexpr int kThreads = 8;
  constexpr int kIterations = 3000;
  std::atomic<int> failures{0};
  std::atomic<int> checked{0};
  auto work = [&](int thread) {
    for (int i = 0; i < kIterations; ++i) {
      std::string n = std::to_string(thread) + "-" + std::to_string(i);
      auto port = static_cast<std::uint16_t>(1024 + thread * kIterations + i);
      std::string text = "https://u%40" + n + ":p:" + n + "@host" + n +
                         ".example:" + std::to_string(port) + "/p/" + n + "?q=" + n + "#f" + n;
      auto url = crack_url(text);
      bool ok = url && url->user == "u@" + n && url->password == "p:" + n &&
                url->host == "host" + n + ".example" && url->port == port &&
                url->path == "/p/" + n && url->query == "q=" + n && url->fragment == "f" + n;
      ok = ok && create_url(*url) == text;
      auto ipv6 = crack_url("http://[fe80::" + std::to_string(i) + "%25if" + n + "]/");
      ok = ok && ipv6 && ipv6->host == "fe80::" + std::to_string(i) + "%if" + n;
      auto bad = crack_url("http://h" + n + ":7" + std::to_string(70000 + i) + "/");
      ok = ok && !bad && bad.error() == errc::invalid_url &&
           bad.error().where().find("h" + n) != std::string::npos;
      auto decoded = uvinet::percent_decode(uvinet::percent_encode(text));
      ok = ok && decoded && *decoded == text;
      if (!ok) failures.fetch_add(1);
      checked.fetch_add(1);
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) threads.emplace_back(work, t);
  for (auto& thread : threads) thread.join();
  CHECK(failures.load() == 0);
  CHECK(checked.load() == kThreads * kIterations);
}

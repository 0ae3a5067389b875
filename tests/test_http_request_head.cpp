// The request heads the HTTP client sends, byte for byte, against a
// ScriptServer. The client keeps parts of a head between requests (the Host
// line with the session's route, the User-Agent line with the session): each
// must follow the options it comes from, request after request on one
// kept-alive connection.
#include <doctest/doctest.h>

#include <string>

#include "support/http_client.hpp"
#include "support/script_server.hpp"

namespace http = uvinet::http;
using test_support::fetch;
using test_support::HttpSession;
using uvinet::errc;
using uvinet::Option;
using uvinet_test::Script;
using uvinet_test::ScriptServer;

namespace {

const std::string kOk = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

// `n` requests answered on one connection, then the close.
Script answering(int n) {
  Script script;
  for (int i = 0; i < n; ++i) script.expect_request().send(kOk);
  return std::move(script.close());
}

void set_agent(HttpSession& s, const std::string& agent) {
  REQUIRE(s.session.set_option(Option::user_agent, agent));
}

std::string host_line(const ScriptServer& server) {
  return "Host: 127.0.0.1:" + std::to_string(server.port()) + "\r\n";
}

}  // namespace

TEST_CASE("request head: kept parts follow the options, request after request") {
  ScriptServer server(answering(7));
  HttpSession s;
  const std::string host = host_line(server);
  std::string expected;

  REQUIRE(fetch(s, server.url() + "/one"));
  expected += "GET /one HTTP/1.1\r\n" + host + "User-Agent: uvinet/0.1\r\n\r\n";

  set_agent(s, "agent/2");
  s.set(Option::decompress, 1);
  REQUIRE(fetch(s, server.url() + "/two?q=1"));
  expected += "GET /two?q=1 HTTP/1.1\r\n" + host +
              "User-Agent: agent/2\r\nAccept-Encoding: gzip, deflate\r\n\r\n";

  set_agent(s, "");
  s.set(Option::decompress, 0);
  REQUIRE(fetch(s, server.url() + "/three"));
  expected += "GET /three HTTP/1.1\r\n" + host + "\r\n";

  // The application's fields come first, and its User-Agent goes instead of
  // the option's.
  set_agent(s, "agent/3");
  http::OpenUrlOptions own;
  own.headers = {{"X-A", "b"}, {"User-Agent", "mine"}};
  REQUIRE(fetch(s, server.url() + "/four", own));
  expected += "GET /four HTTP/1.1\r\n" + host + "X-A: b\r\nUser-Agent: mine\r\n\r\n";

  own.headers = {{"X-A", "c"}};
  REQUIRE(fetch(s, server.url() + "/five", own));
  expected += "GET /five HTTP/1.1\r\n" + host + "X-A: c\r\nUser-Agent: agent/3\r\n\r\n";

  // A head goes out in memory an earlier one left: nothing of that shows.
  http::OpenUrlOptions post;
  post.method = "POST";
  post.body = std::string(300, 'b');
  REQUIRE(fetch(s, server.url() + "/six", post));
  expected += "POST /six HTTP/1.1\r\n" + host +
              "User-Agent: agent/3\r\nContent-Length: 300\r\n\r\n" + post.body;
  REQUIRE(fetch(s, server.url() + "/7"));
  expected += "GET /7 HTTP/1.1\r\n" + host + "User-Agent: agent/3\r\n\r\n";

  REQUIRE(server.wait_done(1));
  CHECK(server.connections() == 1);
  CHECK(server.received(0) == expected);
  CHECK(server.errors().empty());
}

TEST_CASE("request head: a User-Agent that would inject a field fails each time it is used") {
  // A failed request closes its connection: each connection answers once.
  ScriptServer server(answering(1));
  HttpSession s;
  const std::string host = host_line(server);

  REQUIRE(fetch(s, server.url() + "/before"));
  set_agent(s, "bad\r\nX-Injected: yes");
  for (int i = 0; i < 2; ++i) {
    auto refused = fetch(s, server.url() + "/refused");
    REQUIRE_FALSE(refused);
    CHECK(refused.error() == errc::invalid_argument);
    CHECK(refused.error().where() ==
          "header field 'User-Agent': value 'bad\\x0d\\x0aX-Injected: yes' holds a control "
          "character");
  }
  set_agent(s, "good/1");
  REQUIRE(fetch(s, server.url() + "/after"));

  // A refused head never reaches the wire.
  std::string sent;
  for (std::size_t i = 0; i < server.connections(); ++i) sent += server.received(i);
  CHECK(sent == "GET /before HTTP/1.1\r\n" + host + "User-Agent: uvinet/0.1\r\n\r\n" +
                    "GET /after HTTP/1.1\r\n" + host + "User-Agent: good/1\r\n\r\n");
}

TEST_CASE("request head: each response names its own URL, whatever the one before named") {
  // The session keeps the last URL shown and what it was made from.
  ScriptServer first(answering(5));
  ScriptServer second(answering(1));
  HttpSession s;
  const auto url_of = [&](const std::string& url) {
    auto got = fetch(s, url);
    REQUIRE_MESSAGE(got, got.error().message());
    return got->response.url;
  };
  const std::string one = first.url();
  CHECK(url_of(one + "/a?x=1") == one + "/a?x=1");
  CHECK(url_of(one + "/a?x=2") == one + "/a?x=2");
  CHECK(url_of(one + "/a") == one + "/a");
  CHECK(url_of(second.url() + "/a") == second.url() + "/a");  // another server, same path
  // Credentials are never shown.
  const std::string with_user = "http://user:pw@127.0.0.1:" + std::to_string(first.port());
  CHECK(url_of(with_user + "/a") == one + "/a");
  CHECK(url_of(one + "/b") == one + "/b");
}

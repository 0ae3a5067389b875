// The HTTP client against servers that misbehave in ways nginx will not:
// truncated heads and bodies, bad chunk sizes, oversized heads, garbage,
// silence, resets, and a kept-alive connection closed under a new request.
// Each case ends in its own clear error (or the right recovery), never a
// crash or a hang; ScriptServer records what the client sent.
#include <doctest/doctest.h>

#include <chrono>
#include <string>

#include "support/http_client.hpp"
#include "support/script_server.hpp"

namespace http = uvinet::http;
using namespace std::chrono_literals;
using test_support::fetch;
using test_support::HttpSession;
using uvinet::errc;
using uvinet::Option;
using uvinet::Status;
using uvinet_test::Script;
using uvinet_test::ScriptServer;

namespace {

const std::string kOk = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

// One request to a server that plays `script`: the error it ends in.
uvinet::Error failure_of(Script script, const std::string& path = "/") {
  ScriptServer server(std::move(script));
  HttpSession s;
  auto fetched = fetch(s, server.url() + path);
  REQUIRE_MESSAGE(!fetched, "expected a failure, got status " << fetched->status);
  return fetched.error();
}

bool mentions(const uvinet::Error& e, const std::string& text) {
  return e.message().find(text) != std::string::npos;
}

}  // namespace

TEST_CASE("faults: a head cut off by the close is response_truncated") {
  const auto e =
      failure_of(Script().expect_request().send("HTTP/1.1 200 OK\r\nContent-Len").close());
  CHECK(e.code() == errc::response_truncated);
  CHECK(mentions(e, "127.0.0.1"));
}

TEST_CASE("faults: a body shorter than its Content-Length is response_truncated") {
  ScriptServer server(Script()
                          .expect_request()
                          .send("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789")
                          .close());
  HttpSession s;
  auto request = http::open_url(s.session, server.url() + "/short");
  REQUIRE(request);  // the head was whole
  CHECK(http::query_status_code(*request).value() == 200);
  auto body = test_support::read_all(*request);
  REQUIRE_FALSE(body);
  CHECK(body.error() == errc::response_truncated);
  // Reading again gives the same error, not a hang or a different story.
  CHECK(http::read_data(*request, 100).error() == errc::response_truncated);
  REQUIRE(request->close());
  CHECK(s.recorder.wait_closed(*request));
}

TEST_CASE("faults: a chunked body that stops before its last chunk is response_truncated") {
  const auto e = failure_of(Script()
                                .expect_request()
                                .send("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                                      "5\r\nhello\r\n5\r\nwor")
                                .close());
  CHECK(e.code() == errc::response_truncated);
}

TEST_CASE("faults: a bad chunk size is invalid_response") {
  const auto e = failure_of(
      Script()
          .expect_request()
          .send("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n")
          .never_answer());
  CHECK(e.code() == errc::invalid_response);
}

TEST_CASE("faults: a chunk larger than any real server sends is chunk_too_large") {
  const auto e = failure_of(Script()
                                .expect_request()
                                .send("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                                      "fffffffffffffff\r\nabc")
                                .never_answer());
  CHECK(e.code() == errc::chunk_too_large);
}

TEST_CASE("faults: oversized heads: too many bytes, too many fields, too long a line") {
  SUBCASE("70 KiB of fields") {
    std::string head = "HTTP/1.1 200 OK\r\n";
    for (int i = 0; i < 70; ++i)
      head += "X-Filler-" + std::to_string(i) + ": " + std::string(1000, 'a') + "\r\n";
    const auto e = failure_of(Script().expect_request().send(head).never_answer());
    CHECK(e.code() == errc::headers_too_large);
  }
  SUBCASE("500 small fields") {
    std::string head = "HTTP/1.1 200 OK\r\n";
    for (int i = 0; i < 500; ++i) head += "X-" + std::to_string(i) + ": v\r\n";
    const auto e = failure_of(Script().expect_request().send(head).never_answer());
    CHECK(e.code() == errc::too_many_headers);
  }
  SUBCASE("one 20 KiB line") {
    const auto e = failure_of(
        Script()
            .expect_request()
            .send("HTTP/1.1 200 OK\r\nX-Long: " + std::string(20 * 1024, 'a') + "\r\n\r\n")
            .never_answer());
    CHECK(e.code() == errc::line_too_long);
  }
}

TEST_CASE("faults: garbage instead of HTTP is invalid_response") {
  SUBCASE("another protocol's greeting") {
    const auto e =
        failure_of(Script().expect_request().send("SSH-2.0-OpenSSH_9.2\r\n").never_answer());
    CHECK(e.code() == errc::invalid_response);
  }
  SUBCASE("binary noise") {
    std::string noise;
    for (int i = 0; i < 256; ++i) noise += static_cast<char>((i * 37 + 11) & 0xff);
    const auto e = failure_of(Script().expect_request().send(noise).never_answer());
    CHECK(e.code() == errc::invalid_response);
  }
  SUBCASE("obsolete line folding") {
    const auto e = failure_of(Script()
                                  .expect_request()
                                  .send("HTTP/1.1 200 OK\r\nX-A: one\r\n  two\r\n"
                                        "Content-Length: 0\r\n\r\n")
                                  .never_answer());
    CHECK(e.code() == errc::invalid_response);
  }
}

TEST_CASE("faults: a server that never answers: receive_timeout, and transfer_timeout") {
  ScriptServer server(Script().expect_request().never_answer());
  HttpSession s;
  SUBCASE("receive_timeout_ms") {
    s.set(Option::receive_timeout_ms, 200);
    auto fetched = fetch(s, server.url() + "/silent");
    REQUIRE_FALSE(fetched);
    CHECK(fetched.error() == errc::receive_timeout);
    CHECK(mentions(fetched.error(), "200 ms"));
  }
  SUBCASE("transfer_timeout_ms") {
    s.set(Option::transfer_timeout_ms, 200);
    auto fetched = fetch(s, server.url() + "/silent");
    REQUIRE_FALSE(fetched);
    CHECK(fetched.error() == errc::transfer_timeout);
  }
}

TEST_CASE("faults: a server that accepts and never reads the head: connection is still bounded") {
  // The client's request fits the socket buffers, so the wait is for the
  // response: receive_timeout, then the handle closes cleanly.
  ScriptServer server(Script().never_answer());
  HttpSession s;
  s.set(Option::receive_timeout_ms, 200);
  auto fetched = fetch(s, server.url());
  REQUIRE_FALSE(fetched);
  CHECK(fetched.error() == errc::receive_timeout);
}

TEST_CASE("faults: a reset in the middle of the body is connection_reset") {
  ScriptServer server(
      Script()
          .expect_request()
          .send("HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + std::string(1000, 'x'))
          .pause(50ms)
          .reset());
  HttpSession s;
  auto fetched = fetch(s, server.url());
  REQUIRE_FALSE(fetched);
  CHECK(fetched.error() == errc::connection_reset);
}

TEST_CASE("faults: a response a byte at a time is parsed whole") {
  const std::string response =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Slow: yes\r\n\r\n"
      "3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nX-Trailer: t\r\n\r\n";
  ScriptServer server(Script().expect_request().send_slowly(response, 1ms).close());
  HttpSession s;
  auto fetched = fetch(s, server.url());
  REQUIRE_MESSAGE(fetched, fetched.error().message());
  CHECK(fetched->body == "abcde");
  CHECK(fetched->response.header("x-slow") == "yes");
}

TEST_CASE("faults: an HTTP/1.0 body delimited by the close is whole") {
  ScriptServer server(
      Script().expect_request().send("HTTP/1.0 200 OK\r\n\r\nuntil the end").close());
  HttpSession s;
  auto fetched = fetch(s, server.url());
  REQUIRE_MESSAGE(fetched, fetched.error().message());
  CHECK(fetched->body == "until the end");
  CHECK(fetched->response.version == "HTTP/1.0");
}

TEST_CASE("faults: a pooled connection the server closes under a GET is retried once") {
  // Connection 0 answers one request, then closes when the next one comes:
  // the race every keep-alive client meets. Connection 1 answers.
  ScriptServer server({Script().expect_request().send(kOk).expect_head().close(),
                       Script().expect_request().send(kOk).close()});
  HttpSession s;
  auto first = fetch(s, server.url() + "/one");
  REQUIRE_MESSAGE(first, first.error().message());
  auto second = fetch(s, server.url() + "/two");
  REQUIRE_MESSAGE(second, second.error().message());
  CHECK(second->body == "ok");
  REQUIRE(server.wait_done(2));
  CHECK(server.connections() == 2);
  CHECK(server.received(0).find("GET /two ") != std::string::npos);  // sent, then lost
  CHECK(server.received(1).rfind("GET /two ", 0) == 0);              // and sent again
  CHECK(server.errors().empty());
}

TEST_CASE("faults: a POST on a pooled connection the server closes is not replayed") {
  ScriptServer server({Script().expect_request().send(kOk).expect_request().close(),
                       Script().expect_request().send(kOk).close()});
  HttpSession s;
  REQUIRE(fetch(s, server.url() + "/one"));
  http::OpenUrlOptions post;
  post.method = "POST";
  post.body = "not twice";
  auto second = fetch(s, server.url() + "/two", post);
  REQUIRE_FALSE(second);
  CHECK(second.error() == errc::connection_closed);
  CHECK(server.connections() == 1);
}

TEST_CASE("faults: a retry that fails again reports the second failure, once") {
  ScriptServer server(
      {Script().expect_request().send(kOk).expect_head().close(), Script().expect_head().close()});
  HttpSession s;
  REQUIRE(fetch(s, server.url() + "/one"));
  auto second = fetch(s, server.url() + "/two");
  REQUIRE_FALSE(second);
  CHECK(second.error() == errc::connection_closed);
  REQUIRE(server.wait_done(2));
  CHECK(server.connections() == 2);  // one retry, no more
}

TEST_CASE("faults: a connection refused is connection_refused, naming the server") {
  std::string url;
  {
    ScriptServer gone(Script().close());
    url = gone.url();
  }  // nothing listens there now
  HttpSession s;
  auto fetched = fetch(s, url);
  REQUIRE_FALSE(fetched);
  CHECK(fetched.error() == errc::connection_refused);
  CHECK(mentions(fetched.error(), "127.0.0.1"));
}

TEST_CASE("faults: interim responses are notified and skipped") {
  ScriptServer server(Script()
                          .expect_request()
                          .send("HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n"
                                "HTTP/1.1 102 Processing\r\n\r\n" +
                                kOk)
                          .close());
  HttpSession s;
  auto fetched = fetch(s, server.url());
  REQUIRE_MESSAGE(fetched, fetched.error().message());
  CHECK(fetched->status == 200);
  CHECK(fetched->body == "ok");
  int interim = 0;
  for (const auto& e : s.recorder.events()) interim += e.status == Status::intermediate_response;
  CHECK(interim == 2);
}

TEST_CASE("faults: an untidy head reads back as it came, through every query") {
  // The head is kept as one text with where each name and value stands in
  // it: spacing, repeated names in other cases, empty values and reason,
  // obs-text and HTTP/1.0 must all come back as sent, field by field.
  ScriptServer server(Script()
                          .expect_request()
                          .send("HTTP/1.0 299\r\nX-Rep: one\r\nx-rep:two\r\nX-Empty:\r\n"
                                "X-Space: \t  a  b \t\r\nX-Latin: caf\xe9\r\nContent-Length: 2\r\n"
                                "\r\nok")
                          .close());
  HttpSession s;
  auto request = http::open_url(s.session, server.url() + "/untidy");
  REQUIRE_MESSAGE(request, request.error().message());
  CHECK(http::query_status_code(*request) == 299);
  const auto r = http::query_response(*request).value();
  CHECK(r.status == 299);
  CHECK(r.version == "HTTP/1.0");
  CHECK(r.reason.empty());
  const std::vector<std::pair<std::string, std::string>> fields = {
      {"X-Rep", "one"},    {"x-rep", "two"},       {"X-Empty", ""},
      {"X-Space", "a  b"}, {"X-Latin", "caf\xe9"}, {"Content-Length", "2"}};
  CHECK(r.fields == fields);
  CHECK(r.raw ==
        "HTTP/1.0 299 \r\nX-Rep: one\r\nx-rep: two\r\nX-Empty: \r\nX-Space: a  b\r\n"
        "X-Latin: caf\xe9\r\nContent-Length: 2\r\n");
  CHECK(r.url == server.url() + "/untidy");
  CHECK(r.redirects == 0);
  CHECK(http::query_header(*request, "X-REP").value() == "one");
  CHECK(http::query_header(*request, "x-rep", 1).value() == "two");
  CHECK(http::query_header(*request, "X-Rep", 2).error() == errc::header_not_found);
  CHECK(http::query_header(*request, "X-Empty").value().empty());
  CHECK(http::query_header(*request, "X-Spac").error() == errc::header_not_found);
  CHECK(test_support::read_all(*request).value() == "ok");
  REQUIRE(request->close());
  CHECK(s.recorder.wait_closed(*request));
  CHECK(http::query_header(*request, "X-Rep").error() == errc::invalid_handle);
}

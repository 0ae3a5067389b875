// The HTTP client against a real nginx (support/nginx.hpp): files, keep-alive,
// statuses, chunked, gzip, uploads, redirects, ranges, authentication, many
// requests at once, cancel by close, and the status notifications.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <future>
#include <vector>

#include "support/fixture.hpp"
#include "support/http_client.hpp"
#include "support/nginx.hpp"
#include "support/script_server.hpp"

namespace {

using namespace std::chrono_literals;
using test_support::Completion;
using test_support::fetch;
using test_support::HttpSession;
using test_support::read_all;
using uvinet::errc;
using uvinet::Option;
using uvinet::Request;
using uvinet::Status;
using uvinet_test::Checksum;
using uvinet_test::Nginx;
using uvinet_test::Script;
using uvinet_test::ScriptServer;
using uvinet_test::shared_nginx;
namespace http = uvinet::http;

// The statuses of `seen` that `wanted` names, in the order they came.
std::vector<Status> only(const std::vector<Status>& seen, const std::vector<Status>& wanted) {
  std::vector<Status> out;
  for (Status st : seen) {
    if (std::find(wanted.begin(), wanted.end(), st) != wanted.end()) out.push_back(st);
  }
  return out;
}

// GETs `url` and runs `fn` on the session's loop thread, where a call with a
// context can complete at once (C1): from the callback of the GET's last
// read, by which time its kept-alive connection is back in the pool.
void on_loop_after_get(HttpSession& s, const std::string& url, std::function<void()> fn) {
  auto request = http::open_url(s.session, url).value();
  std::promise<void> ran;
  std::function<void()> read = [&] {
    for (;;) {
      uvinet::AsyncContext<std::string> more{[&](uvinet::Result<std::string> d) {
        if (d && !d->empty()) return read();
        fn();
        ran.set_value();
      }};
      auto d = http::read_data(request, 64 * 1024, &more);
      if (d.pending()) return;
      if (d && !d->empty()) continue;
      fn();
      ran.set_value();
      return;
    }
  };
  read();
  REQUIRE(ran.get_future().wait_for(30s) == std::future_status::ready);
  REQUIRE(request.close());
  CHECK(s.recorder.wait_closed(request));
}

TEST_CASE("GET small and large files: bytes and checksums match the server's") {
  Nginx& nginx = shared_nginx();
  HttpSession s;
  auto small = fetch(s, nginx.url("/1k.bin"));
  REQUIRE_MESSAGE(small, small.error().message());
  CHECK(small->status == 200);
  CHECK(small->body == nginx.file("/1k.bin"));
  CHECK(small->response.content_length() == Nginx::small_size);

  auto large = fetch(s, nginx.url("/large.bin"));
  REQUIRE_MESSAGE(large, large.error().message());
  CHECK(large->body.size() == nginx.file("/large.bin").size());
  CHECK(Checksum::of(large->body) == nginx.large_checksum());

  auto empty = fetch(s, nginx.url("/empty.bin"));
  REQUIRE(empty);
  CHECK(empty->status == 200);
  CHECK(empty->body.empty());
}

TEST_CASE("the request calls one by one: send_request, receive_response, query, read") {
  Nginx& nginx = shared_nginx();
  HttpSession s;
  auto connection = s.session.connect(nginx.url()).value();
  http::RequestOptions options;
  options.target = "/64k.bin";
  options.accept_types = {"application/octet-stream", "*/*"};
  options.referrer = "http://example.com/";
  auto request = http::open_request(connection, options).value();
  REQUIRE(http::add_header(request, "X-One", "1"));
  REQUIRE(http::add_header(request, "X-Two", "2"));
  REQUIRE(http::replace_header(request, "X-One", "one"));
  REQUIRE(http::remove_header(request, "X-Two"));
  CHECK(http::remove_header(request, "X-Two").error() == errc::header_not_found);
  CHECK(http::query_status_code(request).error() == errc::invalid_state);
  CHECK(http::read_data(request, 10).error() == errc::invalid_state);
  CHECK(http::receive_response(request).error() == errc::invalid_state);

  REQUIRE(http::send_request(request));
  CHECK(http::add_header(request, "X-Late", "1").error() == errc::invalid_state);
  CHECK(http::send_request(request).error() == errc::invalid_state);
  REQUIRE(http::receive_response(request));
  CHECK(http::query_status_code(request) == 200);
  auto response = http::query_response(request).value();
  CHECK(response.version == "HTTP/1.1");
  CHECK(response.reason == "OK");
  CHECK(response.content_length() == Nginx::medium_size);
  CHECK(response.content_type() == "application/octet-stream");
  CHECK(response.raw.starts_with("HTTP/1.1 200 OK\r\n"));
  CHECK(response.url == nginx.url("/64k.bin"));
  CHECK(http::query_header(request, "server").value().starts_with("nginx"));
  CHECK(http::query_header(request, "X-Nothing").error() == errc::header_not_found);

  auto available = http::query_data_available(request);
  REQUIRE(available);
  CHECK(*available > 0);
  auto body = read_all(request, 1000);  // odd pieces, so reads split the buffer
  REQUIRE(body);
  CHECK(*body == nginx.file("/64k.bin"));
  CHECK(http::query_data_available(request) == 0u);
  CHECK(http::read_data(request, 10) == std::string());
  REQUIRE(request.close());
  CHECK(s.recorder.wait_closed(request));
  REQUIRE(connection.close());
  CHECK(s.recorder.wait_closed(connection));
}

TEST_CASE("keep-alive: sequential requests share one connection, counted by the server") {
  Nginx nginx;
  HttpSession s;
  for (int i = 0; i < 5; ++i) {
    auto got = fetch(s, nginx.url("/1k.bin"));
    REQUIRE_MESSAGE(got, got.error().message());
    CHECK(got->body == nginx.file("/1k.bin"));
  }
  const auto log = nginx.wait_for_access_log(5);
  REQUIRE(log.size() == 5);
  CHECK(Nginx::connection_count(log) == 1);
  CHECK(log.back().connection_requests == 5);
}

TEST_CASE("no_keep_alive and Connection: close from the server open a connection each time") {
  Nginx nginx;
  HttpSession s;
  http::OpenUrlOptions options;
  options.flags = http::no_keep_alive;
  for (int i = 0; i < 2; ++i) REQUIRE(fetch(s, nginx.url("/1k.bin"), options));
  for (int i = 0; i < 2; ++i) REQUIRE(fetch(s, nginx.url("/close/1k.bin")));
  const auto log = nginx.wait_for_access_log(4);
  REQUIRE(log.size() == 4);
  CHECK(Nginx::connection_count(log) == 4);
}

TEST_CASE("404 and other statuses are responses, with their bodies") {
  Nginx& nginx = shared_nginx();
  HttpSession s;
  auto missing = fetch(s, nginx.url("/missing"));
  REQUIRE(missing);
  CHECK(missing->status == 404);
  CHECK(missing->body.find("404 Not Found") != std::string::npos);
  auto error = fetch(s, nginx.url("/status/503"));
  REQUIRE(error);
  CHECK(error->status == 503);
  auto no_content = fetch(s, nginx.url("/status/204"));
  REQUIRE(no_content);
  CHECK(no_content->status == 204);
  CHECK(no_content->body.empty());
}

TEST_CASE("HEAD: headers with a Content-Length, and no body") {
  Nginx& nginx = shared_nginx();
  HttpSession s;
  http::OpenUrlOptions options;
  options.method = "HEAD";
  auto head = fetch(s, nginx.url("/64k.bin"), options);
  REQUIRE(head);
  CHECK(head->status == 200);
  CHECK(head->response.content_length() == Nginx::medium_size);
  CHECK(head->body.empty());
  // The connection is still good for the next request.
  auto after = fetch(s, nginx.url("/1k.bin"));
  REQUIRE(after);
  CHECK(after->body == nginx.file("/1k.bin"));
}

TEST_CASE("chunked responses are de-chunked") {
  Nginx& nginx = shared_nginx();
  HttpSession s;
  auto got = fetch(s, nginx.url("/chunked/64k.bin"));
  REQUIRE(got);
  CHECK(got->response.header("Transfer-Encoding") == "chunked");
  CHECK(got->body == nginx.file("/64k.bin"));
}

TEST_CASE("gzip: decoded with decompress on, passed through as sent with it off") {
  Nginx& nginx = shared_nginx();
  HttpSession s;
  s.set(Option::decompress, 1);
  auto decoded = fetch(s, nginx.url("/text.txt"));
  REQUIRE_MESSAGE(decoded, decoded.error().message());
  CHECK(decoded->response.header("Content-Encoding") == "gzip");
  CHECK(decoded->body == nginx.file("/text.txt"));

  s.set(Option::decompress, 0);
  http::OpenUrlOptions options;
  options.headers = {{"Accept-Encoding", "gzip"}};
  auto raw = fetch(s, nginx.url("/text.txt"), options);
  REQUIRE(raw);
  CHECK(raw->response.header("Content-Encoding") == "gzip");
  CHECK(raw->body.substr(0, 2) == "\x1f\x8b");  // the gzip magic: not decoded

  s.set(Option::decompress, 1);
  s.set(Option::max_decoded_bytes, 100);
  auto limited = fetch(s, nginx.url("/text.txt"));
  REQUIRE_FALSE(limited);
  CHECK(limited.error() == errc::decoded_too_large);
}

TEST_CASE("uploads: PUT of known length, POST streamed chunked, stored byte for byte") {
  Nginx nginx;
  HttpSession s;
  const std::string body = uvinet_test::pattern(300'000, 7);
  http::OpenUrlOptions put;
  put.method = "PUT";
  put.body = body;
  auto stored = fetch(s, nginx.url("/upload/whole"), put);
  REQUIRE_MESSAGE(stored, stored.error().message());
  CHECK(stored->status == 201);
  CHECK(nginx.uploaded("whole") == body);

  auto connection = s.session.connect(nginx.url()).value();
  http::RequestOptions options;
  options.method = "POST";
  options.target = "/post/streamed";
  auto request = http::open_request(connection, options).value();
  REQUIRE(http::send_request(request, body.substr(0, 1000), http::chunked));
  std::size_t at = 1000;
  while (at < body.size()) {
    const std::size_t n = std::min<std::size_t>(65536, body.size() - at);
    REQUIRE(http::write_data(request, body.substr(at, n)) == n);
    at += n;
  }
  REQUIRE(http::end_request(request));
  REQUIRE(http::receive_response(request));
  CHECK(http::query_status_code(request) == 201);
  REQUIRE(request.close());
  REQUIRE(connection.close());
  CHECK(nginx.uploaded("streamed") == body);

  // Known total length, streamed: write_data may not pass it; end_request
  // checks it was reached.
  connection = s.session.connect(nginx.url()).value();
  options.method = "PUT";
  options.target = "/upload/sized";
  request = http::open_request(connection, options).value();
  REQUIRE(http::send_request(request, "abc", 6));
  CHECK(http::write_data(request, "defg").error() == errc::invalid_argument);
  CHECK(http::end_request(request).error() == errc::invalid_state);
  REQUIRE(http::write_data(request, "def") == 3u);
  REQUIRE(http::receive_response(request));
  CHECK(http::query_status_code(request) == 201);
  REQUIRE(request.close());
  REQUIRE(connection.close());
  CHECK(nginx.uploaded("sized") == "abcdef");
}

TEST_CASE("redirects: a chain is followed, a loop stops at max_redirects") {
  Nginx& nginx = shared_nginx();
  HttpSession s;
  auto chain = fetch(s, nginx.url("/redirect/chain/a"));
  REQUIRE_MESSAGE(chain, chain.error().message());
  CHECK(chain->status == 200);
  CHECK(chain->body == "end of chain\n");
  CHECK(chain->response.redirects == 2);
  CHECK(chain->response.url == nginx.url("/redirect/chain/c"));

  auto loop = fetch(s, nginx.url("/redirect/loop/a"));
  REQUIRE_FALSE(loop);
  CHECK(loop.error() == errc::too_many_redirects);

  s.set(Option::max_redirects, 1);
  auto limited = fetch(s, nginx.url("/redirect/chain/a"));
  REQUIRE_FALSE(limited);
  CHECK(limited.error() == errc::too_many_redirects);
}

TEST_CASE("redirects: each code; 303 turns POST into GET, 307 and 308 keep it") {
  Nginx nginx;
  HttpSession s;
  for (int code : {301, 302, 303, 307, 308}) {
    CAPTURE(code);
    auto got = fetch(s, nginx.url("/redirect/" + std::to_string(code)));
    REQUIRE(got);
    CHECK(got->status == 200);
    CHECK(got->body == nginx.file("/1k.bin"));
  }
  http::OpenUrlOptions post;
  post.method = "POST";
  post.body = "payload";
  auto see_other = fetch(s, nginx.url("/redirect/303?to=/1k.bin"), post);
  REQUIRE(see_other);
  CHECK(see_other->body == nginx.file("/1k.bin"));
  auto temporary = fetch(s, nginx.url("/redirect/307?to=/post/kept"), post);
  REQUIRE(temporary);
  CHECK(temporary->status == 201);
  CHECK(nginx.uploaded("kept") == "payload");
  const auto log = nginx.wait_for_access_log(14);
  REQUIRE(log.size() >= 14);
  CHECK(log[11].method == "GET");   // after the 303
  CHECK(log[13].method == "POST");  // after the 307
}

TEST_CASE("redirects: no_auto_redirect and policy never return the 3xx") {
  Nginx& nginx = shared_nginx();
  HttpSession s;
  http::OpenUrlOptions options;
  options.flags = http::no_auto_redirect;
  auto flagged = fetch(s, nginx.url("/redirect/302"), options);
  REQUIRE(flagged);
  CHECK(flagged->status == 302);
  CHECK(flagged->response.header("Location") == "/1k.bin");

  s.set(Option::redirect_policy, std::int64_t(uvinet::RedirectPolicy::never));
  auto never = fetch(s, nginx.url("/redirect/301"));
  REQUIRE(never);
  CHECK(never->status == 301);
}

TEST_CASE("redirects: to another host follows; Authorization stays behind") {
  Nginx first;
  Nginx::Options options;
  options.server_config = R"(location = /echo-auth { return 200 "auth=[$http_authorization]"; })";
  Nginx second(options);
  HttpSession s;
  http::OpenUrlOptions request;
  request.headers = {{"Authorization", "Bearer secret"}};
  auto got = fetch(s, first.url("/redirect/302?to=" + second.url("/echo-auth")), request);
  REQUIRE_MESSAGE(got, got.error().message());
  CHECK(got->body == "auth=[]");
  auto same = fetch(s, second.url("/echo-auth"), request);
  REQUIRE(same);
  CHECK(same->body == "auth=[Bearer secret]");
}

TEST_CASE("Basic authentication from the options and from the URL") {
  Nginx::Options options;
  // "user:pass" in base64; nginx answers 401 to anything else.
  options.server_config = R"(
    location /private/ {
      if ($http_authorization != "Basic dXNlcjpwYXNz") { return 401; }
      return 200 "welcome";
    })";
  Nginx nginx(options);
  HttpSession s;
  auto anonymous = fetch(s, nginx.url("/private/"));
  REQUIRE(anonymous);
  CHECK(anonymous->status == 401);
  REQUIRE(s.session.set_option(Option::username, std::string("user")));
  REQUIRE(s.session.set_option(Option::password, std::string("pass")));
  auto optioned = fetch(s, nginx.url("/private/"));
  REQUIRE(optioned);
  CHECK(optioned->body == "welcome");
  REQUIRE(s.session.set_option(Option::username, std::string()));
  REQUIRE(s.session.set_option(Option::password, std::string()));
  const std::string url =
      "http://user:pass@127.0.0.1:" + std::to_string(nginx.port()) + "/private/";
  auto from_url = fetch(s, url);
  REQUIRE(from_url);
  CHECK(from_url->body == "welcome");
}

TEST_CASE("range requests: a 206 with the asked bytes, and a resumed download") {
  Nginx& nginx = shared_nginx();
  HttpSession s;
  const std::string file = nginx.file("/64k.bin");
  auto connection = s.session.connect(nginx.url()).value();
  http::RequestOptions options;
  options.target = "/64k.bin";
  auto request = http::open_request(connection, options).value();
  CHECK(http::set_range(request, 10, 5).error() == errc::invalid_argument);
  REQUIRE(http::set_range(request, 100, 199));
  REQUIRE(http::send_request(request));
  REQUIRE(http::receive_response(request));
  CHECK(http::query_status_code(request) == 206);
  auto range = http::parse_content_range(http::query_header(request, "Content-Range").value());
  REQUIRE(range);
  CHECK(range->first == 100);
  CHECK(range->last == 199);
  CHECK(range->complete_length == file.size());
  CHECK(read_all(request) == file.substr(100, 100));
  REQUIRE(request.close());

  // Resume: we have the first 40000 bytes; ask for the rest.
  request = http::open_request(connection, options).value();
  REQUIRE(http::set_range(request, 40000));
  REQUIRE(http::send_request(request));
  REQUIRE(http::receive_response(request));
  CHECK(http::query_status_code(request) == 206);
  CHECK(file.substr(0, 40000) + read_all(request).value() == file);
  REQUIRE(request.close());
  REQUIRE(connection.close());
}

TEST_CASE("many concurrent requests, asynchronous, on a bounded connection pool") {
  Nginx nginx;
  HttpSession s;
  s.set(Option::limit_policy, std::int64_t(uvinet::LimitPolicy::queue));
  s.set(Option::max_connections_per_server, 4);
  constexpr int kRequests = 64;
  std::atomic<int> done{0};
  std::atomic<int> good{0};
  std::vector<Request> requests(kRequests);
  const std::string expected = nginx.file("/64k.bin");
  for (int i = 0; i < kRequests; ++i) {
    auto state = std::make_shared<std::string>();
    uvinet::AsyncContext<Request> opened{[&, i, state](uvinet::Result<Request> r) {
      if (!r) {
        FAIL_CHECK(r.error().message());
        ++done;
        return;
      }
      requests[i] = *r;
      // Read it all from the callbacks: each read starts the next.
      auto read = std::make_shared<std::function<void()>>();
      *read = [&, r = *r, state, read] {
        for (;;) {
          uvinet::AsyncContext<std::string> more{[&, state, read](uvinet::Result<std::string> d) {
            if (d && !d->empty()) {
              *state += *d;
              (*read)();
              return;
            }
            if (d && *state == expected) ++good;
            ++done;
            *read = nullptr;
          }};
          auto d = http::read_data(r, 16384, &more);
          if (d.pending()) return;
          if (d && !d->empty()) {
            *state += *d;
            continue;
          }
          if (d && *state == expected) ++good;
          ++done;
          *read = nullptr;
          return;
        }
      };
      (*read)();
    }};
    auto r = http::open_url(s.session, nginx.url("/64k.bin"), {}, &opened);
    REQUIRE(r.pending());
  }
  REQUIRE(test_support::wait_until([&] { return done.load() == kRequests; }, 60s));
  CHECK(good.load() == kRequests);
  for (auto& r : requests) (void)r.close();
  const auto log = nginx.wait_for_access_log(kRequests);
  CHECK(log.size() == kRequests);
  CHECK(Nginx::connection_count(log) <= 4);
}

TEST_CASE("cancel by close mid-body: the pending read completes cancelled, once") {
  Nginx::Options options;
  options.slow_rate = 16 * 1024;
  Nginx nginx(options);
  HttpSession s;
  auto request = http::open_url(s.session, nginx.url("/slow/large.bin")).value();
  auto first = http::read_data(request, 1 << 20);
  REQUIRE(first);
  CHECK_FALSE(first->empty());
  // Read until one read has to wait, then close under it.
  Completion<std::string> pending;
  auto ctx = pending.context();
  uvinet::Result<std::string> r = std::string("x");
  while (r && !r.pending()) r = http::read_data(request, 1 << 20, &ctx);
  REQUIRE(r.pending());
  REQUIRE(request.close());
  REQUIRE(pending.wait());
  CHECK(pending.calls.load() == 1);
  CHECK(pending.get().error() == errc::cancelled);
  CHECK(s.recorder.wait_closed(request));
}

TEST_CASE("receive timeout: a slow body fails with receive_timeout, not a hang") {
  Nginx::Options options;
  options.slow_rate = 1;  // a byte a second
  Nginx nginx(options);
  HttpSession s;
  s.set(Option::receive_timeout_ms, 300);
  auto request = http::open_url(s.session, nginx.url("/slow/1k.bin"));
  if (request) {
    auto body = read_all(*request);
    REQUIRE_FALSE(body);
    CHECK(body.error() == errc::receive_timeout);
    (void)request->close();
  } else {
    CHECK(request.error() == errc::receive_timeout);
  }
}

TEST_CASE("status notifications of a GET come in order") {
  Nginx nginx;
  HttpSession s;
  auto request = http::open_url(s.session, nginx.url("/1k.bin")).value();
  REQUIRE(read_all(request));
  REQUIRE(request.close());
  REQUIRE(s.recorder.wait_closed(request));
  const auto statuses = s.recorder.statuses_of(request);
  const std::vector<Status> expected = {Status::handle_created,      Status::resolving_name,
                                        Status::name_resolved,       Status::connecting_to_server,
                                        Status::connected_to_server, Status::sending_request,
                                        Status::request_sent,        Status::receiving_response,
                                        Status::response_received,   Status::headers_available};
  CHECK(only(statuses, expected) == expected);
  CHECK(statuses.back() == Status::handle_closing);
  CHECK(std::count(statuses.begin(), statuses.end(), Status::read_complete) >= 1);
}

TEST_CASE("C1 send_request completes at once when the socket takes the whole request") {
  Nginx& nginx = shared_nginx();
  HttpSession s;
  auto connection = s.session.connect(nginx.url()).value();
  http::RequestOptions options;
  options.target = "/1k.bin";
  auto request = http::open_request(connection, options).value();
  std::atomic<bool> called{false};
  uvinet::AsyncContext<void> sent{[&](uvinet::Result<void>) { called = true; }};
  std::optional<uvinet::Result<void>> result;
  on_loop_after_get(s, nginx.url("/1k.bin"),
                    [&] { result = http::send_request(request, {}, std::nullopt, &sent); });
  REQUIRE(result);
  CHECK_FALSE(result->pending());
  CHECK(*result);
  REQUIRE(http::receive_response(request));
  CHECK(http::query_status_code(request) == 200);
  CHECK(read_all(request).value() == nginx.file("/1k.bin"));
  REQUIRE(request.close());
  REQUIRE(s.recorder.wait_closed(request));
  CHECK_FALSE(called.load());  // at once: no callback (C1)
  // The notifications are those of a pending send, in the same order.
  const auto statuses = s.recorder.statuses_of(request);
  const std::vector<Status> expected = {Status::sending_request, Status::request_sent,
                                        Status::receiving_response, Status::headers_available};
  CHECK(only(statuses, expected) == expected);
  REQUIRE(connection.close());
}

TEST_CASE("C1 send_request of a body the socket cannot take at once is pending, then completes") {
  // More than any socket buffer holds: the server reads nothing for a while.
  const std::string body(32 << 20, 'b');
  const std::string ok = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
  ScriptServer server(
      Script().expect_request().send(ok).expect_head().pause(200ms).expect_body().send(ok).close());
  HttpSession s;
  auto connection = s.session.connect(server.url()).value();
  http::RequestOptions options;
  options.method = "POST";
  auto request = http::open_request(connection, options).value();
  std::promise<uvinet::Result<void>> completed;
  uvinet::AsyncContext<void> sent{[&](uvinet::Result<void> r) { completed.set_value(r); }};
  std::optional<uvinet::Result<void>> result;
  on_loop_after_get(s, server.url(),
                    [&] { result = http::send_request(request, body, std::nullopt, &sent); });
  REQUIRE(result);
  CHECK(result->pending());
  auto done = completed.get_future();
  REQUIRE(done.wait_for(30s) == std::future_status::ready);
  CHECK(done.get());
  REQUIRE(http::receive_response(request));
  CHECK(http::query_status_code(request) == 200);
  CHECK(read_all(request).value() == "ok");
  REQUIRE(request.close());
  CHECK(s.recorder.wait_closed(request));
  REQUIRE(server.wait_done(1));
  CHECK(server.connections() == 1);
  CHECK(server.bytes_received(0) > body.size());
  CHECK(server.errors().empty());
  REQUIRE(connection.close());
}

TEST_CASE("heads of one session's requests, each whole and its own, whatever came before") {
  // Each head is built in the storage an earlier request of the session
  // left: none may show another's fields, or miss its own.
  Nginx& nginx = shared_nginx();
  HttpSession s;
  for (const char* path : {"/missing", "/1k.bin", "/status/204", "/text.txt", "/chunked/64k.bin",
                           "/missing", "/empty.bin", "/1k.bin"}) {
    CAPTURE(path);
    auto got = fetch(s, nginx.url(path));
    REQUIRE_MESSAGE(got, got.error().message());
    const auto& r = got->response;
    std::string raw = r.version + " " + std::to_string(r.status) + " " + r.reason + "\r\n";
    for (const auto& [name, value] : r.fields) raw += name + ": " + value + "\r\n";
    CHECK(raw == r.raw);
    CHECK(r.url == nginx.url(path));
    CHECK(r.header("Content-Length").has_value() ==
          (got->status != 204 && path != std::string("/chunked/64k.bin")));
  }
}

TEST_CASE("wrong use: requests of another kind, bad arguments, bad headers") {
  Nginx& nginx = shared_nginx();
  HttpSession s;
  auto connection = s.session.connect(nginx.url()).value();
  http::RequestOptions options;
  options.method = "GE T";
  CHECK(http::open_request(connection, options).error() == errc::invalid_argument);
  options.method = "GET";
  options.target = "no-slash";
  CHECK(http::open_request(connection, options).error() == errc::invalid_argument);
  options.target = "/";
  auto request = http::open_request(connection, options).value();
  CHECK(http::add_header(request, "Bad Name", "x").error() == errc::invalid_argument);
  CHECK(http::add_header(request, "X", "a\r\nInjected: 1").error() == errc::invalid_argument);
  CHECK(http::add_header(request, "Host", "elsewhere").error() == errc::invalid_argument);
  CHECK(http::add_headers(request, "A: 1\r\nno colon").error() == errc::invalid_argument);
  REQUIRE(http::add_headers(request, "A: 1\r\nB:  2 \n"));
  CHECK(http::read_data(request, 0).error() == errc::invalid_argument);
  REQUIRE(request.close());
  CHECK(http::send_request(request).error() == errc::invalid_handle);
  CHECK(http::query_response(request).error() == errc::invalid_handle);
  REQUIRE(connection.close());
  CHECK(http::open_url(s.session, "not a url").error() == errc::invalid_url);
  CHECK(http::open_url(s.session, "gopher2://x/").error() == errc::unsupported_scheme);
}

}  // namespace

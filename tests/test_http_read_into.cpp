// read_data_into(): the body read into the caller's own buffer, against a
// real nginx (support/nginx.hpp) and a scripted misbehaving server: sync,
// async at once and pending (C1, C2), buffers of every size, chunked and
// gzip bodies, the end of the body, busy (C15), bad arguments, use after
// close, and a truncated body.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <memory>
#include <vector>

#include "support/fixture.hpp"
#include "support/http_client.hpp"
#include "support/nginx.hpp"
#include "support/script_server.hpp"

namespace {

using namespace std::chrono_literals;
using test_support::Completion;
using test_support::fetch_into;
using test_support::HttpSession;
using test_support::read_all_into;
using uvinet::errc;
using uvinet::Option;
using uvinet::Request;
using uvinet_test::Checksum;
using uvinet_test::Nginx;
using uvinet_test::shared_nginx;
namespace http = uvinet::http;

/// Reads a body from short callbacks on the loop thread, each completion
/// starting the next read, as an event-driven application does; counts the
/// reads that finished at once and those that were pending.
struct AsyncReader {
  explicit AsyncReader(std::size_t size) : buffer(size) {}

  void read() {
    for (;;) {
      uvinet::AsyncContext<std::size_t> more{[this](uvinet::Result<std::size_t> n) {
        if (in_call) callback_inside_call = true;  // C2
        ++pending;
        if (take(n)) read();
      }};
      in_call = true;
      auto n = http::read_data_into(request, buffer, &more);
      in_call = false;
      if (n.pending()) return;
      ++at_once;
      if (!take(n)) return;
    }
  }

  // True when there is more to read.
  bool take(const uvinet::Result<std::size_t>& n) {
    if (!n || *n == 0) {
      if (!n) error = n.error();
      done = true;
      return false;
    }
    if (*n > buffer.size()) error = uvinet::Error(errc::io_error, "more than the buffer");
    body.append(buffer.data(), *n);
    ++with_data;
    return true;
  }

  Request request;
  std::vector<char> buffer;
  std::string body;
  std::optional<uvinet::Error> error;
  bool in_call = false;
  bool callback_inside_call = false;
  int at_once = 0;
  int pending = 0;
  int with_data = 0;  // reads that gave bytes, at once or pending
  std::atomic<bool> done{false};
};

}  // namespace

TEST_CASE("read_data_into: synchronous, a large file through 64 KiB and 1 MiB buffers") {
  Nginx& nginx = shared_nginx();
  HttpSession s;
  for (std::size_t size : {std::size_t{64} << 10, std::size_t{1} << 20}) {
    CAPTURE(size);
    auto body = fetch_into(s, nginx.url("/large.bin"), size);
    REQUIRE_MESSAGE(body, body.error().message());
    CHECK(body->size() == nginx.file("/large.bin").size());
    CHECK(Checksum::of(*body) == nginx.large_checksum());
  }
  auto empty = fetch_into(s, nginx.url("/empty.bin"), 100);
  REQUIRE(empty);
  CHECK(empty->empty());
}

TEST_CASE("read_data_into: the connection is kept alive after bodies read into buffers") {
  Nginx nginx;
  HttpSession s;
  for (std::size_t size : {std::size_t{1} << 20, std::size_t{1000}, std::size_t{1} << 20}) {
    auto body = fetch_into(s, nginx.url("/large.bin"), size);
    REQUIRE_MESSAGE(body, body.error().message());
    CHECK(Checksum::of(*body) == nginx.large_checksum());
  }
  const auto log = nginx.wait_for_access_log(3);
  REQUIRE(log.size() == 3);
  CHECK(Nginx::connection_count(log) == 1);
}

TEST_CASE("read_data_into: buffers of 1 byte and of odd sizes give the same bytes") {
  Nginx& nginx = shared_nginx();
  HttpSession s;
  auto one = fetch_into(s, nginx.url("/64k.bin"), 1);
  REQUIRE(one);
  CHECK(*one == nginx.file("/64k.bin"));
  for (std::size_t size : {7u, 1000u, 4097u, 65537u}) {
    CAPTURE(size);
    auto body = fetch_into(s, nginx.url("/large.bin"), size);
    REQUIRE(body);
    CHECK(Checksum::of(*body) == nginx.large_checksum());
  }
}

TEST_CASE("read_data_into: the end of the body is 0, and stays 0") {
  Nginx& nginx = shared_nginx();
  HttpSession s;
  auto request = http::open_url(s.session, nginx.url("/1k.bin")).value();
  std::vector<char> buffer(4096);
  auto n = http::read_data_into(request, buffer);
  REQUIRE(n);
  CHECK(*n == Nginx::small_size);
  CHECK(std::string(buffer.data(), *n) == nginx.file("/1k.bin"));
  CHECK(http::read_data_into(request, buffer) == 0u);
  CHECK(http::read_data_into(request, buffer) == 0u);
  CHECK(http::read_data(request, 10) == std::string());
  REQUIRE(request.close());
  CHECK(s.recorder.wait_closed(request));
}

TEST_CASE("read_data_into: mixed with read_data on one request, the bytes stay in order") {
  Nginx& nginx = shared_nginx();
  HttpSession s;
  // 3000 bytes: copies; 64 KiB: the stream reads into it, then holds the
  // next bytes until a read (of either kind) waits for them.
  for (std::size_t size : {std::size_t{3000}, std::size_t{64} << 10}) {
    CAPTURE(size);
    auto request = http::open_url(s.session, nginx.url("/large.bin")).value();
    std::vector<char> buffer(size);
    std::string body;
    for (bool into = true;; into = !into) {
      if (into) {
        auto n = http::read_data_into(request, buffer);
        REQUIRE(n);
        if (*n == 0) break;
        body.append(buffer.data(), *n);
      } else {
        auto d = http::read_data(request, 5000);
        REQUIRE(d);
        if (d->empty()) break;
        body += *d;
      }
    }
    CHECK(Checksum::of(body) == nginx.large_checksum());
    REQUIRE(request.close());
    CHECK(s.recorder.wait_closed(request));
  }
}

TEST_CASE("read_data_into: chunked and gzip-decoded bodies, through buffers of every size") {
  Nginx& nginx = shared_nginx();
  HttpSession s;
  s.set(Option::decompress, 1);
  for (std::size_t size : {1u, 13u, 4096u, 1u << 20}) {
    CAPTURE(size);
    auto chunked = fetch_into(s, nginx.url("/chunked/64k.bin"), size);
    REQUIRE_MESSAGE(chunked, chunked.error().message());
    CHECK(*chunked == nginx.file("/64k.bin"));
    auto decoded = fetch_into(s, nginx.url("/text.txt"), size);
    REQUIRE_MESSAGE(decoded, decoded.error().message());
    CHECK(*decoded == nginx.file("/text.txt"));
  }
  s.set(Option::max_decoded_bytes, 100);
  auto limited = fetch_into(s, nginx.url("/text.txt"), 4096);
  REQUIRE_FALSE(limited);
  CHECK(limited.error() == errc::decoded_too_large);
}

TEST_CASE("C1 read_data_into from callbacks: at once when bytes are there, pending otherwise") {
  Nginx::Options options;
  options.slow_rate = 256 * 1024;  // the body trickles in: some reads must wait
  options.server_config =
      "location /slow-chunked/ { alias {root}/; limit_rate 262144; sub_filter_types *;"
      " sub_filter \"uvinet:never-occurs:4f1d\" \"x\"; }\n";
  Nginx nginx(options);
  HttpSession s;
  for (const char* path : {"/slow/64k.bin", "/slow-chunked/64k.bin"}) {
    CAPTURE(path);
    AsyncReader reader(1000);  // smaller than what arrives at once: some finish at once
    reader.request = http::open_url(s.session, nginx.url(path)).value();
    REQUIRE(s.session.post([&reader] { reader.read(); }));
    REQUIRE(test_support::wait_until([&] { return reader.done.load(); }, 60s));
    CHECK_FALSE(reader.error.has_value());
    CHECK(reader.body == nginx.file("/64k.bin"));
    CHECK(reader.at_once > 0);
    CHECK(reader.pending > 0);
    CHECK_FALSE(reader.callback_inside_call);
    REQUIRE(reader.request.close());
    CHECK(s.recorder.wait_closed(reader.request));
    // Each read that gave bytes said so, whether it finished at once or not.
    const auto statuses = s.recorder.statuses_of(reader.request);
    CHECK(std::count(statuses.begin(), statuses.end(), uvinet::Status::read_complete) ==
          reader.with_data);
  }
}

TEST_CASE("read_data_into from another thread: pending, then the callback, once") {
  Nginx& nginx = shared_nginx();
  HttpSession s;
  auto request = http::open_url(s.session, nginx.url("/64k.bin")).value();
  std::vector<char> buffer(1 << 20);
  std::string body;
  for (;;) {
    Completion<std::size_t> done;
    auto ctx = done.context();
    auto r = http::read_data_into(request, buffer, &ctx);
    REQUIRE(r.pending());  // off the loop thread a call is handed over: never at once
    REQUIRE(done.wait());
    CHECK(done.calls.load() == 1);
    auto n = done.get();
    REQUIRE(n);
    if (*n == 0) break;
    body.append(buffer.data(), *n);
  }
  CHECK(body == nginx.file("/64k.bin"));
  REQUIRE(request.close());
  CHECK(s.recorder.wait_closed(request));
}

TEST_CASE("C15 read_data_into while another operation is pending is busy") {
  using uvinet_test::Script;
  // Part of the body, then silence: the next read waits until the close.
  uvinet_test::ScriptServer server(
      Script()
          .expect_request()
          .send("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789")
          .never_answer());
  HttpSession s;
  std::vector<char> buffer(4096);
  std::vector<char> other(4096);
  auto request = http::open_url(s.session, server.url() + "/").value();
  std::size_t got = 0;
  while (got < 10) {
    auto n = http::read_data_into(request, buffer);
    REQUIRE(n);
    got += *n;
  }
  Completion<std::size_t> pending;
  auto ctx = pending.context();
  REQUIRE(http::read_data_into(request, buffer, &ctx).pending());
  CHECK(http::read_data_into(request, other).error() == errc::busy);
  CHECK(http::read_data(request, 10).error() == errc::busy);
  CHECK(http::query_data_available(request).error() == errc::busy);
  REQUIRE(request.close());
  REQUIRE(pending.wait());
  CHECK(pending.calls.load() == 1);
  CHECK(pending.get().error() == errc::cancelled);
  CHECK(s.recorder.wait_closed(request));

  // And the other way round: a pending read_data makes read_data_into busy.
  auto second = http::open_url(s.session, server.url() + "/").value();
  for (got = 0; got < 10;) got += http::read_data(second, 100).value().size();
  Completion<std::string> string_read;
  auto string_ctx = string_read.context();
  REQUIRE(http::read_data(second, 100, &string_ctx).pending());
  CHECK(http::read_data_into(second, other).error() == errc::busy);
  REQUIRE(second.close());
  REQUIRE(string_read.wait());
  CHECK(string_read.get().error() == errc::cancelled);
  CHECK(s.recorder.wait_closed(second));
}

TEST_CASE("read_data_into: an empty buffer, no response yet, a closed request: clear errors") {
  Nginx& nginx = shared_nginx();
  std::vector<char> buffer(100);
  http::RequestOptions options;
  options.target = "/1k.bin";
  HttpSession s;
  auto connection = s.session.connect(nginx.url()).value();
  auto request = http::open_request(connection, options).value();
  auto before = http::read_data_into(request, buffer);
  REQUIRE_FALSE(before);
  CHECK(before.error() == errc::invalid_state);
  REQUIRE(http::send_request(request));
  REQUIRE(http::receive_response(request));

  auto empty = http::read_data_into(request, std::span<char>());
  REQUIRE_FALSE(empty);
  CHECK(empty.error() == errc::invalid_argument);
  CHECK(empty.error().message().find("empty") != std::string::npos);
  Completion<std::size_t> never;
  auto ctx = never.context();
  CHECK(http::read_data_into(request, std::span<char>(), &ctx).error() == errc::invalid_argument);

  // The request still works after the refused call.
  auto body = read_all_into(request, 100);
  REQUIRE(body);
  CHECK(*body == nginx.file("/1k.bin"));

  REQUIRE(request.close());
  CHECK(s.recorder.wait_closed(request));
  CHECK(http::read_data_into(request, buffer).error() == errc::invalid_handle);
  CHECK(http::read_data_into(request, buffer, &ctx).error() == errc::invalid_handle);
  CHECK(never.calls.load() == 0);
  REQUIRE(connection.close());
}

TEST_CASE("read_data_into: a truncated body fails as read_data does, and again on the next read") {
  using uvinet_test::Script;
  uvinet_test::ScriptServer server(
      Script()
          .expect_request()
          .send("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789")
          .close());
  HttpSession s;
  // size 0: read_data(); a small buffer gets copies, a large one the stream's reads.
  auto failure = [&](std::size_t size) -> uvinet::Error {
    auto request = http::open_url(s.session, server.url() + "/short").value();
    auto body = size ? read_all_into(request, size) : test_support::read_all(request, 7);
    REQUIRE_FALSE(body);
    std::vector<char> buffer(10);
    auto again = http::read_data_into(request, buffer);
    REQUIRE_FALSE(again);
    CHECK(again.error().code() == body.error().code());
    (void)request.close();
    CHECK(s.recorder.wait_closed(request));
    return body.error();
  };
  const auto by_string = failure(0);
  CHECK(by_string.code() == errc::response_truncated);
  for (std::size_t size : {std::size_t{7}, std::size_t{1} << 20}) {
    CAPTURE(size);
    const auto by_buffer = failure(size);
    CHECK(by_buffer.code() == by_string.code());
    CHECK(by_buffer.message() == by_string.message());
  }
}

TEST_CASE("read_data_into: a body delimited by the close, read straight into the buffer") {
  using uvinet_test::Script;
  uvinet_test::ScriptServer server(
      Script().expect_request().send("HTTP/1.0 200 OK\r\n\r\nuntil the end").close());
  HttpSession s;
  for (std::size_t size : {std::size_t{3}, std::size_t{1} << 20}) {
    CAPTURE(size);
    auto body = fetch_into(s, server.url(), size);
    REQUIRE_MESSAGE(body, body.error().message());
    CHECK(*body == "until the end");
  }
}

TEST_CASE("read_data_into: a large buffer gets the bytes that came when the server pauses") {
  using uvinet_test::Script;
  // The head; then, once the client waits for the body with its buffer
  // lent, 1000 of its 1 MiB and nothing more while the connection stays open.
  // A bulk read waits for more than that (the socket's low-water mark), but
  // not for ever.
  uvinet_test::ScriptServer server(Script()
                                       .expect_request()
                                       .send("HTTP/1.1 200 OK\r\nContent-Length: 1048576\r\n\r\n")
                                       .pause(300ms)
                                       .send(std::string(1000, 'h'))
                                       .never_answer());
  HttpSession s;
  // A failure is an error, not a hang.
  REQUIRE(s.session.set_option(Option::receive_timeout_ms, std::int64_t{10'000}));
  auto request = http::open_url(s.session, server.url() + "/paused").value();
  std::vector<char> buffer(1 << 20);
  auto n = http::read_data_into(request, buffer);
  REQUIRE_MESSAGE(n, n.error().message());
  CHECK(*n == 1000);
  CHECK(std::string(buffer.data(), *n) == std::string(1000, 'h'));
  (void)request.close();
  CHECK(s.recorder.wait_closed(request));
}

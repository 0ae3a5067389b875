// The keep-alive pool (protocols/http/src/connection_pool.hpp) over fake
// streams and a fake timer: connections come back for their own key only,
// whichever key was looked up last, and keys whose last idle connection
// went (closed by the server, or expired) take connections again. And the
// session's spare buffers (session_state.hpp), which request heads and
// response bodies reuse.
#include <doctest/doctest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "connection_pool.hpp"
#include "session_state.hpp"

using uvinet::http::detail::ConnectionPool;
using uvinet::http::detail::PooledConnection;

namespace {

// A stream that remembers its read callback, for the test to play the
// server's close on it.
class FakeStream final : public uvinet::Stream {
 public:
  void read_start(ReadCallback on_read) override { on_read_ = std::move(on_read); }
  void read_stop() override { on_read_ = nullptr; }
  void write(std::string, DoneCallback) override {}
  void shutdown(DoneCallback) override {}
  void close(std::function<void()>) override {}
  const std::string& peer_name() const override { return name_; }

  bool reading() const { return static_cast<bool>(on_read_); }
  // The server closed the connection: the reader sees the end of the stream.
  void end() {
    auto on_read = on_read_;  // the pool may destroy us inside the call
    on_read(std::string_view());
  }

 private:
  ReadCallback on_read_;
  std::string name_ = "fake";
};

class FakeTimer final : public uvinet::Timer {
 public:
  explicit FakeTimer(std::function<void()>& fire) : fire_(fire) {}
  void start(std::uint64_t, std::function<void()> fn) override { fire_ = std::move(fn); }
  void stop() override { fire_ = nullptr; }

 private:
  std::function<void()>& fire_;
};

struct Pool {
  std::function<void()> fire;  // the pool's timer callback, when armed
  ConnectionPool pool{std::make_unique<FakeTimer>(fire)};

  // Puts a new connection for `key`; returns its stream.
  FakeStream* put(const std::string& key, std::uint64_t idle_ms = 60'000) {
    auto stream = std::make_unique<FakeStream>();
    FakeStream* raw = stream.get();
    pool.put(std::make_unique<PooledConnection>(PooledConnection{std::move(stream), key}), idle_ms);
    return raw;
  }
  // The stream take() hands out for `key`, or null.
  uvinet::Stream* take(const std::string& key) {
    taken = pool.take(key);
    return taken ? taken->stream.get() : nullptr;
  }
  std::unique_ptr<PooledConnection> taken;
};

const std::string a = "http://a:80";
const std::string b = "http://b:80";

}  // namespace

TEST_CASE("pool: connections come back for their own key, newest first") {
  Pool p;
  FakeStream* a1 = p.put(a);
  FakeStream* b1 = p.put(b);
  FakeStream* a2 = p.put(a);
  CHECK(p.pool.idle_count() == 3);
  CHECK(p.take(b) == b1);
  CHECK(p.take(a) == a2);
  CHECK(p.take(b) == nullptr);
  CHECK(p.take(a) == a1);
  CHECK(p.take(a) == nullptr);
  CHECK(p.pool.idle_count() == 0);
  CHECK(p.take("http://c:80") == nullptr);
}

TEST_CASE("pool: a key whose idle connections the server closed takes new ones") {
  Pool p;
  FakeStream* b1 = p.put(b);
  FakeStream* a1 = p.put(a);
  a1->end();  // a's only idle connection closes: a's list goes with it
  CHECK(p.pool.idle_count() == 1);
  CHECK(p.take(a) == nullptr);
  FakeStream* a2 = p.put(a);
  CHECK(a2->reading());  // the pool watches it for the server's close
  CHECK(p.take(a) == a2);
  CHECK_FALSE(a2->reading());
  b1->end();
  CHECK(p.pool.idle_count() == 0);
  CHECK(p.take(b) == nullptr);
  FakeStream* b2 = p.put(b);
  CHECK(p.take(b) == b2);
}

TEST_CASE("pool: expired connections go, and their keys take new ones") {
  Pool p;
  p.put(a, 1);
  p.put(b, 1);
  CHECK(p.take(b) != nullptr);
  p.put(b, 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  REQUIRE(p.fire);
  auto fire = p.fire;
  fire();
  CHECK(p.pool.idle_count() == 0);
  CHECK(p.take(a) == nullptr);
  CHECK(p.take(b) == nullptr);
  FakeStream* a2 = p.put(a);
  FakeStream* b2 = p.put(b);
  CHECK(p.take(a) == a2);
  CHECK(p.take(b) == b2);
}

TEST_CASE("session spares: small heap buffers only, as many as kSpares") {
  std::function<void()> fire;
  uvinet::http::detail::SessionState session(std::make_unique<FakeTimer>(fire));
  CHECK(session.take_buffer().capacity() == std::string().capacity());  // none yet

  std::string small = "x";  // no memory but the string's own
  CHECK_FALSE(session.give_back(small));
  std::string large(uvinet::http::detail::SessionState::kSpareBufferBytes + 1, 'x');
  CHECK_FALSE(session.give_back(large));
  CHECK(large.size() ==
        uvinet::http::detail::SessionState::kSpareBufferBytes + 1);  // kept as it was

  std::string used(300, 'h');
  const char* memory = used.data();
  REQUIRE(session.give_back(used));
  std::string again = session.take_buffer();
  CHECK(again.empty());
  CHECK(again.data() == memory);

  for (std::size_t i = 0; i < uvinet::http::detail::SessionState::kSpares; ++i) {
    std::string b(100, 'b');
    CHECK(session.give_back(b));
  }
  std::string one_more(100, 'b');
  CHECK_FALSE(session.give_back(one_more));
}

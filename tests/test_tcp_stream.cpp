// The TCP stream's reads: read_stop() leaves libuv reading, so what comes
// while stopped is held and handed, in order, to the next read_start(), on a
// later loop pass. One thread: the test runs its own libuv loop.
#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "tcp.hpp"

namespace {

// A connected pair of loopback TCP sockets: the client end goes to libuv,
// the server end stays a plain descriptor the test writes to.
struct SocketPair {
  int client = -1;
  int server = -1;
  SocketPair() {
    const int listener = socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(listener >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(listen(listener, 1) == 0);
    socklen_t len = sizeof addr;
    REQUIRE(getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    client = socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(connect(client, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    server = accept(listener, nullptr, nullptr);
    REQUIRE(server >= 0);
    close(listener);
  }
  ~SocketPair() {
    if (server >= 0) close(server);
  }
  void send(const std::string& s) const {
    REQUIRE(::send(server, s.data(), s.size(), 0) == static_cast<ssize_t>(s.size()));
  }
  void end() const { REQUIRE(shutdown(server, SHUT_WR) == 0); }
};

// What a reader got: data, "<end>", or "<error>".
struct Reads {
  std::vector<std::string> got;
  uvinet::Stream::ReadCallback callback() {
    return [this](uvinet::Result<std::string_view> r) {
      got.push_back(!r ? "<error>" : r->empty() ? "<end>" : std::string(*r));
    };
  }
};

struct LoopStream {
  uv_loop_t loop{};
  std::unique_ptr<uvinet::Stream> stream;
  explicit LoopStream(int fd) {
    REQUIRE(uv_loop_init(&loop) == 0);
    auto* tcp = new uv_tcp_t;
    REQUIRE(uv_tcp_init(&loop, tcp) == 0);
    REQUIRE(uv_tcp_open(tcp, fd) == 0);
    stream = uvinet::detail::make_tcp_stream(tcp, "test peer");
  }
  ~LoopStream() {
    stream.reset();
    uv_run(&loop, UV_RUN_DEFAULT);  // the close callbacks free the handles
    CHECK(uv_loop_close(&loop) == 0);
  }
  // Enough passes for libuv to read what the kernel already holds.
  void spin() {
    for (int i = 0; i < 8; ++i) uv_run(&loop, UV_RUN_NOWAIT);
  }
  template <class Done>
  void run_until(Done done) {
    while (!done()) uv_run(&loop, UV_RUN_ONCE);
  }
};

}  // namespace

TEST_CASE("tcp stream: what comes after read_stop() goes to the next read_start(), later") {
  SocketPair pair;
  LoopStream ls(pair.client);
  Reads first, second;
  pair.send("hello");
  ls.stream->read_start([&](uvinet::Result<std::string_view> r) {
    first.callback()(r);
    ls.stream->read_stop();  // the next reader takes over from here
  });
  ls.run_until([&] { return !first.got.empty(); });
  CHECK(first.got == std::vector<std::string>{"hello"});

  // Arrives while nobody reads: held, not lost, not given to the old reader.
  pair.send("world");
  pair.end();
  ls.spin();
  CHECK(first.got.size() == 1);

  ls.stream->read_start(second.callback());
  CHECK(second.got.empty());  // never inside read_start()
  ls.run_until([&] { return second.got.size() == 2; });
  CHECK(second.got == std::vector<std::string>{"world", "<end>"});
  CHECK(first.got.size() == 1);
}

// One reader that starts and stops.
// A peer thread that reads `n` bytes from `fd` into `out` (less if the
// connection ends first).
std::thread receive(int fd, std::size_t n, std::string& out) {
  return std::thread([fd, n, &out] {
    char buf[65536];
    while (out.size() < n) {
      const ssize_t got = ::recv(fd, buf, sizeof buf, 0);
      if (got <= 0) break;
      out.append(buf, static_cast<std::size_t>(got));
    }
  });
}

struct Reader {
  SocketPair pair;
  LoopStream ls{pair.client};
  Reads reads;
  void start() { ls.stream->read_start(reads.callback()); }
  void stop() { ls.stream->read_stop(); }
  void run_until_got(std::size_t n) {
    ls.run_until([&] { return reads.got.size() == n; });
  }
};

TEST_CASE("tcp stream: a stop and a start with nothing between go on reading as before") {
  Reader r;
  r.start();
  r.stop();
  r.start();
  r.pair.send("abc");
  r.run_until_got(1);
  CHECK(r.reads.got == std::vector<std::string>{"abc"});
  r.pair.end();
  r.run_until_got(2);
  CHECK(r.reads.got.back() == "<end>");
}

TEST_CASE("tcp stream: an end held while stopped waits through another stop") {
  Reader r;
  r.start();
  r.stop();
  r.pair.send("x");
  r.pair.end();
  r.ls.spin();
  CHECK(r.reads.got.empty());
  // Started and stopped again before the hand-over: still nothing delivered.
  r.start();
  r.stop();
  r.ls.spin();
  CHECK(r.reads.got.empty());
  r.start();
  r.run_until_got(2);
  CHECK(r.reads.got == std::vector<std::string>{"x", "<end>"});
}

TEST_CASE("tcp stream: writes report in order, never inside write(), whole or in parts") {
  Reader r;
  // 8 MiB cannot go out at once: the socket buffers fill, and the rest
  // waits for the peer to read.
  const std::string big(8 << 20, 'b');
  std::vector<std::string> done;
  auto report = [&](const char* name) {
    return [&done, name](uvinet::Error e) { done.push_back(e ? "error" : name); };
  };
  std::string received;
  std::thread peer = receive(r.pair.server, big.size() + 2, received);
  r.ls.stream->write("a", report("a"));
  r.ls.stream->write(big, report("big"));
  r.ls.stream->write("c", report("c"));
  CHECK(done.empty());
  r.ls.run_until([&] { return done.size() == 3; });
  peer.join();
  CHECK(done == std::vector<std::string>{"a", "big", "c"});
  CHECK(received == "a" + big + "c");

  r.ls.stream->write("d", report("d"));
  r.ls.stream->write("e", report("e"));
  CHECK(done.size() == 3);
  r.ls.run_until([&] { return done.size() == 5; });
  CHECK(done[3] == "d");
  CHECK(done[4] == "e");
}

namespace {

int low_water_of(int fd) {
  int value = 0;
  socklen_t size = sizeof value;
  REQUIRE(getsockopt(fd, SOL_SOCKET, SO_RCVLOWAT, &value, &size) == 0);
  return value;
}

// Runs `r`'s loop until `done`, or fails after `seconds`: a read that never
// comes must fail the test, not hang it.
template <class Done>
bool run_until_or_fail(Reader& r, Done done, int seconds = 10) {
  uv_timer_t guard;
  bool expired = false;
  uv_timer_init(&r.ls.loop, &guard);
  guard.data = &expired;
  uv_timer_start(
      &guard, [](uv_timer_t* t) { *static_cast<bool*>(t->data) = true; },
      static_cast<std::uint64_t>(seconds) * 1000, 0);
  while (!done() && !expired) uv_run(&r.ls.loop, UV_RUN_ONCE);
  uv_close(reinterpret_cast<uv_handle_t*>(&guard), nullptr);
  uv_run(&r.ls.loop, UV_RUN_NOWAIT);
  return !expired;
}

}  // namespace

TEST_CASE(
    "tcp stream: a large lent buffer raises the low-water mark, a reader lending none lowers it") {
  Reader r;
  std::vector<char> big(1 << 20);
  CHECK(low_water_of(r.pair.client) == 1);
  r.ls.stream->lend_read_buffer(big);
  r.start();
  CHECK(low_water_of(r.pair.client) == 256 * 1024);  // capped, not the whole buffer

  // The last bytes of a body: a small buffer waits for nothing.
  r.stop();
  r.ls.stream->lend_read_buffer(std::span<char>(big).first(1000));
  r.start();
  CHECK(low_water_of(r.pair.client) == 1);

  r.stop();
  r.ls.stream->lend_read_buffer(big);
  r.start();
  CHECK(low_water_of(r.pair.client) == 256 * 1024);
  r.stop();
  r.start();  // the next response's head: every byte as it comes
  CHECK(low_water_of(r.pair.client) == 1);
}

TEST_CASE(
    "tcp stream: a bulk read gets what came when the server pauses below the low-water mark") {
  Reader r;
  std::vector<char> big(1 << 20);
  r.ls.stream->lend_read_buffer(big);
  r.start();
  REQUIRE(low_water_of(r.pair.client) > 1000);
  r.pair.send(std::string(1000, 'p'));  // and then nothing, the socket open
  CHECK(run_until_or_fail(r, [&] { return !r.reads.got.empty(); }));
  REQUIRE(r.reads.got.size() == 1);
  CHECK(r.reads.got[0] == std::string(1000, 'p'));
  CHECK(std::string_view(big.data(), 4) == "pppp");  // read straight into the lent buffer
  // The next few lends after a pause take what comes at once.
  r.ls.stream->lend_read_buffer(big);
  CHECK(low_water_of(r.pair.client) == 1);
}

TEST_CASE("tcp stream: the end of the stream wakes a bulk read below the low-water mark") {
  Reader r;
  std::vector<char> big(1 << 20);
  r.ls.stream->lend_read_buffer(big);
  r.start();
  r.pair.send("last");
  r.pair.end();
  CHECK(run_until_or_fail(r, [&] { return r.reads.got.size() == 2; }));
  CHECK(r.reads.got == std::vector<std::string>{"last", "<end>"});
}

TEST_CASE("tcp stream: try_write takes what the socket takes, never ahead of a queued write") {
  Reader r;
  CHECK(r.ls.stream->try_write("ab") == 2);
  // Too much for the socket buffers while the peer reads nothing: a part
  // goes, the rest is the caller's to write().
  const std::string big(32 << 20, 'b');
  const std::size_t part = r.ls.stream->try_write(big);
  CHECK(part > 0);
  CHECK(part < big.size());
  bool written = false;
  r.ls.stream->write(big.substr(part), [&](uvinet::Error e) { written = !e; });
  // A write is queued: nothing may overtake it.
  CHECK(r.ls.stream->try_write("c") == 0);
  std::string received;
  std::thread peer = receive(r.pair.server, 2 + big.size(), received);
  r.ls.run_until([&] { return written; });
  peer.join();
  CHECK(received == "ab" + big);
  CHECK(r.ls.stream->try_write("c") == 1);
  r.ls.stream->close();
  CHECK(r.ls.stream->try_write("d") == 0);
}

// ScriptServer: a loopback TCP server that plays a script on each connection,
// for the cases a real server will not produce on demand (a response sent a
// byte at a time, a reset in the middle of a body, a pooled connection the
// server closes) and for checking, byte for byte, what a client sent.
//
//   ScriptServer server(Script()
//                           .expect_request()
//                           .send("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi")
//                           .close());
//   ... the client under test talks to 127.0.0.1:server.port() ...
//   CHECK(server.wait_done(1));
//   CHECK(server.received(0) == "GET / HTTP/1.1\r\nHost: ...\r\n\r\n");
//   CHECK(server.errors().empty());
//
// It runs on a thread of its own with plain sockets and poll(), so it never
// shares a libuv loop (or a bug) with the code under test. Everything is
// bounded: buffers have limits, and a step that makes no progress for
// Options::step_timeout fails (an entry in errors()) instead of hanging.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "support/process.hpp"

namespace uvinet_test {

/// The steps a ScriptServer plays on one connection, in order. When a step
/// fails (the client sent other bytes, closed early, or stalled) the failure
/// goes to ScriptServer::errors() and the connection is closed. A script that
/// runs out of steps ends as close() does.
class Script {
 public:
  /// Reads exactly `bytes.size()` bytes; they must be `bytes`.
  Script& expect(std::string bytes);
  /// Reads until `delimiter` (included) has arrived.
  Script& expect_until(std::string delimiter);
  /// Reads exactly `n` bytes, whatever they are (a body of known size).
  Script& expect_bytes(std::size_t n);
  /// Reads one HTTP request head: expect_until("\r\n\r\n"), remembered for expect_body().
  Script& expect_head();
  /// Reads the body the last head announced: Content-Length bytes, or a whole
  /// chunked body with its trailers, or nothing. After a head with
  /// "Expect: 100-continue", send the "100 Continue" between the two.
  Script& expect_body();
  /// expect_head() then expect_body(): one whole request.
  Script& expect_request();

  Script& send(std::string bytes);
  /// Sends `bytes` `piece` bytes at a time with `delay` between pieces
  /// (TCP_NODELAY is on, so each piece leaves as a segment of its own).
  Script& send_slowly(std::string bytes, std::chrono::milliseconds delay, std::size_t piece = 1);
  Script& pause(std::chrono::milliseconds duration);

  /// Closes gracefully: FIN, then reads (and records) until the client closes
  /// too or Options::linger passes. Reading first matters: closing a socket
  /// with unread bytes makes Linux send a reset instead of FIN.
  Script& close();
  /// Aborts: SO_LINGER 0 and close, so the client gets a reset (RST).
  Script& reset();
  /// Keeps the connection open, reading and sending nothing, until the server
  /// is destroyed. The last step: later ones are never played.
  Script& never_answer();

 private:
  friend class ScriptServer;
  enum class Kind {
    expect,
    expect_until,
    expect_bytes,
    expect_head,
    expect_body,
    send,
    send_slowly,
    pause,
    close,
    reset,
    never_answer
  };
  struct Step {
    explicit Step(Kind k, std::string b = {}, std::size_t n = 0,
                  std::chrono::milliseconds d = std::chrono::milliseconds(0))
        : kind(k), bytes(std::move(b)), count(n), delay(d) {}
    Kind kind;
    std::string bytes;                // expect, expect_until, send, send_slowly
    std::size_t count;                // expect_bytes: bytes; send_slowly: piece size
    std::chrono::milliseconds delay;  // send_slowly, pause
  };
  Script& add(Step step);

  std::vector<Step> steps_;
};

class ScriptServer {
 public:
  struct Options {
    /// A step that makes no progress (no byte read or sent) for this long fails.
    std::chrono::milliseconds step_timeout{10'000};
    /// How long close() waits for the client to close its side.
    std::chrono::milliseconds linger{2'000};
    /// Per connection, received() keeps this much (bytes_received() counts on).
    std::size_t max_recorded = 16 << 20;
    /// Largest head, body or expected text a step will buffer.
    std::size_t max_message = 16 << 20;
    /// Connections beyond this many are reset at once, and reported in errors().
    std::size_t max_connections = 64;
  };

  /// Every connection plays `script`.
  explicit ScriptServer(Script script) : ScriptServer(std::vector<Script>{std::move(script)}) {}
  ScriptServer(Script script, Options options)
      : ScriptServer(std::vector<Script>{std::move(script)}, options) {}
  /// Connection i (in the order accepted, from 0) plays `scripts[i]`; those
  /// after the last play the last one again.
  explicit ScriptServer(std::vector<Script> scripts) : ScriptServer(std::move(scripts), {}) {}
  ScriptServer(std::vector<Script> scripts, Options options);
  /// Stops the thread and closes every socket (held ones too).
  ~ScriptServer();
  ScriptServer(const ScriptServer&) = delete;
  ScriptServer& operator=(const ScriptServer&) = delete;

  std::uint16_t port() const noexcept { return listener_.port(); }
  /// "scheme://127.0.0.1:port".
  std::string url(std::string_view scheme = "http") const;

  /// Connections accepted so far.
  std::size_t connections() const;
  /// The bytes read from connection `i` (from 0), in order; "" for a
  /// connection not (yet) accepted. Reads happen only while a step expects
  /// bytes (or close() lingers), so bytes sent after that are not here.
  std::string received(std::size_t i) const;
  /// How many bytes the script read on connection `i` (beyond max_recorded too).
  std::size_t bytes_received(std::size_t i) const;
  /// What went wrong, one line each ("connection 0, step 2 (expect): ...").
  std::vector<std::string> errors() const;

  /// True once `n` connections were accepted (false after `timeout`).
  bool wait_for_connections(std::size_t n,
                            std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;
  /// True once `n` connections were accepted and each has played its script
  /// to the end: closed (FIN sent), reset, failed, or held by never_answer().
  bool wait_done(std::size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;

 private:
  struct Connection;
  struct Record {
    std::string data;
    std::size_t total = 0;
    bool done = false;
  };
  enum class Io { progress, blocked, failed };

  void run();
  void serve();
  void accept_one(std::vector<std::unique_ptr<Connection>>& connections);
  void play(Connection& c);
  Io step(Connection& c, const Script::Step& s);
  Io read_some(Connection& c);
  Io write_some(Connection& c, std::string_view bytes, std::size_t end);
  Io consume(Connection& c, std::size_t n);
  void fail(Connection& c, const std::string& why);
  void finish(Connection& c, bool graceful);
  void record(Connection& c, std::string_view bytes);

  const std::vector<Script> scripts_;
  const Options options_;
  PolledListener listener_{"ScriptServer"};  // its wake_fd(): the destructor's way into poll()

  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  bool stop_ = false;                // guarded by mutex_
  std::vector<Record> records_;      // guarded by mutex_; one per accepted connection
  std::vector<std::string> errors_;  // guarded by mutex_
  std::thread thread_;
};

}  // namespace uvinet_test

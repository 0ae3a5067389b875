// Real servers for tests, each on a free port of 127.0.0.1 (never another
// interface): socat for the protocols, and RawListener, a socket the test
// controls, for the faults a real server does not make on demand.
//
// Constructors throw std::runtime_error with a clear message (socat missing,
// server would not start); inside a TEST_CASE that fails the test, which is
// what we want: a missing server must never look like a pass.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "support/process.hpp"

namespace uvinet_test {

/// socat listening on 127.0.0.1 and forking `handler` (a socat address such
/// as "EXEC:cat") for each connection. The destructor kills socat's whole
/// process group, so no forked child outlives the test; if the test process
/// dies first, the kernel stops socat (PR_SET_PDEATHSIG). That signal comes
/// when the creating *thread* ends: create servers on a thread that outlives
/// them (the test's own thread does).
class SocatServer {
 public:
  explicit SocatServer(std::string handler);
  ~SocatServer();
  SocatServer(const SocatServer&) = delete;
  SocatServer& operator=(const SocatServer&) = delete;

  std::uint16_t port() const noexcept { return port_; }
  /// "scheme://127.0.0.1:port".
  std::string url(std::string_view scheme) const;

 private:
  bool try_start(const std::string& socat);  // false: lost the port to someone else

  std::string handler_;
  int log_fd_ = -1;  // socat's stderr, shown when it fails to start (an unlinked file)
  ChildProcess socat_;
  std::uint16_t port_ = 0;
};

/// Echo (RFC 862): sends back what it gets.
class EchoServer : public SocatServer {
 public:
  EchoServer() : SocatServer("EXEC:cat") {}
};

/// Daytime (RFC 867): sends the date ("Mon Jan  1 00:00:00 UTC 2024") and closes.
class DaytimeServer : public SocatServer {
 public:
  DaytimeServer() : SocatServer("EXEC:date -u") {}
};

/// A TCP socket on 127.0.0.1 that misbehaves in one chosen way.
class RawListener {
 public:
  enum class Mode {
    /// Bound but not listening: connecting is refused (the port stays ours,
    /// so no other process can take it meanwhile).
    refuse,
    /// Listening, never accepting: the kernel completes the handshake, and
    /// nothing is ever sent or read.
    never_answer,
    /// Accepts each connection and closes it at once.
    close_at_once,
    /// listen(fd, 0) with the accept queue filled by our own idle clients:
    /// Linux drops further SYNs, so connecting hangs until the client's
    /// timeout. The constructor checks that it really hangs.
    full_backlog,
  };

  explicit RawListener(Mode mode);
  ~RawListener();
  RawListener(const RawListener&) = delete;
  RawListener& operator=(const RawListener&) = delete;

  std::uint16_t port() const noexcept { return port_; }
  std::string url(std::string_view scheme) const;

 private:
  void fill_backlog();
  void accept_and_close();

  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::vector<int> fillers_;  // full_backlog: the clients that fill the queue
  std::atomic<bool> stop_{false};
  std::thread acceptor_;  // close_at_once
};

/// A port of 127.0.0.1 that was free a moment ago (bind to port 0, read it,
/// close). Someone else may take it before we do: callers retry.
std::uint16_t pick_free_port();

}  // namespace uvinet_test

// TcpRelay: a loopback TCP relay between the client under test and a real
// server, for faults that must happen inside an encrypted stream: the relay
// cannot read TLS, but it can cut the connection after so many bytes, and
// it records what the client sent (record headers stay readable).
//
//   Nginx nginx(uvinet_test::https_nginx("good"));
//   TcpRelay relay(nginx.port(), {.cut_after = 1 << 20, .cut = TcpRelay::Cut::reset});
//   ... the client fetches https://localhost:<relay.port()>/large.bin ...
//
// One connection at a time, on a thread of its own with plain sockets and
// poll(); every wait is bounded.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "support/process.hpp"

namespace uvinet_test {

class TcpRelay {
 public:
  enum class Cut {
    reset,  ///< SO_LINGER 0 and close: the client gets a reset (RST)
    close,  ///< a plain close: the client gets FIN, with no TLS close_notify before it
  };
  struct Options {
    /// Bytes relayed from the server to the client before the cut.
    std::size_t cut_after = std::numeric_limits<std::size_t>::max();
    Cut cut = Cut::reset;
  };

  TcpRelay(std::uint16_t server_port, Options options);
  ~TcpRelay();
  TcpRelay(const TcpRelay&) = delete;
  TcpRelay& operator=(const TcpRelay&) = delete;

  std::uint16_t port() const noexcept { return listener_.port(); }
  /// What the client sent on its `i`th connection (from 0), so far.
  std::string from_client(std::size_t i) const;
  /// Waits until `n` connections ended (client or cut); false on timeout.
  bool wait_ended(std::size_t n,
                  std::chrono::milliseconds timeout = std::chrono::seconds(20)) const;
  /// What went wrong in the relay itself (connect to the server failed...).
  std::vector<std::string> errors() const;

 private:
  void run();
  void relay(int client);
  bool stopping() const;

  std::uint16_t server_port_;
  Options options_;
  PolledListener listener_{"TcpRelay"};  // its wake_fd(): the destructor's stop signal
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  bool stop_ = false;                  // guarded by mutex_
  std::vector<std::string> received_;  // per connection; guarded by mutex_
  std::size_t ended_ = 0;              // guarded by mutex_
  std::vector<std::string> errors_;    // guarded by mutex_
  std::thread thread_;
};

}  // namespace uvinet_test

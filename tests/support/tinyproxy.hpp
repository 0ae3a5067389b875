// Tinyproxy: a real HTTP forward proxy on a free port of 127.0.0.1, for the
// HTTP client's proxy tests.
//
// Each instance has a fresh temporary directory with a generated config, a
// log file and a pid file. Tinyproxy runs in the foreground (-d), in a
// process group of its own that the destructor kills (support/process.hpp),
// before the directory is removed. It allows 127.0.0.1 only and listens
// there only.
//
// What proves a request went through it: tinyproxy adds
// "Via: 1.1 <via_name> (tinyproxy/...)" to the responses it forwards, and
// logs each request line ("GET http://127.0.0.1:8080/x HTTP/1.1") it gets,
// which requests() returns. It answers the client in HTTP/1.0 and closes
// the connection after each response.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "support/process.hpp"

namespace uvinet_test {

class Tinyproxy {
 public:
  static constexpr std::string_view via_name = "uvinet-test-proxy";

  struct Options {
    /// With both set, the proxy demands "Proxy-Authorization: Basic" with
    /// these (tinyproxy's BasicAuth) and answers 407 without it.
    std::string user;
    std::string password;
  };

  /// Starts tinyproxy and returns once it listens. Throws std::runtime_error
  /// (with its log) when it cannot.
  Tinyproxy() : Tinyproxy(Options{}) {}
  explicit Tinyproxy(Options options);
  ~Tinyproxy();
  Tinyproxy(const Tinyproxy&) = delete;
  Tinyproxy& operator=(const Tinyproxy&) = delete;

  std::uint16_t port() const noexcept { return port_; }
  /// "http://127.0.0.1:port".
  std::string url() const;
  /// The log so far.
  std::string log() const;
  /// The request lines logged so far, in order ("GET http://h:1/p HTTP/1.1").
  std::vector<std::string> requests() const;
  /// requests() once it has at least `n` lines, or as it is after `timeout`
  /// (tinyproxy may log after the response has gone out).
  std::vector<std::string> wait_for_requests(
      std::size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(5)) const;

 private:
  bool try_start(const std::string& program);  // false: lost the port to someone else

  Options options_;
  std::filesystem::path dir_;
  std::uint16_t port_ = 0;
  int output_fd_ = -1;
  ChildProcess proxy_;
};

}  // namespace uvinet_test

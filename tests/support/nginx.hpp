// Nginx: a real nginx on a free port of 127.0.0.1, for HTTP client tests.
//
// Each instance has a fresh temporary directory with a generated config,
// docroot, logs and temp paths; nginx runs in the foreground as one process
// (master_process off: nothing forked, so nothing to leak), in a process group
// of its own that the destructor kills, before removing the directory. It
// runs as root or not (the config names no system path).
//
// What the server answers (paths on url(); <file> is any docroot file):
//
//   /1k.bin /64k.bin /large.bin /empty.bin  pattern() bytes (see the constants below)
//   /text.txt /index.html                   text; gzip'ed when the request has
//                                           "Accept-Encoding: gzip" (then chunked)
//   /missing (anything absent)              404
//   /chunked/<file>                         <file>, always "Transfer-Encoding: chunked"
//   /slow/<file>                            <file> at Options::slow_rate bytes per second
//   /close/<file>                           <file> with "Connection: close"
//   /status/<code>                          that status, nginx's own body: 200-299, 304,
//                                           400-493 and 500-599; 444 closes the connection
//                                           without a response (nginx's special code)
//   /redirect/<code>[?to=<url>]             301 302 303 307 308 to <url> (taken verbatim,
//                                           not decoded), by default to /1k.bin. A
//                                           cross-host redirect: ?to=<other nginx's url()>
//   /redirect/chain/a                       302 -> /redirect/chain/b -> /redirect/chain/c,
//                                           which answers 200 "end of chain\n"
//   /redirect/loop/a                        302 -> /redirect/loop/b -> /redirect/loop/a ...
//   PUT /upload/<name>                      stores the body in uploaded(name): 201 Created,
//                                           204 when it replaces one; GET reads it back
//   POST /post/<name>                       the same for a POST (201)
//   /alpn (with Options::tls)               the protocol chosen in ALPN, "" when none
//
// Location headers are sent as written (absolute_redirect off) unless
// Options::absolute_redirect.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "support/process.hpp"

namespace uvinet_test {

/// `size` deterministic pseudo-random bytes (xorshift64*): the same for the
/// same seed on every run and machine, so a test can check content it never
/// stored.
std::string pattern(std::size_t size, std::uint64_t seed);

/// FNV-1a (64 bits): a checksum for comparing large bodies as they stream in.
class Checksum {
 public:
  Checksum& update(std::string_view bytes) noexcept;
  std::uint64_t value() const noexcept { return hash_; }
  static std::uint64_t of(std::string_view bytes) noexcept {
    return Checksum().update(bytes).value();
  }

 private:
  std::uint64_t hash_ = 0xcbf29ce484222325ULL;
};

class Nginx {
 public:
  // The generated docroot files: pattern(size, seed) with these seeds.
  static constexpr std::size_t small_size = 1024;  // /1k.bin
  static constexpr std::uint64_t small_seed = 1;
  static constexpr std::size_t medium_size = 65536;  // /64k.bin
  static constexpr std::uint64_t medium_seed = 2;
  static constexpr std::uint64_t large_seed = 3;  // /large.bin, Options::large_file_size

  // ---- TLS: when set, the server speaks HTTPS on its port and url() says
  // https (tests/test_tls.cpp makes the certificates).
  struct Tls {
    std::string certificate_file;  // PEM, the chain the server presents
    std::string key_file;          // PEM
    std::string client_ca_file;    // PEM; with verify_client, the CAs client certs must chain to
    bool verify_client = false;    // ssl_verify_client on
    bool http2 = false;            // HTTP/2 offered in ALPN too (listen ... http2)
  };

  struct Options {
    std::size_t large_file_size = 8 << 20;
    /// keepalive_timeout; zero turns keep-alive off.
    std::chrono::milliseconds keepalive_timeout{60'000};
    /// keepalive_requests: requests per connection before nginx closes it.
    unsigned keepalive_requests = 1000;
    /// limit_rate on /slow/, bytes per second.
    std::size_t slow_rate = 64 * 1024;
    /// client_max_body_size for uploads (nginx syntax: "64m"; "0" for no limit).
    std::string max_body_size = "64m";
    /// Location headers: "http://127.0.0.1:port/path" rather than as written.
    bool absolute_redirect = false;
    /// Docroot files written before start: path below the docroot ("a/b.txt")
    /// and content. They may replace the generated ones.
    std::vector<std::pair<std::string, std::string>> files;
    /// Raw config text inside the server block (locations, directives) and
    /// inside the http block. {root} in either is replaced by the docroot path.
    std::string server_config;
    std::string http_config;
    std::optional<Tls> tls;
  };

  /// Starts nginx and returns once it accepts connections. Throws
  /// std::runtime_error (with nginx's error log) when it cannot.
  Nginx() : Nginx(Options{}) {}
  explicit Nginx(Options options);
  ~Nginx();
  Nginx(const Nginx&) = delete;
  Nginx& operator=(const Nginx&) = delete;

  std::uint16_t port() const noexcept { return port_; }
  /// "http://127.0.0.1:port" + path (https with Options::tls).
  std::string url(std::string_view path = "") const;
  const std::filesystem::path& dir() const noexcept { return dir_; }
  std::filesystem::path docroot() const { return dir_ / "www"; }

  /// The content of docroot file `path` ("/64k.bin").
  std::string file(std::string_view path) const;
  /// Checksum::of(file("/large.bin")), computed once while generating it.
  std::uint64_t large_checksum() const noexcept { return large_checksum_; }
  /// The body stored by PUT /upload/<name> or POST /post/<name>, if any.
  std::optional<std::string> uploaded(std::string_view name) const;
  /// nginx's error log so far (for messages when a test fails).
  std::string error_log() const;

  /// One access log line. nginx numbers its connections: requests that share
  /// `connection` came on one TCP connection, `connection_requests` counts
  /// them on it (1, 2, ...).
  struct LogLine {
    std::uint64_t connection = 0;
    std::uint64_t connection_requests = 0;
    std::string method;
    std::string uri;  // as requested, with the query; nginx escapes '"' and controls as \xHH
    int status = 0;
    std::uint64_t body_bytes_sent = 0;
    std::uint64_t request_length = 0;  // head and body as received
    std::string transfer_encoding;     // of the response: "chunked" or ""
    std::string content_encoding;      // of the response: "gzip" or ""
  };
  /// The access log as written so far. nginx writes a request's line after
  /// sending its response, so a client may read the response first: to see a
  /// request, use wait_for_access_log().
  std::vector<LogLine> access_log() const;
  /// The access log once it has at least `lines` lines, or as it is after
  /// `timeout`.
  std::vector<LogLine> wait_for_access_log(
      std::size_t lines, std::chrono::milliseconds timeout = std::chrono::seconds(5)) const;
  /// How many TCP connections the lines came on.
  static std::size_t connection_count(const std::vector<LogLine>& log);

 private:
  void make_docroot();
  void write_config() const;
  bool try_start(const std::string& nginx);  // false: lost the port to someone else
  std::string why_failed() const;

  Options options_;
  std::filesystem::path dir_;
  std::uint16_t port_ = 0;
  std::uint64_t large_checksum_ = 0;
  int output_fd_ = -1;  // nginx's stdout and stderr
  ChildProcess nginx_;
};

/// One nginx with the default options for a whole test program, started on
/// first use: for the cases that only read from it.
Nginx& shared_nginx();

}  // namespace uvinet_test

// A local nginx for the HTTP benchmarks: 127.0.0.1 only, a free port, a
// temporary directory with a generated config and docroot, killed (with its
// workers: a process group of its own) and removed when the object goes.
//
// Unlike the test suite's launcher it runs a master and worker processes,
// logs no requests and serves files with sendfile: tuned to be fast, not to
// be inspected.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace uvinet::bench {

class BenchNginx {
 public:
  /// The certificate's key; it decides most of a full handshake's cost.
  enum class Tls { none, ecdsa_p256, rsa_2048 };
  struct Options {
    unsigned workers = 2;
    /// worker_connections, and the descriptors each worker may open.
    unsigned max_connections = 1024;
    /// Size of /big.bin in bytes; 0: no such file.
    std::uint64_t big_file_size = 0;
    /// Serve HTTPS instead of HTTP, with a self-signed certificate for
    /// localhost made here with openssl.
    Tls tls = Tls::none;
  };

  /// Starts nginx and returns once it accepts connections. Throws
  /// std::runtime_error with nginx's error log when it cannot.
  explicit BenchNginx(const Options& options);
  ~BenchNginx();
  BenchNginx(const BenchNginx&) = delete;
  BenchNginx& operator=(const BenchNginx&) = delete;

  /// "http://127.0.0.1:<port>" + path, or "https://localhost:<port>" + path
  /// with TLS: mbedTLS 2.28 cannot verify a certificate for an IP address.
  std::string url(std::string_view path) const;
  /// The self-signed certificate, the one CA to trust; empty without TLS.
  std::string ca_file() const;
  /// What the TLS listener allows: the one version, cipher suite and curve
  /// every client negotiates, and the certificate's key.
  std::string tls_description() const;

 private:
  void write_files() const;
  void write_config() const;
  void make_certificate() const;
  std::string tls_config() const;
  bool start();  // false: nginx lost the port to another process
  void stop();
  std::string error_log() const;

  Options options_;
  std::filesystem::path dir_;
  std::uint16_t port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace uvinet::bench

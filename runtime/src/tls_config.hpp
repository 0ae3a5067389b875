// The mbedTLS client configuration a TLS stream uses: trusted CAs, the
// client certificate, verification on or off, ALPN, and the process-wide
// random number generator. Built once per distinct set of TLS options and
// shared (read-only) by every connection made with them, on any loop thread.
#pragma once

#include <memory>
#include <string>

#include "uvinet/result.hpp"

struct mbedtls_ssl_config;

namespace uvinet::detail {

/// What a connection's TLS depends on: the TLS options of its request.
struct TlsSettings {
  std::string ca_file;
  std::string ca_directory;
  std::string ca_pem;
  std::string crl_file;
  std::string client_cert_file;
  std::string client_key_file;
  bool verify = true;  // false only with insecure_skip_verify=1

  /// One string that differs whenever the settings do (a cache or pool key).
  std::string key() const;
};

class TlsConfig {
 public:
  /// The configuration for `settings`, made on first use and shared while
  /// any connection holds it. Fails (files unreadable, PEM malformed) with
  /// errc::tls_error naming the file or option at fault. Reads files
  /// (milliseconds for the system bundle, and a path may name a slow or
  /// remote file system): never on a loop thread.
  static Result<std::shared_ptr<const TlsConfig>> get(const TlsSettings& settings);
  /// The configuration for `settings` if one is alive; no I/O, so the loop
  /// thread's way to skip get() for all but the first connection.
  static std::shared_ptr<const TlsConfig> cached(const TlsSettings& settings);

  virtual ~TlsConfig() = default;
  /// For mbedtls_ssl_setup(); mbedTLS only reads it once set up.
  virtual const mbedtls_ssl_config* ssl_config() const = 0;
};

/// mbedTLS's text for an error code ("X509 - Certificate verification failed").
std::string mbedtls_message(int code);

}  // namespace uvinet::detail

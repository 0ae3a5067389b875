// The test certificates of tests/support/make_test_pki.sh (its header lists
// them), made once per test program in a private temporary directory and
// removed at exit. The script's path comes in $UVINET_MAKE_TEST_PKI (set by
// tests/meson.build).
#pragma once

#include <stdlib.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>

#include "support/nginx.hpp"

namespace uvinet_test {

class TestPki {
 public:
  TestPki() {
    std::string templ = (std::filesystem::temp_directory_path() / "uvinet-pki-XXXXXX").string();
    if (::mkdtemp(templ.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir_ = templ;
    const char* script = std::getenv("UVINET_MAKE_TEST_PKI");
    if (script == nullptr) throw std::runtime_error("UVINET_MAKE_TEST_PKI is not set");
    const std::string command = std::string(script) + " '" + dir_.string() + "'";
    if (std::system(command.c_str()) != 0) throw std::runtime_error("failed: " + command);
  }
  ~TestPki() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  TestPki(const TestPki&) = delete;
  TestPki& operator=(const TestPki&) = delete;

  /// The path of one of the script's files ("ca.pem", "good.key").
  std::string file(const std::string& name) const { return (dir_ / name).string(); }

  /// The program's one set, made on first use.
  static const TestPki& shared() {
    static const TestPki instance;
    return instance;
  }

 private:
  std::filesystem::path dir_;
};

/// The program's one set of certificates (TestPki::shared()).
inline const TestPki& pki() {
  return TestPki::shared();
}

/// Options for an nginx serving HTTPS with the certificate and key
/// `name`.pem / `name`.key of the shared set; with `verify_client`, it
/// requires a client certificate from the test CA.
inline Nginx::Options https_nginx(const std::string& name, bool verify_client = false) {
  const TestPki& pki = TestPki::shared();
  Nginx::Options o;
  o.tls = Nginx::Tls{pki.file(name + ".pem"), pki.file(name + ".key"),
                     verify_client ? pki.file("ca.pem") : "", verify_client};
  return o;
}

/// "https://localhost:<port><path>": the host name the test certificates
/// carry (mbedTLS 2.28 checks DNS names only, never IP addresses).
inline std::string localhost_url(std::uint16_t port, const std::string& path) {
  return "https://localhost:" + std::to_string(port) + path;
}

}  // namespace uvinet_test

// The certificates of tests/support/make_test_pki.sh (a CA, good, expired,
// wrong-name and untrusted server certificates, client certificates), made
// once per test process in a private directory. The test needs the script's
// path in the environment variable UVINET_MAKE_TEST_PKI (tests/meson.build).
#pragma once

#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>

namespace uvinet_test {

class Pki {
 public:
  Pki() {
    namespace fs = std::filesystem;
    std::string templ = (fs::temp_directory_path() / "uvinet-pki-XXXXXX").string();
    if (::mkdtemp(templ.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir_ = templ;
    const char* script = std::getenv("UVINET_MAKE_TEST_PKI");
    if (script == nullptr) throw std::runtime_error("UVINET_MAKE_TEST_PKI is not set");
    const std::string command = std::string(script) + " '" + dir_.string() + "'";
    if (std::system(command.c_str()) != 0) throw std::runtime_error("failed: " + command);
  }
  ~Pki() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  Pki(const Pki&) = delete;
  Pki& operator=(const Pki&) = delete;
  std::string file(const std::string& name) const { return (dir_ / name).string(); }

 private:
  std::filesystem::path dir_;
};

/// The process's one Pki, made on first use.
inline const Pki& pki() {
  static const Pki instance;
  return instance;
}

}  // namespace uvinet_test

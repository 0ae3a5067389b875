#include "nginx.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/core.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

namespace uvinet::bench {
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error(what + (errno ? std::string(": ") + std::strerror(errno) : ""));
}

void write_file(const fs::path& path, std::string_view content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  if (!out.flush()) fail("nginx: cannot write " + path.string());
}

// A file of `size` bytes in 1 MiB blocks: its size is bounded by the disk,
// not by memory. The bytes are not checked, only counted.
void write_big_file(const fs::path& path, std::uint64_t size) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  std::string block(1 << 20, '\0');
  for (std::size_t i = 0; i < block.size(); ++i) block[i] = static_cast<char>(i * 131 + 7);
  for (std::uint64_t left = size; left > 0;) {
    const auto n = static_cast<std::streamsize>(std::min<std::uint64_t>(left, block.size()));
    out.write(block.data(), n);
    left -= static_cast<std::uint64_t>(n);
  }
  if (!out.flush()) fail("nginx: cannot write " + path.string());
}

// A port the kernel just gave out on 127.0.0.1. Another process may take it
// before nginx binds it: start() then fails and we try again.
std::uint16_t pick_free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) fail("socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    fail("bind 127.0.0.1:0");
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

bool accepts(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

std::string find_nginx() {
  for (const char* p : {"/usr/sbin/nginx", "/usr/bin/nginx", "/usr/local/sbin/nginx"}) {
    if (::access(p, X_OK) == 0) return p;
  }
  errno = 0;
  fail("nginx is not installed (apt-get install nginx-light)");
}

}  // namespace

BenchNginx::BenchNginx(const Options& options) : options_(options) {
  std::string templ = "/tmp/uvinet-bench-XXXXXX";
  if (::mkdtemp(templ.data()) == nullptr) fail("mkdtemp");
  dir_ = templ;
  try {
    write_files();
    if (options_.tls != Tls::none) make_certificate();
    for (int attempt = 0; attempt < 10; ++attempt) {
      if (start()) return;
    }
    errno = 0;
    fail("nginx lost its port 10 times in a row");
  } catch (...) {
    stop();
    std::error_code ec;
    fs::remove_all(dir_, ec);
    throw;
  }
}

BenchNginx::~BenchNginx() {
  stop();
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

std::string BenchNginx::url(std::string_view path) const {
  if (options_.tls != Tls::none) return fmt::format("https://localhost:{}{}", port_, path);
  return fmt::format("http://127.0.0.1:{}{}", port_, path);
}

std::string BenchNginx::ca_file() const {
  return options_.tls == Tls::none ? "" : (dir_ / "cert.pem").string();
}

// One suite and one curve, so both clients do the same cryptography: left
// to choose, OpenSSL and mbedTLS would prefer different ones.
namespace {
const char* cipher_suite(BenchNginx::Tls tls) {
  return tls == BenchNginx::Tls::rsa_2048 ? "ECDHE-RSA-AES128-GCM-SHA256"
                                          : "ECDHE-ECDSA-AES128-GCM-SHA256";
}
}  // namespace

std::string BenchNginx::tls_description() const {
  if (options_.tls == Tls::none) return "no TLS";
  return fmt::format("TLS 1.2, {}, P-256 key exchange, {} certificate, no session resumption",
                     cipher_suite(options_.tls),
                     options_.tls == Tls::rsa_2048 ? "RSA-2048" : "ECDSA P-256");
}

void BenchNginx::make_certificate() const {
  const std::string key = options_.tls == Tls::rsa_2048
                              ? "-newkey rsa:2048"
                              : "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1";
  const std::string d = dir_.string();  // mkdtemp's name: nothing to quote
  const std::string command = fmt::format(
      "openssl req -x509 {} -nodes -subj /CN=localhost -addext subjectAltName=DNS:localhost "
      "-days 2 -keyout {}/key.pem -out {}/cert.pem >{}/openssl.out 2>&1",
      key, d, d, d);
  if (std::system(command.c_str()) != 0) {
    std::ifstream in(dir_ / "openssl.out");
    std::ostringstream out;
    out << in.rdbuf();
    errno = 0;
    fail("openssl could not make the certificate: " + out.str());
  }
}

// Full handshakes only: no session cache, no tickets. TLS 1.2 only, the one
// version mbedTLS 2.28 speaks, so libcurl's OpenSSL cannot pick 1.3.
std::string BenchNginx::tls_config() const {
  if (options_.tls == Tls::none) return "";
  const std::string d = dir_.string();
  return fmt::format(
      "    ssl_certificate {}/cert.pem;\n"
      "    ssl_certificate_key {}/key.pem;\n"
      "    ssl_protocols TLSv1.2;\n"
      "    ssl_ciphers {};\n"
      "    ssl_prefer_server_ciphers on;\n"
      "    ssl_ecdh_curve prime256v1;\n"
      "    ssl_session_cache off;\n"
      "    ssl_session_tickets off;\n",
      d, d, cipher_suite(options_.tls));
}

void BenchNginx::write_files() const {
  fs::create_directories(dir_ / "www");
  fs::create_directories(dir_ / "tmp");
  std::string small(1024, '\0');
  for (std::size_t i = 0; i < small.size(); ++i) small[i] = static_cast<char>('a' + i % 26);
  write_file(dir_ / "www" / "1k.bin", small);
  if (options_.big_file_size > 0) write_big_file(dir_ / "www" / "big.bin", options_.big_file_size);
}

void BenchNginx::write_config() const {
  const std::string d = dir_.string();
  std::ostringstream c;
  // Root's workers would run as nobody, who cannot read our private
  // directory; only root may name a user.
  if (::geteuid() == 0) c << "user root;\n";
  c << "daemon off;\n"
    << "worker_processes " << options_.workers << ";\n"
    << "worker_rlimit_nofile " << options_.max_connections + 64 << ";\n"
    << "pid " << d << "/nginx.pid;\n"
    << "lock_file " << d << "/nginx.lock;\n"
    << "error_log " << d << "/error.log warn;\n"
    << "events { worker_connections " << options_.max_connections + 64 << "; multi_accept on; }\n"
    << "http {\n"
       "  access_log off;\n"
       "  default_type application/octet-stream;\n"
       "  sendfile on;\n"
       "  tcp_nopush on;\n"
       "  open_file_cache max=64;\n"
       "  keepalive_timeout 600s;\n"
       "  keepalive_requests 1000000000;\n";
  // Every temp path: the compiled-in ones are under /var/lib/nginx.
  for (const char* kind : {"client_body", "proxy", "fastcgi", "uwsgi", "scgi"}) {
    c << "  " << kind << "_temp_path " << d << "/tmp/" << kind << ";\n";
  }
  // The kernel caps the backlog at net.core.somaxconn; the idle benchmark
  // opens thousands of connections at once.
  c << "  server {\n"
    << "    listen 127.0.0.1:" << port_ << (options_.tls != Tls::none ? " ssl" : "")
    << " backlog=65535;\n"
    << "    root " << d << "/www;\n"
    << tls_config() << "  }\n}\n";
  write_file(dir_ / "nginx.conf", c.str());
}

bool BenchNginx::start() {
  port_ = pick_free_port();
  write_config();
  std::error_code ec;
  fs::remove(dir_ / "error.log", ec);  // only this attempt's messages
  const std::string nginx = find_nginx();
  const std::string prefix = dir_.string() + "/";
  const std::string conf = (dir_ / "nginx.conf").string();
  const std::string log = (dir_ / "error.log").string();
  const std::string out = (dir_ / "nginx.out").string();
  const pid_t parent = ::getpid();
  pid_ = ::fork();
  if (pid_ < 0) fail("fork");
  if (pid_ == 0) {
    // A group of its own, so stop() reaches the workers too; and gone with
    // us should we die without stopping it.
    ::setpgid(0, 0);
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) ::_exit(127);
    const int fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    ::execl(nginx.c_str(), nginx.c_str(), "-p", prefix.c_str(), "-c", conf.c_str(), "-e",
            log.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::setpgid(pid_, pid_);
  for (auto deadline = std::chrono::steady_clock::now() + 10s;
       std::chrono::steady_clock::now() < deadline; std::this_thread::sleep_for(10ms)) {
    if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
      pid_ = -1;
      if (error_log().find("Address already in use") != std::string::npos) return false;
      errno = 0;
      fail("nginx exited at once: " + error_log());
    }
    if (accepts(port_)) return true;
  }
  errno = 0;
  fail("nginx did not listen within 10 s: " + error_log());
}

void BenchNginx::stop() {
  if (pid_ <= 0) return;
  ::kill(-pid_, SIGTERM);
  for (int i = 0; i < 500; ++i) {
    if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
      pid_ = -1;
      return;
    }
    std::this_thread::sleep_for(10ms);
  }
  ::kill(-pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

std::string BenchNginx::error_log() const {
  std::ifstream in(dir_ / "error.log");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace uvinet::bench

#include "support/tinyproxy.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "support/servers.hpp"  // pick_free_port

namespace uvinet_test {
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace

Tinyproxy::Tinyproxy(Options options) : options_(std::move(options)) {
  const std::string program = find_in_path("tinyproxy");
  if (program.empty()) {
    errno = 0;
    throw_failure("tinyproxy is not installed, and the test needs it (apt-get install tinyproxy)");
  }
  std::error_code ec;
  fs::path base = fs::temp_directory_path(ec);
  if (ec) base = "/tmp";
  std::string templ = (base / "uvinet-tinyproxy-XXXXXX").string();
  if (::mkdtemp(templ.data()) == nullptr) throw_failure("Tinyproxy: mkdtemp in " + base.string());
  dir_ = templ;
  try {
    output_fd_ =
        ::open((dir_ / "tinyproxy.out").c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (output_fd_ < 0) throw_failure("Tinyproxy: open tinyproxy.out");
    // Between our picking the port and tinyproxy binding it, another
    // process may take it; tinyproxy then exits and we try another.
    for (int attempt = 0; attempt < 10; ++attempt) {
      if (try_start(program)) return;
    }
    errno = 0;
    throw_failure("tinyproxy lost its port 10 times in a row");
  } catch (...) {
    proxy_.stop();  // no destructor runs for us
    if (output_fd_ >= 0) ::close(output_fd_);
    fs::remove_all(dir_, ec);
    throw;
  }
}

Tinyproxy::~Tinyproxy() {
  proxy_.stop();
  ::close(output_fd_);
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

std::string Tinyproxy::url() const {
  return "http://127.0.0.1:" + std::to_string(port_);
}

std::string Tinyproxy::log() const {
  return read_file(dir_ / "tinyproxy.log");
}

std::vector<std::string> Tinyproxy::requests() const {
  // The Connect log level (the one above Info) writes
  // "CONNECT   <date> [pid]: Request (file descriptor N): <request line>".
  static constexpr std::string_view marker = "): ";
  std::vector<std::string> out;
  std::istringstream in(log());
  for (std::string line; std::getline(in, line);) {
    const std::size_t at = line.find("Request (file descriptor ");
    if (at == std::string::npos) continue;
    const std::size_t start = line.find(marker, at);
    if (start != std::string::npos) out.push_back(line.substr(start + marker.size()));
  }
  return out;
}

std::vector<std::string> Tinyproxy::wait_for_requests(std::size_t n,
                                                      std::chrono::milliseconds timeout) const {
  const auto end = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto lines = requests();
    if (lines.size() >= n || std::chrono::steady_clock::now() > end) return lines;
    std::this_thread::sleep_for(10ms);
  }
}

bool Tinyproxy::try_start(const std::string& program) {
  port_ = pick_free_port();
  {
    // No User directive: as root tinyproxy warns and stays root, which is
    // fine for a loopback-only test proxy, and as another user it has no
    // choice anyway.
    std::ofstream conf(dir_ / "tinyproxy.conf", std::ios::trunc);
    conf << "Port " << port_ << "\n"
         << "Listen 127.0.0.1\n"
         << "Allow 127.0.0.1\n"
         << "LogFile \"" << (dir_ / "tinyproxy.log").string() << "\"\n"
         << "PidFile \"" << (dir_ / "tinyproxy.pid").string() << "\"\n"
         << "LogLevel Connect\n"
         << "MaxClients 64\n"
         << "Timeout 30\n"
         << "ViaProxyName \"" << via_name << "\"\n";
    if (!options_.user.empty() && !options_.password.empty()) {
      conf << "BasicAuth " << options_.user << " " << options_.password << "\n";
    }
    if (!conf.flush()) throw std::runtime_error("Tinyproxy: cannot write its config");
  }
  std::error_code ec;
  fs::remove(dir_ / "tinyproxy.log", ec);  // only this attempt's messages
  proxy_.start({program, "-d", "-c", (dir_ / "tinyproxy.conf").string()}, output_fd_);
  switch (wait_until_listening(proxy_, port_, 10s)) {
    case WaitResult::listening: return true;
    case WaitResult::exited: {
      const std::string why = log() + read_all(output_fd_);
      if (why.find("Address already in use") != std::string::npos) return false;
      throw std::runtime_error("tinyproxy (in " + dir_.string() + ") exited at once: " + why);
    }
    case WaitResult::timed_out: break;
  }
  proxy_.stop();
  throw std::runtime_error("tinyproxy did not listen on 127.0.0.1:" + std::to_string(port_) +
                           " within 10 s: " + log() + read_all(output_fd_));
}

}  // namespace uvinet_test

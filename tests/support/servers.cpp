#include "support/servers.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>

namespace uvinet_test {

using namespace std::chrono_literals;

std::uint16_t pick_free_port() {
  std::uint16_t port = 0;
  ::close(bound_loopback_socket(port));
  return port;
}

// --------------------------------------------------------------- SocatServer

SocatServer::SocatServer(std::string handler) : handler_(std::move(handler)) {
  const std::string socat = find_in_path("socat");
  if (socat.empty()) {
    errno = 0;
    throw_failure(
        "socat is not installed, and the test needs it for a real server "
        "(apt-get install socat)");
  }
  // Unlinked at once: nothing is left behind, even if the test dies.
  char log[] = "/tmp/uvinet-socat-XXXXXX";
  log_fd_ = ::mkostemp(log, O_CLOEXEC);
  if (log_fd_ < 0) throw_failure("mkstemp");
  ::unlink(log);
  try {
    // Between our picking the port and socat binding it, another process may
    // take it; socat then exits and we try another port.
    for (int attempt = 0; attempt < 10; ++attempt) {
      if (try_start(socat)) return;
    }
    errno = 0;
    throw_failure("socat for '" + handler_ + "' lost its port 10 times in a row");
  } catch (...) {
    ::close(log_fd_);  // no destructor runs for us
    throw;
  }
}

SocatServer::~SocatServer() {
  socat_.stop();  // kills the whole group: socat and the handlers it forked
  ::close(log_fd_);
}

bool SocatServer::try_start(const std::string& socat) {
  port_ = pick_free_port();
  const std::string listen =
      "TCP-LISTEN:" + std::to_string(port_) + ",bind=127.0.0.1,reuseaddr,fork,backlog=128";
  if (::ftruncate(log_fd_, 0) != 0) throw_failure("ftruncate");  // only this attempt's messages
  ::lseek(log_fd_, 0, SEEK_SET);
  socat_.start({socat, listen, handler_}, log_fd_);

  switch (wait_until_listening(socat_, port_, 10s)) {
    case WaitResult::listening: return true;
    case WaitResult::exited: {
      const std::string why = read_all(log_fd_);
      if (why.find("Address already in use") != std::string::npos) return false;
      errno = 0;
      throw_failure("socat " + listen + " " + handler_ + " exited at once: " + why);
    }
    case WaitResult::timed_out: break;
  }
  socat_.stop();
  errno = 0;
  throw_failure("socat " + listen + " " + handler_ +
                " did not listen within 10 s: " + read_all(log_fd_));
}

std::string SocatServer::url(std::string_view scheme) const {
  return std::string(scheme) + "://127.0.0.1:" + std::to_string(port_);
}

// --------------------------------------------------------------- RawListener

RawListener::RawListener(Mode mode) {
  fd_ = bound_loopback_socket(port_);
  switch (mode) {
    case Mode::refuse: break;  // bound, not listening: SYNs get a reset
    case Mode::never_answer:
      if (::listen(fd_, SOMAXCONN) != 0) throw_failure("listen");
      break;
    case Mode::close_at_once:
      if (::listen(fd_, SOMAXCONN) != 0) throw_failure("listen");
      acceptor_ = std::thread([this] { accept_and_close(); });
      break;
    case Mode::full_backlog:
      if (::listen(fd_, 0) != 0) throw_failure("listen");
      fill_backlog();
      break;
  }
}

RawListener::~RawListener() {
  stop_ = true;
  if (acceptor_.joinable()) acceptor_.join();
  for (int fd : fillers_) ::close(fd);
  ::close(fd_);
}

std::string RawListener::url(std::string_view scheme) const {
  return std::string(scheme) + "://127.0.0.1:" + std::to_string(port_);
}

void RawListener::accept_and_close() {
  while (!stop_) {
    pollfd p{fd_, POLLIN, 0};
    // Short polls so the destructor is never kept waiting long.
    if (::poll(&p, 1, 20) <= 0) continue;
    const int client = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client >= 0) ::close(client);
  }
}

// Connects idle clients until one of them hangs: from then on the accept
// queue is full and the kernel drops every new SYN (Linux: listen(fd, 0)
// still queues one connection, and tcp_abort_on_overflow=0 drops rather
// than resets). A queue that never fills fails loudly.
void RawListener::fill_backlog() {
  for (int i = 0; i < 16; ++i) {
    sockaddr_in addr;
    const int c = loopback_socket(port_, addr);
    ::fcntl(c, F_SETFL, O_NONBLOCK);
    fillers_.push_back(c);
    if (::connect(c, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) continue;
    if (errno != EINPROGRESS) throw_failure("connect to fill the backlog");
    pollfd p{c, POLLOUT, 0};
    if (::poll(&p, 1, 300) == 0) return;  // hangs: the queue is full
  }
  errno = 0;
  throw_failure("RawListener: the accept queue of 127.0.0.1:" + std::to_string(port_) +
                " never filled, so connecting to it would not hang on this system");
}

}  // namespace uvinet_test

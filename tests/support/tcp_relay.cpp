#include "support/tcp_relay.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "support/process.hpp"

namespace uvinet_test {
namespace {

// A relayed connection that makes no progress for this long is given up.
constexpr int kIdleMs = 20'000;

void abort_connection(int fd) {
  const linger abort{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort, sizeof abort);
  ::close(fd);
}

}  // namespace

TcpRelay::TcpRelay(std::uint16_t server_port, Options options)
    : server_port_(server_port), options_(options) {
  thread_ = std::thread([this] { run(); });
}

TcpRelay::~TcpRelay() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  listener_.wake();
  thread_.join();
}

std::string TcpRelay::from_client(std::size_t i) const {
  std::lock_guard lock(mutex_);
  return i < received_.size() ? received_[i] : std::string();
}

bool TcpRelay::wait_ended(std::size_t n, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return ended_ >= n; });
}

std::vector<std::string> TcpRelay::errors() const {
  std::lock_guard lock(mutex_);
  return errors_;
}

bool TcpRelay::stopping() const {
  std::lock_guard lock(mutex_);
  return stop_;
}

void TcpRelay::run() {
  while (!stopping()) {
    pollfd fds[2] = {{listener_.fd(), POLLIN, 0}, {listener_.wake_fd(), POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0 && errno != EINTR) break;
    if (fds[1].revents != 0) break;
    if (fds[0].revents == 0) continue;
    const int client = ::accept4(listener_.fd(), nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) continue;
    {
      std::lock_guard lock(mutex_);
      received_.emplace_back();
    }
    relay(client);
    {
      std::lock_guard lock(mutex_);
      ++ended_;
    }
    changed_.notify_all();
  }
}

// Copies bytes both ways until both sides closed, the cut, a stop or a stall.
void TcpRelay::relay(int client) {
  sockaddr_in addr{};
  const int server = loopback_socket(server_port_, addr);
  if (::connect(server, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    std::lock_guard lock(mutex_);
    errors_.push_back(std::string("connect to the server: ") + std::strerror(errno));
    ::close(server);
    abort_connection(client);
    return;
  }
  const std::size_t index = received_.size() - 1;  // only this thread adds
  std::size_t to_client = 0;
  bool client_open = true, server_open = true;
  char buffer[16384];
  while ((client_open || server_open) && !stopping()) {
    pollfd fds[3] = {{client, static_cast<short>(client_open ? POLLIN : 0), 0},
                     {server, static_cast<short>(server_open ? POLLIN : 0), 0},
                     {listener_.wake_fd(), POLLIN, 0}};
    const int ready = ::poll(fds, 3, kIdleMs);
    if (ready <= 0 || fds[2].revents != 0) break;
    if (client_open && fds[0].revents != 0) {
      const ssize_t n = ::read(client, buffer, sizeof buffer);
      if (n <= 0) {
        client_open = false;
        ::shutdown(server, SHUT_WR);
      } else {
        {
          std::lock_guard lock(mutex_);
          received_[index].append(buffer, static_cast<std::size_t>(n));
        }
        if (::send(server, buffer, static_cast<std::size_t>(n), MSG_NOSIGNAL) != n) break;
      }
    }
    if (server_open && fds[1].revents != 0) {
      // Never past the cut: what is left of it, at most.
      const std::size_t room = std::min(sizeof buffer, options_.cut_after - to_client);
      const ssize_t n = ::read(server, buffer, room);
      if (n <= 0) {
        server_open = false;
        ::shutdown(client, SHUT_WR);
      } else {
        if (::send(client, buffer, static_cast<std::size_t>(n), MSG_NOSIGNAL) != n) break;
        to_client += static_cast<std::size_t>(n);
      }
      if (to_client == options_.cut_after) {
        if (options_.cut == Cut::reset) {
          abort_connection(client);
        } else {
          ::close(client);
        }
        ::close(server);
        return;
      }
    }
  }
  ::close(client);
  ::close(server);
}

}  // namespace uvinet_test

#include "support/servers.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace uvinet_test {
namespace {

using namespace std::chrono_literals;

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error(what + (errno ? std::string(": ") + std::strerror(errno) : ""));
}

int loopback_socket(std::uint16_t port, sockaddr_in& addr) {
  addr = {};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) fail("socket");
  return fd;
}

// A socket bound to 127.0.0.1 on a port the kernel picks.
int bound_socket(std::uint16_t& port) {
  sockaddr_in addr;
  const int fd = loopback_socket(0, addr);
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    fail("bind to 127.0.0.1:0");
  }
  port = ntohs(addr.sin_port);
  return fd;
}

std::string find_in_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path ? path : "/usr/bin:/bin");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    const std::string candidate = dir + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return {};
}

// True when process `pid` has a socket listening on 127.0.0.1:`port`: the
// server accepts from now on. Read from /proc, so no probe connection is made
// (a probe would make socat fork a handler for nothing).
bool listens(pid_t pid, std::uint16_t port) {
  char local[32];
  std::snprintf(local, sizeof local, "0100007F:%04X", port);
  std::ifstream tcp("/proc/net/tcp");
  std::string line;
  std::getline(tcp, line);  // header
  std::string inode;
  while (std::getline(tcp, line)) {
    std::istringstream fields(line);
    std::string slot, addr, remote, state, skip;
    fields >> slot >> addr >> remote >> state >> skip >> skip >> skip >> skip >> skip >> inode;
    if (addr == local && state == "0A") break;  // 0A: TCP_LISTEN
    inode.clear();
  }
  if (inode.empty()) return false;
  const std::string wanted = "socket:[" + inode + "]";
  std::error_code ec;
  for (const auto& fd :
       std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec)) {
    if (std::filesystem::read_symlink(fd.path(), ec).string() == wanted) return true;
  }
  return false;
}

std::string read_all(int fd) {
  std::string out;
  char chunk[4096];
  for (ssize_t n; (n = ::pread(fd, chunk, sizeof chunk, static_cast<off_t>(out.size()))) > 0;) {
    out.append(chunk, static_cast<std::size_t>(n));
  }
  return out;
}

}  // namespace

std::uint16_t pick_free_port() {
  std::uint16_t port = 0;
  ::close(bound_socket(port));
  return port;
}

// --------------------------------------------------------------- SocatServer

SocatServer::SocatServer(std::string handler) : handler_(std::move(handler)) {
  const std::string socat = find_in_path("socat");
  if (socat.empty()) {
    errno = 0;
    fail(
        "socat is not installed, and the test needs it for a real server "
        "(apt-get install socat)");
  }
  // Unlinked at once: nothing is left behind, even if the test dies.
  char log[] = "/tmp/uvinet-socat-XXXXXX";
  log_fd_ = ::mkostemp(log, O_CLOEXEC);
  if (log_fd_ < 0) fail("mkstemp");
  ::unlink(log);
  try {
    // Between our picking the port and socat binding it, another process may
    // take it; socat then exits and we try another port.
    for (int attempt = 0; attempt < 10; ++attempt) {
      if (try_start(socat)) return;
    }
    errno = 0;
    fail("socat for '" + handler_ + "' lost its port 10 times in a row");
  } catch (...) {
    ::close(log_fd_);  // no destructor runs for us
    throw;
  }
}

SocatServer::~SocatServer() {
  stop();
  ::close(log_fd_);
}

bool SocatServer::try_start(const std::string& socat) {
  port_ = pick_free_port();
  const std::string listen =
      "TCP-LISTEN:" + std::to_string(port_) + ",bind=127.0.0.1,reuseaddr,fork,backlog=128";
  std::vector<std::string> args{socat, listen, handler_};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t parent = ::getpid();
  if (::ftruncate(log_fd_, 0) != 0) fail("ftruncate");  // only this attempt's messages
  ::lseek(log_fd_, 0, SEEK_SET);

  pid_ = ::fork();
  if (pid_ < 0) fail("fork");
  if (pid_ == 0) {
    // The child of a threaded process: only async-signal-safe calls until exec.
    ::setpgid(0, 0);  // its own group, so socat and its forks die together
    // If the test process dies without running our destructor (a crash, a
    // sanitizer abort), the kernel stops socat for us.
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) ::_exit(127);
    const int null = ::open("/dev/null", O_RDONLY);
    if (null < 0) ::_exit(127);
    ::dup2(null, 0);
    ::dup2(log_fd_, 1);  // dup2 clears O_CLOEXEC on the copies
    ::dup2(log_fd_, 2);
    // Default signals and mask, whatever the test process set.
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::signal(SIGPIPE, SIG_DFL);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::setpgid(pid_, pid_);  // also here: the destructor may run before the child got to it

  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < deadline) {
    if (listens(pid_, port_)) return true;
    if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
      pid_ = -1;
      const std::string why = read_all(log_fd_);
      if (why.find("Address already in use") != std::string::npos) return false;
      errno = 0;
      fail("socat " + listen + " " + handler_ + " exited at once: " + why);
    }
    std::this_thread::sleep_for(5ms);
  }
  stop();
  errno = 0;
  fail("socat " + listen + " " + handler_ + " did not listen within 10 s: " + read_all(log_fd_));
}

void SocatServer::stop() {
  if (pid_ <= 0) return;
  ::kill(-pid_, SIGTERM);  // the whole group: socat and the handlers it forked
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

std::string SocatServer::url(std::string_view scheme) const {
  return std::string(scheme) + "://127.0.0.1:" + std::to_string(port_);
}

// --------------------------------------------------------------- RawListener

RawListener::RawListener(Mode mode) {
  fd_ = bound_socket(port_);
  switch (mode) {
    case Mode::refuse:
      break;  // bound, not listening: SYNs get a reset
    case Mode::never_answer:
      if (::listen(fd_, SOMAXCONN) != 0) fail("listen");
      break;
    case Mode::close_at_once:
      if (::listen(fd_, SOMAXCONN) != 0) fail("listen");
      acceptor_ = std::thread([this] { accept_and_close(); });
      break;
    case Mode::full_backlog:
      if (::listen(fd_, 0) != 0) fail("listen");
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
    if (errno != EINPROGRESS) fail("connect to fill the backlog");
    pollfd p{c, POLLOUT, 0};
    if (::poll(&p, 1, 300) == 0) return;  // hangs: the queue is full
  }
  errno = 0;
  fail("RawListener: the accept queue of 127.0.0.1:" + std::to_string(port_) +
       " never filled, so connecting to it would not hang on this system");
}

}  // namespace uvinet_test

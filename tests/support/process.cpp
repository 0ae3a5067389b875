#include "support/process.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace uvinet_test {

using namespace std::chrono_literals;

void throw_failure(const std::string& what) {
  throw std::runtime_error(what + (errno ? std::string(": ") + std::strerror(errno) : ""));
}

int loopback_socket(std::uint16_t port, sockaddr_in& addr) {
  addr = {};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw_failure("socket");
  return fd;
}

int bound_loopback_socket(std::uint16_t& port) {
  sockaddr_in addr;
  const int fd = loopback_socket(0, addr);
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    throw_failure("bind to 127.0.0.1:0");
  }
  port = ntohs(addr.sin_port);
  return fd;
}

PolledListener::PolledListener(const std::string& owner) {
  fd_ = bound_loopback_socket(port_);
  if (::listen(fd_, SOMAXCONN) != 0 || ::fcntl(fd_, F_SETFL, O_NONBLOCK) != 0 ||
      (wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) {
    const int saved = errno;
    ::close(fd_);
    errno = saved;
    throw_failure(owner + ": listen");
  }
}

PolledListener::~PolledListener() {
  ::close(fd_);
  ::close(wake_fd_);
}

void PolledListener::wake() const {
  const std::uint64_t one = 1;
  [[maybe_unused]] auto ignored = ::write(wake_fd_, &one, sizeof one);
}

std::string find_in_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  // Daemons such as nginx live in sbin, which a non-root PATH often lacks.
  std::istringstream dirs(std::string(path ? path : "/usr/bin:/bin") + ":/usr/sbin:/sbin");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    const std::string candidate = dir + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return {};
}

std::string read_all(int fd) {
  std::string out;
  char chunk[4096];
  for (ssize_t n; (n = ::pread(fd, chunk, sizeof chunk, static_cast<off_t>(out.size()))) > 0;) {
    out.append(chunk, static_cast<std::size_t>(n));
  }
  return out;
}

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

// -------------------------------------------------------------- ChildProcess

void ChildProcess::start(const std::vector<std::string>& args, int output_fd) {
  stop();
  // Built before fork: the child of a threaded process may not allocate.
  std::vector<std::string> copy = args;
  std::vector<char*> argv;
  for (auto& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t parent = ::getpid();

  pid_ = ::fork();
  if (pid_ < 0) throw_failure("fork");
  if (pid_ == 0) {
    // Only async-signal-safe calls from here until exec.
    ::setpgid(0, 0);  // a group of its own, so the child and its forks die together
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) ::_exit(127);  // the parent died before prctl
    const int null = ::open("/dev/null", O_RDONLY);
    if (null < 0) ::_exit(127);
    ::dup2(null, 0);
    ::dup2(output_fd, 1);  // dup2 clears O_CLOEXEC on the copies
    ::dup2(output_fd, 2);
    // Default signals and mask, whatever the test process set.
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::signal(SIGPIPE, SIG_DFL);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::setpgid(pid_, pid_);  // also here: stop() may run before the child got to it
}

bool ChildProcess::exited() {
  if (pid_ <= 0) return true;
  const pid_t r = ::waitpid(pid_, nullptr, WNOHANG);
  if (r == 0 || (r < 0 && errno == EINTR)) return false;
  pid_ = -1;
  return true;
}

void ChildProcess::stop(std::chrono::milliseconds grace) {
  if (pid_ <= 0) return;
  const int saved_errno = errno;  // runs in destructors, maybe while an error is reported
  ::kill(-pid_, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + grace;
  while (!exited()) {
    if (std::chrono::steady_clock::now() >= deadline) {
      ::kill(-pid_, SIGKILL);
      while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
      }
      pid_ = -1;
      break;
    }
    std::this_thread::sleep_for(2ms);
  }
  errno = saved_errno;
}

ProgramResult run_program(const std::vector<std::string>& args, std::chrono::milliseconds limit) {
  // Unnamed temporary files: a pipe would need reading while the program
  // runs, and a file needs nothing.
  FILE* out = std::tmpfile();
  FILE* err = std::tmpfile();
  if (!out || !err) throw_failure("run_program: tmpfile");
  std::vector<std::string> copy = args;
  std::vector<char*> argv;
  for (auto& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, ::fileno(out), 1);
  posix_spawn_file_actions_adddup2(&actions, ::fileno(err), 2);
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    errno = rc;
    throw_failure("run_program: spawn " + args.at(0));
  }
  ProgramResult result;
  const auto deadline = std::chrono::steady_clock::now() + limit;
  int status = 0;
  while (::waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() >= deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      break;
    }
    std::this_thread::sleep_for(5ms);
  }
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  result.out = read_all(::fileno(out));
  result.err = read_all(::fileno(err));
  std::fclose(out);
  std::fclose(err);
  return result;
}

WaitResult wait_until_listening(ChildProcess& child, std::uint16_t port,
                                std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (listens(child.pid(), port)) return WaitResult::listening;
    if (child.exited()) return WaitResult::exited;
    std::this_thread::sleep_for(5ms);
  }
  return WaitResult::timed_out;
}

}  // namespace uvinet_test

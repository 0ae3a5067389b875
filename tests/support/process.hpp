// Helpers shared by the test servers (servers.cpp, nginx.cpp, script_server.cpp):
// loopback sockets, and child processes that never outlive the test.
#pragma once

#include <netinet/in.h>
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace uvinet_test {

/// Throws std::runtime_error: `what`, followed by strerror(errno) when errno
/// is set (clear errno first for a message of its own).
[[noreturn]] void throw_failure(const std::string& what);

/// A new TCP socket (close-on-exec), and `addr` set to 127.0.0.1:`port`.
int loopback_socket(std::uint16_t port, sockaddr_in& addr);

/// A TCP socket bound to 127.0.0.1 on a port the kernel picks, stored in `port`.
int bound_loopback_socket(std::uint16_t& port);

/// A non-blocking TCP socket listening on a free port of 127.0.0.1, with an
/// eventfd that wakes the thread polling it: a test server's way to stop.
class PolledListener {
 public:
  /// Throws std::runtime_error "<owner>: listen: ..." on failure.
  explicit PolledListener(const std::string& owner);
  ~PolledListener();
  PolledListener(const PolledListener&) = delete;
  PolledListener& operator=(const PolledListener&) = delete;

  int fd() const noexcept { return fd_; }
  int wake_fd() const noexcept { return wake_fd_; }
  std::uint16_t port() const noexcept { return port_; }
  /// Makes wake_fd() readable (from any thread).
  void wake() const;

 private:
  std::uint16_t port_ = 0;
  int fd_ = -1;
  int wake_fd_ = -1;
};

/// The absolute path of program `name` found in $PATH, or "" when it is not there.
std::string find_in_path(const std::string& name);

/// Everything in file `fd`, read from offset 0 (pread: the offset is left alone).
std::string read_all(int fd);

/// True when process `pid` has a socket listening on 127.0.0.1:`port`. Read
/// from /proc, so no probe connection is made: a probe would reach the server
/// as a real client (socat forks a handler, nginx logs a connection).
bool listens(pid_t pid, std::uint16_t port);

/// A child process in a process group of its own. stop() and the destructor
/// kill the whole group, so whatever it forked goes with it; if the test
/// process dies without running the destructor, the kernel sends the child
/// SIGTERM (PR_SET_PDEATHSIG). That signal comes when the creating *thread*
/// ends: start children on a thread that outlives them (the test's own does).
class ChildProcess {
 public:
  ChildProcess() = default;
  ~ChildProcess() { stop(); }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  /// Runs `argv` (argv[0] an absolute path) with stdin from /dev/null and
  /// stdout and stderr into `output_fd`. Throws when fork fails; a failed exec
  /// shows as the child exiting with status 127.
  void start(const std::vector<std::string>& argv, int output_fd);

  pid_t pid() const noexcept { return pid_; }
  bool running() const noexcept { return pid_ > 0; }

  /// True once the child has exited (it is then reaped and running() is false).
  bool exited();

  /// SIGTERM to the whole group; SIGKILL to it if the child is still there
  /// after `grace`. Reaps the child. Does nothing when it is not running.
  void stop(std::chrono::milliseconds grace = std::chrono::seconds(5));

 private:
  pid_t pid_ = -1;
};

/// How a program run by run_program() ended.
struct ProgramResult {
  int exit_code = -1;  ///< -1 when it was killed: by a signal, or by the hang guard
  std::string out;     ///< all it wrote to stdout
  std::string err;     ///< all it wrote to stderr
};

/// Runs `argv` (argv[0] an absolute path) to its end with stdin from
/// /dev/null, stdout and stderr captured apart. `limit` is a hang guard
/// only: past it the program is killed.
ProgramResult run_program(const std::vector<std::string>& argv,
                          std::chrono::milliseconds limit = std::chrono::minutes(2));

enum class WaitResult { listening, exited, timed_out };

/// Waits until `child` listens on 127.0.0.1:`port` (see listens()), exits,
/// or `timeout` passes.
WaitResult wait_until_listening(ChildProcess& child, std::uint16_t port,
                                std::chrono::milliseconds timeout);

}  // namespace uvinet_test

// uvinet-bench http: the uvinet side. Every request runs from callbacks on
// the session's loop thread (short_callback): a completion issues the next
// call at once, as an event-driven application would. The lanes of a run
// are started from one callback posted to that thread, so none completes
// before the last has begun and each gets a connection of its own.
#include <sys/resource.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "http_bench.hpp"
#include "uvinet/http.hpp"
#include "uvinet/uvinet.hpp"

namespace uvinet::bench::http {
namespace {

using Clock = std::chrono::steady_clock;
namespace uh = uvinet::http;

// A session, closed at the end once its last callback ran, so the runtime's
// threads are idle before the next client is measured.
class BenchSession {
 public:
  BenchSession() {
    auto session = Session::open();
    if (!session) throw std::runtime_error("Session::open: " + session.error().message());
    session_ = *session;
  }
  ~BenchSession() {
    // Shared: the callback may outlive a wait that timed out.
    auto closed = std::make_shared<std::promise<void>>();
    auto done = closed->get_future();
    auto on_status = [closed](Handle, Context, Status, const StatusInfo&) { closed->set_value(); };
    (void)session_.set_status_callback(on_status, status_bit(Status::handle_closing));
    if (session_.close()) done.wait_for(std::chrono::seconds(30));
  }
  BenchSession(const BenchSession&) = delete;
  BenchSession& operator=(const BenchSession&) = delete;

  // Requests wait for a connection slot instead of failing: a lane that
  // finds the pool empty for a moment (its connection went to a request
  // still connecting) must not die of it.
  void queue_at_limits() const {
    set(Option::limit_policy, static_cast<std::int64_t>(LimitPolicy::queue));
  }

  // An empty CA file leaves the default: plain http needs none.
  void trust(const std::string& ca_file) const {
    if (!ca_file.empty()) set(Option::ca_file, ca_file);
  }

  void set(Option option, OptionValue value) const {
    if (auto ok = session_.set_option(option, value); !ok) {
      throw std::runtime_error(std::string("set_option ") + option_name(option) + ": " +
                               ok.error().message());
    }
  }
  const Session& get() const { return session_; }

 private:
  Session session_;
};

// What the lanes of one run share. Loop thread only, until `finished`.
struct Group {
  Connection connection;
  std::string target;
  std::size_t read_size = 64 * 1024;          // each lane's read_data_into() buffer
  std::uint32_t flags = 0;                    // uh::RequestFlags of every request
  std::optional<Clock::time_point> deadline;  // none: one request per lane
  std::uint64_t requests = 0;
  std::uint64_t bytes = 0;
  std::uint64_t errors = 0;
  std::string first_error;
  unsigned running = 0;
  Clock::time_point end;
  std::promise<void> finished;
};

// GETs one after the other: open a request on the group's connection
// handle, send, receive the head, read the body to its end, close, again.
// Each step that completes at once goes straight on to the next.
class Lane {
 public:
  explicit Lane(Group& group) : g_(group) {}

  void start() {
    if (g_.deadline && Clock::now() >= *g_.deadline) return stop();
    uh::RequestOptions options;
    options.target = g_.target;
    options.flags = g_.flags;
    auto request = uh::open_request(g_.connection, options);
    if (!request) return fail(request.error());
    request_ = *request;
    AsyncContext<void> sent{[this](Result<void> r) { on_sent(r); }};
    auto r = uh::send_request(request_, {}, std::nullopt, &sent);
    if (!r.pending()) on_sent(r);
  }

 private:
  void on_sent(const Result<void>& r) {
    if (!r) return fail(r.error());
    AsyncContext<void> received{[this](Result<void> r) { on_received(r); }};
    auto got = uh::receive_response(request_, &received);
    if (!got.pending()) on_received(got);
  }

  void on_received(const Result<void>& r) {
    if (!r) return fail(r.error());
    auto status = uh::query_status_code(request_);
    if (!status || *status != 200) {
      return fail(status ? Error(errc::io_error, "status " + std::to_string(*status))
                         : status.error());
    }
    // Kept while the lane runs, freed when it stops: thousands of idle lanes
    // hold none.
    if (!buffer_) buffer_.reset(new char[g_.read_size]);
    read();
  }

  void read() {
    for (;;) {
      AsyncContext<std::size_t> more{[this](Result<std::size_t> n) {
        if (on_data(n)) read();
      }};
      auto n = uh::read_data_into(request_, {buffer_.get(), g_.read_size}, &more);
      if (n.pending() || !on_data(n)) return;
    }
  }

  // True when there is more to read.
  bool on_data(const Result<std::size_t>& n) {
    if (!n) {
      fail(n.error());
      return false;
    }
    if (*n > 0) {
      g_.bytes += *n;
      return true;
    }
    (void)request_.close();
    ++g_.requests;
    if (g_.deadline) {
      start();
    } else {
      stop();
    }
    return false;
  }

  void fail(const Error& e) {
    if (g_.errors++ == 0) g_.first_error = e.message();
    (void)request_.close();
    stop();
  }

  void stop() {
    buffer_.reset();
    if (--g_.running == 0) {
      g_.end = Clock::now();
      g_.finished.set_value();
    }
  }

  Group& g_;
  Request request_;
  std::unique_ptr<char[]> buffer_;  // the body goes here; lent to the read in flight
};

// Runs `lanes` lanes of `group` from one callback on the loop thread and
// waits for the last to stop. Returns when the run started.
Clock::time_point run_lanes(const BenchSession& session, Group& group, unsigned lanes,
                            const std::function<void()>& before = {}) {
  std::vector<std::unique_ptr<Lane>> all;
  for (unsigned i = 0; i < lanes; ++i) all.push_back(std::make_unique<Lane>(group));
  group.running = lanes;
  auto finished = group.finished.get_future();
  if (before) before();
  const auto start = Clock::now();
  auto posted = session.get().post([&all] {
    for (auto& lane : all) lane->start();
  });
  if (!posted) throw std::runtime_error("Handle::post: " + posted.error().message());
  finished.wait();
  return start;
}

Connection connect(const BenchSession& session, const std::string& url) {
  auto connection = session.get().connect(url);
  if (!connection) throw std::runtime_error("Session::connect: " + connection.error().message());
  return *connection;
}

// "http://127.0.0.1:1234/1k.bin" -> "/1k.bin" (https alike)
std::string target_of(const std::string& url) {
  const auto slash = url.find('/', url.find("//") + 2);
  return slash == std::string::npos ? "/" : url.substr(slash);
}

}  // namespace

namespace {

double cpu_seconds(int who) {
  rusage usage{};
  getrusage(who, &usage);
  auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

}  // namespace

double process_cpu_seconds() {
  return cpu_seconds(RUSAGE_SELF);
}

double children_cpu_seconds() {
  return cpu_seconds(RUSAGE_CHILDREN);
}

std::int64_t resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  std::int64_t size = 0, resident = 0;
  statm >> size >> resident;
  return resident * sysconf(_SC_PAGESIZE);
}

unsigned socket_count() {
  unsigned n = 0;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd", ec)) {
    std::error_code link_ec;
    const auto target = std::filesystem::read_symlink(entry.path(), link_ec).string();
    if (target.rfind("socket:", 0) == 0) ++n;
  }
  return n;
}

RpsResult uvinet_rps(const RpsRun& run) {
  BenchSession session;
  session.set(Option::max_connections_per_server, run.connections);
  session.queue_at_limits();
  session.trust(run.ca_file);
  Group group;
  group.connection = connect(session, run.url);
  group.target = target_of(run.url);
  if (run.new_connections) group.flags = uh::no_keep_alive;
  group.deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                      std::chrono::duration<double>(run.seconds));
  double cpu_before = 0;
  const auto start = run_lanes(session, group, run.connections,
                               [&cpu_before] { cpu_before = process_cpu_seconds(); });
  RpsResult result;
  result.cpu_seconds = process_cpu_seconds() - cpu_before;
  (void)group.connection.close();
  result.requests = group.requests;
  result.seconds = std::chrono::duration<double>(group.end - start).count();
  result.errors = group.errors;
  result.first_error = group.first_error;
  if (!result.errors && group.bytes != group.requests * 1024) {
    result.first_error = "body bytes do not add up to 1 KiB per request";
    result.errors = 1;
  }
  return result;
}

ThroughputResult uvinet_throughput(const ThroughputRun& run) {
  BenchSession session;
  session.set(Option::max_connections_per_server, run.downloads);
  session.queue_at_limits();
  session.trust(run.ca_file);
  Group group;
  group.connection = connect(session, run.url);
  group.target = target_of(run.url);
  // The exchange buffers up to 1 MiB per request; reads take what is there.
  group.read_size = 1 << 20;
  double cpu_before = 0;
  const auto start = run_lanes(session, group, run.downloads,
                               [&cpu_before] { cpu_before = process_cpu_seconds(); });
  ThroughputResult result;
  result.cpu_seconds = process_cpu_seconds() - cpu_before;
  result.seconds = std::chrono::duration<double>(group.end - start).count();
  result.bytes = group.bytes;
  (void)group.connection.close();
  if (group.errors) {
    result.error = group.first_error;
  } else if (group.bytes != run.expected_bytes * run.downloads) {
    result.error = "got " + std::to_string(group.bytes) + " bytes";
  }
  return result;
}

IdleResult uvinet_idle(const std::string& url, unsigned connections) {
  BenchSession session;
  session.set(Option::max_connections_per_server, connections + 16);
  session.set(Option::max_operations, connections + 64);
  session.set(Option::idle_timeout_ms, 600'000);
  // One request first: the loop thread, the pool and the allocator's arenas
  // exist before the baseline is taken.
  Group warm;
  warm.connection = connect(session, url);
  warm.target = target_of(url);
  run_lanes(session, warm, 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const auto rss_before = resident_bytes();
  const auto sockets_before = socket_count();

  Group group;
  group.connection = warm.connection;
  group.target = warm.target;
  run_lanes(session, group, connections);
  // Let the closed request handles finish closing on the loop thread.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  IdleResult result;
  result.rss_delta = resident_bytes() - rss_before;
  const auto sockets = socket_count();
  result.connections = sockets > sockets_before ? sockets - sockets_before : 0;
  if (group.errors) {
    result.error =
        std::to_string(group.errors) + " requests failed, the first: " + group.first_error;
  }
  (void)group.connection.close();
  return result;
}

}  // namespace uvinet::bench::http

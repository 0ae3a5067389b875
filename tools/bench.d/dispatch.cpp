// uvinet-bench dispatch: how fast callbacks posted on one thread run on
// another, through uvinet's handles (Handle::post) and, as the baseline,
// through a bare libuv loop in the same process.
//
// Each case is measured twice per run:
//   flood  the producers post `count` items as fast as they can; throughput
//          is first post to last callback, and 1 in 64 items records its
//          latency (post to callback start), which is mostly queueing delay;
//   idle   one item at a time, the next posted once the last one ran: the
//          latency of waking an idle thread (eventfd, futex).
// A flood also measures the CPU time per post of the producers and per
// callback of the consumer thread, which tells which side bounds the
// throughput. Runs go round robin over the cases so drift (frequency, noisy
// neighbours) hits them alike; a case reports its best throughput and the
// median of the runs' latencies and CPU times.
#include <time.h>
#include <uv.h>

#include <fmt/core.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "bench.hpp"
#include "uvinet/handle.hpp"
#include "uvinet/module.hpp"

namespace uvinet::bench {
namespace {

using Clock = std::chrono::steady_clock;

// Short callbacks on one handle, one producer, must reach this share of the
// baseline's throughput (the target).
constexpr double kTarget = 0.8;
constexpr unsigned kFloodSampleShift = 6;  // 1 in 64 flood items records its latency

struct Config {
  std::uint64_t count = 1'000'000;
  std::uint64_t idle_count = 20'000;
  int repeat = 3;
  int producers = 1;
  unsigned handles = 64;
  bool json = false;
  std::vector<std::string> only;  // case names to run besides the baseline; empty: all
};

// CPU time of the calling thread: unlike wall time, it does not count the
// time the thread waited for a CPU on a busy machine.
std::int64_t thread_cpu_ns() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

// What one run shares with its callbacks. A callback only bumps a counter
// and, for sampled items, reads the clock: the same work on every path.
class Run {
 public:
  Run(std::uint64_t total, unsigned sample_shift)
      : total_(total),
        shift_(sample_shift),
        posted_(((total - 1) >> sample_shift) + 1),
        latency_ns_(posted_.size()) {}

  // Producer side, just before item i is posted. The post itself publishes
  // the time stamp to the callback's thread.
  void before_post(std::uint64_t i) {
    if (sampled(i)) posted_[i >> shift_] = Clock::now();
  }

  void on_callback(std::uint64_t i) {
    if (sampled(i)) latency_ns_[i >> shift_] = (Clock::now() - posted_[i >> shift_]).count();
    // acq_rel: the last callback's thread then sees every latency written.
    const std::uint64_t n = done_.fetch_add(1, std::memory_order_acq_rel);
    if (n == 0) first_ = {std::this_thread::get_id(), thread_cpu_ns()};
    if (n + 1 == total_) {
      last_ = {std::this_thread::get_id(), thread_cpu_ns()};
      end_ = Clock::now();
      finished_.store(true, std::memory_order_release);
      finished_.notify_one();
    }
  }

  std::uint64_t done() const { return done_.load(std::memory_order_acquire); }
  // Waits for the last callback; returns when it ran.
  Clock::time_point wait() {
    finished_.wait(false, std::memory_order_acquire);
    return end_;
  }
  // CPU time per callback of the thread that ran the first and the last.
  double callback_cpu_ns() const {
    if (total_ < 2 || first_.thread != last_.thread) return NAN;  // not one thread
    return static_cast<double>(last_.cpu_ns - first_.cpu_ns) / static_cast<double>(total_ - 1);
  }
  // Latency percentile `q` in microseconds (nearest rank).
  double percentile_us(double q) {
    std::sort(latency_ns_.begin(), latency_ns_.end());
    const auto n = latency_ns_.size();
    const auto rank = std::min(n - 1, static_cast<std::size_t>(q * static_cast<double>(n)));
    return static_cast<double>(latency_ns_[rank]) / 1000.0;
  }

 private:
  bool sampled(std::uint64_t i) const { return (i & ((1u << shift_) - 1)) == 0; }

  const std::uint64_t total_;
  const unsigned shift_;
  std::vector<Clock::time_point> posted_;
  std::vector<std::int64_t> latency_ns_;
  std::atomic<std::uint64_t> done_{0};
  std::atomic<bool> finished_{false};
  Clock::time_point end_;
  struct Mark {
    std::thread::id thread;
    std::int64_t cpu_ns = 0;
  } first_, last_;  // the first and last callback
};

struct Sample {
  double per_s = 0;            // callbacks per second, first post to last callback
  double post_cpu_ns = 0;      // producer CPU time per post
  double callback_cpu_ns = 0;  // consumer CPU time per callback (NaN: several threads)
  double load_p50_us = 0, load_p99_us = 0;
  double idle_p50_us = 0, idle_p99_us = 0;
};

// `post(i, fn)` posts item i's callback `fn`; it runs one measured run of
// both kinds. `one_consumer`: the callbacks all run on one thread, whose
// CPU time per callback is then measured.
template <class Post>
Sample measure(const Config& config, bool one_consumer, Post post) {
  Sample sample;
  {
    Run run(config.count, kFloodSampleShift);
    std::atomic<bool> go{false};
    std::vector<std::thread> producers;
    std::atomic<std::int64_t> producer_cpu_ns{0};
    const auto n = static_cast<std::uint64_t>(config.producers);
    for (std::uint64_t p = 0; p < n; ++p) {
      producers.emplace_back([&, p] {
        go.wait(false, std::memory_order_acquire);
        const auto cpu_start = thread_cpu_ns();
        for (std::uint64_t i = config.count * p / n; i < config.count * (p + 1) / n; ++i) {
          run.before_post(i);
          // Two words: std::function keeps it inline, no allocation per item.
          post(i, [r = &run, i] { r->on_callback(i); });
        }
        producer_cpu_ns += thread_cpu_ns() - cpu_start;
      });
    }
    const auto start = Clock::now();
    go.store(true, std::memory_order_release);
    go.notify_all();
    const auto end = run.wait();
    for (auto& t : producers) t.join();
    const auto count = static_cast<double>(config.count);
    sample.per_s = count / std::chrono::duration<double>(end - start).count();
    sample.post_cpu_ns = static_cast<double>(producer_cpu_ns.load()) / count;
    sample.callback_cpu_ns = one_consumer ? run.callback_cpu_ns() : NAN;
    sample.load_p50_us = run.percentile_us(0.50);
    sample.load_p99_us = run.percentile_us(0.99);
  }
  {
    Run run(config.idle_count, 0);
    for (std::uint64_t i = 0; i < config.idle_count; ++i) {
      run.before_post(i);
      post(i, [r = &run, i] { r->on_callback(i); });
      while (run.done() <= i) std::this_thread::yield();
    }
    run.wait();
    sample.idle_p50_us = run.percentile_us(0.50);
    sample.idle_p99_us = run.percentile_us(0.99);
  }
  return sample;
}

// The baseline: a libuv loop on its own thread, a mutex-guarded queue and
// one uv_async_t to wake it, sent only when the queue turns non-empty (as
// a careful application, and uvinet's own loop, would do).
class BareLoop {
 public:
  BareLoop() {
    uv_loop_init(&loop_);
    uv_async_init(&loop_, &async_, [](uv_async_t* a) { static_cast<BareLoop*>(a->data)->drain(); });
    async_.data = this;
    thread_ = std::thread([this] { uv_run(&loop_, UV_RUN_DEFAULT); });
  }
  ~BareLoop() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    uv_async_send(&async_);
    thread_.join();
    uv_loop_close(&loop_);
  }
  BareLoop(const BareLoop&) = delete;
  BareLoop& operator=(const BareLoop&) = delete;

  void post(std::function<void()> fn) {
    bool wake;
    {
      std::lock_guard lock(mutex_);
      wake = queue_.empty();
      queue_.push_back(std::move(fn));
    }
    if (wake) uv_async_send(&async_);
  }

 private:
  void drain() {
    bool stop;
    {
      std::lock_guard lock(mutex_);
      batch_.swap(queue_);  // both vectors keep their capacity
      stop = stopping_;
    }
    for (auto& fn : batch_) fn();
    batch_.clear();
    if (stop) uv_close(reinterpret_cast<uv_handle_t*>(&async_), nullptr);
  }

  uv_loop_t loop_{};
  uv_async_t async_{};
  std::mutex mutex_;
  std::vector<std::function<void()>> queue_;  // guarded by mutex_
  bool stopping_ = false;                     // guarded by mutex_
  std::vector<std::function<void()>> batch_;  // loop thread only
  std::thread thread_;
};

// Connections need a registered scheme but no I/O: a module that never
// makes a request.
class NullModule final : public Module {
 public:
  std::string_view scheme() const override { return "uvinet-bench"; }
  std::uint16_t default_port() const override { return 1; }
  std::unique_ptr<ProtocolRequest> open_request(RequestEnv&) override { return nullptr; }
};

[[noreturn]] void fail(const std::string& what, const Error& error) {
  fmt::print(stderr, "uvinet-bench dispatch: {}: {}\n", what, error.message());
  throw CLI::RuntimeError(1);
}

// A session and `n` connection handles to post to, closed at the end.
class Handles {
 public:
  explicit Handles(unsigned n) {
    if (auto ok = register_module(std::make_shared<NullModule>());
        !ok && ok.error() != errc::module_conflict) {
      fail("register_module", ok.error());
    }
    auto session = Session::open();
    if (!session) fail("Session::open", session.error());
    session_ = *session;
    for (unsigned i = 0; i < n; ++i) {
      auto connection = session_.connect(fmt::format("uvinet-bench://host{}/", i));
      if (!connection) fail("Session::connect", connection.error());
      connections_.push_back(*connection);
    }
  }
  ~Handles() {
    for (auto& c : connections_) (void)c.close();
    // Wait for the session's last callback, so the runtime's threads are
    // done before the process exits. Shared: the callback may outlive a
    // wait that timed out.
    auto closed = std::make_shared<std::promise<void>>();
    auto done = closed->get_future();
    auto on_status = [closed](Handle, Context, Status, const StatusInfo&) { closed->set_value(); };
    (void)session_.set_status_callback(on_status, status_bit(Status::handle_closing));
    if (session_.close()) done.wait_for(std::chrono::seconds(10));
  }
  Handles(const Handles&) = delete;
  Handles& operator=(const Handles&) = delete;

  const std::vector<Connection>& connections() const { return connections_; }

 private:
  Session session_;
  std::vector<Connection> connections_;
};

struct Case {
  std::string name;   // for --json
  std::string label;  // for the table
  std::function<Sample()> measure;
  std::vector<Sample> runs;
};

// Runs on producer threads, where an exception would only terminate: a
// failed post ends the process at once.
void post_or_die(const Handle& handle, std::function<void()> fn, CallbackModel model) {
  if (auto ok = handle.post(std::move(fn), model); !ok) {
    fmt::print(stderr, "uvinet-bench dispatch: Handle::post: {}\n", ok.error().message());
    std::_Exit(1);
  }
}

// Posts round robin over the first `n` handles (a power of two, so a mask
// picks the handle).
auto spread_post(const std::vector<Connection>& handles, unsigned n, CallbackModel model) {
  return [&handles, mask = n - 1, model](std::uint64_t i, std::function<void()> fn) {
    post_or_die(handles[i & mask], std::move(fn), model);
  };
}

// The median; NaN if any value is.
double median(std::vector<double> v) {
  if (std::any_of(v.begin(), v.end(), [](double x) { return std::isnan(x); })) return NAN;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

struct Summary {
  Sample best;  // best throughput; median-run latencies and CPU costs
  double ratio = 0;
};

Summary summarize(const Case& c, double baseline_per_s) {
  Summary s;
  auto each = [&](double Sample::*field) {
    std::vector<double> v;
    for (const auto& r : c.runs) v.push_back(r.*field);
    return v;
  };
  const auto per_s = each(&Sample::per_s);
  s.best.per_s = *std::max_element(per_s.begin(), per_s.end());
  s.best.post_cpu_ns = median(each(&Sample::post_cpu_ns));
  s.best.callback_cpu_ns = median(each(&Sample::callback_cpu_ns));
  s.best.load_p50_us = median(each(&Sample::load_p50_us));
  s.best.load_p99_us = median(each(&Sample::load_p99_us));
  s.best.idle_p50_us = median(each(&Sample::idle_p50_us));
  s.best.idle_p99_us = median(each(&Sample::idle_p99_us));
  s.ratio = baseline_per_s > 0 ? s.best.per_s / baseline_per_s : 0;
  return s;
}

// Each run's throughput over the baseline's in the same round: measured
// back to back, so less exposed to drift than best over best.
std::string run_ratios(const Case& c, const Case& baseline) {
  std::string out;
  for (std::size_t r = 0; r < c.runs.size(); ++r) {
    out += fmt::format("{}{:.3f}", r ? ", " : "", c.runs[r].per_s / baseline.runs[r].per_s);
  }
  return out;
}

// `x` with one decimal, or `none` when it is NaN.
std::string number(double x, const char* none) {
  return std::isnan(x) ? none : fmt::format("{:.1f}", x);
}

// Prints the cases that ran; cases[0] is the baseline.
void report(const Config& config, const std::vector<Case>& cases, std::size_t target_case) {
  const double baseline = summarize(cases[0], 0).best.per_s;
  auto verdict = [&](std::size_t i, const Summary& s) -> std::string {
    if (i != target_case) return "";
    return s.ratio >= kTarget ? "PASS" : "MISS";
  };
  if (config.json) {
    fmt::print(
        "{{\"benchmark\": \"dispatch\", \"count\": {}, \"idle_count\": {}, \"repeat\": {}, "
        "\"producers\": {}, \"handles\": {}, \"cpus\": {}, \"target_ratio\": {}, "
        "\"cases\": [",
        config.count, config.idle_count, config.repeat, config.producers, config.handles,
        std::thread::hardware_concurrency(), kTarget);
    const char* separator = "";
    for (std::size_t i = 0; i < cases.size(); ++i) {
      if (cases[i].runs.empty()) continue;
      const Summary s = summarize(cases[i], baseline);
      const std::string target =
          verdict(i, s).empty() ? "null" : fmt::format("\"{}\"", verdict(i, s));
      fmt::print(
          "{}\n  {{\"case\": \"{}\", \"callbacks_per_s\": {:.0f}, \"ratio\": {:.3f}, "
          "\"run_ratios\": [{}], \"post_cpu_ns\": {}, \"callback_cpu_ns\": {}, "
          "\"load_p50_us\": {:.2f}, \"load_p99_us\": {:.2f}, "
          "\"idle_p50_us\": {:.2f}, \"idle_p99_us\": {:.2f}, \"target\": {}}}",
          separator, cases[i].name, s.best.per_s, s.ratio, run_ratios(cases[i], cases[0]),
          number(s.best.post_cpu_ns, "null"), number(s.best.callback_cpu_ns, "null"),
          s.best.load_p50_us, s.best.load_p99_us, s.best.idle_p50_us, s.best.idle_p99_us, target);
      separator = ",";
    }
    fmt::print("]}}\n");
    return;
  }
  fmt::print(
      "dispatch: {} callbacks per run ({} idle), best of {} runs, {} producer(s), {} CPUs, "
      "libuv {}\n\n",
      config.count, config.idle_count, config.repeat, config.producers,
      std::thread::hardware_concurrency(), uv_version_string());
  fmt::print("{:<38} {:>12} {:>8} {:>8} {:>8} {:>9} {:>9} {:>9} {:>9}  {}\n", "case", "callbacks/s",
             "vs base", "post ns", "cb ns", "load p50", "load p99", "idle p50", "idle p99",
             fmt::format("target {:.2f}x", kTarget));
  for (std::size_t i = 0; i < cases.size(); ++i) {
    if (cases[i].runs.empty()) continue;
    const Summary s = summarize(cases[i], baseline);
    fmt::print("{:<38} {:>12.0f} {:>7.2f}x {:>8} {:>8} {:>9.2f} {:>9.2f} {:>9.2f} {:>9.2f}  {}\n",
               cases[i].label, s.best.per_s, s.ratio, number(s.best.post_cpu_ns, "-"),
               number(s.best.callback_cpu_ns, "-"), s.best.load_p50_us, s.best.load_p99_us,
               s.best.idle_p50_us, s.best.idle_p99_us, verdict(i, s));
  }
  if (!cases[target_case].runs.empty()) {
    fmt::print("\ntarget: '{}' at >= {:.2f}x the baseline (best over best); per run: {}\n",
               cases[target_case].label, kTarget, run_ratios(cases[target_case], cases[0]));
  }
  fmt::print(
      "post ns, cb ns: CPU time per post of the producer, per callback of the consumer thread\n"
      "  ('-': several worker threads); they do not count waiting for a CPU on a busy machine.\n"
      "latencies in µs, post to callback start: 'load' = 1 in 64 items of the flood "
      "(mostly queueing),\n  'idle' = one item in flight at a time (wakeup latency).\n");
}

void run_dispatch(const Config& config) {
  BareLoop bare;
  Handles handles(config.handles);
  const auto& hs = handles.connections();
  const auto short_cb = CallbackModel::short_callback;
  const auto long_cb = CallbackModel::long_callback;
  const std::string n = std::to_string(config.handles);

  std::vector<Case> cases;
  auto add = [&](std::string name, std::string label, bool one_consumer, auto post) {
    cases.push_back({std::move(name),
                     std::move(label),
                     [&config, one_consumer, post] { return measure(config, one_consumer, post); },
                     {}});
  };
  add("baseline", "libuv: uv_async_send + mutex queue", true,
      [&bare](std::uint64_t, std::function<void()> fn) { bare.post(std::move(fn)); });
  add("short_1", "short, 1 handle (strand)", true, spread_post(hs, 1, short_cb));
  add("short_" + n, "short, " + n + " handles", true, spread_post(hs, config.handles, short_cb));
  add("long_" + n, "long, " + n + " handles (worker pool)", false,
      spread_post(hs, config.handles, long_cb));
  add("long_1", "long, 1 handle (serial by design)", false, spread_post(hs, 1, long_cb));
  const std::size_t target_case = 1;

  auto skipped = [&](const Case& c) {
    return !config.only.empty() && &c != &cases[0] &&
           std::find(config.only.begin(), config.only.end(), c.name) == config.only.end();
  };
  for (int r = 0; r < config.repeat; ++r) {
    for (auto& c : cases) {
      if (skipped(c)) continue;
      if (!config.json) fmt::print(stderr, "run {}/{}: {}\n", r + 1, config.repeat, c.label);
      c.runs.push_back(c.measure());
    }
  }
  report(config, cases, target_case);
}

}  // namespace

void add_dispatch_command(CLI::App& app) {
  auto config = std::make_shared<Config>();
  auto* cmd = app.add_subcommand(
      "dispatch", "Callbacks per second and post-to-callback latency, against bare libuv");
  cmd->add_option("--count", config->count, "Callbacks per flood run")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--idle-count", config->idle_count, "Callbacks per idle-latency run")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--repeat", config->repeat, "Runs per case")
      ->capture_default_str()
      ->check(CLI::Range(1, 100));
  cmd->add_option("--producers", config->producers, "Threads posting in the flood runs")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  cmd->add_option("--handles", config->handles, "Handles of the spread cases (a power of two)")
      ->capture_default_str()
      ->check(CLI::Range(1u, 4096u))
      ->check([](const std::string& s) {
        const auto n = std::stoul(s);
        return (n & (n - 1)) == 0 ? std::string() : std::string("not a power of two");
      });
  cmd->add_option("--only", config->only,
                  "Run only these cases (and the baseline): short_1, short_N, long_N, long_1");
  cmd->add_flag("--json", config->json, "Print JSON instead of a table");
  cmd->callback([config] { run_dispatch(*config); });
}

}  // namespace uvinet::bench

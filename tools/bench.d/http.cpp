// uvinet-bench http: uvinet's HTTP/1.1 client against libcurl's multi
// interface and wrk, all against one local nginx, in one run:
//
//   rps         1 KiB GETs over N keep-alive connections for S seconds;
//               every connection has one request in flight, the next one
//               issued as soon as the last completed.
//   throughput  a large file downloaded four times at once: MB/s, and the
//               client's CPU time (getrusage of this process: the clients
//               run one after the other in it, nginx is another process),
//               after an unmeasured warm-up round.
//   idle        thousands of idle keep-alive connections held by uvinet,
//               then by libcurl: resident memory per connection.
//
// This is a report, not a test: the targets are the issue's, the markers
// say whether this run met them. The machine's other load shows in the
// numbers; --repeat takes the best of several rounds.
#include <sys/resource.h>
#include <uv.h>

#include <curl/curl.h>
#include <fmt/core.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "bench.hpp"
#include "http_bench.hpp"
#include "nginx.hpp"
#include "nginx_bench_options.hpp"
#include "report.hpp"

namespace uvinet::bench {
namespace {

using namespace http;

// The targets.
constexpr double kRpsVsCurl = 1.2;         // uvinet / libcurl, requests per second
constexpr double kRpsVsWrk = 0.8;          // uvinet / wrk
constexpr double kThroughputVsCurl = 1.0;  // uvinet / libcurl, MB/s
constexpr double kCpuVsCurl = 1.0;         // uvinet / libcurl CPU seconds, at most
constexpr double kIdleKiB = 16;            // KiB per idle connection, at most

struct Config : NginxBenchConfig {
  Config() { downloads = 4; }
  std::vector<std::string> clients;  // clients to run; empty: all (for profiling one)
  unsigned connections = 64;
  unsigned idle_connections = 10'000;

  bool uses(const std::string& client) const {
    return clients.empty() || std::find(clients.begin(), clients.end(), client) != clients.end();
  }
};

std::string error_note(std::uint64_t errors, const std::string& first) {
  if (!errors) return "";
  return fmt::format("  [{} errors; first: {}]", errors, first);
}

// Raises the descriptor limit to the hard limit (nginx, started later,
// inherits it); returns the limit.
rlim_t raise_descriptor_limit() {
  rlimit limit{};
  getrlimit(RLIMIT_NOFILE, &limit);
  limit.rlim_cur = limit.rlim_max;
  setrlimit(RLIMIT_NOFILE, &limit);
  getrlimit(RLIMIT_NOFILE, &limit);
  return limit.rlim_cur;
}

void rps_line(const char* name, const Best<RpsResult>& best) {
  if (!best.result) return;
  const RpsResult& r = *best.result;
  fmt::print("  {:<22} {:>10.0f} req/s  {:>6.2f} µs CPU/req  ({} requests in {:.2f} s){}{}\n", name,
             r.per_s(), r.cpu_us_per_request(), r.requests, r.seconds,
             error_note(r.errors, r.first_error), best.rounds(0));
}

void rps_ratio(const char* measure, const Best<RpsResult>& uv, const Best<RpsResult>& base,
               double target) {
  if (!uv.result || !base.result) return;
  add_ratio(measure, uv.result->per_s(), base.result->per_s(), target, true,
            !uv.result->errors && !base.result->errors, 0);
}

void run_rps(const Config& config, const BenchNginx& nginx) {
  const RpsRun run{nginx.url("/1k.bin"), config.connections, static_cast<double>(config.seconds),
                   "", false};
  fmt::print("[rps] 1 KiB GETs, {} keep-alive connections, {} s per client, best of {}\n",
             config.connections, config.seconds, config.repeat);
  Best<RpsResult> uv, curl, wrk;
  // Round robin, so drift on a shared machine hits the clients alike, and
  // uvinet runs first only every other round (the first run of a process
  // pays for its page faults).
  for (int r = 0; r < config.repeat; ++r) {
    if (r % 2 == 0) uv.measure(config, "rps", r, "uvinet", uvinet_rps, run);
    curl.measure(config, "rps", r, "libcurl", curl_rps, run);
    wrk.measure(config, "rps", r, "wrk", wrk_rps, run);
    if (r % 2 == 1) uv.measure(config, "rps", r, "uvinet", uvinet_rps, run);
  }
  rps_line("uvinet", uv);
  rps_line("libcurl multi", curl);
  rps_line(fmt::format("wrk -t1 -c{}", config.connections).c_str(), wrk);
  fmt::print("\n");
  rps_ratio("rps: uvinet / libcurl multi, req/s", uv, curl, kRpsVsCurl);
  rps_ratio("rps: uvinet / wrk, req/s", uv, wrk, kRpsVsWrk);
}

void run_throughput(const Config& config, const BenchNginx& nginx) {
  const std::uint64_t size = std::uint64_t{config.mib} << 20;
  const ThroughputRun run{nginx.url("/big.bin"), config.downloads, size, ""};
  // libcurl as shipped reads 16 KiB at a time; uvinet's bench client reads
  // into 1 MiB buffers. Both are measured: libcurl as most applications run
  // it, and with a receive buffer as large as uvinet's.
  ThroughputRun large_buffer = run;
  large_buffer.curl_buffer_size = 1 << 20;
  fmt::print("[throughput] {} parallel downloads of {} MiB, best of {} after a warm-up round\n",
             config.downloads, config.mib, config.repeat);
  // Unmeasured: the first large download in the process pays for faulting
  // in its heap, which would count against whichever client goes first.
  fmt::print(stderr, "throughput warm-up\n");
  if (config.uses("uvinet")) (void)uvinet_throughput(run);
  if (config.uses("libcurl")) (void)curl_throughput(run);
  Best<ThroughputResult> uv, curl, curl_large;
  for (int r = 0; r < config.repeat; ++r) {  // alternating who goes first, as above
    if (r % 2 == 0) uv.measure(config, "throughput", r, "uvinet", uvinet_throughput, run);
    curl.measure(config, "throughput", r, "libcurl", curl_throughput, run);
    curl_large.measure(config, "throughput", r, "libcurl", curl_throughput, large_buffer);
    if (r % 2 == 1) uv.measure(config, "throughput", r, "uvinet", uvinet_throughput, run);
  }
  print_throughput_line("uvinet", uv);
  print_throughput_line("libcurl multi", curl);
  print_throughput_line("libcurl, 1 MiB", curl_large);
  fmt::print("\n");
  if (!uv.result) return;
  const ThroughputResult& u = *uv.result;
  auto add_ratios = [&u](const char* against, const Best<ThroughputResult>& other) {
    if (!other.result) return;
    const ThroughputResult& c = *other.result;
    const bool valid = u.error.empty() && c.error.empty();
    add_ratio(fmt::format("throughput: uvinet / {}, MB/s", against), u.mb_per_s(), c.mb_per_s(),
              kThroughputVsCurl, true, valid, 1);
    add_ratio(fmt::format("throughput: uvinet / {}, CPU s", against), u.cpu_seconds, c.cpu_seconds,
              kCpuVsCurl, false, valid, 3);
  };
  add_ratios("libcurl", curl);
  add_ratios("libcurl-1M", curl_large);
}

void idle_line(const char* name, const IdleResult& r) {
  fmt::print("  {:<14} {:>6} new sockets idle, RSS +{:.1f} MiB: {:.2f} KiB per connection{}\n",
             name, r.connections, static_cast<double>(r.rss_delta) / (1 << 20),
             r.bytes_per_connection() / 1024, r.error.empty() ? "" : "  [" + r.error + "]");
}

void run_idle(const Config& config, const BenchNginx& nginx, unsigned connections) {
  fmt::print("[idle] {} idle keep-alive connections{}\n", connections,
             connections < config.idle_connections
                 ? fmt::format(" (scaled down from {}: descriptor limit)", config.idle_connections)
                 : "");
  fmt::print(stderr, "idle: uvinet, {} connections\n", connections);
  const IdleResult uv = uvinet_idle(nginx.url("/1k.bin"), connections);
  idle_line("uvinet", uv);
  if (config.uses("libcurl")) {
    fmt::print(stderr, "idle: libcurl, {} connections\n", connections);
    idle_line("libcurl multi", curl_idle(nginx.url("/1k.bin"), connections));
  }
  fmt::print(
      "  (RSS of the whole process, from /proc/self/statm, after one request on each\n"
      "  connection; freed request state the allocator keeps counts too)\n\n");
  const double kib = uv.bytes_per_connection() / 1024;
  Verdict v;
  v.measure = "idle: uvinet KiB per connection";
  v.uvinet = fmt::format("{:.2f}", kib);
  v.value = kib;
  v.target = kIdleKiB;
  v.higher_is_better = false;
  // A few connects may fail when the kernel's accept queue overflows
  // (net.core.somaxconn) on a loaded machine: the figure is still per
  // socket held, and the line above says how many failed.
  v.valid = uv.connections > 0;
  summary.push_back(std::move(v));
}

void run_http(const Config& config) {
  const rlim_t fds = raise_descriptor_limit();
  // The client needs a descriptor per connection and some for itself.
  const unsigned idle =
      static_cast<unsigned>(std::min<rlim_t>(config.idle_connections, fds > 256 ? fds - 256 : 0));
  BenchNginx::Options options;
  options.workers = config.workers;
  options.max_connections = std::max(config.connections, config.downloads) + 64;
  if (config.runs("idle")) options.max_connections = std::max(options.max_connections, idle + 64);
  if (config.runs("throughput")) options.big_file_size = std::uint64_t{config.mib} << 20;
  fmt::print(stderr, "starting nginx{}\n", options.big_file_size ? " (writing the big file)" : "");
  BenchNginx nginx(options);
  fmt::print("http: nginx on {} ({} workers), {} CPUs, libuv {}, {}, descriptor limit {}\n\n",
             nginx.url(""), config.workers, std::thread::hardware_concurrency(),
             uv_version_string(), curl_version(), fds);
  if (config.runs("rps")) run_rps(config, nginx);
  if (config.runs("throughput")) run_throughput(config, nginx);
  if (config.runs("idle")) run_idle(config, nginx, idle);
  print_summary();
}

}  // namespace

void add_http_command(CLI::App& app) {
  auto config = std::make_shared<Config>();
  auto* cmd = app.add_subcommand(
      "http", "HTTP/1.1 against libcurl multi and wrk on a local nginx: req/s, MB/s, idle memory");
  add_nginx_bench_options(*cmd, *config, {"rps", "throughput", "idle"},
                          "Seconds per client in the rps part", 256);
  cmd->add_option("--connections", config->connections, "Keep-alive connections in the rps part")
      ->capture_default_str()
      ->check(CLI::Range(1u, 4096u));
  cmd->add_option("--idle-connections", config->idle_connections,
                  "Idle connections in the idle part (fewer if the descriptor limit is lower)")
      ->capture_default_str()
      ->check(CLI::Range(1u, 1'000'000u));
  cmd->add_option("--clients", config->clients, "Run only these clients (to profile one)")
      ->check(CLI::IsMember({"uvinet", "libcurl", "wrk"}));
  run_reporting_errors(*cmd, [config] { run_http(*config); });
}

}  // namespace uvinet::bench

// uvinet-bench https: uvinet's HTTPS client (mbedTLS 2.28) against libcurl's
// multi interface (OpenSSL), both against one local nginx serving TLS 1.2
// with one cipher suite and curve, in one run:
//
//   handshakes  N clients, each GETting 1 KiB on a new connection per
//               request (a full handshake each: nginx keeps no sessions and
//               gives no tickets), for S seconds; the certificate verified
//               against the generated one as the only CA.
//   throughput  one large file (or --downloads at once) over HTTPS: MB/s
//               and the client's CPU time, after an unmeasured warm-up.
//
// A report, not a test: the targets are the issue's; the machine's other
// load shows in the numbers, and --repeat takes the best of several rounds.
#include <uv.h>

#include <curl/curl.h>
#include <fmt/core.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <map>
#include <memory>
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
constexpr double kHandshakesVsCurl = 0.8;  // uvinet / libcurl, handshakes per second
constexpr double kThroughputVsCurl = 0.9;  // uvinet / libcurl, MB/s

struct Config : NginxBenchConfig {
  unsigned clients = 16;
  BenchNginx::Tls key = BenchNginx::Tls::ecdsa_p256;

  bool uses(const std::string&) const { return true; }  // for Best::measure
};

std::string ratio_note(double uvinet, double curl) {
  return curl > 0 ? fmt::format("{:.3f}x", uvinet / curl) : "-";
}

void handshake_line(const char* name, const Best<RpsResult>& best) {
  if (!best.result) return;
  const RpsResult& r = *best.result;
  std::string errors;
  if (r.errors) errors = fmt::format("  [{} errors; first: {}]", r.errors, r.first_error);
  fmt::print("  {:<16} {:>9.0f} handshakes/s  {:>8.1f} µs CPU/handshake  ({} in {:.2f} s){}{}\n",
             name, r.per_s(), r.cpu_us_per_request(), r.requests, r.seconds, errors,
             best.rounds(0));
}

void run_handshakes(const Config& config, const BenchNginx& nginx) {
  const RpsRun run{nginx.url("/1k.bin"), config.clients, static_cast<double>(config.seconds),
                   nginx.ca_file(), true};
  fmt::print(
      "[handshakes] 1 KiB GETs, each on a new connection, {} clients, {} s per client, "
      "best of {}\n",
      config.clients, config.seconds, config.repeat);
  Best<RpsResult> uv, curl;
  // Alternating who goes first, so drift on a shared machine hits both.
  for (int r = 0; r < config.repeat; ++r) {
    if (r % 2 == 0) uv.measure(config, "handshakes", r, "uvinet", uvinet_rps, run);
    curl.measure(config, "handshakes", r, "libcurl", curl_rps, run);
    if (r % 2 == 1) uv.measure(config, "handshakes", r, "uvinet", uvinet_rps, run);
  }
  handshake_line("uvinet", uv);
  handshake_line("libcurl multi", curl);
  const RpsResult& u = *uv.result;
  const RpsResult& c = *curl.result;
  fmt::print("  CPU per handshake, uvinet / libcurl: {}\n\n",
             ratio_note(u.cpu_us_per_request(), c.cpu_us_per_request()));
  add_ratio("handshakes: uvinet / libcurl, per s", u.per_s(), c.per_s(), kHandshakesVsCurl, true,
            !u.errors && !c.errors, 0);
}

void run_throughput(const Config& config, const BenchNginx& nginx) {
  const std::uint64_t size = std::uint64_t{config.mib} << 20;
  const ThroughputRun run{nginx.url("/big.bin"), config.downloads, size, nginx.ca_file()};
  fmt::print("[throughput] {} download(s) of {} MiB at once, best of {} after a warm-up round\n",
             config.downloads, config.mib, config.repeat);
  // Unmeasured: the first large download in the process pays for faulting
  // in its heap, which would count against whichever client goes first.
  fmt::print(stderr, "throughput warm-up\n");
  (void)uvinet_throughput(run);
  (void)curl_throughput(run);
  Best<ThroughputResult> uv, curl;
  for (int r = 0; r < config.repeat; ++r) {  // alternating who goes first, as above
    if (r % 2 == 0) uv.measure(config, "throughput", r, "uvinet", uvinet_throughput, run);
    curl.measure(config, "throughput", r, "libcurl", curl_throughput, run);
    if (r % 2 == 1) uv.measure(config, "throughput", r, "uvinet", uvinet_throughput, run);
  }
  print_throughput_line("uvinet", uv);
  print_throughput_line("libcurl multi", curl);
  const ThroughputResult& u = *uv.result;
  const ThroughputResult& c = *curl.result;
  fmt::print("  CPU seconds, uvinet / libcurl: {}\n\n", ratio_note(u.cpu_seconds, c.cpu_seconds));
  add_ratio("https throughput: uvinet / libcurl, MB/s", u.mb_per_s(), c.mb_per_s(),
            kThroughputVsCurl, true, u.error.empty() && c.error.empty(), 1);
}

void run_https(const Config& config) {
  BenchNginx::Options options;
  options.workers = config.workers;
  options.max_connections = std::max(config.clients, config.downloads) * 2 + 64;
  options.tls = config.key;
  if (config.runs("throughput")) options.big_file_size = std::uint64_t{config.mib} << 20;
  fmt::print(stderr, "starting nginx{}\n", options.big_file_size ? " (writing the big file)" : "");
  BenchNginx nginx(options);
  fmt::print("https: nginx on {} ({} workers), {} CPUs, libuv {}, {}\n  {}\n\n", nginx.url(""),
             config.workers, std::thread::hardware_concurrency(), uv_version_string(),
             curl_version(), nginx.tls_description());
  if (config.runs("handshakes")) run_handshakes(config, nginx);
  if (config.runs("throughput")) run_throughput(config, nginx);
  print_summary();
}

}  // namespace

void add_https_command(CLI::App& app) {
  auto config = std::make_shared<Config>();
  auto* cmd = app.add_subcommand(
      "https", "HTTPS against libcurl multi on a local nginx: full handshakes/s, download MB/s");
  add_nginx_bench_options(*cmd, *config, {"handshakes", "throughput"},
                          "Seconds per client in the handshakes part", 64);
  cmd->add_option("--clients", config->clients, "Concurrent clients in the handshakes part")
      ->capture_default_str()
      ->check(CLI::Range(1u, 1024u));
  cmd->add_option("--key", config->key, "The certificate's key: ecdsa (P-256) or rsa (2048 bits)")
      ->transform(CLI::CheckedTransformer(std::map<std::string, BenchNginx::Tls>{
          {"ecdsa", BenchNginx::Tls::ecdsa_p256}, {"rsa", BenchNginx::Tls::rsa_2048}}))
      ->default_str("ecdsa");
  run_reporting_errors(*cmd, [config] { run_https(*config); });
}

}  // namespace uvinet::bench

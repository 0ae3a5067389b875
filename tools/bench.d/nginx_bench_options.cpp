#include "nginx_bench_options.hpp"

#include <fmt/core.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <exception>

namespace uvinet::bench {

bool NginxBenchConfig::runs(const std::string& part) const {
  return only.empty() || std::find(only.begin(), only.end(), part) != only.end();
}

void add_nginx_bench_options(CLI::App& cmd, NginxBenchConfig& config,
                             const std::vector<std::string>& parts, const std::string& seconds_help,
                             unsigned max_downloads) {
  cmd.add_option("--only", config.only, "Run only these parts")->check(CLI::IsMember(parts));
  cmd.add_option("--seconds", config.seconds, seconds_help)
      ->capture_default_str()
      ->check(CLI::Range(1, 3600));
  cmd.add_option("--mib", config.mib, "Size of the downloaded file in MiB")
      ->capture_default_str()
      ->check(CLI::Range(1u, 65536u));
  cmd.add_option("--downloads", config.downloads, "Parallel downloads in the throughput part")
      ->capture_default_str()
      ->check(CLI::Range(1u, max_downloads));
  cmd.add_option("--workers", config.workers, "nginx worker processes")
      ->capture_default_str()
      ->check(CLI::Range(1u, 64u));
  cmd.add_option("--repeat", config.repeat, "Rounds of each timed part (best of)")
      ->capture_default_str()
      ->check(CLI::Range(1, 100));
}

void run_reporting_errors(CLI::App& cmd, std::function<void()> run) {
  cmd.callback([&cmd, run = std::move(run)] {
    try {
      run();
    } catch (const std::exception& e) {
      fmt::print(stderr, "uvinet-bench {}: {}\n", cmd.get_name(), e.what());
      throw CLI::RuntimeError(1);
    }
  });
}

}  // namespace uvinet::bench

// What the http and https subcommands share on their command lines: the
// parts to run, the time per client, the download, nginx's workers and the
// rounds, with the same names, ranges and help in both.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace uvinet::bench {

struct NginxBenchConfig {
  std::vector<std::string> only;  // parts to run; empty: all
  int seconds = 5;                // per client, in the timed part
  unsigned mib = 256;             // size of the downloaded file
  unsigned downloads = 1;         // parallel downloads
  unsigned workers = 2;           // nginx worker processes
  int repeat = 1;                 // rounds of each part (best of)

  bool runs(const std::string& part) const;
};

/// Adds --only (one of `parts`), --seconds (help: `seconds_help`), --mib,
/// --downloads (at most `max_downloads`), --workers and --repeat.
void add_nginx_bench_options(CLI::App& cmd, NginxBenchConfig& config,
                             const std::vector<std::string>& parts, const std::string& seconds_help,
                             unsigned max_downloads);

/// Runs `run` when `cmd` is chosen; an exception it throws is reported as
/// "uvinet-bench <cmd's name>: <what>" and ends the process with status 1.
void run_reporting_errors(CLI::App& cmd, std::function<void()> run);

}  // namespace uvinet::bench

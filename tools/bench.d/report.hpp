// uvinet-bench http and https: the summary table both print, and the
// best-of-rounds bookkeeping both use.
#pragma once

#include <fmt/core.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace uvinet::bench {

// One line of the summary.
struct Verdict {
  std::string measure;
  std::string uvinet, baseline;
  std::optional<double> ratio;  // none: an absolute figure
  double value = 0;             // what is compared with the target
  double target = 0;
  bool higher_is_better = true;
  bool valid = true;  // false: a client failed, no verdict
};

// The lines of this run's summary: one subcommand runs per process.
inline std::vector<Verdict> summary;

/// A line comparing uvinet with a baseline: ratio uvinet / baseline.
void add_ratio(std::string measure, double uvinet, double baseline, double target, bool higher,
               bool valid, int decimals);
/// The table, with PASS / BELOW against each target.
void print_summary();

// One client's best result over the rounds; empty when it did not run.
// Config has `repeat` and `uses(client)`.
template <class Result>
struct Best {
  std::optional<Result> result;
  std::vector<double> scores;  // every round's, to show the spread

  template <class Config>
  void measure(const Config& config, const char* part, int round, const char* client,
               Result (*run)(const typename Result::Run&), const typename Result::Run& args) {
    if (!config.uses(client)) return;
    fmt::print(stderr, "{} round {}/{}: {}\n", part, round + 1, config.repeat, client);
    Result now = run(args);
    scores.push_back(now.score());
    if (!result || now.score() > result->score()) result = std::move(now);
  }
  // "" for one round, else "  rounds: a b c".
  std::string rounds(int decimals) const {
    if (scores.size() < 2) return "";
    std::string out = "  rounds:";
    for (double x : scores) out += fmt::format(" {:.{}f}", x, decimals);
    return out;
  }
};

}  // namespace uvinet::bench

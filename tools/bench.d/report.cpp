#include "report.hpp"

#include "http_bench.hpp"

namespace uvinet::bench {

void add_ratio(std::string measure, double uvinet, double baseline, double target, bool higher,
               bool valid, int decimals) {
  Verdict v;
  v.measure = std::move(measure);
  v.uvinet = fmt::format("{:.{}f}", uvinet, decimals);
  v.baseline = fmt::format("{:.{}f}", baseline, decimals);
  v.valid = valid && baseline > 0;
  v.ratio = v.valid ? uvinet / baseline : 0;
  v.value = *v.ratio;
  v.target = target;
  v.higher_is_better = higher;
  summary.push_back(std::move(v));
}

void print_summary() {
  fmt::print("{:<38} {:>12} {:>12} {:>8} {:>9}\n", "summary", "uvinet", "baseline", "ratio",
             "target");
  bool all_met = true;
  for (const auto& v : summary) {
    const bool pass = v.higher_is_better ? v.value >= v.target : v.value <= v.target;
    all_met = all_met && v.valid && pass;
    const std::string target =
        fmt::format("{}{:.2f}{}", v.higher_is_better ? ">= " : "<= ", v.target, v.ratio ? "x" : "");
    fmt::print("{:<38} {:>12} {:>12} {:>8} {:>9}  {}\n", v.measure, v.uvinet,
               v.baseline.empty() ? "-" : v.baseline,
               v.ratio ? fmt::format("{:.3f}x", *v.ratio) : "-", target,
               !v.valid ? "n/a (errors)"
               : pass   ? "PASS"
                        : "BELOW");
  }
  fmt::print(
      "{} (CPU and memory: lower is better).\n",
      all_met ? "Every target was met in this run" : "BELOW: this run did not reach the target");
}

namespace http {

void print_throughput_line(const char* name, const Best<ThroughputResult>& best) {
  if (!best.result) return;
  const ThroughputResult& r = *best.result;
  fmt::print("  {:<22} {:>10.1f} MB/s   CPU {:.3f} s  ({} bytes in {:.3f} s){}{}\n", name,
             r.mb_per_s(), r.cpu_seconds, r.bytes, r.seconds,
             r.error.empty() ? "" : "  [failed: " + r.error + "]", best.rounds(1));
}

}  // namespace http
}  // namespace uvinet::bench

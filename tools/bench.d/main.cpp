// uvinet-bench: the benchmarks behind tools/bench. One subcommand per
// benchmark.
#include <CLI/CLI.hpp>

#include "bench.hpp"

int main(int argc, char** argv) {
  CLI::App app{"uvinet benchmarks"};
  app.require_subcommand(1);
  uvinet::bench::add_dispatch_command(app);
#if UVINET_BENCH_HTTP  // built when libcurl, its baseline, is there
  uvinet::bench::add_http_command(app);
  uvinet::bench::add_https_command(app);
#endif
  CLI11_PARSE(app, argc, argv);
  return 0;
}

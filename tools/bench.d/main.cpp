// uvinet-bench: the benchmarks behind tools/bench. One subcommand per
// benchmark; `http` and `https` join `dispatch` here when they exist.
#include <CLI/CLI.hpp>

#include "bench.hpp"

int main(int argc, char** argv) {
  CLI::App app{"uvinet benchmarks"};
  app.require_subcommand(1);
  uvinet::bench::add_dispatch_command(app);
  CLI11_PARSE(app, argc, argv);
  return 0;
}

// uvinet: command-line tools on the uvinet runtime. `uvinet get` downloads
// URLs concurrently (tools/get/). More subcommands join `get` here.
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <csignal>
#include <fstream>
#include <sstream>

#include "cli.hpp"
#include "engine.hpp"

namespace {

/// The -d body: the text itself, or the content of FILE for "@FILE".
tl::expected<std::string, std::string> load_body(const uvinet::get::GetOptions& options) {
  if (options.data.empty() || options.data.front() != '@') return options.data;
  const std::string path = options.data.substr(1);
  std::ifstream in(path, std::ios::binary);
  std::ostringstream body;
  if (!(in && body << in.rdbuf()) && !in.eof()) {
    return tl::unexpected("-d @" + path + ": cannot read " + path);
  }
  return body.str();
}

int run_get(uvinet::get::GetOptions& options) {
  if (auto problem = uvinet::get::check_options(options)) {
    fmt::print(stderr, "uvinet get: {}\nRun with --help for more information.\n", *problem);
    return 2;
  }
  auto body = load_body(options);
  if (!body) {
    fmt::print(stderr, "uvinet get: {}\n", body.error());
    return 2;
  }
  // libuv writes to sockets with write(2): a peer that went away must be an
  // error on that transfer, not the end of the process (SessionConfig::loop).
  std::signal(SIGPIPE, SIG_IGN);
  uvinet::get::Engine engine(options, std::move(*body));
  return engine.run();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"uvinet: Internet client tools on the uvinet runtime"};
  app.require_subcommand(1);
  uvinet::get::GetOptions get_options;
  CLI::App* get = uvinet::get::add_get_command(app, get_options);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // app.exit() prints help or the error; one status for every usage error.
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (get->parsed()) return run_get(get_options);
  return 0;
}

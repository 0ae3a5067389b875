// The subcommands of uvinet-bench. Each adds itself to the command line and
// runs when chosen; a failure is reported by throwing CLI::RuntimeError.
#pragma once

namespace CLI {
class App;
}

namespace uvinet::bench {

void add_dispatch_command(CLI::App& app);
void add_http_command(CLI::App& app);
void add_https_command(CLI::App& app);

}  // namespace uvinet::bench

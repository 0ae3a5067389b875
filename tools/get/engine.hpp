// The transfer engine of `uvinet get`: one libuv loop on the main thread,
// which the uvinet session is attached to (SessionConfig::loop), so the
// transfers, the progress timer and the output all run on that one thread
// and share state without locks. At most -j transfers run at once; each
// one that ends starts the next.
#pragma once

#include <uv.h>

#include <memory>
#include <string>
#include <vector>

#include "cli.hpp"
#include "display.hpp"
#include "transfer.hpp"

namespace uvinet::get {

class Engine {
 public:
  /// `body`: the -d body, loaded.
  Engine(const GetOptions& options, std::string body);
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  /// Runs every transfer; the exit status (0 when all succeeded).
  int run();

 private:
  Result<void> open_session();
  void make_transfers();
  void start_next();
  void on_done(Transfer& transfer);
  void tick();
  void shut_down();
  void on_status(Context context, Status status, const StatusInfo& info);

  const GetOptions& options_;
  RequestPlan plan_;
  uv_loop_t loop_{};
  uv_timer_t timer_{};
  Session session_;
  Display display_;
  std::vector<std::unique_ptr<Transfer>> transfers_;
  std::size_t next_ = 0;
  std::size_t running_ = 0;
  std::size_t finished_ = 0;
  bool timer_on_ = false;
};

}  // namespace uvinet::get

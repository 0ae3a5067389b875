// The I/O loop: one libuv loop and the thread that runs it (or the
// application's own loop, attached). post() hands work to it from any thread
// through an MPSC queue drained by one uv_async_t.
#pragma once

#include <uv.h>

#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace uvinet::detail {

class Loop {
 public:
  using Task = std::function<void()>;

  /// The runtime's own loop, started by the first caller and stopped when the
  /// last holder lets go.
  static std::shared_ptr<Loop> acquire_default();
  /// Attaches to the application's loop; call on that loop's thread.
  static std::shared_ptr<Loop> attach(uv_loop_t* app_loop);

  ~Loop();
  Loop(const Loop&) = delete;
  Loop& operator=(const Loop&) = delete;

  /// Runs `task` on the loop thread, after the tasks posted before it.
  /// Returns false when the loop has stopped (the task is dropped).
  bool post(Task task);
  bool on_loop_thread() const noexcept;
  /// The libuv loop; use only on the loop thread.
  uv_loop_t* uv() const noexcept;

  struct Core;  // defined in loop.cpp

 private:
  explicit Loop(std::shared_ptr<Core> core);
  std::shared_ptr<Core> core_;
  std::thread thread_;  // empty when attached to the application's loop
};

}  // namespace uvinet::detail

#include "loop.hpp"

#include "workers.hpp"

#include <pthread.h>

#include <atomic>
#include <cassert>
#include <csignal>
#include <future>

#include "mutex.hpp"

namespace uvinet::detail {

// The state the loop thread works on. It outlives the Loop object when the
// last reference is dropped on the loop thread itself: the thread then
// detaches and frees the core on its way out.
struct Loop::Core {
  uv_loop_t own_loop{};
  uv_loop_t* loop = nullptr;
  uv_async_t wakeup{};
  Mutex mutex;
  std::vector<Task> queue;  // guarded by mutex
  bool stopped = false;     // guarded by mutex
  bool draining = false;    // drain() is running tasks; guarded by mutex
  // Loop thread only: a drained batch's vector, kept for the next drain.
  static constexpr std::size_t kKeepCapacity = 4096;
  std::vector<Task> spare;
  std::atomic<std::thread::id> thread_id{};
  std::shared_ptr<Core> self_while_closing;  // keeps an attached core alive until uv_close ends

  // Tasks posted while draining (a strand yielding after its batch, another
  // thread's post) run in a next round here rather than after a round trip
  // through the eventfd and epoll. The rounds are bounded so that I/O
  // callbacks still get their turn under a flood.
  void drain() {
    constexpr int kRounds = 16;
    // The spare's capacity goes to queue at the first swap, so posts made
    // while draining do not grow a fresh vector from nothing every time.
    // (A task that drains again, stop_on_loop(), finds it taken: fine.)
    std::vector<Task> batch = std::move(spare);
    const auto keep = [&] {
      batch.clear();
      if (batch.capacity() <= kKeepCapacity) spare = std::move(batch);
    };
    for (int round = 0; round < kRounds; ++round) {
      {
        std::lock_guard lock(mutex);
        if (queue.empty()) {
          draining = false;
          keep();
          return;
        }
        draining = true;
        batch.swap(queue);  // queue takes the last round's capacity
      }
      for (auto& task : batch) task();
      batch.clear();
    }
    keep();
    std::lock_guard lock(mutex);
    draining = false;
    if (!queue.empty()) uv_async_send(&wakeup);
  }

  // Runs on the loop thread: drains what is left, then closes the wakeup
  // handle so uv_run can return (own loop) or the application's loop forgets us.
  void stop_on_loop() {
    drain();
    {
      std::lock_guard lock(mutex);
      stopped = true;
      queue.clear();
    }
    uv_close(reinterpret_cast<uv_handle_t*>(&wakeup), [](uv_handle_t* h) {
      auto* core = static_cast<Core*>(h->data);
      core->self_while_closing.reset();  // may free the core (attached loops)
    });
  }
};

namespace {

// Never destroyed: runtime threads may still be winding down at exit.
struct DefaultLoop {
  std::mutex mutex;
  std::weak_ptr<Loop> loop;  // guarded by mutex
};
DefaultLoop& default_loop() {
  static auto* d = new DefaultLoop;
  return *d;
}

void on_wakeup(uv_async_t* async) {
  auto* core = static_cast<Loop::Core*>(async->data);
  core->drain();
}

}  // namespace

Loop::Loop(std::shared_ptr<Core> core) : core_(std::move(core)) {}

std::shared_ptr<Loop> Loop::acquire_default() {
  DefaultLoop& d = default_loop();
  std::lock_guard lock(d.mutex);
  if (auto loop = d.loop.lock()) return loop;

  auto core = std::make_shared<Core>();
  uv_loop_init(&core->own_loop);
  core->loop = &core->own_loop;
  core->wakeup.data = core.get();
  uv_async_init(core->loop, &core->wakeup, on_wakeup);
  // The last reference may go on the loop thread itself, which cannot join
  // itself: a worker then destroys the loop, so every loop thread is joined.
  auto loop = std::shared_ptr<Loop>(new Loop(core), [](Loop* l) {
    if (!l->on_loop_thread()) {
      delete l;
      return;
    }
    auto pool = WorkerPool::acquire();
    pool->post([l, pool] { delete l; });
  });
  std::promise<void> started;
  auto started_future = started.get_future();
  // libuv writes to sockets with write(2): a peer's reset would raise
  // SIGPIPE and kill the process. The loop thread, which does every socket
  // write, starts with it blocked (a new thread inherits the mask), so the
  // write fails with EPIPE instead.
  sigset_t pipe_signal, old_mask;
  sigemptyset(&pipe_signal);
  sigaddset(&pipe_signal, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_signal, &old_mask);
  loop->thread_ = std::thread([core, &started] {
    core->thread_id = std::this_thread::get_id();
    started.set_value();
    uv_run(core->loop, UV_RUN_DEFAULT);
    // Close whatever a module leaked so uv_loop_close succeeds; nothing else
    // can run on this loop any more.
    uv_walk(
        core->loop,
        [](uv_handle_t* h, void*) {
          if (!uv_is_closing(h)) uv_close(h, nullptr);
        },
        nullptr);
    uv_run(core->loop, UV_RUN_DEFAULT);
    uv_loop_close(core->loop);
  });
  pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  started_future.wait();
  d.loop = loop;
  return loop;
}

std::shared_ptr<Loop> Loop::attach(uv_loop_t* app_loop) {
  auto core = std::make_shared<Core>();
  core->loop = app_loop;
  core->wakeup.data = core.get();
  core->thread_id = std::this_thread::get_id();
  uv_async_init(app_loop, &core->wakeup, on_wakeup);
  return std::shared_ptr<Loop>(new Loop(core));
}

Loop::~Loop() {
  if (!thread_.joinable()) {
    // Attached: the application's loop closes our wakeup handle; the core
    // frees itself in the close callback.
    core_->self_while_closing = core_;
    auto core = core_.get();
    if (on_loop_thread()) {
      core->stop_on_loop();
    } else {
      std::lock_guard lock(core->mutex);
      core->queue.push_back([core] { core->stop_on_loop(); });
      uv_async_send(&core->wakeup);
    }
    return;
  }
  {
    std::lock_guard lock(core_->mutex);
    auto core = core_.get();
    core_->queue.push_back([core] { core->stop_on_loop(); });
    uv_async_send(&core_->wakeup);
  }
  thread_.join();  // never on the loop thread: see the deleter in acquire_default()
}

bool Loop::post(Task task) {
  std::lock_guard lock(core_->mutex);
  if (core_->stopped) return false;
  const bool was_empty = core_->queue.empty();
  core_->queue.push_back(std::move(task));
  // One wakeup per batch: the drain takes everything queued so far, and
  // a running drain comes back for what is queued meanwhile.
  if (was_empty && !core_->draining) uv_async_send(&core_->wakeup);
  return true;
}

bool Loop::on_loop_thread() const noexcept {
  return core_->thread_id.load() == std::this_thread::get_id();
}

uv_loop_t* Loop::uv() const noexcept {
  return core_->loop;
}

}  // namespace uvinet::detail

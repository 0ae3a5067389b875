// The worker pool that runs long callbacks (C6): a few threads and one queue.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace uvinet::detail {

class WorkerPool {
 public:
  using Task = std::function<void()>;

  /// The process's pool, started by the first caller and stopped when the
  /// last holder lets go.
  static std::shared_ptr<WorkerPool> acquire();

  explicit WorkerPool(unsigned threads);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  void post(Task task);
  bool on_worker_thread() const noexcept;

 private:
  struct Shared {
    std::mutex mutex;
    std::condition_variable wake;
    std::deque<Task> queue;
    int idle = 0;  // workers waiting on `wake`
    bool stopping = false;
  };
  static void run(const std::shared_ptr<Shared>& shared);

  std::shared_ptr<Shared> shared_;
  std::vector<std::thread> threads_;
};

}  // namespace uvinet::detail

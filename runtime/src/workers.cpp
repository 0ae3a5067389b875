#include "workers.hpp"

#include <algorithm>

namespace uvinet::detail {
namespace {

// Never destroyed: runtime threads may still be winding down at exit.
struct ProcessPool {
  std::mutex mutex;
  std::weak_ptr<WorkerPool> pool;  // guarded by mutex
};
ProcessPool& process_pool() {
  static auto* p = new ProcessPool;
  return *p;
}
thread_local const void* current_pool_shared = nullptr;

}  // namespace

std::shared_ptr<WorkerPool> WorkerPool::acquire() {
  ProcessPool& p = process_pool();
  std::lock_guard lock(p.mutex);
  if (auto pool = p.pool.lock()) return pool;
  const unsigned threads = std::clamp(std::thread::hardware_concurrency(), 2u, 16u);
  auto pool = std::make_shared<WorkerPool>(threads);
  p.pool = pool;
  return pool;
}

WorkerPool::WorkerPool(unsigned threads) : shared_(std::make_shared<Shared>()) {
  for (unsigned i = 0; i < threads; ++i) {
    threads_.emplace_back([shared = shared_] { run(shared); });
  }
}

WorkerPool::~WorkerPool() {
  {
    std::lock_guard lock(shared_->mutex);
    shared_->stopping = true;
  }
  shared_->wake.notify_all();
  for (auto& t : threads_) {
    // The last reference may be dropped by a task on one of our own threads:
    // that thread cannot join itself, so it finishes on its own.
    if (t.get_id() == std::this_thread::get_id()) {
      t.detach();
    } else {
      t.join();
    }
  }
}

void WorkerPool::post(Task task) {
  bool wake;
  {
    std::lock_guard lock(shared_->mutex);
    shared_->queue.push_back(std::move(task));
    // Busy workers come back for the queue by themselves: wake one only when
    // one is waiting, and spare a futex call per post under load.
    wake = shared_->idle > 0;
  }
  if (wake) shared_->wake.notify_one();
}

bool WorkerPool::on_worker_thread() const noexcept {
  return current_pool_shared == shared_.get();
}

void WorkerPool::run(const std::shared_ptr<Shared>& shared) {
  current_pool_shared = shared.get();
  std::unique_lock lock(shared->mutex);
  for (;;) {
    while (!shared->stopping && shared->queue.empty()) {
      ++shared->idle;
      shared->wake.wait(lock);
      --shared->idle;
    }
    if (shared->queue.empty()) return;  // stopping, and nothing left to run
    Task task = std::move(shared->queue.front());
    shared->queue.pop_front();
    lock.unlock();
    task();
    task = nullptr;  // destroy captures outside the lock
    lock.lock();
  }
}

}  // namespace uvinet::detail

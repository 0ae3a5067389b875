// A mutex for the short critical sections of the dispatch path (handle
// table, strands, loop queue): uncontended, lock and unlock are one atomic
// instruction each and inline, where std::mutex goes through
// pthread_mutex_lock's generic code; contended, it sleeps on a futex
// (std::atomic::wait), as std::mutex does. Not recursive.
#pragma once

#include <atomic>

namespace uvinet::detail {

class Mutex {
 public:
  void lock() noexcept {
    int expected = 0;
    if (state_.compare_exchange_strong(expected, 1, std::memory_order_acquire)) return;
    // 2 = locked and maybe waited for: the unlock then wakes a waiter.
    while (state_.exchange(2, std::memory_order_acquire) != 0) {
      state_.wait(2, std::memory_order_relaxed);
    }
  }
  void unlock() noexcept {
    if (state_.exchange(0, std::memory_order_release) == 2) state_.notify_one();
  }

 private:
  std::atomic<int> state_{0};  // 0 free, 1 locked, 2 locked with waiters
};

}  // namespace uvinet::detail

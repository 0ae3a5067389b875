// A strand: the callbacks of one handle, run one at a time in the order they
// were queued, each on the thread its callback model asks for (C5, C6).
// Once sealed (after handle_closing was queued), it takes nothing more.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "mutex.hpp"
#include "uvinet/async.hpp"

namespace uvinet::detail {

class Loop;
class WorkerPool;

class Strand : public std::enable_shared_from_this<Strand> {
 public:
  using Callback = std::function<void()>;

  Strand(std::shared_ptr<Loop> loop, std::shared_ptr<WorkerPool> workers);

  /// Queues `fn` to run with `model`. Returns false when the strand is sealed.
  /// (By reference: the callback is moved once, into the queue.)
  bool push(Callback&& fn, CallbackModel model);
  /// Queues `fn` as the last callback this strand will ever run.
  bool push_last(Callback&& fn, CallbackModel model);

 private:
  struct Item {
    Callback fn;
    CallbackModel model;
  };
  bool enqueue(Callback&& fn, CallbackModel model, bool seal);
  void schedule(CallbackModel model);
  void drain(CallbackModel model);

  std::shared_ptr<Loop> loop_;
  std::shared_ptr<WorkerPool> workers_;
  Mutex mutex_;
  std::vector<Item> queue_;  // guarded by mutex_
  bool running_ = false;     // a drain is scheduled or running; guarded by mutex_
  bool sealed_ = false;      // guarded by mutex_
  // What the drain took from queue_ and has not run yet, from `next` on;
  // always ahead of queue_. Only the drain touches it, and drains never
  // overlap (running_). On its own cache line: the producers' pushes and
  // the drain's progress do not fight over one.
  struct alignas(64) Taken {
    std::vector<Item> items;
    std::size_t next = 0;
  } taken_;
};

}  // namespace uvinet::detail

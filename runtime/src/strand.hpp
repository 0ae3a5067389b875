// A strand: the callbacks of one handle, run one at a time in the order they
// were queued, each on the thread its callback model asks for (C5, C6).
// Once sealed (after handle_closing was queued), it takes nothing more.
#pragma once

#include <deque>
#include <functional>
#include <memory>
#include <mutex>

#include "uvinet/async.hpp"

namespace uvinet::detail {

class Loop;
class WorkerPool;

class Strand : public std::enable_shared_from_this<Strand> {
 public:
  using Callback = std::function<void()>;

  Strand(std::shared_ptr<Loop> loop, std::shared_ptr<WorkerPool> workers);

  /// Queues `fn` to run with `model`. Returns false when the strand is sealed.
  bool push(Callback fn, CallbackModel model);
  /// Queues `fn` as the last callback this strand will ever run.
  bool push_last(Callback fn, CallbackModel model);

 private:
  struct Item {
    Callback fn;
    CallbackModel model;
  };
  bool enqueue(Item item, bool seal);
  void schedule(CallbackModel model);
  void drain(CallbackModel model);

  std::shared_ptr<Loop> loop_;
  std::shared_ptr<WorkerPool> workers_;
  std::mutex mutex_;
  std::deque<Item> queue_;  // guarded by mutex_
  bool running_ = false;    // a drain is scheduled or running; guarded by mutex_
  bool sealed_ = false;     // guarded by mutex_
};

}  // namespace uvinet::detail

// A strand: the callbacks of one handle, run one at a time in the order they
// were queued, each on the thread its callback model asks for (C5, C6).
// Once sealed (after handle_closing was queued), it takes nothing more until
// the table gives its slot, and the strand, to a new handle.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "mutex.hpp"
#include "uvinet/async.hpp"

namespace uvinet::detail {

class Loop;
class WorkerPool;

class Strand {
 public:
  using Callback = std::function<void()>;

  /// A strand belongs to a slot of the handle table and serves the handles
  /// that hold the slot, one after another; `generation` (the handle's)
  /// tells them apart, so a late push from an earlier holder goes nowhere.
  Strand() = default;

  /// True when no handle holds the strand: never held, or the last holder's
  /// callbacks all ran after it was sealed.
  bool vacant();
  /// Serves the handle of `generation`, whose callbacks run on `loop` and
  /// `workers`. Only on a vacant strand (HandleTable::insert checks).
  void occupy(std::uint32_t generation, std::shared_ptr<Loop> loop,
              std::shared_ptr<WorkerPool> workers);
  /// From now on post() fails: the handle left the table. The runtime's own
  /// pushes still go in, until push_last().
  void close_posts();

  /// Queues `fn` to run with `model`. Returns false when the strand is sealed
  /// or serves another generation. (By reference: the callback is moved
  /// once, into the queue.)
  bool push(std::uint32_t generation, Callback&& fn, CallbackModel model);
  /// push() for the application's Handle::post(): false after close_posts() too.
  bool post(std::uint32_t generation, Callback&& fn, CallbackModel model);
  /// Queues `fn` as the last callback this generation will ever run.
  bool push_last(std::uint32_t generation, Callback&& fn, CallbackModel model);

 private:
  struct Item {
    Callback fn;
    CallbackModel model;
  };
  enum class Kind { runtime, post, last };
  bool enqueue(std::uint32_t generation, Callback&& fn, CallbackModel model, Kind kind);
  void schedule(CallbackModel model);
  void drain(CallbackModel model);

  Mutex mutex_;
  std::vector<Item> queue_;       // guarded by mutex_
  std::uint32_t generation_ = 0;  // guarded by mutex_; 0 = never held
  bool running_ = false;          // a drain is scheduled or running; guarded by mutex_
  bool sealed_ = true;            // guarded by mutex_
  bool posts_closed_ = true;      // guarded by mutex_
  // Set by occupy(); read by schedule() while running_, which keeps the
  // next occupy() away; dropped by the drain that finds the strand sealed
  // and empty, so an idle slot keeps no loop alive.
  std::shared_ptr<Loop> loop_;
  std::shared_ptr<WorkerPool> workers_;
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

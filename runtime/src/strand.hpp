// A strand: the callbacks of one handle, run one at a time in the order they
// were queued, each on the thread its callback model asks for (C5, C6).
// Once sealed (after handle_closing was queued), it takes nothing more until
// the table gives its slot, and the strand, to a new handle.
#pragma once

#include <cstddef>
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
  bool push(std::uint32_t generation, Callback&& fn, CallbackModel model) {
    return enqueue(generation, std::move(fn), model, Kind::runtime);
  }
  /// push() for the application's Handle::post(): false after close_posts() too.
  bool post(std::uint32_t generation, Callback&& fn, CallbackModel model) {
    return enqueue(generation, std::move(fn), model, Kind::post);
  }
  /// Queues `fn` as the last callback this generation will ever run.
  bool push_last(std::uint32_t generation, Callback&& fn, CallbackModel model) {
    return enqueue(generation, std::move(fn), model, Kind::last);
  }
  /// push_last() with no callback: what is queued still runs, nothing
  /// more goes in. An idle strand is vacant at once, with no drain to wait for.
  void seal(std::uint32_t generation);

 private:
  enum class Kind { runtime, post, last };
  // Where the callbacks of one model begin in a queue: callbacks run with
  // the model of the last run that starts at or before them. Nearly every
  // handle queues a single model, so the queue holds bare callbacks and a
  // push writes 32 bytes, not a callback and a model.
  struct ModelRun {
    std::size_t first;
    CallbackModel model;
  };

  // Inline, as is post()'s whole path from Handle::post(): it is the
  // dispatch hot path, and the rare wake-up is the only call out.
  bool enqueue(std::uint32_t generation, Callback&& fn, CallbackModel model, Kind kind) {
    {
      std::lock_guard lock(mutex_);
      if (sealed_ || generation != generation_ || (kind == Kind::post && posts_closed_)) {
        return false;
      }
      if (kind == Kind::last) sealed_ = posts_closed_ = true;
      if (queue_.empty() || model != queued_model_) {
        runs_.push_back(ModelRun{queue_.size(), model});
        queued_model_ = model;
      }
      queue_.emplace_back(std::move(fn));
      if (running_) return true;
      running_ = true;
    }
    schedule(model);
    return true;
  }
  void schedule(CallbackModel model);
  void drain(CallbackModel model);
  /// The model of taken_.items[taken_.next]; advances taken_.run.
  CallbackModel next_model();

  // What producers touch, under mutex_, on one cache line.
  Mutex mutex_;
  std::uint32_t generation_ = 0;  // guarded by mutex_; 0 = never held
  bool running_ = false;          // a drain is scheduled or running; guarded by mutex_
  bool sealed_ = true;            // guarded by mutex_
  bool posts_closed_ = true;      // guarded by mutex_
  CallbackModel queued_model_{};  // of queue_.back(); guarded by mutex_
  std::vector<Callback> queue_;   // guarded by mutex_
  std::vector<ModelRun> runs_;    // of queue_; guarded by mutex_
  // Set by occupy(); read by schedule() while running_, which keeps the
  // next occupy() away; dropped by the drain that finds the strand sealed
  // and empty, so an idle slot keeps no loop alive. On a line of their
  // own: the drain reads them while producers write the line above.
  struct alignas(64) Wake {
    std::shared_ptr<Loop> loop;
    std::shared_ptr<WorkerPool> workers;
  } wake_;
  // What the drain took from queue_ and has not run yet, from `next` on;
  // always ahead of queue_. Only the drain touches it, and drains never
  // overlap (running_). On its own cache line: the producers' pushes and
  // the drain's progress do not fight over one.
  struct alignas(64) Taken {
    std::vector<Callback> items;
    std::vector<ModelRun> runs;
    std::size_t next = 0;
    std::size_t run = 0;  // runs[run] holds items[next]
  } taken_;
};

}  // namespace uvinet::detail

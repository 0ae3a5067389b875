#include "strand.hpp"

#include "loop.hpp"
#include "workers.hpp"

namespace uvinet::detail {
namespace {
// Callbacks run per drain before the strand yields its thread to others.
constexpr int kBatch = 64;
// Queue capacity (callbacks) a strand keeps when it goes idle.
constexpr std::size_t kKeepCapacity = 1024;
}  // namespace

bool Strand::vacant() {
  std::lock_guard lock(mutex_);
  return sealed_ && !running_;
}

void Strand::occupy(std::uint32_t generation, std::shared_ptr<Loop> loop,
                    std::shared_ptr<WorkerPool> workers) {
  std::lock_guard lock(mutex_);
  generation_ = generation;
  sealed_ = false;
  posts_closed_ = false;
  wake_.loop = std::move(loop);
  wake_.workers = std::move(workers);
}

void Strand::close_posts() {
  std::lock_guard lock(mutex_);
  posts_closed_ = true;
}

void Strand::seal(std::uint32_t generation) {
  std::shared_ptr<Loop> spare_loop;  // declared first: freed after the unlock
  std::shared_ptr<WorkerPool> spare_workers;
  std::lock_guard lock(mutex_);
  if (sealed_ || generation != generation_) return;
  sealed_ = posts_closed_ = true;
  // Running: the drain lets go of the loop and workers when it finds the
  // queue empty. Not running: the queue is empty, and no one reads wake_.
  if (running_) return;
  spare_loop.swap(wake_.loop);
  spare_workers.swap(wake_.workers);
}

void Strand::schedule(CallbackModel model) {
  // `this`, not shared_from_this(): strands belong to handle table slots,
  // which are never freed. A raw pointer fits std::function's inline
  // buffer, so scheduling a drain allocates nothing and counts no reference.
  Strand* self = this;
  if (model == CallbackModel::long_callback) {
    wake_.workers->post([self] { self->drain(CallbackModel::long_callback); });
  } else if (!wake_.loop->post([self] { self->drain(CallbackModel::short_callback); })) {
    // The loop has stopped (process teardown): run the rest on a worker
    // rather than lose callbacks.
    wake_.workers->post([self] { self->drain(CallbackModel::short_callback); });
  }
}

void Strand::drain(CallbackModel model) {
  for (int done = 0;; ++done) {
    if (taken_.next == taken_.items.size()) {
      // Take everything queued in one swap: producers and this thread meet
      // on mutex_ once per batch, and both vectors keep their capacity.
      taken_.items.clear();
      taken_.runs.clear();
      taken_.next = taken_.run = 0;
      std::vector<Callback> spare_queue, spare_taken;  // declared first: freed after the unlock
      std::shared_ptr<Loop> spare_loop;
      std::shared_ptr<WorkerPool> spare_workers;
      std::lock_guard lock(mutex_);
      if (queue_.empty()) {
        // Going idle: a burst must not pin its memory on the handle.
        if (queue_.capacity() > kKeepCapacity) spare_queue.swap(queue_);
        if (taken_.items.capacity() > kKeepCapacity) spare_taken.swap(taken_.items);
        if (sealed_) {  // the holder is done: the slot waits for the next one
          spare_loop.swap(wake_.loop);
          spare_workers.swap(wake_.workers);
        }
        running_ = false;
        return;
      }
      taken_.items.swap(queue_);
      taken_.runs.swap(runs_);
    }
    const CallbackModel next = next_model();
    // The next callback wants another kind of thread, or others are
    // waiting for this one: hand over, keeping the strand marked running.
    if (next != model || done == kBatch) {
      schedule(next);
      return;
    }
    // Run in place, then free what it captured before the next one runs:
    // no move of the callback on the way.
    Callback& fn = taken_.items[taken_.next++];
    fn();
    fn = nullptr;
  }
}

CallbackModel Strand::next_model() {
  while (taken_.run + 1 < taken_.runs.size() && taken_.runs[taken_.run + 1].first <= taken_.next) {
    ++taken_.run;
  }
  return taken_.runs[taken_.run].model;
}

}  // namespace uvinet::detail

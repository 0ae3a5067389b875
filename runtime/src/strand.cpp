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

Strand::Strand(std::shared_ptr<Loop> loop, std::shared_ptr<WorkerPool> workers)
    : loop_(std::move(loop)), workers_(std::move(workers)) {}

bool Strand::push(Callback&& fn, CallbackModel model) {
  return enqueue(std::move(fn), model, false);
}

bool Strand::push_last(Callback&& fn, CallbackModel model) {
  return enqueue(std::move(fn), model, true);
}

bool Strand::enqueue(Callback&& fn, CallbackModel model, bool seal) {
  {
    std::lock_guard lock(mutex_);
    if (sealed_) return false;
    sealed_ = seal;
    queue_.push_back(Item{std::move(fn), model});
    if (running_) return true;
    running_ = true;
  }
  schedule(model);
  return true;
}

void Strand::schedule(CallbackModel model) {
  auto self = shared_from_this();
  if (model == CallbackModel::long_callback) {
    workers_->post([self] { self->drain(CallbackModel::long_callback); });
  } else if (!loop_->post([self] { self->drain(CallbackModel::short_callback); })) {
    // The loop has stopped (process teardown): run the rest on a worker
    // rather than lose callbacks.
    workers_->post([self] { self->drain(CallbackModel::short_callback); });
  }
}

void Strand::drain(CallbackModel model) {
  for (int done = 0;; ++done) {
    if (taken_.next == taken_.items.size()) {
      // Take everything queued in one swap: producers and this thread meet
      // on mutex_ once per batch, and both vectors keep their capacity.
      taken_.items.clear();
      taken_.next = 0;
      std::vector<Item> spare_queue, spare_taken;  // declared first: freed after the unlock
      std::lock_guard lock(mutex_);
      if (queue_.empty()) {
        // Going idle: a burst must not pin its memory on the handle.
        if (queue_.capacity() > kKeepCapacity) spare_queue.swap(queue_);
        if (taken_.items.capacity() > kKeepCapacity) spare_taken.swap(taken_.items);
        running_ = false;
        return;
      }
      taken_.items.swap(queue_);
    }
    const CallbackModel next = taken_.items[taken_.next].model;
    // The next callback wants another kind of thread, or others are
    // waiting for this one: hand over, keeping the strand marked running.
    if (next != model || done == kBatch) {
      schedule(next);
      return;
    }
    Callback fn = std::move(taken_.items[taken_.next++].fn);
    fn();
  }
}

}  // namespace uvinet::detail

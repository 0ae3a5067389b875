#include "strand.hpp"

#include <optional>

#include "loop.hpp"
#include "workers.hpp"

namespace uvinet::detail {
namespace {
// Callbacks run per drain before the strand yields its thread to others.
constexpr int kBatch = 64;
}  // namespace

Strand::Strand(std::shared_ptr<Loop> loop, std::shared_ptr<WorkerPool> workers)
    : loop_(std::move(loop)), workers_(std::move(workers)) {}

bool Strand::push(Callback fn, CallbackModel model) {
  return enqueue(Item{std::move(fn), model}, false);
}

bool Strand::push_last(Callback fn, CallbackModel model) {
  return enqueue(Item{std::move(fn), model}, true);
}

bool Strand::enqueue(Item item, bool seal) {
  const CallbackModel model = item.model;
  {
    std::lock_guard lock(mutex_);
    if (sealed_) return false;
    sealed_ = seal;
    queue_.push_back(std::move(item));
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
    Item item;
    std::optional<CallbackModel> hand_over;
    {
      std::lock_guard lock(mutex_);
      if (queue_.empty()) {
        running_ = false;
        return;
      }
      // The next callback wants another kind of thread, or others are
      // waiting for this one: hand over, keeping the strand marked running.
      if (queue_.front().model != model || done == kBatch) {
        hand_over = queue_.front().model;
      } else {
        item = std::move(queue_.front());
        queue_.pop_front();
      }
    }
    if (hand_over) {
      schedule(*hand_over);
      return;
    }
    item.fn();
  }
}

}  // namespace uvinet::detail

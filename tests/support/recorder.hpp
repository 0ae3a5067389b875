// Test helpers: a status recorder that also checks the per-handle rules of
// C5 (never two callbacks at once for one handle, handle_closing last and
// once), and a bounded wait used only as a hang guard.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "uvinet/handle.hpp"

namespace test_support {

/// Waits until `done()` holds; false after `limit` (a hang guard, never a
/// timing check).
template <class Pred>
bool wait_until(Pred done, std::chrono::milliseconds limit = std::chrono::seconds(30)) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

class StatusRecorder {
 public:
  StatusRecorder() : state_(std::make_shared<State>()) {}

  struct Event {
    uvinet::Handle handle;
    uvinet::Context context;
    uvinet::Status status;
    uvinet::StatusInfo info;
    std::thread::id thread;
  };

  /// The callback shares the recorder's state, so a callback still finishing
  /// when the test ends never touches freed memory.
  uvinet::StatusCallback callback() {
    return [state = state_](uvinet::Handle h, uvinet::Context c, uvinet::Status s,
                            const uvinet::StatusInfo& info) { state->record(h, c, s, info); };
  }

  void record(uvinet::Handle h, uvinet::Context c, uvinet::Status s,
              const uvinet::StatusInfo& info) {
    state_->record(h, c, s, info);
  }

  std::vector<Event> events() const {
    std::lock_guard lock(state_->mutex_);
    return state_->events_;
  }
  std::vector<uvinet::Status> statuses_of(uvinet::Handle h) const {
    std::lock_guard lock(state_->mutex_);
    std::vector<uvinet::Status> out;
    for (const auto& e : state_->events_) {
      if (e.handle == h) out.push_back(e.status);
    }
    return out;
  }
  int count(uvinet::Handle h, uvinet::Status s) const {
    int n = 0;
    for (auto st : statuses_of(h)) n += st == s;
    return n;
  }
  bool closed(uvinet::Handle h) const { return count(h, uvinet::Status::handle_closing) > 0; }
  bool wait_closed(uvinet::Handle h) {
    return wait_until([&] { return closed(h); });
  }
  /// Two callbacks for one handle ran at the same time (C5 broken).
  bool overlap() const { return state_->overlap_; }
  bool something_after_closing() const { return state_->after_closing_; }

 private:
  struct State {
    void record(uvinet::Handle h, uvinet::Context c, uvinet::Status s,
                const uvinet::StatusInfo& info) {
      {
        std::lock_guard lock(mutex_);
        if (inside_[h.id()]++ != 0) overlap_ = true;
        auto& closed = closed_[h.id()];
        if (closed) after_closing_ = true;  // something came after handle_closing
        if (s == uvinet::Status::handle_closing) closed = true;
        events_.push_back(Event{h, c, s, info, std::this_thread::get_id()});
      }
      // Stay inside a little so overlapping deliveries would be caught.
      std::this_thread::yield();
      std::lock_guard lock(mutex_);
      --inside_[h.id()];
    }

    mutable std::mutex mutex_;
    std::vector<Event> events_;
    std::map<std::uint64_t, bool> closed_;
    std::map<std::uint64_t, int> inside_;
    std::atomic<bool> overlap_{false};
    std::atomic<bool> after_closing_{false};
  };
  std::shared_ptr<State> state_;
};

}  // namespace test_support

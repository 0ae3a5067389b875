#include "limits.hpp"

namespace uvinet::detail {

bool Gate::acquire_or_wait(std::int64_t limit, Waiter waiter) {
  std::lock_guard lock(mutex_);
  std::uint64_t s = state_.load(std::memory_order_relaxed);
  for (;;) {
    if (!(s & kWaiting) && static_cast<std::int64_t>(s) < limit) {
      if (state_.compare_exchange_weak(s, s + 1, std::memory_order_acquire,
                                       std::memory_order_relaxed)) {
        return true;
      }
    } else if ((s & kWaiting) ||
               state_.compare_exchange_weak(s, s | kWaiting, std::memory_order_relaxed)) {
      break;
    }
  }
  waiters_.push_back(std::move(waiter));
  return false;
}

void Gate::release_to_waiter() {
  Waiter next;
  {
    std::lock_guard lock(mutex_);
    if (waiters_.empty()) {
      // Another release took the last waiter between our look and the lock
      // (or the push_back after setting the bit threw): nobody waits.
      state_.fetch_and(~kWaiting, std::memory_order_relaxed);
      state_.fetch_sub(1, std::memory_order_release);
      return;
    }
    next = std::move(waiters_.front());  // the slot passes on, the count unchanged
    waiters_.pop_front();
    if (waiters_.empty()) state_.fetch_and(~kWaiting, std::memory_order_relaxed);
  }
  next();
}

struct ServerGates::Table {
  struct Entry {
    std::int64_t in_use = 0;
    std::deque<std::function<void(SlotPtr)>> waiters;
  };
  std::mutex mutex;
  std::map<std::string, Entry, std::less<>> servers;
};

ServerGates::ServerGates() : table_(std::make_shared<Table>()) {}

ServerGates::SlotPtr ServerGates::try_acquire(const std::string& server, std::int64_t limit) {
  std::lock_guard lock(table_->mutex);
  auto& e = table_->servers[server];
  if (e.in_use >= limit || !e.waiters.empty()) return nullptr;
  ++e.in_use;
  return std::make_unique<Slot>(table_, server);
}

ServerGates::SlotPtr ServerGates::acquire_or_wait(const std::string& server, std::int64_t limit,
                                                  std::function<void(SlotPtr)> waiter) {
  std::lock_guard lock(table_->mutex);
  auto& e = table_->servers[server];
  if (e.in_use < limit && e.waiters.empty()) {
    ++e.in_use;
    return std::make_unique<Slot>(table_, server);
  }
  e.waiters.push_back(std::move(waiter));
  return nullptr;
}

ServerGates::Slot::~Slot() {
  std::function<void(SlotPtr)> next;
  {
    std::lock_guard lock(table_->mutex);
    auto it = table_->servers.find(server_);
    if (it == table_->servers.end()) return;
    auto& e = it->second;
    if (e.waiters.empty()) {
      if (--e.in_use == 0) table_->servers.erase(it);
      return;
    }
    next = std::move(e.waiters.front());
    e.waiters.pop_front();
  }
  // The slot passes straight on to the first waiter; in_use is unchanged.
  next(std::make_unique<Slot>(table_, server_));
}

}  // namespace uvinet::detail

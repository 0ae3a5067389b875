#include "limits.hpp"

namespace uvinet::detail {

bool Gate::try_acquire(std::int64_t limit) {
  std::lock_guard lock(mutex_);
  if (in_use_ >= limit || !waiters_.empty()) return false;
  ++in_use_;
  return true;
}

bool Gate::acquire_or_wait(std::int64_t limit, Waiter waiter) {
  std::lock_guard lock(mutex_);
  if (in_use_ < limit && waiters_.empty()) {
    ++in_use_;
    return true;
  }
  waiters_.push_back(std::move(waiter));
  return false;
}

void Gate::release() {
  Waiter next;
  {
    std::lock_guard lock(mutex_);
    if (waiters_.empty()) {
      --in_use_;
      return;
    }
    next = std::move(waiters_.front());  // the slot passes on, in_use_ unchanged
    waiters_.pop_front();
  }
  next();
}

ServerGates::SlotPtr ServerGates::try_acquire(const std::string& server, std::int64_t limit) {
  std::lock_guard lock(mutex_);
  Entry& e = servers_[server];
  if (e.in_use >= limit || !e.waiters.empty()) return nullptr;
  ++e.in_use;
  return std::make_unique<Slot>(this, server);
}

ServerGates::SlotPtr ServerGates::acquire_or_wait(const std::string& server, std::int64_t limit,
                                                  std::function<void(SlotPtr)> waiter) {
  std::lock_guard lock(mutex_);
  Entry& e = servers_[server];
  if (e.in_use < limit && e.waiters.empty()) {
    ++e.in_use;
    return std::make_unique<Slot>(this, server);
  }
  e.waiters.push_back(std::move(waiter));
  return nullptr;
}

void ServerGates::release(const std::string& server) {
  std::function<void(SlotPtr)> next;
  {
    std::lock_guard lock(mutex_);
    auto it = servers_.find(server);
    if (it == servers_.end()) return;
    Entry& e = it->second;
    if (e.waiters.empty()) {
      if (--e.in_use == 0) servers_.erase(it);
      return;
    }
    next = std::move(e.waiters.front());
    e.waiters.pop_front();
  }
  next(std::make_unique<Slot>(this, server));
}

}  // namespace uvinet::detail

// Bounds on work in flight (C7): a counting gate with a FIFO of waiters.
// A waiter is a function that gets the slot; it runs on whatever thread
// released the slot, so waiters post their real work to the loop.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "mutex.hpp"

namespace uvinet::detail {

class Gate {
 public:
  using Waiter = std::function<void()>;

  /// Takes a slot if fewer than `limit` are taken and nobody waits.
  bool try_acquire(std::int64_t limit) noexcept {
    std::uint64_t s = state_.load(std::memory_order_relaxed);
    do {
      if ((s & kWaiting) || static_cast<std::int64_t>(s) >= limit) return false;
    } while (!state_.compare_exchange_weak(s, s + 1, std::memory_order_acquire,
                                           std::memory_order_relaxed));
    return true;
  }
  /// Takes a slot now (returns true) or queues `waiter` to be given one later.
  bool acquire_or_wait(std::int64_t limit, Waiter waiter);
  /// Gives the slot back, or hands it straight to the first waiter.
  void release() {
    std::uint64_t s = state_.load(std::memory_order_relaxed);
    while (!(s & kWaiting)) {
      if (state_.compare_exchange_weak(s, s - 1, std::memory_order_release,
                                       std::memory_order_relaxed)) {
        return;
      }
    }
    release_to_waiter();
  }

 private:
  // Every operation takes and gives back a slot: uncontended, that is one
  // compare-and-swap on state_, with the mutex only for the queue. The
  // waiting bit is set and cleared under mutex_, in the same word as the
  // count, so a release either sees it (and hands its slot on under the
  // mutex) or changes the count before the waiter's own swap, which then
  // fails, rereads, and finds the slot free.
  static constexpr std::uint64_t kWaiting = std::uint64_t{1} << 63;
  void release_to_waiter();

  std::atomic<std::uint64_t> state_{0};  // slots taken, | kWaiting while waiters_ holds any
  Mutex mutex_;
  std::deque<Waiter> waiters_;  // guarded by mutex_
};

/// One gate per server ("host:port"), made on first use and dropped when idle.
/// Slots share ownership of the gate table, so a slot still held by a queued
/// loop task after its session has gone releases safely.
class ServerGates {
 public:
  class Slot;
  using SlotPtr = std::unique_ptr<Slot>;

  ServerGates();

  /// Takes a slot for `server` if fewer than `limit` are taken.
  SlotPtr try_acquire(const std::string& server, std::int64_t limit);
  /// Takes a slot now, or queues `waiter` to be given one later (nullptr).
  SlotPtr acquire_or_wait(const std::string& server, std::int64_t limit,
                          std::function<void(SlotPtr)> waiter);

  struct Table;

 private:
  std::shared_ptr<Table> table_;
};

/// A held connection slot; destroying it frees the slot.
class ServerGates::Slot {
 public:
  Slot(std::shared_ptr<Table> table, std::string server)
      : table_(std::move(table)), server_(std::move(server)) {}
  ~Slot();
  Slot(const Slot&) = delete;
  Slot& operator=(const Slot&) = delete;

 private:
  std::shared_ptr<Table> table_;
  std::string server_;
};

}  // namespace uvinet::detail

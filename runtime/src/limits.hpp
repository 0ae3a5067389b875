// Bounds on work in flight (C7): a counting gate with a FIFO of waiters.
// A waiter is a function that gets the slot; it runs on whatever thread
// released the slot, so waiters post their real work to the loop.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace uvinet::detail {

class Gate {
 public:
  using Waiter = std::function<void()>;

  /// Takes a slot if fewer than `limit` are taken.
  bool try_acquire(std::int64_t limit);
  /// Takes a slot now (returns true) or queues `waiter` to be given one later.
  bool acquire_or_wait(std::int64_t limit, Waiter waiter);
  /// Gives the slot back, or hands it straight to the first waiter.
  void release();

 private:
  mutable std::mutex mutex_;
  std::int64_t in_use_ = 0;
  std::deque<Waiter> waiters_;
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

// One operation in flight, as the module sees it (uvinet::Operation) and as
// the runtime tracks it.
#pragma once

#include <atomic>
#include <future>
#include <optional>
#include <utility>

#include "request.hpp"
#include "uvinet/block_cache.hpp"

namespace uvinet::detail {

/// The allocator of an operation's one block (shared_ptr control block and
/// OperationImpl, std::allocate_shared), from the thread's cache of freed
/// blocks (ThreadBlockCache). A block comes back only when the last
/// shared_ptr and weak_ptr to its operation are gone, as with make_shared:
/// nothing anyone can still reach is reused.
template <class T>
class OperationAllocator {
 public:
  using value_type = T;
  OperationAllocator() = default;
  template <class U>
  OperationAllocator(const OperationAllocator<U>&) noexcept {}  // NOLINT: rebinding

  T* allocate(std::size_t n) {
    if (n == 1) return static_cast<T*>(Blocks::allocate());
    return static_cast<T*>(::operator new(n * sizeof(T)));
  }
  void deallocate(T* p, std::size_t n) noexcept {
    if (n == 1) return Blocks::deallocate(p);
    ::operator delete(p);
  }
  friend bool operator==(const OperationAllocator&, const OperationAllocator&) { return true; }

 private:
  using Blocks = ThreadBlockCache<sizeof(T), 64>;
};

class OperationImpl final : public Operation, public std::enable_shared_from_this<OperationImpl> {
 public:
  enum Phase : int { starting, pending, inline_done };

  OperationImpl(std::shared_ptr<RequestObject> owner, OperationKind kind, int verb,
                std::string&& data, std::size_t max_bytes, std::span<char> buffer,
                std::uint8_t sides)
      : owner_(std::move(owner)),
        kind_(kind),
        verb_(verb),
        data_(std::move(data)),
        max_bytes_(max_bytes),
        buffer_(buffer),
        sides_(sides) {}

  OperationKind kind() const override { return kind_; }
  int verb() const override { return verb_; }
  std::string& data() override { return data_; }
  std::size_t max_bytes() const override { return max_bytes_; }
  void complete(Result<OperationValue> result) override {
    owner_->complete(*this, std::move(result));
  }
  bool completed() const override { return done_; }
  std::span<char> buffer() const override { return buffer_; }

  // Runtime side.
  std::shared_ptr<RequestObject> owner_;
  const OperationKind kind_;
  const int verb_;
  std::string data_;
  const std::size_t max_bytes_;
  const std::span<char> buffer_;
  const std::uint8_t sides_;
  RequestObject::Completion completion_;  // empty: synchronous
  CallbackModel model_{};
  // Only a synchronous call waits on one: made by start() for those alone.
  std::optional<std::promise<Result<OperationValue>>> sync_result_;
  // Loop thread only (completions, cancels and the modules all run there;
  // start() touches them there too, and not at all once it listed the
  // operation from another thread): plain fields, no atomic instructions.
  bool done_ = false;
  Phase phase_ = pending;
  // The result start() returns (completed inside it), or the one the
  // completion callback gets, which holds the operation alive through
  // self_ until it runs.
  Result<OperationValue> inline_result_ = Error(errc::io_pending);
  std::shared_ptr<OperationImpl> self_;
  bool holds_slot_ = false;       // loop thread after admission
  std::unique_ptr<Timer> timer_;  // loop thread
};

}  // namespace uvinet::detail

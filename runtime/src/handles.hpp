// The handle table and the object every handle names (C4, C10-C13).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "mutex.hpp"
#include "options_table.hpp"
#include "strand.hpp"
#include "uvinet/handle.hpp"

namespace uvinet::detail {

class Loop;
class WorkerPool;
class SessionObject;

/// What every handle is: kind, place in the tree, context value, status
/// callback, options, and the strand its callbacks run on.
class HandleObject : public std::enable_shared_from_this<HandleObject> {
 public:
  HandleObject(HandleKind kind, std::shared_ptr<HandleObject> parent, Context context);
  virtual ~HandleObject();

  HandleKind kind() const noexcept { return kind_; }
  Handle handle() const noexcept { return handle_; }
  const std::shared_ptr<HandleObject>& parent() const noexcept { return parent_; }
  SessionObject& session() const noexcept { return *session_; }
  const std::shared_ptr<Loop>& loop() const noexcept { return root_->loop_; }
  const std::shared_ptr<WorkerPool>& workers() const noexcept { return root_->workers_; }
  Context context() const noexcept { return context_.load(); }
  void set_context(Context c) noexcept { context_.store(c); }
  bool closing() const noexcept { return closing_.load(); }

  void set_status_callback(StatusCallback cb, StatusMask mask);
  /// Queues a status notification on this handle's strand, if its mask wants it.
  void notify(Status status, StatusInfo info = {});
  /// False when notify(status) would do nothing (no callback, or its mask
  /// leaves `status` out): most notifications have no taker, and the caller
  /// then need not build or hand over their StatusInfo.
  bool wants(Status status) const noexcept {
    return (live_mask_.load(std::memory_order_relaxed) & status_bit(status)) != 0;
  }
  /// Queues an application callback on this handle's strand; false once the
  /// handle delivered handle_closing.
  bool deliver(std::function<void()>&& fn, CallbackModel model = {});
  /// The session's callback model (C6).
  CallbackModel callback_model() const;

  Result<void> set_option(Option o, OptionValue v);
  Result<OptionValue> query_option(Option o) const;
  /// The value that governs this handle: its own, an ancestor's or the
  /// default, whether or not the option can be set on this kind of handle.
  OptionValue effective_option(Option o) const;
  /// The option's value for the runtime's own use: inherited, defaulted, no
  /// applicability check.
  std::int64_t int_option(Option o) const;
  std::string string_option(Option o) const;

  /// Called once, by close(), after the handle left the table.
  void begin_close();

 protected:
  void set_session(SessionObject* s) noexcept { session_ = s; }
  /// Runs when close begins; the handle finishes closing once
  /// finish_close() is called and no operation is pending. The default has
  /// nothing to release.
  virtual void on_close_requested() { mark_released(); }
  void mark_released();
  /// Queues handle_closing once closing, released and idle. Idempotent.
  void maybe_finish_close();
  virtual bool idle() const { return true; }

 private:
  friend class HandleTable;
  const OptionValue* own_option(Option o) const;  // caller holds mutex_
  std::uint32_t generation() const noexcept {
    return static_cast<std::uint32_t>(handle_.id() >> 32);
  }

  const HandleKind kind_;
  Handle handle_;
  const std::shared_ptr<HandleObject> parent_;  // keeps the parent's resources (C13)
  SessionObject* session_ = nullptr;            // kept alive through parent_
  // The session, as a HandleObject: it alone holds the loop and the workers,
  // which every handle below reaches through it rather than counting two
  // references of its own, made and dropped with every request.
  const HandleObject* root_ = this;
  std::shared_ptr<Loop> loop_;           // sessions only
  std::shared_ptr<WorkerPool> workers_;  // sessions only
  std::shared_ptr<Strand> strand_;
  std::atomic<Context> context_;
  std::atomic<bool> closing_{false};
  std::atomic<bool> released_{false};
  std::atomic<bool> closed_{false};

  mutable Mutex mutex_;
  std::shared_ptr<const StatusCallback> status_cb_;  // guarded by mutex_
  StatusMask status_mask_ = 0;                       // guarded by mutex_
  // status_mask_, or 0 without a callback: notify()'s check without the lock.
  std::atomic<StatusMask> live_mask_{0};
  std::vector<std::pair<Option, OptionValue>> options_;  // guarded by mutex_
  // A bit for each option options_ holds (option_bit): a lookup walks
  // request, connection and session, about 50 times a request, and takes
  // the lock only of a handle that has that very option of its own.
  std::atomic<std::uint64_t> options_set_{0};
  bool has_own(Option o) const noexcept {
    return (options_set_.load(std::memory_order_acquire) & option_bit(o)) != 0;
  }
  // The integer options of options_ again, read without the lock: the
  // session holds the callback model and the limit policy that every
  // operation reads. Made on the first integer set_option(), filled before
  // the option's bit is set, freed with the handle.
  struct OwnInts {
    std::array<std::atomic<std::int64_t>, kOptionCount> values{};
  };
  std::atomic<OwnInts*> own_ints_{nullptr};

 protected:
  /// Sets up loop and workers; for sessions, which have no parent.
  void init_runtime(std::shared_ptr<Loop> loop, std::shared_ptr<WorkerPool> workers);
};

/// Generation-checked ids: index in the low 32 bits (plus one, so 0 is never
/// valid), generation in the high 32 bits, bumped each time a slot is freed.
///
/// Each slot owns a strand for good and lends it to each handle that holds
/// the slot. Slots live in chunks that are never moved or freed, so post()
/// reaches a handle's strand without the table's lock: the strand's own
/// lock and the generation it checks are all a post pays for, as a bare
/// mutex-guarded queue would.
class HandleTable {
 public:
  static HandleTable& instance();

  Handle insert(const std::shared_ptr<HandleObject>& object);
  std::shared_ptr<HandleObject> find(Handle h) const;
  /// find() of an object of `kind` only, with one reference counted: nullptr
  /// otherwise, `*found` then the kind found, or `kind` when none was.
  std::shared_ptr<HandleObject> find(Handle h, HandleKind kind, HandleKind* found) const;
  /// Queues `fn` on `h`'s strand (HandleObject::deliver). Fails with
  /// errc::invalid_handle for a handle not in the table. Inline, with the
  /// strand's push: this is all a Handle::post() with a model pays for.
  Result<void> deliver(Handle h, std::function<void()>&& fn, CallbackModel model) const {
    if (model != CallbackModel::short_callback && model != CallbackModel::long_callback) {
      return deliver_with_own_model(h, std::move(fn));
    }
    // The strand checks the generation under its own lock.
    const std::uint64_t low = h.id() & 0xffffffffu;
    const Slot* slot = low ? slot_at(static_cast<std::uint32_t>(low - 1)) : nullptr;
    if (slot &&
        slot->strand->post(static_cast<std::uint32_t>(h.id() >> 32), std::move(fn), model)) {
      return {};
    }
    return not_found(h);
  }
  /// Takes the object out; the first caller gets it, later ones get nullptr.
  std::shared_ptr<HandleObject> remove(Handle h);

 private:
  static constexpr std::uint32_t kChunkBits = 12;
  static constexpr std::uint32_t kChunkSize = 1u << kChunkBits;
  static constexpr std::uint32_t kMaxChunks = 1u << 14;  // 64 Mi handles at once
  struct Slot {
    std::uint32_t generation = 1;                                       // guarded by mutex_
    std::shared_ptr<HandleObject> object;                               // guarded by mutex_
    const std::shared_ptr<Strand> strand = std::make_shared<Strand>();  // never changes
  };
  /// The slot at `index`, or nullptr past the end. No lock needed.
  Slot* slot_at(std::uint32_t index) const {
    if (index >= size_.load(std::memory_order_acquire)) return nullptr;
    return &chunks_[index >> kChunkBits].load(std::memory_order_acquire)[index & (kChunkSize - 1)];
  }
  /// deliver() with the handle's own callback model, an option.
  Result<void> deliver_with_own_model(Handle h, std::function<void()>&& fn) const;
  /// The slot of `h`'s object, or nullptr. Caller holds mutex_.
  const Slot* slot_of(Handle h) const;
  /// A slot for a new handle: a freed one whose strand is vacant, or a new one.
  std::uint32_t take_slot();
  Error not_found(Handle h) const;

  mutable Mutex mutex_;
  std::unique_ptr<std::atomic<Slot*>[]> chunks_ { new std::atomic<Slot*>[kMaxChunks] {} };
  std::atomic<std::uint32_t> size_{0};  // slots made; written under mutex_
  std::vector<std::uint32_t> free_;     // used as a FIFO ring to delay reuse
  std::size_t free_head_ = 0;
};

/// Finds `h`.
Result<std::shared_ptr<HandleObject>> lookup(Handle h);
/// Why lookup_as(h, kind) found no object of `kind`: `found` is the kind it
/// found, or `kind` when it found none.
Error lookup_error(Handle h, HandleKind kind, HandleKind found);
/// Finds `h` and checks it is of `kind`: every request operation starts
/// here, so the check is made under the table's lock, with no object copied
/// that is not returned.
template <class T>
Result<std::shared_ptr<T>> lookup_as(Handle h, HandleKind kind) {
  HandleKind found = kind;
  auto object = HandleTable::instance().find(h, kind, &found);
  if (!object) return lookup_error(h, kind, found);
  return std::static_pointer_cast<T>(std::move(object));
}

}  // namespace uvinet::detail

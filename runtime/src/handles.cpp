#include "handles.hpp"

#include "loop.hpp"
#include "options_table.hpp"
#include "workers.hpp"

namespace uvinet {

const char* handle_kind_name(HandleKind k) noexcept {
  switch (k) {
    case HandleKind::session: return "session";
    case HandleKind::connection: return "connection";
    case HandleKind::request: return "request";
  }
  return "unknown";
}

}  // namespace uvinet

namespace uvinet::detail {

HandleObject::HandleObject(HandleKind kind, std::shared_ptr<HandleObject> parent, Context context)
    : kind_(kind), parent_(std::move(parent)), context_(context) {
  if (!parent_) return;
  session_ = parent_->session_;
  root_ = parent_->root_;
  // C4: the status callback and its mask are inherited at creation. A parent
  // without one has nothing to hand down: no lock to take. (One being set
  // on another thread at this moment may or may not be inherited either way.)
  if (parent_->live_mask_.load(std::memory_order_relaxed) == 0) return;
  std::lock_guard lock(parent_->mutex_);
  status_cb_ = parent_->status_cb_;
  status_mask_ = parent_->status_mask_;
  live_mask_.store(status_cb_ ? status_mask_ : 0, std::memory_order_relaxed);
}

HandleObject::~HandleObject() {
  delete own_ints_.load(std::memory_order_relaxed);
}

void HandleObject::init_runtime(std::shared_ptr<Loop> loop, std::shared_ptr<WorkerPool> workers) {
  loop_ = std::move(loop);
  workers_ = std::move(workers);
  // The strand comes with the handle's table slot (HandleTable::insert).
}

void HandleObject::set_status_callback(StatusCallback cb, StatusMask mask) {
  auto shared = cb ? std::make_shared<const StatusCallback>(std::move(cb)) : nullptr;
  std::lock_guard lock(mutex_);
  status_cb_ = std::move(shared);
  status_mask_ = mask;
  live_mask_.store(status_cb_ ? status_mask_ : 0, std::memory_order_relaxed);
}

CallbackModel HandleObject::callback_model() const {
  return static_cast<CallbackModel>(int_option(Option::callback_model));
}

void HandleObject::notify(Status status, StatusInfo info) {
  // Most notifications have no taker: a request sends about ten, and an
  // application without a status callback should not pay a lock for each.
  // A callback set on another thread at this very moment may miss this one,
  // as it could before; the locked check below stays the authority.
  if (!wants(status)) return;
  std::shared_ptr<const StatusCallback> cb;
  {
    std::lock_guard lock(mutex_);
    if (!status_cb_ || (status_mask_ & status_bit(status)) == 0) return;
    cb = status_cb_;
  }
  auto fn = [cb, h = handle_, self = shared_from_this(), status, info = std::move(info)] {
    (*cb)(h, self->context(), status, info);
  };
  strand_->push(generation(), std::move(fn), callback_model());
}

bool HandleObject::deliver(std::function<void()>&& fn, CallbackModel model) {
  if (model != CallbackModel::short_callback && model != CallbackModel::long_callback) {
    model = callback_model();
  }
  return strand_->push(generation(), std::move(fn), model);
}

const OptionValue* HandleObject::own_option(Option o) const {
  for (const auto& [option, value] : options_) {
    if (option == o) return &value;
  }
  return nullptr;
}

Result<void> HandleObject::set_option(Option o, OptionValue v) {
  if (!option_applies(o, kind_)) {
    return Error(errc::option_not_applicable, std::string("option ") + option_name(o) +
                                                  " cannot be set on a " + handle_kind_name(kind_) +
                                                  " handle");
  }
  if (auto ok = validate_option(o, v); !ok) return ok;
  if (o == Option::context_value) {
    set_context(static_cast<Context>(std::get<std::int64_t>(v)));
    return {};
  }
  std::lock_guard lock(mutex_);
  if (const auto* n = std::get_if<std::int64_t>(&v)) {
    OwnInts* ints = own_ints_.load(std::memory_order_relaxed);
    if (!ints) {
      ints = new OwnInts;
      own_ints_.store(ints, std::memory_order_release);
    }
    ints->values[static_cast<std::size_t>(o)].store(*n, std::memory_order_relaxed);
  }
  for (auto& [option, value] : options_) {
    if (option == o) {
      value = std::move(v);
      return {};
    }
  }
  options_.emplace_back(o, std::move(v));
  options_set_.fetch_or(option_bit(o), std::memory_order_release);
  return {};
}

Result<OptionValue> HandleObject::query_option(Option o) const {
  if (!option_applies(o, kind_)) {
    return Error(errc::option_not_applicable, std::string("option ") + option_name(o) +
                                                  " does not apply to a " +
                                                  handle_kind_name(kind_) + " handle");
  }
  return effective_option(o);
}

OptionValue HandleObject::effective_option(Option o) const {
  if (o == Option::context_value) return OptionValue(static_cast<std::int64_t>(context()));
  if (!option_is_string(o)) return int_option(o);
  for (const HandleObject* h = this; h; h = h->parent_.get()) {
    if (!h->has_own(o)) continue;
    std::lock_guard lock(h->mutex_);
    if (const OptionValue* v = h->own_option(o)) return *v;
  }
  return option_default(o);
}

std::int64_t HandleObject::int_option(Option o) const {
  for (const HandleObject* h = this; h; h = h->parent_.get()) {
    // The bit is set after the value was stored: seeing it (acquire) is
    // seeing the table and a value.
    if (!h->has_own(o)) continue;
    return h->own_ints_.load(std::memory_order_acquire)
        ->values[static_cast<std::size_t>(o)]
        .load(std::memory_order_relaxed);
  }
  return option_default_int(o);
}

std::string HandleObject::string_option(Option o) const {
  for (const HandleObject* h = this; h; h = h->parent_.get()) {
    if (!h->has_own(o)) continue;
    std::lock_guard lock(h->mutex_);
    if (const OptionValue* v = h->own_option(o)) return std::get<std::string>(*v);
  }
  return option_default_string(o);
}

void HandleObject::begin_close() {
  if (closing_.exchange(true)) return;
  on_close_requested();
}

void HandleObject::mark_released() {
  released_.store(true);
  maybe_finish_close();
}

void HandleObject::maybe_finish_close() {
  if (!closing_.load() || !released_.load() || !idle()) return;
  if (closed_.exchange(true)) return;
  // handle_closing is the strand's last callback (C5), whether or not the
  // status callback wants it: sealing the strand drops anything later.
  std::shared_ptr<const StatusCallback> cb;
  {
    std::lock_guard lock(mutex_);
    if (status_cb_ && (status_mask_ & status_bit(Status::handle_closing))) cb = status_cb_;
  }
  if (!cb) {
    // Nobody listens: only the seal, with no callback to queue and run.
    strand_->seal(generation());
    return;
  }
  auto self = shared_from_this();
  strand_->push_last(
      generation(),
      [cb, self] { (*cb)(self->handle_, self->context(), Status::handle_closing, StatusInfo{}); },
      callback_model());
}

// ---------------------------------------------------------------------------

HandleTable& HandleTable::instance() {
  // Never destroyed: handles the application leaks must not be torn down
  // under threads that may still use them at exit.
  static auto* table = new HandleTable;
  return *table;
}

Handle HandleTable::insert(const std::shared_ptr<HandleObject>& object) {
  std::lock_guard lock(mutex_);
  const std::uint32_t index = take_slot();
  Slot& slot = *slot_at(index);
  slot.object = object;
  const Handle h((std::uint64_t{slot.generation} << 32) | (std::uint64_t{index} + 1));
  object->handle_ = h;
  object->strand_ = slot.strand;
  slot.strand->occupy(slot.generation, object->loop(), object->workers());
  return h;
}

std::uint32_t HandleTable::take_slot() {
  // Reuse a freed slot only when enough are free, so a stale id meets a
  // new generation rather than the same slot right away; and only once the
  // last holder's callbacks have all run, since the strand goes with it.
  if (free_.size() - free_head_ > 1024) {
    const std::uint32_t index = free_[free_head_++];
    if (free_head_ > 4096) {
      free_.erase(free_.begin(), free_.begin() + static_cast<std::ptrdiff_t>(free_head_));
      free_head_ = 0;
    }
    if (slot_at(index)->strand->vacant()) return index;
    free_.push_back(index);  // still draining: try it again later
  }
  const std::uint32_t index = size_.load(std::memory_order_relaxed);
  auto& chunk = chunks_[index >> kChunkBits];
  if (!chunk.load(std::memory_order_relaxed)) {
    if ((index >> kChunkBits) >= kMaxChunks) std::abort();  // 64 Mi live handles
    chunk.store(new Slot[kChunkSize], std::memory_order_release);
  }
  size_.store(index + 1, std::memory_order_release);
  return index;
}

const HandleTable::Slot* HandleTable::slot_of(Handle h) const {
  const std::uint64_t low = h.id() & 0xffffffffu;
  if (low == 0) return nullptr;
  const Slot* slot = slot_at(static_cast<std::uint32_t>(low - 1));
  const auto generation = static_cast<std::uint32_t>(h.id() >> 32);
  if (!slot || slot->generation != generation) return nullptr;
  return slot;
}

std::shared_ptr<HandleObject> HandleTable::find(Handle h) const {
  std::lock_guard lock(mutex_);
  const Slot* slot = slot_of(h);
  return slot ? slot->object : nullptr;
}

std::shared_ptr<HandleObject> HandleTable::find(Handle h, HandleKind kind,
                                                HandleKind* found) const {
  std::lock_guard lock(mutex_);
  const Slot* slot = slot_of(h);
  if (!slot || !slot->object) return nullptr;
  if (slot->object->kind() != kind) {
    *found = slot->object->kind();
    return nullptr;
  }
  return slot->object;
}

Result<void> HandleTable::deliver_with_own_model(Handle h, std::function<void()>&& fn) const {
  auto object = find(h);
  if (object && object->deliver(std::move(fn))) return {};
  return not_found(h);
}

Error HandleTable::not_found(Handle h) const {
  const bool found = find(h) != nullptr;  // closed between the post and now
  return Error(errc::invalid_handle,
               (found ? "post to closed handle " : "handle ") + std::to_string(h.id()));
}

std::shared_ptr<HandleObject> HandleTable::remove(Handle h) {
  std::lock_guard lock(mutex_);
  Slot* slot = const_cast<Slot*>(slot_of(h));
  if (!slot || !slot->object) return nullptr;
  auto object = std::move(slot->object);
  slot->strand->close_posts();
  slot->generation = slot->generation == UINT32_MAX ? 1 : slot->generation + 1;
  free_.push_back(static_cast<std::uint32_t>(h.id() & 0xffffffffu) - 1);
  return object;
}

Error lookup_error(Handle h, HandleKind kind, HandleKind found) {
  if (found == kind) return Error(errc::invalid_handle, "handle " + std::to_string(h.id()));
  return Error(errc::wrong_handle_kind, std::string("expected a ") + handle_kind_name(kind) +
                                            " handle, got a " + handle_kind_name(found));
}

Result<std::shared_ptr<HandleObject>> lookup(Handle h) {
  auto object = HandleTable::instance().find(h);
  if (!object) {
    return Error(errc::invalid_handle, "handle " + std::to_string(h.id()));
  }
  return object;
}

}  // namespace uvinet::detail

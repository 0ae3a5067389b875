#include "request.hpp"

#include <cstdlib>

#include "loop.hpp"
#include "operation.hpp"

namespace uvinet::detail {
namespace {

constexpr std::uint8_t kSendSide = 1;
constexpr std::uint8_t kReceiveSide = 2;

const char* kind_name(OperationKind kind) {
  switch (kind) {
    case OperationKind::send: return "send";
    case OperationKind::receive: return "receive";
    case OperationKind::call: return "call";
  }
  return "operation";
}

// The connection's URL with `target` as path and query.
Url request_url(const Url& connection_url, std::string_view target) {
  Url url = connection_url;
  const auto query = target.find('?');
  url.path.assign(target.substr(0, query));
  if (url.path.empty()) url.path = "/";
  if (query != std::string_view::npos) url.query.assign(target.substr(query + 1));
  return url;
}

}  // namespace

RequestObject::RequestObject(std::shared_ptr<ConnectionObject> connection, Context context,
                             std::string_view target)
    : HandleObject(HandleKind::request, std::move(connection), context),
      url_(request_url(this->connection().url(), target)),
      state_(module()->make_request_state()) {}

RequestObject::~RequestObject() = default;

std::uint8_t RequestObject::sides_of(OperationKind kind) const {
  if (!module()->duplex() || kind == OperationKind::call) return kSendSide | kReceiveSide;
  return kind == OperationKind::send ? kSendSide : kReceiveSide;
}

Result<OperationValue> RequestObject::start(std::shared_ptr<RequestObject> self, OperationKind kind,
                                            int verb, std::string&& data, std::size_t max_bytes,
                                            std::span<char> buffer, Completion completion,
                                            CallbackModel model) {
  const bool sync = !completion;
  const bool on_loop = loop()->on_loop_thread();
  // Only the errors need it: built on demand, not on every operation.
  const auto where = [&] {
    return std::string(kind_name(kind)) + " on " + url_.scheme + " request " +
           std::to_string(handle().id());
  };
  if (sync && on_loop) return Error(errc::sync_call_on_loop_thread, where());
  if (closing()) return Error(errc::invalid_handle, where());
  if (!sync && on_loop && protocol_) {
    if (auto now = answer_at_once(ImmediateCall{kind, verb, data, max_bytes, buffer})) {
      return std::move(*now);
    }
  }

  // C15: one operation per side at a time.
  const std::uint8_t sides = sides_of(kind);
  std::uint8_t busy = busy_sides_.load();
  do {
    if (busy & sides) return Error(errc::busy, where());
  } while (!busy_sides_.compare_exchange_weak(busy, busy | sides));

  // Count ourselves pending, THEN look at closing; close() sets closing, THEN
  // looks at the count (maybe_finish_close). With both sequentially
  // consistent, either close waits for this operation or we see the close:
  // handle_closing can never be queued ahead of this operation's callback.
  pending_.fetch_add(1);
  if (closing()) {
    busy_sides_.fetch_and(static_cast<std::uint8_t>(~sides));
    pending_.fetch_sub(1);
    maybe_finish_close();
    return Error(errc::invalid_handle, where());
  }
  auto op =
      std::allocate_shared<OperationImpl>(OperationAllocator<OperationImpl>(), std::move(self),
                                          kind, verb, std::move(data), max_bytes, buffer, sides);
  op->completion_ = std::move(completion);
  op->model_ = model;
  if (sync) op->sync_result_.emplace();

  // C7: the session's bound on operations in flight. The operation is
  // listed (add_op) once it is sure to go on: from then on a close may
  // cancel it, on the loop thread.
  Gate& gate = session().operations();
  const auto limit = int_option(Option::max_operations);
  const auto policy = static_cast<LimitPolicy>(int_option(Option::limit_policy));
  if (policy == LimitPolicy::queue) {
    add_op(op);  // a close cancels it while it waits for its slot
    // Tried first without a waiter: building one costs an allocation, and
    // the slot is usually free.
    if (!gate.try_acquire(limit) && !gate.acquire_or_wait(limit, [op] { op->owner_->admit(op); })) {
      return wait_or_pending(op, sync);
    }
  } else if (gate.try_acquire(limit)) {
    add_op(op);
  } else {
    // Nothing started: undo, and say why at once.
    busy_sides_.fetch_and(static_cast<std::uint8_t>(~sides));
    pending_.fetch_sub(1);
    maybe_finish_close();
    return Error(errc::too_many_operations,
                 where() + ": " + std::to_string(limit) + " operations already in flight");
  }

  if (!sync && on_loop) {
    // Started from a short callback: run it here, so a module that can finish
    // at once lets the call return the final result (C1), with no callback.
    op->holds_slot_ = true;
    op->phase_ = OperationImpl::starting;
    begin(op);
    if (op->phase_ == OperationImpl::starting) {
      op->phase_ = OperationImpl::pending;
      return Error(errc::io_pending);
    }
    return std::move(op->inline_result_);
  }
  admit(op);
  return wait_or_pending(op, sync);
}

// Loop thread, with the module made. The call takes effect where it finds
// its sides free, and is over before this returns, so it never holds them:
// an operation another thread starts meanwhile comes after it, since its
// module work waits for this thread, and so does a close from another
// thread (C13, C15). No atomic read-modify-write here: each costs more than
// all of this function's other work.
std::optional<Result<OperationValue>> RequestObject::answer_at_once(const ImmediateCall& call) {
  if (transfer_expired_) return std::nullopt;  // start() says so
  if (busy_sides_.load(std::memory_order_acquire) & sides_of(call.kind)) {
    return std::nullopt;  // start() says busy
  }
  return protocol_->answer_at_once(call);
}

Result<OperationValue> RequestObject::wait_or_pending(const std::shared_ptr<OperationImpl>& op,
                                                      bool sync) {
  if (!sync) return Error(errc::io_pending);
  return op->sync_result_->get_future().get();
}

void RequestObject::add_op(const std::shared_ptr<OperationImpl>& op) {
  std::lock_guard lock(ops_mutex_);
  for (auto& place : ops_) {
    if (!place) {
      place = op;
      return;
    }
  }
  std::abort();  // a third operation: the busy sides let no more than two in
}

void RequestObject::remove_op(const OperationImpl* op) {
  std::lock_guard lock(ops_mutex_);
  for (auto& place : ops_) {
    if (place.get() == op) place.reset();
  }
}

std::array<std::shared_ptr<OperationImpl>, 2> RequestObject::current_ops() {
  std::lock_guard lock(ops_mutex_);
  return ops_;
}

void RequestObject::admit(const std::shared_ptr<OperationImpl>& op) {
  const bool posted = loop()->post([op] {
    op->holds_slot_ = true;
    op->owner_->begin(op);
  });
  if (!posted) {
    // The loop has stopped: only at process teardown.
    session().operations().release();
  }
}

void RequestObject::begin(const std::shared_ptr<OperationImpl>& op) {
  if (op->done_) {
    // Cancelled while it waited for its slot.
    if (op->holds_slot_) session().operations().release();
    op->holds_slot_ = false;
    return;
  }
  if (closing()) {
    complete(*op, Error(errc::cancelled, "request " + std::to_string(handle().id()) + " closed"));
    return;
  }
  if (transfer_expired_) {
    complete(*op, Error(errc::transfer_timeout, "request to " + url_.host));
    return;
  }
  if (!protocol_) {
    env_.emplace(*this);
    protocol_ = module()->open_request(*env_);
    if (!protocol_) {
      complete(*op, Error(errc::operation_not_supported, url_.scheme + " module made no request"));
      return;
    }
  }
  start_timers(op);
  protocol_->start(op);
}

void RequestObject::start_timers(const std::shared_ptr<OperationImpl>& op) {
  start_transfer_timer();
  // A module's own calls mean protocol-specific things; it times them itself.
  if (op->kind_ == OperationKind::call) return;
  const Option which =
      op->kind_ == OperationKind::send ? Option::send_timeout_ms : Option::receive_timeout_ms;
  if (const auto ms = int_option(which); ms > 0) {
    op->timer_ = make_loop_timer(loop()->uv());
    const errc code = op->kind_ == OperationKind::send ? errc::send_timeout : errc::receive_timeout;
    OperationImpl* raw = op.get();
    op->timer_->start(static_cast<std::uint64_t>(ms), [this, raw, code, ms] {
      cancel(*raw, Error(code, std::string(kind_name(raw->kind_)) + " to " + url_.host + " after " +
                                   std::to_string(ms) + " ms"));
    });
  }
}

void RequestObject::start_transfer_timer() {
  if (transfer_timer_) return;
  const auto ms = int_option(Option::transfer_timeout_ms);
  if (ms <= 0) return;
  transfer_timer_ = make_loop_timer(loop()->uv());
  transfer_timer_->start(static_cast<std::uint64_t>(ms), [this, ms] {
    transfer_expired_ = true;
    const auto ops = current_ops();
    const Error why(errc::transfer_timeout,
                    "transfer with " + url_.host + " after " + std::to_string(ms) + " ms");
    for (auto& op : ops) {
      if (op) cancel(*op, why);
    }
  });
}

void RequestObject::cancel(OperationImpl& op, const Error& why) {
  auto keep = op.shared_from_this();
  if (op.done_) return;
  // Only an operation the module has started is the module's to stop.
  if (protocol_ && op.holds_slot_) protocol_->cancel(op, why);
  complete(op, why);  // does nothing if the module completed it meanwhile
}

void RequestObject::complete(OperationImpl& op, Result<OperationValue> result) {
  if (op.done_) return;  // exactly once
  op.done_ = true;
  // Completed inside the initiating call, which holds the operation and
  // returns the result: no callback, and no reference to count here.
  // Otherwise `keep` holds the operation, and us through owner_, to the end.
  const bool at_once = op.phase_ == OperationImpl::starting;
  std::shared_ptr<OperationImpl> keep = at_once ? nullptr : op.shared_from_this();
  release_sides(op);
  if (at_once) {
    op.inline_result_ = std::move(result);
    op.phase_ = OperationImpl::inline_done;
  } else {
    report(keep, std::move(result));
  }
  pending_.fetch_sub(1);
  maybe_finish_close();
}

// A completion after the initiating call returned: request_error and
// request_complete for those who listen, then the operation's callback, or
// the synchronous caller's result.
void RequestObject::report(const std::shared_ptr<OperationImpl>& held,
                           Result<OperationValue> result) {
  OperationImpl& op = *held;
  if (wants(Status::request_error) || wants(Status::request_complete)) {
    StatusInfo info;
    if (result) {
      const bool counted = op.kind_ == OperationKind::send || !op.buffer_.empty();
      info.number = counted ? result->count : result->data.size();
    } else {
      info.error = result.error();
      notify(Status::request_error, info);
    }
    notify(Status::request_complete, std::move(info));
  }
  if (!op.completion_) {
    op.sync_result_->set_value(std::move(result));
    return;
  }
  // The callback names only the operation, which holds its completion and
  // result: a lambda that small lives inside the std::function, so handing
  // it to the strand allocates nothing.
  op.inline_result_ = std::move(result);
  op.self_ = held;
  const bool queued = deliver(
      [raw = &op] {
        auto self = std::move(raw->self_);
        auto completion = std::move(self->completion_);
        auto result = std::move(self->inline_result_);
        self.reset();  // our hold on it ends before the callback, as before
        completion(std::move(result));
      },
      op.model_);
  if (!queued) op.self_.reset();
}

// What a completed operation held: its timer, its slot under the bound,
// its place in ops_, and its sides, freed before any callback runs so that
// the callback may start the next operation (C14).
void RequestObject::release_sides(OperationImpl& op) {
  op.timer_.reset();
  if (op.holds_slot_) {
    op.holds_slot_ = false;
    session().operations().release();
  }
  remove_op(&op);
  busy_sides_.fetch_and(static_cast<std::uint8_t>(~op.sides_));
}

void RequestObject::on_close_requested() {
  // Closed by a short callback, on the loop thread: no module code is on
  // the stack (callbacks run from the strands, never from inside a module),
  // so close now rather than a queue hop later.
  if (loop()->on_loop_thread()) {
    close_on_loop();
    return;
  }
  auto self = std::static_pointer_cast<RequestObject>(shared_from_this());
  if (!loop()->post([self] { self->close_on_loop(); })) mark_released();
}

void RequestObject::close_on_loop() {
  if (const auto ops = current_ops(); ops[0] || ops[1]) {
    const Error why(errc::cancelled, "request " + std::to_string(handle().id()) + " closed");
    for (auto& op : ops) {
      if (op) cancel(*op, why);
    }
  }
  transfer_timer_.reset();
  if (!protocol_) {
    mark_released();
    return;
  }
  // Held until the module lets go; the callback names only `this`, which
  // std::function keeps without an allocation.
  self_while_closing_ = std::static_pointer_cast<RequestObject>(shared_from_this());
  in_protocol_close_ = true;
  protocol_->close([this] {
    if (in_protocol_close_) {
      released_in_close_ = true;  // at once: finished below, after close() returned
      return;
    }
    // Later, from inside the module's own callback: destroy it on a later pass.
    loop()->post([self = std::move(self_while_closing_)] { self->release_protocol(); });
  });
  in_protocol_close_ = false;
  if (released_in_close_) release_protocol();
}

void RequestObject::release_protocol() {
  const auto self = std::move(self_while_closing_);  // empty when posted: the task holds us
  protocol_.reset();
  env_.reset();
  mark_released();
}

}  // namespace uvinet::detail

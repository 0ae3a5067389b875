// The request handle object: runs a module's operations under the
// asynchronous contract. Where each rule lives:
//   C1/C2  start(): synchronous, at once, or pending; never a callback inside
//          the initiating call (at-once results are returned, not called back;
//          answer_at_once() returns those the module knows without an Operation)
//   C7     start(): the session's operation gate, fail-fast or queued
//   C13    on_close_requested(): cancel, then complete exactly once
//   C15    start(): the busy sides of the request
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "completion.hpp"
#include "request_env.hpp"
#include "session.hpp"

namespace uvinet::detail {

class OperationImpl;

class RequestObject final : public HandleObject {
 public:
  using Completion = detail::Completion;

  /// `target`: the path, with '?' and the query when there is one.
  RequestObject(std::shared_ptr<ConnectionObject> connection, Context context,
                std::string_view target);
  ~RequestObject() override;

  const Url& url() const noexcept { return url_; }
  /// The connection's module, which the connection keeps (C13).
  const std::shared_ptr<Module>& module() const noexcept { return connection().module(); }
  const std::shared_ptr<void>& state() const noexcept { return state_; }
  ConnectionObject& connection() const noexcept {
    return static_cast<ConnectionObject&>(*parent());
  }

  /// Starts an operation. `self`: the caller's hold on this request, which
  /// the operation takes over. `completion` empty means synchronous (C1);
  /// `buffer`: call_into's memory, empty for the others.
  Result<OperationValue> start(std::shared_ptr<RequestObject> self, OperationKind kind, int verb,
                               std::string&& data, std::size_t max_bytes, std::span<char> buffer,
                               Completion completion, CallbackModel model);

  /// Completes `op` exactly once (loop thread).
  void complete(OperationImpl& op, Result<OperationValue> result);

 private:
  friend class OperationImpl;
  std::optional<Result<OperationValue>> answer_at_once(const ImmediateCall& call);
  void admit(const std::shared_ptr<OperationImpl>& op);  // any thread: has its slot
  void begin(const std::shared_ptr<OperationImpl>& op);  // loop thread
  void cancel(OperationImpl& op, const Error& why);      // loop thread
  void release_sides(OperationImpl& op);                 // loop thread
  void report(const std::shared_ptr<OperationImpl>& held, Result<OperationValue> result);
  void start_timers(const std::shared_ptr<OperationImpl>& op);
  void start_transfer_timer();
  void on_close_requested() override;
  void close_on_loop();
  void release_protocol();  // loop thread: the module let go after close()
  bool idle() const override { return pending_.load() == 0; }
  std::uint8_t sides_of(OperationKind kind) const;
  Result<OperationValue> wait_or_pending(const std::shared_ptr<OperationImpl>& op, bool sync);

  const Url url_;
  const std::shared_ptr<void> state_;  // Module::make_request_state()
  std::atomic<std::uint8_t> busy_sides_{0};
  std::atomic<int> pending_{0};  // operations started and not yet completed

  // The operations started and not completed: one per side at most (C15),
  // so two places do. Guarded by ops_mutex_.
  Mutex ops_mutex_;
  std::array<std::shared_ptr<OperationImpl>, 2> ops_;
  void add_op(const std::shared_ptr<OperationImpl>& op);
  void remove_op(const OperationImpl* op);
  /// ops_, copied: one or two (C15), so no vector to allocate.
  std::array<std::shared_ptr<OperationImpl>, 2> current_ops();

  // Loop thread only. The module's environment lives inside the request:
  // one allocation fewer for each request.
  std::optional<RequestEnvImpl> env_;
  std::unique_ptr<ProtocolRequest> protocol_;
  std::unique_ptr<Timer> transfer_timer_;
  bool transfer_expired_ = false;
  // Closing: the module's close() is running; it released at once; and the
  // hold on ourselves until it released.
  bool in_protocol_close_ = false;
  bool released_in_close_ = false;
  std::shared_ptr<RequestObject> self_while_closing_;
};

}  // namespace uvinet::detail

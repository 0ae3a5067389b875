// Handles: session -> connection -> request (contract rules C4, C10-C13).
//
// A handle is a small value holding a generation-checked id; the runtime owns
// the object behind it. Copies of a handle name the same object. Once the
// handle is closed every call on it fails with errc::invalid_handle, and a
// stale id can never reach another object, even one that reuses its slot.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>

#include "uvinet/async.hpp"
#include "uvinet/options.hpp"
#include "uvinet/result.hpp"
#include "uvinet/status.hpp"

typedef struct uv_loop_s uv_loop_t;

namespace uvinet {

enum class HandleKind : std::uint8_t { session, connection, request };

const char* handle_kind_name(HandleKind k) noexcept;

class Handle {
 public:
  constexpr Handle() = default;
  constexpr explicit Handle(std::uint64_t id) : id_(id) {}

  /// The raw id: index and generation. 0 is never a valid handle.
  constexpr std::uint64_t id() const noexcept { return id_; }
  constexpr explicit operator bool() const noexcept { return id_ != 0; }
  friend constexpr bool operator==(Handle a, Handle b) noexcept { return a.id_ == b.id_; }

  /// Closes the handle from any thread, including inside its own callbacks
  /// (C12). A pending operation is cancelled: it still completes exactly once,
  /// with success or errc::cancelled (C13). The handle's last callback is
  /// Status::handle_closing. Children stay open and keep working.
  Result<void> close() const;

  Result<HandleKind> kind() const;
  Result<Context> context() const;
  Result<void> set_context(Context value) const;

  /// Sets this handle's status callback; handles created under it afterwards
  /// inherit it together with its mask (C4).
  Result<void> set_status_callback(StatusCallback callback, StatusMask mask = all_statuses) const;

  Result<void> set_option(Option option, OptionValue value) const;
  Result<OptionValue> query_option(Option option) const;
  Result<std::int64_t> query_int(Option option) const;
  Result<std::string> query_string(Option option) const;

  /// Runs `fn` as a callback of this handle: ordered with its other
  /// callbacks, never concurrently with them, on a thread of the handle's
  /// callback model (or `model` when given).
  Result<void> post(std::function<void()> fn, CallbackModel model = {}) const;

 private:
  std::uint64_t id_ = 0;
};

class Connection;
class Request;

/// What an operation completes with: a count (send, or bytes written into a
/// buffer the caller lent) or bytes (receive).
struct OperationValue {
  std::size_t count = 0;
  std::string data;
};

/// How a session starts. Every field is optional.
struct SessionConfig {
  std::string user_agent = "uvinet/0.1";
  CallbackModel callback_model = CallbackModel::short_callback;
  Context context = 0;
  StatusCallback status_callback;
  StatusMask status_mask = all_statuses;
  /// Attach the session to the application's own libuv loop: that loop's
  /// thread becomes the session's I/O thread and no loop thread is started.
  /// Open the session on that thread, and keep the loop running until every
  /// handle of the session delivered handle_closing (uv_run returns by itself
  /// once uvinet let go of the loop). The application must ignore or block
  /// SIGPIPE on that thread, as libuv writes to sockets with write(2).
  uv_loop_t* loop = nullptr;
};

class Session : public Handle {
 public:
  using Handle::Handle;
  /// Opens a session. The runtime's loop thread and worker pool start with
  /// the first session and stop when the last session is closed.
  static Result<Session> open(SessionConfig config = {});

  /// Makes a connection handle for `url`'s scheme, host and port (the path is
  /// ignored). No I/O happens yet. Fails with errc::unsupported_scheme when no
  /// module is registered for the scheme.
  Result<Connection> connect(std::string_view url, Context context = 0) const;
};

class Connection : public Handle {
 public:
  using Handle::Handle;
  /// Makes a request handle for `target` (a path such as "/index.html", or
  /// empty) on this connection. No I/O happens yet.
  Result<Request> open_request(std::string_view target, Context context = 0) const;
};

/// A request of a module that speaks a plain byte stream (send, receive).
/// Protocols with richer requests (HTTP) offer their own calls on the same
/// handle. One operation at a time (C15) unless the module is duplex, where
/// send and receive each count on their own.
class Request : public Handle {
 public:
  using Handle::Handle;
  /// Sends `data` (owned by the call). Completes with the number of bytes sent.
  Result<std::size_t> send(std::string data,
                           const AsyncContext<std::size_t>* async = nullptr) const;
  /// Receives up to `max_bytes`; completes with the bytes, or with an empty
  /// string at the end of the stream.
  Result<std::string> receive(std::size_t max_bytes,
                              const AsyncContext<std::string>* async = nullptr) const;
  /// Starts one of the module's own operations, named by `verb` (see the
  /// module's header), with owned `data` and a byte budget. Protocol APIs
  /// such as HTTP's wrap this in typed calls.
  Result<OperationValue> call(int verb, std::string data, std::size_t max_bytes,
                              const AsyncContext<OperationValue>* async = nullptr) const;
  /// The same, asynchronous (C1), taking `async` over instead of reading it:
  /// its callback moves into the operation rather than being copied. For
  /// protocol APIs that wrap the application's callback in one of their own.
  Result<OperationValue> call(int verb, std::string data, std::size_t max_bytes,
                              AsyncContext<OperationValue>&& async) const;
  /// The same, asynchronous (C1), for a protocol API whose application
  /// callback takes Result<void>, Result<std::size_t> (the OperationValue's
  /// count) or Result<std::string> (its data): the runtime converts the
  /// result and calls that callback itself, so the API needs no wrapper
  /// around it (one allocation less per call). A result at once is returned
  /// as the OperationValue, for the API to convert the same way. `async` is
  /// read during the call only.
  Result<OperationValue> call(int verb, std::string data, std::size_t max_bytes,
                              const AsyncContext<void>& async) const;
  Result<OperationValue> call(int verb, std::string data, std::size_t max_bytes,
                              const AsyncContext<std::size_t>& async) const;
  Result<OperationValue> call(int verb, std::string data, std::size_t max_bytes,
                              const AsyncContext<std::string>& async) const;
  /// Starts one of the module's own operations that writes its result into
  /// `buffer`, memory the caller lends: it must stay alive, and the caller
  /// must not touch it, until the operation completes (C3); the module sees
  /// it as Operation::buffer() and completes with the count it wrote. An
  /// operation cancelled or failed may have written part of it.
  Result<OperationValue> call_into(int verb, std::span<char> buffer,
                                   const AsyncContext<OperationValue>* async = nullptr) const;
  /// call_into(), asynchronous, with a callback that takes the count, as
  /// the typed call() above.
  Result<OperationValue> call_into(int verb, std::span<char> buffer,
                                   const AsyncContext<std::size_t>& async) const;
};

}  // namespace uvinet

// Protocol modules: the interface a protocol implements and the registry
// that maps URL schemes to modules. Built-in modules register exactly like
// plugins written outside the tree; a plugin can also be loaded from a
// shared object with load_module().
//
// The runtime gives every module, without the module writing them: handles
// and context values, status notifications, the asynchronous contract
// (synchronous / at once / pending calls, exactly-once completion, C1-C3),
// one operation at a time (C15), operation timeouts, cancellation by close
// (C13), bounds (C7), and TCP and TLS connections with name resolution.
//
// Threading rule for module authors: every method below is called on the
// session's I/O loop thread, and must not block.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <typeinfo>

#include "uvinet/handle.hpp"
#include "uvinet/options.hpp"
#include "uvinet/result.hpp"
#include "uvinet/status.hpp"
#include "uvinet/stream.hpp"
#include "uvinet/url.hpp"

namespace uvinet {

class Handle;

/// Bumped when this interface changes; load_module() refuses a plugin built
/// against another version.
inline constexpr int module_abi_version = 8;

/// send and receive are the generic byte-stream operations (Request::send,
/// Request::receive); `call` is one of the module's own, named by a verb
/// (Request::call), such as HTTP's "send the request" or "read data".
enum class OperationKind : std::uint8_t { send, receive, call };

/// One operation the application started on a request.
class Operation {
 public:
  virtual ~Operation() = default;
  virtual OperationKind kind() const = 0;
  /// call: the module's verb; 0 for send and receive.
  virtual int verb() const = 0;
  /// send, call: the bytes to send (the module may move them out).
  virtual std::string& data() = 0;
  /// receive, call: the most bytes the application asked for.
  virtual std::size_t max_bytes() const = 0;
  /// Completes the operation. Only the first completion counts: after the
  /// runtime cancelled the operation (close, timeout), later calls are ignored.
  virtual void complete(Result<OperationValue> result) = 0;
  virtual bool completed() const = 0;
  /// call_into: the caller's memory the result goes into (valid until the
  /// operation completes; written only before that); empty otherwise.
  virtual std::span<char> buffer() const = 0;
};

/// A loop-thread timer. Destroying it stops it.
class Timer {
 public:
  virtual ~Timer() = default;
  /// (Re)starts the timer: `fn` runs once after `ms` milliseconds.
  virtual void start(std::uint64_t ms, std::function<void()> fn) = 0;
  virtual void stop() = 0;
};

/// The runtime's services for one request, given to the module.
class RequestEnv {
 public:
  using ConnectCallback = std::function<void(Result<std::unique_ptr<Stream>>)>;

  virtual ~RequestEnv() = default;
  virtual Handle handle() const = 0;
  /// The connection's URL with the request's target as path and query.
  virtual const Url& url() const = 0;
  /// Sends a status notification to the request's status callback.
  virtual void notify(Status status, StatusInfo info = {}) = 0;
  /// Opens a TCP stream to `host`:`port`, within the session's bound on
  /// connections per server, with the resolve and connect timeouts and the
  /// resolving / resolved / connecting / connected notifications.
  virtual void connect(std::string host, std::uint16_t port, ConnectCallback done) = 0;
  /// connect(), then a TLS handshake over the TCP stream: `done` gets a
  /// Stream that reads and writes plaintext. The server's certificate must
  /// chain to the CAs of the request's ca_file / ca_directory / ca_pem
  /// options (or the system's when none is set), not be listed in crl_file,
  /// and name `host` (sent as SNI
  /// too), unless insecure_skip_verify is 1; the client presents
  /// client_cert_file / client_key_file when set; ALPN offers "http/1.1".
  /// The handshake gets connect_timeout_ms of its own after the TCP connect
  /// (connect_timeout when it runs out). A rejected certificate fails with certificate_untrusted,
  /// certificate_expired, certificate_name_mismatch or certificate_revoked,
  /// after a secure_failure notification whose text gives the reasons; other
  /// handshake failures with tls_handshake_failed, and bad TLS options with
  /// tls_error.
  virtual void connect_secure(std::string host, std::uint16_t port, ConnectCallback done) = 0;
  /// The TLS handshake of connect_secure() over a stream the module already
  /// has, such as a tunnel through an HTTP proxy (CONNECT): `host` is the
  /// server at the far end, whose certificate is checked and which is sent
  /// as SNI. Same options, timeout and errors as connect_secure(); `done`
  /// gets the plaintext stream, which owns `stream`. On failure `stream` is
  /// closed. `done` never runs inside this call.
  virtual void secure(std::unique_ptr<Stream> stream, std::string host, ConnectCallback done) = 0;
  virtual std::unique_ptr<Timer> make_timer() = 0;
  /// The value of `o` that governs this request: set on it, inherited from
  /// its connection or session (session-only options included), or the default.
  virtual Result<OptionValue> option(Option o) const = 0;
  /// option() of an integer option as a plain number, 0 for a string one.
  /// A state machine reads several options on every request: this costs
  /// no Result and no variant.
  virtual std::int64_t int_option(Option o) const {
    auto v = option(o);
    return v && std::holds_alternative<std::int64_t>(*v) ? std::get<std::int64_t>(*v) : 0;
  }
  /// option() of a string option, "" for an integer one.
  virtual std::string string_option(Option o) const {
    auto v = option(o);
    return v && std::holds_alternative<std::string>(*v) ? std::get<std::string>(std::move(*v))
                                                        : std::string();
  }
  /// The request's state from Module::make_request_state(), shared with the
  /// module's public API on other threads (guard it with its own mutex).
  virtual const std::shared_ptr<void>& request_state() const = 0;
  /// State this module keeps per session (a connection pool), made by
  /// `make` on first use; loop thread only, like everything here.
  virtual std::shared_ptr<void> session_state(
      const std::function<std::shared_ptr<void>()>& make) = 0;
};

/// An operation offered to ProtocolRequest::answer_at_once(): what start()
/// would find in the Operation, with no Operation made.
struct ImmediateCall {
  OperationKind kind;
  int verb;
  std::string& data;  ///< the module may move it out only when it answers
  std::size_t max_bytes;
  std::span<char> buffer;
};

/// A module's state machine for one request handle.
class ProtocolRequest {
 public:
  virtual ~ProtocolRequest() = default;
  /// The result of `call` when the module has it already, with no I/O, timer
  /// or callback to wait for (bytes buffered, the end of a body, a failure
  /// known before): the runtime returns it from the initiating call (C1)
  /// without making an Operation, so a read of buffered data costs no more
  /// than a copy. Nothing: the runtime makes the Operation and calls start(),
  /// and the module must have changed nothing. Offered only for calls made
  /// on the loop thread with a completion context, once the request's first
  /// operation made this object, with none pending on the call's sides and
  /// the handle not closing; the runtime's operation bound (C7) does not
  /// count a call answered here, since it is never in flight. Optional.
  virtual std::optional<Result<OperationValue>> answer_at_once(const ImmediateCall& call) {
    (void)call;
    return std::nullopt;
  }
  /// Starts `op`. Complete it now (the runtime then returns the result at
  /// once when it can) or later.
  virtual void start(std::shared_ptr<Operation> op) = 0;
  /// `op` is being cancelled with `why` (cancelled, or a timeout); the
  /// runtime completes it with `why` right after this returns unless the
  /// module completed it first. Stop its I/O and forget `op`.
  virtual void cancel(Operation& op, const Error& why) = 0;
  /// The handle was closed and no operation is pending: release everything
  /// (close streams, stop timers) and call `released` once that is done.
  virtual void close(std::function<void()> released) = 0;
};

class Module {
 public:
  virtual ~Module() = default;
  /// The URL scheme, lower case ("echo").
  virtual std::string_view scheme() const = 0;
  /// The port used when a URL has none.
  virtual std::uint16_t default_port() const = 0;
  /// True when send and receive may be pending at the same time (C15).
  virtual bool duplex() const { return false; }
  /// Makes the state machine of a new request; called on the loop thread
  /// before its first operation. `env` outlives the returned object.
  virtual std::unique_ptr<ProtocolRequest> open_request(RequestEnv& env) = 0;
  /// Makes the state a new request handle shares between the module's
  /// public API (any thread) and its ProtocolRequest (loop thread); called on
  /// the thread creating the handle. None by default.
  virtual std::shared_ptr<void> make_request_state() { return nullptr; }
};

/// The state Module::make_request_state() made for `request`, for the
/// module's public API; errc::invalid_handle when the handle is closed.
Result<std::shared_ptr<void>> request_state(const Request& request);

/// request_state() for a module's public API, which must tell its own
/// requests from other modules': errc::wrong_handle_kind unless the request's
/// module is of type `module_type` (typeid of the Module class). The pointer
/// shares the request object's ownership, which keeps the state: no count
/// of its own.
Result<std::shared_ptr<void>> request_state(const Request& request,
                                            const std::type_info& module_type);

/// Connection::open_request() for a module's public API, which fills in the
/// new request's state (Module::make_request_state()) before anyone else can
/// reach it: `init` runs on the state before the handle exists, with no lock
/// needed, and its error is returned with no handle made. Cheaper than
/// open_request() followed by request_state(). errc::wrong_handle_kind unless
/// the connection's module is of type `module_type`.
Result<Request> open_request(const Connection& connection, std::string_view target, Context context,
                             const std::type_info& module_type,
                             const std::function<Result<void>(void* state)>& init);

/// Registers `module` for its scheme. Fails with errc::module_conflict when
/// the scheme is taken. Thread-safe.
Result<void> register_module(std::shared_ptr<Module> module);
/// Removes the module of `scheme`; handles already made keep theirs.
Result<void> unregister_module(std::string_view scheme);
/// The module registered for `scheme`, or errc::unsupported_scheme.
Result<std::shared_ptr<Module>> find_module(std::string_view scheme);

/// Loads a plugin from a shared object and registers its module. The object
/// exports, with C linkage:
///   int uvinet_module_abi_version();      // returns module_abi_version
///   uvinet::Module* uvinet_module_create(); // a new module, owned by the caller
/// The library stays loaded for the life of the process.
Result<std::shared_ptr<Module>> load_module(const std::string& path);

}  // namespace uvinet

/// Defines the two entry points of a plugin for module class `ModuleClass`.
#define UVINET_DEFINE_MODULE(ModuleClass)                                                      \
  extern "C" __attribute__((visibility("default"))) int uvinet_module_abi_version() {          \
    return ::uvinet::module_abi_version;                                                       \
  }                                                                                            \
  extern "C" __attribute__((visibility("default"))) ::uvinet::Module* uvinet_module_create() { \
    return new ModuleClass();                                                                  \
  }

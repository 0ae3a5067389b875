// Errors: one enum, one category, one list that names every error and says
// what it means. Every fallible uvinet call reports a `uvinet::Error`, which is
// a `std::error_code` in the uvinet category plus, where the runtime knows it,
// the place the failure happened ("connect to 127.0.0.1:7: ...").
#pragma once

#include <memory>
#include <string>
#include <system_error>

namespace uvinet {

// X(name, message): the single place to add an error.
// clang-format off
#define UVINET_ERRORS(X)                                                                     \
  X(io_pending, "the operation is pending and will complete through its callback")          \
  X(invalid_handle, "the handle is not open: it was closed, or never existed")              \
  X(wrong_handle_kind, "the handle is of the wrong kind for this call")                     \
  X(busy, "another operation is already pending on this handle")                           \
  X(cancelled, "the operation was cancelled because its handle was closed")                 \
  X(sync_call_on_loop_thread,                                                               \
    "a synchronous call was made on the I/O loop thread, where it would deadlock; "         \
    "pass an AsyncContext instead")                                                         \
  X(too_many_operations, "the session's limit on operations in flight was reached")         \
  X(too_many_connections, "the session's limit on connections to this server was reached") \
  X(option_not_applicable, "the option does not apply to this kind of handle")              \
  X(invalid_option_value, "the option value has the wrong type or is out of range")         \
  X(invalid_argument, "an argument is invalid")                                             \
  X(invalid_url, "the URL is malformed")                                                    \
  X(unsupported_scheme, "no protocol module is registered for the URL's scheme")            \
  X(module_load_failed, "the protocol module could not be loaded")                          \
  X(module_conflict, "a protocol module is already registered for this scheme")             \
  X(invalid_date, "the text is not a valid HTTP date")                                      \
  X(name_not_resolved, "the host name could not be resolved")                               \
  X(cannot_connect, "the connection to the server could not be made")                       \
  X(connection_refused, "the server refused the connection")                                \
  X(connection_reset, "the connection was reset by the server")                             \
  X(connection_closed, "the server closed the connection")                                  \
  X(resolve_timeout, "resolving the host name timed out")                                   \
  X(connect_timeout, "connecting to the server timed out")                                  \
  X(send_timeout, "sending to the server timed out")                                        \
  X(receive_timeout, "receiving from the server timed out")                                 \
  X(transfer_timeout, "the whole transfer took longer than its timeout")                    \
  X(io_error, "a socket operation failed")                                                  \
  X(protocol_error, "the server broke the protocol")                                        \
  X(operation_not_supported, "the protocol module does not support this operation")         \
  X(shutting_down, "the runtime is shutting down")                                          \
  X(invalid_response, "the server's response is malformed")                                 \
  X(response_truncated, "the connection ended before the response was complete")           \
  X(headers_too_large, "the response headers are larger than the limit")                    \
  X(too_many_headers, "the response has more header fields than the limit")                 \
  X(line_too_long, "a line of the response is longer than the limit")                       \
  X(chunk_too_large, "a chunk of the response body is larger than the limit")               \
  X(decoded_too_large, "the decoded response body is larger than the limit")                \
  X(too_many_redirects, "the response redirected more times than allowed")                  \
  X(redirect_refused, "the redirect is not allowed by the redirect policy")                 \
  X(invalid_state, "the call is not valid in the request's current state")                  \
  X(header_not_found, "the response has no header field of that name")                     \
  X(tls_handshake_failed, "the TLS handshake with the server failed")                       \
  X(certificate_untrusted, "the server's certificate does not chain to a trusted CA")       \
  X(certificate_expired,                                                                    \
    "the server's certificate is outside its validity period (expired or not yet valid)")   \
  X(certificate_name_mismatch, "the server's certificate is not for the host name asked for") \
  X(certificate_revoked, "the server's certificate has been revoked")                       \
  X(tls_error, "the TLS layer failed after the handshake")
// clang-format on

enum class errc : int {
  ok = 0,
#define UVINET_ERRC_ENUM(name, message) name,
  UVINET_ERRORS(UVINET_ERRC_ENUM)
#undef UVINET_ERRC_ENUM
};

/// The category of every uvinet error code; its name is "uvinet".
const std::error_category& category() noexcept;

/// The short name of an error ("connect_timeout"), for logs and tests.
const char* error_name(errc e) noexcept;

inline std::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), category()};
}

/// An error code with an optional note on where it happened.
/// Compares equal to the `errc` or `std::error_code` it carries.
class Error {
 public:
  Error() = default;
  Error(std::error_code code) : code_(code) {}        // NOLINT: implicit by design
  Error(errc code) : code_(make_error_code(code)) {}  // NOLINT: implicit by design
  Error(std::error_code code, std::string where)
      : code_(code), where_(std::make_shared<const std::string>(std::move(where))) {}
  Error(errc code, std::string where) : Error(make_error_code(code), std::move(where)) {}

  const std::error_code& code() const noexcept { return code_; }
  /// Where the failure happened, or empty when the runtime does not know.
  const std::string& where() const noexcept;
  /// "where: what", or just "what" when there is no `where`.
  std::string message() const;
  explicit operator bool() const noexcept { return static_cast<bool>(code_); }
  operator std::error_code() const noexcept { return code_; }  // NOLINT: implicit by design

  friend bool operator==(const Error& a, const Error& b) noexcept { return a.code_ == b.code_; }
  friend bool operator==(const Error& a, errc b) noexcept { return a.code_ == make_error_code(b); }
  friend bool operator==(const Error& a, const std::error_code& b) noexcept { return a.code_ == b; }

 private:
  std::error_code code_;
  std::shared_ptr<const std::string> where_;
};

}  // namespace uvinet

template <>
struct std::is_error_code_enum<uvinet::errc> : std::true_type {};

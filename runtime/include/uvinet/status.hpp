// Status notifications (WinINet's InternetSetStatusCallback, contract rule C4).
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "uvinet/error.hpp"

namespace uvinet {

/// What a status callback is told. Progress notifications come in the order
/// the events happened; `handle_closing` is always the last one a handle gets.
enum class Status : std::uint8_t {
  handle_created,
  resolving_name,
  name_resolved,
  connecting_to_server,
  connected_to_server,
  sending_request,
  request_sent,
  receiving_response,
  response_received,
  redirect,
  intermediate_response,
  closing_connection,
  connection_closed,
  headers_available,
  data_available,
  read_complete,
  write_complete,
  request_complete,  ///< an operation completed; `info.error` says how
  request_error,     ///< an operation failed; `info.error` says why
  secure_failure,
  /// A request carries cookies from the session's jar (Option::cookies):
  /// `info.text` is the Cookie field value, `info.number` how many cookies.
  /// Sent before sending_request, for every request that goes out (after a
  /// redirect too).
  cookie_sent,
  /// A response had a Set-Cookie field, with the session's jar on: one per
  /// field, `info.text` its value, `info.number` 1 when the jar took it
  /// (stored, replaced, or deleting an expired one) and 0 when it refused it
  /// (a Domain the host does not match, too large...).
  cookie_received,
  handle_closing,
};
inline constexpr int status_count = static_cast<int>(Status::handle_closing) + 1;

/// A set of statuses, one bit each; a status callback only gets those in its mask.
using StatusMask = std::uint64_t;
constexpr StatusMask status_bit(Status s) noexcept {
  return StatusMask{1} << static_cast<unsigned>(s);
}
inline constexpr StatusMask all_statuses = (StatusMask{1} << status_count) - 1;

/// The short name of a status ("connecting_to_server").
const char* status_name(Status s) noexcept;

/// What comes with a status: the error for request_error / request_complete,
/// a text (an address, a host name, a header) and a number (a byte count).
struct StatusInfo {
  Error error;
  std::string text;
  std::uint64_t number = 0;
};

/// The application's value that identifies a handle in callbacks.
using Context = std::uintptr_t;

class Handle;

/// Called with (handle, the handle's context, status, info). It runs on a
/// runtime thread chosen by the session's callback model, never two at once
/// for one handle (C5).
using StatusCallback = std::function<void(Handle, Context, Status, const StatusInfo&)>;

}  // namespace uvinet

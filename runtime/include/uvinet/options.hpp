// Options set and queried per handle, inherited down the handle tree.
#pragma once

#include <cstdint>
#include <string>
#include <variant>

namespace uvinet {

/// Each option applies to some kinds of handle; setting it on another kind
/// fails with errc::option_not_applicable. A query on a handle that has no
/// value of its own returns its parent's, and so on up to the session and
/// finally the default. Times are in milliseconds; 0 means no timeout.
enum class Option : std::uint16_t {
  context_value,               ///< int: the handle's Context (any handle)
  user_agent,                  ///< string (session, connection, request); default "uvinet/0.1"
  callback_model,              ///< int: CallbackModel (session); default short_callback
  resolve_timeout_ms,          ///< int (session, connection, request); default 30000
  connect_timeout_ms,          ///< int (session, connection, request); default 30000
  send_timeout_ms,             ///< int (session, connection, request); default 0
  receive_timeout_ms,          ///< int (session, connection, request); default 0
  transfer_timeout_ms,         ///< int (session, connection, request); from the first
                               ///< operation on a request to its last; default 0
  max_operations,              ///< int (session): operations in flight; default 4096
  max_connections_per_server,  ///< int (session): per host and port; default 6
  limit_policy,                ///< int: LimitPolicy (session); default fail_fast
};

/// What happens to a call past a bound (C7).
enum class LimitPolicy : std::uint8_t {
  fail_fast = 0,  ///< fail at once with too_many_operations / too_many_connections
  queue = 1,      ///< wait, first come first served, until a slot frees
};

using OptionValue = std::variant<std::int64_t, std::string>;

/// The option's name ("connect_timeout_ms").
const char* option_name(Option o) noexcept;

}  // namespace uvinet

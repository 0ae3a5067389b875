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
  idle_timeout_ms,             ///< int (session): how long an unused keep-alive
                               ///< connection stays open; default 60000
  redirect_policy,             ///< int: RedirectPolicy (session, connection, request);
                               ///< default no_https_to_http
  max_redirects,               ///< int (session, connection, request); default 10
  decompress,                  ///< int 0/1 (session, connection, request): ask for gzip and
                               ///< deflate and decode them; default 0
  max_decoded_bytes,           ///< int (session, connection, request): the most bytes a
                               ///< compressed body may decode to, 0 for no limit; default 1 GiB
  cookies,                     ///< int 0/1 (session): keep a cookie jar; default 0
  username,                    ///< string (session, connection, request): for Basic authentication
  password,                    ///< string (session, connection, request)
  proxy,                       ///< string (session, connection, request): "http://host:port"
  no_proxy,                    ///< string (session, connection, request): hosts reached directly,
                               ///< comma-separated, as in the no_proxy variable
  proxy_from_environment,      ///< int 0/1 (session, connection, request): when the proxy option
                               ///< is empty, use http_proxy / https_proxy / no_proxy; default 1
  // TLS. With none of ca_file, ca_directory and ca_pem set, the server's
  // certificate must chain to the system's CAs (/etc/ssl/certs).
  ca_file,               ///< string (session, connection, request): PEM file of trusted CAs
  ca_directory,          ///< string (session, connection, request): directory of CA files
  ca_pem,                ///< string (session, connection, request): trusted CAs as PEM text
  crl_file,              ///< string (session, connection, request): PEM certificate
                         ///< revocation lists of those CAs; a listed certificate fails
  client_cert_file,      ///< string (session, connection, request): PEM certificate (chain)
                         ///< the client presents when the server asks for one
  client_key_file,       ///< string (session, connection, request): its PEM private key
  insecure_skip_verify,  ///< int 0/1 (session, connection, request): 1 accepts ANY server
                         ///< certificate, forged ones included; for tests only; default 0
};

/// What happens to a call past a bound (C7).
enum class LimitPolicy : std::uint8_t {
  fail_fast = 0,  ///< fail at once with too_many_operations / too_many_connections
  queue = 1,      ///< wait, first come first served, until a slot frees
};

/// Which redirects a request follows by itself.
enum class RedirectPolicy : std::uint8_t {
  never = 0,             ///< none: the 3xx response is the request's response
  same_scheme = 1,       ///< only to a URL of the same scheme
  no_https_to_http = 2,  ///< any, except from https to http (the default)
  always = 3,            ///< any
};

using OptionValue = std::variant<std::int64_t, std::string>;

/// The option's name ("connect_timeout_ms").
const char* option_name(Option o) noexcept;

}  // namespace uvinet

// URLs: crack a URL into its parts and create one from parts.
//
// Contract rule C9: these functions keep no state, so they may be called from
// any thread at any time, including the I/O loop thread.
//
// Which parts are stored decoded, and why:
//  - `user`, `password` and `host` are stored percent-decoded, because the
//    runtime hands them to other code as they are (an authentication header, a
//    name resolver) and "%40" in a password means '@'.
//  - `path`, `query` and `fragment` are stored as written, still percent-encoded,
//    because decoding them loses information: "/a%2Fb" and "/a/b" are different
//    resources, and servers expect the bytes the user wrote.
//
// The syntax is RFC 3986's generic syntax (no WHATWG leniency): a URL must start
// with a scheme, must not contain spaces or control characters anywhere (not even
// at the ends: trim first), and every '%' must start a two-hex-digit escape.
// Relative references are not URLs here. IPv6 zone ids follow RFC 6874
// ("[fe80::1%25eth0]"); IPvFuture literals ("[v1.x]") are rejected.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "uvinet/result.hpp"

namespace uvinet {

/// A URL cracked into its parts. See the file comment for which parts are decoded.
struct Url {
  /// Lower-cased, without the ':' ("https").
  std::string scheme;
  /// Percent-decoded; empty when the URL has none.
  std::string user;
  /// Percent-decoded; empty when the URL has none.
  std::string password;
  /// Percent-decoded. A registered name is lower-cased ("example.com"); an IPv6
  /// literal is stored without brackets, lower-cased, with its zone id decoded
  /// ("fe80::1%eth0", the form name resolvers take).
  std::string host;
  /// The URL's port, or `default_port(scheme)` when it has none (0 for schemes
  /// uvinet does not know). `create_url` writes no port when it is 0 or the default.
  std::uint16_t port = 0;
  /// As written. "/" when the URL has an authority ("//host") but no path.
  std::string path;
  /// As written, without the '?'. An empty query is not written back.
  std::string query;
  /// As written, without the '#'. An empty fragment is not written back.
  std::string fragment;

  /// True when the URL names a user or a password.
  bool has_credentials() const noexcept;
  /// True when the host is an IPv6 address (a registered name never holds ':').
  bool is_ipv6_literal() const noexcept;
  /// "host:port", with brackets around an IPv6 host ("[::1]:8080"), and just the
  /// host when the port is 0. Never shows credentials, so it is safe for error
  /// messages and logs ("connect to [::1]:8080: ...").
  std::string host_port() const;

  friend bool operator==(const Url&, const Url&) = default;
};

/// The port a scheme uses when its URL names none: http 80, https 443, ftp 21,
/// ftps 990, gopher 70, ws 80, wss 443; 0 for any other scheme. `scheme` must be
/// lower-case (as `Url::scheme` is).
std::uint16_t default_port(std::string_view scheme) noexcept;

/// Cracks `text` into its parts. The schemes `default_port` knows need an
/// authority with a non-empty host ("http://host/"); other schemes may have no
/// host ("file:///etc/hosts") or no authority at all ("mailto:a@example.com").
/// Fails with `errc::invalid_url` and a note naming the problem and the URL (the
/// password replaced by "***"), e.g. "port out of range in URL 'http://h:70000/'".
Result<Url> crack_url(std::string_view text);

/// Creates URL text from its parts; the inverse of `crack_url`, so that
/// `create_url(*crack_url(x)) == x` for a normalised `x` (lower-case scheme and
/// host, no default or empty port, no empty user info, query or fragment, path
/// present when there is an authority, escapes only where needed, upper-case hex).
/// Writes "//" and the authority when there is a host, credentials, a port, or a
/// path starting with '/', or when the scheme needs a host. Encodes user and
/// password for the RFC 3986 userinfo set and the host for the reg-name set.
/// Keeps path, query and fragment as given (they are already encoded) except
/// for bytes that may never appear raw: space, control and non-ASCII bytes,
/// a '%' that starts no escape, '#', and '?' in the path.
/// Fails with `errc::invalid_url` for an empty or malformed scheme, a missing
/// host where the scheme needs one, or a host holding ':' that is not an IPv6
/// address.
Result<std::string> create_url(const Url& url);

/// Percent-encodes every byte of `in` except RFC 3986 unreserved characters
/// (ALPHA DIGIT - . _ ~) and those in `keep_also`. Hex digits are upper-case.
std::string percent_encode(std::string_view in, std::string_view keep_also = {});

/// Decodes every "%XX" escape in `in` ('+' stays '+': that is form encoding,
/// not URL encoding). Fails with `errc::invalid_url` when a '%' is not followed
/// by two hex digits.
Result<std::string> percent_decode(std::string_view in);

}  // namespace uvinet

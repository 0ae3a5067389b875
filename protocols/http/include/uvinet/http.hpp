// HTTP/1.1 requests (WinINet's HttpOpenRequest / HttpSendRequest family, and
// WinHTTP's WinHttpReceiveResponse / WinHttpReadData), on the handles of
// uvinet/handle.hpp.
//
// A request goes through these steps, each one call:
//
//   open_request()                      make the handle (no I/O)
//   add_header() / replace_header()...  before sending
//   send_request(body)                  connect (or reuse a kept-alive
//                                       connection) and send head and body
//   [write_data()... end_request()]     only when send_request() was given a
//                                       total length larger than its body, or
//                                       `chunked`: the rest of the body
//   receive_response()                  wait for the final response's head,
//                                       following redirects by the policy
//   query_*()                           status, headers (no I/O, any thread)
//   read_data() / read_data_into() /    the body, until read_data() gives ""
//   query_data_available()              (read_data_into() 0)
//
// open_url() does all of that from a URL in one call.
//
// Every call that can take time follows contract rule C1: without an
// AsyncContext it blocks and returns the result; with one it returns the
// result at once when it has it, or pending() and calls back later. One such
// call at a time per request (C15): another fails with errc::busy.
//
// Status notifications a request sends, in order: resolving_name,
// name_resolved, connecting_to_server, connected_to_server (all four only
// when a new connection is made), sending_request, request_sent,
// [write_complete per write_data()], receiving_response,
// [intermediate_response per 1xx], response_received, [redirect, then the
// whole sequence again], headers_available, data_available / read_complete
// while reading, closing_connection and connection_closed when the
// connection is not kept, cookie_sent / cookie_received with the cookie jar,
// handle_closing last.
//
// The session options that shape requests (uvinet/options.hpp):
// max_connections_per_server and idle_timeout_ms for the keep-alive pool,
// redirect_policy and max_redirects, decompress and max_decoded_bytes,
// cookies, username / password (Basic authentication; a URL's user info wins),
// proxy / no_proxy / proxy_from_environment, and the timeouts: resolve,
// connect, send (each write), receive (each wait for the server) and transfer.
//
// Cookies (Option::cookies = 1): the session keeps one RFC 6265 jar for all
// its requests. Each request that goes out (after a redirect too) carries
// the cookies that match its URL, unless the application set a Cookie field
// itself; every Set-Cookie of every response is stored, a redirect's
// included. The no_cookies flag keeps a request out of the jar both ways.
// The jar keeps at most 4096 bytes per cookie, 50 per domain, 3000 in all,
// evicting the least recently used; it has no public suffix list, so it
// refuses only a Domain without a dot ("com").
//
// Proxies: a proxy (the option, or http_proxy / https_proxy / no_proxy with
// proxy_from_environment; see the option docs) gets http:// requests in
// absolute form ("GET http://host/path HTTP/1.1"), with Proxy-Authorization
// (Basic) when its URL has user info. A session reads those variables once,
// at its first request: a later change to the environment applies to the
// sessions opened after it. Connections to a proxy are pooled apart from
// direct ones, and each redirect chooses again. An http:// proxy only. An
// https:// request goes through a tunnel (RFC 9110 §9.3.6): the client
// sends the proxy "CONNECT host:port HTTP/1.1" with Host: host:port
// and that Proxy-Authorization, and on a 2xx runs TLS with the origin inside
// it (RequestEnv::secure), checking the origin's certificate as for a direct
// request; the proxy sees only the host and port, and the request inside
// goes in origin form without Proxy-Authorization. The wait for the answer
// is bounded by connect_timeout_ms. A proxy that refuses (407, 403...)
// fails the request with errc::cannot_connect naming the proxy and its
// status line; one that closes before answering with connection_closed.
// The tunnel, TLS included, is pooled like a direct https connection, under
// a key naming the proxy.
// A proxy setting that cannot be parsed fails the request with
// errc::invalid_argument, naming the option or variable.
//
// https URLs go over TLS (RequestEnv::connect_secure / secure in uvinet/module.hpp):
// the server's certificate is checked against the system's CAs, or those of
// ca_file / ca_directory / ca_pem, against the revocation lists of crl_file,
// and against the URL's host name (DNS names only:
// mbedTLS 2.28 cannot match an IP address, so https://127.0.0.1/ fails with
// certificate_name_mismatch); client_cert_file / client_key_file present a
// client certificate; insecure_skip_verify=1 turns checking off. The TLS
// handshake has its own connect_timeout_ms. Pooled https connections are
// reused only by requests with the same TLS options.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "uvinet/handle.hpp"

namespace uvinet::http {

/// What a request asks of the runtime besides the defaults.
enum RequestFlags : std::uint32_t {
  /// Return 3xx responses to the application instead of following them.
  no_auto_redirect = 1u << 0,
  /// Close the connection after this request instead of keeping it alive.
  no_keep_alive = 1u << 1,
  /// Neither send nor store cookies, even when the session keeps a jar.
  no_cookies = 1u << 2,
};

struct RequestOptions {
  std::string method = "GET";
  /// Origin-form path and query, as it goes on the wire ("/a/b?c=d"),
  /// percent-encoded already. Empty means "/".
  std::string target = "/";
  /// Sent as Referer when not empty.
  std::string referrer;
  /// Sent as one Accept field ("text/html, */*") when not empty.
  std::vector<std::string> accept_types;
  std::uint32_t flags = 0;
  Context context = 0;
};

/// Makes a request handle on `connection`, an http:// connection made by
/// Session::connect(). No I/O happens yet. Fails with errc::invalid_argument
/// when the method is not a token or the target holds spaces or controls.
Result<Request> open_request(const Connection& connection, const RequestOptions& options = {});

/// Adds a request header field, after any of the same name. Fails with
/// errc::invalid_argument on a name that is not a token, a value holding CR,
/// LF or NUL, or a field the runtime writes itself (Host, Content-Length,
/// Transfer-Encoding); errc::invalid_state once send_request() was called.
Result<void> add_header(const Request& request, std::string_view name, std::string_view value);
/// Replaces every field named `name` with one field (adds it when absent).
Result<void> replace_header(const Request& request, std::string_view name, std::string_view value);
/// Removes every field named `name`; errc::header_not_found when none was set.
Result<void> remove_header(const Request& request, std::string_view name);
/// Adds header lines in "Name: value" form, separated by CRLF or LF
/// (HttpAddRequestHeaders); all or none are added.
Result<void> add_headers(const Request& request, std::string_view lines);
/// Asks for bytes `first` to `last` (inclusive; to the end when `last` is
/// empty) with a Range field: a resumed download asks from the size it has.
Result<void> set_range(const Request& request, std::uint64_t first,
                       std::optional<std::uint64_t> last = std::nullopt);

/// send_request()'s total_length for a body of unknown length, sent with the
/// chunked transfer coding.
inline constexpr std::uint64_t chunked = UINT64_MAX;

/// Sends the request with `body`. With no `total_length`, `body` is the whole
/// body (Content-Length, or none for an empty body of GET or HEAD). With a
/// `total_length` larger than the body, or `chunked`, the rest follows with
/// write_data() and end_request(). Completes once the head and `body` are
/// sent: at once (C1) when called with a context from a short callback and
/// the connection's socket takes the whole request then, as a kept-alive
/// connection's usually does. Fails with errc::invalid_state when the
/// request was sent already.
Result<void> send_request(const Request& request, std::string body = {},
                          std::optional<std::uint64_t> total_length = std::nullopt,
                          const AsyncContext<void>* async = nullptr);
/// Sends more of the body; completes with the number of bytes sent. Fails
/// with errc::invalid_argument when the bytes would pass the total length.
Result<std::size_t> write_data(const Request& request, std::string data,
                               const AsyncContext<std::size_t>* async = nullptr);
/// Ends the body: the last chunk when chunked; a check that all the bytes
/// were written otherwise (errc::invalid_state when some are missing).
Result<void> end_request(const Request& request, const AsyncContext<void>* async = nullptr);
/// Waits for the head of the final response (1xx responses are notified and
/// skipped, redirects followed by the policy). Ends the body first if
/// end_request() was not called.
Result<void> receive_response(const Request& request, const AsyncContext<void>* async = nullptr);
/// The number of body bytes that can be read now without waiting, waiting
/// for some when there are none; 0 at the end of the body.
Result<std::size_t> query_data_available(const Request& request,
                                         const AsyncContext<std::size_t>* async = nullptr);
/// Reads up to `max_bytes` of the body (decoded when decompress is on);
/// completes with "" at the end of the body.
Result<std::string> read_data(const Request& request, std::size_t max_bytes,
                              const AsyncContext<std::string>* async = nullptr);
/// Reads the body into memory the caller owns: up to `buffer.size()` bytes
/// (decoded when decompress is on), as many as have arrived, waiting only
/// when none have; completes with the count written to the front of
/// `buffer`, 0 at the end of the body and never before it. No memory is
/// allocated for the bytes. A read that waits for bytes gets them with no
/// copy of ours when the body has a Content-Length or ends with the
/// connection, is not content-decoded, and `buffer` is 64 KiB or more (or
/// holds the rest of the body): the socket is read (or the TLS record
/// decrypted) straight into it, the read completes with what that one read
/// gave, and the next bytes wait in the socket for the next read. Over
/// plain TCP such a read with 64 KiB or more to come waits until up to
/// 256 KiB arrived (or the body ended), so reads are large: a server that
/// pauses holds it back no more than about a millisecond.
/// Otherwise, and for bytes that arrived before the call, they are copied
/// once, after chunk and content decoding. `buffer` is lent (C3): with an
/// AsyncContext it must stay alive, and not be touched, until the read
/// completed; a read that fails or is cancelled may have written to it.
/// Fails with errc::invalid_argument on an empty buffer; otherwise as
/// read_data(), with which it may be mixed on one request.
Result<std::size_t> read_data_into(const Request& request, std::span<char> buffer,
                                   const AsyncContext<std::size_t>* async = nullptr);

struct OpenUrlOptions {
  std::string method = "GET";
  /// Header fields added to the request, in order.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::uint32_t flags = 0;
  Context context = 0;
};

/// From a URL to a request whose response head has arrived, redirects
/// followed (InternetOpenUrl): opens the connection and request handles,
/// sends and receives. Read the body with read_data() and close the request
/// when done (its connection handle goes with it). On failure nothing is
/// left open.
Result<Request> open_url(const Session& session, std::string_view url,
                         const OpenUrlOptions& options = {},
                         const AsyncContext<Request>* async = nullptr);

/// A response's head, as received.
struct Response {
  int status = 0;
  std::string reason;  ///< "Not Found"
  std::string version = "HTTP/1.1";
  /// The fields in the order received, names as sent.
  std::vector<std::pair<std::string, std::string>> fields;
  /// The status line and the fields as received, each ending in CRLF.
  std::string raw;
  /// The URL that answered: the request's, or the last redirect's.
  std::string url;
  /// How many redirects were followed to get here.
  unsigned redirects = 0;

  /// The value of the `index`th field named `name` (any case), or nullopt.
  std::optional<std::string> header(std::string_view name, std::size_t index = 0) const;
  /// The values of every field named `name`.
  std::vector<std::string> headers(std::string_view name) const;
  /// Content-Length as sent (the encoded size when the body is compressed).
  std::optional<std::uint64_t> content_length() const;
  /// Content-Type, or "" when absent.
  std::string content_type() const;
};

/// The final response's head (after receive_response() or open_url()).
/// Fails with errc::invalid_state before it arrived. Any thread, no I/O.
Result<Response> query_response(const Request& request);
Result<int> query_status_code(const Request& request);
/// The `index`th field named `name`; errc::header_not_found when absent.
Result<std::string> query_header(const Request& request, std::string_view name,
                                 std::size_t index = 0);

/// The range a 206 response holds (Content-Range: bytes first-last/complete).
struct ContentRange {
  std::uint64_t first = 0;
  std::uint64_t last = 0;
  std::optional<std::uint64_t> complete_length;  ///< empty for "/*"
};
/// Parses a Content-Range value; errc::invalid_argument when malformed.
Result<ContentRange> parse_content_range(std::string_view value);

}  // namespace uvinet::http

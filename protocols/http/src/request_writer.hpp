// Serializes HTTP/1.1 requests (RFC 9112): the request head and the framing
// of a chunked body. Pure: strings out, no I/O. Everything that goes on the
// wire is checked first, so a CR or LF in a caller's value can never start
// a header or a request of its own.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>

#include "uvinet/result.hpp"

namespace uvinet::http::detail {

/// One header or trailer field.
struct Field {
  std::string_view name;
  std::string_view value;
};

/// How the request body is delimited.
enum class Framing {
  none,            ///< no body and no framing field (GET, HEAD, ...)
  content_length,  ///< Content-Length: RequestHead::content_length
  chunked,         ///< Transfer-Encoding: chunked; then chunk() and last_chunk()
};

struct RequestHead {
  std::string_view method = "GET";
  std::string_view target = "/";  ///< origin-form ("/a?b"), or authority-form for CONNECT
  std::string_view host;          ///< the Host field's value ("example.com:8080"); may be empty
  std::span<const Field> fields;  ///< written in order, after Host
  Framing framing = Framing::none;
  std::uint64_t content_length = 0;
};

/// "METHOD target HTTP/1.1", Host, the fields, the framing field, the empty
/// line. Fails with errc::invalid_argument, the note naming the culprit, if
/// the method is not a token, the target or host holds spaces or controls,
/// a field name is not a token, a value holds a control other than HTAB
/// (CR, LF, NUL...), or a field is one the head writes itself (Host,
/// Content-Length, Transfer-Encoding).
Result<std::string> request_head(const RequestHead& head);

/// request_head() in pieces, for a caller that writes a head straight into
/// a string of its own, from fields kept in several places. The same checks;
/// on a failure `out` holds a part of a head. First the request line, the
/// target written as the concatenation of `target`'s pieces:
Result<void> append_request_line(std::string& out, std::string_view method,
                                 std::initializer_list<std::string_view> target);
/// then Host (a caller sending to one server again may keep this line),
Result<void> append_host_field(std::string& out, std::string_view host);
/// then each field,
Result<void> append_header_field(std::string& out, const Field& field);
/// then the framing field and the empty line.
void append_head_end(std::string& out, Framing framing, std::uint64_t content_length);

/// One header field line kept for the requests that send it again, checked
/// when its value changes rather than on every request (a User-Agent from
/// the options, the same for most of a session's requests).
class CheckedFieldLine {
 public:
  explicit CheckedFieldLine(std::string_view name) : name_(name) {}
  /// append_header_field() of {name, value}: the same bytes and errors.
  Result<void> append(std::string& out, std::string_view value);

 private:
  std::string_view name_;
  std::string value_;
  std::string line_;  // for value_; empty until a value passed the checks
};

/// The line that starts a chunk of `size` bytes: "1a\r\n". With
/// chunk_end, for callers that send the data from their own buffer.
std::string chunk_header(std::uint64_t size);
inline constexpr std::string_view chunk_end = "\r\n";

/// A whole chunk: chunk_header(data.size()), the data, CRLF. Empty data
/// gives an empty string, since a chunk of size 0 would end the body.
std::string chunk(std::string_view data);

/// The last chunk and the trailer section that ends a chunked body. Fails
/// with errc::invalid_argument on a malformed trailer field, or on one that
/// framing or routing depends on (Content-Length, Transfer-Encoding, Host),
/// which RFC 9110 §6.5.1 keeps out of trailers.
Result<std::string> last_chunk(std::span<const Field> trailers = {});

}  // namespace uvinet::http::detail

// An incremental HTTP/1.1 response parser (RFC 9112), pure and separate from
// I/O in the nghttp2 / Beast style: bytes in through feed(), events out to a
// ResponseSink, no socket, no timer, no allocation per byte. The connection
// code drives it; the tests and the fuzzer drive it with plain strings.
//
// Memory: the parser buffers at most one partial line (bounded by
// ParserLimits::max_line_length) and never the body: body bytes reach
// on_body() as views into the caller's buffer.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "uvinet/result.hpp"

namespace uvinet::http::detail {

/// True if `a` and `b` are equal ignoring ASCII case (header names, tokens).
bool iequals(std::string_view a, std::string_view b) noexcept;

/// Bounds on what a response may make the parser read before it gives up.
/// Each breach fails with its own error code and a note naming the limit.
struct ParserLimits {
  /// The status line and header fields of one response, line endings
  /// included (errc::headers_too_large). The trailers have a budget of the
  /// same size of their own.
  std::size_t max_header_bytes = 64 * 1024;
  /// Header fields in one response, and trailer fields (errc::too_many_headers).
  std::size_t max_header_count = 100;
  /// One line (status, header, chunk size, trailer), its line ending
  /// included (errc::line_too_long). Also bounds what the parser buffers.
  std::size_t max_line_length = 8 * 1024;
  /// One chunk of a chunked body (errc::chunk_too_large). The body is never
  /// buffered, so this only turns away sizes no real server sends; it may
  /// be raised as far as UINT64_MAX.
  std::uint64_t max_chunk_size = std::uint64_t{1} << 30;
};

/// What the request was, as far as the framing of its response cares.
enum class RequestKind {
  normal,
  head,     ///< the response has no body, whatever its headers say
  connect,  ///< a 2xx response turns the connection into a tunnel
};

/// How the body of a final response is delimited.
enum class BodyKind {
  none,         ///< no body (HEAD, 204, 304, Content-Length: 0)
  length,       ///< Content-Length bytes
  chunked,      ///< chunked transfer coding, ending with the trailers
  until_close,  ///< everything until the server closes the connection
  tunnel,       ///< 101, or 2xx to CONNECT: what follows is not HTTP
};

/// The status line and framing of a response, once its headers are parsed.
struct ResponseHead {
  int version_major = 1;
  int version_minor = 1;
  int status = 0;
  BodyKind body = BodyKind::none;
  std::uint64_t content_length = 0;  ///< when body == BodyKind::length
  /// Whether the connection may carry another request after this response.
  bool keep_alive = false;
};

/// Receives the parser's events. Views are valid only during the call.
/// Names are as received; compare them with iequals(). A field's name and
/// value lie in one view of its line as received: from the name's first
/// byte to the value's last run the name, the colon, any whitespace before
/// the value, and the value.
///
/// A final response: on_status, on_header..., on_headers_complete,
/// on_body..., on_trailer... (chunked only), on_message_complete.
/// An interim (1xx other than 101) response: on_status, on_header...,
/// on_interim; then the final response follows.
class ResponseSink {
 public:
  virtual void on_status(int /*version_major*/, int /*version_minor*/, int /*status*/,
                         std::string_view /*reason*/) {}
  virtual void on_header(std::string_view /*name*/, std::string_view /*value*/) {}
  /// A 1xx response other than 101 (100 Continue, 103 Early Hints) ended.
  virtual void on_interim(const ResponseHead& /*head*/) {}
  virtual void on_headers_complete(const ResponseHead& /*head*/) {}
  virtual void on_body(std::string_view /*data*/) {}
  virtual void on_trailer(std::string_view /*name*/, std::string_view /*value*/) {}
  virtual void on_message_complete() {}

 protected:
  ~ResponseSink() = default;
};

/// Parses one response at a time from a connection's bytes.
class ResponseParser {
 public:
  explicit ResponseParser(ResponseSink& sink, ParserLimits limits = {});

  /// The request the next response answers (default RequestKind::normal).
  /// Set before feeding; reset() sets it back to normal.
  void set_request_kind(RequestKind kind) { request_kind_ = kind; }

  /// Consumes as much of `data` as it can and returns how much: all of it,
  /// unless a final response completed (done()) part way, when the rest
  /// belongs to the next response (reset() first) or, after an upgrade, to
  /// another protocol. Fails on malformed input or a breached limit; once
  /// failed, every later call fails the same way until reset().
  Result<std::size_t> feed(std::string_view data);

  /// The connection ended. Completes a body delimited by the close; fails
  /// with errc::response_truncated, the note saying where ("in headers",
  /// "body: got 10 of 20 bytes"), if the response was not complete.
  Result<void> finish();

  /// Makes a callback's feed() fail with `error` (a sink that gives up).
  void stop(Error error);

  /// Gets ready for the next response on the same connection.
  void reset();

  /// A final response is complete (or the connection became a tunnel).
  bool done() const noexcept;
  /// The last response was 101, or 2xx to CONNECT: the rest is not HTTP.
  bool upgraded() const noexcept;
  /// How many of the bytes to come are body bytes with no framing among
  /// them: the rest of a Content-Length body, UINT64_MAX for a body that
  /// runs to the close, 0 anywhere else (a head, a chunked body). The
  /// caller may have them read straight where on_body() will see them.
  std::uint64_t plain_body_left() const noexcept;
  /// Whether the connection may be reused; meaningful once the headers of
  /// the final response are parsed.
  bool keep_alive() const noexcept { return head_.keep_alive; }
  const ResponseHead& head() const noexcept { return head_; }
  const ParserLimits& limits() const noexcept { return limits_; }
  /// Bytes of a partial line held between feed() calls; at most
  /// limits().max_line_length (the tests and the fuzzer check it).
  std::size_t buffered() const noexcept { return line_buf_.size(); }

 private:
  enum class State {
    status_line,       // the status line (empty lines before it are skipped)
    header_line,       // a header field line, or the empty line ending them
    body_length,       // Content-Length bytes, remaining_ of them left
    body_until_close,  // everything until finish()
    chunk_size,        // a chunk size line, with extensions
    chunk_data,        // chunk data, remaining_ bytes of it left
    chunk_data_cr,     // the CR (or bare LF) after chunk data
    chunk_data_lf,     // the LF after that CR
    trailer_line,      // a trailer field line, or the empty line ending them
    complete,          // a final response is complete: reset() for the next
    tunnel,            // 101 or CONNECT 2xx: the parser is done for good
    failed,            // error_ says why
  };
  enum class Section { head, trailers, chunk_line };

  void set_state(State state) noexcept;
  std::size_t step(std::string_view in);
  std::size_t on_status_line(std::string_view in);
  std::size_t on_whole_header_lines(std::string_view in);
  std::size_t on_header_line(std::string_view in);
  std::size_t on_body_length(std::string_view in);
  std::size_t on_body_until_close(std::string_view in);
  std::size_t on_chunk_size(std::string_view in);
  std::size_t on_chunk_data(std::string_view in);
  std::size_t on_chunk_data_end(std::string_view in);
  std::size_t on_trailer_line(std::string_view in);

  const char* line_name(Section section) const noexcept;
  bool take_line(std::string_view in, Section section, std::size_t& used, std::string_view& line);
  bool parse_status_line(std::string_view line);
  bool split_field(std::string_view line, std::string_view& name, std::string_view& value);
  bool count_field(Section section);
  bool apply_framing_field(std::string_view name, std::string_view value);
  bool parse_content_length(std::string_view value);
  bool set_content_length(std::uint64_t n);
  bool parse_transfer_encoding(std::string_view value);
  void parse_connection(std::string_view value);
  bool parse_chunk_size(std::string_view line);
  void end_of_head();
  BodyKind body_kind() const noexcept;
  bool compute_keep_alive() const noexcept;
  void begin_body();
  void complete_message();
  void start_message();
  std::size_t fail(errc code, std::string where);
  Result<void> truncated(std::string where);

  ResponseSink* sink_;
  ParserLimits limits_;
  RequestKind request_kind_ = RequestKind::normal;
  State state_ = State::status_line;
  Error error_;

  // The partial line; line_taken_ says it held a whole line, now handled.
  std::string line_buf_;
  bool line_taken_ = false;
  bool started_ = false;  // bytes were fed since reset()

  // The message being parsed.
  ResponseHead head_;
  std::size_t section_bytes_ = 0;  // of the head, or of the trailers
  std::size_t field_count_ = 0;    // in the head, or in the trailers
  bool has_content_length_ = false;
  std::uint64_t content_length_ = 0;
  bool has_transfer_encoding_ = false;
  bool chunked_ = false;  // chunked was the last transfer coding so far
  bool connection_close_ = false;
  bool connection_keep_alive_ = false;
  std::uint64_t expected_ = 0;   // of the body, or of the current chunk
  std::uint64_t remaining_ = 0;  // of expected_
};

}  // namespace uvinet::http::detail

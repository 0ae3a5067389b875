// The response parser: one function per state, each consuming at least one
// byte or moving to a state that stops feed() (see response_parser.hpp).
#include "response_parser.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <limits>
#include <utility>

#include "http_chars.hpp"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace uvinet::http::detail {
namespace {

constexpr std::uint64_t max_u64 = std::numeric_limits<std::uint64_t>::max();

bool is_ows(char c) noexcept {
  return c == ' ' || c == '\t';
}
bool is_digit(char c) noexcept {
  return c >= '0' && c <= '9';
}

// Controls other than HTAB: RFC 9110 §5.5 lets no field value (nor reason
// phrase, nor chunk extension) hold them, and NUL and CR are the ones used
// to split responses. A lambda, not a function: std::find_if inlines it
// rather than calling through a pointer for every byte of every value.
constexpr auto is_bad_text_char = [](char c) noexcept {
  auto u = static_cast<unsigned char>(c);
  return (u < 0x20 && c != '\t') || u == 0x7f;
};

// The first byte of `s` is_bad_text_char() refuses, or s.end(). Every byte
// of every field value goes through here, so eight are looked at a time:
// the words with no control and no DEL in them (nearly all) are skipped
// with a few operations, and the byte check decides from the first word
// that may hold one (a HTAB, or a false alarm past a true one).
std::string_view::iterator find_bad_text_char(std::string_view s) noexcept {
  constexpr std::uint64_t ones = 0x0101010101010101;
  constexpr std::uint64_t highs = 0x8080808080808080;
  std::size_t i = 0;
#if defined(__SSE2__)
  // Sixteen at a time where the instructions are there (every x86-64): a
  // byte is a control when its unsigned minimum with 0x1f is itself.
  const __m128i c1f = _mm_set1_epi8(0x1f);
  const __m128i del = _mm_set1_epi8(0x7f);
  const __m128i tab = _mm_set1_epi8('\t');
  for (; i + 16 <= s.size(); i += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s.data() + i));
    const __m128i control =
        _mm_andnot_si128(_mm_cmpeq_epi8(v, tab), _mm_cmpeq_epi8(_mm_min_epu8(v, c1f), v));
    const int mask = _mm_movemask_epi8(_mm_or_si128(control, _mm_cmpeq_epi8(v, del)));
    if (mask != 0) {
      return s.begin() + static_cast<std::ptrdiff_t>(i) +
             std::countr_zero(static_cast<unsigned>(mask));
    }
  }
#endif
  for (; i + 8 <= s.size(); i += 8) {
    std::uint64_t word;
    std::memcpy(&word, s.data() + i, sizeof word);
    // A byte below 0x20, or equal to 0x7f (zero after the xor), sets its
    // high bit; bytes of 0x80 and above never do.
    const std::uint64_t control = (word - ones * 0x20) & ~word & highs;
    const std::uint64_t del = word ^ (ones * 0x7f);
    const std::uint64_t found = control | ((del - ones) & ~del & highs);
    if (found != 0) {
      // The lowest bit set is never a false alarm (those only come from a
      // borrow out of a true one below them), so the byte check starts
      // there: at the byte itself, unless it is a HTAB.
      if constexpr (std::endian::native == std::endian::little) {
        i += static_cast<std::size_t>(std::countr_zero(found)) / 8;
      }
      break;
    }
  }
  return std::find_if(s.begin() + static_cast<std::ptrdiff_t>(i), s.end(), is_bad_text_char);
}

// A field line found whole at the start of the input (on_whole_header_lines).
struct WholeField {
  std::string_view name;
  std::string_view value;  // OWS trimmed, as split_field() makes it
  std::size_t size = 0;    // the line's bytes, its line ending included
};

// The well-formed field line whole in the first `room` bytes of `in`, read in
// place in one pass: the name by its characters up to the colon, the value up
// to the first control byte, which must be the line ending. Anything else
// (a partial line, a limit in the way, an empty line, an error) returns
// false, for the general path to take the line and report what is wrong.
bool scan_whole_field(std::string_view in, std::size_t room, WholeField& out) noexcept {
  const char* p = in.data();
  const std::size_t n = std::min(in.size(), room);
  std::size_t colon = 0;
  // Four at a time (no short cut between them): most names are longer.
  const auto bit = [](char c) { return static_cast<unsigned>(is_tchar(c)); };
  while (colon + 4 <= n &&
         (bit(p[colon]) & bit(p[colon + 1]) & bit(p[colon + 2]) & bit(p[colon + 3])) != 0) {
    colon += 4;
  }
  while (colon < n && is_tchar(p[colon])) ++colon;
  if (colon == 0 || colon == n || p[colon] != ':') return false;
  std::size_t start = colon + 1;
  start += start < n && p[start] == ' ';  // the usual one space, without the loop
  while (start < n && is_ows(p[start])) ++start;
  const std::string_view rest(p + start, n - start);
  const std::size_t end = start + static_cast<std::size_t>(find_bad_text_char(rest) - rest.begin());
  std::size_t size = 0;
  if (end < n && p[end] == '\n') {
    size = end + 1;
  } else if (end + 1 < n && p[end] == '\r' && p[end + 1] == '\n') {
    size = end + 2;
  } else {
    return false;
  }
  std::size_t stop = end;
  while (stop > start && is_ows(p[stop - 1])) --stop;
  out = WholeField{{p, colon}, {p + start, stop - start}, size};
  return true;
}

// The line ending at the start of `in`, when the line is empty: its size
// (CRLF, or a bare LF), else 0.
std::size_t empty_line(std::string_view in) noexcept {
  if (!in.empty() && in[0] == '\n') return 1;
  return in.size() > 1 && in[0] == '\r' && in[1] == '\n' ? 2 : 0;
}

// Content-Length, Transfer-Encoding and Connection have names of these
// lengths; most other fields are spared the call to apply_framing_field().
bool is_framing_size(std::size_t size) noexcept {
  return size == 10 || size == 14 || size == 17;
}

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

char lower(char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
}

// `s` equals `key`, which is lower case letters and '-', ignoring ASCII
// case, eight bytes at a time. OR-ing 0x20 into a byte makes one of the
// key's bytes only of that letter in either case, or of '-' or CR; field
// names and values hold no CR.
bool equals_key(std::string_view s, std::string_view key) noexcept {
  constexpr std::uint64_t lower_bits = 0x2020202020202020;
  const std::size_t n = s.size();
  if (n != key.size()) return false;
  if (n < 8) {
    for (std::size_t i = 0; i < n; ++i) {
      if ((s[i] | 0x20) != key[i]) return false;
    }
    return true;
  }
  const auto word = [](const char* at) {
    std::uint64_t w;
    std::memcpy(&w, at, sizeof w);
    return w;
  };
  for (std::size_t i = 0; i + 8 < n; i += 8) {
    if ((word(s.data() + i) | lower_bits) != word(key.data() + i)) return false;
  }
  // The last eight bytes, overlapping what was compared already.
  return (word(s.data() + n - 8) | lower_bits) == word(key.data() + n - 8);
}

std::string_view trim_ows(std::string_view s) noexcept {
  while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ows(s.back())) s.remove_suffix(1);
  return s;
}

// Calls f(element) for each non-empty element of a comma-separated list (RFC
// 9110 §5.6.1: recipients accept empty elements); stops when f returns false.
template <class F>
bool for_each_element(std::string_view list, F f) {
  while (true) {
    std::size_t comma = list.find(',');
    std::string_view element = trim_ows(list.substr(0, comma));
    if (!element.empty() && !f(element)) return false;
    if (comma == std::string_view::npos) return true;
    list.remove_prefix(comma + 1);
  }
}

// The text quoted for an error note: control bytes escaped, long text cut.
std::string quote(std::string_view s) {
  constexpr std::size_t max_shown = 64;
  static constexpr char digits[] = "0123456789abcdef";
  std::string out = "'";
  for (char c : s.substr(0, max_shown)) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f || c == '\'' || c == '\\') {
      out += "\\x";
      out += digits[u >> 4];
      out += digits[u & 15];
    } else {
      out += c;
    }
  }
  out += s.size() > max_shown ? "'..." : "'";
  return out;
}

std::string hex_byte(char c) {
  static constexpr char digits[] = "0123456789abcdef";
  auto u = static_cast<unsigned char>(c);
  return std::string("0x") + digits[u >> 4] + digits[u & 15];
}

}  // namespace

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

ResponseParser::ResponseParser(ResponseSink& sink, ParserLimits limits)
    : sink_(&sink), limits_(limits) {}

void ResponseParser::reset() {
  request_kind_ = RequestKind::normal;
  state_ = State::status_line;
  error_ = Error();
  line_buf_.clear();
  line_taken_ = false;
  started_ = false;
  start_message();
}

// Per-message state, also cleared between an interim and the final response.
void ResponseParser::start_message() {
  head_ = ResponseHead();
  section_bytes_ = 0;
  field_count_ = 0;
  has_content_length_ = false;
  content_length_ = 0;
  has_transfer_encoding_ = false;
  chunked_ = false;
  connection_close_ = false;
  connection_keep_alive_ = false;
  expected_ = 0;
  remaining_ = 0;
}

bool ResponseParser::done() const noexcept {
  return state_ == State::complete || state_ == State::tunnel;
}

bool ResponseParser::upgraded() const noexcept {
  return state_ == State::tunnel;
}

std::uint64_t ResponseParser::plain_body_left() const noexcept {
  if (state_ == State::body_length) return remaining_;
  return state_ == State::body_until_close ? UINT64_MAX : 0;
}

// The one place the state changes; a failed parser stays failed (a sink may
// have called stop() in the middle of a transition).
void ResponseParser::set_state(State state) noexcept {
  if (state_ != State::failed) state_ = state;
}

std::size_t ResponseParser::fail(errc code, std::string where) {
  if (state_ == State::failed) return 0;
  error_ = Error(code, std::move(where));
  state_ = State::failed;
  return 0;
}

void ResponseParser::stop(Error error) {
  if (state_ == State::failed) return;
  error_ = std::move(error);
  state_ = State::failed;
}

Result<std::size_t> ResponseParser::feed(std::string_view data) {
  std::size_t pos = 0;
  if (!data.empty() && !done()) started_ = true;
  while (pos < data.size() && state_ != State::failed && !done()) {
    pos += step(data.substr(pos));
  }
  if (state_ == State::failed) return error_;
  return pos;
}

std::size_t ResponseParser::step(std::string_view in) {
  switch (state_) {
    case State::status_line: return on_status_line(in);
    case State::header_line:
      if (std::size_t used = on_whole_header_lines(in)) return used;
      return on_header_line(in);
    case State::body_length: return on_body_length(in);
    case State::body_until_close: return on_body_until_close(in);
    case State::chunk_size: return on_chunk_size(in);
    case State::chunk_data: return on_chunk_data(in);
    case State::chunk_data_cr:
    case State::chunk_data_lf: return on_chunk_data_end(in);
    case State::trailer_line: return on_trailer_line(in);
    case State::complete:
    case State::tunnel:
    case State::failed: break;
  }
  return 0;
}

const char* ResponseParser::line_name(Section section) const noexcept {
  switch (section) {
    case Section::head: return state_ == State::status_line ? "status line" : "header line";
    case Section::trailers: return "trailer line";
    case Section::chunk_line: break;
  }
  return "chunk size line";
}

// Takes the next line from the partial line plus `in`. Returns true with
// `line` (line ending removed: CRLF, or a bare LF as RFC 9112 §2.2 allows)
// when one is complete; otherwise buffers `in`. `used` is what it consumed.
// Limits are checked against the bytes received, whatever their split, so
// that every way of cutting the input fails the same way.
bool ResponseParser::take_line(std::string_view in, Section section, std::size_t& used,
                               std::string_view& line) {
  if (line_taken_) {
    line_buf_.clear();
    line_taken_ = false;
  }
  std::size_t room = limits_.max_line_length - line_buf_.size();
  bool head_bound = false;
  if (section != Section::chunk_line && limits_.max_header_bytes - section_bytes_ < room) {
    room = limits_.max_header_bytes - section_bytes_;
    head_bound = true;
  }
  std::size_t lf = in.substr(0, room).find('\n');
  if (lf == std::string_view::npos) {
    used = in.size();
    if (in.size() > room) {
      if (!head_bound) {
        fail(errc::line_too_long, std::string(line_name(section)) + " exceeds max_line_length (" +
                                      std::to_string(limits_.max_line_length) + " bytes)");
      } else {
        fail(errc::headers_too_large,
             std::string(section == Section::head ? "response head" : "trailer section") +
                 " exceeds max_header_bytes (" + std::to_string(limits_.max_header_bytes) +
                 " bytes)");
      }
      return false;
    }
    line_buf_.append(in);
    if (section != Section::chunk_line) section_bytes_ += used;
    return false;
  }
  used = lf + 1;
  if (section != Section::chunk_line) section_bytes_ += used;
  if (line_buf_.empty()) {
    line = in.substr(0, lf);
  } else {
    line_buf_.append(in.substr(0, lf));
    line = line_buf_;
    line_taken_ = true;
  }
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return true;
}

std::size_t ResponseParser::on_status_line(std::string_view in) {
  std::size_t used = 0;
  std::string_view line;
  if (!take_line(in, Section::head, used, line)) return used;
  // Empty lines before the status line are skipped, as browsers do: some
  // servers send an extra CRLF after a body. They count towards the head.
  if (line.empty()) return used;
  if (!parse_status_line(line)) return used;
  set_state(State::header_line);
  return used;
}

// status-line = HTTP-version SP status-code SP [ reason-phrase ]; the SP
// after the code is optional here, since servers leave it out.
bool ResponseParser::parse_status_line(std::string_view line) {
  if (line.size() < 12 || line.substr(0, 5) != "HTTP/" || !is_digit(line[5]) || line[6] != '.' ||
      !is_digit(line[7]) || line[8] != ' ') {
    fail(errc::invalid_response, "malformed status line " + quote(line));
    return false;
  }
  if (line[5] != '1') {
    fail(errc::invalid_response, "unsupported HTTP version in status line " + quote(line));
    return false;
  }
  if (!is_digit(line[9]) || !is_digit(line[10]) || !is_digit(line[11]) || line[9] == '0' ||
      (line.size() > 12 && line[12] != ' ')) {
    fail(errc::invalid_response, "malformed status code in status line " + quote(line));
    return false;
  }
  std::string_view reason = line.size() > 12 ? line.substr(13) : std::string_view();
  auto bad = find_bad_text_char(reason);
  if (bad != reason.end()) {
    fail(errc::invalid_response,
         "invalid character " + hex_byte(*bad) + " in status line " + quote(line));
    return false;
  }
  head_.version_major = 1;
  head_.version_minor = line[7] - '0';
  head_.status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
  sink_->on_status(head_.version_major, head_.version_minor, head_.status, reason);
  return true;
}

// The header lines whole in `in` (nearly always all of them), read in place
// in one loop, with the same checks, limits and events as on_header_line();
// returns the bytes they took, 0 when the next line needs on_header_line():
// a partial line, a line over a limit, or one with an error to report.
std::size_t ResponseParser::on_whole_header_lines(std::string_view in) {
  if (line_taken_) {
    line_buf_.clear();
    line_taken_ = false;
  }
  if (!line_buf_.empty()) return 0;
  std::size_t pos = 0;
  while (state_ == State::header_line && pos < in.size()) {
    const std::string_view rest = in.substr(pos);
    // What take_line() would search for the line ending in.
    const std::size_t room =
        std::min(limits_.max_line_length, limits_.max_header_bytes - section_bytes_);
    WholeField field;
    if (field_count_ >= limits_.max_header_count || !scan_whole_field(rest, room, field)) {
      // Not a field line to read here: the empty line ending the head, or
      // one for on_header_line().
      const std::size_t ending = empty_line(rest);
      if (ending == 0 || ending > room) break;
      section_bytes_ += ending;
      end_of_head();
      return pos + ending;
    }
    pos += field.size;
    section_bytes_ += field.size;
    ++field_count_;
    if (is_framing_size(field.name.size()) && !apply_framing_field(field.name, field.value)) break;
    sink_->on_header(field.name, field.value);
  }
  return pos;
}

std::size_t ResponseParser::on_header_line(std::string_view in) {
  std::size_t used = 0;
  std::string_view line;
  if (!take_line(in, Section::head, used, line)) return used;
  if (line.empty()) {
    end_of_head();
    return used;
  }
  // RFC 9112 §5.2 lets a client reject obs-fold; a folded line read as a new
  // field is how responses get split, so it is an error.
  if (is_ows(line.front())) {
    return fail(errc::invalid_response, field_count_ == 0
                                            ? "whitespace before the first header field"
                                            : "obsolete line folding");
  }
  std::string_view name;
  std::string_view value;
  if (!split_field(line, name, value) || !count_field(Section::head)) return used;
  if (!apply_framing_field(name, value)) return used;
  sink_->on_header(name, value);
  return used;
}

// field-line = field-name ":" OWS field-value OWS
bool ResponseParser::split_field(std::string_view line, std::string_view& name,
                                 std::string_view& value) {
  std::size_t colon = 0;
  while (colon < line.size() && is_tchar(line[colon])) ++colon;
  if (colon == line.size()) {
    fail(errc::invalid_response, "field line without a colon " + quote(line));
    return false;
  }
  if (line[colon] != ':') {
    // RFC 9112 §5.1: whitespace before the colon MUST be rejected.
    fail(errc::invalid_response,
         is_ows(line[colon])
             ? "whitespace between field name and colon " + quote(line)
             : "invalid character " + hex_byte(line[colon]) + " in field name " + quote(line));
    return false;
  }
  if (colon == 0) {
    fail(errc::invalid_response, "empty field name " + quote(line));
    return false;
  }
  name = line.substr(0, colon);
  value = trim_ows(line.substr(colon + 1));
  auto bad = find_bad_text_char(value);
  if (bad != value.end()) {
    fail(errc::invalid_response,
         "invalid character " + hex_byte(*bad) + " in value of field " + quote(name));
    return false;
  }
  return true;
}

bool ResponseParser::count_field(Section section) {
  if (++field_count_ <= limits_.max_header_count) return true;
  fail(errc::too_many_headers, std::string(section == Section::head ? "header" : "trailer") +
                                   " fields exceed max_header_count (" +
                                   std::to_string(limits_.max_header_count) + ")");
  return false;
}

// Told apart by length before any compare: most fields are none of the
// three, and every field of every response comes here.
bool ResponseParser::apply_framing_field(std::string_view name, std::string_view value) {
  switch (name.size()) {
    case 10:
      if (equals_key(name, "connection")) parse_connection(value);
      return true;
    case 14: return !equals_key(name, "content-length") || parse_content_length(value);
    case 17: return !equals_key(name, "transfer-encoding") || parse_transfer_encoding(value);
    default: return true;
  }
}

// Several Content-Length values (in one field or many) are accepted only when
// they are all the same (RFC 9110 §8.6).
bool ResponseParser::parse_content_length(std::string_view value) {
  // The usual value, one number short enough not to overflow, without the
  // list machinery.
  if (!value.empty() && value.size() <= std::numeric_limits<std::uint64_t>::digits10) {
    std::uint64_t n = 0;
    bool digits = true;
    for (char c : value) {
      digits = digits && is_digit(c);
      n = n * 10 + static_cast<std::uint64_t>(c - '0');  // unused unless all are digits
    }
    if (digits) return set_content_length(n);
  }
  bool any = false;
  bool ok = for_each_element(value, [&](std::string_view element) {
    std::uint64_t n = 0;
    for (char c : element) {
      if (!is_digit(c)) {
        fail(errc::invalid_response, "Content-Length " + quote(element) + " is not a number");
        return false;
      }
      auto digit = static_cast<std::uint64_t>(c - '0');
      if (n > (max_u64 - digit) / 10) {
        fail(errc::invalid_response, "Content-Length " + quote(element) + " is too large");
        return false;
      }
      n = n * 10 + digit;
    }
    any = true;
    return set_content_length(n);
  });
  if (ok && !any) fail(errc::invalid_response, "empty Content-Length");
  return ok && any;
}

bool ResponseParser::set_content_length(std::uint64_t n) {
  if (has_content_length_ && n != content_length_) {
    fail(errc::invalid_response, "differing Content-Length values " +
                                     std::to_string(content_length_) + " and " + std::to_string(n));
    return false;
  }
  has_content_length_ = true;
  content_length_ = n;
  return true;
}

// Codings accumulate over all Transfer-Encoding fields. Chunked must come
// last and once (RFC 9112 §6.1); a response whose codings do not end in
// chunked is delimited by the close (§6.3), the codings left to the caller.
bool ResponseParser::parse_transfer_encoding(std::string_view value) {
  bool any = false;
  bool ok = for_each_element(value, [&](std::string_view coding) {
    if (chunked_) {
      fail(errc::invalid_response, "chunked is not the final transfer coding");
      return false;
    }
    chunked_ = equals_key(coding, "chunked");
    any = true;
    return true;
  });
  if (ok && !any) fail(errc::invalid_response, "empty Transfer-Encoding");
  has_transfer_encoding_ = true;
  return ok && any;
}

void ResponseParser::parse_connection(std::string_view value) {
  const auto option = [&](std::string_view option) {
    if (equals_key(option, "close")) connection_close_ = true;
    if (equals_key(option, "keep-alive")) connection_keep_alive_ = true;
    return true;
  };
  // One option alone, the usual value (trimmed already), without the list
  // machinery.
  if (equals_key(value, "keep-alive")) {
    connection_keep_alive_ = true;
  } else if (equals_key(value, "close")) {
    connection_close_ = true;
  } else {
    for_each_element(value, option);
  }
}

// RFC 9112 §6.3, in its order.
BodyKind ResponseParser::body_kind() const noexcept {
  bool success = head_.status >= 200 && head_.status < 300;
  if (head_.status == 101 || (request_kind_ == RequestKind::connect && success)) {
    return BodyKind::tunnel;
  }
  if (request_kind_ == RequestKind::head || head_.status == 204 || head_.status == 304) {
    return BodyKind::none;
  }
  if (has_transfer_encoding_) return chunked_ ? BodyKind::chunked : BodyKind::until_close;
  if (has_content_length_) return content_length_ == 0 ? BodyKind::none : BodyKind::length;
  return BodyKind::until_close;
}

bool ResponseParser::compute_keep_alive() const noexcept {
  if (head_.body == BodyKind::until_close || head_.body == BodyKind::tunnel) return false;
  // Both framings, or chunked in HTTP/1.0, may be a smuggling attempt: read
  // this response by its Transfer-Encoding, but trust nothing after it
  // (RFC 9112 §6.1, §6.3).
  if (has_transfer_encoding_ && (has_content_length_ || head_.version_minor == 0)) return false;
  if (connection_close_) return false;
  return head_.version_minor >= 1 || connection_keep_alive_;
}

void ResponseParser::end_of_head() {
  if (head_.status < 200 && head_.status != 101) {
    // Interim: report it, then parse the final response that follows.
    sink_->on_interim(head_);
    start_message();
    set_state(State::status_line);
    return;
  }
  head_.body = body_kind();
  if (head_.body == BodyKind::length) head_.content_length = content_length_;
  head_.keep_alive = compute_keep_alive();
  sink_->on_headers_complete(head_);
  begin_body();
}

void ResponseParser::begin_body() {
  switch (head_.body) {
    case BodyKind::none:
    case BodyKind::tunnel: complete_message(); break;
    case BodyKind::length:
      expected_ = remaining_ = content_length_;
      set_state(State::body_length);
      break;
    case BodyKind::chunked: set_state(State::chunk_size); break;
    case BodyKind::until_close: set_state(State::body_until_close); break;
  }
}

void ResponseParser::complete_message() {
  if (state_ == State::failed) return;
  set_state(head_.body == BodyKind::tunnel ? State::tunnel : State::complete);
  sink_->on_message_complete();
}

std::size_t ResponseParser::on_body_length(std::string_view in) {
  auto n = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, in.size()));
  remaining_ -= n;
  sink_->on_body(in.substr(0, n));
  if (remaining_ == 0) complete_message();
  return n;
}

std::size_t ResponseParser::on_body_until_close(std::string_view in) {
  sink_->on_body(in);
  return in.size();
}

std::size_t ResponseParser::on_chunk_size(std::string_view in) {
  std::size_t used = 0;
  std::string_view line;
  if (!take_line(in, Section::chunk_line, used, line)) return used;
  if (!parse_chunk_size(line)) return used;
  if (expected_ == 0) {
    // The last chunk: the trailer section follows, with budgets of its own.
    section_bytes_ = 0;
    field_count_ = 0;
    set_state(State::trailer_line);
  } else {
    remaining_ = expected_;
    set_state(State::chunk_data);
  }
  return used;
}

// chunk-size [ chunk-ext ]: the extensions are skipped, their bytes checked.
bool ResponseParser::parse_chunk_size(std::string_view line) {
  std::size_t end = 0;
  std::uint64_t size = 0;
  bool overflow = false;
  for (; end < line.size() && hex_value(line[end]) >= 0; ++end) {
    if (size > (max_u64 >> 4)) overflow = true;
    size = (size << 4) | static_cast<std::uint64_t>(hex_value(line[end]));
  }
  std::string_view rest = line.substr(end);
  while (!rest.empty() && is_ows(rest.front())) rest.remove_prefix(1);
  if (end == 0 || (!rest.empty() && rest.front() != ';')) {
    fail(errc::invalid_response, "malformed chunk size line " + quote(line));
    return false;
  }
  auto bad = find_bad_text_char(rest);
  if (bad != rest.end()) {
    fail(errc::invalid_response,
         "invalid character " + hex_byte(*bad) + " in chunk extension " + quote(line));
    return false;
  }
  if (overflow || size > limits_.max_chunk_size) {
    fail(errc::chunk_too_large, "chunk size " + quote(line.substr(0, end)) +
                                    " exceeds max_chunk_size (" +
                                    std::to_string(limits_.max_chunk_size) + " bytes)");
    return false;
  }
  expected_ = size;
  return true;
}

std::size_t ResponseParser::on_chunk_data(std::string_view in) {
  auto n = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, in.size()));
  remaining_ -= n;
  sink_->on_body(in.substr(0, n));
  if (remaining_ == 0) set_state(State::chunk_data_cr);
  return n;
}

// Byte by byte, not as a line: anything but CRLF (or LF) here is an error at
// once, without buffering a line's worth of it.
std::size_t ResponseParser::on_chunk_data_end(std::string_view in) {
  char c = in.front();
  if (state_ == State::chunk_data_cr && c == '\r') {
    set_state(State::chunk_data_lf);
  } else if (c == '\n') {
    set_state(State::chunk_size);
  } else {
    return fail(errc::invalid_response, "expected CRLF after chunk data, got " + hex_byte(c));
  }
  return 1;
}

std::size_t ResponseParser::on_trailer_line(std::string_view in) {
  std::size_t used = 0;
  std::string_view line;
  if (!take_line(in, Section::trailers, used, line)) return used;
  if (line.empty()) {
    complete_message();
    return used;
  }
  if (is_ows(line.front())) {
    return fail(errc::invalid_response, field_count_ == 0
                                            ? "whitespace before the first trailer field"
                                            : "obsolete line folding");
  }
  std::string_view name;
  std::string_view value;
  if (!split_field(line, name, value) || !count_field(Section::trailers)) return used;
  sink_->on_trailer(name, value);
  return used;
}

Result<void> ResponseParser::truncated(std::string where) {
  fail(errc::response_truncated, std::move(where));
  return error_;
}

Result<void> ResponseParser::finish() {
  switch (state_) {
    case State::status_line:
      return truncated(started_ ? "in status line" : "before the status line");
    case State::header_line: return truncated("in headers");
    case State::body_length:
      return truncated("body: got " + std::to_string(expected_ - remaining_) + " of " +
                       std::to_string(expected_) + " bytes");
    case State::body_until_close: complete_message(); return {};
    case State::chunk_size: return truncated("in chunk size");
    case State::chunk_data:
      return truncated("in chunk data: got " + std::to_string(expected_ - remaining_) + " of " +
                       std::to_string(expected_) + " bytes");
    case State::chunk_data_cr:
    case State::chunk_data_lf: return truncated("after chunk data");
    case State::trailer_line: return truncated("in trailers");
    case State::complete:
    case State::tunnel: return {};
    case State::failed: break;
  }
  return error_;
}

}  // namespace uvinet::http::detail

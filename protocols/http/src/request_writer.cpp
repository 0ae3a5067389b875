#include "request_writer.hpp"

#include <algorithm>
#include <charconv>

#include "response_parser.hpp"  // iequals

namespace uvinet::http::detail {
namespace {

bool is_tchar(char c) noexcept {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_token(std::string_view s) noexcept {
  return !s.empty() && std::all_of(s.begin(), s.end(), is_tchar);
}

// Visible ASCII only: no space, no control, nothing a URL layer should have
// percent-encoded.
bool is_visible(std::string_view s) noexcept {
  return std::all_of(s.begin(), s.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

// A field value: no control but HTAB (so no CR, LF or NUL); obs-text passes.
bool is_field_value(std::string_view s) noexcept {
  return std::none_of(s.begin(), s.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return (u < 0x20 && c != '\t') || u == 0x7f;
  });
}

// The first few bytes of a rejected argument, controls escaped, for the note.
std::string shown(std::string_view s) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out = "'";
  for (char c : s.substr(0, 48)) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f) {
      out += "\\x";
      out += digits[u >> 4];
      out += digits[u & 15];
    } else {
      out += c;
    }
  }
  return out + (s.size() > 48 ? "'..." : "'");
}

bool is_framing_field(std::string_view name) noexcept {
  return iequals(name, "host") || iequals(name, "content-length") ||
         iequals(name, "transfer-encoding");
}

// Appends "name: value\r\n" after checking both; `where` names the section.
Result<void> append_field(std::string& out, const Field& field, const char* where) {
  if (!is_token(field.name)) {
    return Error(errc::invalid_argument,
                 std::string(where) + " field name " + shown(field.name) + " is not a token");
  }
  if (!is_field_value(field.value)) {
    return Error(errc::invalid_argument, std::string(where) + " field " + shown(field.name) +
                                             ": value " + shown(field.value) +
                                             " holds a control character");
  }
  if (is_framing_field(field.name)) {
    bool trailer = std::string_view(where) == "trailer";
    return Error(errc::invalid_argument, std::string(where) + " field " + shown(field.name) +
                                             (trailer ? " is not allowed in trailers"
                                                      : " is written by the writer itself"));
  }
  out.append(field.name).append(": ").append(field.value).append("\r\n");
  return {};
}

Result<void> check_request_line(const RequestHead& head) {
  if (!is_token(head.method)) {
    return Error(errc::invalid_argument,
                 "request method " + shown(head.method) + " is not a token");
  }
  if (head.target.empty() || !is_visible(head.target)) {
    return Error(errc::invalid_argument,
                 "request target " + shown(head.target) + " is empty or holds a space or control");
  }
  if (!is_visible(head.host)) {
    return Error(errc::invalid_argument,
                 "Host " + shown(head.host) + " holds a space or control character");
  }
  return {};
}

}  // namespace

Result<std::string> request_head(const RequestHead& head) {
  if (auto ok = check_request_line(head); !ok) return ok.error();
  std::string out;
  out.reserve(64 + head.target.size() + head.host.size());
  out.append(head.method).append(" ").append(head.target).append(" HTTP/1.1\r\n");
  out.append("Host: ").append(head.host).append("\r\n");
  for (const Field& field : head.fields) {
    if (auto ok = append_field(out, field, "header"); !ok) return ok.error();
  }
  switch (head.framing) {
    case Framing::none: break;
    case Framing::content_length:
      out.append("Content-Length: ").append(std::to_string(head.content_length)).append("\r\n");
      break;
    case Framing::chunked: out.append("Transfer-Encoding: chunked\r\n"); break;
  }
  out.append("\r\n");
  return out;
}

std::string chunk_header(std::uint64_t size) {
  char buf[24];
  auto end = std::to_chars(buf, buf + sizeof buf, size, 16).ptr;
  std::string out(buf, end);
  out.append("\r\n");
  return out;
}

std::string chunk(std::string_view data) {
  if (data.empty()) return {};
  std::string out = chunk_header(data.size());
  out.reserve(out.size() + data.size() + chunk_end.size());
  out.append(data).append(chunk_end);
  return out;
}

Result<std::string> last_chunk(std::span<const Field> trailers) {
  std::string out = "0\r\n";
  for (const Field& field : trailers) {
    if (auto ok = append_field(out, field, "trailer"); !ok) return ok.error();
  }
  out.append("\r\n");
  return out;
}

}  // namespace uvinet::http::detail

#include "request_writer.hpp"

#include <charconv>

#include "http_chars.hpp"
#include "response_parser.hpp"  // iequals

namespace uvinet::http::detail {
namespace {

// The first few bytes of a rejected argument, controls escaped, for the note.
std::string shown(std::string_view s) {
  return "'" + escaped(s.substr(0, 48)) + (s.size() > 48 ? "'..." : "'");
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

}  // namespace

Result<void> append_request_line(std::string& out, std::string_view method,
                                 std::initializer_list<std::string_view> target) {
  if (!is_token(method)) {
    return Error(errc::invalid_argument, "request method " + shown(method) + " is not a token");
  }
  out.append(method).push_back(' ');
  const std::size_t target_at = out.size();
  for (std::string_view piece : target) {
    if (!piece.empty()) out.append(piece);
  }
  const std::string_view written = std::string_view(out).substr(target_at);
  if (written.empty() || !is_visible(written)) {
    return Error(errc::invalid_argument,
                 "request target " + shown(written) + " is empty or holds a space or control");
  }
  out.append(" HTTP/1.1\r\n");
  return {};
}

Result<void> append_host_field(std::string& out, std::string_view host) {
  if (!is_visible(host)) {
    return Error(errc::invalid_argument,
                 "Host " + shown(host) + " holds a space or control character");
  }
  out.append("Host: ").append(host).append("\r\n");
  return {};
}

Result<void> append_header_field(std::string& out, const Field& field) {
  return append_field(out, field, "header");
}

void append_head_end(std::string& out, Framing framing, std::uint64_t content_length) {
  switch (framing) {
    case Framing::none: break;
    case Framing::content_length: {
      char digits[24];
      const auto end = std::to_chars(digits, digits + sizeof digits, content_length).ptr;
      out.append("Content-Length: ").append(digits, end).append("\r\n");
      break;
    }
    case Framing::chunked: out.append("Transfer-Encoding: chunked\r\n"); break;
  }
  out.append("\r\n");
}

Result<void> CheckedFieldLine::append(std::string& out, std::string_view value) {
  if (line_.empty() || value != value_) {
    line_.clear();
    if (auto ok = append_header_field(line_, {name_, value}); !ok) {
      line_.clear();
      return ok.error();
    }
    value_ = value;
  }
  out.append(line_);
  return {};
}

Result<std::string> request_head(const RequestHead& head) {
  std::string out;
  out.reserve(64 + head.method.size() + head.target.size() + head.host.size());
  if (auto ok = append_request_line(out, head.method, {head.target}); !ok) return ok.error();
  if (auto ok = append_host_field(out, head.host); !ok) return ok.error();
  for (const Field& field : head.fields) {
    if (auto ok = append_header_field(out, field); !ok) return ok.error();
  }
  append_head_end(out, head.framing, head.content_length);
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

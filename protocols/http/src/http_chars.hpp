// The character classes of HTTP/1.1 (RFC 9110 §5.6.2, §5.5; RFC 9112 §3.2),
// as tables: the writer checks every byte of every request head it builds,
// and a table lookup per byte is what that costs.
#pragma once

#include <array>
#include <string>
#include <string_view>

namespace uvinet::http::detail {

namespace chars {

constexpr std::array<bool, 256> make_tchar_table() {
  std::array<bool, 256> table{};
  for (int c = '0'; c <= '9'; ++c) table[c] = true;
  for (int c = 'a'; c <= 'z'; ++c) table[c] = true;
  for (int c = 'A'; c <= 'Z'; ++c) table[c] = true;
  for (char c : std::string_view("!#$%&'*+-.^_`|~")) table[static_cast<unsigned char>(c)] = true;
  return table;
}
inline constexpr std::array<bool, 256> tchar_table = make_tchar_table();

}  // namespace chars

/// tchar: a character of a token, such as a method or a field name.
constexpr bool is_tchar(char c) noexcept {
  return chars::tchar_table[static_cast<unsigned char>(c)];
}

/// A token: one or more tchars.
constexpr bool is_token(std::string_view s) noexcept {
  if (s.empty()) return false;
  for (char c : s) {
    if (!is_tchar(c)) return false;
  }
  return true;
}

/// A control character a field value must not hold: all but HTAB, and DEL.
/// (obs-text, 0x80 and above, passes.)
constexpr bool is_field_control(char c) noexcept {
  const auto u = static_cast<unsigned char>(c);
  return (u < 0x20 && c != '\t') || u == 0x7f;
}

/// A field value: no control but HTAB, so no CR, LF or NUL.
constexpr bool is_field_value(std::string_view s) noexcept {
  for (char c : s) {
    if (is_field_control(c)) return false;
  }
  return true;
}

/// Visible ASCII only (a request target, a Host): no space, no control,
/// nothing a URL layer should have percent-encoded.
constexpr bool is_visible(std::string_view s) noexcept {
  for (char c : s) {
    if (c <= 0x20 || c >= 0x7f) return false;
  }
  return true;
}

/// `s` for an error note: control bytes, and bytes from DEL up, as \xNN.
inline std::string escaped(std::string_view s) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f) {
      out += "\\x";
      out += digits[u >> 4];
      out += digits[u & 15];
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace uvinet::http::detail

// URL crack and create (RFC 3986, RFC 6874 zone ids). Everything here works on
// its arguments only, so it is safe from any thread (contract rule C9).
#include "uvinet/url.hpp"

#include <array>
#include <optional>
#include <utility>

namespace uvinet {
namespace {

constexpr std::string_view kSubDelims = "!$&'()*+,;=";
// RFC 3986 userinfo is unreserved / sub-delims / ':'; the user gets no raw ':'
// because the first one separates user from password.
constexpr std::string_view kPasswordKeep = ":!$&'()*+,;=";
constexpr std::string_view kHexDigits = "0123456789ABCDEF";
// Longer URLs are cut in error messages, which end up in logs.
constexpr std::size_t kMaxQuotedLength = 200;

bool is_alpha(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_digit(char c) noexcept {
  return c >= '0' && c <= '9';
}
bool is_hex(char c) noexcept {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
bool is_unreserved(char c) noexcept {
  return is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_' || c == '~';
}
bool is_sub_delim(char c) noexcept {
  return kSubDelims.find(c) != std::string_view::npos;
}
bool is_control(char c) noexcept {
  auto u = static_cast<unsigned char>(c);
  return u < 0x20 || u == 0x7f;
}
bool is_non_ascii(char c) noexcept {
  return static_cast<unsigned char>(c) >= 0x80;
}
int hex_value(char c) noexcept {
  if (is_digit(c)) return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return c - 'A' + 10;
}
char to_lower(char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = to_lower(c);
  return out;
}

void append_escape(std::string& out, char c) {
  auto u = static_cast<unsigned char>(c);
  out += '%';
  out += kHexDigits[u >> 4];
  out += kHexDigits[u & 0xf];
}

bool starts_escape(std::string_view s, std::size_t i) noexcept {
  return i + 2 < s.size() && is_hex(s[i + 1]) && is_hex(s[i + 2]);
}

// The position of the first '%' that does not start a "%XX" escape.
std::optional<std::size_t> find_bad_escape(std::string_view s) noexcept {
  for (std::size_t i = s.find('%'); i != std::string_view::npos; i = s.find('%', i + 1)) {
    if (!starts_escape(s, i)) return i;
  }
  return std::nullopt;
}

// Hides the password: URLs in error messages end up in logs.
std::string redact_password(std::string_view text) {
  auto start = text.find("://");
  if (start == std::string_view::npos) return std::string(text);
  start += 3;
  auto end = text.find_first_of("/?#", start);
  auto at = text.substr(0, end).rfind('@');
  if (at == std::string_view::npos || at < start) return std::string(text);
  auto colon = text.substr(0, at).find(':', start);
  if (colon == std::string_view::npos || colon + 1 == at) return std::string(text);
  return std::string(text.substr(0, colon + 1)) + "***" + std::string(text.substr(at));
}

// Quotes URL text for a message: control bytes escaped so the message stays one
// readable line, the password hidden, and very long URLs cut.
std::string quote(std::string_view text) {
  std::string shown = redact_password(text);
  bool cut = shown.size() > kMaxQuotedLength;
  if (cut) shown.resize(kMaxQuotedLength);
  std::string out = "'";
  for (char c : shown) {
    if (is_control(c)) {
      append_escape(out, c);
    } else {
      out += c;
    }
  }
  out += cut ? "...'" : "'";
  return out;
}

// A character for a message: printable ones in quotes, others as hex.
std::string describe_char(char c) {
  if (is_control(c) || is_non_ascii(c) || c == ' ') {
    std::string out = "byte ";
    append_escape(out, c);
    return out;
  }
  return std::string("'") + c + "'";
}

Error url_error(std::string_view what, std::string_view text) {
  return Error(errc::invalid_url, std::string(what) + " in URL " + quote(text));
}

Error bad_escape_error(std::string_view part, std::string_view s, std::size_t at,
                       std::string_view text) {
  // The escape is not shown for a password: it would leak part of it.
  std::string escape = part == "password" ? "" : " '" + std::string(s.substr(at, 3)) + "'";
  return url_error("bad percent escape" + escape + " in " + std::string(part) +
                       " (a '%' must be followed by two hex digits; write '%' as %25)",
                   text);
}

// Decodes an escape-checked part of a URL.
std::string decode_checked(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%') {
      out += static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

bool scheme_needs_host(std::string_view scheme) noexcept {
  return default_port(scheme) != 0;
}

std::optional<std::string> check_scheme(std::string_view scheme) {
  if (scheme.empty()) return "empty scheme";
  if (!is_alpha(scheme[0])) return "scheme does not start with a letter";
  for (char c : scheme) {
    if (!is_alpha(c) && !is_digit(c) && c != '+' && c != '-' && c != '.') {
      return "invalid character " + describe_char(c) + " in scheme";
    }
  }
  return std::nullopt;
}

// ---- IPv6 ----------------------------------------------------------------

bool is_dec_octet(std::string_view s) noexcept {
  if (s.empty() || s.size() > 3 || (s.size() > 1 && s[0] == '0')) return false;
  int value = 0;
  for (char c : s) {
    if (!is_digit(c)) return false;
    value = value * 10 + (c - '0');
  }
  return value <= 255;
}

bool is_ipv4_address(std::string_view s) noexcept {
  for (int i = 0; i < 3; ++i) {
    auto dot = s.find('.');
    if (dot == std::string_view::npos || !is_dec_octet(s.substr(0, dot))) return false;
    s.remove_prefix(dot + 1);
  }
  return is_dec_octet(s);
}

bool is_h16(std::string_view s) noexcept {
  if (s.empty() || s.size() > 4) return false;
  for (char c : s) {
    if (!is_hex(c)) return false;
  }
  return true;
}

// The number of 16-bit pieces in a ':'-separated run of groups, or -1 when it is
// malformed. Only the run that ends the address may end in an IPv4 address.
int count_pieces(std::string_view run, bool may_end_in_ipv4) noexcept {
  if (run.empty()) return 0;
  int pieces = 0;
  while (true) {
    auto colon = run.find(':');
    auto group = run.substr(0, colon);
    if (colon == std::string_view::npos) {
      if (may_end_in_ipv4 && is_ipv4_address(group)) return pieces + 2;
      return is_h16(group) ? pieces + 1 : -1;
    }
    if (!is_h16(group)) return -1;
    ++pieces;
    run.remove_prefix(colon + 1);
  }
}

bool is_ipv6_address(std::string_view s) noexcept {
  auto gap = s.find("::");
  if (gap == std::string_view::npos) return count_pieces(s, true) == 8;
  if (s.find("::", gap + 1) != std::string_view::npos) return false;
  int left = count_pieces(s.substr(0, gap), false);
  int right = count_pieces(s.substr(gap + 2), true);
  return left >= 0 && right >= 0 && left + right <= 7;
}

// ---- Cracking -------------------------------------------------------------

// Cracks one URL; holds the whole text so every error can quote it.
class Cracker {
 public:
  explicit Cracker(std::string_view text) : text_(text) {}

  Result<Url> run() {
    if (auto bad = check_characters(); !bad) return tl::unexpected(bad.error());
    auto rest = take_scheme();
    if (!rest) return tl::unexpected(rest.error());
    if (auto bad = take_hier_part(split_query_fragment(*rest)); !bad) {
      return tl::unexpected(bad.error());
    }
    return std::move(url_);
  }

 private:
  Error fail(std::string_view what) const { return url_error(what, text_); }

  Result<void> check_characters() const {
    if (text_.empty()) return tl::unexpected(fail("empty URL"));
    for (std::size_t i = 0; i < text_.size(); ++i) {
      char c = text_[i];
      if (c == ' ') {
        return tl::unexpected(fail("space at offset " + std::to_string(i) +
                                   " (spaces must be percent-encoded as %20)"));
      }
      if (is_control(c)) {
        return tl::unexpected(
            fail("control character " + describe_char(c) + " at offset " + std::to_string(i)));
      }
    }
    return {};
  }

  // Returns what follows "scheme:".
  Result<std::string_view> take_scheme() {
    auto end = text_.find_first_of(":/?#");
    if (end == std::string_view::npos || text_[end] != ':' || end == 0) {
      return tl::unexpected(fail("missing scheme (a URL starts with one, as in 'http:')"));
    }
    auto scheme = text_.substr(0, end);
    if (auto bad = check_scheme(scheme)) return tl::unexpected(fail(*bad));
    url_.scheme = lower(scheme);
    return text_.substr(end + 1);
  }

  // Stores query and fragment; returns the hier-part before them.
  std::string_view split_query_fragment(std::string_view rest) {
    if (auto hash = rest.find('#'); hash != std::string_view::npos) {
      url_.fragment = rest.substr(hash + 1);
      rest = rest.substr(0, hash);
    }
    if (auto question = rest.find('?'); question != std::string_view::npos) {
      url_.query = rest.substr(question + 1);
      rest = rest.substr(0, question);
    }
    return rest;
  }

  Result<void> take_hier_part(std::string_view hier) {
    bool has_authority = hier.substr(0, 2) == "//";
    if (!has_authority && scheme_needs_host(url_.scheme)) {
      return tl::unexpected(fail("missing '//' and host after '" + url_.scheme + ":'"));
    }
    url_.port = default_port(url_.scheme);
    std::string_view path = hier;
    if (has_authority) {
      hier.remove_prefix(2);
      auto slash = hier.find('/');
      path = slash == std::string_view::npos ? std::string_view("/") : hier.substr(slash);
      if (auto bad = take_authority(hier.substr(0, slash)); !bad) return bad;
    }
    return take_path_query_fragment(path);
  }

  Result<void> take_path_query_fragment(std::string_view path) {
    const std::array<std::pair<std::string_view, std::string_view>, 3> parts = {
        {{"path", path}, {"query", url_.query}, {"fragment", url_.fragment}}};
    for (const auto& [name, part] : parts) {
      if (auto at = find_bad_escape(part)) {
        return tl::unexpected(bad_escape_error(name, part, *at, text_));
      }
    }
    url_.path = path;
    return {};
  }

  Result<void> take_authority(std::string_view authority) {
    // The last '@' ends the user info, so that a raw '@' in a password gets a
    // clear message rather than becoming part of the host.
    auto at = authority.rfind('@');
    if (at != std::string_view::npos) {
      if (auto bad = take_user_info(authority.substr(0, at)); !bad) return bad;
      authority.remove_prefix(at + 1);
    }
    if (!authority.empty() && authority[0] == '[') return take_ipv6_host_port(authority);
    return take_reg_name_host_port(authority);
  }

  Result<void> take_user_info(std::string_view info) {
    if (info.find('@') != std::string_view::npos) {
      return tl::unexpected(fail("'@' in user info (write it as %40)"));
    }
    auto colon = info.find(':');
    auto user = info.substr(0, colon);
    auto password = colon == std::string_view::npos ? std::string_view() : info.substr(colon + 1);
    if (auto bad = find_bad_escape(user)) {
      return tl::unexpected(bad_escape_error("user name", user, *bad, text_));
    }
    if (auto bad = find_bad_escape(password)) {
      return tl::unexpected(bad_escape_error("password", password, *bad, text_));
    }
    url_.user = decode_checked(user);
    url_.password = decode_checked(password);
    return {};
  }

  Result<void> take_ipv6_host_port(std::string_view authority) {
    auto close = authority.find(']');
    if (close == std::string_view::npos) {
      return tl::unexpected(fail("IPv6 host has '[' but no ']'"));
    }
    auto after = authority.substr(close + 1);
    if (!after.empty() && after[0] != ':') {
      return tl::unexpected(fail("unexpected " + describe_char(after[0]) + " after ']' in host"));
    }
    if (auto bad = take_ipv6_literal(authority.substr(1, close - 1)); !bad) return bad;
    return after.empty() ? Result<void>() : take_port(after.substr(1));
  }

  Result<void> take_ipv6_literal(std::string_view literal) {
    if (!literal.empty() && to_lower(literal[0]) == 'v') {
      return tl::unexpected(fail("IPvFuture host literals are not supported"));
    }
    auto percent = literal.find('%');
    auto address = literal.substr(0, percent);
    if (!is_ipv6_address(address)) {
      return tl::unexpected(fail("invalid IPv6 address '" + std::string(address) + "'"));
    }
    url_.host = lower(address);
    if (percent == std::string_view::npos) return {};
    return take_zone_id(literal.substr(percent));
  }

  // `zone` starts at the '%' that, per RFC 6874, must itself be written "%25".
  Result<void> take_zone_id(std::string_view zone) {
    if (zone.substr(0, 3) != "%25" || zone.size() == 3) {
      return tl::unexpected(
          fail("IPv6 zone id must be written as '%25' and a name, as in '[fe80::1%25eth0]'"));
    }
    zone.remove_prefix(3);
    for (std::size_t i = 0; i < zone.size(); ++i) {
      if (zone[i] == '%' && !starts_escape(zone, i)) {
        return tl::unexpected(bad_escape_error("IPv6 zone id", zone, i, text_));
      }
      if (zone[i] != '%' && !is_unreserved(zone[i])) {
        return tl::unexpected(
            fail("invalid character " + describe_char(zone[i]) + " in IPv6 zone id"));
      }
    }
    url_.host += '%';
    url_.host += decode_checked(zone);
    return {};
  }

  Result<void> take_reg_name_host_port(std::string_view authority) {
    auto colon = authority.find(':');
    if (colon != std::string_view::npos &&
        authority.find(':', colon + 1) != std::string_view::npos) {
      return tl::unexpected(fail("IPv6 host must be enclosed in '[' and ']'"));
    }
    if (auto bad = take_reg_name(authority.substr(0, colon)); !bad) return bad;
    if (colon == std::string_view::npos) return {};
    return take_port(authority.substr(colon + 1));
  }

  Result<void> take_reg_name(std::string_view host) {
    if (host.empty() && scheme_needs_host(url_.scheme)) {
      return tl::unexpected(fail("missing host"));
    }
    for (std::size_t i = 0; i < host.size(); ++i) {
      char c = host[i];
      if (c == '%' && !starts_escape(host, i)) {
        return tl::unexpected(bad_escape_error("host", host, i, text_));
      }
      if (c != '%' && !is_unreserved(c) && !is_sub_delim(c) && !is_non_ascii(c)) {
        return tl::unexpected(fail("invalid character " + describe_char(c) + " in host"));
      }
    }
    url_.host = lower(decode_checked(host));
    for (char c : url_.host) {
      // Such a host could not be written back, or would read as an IPv6 address.
      if (is_control(c) || c == ' ' || c == ':') {
        return tl::unexpected(fail("host holds an encoded " + describe_char(c)));
      }
    }
    return {};
  }

  // An empty port means the default, as RFC 3986 allows ("http://h:/").
  Result<void> take_port(std::string_view digits) {
    unsigned value = 0;
    for (char c : digits) {
      if (!is_digit(c)) {
        return tl::unexpected(fail("port '" + std::string(digits) + "' is not a number"));
      }
      value = value * 10 + static_cast<unsigned>(c - '0');
      if (value > 65535) return tl::unexpected(fail("port out of range (0-65535)"));
    }
    if (!digits.empty()) url_.port = static_cast<std::uint16_t>(value);
    return {};
  }

  std::string_view text_;
  Url url_;
};

// ---- Creating -------------------------------------------------------------

Error create_error(std::string_view what) {
  return Error(errc::invalid_url, "cannot create URL: " + std::string(what));
}

// Path, query and fragment are already encoded: only bytes that may never
// appear raw are encoded, plus those that would end the part early.
std::string encode_raw(std::string_view s, std::string_view also_encode) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool lone_percent = c == '%' && !starts_escape(s, i);
    if (c == ' ' || is_control(c) || is_non_ascii(c) || lone_percent ||
        also_encode.find(c) != std::string_view::npos) {
      append_escape(out, c);
    } else {
      out += c;
    }
  }
  return out;
}

Result<std::string> encode_host(const Url& url) {
  if (url.host.empty()) {
    if (scheme_needs_host(lower(url.scheme))) return tl::unexpected(create_error("host is empty"));
    return std::string();
  }
  if (url.is_ipv6_literal()) {
    auto percent = url.host.find('%');
    auto address = std::string_view(url.host).substr(0, percent);
    if (!is_ipv6_address(address)) {
      return tl::unexpected(
          create_error("host '" + url.host + "' holds ':' but is not an IPv6 address"));
    }
    std::string out = "[" + std::string(address);
    if (percent != std::string::npos) out += "%25" + percent_encode(url.host.substr(percent + 1));
    return out + "]";
  }
  for (char c : url.host) {
    if (is_control(c) || c == ' ') {
      return tl::unexpected(create_error("host holds a space or control character"));
    }
  }
  return percent_encode(url.host, kSubDelims);
}

Result<std::string> encode_authority(const Url& url) {
  auto host = encode_host(url);
  if (!host) return host;
  std::string out = "//";
  if (url.has_credentials()) {
    out += percent_encode(url.user, kSubDelims);
    if (!url.password.empty()) out += ':' + percent_encode(url.password, kPasswordKeep);
    out += '@';
  }
  out += *host;
  if (url.port != 0 && url.port != default_port(lower(url.scheme))) {
    out += ':' + std::to_string(url.port);
  }
  return out;
}

bool needs_authority(const Url& url, std::string_view scheme) {
  return !url.host.empty() || url.has_credentials() || url.port != 0 || scheme_needs_host(scheme) ||
         (!url.path.empty() && url.path[0] == '/');
}

}  // namespace

bool Url::has_credentials() const noexcept {
  return !user.empty() || !password.empty();
}

bool Url::is_ipv6_literal() const noexcept {
  return host.find(':') != std::string::npos;
}

std::string Url::host_port() const {
  std::string out = is_ipv6_literal() ? "[" + host + "]" : host;
  if (port != 0) out += ':' + std::to_string(port);
  return out;
}

std::uint16_t default_port(std::string_view scheme) noexcept {
  static constexpr std::array<std::pair<std::string_view, std::uint16_t>, 7> kPorts = {{
      {"http", 80},
      {"https", 443},
      {"ftp", 21},
      {"ftps", 990},
      {"gopher", 70},
      {"ws", 80},
      {"wss", 443},
  }};
  for (const auto& [name, port] : kPorts) {
    if (name == scheme) return port;
  }
  return 0;
}

Result<Url> crack_url(std::string_view text) {
  return Cracker(text).run();
}

Result<std::string> create_url(const Url& url) {
  if (auto bad = check_scheme(url.scheme)) return tl::unexpected(create_error(*bad));
  std::string scheme = lower(url.scheme);
  std::string out = scheme + ':';
  bool authority = needs_authority(url, scheme);
  if (authority) {
    auto text = encode_authority(url);
    if (!text) return text;
    out += *text;
    // With an authority the path must be empty or start with '/'; crack_url
    // makes an empty one "/", so create_url does too.
    if (url.path.empty() || url.path[0] != '/') out += '/';
  }
  out += encode_raw(url.path, "?#");
  if (!url.query.empty()) out += '?' + encode_raw(url.query, "#");
  if (!url.fragment.empty()) out += '#' + encode_raw(url.fragment, "#");
  return out;
}

std::string percent_encode(std::string_view in, std::string_view keep_also) {
  std::string out;
  out.reserve(in.size());
  for (char c : in) {
    if (is_unreserved(c) || keep_also.find(c) != std::string_view::npos) {
      out += c;
    } else {
      append_escape(out, c);
    }
  }
  return out;
}

Result<std::string> percent_decode(std::string_view in) {
  if (auto at = find_bad_escape(in)) {
    std::string escape(in.substr(*at, 3));
    return tl::unexpected(Error(errc::invalid_url, "bad percent escape '" + escape +
                                                       "' at offset " + std::to_string(*at) +
                                                       " in " + quote(in)));
  }
  return decode_checked(in);
}

}  // namespace uvinet

#include "cookie_jar.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>

#include "response_parser.hpp"  // iequals
#include "uvinet/http_date.hpp"

namespace uvinet::http::detail {
namespace {

using namespace std::chrono_literals;

// RFC 6265 §5.2 trims only these.
std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// The name and value go back out in a Cookie field: a CR or LF there would
// start a header of the server's choosing (RFC 6265bis refuses these too).
bool has_control(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return (u < 0x20 && u != '\t') || u == 0x7f;
  });
}

bool is_ip_address(std::string_view host) {
  const std::string h(host);
  unsigned char buf[16];
  return host.find(':') != std::string_view::npos ||  // only IPv6 literals hold ':'
         ::inet_pton(AF_INET, h.c_str(), buf) == 1;
}

std::string request_path(const Url& url) {
  return url.path.empty() ? std::string("/") : url.path;
}

// Max-Age (RFC 6265 §5.2.2): an optional '-' and digits, or nothing.
std::optional<CookieClock::time_point> parse_max_age(std::string_view v,
                                                     CookieClock::time_point now) {
  if (v.empty()) return std::nullopt;
  const bool negative = v.front() == '-';
  std::string_view digits = negative ? v.substr(1) : v;
  if (digits.empty() ||
      !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  if (negative) return CookieClock::time_point::min();
  // A huge value means "for ever": cap it so the sum cannot overflow the
  // clock (system_clock counts nanoseconds, good until 2262).
  constexpr std::int64_t kCap = 100LL * 366 * 24 * 3600;
  std::int64_t seconds = kCap;
  if (digits.size() <= 12) std::from_chars(digits.data(), digits.data() + digits.size(), seconds);
  if (seconds <= 0) return CookieClock::time_point::min();
  return now + std::chrono::seconds(std::min(seconds, kCap));
}

std::string same_site_value(std::string_view v) {
  for (const char* known : {"Strict", "Lax", "None"}) {
    if (iequals(v, known)) return known;
  }
  return {};
}

struct Parsed {
  Cookie cookie;
  std::optional<std::string> domain_attribute;
};

// RFC 6265 §5.2: the parsing algorithm, which never fails on an attribute,
// only on the name-value pair.
std::optional<Parsed> parse(std::string_view line, const Url& url, CookieClock::time_point now,
                            std::string& why) {
  const std::size_t semi = line.find(';');
  const std::string_view pair = line.substr(0, semi);
  const std::size_t eq = pair.find('=');
  if (eq == std::string_view::npos) {
    why = "no '=' in the name-value pair";
    return std::nullopt;
  }
  Parsed p;
  Cookie& c = p.cookie;
  c.name = std::string(trim(pair.substr(0, eq)));
  c.value = std::string(trim(pair.substr(eq + 1)));
  if (c.name.empty()) {
    why = "empty cookie name";
    return std::nullopt;
  }
  if (has_control(c.name) || has_control(c.value)) {
    why = "control character in the name or value";
    return std::nullopt;
  }
  std::optional<CookieClock::time_point> expires, max_age;
  std::optional<std::string> path;
  std::string_view rest = semi == std::string_view::npos ? std::string_view() : line.substr(semi);
  while (!rest.empty()) {
    rest.remove_prefix(1);  // the ';'
    const std::size_t end = rest.find(';');
    const std::string_view av = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end);
    const std::size_t aeq = av.find('=');
    const std::string_view name = trim(av.substr(0, aeq));
    const std::string_view value =
        aeq == std::string_view::npos ? std::string_view() : trim(av.substr(aeq + 1));
    if (iequals(name, "Expires")) {
      if (auto t = parse_http_date(value, now)) expires = *t;
    } else if (iequals(name, "Max-Age")) {
      if (auto t = parse_max_age(value, now)) max_age = *t;
    } else if (iequals(name, "Domain")) {
      if (!value.empty()) {
        std::string_view d = value;
        if (d.front() == '.') d.remove_prefix(1);
        p.domain_attribute = lower(d);
      }
    } else if (iequals(name, "Path")) {
      path =
          value.empty() || value.front() != '/' ? std::nullopt : std::optional<std::string>(value);
    } else if (iequals(name, "Secure")) {
      c.secure = true;
    } else if (iequals(name, "HttpOnly")) {
      c.http_only = true;
    } else if (iequals(name, "SameSite")) {
      c.same_site = same_site_value(value);
    }
  }
  c.expires = max_age ? max_age : expires;  // §5.3 step 3: Max-Age wins
  c.path = path ? *path : default_cookie_path(url.path);
  return p;
}

}  // namespace

bool domain_match(std::string_view host, std::string_view domain) {
  if (host == domain) return true;
  return !domain.empty() && host.size() > domain.size() + 1 && host.ends_with(domain) &&
         host[host.size() - domain.size() - 1] == '.' && !is_ip_address(host);
}

bool path_match(std::string_view request_path, std::string_view cookie_path) {
  if (request_path == cookie_path) return true;
  if (!request_path.starts_with(cookie_path)) return false;
  return cookie_path.ends_with('/') || request_path[cookie_path.size()] == '/';
}

std::string default_cookie_path(std::string_view uri_path) {
  if (uri_path.empty() || uri_path.front() != '/') return "/";
  const std::size_t last = uri_path.rfind('/');
  if (last == 0) return "/";
  return std::string(uri_path.substr(0, last));
}

StoreOutcome CookieJar::store(std::string_view set_cookie, const Url& url,
                              CookieClock::time_point now) {
  StoreOutcome out;
  if (set_cookie.size() > limits_.max_cookie_bytes) {
    out.reason = std::to_string(set_cookie.size()) + " bytes, more than the limit of " +
                 std::to_string(limits_.max_cookie_bytes);
    return out;
  }
  auto parsed = parse(set_cookie, url, now, out.reason);
  if (!parsed) return out;
  Cookie& c = parsed->cookie;
  out.name = c.name;

  // §5.3 steps 5-6: the Domain attribute, checked against the request host.
  const std::string host = lower(url.host);
  if (parsed->domain_attribute) {
    const std::string& domain = *parsed->domain_attribute;
    if (domain.find('.') == std::string::npos) {
      // No public suffix list: a dotless Domain ("com") would reach every
      // site under it. Naming the request host itself ("localhost") is the
      // §5.3 step 5 exception: the cookie becomes host-only.
      if (domain != host) {
        out.reason = "Domain '" + domain + "' is a top-level domain";
        return out;
      }
      c.domain = host;
      c.host_only = true;
    } else if (!domain_match(host, domain)) {
      out.reason = "Domain '" + domain + "' does not match the host '" + host + "'";
      return out;
    } else {
      c.domain = domain;
      c.host_only = false;
    }
  } else {
    c.domain = host;
    c.host_only = true;
  }
  c.creation = c.last_access = now;

  std::lock_guard lock(mutex_);
  auto same = std::find_if(cookies_.begin(), cookies_.end(), [&](const Cookie& old) {
    return old.name == c.name && old.domain == c.domain && old.path == c.path;
  });
  const bool expired = c.expires && *c.expires <= now;
  if (expired) {
    // §5.3: a cookie already expired deletes the one it would replace.
    if (same != cookies_.end()) cookies_.erase(same);
    out.kind = StoreOutcome::deleted;
    return out;
  }
  if (same != cookies_.end()) {
    c.creation = same->creation;  // §5.3 step 11.3
    c.sequence = same->sequence;
    *same = std::move(c);
    out.kind = StoreOutcome::replaced;
  } else {
    c.sequence = next_sequence_++;
    const std::string domain = c.domain;
    cookies_.push_back(std::move(c));
    out.kind = StoreOutcome::stored;
    evict(domain, now);
  }
  return out;
}

// §5.3 step 12: expired cookies go first, then the least recently used of an
// over-full domain, then the least recently used of all.
void CookieJar::evict(const std::string& domain, CookieClock::time_point now) {
  std::erase_if(cookies_, [&](const Cookie& c) { return c.expires && *c.expires <= now; });
  const auto older = [](const Cookie& a, const Cookie& b) {
    return a.last_access != b.last_access ? a.last_access < b.last_access : a.sequence < b.sequence;
  };
  const auto in_domain = [&](const Cookie& c) { return c.domain == domain; };
  while (static_cast<std::size_t>(std::count_if(cookies_.begin(), cookies_.end(), in_domain)) >
         limits_.max_per_domain) {
    auto oldest = cookies_.end();
    for (auto it = cookies_.begin(); it != cookies_.end(); ++it) {
      if (in_domain(*it) && (oldest == cookies_.end() || older(*it, *oldest))) oldest = it;
    }
    cookies_.erase(oldest);
  }
  while (cookies_.size() > limits_.max_total) {
    cookies_.erase(std::min_element(cookies_.begin(), cookies_.end(), older));
  }
}

CookieHeader CookieJar::header_for(const Url& url, CookieClock::time_point now) {
  const std::string host = lower(url.host);
  const std::string path = request_path(url);
  const bool secure_channel = url.scheme == "https" || url.scheme == "wss";
  std::lock_guard lock(mutex_);
  std::erase_if(cookies_, [&](const Cookie& c) { return c.expires && *c.expires <= now; });
  std::vector<Cookie*> chosen;
  for (Cookie& c : cookies_) {
    if (c.host_only ? host != c.domain : !domain_match(host, c.domain)) continue;
    if (!path_match(path, c.path)) continue;
    if (c.secure && !secure_channel) continue;
    chosen.push_back(&c);
  }
  // §5.4 step 2: longer paths first, then earlier creation times.
  std::stable_sort(chosen.begin(), chosen.end(), [](const Cookie* a, const Cookie* b) {
    if (a->path.size() != b->path.size()) return a->path.size() > b->path.size();
    if (a->creation != b->creation) return a->creation < b->creation;
    return a->sequence < b->sequence;
  });
  CookieHeader out;
  for (Cookie* c : chosen) {
    if (!out.value.empty()) out.value += "; ";
    out.value += c->name + "=" + c->value;
    c->last_access = now;
  }
  out.count = chosen.size();
  return out;
}

std::vector<Cookie> CookieJar::cookies(CookieClock::time_point now) const {
  std::lock_guard lock(mutex_);
  std::vector<Cookie> out;
  for (const Cookie& c : cookies_) {
    if (!c.expires || *c.expires > now) out.push_back(c);
  }
  std::sort(out.begin(), out.end(),
            [](const Cookie& a, const Cookie& b) { return a.sequence < b.sequence; });
  return out;
}

std::size_t CookieJar::size() const {
  std::lock_guard lock(mutex_);
  return cookies_.size();
}

}  // namespace uvinet::http::detail

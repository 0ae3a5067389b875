#include "redirect.hpp"

#include <vector>

namespace uvinet::http::detail {
namespace {

// RFC 3986 §5.2.4.
std::string remove_dot_segments(std::string_view in) {
  std::vector<std::string_view> out;
  const bool absolute = !in.empty() && in.front() == '/';
  std::size_t pos = absolute ? 1 : 0;
  bool trailing_slash = false;
  while (pos <= in.size()) {
    std::size_t end = in.find('/', pos);
    if (end == std::string_view::npos) end = in.size();
    const std::string_view segment = in.substr(pos, end - pos);
    const bool last = end == in.size();
    if (segment == "..") {
      if (!out.empty()) out.pop_back();
      trailing_slash = true;
    } else if (segment == ".") {
      trailing_slash = true;
    } else {
      out.push_back(segment);
      trailing_slash = false;
    }
    if (last) break;
    pos = end + 1;
  }
  std::string result = absolute ? "/" : "";
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (i > 0) result += '/';
    result += out[i];
  }
  if (trailing_slash && !result.empty() && result.back() != '/') result += '/';
  return result;
}

// RFC 3986 §5.2.3.
std::string merge_paths(const Url& base, std::string_view reference_path) {
  if (!base.host.empty() && base.path.empty()) return "/" + std::string(reference_path);
  const std::size_t slash = base.path.rfind('/');
  if (slash == std::string::npos) return std::string(reference_path);
  return base.path.substr(0, slash + 1) + std::string(reference_path);
}

bool same_origin(const Url& a, const Url& b) {
  return a.scheme == b.scheme && a.host == b.host && a.port == b.port;
}

}  // namespace

Result<Url> resolve_reference(const Url& base, std::string_view ref) {
  const auto invalid = [&](const char* why) {
    return Error(errc::invalid_url, std::string(why) + " in reference '" + std::string(ref) + "'");
  };
  for (char c : ref) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      return invalid("a space or control character");
    }
  }
  // A scheme: letters, digits, + - . before the first ':', ahead of any / ? #.
  const std::size_t colon = ref.find(':');
  const std::size_t first_delim = ref.find_first_of("/?#");
  if (colon != std::string_view::npos && colon > 0 && colon < first_delim &&
      std::isalpha(static_cast<unsigned char>(ref[0]))) {
    return crack_url(ref);
  }
  std::string_view fragment_less = ref.substr(0, ref.find('#'));
  const std::size_t fragment_at = ref.find('#');
  std::string fragment = fragment_at == std::string_view::npos
                             ? std::string()
                             : std::string(ref.substr(fragment_at + 1));
  if (fragment_less.starts_with("//")) {
    auto cracked = crack_url(base.scheme + ":" + std::string(ref));
    return cracked;
  }
  Url target = base;
  target.fragment = std::move(fragment);
  const std::size_t q = fragment_less.find('?');
  const std::string_view path = fragment_less.substr(0, q);
  const std::string query =
      q == std::string_view::npos ? std::string() : std::string(fragment_less.substr(q + 1));
  if (path.empty()) {
    if (q != std::string_view::npos) target.query = query;
    return target;
  }
  target.path =
      remove_dot_segments(path.front() == '/' ? std::string(path) : merge_paths(base, path));
  target.query = query;
  // Through create_url and back: the same checks as any URL.
  auto text = create_url(target);
  if (!text) return text.error();
  return crack_url(*text);
}

bool is_redirect_status(int status) noexcept {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

Result<RedirectPlan> plan_redirect(int status, std::optional<std::string_view> location,
                                   const Url& current, std::string_view method,
                                   RedirectPolicy policy) {
  const std::string what = std::to_string(status) + " redirect from " + current.host_port();
  if (!location || location->empty()) {
    return Error(errc::invalid_response, what + " has no Location field");
  }
  auto url = resolve_reference(current, *location);
  if (!url) {
    return Error(errc::invalid_response, what + ": bad Location: " + url.error().message());
  }
  if (url->scheme != "http" && url->scheme != "https") {
    return Error(errc::redirect_refused, what + " to scheme '" + url->scheme + "'");
  }
  switch (policy) {
    case RedirectPolicy::never: return Error(errc::redirect_refused, what + ": policy never");
    case RedirectPolicy::same_scheme:
      if (url->scheme != current.scheme) {
        return Error(errc::redirect_refused, what + " to " + url->scheme + ": policy same_scheme");
      }
      break;
    case RedirectPolicy::no_https_to_http:
      if (current.scheme == "https" && url->scheme == "http") {
        return Error(errc::redirect_refused, what + " to http: https to http is not followed");
      }
      break;
    case RedirectPolicy::always: break;
  }
  RedirectPlan plan;
  plan.cross_origin = !same_origin(current, *url);
  plan.url = std::move(*url);
  plan.url.fragment.clear();
  plan.method = std::string(method);
  plan.keep_body = true;
  // RFC 9110 §15.4.2-4: user agents change POST to GET on 301 and 302, and
  // every method but HEAD to GET on 303. 307 and 308 keep method and body.
  if ((status == 301 || status == 302) && method == "POST") {
    plan.method = "GET";
    plan.keep_body = false;
  } else if (status == 303 && method != "HEAD") {
    plan.method = "GET";
    plan.keep_body = false;
  }
  return plan;
}

std::string origin_form(const Url& url) {
  std::string target = url.path.empty() ? "/" : url.path;
  if (!url.query.empty()) target += "?" + url.query;
  return target;
}

std::string host_field(const Url& url) {
  std::string host = url.is_ipv6_literal() ? "[" + url.host + "]" : url.host;
  if (url.port != 0 && url.port != default_port(url.scheme)) host += ":" + std::to_string(url.port);
  return host;
}

}  // namespace uvinet::http::detail

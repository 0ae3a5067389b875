// The public HTTP calls (uvinet/http.hpp): argument checks, the shared
// request state, and typed wrappers over Request::call().
#include <algorithm>
#include <charconv>
#include <optional>

#include "http_chars.hpp"
#include "http_module.hpp"
#include "redirect.hpp"
#include "request_state.hpp"
#include "request_writer.hpp"
#include "response_parser.hpp"

namespace uvinet::http {

using detail::iequals;
using detail::RequestState;
using detail::Verb;

namespace {

Result<std::shared_ptr<RequestState>> state_of(const Request& request) {
  auto state = request_state(request, detail::http_module_type());
  if (!state) return state.error();
  // From the rvalue: no second reference to count up and down.
  return std::static_pointer_cast<RequestState>(std::move(*state));
}

Result<void> check_field(std::string_view name, std::string_view value) {
  if (!detail::is_token(name)) {
    return Error(errc::invalid_argument, "header name '" + std::string(name) + "' is not a token");
  }
  if (!detail::is_field_value(value)) {
    return Error(errc::invalid_argument,
                 "header " + std::string(name) + ": the value holds a control character");
  }
  for (std::string_view own : {"Host", "Content-Length", "Transfer-Encoding"}) {
    if (iequals(name, own)) {
      return Error(errc::invalid_argument,
                   "header " + std::string(name) + " is written by the runtime, not the caller");
    }
  }
  return {};
}

/// Runs `edit` on the fields while the request is unsent.
template <class Edit>
Result<void> edit_fields(const Request& request, const char* call, Edit edit) {
  auto state = state_of(request);
  if (!state) return state.error();
  std::lock_guard lock((*state)->mutex);
  if ((*state)->sent) {
    return Error(errc::invalid_state, std::string(call) + ": the request was sent already");
  }
  return edit((*state)->fields);
}

/// Request::call with a typed result. The application's callback goes to
/// the runtime as it is (Request::call's typed overloads convert the same
/// way `convert` does for a result at once): no wrapper, no allocation.
template <class T, class Convert>
Result<T> call_verb(const Request& request, Verb verb, std::string data, std::size_t max_bytes,
                    const AsyncContext<T>* async, Convert convert) {
  auto r = async ? request.call(verb, std::move(data), max_bytes, *async)
                 : request.call(verb, std::move(data), max_bytes);
  if (!r) return r.error();
  return convert(std::move(*r));
}

Result<std::size_t> to_count(OperationValue v) {
  return v.count;
}

Result<void> to_void(OperationValue) {
  return {};
}

std::string trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return std::string(s);
}

}  // namespace

Result<Request> open_request(const Connection& connection, const RequestOptions& options) {
  if (!detail::is_token(options.method)) {
    return Error(errc::invalid_argument, "method '" + options.method + "' is not a token");
  }
  const std::string target = options.target.empty() ? "/" : options.target;
  if (target.front() != '/' && target != "*") {
    return Error(errc::invalid_argument, "target '" + target + "' must start with '/'");
  }
  // Filled in before the handle exists: nobody else can reach the state
  // yet, so no lock is taken.
  auto fill = [&](void* shared) -> Result<void> {
    auto& state = *static_cast<RequestState*>(shared);
    state.method = options.method;
    state.target = target;
    state.flags = options.flags;
    if (!options.referrer.empty()) state.fields.emplace_back("Referer", options.referrer);
    if (!options.accept_types.empty()) {
      std::string accept;
      for (const auto& type : options.accept_types) accept += (accept.empty() ? "" : ", ") + type;
      state.fields.emplace_back("Accept", accept);
    }
    for (const auto& [name, value] : state.fields) {
      if (auto ok = check_field(name, value); !ok) return ok;
    }
    return {};
  };
  return uvinet::open_request(connection, target, options.context, detail::http_module_type(),
                              fill);
}

Result<void> add_header(const Request& request, std::string_view name, std::string_view value) {
  if (auto ok = check_field(name, value); !ok) return ok;
  return edit_fields(request, "add_header", [&](detail::Fields& fields) -> Result<void> {
    fields.emplace_back(name, value);
    return {};
  });
}

Result<void> replace_header(const Request& request, std::string_view name, std::string_view value) {
  if (auto ok = check_field(name, value); !ok) return ok;
  return edit_fields(request, "replace_header", [&](detail::Fields& fields) -> Result<void> {
    auto first = std::find_if(fields.begin(), fields.end(),
                              [&](const auto& f) { return iequals(f.first, name); });
    if (first == fields.end()) {
      fields.emplace_back(name, value);
      return {};
    }
    first->second = std::string(value);
    std::erase_if(fields, [&](const auto& f) { return &f != &*first && iequals(f.first, name); });
    return {};
  });
}

Result<void> remove_header(const Request& request, std::string_view name) {
  return edit_fields(request, "remove_header", [&](detail::Fields& fields) -> Result<void> {
    if (std::erase_if(fields, [&](const auto& f) { return iequals(f.first, name); }) == 0) {
      return Error(errc::header_not_found, "remove_header: no field " + std::string(name));
    }
    return {};
  });
}

Result<void> add_headers(const Request& request, std::string_view lines) {
  detail::Fields parsed;
  while (!lines.empty()) {
    const std::size_t end = lines.find('\n');
    std::string_view line = lines.substr(0, end);
    lines = end == std::string_view::npos ? std::string_view() : lines.substr(end + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      return Error(errc::invalid_argument, "add_headers: no ':' in '" + std::string(line) + "'");
    }
    std::string name(line.substr(0, colon));
    std::string value = trim(line.substr(colon + 1));
    if (auto ok = check_field(name, value); !ok) return ok;
    parsed.emplace_back(std::move(name), std::move(value));
  }
  return edit_fields(request, "add_headers", [&](detail::Fields& fields) -> Result<void> {
    fields.insert(fields.end(), parsed.begin(), parsed.end());
    return {};
  });
}

Result<void> set_range(const Request& request, std::uint64_t first,
                       std::optional<std::uint64_t> last) {
  if (last && *last < first) {
    return Error(errc::invalid_argument, "set_range: last byte " + std::to_string(*last) +
                                             " is before the first " + std::to_string(first));
  }
  return replace_header(
      request, "Range",
      "bytes=" + std::to_string(first) + "-" + (last ? std::to_string(*last) : std::string()));
}

Result<void> send_request(const Request& request, std::string body,
                          std::optional<std::uint64_t> total_length,
                          const AsyncContext<void>* async) {
  auto state = state_of(request);
  if (!state) return state.error();
  {
    std::lock_guard lock((*state)->mutex);
    if ((*state)->sent) {
      return Error(errc::invalid_state, "send_request: the request was sent already");
    }
    (*state)->sent = true;
    (*state)->total_length = total_length;
  }
  return call_verb<void>(request, detail::verb_send_request, std::move(body), 0, async, to_void);
}

Result<std::size_t> write_data(const Request& request, std::string data,
                               const AsyncContext<std::size_t>* async) {
  return call_verb<std::size_t>(request, detail::verb_write_data, std::move(data), 0, async,
                                to_count);
}

Result<void> end_request(const Request& request, const AsyncContext<void>* async) {
  return call_verb<void>(request, detail::verb_end_request, {}, 0, async, to_void);
}

Result<void> receive_response(const Request& request, const AsyncContext<void>* async) {
  return call_verb<void>(request, detail::verb_receive_response, {}, 0, async, to_void);
}

Result<std::size_t> query_data_available(const Request& request,
                                         const AsyncContext<std::size_t>* async) {
  return call_verb<std::size_t>(request, detail::verb_query_data_available, {}, 0, async, to_count);
}

Result<std::string> read_data(const Request& request, std::size_t max_bytes,
                              const AsyncContext<std::string>* async) {
  if (max_bytes == 0) return Error(errc::invalid_argument, "read_data of 0 bytes");
  return call_verb<std::string>(
      request, detail::verb_read_data, {}, max_bytes, async,
      [](OperationValue v) -> Result<std::string> { return std::move(v.data); });
}

Result<std::size_t> read_data_into(const Request& request, std::span<char> buffer,
                                   const AsyncContext<std::size_t>* async) {
  if (buffer.empty()) {
    return Error(errc::invalid_argument, "read_data_into: the buffer is empty (0 bytes)");
  }
  auto r = async ? request.call_into(detail::verb_read_data, buffer, *async)
                 : request.call_into(detail::verb_read_data, buffer);
  if (!r) return r.error();
  return to_count(std::move(*r));
}

Result<Request> open_url(const Session& session, std::string_view url,
                         const OpenUrlOptions& options, const AsyncContext<Request>* async) {
  auto cracked = crack_url(url);
  if (!cracked) return cracked.error();
  auto connection = session.connect(url);
  if (!connection) return connection.error();
  RequestOptions request_options;
  request_options.method = options.method;
  request_options.target = detail::origin_form(*cracked);
  request_options.flags = options.flags;
  request_options.context = options.context;
  auto request = open_request(*connection, request_options);
  // The request keeps what it needs of its connection (C13): the handle
  // itself is not the application's to close.
  (void)connection->close();
  if (!request) return request.error();
  const Request r = *request;
  auto fail = [r](Error e) -> Result<Request> {
    (void)r.close();
    return e;
  };
  for (const auto& [name, value] : options.headers) {
    if (auto ok = add_header(r, name, value); !ok) return fail(ok.error());
  }
  auto state = state_of(r);
  if (!state) return fail(state.error());
  {
    std::lock_guard lock((*state)->mutex);
    (*state)->sent = true;
  }
  std::optional<AsyncContext<OperationValue>> inner;
  if (async) {
    inner = AsyncContext<OperationValue>{[callback = async->callback, r](Result<OperationValue> v) {
                                           if (!v) {
                                             (void)r.close();
                                             callback(v.error());
                                           } else {
                                             callback(r);
                                           }
                                         },
                                         async->model};
  }
  auto sent = r.call(detail::verb_open_url, options.body, 0, inner ? &*inner : nullptr);
  if (sent.pending()) return sent.error();
  if (!sent) return fail(sent.error());
  return r;
}

std::optional<std::string> Response::header(std::string_view name, std::size_t index) const {
  for (const auto& [n, v] : fields) {
    if (iequals(n, name) && index-- == 0) return v;
  }
  return std::nullopt;
}

std::vector<std::string> Response::headers(std::string_view name) const {
  std::vector<std::string> out;
  for (const auto& [n, v] : fields) {
    if (iequals(n, name)) out.push_back(v);
  }
  return out;
}

std::optional<std::uint64_t> Response::content_length() const {
  const auto value = header("Content-Length");
  if (!value) return std::nullopt;
  std::uint64_t n = 0;
  const auto [end, ec] = std::from_chars(value->data(), value->data() + value->size(), n);
  if (ec != std::errc() || end != value->data() + value->size()) return std::nullopt;
  return n;
}

std::string Response::content_type() const {
  return header("Content-Type").value_or("");
}

namespace {

/// `read(response)` under the request's lock: a query takes what it needs
/// without copying the whole head.
template <class Read>
auto with_response(const Request& request, Read read)
    -> Result<decltype(read(detail::HeadText{}))> {
  auto state = state_of(request);
  if (!state) return state.error();
  std::lock_guard lock((*state)->mutex);
  if ((*state)->closed) {
    return Error(errc::invalid_handle, "request " + std::to_string(request.id()) + " is closed");
  }
  if (!(*state)->response) {
    return Error(errc::invalid_state, "query: no response yet (call receive_response() first)");
  }
  return read(*(*state)->response);
}

}  // namespace

Result<Response> query_response(const Request& request) {
  return with_response(request, [](const detail::HeadText& h) { return h.response(); });
}

Result<int> query_status_code(const Request& request) {
  return with_response(request, [](const detail::HeadText& h) { return h.status; });
}

Result<std::string> query_header(const Request& request, std::string_view name, std::size_t index) {
  // Copied under the lock: the head's text goes back to the session when
  // the handle closes.
  auto response = with_response(request, [&](const detail::HeadText& h) {
    auto value = h.header(name, index);
    return value ? std::optional<std::string>(*value) : std::nullopt;
  });
  if (!response) return response.error();
  auto& value = *response;
  if (!value) {
    return Error(errc::header_not_found, "query_header: no field " + std::string(name) +
                                             (index ? " #" + std::to_string(index) : ""));
  }
  return *value;
}

Result<ContentRange> parse_content_range(std::string_view value) {
  const auto bad = [&] {
    return Error(errc::invalid_argument, "Content-Range '" + std::string(value) + "'");
  };
  const auto number = [](std::string_view s, std::uint64_t& out) {
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return !s.empty() && ec == std::errc() && end == s.data() + s.size();
  };
  std::string_view v = value;
  // Range units compare case-insensitively (RFC 9110 §14.1).
  if (v.size() < 6 || !iequals(v.substr(0, 6), "bytes ")) return bad();
  v.remove_prefix(6);
  const std::size_t dash = v.find('-');
  const std::size_t slash = v.find('/');
  if (dash == std::string_view::npos || slash == std::string_view::npos || dash > slash) {
    return bad();
  }
  ContentRange range;
  if (!number(v.substr(0, dash), range.first) ||
      !number(v.substr(dash + 1, slash - dash - 1), range.last) || range.last < range.first) {
    return bad();
  }
  const std::string_view complete = v.substr(slash + 1);
  if (complete != "*") {
    std::uint64_t n = 0;
    if (!number(complete, n) || n <= range.last) return bad();
    range.complete_length = n;
  }
  return range;
}

}  // namespace uvinet::http

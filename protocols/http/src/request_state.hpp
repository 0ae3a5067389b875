// What the public HTTP calls (any thread) and the request's state machine
// (the loop thread) share about one request, under one mutex.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "response_parser.hpp"
#include "uvinet/http.hpp"

namespace uvinet::http::detail {

/// The module's operations, the verbs of Request::call().
enum Verb : int {
  verb_send_request = 1,  // data: the body (or its first part)
  verb_write_data,        // data: more of the body
  verb_end_request,
  verb_receive_response,
  verb_query_data_available,
  verb_read_data,  // max_bytes: the most to return; with call_into, into its buffer
  verb_open_url,   // send_request and receive_response in one
};

using Fields = std::vector<std::pair<std::string, std::string>>;

/// A response head as the state machine builds it and the queries read it:
/// the text once, as Response::raw has it, and where each part stands in it.
/// A string per name and per value cost the state machine an assignment
/// each on every response; a Response is made only for query_response().
struct HeadText {
  /// A field line in raw: the name at `at`, then ": ", the value, CRLF.
  struct Field {
    std::size_t at = 0;
    std::size_t name_size = 0;
    std::size_t value_size = 0;
  };

  int status = 0;
  std::size_t version_size = 0;  ///< raw starts with the version ("HTTP/1.1")
  std::size_t reason_at = 0;
  std::size_t reason_size = 0;
  std::string raw;
  std::vector<Field> fields;
  std::string url;
  unsigned redirects = 0;

  std::string_view name(const Field& f) const noexcept { return {raw.data() + f.at, f.name_size}; }
  std::string_view value(const Field& f) const noexcept {
    return {raw.data() + f.at + f.name_size + 2, f.value_size};
  }
  /// As Response::header(), without copying the value.
  std::optional<std::string_view> header(std::string_view wanted, std::size_t index = 0) const {
    for (const Field& f : fields) {
      if (f.name_size == wanted.size() && iequals(name(f), wanted) && index-- == 0) return value(f);
    }
    return std::nullopt;
  }
  /// The public form, equal to what was received.
  Response response() const {
    Response r;
    r.status = status;
    r.reason.assign(raw, reason_at, reason_size);
    r.version.assign(raw, 0, version_size);
    r.fields.reserve(fields.size());
    for (const Field& f : fields) r.fields.emplace_back(name(f), value(f));
    r.raw = raw;
    r.url = url;
    r.redirects = redirects;
    return r;
  }
  /// Empty, its storage kept for the next head.
  void clear() noexcept {
    status = 0;
    version_size = reason_at = reason_size = 0;
    raw.clear();
    fields.clear();
    url.clear();
    redirects = 0;
  }
};

struct RequestState {
  std::mutex mutex;

  // Set by open_request() and the header calls; read by the state machine
  // when the request is sent, and frozen from then on (`sent`).
  std::string method = "GET";
  std::string target = "/";
  std::uint32_t flags = 0;
  Fields fields;
  /// send_request()'s total_length, for the send in flight.
  std::optional<std::uint64_t> total_length;
  bool sent = false;

  /// The final response's head, set by the state machine.
  std::optional<HeadText> response;
  /// The handle closed: the state machine took `response`'s storage back
  /// for the session's next requests, and queries fail as on a closed handle.
  bool closed = false;
};

}  // namespace uvinet::http::detail

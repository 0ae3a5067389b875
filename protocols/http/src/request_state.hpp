// What the public HTTP calls (any thread) and the request's state machine
// (the loop thread) share about one request, under one mutex.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

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
  std::optional<Response> response;
  /// The handle closed: the state machine took `response`'s storage back
  /// for the session's next requests, and queries fail as on a closed handle.
  bool closed = false;
};

}  // namespace uvinet::http::detail

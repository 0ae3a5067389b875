// Helpers for the HTTP client tests: a session with a status recorder, and
// whole-request shortcuts over the public calls of uvinet/http.hpp.
#pragma once

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "support/recorder.hpp"
#include "uvinet/http.hpp"
#include "uvinet/uvinet.hpp"

namespace test_support {

struct HttpSession {
  explicit HttpSession(uvinet::CallbackModel model = uvinet::CallbackModel::short_callback) {
    uvinet::SessionConfig config;
    config.callback_model = model;
    config.status_callback = recorder.callback();
    session = uvinet::Session::open(config).value();
  }
  ~HttpSession() {
    (void)session.close();
    CHECK(recorder.wait_closed(session));
    CHECK_FALSE(recorder.overlap());
    CHECK_FALSE(recorder.something_after_closing());
  }
  void set(uvinet::Option option, std::int64_t value) {
    REQUIRE(session.set_option(option, value));
  }

  StatusRecorder recorder;
  uvinet::Session session;
};

/// Reads the body to its end, synchronously, in pieces of `piece` bytes.
inline uvinet::Result<std::string> read_all(const uvinet::Request& request,
                                            std::size_t piece = 64 * 1024) {
  std::string body;
  for (;;) {
    auto data = uvinet::http::read_data(request, piece);
    if (!data) return data.error();
    if (data->empty()) return body;
    body += *data;
  }
}

/// Reads the body to its end, synchronously, through a buffer of `size` bytes.
inline uvinet::Result<std::string> read_all_into(const uvinet::Request& request, std::size_t size) {
  std::vector<char> buffer(size);
  std::string body;
  for (;;) {
    auto n = uvinet::http::read_data_into(request, buffer);
    if (!n) return n.error();
    if (*n == 0) return body;
    if (*n > size) return uvinet::Error(uvinet::errc::io_error, "read more than the buffer holds");
    body.append(buffer.data(), *n);
  }
}

/// open_url, then the body through a buffer of `size` bytes.
inline uvinet::Result<std::string> fetch_into(HttpSession& s, const std::string& url,
                                              std::size_t size) {
  auto request = uvinet::http::open_url(s.session, url);
  if (!request) return request.error();
  auto body = read_all_into(*request, size);
  (void)request->close();
  CHECK(s.recorder.wait_closed(*request));
  return body;
}

/// A whole response: status and body, or the error that stopped it.
struct Fetched {
  int status = 0;
  std::string body;
  uvinet::http::Response response;
};

/// open_url, read the body, close the request (waiting for handle_closing).
inline uvinet::Result<Fetched> fetch(HttpSession& s, const std::string& url,
                                     const uvinet::http::OpenUrlOptions& options = {}) {
  auto request = uvinet::http::open_url(s.session, url, options);
  if (!request) return request.error();
  Fetched out;
  auto response = uvinet::http::query_response(*request);
  auto body = read_all(*request);
  (void)request->close();
  CHECK(s.recorder.wait_closed(*request));
  if (!response) return response.error();
  if (!body) return body.error();
  out.response = *response;
  out.status = response->status;
  out.body = std::move(*body);
  return out;
}

}  // namespace test_support

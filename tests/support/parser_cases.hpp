// The parser's case table harness for the parser tests (test_http_parser*.cpp):
// a sink that writes events as text, a runner that feeds a case whole, byte
// by byte and cut in two everywhere, and the limits and heads cases share.
#pragma once

#include <doctest/doctest.h>

#include <string>
#include <string_view>
#include <vector>

#include "http_chars.hpp"
#include "response_parser.hpp"

namespace parser_cases {

using namespace uvinet::http::detail;
using uvinet::errc;

inline std::string quoted(std::string_view s) {
  return "'" + escaped(s) + "'";
}

inline std::string describe(const uvinet::Error& e) {
  return std::string(uvinet::error_name(static_cast<errc>(e.code().value()))) + ": " + e.where();
}

inline std::string describe(const ResponseHead& h) {
  static constexpr const char* kinds[] = {"none", "length", "chunked", "until_close", "tunnel"};
  std::string out = std::to_string(h.status) + " " + kinds[static_cast<int>(h.body)];
  if (h.body == BodyKind::length) out += " " + std::to_string(h.content_length);
  return out + (h.keep_alive ? " keep-alive" : " close");
}

// Writes each event as a line of text.
class Recorder final : public ResponseSink {
 public:
  void on_status(int major, int minor, int status, std::string_view reason) override {
    add("status " + std::to_string(major) + "." + std::to_string(minor) + " " +
        std::to_string(status) + " " + quoted(reason));
  }
  void on_header(std::string_view name, std::string_view value) override {
    add("header " + quoted(name) + " " + quoted(value));
  }
  void on_interim(const ResponseHead& head) override { add("interim " + describe(head)); }
  void on_headers_complete(const ResponseHead& head) override { add("head " + describe(head)); }
  void on_body(std::string_view data) override {
    if (data.empty()) {
      add("EMPTY BODY EVENT");
    } else if (in_body_) {
      lines_.back() += escaped(data);
    } else {
      add("body " + escaped(data));
      in_body_ = true;
    }
  }
  void on_trailer(std::string_view name, std::string_view value) override {
    add("trailer " + quoted(name) + " " + quoted(value));
  }
  void on_message_complete() override { add("complete"); }

  void add(std::string line) {
    lines_.push_back(std::move(line));
    in_body_ = false;
  }
  std::string text() const {
    std::string out;
    for (const auto& line : lines_) out += (out.empty() ? "" : "\n") + line;
    return out;
  }

 private:
  std::vector<std::string> lines_;
  bool in_body_ = false;
};

struct Options {
  RequestKind kind = RequestKind::normal;
  ParserLimits limits = {};
};

// Feeds `input` cut at `cuts` (ascending), as a connection would: each piece
// in a buffer of its own (so ASan sees any read past it), reset() after each
// complete response, "rest" for what follows an upgrade, finish() at the end
// unless a response just ended there.
inline std::string run(std::string_view input, const std::vector<std::size_t>& cuts,
                       const Options& options) {
  Recorder recorder;
  ResponseParser parser(recorder, options.limits);
  parser.set_request_kind(options.kind);
  bool fed_since_reset = false;
  std::size_t start = 0;
  std::vector<std::size_t> ends = cuts;
  ends.push_back(input.size());
  for (std::size_t end : ends) {
    std::string piece(input.substr(start, end - start));
    start = end;
    std::string_view left = piece;
    while (!left.empty()) {
      std::string buffer(left);
      auto used = parser.feed(buffer);
      if (!used) {
        recorder.add("error " + describe(used.error()));
        return recorder.text();
      }
      fed_since_reset = fed_since_reset || *used > 0;
      left.remove_prefix(*used);
      if (parser.upgraded()) {
        recorder.add("rest " + escaped(std::string(left) + std::string(input.substr(start))));
        return recorder.text();
      }
      if (!parser.done()) {
        REQUIRE(*used == buffer.size());
        continue;
      }
      parser.reset();
      parser.set_request_kind(options.kind);
      fed_since_reset = false;
    }
  }
  if (fed_since_reset || input.empty()) {
    if (auto finished = parser.finish(); !finished) {
      recorder.add("error " + describe(finished.error()));
    }
  }
  return recorder.text();
}

struct Case {
  const char* name;
  std::string input;
  std::string events;
  Options options = {};
};

// The case whole, byte by byte, and cut in two everywhere: the same events.
inline void check_case(const Case& c) {
  INFO("case: ", c.name);
  std::string whole = run(c.input, {}, c.options);
  CHECK_MESSAGE(whole == c.events, "fed whole, got:\n", whole);
  std::vector<std::size_t> every;
  for (std::size_t i = 1; i < c.input.size(); ++i) every.push_back(i);
  std::string bytewise = run(c.input, every, c.options);
  CHECK_MESSAGE(bytewise == c.events, "fed byte by byte, got:\n", bytewise);
  for (std::size_t cut = 1; cut < c.input.size(); ++cut) {
    std::string split = run(c.input, {cut}, c.options);
    if (split != c.events) {
      FAIL_CHECK("cut at ", cut, ", got:\n", split);
      break;
    }
  }
}

inline void check_cases(const std::vector<Case>& cases) {
  for (const Case& c : cases) check_case(c);
}

inline const std::string ok_head = "HTTP/1.1 200 OK\r\n";
inline const std::string chunked_head = ok_head + "Transfer-Encoding: chunked\r\n\r\n";
inline const std::string chunked_events =
    "status 1.1 200 'OK'\nheader 'Transfer-Encoding' 'chunked'\nhead 200 chunked keep-alive\n";

inline Options head_request() {
  return {RequestKind::head, {}};
}
inline Options connect_request() {
  return {RequestKind::connect, {}};
}
inline Options with_limits(std::size_t line, std::size_t head, std::size_t count,
                           std::uint64_t chunk = 1 << 30) {
  return {RequestKind::normal, ParserLimits{head, count, line, chunk}};
}

}  // namespace parser_cases

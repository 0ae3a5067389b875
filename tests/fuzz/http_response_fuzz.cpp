// libFuzzer target for the HTTP/1.1 response parser.
//
// Input: byte 0 picks the request kind and the limits, byte 1 seeds the
// cutting of the rest into pieces; the rest is what the server sent. The
// parser runs twice, on the whole input and on the pieces, resetting after
// each complete response as a connection would, then finish(). Both runs must
// give the same events (body events merged) and the same outcome; any
// difference, crash, sanitizer report, hang or growth is a finding.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "response_parser.hpp"

namespace {

using uvinet::http::detail::ParserLimits;
using uvinet::http::detail::RequestKind;
using uvinet::http::detail::ResponseHead;
using uvinet::http::detail::ResponseParser;
using uvinet::http::detail::ResponseSink;

class Log final : public ResponseSink {
 public:
  void on_status(int major, int minor, int status, std::string_view reason) override {
    add("status " + std::to_string(major) + "." + std::to_string(minor) + " " +
            std::to_string(status),
        reason);
  }
  void on_header(std::string_view name, std::string_view value) override {
    check_one_view(name, value);
    add("header", name, value);
  }
  void on_interim(const ResponseHead& head) override { add("interim " + describe(head)); }
  void on_headers_complete(const ResponseHead& head) override { add("head " + describe(head)); }
  void on_body(std::string_view data) override {
    if (data.empty()) __builtin_trap();  // an empty body event is a parser bug
    if (!in_body_) add("body");
    text_.append(data);
    in_body_ = true;
  }
  void on_trailer(std::string_view name, std::string_view value) override {
    check_one_view(name, value);
    add("trailer", name, value);
  }
  void on_message_complete() override { add("complete"); }

  void add(std::string_view tag, std::string_view a = {}, std::string_view b = {}) {
    text_.append("\n").append(tag).append(" [").append(a).append("] [").append(b).append("] ");
    in_body_ = false;
  }
  const std::string& text() const { return text_; }

 private:
  // ResponseSink's promise, which the exchange copies lines on: the name,
  // the colon, whitespace and the value lie in one view of the line (ASan
  // reports the reads in between if they do not).
  static void check_one_view(std::string_view name, std::string_view value) {
    const char* colon = name.data() + name.size();
    if (value.data() <= colon || *colon != ':') __builtin_trap();
    for (const char* p = colon + 1; p < value.data(); ++p) {
      if (*p != ' ' && *p != '\t') __builtin_trap();
    }
  }

  static std::string describe(const ResponseHead& h) {
    return std::to_string(h.status) + " " + std::to_string(static_cast<int>(h.body)) + " " +
           std::to_string(h.content_length) + (h.keep_alive ? " keep-alive" : " close");
  }

  std::string text_;
  bool in_body_ = false;
};

struct Config {
  RequestKind kind = RequestKind::normal;
  ParserLimits limits;
  std::uint32_t seed = 0;
};

// Small limits half the time, so that short inputs reach every limit.
Config config_from(std::uint8_t mode, std::uint8_t seed) {
  Config config;
  config.kind = static_cast<RequestKind>(mode % 3);
  if (mode & 0x80) {
    config.limits.max_line_length = 1 + (mode & 0x0f) * 4;
    config.limits.max_header_bytes = 1 + ((mode >> 2) & 0x0f) * 16;
    config.limits.max_header_count = (mode >> 4) & 0x07;
    config.limits.max_chunk_size = std::uint64_t{1} << ((mode >> 2) & 0x1f);
  }
  config.seed = seed;
  return config;
}

// Piece sizes from a small PRNG: mostly short, sometimes large.
std::size_t next_piece(std::uint32_t& state, std::size_t left) {
  state = state * 1103515245u + 12345u;
  std::size_t n = (state >> 16) & 0x0f;
  if ((state >> 28) == 0) n = 4096;
  return std::min(left, n + 1);
}

std::string run(std::string_view input, const Config& config, bool split) {
  Log log;
  ResponseParser parser(log, config.limits);
  parser.set_request_kind(config.kind);
  std::uint32_t state = config.seed;
  bool fed_since_reset = false;
  std::size_t pos = 0;
  while (pos < input.size()) {
    std::size_t n = split ? next_piece(state, input.size() - pos) : input.size() - pos;
    // A buffer of exactly the piece, so that ASan sees any read past it.
    std::vector<char> piece(input.begin() + static_cast<std::ptrdiff_t>(pos),
                            input.begin() + static_cast<std::ptrdiff_t>(pos + n));
    auto used = parser.feed(std::string_view(piece.data(), piece.size()));
    if (!used) {
      log.add("error", used.error().message());
      return log.text();
    }
    if (*used > n) __builtin_trap();
    if (parser.buffered() > config.limits.max_line_length) __builtin_trap();  // unbounded
    pos += *used;
    if (parser.upgraded()) {
      log.add("rest", input.substr(pos));
      return log.text();
    }
    if (parser.done()) {
      if (*used == 0) __builtin_trap();  // no progress: would loop for ever
      parser.reset();
      parser.set_request_kind(config.kind);
      fed_since_reset = false;
    } else if (*used != n) {
      __builtin_trap();  // stopped early without finishing a response
    } else {
      fed_since_reset = true;
    }
  }
  if (fed_since_reset) {
    auto finished = parser.finish();
    log.add(finished ? "finished" : "error", finished ? "" : finished.error().message());
  }
  return log.text();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  Config config = config_from(data[0], data[1]);
  std::string_view input(reinterpret_cast<const char*>(data) + 2, size - 2);
  std::string whole = run(input, config, false);
  std::string pieces = run(input, config, true);
  if (whole != pieces) {
    std::fprintf(stderr, "whole:%s\n\npieces:%s\n", whole.c_str(), pieces.c_str());
    __builtin_trap();
  }
  return 0;
}

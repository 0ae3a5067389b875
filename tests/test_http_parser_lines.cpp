// The response parser's whole-line path: a head's lines found whole in the
// input are read in place, in one loop (ResponseParser::on_whole_header_lines),
// and must meet every limit and give every event as the lines taken one by
// one do. Each case is fed whole, byte by byte and cut in two everywhere
// (support/parser_cases.hpp), which takes both paths.
#include <doctest/doctest.h>

#include <string>
#include <string_view>
#include <vector>

#include "response_parser.hpp"
#include "support/parser_cases.hpp"

using namespace parser_cases;

namespace {

// Each field's text from its name's first byte to its value's last.
struct SpanSink final : ResponseSink {
  std::vector<std::string> spans;
  void on_header(std::string_view name, std::string_view value) override { add(name, value); }
  void on_trailer(std::string_view name, std::string_view value) override { add(name, value); }
  void add(std::string_view name, std::string_view value) {
    spans.emplace_back(name.data(), value.data() + value.size());
  }
};

}  // namespace

TEST_CASE("http parser: field lines whole in the input meet the same limits as cut ones") {
  // Fed whole, the lines of a head are read in place; cut, they are taken
  // line by line through the partial-line buffer. Both must stop at the
  // same byte: lines ending exactly at max_line_length and one past it, by
  // CRLF and by a bare LF, and a CR left at the limit's last byte.
  const std::string status = "status 1.1 200 'ABCDE'\n";
  const std::string line_over =
      status +
      "header 'A' '1'\nerror line_too_long: header line exceeds max_line_length (20 bytes)";
  const auto head_over = [](int limit) {
    return "error headers_too_large: response head exceeds max_header_bytes (" +
           std::to_string(limit) + " bytes)";
  };
  check_cases({
      {"field lines at the line limit, CRLF and LF",
       "HTTP/1.1 200 ABCDE\r\nA: 123456789012345\r\nB: 1234567890123456\n\r\n",
       status + "header 'A' '123456789012345'\nheader 'B' '1234567890123456'\n"
                "head 200 until_close close\ncomplete",
       with_limits(20, 1000, 10)},
      {"a field line one byte over, its LF past the limit",
       "HTTP/1.1 200 ABCDE\r\nA: 1\r\nB: 12345678901234567\n\r\n", line_over,
       with_limits(20, 1000, 10)},
      {"a field line whose CR is the limit's last byte",
       "HTTP/1.1 200 ABCDE\r\nA: 1\r\nB: 1234567890123456\r\n\r\n", line_over,
       with_limits(20, 1000, 10)},
      {"the head limit reached inside a later line",
       "HTTP/1.1 200 ABCDE\r\nA: 1\r\nB: 1234567890\r\n\r\n",
       status + "header 'A' '1'\n" + head_over(30), with_limits(100, 30, 10)},
      {"the head limit reached by the empty line", "HTTP/1.1 200 ABCDE\r\nA: 12345\r\n\r\n",
       status + "header 'A' '12345'\n" + head_over(31), with_limits(100, 31, 10)},
      {"the count limit reached after lines read whole",
       "HTTP/1.1 200 ABCDE\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n",
       status + "header 'A' '1'\nheader 'B' '2'\nheader 'C' '3'\n"
                "error too_many_headers: header fields exceed max_header_count (3)",
       with_limits(100, 1000, 3)},
      {"a value ending in a CR at the end of the input", "HTTP/1.1 200 ABCDE\r\nA: 1\r",
       status + "error response_truncated: in headers"},
      {"a value with a CR then a field line", "HTTP/1.1 200 ABCDE\r\nA: 1\rB: 2\r\n\r\n",
       status + "error invalid_response: invalid character 0x0d in value of field 'A'"},
      {"a DEL after a long value", "HTTP/1.1 200 ABCDE\r\nA: 0123456789abcdef\x7f\r\n\r\n",
       status + "error invalid_response: invalid character 0x7f in value of field 'A'"},
  });
}

TEST_CASE("http parser: framing fields are known by their whole name, in any case") {
  const std::string status = "status 1.1 200 'OK'\n";
  check_cases({
      {"names of the same length and first letter are other fields",
       ok_head + "Content-Lengtx: abc\r\nCoNNectioX: close\r\nTransfer-Encodinx: chunked\r\n"
                 "Xontent-Length: abc\r\nXonnection: close\r\nXransfer-Encoding: chunked\r\n"
                 "cONTENT-lENGTH: 2\r\n\r\nhi",
       status + "header 'Content-Lengtx' 'abc'\nheader 'CoNNectioX' 'close'\n"
                "header 'Transfer-Encodinx' 'chunked'\nheader 'Xontent-Length' 'abc'\n"
                "header 'Xonnection' 'close'\nheader 'Xransfer-Encoding' 'chunked'\n"
                "header 'cONTENT-lENGTH' '2'\nhead 200 length 2 keep-alive\nbody hi\ncomplete"},
      {"a coding one letter from chunked is another coding",
       ok_head + "TRANSFER-ENCODING: chunkes\r\n\r\nraw",
       status + "header 'TRANSFER-ENCODING' 'chunkes'\nhead 200 until_close close\nbody raw\n"
                "complete"},
      {"one Connection option, any case",
       ok_head + "CONNECTION: Close\r\nContent-Length: 0\r\n\r\n",
       status + "header 'CONNECTION' 'Close'\nheader 'Content-Length' '0'\nhead 200 none close\n"
                "complete"},
      {"an option that only starts like close", ok_head + "Connection: closed\r\n\r\n",
       status + "header 'Connection' 'closed'\nhead 200 until_close close\ncomplete"},
      {"HTTP/1.0 keep-alive in any case",
       "HTTP/1.0 200 OK\r\nconnection: KEEP-ALIVE\r\nContent-Length: 0\r\n\r\n",
       "status 1.0 200 'OK'\nheader 'connection' 'KEEP-ALIVE'\nheader 'Content-Length' '0'\n"
       "head 200 none keep-alive\ncomplete"},
      {"19 digits with leading zeros, then the same value as a list",
       ok_head + "Content-Length: 0000000000000000003\r\nContent-Length: 3 , 03\r\n\r\nabc",
       status + "header 'Content-Length' '0000000000000000003'\n"
                "header 'Content-Length' '3 , 03'\nhead 200 length 3 keep-alive\nbody abc\n"
                "complete"},
      {"the largest 19-digit length", ok_head + "Content-Length: 9999999999999999999\r\n\r\n",
       status + "header 'Content-Length' '9999999999999999999'\n"
                "head 200 length 9999999999999999999 keep-alive\n"
                "error response_truncated: body: got 0 of 9999999999999999999 bytes"},
      {"a number then a differing list",
       ok_head + "Content-Length: 3\r\nContent-Length: 3, 4\r\n\r\n",
       status + "header 'Content-Length' '3'\n"
                "error invalid_response: differing Content-Length values 3 and 4"},
  });
}

TEST_CASE("http parser: a field's name and value lie in one view of its line") {
  // The exchange copies "Name: value" lines whole on that promise, however
  // the line came: in one piece (read in place) or byte by byte (buffered).
  const std::string input = ok_head +
                            "A: 1\r\nB:2\r\nC:\t3 \r\nD:  4\t\r\nE: \r\nF:\r\n"
                            "Transfer-Encoding: chunked\r\n\r\n0\r\nT:  t\r\n\r\n";
  const std::vector<std::string> spans = {
      "A: 1", "B:2", "C:\t3", "D:  4", "E: ", "F:", "Transfer-Encoding: chunked", "T:  t"};
  for (const std::size_t piece : {input.size(), std::size_t{1}}) {
    CAPTURE(piece);
    SpanSink sink;
    ResponseParser parser(sink);
    for (std::size_t at = 0; at < input.size(); at += piece) {
      const std::string buffer = input.substr(at, piece);  // its own, for ASan
      REQUIRE(parser.feed(buffer) == buffer.size());
    }
    CHECK(parser.done());
    CHECK(sink.spans == spans);
  }
}

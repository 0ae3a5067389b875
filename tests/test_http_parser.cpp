// The HTTP/1.1 response parser and request writer (protocols/http/src).
//
// Parser cases are a table, curl style: raw response bytes and the events
// they must give. Every case is fed whole, one byte at a time, and cut in two
// at every position, and must give the same events each way (body events are
// merged, since how the body is cut follows how the input is cut).
#include <doctest/doctest.h>

#include <string>
#include <string_view>
#include <vector>

#include "request_writer.hpp"
#include "response_parser.hpp"
#include "support/parser_cases.hpp"

using namespace parser_cases;

TEST_CASE("http parser: bodies delimited by Content-Length, chunked coding and the close") {
  check_cases({
      {"content-length", ok_head + "Content-Length: 5\r\n\r\nhello",
       "status 1.1 200 'OK'\nheader 'Content-Length' '5'\nhead 200 length 5 keep-alive\n"
       "body hello\ncomplete"},
      {"content-length 0", ok_head + "Content-Length: 0\r\n\r\n",
       "status 1.1 200 'OK'\nheader 'Content-Length' '0'\nhead 200 none keep-alive\ncomplete"},
      {"identical values", ok_head + "Content-Length: 3\r\ncontent-length: 3, 3 ,\r\n\r\nabc",
       "status 1.1 200 'OK'\nheader 'Content-Length' '3'\nheader 'content-length' '3, 3 ,'\n"
       "head 200 length 3 keep-alive\nbody abc\ncomplete"},
      {"close-delimited", ok_head + "Server: x\r\n\r\nall of\r\nthis",
       "status 1.1 200 'OK'\nheader 'Server' 'x'\nhead 200 until_close close\n"
       "body all of\\x0d\\x0athis\ncomplete"},
      {"close-delimited, empty", ok_head + "\r\n",
       "status 1.1 200 'OK'\nhead 200 until_close close\ncomplete"},
      {"chunked with extensions and trailers",
       chunked_head +
           "5\r\nhello\r\n1A;name=value;x\r\nabcdefghijklmnopqrstuvwxyz\r\n"
           "0005 ; a=\"b c\"\t\r\n, wor\r\n000\r\nExpires: never\r\nX-Sum:  a b \r\n\r\n",
       chunked_events + "body helloabcdefghijklmnopqrstuvwxyz, wor\ntrailer 'Expires' 'never'\n"
                        "trailer 'X-Sum' 'a b'\ncomplete"},
      {"chunked, no trailers", chunked_head + "1\r\nx\r\n0\r\n\r\n",
       chunked_events + "body x\ncomplete"},
      {"chunked, a chunk of 1 GiB", chunked_head + "40000000\r\nab",
       chunked_events +
           "body ab\nerror response_truncated: in chunk data: got 2 of 1073741824 bytes"},
      {"Transfer-Encoding beats Content-Length, connection not reused",
       ok_head + "Content-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n",
       "status 1.1 200 'OK'\nheader 'Content-Length' '100'\nheader 'Transfer-Encoding' 'chunked'\n"
       "head 200 chunked close\nbody hi\ncomplete"},
      {"codings over several fields, chunked last",
       ok_head + "Transfer-Encoding: gzip\r\nTransfer-Encoding: , Chunked\r\n\r\n0\r\n\r\n",
       "status 1.1 200 'OK'\nheader 'Transfer-Encoding' 'gzip'\n"
       "header 'Transfer-Encoding' ', Chunked'\nhead 200 chunked keep-alive\ncomplete"},
      {"codings without chunked: until the close", ok_head + "Transfer-Encoding: gzip\r\n\r\nxyz",
       "status 1.1 200 'OK'\nheader 'Transfer-Encoding' 'gzip'\nhead 200 until_close close\n"
       "body xyz\ncomplete"},
  });
}

TEST_CASE("http parser: keep-alive, HTTP/1.0, pipelined responses") {
  check_cases({
      {"HTTP/1.0 closes by default", "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nhi",
       "status 1.0 200 'OK'\nheader 'Content-Length' '2'\nhead 200 length 2 close\n"
       "body hi\ncomplete"},
      {"HTTP/1.0 with keep-alive",
       "HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 2\r\n\r\nhi",
       "status 1.0 200 'OK'\nheader 'Connection' 'Keep-Alive'\nheader 'Content-Length' '2'\n"
       "head 200 length 2 keep-alive\nbody hi\ncomplete"},
      {"Connection: close among other options",
       ok_head + "Connection: upgrade,  CLOSE\r\nContent-Length: 0\r\n\r\n",
       "status 1.1 200 'OK'\nheader 'Connection' 'upgrade,  CLOSE'\n"
       "header 'Content-Length' '0'\nhead 200 none close\n"
       "complete"},
      {"HTTP/1.0 chunked is read, connection not reused",
       "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
       "status 1.0 200 'OK'\nheader 'Connection' 'keep-alive'\n"
       "header 'Transfer-Encoding' 'chunked'\nhead 200 chunked close\ncomplete"},
      {"a later 1.x minor version reads as 1.1", "HTTP/1.9 999 Odd\r\nContent-Length: 0\r\n\r\n",
       "status 1.9 999 'Odd'\nheader 'Content-Length' '0'\nhead 999 none keep-alive\ncomplete"},
      {"two responses on one connection",
       ok_head + "Content-Length: 1\r\n\r\nAHTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\nBB",
       "status 1.1 200 'OK'\nheader 'Content-Length' '1'\nhead 200 length 1 keep-alive\n"
       "body A\ncomplete\nstatus 1.1 404 'Not Found'\nheader 'Content-Length' '2'\n"
       "head 404 length 2 keep-alive\nbody BB\ncomplete"},
      {"then a truncated one", ok_head + "Content-Length: 0\r\n\r\nHTTP/1.1 2",
       "status 1.1 200 'OK'\nheader 'Content-Length' '0'\nhead 200 none keep-alive\ncomplete\n"
       "error response_truncated: in status line"},
  });
}

TEST_CASE("http parser: responses without a body, interim responses, upgrades") {
  check_cases({
      {"HEAD", ok_head + "Content-Length: 1000\r\n\r\n" + chunked_head,
       "status 1.1 200 'OK'\nheader 'Content-Length' '1000'\nhead 200 none keep-alive\n"
       "complete\nstatus 1.1 200 'OK'\nheader 'Transfer-Encoding' 'chunked'\n"
       "head 200 none keep-alive\ncomplete",
       head_request()},
      {"204 and 304",
       "HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n"
       "HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n",
       "status 1.1 204 'No Content'\nheader 'Content-Length' '10'\nhead 204 none keep-alive\n"
       "complete\nstatus 1.1 304 'Not Modified'\nheader 'Transfer-Encoding' 'chunked'\n"
       "head 304 none keep-alive\ncomplete"},
      {"100 Continue, then the response",
       "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
       "status 1.1 100 'Continue'\ninterim 100 none close\nstatus 1.1 200 'OK'\n"
       "header 'Content-Length' '2'\nhead 200 length 2 keep-alive\nbody ok\ncomplete"},
      {"103 with fields (its Content-Length ignored), then 100, then the response",
       "HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\nContent-Length: 5\r\n\r\n"
       "HTTP/1.1 100 Continue\r\n\r\n" +
           ok_head + "Connection: close\r\n\r\nbye",
       "status 1.1 103 'Early Hints'\nheader 'Link' '</s.css>; rel=preload'\n"
       "header 'Content-Length' '5'\ninterim 103 none close\nstatus 1.1 100 'Continue'\n"
       "interim 100 none close\nstatus 1.1 200 'OK'\nheader 'Connection' 'close'\n"
       "head 200 until_close close\nbody bye\ncomplete"},
      {"only an interim response", "HTTP/1.1 100 Continue\r\n\r\n",
       "status 1.1 100 'Continue'\ninterim 100 none close\n"
       "error response_truncated: in status line"},
      {"101 Switching Protocols",
       "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
       "\x81\x05hello",
       "status 1.1 101 'Switching Protocols'\nheader 'Upgrade' 'websocket'\n"
       "header 'Connection' 'Upgrade'\nhead 101 tunnel close\ncomplete\nrest \\x81\\x05hello"},
      {"CONNECT 200", "HTTP/1.1 200 Connection established\r\n\r\n\x16\x03\x01",
       "status 1.1 200 'Connection established'\nhead 200 tunnel close\ncomplete\n"
       "rest \\x16\\x03\\x01",
       connect_request()},
      {"CONNECT 407 has a body",
       "HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 4\r\n\r\ndeny",
       "status 1.1 407 'Proxy Authentication Required'\nheader 'Content-Length' '4'\n"
       "head 407 length 4 keep-alive\nbody deny\ncomplete",
       connect_request()},
  });
}

TEST_CASE("http parser: lenient where browsers are") {
  check_cases({
      {"bare LF line endings", "HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n3\nabc\n0\nX: y\n\n",
       "status 1.1 200 'OK'\nheader 'Transfer-Encoding' 'chunked'\nhead 200 chunked keep-alive\n"
       "body abc\ntrailer 'X' 'y'\ncomplete"},
      {"empty reasons, with and without the space",
       "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\nHTTP/1.1 404 \r\nContent-Length: 0\r\n\r\n",
       "status 1.1 200 ''\nheader 'Content-Length' '0'\nhead 200 none keep-alive\ncomplete\n"
       "status 1.1 404 ''\nheader 'Content-Length' '0'\nhead 404 none keep-alive\ncomplete"},
      {"empty lines before the status line", "\r\n\nHTTP/1.1 204 No Content\r\n\r\n",
       "status 1.1 204 'No Content'\nhead 204 none keep-alive\ncomplete"},
      {"whitespace around values, empty values, obs-text, tabs inside",
       ok_head + "X-A: \t a \tb \t\r\nX-Empty:\r\nX-Blank:   \r\nX-Latin: caf\xe9\r\n"
                 "Content-Length: 0\r\n\r\n",
       "status 1.1 200 'OK'\nheader 'X-A' 'a \\x09b'\nheader 'X-Empty' ''\nheader 'X-Blank' ''\n"
       "header 'X-Latin' 'caf\\xe9'\nheader 'Content-Length' '0'\nhead 200 none keep-alive\n"
       "complete"},
      {"whitespace after the chunk size", chunked_head + "2 \t\r\nab\r\n0\r\n\r\n",
       chunked_events + "body ab\ncomplete"},
  });
}

TEST_CASE("http parser: malformed status lines") {
  const std::string head = "status 1.1 200 'OK'\n";
  check_cases({
      {"HTTP/2", "HTTP/2 200 OK\r\n\r\n",
       "error invalid_response: malformed status line 'HTTP/2 200 OK'"},
      {"HTTP/2.0", "HTTP/2.0 200 OK\r\n\r\n",
       "error invalid_response: unsupported HTTP version in status line 'HTTP/2.0 200 OK'"},
      {"HTTP/0.9", "HTTP/0.9 200 OK\r\n",
       "error invalid_response: unsupported HTTP version in status line 'HTTP/0.9 200 OK'"},
      {"not HTTP", "<html>hello</html>\n",
       "error invalid_response: malformed status line '<html>hello</html>'"},
      {"short", "ICY 200 OK\r\n", "error invalid_response: malformed status line 'ICY 200 OK'"},
      {"two digits", "HTTP/1.1 20 OK\r\n",
       "error invalid_response: malformed status code in status line 'HTTP/1.1 20 OK'"},
      {"four digits", "HTTP/1.1 2000 OK\r\n",
       "error invalid_response: malformed status code in status line 'HTTP/1.1 2000 OK'"},
      {"below 100", "HTTP/1.1 099 Low\r\n",
       "error invalid_response: malformed status code in status line 'HTTP/1.1 099 Low'"},
      {"two spaces", "HTTP/1.1  200 OK\r\n",
       "error invalid_response: malformed status code in status line 'HTTP/1.1  200 OK'"},
      {"NUL in the reason", std::string("HTTP/1.1 200 O\0K\r\n", 18),
       "error invalid_response: invalid character 0x00 in status line 'HTTP/1.1 200 O\\x00K'"},
      {"bare CR in the reason", "HTTP/1.1 200 O\rK\r\n",
       "error invalid_response: invalid character 0x0d in status line 'HTTP/1.1 200 O\\x0dK'"},
      {"long lines are cut in the note", "HTTP/1.1 200 " + std::string(100, 'x') + "\x7f\r\n",
       "error invalid_response: invalid character 0x7f in status line 'HTTP/1.1 200 " +
           std::string(51, 'x') + "'..."},
  });
}

TEST_CASE("http parser: malformed header and trailer fields") {
  const std::string status = "status 1.1 200 'OK'\n";
  check_cases({
      {"whitespace before the colon", ok_head + "X-A : b\r\n\r\n",
       status + "error invalid_response: whitespace between field name and colon 'X-A : b'"},
      {"no colon", ok_head + "NoColon\r\n\r\n",
       status + "error invalid_response: field line without a colon 'NoColon'"},
      {"empty name", ok_head + ": v\r\n\r\n",
       status + "error invalid_response: empty field name ': v'"},
      {"bad name character",
       ok_head + "X\x01"
                 "A: b\r\n\r\n",
       status + "error invalid_response: invalid character 0x01 in field name 'X\\x01A: b'"},
      {"obsolete line folding", ok_head + "X-A: b\r\n c\r\n\r\n",
       status + "header 'X-A' 'b'\nerror invalid_response: obsolete line folding"},
      {"obsolete line folding with a tab", ok_head + "X-A: b\n\tc\n\n",
       status + "header 'X-A' 'b'\nerror invalid_response: obsolete line folding"},
      {"whitespace before the first field", ok_head + " X-A: b\r\n\r\n",
       status + "error invalid_response: whitespace before the first header field"},
      {"NUL in a value", ok_head + std::string("X-A: a\0b\r\n\r\n", 12),
       status + "error invalid_response: invalid character 0x00 in value of field 'X-A'"},
      {"bare CR in a value", ok_head + "X-A: a\rb\r\n\r\n",
       status + "error invalid_response: invalid character 0x0d in value of field 'X-A'"},
      {"CR CR LF", ok_head + "X-A: b\r\r\n\r\n",
       status + "error invalid_response: invalid character 0x0d in value of field 'X-A'"},
      {"obsolete line folding in trailers", chunked_head + "0\r\nX: y\r\n z\r\n\r\n",
       chunked_events + "trailer 'X' 'y'\nerror invalid_response: obsolete line folding"},
      {"whitespace before the first trailer", chunked_head + "0\r\n\tX: y\r\n\r\n",
       chunked_events + "error invalid_response: whitespace before the first trailer field"},
      {"trailer without a colon", chunked_head + "0\r\nX\r\n\r\n",
       chunked_events + "error invalid_response: field line without a colon 'X'"},
  });
}

TEST_CASE("http parser: a control in a value is found wherever it stands") {
  // Values are checked several bytes at a time: a control or DEL at each
  // place in and around those words, and next to the bytes that are fine
  // (HTAB, obs-text, the printable edges), is refused; those bytes alone pass.
  const std::string fine = "a\t~ \x80\xff!z0123456789abcdefghij";
  const std::string status = "status 1.1 200 'OK'\n";
  CHECK(run(ok_head + "X-A: " + fine + "\r\n\r\n", {}, {}) ==
        status + "header 'X-A' '" + escaped(fine) + "'\nhead 200 until_close close\ncomplete");
  for (const char bad : {'\x00', '\x01', '\x0d', '\x1f', '\x7f'}) {
    for (std::size_t at = 0; at < fine.size(); ++at) {
      std::string value = fine;
      value[at] = bad;
      CAPTURE(at);
      CAPTURE(static_cast<int>(bad));
      const std::string events = run(ok_head + "X-A: " + value + "x\r\n\r\n", {}, {});
      CHECK(events.find("error invalid_response: invalid character") != std::string::npos);
    }
  }
}

TEST_CASE("http parser: malformed framing") {
  const std::string status = "status 1.1 200 'OK'\n";
  check_cases({
      {"Content-Length not a number", ok_head + "Content-Length: abc\r\n\r\n",
       status + "error invalid_response: Content-Length 'abc' is not a number"},
      {"Content-Length with a sign", ok_head + "Content-Length: +5\r\n\r\n",
       status + "error invalid_response: Content-Length '+5' is not a number"},
      {"Content-Length with a space inside", ok_head + "Content-Length: 1 2\r\n\r\n",
       status + "error invalid_response: Content-Length '1 2' is not a number"},
      {"Content-Length empty", ok_head + "Content-Length: , \r\n\r\n",
       status + "error invalid_response: empty Content-Length"},
      {"Content-Length over 64 bits", ok_head + "Content-Length: 18446744073709551616\r\n\r\n",
       status + "error invalid_response: Content-Length '18446744073709551616' is too large"},
      {"Content-Length at 64 bits", ok_head + "Content-Length: 18446744073709551615\r\n\r\nab",
       status + "header 'Content-Length' '18446744073709551615'\n"
                "head 200 length 18446744073709551615 keep-alive\nbody ab\n"
                "error response_truncated: body: got 2 of 18446744073709551615 bytes"},
      {"differing Content-Length in one field", ok_head + "Content-Length: 3, 4\r\n\r\n",
       status + "error invalid_response: differing Content-Length values 3 and 4"},
      {"differing Content-Length fields", ok_head + "Content-Length: 3\r\nContent-Length: 04\r\n",
       status + "header 'Content-Length' '3'\n"
                "error invalid_response: differing Content-Length values 3 and 4"},
      {"chunked before another coding", ok_head + "Transfer-Encoding: chunked, gzip\r\n\r\n",
       status + "error invalid_response: chunked is not the final transfer coding"},
      {"chunked twice", ok_head + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
       status + "header 'Transfer-Encoding' 'chunked'\n"
                "error invalid_response: chunked is not the final transfer coding"},
      {"empty Transfer-Encoding", ok_head + "Transfer-Encoding: ,\r\n\r\n",
       status + "error invalid_response: empty Transfer-Encoding"},
      {"chunk size not hex", chunked_head + "zz\r\n",
       chunked_events + "error invalid_response: malformed chunk size line 'zz'"},
      {"chunk size 0x", chunked_head + "0x5\r\n",
       chunked_events + "error invalid_response: malformed chunk size line '0x5'"},
      {"chunk size with a space first", chunked_head + " 5\r\n",
       chunked_events + "error invalid_response: malformed chunk size line ' 5'"},
      {"chunk size missing", chunked_head + "\r\n",
       chunked_events + "error invalid_response: malformed chunk size line ''"},
      {"chunk size over 64 bits", chunked_head + "10000000000000000\r\n",
       chunked_events + "error chunk_too_large: chunk size '10000000000000000' exceeds "
                        "max_chunk_size (1073741824 bytes)"},
      {"chunk size over the limit", chunked_head + "40000001\r\n",
       chunked_events + "error chunk_too_large: chunk size '40000001' exceeds max_chunk_size "
                        "(1073741824 bytes)"},
      {"NUL in a chunk extension", chunked_head + std::string("5;a\0b\r\n", 7),
       chunked_events +
           "error invalid_response: invalid character 0x00 in chunk extension '5;a\\x00b'"},
      {"no CRLF after chunk data", chunked_head + "5\r\nhelloX",
       chunked_events +
           "body hello\nerror invalid_response: expected CRLF after chunk data, got 0x58"},
      {"CR then not LF after chunk data", chunked_head + "5\r\nhello\rX",
       chunked_events +
           "body hello\nerror invalid_response: expected CRLF after chunk data, got 0x58"},
  });
}

TEST_CASE("http parser: limits") {
  // A status line of 13 + 5 + 2 = 20 bytes with CRLF, 19 with LF.
  const std::string status = "status 1.1 200 'ABCDE'\n";
  check_cases({
      {"line at the limit", "HTTP/1.1 200 ABCDE\r\nA: 1234567890123\r\n\r\n",
       status + "header 'A' '1234567890123'\nhead 200 until_close close\ncomplete",
       with_limits(20, 1000, 10)},
      {"line at the limit, bare LF", "HTTP/1.1 200 ABCDEF\n\n",
       "status 1.1 200 'ABCDEF'\nhead 200 until_close close\ncomplete", with_limits(20, 1000, 10)},
      {"status line over", "HTTP/1.1 200 ABCDEF\r\n\r\n",
       "error line_too_long: status line exceeds max_line_length (20 bytes)",
       with_limits(20, 1000, 10)},
      {"status line over, never ending", "HTTP/1.1 200 " + std::string(100, 'x'),
       "error line_too_long: status line exceeds max_line_length (20 bytes)",
       with_limits(20, 1000, 10)},
      {"header line over", "HTTP/1.1 200 ABCDE\r\nA: 1234567890123456\r\n\r\n",
       status + "error line_too_long: header line exceeds max_line_length (20 bytes)",
       with_limits(20, 1000, 10)},
      {"chunk size line over",
       "HTTP/1.1 200 ABCDE\r\nTransfer-Encoding: chunked\r\n\r\n"
       "1;aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n",
       status + "header 'Transfer-Encoding' 'chunked'\nhead 200 chunked keep-alive\n"
                "error line_too_long: chunk size line exceeds max_line_length (30 bytes)",
       with_limits(30, 1000, 10)},
      {"trailer line over",
       "HTTP/1.1 200 ABCDE\r\nTransfer-Encoding: chunked\r\n\r\n"
       "0\r\nX: 12345678901234567890123456789\r\n\r\n",
       status + "header 'Transfer-Encoding' 'chunked'\nhead 200 chunked keep-alive\n"
                "error line_too_long: trailer line exceeds max_line_length (30 bytes)",
       with_limits(30, 1000, 10)},
      {"head at the limit (20 + 18 + 2 bytes)", "HTTP/1.1 200 ABCDE\r\nX: 1234567890123\r\n\r\n",
       status + "header 'X' '1234567890123'\nhead 200 until_close close\ncomplete",
       with_limits(100, 40, 10)},
      {"head over", "HTTP/1.1 200 ABCDE\r\nX: 123456789012345\r\n\r\n",
       status + "header 'X' '123456789012345'\n"
                "error headers_too_large: response head exceeds max_header_bytes (40 bytes)",
       with_limits(100, 40, 10)},
      {"head over within a line", "HTTP/1.1 200 ABCDE\r\nX: 1234567890123456789012345\r\n\r\n",
       status + "error headers_too_large: response head exceeds max_header_bytes (40 bytes)",
       with_limits(100, 40, 10)},
      {"the head and the line limits cross at once: the line's is named",
       "HTTP/1.1 200 ABCDE\r\nX: 12345678901234567890\r\n",
       status + "error line_too_long: header line exceeds max_line_length (20 bytes)",
       with_limits(20, 40, 10)},
      {"interim responses have budgets of their own",
       "HTTP/1.1 100 ABCDE\r\nX: 1234567890123\r\n\r\nHTTP/1.1 200 ABCDE\r\nX: "
       "1234567890123\r\n\r\n",
       "status 1.1 100 'ABCDE'\nheader 'X' '1234567890123'\ninterim 100 none close\n" + status +
           "header 'X' '1234567890123'\nhead 200 until_close close\ncomplete",
       with_limits(100, 40, 10)},
      {"trailer section over",
       "HTTP/1.1 200 ABCDE\r\nTransfer-Encoding: chunked\r\n\r\n"
       "0\r\nX: 1234567890\r\nY: 1234567890\r\nZ: 1234567890\r\n"
       "W: 1234567890\r\n\r\n",
       status + "header 'Transfer-Encoding' 'chunked'\nhead 200 chunked keep-alive\n"
                "trailer 'X' '1234567890'\ntrailer 'Y' '1234567890'\ntrailer 'Z' '1234567890'\n"
                "error headers_too_large: trailer section exceeds max_header_bytes (50 bytes)",
       with_limits(100, 50, 10)},
      {"header count at the limit", "HTTP/1.1 200 ABCDE\r\nA: 1\r\nB: 2\r\n\r\n",
       status + "header 'A' '1'\nheader 'B' '2'\nhead 200 until_close close\ncomplete",
       with_limits(100, 1000, 2)},
      {"header count over", "HTTP/1.1 200 ABCDE\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n",
       status + "header 'A' '1'\nheader 'B' '2'\n"
                "error too_many_headers: header fields exceed max_header_count (2)",
       with_limits(100, 1000, 2)},
      {"trailer count over",
       "HTTP/1.1 200 ABCDE\r\nTransfer-Encoding: chunked\r\nB: 2\r\n\r\n"
       "0\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n",
       status + "header 'Transfer-Encoding' 'chunked'\nheader 'B' '2'\n"
                "head 200 chunked keep-alive\ntrailer 'A' '1'\ntrailer 'B' '2'\n"
                "error too_many_headers: trailer fields exceed max_header_count (2)",
       with_limits(100, 1000, 2)},
      {"chunk at the limit, and over",
       "HTTP/1.1 200 ABCDE\r\nTransfer-Encoding: chunked\r\n\r\n"
       "10\r\n0123456789abcdef\r\n11\r\n",
       status + "header 'Transfer-Encoding' 'chunked'\nhead 200 chunked keep-alive\n"
                "body 0123456789abcdef\n"
                "error chunk_too_large: chunk size '11' exceeds max_chunk_size (16 bytes)",
       with_limits(100, 1000, 10, 16)},
  });
}

TEST_CASE("http parser: the connection ends too soon") {
  const std::string status = "status 1.1 200 'OK'\n";
  check_cases({
      {"nothing", "", "error response_truncated: before the status line"},
      {"in the status line", "HTTP/1.1 2", "error response_truncated: in status line"},
      {"after empty lines", "\r\n\r\n", "error response_truncated: in status line"},
      {"in the headers", ok_head + "X: y", status + "error response_truncated: in headers"},
      {"before the empty line", ok_head + "X: y\r\n",
       status + "header 'X' 'y'\nerror response_truncated: in headers"},
      {"in the body", ok_head + "Content-Length: 5\r\n\r\nab",
       status + "header 'Content-Length' '5'\nhead 200 length 5 keep-alive\nbody ab\n"
                "error response_truncated: body: got 2 of 5 bytes"},
      {"before the body", ok_head + "Content-Length: 5\r\n\r\n",
       status + "header 'Content-Length' '5'\nhead 200 length 5 keep-alive\n"
                "error response_truncated: body: got 0 of 5 bytes"},
      {"before a chunk", chunked_head, chunked_events + "error response_truncated: in chunk size"},
      {"in a chunk size", chunked_head + "5",
       chunked_events + "error response_truncated: in chunk size"},
      {"in chunk data", chunked_head + "5\r\nab",
       chunked_events + "body ab\nerror response_truncated: in chunk data: got 2 of 5 bytes"},
      {"after chunk data", chunked_head + "5\r\nhello",
       chunked_events + "body hello\nerror response_truncated: after chunk data"},
      {"after chunk data and CR", chunked_head + "5\r\nhello\r",
       chunked_events + "body hello\nerror response_truncated: after chunk data"},
      {"in the trailers", chunked_head + "0\r\nX: y\r\n",
       chunked_events + "trailer 'X' 'y'\nerror response_truncated: in trailers"},
  });
}

namespace {

// A sink that keeps the views it is given, to see where they point.
struct ViewSink final : ResponseSink {
  std::vector<std::string_view> bodies;
  std::vector<std::string_view> values;
  void on_header(std::string_view, std::string_view value) override { values.push_back(value); }
  void on_body(std::string_view data) override { bodies.push_back(data); }
};

bool inside(std::string_view part, std::string_view whole) {
  return part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size();
}

}  // namespace

TEST_CASE("http parser: body and header views point into the input, not into a copy") {
  std::string input = chunked_head + "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
  ViewSink sink;
  ResponseParser parser(sink);
  REQUIRE(parser.feed(input) == input.size());
  REQUIRE(parser.done());
  REQUIRE(sink.bodies.size() == 2);
  CHECK(sink.bodies[0] == "abc");
  CHECK(sink.bodies[1] == "de");
  for (auto body : sink.bodies) CHECK(inside(body, input));
  REQUIRE(sink.values.size() == 1);
  CHECK(inside(sink.values[0], input));
}

TEST_CASE("http parser: error messages read whole") {
  Recorder sink;
  ResponseParser parser(sink);
  REQUIRE(parser.feed(ok_head + "X: y").has_value());
  auto finished = parser.finish();
  REQUIRE_FALSE(finished.has_value());
  CHECK(finished.error() == errc::response_truncated);
  CHECK(finished.error().message() ==
        "in headers: the connection ended before the response was complete");
}

TEST_CASE("http parser: a failed parser stays failed until reset") {
  Recorder sink;
  ResponseParser parser(sink);
  auto bad = parser.feed("HTTP/2.0 200 OK\r\n");
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error() == errc::invalid_response);
  auto again = parser.feed(ok_head);
  REQUIRE_FALSE(again.has_value());
  CHECK(again.error().where() == bad.error().where());
  CHECK(parser.finish().error().where() == bad.error().where());
  parser.reset();
  CHECK(parser.feed(ok_head + "Content-Length: 0\r\n\r\n").has_value());
  CHECK(parser.done());
}

TEST_CASE("http parser: a sink stops the parser from a callback") {
  struct Stopper final : ResponseSink {
    ResponseParser* parser = nullptr;
    int bodies = 0;
    void on_headers_complete(const ResponseHead& head) override {
      if (head.status == 403) parser->stop(uvinet::Error(errc::cancelled, "no thanks"));
    }
    void on_body(std::string_view) override {
      ++bodies;
      parser->stop(uvinet::Error(errc::decoded_too_large, "enough"));
    }
    void on_message_complete() override { FAIL("completed after stop()"); }
  };
  Stopper sink;
  ResponseParser parser(sink);
  sink.parser = &parser;
  auto r = parser.feed("HTTP/1.1 403 No\r\nContent-Length: 0\r\n\r\n");
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error() == errc::cancelled);
  CHECK(parser.finish().error() == errc::cancelled);

  parser.reset();
  r = parser.feed(ok_head + "Content-Length: 3\r\n\r\nabc");
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error() == errc::decoded_too_large);
  CHECK(sink.bodies == 1);
}

TEST_CASE("http parser: after a response, nothing is consumed until reset") {
  Recorder sink;
  ResponseParser parser(sink);
  parser.set_request_kind(RequestKind::head);
  std::string two = ok_head + "Content-Length: 9\r\n\r\n" + ok_head + "Content-Length: 2\r\n\r\nhi";
  auto first = parser.feed(two);
  REQUIRE(first.has_value());
  CHECK(*first == ok_head.size() + 21);
  CHECK(parser.done());
  CHECK(parser.keep_alive());
  CHECK(parser.head().content_length == 0);
  CHECK(parser.feed(two.substr(*first)) == 0u);
  CHECK(parser.finish().has_value());
  // reset() forgets the HEAD: the second response has its body.
  parser.reset();
  CHECK(parser.feed(two.substr(*first)) == two.size() - *first);
  CHECK(parser.head().body == BodyKind::length);
  CHECK(parser.done());
}

TEST_CASE("http parser: default limits and iequals") {
  ParserLimits limits;
  CHECK(limits.max_header_bytes == 64 * 1024);
  CHECK(limits.max_header_count == 100);
  CHECK(limits.max_line_length == 8 * 1024);
  CHECK(limits.max_chunk_size == 1u << 30);
  CHECK(iequals("Content-Length", "content-LENGTH"));
  CHECK(iequals("", ""));
  CHECK_FALSE(iequals("Content-Length", "Content-Lengt"));
  CHECK_FALSE(iequals("a", "b"));
  CHECK_FALSE(iequals("[", "{"));  // 0x5b and 0x7b differ by 32 but are not letters
}

TEST_CASE("http parser: buffers at most one partial line, never the body") {
  Recorder sink;
  ResponseParser parser(sink, ParserLimits{1 << 20, 100, 64, 1 << 30});
  REQUIRE(parser.feed("HTTP/1.1 200 OK\r\nX-Long: ").has_value());
  CHECK(parser.buffered() == 8);
  std::string value(56, 'v');
  REQUIRE(parser.feed(value).has_value());
  CHECK(parser.buffered() == 64);
  auto r = parser.feed("v");
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error() == errc::line_too_long);
  CHECK(parser.buffered() <= 64);

  parser.reset();
  REQUIRE(parser.feed(ok_head + "\r\n").has_value());
  for (int i = 0; i < 1000; ++i) REQUIRE(parser.feed(std::string(1000, 'b')) == 1000u);
  CHECK(parser.buffered() == 0);
  REQUIRE(parser.feed("HTTP/1.1 200 OK\r\n\r\n") == 19u);  // a close-delimited body takes all
  CHECK(parser.buffered() == 0);
}

TEST_CASE("http parser: default limits hold against a header flood") {
  Recorder sink;
  ResponseParser parser(sink);
  std::string flood = ok_head;
  for (int i = 0; i < 101; ++i) flood += "X-" + std::to_string(i) + ": v\r\n";
  auto r = parser.feed(flood);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error() == errc::too_many_headers);

  parser.reset();
  std::string big = ok_head;
  while (big.size() < 70 * 1024) big += "X-Long: " + std::string(8000, 'v') + "\r\n";
  r = parser.feed(big);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error() == errc::headers_too_large);
  CHECK(r.error().where() == "response head exceeds max_header_bytes (65536 bytes)");
}

// ---- The request writer.

TEST_CASE("http writer: request heads") {
  Field fields[] = {{"Accept", "*/*"}, {"X-Empty", ""}, {"User-Agent", "uvinet/0.1\tx"}};
  RequestHead head;
  head.host = "example.com:8080";
  head.target = "/a?b=c";
  head.fields = fields;
  CHECK(request_head(head).value() ==
        "GET /a?b=c HTTP/1.1\r\nHost: example.com:8080\r\nAccept: */*\r\nX-Empty: \r\n"
        "User-Agent: uvinet/0.1\tx\r\n\r\n");

  head.method = "POST";
  head.fields = {};
  head.framing = Framing::content_length;
  head.content_length = 0;
  CHECK(request_head(head).value() ==
        "POST /a?b=c HTTP/1.1\r\nHost: example.com:8080\r\nContent-Length: 0\r\n\r\n");
  head.framing = Framing::chunked;
  CHECK(request_head(head).value() ==
        "POST /a?b=c HTTP/1.1\r\nHost: example.com:8080\r\nTransfer-Encoding: chunked\r\n\r\n");

  RequestHead connect{"CONNECT", "example.com:443", "example.com:443", {}, Framing::none, 0};
  CHECK(request_head(connect).value() ==
        "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n");
}

TEST_CASE("http writer: a kept field line follows its value, and keeps no bad one") {
  CheckedFieldLine agent("User-Agent");
  std::string out = "GET / HTTP/1.1\r\n";
  REQUIRE(agent.append(out, "uvinet/0.1"));
  REQUIRE(agent.append(out, "uvinet/0.1"));
  REQUIRE(agent.append(out, "agent/2"));
  CHECK(out ==
        "GET / HTTP/1.1\r\nUser-Agent: uvinet/0.1\r\nUser-Agent: uvinet/0.1\r\n"
        "User-Agent: agent/2\r\n");
  out.clear();
  for (int i = 0; i < 2; ++i) {  // refused each time, not only when first seen
    auto refused = agent.append(out, "a\r\nInjected: yes");
    REQUIRE_FALSE(refused);
    CHECK(refused.error().where() ==
          "header field 'User-Agent': value 'a\\x0d\\x0aInjected: yes' holds a control "
          "character");
  }
  CHECK(out.empty());
  REQUIRE(agent.append(out, "agent/2"));
  REQUIRE(agent.append(out, ""));
  CHECK(out == "User-Agent: agent/2\r\nUser-Agent: \r\n");

  CheckedFieldLine framing("Content-Length");
  CHECK(framing.append(out, "5").error().where() ==
        "header field 'Content-Length' is written by the writer itself");
}

TEST_CASE("http writer: the request line and Host in pieces") {
  std::string out;
  REQUIRE(append_request_line(out, "GET", {"/a", "", "?", "b"}));
  REQUIRE(append_host_field(out, "example.com:8080"));
  CHECK(out == "GET /a?b HTTP/1.1\r\nHost: example.com:8080\r\n");
  CHECK(append_request_line(out, "GET", {"", ""}).error().where() ==
        "request target '' is empty or holds a space or control");
  CHECK(append_host_field(out, "a b").error().where() ==
        "Host 'a b' holds a space or control character");
}

TEST_CASE("http writer: chunk framing") {
  CHECK(chunk("abc") == "3\r\nabc\r\n");
  CHECK(chunk(std::string(26, 'z')) == "1a\r\n" + std::string(26, 'z') + "\r\n");
  CHECK(chunk("").empty());
  CHECK(chunk_header(0xabcdef) == "abcdef\r\n");
  CHECK(chunk_end == "\r\n");
  CHECK(last_chunk().value() == "0\r\n\r\n");
  Field trailers[] = {{"X-Checksum", "abc"}, {"Expires", "never"}};
  CHECK(last_chunk(trailers).value() == "0\r\nX-Checksum: abc\r\nExpires: never\r\n\r\n");
}

TEST_CASE("http writer: what could inject a header or a request is refused") {
  auto refused = [](const RequestHead& head, std::string_view note) {
    auto r = request_head(head);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error() == errc::invalid_argument);
    CHECK(r.error().where() == note);
  };
  auto with_field = [](Field field) {
    static Field one[1];
    one[0] = field;
    RequestHead head;
    head.host = "h";
    head.fields = one;
    return head;
  };
  refused(with_field({"X-A", "a\r\nInjected: yes"}),
          "header field 'X-A': value 'a\\x0d\\x0aInjected: yes' holds a control character");
  refused(with_field({"X-A", "a\nb"}),
          "header field 'X-A': value 'a\\x0ab' holds a control character");
  refused(with_field({"X-A", std::string_view("a\0b", 3)}),
          "header field 'X-A': value 'a\\x00b' holds a control character");
  refused(with_field({"X A", "b"}), "header field name 'X A' is not a token");
  refused(with_field({"X-A\r\nB", "b"}), "header field name 'X-A\\x0d\\x0aB' is not a token");
  refused(with_field({"", "b"}), "header field name '' is not a token");
  refused(with_field({"content-length", "5"}),
          "header field 'content-length' is written by the writer itself");
  refused(with_field({"Transfer-Encoding", "chunked"}),
          "header field 'Transfer-Encoding' is written by the writer itself");
  refused(with_field({"HOST", "evil"}), "header field 'HOST' is written by the writer itself");

  RequestHead head;
  head.host = "h";
  head.method = "GET /x HTTP/1.1\r\n";
  refused(head, "request method 'GET /x HTTP/1.1\\x0d\\x0a' is not a token");
  head.method = "";
  refused(head, "request method '' is not a token");
  head.method = "GET";
  head.target = "/a b";
  refused(head, "request target '/a b' is empty or holds a space or control");
  head.target = "/a\r\nX: y";
  refused(head, "request target '/a\\x0d\\x0aX: y' is empty or holds a space or control");
  head.target = "";
  refused(head, "request target '' is empty or holds a space or control");
  head.target = "/";
  head.host = "h\r\nX: y";
  refused(head, "Host 'h\\x0d\\x0aX: y' holds a space or control character");

  Field bad_trailers[] = {{"Content-Length", "5"}};
  auto r = last_chunk(bad_trailers);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().where() == "trailer field 'Content-Length' is not allowed in trailers");
  Field injected[] = {{"X", "a\r\n\r\nGET / HTTP/1.1"}};
  CHECK(last_chunk(injected).error() == errc::invalid_argument);
}

TEST_CASE("http writer and parser: a chunked body written is a chunked body parsed") {
  Field trailers[] = {{"X-Sum", "42"}};
  std::string wire = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk("hello, ") +
                     chunk("") + chunk(std::string(300, 'w')) + last_chunk(trailers).value();
  check_case({"round trip", wire,
              chunked_events + "body hello, " + std::string(300, 'w') +
                  "\ntrailer 'X-Sum' '42'\ncomplete"});
}

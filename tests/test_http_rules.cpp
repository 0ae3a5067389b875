// The pure rules of the HTTP module, each on its own: resolving a Location
// (RFC 3986), planning a redirect (RFC 9110 §15.4), decoding gzip and deflate
// under a size limit, Basic credentials (RFC 7617) and Content-Range.
#include <doctest/doctest.h>
#include <zlib.h>

#include <span>
#include <string>
#include <vector>

#include "basic_auth.hpp"
#include "content_decoder.hpp"
#include "redirect.hpp"
#include "uvinet/http.hpp"

using namespace uvinet::http::detail;
using uvinet::crack_url;
using uvinet::errc;
using uvinet::RedirectPolicy;
using uvinet::Url;

namespace {

Url url(std::string_view text) {
  return crack_url(text).value();
}

std::string resolved(std::string_view base, std::string_view reference) {
  auto r = resolve_reference(url(base), reference);
  if (!r) return "error: " + r.error().message();
  return uvinet::create_url(*r).value();
}

// `data` compressed by zlib itself: window_bits 15 + 16 for gzip, 15 for the
// zlib wrapper, -15 for raw deflate.
std::string compress(std::string_view data, int window_bits) {
  z_stream z{};
  REQUIRE(deflateInit2(&z, 6, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY) == Z_OK);
  std::string out(deflateBound(&z, data.size()) + 32, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  REQUIRE(deflate(&z, Z_FINISH) == Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

uvinet::Result<std::string> decode_all(Coding coding, std::string_view in, std::uint64_t limit,
                                       std::size_t piece = 7) {
  ContentDecoder decoder(coding, limit);
  std::string out;
  for (std::size_t i = 0; i < in.size(); i += piece) {
    if (auto r = decoder.decode(in.substr(i, piece), out); !r) return r.error();
  }
  if (auto r = decoder.finish(); !r) return r.error();
  return out;
}

}  // namespace

TEST_CASE("resolve_reference: RFC 3986 §5.4 normal examples") {
  const char* base = "http://a/b/c/d;p?q";
  CHECK(resolved(base, "g") == "http://a/b/c/g");
  CHECK(resolved(base, "./g") == "http://a/b/c/g");
  CHECK(resolved(base, "g/") == "http://a/b/c/g/");
  CHECK(resolved(base, "/g") == "http://a/g");
  CHECK(resolved(base, "//g") == "http://g/");
  CHECK(resolved(base, "?y") == "http://a/b/c/d;p?y");
  CHECK(resolved(base, "g?y") == "http://a/b/c/g?y");
  CHECK(resolved(base, ";x") == "http://a/b/c/;x");
  CHECK(resolved(base, "") == "http://a/b/c/d;p?q");
  CHECK(resolved(base, ".") == "http://a/b/c/");
  CHECK(resolved(base, "..") == "http://a/b/");
  CHECK(resolved(base, "../g") == "http://a/b/g");
  CHECK(resolved(base, "../..") == "http://a/");
  CHECK(resolved(base, "../../g") == "http://a/g");
}

TEST_CASE("resolve_reference: abnormal examples, absolute URLs, fragments, bad input") {
  const char* base = "http://a/b/c/d;p?q";
  CHECK(resolved(base, "../../../g") == "http://a/g");
  CHECK(resolved(base, "/./g") == "http://a/g");
  CHECK(resolved(base, "/../g") == "http://a/g");
  CHECK(resolved(base, "g.") == "http://a/b/c/g.");
  CHECK(resolved(base, "..g") == "http://a/b/c/..g");
  CHECK(resolved(base, "./g/.") == "http://a/b/c/g/");
  CHECK(resolved(base, "g/../h") == "http://a/b/c/h");
  CHECK(resolved(base, "https://other:8443/x?y") == "https://other:8443/x?y");
  CHECK(resolved(base, "HTTP://A/Up") == "http://a/Up");
  // The fragment is not sent; a redirect keeps none of it on the wire.
  CHECK(resolved(base, "/g#frag").rfind("http://a/g", 0) == 0);
  CHECK(resolved(base, "http://[::1]:8080/v6") == "http://[::1]:8080/v6");
  CHECK(resolved(base, "http://bad host/").rfind("error:", 0) == 0);
  CHECK(resolved(base, "http://a:99999/").rfind("error:", 0) == 0);
}

TEST_CASE("redirects: which statuses are followed") {
  for (int s : {301, 302, 303, 307, 308}) CHECK(is_redirect_status(s));
  for (int s : {300, 304, 305, 306, 200, 400, 399}) CHECK_FALSE(is_redirect_status(s));
}

TEST_CASE("plan_redirect: methods and bodies per RFC 9110") {
  const Url here = url("http://h/a");
  auto plan = [&](int status, std::string_view method) {
    return plan_redirect(status, "/b", here, method, RedirectPolicy::always).value();
  };
  // 301 and 302 turn POST into GET (what every client does), keep others.
  CHECK(plan(301, "POST").method == "GET");
  CHECK_FALSE(plan(301, "POST").keep_body);
  CHECK(plan(302, "POST").method == "GET");
  CHECK(plan(302, "PUT").method == "PUT");
  CHECK(plan(301, "GET").method == "GET");
  // 303: GET for everything but HEAD.
  CHECK(plan(303, "PUT").method == "GET");
  CHECK(plan(303, "DELETE").method == "GET");
  CHECK(plan(303, "HEAD").method == "HEAD");
  // 307 and 308: the same method and body.
  CHECK(plan(307, "POST").method == "POST");
  CHECK(plan(307, "POST").keep_body);
  CHECK(plan(308, "PUT").method == "PUT");
  CHECK(plan(308, "PUT").keep_body);
  CHECK(plan(308, "PUT").url.path == "/b");
}

TEST_CASE("plan_redirect: origins, policies and bad locations") {
  const Url http_here = url("http://h/a");
  const Url https_here = url("https://h/a");
  auto go = [](const Url& from, std::string_view to, RedirectPolicy p) {
    return plan_redirect(302, to, from, "GET", p);
  };
  CHECK_FALSE(go(http_here, "/same", RedirectPolicy::always)->cross_origin);
  CHECK(go(http_here, "http://other/", RedirectPolicy::always)->cross_origin);
  CHECK(go(http_here, "http://h:81/", RedirectPolicy::always)->cross_origin);
  CHECK(go(http_here, "https://h/", RedirectPolicy::always)->cross_origin);
  CHECK_FALSE(go(http_here, "http://H:80/x", RedirectPolicy::always)->cross_origin);

  CHECK(go(http_here, "/x", RedirectPolicy::never).error() == errc::redirect_refused);
  CHECK(go(http_here, "https://h/", RedirectPolicy::same_scheme).error() == errc::redirect_refused);
  CHECK(go(http_here, "http://other/", RedirectPolicy::same_scheme));
  CHECK(go(https_here, "http://h/", RedirectPolicy::no_https_to_http).error() ==
        errc::redirect_refused);
  CHECK(go(http_here, "https://h/", RedirectPolicy::no_https_to_http));
  CHECK(go(https_here, "http://h/", RedirectPolicy::always));
  // Only http and https: a Location may not send us to another protocol.
  CHECK(go(http_here, "ftp://h/file", RedirectPolicy::always).error() == errc::redirect_refused);
  CHECK(go(http_here, "gopher://h/", RedirectPolicy::always).error() == errc::redirect_refused);
  // Missing or malformed Location.
  CHECK(plan_redirect(302, std::nullopt, http_here, "GET", RedirectPolicy::always).error() ==
        errc::invalid_response);
  CHECK(go(http_here, "http://bad host/", RedirectPolicy::always).error() ==
        errc::invalid_response);
}

TEST_CASE("origin_form and host_field") {
  CHECK(origin_form(url("http://h")) == "/");
  CHECK(origin_form(url("http://h/a/b?c=d")) == "/a/b?c=d");
  CHECK(host_field(url("http://h/")) == "h");
  CHECK(host_field(url("http://h:80/")) == "h");
  CHECK(host_field(url("http://h:8080/")) == "h:8080");
  CHECK(host_field(url("https://h:443/")) == "h");
  CHECK(host_field(url("http://[::1]:81/")) == "[::1]:81");
}

TEST_CASE("content decoding: gzip, zlib-wrapped and raw deflate, in any split") {
  std::string text;
  for (int i = 0; i < 5000; ++i) text += "line " + std::to_string(i) + "\n";
  CHECK(decode_all(Coding::gzip, compress(text, 15 + 16), 0).value() == text);
  CHECK(decode_all(Coding::deflate, compress(text, 15), 0).value() == text);
  // Some servers send raw deflate for "deflate": accepted too.
  CHECK(decode_all(Coding::deflate, compress(text, -15), 0).value() == text);
  CHECK(decode_all(Coding::gzip, compress(text, 15 + 16), 0, 1).value() == text);
  CHECK(decode_all(Coding::gzip, compress(text, 15 + 16), 0, 1 << 20).value() == text);
  CHECK(decode_all(Coding::gzip, compress("", 15 + 16), 0).value().empty());
}

TEST_CASE("content decoding: a bomb stops at the limit, corrupt and cut streams fail") {
  const std::string zeros(8 << 20, '\0');
  const auto bomb = compress(zeros, 15 + 16);
  CHECK(bomb.size() < 64 * 1024);
  auto limited = decode_all(Coding::gzip, bomb, 1 << 20, 4096);
  REQUIRE_FALSE(limited);
  CHECK(limited.error() == errc::decoded_too_large);
  CHECK(decode_all(Coding::gzip, bomb, 8 << 20, 4096).value().size() == zeros.size());

  auto corrupt = compress("hello hello hello", 15 + 16);
  corrupt[12] = static_cast<char>(corrupt[12] ^ 0x5a);
  corrupt[13] = static_cast<char>(corrupt[13] ^ 0xa5);
  CHECK(decode_all(Coding::gzip, corrupt, 0).error() == errc::invalid_response);
  CHECK(decode_all(Coding::gzip, "this is not gzip at all", 0).error() == errc::invalid_response);

  const auto whole = compress("hello hello hello", 15 + 16);
  CHECK(decode_all(Coding::gzip, whole.substr(0, whole.size() - 4), 0).error() ==
        errc::response_truncated);
  CHECK(decode_all(Coding::gzip, whole + "trailing junk", 0).error() == errc::invalid_response);
}

TEST_CASE("content decoding into a caller's buffer first, the rest spilled, in order") {
  std::string text;
  for (int i = 0; i < 20000; ++i) text += "line " + std::to_string(i) + "\n";
  const auto gzip = compress(text, 15 + 16);
  const std::string zeros(4 << 20, '\0');  // decodes to far more than it takes in
  const auto bomb = compress(zeros, 15 + 16);
  for (std::size_t room : {1u, 100u, 16384u, 16385u, 1u << 20}) {
    for (std::size_t piece : {std::size_t{7}, std::size_t{1} << 20}) {
      CAPTURE(room);
      CAPTURE(piece);
      // As the exchange does: the buffer gets bytes only while none wait in
      // the spill, and the reader takes both before the next piece.
      auto run = [&](const std::string& in) {
        ContentDecoder decoder(Coding::gzip, 0);
        std::vector<char> buffer(room);
        std::string spill;
        std::string got;
        for (std::size_t i = 0; i < in.size(); i += piece) {
          BodyOutput out(spill.empty() ? std::span<char>(buffer) : std::span<char>(), spill);
          REQUIRE(decoder.decode(std::string_view(in).substr(i, piece), out));
          CHECK(out.filled() <= room);
          got.append(buffer.data(), out.filled());
          got += spill;
          spill.clear();
        }
        REQUIRE(decoder.finish());
        return got;
      };
      CHECK(run(gzip) == text);
      CHECK(run(bomb) == zeros);
    }
  }
  // put(): the same for bytes that need no decoding.
  std::string spill;
  std::vector<char> buffer(4);
  BodyOutput out(buffer, spill);
  out.put("ab");
  out.put("cdef");
  CHECK(std::string(buffer.data(), out.filled()) == "abcd");
  CHECK(spill == "ef");
}

TEST_CASE("content decoding: which Content-Encoding values are decoded") {
  CHECK(decodable_coding("gzip") == Coding::gzip);
  CHECK(decodable_coding("X-GZIP") == Coding::gzip);
  CHECK(decodable_coding("Deflate") == Coding::deflate);
  CHECK(decodable_coding(" gzip ") == Coding::gzip);
  CHECK_FALSE(decodable_coding("br"));
  CHECK_FALSE(decodable_coding("identity"));
  CHECK_FALSE(decodable_coding("gzip, br"));
  CHECK_FALSE(decodable_coding(""));
}

TEST_CASE("Basic credentials: base64 per RFC 4648, user:password per RFC 7617") {
  CHECK(base64_encode("") == "");
  CHECK(base64_encode("f") == "Zg==");
  CHECK(base64_encode("fo") == "Zm8=");
  CHECK(base64_encode("foo") == "Zm9v");
  CHECK(base64_encode("foobar") == "Zm9vYmFy");
  CHECK(base64_encode(std::string("\xff\xfe\x00", 3)) == "//4A");
  CHECK(basic_credentials("Aladdin", "open sesame") == "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
  CHECK(basic_credentials("test", "123\xc2\xa3") == "Basic dGVzdDoxMjPCow==");
}

TEST_CASE("Content-Range: bytes first-last/complete") {
  using uvinet::http::parse_content_range;
  auto r = parse_content_range("bytes 0-499/1234").value();
  CHECK(r.first == 0);
  CHECK(r.last == 499);
  CHECK(r.complete_length == 1234);
  auto open = parse_content_range("bytes 500-999/*").value();
  CHECK_FALSE(open.complete_length);
  CHECK(parse_content_range("Bytes 1-1/2"));
  CHECK(parse_content_range("bytes 500-499/1234").error() == errc::invalid_argument);
  CHECK(parse_content_range("bytes 0-499/100").error() == errc::invalid_argument);
  CHECK(parse_content_range("bytes */1234").error() == errc::invalid_argument);
  CHECK(parse_content_range("items 0-1/2").error() == errc::invalid_argument);
  CHECK(parse_content_range("bytes 0-").error() == errc::invalid_argument);
  CHECK(parse_content_range("bytes 0-99999999999999999999999/1").error() == errc::invalid_argument);
  CHECK(parse_content_range("").error() == errc::invalid_argument);
}

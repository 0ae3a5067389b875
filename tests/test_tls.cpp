// HTTPS against a real nginx with certificates made for this run by
// tests/support/make_test_pki.sh: a good one, an expired one, one for
// another name, one from a CA the client does not trust, and client
// certificates nginx requires. Every failure ends in its own error; nothing
// hangs. The host is "localhost": mbedTLS 2.28 checks DNS names only, not
// IP addresses (its iPAddress support came in 3.x).
#include <doctest/doctest.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>

#include "support/http_client.hpp"
#include "support/nginx.hpp"
#include "support/script_server.hpp"
#include "support/tcp_relay.hpp"
#include "support/test_pki.hpp"

namespace http = uvinet::http;
namespace fs = std::filesystem;
using test_support::fetch;
using test_support::HttpSession;
using uvinet::errc;
using uvinet::Option;
using uvinet::Status;
using uvinet_test::Nginx;
using uvinet_test::TcpRelay;

namespace {

using uvinet_test::pki;

using uvinet_test::localhost_url;

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

void trust_test_ca(HttpSession& s) {
  REQUIRE(s.session.set_option(Option::ca_file, pki().file("ca.pem")));
}

// The secure_failure notifications the session saw, their texts joined.
std::string secure_failures(const HttpSession& s) {
  std::string texts;
  for (const auto& e : s.recorder.events()) {
    if (e.status == Status::secure_failure) texts += e.info.text + "\n";
  }
  return texts;
}

// The text of the secure_failure a failed request was told of. A failed
// open_url returns before its handles finish closing, so the notification
// may still be on its way.
std::string wait_for_secure_failure(const HttpSession& s) {
  CHECK(test_support::wait_until([&] { return !secure_failures(s).empty(); }));
  return secure_failures(s);
}

// One GET that must fail; its error.
uvinet::Error failure_of(HttpSession& s, const std::string& url) {
  auto fetched = fetch(s, url);
  REQUIRE_MESSAGE(!fetched, "expected a failure, got status " << fetched->status);
  return fetched.error();
}

}  // namespace

TEST_CASE("tls: a good certificate from the trusted CA gives the body intact") {
  Nginx nginx(uvinet_test::https_nginx("good"));
  HttpSession s;
  trust_test_ca(s);
  auto fetched = fetch(s, localhost_url(nginx.port(), "/64k.bin"));
  REQUIRE_MESSAGE(fetched, fetched.error().message());
  CHECK(fetched->status == 200);
  CHECK(uvinet_test::Checksum::of(fetched->body) ==
        uvinet_test::Checksum::of(nginx.file("/64k.bin")));
  CHECK(secure_failures(s).empty());

  SUBCASE("a large body over many records, and the connection reused") {
    auto large = fetch(s, localhost_url(nginx.port(), "/large.bin"));
    REQUIRE_MESSAGE(large, large.error().message());
    CHECK(uvinet_test::Checksum::of(large->body) == nginx.large_checksum());
    const auto log = nginx.wait_for_access_log(2);
    REQUIRE(log.size() == 2);
    CHECK(Nginx::connection_count(log) == 1);
  }

  SUBCASE("read_data_into: records decrypted straight into large buffers, copied to small ones") {
    for (std::size_t size : {std::size_t{1} << 20, std::size_t{1000}, std::size_t{64} << 10}) {
      CAPTURE(size);
      auto large = test_support::fetch_into(s, localhost_url(nginx.port(), "/large.bin"), size);
      REQUIRE_MESSAGE(large, large.error().message());
      CHECK(uvinet_test::Checksum::of(*large) == nginx.large_checksum());
    }
    const auto log = nginx.wait_for_access_log(4);
    REQUIRE(log.size() == 4);
    CHECK(Nginx::connection_count(log) == 1);
  }
}

TEST_CASE("tls: the CA can come as PEM text instead of a file") {
  Nginx nginx(uvinet_test::https_nginx("good"));
  HttpSession s;
  REQUIRE(s.session.set_option(Option::ca_pem, read_text(pki().file("ca.pem"))));
  auto fetched = fetch(s, localhost_url(nginx.port(), "/1k.bin"));
  REQUIRE_MESSAGE(fetched, fetched.error().message());
  CHECK(fetched->body == nginx.file("/1k.bin"));
}

TEST_CASE("tls: the CA can come from a directory") {
  Nginx nginx(uvinet_test::https_nginx("good"));
  HttpSession s;
  REQUIRE(s.session.set_option(Option::ca_directory, pki().file("cadir")));
  auto fetched = fetch(s, localhost_url(nginx.port(), "/1k.bin"));
  REQUIRE_MESSAGE(fetched, fetched.error().message());
  CHECK(fetched->body == nginx.file("/1k.bin"));
}

TEST_CASE("tls: a certificate from an unknown CA is certificate_untrusted") {
  Nginx nginx(uvinet_test::https_nginx("untrusted"));
  HttpSession s;
  trust_test_ca(s);
  const auto e = failure_of(s, localhost_url(nginx.port(), "/1k.bin"));
  CHECK_MESSAGE(e.code() == errc::certificate_untrusted, e.message());
  CHECK(e.message().find("localhost") != std::string::npos);
  const std::string told = wait_for_secure_failure(s);
  CHECK_MESSAGE(told.find("not correctly signed by the trusted CA") != std::string::npos, told);
}

TEST_CASE("tls: without ca options the system CAs are used, and they know no test CA") {
  Nginx nginx(uvinet_test::https_nginx("good"));
  HttpSession s;
  const auto e = failure_of(s, localhost_url(nginx.port(), "/1k.bin"));
  CHECK_MESSAGE(e.code() == errc::certificate_untrusted, e.message());
}

TEST_CASE("tls: a certificate for another name is certificate_name_mismatch") {
  Nginx nginx(uvinet_test::https_nginx("wrong"));
  HttpSession s;
  trust_test_ca(s);
  const auto e = failure_of(s, localhost_url(nginx.port(), "/1k.bin"));
  CHECK_MESSAGE(e.code() == errc::certificate_name_mismatch, e.message());
  const std::string told = wait_for_secure_failure(s);
  CHECK_MESSAGE(told.find("Common Name") != std::string::npos, told);
}

TEST_CASE("tls: an expired certificate is certificate_expired") {
  Nginx nginx(uvinet_test::https_nginx("expired"));
  HttpSession s;
  trust_test_ca(s);
  const auto e = failure_of(s, localhost_url(nginx.port(), "/1k.bin"));
  CHECK_MESSAGE(e.code() == errc::certificate_expired, e.message());
  const std::string told = wait_for_secure_failure(s);
  CHECK_MESSAGE(told.find("expired") != std::string::npos, told);
}

TEST_CASE("tls: a certificate in crl_file is certificate_revoked") {
  Nginx nginx(uvinet_test::https_nginx("revoked"));
  HttpSession s;
  trust_test_ca(s);
  SUBCASE("with the CRL") {
    REQUIRE(s.session.set_option(Option::crl_file, pki().file("crl.pem")));
    const auto e = failure_of(s, localhost_url(nginx.port(), "/1k.bin"));
    CHECK_MESSAGE(e.code() == errc::certificate_revoked, e.message());
    const std::string told = wait_for_secure_failure(s);
    CHECK_MESSAGE(told.find("revoked") != std::string::npos, told);
  }
  SUBCASE("without it, nothing says the certificate was revoked") {
    auto fetched = fetch(s, localhost_url(nginx.port(), "/1k.bin"));
    REQUIRE_MESSAGE(fetched, fetched.error().message());
    CHECK(fetched->status == 200);
  }
}

TEST_CASE("tls: insecure_skip_verify=1 accepts a certificate nobody vouches for") {
  Nginx nginx(uvinet_test::https_nginx("untrusted"));
  HttpSession s;
  s.set(Option::insecure_skip_verify, 1);
  auto fetched = fetch(s, localhost_url(nginx.port(), "/1k.bin"));
  REQUIRE_MESSAGE(fetched, fetched.error().message());
  CHECK(fetched->body == nginx.file("/1k.bin"));
  CHECK(secure_failures(s).empty());
}

TEST_CASE("tls: a verified connection is not reused once insecure_skip_verify changes") {
  Nginx nginx(uvinet_test::https_nginx("good"));
  HttpSession s;
  trust_test_ca(s);
  REQUIRE(fetch(s, localhost_url(nginx.port(), "/1k.bin")));
  s.set(Option::insecure_skip_verify, 1);
  REQUIRE(fetch(s, localhost_url(nginx.port(), "/1k.bin")));
  const auto log = nginx.wait_for_access_log(2);
  REQUIRE(log.size() == 2);
  CHECK(Nginx::connection_count(log) == 2);
}

TEST_CASE("tls: https to a plain HTTP server is tls_handshake_failed, not a hang") {
  Nginx nginx;  // speaks HTTP: it answers the ClientHello with a 400 and closes
  HttpSession s;
  trust_test_ca(s);
  const auto e = failure_of(s, localhost_url(nginx.port(), "/1k.bin"));
  CHECK_MESSAGE(e.code() == errc::tls_handshake_failed, e.message());
  CHECK(e.message().find("TLS handshake") != std::string::npos);
}

TEST_CASE("tls: plain http to the TLS port gets nginx's own 400, not a hang") {
  Nginx nginx(uvinet_test::https_nginx("good"));
  HttpSession s;
  auto fetched = fetch(s, "http://localhost:" + std::to_string(nginx.port()) + "/1k.bin");
  REQUIRE_MESSAGE(fetched, fetched.error().message());
  CHECK(fetched->status == 400);
  CHECK(fetched->body.find("plain HTTP request was sent to HTTPS port") != std::string::npos);
}

TEST_CASE("tls: a server that never answers the handshake runs into connect_timeout") {
  uvinet_test::ScriptServer server(uvinet_test::Script().never_answer());
  HttpSession s;
  trust_test_ca(s);
  s.set(Option::connect_timeout_ms, 300);
  const auto e = failure_of(s, localhost_url(server.port(), "/"));
  CHECK_MESSAGE(e.code() == errc::connect_timeout, e.message());
  CHECK(e.message().find("TLS handshake") != std::string::npos);
}

TEST_CASE("tls: a server that requires a client certificate") {
  Nginx nginx(uvinet_test::https_nginx("good", true));
  HttpSession s;
  trust_test_ca(s);
  SUBCASE("without one, nginx refuses the request") {
    // nginx completes the handshake and answers 400 itself.
    auto fetched = fetch(s, localhost_url(nginx.port(), "/1k.bin"));
    REQUIRE_MESSAGE(fetched, fetched.error().message());
    CHECK(fetched->status == 400);
    CHECK(fetched->body.find("No required SSL certificate was sent") != std::string::npos);
  }
  SUBCASE("with client_cert_file and client_key_file, it serves") {
    REQUIRE(s.session.set_option(Option::client_cert_file, pki().file("client.pem")));
    REQUIRE(s.session.set_option(Option::client_key_file, pki().file("client.key")));
    auto fetched = fetch(s, localhost_url(nginx.port(), "/1k.bin"));
    REQUIRE_MESSAGE(fetched, fetched.error().message());
    CHECK(fetched->status == 200);
    CHECK(fetched->body == nginx.file("/1k.bin"));
  }
  SUBCASE("a certificate file that does not exist is tls_error") {
    REQUIRE(s.session.set_option(Option::client_cert_file, pki().file("absent.pem")));
    REQUIRE(s.session.set_option(Option::client_key_file, pki().file("client.key")));
    const auto e = failure_of(s, localhost_url(nginx.port(), "/1k.bin"));
    CHECK_MESSAGE(e.code() == errc::tls_error, e.message());
    CHECK(e.message().find("absent.pem") != std::string::npos);
  }
}

TEST_CASE("tls: redirects between http and https follow the redirect policy") {
  Nginx secure(uvinet_test::https_nginx("good"));
  Nginx::Options plain_options;
  plain_options.absolute_redirect = false;
  Nginx plain(plain_options);
  HttpSession s;
  trust_test_ca(s);
  const std::string to_https =
      plain.url("/redirect/302?to=" + localhost_url(secure.port(), "/1k.bin"));
  const std::string to_http =
      localhost_url(secure.port(), "/redirect/302?to=" + plain.url("/64k.bin"));
  SUBCASE("http to https is followed by default") {
    auto fetched = fetch(s, to_https);
    REQUIRE_MESSAGE(fetched, fetched.error().message());
    CHECK(fetched->status == 200);
    CHECK(fetched->body == secure.file("/1k.bin"));
    CHECK(fetched->response.url == localhost_url(secure.port(), "/1k.bin"));
  }
  SUBCASE("https to http is refused by default") {
    const auto e = failure_of(s, to_http);
    CHECK_MESSAGE(e.code() == errc::redirect_refused, e.message());
  }
  SUBCASE("https to http is followed with RedirectPolicy::always") {
    s.set(Option::redirect_policy, static_cast<std::int64_t>(uvinet::RedirectPolicy::always));
    auto fetched = fetch(s, to_http);
    REQUIRE_MESSAGE(fetched, fetched.error().message());
    CHECK(fetched->body == plain.file("/64k.bin"));
  }
}

TEST_CASE("tls: an upload of many records is stored byte for byte") {
  Nginx nginx(uvinet_test::https_nginx("good"));
  HttpSession s;
  trust_test_ca(s);
  const std::string body = uvinet_test::pattern(1'000'000, 11);
  http::OpenUrlOptions put;
  put.method = "PUT";
  put.body = body;
  auto stored = fetch(s, localhost_url(nginx.port(), "/upload/tls"), put);
  REQUIRE_MESSAGE(stored, stored.error().message());
  CHECK(stored->status == 201);
  CHECK(nginx.uploaded("tls") == body);
}

TEST_CASE("tls: nginx closing without a response (444) is an error, not a hang") {
  Nginx nginx(uvinet_test::https_nginx("good"));
  HttpSession s;
  trust_test_ca(s);
  const auto e = failure_of(s, localhost_url(nginx.port(), "/status/444"));
  CHECK_MESSAGE(e.code() == errc::connection_closed, e.message());
  CHECK(e.message().find("before responding") != std::string::npos);
}

TEST_CASE("tls: a new connection to the same server resumes the TLS session") {
  auto options = uvinet_test::https_nginx("good");
  // "r" when the handshake resumed a session, "." after a full one.
  options.server_config = "location = /reused { return 200 \"$ssl_session_reused\"; }";
  Nginx nginx(options);
  HttpSession s;
  trust_test_ca(s);
  http::OpenUrlOptions fresh_connection;
  fresh_connection.flags = http::no_keep_alive;
  const auto url = localhost_url(nginx.port(), "/reused");
  auto first = fetch(s, url, fresh_connection);
  REQUIRE_MESSAGE(first, first.error().message());
  CHECK(first->body == ".");
  auto second = fetch(s, url, fresh_connection);
  REQUIRE_MESSAGE(second, second.error().message());
  CHECK(second->body == "r");
  const auto log = nginx.wait_for_access_log(2);
  REQUIRE(log.size() == 2);
  CHECK(Nginx::connection_count(log) == 2);  // two connections, one full handshake

  SUBCASE("other TLS settings do not share the session") {
    REQUIRE(s.session.set_option(Option::client_cert_file, pki().file("client.pem")));
    REQUIRE(s.session.set_option(Option::client_key_file, pki().file("client.key")));
    auto other = fetch(s, url, fresh_connection);
    REQUIRE_MESSAGE(other, other.error().message());
    CHECK(other->body == ".");
  }
}

TEST_CASE("tls: CA files are read on a worker, never on the loop thread") {
  // The CA "file" is a FIFO: reading it blocks until this test writes it.
  // Were it read on the loop thread, the plain request below could not run.
  const fs::path fifo = fs::temp_directory_path() / ("uvinet-ca-fifo-" + std::to_string(getpid()));
  fs::remove(fifo);
  REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
  Nginx secure(uvinet_test::https_nginx("good"));
  Nginx plain;
  HttpSession blocked;
  REQUIRE(blocked.session.set_option(Option::ca_file, fifo.string()));
  std::promise<uvinet::Result<uvinet::Request>> opened_promise;
  auto opened_future = opened_promise.get_future();
  uvinet::AsyncContext<uvinet::Request> opened{
      [&](uvinet::Result<uvinet::Request> r) { opened_promise.set_value(std::move(r)); }};
  auto started =
      http::open_url(blocked.session, localhost_url(secure.port(), "/1k.bin"), {}, &opened);
  REQUIRE(started.pending());

  HttpSession other;
  std::promise<uvinet::Result<test_support::Fetched>> plain_promise;
  auto plain_future = plain_promise.get_future();
  std::thread plain_fetch([&] { plain_promise.set_value(fetch(other, plain.url("/1k.bin"))); });
  const bool plain_done =
      plain_future.wait_for(std::chrono::seconds(30)) == std::future_status::ready;

  // Let the worker's read go on, whatever happened: opening the FIFO's
  // other end ends the reader's wait. A FIFO is no file mbedTLS can load
  // (it seeks to learn the size), so the request then fails.
  int writer = -1;
  for (int i = 0; i < 3000 && writer < 0; ++i) {
    writer = open(fifo.c_str(), O_WRONLY | O_NONBLOCK);  // ENXIO until the reader opens
    if (writer < 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (writer >= 0) close(writer);
  plain_fetch.join();
  fs::remove(fifo);
  CHECK_MESSAGE(writer >= 0, "nobody opened the CA file to read it");

  REQUIRE_MESSAGE(plain_done, "a plain request waited for another session's CA file");
  auto fetched = plain_future.get();
  REQUIRE_MESSAGE(fetched, fetched.error().message());
  CHECK(fetched->status == 200);
  REQUIRE(opened_future.wait_for(std::chrono::seconds(30)) == std::future_status::ready);
  auto result = opened_future.get();
  REQUIRE_FALSE(result);
  CHECK(result.error() == errc::tls_error);
  CHECK(result.error().message().find(fifo.string()) != std::string::npos);
}

TEST_CASE("tls: ALPN offers http/1.1 only, so a server that speaks HTTP/2 answers in HTTP/1.1") {
  auto options = uvinet_test::https_nginx("good");
  options.tls->http2 = true;
  Nginx nginx(options);
  HttpSession s;
  trust_test_ca(s);
  auto fetched = fetch(s, localhost_url(nginx.port(), "/alpn"));
  REQUIRE_MESSAGE(fetched, fetched.error().message());
  CHECK(fetched->status == 200);
  CHECK(fetched->response.version == "HTTP/1.1");
  CHECK(fetched->body == "http/1.1");  // "" had no protocol been offered
}

namespace {
// The error of a GET of /large.bin whose connection a relay cuts after
// 256 KiB of the encrypted response.
uvinet::Error error_when_cut(TcpRelay::Cut cut) {
  Nginx nginx(uvinet_test::https_nginx("good"));
  TcpRelay relay(nginx.port(), {.cut_after = 256 * 1024, .cut = cut});
  HttpSession s;
  trust_test_ca(s);
  auto error = failure_of(s, localhost_url(relay.port(), "/large.bin"));
  CHECK(relay.errors().empty());
  return error;
}
}  // namespace

TEST_CASE("tls: a reset in the middle of an encrypted body is connection_reset, not a hang") {
  const auto error = error_when_cut(TcpRelay::Cut::reset);
  CHECK_MESSAGE(error == errc::connection_reset, error.message());
}

TEST_CASE("tls: a close without close_notify in the middle of a body is response_truncated") {
  const auto error = error_when_cut(TcpRelay::Cut::close);
  CHECK_MESSAGE(error == errc::response_truncated, error.message());
}

TEST_CASE("tls: closing the session ends its pooled TLS connection with close_notify") {
  Nginx nginx(uvinet_test::https_nginx("good"));
  TcpRelay relay(nginx.port(), {});
  {
    HttpSession s;
    trust_test_ca(s);
    auto fetched = fetch(s, localhost_url(relay.port(), "/1k.bin"));
    REQUIRE_MESSAGE(fetched, fetched.error().message());
  }  // the session closes, and its pool with it
  REQUIRE(relay.wait_ended(1));
  // Walk the TLS records the client sent (type, version, 2-byte length):
  // they must fill the stream exactly, and the last must be an alert
  // (type 21). In TLS 1.2 its level and description are encrypted; an
  // alert after the application data is close_notify.
  const std::string sent = relay.from_client(0);
  std::size_t at = 0;
  unsigned last_type = 0;
  while (at + 5 <= sent.size()) {
    last_type = static_cast<unsigned char>(sent[at]);
    at += 5 + (static_cast<unsigned char>(sent[at + 3]) << 8 |
               static_cast<unsigned char>(sent[at + 4]));
  }
  CHECK(at == sent.size());
  CHECK(last_type == 21);
  CHECK(relay.errors().empty());
}

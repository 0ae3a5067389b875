// Proves the test harnesses (support/nginx.hpp, support/script_server.hpp)
// do what they say, with a plain blocking socket client written here, so the
// HTTP client tests can trust them. Short on purpose: one check per feature.
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <stdexcept>
#include <string>

#include "support/nginx.hpp"
#include "support/process.hpp"
#include "support/script_server.hpp"

namespace {

using namespace std::chrono_literals;
using uvinet_test::Checksum;
using uvinet_test::Nginx;
using uvinet_test::pattern;
using uvinet_test::Script;
using uvinet_test::ScriptServer;

struct Response {
  int status = 0;
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;                            // de-chunked
  std::string raw_body;                        // as it came
  std::string header(const std::string& name) const {
    const auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

// A blocking HTTP/1.1 client, just enough to look at what the servers send.
// Every read and write times out (a hang guard, never an expected outcome,
// except where a test shortens it).
class Client {
 public:
  explicit Client(std::uint16_t port, std::chrono::milliseconds timeout = 10s) {
    sockaddr_in addr;
    fd_ = uvinet_test::loopback_socket(port, addr);
    const timeval tv{static_cast<time_t>(timeout.count() / 1000),
                     static_cast<suseconds_t>(timeout.count() % 1000 * 1000)};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      ::close(fd_);
      uvinet_test::throw_failure("connect");
    }
  }
  ~Client() { ::close(fd_); }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  void send(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) uvinet_test::throw_failure("send");
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
  }

  // One recv into the buffer: false at EOF; throws on errors.
  bool fill() {
    char chunk[16384];
    const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n < 0) {
      error_ = errno;
      uvinet_test::throw_failure("recv");
    }
    buffer_.append(chunk, static_cast<std::size_t>(n));
    return n > 0;
  }
  std::string take(std::size_t n) {
    while (buffer_.size() < n) {
      if (!fill()) throw std::runtime_error("EOF after " + std::to_string(buffer_.size()));
    }
    std::string out = buffer_.substr(0, n);
    buffer_.erase(0, n);
    return out;
  }
  std::string take_until(std::string_view delimiter) {
    std::size_t at;
    while ((at = buffer_.find(delimiter)) == std::string::npos) {
      if (!fill()) throw std::runtime_error("EOF before " + std::string(delimiter));
    }
    return take(at + delimiter.size());
  }
  std::string take_all() {
    while (fill()) {
    }
    return take(buffer_.size());
  }
  // The errno a read ends with (0 at EOF): tells a reset from a close.
  int read_error() {
    try {
      take_all();
      return 0;
    } catch (const std::runtime_error&) {
      return error_;
    }
  }

  Response response() {
    Response r;
    const std::string head = take_until("\r\n\r\n");
    r.status = std::atoi(head.c_str() + 9);  // "HTTP/1.1 200 ..."
    for (std::size_t pos = head.find("\r\n") + 2; pos + 2 < head.size();) {
      const std::size_t end = head.find("\r\n", pos);
      const std::string line = head.substr(pos, end - pos);
      std::string name = line.substr(0, line.find(':'));
      for (char& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      r.headers[name] = line.substr(line.find(':') + 2);
      pos = end + 2;
    }
    if (r.header("transfer-encoding") == "chunked") {
      for (;;) {
        const std::string size_line = take_until("\r\n");
        const std::size_t size = std::stoul(size_line, nullptr, 16);
        r.raw_body += size_line;
        const std::string data = take(size + 2);
        r.raw_body += data;
        r.body += data.substr(0, size);
        if (size == 0) break;  // no trailers from nginx
      }
    } else if (!r.header("content-length").empty()) {
      r.raw_body = r.body = take(std::stoul(r.header("content-length")));
    } else if (r.status != 204 && r.status != 304) {
      r.raw_body = r.body = take_all();
    }
    return r;
  }

 private:
  int fd_ = -1;
  int error_ = 0;  // of the last failed recv
  std::string buffer_;
};

std::string get(std::string_view path, std::string_view extra_headers = "") {
  return "GET " + std::string(path) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
         std::string(extra_headers) + "\r\n";
}

Response fetch(const Nginx& server, std::string_view path, std::string_view extra = "") {
  Client client(server.port());
  client.send(get(path, extra));
  return client.response();
}

std::string gunzip(const std::string& in) {
  z_stream z{};
  REQUIRE(inflateInit2(&z, 16 + MAX_WBITS) == Z_OK);
  std::string out(1 << 20, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = inflate(&z, Z_FINISH);
  out.resize(z.total_out);
  inflateEnd(&z);
  CHECK(rc == Z_STREAM_END);
  return out;
}

}  // namespace

// ------------------------------------------------------------------- Nginx

TEST_CASE("nginx serves the generated files byte for byte, and 404 for others") {
  Nginx server;
  const Response small = fetch(server, "/1k.bin");
  CHECK(small.status == 200);
  CHECK(small.body == pattern(Nginx::small_size, Nginx::small_seed));
  CHECK(fetch(server, "/64k.bin").body == pattern(Nginx::medium_size, Nginx::medium_seed));
  CHECK(fetch(server, "/empty.bin").body.empty());

  const Response large = fetch(server, "/large.bin");
  CHECK(large.body.size() == 8u << 20);
  CHECK(Checksum::of(large.body) == server.large_checksum());
  CHECK(large.body == pattern(8u << 20, Nginx::large_seed));

  CHECK(fetch(server, "/missing").status == 404);
}

TEST_CASE("nginx gzips text only when asked, and /chunked/ answers chunked") {
  Nginx server;
  const Response plain = fetch(server, "/text.txt");
  CHECK(plain.header("content-encoding").empty());
  CHECK(plain.body == server.file("/text.txt"));

  const Response zipped = fetch(server, "/text.txt", "Accept-Encoding: gzip\r\n");
  CHECK(zipped.header("content-encoding") == "gzip");
  CHECK(zipped.body.size() < plain.body.size());
  CHECK(gunzip(zipped.body) == plain.body);

  const Response chunked = fetch(server, "/chunked/64k.bin");
  CHECK(chunked.header("transfer-encoding") == "chunked");
  CHECK(chunked.header("content-length").empty());
  CHECK(chunked.raw_body.size() > chunked.body.size());  // chunk framing really was there
  CHECK(chunked.body == server.file("/64k.bin"));
}

TEST_CASE("nginx redirects: each code, ?to=, a chain, a loop, another host") {
  Nginx other;
  Nginx server;
  for (int code : {301, 302, 303, 307, 308}) {
    const Response r = fetch(server, "/redirect/" + std::to_string(code));
    CHECK(r.status == code);
    CHECK(r.header("location") == "/1k.bin");
  }
  CHECK(fetch(server, "/redirect/307?to=/64k.bin").header("location") == "/64k.bin");
  CHECK(fetch(server, "/redirect/chain/a").header("location") == "/redirect/chain/b");
  CHECK(fetch(server, "/redirect/chain/b").header("location") == "/redirect/chain/c");
  CHECK(fetch(server, "/redirect/chain/c").body == "end of chain\n");
  CHECK(fetch(server, "/redirect/loop/b").header("location") == "/redirect/loop/a");

  const std::string target = other.url("/1k.bin");
  CHECK(fetch(server, "/redirect/302?to=" + target).header("location") == target);
  CHECK(fetch(other, "/1k.bin").body == server.file("/1k.bin"));
}

TEST_CASE("nginx fixed statuses; 444 closes without answering") {
  Nginx server;
  CHECK(fetch(server, "/status/200").status == 200);
  const Response no_content = fetch(server, "/status/204");
  CHECK(no_content.status == 204);
  CHECK(no_content.body.empty());
  CHECK(fetch(server, "/status/418").status == 418);
  CHECK(fetch(server, "/status/503").status == 503);

  Client client(server.port());
  client.send(get("/status/444"));
  CHECK(client.take_all().empty());
}

TEST_CASE("nginx stores PUT and POST bodies byte for byte") {
  Nginx server;
  const std::string body = pattern(100'000, 42);
  {
    Client client(server.port());
    client.send("PUT /upload/dir/put.bin HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: " +
                std::to_string(body.size()) + "\r\n\r\n" + body);
    CHECK(client.response().status == 201);
    CHECK(server.uploaded("dir/put.bin") == body);
  }
  {
    // A chunked POST: nginx puts the chunks back together.
    Client client(server.port());
    client.send(
        "POST /post/post.bin HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n");
    for (std::size_t at = 0; at < body.size(); at += 30'000) {
      const std::string part = body.substr(at, 30'000);
      char size[16];
      std::snprintf(size, sizeof size, "%zx\r\n", part.size());
      client.send(size + part + "\r\n");
    }
    client.send("0\r\n\r\n");
    CHECK(client.response().status == 201);
    CHECK(server.uploaded("post.bin") == body);
  }
  CHECK_FALSE(server.uploaded("never.bin"));
}

TEST_CASE("nginx access log: one connection, two requests; keepalive_requests; /close/") {
  Nginx::Options options;
  options.keepalive_requests = 2;
  Nginx server(options);
  {
    Client client(server.port());
    client.send(get("/1k.bin"));
    CHECK(client.response().header("connection") == "keep-alive");
    client.send(get("/64k.bin"));
    CHECK(client.response().header("connection") == "close");  // its 2nd and last request
    CHECK(client.take_all().empty());
  }
  CHECK(fetch(server, "/close/1k.bin").header("connection") == "close");

  const auto log = server.wait_for_access_log(3);
  REQUIRE(log.size() == 3);
  CHECK(log[0].connection == log[1].connection);
  CHECK(log[0].connection_requests == 1);
  CHECK(log[1].connection_requests == 2);
  CHECK(log[1].uri == "/64k.bin");
  CHECK(log[1].body_bytes_sent == Nginx::medium_size);
  CHECK(log[2].connection != log[0].connection);
  CHECK(Nginx::connection_count(log) == 2);
}

TEST_CASE("nginx takes test files and config; /slow/ is slow") {
  Nginx::Options options;
  options.files = {{"extra/hello.txt", "hello\n"}, {"32k.bin", pattern(32768, 7)}};
  options.server_config = "location = /extra { return 200 \"extra\"; }";
  options.slow_rate = 32768;
  Nginx server(options);
  CHECK(fetch(server, "/extra/hello.txt").body == "hello\n");
  CHECK(fetch(server, "/extra").body == "extra");

  const auto start = std::chrono::steady_clock::now();
  CHECK(fetch(server, "/slow/32k.bin").body == pattern(32768, 7));
  // limit_rate lets the first write have one second's worth (less the
  // head), then waits sent/rate before the rest: about a second here.
  CHECK(std::chrono::steady_clock::now() - start >= 500ms);
}

TEST_CASE("nginx that cannot start says why, and leaves nothing behind") {
  Nginx::Options options;
  options.server_config = "no_such_directive on;";
  std::string message;
  try {
    Nginx server(options);
  } catch (const std::runtime_error& e) {
    message = e.what();
  }
  CHECK(message.find("unknown directive \"no_such_directive\"") != std::string::npos);
  CHECK(message.find("config line") != std::string::npos);
  const auto in = message.find("(in ");
  REQUIRE(in != std::string::npos);
  const std::string dir = message.substr(in + 4, message.find(')') - in - 4);
  CHECK(dir.find("uvinet-nginx-") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(dir));
}

// ------------------------------------------------------------- ScriptServer

TEST_CASE("ScriptServer plays a script, records what it read, then closes") {
  const std::string reply = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi";
  ScriptServer server(Script().expect_request().send(reply).close());
  const std::string request = "POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello";
  Client client(server.port());
  client.send(request);
  CHECK(client.take_all() == reply);  // then EOF: a FIN
  CHECK(server.wait_done(1));
  CHECK(server.received(0) == request);
  CHECK(server.bytes_received(0) == request.size());
  CHECK(server.connections() == 1);
  CHECK(server.errors().empty());
}

TEST_CASE("ScriptServer reads chunked bodies and reports unexpected bytes") {
  ScriptServer server(Script().expect_request().send("ok").expect("PING").send("never"));
  Client client(server.port());
  const std::string request =
      "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-T: 1\r\n\r\n";
  client.send(request);
  CHECK(client.take(2) == "ok");
  client.send("PONG");
  CHECK(client.take_all().empty());  // the failed step closes the connection
  CHECK(server.wait_done(1));
  CHECK(server.received(0) == request + "PONG");
  REQUIRE(server.errors().size() == 1);
  CHECK(server.errors()[0] == R"(connection 0, step 3 (expect): expected "PING", got "PONG")");
}

TEST_CASE("ScriptServer: reset sends RST, per-connection scripts, connection count") {
  ScriptServer server({Script().expect("a").send("first").reset(), Script().send("second")});
  {
    Client client(server.port());
    client.send("a");
    CHECK(client.take(5) == "first");
    CHECK(client.read_error() == ECONNRESET);
  }
  {
    Client client(server.port());
    CHECK(client.take_all() == "second");
  }
  {
    Client client(server.port());  // beyond the list: the last script again
    CHECK(client.take_all() == "second");
  }
  CHECK(server.wait_done(3));
  CHECK(server.connections() == 3);
  CHECK(server.errors().empty());
}

TEST_CASE("ScriptServer: send_slowly and pause take their time; never_answer holds") {
  ScriptServer server(Script().send_slowly("abcd", 40ms).pause(100ms).send("!").never_answer());
  Client client(server.port(), 400ms);
  const auto start = std::chrono::steady_clock::now();
  CHECK(client.take(1) == "a");
  CHECK(client.take(4) == "bcd!");
  CHECK(std::chrono::steady_clock::now() - start >= 220ms);  // 3 delays and the pause
  CHECK(client.read_error() == EAGAIN);  // nothing more, and no close: held open
  CHECK(server.wait_done(1));
}

TEST_CASE("ScriptServer: a step that gets nothing fails after step_timeout") {
  ScriptServer::Options options;
  options.step_timeout = 100ms;
  ScriptServer server(Script().expect_head().send("unreached"), options);
  Client client(server.port());
  CHECK(client.take_all().empty());
  CHECK(server.wait_done(1));
  REQUIRE(server.errors().size() == 1);
  CHECK(server.errors()[0].find("no progress for 100 ms") != std::string::npos);
}

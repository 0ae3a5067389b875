// The built `uvinet get` (path in $UVINET_TOOL) run as a program against a
// real nginx (support/nginx.hpp): saved files, stdout, failures, HEAD,
// resume, upload, POST and redirects, checked by exit status, output bytes
// and nginx's access log.
#include <doctest/doctest.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "support/nginx.hpp"
#include "support/process.hpp"
#include "support/test_pki.hpp"

namespace {

namespace fs = std::filesystem;
using uvinet_test::Checksum;
using uvinet_test::Nginx;
using uvinet_test::ProgramResult;
using uvinet_test::shared_nginx;

/// A fresh directory, removed with everything in it at the end of the case.
struct TempDir {
  TempDir() {
    std::string templ = (fs::temp_directory_path() / "uvinet-get-XXXXXX").string();
    REQUIRE(::mkdtemp(templ.data()) != nullptr);
    path = templ;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  fs::path path;
};

ProgramResult get(std::vector<std::string> args) {
  const char* tool = std::getenv("UVINET_TOOL");
  REQUIRE_MESSAGE(tool, "UVINET_TOOL is not set: run this test with meson test");
  args.insert(args.begin(), {tool, "get"});
  auto r = uvinet_test::run_program(args);
  INFO("stderr: " << r.err);
  return r;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

void write_file(const fs::path& path, std::string_view content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  REQUIRE(out.flush());
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST_CASE("several URLs into -o DIR, concurrently: each file matches the server's") {
  Nginx& nginx = shared_nginx();
  TempDir dir;
  const std::vector<std::string> urls = {nginx.url("/large.bin"),       nginx.url("/64k.bin"),
                                         nginx.url("/1k.bin"),          nginx.url("/1k.bin"),
                                         nginx.url("/chunked/64k.bin"), nginx.url("/")};
  std::vector<std::string> args = {"-j", "3", "-o", dir.path.string()};
  args.insert(args.end(), urls.begin(), urls.end());
  const auto r = get(args);
  CHECK(r.exit_code == 0);
  CHECK(r.out.empty());
  CHECK(Checksum::of(read_file(dir.path / "large.bin")) == nginx.large_checksum());
  CHECK(read_file(dir.path / "1k.bin") == nginx.file("/1k.bin"));
  CHECK(read_file(dir.path / "1k.bin.1") == nginx.file("/1k.bin"));  // the clash
  // /64k.bin and /chunked/64k.bin share a name too; either may be first.
  CHECK(read_file(dir.path / "64k.bin") == nginx.file("/64k.bin"));
  CHECK(read_file(dir.path / "64k.bin.1") == nginx.file("/64k.bin"));
  CHECK(read_file(dir.path / "index.html") == nginx.file("/index.html"));
  // A summary line per URL, naming it.
  for (const auto& url : urls) CHECK(contains(r.err, " s " + url + "\n"));
  CHECK(contains(r.err, "200 " + std::to_string(Nginx::small_size) + " bytes "));

  // Run again: the names are taken now, so new ones are made.
  const auto again = get({"-o", dir.path.string(), nginx.url("/1k.bin")});
  CHECK(again.exit_code == 0);
  CHECK(read_file(dir.path / "1k.bin.2") == nginx.file("/1k.bin"));
}

TEST_CASE("one URL without -o: the body on stdout, the summary on stderr") {
  Nginx& nginx = shared_nginx();
  const auto r = get({nginx.url("/64k.bin")});
  CHECK(r.exit_code == 0);
  CHECK(r.out == nginx.file("/64k.bin"));
  CHECK(contains(r.err, "200 65536 bytes "));
  const auto silent = get({"-s", nginx.url("/1k.bin")});
  CHECK(silent.exit_code == 0);
  CHECK(silent.out == nginx.file("/1k.bin"));
  CHECK(silent.err.empty());
}

TEST_CASE("a 404 fails the run with a message naming the URL; the others are saved") {
  Nginx& nginx = shared_nginx();
  TempDir dir;
  const std::string missing = nginx.url("/missing/file.bin");
  const auto r = get({"-o", dir.path.string(), nginx.url("/1k.bin"), missing});
  CHECK(r.exit_code == 1);
  CHECK(contains(r.err, "uvinet get: " + missing + ": HTTP status 404 Not Found"));
  CHECK(read_file(dir.path / "1k.bin") == nginx.file("/1k.bin"));
  CHECK_FALSE(fs::exists(dir.path / "file.bin"));  // an error body is not saved

  const auto to_stdout = get({missing});
  CHECK(to_stdout.exit_code == 1);
  CHECK(to_stdout.out.empty());
  CHECK(get({nginx.url("/status/503")}).exit_code == 1);
}

TEST_CASE("a network error fails the run with the URL and the error's message") {
  std::uint16_t port = 0;
  const int fd = uvinet_test::bound_loopback_socket(port);  // bound, never listening
  const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/x";
  const auto r = get({url});
  ::close(fd);
  CHECK(r.exit_code == 1);
  CHECK(contains(r.err, "uvinet get: " + url + ": "));
  CHECK(contains(r.err, "the server refused the connection"));
}

TEST_CASE("-I: HEAD requests, their heads on stdout") {
  Nginx nginx;
  const auto r = get({"-I", nginx.url("/1k.bin"), nginx.url("/64k.bin")});
  CHECK(r.exit_code == 0);
  CHECK(r.out.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(contains(r.out, "Content-Length: 1024\r\n"));
  CHECK(contains(r.out, "Content-Length: 65536\r\n"));
  CHECK(contains(r.out, "\r\n\r\n"));
  const auto log = nginx.wait_for_access_log(2);
  REQUIRE(log.size() == 2);
  for (const auto& line : log) CHECK(line.method == "HEAD");
}

TEST_CASE("-C -: a truncated file is resumed with a Range and completed") {
  Nginx nginx;
  TempDir dir;
  const std::string large = nginx.file("/large.bin");
  write_file(dir.path / "large.bin", std::string_view(large).substr(0, 1'000'000));
  const auto r = get({"-C", "-", "-o", dir.path.string(), nginx.url("/large.bin")});
  CHECK(r.exit_code == 0);
  CHECK(Checksum::of(read_file(dir.path / "large.bin")) == nginx.large_checksum());
  CHECK_FALSE(fs::exists(dir.path / "large.bin.1"));
  auto log = nginx.wait_for_access_log(1);
  REQUIRE(log.size() == 1);
  CHECK(log[0].status == 206);
  CHECK(log[0].body_bytes_sent == large.size() - 1'000'000);

  // Once more: nothing is missing, the server says 416, the file stays.
  const auto done = get({"-C", "-", "-o", dir.path.string(), nginx.url("/large.bin")});
  CHECK(done.exit_code == 0);
  CHECK(Checksum::of(read_file(dir.path / "large.bin")) == nginx.large_checksum());
  log = nginx.wait_for_access_log(2);
  REQUIRE(log.size() == 2);
  CHECK(log[1].status == 416);

  // A file that is not there yet is fetched whole, without a Range.
  const auto fresh = get({"-C", "-", "-o", dir.path.string(), nginx.url("/64k.bin")});
  CHECK(fresh.exit_code == 0);
  CHECK(read_file(dir.path / "64k.bin") == nginx.file("/64k.bin"));
}

TEST_CASE("-T: a file uploaded with PUT, streamed, arrives byte for byte") {
  Nginx nginx;
  TempDir dir;
  const std::string content = uvinet_test::pattern(5 << 20, 42);
  const fs::path file = dir.path / "upload.bin";
  write_file(file, content);
  const auto r = get({"-T", file.string(), nginx.url("/upload/put.bin")});
  CHECK(r.exit_code == 0);
  CHECK(contains(r.err, "201 "));
  CHECK(nginx.uploaded("put.bin") == content);

  // To a URL ending in '/', under the file's own name.
  const auto named = get({"-T", file.string(), nginx.url("/upload/dir/")});
  CHECK(named.exit_code == 0);
  CHECK(nginx.uploaded("dir/upload.bin") == content);
  const auto log = nginx.wait_for_access_log(2);
  REQUIRE(log.size() == 2);
  CHECK(log[0].method == "PUT");
}

TEST_CASE("-d: a POST body, given or read from @FILE") {
  Nginx nginx;
  TempDir dir;
  CHECK(get({"-d", "a=1&b=2", nginx.url("/post/inline.txt")}).exit_code == 0);
  CHECK(nginx.uploaded("inline.txt") == "a=1&b=2");
  const std::string body = uvinet_test::pattern(100'000, 7);
  write_file(dir.path / "body.bin", body);
  CHECK(
      get({"-d", "@" + (dir.path / "body.bin").string(), nginx.url("/post/file.bin")}).exit_code ==
      0);
  CHECK(nginx.uploaded("file.bin") == body);
}

TEST_CASE("-L follows redirects; without it the 3xx is the answer") {
  Nginx& nginx = shared_nginx();
  const auto plain = get({nginx.url("/redirect/302")});
  CHECK(plain.exit_code == 0);
  CHECK(contains(plain.err, "302 "));
  CHECK(plain.out != nginx.file("/1k.bin"));

  const auto followed = get({"-L", nginx.url("/redirect/302")});
  CHECK(followed.exit_code == 0);
  CHECK(followed.out == nginx.file("/1k.bin"));
  CHECK(contains(followed.err, "200 1024 bytes "));

  const auto chain = get({"-L", nginx.url("/redirect/chain/a")});
  CHECK(chain.out == "end of chain\n");
  const auto short_leash = get({"-L", "--max-redirs", "1", nginx.url("/redirect/chain/a")});
  CHECK(short_leash.exit_code == 1);
  CHECK(contains(short_leash.err, nginx.url("/redirect/chain/a")));
  CHECK(contains(short_leash.err, "redirected more times than allowed"));
}

TEST_CASE("--compressed: asks for gzip and writes the decoded body") {
  Nginx nginx;
  const auto r = get({"--compressed", nginx.url("/text.txt")});
  CHECK(r.exit_code == 0);
  CHECK(r.out == nginx.file("/text.txt"));
  const auto log = nginx.wait_for_access_log(1);
  REQUIRE(log.size() == 1);
  CHECK(log[0].content_encoding == "gzip");
}

TEST_CASE("--timeout: a transfer past its timeout fails, naming the URL") {
  Nginx::Options options;
  options.slow_rate = 16 * 1024;  // 8 MiB at 16 KiB/s: minutes, against a 1 s timeout
  Nginx nginx(options);
  const std::string url = nginx.url("/slow/large.bin");
  const auto r = get({"--timeout", "1", url});
  CHECK(r.exit_code == 1);
  CHECK(contains(r.err, "uvinet get: " + url + ": "));
  CHECK(contains(r.err, "the whole transfer took longer than its timeout"));
}

TEST_CASE("a wrong command line exits with 2; --help documents the exit status") {
  CHECK(get({}).exit_code == 2);
  CHECK(get({"--no-such-option", "http://h/"}).exit_code == 2);
  CHECK(get({"http://h/a", "http://h/b"}).exit_code == 2);  // two bodies to stdout
  const auto help = get({"--help"});
  CHECK(help.exit_code == 0);
  CHECK(contains(help.out, "Exit status:"));
  CHECK(contains(help.out, "HTTP status of 400 or"));
}

TEST_CASE("-v: a line per status notification, naming the URL") {
  Nginx& nginx = shared_nginx();
  const std::string url = nginx.url("/1k.bin");
  const auto r = get({"-v", url});
  CHECK(r.exit_code == 0);
  CHECK(contains(r.err, "* " + url + " sending_request"));
  CHECK(contains(r.err, "* " + url + " headers_available"));
  CHECK(contains(r.err, "* " + url + " handle_closing"));
}

TEST_CASE("--proxy: the request goes to the proxy, not to the URL's server") {
  Nginx& origin = shared_nginx();
  Nginx::Options options;
  // Only the proxy knows this path: the origin would answer 404.
  options.server_config = "location = /only-on-proxy.txt { return 200 \"via proxy\\n\"; }";
  Nginx proxy(options);
  const auto r = get({"--proxy", proxy.url(), origin.url("/only-on-proxy.txt")});
  CHECK(r.exit_code == 0);
  CHECK(r.out == "via proxy\n");
  const auto log = proxy.wait_for_access_log(1);
  REQUIRE(log.size() == 1);
  CHECK(log[0].uri == "/only-on-proxy.txt");  // nginx logs the path of an absolute form
}

TEST_CASE("-H and -u reach the server") {
  Nginx::Options options;
  // Answers only what the options sent: the header and Basic credentials.
  options.server_config =
      "location = /echo { return 200 \"$http_x_test|$remote_user|$http_authorization\\n\"; }";
  Nginx nginx(options);
  const auto r = get({"-H", "X-Test: yes", "-u", "me:pw", nginx.url("/echo")});
  CHECK(r.exit_code == 0);
  CHECK(r.out == "yes|me|Basic bWU6cHc=\n");
}

}  // namespace

using uvinet_test::localhost_url;
using uvinet_test::pki;

TEST_CASE("https: --cacert trusts the test CA; without it the certificate is refused") {
  Nginx nginx(uvinet_test::https_nginx("good"));
  const auto url = localhost_url(nginx.port(), "/64k.bin");
  const auto trusted = get({"--cacert", pki().file("ca.pem"), url});
  CHECK_MESSAGE(trusted.exit_code == 0, trusted.err);  // stderr names the cause
  CHECK(Checksum::of(trusted.out) == Checksum::of(nginx.file("/64k.bin")));
  const auto refused = get({url});
  CHECK(refused.exit_code == 1);
  CHECK(contains(refused.err, url));
  CHECK(contains(refused.err, "certificate"));
  CHECK(refused.out.empty());
}

TEST_CASE("https: -k accepts an untrusted certificate, --capath a CA directory") {
  Nginx nginx(uvinet_test::https_nginx("untrusted"));
  const auto url = localhost_url(nginx.port(), "/64k.bin");
  CHECK(get({"--cacert", pki().file("ca.pem"), url}).exit_code == 1);
  const auto insecure = get({"-k", url});
  CHECK(insecure.exit_code == 0);
  CHECK(Checksum::of(insecure.out) == Checksum::of(nginx.file("/64k.bin")));
  Nginx good(uvinet_test::https_nginx("good"));
  CHECK(get({"--capath", pki().file("cadir"), localhost_url(good.port(), "/64k.bin")}).exit_code ==
        0);
}

TEST_CASE("https: --cert and --key present a client certificate nginx requires") {
  Nginx nginx(uvinet_test::https_nginx("good", /*verify_client=*/true));
  const auto url = localhost_url(nginx.port(), "/64k.bin");
  const auto ca = pki().file("ca.pem");
  const auto without = get({"--cacert", ca, url});
  CHECK(without.exit_code == 1);  // nginx answers 400: no required certificate
  CHECK(contains(without.err, "400"));
  const auto with = get(
      {"--cacert", ca, "--cert", pki().file("client.pem"), "--key", pki().file("client.key"), url});
  CHECK(with.exit_code == 0);
  CHECK(Checksum::of(with.out) == Checksum::of(nginx.file("/64k.bin")));
}

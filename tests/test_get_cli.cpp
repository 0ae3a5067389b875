// uvinet get's pure parts (tools/get/): the command line, output file
// names, and what the progress display draws.
#include <doctest/doctest.h>

#include <set>

#include "cli.hpp"
#include "naming.hpp"
#include "progress.hpp"

namespace {

using uvinet::get::parse_command_line;
using uvinet::get::ProgressState;

// ------------------------------------------------------------ file names

TEST_CASE("file names: the last path segment, index.html when there is none") {
  using uvinet::get::file_name_for_url;
  CHECK(file_name_for_url("http://h/a/b/file.bin") == "file.bin");
  CHECK(file_name_for_url("http://h/file.txt?x=1#top") == "file.txt");
  CHECK(file_name_for_url("http://h:8080/a%20b.txt") == "a%20b.txt");
  CHECK(file_name_for_url("http://h/dir/") == "index.html");
  CHECK(file_name_for_url("http://h/") == "index.html");
  CHECK(file_name_for_url("http://h") == "index.html");
  CHECK(file_name_for_url("http://h/a/..") == "index.html");
  CHECK(file_name_for_url("http://h/.") == "index.html");
  // Not a URL crack_url() takes (a space): still a harmless name.
  CHECK(file_name_for_url("http://h/x y/z.bin") == "z.bin");
}

TEST_CASE("file names: clashes in one run and with existing files get .1, .2, ...") {
  using uvinet::get::unique_names;
  const auto none = [](const std::string&) { return false; };
  CHECK(unique_names({"a.bin", "b.bin", "a.bin", "a.bin"}, none) ==
        std::vector<std::string>{"a.bin", "b.bin", "a.bin.1", "a.bin.2"});
  const std::set<std::string> on_disk = {"a.bin", "a.bin.1", "index.html"};
  const auto exists = [&](const std::string& n) { return on_disk.count(n) > 0; };
  CHECK(unique_names({"a.bin", "index.html", "a.bin", "c"}, exists) ==
        std::vector<std::string>{"a.bin.2", "index.html.1", "a.bin.3", "c"});
  CHECK(unique_names({}, none).empty());
}

TEST_CASE("upload URLs: a URL ending in '/' gets the file's own name") {
  using uvinet::get::upload_url;
  CHECK(upload_url("http://h/up/", "/tmp/dir/data.bin") == "http://h/up/data.bin");
  CHECK(upload_url("http://h/up/", "data.bin") == "http://h/up/data.bin");
  CHECK(upload_url("http://h/up/x.bin", "/tmp/data.bin") == "http://h/up/x.bin");
}

// ------------------------------------------------------------- progress

TEST_CASE("sizes and rates in powers of 1024") {
  using uvinet::get::format_rate;
  using uvinet::get::format_size;
  CHECK(format_size(0) == "0 B");
  CHECK(format_size(1023) == "1023 B");
  CHECK(format_size(1536) == "1.5 KiB");
  CHECK(format_size(20 << 20) == "20.0 MiB");
  CHECK(format_size(std::uint64_t(3) << 30) == "3.0 GiB");
  CHECK(format_rate(2 << 20, 2.0) == "1.0 MiB/s");
  CHECK(format_rate(100, 0) == "--");
}

TEST_CASE("a progress line with a known total: bar, percentage, bytes of total, rate") {
  ProgressState s{"file.bin", 512 * 1024, 0, 1 << 20, 0.5};
  const std::string line = uvinet::get::render_progress(s, 100);
  CHECK(line.size() <= 100);
  CHECK(line.rfind("file.bin", 0) == 0);
  CHECK(line.find(" 50%") != std::string::npos);
  CHECK(line.find("512.0 KiB / 1.0 MiB") != std::string::npos);
  CHECK(line.find("1.0 MiB/s") != std::string::npos);
  const auto open = line.find('[');
  const auto close = line.find(']');
  REQUIRE(open != std::string::npos);
  REQUIRE(close != std::string::npos);
  const std::string bar = line.substr(open + 1, close - open - 1);
  // Half full: the '=' run ends at the middle, then the '>' head.
  CHECK(bar.find('>') == bar.size() / 2);
}

TEST_CASE("a progress line: done, unknown total, resumed, narrow, long names") {
  using uvinet::get::render_progress;
  const std::string done = render_progress({"f", 100, 0, 100, 1.0}, 80);
  CHECK(done.find("100%") != std::string::npos);
  CHECK(done.find('>') == std::string::npos);

  const std::string unknown = render_progress({"stream", 2048, 0, std::nullopt, 2.0}, 80);
  CHECK(unknown.find('%') == std::string::npos);
  CHECK(unknown.find('[') == std::string::npos);
  CHECK(unknown.find("2.0 KiB") != std::string::npos);
  CHECK(unknown.find("1.0 KiB/s") != std::string::npos);

  // The rate counts only this run's bytes, the percentage all of them.
  const std::string resumed = render_progress({"r", 3 << 20, 2 << 20, 4 << 20, 1.0}, 100);
  CHECK(resumed.find(" 75%") != std::string::npos);
  CHECK(resumed.find("1.0 MiB/s") != std::string::npos);

  const std::string narrow = render_progress({"f", 1, 0, 2, 1.0}, 40);
  CHECK(narrow.size() <= 40);
  CHECK(narrow.find('[') == std::string::npos);

  const std::string long_name(100, 'n');
  const std::string cut = render_progress({long_name, 1, 0, 2, 1.0}, 80);
  CHECK(cut.size() <= 80);
  CHECK(cut.find("..") != std::string::npos);
}

TEST_CASE("a frame erases the bars drawn before, then logs, then draws the new bars") {
  using uvinet::get::render_frame;
  CHECK(render_frame(0, {"log"}, {"bar"}) == "\x1b[Jlog\nbar\n");
  CHECK(render_frame(2, {}, {"a", "b", "c"}) == "\x1b[2F\x1b[Ja\nb\nc\n");
  CHECK(render_frame(1, {"x", "y"}, {}) == "\x1b[1F\x1b[Jx\ny\n");
}

TEST_CASE("summary lines: status, bytes, seconds, URL") {
  using uvinet::get::summary_line;
  CHECK(summary_line({200, 1024, 0.25, "http://h/a"}) == "200 1024 bytes 0.250 s http://h/a");
  CHECK(summary_line({0, 0, 1.5, "http://h/b"}) == "000 0 bytes 1.500 s http://h/b");
}

// ---------------------------------------------------------- command line

TEST_CASE("the command line: defaults for one URL") {
  auto o = parse_command_line({"get", "http://h/a"});
  REQUIRE_MESSAGE(o, o.error());
  CHECK(o->urls == std::vector<std::string>{"http://h/a"});
  CHECK(o->parallel == 8);
  CHECK(o->output_dir.empty());
  CHECK_FALSE(o->follow_redirects);
  CHECK(o->max_redirects == 10);
  CHECK_FALSE(o->resume);
  CHECK(o->effective_method() == "GET");
}

TEST_CASE("the command line: every option") {
  auto o = parse_command_line(
      {"get",           "-j", "4",         "-L",        "--max-redirs", "3",
       "--compressed",  "-H", "X-A: 1",    "-H",        "X-B:two",      "-o",
       "out",           "-C", "-",         "--timeout", "2.5",          "--proxy",
       "http://p:3128", "-u", "me:secret", "-v",        "http://h/a",   "http://h/b"});
  REQUIRE_MESSAGE(o, o.error());
  CHECK(o->parallel == 4);
  CHECK(o->follow_redirects);
  CHECK(o->max_redirects == 3);
  CHECK(o->compressed);
  using Field = std::pair<std::string, std::string>;
  CHECK(o->headers == std::vector<Field>{{"X-A", "1"}, {"X-B", "two"}});
  CHECK(o->output_dir == "out");
  CHECK(o->resume);
  CHECK(o->timeout_seconds == doctest::Approx(2.5));
  CHECK(o->proxy == "http://p:3128");
  CHECK(o->user == "me:secret");
  CHECK(o->verbose);
  CHECK(o->urls == std::vector<std::string>{"http://h/a", "http://h/b"});
}

TEST_CASE("the command line: the method follows -X, -d, -T and -I") {
  CHECK(parse_command_line({"get", "-d", "a=1", "http://h/"})->effective_method() == "POST");
  CHECK(parse_command_line({"get", "-d", "@f", "http://h/"})->data == "@f");
  CHECK(parse_command_line({"get", "-T", "f", "http://h/"})->effective_method() == "PUT");
  CHECK(parse_command_line({"get", "-I", "http://h/"})->effective_method() == "HEAD");
  CHECK(parse_command_line({"get", "-X", "DELETE", "http://h/"})->effective_method() == "DELETE");
  CHECK(parse_command_line({"get", "-X", "PATCH", "-d", "x", "http://h/"})->effective_method() ==
        "PATCH");
  auto empty_body = parse_command_line({"get", "-d", "", "http://h/"});
  REQUIRE(empty_body);
  CHECK(empty_body->effective_method() == "POST");
}

TEST_CASE("the command line: mistakes are refused with a message") {
  const std::vector<std::vector<std::string>> wrong = {
      {"get"},                                        // no URL
      {"get", "http://h/a", "http://h/b"},            // two bodies to stdout
      {"get", "-C", "-", "http://h/a"},               // resume without -o
      {"get", "-o", "d", "-C", "100", "http://h/a"},  // only "-C -"
      {"get", "-H", "no colon", "http://h/a"},        // not a header
      {"get", "-j", "0", "http://h/a"},               // no transfers at all
      {"get", "-d", "x", "-T", "f", "http://h/a"},    // two bodies
      {"get", "-I", "-o", "d", "http://h/a"},         // heads go to stdout
      {"get", "--no-such-option", "http://h/a"},      // unknown
      {"get", "--timeout", "-1", "http://h/a"},       // negative
      {"fetch", "http://h/a"},                        // no such subcommand
  };
  for (const auto& args : wrong) {
    CAPTURE(args.size() > 1 ? args[1] : args[0]);
    auto o = parse_command_line(args);
    CHECK_FALSE(o);
    if (!o) CHECK_FALSE(o.error().empty());
  }
}

TEST_CASE("the command line: a URL after -H is a URL, not a second header") {
  auto o = parse_command_line({"get", "-H", "X-A: 1", "http://h/a"});
  REQUIRE_MESSAGE(o, o.error());
  CHECK(o->headers.size() == 1);
  CHECK(o->urls == std::vector<std::string>{"http://h/a"});
}

TEST_CASE("the command line: -I takes several URLs to stdout") {
  auto o = parse_command_line({"get", "-I", "http://h/a", "http://h/b"});
  REQUIRE_MESSAGE(o, o.error());
  CHECK(o->urls.size() == 2);
}

}  // namespace

TEST_CASE("the command line: TLS options") {
  auto o = parse_command_line({"get", "--cacert", "ca.pem", "--capath", "cas", "--crlfile",
                               "crl.pem", "--cert", "me.pem", "-k", "https://h/a"});
  REQUIRE_MESSAGE(o, o.error());
  CHECK(o->ca_file == "ca.pem");
  CHECK(o->ca_path == "cas");
  CHECK(o->crl_file == "crl.pem");
  CHECK(o->cert_file == "me.pem");
  CHECK(o->key_file == "me.pem");  // the key may sit in the certificate's file, as with curl
  CHECK(o->insecure);
  auto separate = parse_command_line({"get", "--cert", "me.pem", "--key", "me.key", "https://h/"});
  REQUIRE(separate);
  CHECK(separate->key_file == "me.key");
  CHECK_FALSE(parse_command_line({"get", "https://h/"})->insecure);
  auto key_alone = parse_command_line({"get", "--key", "me.key", "https://h/"});
  REQUIRE_FALSE(key_alone);
  CHECK(key_alone.error() == "--key needs --cert");
}

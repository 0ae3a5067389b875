#include "support/nginx.hpp"

#include <fcntl.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "support/servers.hpp"  // pick_free_port

namespace uvinet_test {
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

// xorshift64*: fast, deterministic, and good enough that a misplaced or
// repeated block of a body can never match by accident.
class PatternGenerator {
 public:
  explicit PatternGenerator(std::uint64_t seed) : state_(seed * 0x9e3779b97f4a7c15ULL + 1) {}
  void fill(char* out, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
      if (left_ == 0) {
        state_ ^= state_ >> 12;
        state_ ^= state_ << 25;
        state_ ^= state_ >> 27;
        word_ = state_ * 0x2545f4914f6cdd1dULL;
        left_ = 8;
      }
      out[i] = static_cast<char>(word_ & 0xff);
      word_ >>= 8;
      --left_;
    }
  }

 private:
  std::uint64_t state_;
  std::uint64_t word_ = 0;
  int left_ = 0;
};

void write_file(const fs::path& path, std::string_view content) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  if (!out.flush()) throw std::runtime_error("Nginx: cannot write " + path.string());
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// A path below a directory, as given by a test: relative, no "..".
fs::path below(const fs::path& dir, std::string_view relative) {
  while (!relative.empty() && relative.front() == '/') relative.remove_prefix(1);
  const fs::path p(relative);
  for (const auto& part : p) {
    if (part == "..")
      throw std::invalid_argument("Nginx: path leaves its directory: " + p.string());
  }
  return dir / p;
}

std::string replace_all(std::string text, std::string_view from, const std::string& to) {
  for (std::size_t at = 0; (at = text.find(from, at)) != std::string::npos; at += to.size()) {
    text.replace(at, from.size(), to);
  }
  return text;
}

// A fresh private directory. The unix socket inside must fit sun_path (108
// bytes), so a long $TMPDIR gives way to /tmp.
fs::path make_temp_dir() {
  std::error_code ec;
  fs::path base = fs::temp_directory_path(ec);
  if (ec || base.string().size() > 60) base = "/tmp";
  std::string templ = (base / "uvinet-nginx-XXXXXX").string();
  if (::mkdtemp(templ.data()) == nullptr) throw_failure("Nginx: mkdtemp in " + base.string());
  return templ;
}

}  // namespace

std::string pattern(std::size_t size, std::uint64_t seed) {
  std::string out(size, '\0');
  PatternGenerator(seed).fill(out.data(), size);
  return out;
}

Checksum& Checksum::update(std::string_view bytes) noexcept {
  for (unsigned char ch : bytes) {
    hash_ ^= ch;
    hash_ *= 0x100000001b3ULL;
  }
  return *this;
}

// --------------------------------------------------------------------- Nginx

Nginx::Nginx(Options options) : options_(std::move(options)) {
  const std::string nginx = find_in_path("nginx");
  if (nginx.empty()) {
    errno = 0;
    throw_failure("nginx is not installed, and the test needs it (apt-get install nginx-light)");
  }
  dir_ = make_temp_dir();
  try {
    output_fd_ =
        ::open((dir_ / "nginx.out").c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (output_fd_ < 0) throw_failure("Nginx: open nginx.out");
    make_docroot();
    // Between our picking the port and nginx binding it, another process may
    // take it; nginx then exits and we try another port.
    for (int attempt = 0; attempt < 10; ++attempt) {
      if (try_start(nginx)) return;
    }
    errno = 0;
    throw_failure("nginx lost its port 10 times in a row");
  } catch (...) {
    nginx_.stop();  // no destructor runs for us
    if (output_fd_ >= 0) ::close(output_fd_);
    std::error_code ec;
    fs::remove_all(dir_, ec);
    throw;
  }
}

Nginx::~Nginx() {
  nginx_.stop();
  ::close(output_fd_);
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

std::string Nginx::url(std::string_view path) const {
  return (options_.tls ? "https://127.0.0.1:" : "http://127.0.0.1:") + std::to_string(port_) +
         std::string(path);
}

std::string Nginx::file(std::string_view path) const {
  return read_file(below(docroot(), path));
}

std::optional<std::string> Nginx::uploaded(std::string_view name) const {
  const fs::path p = below(dir_ / "uploads", name);
  if (!fs::is_regular_file(p)) return std::nullopt;
  return read_file(p);
}

std::string Nginx::error_log() const {
  return read_file(dir_ / "error.log");
}

void Nginx::make_docroot() {
  const fs::path www = docroot();
  fs::create_directories(www);
  fs::create_directories(dir_ / "uploads");
  fs::create_directories(dir_ / "tmp");
  write_file(www / "1k.bin", pattern(small_size, small_seed));
  write_file(www / "64k.bin", pattern(medium_size, medium_seed));
  write_file(www / "empty.bin", "");
  std::string text;
  for (int i = 1; i <= 300; ++i) {
    text += "line " + std::to_string(i) + ": the quick brown fox jumps over the lazy dog\n";
  }
  write_file(www / "text.txt", text);
  write_file(www / "index.html", "<!DOCTYPE html>\n<html><body>uvinet test server</body></html>\n");

  // The large file in blocks, so its size is bounded by the disk, not memory.
  std::ofstream large(www / "large.bin", std::ios::binary | std::ios::trunc);
  PatternGenerator generator(large_seed);
  Checksum sum;
  std::string block(1 << 20, '\0');
  for (std::size_t left = options_.large_file_size; left > 0;) {
    const std::size_t n = std::min(left, block.size());
    generator.fill(block.data(), n);
    large.write(block.data(), static_cast<std::streamsize>(n));
    sum.update(std::string_view(block.data(), n));
    left -= n;
  }
  if (!large.flush()) throw std::runtime_error("Nginx: cannot write large.bin");
  large_checksum_ = sum.value();

  for (const auto& [path, content] : options_.files) write_file(below(www, path), content);
}

void Nginx::write_config() const {
  const std::string d = dir_.string();
  const std::string www = docroot().string();
  std::ostringstream c;
  c << "# Generated by tests/support/nginx.cpp for one test, removed with it.\n";
  // Only root may name a user. Root's workers would otherwise run as nobody,
  // and nginx would chown its temp dirs to nobody.
  if (::geteuid() == 0) c << "user root;\n";
  c << "daemon off;\n"
       "master_process off;  # one process: nothing forked that could outlive it\n"
       "pid "
    << d << "/nginx.pid;\n"
    << "lock_file " << d << "/nginx.lock;\n"
    << "error_log " << d << "/error.log info;\n"
    << "events { worker_connections 512; }\n"
       "http {\n"
       "  types { text/plain txt; text/html html; application/json json; "
       "application/octet-stream bin; }\n"
       "  default_type application/octet-stream;\n"
       // Tab-separated; unbuffered (no buffer=), so a line is in the file as
       // soon as nginx has finished the request.
       "  log_format uvinet \"$connection\\t$connection_requests\\t$request_method\\t"
       "$request_uri\\t$status\\t$body_bytes_sent\\t$request_length\\t"
       "$sent_http_transfer_encoding\\t$sent_http_content_encoding\";\n"
       "  access_log "
    << d << "/access.log uvinet;\n";
  // Every temp path: the compiled-in ones are under /var/lib/nginx.
  for (const char* kind : {"client_body", "proxy", "fastcgi", "uwsgi", "scgi"}) {
    c << "  " << kind << "_temp_path " << d << "/tmp/" << kind << ";\n";
  }
  c << "  keepalive_timeout " << options_.keepalive_timeout.count() << "ms;\n"
    << "  keepalive_requests " << options_.keepalive_requests << ";\n"
    << "  absolute_redirect " << (options_.absolute_redirect ? "on" : "off") << ";\n"
    << "  gzip on;\n"
       "  gzip_min_length 16;\n"
       "  gzip_types text/plain;  # and text/html, always\n"
       "  map $arg_to $uvinet_redirect_to { \"\" /1k.bin; default $arg_to; }\n";

  // POST /post/ is proxied as a PUT to the DAV location of this server, on
  // a unix socket and unlogged, so the access log shows only the test's own
  // connections.
  c << "  server {\n"
       "    listen unix:"
    << d << "/upload.sock;\n"
    << "    access_log off;\n"
       "    location /upload/ {\n"
       "      alias "
    << d << "/uploads/;\n"
    << "      dav_methods PUT;\n"
       "      create_full_put_path on;\n"
       "      client_max_body_size 0;\n"
       "    }\n"
       "  }\n";

  c << "  server {\n"
       "    listen 127.0.0.1:"
    << port_ << (options_.tls ? " ssl" : "")
    << (options_.tls && options_.tls->http2 ? " http2" : "") << ";\n"
    << "    server_name localhost;\n"
       "    root "
    << www << ";\n"
    << "    client_max_body_size " << options_.max_body_size << ";\n";
  if (const auto& tls = options_.tls) {  // TLS hook: see Nginx::Tls
    c << "    ssl_certificate " << tls->certificate_file << ";\n"
      << "    ssl_certificate_key " << tls->key_file << ";\n";
    if (!tls->client_ca_file.empty()) {
      c << "    ssl_client_certificate " << tls->client_ca_file << ";\n";
    }
    if (tls->verify_client) c << "    ssl_verify_client on;\n";
    // The protocol chosen in ALPN ("" when the client offered none).
    c << "    location = /alpn { return 200 \"$ssl_alpn_protocol\"; }\n";
  }
  // sub_filter takes the Content-Length away (it could change the length),
  // so nginx must send these chunked; the string never occurs in our files.
  c << "    location /chunked/ {\n"
       "      alias "
    << www << "/;\n"
    << "      sub_filter_types *;\n"
       "      sub_filter \"uvinet:never-occurs:4f1d\" \"x\";\n"
       "    }\n"
       "    location /slow/ { alias "
    << www << "/; limit_rate " << options_.slow_rate << "; }\n"
    << "    location /close/ { alias " << www << "/; keepalive_timeout 0; }\n"
    << "    location /upload/ {\n"
       "      alias "
    << d << "/uploads/;\n"
    << "      dav_methods PUT;\n"
       "      create_full_put_path on;\n"
       "    }\n"
       "    location /post/ {\n"
       "      limit_except POST { deny all; }\n"
       "      proxy_method PUT;\n"
       "      proxy_pass http://unix:"
    << d << "/upload.sock:/upload/;\n"
    << "    }\n";
  // `return` takes a literal code, so one location per status.
  for (int code = 200; code <= 599; ++code) {
    if ((code >= 300 && code < 400 && code != 304) || (code >= 494 && code <= 499)) continue;
    c << "    location = /status/" << code << " { return " << code << "; }\n";
  }
  for (int code : {301, 302, 303, 307, 308}) {
    c << "    location = /redirect/" << code << " { return " << code << " $uvinet_redirect_to; }\n";
  }
  c << "    location = /redirect/chain/a { return 302 /redirect/chain/b; }\n"
       "    location = /redirect/chain/b { return 302 /redirect/chain/c; }\n"
       "    location = /redirect/chain/c { return 200 \"end of chain\\n\"; }\n"
       "    location = /redirect/loop/a { return 302 /redirect/loop/b; }\n"
       "    location = /redirect/loop/b { return 302 /redirect/loop/a; }\n";
  c << replace_all(options_.server_config, "{root}", www) << "\n  }\n";
  c << replace_all(options_.http_config, "{root}", www) << "\n}\n";
  write_file(dir_ / "nginx.conf", c.str());
}

bool Nginx::try_start(const std::string& nginx) {
  port_ = pick_free_port();
  write_config();
  std::error_code ec;
  fs::remove(dir_ / "error.log", ec);  // only this attempt's messages
  nginx_.start({nginx, "-p", dir_.string() + "/", "-c", (dir_ / "nginx.conf").string(), "-e",
                (dir_ / "error.log").string()},
               output_fd_);
  switch (wait_until_listening(nginx_, port_, 10s)) {
    case WaitResult::listening: return true;
    case WaitResult::exited:
      if (error_log().find("Address already in use") != std::string::npos) return false;
      throw std::runtime_error("nginx (in " + dir_.string() + ") exited at once: " + why_failed());
    case WaitResult::timed_out: break;
  }
  nginx_.stop();
  throw std::runtime_error("nginx (in " + dir_.string() + ") did not listen on 127.0.0.1:" +
                           std::to_string(port_) + " within 10 s: " + why_failed());
}

// The error log and nginx's output, and the config line nginx complained
// about: the directory, config included, is gone by the time anyone reads this.
std::string Nginx::why_failed() const {
  std::string why = error_log() + read_all(output_fd_);
  const std::string conf = (dir_ / "nginx.conf").string() + ":";
  if (const std::size_t at = why.find(conf); at != std::string::npos) {
    const int number = std::atoi(why.c_str() + at + conf.size());
    std::istringstream config(read_file(dir_ / "nginx.conf"));
    std::string line;
    for (int i = 0; i < number && std::getline(config, line); ++i) {
    }
    why += "config line " + std::to_string(number) + ": " + line + "\n";
  }
  return why;
}

std::vector<Nginx::LogLine> Nginx::access_log() const {
  std::vector<LogLine> lines;
  std::istringstream in(read_file(dir_ / "access.log"));
  for (std::string line; std::getline(in, line);) {
    std::vector<std::string> f;
    std::istringstream fields(line);
    for (std::string field; std::getline(fields, field, '\t');)
      f.push_back(field == "-" ? "" : field);
    if (f.size() < 9) continue;  // not a whole line (yet)
    LogLine l;
    l.connection = std::strtoull(f[0].c_str(), nullptr, 10);
    l.connection_requests = std::strtoull(f[1].c_str(), nullptr, 10);
    l.method = f[2];
    l.uri = f[3];
    l.status = std::atoi(f[4].c_str());
    l.body_bytes_sent = std::strtoull(f[5].c_str(), nullptr, 10);
    l.request_length = std::strtoull(f[6].c_str(), nullptr, 10);
    l.transfer_encoding = f[7];
    l.content_encoding = f[8];
    lines.push_back(std::move(l));
  }
  return lines;
}

std::vector<Nginx::LogLine> Nginx::wait_for_access_log(std::size_t lines,
                                                       std::chrono::milliseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto log = access_log();
    if (log.size() >= lines || std::chrono::steady_clock::now() >= deadline) return log;
    std::this_thread::sleep_for(5ms);
  }
}

std::size_t Nginx::connection_count(const std::vector<LogLine>& log) {
  std::set<std::uint64_t> connections;
  for (const auto& line : log) connections.insert(line.connection);
  return connections.size();
}

Nginx& shared_nginx() {
  static Nginx nginx;
  return nginx;
}

}  // namespace uvinet_test

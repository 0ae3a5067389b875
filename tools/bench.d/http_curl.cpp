// uvinet-bench http: the baselines. libcurl's multi interface driven the
// usual way (curl_multi_perform, curl_multi_info_read, curl_multi_poll on
// one thread, a write callback that only counts), and wrk run as a child.
#include <curl/curl.h>
#include <stdio.h>

#include <fmt/core.h>

#include <chrono>
#include <cstdlib>
#include <functional>
#include <stdexcept>
#include <string>
#include <thread>
#include <unordered_set>
#include <utility>

#include "http_bench.hpp"

namespace uvinet::bench::http {
namespace {

using Clock = std::chrono::steady_clock;

std::size_t count_bytes(char*, std::size_t size, std::size_t n, void* counter) {
  *static_cast<std::uint64_t*>(counter) += size * n;
  return size * n;
}

// curl_global_init for the lifetime of one measurement.
class CurlGlobal {
 public:
  CurlGlobal() {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
      throw std::runtime_error("curl_global_init failed");
    }
  }
  ~CurlGlobal() { curl_global_cleanup(); }
  CurlGlobal(const CurlGlobal&) = delete;
  CurlGlobal& operator=(const CurlGlobal&) = delete;
};

// What every easy handle of a Multi gets besides its URL.
struct EasySetup {
  std::string ca_file;   // https: the one CA to trust (CURLOPT_CAINFO)
  bool fresh = false;    // a new connection per transfer, closed after it
  long buffer_size = 0;  // CURLOPT_BUFFERSIZE, the receive buffer; 0: libcurl's 16 KiB
};

// A multi handle with `n` easy handles for `url`, each counting its body
// bytes into `bytes`; all cleaned up at the end.
class Multi {
 public:
  Multi(const std::string& url, unsigned n, std::uint64_t& bytes, EasySetup setup = {})
      : multi_(curl_multi_init()), url_(url), bytes_(bytes), setup_(std::move(setup)) {
    curl_multi_setopt(multi_, CURLMOPT_MAX_HOST_CONNECTIONS, static_cast<long>(n));
    add(n);
  }
  ~Multi() {
    for (CURL* easy : easies_) {
      curl_multi_remove_handle(multi_, easy);
      curl_easy_cleanup(easy);
    }
    curl_multi_cleanup(multi_);
  }
  void add(unsigned n) {
    for (unsigned i = 0; i < n; ++i) {
      CURL* easy = curl_easy_init();
      curl_easy_setopt(easy, CURLOPT_URL, url_.c_str());
      curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, count_bytes);
      curl_easy_setopt(easy, CURLOPT_WRITEDATA, &bytes_);
      curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
      apply_setup(easy);
      easies_.insert(easy);
      curl_multi_add_handle(multi_, easy);
    }
  }
  void apply_setup(CURL* easy) const {
    // HTTP/1.1 as uvinet speaks it, not h2 should the server offer it.
    curl_easy_setopt(easy, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1));
    // Verification stays on (the default): it is part of a handshake's cost.
    if (!setup_.ca_file.empty()) curl_easy_setopt(easy, CURLOPT_CAINFO, setup_.ca_file.c_str());
    if (setup_.buffer_size > 0) curl_easy_setopt(easy, CURLOPT_BUFFERSIZE, setup_.buffer_size);
    if (setup_.fresh) {
      curl_easy_setopt(easy, CURLOPT_FRESH_CONNECT, 1L);
      curl_easy_setopt(easy, CURLOPT_FORBID_REUSE, 1L);
    }
  }
  // Cleans up a finished handle; its connection stays in the multi's cache.
  void release(CURL* easy) {
    easies_.erase(easy);
    curl_easy_cleanup(easy);
  }
  void set(CURLMoption option, long value) { curl_multi_setopt(multi_, option, value); }
  Multi(const Multi&) = delete;
  Multi& operator=(const Multi&) = delete;

  // Drives the transfers until `active` handles are left none; `done` gets
  // each finished handle, with its result, and says whether to run it again.
  void run(unsigned active, const std::function<bool(CURL*, CURLcode)>& done) {
    while (active > 0) {
      int still = 0;
      curl_multi_perform(multi_, &still);
      int queued = 0;
      while (CURLMsg* msg = curl_multi_info_read(multi_, &queued)) {
        if (msg->msg != CURLMSG_DONE) continue;
        CURL* easy = msg->easy_handle;
        const CURLcode result = msg->data.result;
        curl_multi_remove_handle(multi_, easy);
        // Added again, the handle reuses a kept-alive connection of the multi.
        if (done(easy, result)) {
          curl_multi_add_handle(multi_, easy);
        } else {
          --active;
        }
      }
      if (active > 0) curl_multi_poll(multi_, nullptr, 0, 1000, nullptr);
    }
  }

 private:
  CURLM* multi_;
  std::string url_;
  std::uint64_t& bytes_;
  EasySetup setup_;
  std::unordered_set<CURL*> easies_;
};

// An error message for a finished transfer, or "" when it got a 200.
std::string check(CURL* easy, CURLcode result) {
  if (result != CURLE_OK) return curl_easy_strerror(result);
  long status = 0;
  curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
  return status == 200 ? "" : fmt::format("status {}", status);
}

}  // namespace

RpsResult curl_rps(const RpsRun& run) {
  CurlGlobal global;
  std::uint64_t bytes = 0;
  RpsResult result;
  const double cpu_before = process_cpu_seconds();
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::duration_cast<Clock::duration>(
                                    std::chrono::duration<double>(run.seconds));
  {
    Multi multi(run.url, run.connections, bytes, {run.ca_file, run.new_connections});
    multi.run(run.connections, [&](CURL* easy, CURLcode code) {
      if (auto error = check(easy, code); !error.empty()) {
        if (result.errors++ == 0) result.first_error = error;
        return false;
      }
      ++result.requests;
      return Clock::now() < deadline;
    });
    result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    result.cpu_seconds = process_cpu_seconds() - cpu_before;
  }
  if (!result.errors && bytes != result.requests * 1024) {
    result.errors = 1;
    result.first_error = "body bytes do not add up to 1 KiB per request";
  }
  return result;
}

ThroughputResult curl_throughput(const ThroughputRun& run) {
  CurlGlobal global;
  ThroughputResult result;
  Multi multi(run.url, run.downloads, result.bytes, {run.ca_file, false, run.curl_buffer_size});
  const double cpu_before = process_cpu_seconds();
  const auto start = Clock::now();
  multi.run(run.downloads, [&](CURL* easy, CURLcode code) {
    if (auto error = check(easy, code); !error.empty() && result.error.empty()) {
      result.error = error;
    }
    return false;
  });
  result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  result.cpu_seconds = process_cpu_seconds() - cpu_before;
  if (result.error.empty() && result.bytes != run.expected_bytes * run.downloads) {
    result.error = fmt::format("got {} bytes", result.bytes);
  }
  return result;
}

IdleResult curl_idle(const std::string& url, unsigned connections) {
  CurlGlobal global;
  std::uint64_t bytes = 0;
  IdleResult result;
  auto run_all = [&](Multi& multi, unsigned n) {
    multi.run(n, [&](CURL* easy, CURLcode code) {
      if (auto error = check(easy, code); !error.empty() && result.error.empty()) {
        result.error = error;
      }
      multi.release(easy);
      return false;
    });
  };
  // One transfer first, as for uvinet: the multi and its caches exist
  // before the baseline is taken.
  Multi multi(url, 1, bytes);
  multi.set(CURLMOPT_MAX_HOST_CONNECTIONS, static_cast<long>(connections) + 16);
  multi.set(CURLMOPT_MAXCONNECTS, static_cast<long>(connections) + 16);
  run_all(multi, 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const auto rss_before = resident_bytes();
  const auto sockets_before = socket_count();
  multi.add(connections);
  run_all(multi, connections);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  result.rss_delta = resident_bytes() - rss_before;
  const auto sockets = socket_count();
  result.connections = sockets > sockets_before ? sockets - sockets_before : 0;
  return result;
}

RpsResult wrk_rps(const RpsRun& run) {
  const auto seconds = static_cast<long>(run.seconds + 0.5);
  const std::string command =
      fmt::format("wrk -t1 -c{} -d{}s {} 2>&1", run.connections, seconds, run.url);
  RpsResult result;
  // wrk's CPU time shows in ours for children once pclose() reaped it.
  const double cpu_before = children_cpu_seconds();
  FILE* out = ::popen(command.c_str(), "r");
  if (!out) {
    result.errors = 1;
    result.first_error = "cannot run wrk";
    return result;
  }
  std::string text;
  char line[512];
  double per_s = 0;
  while (std::fgets(line, sizeof line, out)) {
    text += line;
    const std::string_view l(line);
    if (const auto at = l.find("Requests/sec:"); at != std::string_view::npos) {
      per_s = std::strtod(line + at + 13, nullptr);
    }
    // "Non-2xx or 3xx responses: N" and "Socket errors: ..." mean failures.
    if (l.find("Non-2xx") != std::string_view::npos || l.find("Socket errors") != l.npos) {
      ++result.errors;
      if (result.first_error.empty()) result.first_error = "wrk: " + std::string(l);
    }
  }
  const int status = ::pclose(out);
  result.cpu_seconds = children_cpu_seconds() - cpu_before;
  if (per_s <= 0 || status != 0) {
    result.errors = 1;
    result.first_error = "wrk failed (" + command + "): " + text;
    return result;
  }
  result.seconds = static_cast<double>(seconds);
  result.requests = static_cast<std::uint64_t>(per_s * result.seconds + 0.5);
  return result;
}

}  // namespace uvinet::bench::http

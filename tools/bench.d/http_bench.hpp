// uvinet-bench http and https: what the parts share. http.cpp and https.cpp
// run them and print the report; http_uvinet.cpp and http_curl.cpp hold
// the clients, which take http and https URLs alike.
#pragma once

#include <cstdint>
#include <string>

#include "report.hpp"

namespace uvinet::bench::http {

/// Requests per second: `connections` keep-alive connections, each with one
/// GET of `url` in flight, the next issued as soon as the last completed.
struct RpsRun {
  std::string url;
  unsigned connections = 64;
  double seconds = 5;
  /// https: the CA file the server's certificate must chain to.
  std::string ca_file;
  /// Every request on a connection of its own, closed after it: with https,
  /// a full handshake per request. `connections` is then the concurrency.
  bool new_connections = false;
};

struct RpsResult {
  using Run = RpsRun;
  std::uint64_t requests = 0;
  double seconds = 0;
  // The client's CPU time (user + system), all its threads: unlike req/s it
  // hardly changes with the machine's other load.
  double cpu_seconds = 0;
  std::uint64_t errors = 0;
  std::string first_error;
  double per_s() const { return seconds > 0 ? static_cast<double>(requests) / seconds : 0; }
  double score() const { return per_s(); }  // of the best round
  double cpu_us_per_request() const {
    return requests ? cpu_seconds * 1e6 / static_cast<double>(requests) : 0;
  }
};

/// `downloads` GETs of `url` at once, each on its own connection, bodies
/// counted and dropped.
struct ThroughputRun {
  std::string url;
  unsigned downloads = 4;
  std::uint64_t expected_bytes = 0;  // per download
  std::string ca_file;               // as in RpsRun
  long curl_buffer_size = 0;         // libcurl's CURLOPT_BUFFERSIZE; 0: its default, 16 KiB
};

struct ThroughputResult {
  using Run = ThroughputRun;
  std::uint64_t bytes = 0;  // all downloads together
  double seconds = 0;
  double cpu_seconds = 0;  // user + system of this process
  std::string error;       // empty: every download completed in full
  double mb_per_s() const { return seconds > 0 ? static_cast<double>(bytes) / 1e6 / seconds : 0; }
  double score() const { return mb_per_s(); }  // of the best round
};

/// `connections` requests at once, then every connection idle in the pool.
struct IdleResult {
  unsigned connections = 0;  // sockets the client holds, idle
  std::int64_t rss_delta = 0;
  std::string error;
  double bytes_per_connection() const {
    return connections ? static_cast<double>(rss_delta) / connections : 0;
  }
};

RpsResult uvinet_rps(const RpsRun& run);
RpsResult curl_rps(const RpsRun& run);
/// wrk -t1, parsed from its "Requests/sec:" line.
RpsResult wrk_rps(const RpsRun& run);

ThroughputResult uvinet_throughput(const ThroughputRun& run);
/// A client's line in the throughput part: MB/s, CPU, bytes, time, rounds.
void print_throughput_line(const char* name, const Best<ThroughputResult>& best);
ThroughputResult curl_throughput(const ThroughputRun& run);

IdleResult uvinet_idle(const std::string& url, unsigned connections);
/// The same with libcurl multi: its connection cache holds the connections,
/// each easy handle is cleaned up once its transfer is done.
IdleResult curl_idle(const std::string& url, unsigned connections);

// ---- helpers (http_uvinet.cpp)

/// User plus system CPU time of this process so far, in seconds.
double process_cpu_seconds();
/// The same for the waited-for children of this process.
double children_cpu_seconds();
/// The resident set size of this process, in bytes.
std::int64_t resident_bytes();
/// How many of this process's descriptors are sockets.
unsigned socket_count();

}  // namespace uvinet::bench::http

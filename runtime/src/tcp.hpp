// TCP: resolve with uv_getaddrinfo, connect to each address in turn within
// the resolve and connect timeouts, and the Stream over the connected socket.
// Loop thread only.
#pragma once

#include <uv.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "uvinet/status.hpp"
#include "uvinet/stream.hpp"

namespace uvinet::detail {

struct ConnectOptions {
  std::uint64_t resolve_timeout_ms = 0;  // 0: none
  std::uint64_t connect_timeout_ms = 0;  // for all addresses together; 0: none
};

/// Maps a libuv error to the uvinet error a user should see, with `where`.
Error uv_error(int uv_status, errc fallback, const std::string& where);

/// An attempt to connect. Dropping the last reference, or cancel(), aborts
/// it, and `done` is then never called.
class Connector {
 public:
  using Notify = std::function<void(Status, StatusInfo)>;
  using Done = std::function<void(Result<std::unique_ptr<Stream>>)>;

  static std::shared_ptr<Connector> start(uv_loop_t* loop, std::string host, std::uint16_t port,
                                          ConnectOptions options, Notify notify, Done done);
  virtual ~Connector() = default;
  virtual void cancel() = 0;
};

/// Wraps a connected socket; takes ownership of `tcp` (heap-allocated, freed
/// when closed).
std::unique_ptr<Stream> make_tcp_stream(uv_tcp_t* tcp, std::string peer_name);

/// "host:port", with brackets around an IPv6 address.
std::string host_port(const std::string& host, std::uint16_t port);

}  // namespace uvinet::detail

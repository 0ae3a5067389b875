// A CONNECT tunnel through an HTTP proxy (RFC 9110 §9.3.6): the request
// that asks the proxy for a TCP connection to the origin, and the wait for
// its answer. On a 2xx the proxy's stream carries the origin's bytes from
// then on, so the caller runs TLS over it.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "response_parser.hpp"
#include "uvinet/stream.hpp"
#include "uvinet/url.hpp"

namespace uvinet::http::detail {

/// "CONNECT host:port HTTP/1.1", Host with the same authority, and
/// Proxy-Authorization when `proxy_credentials` is not empty.
Result<std::string> connect_request(const Url& origin, const std::string& proxy_credentials);

/// Sends a CONNECT request over a stream to the proxy and reads the answer.
/// Destroying it before the end closes the stream; `done` then never runs.
class ProxyTunnel final : private ResponseSink {
 public:
  using Done = std::function<void(Result<std::unique_ptr<Stream>>)>;

  /// `proxy` names the proxy in error messages.
  ProxyTunnel(std::unique_ptr<Stream> stream, std::string proxy);
  ~ProxyTunnel();

  /// Writes `request`; `done` gets the stream once the proxy answered 2xx,
  /// or an error: cannot_connect naming the proxy's status line when it
  /// refused, connection_closed when it closed first, the parser's error
  /// for a malformed answer. `done` may destroy this object.
  void open(std::string request, Done done);

 private:
  void on_read(Result<std::string_view> data);
  void finish(Result<std::unique_ptr<Stream>> result);
  void on_status(int major, int minor, int status, std::string_view reason) override;
  void on_headers_complete(const ResponseHead& head) override;

  std::unique_ptr<Stream> stream_;
  std::string proxy_;
  Done done_;
  ResponseParser parser_;
  std::string status_line_;  // "407 Proxy Authentication Required"
  bool head_done_ = false;   // the final answer's head is in
  // Cut when this object goes: the write callback may come later.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace uvinet::http::detail

#include "proxy_tunnel.hpp"

#include <array>

#include "request_writer.hpp"

namespace uvinet::http::detail {

Result<std::string> connect_request(const Url& origin, const std::string& proxy_credentials) {
  // The authority-form target always has the port (RFC 9112 §3.2.3), and
  // Host repeats it (RFC 9110 §9.3.6 example).
  const std::string authority = origin.host_port();
  std::array<Field, 1> credentials{Field{"Proxy-Authorization", proxy_credentials}};
  RequestHead head;
  head.method = "CONNECT";
  head.target = authority;
  head.host = authority;
  if (!proxy_credentials.empty()) head.fields = credentials;
  return request_head(head);
}

ProxyTunnel::ProxyTunnel(std::unique_ptr<Stream> stream, std::string proxy)
    : stream_(std::move(stream)), proxy_(std::move(proxy)), parser_(*this) {
  parser_.set_request_kind(RequestKind::connect);
}

ProxyTunnel::~ProxyTunnel() {
  *alive_ = false;
  if (stream_) stream_->close();
}

void ProxyTunnel::open(std::string request, Done done) {
  done_ = std::move(done);
  stream_->read_start([this](Result<std::string_view> data) { on_read(data); });
  // Last: a write failing at once ends the tunnel, and `done` may destroy us.
  stream_->write(std::move(request), [this, alive = alive_](Error e) {
    if (*alive && e && stream_) finish(e);
  });
}

void ProxyTunnel::on_read(Result<std::string_view> data) {
  if (!data) {
    finish(data.error());
    return;
  }
  if (data->empty()) {
    finish(Error(errc::connection_closed,
                 "the proxy " + proxy_ + " closed the connection before answering CONNECT"));
    return;
  }
  auto used = parser_.feed(*data);
  if (!used) {
    finish(Error(used.error().code(),
                 "CONNECT answer from the proxy " + proxy_ + ": " + used.error().where()));
    return;
  }
  // A refusal's body (tinyproxy's runs until it closes) says nothing the
  // status line does not.
  if (head_done_ && !parser_.upgraded()) {
    finish(Error(errc::cannot_connect,
                 "the proxy " + proxy_ + " refused the tunnel: " + status_line_));
    return;
  }
  if (!parser_.done()) return;
  // TLS speaks first from our side, so a proxy has nothing to relay yet:
  // bytes after its 2xx head would be lost to the handshake.
  if (*used != data->size()) {
    finish(Error(errc::protocol_error,
                 "the proxy " + proxy_ + " sent bytes after its CONNECT answer"));
    return;
  }
  stream_->read_stop();
  finish(std::move(stream_));
}

void ProxyTunnel::finish(Result<std::unique_ptr<Stream>> result) {
  if (stream_) {
    stream_->close();
    stream_.reset();
  }
  // Last: `done` may destroy this object.
  auto done = std::move(done_);
  if (done) done(std::move(result));
}

void ProxyTunnel::on_status(int /*major*/, int /*minor*/, int status, std::string_view reason) {
  status_line_ = std::to_string(status) + " " + std::string(reason);
}

void ProxyTunnel::on_headers_complete(const ResponseHead& /*head*/) {
  head_done_ = true;
}

}  // namespace uvinet::http::detail

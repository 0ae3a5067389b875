// The runtime services a module gets for one request (uvinet::RequestEnv).
#pragma once

#include <list>
#include <memory>
#include <vector>

#include "session.hpp"
#include "tcp.hpp"
#include "tls_stream.hpp"

namespace uvinet::detail {

class RequestObject;

/// A uv_timer_t owned by a module; loop thread only.
std::unique_ptr<Timer> make_loop_timer(uv_loop_t* loop);

class RequestEnvImpl final : public RequestEnv {
 public:
  explicit RequestEnvImpl(RequestObject& request);
  ~RequestEnvImpl() override;

  Handle handle() const override;
  const Url& url() const override;
  void notify(Status status, StatusInfo info) override;
  void connect(std::string host, std::uint16_t port, ConnectCallback done) override;
  void connect_secure(std::string host, std::uint16_t port, ConnectCallback done) override;
  void secure(std::unique_ptr<Stream> stream, std::string host, ConnectCallback done) override;
  std::unique_ptr<Timer> make_timer() override;
  Result<OptionValue> option(Option o) const override;
  std::int64_t int_option(Option o) const override;
  std::string string_option(Option o) const override;
  const std::shared_ptr<void>& request_state() const override;
  std::shared_ptr<void> session_state(const std::function<std::shared_ptr<void>()>& make) override;

 private:
  void connect_with_slot(std::string host, std::uint16_t port,
                         std::shared_ptr<ServerGates::Slot> slot, ConnectCallback done);
  TlsSettings tls_settings() const;
  using ConfigCallback = std::function<void(Result<std::shared_ptr<const TlsConfig>>)>;
  /// Calls `then` with the TLS configuration of this request's options, on
  /// the loop thread and never inside this call. A configuration still in
  /// use comes from memory; a new one is read on a worker thread, since it
  /// reads files. Not called once the module is gone.
  void with_tls_config(ConfigCallback then);
  void start_handshake(std::unique_ptr<Stream> tcp, const std::string& host,
                       std::shared_ptr<const TlsConfig> config, ConnectCallback done);

  struct Handshake {
    std::unique_ptr<TlsStream> stream;
    std::unique_ptr<Timer> timer;
  };

  RequestObject& request_;
  // False once the module is gone: late callbacks must not reach it. Made
  // on first use (alive()): a request on a pooled connection never needs it.
  std::shared_ptr<bool> alive_;
  const std::shared_ptr<bool>& alive() {
    if (!alive_) alive_ = std::make_shared<bool>(true);
    return alive_;
  }
  std::vector<std::shared_ptr<Connector>> connectors_;
  std::list<Handshake> handshakes_;  // TLS streams until their handshake ends
};

}  // namespace uvinet::detail

#include "request_env.hpp"

#include <algorithm>

#include "loop.hpp"
#include "request.hpp"
#include "workers.hpp"

namespace uvinet::detail {
namespace {

class LoopTimer final : public Timer {
 public:
  explicit LoopTimer(uv_loop_t* loop) : timer_(new uv_timer_t) {
    uv_timer_init(loop, timer_);
    timer_->data = this;
  }
  ~LoopTimer() override {
    uv_close(reinterpret_cast<uv_handle_t*>(timer_),
             [](uv_handle_t* h) { delete reinterpret_cast<uv_timer_t*>(h); });
  }
  void start(std::uint64_t ms, std::function<void()> fn) override {
    fn_ = std::move(fn);
    uv_timer_start(
        timer_,
        [](uv_timer_t* t) {
          // The handler may destroy this timer: run a copy.
          auto fn = static_cast<LoopTimer*>(t->data)->fn_;
          fn();
        },
        ms, 0);
  }
  void stop() override { uv_timer_stop(timer_); }

 private:
  uv_timer_t* timer_;
  std::function<void()> fn_;
};

/// A stream that holds a connection slot (C7) until it is destroyed.
class SlotStream final : public Stream {
 public:
  SlotStream(std::unique_ptr<Stream> inner, std::shared_ptr<ServerGates::Slot> slot)
      : inner_(std::move(inner)), slot_(std::move(slot)) {}
  void read_start(ReadCallback cb) override { inner_->read_start(std::move(cb)); }
  void read_stop() override { inner_->read_stop(); }
  void write(std::string data, DoneCallback done) override {
    inner_->write(std::move(data), std::move(done));
  }
  std::size_t try_write(std::string_view data) override { return inner_->try_write(data); }
  void shutdown(DoneCallback done) override { inner_->shutdown(std::move(done)); }
  void close(std::function<void()> closed) override {
    inner_->close(std::move(closed));
    slot_.reset();
  }
  const std::string& peer_name() const override { return inner_->peer_name(); }
  void lend_read_buffer(std::span<char> buffer) override { inner_->lend_read_buffer(buffer); }

 private:
  std::unique_ptr<Stream> inner_;
  std::shared_ptr<ServerGates::Slot> slot_;
};

}  // namespace

std::unique_ptr<Timer> make_loop_timer(uv_loop_t* loop) {
  return std::make_unique<LoopTimer>(loop);
}

RequestEnvImpl::RequestEnvImpl(RequestObject& request) : request_(request) {}

RequestEnvImpl::~RequestEnvImpl() {
  if (alive_) *alive_ = false;
  for (auto& c : connectors_) c->cancel();
}

Handle RequestEnvImpl::handle() const {
  return request_.handle();
}

const Url& RequestEnvImpl::url() const {
  return request_.url();
}

Result<OptionValue> RequestEnvImpl::option(Option o) const {
  return request_.effective_option(o);
}

std::int64_t RequestEnvImpl::int_option(Option o) const {
  // context_value is the handle's context, not a stored option.
  if (option_is_string(o) || o == Option::context_value) return RequestEnv::int_option(o);
  return request_.int_option(o);
}

std::string RequestEnvImpl::string_option(Option o) const {
  if (!option_is_string(o)) return {};
  return request_.string_option(o);
}

const std::shared_ptr<void>& RequestEnvImpl::request_state() const {
  return request_.state();
}

std::shared_ptr<void> RequestEnvImpl::session_state(
    const std::function<std::shared_ptr<void>()>& make) {
  return request_.session().module_state(request_.module().get(), make);
}

void RequestEnvImpl::notify(Status status, StatusInfo info) {
  if (request_.wants(status)) request_.notify(status, std::move(info));
}

std::unique_ptr<Timer> RequestEnvImpl::make_timer() {
  return make_loop_timer(request_.loop()->uv());
}

void RequestEnvImpl::connect(std::string host, std::uint16_t port, ConnectCallback done) {
  SessionObject& session = request_.session();
  const std::string server = host_port(host, port);
  const auto limit = request_.int_option(Option::max_connections_per_server);
  const auto policy = static_cast<LimitPolicy>(request_.int_option(Option::limit_policy));
  auto loop = request_.loop();
  std::unique_ptr<ServerGates::Slot> slot;
  if (policy == LimitPolicy::queue) {
    slot = session.servers().acquire_or_wait(
        server, limit,
        [this, alive = alive(), loop, host, port, done](ServerGates::SlotPtr granted) {
          std::shared_ptr<ServerGates::Slot> shared(std::move(granted));
          loop->post([this, alive, host, port, done, shared] {
            if (*alive) connect_with_slot(host, port, shared, done);
          });
        });
    if (!slot) return;  // queued
  } else {
    slot = session.servers().try_acquire(server, limit);
    if (!slot) {
      // Report on a later loop pass: the module called us and may not expect
      // its callback inside the call.
      loop->post([alive = alive(), done, server, limit] {
        if (*alive) {
          done(Error(
              errc::too_many_connections,
              "connect to " + server + ": " + std::to_string(limit) + " connections already open"));
        }
      });
      return;
    }
  }
  connect_with_slot(std::move(host), port, std::move(slot), std::move(done));
}

void RequestEnvImpl::connect_with_slot(std::string host, std::uint16_t port,
                                       std::shared_ptr<ServerGates::Slot> slot,
                                       ConnectCallback done) {
  ConnectOptions options;
  options.resolve_timeout_ms =
      static_cast<std::uint64_t>(request_.int_option(Option::resolve_timeout_ms));
  options.connect_timeout_ms =
      static_cast<std::uint64_t>(request_.int_option(Option::connect_timeout_ms));
  auto notify = [this, alive = alive()](Status s, StatusInfo info) {
    if (*alive) request_.notify(s, std::move(info));
  };
  auto on_done = [alive = alive(), slot, done](Result<std::unique_ptr<Stream>> r) {
    if (!*alive) return;
    if (!r) {
      done(r.error());
      return;
    }
    done(std::unique_ptr<Stream>(std::make_unique<SlotStream>(std::move(*r), slot)));
  };
  connectors_.push_back(Connector::start(request_.loop()->uv(), std::move(host), port, options,
                                         std::move(notify), std::move(on_done)));
}

TlsSettings RequestEnvImpl::tls_settings() const {
  TlsSettings s;
  s.ca_file = request_.string_option(Option::ca_file);
  s.ca_directory = request_.string_option(Option::ca_directory);
  s.ca_pem = request_.string_option(Option::ca_pem);
  s.crl_file = request_.string_option(Option::crl_file);
  s.client_cert_file = request_.string_option(Option::client_cert_file);
  s.client_key_file = request_.string_option(Option::client_key_file);
  s.verify = request_.int_option(Option::insecure_skip_verify) == 0;
  return s;
}

void RequestEnvImpl::with_tls_config(ConfigCallback then) {
  auto loop = request_.loop();
  auto deliver = [alive = alive(), then = std::move(then)](auto config) {
    if (*alive) then(std::move(config));
  };
  TlsSettings settings = tls_settings();
  if (auto config = TlsConfig::cached(settings)) {
    loop->post([deliver, config] { deliver(Result<std::shared_ptr<const TlsConfig>>(config)); });
    return;
  }
  // `deliver` moves on to the loop: what it holds (a stream, the module's
  // callback) must be let go there, not on the worker.
  request_.workers()->post([loop, deliver, settings = std::move(settings)]() mutable {
    auto config = TlsConfig::get(settings);
    loop->post([deliver = std::move(deliver), config = std::move(config)] { deliver(config); });
  });
}

void RequestEnvImpl::connect_secure(std::string host, std::uint16_t port, ConnectCallback done) {
  with_tls_config([this, host = std::move(host), port, done](auto config) {
    if (!config) {
      done(config.error());
      return;
    }
    auto on_tcp = [this, host, config = *config, done](Result<std::unique_ptr<Stream>> tcp) {
      if (!tcp) {
        done(tcp.error());
        return;
      }
      start_handshake(std::move(*tcp), host, config, done);
    };
    connect(host, port, std::move(on_tcp));
  });
}

void RequestEnvImpl::secure(std::unique_ptr<Stream> stream, std::string host,
                            ConnectCallback done) {
  // `held` closes the stream if the module goes before the config arrives.
  auto held = std::make_shared<std::unique_ptr<Stream>>(std::move(stream));
  with_tls_config([this, held, host = std::move(host), done](auto config) {
    if (!config) {
      done(config.error());
      return;
    }
    start_handshake(std::move(*held), host, *config, done);
  });
}

void RequestEnvImpl::start_handshake(std::unique_ptr<Stream> tcp, const std::string& host,
                                     std::shared_ptr<const TlsConfig> config,
                                     ConnectCallback done) {
  const std::string peer = tcp->peer_name();
  // Resumed only with the very settings (CAs, client certificate,
  // verification) of the handshake that made the session.
  std::string session_key = tls_settings().key();
  session_key.append(1, '\0').append(host).append(1, '\0').append(peer);
  auto tls = TlsStream::make(std::move(tcp), std::move(config), host, make_timer(),
                             std::move(session_key));
  if (!tls) {
    done(tls.error());
    return;
  }
  auto it = handshakes_.insert(handshakes_.end(), Handshake{std::move(*tls), make_timer()});
  // Both endings take the stream out of the list first: the other one then
  // can no longer happen (the timer dies with the entry, the handshake with
  // the stream).
  const auto timeout = static_cast<std::uint64_t>(request_.int_option(Option::connect_timeout_ms));
  if (timeout > 0) {
    it->timer->start(timeout, [this, it, done, peer, timeout] {
      handshakes_.erase(it);
      done(Error(errc::connect_timeout, "TLS handshake with " + peer + ": no answer within " +
                                            std::to_string(timeout) + " ms"));
    });
  }
  auto notify = [this, alive = alive()](Status s, StatusInfo info) {
    if (*alive) request_.notify(s, std::move(info));
  };
  it->stream->handshake(std::move(notify), [this, it, done](Error e) {
    std::unique_ptr<Stream> stream = std::move(it->stream);
    handshakes_.erase(it);
    if (e) {
      done(e);
      return;
    }
    done(std::move(stream));
  });
}

}  // namespace uvinet::detail

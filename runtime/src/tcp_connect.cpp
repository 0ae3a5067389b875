// Connecting: resolve, then try each address in turn, all within timeouts.
#include <cstring>

#include "tcp.hpp"

namespace uvinet::detail {
namespace {

std::string address_text(const sockaddr* sa) {
  char text[INET6_ADDRSTRLEN] = {};
  if (sa->sa_family == AF_INET6) {
    uv_ip6_name(reinterpret_cast<const sockaddr_in6*>(sa), text, sizeof text);
  } else {
    uv_ip4_name(reinterpret_cast<const sockaddr_in*>(sa), text, sizeof text);
  }
  return text;
}

class TcpConnector final : public Connector, public std::enable_shared_from_this<TcpConnector> {
 public:
  TcpConnector(uv_loop_t* loop, std::string host, std::uint16_t port, ConnectOptions options,
               Notify notify, Done done)
      : loop_(loop),
        host_(std::move(host)),
        port_(port),
        options_(options),
        notify_(std::move(notify)),
        done_(std::move(done)) {}

  ~TcpConnector() override { abort(); }

  void begin() {
    notify_(Status::resolving_name, StatusInfo{{}, host_, 0});
    auto* req = new Resolve{{}, weak_from_this()};
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    // No AI_ADDRCONFIG: glibc ignores loopback when it decides whether the
    // host "has" IPv6, so [::1] would not resolve on a machine whose only
    // IPv6 address is ::1. Every address is tried in turn anyway.
    const std::string port = std::to_string(port_);
    // Strip the brackets an IPv6 literal may carry.
    std::string node = host_;
    if (node.size() > 2 && node.front() == '[' && node.back() == ']') {
      node = node.substr(1, node.size() - 2);
    }
    const int rc =
        uv_getaddrinfo(loop_, &req->req, on_resolved, node.c_str(), port.c_str(), &hints);
    if (rc != 0) {
      delete req;
      finish(uv_error(rc, errc::name_not_resolved, "resolve " + host_));
      return;
    }
    resolving_ = &req->req;
    start_timer(options_.resolve_timeout_ms, [this] {
      if (resolving_) uv_cancel(reinterpret_cast<uv_req_t*>(resolving_));
      resolving_ = nullptr;
      finish(Error(errc::resolve_timeout, "resolve " + host_));
    });
  }

  void cancel() override { abort(); }

 private:
  struct Resolve {
    uv_getaddrinfo_t req;
    std::weak_ptr<TcpConnector> owner;
  };
  struct Attempt {
    uv_tcp_t* tcp = nullptr;
    uv_connect_t req{};
    std::weak_ptr<TcpConnector> owner;
  };

  static void on_resolved(uv_getaddrinfo_t* req, int status, addrinfo* res) {
    std::unique_ptr<Resolve> r(reinterpret_cast<Resolve*>(req));
    std::unique_ptr<addrinfo, decltype(&uv_freeaddrinfo)> list(res, uv_freeaddrinfo);
    auto self = r->owner.lock();
    if (!self || !self->done_ || self->resolving_ != req) return;  // gave up already
    self->resolving_ = nullptr;
    self->stop_timer();
    if (status != 0) {
      self->finish(uv_error(status, errc::name_not_resolved, "resolve " + self->host_));
      return;
    }
    for (addrinfo* ai = res; ai; ai = ai->ai_next) {
      sockaddr_storage ss{};
      std::memcpy(&ss, ai->ai_addr, ai->ai_addrlen);
      self->addresses_.push_back(ss);
    }
    std::string names;
    for (const auto& ss : self->addresses_) {
      if (!names.empty()) names += ' ';
      names += address_text(reinterpret_cast<const sockaddr*>(&ss));
    }
    self->notify_(Status::name_resolved, StatusInfo{{}, names, self->addresses_.size()});
    self->start_timer(self->options_.connect_timeout_ms, [raw = self.get()] {
      raw->finish(Error(errc::connect_timeout, "connect to " + host_port(raw->host_, raw->port_)));
    });
    self->try_next();
  }

  void try_next() {
    if (next_ >= addresses_.size()) {
      finish(last_error_ ? last_error_
                         : Error(errc::cannot_connect, "connect to " + host_port(host_, port_)));
      return;
    }
    const auto* sa = reinterpret_cast<const sockaddr*>(&addresses_[next_++]);
    current_name_ = host_port(address_text(sa), port_);
    notify_(Status::connecting_to_server, StatusInfo{{}, current_name_, 0});
    auto* attempt = new Attempt;
    attempt->owner = weak_from_this();
    attempt->tcp = new uv_tcp_t;
    uv_tcp_init(loop_, attempt->tcp);
    attempt_ = attempt;
    const int rc = uv_tcp_connect(&attempt->req, attempt->tcp, sa, on_connected);
    if (rc != 0) {
      attempt_ = nullptr;
      close_socket(attempt->tcp);
      delete attempt;
      last_error_ = uv_error(rc, errc::cannot_connect, "connect to " + current_name_);
      try_next();
    }
  }

  static void on_connected(uv_connect_t* req, int status) {
    std::unique_ptr<Attempt> attempt(
        reinterpret_cast<Attempt*>(reinterpret_cast<char*>(req) - offsetof(Attempt, req)));
    auto self = attempt->owner.lock();
    if (!self || self->attempt_ != attempt.get()) {
      // Abandoned (timeout or cancel): the socket was closed by abort().
      return;
    }
    self->attempt_ = nullptr;
    if (status != 0) {
      close_socket(attempt->tcp);
      self->last_error_ =
          uv_error(status, errc::cannot_connect, "connect to " + self->current_name_);
      self->try_next();
      return;
    }
    uv_tcp_nodelay(attempt->tcp, 1);
    self->stop_timer();
    self->notify_(Status::connected_to_server, StatusInfo{{}, self->current_name_, 0});
    auto done = std::move(self->done_);
    self->done_ = nullptr;
    done(make_tcp_stream(attempt->tcp, self->current_name_));
  }

  static void close_socket(uv_tcp_t* tcp) {
    uv_close(reinterpret_cast<uv_handle_t*>(tcp),
             [](uv_handle_t* h) { delete reinterpret_cast<uv_tcp_t*>(h); });
  }

  void start_timer(std::uint64_t ms, std::function<void()> fire) {
    if (ms == 0) return;
    if (!timer_) {
      timer_ = new uv_timer_t;
      uv_timer_init(loop_, timer_);
    }
    on_timer_ = std::move(fire);
    timer_->data = this;
    uv_timer_start(
        timer_,
        [](uv_timer_t* t) {
          // The handler may end the connector's life: keep it, and the
          // handler, alive until the handler returns.
          auto self = static_cast<TcpConnector*>(t->data)->shared_from_this();
          auto fire = self->on_timer_;
          fire();
        },
        ms, 0);
  }

  void stop_timer() {
    if (timer_) uv_timer_stop(timer_);
  }

  // Reports the outcome once and drops every libuv resource still held.
  void finish(Error error) {
    if (!done_) return;
    auto done = std::move(done_);
    done_ = nullptr;
    abort();
    done(std::move(error));
  }

  void abort() {
    done_ = nullptr;
    if (resolving_) {
      uv_cancel(
          reinterpret_cast<uv_req_t*>(resolving_));  // its callback still runs, and ignores us
      resolving_ = nullptr;
    }
    if (attempt_) {
      // uv_close makes the pending connect call back with ECANCELED; the
      // attempt is freed there.
      close_socket(attempt_->tcp);
      attempt_ = nullptr;
    }
    if (timer_) {
      uv_close(reinterpret_cast<uv_handle_t*>(timer_),
               [](uv_handle_t* h) { delete reinterpret_cast<uv_timer_t*>(h); });
      timer_ = nullptr;
    }
  }

  uv_loop_t* loop_;
  std::string host_;
  std::uint16_t port_;
  ConnectOptions options_;
  Notify notify_;
  Done done_;
  std::vector<sockaddr_storage> addresses_;
  std::size_t next_ = 0;
  std::string current_name_;
  Error last_error_;
  uv_getaddrinfo_t* resolving_ = nullptr;
  Attempt* attempt_ = nullptr;
  uv_timer_t* timer_ = nullptr;
  std::function<void()> on_timer_;
};

}  // namespace

std::shared_ptr<Connector> Connector::start(uv_loop_t* loop, std::string host, std::uint16_t port,
                                            ConnectOptions options, Notify notify, Done done) {
  auto c = std::make_shared<TcpConnector>(loop, std::move(host), port, options, std::move(notify),
                                          std::move(done));
  c->begin();
  return c;
}

}  // namespace uvinet::detail

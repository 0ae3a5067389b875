// Exchange: getting a connection and sending the request, redirects and
// the retry on a stale pooled connection.
#include <algorithm>

#include "basic_auth.hpp"
#include "exchange.hpp"
#include "proxy_choice.hpp"
#include "proxy_tunnel.hpp"
#include "request_writer.hpp"

namespace uvinet::http::detail {
namespace {

bool has_field(const Fields& fields, std::string_view name) {
  return std::any_of(fields.begin(), fields.end(),
                     [&](const auto& f) { return iequals(f.first, name); });
}

void erase_fields(Fields& fields, std::initializer_list<std::string_view> names) {
  std::erase_if(fields, [&](const auto& f) {
    return std::any_of(names.begin(), names.end(),
                       [&](std::string_view n) { return iequals(f.first, n); });
  });
}

// RFC 9110 §9.2.2. A retry may send these twice without harm.
bool idempotent(std::string_view method) {
  return method == "GET" || method == "HEAD" || method == "PUT" || method == "DELETE" ||
         method == "OPTIONS" || method == "TRACE";
}

// Methods whose empty body still gets "Content-Length: 0" (RFC 9110 §8.6).
bool expects_body(std::string_view method) {
  return method == "POST" || method == "PUT" || method == "PATCH";
}

}  // namespace

Result<void> Exchange::load_request(std::string body) {
  std::optional<std::uint64_t> total;
  {
    // Frozen once sent (send_request set `sent`), and read by nothing else
    // after: taken rather than copied.
    std::lock_guard lock(shared_->mutex);
    method_ = std::move(shared_->method);
    flags_ = shared_->flags;
    fields_ = std::move(shared_->fields);
    total = shared_->total_length;
  }
  std::string user_option;
  std::string password_option;
  std::string_view user = url_.user;
  std::string_view password = url_.password;
  if (user.empty() && password.empty()) {
    user_option = env_.string_option(Option::username);
    password_option = env_.string_option(Option::password);
    user = user_option;
    password = password_option;
  }
  if (user.find(':') != std::string_view::npos) {
    return Error(errc::invalid_argument, "Basic authentication: the user name holds ':'");
  }
  if (!user.empty() || !password.empty()) credentials_ = basic_credentials(user, password);

  if (total && *total == chunked) {
    chunked_upload_ = true;
    replayable_ = false;
  } else if (total && *total != body.size()) {
    if (*total < body.size()) {
      return Error(errc::invalid_argument,
                   "send_request: a body of " + std::to_string(body.size()) +
                       " bytes is longer than its total length " + std::to_string(*total));
    }
    upload_length_ = total;
    replayable_ = false;
  }
  body_ = std::move(body);
  return {};
}

void Exchange::acquire_connection() {
  state_ = State::connecting;
  // Views, not C strings: a size compared first, no strlen.
  const bool secure = url_.scheme == std::string_view("https");
  if (!secure && url_.scheme != std::string_view("http")) {
    fail(Error(errc::unsupported_scheme,
               url_.scheme + "://" + url_.host_port() + ": only http and https are spoken"));
    return;
  }
  if (auto routed = choose_route(); !routed) {
    fail(routed.error());
    return;
  }
  if (!fresh_only_) {
    if (auto pooled = pool_->take(*key_)) {
      use_connection(std::move(pooled));
      return;
    }
    // With LimitPolicy::queue the connect below may wait for a free slot;
    // a connection another request releases meanwhile is quicker.
    wait_ticket_ = pool_->wait(*key_, [this](std::unique_ptr<PooledConnection> c) {
      wait_ticket_ = 0;
      use_connection(std::move(c));
    });
  }
  auto connected = [this, key = key_](Result<std::unique_ptr<Stream>> stream) {
    on_connected(*key, std::move(stream));
  };
  if (secure && proxy_) {
    open_tunnel(std::move(connected));
  } else if (secure) {
    env_.connect_secure(url_.host, url_.port, std::move(connected));
  } else {
    const Url& peer = proxy_ ? *proxy_ : url_;
    env_.connect(peer.host, peer.port, std::move(connected));
  }
}

void Exchange::open_tunnel(ConnectCallback connected) {
  // TCP to the proxy, CONNECT through it to the origin, then TLS with the
  // origin inside the tunnel: the proxy relays bytes it cannot read.
  const std::string proxy = proxy_->host_port();
  env_.connect(proxy_->host, proxy_->port,
               [this, proxy, key = key_, connected](Result<std::unique_ptr<Stream>> tcp) {
                 if (!tcp) {
                   connected(tcp.error());
                   return;
                 }
                 // Not needed any more: a bare connection to the proxy is of
                 // no use to the pool, so it just closes.
                 if (*key != *key_ || state_ != State::connecting || conn_) return;
                 auto request = connect_request(url_, proxy_credentials_);
                 if (!request) {
                   connected(request.error());
                   return;
                 }
                 tunnel_ = std::make_unique<ProxyTunnel>(std::move(*tcp), proxy);
                 arm_timer(Option::connect_timeout_ms, errc::connect_timeout);
                 tunnel_->open(std::move(*request), [this, connected](auto stream) {
                   on_tunnel(std::move(stream), connected);
                 });
               });
}

void Exchange::on_tunnel(Result<std::unique_ptr<Stream>> stream, const ConnectCallback& connected) {
  if (state_ == State::connecting && !conn_) stop_timer();
  auto tunnel = std::move(tunnel_);  // dies when this returns, its callback done
  if (!stream) {
    connected(stream.error());
    return;
  }
  env_.secure(std::move(*stream), url_.host, connected);
}

// The proxy and the pool key for url_, the session's last ones when url_'s
// server and the proxy options are the same. The proxy variables are read
// once per session, at its first request: a later change to the process
// environment applies to the sessions opened after it (http.hpp).
Result<void> Exchange::choose_route() {
  if (!session_->environment) session_->environment.emplace();
  ProxySettings settings;
  settings.proxy = env_.string_option(Option::proxy);
  settings.from_environment = env_.int_option(Option::proxy_from_environment) != 0;
  // Left empty when no proxy could apply: the route is the same either way.
  if (no_proxy_matters(settings, *session_->environment)) {
    settings.no_proxy = env_.string_option(Option::no_proxy);
  }
  auto& route = session_->route;
  if (!route || route->port != url_.port || route->host != url_.host ||
      route->scheme != url_.scheme || route->settings != settings) {
    auto chosen = new_route(std::move(settings));
    if (!chosen) return chosen.error();
    route = std::make_shared<const SessionState::Route>(std::move(*chosen));
  }
  route_ = route;
  proxy_ = route->proxy;
  proxy_credentials_ = route->proxy_credentials;
  key_ = route->key ? route->key
                    : std::make_shared<const std::string>(connection_key(env_, url_) + route->via);
  return {};
}

Result<SessionState::Route> Exchange::new_route(ProxySettings settings) {
  auto chosen = choose_proxy(url_, settings, session_->environment->getenv());
  if (!chosen) return chosen.error();
  SessionState::Route route;
  route.scheme = url_.scheme;
  route.host = url_.host;
  route.port = url_.port;
  route.settings = std::move(settings);
  route.proxy = std::move(*chosen);
  route.host_field = host_field(url_);
  if (!append_host_field(route.host_line, route.host_field)) route.host_line.clear();
  const auto& proxy = route.proxy;
  if (proxy && (!proxy->user.empty() || !proxy->password.empty())) {
    if (proxy->user.find(':') != std::string::npos) {
      return Error(errc::invalid_argument, "Basic authentication to the proxy " +
                                               proxy->host_port() + ": the user name holds ':'");
    }
    route.proxy_credentials = basic_credentials(proxy->user, proxy->password);
  }
  // A connection to a proxy is never handed to a direct request, nor one
  // proxy's to another's: the key names the proxy (and its user, whose
  // credentials a proxy may tie to the connection).
  if (proxy)
    route.via = " via " + (proxy->user.empty() ? "" : proxy->user + "@") + proxy->host_port();
  if (url_.scheme != "https") {
    route.key = std::make_shared<const std::string>(connection_key(env_, url_) + route.via);
  }
  return route;
}

void Exchange::on_connected(const std::string& key, Result<std::unique_ptr<Stream>> stream) {
  if (state_ == State::connecting && !conn_ && key == *key_) {
    if (wait_ticket_) pool_->cancel_wait(std::exchange(wait_ticket_, 0));
    if (!stream) {
      fail(stream.error());
      return;
    }
    use_connection(std::make_unique<PooledConnection>(PooledConnection{std::move(*stream), key}));
    return;
  }
  // We got another connection meanwhile: this one waits in the pool for
  // the next request.
  if (stream) {
    pool_->put(std::make_unique<PooledConnection>(PooledConnection{std::move(*stream), key}),
               idle_timeout_ms(env_));
  }
}

void Exchange::use_connection(std::unique_ptr<PooledConnection> connection) {
  conn_ = std::move(connection);
  parser_.reset();
  const bool head = method_ == std::string_view("HEAD");
  parser_.set_request_kind(head ? RequestKind::head : RequestKind::normal);
  response_bytes_ = 0;
  redirect_.reset();
  decoder_.reset();
  send_head();
}

// Straight into one string, reserved for the whole head and the body
// send_head() appends: the fields the application set, then those the
// options and the state add. The lines that come from the route and the
// session's options (Host, User-Agent) were checked when first made.
Result<void> Exchange::build_head(std::string& out) const {
  const std::string user_agent = env_.string_option(Option::user_agent);
  std::size_t size = 128 + method_.size() + url_.path.size() + url_.query.size() +
                     route_->host_field.size() + user_agent.size() + credentials_.size() +
                     proxy_credentials_.size() + cookie_.size() + body_.size();
  for (const auto& [name, value] : fields_) size += name.size() + value.size() + 4;
  out.reserve(size);
  if (auto line = append_line_and_host(out); !line) return line;
  for (const auto& [name, value] : fields_) {
    if (auto ok = append_header_field(out, {name, value}); !ok) return ok;
  }
  if (auto ok = append_added_fields(out, user_agent); !ok) return ok;
  if (chunked_upload_) {
    append_head_end(out, Framing::chunked, 0);
  } else if (upload_length_) {
    append_head_end(out, Framing::content_length, *upload_length_);
  } else if (!body_.empty() || expects_body(method_)) {
    append_head_end(out, Framing::content_length, body_.size());
  } else {
    append_head_end(out, Framing::none, 0);
  }
  return {};
}

// The request line and Host.
Result<void> Exchange::append_line_and_host(std::string& out) const {
  // A proxy is told the whole URL (RFC 9112 §3.2.2); Host still names the
  // origin. Through a tunnel the origin itself reads the request, and the
  // proxy's credentials must not reach it.
  const bool absolute = proxy_ && !tunneled();
  const std::string_view path = url_.path.empty() ? std::string_view("/") : url_.path;
  const std::string_view query_mark = url_.query.empty() ? std::string_view() : "?";
  auto line = absolute ? append_request_line(out, method_, {absolute_form(url_)})
                       : append_request_line(out, method_, {path, query_mark, url_.query});
  if (!line) return line;
  if (route_->host_line.empty()) return append_host_field(out, route_->host_field);
  out.append(route_->host_line);
  return {};
}

// The fields the options and the state add, after the application's, each
// unless the application set it.
Result<void> Exchange::append_added_fields(std::string& out, std::string_view user_agent) const {
  const auto unset = [&](std::string_view name) {
    return fields_.empty() || !has_field(fields_, name);
  };
  if (!user_agent.empty() && unset("User-Agent")) {
    if (auto ok = session_->user_agent_line.append(out, user_agent); !ok) return ok;
  }
  if (env_.int_option(Option::decompress) && unset("Accept-Encoding")) {
    out.append("Accept-Encoding: gzip, deflate\r\n");
  }
  if (!credentials_.empty() && unset("Authorization")) {
    if (auto ok = append_header_field(out, {"Authorization", credentials_}); !ok) return ok;
  }
  if (!proxy_credentials_.empty() && !tunneled() && unset("Proxy-Authorization")) {
    if (auto ok = append_header_field(out, {"Proxy-Authorization", proxy_credentials_}); !ok) {
      return ok;
    }
  }
  if (!cookie_.empty()) {
    if (auto ok = append_header_field(out, {"Cookie", cookie_}); !ok) return ok;
  }
  if ((flags_ & no_keep_alive) && unset("Connection")) out.append("Connection: close\r\n");
  return {};
}

void Exchange::send_head() {
  // Asked for each request that goes out (a redirect's, a retry's too): the
  // previous response may have set or deleted cookies. A Cookie field the
  // application set itself goes instead of the jar's.
  cookie_.clear();
  if (cookies_on() && !has_field(fields_, "Cookie")) {
    auto cookies = session_->cookies.header_for(url_, CookieClock::now());
    if (cookies.count > 0) {
      cookie_ = std::move(cookies.value);
      env_.notify(Status::cookie_sent, StatusInfo{{}, cookie_, cookies.count});
    }
  }
  // In memory an earlier request gave back (write()): no allocation.
  std::string bytes = session_->take_buffer();
  if (auto head = build_head(bytes); !head) {
    fail(head.error());
    return;
  }
  if (chunked_upload_) {
    bytes += chunk(body_);
  } else {
    bytes += body_;
  }
  uploaded_ = body_.size();
  if (!replayable_) body_.clear();  // sent once, never again
  state_ = State::sending;
  const std::size_t size = bytes.size();
  env_.notify(Status::sending_request, StatusInfo{{}, {}, size});
  write(std::move(bytes), [this, size] {
    env_.notify(Status::request_sent, StatusInfo{{}, {}, size});
    if (chunked_upload_ || (upload_length_ && uploaded_ < *upload_length_)) {
      state_ = State::uploading;
    } else {
      begin_response();
    }
    if (op_ && op_->verb() == verb_send_request) finish_op(OperationValue{});
  });
}

// `then` runs once the bytes are out: inside this call when the stream took
// them all at once, so the operation it completes completes at once too (C1)
// and costs no write callback, loop pass or queued completion. The memory
// of bytes written at once goes to the session for the next ones.
void Exchange::write(std::string bytes, std::function<void()> then) {
  const std::size_t sent = conn_->stream->try_write(bytes);
  if (sent == bytes.size()) {
    session_->give_back(bytes);
    if (!reading_) stop_timer();  // as the callback below would
    then();
    return;
  }
  bytes.erase(0, sent);
  writing_ = true;
  arm_timer(Option::send_timeout_ms, errc::send_timeout);
  conn_->stream->write(std::move(bytes), [this, then = std::move(then)](Error e) {
    writing_ = false;
    if (!reading_) stop_timer();
    if (state_ == State::failed || state_ == State::closing || state_ == State::closed) return;
    if (e) {
      if (!retry_on_fresh_connection(e)) fail(e);
      return;
    }
    then();
  });
}

void Exchange::end_body(bool complete_op) {
  const auto then = [this, complete_op] {
    begin_response();
    if (complete_op) {
      finish_op(OperationValue{});
    } else {
      serve();
    }
  };
  if (chunked_upload_) {
    state_ = State::sending;
    write(*last_chunk(), then);
    return;
  }
  if (uploaded_ != *upload_length_) {
    finish_op(Error(errc::invalid_state, "end_request: " + std::to_string(uploaded_) + " of " +
                                             std::to_string(*upload_length_) +
                                             " body bytes written"));
    return;
  }
  then();
}

bool Exchange::retry_on_fresh_connection(const Error& why) {
  // Only a reused connection can have been closed by the server while it
  // sat in the pool, and only before any byte of the response came.
  if (retried_ || !conn_ || conn_->requests == 0 || response_bytes_ > 0 || !replayable_ ||
      !idempotent(method_) || (state_ != State::sending && state_ != State::waiting)) {
    return false;
  }
  (void)why;
  retried_ = true;
  fresh_only_ = true;
  stop_reading();
  conn_->stream->close();
  conn_.reset();
  acquire_connection();
  return true;
}

void Exchange::follow_redirect() {
  RedirectPlan plan = std::move(*redirect_);
  redirect_.reset();
  const auto text = create_url(plan.url).value_or(plan.url.host_port());
  const auto max = env_.int_option(Option::max_redirects);
  if (redirects_ >= max) {
    fail(Error(errc::too_many_redirects,
               "more than " + std::to_string(max) + " redirects, the last to " + text));
    return;
  }
  ++redirects_;
  env_.notify(Status::redirect, StatusInfo{{}, text, redirects_});
  if (!plan.keep_body) {
    body_.clear();
    erase_fields(fields_,
                 {"Content-Type", "Content-Encoding", "Content-Language", "Content-Location"});
  }
  if (plan.cross_origin) {
    erase_fields(fields_, {"Authorization", "Cookie"});
    credentials_.clear();
  }
  method_ = std::move(plan.method);
  url_ = std::move(plan.url);
  retried_ = false;
  fresh_only_ = false;
  acquire_connection();
}

}  // namespace uvinet::http::detail

// Exchange: reading the response, the keep-alive decision, timers.
#include "exchange.hpp"

#include <charconv>

namespace uvinet::http::detail {
namespace {

constexpr std::size_t kHighWater = 1 << 20;  // reading pauses above this

}  // namespace

void Exchange::begin_response() {
  state_ = State::waiting;
  env_.notify(Status::receiving_response);
  start_reading();
}

void Exchange::start_reading() {
  paused_ = held_ = false;
  if (!conn_) return;
  if (!reading_) {
    reading_ = true;
    conn_->stream->read_start([this](Result<std::string_view> data) { on_read(data); });
  }
  arm_timer(Option::receive_timeout_ms, errc::receive_timeout);
}

void Exchange::stop_reading() {
  if (reading_ && conn_) conn_->stream->read_stop();
  reading_ = false;
  if (!writing_) stop_timer();
}

void Exchange::on_read(Result<std::string_view> data) {
  if (!data) {
    if (!retry_on_fresh_connection(data.error())) fail(data.error());
    return;
  }
  if (data->empty()) {
    on_end_of_stream();
    return;
  }
  response_bytes_ += data->size();
  arm_timer(Option::receive_timeout_ms, errc::receive_timeout);
  const bool had_data = buffered() + direct_ > 0;
  const bool into_lent = lent_ && data->data() == lent_to_;
  auto used = parser_.feed(*data);
  if (!used) {
    const Error& e = used.error();
    fail(Error(e.code(), "response from " + url_.host_port() + ": " + e.where()));
    return;
  }
  if (parser_.done()) {
    on_message_done(parser_.keep_alive() && !parser_.upgraded() && *used == data->size());
    return;
  }
  // After a read straight into the caller's buffer, the next bytes wait in
  // the socket until a read waits for them (held_: serve() starts
  // reading again only then), instead of coming through buffer_, a copy
  // each way.
  if (into_lent || buffered() >= kHighWater) {
    stop_reading();
    paused_ = true;
    held_ = held_ || into_lent;
  }
  if (!had_data && buffered() + direct_ > 0 && op_) {
    env_.notify(Status::data_available, StatusInfo{{}, {}, buffered() + direct_});
  }
  serve();
}

void Exchange::on_end_of_stream() {
  reading_ = false;
  auto finished = parser_.finish();
  if (finished && parser_.done()) {
    on_message_done(false);  // a body delimited by the close
    return;
  }
  Error why = response_bytes_ == 0
                  ? Error(errc::connection_closed,
                          url_.host_port() + " closed the connection before responding")
                  : Error(finished.error().code(),
                          "response from " + url_.host_port() + ": " + finished.error().where());
  if (!retry_on_fresh_connection(why)) fail(std::move(why));
}

void Exchange::on_message_done(bool reusable) {
  reusable = reusable && !writing_ && !(flags_ & no_keep_alive);
  if (redirect_) {
    release_connection(reusable);
    follow_redirect();
    return;
  }
  if (decoder_) {
    if (auto finished = decoder_->finish(); !finished) {
      fail(finished.error());
      return;
    }
  }
  state_ = State::complete;
  release_connection(reusable);
  serve();
}

void Exchange::release_connection(bool reusable) {
  take_back_buffer();
  if (!conn_) return;
  if (!reusable) {
    close_connection();
    return;
  }
  // The stream keeps reading: the pool takes it over with a read_start of
  // its own (or stops it, for a waiting request), which costs no epoll
  // change, unlike a stop here and a start there.
  reading_ = false;
  stop_timer();
  ++conn_->requests;
  pool_->put(std::move(conn_), idle_timeout_ms(env_));
}

void Exchange::close_connection() {
  take_back_buffer();
  if (!conn_) return;
  stop_reading();
  env_.notify(Status::closing_connection, StatusInfo{{}, conn_->stream->peer_name(), 0});
  auto connection = std::move(conn_);
  if (!alive_) alive_ = std::make_shared<bool>(true);
  connection->stream->close([this, alive = alive_] {
    if (*alive) env_.notify(Status::connection_closed);
  });
}

void Exchange::arm_timer(Option which, errc code) {
  const auto ms = env_.int_option(which);
  if (ms <= 0) return;
  // Made on first use: with no timeouts set (the default) a request never
  // needs one, and a libuv timer costs an init and a close.
  if (!timer_) timer_ = env_.make_timer();
  timer_->start(static_cast<std::uint64_t>(ms), [this, which, code, ms] {
    fail(
        Error(code, std::string(which == Option::send_timeout_ms ? "sending to " : "waiting for ") +
                        url_.host_port() + " for " + std::to_string(ms) + " ms"));
  });
}

// ---- ResponseSink: what the parser found. No I/O in here: the parser is
// in the middle of feed(), so transitions wait for on_read().

void Exchange::on_status(int major, int minor, int status, std::string_view reason) {
  reset_head();
  auto& head = building_;
  head.status = status;
  // "HTTP/1.1 200 " in one append: the line as Response::raw and version have
  // it (the reason and CRLF follow).
  char line[48] = "HTTP/";
  char* const end = line + sizeof line - 1;  // room for the byte after each number
  char* p = std::to_chars(line + 5, end, major).ptr;
  *p++ = '.';
  p = std::to_chars(p, end, minor).ptr;
  head.version_size = static_cast<std::size_t>(p - line);
  *p++ = ' ';
  p = std::to_chars(p, end, status).ptr;
  *p++ = ' ';
  head.raw.append(line, static_cast<std::size_t>(p - line));
  head.reason_at = head.raw.size();
  head.reason_size = reason.size();
  head.raw.append(reason).append("\r\n", 2);
}

// Appended to the head's text, with no string of its own: the queries read
// it there (HeadText).
void Exchange::on_header(std::string_view name, std::string_view value) {
  auto& raw = building_.raw;
  building_.fields.push_back({raw.size(), name.size(), value.size()});
  // Most lines are "Name: value" as received already (ResponseSink says the
  // name and value lie in one view of the line): one append, not three.
  const std::size_t line_size = static_cast<std::size_t>(value.data() + value.size() - name.data());
  if (line_size == name.size() + 2 + value.size() && name.data()[name.size() + 1] == ' ') {
    raw.append(name.data(), line_size);
  } else {
    raw.append(name).append(": ", 2).append(value);
  }
  raw.append("\r\n", 2);
}

// Starts building_ afresh, in the storage of a head a closed request left
// the session when there is one.
void Exchange::reset_head() {
  auto& spares = session_->spare_heads;
  if (building_.fields.capacity() == 0 && !spares.empty()) {
    building_ = std::move(spares.back());
    spares.pop_back();
  }
  building_.clear();
  // Room for a usual head at once, rather than growing field by field.
  if (building_.fields.capacity() < 16) building_.fields.reserve(16);
  if (building_.raw.capacity() < 512) building_.raw.reserve(512);
}

// The handle is closing: its response head and body buffer go to the
// session for the next requests. Queries see a closed handle from now on,
// so none can read the head while it is reused.
void Exchange::recycle() {
  {
    // Straight from the shared state to the spares: a head moved once.
    std::lock_guard lock(shared_->mutex);
    shared_->closed = true;
    auto& head = shared_->response;
    if (head && head->raw.capacity() <= SessionState::kSpareHeadBytes &&
        session_->spare_heads.size() < SessionState::kSpares) {
      session_->spare_heads.push_back(std::move(*head));
    }
    head.reset();
  }
  if (session_->give_back(buffer_)) buffer_pos_ = 0;
}

void Exchange::on_interim(const ResponseHead& head) {
  env_.notify(Status::intermediate_response,
              StatusInfo{{}, std::to_string(head.status), static_cast<std::uint64_t>(head.status)});
}

void Exchange::on_headers_complete(const ResponseHead& head) {
  env_.notify(Status::response_received, StatusInfo{{}, {}, response_bytes_});
  store_cookies();  // before the redirect: a 3xx's cookies count for where it leads
  if (should_follow(head)) return;
  // The field first: a look through the head costs less than an option
  // lookup, and most responses have no Content-Encoding.
  if (head.body != BodyKind::none && head.body != BodyKind::tunnel) {
    const auto encoding = building_.header("Content-Encoding");
    if (encoding && env_.int_option(Option::decompress)) {
      if (auto coding = decodable_coding(*encoding)) {
        decoder_ = std::make_unique<ContentDecoder>(
            *coding, static_cast<std::uint64_t>(env_.int_option(Option::max_decoded_bytes)));
      }
    }
  }
  publish_response();  // last: it gives building_ away
  // The body's buffer, in memory a closed request left when there is some.
  if (buffer_.capacity() == std::string().capacity()) buffer_ = session_->take_buffer();
  state_ = State::body;
  env_.notify(Status::headers_available,
              StatusInfo{{}, {}, static_cast<std::uint64_t>(head.status)});
}

bool Exchange::should_follow(const ResponseHead& head) {
  if (!is_redirect_status(head.status) || (flags_ & no_auto_redirect)) return false;
  const auto policy = static_cast<RedirectPolicy>(env_.int_option(Option::redirect_policy));
  if (policy == RedirectPolicy::never) return false;
  const auto location = building_.header("Location");
  if (!location) return false;  // nowhere to go: the 3xx is the answer
  auto plan = plan_redirect(head.status, *location, url_, method_, policy);
  if (!plan) {
    parser_.stop(plan.error());
    return true;
  }
  // A body the application streamed is gone: it cannot go again.
  if (plan->keep_body && !replayable_ && (chunked_upload_ || upload_length_)) return false;
  redirect_ = std::move(*plan);
  return true;
}

bool Exchange::cookies_on() const {
  return env_.int_option(Option::cookies) != 0 && !(flags_ & no_cookies);
}

void Exchange::store_cookies() {
  // The field first, as for Content-Encoding: most responses set no cookie.
  if (!building_.header("Set-Cookie") || !cookies_on()) return;
  const auto now = CookieClock::now();
  for (const auto& field : building_.fields) {
    if (!iequals(building_.name(field), "Set-Cookie")) continue;
    const auto value = building_.value(field);
    const auto outcome = session_->cookies.store(value, url_, now);
    // number: 1 when the jar took it (stored, replaced, or deleting an
    // older one), 0 when it refused it.
    env_.notify(Status::cookie_received,
                StatusInfo{{}, std::string(value), outcome.accepted() ? 1u : 0u});
  }
}

void Exchange::publish_response() {
  // The route stands for the scheme, host and port it was chosen for, a
  // pointer compared instead of three fields; the credentials are not shown.
  const Url& last = session_->shown_for;
  if (!route_ || session_->shown_route != route_ || last.path != url_.path ||
      last.query != url_.query || last.fragment != url_.fragment) {
    Url shown = url_;
    shown.user.clear();
    shown.password.clear();
    session_->shown = create_url(shown).value_or(url_.host_port());
    session_->shown_for = url_;
    session_->shown_route = route_;
  }
  building_.url = session_->shown;
  building_.redirects = redirects_;
  std::lock_guard lock(shared_->mutex);
  // Moved, not copied: the next head (a redirect's) starts afresh in
  // on_status(), and a copy costs an allocation per field.
  shared_->response = std::move(building_);
}

void Exchange::on_body(std::string_view data) {
  if (redirect_) return;  // a redirect's body: nobody reads it
  // Into a pending read_data_into()'s buffer while it has room, then into
  // buffer_ for the reads to come.
  BodyOutput out(direct_target(), buffer_);
  if (decoder_) {
    if (auto decoded = decoder_->decode(data, out); !decoded) parser_.stop(decoded.error());
  } else {
    out.put(data);
  }
  direct_ += out.filled();
}

std::span<char> Exchange::direct_target() const {
  // Only while nothing is buffered: those bytes come first.
  if (!op_ || op_->verb() != verb_read_data || buffered() > 0) return {};
  return op_->buffer().subspan(direct_);
}

}  // namespace uvinet::http::detail

#include "support/script_server.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <stdexcept>

#include "support/process.hpp"

namespace uvinet_test {
namespace {

using Clock = std::chrono::steady_clock;

const char* kind_name(std::size_t kind) {
  static const char* const names[] = {"expect",      "expect_until", "expect_bytes", "expect_head",
                                      "expect_body", "send",         "send_slowly",  "pause",
                                      "close",       "reset",        "never_answer"};
  return names[kind];
}

// Bytes as a readable C-like string literal, shortened: for error messages.
std::string quoted(std::string_view bytes) {
  std::string out = "\"";
  for (unsigned char ch : bytes.substr(0, 200)) {
    if (ch == '\r')
      out += "\\r";
    else if (ch == '\n')
      out += "\\n";
    else if (ch == '"' || ch == '\\')
      out += {'\\', static_cast<char>(ch)};
    else if (ch < 0x20 || ch >= 0x7f) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", ch);
      out += hex;
    } else {
      out += static_cast<char>(ch);
    }
  }
  out += bytes.size() > 200 ? "\"..." : "\"";
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// How the body after a request head is framed.
struct Framing {
  bool chunked = false;
  std::size_t length = 0;  // when not chunked
};

Framing framing_of(std::string_view head) {
  Framing f;
  std::size_t pos = head.find("\r\n");
  while (pos != std::string_view::npos && pos + 2 < head.size()) {
    const std::size_t start = pos + 2;
    const std::size_t end = head.find("\r\n", start);
    const std::string_view line = head.substr(start, end - start);
    pos = end;
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    const std::string_view name = line.substr(0, colon);
    std::string value(line.substr(colon + 1));
    for (char& ch : value) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    if (iequals(name, "transfer-encoding") && value.find("chunked") != std::string::npos) {
      f.chunked = true;
    } else if (iequals(name, "content-length")) {
      f.length = std::strtoull(value.c_str(), nullptr, 10);
    }
  }
  return f;
}

// The length of the chunked body (with trailers) at the start of `b`, or
// nullopt when it has not all arrived. Malformed framing sets `error`.
std::optional<std::size_t> chunked_length(std::string_view b, std::string& error) {
  std::size_t pos = 0;
  for (;;) {
    const std::size_t eol = b.find("\r\n", pos);
    if (eol == std::string_view::npos) return std::nullopt;
    std::size_t size = 0;
    std::size_t digits = 0;
    for (std::size_t i = pos; i < eol && std::isxdigit(static_cast<unsigned char>(b[i])); ++i) {
      const char ch = static_cast<char>(std::tolower(static_cast<unsigned char>(b[i])));
      size = size * 16 + static_cast<std::size_t>(ch <= '9' ? ch - '0' : ch - 'a' + 10);
      if (++digits > 12) break;
    }
    if (digits == 0 || digits > 12) {
      error = "bad chunk size line " + quoted(b.substr(pos, eol - pos));
      return std::nullopt;
    }
    pos = eol + 2;
    if (size == 0) {  // the trailer section: lines up to an empty one
      for (;;) {
        const std::size_t end = b.find("\r\n", pos);
        if (end == std::string_view::npos) return std::nullopt;
        if (end == pos) return end + 2;
        pos = end + 2;
      }
    }
    if (b.size() < pos + size + 2) return std::nullopt;
    if (b.substr(pos + size, 2) != "\r\n") {
      error = "chunk data not followed by CRLF";
      return std::nullopt;
    }
    pos += size + 2;
  }
}

}  // namespace

// -------------------------------------------------------------------- Script

Script& Script::add(Step step) {
  steps_.push_back(std::move(step));
  return *this;
}
Script& Script::expect(std::string bytes) {
  return add(Step(Kind::expect, std::move(bytes)));
}
Script& Script::expect_until(std::string delimiter) {
  if (delimiter.empty()) throw std::invalid_argument("expect_until: empty delimiter");
  return add(Step(Kind::expect_until, std::move(delimiter)));
}
Script& Script::expect_bytes(std::size_t n) {
  return add(Step(Kind::expect_bytes, {}, n));
}
Script& Script::expect_head() {
  return add(Step(Kind::expect_head, "\r\n\r\n"));
}
Script& Script::expect_body() {
  return add(Step(Kind::expect_body));
}
Script& Script::expect_request() {
  return expect_head().expect_body();
}
Script& Script::send(std::string bytes) {
  return add(Step(Kind::send, std::move(bytes)));
}
Script& Script::send_slowly(std::string bytes, std::chrono::milliseconds delay, std::size_t piece) {
  return add(Step(Kind::send_slowly, std::move(bytes), std::max<std::size_t>(piece, 1), delay));
}
Script& Script::pause(std::chrono::milliseconds duration) {
  return add(Step(Kind::pause, {}, 0, duration));
}
Script& Script::close() {
  return add(Step(Kind::close));
}
Script& Script::reset() {
  return add(Step(Kind::reset));
}
Script& Script::never_answer() {
  return add(Step(Kind::never_answer));
}

// -------------------------------------------------------------- ScriptServer

struct ScriptServer::Connection {
  enum class State { running, lingering, holding, closed };

  ~Connection() {
    if (fd >= 0) ::close(fd);
  }

  int fd = -1;
  std::size_t index = 0;  // in accept order, from 0
  const Script* script = nullptr;
  std::size_t step = 0;
  State state = State::running;
  std::string pending;        // read, not yet consumed by a step
  std::string head;           // the last expect_head(), for expect_body()
  std::size_t progress = 0;   // the current step's: bytes sent, consumed or scanned
  std::size_t piece_end = 0;  // send_slowly: where the piece being sent ends
  bool timer_set = false;     // pause, send_slowly: waiting until `wake`
  Clock::time_point wake{};
  short events = 0;                   // blocked on: POLLIN, POLLOUT, or 0 (a timer)
  Clock::time_point last_progress{};  // the hang guard counts from here
  Clock::time_point linger_until{};
  std::string io_error;  // why read_some / write_some failed
};

ScriptServer::ScriptServer(std::vector<Script> scripts, Options options)
    : scripts_(std::move(scripts)), options_(options) {
  if (scripts_.empty()) throw std::invalid_argument("ScriptServer: no script");
  thread_ = std::thread([this] { run(); });
}

ScriptServer::~ScriptServer() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  listener_.wake();
  thread_.join();
}

std::string ScriptServer::url(std::string_view scheme) const {
  return std::string(scheme) + "://127.0.0.1:" + std::to_string(port());
}

std::size_t ScriptServer::connections() const {
  std::lock_guard lock(mutex_);
  return records_.size();
}

std::string ScriptServer::received(std::size_t i) const {
  std::lock_guard lock(mutex_);
  return i < records_.size() ? records_[i].data : std::string();
}

std::size_t ScriptServer::bytes_received(std::size_t i) const {
  std::lock_guard lock(mutex_);
  return i < records_.size() ? records_[i].total : 0;
}

std::vector<std::string> ScriptServer::errors() const {
  std::lock_guard lock(mutex_);
  return errors_;
}

bool ScriptServer::wait_for_connections(std::size_t n, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return records_.size() >= n; });
}

bool ScriptServer::wait_done(std::size_t n, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] {
    return records_.size() >= n &&
           std::all_of(records_.begin(), records_.end(), [](const Record& r) { return r.done; });
  });
}

void ScriptServer::run() {
  try {
    serve();
  } catch (const std::exception& e) {
    std::lock_guard lock(mutex_);
    errors_.push_back(std::string("ScriptServer thread: ") + e.what());
    changed_.notify_all();
  }
}

// The poll loop. Every wake-up plays every connection as far as it goes
// (a handful of sockets: simpler than tracking which one poll() named),
// then applies the hang guards.
void ScriptServer::serve() {
  std::vector<std::unique_ptr<Connection>> connections;
  std::vector<pollfd> fds;
  for (;;) {
    {
      std::lock_guard lock(mutex_);
      if (stop_) return;  // the Connections' destructors close their sockets
    }
    fds.assign({{listener_.wake_fd(), POLLIN, 0}, {listener_.fd(), POLLIN, 0}});
    const auto now = Clock::now();
    auto next = now + std::chrono::minutes(1);
    for (const auto& c : connections) {
      if (c->state == Connection::State::lingering) {
        fds.push_back({c->fd, POLLIN, 0});
        next = std::min(next, c->linger_until);
      } else if (c->state == Connection::State::running && c->events != 0) {
        fds.push_back({c->fd, c->events, 0});
        next = std::min(next, c->last_progress + options_.step_timeout);
      } else if (c->state == Connection::State::running && c->timer_set) {
        next = std::min(next, c->wake);
      }
    }
    const auto wait = std::chrono::ceil<std::chrono::milliseconds>(next - now).count();
    if (::poll(fds.data(), fds.size(), static_cast<int>(std::max<long>(wait, 0))) < 0 &&
        errno != EINTR) {
      throw_failure("poll");
    }
    if (fds[0].revents != 0) {
      std::uint64_t count;
      [[maybe_unused]] auto ignored = ::read(listener_.wake_fd(), &count, sizeof count);
    }
    if (fds[1].revents != 0) accept_one(connections);

    for (auto& c : connections) {
      if (c->state == Connection::State::running || c->state == Connection::State::lingering) {
        play(*c);
      }
      const auto later = Clock::now();
      if (c->state == Connection::State::running && c->events != 0 &&
          later >= c->last_progress + options_.step_timeout) {
        fail(*c, "no progress for " + std::to_string(options_.step_timeout.count()) + " ms");
      }
      if (c->state == Connection::State::lingering && later >= c->linger_until) {
        finish(*c, false);  // the client never closed its side
      }
    }
    std::erase_if(connections, [](const auto& c) { return c->state == Connection::State::closed; });
  }
}

void ScriptServer::accept_one(std::vector<std::unique_ptr<Connection>>& connections) {
  for (;;) {
    const int fd = ::accept4(listener_.fd(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;  // EAGAIN, or an aborted handshake: nothing to play
    auto c = std::make_unique<Connection>();
    c->fd = fd;
    const int on = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    {
      std::lock_guard lock(mutex_);
      if (records_.size() >= options_.max_connections) {
        errors_.push_back("more than " + std::to_string(options_.max_connections) +
                          " connections: reset");
        const linger abort{1, 0};
        ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort, sizeof abort);
        continue;  // ~Connection closes it
      }
      c->index = records_.size();
      records_.emplace_back();
      changed_.notify_all();
    }
    c->script = &scripts_[std::min(c->index, scripts_.size() - 1)];
    c->last_progress = Clock::now();
    connections.push_back(std::move(c));
    play(*connections.back());  // a script may begin by sending
  }
}

// Plays steps until one blocks, or the connection is no longer running.
void ScriptServer::play(Connection& c) {
  if (c.state == Connection::State::lingering) {
    for (;;) {
      c.pending.clear();  // recorded already; nothing reads it any more
      const Io r = read_some(c);
      if (r == Io::blocked) return;
      if (r == Io::failed) return finish(c, false);  // the client closed (or reset): done
    }
  }
  const auto& steps = c.script->steps_;
  while (c.state == Connection::State::running) {
    if (c.step == steps.size()) return finish(c, true);  // out of steps: close()
    if (step(c, steps[c.step]) != Io::progress) return;
    ++c.step;
    c.progress = c.piece_end = 0;
    c.timer_set = false;
    c.events = 0;
    c.last_progress = Clock::now();
  }
}

// One step. progress: it is complete; blocked: it waits (c.events or the
// timer say for what); failed: fail() has reported it and closed.
ScriptServer::Io ScriptServer::step(Connection& c, const Script::Step& s) {
  using Kind = Script::Kind;
  // Waits for `when`, then returns nullopt; Io::blocked meanwhile.
  auto timer = [&c](Clock::time_point when) -> std::optional<Io> {
    if (!c.timer_set) {
      c.timer_set = true;
      c.wake = when;
    }
    if (Clock::now() < c.wake) {
      c.events = 0;
      return Io::blocked;
    }
    c.timer_set = false;
    c.last_progress = Clock::now();
    return std::nullopt;
  };
  // Reads more; on failure names what the step was waiting for.
  auto read_more = [&](const std::string& waiting_for) {
    const Io r = read_some(c);
    if (r == Io::failed) fail(c, c.io_error + " while waiting for " + waiting_for);
    return r;
  };

  switch (s.kind) {
    case Kind::expect:
      while (c.pending.size() < s.bytes.size()) {
        if (const Io r = read_more(quoted(s.bytes)); r != Io::progress) return r;
      }
      if (c.pending.compare(0, s.bytes.size(), s.bytes) != 0) {
        fail(c, "expected " + quoted(s.bytes) + ", got " +
                    quoted(std::string_view(c.pending).substr(0, s.bytes.size())));
        return Io::failed;
      }
      c.pending.erase(0, s.bytes.size());
      return Io::progress;

    case Kind::expect_until:
    case Kind::expect_head:
      for (;;) {
        const std::size_t found = c.pending.find(s.bytes, c.progress);
        if (found != std::string::npos) {
          const std::size_t end = found + s.bytes.size();
          if (s.kind == Kind::expect_head) c.head = c.pending.substr(0, end);
          c.pending.erase(0, end);
          return Io::progress;
        }
        // Next time, search only where the delimiter may still begin.
        c.progress = c.pending.size() >= s.bytes.size() ? c.pending.size() - s.bytes.size() + 1 : 0;
        if (const Io r = read_more(quoted(s.bytes)); r != Io::progress) return r;
      }

    case Kind::expect_bytes: return consume(c, s.count);

    case Kind::expect_body: {
      const Framing f = framing_of(c.head);
      if (!f.chunked) return consume(c, f.length);
      for (;;) {
        std::string error;
        if (const auto length = chunked_length(c.pending, error)) {
          c.pending.erase(0, *length);
          return Io::progress;
        }
        if (!error.empty()) {
          fail(c, error);
          return Io::failed;
        }
        if (const Io r = read_more("the end of a chunked body"); r != Io::progress) return r;
      }
    }

    case Kind::send: return write_some(c, s.bytes, s.bytes.size());

    case Kind::send_slowly:
      for (;;) {
        if (c.progress < c.piece_end) {
          if (const Io r = write_some(c, s.bytes, c.piece_end); r != Io::progress) return r;
        }
        if (c.progress == s.bytes.size()) return Io::progress;
        if (c.piece_end != 0) {  // between two pieces
          if (auto r = timer(Clock::now() + s.delay)) return *r;
        }
        c.piece_end = std::min(c.progress + s.count, s.bytes.size());
      }

    case Kind::pause:
      if (auto r = timer(Clock::now() + s.delay)) return *r;
      return Io::progress;

    case Kind::close: finish(c, true); return Io::progress;

    case Kind::reset: finish(c, false); return Io::progress;

    case Kind::never_answer: {
      c.state = Connection::State::holding;
      std::lock_guard lock(mutex_);
      records_[c.index].done = true;
      changed_.notify_all();
      return Io::progress;
    }
  }
  return Io::failed;  // not reached
}

// Consumes `n` bytes as they come, keeping none of them: a large body needs
// no buffer.
ScriptServer::Io ScriptServer::consume(Connection& c, std::size_t n) {
  for (;;) {
    const std::size_t take = std::min(c.pending.size(), n - c.progress);
    c.pending.erase(0, take);
    c.progress += take;
    if (c.progress == n) return Io::progress;
    const Io r = read_some(c);
    if (r == Io::failed) {
      fail(c, c.io_error + " after " + std::to_string(c.progress) + " of " + std::to_string(n) +
                  " bytes");
    }
    if (r != Io::progress) return r;
  }
}

ScriptServer::Io ScriptServer::read_some(Connection& c) {
  char buffer[16384];
  const std::size_t room = options_.max_message - std::min(options_.max_message, c.pending.size());
  if (room == 0) {
    c.io_error =
        "more than max_message (" + std::to_string(options_.max_message) + ") bytes buffered";
    return Io::failed;
  }
  for (;;) {
    const ssize_t n = ::recv(c.fd, buffer, std::min(room, sizeof buffer), 0);
    if (n > 0) {
      const std::string_view got(buffer, static_cast<std::size_t>(n));
      c.pending.append(got);
      record(c, got);
      c.last_progress = Clock::now();
      return Io::progress;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      c.events = POLLIN;
      return Io::blocked;
    }
    c.io_error = n == 0 ? "the client closed the connection" : std::string(std::strerror(errno));
    return Io::failed;
  }
}

// Sends bytes[c.progress, end), advancing c.progress.
ScriptServer::Io ScriptServer::write_some(Connection& c, std::string_view bytes, std::size_t end) {
  while (c.progress < end) {
    const ssize_t n = ::send(c.fd, bytes.data() + c.progress, end - c.progress, MSG_NOSIGNAL);
    if (n >= 0) {
      c.progress += static_cast<std::size_t>(n);
      c.last_progress = Clock::now();
      continue;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      c.events = POLLOUT;
      return Io::blocked;
    }
    fail(c, std::string(std::strerror(errno)) + " after sending " + std::to_string(c.progress) +
                " of " + std::to_string(bytes.size()) + " bytes");
    return Io::failed;
  }
  return Io::progress;
}

void ScriptServer::fail(Connection& c, const std::string& why) {
  const auto& steps = c.script->steps_;
  const char* what = c.step < steps.size() ? kind_name(static_cast<std::size_t>(steps[c.step].kind))
                                           : "end of script";
  {
    std::lock_guard lock(mutex_);
    errors_.push_back("connection " + std::to_string(c.index) + ", step " + std::to_string(c.step) +
                      " (" + what + "): " + why);
  }
  finish(c, true);
}

// graceful: FIN now, then linger (see Script::close()); else RST and done.
void ScriptServer::finish(Connection& c, bool graceful) {
  if (graceful && c.state == Connection::State::running) {
    ::shutdown(c.fd, SHUT_WR);
    c.state = Connection::State::lingering;
    c.linger_until = Clock::now() + options_.linger;
    // Done for wait_done(): the script has played. What the client still
    // sends is recorded, but nobody need wait for it.
    std::lock_guard lock(mutex_);
    records_[c.index].done = true;
    changed_.notify_all();
    return;
  }
  if (c.state == Connection::State::running) {  // reset() (lingering ends quietly)
    const linger abort{1, 0};
    ::setsockopt(c.fd, SOL_SOCKET, SO_LINGER, &abort, sizeof abort);
  }
  ::close(c.fd);
  c.fd = -1;
  c.state = Connection::State::closed;
  std::lock_guard lock(mutex_);
  if (c.index < records_.size()) records_[c.index].done = true;
  changed_.notify_all();
}

void ScriptServer::record(Connection& c, std::string_view bytes) {
  std::lock_guard lock(mutex_);
  Record& r = records_[c.index];
  r.total += bytes.size();
  const std::size_t room = options_.max_recorded - std::min(options_.max_recorded, r.data.size());
  r.data.append(bytes.substr(0, room));
}

}  // namespace uvinet_test

#include <sys/socket.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <utility>
#include <vector>

#include "tcp.hpp"

namespace uvinet::detail {
namespace {

// libuv calls alloc, reads, then calls read_cb at once, so one buffer per
// loop thread serves every socket: an idle connection holds no read buffer.
constexpr std::size_t kReadBuffer = 64 * 1024;
thread_local char read_buffer[kReadBuffer];

// A reader that lends a buffer this large reads a bulk body: the socket
// wakes it only once this much (at most) has come (SO_RCVLOWAT), so each
// read fills more of the buffer. Fewer, larger reads cost fewer loop
// passes, operations and window updates per megabyte. The kernel still
// wakes us at the end of the stream, on an error, and when its receive
// buffer runs short.
constexpr std::size_t kBulkRead = 64 * 1024;
constexpr std::size_t kBulkLowWater = 256 * 1024;
// A server that pauses in the middle of a body must not leave what it sent
// waiting in the socket: after this long the reader gets whatever came, and
// the next few reads take what comes at once.
constexpr std::uint64_t kLowWaterWaitMs = 1;
constexpr int kLendsAfterAPause = 8;

// The stream's timer and idle handles, made on first use: uv_close() first,
// and the memory goes in the close callback.
template <class Handle>
void close_and_free(Handle*& handle) {
  if (!handle) return;
  uv_close(reinterpret_cast<uv_handle_t*>(std::exchange(handle, nullptr)),
           [](uv_handle_t* h) { delete reinterpret_cast<Handle*>(h); });
}

struct WriteRequest {
  uv_write_t req{};
  std::string data;
  Stream::DoneCallback done;
  std::shared_ptr<bool> alive;
  std::string peer;
};

struct ShutdownRequest {
  uv_shutdown_t req{};
  Stream::DoneCallback done;
  std::shared_ptr<bool> alive;
  std::string peer;
};

class TcpStream final : public Stream {
 public:
  TcpStream(uv_tcp_t* tcp, std::string peer) : tcp_(tcp), peer_(std::move(peer)) {
    tcp_->data = this;
  }
  ~TcpStream() override { close(); }

  void read_start(ReadCallback on_read) override {
    if (!tcp_) return;
    on_read_ = std::move(on_read);
    // A reader that lent nothing wants every byte as it comes: the head of
    // the next response, say, after a bulk body.
    if (lent_.empty()) set_low_water(1);
    // What came while stopped goes first, on a later loop pass: never a
    // callback from inside this call.
    if (!held_.empty() || held_status_ != 0) {
      hand_over_held();
      return;
    }
    // Still reading (read_stop() does not stop libuv): nothing to change.
    if (!reading_) start_reading();
  }

  // A large buffer also raises the low-water mark; taking it back does not
  // lower it (the bulk reader lends again at once), the next reader that
  // lends nothing does.
  void lend_read_buffer(std::span<char> buffer) override {
    lent_ = buffer.first(std::min<std::size_t>(buffer.size(), UINT_MAX));
    if (buffer.empty()) return;
    lent_since_stop_ = true;
    if (lends_at_once_ > 0) {
      --lends_at_once_;
      set_low_water(1);
    } else {
      set_low_water(lent_.size() >= kBulkRead ? std::min(lent_.size(), kBulkLowWater) : 1);
    }
  }

  // Lazy: libuv goes on reading, so a connection handed from one reader to
  // the next (a keep-alive request ends, the pool takes it, the next request
  // takes it back) changes nothing in the epoll set. Only when something
  // arrives while stopped does libuv stop for real; that is held for the
  // next read_start(). Except after a reader that lent buffers: it reads a
  // bulk body, and the next bytes should wait in the socket for its next
  // buffer rather than be copied into ours and then into that one.
  void read_stop() override {
    on_read_ = nullptr;
    lent_ = {};
    if (low_water_timer_) uv_timer_stop(low_water_timer_);
    if (std::exchange(lent_since_stop_, false) && reading_ && tcp_) {
      uv_read_stop(reinterpret_cast<uv_stream_t*>(tcp_));
      reading_ = false;
    }
  }

  void write(std::string data, DoneCallback done) override {
    if (!tcp_) {
      done(Error(errc::connection_closed, "write to " + peer_));
      return;
    }
    // Most writes go out whole at once. uv_write would take them the same
    // way, but its callback path (uv__drain) re-arms the socket in epoll:
    // an epoll_ctl for every write. A write that went out whole reports on
    // the next loop pass instead, from an idle handle.
    const std::size_t sent = try_write(data);
    if (sent == data.size()) {
      report_written(std::move(done));
      return;
    }
    data.erase(0, sent);
    auto* w = new WriteRequest{{}, std::move(data), std::move(done), alive_, peer_};
    uv_buf_t buf = uv_buf_init(w->data.data(), static_cast<unsigned>(w->data.size()));
    const int rc = uv_write(
        &w->req, reinterpret_cast<uv_stream_t*>(tcp_), &buf, 1, [](uv_write_t* req, int status) {
          std::unique_ptr<WriteRequest> w(reinterpret_cast<WriteRequest*>(req));
          if (!*w->alive) return;
          auto* self = static_cast<TcpStream*>(req->handle->data);
          --self->unreported_writes_;
          self->run_written();  // the earlier ones first
          if (!*w->alive || !w->done) return;
          w->done(status == 0 ? Error() : uv_error(status, errc::io_error, "write to " + w->peer));
        });
    if (rc != 0) {
      std::unique_ptr<WriteRequest> owned(w);
      owned->done(uv_error(rc, errc::io_error, "write to " + peer_));
      return;
    }
    ++unreported_writes_;
  }

  // uv_try_write refuses (UV_EAGAIN) while uv_write requests are queued, so
  // these bytes can never overtake earlier ones. Nor may their report: a
  // uv_write that went out whole inside the call has left libuv's queue but
  // not yet called back, and bytes taken now would be reported before it.
  std::size_t try_write(std::string_view data) override {
    if (!tcp_ || data.empty() || unreported_writes_ > 0) return 0;
    uv_buf_t buf = uv_buf_init(const_cast<char*>(data.data()),
                               static_cast<unsigned>(std::min<std::size_t>(data.size(), INT_MAX)));
    const int sent = uv_try_write(reinterpret_cast<uv_stream_t*>(tcp_), &buf, 1);
    return sent > 0 ? static_cast<std::size_t>(sent) : 0;
  }

  void shutdown(DoneCallback done) override {
    if (!tcp_) {
      done(Error(errc::connection_closed, "shutdown of " + peer_));
      return;
    }
    auto* s = new ShutdownRequest{{}, std::move(done), alive_, peer_};
    const int rc = uv_shutdown(
        &s->req, reinterpret_cast<uv_stream_t*>(tcp_), [](uv_shutdown_t* req, int status) {
          std::unique_ptr<ShutdownRequest> s(reinterpret_cast<ShutdownRequest*>(req));
          if (!*s->alive) return;
          static_cast<TcpStream*>(req->handle->data)->run_written();  // the writes first
          if (!*s->alive || !s->done) return;
          s->done(status == 0 ? Error()
                              : uv_error(status, errc::io_error, "shutdown of " + s->peer));
        });
    if (rc != 0) {
      std::unique_ptr<ShutdownRequest> owned(s);
      owned->done(uv_error(rc, errc::io_error, "shutdown of " + peer_));
    }
  }

  void close(std::function<void()> closed) override {
    *alive_ = false;
    reading_ = false;
    on_read_ = nullptr;
    held_.clear();
    held_status_ = 0;
    close_and_free(held_timer_);
    close_and_free(low_water_timer_);
    written_.clear();
    close_and_free(written_idle_);
    lent_ = {};
    if (!tcp_) {
      if (closed) closed();
      return;
    }
    auto* handle = reinterpret_cast<uv_handle_t*>(tcp_);
    tcp_ = nullptr;
    // The socket memory is freed in the close callback, and `closed` runs
    // there too: the stream object itself may be gone by then.
    handle->data = closed ? new std::function<void()>(std::move(closed)) : nullptr;
    uv_close(handle, [](uv_handle_t* h) {
      std::unique_ptr<std::function<void()>> closed(static_cast<std::function<void()>*>(h->data));
      delete reinterpret_cast<uv_tcp_t*>(h);
      if (closed) (*closed)();
    });
  }

  const std::string& peer_name() const override { return peer_; }

 private:
  void close() { close(nullptr); }

  void start_reading() {
    const int rc = uv_read_start(
        reinterpret_cast<uv_stream_t*>(tcp_),
        [](uv_handle_t* h, size_t, uv_buf_t* buf) {
          const auto lent = static_cast<TcpStream*>(h->data)->lent_;
          *buf = lent.empty() ? uv_buf_init(read_buffer, kReadBuffer)
                              : uv_buf_init(lent.data(), static_cast<unsigned>(lent.size()));
        },
        [](uv_stream_t* s, ssize_t n, const uv_buf_t* buf) {
          static_cast<TcpStream*>(s->data)->on_read(n, buf);
        });
    if (rc != 0) {
      fail_read(rc);
      return;
    }
    reading_ = true;
  }

  void on_read(ssize_t n, const uv_buf_t* buf) {
    if (n > 0 && buf->base == lent_.data()) lent_ = {};  // used: the next read is ours
    if (n == 0) return;                                  // EAGAIN
    if (low_water_timer_) uv_timer_stop(low_water_timer_);
    if (n < 0) reading_ = false;  // libuv stops reading at the end or an error
    if (!on_read_) {
      hold(n, buf);
      return;
    }
    if (n == UV_EOF) {
      if (const int reset = pending_socket_error(); reset != 0) {
        fail_read(reset);
        return;
      }
      // Copy: the callback may call read_stop() and drop on_read_ under us.
      auto cb = on_read_;
      cb(std::string_view());
      return;
    }
    if (n < 0) {
      fail_read(static_cast<int>(n));
      return;
    }
    auto cb = on_read_;
    cb(std::string_view(buf->base, static_cast<std::size_t>(n)));
  }

  // libuv reports a reset that comes with the last bytes (POLLHUP after a
  // short read) as the end of the stream, without reading the error: the
  // socket still holds it, and a reset is not a close.
  int pending_socket_error() const {
    uv_os_fd_t fd;
    if (uv_fileno(reinterpret_cast<const uv_handle_t*>(tcp_), &fd) != 0) return 0;
    int error = 0;
    socklen_t size = sizeof error;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size) != 0) return 0;
    return error == 0 ? 0 : uv_translate_sys_error(error);
  }

  // Something came after read_stop(): keep it, and stop libuv until the
  // next reader asks.
  void hold(ssize_t n, const uv_buf_t* buf) {
    if (n > 0) {
      held_.append(buf->base, static_cast<std::size_t>(n));
    } else if (const int reset = n == UV_EOF ? pending_socket_error() : 0; reset != 0) {
      held_status_ = reset;
    } else {
      held_status_ = static_cast<int>(n);
    }
    if (reading_) uv_read_stop(reinterpret_cast<uv_stream_t*>(tcp_));
    reading_ = false;
  }

  // `timer`, made on first use; closed and freed by close().
  uv_timer_t* own_timer(uv_timer_t*& timer) {
    if (!timer) {
      timer = new uv_timer_t;
      uv_timer_init(tcp_->loop, timer);
      timer->data = this;
    }
    return timer;
  }

  void hand_over_held() {
    uv_timer_start(
        own_timer(held_timer_),
        [](uv_timer_t* t) { static_cast<TcpStream*>(t->data)->deliver_held(); }, 0, 0);
  }

  void deliver_held() {
    const auto alive = alive_;  // the reader may close or destroy us
    if (!held_.empty() && on_read_) {
      const std::string data = std::exchange(held_, {});
      auto cb = on_read_;
      cb(std::string_view(data));
      if (!*alive) return;
    }
    if (!on_read_) return;  // stopped again: the rest waits for the next start
    if (held_status_ != 0) {
      const int status = std::exchange(held_status_, 0);
      auto cb = on_read_;
      if (status == UV_EOF) {
        cb(std::string_view());
      } else {
        cb(uv_error(status, errc::io_error, "read from " + peer_));
      }
      return;
    }
    if (!reading_) start_reading();
  }

  // A write that went out whole: `done` runs on a later pass, never inside
  // write(). Idle handles run before the loop polls, and keep it from
  // sleeping while one is active, whatever phase the write came from.
  void report_written(DoneCallback done) {
    written_.push_back(std::move(done));
    if (!written_idle_) {
      written_idle_ = new uv_idle_t;
      uv_idle_init(tcp_->loop, written_idle_);
      written_idle_->data = this;
    }
    uv_idle_start(written_idle_,
                  [](uv_idle_t* h) { static_cast<TcpStream*>(h->data)->run_written(); });
  }

  // Reports the writes that went out whole, in order; a callback may write
  // again (its report goes at the end), close or destroy the stream.
  void run_written() {
    if (written_idle_) uv_idle_stop(written_idle_);
    const auto alive = alive_;
    for (std::size_t i = 0; i < written_.size(); ++i) {
      auto done = std::move(written_[i]);
      if (done) done(Error());
      if (!*alive) return;
    }
    written_.clear();
  }

  // SO_RCVLOWAT, only when it changes: a bulk body keeps one value. A
  // hint: if the socket refuses it, reads just stay small.
  void set_low_water(std::size_t bytes) {
    if (!tcp_) return;
    if (bytes > 1) wait_for_low_water();
    if (bytes == low_water_) return;
    uv_os_fd_t fd;
    if (uv_fileno(reinterpret_cast<const uv_handle_t*>(tcp_), &fd) != 0) return;
    const int value = static_cast<int>(bytes);
    if (setsockopt(fd, SOL_SOCKET, SO_RCVLOWAT, &value, sizeof value) == 0) low_water_ = bytes;
  }

  // Until the next read comes: if the server pauses first, lower the mark
  // (the kernel then wakes us for what it holds) for this read and a few
  // after it.
  void wait_for_low_water() {
    uv_timer_start(
        own_timer(low_water_timer_),
        [](uv_timer_t* t) {
          auto* self = static_cast<TcpStream*>(t->data);
          self->lends_at_once_ = kLendsAfterAPause;
          self->set_low_water(1);
        },
        kLowWaterWaitMs, 0);
  }

  void fail_read(int status) {
    auto cb = on_read_;
    if (cb) cb(uv_error(status, errc::io_error, "read from " + peer_));
  }

  uv_tcp_t* tcp_;
  std::string peer_;
  ReadCallback on_read_;  // null: stopped
  std::span<char> lent_;  // lend_read_buffer(): where the next read goes
  bool lent_since_stop_ = false;
  // The socket's SO_RCVLOWAT, the timer that lowers it when a server pauses
  // (made on first use), and the lends left that take what comes at once.
  std::size_t low_water_ = 1;
  uv_timer_t* low_water_timer_ = nullptr;
  int lends_at_once_ = 0;
  bool reading_ = false;  // libuv reads the socket
  // What arrived while stopped (bytes, then maybe the end or an error), and
  // the timer that hands it to the next reader. Rare: made on first use.
  std::string held_;
  int held_status_ = 0;
  uv_timer_t* held_timer_ = nullptr;
  // Writes that went out whole and wait to report, and the idle handle that
  // reports them (made on first use).
  std::vector<DoneCallback> written_;
  std::size_t unreported_writes_ = 0;  // uv_write requests whose callback has not run
  uv_idle_t* written_idle_ = nullptr;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace

std::unique_ptr<Stream> make_tcp_stream(uv_tcp_t* tcp, std::string peer_name) {
  return std::make_unique<TcpStream>(tcp, std::move(peer_name));
}

std::string host_port(const std::string& host, std::uint16_t port) {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

Error uv_error(int uv_status, errc fallback, const std::string& where) {
  errc code = fallback;
  switch (uv_status) {
    case UV_ECONNREFUSED: code = errc::connection_refused; break;
    case UV_ECONNRESET:
    case UV_EPIPE: code = errc::connection_reset; break;
    case UV_EOF: code = errc::connection_closed; break;
    case UV_ECANCELED: code = errc::cancelled; break;
    case UV_EAI_NONAME:
    case UV_EAI_AGAIN:
    case UV_EAI_FAIL:
    case UV_EAI_NODATA:
    case UV_EAI_FAMILY:
    case UV_EAI_ADDRFAMILY:
    case UV_EAI_SERVICE: code = errc::name_not_resolved; break;
    default: break;
  }
  return Error(code, where + " (" + uv_err_name(uv_status) + ": " + uv_strerror(uv_status) + ")");
}

}  // namespace uvinet::detail

#include "tls_stream.hpp"

#include "tls_session_cache.hpp"

#include <mbedtls/ssl.h>
#include <mbedtls/x509.h>
#include <mbedtls/x509_crt.h>

#include <cstring>
#include <optional>

namespace uvinet::detail {
namespace {

// The largest TLS record's plaintext: one mbedtls_ssl_read() never gives
// more. Shared by every stream of the loop thread, like the TCP read buffer.
constexpr std::size_t kPlainBuffer = 16 * 1024;
thread_local unsigned char plain_buffer[kPlainBuffer];

enum class State { fresh, handshaking, ready, failed, closed };

bool wants_io(int rc) {
  return rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE;
}

// mbedTLS's verify_info lines ("! The certificate is not correctly signed
// by the trusted CA\n"), joined into one line for a message.
std::string verify_reasons(std::uint32_t flags) {
  char info[1024];
  const int n = mbedtls_x509_crt_verify_info(info, sizeof info, "", flags);
  std::string text(info, n > 0 ? static_cast<std::size_t>(n) : 0);
  std::string out;
  for (std::size_t at = 0; at < text.size();) {
    std::size_t end = text.find('\n', at);
    if (end == std::string::npos) end = text.size();
    if (end > at) out += (out.empty() ? "" : "; ") + text.substr(at, end - at);
    at = end + 1;
  }
  return out.empty() ? "certificate verification failed" : out;
}

class TlsStreamImpl final : public TlsStream {
 public:
  TlsStreamImpl(std::unique_ptr<Stream> inner, std::shared_ptr<const TlsConfig> config,
                std::unique_ptr<Timer> timer)
      : inner_(std::move(inner)), config_(std::move(config)), timer_(std::move(timer)) {
    mbedtls_ssl_init(&ssl_);
  }
  ~TlsStreamImpl() override {
    close(nullptr);
    mbedtls_ssl_free(&ssl_);
  }

  Result<void> setup(const std::string& host, std::string session_key) {
    if (int rc = mbedtls_ssl_setup(&ssl_, config_->ssl_config()); rc != 0)
      return Error(errc::tls_error, "TLS setup: " + mbedtls_message(rc));
    if (int rc = mbedtls_ssl_set_hostname(&ssl_, host.c_str()); rc != 0)
      return Error(errc::tls_error, "TLS host name " + host + ": " + mbedtls_message(rc));
    mbedtls_ssl_set_bio(&ssl_, this, &TlsStreamImpl::bio_send, &TlsStreamImpl::bio_recv, nullptr);
    host_ = host;
    session_key_ = std::move(session_key);
    if (!session_key_.empty()) offer_tls_session(session_key_, ssl_);
    return {};
  }

  void handshake(Notify notify, DoneCallback done) override {
    notify_ = std::move(notify);
    handshake_done_ = std::move(done);
    state_ = State::handshaking;
    start_inner_reading();
    step_handshake();
  }

  void read_start(ReadCallback on_read) override {
    if (state_ != State::ready) return;
    on_read_ = std::move(on_read);
    if (!ended()) start_inner_reading();
    // Plaintext, ciphertext or an end may be waiting from before: hand it
    // over on the next loop pass, never from inside this call.
    if (pending_input())
      timer_->start(0, [this, alive = alive_] {
        if (*alive) pump();
      });
  }

  void lend_read_buffer(std::span<char> buffer) override { lent_ = buffer; }

  void read_stop() override {
    on_read_ = nullptr;
    timer_->stop();
    inner_->read_stop();
  }

  void write(std::string data, DoneCallback done) override {
    if (state_ != State::ready) {
      done(Error(errc::connection_closed, "write to " + peer_name()));
      return;
    }
    const auto* bytes = reinterpret_cast<const unsigned char*>(data.data());
    for (std::size_t at = 0; at < data.size();) {
      const int n = mbedtls_ssl_write(&ssl_, bytes + at, data.size() - at);
      if (n < 0) {  // the memory BIO takes everything: no WANT_WRITE here
        flush();
        done(Error(errc::tls_error, "TLS write to " + peer_name() + ": " + mbedtls_message(n)));
        return;
      }
      at += static_cast<std::size_t>(n);
    }
    inner_->write(std::exchange(out_, {}), std::move(done));
  }

  void shutdown(DoneCallback done) override {
    if (state_ == State::ready) {
      mbedtls_ssl_close_notify(&ssl_);
      flush();
    }
    inner_->shutdown(std::move(done));
  }

  void close(std::function<void()> closed) override {
    *alive_ = false;
    on_read_ = nullptr;
    lent_ = {};
    handshake_done_ = nullptr;
    if (timer_) timer_->stop();
    if (state_ == State::ready) {
      // Tells the server the end is deliberate; best effort, as the socket
      // closes right after.
      mbedtls_ssl_close_notify(&ssl_);
      flush();
    }
    state_ = State::closed;
    inner_->close(std::move(closed));
  }

  const std::string& peer_name() const override { return inner_->peer_name(); }

 private:
  static int bio_send(void* self, const unsigned char* data, std::size_t n) {
    static_cast<TlsStreamImpl*>(self)->out_.append(reinterpret_cast<const char*>(data), n);
    return static_cast<int>(n);
  }

  static int bio_recv(void* self, unsigned char* out, std::size_t n) {
    auto* s = static_cast<TlsStreamImpl*>(self);
    const std::size_t have = s->in_.size() - s->in_used_;
    if (have == 0) return s->ended() ? 0 : MBEDTLS_ERR_SSL_WANT_READ;
    n = std::min(n, have);
    std::memcpy(out, s->in_.data() + s->in_used_, n);
    s->in_used_ += n;
    if (s->in_used_ == s->in_.size()) {
      s->in_.clear();
      s->in_used_ = 0;
    }
    return static_cast<int>(n);
  }

  bool ended() const { return eof_ || read_error_.has_value(); }
  bool pending_input() {
    return in_used_ < in_.size() || mbedtls_ssl_get_bytes_avail(&ssl_) > 0 || ended();
  }

  void start_inner_reading() {
    inner_->read_start([this, alive = alive_](Result<std::string_view> r) {
      if (!*alive) return;
      if (!r) {
        read_error_ = r.error();
      } else if (r->empty()) {
        eof_ = true;
      } else {
        in_.append(r->data(), r->size());
      }
      if (!r || r->empty()) inner_->read_stop();  // nothing more will come
      if (state_ == State::handshaking) {
        step_handshake();
      } else if (state_ == State::ready && on_read_) {
        pump();
      }
    });
  }

  // Sends what mbedTLS wrote to out_. A failure shows up again on the next
  // read or write, so only the handshake needs to hear of it here.
  void flush() {
    if (out_.empty()) return;
    inner_->write(std::exchange(out_, {}), [this, alive = alive_](Error e) {
      if (e && *alive && state_ == State::handshaking) finish_handshake(e);
    });
  }

  void step_handshake() {
    const auto alive = alive_;  // a write failing at once ends the handshake, maybe us too
    const int rc = mbedtls_ssl_handshake(&ssl_);
    flush();
    if (!*alive || state_ != State::handshaking) return;
    if (wants_io(rc)) {
      if (!ended()) return;  // the next bytes continue it
    }
    finish_handshake(rc == 0 ? Error() : handshake_error(rc));
  }

  void finish_handshake(Error e) {
    inner_->read_stop();  // until the module reads: TCP's flow control holds
    if (!session_key_.empty()) {
      if (e) {
        forget_tls_session(session_key_);
      } else {
        remember_tls_session(session_key_, ssl_);
      }
    }
    state_ = e ? State::failed : State::ready;
    auto done = std::exchange(handshake_done_, nullptr);
    if (done) done(std::move(e));  // may destroy us: the last thing we do
  }

  Error handshake_error(int rc) {
    // The name checked and the address reached: they may tell different stories.
    const std::string where = "TLS handshake with " + host_ + " (" + peer_name() + ")";
    if (rc == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED) {
      const std::uint32_t flags = mbedtls_ssl_get_verify_result(&ssl_);
      const std::string reasons = verify_reasons(flags);
      Error e(certificate_error(flags), where + ": " + reasons);
      if (notify_) notify_(Status::secure_failure, StatusInfo{e, reasons, flags});
      return e;
    }
    if (read_error_) return Error(read_error_->code(), where + ": " + read_error_->message());
    if (eof_ || rc == MBEDTLS_ERR_SSL_CONN_EOF) {
      return Error(errc::tls_handshake_failed, where + ": the server closed the connection");
    }
    return Error(errc::tls_handshake_failed, where + ": " + mbedtls_message(rc));
  }

  // Decrypts what has arrived and hands it to the reader, record by record,
  // until mbedTLS needs more bytes or the reader stops.
  void pump() {
    const auto alive = alive_;
    while (on_read_ && state_ == State::ready) {
      // Decrypted straight into a lent buffer when there is one.
      auto* const into =
          lent_.empty() ? plain_buffer : reinterpret_cast<unsigned char*>(lent_.data());
      const int n = mbedtls_ssl_read(&ssl_, into, lent_.empty() ? kPlainBuffer : lent_.size());
      flush();             // an alert mbedTLS answers with
      auto cb = on_read_;  // the reader may call read_stop() or close()
      if (n > 0) {
        if (into != plain_buffer) lent_ = {};  // used: the next read is ours
        cb(std::string_view(reinterpret_cast<const char*>(into), std::size_t(n)));
        if (!*alive) return;
        continue;
      }
      if (wants_io(n) && !ended()) return;
      if (n == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY) {
        cb(std::string_view());
      } else if (read_error_) {
        // mbedTLS saw only "no more bytes": the reset or failure is ours to tell.
        cb(Error(read_error_->code(),
                 "read from " + peer_name() + " (TLS): " + read_error_->message()));
      } else if (n == 0 || wants_io(n) || n == MBEDTLS_ERR_SSL_CONN_EOF) {
        // The end without close_notify: HTTP's own framing tells a cut-off
        // response from a whole one, as it does over TCP.
        cb(std::string_view());
      } else {
        cb(Error(errc::tls_error, "TLS read from " + peer_name() + ": " + mbedtls_message(n)));
      }
      return;
    }
  }

  std::unique_ptr<Stream> inner_;
  std::shared_ptr<const TlsConfig> config_;  // mbedTLS points into it
  std::string host_;                         // as asked for: checked against the certificate
  std::unique_ptr<Timer> timer_;
  mbedtls_ssl_context ssl_;
  State state_ = State::fresh;
  std::string in_;  // ciphertext received; in_used_ bytes of it given to mbedTLS
  std::size_t in_used_ = 0;
  std::string out_;  // ciphertext mbedTLS wrote, not yet handed to inner_
  bool eof_ = false;
  std::optional<Error> read_error_;
  Notify notify_;
  DoneCallback handshake_done_;
  std::string session_key_;  // where this server's session is kept; empty: not kept
  ReadCallback on_read_;
  std::span<char> lent_;  // lend_read_buffer(): where the next plaintext goes
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace

errc certificate_error(std::uint32_t flags) {
  // The most fundamental reason first: a certificate from an unknown CA may
  // be expired too, but its trust is what the user must fix.
  if (flags & MBEDTLS_X509_BADCERT_NOT_TRUSTED) return errc::certificate_untrusted;
  if (flags & MBEDTLS_X509_BADCERT_REVOKED) return errc::certificate_revoked;
  if (flags & (MBEDTLS_X509_BADCERT_EXPIRED | MBEDTLS_X509_BADCERT_FUTURE))
    return errc::certificate_expired;
  if (flags & MBEDTLS_X509_BADCERT_CN_MISMATCH) return errc::certificate_name_mismatch;
  return errc::tls_handshake_failed;
}

Result<std::unique_ptr<TlsStream>> TlsStream::make(std::unique_ptr<Stream> inner,
                                                   std::shared_ptr<const TlsConfig> config,
                                                   const std::string& host,
                                                   std::unique_ptr<Timer> timer,
                                                   std::string session_key) {
  auto stream =
      std::make_unique<TlsStreamImpl>(std::move(inner), std::move(config), std::move(timer));
  if (auto r = stream->setup(host, std::move(session_key)); !r) return r.error();
  return std::unique_ptr<TlsStream>(std::move(stream));
}

}  // namespace uvinet::detail

// TLS over any Stream (the TCP one), with mbedTLS driven without blocking:
// mbedTLS reads and writes memory buffers instead of a socket, and every
// step (handshake, read, write, close_notify) runs when the inner stream
// delivers data or the module calls in. Loop thread only, like any Stream.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "tls_config.hpp"
#include "uvinet/module.hpp"
#include "uvinet/status.hpp"
#include "uvinet/stream.hpp"

namespace uvinet::detail {

class TlsStream : public Stream {
 public:
  using Notify = std::function<void(Status, StatusInfo)>;

  /// A TLS client over `inner` (connected, not yet read from) that will
  /// check the server's certificate against `host` and send it as SNI.
  /// `timer` delivers data already decrypted when reading restarts: a
  /// Stream never calls back from inside read_start(). With a
  /// `session_key` (the server and the TLS settings), the session a
  /// handshake agrees is kept under it and offered again by the next stream
  /// with the same key (tls_session_cache.hpp).
  static Result<std::unique_ptr<TlsStream>> make(std::unique_ptr<Stream> inner,
                                                 std::shared_ptr<const TlsConfig> config,
                                                 const std::string& host,
                                                 std::unique_ptr<Timer> timer,
                                                 std::string session_key = {});

  /// Runs the handshake. `done` gets no error once the stream is ready for
  /// use, or why it failed: a rejected certificate is one of the
  /// certificate_* errors and is also told to `notify` as secure_failure,
  /// with mbedTLS's reasons as its text. `done` may destroy the stream.
  virtual void handshake(Notify notify, DoneCallback done) = 0;
};

/// The error a set of mbedTLS certificate verification flags means.
errc certificate_error(std::uint32_t flags);

}  // namespace uvinet::detail

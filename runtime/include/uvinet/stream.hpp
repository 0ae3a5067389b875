// The byte stream a protocol module talks over: TCP now, TLS over TCP next.
// A module does not know which one it has. Every call, and every callback,
// happens on the session's I/O loop thread.
#pragma once

#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "uvinet/result.hpp"

namespace uvinet {

class Stream {
 public:
  /// Gets data as it arrives: a view valid only during the call, an empty
  /// view at the end of the stream, or an error. Called until read_stop().
  using ReadCallback = std::function<void(Result<std::string_view>)>;
  using DoneCallback = std::function<void(Error)>;

  virtual ~Stream() = default;
  /// Starts reading; while reading already, only replaces the callback, so
  /// a connection handed from one reader to the next costs no system call.
  virtual void read_start(ReadCallback on_read) = 0;
  /// No read callback runs after it until the next read_start(). Nothing is
  /// lost: what arrives meanwhile goes to the next reader, and the stream
  /// need not stop reading the socket (TCP does not, so a stop and a start
  /// cost no system call).
  virtual void read_stop() = 0;
  /// Queues `data` (owned) for sending; `done` gets the outcome.
  virtual void write(std::string data, DoneCallback done) = 0;
  /// Writes what of `data` the stream can take at once without queueing,
  /// and returns that count; the caller write()s the rest. It writes
  /// nothing while earlier writes are still queued (bytes stay in order),
  /// and nothing on an error, which the next write() then reports. No
  /// callback: a caller whose bytes all went finishes at once (C1). A
  /// stream need not support it, and by default writes nothing.
  virtual std::size_t try_write(std::string_view data) {
    (void)data;
    return 0;
  }
  /// Ends the sending side once queued writes are out (a half close).
  virtual void shutdown(DoneCallback done) = 0;
  /// Closes the stream; `closed` runs once the socket is gone. After close()
  /// no other callback of this stream runs. Destroying an open stream closes it.
  virtual void close(std::function<void()> closed = {}) = 0;
  /// "host:port" of the peer, for messages.
  virtual const std::string& peer_name() const = 0;
  /// Lends the stream `buffer` for its next read: the bytes go straight
  /// there (the ReadCallback's view then points into it) rather than
  /// through the stream's own buffer, which saves the reader a copy. A
  /// hint: a stream may ignore it, and does by default. For a large buffer
  /// a stream may wait a little for more bytes, to fill more of it per read
  /// (TCP does); lend before read_start() so the stream knows, since a
  /// reader that starts with nothing lent gets every byte as it comes. The
  /// stream forgets the buffer once a read used it, on lend_read_buffer({}),
  /// and on close(); until then it must stay valid.
  virtual void lend_read_buffer(std::span<char> buffer) { (void)buffer; }
};

}  // namespace uvinet

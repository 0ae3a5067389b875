// The request state machine shared by the test plugins (echo, daytime): one
// TCP stream per request, opened on the first operation and read
// continuously into a buffer that receive drains. A plugin only says whether
// its protocol lets the client send.
//
// Every method runs on the session's I/O loop thread (module.hpp), so there
// is no locking. The plugin is built with hidden visibility: each plugin gets
// its own copy of this header's code, and the two copies never meet.
#pragma once

#include <algorithm>
#include <memory>
#include <string>
#include <utility>

#include "uvinet/module.hpp"

namespace uvinet_test_plugins {

using uvinet::errc;
using uvinet::Error;
using uvinet::Operation;
using uvinet::OperationKind;
using uvinet::OperationValue;
using uvinet::Result;
using uvinet::Status;
using uvinet::StatusInfo;
using uvinet::Stream;

class StreamRequest final : public uvinet::ProtocolRequest {
 public:
  /// `can_send` false: a receive-only protocol, where send completes with
  /// errc::operation_not_supported and never opens the connection.
  StreamRequest(uvinet::RequestEnv& env, bool can_send) : env_(env), can_send_(can_send) {}

  void start(std::shared_ptr<Operation> op) override {
    if (op->kind() == OperationKind::send && !can_send_) {
      op->complete(Error(errc::operation_not_supported, "send on " + env_.url().scheme + "://" +
                                                            env_.url().host +
                                                            ": the protocol only receives"));
      return;
    }
    if (op->kind() == OperationKind::receive) waiting_reported_ = false;
    (op->kind() == OperationKind::send ? send_ : receive_) = std::move(op);
    if (state_ == State::idle) {
      set_state(State::connecting);  // the first operation opens the stream
    } else {
      serve();
    }
  }

  void cancel(Operation& op, const Error&) override {
    // Forget it. A write already handed to the stream still goes out (TCP
    // cannot take bytes back); its completion finds no operation and is
    // dropped. A connect in progress goes on for the next operation.
    if (send_.get() == &op) send_.reset();
    if (receive_.get() == &op) receive_.reset();
  }

  void close(std::function<void()> released) override {
    released_ = std::move(released);
    set_state(State::closing);
  }

 private:
  enum class State {
    idle,        // no stream yet: waits for the first operation
    connecting,  // env.connect() in progress; operations wait
    open,        // stream up, reading
    ended,       // the server ended its side: receive drains, then gets ""
    failed,      // connect, read or write failed: operations get error_
    closing,     // close() called; the stream is closing
    closed,      // released
  };

  // The one place the state changes; each state's entry work is in on_<state>().
  void set_state(State next) {
    state_ = next;
    switch (next) {
      case State::idle: break;
      case State::connecting: on_connecting(); break;
      case State::open: on_open(); break;
      case State::ended: on_ended(); break;
      case State::failed: on_failed(); break;
      case State::closing: on_closing(); break;
      case State::closed: on_closed(); break;
    }
  }

  void on_connecting() {
    // The runtime resolves, connects within the timeouts and the bound on
    // connections per server, and sends the connecting notifications.
    env_.connect(env_.url().host, env_.url().port, [this](Result<std::unique_ptr<Stream>> r) {
      if (state_ != State::connecting) {
        // Closed while connecting: this stream is nobody's.
        if (r) (*r)->close();
        return;
      }
      if (!r) {
        error_ = r.error();
        set_state(State::failed);
        return;
      }
      stream_ = std::move(*r);
      set_state(State::open);
    });
  }

  void on_open() {
    read();
    serve();
  }

  void on_ended() {
    stop_reading();
    serve();
  }

  void on_failed() {
    stop_reading();
    serve();
  }

  void on_closing() {
    if (!stream_) {
      set_state(State::closed);
      return;
    }
    env_.notify(Status::closing_connection, StatusInfo{{}, stream_->peer_name(), 0});
    stop_reading();
    // `closed` runs once the socket is gone; we live until released_ ran.
    stream_->close([this] {
      env_.notify(Status::connection_closed);
      set_state(State::closed);
    });
  }

  void on_closed() {
    stream_.reset();
    if (auto released = std::move(released_)) released();
  }

  // Moves the waiting operations on as far as the state allows.
  void serve() {
    if (send_) serve_send();
    if (receive_) serve_receive();
  }

  void serve_send() {
    if (state_ == State::failed) {
      std::exchange(send_, nullptr)->complete(error_);
      return;
    }
    if (state_ != State::open && state_ != State::ended) return;
    if (writing_.lock() == send_) return;  // its bytes are on their way
    writing_ = send_;
    const std::size_t size = send_->data().size();
    env_.notify(Status::sending_request, StatusInfo{{}, {}, size});
    std::weak_ptr<Operation> op = send_;
    stream_->write(std::move(send_->data()), [this, op, size](Error e) {
      if (auto sent = op.lock(); sent && sent == send_) {  // else: cancelled meanwhile
        send_.reset();
        if (e) {
          sent->complete(e);
        } else {
          env_.notify(Status::request_sent, StatusInfo{{}, {}, size});
          sent->complete(OperationValue{size, {}});
        }
      }
      if (e && (state_ == State::open || state_ == State::ended)) {
        error_ = e;
        set_state(State::failed);
      }
    });
  }

  void serve_receive() {
    if (!buffer_.empty()) {
      const std::size_t n = std::min(receive_->max_bytes(), buffer_.size());
      OperationValue value{n, buffer_.substr(0, n)};
      buffer_.erase(0, n);
      if (state_ == State::open && !reading_ && buffer_.size() < kHighWater) read();
      std::exchange(receive_, nullptr)->complete(std::move(value));
    } else if (state_ == State::ended) {
      std::exchange(receive_, nullptr)->complete(OperationValue{});  // end of stream: ""
    } else if (state_ == State::failed) {
      std::exchange(receive_, nullptr)->complete(error_);
    } else if (state_ == State::open && !waiting_reported_) {
      waiting_reported_ = true;  // once per receive that has to wait
      env_.notify(Status::receiving_response);
    }
  }

  // Reading runs whether or not a receive waits: the echo server must never
  // stall on us while we send. It pauses when the buffer is large.
  void read() {
    reading_ = true;
    stream_->read_start([this](Result<std::string_view> r) {
      if (!r) {
        error_ = r.error();
        set_state(State::failed);
      } else if (r->empty()) {
        set_state(State::ended);
      } else {
        env_.notify(Status::response_received, StatusInfo{{}, {}, r->size()});
        buffer_.append(*r);
        if (buffer_.size() >= kHighWater) stop_reading();
        if (receive_) serve_receive();
      }
    });
  }

  void stop_reading() {
    if (reading_ && stream_) stream_->read_stop();
    reading_ = false;
  }

  static constexpr std::size_t kHighWater = 4 << 20;

  uvinet::RequestEnv& env_;
  const bool can_send_;
  State state_ = State::idle;
  std::unique_ptr<Stream> stream_;
  std::shared_ptr<Operation> send_;     // waiting or being written
  std::weak_ptr<Operation> writing_;    // the send whose bytes the stream has
  std::shared_ptr<Operation> receive_;  // waiting for data
  std::string buffer_;                  // received, not yet handed out
  bool reading_ = false;
  bool waiting_reported_ = false;
  Error error_;
  std::function<void()> released_;
};

}  // namespace uvinet_test_plugins

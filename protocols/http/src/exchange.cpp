// Exchange: the application's operations, and the one place each of them
// completes.
#include "exchange.hpp"

#include <algorithm>
#include <cstring>

#include "request_writer.hpp"

namespace uvinet::http::detail {
namespace {

constexpr std::size_t kLowWater = 256 * 1024;  // reading resumes below this
// The smallest buffer a stream reads into (lend_buffer()), unless the rest
// of the body fits: a smaller one would cost a system call per few bytes,
// where the stream's own buffer takes more at once and a copy is cheap.
constexpr std::size_t kLendAtLeast = 64 * 1024;

}  // namespace

Exchange::Exchange(RequestEnv& env, std::shared_ptr<RequestState> shared)
    : env_(env), shared_(std::move(shared)), url_(env.url()), parser_(*this) {
  session_ = std::static_pointer_cast<SessionState>(
      env_.session_state([&] { return std::make_shared<SessionState>(env_.make_timer()); }));
  pool_ = session_->pool;
}

Exchange::~Exchange() {
  if (alive_) *alive_ = false;
  if (wait_ticket_) pool_->cancel_wait(wait_ticket_);
}

void Exchange::start(std::shared_ptr<Operation> op) {
  if (state_ == State::failed) {
    op->complete(error_);
    return;
  }
  switch (op->verb()) {
    case verb_send_request:
    case verb_open_url: start_send(std::move(op)); break;
    case verb_write_data: start_write(std::move(op)); break;
    case verb_end_request: start_end(std::move(op)); break;
    case verb_receive_response: start_receive(std::move(op)); break;
    case verb_query_data_available:
    case verb_read_data: start_read(std::move(op)); break;
    default:
      op->complete(Error(errc::operation_not_supported,
                         "http: unknown operation " + std::to_string(op->verb())));
  }
}

void Exchange::start_send(std::shared_ptr<Operation> op) {
  if (state_ != State::idle) {
    op->complete(Error(errc::invalid_state, "send_request: the request was sent already"));
    return;
  }
  if (auto loaded = load_request(std::move(op->data())); !loaded) {
    op->complete(loaded.error());
    return;
  }
  op_ = std::move(op);
  acquire_connection();
}

void Exchange::start_write(std::shared_ptr<Operation> op) {
  if (state_ != State::uploading) {
    op->complete(Error(errc::invalid_state,
                       "write_data: only after send_request() with a total length or "
                       "`chunked`, before end_request()"));
    return;
  }
  std::string data = std::move(op->data());
  const std::size_t size = data.size();
  if (size == 0) {
    op->complete(OperationValue{0, {}});
    return;
  }
  if (!chunked_upload_ && uploaded_ + size > *upload_length_) {
    op->complete(Error(errc::invalid_argument, "write_data: " + std::to_string(size) +
                                                   " bytes would pass the total of " +
                                                   std::to_string(*upload_length_) + " (" +
                                                   std::to_string(uploaded_) + " written)"));
    return;
  }
  op_ = std::move(op);
  uploaded_ += size;
  write(chunked_upload_ ? chunk(data) : std::move(data), [this, size] {
    env_.notify(Status::write_complete, StatusInfo{{}, {}, size});
    finish_op(OperationValue{size, {}});
  });
}

void Exchange::start_end(std::shared_ptr<Operation> op) {
  if (state_ != State::uploading) {
    op->complete(Error(errc::invalid_state,
                       "end_request: no body is being written (send_request() was not given a "
                       "total length, or the body ended)"));
    return;
  }
  op_ = std::move(op);
  end_body(true);
}

void Exchange::start_receive(std::shared_ptr<Operation> op) {
  if (state_ == State::idle) {
    op->complete(Error(errc::invalid_state, "receive_response: call send_request() first"));
    return;
  }
  op_ = std::move(op);
  if (state_ == State::uploading) {
    end_body(false);
    return;
  }
  serve();
}

void Exchange::start_read(std::shared_ptr<Operation> op) {
  if (state_ != State::body && state_ != State::complete) {
    op->complete(
        Error(errc::invalid_state,
              std::string(op->verb() == verb_read_data ? "read_data" : "query_data_available") +
                  ": call receive_response() first"));
    return;
  }
  op_ = std::move(op);
  serve();
}

// A call whose result is known already, asked before an Operation is made
// for it (the runtime's fast path for reads of buffered bytes).
std::optional<Result<OperationValue>> Exchange::answer_at_once(const ImmediateCall& call) {
  if (call.kind != OperationKind::call) return std::nullopt;
  if (state_ == State::failed) return error_;  // as start() would
  if (state_ != State::body && state_ != State::complete) return std::nullopt;
  switch (call.verb) {
    case verb_receive_response:
    case verb_read_data:
    case verb_query_data_available: return result_now(call.verb, call.buffer, call.max_bytes);
    default: return std::nullopt;
  }
}

void Exchange::serve() {
  if (!op_) return;
  const int verb = op_->verb();
  if (auto result = result_now(verb, op_->buffer(), op_->max_bytes())) {
    finish_op(std::move(*result));
    return;
  }
  if (verb != verb_read_data && verb != verb_query_data_available) return;
  // Lent before the start: a stream may wait for more bytes for a reader
  // with a large buffer, and read_start() tells it whether there is one.
  if (verb == verb_read_data && !op_->buffer().empty()) lend_buffer(op_->buffer());
  if (paused_) start_reading();
  // on_body() calls serve() again; the sends complete when their bytes are out.
}

// The result of an operation of `verb` as things stand, or nothing while it
// waits. `into`: read_data_into()'s buffer.
std::optional<Result<OperationValue>> Exchange::result_now(int verb, std::span<char> into,
                                                           std::size_t max_bytes) {
  if (state_ == State::failed) return error_;
  const bool head_in = state_ == State::body || state_ == State::complete;
  switch (verb) {
    case verb_receive_response:
    case verb_open_url:
      if (head_in) return OperationValue{};
      return std::nullopt;
    case verb_read_data:
      if (!into.empty()) return read_into(into);
      return read_copy(max_bytes);
    case verb_query_data_available: {
      const std::size_t available = buffered();
      if (available > 0) return OperationValue{available, {}};
      if (state_ == State::complete) return OperationValue{};  // the end of the body
      return std::nullopt;
    }
    default: return std::nullopt;
  }
}

// read_data(): up to `max_bytes` of what buffer_ holds.
std::optional<Result<OperationValue>> Exchange::read_copy(std::size_t max_bytes) {
  const std::size_t available = buffered();
  if (available == 0) {
    if (state_ == State::complete) return OperationValue{};  // the end of the body
    return std::nullopt;
  }
  const std::size_t n = std::min(max_bytes, available);
  std::string data;
  if (buffer_pos_ == 0 && n == buffer_.size()) {
    data = std::move(buffer_);  // all of it: no copy
    buffer_.clear();
  } else {
    data = buffer_.substr(buffer_pos_, n);
    consume(n);
  }
  read_done(n);
  return OperationValue{n, std::move(data)};
}

// read_data_into(): what on_body() put straight into `into`, then what
// buffer_ holds, as much as fits; nothing only when there is nothing at all.
std::optional<Result<OperationValue>> Exchange::read_into(std::span<char> into) {
  std::size_t n = direct_;
  const std::size_t more = std::min(into.size() - n, buffered());
  if (more > 0) {
    std::memcpy(into.data() + n, buffer_.data() + buffer_pos_, more);
    consume(more);
    n += more;
  }
  if (n == 0) {
    if (state_ == State::complete) return OperationValue{};  // the end of the body
    return std::nullopt;
  }
  read_done(n);
  return OperationValue{n, {}};
}

// `n` bytes went to the application: room for more, and read_complete.
void Exchange::read_done(std::size_t n) {
  if (paused_ && !held_ && buffered() < kLowWater) start_reading();
  env_.notify(Status::read_complete, StatusInfo{{}, {}, n});
}

// A read waiting on a body with no framing or coding left to undo, into a
// buffer large enough: the stream reads straight into it (no more than the
// body's bytes), and on_body() finds them in place.
void Exchange::lend_buffer(std::span<char> into) {
  if (!conn_ || decoder_ || redirect_) return;
  const std::uint64_t left = parser_.plain_body_left();
  if (left == 0 || (into.size() < kLendAtLeast && into.size() < left)) return;
  conn_->stream->lend_read_buffer(into.first(std::min<std::uint64_t>(into.size(), left)));
  lent_ = true;
  lent_to_ = into.data();
}

// Before the read completes or the connection goes: the stream must not
// write there any more.
void Exchange::take_back_buffer() {
  if (!std::exchange(lent_, false)) return;
  if (conn_) conn_->stream->lend_read_buffer({});
}

// Drops the first `n` buffered bytes, keeping buffer_'s memory for the next.
void Exchange::consume(std::size_t n) {
  buffer_pos_ += n;
  if (buffer_pos_ == buffer_.size()) {
    buffer_.clear();
    buffer_pos_ = 0;
  } else if (buffer_pos_ > buffer_.size() / 2) {
    buffer_.erase(0, buffer_pos_);
    buffer_pos_ = 0;
  }
}

void Exchange::finish_op(Result<OperationValue> result) {
  take_back_buffer();
  direct_ = 0;
  if (auto op = std::exchange(op_, nullptr)) op->complete(std::move(result));
}

void Exchange::cancel(Operation& op, const Error& why) {
  if (op_.get() != &op) return;
  op_.reset();
  take_back_buffer();
  direct_ = 0;
  // An operation stopped half way (a timeout, or the handle closing) leaves
  // the request in no state to go on: the connection cannot be reused.
  if (state_ != State::complete && state_ != State::closing && state_ != State::closed) fail(why);
}

void Exchange::fail(Error why) {
  if (state_ == State::failed || state_ == State::closing || state_ == State::closed) return;
  error_ = std::move(why);
  state_ = State::failed;
  stop_timer();
  if (wait_ticket_) pool_->cancel_wait(std::exchange(wait_ticket_, 0));
  tunnel_.reset();
  close_connection();
  serve();
}

void Exchange::close(std::function<void()> released) {
  released_ = std::move(released);
  state_ = State::closing;
  stop_timer();
  if (wait_ticket_) pool_->cancel_wait(std::exchange(wait_ticket_, 0));
  tunnel_.reset();
  take_back_buffer();
  recycle();
  if (!conn_) {
    state_ = State::closed;
    if (auto done = std::move(released_)) done();
    return;
  }
  stop_reading();
  env_.notify(Status::closing_connection, StatusInfo{{}, conn_->stream->peer_name(), 0});
  auto connection = std::move(conn_);
  // We live until released_ ran, so `this` is safe in the close callback.
  connection->stream->close([this] {
    env_.notify(Status::connection_closed);
    state_ = State::closed;
    if (auto done = std::move(released_)) done();
  });
}

}  // namespace uvinet::http::detail

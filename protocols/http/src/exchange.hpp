// The state machine of one HTTP request handle: it gets a connection (from
// the keep-alive pool or a new one), sends the request, drives the response
// parser over the stream, follows redirects, retries once on a pooled
// connection the server had closed, and serves the application's reads from
// a bounded buffer. Loop thread only (module.hpp).
//
//   idle -> connecting -> sending -> [uploading] -> waiting -> body -> complete
//                 ^                                    |
//                 +------------- (redirect) -----------+      any -> failed
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "content_decoder.hpp"
#include "proxy_tunnel.hpp"
#include "redirect.hpp"
#include "request_state.hpp"
#include "response_parser.hpp"
#include "session_state.hpp"
#include "uvinet/module.hpp"

namespace uvinet::http::detail {

class Exchange final : public ProtocolRequest, private ResponseSink {
 public:
  Exchange(RequestEnv& env, std::shared_ptr<RequestState> shared);
  ~Exchange() override;
  // Blocks this thread freed first (http_module.cpp): one is made and freed
  // for every request, and this large a block is past malloc's fast path.
  static void* operator new(std::size_t size);
  static void operator delete(void* block, std::size_t size) noexcept;

  void start(std::shared_ptr<Operation> op) override;
  std::optional<Result<OperationValue>> answer_at_once(const ImmediateCall& call) override;
  void cancel(Operation& op, const Error& why) override;
  void close(std::function<void()> released) override;

 private:
  enum class State {
    idle,        // nothing sent yet
    connecting,  // waiting for a connection: pooled, new, or released by another request
    sending,     // the head (and the body, or its first part) is being written
    uploading,   // the head is out; the application writes the rest of the body
    waiting,     // the request is out; the final response's head has not come yet
    body,        // the final head is in; the body streams in
    complete,    // the whole response is in (maybe not all read yet)
    failed,      // error_ says why; the connection is gone
    closing,     // close() called
    closed,
  };

  // ---- operations (exchange.cpp)
  void start_send(std::shared_ptr<Operation> op);
  void start_write(std::shared_ptr<Operation> op);
  void start_end(std::shared_ptr<Operation> op);
  void start_receive(std::shared_ptr<Operation> op);
  void start_read(std::shared_ptr<Operation> op);
  void serve();
  std::optional<Result<OperationValue>> result_now(int verb, std::span<char> into,
                                                   std::size_t max_bytes);
  std::optional<Result<OperationValue>> read_copy(std::size_t max_bytes);
  std::optional<Result<OperationValue>> read_into(std::span<char> into);
  void read_done(std::size_t n);
  void lend_buffer(std::span<char> into);
  void take_back_buffer();
  std::span<char> direct_target() const;
  void consume(std::size_t n);
  void finish_op(Result<OperationValue> result);
  void fail(Error why);

  // ---- the request (exchange_send.cpp)
  Result<void> load_request(std::string body);
  void acquire_connection();
  Result<void> choose_route();
  Result<SessionState::Route> new_route(ProxySettings settings);
  using ConnectCallback = RequestEnv::ConnectCallback;
  void open_tunnel(ConnectCallback connected);
  void on_tunnel(Result<std::unique_ptr<Stream>> stream, const ConnectCallback& connected);
  bool tunneled() const { return proxy_ && url_.scheme == "https"; }
  void on_connected(const std::string& key, Result<std::unique_ptr<Stream>> stream);
  void use_connection(std::unique_ptr<PooledConnection> connection);
  Result<void> build_head(std::string& out) const;
  Result<void> append_line_and_host(std::string& out) const;
  Result<void> append_added_fields(std::string& out, std::string_view user_agent) const;
  void send_head();
  void write(std::string bytes, std::function<void()> then);
  void end_body(bool complete_op);
  void follow_redirect();
  bool retry_on_fresh_connection(const Error& why);

  // ---- the response (exchange_receive.cpp)
  void begin_response();
  void start_reading();
  void stop_reading();
  void on_read(Result<std::string_view> data);
  void on_end_of_stream();
  void on_message_done(bool extra_bytes);
  void release_connection(bool reusable);
  void close_connection();
  void arm_timer(Option which, errc code);
  void stop_timer() {
    if (timer_) timer_->stop();
  }
  void on_status(int major, int minor, int status, std::string_view reason) override;
  void on_header(std::string_view name, std::string_view value) override;
  void on_interim(const ResponseHead& head) override;
  void on_headers_complete(const ResponseHead& head) override;
  void on_body(std::string_view data) override;
  bool should_follow(const ResponseHead& head);
  bool cookies_on() const;
  void store_cookies();
  void publish_response();
  void reset_head();
  void recycle();
  std::size_t buffered() const noexcept { return buffer_.size() - buffer_pos_; }

  RequestEnv& env_;
  const std::shared_ptr<RequestState> shared_;
  std::shared_ptr<SessionState> session_;
  std::shared_ptr<ConnectionPool> pool_;
  // Cut when this object goes: stream close callbacks may outlive it. Made
  // by the first close_connection(): a keep-alive request never needs it.
  std::shared_ptr<bool> alive_;
  State state_ = State::idle;
  std::shared_ptr<Operation> op_;
  Error error_;
  std::function<void()> released_;

  // The request as it goes out; a redirect changes url_, method_ and maybe
  // the body and fields.
  Url url_;
  std::string method_;
  std::uint32_t flags_ = 0;
  Fields fields_;
  std::string credentials_;  // "Basic ..." for Authorization, or empty
  std::string body_;         // the whole body, kept for a retry or a 307 / 308
  bool replayable_ = true;   // false once the application streams the body
  bool chunked_upload_ = false;
  std::optional<std::uint64_t> upload_length_;  // Content-Length of a streamed body
  std::uint64_t uploaded_ = 0;
  unsigned redirects_ = 0;
  bool retried_ = false;
  bool fresh_only_ = false;  // a retry: not a pooled connection again
  std::string cookie_;       // the jar's Cookie value for the request going out

  // The route to url_ (choose_route()), chosen again for each URL a
  // redirect leads to, and the proxy of it.
  std::shared_ptr<const SessionState::Route> route_;
  std::optional<Url> proxy_;
  std::string proxy_credentials_;        // "Basic ..." for Proxy-Authorization, or empty
  std::unique_ptr<ProxyTunnel> tunnel_;  // https through proxy_: CONNECT under way

  // The connection.
  // The pool key of url_; shared with the session's route, which saves
  // building it for every request.
  std::shared_ptr<const std::string> key_;
  std::unique_ptr<PooledConnection> conn_;
  std::uint64_t wait_ticket_ = 0;
  bool writing_ = false;
  bool reading_ = false;
  std::unique_ptr<Timer> timer_;  // made by the first arm_timer()

  // The response.
  ResponseParser parser_;
  std::uint64_t response_bytes_ = 0;
  HeadText building_;
  std::optional<RedirectPlan> redirect_;  // the head asked for one: its body is discarded
  std::unique_ptr<ContentDecoder> decoder_;
  std::string buffer_;  // body bytes not read yet, from buffer_pos_ on
  std::size_t buffer_pos_ = 0;
  // Body bytes on_body() put straight into the pending read_data_into()'s
  // buffer (they come before buffer_'s, which is empty when it starts).
  std::size_t direct_ = 0;
  bool lent_ = false;              // the stream reads into that buffer (lend_buffer())
  const char* lent_to_ = nullptr;  // where, when lent_
  bool paused_ = false;            // reading stopped: buffer_ is full, or held_
  bool held_ = false;              // stopped after a lent read, until a read waits
};

}  // namespace uvinet::http::detail

namespace uvinet::http::detail {

inline std::uint64_t idle_timeout_ms(const RequestEnv& env) {
  return static_cast<std::uint64_t>(env.int_option(Option::idle_timeout_ms));
}

}  // namespace uvinet::http::detail

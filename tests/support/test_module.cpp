#include "support/test_module.hpp"

#include <mutex>
#include <string>
#include <vector>

namespace test_support {
namespace {

using uvinet::errc;
using uvinet::Error;
using uvinet::Operation;
using uvinet::OperationKind;
using uvinet::OperationValue;
using uvinet::Status;

class TestRequest final : public uvinet::ProtocolRequest {
 public:
  explicit TestRequest(uvinet::RequestEnv& env) : env_(env) { ++counters().live_requests; }
  ~TestRequest() override { --counters().live_requests; }

  void start(std::shared_ptr<Operation> op) override {
    ++counters().started;
    ++static_cast<SharedCount*>(env_.request_state().get())->started;
    auto per_session = env_.session_state([] {
      ++counters().session_states;
      return std::make_shared<SharedCount>();
    });
    ++static_cast<SharedCount*>(per_session.get())->started;
    const int now = ++counters().in_flight;
    int seen = counters().max_in_flight.load();
    while (now > seen && !counters().max_in_flight.compare_exchange_weak(seen, now)) {
    }
    const auto& path = env_.url().path;
    env_.notify(op->kind() == OperationKind::send ? Status::sending_request
                                                  : Status::receiving_response);
    if (path == "/now") {
      finish(*op);
      return;
    }
    const bool instant_call = op->kind() == OperationKind::call && op->verb() == 1;
    if (path == "/never" || (path == "/instant" && !instant_call)) {
      ops_.push_back(op);
      return;
    }
    if (path == "/connect") {
      connect(op);
      return;
    }
    if (path == "/options" && op->kind() == OperationKind::call) {
      complete(*op, read_option(static_cast<uvinet::Option>(op->verb())));
      return;
    }
    std::uint64_t ms = 0;
    if (auto q = env_.url().query; q.rfind("ms=", 0) == 0) ms = std::stoull(q.substr(3));
    auto timer = std::shared_ptr<uvinet::Timer>(env_.make_timer());
    timers_.push_back(timer);
    const bool fail = path == "/fail";
    std::weak_ptr<Operation> weak = op;
    ops_.push_back(op);
    timer->start(ms, [this, weak, fail] {
      auto op = weak.lock();
      if (!op || op->completed()) return;
      std::erase(ops_, op);
      if (fail) {
        complete(*op, Error(errc::protocol_error, "test module asked to fail"));
      } else {
        finish(*op);
      }
    });
  }

  std::optional<uvinet::Result<OperationValue>> answer_at_once(
      const uvinet::ImmediateCall& call) override {
    if (env_.url().path != "/instant" || call.kind != OperationKind::call || call.verb != 1) {
      return std::nullopt;
    }
    ++counters().answered_at_once;
    return OperationValue{1, std::move(call.data)};
  }

  void cancel(Operation& op, const Error&) override {
    ++counters().cancelled;
    --counters().in_flight;
    std::erase_if(ops_, [&](const auto& p) { return p.get() == &op; });
  }

  void close(std::function<void()> released) override {
    if (stream_) stream_->close();
    env_.notify(Status::closing_connection);
    // Release on a later pass, as a socket close would.
    close_timer_ = env_.make_timer();
    close_timer_->start(0, [this, released] {
      env_.notify(Status::connection_closed);
      ++counters().released;
      released();
    });
  }

 private:
  void connect(const std::shared_ptr<Operation>& op) {
    // ?port=N, or ?port=N&host=H (default 127.0.0.1)
    const std::string& q = env_.url().query;
    const auto port = static_cast<std::uint16_t>(std::stoi(q.substr(5)));
    const auto at = q.find("&host=");
    std::string host = at == std::string::npos ? "127.0.0.1" : q.substr(at + 6);
    std::weak_ptr<Operation> weak = op;
    env_.connect(std::move(host), port,
                 [this, weak](uvinet::Result<std::unique_ptr<uvinet::Stream>> r) {
                   auto op = weak.lock();
                   if (!op || op->completed()) return;
                   if (!r) {
                     complete(*op, r.error());
                     return;
                   }
                   stream_ = std::move(*r);
                   complete(*op, OperationValue{0, "connected"});
                 });
  }

  // The plain readers must say what option() says, in the shape they give.
  uvinet::Result<OperationValue> read_option(uvinet::Option o) const {
    const auto number = env_.int_option(o);
    auto text = env_.string_option(o);
    const auto value = env_.option(o);
    if (!value) return value.error();
    const bool agree = std::holds_alternative<std::int64_t>(*value)
                           ? number == std::get<std::int64_t>(*value) && text.empty()
                           : text == std::get<std::string>(*value) && number == 0;
    if (!agree) return Error(errc::protocol_error, "int_option/string_option differ from option");
    return OperationValue{static_cast<std::size_t>(number), std::move(text)};
  }

  void finish(Operation& op) {
    if (op.kind() == OperationKind::call) {
      // A module's own operation: answer with the verb and the data.
      complete(op, OperationValue{static_cast<std::size_t>(op.verb()), op.data()});
      return;
    }
    if (op.kind() == OperationKind::send) {
      env_.notify(Status::request_sent);
      complete(op, OperationValue{op.data().size(), {}});
    } else {
      env_.notify(Status::response_received);
      complete(op, OperationValue{0, std::string("data").substr(0, op.max_bytes())});
    }
  }

  static void complete(Operation& op, uvinet::Result<OperationValue> r) {
    --counters().in_flight;
    op.complete(std::move(r));
  }

  uvinet::RequestEnv& env_;
  std::unique_ptr<uvinet::Stream> stream_;
  std::vector<std::shared_ptr<Operation>> ops_;
  std::vector<std::shared_ptr<uvinet::Timer>> timers_;
  std::unique_ptr<uvinet::Timer> close_timer_;
};

class TestModule final : public uvinet::Module {
 public:
  explicit TestModule(bool duplex) : duplex_(duplex) {}
  std::string_view scheme() const override { return duplex_ ? "testduplex" : "test"; }
  std::uint16_t default_port() const override { return 1; }
  bool duplex() const override { return duplex_; }
  std::unique_ptr<uvinet::ProtocolRequest> open_request(uvinet::RequestEnv& env) override {
    return std::make_unique<TestRequest>(env);
  }
  std::shared_ptr<void> make_request_state() override { return std::make_shared<SharedCount>(); }

 private:
  bool duplex_;
};

}  // namespace

ModuleCounters& counters() {
  static ModuleCounters c;
  return c;
}

const std::type_info& test_module_type() {
  return typeid(TestModule);
}

void register_test_modules() {
  static std::once_flag once;
  std::call_once(once, [] {
    (void)uvinet::register_module(std::make_shared<TestModule>(false));
    (void)uvinet::register_module(std::make_shared<TestModule>(true));
  });
}

}  // namespace test_support

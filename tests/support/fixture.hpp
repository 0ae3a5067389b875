// A session with a connection to the in-process test module, closed (and
// waited for) at the end of the test.
#pragma once

#include <doctest/doctest.h>

#include <future>

#include "support/recorder.hpp"
#include "support/test_module.hpp"
#include "uvinet/uvinet.hpp"

namespace test_support {

struct Fixture {
  explicit Fixture(uvinet::CallbackModel model = uvinet::CallbackModel::short_callback,
                   const char* scheme = "test") {
    register_test_modules();
    uvinet::SessionConfig config;
    config.callback_model = model;
    config.context = 1;
    config.status_callback = recorder.callback();
    session = uvinet::Session::open(config).value();
    connection = session.connect(std::string(scheme) + "://server", 2).value();
  }
  ~Fixture() {
    (void)connection.close();
    (void)session.close();
    CHECK(recorder.wait_closed(connection));
    CHECK(recorder.wait_closed(session));
    CHECK_FALSE(recorder.overlap());
    CHECK_FALSE(recorder.something_after_closing());
  }
  uvinet::Request request(const char* target, uvinet::Context context = 3) {
    return connection.open_request(target, context).value();
  }
  /// Closes `r` and waits for its handle_closing.
  void close(uvinet::Request r) {
    REQUIRE(r.close());
    REQUIRE(recorder.wait_closed(r));
  }

  StatusRecorder recorder;
  uvinet::Session session;
  uvinet::Connection connection;
};

/// Counts completions of one asynchronous call and keeps its result.
template <class T>
struct Completion {
  std::atomic<int> calls{0};
  std::mutex mutex;
  std::optional<uvinet::Result<T>> result;
  std::thread::id thread;

  uvinet::AsyncContext<T> context(uvinet::CallbackModel model = {}) {
    return {[this](uvinet::Result<T> r) {
              std::lock_guard lock(mutex);
              result = std::move(r);
              thread = std::this_thread::get_id();
              ++calls;
            },
            model};
  }
  bool wait() {
    return wait_until([&] { return calls.load() > 0; });
  }
  uvinet::Result<T> get() {
    std::lock_guard lock(mutex);
    return *result;
  }
};

/// `r.call(1, data)` from this thread, which must go pending and call back
/// with `data` echoed, as the test module's /later and /instant do.
inline void call_pending(uvinet::Request r, const std::string& data) {
  Completion<uvinet::OperationValue> done;
  auto ac = done.context();
  REQUIRE(r.call(1, data, 0, &ac).pending());
  REQUIRE(done.wait());
  CHECK(done.get()->data == data);
}

/// `r.call(1, data)` from a short callback on the loop thread (where a module
/// may answer it at once), with a context from `never`.
inline uvinet::Result<uvinet::OperationValue> call_on_loop(
    uvinet::Request r, std::string data, Completion<uvinet::OperationValue>& never) {
  std::promise<uvinet::Result<uvinet::OperationValue>> returned;
  REQUIRE(r.post([&] {
    auto ac = never.context();
    returned.set_value(r.call(1, data, 0, &ac));
  }));
  return returned.get_future().get();
}

}  // namespace test_support

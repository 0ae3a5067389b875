// The calling contract: C1 (two ways to call), C2 (never early), C3
// (lifetimes), C14 (after completion), C15 (one operation per request).
#include <doctest/doctest.h>

#include <future>

#include "support/fixture.hpp"

using namespace std::chrono_literals;
using test_support::Completion;
using test_support::Fixture;
using uvinet::AsyncContext;
using uvinet::errc;
using uvinet::Result;

TEST_CASE("C1 without a context the call is synchronous and returns the final result") {
  Fixture f;
  auto r = f.request("/later?ms=5");
  auto sent = r.send("hello");
  REQUIRE(sent);
  CHECK(*sent == 5);
  auto got = r.receive(3);
  REQUIRE(got);
  CHECK(*got == "dat");
  auto failing = f.request("/fail");
  auto failed = failing.send("x");
  REQUIRE_FALSE(failed);
  CHECK(failed.error() == errc::protocol_error);
  f.close(r);
  f.close(failing);
}

TEST_CASE("C1 with a context a pending call calls back exactly once with the final result") {
  Fixture f;
  auto r = f.request("/later?ms=5");
  Completion<std::size_t> done;
  auto ac = done.context();
  auto started = r.send("abc", &ac);
  REQUIRE(started.pending());
  REQUIRE(done.wait());
  f.close(r);  // handle_closing is the last callback: nothing can follow it
  CHECK(done.calls == 1);
  CHECK(done.get().value() == 3);
}

TEST_CASE("C1 a call that finishes at once returns its result and never calls back") {
  Fixture f;
  auto r = f.request("/now");
  Completion<std::string> done;
  std::atomic<bool> checked{false};
  // From a short callback the call runs on the loop thread, where the module
  // can finish it inside the call.
  REQUIRE(r.post([&] {
    auto ac = done.context();
    auto got = r.receive(10, &ac);
    CHECK_FALSE(got.pending());
    CHECK(got.value() == "data");
    checked = true;
  }));
  REQUIRE(test_support::wait_until([&] { return checked.load(); }));
  f.close(r);
  CHECK(done.calls == 0);
}

TEST_CASE("C1 errors detected at once are returned, not called back") {
  Fixture f;
  auto r = f.request("/later");
  f.close(r);
  Completion<std::size_t> done;
  auto ac = done.context();
  auto result = r.send("x", &ac);
  CHECK(result.error() == errc::invalid_handle);
  AsyncContext<std::size_t> empty{};
  auto r2 = f.request("/later");
  CHECK(r2.send("x", &empty).error() == errc::invalid_argument);
  f.close(r2);
  CHECK(done.calls == 0);
}

TEST_CASE("C2 a callback never runs on the calling thread before the call returned") {
  for (auto model : {uvinet::CallbackModel::short_callback, uvinet::CallbackModel::long_callback}) {
    Fixture f(model);
    auto r = f.request("/later?ms=0");
    constexpr int kCalls = 200;
    std::atomic<int> early{0};
    std::atomic<int> finished{0};
    // From the test thread, from the loop thread (short) or a worker (long):
    // each chained call is made from inside the previous callback.
    std::function<void()> next;
    std::atomic<int> started{0};
    next = [&] {
      if (started.fetch_add(1) >= kCalls) return;
      auto returned = std::make_shared<std::atomic<bool>>(false);
      const auto caller = std::this_thread::get_id();
      AsyncContext<std::size_t> ac{[&, returned, caller](Result<std::size_t>) {
        if (std::this_thread::get_id() == caller && !returned->load()) ++early;
        ++finished;
        next();
      }};
      auto res = r.send("x", &ac);
      returned->store(true);
      if (!res.pending()) {
        ++finished;
        next();
      }
    };
    next();
    REQUIRE(test_support::wait_until([&] { return finished.load() >= kCalls; }));
    f.close(r);
    CHECK(early == 0);
  }
}

TEST_CASE("C3 the context may die after the call; owned arguments are copied") {
  Fixture f;
  auto r = f.request("/later?ms=5");
  Completion<std::size_t> done;
  {
    std::string payload = "twelve bytes";
    auto ac = std::make_unique<AsyncContext<std::size_t>>(done.context());
    REQUIRE(r.send(payload, ac.get()).pending());
    ac->callback = [](Result<std::size_t>) { FAIL("the runtime kept the context"); };
    ac.reset();
    payload.assign(100, 'x');
  }
  REQUIRE(done.wait());
  CHECK(done.get().value() == 12);
  f.close(r);
}

TEST_CASE("C14 the completion callback may start the next operation or close the handle") {
  for (auto model : {uvinet::CallbackModel::short_callback, uvinet::CallbackModel::long_callback}) {
    Fixture f(model);
    auto r = f.request("/later?ms=1");
    std::atomic<int> step{0};
    std::atomic<bool> next_ok{false};
    Completion<std::string> second;
    AsyncContext<std::size_t> first{[&](Result<std::size_t> res) {
      CHECK(res.value() == 4);
      auto ac = second.context();
      auto started = r.receive(4, &ac);  // the same handle, from its callback
      next_ok = started.pending() || started.has_value();
      ++step;
    }};
    REQUIRE(r.send("ping", &first).pending());
    REQUIRE(second.wait());
    CHECK(next_ok);
    CHECK(second.get().value() == "data");

    // Close from inside a completion callback.
    Completion<std::size_t> closing;
    AsyncContext<std::size_t> ac{[&](Result<std::size_t>) {
      CHECK(r.close());
      ++closing.calls;
    }};
    REQUIRE(r.send("x", &ac).pending());
    REQUIRE(f.recorder.wait_closed(r));
    CHECK(closing.calls == 1);
  }
}

TEST_CASE("C15 a second operation on a busy request fails with busy") {
  Fixture f;
  auto r = f.request("/never");
  Completion<std::string> pending;
  auto ac = pending.context();
  REQUIRE(r.receive(1, &ac).pending());
  Completion<std::size_t> other;
  auto ac2 = other.context();
  CHECK(r.send("x", &ac2).error() == errc::busy);
  CHECK(r.receive(1).error() == errc::busy);  // synchronous: fails at once too
  f.close(r);
  REQUIRE(pending.wait());
  CHECK(pending.get().error() == errc::cancelled);
  CHECK(other.calls == 0);
}

TEST_CASE("C15 a duplex protocol counts its send and receive sides on their own") {
  Fixture f(uvinet::CallbackModel::short_callback, "testduplex");
  auto r = f.request("/never");
  Completion<std::string> receiving;
  Completion<std::size_t> sending;
  auto rac = receiving.context();
  auto sac = sending.context();
  REQUIRE(r.receive(1, &rac).pending());
  REQUIRE(r.send("x", &sac).pending());
  Completion<std::string> third;
  auto tac = third.context();
  CHECK(r.receive(1, &tac).error() == errc::busy);
  f.close(r);
  REQUIRE(receiving.wait());
  REQUIRE(sending.wait());
  CHECK(receiving.get().error() == errc::cancelled);
  CHECK(sending.get().error() == errc::cancelled);
}

TEST_CASE("C1 a module's own operations (calls) follow the same contract") {
  Fixture f;
  auto r = f.request("/later?ms=1");
  auto sync = r.call(42, "payload", 0);
  REQUIRE(sync);
  CHECK(sync->count == 42);
  CHECK(sync->data == "payload");
  Completion<uvinet::OperationValue> done;
  auto ac = done.context();
  REQUIRE(r.call(7, "x", 0, &ac).pending());
  REQUIRE(done.wait());
  CHECK(done.get()->count == 7);
  f.close(r);
}

TEST_CASE("C1 typed calls hand the application's callback its result converted, or the error") {
  Fixture f;
  auto r = f.request("/later?ms=1");
  Completion<void> sent;
  REQUIRE(r.call(7, "x", 0, sent.context()).pending());
  REQUIRE(sent.wait());
  CHECK(sent.get().has_value());
  Completion<std::size_t> counted;
  REQUIRE(r.call(8, "abc", 0, counted.context()).pending());
  REQUIRE(counted.wait());
  CHECK(counted.get().value() == 8);  // the OperationValue's count
  Completion<std::string> text;
  REQUIRE(r.call(9, "payload", 0, text.context()).pending());
  REQUIRE(text.wait());
  CHECK(text.get().value() == "payload");  // its data
  char buffer[4];
  Completion<std::size_t> into;
  REQUIRE(r.call_into(10, buffer, into.context()).pending());
  REQUIRE(into.wait());
  CHECK(into.get().value() == 10);
  CHECK(r.call_into(10, {}, into.context()).error() == errc::invalid_argument);
  CHECK(r.call(7, "x", 0, AsyncContext<void>{}).error() == errc::invalid_argument);
  f.close(r);

  // Started from a short callback, a result at once is returned as the
  // OperationValue, with no callback.
  auto now = f.request("/now");
  Completion<std::size_t> never;
  std::promise<Result<uvinet::OperationValue>> returned;
  REQUIRE(now.post([&] { returned.set_value(now.call(11, "y", 0, never.context())); }));
  auto at_once = returned.get_future().get();
  REQUIRE(at_once);
  CHECK(at_once->count == 11);
  f.close(now);
  CHECK(never.calls == 0);

  // An error reaches each shape of callback as the error.
  auto failing = f.request("/fail");
  Completion<void> failed;
  REQUIRE(failing.call(1, "", 0, failed.context()).pending());
  REQUIRE(failed.wait());
  CHECK(failed.get().error() == errc::protocol_error);
  Completion<std::string> failed_text;
  REQUIRE(failing.call(1, "", 0, failed_text.context()).pending());
  REQUIRE(failed_text.wait());
  CHECK(failed_text.get().error() == errc::protocol_error);
  f.close(failing);
}

TEST_CASE("C14 a cancelled operation's late completion never reaches the next operation") {
  // The test module keeps a weak_ptr to each operation for its timer, and
  // does not stop that timer when the operation is cancelled: the old
  // operation's timer still fires, and must find nothing to complete, even
  // when the next operation was started inside the cancelled one's callback.
  // (A runtime that reused a finished Operation object for the next one
  // would let it complete the new operation early, with the old result.)
  using clock = std::chrono::steady_clock;
  Fixture f;
  auto r = f.request("/later?ms=300");
  REQUIRE(r.set_option(uvinet::Option::receive_timeout_ms, 100));
  Completion<std::size_t> second;
  std::atomic<bool> started_second{false};
  clock::time_point second_started;
  Completion<std::string> first;
  AsyncContext<std::string> first_ctx{[&](Result<std::string> got) {
    CHECK(got.error() == errc::receive_timeout);
    ++first.calls;
    second_started = clock::now();
    auto ac = second.context();
    started_second = r.send("abcdef", &ac).pending();  // C14, from the loop thread
  }};
  REQUIRE(r.receive(4, &first_ctx).pending());
  REQUIRE(second.wait());
  const auto elapsed = clock::now() - second_started;
  CHECK(started_second);
  CHECK(first.calls == 1);
  CHECK(second.calls == 1);
  CHECK(second.get().value() == 6);
  // The first operation's timer fired about 200 ms after the second began;
  // the second's own fires no sooner than 300 ms after.
  CHECK(elapsed >= 290ms);
  f.close(r);
}

TEST_CASE("C1 operations started from many short-lived threads, each freeing some on its way out") {
  // Each thread's last operations are freed on it (synchronous calls), on
  // the loop (completions) or on workers: blocks an operation was made in
  // change threads, and a thread that ends with some kept lets them go.
  Fixture f(uvinet::CallbackModel::long_callback);
  std::atomic<int> sent{0};
  std::atomic<int> received{0};
  for (int round = 0; round < 4; ++round) {
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&] {
        auto r = f.request("/later?ms=0");
        for (int i = 0; i < 20; ++i) {
          auto n = r.send("abc");
          if (n && *n == 3) ++sent;
        }
        Completion<std::string> done;
        auto ac = done.context();
        if (r.receive(4, &ac).pending() && done.wait() && done.get().value() == "data") ++received;
        f.close(r);
      });
    }
    for (auto& thread : threads) thread.join();
  }
  CHECK(sent == 4 * 4 * 20);
  CHECK(received == 4 * 4);
}

TEST_CASE("C1 a call the module answers at once makes no operation, and stays busy-checked") {
  using test_support::counters;
  Fixture f;
  auto r = f.request("/instant");
  const int started = counters().started;
  const int answered = counters().answered_at_once;
  // The first operation makes the module's state machine, so it is started
  // as always: later, with a callback.
  test_support::call_pending(r, "a");
  CHECK(counters().started == started + 1);

  // On the loop thread the module answers inside the call: no start(), no
  // callback.
  Completion<uvinet::OperationValue> never;
  auto at_once = test_support::call_on_loop(r, "b", never);
  REQUIRE(at_once);
  CHECK(at_once->count == 1);
  CHECK(at_once->data == "b");
  CHECK(counters().answered_at_once == answered + 1);
  CHECK(counters().started == started + 1);

  // From another thread the module is not asked: an operation, as always.
  test_support::call_pending(r, "c");
  CHECK(counters().started == started + 2);

  // C15: with a receive pending, the call is busy though the module could
  // answer it.
  Completion<std::string> receiving;
  auto rac = receiving.context();
  REQUIRE(r.receive(1, &rac).pending());
  auto busy = test_support::call_on_loop(r, "d", never);
  REQUIRE_FALSE(busy);
  CHECK(busy.error() == errc::busy);
  CHECK(counters().answered_at_once == answered + 1);

  // Closed, even by the callback itself: refused, not answered.
  std::promise<Result<uvinet::OperationValue>> after_close;
  REQUIRE(r.post([&] {
    (void)r.close();
    auto ac = never.context();
    after_close.set_value(r.call(1, "e", 0, &ac));
  }));
  CHECK(after_close.get_future().get().error() == errc::invalid_handle);
  REQUIRE(f.recorder.wait_closed(r));
  REQUIRE(receiving.wait());
  CHECK(receiving.get().error() == errc::cancelled);
  CHECK(counters().answered_at_once == answered + 1);
  CHECK(never.calls == 0);
}

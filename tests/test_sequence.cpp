// Sequences (C8): async_execute and coroutines run several operations as one.
#include <doctest/doctest.h>

#include "support/fixture.hpp"

using test_support::Fixture;
using test_support::wait_until;
using uvinet::AsyncContext;
using uvinet::AsyncExecution;
using uvinet::errc;
using uvinet::Result;
using uvinet::Task;

namespace {

// send "ping", then receive, then send the reply back: three operations.
struct PingPong {
  explicit PingPong(uvinet::Request request) : r(request) {}
  uvinet::Request r;
  std::size_t sent = 0;
  std::string reply;
  std::size_t echoed = 0;

  uvinet::AsyncStep first() {
    return [this](AsyncExecution& x) {
      x.next(second());
      return x.started(r.send("ping", x.context<std::size_t>([this](std::size_t n) { sent = n; })));
    };
  }
  uvinet::AsyncStep second() {
    return [this](AsyncExecution& x) {
      x.next(third());
      return x.started(
          r.receive(3, x.context<std::string>([this](std::string s) { reply = std::move(s); })));
    };
  }
  uvinet::AsyncStep third() {
    return [this](AsyncExecution& x) {
      return x.started(
          r.send(reply, x.context<std::size_t>([this](std::size_t n) { echoed = n; })));
    };
  }
};

}  // namespace

TEST_CASE("C8 async_execute runs a series of operations as one, with one completion") {
  Fixture f;
  PingPong p{f.request("/later?ms=1")};
  std::atomic<int> calls{0};
  Result<void> outcome;
  AsyncContext<void> ac{[&](Result<void> r) {
    outcome = r;
    ++calls;
  }};
  REQUIRE(uvinet::async_execute(p.first(), &ac).pending());
  REQUIRE(wait_until([&] { return calls.load() == 1; }));
  CHECK(outcome.has_value());
  CHECK(p.sent == 4);
  CHECK(p.reply == "dat");
  CHECK(p.echoed == 3);
  f.close(p.r);
  CHECK(calls == 1);
}

TEST_CASE("C8 async_execute: synchronous, at once, and a failing step") {
  Fixture f;
  SUBCASE("no context: synchronous") {
    PingPong p{f.request("/later?ms=1")};
    CHECK(uvinet::async_execute(p.first()).has_value());
    CHECK(p.echoed == 3);
    f.close(p.r);
  }
  SUBCASE("every step completes at once: the result is returned, no callback") {
    PingPong p{f.request("/now")};
    std::atomic<int> calls{0};
    std::atomic<bool> done{false};
    AsyncContext<void> ac{[&](Result<void>) { ++calls; }};
    REQUIRE(p.r.post([&] {
      auto r = uvinet::async_execute(p.first(), &ac);
      CHECK(r.has_value());
      done = true;
    }));
    REQUIRE(wait_until([&] { return done.load(); }));
    CHECK(p.echoed == 3);
    f.close(p.r);
    CHECK(calls == 0);
  }
  SUBCASE("a failing step ends the sequence with its error") {
    PingPong p{f.request("/fail")};
    auto r = uvinet::async_execute(p.first());
    CHECK(r.error() == errc::protocol_error);
    CHECK(p.reply.empty());
    f.close(p.r);
  }
}

namespace {

Task<std::string> ping(uvinet::Request r) {
  auto sent =
      co_await uvinet::async_call<std::size_t>([&](auto* ac) { return r.send("ping", ac); });
  if (!sent) co_return "send failed: " + sent.error().message();
  auto reply = co_await uvinet::async_call<std::string>([&](auto* ac) { return r.receive(4, ac); });
  co_return reply.value_or("receive failed");
}

Task<int> ping_many(uvinet::Request r, int times) {
  int ok = 0;
  for (int i = 0; i < times; ++i) ok += (co_await ping(r)) == "data";
  co_return ok;
}

}  // namespace

TEST_CASE("C8 coroutines await the same operations") {
  for (auto model : {uvinet::CallbackModel::short_callback, uvinet::CallbackModel::long_callback}) {
    Fixture f(model);
    auto r = f.request("/later?ms=0");
    CHECK(uvinet::sync_wait(ping(r)) == "data");
    CHECK(uvinet::sync_wait(ping_many(r, 50)) == 50);
    auto failing = f.request("/fail");
    CHECK(uvinet::sync_wait(ping(failing)).rfind("send failed", 0) == 0);
    f.close(r);
    f.close(failing);
  }
}

TEST_CASE("C8 an awaited operation that completes at once does not suspend") {
  Fixture f;
  auto r = f.request("/now");
  std::atomic<bool> done{false};
  std::thread::id loop_thread, resumed_on;
  REQUIRE(r.post([&] {
    loop_thread = std::this_thread::get_id();
    ping(r).start([&](std::optional<std::string> v, std::exception_ptr) {
      CHECK(v == "data");
      resumed_on = std::this_thread::get_id();
      done = true;
    });
  }));
  REQUIRE(wait_until([&] { return done.load(); }));
  CHECK(resumed_on == loop_thread);  // finished inside the post: never suspended
  f.close(r);
}

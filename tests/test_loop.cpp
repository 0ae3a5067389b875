// The I/O loop: started on first use and stopped with the last session; an
// application's own libuv loop; no synchronous call on the loop thread.
#include <doctest/doctest.h>
#include <uv.h>

#include "loop.hpp"
#include "support/fixture.hpp"

using test_support::Fixture;
using test_support::wait_until;
using uvinet::AsyncContext;
using uvinet::errc;
using uvinet::Result;
using uvinet::Status;

TEST_CASE("a synchronous call on the loop thread fails instead of deadlocking") {
  Fixture f;
  auto r = f.request("/later");
  std::atomic<bool> checked{false};
  REQUIRE(r.post([&] {
    auto res = r.send("x");
    CHECK(res.error() == errc::sync_call_on_loop_thread);
    CHECK(res.error().message().find("AsyncContext") != std::string::npos);
    checked = true;
  }));
  REQUIRE(wait_until([&] { return checked.load(); }));
  f.close(r);
}

TEST_CASE("the loop thread starts with the first session and stops after the last") {
  std::weak_ptr<uvinet::detail::Loop> loop;
  {
    Fixture f;
    loop = uvinet::detail::Loop::acquire_default();  // the one the session uses
    auto r = f.request("/later");
    CHECK(r.send("x").value() == 1);
    f.close(r);
  }
  REQUIRE(wait_until([&] { return loop.expired(); }));
  Fixture again;  // and a new one starts
  CHECK(again.request("/later").send("x").value() == 1);
}

TEST_CASE("a session on the application's own libuv loop uses that thread and nothing else") {
  test_support::register_test_modules();
  uv_loop_t app_loop;
  REQUIRE(uv_loop_init(&app_loop) == 0);
  const auto app_thread = std::this_thread::get_id();
  std::vector<std::thread::id> callback_threads;
  std::vector<Status> session_statuses;
  uvinet::SessionConfig config;
  config.loop = &app_loop;
  config.status_callback = [&](uvinet::Handle h, uvinet::Context, Status s,
                               const uvinet::StatusInfo&) {
    callback_threads.push_back(std::this_thread::get_id());
    if (h.kind().value_or(uvinet::HandleKind::request) == uvinet::HandleKind::session) {
      session_statuses.push_back(s);
    }
  };
  auto session = uvinet::Session::open(config).value();
  auto connection = session.connect("test://app").value();
  auto request = connection.open_request("/later?ms=1").value();
  std::string got;
  AsyncContext<std::string> ac{[&](Result<std::string> r) {
    got = r.value_or("");
    callback_threads.push_back(std::this_thread::get_id());
    // Close everything from inside the callback; the loop then runs dry.
    CHECK(request.close());
    CHECK(connection.close());
    CHECK(session.close());
  }};
  REQUIRE(request.receive(4, &ac).pending());
  uv_run(&app_loop, UV_RUN_DEFAULT);  // returns once uvinet let go of the loop
  CHECK(got == "data");
  CHECK_FALSE(callback_threads.empty());
  for (auto t : callback_threads) CHECK(t == app_thread);
  CHECK(uv_loop_close(&app_loop) == 0);  // nothing of ours left on it
}

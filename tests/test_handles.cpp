// Handles: C4 (context values and status), C10 (thread-safe creation), C11
// (independent handles), C12 (closing), C13 (close cancels).
#include <doctest/doctest.h>

#include <set>

#include "support/fixture.hpp"
#include "uvinet/http.hpp"

using test_support::Completion;
using test_support::Fixture;
using test_support::wait_until;
using uvinet::AsyncContext;
using uvinet::errc;
using uvinet::Result;
using uvinet::Status;

TEST_CASE("C4 each handle reports with its own context and the statuses arrive in order") {
  Fixture f;
  auto r = f.request("/later?ms=1", 77);
  REQUIRE(r.send("abc").value() == 3);
  f.close(r);
  const std::vector<Status> expected = {Status::handle_created,     Status::sending_request,
                                        Status::request_sent,       Status::request_complete,
                                        Status::closing_connection, Status::connection_closed,
                                        Status::handle_closing};
  CHECK(f.recorder.statuses_of(r) == expected);
  for (const auto& e : f.recorder.events()) {
    if (e.handle == r) {
      CHECK(e.context == 77);
    }
    if (e.handle == f.session) CHECK(e.context == 1);
    if (e.handle == f.connection) CHECK(e.context == 2);
  }
  auto events = f.recorder.events();
  auto complete = std::find_if(events.begin(), events.end(), [&](auto& e) {
    return e.handle == r && e.status == Status::request_complete;
  });
  REQUIRE(complete != events.end());
  CHECK(complete->info.number == 3);
  CHECK_FALSE(complete->info.error);
}

TEST_CASE("C4 a failed operation reports request_error with the error, then request_complete") {
  Fixture f;
  auto r = f.request("/fail");
  CHECK(r.send("x").error() == errc::protocol_error);
  f.close(r);
  auto statuses = f.recorder.statuses_of(r);
  auto at = std::find(statuses.begin(), statuses.end(), Status::request_error);
  REQUIRE(at != statuses.end());
  CHECK(*(at + 1) == Status::request_complete);
  for (const auto& e : f.recorder.events()) {
    if (e.handle == r && e.status == Status::request_error) {
      CHECK(e.info.error == errc::protocol_error);
    }
  }
}

TEST_CASE("C4 the status callback and its mask are inherited at creation, and context can change") {
  Fixture f;
  test_support::StatusRecorder mine;
  const auto mask =
      uvinet::status_bit(Status::request_complete) | uvinet::status_bit(Status::handle_closing);
  auto conn = f.session.connect("test://mine").value();
  REQUIRE(conn.set_status_callback(mine.callback(), mask));
  auto r = conn.open_request("/now", 5).value();  // created after: inherits `mine`
  REQUIRE(r.set_context(6));
  CHECK(r.context().value() == 6);
  REQUIRE(r.send("x").value() == 1);
  REQUIRE(r.close());
  REQUIRE(mine.wait_closed(r));
  CHECK(mine.statuses_of(r) ==
        std::vector<Status>{Status::request_complete, Status::handle_closing});
  for (const auto& e : mine.events()) CHECK(e.context == 6);
  CHECK(f.recorder.statuses_of(r).empty());  // the session's callback is not asked
  REQUIRE(conn.close());
  REQUIRE(mine.wait_closed(conn));
}

TEST_CASE("C10 many threads create connections and requests at once") {
  Fixture f;
  constexpr int kThreads = 8, kEach = 200;
  std::vector<std::vector<uvinet::Handle>> made(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        auto c = f.session.connect("test://h" + std::to_string(i));
        auto r = f.connection.open_request("/now");
        if (c) made[t].push_back(*c);
        if (r) made[t].push_back(*r);
      }
    });
  }
  for (auto& t : threads) t.join();
  std::set<std::uint64_t> ids;
  for (auto& list : made) {
    CHECK(list.size() == 2 * kEach);
    for (auto h : list) {
      ids.insert(h.id());
      CHECK(h.kind());
    }
  }
  CHECK(ids.size() == std::size_t{2 * kThreads * kEach});
  for (auto& list : made) {
    for (auto h : list) REQUIRE(h.close());
  }
  for (auto& list : made) {
    for (auto h : list) REQUIRE(f.recorder.wait_closed(h));
  }
}

TEST_CASE("C11 options set on one thread are read on others, down the tree") {
  // Integer options are read without a lock: a reader sees the default or
  // a value some writer set, never anything else.
  Fixture f;
  auto r = f.request("/now");
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    for (std::int64_t i = 1; !stop.load(); i = i % 1000 + 1) {
      (void)f.session.set_option(uvinet::Option::connect_timeout_ms, i);
      (void)f.connection.set_option(uvinet::Option::user_agent,
                                    std::string("agent/") + std::to_string(i));
    }
  });
  std::vector<std::thread> readers;
  std::atomic<int> bad{0};
  for (int t = 0; t < 2; ++t) {
    readers.emplace_back([&] {
      for (int i = 0; i < 20000; ++i) {
        const auto ms = r.query_int(uvinet::Option::connect_timeout_ms);
        if (!ms || *ms < 1 || (*ms > 1000 && *ms != 30000)) bad.fetch_add(1);
        const auto agent = r.query_string(uvinet::Option::user_agent);
        if (!agent || (agent->rfind("uvinet/", 0) != 0 && agent->rfind("agent/", 0) != 0)) {
          bad.fetch_add(1);
        }
      }
    });
  }
  for (auto& t : readers) t.join();
  stop = true;
  writer.join();
  CHECK(bad.load() == 0);
  REQUIRE(f.session.set_option(uvinet::Option::connect_timeout_ms, std::int64_t{1234}));
  CHECK(r.query_int(uvinet::Option::connect_timeout_ms).value() == 1234);
  f.close(r);
}

TEST_CASE("C11 calls on different handles run on different threads at the same time") {
  Fixture f;
  constexpr int kThreads = 8;
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      auto r = f.request("/later?ms=1");
      for (int i = 0; i < 50; ++i) ok += r.send("abcd").value_or(0) == 4;
      REQUIRE(r.close());
    });
  }
  for (auto& t : threads) t.join();
  CHECK(ok == kThreads * 50);
}

TEST_CASE("C12 closing from any thread, inside callbacks, and using a closed handle") {
  Fixture f;
  SUBCASE("use after close fails with invalid_handle") {
    auto r = f.request("/now");
    f.close(r);
    CHECK(r.send("x").error() == errc::invalid_handle);
    CHECK(r.close().error() == errc::invalid_handle);
    CHECK(r.context().error() == errc::invalid_handle);
    CHECK(r.set_option(uvinet::Option::send_timeout_ms, std::int64_t{1}).error() ==
          errc::invalid_handle);
  }
  SUBCASE("a stale handle never reaches an object that reuses its slot") {
    auto old = f.request("/now");
    f.close(old);
    std::vector<uvinet::Request> fresh;
    for (int i = 0; i < 3000; ++i) fresh.push_back(f.request("/now"));
    for (auto h : fresh) {
      CHECK((h.id() & 0xffffffffu) != 0);
      CHECK(h != old);
    }
    CHECK(old.send("x").error() == errc::invalid_handle);
    for (auto h : fresh) REQUIRE(h.close());
    for (auto h : fresh) REQUIRE(f.recorder.wait_closed(h));
  }
  SUBCASE("close inside a status callback; the handle passed in then fails cleanly") {
    std::atomic<int> after_close_errors{0};
    test_support::StatusRecorder mine;
    auto r = f.request("/later?ms=1");
    REQUIRE(r.set_status_callback(
        [&](uvinet::Handle h, uvinet::Context c, Status s, const uvinet::StatusInfo& info) {
          mine.record(h, c, s, info);
          if (s == Status::request_sent) {
            CHECK(h.close());
            after_close_errors += h.context().error() == errc::invalid_handle;
            after_close_errors += uvinet::Request(h.id()).send("x").error() == errc::invalid_handle;
          }
        }));
    AsyncContext<std::size_t> ac{[](Result<std::size_t>) {}};
    REQUIRE(r.send("x", &ac).pending());
    REQUIRE(mine.wait_closed(r));
    CHECK(after_close_errors == 2);
    CHECK(mine.count(r, Status::handle_closing) == 1);
  }
  SUBCASE("close from another thread while a call is made") {
    for (int i = 0; i < 100; ++i) {
      auto r = f.request("/later");
      std::thread closer([&] { CHECK(r.close()); });
      auto res = r.send("x");
      CHECK((res.has_value() || res.error() == errc::invalid_handle ||
             res.error() == errc::cancelled));
      closer.join();
      REQUIRE(f.recorder.wait_closed(r));
    }
  }
}

TEST_CASE("C13 closing cancels the pending operation, which completes exactly once") {
  Fixture f;
  SUBCASE("asynchronous") {
    auto r = f.request("/never");
    Completion<std::string> done;
    auto ac = done.context();
    REQUIRE(r.receive(10, &ac).pending());
    f.close(r);
    CHECK(done.calls == 1);
    CHECK(done.get().error() == errc::cancelled);
    auto statuses = f.recorder.statuses_of(r);
    CHECK(statuses.back() == Status::handle_closing);
  }
  SUBCASE("closed on the loop thread, by a short callback: the completion comes after") {
    auto r = f.request("/never");
    Completion<std::string> done;
    auto ac = done.context();
    REQUIRE(r.receive(10, &ac).pending());
    std::atomic<int> calls_inside_close{-1};
    REQUIRE(f.session.post([&] {
      CHECK(r.close());
      calls_inside_close = done.calls.load();  // C2: not on this stack
    }));
    REQUIRE(f.recorder.wait_closed(r));
    CHECK(calls_inside_close == 0);
    CHECK(done.calls == 1);
    CHECK(done.get().error() == errc::cancelled);
    CHECK(f.recorder.statuses_of(r).back() == Status::handle_closing);
  }
  SUBCASE("synchronous, blocked in another thread") {
    auto r = f.request("/never");
    std::optional<Result<std::string>> got;
    const int started_before = test_support::counters().started.load();
    std::thread caller([&] { got = r.receive(10); });
    REQUIRE(wait_until([&] { return test_support::counters().started.load() > started_before; }));
    f.close(r);
    caller.join();
    CHECK(got->error() == errc::cancelled);
  }
}

TEST_CASE("C13 closing a parent does not cancel its children, which keep working") {
  Fixture f;
  auto conn = f.session.connect("test://other").value();
  auto r = conn.open_request("/later?ms=20").value();
  Completion<std::size_t> done;
  auto ac = done.context();
  REQUIRE(r.send("abc", &ac).pending());
  REQUIRE(conn.close());
  REQUIRE(f.recorder.wait_closed(conn));
  REQUIRE(done.wait());
  CHECK(done.get().value() == 3);
  CHECK(r.send("more").value() == 4);  // still usable after its parent closed
  f.close(r);
}

TEST_CASE("a module keeps state per request and per session") {
  const int sessions_before = test_support::counters().session_states.load();
  Fixture f;
  auto a = f.request("/now"), b = f.request("/now");
  REQUIRE(a.send("x"));
  REQUIRE(a.send("y"));
  REQUIRE(b.send("z"));
  auto state = uvinet::request_state(a);
  REQUIRE(state);
  CHECK(static_cast<test_support::SharedCount*>(state->get())->started == 2);
  CHECK(test_support::counters().session_states.load() == sessions_before + 1);  // one, shared
  f.close(a);
  CHECK(uvinet::request_state(a).error() == errc::invalid_handle);
  f.close(b);
}

TEST_CASE("a module's open_request fills the request's state before the handle exists") {
  Fixture f;
  const auto& ours = test_support::test_module_type();
  void* filled = nullptr;
  auto r = uvinet::open_request(f.connection, "/now", 9, ours, [&](void* state) -> Result<void> {
    filled = state;
    static_cast<test_support::SharedCount*>(filled)->started = 40;
    return {};
  });
  REQUIRE(r);
  auto state = uvinet::request_state(*r);
  REQUIRE(state);
  CHECK(state->get() == filled);
  // The module's own check: the same state for its class, and for another
  // class a clear refusal.
  CHECK(uvinet::request_state(*r, ours).value().get() == filled);
  auto foreign = uvinet::request_state(*r, typeid(int));
  REQUIRE_FALSE(foreign);
  CHECK(foreign.error() == errc::wrong_handle_kind);
  CHECK(foreign.error().message().find("belongs to the test module") != std::string::npos);
  CHECK(static_cast<test_support::SharedCount*>(filled)->started == 40);
  REQUIRE(r->send("x"));  // the module's start() counts on from there
  CHECK(static_cast<test_support::SharedCount*>(filled)->started == 41);
  f.close(*r);
  CHECK(f.recorder.count(*r, Status::handle_created) == 1);

  // Refused by `init`: its error, and no handle made, so nothing was
  // announced and there is nothing to close.
  const auto events_before = f.recorder.events().size();
  auto refused = uvinet::open_request(f.connection, "/now", 9, ours, [](void*) -> Result<void> {
    return uvinet::Error(errc::invalid_argument, "init says no");
  });
  REQUIRE_FALSE(refused);
  CHECK(refused.error() == errc::invalid_argument);
  CHECK(refused.error().message().find("init says no") != std::string::npos);
  CHECK(f.recorder.events().size() == events_before);

  // HTTP's open_request on a connection of another scheme says so, before
  // any init could run.
  auto http_on_test = uvinet::http::open_request(f.connection, {});
  REQUIRE_FALSE(http_on_test);
  CHECK(http_on_test.error() == errc::wrong_handle_kind);
  CHECK(http_on_test.error().message().find("belongs to the test module") != std::string::npos);
  CHECK(f.recorder.events().size() == events_before);
}

TEST_CASE("C12 a handle of the wrong kind, or closed, fails cleanly with the reason") {
  Fixture f;
  auto r = f.request("/now");
  // A request's id given where a connection is wanted, and the other way.
  auto as_connection = uvinet::Connection(r.id()).open_request("/");
  REQUIRE_FALSE(as_connection);
  CHECK(as_connection.error() == errc::wrong_handle_kind);
  CHECK(as_connection.error().message().find("expected a connection handle, got a request") !=
        std::string::npos);
  auto as_request = uvinet::Request(f.connection.id()).send("x");
  REQUIRE_FALSE(as_request);
  CHECK(as_request.error() == errc::wrong_handle_kind);
  CHECK(as_request.error().message().find("expected a request handle, got a connection") !=
        std::string::npos);
  CHECK(uvinet::request_state(uvinet::Request(f.session.id())).error() == errc::wrong_handle_kind);
  CHECK(uvinet::Request(0).send("x").error() == errc::invalid_handle);
  f.close(r);
  auto closed = r.send("x");
  REQUIRE_FALSE(closed);
  CHECK(closed.error() == errc::invalid_handle);
  CHECK(closed.error().message().find(std::to_string(r.id())) != std::string::npos);
  CHECK(uvinet::request_state(r).error() == errc::invalid_handle);
}

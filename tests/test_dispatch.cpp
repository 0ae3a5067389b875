// Dispatch: C5 (order, no overlap, handle_closing last) and C6 (short
// callbacks on the loop thread, long ones on workers, per-call override).
#include <doctest/doctest.h>

#include <set>

#include "support/fixture.hpp"

using test_support::Completion;
using test_support::Fixture;
using test_support::wait_until;
using uvinet::AsyncContext;
using uvinet::CallbackModel;
using uvinet::Result;
using uvinet::Status;

TEST_CASE("C5 callbacks for one handle never overlap and keep their order, on many threads") {
  Fixture f(CallbackModel::long_callback);
  auto r = f.request("/now");
  constexpr int kPosts = 2000;
  std::mutex mutex;
  std::vector<int> seen;
  std::set<std::thread::id> threads;
  std::atomic<int> inside{0};
  std::atomic<bool> overlap{false};
  std::vector<std::thread> posters;
  for (int p = 0; p < 4; ++p) {
    posters.emplace_back([&, p] {
      for (int i = 0; i < kPosts / 4; ++i) {
        const int n = p * kPosts + i;
        REQUIRE(r.post([&, n] {
          if (inside.fetch_add(1) != 0) overlap = true;
          {
            std::lock_guard lock(mutex);
            seen.push_back(n);
            threads.insert(std::this_thread::get_id());
          }
          inside.fetch_sub(1);
        }));
      }
    });
  }
  for (auto& t : posters) t.join();
  REQUIRE(r.close());
  REQUIRE(f.recorder.wait_closed(r));
  CHECK_FALSE(overlap);
  std::lock_guard lock(mutex);
  REQUIRE(seen.size() == std::size_t{kPosts});
  // Each poster's items arrive in the order it posted them.
  std::vector<int> last(4, -1);
  for (int n : seen) {
    const int p = n / kPosts;
    CHECK(n > last[p]);
    last[p] = n;
  }
  CHECK(f.recorder.count(r, Status::handle_closing) == 1);
  CHECK(f.recorder.statuses_of(r).back() == Status::handle_closing);
}

TEST_CASE("C5 handle_closing is the last callback even with a completion racing the close") {
  for (int i = 0; i < 200; ++i) {
    Fixture f(i % 2 ? CallbackModel::long_callback : CallbackModel::short_callback);
    auto r = f.request("/later?ms=0");
    std::atomic<bool> completion_after_closing{false};
    AsyncContext<std::size_t> ac{[&](Result<std::size_t>) {
      if (f.recorder.closed(r)) completion_after_closing = true;
    }};
    REQUIRE(r.send("x", &ac).pending());
    REQUIRE(r.close());
    REQUIRE(f.recorder.wait_closed(r));
    CHECK_FALSE(completion_after_closing);
    CHECK(f.recorder.count(r, Status::handle_closing) == 1);
  }
}

TEST_CASE("C6 short callbacks run on the loop thread, long callbacks on worker threads") {
  std::thread::id loop_thread;
  {
    Fixture f(CallbackModel::short_callback);
    auto r = f.request("/later?ms=1");
    Completion<std::size_t> done;
    auto ac = done.context();
    REQUIRE(r.send("x", &ac).pending());
    REQUIRE(done.wait());
    loop_thread = done.thread;
    for (const auto& e : f.recorder.events()) CHECK(e.thread == loop_thread);
    CHECK(loop_thread != std::this_thread::get_id());

    SUBCASE("overridden per call") {
      Completion<std::size_t> long_done;
      auto lac = long_done.context(CallbackModel::long_callback);
      REQUIRE(r.send("x", &lac).pending());
      REQUIRE(long_done.wait());
      CHECK(long_done.thread != loop_thread);
    }
    f.close(r);
  }
  {
    Fixture f(CallbackModel::long_callback);
    auto r = f.request("/later?ms=1");
    Completion<std::size_t> done;
    auto ac = done.context();
    REQUIRE(r.send("x", &ac).pending());
    REQUIRE(done.wait());
    Completion<std::size_t> short_done;
    auto sac = short_done.context(CallbackModel::short_callback);
    REQUIRE(r.send("x", &sac).pending());
    REQUIRE(short_done.wait());
    // A long callback runs elsewhere than the short ones of the same session.
    CHECK(done.thread != short_done.thread);
    f.close(r);
  }
}

TEST_CASE("C6 a long callback may block while the loop goes on serving others") {
  Fixture f(CallbackModel::long_callback);
  auto blocked = f.request("/later?ms=0");
  auto other = f.request("/later?ms=0");
  std::atomic<bool> other_done{false};
  std::atomic<bool> saw_other{false};
  AsyncContext<std::size_t> blocking{[&](Result<std::size_t>) {
    // Blocks until the other request completed: only possible when the loop
    // and the other workers were not held up by this callback.
    saw_other = wait_until([&] { return other_done.load(); });
  }};
  AsyncContext<std::size_t> quick{[&](Result<std::size_t>) { other_done = true; },
                                  CallbackModel::short_callback};
  REQUIRE(blocked.send("x", &blocking).pending());
  REQUIRE(wait_until([&] { return f.recorder.count(blocked, Status::request_complete) > 0; }));
  REQUIRE(other.send("y", &quick).pending());
  REQUIRE(wait_until([&] { return saw_other.load(); }));
  f.close(blocked);
  f.close(other);
}

TEST_CASE("C12 posts to a closed handle fail at once, and a reused slot serves no stale id") {
  Fixture f;
  SUBCASE("closed while its operation is still being cancelled") {
    auto r = f.request("/never");
    Completion<std::size_t> pending;
    auto ctx = pending.context();
    REQUIRE(r.send("x", &ctx).pending());
    REQUIRE(r.close());
    auto late = r.post([] { FAIL("a post to a closed handle ran"); });
    REQUIRE_FALSE(late);
    CHECK(late.error() == uvinet::errc::invalid_handle);
    REQUIRE(f.recorder.wait_closed(r));
    CHECK(pending.get().error() == uvinet::errc::cancelled);
  }
  SUBCASE("ids of closed handles stay dead after their slots serve new handles") {
    // Slots are reused once more than 1024 are free: free 1100 of them.
    std::vector<uvinet::Request> old, fresh;
    for (int i = 0; i < 1100; ++i) old.push_back(f.request("/now"));
    for (auto& r : old) REQUIRE(r.close());
    for (auto& r : old) REQUIRE(f.recorder.wait_closed(r));
    std::set<std::uint64_t> old_slots;
    for (auto& r : old) old_slots.insert(r.id() & 0xffffffffu);
    int reused = 0;
    std::atomic<int> ran{0};
    for (int i = 0; i < 1100; ++i) {
      fresh.push_back(f.request("/now"));
      reused += old_slots.count(fresh.back().id() & 0xffffffffu) != 0;
    }
    CHECK(reused > 0);
    for (auto& r : old) CHECK_FALSE(r.post([] { FAIL("a stale id reached a new handle"); }));
    for (auto& r : fresh) REQUIRE(r.post([&] { ++ran; }));
    CHECK(wait_until([&] { return ran.load() == 1100; }));
    for (auto& r : fresh) f.close(r);
  }
}

TEST_CASE("C5 with no status callback, what was queued before a close still runs, then nothing") {
  test_support::register_test_modules();
  for (auto model : {CallbackModel::short_callback, CallbackModel::long_callback}) {
    // No status callback anywhere: closing seals each strand with no
    // handle_closing callback to queue.
    uvinet::SessionConfig config;
    config.callback_model = model;
    auto session = uvinet::Session::open(config).value();
    auto connection = session.connect("test://server").value();
    auto r = connection.open_request("/now").value();
    // The first callback holds the strand busy while the close seals it.
    std::atomic<bool> release{false};
    std::atomic<int> ran{0};
    std::atomic<bool> in_order{true};
    REQUIRE(r.post([&] {
      CHECK(wait_until([&] { return release.load(); }));
      ++ran;
    }));
    constexpr int kPosts = 100;
    for (int i = 1; i <= kPosts; ++i) {
      REQUIRE(r.post([&, i] {
        if (ran.fetch_add(1) != i) in_order = false;
      }));
    }
    REQUIRE(r.close());
    CHECK_FALSE(r.post([] { FAIL("a post to a closed handle ran"); }));
    release = true;
    CHECK(wait_until([&] { return ran.load() == kPosts + 1; }));
    CHECK(in_order);

    // Closed when idle, the strands are free for new handles at once: slots
    // are reused once more than 1024 are free.
    std::vector<uvinet::Request> old;
    for (int i = 0; i < 1100; ++i) old.push_back(connection.open_request("/now").value());
    std::set<std::uint64_t> old_slots;
    for (auto& h : old) {
      old_slots.insert(h.id() & 0xffffffffu);
      REQUIRE(h.close());
    }
    bool reused = false;
    std::vector<uvinet::Request> fresh;
    CHECK(wait_until([&] {
      fresh.push_back(connection.open_request("/now").value());
      reused = old_slots.count(fresh.back().id() & 0xffffffffu) != 0;
      return reused;
    }));
    std::atomic<int> posted{0};
    REQUIRE(fresh.back().post([&] { ++posted; }));
    CHECK(wait_until([&] { return posted.load() == 1; }));
    for (auto& h : old) CHECK_FALSE(h.post([] { FAIL("a stale id reached a new handle"); }));
    for (auto& h : fresh) REQUIRE(h.close());
    REQUIRE(connection.close());
    REQUIRE(session.close());
  }
}

// Bounds (C7): operations in flight per session and connections per server,
// each failing fast or queueing as configured.
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>
#include <vector>

#include "limits.hpp"
#include "support/fixture.hpp"

using test_support::Completion;
using test_support::counters;
using test_support::Fixture;
using test_support::wait_until;
using uvinet::AsyncContext;
using uvinet::errc;
using uvinet::LimitPolicy;
using uvinet::Option;
using uvinet::Result;

namespace {

// A loopback port whose backlog completes connections nobody accepts, on
// 127.0.0.1 or on ::1.
struct Listener {
  explicit Listener(bool ipv6 = false) {
    fd = ::socket(ipv6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
    sockaddr_storage ss{};
    socklen_t len;
    if (ipv6) {
      auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
      a->sin6_family = AF_INET6;
      a->sin6_addr = in6addr_loopback;
      len = sizeof *a;
    } else {
      auto* a = reinterpret_cast<sockaddr_in*>(&ss);
      a->sin_family = AF_INET;
      a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      len = sizeof *a;
    }
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) == 0);
    REQUIRE(::listen(fd, 64) == 0);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
    port = ntohs(ipv6 ? reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port
                      : reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
  }
  ~Listener() { ::close(fd); }
  int fd;
  int port;
};

}  // namespace

TEST_CASE("C7 past the bound on operations a call fails fast with a clear error") {
  Fixture f;
  REQUIRE(f.session.set_option(Option::max_operations, std::int64_t{2}));
  auto a = f.request("/never"), b = f.request("/never"), c = f.request("/never");
  Completion<std::size_t> da, db, dc;
  auto aa = da.context(), ab = db.context(), ac = dc.context();
  REQUIRE(a.send("x", &aa).pending());
  REQUIRE(b.send("x", &ab).pending());
  auto refused = c.send("x", &ac);
  REQUIRE_FALSE(refused);
  CHECK(refused.error() == errc::too_many_operations);
  CHECK(refused.error().message().find("2 operations already in flight") != std::string::npos);
  f.close(a);  // frees a slot
  CHECK(c.send("x", &ac).pending());
  f.close(b);
  f.close(c);
  CHECK(dc.calls == 1);
}

TEST_CASE("C7 queued operations wait their turn and never exceed the bound") {
  Fixture f;
  REQUIRE(f.session.set_option(Option::max_operations, std::int64_t{3}));
  REQUIRE(f.session.set_option(Option::limit_policy, std::int64_t(LimitPolicy::queue)));
  counters().max_in_flight = 0;
  constexpr int kRequests = 2000;
  std::vector<uvinet::Request> requests;
  std::atomic<int> ok{0};
  AsyncContext<std::size_t> ac{[&](Result<std::size_t> r) { ok += r.value_or(0) == 1; }};
  // Starting far more work than the bound returns at once every time: the
  // caller is never blocked (the process stays responsive).
  for (int i = 0; i < kRequests; ++i) {
    requests.push_back(f.request("/later?ms=0"));
    REQUIRE(requests.back().send("x", &ac).pending());
  }
  REQUIRE(wait_until([&] { return ok.load() == kRequests; }));
  CHECK(counters().max_in_flight.load() <= 3);
  CHECK(counters().max_in_flight.load() >= 1);
  for (auto r : requests) REQUIRE(r.close());
  for (auto r : requests) REQUIRE(f.recorder.wait_closed(r));
}

TEST_CASE("C7 closing a request whose operation waits in the queue cancels it") {
  Fixture f;
  REQUIRE(f.session.set_option(Option::max_operations, std::int64_t{1}));
  REQUIRE(f.session.set_option(Option::limit_policy, std::int64_t(LimitPolicy::queue)));
  auto busy = f.request("/never"), waiting = f.request("/never");
  Completion<std::size_t> first, second;
  auto a1 = first.context(), a2 = second.context();
  REQUIRE(busy.send("x", &a1).pending());
  REQUIRE(waiting.send("x", &a2).pending());
  f.close(waiting);
  CHECK(second.calls == 1);
  CHECK(second.get().error() == errc::cancelled);
  f.close(busy);
  CHECK(first.get().error() == errc::cancelled);
}

TEST_CASE("C7 connections per server: fail fast, then queue") {
  Listener server;
  const std::string target = "/connect?port=" + std::to_string(server.port);
  Fixture f;
  REQUIRE(f.session.set_option(Option::max_connections_per_server, std::int64_t{2}));
  auto a = f.request(target.c_str()), b = f.request(target.c_str()), c = f.request(target.c_str());
  CHECK(a.receive(100).value() == "connected");
  CHECK(b.receive(100).value() == "connected");
  auto refused = c.receive(100);
  REQUIRE_FALSE(refused);
  CHECK(refused.error() == errc::too_many_connections);
  CHECK(refused.error().message().find("127.0.0.1:" + std::to_string(server.port)) !=
        std::string::npos);

  REQUIRE(f.session.set_option(Option::limit_policy, std::int64_t(LimitPolicy::queue)));
  Completion<std::string> queued;
  auto qc = queued.context();
  REQUIRE(c.receive(100, &qc).pending());
  f.close(a);  // its connection goes, and the queued one takes the slot
  REQUIRE(queued.wait());
  CHECK(queued.get().value() == "connected");
  f.close(b);
  f.close(c);
}

TEST_CASE("C7 a connection slot outlives its session's gates and still passes on") {
  // A slot can sit in a loop task that runs after its session has gone.
  using uvinet::detail::ServerGates;
  ServerGates::SlotPtr held, handed_over;
  {
    ServerGates gates;
    held = gates.try_acquire("h:1", 1);
    REQUIRE(held);
    CHECK_FALSE(gates.try_acquire("h:1", 1));
    CHECK_FALSE(gates.acquire_or_wait("h:1", 1,
                                      [&](ServerGates::SlotPtr s) { handed_over = std::move(s); }));
  }
  held.reset();  // passes to the waiter
  CHECK(handed_over);
  handed_over.reset();
}

TEST_CASE("C7 the operation gate: a bound, FIFO waiters, and slots passed on") {
  uvinet::detail::Gate gate;
  CHECK(gate.try_acquire(2));
  CHECK(gate.acquire_or_wait(2, [] { FAIL("not queued"); }));
  CHECK_FALSE(gate.try_acquire(2));
  std::vector<int> granted;
  CHECK_FALSE(gate.acquire_or_wait(2, [&] { granted.push_back(1); }));
  CHECK_FALSE(gate.acquire_or_wait(2, [&] { granted.push_back(2); }));
  // A raised bound lets nobody past the queue: the waiters go first.
  CHECK_FALSE(gate.try_acquire(10));
  gate.release();
  CHECK(granted == std::vector<int>{1});
  gate.release();
  CHECK(granted == std::vector<int>{1, 2});
  // Two slots are still taken, by the waiters; freed, the gate is empty.
  gate.release();
  gate.release();
  CHECK(gate.try_acquire(2));
  CHECK(gate.try_acquire(2));
  CHECK_FALSE(gate.try_acquire(2));
  gate.release();
  gate.release();
}

TEST_CASE("C7 the operation gate under contention: never past the bound, no slot lost") {
  // Threads take slots with and without queueing, while others give them
  // back: every taker gets one in the end, and the count comes back to 0.
  uvinet::detail::Gate gate;
  constexpr std::int64_t kLimit = 2;
  constexpr int kThreads = 6, kEach = 5000;
  std::atomic<int> in_flight{0}, most{0}, queued{0};
  const auto hold = [&] {
    const int now = in_flight.fetch_add(1) + 1;
    int seen = most.load();
    while (now > seen && !most.compare_exchange_weak(seen, now)) {
    }
    std::this_thread::yield();  // held a while: others come and must queue
    in_flight.fetch_sub(1);
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        if ((i + t) % 2 == 0) {
          if (!gate.try_acquire(kLimit)) continue;
          hold();
          gate.release();
          continue;
        }
        std::atomic<bool> mine{false};
        if (gate.acquire_or_wait(kLimit, [&] { mine = true; })) {
          mine = true;
        } else {
          queued.fetch_add(1);
        }
        // The waiter runs on the thread that gave the slot back; the slot
        // is ours from then on.
        while (!mine.load()) std::this_thread::yield();
        hold();
        gate.release();
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(most.load() <= kLimit);
  WARN_MESSAGE(queued.load() > 0, "no taker had to queue: the waiters went untested");
  for (int i = 0; i < kLimit; ++i) CHECK(gate.try_acquire(kLimit));
  CHECK_FALSE(gate.try_acquire(kLimit));
  for (int i = 0; i < kLimit; ++i) gate.release();
}

TEST_CASE("TCP connects over IPv6 too, reporting each step") {
  Listener server(/*ipv6=*/true);
  const std::string target = "/connect?port=" + std::to_string(server.port) + "&host=::1";
  Fixture f;
  auto r = f.request(target.c_str());
  CHECK(r.receive(100).value() == "connected");
  f.close(r);
  std::vector<uvinet::Status> steps;
  for (const auto& e : f.recorder.events()) {
    if (e.handle != r) continue;
    if (e.status == uvinet::Status::connecting_to_server ||
        e.status == uvinet::Status::connected_to_server) {
      CHECK(e.info.text == "[::1]:" + std::to_string(server.port));
    }
    steps.push_back(e.status);
  }
  const auto has = [&](uvinet::Status s) {
    return std::find(steps.begin(), steps.end(), s) != steps.end();
  };
  CHECK(has(uvinet::Status::resolving_name));
  CHECK(has(uvinet::Status::name_resolved));
  CHECK(has(uvinet::Status::connected_to_server));
}

TEST_CASE("C7 a call answered at once is never in flight, so the bound does not refuse it") {
  Fixture f;
  REQUIRE(f.session.set_option(Option::max_operations, std::int64_t{1}));
  auto instant = f.request("/instant");
  test_support::call_pending(instant, "a");  // makes the module's request
  auto holder = f.request("/never");
  Completion<std::size_t> held;
  auto hac = held.context();
  REQUIRE(holder.send("x", &hac).pending());  // the one operation in flight
  auto other = f.request("/never");
  Completion<std::size_t> refused;
  auto rac = refused.context();
  CHECK(other.send("x", &rac).error() == errc::too_many_operations);

  Completion<uvinet::OperationValue> never;
  auto answered = test_support::call_on_loop(instant, "b", never);
  REQUIRE(answered);
  CHECK(answered->data == "b");
  f.close(holder);
  f.close(other);
  f.close(instant);
  CHECK(never.calls == 0);
}

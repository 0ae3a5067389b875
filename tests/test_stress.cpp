// Stress: 8 threads x 10,000 create / start / close cycles on random
// handles, with callbacks that close handles themselves. Every operation
// that went pending completes exactly once, none that finished at once is
// called back, and every handle gets handle_closing exactly once, last.
// Run under ASan (leaks) and TSan (races) by tools/test.
#include <doctest/doctest.h>

#include <random>
#include <unordered_map>

#include "support/fixture.hpp"

using test_support::wait_until;
using uvinet::AsyncContext;
using uvinet::Result;
using uvinet::Status;

namespace {

constexpr int kThreads = 8;
constexpr int kCycles = 10000;

struct Ledger {
  std::mutex mutex;
  std::unordered_map<std::uint64_t, int> closing;  // handle -> handle_closing count
  std::unordered_map<std::uint64_t, int> inside;   // handle -> callbacks running now
  std::atomic<int> created{0};
  std::atomic<bool> overlap{false};
  std::atomic<bool> after_closing{false};
  std::atomic<int> closings{0};

  void on_status(uvinet::Handle h, Status s) {
    {
      std::lock_guard lock(mutex);
      if (inside[h.id()]++ != 0) overlap = true;
      if (closing[h.id()] != 0) after_closing = true;
      if (s == Status::handle_closing) ++closing[h.id()];
    }
    if (s == Status::handle_closing) ++closings;
    std::lock_guard lock(mutex);
    --inside[h.id()];
  }
};

struct Operations {
  // One slot per operation started: 0 = finished at once, 1 = pending, and
  // every callback adds 10, so a pending one must end at 11.
  std::vector<std::atomic<int>> state = std::vector<std::atomic<int>>(kThreads * kCycles);
  std::atomic<int> next{0};
  std::atomic<int> pending{0};
  std::atomic<int> called{0};
};

class Pool {
 public:
  void add(uvinet::Handle h) {
    std::lock_guard lock(mutex_);
    handles_.push_back(h);
  }
  std::optional<uvinet::Handle> pick(std::mt19937& rng, bool take) {
    std::lock_guard lock(mutex_);
    if (handles_.empty()) return std::nullopt;
    const auto i = std::uniform_int_distribution<std::size_t>(0, handles_.size() - 1)(rng);
    auto h = handles_[i];
    if (take) {
      handles_[i] = handles_.back();
      handles_.pop_back();
    }
    return h;
  }
  std::vector<uvinet::Handle> take_all() {
    std::lock_guard lock(mutex_);
    return std::exchange(handles_, {});
  }

 private:
  std::mutex mutex_;
  std::vector<uvinet::Handle> handles_;
};

void start_operation(uvinet::Request r, std::mt19937& rng,
                     const std::shared_ptr<Operations>& shared) {
  Operations& ops = *shared;
  const int id = ops.next++;
  const bool close_in_callback = rng() % 8 == 0;
  const auto model =
      rng() % 2 ? uvinet::CallbackModel::long_callback : uvinet::CallbackModel::short_callback;
  auto done = [shared, id, r, close_in_callback](bool) {
    shared->state[id] += 10;
    ++shared->called;
    if (close_in_callback) (void)r.close();
  };
  Result<std::size_t> started = uvinet::Error(uvinet::errc::io_pending);
  if (rng() % 2) {
    AsyncContext<std::size_t> ac{[done](Result<std::size_t> res) { done(res.has_value()); }, model};
    started = r.send("payload", &ac);
  } else {
    AsyncContext<std::string> ac{[done](Result<std::string> res) { done(res.has_value()); }, model};
    auto got = r.receive(16, &ac);
    started = got ? Result<std::size_t>(got->size()) : Result<std::size_t>(got.error());
  }
  if (started.pending()) {
    ops.state[id] += 1;
    ++ops.pending;
  }
}

}  // namespace

TEST_CASE("C13 C5 stress: 8 threads x 10000 create/start/close cycles on random handles") {
  test_support::register_test_modules();
  // Shared with the callbacks, which may still be returning when we check.
  auto ledger_ptr = std::make_shared<Ledger>();
  auto ops_ptr = std::make_shared<Operations>();
  Ledger& ledger = *ledger_ptr;
  Operations& ops = *ops_ptr;
  Pool requests;
  auto status = [ledger_ptr](uvinet::Handle h, uvinet::Context, Status s,
                             const uvinet::StatusInfo&) { ledger_ptr->on_status(h, s); };
  const auto mask = uvinet::status_bit(Status::handle_closing) |
                    uvinet::status_bit(Status::request_complete) |
                    uvinet::status_bit(Status::handle_created);
  std::vector<uvinet::Session> sessions;
  std::vector<uvinet::Connection> connections;
  for (auto model : {uvinet::CallbackModel::short_callback, uvinet::CallbackModel::long_callback}) {
    uvinet::SessionConfig config;
    config.callback_model = model;
    config.status_callback = status;
    config.status_mask = mask;
    sessions.push_back(uvinet::Session::open(config).value());
    ++ledger.created;
    for (int i = 0; i < 2; ++i) {
      connections.push_back(sessions.back().connect(i ? "testduplex://s" : "test://s").value());
      ++ledger.created;
    }
  }
  const char* targets[] = {"/now", "/later?ms=0", "/later?ms=1", "/never", "/fail"};

  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(1234 + t);
      for (int i = 0; i < kCycles; ++i) {
        const unsigned dice = rng() % 10;
        if (dice < 3) {
          auto& c = connections[rng() % connections.size()];
          auto r = c.open_request(targets[rng() % 5]);
          REQUIRE(r);
          ++ledger.created;
          requests.add(*r);
        } else if (dice < 8) {
          if (auto h = requests.pick(rng, false))
            start_operation(uvinet::Request(h->id()), rng, ops_ptr);
        } else if (auto h = requests.pick(rng, true)) {
          (void)h->close();  // may already be closed by a callback
        }
      }
    });
  }
  for (auto& t : threads) t.join();

  for (auto h : requests.take_all()) (void)h.close();
  REQUIRE(wait_until([&] { return ops.called.load() == ops.pending.load(); },
                     std::chrono::seconds(120)));
  for (auto c : connections) REQUIRE(c.close());
  for (auto s : sessions) REQUIRE(s.close());
  REQUIRE(wait_until([&] { return ledger.closings.load() == ledger.created.load(); },
                     std::chrono::seconds(120)));

  int wrong = 0;
  for (int id = 0; id < ops.next.load(); ++id) {
    const int s = ops.state[id].load();
    wrong += !(s == 0 || s == 11);
  }
  CHECK(wrong == 0);
  CHECK(ops.pending.load() > 1000);  // the run did exercise pending operations
  CHECK_FALSE(ledger.overlap);
  CHECK_FALSE(ledger.after_closing);
  std::lock_guard lock(ledger.mutex);
  for (const auto& [handle, count] : ledger.closing) CHECK(count == 1);
  CHECK(ledger.closing.size() == std::size_t(ledger.created.load()));
  CHECK(test_support::counters().live_requests.load() == 0);
}

// C++20 coroutines over the same operations (C8).
//
//   Task<std::string> ping(Request r) {
//     auto sent = co_await async_call<std::size_t>([&](auto* ac) { return r.send("ping", ac); });
//     if (!sent) co_return std::string();
//     auto reply = co_await async_call<std::string>([&](auto* ac) { return r.receive(4, ac); });
//     co_return reply.value_or("");
//   }
//   std::string reply = sync_wait(ping(request));
//
// An operation that completes at once does not suspend the coroutine; one
// that is pending resumes it on the thread its callback runs on.
#pragma once

#include <coroutine>
#include <exception>
#include <functional>
#include <future>
#include <optional>
#include <utility>

#include "uvinet/async.hpp"

namespace uvinet {

/// Awaits one operation: `start(const AsyncContext<T>*)` starts it and returns
/// what the call returned. `co_await` gives the operation's Result<T>.
template <class T, class Start>
auto async_call(Start start, CallbackModel model = {}) {
  struct Awaitable {
    Start start;
    CallbackModel model;
    Result<T> result = Error(errc::io_pending);

    bool await_ready() const noexcept { return false; }
    bool await_suspend(std::coroutine_handle<> h) {
      AsyncContext<T> ac{[this, h](Result<T> r) {
                           result = std::move(r);
                           h.resume();
                         },
                         model};
      Result<T> r = start(&ac);
      if (r.pending()) return true;  // the callback resumes us; touch nothing more
      result = std::move(r);
      return false;  // completed at once: carry on without suspending
    }
    Result<T> await_resume() { return std::move(result); }
  };
  return Awaitable{std::move(start), model};
}

template <class T>
class Task;

namespace detail {

template <class T>
struct TaskPromiseBase {
  std::optional<T> value;
  void return_value(T v) { value.emplace(std::move(v)); }
  T take() { return std::move(*value); }
};
template <>
struct TaskPromiseBase<void> {
  void return_void() noexcept {}
  void take() noexcept {}
};

}  // namespace detail

/// A lazy coroutine: it starts when awaited, or when given to start() or
/// sync_wait().
template <class T = void>
class [[nodiscard]] Task {
 public:
  struct promise_type : detail::TaskPromiseBase<T> {
    std::coroutine_handle<> continuation;
    std::function<void(std::coroutine_handle<promise_type>)> on_done;
    std::exception_ptr error;

    Task get_return_object() {
      return Task(std::coroutine_handle<promise_type>::from_promise(*this));
    }
    std::suspend_always initial_suspend() noexcept { return {}; }
    auto final_suspend() noexcept {
      struct Final {
        bool await_ready() noexcept { return false; }
        std::coroutine_handle<> await_suspend(std::coroutine_handle<promise_type> h) noexcept {
          auto& p = h.promise();
          if (p.continuation) return p.continuation;
          if (p.on_done) p.on_done(h);  // may destroy the frame
          return std::noop_coroutine();
        }
        void await_resume() noexcept {}
      };
      return Final{};
    }
    void unhandled_exception() { error = std::current_exception(); }
  };

  Task(Task&& other) noexcept : h_(std::exchange(other.h_, {})) {}
  Task& operator=(Task&& other) noexcept {
    if (this != &other) {
      if (h_) h_.destroy();
      h_ = std::exchange(other.h_, {});
    }
    return *this;
  }
  ~Task() {
    if (h_) h_.destroy();
  }

  bool await_ready() const noexcept { return false; }
  std::coroutine_handle<> await_suspend(std::coroutine_handle<> awaiting) noexcept {
    h_.promise().continuation = awaiting;
    return h_;
  }
  T await_resume() {
    if (h_.promise().error) std::rethrow_exception(h_.promise().error);
    return h_.promise().take();
  }

  /// Runs the task detached; `done` gets its value (or exception) when it
  /// finishes, on whichever thread finished it.
  void start(std::function<void(std::optional<std::conditional_t<std::is_void_v<T>, bool, T>>,
                                std::exception_ptr)>
                 done) && {
    auto h = std::exchange(h_, {});
    h.promise().on_done = [done = std::move(done)](std::coroutine_handle<promise_type> h) {
      auto& p = h.promise();
      std::exception_ptr error = p.error;
      if constexpr (std::is_void_v<T>) {
        done(error ? std::nullopt : std::optional<bool>(true), error);
      } else {
        std::optional<T> value;
        if (!error) value.emplace(p.take());
        done(std::move(value), error);
      }
      h.destroy();
    };
    h.resume();
  }

 private:
  explicit Task(std::coroutine_handle<promise_type> h) : h_(h) {}
  std::coroutine_handle<promise_type> h_;
};

/// Runs `task` and blocks until it finished; rethrows its exception. Do not
/// call it on the I/O loop thread, whose callbacks the task may need.
template <class T>
T sync_wait(Task<T> task) {
  using Value = std::conditional_t<std::is_void_v<T>, bool, T>;
  std::promise<Value> finished;
  std::move(task).start([&finished](std::optional<Value> v, std::exception_ptr e) {
    if (e) {
      finished.set_exception(e);
    } else {
      finished.set_value(std::move(*v));
    }
  });
  if constexpr (std::is_void_v<T>) {
    finished.get_future().get();
  } else {
    return finished.get_future().get();
  }
}

}  // namespace uvinet

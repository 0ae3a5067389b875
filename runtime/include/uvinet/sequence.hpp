// Sequences (C8): run a series of asynchronous operations as one operation,
// each step naming the next; WWSAPI's WsAsyncExecute. See task.hpp for the
// same thing written as a C++20 coroutine.
//
//   auto second = [&](AsyncExecution& x) {
//     return x.started(request.receive(100, x.context<std::string>([&](std::string s) { reply = s;
//     })));
//   };
//   auto first = [&](AsyncExecution& x) {
//     x.next(second);
//     return x.started(request.send("ping", x.context<std::size_t>()));
//   };
//   Result<void> r = async_execute(first, &done_context);
#pragma once

#include <future>
#include <memory>
#include <mutex>

#include "uvinet/async.hpp"

namespace uvinet {

class AsyncExecution;

/// One step: starts at most one operation, passing it `x.context<T>()`, and
/// returns `x.started(what that call returned)`. To go on afterwards it calls
/// `x.next()` BEFORE starting the operation, whose callback may run at once
/// on another thread.
using AsyncStep = std::function<Result<void>(AsyncExecution& x)>;

class AsyncExecution {
 public:
  /// Names the step to run after this one's operation succeeded.
  void next(AsyncStep step) { state_->next = std::move(step); }

  /// The context to pass to this step's operation. `on_value` gets the
  /// operation's value when it succeeds, before the next step runs.
  template <class T>
  const AsyncContext<T>* context(std::function<void(T)> on_value = {}) {
    auto state = state_;
    auto* ac = new AsyncContext<T>{[state, on_value](Result<T> r) {
                                     if (r && on_value) on_value(std::move(*r));
                                     state->resume(r ? Result<void>() : Result<void>(r.error()));
                                   },
                                   state->model};
    contexts_.emplace_back(ac, [](void* p) { delete static_cast<AsyncContext<T>*>(p); });
    on_value_now_ = [on_value](void* value) {
      if (on_value) on_value(std::move(*static_cast<T*>(value)));
    };
    return ac;
  }

  /// Turns the operation's result into the step's: pending stays pending, a
  /// value that came at once goes to `on_value`, an error ends the sequence.
  template <class T>
  Result<void> started(Result<T> r) {
    if (!r) return r.error();
    if (on_value_now_) {
      if constexpr (!std::is_void_v<T>) on_value_now_(&*r);
    }
    return {};
  }

 private:
  friend Result<void> async_execute(AsyncStep, const AsyncContext<void>*);

  struct State : std::enable_shared_from_this<State> {
    std::function<void(Result<void>)> done;
    CallbackModel model{};
    AsyncStep next;
    void resume(Result<void> previous);
    Result<void> run();
  };

  explicit AsyncExecution(std::shared_ptr<State> state) : state_(std::move(state)) {}

  std::shared_ptr<State> state_;
  std::function<void(void*)> on_value_now_;
  std::vector<std::unique_ptr<void, void (*)(void*)>> contexts_;
};

/// Runs the steps from `first` as one operation (C1): with no context,
/// synchronously; with one, it returns the final result when every step
/// completed at once, or pending and calls `async->callback` exactly once.
inline Result<void> async_execute(AsyncStep first, const AsyncContext<void>* async = nullptr) {
  auto state = std::make_shared<AsyncExecution::State>();
  state->next = std::move(first);
  std::promise<Result<void>> finished;
  if (async) {
    if (!async->callback) return Error(errc::invalid_argument, "AsyncContext without a callback");
    state->done = async->callback;
    state->model = async->model;
    return state->run();
  }
  state->done = [&finished](Result<void> r) { finished.set_value(std::move(r)); };
  auto r = state->run();
  if (!r.pending()) return r;
  return finished.get_future().get();
}

// Runs steps until one is pending (its callback resumes us) or all are done.
// Nothing here touches the state after a step reported pending: the
// operation's callback may already be running on another thread.
inline Result<void> AsyncExecution::State::run() {
  auto self = shared_from_this();
  while (next) {
    AsyncExecution x(self);
    AsyncStep step = std::move(next);
    next = nullptr;
    Result<void> r = step(x);  // sets `next` through x.next()
    if (!r) return r;          // pending, or the sequence failed
  }
  return {};
}

inline void AsyncExecution::State::resume(Result<void> previous) {
  if (previous) previous = run();
  if (previous.pending()) return;
  auto cb = std::move(done);
  if (cb) cb(std::move(previous));
}

}  // namespace uvinet

// How to call an operation asynchronously (contract rules C1-C3, C6).
#pragma once

#include <cstdint>
#include <functional>

#include "uvinet/result.hpp"

namespace uvinet {

/// Where callbacks run (C6). `short_callback`: on the I/O loop thread; the
/// callback must not block. `long_callback`: on a worker thread; it may block.
enum class CallbackModel : std::uint8_t {
  short_callback = 1,
  long_callback = 2,
};

/// The optional last argument of every operation that can take time (C1).
///
/// Without one (nullptr), the call is synchronous: it blocks and returns the
/// final result. With one, the call either finishes at once and returns the
/// final result (the callback is NOT invoked), or returns a Result whose
/// `pending()` is true and invokes `callback` later, exactly once, never on
/// the calling thread before the call returned (C2).
///
/// The context is read only during the call and may live on the caller's
/// stack (C3). The application's state is whatever `callback` captures.
template <class T>
struct AsyncContext {
  std::function<void(Result<T>)> callback;
  /// Overrides the session's callback model for this one call when set.
  CallbackModel model{};
};

}  // namespace uvinet

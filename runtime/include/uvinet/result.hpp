// Result<T>: the outcome of every uvinet call. It holds a value or an Error;
// an asynchronous call that has not finished yet holds the error
// `errc::io_pending` (WWSAPI's WS_S_ASYNC), tested with `pending()`.
#pragma once

#include <tl/expected.hpp>

#include "uvinet/error.hpp"

namespace uvinet {

template <class T>
class Result : public tl::expected<T, Error> {
 public:
  using tl::expected<T, Error>::expected;
  Result(const tl::expected<T, Error>& e) : tl::expected<T, Error>(e) {}        // NOLINT
  Result(tl::expected<T, Error>&& e) : tl::expected<T, Error>(std::move(e)) {}  // NOLINT
  Result(Error e) : tl::expected<T, Error>(tl::unexpect, std::move(e)) {}       // NOLINT
  Result(errc e) : tl::expected<T, Error>(tl::unexpect, Error(e)) {}            // NOLINT

  /// True when the call will complete later through its AsyncContext callback.
  bool pending() const noexcept { return !this->has_value() && this->error() == errc::io_pending; }
  /// The error code, or a default (success) code when this holds a value.
  std::error_code code() const noexcept {
    return this->has_value() ? std::error_code{} : this->error().code();
  }
};

/// The result of a call that is pending (only the runtime makes these).
inline Error pending_error() {
  return Error(errc::io_pending);
}

}  // namespace uvinet

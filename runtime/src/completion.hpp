// The application's completion callback of one operation, in the shape of
// the call that started it. The runtime converts the module's
// OperationValue itself, so a typed call (Request::send, HTTP's
// send_request, read_data_into...) hands over the application's own
// std::function: a wrapper around it would not fit std::function's inline
// storage and would cost an allocation on every call.
#pragma once

#include <functional>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

#include "uvinet/handle.hpp"

namespace uvinet::detail {

/// An operation's result in the shape of a typed call: OperationValue
/// itself, nothing (void), its count, or its data. The one place these
/// conversions are written, for callbacks and for returned results alike.
template <class T>
Result<T> converted(Result<OperationValue> r) {
  if (!r) return std::move(r.error());
  if constexpr (std::is_same_v<T, OperationValue>) {
    return r;
  } else if constexpr (std::is_void_v<T>) {
    return {};
  } else if constexpr (std::is_same_v<T, std::size_t>) {
    return r->count;
  } else {
    static_assert(std::is_same_v<T, std::string>, "a typed call returns one of four shapes");
    return std::move(r->data);
  }
}

class Completion {
 public:
  using Plain = std::function<void(Result<OperationValue>)>;
  using Done = std::function<void(Result<void>)>;
  using Count = std::function<void(Result<std::size_t>)>;  // OperationValue::count
  using Data = std::function<void(Result<std::string>)>;   // OperationValue::data

  Completion() = default;  // none: the call is synchronous
  // Implicit, like std::function's own: each is a completion as it stands.
  Completion(Plain f) : fn_(std::move(f)) {}  // NOLINT
  Completion(Done f) : fn_(std::move(f)) {}   // NOLINT
  Completion(Count f) : fn_(std::move(f)) {}  // NOLINT
  Completion(Data f) : fn_(std::move(f)) {}   // NOLINT

  explicit operator bool() const noexcept { return fn_.index() != 0; }

  void operator()(Result<OperationValue> r) {
    std::visit([&](auto& f) { call(f, std::move(r)); }, fn_);
  }

 private:
  static void call(std::monostate, Result<OperationValue>) {}
  template <class T>
  static void call(std::function<void(Result<T>)>& f, Result<OperationValue> r) {
    f(converted<T>(std::move(r)));
  }

  std::variant<std::monostate, Plain, Done, Count, Data> fn_;
};

}  // namespace uvinet::detail

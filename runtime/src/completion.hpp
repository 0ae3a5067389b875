// The application's completion callback of one operation, in the shape of
// the call that started it. The runtime converts the module's
// OperationValue itself, so a typed call (Request::send, HTTP's
// send_request, read_data_into...) hands over the application's own
// std::function: a wrapper around it would not fit std::function's inline
// storage and would cost an allocation on every call.
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <variant>

#include "uvinet/handle.hpp"

namespace uvinet::detail {

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
  static void call(Plain& f, Result<OperationValue> r) { f(std::move(r)); }
  static void call(Done& f, Result<OperationValue> r) {
    f(r ? Result<void>() : Result<void>(std::move(r.error())));
  }
  static void call(Count& f, Result<OperationValue> r) {
    f(r ? Result<std::size_t>(r->count) : Result<std::size_t>(std::move(r.error())));
  }
  static void call(Data& f, Result<OperationValue> r) {
    f(r ? Result<std::string>(std::move(r->data)) : Result<std::string>(std::move(r.error())));
  }

  std::variant<std::monostate, Plain, Done, Count, Data> fn_;
};

}  // namespace uvinet::detail

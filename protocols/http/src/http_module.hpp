// The HTTP module: registered for "http" at start-up like any plugin would be.
#pragma once

#include <memory>

#include "uvinet/module.hpp"

namespace uvinet::http::detail {

std::shared_ptr<Module> make_http_module();

/// Deletes a RequestState. Its type, found with std::get_deleter on the
/// request's state, tells an HTTP request from another module's.
struct RequestStateDeleter {
  void operator()(struct RequestState* state) const;
};

}  // namespace uvinet::http::detail

// The HTTP module: registered for "http" and, over TLS, "https" at start-up
// like any plugin would be.
#pragma once

#include <memory>

#include "uvinet/module.hpp"

namespace uvinet::http::detail {

std::shared_ptr<Module> make_http_module();
std::shared_ptr<Module> make_https_module();

/// Deletes a RequestState. Its type, found with std::get_deleter on the
/// request's state, tells an HTTP request from another module's.
struct RequestStateDeleter {
  void operator()(struct RequestState* state) const;
};

}  // namespace uvinet::http::detail

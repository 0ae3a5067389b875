// The HTTP module: registered for "http" and, over TLS, "https" at start-up
// like any plugin would be.
#pragma once

#include <memory>
#include <typeinfo>

#include "uvinet/module.hpp"

namespace uvinet::http::detail {

std::shared_ptr<Module> make_http_module();
std::shared_ptr<Module> make_https_module();

/// The class of both modules: the runtime tells an HTTP request or
/// connection from another module's by it (request_state(), open_request()).
const std::type_info& http_module_type();

}  // namespace uvinet::http::detail

// The modules compiled into the library, registered when the registry is
// first used. Each is an ordinary Module: a plugin could do the same.
#include "builtin_modules.hpp"

#include "http_module.hpp"

namespace uvinet::detail {

std::vector<std::shared_ptr<Module>> builtin_modules() {
  return {http::detail::make_http_module(), http::detail::make_https_module()};
}

}  // namespace uvinet::detail

// The protocol modules built into the library (defined in protocols/).
#pragma once

#include <memory>
#include <vector>

#include "uvinet/module.hpp"

namespace uvinet::detail {

std::vector<std::shared_ptr<Module>> builtin_modules();

}  // namespace uvinet::detail

// Which handle kinds each option applies to, its type and its default.
#pragma once

#include <optional>

#include "uvinet/handle.hpp"

namespace uvinet::detail {

bool option_applies(Option o, HandleKind kind) noexcept;
/// The value used when no handle up the tree set one.
OptionValue option_default(Option o);
/// Checks type and range; the error names the option and what was wrong.
Result<void> validate_option(Option o, const OptionValue& v);

}  // namespace uvinet::detail

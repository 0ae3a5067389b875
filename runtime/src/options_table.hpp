// Which handle kinds each option applies to, its type and its default.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "uvinet/handle.hpp"

namespace uvinet::detail {

bool option_applies(Option o, HandleKind kind) noexcept;
/// True for the options whose values are strings, false for integers.
bool option_is_string(Option o) noexcept;
/// The value used when no handle up the tree set one.
OptionValue option_default(Option o);
/// option_default() of an integer option, without building an OptionValue.
std::int64_t option_default_int(Option o) noexcept;
/// option_default() of a string option ("" for an integer one), likewise.
const std::string& option_default_string(Option o);
/// The bit of `o` in a set of options (a handle's options_set_).
constexpr std::uint64_t option_bit(Option o) noexcept {
  return std::uint64_t{1} << static_cast<unsigned>(o);
}
static_assert(static_cast<unsigned>(Option::insecure_skip_verify) < 64,
              "every option has a bit in 64 (insecure_skip_verify is the last)");
inline constexpr std::size_t kOptionCount =
    static_cast<std::size_t>(Option::insecure_skip_verify) + 1;
/// Checks type and range; the error names the option and what was wrong.
Result<void> validate_option(Option o, const OptionValue& v);

}  // namespace uvinet::detail

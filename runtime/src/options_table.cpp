#include "options_table.hpp"

#include <array>
#include <string>

namespace uvinet {

const char* option_name(Option o) noexcept {
  switch (o) {
    case Option::context_value: return "context_value";
    case Option::user_agent: return "user_agent";
    case Option::callback_model: return "callback_model";
    case Option::resolve_timeout_ms: return "resolve_timeout_ms";
    case Option::connect_timeout_ms: return "connect_timeout_ms";
    case Option::send_timeout_ms: return "send_timeout_ms";
    case Option::receive_timeout_ms: return "receive_timeout_ms";
    case Option::transfer_timeout_ms: return "transfer_timeout_ms";
    case Option::max_operations: return "max_operations";
    case Option::max_connections_per_server: return "max_connections_per_server";
    case Option::limit_policy: return "limit_policy";
    case Option::idle_timeout_ms: return "idle_timeout_ms";
    case Option::redirect_policy: return "redirect_policy";
    case Option::max_redirects: return "max_redirects";
    case Option::decompress: return "decompress";
    case Option::max_decoded_bytes: return "max_decoded_bytes";
    case Option::cookies: return "cookies";
    case Option::username: return "username";
    case Option::password: return "password";
    case Option::proxy: return "proxy";
    case Option::no_proxy: return "no_proxy";
    case Option::proxy_from_environment: return "proxy_from_environment";
    case Option::ca_file: return "ca_file";
    case Option::ca_directory: return "ca_directory";
    case Option::ca_pem: return "ca_pem";
    case Option::crl_file: return "crl_file";
    case Option::client_cert_file: return "client_cert_file";
    case Option::client_key_file: return "client_key_file";
    case Option::insecure_skip_verify: return "insecure_skip_verify";
  }
  return "unknown option";
}

}  // namespace uvinet

namespace uvinet::detail {
namespace {

constexpr unsigned kSession = 1u << static_cast<unsigned>(HandleKind::session);
constexpr unsigned kConnection = 1u << static_cast<unsigned>(HandleKind::connection);
constexpr unsigned kRequest = 1u << static_cast<unsigned>(HandleKind::request);
constexpr unsigned kTree = kSession | kConnection | kRequest;

struct OptionSpec {
  unsigned kinds;
  bool is_string;
  std::int64_t min;
  std::int64_t max;
  std::int64_t default_int;
};

constexpr OptionSpec spec_of(Option o) {
  constexpr std::int64_t kDay = 24LL * 3600 * 1000;
  switch (o) {
    case Option::context_value: return {kTree, false, INT64_MIN, INT64_MAX, 0};
    case Option::user_agent: return {kTree, true, 0, 0, 0};
    case Option::callback_model: return {kSession, false, 1, 2, 1};
    case Option::resolve_timeout_ms: return {kTree, false, 0, kDay, 30000};
    case Option::connect_timeout_ms: return {kTree, false, 0, kDay, 30000};
    case Option::send_timeout_ms: return {kTree, false, 0, kDay, 0};
    case Option::receive_timeout_ms: return {kTree, false, 0, kDay, 0};
    case Option::transfer_timeout_ms: return {kTree, false, 0, kDay, 0};
    case Option::max_operations: return {kSession, false, 1, 1 << 24, 4096};
    case Option::max_connections_per_server: return {kSession, false, 1, 1 << 20, 6};
    case Option::limit_policy: return {kSession, false, 0, 1, 0};
    case Option::idle_timeout_ms: return {kSession, false, 0, kDay, 60000};
    case Option::redirect_policy: return {kTree, false, 0, 3, 2};
    case Option::max_redirects: return {kTree, false, 0, 1000, 10};
    case Option::decompress: return {kTree, false, 0, 1, 0};
    case Option::max_decoded_bytes: return {kTree, false, 0, INT64_MAX, std::int64_t{1} << 30};
    case Option::cookies: return {kSession, false, 0, 1, 0};
    case Option::username:
    case Option::password:
    case Option::proxy:
    case Option::no_proxy:
    case Option::ca_file:
    case Option::ca_directory:
    case Option::ca_pem:
    case Option::crl_file:
    case Option::client_cert_file:
    case Option::client_key_file: return {kTree, true, 0, 0, 0};
    case Option::proxy_from_environment: return {kTree, false, 0, 1, 1};
    case Option::insecure_skip_verify: return {kTree, false, 0, 1, 0};
  }
  return {0, false, 0, 0, 0};
}

// The switch above, as a table: the runtime looks up a dozen options for
// each request, and an index is cheaper than the switch's jumps.
constexpr auto kSpecs = [] {
  std::array<OptionSpec, kOptionCount> specs{};
  for (std::size_t i = 0; i < kOptionCount; ++i) specs[i] = spec_of(static_cast<Option>(i));
  return specs;
}();

OptionSpec spec(Option o) noexcept {
  const auto i = static_cast<std::size_t>(o);
  return i < kOptionCount ? kSpecs[i] : OptionSpec{0, false, 0, 0, 0};
}

}  // namespace

bool option_applies(Option o, HandleKind kind) noexcept {
  return (spec(o).kinds & (1u << static_cast<unsigned>(kind))) != 0;
}

bool option_is_string(Option o) noexcept {
  return spec(o).is_string;
}

OptionValue option_default(Option o) {
  if (spec(o).is_string) return option_default_string(o);
  return spec(o).default_int;
}

const std::string& option_default_string(Option o) {
  static const std::string user_agent = "uvinet/0.1";
  static const std::string none;
  return o == Option::user_agent ? user_agent : none;
}

std::int64_t option_default_int(Option o) noexcept {
  return spec(o).default_int;
}

Result<void> validate_option(Option o, const OptionValue& v) {
  const OptionSpec s = spec(o);
  const std::string name = option_name(o);
  if (s.kinds == 0)
    return Error(errc::invalid_argument, "unknown option " + std::to_string(int(o)));
  if (s.is_string != std::holds_alternative<std::string>(v)) {
    return Error(errc::invalid_option_value,
                 "option " + name + " takes " + (s.is_string ? "a string" : "an integer"));
  }
  if (s.is_string) return {};
  const auto n = std::get<std::int64_t>(v);
  if (n < s.min || n > s.max) {
    return Error(errc::invalid_option_value,
                 "option " + name + " must be between " + std::to_string(s.min) + " and " +
                     std::to_string(s.max) + ", not " + std::to_string(n));
  }
  return {};
}

}  // namespace uvinet::detail

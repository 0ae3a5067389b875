// Basic authentication (RFC 7617): the credentials field value.
#pragma once

#include <string>
#include <string_view>

namespace uvinet::http::detail {

/// Base64 (RFC 4648 §4, with padding).
std::string base64_encode(std::string_view bytes);
/// "Basic " + base64(user ":" password), for Authorization or
/// Proxy-Authorization. The user must not contain ':' (RFC 7617 §2); the
/// caller checks.
std::string basic_credentials(std::string_view user, std::string_view password);

}  // namespace uvinet::http::detail

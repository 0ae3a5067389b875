// TLS session resumption (RFC 5077 tickets, or session ids): the session a
// full handshake with a server agreed is kept, and the next connection to
// the same server with the same TLS settings offers it, so the server can
// skip the certificate exchange and the key agreement. Process-wide, any
// thread, bounded; sessions are kept as mbedTLS's serialised bytes.
#pragma once

#include <string>

#include <mbedtls/ssl.h>

namespace uvinet::detail {

/// Offers the session kept under `key` to `ssl` (set up, before its
/// handshake). No session, or one mbedTLS refuses: a full handshake.
void offer_tls_session(const std::string& key, mbedtls_ssl_context& ssl);
/// Keeps the session `ssl`'s finished handshake agreed, under `key`.
void remember_tls_session(const std::string& key, const mbedtls_ssl_context& ssl);
/// Drops the session under `key`: a handshake that offered it failed.
void forget_tls_session(const std::string& key);

}  // namespace uvinet::detail

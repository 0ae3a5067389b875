#include "tls_session_cache.hpp"

#include <deque>
#include <map>
#include <mutex>
#include <vector>

namespace uvinet::detail {
namespace {

// Enough for every server a busy client talks to; the oldest goes first.
constexpr std::size_t kMaxSessions = 1024;

struct Cache {
  std::mutex mutex;
  std::map<std::string, std::vector<unsigned char>> sessions;
  std::deque<std::string> order;  // keys, oldest first (may name dropped ones)
};

Cache& cache() {
  static auto* c = new Cache;  // never destroyed: used until the last thread ends
  return *c;
}

// An mbedtls_ssl_session freed on every path.
struct Session {
  Session() { mbedtls_ssl_session_init(&s); }
  ~Session() { mbedtls_ssl_session_free(&s); }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  mbedtls_ssl_session s;
};

}  // namespace

void offer_tls_session(const std::string& key, mbedtls_ssl_context& ssl) {
  std::vector<unsigned char> bytes;
  {
    Cache& c = cache();
    std::lock_guard lock(c.mutex);
    auto it = c.sessions.find(key);
    if (it == c.sessions.end()) return;
    bytes = it->second;
  }
  Session session;
  if (mbedtls_ssl_session_load(&session.s, bytes.data(), bytes.size()) != 0) return;
  (void)mbedtls_ssl_set_session(&ssl, &session.s);  // refused: a full handshake
}

void remember_tls_session(const std::string& key, const mbedtls_ssl_context& ssl) {
  Session session;
  if (mbedtls_ssl_get_session(&ssl, &session.s) != 0) return;
  std::size_t size = 0;
  (void)mbedtls_ssl_session_save(&session.s, nullptr, 0, &size);  // asks for the size
  std::vector<unsigned char> bytes(size);
  if (size == 0 || mbedtls_ssl_session_save(&session.s, bytes.data(), size, &size) != 0) return;
  Cache& c = cache();
  std::lock_guard lock(c.mutex);
  if (c.sessions.insert_or_assign(key, std::move(bytes)).second) c.order.push_back(key);
  while (c.sessions.size() > kMaxSessions && !c.order.empty()) {
    c.sessions.erase(c.order.front());
    c.order.pop_front();
  }
}

void forget_tls_session(const std::string& key) {
  Cache& c = cache();
  std::lock_guard lock(c.mutex);
  c.sessions.erase(key);
}

}  // namespace uvinet::detail

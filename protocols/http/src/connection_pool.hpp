// The keep-alive pool: idle connections per (scheme, host, port), or per
// proxy, kept for the session's idle timeout, and handed to the next request
// for the same key. A connection the server closes while idle leaves the
// pool at once, so a request rarely meets a dead one (and retries when it
// does). Requests waiting for a connection (the session's bound on
// connections per server reached, with LimitPolicy::queue) get the next one
// released, first come first served. Loop thread only, like all module code.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <string>

#include "uvinet/module.hpp"

namespace uvinet::http::detail {

/// A connection to a server: in use by one request, or idle in the pool.
struct PooledConnection {
  std::unique_ptr<Stream> stream;
  std::string key;
  /// Requests it carried to the end; more than 0 means it is being reused.
  unsigned requests = 0;
};

/// The pool key of a connection to `url`'s server: scheme, host and port,
/// and for https the TLS options the connection was verified with, so a
/// request never gets a connection checked against other CAs, or without the
/// client certificate it asked for, or one made with insecure_skip_verify.
std::string connection_key(const RequestEnv& env, const Url& url);

class ConnectionPool {
 public:
  using Waiter = std::function<void(std::unique_ptr<PooledConnection>)>;

  explicit ConnectionPool(std::unique_ptr<Timer> timer) : timer_(std::move(timer)) {}
  ~ConnectionPool();

  /// The most recently used idle connection for `key`, or null.
  std::unique_ptr<PooledConnection> take(const std::string& key);
  /// Gives `c` to the first request waiting for its key, or keeps it idle
  /// for `idle_timeout_ms` (0: closes it). Its stream may still be reading
  /// for the request that released it: the pool takes the reads over.
  void put(std::unique_ptr<PooledConnection> c, std::uint64_t idle_timeout_ms);
  /// Queues `waiter` for the next connection put for `key`; returns a ticket
  /// for cancel_wait().
  std::uint64_t wait(const std::string& key, Waiter waiter);
  void cancel_wait(std::uint64_t ticket);

  std::size_t idle_count() const noexcept { return idle_count_; }

 private:
  struct Idle {
    std::unique_ptr<PooledConnection> connection;
    std::chrono::steady_clock::time_point expires;
  };
  using IdleList = std::list<Idle>;
  using IdleMap = std::map<std::string, IdleList>;
  struct Waiting {
    std::uint64_t ticket;
    std::string key;
    Waiter waiter;
  };

  void keep_idle(std::unique_ptr<PooledConnection> c, std::uint64_t idle_timeout_ms);
  IdleMap::iterator find_idle(const std::string& key);
  IdleList& idle_list(const std::string& key);
  IdleMap::iterator erase_idle(IdleMap::iterator it);
  void drop(const std::string& key, IdleList::iterator it);
  void expire();
  void arm_timer();

  std::unique_ptr<Timer> timer_;
  IdleMap idle_;  // newest at the back; emptied lists until expire()
  // The entry of idle_ found last, or end(): a session's requests mostly go
  // to one server, and comparing one key costs less than a walk of the map.
  IdleMap::iterator last_ = idle_.end();
  IdleList spare_;  // nodes take() freed, for keep_idle() to reuse
  std::size_t idle_count_ = 0;
  std::deque<Waiting> waiting_;
  std::uint64_t next_ticket_ = 1;
  bool timer_armed_ = false;
  std::chrono::steady_clock::time_point timer_due_{};
};

}  // namespace uvinet::http::detail

#include "connection_pool.hpp"

#include <algorithm>

namespace uvinet::http::detail {

std::string connection_key(const RequestEnv& env, const Url& url) {
  std::string key = url.scheme + "://" + url.host_port();
  if (url.scheme != "https") return key;
  // '\n' cannot occur in a host or a path; ca_pem is last, so no two
  // settings give one key.
  for (Option o :
       {Option::insecure_skip_verify, Option::ca_file, Option::ca_directory, Option::crl_file,
        Option::client_cert_file, Option::client_key_file, Option::ca_pem}) {
    auto v = env.option(o);
    key += '\n';
    if (!v) continue;
    if (const auto* n = std::get_if<std::int64_t>(&*v)) {
      key += std::to_string(*n);
    } else {
      key += std::get<std::string>(*v);
    }
  }
  return key;
}

ConnectionPool::~ConnectionPool() {
  // Streams close as they are destroyed; their read callbacks name us, so
  // stop those first.
  for (auto& [key, list] : idle_) {
    for (auto& idle : list) idle.connection->stream->read_stop();
  }
}

std::unique_ptr<PooledConnection> ConnectionPool::take(const std::string& key) {
  auto found = find_idle(key);
  if (found == idle_.end() || found->second.empty()) return nullptr;
  IdleList& list = found->second;
  auto c = std::move(list.back().connection);
  // The node waits for the next keep_idle(), and an emptied list stays in
  // the map until expire(): a busy key costs no allocation per request.
  spare_.splice(spare_.end(), list, std::prev(list.end()));
  --idle_count_;
  c->stream->read_stop();
  return c;
}

void ConnectionPool::put(std::unique_ptr<PooledConnection> c, std::uint64_t idle_timeout_ms) {
  for (auto it = waiting_.begin(); it != waiting_.end(); ++it) {
    if (it->key != c->key) continue;
    Waiter waiter = std::move(it->waiter);
    waiting_.erase(it);
    // Its last reader's callback must not see what comes for the next one.
    c->stream->read_stop();
    waiter(std::move(c));
    return;
  }
  if (idle_timeout_ms == 0) {
    c->stream->read_stop();
    return;  // destroying it closes it
  }
  keep_idle(std::move(c), idle_timeout_ms);
}

void ConnectionPool::keep_idle(std::unique_ptr<PooledConnection> c, std::uint64_t idle_timeout_ms) {
  IdleList& list = idle_list(c->key);
  const auto expires =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(idle_timeout_ms);
  if (spare_.empty()) {
    list.push_back(Idle{std::move(c), expires});
  } else {
    list.splice(list.end(), spare_, spare_.begin());
    list.back() = Idle{std::move(c), expires};
  }
  ++idle_count_;
  auto it = std::prev(list.end());
  PooledConnection* raw = it->connection.get();
  // Whatever arrives on an idle connection ends it: the server's close
  // (the common case, after its own keep-alive timeout), an error, or bytes
  // nobody asked for.
  raw->stream->read_start([this, raw](Result<std::string_view>) {
    auto found = find_idle(raw->key);
    if (found == idle_.end()) return;
    auto& entries = found->second;
    auto entry = std::find_if(entries.begin(), entries.end(),
                              [raw](const Idle& i) { return i.connection.get() == raw; });
    if (entry != entries.end()) drop(raw->key, entry);
  });
  if (!timer_armed_ || expires < timer_due_) arm_timer();
}

ConnectionPool::IdleMap::iterator ConnectionPool::find_idle(const std::string& key) {
  if (last_ != idle_.end() && last_->first == key) return last_;
  auto found = idle_.find(key);
  if (found != idle_.end()) last_ = found;
  return found;
}

ConnectionPool::IdleList& ConnectionPool::idle_list(const std::string& key) {
  auto found = find_idle(key);
  if (found == idle_.end()) found = last_ = idle_.try_emplace(key).first;
  return found->second;
}

ConnectionPool::IdleMap::iterator ConnectionPool::erase_idle(IdleMap::iterator it) {
  if (it == last_) last_ = idle_.end();
  return idle_.erase(it);
}

void ConnectionPool::drop(const std::string& key, IdleList::iterator it) {
  auto found = find_idle(key);
  it->connection->stream->read_stop();
  // Destroyed here, inside its own read callback: the stream allows that.
  found->second.erase(it);
  --idle_count_;
  if (found->second.empty()) erase_idle(found);
}

void ConnectionPool::expire() {
  timer_armed_ = false;
  const auto now = std::chrono::steady_clock::now();
  for (auto it = idle_.begin(); it != idle_.end();) {
    IdleList& list = it->second;
    // Oldest first: the front expires first.
    while (!list.empty() && list.front().expires <= now) {
      list.front().connection->stream->read_stop();
      list.pop_front();
      --idle_count_;
    }
    it = list.empty() ? erase_idle(it) : std::next(it);
  }
  arm_timer();
}

void ConnectionPool::arm_timer() {
  if (idle_count_ == 0) {
    timer_->stop();
    timer_armed_ = false;
    return;
  }
  auto due = std::chrono::steady_clock::time_point::max();
  for (auto& [key, list] : idle_) {
    if (!list.empty()) due = std::min(due, list.front().expires);
  }
  const auto now = std::chrono::steady_clock::now();
  const auto ms = due <= now ? 0 : std::chrono::ceil<std::chrono::milliseconds>(due - now).count();
  timer_due_ = due;
  timer_armed_ = true;
  timer_->start(static_cast<std::uint64_t>(ms), [this] { expire(); });
}

std::uint64_t ConnectionPool::wait(const std::string& key, Waiter waiter) {
  const std::uint64_t ticket = next_ticket_++;
  waiting_.push_back(Waiting{ticket, key, std::move(waiter)});
  return ticket;
}

void ConnectionPool::cancel_wait(std::uint64_t ticket) {
  std::erase_if(waiting_, [ticket](const Waiting& w) { return w.ticket == ticket; });
}

}  // namespace uvinet::http::detail

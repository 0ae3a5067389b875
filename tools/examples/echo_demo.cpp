// uvinet-echo-demo: loads protocol plugins and talks to an echo and a
// daytime server, printing every status notification on the way.
//
//   usage: uvinet-echo-demo ECHO_PLUGIN.so DAYTIME_PLUGIN.so ECHO_URL DAYTIME_URL
//   e.g.   uvinet-echo-demo build/tests/libuvinet_echo.so build/tests/libuvinet_daytime.so
//              echo://127.0.0.1:7007 daytime://127.0.0.1:1313
//
// tools/demo starts the servers and runs it. Read main() top to bottom: it is
// the order a program would do things in.
#include <uvinet/handle.hpp>
#include <uvinet/module.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <latch>
#include <mutex>
#include <string>
#include <vector>

namespace {

constexpr uvinet::Context kDaytime = 100;  // echo jobs are 1, 2, ...; the session 0

using Clock = std::chrono::steady_clock;
const Clock::time_point started = Clock::now();
std::mutex print_mutex;  // callbacks run on the runtime's thread, main() on its own

template <class... Args>
void print(const char* format, Args... args) {
  std::lock_guard lock(print_mutex);
  const auto ms = std::chrono::duration<double, std::milli>(Clock::now() - started).count();
  std::printf("%8.1f ms  ", ms);
  std::printf(format, args...);
  std::printf("\n");
  std::fflush(stdout);
}

/// One echo request driven by callbacks: send, then receive until the whole
/// message came back. Each completion starts the next step from inside the
/// callback, which the runtime allows (contract rule C14).
struct EchoJob {
  uvinet::Request request;
  std::string message;
  std::string echoed;
  std::string error;
  Clock::time_point began;
  double ms = 0;
  std::latch* all_done = nullptr;

  void start() {
    began = Clock::now();
    uvinet::AsyncContext<std::size_t> on_sent{[this](uvinet::Result<std::size_t> sent) {
      if (!sent) return finish(sent.error().message());
      receive();
    }};
    // From this thread the call always goes pending; a call made on the
    // runtime's thread may finish at once, and then no callback comes (C1).
    if (auto r = request.send(message, &on_sent); !r.pending()) {
      r ? receive() : finish(r.error().message());
    }
  }

  void receive() {
    uvinet::AsyncContext<std::string> on_received{[this](uvinet::Result<std::string> got) {
      if (took(got)) receive();
    }};
    for (;;) {
      auto r = request.receive(64 * 1024, &on_received);
      if (r.pending() || !took(r)) return;
    }
  }

  // Keeps what came; true when more is expected.
  bool took(const uvinet::Result<std::string>& got) {
    if (!got) return finish(got.error().message()), false;
    if (got->empty()) return finish("the server closed the connection early"), false;
    echoed += *got;
    if (echoed.size() < message.size()) return true;
    finish({});
    return false;
  }

  void finish(std::string why) {
    error = std::move(why);
    ms = std::chrono::duration<double, std::milli>(Clock::now() - began).count();
    all_done->count_down();
  }
};

/// A connection and one request on it, both named by `context`.
struct Opened {
  uvinet::Connection connection;
  uvinet::Request request;
  void close() const {
    (void)request.close();
    (void)connection.close();
  }
};

uvinet::Result<Opened> open(const uvinet::Session& session, const std::string& url,
                            uvinet::Context context) {
  auto connection = session.connect(url, context);
  if (!connection) return connection.error();
  auto request = connection->open_request("", context);
  if (!request) return request.error();
  return Opened{*connection, *request};
}

std::string label(uvinet::Context context) {
  if (context == 0) return "session";
  if (context == kDaytime) return "daytime";
  return "echo #" + std::to_string(context);
}

int usage() {
  std::fprintf(stderr,
               "usage: uvinet-echo-demo ECHO_PLUGIN.so DAYTIME_PLUGIN.so ECHO_URL DAYTIME_URL\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) return usage();
  const std::string echo_url = argv[3];
  const std::string daytime_url = argv[4];

  // 1. Plugins: each registers its module under its URL scheme.
  for (int i = 1; i <= 2; ++i) {
    auto module = uvinet::load_module(argv[i]);
    if (!module) {
      std::fprintf(stderr, "%s\n", module.error().message().c_str());
      return 1;
    }
    print("loaded the %s module (default port %u) from %s",
          std::string((*module)->scheme()).c_str(), unsigned{(*module)->default_port()}, argv[i]);
  }

  // 2. A session whose status callback every handle under it inherits. The
  //    context value tells which job a notification is about. Each handle's
  //    last callback is its handle_closing (rule C5), and a session may say
  //    goodbye before its children do: so count them all.
  std::mutex closed_mutex;
  std::condition_variable closed_changed;
  int closed = 0;
  uvinet::SessionConfig config;
  config.status_callback = [&](uvinet::Handle, uvinet::Context context, uvinet::Status status,
                               const uvinet::StatusInfo& info) {
    std::string detail = info.text;
    if (info.number) detail += (detail.empty() ? "" : " ") + std::to_string(info.number);
    if (info.error) detail += (detail.empty() ? "" : " ") + info.error.message();
    print("  [%-7s] %-20s %s", label(context).c_str(), uvinet::status_name(status), detail.c_str());
    if (status == uvinet::Status::handle_closing) {
      std::lock_guard lock(closed_mutex);
      ++closed;
      closed_changed.notify_all();
    }
  };
  auto session = uvinet::Session::open(config);
  if (!session) return 1;
  int opened = 1;  // handles to wait for at the end

  // 3. Daytime, with synchronous calls: each blocks until it is done.
  auto daytime = open(*session, daytime_url, kDaytime);
  if (!daytime) return print("daytime: %s", daytime.error().message().c_str()), 1;
  opened += 2;
  std::string text;
  for (;;) {
    auto got = daytime->request.receive(256);
    if (!got) return print("daytime: %s", got.error().message().c_str()), 1;
    if (got->empty()) break;  // the server ends the stream after the date
    text += *got;
  }
  print("daytime says: %s", text.substr(0, text.find('\n')).c_str());

  // 4. Several echo requests at once, each on its own connection, driven by
  //    AsyncContext callbacks while this thread just waits.
  const int count = 4;
  std::latch all_done(count);
  std::vector<Opened> echoes;
  std::vector<EchoJob> jobs(count);
  for (int i = 0; i < count; ++i) {
    auto echo = open(*session, echo_url, static_cast<uvinet::Context>(i + 1));
    if (!echo) return print("echo: %s", echo.error().message().c_str()), 1;
    echoes.push_back(*echo);
    opened += 2;
    jobs[i].request = echo->request;
    jobs[i].message = "hello #" + std::to_string(i + 1) + " from uvinet";
    jobs[i].all_done = &all_done;
  }
  for (auto& job : jobs) job.start();
  all_done.wait();

  // 5. One more echo, synchronous, on the first request.
  auto sync_sent = jobs[0].request.send("and one synchronous call");
  auto sync_echo =
      sync_sent ? jobs[0].request.receive(256) : uvinet::Result<std::string>(sync_sent.error());

  // 6. The results; then close everything and wait for the session's last callback.
  bool ok = !text.empty();
  for (int i = 0; i < count; ++i) {
    const EchoJob& job = jobs[i];
    const bool same = job.error.empty() && job.echoed == job.message;
    ok = ok && same;
    print("echo #%d: %s \"%s\" in %.1f ms", i + 1, same ? "got back" : "FAILED",
          job.error.empty() ? job.echoed.c_str() : job.error.c_str(), job.ms);
  }
  ok = ok && sync_echo.has_value();
  print("synchronous echo: %s",
        sync_echo ? sync_echo->c_str() : sync_echo.error().message().c_str());

  for (const auto& echo : echoes) echo.close();
  daytime->close();
  (void)session->close();
  {
    std::unique_lock lock(closed_mutex);
    closed_changed.wait(lock, [&] { return closed == opened; });
  }
  print("%s", ok ? "all done" : "something FAILED");
  return ok ? 0 : 1;
}

#include "engine.hpp"

#include <unistd.h>

#include <fmt/format.h>

#include <filesystem>

#include "naming.hpp"

namespace uvinet::get {

namespace {

// At most ten redraws a second: smooth enough, and cheap on slow terminals.
constexpr std::uint64_t kRedrawMs = 100;

// One line per read or write would drown the rest of -v.
constexpr StatusMask kVerboseMask = all_statuses & ~status_bit(Status::data_available) &
                                    ~status_bit(Status::read_complete) &
                                    ~status_bit(Status::write_complete);

RequestPlan make_plan(const GetOptions& o, std::string body) {
  RequestPlan plan;
  plan.method = o.effective_method();
  plan.headers = o.headers;
  plan.body = std::move(body);
  plan.upload_file = o.upload_file;
  if (!o.follow_redirects) plan.flags |= http::no_auto_redirect;
  plan.print_head = o.head;
  plan.resume = o.resume;
  plan.decoded = o.compressed;
  return plan;
}

std::string user_part(const std::string& user, bool password) {
  const auto colon = user.find(':');
  if (colon == std::string::npos) return password ? "" : user;
  return password ? user.substr(colon + 1) : user.substr(0, colon);
}

// Bars only on a terminal, and not when the body goes to that terminal
// too: it would be torn up by the redraws.
bool draw_bars(const GetOptions& o) {
  const bool to_stdout = o.output_dir.empty();
  return !o.silent && ::isatty(STDERR_FILENO) && !(to_stdout && ::isatty(STDOUT_FILENO));
}

}  // namespace

Engine::Engine(const GetOptions& options, std::string body)
    : options_(options),
      plan_(make_plan(options, std::move(body))),
      display_(draw_bars(options), !options.silent) {}

Result<void> Engine::open_session() {
  SessionConfig config;
  config.loop = &loop_;
  if (options_.verbose) {
    config.status_callback = [this](Handle, Context context, Status status,
                                    const StatusInfo& info) { on_status(context, status, info); };
    config.status_mask = kVerboseMask;
  }
  auto session = Session::open(config);
  if (!session) return session.error();
  session_ = *session;
  const auto parallel = static_cast<std::int64_t>(options_.parallel);
  std::vector<std::pair<Option, OptionValue>> settings = {
      // -j is the limit; the pool must not fail the transfers past its own.
      {Option::max_connections_per_server, parallel},
      {Option::limit_policy, std::int64_t(LimitPolicy::queue)},
      {Option::max_redirects, std::int64_t(options_.max_redirects)},
      {Option::decompress, std::int64_t(options_.compressed)},
      {Option::transfer_timeout_ms, std::int64_t(options_.timeout_seconds * 1000)},
  };
  if (!options_.proxy.empty()) settings.emplace_back(Option::proxy, options_.proxy);
  const std::pair<Option, const std::string*> tls_files[] = {
      {Option::ca_file, &options_.ca_file},
      {Option::ca_directory, &options_.ca_path},
      {Option::crl_file, &options_.crl_file},
      {Option::client_cert_file, &options_.cert_file},
      {Option::client_key_file, &options_.key_file},
  };
  for (const auto& [option, value] : tls_files) {
    if (!value->empty()) settings.emplace_back(option, *value);
  }
  if (options_.insecure) settings.emplace_back(Option::insecure_skip_verify, std::int64_t{1});
  if (!options_.user.empty()) {
    settings.emplace_back(Option::username, user_part(options_.user, false));
    settings.emplace_back(Option::password, user_part(options_.user, true));
  }
  for (const auto& [option, value] : settings) {
    if (auto set = session_.set_option(option, value); !set) return set;
  }
  return {};
}

void Engine::make_transfers() {
  std::vector<std::string> names;
  for (const auto& url : options_.urls) names.push_back(file_name_for_url(url));
  const std::filesystem::path dir = options_.output_dir;
  // A resumed file is the one to continue, not a clash.
  const auto exists = [&](const std::string& name) {
    return !options_.resume && std::filesystem::exists(dir / name);
  };
  if (!options_.output_dir.empty()) names = unique_names(names, exists);
  for (std::size_t i = 0; i < options_.urls.size(); ++i) {
    TransferSetup setup;
    setup.url = options_.upload_file.empty() ? options_.urls[i]
                                             : upload_url(options_.urls[i], options_.upload_file);
    if (!options_.output_dir.empty()) setup.output_path = (dir / names[i]).string();
    setup.name = names[i];
    setup.context = i + 1;  // 0 is the session's
    transfers_.push_back(std::make_unique<Transfer>(
        session_, plan_, std::move(setup), [this](std::string line) { display_.log(line); },
        [this, i] { on_done(*transfers_[i]); }));
  }
}

int Engine::run() {
  if (const int rc = uv_loop_init(&loop_); rc != 0) {
    fmt::print(stderr, "uvinet get: libuv loop: {}\n", uv_strerror(rc));
    return 1;
  }
  if (auto opened = open_session(); !opened) {
    fmt::print(stderr, "uvinet get: {}\n", opened.error().message());
    if (session_) (void)session_.close();
    uv_run(&loop_, UV_RUN_DEFAULT);
    (void)uv_loop_close(&loop_);
    return 1;
  }
  if (!options_.output_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(options_.output_dir, ec);
  }
  make_transfers();
  if (display_.bars()) {
    uv_timer_init(&loop_, &timer_);
    timer_.data = this;
    uv_timer_start(
        &timer_, [](uv_timer_t* t) { static_cast<Engine*>(t->data)->tick(); }, kRedrawMs,
        kRedrawMs);
    timer_on_ = true;
  }
  start_next();
  uv_run(&loop_, UV_RUN_DEFAULT);  // returns once the session let go of the loop
  (void)uv_loop_close(&loop_);
  for (const auto& t : transfers_) {
    if (t->failed()) return 1;
  }
  return 0;
}

void Engine::start_next() {
  while (running_ < options_.parallel && next_ < transfers_.size()) {
    ++running_;
    transfers_[next_++]->start();  // may end at once, and come back here
  }
}

void Engine::on_done(Transfer& transfer) {
  --running_;
  ++finished_;
  display_.summary(summary_line(transfer.summary()));
  if (finished_ == transfers_.size()) return shut_down();
  start_next();
}

void Engine::tick() {
  std::vector<ProgressState> active;
  for (const auto& t : transfers_) {
    if (t->running()) active.push_back(t->progress());
  }
  display_.draw(active);
}

void Engine::shut_down() {
  if (timer_on_) {
    uv_close(reinterpret_cast<uv_handle_t*>(&timer_), nullptr);
    timer_on_ = false;
  }
  display_.finish();
  (void)session_.close();
}

void Engine::on_status(Context context, Status status, const StatusInfo& info) {
  // A handle's kind is gone once it is closed, and the last notifications
  // come after that: the URL alone names the transfer.
  const std::string who = context > 0 && context <= options_.urls.size()
                              ? options_.urls[context - 1]
                              : std::string("(session)");
  std::string line = fmt::format("* {} {}", who, status_name(status));
  if (info.error) line += ": " + info.error.message();
  if (!info.text.empty()) line += " " + info.text;
  display_.log(std::move(line));
}

}  // namespace uvinet::get

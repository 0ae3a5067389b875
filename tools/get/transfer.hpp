// One URL's transfer, driven by the asynchronous calls of uvinet/http.hpp on
// the engine's loop thread: every step is started from the completion of
// the one before, so a transfer never holds a thread while it waits.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "output.hpp"
#include "progress.hpp"
#include "uvinet/http.hpp"
#include "uvinet/uvinet.hpp"

namespace uvinet::get {

/// What every transfer of a run asks, made once from the options.
struct RequestPlan {
  std::string method = "GET";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;         ///< -d, loaded
  std::string upload_file;  ///< -T
  std::uint32_t flags = 0;  ///< http::RequestFlags
  bool print_head = false;  ///< -I
  bool resume = false;      ///< -C -
  bool decoded = false;     ///< --compressed: Content-Length is not the body's size
};

/// One URL and where its body goes.
struct TransferSetup {
  std::string url;
  std::string output_path;  ///< empty: stdout
  std::string name;         ///< shown in its progress bar
  Context context = 0;
};

class Transfer {
 public:
  /// `error` gets a transfer's error message; `done` runs once it ended.
  Transfer(Session session, const RequestPlan& plan, TransferSetup setup,
           std::function<void(std::string)> error, std::function<void()> done);
  Transfer(const Transfer&) = delete;
  Transfer& operator=(const Transfer&) = delete;
  ~Transfer();

  void start();
  bool running() const noexcept { return started_ && !finished_; }
  bool failed() const noexcept { return failed_; }
  ProgressState progress() const;
  Summary summary() const;

 private:
  Result<void> open();
  Result<void> open_upload();
  void send();
  void write_upload();
  void receive();
  void on_head();
  std::optional<std::string> check_complete(const http::Response& response);
  std::optional<std::string> accept_body(const http::Response& response);
  void read_body();
  bool on_data(const Result<std::size_t>& n);
  bool take(const Result<std::size_t>& n);
  void fail(const std::string& why) { finish(why); }
  void finish(std::optional<std::string> error = std::nullopt);
  double elapsed() const;

  Session session_;
  const RequestPlan& plan_;
  TransferSetup setup_;
  std::function<void(std::string)> error_;
  std::function<void()> done_;

  Request request_;
  std::unique_ptr<char[]> piece_;  // read_data_into()'s buffer while the body comes
  Output output_;
  int upload_fd_ = -1;
  std::uint64_t upload_size_ = 0;
  std::uint64_t uploaded_ = 0;
  std::uint64_t resume_from_ = 0;  // the size of the file we resume
  std::uint64_t bytes_ = 0;        // the body's bytes we have, resumed ones included
  std::optional<std::uint64_t> total_;
  int status_ = 0;
  std::chrono::steady_clock::time_point started_at_;
  double seconds_ = 0;
  bool started_ = false;
  bool finished_ = false;
  bool failed_ = false;
};

}  // namespace uvinet::get

// Where a body goes: stdout, or a file of -o DIR (new, or appended to when
// resuming). Plain POSIX writes: the loop thread writes each piece as it
// arrives, which is how a command-line client keeps memory flat.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

namespace uvinet::get {

class Output {
 public:
  Output() = default;
  ~Output() { (void)close(); }
  Output(Output&& other) noexcept : fd_(other.fd_), owned_(other.owned_) { other.fd_ = -1; }
  Output& operator=(Output&& other) noexcept;
  Output(const Output&) = delete;
  Output& operator=(const Output&) = delete;

  /// Standard output (never closed by us).
  static Output standard_output();
  /// `path`, created if missing; appended to or truncated.
  static Output open_file(const std::string& path, bool append, std::error_code& ec);

  bool is_open() const noexcept { return fd_ >= 0; }
  /// Writes all of `bytes`, retrying short writes.
  std::error_code write(std::string_view bytes);
  std::error_code close();

 private:
  Output(int fd, bool owned) : fd_(fd), owned_(owned) {}
  int fd_ = -1;
  bool owned_ = false;
};

/// The size of the regular file at `path`, or 0 when there is none.
std::uint64_t existing_size(const std::string& path);

}  // namespace uvinet::get

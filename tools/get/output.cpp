#include "output.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace uvinet::get {

Output& Output::operator=(Output&& other) noexcept {
  if (this != &other) {
    (void)close();
    fd_ = other.fd_;
    owned_ = other.owned_;
    other.fd_ = -1;
  }
  return *this;
}

Output Output::standard_output() {
  return Output(STDOUT_FILENO, false);
}

Output Output::open_file(const std::string& path, bool append, std::error_code& ec) {
  const int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC);
  const int fd = ::open(path.c_str(), flags, 0666);
  ec = fd < 0 ? std::error_code(errno, std::generic_category()) : std::error_code();
  return fd < 0 ? Output() : Output(fd, true);
}

std::error_code Output::write(std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd_, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return {errno, std::generic_category()};
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return {};
}

std::error_code Output::close() {
  const int fd = fd_;
  fd_ = -1;
  if (fd < 0 || !owned_) return {};
  // close() reports delayed write errors (NFS, full disks): they matter here.
  if (::close(fd) != 0) return {errno, std::generic_category()};
  return {};
}

std::uint64_t existing_size(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return 0;
  return static_cast<std::uint64_t>(st.st_size);
}

}  // namespace uvinet::get

#include "display.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <string_view>

namespace uvinet::get {

namespace {

void write_stderr(std::string_view text) {
  while (!text.empty()) {
    const ssize_t n = ::write(STDERR_FILENO, text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // nowhere left to complain to
    text.remove_prefix(static_cast<std::size_t>(n));
  }
}

winsize terminal_size() {
  winsize size{};
  if (::ioctl(STDERR_FILENO, TIOCGWINSZ, &size) != 0) size = {};
  if (size.ws_col == 0) size.ws_col = 80;
  if (size.ws_row == 0) size.ws_row = 24;
  return size;
}

}  // namespace

void Display::log(std::string line) {
  if (bars_) {
    waiting_.push_back(std::move(line));
  } else {
    write_stderr(line + "\n");
  }
}

void Display::summary(std::string line) {
  if (summaries_) log(std::move(line));
}

void Display::draw(const std::vector<ProgressState>& active) {
  if (!bars_) return;
  const winsize size = terminal_size();
  // One column short of the width: a line that fills the last column makes
  // some terminals wrap, and the redraw would then miscount lines. Bars
  // that scrolled off the top could not be redrawn either, so they fit the
  // height, the rest counted on one line.
  const std::size_t width = size.ws_col - 1u;
  const std::size_t room = std::max(2, size.ws_row - 2) - 1u;
  std::vector<std::string> lines;
  for (const auto& state : active) {
    if (lines.size() == room) {
      lines.push_back(fmt::format("... and {} more", active.size() - room));
      break;
    }
    lines.push_back(render_progress(state, width));
  }
  write_stderr(render_frame(drawn_, waiting_, lines));
  waiting_.clear();
  drawn_ = lines.size();
}

}  // namespace uvinet::get

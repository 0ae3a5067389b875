#include "progress.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace uvinet::get {

namespace {

constexpr std::size_t kNameColumns = 24;
constexpr std::size_t kMinBar = 5;

// Cuts `text` to `columns`, marking the cut, and pads it to exactly that.
// Byte counts stand for columns: URLs and file names are ASCII in practice.
std::string fit(const std::string& text, std::size_t columns) {
  if (text.size() <= columns) return text + std::string(columns - text.size(), ' ');
  if (columns < 3) return text.substr(0, columns);
  return text.substr(0, columns - 2) + "..";
}

std::string bar(double fraction, std::size_t columns) {
  const auto full = static_cast<std::size_t>(fraction * static_cast<double>(columns));
  std::string out(std::min(full, columns), '=');
  if (out.size() < columns) out += '>';
  return out + std::string(columns - out.size(), ' ');
}

}  // namespace

std::string format_size(std::uint64_t bytes) {
  if (bytes < 1024) return fmt::format("{} B", bytes);
  static constexpr const char* kUnits[] = {"KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes) / 1024;
  std::size_t unit = 0;
  while (value >= 1024 && unit + 1 < std::size(kUnits)) {
    value /= 1024;
    ++unit;
  }
  return fmt::format("{:.1f} {}", value, kUnits[unit]);
}

std::string format_rate(std::uint64_t bytes, double seconds) {
  if (seconds <= 0) return "--";
  return format_size(static_cast<std::uint64_t>(static_cast<double>(bytes) / seconds)) + "/s";
}

std::string render_progress(const ProgressState& s, std::size_t width) {
  const std::string rate = format_rate(s.bytes - std::min(s.bytes, s.resumed_from), s.seconds);
  const std::size_t name_columns = std::min(kNameColumns, width / 3);
  std::string right;
  std::size_t bar_columns = 0;
  double fraction = 0;
  if (s.total && *s.total > 0) {
    fraction = std::min(1.0, static_cast<double>(s.bytes) / static_cast<double>(*s.total));
    right = fmt::format(" {:>3}% {:>9} / {:<9} {:>11}", static_cast<int>(fraction * 100),
                        format_size(s.bytes), format_size(*s.total), rate);
    const std::size_t used = name_columns + 3 + right.size();  // " [" and "]"
    bar_columns = width > used ? width - used : 0;
  } else {
    right = fmt::format(" {:>9} {:>11}", format_size(s.bytes), rate);
  }
  std::string line = fit(s.name, name_columns);
  if (bar_columns >= kMinBar) line += " [" + bar(fraction, bar_columns) + "]";
  line += right;
  return line.size() > width ? line.substr(0, width) : line;
}

std::string render_frame(std::size_t drawn, const std::vector<std::string>& log,
                         const std::vector<std::string>& bars) {
  std::string out;
  // CSI n F: to the start of the line n lines up; CSI J: erase from there down.
  if (drawn > 0) out += fmt::format("\x1b[{}F", drawn);
  out += "\x1b[J";
  for (const auto& line : log) out += line + "\n";
  for (const auto& line : bars) out += line + "\n";
  return out;
}

std::string summary_line(const Summary& s) {
  return fmt::format("{:03} {} bytes {:.3f} s {}", s.status, s.bytes, s.seconds, s.url);
}

}  // namespace uvinet::get

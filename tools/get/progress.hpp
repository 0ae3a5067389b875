// What `uvinet get` shows on stderr, as pure functions: state in, text out.
// The engine decides when to draw (display.hpp); these decide what.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace uvinet::get {

/// One transfer as its progress bar shows it.
struct ProgressState {
  std::string name;
  /// Bytes of the body so far, counting those of a resumed file.
  std::uint64_t bytes = 0;
  /// Bytes the file had before this run (resume); not part of the rate.
  std::uint64_t resumed_from = 0;
  /// The whole body's size, when the server said.
  std::optional<std::uint64_t> total;
  double seconds = 0;  ///< since the transfer started
};

/// "512 B", "1.5 KiB", "20.0 MiB", "1.2 GiB" (powers of 1024).
std::string format_size(std::uint64_t bytes);
/// "1.5 MiB/s"; "--" before any time has passed.
std::string format_rate(std::uint64_t bytes, double seconds);

/// One line of at most `width` columns: name, bar, percentage, bytes/total
/// and rate; without bar and percentage when the total is unknown.
std::string render_progress(const ProgressState& state, std::size_t width);

/// The terminal text that replaces the `drawn` bar lines drawn last (the
/// cursor is below them) by the `log` lines, which stay, and then `bars`.
std::string render_frame(std::size_t drawn, const std::vector<std::string>& log,
                         const std::vector<std::string>& bars);

/// How a transfer ended, for its summary line.
struct Summary {
  int status = 0;  ///< the HTTP status; 0 when no response came
  std::uint64_t bytes = 0;
  double seconds = 0;
  std::string url;
};
/// "200 1048576 bytes 0.125 s http://host/file" (status "000" for none).
std::string summary_line(const Summary& summary);

}  // namespace uvinet::get

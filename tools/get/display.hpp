// Stderr of `uvinet get`: progress bars redrawn in place on a terminal,
// plain lines elsewhere. Lines logged while bars are up wait for the next
// redraw, so they scroll above the bars instead of tearing them.
#pragma once

#include <string>
#include <vector>

#include "progress.hpp"

namespace uvinet::get {

class Display {
 public:
  /// `bars`: draw progress bars (stderr is a terminal and not -s).
  /// `summaries`: show summary lines (not -s).
  Display(bool bars, bool summaries) : bars_(bars), summaries_(summaries) {}

  bool bars() const noexcept { return bars_; }
  /// A line that is always shown: errors, -v notifications.
  void log(std::string line);
  /// A transfer's summary line, hidden by -s.
  void summary(std::string line);
  /// Redraws the bars of `active` (with bars only) and any waiting lines.
  void draw(const std::vector<ProgressState>& active);
  /// Takes the bars away and shows the lines still waiting.
  void finish() { draw({}); }

 private:
  bool bars_;
  bool summaries_;
  std::vector<std::string> waiting_;
  std::size_t drawn_ = 0;
};

}  // namespace uvinet::get

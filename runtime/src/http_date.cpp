// HTTP-date parse and format. The calendar arithmetic uses std::chrono's civil
// calendar types (pure arithmetic in the headers), never gmtime/timegm or the
// locale, so everything here is safe from any thread (contract rule C9).
#include "uvinet/http_date.hpp"

#include <array>
#include <optional>

namespace uvinet {
namespace {

using std::chrono::system_clock;
using TimePoint = system_clock::time_point;

constexpr std::array<std::string_view, 7> kShortDays = {"Sun", "Mon", "Tue", "Wed",
                                                        "Thu", "Fri", "Sat"};
constexpr std::array<std::string_view, 7> kLongDays = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                                       "Thursday", "Friday", "Saturday"};
constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
constexpr std::int64_t kSecondsPerDay = 86400;

bool is_digit(char c) noexcept {
  return c >= '0' && c <= '9';
}
bool is_letter(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
char to_lower(char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
}

bool equals_ignoring_case(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (to_lower(a[i]) != to_lower(b[i])) return false;
  }
  return true;
}

template <std::size_t N>
std::optional<std::size_t> find_name(const std::array<std::string_view, N>& names,
                                     std::string_view word) noexcept {
  for (std::size_t i = 0; i < N; ++i) {
    if (equals_ignoring_case(names[i], word)) return i;
  }
  return std::nullopt;
}

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Quotes the text for a message, with control bytes shown as hex so the
// message stays one readable line.
std::string quote(std::string_view text) {
  static constexpr std::string_view kHex = "0123456789ABCDEF";
  std::string out = "'";
  for (char c : text.substr(0, 100)) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      out += "\\x";
      out += kHex[u >> 4];
      out += kHex[u & 0xf];
    } else {
      out += c;
    }
  }
  return out + (text.size() > 100 ? "...'" : "'");
}

// The fields of a date as written, before range checks.
struct Fields {
  int year = 0;
  int month = 0;  // 1-12
  int day = 0;
  int hour = 0;
  int minute = 0;
  int second = 0;
  bool two_digit_year = false;
};

// Reads one date; holds the whole text so every error can quote it.
class DateParser {
 public:
  explicit DateParser(std::string_view text) : text_(text), rest_(trim(text)) {}

  Result<Fields> run() {
    if (rest_.empty()) return tl::unexpected(fail("empty HTTP date"));
    if (auto bad = read_day_name(); !bad) return tl::unexpected(bad.error());
    Result<void> read = !rest_.empty() && rest_[0] == ',' ? read_after_comma() : read_asctime();
    if (!read) return tl::unexpected(read.error());
    if (!rest_.empty()) {
      return tl::unexpected(fail("unexpected text " + quote(rest_) + " after the date"));
    }
    return fields_;
  }

  Error fail(std::string_view what) const {
    return Error(errc::invalid_date, std::string(what) + " in HTTP date " + quote(text_));
  }

 private:
  std::string_view take_word() {
    std::size_t n = 0;
    while (n < rest_.size() && is_letter(rest_[n])) ++n;
    auto word = rest_.substr(0, n);
    rest_.remove_prefix(n);
    return word;
  }

  std::string next_for_message() const {
    return rest_.empty() ? "the end" : quote(rest_.substr(0, 1));
  }

  Result<void> expect(char c, std::string_view where) {
    if (rest_.empty() || rest_[0] != c) {
      return tl::unexpected(fail(std::string("expected '") + c + "' " + std::string(where) +
                                 ", found " + next_for_message()));
    }
    rest_.remove_prefix(1);
    return {};
  }

  // Reads `min`..`max` digits naming `what`.
  Result<int> read_number(std::size_t min, std::size_t max, std::string_view what) {
    std::size_t n = 0;
    int value = 0;
    for (; n < rest_.size() && is_digit(rest_[n]); ++n) {
      if (n < max) value = value * 10 + (rest_[n] - '0');  // longer runs fail below
    }
    if (n < min || n > max) {
      std::string count =
          min == max ? std::to_string(min) : std::to_string(min) + " or " + std::to_string(max);
      return tl::unexpected(fail(std::string(what) + " must have " + count + " digits"));
    }
    rest_.remove_prefix(n);
    return value;
  }

  Result<void> read_day_name() {
    auto word = take_word();
    if (word.empty()) return tl::unexpected(fail("missing day name"));
    if (!find_name(kShortDays, word) && !find_name(kLongDays, word)) {
      return tl::unexpected(fail("unknown day name '" + std::string(word) + "'"));
    }
    return {};
  }

  Result<void> read_month() {
    auto word = take_word();
    auto index = find_name(kMonths, word);
    if (!index) {
      return tl::unexpected(
          fail(word.empty() ? "missing month name" : "unknown month '" + std::string(word) + "'"));
    }
    fields_.month = static_cast<int>(*index) + 1;
    return {};
  }

  Result<void> read_day() {
    auto day = read_number(1, 2, "day of month");
    if (!day) return tl::unexpected(day.error());
    fields_.day = *day;
    return {};
  }

  Result<void> read_year(std::size_t min_digits) {
    auto year = read_number(min_digits, 4, "year");
    if (!year) return tl::unexpected(year.error());
    fields_.year = *year;
    return {};
  }

  Result<void> read_time() {
    auto hour = read_number(2, 2, "hour");
    if (!hour) return tl::unexpected(hour.error());
    if (auto bad = expect(':', "after the hour"); !bad) return bad;
    auto minute = read_number(2, 2, "minute");
    if (!minute) return tl::unexpected(minute.error());
    if (auto bad = expect(':', "after the minute"); !bad) return bad;
    auto second = read_number(2, 2, "second");
    if (!second) return tl::unexpected(second.error());
    fields_.hour = *hour;
    fields_.minute = *minute;
    fields_.second = *second;
    return {};
  }

  Result<void> read_gmt() {
    auto zone = take_word();
    if (!equals_ignoring_case(zone, "GMT")) {
      return tl::unexpected(fail(zone.empty()
                                     ? "missing time zone 'GMT'"
                                     : "time zone must be GMT, not '" + std::string(zone) + "'"));
    }
    return {};
  }

  // "06 Nov 1994 08:49:37 GMT" (IMF-fixdate) or "06-Nov-94 08:49:37 GMT" (RFC 850).
  Result<void> read_after_comma() {
    rest_.remove_prefix(1);
    if (auto bad = expect(' ', "after ','"); !bad) return bad;
    if (auto bad = read_day(); !bad) return bad;
    bool rfc850 = !rest_.empty() && rest_[0] == '-';
    char separator = rfc850 ? '-' : ' ';
    if (auto bad = expect(separator, "after the day"); !bad) return bad;
    if (auto bad = read_month(); !bad) return bad;
    if (auto bad = expect(separator, "after the month"); !bad) return bad;
    auto before_year = rest_.size();
    if (auto bad = read_year(rfc850 ? 2 : 4); !bad) return bad;
    if (rfc850 && before_year - rest_.size() == 3) {
      return tl::unexpected(fail("year must have 2 or 4 digits"));
    }
    fields_.two_digit_year = rfc850 && before_year - rest_.size() == 2;
    if (auto bad = expect(' ', "after the year"); !bad) return bad;
    if (auto bad = read_time(); !bad) return bad;
    if (auto bad = expect(' ', "after the time"); !bad) return bad;
    return read_gmt();
  }

  // " Nov  6 08:49:37 1994": the day is padded with a space, or has two digits.
  Result<void> read_asctime() {
    if (auto bad = expect(' ', "after the day name"); !bad) return bad;
    if (auto bad = read_month(); !bad) return bad;
    if (auto bad = expect(' ', "after the month"); !bad) return bad;
    if (!rest_.empty() && rest_[0] == ' ') rest_.remove_prefix(1);
    if (auto bad = read_day(); !bad) return bad;
    if (auto bad = expect(' ', "after the day"); !bad) return bad;
    if (auto bad = read_time(); !bad) return bad;
    if (auto bad = expect(' ', "after the time"); !bad) return bad;
    return read_year(4);
  }

  std::string_view text_;
  std::string_view rest_;
  Fields fields_;
};

int year_of(TimePoint t) {
  std::chrono::year_month_day ymd{std::chrono::floor<std::chrono::days>(t)};
  return static_cast<int>(ymd.year());
}

// RFC 9110: a two-digit year more than 50 years in the future is in the past.
// The century is picked so the year falls within (now - 50, now + 50].
int widen_year(int two_digits, TimePoint now) {
  int current = year_of(now);
  int year = current - current % 100 + two_digits;
  if (year > current + 50) return year - 100;
  if (year <= current - 50) return year + 100;
  return year;
}

std::optional<std::string> range_problem(const Fields& f) {
  using namespace std::chrono;
  year_month_day ymd{year{f.year}, month{static_cast<unsigned>(f.month)},
                     day{static_cast<unsigned>(f.day)}};
  if (!ymd.ok()) {
    return "day " + std::to_string(f.day) + " does not exist in " +
           std::string(kMonths[f.month - 1]) + " " + std::to_string(f.year);
  }
  if (f.hour > 23) return "hour " + std::to_string(f.hour) + " out of range (0-23)";
  if (f.minute > 59) return "minute " + std::to_string(f.minute) + " out of range (0-59)";
  if (f.second > 60) return "second " + std::to_string(f.second) + " out of range (0-60)";
  return std::nullopt;
}

// Seconds since 1970, or nothing when system_clock cannot hold the time.
std::optional<TimePoint> to_time_point(const Fields& f) {
  using namespace std::chrono;
  year_month_day ymd{year{f.year}, month{static_cast<unsigned>(f.month)},
                     day{static_cast<unsigned>(f.day)}};
  std::int64_t secs = std::int64_t{sys_days{ymd}.time_since_epoch().count()} * kSecondsPerDay +
                      f.hour * 3600 + f.minute * 60 + f.second;
  constexpr auto kMax = duration_cast<seconds>(system_clock::duration::max()).count();
  constexpr auto kMin = duration_cast<seconds>(system_clock::duration::min()).count();
  if (secs > kMax || secs < kMin) return std::nullopt;
  return TimePoint(duration_cast<system_clock::duration>(seconds{secs}));
}

void append_padded(std::string& out, int value, int width) {
  std::string digits = std::to_string(value);
  if (static_cast<int>(digits.size()) < width) out.append(width - digits.size(), '0');
  out += digits;
}

}  // namespace

Result<TimePoint> parse_http_date(std::string_view text) {
  return parse_http_date(text, system_clock::now());
}

Result<TimePoint> parse_http_date(std::string_view text, TimePoint now) {
  DateParser parser(text);
  auto fields = parser.run();
  if (!fields) return tl::unexpected(fields.error());
  if (fields->two_digit_year) fields->year = widen_year(fields->year, now);
  if (auto problem = range_problem(*fields)) return tl::unexpected(parser.fail(*problem));
  auto t = to_time_point(*fields);
  if (!t) {
    return tl::unexpected(parser.fail("year " + std::to_string(fields->year) +
                                      " is outside the range system_clock can hold"));
  }
  return *t;
}

std::string format_http_date(TimePoint t) {
  using namespace std::chrono;
  auto secs = floor<seconds>(t);
  auto day_start = floor<days>(secs);
  year_month_day ymd{day_start};
  auto in_day = (secs - day_start).count();
  std::string out;
  out.reserve(29);
  out += kShortDays[weekday{day_start}.c_encoding()];
  out += ", ";
  append_padded(out, static_cast<int>(static_cast<unsigned>(ymd.day())), 2);
  out += ' ';
  out += kMonths[static_cast<unsigned>(ymd.month()) - 1];
  out += ' ';
  append_padded(out, static_cast<int>(ymd.year()), 4);
  out += ' ';
  append_padded(out, static_cast<int>(in_day / 3600), 2);
  out += ':';
  append_padded(out, static_cast<int>(in_day / 60 % 60), 2);
  out += ':';
  append_padded(out, static_cast<int>(in_day % 60), 2);
  out += " GMT";
  return out;
}

}  // namespace uvinet

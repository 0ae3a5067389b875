#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "uvinet/http_date.hpp"

using std::chrono::seconds;
using std::chrono::system_clock;
using uvinet::errc;
using uvinet::format_http_date;
using uvinet::parse_http_date;

namespace {

system_clock::time_point at(std::int64_t unix_seconds) {
  return system_clock::time_point(seconds(unix_seconds));
}

// A fixed "now" so the RFC 850 two-digit-year rule gives the same answer every year.
system_clock::time_point year_start(int year) {
  using namespace std::chrono;
  return sys_days{std::chrono::year{year} / January / 1};
}

std::int64_t parsed(std::string_view text) {
  auto t = parse_http_date(text, year_start(2025));
  REQUIRE_MESSAGE(t.has_value(), "parse_http_date('", std::string(text),
                  "') failed: ", t.error().message());
  return std::chrono::duration_cast<seconds>(t->time_since_epoch()).count();
}

// Checks that `text` is rejected as invalid_date with a note mentioning `mention`.
void check_rejected(std::string_view text, std::string_view mention) {
  CAPTURE(text);
  auto t = parse_http_date(text, year_start(2025));
  REQUIRE_FALSE(t.has_value());
  CHECK(t.error() == errc::invalid_date);
  const std::string& where = t.error().where();
  CHECK_MESSAGE(where.find(mention) != std::string::npos, "note was: ", where);
  CHECK_MESSAGE(where.find(" in HTTP date '") != std::string::npos, "note was: ", where);
}

constexpr std::int64_t kRfcExample = 784111777;  // Sun, 06 Nov 1994 08:49:37 GMT

}  // namespace

TEST_CASE("parse_http_date reads all three RFC 9110 forms") {
  CHECK(parsed("Sun, 06 Nov 1994 08:49:37 GMT") == kRfcExample);
  CHECK(parsed("Sunday, 06-Nov-94 08:49:37 GMT") == kRfcExample);
  CHECK(parsed("Sun Nov  6 08:49:37 1994") == kRfcExample);
  CHECK(parsed("Thu Nov 10 08:49:37 1994") == kRfcExample + 4 * 86400);
  auto now = parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT");
  REQUIRE(now.has_value());
  CHECK(*now == at(kRfcExample));
}

TEST_CASE("parse_http_date is lenient where RFC 9110 asks for robustness") {
  CHECK(parsed("Mon, 06 Nov 1994 08:49:37 GMT") == kRfcExample);  // wrong day name
  CHECK(parsed("Saturday, 06-Nov-94 08:49:37 GMT") == kRfcExample);
  CHECK(parsed("Fri Nov  6 08:49:37 1994") == kRfcExample);
  CHECK(parsed("sun, 06 nov 1994 08:49:37 gmt") == kRfcExample);
  CHECK(parsed("SUNDAY, 06-NOV-94 08:49:37 GMT") == kRfcExample);
  CHECK(parsed("Sunday, 06 Nov 1994 08:49:37 GMT") == kRfcExample);  // long name, IMF form
  CHECK(parsed("Sun, 6 Nov 1994 08:49:37 GMT") == kRfcExample);
  CHECK(parsed("Sun Nov 6 08:49:37 1994") == kRfcExample);
  CHECK(parsed("Sunday, 06-Nov-1994 08:49:37 GMT") == kRfcExample);
  CHECK(parsed(" \tSun, 06 Nov 1994 08:49:37 GMT\t ") == kRfcExample);
}

TEST_CASE("parse_http_date reads the Unix epoch, dates before it and after 2038") {
  CHECK(parsed("Thu, 01 Jan 1970 00:00:00 GMT") == 0);
  CHECK(parsed("Thu Jan  1 00:00:00 1970") == 0);
  CHECK(parsed("Wed, 31 Dec 1969 23:59:59 GMT") == -1);
  CHECK(parsed("Mon, 01 Jan 1900 00:00:00 GMT") == -2208988800);
  CHECK(parsed("Tue, 19 Jan 2038 03:14:07 GMT") == 2147483647);
  CHECK(parsed("Tue, 19 Jan 2038 03:14:08 GMT") == 2147483648);
  CHECK(parsed("Sun, 07 Feb 2106 06:28:16 GMT") == 4294967296);
  CHECK(parsed("Wed, 01 Jan 2200 00:00:00 GMT") == 7258118400);
}

TEST_CASE("parse_http_date knows leap years") {
  CHECK(parsed("Thu, 29 Feb 2024 12:00:00 GMT") == 1709208000);
  CHECK(parsed("Tue, 29 Feb 2000 00:00:00 GMT") == 951782400);  // divisible by 400
  CHECK(parsed("Fri, 01 Mar 2024 00:00:00 GMT") - parsed("Wed, 28 Feb 2024 00:00:00 GMT") ==
        2 * 86400);
  CHECK(parsed("Wed, 01 Mar 2023 00:00:00 GMT") - parsed("Tue, 28 Feb 2023 00:00:00 GMT") == 86400);
  check_rejected("Wed, 29 Feb 2023 00:00:00 GMT", "day 29 does not exist in Feb 2023");
  check_rejected("Thu, 29 Feb 1900 00:00:00 GMT", "day 29 does not exist in Feb 1900");
  check_rejected("Mon, 29 Feb 2100 00:00:00 GMT", "day 29 does not exist in Feb 2100");
  check_rejected("Mon Feb 29 00:00:00 2100", "day 29 does not exist in Feb 2100");
}

TEST_CASE("parse_http_date reads a leap second as the next minute's first") {
  CHECK(parsed("Sat, 31 Dec 2016 23:59:60 GMT") == parsed("Sun, 01 Jan 2017 00:00:00 GMT"));
}

TEST_CASE("parse_http_date puts a two-digit year within 50 years of now") {
  auto year_of = [](std::string_view text, int now_year) {
    auto t = parse_http_date(text, year_start(now_year));
    REQUIRE(t.has_value());
    using namespace std::chrono;
    return static_cast<int>(year_month_day{floor<days>(*t)}.year());
  };
  CHECK(year_of("Sunday, 06-Nov-94 08:49:37 GMT", 2025) == 1994);
  CHECK(year_of("Monday, 01-Jan-25 00:00:00 GMT", 2025) == 2025);
  CHECK(year_of("Monday, 01-Jan-70 00:00:00 GMT", 2025) == 2070);
  CHECK(year_of("Monday, 01-Jan-75 00:00:00 GMT", 2025) == 2075);  // exactly 50 years ahead
  CHECK(year_of("Monday, 01-Jan-76 00:00:00 GMT", 2025) == 1976);  // more than 50: the past
  CHECK(year_of("Monday, 01-Jan-00 00:00:00 GMT", 2025) == 2000);
  CHECK(year_of("Monday, 01-Jan-00 00:00:00 GMT", 1999) == 2000);
  CHECK(year_of("Monday, 01-Jan-49 00:00:00 GMT", 1999) == 2049);
  CHECK(year_of("Monday, 01-Jan-50 00:00:00 GMT", 1999) == 1950);
  CHECK(year_of("Monday, 01-Jan-99 00:00:00 GMT", 2070) == 2099);
  CHECK(year_of("Monday, 01-Jan-21 00:00:00 GMT", 2070) == 2021);
  CHECK(year_of("Monday, 01-Jan-20 00:00:00 GMT", 2070) == 2120);  // 2020 is 50 years back
}

TEST_CASE("format_http_date writes IMF-fixdate") {
  CHECK(format_http_date(at(0)) == "Thu, 01 Jan 1970 00:00:00 GMT");
  CHECK(format_http_date(at(kRfcExample)) == "Sun, 06 Nov 1994 08:49:37 GMT");
  CHECK(format_http_date(at(-1)) == "Wed, 31 Dec 1969 23:59:59 GMT");
  CHECK(format_http_date(at(-2208988800)) == "Mon, 01 Jan 1900 00:00:00 GMT");
  CHECK(format_http_date(at(951782400)) == "Tue, 29 Feb 2000 00:00:00 GMT");
  CHECK(format_http_date(at(1709208000)) == "Thu, 29 Feb 2024 12:00:00 GMT");
  CHECK(format_http_date(at(2147483647)) == "Tue, 19 Jan 2038 03:14:07 GMT");
  CHECK(format_http_date(at(2147483648)) == "Tue, 19 Jan 2038 03:14:08 GMT");
  CHECK(format_http_date(at(7258118400)) == "Wed, 01 Jan 2200 00:00:00 GMT");
}

TEST_CASE("format_http_date drops fractions of a second toward the past") {
  using std::chrono::milliseconds;
  CHECK(format_http_date(system_clock::time_point(milliseconds(1999))) ==
        "Thu, 01 Jan 1970 00:00:01 GMT");
  CHECK(format_http_date(system_clock::time_point(milliseconds(-500))) ==
        "Wed, 31 Dec 1969 23:59:59 GMT");
}

TEST_CASE("format_http_date handles the ends of system_clock's range") {
  using std::chrono::nanoseconds;
  if constexpr (std::is_same_v<system_clock::duration, nanoseconds>) {
    CHECK(format_http_date(system_clock::time_point::max()) == "Fri, 11 Apr 2262 23:47:16 GMT");
    CHECK(format_http_date(system_clock::time_point::min()) == "Tue, 21 Sep 1677 00:12:43 GMT");
  }
}

TEST_CASE("parse_http_date inverts format_http_date, day by day over three centuries") {
  int checked = 0;
  // 86400 + 3723 seconds a step walks every day and through the hours of the day.
  for (std::int64_t t = -2208988800; t < 7258118400; t += 86400 + 3723) {
    std::string text = format_http_date(at(t));
    auto back = parse_http_date(text);
    REQUIRE_MESSAGE(back.has_value(), text);
    REQUIRE_MESSAGE(*back == at(t), text);
    ++checked;
  }
  CHECK(checked > 100000);
}

TEST_CASE("parse_http_date rejects malformed dates with a clear note") {
  check_rejected("", "empty HTTP date");
  check_rejected("  ", "empty HTTP date");
  check_rejected("1994-11-06T08:49:37Z", "missing day name");
  check_rejected("Xyz, 06 Nov 1994 08:49:37 GMT", "unknown day name 'Xyz'");
  check_rejected("Sun; 06 Nov 1994 08:49:37 GMT", "expected ' ' after the day name, found ';'");
  check_rejected("Sun,06 Nov 1994 08:49:37 GMT", "expected ' ' after ',', found '0'");
  check_rejected("Sun,\v06 Nov 1994 08:49:37 GMT", "found '\\x0B'");
  check_rejected("Sun, 06 Foo 1994 08:49:37 GMT", "unknown month 'Foo'");
  check_rejected("Sun, 06 11 1994 08:49:37 GMT", "missing month name");
  check_rejected("Sun, Nov 06 1994 08:49:37 GMT", "day of month must have 1 or 2 digits");
  check_rejected("Sun, 106 Nov 1994 08:49:37 GMT", "day of month must have 1 or 2 digits");
  check_rejected("Sun, 06 Nov 94 08:49:37 GMT", "year must have 4 digits");
  check_rejected("Sun, 06 Nov 19945 08:49:37 GMT", "year must have 4 digits");
  check_rejected("Sunday, 06-Nov-994 08:49:37 GMT", "year must have 2 or 4 digits");
  check_rejected("Sunday, 06-Nov 94 08:49:37 GMT", "expected '-' after the month");
  check_rejected("Sun, 06 Nov 1994 8:49:37 GMT", "hour must have 2 digits");
  check_rejected("Sun, 06 Nov 1994 08-49-37 GMT", "expected ':' after the hour");
  check_rejected("Sun, 06 Nov 1994 08:49 GMT", "expected ':' after the minute");
  check_rejected("Sun, 06 Nov 1994 08:49:3 GMT", "second must have 2 digits");
  check_rejected("Sun, 06 Nov 1994 08:49:37", "expected ' ' after the time, found the end");
  check_rejected("Sun, 06 Nov 1994 08:49:37 ", "expected ' ' after the time");
  check_rejected("Sun, 06 Nov 1994 08:49:37 PST", "time zone must be GMT, not 'PST'");
  check_rejected("Sun, 06 Nov 1994 08:49:37 +0000", "missing time zone 'GMT'");
  check_rejected("Sun, 06 Nov 1994 08:49:37 GMT junk", "unexpected text ' junk' after the date");
  check_rejected("Sun, 06 Nov 1994 08:49:37 GMT\r\n", "unexpected text '\\x0D\\x0A'");
  check_rejected("Sun Nov  6 08:49:37 94", "year must have 4 digits");
  check_rejected("Sun Nov  6 08:49:37 1994 GMT", "unexpected text ' GMT' after the date");
  check_rejected("Sun Nov   6 08:49:37 1994", "day of month must have 1 or 2 digits");
}

TEST_CASE("parse_http_date rejects out-of-range fields and names the field") {
  check_rejected("Sun, 31 Nov 1994 08:49:37 GMT", "day 31 does not exist in Nov 1994");
  check_rejected("Sun, 00 Nov 1994 08:49:37 GMT", "day 0 does not exist in Nov 1994");
  check_rejected("Sun, 32 Jan 1994 08:49:37 GMT", "day 32 does not exist in Jan 1994");
  check_rejected("Sun, 06 Nov 1994 24:00:00 GMT", "hour 24 out of range (0-23)");
  check_rejected("Sun, 06 Nov 1994 08:60:00 GMT", "minute 60 out of range (0-59)");
  check_rejected("Sun, 06 Nov 1994 08:49:61 GMT", "second 61 out of range (0-60)");
  check_rejected("Sun Nov  6 99:49:37 1994", "hour 99 out of range");
  check_rejected("Sunday, 31-Apr-94 08:49:37 GMT", "day 31 does not exist in Apr 1994");
  if constexpr (std::is_same_v<system_clock::duration, std::chrono::nanoseconds>) {
    check_rejected("Fri, 31 Dec 9999 23:59:59 GMT",
                   "year 9999 is outside the range system_clock can hold");
    check_rejected("Mon, 01 Jan 1600 00:00:00 GMT", "year 1600 is outside");
    check_rejected("Mon, 01 Jan 0000 00:00:00 GMT", "year 0 is outside");
  }
  auto t = parse_http_date("Sun, 06 Nov 1994 24:00:00 GMT");
  REQUIRE_FALSE(t.has_value());
  CHECK(t.error().message() ==
        "hour 24 out of range (0-23) in HTTP date 'Sun, 06 Nov 1994 24:00:00 GMT': "
        "the text is not a valid HTTP date");
}

TEST_CASE("C9 HTTP-date parse and format are safe from any thread") {
  constexpr int kThreads = 8;
  constexpr int kIterations = 4000;
  std::atomic<int> failures{0};
  std::atomic<int> checked{0};
  auto work = [&](int thread) {
    for (int i = 0; i < kIterations; ++i) {
      // Spread the times over 1901-2200 so threads work on different dates at once.
      std::int64_t t = -2000000000 + (std::int64_t{thread} * kIterations + i) * 290111;
      std::string text = format_http_date(at(t));
      auto back = parse_http_date(text);
      bool ok = back && *back == at(t) && text.size() == 29;
      auto rfc850 = parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT", year_start(2025));
      ok = ok && rfc850 && *rfc850 == at(kRfcExample);
      auto asctime = parse_http_date("Sun Nov  6 08:49:37 1994");
      ok = ok && asctime && *asctime == at(kRfcExample);
      auto bad = parse_http_date("Sun, 06 Nov 1994 2" + std::to_string(4 + i % 5) + ":00:00 GMT");
      ok = ok && !bad && bad.error() == errc::invalid_date &&
           bad.error().where().find("out of range") != std::string::npos;
      if (!ok) failures.fetch_add(1);
      checked.fetch_add(1);
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) threads.emplace_back(work, t);
  for (auto& thread : threads) thread.join();
  CHECK(failures.load() == 0);
  CHECK(checked.load() == kThreads * kIterations);
}

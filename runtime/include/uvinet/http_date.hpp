// HTTP dates (RFC 9110 §5.6.7): parse all three forms, format the preferred one.
//
// Contract rule C9: these functions keep no state and call no C time or locale
// function (no gmtime, timegm, strftime or static buffers), so they may be
// called from any thread at any time, including the I/O loop thread.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "uvinet/result.hpp"

namespace uvinet {

/// Parses an HTTP date in any of the three forms RFC 9110 allows:
///  - IMF-fixdate:  "Sun, 06 Nov 1994 08:49:37 GMT"
///  - RFC 850:      "Sunday, 06-Nov-94 08:49:37 GMT"
///  - asctime:      "Sun Nov  6 08:49:37 1994"
/// Leniency, as RFC 9110 asks recipients to be robust:
///  - the form is told by punctuation, so a short or long day name is taken in
///    any form; day and month names are matched ignoring case, and so is "GMT";
///  - the day name must be a real one but need not match the date (senders get
///    it wrong, and the date is what matters);
///  - the day of the month may have one digit; an RFC 850 year may have four;
///  - spaces and tabs around the date are ignored (header values carry them).
/// A two-digit RFC 850 year is read as the year with those last two digits that
/// is at most 50 years after the current one and less than 50 before it, which is
/// RFC 9110's rule ("more than 50 years in the future" means the past century).
/// Ranges checked: the day must exist in that month and year (Feb 29 only in
/// leap years), hour 0-23, minute 0-59, second 0-60; second 60 (a leap second)
/// reads as the first second of the next minute, since system_clock has no
/// leap seconds. Dates that system_clock cannot hold are rejected (with
/// libstdc++'s nanosecond ticks, before 1677-09-21 or after 2262-04-11).
/// Fails with `errc::invalid_date` and a note naming the problem and the text,
/// e.g. "hour 24 out of range (0-23) in HTTP date 'Sun, 06 Nov 1994 24:00:00 GMT'".
Result<std::chrono::system_clock::time_point> parse_http_date(std::string_view text);

/// As above, with `now` as the current time for the RFC 850 two-digit-year rule
/// (so the rule can be tested, and so a caller can pin it to a response's time).
Result<std::chrono::system_clock::time_point> parse_http_date(
    std::string_view text, std::chrono::system_clock::time_point now);

/// Formats `t` as an IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"), dropping any
/// fraction of a second (rounding toward the past, also before 1970).
std::string format_http_date(std::chrono::system_clock::time_point t);

}  // namespace uvinet

// The times logs write (see log_time.hpp).
//
// The formats are told apart by their first characters, so every text is looked at once:
// "YYYY-" is ISO 8601 / RFC 3339 (core/time.hpp does the work; a trailing " UTC" is accepted,
// as some exporters write it), a letter is an RFC 3164 "Mmm dd hh:mm:ss", "dd/Mmm/yyyy:" is the
// Apache/nginx access-log time, and digits alone are epoch time. Epoch values carry no unit, so
// the magnitude decides: below 10^11 seconds (until the year 5138), below 10^14 milliseconds,
// below 10^17 microseconds, else nanoseconds.
//
// RFC 3164 timestamps have no year. Of the year before, the year of and the year after
// `reference_ms`, the one that puts the time nearest to the reference is taken. A reader that
// passes the previous event's time as the reference follows a log across New Year.
#include "core/log_time.hpp"

#include <array>
#include <cmath>
#include <cstdlib>

#include "core/time.hpp"

namespace yagura {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() &&
         (text.back() == ' ' || text.back() == '\t' || text.back() == '\r' || text.back() == '\n'))
    text.remove_suffix(1);
  return text;
}

// Reads exactly `count` digits at `pos`.
bool ReadFixed(std::string_view text, size_t& pos, size_t count, int& out) {
  if (pos + count > text.size()) return false;
  int value = 0;
  for (size_t i = 0; i < count; ++i) {
    char c = text[pos + i];
    if (!IsDigit(c)) return false;
    value = value * 10 + (c - '0');
  }
  pos += count;
  out = value;
  return true;
}

// Month from its English three-letter abbreviation (any case), 1-12, or 0.
int MonthNumber(std::string_view name) {
  static constexpr std::array<std::string_view, 12> MONTHS = {
      "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"};
  if (name.size() != 3) return 0;
  char lower[3];
  for (int i = 0; i < 3; ++i) {
    char c = name[i];
    lower[i] = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  }
  for (size_t m = 0; m < MONTHS.size(); ++m) {
    if (MONTHS[m] == std::string_view(lower, 3)) return static_cast<int>(m) + 1;
  }
  return 0;
}

bool LeapYear(int64_t year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

// Days since 1970-01-01 of a civil date (proleptic Gregorian).
int64_t DaysFromCivil(int64_t year, int month, int day) {
  year -= month <= 2 ? 1 : 0;
  const int64_t era = (year >= 0 ? year : year - 399) / 400;
  const int64_t year_of_era = year - era * 400;
  const int64_t day_of_year = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  const int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146097 + day_of_era - 719468;
}

int64_t YearOf(int64_t ms) {
  // Civil year of a time in milliseconds (the inverse of DaysFromCivil, year only).
  int64_t days = ms >= 0 ? ms / 86400000 : -((-ms + 86399999) / 86400000);
  days += 719468;
  const int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const int64_t day_of_era = days - era * 146097;
  const int64_t year_of_era =
      (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
  const int64_t day_of_year =
      day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  const int64_t mp = (5 * day_of_year + 2) / 153;
  const int64_t month = mp < 10 ? mp + 3 : mp - 9;
  return year_of_era + era * 400 + (month <= 2 ? 1 : 0);
}

bool ValidDay(int64_t year, int month, int day) {
  static constexpr int DAYS[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12 || day < 1) return false;
  int last = DAYS[month - 1] + (month == 2 && LeapYear(year) ? 1 : 0);
  return day <= last;
}

// "hh:mm:ss[.fff...]" at `pos`; milliseconds of the day.
bool ReadClock(std::string_view text, size_t& pos, int64_t& out) {
  int hour = 0;
  int minute = 0;
  int second = 0;
  if (!ReadFixed(text, pos, 2, hour) || pos >= text.size() || text[pos++] != ':' ||
      !ReadFixed(text, pos, 2, minute) || pos >= text.size() || text[pos++] != ':' ||
      !ReadFixed(text, pos, 2, second)) {
    return false;
  }
  if (hour > 23 || minute > 59 || second > 60) return false;
  if (second == 60) second = 59;  // a leap second is read as the second before it
  int64_t fraction_ms = 0;
  if (pos < text.size() && (text[pos] == '.' || text[pos] == ',')) {
    size_t start = ++pos;
    while (pos < text.size() && IsDigit(text[pos])) {
      if (pos - start < 3) fraction_ms = fraction_ms * 10 + (text[pos] - '0');
      ++pos;
    }
    if (pos == start) return false;
    for (size_t digits = pos - start; digits < 3; ++digits) fraction_ms *= 10;
  }
  out = (static_cast<int64_t>(hour) * 3600 + minute * 60 + second) * 1000 + fraction_ms;
  return true;
}

// RFC 3164: "Mmm dd hh:mm:ss" (the day space- or zero-padded), optionally a fraction, optionally
// followed by a year (" 2024", as some exporters add).
std::optional<int64_t> ParseBsd(std::string_view text, int64_t reference_ms) {
  if (text.size() < 15) return std::nullopt;
  int month = MonthNumber(text.substr(0, 3));
  if (month == 0 || text[3] != ' ') return std::nullopt;
  size_t pos = 4;
  if (text[pos] == ' ') ++pos;
  int day = 0;
  if (pos + 1 < text.size() && IsDigit(text[pos]) && IsDigit(text[pos + 1])) {
    day = (text[pos] - '0') * 10 + (text[pos + 1] - '0');
    pos += 2;
  } else if (pos < text.size() && IsDigit(text[pos])) {
    day = text[pos] - '0';
    pos += 1;
  } else {
    return std::nullopt;
  }
  if (pos >= text.size() || text[pos++] != ' ') return std::nullopt;
  int64_t clock = 0;
  if (!ReadClock(text, pos, clock)) return std::nullopt;
  std::optional<int64_t> explicit_year;
  if (pos < text.size()) {
    int year = 0;
    if (text[pos] != ' ' || !ReadFixed(text, ++pos, 4, year) || pos != text.size())
      return std::nullopt;
    explicit_year = year;
  }
  auto at = [&](int64_t year) -> std::optional<int64_t> {
    if (!ValidDay(year, month, day)) return std::nullopt;  // Feb 29 outside leap years
    return DaysFromCivil(year, month, day) * 86400000 + clock;
  };
  if (explicit_year) return at(*explicit_year);
  int64_t reference_year = YearOf(reference_ms);
  std::optional<int64_t> best;
  for (int64_t year = reference_year - 1; year <= reference_year + 1; ++year) {
    auto candidate = at(year);
    if (!candidate) continue;
    if (!best || std::llabs(*candidate - reference_ms) < std::llabs(*best - reference_ms))
      best = candidate;
  }
  return best;
}

// Apache/nginx access log: "10/Oct/2000:13:55:36 -0700" (the zone optional).
std::optional<int64_t> ParseCommonLog(std::string_view text) {
  size_t pos = 0;
  int day = 0;
  int year = 0;
  if (!ReadFixed(text, pos, 2, day) || pos >= text.size() || text[pos++] != '/')
    return std::nullopt;
  if (pos + 4 > text.size()) return std::nullopt;
  int month = MonthNumber(text.substr(pos, 3));
  pos += 3;
  if (month == 0 || text[pos++] != '/' || !ReadFixed(text, pos, 4, year) || pos >= text.size() ||
      text[pos++] != ':') {
    return std::nullopt;
  }
  int64_t clock = 0;
  if (!ValidDay(year, month, day) || !ReadClock(text, pos, clock)) return std::nullopt;
  int64_t ms = DaysFromCivil(year, month, day) * 86400000 + clock;
  if (pos == text.size()) return ms;
  if (text[pos++] != ' ' || pos >= text.size()) return std::nullopt;
  if (text.substr(pos) == "Z" || text.substr(pos) == "UTC" || text.substr(pos) == "GMT") return ms;
  if (text[pos] != '+' && text[pos] != '-') return std::nullopt;
  int sign = text[pos++] == '+' ? 1 : -1;
  int hours = 0;
  int minutes = 0;
  if (!ReadFixed(text, pos, 2, hours)) return std::nullopt;
  if (pos < text.size() && text[pos] == ':') ++pos;
  if (!ReadFixed(text, pos, 2, minutes) || pos != text.size() || hours > 23 || minutes > 59)
    return std::nullopt;
  return ms - sign * (static_cast<int64_t>(hours) * 3600 + minutes * 60) * 1000;
}

// Digits with an optional fraction: epoch time, its unit guessed from the magnitude.
std::optional<int64_t> ParseEpoch(std::string_view text) {
  size_t pos = 0;
  if (!text.empty() && text[0] == '-') return std::nullopt;  // before 1970: not a log time
  while (pos < text.size() && IsDigit(text[pos])) ++pos;
  size_t integer_digits = pos;
  if (integer_digits == 0 || integer_digits > 19) return std::nullopt;
  int64_t fraction_ms = 0;  // of seconds; ignored for the finer units
  if (pos < text.size()) {
    if (text[pos] != '.') return std::nullopt;
    size_t start = ++pos;
    while (pos < text.size() && IsDigit(text[pos])) {
      if (pos - start < 3) fraction_ms = fraction_ms * 10 + (text[pos] - '0');
      ++pos;
    }
    if (pos == start || pos != text.size()) return std::nullopt;
    for (size_t digits = pos - start; digits < 3; ++digits) fraction_ms *= 10;
  }
  uint64_t integer = 0;
  for (size_t i = 0; i < integer_digits; ++i) integer = integer * 10 + (text[i] - '0');
  if (integer < 100'000'000'000ULL)  // seconds
    return static_cast<int64_t>(integer) * 1000 + fraction_ms;
  if (integer < 100'000'000'000'000ULL) return static_cast<int64_t>(integer);  // milliseconds
  if (integer < 100'000'000'000'000'000ULL)
    return static_cast<int64_t>(integer / 1000);     // microseconds
  return static_cast<int64_t>(integer / 1'000'000);  // nanoseconds
}

}  // namespace

std::optional<int64_t> ParseEventTimeMs(std::string_view text, int64_t reference_ms) {
  text = Trim(text);
  if (text.size() < 1) return std::nullopt;
  if (text.size() >= 5 && IsDigit(text[0]) && IsDigit(text[1]) && IsDigit(text[2]) &&
      IsDigit(text[3]) && text[4] == '-') {
    if (auto ms = ParseIsoDateTimeMs(text)) return ms;
    for (std::string_view zone : {" UTC", " GMT", " Z"}) {
      if (text.size() > zone.size() && text.substr(text.size() - zone.size()) == zone)
        return ParseIsoDateTimeMs(text.substr(0, text.size() - zone.size()));
    }
    return std::nullopt;
  }
  if (text.size() >= 3 && IsDigit(text[0]) && IsDigit(text[1]) && text[2] == '/')
    return ParseCommonLog(text);
  if (IsDigit(text[0])) return ParseEpoch(text);
  if ((text[0] >= 'A' && text[0] <= 'Z') || (text[0] >= 'a' && text[0] <= 'z'))
    return ParseBsd(text, reference_ms);
  return std::nullopt;
}

}  // namespace yagura

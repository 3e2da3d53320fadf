// Time: wall-clock milliseconds and RFC 3339 text, the one representation the service stores.
//
// Everything the centre records (incident times, deadlines, audit entries) is kept as integer
// milliseconds since the Unix epoch in UTC, and written as RFC 3339 with exactly three fraction
// digits and "Z" ("2026-11-26T06:00:00.000Z"), which STIX also requires.
#include "core/time.hpp"

#include <chrono>

#include <fmt/format.h>

namespace yagura {
namespace {

constexpr bool IsDigit(char c) { return c >= '0' && c <= '9'; }

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

int64_t DaysFromCivil(int64_t year, unsigned month, unsigned day) {
  year -= month <= 2 ? 1 : 0;
  const int64_t era = (year >= 0 ? year : year - 399) / 400;
  const auto year_of_era = static_cast<unsigned>(year - era * 400);
  const unsigned day_of_year = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  const unsigned day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146097 + static_cast<int64_t>(day_of_era) - 719468;
}

unsigned DaysInMonth(int64_t year, unsigned month) {
  static constexpr unsigned DAYS[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month == 2 && ((year % 4 == 0 && year % 100 != 0) || year % 400 == 0)) return 29;
  return DAYS[month - 1];
}

// Reads exactly `count` digits at `pos`.
bool ReadDigits(std::string_view text, size_t& pos, size_t count, unsigned& value) {
  if (pos + count > text.size()) return false;
  value = 0;
  for (size_t i = 0; i < count; ++i) {
    char c = text[pos + i];
    if (!IsDigit(c)) return false;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  pos += count;
  return true;
}


// Inverse of DaysFromCivil (Howard Hinnant's civil_from_days).
void CivilFromDays(int64_t days, int64_t& year, unsigned& month, unsigned& day) {
  days += 719468;
  const int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const auto day_of_era = static_cast<unsigned>(days - era * 146097);
  const unsigned year_of_era =
      (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
  const unsigned day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  const unsigned mp = (5 * day_of_year + 2) / 153;
  day = day_of_year - (153 * mp + 2) / 5 + 1;
  month = mp < 10 ? mp + 3 : mp - 9;
  year = static_cast<int64_t>(year_of_era) + era * 400 + (month <= 2 ? 1 : 0);
}

}  // namespace

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string FormatTimestampMs(int64_t ms) {
  int64_t days = ms >= 0 ? ms / 86400000 : -((-ms + 86399999) / 86400000);
  int64_t rest = ms - days * 86400000;
  int64_t year;
  unsigned month;
  unsigned day;
  CivilFromDays(days, year, month, day);
  if (year < 0 || year > 9999) {
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", year, month, day,
                       rest / 3600000, rest / 60000 % 60, rest / 1000 % 60, rest % 1000);
  }
  // Digit by digit: API lists format three times per row, and fmt's machinery dominated that.
  char text[25] = "0000-00-00T00:00:00.000Z";
  auto put = [&text](int at, int64_t value, int digits) {
    for (int i = digits - 1; i >= 0; --i) {
      text[at + i] = static_cast<char>('0' + value % 10);
      value /= 10;
    }
  };
  put(0, year, 4);
  put(5, month, 2);
  put(8, day, 2);
  put(11, rest / 3600000, 2);
  put(14, rest / 60000 % 60, 2);
  put(17, rest / 1000 % 60, 2);
  put(20, rest % 1000, 3);
  return std::string(text, 24);
}

std::optional<int64_t> ParseIsoDateTimeMs(std::string_view text) {
  text = Trim(text);
  size_t pos = 0;
  unsigned year = 0;
  unsigned month = 0;
  unsigned day = 0;
  if (!ReadDigits(text, pos, 4, year) || pos >= text.size() || text[pos++] != '-' ||
      !ReadDigits(text, pos, 2, month) || pos >= text.size() || text[pos++] != '-' ||
      !ReadDigits(text, pos, 2, day)) {
    return std::nullopt;
  }
  if (month < 1 || month > 12 || day < 1 || day > DaysInMonth(year, month)) return std::nullopt;
  int64_t ms = DaysFromCivil(year, month, day) * 86400000;
  if (pos == text.size()) return ms;
  if (text[pos] != 'T' && text[pos] != 't' && text[pos] != ' ') return std::nullopt;
  ++pos;
  unsigned hour = 0;
  unsigned minute = 0;
  unsigned second = 0;
  if (!ReadDigits(text, pos, 2, hour) || pos >= text.size() || text[pos++] != ':' ||
      !ReadDigits(text, pos, 2, minute)) {
    return std::nullopt;
  }
  if (pos < text.size() && text[pos] == ':') {
    ++pos;
    if (!ReadDigits(text, pos, 2, second)) return std::nullopt;
  }
  if (hour > 23 || minute > 59 || second > 60) return std::nullopt;
  if (second == 60) second = 59;  // a leap second is read as the second before it
  ms += (static_cast<int64_t>(hour) * 3600 + minute * 60 + second) * 1000;
  if (pos < text.size() && (text[pos] == '.' || text[pos] == ',')) {
    ++pos;
    size_t start = pos;
    int64_t fraction_ms = 0;
    while (pos < text.size() && IsDigit(text[pos])) {
      if (pos - start < 3) fraction_ms = fraction_ms * 10 + (text[pos] - '0');
      ++pos;
    }
    if (pos == start) return std::nullopt;
    for (size_t digits = pos - start; digits < 3; ++digits) fraction_ms *= 10;
    ms += fraction_ms;
  }
  if (pos == text.size()) return ms;
  if ((text[pos] == 'Z' || text[pos] == 'z') && pos + 1 == text.size()) return ms;
  if (text[pos] != '+' && text[pos] != '-') return std::nullopt;
  int sign = text[pos] == '+' ? 1 : -1;
  ++pos;
  unsigned offset_hours = 0;
  unsigned offset_minutes = 0;
  if (!ReadDigits(text, pos, 2, offset_hours)) return std::nullopt;
  if (pos < text.size() && text[pos] == ':') ++pos;
  if (pos < text.size() && !ReadDigits(text, pos, 2, offset_minutes)) return std::nullopt;
  if (pos != text.size() || offset_hours > 23 || offset_minutes > 59) return std::nullopt;
  // Local time = UTC + offset.
  ms -= sign * (static_cast<int64_t>(offset_hours) * 3600 + offset_minutes * 60) * 1000;
  return ms;
}

}  // namespace yagura

// Time: milliseconds since the Unix epoch (UTC) and their RFC 3339 text.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace yagura {

// The current wall-clock time.
int64_t NowMs();

// "2026-11-26T06:00:00.000Z": always UTC, always three fraction digits.
std::string FormatTimestampMs(int64_t ms);

// ISO 8601 / RFC 3339 date or date-time to milliseconds since the epoch: "2024-05-01" (midnight
// UTC), "2024-05-01T12:00:00Z", "2024-05-01 12:00:00.123456+02:00"; no zone means UTC.
std::optional<int64_t> ParseIsoDateTimeMs(std::string_view text);

// Widens the span [first, last] to take in `time`; an empty span becomes [time, time].
inline void WidenSpan(std::optional<int64_t>& first, std::optional<int64_t>& last, int64_t time) {
  if (!first || time < *first) first = time;
  if (!last || time > *last) last = time;
}

}  // namespace yagura

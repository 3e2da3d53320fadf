// The times logs write, read as milliseconds since the epoch.
//
// One parser for every place that reads a time someone else wrote: event times in detection and
// correlation (correlate/event_time.hpp), and the times in hunt results imported into an
// investigation's timeline (hub/case_timeline.hpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace yagura {

// Parses the time formats found in logs: RFC 3339 / ISO 8601 with or without zone (no zone is
// read as UTC), with fractions of any length; "YYYY-MM-DD HH:MM:SS[.fff]" (Sysmon UtcTime);
// epoch seconds or milliseconds as digits (with an optional fraction); RFC 3164 "Mmm dd
// hh:mm:ss" (the year is taken from `reference_ms`, the one that puts the time nearest to it;
// pass the previous event's time to follow a log across New Year); the access-log time
// "dd/Mmm/yyyy:hh:mm:ss +zzzz". Epoch digits are read as seconds below 10^11, milliseconds
// below 10^14, then microseconds and nanoseconds. nullopt when the text is none of these.
[[nodiscard]] std::optional<int64_t> ParseEventTimeMs(std::string_view text,
                                                      int64_t reference_ms = 0);

}  // namespace yagura

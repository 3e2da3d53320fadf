// Event time: when an event happened, as the event itself says, in milliseconds since the epoch.
//
// Correlation windows and campaigns run on event time, not on arrival time, so replaying a
// spool or scanning old files gives the same windows as watching live. The parser already
// finds the usual time field of each format (Windows `SystemTime`/`TimeCreated`, Sysmon
// `UtcTime`, `@timestamp`, `timestamp`, the syslog header) into Event::time; a user may name
// another field (`--time-field NAME`).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "event/event.hpp"
#include "event/field_catalog.hpp"

namespace yagura::correlate {

// Parses the time formats found in logs: RFC 3339 / ISO 8601 with or without zone (no zone is
// read as UTC), with fractions of any length; "YYYY-MM-DD HH:MM:SS[.fff]" (Sysmon UtcTime);
// epoch seconds or milliseconds as digits (with an optional fraction); RFC 3164 "Mmm dd
// hh:mm:ss" (the year is taken from `reference_ms`, the one that puts the time nearest to it;
// pass the previous event's time to follow a log across New Year); the access-log time
// "dd/Mmm/yyyy:hh:mm:ss +zzzz". Epoch digits are read as seconds below 10^11, milliseconds
// below 10^14, then microseconds and nanoseconds. nullopt when the text is none of these.
[[nodiscard]] std::optional<int64_t> ParseEventTimeMs(std::string_view text,
                                                      int64_t reference_ms = 0);

// Reads an event's time: the first value of `time_field` when it is set (not NO_FIELD) and
// present, else Event::time, else Event::time_fallback (a damaged SystemTime beside a sound
// UtcTime). nullopt when none parses.
[[nodiscard]] std::optional<int64_t> EventTimeMs(const event::Event& event,
                                                 event::FieldId time_field = event::NO_FIELD,
                                                 int64_t reference_ms = 0);

}  // namespace yagura::correlate

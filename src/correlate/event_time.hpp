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

#include "core/log_time.hpp"
#include "event/event.hpp"
#include "event/field_catalog.hpp"

namespace yagura::correlate {

using yagura::ParseEventTimeMs;

// Reads an event's time: the first value of `time_field` when it is set (not NO_FIELD) and
// present, else Event::time, else Event::time_fallback (a damaged SystemTime beside a sound
// UtcTime). nullopt when none parses.
[[nodiscard]] std::optional<int64_t> EventTimeMs(const event::Event& event,
                                                 event::FieldId time_field = event::NO_FIELD,
                                                 int64_t reference_ms = 0);

}  // namespace yagura::correlate

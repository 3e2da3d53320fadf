// Event time of an event (see event_time.hpp); the text formats are core/log_time.cpp's.
#include "correlate/event_time.hpp"

namespace yagura::correlate {

std::optional<int64_t> EventTimeMs(const event::Event& event, event::FieldId time_field,
                                   int64_t reference_ms) {
  if (time_field != event::NO_FIELD) {
    if (const event::FieldValue* value = event.First(time_field)) {
      if (auto ms = ParseEventTimeMs(value->text, reference_ms)) return ms;
    }
  }
  if (event.time.empty()) return std::nullopt;
  if (auto ms = ParseEventTimeMs(event.time, reference_ms)) return ms;
  if (event.time_fallback.empty()) return std::nullopt;
  return ParseEventTimeMs(event.time_fallback, reference_ms);
}

}  // namespace yagura::correlate

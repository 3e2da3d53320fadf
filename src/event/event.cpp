#include "event/event.hpp"

namespace yagura::event {

void Event::Reset(size_t field_count) {
  if (slots_.size() < field_count) GrowSlots(static_cast<FieldId>(field_count - 1));
  ClearValues();
  raw = {};
  record_number = 0;
  logsource = LogsourceClass{};
}

void Event::ClearValues() {
  if (++generation_ == 0) {
    // Wrapped after 4 billion events: clear the tags once so no stale slot looks current.
    for (Slot& slot : slots_) slot.generation = 0;
    generation_ = 1;
  }
  for (FieldId id : fields_) present_[id >> 6] = 0;
  values_.clear();
  fields_.clear();
  all_values_.clear();
  arena_.Reset();
  time = {};
  time_fallback = {};
}

void Event::GrowSlots(FieldId id) {
  slots_.resize(id + 1);
  present_.resize((slots_.size() + 63) / 64, 0);
}

}  // namespace yagura::event

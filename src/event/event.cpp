#include "event/event.hpp"

namespace yagura::event {

void Event::Reset(size_t field_count) {
  if (slots_.size() < field_count) slots_.resize(field_count);
  if (++generation_ == 0) {
    // Wrapped after 4 billion events: clear the tags once so no stale slot looks current.
    for (Slot& slot : slots_) slot.generation = 0;
    generation_ = 1;
  }
  values_.clear();
  fields_.clear();
  all_values_.clear();
  arena_.Reset();
  raw = {};
  time = {};
  record_number = 0;
  logsource = LogsourceClass{};
}

void Event::Add(FieldId id, FieldValue value) {
  if (id >= slots_.size()) slots_.resize(id + 1);
  auto index = static_cast<uint32_t>(values_.size());
  values_.push_back(Node{value, UINT32_MAX});
  Slot& slot = slots_[id];
  if (slot.generation != generation_) {
    slot.generation = generation_;
    slot.head = index;
    fields_.push_back(id);
  } else {
    values_[slot.tail].next = index;
  }
  slot.tail = index;
}

}  // namespace yagura::event

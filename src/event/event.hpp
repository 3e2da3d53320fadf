// Event: one parsed log record, seen through the fields the loaded rules read.
//
// Values are string_views into the input buffer, the JSON parser's string buffer or the event's
// arena; all stay valid until the next record is parsed into the same Event. Reset() is O(1)
// (slots are tagged with a generation), and the vectors keep their capacity, so parsing an event
// allocates nothing after warm-up. A field can hold several values (JSON arrays, the same name
// reached by two paths): a predicate on the field is true when any value satisfies it.
// Not thread-safe: one Event per thread.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "core/arena.hpp"
#include "event/field_catalog.hpp"
#include "event/logsource.hpp"

namespace yagura::event {

enum class ValueType : uint8_t { kString, kNumber, kBool, kNull, kObject, kArray };

struct FieldValue {
  std::string_view text;  // strings unescaped; numbers and bools as written; null as ""
  ValueType type = ValueType::kString;
};

// kWebAccess: Apache/nginx access lines and IIS W3C extended lines (web server fields).
enum class RecordFormat : uint8_t { kJson, kEvtx, kSyslog, kText, kWebAccess };

class Event {
 public:
  class ValueRange;

  // Prepares for a new record with `field_count` interned fields.
  void Reset(size_t field_count);
  // Forgets what a parse put into the event (values, the every-value list, the arena's strings,
  // the time), keeping where the record came from: for a parse that starts over.
  void ClearValues();

  // Inline: a value passed to an out-of-line call went through the stack, stored in pieces
  // and loaded back whole, a store-forwarding stall on every value kept.
  [[gnu::always_inline]] void Add(FieldId id, FieldValue value) {
    if (id >= slots_.size()) GrowSlots(id);
    const auto index = static_cast<uint32_t>(values_.size());
    values_.push_back(Node{value, UINT32_MAX});
    Slot& slot = slots_[id];
    if (slot.generation != generation_) {
      slot.generation = generation_;
      slot.head = index;
      fields_.push_back(id);
      present_[id >> 6] |= uint64_t{1} << (id & 63);
    } else {
      values_[slot.tail].next = index;
    }
    slot.tail = index;
  }
  // Adds to the every-value list used by keyword searches (see FieldCatalog::wants_all_values).
  void AddToAllValues(FieldValue value) { all_values_.push_back(value); }
  // Forgets the every-value list (when no keyword search can hold, see
  // sigma::Matcher::KeywordsMayMatchValues); the fields keep their values.
  void ClearAllValues() { all_values_.clear(); }

  // By a bit per field: readers ask for many fields an event lacks (a matcher route's fields),
  // and their slots were cache misses.
  [[nodiscard]] bool Has(FieldId id) const {
    return id < slots_.size() && ((present_[id >> 6] >> (id & 63)) & 1) != 0;
  }
  [[nodiscard]] ValueRange Values(FieldId id) const;
  // The first value of a field, or nullptr.
  [[nodiscard]] const FieldValue* First(FieldId id) const {
    return Has(id) ? &values_[slots_[id].head].value : nullptr;
  }
  [[nodiscard]] const std::vector<FieldValue>& AllValues() const { return all_values_; }
  // The fields with a value in this event, in the order they were first given one (lets a
  // reader interested in a few fields out of many skip testing each).
  [[nodiscard]] const std::vector<FieldId>& Fields() const { return fields_; }

  Arena& arena() { return arena_; }

  // Where the event came from and what it is; filled by the parser.
  std::string_view raw;           // the record's bytes (JSON text, syslog line, EVTX XML)
  RecordFormat format = RecordFormat::kJson;
  uint32_t source_index = 0;      // index into the scan's list of input files
  uint64_t record_number = 0;     // 1-based record, JSON value or line number in the source
  std::string_view time;          // event time as written in the record, if found
  // The next-best time field's text (TIME_NAMES order), read when `time` does not parse: some
  // collectors write a damaged SystemTime beside a sound Sysmon UtcTime.
  std::string_view time_fallback;
  LogsourceClass logsource;

 private:
  struct Slot {
    uint32_t generation = 0;
    uint32_t head = 0;
    uint32_t tail = 0;
  };
  struct Node {
    FieldValue value;
    uint32_t next;  // index into values_, or UINT32_MAX
  };
  void GrowSlots(FieldId id);

  uint32_t generation_ = 0;
  std::vector<Slot> slots_;
  std::vector<uint64_t> present_;  // a bit per slot: the field has a value (cleared by fields_)
  std::vector<Node> values_;
  std::vector<FieldId> fields_;
  std::vector<FieldValue> all_values_;
  Arena arena_{16 * 1024};

 public:
  class ValueRange {
   public:
    class Iterator {
     public:
      Iterator(const std::vector<Node>* nodes, uint32_t at) : nodes_(nodes), at_(at) {}
      const FieldValue& operator*() const { return (*nodes_)[at_].value; }
      const FieldValue* operator->() const { return &(*nodes_)[at_].value; }
      Iterator& operator++() {
        at_ = (*nodes_)[at_].next;
        return *this;
      }
      bool operator==(const Iterator& other) const { return at_ == other.at_; }

     private:
      const std::vector<Node>* nodes_;
      uint32_t at_;
    };
    ValueRange(const std::vector<Node>* nodes, uint32_t head) : nodes_(nodes), head_(head) {}
    [[nodiscard]] Iterator begin() const { return {nodes_, head_}; }
    [[nodiscard]] Iterator end() const { return {nodes_, UINT32_MAX}; }
    [[nodiscard]] bool empty() const { return head_ == UINT32_MAX; }

   private:
    const std::vector<Node>* nodes_;
    uint32_t head_;
  };
};

inline Event::ValueRange Event::Values(FieldId id) const {
  return {&values_, Has(id) ? slots_[id].head : UINT32_MAX};
}

}  // namespace yagura::event

// Flattening: every parser turns its record into (Sigma field name, value) pairs through a
// FieldEmitter; EventSink is the emitter that stores them in an Event.
//
// EventSink keeps only what something downstream reads: fields interned in the FieldCatalog,
// every scalar value when keyword searches need them, and the candidates for the event time.
// Parsers ask Wants()/WantsChildren() first so they can skip whole subtrees (simdjson On-Demand
// then never touches the skipped bytes beyond finding their end).
//
// JsonFlattener applies the rules of docs/sigma-spec.md section 11 to JSON records: nested keys
// joined with '.', array elements as several values of one field, and the evtx_dump shape
// ({"Event": {"System", "EventData", "UserData"}}) mapped to the Windows field names.
// Internal to src/event; one of each per EventParser (not thread-safe).
#pragma once

#include <climits>
#include <cstdint>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include <simdjson.h>

#include "core/short_compare.hpp"
#include "event/event.hpp"
#include "event/field_catalog.hpp"

namespace yagura::event {

class FieldEmitter {
 public:
  virtual ~FieldEmitter() = default;
  // `name` is only valid during the call; `value.text` must outlive the event.
  virtual void Emit(std::string_view name, FieldValue value) = 0;
  // Whether a value under `name` would be kept (lets parsers skip work).
  [[nodiscard]] virtual bool Wants(std::string_view name) const { return true; }
  // Offers an event time found outside a named field (syslog header, web log date).
  virtual void OfferTime(std::string_view text, int rank) {}
  // For a name emitted again and again (an element of an EVTX template, record after record):
  // Resolve looks it up once, and EmitResolved emits under it as Emit(name, value) would. A
  // null handle, the default, means nothing was looked up: the value is emitted by name.
  // Handles stay valid as long as resolve_scope() returns the same value (0: never resolves).
  // The value comes as its text and type, in registers: a FieldValue passed by value goes
  // through the stack, where copying its type's word back stalled every call (a one-byte store
  // read back as eight bytes).
  [[nodiscard]] virtual const void* Resolve(std::string_view name) { return nullptr; }
  [[nodiscard]] virtual uint64_t resolve_scope() const { return 0; }
  virtual void EmitResolved(const void* handle, std::string_view name, std::string_view text,
                            ValueType type) {
    Emit(name, FieldValue{text, type});
  }
};

// Winlogbeat's JSON (Elastic's Windows shipper, in ECS): a Windows event's own names are under
// the top-level "winlog" object. Its event_data (and user_data) children are named as EVTX
// EventData's; these keys of it take their Windows names (channel: Channel, event_id: EventID,
// provider_name: Provider_Name...), so Sigma rules read Winlogbeat's events as they read EVTX;
// its other keys keep their path ("winlog.task"). Empty for those.
[[nodiscard]] std::string_view WinlogWindowsName(std::string_view key);

// The names an event time is taken from, best first: the event time is the first found of
// them, in this order.
inline constexpr std::string_view TIME_NAMES[] = {"TimeCreated_SystemTime", "UtcTime",
                                                  "@timestamp", "timestamp", "TimeCreated"};
// The name's place in TIME_NAMES (lower is better), or -1 for other names.
[[nodiscard]] int TimeRank(std::string_view name);
inline constexpr int TIME_RANK_SYSLOG = 5;
inline constexpr int TIME_RANK_WEB = 6;
static_assert(std::size(TIME_NAMES) <= TIME_RANK_SYSLOG);

// The names the sink wants, for lookups by string_view without touching the catalog's
// node-based map: one flat open-addressed table of (hash, name, field id, is-a-prefix). Most
// lookups on the hot path are misses (keys no rule reads), which cost one hash and one probe.
class NameTable {
 public:
  struct Entry {
    uint64_t hash = 0;
    uint32_t offset = 0;
    uint32_t length = UINT32_MAX;  // UINT32_MAX: empty slot
    FieldId id = NO_FIELD;         // NO_FIELD: only a prefix of wanted names
    bool prefix = false;           // some wanted name continues with '.'
    bool element = false;          // some wanted name continues with '_' (Provider_Name)
    int8_t time_rank = -1;         // TimeRank of the name
  };

  // `names[i]` has FieldId i; their dotted prefixes are added as prefixes.
  void Build(const FieldCatalog& catalog);
  // Not thread-safe: lookups remember their answers. Inline: a hit is a few instructions, and
  // a JSON record makes about forty lookups.
  [[nodiscard]] const Entry* Find(std::string_view name) const {
    const size_t length = name.size();
    if (length == 0 || length > MAX_RECENT_LENGTH) return FindInTable(name);
    const auto byte = [&](size_t at) {
      return static_cast<size_t>(static_cast<uint8_t>(name[at]));
    };
    const size_t index =
        (length * 37 + byte(0) * 5 + byte(length / 2) * 11 + byte(length - 1) * 3) % RECENT_SETS;
    RecentSet& set = recent_[index];
    if (set.ways[0].length == length && SameShortBytes(set.ways[0].text, name.data(), length))
      return EntryAt(set.ways[0].entry);
    if (set.ways[1].length == length && SameShortBytes(set.ways[1].text, name.data(), length))
      return EntryAt(set.ways[1].entry);
    return Remember(set, name);
  }

 private:
  Entry& Insert(std::string_view name, uint64_t hash);
  const Entry* FindInTable(std::string_view name) const;

  // The answers for the names looked up last, in sets of two chosen by a cheap index of length
  // and three bytes: the keys of one kind of record recur in every record, and a hit costs one
  // or two inline compares in one cache line of a 16 KB table instead of a hash and a probe of
  // the whole table. Two ways, the newer first: with one way, names of the same records that
  // shared a slot evicted each other on every record (a quarter of the lookups of the
  // standard corpus missed; one in a thousand now). A set is one cache line, because the
  // table does not stay in the first-level cache from record to record (matching in between
  // evicts it): a lookup misses at most once. (Fetching the sets of the record before when the
  // next one begins made no measurable difference, and was left out.)
  static constexpr size_t MAX_RECENT_LENGTH = 27;
  static constexpr size_t RECENT_SETS = 256;
  static constexpr uint32_t NO_ENTRY = UINT32_MAX;
  struct Recent {
    uint8_t length = UINT8_MAX;  // UINT8_MAX: empty
    char text[MAX_RECENT_LENGTH];
    uint32_t entry = NO_ENTRY;  // index into slots_, or NO_ENTRY: not in the table
  };
  struct alignas(64) RecentSet {
    Recent ways[2];
  };
  static_assert(sizeof(RecentSet) == 64);

  // Looks `name` up in the table and puts the answer first in `set`.
  const Entry* Remember(RecentSet& set, std::string_view name) const;
  [[nodiscard]] const Entry* EntryAt(uint32_t index) const {
    return index == NO_ENTRY ? nullptr : &slots_[index];
  }

  std::vector<Entry> slots_;
  std::string names_;
  uint64_t mask_ = 0;
  mutable std::vector<RecentSet> recent_;
};

class EventSink final : public FieldEmitter {
 public:
  explicit EventSink(const FieldCatalog& catalog);

  void Begin(Event& event) {
    event_ = &event;
    time_rank_ = INT_MAX;
    fallback_rank_ = INT_MAX;
  }
  // The table holds every time name (NameTable::Build), so a name it does not hold has no
  // time rank.
  void Emit(std::string_view name, FieldValue value) override {
    const NameTable::Entry* entry = names_.Find(name);
    if (entry == nullptr) entry = &NOT_WANTED;
    Add(entry->id, entry->time_rank, value);
  }
  // The handle is the name's table entry, or an entry of no field for a name not wanted.
  // (Its time rank comes with it: a name emitted record after record is not ranked each time.)
  [[nodiscard]] const void* Resolve(std::string_view name) override {
    const NameTable::Entry* entry = names_.Find(name);
    return entry != nullptr ? entry : &NOT_WANTED;
  }
  [[nodiscard]] uint64_t resolve_scope() const override { return scope_; }
  void EmitResolved(const void* handle, std::string_view name, std::string_view text,
                    ValueType type) override {
    if (handle == nullptr) {
      Emit(name, FieldValue{text, type});
      return;
    }
    const auto* entry = static_cast<const NameTable::Entry*>(handle);
    Add(entry->id, entry->time_rank, FieldValue{text, type});
  }
  // `rank`: the name's TimeRank. Always inlined, as Event::Add is: a value passed by value
  // through the stack is a store-forwarding stall.
  [[gnu::always_inline]] void Add(FieldId id, int rank, FieldValue value) {
    if (id != NO_FIELD) event_->Add(id, value);
    if (all_values_ && value.type != ValueType::kNull && value.type != ValueType::kObject &&
        value.type != ValueType::kArray) {
      event_->AddToAllValues(value);
    }
    if (rank >= 0) OfferTime(value.text, rank);
  }
  [[nodiscard]] const NameTable::Entry* Lookup(std::string_view name) const {
    return names_.Find(name);
  }
  // Whether a value that is not stored under a field is still wanted (keywords, event time),
  // given its name's TimeRank.
  [[nodiscard]] bool WantsUnlisted(int rank) const { return all_values_ || rank >= 0; }
  [[nodiscard]] bool Wants(std::string_view name) const override {
    const NameTable::Entry* entry = names_.Find(name);
    return all_values_ || (entry != nullptr && (entry->id != NO_FIELD || entry->time_rank >= 0));
  }
  // Whether some wanted name lies below `prefix` ("a.b" is below "a").
  [[nodiscard]] bool WantsChildren(std::string_view prefix) const {
    if (all_values_) return true;
    const NameTable::Entry* entry = names_.Find(prefix);
    return entry != nullptr && entry->prefix;
  }
  // Whether an evtx_dump System element (an object of "#text" and "#attributes") is read: as
  // itself, as Element_Attribute, or for the event time. Most are not (Execution, Security,
  // Correlation) and are skipped whole.
  [[nodiscard]] bool WantsElement(std::string_view element) const {
    if (all_values_ || element == "TimeCreated") return true;  // TimeCreated_SystemTime: TimeRank
    const NameTable::Entry* entry = names_.Find(element);
    return entry != nullptr && (entry->id != NO_FIELD || entry->element);
  }
  [[nodiscard]] bool all_values() const { return all_values_; }
  // Whether the next events collect every value (only if some rule has keywords at all): the
  // scanner turns it off for records that cannot hold any keyword.
  void set_all_values(bool on) { all_values_ = on && catalog_.wants_all_values(); }
  // The best time becomes the event's time, the one before it (or the next best) its fallback.
  void OfferTime(std::string_view text, int rank) override {
    if (text.empty() || rank >= fallback_rank_) return;
    if (rank < time_rank_) {
      fallback_rank_ = time_rank_;
      event_->time_fallback = event_->time;
      time_rank_ = rank;
      event_->time = text;
    } else if (rank > time_rank_) {
      fallback_rank_ = rank;
      event_->time_fallback = text;
    }
  }
  [[nodiscard]] const FieldCatalog& catalog() const { return catalog_; }
  [[nodiscard]] Event& event() { return *event_; }

 private:
  static constexpr NameTable::Entry NOT_WANTED{};  // id NO_FIELD, no time rank
  static uint64_t NextScope();
  const uint64_t scope_ = NextScope();  // unique to this sink: its entries are its own
  const FieldCatalog& catalog_;
  bool all_values_;
  NameTable names_;
  Event* event_ = nullptr;
  int time_rank_ = INT_MAX;
  int fallback_rank_ = INT_MAX;
};

class JsonFlattener {
 public:
  explicit JsonFlattener(EventSink& sink);

  // Flattens the JSON object in `json` (followed by at least SIMDJSON_PADDING readable bytes)
  // into the sink's event. Unescaped strings are copied to the event's arena.
  [[nodiscard]] simdjson::error_code Flatten(std::string_view json);

 private:
  using Value = simdjson::ondemand::value;
  using Object = simdjson::ondemand::object;

  simdjson::error_code FlattenObject(Object object, size_t prefix_length, bool nested);
  // Values by reference: a copy passed through the stack was loaded back at once (store
  // forwarding), on every member.
  simdjson::error_code FlattenValue(Value& value, bool nested);
  simdjson::error_code FlattenArray(simdjson::ondemand::array array, FieldId id, bool nested);
  // `rank`: the TimeRank of name_.
  simdjson::error_code Leaf(Value& value, simdjson::ondemand::json_type type, FieldId id,
                            int rank);
  simdjson::error_code ScalarText(Value& value, simdjson::ondemand::json_type type,
                                  FieldValue& out);
  simdjson::error_code FlattenWindowsEvent(Object event);
  simdjson::error_code FlattenWinlog(Object winlog);
  simdjson::error_code FlattenSystem(Value& system);
  simdjson::error_code FlattenEventData(Value& event_data);
  simdjson::error_code FlattenUserData(Value& user_data);
  simdjson::error_code FlattenUserElement(Value& element);
  simdjson::error_code FlattenAttributes(Value& attributes, std::string_view element,
                                         bool skip_xmlns);

  EventSink& sink_;
  simdjson::ondemand::parser parser_;
  simdjson::ondemand::parser nested_parser_;  // re-reads an object kept whole as a value
  std::string name_;                          // the flattened name being built
  std::string scratch_;
};

// Appends `value` as a JSON value: numbers and booleans bare when they are valid JSON literals
// (numbers also within what 64-bit integers and doubles hold), null for kNull, kObject/kArray
// raw, everything else as a string.
void AppendJsonValue(std::string& out, FieldValue value);

}  // namespace yagura::event

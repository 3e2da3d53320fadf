// JSON flattening with simdjson On-Demand. The walk builds each field's flattened name in one
// reusable buffer and asks the sink before touching a value: an unwanted scalar is never
// decoded, an object nobody reads below is skipped whole. Scalars are taken from the raw token
// (numbers as written, strings without escapes as views into the input); only strings with
// escapes are unescaped, and those are copied to the event's arena because simdjson's string
// buffer is reused by the next record.
#include "event/flatten.hpp"

#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <utility>

// Inlined: hashes of short keys and values on the hot path, where a call into the shared
// library cost more than the hashing.
#define XXH_INLINE_ALL
#include <xxhash.h>

#include "core/json_writer.hpp"
#include "core/short_compare.hpp"

namespace yagura::event {

using simdjson::SUCCESS;
using simdjson::ondemand::json_type;

namespace {

// A field's key as a view into the input when it has no escapes (almost always), so it is not
// copied into simdjson's string buffer; escaped keys are unescaped as usual.
[[gnu::always_inline]] inline simdjson::error_code Key(simdjson::ondemand::field& field,
                                                       std::string_view& out) {
  const char* start = field.key().raw();
  // Stage 1 has validated the string, so an unescaped closing quote follows. Keys are short:
  // one 32-byte compare finds the quote and any backslash before it, where a loop byte by byte
  // mispredicted its exit on every key. The document's padding covers the read.
  const __m256i bytes = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(start));
  const auto quotes = static_cast<uint32_t>(
      _mm256_movemask_epi8(_mm256_cmpeq_epi8(bytes, _mm256_set1_epi8('"'))));
  const auto backslashes = static_cast<uint32_t>(
      _mm256_movemask_epi8(_mm256_cmpeq_epi8(bytes, _mm256_set1_epi8('\\'))));
  if (quotes != 0) {
    const unsigned length = static_cast<unsigned>(__builtin_ctz(quotes));
    if ((backslashes & ((1u << length) - 1)) != 0) return field.unescaped_key().get(out);
    out = std::string_view(start, length);
    return SUCCESS;
  }
  const char* end = start;
  while (*end != '"') {
    if (*end == '\\') return field.unescaped_key().get(out);
    ++end;
  }
  out = std::string_view(start, static_cast<size_t>(end - start));
  return SUCCESS;
}

// What an iteration's result holds (a member or an element; its error already checked), used
// where it lies. Taken out with get(), a member was copied in one 16-byte load from the smaller
// stores that had just built it: a store-forwarding stall on every member of every object (two
// fifths of the walk's time in the evtx_dump shape).
template <typename T>
T& Inside(simdjson::simdjson_result<T>& result) {
  T&& inside = std::move(result).value_unsafe();
  return inside;
}

}  // namespace

int TimeRank(std::string_view name) {
  for (size_t rank = 0; rank < std::size(TIME_NAMES); ++rank) {
    if (name == TIME_NAMES[rank]) return static_cast<int>(rank);
  }
  return -1;
}

void NameTable::Build(const FieldCatalog& catalog) {
  size_t wanted = 16;
  for (FieldId id = 0; id < catalog.size(); ++id) {
    wanted += 1;
    for (char c : catalog.Name(id)) wanted += c == '.' ? 1 : 0;
  }
  size_t capacity = 64;
  while (capacity < wanted * 2) capacity *= 2;
  slots_.assign(capacity, Entry{});
  mask_ = capacity - 1;
  names_.clear();
  recent_.assign(RECENT_SETS, RecentSet{});
  // The names of event times, wanted or not, so that a lookup answers for a name's rank too
  // (which is why TimeRank itself need not be fast).
  for (std::string_view time_name : TIME_NAMES) {
    Insert(time_name, XXH3_64bits(time_name.data(), time_name.size()));
  }
  for (FieldId id = 0; id < catalog.size(); ++id) {
    std::string_view name = catalog.Name(id);
    Insert(name, XXH3_64bits(name.data(), name.size())).id = id;
    for (size_t dot = name.find('.'); dot != std::string_view::npos; dot = name.find('.', dot + 1)) {
      if (dot == 0) continue;
      std::string_view prefix = name.substr(0, dot);
      Insert(prefix, XXH3_64bits(prefix.data(), prefix.size())).prefix = true;
    }
    if (const size_t underscore = name.find('_'); underscore != std::string_view::npos && underscore > 0) {
      std::string_view element = name.substr(0, underscore);
      Insert(element, XXH3_64bits(element.data(), element.size())).element = true;
    }
  }
}

NameTable::Entry& NameTable::Insert(std::string_view name, uint64_t hash) {
  for (uint64_t i = hash & mask_;; i = (i + 1) & mask_) {
    Entry& slot = slots_[i];
    if (slot.length == UINT32_MAX) {
      slot.hash = hash;
      slot.offset = static_cast<uint32_t>(names_.size());
      slot.length = static_cast<uint32_t>(name.size());
      slot.time_rank = static_cast<int8_t>(TimeRank(name));
      names_.append(name);
      return slot;
    }
    if (slot.hash == hash && slot.length == name.size() &&
        std::memcmp(names_.data() + slot.offset, name.data(), name.size()) == 0) {
      return slot;
    }
  }
}

// Out of line, so that a hit saves and restores few registers.
[[gnu::noinline]] const NameTable::Entry* NameTable::Remember(RecentSet& set,
                                                              std::string_view name) const {
  // The name goes first, the first way becomes the second, and the second is forgotten.
  set.ways[1] = set.ways[0];
  Recent& recent = set.ways[0];
  const Entry* entry = FindInTable(name);
  recent.entry = entry == nullptr ? NO_ENTRY : static_cast<uint32_t>(entry - slots_.data());
  recent.length = static_cast<uint8_t>(name.size());
  std::memcpy(recent.text, name.data(), name.size());
  return entry;
}

[[gnu::noinline]] const NameTable::Entry* NameTable::FindInTable(std::string_view name) const {
  if (slots_.empty()) return nullptr;
  uint64_t hash = XXH3_64bits(name.data(), name.size());
  for (uint64_t i = hash & mask_;; i = (i + 1) & mask_) {
    const Entry& slot = slots_[i];
    if (slot.length == UINT32_MAX) return nullptr;
    if (slot.hash == hash && slot.length == name.size() &&
        std::memcmp(names_.data() + slot.offset, name.data(), name.size()) == 0) {
      return &slot;
    }
  }
}

uint64_t EventSink::NextScope() {
  static std::atomic<uint64_t> sinks{0};
  return sinks.fetch_add(1, std::memory_order_relaxed) + 1;
}

EventSink::EventSink(const FieldCatalog& catalog)
    : catalog_(catalog), all_values_(catalog.wants_all_values()) {
  names_.Build(catalog);
}

JsonFlattener::JsonFlattener(EventSink& sink) : sink_(sink) {
  name_.reserve(1024);
  scratch_.reserve(256);
}

simdjson::error_code JsonFlattener::Flatten(std::string_view json) {
  simdjson::ondemand::document document;
  auto error = parser_.iterate(json.data(), json.size(), json.size() + simdjson::SIMDJSON_PADDING)
                   .get(document);
  if (error) return error;
  Object object;
  if ((error = document.get_object().get(object))) return error;
  name_.clear();
  if ((error = FlattenObject(object, 0, false))) return error;
  // Anything but whitespace after the object is an error (the framer hands on one value).
  const char* trailing = nullptr;
  if (document.current_location().get(trailing) == SUCCESS) return simdjson::TRAILING_CONTENT;
  return SUCCESS;
}

simdjson::error_code JsonFlattener::FlattenObject(Object object, size_t prefix_length,
                                                  bool nested) {
  for (auto field_result : object) {
    SIMDJSON_TRY(field_result.error());
    simdjson::ondemand::field& field = Inside(field_result);
    std::string_view key;
    SIMDJSON_TRY(Key(field, key));
    if (prefix_length == 0 && !nested && (key == "Event" || key == "winlog")) {
      // evtx_dump's shape: the Windows names come from the element structure, not the path;
      // Winlogbeat's: from its winlog object's keys.
      json_type type;
      SIMDJSON_TRY(field.value().type().get(type));
      if (type == json_type::object) {
        Object event;
        SIMDJSON_TRY(field.value().get_object().get(event));
        SIMDJSON_TRY(key == "Event" ? FlattenWindowsEvent(event) : FlattenWinlog(event));
        continue;
      }
    }
    name_.resize(prefix_length);
    if (prefix_length > 0) name_.push_back('.');
    name_.append(key);
    SIMDJSON_TRY(FlattenValue(field.value(), nested));
  }
  return SUCCESS;
}

simdjson::error_code JsonFlattener::FlattenValue(Value& value, bool nested) {
  json_type type;
  SIMDJSON_TRY(value.type().get(type));
  const NameTable::Entry* entry = sink_.Lookup(name_);
  FieldId id = entry != nullptr ? entry->id : NO_FIELD;
  // Every time name is in the table, so a name not found is not one.
  const int rank = entry != nullptr ? entry->time_rank : -1;
  bool children = sink_.all_values() || (entry != nullptr && entry->prefix);
  switch (type) {
    case json_type::object: {
      if (id == NO_FIELD && !children) return SUCCESS;
      Object object;
      SIMDJSON_TRY(value.get_object().get(object));
      if (id == NO_FIELD) return FlattenObject(object, name_.size(), nested);
      // The object itself is read by some rule: keep its text, and re-read it for the fields
      // below it (only one level of re-reading; deeper cases are not worth a parser each).
      std::string_view raw;
      SIMDJSON_TRY(object.raw_json().get(raw));
      while (!raw.empty() && (raw.back() == ' ' || raw.back() == '\n' || raw.back() == '\r' ||
                              raw.back() == '\t')) {
        raw.remove_suffix(1);
      }
      sink_.Add(id, rank, FieldValue{raw, ValueType::kObject});
      if (!children || nested) return SUCCESS;
      simdjson::ondemand::document document;
      SIMDJSON_TRY(nested_parser_
                       .iterate(raw.data(), raw.size(), raw.size() + simdjson::SIMDJSON_PADDING)
                       .get(document));
      Object again;
      SIMDJSON_TRY(document.get_object().get(again));
      return FlattenObject(again, name_.size(), true);
    }
    case json_type::array: {
      if (id == NO_FIELD && !children && !sink_.WantsUnlisted(rank)) return SUCCESS;
      simdjson::ondemand::array array;
      SIMDJSON_TRY(value.get_array().get(array));
      return FlattenArray(array, id, nested);
    }
    default:
      if (id == NO_FIELD && !sink_.WantsUnlisted(rank)) return SUCCESS;
      return Leaf(value, type, id, rank);
  }
}

simdjson::error_code JsonFlattener::FlattenArray(simdjson::ondemand::array array, FieldId id,
                                                 bool nested) {
  // Every element is a value of the array's own field; object elements flatten below it.
  size_t length = name_.size();
  for (auto element_result : array) {
    SIMDJSON_TRY(element_result.error());
    name_.resize(length);
    Value& element = Inside(element_result);
    SIMDJSON_TRY(FlattenValue(element, nested));
  }
  name_.resize(length);
  return SUCCESS;
}

// Inlined into Leaf: returned through memory, the value was stored in pieces and loaded back
// whole, a store-forwarding stall on every value kept (a third of FlattenValue's time).
[[gnu::always_inline]] inline simdjson::error_code JsonFlattener::ScalarText(Value& value,
                                                                            json_type type,
                                                                            FieldValue& out) {
  std::string_view token;
  switch (type) {
    case json_type::string: {
      token = value.raw_json_token();
      while (!token.empty() && token.back() != '"') token.remove_suffix(1);
      if (token.size() < 2 || token.front() != '"') return simdjson::STRING_ERROR;
      std::string_view inner = token.substr(1, token.size() - 2);
      if (std::memchr(inner.data(), '\\', inner.size()) == nullptr) {
        out = {inner, ValueType::kString};
        return SUCCESS;
      }
      std::string_view unescaped;
      SIMDJSON_TRY(value.get_string().get(unescaped));
      out = {sink_.event().arena().Store(unescaped), ValueType::kString};
      return SUCCESS;
    }
    case json_type::number: {
      token = value.raw_json_token();
      size_t end = 0;
      while (end < token.size()) {
        char c = token[end];
        if ((c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E') {
          ++end;
        } else {
          break;
        }
      }
      for (size_t i = end; i < token.size(); ++i) {
        char c = token[i];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') return simdjson::NUMBER_ERROR;
      }
      token = token.substr(0, end);
      if (token.empty()) return simdjson::NUMBER_ERROR;
      // Only the leading grammar is cheap to check here; let simdjson judge the rest.
      simdjson::ondemand::number_type number_type;
      SIMDJSON_TRY(value.get_number_type().get(number_type));
      out = {token, ValueType::kNumber};
      return SUCCESS;
    }
    case json_type::boolean: {
      bool flag = false;
      SIMDJSON_TRY(value.get_bool().get(flag));
      out = {flag ? std::string_view("true") : std::string_view("false"), ValueType::kBool};
      return SUCCESS;
    }
    case json_type::null: {
      bool is_null = false;
      SIMDJSON_TRY(value.is_null().get(is_null));
      if (!is_null) return simdjson::N_ATOM_ERROR;
      out = {std::string_view(), ValueType::kNull};
      return SUCCESS;
    }
    default:
      return simdjson::INCORRECT_TYPE;
  }
}

simdjson::error_code JsonFlattener::Leaf(Value& value, json_type type, FieldId id, int rank) {
  FieldValue out;
  SIMDJSON_TRY(ScalarText(value, type, out));
  sink_.Add(id, rank, out);
  return SUCCESS;
}

// --- evtx_dump shape -----------------------------------------------------------------------
//
// Keys of `Event`: System (children by name, "#attributes" as Element_Attribute, "#text" as
// the element), EventData (names without spaces), UserData (the wrapper's children by name),
// anything else flattened as an ordinary path ("Event.RenderingInfo.Message"), so an "Event"
// object of some other JSON source keeps its own names below it.
// Key views from unescaped_key() stay valid for the whole document, so they can be reused to
// rebuild names after descending.

namespace {

// Calls visit(key, value) for each member of `object`; stops at the first error.
template <typename Visit>
simdjson::error_code ForEachMember(simdjson::ondemand::object object, Visit&& visit) {
  for (auto member_result : object) {
    SIMDJSON_TRY(member_result.error());
    simdjson::ondemand::field& member = Inside(member_result);
    std::string_view key;
    SIMDJSON_TRY(Key(member, key));
    SIMDJSON_TRY(visit(key, member.value()));
  }
  return SUCCESS;
}

// Whether `value` is an object, and if so the object in `out`.
simdjson::error_code AsObject(simdjson::ondemand::value& value, bool& is_object,
                              simdjson::ondemand::object& out) {
  json_type type;
  SIMDJSON_TRY(value.type().get(type));
  is_object = type == json_type::object;
  if (!is_object) return SUCCESS;
  return value.get_object().get(out);
}

}  // namespace

simdjson::error_code JsonFlattener::FlattenWindowsEvent(Object event) {
  return ForEachMember(event, [&](std::string_view key, Value& value) -> simdjson::error_code {
    if (key == "System") return FlattenSystem(value);
    if (key == "EventData") return FlattenEventData(value);
    if (key == "UserData") return FlattenUserData(value);
    if (key.empty() || key[0] == '#') return SUCCESS;
    name_.assign("Event.");
    name_.append(key);
    return FlattenValue(value, false);
  });
}

std::string_view WinlogWindowsName(std::string_view key) {
  static constexpr std::pair<std::string_view, std::string_view> NAMES[] = {
      {"channel", "Channel"},
      {"event_id", "EventID"},
      {"provider_name", "Provider_Name"},
      {"provider_guid", "Provider_Guid"},
      {"computer_name", "Computer"},
      {"record_id", "EventRecordID"},
      {"version", "Version"},
      {"activity_id", "Correlation_ActivityID"},
  };
  for (const auto& [winlog, windows] : NAMES)
    if (key == winlog) return windows;
  return {};
}

simdjson::error_code JsonFlattener::FlattenWinlog(Object winlog) {
  return ForEachMember(winlog, [&](std::string_view key, Value& value) -> simdjson::error_code {
    if (key == "event_data" || key == "user_data") return FlattenEventData(value);
    if (const std::string_view windows = WinlogWindowsName(key); !windows.empty()) {
      name_.assign(windows);
    } else {
      name_.assign("winlog.");
      name_.append(key);
    }
    return FlattenValue(value, false);
  });
}

// "#attributes" of an element: each as element_attribute (namespace declarations left out
// where `skip_xmlns`).
simdjson::error_code JsonFlattener::FlattenAttributes(Value& attributes, std::string_view element,
                                                      bool skip_xmlns) {
  bool is_object;
  Object object;
  SIMDJSON_TRY(AsObject(attributes, is_object, object));
  if (!is_object) return SUCCESS;
  return ForEachMember(object, [&](std::string_view attribute, Value& value) {
    if (skip_xmlns && attribute.substr(0, 5) == "xmlns") return SUCCESS;
    name_.assign(element);
    name_.push_back('_');
    name_.append(attribute);
    return FlattenValue(value, false);
  });
}

simdjson::error_code JsonFlattener::FlattenSystem(Value& system) {
  bool is_object;
  Object object;
  SIMDJSON_TRY(AsObject(system, is_object, object));
  if (!is_object) return SUCCESS;
  return ForEachMember(object, [&](std::string_view element, Value& child) {
    bool child_is_object;
    Object parts;
    SIMDJSON_TRY(AsObject(child, child_is_object, parts));
    if (!child_is_object) {
      name_.assign(element);
      return FlattenValue(child, false);
    }
    if (!sink_.WantsElement(element)) return SUCCESS;  // On-Demand steps over it
    return ForEachMember(parts, [&](std::string_view part_key, Value& part) {
      if (part_key == "#text") {
        name_.assign(element);
        return FlattenValue(part, false);
      }
      if (part_key == "#attributes") return FlattenAttributes(part, element, false);
      return SUCCESS;
    });
  });
}

simdjson::error_code JsonFlattener::FlattenEventData(Value& event_data) {
  bool is_object;
  Object object;
  SIMDJSON_TRY(AsObject(event_data, is_object, object));
  if (!is_object) return SUCCESS;
  return ForEachMember(object, [&](std::string_view key, Value& child) {
    if (key.empty() || key[0] == '#') return SUCCESS;
    // Defender writes "Threat Name"; Sigma rules say ThreatName.
    if (key.find(' ') == std::string_view::npos) {
      name_.assign(key);
    } else {
      name_.clear();
      for (char c : key) {
        if (c != ' ') name_.push_back(c);
      }
    }
    bool child_is_object;
    Object parts;
    SIMDJSON_TRY(AsObject(child, child_is_object, parts));
    if (!child_is_object) return FlattenValue(child, false);
    // {"#text": ...} carries the element's text (unnamed Data elements); attributes are dropped.
    const size_t length = name_.size();
    return ForEachMember(parts, [&](std::string_view part_key, Value& part) {
      if (part_key != "#text") return SUCCESS;
      name_.resize(length);
      return FlattenValue(part, false);
    });
  });
}

simdjson::error_code JsonFlattener::FlattenUserData(Value& user_data) {
  bool is_object;
  Object object;
  SIMDJSON_TRY(AsObject(user_data, is_object, object));
  if (!is_object) return SUCCESS;
  return ForEachMember(object, [&](std::string_view wrapper_name, Value& content) {
    if (wrapper_name.empty() || wrapper_name[0] == '#') return SUCCESS;
    bool content_is_object;
    Object children;
    SIMDJSON_TRY(AsObject(content, content_is_object, children));
    if (!content_is_object) {
      name_.assign(wrapper_name);
      return FlattenValue(content, false);
    }
    return ForEachMember(children, [&](std::string_view child_name, Value& child) {
      if (child_name.empty() || child_name[0] == '#') return SUCCESS;
      name_.assign(child_name);
      return FlattenUserElement(child);
    });
  });
}

// name_ holds the element's name. Deeper elements are named by their own element name.
simdjson::error_code JsonFlattener::FlattenUserElement(Value& element) {
  bool is_object;
  Object parts;
  SIMDJSON_TRY(AsObject(element, is_object, parts));
  if (!is_object) return FlattenValue(element, false);
  // The key view must survive name_ being reused below: copy it to the arena (no heap).
  std::string_view own = sink_.event().arena().Store(name_);
  return ForEachMember(parts, [&](std::string_view part_key, Value& part) {
    if (part_key == "#text") {
      name_.assign(own);
      return FlattenValue(part, false);
    }
    if (part_key == "#attributes") return FlattenAttributes(part, own, true);
    if (part_key.empty()) return SUCCESS;
    name_.assign(part_key);
    return FlattenUserElement(part);
  });
}

// --- JSON text output ----------------------------------------------------------------------

namespace {

// Whether `text` may be written as a bare JSON number: the JSON grammar, and a magnitude every
// common parser reads. RFC 8259 leaves the range to implementations; simdjson (and so Yagura's
// own readers of alert files) refuses integers beyond 64 bits, and doubles overflow past about
// 1e308. A web log's 90-digit status field is written as a string instead, which every reader
// takes, and which rules match the same way (they read the parsed value, not this text).
bool IsPortableJsonNumber(std::string_view text) {
  constexpr size_t MAX_INTEGER_DIGITS = 18;  // below 10^18: within int64 with either sign
  constexpr int MAX_EXPONENT = 300;
  size_t i = 0;
  auto digit = [&](size_t k) { return k < text.size() && text[k] >= '0' && text[k] <= '9'; };
  if (i < text.size() && text[i] == '-') ++i;
  if (!digit(i)) return false;
  const size_t integer_start = i;
  if (text[i] == '0') {
    ++i;
  } else {
    while (digit(i)) ++i;
  }
  const size_t integer_digits = i - integer_start;
  if (integer_digits > MAX_INTEGER_DIGITS) return false;
  if (i < text.size() && text[i] == '.') {
    ++i;
    if (!digit(i)) return false;
    while (digit(i)) ++i;
  }
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    const bool negative = i < text.size() && text[i] == '-';
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) ++i;
    if (!digit(i)) return false;
    int exponent = 0;
    while (digit(i)) {
      exponent = std::min(exponent * 10 + (text[i] - '0'), MAX_EXPONENT + 1);
      ++i;
    }
    // The magnitude is about 10^(integer digits + exponent).
    if (exponent > MAX_EXPONENT) return false;
    if (!negative && integer_digits + static_cast<size_t>(exponent) > MAX_EXPONENT) return false;
  }
  return i == text.size();
}

}  // namespace


void AppendJsonValue(std::string& out, FieldValue value) {
  switch (value.type) {
    case ValueType::kNumber:
      if (IsPortableJsonNumber(value.text)) {
        out.append(value.text);
        return;
      }
      break;
    case ValueType::kBool:
      if (value.text == "true" || value.text == "false") {
        out.append(value.text);
        return;
      }
      break;
    case ValueType::kNull:
      out.append("null");
      return;
    case ValueType::kObject:
    case ValueType::kArray:
      if (!value.text.empty()) {
        out.append(value.text);
        return;
      }
      break;
    case ValueType::kString:
      break;
  }
  AppendJsonString(out, value.text);
}

}  // namespace yagura::event

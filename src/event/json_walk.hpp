// JsonWalker: the fast path of JsonFlattener. It flattens a JSON object straight from its
// bytes, in one pass and without simdjson's structural index or On-Demand cursor, into the
// same names and values JsonFlattener gives (docs/sigma-spec.md section 11, the evtx_dump
// shape).
//
// It covers well-formed JSON whose keys have no escapes and whose strings have no \u escapes,
// numbers without exponents of at most 18 digits before and after the point, and nesting up to
// 64 levels. Anything else, malformed input included, it declines, and JsonFlattener parses the
// record again with simdjson. It validates everything it steps over, skipped values too
// (strings as UTF-8 without control characters, numbers and literals by the grammar), so what it
// accepts is valid JSON, and it flattens that exactly as the simdjson path does: tests and the
// event fuzz harness parse each record both ways and compare the events.
//
// Why: the simdjson path reads an event three times (the framer, simdjson's stage 1, the
// On-Demand walk), and stage 1 and the cursor's bookkeeping were a fifth of reading the
// standard corpus. Internal to src/event; one per JsonFlattener (not thread-safe).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "event/flatten.hpp"

namespace yagura::event {

class JsonWalker {
 public:
  explicit JsonWalker(EventSink& sink);

  // Flattens the object in `json` (followed by at least RECORD_PADDING readable bytes) into the
  // sink's event. False: declined; the event may hold part of the record and must be cleared.
  [[nodiscard]] bool Flatten(std::string_view json);

 private:
  // Each step takes the position of a value's first byte and returns the position just past
  // the value, or nullptr to decline. Positions stay in registers that way; `end_` bounds them.
  const char* FlattenObject(const char* at, size_t prefix_length, bool nested);
  const char* FlattenValue(const char* at, bool nested);
  // FlattenValue(at, false) for the value named `name` (a key, or an element's name): the name
  // goes into name_ only when the value is an object or array, whose fields' names build on it.
  const char* FlattenNamed(const char* at, std::string_view name);
  const char* FlattenArray(const char* at, bool nested);
  const char* Leaf(const char* at, FieldId id, int rank);
  const char* Skip(const char* at);
  const char* FlattenWindowsEvent(const char* at);
  const char* FlattenWinlog(const char* at);
  const char* FlattenSystem(const char* at);
  const char* FlattenEventData(const char* at);
  const char* FlattenUserData(const char* at);
  const char* FlattenUserElement(const char* at);
  const char* FlattenAttributes(const char* at, std::string_view element, bool skip_xmlns);

  // Calls visit(key, value position) for each member of the object at `at` ('{'); visit
  // returns the position past the value. Returns the position past the object.
  template <typename Visit>
  const char* Members(const char* at, Visit&& visit);
  template <typename Visit>
  const char* Elements(const char* at, Visit&& visit);
  // The text of the string between `at` ('"') and `close`, unescaped into the event's arena.
  std::string_view Unescape(const char* at, const char* close);

  EventSink& sink_;
  const char* end_ = nullptr;  // the end of the record's bytes
  int depth_ = 0;              // objects and arrays open
  std::string name_;           // the flattened name being built
};

}  // namespace yagura::event

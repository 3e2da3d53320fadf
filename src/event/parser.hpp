// EventParser: one Record -> one Event with Sigma field names, classified by logsource.
//
// JSON records are walked byte by byte (json_walk.hpp), and parsed with simdjson On-Demand when
// the walk declines them (malformed or unusual JSON); nested objects are flattened to dotted paths
// (a key that itself contains dots, as Zeek writes `id.orig_h`, yields the same dotted name).
// The evtx_dump shape {"Event": {"System", "EventData", "UserData"}} is flattened to the Sigma
// names of Windows events (docs/sigma-spec.md section 11): System children by element name,
// System attributes as Element_Attribute, EventData names with spaces removed, UserData
// grandchildren by name. EVTX records arrive as XML and are flattened the same way. Syslog and
// web access lines are split into their header fields and message.
// Only fields interned in the FieldCatalog are stored; the catalog must be complete when the
// parser is built (it precomputes its lookup table and the prefixes of dotted names). Not
// thread-safe: one parser per thread. Field naming of each format: src/event/flatten.hpp (JSON),
// evtx_xml.hpp (EVTX), syslog.hpp, web_access.hpp; text lines have the single field `message`.
// Event values stay valid while the record's bytes do, and until the event is parsed into again.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "core/result.hpp"
#include "event/event.hpp"
#include "event/field_catalog.hpp"
#include "event/logsource.hpp"
#include "event/logsource_mapping.hpp"
#include "event/record.hpp"

namespace yagura::event {

class EventParser {
 public:
  // `declared` is the --logsource of the scan: the class given to events whose source cannot
  // be recognised from their content.
  EventParser(const FieldCatalog& catalog, const LogsourceMapping& mapping,
              std::optional<Logsource> declared = std::nullopt);
  ~EventParser();
  EventParser(const EventParser&) = delete;
  EventParser& operator=(const EventParser&) = delete;

  // Parses `record` into `event`. On failure the event is unusable and the error says why
  // (the caller adds the location).
  [[nodiscard]] Result<void> Parse(const Record& record, Event& event);

  // Whether Parse() collects every value of the event for keyword searches (on by default when
  // some rule has keywords). Off, only the fields rules name are extracted.
  void SetCollectAllValues(bool on);

  // Off: every JSON record is parsed with simdjson, as if the walk had declined it (tests hold
  // the two to the same events).
  void SetJsonWalk(bool on);
  // JSON records the walk declined so far (they were parsed with simdjson).
  [[nodiscard]] uint64_t json_walk_declined() const;

  // The whole record as one JSON object, for alert output: JSON records as they were, EVTX in
  // the evtx_dump shape, syslog and access lines as an object of their parsed fields.
  [[nodiscard]] std::string ToJson(const Record& record);
  // The same, written over `out`, whose storage is reused.
  void ToJson(const Record& record, std::string& out);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace yagura::event

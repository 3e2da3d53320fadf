// DuplicateRecords: whether a record of a collection is a copy of one read before
// (`yagura scan --skip-duplicate-records`).
//
// Collected logs often hold the same records twice: a live Security.evtx beside its backup or
// an archived copy, logs taken from shadow copies, a host's logs exported twice. Each copy of a
// record raises the same alerts again, and, worse, counts twice in correlations ("five failed
// logons" from two copies of three). A Windows record is the same record wherever it is found
// when its channel, computer and EventRecordID are the same; that holds within one file too
// (recovered records repeat live ones). A record without an EventRecordID (syslog, JSON lines
// of other tools) is a copy when the same bytes were read from another file: within one file,
// two identical lines are two events (the same message twice in one second).
//
// Only alerting records are asked about, so the memory is that of the alerts, not of the
// input: 24 bytes a distinct alerting record. Keys are 128-bit hashes; a collision among a
// billion records has a chance of about 10^-21.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>

#include "event/event.hpp"
#include "event/field_catalog.hpp"

namespace yagura::scan {

class DuplicateRecords {
 public:
  // Interns the fields a Windows record is known by (before the event parser is built).
  explicit DuplicateRecords(event::FieldCatalog& catalog);

  // Whether `event`, read from input file `file_index`, is a copy of a record asked about
  // before; if not, it is remembered.
  bool SeenBefore(const event::Event& event, uint32_t file_index);

  [[nodiscard]] size_t remembered() const { return seen_.size(); }

 private:
  struct Key {
    uint64_t low = 0;
    uint64_t high = 0;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    size_t operator()(const Key& key) const { return key.low; }  // already a hash
  };
  static constexpr uint32_t ANY_FILE = UINT32_MAX;  // a Windows record: a copy in any file

  event::FieldId record_id_;
  event::FieldId channel_;
  event::FieldId computer_;
  std::string key_bytes_;                            // reused for each record's key
  std::unordered_map<Key, uint32_t, KeyHash> seen_;  // the file of the first copy, or ANY_FILE
};

}  // namespace yagura::scan

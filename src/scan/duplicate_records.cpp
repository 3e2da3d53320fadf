// DuplicateRecords (see duplicate_records.hpp).
#include "scan/duplicate_records.hpp"

#include <xxhash.h>

namespace yagura::scan {

DuplicateRecords::DuplicateRecords(event::FieldCatalog& catalog)
    : record_id_(catalog.Intern("EventRecordID")),
      channel_(catalog.Intern("Channel")),
      computer_(catalog.Intern("Computer")) {}

bool DuplicateRecords::SeenBefore(const event::Event& event, uint32_t file_index) {
  const event::FieldValue* record_id = event.First(record_id_);
  uint32_t scope = file_index;
  key_bytes_.clear();
  if (record_id != nullptr && !record_id->text.empty()) {
    // Each part followed by a byte no name or number holds, so that parts cannot run together.
    for (const event::FieldValue* part :
         {event.First(channel_), event.First(computer_), record_id}) {
      if (part != nullptr) key_bytes_.append(part->text);
      key_bytes_.push_back('\0');
    }
    scope = ANY_FILE;
  } else {
    key_bytes_.push_back('\1');  // raw bytes never meet a Windows key
    key_bytes_.append(event.raw);
  }
  const XXH128_hash_t hash = XXH3_128bits(key_bytes_.data(), key_bytes_.size());
  auto [entry, inserted] = seen_.try_emplace(Key{hash.low64, hash.high64}, scope);
  if (inserted) return false;
  // A Windows record repeats in any file; other bytes only in another file than the first.
  return entry->second == ANY_FILE || entry->second != file_index;
}

}  // namespace yagura::scan

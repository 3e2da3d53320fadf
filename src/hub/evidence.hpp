// Evidence of an investigation and its chain of custody.
//
// An item of evidence is registered with what identifies it (label, kind, where and from whom it
// came, who acquired it and how, its hashes and size) and who holds it. A disk image of hundreds
// of gigabytes stays in the evidence store it was made to; what the centre keeps is its record.
// A file small enough for the API (a log collection, a sample, a document) may also be stored,
// and then its SHA-256 is the centre's own computation.
//
// Every change of hands and every look at an item is a custody event, appended and never
// altered: acquired (at registration), transferred, checked_out, checked_in, examined, verified,
// copied, sealed, unsealed, content_added and accessed (written by the centre itself when a file
// is stored or downloaded), released (returned to its owner) and destroyed (disposed of; a
// stored file is deleted, its hashes stay). After released or destroyed nothing more is
// recorded. Each event carries the SHA-256 of its predecessor and its own hash over all its
// fields, so VerifyEvidence finds an altered, removed or reordered event, and a registration
// whose hashes were changed afterwards.
//
// Events are recorded in the order things happened: an event's time is not before the
// previous event's, nor more than five minutes ahead of the centre's clock. `verified` records
// the SHA-256 someone computed from the item; it is compared with the registered one and the
// outcome ("match", "mismatch", or "established" when none was registered) is recorded either
// way: a mismatch is a fact of the investigation, not an input error.
//
// Access and transactions as for the case (hub/cases.hpp): members read, leads and members
// record, nothing changes on a closed case.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "hub/cases.hpp"

namespace yagura::hub {

// disk_image, memory_image, log_collection, network_capture, mobile_device, document,
// malware_sample, physical_device, other.
std::span<const std::string_view> EvidenceKindNames();
// in_custody, checked_out, released, destroyed.
std::span<const std::string_view> EvidenceStatusNames();
// Every custody action, and those a person records (the others the centre writes itself).
std::span<const std::string_view> CustodyActionNames();
std::span<const std::string_view> RecordableCustodyActionNames();

inline constexpr size_t EVIDENCE_LABEL_MAX = 200;
inline constexpr size_t EVIDENCE_FIELD_MAX = 500;  // holder, location, method, host, seal
inline constexpr size_t EVIDENCE_PER_CASE_MAX = 10000;
// How far ahead of the centre's clock a custody event may be dated (clock skew of a laptop).
inline constexpr int64_t CUSTODY_CLOCK_SKEW_MS = 5 * 60 * 1000;

struct EvidenceRegistration {
  std::string label;
  std::string description;
  std::string kind;
  std::optional<std::string> source_org_id;
  std::optional<std::string> source_host;
  int64_t acquired_at = 0;
  std::string acquired_by;  // a person, who need not be a user (the organisation's staff)
  std::optional<std::string> acquisition_method;
  std::optional<std::string> sha256;  // lower-case hex, as given or as computed
  std::optional<std::string> sha1;
  std::optional<std::string> md5;
  std::optional<int64_t> size;
  std::string holder;  // who holds it after acquisition
  std::optional<std::string> location;
  std::optional<std::string> seal;
};

struct EvidenceItem {
  std::string id;
  std::string case_id;
  int64_t number = 0;     // 1, 2, ... within the case
  std::string reference;  // "CASE-2026-000007-E001"
  EvidenceRegistration registration;
  std::string status;  // in_custody, checked_out, released, destroyed
  std::string holder;  // the current holder
  std::optional<std::string> location;
  std::optional<std::string> filename;  // when a file is stored
  std::optional<std::string> content_type;
  bool has_content = false;
  std::string created_by;
  int64_t created_at = 0;
  int64_t updated_at = 0;
  int64_t custody_events = 0;
};

struct CustodyEvent {
  std::string id;
  std::string evidence_id;
  int64_t seq = 0;
  std::string action;
  int64_t at = 0;           // when it happened
  int64_t recorded_at = 0;  // when it was recorded
  std::string recorded_by;
  std::string holder_from;
  std::string holder_to;
  std::optional<std::string> location;
  std::string purpose;
  std::optional<std::string> seal;
  std::optional<std::string> sha256_observed;
  std::string outcome;  // verified: match, mismatch, established; "" otherwise
  std::string detail;   // JSON object text: the registration (acquired), the file (content_added)
  std::string prev_hash;
  std::string hash;
};

// What a person records.
struct CustodyRecord {
  std::string action;
  std::optional<int64_t> at;             // default: now
  std::optional<std::string> to_holder;  // transferred, checked_out, checked_in, released
  std::optional<std::string> location;
  std::string purpose;              // required for checked_out, examined, copied, released,
                                    // destroyed
  std::optional<std::string> seal;  // sealed, unsealed
  std::optional<std::string> sha256_observed;  // verified (required), examined, copied
};

CaseResult<EvidenceItem> RegisterEvidence(store::Connection& connection, const Principal& principal,
                                          std::string_view case_id,
                                          const EvidenceRegistration& registration, int64_t now_ms);
CaseResult<std::vector<EvidenceItem>> ListEvidence(store::Connection& connection,
                                                   const Principal& principal,
                                                   std::string_view case_id);
CaseResult<EvidenceItem> GetEvidence(store::Connection& connection, const Principal& principal,
                                     std::string_view case_id, std::string_view evidence_id);

CaseResult<CustodyEvent> RecordCustody(store::Connection& connection, const Principal& principal,
                                       std::string_view case_id, std::string_view evidence_id,
                                       const CustodyRecord& record, int64_t now_ms);
CaseResult<std::vector<CustodyEvent>> CustodyChain(store::Connection& connection,
                                                   const Principal& principal,
                                                   std::string_view case_id,
                                                   std::string_view evidence_id);

// Stores the item's file. The item must have none yet; when it was registered with a SHA-256 or
// a size, the file must have them (kConflict naming both otherwise: the file is not the item).
// Size limits are the caller's.
CaseResult<EvidenceItem> AddEvidenceContent(store::Connection& connection,
                                            const Principal& principal, std::string_view case_id,
                                            std::string_view evidence_id,
                                            const std::string& filename,
                                            const std::string& content_type,
                                            const std::string& content, int64_t now_ms);

struct EvidenceContent {
  EvidenceItem item;
  std::string content;
};
// The stored file, for any member, readers included; each download is an `accessed` custody
// event with its purpose (required), written before the file is handed out. A closed case's
// files are read the same way: looking at them does not change what was concluded.
CaseResult<EvidenceContent> ReadEvidenceContent(store::Connection& connection,
                                                const Principal& principal,
                                                std::string_view case_id,
                                                std::string_view evidence_id,
                                                const std::string& purpose, int64_t now_ms);

struct EvidenceIntegrity {
  bool chain_intact = true;
  int64_t events = 0;
  int64_t first_bad_seq = 0;  // 0 when intact
  std::string problem;
  bool registration_intact = true;  // the item's hashes and size are those the chain recorded
  std::string registration_problem;
  bool content_stored = false;
  std::optional<bool> content_matches;  // the stored file's SHA-256 is the item's
  std::string content_sha256;           // as computed now
};
CaseResult<EvidenceIntegrity> VerifyEvidence(store::Connection& connection,
                                             const Principal& principal, std::string_view case_id,
                                             std::string_view evidence_id);

// The hash of one custody event given its predecessor's (exposed for tests).
std::string CustodyHashOf(const CustodyEvent& event);

}  // namespace yagura::hub

// TAXII 2.1 collections: the centre's sharing groups with partner organisations, and the STIX
// objects they hold.
//
// A collection lives under an API root and has an access list: per organisation, can_read and
// can_write. The access list *is* the sharing group. A collection also has a sharing level
// (max_tlp: clear, green or amber): nothing more restrictive enters it, except AMBER+STRICT
// objects a partner posts, which stay with the partner's organisation and the centre's duty
// officers. The centre's staff see every collection.
//
// Who reads which object is decided by hub/policy.hpp, not here: each stored object is a policy
// object whose owner is the organisation that added it, whose author is the user who did, which
// is addressed (its audience is the collection's group, never "every member") and whose shared
// organisations are the collection's readers plus the centre. So, for a reader of the collection:
//   CLEAR, GREEN, AMBER  -> every organisation with can_read (and the centre);
//   AMBER+STRICT         -> the owner's organisation only (and the duty officers for what
//                           partners posted, which is reported to the centre);
//   RED                  -> never stored: refused on the way in.
// Lists are filtered in SQL by hub::ReadCondition over the view taxii_object_access (schema
// version 8), so a page never holds an object CanRead would refuse.
//
// Paging. Every object version gets a date_added in microseconds that is unique within its
// collection: the largest one handed out so far plus one when the clock has not moved on. It is
// assigned while the collection row is locked (UPDATE of last_date_added), so adders to one
// collection are serialised and their objects become visible in date_added order: nothing can
// later appear *before* a position a client has already read. `next` encodes the date_added of
// the last object of a page, and `added_after` is strictly after; both are lower bounds on the
// same unique, monotonic key, so a client that follows `next`, switches to `added_after` with
// the X-TAXII-Date-Added-Last of its last page, or restarts from any date_added it saw, neither
// misses nor repeats an object.
//
// Objects posted by partners are checked one by one (ValidateStixObject, marking references,
// TLP against the collection); each failure is reported with its reason in the status resource
// and the valid objects are kept.
//
// Every write runs in the caller's transaction and appends its audit entry there.
// Thread-safety: free functions over a connection; one connection per thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <tl/expected.hpp>

#include "core/json_value.hpp"
#include "hub/policy.hpp"
#include "hub/principal.hpp"
#include "store/database.hpp"

namespace yagura::hub {

inline constexpr std::string_view TAXII_DEFAULT_API_ROOT = "centre";
inline constexpr std::string_view STIX_MEDIA_TYPE = "application/stix+json;version=2.1";
// The most objects one page holds; a client's smaller limit is honoured.
inline constexpr int TAXII_MAX_PAGE = 1000;
inline constexpr size_t TAXII_TITLE_MAX = 200;
inline constexpr size_t TAXII_DESCRIPTION_MAX = 5000;

enum class TaxiiErrorKind { kInvalid, kForbidden, kNotFound, kConflict };
struct TaxiiError {
  TaxiiErrorKind kind = TaxiiErrorKind::kInvalid;
  std::string message;
  std::string field;
};
template <typename T>
using TaxiiResult = tl::expected<T, TaxiiError>;

// Write rules: managing collections and their access lists is the duty officer's
// (can::ManageOrganizations: it decides what leaves the centre and for whom); publishing the
// centre's data is what issuing advisories is (can::IssueAdvisory: centre_admin, centre_analyst).
bool CanManageTaxii(const Principal& principal);
bool CanPublishTaxii(const Principal& principal);

// An API root name: 1-63 of [a-z0-9_-], starting with a letter or digit.
[[nodiscard]] bool IsValidApiRoot(std::string_view name);

struct TaxiiCollection {
  std::string id;
  std::string api_root;
  std::string alias;  // empty when none
  std::string title;
  std::string description;
  Tlp max_tlp = Tlp::kGreen;
  std::string owner_org_id;
  int64_t created_at = 0;
  int64_t updated_at = 0;
  // For the principal the collection was loaded for.
  bool can_read = false;
  bool can_write = false;
};

struct NewTaxiiCollection {
  std::string api_root = std::string(TAXII_DEFAULT_API_ROOT);
  std::string alias;
  std::string title;
  std::string description;
  Tlp max_tlp = Tlp::kGreen;  // clear, green or amber
};

struct TaxiiAccess {
  std::string org_id;
  bool can_read = false;
  bool can_write = false;
  int64_t updated_at = 0;
};

TaxiiResult<TaxiiCollection> CreateTaxiiCollection(store::Connection& connection,
                                                   const Principal& principal,
                                                   const NewTaxiiCollection& collection,
                                                   int64_t now_ms);
// Grants (or, with both flags false, withdraws) an organisation's access.
TaxiiResult<TaxiiAccess> SetTaxiiAccess(store::Connection& connection, const Principal& principal,
                                        std::string_view collection_id, const TaxiiAccess& access,
                                        int64_t now_ms);
TaxiiResult<std::vector<TaxiiAccess>> ListTaxiiAccess(store::Connection& connection,
                                                      const Principal& principal,
                                                      std::string_view collection_id);

// The API roots the principal can see something in (the default root always).
std::vector<std::string> TaxiiApiRoots(store::Connection& connection, const Principal& principal);
// The collections of `api_root` the principal may read or write (all of them for centre staff),
// oldest first.
std::vector<TaxiiCollection> ListTaxiiCollections(store::Connection& connection,
                                                  const Principal& principal,
                                                  std::string_view api_root);
// One collection; kNotFound when it does not exist, is under another root (`api_root` empty:
// any), or the principal has no access to it at all.
TaxiiResult<TaxiiCollection> GetTaxiiCollection(store::Connection& connection,
                                                const Principal& principal,
                                                std::string_view api_root,
                                                std::string_view collection_id);

// ---- objects -----------------------------------------------------------------------------------

struct TaxiiStatusEntry {
  std::string id;
  std::string version;  // empty when unknown
  std::string message;  // empty when none
};

// The status resource of one POST of an envelope. Adding is synchronous, so it is complete.
struct TaxiiStatus {
  std::string id;
  std::string status = "complete";
  int64_t request_timestamp_us = 0;
  std::vector<TaxiiStatusEntry> successes;
  std::vector<TaxiiStatusEntry> failures;
  std::vector<TaxiiStatusEntry> pendings;
  [[nodiscard]] int64_t total_count() const {
    return static_cast<int64_t>(successes.size() + failures.size() + pendings.size());
  }
};

// Adds the objects of an envelope: each is validated on its own; failures are reported with
// their reason, the valid ones stored with a fresh date_added. A version already present is a
// success ("already present") and keeps its date_added. kForbidden without can_write. The status
// resource is stored and returned.
TaxiiResult<TaxiiStatus> AddTaxiiObjects(store::Connection& connection, const Principal& principal,
                                         const TaxiiCollection& collection,
                                         const JsonValue::Array& objects, int64_t now_ms);
// kNotFound unless the status exists under `api_root` and the principal's organisation posted
// it (or the principal is centre staff).
TaxiiResult<TaxiiStatus> GetTaxiiStatus(store::Connection& connection, const Principal& principal,
                                        std::string_view api_root, std::string_view status_id);

struct TaxiiQuery {
  std::optional<int64_t> added_after_us;
  std::optional<int64_t> next_us;             // decoded `next`
  std::vector<std::string> ids;               // match[id]
  std::vector<std::string> types;             // match[type]
  std::vector<std::string> spec_versions;     // match[spec_version]
  // match[version]: "first", "last", "all" or timestamps (microseconds in version_times);
  // empty means "last".
  bool first = false;
  bool last = false;
  bool all = false;
  std::vector<int64_t> version_times;
  int limit = TAXII_MAX_PAGE;
};

struct TaxiiObjectRecord {
  std::string stix_id;
  std::string version;
  int64_t version_us = 0;
  int64_t date_added_us = 0;
  std::string type;
  std::string spec_version;
  Tlp tlp = Tlp::kClear;
  std::string body;  // the object's JSON text
};

struct TaxiiPage {
  std::vector<TaxiiObjectRecord> items;  // date_added order
  bool more = false;
};

// Objects of the collection the principal may read, filtered and paged (kForbidden without
// can_read).
TaxiiResult<TaxiiPage> QueryTaxiiObjects(store::Connection& connection, const Principal& principal,
                                         const TaxiiCollection& collection,
                                         const TaxiiQuery& query);

// Marks the matching versions of one object deleted (they are no longer served; their
// date_added positions are never reused). The centre's publishers may delete anything they can
// read; other writers only what their organisation added. Returns the versions deleted;
// kNotFound when none matched.
TaxiiResult<int64_t> DeleteTaxiiObject(store::Connection& connection, const Principal& principal,
                                       const TaxiiCollection& collection, std::string_view stix_id,
                                       const TaxiiQuery& match, int64_t now_ms);

// True when the collection already holds some version of `stix_id` (the exporter adds shared
// objects such as marking definitions and observables once).
bool TaxiiHasObject(store::Connection& connection, std::string_view collection_id,
                    std::string_view stix_id);

// ---- tokens, timestamps and validation ---------------------------------------------------------

// `next`: opaque to clients, bound to its collection; nullopt for a token this server did not
// issue for this collection.
std::string EncodeTaxiiNext(std::string_view collection_id, int64_t date_added_us);
std::optional<int64_t> DecodeTaxiiNext(std::string_view collection_id, std::string_view token);

// RFC 3339 with any number of fraction digits (truncated to microseconds); `require_utc`: the
// STIX form, which must end in 'Z'. Years 1000-9999.
std::optional<int64_t> ParseTaxiiTimestampUs(std::string_view text, bool require_utc);
// "2026-11-26T06:00:00.123456Z".
std::string FormatTaxiiTimestampUs(int64_t us);

// STIX type names and identifiers as the OASIS schemas define them.
[[nodiscard]] bool IsStixType(std::string_view type);
[[nodiscard]] bool IsStixId(std::string_view id);
[[nodiscard]] bool IsCyberObservableType(std::string_view type);

// Why `object` is not an acceptable STIX 2.1 object, or nullopt: type, id (matching the type),
// spec_version, created/modified (RFC 3339 UTC, modified not before created), the common
// optional properties, and the required properties of the standard types. Marking references
// are checked by AddTaxiiObjects, which knows the collection.
std::optional<std::string> ValidateStixObject(const JsonValue& object);

}  // namespace yagura::hub

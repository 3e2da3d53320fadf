// Advisories: warnings and guidance from the centre to its member organisations.
//
// An advisory is addressed: its target (one organisation, one critical-infrastructure sector,
// or every member) is resolved into recipient organisations when it is issued, and only those
// organisations (and, at TLP:RED, only the named users) can read it, whatever its TLP. The
// resolution is stored, not recomputed: an organisation that joins a sector later did not
// receive yesterday's advisory. Each recipient organisation has one acknowledgement row, so the
// centre sees at a glance who has not yet acknowledged.
//
// This header also holds what the three coordination modules (advisories, requests,
// recommendations) share: the refusal type the HTTP layer maps to statuses, keyset pages, and
// the organisation look-ups.
//
// Every function runs in its own transaction (writes also append their audit entry in it) and
// takes "now" from the caller, so tests control time without waiting.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <tl/expected.hpp>

#include "hub/policy.hpp"
#include "hub/principal.hpp"
#include "store/database.hpp"

namespace yagura::hub {

// Why a coordination operation was refused. The HTTP layer maps the kind to 400, 403, 404 and
// 409; `field` names the offending body member ("target.sector") when there is one.
struct CoordinationError {
  enum class Kind { kInvalid, kForbidden, kNotFound, kConflict };
  Kind kind = Kind::kInvalid;
  std::string message;
  std::string field;
};
template <typename T>
using CoordinationResult = tl::expected<T, CoordinationError>;

// A position in a list ordered newest first: the (created_at, id) of the last item seen.
struct PagePosition {
  int64_t created_at = 0;
  std::string id;
};
struct PageQuery {
  int limit = 50;
  std::optional<PagePosition> after;
};
template <typename T>
struct Page {
  std::vector<T> items;
  std::optional<PagePosition> next;  // set when more items follow
};

namespace coordination {

struct Organization {
  std::string id;
  std::string name;
  OrgType type = OrgType::kMinistry;
  std::string sector;
};

std::optional<Organization> FindOrganization(store::Connection& connection, std::string_view id);
// The centre's own organisation; nullopt before one has been set up.
std::optional<std::string> CentreOrgId(store::Connection& connection);
// The access-relevant columns of a row of `table` plus its grants; nullopt when absent.
std::optional<Marking> LoadMarking(store::Connection& connection, std::string_view table,
                                   std::string_view object_type, std::string_view id);
// The next "PREFIX-YYYY-NNNNNN" reference, counted per prefix and year (inside the caller's
// transaction).
std::string NextReference(store::Connection& connection, std::string_view prefix, int64_t now_ms);

CoordinationError Invalid(std::string message, std::string field = {});
CoordinationError Forbidden(std::string message = "not allowed");
CoordinationError NotFound(std::string message = "not found");
CoordinationError Conflict(std::string message);

}  // namespace coordination

// The spellings of advisory severities: "info", "low", "medium", "high", "critical".
std::span<const std::string_view> AdvisorySeverityNames();
// "organization", "sector", "all".
std::span<const std::string_view> AdvisoryTargetKindNames();

struct NewAdvisory {
  std::string title;
  std::string body;
  std::string severity;
  Tlp tlp = Tlp::kAmber;
  std::string target_kind;   // "organization", "sector", "all"
  std::string target_value;  // the organisation id or the sector; empty for "all"
  std::vector<std::string> recipients;  // named user ids; required at TLP:RED
  std::vector<std::string> references;  // http(s) URLs
  std::vector<std::string> cves;        // "CVE-2024-3400"
  std::vector<std::string> ttps;        // ATT&CK technique ids, "T1190", "T1059.001"
};

struct AdvisoryAcknowledgement {
  std::string org_id;
  std::string org_name;
  std::optional<int64_t> acknowledged_at;
  std::string user_id;  // who acknowledged; empty while pending
};

struct Advisory {
  std::string id;
  std::string reference;
  std::string owner_org_id;
  std::string author_id;
  Tlp tlp = Tlp::kAmber;
  std::string title;
  std::string body;
  std::string severity;
  std::string target_kind;
  std::string target_value;
  std::vector<std::string> references;
  std::vector<std::string> cves;
  std::vector<std::string> ttps;
  int64_t created_at = 0;
  int64_t updated_at = 0;

  // What the viewer may know about the audience. The centre's staff see every recipient and
  // every acknowledgement; a recipient sees its own organisation's state and itself among the
  // named users, never the rest of the audience.
  bool full_view = false;
  std::vector<std::string> recipients;         // named user ids
  std::vector<std::string> recipient_org_ids;  // full view only
  std::vector<AdvisoryAcknowledgement> acknowledgements;  // full view: every recipient org
  std::optional<AdvisoryAcknowledgement> own_acknowledgement;  // the viewer's org, if addressed
  int64_t pending_count = 0;                                // full view only
};

struct AdvisoryFilter {
  std::optional<std::string> severity;
  bool unacknowledged = false;  // only those the caller's organisation has not acknowledged
};

// Issues an advisory (can::IssueAdvisory). Resolves the target into recipient organisations;
// refuses TLP:RED without named recipients, TLP:AMBER+STRICT to more than one organisation,
// unknown sectors and organisations, and named users outside the recipient organisations.
CoordinationResult<Advisory> CreateAdvisory(store::Database& database, const Principal& principal,
                                            const NewAdvisory& input, int64_t now_ms);
// One advisory as the principal may see it; kNotFound when it does not exist or is not visible.
CoordinationResult<Advisory> ReadAdvisory(store::Database& database, const Principal& principal,
                                          std::string_view id);
// Records the principal's organisation's acknowledgement (can::AcknowledgeAdvisory).
// Idempotent: acknowledging again keeps the first time and user.
CoordinationResult<AdvisoryAcknowledgement> AcknowledgeAdvisoryFor(store::Database& database,
                                                                   const Principal& principal,
                                                                   std::string_view id,
                                                                   int64_t now_ms);
// Advisories the principal may read, newest first, filtered in SQL by hub::ReadCondition.
// Items carry the viewer's own acknowledgement state (and, for the centre, pending_count) but
// not the full audience.
CoordinationResult<Page<Advisory>> ListAdvisories(store::Database& database,
                                                  const Principal& principal,
                                                  const AdvisoryFilter& filter,
                                                  const PageQuery& page);

}  // namespace yagura::hub

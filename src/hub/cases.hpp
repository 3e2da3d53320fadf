// Investigations: the cases the centre opens to find out what happened in a serious incident.
//
// A case gathers what an investigation needs in one place, under strict secrecy:
//   - its members, each with a role (lead, member, reader; hub/policy.hpp). A case is read by
//     its members only. The duty officer who did not join it does not see it, in lists or by
//     id (404, as for a case that does not exist). Members are the centre's staff.
//   - the incidents and alerts it looks into (links). A link shows a member only what the member
//     may read of the incident or alert by the ordinary policy: joining a case opens no report.
//   - evidence with its chain of custody (hub/evidence.hpp), and a timeline
//     (hub/case_timeline.hpp).
//
// Lifecycle: open <-> on_hold -> closed -> open (reopened). Closing takes a conclusion and
// reopening a reason; both are the leads' (as are membership and the case's fields). Once closed,
// a case is read-only until it is reopened: nothing is added to its evidence, custody or
// timeline, so what was concluded stays what was on record.
//
// The case's TLP (red by default, amber+strict or amber) is the marking of what leaves it — the
// timeline's export, an advisory written from it. It never widens who reads the case itself.
//
// Every function runs in the caller's transaction and appends its audit entry there. Refusals
// come back as CaseError values, checked before anything is written.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <tl/expected.hpp>
#include <vector>

#include "core/json_value.hpp"
#include "hub/policy.hpp"
#include "hub/principal.hpp"
#include "store/database.hpp"

namespace yagura::hub {

enum class CaseStatus { kOpen, kOnHold, kClosed };
std::string_view ToString(CaseStatus status);  // "open", "on_hold", "closed"
std::optional<CaseStatus> ParseCaseStatus(std::string_view text);
std::span<const std::string_view> CaseStatusNames();
// The markings a case may carry: red, amber+strict, amber.
std::span<const std::string_view> CaseTlpNames();
// What a case links to: incident, alert.
std::span<const std::string_view> CaseLinkTypeNames();

// Why a request about a case was refused; the HTTP layer maps kinds to 400/403/404/409.
enum class CaseErrorKind { kInvalid, kForbidden, kNotFound, kConflict };
struct CaseError {
  CaseErrorKind kind = CaseErrorKind::kInvalid;
  std::string message;
  std::string field;  // the offending field, for kInvalid
};
template <typename T>
using CaseResult = tl::expected<T, CaseError>;

inline constexpr size_t CASE_TITLE_MAX = 200;
inline constexpr size_t CASE_TEXT_MAX = 20000;  // summary, conclusion, notes
inline constexpr size_t CASE_MEMBERS_MAX = 100;
inline constexpr size_t CASE_LINKS_MAX = 10000;

struct CaseMember {
  std::string user_id;
  std::string username;
  std::string display_name;
  CaseRole role = CaseRole::kMember;
  std::string added_by;
  int64_t added_at = 0;
};

struct CaseLink {
  std::string type;  // "incident" or "alert"
  std::string object_id;
  std::string note{};
  std::string added_by{};
  int64_t added_at = 0;
};

struct Case {
  std::string id;
  std::string reference;  // "CASE-2026-000007"
  std::string owner_org_id;
  std::string title;
  std::string summary;
  CaseStatus status = CaseStatus::kOpen;
  Tlp tlp = Tlp::kRed;
  std::string opened_by;
  std::optional<std::string> conclusion;
  int64_t created_at = 0;
  int64_t updated_at = 0;
  std::optional<int64_t> closed_at;
  int64_t version = 1;
  std::vector<CaseMember> members;
  std::vector<CaseLink> links;  // all of them; readers filter what they show (see CaseLinksFor)

  // The caller's role in the case (nullopt: not a member).
  [[nodiscard]] std::optional<CaseRole> RoleOf(std::string_view user_id) const;
  // The access-relevant facts for hub/policy.hpp: TLP:RED (members only), owned by the centre,
  // no author, addressed to its members.
  [[nodiscard]] Marking ToMarking() const;
};

struct CaseCreate {
  std::string title;
  std::string summary;
  Tlp tlp = Tlp::kRed;
  // Other members at opening (the opener is always a lead).
  std::vector<std::pair<std::string, CaseRole>> members;
  std::vector<std::string> incident_ids;  // incidents to link at once
};

// Opens a case (can::OpenCase); the opener becomes its first lead.
CaseResult<Case> OpenCase(store::Connection& connection, const Principal& principal,
                          const CaseCreate& create, int64_t now_ms);

// The case with members and links; kNotFound unless the principal is a member.
CaseResult<Case> GetCase(store::Connection& connection, const Principal& principal,
                         std::string_view id);
// The same for the case's parts: loads the case the principal may read and checks that it may
// be worked on (WorkOnCase and not closed) when `for_work`.
CaseResult<Case> CaseForRead(store::Connection& connection, const Principal& principal,
                             std::string_view id);
CaseResult<Case> CaseForWork(store::Connection& connection, const Principal& principal,
                             std::string_view id);

struct CaseUpdate {
  std::optional<std::string> title;
  std::optional<std::string> summary;
  std::optional<Tlp> tlp;
};
// The leads' change of title, summary or marking. `expected_version`, when given, must be the
// stored version (kConflict otherwise).
CaseResult<Case> UpdateCase(store::Connection& connection, const Principal& principal,
                            std::string_view id, const CaseUpdate& update,
                            std::optional<int64_t> expected_version, int64_t now_ms);

// open <-> on_hold, open|on_hold -> closed (the note is the conclusion, required), closed ->
// open (the note is the reason, required). The same status again is a conflict.
CaseResult<Case> TransitionCase(store::Connection& connection, const Principal& principal,
                                std::string_view id, CaseStatus to, const std::string& note,
                                int64_t now_ms);

// Adds a member or changes a member's role; true when the user was not a member before. The
// user must be an active member of the centre's staff. The last lead cannot be made anything
// else.
CaseResult<bool> SetCaseMember(store::Connection& connection, const Principal& principal,
                               std::string_view id, const std::string& user_id, CaseRole role,
                               int64_t now_ms);
// Removes a member; the last lead cannot be removed. A member may leave by removing themself.
CaseResult<void> RemoveCaseMember(store::Connection& connection, const Principal& principal,
                                  std::string_view id, const std::string& user_id, int64_t now_ms);

// Links an incident or alert the principal may read (kNotFound otherwise, naming it); false when
// it was linked already.
CaseResult<bool> LinkToCase(store::Connection& connection, const Principal& principal,
                            std::string_view id, const std::string& type,
                            const std::string& object_id, const std::string& note, int64_t now_ms);
CaseResult<void> UnlinkFromCase(store::Connection& connection, const Principal& principal,
                                std::string_view id, const std::string& type,
                                const std::string& object_id, int64_t now_ms);

// What a case's links show one reader: the incidents and alerts the reader may read, each with
// its title and time (the others are counted, not named).
struct LinkedObject {
  CaseLink link;
  std::string title;
  std::string reference;  // incidents: "INC-..."; alerts: ""
  std::string status;
  std::string level;  // alerts: the rule's level; incidents: the priority name
  std::string org_id;
  int64_t at = 0;  // alerts: event time; incidents: occurred_at, else detected_at
  std::vector<std::string> techniques;
  std::string host;  // alerts: the host the detection names, when it names one
};
struct CaseLinks {
  std::vector<LinkedObject> readable;
  int64_t hidden = 0;  // links to what the reader may not read
};
CaseLinks CaseLinksFor(store::Connection& connection, const Principal& principal, const Case& kase);

struct CaseHistoryEntry {
  std::string id;
  int64_t at = 0;
  std::string actor_id;
  std::string kind;    // opened, updated, transition, reopened, member_added, member_changed,
                       // member_removed, linked, unlinked, evidence_registered, custody_recorded,
                       // content_added, timeline_added, timeline_imported, import_removed
  std::string detail;  // JSON object text
};
// Oldest first.
CaseResult<std::vector<CaseHistoryEntry>> CaseHistory(store::Connection& connection,
                                                      const Principal& principal,
                                                      std::string_view id);

struct CaseFilter {
  std::optional<CaseStatus> status;
  std::optional<std::string> title_contains;
  std::optional<std::string> incident_id;  // cases that link this incident
};
struct CaseSummary {
  std::string id;
  std::string reference;
  std::string title;
  CaseStatus status = CaseStatus::kOpen;
  Tlp tlp = Tlp::kRed;
  CaseRole role = CaseRole::kMember;  // the caller's
  int64_t created_at = 0;
  int64_t updated_at = 0;
};
struct CasePage {
  std::vector<CaseSummary> items;
  bool more = false;
};
// The principal's cases, newest first; `before` is the (created_at, id) of the previous page's
// last item. Filtered in SQL by hub::ReadCondition.
CasePage ListCases(store::Connection& connection, const Principal& principal,
                   const CaseFilter& filter, std::optional<std::pair<int64_t, std::string>> before,
                   int limit);

// The people a lead may make members: the centre's active staff, by name. Only the centre's
// staff ask (an empty list for anyone else); names and roles only, no contact details.
struct CaseCandidate {
  std::string user_id;
  std::string username;
  std::string display_name;
  std::vector<Role> roles;
};
std::vector<CaseCandidate> CaseCandidates(store::Connection& connection,
                                          const Principal& principal);

// For the case's parts (evidence, custody, timeline): one history row and one audit entry in
// the caller's transaction, and the case's updated_at moved on.
void RecordCaseActivity(store::Connection& connection, const Principal& principal, const Case& kase,
                        std::string_view kind, std::string action, const JsonValue& detail,
                        int64_t now_ms);

// Refusals and checks, for the parts' code (evidence, the timeline).
tl::unexpected<CaseError> RefuseCase(CaseErrorKind kind, std::string message,
                                     std::string field = {});
CaseError InvalidCaseField(std::string message, std::string field);
// "WHAT not found" (kNotFound).
tl::unexpected<CaseError> CaseNotFound(std::string_view what);
// A text field: UTF-8 without NUL, at most `max_length` characters, not empty when required.
std::optional<CaseError> CheckCaseText(std::string_view field, const std::string& text,
                                       size_t max_length, bool required);

}  // namespace yagura::hub

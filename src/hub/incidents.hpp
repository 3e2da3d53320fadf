// Incident reports: what organisations report to the centre and how the centre handles them.
//
// A report carries the fields of CISA's federal incident notification guidelines (the best
// public model of what a national centre asks for, docs/domain.md): functional and information
// impact, recoverability, when it was detected, how many systems, records and users are
// affected, where the activity was observed, attack vector, indicators, mitigations and a
// point of contact. Each report is scored the NCISS way (hub/scoring.hpp) whenever its inputs
// change, and the score keeps its factor breakdown.
//
// Lifecycle: reported -> triaged -> investigating -> contained -> resolved -> closed.
//   - Only those hub::can::TriageIncident allows (the duty officer, assigned centre staff) move
//     an incident, and every move is recorded with who, when and an optional note.
//   - From "reported" the only move is to "triaged": someone must look at a report first.
//   - From "triaged" on, any later status may be reached directly (a false positive goes from
//     triaged to resolved, a containment confirmed at once from investigating to resolved).
//   - Going back is reopening: resolved or closed -> investigating, by a centre_admin only,
//     with a reason (the note). Any other backward move, or a move to the same status, is a
//     conflict.
//   - A closed incident's report cannot be edited until it is reopened.
//
// Categories: malware, phishing, intrusion (unauthorised access gained through an exploit),
// ddos, data_leak, web_defacement, vulnerability (a weakness reported, no compromise yet),
// unauthorized_access (use of valid credentials or access by someone not entitled to it),
// insider, other. Attack vectors are those of CISA's guidelines: unknown, attrition, web,
// email_phishing, external_removable_media, impersonation_spoofing, improper_usage,
// loss_or_theft_of_equipment, other.
//
// Access: reads and writes are decided by hub/policy.hpp only. An incident is a confidential
// object reported to the centre (centre_intake = 1, never addressed); TLP defaults to AMBER;
// `shared_with` (organisations) is allowed with AMBER, `recipients` (users) with RED;
// assignees are stored as grants of kind "assignee" so the policy lets them read.
//
// Every function takes the caller's connection and runs inside the caller's transaction; the
// writes append their audit entry (hub::AuditLog::Append) in it, so a change and its record
// commit together. Failures a client caused come back as IncidentError values, checked before
// anything is written. Functions are thread-safe as long as each thread uses its own
// connection.
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
#include "hub/scoring.hpp"
#include "store/database.hpp"

namespace yagura::hub {

enum class IncidentStatus { kReported, kTriaged, kInvestigating, kContained, kResolved, kClosed };

std::string_view ToString(IncidentStatus status);
std::optional<IncidentStatus> ParseIncidentStatus(std::string_view text);
std::span<const std::string_view> IncidentStatusNames();

std::span<const std::string_view> IncidentCategoryNames();
std::span<const std::string_view> AttackVectorNames();
// Indicator types: ip, domain, url, hash, email, file_name, other.
std::span<const std::string_view> IndicatorTypeNames();
// Link relations: related, duplicate, parent, child (as seen from the incident that links).
std::span<const std::string_view> LinkRelationNames();
// The relation as seen from the other incident: parent <-> child, the others unchanged.
std::string_view InverseRelation(std::string_view relation);

// Why a request about incidents was refused; the HTTP layer maps kinds to 400/403/404/409.
enum class IncidentErrorKind { kInvalid, kForbidden, kNotFound, kConflict };
struct IncidentError {
  IncidentErrorKind kind = IncidentErrorKind::kInvalid;
  std::string message;
  std::string field;  // dotted path of the offending field, for kInvalid
};
template <typename T>
using IncidentResult = tl::expected<T, IncidentError>;

struct PointOfContact {
  std::string name;
  std::string email;
  std::optional<std::string> phone;
};

struct Indicator {
  std::string type;
  std::string value;
};

// The fields a reporter fills in (creation and PATCH both produce a whole report).
struct IncidentReport {
  std::string title;
  std::string description;
  std::string category;
  std::string functional_impact;
  std::string information_impact;
  std::string recoverability;
  std::string location;  // code "0".."7" or "U"
  std::optional<std::string> observed_activity;
  std::optional<std::string> actor_characterization;
  std::optional<std::string> cross_sector_dependency;
  std::optional<std::string> potential_impact;
  std::optional<std::string> attack_vector;
  int64_t detected_at = 0;
  std::optional<int64_t> occurred_at;
  std::optional<int64_t> systems_affected;
  std::optional<int64_t> records_affected;
  std::optional<int64_t> users_affected;
  std::vector<Indicator> indicators;
  std::optional<std::string> mitigations;
  PointOfContact point_of_contact;
  Tlp tlp = Tlp::kAmber;
  std::vector<std::string> shared_with;  // organisation ids (AMBER)
  std::vector<std::string> recipients;   // user ids (RED)
  // MITRE ATT&CK technique ids ("T1110.001", upper case), kept in incident_techniques; once the
  // catalogue is imported (hub/attack.hpp) they must name techniques it knows.
  std::vector<std::string> techniques;

  [[nodiscard]] ScoringInputs Scoring() const;
};

// Limits of the report fields (also used by the API's validation and JSON Schemas).
inline constexpr size_t INCIDENT_TITLE_MAX = 200;
inline constexpr size_t INCIDENT_DESCRIPTION_MAX = 20000;
inline constexpr size_t INCIDENT_MITIGATIONS_MAX = 20000;
inline constexpr size_t INCIDENT_INDICATORS_MAX = 1000;
inline constexpr size_t INCIDENT_INDICATOR_VALUE_MAX = 2048;
inline constexpr size_t INCIDENT_COMMENT_MAX = 20000;
inline constexpr size_t INCIDENT_AUDIENCE_MAX = 100;
inline constexpr size_t INCIDENT_TECHNIQUES_MAX = 100;
inline constexpr int64_t INCIDENT_COUNT_MAX = 1'000'000'000'000;

// Checks a report against the domain's rules (enumerations, non-negative counts, the audience
// allowed by its TLP). Existence of the organisations and users it names is checked by
// CreateIncident/UpdateIncident, which have a connection.
[[nodiscard]] std::optional<IncidentError> ValidateReport(const IncidentReport& report);

struct IncidentLink {
  std::string incident_id;  // the other incident
  std::string reference;
  std::string title;
  std::string relation;     // as seen from this incident
  std::string created_by;
  int64_t created_at = 0;
};

struct AttachmentInfo {
  std::string id;
  std::string incident_id;
  std::string filename;
  std::string content_type;
  int64_t size = 0;
  std::string sha256;
  std::string uploaded_by;
  int64_t uploaded_at = 0;
  // Set by AddAttachment when the incident already had this file (the same name, size and
  // SHA-256): that attachment is returned and nothing is stored again, so a client that
  // retries an upload whose answer it lost gets one attachment, not two.
  bool already_attached = false;
};

struct Attachment {
  AttachmentInfo info;
  std::string content;
};

struct Incident {
  std::string id;
  std::string reference;  // "INC-2026-000042"
  std::string owner_org_id;
  std::string author_id;
  IncidentStatus status = IncidentStatus::kReported;
  IncidentReport report;
  IncidentScore score;
  int64_t created_at = 0;
  int64_t updated_at = 0;
  int64_t version = 1;
  // Filled by GetIncident (not by the write functions' return values unless noted).
  std::vector<std::string> assignee_ids;
  std::vector<IncidentLink> links;               // only links to incidents the caller may read
  std::vector<AttachmentInfo> attachments;
  int64_t comment_count = 0;

  // The access-relevant facts, for hub/policy.hpp.
  [[nodiscard]] Marking ToMarking() const;
};

// Files a report. `owner_org_id` defaults to the principal's organisation; only those
// can::ReportIncidentFor allows may name another one (kForbidden otherwise). Called in a loop
// inside one transaction it also seeds benchmarks: 100,000 incidents take about 6 s on SQLite.
IncidentResult<Incident> CreateIncident(store::Connection& connection, const Principal& principal,
                                        const IncidentReport& report,
                                        std::optional<std::string> owner_org_id, int64_t now_ms);

// The whole incident with assignees, links, attachment metadata and the comment count;
// kNotFound when it does not exist or the principal may not read it.
IncidentResult<Incident> GetIncident(store::Connection& connection, const Principal& principal,
                                     std::string_view id);

// Replaces the report and re-scores it. `expected_version`, when given, must equal the stored
// version (kConflict otherwise); the version then increases by one.
IncidentResult<Incident> UpdateIncident(store::Connection& connection, const Principal& principal,
                                        std::string_view id, const IncidentReport& report,
                                        std::optional<int64_t> expected_version, int64_t now_ms);

// Moves the incident along its lifecycle (rules in the file comment).
IncidentResult<Incident> TransitionIncident(store::Connection& connection,
                                            const Principal& principal, std::string_view id,
                                            IncidentStatus to, const std::string& note,
                                            int64_t now_ms);

// Whether `principal` may move an incident from `from` to `to` by the lifecycle rules alone
// (the policy's TriageIncident is checked separately). kConflict or kForbidden or kInvalid.
std::optional<IncidentError> CheckTransition(const Principal& principal, IncidentStatus from,
                                             IncidentStatus to, const std::string& note);

struct HistoryEntry {
  std::string id;
  int64_t at = 0;
  std::string actor_id;
  std::string kind;  // created, updated, transition, reopened, assigned, unassigned, linked,
                     // unlinked, attachment_added, comment_added
  std::optional<std::string> from_status;
  std::optional<std::string> to_status;
  std::string detail;  // JSON object text
};
// Oldest first. Entries about links to incidents the principal may not read are left out.
IncidentResult<std::vector<HistoryEntry>> IncidentHistory(store::Connection& connection,
                                                          const Principal& principal,
                                                          std::string_view id);

// Assigns a centre staff user; returns false when the user was already assigned.
IncidentResult<bool> AssignIncident(store::Connection& connection, const Principal& principal,
                                    std::string_view id, const std::string& user_id,
                                    int64_t now_ms);
IncidentResult<void> UnassignIncident(store::Connection& connection, const Principal& principal,
                                      std::string_view id, const std::string& user_id,
                                      int64_t now_ms);

struct IncidentComment {
  std::string id;
  std::string incident_id;
  std::string author_id;
  std::string body;
  int64_t created_at = 0;
};
IncidentResult<IncidentComment> AddComment(store::Connection& connection,
                                           const Principal& principal, std::string_view id,
                                           const std::string& body, int64_t now_ms);
// Oldest first; `after` is the (created_at, id) of the last comment of the previous page.
struct CommentPage {
  std::vector<IncidentComment> items;
  bool more = false;
};
IncidentResult<CommentPage> ListComments(store::Connection& connection, const Principal& principal,
                                         std::string_view id,
                                         std::optional<std::pair<int64_t, std::string>> after,
                                         int limit);

IncidentResult<IncidentLink> LinkIncidents(store::Connection& connection,
                                           const Principal& principal, std::string_view id,
                                           const std::string& other_id,
                                           const std::string& relation, int64_t now_ms);
IncidentResult<void> UnlinkIncidents(store::Connection& connection, const Principal& principal,
                                     std::string_view id, const std::string& other_id,
                                     int64_t now_ms);

// Stores an attachment with its SHA-256. Size limits are the caller's (the API answers 413).
// The same file again (name, size and SHA-256) returns the first one, already_attached set;
// the attempt is audited, and the incident's history does not change.
IncidentResult<AttachmentInfo> AddAttachment(store::Connection& connection,
                                             const Principal& principal, std::string_view id,
                                             const std::string& filename,
                                             const std::string& content_type,
                                             const std::string& content, int64_t now_ms);
IncidentResult<std::vector<AttachmentInfo>> ListAttachments(store::Connection& connection,
                                                            const Principal& principal,
                                                            std::string_view id);
IncidentResult<Attachment> GetAttachment(store::Connection& connection,
                                         const Principal& principal, std::string_view id,
                                         std::string_view attachment_id);

// Lists: filters, all optional, combined with AND.
struct IncidentFilter {
  std::optional<IncidentStatus> status;
  std::optional<std::string> owner_org_id;
  std::optional<std::string> category;
  std::optional<int> priority_min;
  std::optional<Tlp> tlp;
  bool assigned_to_me = false;
  std::optional<std::string> title_contains;  // case-insensitive for ASCII letters
};

// One row of a list: the columns of the incidents table only, so a page is one query.
struct IncidentSummary {
  std::string id;
  std::string reference;
  std::string title;
  IncidentStatus status = IncidentStatus::kReported;
  std::string category;
  Tlp tlp = Tlp::kAmber;
  std::string owner_org_id;
  double score = 0;
  int priority = 0;
  int64_t detected_at = 0;
  int64_t created_at = 0;
  int64_t updated_at = 0;
};

struct IncidentPage {
  std::vector<IncidentSummary> items;
  bool more = false;  // another page follows the last item
};

// Newest first (created_at desc, id desc); `before` is the (created_at, id) of the last item
// of the previous page. Filtered in SQL by hub::ReadCondition: a page never holds an incident
// CanRead would refuse. A fixed number of index-ordered queries per page (one for the duty
// officer, one per way of being allowed to read for everyone else), never one per row.
IncidentPage ListIncidents(store::Connection& connection, const Principal& principal,
                           const IncidentFilter& filter,
                           std::optional<std::pair<int64_t, std::string>> before, int limit);

}  // namespace yagura::hub

// Audits: the centre's checks of an organisation against a standard (hub/standards.hpp), and the
// follow-up of what they found.
//
// An audit names the audited organisation, the standard and the controls in scope (all of the
// standard's, a list, or what an OSCAL profile selects). Its team assesses each control in scope
// (satisfied, partially satisfied, not satisfied, not applicable, with the methods used and a
// note), writes findings against controls, and recommendations against findings, each with a
// due date. Once the report is issued, the audited organisation's administrators read it and
// answer each recommendation (in progress, implemented, with a note); the team verifies what was
// implemented, or sends it back, and the audit closes when every recommendation is verified or
// its risk accepted.
//
// Secrecy is the cases': an audit is read by its team only (hub/policy.hpp: lead, member,
// reader; the centre's staff), in lists and by id (404 otherwise), until its report is issued;
// then also by the audited organisation's administrators, who see the results, findings and
// recommendations but not the team's working history. Every entry in the audit log about an
// audit is marked RED.
//
// Lifecycle: planning -> fieldwork <-> reporting -> issued -> closed; planning, fieldwork and
// reporting may be cancelled (with a reason). The scope is fixed once fieldwork starts;
// assessments, findings and recommendations are written in fieldwork and reporting and fixed
// once issued; follow-up happens while issued.
//
// OSCAL: AssessmentResultsJson and PoamJson (hub/oscal_export.hpp) write an audit as OSCAL
// assessment results and a plan of action and milestones.
//
// Every function runs in the caller's transaction and appends its audit entry there. Refusals
// come back as CaseError values (the same four kinds), checked before anything is written.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "hub/cases.hpp"
#include "hub/policy.hpp"
#include "hub/principal.hpp"
#include "hub/standards.hpp"
#include "store/database.hpp"

namespace yagura::hub {

enum class AuditStatus { kPlanning, kFieldwork, kReporting, kIssued, kClosed, kCancelled };
// "planning", "fieldwork", "reporting", "issued", "closed", "cancelled"
std::string_view ToString(AuditStatus status);
std::optional<AuditStatus> ParseAuditStatus(std::string_view text);
std::span<const std::string_view> AuditStatusNames();

// The markings an audit may carry: red, amber+strict, amber.
std::span<const std::string_view> AuditTlpNames();
// A control's result: "not_assessed", "satisfied", "partially_satisfied", "not_satisfied",
// "not_applicable".
std::span<const std::string_view> ControlResultNames();
// How it was assessed (OSCAL's observation methods): "examine", "interview", "test".
std::span<const std::string_view> AssessmentMethodNames();
// A finding's risk: "low", "moderate", "high", "critical".
std::span<const std::string_view> FindingRiskNames();
// A recommendation's state: "open", "in_progress", "implemented", "verified", "risk_accepted".
std::span<const std::string_view> AuditRecommendationStatusNames();

inline constexpr size_t AUDIT_TITLE_MAX = 200;
inline constexpr size_t AUDIT_TEXT_MAX = 20000;
inline constexpr size_t AUDIT_SCOPE_MAX = STANDARD_CONTROLS_MAX;

struct AuditMember {
  std::string user_id;
  std::string username;
  std::string display_name;
  CaseRole role = CaseRole::kMember;
  int64_t added_at = 0;
};

struct Audit {
  std::string id;
  std::string reference;  // "AUD-2027-000003"
  std::string owner_org_id;
  std::string auditee_org_id;
  std::string auditee_name;
  std::string standard_id;
  std::string standard_title;
  std::string title;
  std::string objectives;
  AuditStatus status = AuditStatus::kPlanning;
  Tlp tlp = Tlp::kAmberStrict;  // the marking of the report and of what leaves the audit
  std::string opened_by;
  std::optional<int64_t> planned_start;
  std::optional<int64_t> planned_end;
  std::optional<std::string> conclusion;
  std::optional<int64_t> issued_at;
  std::optional<int64_t> closed_at;
  int64_t created_at = 0;
  int64_t updated_at = 0;
  int64_t version = 1;
  std::vector<AuditMember> members;

  [[nodiscard]] std::optional<CaseRole> RoleOf(std::string_view user_id) const;
  // Whether the report has gone to the audited organisation (issued or closed).
  [[nodiscard]] bool Issued() const;
};

// How an audit's scope is chosen at opening; exactly one of these (none: every control).
struct AuditScope {
  std::vector<std::string> control_ids;
  std::string profile_document;  // an OSCAL profile's JSON text
};

struct AuditCreate {
  std::string title;
  std::string objectives;
  std::string auditee_org_id;
  std::string standard_id;
  Tlp tlp = Tlp::kAmberStrict;
  std::optional<int64_t> planned_start;
  std::optional<int64_t> planned_end;
  AuditScope scope;
  std::vector<std::pair<std::string, CaseRole>> members;  // the opener is always a lead
};

// Opens an audit (can::OpenAudit); the opener becomes its first lead.
CaseResult<Audit> OpenAudit(store::Connection& connection, const Principal& principal,
                            const AuditCreate& create, int64_t now_ms);
// The audit, for its team, or for the audited organisation's administrators once issued.
CaseResult<Audit> GetAudit(store::Connection& connection, const Principal& principal,
                           std::string_view id);

struct AuditUpdate {
  std::optional<std::string> title;
  std::optional<std::string> objectives;
  std::optional<Tlp> tlp;
  std::optional<std::optional<int64_t>> planned_start;
  std::optional<std::optional<int64_t>> planned_end;
};
// The leads' change of the audit's fields, until it is issued.
CaseResult<Audit> UpdateAudit(store::Connection& connection, const Principal& principal,
                              std::string_view id, const AuditUpdate& update,
                              std::optional<int64_t> expected_version, int64_t now_ms);

// A lead's move along the lifecycle. Issuing needs every control in scope assessed and every
// finding on a control not satisfied (or partially) given a recommendation; closing needs every
// recommendation verified or its risk accepted, and a note (the conclusion); cancelling a note
// (the reason). Going back from reporting to fieldwork is allowed.
CaseResult<Audit> TransitionAudit(store::Connection& connection, const Principal& principal,
                                  std::string_view id, AuditStatus to, const std::string& note,
                                  int64_t now_ms);

// A lead's new scope, while the audit is in planning.
CaseResult<Audit> SetAuditScope(store::Connection& connection, const Principal& principal,
                                std::string_view id, const AuditScope& scope, int64_t now_ms);

// Membership as in cases: the centre's active staff; the last lead stays.
CaseResult<bool> SetAuditMember(store::Connection& connection, const Principal& principal,
                                std::string_view id, const std::string& user_id, CaseRole role,
                                int64_t now_ms);
CaseResult<void> RemoveAuditMember(store::Connection& connection, const Principal& principal,
                                   std::string_view id, const std::string& user_id, int64_t now_ms);

// One control in scope with the standard's text and the team's assessment.
struct ScopedControl {
  StandardControl control;
  std::string result = "not_assessed";
  std::vector<std::string> methods;
  std::string note;
  std::string assessed_by;
  std::optional<int64_t> assessed_at;
};
CaseResult<std::vector<ScopedControl>> AuditControls(store::Connection& connection,
                                                     const Principal& principal,
                                                     std::string_view id);

struct ControlAssessment {
  std::string result;
  std::vector<std::string> methods;
  std::string note;
};
// A member's assessment of a control in scope, in fieldwork or reporting.
CaseResult<ScopedControl> AssessControl(store::Connection& connection, const Principal& principal,
                                        std::string_view id, const std::string& control_id,
                                        const ControlAssessment& assessment, int64_t now_ms);

struct AuditFinding {
  std::string id;
  int64_t number = 0;
  std::string reference;  // "F-003"
  std::string control_id;
  std::string title;
  std::string description;
  std::string risk = "moderate";
  std::string created_by;
  int64_t created_at = 0;
  int64_t updated_at = 0;
};
struct FindingWrite {
  std::optional<std::string> control_id;  // required when creating
  std::optional<std::string> title;
  std::optional<std::string> description;
  std::optional<std::string> risk;
};
CaseResult<AuditFinding> AddFinding(store::Connection& connection, const Principal& principal,
                                    std::string_view id, const FindingWrite& write, int64_t now_ms);
CaseResult<AuditFinding> UpdateFinding(store::Connection& connection, const Principal& principal,
                                       std::string_view id, std::string_view finding_id,
                                       const FindingWrite& write, int64_t now_ms);

struct FollowUp {
  std::string id;
  int64_t seq = 0;
  int64_t at = 0;
  std::string actor_id;
  std::string actor_org_id;
  std::string status_from;
  std::string status_to;
  std::string note;
};

// A file that goes with a recommendation: the organisation's proof of what it implemented, or
// the team's working paper. Kept in the service's attachments table.
struct AuditAttachment {
  std::string id;
  std::string filename;
  std::string content_type;
  int64_t size = 0;
  std::string sha256;
  std::string uploaded_by;
  std::string uploaded_by_org_id;
  int64_t uploaded_at = 0;
  bool already_attached = false;  // the same file (name, size, SHA-256) was attached before
};

struct AuditRecommendation {
  std::string id;
  std::string finding_id;
  int64_t number = 0;
  std::string reference;  // "R-002"
  std::string text;
  int64_t due_at = 0;
  std::string status = "open";
  std::string created_by;
  int64_t created_at = 0;
  int64_t updated_at = 0;
  std::vector<FollowUp> follow_ups;          // oldest first
  std::vector<AuditAttachment> attachments;  // oldest first

  // Past its due date and neither implemented, verified nor accepted.
  [[nodiscard]] bool OverdueAt(int64_t now_ms) const;
};
struct RecommendationWrite {
  std::optional<std::string> text;
  std::optional<int64_t> due_at;
};
CaseResult<AuditRecommendation> AddRecommendation(store::Connection& connection,
                                                  const Principal& principal, std::string_view id,
                                                  std::string_view finding_id,
                                                  const RecommendationWrite& write, int64_t now_ms);
CaseResult<AuditRecommendation> UpdateAuditRecommendation(
    store::Connection& connection, const Principal& principal, std::string_view id,
    std::string_view recommendation_id, const RecommendationWrite& write, int64_t now_ms);

// Follow-up of an issued audit's recommendation. The audited organisation's administrators move
// it to in_progress or implemented; the team's members verify an implemented one, or send it
// back to in_progress; a lead records an accepted risk or reopens a verified or accepted one.
// Every step but in_progress needs a note.
CaseResult<AuditRecommendation> FollowUpRecommendation(store::Connection& connection,
                                                       const Principal& principal,
                                                       std::string_view id,
                                                       std::string_view recommendation_id,
                                                       const std::string& status,
                                                       const std::string& note, int64_t now_ms);

// Attaches a file to a recommendation: the audited organisation's administrators while the
// report is issued and the recommendation is not yet verified or accepted; the team's leads and
// members from fieldwork until closing. The same file again returns the first attachment.
// Size limits are the caller's.
CaseResult<AuditAttachment> AttachToRecommendation(store::Connection& connection,
                                                   const Principal& principal, std::string_view id,
                                                   std::string_view recommendation_id,
                                                   const std::string& filename,
                                                   const std::string& content_type,
                                                   const std::string& content, int64_t now_ms);
// A recommendation's file, for whoever reads the audit.
CaseResult<std::pair<AuditAttachment, std::string>> RecommendationAttachment(
    store::Connection& connection, const Principal& principal, std::string_view id,
    std::string_view recommendation_id, std::string_view attachment_id);

// The findings and recommendations of an audit, by number, recommendations with their follow-ups.
struct AuditResults {
  std::vector<AuditFinding> findings;
  std::vector<AuditRecommendation> recommendations;
};
CaseResult<AuditResults> AuditFindings(store::Connection& connection, const Principal& principal,
                                       std::string_view id);

// Counts for lists and the audit's page.
struct AuditProgress {
  int64_t controls = 0;
  int64_t assessed = 0;
  int64_t satisfied = 0;
  int64_t partially_satisfied = 0;
  int64_t not_satisfied = 0;
  int64_t not_applicable = 0;
  int64_t findings = 0;
  int64_t recommendations = 0;
  int64_t recommendations_open = 0;  // neither verified nor accepted
  int64_t recommendations_overdue = 0;
};
AuditProgress ProgressOf(store::Connection& connection, std::string_view audit_id, int64_t now_ms);
// The same for many audits at once (a list's page), by id.
std::map<std::string, AuditProgress> ProgressOfAudits(store::Connection& connection,
                                                      const std::vector<std::string>& audit_ids,
                                                      int64_t now_ms);

struct AuditHistoryEntry {
  std::string id;
  int64_t at = 0;
  std::string actor_id;
  std::string kind;  // opened, updated, transition, member_added, member_changed,
                     // member_removed, assessed, finding_added, finding_updated,
                     // recommendation_added, recommendation_updated, follow_up
  std::string detail;
};
// The team's record of the audit, oldest first (the team only).
CaseResult<std::vector<AuditHistoryEntry>> AuditHistory(store::Connection& connection,
                                                        const Principal& principal,
                                                        std::string_view id);

struct AuditFilter {
  std::optional<AuditStatus> status;
  std::optional<std::string> auditee_org_id;
  std::optional<std::string> title_contains;
};
struct AuditSummary {
  std::string id;
  std::string reference;
  std::string title;
  std::string auditee_org_id;
  std::string auditee_name;
  std::string standard_title;
  AuditStatus status = AuditStatus::kPlanning;
  Tlp tlp = Tlp::kAmberStrict;
  std::optional<CaseRole> role;  // the caller's; nullopt for the audited organisation
  std::optional<int64_t> planned_end;
  int64_t created_at = 0;
  int64_t updated_at = 0;
};
struct AuditPage {
  std::vector<AuditSummary> items;
  bool more = false;
};
// The audits the principal may read, newest first; `before` is the previous page's last
// (created_at, id).
AuditPage ListAudits(store::Connection& connection, const Principal& principal,
                     const AuditFilter& filter,
                     std::optional<std::pair<int64_t, std::string>> before, int limit);

// Recommendations across the issued and closed audits the principal may read: for an
// organisation's administrators, what their organisation owes; for the centre's auditors, what
// their audits await. Soonest due first.
struct AuditRecommendationFilter {
  std::vector<std::string> statuses;  // any of AuditRecommendationStatusNames; empty: all
  bool overdue_only = false;          // open or in progress and past due
  std::optional<int64_t> due_before;
  std::optional<std::string> auditee_org_id;
};
struct AuditRecommendationSummary {
  AuditRecommendation recommendation;  // without follow-ups and attachments
  AuditFinding finding;                // id, reference, control, title, risk
  std::string audit_id;
  std::string audit_reference;
  std::string audit_title;
  AuditStatus audit_status = AuditStatus::kIssued;
  std::string auditee_org_id;
  std::string auditee_name;
  bool overdue = false;
};
std::vector<AuditRecommendationSummary> ListAuditRecommendations(
    store::Connection& connection, const Principal& principal,
    const AuditRecommendationFilter& filter, int64_t now_ms, int limit);

}  // namespace yagura::hub

// Audits: storage, team, scope, assessments, findings, recommendations and their follow-up
// (rules in audits.hpp).
//
// The team lives twice, as a case's members do: audit_members holds the roles and access_grants
// one 'user' grant per member, which hub::ReadCondition reads; SyncGrants writes the second from
// the first in the same transaction.
#include "hub/audits.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <map>
#include <set>

#include "core/json_value.hpp"
#include "core/time.hpp"
#include "hub/audit_log.hpp"
#include "hub/crypto.hpp"
#include "hub/text_checks.hpp"

namespace yagura::hub {
namespace {

constexpr std::string_view OBJECT_TYPE = "audit";

constexpr std::array<std::string_view, 6> STATUS_NAMES = {"planning", "fieldwork", "reporting",
                                                          "issued",   "closed",    "cancelled"};
constexpr std::array<std::string_view, 5> RESULT_NAMES = {
    "not_assessed", "satisfied", "partially_satisfied", "not_satisfied", "not_applicable"};
constexpr std::array<std::string_view, 3> METHOD_NAMES = {"examine", "interview", "test"};
constexpr std::array<std::string_view, 4> RISK_NAMES = {"low", "moderate", "high", "critical"};
constexpr std::array<std::string_view, 5> RECOMMENDATION_STATUS_NAMES = {
    "open", "in_progress", "implemented", "verified", "risk_accepted"};
constexpr std::array<std::string_view, 3> TLP_NAMES = {"red", "amber+strict", "amber"};

constexpr std::string_view AUDIT_COLUMNS =
    "a.id, a.reference, a.owner_org_id, a.auditee_org_id, o.name, a.standard_id, s.title, "
    "a.title, a.objectives, a.status, a.marking, a.opened_by, a.planned_start, a.planned_end, "
    "a.conclusion, a.issued_at, a.closed_at, a.created_at, a.updated_at, a.version";
constexpr std::string_view AUDIT_FROM =
    "audits a JOIN organizations o ON o.id = a.auditee_org_id JOIN standards s ON "
    "s.id = a.standard_id";

template <size_t N>
bool OneOf(const std::array<std::string_view, N>& names, std::string_view text) {
  return std::find(names.begin(), names.end(), text) != names.end();
}

std::string Join(std::span<const std::string_view> names) {
  std::string out;
  for (auto name : names) out += (out.empty() ? "" : ", ") + std::string(name);
  return out;
}

tl::unexpected<CaseError> Invalid(std::string message, std::string field) {
  return tl::unexpected(InvalidCaseField(std::move(message), std::move(field)));
}
tl::unexpected<CaseError> Forbidden(std::string message) {
  return RefuseCase(CaseErrorKind::kForbidden, std::move(message));
}
tl::unexpected<CaseError> Conflict(std::string message) {
  return RefuseCase(CaseErrorKind::kConflict, std::move(message));
}

std::optional<int64_t> OptionalInt(const store::Field& field) {
  if (field.is_null()) return std::nullopt;
  return field.as_int();
}

store::Param OptionalParam(const std::optional<int64_t>& value) {
  return value ? store::Param{*value} : store::Param{};
}

std::optional<Audit> LoadAudit(store::Connection& connection, std::string_view id) {
  store::Rows rows =
      connection.Query(fmt::format("SELECT {} FROM {} WHERE a.id = $1", AUDIT_COLUMNS, AUDIT_FROM),
                       {store::Param{std::string(id)}});
  if (rows.empty()) return std::nullopt;
  const auto& row = rows.rows[0];
  Audit audit;
  audit.id = row[0].text();
  audit.reference = row[1].text();
  audit.owner_org_id = row[2].text();
  audit.auditee_org_id = row[3].text();
  audit.auditee_name = row[4].text();
  audit.standard_id = row[5].text();
  audit.standard_title = row[6].text();
  audit.title = row[7].text();
  audit.objectives = row[8].text();
  audit.status = ParseAuditStatus(row[9].text()).value_or(AuditStatus::kPlanning);
  audit.tlp = ParseTlp(row[10].text()).value_or(Tlp::kAmberStrict);
  audit.opened_by = row[11].text();
  audit.planned_start = OptionalInt(row[12]);
  audit.planned_end = OptionalInt(row[13]);
  audit.conclusion = row[14].optional_text();
  audit.issued_at = OptionalInt(row[15]);
  audit.closed_at = OptionalInt(row[16]);
  audit.created_at = row[17].as_int();
  audit.updated_at = row[18].as_int();
  audit.version = row[19].as_int();
  for (const auto& member :
       connection
           .Query("SELECT m.user_id, u.username, u.display_name, m.role, m.added_at FROM "
                  "audit_members m JOIN users u ON u.id = m.user_id WHERE m.audit_id = $1 "
                  "ORDER BY m.added_at, m.user_id",
                  {store::Param{audit.id}})
           .rows) {
    audit.members.push_back(AuditMember{member[0].text(), member[1].text(), member[2].text(),
                                        ParseCaseRole(member[3].text()).value_or(CaseRole::kReader),
                                        member[4].as_int()});
  }
  return audit;
}

// The team's grants, from audit_members.
void SyncGrants(store::Connection& connection, const std::string& audit_id) {
  Marking marking;
  for (const auto& row : connection
                             .Query("SELECT user_id FROM audit_members WHERE audit_id = $1 "
                                    "ORDER BY user_id",
                                    {store::Param{audit_id}})
                             .rows) {
    marking.named_user_ids.push_back(row[0].text());
  }
  SaveGrants(connection, OBJECT_TYPE, audit_id, marking);
}

Marking TeamMarking(const Audit& audit) {
  Marking marking;
  marking.tlp = Tlp::kRed;
  marking.owner_org_id = audit.owner_org_id;
  marking.addressed = true;
  for (const auto& member : audit.members) marking.named_user_ids.push_back(member.user_id);
  return marking;
}

bool OnTeam(const Principal& principal, const Audit& audit) {
  return principal.IsCentreStaff() && CanRead(principal, TeamMarking(audit));
}

// One history row, one audit-log entry (RED: who audits whom is need-to-know), and the audit's
// updated_at moved on.
void Record(store::Connection& connection, const Principal& principal, const Audit& audit,
            std::string_view kind, std::string action, const JsonValue& detail, int64_t now_ms) {
  connection.Execute(
      "INSERT INTO audit_history (id, audit_id, seq, at, actor_id, kind, detail) VALUES ($1, $2, "
      "(SELECT COALESCE(MAX(seq), 0) + 1 FROM audit_history WHERE audit_id = $2), $3, $4, $5, $6)",
      {store::Param{NewId()}, store::Param{audit.id}, store::Param{now_ms},
       store::Param{principal.user_id}, store::Param{std::string(kind)},
       store::Param{detail.Serialize()}});
  AuditEntry entry =
      EntryFor(principal, std::move(action), std::string(OBJECT_TYPE), audit.id, Tlp::kRed);
  entry.detail = detail.Serialize();
  AuditLog::Append(connection, entry, now_ms);
  connection.Execute("UPDATE audits SET updated_at = $2 WHERE id = $1",
                     {store::Param{audit.id}, store::Param{now_ms}});
}

std::string NextReference(store::Connection& connection, int64_t now_ms) {
  std::string year = FormatTimestampMs(now_ms).substr(0, 4);
  store::Rows rows = connection.Query(
      "INSERT INTO counters (name, value) VALUES ($1, 1) ON CONFLICT (name) DO UPDATE SET "
      "value = counters.value + 1 RETURNING value",
      {store::Param{"audit-" + year}});
  return fmt::format("AUD-{}-{:06d}", year, rows.rows.at(0).at(0).as_int());
}

std::optional<CaseError> CheckText(std::string_view field, const std::string& text, size_t max,
                                   bool required) {
  return CheckCaseText(field, text, max, required);
}

std::optional<CaseError> CheckTeamMember(store::Connection& connection, const std::string& user_id,
                                         const std::string& field) {
  if (!PlausibleId(user_id)) return InvalidCaseField(fmt::format("{} names no user", field), field);
  store::Rows rows = connection.Query(
      "SELECT u.roles, o.type, u.disabled FROM users u JOIN organizations o ON o.id = u.org_id "
      "WHERE u.id = $1",
      {store::Param{user_id}});
  if (rows.empty()) return InvalidCaseField(fmt::format("{} names no user", field), field);
  auto type = ParseOrgType(rows.rows[0][1].text());
  if (!type || !can::JoinCase(*type, ParseRolesText(rows.rows[0][0].text()))) {
    return InvalidCaseField(
        fmt::format("{}: only the centre's staff may be on an audit's team", field), field);
  }
  if (rows.rows[0][2].as_int() != 0) {
    return InvalidCaseField(fmt::format("{}: the user is disabled", field), field);
  }
  return std::nullopt;
}

bool AllowedTlp(Tlp tlp) {
  return tlp == Tlp::kRed || tlp == Tlp::kAmberStrict || tlp == Tlp::kAmber;
}

std::optional<CaseError> CheckPeriod(std::optional<int64_t> start, std::optional<int64_t> end) {
  if (start && end && *end < *start) {
    return InvalidCaseField("planned_end is before planned_start", "planned_end");
  }
  return std::nullopt;
}

// The control ids of a scope, in the standard's order, checked against it.
CaseResult<std::vector<const StandardControl*>> ResolveScope(
    const std::vector<StandardControl>& controls, const AuditScope& scope) {
  std::vector<const StandardControl*> chosen;
  if (!scope.control_ids.empty() && !scope.profile_document.empty()) {
    return Invalid("give control_ids or profile, not both", "profile");
  }
  if (!scope.profile_document.empty()) {
    auto ids = ProfileControlIds(controls, scope.profile_document);
    if (!ids) return Invalid(ids.error(), "profile");
    std::set<std::string> wanted(ids->begin(), ids->end());
    for (const auto& control : controls) {
      if (wanted.contains(control.control_id)) chosen.push_back(&control);
    }
    return chosen;
  }
  if (scope.control_ids.empty()) {
    for (const auto& control : controls) chosen.push_back(&control);
    return chosen;
  }
  if (scope.control_ids.size() > AUDIT_SCOPE_MAX) {
    return Invalid(fmt::format("an audit's scope holds at most {} controls", AUDIT_SCOPE_MAX),
                   "control_ids");
  }
  std::map<std::string_view, const StandardControl*> by_id;
  for (const auto& control : controls) by_id.emplace(control.control_id, &control);
  std::set<const StandardControl*> picked;
  for (size_t i = 0; i < scope.control_ids.size(); ++i) {
    auto found = by_id.find(scope.control_ids[i]);
    if (found == by_id.end()) {
      std::string field = fmt::format("control_ids[{}]", i);
      return Invalid(
          fmt::format("{}: control {:?} is not in the standard", field, scope.control_ids[i]),
          field);
    }
    picked.insert(found->second);
  }
  for (const auto& control : controls) {
    if (picked.contains(&control)) chosen.push_back(&control);
  }
  return chosen;
}

void WriteScope(store::Connection& connection, const std::string& audit_id,
                const std::vector<const StandardControl*>& scope) {
  connection.Execute("DELETE FROM audit_scope WHERE audit_id = $1", {store::Param{audit_id}});
  for (const StandardControl* control : scope) {
    connection.Execute(
        "INSERT INTO audit_scope (audit_id, control_id, position, result, methods, note) VALUES "
        "($1, $2, $3, 'not_assessed', '', '')",
        {store::Param{audit_id}, store::Param{control->control_id},
         store::Param{control->position}});
  }
}

// The audit for its team's work: a member (or lead when `lead`), and a status that allows it.
CaseResult<Audit> ForTeamWork(store::Connection& connection, const Principal& principal,
                              std::string_view id, bool lead) {
  auto audit = GetAudit(connection, principal, id);
  if (!audit) return audit;
  auto role = audit->RoleOf(principal.user_id);
  if (!OnTeam(principal, *audit)) return Forbidden("only the audit's team changes it");
  if (lead ? !can::RunCase(principal, role) : !can::WorkOnCase(principal, role)) {
    return Forbidden(lead ? "only an audit's leads may do this"
                          : "readers of an audit may not change it");
  }
  return audit;
}

// Assessments, findings and recommendations are written in fieldwork and reporting only.
std::optional<CaseError> CheckWorkingStatus(const Audit& audit) {
  if (audit.status == AuditStatus::kFieldwork || audit.status == AuditStatus::kReporting) {
    return std::nullopt;
  }
  return CaseError{CaseErrorKind::kConflict,
                   fmt::format("the audit is {}: assessments, findings and recommendations are "
                               "written in fieldwork and reporting",
                               ToString(audit.status)),
                   ""};
}

AuditFinding RowToFinding(const std::vector<store::Field>& row) {
  AuditFinding finding;
  finding.id = row[0].text();
  finding.number = row[1].as_int();
  finding.reference = fmt::format("F-{:03d}", finding.number);
  finding.control_id = row[2].text();
  finding.title = row[3].text();
  finding.description = row[4].text();
  finding.risk = row[5].text();
  finding.created_by = row[6].text();
  finding.created_at = row[7].as_int();
  finding.updated_at = row[8].as_int();
  return finding;
}

constexpr std::string_view FINDING_COLUMNS =
    "id, number, control_id, title, description, risk, created_by, created_at, updated_at";
constexpr std::string_view RECOMMENDATION_COLUMNS =
    "id, finding_id, number, text, due_at, status, created_by, created_at, updated_at";

AuditRecommendation RowToRecommendation(const std::vector<store::Field>& row) {
  AuditRecommendation recommendation;
  recommendation.id = row[0].text();
  recommendation.finding_id = row[1].text();
  recommendation.number = row[2].as_int();
  recommendation.reference = fmt::format("R-{:03d}", recommendation.number);
  recommendation.text = row[3].text();
  recommendation.due_at = row[4].as_int();
  recommendation.status = row[5].text();
  recommendation.created_by = row[6].text();
  recommendation.created_at = row[7].as_int();
  recommendation.updated_at = row[8].as_int();
  return recommendation;
}

std::vector<FollowUp> LoadFollowUps(store::Connection& connection,
                                    const std::string& recommendation_id) {
  std::vector<FollowUp> follow_ups;
  for (const auto& row :
       connection
           .Query("SELECT id, seq, at, actor_id, actor_org_id, status_from, status_to, note FROM "
                  "audit_follow_ups WHERE recommendation_id = $1 ORDER BY seq",
                  {store::Param{recommendation_id}})
           .rows) {
    follow_ups.push_back(FollowUp{row[0].text(), row[1].as_int(), row[2].as_int(), row[3].text(),
                                  row[4].text(), row[5].text(), row[6].text(), row[7].text()});
  }
  return follow_ups;
}

std::optional<AuditFinding> LoadFinding(store::Connection& connection, const std::string& audit_id,
                                        std::string_view finding_id) {
  if (!PlausibleId(finding_id)) return std::nullopt;
  store::Rows rows = connection.Query(
      fmt::format("SELECT {} FROM audit_findings WHERE audit_id = $1 AND id = $2", FINDING_COLUMNS),
      {store::Param{audit_id}, store::Param{std::string(finding_id)}});
  if (rows.empty()) return std::nullopt;
  return RowToFinding(rows.rows[0]);
}

constexpr std::string_view ATTACHMENT_TYPE = "audit_recommendation";
constexpr std::string_view ATTACHMENT_COLUMNS =
    "a.id, a.object_id, a.filename, a.content_type, a.size, a.sha256, a.uploaded_by, "
    "COALESCE(u.org_id, ''), a.uploaded_at";

AuditAttachment RowToAttachment(const std::vector<store::Field>& row) {
  return AuditAttachment{row[0].text(),   row[2].text(),   row[3].text(),
                         row[4].as_int(), row[5].text(),   row[6].text(),
                         row[7].text(),   row[8].as_int(), false};
}

// The attachments of the given recommendations, by recommendation id, oldest first.
std::map<std::string, std::vector<AuditAttachment>> LoadAttachments(
    store::Connection& connection, const std::vector<std::string>& recommendation_ids) {
  std::map<std::string, std::vector<AuditAttachment>> attachments;
  if (recommendation_ids.empty()) return attachments;
  std::vector<store::Param> params{store::Param{std::string(ATTACHMENT_TYPE)}};
  std::string list;
  for (const auto& id : recommendation_ids) {
    params.push_back(store::Param{id});
    list += fmt::format("{}${}", list.empty() ? "" : ", ", params.size());
  }
  for (const auto& row :
       connection
           .Query(fmt::format("SELECT {} FROM attachments a LEFT JOIN users u ON u.id = "
                              "a.uploaded_by WHERE a.object_type = $1 AND a.object_id IN ({}) "
                              "ORDER BY a.uploaded_at, a.id",
                              ATTACHMENT_COLUMNS, list),
                  params)
           .rows) {
    attachments[row[1].text()].push_back(RowToAttachment(row));
  }
  return attachments;
}

std::optional<AuditRecommendation> LoadRecommendation(store::Connection& connection,
                                                      const std::string& audit_id,
                                                      std::string_view recommendation_id) {
  if (!PlausibleId(recommendation_id)) return std::nullopt;
  store::Rows rows = connection.Query(
      fmt::format("SELECT {} FROM audit_recommendations WHERE audit_id = $1 AND id = $2",
                  RECOMMENDATION_COLUMNS),
      {store::Param{audit_id}, store::Param{std::string(recommendation_id)}});
  if (rows.empty()) return std::nullopt;
  AuditRecommendation recommendation = RowToRecommendation(rows.rows[0]);
  recommendation.follow_ups = LoadFollowUps(connection, recommendation.id);
  recommendation.attachments =
      std::move(LoadAttachments(connection, {recommendation.id})[recommendation.id]);
  return recommendation;
}

bool InScope(store::Connection& connection, const std::string& audit_id,
             const std::string& control_id) {
  return !connection
              .Query("SELECT 1 FROM audit_scope WHERE audit_id = $1 AND control_id = $2",
                     {store::Param{audit_id}, store::Param{control_id}})
              .empty();
}

// What must hold before a report is issued; the first problem, in words a lead can act on.
std::optional<std::string> ReadyToIssue(store::Connection& connection, const Audit& audit) {
  store::Rows unassessed = connection.Query(
      "SELECT control_id FROM audit_scope WHERE audit_id = $1 AND result = 'not_assessed' "
      "ORDER BY position",
      {store::Param{audit.id}});
  if (!unassessed.empty()) {
    std::string first;
    for (size_t i = 0; i < std::min<size_t>(unassessed.rows.size(), 5); ++i) {
      first += (i == 0 ? "" : ", ") + unassessed.rows[i][0].text();
    }
    return fmt::format("{} control(s) in scope are not assessed yet ({}{})", unassessed.rows.size(),
                       first, unassessed.rows.size() > 5 ? ", ..." : "");
  }
  store::Rows without_finding = connection.Query(
      "SELECT s.control_id FROM audit_scope s WHERE s.audit_id = $1 AND s.result IN "
      "('not_satisfied', 'partially_satisfied') AND NOT EXISTS (SELECT 1 FROM audit_findings f "
      "WHERE f.audit_id = s.audit_id AND f.control_id = s.control_id) ORDER BY s.position",
      {store::Param{audit.id}});
  if (!without_finding.empty()) {
    return fmt::format("control {} is not satisfied but has no finding",
                       without_finding.rows[0][0].text());
  }
  store::Rows without_recommendation = connection.Query(
      "SELECT f.number FROM audit_findings f WHERE f.audit_id = $1 AND NOT EXISTS (SELECT 1 FROM "
      "audit_recommendations r WHERE r.finding_id = f.id) ORDER BY f.number",
      {store::Param{audit.id}});
  if (!without_recommendation.empty()) {
    return fmt::format("finding F-{:03d} has no recommendation",
                       without_recommendation.rows[0][0].as_int());
  }
  return std::nullopt;
}

std::optional<std::string> ReadyToClose(store::Connection& connection, const Audit& audit) {
  store::Rows open = connection.Query(
      "SELECT number FROM audit_recommendations WHERE audit_id = $1 AND status NOT IN "
      "('verified', 'risk_accepted') ORDER BY number",
      {store::Param{audit.id}});
  if (open.empty()) return std::nullopt;
  return fmt::format("{} recommendation(s) are neither verified nor accepted (R-{:03d} first)",
                     open.rows.size(), open.rows[0][0].as_int());
}

bool AllowedTransition(AuditStatus from, AuditStatus to) {
  using S = AuditStatus;
  switch (to) {
    case S::kFieldwork:
      return from == S::kPlanning || from == S::kReporting;
    case S::kReporting:
      return from == S::kFieldwork;
    case S::kIssued:
      return from == S::kReporting;
    case S::kClosed:
      return from == S::kIssued;
    case S::kCancelled:
      return from == S::kPlanning || from == S::kFieldwork || from == S::kReporting;
    case S::kPlanning:
      return false;
  }
  return false;
}

// The SQL condition on audits (alias a) the principal may read, its parameters appended to
// `params`; nullopt when it reads none. The team reads through its grants (as
// hub::ReadCondition writes them for any object); the audited organisation's administrators
// read the audits of their organisation once issued. GetAudit is the same rule for one audit.
std::optional<std::string> ReadableAudits(const Principal& principal,
                                          std::vector<store::Param>& params) {
  if (principal.IsCentreStaff()) {
    SqlCondition team =
        ReadCondition(principal, OBJECT_TYPE, "a", static_cast<int>(params.size()) + 1);
    params.insert(params.end(), team.params.begin(), team.params.end());
    return team.sql;
  }
  if (can::ReadIssuedAudit(principal, principal.org_id)) {
    params.push_back(store::Param{principal.org_id});
    return fmt::format("(a.auditee_org_id = ${} AND a.status IN ('issued', 'closed'))",
                       params.size());
  }
  return std::nullopt;
}

}  // namespace

std::string_view ToString(AuditStatus status) { return STATUS_NAMES[static_cast<size_t>(status)]; }

std::optional<AuditStatus> ParseAuditStatus(std::string_view text) {
  for (size_t i = 0; i < STATUS_NAMES.size(); ++i) {
    if (STATUS_NAMES[i] == text) return static_cast<AuditStatus>(i);
  }
  return std::nullopt;
}

std::span<const std::string_view> AuditStatusNames() { return STATUS_NAMES; }
std::span<const std::string_view> AuditTlpNames() { return TLP_NAMES; }
std::span<const std::string_view> ControlResultNames() { return RESULT_NAMES; }
std::span<const std::string_view> AssessmentMethodNames() { return METHOD_NAMES; }
std::span<const std::string_view> FindingRiskNames() { return RISK_NAMES; }
std::span<const std::string_view> AuditRecommendationStatusNames() {
  return RECOMMENDATION_STATUS_NAMES;
}

std::optional<CaseRole> Audit::RoleOf(std::string_view user_id) const {
  for (const auto& member : members) {
    if (member.user_id == user_id) return member.role;
  }
  return std::nullopt;
}

bool Audit::Issued() const {
  return status == AuditStatus::kIssued || status == AuditStatus::kClosed;
}

bool AuditRecommendation::OverdueAt(int64_t now_ms) const {
  return now_ms > due_at && (status == "open" || status == "in_progress");
}

CaseResult<Audit> GetAudit(store::Connection& connection, const Principal& principal,
                           std::string_view id) {
  if (!PlausibleId(id)) return CaseNotFound("audit");
  std::optional<Audit> audit = LoadAudit(connection, id);
  if (!audit) return CaseNotFound("audit");
  if (OnTeam(principal, *audit)) return std::move(*audit);
  if (audit->Issued() && can::ReadIssuedAudit(principal, audit->auditee_org_id)) {
    return std::move(*audit);
  }
  return CaseNotFound("audit");
}

CaseResult<Audit> OpenAudit(store::Connection& connection, const Principal& principal,
                            const AuditCreate& create, int64_t now_ms) {
  if (!can::OpenAudit(principal)) {
    return Forbidden("only the centre's duty officers and auditors open audits");
  }
  if (auto error = CheckText("title", create.title, AUDIT_TITLE_MAX, true)) {
    return tl::unexpected(*error);
  }
  if (auto error = CheckText("objectives", create.objectives, AUDIT_TEXT_MAX, false)) {
    return tl::unexpected(*error);
  }
  if (!AllowedTlp(create.tlp))
    return Invalid("an audit is marked red, amber+strict or amber", "tlp");
  if (auto error = CheckPeriod(create.planned_start, create.planned_end)) {
    return tl::unexpected(*error);
  }
  if (!PlausibleId(create.auditee_org_id)) {
    return Invalid("auditee_org_id names no organisation", "auditee_org_id");
  }
  store::Rows org = connection.Query("SELECT type FROM organizations WHERE id = $1",
                                     {store::Param{create.auditee_org_id}});
  if (org.empty()) return Invalid("auditee_org_id names no organisation", "auditee_org_id");
  auto type = ParseOrgType(org.rows[0][0].text());
  if (!type || *type == OrgType::kCentre || *type == OrgType::kPartnerCert) {
    return Invalid(
        "the centre audits ministries, independent agencies, critical infrastructure operators "
        "and local governments",
        "auditee_org_id");
  }
  auto standard = GetStandard(connection, principal, create.standard_id);
  if (!standard) return Invalid("standard_id names no standard", "standard_id");
  if (create.members.size() > CASE_MEMBERS_MAX) {
    return Invalid(fmt::format("an audit's team has at most {} members", CASE_MEMBERS_MAX),
                   "members");
  }
  for (size_t i = 0; i < create.members.size(); ++i) {
    if (auto error = CheckTeamMember(connection, create.members[i].first,
                                     fmt::format("members[{}].user_id", i))) {
      return tl::unexpected(*error);
    }
  }
  std::vector<StandardControl> controls = StandardControls(connection, standard->id);
  auto scope = ResolveScope(controls, create.scope);
  if (!scope) return tl::unexpected(scope.error());

  Audit audit;
  audit.id = NewId();
  audit.reference = NextReference(connection, now_ms);
  audit.owner_org_id = principal.org_id;
  connection.Execute(
      "INSERT INTO audits (id, reference, owner_org_id, author_id, tlp, addressed, centre_intake, "
      "marking, auditee_org_id, standard_id, title, objectives, status, opened_by, planned_start, "
      "planned_end, created_at, updated_at, version) VALUES ($1, $2, $3, '', 'red', 1, 0, $4, $5, "
      "$6, $7, $8, 'planning', $9, $10, $11, $12, $12, 1)",
      {store::Param{audit.id}, store::Param{audit.reference}, store::Param{audit.owner_org_id},
       store::Param{std::string(ToString(create.tlp))}, store::Param{create.auditee_org_id},
       store::Param{standard->id}, store::Param{create.title}, store::Param{create.objectives},
       store::Param{principal.user_id}, OptionalParam(create.planned_start),
       OptionalParam(create.planned_end), store::Param{now_ms}});
  auto add_member = [&](const std::string& user_id, CaseRole role) {
    connection.Execute(
        "INSERT INTO audit_members (audit_id, user_id, role, added_by, added_at) VALUES ($1, $2, "
        "$3, $4, $5) ON CONFLICT (audit_id, user_id) DO UPDATE SET role = $3",
        {store::Param{audit.id}, store::Param{user_id}, store::Param{std::string(ToString(role))},
         store::Param{principal.user_id}, store::Param{now_ms}});
  };
  for (const auto& [user_id, role] : create.members) {
    if (user_id != principal.user_id) add_member(user_id, role);
  }
  add_member(principal.user_id, CaseRole::kLead);
  SyncGrants(connection, audit.id);
  WriteScope(connection, audit.id, *scope);
  audit = *LoadAudit(connection, audit.id);
  JsonValue detail = JsonValue::MakeObject();
  detail.Set("reference", audit.reference);
  detail.Set("title", audit.title);
  detail.Set("auditee_org_id", audit.auditee_org_id);
  detail.Set("standard_id", audit.standard_id);
  detail.Set("controls", static_cast<int64_t>(scope->size()));
  Record(connection, principal, audit, "opened", "audit.open", detail, now_ms);
  return std::move(*LoadAudit(connection, audit.id));
}

CaseResult<Audit> UpdateAudit(store::Connection& connection, const Principal& principal,
                              std::string_view id, const AuditUpdate& update,
                              std::optional<int64_t> expected_version, int64_t now_ms) {
  auto audit = ForTeamWork(connection, principal, id, true);
  if (!audit) return audit;
  if (audit->Issued() || audit->status == AuditStatus::kCancelled) {
    return Conflict(fmt::format("the audit is {}: its fields are fixed", ToString(audit->status)));
  }
  if (update.title) {
    if (auto error = CheckText("title", *update.title, AUDIT_TITLE_MAX, true)) {
      return tl::unexpected(*error);
    }
  }
  if (update.objectives) {
    if (auto error = CheckText("objectives", *update.objectives, AUDIT_TEXT_MAX, false)) {
      return tl::unexpected(*error);
    }
  }
  if (update.tlp && !AllowedTlp(*update.tlp)) {
    return Invalid("an audit is marked red, amber+strict or amber", "tlp");
  }
  std::optional<int64_t> start = update.planned_start.value_or(audit->planned_start);
  std::optional<int64_t> end = update.planned_end.value_or(audit->planned_end);
  if (auto error = CheckPeriod(start, end)) return tl::unexpected(*error);
  if (expected_version && *expected_version != audit->version) {
    return Conflict(fmt::format("the audit changed since version {} (it is at version {})",
                                *expected_version, audit->version));
  }
  JsonValue changed = JsonValue::MakeArray();
  if (update.title && *update.title != audit->title) changed.Push("title");
  if (update.objectives && *update.objectives != audit->objectives) changed.Push("objectives");
  if (update.tlp && *update.tlp != audit->tlp) changed.Push("tlp");
  if (start != audit->planned_start) changed.Push("planned_start");
  if (end != audit->planned_end) changed.Push("planned_end");
  if (changed.as_array().empty()) return audit;
  connection.Execute(
      "UPDATE audits SET title = $2, objectives = $3, marking = $4, planned_start = $5, "
      "planned_end = $6, version = version + 1 WHERE id = $1",
      {store::Param{audit->id}, store::Param{update.title.value_or(audit->title)},
       store::Param{update.objectives.value_or(audit->objectives)},
       store::Param{std::string(ToString(update.tlp.value_or(audit->tlp)))}, OptionalParam(start),
       OptionalParam(end)});
  JsonValue detail = JsonValue::MakeObject();
  detail.Set("changed", std::move(changed));
  Record(connection, principal, *audit, "updated", "audit.update", detail, now_ms);
  return std::move(*LoadAudit(connection, audit->id));
}

CaseResult<Audit> SetAuditScope(store::Connection& connection, const Principal& principal,
                                std::string_view id, const AuditScope& scope, int64_t now_ms) {
  auto audit = ForTeamWork(connection, principal, id, true);
  if (!audit) return audit;
  if (audit->status != AuditStatus::kPlanning) {
    return Conflict("the scope is fixed once fieldwork starts");
  }
  std::vector<StandardControl> controls = StandardControls(connection, audit->standard_id);
  auto chosen = ResolveScope(controls, scope);
  if (!chosen) return tl::unexpected(chosen.error());
  WriteScope(connection, audit->id, *chosen);
  connection.Execute("UPDATE audits SET version = version + 1 WHERE id = $1",
                     {store::Param{audit->id}});
  JsonValue detail = JsonValue::MakeObject();
  detail.Set("controls", static_cast<int64_t>(chosen->size()));
  detail.Set("from_profile", !scope.profile_document.empty());
  Record(connection, principal, *audit, "scope_set", "audit.scope", detail, now_ms);
  return std::move(*LoadAudit(connection, audit->id));
}

CaseResult<Audit> TransitionAudit(store::Connection& connection, const Principal& principal,
                                  std::string_view id, AuditStatus to, const std::string& note,
                                  int64_t now_ms) {
  auto audit = ForTeamWork(connection, principal, id, true);
  if (!audit) return audit;
  const AuditStatus from = audit->status;
  if (from == to) return Conflict(fmt::format("the audit is {} already", ToString(to)));
  if (!AllowedTransition(from, to)) {
    return Conflict(
        fmt::format("an audit does not go from {} to {}", ToString(from), ToString(to)));
  }
  const bool note_required = to == AuditStatus::kClosed || to == AuditStatus::kCancelled;
  if (auto error = CheckText("note", note, AUDIT_TEXT_MAX, note_required)) {
    return tl::unexpected(*error);
  }
  if (to == AuditStatus::kIssued) {
    if (auto problem = ReadyToIssue(connection, *audit)) {
      return Conflict("the report cannot be issued yet: " + *problem);
    }
  }
  if (to == AuditStatus::kClosed) {
    if (auto problem = ReadyToClose(connection, *audit)) {
      return Conflict("the audit cannot be closed yet: " + *problem);
    }
  }
  connection.Execute(
      "UPDATE audits SET status = $2, version = version + 1, issued_at = CASE WHEN $3 = 1 THEN "
      "$5 ELSE issued_at END, closed_at = CASE WHEN $4 = 1 THEN $5 ELSE closed_at END, conclusion "
      "= CASE WHEN $4 = 1 THEN $6 ELSE conclusion END WHERE id = $1",
      {store::Param{audit->id}, store::Param{std::string(ToString(to))},
       store::Param{int64_t{to == AuditStatus::kIssued}},
       store::Param{int64_t{to == AuditStatus::kClosed || to == AuditStatus::kCancelled}},
       store::Param{now_ms}, store::Param{note}});
  JsonValue detail = JsonValue::MakeObject();
  detail.Set("from", std::string(ToString(from)));
  detail.Set("to", std::string(ToString(to)));
  if (!note.empty()) detail.Set("note", note);
  Record(connection, principal, *audit, "transition", "audit.transition", detail, now_ms);
  return std::move(*LoadAudit(connection, audit->id));
}

CaseResult<bool> SetAuditMember(store::Connection& connection, const Principal& principal,
                                std::string_view id, const std::string& user_id, CaseRole role,
                                int64_t now_ms) {
  auto audit = ForTeamWork(connection, principal, id, true);
  if (!audit) return tl::unexpected(audit.error());
  if (audit->status == AuditStatus::kClosed || audit->status == AuditStatus::kCancelled) {
    return Conflict("the audit is over: its team is fixed");
  }
  auto existing = audit->RoleOf(user_id);
  if (!existing) {
    if (audit->members.size() >= CASE_MEMBERS_MAX) {
      return Conflict(fmt::format("an audit's team has at most {} members", CASE_MEMBERS_MAX));
    }
    if (auto error = CheckTeamMember(connection, user_id, "user_id")) {
      return tl::unexpected(*error);
    }
  } else {
    if (*existing == role) return false;
    int64_t leads = std::count_if(audit->members.begin(), audit->members.end(),
                                  [](const AuditMember& m) { return m.role == CaseRole::kLead; });
    if (*existing == CaseRole::kLead && leads == 1) {
      return Conflict("the audit's last lead stays a lead: make someone else lead first");
    }
  }
  connection.Execute(
      "INSERT INTO audit_members (audit_id, user_id, role, added_by, added_at) VALUES ($1, $2, $3, "
      "$4, $5) ON CONFLICT (audit_id, user_id) DO UPDATE SET role = $3",
      {store::Param{audit->id}, store::Param{user_id}, store::Param{std::string(ToString(role))},
       store::Param{principal.user_id}, store::Param{now_ms}});
  SyncGrants(connection, audit->id);
  JsonValue detail = JsonValue::MakeObject();
  detail.Set("user_id", user_id);
  detail.Set("role", std::string(ToString(role)));
  if (existing) detail.Set("previous_role", std::string(ToString(*existing)));
  Record(connection, principal, *audit, existing ? "member_changed" : "member_added",
         existing ? "audit.member.change" : "audit.member.add", detail, now_ms);
  return !existing;
}

CaseResult<void> RemoveAuditMember(store::Connection& connection, const Principal& principal,
                                   std::string_view id, const std::string& user_id,
                                   int64_t now_ms) {
  const bool leaving = user_id == principal.user_id;
  auto audit =
      leaving ? GetAudit(connection, principal, id) : ForTeamWork(connection, principal, id, true);
  if (!audit) return tl::unexpected(audit.error());
  if (leaving && !OnTeam(principal, *audit)) return CaseNotFound("member");
  auto role = audit->RoleOf(user_id);
  if (!role) return CaseNotFound("member");
  int64_t leads = std::count_if(audit->members.begin(), audit->members.end(),
                                [](const AuditMember& m) { return m.role == CaseRole::kLead; });
  if (*role == CaseRole::kLead && leads == 1) {
    return Conflict("the audit's last lead cannot leave it: make someone else lead first");
  }
  connection.Execute("DELETE FROM audit_members WHERE audit_id = $1 AND user_id = $2",
                     {store::Param{audit->id}, store::Param{user_id}});
  SyncGrants(connection, audit->id);
  JsonValue detail = JsonValue::MakeObject();
  detail.Set("user_id", user_id);
  detail.Set("role", std::string(ToString(*role)));
  Record(connection, principal, *audit, "member_removed", "audit.member.remove", detail, now_ms);
  return {};
}

CaseResult<std::vector<ScopedControl>> AuditControls(store::Connection& connection,
                                                     const Principal& principal,
                                                     std::string_view id) {
  auto audit = GetAudit(connection, principal, id);
  if (!audit) return tl::unexpected(audit.error());
  std::vector<ScopedControl> controls;
  for (const auto& row :
       connection
           .Query("SELECT c.control_id, c.parent_id, c.group_title, c.label, c.title, c.class, "
                  "c.statement, c.depth, c.position, s.result, s.methods, s.note, s.assessed_by, "
                  "s.assessed_at FROM audit_scope s JOIN standard_controls c ON c.standard_id = "
                  "$2 AND c.control_id = s.control_id WHERE s.audit_id = $1 ORDER BY s.position",
                  {store::Param{audit->id}, store::Param{audit->standard_id}})
           .rows) {
    ScopedControl scoped;
    scoped.control = StandardControl{
        row[0].text(),  row[1].text(), row[2].text(), row[3].text(),
        row[4].text(),  row[5].text(), row[6].text(), static_cast<int>(row[7].as_int()),
        row[8].as_int()};
    scoped.result = row[9].text();
    std::string_view methods = row[10].text();
    while (!methods.empty()) {
      size_t comma = methods.find(',');
      scoped.methods.emplace_back(methods.substr(0, comma));
      methods = comma == std::string_view::npos ? std::string_view() : methods.substr(comma + 1);
    }
    scoped.note = row[11].text();
    scoped.assessed_by = row[12].is_null() ? "" : row[12].text();
    scoped.assessed_at = OptionalInt(row[13]);
    controls.push_back(std::move(scoped));
  }
  return controls;
}

CaseResult<ScopedControl> AssessControl(store::Connection& connection, const Principal& principal,
                                        std::string_view id, const std::string& control_id,
                                        const ControlAssessment& assessment, int64_t now_ms) {
  auto audit = ForTeamWork(connection, principal, id, false);
  if (!audit) return tl::unexpected(audit.error());
  if (auto error = CheckWorkingStatus(*audit)) return tl::unexpected(*error);
  if (!OneOf(RESULT_NAMES, assessment.result)) {
    return Invalid(fmt::format("result is one of {}", Join(RESULT_NAMES)), "result");
  }
  std::string methods;
  std::set<std::string> seen;
  for (size_t i = 0; i < assessment.methods.size(); ++i) {
    if (!OneOf(METHOD_NAMES, assessment.methods[i])) {
      std::string field = fmt::format("methods[{}]", i);
      return Invalid(fmt::format("{} is one of {}", field, Join(METHOD_NAMES)), field);
    }
    if (seen.insert(assessment.methods[i]).second) {
      methods += (methods.empty() ? "" : ",") + assessment.methods[i];
    }
  }
  if (auto error = CheckText("note", assessment.note, AUDIT_TEXT_MAX, false)) {
    return tl::unexpected(*error);
  }
  if (!InScope(connection, audit->id, control_id)) return CaseNotFound("control in scope");
  const bool assessed = assessment.result != "not_assessed";
  connection.Execute(
      "UPDATE audit_scope SET result = $3, methods = $4, note = $5, assessed_by = $6, "
      "assessed_at = $7 WHERE audit_id = $1 AND control_id = $2",
      {store::Param{audit->id}, store::Param{control_id}, store::Param{assessment.result},
       store::Param{methods}, store::Param{assessment.note},
       assessed ? store::Param{principal.user_id} : store::Param{},
       assessed ? store::Param{now_ms} : store::Param{}});
  JsonValue detail = JsonValue::MakeObject();
  detail.Set("control_id", control_id);
  detail.Set("result", assessment.result);
  Record(connection, principal, *audit, "assessed", "audit.assess", detail, now_ms);
  auto controls = AuditControls(connection, principal, id);
  for (auto& scoped : *controls) {
    if (scoped.control.control_id == control_id) return std::move(scoped);
  }
  return CaseNotFound("control in scope");
}

CaseResult<AuditFinding> AddFinding(store::Connection& connection, const Principal& principal,
                                    std::string_view id, const FindingWrite& write,
                                    int64_t now_ms) {
  auto audit = ForTeamWork(connection, principal, id, false);
  if (!audit) return tl::unexpected(audit.error());
  if (auto error = CheckWorkingStatus(*audit)) return tl::unexpected(*error);
  if (!write.control_id || write.control_id->empty()) {
    return Invalid("control_id must name a control in scope", "control_id");
  }
  if (auto error = CheckText("title", write.title.value_or(""), AUDIT_TITLE_MAX, true)) {
    return tl::unexpected(*error);
  }
  if (auto error =
          CheckText("description", write.description.value_or(""), AUDIT_TEXT_MAX, false)) {
    return tl::unexpected(*error);
  }
  std::string risk = write.risk.value_or("moderate");
  if (!OneOf(RISK_NAMES, risk))
    return Invalid(fmt::format("risk is one of {}", Join(RISK_NAMES)), "risk");
  if (!InScope(connection, audit->id, *write.control_id)) {
    return Invalid(fmt::format("control {:?} is not in the audit's scope", *write.control_id),
                   "control_id");
  }
  std::string finding_id = NewId();
  connection.Execute(
      "INSERT INTO audit_findings (id, audit_id, number, control_id, title, description, risk, "
      "created_by, created_at, updated_at) VALUES ($1, $2, (SELECT COALESCE(MAX(number), 0) + 1 "
      "FROM audit_findings WHERE audit_id = $2), $3, $4, $5, $6, $7, $8, $8)",
      {store::Param{finding_id}, store::Param{audit->id}, store::Param{*write.control_id},
       store::Param{*write.title}, store::Param{write.description.value_or("")}, store::Param{risk},
       store::Param{principal.user_id}, store::Param{now_ms}});
  AuditFinding finding = *LoadFinding(connection, audit->id, finding_id);
  JsonValue detail = JsonValue::MakeObject();
  detail.Set("finding", finding.reference);
  detail.Set("control_id", finding.control_id);
  detail.Set("risk", finding.risk);
  Record(connection, principal, *audit, "finding_added", "audit.finding.add", detail, now_ms);
  return finding;
}

CaseResult<AuditFinding> UpdateFinding(store::Connection& connection, const Principal& principal,
                                       std::string_view id, std::string_view finding_id,
                                       const FindingWrite& write, int64_t now_ms) {
  auto audit = ForTeamWork(connection, principal, id, false);
  if (!audit) return tl::unexpected(audit.error());
  auto finding = LoadFinding(connection, audit->id, finding_id);
  if (!finding) return CaseNotFound("finding");
  if (auto error = CheckWorkingStatus(*audit)) return tl::unexpected(*error);
  if (write.control_id && !InScope(connection, audit->id, *write.control_id)) {
    return Invalid(fmt::format("control {:?} is not in the audit's scope", *write.control_id),
                   "control_id");
  }
  if (write.title) {
    if (auto error = CheckText("title", *write.title, AUDIT_TITLE_MAX, true)) {
      return tl::unexpected(*error);
    }
  }
  if (write.description) {
    if (auto error = CheckText("description", *write.description, AUDIT_TEXT_MAX, false)) {
      return tl::unexpected(*error);
    }
  }
  if (write.risk && !OneOf(RISK_NAMES, *write.risk)) {
    return Invalid(fmt::format("risk is one of {}", Join(RISK_NAMES)), "risk");
  }
  connection.Execute(
      "UPDATE audit_findings SET control_id = $3, title = $4, description = $5, risk = $6, "
      "updated_at = $7 WHERE audit_id = $1 AND id = $2",
      {store::Param{audit->id}, store::Param{finding->id},
       store::Param{write.control_id.value_or(finding->control_id)},
       store::Param{write.title.value_or(finding->title)},
       store::Param{write.description.value_or(finding->description)},
       store::Param{write.risk.value_or(finding->risk)}, store::Param{now_ms}});
  JsonValue detail = JsonValue::MakeObject();
  detail.Set("finding", finding->reference);
  Record(connection, principal, *audit, "finding_updated", "audit.finding.update", detail, now_ms);
  return std::move(*LoadFinding(connection, audit->id, finding->id));
}

CaseResult<AuditRecommendation> AddRecommendation(store::Connection& connection,
                                                  const Principal& principal, std::string_view id,
                                                  std::string_view finding_id,
                                                  const RecommendationWrite& write,
                                                  int64_t now_ms) {
  auto audit = ForTeamWork(connection, principal, id, false);
  if (!audit) return tl::unexpected(audit.error());
  auto finding = LoadFinding(connection, audit->id, finding_id);
  if (!finding) return CaseNotFound("finding");
  if (auto error = CheckWorkingStatus(*audit)) return tl::unexpected(*error);
  if (auto error = CheckText("text", write.text.value_or(""), AUDIT_TEXT_MAX, true)) {
    return tl::unexpected(*error);
  }
  if (!write.due_at) return Invalid("due_at is required: when the recommendation is due", "due_at");
  std::string recommendation_id = NewId();
  connection.Execute(
      "INSERT INTO audit_recommendations (id, audit_id, finding_id, number, text, due_at, status, "
      "created_by, created_at, updated_at) VALUES ($1, $2, $3, (SELECT COALESCE(MAX(number), 0) + "
      "1 FROM audit_recommendations WHERE audit_id = $2), $4, $5, 'open', $6, $7, $7)",
      {store::Param{recommendation_id}, store::Param{audit->id}, store::Param{finding->id},
       store::Param{*write.text}, store::Param{*write.due_at}, store::Param{principal.user_id},
       store::Param{now_ms}});
  AuditRecommendation recommendation =
      *LoadRecommendation(connection, audit->id, recommendation_id);
  JsonValue detail = JsonValue::MakeObject();
  detail.Set("recommendation", recommendation.reference);
  detail.Set("finding", finding->reference);
  detail.Set("due_at", FormatTimestampMs(recommendation.due_at));
  Record(connection, principal, *audit, "recommendation_added", "audit.recommendation.add", detail,
         now_ms);
  return recommendation;
}

CaseResult<AuditRecommendation> UpdateAuditRecommendation(
    store::Connection& connection, const Principal& principal, std::string_view id,
    std::string_view recommendation_id, const RecommendationWrite& write, int64_t now_ms) {
  auto audit = ForTeamWork(connection, principal, id, false);
  if (!audit) return tl::unexpected(audit.error());
  auto recommendation = LoadRecommendation(connection, audit->id, recommendation_id);
  if (!recommendation) return CaseNotFound("recommendation");
  // After issuing, a due date may still be moved by a lead (an agreed extension); the text is
  // what was issued.
  const bool extension = audit->status == AuditStatus::kIssued;
  if (extension) {
    if (write.text) return Conflict("the report is issued: a recommendation's text is fixed");
    if (!can::RunCase(principal, audit->RoleOf(principal.user_id))) {
      return Forbidden("only an audit's leads extend a recommendation's due date");
    }
  } else if (auto error = CheckWorkingStatus(*audit)) {
    return tl::unexpected(*error);
  }
  if (write.text) {
    if (auto error = CheckText("text", *write.text, AUDIT_TEXT_MAX, true)) {
      return tl::unexpected(*error);
    }
  }
  connection.Execute(
      "UPDATE audit_recommendations SET text = $3, due_at = $4, updated_at = $5 WHERE audit_id = "
      "$1 AND id = $2",
      {store::Param{audit->id}, store::Param{recommendation->id},
       store::Param{write.text.value_or(recommendation->text)},
       store::Param{write.due_at.value_or(recommendation->due_at)}, store::Param{now_ms}});
  JsonValue detail = JsonValue::MakeObject();
  detail.Set("recommendation", recommendation->reference);
  if (write.due_at && *write.due_at != recommendation->due_at) {
    detail.Set("due_at", FormatTimestampMs(*write.due_at));
    detail.Set("previous_due_at", FormatTimestampMs(recommendation->due_at));
  }
  Record(connection, principal, *audit, "recommendation_updated", "audit.recommendation.update",
         detail, now_ms);
  return std::move(*LoadRecommendation(connection, audit->id, recommendation->id));
}

CaseResult<AuditRecommendation> FollowUpRecommendation(store::Connection& connection,
                                                       const Principal& principal,
                                                       std::string_view id,
                                                       std::string_view recommendation_id,
                                                       const std::string& status,
                                                       const std::string& note, int64_t now_ms) {
  auto audit = GetAudit(connection, principal, id);
  if (!audit) return tl::unexpected(audit.error());
  auto recommendation = LoadRecommendation(connection, audit->id, recommendation_id);
  if (!recommendation) return CaseNotFound("recommendation");
  if (!OneOf(RECOMMENDATION_STATUS_NAMES, status) || status == "open") {
    return Invalid("status is in_progress, implemented, verified or risk_accepted", "status");
  }
  if (audit->status != AuditStatus::kIssued) {
    return Conflict(
        fmt::format("the audit is {}: recommendations are followed up once its report "
                    "is issued, until it is closed",
                    ToString(audit->status)));
  }
  const std::string& from = recommendation->status;
  const bool auditee = can::AnswerAuditRecommendation(principal, audit->auditee_org_id);
  const auto role = audit->RoleOf(principal.user_id);
  const bool team_member = OnTeam(principal, *audit) && can::WorkOnCase(principal, role);
  const bool team_lead = OnTeam(principal, *audit) && can::RunCase(principal, role);
  // Who may take which step (audits.hpp).
  bool allowed = false;
  std::string refusal;
  if (status == "in_progress" && (from == "open" || from == "in_progress")) {
    allowed = auditee;
    refusal = "the audited organisation's administrators report progress";
  } else if (status == "implemented" && (from == "open" || from == "in_progress")) {
    allowed = auditee;
    refusal = "the audited organisation's administrators report a recommendation implemented";
  } else if (status == "verified" && from == "implemented") {
    allowed = team_member;
    refusal = "the audit's team verifies what was implemented";
  } else if (status == "in_progress" && from == "implemented") {
    allowed = team_member;
    refusal = "the audit's team sends an implementation back";
  } else if (status == "risk_accepted" &&
             (from == "open" || from == "in_progress" || from == "implemented")) {
    allowed = team_lead;
    refusal = "an audit's leads record an accepted risk";
  } else if (status == "in_progress" && (from == "verified" || from == "risk_accepted")) {
    allowed = team_lead;
    refusal = "an audit's leads reopen a recommendation";
  } else {
    return Conflict(fmt::format("a recommendation does not go from {} to {}", from, status));
  }
  if (!allowed) return Forbidden(refusal);
  const bool note_required = !(status == "in_progress" && auditee && from == "open");
  if (auto error = CheckText("note", note, AUDIT_TEXT_MAX, note_required)) {
    return tl::unexpected(*error);
  }
  connection.Execute(
      "INSERT INTO audit_follow_ups (id, recommendation_id, audit_id, seq, at, actor_id, "
      "actor_org_id, status_from, status_to, note) VALUES ($1, $2, $3, (SELECT COALESCE(MAX(seq), "
      "0) + 1 FROM audit_follow_ups WHERE recommendation_id = $2), $4, $5, $6, $7, $8, $9)",
      {store::Param{NewId()}, store::Param{recommendation->id}, store::Param{audit->id},
       store::Param{now_ms}, store::Param{principal.user_id}, store::Param{principal.org_id},
       store::Param{from}, store::Param{status}, store::Param{note}});
  connection.Execute(
      "UPDATE audit_recommendations SET status = $3, updated_at = $4 WHERE audit_id = $1 AND id = "
      "$2",
      {store::Param{audit->id}, store::Param{recommendation->id}, store::Param{status},
       store::Param{now_ms}});
  JsonValue detail = JsonValue::MakeObject();
  detail.Set("recommendation", recommendation->reference);
  detail.Set("from", from);
  detail.Set("to", status);
  Record(connection, principal, *audit, "follow_up", "audit.follow_up", detail, now_ms);
  return std::move(*LoadRecommendation(connection, audit->id, recommendation->id));
}

CaseResult<AuditAttachment> AttachToRecommendation(store::Connection& connection,
                                                   const Principal& principal, std::string_view id,
                                                   std::string_view recommendation_id,
                                                   const std::string& filename,
                                                   const std::string& content_type,
                                                   const std::string& content, int64_t now_ms) {
  auto audit = GetAudit(connection, principal, id);
  if (!audit) return tl::unexpected(audit.error());
  auto recommendation = LoadRecommendation(connection, audit->id, recommendation_id);
  if (!recommendation) return CaseNotFound("recommendation");
  const bool settled =
      recommendation->status == "verified" || recommendation->status == "risk_accepted";
  if (can::AnswerAuditRecommendation(principal, audit->auditee_org_id)) {
    if (audit->status != AuditStatus::kIssued || settled) {
      return Conflict("files are attached to a recommendation while it is being followed up");
    }
  } else if (OnTeam(principal, *audit) &&
             can::WorkOnCase(principal, audit->RoleOf(principal.user_id))) {
    if (audit->status == AuditStatus::kPlanning || audit->status == AuditStatus::kClosed ||
        audit->status == AuditStatus::kCancelled) {
      return Conflict(
          fmt::format("the audit is {}: nothing is attached to it", ToString(audit->status)));
    }
  } else {
    return Forbidden("you may not attach files to this audit");
  }
  if (!ValidFilename(filename)) {
    return Invalid(
        "filename must be 1 to 255 characters without path separators, quotes or control "
        "characters",
        "filename");
  }
  if (!ValidContentType(content_type))
    return Invalid("Content-Type is not a media type", "content_type");
  if (content.empty()) return Invalid("the file is empty", "body");
  const std::string sha256 = Sha256Hex(content);
  const auto size = static_cast<int64_t>(content.size());
  // A retried upload must not insert twice.
  store::SerializeWith(
      connection, fmt::format("attachment {} {} {}", ATTACHMENT_TYPE, recommendation->id, sha256));
  store::Rows same = connection.Query(
      fmt::format("SELECT {} FROM attachments a LEFT JOIN users u ON u.id = a.uploaded_by WHERE "
                  "a.object_type = $1 AND a.object_id = $2 AND a.filename = $3 AND a.size = $4 "
                  "AND a.sha256 = $5 ORDER BY a.uploaded_at, a.id LIMIT 1",
                  ATTACHMENT_COLUMNS),
      {store::Param{std::string(ATTACHMENT_TYPE)}, store::Param{recommendation->id},
       store::Param{filename}, store::Param{size}, store::Param{sha256}});
  if (!same.empty()) {
    AuditAttachment attachment = RowToAttachment(same.rows[0]);
    attachment.already_attached = true;
    return attachment;
  }
  AuditAttachment attachment{NewId(),           filename,         content_type, size, sha256,
                             principal.user_id, principal.org_id, now_ms,       false};
  connection.Execute(
      "INSERT INTO attachments (id, object_type, object_id, filename, content_type, size, sha256, "
      "content, uploaded_by, uploaded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
      {store::Param{attachment.id}, store::Param{std::string(ATTACHMENT_TYPE)},
       store::Param{recommendation->id}, store::Param{filename}, store::Param{content_type},
       store::Param{size}, store::Param{sha256}, store::Param{store::Blob{content}},
       store::Param{principal.user_id}, store::Param{now_ms}});
  JsonValue detail = JsonValue::MakeObject();
  detail.Set("recommendation", recommendation->reference);
  detail.Set("attachment_id", attachment.id);
  detail.Set("filename", filename);
  detail.Set("size", size);
  detail.Set("sha256", sha256);
  Record(connection, principal, *audit, "attachment_added", "audit.attachment.add", detail, now_ms);
  return attachment;
}

CaseResult<std::pair<AuditAttachment, std::string>> RecommendationAttachment(
    store::Connection& connection, const Principal& principal, std::string_view id,
    std::string_view recommendation_id, std::string_view attachment_id) {
  auto audit = GetAudit(connection, principal, id);
  if (!audit) return tl::unexpected(audit.error());
  auto recommendation = LoadRecommendation(connection, audit->id, recommendation_id);
  if (!recommendation || !PlausibleId(attachment_id)) return CaseNotFound("attachment");
  store::Rows rows = connection.Query(
      fmt::format("SELECT {}, a.content FROM attachments a LEFT JOIN users u ON u.id = "
                  "a.uploaded_by WHERE a.object_type = $1 AND a.object_id = $2 AND a.id = $3",
                  ATTACHMENT_COLUMNS),
      {store::Param{std::string(ATTACHMENT_TYPE)}, store::Param{recommendation->id},
       store::Param{std::string(attachment_id)}});
  if (rows.empty()) return CaseNotFound("attachment");
  return std::make_pair(RowToAttachment(rows.rows[0]), rows.rows[0][9].text());
}

CaseResult<AuditResults> AuditFindings(store::Connection& connection, const Principal& principal,
                                       std::string_view id) {
  auto audit = GetAudit(connection, principal, id);
  if (!audit) return tl::unexpected(audit.error());
  AuditResults results;
  for (const auto& row :
       connection
           .Query(fmt::format("SELECT {} FROM audit_findings WHERE audit_id = $1 ORDER BY number",
                              FINDING_COLUMNS),
                  {store::Param{audit->id}})
           .rows) {
    results.findings.push_back(RowToFinding(row));
  }
  std::map<std::string, std::vector<FollowUp>> follow_ups;
  for (const auto& row :
       connection
           .Query("SELECT recommendation_id, id, seq, at, actor_id, actor_org_id, status_from, "
                  "status_to, note FROM audit_follow_ups WHERE audit_id = $1 ORDER BY "
                  "recommendation_id, seq",
                  {store::Param{audit->id}})
           .rows) {
    follow_ups[row[0].text()].push_back(FollowUp{row[1].text(), row[2].as_int(), row[3].as_int(),
                                                 row[4].text(), row[5].text(), row[6].text(),
                                                 row[7].text(), row[8].text()});
  }
  for (const auto& row :
       connection
           .Query(fmt::format("SELECT {} FROM audit_recommendations WHERE audit_id = $1 ORDER BY "
                              "number",
                              RECOMMENDATION_COLUMNS),
                  {store::Param{audit->id}})
           .rows) {
    AuditRecommendation recommendation = RowToRecommendation(row);
    if (auto found = follow_ups.find(recommendation.id); found != follow_ups.end()) {
      recommendation.follow_ups = std::move(found->second);
    }
    results.recommendations.push_back(std::move(recommendation));
  }
  std::vector<std::string> ids;
  for (const auto& recommendation : results.recommendations) ids.push_back(recommendation.id);
  auto attachments = LoadAttachments(connection, ids);
  for (auto& recommendation : results.recommendations) {
    if (auto found = attachments.find(recommendation.id); found != attachments.end()) {
      recommendation.attachments = std::move(found->second);
    }
  }
  return results;
}

std::map<std::string, AuditProgress> ProgressOfAudits(store::Connection& connection,
                                                      const std::vector<std::string>& audit_ids,
                                                      int64_t now_ms) {
  std::map<std::string, AuditProgress> progress;
  // A list page's audits are counted together: three queries, not three an audit.
  constexpr size_t BATCH = 400;
  for (size_t start = 0; start < audit_ids.size(); start += BATCH) {
    std::vector<store::Param> params;
    std::string list;
    for (size_t i = start; i < std::min(audit_ids.size(), start + BATCH); ++i) {
      progress[audit_ids[i]];
      params.push_back(store::Param{audit_ids[i]});
      list += fmt::format("{}${}", list.empty() ? "" : ", ", params.size());
    }
    for (const auto& row :
         connection
             .Query(fmt::format("SELECT audit_id, result, COUNT(*) FROM audit_scope WHERE "
                                "audit_id IN ({}) GROUP BY audit_id, result",
                                list),
                    params)
             .rows) {
      AuditProgress& one = progress[row[0].text()];
      const int64_t count = row[2].as_int();
      const std::string_view result = row[1].text();
      one.controls += count;
      if (result != "not_assessed") one.assessed += count;
      if (result == "satisfied") one.satisfied = count;
      if (result == "partially_satisfied") one.partially_satisfied = count;
      if (result == "not_satisfied") one.not_satisfied = count;
      if (result == "not_applicable") one.not_applicable = count;
    }
    for (const auto& row :
         connection
             .Query(fmt::format("SELECT audit_id, COUNT(*) FROM audit_findings WHERE audit_id IN "
                                "({}) GROUP BY audit_id",
                                list),
                    params)
             .rows) {
      progress[row[0].text()].findings = row[1].as_int();
    }
    for (const auto& row :
         connection
             .Query(fmt::format("SELECT audit_id, status, due_at FROM audit_recommendations "
                                "WHERE audit_id IN ({})",
                                list),
                    params)
             .rows) {
      AuditProgress& one = progress[row[0].text()];
      AuditRecommendation recommendation;
      recommendation.status = row[1].text();
      recommendation.due_at = row[2].as_int();
      ++one.recommendations;
      if (recommendation.status != "verified" && recommendation.status != "risk_accepted") {
        ++one.recommendations_open;
      }
      if (recommendation.OverdueAt(now_ms)) ++one.recommendations_overdue;
    }
  }
  return progress;
}

AuditProgress ProgressOf(store::Connection& connection, std::string_view audit_id, int64_t now_ms) {
  return ProgressOfAudits(connection, {std::string(audit_id)}, now_ms)[std::string(audit_id)];
}

CaseResult<std::vector<AuditHistoryEntry>> AuditHistory(store::Connection& connection,
                                                        const Principal& principal,
                                                        std::string_view id) {
  auto audit = GetAudit(connection, principal, id);
  if (!audit) return tl::unexpected(audit.error());
  if (!OnTeam(principal, *audit)) {
    return Forbidden("an audit's working history is its team's");
  }
  std::vector<AuditHistoryEntry> entries;
  for (const auto& row : connection
                             .Query("SELECT id, at, actor_id, kind, detail FROM audit_history "
                                    "WHERE audit_id = $1 ORDER BY seq, id",
                                    {store::Param{audit->id}})
                             .rows) {
    entries.push_back(AuditHistoryEntry{row[0].text(), row[1].as_int(), row[2].text(),
                                        row[3].text(), row[4].text()});
  }
  return entries;
}

AuditPage ListAudits(store::Connection& connection, const Principal& principal,
                     const AuditFilter& filter,
                     std::optional<std::pair<int64_t, std::string>> before, int limit) {
  AuditPage page;
  if (!principal.IsMember()) return page;
  if ((filter.title_contains && !ValidText(*filter.title_contains, 200)) ||
      (filter.auditee_org_id && !PlausibleId(*filter.auditee_org_id))) {
    return page;
  }
  std::vector<store::Param> params;
  auto next = [&](store::Param param) {
    params.push_back(std::move(param));
    return fmt::format("${}", params.size());
  };
  std::optional<std::string> readable = ReadableAudits(principal, params);
  if (!readable) return page;
  std::string user = next(principal.user_id);
  std::string sql = fmt::format(
      "SELECT a.id, a.reference, a.title, a.auditee_org_id, o.name, s.title, a.status, a.marking, "
      "m.role, a.planned_end, a.created_at, a.updated_at FROM {} LEFT JOIN audit_members m ON "
      "m.audit_id = a.id AND m.user_id = {} WHERE {}",
      AUDIT_FROM, user, *readable);
  if (filter.status) {
    sql += fmt::format(" AND a.status = {}", next(std::string(ToString(*filter.status))));
  }
  if (filter.auditee_org_id) {
    sql += fmt::format(" AND a.auditee_org_id = {}", next(*filter.auditee_org_id));
  }
  if (filter.title_contains) {
    std::string pattern;
    for (char c : *filter.title_contains) {
      if (c == '%' || c == '_' || c == '\\') pattern += '\\';
      pattern += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    }
    sql += fmt::format(" AND LOWER(a.title) LIKE {} ESCAPE '\\'", next("%" + pattern + "%"));
  }
  if (before) {
    std::string at = next(before->first);
    std::string last = next(before->second);
    sql +=
        fmt::format(" AND (a.created_at < {0} OR (a.created_at = {0} AND a.id < {1}))", at, last);
  }
  sql += fmt::format(" ORDER BY a.created_at DESC, a.id DESC LIMIT {}", limit + 1);
  for (const auto& row : connection.Query(sql, params).rows) {
    AuditSummary summary;
    summary.id = row[0].text();
    summary.reference = row[1].text();
    summary.title = row[2].text();
    summary.auditee_org_id = row[3].text();
    summary.auditee_name = row[4].text();
    summary.standard_title = row[5].text();
    summary.status = ParseAuditStatus(row[6].text()).value_or(AuditStatus::kPlanning);
    summary.tlp = ParseTlp(row[7].text()).value_or(Tlp::kAmberStrict);
    if (!row[8].is_null()) summary.role = ParseCaseRole(row[8].text());
    summary.planned_end = OptionalInt(row[9]);
    summary.created_at = row[10].as_int();
    summary.updated_at = row[11].as_int();
    page.items.push_back(std::move(summary));
  }
  if (page.items.size() > static_cast<size_t>(limit)) {
    page.items.resize(limit);
    page.more = true;
  }
  return page;
}

std::vector<AuditRecommendationSummary> ListAuditRecommendations(
    store::Connection& connection, const Principal& principal,
    const AuditRecommendationFilter& filter, int64_t now_ms, int limit) {
  std::vector<AuditRecommendationSummary> items;
  if (!principal.IsMember()) return items;
  if (filter.auditee_org_id && !PlausibleId(*filter.auditee_org_id)) return items;
  std::vector<store::Param> params;
  std::optional<std::string> readable = ReadableAudits(principal, params);
  if (!readable) return items;
  auto next = [&](store::Param param) {
    params.push_back(std::move(param));
    return fmt::format("${}", params.size());
  };
  std::string sql = fmt::format(
      "SELECT r.id, r.number, r.text, r.due_at, r.status, r.updated_at, a.id, "
      "a.reference, a.title, a.auditee_org_id, o.name, a.status, f.id, f.number, f.control_id, "
      "f.title, f.risk FROM audit_recommendations r JOIN audits a ON a.id = r.audit_id JOIN "
      "organizations o ON o.id = a.auditee_org_id JOIN audit_findings f ON f.id = r.finding_id "
      "WHERE {} AND a.status IN ('issued', 'closed')",
      *readable);
  if (!filter.statuses.empty()) {
    std::string list;
    for (const auto& status : filter.statuses) {
      list += (list.empty() ? "" : ", ") + next(status);
    }
    sql += fmt::format(" AND r.status IN ({})", list);
  }
  if (filter.overdue_only) {
    sql += fmt::format(" AND r.status IN ('open', 'in_progress') AND r.due_at < {}", next(now_ms));
  }
  if (filter.due_before) sql += fmt::format(" AND r.due_at < {}", next(*filter.due_before));
  if (filter.auditee_org_id) {
    sql += fmt::format(" AND a.auditee_org_id = {}", next(*filter.auditee_org_id));
  }
  sql += fmt::format(" ORDER BY r.due_at, a.reference, r.number LIMIT {}", limit);
  for (const auto& row : connection.Query(sql, params).rows) {
    AuditRecommendationSummary item;
    item.recommendation.id = row[0].text();
    item.recommendation.number = row[1].as_int();
    item.recommendation.reference = fmt::format("R-{:03d}", item.recommendation.number);
    item.recommendation.text = row[2].text();
    item.recommendation.due_at = row[3].as_int();
    item.recommendation.status = row[4].text();
    item.recommendation.updated_at = row[5].as_int();
    item.audit_id = row[6].text();
    item.audit_reference = row[7].text();
    item.audit_title = row[8].text();
    item.auditee_org_id = row[9].text();
    item.auditee_name = row[10].text();
    item.audit_status = ParseAuditStatus(row[11].text()).value_or(AuditStatus::kIssued);
    item.finding.id = row[12].text();
    item.finding.number = row[13].as_int();
    item.finding.reference = fmt::format("F-{:03d}", item.finding.number);
    item.finding.control_id = row[14].text();
    item.finding.title = row[15].text();
    item.finding.risk = row[16].text();
    item.recommendation.finding_id = item.finding.id;
    item.overdue = item.recommendation.OverdueAt(now_ms);
    items.push_back(std::move(item));
  }
  return items;
}

}  // namespace yagura::hub

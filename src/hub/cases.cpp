// Investigation cases: storage, membership, lifecycle and links (rules in cases.hpp).
//
// Membership lives twice on purpose: case_members holds the roles, and access_grants holds one
// 'user' grant per member, which is what hub::ReadCondition reads. Both are written together,
// in the same transaction, by SetMembers below; nothing else writes either.
#include "hub/cases.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <map>

#include "core/time.hpp"
#include "hub/alerts.hpp"
#include "hub/audit_log.hpp"
#include "hub/crypto.hpp"
#include "hub/incidents.hpp"
#include "hub/scoring.hpp"
#include "hub/text_checks.hpp"

namespace yagura::hub {
namespace {

constexpr std::string_view OBJECT_TYPE = "case";

constexpr std::array<std::string_view, 3> STATUS_NAMES = {"open", "on_hold", "closed"};
constexpr std::array<std::string_view, 3> TLP_NAMES = {"red", "amber+strict", "amber"};
constexpr std::array<std::string_view, 2> LINK_TYPES = {"incident", "alert"};

constexpr std::string_view CASE_COLUMNS =
    "id, reference, owner_org_id, marking, title, summary, status, opened_by, conclusion, "
    "created_at, updated_at, closed_at, version";

CaseError Invalid(std::string message, std::string field) {
  return InvalidCaseField(std::move(message), std::move(field));
}

tl::unexpected<CaseError> NotFound(std::string_view what = "case") { return CaseNotFound(what); }

std::optional<CaseError> CheckText(std::string_view field, const std::string& text,
                                   size_t max_length, bool required) {
  return CheckCaseText(field, text, max_length, required);
}

bool AllowedCaseTlp(Tlp tlp) {
  return tlp == Tlp::kRed || tlp == Tlp::kAmberStrict || tlp == Tlp::kAmber;
}

Case RowToCase(const std::vector<store::Field>& row) {
  Case kase;
  kase.id = row[0].text();
  kase.reference = row[1].text();
  kase.owner_org_id = row[2].text();
  kase.tlp = ParseTlp(row[3].text()).value_or(Tlp::kRed);
  kase.title = row[4].text();
  kase.summary = row[5].text();
  kase.status = ParseCaseStatus(row[6].text()).value_or(CaseStatus::kOpen);
  kase.opened_by = row[7].text();
  kase.conclusion = row[8].optional_text();
  kase.created_at = row[9].as_int();
  kase.updated_at = row[10].as_int();
  if (!row[11].is_null()) kase.closed_at = row[11].as_int();
  kase.version = row[12].as_int();
  return kase;
}

std::optional<Case> LoadCase(store::Connection& connection, std::string_view id) {
  store::Rows rows =
      connection.Query(fmt::format("SELECT {} FROM cases WHERE id = $1", CASE_COLUMNS),
                       {store::Param{std::string(id)}});
  if (rows.empty()) return std::nullopt;
  Case kase = RowToCase(rows.rows[0]);
  for (const auto& row :
       connection
           .Query("SELECT m.user_id, u.username, u.display_name, m.role, m.added_by, m.added_at "
                  "FROM case_members m JOIN users u ON u.id = m.user_id WHERE m.case_id = $1 "
                  "ORDER BY m.added_at, m.user_id",
                  {store::Param{kase.id}})
           .rows) {
    CaseMember member;
    member.user_id = row[0].text();
    member.username = row[1].text();
    member.display_name = row[2].text();
    member.role = ParseCaseRole(row[3].text()).value_or(CaseRole::kReader);
    member.added_by = row[4].text();
    member.added_at = row[5].as_int();
    kase.members.push_back(std::move(member));
  }
  for (const auto& row :
       connection
           .Query("SELECT object_type, object_id, note, added_by, added_at FROM case_links "
                  "WHERE case_id = $1 ORDER BY added_at, object_type, object_id",
                  {store::Param{kase.id}})
           .rows) {
    kase.links.push_back(
        CaseLink{row[0].text(), row[1].text(), row[2].text(), row[3].text(), row[4].as_int()});
  }
  return kase;
}

// Writes the members' grants from case_members, so the two never disagree.
void SyncGrants(store::Connection& connection, const std::string& case_id) {
  Marking marking;
  for (const auto& row : connection
                             .Query("SELECT user_id FROM case_members WHERE case_id = $1 "
                                    "ORDER BY user_id",
                                    {store::Param{case_id}})
                             .rows) {
    marking.named_user_ids.push_back(row[0].text());
  }
  SaveGrants(connection, OBJECT_TYPE, case_id, marking);
}

void RecordHistory(store::Connection& connection, std::string_view case_id, int64_t at,
                   const Principal& principal, std::string_view kind, const JsonValue& detail) {
  // seq keeps the order of changes made within one millisecond (a case opened with its first
  // links, a lead handing over and leaving).
  connection.Execute(
      "INSERT INTO case_history (id, case_id, seq, at, actor_id, kind, detail) VALUES ($1, $2, "
      "(SELECT COALESCE(MAX(seq), 0) + 1 FROM case_history WHERE case_id = $2), $3, $4, $5, $6)",
      {store::Param{NewId()}, store::Param{std::string(case_id)}, store::Param{at},
       store::Param{principal.user_id}, store::Param{std::string(kind)},
       store::Param{detail.Serialize()}});
}

void Audit(store::Connection& connection, const Principal& principal, std::string action,
           const Case& kase, const JsonValue& detail, int64_t at) {
  // Every entry about a case is marked RED, whatever the case's own marking: who worked on which
  // investigation is itself need-to-know.
  AuditEntry entry =
      EntryFor(principal, std::move(action), std::string(OBJECT_TYPE), kase.id, Tlp::kRed);
  entry.detail = detail.Serialize();
  AuditLog::Append(connection, entry, at);
}

void Touch(store::Connection& connection, const Case& kase, int64_t now_ms) {
  connection.Execute("UPDATE cases SET updated_at = $2 WHERE id = $1",
                     {store::Param{kase.id}, store::Param{now_ms}});
}

std::string NextReference(store::Connection& connection, int64_t now_ms) {
  std::string year = FormatTimestampMs(now_ms).substr(0, 4);
  store::Rows rows = connection.Query(
      "INSERT INTO counters (name, value) VALUES ($1, 1) ON CONFLICT (name) DO UPDATE SET "
      "value = counters.value + 1 RETURNING value",
      {store::Param{"case-" + year}});
  return fmt::format("CASE-{}-{:06d}", year, rows.rows.at(0).at(0).as_int());
}

// The user may join a case: an active member of the centre's staff.
std::optional<CaseError> CheckJoinable(store::Connection& connection, const std::string& user_id,
                                       const std::string& field) {
  if (!PlausibleId(user_id)) return Invalid(fmt::format("{} names no user", field), field);
  store::Rows rows = connection.Query(
      "SELECT u.roles, o.type, u.disabled FROM users u JOIN organizations o ON o.id = u.org_id "
      "WHERE u.id = $1",
      {store::Param{user_id}});
  if (rows.empty()) return Invalid(fmt::format("{} names no user", field), field);
  const auto& row = rows.rows[0];
  std::vector<Role> roles = ParseRolesText(row[0].text());
  auto type = ParseOrgType(row[1].text());
  if (!type || !can::JoinCase(*type, roles)) {
    return Invalid(fmt::format("{}: only the centre's staff may be members of a case", field),
                   field);
  }
  if (row[2].as_int() != 0) {
    return Invalid(fmt::format("{}: the user is disabled", field), field);
  }
  return std::nullopt;
}

int64_t CountLeads(const Case& kase) {
  return std::count_if(kase.members.begin(), kase.members.end(),
                       [](const CaseMember& m) { return m.role == CaseRole::kLead; });
}

const CaseMember* FindMember(const Case& kase, std::string_view user_id) {
  for (const auto& member : kase.members) {
    if (member.user_id == user_id) return &member;
  }
  return nullptr;
}

tl::unexpected<CaseError> Forbidden(std::string message) {
  return RefuseCase(CaseErrorKind::kForbidden, std::move(message));
}

tl::unexpected<CaseError> ClosedCase() {
  return RefuseCase(CaseErrorKind::kConflict,
                    "the case is closed: reopen it before changing what it holds");
}

// Checks the thing to link exists and the principal may read it; fills what a link shows.
CaseResult<LinkedObject> ReadLinkTarget(store::Connection& connection, const Principal& principal,
                                        const CaseLink& link) {
  LinkedObject object;
  object.link = link;
  if (link.type == "incident") {
    auto incident = GetIncident(connection, principal, link.object_id);
    if (!incident) return NotFound("incident");
    object.title = incident->report.title;
    object.reference = incident->reference;
    object.status = std::string(ToString(incident->status));
    object.level = std::string(incident->score.priority.name);
    object.org_id = incident->owner_org_id;
    object.at = incident->report.occurred_at.value_or(incident->report.detected_at);
    object.techniques = incident->report.techniques;
    return object;
  }
  auto alert = GetAlert(connection, principal, link.object_id);
  if (!alert) return NotFound("alert");
  object.title = alert->title;
  object.status = std::string(ToString(alert->status));
  object.level = alert->level;
  object.org_id = alert->org_id;
  object.at = alert->event_time;
  object.techniques = alert->techniques;
  if (auto details = JsonValue::Parse(alert->details); details && details->is_object()) {
    if (const JsonValue* host = details->Find("host"); host != nullptr && host->is_string()) {
      object.host = host->as_string();
    }
  }
  return object;
}

}  // namespace

tl::unexpected<CaseError> RefuseCase(CaseErrorKind kind, std::string message, std::string field) {
  return tl::unexpected(CaseError{kind, std::move(message), std::move(field)});
}

CaseError InvalidCaseField(std::string message, std::string field) {
  return CaseError{CaseErrorKind::kInvalid, std::move(message), std::move(field)};
}

tl::unexpected<CaseError> CaseNotFound(std::string_view what) {
  return RefuseCase(CaseErrorKind::kNotFound, fmt::format("{} not found", what));
}

std::optional<CaseError> CheckCaseText(std::string_view field, const std::string& text,
                                       size_t max_length, bool required) {
  if (required && text.empty()) {
    return InvalidCaseField(fmt::format("{} must not be empty", field), std::string(field));
  }
  if (!ValidText(text, max_length)) {
    return InvalidCaseField(fmt::format("{} must be UTF-8 text without NUL characters, at most "
                                        "{} characters",
                                        field, max_length),
                            std::string(field));
  }
  return std::nullopt;
}

std::string_view ToString(CaseStatus status) { return STATUS_NAMES[static_cast<size_t>(status)]; }

std::optional<CaseStatus> ParseCaseStatus(std::string_view text) {
  for (size_t i = 0; i < STATUS_NAMES.size(); ++i) {
    if (STATUS_NAMES[i] == text) return static_cast<CaseStatus>(i);
  }
  return std::nullopt;
}

std::span<const std::string_view> CaseStatusNames() { return STATUS_NAMES; }
std::span<const std::string_view> CaseTlpNames() { return TLP_NAMES; }
std::span<const std::string_view> CaseLinkTypeNames() { return LINK_TYPES; }

std::optional<CaseRole> Case::RoleOf(std::string_view user_id) const {
  for (const auto& member : members) {
    if (member.user_id == user_id) return member.role;
  }
  return std::nullopt;
}

Marking Case::ToMarking() const {
  Marking marking;
  marking.tlp = Tlp::kRed;
  marking.owner_org_id = owner_org_id;
  marking.addressed = true;
  marking.centre_intake = false;
  for (const auto& member : members) marking.named_user_ids.push_back(member.user_id);
  return marking;
}

CaseResult<Case> CaseForRead(store::Connection& connection, const Principal& principal,
                             std::string_view id) {
  // Only the centre's staff hold memberships; someone who left the centre reads none.
  if (!principal.IsCentreStaff() || !PlausibleId(id)) return NotFound();
  std::optional<Case> kase = LoadCase(connection, id);
  if (!kase || !CanRead(principal, kase->ToMarking())) return NotFound();
  return std::move(*kase);
}

CaseResult<Case> CaseForWork(store::Connection& connection, const Principal& principal,
                             std::string_view id) {
  auto kase = CaseForRead(connection, principal, id);
  if (!kase) return kase;
  if (!can::WorkOnCase(principal, kase->RoleOf(principal.user_id))) {
    return Forbidden("readers of a case may not change it");
  }
  if (kase->status == CaseStatus::kClosed) return ClosedCase();
  return kase;
}

CaseResult<Case> GetCase(store::Connection& connection, const Principal& principal,
                         std::string_view id) {
  return CaseForRead(connection, principal, id);
}

CaseResult<Case> OpenCase(store::Connection& connection, const Principal& principal,
                          const CaseCreate& create, int64_t now_ms) {
  if (!can::OpenCase(principal)) {
    return Forbidden("only the centre's duty officers and investigators open cases");
  }
  if (auto error = CheckText("title", create.title, CASE_TITLE_MAX, true)) {
    return tl::unexpected(*error);
  }
  if (auto error = CheckText("summary", create.summary, CASE_TEXT_MAX, false)) {
    return tl::unexpected(*error);
  }
  if (!AllowedCaseTlp(create.tlp)) {
    return tl::unexpected(Invalid("a case is marked red, amber+strict or amber", "tlp"));
  }
  if (create.members.size() > CASE_MEMBERS_MAX) {
    return tl::unexpected(
        Invalid(fmt::format("a case has at most {} members", CASE_MEMBERS_MAX), "members"));
  }
  for (size_t i = 0; i < create.members.size(); ++i) {
    std::string field = fmt::format("members[{}].user_id", i);
    if (auto error = CheckJoinable(connection, create.members[i].first, field)) {
      return tl::unexpected(*error);
    }
  }
  std::vector<LinkedObject> incidents;
  for (size_t i = 0; i < create.incident_ids.size(); ++i) {
    auto target = ReadLinkTarget(connection, principal,
                                 CaseLink{.type = "incident", .object_id = create.incident_ids[i]});
    if (!target) {
      std::string field = fmt::format("incident_ids[{}]", i);
      return tl::unexpected(
          Invalid(fmt::format("{} names no incident you may read", field), field));
    }
    incidents.push_back(std::move(*target));
  }

  Case kase;
  kase.id = NewId();
  kase.reference = NextReference(connection, now_ms);
  kase.owner_org_id = principal.org_id;  // the centre's: only its staff open cases
  kase.title = create.title;
  kase.summary = create.summary;
  kase.tlp = create.tlp;
  kase.opened_by = principal.user_id;
  kase.created_at = kase.updated_at = now_ms;
  connection.Execute(
      "INSERT INTO cases (id, reference, owner_org_id, author_id, tlp, addressed, centre_intake, "
      "marking, title, summary, status, opened_by, created_at, updated_at, version) VALUES ($1, "
      "$2, $3, '', 'red', 1, 0, $4, $5, $6, 'open', $7, $8, $8, 1)",
      {store::Param{kase.id}, store::Param{kase.reference}, store::Param{kase.owner_org_id},
       store::Param{std::string(ToString(kase.tlp))}, store::Param{kase.title},
       store::Param{kase.summary}, store::Param{kase.opened_by}, store::Param{now_ms}});
  auto add_member = [&](const std::string& user_id, CaseRole role) {
    connection.Execute(
        "INSERT INTO case_members (case_id, user_id, role, added_by, added_at) "
        "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (case_id, user_id) DO UPDATE SET role = $3",
        {store::Param{kase.id}, store::Param{user_id}, store::Param{std::string(ToString(role))},
         store::Param{principal.user_id}, store::Param{now_ms}});
  };
  for (const auto& [user_id, role] : create.members) {
    if (user_id != principal.user_id) add_member(user_id, role);
  }
  add_member(principal.user_id, CaseRole::kLead);
  SyncGrants(connection, kase.id);
  for (const auto& incident : incidents) {
    connection.Execute(
        "INSERT INTO case_links (case_id, object_type, object_id, note, added_by, added_at) "
        "VALUES ($1, 'incident', $2, '', $3, $4) ON CONFLICT DO NOTHING",
        {store::Param{kase.id}, store::Param{incident.link.object_id},
         store::Param{principal.user_id}, store::Param{now_ms}});
  }
  JsonValue detail = JsonValue::MakeObject();
  detail.Set("reference", kase.reference);
  detail.Set("title", kase.title);
  detail.Set("tlp", std::string(ToString(kase.tlp)));
  JsonValue members = JsonValue::MakeArray();
  for (const auto& [user_id, role] : create.members) members.Push(user_id);
  detail.Set("members", std::move(members));
  JsonValue linked = JsonValue::MakeArray();
  for (const auto& incident : incidents) linked.Push(incident.link.object_id);
  detail.Set("incident_ids", std::move(linked));
  RecordHistory(connection, kase.id, now_ms, principal, "opened", detail);
  Audit(connection, principal, "case.open", kase, detail, now_ms);
  return std::move(*LoadCase(connection, kase.id));
}

CaseResult<Case> UpdateCase(store::Connection& connection, const Principal& principal,
                            std::string_view id, const CaseUpdate& update,
                            std::optional<int64_t> expected_version, int64_t now_ms) {
  auto kase = CaseForRead(connection, principal, id);
  if (!kase) return kase;
  if (!can::RunCase(principal, kase->RoleOf(principal.user_id))) {
    return Forbidden("only a case's leads change its title, summary or marking");
  }
  if (kase->status == CaseStatus::kClosed) return ClosedCase();
  if (update.title) {
    if (auto error = CheckText("title", *update.title, CASE_TITLE_MAX, true)) {
      return tl::unexpected(*error);
    }
  }
  if (update.summary) {
    if (auto error = CheckText("summary", *update.summary, CASE_TEXT_MAX, false)) {
      return tl::unexpected(*error);
    }
  }
  if (update.tlp && !AllowedCaseTlp(*update.tlp)) {
    return tl::unexpected(Invalid("a case is marked red, amber+strict or amber", "tlp"));
  }
  if (expected_version && *expected_version != kase->version) {
    return RefuseCase(CaseErrorKind::kConflict,
                      fmt::format("the case changed since version {} (it is at version {})",
                                  *expected_version, kase->version));
  }
  JsonValue changed = JsonValue::MakeArray();
  if (update.title && *update.title != kase->title) changed.Push("title");
  if (update.summary && *update.summary != kase->summary) changed.Push("summary");
  if (update.tlp && *update.tlp != kase->tlp) changed.Push("tlp");
  if (changed.as_array().empty()) return kase;
  connection.Execute(
      "UPDATE cases SET title = $2, summary = $3, marking = $4, updated_at = $5, "
      "version = version + 1 WHERE id = $1",
      {store::Param{kase->id}, store::Param{update.title.value_or(kase->title)},
       store::Param{update.summary.value_or(kase->summary)},
       store::Param{std::string(ToString(update.tlp.value_or(kase->tlp)))}, store::Param{now_ms}});
  JsonValue detail = JsonValue::MakeObject();
  detail.Set("changed", std::move(changed));
  RecordHistory(connection, kase->id, now_ms, principal, "updated", detail);
  Audit(connection, principal, "case.update", *kase, detail, now_ms);
  return std::move(*LoadCase(connection, kase->id));
}

CaseResult<Case> TransitionCase(store::Connection& connection, const Principal& principal,
                                std::string_view id, CaseStatus to, const std::string& note,
                                int64_t now_ms) {
  auto kase = CaseForRead(connection, principal, id);
  if (!kase) return kase;
  if (!can::RunCase(principal, kase->RoleOf(principal.user_id))) {
    return Forbidden("only a case's leads change its status");
  }
  const CaseStatus from = kase->status;
  if (from == to) {
    return RefuseCase(CaseErrorKind::kConflict,
                      fmt::format("the case is already {}", ToString(to)));
  }
  if (from == CaseStatus::kClosed && to == CaseStatus::kOnHold) {
    return RefuseCase(CaseErrorKind::kConflict,
                      "a closed case is reopened (status open) before it is put on hold");
  }
  if (auto error = CheckText("note", note, CASE_TEXT_MAX, false)) return tl::unexpected(*error);
  const bool closing = to == CaseStatus::kClosed;
  const bool reopening = from == CaseStatus::kClosed;
  if ((closing || reopening) && note.empty()) {
    return tl::unexpected(Invalid(closing ? "closing a case takes its conclusion in note"
                                          : "reopening a case takes the reason in note",
                                  "note"));
  }
  if (closing) {
    connection.Execute(
        "UPDATE cases SET status = 'closed', conclusion = $2, closed_at = $3, updated_at = $3, "
        "version = version + 1 WHERE id = $1",
        {store::Param{kase->id}, store::Param{note}, store::Param{now_ms}});
  } else {
    connection.Execute(
        "UPDATE cases SET status = $2, closed_at = NULL, updated_at = $3, version = version + 1 "
        "WHERE id = $1",
        {store::Param{kase->id}, store::Param{std::string(ToString(to))}, store::Param{now_ms}});
  }
  JsonValue detail = JsonValue::MakeObject();
  detail.Set("from", std::string(ToString(from)));
  detail.Set("to", std::string(ToString(to)));
  if (!note.empty()) detail.Set("note", note);
  RecordHistory(connection, kase->id, now_ms, principal, reopening ? "reopened" : "transition",
                detail);
  Audit(connection, principal, reopening ? "case.reopen" : "case.transition", *kase, detail,
        now_ms);
  return std::move(*LoadCase(connection, kase->id));
}

CaseResult<bool> SetCaseMember(store::Connection& connection, const Principal& principal,
                               std::string_view id, const std::string& user_id, CaseRole role,
                               int64_t now_ms) {
  auto kase = CaseForRead(connection, principal, id);
  if (!kase) return tl::unexpected(kase.error());
  if (!can::RunCase(principal, kase->RoleOf(principal.user_id))) {
    return Forbidden("only a case's leads choose its members");
  }
  if (kase->status == CaseStatus::kClosed) return ClosedCase();
  const CaseMember* existing = FindMember(*kase, user_id);
  if (existing == nullptr) {
    if (kase->members.size() >= CASE_MEMBERS_MAX) {
      return RefuseCase(CaseErrorKind::kConflict,
                        fmt::format("a case has at most {} members", CASE_MEMBERS_MAX));
    }
    if (auto error = CheckJoinable(connection, user_id, "user_id")) {
      return tl::unexpected(*error);
    }
  } else {
    if (existing->role == role) return false;
    if (existing->role == CaseRole::kLead && CountLeads(*kase) == 1) {
      return RefuseCase(CaseErrorKind::kConflict,
                        "the case's last lead stays a lead: make someone else lead first");
    }
  }
  connection.Execute(
      "INSERT INTO case_members (case_id, user_id, role, added_by, added_at) "
      "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (case_id, user_id) DO UPDATE SET role = $3",
      {store::Param{kase->id}, store::Param{user_id}, store::Param{std::string(ToString(role))},
       store::Param{principal.user_id}, store::Param{now_ms}});
  SyncGrants(connection, kase->id);
  Touch(connection, *kase, now_ms);
  JsonValue detail = JsonValue::MakeObject();
  detail.Set("user_id", user_id);
  detail.Set("role", std::string(ToString(role)));
  if (existing != nullptr) detail.Set("previous_role", std::string(ToString(existing->role)));
  RecordHistory(connection, kase->id, now_ms, principal,
                existing == nullptr ? "member_added" : "member_changed", detail);
  Audit(connection, principal, existing == nullptr ? "case.member.add" : "case.member.change",
        *kase, detail, now_ms);
  return existing == nullptr;
}

CaseResult<void> RemoveCaseMember(store::Connection& connection, const Principal& principal,
                                  std::string_view id, const std::string& user_id, int64_t now_ms) {
  auto kase = CaseForRead(connection, principal, id);
  if (!kase) return tl::unexpected(kase.error());
  const bool leaving = user_id == principal.user_id;
  if (!leaving && !can::RunCase(principal, kase->RoleOf(principal.user_id))) {
    return Forbidden("only a case's leads remove its members");
  }
  const CaseMember* member = FindMember(*kase, user_id);
  if (member == nullptr) return NotFound("member");
  if (member->role == CaseRole::kLead && CountLeads(*kase) == 1) {
    return RefuseCase(CaseErrorKind::kConflict,
                      "the case's last lead cannot leave it: make someone else lead first");
  }
  connection.Execute("DELETE FROM case_members WHERE case_id = $1 AND user_id = $2",
                     {store::Param{kase->id}, store::Param{user_id}});
  SyncGrants(connection, kase->id);
  Touch(connection, *kase, now_ms);
  JsonValue detail = JsonValue::MakeObject();
  detail.Set("user_id", user_id);
  detail.Set("role", std::string(ToString(member->role)));
  RecordHistory(connection, kase->id, now_ms, principal, "member_removed", detail);
  Audit(connection, principal, "case.member.remove", *kase, detail, now_ms);
  return {};
}

CaseResult<bool> LinkToCase(store::Connection& connection, const Principal& principal,
                            std::string_view id, const std::string& type,
                            const std::string& object_id, const std::string& note, int64_t now_ms) {
  auto kase = CaseForWork(connection, principal, id);
  if (!kase) return tl::unexpected(kase.error());
  if (std::find(LINK_TYPES.begin(), LINK_TYPES.end(), type) == LINK_TYPES.end()) {
    return tl::unexpected(Invalid("type is incident or alert", "type"));
  }
  if (auto error = CheckText("note", note, CASE_TEXT_MAX, false)) return tl::unexpected(*error);
  auto target =
      ReadLinkTarget(connection, principal,
                     CaseLink{.type = std::string(type), .object_id = std::string(object_id)});
  if (!target) return tl::unexpected(target.error());
  for (const auto& link : kase->links) {
    if (link.type == type && link.object_id == object_id) return false;
  }
  if (kase->links.size() >= CASE_LINKS_MAX) {
    return RefuseCase(CaseErrorKind::kConflict,
                      fmt::format("a case links at most {} incidents and alerts", CASE_LINKS_MAX));
  }
  connection.Execute(
      "INSERT INTO case_links (case_id, object_type, object_id, note, added_by, added_at) "
      "VALUES ($1, $2, $3, $4, $5, $6)",
      {store::Param{kase->id}, store::Param{type}, store::Param{object_id}, store::Param{note},
       store::Param{principal.user_id}, store::Param{now_ms}});
  Touch(connection, *kase, now_ms);
  JsonValue detail = JsonValue::MakeObject();
  detail.Set("type", type);
  detail.Set("id", object_id);
  RecordHistory(connection, kase->id, now_ms, principal, "linked", detail);
  Audit(connection, principal, "case.link", *kase, detail, now_ms);
  return true;
}

CaseResult<void> UnlinkFromCase(store::Connection& connection, const Principal& principal,
                                std::string_view id, const std::string& type,
                                const std::string& object_id, int64_t now_ms) {
  auto kase = CaseForWork(connection, principal, id);
  if (!kase) return tl::unexpected(kase.error());
  int64_t removed = connection.Execute(
      "DELETE FROM case_links WHERE case_id = $1 AND object_type = $2 AND object_id = $3",
      {store::Param{kase->id}, store::Param{type}, store::Param{object_id}});
  if (removed == 0) return NotFound("link");
  Touch(connection, *kase, now_ms);
  JsonValue detail = JsonValue::MakeObject();
  detail.Set("type", type);
  detail.Set("id", object_id);
  RecordHistory(connection, kase->id, now_ms, principal, "unlinked", detail);
  Audit(connection, principal, "case.unlink", *kase, detail, now_ms);
  return {};
}

CaseLinks CaseLinksFor(store::Connection& connection, const Principal& principal,
                       const Case& kase) {
  // A case may link thousands of alerts, and every timeline page shows them: the readable ones
  // are read a few hundred at a time, filtered in SQL by the same read rules as GetIncident
  // and GetAlert, never one query per link.
  constexpr size_t BATCH = 400;
  std::map<std::pair<std::string, std::string>, LinkedObject> found;
  auto read_batch = [&](const std::string& type, const std::vector<const CaseLink*>& batch) {
    std::vector<store::Param> params;
    std::string sql;
    if (type == "incident") {
      SqlCondition readable = ReadCondition(principal, "incident", "i", 1);
      params = readable.params;
      sql = fmt::format(
          "SELECT i.id, i.reference, i.title, i.status, i.owner_org_id, "
          "COALESCE(i.occurred_at, i.detected_at), i.priority, '' FROM incidents i WHERE {} AND "
          "i.id IN (",
          readable.sql);
    } else {
      std::string readable = AlertReadCondition(principal, params);
      sql = fmt::format(
          "SELECT a.id, '', a.title, a.status, a.org_id, a.event_time, a.level, a.details "
          "FROM alerts a WHERE {} AND a.id IN (",
          readable);
    }
    for (size_t i = 0; i < batch.size(); ++i) {
      params.push_back(store::Param{batch[i]->object_id});
      sql += fmt::format("{}${}", i == 0 ? "" : ", ", params.size());
    }
    sql += ")";
    for (const auto& row : connection.Query(sql, params).rows) {
      LinkedObject object;
      object.reference = row[1].text();
      object.title = row[2].text();
      object.status = row[3].text();
      object.org_id = row[4].text();
      object.at = row[5].as_int();
      if (type == "incident") {
        object.level = std::string(PriorityLevel(static_cast<int>(row[6].as_int())).name);
      } else {
        object.level = row[6].text();
        if (auto details = JsonValue::Parse(row[7].text()); details && details->is_object()) {
          const JsonValue* host = details->Find("host");
          if (host != nullptr && host->is_string()) object.host = host->as_string();
        }
      }
      found.emplace(std::make_pair(type, row[0].text()), std::move(object));
    }
  };
  for (const std::string type : {"incident", "alert"}) {
    std::vector<const CaseLink*> batch;
    for (const auto& link : kase.links) {
      if (link.type != type) continue;
      batch.push_back(&link);
      if (batch.size() == BATCH) {
        read_batch(type, batch);
        batch.clear();
      }
    }
    if (!batch.empty()) read_batch(type, batch);
  }
  // Their techniques, from the tables the heatmap counts.
  for (const std::string type : {"incident", "alert"}) {
    std::vector<std::string> ids;
    for (const auto& [key, object] : found) {
      if (key.first == type) ids.push_back(key.second);
    }
    for (size_t start = 0; start < ids.size(); start += BATCH) {
      std::vector<store::Param> params;
      std::string list;
      for (size_t i = start; i < std::min(ids.size(), start + BATCH); ++i) {
        params.push_back(store::Param{ids[i]});
        list += fmt::format("{}${}", list.empty() ? "" : ", ", params.size());
      }
      std::string sql = type == "incident"
                            ? fmt::format(
                                  "SELECT incident_id, technique FROM incident_techniques WHERE "
                                  "incident_id IN ({}) ORDER BY incident_id, technique",
                                  list)
                            : fmt::format(
                                  "SELECT alert_id, technique FROM alert_techniques WHERE alert_id "
                                  "IN ({}) ORDER BY alert_id, technique",
                                  list);
      for (const auto& row : connection.Query(sql, params).rows) {
        found[{type, row[0].text()}].techniques.push_back(row[1].text());
      }
    }
  }
  CaseLinks links;
  for (const auto& link : kase.links) {
    auto object = found.find({link.type, link.object_id});
    if (object == found.end()) {
      ++links.hidden;
      continue;
    }
    object->second.link = link;
    links.readable.push_back(std::move(object->second));
  }
  return links;
}

CaseResult<std::vector<CaseHistoryEntry>> CaseHistory(store::Connection& connection,
                                                      const Principal& principal,
                                                      std::string_view id) {
  auto kase = CaseForRead(connection, principal, id);
  if (!kase) return tl::unexpected(kase.error());
  std::vector<CaseHistoryEntry> entries;
  for (const auto& row : connection
                             .Query("SELECT id, at, actor_id, kind, detail FROM case_history "
                                    "WHERE case_id = $1 ORDER BY seq, id",
                                    {store::Param{kase->id}})
                             .rows) {
    entries.push_back(CaseHistoryEntry{row[0].text(), row[1].as_int(), row[2].text(), row[3].text(),
                                       row[4].text()});
  }
  return entries;
}

CasePage ListCases(store::Connection& connection, const Principal& principal,
                   const CaseFilter& filter, std::optional<std::pair<int64_t, std::string>> before,
                   int limit) {
  CasePage page;
  if (!principal.IsCentreStaff()) return page;
  if ((filter.title_contains && !ValidText(*filter.title_contains, 200)) ||
      (filter.incident_id && !PlausibleId(*filter.incident_id))) {
    return page;
  }
  SqlCondition readable = ReadCondition(principal, OBJECT_TYPE, "c", 1);
  std::vector<store::Param> params = readable.params;
  auto next = [&](store::Param param) {
    params.push_back(std::move(param));
    return fmt::format("${}", params.size());
  };
  std::string user = next(principal.user_id);
  std::string sql = fmt::format(
      "SELECT c.id, c.reference, c.title, c.status, c.marking, m.role, c.created_at, "
      "c.updated_at FROM cases c JOIN case_members m ON m.case_id = c.id AND m.user_id = {} "
      "WHERE {}",
      user, readable.sql);
  if (filter.status) {
    sql += fmt::format(" AND c.status = {}", next(std::string(ToString(*filter.status))));
  }
  if (filter.title_contains) {
    std::string pattern;
    for (char c : *filter.title_contains) {
      if (c == '%' || c == '_' || c == '\\') pattern += '\\';
      pattern += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    }
    sql += fmt::format(" AND LOWER(c.title) LIKE {} ESCAPE '\\'", next("%" + pattern + "%"));
  }
  if (filter.incident_id) {
    sql += fmt::format(
        " AND EXISTS (SELECT 1 FROM case_links l WHERE l.case_id = c.id AND "
        "l.object_type = 'incident' AND l.object_id = {})",
        next(*filter.incident_id));
  }
  if (before) {
    std::string at = next(before->first);
    std::string last = next(before->second);
    sql +=
        fmt::format(" AND (c.created_at < {0} OR (c.created_at = {0} AND c.id < {1}))", at, last);
  }
  sql += fmt::format(" ORDER BY c.created_at DESC, c.id DESC LIMIT {}", limit + 1);
  for (const auto& row : connection.Query(sql, params).rows) {
    CaseSummary summary;
    summary.id = row[0].text();
    summary.reference = row[1].text();
    summary.title = row[2].text();
    summary.status = ParseCaseStatus(row[3].text()).value_or(CaseStatus::kOpen);
    summary.tlp = ParseTlp(row[4].text()).value_or(Tlp::kRed);
    summary.role = ParseCaseRole(row[5].text()).value_or(CaseRole::kReader);
    summary.created_at = row[6].as_int();
    summary.updated_at = row[7].as_int();
    page.items.push_back(std::move(summary));
  }
  if (page.items.size() > static_cast<size_t>(limit)) {
    page.items.resize(limit);
    page.more = true;
  }
  return page;
}

std::vector<CaseCandidate> CaseCandidates(store::Connection& connection,
                                          const Principal& principal) {
  std::vector<CaseCandidate> candidates;
  if (!principal.IsCentreStaff()) return candidates;
  for (const auto& row :
       connection
           .Query("SELECT u.id, u.username, u.display_name, u.roles FROM users u JOIN "
                  "organizations o ON o.id = u.org_id WHERE o.type = 'centre' AND u.disabled = 0 "
                  "ORDER BY u.display_name, u.username")
           .rows) {
    std::vector<Role> roles = ParseRolesText(row[3].text());
    if (!can::JoinCase(OrgType::kCentre, roles)) continue;
    candidates.push_back(CaseCandidate{row[0].text(), row[1].text(), row[2].text(), roles});
  }
  return candidates;
}

void RecordCaseActivity(store::Connection& connection, const Principal& principal, const Case& kase,
                        std::string_view kind, std::string action, const JsonValue& detail,
                        int64_t now_ms) {
  RecordHistory(connection, kase.id, now_ms, principal, kind, detail);
  Audit(connection, principal, std::move(action), kase, detail, now_ms);
  Touch(connection, kase, now_ms);
}

}  // namespace yagura::hub

// The access policy (see policy.hpp for the rules in words).
//
// CanRead and ReadCondition are written side by side, clause for clause, so a reader can check
// one against the other; the generated policy test checks them mechanically.
#include "hub/policy.hpp"

#include <algorithm>
#include <array>

#include <fmt/format.h>

namespace yagura::hub {
namespace {

constexpr std::array<std::string_view, 5> TLP_NAMES = {"clear", "green", "amber", "amber+strict",
                                                       "red"};

bool Contains(const std::vector<std::string>& list, std::string_view value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

bool IsDutyOfficer(const Principal& p) { return p.IsCentreStaff() && p.Has(Role::kCentreAdmin); }

bool IsCentreTriager(const Principal& p) {
  return p.IsCentreStaff() && (p.Has(Role::kCentreAdmin) || p.Has(Role::kCentreAnalyst));
}

bool InOrg(const Principal& p, std::string_view org_id) { return p.org_id == org_id; }

}  // namespace

std::string_view ToString(Tlp tlp) { return TLP_NAMES[static_cast<size_t>(tlp)]; }

std::optional<Tlp> ParseTlp(std::string_view text) {
  std::string lower;
  for (char c : text) lower += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  std::string_view view = lower;
  if (view.starts_with("tlp:")) view.remove_prefix(4);
  if (view == "white") return Tlp::kClear;
  for (size_t i = 0; i < TLP_NAMES.size(); ++i) {
    if (TLP_NAMES[i] == view) return static_cast<Tlp>(i);
  }
  return std::nullopt;
}

std::span<const std::string_view> TlpNames() { return TLP_NAMES; }

std::string TlpLabel(Tlp tlp) {
  std::string label = "TLP:";
  for (char c : ToString(tlp)) label += static_cast<char>(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
  return label;
}

namespace {
constexpr std::array<std::string_view, 3> CASE_ROLE_NAMES = {"lead", "member", "reader"};
}

std::string_view ToString(CaseRole role) { return CASE_ROLE_NAMES[static_cast<size_t>(role)]; }

std::optional<CaseRole> ParseCaseRole(std::string_view text) {
  for (size_t i = 0; i < CASE_ROLE_NAMES.size(); ++i) {
    if (CASE_ROLE_NAMES[i] == text) return static_cast<CaseRole>(i);
  }
  return std::nullopt;
}

std::span<const std::string_view> CaseRoleNames() { return CASE_ROLE_NAMES; }

bool CanRead(const Principal& p, const Marking& m) {
  if (!p.user_id.empty() && (m.author_id == p.user_id || Contains(m.named_user_ids, p.user_id) ||
                             Contains(m.assignee_ids, p.user_id))) {
    return true;
  }
  if (m.tlp == Tlp::kRed) return false;
  bool owner = InOrg(p, m.owner_org_id);
  bool duty = m.centre_intake && IsDutyOfficer(p);
  if (m.tlp == Tlp::kAmberStrict) return owner || duty;
  bool shared = Contains(m.shared_org_ids, p.org_id);
  if (m.tlp == Tlp::kAmber) return owner || shared || duty;
  if (m.tlp == Tlp::kGreen) return owner || shared || duty || (!m.addressed && p.IsMember());
  return owner || shared || duty || !m.addressed;  // CLEAR
}

bool Widens(const Marking& before, const Marking& after) {
  // The enumeration runs from the least (CLEAR) to the most restrictive (RED).
  if (static_cast<int>(after.tlp) < static_cast<int>(before.tlp)) return true;
  for (const auto& org : after.shared_org_ids) {
    if (!Contains(before.shared_org_ids, org)) return true;
  }
  for (const auto& user : after.named_user_ids) {
    if (!Contains(before.named_user_ids, user)) return true;
  }
  return false;
}

SqlCondition ReadCondition(const Principal& p, std::string_view object_type,
                           std::string_view alias, int first_param) {
  // $U = user id, $O = org id, $T = object type.
  int user_param = first_param;
  int org_param = first_param + 1;
  int type_param = first_param + 2;
  std::string a(alias);
  std::string personal = fmt::format(
      "({0}.author_id = ${1} OR EXISTS (SELECT 1 FROM access_grants g WHERE g.object_type = ${3} "
      "AND g.object_id = {0}.id AND g.kind IN ('user', 'assignee') AND g.principal_id = ${1}))",
      a, user_param, org_param, type_param);
  std::string owner = fmt::format("{0}.owner_org_id = ${1}", a, org_param);
  std::string shared = fmt::format(
      "EXISTS (SELECT 1 FROM access_grants g WHERE g.object_type = ${2} AND g.object_id = {0}.id "
      "AND g.kind = 'org' AND g.principal_id = ${1})",
      a, org_param, type_param);
  // Role facts are known now, so they become constants in the SQL instead of parameters.
  std::string duty = IsDutyOfficer(p) ? fmt::format("{}.centre_intake = 1", a) : "1 = 0";
  std::string member_clause =
      p.IsMember() ? fmt::format("{}.addressed = 0", a) : std::string("1 = 0");
  std::string sql = fmt::format(
      "({personal} OR ({a}.tlp = 'amber+strict' AND ({owner} OR {duty})) OR "
      "({a}.tlp = 'amber' AND ({owner} OR {shared} OR {duty})) OR "
      "({a}.tlp = 'green' AND ({owner} OR {shared} OR {duty} OR {member})) OR "
      "({a}.tlp = 'clear' AND ({owner} OR {shared} OR {duty} OR {a}.addressed = 0)))",
      fmt::arg("personal", personal), fmt::arg("a", a), fmt::arg("owner", owner),
      fmt::arg("duty", duty), fmt::arg("shared", shared), fmt::arg("member", member_clause));
  SqlCondition condition;
  condition.sql = std::move(sql);
  // An unauthenticated user id never equals a stored author: use a value no id can take.
  condition.params = {store::Param{p.user_id.empty() ? std::string("\x01") : p.user_id},
                      store::Param{p.org_id.empty() ? std::string("\x01") : p.org_id},
                      store::Param{std::string(object_type)}};
  return condition;
}

void LoadGrants(store::Connection& connection, std::string_view object_type,
                std::string_view object_id, Marking& marking) {
  marking.shared_org_ids.clear();
  marking.named_user_ids.clear();
  marking.assignee_ids.clear();
  store::Rows rows = connection.Query(
      "SELECT kind, principal_id FROM access_grants WHERE object_type = $1 AND object_id = $2 "
      "ORDER BY kind, principal_id",
      {store::Param{std::string(object_type)}, store::Param{std::string(object_id)}});
  for (const auto& row : rows.rows) {
    const std::string& kind = row[0].text();
    if (kind == "org") marking.shared_org_ids.push_back(row[1].text());
    else if (kind == "user") marking.named_user_ids.push_back(row[1].text());
    else if (kind == "assignee") marking.assignee_ids.push_back(row[1].text());
  }
}

void SaveGrants(store::Connection& connection, std::string_view object_type,
                std::string_view object_id, const Marking& marking) {
  connection.Execute("DELETE FROM access_grants WHERE object_type = $1 AND object_id = $2",
                     {store::Param{std::string(object_type)}, store::Param{std::string(object_id)}});
  auto insert = [&](std::string_view kind, const std::vector<std::string>& ids) {
    for (const auto& id : ids) {
      connection.Execute(
          "INSERT INTO access_grants (object_type, object_id, kind, principal_id) "
          "VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
          {store::Param{std::string(object_type)}, store::Param{std::string(object_id)},
           store::Param{std::string(kind)}, store::Param{id}});
    }
  };
  insert("org", marking.shared_org_ids);
  insert("user", marking.named_user_ids);
  insert("assignee", marking.assignee_ids);
}

namespace can {

bool ManageOrganizations(const Principal& p) {
  return p.IsCentreStaff() && p.Has(Role::kCentreAdmin);
}

bool ManageUsersOf(const Principal& p, std::string_view org_id) {
  if (p.IsCentreStaff() && p.Has(Role::kCentreAdmin)) return true;
  return p.Has(Role::kOrgAdmin) && InOrg(p, org_id);
}

bool GrantRole(const Principal& p, Role role) {
  if (p.IsCentreStaff() && p.Has(Role::kCentreAdmin)) return true;
  // An organisation's administrator hands out only the organisation's own roles.
  return p.Has(Role::kOrgAdmin) && (role == Role::kOrgAdmin || role == Role::kOrgReporter);
}

bool ReportIncidentFor(const Principal& p, std::string_view org_id) {
  if (IsCentreTriager(p)) return true;
  return InOrg(p, org_id) && (p.Has(Role::kOrgReporter) || p.Has(Role::kOrgAdmin));
}

bool TriageIncident(const Principal& p, const Marking& m) {
  if (!p.IsCentreStaff()) return false;
  if (p.Has(Role::kCentreAdmin) && CanRead(p, m)) return true;
  return Contains(m.assignee_ids, p.user_id);
}

bool EditIncidentReport(const Principal& p, const Marking& m) {
  if (TriageIncident(p, m)) return true;
  return InOrg(p, m.owner_org_id) && (p.Has(Role::kOrgReporter) || p.Has(Role::kOrgAdmin));
}

bool AssignIncident(const Principal& p) { return IsCentreTriager(p); }

bool WidenAudience(const Principal& p, const Marking& m) {
  if (!p.user_id.empty() && p.user_id == m.author_id) return true;
  return InOrg(p, m.owner_org_id) && (p.Has(Role::kOrgReporter) || p.Has(Role::kOrgAdmin));
}

bool Comment(const Principal& p, const Marking& m) { return CanRead(p, m); }

bool IssueAdvisory(const Principal& p) { return IsCentreTriager(p); }

bool AcknowledgeAdvisory(const Principal& p, const Marking& m) {
  return CanRead(p, m) &&
         (Contains(m.shared_org_ids, p.org_id) || Contains(m.named_user_ids, p.user_id));
}

bool CreateRequest(const Principal& p) { return IsCentreTriager(p); }

bool AnswerRequest(const Principal& p, const Marking& m) {
  return CanRead(p, m) && Contains(m.shared_org_ids, p.org_id) &&
         (p.Has(Role::kOrgAdmin) || p.Has(Role::kOrgReporter));
}

bool CreateInboundRequest(const Principal& p) {
  return p.org_type == OrgType::kLocalGovernment &&
         (p.Has(Role::kOrgAdmin) || p.Has(Role::kOrgReporter));
}

bool AnswerInboundRequest(const Principal& p) { return IsCentreTriager(p); }

bool AssignRequest(const Principal& p) { return IsCentreTriager(p); }

bool IssueRecommendation(const Principal& p) {
  return p.IsCentreStaff() && p.Has(Role::kCentreAdmin);
}

bool RespondToRecommendation(const Principal& p, const Marking& m) {
  return CanRead(p, m) && Contains(m.shared_org_ids, p.org_id) && p.Has(Role::kOrgAdmin);
}

bool ReadAuditLog(const Principal& p) { return p.IsCentreStaff() && p.Has(Role::kCentreAdmin); }

bool ViewDetection(const Principal& p) { return p.IsCentreStaff(); }

bool OperateDetection(const Principal& p) { return IsDutyOfficer(p); }

bool ReadRawEvents(const Principal& p) {
  if (p.IsCentreStaff()) {
    return p.Has(Role::kCentreAdmin) || p.Has(Role::kCentreAnalyst) || p.Has(Role::kInvestigator);
  }
  return p.IsMember() && (p.Has(Role::kOrgAdmin) || p.Has(Role::kOrgReporter));
}

std::vector<std::string> RawEventOrganizations(const Principal& p) {
  if (p.IsCentreStaff()) return {};
  return {p.org_id};
}

bool OpenCase(const Principal& p) {
  return p.IsCentreStaff() && (p.Has(Role::kCentreAdmin) || p.Has(Role::kInvestigator));
}

bool JoinCase(OrgType org_type, const std::vector<Role>& roles) {
  if (org_type != OrgType::kCentre) return false;
  return std::any_of(roles.begin(), roles.end(), IsCentreRole);
}

// A membership is checked together with the caller's organisation: someone moved out of the
// centre keeps no access through a membership nobody removed.
bool RunCase(const Principal& p, std::optional<CaseRole> role) {
  return p.IsCentreStaff() && role == CaseRole::kLead;
}

bool WorkOnCase(const Principal& p, std::optional<CaseRole> role) {
  return p.IsCentreStaff() && (role == CaseRole::kLead || role == CaseRole::kMember);
}

bool ImportStandard(const Principal& p) {
  return p.IsCentreStaff() && (p.Has(Role::kCentreAdmin) || p.Has(Role::kAuditor));
}

bool OpenAudit(const Principal& p) {
  return p.IsCentreStaff() && (p.Has(Role::kCentreAdmin) || p.Has(Role::kAuditor));
}

// An audit's report goes to the audited organisation's management, not to its every user: the
// weaknesses it lists are themselves sensitive.
bool ReadIssuedAudit(const Principal& p, std::string_view auditee_org_id) {
  return p.IsMember() && !p.IsCentreStaff() && p.org_id == auditee_org_id && p.Has(Role::kOrgAdmin);
}

bool AnswerAuditRecommendation(const Principal& p, std::string_view auditee_org_id) {
  return ReadIssuedAudit(p, auditee_org_id);
}

}  // namespace can
}  // namespace yagura::hub

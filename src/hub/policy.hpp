// The access policy: the one place that decides who may read or change the centre's data.
//
// Handlers never check permissions by hand (docs/architecture.md, decision 5). Reads are decided
// by the object's TLP 2.0 marking and its audience; writes by role and organisation. The same
// read rule exists twice — as a function over a loaded object and as a SQL condition for lists —
// and a generated test walks every marking, role and relation through both and through the
// HTTP API, so the two cannot drift apart.
//
// Who may read an object (docs/access-policy.md has the table):
//   - its author, its named recipients and the staff assigned to it, always;
//   - TLP:RED — nobody else;
//   - TLP:AMBER+STRICT — users of the owning organisation;
//   - TLP:AMBER — plus users of the organisations it was shared with;
//   - TLP:GREEN — plus every member organisation (not partner CERTs abroad), unless the object
//     is addressed (advisories, requests, recommendations go to their recipients only);
//   - TLP:CLEAR — plus everyone logged in, unless addressed.
//   - The centre's duty officers (centre_admin) also see objects reported to the centre
//     (`centre_intake`) at AMBER+STRICT and broader, because someone must triage and assign
//     them; RED stays with its named recipients.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "hub/principal.hpp"
#include "store/database.hpp"

namespace yagura::hub {

enum class Tlp { kClear, kGreen, kAmber, kAmberStrict, kRed };

// "clear", "green", "amber", "amber+strict", "red" (API and database spelling).
std::string_view ToString(Tlp tlp);
// Accepts the API spelling and the labels "TLP:AMBER+STRICT", "tlp:white" (TLP 1.0 WHITE is
// CLEAR).
std::optional<Tlp> ParseTlp(std::string_view text);
std::span<const std::string_view> TlpNames();
// The label as TLP 2.0 writes it on what it marks: "TLP:AMBER+STRICT".
std::string TlpLabel(Tlp tlp);

// The access-relevant facts of one object.
struct Marking {
  Tlp tlp = Tlp::kAmber;
  std::string owner_org_id;
  std::string author_id;
  bool addressed = false;       // audience limited to its recipients whatever the TLP
  bool centre_intake = false;   // reported to the centre: duty officers may triage it
  std::vector<std::string> shared_org_ids;
  std::vector<std::string> named_user_ids;
  std::vector<std::string> assignee_ids;
};

bool CanRead(const Principal& principal, const Marking& marking);

// True when `after` reaches someone `before` did not: a less restrictive marking, or an
// organisation or named recipient added.
bool Widens(const Marking& before, const Marking& after);

// The SQL form of CanRead for lists. The object table must have columns id, tlp, owner_org_id,
// author_id, addressed, centre_intake; grants live in access_grants(object_type, object_id,
// kind 'org'|'user'|'assignee', principal_id). `alias` is the table alias in the query;
// parameters are numbered from `first_param` ($first_param, ...). Append `params` to the
// query's own parameters.
struct SqlCondition {
  std::string sql;
  std::vector<store::Param> params;
};
SqlCondition ReadCondition(const Principal& principal, std::string_view object_type,
                           std::string_view alias, int first_param);

// Loads the grants of one object into `marking` (shared orgs, named users, assignees).
void LoadGrants(store::Connection& connection, std::string_view object_type,
                std::string_view object_id, Marking& marking);
// Replaces the grants of one object (inside the caller's transaction).
void SaveGrants(store::Connection& connection, std::string_view object_type,
                std::string_view object_id, const Marking& marking);

// Investigations (hub/cases.hpp) are need-to-know: a case is read by its members only, whatever
// its marking and whoever opened it, and what a member may do is the role the case gives them:
// a lead runs the case (members, status, removing an import), a member works on it (evidence,
// custody, timeline, links), a reader only reads (legal counsel, the head of the centre).
enum class CaseRole { kLead, kMember, kReader };
std::string_view ToString(CaseRole role);  // "lead", "member", "reader"
std::optional<CaseRole> ParseCaseRole(std::string_view text);
std::span<const std::string_view> CaseRoleNames();

// Write rules. Each names the action in the words of the API.
namespace can {
bool ManageOrganizations(const Principal& p);                          // centre_admin
bool ManageUsersOf(const Principal& p, std::string_view org_id);       // centre_admin; org_admin of org
bool GrantRole(const Principal& p, Role role);                         // centre roles: centre_admin only
bool ReportIncidentFor(const Principal& p, std::string_view org_id);   // org_reporter/org_admin of org; centre staff for any
bool TriageIncident(const Principal& p, const Marking& m);             // centre_admin; assigned centre staff
bool EditIncidentReport(const Principal& p, const Marking& m);         // owning org reporters/admins; triagers
bool AssignIncident(const Principal& p);                               // centre_admin, centre_analyst
// Widening an object's audience (a less restrictive TLP, more organisations, more named
// recipients) is the owner's decision: its author and the owning organisation's reporters and
// administrators. Recipients and the centre's staff may narrow, never widen: TLP forbids a
// recipient to pass information on more widely than it was given.
bool WidenAudience(const Principal& p, const Marking& m);
bool Comment(const Principal& p, const Marking& m);                    // anyone who can read
bool IssueAdvisory(const Principal& p);                                // centre_admin, centre_analyst
bool AcknowledgeAdvisory(const Principal& p, const Marking& m);        // users of a recipient org
bool CreateRequest(const Principal& p);                                // centre_admin, centre_analyst
bool AnswerRequest(const Principal& p, const Marking& m);              // org_admin/org_reporter of the addressed org
bool CreateInboundRequest(const Principal& p);                         // local_government org_admin/org_reporter
bool AnswerInboundRequest(const Principal& p);                         // centre_admin, centre_analyst
bool AssignRequest(const Principal& p);                                // centre_admin, centre_analyst
bool IssueRecommendation(const Principal& p);                          // centre_admin
bool RespondToRecommendation(const Principal& p, const Marking& m);    // org_admin of the addressed agency
bool ReadAuditLog(const Principal& p);                                 // centre_admin
// Live detection's rules and the indicator feeds, as the console shows them: the centre's
// staff read them; only its administrators reload rules or pull feeds.
bool ViewDetection(const Principal& p);                                // centre staff
bool OperateDetection(const Principal& p);                             // centre_admin
// Investigations. `role` is the caller's role in the case (nullopt: not a member).
// Raw events as sensors sent them (the event store): the centre's duty officers, analysts and
// investigators read every organisation's; an organisation's administrators and reporters read
// their own organisation's (what its sensors sent); auditors and partner CERTs none.
bool ReadRawEvents(const Principal& p);
// The organisations whose raw events ReadRawEvents admits: empty for every organisation.
std::vector<std::string> RawEventOrganizations(const Principal& p);
bool OpenCase(const Principal& p);                                  // centre_admin, investigator
bool JoinCase(OrgType org_type, const std::vector<Role>& roles);    // centre staff only
bool RunCase(const Principal& p, std::optional<CaseRole> role);     // the case's leads
bool WorkOnCase(const Principal& p, std::optional<CaseRole> role);  // leads and members
// Audits (hub/audits.hpp) use the cases' roles and need-to-know membership. Their team is the
// centre's staff; the audited organisation's administrators read the audit once its report is
// issued, and answer its recommendations.
bool ImportStandard(const Principal& p);                                    // centre_admin, auditor
bool OpenAudit(const Principal& p);                                         // centre_admin, auditor
bool ReadIssuedAudit(const Principal& p, std::string_view auditee_org_id);  // org_admin of it
bool AnswerAuditRecommendation(const Principal& p, std::string_view auditee_org_id);  // the same
}  // namespace can

}  // namespace yagura::hub

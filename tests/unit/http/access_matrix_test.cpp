// The access matrix: every resource type, marking, role and organisation relation, walked
// through the HTTP API.
//
// One world is built for the whole suite: the centre (duty officer, analyst, investigator,
// auditor, and a standby investigator who is only ever a target of assignment attempts), a
// ministry that owns most reports, an electric-power operator that things are shared with, a
// local government standing by, and a partner CERT abroad. Every kind of confidential object is
// made through the API in every marking it allows: incidents (each TLP, shared or not, named
// recipients, assigned to centre staff or not, reported on behalf of another organisation),
// advisories (organisation, sector and all-member targets, named recipients at RED), requests
// (art. 30 and 31 outbound, art. 32 inbound) and recommendations.
//
// Who may read and write is decided here by an oracle written from docs/access-policy.md, not
// by hub::CanRead — an independent restatement is the point; agreement with hub::CanRead is
// asserted as a second check. The audience of each object (owner, recipient organisations,
// intake flag) is derived from how the test made it, following the resource's documented
// design. Then every (object, user) pair is walked:
//   - the single read answers 200 to readers and 404 to everyone else (never 403, never 500),
//     AMBER and stricter reads leave exactly one "<type>.read" audit entry, CLEAR and GREEN
//     reads none; sub-resources (comments, history, attachments, response attachments) follow
//     the object; linked incidents show only where the reader may read both;
//   - list endpoints, walked page by page through their cursors, hold the object iff readable;
//   - every write the API offers on the object succeeds exactly when the write table allows it,
//     answers 403 to readers it refuses and 404 to non-readers, and a refused write leaves the
//     object (as its author reads it) unchanged and appends no write entry to the audit log;
//   - no answer (object, sub-resource, list page) names the id of an object its reader may
//     not read, and the parts of a hidden object (attachments, responses, links) answer under
//     a readable one exactly like ids that do not exist;
//   - creating objects, organisations and users stays within each role, and nobody raises
//     their own roles.
// The audit chain must verify at the end. Writes that succeed are undone where they would
// change an audience (assignments, links), so the read matrix holds before and after them;
// the tests run in the order written, the second read pass after the writes.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "core/json_value.hpp"
#include "core/metrics.hpp"
#include "core/time.hpp"
#include "hub/advisories.hpp"
#include "hub/alerts.hpp"
#include "hub/audit_log.hpp"
#include "hub/crypto.hpp"
#include "hub/identity.hpp"
#include "hub/passwords.hpp"
#include "hub/policy.hpp"
#include "hub/schema.hpp"
#include "http/api.hpp"
#include "http/router.hpp"

namespace yagura::http {
namespace {

using hub::OrgType;
using hub::Role;
using hub::Tlp;

constexpr std::string_view REPORT = R"({
  "title": "placeholder",
  "description": "Web shell found on the public portal",
  "category": "intrusion",
  "functional_impact": "minimal_impact_to_non_critical_services",
  "information_impact": "suspected_but_not_identified",
  "recoverability": "regular",
  "location": "business_dmz",
  "detected_at": "2026-11-26T09:30:00+09:00",
  "point_of_contact": {"name": "Suzuki Taro", "email": "suzuki@example.go.jp"}
})";

constexpr int64_t DAY_MS = 86'400'000;
constexpr int LIST_PAGE = 4;  // small pages, so every list is walked through its cursors
constexpr std::string_view SECTOR = "electric_power";
constexpr std::string_view USER_PASSWORD = "a long enough password";

enum class Kind { kIncident, kAdvisory, kRequest, kRecommendation };

std::string_view TypeName(Kind kind) {
  switch (kind) {
    case Kind::kIncident: return "incident";
    case Kind::kAdvisory: return "advisory";
    case Kind::kRequest: return "request";
    case Kind::kRecommendation: return "recommendation";
  }
  return "";
}

std::string_view TableName(Kind kind) {
  switch (kind) {
    case Kind::kIncident: return "incidents";
    case Kind::kAdvisory: return "advisories";
    case Kind::kRequest: return "requests";
    case Kind::kRecommendation: return "recommendations";
  }
  return "";
}

std::string Collection(Kind kind) { return fmt::format("/api/v1/{}", TableName(kind)); }

bool Contains(const std::vector<std::string>& list, const std::string& value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

JsonValue Strings(const std::vector<std::string>& values) {
  JsonValue array = JsonValue::MakeArray();
  for (const auto& value : values) array.Push(value);
  return array;
}

JsonValue Body(const Response& response) {
  auto parsed = JsonValue::Parse(response.body);
  return parsed ? *parsed : JsonValue();
}

std::string Text(const JsonValue& value, std::string_view key) {
  const JsonValue* member = value.Find(key);
  return member != nullptr && member->is_string() ? member->as_string() : std::string();
}

// Query-string encoding for cursors (opaque to clients, so encoded rather than trusted).
std::string Encode(std::string_view text) {
  std::string out;
  for (char c : text) {
    bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                 c == '-' || c == '.' || c == '_' || c == '~';
    out += plain ? std::string(1, c) : fmt::format("%{:02X}", static_cast<unsigned char>(c));
  }
  return out;
}

struct Org {
  std::string key;  // "centre", "ministry", "operator", "city", "partner"
  std::string id;
  OrgType type = OrgType::kMinistry;
  std::string sector;
};

// A user who calls the API, with one role.
struct Actor {
  std::string label;
  std::string id;
  std::string org_id;
  OrgType org_type = OrgType::kMinistry;
  Role role = Role::kOrgReporter;
  std::string token;

  [[nodiscard]] bool InCentre() const { return org_type == OrgType::kCentre; }
  [[nodiscard]] bool CentreAdmin() const { return InCentre() && role == Role::kCentreAdmin; }
  [[nodiscard]] bool CentreTriager() const {
    return InCentre() && (role == Role::kCentreAdmin || role == Role::kCentreAnalyst);
  }
  [[nodiscard]] bool OrgStaff() const {
    return role == Role::kOrgAdmin || role == Role::kOrgReporter;
  }
};

// The facts the read rule looks at, as the test derives them from how it made the object.
struct Audience {
  Tlp tlp = Tlp::kAmber;
  std::string owner_org_id;
  std::string author_id;
  bool addressed = false;
  bool intake = false;
  std::vector<std::string> shared_orgs;
  std::vector<std::string> named_users;
  std::vector<std::string> assignees;
};

struct Object {
  Kind kind = Kind::kIncident;
  std::string label;
  std::string id;
  Audience audience;
  // Incidents.
  std::string status = "reported";
  std::string attachment_id;
  // Requests.
  bool inbound = false;
  std::string requester_org_id;
  std::string target_org_id;  // requests and recommendations
  std::string response_id;
  std::string response_org_id;
  std::string response_attachment_id;
  bool closed = false;
  // Advisories: organisations that have acknowledged (only the first acknowledgement is a
  // write).
  std::set<std::string> acknowledged_orgs;
  // The object as its author reads it, refreshed after every write that succeeded.
  std::string snapshot;

  [[nodiscard]] std::string Path() const { return Collection(kind) + "/" + id; }
};

// ---- the oracle: docs/access-policy.md, restated -----------------------------------------------

// "Who may read an object".
bool MayRead(const Actor& u, const Audience& a) {
  if (a.author_id == u.id || Contains(a.named_users, u.id) || Contains(a.assignees, u.id)) {
    return true;
  }
  const bool owner = u.org_id == a.owner_org_id;
  const bool shared = Contains(a.shared_orgs, u.org_id);
  // Duty officers read what was reported to the centre, AMBER+STRICT to CLEAR.
  const bool duty = a.intake && u.CentreAdmin();
  const bool member = u.org_type != OrgType::kPartnerCert;
  switch (a.tlp) {
    case Tlp::kRed: return false;
    case Tlp::kAmberStrict: return owner || duty;
    case Tlp::kAmber: return owner || shared || duty;
    case Tlp::kGreen: return owner || shared || duty || (member && !a.addressed);
    case Tlp::kClear: return owner || shared || duty || !a.addressed;
  }
  return false;
}
bool MayRead(const Actor& u, const Object& o) { return MayRead(u, o.audience); }

// "Who may write". Refusals of readers are 403 and of non-readers 404, so each rule here only
// needs to hold for readers.
bool MayTriage(const Actor& u, const Object& o) {
  return u.InCentre() && ((u.role == Role::kCentreAdmin && MayRead(u, o)) ||
                          Contains(o.audience.assignees, u.id));
}
bool MayEditReport(const Actor& u, const Object& o) {
  return MayTriage(u, o) || (u.org_id == o.audience.owner_org_id && u.OrgStaff());
}
bool MayAssign(const Actor& u) { return u.CentreTriager(); }
bool MayAcknowledge(const Actor& u, const Object& o) {
  return Contains(o.audience.shared_orgs, u.org_id) || Contains(o.audience.named_users, u.id);
}
bool MayAnswer(const Actor& u, const Object& o) {
  return o.inbound ? u.CentreTriager() : u.OrgStaff() && u.org_id == o.target_org_id;
}
bool MayCloseRequest(const Actor& u, const Object& o) {
  if (u.org_id != o.requester_org_id) return false;
  return o.inbound ? u.org_type == OrgType::kLocalGovernment && u.OrgStaff() : u.CentreTriager();
}
bool MayRespondToRecommendation(const Actor& u, const Object& o) {
  return u.role == Role::kOrgAdmin && u.org_id == o.target_org_id;
}
bool MayFollowUp(const Actor& u) { return u.CentreAdmin(); }
bool MayReportFor(const Actor& u, const std::string& org_id) {
  return u.CentreTriager() || (u.org_id == org_id && u.OrgStaff());
}
bool MayManageUsersOf(const Actor& u, const std::string& org_id) {
  return u.CentreAdmin() || (u.role == Role::kOrgAdmin && u.org_id == org_id);
}
bool MayGrant(const Actor& u, Role role) {
  return u.CentreAdmin() ||
         (u.role == Role::kOrgAdmin && (role == Role::kOrgAdmin || role == Role::kOrgReporter));
}
// Which roles an organisation's members may hold (docs/domain.md): centre roles in the centre,
// "partner" in partner CERTs and nothing else there.
bool RoleFitsOrg(Role role, OrgType type) {
  bool centre_role = role == Role::kCentreAdmin || role == Role::kCentreAnalyst ||
                     role == Role::kInvestigator || role == Role::kAuditor;
  if (centre_role) return type == OrgType::kCentre;
  if (role == Role::kPartner) return type == OrgType::kPartnerCert;
  return type != OrgType::kPartnerCert;
}

bool Audited(Tlp tlp) { return tlp != Tlp::kClear && tlp != Tlp::kGreen; }

bool IsReadAction(std::string_view action) {
  return action.ends_with(".read") || action.ends_with(".list");
}

// ---- the world ---------------------------------------------------------------------------------

struct World {
  std::filesystem::path dir;
  std::unique_ptr<store::Database> db;
  std::unique_ptr<hub::AuditLog> audit;
  Metrics metrics;
  std::unique_ptr<ApiContext> context;
  Router router;
  std::vector<Org> orgs;
  std::vector<Actor> actors;
  std::vector<Object> objects;
  std::vector<std::pair<std::string, std::string>> links;  // between incidents, made in setup
  std::string anchor_id;        // a CLEAR incident everyone reads: where link attempts point
  std::string second_clear_id;  // where the anchor's own link attempts point
  int64_t audit_seq = 0;
  int64_t http_cells = 0;
  int64_t oracle_cells = 0;
  // How the cells came out, so a matrix that only ever says "no" (or "yes") shows.
  int64_t reads_shown = 0;
  int64_t reads_hidden = 0;
  int64_t writes_done = 0;
  int64_t writes_forbidden = 0;  // 403: readable, but the write table refuses
  int64_t writes_hidden = 0;     // 404: not even readable
  size_t setup_objects = 0;  // objects made by BuildWorld; later tests add their own
  int serial = 0;
  bool ready = false;
};

std::unique_ptr<World>& WorldSlot() {
  static std::unique_ptr<World> world;
  return world;
}
World& W() { return *WorldSlot(); }

void Require(bool condition, const std::string& what) {
  if (!condition) throw std::runtime_error(what);
}

const Org& OrgOf(std::string_view key) {
  for (const auto& org : W().orgs) {
    if (org.key == key) return org;
  }
  throw std::runtime_error(fmt::format("no organisation {}", key));
}

const Actor& A(std::string_view label) {
  for (const auto& actor : W().actors) {
    if (actor.label == label) return actor;
  }
  throw std::runtime_error(fmt::format("no user {}", label));
}

const Actor* ActorById(const std::string& id) {
  for (const auto& actor : W().actors) {
    if (actor.id == id) return &actor;
  }
  return nullptr;
}

const Object* ObjectById(const std::string& id) {
  for (const auto& object : W().objects) {
    if (object.id == id) return &object;
  }
  return nullptr;
}

std::string Unique(std::string_view prefix) { return fmt::format("{}-{}", prefix, ++W().serial); }

Response Call(const std::string& method, const std::string& target, const Actor& actor,
              std::string body = {}, const std::string& content_type = "application/json") {
  Request request;
  request.method = method;
  request.target = target;
  EXPECT_TRUE(DecodeTarget(target, request)) << target;
  request.remote_address = "127.0.0.1";
  if (!body.empty()) {
    request.body = std::move(body);
    request.headers.Set("Content-Type", content_type);
  }
  request.headers.Set("Authorization", "Bearer " + actor.token);
  return W().router.Dispatch(request);
}

std::string CreatedId(const Response& response, std::string_view what) {
  Require(response.status == 201,
          fmt::format("{}: expected 201, got {} {}", what, response.status, response.body));
  std::string id = Text(Body(response), "id");
  Require(!id.empty(), fmt::format("{}: no id in {}", what, response.body));
  return id;
}

std::string Describe(const Object& o, const Actor& u, std::string_view op) {
  return fmt::format("{} of {} [{}] by {}", op, o.label, o.id, u.label);
}

// Audit entries appended since the last call.
std::vector<hub::StoredAuditEntry> NewAuditEntries() {
  auto connection = W().db->Acquire();
  std::vector<hub::StoredAuditEntry> entries =
      hub::AuditLog::List(*connection, W().audit_seq, 1'000'000);
  if (!entries.empty()) W().audit_seq = entries.back().seq;
  return entries;
}

int64_t RowCount(std::string_view table) {
  auto connection = W().db->Acquire();
  return connection->Query(fmt::format("SELECT COUNT(*) FROM {}", table)).rows.at(0).at(0).as_int();
}

// The object as its author reads it: the reference state a refused write must not change.
std::string AuthorView(const Object& o) {
  const Actor* author = ActorById(o.audience.author_id);
  if (author == nullptr) return {};
  Response response = Call("GET", o.Path(), *author);
  EXPECT_EQ(response.status, 200) << "the author cannot read " << o.label << ": "
                                  << response.body;
  return response.body;
}

// ---- making the objects ------------------------------------------------------------------------

std::string IncidentBody(Tlp tlp, const std::string& owner_org_id,
                         const std::vector<std::string>& shared_with,
                         const std::vector<std::string>& recipients) {
  JsonValue body = *JsonValue::Parse(REPORT);
  body.Set("title", Unique("Incident"));
  body.Set("tlp", std::string(hub::ToString(tlp)));
  if (!owner_org_id.empty()) body.Set("owner_org_id", owner_org_id);
  if (!shared_with.empty()) body.Set("shared_with", Strings(shared_with));
  if (!recipients.empty()) body.Set("recipients", Strings(recipients));
  return body.Serialize();
}

struct IncidentSpec {
  std::string label;
  std::string reporter;
  Tlp tlp = Tlp::kAmber;
  std::string owner_key;  // empty: the reporter's organisation
  std::vector<std::string> shared_keys;
  std::vector<std::string> recipient_labels;
  std::string assignee;  // a centre user label, or empty
  std::string assigner;  // who assigns (must read the incident)
};

Object& MakeIncident(const IncidentSpec& spec) {
  const Actor& reporter = A(spec.reporter);
  std::string owner = spec.owner_key.empty() ? reporter.org_id : OrgOf(spec.owner_key).id;
  std::vector<std::string> shared;
  for (const auto& key : spec.shared_keys) shared.push_back(OrgOf(key).id);
  std::vector<std::string> recipients;
  for (const auto& label : spec.recipient_labels) recipients.push_back(A(label).id);

  Object o;
  o.kind = Kind::kIncident;
  o.label = spec.label;
  o.id = CreatedId(Call("POST", "/api/v1/incidents", reporter,
                        IncidentBody(spec.tlp, spec.owner_key.empty() ? "" : owner, shared,
                                     recipients)),
                   spec.label);
  // Incidents are reports to the centre: intake, never addressed (hub/incidents.hpp).
  o.audience = Audience{spec.tlp, owner, reporter.id, false, true, shared, recipients, {}};
  if (!spec.assignee.empty()) {
    const Actor& assignee = A(spec.assignee);
    Response assigned = Call("POST", o.Path() + "/assignees", A(spec.assigner),
                             fmt::format(R"({{"user_id":"{}"}})", assignee.id));
    Require(assigned.status == 201, spec.label + ": assignment: " + assigned.body);
    o.audience.assignees.push_back(assignee.id);
  }
  CreatedId(Call("POST", o.Path() + "/comments", reporter, R"({"body":"First observations."})"),
            spec.label + " comment");
  // The owning organisation's reporter adds the evidence (the author may be centre staff).
  const Actor* editor = &reporter;
  for (const auto& actor : W().actors) {
    if (actor.org_id == owner && actor.role == Role::kOrgReporter && MayEditReport(actor, o) &&
        MayRead(actor, o)) {
      editor = &actor;
    }
  }
  o.attachment_id =
      CreatedId(Call("POST", o.Path() + "/attachments?filename=evidence.txt", *editor,
                     "web shell sha256 listing", "text/plain"),
                spec.label + " attachment");
  W().objects.push_back(std::move(o));
  return W().objects.back();
}

// The recipient organisations of an advisory target, resolved as advisories.hpp describes:
// member organisations only (not partner CERTs, not the centre).
std::vector<std::string> TargetOrgs(const std::string& kind, const std::string& value) {
  std::vector<std::string> ids;
  for (const auto& org : W().orgs) {
    bool member = org.type != OrgType::kPartnerCert && org.type != OrgType::kCentre;
    if (kind == "organization" ? org.id == value
                               : member && (kind == "all" || org.sector == value)) {
      ids.push_back(org.id);
    }
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

void MakeAdvisory(const std::string& label, const std::string& issuer_label, Tlp tlp,
                  const std::string& kind, const std::string& value,
                  const std::vector<std::string>& recipient_labels) {
  const Actor& issuer = A(issuer_label);
  JsonValue body = JsonValue::MakeObject();
  body.Set("title", Unique("Advisory"));
  body.Set("body", "Patch the VPN appliances.");
  body.Set("severity", "high");
  body.Set("tlp", std::string(hub::ToString(tlp)));
  JsonValue target = JsonValue::MakeObject();
  target.Set("kind", kind);
  if (kind == "organization") target.Set("org_id", value);
  if (kind == "sector") target.Set("sector", value);
  body.Set("target", std::move(target));
  std::vector<std::string> recipients;
  for (const auto& name : recipient_labels) recipients.push_back(A(name).id);
  if (!recipients.empty()) body.Set("recipients", Strings(recipients));

  Object o;
  o.kind = Kind::kAdvisory;
  o.label = label;
  o.id = CreatedId(Call("POST", "/api/v1/advisories", issuer, body.Serialize()), label);
  std::vector<std::string> targets = TargetOrgs(kind, value);
  std::vector<std::string> shared = targets;
  if (tlp == Tlp::kRed) {
    // At RED the audience is the named users, so only their organisations are recipients.
    shared.clear();
    for (const auto& name : recipient_labels) {
      if (!Contains(shared, A(name).org_id)) shared.push_back(A(name).org_id);
    }
  }
  // At AMBER+STRICT only the owning organisation reads, so the single recipient organisation
  // owns the advisory, marked as centre intake (advisories.cpp).
  const bool strict = tlp == Tlp::kAmberStrict;
  o.audience = Audience{tlp,   strict ? targets.front() : issuer.org_id, issuer.id, true, strict,
                        shared, recipients,                                {}};
  W().objects.push_back(std::move(o));
}

std::string Future() { return FormatTimestampMs(NowMs() + DAY_MS); }

void MakeRequest(const std::string& label, const std::string& requester_label,
                 const std::string& basis, const std::string& target_key, Tlp tlp) {
  const Actor& requester = A(requester_label);
  const bool inbound = basis == "art32";
  JsonValue body = JsonValue::MakeObject();
  body.Set("legal_basis", basis);
  if (!inbound) {
    body.Set("target_org_id", OrgOf(target_key).id);
    body.Set("due_at", Future());
  }
  body.Set("title", Unique("Request"));
  body.Set("body", "Mail gateway logs for 1-7 January.");
  body.Set("tlp", std::string(hub::ToString(tlp)));

  Object o;
  o.kind = Kind::kRequest;
  o.label = label;
  o.inbound = inbound;
  o.id = CreatedId(Call("POST", "/api/v1/requests", requester, body.Serialize()), label);
  o.requester_org_id = requester.org_id;
  o.target_org_id = inbound ? OrgOf("centre").id : OrgOf(target_key).id;
  const bool strict = tlp == Tlp::kAmberStrict;
  // requests.cpp: outbound owned by the centre (by the addressee at AMBER+STRICT, as intake);
  // inbound owned by the local government, centre intake; the addressee holds the org grant.
  std::string owner = inbound ? requester.org_id : strict ? o.target_org_id : requester.org_id;
  o.audience = Audience{tlp, owner, requester.id, true, inbound || strict, {o.target_org_id},
                        {},  {}};
  if (inbound && strict) {
    // Only the duty officers see it, until one of them assigns an analyst to work on it.
    const Actor& analyst = A("analyst");
    Response assigned = Call("POST", o.Path() + "/assignees", A("duty"),
                             fmt::format(R"({{"user_id":"{}"}})", analyst.id));
    Require(assigned.status == 201, label + ": assignment: " + assigned.body);
    o.audience.assignees.push_back(analyst.id);
  }

  // One answer with one attachment, by someone whose job it is.
  const Actor* answerer = &A("duty");
  if (!inbound) {
    for (const auto& actor : W().actors) {
      if (actor.org_id == o.target_org_id && actor.role == Role::kOrgReporter) answerer = &actor;
    }
  }
  o.response_id = CreatedId(Call("POST", o.Path() + "/responses", *answerer,
                                 R"({"body":"Logs attached."})"),
                            label + " response");
  o.response_org_id = answerer->org_id;
  o.response_attachment_id =
      CreatedId(Call("POST",
                     fmt::format("{}/responses/{}/attachments?filename=gateway.log", o.Path(),
                                 o.response_id),
                     *answerer, "accepted from 198.51.100.7", "text/plain"),
                label + " response attachment");
  W().objects.push_back(std::move(o));
}

void MakeRecommendation(const std::string& label, Tlp tlp) {
  const Actor& duty = A("duty");
  const std::string ministry = OrgOf("ministry").id;
  JsonValue body = JsonValue::MakeObject();
  body.Set("target_org_id", ministry);
  body.Set("title", Unique("Recommendation"));
  body.Set("body", "Enforce MFA for remote access.");
  body.Set("due_at", FormatTimestampMs(NowMs() + 30 * DAY_MS));
  body.Set("tlp", std::string(hub::ToString(tlp)));

  Object o;
  o.kind = Kind::kRecommendation;
  o.label = label;
  o.id = CreatedId(Call("POST", "/api/v1/recommendations", duty, body.Serialize()), label);
  o.target_org_id = ministry;
  const bool strict = tlp == Tlp::kAmberStrict;
  o.audience = Audience{tlp, strict ? ministry : duty.org_id, duty.id, true, strict, {ministry},
                        {},  {}};
  W().objects.push_back(std::move(o));
}

void AddOrg(const std::string& key, const std::string& name, OrgType type,
            const std::string& sector = {}) {
  hub::NewOrganization input;
  input.name = name;
  input.type = type;
  input.sector = sector;
  auto created = hub::CreateOrganization(*W().db, hub::SystemPrincipal(), input);
  Require(created.has_value(), name + ": " + (created ? "" : created.error().message));
  W().orgs.push_back(Org{key, created->id, type, sector});
}

void AddActor(const std::string& label, const std::string& org_key, Role role) {
  const Org& org = OrgOf(org_key);
  hub::NewUser input;
  input.username = label;
  input.org_id = org.id;
  input.roles = {role};
  auto user = hub::CreateUser(*W().db, hub::SystemPrincipal(), input);
  Require(user.has_value(), label + ": " + (user ? "" : user.error().message));
  auto token = hub::CreateToken(*W().db, hub::SystemPrincipal(), user->id, "matrix", {"admin"},
                                std::nullopt, NowMs());
  Require(token.has_value(), label + " token");
  W().actors.push_back(Actor{label, user->id, org.id, org.type, role, token->secret});
}

void BuildWorld() {
  World& w = W();
  std::string pattern =
      (std::filesystem::temp_directory_path() / "yagura-access-matrix-XXXXXX").string();
  Require(mkdtemp(pattern.data()) != nullptr, "temporary directory");
  w.dir = pattern;
  auto opened = store::Database::Open((w.dir / "hub.db").string(), 4);
  Require(opened.has_value(), "database");
  w.db = std::move(*opened);
  Require(hub::MigrateSchema(*w.db).has_value(), "schema");
  w.audit = std::make_unique<hub::AuditLog>(*w.db);
  w.context = std::make_unique<ApiContext>(ApiContext{*w.db, *w.audit, w.metrics, {}});
  RegisterApi(w.router, *w.context);

  AddOrg("centre", "National Cyber Defence Centre", OrgType::kCentre);
  AddOrg("ministry", "Ministry of Examples", OrgType::kMinistry);
  AddOrg("operator", "Grid Operator", OrgType::kCriticalInfrastructure, std::string(SECTOR));
  AddOrg("city", "Example City", OrgType::kLocalGovernment);
  AddOrg("partner", "CERT Abroad", OrgType::kPartnerCert);
  AddActor("duty", "centre", Role::kCentreAdmin);
  AddActor("analyst", "centre", Role::kCentreAnalyst);
  AddActor("investigator", "centre", Role::kInvestigator);
  AddActor("auditor", "centre", Role::kAuditor);
  AddActor("standby", "centre", Role::kInvestigator);
  AddActor("ministry.admin", "ministry", Role::kOrgAdmin);
  AddActor("ministry.reporter", "ministry", Role::kOrgReporter);
  AddActor("operator.admin", "operator", Role::kOrgAdmin);
  AddActor("operator.reporter", "operator", Role::kOrgReporter);
  AddActor("city.admin", "city", Role::kOrgAdmin);
  AddActor("city.reporter", "city", Role::kOrgReporter);
  AddActor("partner", "partner", Role::kPartner);

  // Incidents: every TLP; shared with the operator or the partner CERT at AMBER; named
  // recipients at RED (the duty officer among them once); assigned to each kind of centre
  // staff or to nobody; reported on behalf of the ministry by the analyst; reported by the
  // operator and the city for themselves.
  const std::string m = "ministry.reporter";
  std::vector<IncidentSpec> incidents = {
      {"incident clear", m, Tlp::kClear, "", {}, {}, "", ""},
      {"incident clear assigned to the auditor", m, Tlp::kClear, "", {}, {}, "auditor", "duty"},
      {"incident green", m, Tlp::kGreen, "", {}, {}, "", ""},
      {"incident green assigned to the analyst", m, Tlp::kGreen, "", {}, {}, "analyst", "duty"},
      {"incident amber", m, Tlp::kAmber, "", {}, {}, "", ""},
      {"incident amber assigned to the investigator", m, Tlp::kAmber, "", {}, {},
       "investigator", "duty"},
      {"incident amber shared with the operator", m, Tlp::kAmber, "", {"operator"}, {}, "", ""},
      {"incident amber shared with the operator, assigned to the analyst", m, Tlp::kAmber, "",
       {"operator"}, {}, "analyst", "duty"},
      {"incident amber shared with the partner CERT", m, Tlp::kAmber, "", {"partner"}, {}, "",
       ""},
      {"incident amber+strict", m, Tlp::kAmberStrict, "", {}, {}, "", ""},
      {"incident amber+strict assigned to the investigator", m, Tlp::kAmberStrict, "", {}, {},
       "investigator", "duty"},
      {"incident red", m, Tlp::kRed, "", {}, {}, "", ""},
      {"incident red for the operator reporter", m, Tlp::kRed, "", {}, {"operator.reporter"}, "",
       ""},
      {"incident red for the operator reporter and the duty officer, assigned to the "
       "investigator",
       m, Tlp::kRed, "", {}, {"operator.reporter", "duty"}, "investigator", "duty"},
      {"incident amber reported by the analyst for the ministry", "analyst", Tlp::kAmber,
       "ministry", {}, {}, "", ""},
      {"incident amber+strict of the operator", "operator.admin", Tlp::kAmberStrict, "", {}, {},
       "", ""},
      {"incident green of the city", "city.reporter", Tlp::kGreen, "", {}, {}, "", ""},
      {"incident clear of the city (link anchor)", "city.reporter", Tlp::kClear, "", {}, {}, "",
       ""},
  };
  std::vector<std::string> chain;  // the ministry reporter's own reports, linked in a chain
  for (const auto& spec : incidents) {
    Object& o = MakeIncident(spec);
    if (spec.reporter == m) chain.push_back(o.id);
    if (spec.label == "incident clear") w.second_clear_id = o.id;
    if (spec.label.ends_with("(link anchor)")) w.anchor_id = o.id;
  }
  // Links among incidents of different markings: a reader must see a link only when it may
  // read both ends.
  for (size_t i = 0; i + 1 < chain.size(); ++i) {
    Response linked = Call("POST", fmt::format("/api/v1/incidents/{}/links", chain[i]), A(m),
                           fmt::format(R"({{"incident_id":"{}","relation":"related"}})",
                                       chain[i + 1]));
    Require(linked.status == 201, "link: " + linked.body);
    w.links.emplace_back(chain[i], chain[i + 1]);
  }

  const std::string op = OrgOf("operator").id;
  const std::string ministry = OrgOf("ministry").id;
  for (Tlp tlp : {Tlp::kClear, Tlp::kGreen, Tlp::kAmber, Tlp::kAmberStrict}) {
    std::string name(hub::ToString(tlp));
    MakeAdvisory("advisory " + name + " to the operator", "analyst", tlp, "organization", op, {});
  }
  MakeAdvisory("advisory amber to the ministry by the duty officer", "duty", Tlp::kAmber,
               "organization", ministry, {});
  MakeAdvisory("advisory red to the operator reporter", "analyst", Tlp::kRed, "organization", op,
               {"operator.reporter"});
  for (Tlp tlp : {Tlp::kClear, Tlp::kGreen, Tlp::kAmber}) {
    std::string name(hub::ToString(tlp));
    MakeAdvisory("advisory " + name + " to the sector", "analyst", tlp, "sector",
                 std::string(SECTOR), {});
    MakeAdvisory("advisory " + name + " to all members", "analyst", tlp, "all", "", {});
  }
  MakeAdvisory("advisory red to the sector, for the operator admin", "analyst", Tlp::kRed,
               "sector", std::string(SECTOR), {"operator.admin"});
  MakeAdvisory("advisory red to all members, for the ministry admin and the city reporter",
               "duty", Tlp::kRed, "all", "", {"ministry.admin", "city.reporter"});

  for (Tlp tlp : {Tlp::kClear, Tlp::kGreen, Tlp::kAmber, Tlp::kAmberStrict}) {
    std::string name(hub::ToString(tlp));
    MakeRequest("request art30 " + name + " to the ministry", "analyst", "art30", "ministry", tlp);
    MakeRequest("request art31 " + name + " to the operator", "duty", "art31", "operator", tlp);
    MakeRequest("request art32 " + name + " from the city", "city.reporter", "art32", "", tlp);
    MakeRecommendation("recommendation " + name + " to the ministry", tlp);
  }

  for (auto& o : w.objects) o.snapshot = AuthorView(o);
  w.setup_objects = w.objects.size();
  NewAuditEntries();
  w.ready = true;
}

// ---- checks ------------------------------------------------------------------------------------

// Sub-resources of an object: each must answer like the object itself.
std::vector<std::string> SubResources(const Object& o) {
  std::vector<std::string> paths;
  if (o.kind == Kind::kIncident) {
    paths = {o.Path() + "/comments", o.Path() + "/history", o.Path() + "/attachments"};
    if (!o.attachment_id.empty()) paths.push_back(o.Path() + "/attachments/" + o.attachment_id);
  }
  if (o.kind == Kind::kRequest && !o.response_id.empty()) {
    std::string base = fmt::format("{}/responses/{}/attachments", o.Path(), o.response_id);
    paths = {base, base + "/" + o.response_attachment_id};
  }
  return paths;
}

// No answer may name an object its reader may not read: not by title, and not by id either,
// since an id proves that the object exists. Walks every string in a JSON answer.
void CheckNamesOnlyReadable(const JsonValue& value, const Actor& u, const std::string& where) {
  if (value.is_string()) {
    const Object* named = ObjectById(value.as_string());
    if (named != nullptr) {
      EXPECT_TRUE(MayRead(u, *named))
          << where << " shows " << u.label << " the id of " << named->label << " ["
          << named->id << "], which " << u.label << " may not read";
    }
  } else if (value.is_array()) {
    for (const auto& item : value.as_array()) CheckNamesOnlyReadable(item, u, where);
  } else if (value.is_object()) {
    for (const auto& [key, member] : value.as_object()) CheckNamesOnlyReadable(member, u, where);
  }
}

// What a reader's copy may say about the rest of the audience.
void CheckReadableBody(const Object& o, const Actor& u, const JsonValue& body) {
  EXPECT_EQ(Text(body, "id"), o.id) << Describe(o, u, "read");
  CheckNamesOnlyReadable(body, u, Describe(o, u, "read"));
  if (o.kind == Kind::kIncident) {
    // A link shows only when the reader may read the other incident too.
    std::set<std::string> expected;
    for (const auto& [a, b] : W().links) {
      const std::string* other = a == o.id ? &b : b == o.id ? &a : nullptr;
      if (other == nullptr) continue;
      const Object* target = ObjectById(*other);
      if (target != nullptr && MayRead(u, *target)) expected.insert(*other);
    }
    std::set<std::string> shown;
    if (const JsonValue* links = body.Find("links"); links != nullptr && links->is_array()) {
      for (const auto& link : links->as_array()) shown.insert(Text(link, "incident_id"));
    }
    EXPECT_EQ(shown, expected) << Describe(o, u, "links");
  }
  if (o.kind == Kind::kAdvisory && !u.InCentre()) {
    // A recipient sees its own acknowledgement and itself among the named users, nothing more.
    EXPECT_EQ(body.Find("acknowledgements"), nullptr) << Describe(o, u, "read");
    EXPECT_EQ(body.Find("pending"), nullptr) << Describe(o, u, "read");
    EXPECT_EQ(body.Find("recipient_org_ids"), nullptr) << Describe(o, u, "read");
    if (const JsonValue* named = body.Find("recipients"); named != nullptr && named->is_array()) {
      for (const auto& id : named->as_array()) {
        EXPECT_EQ(id.is_string() ? id.as_string() : "", u.id) << Describe(o, u, "recipients");
      }
    }
    if (const JsonValue* ack = body.Find("acknowledgement"); ack != nullptr && !ack->is_null()) {
      EXPECT_EQ(Text(*ack, "org_id"), u.org_id) << Describe(o, u, "acknowledgement");
    }
  }
}

void CheckSingleReads() {
  World& w = W();
  for (const auto& o : w.objects) {
    for (const auto& u : w.actors) {
      const bool readable = MayRead(u, o);
      NewAuditEntries();
      Response response = Call("GET", o.Path(), u);
      ++w.http_cells;
      EXPECT_EQ(response.status, readable ? 200 : 404)
          << Describe(o, u, "read") << ": " << response.body;
      ++(readable ? w.reads_shown : w.reads_hidden);
      int reads = 0;
      const std::string action = std::string(TypeName(o.kind)) + ".read";
      for (const auto& stored : NewAuditEntries()) {
        const hub::AuditEntry& entry = stored.entry;
        if (entry.action == action && entry.object_id == o.id) {
          ++reads;
          EXPECT_EQ(entry.actor_id, u.id) << Describe(o, u, "audited read");
          EXPECT_EQ(entry.tlp, o.audience.tlp) << Describe(o, u, "audited read");
        }
      }
      EXPECT_EQ(reads, readable && Audited(o.audience.tlp) ? 1 : 0)
          << Describe(o, u, "audit of the read");
      if (response.status == 200) CheckReadableBody(o, u, Body(response));

      for (const auto& path : SubResources(o)) {
        Response sub = Call("GET", path, u);
        ++w.http_cells;
        const std::string what = Describe(o, u, "read " + path.substr(o.Path().size()));
        EXPECT_EQ(sub.status, readable ? 200 : 404) << what << ": " << sub.body.substr(0, 200);
        if (sub.status == 200 && sub.headers.Get("content-type").value_or("").starts_with(
                                     "application/json")) {
          CheckNamesOnlyReadable(Body(sub), u, what);
        }
      }
    }
  }
}

std::vector<std::string> ListAll(Kind kind, const Actor& u) {
  std::vector<std::string> ids;
  std::string cursor;
  for (int page = 0; page < 1000; ++page) {
    std::string target = fmt::format("{}?limit={}", Collection(kind), LIST_PAGE);
    if (!cursor.empty()) target += "&cursor=" + Encode(cursor);
    Response response = Call("GET", target, u);
    EXPECT_EQ(response.status, 200) << target << " by " << u.label << ": " << response.body;
    if (response.status != 200) break;
    JsonValue body = Body(response);
    const JsonValue* items = body.Find("items");
    EXPECT_TRUE(items != nullptr && items->is_array());
    if (items == nullptr || !items->is_array()) break;
    EXPECT_LE(items->as_array().size(), static_cast<size_t>(LIST_PAGE));
    for (const auto& item : items->as_array()) ids.push_back(Text(item, "id"));
    CheckNamesOnlyReadable(body, u, target + " by " + u.label);
    const JsonValue* next = body.Find("next_cursor");
    if (next == nullptr || next->is_null()) break;
    cursor = next->as_string();
  }
  return ids;
}

void CheckLists() {
  World& w = W();
  for (Kind kind : {Kind::kIncident, Kind::kAdvisory, Kind::kRequest, Kind::kRecommendation}) {
    for (const auto& u : w.actors) {
      std::vector<std::string> listed = ListAll(kind, u);
      std::set<std::string> seen;
      for (const auto& id : listed) {
        EXPECT_TRUE(seen.insert(id).second) << id << " listed twice for " << u.label;
        const Object* o = ObjectById(id);
        EXPECT_TRUE(o != nullptr) << "the list of " << u.label << " holds " << id
                                  << ", which the test did not make";
      }
      for (const auto& o : w.objects) {
        if (o.kind != kind) continue;
        ++w.http_cells;
        EXPECT_EQ(seen.count(o.id) == 1, MayRead(u, o)) << Describe(o, u, "list");
      }
    }
  }
}

// One attempted write on an object: the expected status follows from the oracle; a refusal
// must leave no trace. Returns whether the write succeeded.
struct Attempt {
  std::string op;
  std::string method;
  std::string target;
  std::string body;
  std::string content_type = "application/json";
  bool allowed = false;      // by the write table (for readers)
  int success = 200;         // the status of an allowed attempt
  std::string audit_action;  // the entry an allowed attempt appends ("" when none is due)
};

bool Try(Object& o, const Actor& u, const Attempt& attempt) {
  World& w = W();
  const bool readable = MayRead(u, o);
  const int expected = !readable ? 404 : attempt.allowed ? attempt.success : 403;
  NewAuditEntries();
  Response response = Call(attempt.method, attempt.target, u, attempt.body, attempt.content_type);
  ++w.http_cells;
  EXPECT_EQ(response.status, expected) << Describe(o, u, attempt.op) << ": " << response.body;
  ++(expected == 404 ? w.writes_hidden : expected == 403 ? w.writes_forbidden : w.writes_done);
  std::vector<hub::StoredAuditEntry> entries = NewAuditEntries();
  const bool succeeded = response.status >= 200 && response.status < 300;
  if (succeeded) {
    if (!attempt.audit_action.empty()) {
      bool recorded = std::any_of(entries.begin(), entries.end(), [&](const auto& stored) {
        return stored.entry.action == attempt.audit_action && stored.entry.object_id == o.id &&
               stored.entry.actor_id == u.id;
      });
      EXPECT_TRUE(recorded) << Describe(o, u, attempt.op) << ": no " << attempt.audit_action
                            << " entry";
    }
    o.snapshot = AuthorView(o);
    // Linked incidents show this one's title: their reference views change with it.
    for (const auto& [a, b] : w.links) {
      const std::string* other = a == o.id ? &b : b == o.id ? &a : nullptr;
      for (auto& neighbour : w.objects) {
        if (other != nullptr && neighbour.id == *other) neighbour.snapshot = AuthorView(neighbour);
      }
    }
  } else {
    for (const auto& stored : entries) {
      EXPECT_TRUE(IsReadAction(stored.entry.action))
          << Describe(o, u, attempt.op) << " was refused but appended " << stored.entry.action;
    }
    EXPECT_EQ(AuthorView(o), o.snapshot) << Describe(o, u, attempt.op)
                                         << " was refused but changed the object";
  }
  return succeeded;
}

std::string NextStatus(const std::string& status) {
  if (status == "reported") return "triaged";
  if (status == "triaged") return "investigating";
  if (status == "investigating") return "contained";
  return "resolved";
}

// Assigning and unassigning centre staff (incidents and requests: `audit` is "incident" or
// "request"). Assigning changes the audience, so a successful assignment is undone at once.
void TryAssigning(Object& o, const Actor& u, const std::string& audit) {
  const std::string standby = A("standby").id;
  if (Try(o, u,
          {"assign", "POST", o.Path() + "/assignees", fmt::format(R"({{"user_id":"{}"}})", standby),
           "application/json", MayAssign(u), 201, audit + ".assign"})) {
    Try(o, u,
        {"unassign (undo)", "DELETE", o.Path() + "/assignees/" + standby, "", "application/json",
         MayAssign(u), 204, audit + ".unassign"});
  }
  const std::vector<std::string> assignees = o.audience.assignees;
  for (const std::string& assignee : assignees) {
    if (Try(o, u,
            {"unassign", "DELETE", o.Path() + "/assignees/" + assignee, "", "application/json",
             MayAssign(u), 204, audit + ".unassign"})) {
      // The assignment is undone. Without it the caller may have lost sight of the object (it
      // read it as the assignee), and then the duty officer restores it.
      Audience without = o.audience;
      std::erase(without.assignees, assignee);
      const std::string body = fmt::format(R"({{"user_id":"{}"}})", assignee);
      Response again = Call("POST", o.Path() + "/assignees", u, body);
      ++W().http_cells;
      EXPECT_EQ(again.status, MayRead(u, without) ? 201 : 404) << Describe(o, u, "re-assign");
      if (again.status != 201) {
        Response restored = Call("POST", o.Path() + "/assignees", A("duty"), body);
        EXPECT_EQ(restored.status, 201) << Describe(o, u, "restore the assignment");
      }
      o.snapshot = AuthorView(o);
    }
  }
}

void TryIncidentWrites(Object& o, const Actor& u) {
  Try(o, u,
      {"edit", "PATCH", o.Path(), fmt::format(R"({{"title":"{}"}})", Unique("Edited")),
       "application/json", MayEditReport(u, o), 200, "incident.update"});

  std::string next = NextStatus(o.status);
  if (Try(o, u,
          {"transition to " + next, "POST", o.Path() + "/transitions",
           fmt::format(R"({{"to":"{}"}})", next), "application/json", MayTriage(u, o), 200,
           "incident.transition"})) {
    o.status = next;
  }

  TryAssigning(o, u, "incident");

  Try(o, u,
      {"comment", "POST", o.Path() + "/comments", R"({"body":"Seen from here."})",
       "application/json", MayRead(u, o), 201, "incident.comment"});

  const std::string other = o.id == W().anchor_id ? W().second_clear_id : W().anchor_id;
  if (Try(o, u,
          {"link", "POST", o.Path() + "/links",
           fmt::format(R"({{"incident_id":"{}","relation":"related"}})", other),
           "application/json", MayEditReport(u, o), 201, "incident.link"})) {
    Try(o, u,
        {"unlink (undo)", "DELETE", o.Path() + "/links/" + other, "", "application/json",
         MayEditReport(u, o), 204, "incident.unlink"});
  }

  // Each actor's own file: the same file again would be the attachment it already is (200).
  Try(o, u,
      {"attach", "POST", o.Path() + "/attachments?filename=more.txt", "more evidence from " + u.label,
       "text/plain", MayEditReport(u, o), 201, "incident.attachment.add"});
}

void TryAdvisoryWrites(Object& o, const Actor& u) {
  const bool allowed = MayAcknowledge(u, o);
  const bool first = allowed && !o.acknowledged_orgs.count(u.org_id);
  if (Try(o, u,
          {"acknowledge", "POST", o.Path() + "/acknowledgements", "", "application/json", allowed,
           200, first ? "advisory.acknowledge" : ""})) {
    o.acknowledged_orgs.insert(u.org_id);
  }
}

void TryRequestWrites(Object& o, const Actor& u) {
  TryAssigning(o, u, "request");
  Try(o, u,
      {"answer", "POST", o.Path() + "/responses", R"({"body":"More logs."})", "application/json",
       MayAnswer(u, o), 201, "request.respond"});
  Try(o, u,
      {"attach to the response", "POST",
       fmt::format("{}/responses/{}/attachments?filename=more.log", o.Path(), o.response_id),
       "more lines from " + u.label, "text/plain", MayAnswer(u, o) && u.org_id == o.response_org_id, 201,
       "request.attach"});
}

void TryRecommendationWrites(Object& o, const Actor& u) {
  Try(o, u,
      {"respond", "POST", o.Path() + "/response", R"({"response":"Planned for Q2."})",
       "application/json", MayRespondToRecommendation(u, o), 200, "recommendation.respond"});
  Try(o, u,
      {"follow up", "PATCH", o.Path(), R"({"follow_up_notes":"Checked on site."})",
       "application/json", MayFollowUp(u), 200, "recommendation.update"});
}

// ---- the suite ---------------------------------------------------------------------------------

class AccessMatrixTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    hub::SetPasswordCost(hub::PasswordCost::Minimal());
    WorldSlot() = std::make_unique<World>();
    BuildWorld();
  }

  static void TearDownTestSuite() {
    World& w = W();
    std::filesystem::path dir = w.dir;
    std::printf(
        "[ access matrix ] %zu objects x %zu users: %lld (object, user, operation) cells checked "
        "through the HTTP API (single reads: %lld shown, %lld hidden; object writes: %lld done, "
        "%lld forbidden, %lld hidden), %lld read decisions compared with hub::CanRead\n",
        w.objects.size(), w.actors.size(), static_cast<long long>(w.http_cells),
        static_cast<long long>(w.reads_shown), static_cast<long long>(w.reads_hidden),
        static_cast<long long>(w.writes_done), static_cast<long long>(w.writes_forbidden),
        static_cast<long long>(w.writes_hidden), static_cast<long long>(w.oracle_cells));
    w.context.reset();
    w.audit.reset();
    w.db.reset();
    WorldSlot().reset();
    if (!dir.empty()) std::filesystem::remove_all(dir);
  }

  void SetUp() override { ASSERT_TRUE(WorldSlot() && W().ready) << "the world was not built"; }
};

TEST_F(AccessMatrixTest, OracleAgreesWithThePolicyModule) {
  World& w = W();
  auto connection = w.db->Acquire();
  for (const auto& u : w.actors) {
    std::optional<hub::Principal> principal = hub::AuthenticateToken(*w.db, u.token, NowMs());
    ASSERT_TRUE(principal.has_value()) << u.label;
    for (const auto& o : w.objects) {
      auto marking =
          hub::coordination::LoadMarking(*connection, TableName(o.kind), TypeName(o.kind), o.id);
      ASSERT_TRUE(marking.has_value()) << o.label;
      ++w.oracle_cells;
      EXPECT_EQ(hub::CanRead(*principal, *marking), MayRead(u, o)) << Describe(o, u, "CanRead");
    }
  }
}

TEST_F(AccessMatrixTest, SingleReadsAndSubResourcesAnswerOnlyTheAudience) {
  // Every user is a reader of something and a non-reader of something else, so neither
  // answer is vacuous.
  for (const auto& u : W().actors) {
    int readable = 0;
    for (const auto& o : W().objects) readable += MayRead(u, o) ? 1 : 0;
    EXPECT_GT(readable, 0) << u.label;
    EXPECT_LT(readable, static_cast<int>(W().objects.size())) << u.label;
  }
  CheckSingleReads();
}

TEST_F(AccessMatrixTest, ListsHoldExactlyTheReadableObjects) { CheckLists(); }

// Ids of a hidden object's parts, used under an object the caller may read, answer exactly
// like ids that do not exist: nothing can be fetched, attached or probed through a readable
// object.
TEST_F(AccessMatrixTest, ForeignPartsAnswerLikeMissingOnes) {
  World& w = W();
  const std::string missing = "01a20000-0000-7000-8000-000000000000";
  // `probe` names the hidden object, `control` an id nobody has.
  auto same_answer = [&](const Actor& u, const std::string& method, const std::string& probe,
                         const std::string& probe_body, const std::string& control,
                         const std::string& control_body, const std::string& what) {
    Response hidden = Call(method, probe, u, probe_body);
    Response absent = Call(method, control, u, control_body);
    w.http_cells += 2;
    EXPECT_NE(hidden.status, 500) << what;
    EXPECT_EQ(hidden.status, absent.status) << what << ": " << hidden.body;
    EXPECT_EQ(hidden.body, absent.body) << what;
  };
  for (const auto& u : w.actors) {
    for (const auto& r : w.objects) {
      if (!MayRead(u, r)) continue;
      for (const auto& x : w.objects) {
        if (x.kind != r.kind || MayRead(u, x)) continue;
        const std::string what = fmt::format("{} probing {} through {}", u.label, x.label, r.label);
        if (r.kind == Kind::kIncident) {
          if (!x.attachment_id.empty()) {
            Response foreign = Call("GET", r.Path() + "/attachments/" + x.attachment_id, u);
            ++w.http_cells;
            EXPECT_EQ(foreign.status, 404) << what;
          }
          const std::string link = R"({{"incident_id":"{}","relation":"related"}})";
          same_answer(u, "POST", r.Path() + "/links", fmt::format(fmt::runtime(link), x.id),
                      r.Path() + "/links", fmt::format(fmt::runtime(link), missing), what);
          same_answer(u, "DELETE", r.Path() + "/links/" + x.id, "", r.Path() + "/links/" + missing,
                      "", what + " (unlink)");
        }
        if (r.kind == Kind::kRequest && !x.response_id.empty()) {
          std::string foreign = fmt::format("{}/responses/{}/attachments", r.Path(), x.response_id);
          for (const auto& [method, path] :
               {std::pair<std::string, std::string>{"GET", foreign},
                {"GET", foreign + "/" + x.response_attachment_id}}) {
            Response response = Call(method, path, u);
            ++w.http_cells;
            EXPECT_EQ(response.status, 404) << what << ": " << path;
          }
          if (!r.response_id.empty()) {
            Response response = Call(
                "GET",
                fmt::format("{}/responses/{}/attachments/{}", r.Path(), r.response_id,
                            x.response_attachment_id),
                u);
            ++w.http_cells;
            EXPECT_EQ(response.status, 404) << what;
          }
          NewAuditEntries();
          Response attached =
              Call("POST", foreign + "?filename=x.txt", u, "smuggled", "text/plain");
          ++w.http_cells;
          EXPECT_EQ(attached.status, 404) << what << ": " << attached.body;
          for (const auto& stored : NewAuditEntries()) {
            EXPECT_TRUE(IsReadAction(stored.entry.action)) << what;
          }
        }
      }
    }
  }
}

TEST_F(AccessMatrixTest, WritesSucceedExactlyWhenTheWriteTableAllows) {
  World& w = W();
  for (size_t i = 0; i < w.setup_objects; ++i) {
    Object& o = w.objects[i];
    for (const auto& u : w.actors) {
      switch (o.kind) {
        case Kind::kIncident: TryIncidentWrites(o, u); break;
        case Kind::kAdvisory: TryAdvisoryWrites(o, u); break;
        case Kind::kRequest: TryRequestWrites(o, u); break;
        case Kind::kRecommendation: TryRecommendationWrites(o, u); break;
      }
    }
  }
  // Closing a request ends its answers, so it comes last: the requesting side closes an
  // answered request once; a second close is a conflict, not a permission.
  for (size_t i = 0; i < w.setup_objects; ++i) {
    Object& o = w.objects[i];
    if (o.kind != Kind::kRequest) continue;
    for (const auto& u : w.actors) {
      if (Try(o, u,
              {"close", "PATCH", o.Path(), R"({"status":"closed"})", "application/json",
               MayCloseRequest(u, o), o.closed ? 409 : 200, "request.transition"})) {
        o.closed = true;
      }
      Try(o, u,
          {"answer a closed request", "POST", o.Path() + "/responses", R"({"body":"late"})",
           "application/json", MayAnswer(u, o), o.closed ? 409 : 201, "request.respond"});
    }
    EXPECT_TRUE(o.closed) << o.label << ": nobody could close it";
  }
}

TEST_F(AccessMatrixTest, CreationAndAdministrationStayWithinEachRole) {
  World& w = W();
  const std::vector<Org> orgs = w.orgs;
  const std::vector<Actor> actors = w.actors;
  auto expect_creation = [&](const Actor& u, const std::string& what, const std::string& path,
                             const std::string& body, std::string_view table, int expected) {
    int64_t before = RowCount(table);
    NewAuditEntries();
    Response response = Call("POST", path, u, body);
    ++w.http_cells;
    EXPECT_EQ(response.status, expected) << what << " by " << u.label << ": " << response.body;
    if (response.status != 201) {
      EXPECT_EQ(RowCount(table), before) << what << " by " << u.label << " was refused but wrote";
      for (const auto& stored : NewAuditEntries()) {
        EXPECT_TRUE(IsReadAction(stored.entry.action))
            << what << " by " << u.label << " was refused but appended " << stored.entry.action;
      }
    }
    return response;
  };

  for (const auto& u : actors) {
    for (const auto& org : orgs) {
      Tlp tlp = Tlp::kAmber;
      Response response = expect_creation(
          u, "report an incident for " + org.key, "/api/v1/incidents",
          IncidentBody(tlp, org.id, {}, {}), "incidents", MayReportFor(u, org.id) ? 201 : 403);
      if (response.status == 201) {
        // A new object: from now on part of the matrix, with its derived audience.
        Object o;
        o.kind = Kind::kIncident;
        o.label = fmt::format("incident reported by {} for {}", u.label, org.key);
        o.id = Text(Body(response), "id");
        o.audience = Audience{tlp, org.id, u.id, false, true, {}, {}, {}};
        w.objects.push_back(std::move(o));
      }
    }

    const std::string ministry = OrgOf("ministry").id;
    const std::string op = OrgOf("operator").id;
    Response advisory = expect_creation(
        u, "issue an advisory", "/api/v1/advisories",
        fmt::format(R"({{"title":"t","body":"b","severity":"low","tlp":"amber",)"
                    R"("target":{{"kind":"organization","org_id":"{}"}}}})",
                    ministry),
        "advisories", u.CentreTriager() ? 201 : 403);
    if (advisory.status == 201) {
      Object o;
      o.kind = Kind::kAdvisory;
      o.label = "advisory issued by " + u.label;
      o.id = Text(Body(advisory), "id");
      o.audience = Audience{Tlp::kAmber, u.org_id, u.id, true, false, {ministry}, {}, {}};
      w.objects.push_back(std::move(o));
    }
    for (const auto& [basis, target] : {std::pair{"art30", ministry}, std::pair{"art31", op}}) {
      Response request = expect_creation(
          u, std::string("request materials under ") + basis, "/api/v1/requests",
          fmt::format(R"({{"legal_basis":"{}","target_org_id":"{}","title":"t","body":"b",)"
                      R"("due_at":"{}","tlp":"amber"}})",
                      basis, target, Future()),
          "requests", u.CentreTriager() ? 201 : 403);
      if (request.status == 201) {
        Object o;
        o.kind = Kind::kRequest;
        o.label = fmt::format("request under {} by {}", basis, u.label);
        o.id = Text(Body(request), "id");
        o.requester_org_id = u.org_id;
        o.target_org_id = target;
        o.audience = Audience{Tlp::kAmber, u.org_id, u.id, true, false, {target}, {}, {}};
        w.objects.push_back(std::move(o));
      }
    }
    const bool asks = u.org_type == OrgType::kLocalGovernment && u.OrgStaff();
    Response inbound = expect_creation(u, "ask the centre under art32", "/api/v1/requests",
                                       R"({"legal_basis":"art32","title":"t","body":"b"})",
                                       "requests", asks ? 201 : 403);
    if (inbound.status == 201) {
      Object o;
      o.kind = Kind::kRequest;
      o.label = "request under art32 by " + u.label;
      o.id = Text(Body(inbound), "id");
      o.inbound = true;
      o.requester_org_id = u.org_id;
      o.target_org_id = OrgOf("centre").id;
      o.audience =
          Audience{Tlp::kAmber, u.org_id, u.id, true, true, {OrgOf("centre").id}, {}, {}};
      w.objects.push_back(std::move(o));
    }
    Response recommendation = expect_creation(
        u, "issue a recommendation", "/api/v1/recommendations",
        fmt::format(R"({{"target_org_id":"{}","title":"t","body":"b","tlp":"amber"}})", ministry),
        "recommendations", u.CentreAdmin() ? 201 : 403);
    if (recommendation.status == 201) {
      Object o;
      o.kind = Kind::kRecommendation;
      o.label = "recommendation issued by " + u.label;
      o.id = Text(Body(recommendation), "id");
      o.target_org_id = ministry;
      o.audience = Audience{Tlp::kAmber, u.org_id, u.id, true, false, {ministry}, {}, {}};
      w.objects.push_back(std::move(o));
    }

    expect_creation(u, "create an organisation", "/api/v1/organizations",
                    fmt::format(R"({{"name":"{}","type":"ministry"}})", Unique("Agency")),
                    "organizations", u.CentreAdmin() ? 201 : 403);

    // Users: every organisation and every role. The policy decides first (403); only then
    // the roles an organisation type allows (400).
    for (const auto& org : orgs) {
      for (size_t r = 0; r < hub::RoleNames().size(); ++r) {
        auto role = static_cast<Role>(r);
        int expected = !MayManageUsersOf(u, org.id) || !MayGrant(u, role) ? 403
                       : !RoleFitsOrg(role, org.type)                     ? 400
                                                                          : 201;
        std::string username = Unique("user");
        expect_creation(
            u, fmt::format("create a {} in {}", hub::ToString(role), org.key), "/api/v1/users",
            fmt::format(R"({{"username":"{}","org_id":"{}","roles":["{}"],"password":"{}"}})",
                        username, org.id, hub::ToString(role), USER_PASSWORD),
            "users", expected);
        if (expected != 201) {
          EXPECT_FALSE(hub::FindUserByName(*w.db, username).has_value()) << username;
        }
      }
    }
  }
}

TEST_F(AccessMatrixTest, IdentityRecordsAndTheAuditLogStayWithTheirManagers) {
  World& w = W();
  for (const auto& u : w.actors) {
    // Nobody raises their own roles; the duty officer already holds the highest.
    if (!u.CentreAdmin()) {
      for (std::string_view role : {"centre_admin", "org_admin"}) {
        if (role == hub::ToString(u.role)) continue;
        NewAuditEntries();
        Response response = Call("PATCH", "/api/v1/users/" + u.id, u,
                                 fmt::format(R"({{"roles":["{}"]}})", role));
        ++w.http_cells;
        EXPECT_EQ(response.status, 403) << u.label << " made itself " << role;
        auto stored = hub::GetUser(*w.db, u.id);
        ASSERT_TRUE(stored.has_value());
        EXPECT_EQ(stored->roles, std::vector<Role>{u.role}) << u.label;
        EXPECT_TRUE(NewAuditEntries().empty()) << u.label;
      }
    }
    // Organisations: their own members and the centre's staff see them; only the duty
    // officer changes them.
    for (const auto& org : w.orgs) {
      const bool visible = u.InCentre() || u.org_id == org.id;
      Response read = Call("GET", "/api/v1/organizations/" + org.id, u);
      ++w.http_cells;
      EXPECT_EQ(read.status, visible ? 200 : 404) << org.key << " read by " << u.label;
      auto before = hub::GetOrganization(*w.db, org.id);
      NewAuditEntries();
      std::string email = Unique("soc") + "@example.org";
      Response patch = Call("PATCH", "/api/v1/organizations/" + org.id, u,
                            fmt::format(R"({{"contact_email":"{}"}})", email));
      ++w.http_cells;
      EXPECT_EQ(patch.status, !visible ? 404 : u.CentreAdmin() ? 200 : 403)
          << org.key << " changed by " << u.label << ": " << patch.body;
      if (patch.status != 200) {
        EXPECT_EQ(hub::GetOrganization(*w.db, org.id)->contact_email, before->contact_email);
        EXPECT_TRUE(NewAuditEntries().empty()) << org.key << " changed by " << u.label;
      }
    }
    // Users: themselves, and those they manage.
    for (const auto& other : w.actors) {
      const bool visible = other.id == u.id || MayManageUsersOf(u, other.org_id);
      Response read = Call("GET", "/api/v1/users/" + other.id, u);
      ++w.http_cells;
      EXPECT_EQ(read.status, visible ? 200 : 404) << other.label << " read by " << u.label;
    }
    Response audit = Call("GET", "/api/v1/audit-log?limit=1", u);
    ++w.http_cells;
    EXPECT_EQ(audit.status, u.CentreAdmin() ? 200 : 403) << "audit log read by " << u.label;
  }
}

// "Alerts and campaigns", restated: an alert is read by the users of its organisation and by
// the centre's staff, and triaged by whoever may report an incident for its organisation;
// campaigns (and campaign alerts, owned by the centre) are the centre's alone.
bool MayReadAlert(const Actor& u, const std::string& org_id) {
  return u.InCentre() || u.org_id == org_id;
}
bool MayTriageAlert(const Actor& u, const std::string& org_id) { return MayReportFor(u, org_id); }

hub::DetectedAlert MatrixAlert(const std::string& org_id, const std::string& kind) {
  hub::DetectedAlert alert;
  alert.id = hub::NewId();
  alert.kind = kind;
  alert.org_id = org_id;
  alert.rule_id = "matrix-rule";
  alert.title = Unique("Alert");
  alert.level = "high";
  alert.event_time_ms = NowMs();
  alert.detected_at_ms = alert.event_time_ms;
  alert.details_json = "{}";
  return alert;
}

std::vector<std::string> ListAllAt(const std::string& collection, const Actor& u) {
  std::vector<std::string> ids;
  std::string cursor;
  for (int page = 0; page < 1000; ++page) {
    std::string target = fmt::format("{}?limit={}", collection, LIST_PAGE);
    if (!cursor.empty()) target += "&cursor=" + Encode(cursor);
    Response response = Call("GET", target, u);
    EXPECT_EQ(response.status, 200) << target << " by " << u.label << ": " << response.body;
    if (response.status != 200) break;
    JsonValue body = Body(response);
    for (const auto& item : body.Find("items")->as_array()) ids.push_back(Text(item, "id"));
    const JsonValue* next = body.Find("next_cursor");
    if (next == nullptr || next->is_null()) break;
    cursor = next->as_string();
  }
  return ids;
}

TEST_F(AccessMatrixTest, AlertsAndCampaignsAnswerOnlyTheirAudience) {
  World& w = W();
  std::vector<hub::DetectedAlert> alerts;
  for (const char* key : {"ministry", "operator", "city", "partner"}) {
    alerts.push_back(MatrixAlert(OrgOf(key).id, "rule"));
  }
  hub::DetectedCampaign campaign;
  campaign.id = hub::NewId();
  campaign.key_kind = "rule";
  campaign.key_id = "matrix-rule";
  campaign.key_value = "198.51.100.20";
  campaign.title = "Matrix campaign";
  campaign.first_time_ms = campaign.last_time_ms = NowMs();
  campaign.members = {{alerts[0].org_id, alerts[0].id, NowMs()},
                      {alerts[1].org_id, alerts[1].id, NowMs()}};
  hub::DetectedAlert raised = MatrixAlert(OrgOf("centre").id, "campaign");
  raised.campaign_id = campaign.id;
  alerts.push_back(raised);
  std::vector<hub::DetectedCampaign> campaigns = {campaign};
  ASSERT_TRUE(hub::InsertDetections(*w.db, alerts, campaigns, NowMs()));
  NewAuditEntries();

  auto connection = w.db->Acquire();
  const std::vector<std::string> centre_orgs = hub::CentreOrganizationIds(*connection);
  for (const auto& u : w.actors) {
    std::optional<hub::Principal> principal = hub::AuthenticateToken(*w.db, u.token, NowMs());
    ASSERT_TRUE(principal.has_value()) << u.label;
    std::vector<std::string> listed = ListAllAt("/api/v1/alerts", u);
    for (const auto& alert : alerts) {
      const bool readable = MayReadAlert(u, alert.org_id);
      hub::Alert stored;
      stored.org_id = alert.org_id;
      ++w.oracle_cells;
      EXPECT_EQ(hub::CanRead(*principal, hub::AlertMarking(stored, centre_orgs)), readable)
          << alert.title << " CanRead by " << u.label;
      Response read = Call("GET", "/api/v1/alerts/" + alert.id, u);
      w.http_cells += 2;
      EXPECT_EQ(read.status, readable ? 200 : 404) << alert.title << " read by " << u.label;
      EXPECT_EQ(Contains(listed, alert.id), readable) << alert.title << " listed for " << u.label;
      std::vector<hub::StoredAuditEntry> entries = NewAuditEntries();
      bool audited = std::any_of(entries.begin(), entries.end(), [&](const auto& stored_entry) {
        return stored_entry.entry.action == "alert.read" &&
               stored_entry.entry.object_id == alert.id && stored_entry.entry.actor_id == u.id;
      });
      EXPECT_EQ(audited, readable) << alert.title << " read by " << u.label;
      if (readable && alert.org_id == alerts[0].org_id) {
        // A member sees that its alert belongs to a campaign, never the campaign.
        EXPECT_EQ(Text(Body(read), "campaign_id"), campaign.id) << u.label;
      }
    }
    Response campaign_read = Call("GET", "/api/v1/campaigns/" + campaign.id, u);
    std::vector<std::string> campaign_list = ListAllAt("/api/v1/campaigns", u);
    w.http_cells += 2;
    EXPECT_EQ(campaign_read.status, u.InCentre() ? 200 : 404) << "campaign read by " << u.label;
    EXPECT_EQ(Contains(campaign_list, campaign.id), u.InCentre()) << "campaigns of " << u.label;
    NewAuditEntries();
  }

  // Triage: on a fresh alert for every (user, organisation) pair, so each attempt starts from
  // "new"; a refusal leaves the alert new and appends no write entry.
  for (const auto& u : w.actors) {
    for (const char* key : {"ministry", "operator", "city", "partner", "centre"}) {
      const bool centre = key == std::string("centre");
      hub::DetectedAlert fresh = MatrixAlert(OrgOf(key).id, centre ? "campaign" : "rule");
      std::vector<hub::DetectedAlert> one = {fresh};
      ASSERT_TRUE(hub::InsertDetections(*w.db, one, {}, NowMs()));
      NewAuditEntries();
      const bool readable = MayReadAlert(u, fresh.org_id);
      const int expected = !readable ? 404 : MayTriageAlert(u, fresh.org_id) ? 200 : 403;
      Response response = Call("POST", "/api/v1/alerts/" + fresh.id + "/acknowledge", u);
      ++w.http_cells;
      ++(expected == 404 ? w.writes_hidden : expected == 403 ? w.writes_forbidden : w.writes_done);
      EXPECT_EQ(response.status, expected) << "acknowledge of a " << key << " alert by " << u.label
                                           << ": " << response.body;
      std::vector<hub::StoredAuditEntry> entries = NewAuditEntries();
      std::string status = connection
                               ->Query("SELECT status FROM alerts WHERE id = $1",
                                       {store::Param{fresh.id}})
                               .rows.at(0)
                               .at(0)
                               .text();
      if (response.status == 200) {
        EXPECT_EQ(status, "acknowledged");
        EXPECT_TRUE(std::any_of(entries.begin(), entries.end(), [&](const auto& stored) {
          return stored.entry.action == "alert.acknowledge" && stored.entry.object_id == fresh.id;
        })) << u.label;
      } else {
        EXPECT_EQ(status, "new") << u.label;
        for (const auto& stored : entries) {
          EXPECT_TRUE(IsReadAction(stored.entry.action)) << u.label << " " << stored.entry.action;
        }
      }
    }
  }
}

TEST_F(AccessMatrixTest, AudiencesAreUnchangedAfterTheWrites) {
  CheckSingleReads();
  CheckLists();
}

TEST_F(AccessMatrixTest, AuditChainVerifiesAfterTheWholeMatrix) {
  auto connection = W().db->Acquire();
  hub::AuditVerification verification = hub::AuditLog::Verify(*connection);
  EXPECT_TRUE(verification.intact) << "first bad entry " << verification.first_bad_seq << ": "
                                   << verification.problem;
  EXPECT_GT(verification.entries, static_cast<int64_t>(W().objects.size()));
}

}  // namespace
}  // namespace yagura::http

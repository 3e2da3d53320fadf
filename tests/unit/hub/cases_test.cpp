// Investigations through the hub functions: cases, their members and links, evidence with its
// chain of custody, and the timeline, on SQLite and (when YAGURA_TEST_POSTGRES_URL is set) on
// PostgreSQL.
#include "hub/cases.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "core/time.hpp"
#include "hub/alerts.hpp"
#include "hub/case_timeline.hpp"
#include "hub/crypto.hpp"
#include "hub/evidence.hpp"
#include "hub/incidents.hpp"
#include "unit/hub/hub_test_database.hpp"

// The records below name only the fields each step needs; the rest keep their defaults.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace yagura::hub {
namespace {

using store::Param;
using testing::Backend;

constexpr int64_t T0 = 1'800'000'000'000;  // 2027-01-15
constexpr int64_t MINUTE = 60'000;
constexpr int64_t HOUR = 60 * MINUTE;

// Two lines as `yagura scan` writes them (a rule alert and a correlation), and one Timesketch
// line of another tool.
constexpr std::string_view SCAN_LINES =
    R"({"rule":{"id":"r-1","title":"LSASS Memory Opened","level":"high","tags":["attack.credential-access","attack.t1003.001"]},"time":"2027-01-14T10:00:00.000Z","source":{"file":"dc01/Security.evtx","record":541},"host":"DC01","details":{"TargetImage":"C:\\Windows\\system32\\lsass.exe","GrantedAccess":"0x1010"},"event":{"Event":{}}})"
    "\n"
    R"({"correlation":{"id":"c-1","title":"Many failed logons","level":"medium","type":"event_count","tags":["attack.t1110"]},"alert_id":"x","group":{"IpAddress":"203.0.113.7"},"time":"2027-01-14T09:10:00.000Z","first_time":"2027-01-14T09:00:00.000Z","last_time":"2027-01-14T09:10:00.000Z","value":12,"count":12,"records":[]})"
    "\n\n";
constexpr std::string_view SKETCH_LINE =
    R"({"message":"User logged on","datetime":"2027-01-14T08:00:00Z","timestamp_desc":"Event time","hostname":"ws-12","username":"sato"})";

class CasesTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    std::string reason;
    if (!db_.Open(GetParam(), reason)) GTEST_SKIP() << reason;
    centre_ = AddOrg("centre", OrgType::kCentre);
    org_a_ = AddOrg("ministry-a", OrgType::kMinistry);
    duty_ = AddUser("duty", centre_, OrgType::kCentre, {Role::kCentreAdmin});
    lead_ = AddUser("lead", centre_, OrgType::kCentre, {Role::kInvestigator});
    investigator_ = AddUser("investigator", centre_, OrgType::kCentre, {Role::kInvestigator});
    analyst_ = AddUser("analyst", centre_, OrgType::kCentre, {Role::kCentreAnalyst});
    counsel_ = AddUser("counsel", centre_, OrgType::kCentre, {Role::kAuditor});
    reporter_a_ = AddUser("rep-a", org_a_, OrgType::kMinistry, {Role::kOrgReporter});
  }

  std::string AddOrg(const std::string& name, OrgType type) {
    std::string id = NewId();
    db_->Acquire()->Execute(
        "INSERT INTO organizations (id, name, type, created_at, updated_at) "
        "VALUES ($1, $2, $3, $4, $4)",
        {Param{id}, Param{name}, Param{std::string(ToString(type))}, Param{T0}});
    return id;
  }

  Principal AddUser(const std::string& name, const std::string& org_id, OrgType type,
                    std::vector<Role> roles) {
    Principal p;
    p.user_id = NewId();
    p.username = name;
    p.org_id = org_id;
    p.org_type = type;
    p.roles = std::move(roles);
    p.remote_address = "127.0.0.1";
    std::string role_text;
    for (Role role : p.roles)
      role_text += (role_text.empty() ? "" : ",") + std::string(ToString(role));
    db_->Acquire()->Execute(
        "INSERT INTO users (id, username, display_name, org_id, roles, created_at, updated_at) "
        "VALUES ($1, $2, $2, $3, $4, $5, $5)",
        {Param{p.user_id}, Param{name}, Param{org_id}, Param{role_text}, Param{T0}});
    return p;
  }

  template <typename F>
  auto Write(F&& work) {
    return db_->Transact([&](store::Connection& connection) { return work(connection); });
  }

  Case Open(const Principal& p, CaseCreate create = {}) {
    if (create.title.empty()) create.title = "Intrusion at ministry A";
    auto opened = Write([&](store::Connection& c) { return OpenCase(c, p, create, T0); });
    EXPECT_TRUE(opened) << opened.error().message;
    return opened ? *opened : Case{};
  }

  // A case led by lead_, with investigator_ a member and counsel_ a reader.
  Case Team() {
    CaseCreate create;
    create.members = {{investigator_.user_id, CaseRole::kMember},
                      {counsel_.user_id, CaseRole::kReader}};
    return Open(lead_, create);
  }

  CaseResult<Case> Get(const Principal& p, const std::string& id) {
    return GetCase(*db_->Acquire(), p, id);
  }

  std::vector<std::string> ListIds(const Principal& p, const CaseFilter& filter = {}) {
    std::vector<std::string> ids;
    for (const auto& item : ListCases(*db_->Acquire(), p, filter, std::nullopt, 100).items) {
      ids.push_back(item.id);
    }
    return ids;
  }

  static EvidenceRegistration Disk(std::optional<std::string> sha256 = std::nullopt) {
    EvidenceRegistration r;
    r.label = "DC01 system disk";
    r.description = "E01 image taken on site";
    r.kind = "disk_image";
    r.source_host = "DC01";
    r.acquired_at = T0 - 2 * HOUR;
    r.acquired_by = "Tanaka (ministry A CSIRT)";
    r.acquisition_method = "FTK Imager 4.7 behind a write blocker";
    r.sha256 = std::move(sha256);
    r.md5 = "0123456789abcdef0123456789abcdef";
    r.holder = "Tanaka";
    r.location = "Ministry A, server room";
    r.seal = "S-0001";
    return r;
  }

  EvidenceItem Register(const Principal& p, const Case& kase, EvidenceRegistration r) {
    auto item = Write([&](store::Connection& c) { return RegisterEvidence(c, p, kase.id, r, T0); });
    EXPECT_TRUE(item) << item.error().message;
    return item ? *item : EvidenceItem{};
  }

  CaseResult<CustodyEvent> Custody(const Principal& p, const Case& kase, const EvidenceItem& item,
                                   CustodyRecord record, int64_t now = T0 + HOUR) {
    return Write(
        [&](store::Connection& c) { return RecordCustody(c, p, kase.id, item.id, record, now); });
  }

  EvidenceIntegrity Integrity(const Principal& p, const Case& kase, const EvidenceItem& item) {
    auto integrity = VerifyEvidence(*db_->Acquire(), p, kase.id, item.id);
    EXPECT_TRUE(integrity) << integrity.error().message;
    return integrity ? *integrity : EvidenceIntegrity{};
  }

  std::vector<TimelineEntry> Timeline(const Principal& p, const Case& kase,
                                      const TimelineFilter& filter = {}, int limit = 200) {
    std::vector<TimelineEntry> entries;
    std::optional<std::pair<int64_t, std::string>> after;
    for (int pages = 0; pages < 100; ++pages) {
      auto page = ListTimeline(*db_->Acquire(), p, kase.id, filter, after, limit);
      EXPECT_TRUE(page) << page.error().message;
      if (!page) break;
      for (auto& entry : page->items) entries.push_back(entry);
      if (!page->more) break;
      after = std::make_pair(page->items.back().at, page->items.back().id);
    }
    return entries;
  }

  static std::vector<std::string> Titles(const std::vector<TimelineEntry>& entries) {
    std::vector<std::string> titles;
    for (const auto& entry : entries) titles.push_back(entry.title);
    return titles;
  }

  int64_t AuditCount(const std::string& action) {
    return db_->Acquire()
        ->Query("SELECT COUNT(*) FROM audit_log WHERE action = $1 AND tlp = 'red'", {Param{action}})
        .rows[0][0]
        .as_int();
  }

  static IncidentReport Report() {
    IncidentReport r;
    r.title = "Web shell on the portal";
    r.description = "Found by the ministry";
    r.category = "intrusion";
    r.functional_impact = "no_impact_to_services";
    r.information_impact = "suspected_but_not_identified";
    r.recoverability = "regular";
    r.location = "U";
    r.detected_at = T0 - 5 * HOUR;
    r.occurred_at = T0 - 30 * HOUR;
    r.point_of_contact = {"Sato Hanako", "sato@a.example.go.jp", std::nullopt};
    r.techniques = {"T1505.003"};
    return r;
  }

  testing::TestDatabase db_;
  std::string centre_, org_a_;
  Principal duty_, lead_, investigator_, analyst_, counsel_, reporter_a_;
};

TEST_P(CasesTest, OnlyMembersSeeACaseNotEvenTheDutyOfficer) {
  Case kase = Team();
  EXPECT_EQ(kase.reference.substr(0, 10), "CASE-2027-");
  EXPECT_EQ(kase.RoleOf(lead_.user_id), CaseRole::kLead);
  EXPECT_EQ(kase.members.size(), 3u);

  EXPECT_TRUE(Get(lead_, kase.id));
  EXPECT_TRUE(Get(investigator_, kase.id));
  EXPECT_TRUE(Get(counsel_, kase.id));
  for (const Principal* outsider : {&duty_, &analyst_, &reporter_a_}) {
    auto got = Get(*outsider, kase.id);
    ASSERT_FALSE(got) << outsider->username;
    EXPECT_EQ(got.error().kind, CaseErrorKind::kNotFound);
    EXPECT_TRUE(ListIds(*outsider).empty()) << outsider->username;
  }
  EXPECT_EQ(ListIds(lead_), std::vector<std::string>{kase.id});
  EXPECT_EQ(ListIds(counsel_), std::vector<std::string>{kase.id});
  EXPECT_EQ(AuditCount("case.open"), 1);

  // Someone who moved out of the centre keeps no access through a membership.
  Principal moved = investigator_;
  moved.org_id = org_a_;
  moved.org_type = OrgType::kMinistry;
  EXPECT_FALSE(Get(moved, kase.id));
  EXPECT_TRUE(ListIds(moved).empty());
}

TEST_P(CasesTest, WhoOpensAndWhoMayBeAMember) {
  CaseCreate create;
  create.title = "Case";
  auto refused = Write([&](store::Connection& c) { return OpenCase(c, analyst_, create, T0); });
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().kind, CaseErrorKind::kForbidden);
  refused = Write([&](store::Connection& c) { return OpenCase(c, reporter_a_, create, T0); });
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().kind, CaseErrorKind::kForbidden);

  create.members = {{reporter_a_.user_id, CaseRole::kReader}};
  refused = Write([&](store::Connection& c) { return OpenCase(c, duty_, create, T0); });
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().field, "members[0].user_id");

  create.members = {};
  create.tlp = Tlp::kGreen;
  refused = Write([&](store::Connection& c) { return OpenCase(c, duty_, create, T0); });
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().field, "tlp");

  create.tlp = Tlp::kAmberStrict;
  create.title = "";
  refused = Write([&](store::Connection& c) { return OpenCase(c, duty_, create, T0); });
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().field, "title");
  create.title = std::string("bad\0title", 9);
  refused = Write([&](store::Connection& c) { return OpenCase(c, duty_, create, T0); });
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().field, "title");

  // Nothing was written by the refusals.
  EXPECT_EQ(db_->Acquire()->Query("SELECT COUNT(*) FROM cases").rows[0][0].as_int(), 0);

  // The duty officer may open a case, and then is its lead like anyone who opens one.
  create.title = "Opened by the duty officer";
  Case kase = Open(duty_, create);
  EXPECT_EQ(kase.tlp, Tlp::kAmberStrict);
  EXPECT_TRUE(Get(duty_, kase.id));
  EXPECT_FALSE(Get(analyst_, kase.id));
}

TEST_P(CasesTest, LeadsRunTheCaseMembersWorkReadersRead) {
  Case kase = Team();
  // A member may not choose members; a lead may.
  auto added = Write([&](store::Connection& c) {
    return SetCaseMember(c, investigator_, kase.id, analyst_.user_id, CaseRole::kMember, T0);
  });
  ASSERT_FALSE(added);
  EXPECT_EQ(added.error().kind, CaseErrorKind::kForbidden);
  added = Write([&](store::Connection& c) {
    return SetCaseMember(c, lead_, kase.id, analyst_.user_id, CaseRole::kMember, T0);
  });
  ASSERT_TRUE(added) << added.error().message;
  EXPECT_TRUE(*added);
  EXPECT_TRUE(Get(analyst_, kase.id));
  // The same role again changes nothing; another role is a change.
  added = Write([&](store::Connection& c) {
    return SetCaseMember(c, lead_, kase.id, analyst_.user_id, CaseRole::kMember, T0);
  });
  ASSERT_TRUE(added);
  EXPECT_FALSE(*added);

  // A reader may not register evidence, write on the timeline or link; a member may.
  auto refused = Write(
      [&](store::Connection& c) { return RegisterEvidence(c, counsel_, kase.id, Disk(), T0); });
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().kind, CaseErrorKind::kForbidden);
  TimelineEntryCreate note{T0, "note", "Spoke to the ministry's CSIRT"};
  auto written =
      Write([&](store::Connection& c) { return AddTimelineEntry(c, counsel_, kase.id, note, T0); });
  ASSERT_FALSE(written);
  EXPECT_EQ(written.error().kind, CaseErrorKind::kForbidden);
  written = Write(
      [&](store::Connection& c) { return AddTimelineEntry(c, investigator_, kase.id, note, T0); });
  ASSERT_TRUE(written) << written.error().message;

  // The last lead stays a lead and cannot leave; with a second lead the first may step down.
  auto demoted = Write([&](store::Connection& c) {
    return SetCaseMember(c, lead_, kase.id, lead_.user_id, CaseRole::kMember, T0);
  });
  ASSERT_FALSE(demoted);
  EXPECT_EQ(demoted.error().kind, CaseErrorKind::kConflict);
  auto left = Write(
      [&](store::Connection& c) { return RemoveCaseMember(c, lead_, kase.id, lead_.user_id, T0); });
  ASSERT_FALSE(left);
  EXPECT_EQ(left.error().kind, CaseErrorKind::kConflict);
  ASSERT_TRUE(Write([&](store::Connection& c) {
    return SetCaseMember(c, lead_, kase.id, investigator_.user_id, CaseRole::kLead, T0);
  }));
  ASSERT_TRUE(Write([&](store::Connection& c) {
    return RemoveCaseMember(c, lead_, kase.id, lead_.user_id, T0);
  }));
  EXPECT_FALSE(Get(lead_, kase.id));
  EXPECT_TRUE(ListIds(lead_).empty());

  // A member leaves by removing themself; a reader may not remove others.
  auto removed = Write([&](store::Connection& c) {
    return RemoveCaseMember(c, counsel_, kase.id, analyst_.user_id, T0);
  });
  ASSERT_FALSE(removed);
  EXPECT_EQ(removed.error().kind, CaseErrorKind::kForbidden);
  ASSERT_TRUE(Write([&](store::Connection& c) {
    return RemoveCaseMember(c, counsel_, kase.id, counsel_.user_id, T0);
  }));
  EXPECT_FALSE(Get(counsel_, kase.id));

  auto history = CaseHistory(*db_->Acquire(), investigator_, kase.id);
  ASSERT_TRUE(history);
  std::vector<std::string> kinds;
  for (const auto& entry : *history) kinds.push_back(entry.kind);
  EXPECT_EQ(kinds,
            (std::vector<std::string>{"opened", "member_added", "timeline_added", "member_changed",
                                      "member_removed", "member_removed"}));
}

TEST_P(CasesTest, AClosedCaseIsReadOnlyUntilReopened) {
  Case kase = Team();
  auto moved = Write([&](store::Connection& c) {
    return TransitionCase(c, lead_, kase.id, CaseStatus::kClosed, "", T0);
  });
  ASSERT_FALSE(moved);
  EXPECT_EQ(moved.error().field, "note");
  moved = Write([&](store::Connection& c) {
    return TransitionCase(c, investigator_, kase.id, CaseStatus::kOnHold, "", T0);
  });
  ASSERT_FALSE(moved);
  EXPECT_EQ(moved.error().kind, CaseErrorKind::kForbidden);
  moved = Write([&](store::Connection& c) {
    return TransitionCase(c, lead_, kase.id, CaseStatus::kOnHold, "", T0);
  });
  ASSERT_TRUE(moved) << moved.error().message;
  moved = Write([&](store::Connection& c) {
    return TransitionCase(c, lead_, kase.id, CaseStatus::kClosed,
                          "Initial access by a phishing mail; no data left the network", T0 + 1);
  });
  ASSERT_TRUE(moved) << moved.error().message;
  EXPECT_EQ(moved->status, CaseStatus::kClosed);
  EXPECT_EQ(moved->closed_at, T0 + 1);
  ASSERT_TRUE(moved->conclusion);

  auto refused = Write([&](store::Connection& c) {
    return RegisterEvidence(c, investigator_, kase.id, Disk(), T0);
  });
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().kind, CaseErrorKind::kConflict);
  auto updated = Write([&](store::Connection& c) {
    return UpdateCase(c, lead_, kase.id, CaseUpdate{"New title"}, std::nullopt, T0);
  });
  ASSERT_FALSE(updated);
  EXPECT_EQ(updated.error().kind, CaseErrorKind::kConflict);
  // Members still read it.
  EXPECT_TRUE(Get(counsel_, kase.id));

  moved = Write([&](store::Connection& c) {
    return TransitionCase(c, lead_, kase.id, CaseStatus::kOpen, "", T0 + 2);
  });
  ASSERT_FALSE(moved);
  EXPECT_EQ(moved.error().field, "note");
  moved = Write([&](store::Connection& c) {
    return TransitionCase(c, lead_, kase.id, CaseStatus::kOpen, "A second host was found", T0 + 2);
  });
  ASSERT_TRUE(moved) << moved.error().message;
  EXPECT_FALSE(moved->closed_at);
  EXPECT_TRUE(Register(investigator_, kase, Disk()).id.size() > 0);
  EXPECT_EQ(AuditCount("case.reopen"), 1);
  EXPECT_EQ(AuditCount("case.transition"), 2);

  // Optimistic concurrency on the case's fields.
  Case now = *Get(lead_, kase.id);
  auto stale = Write([&](store::Connection& c) {
    return UpdateCase(c, lead_, kase.id, CaseUpdate{"Title"}, now.version - 1, T0 + 3);
  });
  ASSERT_FALSE(stale);
  EXPECT_EQ(stale.error().kind, CaseErrorKind::kConflict);
  auto fresh = Write([&](store::Connection& c) {
    return UpdateCase(c, lead_, kase.id, CaseUpdate{"Title", std::nullopt, Tlp::kAmber},
                      now.version, T0 + 3);
  });
  ASSERT_TRUE(fresh) << fresh.error().message;
  EXPECT_EQ(fresh->title, "Title");
  EXPECT_EQ(fresh->tlp, Tlp::kAmber);
  EXPECT_EQ(fresh->version, now.version + 1);
  // A wider marking does not widen who reads the case.
  EXPECT_FALSE(Get(duty_, kase.id));
}

TEST_P(CasesTest, LinksShowEachMemberOnlyWhatTheyMayRead) {
  // An incident of ministry A, assigned to the investigator (so readable by them) but not to
  // the case's reader.
  auto incident = Write([&](store::Connection& c) {
    return CreateIncident(c, reporter_a_, Report(), std::nullopt, T0);
  });
  ASSERT_TRUE(incident) << incident.error().message;
  ASSERT_TRUE(Write([&](store::Connection& c) {
    return AssignIncident(c, duty_, incident->id, investigator_.user_id, T0);
  }));
  DetectedAlert alert;
  alert.id = NewId();
  alert.kind = "rule";
  alert.org_id = org_a_;
  alert.rule_id = "r-1";
  alert.title = "Web shell written";
  alert.level = "critical";
  alert.techniques = {"T1505.003"};
  alert.event_time_ms = T0 - 29 * HOUR;
  alert.detected_at_ms = T0 - 29 * HOUR;
  alert.logsource = "product=windows";
  alert.sensor_id = "s";
  alert.details_json = R"({"rule":{"id":"r-1"},"host":"WEB01","event":{}})";
  std::vector<DetectedAlert> alerts{alert};
  ASSERT_TRUE(InsertDetections(*db_, alerts, {}, T0));

  Case kase = Team();
  // The lead may not read the incident (not assigned): linking it is refused as not found.
  auto linked = Write([&](store::Connection& c) {
    return LinkToCase(c, lead_, kase.id, "incident", incident->id, "", T0);
  });
  ASSERT_FALSE(linked);
  EXPECT_EQ(linked.error().kind, CaseErrorKind::kNotFound);
  linked = Write([&](store::Connection& c) {
    return LinkToCase(c, investigator_, kase.id, "incident", incident->id, "the case's origin", T0);
  });
  ASSERT_TRUE(linked) << linked.error().message;
  EXPECT_TRUE(*linked);
  linked = Write([&](store::Connection& c) {
    return LinkToCase(c, investigator_, kase.id, "incident", incident->id, "", T0);
  });
  ASSERT_TRUE(linked);
  EXPECT_FALSE(*linked);
  linked = Write([&](store::Connection& c) {
    return LinkToCase(c, lead_, kase.id, "alert", alert.id, "", T0);
  });
  ASSERT_TRUE(linked) << linked.error().message;
  auto bad = Write([&](store::Connection& c) {
    return LinkToCase(c, lead_, kase.id, "advisory", alert.id, "", T0);
  });
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().field, "type");

  Case loaded = *Get(lead_, kase.id);
  CaseLinks for_lead = CaseLinksFor(*db_->Acquire(), lead_, loaded);
  ASSERT_EQ(for_lead.readable.size(), 1u);
  EXPECT_EQ(for_lead.readable[0].link.type, "alert");
  EXPECT_EQ(for_lead.readable[0].host, "WEB01");
  EXPECT_EQ(for_lead.hidden, 1);
  CaseLinks for_investigator = CaseLinksFor(*db_->Acquire(), investigator_, loaded);
  EXPECT_EQ(for_investigator.readable.size(), 2u);
  EXPECT_EQ(for_investigator.hidden, 0);

  // Cases that link the incident, for its members.
  CaseFilter filter;
  filter.incident_id = incident->id;
  EXPECT_EQ(ListIds(investigator_, filter), std::vector<std::string>{kase.id});
  filter.incident_id = alert.id;
  EXPECT_TRUE(ListIds(investigator_, filter).empty());

  // The timeline shows the linked incident at the time it occurred to whoever may read it.
  auto timeline = Timeline(investigator_, loaded);
  ASSERT_EQ(timeline.size(), 2u);
  EXPECT_EQ(timeline[0].kind, "incident");
  EXPECT_EQ(timeline[0].at, T0 - 30 * HOUR);
  EXPECT_EQ(timeline[0].id, "incident:" + incident->id);
  EXPECT_EQ(timeline[1].kind, "alert");
  EXPECT_EQ(Timeline(lead_, loaded).size(), 1u);

  ASSERT_TRUE(Write([&](store::Connection& c) {
    return UnlinkFromCase(c, lead_, kase.id, "alert", alert.id, T0);
  }));
  EXPECT_EQ(Timeline(investigator_, loaded).size(), 1u);
  auto unlinked = Write([&](store::Connection& c) {
    return UnlinkFromCase(c, lead_, kase.id, "alert", alert.id, T0);
  });
  ASSERT_FALSE(unlinked);
  EXPECT_EQ(unlinked.error().kind, CaseErrorKind::kNotFound);
}

TEST_P(CasesTest, CustodyIsAChainOfWhoHeldItAndWhy) {
  Case kase = Team();
  EvidenceItem item = Register(investigator_, kase, Disk());
  EXPECT_EQ(item.number, 1);
  EXPECT_EQ(item.reference, kase.reference + "-E001");
  EXPECT_EQ(item.status, "in_custody");
  EXPECT_EQ(item.custody_events, 1);
  EXPECT_EQ(Register(investigator_, kase, Disk()).number, 2);

  // Handing over names who takes it; checking out takes a purpose.
  CustodyRecord transfer{"transferred", T0 - HOUR, "Suzuki (centre)", "Centre evidence locker 2"};
  auto event = Custody(investigator_, kase, item, transfer);
  ASSERT_TRUE(event) << event.error().message;
  EXPECT_EQ(event->seq, 2);
  EXPECT_EQ(event->holder_from, "Tanaka");
  EXPECT_EQ(event->holder_to, "Suzuki (centre)");

  CustodyRecord checkout{"checked_out", T0 - 30 * MINUTE, "Ito (forensics)"};
  auto refused = Custody(investigator_, kase, item, checkout);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().field, "purpose");
  checkout.purpose = "Timeline of the intrusion";
  ASSERT_TRUE(Custody(investigator_, kase, item, checkout));
  refused = Custody(investigator_, kase, item, checkout);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().kind, CaseErrorKind::kConflict);
  refused = Custody(investigator_, kase, item, CustodyRecord{"transferred", T0, "Someone"});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().kind, CaseErrorKind::kConflict);

  // Events are in the order they happened, and not far in the future.
  refused = Custody(investigator_, kase, item,
                    CustodyRecord{"checked_in", T0 - 2 * HOUR, "Suzuki (centre)"});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().field, "at");
  refused = Custody(investigator_, kase, item,
                    CustodyRecord{"checked_in", T0 + 2 * HOUR, "Suzuki (centre)"});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().field, "at");
  // The centre writes content_added and accessed itself.
  refused = Custody(investigator_, kase, item, CustodyRecord{"accessed"});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().field, "action");

  CustodyRecord verify{"verified", T0 - 20 * MINUTE};
  verify.sha256_observed = std::string(64, 'a');
  auto verified = Custody(investigator_, kase, item, verify);
  ASSERT_TRUE(verified) << verified.error().message;
  EXPECT_EQ(verified->outcome, "established");
  EXPECT_EQ(GetEvidence(*db_->Acquire(), lead_, kase.id, item.id)->registration.sha256,
            std::string(64, 'a'));
  verify.at = T0 - 10 * MINUTE;
  EXPECT_EQ(Custody(investigator_, kase, item, verify)->outcome, "match");
  verify.sha256_observed = std::string(64, 'b');
  verify.at = T0 - 5 * MINUTE;
  EXPECT_EQ(Custody(investigator_, kase, item, verify)->outcome, "mismatch");
  ASSERT_TRUE(
      Custody(investigator_, kase, item, CustodyRecord{"checked_in", T0, "Suzuki (centre)"}));

  auto chain = CustodyChain(*db_->Acquire(), counsel_, kase.id, item.id);
  ASSERT_TRUE(chain);
  std::vector<std::string> actions;
  for (const auto& e : *chain) actions.push_back(e.action);
  EXPECT_EQ(actions, (std::vector<std::string>{"acquired", "transferred", "checked_out", "verified",
                                               "verified", "verified", "checked_in"}));
  EXPECT_EQ((*chain)[0].prev_hash, std::string(64, '0'));
  for (size_t i = 1; i < chain->size(); ++i) EXPECT_EQ((*chain)[i].prev_hash, (*chain)[i - 1].hash);

  EvidenceIntegrity integrity = Integrity(counsel_, kase, item);
  EXPECT_TRUE(integrity.chain_intact) << integrity.problem;
  EXPECT_TRUE(integrity.registration_intact) << integrity.registration_problem;
  EXPECT_EQ(integrity.events, 7);

  // Released: custody ends, nothing more is recorded.
  ASSERT_TRUE(Custody(investigator_, kase, item,
                      CustodyRecord{"released", T0, "Tanaka (ministry A)", std::nullopt,
                                    "Returned after imaging"}));
  refused = Custody(investigator_, kase, item, CustodyRecord{"examined", T0, {}, {}, "look"});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().kind, CaseErrorKind::kConflict);
  EXPECT_GE(AuditCount("case.evidence.custody"), 7);
}

TEST_P(CasesTest, TamperingWithTheChainOrTheRegistrationIsFound) {
  Case kase = Team();
  EvidenceItem item = Register(investigator_, kase, Disk(std::string(64, 'c')));
  ASSERT_TRUE(Custody(investigator_, kase, item,
                      CustodyRecord{"transferred", T0 - HOUR, "Suzuki", "Locker 2"}));
  ASSERT_TRUE(
      Custody(investigator_, kase, item, CustodyRecord{"examined", T0 - HOUR, {}, {}, "Triage"}));
  EXPECT_TRUE(Integrity(lead_, kase, item).chain_intact);

  auto conn = db_->Acquire();
  // A purpose rewritten afterwards.
  conn->Execute("UPDATE custody_events SET purpose = 'Nothing' WHERE evidence_id = $1 AND seq = 3",
                {Param{item.id}});
  EvidenceIntegrity integrity = Integrity(lead_, kase, item);
  EXPECT_FALSE(integrity.chain_intact);
  EXPECT_EQ(integrity.first_bad_seq, 3);
  conn->Execute("UPDATE custody_events SET purpose = 'Triage' WHERE evidence_id = $1 AND seq = 3",
                {Param{item.id}});
  EXPECT_TRUE(Integrity(lead_, kase, item).chain_intact);

  // The registered hash changed in the item's row without a custody event.
  conn->Execute("UPDATE evidence SET sha256 = $2 WHERE id = $1",
                {Param{item.id}, Param{std::string(64, 'd')}});
  integrity = Integrity(lead_, kase, item);
  EXPECT_TRUE(integrity.chain_intact);
  EXPECT_FALSE(integrity.registration_intact);
  EXPECT_NE(integrity.registration_problem.find("SHA-256"), std::string::npos);
  conn->Execute("UPDATE evidence SET sha256 = $2 WHERE id = $1",
                {Param{item.id}, Param{std::string(64, 'c')}});
  conn->Execute("UPDATE evidence SET acquired_by = 'Someone else' WHERE id = $1", {Param{item.id}});
  EXPECT_FALSE(Integrity(lead_, kase, item).registration_intact);
  conn->Execute("UPDATE evidence SET acquired_by = $2 WHERE id = $1",
                {Param{item.id}, Param{Disk().acquired_by}});

  // An event removed.
  conn->Execute("DELETE FROM custody_events WHERE evidence_id = $1 AND seq = 2", {Param{item.id}});
  integrity = Integrity(lead_, kase, item);
  EXPECT_FALSE(integrity.chain_intact);
  EXPECT_EQ(integrity.first_bad_seq, 2);
}

TEST_P(CasesTest, AStoredFileIsTheItemAndEveryDownloadIsInItsCustody) {
  Case kase = Team();
  const std::string log = "2027-01-14 10:00:01 sshd[77]: Accepted password for root\n";
  EvidenceRegistration registered = Disk(Sha256Hex(log));
  registered.kind = "log_collection";
  EvidenceItem item = Register(investigator_, kase, registered);
  EvidenceItem other = Register(investigator_, kase, Disk(std::string(64, 'e')));

  // Not the file the item was registered with.
  auto added = Write([&](store::Connection& c) {
    return AddEvidenceContent(c, investigator_, kase.id, other.id, "auth.log", "text/plain", log,
                              T0);
  });
  ASSERT_FALSE(added);
  EXPECT_EQ(added.error().kind, CaseErrorKind::kConflict);
  EXPECT_NE(added.error().message.find(Sha256Hex(log)), std::string::npos);
  added = Write([&](store::Connection& c) {
    return AddEvidenceContent(c, counsel_, kase.id, item.id, "auth.log", "text/plain", log, T0);
  });
  ASSERT_FALSE(added);
  EXPECT_EQ(added.error().kind, CaseErrorKind::kForbidden);
  added = Write([&](store::Connection& c) {
    return AddEvidenceContent(c, investigator_, kase.id, item.id, "../auth.log", "text/plain", log,
                              T0);
  });
  ASSERT_FALSE(added);
  EXPECT_EQ(added.error().field, "filename");
  added = Write([&](store::Connection& c) {
    return AddEvidenceContent(c, investigator_, kase.id, item.id, "auth.log", "text/plain", log,
                              T0);
  });
  ASSERT_TRUE(added) << added.error().message;
  EXPECT_TRUE(added->has_content);
  EXPECT_EQ(added->registration.size, static_cast<int64_t>(log.size()));
  added = Write([&](store::Connection& c) {
    return AddEvidenceContent(c, investigator_, kase.id, item.id, "auth.log", "text/plain", log,
                              T0);
  });
  ASSERT_FALSE(added);
  EXPECT_EQ(added.error().kind, CaseErrorKind::kConflict);

  // A reader downloads with a purpose; the download is a custody event.
  auto read = Write([&](store::Connection& c) {
    return ReadEvidenceContent(c, counsel_, kase.id, item.id, "", T0 + MINUTE);
  });
  ASSERT_FALSE(read);
  EXPECT_EQ(read.error().field, "purpose");
  read = Write([&](store::Connection& c) {
    return ReadEvidenceContent(c, counsel_, kase.id, item.id, "Legal review", T0 + MINUTE);
  });
  ASSERT_TRUE(read) << read.error().message;
  EXPECT_EQ(read->content, log);
  auto chain = *CustodyChain(*db_->Acquire(), lead_, kase.id, item.id);
  ASSERT_EQ(chain.size(), 3u);
  EXPECT_EQ(chain[1].action, "content_added");
  EXPECT_EQ(chain[2].action, "accessed");
  EXPECT_EQ(chain[2].recorded_by, counsel_.user_id);
  EXPECT_EQ(chain[2].purpose, "Legal review");
  EvidenceIntegrity integrity = Integrity(lead_, kase, item);
  EXPECT_TRUE(integrity.chain_intact);
  EXPECT_TRUE(integrity.registration_intact) << integrity.registration_problem;
  EXPECT_TRUE(integrity.content_stored);
  EXPECT_EQ(integrity.content_matches, true);

  // The stored bytes altered: found.
  std::string altered = log;
  altered[0] = '3';
  db_->Acquire()->Execute("UPDATE evidence_content SET content = $2 WHERE evidence_id = $1",
                          {Param{item.id}, Param{store::Blob{altered}}});
  EXPECT_EQ(Integrity(lead_, kase, item).content_matches, false);

  // A file registered without a hash takes the file's; destruction deletes the file.
  EvidenceRegistration bare = Disk();
  bare.kind = "malware_sample";
  EvidenceItem sample = Register(investigator_, kase, bare);
  added = Write([&](store::Connection& c) {
    return AddEvidenceContent(c, investigator_, kase.id, sample.id, "dropper.bin",
                              "application/octet-stream", std::string("MZ\x90\0", 4), T0);
  });
  ASSERT_TRUE(added) << added.error().message;
  EXPECT_EQ(added->registration.sha256, Sha256Hex(std::string("MZ\x90\0", 4)));
  EXPECT_TRUE(Integrity(lead_, kase, sample).registration_intact);
  ASSERT_TRUE(Custody(investigator_, kase, sample,
                      CustodyRecord{"destroyed", T0 + HOUR, {}, {}, "Retention period ended"},
                      T0 + HOUR));
  EvidenceItem destroyed = *GetEvidence(*db_->Acquire(), lead_, kase.id, sample.id);
  EXPECT_EQ(destroyed.status, "destroyed");
  EXPECT_FALSE(destroyed.has_content);
  EXPECT_TRUE(destroyed.registration.sha256);
  read = Write([&](store::Connection& c) {
    return ReadEvidenceContent(c, lead_, kase.id, sample.id, "Look", T0 + 2 * HOUR);
  });
  ASSERT_FALSE(read);
  EXPECT_EQ(read.error().kind, CaseErrorKind::kNotFound);
  EXPECT_EQ(AuditCount("case.evidence.access"), 1);
}

TEST_P(CasesTest, TimelineMergesWrittenImportedAndLinkedEntriesInTimeOrder) {
  Case kase = Team();
  EvidenceItem item = Register(investigator_, kase, Disk());
  TimelineEntryCreate finding{
      T0 - 20 * HOUR, "finding", "Web shell planted on WEB01", "found in IIS logs", "WEB01", "", "",
      {"t1505.003"}};
  auto written = Write([&](store::Connection& c) {
    return AddTimelineEntry(c, investigator_, kase.id, finding, T0);
  });
  ASSERT_TRUE(written) << written.error().message;
  EXPECT_EQ(written->techniques, std::vector<std::string>{"T1505.003"});
  TimelineEntryCreate bad = finding;
  bad.kind = "alert";
  auto refused = Write(
      [&](store::Connection& c) { return AddTimelineEntry(c, investigator_, kase.id, bad, T0); });
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().field, "kind");
  bad = finding;
  bad.techniques = {"lateral movement"};
  refused = Write(
      [&](store::Connection& c) { return AddTimelineEntry(c, investigator_, kase.id, bad, T0); });
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().field, "techniques[0]");

  std::string body = std::string(SCAN_LINES) + std::string(SKETCH_LINE) + "\n";
  auto import = Write([&](store::Connection& c) {
    return ImportTimeline(c, investigator_, kase.id, "dc01 scan", body, T0);
  });
  ASSERT_TRUE(import) << import.error().message;
  EXPECT_EQ(import->entries, 3);
  EXPECT_EQ(import->format, "mixed");
  EXPECT_EQ(import->sha256, Sha256Hex(body));

  // A bad line names its number, and nothing of the body is kept.
  std::string broken = std::string(SCAN_LINES) + "{\"hello\":1}\n";
  auto failed = Write([&](store::Connection& c) {
    return ImportTimeline(c, investigator_, kase.id, "broken", broken, T0);
  });
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().field, "line 4");
  failed = Write([&](store::Connection& c) {
    return ImportTimeline(c, investigator_, kase.id, "broken", "not json\n", T0);
  });
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().field, "line 1");

  // Readers read it all, in time order: the imported lines at their events' times (a
  // correlation at the start of its window), the finding, the evidence at its acquisition.
  const std::string acquired = kase.reference + "-E001 DC01 system disk";
  const std::vector<std::string> expected = {"User logged on", "Many failed logons",
                                             "LSASS Memory Opened", "Web shell planted on WEB01",
                                             acquired};
  std::vector<TimelineEntry> all = Timeline(counsel_, kase);
  EXPECT_EQ(Titles(all), expected);
  EXPECT_EQ(Titles(Timeline(counsel_, kase, {}, 2)), expected);
  EXPECT_EQ(Titles(Timeline(counsel_, kase, {}, 1)), expected);
  ASSERT_EQ(all.size(), 5u);
  EXPECT_EQ(all[0].at, T0 - 24 * HOUR);
  EXPECT_EQ(all[0].kind, "event");
  EXPECT_EQ(all[0].host, "ws-12");
  EXPECT_EQ(all[0].account, "sato");
  EXPECT_EQ(all[1].at, T0 - 23 * HOUR);
  EXPECT_EQ(all[1].techniques, std::vector<std::string>{"T1110"});
  EXPECT_NE(all[1].detail.find("IpAddress: 203.0.113.7"), std::string::npos);
  EXPECT_EQ(all[2].kind, "alert");
  EXPECT_EQ(all[2].level, "high");
  EXPECT_EQ(all[2].host, "DC01");
  EXPECT_EQ(all[2].source, "dc01/Security.evtx #541");
  EXPECT_EQ(all[2].techniques, std::vector<std::string>{"T1003.001"});
  EXPECT_NE(all[2].detail.find("GrantedAccess: 0x1010"), std::string::npos);
  EXPECT_EQ(all[2].origin, "imported");
  EXPECT_EQ(all[3].origin, "written");
  EXPECT_EQ(all[4].origin, "linked");
  EXPECT_EQ(all[4].id, "evidence:" + item.id);

  auto titles = [&](TimelineFilter filter) { return Titles(Timeline(counsel_, kase, filter)); };
  TimelineFilter filter;
  filter.host = "dc01";  // the alert and the disk taken from the host
  EXPECT_EQ(titles(filter), (std::vector<std::string>{"LSASS Memory Opened", acquired}));
  filter = {};
  filter.technique = "T1003";
  EXPECT_EQ(titles(filter), std::vector<std::string>{"LSASS Memory Opened"});
  filter.technique = "T1505";
  EXPECT_EQ(titles(filter), std::vector<std::string>{"Web shell planted on WEB01"});
  filter = {};
  filter.text = "WEB SHELL";
  EXPECT_EQ(titles(filter), std::vector<std::string>{"Web shell planted on WEB01"});
  filter = {};
  filter.kinds = {"alert", "evidence"};
  EXPECT_EQ(titles(filter),
            (std::vector<std::string>{"Many failed logons", "LSASS Memory Opened", acquired}));
  filter = {};
  filter.from = T0 - 23 * HOUR;
  filter.to = T0 - 20 * HOUR;
  EXPECT_EQ(titles(filter),
            (std::vector<std::string>{"Many failed logons", "LSASS Memory Opened"}));
  filter.to = T0 - 3 * HOUR;
  filter.host = "dc01";
  EXPECT_EQ(titles(filter), std::vector<std::string>{"LSASS Memory Opened"});

  // The imported line is kept whole.
  auto entry = GetTimelineEntry(*db_->Acquire(), counsel_, kase.id, all[2].id);
  ASSERT_TRUE(entry) << entry.error().message;
  EXPECT_NE(entry->data.find("lsass.exe"), std::string::npos);
  EXPECT_FALSE(GetTimelineEntry(*db_->Acquire(), counsel_, kase.id, all[4].id));

  // Only a lead removes an import, whole.
  auto imports = ListTimelineImports(*db_->Acquire(), counsel_, kase.id);
  ASSERT_TRUE(imports);
  ASSERT_EQ(imports->size(), 1u);
  EXPECT_EQ((*imports)[0].first_at, T0 - 24 * HOUR);
  EXPECT_EQ((*imports)[0].last_at, T0 - 22 * HOUR);
  auto removed = Write([&](store::Connection& c) {
    return RemoveTimelineImport(c, investigator_, kase.id, import->id, T0);
  });
  ASSERT_FALSE(removed);
  EXPECT_EQ(removed.error().kind, CaseErrorKind::kForbidden);
  removed = Write([&](store::Connection& c) {
    return RemoveTimelineImport(c, lead_, kase.id, import->id, T0);
  });
  ASSERT_TRUE(removed) << removed.error().message;
  EXPECT_EQ(*removed, 3);
  EXPECT_EQ(Titles(Timeline(counsel_, kase)),
            (std::vector<std::string>{"Web shell planted on WEB01", acquired}));
  EXPECT_EQ(AuditCount("case.timeline.import"), 1);
  EXPECT_EQ(AuditCount("case.timeline.remove_import"), 1);

  // Outsiders read nothing of it.
  EXPECT_FALSE(ListTimeline(*db_->Acquire(), duty_, kase.id, {}, std::nullopt, 10));
}

TEST_P(CasesTest, ImportReadsTheTimesLogsWrite) {
  Case kase = Team();
  // A syslog line's alert carries its time without a year: the year nearest the import's is
  // taken, as the scan did. An access log's and Sysmon's times are read too.
  const std::string body =
      R"({"rule":{"title":"SSH login for unknown user","level":"low"},"time":"Jan 14 09:00:00","host":"web01"})"
      "\n"
      R"({"rule":{"title":"Web shell request","level":"high"},"time":"14/Jan/2027:18:30:00 +0900","host":"web01"})"
      "\n"
      R"({"message":"Process created","datetime":"2027-01-14 09:45:00.123"})"
      "\n";
  auto import = Write([&](store::Connection& c) {
    return ImportTimeline(c, investigator_, kase.id, "web01", body, T0);
  });
  ASSERT_TRUE(import) << import.error().message;
  std::vector<TimelineEntry> entries = Timeline(lead_, kase);
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[0].at, T0 - 23 * HOUR);                // 2027-01-14T09:00:00Z
  EXPECT_EQ(entries[1].at, T0 - 23 * HOUR + 30 * MINUTE);  // 18:30 in Tokyo
  EXPECT_EQ(entries[2].at, T0 - 23 * HOUR + 45 * MINUTE + 123);
  EXPECT_EQ(entries[2].kind, "event");

  // An alert of no time (a scan's alert on a file without dates) is passed over and counted,
  // here as `yagura scan` writes it in both formats; the others go in.
  const std::string timeless =
      std::string(R"({"rule":{"title":"On a readme"},"time":null,"host":null})") + "\n" +
      R"({"message":"[high] On a readme","datetime":"1970-01-01T00:00:00.000Z","timestamp":0,"timestamp_desc":"No event time"})" +
      "\n" + std::string(SKETCH_LINE) + "\n";
  auto partial = Write([&](store::Connection& c) {
    return ImportTimeline(c, investigator_, kase.id, "readme", timeless, T0);
  });
  ASSERT_TRUE(partial) << partial.error().message;
  EXPECT_EQ(partial->entries, 1);
  EXPECT_EQ(partial->without_time, 2);
  EXPECT_EQ(partial->without_time_lines, (std::vector<int64_t>{1, 2}));
  auto nothing = Write([&](store::Connection& c) {
    return ImportTimeline(c, investigator_, kase.id, "readme",
                          R"({"rule":{"title":"On a readme"},"time":null})", T0);
  });
  ASSERT_FALSE(nothing);
  EXPECT_EQ(nothing.error().field, "body");

  // A time no log writes is refused with its line.
  auto refused = Write([&](store::Connection& c) {
    return ImportTimeline(c, investigator_, kase.id, "web01",
                          R"({"rule":{"title":"x"},"time":"yesterday"})", T0);
  });
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().field, "line 1");
}

INSTANTIATE_TEST_SUITE_P(Backends, CasesTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         testing::BackendName);

}  // namespace
}  // namespace yagura::hub

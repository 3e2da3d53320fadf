// Audits through the hub functions: standards from OSCAL catalogs and profiles, an audit from
// planning to closing with its secrecy, and its OSCAL exports, on SQLite and (when
// YAGURA_TEST_POSTGRES_URL is set) on PostgreSQL.
#include "hub/audits.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "core/json_value.hpp"
#include "core/time.hpp"
#include "hub/crypto.hpp"
#include "hub/oscal_export.hpp"
#include "hub/standards.hpp"
#include "unit/hub/hub_test_database.hpp"

namespace yagura::hub {
namespace {

using store::Param;
using testing::Backend;

constexpr int64_t T0 = 1'800'000'000'000;  // 2027-01-15
constexpr int64_t DAY = 86'400'000;

// A small standard in OSCAL's shape: two groups, a control with an enhancement, a withdrawn
// control, parameters of both kinds and a statement with items.
constexpr std::string_view CATALOG = R"json({
  "catalog": {
    "uuid": "0f1e2d3c-4b5a-4987-8654-3210fedcba98",
    "metadata": {"title": "Unified Standard (test edition)", "version": "2027.1",
                 "oscal-version": "1.1.2", "published": "2027-01-01T00:00:00Z"},
    "groups": [
      {"id": "org", "title": "Organisation",
       "controls": [
         {"id": "org-1", "title": "Security policy", "props": [{"name": "label", "value": "ORG-1"}],
          "params": [{"id": "org-1_prm_1", "label": "frequency"}],
          "parts": [{"id": "org-1_smt", "name": "statement",
                     "prose": "Review the policy every {{ insert: param, org-1_prm_1 }}."}]},
         {"id": "org-2", "title": "Responsibilities",
          "params": [{"id": "org-2_prm_1", "select": {"how-many": "one-or-more",
                      "choice": ["the CISO", "the CIO"]}}],
          "parts": [{"id": "org-2_smt", "name": "statement",
                     "parts": [{"id": "org-2_smt.a", "name": "item",
                                "props": [{"name": "label", "value": "a."}],
                                "prose": "Name {{ insert: param, org-2_prm_1 }};"},
                               {"id": "org-2_smt.b", "name": "item",
                                "props": [{"name": "label", "value": "b."}],
                                "prose": "write their duties down."}]},
                    {"id": "org-2_gdn", "name": "guidance", "prose": "Not part of the statement."}],
          "controls": [{"id": "org-2.1", "title": "Deputies", "class": "enhancement",
                        "parts": [{"id": "org-2.1_smt", "name": "statement",
                                   "prose": "Name a deputy for each."}]}]},
         {"id": "org-3", "title": "Old control", "props": [{"name": "status", "value": "withdrawn"}]}
       ]},
      {"id": "ops", "title": "Operations",
       "controls": [
         {"id": "ops-1", "title": "Logging",
          "parts": [{"id": "ops-1_smt", "name": "statement", "prose": "Keep logs for a year."}]},
         {"id": "ops-2", "title": "Monitoring",
          "parts": [{"id": "ops-2_smt", "name": "statement",
                     "prose": "Send logs to the centre."}]}
       ]}
    ]
  }
})json";

std::filesystem::path SharedOscal() {
  return std::filesystem::path(YAGURA_SHARED_DIR) / "data" / "oscal";
}

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<std::string> Ids(const std::vector<StandardControl>& controls) {
  std::vector<std::string> ids;
  for (const auto& control : controls) ids.push_back(control.control_id);
  return ids;
}

TEST(OscalCatalogTest, ControlsComeInOrderWithStatementsAsText) {
  auto catalog = ParseOscalCatalog(CATALOG);
  ASSERT_TRUE(catalog) << catalog.error();
  EXPECT_EQ(catalog->title, "Unified Standard (test edition)");
  EXPECT_EQ(catalog->version, "2027.1");
  EXPECT_EQ(catalog->oscal_uuid, "0f1e2d3c-4b5a-4987-8654-3210fedcba98");
  // The withdrawn control is left out; the enhancement follows its control.
  EXPECT_EQ(Ids(catalog->controls),
            (std::vector<std::string>{"org-1", "org-2", "org-2.1", "ops-1", "ops-2"}));
  const auto& policy = catalog->controls[0];
  EXPECT_EQ(policy.label, "ORG-1");
  EXPECT_EQ(policy.group_title, "Organisation");
  EXPECT_EQ(policy.statement, "Review the policy every [Assignment: frequency].");
  const auto& duties = catalog->controls[1];
  EXPECT_EQ(duties.statement,
            "a. Name [Selection (one-or-more): the CISO; the CIO];\nb. write their duties down.");
  const auto& deputies = catalog->controls[2];
  EXPECT_EQ(deputies.parent_id, "org-2");
  EXPECT_EQ(deputies.depth, 1);
  EXPECT_EQ(deputies.control_class, "enhancement");
  EXPECT_EQ(catalog->controls[3].group_title, "Operations");
}

TEST(OscalCatalogTest, BadDocumentsAreNamedNotGuessed) {
  auto error_of = [](std::string_view text) {
    auto catalog = ParseOscalCatalog(text);
    EXPECT_FALSE(catalog);
    return catalog ? std::string() : catalog.error();
  };
  EXPECT_NE(error_of("{\"profile\": {}}").find("not an OSCAL catalog"), std::string::npos);
  EXPECT_NE(error_of("[1, 2").find("not JSON"), std::string::npos);
  EXPECT_NE(
      error_of(R"({"catalog": {"metadata": {"title": "x"}, "groups": []}})").find("no controls"),
      std::string::npos);
  EXPECT_EQ(error_of(R"({"catalog": {"metadata": {"title": "x"},
                        "groups": [{"title": "g", "controls": [{"title": "no id"}]}]}})"),
            "catalog.groups[0].controls[0]: a control has no id");
  EXPECT_NE(error_of(R"({"catalog": {"metadata": {"title": "x"},
                        "controls": [{"id": "a"}, {"id": "a"}]}})")
                .find("appears twice"),
            std::string::npos);
}

TEST(OscalCatalogTest, NistCatalogsAndABaselineProfile) {
  const auto dir = SharedOscal();
  if (!std::filesystem::exists(dir / "NIST_CSF_v2.0_catalog.json")) {
    GTEST_SKIP() << "the shared OSCAL catalogs are not at " << dir;
  }
  struct Expected {
    std::filesystem::path path;
    size_t controls;
    std::string first;
  };
  for (const auto& [path, count, first] : std::vector<Expected>{
           {dir / "NIST_CSF_v2.0_catalog.json", 219, "GV.OC"},
           {dir / "NIST_SP800-171_rev3_catalog.json", 97, "SP_800_171_03.01.01"},
           {dir / "sp800-53-rev4" / "NIST_SP-800-53_rev4_catalog-min.json", 922, "ac-1"}}) {
    auto catalog = ParseOscalCatalog(ReadFile(path));
    ASSERT_TRUE(catalog) << path << ": " << catalog.error();
    EXPECT_EQ(catalog->controls.size(), count) << path;
    EXPECT_EQ(catalog->controls.front().control_id, first) << path;
  }
  // The MODERATE baseline selects exactly the controls of its resolved catalog.
  auto moderate = ParseOscalCatalog(
      ReadFile(dir / "sp800-53-rev5" /
               "NIST_SP-800-53_rev5_MODERATE-baseline-resolved-profile_catalog.json"));
  ASSERT_TRUE(moderate) << moderate.error();
  ASSERT_EQ(moderate->controls.size(), 287u);
  const auto& ac2 = moderate->controls[1];
  EXPECT_EQ(ac2.control_id, "ac-2");
  EXPECT_EQ(ac2.label, "AC-2");
  EXPECT_NE(ac2.statement.find("a. Define and document the types of accounts allowed"),
            std::string::npos)
      << ac2.statement;
  EXPECT_EQ(ac2.statement.find("{{"), std::string::npos) << ac2.statement;
  auto ids = ProfileControlIds(
      moderate->controls,
      ReadFile(dir / "sp800-53-rev5" / "NIST_SP-800-53_rev5_MODERATE-baseline_profile.json"));
  ASSERT_TRUE(ids) << ids.error();
  EXPECT_EQ(*ids, Ids(moderate->controls));
  // The LOW baseline names controls MODERATE has; HIGH names some it lacks, and says which.
  auto high = ProfileControlIds(
      moderate->controls,
      ReadFile(dir / "sp800-53-rev5" / "NIST_SP-800-53_rev5_HIGH-baseline_profile.json"));
  ASSERT_FALSE(high);
  EXPECT_NE(high.error().find("is not in the standard"), std::string::npos);
}

TEST(OscalCatalogTest, ProfilesIncludeExcludeAndTakeEnhancements) {
  auto catalog = ParseOscalCatalog(CATALOG);
  ASSERT_TRUE(catalog);
  auto ids = ProfileControlIds(catalog->controls, R"({"profile": {"imports": [{"href": "#x",
      "include-controls": [{"with-ids": ["ops-2", "org-2"], "with-child-controls": "yes"}]}]}})");
  ASSERT_TRUE(ids) << ids.error();
  EXPECT_EQ(*ids, (std::vector<std::string>{"org-2", "org-2.1", "ops-2"}));
  ids = ProfileControlIds(catalog->controls, R"({"profile": {"imports": [{"href": "#x",
      "include-all": {}, "exclude-controls": [{"with-ids": ["org-1"]}]}]}})");
  ASSERT_TRUE(ids) << ids.error();
  EXPECT_EQ(*ids, (std::vector<std::string>{"org-2", "org-2.1", "ops-1", "ops-2"}));
  auto missing = ProfileControlIds(catalog->controls, R"({"profile": {"imports": [{"href": "#x",
      "include-controls": [{"with-ids": ["ac-2"]}]}]}})");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error(),
            "profile.imports[0].include-controls[0]: control \"ac-2\" is not in the standard");
  EXPECT_FALSE(ProfileControlIds(catalog->controls, R"({"catalog": {}})"));
}

class AuditsTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    std::string reason;
    if (!db_.Open(GetParam(), reason)) GTEST_SKIP() << reason;
    centre_ = AddOrg("centre", OrgType::kCentre);
    ministry_ = AddOrg("ministry-a", OrgType::kMinistry);
    other_ = AddOrg("ministry-b", OrgType::kMinistry);
    partner_org_ = AddOrg("cert-abroad", OrgType::kPartnerCert);
    duty_ = AddUser("duty", centre_, OrgType::kCentre, {Role::kCentreAdmin});
    lead_ = AddUser("lead", centre_, OrgType::kCentre, {Role::kAuditor});
    auditor_ = AddUser("auditor", centre_, OrgType::kCentre, {Role::kAuditor});
    analyst_ = AddUser("analyst", centre_, OrgType::kCentre, {Role::kCentreAnalyst});
    ministry_admin_ = AddUser("admin-a", ministry_, OrgType::kMinistry, {Role::kOrgAdmin});
    ministry_reporter_ = AddUser("rep-a", ministry_, OrgType::kMinistry, {Role::kOrgReporter});
    other_admin_ = AddUser("admin-b", other_, OrgType::kMinistry, {Role::kOrgAdmin});
    partner_ = AddUser("partner", partner_org_, OrgType::kPartnerCert, {Role::kPartner});
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
    for (Role role : p.roles) {
      role_text += (role_text.empty() ? "" : ",") + std::string(ToString(role));
    }
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

  Standard Import() {
    auto standard = Write(
        [&](store::Connection& c) { return ImportStandard(c, lead_, "us.json", CATALOG, T0); });
    EXPECT_TRUE(standard) << standard.error().message;
    return standard ? *standard : Standard{};
  }

  // An audit of ministry A led by lead_, auditor_ a member, over org-1, org-2 and ops-1.
  Audit Open() {
    Standard standard = Import();
    AuditCreate create;
    create.title = "Annual audit of ministry A";
    create.objectives = "Check the unified standard's organisation and logging controls.";
    create.auditee_org_id = ministry_;
    create.standard_id = standard.id;
    create.planned_start = T0;
    create.planned_end = T0 + 30 * DAY;
    create.scope.control_ids = {"ops-1", "org-1", "org-2"};
    create.members = {{auditor_.user_id, CaseRole::kMember}};
    auto audit = Write([&](store::Connection& c) { return OpenAudit(c, lead_, create, T0); });
    EXPECT_TRUE(audit) << audit.error().message;
    return audit ? *audit : Audit{};
  }

  CaseResult<Audit> Move(const Principal& p, const Audit& audit, AuditStatus to,
                         const std::string& note = "") {
    return Write(
        [&](store::Connection& c) { return TransitionAudit(c, p, audit.id, to, note, T0); });
  }

  CaseResult<ScopedControl> Assess(const Principal& p, const Audit& audit, const std::string& id,
                                   const std::string& result) {
    return Write([&](store::Connection& c) {
      return AssessControl(c, p, audit.id, id, ControlAssessment{result, {"examine"}, "note"}, T0);
    });
  }

  CaseResult<AuditRecommendation> Follow(const Principal& p, const Audit& audit,
                                         const AuditRecommendation& r, const std::string& status,
                                         const std::string& note = "done") {
    return Write([&](store::Connection& c) {
      return FollowUpRecommendation(c, p, audit.id, r.id, status, note, T0 + DAY);
    });
  }

  std::vector<std::string> Listed(const Principal& p) {
    std::vector<std::string> ids;
    for (const auto& item : ListAudits(*db_->Acquire(), p, {}, std::nullopt, 100).items) {
      ids.push_back(item.id);
    }
    return ids;
  }

  // Fieldwork to issue: org-1 satisfied, org-2 not satisfied with F-001 and R-001, ops-1 not
  // applicable.
  AuditRecommendation Issue(const Audit& audit) {
    EXPECT_TRUE(Move(lead_, audit, AuditStatus::kFieldwork));
    EXPECT_TRUE(Assess(auditor_, audit, "org-1", "satisfied"));
    EXPECT_TRUE(Assess(auditor_, audit, "org-2", "not_satisfied"));
    EXPECT_TRUE(Assess(auditor_, audit, "ops-1", "not_applicable"));
    auto finding = Write([&](store::Connection& c) {
      return AddFinding(c, auditor_, audit.id,
                        FindingWrite{"org-2", "No one is responsible for security", "", "high"},
                        T0);
    });
    EXPECT_TRUE(finding) << finding.error().message;
    auto recommendation = Write([&](store::Connection& c) {
      return AddRecommendation(c, auditor_, audit.id, finding->id,
                               RecommendationWrite{"Name a CISO", T0 + 60 * DAY}, T0);
    });
    EXPECT_TRUE(recommendation) << recommendation.error().message;
    EXPECT_TRUE(Move(lead_, audit, AuditStatus::kReporting));
    auto issued = Move(lead_, audit, AuditStatus::kIssued);
    EXPECT_TRUE(issued) << issued.error().message;
    return *recommendation;
  }

  int64_t RedEntries(const std::string& action) {
    return db_->Acquire()
        ->Query("SELECT COUNT(*) FROM audit_log WHERE action = $1 AND tlp = 'red'", {Param{action}})
        .rows[0][0]
        .as_int();
  }

  testing::TestDatabase db_;
  std::string centre_, ministry_, other_, partner_org_;
  Principal duty_, lead_, auditor_, analyst_, ministry_admin_, ministry_reporter_, other_admin_,
      partner_;
};

TEST_P(AuditsTest, StandardsAreImportedOnceAndReadByMembers) {
  auto refused =
      Write([&](store::Connection& c) { return ImportStandard(c, analyst_, "x", CATALOG, T0); });
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().kind, CaseErrorKind::kForbidden);
  Standard standard = Import();
  EXPECT_EQ(standard.controls, 5);
  auto again =
      Write([&](store::Connection& c) { return ImportStandard(c, duty_, "copy", CATALOG, T0); });
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().kind, CaseErrorKind::kConflict);
  EXPECT_NE(again.error().message.find(standard.id), std::string::npos);
  auto bad = Write([&](store::Connection& c) { return ImportStandard(c, duty_, "x", "{}", T0); });
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().kind, CaseErrorKind::kInvalid);
  EXPECT_EQ(bad.error().field, "document");
  EXPECT_EQ(ListStandards(*db_->Acquire(), ministry_reporter_).size(), 1u);
  EXPECT_TRUE(ListStandards(*db_->Acquire(), partner_).empty());
  EXPECT_EQ(Ids(StandardControls(*db_->Acquire(), standard.id)),
            (std::vector<std::string>{"org-1", "org-2", "org-2.1", "ops-1", "ops-2"}));
  EXPECT_EQ(db_->Acquire()
                ->Query("SELECT COUNT(*) FROM audit_log WHERE action = 'standard.import'")
                .rows[0][0]
                .as_int(),
            1);
}

TEST_P(AuditsTest, TheTeamAloneReadsAnAuditUntilItsReportIsIssued) {
  Audit audit = Open();
  EXPECT_EQ(audit.status, AuditStatus::kPlanning);
  EXPECT_TRUE(audit.reference.starts_with("AUD-2027-"));
  EXPECT_EQ(audit.RoleOf(lead_.user_id), CaseRole::kLead);
  EXPECT_EQ(audit.RoleOf(auditor_.user_id), CaseRole::kMember);
  EXPECT_EQ(audit.auditee_name, "ministry-a");
  for (const Principal* outsider :
       {&duty_, &analyst_, &ministry_admin_, &ministry_reporter_, &other_admin_, &partner_}) {
    auto read = GetAudit(*db_->Acquire(), *outsider, audit.id);
    ASSERT_FALSE(read) << outsider->username;
    EXPECT_EQ(read.error().kind, CaseErrorKind::kNotFound) << outsider->username;
    EXPECT_TRUE(Listed(*outsider).empty()) << outsider->username;
  }
  EXPECT_EQ(Listed(auditor_), std::vector<std::string>{audit.id});
  EXPECT_EQ(RedEntries("audit.open"), 1);

  Issue(audit);
  // Issued: the audited organisation's administrators read it; its reporters, other
  // organisations and the centre's other staff still do not.
  EXPECT_TRUE(GetAudit(*db_->Acquire(), ministry_admin_, audit.id));
  EXPECT_EQ(Listed(ministry_admin_), std::vector<std::string>{audit.id});
  for (const Principal* outsider : {&duty_, &ministry_reporter_, &other_admin_, &partner_}) {
    EXPECT_FALSE(GetAudit(*db_->Acquire(), *outsider, audit.id)) << outsider->username;
    EXPECT_TRUE(Listed(*outsider).empty()) << outsider->username;
  }
  // The working history stays the team's.
  auto history = AuditHistory(*db_->Acquire(), ministry_admin_, audit.id);
  ASSERT_FALSE(history);
  EXPECT_EQ(history.error().kind, CaseErrorKind::kForbidden);
  auto team_history = AuditHistory(*db_->Acquire(), auditor_, audit.id);
  ASSERT_TRUE(team_history);
  EXPECT_EQ(team_history->front().kind, "opened");
  EXPECT_EQ(team_history->back().kind, "transition");
}

// The list's SQL and the single read are two forms of one rule: for audits in every status and
// every kind of reader they must agree.
TEST_P(AuditsTest, ListsAndSingleReadsAgreeForEveryStatusAndReader) {
  Standard standard = Import();
  std::vector<std::pair<std::string, AuditStatus>> audits;
  auto open = [&](std::vector<AuditStatus> path) {
    AuditCreate create;
    create.title = "Audit";
    create.auditee_org_id = ministry_;
    create.standard_id = standard.id;
    create.scope.control_ids = {"ops-1"};
    create.members = {{auditor_.user_id, CaseRole::kReader}};
    auto audit = Write([&](store::Connection& c) { return OpenAudit(c, lead_, create, T0); });
    EXPECT_TRUE(audit);
    for (AuditStatus to : path) {
      if (to == AuditStatus::kIssued) {
        EXPECT_TRUE(Assess(lead_, *audit, "ops-1", "satisfied"));
      }
      auto moved = Move(lead_, *audit, to, "why");
      EXPECT_TRUE(moved) << moved.error().message;
    }
    audits.emplace_back(audit->id, path.empty() ? AuditStatus::kPlanning : path.back());
  };
  open({});
  open({AuditStatus::kFieldwork});
  open({AuditStatus::kFieldwork, AuditStatus::kReporting});
  open({AuditStatus::kFieldwork, AuditStatus::kReporting, AuditStatus::kIssued});
  open({AuditStatus::kFieldwork, AuditStatus::kReporting, AuditStatus::kIssued,
        AuditStatus::kClosed});
  open({AuditStatus::kCancelled});
  for (const Principal* reader : {&duty_, &lead_, &auditor_, &analyst_, &ministry_admin_,
                                  &ministry_reporter_, &other_admin_, &partner_}) {
    std::vector<std::string> listed = Listed(*reader);
    for (const auto& [id, status] : audits) {
      const bool single = GetAudit(*db_->Acquire(), *reader, id).has_value();
      const bool in_list = std::find(listed.begin(), listed.end(), id) != listed.end();
      EXPECT_EQ(single, in_list) << reader->username << " " << ToString(status);
      const bool team = reader == &lead_ || reader == &auditor_;
      const bool auditee = reader == &ministry_admin_ &&
                           (status == AuditStatus::kIssued || status == AuditStatus::kClosed);
      EXPECT_EQ(single, team || auditee) << reader->username << " " << ToString(status);
    }
  }
}

TEST_P(AuditsTest, OpeningChecksTheOrganisationTheStandardAndTheScope) {
  Standard standard = Import();
  AuditCreate create;
  create.title = "Audit";
  create.auditee_org_id = ministry_;
  create.standard_id = standard.id;
  auto open = [&](const Principal& p) {
    return Write([&](store::Connection& c) { return OpenAudit(c, p, create, T0); });
  };
  EXPECT_EQ(open(analyst_).error().kind, CaseErrorKind::kForbidden);
  // Every control when no scope is given.
  auto all = open(duty_);
  ASSERT_TRUE(all) << all.error().message;
  EXPECT_EQ(AuditControls(*db_->Acquire(), duty_, all->id)->size(), 5u);
  create.scope.control_ids = {"org-1", "nope"};
  auto unknown = open(duty_);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().field, "control_ids[1]");
  create.scope.control_ids.clear();
  create.scope.profile_document =
      R"({"profile": {"imports": [{"href": "#", "include-controls": [{"with-ids": ["ops-1"]}]}]}})";
  auto profiled = open(duty_);
  ASSERT_TRUE(profiled) << profiled.error().message;
  EXPECT_EQ(AuditControls(*db_->Acquire(), duty_, profiled->id)->front().control.control_id,
            "ops-1");
  create.scope = {};
  create.auditee_org_id = partner_org_;
  EXPECT_EQ(open(duty_).error().field, "auditee_org_id");
  create.auditee_org_id = centre_;
  EXPECT_EQ(open(duty_).error().field, "auditee_org_id");
  create.auditee_org_id = ministry_;
  create.standard_id = NewId();
  EXPECT_EQ(open(duty_).error().field, "standard_id");
  create.standard_id = standard.id;
  create.members = {{ministry_admin_.user_id, CaseRole::kMember}};
  EXPECT_EQ(open(duty_).error().field, "members[0].user_id");
  create.members.clear();
  create.planned_start = T0 + DAY;
  create.planned_end = T0;
  EXPECT_EQ(open(duty_).error().field, "planned_end");
}

TEST_P(AuditsTest, ScopeIsFixedOnceFieldworkStartsAndWorkWaitsForIt) {
  Audit audit = Open();
  // In planning: the scope changes, nothing is assessed yet.
  auto rescoped = Write([&](store::Connection& c) {
    return SetAuditScope(c, lead_, audit.id, AuditScope{{"org-1", "org-2", "org-2.1", "ops-1"}, ""},
                         T0);
  });
  ASSERT_TRUE(rescoped) << rescoped.error().message;
  EXPECT_EQ(AuditControls(*db_->Acquire(), lead_, audit.id)->size(), 4u);
  auto member_scope = Write([&](store::Connection& c) {
    return SetAuditScope(c, auditor_, audit.id, AuditScope{{"org-1"}, ""}, T0);
  });
  EXPECT_EQ(member_scope.error().kind, CaseErrorKind::kForbidden);
  EXPECT_EQ(Assess(auditor_, audit, "org-1", "satisfied").error().kind, CaseErrorKind::kConflict);

  ASSERT_TRUE(Move(lead_, audit, AuditStatus::kFieldwork));
  auto late = Write([&](store::Connection& c) {
    return SetAuditScope(c, lead_, audit.id, AuditScope{{"org-1"}, ""}, T0);
  });
  EXPECT_EQ(late.error().kind, CaseErrorKind::kConflict);
  EXPECT_EQ(Assess(auditor_, audit, "ops-2", "satisfied").error().kind, CaseErrorKind::kNotFound);
  EXPECT_EQ(Assess(auditor_, audit, "org-1", "fine").error().field, "result");
  auto assessed = Assess(auditor_, audit, "org-1", "partially_satisfied");
  ASSERT_TRUE(assessed) << assessed.error().message;
  EXPECT_EQ(assessed->methods, std::vector<std::string>{"examine"});
  EXPECT_EQ(assessed->assessed_by, auditor_.user_id);
  auto outside = Write([&](store::Connection& c) {
    return AddFinding(c, auditor_, audit.id, FindingWrite{"ops-2", "x", "", "low"}, T0);
  });
  EXPECT_EQ(outside.error().field, "control_id");
  // Analysts of the centre are not on the team.
  EXPECT_EQ(Assess(analyst_, audit, "org-1", "satisfied").error().kind, CaseErrorKind::kNotFound);
}

TEST_P(AuditsTest, AReportIsIssuedOnlyWhenEveryControlAndFindingIsDealtWith) {
  Audit audit = Open();
  ASSERT_TRUE(Move(lead_, audit, AuditStatus::kFieldwork));
  EXPECT_EQ(Move(lead_, audit, AuditStatus::kIssued).error().kind, CaseErrorKind::kConflict);
  ASSERT_TRUE(Move(lead_, audit, AuditStatus::kReporting));
  auto early = Move(lead_, audit, AuditStatus::kIssued);
  ASSERT_FALSE(early);
  EXPECT_NE(early.error().message.find("3 control(s) in scope are not assessed yet (org-1, "
                                       "org-2, ops-1)"),
            std::string::npos)
      << early.error().message;
  ASSERT_TRUE(Assess(auditor_, audit, "org-1", "satisfied"));
  ASSERT_TRUE(Assess(auditor_, audit, "org-2", "not_satisfied"));
  ASSERT_TRUE(Assess(auditor_, audit, "ops-1", "satisfied"));
  auto no_finding = Move(lead_, audit, AuditStatus::kIssued);
  ASSERT_FALSE(no_finding);
  EXPECT_NE(no_finding.error().message.find("control org-2 is not satisfied but has no finding"),
            std::string::npos);
  auto finding = Write([&](store::Connection& c) {
    return AddFinding(c, auditor_, audit.id, FindingWrite{"org-2", "Nobody named", "", "high"}, T0);
  });
  ASSERT_TRUE(finding);
  EXPECT_EQ(finding->reference, "F-001");
  auto no_recommendation = Move(lead_, audit, AuditStatus::kIssued);
  ASSERT_FALSE(no_recommendation);
  EXPECT_NE(no_recommendation.error().message.find("finding F-001 has no recommendation"),
            std::string::npos);
  auto undated = Write([&](store::Connection& c) {
    return AddRecommendation(c, auditor_, audit.id, finding->id, RecommendationWrite{"x", {}}, T0);
  });
  EXPECT_EQ(undated.error().field, "due_at");
  ASSERT_TRUE(Write([&](store::Connection& c) {
    return AddRecommendation(c, auditor_, audit.id, finding->id,
                             RecommendationWrite{"Name a CISO", T0 + 30 * DAY}, T0);
  }));
  // Only leads issue.
  EXPECT_EQ(Move(auditor_, audit, AuditStatus::kIssued).error().kind, CaseErrorKind::kForbidden);
  auto issued = Move(lead_, audit, AuditStatus::kIssued);
  ASSERT_TRUE(issued) << issued.error().message;
  EXPECT_EQ(issued->issued_at, T0);
  // Issued: findings and assessments are fixed.
  EXPECT_EQ(Assess(auditor_, audit, "org-1", "not_satisfied").error().kind,
            CaseErrorKind::kConflict);
  auto edit = Write([&](store::Connection& c) {
    return UpdateFinding(c, auditor_, audit.id, finding->id, FindingWrite{{}, "Changed", {}, {}},
                         T0);
  });
  EXPECT_EQ(edit.error().kind, CaseErrorKind::kConflict);
  EXPECT_EQ(Move(lead_, audit, AuditStatus::kCancelled, "no").error().kind,
            CaseErrorKind::kConflict);
}

TEST_P(AuditsTest, FollowUpRunsBetweenTheOrganisationAndTheTeamUntilClosing) {
  Audit audit = Open();
  AuditRecommendation recommendation = Issue(audit);
  // The organisation's reporters and other organisations do not answer.
  EXPECT_EQ(Follow(ministry_reporter_, audit, recommendation, "in_progress").error().kind,
            CaseErrorKind::kNotFound);
  EXPECT_EQ(Follow(other_admin_, audit, recommendation, "in_progress").error().kind,
            CaseErrorKind::kNotFound);
  // The team does not report its own recommendation implemented.
  EXPECT_EQ(Follow(auditor_, audit, recommendation, "implemented").error().kind,
            CaseErrorKind::kForbidden);
  auto progress = Follow(ministry_admin_, audit, recommendation, "in_progress", "");
  ASSERT_TRUE(progress) << progress.error().message;
  EXPECT_EQ(Follow(ministry_admin_, audit, recommendation, "implemented", "").error().field,
            "note");
  ASSERT_TRUE(Follow(ministry_admin_, audit, recommendation, "implemented", "CISO appointed"));
  // The organisation cannot verify its own work.
  EXPECT_EQ(Follow(ministry_admin_, audit, recommendation, "verified").error().kind,
            CaseErrorKind::kForbidden);
  EXPECT_EQ(Move(lead_, audit, AuditStatus::kClosed, "done").error().kind,
            CaseErrorKind::kConflict);
  // Sent back, implemented again, verified.
  ASSERT_TRUE(Follow(auditor_, audit, recommendation, "in_progress", "No letter of appointment"));
  ASSERT_TRUE(Follow(ministry_admin_, audit, recommendation, "implemented", "Letter attached"));
  auto verified = Follow(auditor_, audit, recommendation, "verified", "Checked the letter");
  ASSERT_TRUE(verified) << verified.error().message;
  EXPECT_EQ(verified->status, "verified");
  ASSERT_EQ(verified->follow_ups.size(), 5u);
  EXPECT_EQ(verified->follow_ups[0].status_from, "open");
  EXPECT_EQ(verified->follow_ups[0].actor_org_id, ministry_);
  EXPECT_EQ(verified->follow_ups[4].status_to, "verified");
  EXPECT_EQ(Follow(ministry_admin_, audit, recommendation, "verified").error().kind,
            CaseErrorKind::kConflict);
  EXPECT_EQ(Move(lead_, audit, AuditStatus::kClosed).error().field, "note");
  auto closed = Move(lead_, audit, AuditStatus::kClosed, "All findings remedied");
  ASSERT_TRUE(closed) << closed.error().message;
  EXPECT_EQ(closed->conclusion, "All findings remedied");
  EXPECT_TRUE(GetAudit(*db_->Acquire(), ministry_admin_, audit.id));
  EXPECT_EQ(Follow(lead_, audit, recommendation, "in_progress", "reopen").error().kind,
            CaseErrorKind::kConflict);
  EXPECT_EQ(RedEntries("audit.follow_up"), 5);
}

TEST_P(AuditsTest, TheOrganisationAttachesItsProofWhileFollowingUp) {
  Audit audit = Open();
  auto attach = [&](const Principal& p, const AuditRecommendation& r, const std::string& name,
                    const std::string& content) {
    return Write([&](store::Connection& c) {
      return AttachToRecommendation(c, p, audit.id, r.id, name, "application/pdf", content, T0);
    });
  };
  AuditRecommendation recommendation = Issue(audit);
  auto proof = attach(ministry_admin_, recommendation, "appointment.pdf", "%PDF-1.7 letter");
  ASSERT_TRUE(proof) << proof.error().message;
  EXPECT_FALSE(proof->already_attached);
  EXPECT_EQ(proof->uploaded_by_org_id, ministry_);
  EXPECT_EQ(proof->size, 15);
  // A retried upload is the same attachment.
  auto again = attach(ministry_admin_, recommendation, "appointment.pdf", "%PDF-1.7 letter");
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->already_attached);
  EXPECT_EQ(again->id, proof->id);
  EXPECT_EQ(attach(ministry_reporter_, recommendation, "x.pdf", "x").error().kind,
            CaseErrorKind::kNotFound);
  EXPECT_EQ(attach(ministry_admin_, recommendation, "../x.pdf", "x").error().field, "filename");
  EXPECT_EQ(attach(ministry_admin_, recommendation, "empty.pdf", "").error().field, "body");
  // The team reads it; the file is what was sent.
  auto file =
      RecommendationAttachment(*db_->Acquire(), auditor_, audit.id, recommendation.id, proof->id);
  ASSERT_TRUE(file) << file.error().message;
  EXPECT_EQ(file->second, "%PDF-1.7 letter");
  EXPECT_FALSE(RecommendationAttachment(*db_->Acquire(), other_admin_, audit.id, recommendation.id,
                                        proof->id));
  auto results = AuditFindings(*db_->Acquire(), auditor_, audit.id);
  ASSERT_TRUE(results);
  ASSERT_EQ(results->recommendations[0].attachments.size(), 1u);
  EXPECT_EQ(results->recommendations[0].attachments[0].filename, "appointment.pdf");
  // Once verified, the recommendation takes no more files from the organisation.
  ASSERT_TRUE(Follow(ministry_admin_, audit, recommendation, "implemented", "See the letter"));
  ASSERT_TRUE(Follow(auditor_, audit, recommendation, "verified", "Letter checked"));
  EXPECT_EQ(attach(ministry_admin_, recommendation, "late.pdf", "late").error().kind,
            CaseErrorKind::kConflict);
  EXPECT_EQ(RedEntries("audit.attachment.add"), 1);
}

TEST_P(AuditsTest, LeadsAcceptRisksAndExtendDueDates) {
  Audit audit = Open();
  AuditRecommendation recommendation = Issue(audit);
  auto extended = Write([&](store::Connection& c) {
    return UpdateAuditRecommendation(c, lead_, audit.id, recommendation.id,
                                     RecommendationWrite{{}, T0 + 90 * DAY}, T0);
  });
  ASSERT_TRUE(extended) << extended.error().message;
  EXPECT_EQ(extended->due_at, T0 + 90 * DAY);
  auto rewritten = Write([&](store::Connection& c) {
    return UpdateAuditRecommendation(c, lead_, audit.id, recommendation.id,
                                     RecommendationWrite{"Other text", {}}, T0);
  });
  EXPECT_EQ(rewritten.error().kind, CaseErrorKind::kConflict);
  auto by_member = Write([&](store::Connection& c) {
    return UpdateAuditRecommendation(c, auditor_, audit.id, recommendation.id,
                                     RecommendationWrite{{}, T0 + 99 * DAY}, T0);
  });
  EXPECT_EQ(by_member.error().kind, CaseErrorKind::kForbidden);
  EXPECT_EQ(Follow(auditor_, audit, recommendation, "risk_accepted", "budget").error().kind,
            CaseErrorKind::kForbidden);
  auto accepted = Follow(lead_, audit, recommendation, "risk_accepted",
                         "Accepted by the vice-minister until the next fiscal year");
  ASSERT_TRUE(accepted) << accepted.error().message;
  EXPECT_FALSE(accepted->OverdueAt(T0 + 365 * DAY));
  EXPECT_TRUE(Move(lead_, audit, AuditStatus::kClosed, "Risk accepted"));
}

TEST_P(AuditsTest, OverdueRecommendationsAreCounted) {
  Audit audit = Open();
  Issue(audit);
  AuditProgress before = ProgressOf(*db_->Acquire(), audit.id, T0 + DAY);
  EXPECT_EQ(before.controls, 3);
  EXPECT_EQ(before.assessed, 3);
  EXPECT_EQ(before.satisfied, 1);
  EXPECT_EQ(before.not_satisfied, 1);
  EXPECT_EQ(before.not_applicable, 1);
  EXPECT_EQ(before.findings, 1);
  EXPECT_EQ(before.recommendations_open, 1);
  EXPECT_EQ(before.recommendations_overdue, 0);
  EXPECT_EQ(ProgressOf(*db_->Acquire(), audit.id, T0 + 61 * DAY).recommendations_overdue, 1);
  // Across audits: what the ministry owes, and what is overdue, for those who may read it.
  AuditRecommendationFilter overdue;
  overdue.overdue_only = true;
  auto owed = [&](const Principal& p, const AuditRecommendationFilter& filter, int64_t now) {
    return ListAuditRecommendations(*db_->Acquire(), p, filter, now, 100);
  };
  EXPECT_TRUE(owed(ministry_admin_, overdue, T0 + DAY).empty());
  auto late = owed(ministry_admin_, overdue, T0 + 61 * DAY);
  ASSERT_EQ(late.size(), 1u);
  EXPECT_TRUE(late[0].overdue);
  EXPECT_EQ(late[0].finding.control_id, "org-2");
  EXPECT_EQ(late[0].audit_reference, audit.reference);
  EXPECT_EQ(owed(auditor_, overdue, T0 + 61 * DAY).size(), 1u);
  for (const Principal* outsider : {&duty_, &other_admin_, &ministry_reporter_, &partner_}) {
    EXPECT_TRUE(owed(*outsider, {}, T0 + 61 * DAY).empty()) << outsider->username;
  }
  AuditRecommendationFilter verified;
  verified.statuses = {"verified"};
  EXPECT_TRUE(owed(auditor_, verified, T0 + DAY).empty());
}

TEST_P(AuditsTest, OscalExportsNameEveryControlFindingAndDeadline) {
  Audit audit = Open();
  AuditRecommendation recommendation = Issue(audit);
  ASSERT_TRUE(Follow(ministry_admin_, audit, recommendation, "in_progress", "Started"));
  auto record = ReadAuditRecord(*db_->Acquire(), ministry_admin_, audit.id);
  ASSERT_TRUE(record) << record.error().message;
  const std::regex uuid("^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
  auto is_uuid = [&](const JsonValue* value) {
    return value != nullptr && value->is_string() && std::regex_match(value->as_string(), uuid);
  };

  JsonValue results = AssessmentResultsJson(*record);
  const JsonValue* ar = results.Find("assessment-results");
  ASSERT_NE(ar, nullptr);
  EXPECT_TRUE(is_uuid(ar->Find("uuid")));
  EXPECT_EQ(ar->Find("metadata")->Find("oscal-version")->as_string(), "1.1.2");
  EXPECT_NE(ar->Find("import-ap")->Find("href")->as_string().find(audit.id), std::string::npos);
  const JsonValue& result = ar->Find("results")->as_array().at(0);
  EXPECT_EQ(result.Find("reviewed-controls")
                ->Find("control-selections")
                ->as_array()[0]
                .Find("include-controls")
                ->as_array()
                .size(),
            3u);
  std::map<std::string, std::string> states;
  for (const auto& finding : result.Find("findings")->as_array()) {
    EXPECT_TRUE(is_uuid(finding.Find("uuid")));
    states[finding.Find("target")->Find("target-id")->as_string()] =
        finding.Find("target")->Find("status")->Find("state")->as_string();
  }
  EXPECT_EQ(states,
            (std::map<std::string, std::string>{
                {"org-1", "satisfied"}, {"org-2", "not-satisfied"}, {"ops-1", "satisfied"}}));
  const auto& risks = result.Find("risks")->as_array();
  ASSERT_EQ(risks.size(), 1u);
  EXPECT_EQ(risks[0].Find("status")->as_string(), "remediating");
  EXPECT_EQ(risks[0].Find("deadline")->as_string(), FormatTimestampMs(T0 + 60 * DAY));
  EXPECT_EQ(risks[0].Find("remediations")->as_array()[0].Find("uuid")->as_string(),
            recommendation.id);
  for (const auto& observation : result.Find("observations")->as_array()) {
    EXPECT_EQ(observation.Find("methods")->as_array()[0].as_string(), "EXAMINE");
  }
  // The same audit gives the same document.
  EXPECT_EQ(AssessmentResultsJson(*record).Serialize(), results.Serialize());

  JsonValue poam = PoamJson(*record);
  const JsonValue* plan = poam.Find("plan-of-action-and-milestones");
  ASSERT_NE(plan, nullptr);
  EXPECT_TRUE(is_uuid(plan->Find("system-id")->Find("id")));
  const auto& items = plan->Find("poam-items")->as_array();
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].Find("related-risks")->as_array()[0].Find("risk-uuid")->as_string(),
            recommendation.finding_id);
  EXPECT_NE(items[0].Find("remarks")->as_string().find("open -> in_progress: Started"),
            std::string::npos);

  // Every party a document names is in its metadata, also the finding's author once they have
  // left the team.
  ASSERT_TRUE(Write([&](store::Connection& c) {
    return RemoveAuditMember(c, lead_, audit.id, auditor_.user_id, T0);
  }));
  auto later = ReadAuditRecord(*db_->Acquire(), lead_, audit.id);
  ASSERT_TRUE(later);
  const JsonValue after = AssessmentResultsJson(*later);
  const JsonValue* document = after.Find("assessment-results");
  std::set<std::string> parties;
  for (const auto& party : document->Find("metadata")->Find("parties")->as_array()) {
    parties.insert(party.Find("uuid")->as_string());
  }
  const JsonValue& risk = document->Find("results")->as_array()[0].Find("risks")->as_array()[0];
  const std::string author = risk.Find("characterizations")
                                 ->as_array()[0]
                                 .Find("origin")
                                 ->Find("actors")
                                 ->as_array()[0]
                                 .Find("actor-uuid")
                                 ->as_string();
  EXPECT_TRUE(parties.contains(author));
  for (const auto& responsible :
       document->Find("metadata")->Find("responsible-parties")->as_array()) {
    for (const auto& uuid : responsible.Find("party-uuids")->as_array()) {
      EXPECT_TRUE(parties.contains(uuid.as_string()));
    }
  }
}

TEST_P(AuditsTest, TheLastLeadStaysAndTheTeamIsTheCentres) {
  Audit audit = Open();
  auto demote = Write([&](store::Connection& c) {
    return SetAuditMember(c, lead_, audit.id, lead_.user_id, CaseRole::kMember, T0);
  });
  EXPECT_EQ(demote.error().kind, CaseErrorKind::kConflict);
  auto outsider = Write([&](store::Connection& c) {
    return SetAuditMember(c, lead_, audit.id, ministry_admin_.user_id, CaseRole::kReader, T0);
  });
  EXPECT_EQ(outsider.error().kind, CaseErrorKind::kInvalid);
  auto added = Write([&](store::Connection& c) {
    return SetAuditMember(c, lead_, audit.id, analyst_.user_id, CaseRole::kReader, T0);
  });
  ASSERT_TRUE(added);
  EXPECT_TRUE(*added);
  EXPECT_TRUE(GetAudit(*db_->Acquire(), analyst_, audit.id));
  EXPECT_EQ(Assess(analyst_, audit, "org-1", "satisfied").error().kind, CaseErrorKind::kForbidden);
  ASSERT_TRUE(Write([&](store::Connection& c) {
    return RemoveAuditMember(c, analyst_, audit.id, analyst_.user_id, T0);
  }));
  EXPECT_FALSE(GetAudit(*db_->Acquire(), analyst_, audit.id));
  EXPECT_EQ(RedEntries("audit.member.remove"), 1);
}

INSTANTIATE_TEST_SUITE_P(Backends, AuditsTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         testing::BackendName);

}  // namespace
}  // namespace yagura::hub

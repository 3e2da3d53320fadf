// The access policy's two forms — CanRead over a loaded object and ReadCondition in SQL — are
// generated against each other over every marking, audience flag, role and relation, on both
// engines; a handful of hand-written expectations pin the rules themselves.
#include "hub/policy.hpp"

#include <gtest/gtest.h>

#include <set>

#include "hub_test_database.hpp"

namespace yagura::hub {
namespace {

using store::Param;
using testing::Backend;

Principal Make(std::string user, std::string org, OrgType type, std::vector<Role> roles) {
  Principal p;
  p.user_id = std::move(user);
  p.username = p.user_id;
  p.org_id = std::move(org);
  p.org_type = type;
  p.roles = std::move(roles);
  return p;
}

// The cast: an owning ministry, an organisation it shared with, a bystander member, a partner
// CERT abroad, and the centre's staff.
std::vector<Principal> Cast() {
  return {
      Make("owner-reporter", "org-owner", OrgType::kMinistry, {Role::kOrgReporter}),
      Make("owner-admin", "org-owner", OrgType::kMinistry, {Role::kOrgAdmin}),
      Make("shared-reporter", "org-shared", OrgType::kCriticalInfrastructure, {Role::kOrgReporter}),
      Make("bystander", "org-other", OrgType::kLocalGovernment, {Role::kOrgReporter}),
      Make("partner", "org-partner", OrgType::kPartnerCert, {Role::kPartner}),
      Make("duty-officer", "org-centre", OrgType::kCentre, {Role::kCentreAdmin}),
      Make("analyst", "org-centre", OrgType::kCentre, {Role::kCentreAnalyst}),
      Make("auditor", "org-centre", OrgType::kCentre, {Role::kAuditor}),
      Make("named-user", "org-other", OrgType::kLocalGovernment, {Role::kOrgReporter}),
  };
}

std::vector<std::pair<std::string, Marking>> Objects() {
  std::vector<std::pair<std::string, Marking>> objects;
  int n = 0;
  for (Tlp tlp : {Tlp::kClear, Tlp::kGreen, Tlp::kAmber, Tlp::kAmberStrict, Tlp::kRed}) {
    for (bool addressed : {false, true}) {
      for (bool intake : {false, true}) {
        for (int audience = 0; audience < 4; ++audience) {
          Marking m;
          m.tlp = tlp;
          m.owner_org_id = "org-owner";
          m.author_id = "owner-reporter";
          m.addressed = addressed;
          m.centre_intake = intake;
          if (audience & 1) m.shared_org_ids = {"org-shared", "org-partner"};
          if (audience & 2) {
            m.named_user_ids = {"named-user"};
            m.assignee_ids = {"analyst"};
          }
          objects.emplace_back("obj-" + std::to_string(n++), m);
        }
      }
    }
  }
  return objects;
}

class PolicyTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    std::string reason;
    if (!database_.Open(GetParam(), reason)) GTEST_SKIP() << reason;
    database_->Acquire()->ExecuteScript(
        "CREATE TABLE things (id TEXT PRIMARY KEY, tlp TEXT NOT NULL, owner_org_id TEXT NOT NULL, "
        "author_id TEXT NOT NULL, addressed BIGINT NOT NULL, centre_intake BIGINT NOT NULL)");
  }
  testing::TestDatabase database_;
};

TEST_P(PolicyTest, SqlConditionAgreesWithCanReadForEveryCombination) {
  auto objects = Objects();
  database_->Transact([&](store::Connection& connection) {
    for (const auto& [id, m] : objects) {
      connection.Execute(
          "INSERT INTO things (id, tlp, owner_org_id, author_id, addressed, centre_intake) "
          "VALUES ($1, $2, $3, $4, $5, $6)",
          {Param{id}, Param{std::string(ToString(m.tlp))}, Param{m.owner_org_id},
           Param{m.author_id}, Param{m.addressed}, Param{m.centre_intake}});
      SaveGrants(connection, "thing", id, m);
    }
  });
  size_t checked = 0;
  for (const Principal& p : Cast()) {
    SqlCondition condition = ReadCondition(p, "thing", "t", 1);
    store::PooledConnection connection = database_->Acquire();
    store::Rows rows =
        connection->Query("SELECT t.id FROM things t WHERE " + condition.sql, condition.params);
    std::set<std::string> visible;
    for (const auto& row : rows.rows) visible.insert(row[0].text());
    for (const auto& [id, stored] : objects) {
      Marking loaded = stored;
      LoadGrants(*connection, "thing", id, loaded);
      EXPECT_EQ(CanRead(p, loaded), visible.count(id) == 1)
          << p.user_id << " on " << id << " (" << ToString(stored.tlp)
          << " addressed=" << stored.addressed << " intake=" << stored.centre_intake
          << " shared=" << stored.shared_org_ids.size() << " named=" << stored.named_user_ids.size()
          << ")";
      ++checked;
    }
  }
  EXPECT_EQ(checked, Cast().size() * objects.size());
}

INSTANTIATE_TEST_SUITE_P(Backends, PolicyTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         testing::BackendName);

Marking Incident(Tlp tlp) {
  Marking m;
  m.tlp = tlp;
  m.owner_org_id = "org-owner";
  m.author_id = "owner-reporter";
  m.centre_intake = true;
  return m;
}

Principal ByName(const std::string& name) {
  for (const Principal& p : Cast()) {
    if (p.user_id == name) return p;
  }
  throw std::logic_error("no such test principal");
}

TEST(Policy, RedReachesOnlyItsNamedRecipients) {
  Marking m = Incident(Tlp::kRed);
  m.named_user_ids = {"named-user"};
  EXPECT_TRUE(CanRead(ByName("owner-reporter"), m));  // the author
  EXPECT_TRUE(CanRead(ByName("named-user"), m));
  EXPECT_FALSE(CanRead(ByName("owner-admin"), m));    // same organisation, not named
  EXPECT_FALSE(CanRead(ByName("duty-officer"), m));   // not even the centre
}

TEST(Policy, AmberStrictStaysInTheOrganisationAndWithTheAssignedStaff) {
  Marking m = Incident(Tlp::kAmberStrict);
  m.shared_org_ids = {"org-shared"};
  m.assignee_ids = {"analyst"};
  EXPECT_TRUE(CanRead(ByName("owner-admin"), m));
  EXPECT_FALSE(CanRead(ByName("shared-reporter"), m));  // sharing does not widen AMBER+STRICT
  EXPECT_TRUE(CanRead(ByName("analyst"), m));
  EXPECT_FALSE(CanRead(ByName("auditor"), m));
  EXPECT_TRUE(CanRead(ByName("duty-officer"), m));  // reported to the centre: triage
  m.centre_intake = false;
  EXPECT_FALSE(CanRead(ByName("duty-officer"), m));
}

TEST(Policy, AmberAddsTheOrganisationsItWasSharedWith) {
  Marking m = Incident(Tlp::kAmber);
  m.shared_org_ids = {"org-shared"};
  EXPECT_TRUE(CanRead(ByName("shared-reporter"), m));
  EXPECT_FALSE(CanRead(ByName("bystander"), m));
  EXPECT_FALSE(CanRead(ByName("partner"), m));
}

TEST(Policy, GreenReachesMembersButNotPartnersAbroad) {
  Marking m = Incident(Tlp::kGreen);
  EXPECT_TRUE(CanRead(ByName("bystander"), m));
  EXPECT_FALSE(CanRead(ByName("partner"), m));
  m.addressed = true;  // an advisory to one organisation stays with it even at GREEN
  EXPECT_FALSE(CanRead(ByName("bystander"), m));
}

TEST(Policy, ClearReachesEveryoneUnlessAddressed) {
  Marking m = Incident(Tlp::kClear);
  EXPECT_TRUE(CanRead(ByName("partner"), m));
  m.addressed = true;
  EXPECT_FALSE(CanRead(ByName("partner"), m));
}

TEST(Policy, WriteRules) {
  EXPECT_TRUE(can::ReportIncidentFor(ByName("owner-reporter"), "org-owner"));
  EXPECT_FALSE(can::ReportIncidentFor(ByName("owner-reporter"), "org-other"));
  EXPECT_TRUE(can::ReportIncidentFor(ByName("analyst"), "org-other"));
  EXPECT_FALSE(can::ReportIncidentFor(ByName("partner"), "org-partner"));
  EXPECT_TRUE(can::IssueRecommendation(ByName("duty-officer")));
  EXPECT_FALSE(can::IssueRecommendation(ByName("analyst")));
  EXPECT_FALSE(can::GrantRole(ByName("owner-admin"), Role::kCentreAdmin));
  EXPECT_TRUE(can::GrantRole(ByName("owner-admin"), Role::kOrgReporter));
  EXPECT_TRUE(can::ManageUsersOf(ByName("owner-admin"), "org-owner"));
  EXPECT_FALSE(can::ManageUsersOf(ByName("owner-admin"), "org-other"));
  EXPECT_TRUE(can::ReadAuditLog(ByName("duty-officer")));
  EXPECT_FALSE(can::ReadAuditLog(ByName("auditor")));
  Principal local = ByName("bystander");
  EXPECT_TRUE(can::CreateInboundRequest(local));
  EXPECT_FALSE(can::CreateInboundRequest(ByName("owner-reporter")));
}

TEST(Policy, RawEventsAreReadByTheCentresDutyAnalystsAndInvestigatorsAndByOrganisationsOwnWriters) {
  for (const char* name : {"duty-officer", "analyst"}) {
    EXPECT_TRUE(can::ReadRawEvents(ByName(name))) << name;
    EXPECT_TRUE(can::RawEventOrganizations(ByName(name)).empty()) << name;  // every organisation
  }
  EXPECT_FALSE(can::ReadRawEvents(ByName("auditor")));
  EXPECT_FALSE(can::ReadRawEvents(ByName("partner")));
  const Principal reporter = ByName("owner-reporter");
  EXPECT_TRUE(can::ReadRawEvents(reporter));
  EXPECT_EQ(can::RawEventOrganizations(reporter), std::vector<std::string>{reporter.org_id});
  EXPECT_TRUE(can::ReadRawEvents(ByName("owner-admin")));
}

TEST(Policy, WideningIsTheOwnersDecision) {
  Marking before = Incident(Tlp::kAmberStrict);
  Marking after = before;
  EXPECT_FALSE(Widens(before, after));
  after.tlp = Tlp::kRed;
  EXPECT_FALSE(Widens(before, after));  // narrowing
  after.tlp = Tlp::kAmber;
  EXPECT_TRUE(Widens(before, after));
  after = before;
  after.shared_org_ids = {"org-shared"};
  EXPECT_TRUE(Widens(before, after));
  EXPECT_TRUE(can::WidenAudience(ByName("owner-reporter"), before));
  EXPECT_TRUE(can::WidenAudience(ByName("owner-admin"), before));
  EXPECT_FALSE(can::WidenAudience(ByName("duty-officer"), before));
  EXPECT_FALSE(can::WidenAudience(ByName("named-user"), before));
}

TEST(Policy, ParsesTlpLabels) {
  EXPECT_EQ(ParseTlp("TLP:AMBER+STRICT"), Tlp::kAmberStrict);
  EXPECT_EQ(ParseTlp("tlp:white"), Tlp::kClear);
  EXPECT_EQ(ParseTlp("red"), Tlp::kRed);
  EXPECT_FALSE(ParseTlp("amber-strict").has_value());
}

}  // namespace
}  // namespace yagura::hub

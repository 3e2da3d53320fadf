// Overview statistics on SQLite and (through scripts/with-postgres) PostgreSQL: bucket
// arithmetic, zero-filled series aligned to UTC hours and days, per-level, per-status,
// per-organisation and per-sector counts, the coordination backlog, the export counts, and —
// above all — that every figure counts only what the caller may read: a member never counts
// another organisation's alerts or incidents, a partner counts nothing of theirs, and a RED
// incident counts only for its named audience.
#include "hub/stats.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "hub/advisories.hpp"
#include "hub/alerts.hpp"
#include "hub/crypto.hpp"
#include "hub/incidents.hpp"
#include "hub/recommendations.hpp"
#include "hub/requests.hpp"
#include "hub_test_database.hpp"

namespace yagura::hub {
namespace {

using store::Param;
using testing::Backend;

constexpr int64_t HOUR = 3'600'000;
constexpr int64_t DAY = 24 * HOUR;
// 2027-01-15T00:00:00Z, a UTC midnight; D0 + 7h30m is not on any bucket boundary.
constexpr int64_t D0 = 1'799'971'200'000;

TEST(StatsBuckets, AlignToUtcHoursAndDays) {
  ASSERT_EQ(D0 % DAY, 0);
  EXPECT_EQ(BucketStartMs(D0 + 7 * HOUR + 1234, StatsBucket::kDay), D0);
  EXPECT_EQ(BucketStartMs(D0 + 7 * HOUR + 1234, StatsBucket::kHour), D0 + 7 * HOUR);
  EXPECT_EQ(BucketStartMs(D0, StatsBucket::kDay), D0);
  EXPECT_EQ(BucketStartMs(D0 - 1, StatsBucket::kDay), D0 - DAY);
  // Before 1970 the floor still goes down, not towards zero.
  EXPECT_EQ(BucketStartMs(-1, StatsBucket::kHour), -HOUR);
  EXPECT_EQ(BucketStartMs(-HOUR, StatsBucket::kHour), -HOUR);

  EXPECT_EQ(BucketCount(D0, D0 + 3 * DAY, StatsBucket::kDay), 3);
  EXPECT_EQ(BucketCount(D0, D0 + 3 * DAY + 1, StatsBucket::kDay), 4);
  EXPECT_EQ(BucketCount(D0 + HOUR, D0 + 2 * HOUR, StatsBucket::kDay), 1);
  EXPECT_EQ(BucketCount(D0 - 1, D0 + 1, StatsBucket::kHour), 2);
  EXPECT_EQ(BucketCount(D0, D0, StatsBucket::kHour), 0);
  EXPECT_EQ(BucketCount(D0, D0 - 5, StatsBucket::kHour), 0);
  EXPECT_EQ(BucketCount(D0, D0 + 400 * HOUR, StatsBucket::kHour), 400);

  EXPECT_EQ(ParseStatsBucket("hour"), StatsBucket::kHour);
  EXPECT_EQ(ParseStatsBucket("day"), StatsBucket::kDay);
  EXPECT_FALSE(ParseStatsBucket("week"));
  EXPECT_EQ(ToString(StatsBucket::kDay), "day");
}

class StatsTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    std::string reason;
    if (!db_.Open(GetParam(), reason)) GTEST_SKIP() << reason;
    centre_ = AddOrg("Centre", OrgType::kCentre, "");
    org_a_ = AddOrg("Ministry A", OrgType::kMinistry, "");
    org_b_ = AddOrg("Ministry B", OrgType::kMinistry, "");
    bank_ = AddOrg("Bank C", OrgType::kCriticalInfrastructure, "finance");
    power_ = AddOrg("Power D", OrgType::kCriticalInfrastructure, "electric_power");
    partner_org_ = AddOrg("Partner CERT", OrgType::kPartnerCert, "");
    duty_ = AddUser("duty", centre_, OrgType::kCentre, {Role::kCentreAdmin});
    analyst_ = AddUser("analyst", centre_, OrgType::kCentre, {Role::kCentreAnalyst});
    rep_a_ = AddUser("rep-a", org_a_, OrgType::kMinistry, {Role::kOrgReporter});
    rep_a2_ = AddUser("rep-a2", org_a_, OrgType::kMinistry, {Role::kOrgReporter});
    admin_a_ = AddUser("admin-a", org_a_, OrgType::kMinistry, {Role::kOrgAdmin});
    rep_b_ = AddUser("rep-b", org_b_, OrgType::kMinistry, {Role::kOrgReporter});
    rep_bank_ = AddUser("rep-bank", bank_, OrgType::kCriticalInfrastructure, {Role::kOrgReporter});
    rep_power_ =
        AddUser("rep-power", power_, OrgType::kCriticalInfrastructure, {Role::kOrgReporter});
    partner_ = AddUser("partner", partner_org_, OrgType::kPartnerCert, {Role::kPartner});
  }

  std::string AddOrg(const std::string& name, OrgType type, const std::string& sector) {
    std::string id = NewId();
    db_->Acquire()->Execute(
        "INSERT INTO organizations (id, name, type, sector, contact_email, created_at, "
        "updated_at) VALUES ($1, $2, $3, $4, 'soc@example.go.jp', $5, $5)",
        {Param{id}, Param{name}, Param{std::string(ToString(type))},
         sector.empty() ? Param{nullptr} : Param{sector}, Param{D0 - 30 * DAY}});
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
        "INSERT INTO users (id, username, display_name, email, org_id, roles, created_at, "
        "updated_at) VALUES ($1, $2, $2, $3, $4, $5, $6, $6)",
        {Param{p.user_id}, Param{name}, Param{name + "@example.go.jp"}, Param{org_id},
         Param{role_text}, Param{D0 - 30 * DAY}});
    return p;
  }

  std::string Alert(const std::string& org, const std::string& level, int64_t event_time,
                    std::vector<std::string> techniques = {}) {
    DetectedAlert a;
    a.id = NewId();
    a.kind = "rule";
    a.org_id = org;
    a.rule_id = "rule-" + level;
    a.title = "Rule " + level;
    a.level = level;
    a.techniques = std::move(techniques);
    a.event_time_ms = event_time;
    a.detected_at_ms = event_time + 1000;
    a.logsource = "product=linux";
    a.sensor_id = "sensor-1";
    a.spool_seq = static_cast<uint64_t>(++seq_);
    std::vector<DetectedAlert> batch = {a};
    auto inserted = InsertDetections(*db_, batch, {}, event_time + 2000);
    EXPECT_TRUE(inserted && *inserted == 1);
    return a.id;
  }

  static IncidentReport Report(Tlp tlp = Tlp::kAmber) {
    IncidentReport r;
    r.title = "Ransomware on file servers";
    r.description = "Files encrypted on two servers";
    r.category = "malware";
    r.functional_impact = "significant_impact_to_non_critical_services";
    r.information_impact = "privacy_data_breach";
    r.recoverability = "supplemented";
    r.location = "2";
    r.detected_at = D0 - DAY;
    r.point_of_contact = {"Sato Hanako", "sato@a.example.go.jp", std::nullopt};
    r.tlp = tlp;
    return r;
  }

  std::string Incident(const Principal& reporter, int64_t at, IncidentReport report = Report()) {
    auto created = db_->Transact([&](store::Connection& c) {
      return CreateIncident(c, reporter, report, std::nullopt, at);
    });
    EXPECT_TRUE(created) << created.error().message;
    return created ? created->id : "";
  }

  void SetStatus(std::string_view table, const std::string& id, const std::string& status) {
    db_->Acquire()->Execute(fmt::format("UPDATE {} SET status = $1 WHERE id = $2", table),
                            {Param{status}, Param{id}});
  }

  Overview Compute(const Principal& p, int64_t from, int64_t to, StatsBucket bucket,
                   int64_t now = D0 + 10 * DAY) {
    OverviewQuery query;
    query.from_ms = from;
    query.to_ms = to;
    query.bucket = bucket;
    query.now_ms = now;
    auto connection = db_->Acquire();
    return ComputeOverview(*connection, p, query);
  }

  static std::vector<int64_t> Counts(const AlertOverview& alerts) {
    std::vector<int64_t> counts;
    for (const auto& point : alerts.series) counts.push_back(point.count);
    return counts;
  }
  static std::vector<int64_t> Counts(const IncidentOverview& incidents) {
    std::vector<int64_t> counts;
    for (const auto& point : incidents.series) counts.push_back(point.count);
    return counts;
  }
  static int64_t Status(const IncidentOverview& incidents, std::string_view status) {
    for (const auto& [name, count] : incidents.by_status) {
      if (name == status) return count;
    }
    ADD_FAILURE() << "no status " << status;
    return -1;
  }
  static std::vector<std::string> OrgIds(const std::vector<OrganizationCount>& items) {
    std::vector<std::string> ids;
    for (const auto& item : items) ids.push_back(item.id);
    return ids;
  }

  testing::TestDatabase db_;
  int seq_ = 0;
  std::string centre_, org_a_, org_b_, bank_, power_, partner_org_;
  Principal duty_, analyst_, rep_a_, rep_a2_, admin_a_, rep_b_, rep_bank_, rep_power_, partner_;
};

TEST_P(StatsTest, AlertSeriesFillsEmptyBucketsAndAddsUp) {
  Alert(org_a_, "high", D0 + 1 * HOUR);
  Alert(org_a_, "critical", D0 + 2 * HOUR + 59 * 60'000);
  Alert(org_a_, "low", D0 + 2 * DAY + 5 * HOUR);
  Alert(bank_, "medium", D0 + DAY);
  Alert(power_, "informational", D0 + DAY + 1);
  Alert(bank_, "high", D0 - 1);         // before the range
  Alert(org_a_, "high", D0 + 4 * DAY);  // at `to`: the range is half-open

  Overview overview = Compute(duty_, D0, D0 + 4 * DAY, StatsBucket::kDay);
  const AlertOverview& alerts = overview.alerts;
  ASSERT_EQ(alerts.series.size(), 4u);
  for (size_t i = 0; i < 4; ++i) EXPECT_EQ(alerts.series[i].t, D0 + static_cast<int64_t>(i) * DAY);
  EXPECT_EQ(Counts(alerts), (std::vector<int64_t>{2, 2, 1, 0}));
  EXPECT_EQ(alerts.total, 5);
  EXPECT_EQ(alerts.open, 5);
  // by_level is indexed informational .. critical.
  EXPECT_EQ(alerts.by_level, (LevelCounts{1, 1, 1, 1, 1}));
  EXPECT_EQ(alerts.series[0].by_level, (LevelCounts{0, 0, 0, 1, 1}));
  EXPECT_EQ(alerts.series[1].by_level, (LevelCounts{1, 0, 1, 0, 0}));
  EXPECT_EQ(alerts.series[3].by_level, (LevelCounts{0, 0, 0, 0, 0}));
  ASSERT_EQ(alerts.by_organization.size(), 3u);
  EXPECT_EQ(alerts.by_organization[0].id, org_a_);  // most first
  EXPECT_EQ(alerts.by_organization[0].name, "Ministry A");
  EXPECT_EQ(alerts.by_organization[0].count, 3);
  EXPECT_EQ(alerts.by_organization[0].sector, "");
  EXPECT_EQ(alerts.by_organization[1].name, "Bank C");  // ties by name
  EXPECT_EQ(alerts.by_organization[1].sector, "finance");
  // Organisations without a sector count under "", so that the sectors add up to the total.
  ASSERT_EQ(alerts.by_sector.size(), 3u);
  EXPECT_EQ(alerts.by_sector[0].sector, "");
  EXPECT_EQ(alerts.by_sector[0].count, 3);
  EXPECT_EQ(alerts.by_sector[1].sector, "electric_power");
  EXPECT_EQ(alerts.by_sector[1].count, 1);
  EXPECT_EQ(alerts.by_sector[2].sector, "finance");

  // Hour buckets over an unaligned range: the first bucket starts on the hour before `from`,
  // and only rows inside [from, to) count.
  Overview hours = Compute(duty_, D0 + 90 * 60'000, D0 + 4 * HOUR, StatsBucket::kHour);
  ASSERT_EQ(hours.alerts.series.size(), 3u);
  EXPECT_EQ(hours.alerts.series[0].t, D0 + HOUR);
  EXPECT_EQ(Counts(hours.alerts), (std::vector<int64_t>{0, 1, 0}));
  EXPECT_EQ(hours.alerts.total, 1);

  // Closed and promoted alerts are no longer open.
  auto connection = db_->Acquire();
  connection->Execute("UPDATE alerts SET status = 'closed' WHERE level = 'critical'");
  connection->Execute("UPDATE alerts SET status = 'acknowledged' WHERE level = 'medium'");
  EXPECT_EQ(Compute(duty_, D0, D0 + 4 * DAY, StatsBucket::kDay).alerts.open, 4);
}

TEST_P(StatsTest, MembersAndPartnersCountOnlyTheirOwnAlerts) {
  Alert(org_a_, "high", D0 + HOUR);
  Alert(org_a_, "low", D0 + DAY);
  Alert(org_b_, "critical", D0 + HOUR);
  Alert(bank_, "medium", D0 + HOUR);
  const int64_t to = D0 + 2 * DAY;

  Overview a = Compute(rep_a_, D0, to, StatsBucket::kDay);
  EXPECT_EQ(a.alerts.total, 2);
  EXPECT_EQ(Counts(a.alerts), (std::vector<int64_t>{1, 1}));
  EXPECT_EQ(OrgIds(a.alerts.by_organization), std::vector<std::string>{org_a_});
  ASSERT_EQ(a.alerts.by_sector.size(), 1u);  // a ministry: under no sector
  EXPECT_EQ(a.alerts.by_sector[0].sector, "");
  EXPECT_EQ(a.alerts.by_sector[0].count, 2);
  EXPECT_EQ(a.alerts.by_level[4], 0);  // B's critical alert is not A's to count

  Overview bank = Compute(rep_bank_, D0, to, StatsBucket::kDay);
  EXPECT_EQ(bank.alerts.total, 1);
  ASSERT_EQ(bank.alerts.by_sector.size(), 1u);
  EXPECT_EQ(bank.alerts.by_sector[0].sector, "finance");

  Overview partner = Compute(partner_, D0, to, StatsBucket::kDay);
  EXPECT_EQ(partner.alerts.total, 0);
  EXPECT_EQ(Counts(partner.alerts), (std::vector<int64_t>{0, 0}));
  EXPECT_TRUE(partner.alerts.by_organization.empty());

  // Every member of the centre's staff counts everything (AlertReadCondition).
  EXPECT_EQ(Compute(analyst_, D0, to, StatsBucket::kDay).alerts.total, 4);
}

TEST_P(StatsTest, IncidentsFollowTheReadPolicy) {
  std::string amber_a = Incident(rep_a_, D0 + HOUR);
  Incident(rep_a_, D0 + 2 * DAY + HOUR);
  std::string amber_bank = Incident(rep_bank_, D0 + DAY);
  IncidentReport red = Report(Tlp::kRed);
  red.recipients = {analyst_.user_id};
  Incident(rep_a_, D0 + 3 * HOUR, red);
  Incident(rep_b_, D0 + HOUR);
  IncidentReport clear = Report(Tlp::kClear);
  Incident(rep_power_, D0 + DAY + HOUR, clear);
  SetStatus("incidents", amber_bank, "resolved");
  SetStatus("incidents", amber_a, "investigating");
  const int64_t to = D0 + 3 * DAY;

  // The duty officer reads every report to the centre but the RED one, which names only the
  // analyst.
  Overview duty = Compute(duty_, D0, to, StatsBucket::kDay);
  EXPECT_EQ(duty.incidents.total, 5);
  EXPECT_EQ(Counts(duty.incidents), (std::vector<int64_t>{2, 2, 1}));
  EXPECT_EQ(duty.incidents.open, 4);
  EXPECT_EQ(Status(duty.incidents, "reported"), 3);
  EXPECT_EQ(Status(duty.incidents, "investigating"), 1);
  EXPECT_EQ(Status(duty.incidents, "resolved"), 1);
  EXPECT_EQ(Status(duty.incidents, "closed"), 0);
  EXPECT_EQ(duty.incidents.by_status.size(), IncidentStatusNames().size());
  ASSERT_EQ(duty.incidents.by_organization.size(), 4u);
  EXPECT_EQ(duty.incidents.by_organization[0].id, org_a_);
  EXPECT_EQ(duty.incidents.by_organization[0].count, 2);
  ASSERT_EQ(duty.incidents.by_sector.size(), 3u);  // two sectors and the organisations without

  // The analyst is not a duty officer: the RED report addressed to it, and the CLEAR one.
  Overview analyst = Compute(analyst_, D0, to, StatsBucket::kDay);
  EXPECT_EQ(analyst.incidents.total, 2);

  // The author sees its RED report; a colleague of the same organisation does not.
  EXPECT_EQ(Compute(rep_a_, D0, to, StatsBucket::kDay).incidents.total, 4);  // 2 + RED + CLEAR
  Overview colleague = Compute(rep_a2_, D0, to, StatsBucket::kDay);
  EXPECT_EQ(colleague.incidents.total, 3);
  EXPECT_EQ(Counts(colleague.incidents), (std::vector<int64_t>{1, 1, 1}));

  // Another organisation never counts A's reports.
  Overview b = Compute(rep_b_, D0, to, StatsBucket::kDay);
  EXPECT_EQ(b.incidents.total, 2);  // its own and the CLEAR one
  std::vector<std::string> b_orgs = OrgIds(b.incidents.by_organization);
  EXPECT_EQ(std::count(b_orgs.begin(), b_orgs.end(), org_a_), 0);

  // A partner CERT reads CLEAR only.
  Overview partner = Compute(partner_, D0, to, StatsBucket::kDay);
  EXPECT_EQ(partner.incidents.total, 1);
  EXPECT_EQ(OrgIds(partner.incidents.by_organization), std::vector<std::string>{power_});
}

TEST_P(StatsTest, BacklogCountsOpenAndOverdueWork) {
  const int64_t t0 = D0;
  // Two outbound requests to ministry A, one due before "now"; one to the bank.
  auto make_request = [&](const std::string& target, const std::string& basis, int64_t due) {
    NewMaterialsRequest input;
    input.legal_basis = basis;
    input.target_org_id = target;
    input.title = "Logs of the VPN appliance";
    input.body = "Please send the logs.";
    input.due_at = due;
    auto created = CreateMaterialsRequest(*db_, analyst_, input, t0);
    EXPECT_TRUE(created) << created.error().message;
    return created ? created->id : "";
  };
  make_request(org_a_, "art30", t0 + DAY);
  make_request(org_a_, "art30", t0 + 30 * DAY);
  std::string answered = make_request(org_a_, "art30", t0 + DAY);
  SetStatus("requests", answered, "answered");  // answered: neither open nor overdue
  make_request(bank_, "art31", t0 + DAY);

  NewRecommendation recommendation;
  recommendation.target_org_id = org_a_;
  recommendation.title = "Segment the network";
  recommendation.body = "Details.";
  recommendation.due_at = t0 + DAY;
  auto issued = CreateRecommendation(*db_, duty_, recommendation, t0);
  ASSERT_TRUE(issued) << issued.error().message;
  auto closed = CreateRecommendation(*db_, duty_, recommendation, t0);
  ASSERT_TRUE(closed) << closed.error().message;
  SetStatus("recommendations", closed->id, "closed");

  NewAdvisory advisory;
  advisory.title = "Exploitation of a VPN appliance";
  advisory.body = "Patch now.";
  advisory.severity = "high";
  advisory.tlp = Tlp::kAmber;
  advisory.target_kind = "organization";
  advisory.target_value = org_a_;
  auto sent = CreateAdvisory(*db_, analyst_, advisory, t0);
  ASSERT_TRUE(sent) << sent.error().message;

  const int64_t now = t0 + 2 * DAY;
  auto backlog = [&](const Principal& p) {
    return Compute(p, t0, t0 + DAY, StatsBucket::kDay, now).backlog;
  };
  Backlog a = backlog(rep_a_);
  EXPECT_EQ(a.requests_open, 2);
  EXPECT_EQ(a.requests_overdue, 1);
  EXPECT_EQ(a.recommendations_open, 1);
  EXPECT_EQ(a.recommendations_overdue, 1);
  EXPECT_EQ(a.advisories_unacknowledged, 1);

  Backlog analyst = backlog(analyst_);
  EXPECT_EQ(analyst.requests_open, 3);
  EXPECT_EQ(analyst.requests_overdue, 2);
  EXPECT_EQ(analyst.advisories_unacknowledged, 1);  // A has not acknowledged yet

  Backlog b = backlog(rep_b_);
  EXPECT_EQ(b.requests_open, 0);
  EXPECT_EQ(b.recommendations_open, 0);
  EXPECT_EQ(b.advisories_unacknowledged, 0);

  Backlog bank = backlog(rep_bank_);
  EXPECT_EQ(bank.requests_open, 1);
  EXPECT_EQ(bank.requests_overdue, 1);

  ASSERT_TRUE(AcknowledgeAdvisoryFor(*db_, rep_a2_, sent->id, t0 + HOUR));
  EXPECT_EQ(backlog(rep_a_).advisories_unacknowledged, 0);
  EXPECT_EQ(backlog(analyst_).advisories_unacknowledged, 0);

  // Before the due dates nothing is overdue.
  Backlog early = Compute(rep_a_, t0, t0 + DAY, StatsBucket::kDay, t0 + HOUR).backlog;
  EXPECT_EQ(early.requests_overdue, 0);
  EXPECT_EQ(early.recommendations_overdue, 0);
}

TEST_P(StatsTest, ExportCountsMatchTheLists) {
  Alert(org_a_, "high", D0 + HOUR, {"T1110.001"});
  Alert(org_a_, "low", D0 + 2 * HOUR, {"T1059"});
  Alert(org_b_, "critical", D0 + HOUR, {"T1110"});
  auto listed = [&](const Principal& p, const AlertFilter& filter) {
    auto connection = db_->Acquire();
    return static_cast<int64_t>(
        ListAlerts(*connection, p, filter, std::nullopt, 1000).items.size());
  };
  auto counted = [&](const Principal& p, const AlertFilter& filter) {
    auto connection = db_->Acquire();
    return CountAlerts(*connection, p, filter);
  };
  std::vector<AlertFilter> filters(5);
  filters[1].technique = "T1110";
  filters[2].level_min = AlertLevelRank("medium");
  filters[3].since = D0 + 90 * 60'000;
  filters[4].org_id = org_b_;
  for (const auto& filter : filters) {
    for (const Principal* p : {&duty_, &rep_a_, &rep_b_, &partner_}) {
      EXPECT_EQ(counted(*p, filter), listed(*p, filter)) << p->username;
    }
  }
  EXPECT_EQ(counted(rep_a_, filters[1]), 1);
  EXPECT_EQ(counted(duty_, filters[1]), 2);

  Incident(rep_a_, D0 + HOUR);
  IncidentReport red = Report(Tlp::kRed);
  red.title = "Quiet intrusion";
  Incident(rep_a_, D0 + 2 * HOUR, red);
  Incident(rep_b_, D0 + HOUR);
  std::vector<IncidentFilter> incident_filters(3);
  incident_filters[1].title_contains = "QUIET";
  incident_filters[2].tlp = Tlp::kAmber;
  for (const auto& filter : incident_filters) {
    for (const Principal* p : {&duty_, &rep_a_, &rep_a2_, &rep_b_, &partner_}) {
      auto connection = db_->Acquire();
      int64_t list = static_cast<int64_t>(
          ListIncidents(*connection, *p, filter, std::nullopt, 1000).items.size());
      EXPECT_EQ(CountIncidents(*connection, *p, filter), list) << p->username;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, StatsTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         testing::BackendName);

}  // namespace
}  // namespace yagura::hub

// Alerts and campaigns through the hub functions, on SQLite and (through scripts/with-postgres)
// on PostgreSQL: idempotent inserts of detector batches, campaigns raised and extended, list
// filters and keyset paging, the triage lifecycle and its refusals, promotion and attachment
// to incidents, and who sees what (single reads and lists must agree).
#include "hub/alerts.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "core/json_value.hpp"
#include "hub/audit_log.hpp"
#include "hub/crypto.hpp"
#include "hub_test_database.hpp"

namespace yagura::hub {
namespace {

using store::Param;
using testing::Backend;

constexpr int64_t T0 = 1'800'000'000'000;  // 2027-01-15
constexpr int64_t MINUTE = 60'000;
constexpr int64_t HOUR = 60 * MINUTE;

class AlertsTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    std::string reason;
    if (!db_.Open(GetParam(), reason)) GTEST_SKIP() << reason;
    centre_ = AddOrg("centre", OrgType::kCentre, "soc@centre.example.go.jp");
    org_a_ = AddOrg("ministry-a", OrgType::kMinistry, "");
    org_b_ = AddOrg("ministry-b", OrgType::kMinistry, "csirt@b.example.go.jp");
    org_c_ = AddOrg("operator-c", OrgType::kCriticalInfrastructure, "");
    duty_ = AddUser("duty", centre_, OrgType::kCentre, {Role::kCentreAdmin}, "duty@centre.example");
    analyst_ = AddUser("analyst", centre_, OrgType::kCentre, {Role::kCentreAnalyst},
                       "analyst@centre.example");
    auditor_ = AddUser("auditor", centre_, OrgType::kCentre, {Role::kAuditor}, "");
    reporter_a_ =
        AddUser("rep-a", org_a_, OrgType::kMinistry, {Role::kOrgReporter}, "rep@a.example.go.jp");
    admin_a_ = AddUser("admin-a", org_a_, OrgType::kMinistry, {Role::kOrgAdmin}, "");
    reporter_b_ = AddUser("rep-b", org_b_, OrgType::kMinistry, {Role::kOrgReporter}, "");
    reporter_c_ =
        AddUser("rep-c", org_c_, OrgType::kCriticalInfrastructure, {Role::kOrgReporter}, "");
  }

  std::string AddOrg(const std::string& name, OrgType type, const std::string& email) {
    std::string id = NewId();
    db_->Acquire()->Execute(
        "INSERT INTO organizations (id, name, type, contact_email, created_at, updated_at) "
        "VALUES ($1, $2, $3, $4, $5, $5)",
        {Param{id}, Param{name}, Param{std::string(ToString(type))},
         email.empty() ? Param{nullptr} : Param{email}, Param{T0}});
    return id;
  }

  Principal AddUser(const std::string& name, const std::string& org_id, OrgType type,
                    std::vector<Role> roles, const std::string& email) {
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
        "INSERT INTO users (id, username, display_name, email, org_id, roles, created_at, "
        "updated_at) VALUES ($1, $2, $2, $3, $4, $5, $6, $6)",
        {Param{p.user_id}, Param{name}, email.empty() ? Param{nullptr} : Param{email},
         Param{org_id}, Param{role_text}, Param{T0}});
    return p;
  }

  static DetectedAlert MakeAlert(std::string org, std::string rule_id, std::string level,
                                 int64_t event_time, std::vector<std::string> techniques = {}) {
    DetectedAlert a;
    a.id = NewId();
    a.kind = "rule";
    a.org_id = std::move(org);
    a.rule_id = std::move(rule_id);
    a.title = "Rule " + a.rule_id;
    a.level = std::move(level);
    a.techniques = std::move(techniques);
    a.tags = {"attack.credential_access"};
    a.event_time_ms = event_time;
    a.detected_at_ms = event_time + 1000;
    a.logsource = "product=linux,service=sshd";
    a.sensor_id = "sensor-1";
    a.spool_seq = static_cast<uint64_t>(event_time % 100000);
    a.details_json =
        R"({"rule":{"id":"r"},"event":{"src_ip":"198.51.100.9"},"matched":["src_ip"]})";
    return a;
  }

  size_t Insert(std::vector<DetectedAlert> alerts, std::vector<DetectedCampaign> campaigns = {},
                int64_t now = T0) {
    auto inserted = InsertDetections(*db_, alerts, campaigns, now);
    EXPECT_TRUE(inserted) << inserted.error().ToString();
    return inserted ? *inserted : 0;
  }

  // The whole content of the alert and campaign tables, to compare before and after.
  std::string Snapshot() {
    auto conn = db_->Acquire();
    std::string text;
    for (const char* sql :
         {"SELECT * FROM alerts ORDER BY id", "SELECT * FROM alert_techniques ORDER BY 1, 2",
          "SELECT * FROM campaigns ORDER BY id", "SELECT * FROM campaign_members ORDER BY 1, 2"}) {
      for (const auto& row : conn->Query(sql).rows) {
        for (const auto& field : row) text += (field.is_null() ? "NULL" : field.text()) + "|";
        text += "\n";
      }
      text += "--\n";
    }
    return text;
  }

  std::vector<std::string> ListIds(const Principal& p, const AlertFilter& filter = {},
                                   int limit = 200) {
    auto conn = db_->Acquire();
    std::vector<std::string> ids;
    std::optional<std::pair<int64_t, std::string>> before;
    for (int pages = 0; pages < 100; ++pages) {
      AlertPage page = ListAlerts(*conn, p, filter, before, limit);
      for (const auto& item : page.items) ids.push_back(item.id);
      if (!page.more) break;
      before = std::make_pair(page.items.back().event_time, page.items.back().id);
    }
    return ids;
  }

  AlertResult<Alert> Get(const Principal& p, const std::string& id) {
    auto conn = db_->Acquire();
    return GetAlert(*conn, p, id);
  }

  template <typename F>
  auto Write(F&& work) {
    return db_->Transact([&](store::Connection& connection) { return work(connection); });
  }

  int64_t AuditCount(const std::string& action) {
    return db_->Acquire()
        ->Query("SELECT COUNT(*) FROM audit_log WHERE action = $1", {Param{action}})
        .rows[0][0]
        .as_int();
  }

  testing::TestDatabase db_;
  std::string centre_, org_a_, org_b_, org_c_;
  Principal duty_, analyst_, auditor_, reporter_a_, admin_a_, reporter_b_, reporter_c_;
};

TEST_P(AlertsTest, InsertingTheSameBatchTwiceAddsNothingAndChangesNoRow) {
  std::vector<DetectedAlert> batch = {
      MakeAlert(org_a_, "ssh-brute", "high", T0, {"T1110.001", "t1110.001"}),
      MakeAlert(org_a_, "ssh-brute", "high", T0 + MINUTE, {"T1110"}),
      MakeAlert(org_b_, "ps-encoded", "medium", T0 + 2 * MINUTE),
  };
  DetectedCampaign campaign;
  campaign.id = NewId();
  campaign.key_kind = "rule";
  campaign.key_id = "ssh-brute";
  campaign.key_value = "198.51.100.9";
  campaign.title = "SSH brute force from 198.51.100.9";
  campaign.first_time_ms = T0;
  campaign.last_time_ms = T0 + 2 * MINUTE;
  campaign.members = {{org_a_, batch[0].id, T0}, {org_b_, batch[2].id, T0 + 2 * MINUTE}};

  EXPECT_EQ(Insert(batch, {campaign}), 3u);
  std::string before = Snapshot();
  EXPECT_EQ(Insert(batch, {campaign}, T0 + 10 * MINUTE), 0u);
  EXPECT_EQ(Snapshot(), before);
  EXPECT_EQ(AuditCount("alert.detect"), 2);

  // Duplicate techniques are stored once, upper-cased.
  auto alert = Get(duty_, batch[0].id);
  ASSERT_TRUE(alert) << alert.error().message;
  EXPECT_EQ(alert->techniques, std::vector<std::string>{"T1110.001"});
  EXPECT_EQ(alert->status, AlertStatus::kNew);
  EXPECT_EQ(alert->campaign_id, campaign.id);
  EXPECT_EQ(alert->created_at, T0);
  auto empty = InsertDetections(*db_, {}, {}, T0);
  ASSERT_TRUE(empty);
  EXPECT_EQ(*empty, 0u);
}

TEST_P(AlertsTest, RepeatsAreCountedOnTheFirstAlertAndReplaysCountNothingTwice) {
  // The detector gives an alert's repeats (same rule, organisation and host within the fold
  // window) the first one's id; the store keeps one row with their count.
  auto repeat = [&](uint64_t seq, int64_t event_time, std::string id) {
    DetectedAlert a = MakeAlert(org_a_, "ssh-brute", "high", event_time, {"T1110.001"});
    a.id = std::move(id);
    a.spool_seq = seq;
    a.details_json = R"({"event":{"seq":)" + std::to_string(seq) + "}}";
    return a;
  };
  const std::string brute = NewId();
  const std::string other = NewId();
  std::vector<DetectedAlert> first_batch = {repeat(1, T0, brute), repeat(2, T0 + 5 * MINUTE, brute),
                                            repeat(3, T0 + MINUTE, other),
                                            repeat(4, T0 + 3 * MINUTE, brute)};
  EXPECT_EQ(Insert(first_batch), 2u);
  auto stored = Get(duty_, brute);
  ASSERT_TRUE(stored) << stored.error().message;
  EXPECT_EQ(stored->occurrences, 3);
  EXPECT_EQ(stored->event_time, T0);
  EXPECT_EQ(stored->last_event_time, T0 + 5 * MINUTE);  // the latest, not the last in order
  EXPECT_NE(stored->details.find(R"("seq":1)"), std::string::npos);  // the first event's
  EXPECT_EQ(Get(duty_, other)->occurrences, 1);
  EXPECT_EQ(ListIds(duty_).size(), 2u);

  // The next batch counts on the stored row, alone or several at once.
  EXPECT_EQ(Insert({repeat(5, T0 + 9 * MINUTE, brute)}), 0u);
  EXPECT_EQ(Get(duty_, brute)->occurrences, 4);
  EXPECT_EQ(Get(duty_, brute)->last_event_time, T0 + 9 * MINUTE);
  EXPECT_EQ(Insert({repeat(6, T0 + 10 * MINUTE, brute), repeat(7, T0 + 11 * MINUTE, brute)}), 0u);
  EXPECT_EQ(Get(duty_, brute)->occurrences, 6);

  // Replays: the same batches again change nothing; a replay cut differently counts only what
  // lies beyond what the row counted (positions 8 and 9 here).
  const std::string before = Snapshot();
  EXPECT_EQ(Insert(first_batch, {}, T0 + HOUR), 0u);
  EXPECT_EQ(Insert({repeat(5, T0 + 9 * MINUTE, brute)}, {}, T0 + HOUR), 0u);
  EXPECT_EQ(Insert({repeat(6, T0 + 10 * MINUTE, brute), repeat(7, T0 + 11 * MINUTE, brute)}, {},
                   T0 + HOUR),
            0u);
  EXPECT_EQ(Snapshot(), before);
  EXPECT_EQ(Insert({repeat(7, T0 + 11 * MINUTE, brute), repeat(8, T0 + 12 * MINUTE, brute),
                    repeat(9, T0 + 13 * MINUTE, brute)}),
            0u);
  EXPECT_EQ(Get(duty_, brute)->occurrences, 8);
  EXPECT_EQ(Get(duty_, brute)->last_event_time, T0 + 13 * MINUTE);

  // What a batch counted, for the service's metrics.
  size_t repeats = 99;
  auto inserted = InsertDetections(*db_, first_batch, {}, T0 + HOUR, &repeats);
  ASSERT_TRUE(inserted);
  EXPECT_EQ(*inserted, 0u);
  EXPECT_EQ(repeats, 0u);  // a replay
  const std::string fresh_id = NewId();
  inserted = InsertDetections(*db_,
                              std::vector<DetectedAlert>{repeat(10, T0 + 20 * MINUTE, fresh_id),
                                                         repeat(11, T0 + 21 * MINUTE, brute),
                                                         repeat(12, T0 + 22 * MINUTE, fresh_id)},
                              {}, T0 + HOUR, &repeats);
  ASSERT_TRUE(inserted);
  EXPECT_EQ(*inserted, 1u);
  EXPECT_EQ(repeats, 2u);  // one on the new alert, one on the stored one
  EXPECT_EQ(Get(duty_, brute)->occurrences, 9);
  EXPECT_EQ(Get(duty_, fresh_id)->occurrences, 2);

  // A closed alert goes on counting its window's repeats; it is not reopened.
  ASSERT_TRUE(Write([&](store::Connection& c) {
    return CloseAlert(c, duty_, brute, "true_positive", "", T0 + HOUR);
  }));
  EXPECT_EQ(Insert({repeat(13, T0 + 23 * MINUTE, brute)}), 0u);
  EXPECT_EQ(Get(duty_, brute)->occurrences, 10);
  EXPECT_EQ(Get(duty_, brute)->status, AlertStatus::kClosed);

  // A campaign's own alert comes again with each update of its campaign: never a repeat.
  DetectedAlert centre = MakeAlert(centre_, "ssh-brute", "high", T0);
  centre.kind = "campaign";
  centre.spool_seq = 0;
  EXPECT_EQ(Insert({centre, centre}), 1u);
  EXPECT_EQ(Insert({centre}), 0u);
  EXPECT_EQ(Get(duty_, centre.id)->occurrences, 1);
}

TEST_P(AlertsTest, RepeatsThatNameTheirAlertCountAsAlertsThatShareItsId) {
  // The detector hands a batch's repeats over as DetectedRepeat (the alert's index, the
  // repeat's spool position and time); the store counts them as it counts alerts sharing an id.
  auto alert = [&](uint64_t seq, int64_t event_time) {
    DetectedAlert a = MakeAlert(org_a_, "ssh-brute", "high", event_time, {"T1110.001"});
    a.spool_seq = seq;
    return a;
  };
  std::vector<DetectedAlert> alerts = {alert(1, T0), alert(3, T0 + MINUTE)};
  std::vector<DetectedRepeat> repeats = {{0, 2, T0 + 5 * MINUTE},
                                         {0, 4, T0 + 3 * MINUTE},
                                         {1, 5, T0 + 2 * MINUTE},
                                         {0, 6, T0 + 4 * MINUTE}};
  size_t counted = 99;
  auto inserted = InsertDetections(*db_, alerts, repeats, {}, T0, &counted);
  ASSERT_TRUE(inserted) << inserted.error().message;
  EXPECT_EQ(*inserted, 2u);
  EXPECT_EQ(counted, 4u);
  EXPECT_EQ(Get(duty_, alerts[0].id)->occurrences, 4);
  EXPECT_EQ(Get(duty_, alerts[0].id)->last_event_time, T0 + 5 * MINUTE);
  EXPECT_EQ(Get(duty_, alerts[1].id)->occurrences, 2);

  // A replay cut differently: the first alert's row counted up to position 6, so only 7 counts;
  // the second's up to 5, so 8 and 9 count, mixed with one that shares the id as an alert.
  const std::string before = Snapshot();
  inserted = InsertDetections(*db_, alerts, repeats, {}, T0 + HOUR, &counted);
  ASSERT_TRUE(inserted);
  EXPECT_EQ(counted, 0u);
  EXPECT_EQ(Snapshot(), before);
  DetectedAlert again = alerts[1];
  again.spool_seq = 8;
  inserted = InsertDetections(
      *db_, std::vector<DetectedAlert>{alerts[0], alerts[1], again},
      std::vector<DetectedRepeat>{
          {0, 6, T0}, {0, 7, T0 + 9 * MINUTE}, {1, 5, T0}, {2, 9, T0 + 8 * MINUTE}},
      {}, T0 + HOUR, &counted);
  ASSERT_TRUE(inserted);
  EXPECT_EQ(*inserted, 0u);
  EXPECT_EQ(counted, 3u);
  EXPECT_EQ(Get(duty_, alerts[0].id)->occurrences, 5);
  EXPECT_EQ(Get(duty_, alerts[0].id)->last_event_time, T0 + 9 * MINUTE);
  EXPECT_EQ(Get(duty_, alerts[1].id)->occurrences, 4);

  // A repeat that names no alert of its batch is refused, and nothing of the batch is stored.
  const std::string kept = Snapshot();
  DetectedAlert fresh = alert(20, T0 + 20 * MINUTE);
  auto refused = InsertDetections(*db_, std::vector<DetectedAlert>{fresh},
                                  std::vector<DetectedRepeat>{{1, 21, T0}}, {}, T0 + HOUR);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("names alert 1 of 1"), std::string::npos)
      << refused.error().message;
  EXPECT_EQ(Snapshot(), kept);
}

TEST_P(AlertsTest, TextThatIsNotUtf8IsStoredRepaired) {
  DetectedAlert a = MakeAlert(org_a_, "r", "low", T0);
  a.title = std::string("bad \xff byte and NUL \0 here", 25);
  EXPECT_EQ(Insert({a}), 1u);
  auto alert = Get(reporter_a_, a.id);
  ASSERT_TRUE(alert);
  EXPECT_EQ(alert->title, "bad \xEF\xBF\xBD byte and NUL \xEF\xBF\xBD here");
}

TEST_P(AlertsTest, CampaignsAreCreatedThenExtended) {
  DetectedAlert a1 = MakeAlert(org_a_, "ssh-brute", "high", T0);
  DetectedAlert b1 = MakeAlert(org_b_, "ssh-brute", "high", T0 + MINUTE);
  DetectedCampaign campaign;
  campaign.id = NewId();
  campaign.key_kind = "rule";
  campaign.key_id = "ssh-brute";
  campaign.key_value = "198.51.100.9";
  campaign.title = "SSH brute force from 198.51.100.9";
  campaign.first_time_ms = T0;
  campaign.last_time_ms = T0 + MINUTE;
  campaign.members = {{org_a_, a1.id, T0}, {org_b_, b1.id, T0 + MINUTE}};
  DetectedAlert raised = MakeAlert(centre_, "ssh-brute", "high", T0 + MINUTE);
  raised.kind = "campaign";
  raised.campaign_id = campaign.id;
  raised.group_key = "198.51.100.9";
  Insert({a1, b1, raised}, {campaign});

  auto conn = db_->Acquire();
  auto created = GetCampaign(*conn, analyst_, campaign.id);
  ASSERT_TRUE(created) << created.error().message;
  EXPECT_EQ(created->org_count, 2);
  EXPECT_EQ(created->status, "open");
  EXPECT_EQ(created->members.size(), 2u);
  EXPECT_EQ(created->alert_ids, std::vector<std::string>{raised.id});
  EXPECT_EQ(created->first_time, T0);
  EXPECT_EQ(created->last_time, T0 + MINUTE);
  EXPECT_EQ(GetAlert(*conn, reporter_b_, b1.id)->campaign_id, campaign.id);

  // A third organisation joins later; the member alert stored in an earlier batch gets the id.
  DetectedAlert c1 = MakeAlert(org_c_, "ssh-brute", "high", T0 + 30 * MINUTE);
  Insert({c1});
  EXPECT_EQ(GetAlert(*conn, reporter_c_, c1.id)->campaign_id, "");
  campaign.last_time_ms = T0 + 30 * MINUTE;
  campaign.members.push_back({org_c_, c1.id, T0 + 30 * MINUTE});
  Insert({}, {campaign}, T0 + 31 * MINUTE);
  auto extended = GetCampaign(*conn, duty_, campaign.id);
  ASSERT_TRUE(extended);
  EXPECT_EQ(extended->id, campaign.id);
  EXPECT_EQ(extended->org_count, 3);
  EXPECT_EQ(extended->last_time, T0 + 30 * MINUTE);
  EXPECT_EQ(extended->created_at, T0);
  EXPECT_EQ(extended->updated_at, T0 + 31 * MINUTE);
  ASSERT_EQ(extended->members.size(), 3u);
  EXPECT_EQ(extended->members[2].org_id, org_c_);
  EXPECT_EQ(GetAlert(*conn, reporter_c_, c1.id)->campaign_id, campaign.id);

  CampaignPage page = ListCampaigns(*conn, analyst_, std::nullopt, 10);
  ASSERT_EQ(page.items.size(), 1u);
  EXPECT_EQ(page.items[0].org_count, 3);
}

TEST_P(AlertsTest, OrganisationsSeeTheirOwnAlertsAndTheCentreSeesAll) {
  DetectedAlert a1 = MakeAlert(org_a_, "ssh-brute", "high", T0);
  DetectedAlert b1 = MakeAlert(org_b_, "ssh-brute", "high", T0 + MINUTE);
  DetectedCampaign campaign;
  campaign.id = NewId();
  campaign.key_kind = "rule";
  campaign.key_id = "ssh-brute";
  campaign.key_value = "198.51.100.9";
  campaign.title = "SSH brute force";
  campaign.first_time_ms = T0;
  campaign.last_time_ms = T0 + MINUTE;
  campaign.members = {{org_a_, a1.id, T0}, {org_b_, b1.id, T0 + MINUTE}};
  DetectedAlert raised = MakeAlert(centre_, "ssh-brute", "critical", T0 + MINUTE);
  raised.kind = "campaign";
  raised.campaign_id = campaign.id;
  Insert({a1, b1, raised}, {campaign});

  EXPECT_TRUE(Get(reporter_a_, a1.id));
  EXPECT_EQ(Get(reporter_a_, b1.id).error().kind, AlertErrorKind::kNotFound);
  EXPECT_EQ(Get(reporter_a_, raised.id).error().kind, AlertErrorKind::kNotFound);
  EXPECT_EQ(Get(reporter_b_, a1.id).error().kind, AlertErrorKind::kNotFound);
  EXPECT_TRUE(Get(auditor_, raised.id));
  EXPECT_EQ(ListIds(reporter_a_), std::vector<std::string>{a1.id});
  EXPECT_EQ(ListIds(analyst_).size(), 3u);

  // The member alert tells organisation A a campaign exists; the campaign itself stays hidden.
  EXPECT_EQ(Get(reporter_a_, a1.id)->campaign_id, campaign.id);
  auto conn = db_->Acquire();
  EXPECT_EQ(GetCampaign(*conn, reporter_a_, campaign.id).error().kind, AlertErrorKind::kNotFound);
  EXPECT_EQ(GetCampaign(*conn, admin_a_, campaign.id).error().kind, AlertErrorKind::kNotFound);
  EXPECT_TRUE(ListCampaigns(*conn, reporter_a_, std::nullopt, 10).items.empty());
  EXPECT_TRUE(GetCampaign(*conn, auditor_, campaign.id));
  AlertFilter by_campaign;
  by_campaign.campaign_id = campaign.id;
  EXPECT_EQ(ListIds(reporter_a_, by_campaign), std::vector<std::string>{a1.id});
  EXPECT_EQ(ListIds(duty_, by_campaign).size(), 3u);

  // Single reads and lists agree for everyone on every alert.
  for (const Principal* p :
       {&duty_, &analyst_, &auditor_, &reporter_a_, &admin_a_, &reporter_b_, &reporter_c_}) {
    std::vector<std::string> listed = ListIds(*p);
    for (const auto* alert : {&a1, &b1, &raised}) {
      bool readable = Get(*p, alert->id).has_value();
      bool in_list = std::find(listed.begin(), listed.end(), alert->id) != listed.end();
      EXPECT_EQ(readable, in_list) << p->username << " " << alert->id;
    }
  }
}

TEST_P(AlertsTest, FiltersNarrowTheList) {
  DetectedAlert a1 = MakeAlert(org_a_, "ssh-brute", "high", T0, {"T1110.001"});
  DetectedAlert a2 = MakeAlert(org_a_, "ps-encoded", "medium", T0 + MINUTE, {"T1059.001"});
  DetectedAlert a3 = MakeAlert(org_a_, "dns-tunnel", "critical", T0 + 2 * MINUTE, {"T1110"});
  a3.kind = "correlation";
  DetectedAlert b1 = MakeAlert(org_b_, "ssh-brute", "low", T0 + 3 * MINUTE, {"T1110.003"});
  b1.kind = "indicator";
  Insert({a1, a2, a3, b1});
  Write([&](store::Connection& c) { return AcknowledgeAlert(c, analyst_, a2.id, T0); });
  Write([&](store::Connection& c) {
    return AssignAlert(c, analyst_, a3.id, std::optional<std::string>(analyst_.user_id), T0);
  });

  auto ids = [&](auto set) {
    AlertFilter filter;
    set(filter);
    std::vector<std::string> found = ListIds(duty_, filter);
    std::sort(found.begin(), found.end());
    return found;
  };
  auto sorted = [](std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    return v;
  };
  EXPECT_EQ(ids([&](AlertFilter& f) { f.org_id = org_b_; }), sorted({b1.id}));
  EXPECT_EQ(ids([](AlertFilter& f) { f.level_min = AlertLevelRank("high"); }),
            sorted({a1.id, a3.id}));
  EXPECT_EQ(ids([](AlertFilter& f) { f.rule_id = "ssh-brute"; }), sorted({a1.id, b1.id}));
  EXPECT_EQ(ids([](AlertFilter& f) { f.technique = "T1110"; }), sorted({a1.id, a3.id, b1.id}));
  EXPECT_EQ(ids([](AlertFilter& f) { f.technique = "t1110.001"; }), sorted({a1.id}));
  EXPECT_EQ(ids([](AlertFilter& f) { f.technique = "T111"; }), sorted({}));
  EXPECT_EQ(ids([](AlertFilter& f) { f.kind = "correlation"; }), sorted({a3.id}));
  EXPECT_EQ(ids([](AlertFilter& f) { f.status = AlertStatus::kAcknowledged; }), sorted({a2.id}));
  EXPECT_EQ(ids([](AlertFilter& f) { f.since = T0 + MINUTE; }), sorted({a2.id, a3.id, b1.id}));
  EXPECT_EQ(ids([](AlertFilter& f) { f.until = T0 + MINUTE; }), sorted({a1.id}));
  EXPECT_EQ(ids([&](AlertFilter& f) { f.assignee_id = analyst_.user_id; }), sorted({a3.id}));
  EXPECT_EQ(ids([&](AlertFilter& f) {
              f.org_id = org_a_;
              f.level_min = 3;
              f.until = T0 + 2 * MINUTE;
            }),
            sorted({a1.id, a2.id}));
  // Values no alert can have match nothing rather than failing.
  EXPECT_EQ(ids([](AlertFilter& f) { f.org_id = std::string("x\0y", 3); }), sorted({}));
  EXPECT_EQ(ids([](AlertFilter& f) { f.kind = "nonsense"; }), sorted({}));
}

TEST_P(AlertsTest, ACorrelationRuleWithoutAnIdIsFoundByItsTitle) {
  DetectedAlert c = MakeAlert(org_a_, "Many failed logins, then one success", "high", T0);
  c.kind = "correlation";
  c.group_key = R"({"user":"root","src_ip":"198.51.100.9"})";
  Insert({c, MakeAlert(org_a_, "other", "low", T0)});
  AlertFilter filter;
  filter.rule_id = c.rule_id;
  EXPECT_EQ(ListIds(reporter_a_, filter), std::vector<std::string>{c.id});
  filter.rule_id = std::string("bad \xff");
  EXPECT_TRUE(ListIds(reporter_a_, filter).empty());
}

TEST_P(AlertsTest, PagesHaveNoDuplicatesOrGaps) {
  std::vector<DetectedAlert> batch;
  for (int i = 0; i < 25; ++i) {
    // Groups of three share an event time, so the id breaks ties.
    batch.push_back(MakeAlert(i % 2 == 0 ? org_a_ : org_b_, "r", "medium", T0 + (i / 3) * MINUTE));
  }
  Insert(batch);
  for (int limit : {1, 4, 7, 25, 200}) {
    std::vector<std::string> paged = ListIds(duty_, {}, limit);
    ASSERT_EQ(paged.size(), 25u) << limit;
    EXPECT_EQ(std::set<std::string>(paged.begin(), paged.end()).size(), 25u);
  }
  // Newest event first, ties by id descending.
  auto conn = db_->Acquire();
  AlertPage all = ListAlerts(*conn, duty_, {}, std::nullopt, 200);
  for (size_t i = 1; i < all.items.size(); ++i) {
    const Alert& a = all.items[i - 1];
    const Alert& b = all.items[i];
    EXPECT_TRUE(a.event_time > b.event_time || (a.event_time == b.event_time && a.id > b.id));
  }
  EXPECT_TRUE(all.items[0].details.empty());  // lists leave the detection out
  std::vector<std::string> own = ListIds(reporter_a_, {}, 3);
  EXPECT_EQ(own.size(), 13u);
}

TEST_P(AlertsTest, LifecycleRulesAndErrors) {
  DetectedAlert a1 = MakeAlert(org_a_, "ssh-brute", "high", T0);
  Insert({a1});
  auto act = [&](auto work) {
    return db_->Transact([&](store::Connection& c) { return work(c); });
  };
  // Reading is not triaging: an auditor sees the alert but may not change it.
  auto refused = act([&](auto& c) { return AcknowledgeAlert(c, auditor_, a1.id, T0); });
  EXPECT_EQ(refused.error().kind, AlertErrorKind::kForbidden);
  EXPECT_EQ(act([&](auto& c) { return AcknowledgeAlert(c, reporter_b_, a1.id, T0); }).error().kind,
            AlertErrorKind::kNotFound);

  auto acked = act([&](auto& c) { return AcknowledgeAlert(c, reporter_a_, a1.id, T0 + 1); });
  ASSERT_TRUE(acked) << acked.error().message;
  EXPECT_EQ(acked->status, AlertStatus::kAcknowledged);
  EXPECT_EQ(acked->acknowledged_by, reporter_a_.user_id);
  EXPECT_EQ(acked->acknowledged_at, T0 + 1);
  EXPECT_EQ(acked->updated_at, T0 + 1);
  EXPECT_EQ(act([&](auto& c) { return AcknowledgeAlert(c, analyst_, a1.id, T0); }).error().kind,
            AlertErrorKind::kConflict);

  auto no_reason =
      act([&](auto& c) { return CloseAlert(c, analyst_, a1.id, "false_positive", "  ", T0 + 2); });
  EXPECT_EQ(no_reason.error().kind, AlertErrorKind::kInvalid);
  EXPECT_EQ(no_reason.error().field, "reason");
  EXPECT_EQ(
      act([&](auto& c) { return CloseAlert(c, analyst_, a1.id, "maybe", "", T0); }).error().field,
      "resolution");
  auto closed = act([&](auto& c) {
    return CloseAlert(c, analyst_, a1.id, "false_positive", "backup job logs in every night",
                      T0 + 3);
  });
  ASSERT_TRUE(closed) << closed.error().message;
  EXPECT_EQ(closed->status, AlertStatus::kClosed);
  EXPECT_EQ(closed->resolution, "false_positive");
  EXPECT_EQ(closed->reason, "backup job logs in every night");
  EXPECT_EQ(closed->closed_by, analyst_.user_id);
  EXPECT_EQ(act([&](auto& c) { return CloseAlert(c, analyst_, a1.id, "duplicate", "", T0); })
                .error()
                .kind,
            AlertErrorKind::kConflict);
  EXPECT_EQ(act([&](auto& c) { return PromoteAlert(c, analyst_, a1.id, {}, T0); }).error().kind,
            AlertErrorKind::kConflict);
  EXPECT_EQ(act([&](auto& c) {
              return AssignAlert(c, analyst_, a1.id, std::optional<std::string>(), T0);
            })
                .error()
                .kind,
            AlertErrorKind::kConflict);

  auto reopened = act([&](auto& c) { return ReopenAlert(c, admin_a_, a1.id, T0 + 4); });
  ASSERT_TRUE(reopened) << reopened.error().message;
  EXPECT_EQ(reopened->status, AlertStatus::kAcknowledged);
  EXPECT_FALSE(reopened->resolution);
  EXPECT_FALSE(reopened->reason);
  EXPECT_FALSE(reopened->closed_at);
  EXPECT_EQ(reopened->acknowledged_by, reporter_a_.user_id);  // the first look stays on record
  EXPECT_EQ(act([&](auto& c) { return ReopenAlert(c, admin_a_, a1.id, T0); }).error().kind,
            AlertErrorKind::kConflict);
  // A true positive needs no reason.
  EXPECT_TRUE(
      act([&](auto& c) { return CloseAlert(c, duty_, a1.id, "true_positive", "", T0 + 5); }));

  EXPECT_EQ(AuditCount("alert.acknowledge"), 1);
  EXPECT_EQ(AuditCount("alert.close"), 2);
  EXPECT_EQ(AuditCount("alert.reopen"), 1);
  EXPECT_EQ(Get(duty_, "not an id").error().kind, AlertErrorKind::kNotFound);
}

TEST_P(AlertsTest, AssigneesComeFromTheAlertsOrganisationOrTheCentre) {
  DetectedAlert a1 = MakeAlert(org_a_, "ssh-brute", "high", T0);
  Insert({a1});
  auto assign = [&](const Principal& who, std::optional<std::string> to) {
    return db_->Transact(
        [&](store::Connection& c) { return AssignAlert(c, who, a1.id, to, T0 + 10); });
  };
  auto own = assign(reporter_a_, admin_a_.user_id);
  ASSERT_TRUE(own) << own.error().message;
  EXPECT_EQ(own->assignee_id, admin_a_.user_id);
  EXPECT_EQ(assign(reporter_a_, analyst_.user_id).error().field, "assignee_id");
  EXPECT_EQ(assign(analyst_, reporter_b_.user_id).error().field, "assignee_id");
  EXPECT_EQ(assign(analyst_, "no-such-user").error().field, "assignee_id");
  auto centre = assign(analyst_, analyst_.user_id);
  ASSERT_TRUE(centre) << centre.error().message;
  EXPECT_EQ(centre->assignee_id, analyst_.user_id);
  EXPECT_EQ(assign(auditor_, analyst_.user_id).error().kind, AlertErrorKind::kForbidden);
  auto cleared = assign(duty_, std::nullopt);
  ASSERT_TRUE(cleared);
  EXPECT_FALSE(cleared->assignee_id);
  EXPECT_EQ(AuditCount("alert.assign"), 3);
}

TEST_P(AlertsTest, PromotionCreatesAnIncidentForTheAlertsOrganisation) {
  DetectedAlert a1 = MakeAlert(org_a_, "ssh-brute", "high", T0, {"T1110.001"});
  DetectedAlert ioc = MakeAlert(org_a_, "ind-42", "high", T0 + MINUTE);
  ioc.kind = "indicator";
  ioc.details_json =
      R"({"indicator":{"id":"ind-42","type":"ipv4","name":"C2"},"matched_values":[{"field":"dst_ip","value":"203.0.113.7"},{"field":"src_ip","value":"203.0.113.7"}]})";
  Insert({a1, ioc});

  auto incident = Write(
      [&](store::Connection& c) { return PromoteAlert(c, analyst_, a1.id, {}, T0 + 2 * MINUTE); });
  ASSERT_TRUE(incident) << incident.error().message;
  EXPECT_EQ(incident->owner_org_id, org_a_);
  EXPECT_EQ(incident->author_id, analyst_.user_id);
  EXPECT_EQ(incident->report.tlp, Tlp::kAmber);
  EXPECT_EQ(incident->report.title, a1.title);
  EXPECT_EQ(incident->report.category, "unauthorized_access");
  EXPECT_EQ(incident->report.detected_at, a1.detected_at_ms);
  EXPECT_EQ(incident->report.occurred_at, a1.event_time_ms);
  EXPECT_EQ(incident->report.point_of_contact.email, "analyst@centre.example");
  auto promoted = Get(reporter_a_, a1.id);
  ASSERT_TRUE(promoted);
  EXPECT_EQ(promoted->status, AlertStatus::kPromoted);
  EXPECT_EQ(promoted->incident_id, incident->id);
  EXPECT_EQ(Write([&](store::Connection& c) { return PromoteAlert(c, analyst_, a1.id, {}, T0); })
                .error()
                .kind,
            AlertErrorKind::kConflict);
  EXPECT_EQ(
      Write([&](store::Connection& c) { return ReopenAlert(c, analyst_, a1.id, T0); }).error().kind,
      AlertErrorKind::kConflict);

  // Overrides, and the indicator alert's matched values become the incident's indicators.
  PromoteOverrides overrides;
  overrides.title = "C2 traffic";
  overrides.category = "malware";
  overrides.tlp = Tlp::kAmberStrict;
  overrides.summary = "Beaconing to a known C2 address";
  auto second = Write([&](store::Connection& c) {
    return PromoteAlert(c, reporter_a_, ioc.id, overrides, T0 + 3 * MINUTE);
  });
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_EQ(second->report.title, "C2 traffic");
  EXPECT_EQ(second->report.category, "malware");
  EXPECT_EQ(second->report.tlp, Tlp::kAmberStrict);
  EXPECT_EQ(second->report.description, "Beaconing to a known C2 address");
  ASSERT_EQ(second->report.indicators.size(), 1u);
  EXPECT_EQ(second->report.indicators[0].type, "ip");
  EXPECT_EQ(second->report.indicators[0].value, "203.0.113.7");
  EXPECT_EQ(second->report.point_of_contact.email, "rep@a.example.go.jp");

  // A bad override is refused before anything is written, naming the field.
  DetectedAlert a3 = MakeAlert(org_a_, "x", "low", T0);
  Insert({a3});
  PromoteOverrides bad;
  bad.category = "cosmic_rays";
  auto refused =
      Write([&](store::Connection& c) { return PromoteAlert(c, analyst_, a3.id, bad, T0); });
  EXPECT_EQ(refused.error().field, "category");
  EXPECT_EQ(Get(duty_, a3.id)->status, AlertStatus::kNew);
  // Nobody involved has an e-mail address: the point of contact must be given.
  auto none = Write([&](store::Connection& c) { return PromoteAlert(c, admin_a_, a3.id, {}, T0); });
  EXPECT_EQ(none.error().field, "point_of_contact");
  EXPECT_EQ(AuditCount("alert.promote"), 2);
  EXPECT_EQ(AuditCount("incident.create"), 2);

  auto conn = db_->Acquire();
  std::vector<AlertRef> refs = AlertsOfIncident(*conn, reporter_a_, incident->id);
  ASSERT_EQ(refs.size(), 1u);
  EXPECT_EQ(refs[0].id, a1.id);
  EXPECT_EQ(refs[0].level, "high");
}

TEST_P(AlertsTest, AttachingNeedsAnIncidentTheCallerMayEdit) {
  DetectedAlert a1 = MakeAlert(org_a_, "ssh-brute", "high", T0);
  DetectedAlert a2 = MakeAlert(org_a_, "ssh-brute", "high", T0 + MINUTE);
  DetectedAlert b1 = MakeAlert(org_b_, "ssh-brute", "high", T0 + MINUTE);
  Insert({a1, a2, b1});
  auto incident = Write([&](store::Connection& c) {
    return PromoteAlert(c, reporter_a_, a1.id, {}, T0 + 2 * MINUTE);
  });
  ASSERT_TRUE(incident) << incident.error().message;

  auto attached = Write([&](store::Connection& c) {
    return AttachAlert(c, admin_a_, a2.id, incident->id, T0 + 3 * MINUTE);
  });
  ASSERT_TRUE(attached) << attached.error().message;
  EXPECT_EQ(attached->status, AlertStatus::kPromoted);
  EXPECT_EQ(attached->incident_id, incident->id);

  // Organisation B cannot read A's incident: it is named as unknown, never revealed.
  auto hidden = Write(
      [&](store::Connection& c) { return AttachAlert(c, reporter_b_, b1.id, incident->id, T0); });
  EXPECT_EQ(hidden.error().field, "incident_id");
  // The duty officer reads and edits every reported incident; B's alert joins A's incident, and
  // the incident's alert list shows each reader only the alerts it may read.
  auto joined = Write([&](store::Connection& c) {
    return AttachAlert(c, duty_, b1.id, incident->id, T0 + 4 * MINUTE);
  });
  ASSERT_TRUE(joined) << joined.error().message;
  auto conn = db_->Acquire();
  EXPECT_EQ(AlertsOfIncident(*conn, duty_, incident->id).size(), 3u);
  EXPECT_EQ(AlertsOfIncident(*conn, reporter_a_, incident->id).size(), 2u);
  AlertFilter linked;
  linked.incident_id = incident->id;
  EXPECT_EQ(ListIds(analyst_, linked).size(), 3u);
  EXPECT_EQ(AuditCount("alert.attach"), 2);
}

INSTANTIATE_TEST_SUITE_P(Backends, AlertsTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         testing::BackendName);

}  // namespace
}  // namespace yagura::hub

// GET /api/v1/stats/overview through the Router, without sockets: query validation naming the
// parameter, the default range, the JSON shape the console draws (every bucket present, zero
// counts included, levels and statuses spelled out), and per-caller filtering: a member's
// overview never counts another organisation's alerts or incidents, nor a RED incident that
// is not addressed to it.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "core/detection.hpp"
#include "core/metrics.hpp"
#include "core/time.hpp"
#include "http/api.hpp"
#include "http/router.hpp"
#include "hub/alerts.hpp"
#include "hub/audit_log.hpp"
#include "hub/crypto.hpp"
#include "hub/identity.hpp"
#include "hub/incidents.hpp"
#include "hub/passwords.hpp"
#include "hub/schema.hpp"

namespace yagura::http {
namespace {

constexpr int64_t HOUR = 3'600'000;
constexpr int64_t DAY = 24 * HOUR;
constexpr int64_t D0 = 1'799'971'200'000;  // 2027-01-15T00:00:00Z

class ApiStatsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    hub::SetPasswordCost(hub::PasswordCost::Minimal());
    std::string pattern =
        (std::filesystem::temp_directory_path() / "yagura-api-stats-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    auto opened = store::Database::Open((dir_ / "hub.db").string(), 4);
    ASSERT_TRUE(opened) << opened.error().ToString();
    db_ = std::move(*opened);
    ASSERT_TRUE(hub::MigrateSchema(*db_));
    audit_ = std::make_unique<hub::AuditLog>(*db_);
    context_ = std::make_unique<ApiContext>(ApiContext{*db_, *audit_, metrics_, {}});
    RegisterStatsRoutes(router_, *context_);

    auto boot = hub::BootstrapCentre(*db_, "duty", "duty officer password");
    ASSERT_TRUE(boot) << boot.error().message;
    admin_.user_id = boot->user_id;
    admin_.username = "duty";
    admin_.org_id = boot->org_id;
    admin_.org_type = hub::OrgType::kCentre;
    admin_.roles = {hub::Role::kCentreAdmin};
    admin_.method = hub::AuthMethod::kInternal;
    admin_.remote_address = "127.0.0.1";
    org_a_ = AddOrg("Ministry A", hub::OrgType::kMinistry, "");
    org_b_ = AddOrg("Bank B", hub::OrgType::kCriticalInfrastructure, "finance");
    duty_ = Token(boot->user_id);
    reporter_a_ = AddPrincipal(org_a_, "reporter.a", hub::OrgType::kMinistry);
    reporter_b_ = AddPrincipal(org_b_, "reporter.b", hub::OrgType::kCriticalInfrastructure);
    token_a_ = Token(reporter_a_.user_id);
    token_b_ = Token(reporter_b_.user_id);
  }

  void TearDown() override {
    audit_.reset();
    db_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::string AddOrg(const std::string& name, hub::OrgType type, const std::string& sector) {
    hub::NewOrganization org;
    org.name = name;
    org.type = type;
    org.sector = sector;
    org.contact_email = "soc@example.go.jp";
    auto created = hub::CreateOrganization(*db_, admin_, org);
    EXPECT_TRUE(created) << created.error().message;
    return created ? created->id : "";
  }

  hub::Principal AddPrincipal(const std::string& org_id, const std::string& username,
                              hub::OrgType type) {
    hub::NewUser user;
    user.username = username;
    user.org_id = org_id;
    user.roles = {hub::Role::kOrgReporter};
    auto created = hub::CreateUser(*db_, admin_, user);
    EXPECT_TRUE(created) << created.error().message;
    hub::Principal p;
    p.user_id = created ? created->id : "";
    p.username = username;
    p.org_id = org_id;
    p.org_type = type;
    p.roles = {hub::Role::kOrgReporter};
    p.remote_address = "127.0.0.1";
    return p;
  }

  std::string Token(const std::string& user_id) {
    auto token =
        hub::CreateToken(*db_, admin_, user_id, "tests", {"read", "write"}, std::nullopt, NowMs());
    EXPECT_TRUE(token) << token.error().message;
    return token ? token->secret : "";
  }

  void Alert(const std::string& org, const std::string& level, int64_t event_time) {
    DetectedAlert a;
    a.id = hub::NewId();
    a.kind = "rule";
    a.org_id = org;
    a.rule_id = "rule-" + level;
    a.title = "Rule " + level;
    a.level = level;
    a.event_time_ms = event_time;
    a.detected_at_ms = event_time;
    std::vector<DetectedAlert> batch = {a};
    ASSERT_TRUE(hub::InsertDetections(*db_, batch, {}, event_time));
  }

  void Incident(const hub::Principal& reporter, int64_t at, hub::Tlp tlp = hub::Tlp::kAmber) {
    hub::IncidentReport r;
    r.title = "Ransomware on file servers";
    r.description = "Files encrypted";
    r.category = "malware";
    r.functional_impact = "significant_impact_to_non_critical_services";
    r.information_impact = "privacy_data_breach";
    r.recoverability = "supplemented";
    r.location = "2";
    r.detected_at = at - HOUR;
    r.point_of_contact = {"Sato Hanako", "sato@a.example.go.jp", std::nullopt};
    r.tlp = tlp;
    auto created = db_->Transact([&](store::Connection& c) {
      return hub::CreateIncident(c, reporter, r, std::nullopt, at);
    });
    ASSERT_TRUE(created) << created.error().message;
  }

  Response Get(const std::string& target, const std::string& token) {
    Request request;
    request.method = "GET";
    request.target = target;
    EXPECT_TRUE(DecodeTarget(target, request));
    request.remote_address = "127.0.0.1";
    if (!token.empty()) request.headers.Set("Authorization", "Bearer " + token);
    return router_.Dispatch(request);
  }

  static JsonValue Body(const Response& response) {
    auto parsed = JsonValue::Parse(response.body);
    EXPECT_TRUE(parsed) << response.body;
    return parsed ? *parsed : JsonValue();
  }
  static std::string ErrorField(const Response& response) {
    JsonValue body = Body(response);
    const JsonValue* error = body.Find("error");
    const JsonValue* field = error ? error->Find("field") : nullptr;
    return field && field->is_string() ? field->as_string() : "";
  }
  static int64_t Int(const JsonValue& value, std::initializer_list<std::string_view> path) {
    const JsonValue* at = &value;
    for (auto key : path) {
      at = at->Find(key);
      if (at == nullptr) {
        ADD_FAILURE() << "missing " << key;
        return -1;
      }
    }
    return at->as_int();
  }
  static std::string Range(int64_t from, int64_t to, std::string_view bucket) {
    return fmt::format("/api/v1/stats/overview?from={}&to={}&bucket={}", FormatTimestampMs(from),
                       FormatTimestampMs(to), bucket);
  }

  std::filesystem::path dir_;
  std::unique_ptr<store::Database> db_;
  std::unique_ptr<hub::AuditLog> audit_;
  Metrics metrics_;
  std::unique_ptr<ApiContext> context_;
  Router router_;
  hub::Principal admin_, reporter_a_, reporter_b_;
  std::string org_a_, org_b_, duty_, token_a_, token_b_;
};

TEST_F(ApiStatsTest, RefusesInvalidQueriesNamingTheParameter) {
  EXPECT_EQ(Get("/api/v1/stats/overview", "").status, 401);
  Response week = Get("/api/v1/stats/overview?bucket=week", token_a_);
  EXPECT_EQ(week.status, 400);
  EXPECT_EQ(ErrorField(week), "bucket");
  Response garbage = Get("/api/v1/stats/overview?from=yesterday", token_a_);
  EXPECT_EQ(garbage.status, 400);
  EXPECT_EQ(ErrorField(garbage), "from");
  Response zoneless = Get("/api/v1/stats/overview?to=2027-01-15T00:00:00", token_a_);
  EXPECT_EQ(zoneless.status, 400);
  EXPECT_EQ(ErrorField(zoneless), "to");
  Response backwards = Get(Range(D0 + DAY, D0, "day"), token_a_);
  EXPECT_EQ(backwards.status, 400);
  EXPECT_EQ(ErrorField(backwards), "from");
  EXPECT_EQ(Get(Range(D0, D0, "day"), token_a_).status, 400);
  // 400 buckets are allowed, 401 are not.
  EXPECT_EQ(Get(Range(D0, D0 + 400 * HOUR, "hour"), token_a_).status, 200);
  Response many = Get(Range(D0, D0 + 400 * HOUR + 1, "hour"), token_a_);
  EXPECT_EQ(many.status, 400);
  EXPECT_EQ(ErrorField(many), "bucket");
  EXPECT_EQ(Get(Range(D0 - 500 * DAY, D0, "day"), token_a_).status, 400);
}

TEST_F(ApiStatsTest, DefaultsToTheLastThirtyDaysInDayBuckets) {
  Response response = Get("/api/v1/stats/overview", token_a_);
  ASSERT_EQ(response.status, 200) << response.body;
  JsonValue body = Body(response);
  EXPECT_EQ(body.Find("bucket")->as_string(), "day");
  const auto& series = body.Find("alerts")->Find("series")->as_array();
  ASSERT_EQ(series.size(), 30u);
  auto from = ParseIsoDateTimeMs(body.Find("from")->as_string());
  ASSERT_TRUE(from);
  EXPECT_EQ(*from % DAY, 0);  // starts at a UTC midnight
  EXPECT_EQ(series.front().Find("t")->as_string(), body.Find("from")->as_string());
  EXPECT_EQ(body.Find("incidents")->Find("series")->as_array().size(), 30u);

  Response hours = Get("/api/v1/stats/overview?bucket=hour", token_a_);
  ASSERT_EQ(hours.status, 200) << hours.body;
  EXPECT_EQ(Body(hours).Find("alerts")->Find("series")->as_array().size(), 24u);
}

TEST_F(ApiStatsTest, AnswersEveryBucketAndOnlyWhatTheCallerMayRead) {
  Alert(org_a_, "high", D0 + HOUR);
  Alert(org_a_, "critical", D0 + 2 * DAY);
  Alert(org_b_, "low", D0 + HOUR);
  Incident(reporter_a_, D0 + HOUR);
  Incident(reporter_b_, D0 + HOUR);
  Incident(reporter_b_, D0 + DAY, hub::Tlp::kRed);  // only its author reads it

  Response response = Get(Range(D0, D0 + 3 * DAY, "day"), token_a_);
  ASSERT_EQ(response.status, 200) << response.body;
  JsonValue a = Body(response);
  EXPECT_EQ(a.Find("from")->as_string(), "2027-01-15T00:00:00.000Z");
  EXPECT_EQ(a.Find("to")->as_string(), "2027-01-18T00:00:00.000Z");
  EXPECT_EQ(Int(a, {"alerts", "total"}), 2);
  EXPECT_EQ(Int(a, {"alerts", "open"}), 2);
  EXPECT_EQ(Int(a, {"alerts", "by_level", "high"}), 1);
  EXPECT_EQ(Int(a, {"alerts", "by_level", "low"}), 0);  // B's alert is not counted
  const auto& series = a.Find("alerts")->Find("series")->as_array();
  ASSERT_EQ(series.size(), 3u);
  EXPECT_EQ(series[1].Find("t")->as_string(), "2027-01-16T00:00:00.000Z");
  EXPECT_EQ(series[1].Find("count")->as_int(), 0);
  EXPECT_EQ(series[1].Find("by_level")->Find("informational")->as_int(), 0);
  EXPECT_EQ(series[2].Find("by_level")->Find("critical")->as_int(), 1);
  const auto& orgs = a.Find("alerts")->Find("by_organization")->as_array();
  ASSERT_EQ(orgs.size(), 1u);
  EXPECT_EQ(orgs[0].Find("id")->as_string(), org_a_);
  EXPECT_EQ(orgs[0].Find("name")->as_string(), "Ministry A");
  EXPECT_TRUE(orgs[0].Find("sector")->is_null());
  const auto& a_sectors = a.Find("alerts")->Find("by_sector")->as_array();
  ASSERT_EQ(a_sectors.size(), 1u);  // a ministry: counted under no sector
  EXPECT_TRUE(a_sectors[0].Find("sector")->is_null());
  EXPECT_EQ(a_sectors[0].Find("count")->as_int(), 2);
  EXPECT_EQ(Int(a, {"incidents", "total"}), 1);
  EXPECT_EQ(Int(a, {"incidents", "by_status", "reported"}), 1);
  EXPECT_EQ(Int(a, {"incidents", "by_status", "closed"}), 0);
  EXPECT_EQ(Int(a, {"requests", "open"}), 0);
  EXPECT_EQ(Int(a, {"recommendations", "overdue"}), 0);
  EXPECT_EQ(Int(a, {"advisories", "unacknowledged"}), 0);

  JsonValue b = Body(Get(Range(D0, D0 + 3 * DAY, "day"), token_b_));
  EXPECT_EQ(Int(b, {"alerts", "total"}), 1);
  EXPECT_EQ(Int(b, {"incidents", "total"}), 2);  // its AMBER and its own RED report
  const auto& sectors = b.Find("alerts")->Find("by_sector")->as_array();
  ASSERT_EQ(sectors.size(), 1u);
  EXPECT_EQ(sectors[0].Find("sector")->as_string(), "finance");

  // The duty officer counts every organisation's alerts but not B's RED report.
  JsonValue duty = Body(Get(Range(D0, D0 + 3 * DAY, "day"), duty_));
  EXPECT_EQ(Int(duty, {"alerts", "total"}), 3);
  EXPECT_EQ(Int(duty, {"incidents", "total"}), 2);
  EXPECT_EQ(duty.Find("incidents")->Find("by_organization")->as_array().size(), 2u);

  // Hour buckets name UTC hours.
  JsonValue hours = Body(Get(Range(D0, D0 + 3 * HOUR, "hour"), duty_));
  const auto& hourly = hours.Find("alerts")->Find("series")->as_array();
  ASSERT_EQ(hourly.size(), 3u);
  EXPECT_EQ(hourly[1].Find("t")->as_string(), "2027-01-15T01:00:00.000Z");
  EXPECT_EQ(hourly[1].Find("count")->as_int(), 2);
  EXPECT_EQ(hours.Find("bucket")->as_string(), "hour");
}

TEST_F(ApiStatsTest, DocumentsTheRouteWithSchemas) {
  const Route* found = nullptr;
  for (const auto& route : router_.routes()) {
    if (route.pattern == "/api/v1/stats/overview") found = &route;
  }
  ASSERT_NE(found, nullptr);
  EXPECT_EQ(found->doc.response_schema, "StatsOverview");
  EXPECT_EQ(found->doc.query, (std::vector<std::string>{"from", "to", "bucket"}));
  for (const char* name :
       {"StatsOverview", "StatsLevelCounts", "StatsOrganizationCounts", "StatsSectorCounts"}) {
    EXPECT_NE(context_->schemas.Find(name), nullptr) << name;
  }
}

}  // namespace
}  // namespace yagura::http

// The alert and campaign routes through the Router, without sockets: alerts stored as the
// detector stores them, then read, filtered, paged and triaged by principals of different
// organisations and roles with bearer tokens; promotion into an incident and the incident's
// list of alerts; validation naming the field; read auditing.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <set>

#include "core/metrics.hpp"
#include "core/time.hpp"
#include "http/api.hpp"
#include "http/router.hpp"
#include "hub/alerts.hpp"
#include "hub/audit_log.hpp"
#include "hub/crypto.hpp"
#include "hub/identity.hpp"
#include "hub/passwords.hpp"
#include "hub/schema.hpp"

namespace yagura::http {
namespace {

constexpr int64_t T0 = 1'800'000'000'000;  // 2027-01-15T08:00:00Z
constexpr int64_t MINUTE = 60'000;

class ApiAlertsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    hub::SetPasswordCost(hub::PasswordCost::Minimal());
    std::string pattern =
        (std::filesystem::temp_directory_path() / "yagura-api-alerts-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    auto opened = store::Database::Open((dir_ / "hub.db").string(), 4);
    ASSERT_TRUE(opened) << opened.error().ToString();
    db_ = std::move(*opened);
    ASSERT_TRUE(hub::MigrateSchema(*db_));
    audit_ = std::make_unique<hub::AuditLog>(*db_);
    context_ = std::make_unique<ApiContext>(ApiContext{*db_, *audit_, metrics_, {}});
    RegisterIncidentRoutes(router_, *context_);
    RegisterAlertRoutes(router_, *context_);

    auto boot = hub::BootstrapCentre(*db_, "duty", "duty officer password");
    ASSERT_TRUE(boot) << boot.error().message;
    centre_id_ = boot->org_id;
    hub::Principal admin;
    admin.user_id = boot->user_id;
    admin.username = "duty";
    admin.org_id = boot->org_id;
    admin.org_type = hub::OrgType::kCentre;
    admin.roles = {hub::Role::kCentreAdmin};
    admin.method = hub::AuthMethod::kInternal;
    admin.remote_address = "127.0.0.1";
    org_a_ = AddOrg(admin, "Ministry A");
    org_b_ = AddOrg(admin, "Ministry B");
    duty_ = TokenFor(admin, boot->user_id);
    analyst_id_ = AddUser(admin, centre_id_, "analyst", hub::Role::kCentreAnalyst);
    analyst_ = TokenFor(admin, analyst_id_);
    auditor_ = TokenFor(admin, AddUser(admin, centre_id_, "auditor", hub::Role::kAuditor));
    reporter_a_id_ = AddUser(admin, org_a_, "reporter.a", hub::Role::kOrgReporter);
    reporter_a_ = TokenFor(admin, reporter_a_id_);
    reporter_b_ = TokenFor(admin, AddUser(admin, org_b_, "reporter.b", hub::Role::kOrgReporter));
    read_only_a_ = TokenFor(admin, reporter_a_id_, {"read"});
  }

  void TearDown() override {
    audit_.reset();
    db_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::string AddOrg(const hub::Principal& admin, const std::string& name) {
    hub::NewOrganization org;
    org.name = name;
    org.type = hub::OrgType::kMinistry;
    auto created = hub::CreateOrganization(*db_, admin, org);
    EXPECT_TRUE(created) << created.error().message;
    return created ? created->id : "";
  }

  std::string AddUser(const hub::Principal& admin, const std::string& org_id,
                      const std::string& username, hub::Role role) {
    hub::NewUser user;
    user.username = username;
    user.email = username + "@example.go.jp";
    user.org_id = org_id;
    user.roles = {role};
    auto created = hub::CreateUser(*db_, admin, user);
    EXPECT_TRUE(created) << created.error().message;
    return created ? created->id : "";
  }

  std::string TokenFor(const hub::Principal& admin, const std::string& user_id,
                       std::vector<std::string> scopes = {"read", "write"}) {
    auto token = hub::CreateToken(*db_, admin, user_id, "tests", scopes, std::nullopt, NowMs());
    EXPECT_TRUE(token) << token.error().message;
    return token ? token->secret : "";
  }

  Response Call(std::string method, std::string target, const std::string& token,
                std::string body = {}) {
    Request request;
    request.method = std::move(method);
    request.target = target;
    EXPECT_TRUE(DecodeTarget(target, request));
    request.remote_address = "127.0.0.1";
    if (!body.empty()) {
      request.body = std::move(body);
      request.headers.Set("Content-Type", "application/json");
    }
    if (!token.empty()) request.headers.Set("Authorization", "Bearer " + token);
    return router_.Dispatch(request);
  }

  static JsonValue Body(const Response& response) {
    auto parsed = JsonValue::Parse(response.body);
    EXPECT_TRUE(parsed) << response.body;
    return parsed ? *parsed : JsonValue();
  }
  static std::string Text(const JsonValue& value, std::string_view key) {
    const JsonValue* member = value.Find(key);
    return member != nullptr && member->is_string() ? member->as_string() : std::string();
  }
  static std::string ErrorField(const Response& response) {
    JsonValue body = Body(response);
    const JsonValue* error = body.Find("error");
    return error ? Text(*error, "field") : std::string();
  }

  hub::DetectedAlert Alert(const std::string& org, const std::string& level, int64_t at,
                           std::vector<std::string> techniques = {}) {
    hub::DetectedAlert a;
    a.id = hub::NewId();
    a.kind = "rule";
    a.org_id = org;
    a.rule_id = "5af54681-df95-4c26-854f-2565e13cfab0";
    a.title = "SSH brute force";
    a.level = level;
    a.techniques = std::move(techniques);
    a.tags = {"attack.credential_access"};
    a.event_time_ms = at;
    a.detected_at_ms = at + 500;
    a.logsource = "product=linux,service=sshd";
    a.sensor_id = "sensor-7";
    a.spool_seq = 42;
    a.group_key = R"({"src_ip":"198.51.100.9"})";
    a.details_json = R"({"rule":{"id":"5af54681"},"event":{"src_ip":"198.51.100.9"}})";
    return a;
  }

  void Store(std::vector<hub::DetectedAlert> alerts,
             std::vector<hub::DetectedCampaign> campaigns = {}) {
    auto stored = hub::InsertDetections(*db_, alerts, campaigns, T0 + 3600 * 1000);
    ASSERT_TRUE(stored) << stored.error().ToString();
  }

  std::vector<std::string> ListedIds(const std::string& token, const std::string& query = {}) {
    std::vector<std::string> ids;
    std::string cursor;
    for (int guard = 0; guard < 100; ++guard) {
      std::string target = "/api/v1/alerts?limit=2" + query;
      if (!cursor.empty()) target += "&cursor=" + cursor;
      Response response = Call("GET", target, token);
      EXPECT_EQ(response.status, 200) << response.body;
      if (response.status != 200) break;
      JsonValue body = Body(response);
      for (const auto& item : body.Find("items")->as_array()) ids.push_back(Text(item, "id"));
      const JsonValue* next = body.Find("next_cursor");
      if (next == nullptr || next->is_null()) break;
      cursor = next->as_string();
    }
    return ids;
  }

  int64_t AuditCount(const std::string& action) {
    audit_->Flush();
    return db_->Acquire()
        ->Query("SELECT COUNT(*) FROM audit_log WHERE action = $1", {store::Param{action}})
        .rows.at(0)
        .at(0)
        .as_int();
  }

  std::filesystem::path dir_;
  std::unique_ptr<store::Database> db_;
  std::unique_ptr<hub::AuditLog> audit_;
  Metrics metrics_;
  std::unique_ptr<ApiContext> context_;
  Router router_;
  std::string centre_id_, org_a_, org_b_, analyst_id_, reporter_a_id_;
  std::string duty_, analyst_, auditor_, reporter_a_, reporter_b_, read_only_a_;
};

TEST_F(ApiAlertsTest, AnAlertReadsAsDocumentedAndOnlyByItsAudience) {
  hub::DetectedAlert a = Alert(org_a_, "high", T0, {"T1110.001"});
  Store({a});
  Response read = Call("GET", "/api/v1/alerts/" + a.id, reporter_a_);
  ASSERT_EQ(read.status, 200) << read.body;
  JsonValue json = Body(read);
  EXPECT_EQ(Text(json, "id"), a.id);
  EXPECT_EQ(Text(json, "kind"), "rule");
  EXPECT_EQ(Text(json, "org_id"), org_a_);
  EXPECT_EQ(Text(*json.Find("rule"), "level"), "high");
  EXPECT_EQ(Text(*json.Find("rule"), "title"), "SSH brute force");
  EXPECT_EQ(json.Find("techniques")->as_array().at(0).as_string(), "T1110.001");
  EXPECT_EQ(Text(json, "event_time"), "2027-01-15T08:00:00.000Z");
  EXPECT_EQ(Text(json, "detected_at"), "2027-01-15T08:00:00.500Z");
  EXPECT_EQ(Text(json, "created_at"), "2027-01-15T09:00:00.000Z");
  EXPECT_EQ(Text(*json.Find("group"), "src_ip"), "198.51.100.9");
  EXPECT_EQ(Text(*json.Find("details")->Find("event"), "src_ip"), "198.51.100.9");
  EXPECT_TRUE(json.Find("campaign_id")->is_null());
  EXPECT_EQ(Text(json, "status"), "new");
  EXPECT_EQ(Text(json, "tlp"), "amber");
  EXPECT_TRUE(json.Find("resolution")->is_null());
  EXPECT_EQ(AuditCount("alert.read"), 1);

  EXPECT_EQ(Call("GET", "/api/v1/alerts/" + a.id, reporter_b_).status, 404);
  EXPECT_EQ(Call("GET", "/api/v1/alerts/" + hub::NewId(), reporter_a_).status, 404);
  EXPECT_EQ(Call("GET", "/api/v1/alerts/" + a.id, auditor_).status, 200);
  EXPECT_EQ(Call("GET", "/api/v1/alerts/" + a.id, "").status, 401);
  EXPECT_TRUE(ListedIds(reporter_b_).empty());
  EXPECT_EQ(ListedIds(reporter_a_), std::vector<std::string>{a.id});
  EXPECT_EQ(AuditCount("alert.list"), 1);  // empty pages name nobody and are not logged
}

TEST_F(ApiAlertsTest, ListsFilterAndPage) {
  std::vector<hub::DetectedAlert> alerts;
  for (int i = 0; i < 7; ++i) {
    alerts.push_back(Alert(i % 2 == 0 ? org_a_ : org_b_, i < 3 ? "medium" : "critical",
                           T0 + i * MINUTE, {i == 0 ? "T1059.001" : "T1110"}));
  }
  Store(alerts);
  std::vector<std::string> all = ListedIds(analyst_);
  ASSERT_EQ(all.size(), 7u);
  EXPECT_EQ(all.front(), alerts.back().id);  // newest event first
  EXPECT_EQ(std::set<std::string>(all.begin(), all.end()).size(), 7u);
  EXPECT_EQ(ListedIds(analyst_, "&level=critical").size(), 4u);
  EXPECT_EQ(ListedIds(analyst_, "&level=high&org_id=" + org_a_).size(), 2u);
  EXPECT_EQ(ListedIds(analyst_, "&technique=t1059"), std::vector<std::string>{alerts[0].id});
  EXPECT_EQ(ListedIds(analyst_, "&since=2027-01-15T17:05:00%2B09:00").size(), 2u);
  EXPECT_EQ(ListedIds(analyst_, "&until=2027-01-15T08:01:00Z").size(), 1u);
  EXPECT_EQ(ListedIds(analyst_, "&status=new&kind=rule").size(), 7u);
  EXPECT_EQ(ListedIds(reporter_b_).size(), 3u);

  for (auto [query, field] :
       std::vector<std::pair<std::string, std::string>>{{"level=severe", "level"},
                                                        {"technique=1110", "technique"},
                                                        {"since=2027-01-15", "since"},
                                                        {"until=yesterday", "until"},
                                                        {"kind=rules", "kind"},
                                                        {"status=open", "status"},
                                                        {"org_id=a%20b", "org_id"},
                                                        {"cursor=garbage", "cursor"},
                                                        {"limit=0", "limit"}}) {
    Response refused = Call("GET", "/api/v1/alerts?" + query, analyst_);
    EXPECT_EQ(refused.status, 400) << query << " " << refused.body;
    EXPECT_EQ(ErrorField(refused), field) << query;
  }
}

TEST_F(ApiAlertsTest, TriageLifecycleThroughTheApi) {
  hub::DetectedAlert a = Alert(org_a_, "high", T0);
  Store({a});
  const std::string path = "/api/v1/alerts/" + a.id;

  EXPECT_EQ(Call("POST", path + "/acknowledge", auditor_).status, 403);
  EXPECT_EQ(Call("POST", path + "/acknowledge", reporter_b_).status, 404);
  EXPECT_EQ(Call("POST", path + "/acknowledge", read_only_a_).status, 403);
  EXPECT_EQ(Call("POST", path + "/acknowledge", reporter_a_, R"({"note":"x"})").status, 400);
  Response acked = Call("POST", path + "/acknowledge", reporter_a_, "{}");
  ASSERT_EQ(acked.status, 200) << acked.body;
  EXPECT_EQ(Text(Body(acked), "status"), "acknowledged");
  EXPECT_EQ(Text(Body(acked), "acknowledged_by"), reporter_a_id_);
  EXPECT_EQ(Call("POST", path + "/acknowledge", analyst_).status, 409);

  Response assigned = Call("POST", path + "/assign", analyst_,
                           fmt::format(R"({{"assignee_id":"{}"}})", analyst_id_));
  ASSERT_EQ(assigned.status, 200) << assigned.body;
  EXPECT_EQ(Text(Body(assigned), "assignee_id"), analyst_id_);
  Response wrong = Call("POST", path + "/assign", reporter_a_,
                        fmt::format(R"({{"assignee_id":"{}"}})", analyst_id_));
  EXPECT_EQ(wrong.status, 400);
  EXPECT_EQ(ErrorField(wrong), "assignee_id");
  EXPECT_EQ(ErrorField(Call("POST", path + "/assign", analyst_, "{}")), "assignee_id");
  Response cleared = Call("POST", path + "/assign", analyst_, R"({"assignee_id":null})");
  ASSERT_EQ(cleared.status, 200) << cleared.body;
  EXPECT_TRUE(Body(cleared).Find("assignee_id")->is_null());

  Response no_reason =
      Call("POST", path + "/close", analyst_, R"({"resolution":"false_positive"})");
  EXPECT_EQ(no_reason.status, 400);
  EXPECT_EQ(ErrorField(no_reason), "reason");
  EXPECT_EQ(ErrorField(Call("POST", path + "/close", analyst_, R"({"resolution":"fp"})")),
            "resolution");
  EXPECT_EQ(ErrorField(
                Call("POST", path + "/close", analyst_, R"({"resolution":"duplicate","extra":1})")),
            "extra");
  Response closed = Call("POST", path + "/close", analyst_,
                         R"({"resolution":"false_positive","reason":"nightly backup login"})");
  ASSERT_EQ(closed.status, 200) << closed.body;
  EXPECT_EQ(Text(Body(closed), "resolution"), "false_positive");
  EXPECT_EQ(Text(Body(closed), "reason"), "nightly backup login");
  EXPECT_EQ(Call("POST", path + "/promote", analyst_).status, 409);

  Response reopened = Call("POST", path + "/reopen", reporter_a_);
  ASSERT_EQ(reopened.status, 200) << reopened.body;
  EXPECT_EQ(Text(Body(reopened), "status"), "acknowledged");
  EXPECT_EQ(Call("POST", path + "/reopen", reporter_a_).status, 409);

  EXPECT_EQ(AuditCount("alert.acknowledge"), 1);
  EXPECT_EQ(AuditCount("alert.assign"), 2);
  EXPECT_EQ(AuditCount("alert.close"), 1);
  EXPECT_EQ(AuditCount("alert.reopen"), 1);
}

TEST_F(ApiAlertsTest, PromotionAndAttachmentLinkIncidents) {
  hub::DetectedAlert a = Alert(org_a_, "critical", T0, {"T1566.001"});
  hub::DetectedAlert a2 = Alert(org_a_, "high", T0 + MINUTE);
  hub::DetectedAlert b = Alert(org_b_, "high", T0 + MINUTE);
  Store({a, a2, b});

  Response bad =
      Call("POST", "/api/v1/alerts/" + a.id + "/promote", analyst_, R"({"category":"weather"})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(ErrorField(bad), "category");
  Response promoted = Call("POST", "/api/v1/alerts/" + a.id + "/promote", analyst_,
                           R"({"summary":"Spear-phishing mail with a macro document"})");
  ASSERT_EQ(promoted.status, 201) << promoted.body;
  JsonValue incident = Body(promoted);
  std::string incident_id = Text(incident, "id");
  EXPECT_EQ(promoted.headers.Get("location").value_or(""), "/api/v1/incidents/" + incident_id);
  EXPECT_EQ(Text(incident, "owner_org_id"), org_a_);
  EXPECT_EQ(Text(incident, "category"), "phishing");
  EXPECT_EQ(Text(incident, "tlp"), "amber");
  EXPECT_EQ(Text(incident, "description"), "Spear-phishing mail with a macro document");
  ASSERT_EQ(incident.Find("alerts")->as_array().size(), 1u);
  EXPECT_EQ(Text(incident.Find("alerts")->as_array()[0], "id"), a.id);

  JsonValue alert = Body(Call("GET", "/api/v1/alerts/" + a.id, reporter_a_));
  EXPECT_EQ(Text(alert, "status"), "promoted");
  EXPECT_EQ(Text(alert, "incident_id"), incident_id);

  Response attached = Call("POST", "/api/v1/alerts/" + a2.id + "/attach", reporter_a_,
                           fmt::format(R"({{"incident_id":"{}"}})", incident_id));
  ASSERT_EQ(attached.status, 200) << attached.body;
  EXPECT_EQ(Text(Body(attached), "incident_id"), incident_id);
  Response hidden = Call("POST", "/api/v1/alerts/" + b.id + "/attach", reporter_b_,
                         fmt::format(R"({{"incident_id":"{}"}})", incident_id));
  EXPECT_EQ(hidden.status, 400);
  EXPECT_EQ(ErrorField(hidden), "incident_id");
  ASSERT_EQ(Call("POST", "/api/v1/alerts/" + b.id + "/attach", duty_,
                 fmt::format(R"({{"incident_id":"{}"}})", incident_id))
                .status,
            200);

  // The incident lists its alerts, each reader seeing only those it may read.
  JsonValue for_a = Body(Call("GET", "/api/v1/incidents/" + incident_id, reporter_a_));
  EXPECT_EQ(for_a.Find("alerts")->as_array().size(), 2u);
  JsonValue for_duty = Body(Call("GET", "/api/v1/incidents/" + incident_id, duty_));
  EXPECT_EQ(for_duty.Find("alerts")->as_array().size(), 3u);
  EXPECT_EQ(ListedIds(analyst_, "&incident_id=" + incident_id).size(), 3u);
  EXPECT_EQ(AuditCount("alert.promote"), 1);
  EXPECT_EQ(AuditCount("alert.attach"), 2);
}

TEST_F(ApiAlertsTest, CampaignsAreForTheCentreOnly) {
  hub::DetectedAlert a = Alert(org_a_, "high", T0);
  hub::DetectedAlert b = Alert(org_b_, "high", T0 + MINUTE);
  hub::DetectedCampaign campaign;
  campaign.id = hub::NewId();
  campaign.key_kind = "rule";
  campaign.key_id = a.rule_id;
  campaign.key_value = "198.51.100.9";
  campaign.title = "SSH brute force from 198.51.100.9 at 2 organisations";
  campaign.first_time_ms = T0;
  campaign.last_time_ms = T0 + MINUTE;
  campaign.members = {{org_a_, a.id, T0}, {org_b_, b.id, T0 + MINUTE}};
  hub::DetectedAlert raised = Alert(centre_id_, "critical", T0 + MINUTE);
  raised.kind = "campaign";
  raised.campaign_id = campaign.id;
  raised.group_key = "198.51.100.9";
  Store({a, b, raised}, {campaign});

  Response read = Call("GET", "/api/v1/campaigns/" + campaign.id, analyst_);
  ASSERT_EQ(read.status, 200) << read.body;
  JsonValue json = Body(read);
  EXPECT_EQ(json.Find("org_count")->as_int(), 2);
  EXPECT_EQ(Text(*json.Find("key"), "value"), "198.51.100.9");
  EXPECT_EQ(json.Find("members")->as_array().size(), 2u);
  EXPECT_EQ(json.Find("alert_ids")->as_array().at(0).as_string(), raised.id);
  EXPECT_EQ(Body(Call("GET", "/api/v1/campaigns", duty_)).Find("items")->as_array().size(), 1u);
  EXPECT_EQ(Text(Body(Call("GET", "/api/v1/alerts/" + raised.id, analyst_)), "group"),
            "198.51.100.9");

  // Organisation A sees that its alert belongs to a campaign, and nothing of the campaign.
  EXPECT_EQ(Text(Body(Call("GET", "/api/v1/alerts/" + a.id, reporter_a_)), "campaign_id"),
            campaign.id);
  EXPECT_EQ(Call("GET", "/api/v1/campaigns/" + campaign.id, reporter_a_).status, 404);
  EXPECT_EQ(Call("GET", "/api/v1/alerts/" + raised.id, reporter_a_).status, 404);
  EXPECT_TRUE(
      Body(Call("GET", "/api/v1/campaigns", reporter_a_)).Find("items")->as_array().empty());
  EXPECT_EQ(ListedIds(reporter_a_, "&campaign_id=" + campaign.id), std::vector<std::string>{a.id});
  EXPECT_EQ(AuditCount("campaign.read"), 1);
}

}  // namespace
}  // namespace yagura::http

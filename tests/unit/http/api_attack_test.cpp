// The ATT&CK routes through the Router, without sockets, on SQLite and (through
// scripts/with-postgres) on PostgreSQL: the catalogue's lists, paging and single reads; the
// heatmap with two organisations, each counting only its own alerts while the centre counts
// both, and its audit entry; coverage over a small rules directory, re-read when a rule
// changes; and alerts and incidents answering with their techniques resolved.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/metrics.hpp"
#include "core/time.hpp"
#include "http/api.hpp"
#include "http/router.hpp"
#include "hub/alerts.hpp"
#include "hub/attack.hpp"
#include "hub/audit_log.hpp"
#include "hub/crypto.hpp"
#include "hub/identity.hpp"
#include "hub/passwords.hpp"
#include "unit/hub/attack_test_bundle.hpp"
#include "unit/hub/hub_test_database.hpp"

namespace yagura::http {
namespace {

using hub::testing::Backend;

constexpr int64_t T0 = 1'800'000'000'000;  // 2027-01-15T08:00:00Z

constexpr std::string_view REPORT = R"({
  "title": "Password spraying against the VPN",
  "description": "Many failed logins from one address",
  "category": "unauthorized_access",
  "functional_impact": "no_impact_to_services",
  "information_impact": "suspected_but_not_identified",
  "recoverability": "regular",
  "location": "U",
  "detected_at": "2027-01-15T09:30:00+09:00",
  "point_of_contact": {"name": "Sato Hanako", "email": "sato@a.example.go.jp"})";

class ApiAttackTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    hub::SetPasswordCost(hub::PasswordCost::Minimal());
    std::string reason;
    if (!db_.Open(GetParam(), reason)) GTEST_SKIP() << reason;
    rules_dir_ = std::filesystem::temp_directory_path() / ("yagura-attack-rules-" + hub::NewId());
    std::filesystem::create_directories(rules_dir_ / "linux");
    WriteRule("linux/ssh_guessing.yml", R"(title: SSH password guessing
id: 11111111-1111-4111-8111-111111111111
tags:
  - attack.credential_access
  - attack.t1110.001
logsource: {product: linux, service: sshd}
detection:
  selection: {message|contains: 'Failed password'}
  condition: selection
---
title: A filter, not a rule
filter:
  rules: [11111111-1111-4111-8111-111111111111]
  selection: {user: backup}
  condition: not selection
)");
    WriteRule("old.yaml", R"(title: Old tags
id: 22222222-2222-4222-8222-222222222222
tags: [attack.t1000, attack.t9999]
logsource: {product: linux}
detection:
  selection: {message: x}
  condition: selection
)");
    WriteRule("broken.yml", "title: [unclosed\n");

    audit_ = std::make_unique<hub::AuditLog>(*db_);
    ServiceSettings settings;
    settings.rule_paths = {rules_dir_.string()};
    // Live detection's tuning: a list of rules left out, empty at first.
    excluded_list_ = rules_dir_.string() + "-exclude_rules.txt";
    std::ofstream(excluded_list_) << "# rules left out\n";
    settings.excluded_rule_list_files = {excluded_list_.string()};
    context_ = std::make_unique<ApiContext>(ApiContext{*db_, *audit_, metrics_, settings});
    RegisterIncidentRoutes(router_, *context_);
    RegisterAlertRoutes(router_, *context_);
    RegisterAttackRoutes(router_, *context_);

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
    org_a_ = AddOrg(admin, "Ministry A", hub::OrgType::kMinistry, "");
    org_b_ = AddOrg(admin, "Power Company B", hub::OrgType::kCriticalInfrastructure,
                    "electric_power");
    duty_ = TokenFor(admin, boot->user_id);
    reporter_a_ = TokenFor(admin, AddUser(admin, org_a_, "reporter.a", hub::Role::kOrgReporter));
    reporter_b_ = TokenFor(admin, AddUser(admin, org_b_, "reporter.b", hub::Role::kOrgReporter));
  }

  void TearDown() override {
    audit_.reset();
    if (!rules_dir_.empty()) std::filesystem::remove_all(rules_dir_);
    if (!excluded_list_.empty()) std::filesystem::remove(excluded_list_);
  }

  void WriteRule(const std::string& name, const std::string& text) {
    std::ofstream(rules_dir_ / name, std::ios::binary | std::ios::trunc) << text;
  }

  // Two alerts of organisation A on T1110.001, one of B on T1110.001 and T1078.
  void InsertHeatmapAlerts() {
    ASSERT_TRUE(hub::InsertDetections(*db_,
                                      std::vector<hub::DetectedAlert>{
                                          Alert(org_a_, {"T1110.001"}),
                                          Alert(org_a_, {"T1110.001"}),
                                          Alert(org_b_, {"T1110.001", "T1078"}),
                                      },
                                      {}, T0));
  }

  void ImportSmallBundle() {
    auto report = hub::ImportAttackBundle(*db_, hub::testing::SmallAttackBundle(), T0);
    ASSERT_TRUE(report) << report.error().ToString();
  }

  std::string AddOrg(const hub::Principal& admin, const std::string& name, hub::OrgType type,
                     const std::string& sector) {
    hub::NewOrganization org;
    org.name = name;
    org.type = type;
    if (!sector.empty()) org.sector = sector;
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

  std::string TokenFor(const hub::Principal& admin, const std::string& user_id) {
    auto token =
        hub::CreateToken(*db_, admin, user_id, "tests", {"read", "write"}, std::nullopt, NowMs());
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

  JsonValue Get(const std::string& target, const std::string& token) {
    Response response = Call("GET", target, token);
    EXPECT_EQ(response.status, 200) << target << ": " << response.body;
    auto parsed = JsonValue::Parse(response.body);
    EXPECT_TRUE(parsed) << response.body;
    return parsed ? *parsed : JsonValue();
  }

  static std::string Text(const JsonValue& value, std::string_view key) {
    const JsonValue* member = value.Find(key);
    return member != nullptr && member->is_string() ? member->as_string() : std::string();
  }
  static std::string ErrorField(const Response& response) {
    auto body = JsonValue::Parse(response.body);
    const JsonValue* error = body ? body->Find("error") : nullptr;
    return error ? Text(*error, "field") : std::string();
  }
  static std::vector<std::string> Ids(const JsonValue& array, std::string_view key = "id") {
    std::vector<std::string> ids;
    for (const auto& item : array.as_array()) ids.push_back(Text(item, key));
    return ids;
  }

  // Each query (appended to `path`) is refused with 400, naming its field.
  void ExpectRefused(const std::string& path,
                     const std::vector<std::pair<std::string, std::string>>& queries,
                     const std::string& token) {
    for (const auto& [query, field] : queries) {
      Response refused = Call("GET", path + "?" + query, token);
      EXPECT_EQ(refused.status, 400) << query << " " << refused.body;
      EXPECT_EQ(ErrorField(refused), field) << query;
    }
  }

  int64_t AuditCount(const std::string& action) {
    audit_->Flush();
    return db_->Acquire()
        ->Query("SELECT COUNT(*) FROM audit_log WHERE action = $1", {store::Param{action}})
        .rows.at(0)
        .at(0)
        .as_int();
  }

  hub::DetectedAlert Alert(const std::string& org, std::vector<std::string> techniques,
                           int64_t at = T0) {
    hub::DetectedAlert a;
    a.id = hub::NewId();
    a.kind = "rule";
    a.org_id = org;
    a.rule_id = "11111111-1111-4111-8111-111111111111";
    a.title = "SSH password guessing";
    a.level = "high";
    a.techniques = std::move(techniques);
    a.event_time_ms = at;
    a.detected_at_ms = at + 500;
    a.logsource = "product=linux,service=sshd";
    a.sensor_id = "sensor-7";
    a.details_json = "{}";
    return a;
  }

  hub::testing::TestDatabase db_;
  std::filesystem::path rules_dir_;
  std::filesystem::path excluded_list_;
  std::unique_ptr<hub::AuditLog> audit_;
  Metrics metrics_;
  std::unique_ptr<ApiContext> context_;
  Router router_;
  std::string centre_id_, org_a_, org_b_;
  std::string duty_, reporter_a_, reporter_b_;
};

TEST_P(ApiAttackTest, CatalogueRoutesListPageAndRead) {
  EXPECT_TRUE(Get("/api/v1/attack/techniques", reporter_a_).Find("items")->as_array().empty());
  ImportSmallBundle();
  JsonValue catalogue = Get("/api/v1/attack", reporter_a_);
  ASSERT_EQ(catalogue.Find("items")->as_array().size(), 1u);
  const JsonValue& domain = catalogue.Find("items")->as_array()[0];
  EXPECT_EQ(Text(domain, "domain"), "enterprise-attack");
  EXPECT_EQ(Text(domain, "version"), "99.1");
  EXPECT_EQ(domain.Find("counts")->Find("technique")->as_int(), 4);

  // Pages of two over the three current techniques, by id.
  JsonValue first = Get("/api/v1/attack/techniques?limit=2", reporter_a_);
  EXPECT_EQ(Ids(*first.Find("items")), (std::vector<std::string>{"T1078", "T1110"}));
  ASSERT_TRUE(first.Find("next_cursor")->is_string());
  JsonValue second = Get(
      "/api/v1/attack/techniques?limit=2&cursor=" + first.Find("next_cursor")->as_string(),
      reporter_a_);
  EXPECT_EQ(Ids(*second.Find("items")), (std::vector<std::string>{"T1110.001"}));
  EXPECT_TRUE(second.Find("next_cursor")->is_null());
  const JsonValue& brute = first.Find("items")->as_array()[1];
  EXPECT_EQ(Text(brute, "name"), "Brute Force");
  EXPECT_EQ(Text(brute.Find("tactics")->as_array()[0], "shortname"), "credential-access");
  EXPECT_EQ(Text(brute, "created_at"), "2017-05-31T21:31:22.767Z");
  EXPECT_EQ(brute.Find("description"), nullptr);

  EXPECT_EQ(Ids(*Get("/api/v1/attack/techniques?tactic=TA0006&include_subtechniques=false",
                     reporter_a_)
                     .Find("items")),
            std::vector<std::string>{"T1110"});
  EXPECT_EQ(Ids(*Get("/api/v1/attack/techniques?q=guess", reporter_a_).Find("items")),
            std::vector<std::string>{"T1110.001"});
  JsonValue old = Get("/api/v1/attack/techniques?include_deprecated=true&q=T1000", reporter_a_);
  ASSERT_EQ(old.Find("items")->as_array().size(), 1u);
  EXPECT_TRUE(old.Find("items")->as_array()[0].Find("revoked")->as_bool());
  EXPECT_EQ(Text(old.Find("items")->as_array()[0], "revoked_by"), "T1110");

  JsonValue technique = Get("/api/v1/attack/techniques/T1110", reporter_b_);
  EXPECT_EQ(Text(technique, "name"), "Brute Force");
  EXPECT_FALSE(Text(technique, "description").empty());
  EXPECT_EQ(Ids(*technique.Find("subtechniques")), std::vector<std::string>{"T1110.001"});
  EXPECT_EQ(Ids(*technique.Find("groups")), std::vector<std::string>{"G0001"});
  EXPECT_EQ(Ids(*technique.Find("mitigations")), std::vector<std::string>{"M1032"});
  JsonValue sub = Get("/api/v1/attack/techniques/t1110.001", reporter_b_);
  EXPECT_EQ(Text(*sub.Find("parent"), "id"), "T1110");
  EXPECT_EQ(Text(sub.Find("software")->as_array()[0], "software_type"), "malware");

  JsonValue tactics = Get("/api/v1/attack/tactics?domain=enterprise-attack", reporter_a_);
  EXPECT_EQ(Ids(*tactics.Find("items")), (std::vector<std::string>{"TA0001", "TA0006"}));
  EXPECT_EQ(tactics.Find("items")->as_array()[1].Find("technique_count")->as_int(), 2);
  JsonValue groups = Get("/api/v1/attack/groups?q=panda", reporter_a_);
  EXPECT_EQ(Ids(*groups.Find("items")), std::vector<std::string>{"G0001"});
  JsonValue group = Get("/api/v1/attack/groups/G0001", reporter_a_);
  EXPECT_EQ(Ids(*group.Find("techniques")), std::vector<std::string>{"T1110"});
  EXPECT_EQ(Ids(*group.Find("software")), std::vector<std::string>{"S0001"});
  EXPECT_EQ(Ids(*group.Find("campaigns")), std::vector<std::string>{"C0001"});

  EXPECT_EQ(Call("GET", "/api/v1/attack/techniques/T4242", reporter_a_).status, 404);
  EXPECT_EQ(Call("GET", "/api/v1/attack/techniques/M1032", reporter_a_).status, 404);
  EXPECT_EQ(Call("GET", "/api/v1/attack/groups/G4242", reporter_a_).status, 404);
  EXPECT_EQ(Call("GET", "/api/v1/attack/techniques", "").status, 401);
  ExpectRefused("/api/v1/attack/techniques",
                {{"cursor=zz", "cursor"},
                 {"cursor=54313131300a", "cursor"},  // one part where two are expected
                 {"include_subtechniques=yes", "include_subtechniques"},
                 {"domain=Enterprise%20ATT%26CK", "domain"},
                 {"tactic=credential%20access", "tactic"},
                 {"q=%FF%FE", "q"},
                 {"limit=500", "limit"}},
                reporter_a_);
  // Public reference data: nothing of it is audited.
  EXPECT_EQ(AuditCount("attack.read"), 0);
  EXPECT_EQ(AuditCount("attack.heatmap"), 0);
}

TEST_P(ApiAttackTest, HeatmapCountsEachOrganisationsOwnAlertsOnly) {
  ImportSmallBundle();
  InsertHeatmapAlerts();
  auto cells = [](const JsonValue& heatmap) {
    std::map<std::pair<std::string, std::string>, int64_t> out;
    for (const auto& cell : heatmap.Find("cells")->as_array()) {
      out[{Text(cell, "technique"), Text(cell, "bucket")}] = cell.Find("count")->as_int();
    }
    return out;
  };
  using Cells = std::map<std::pair<std::string, std::string>, int64_t>;
  JsonValue a = Get("/api/v1/attack/heatmap", reporter_a_);
  EXPECT_EQ(cells(a), (Cells{{{"T1110.001", org_a_}, 2}}));
  EXPECT_EQ(Text(a.Find("buckets")->as_array()[0], "label"), "Ministry A");
  EXPECT_EQ(Text(a.Find("techniques")->as_array()[0], "name"), "Password Guessing");
  JsonValue b = Get("/api/v1/attack/heatmap?source=alerts", reporter_b_);
  EXPECT_EQ(cells(b), (Cells{{{"T1078", org_b_}, 1}, {{"T1110.001", org_b_}, 1}}));
  JsonValue centre = Get("/api/v1/attack/heatmap", duty_);
  EXPECT_EQ(cells(centre), (Cells{{{"T1078", org_b_}, 1},
                                  {{"T1110.001", org_a_}, 2},
                                  {{"T1110.001", org_b_}, 1}}));
  JsonValue sectors = Get("/api/v1/attack/heatmap?dimension=sector&rollup=true", duty_);
  EXPECT_EQ(cells(sectors), (Cells{{{"T1078", "electric_power"}, 1},
                                   {{"T1110", "electric_power"}, 1},
                                   {{"T1110", "ministry"}, 2}}));
  JsonValue months = Get(
      "/api/v1/attack/heatmap?dimension=month&since=2027-01-01T00:00:00Z&until=2027-02-01T00:00:00%2B09:00",
      reporter_a_);
  EXPECT_EQ(cells(months), (Cells{{{"T1110.001", "2027-01"}, 2}}));
  EXPECT_EQ(Text(months, "since"), "2027-01-01T00:00:00.000Z");
  EXPECT_TRUE(Get("/api/v1/attack/heatmap?source=incidents", reporter_a_)
                  .Find("cells")
                  ->as_array()
                  .empty());
  // One organisation's, one sector's: narrowed within what the caller may read.
  JsonValue of_a = Get("/api/v1/attack/heatmap?org_id=" + org_a_, duty_);
  EXPECT_EQ(cells(of_a), (Cells{{{"T1110.001", org_a_}, 2}}));
  EXPECT_EQ(Text(of_a, "org_id"), org_a_);
  JsonValue power = Get("/api/v1/attack/heatmap?sector=electric_power&dimension=sector", duty_);
  EXPECT_EQ(cells(power),
            (Cells{{{"T1078", "electric_power"}, 1}, {{"T1110.001", "electric_power"}, 1}}));
  EXPECT_TRUE(Get("/api/v1/attack/heatmap?org_id=" + org_a_, reporter_b_)
                  .Find("cells")
                  ->as_array()
                  .empty());
  // One audit entry per heatmap that counted AMBER data; none for an empty one.
  EXPECT_EQ(AuditCount("attack.heatmap"), 7);

  ExpectRefused("/api/v1/attack/heatmap",
                {{"dimension=country", "dimension"},
                 {"source=logs", "source"},
                 {"since=2027-01-01", "since"},
                 {"since=2027-02-01T00:00:00Z&until=2027-01-01T00:00:00Z", "until"},
                 {"rollup=1", "rollup"},
                 {"org_id=a%20b", "org_id"},
                 {"sector=Electric%20Power", "sector"}},
                reporter_a_);
}

// A layer's techniques by id: {score or -1 when unscored, comment}.
std::map<std::string, std::pair<int64_t, std::string>> LayerTechniques(const JsonValue& layer) {
  std::map<std::string, std::pair<int64_t, std::string>> out;
  for (const auto& item : layer.Find("techniques")->as_array()) {
    const JsonValue* score = item.Find("score");
    const JsonValue* comment = item.Find("comment");
    out[item.Find("techniqueID")->as_string()] = {
        score != nullptr ? score->as_int() : -1,
        comment != nullptr ? comment->as_string() : std::string()};
  }
  return out;
}

std::string LayerMetadata(const JsonValue& item, std::string_view name) {
  const JsonValue* metadata = item.Find("metadata");
  if (metadata == nullptr) return {};
  for (const auto& entry : metadata->as_array())
    if (entry.Find("name")->as_string() == name) return entry.Find("value")->as_string();
  return {};
}

TEST_P(ApiAttackTest, HeatmapLayerIsANavigatorLayerOfWhatTheReaderMayRead) {
  ImportSmallBundle();
  InsertHeatmapAlerts();
  using Techniques = std::map<std::string, std::pair<int64_t, std::string>>;
  Response response = Call("GET", "/api/v1/attack/heatmap/layer", reporter_a_);
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(response.headers.Get("content-disposition").value_or(""),
            "attachment; filename=\"yagura-enterprise-attack-layer.json\"");
  JsonValue a = *JsonValue::Parse(response.body);
  EXPECT_EQ(Text(a, "domain"), "enterprise-attack");
  EXPECT_EQ(Text(*a.Find("versions"), "layer"), "4.5");
  EXPECT_EQ(Text(*a.Find("versions"), "attack"), "99");  // the imported release, 99.1
  // The parent of a scored sub-technique is there, unscored and opened.
  EXPECT_EQ(LayerTechniques(a),
            (Techniques{{"T1110", {-1, ""}},
                        {"T1110.001", {2, "Password Guessing: 2 alerts, 0 incidents"}}}));
  EXPECT_TRUE(a.Find("techniques")->as_array()[0].Find("showSubtechniques")->as_bool());
  EXPECT_EQ(LayerMetadata(a.Find("techniques")->as_array()[1], "Ministry A"), "2");
  EXPECT_EQ(a.Find("gradient")->Find("maxValue")->as_int(), 2);

  JsonValue centre = Get("/api/v1/attack/heatmap/layer?source=alerts&dimension=sector", duty_);
  EXPECT_EQ(LayerTechniques(centre),
            (Techniques{{"T1078", {1, "Valid Accounts: 1 alerts, 0 incidents"}},
                        {"T1110", {-1, ""}},
                        {"T1110.001", {3, "Password Guessing: 3 alerts, 0 incidents"}}}));
  EXPECT_EQ(LayerMetadata(centre.Find("techniques")->as_array()[2], "ministry"), "2");
  JsonValue ministry = Get("/api/v1/attack/heatmap/layer?org_id=" + org_a_, duty_);
  EXPECT_EQ(LayerTechniques(ministry),
            (Techniques{{"T1110", {-1, ""}},
                        {"T1110.001", {2, "Password Guessing: 2 alerts, 0 incidents"}}}));
  EXPECT_EQ(LayerMetadata(ministry, "organisation"), org_a_);
  JsonValue rolled = Get("/api/v1/attack/heatmap/layer?rollup=true", duty_);
  EXPECT_EQ(LayerTechniques(rolled).at("T1110").first, 3);
  // Another domain's layer holds none of these techniques.
  EXPECT_TRUE(Get("/api/v1/attack/heatmap/layer?domain=ics-attack", duty_)
                  .Find("techniques")
                  ->as_array()
                  .empty());
  // Each layer that counted AMBER alerts is a read of them, audited as the heatmap is.
  EXPECT_EQ(AuditCount("attack.heatmap"), 5);
  ExpectRefused("/api/v1/attack/heatmap/layer",
                {{"dimension=country", "dimension"},
                 {"domain=Enterprise%20ATT%26CK", "domain"},
                 {"since=2027-02-01T00:00:00Z&until=2027-01-01T00:00:00Z", "until"}},
                reporter_a_);
  EXPECT_EQ(Call("GET", "/api/v1/attack/heatmap/layer", "").status, 401);
}

TEST_P(ApiAttackTest, CoverageLayerScoresTechniquesByTheRulesThatNameThem) {
  ImportSmallBundle();
  JsonValue layer = Get("/api/v1/attack/coverage/layer", reporter_a_);
  EXPECT_EQ(Text(layer, "domain"), "enterprise-attack");
  auto techniques = LayerTechniques(layer);
  ASSERT_TRUE(techniques.contains("T1110.001"));
  EXPECT_EQ(techniques.at("T1110.001").first, 1);
  EXPECT_EQ(techniques.at("T1110").first, -1);  // opened for its sub-technique
  EXPECT_FALSE(techniques.contains("T1078"));   // no rule names it: a gap
}

TEST_P(ApiAttackTest, CoverageReportsRulesGapsAndStaleTagsAndFollowsRuleChanges) {
  ImportSmallBundle();
  JsonValue coverage = Get("/api/v1/attack/coverage?domain=enterprise-attack", reporter_a_);
  const JsonValue& summary = *coverage.Find("summary");
  EXPECT_EQ(summary.Find("rule_files")->as_int(), 3);
  EXPECT_EQ(summary.Find("rules")->as_int(), 2);  // the filter is not a rule
  EXPECT_EQ(summary.Find("rules_with_techniques")->as_int(), 2);
  EXPECT_EQ(summary.Find("techniques")->as_int(), 3);
  EXPECT_EQ(summary.Find("covered")->as_int(), 2);
  EXPECT_EQ(summary.Find("problems")->as_array().size(), 1u);  // broken.yml
  std::vector<std::string> gaps;
  for (const auto& gap : coverage.Find("gaps")->as_array()) gaps.push_back(gap.as_string());
  EXPECT_EQ(gaps, std::vector<std::string>{"T1078"});
  for (const auto& item : coverage.Find("techniques")->as_array()) {
    if (Text(item, "id") == "T1110.001") {
      EXPECT_EQ(item.Find("rule_count")->as_int(), 1);
      EXPECT_EQ(Text(item.Find("rules")->as_array()[0], "id"),
                "11111111-1111-4111-8111-111111111111");
    }
    if (Text(item, "id") == "T1110") {
      EXPECT_EQ(item.Find("rule_count")->as_int(), 0);
      EXPECT_EQ(item.Find("subtechnique_rule_count")->as_int(), 1);
      EXPECT_TRUE(item.Find("covered")->as_bool());
    }
  }
  EXPECT_EQ(Ids(*coverage.Find("stale")), (std::vector<std::string>{"T1000", "T9999"}));
  const JsonValue& credential = coverage.Find("tactics")->as_array()[1];
  EXPECT_EQ(Text(credential, "id"), "TA0006");
  EXPECT_EQ(credential.Find("covered")->as_int(), 2);
  EXPECT_DOUBLE_EQ(credential.Find("ratio")->as_double(), 1.0);

  // A new rule shows in the next report.
  WriteRule("linux/valid_accounts.yml", R"(title: Login from a new country
id: 33333333-3333-4333-8333-333333333333
tags: [attack.initial_access, attack.t1078]
logsource: {product: linux}
detection:
  selection: {message: y}
  condition: selection
)");
  JsonValue again = Get("/api/v1/attack/coverage", reporter_a_);
  EXPECT_TRUE(again.Find("gaps")->as_array().empty());
  EXPECT_EQ(again.Find("summary")->Find("rules")->as_int(), 3);

  // A rule that live detection leaves out covers nothing: the list is read again on change.
  std::ofstream(excluded_list_) << "33333333-3333-4333-8333-333333333333 # noisy\n";
  JsonValue tuned = Get("/api/v1/attack/coverage", reporter_a_);
  EXPECT_EQ(tuned.Find("summary")->Find("rules")->as_int(), 2);
  gaps.clear();
  for (const auto& gap : tuned.Find("gaps")->as_array()) gaps.push_back(gap.as_string());
  EXPECT_EQ(gaps, std::vector<std::string>{"T1078"});
}

TEST_P(ApiAttackTest, AlertsAndIncidentsAnswerWithTheirTechniquesResolved) {
  ImportSmallBundle();
  hub::DetectedAlert alert = Alert(org_a_, {"T1110.001", "T9999"});
  ASSERT_TRUE(hub::InsertDetections(*db_, std::vector<hub::DetectedAlert>{alert}, {}, T0));
  JsonValue read = Get("/api/v1/alerts/" + alert.id, reporter_a_);
  const JsonValue& resolved = *read.Find("techniques_resolved");
  ASSERT_EQ(resolved.as_array().size(), 2u);
  EXPECT_EQ(Text(resolved.as_array()[0], "name"), "Password Guessing");
  EXPECT_EQ(Text(resolved.as_array()[0].Find("tactics")->as_array()[0], "id"), "TA0006");
  EXPECT_FALSE(resolved.as_array()[1].Find("known")->as_bool());
  EXPECT_TRUE(resolved.as_array()[1].Find("name")->is_null());
  JsonValue list = Get("/api/v1/alerts", reporter_a_);
  EXPECT_EQ(Text(list.Find("items")->as_array()[0].Find("techniques_resolved")->as_array()[0],
                 "name"),
            "Password Guessing");
  Response acknowledged = Call("POST", "/api/v1/alerts/" + alert.id + "/acknowledge", reporter_a_);
  ASSERT_EQ(acknowledged.status, 200) << acknowledged.body;
  EXPECT_NE(acknowledged.body.find("Password Guessing"), std::string::npos);
  // Promotion carries the techniques the catalogue knows into the incident.
  Response promoted = Call("POST", "/api/v1/alerts/" + alert.id + "/promote", reporter_a_);
  ASSERT_EQ(promoted.status, 201) << promoted.body;
  EXPECT_EQ(Ids(*JsonValue::Parse(promoted.body)->Find("techniques_resolved")),
            std::vector<std::string>{"T1110.001"});

  std::string report(REPORT);
  Response created =
      Call("POST", "/api/v1/incidents", reporter_a_, report + R"(,"techniques":["t1110","T1078"]})");
  ASSERT_EQ(created.status, 201) << created.body;
  JsonValue incident = *JsonValue::Parse(created.body);
  std::vector<std::string> techniques;
  for (const auto& t : incident.Find("techniques")->as_array()) techniques.push_back(t.as_string());
  EXPECT_EQ(techniques, (std::vector<std::string>{"T1078", "T1110"}));
  EXPECT_EQ(Ids(*incident.Find("techniques_resolved")),
            (std::vector<std::string>{"T1078", "T1110"}));
  EXPECT_EQ(Text(incident.Find("techniques_resolved")->as_array()[1], "name"), "Brute Force");
  std::string id = Text(incident, "id");
  JsonValue stored = Get("/api/v1/incidents/" + id, reporter_a_);
  EXPECT_EQ(Text(stored.Find("techniques_resolved")->as_array()[0], "name"), "Valid Accounts");

  Response patched =
      Call("PATCH", "/api/v1/incidents/" + id, reporter_a_, R"({"techniques":["T1110.001"]})");
  ASSERT_EQ(patched.status, 200) << patched.body;
  EXPECT_EQ(Ids(*JsonValue::Parse(patched.body)->Find("techniques_resolved")),
            std::vector<std::string>{"T1110.001"});

  Response unknown =
      Call("POST", "/api/v1/incidents", reporter_a_, report + R"(,"techniques":["T9999"]})");
  EXPECT_EQ(unknown.status, 400) << unknown.body;
  EXPECT_EQ(ErrorField(unknown), "techniques[0]");
  Response malformed =
      Call("POST", "/api/v1/incidents", reporter_a_, report + R"(,"techniques":["brute"]})");
  EXPECT_EQ(malformed.status, 400) << malformed.body;
  EXPECT_EQ(ErrorField(malformed), "techniques[0]");
  Response wrong_type =
      Call("POST", "/api/v1/incidents", reporter_a_, report + R"(,"techniques":"T1110"})");
  EXPECT_EQ(wrong_type.status, 400) << wrong_type.body;
  EXPECT_EQ(ErrorField(wrong_type), "techniques");

  // The incident now counts in the heatmap of those who may read it.
  JsonValue heatmap = Get("/api/v1/attack/heatmap?source=incidents", reporter_a_);
  ASSERT_EQ(heatmap.Find("cells")->as_array().size(), 1u);
  EXPECT_EQ(Text(heatmap.Find("cells")->as_array()[0], "technique"), "T1110.001");
  EXPECT_EQ(heatmap.Find("cells")->as_array()[0].Find("incidents")->as_int(), 2);  // + promoted
  EXPECT_TRUE(
      Get("/api/v1/attack/heatmap?source=incidents", reporter_b_).Find("cells")->as_array().empty());
}

INSTANTIATE_TEST_SUITE_P(Backends, ApiAttackTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         hub::testing::BackendName);

}  // namespace
}  // namespace yagura::http

// The incident routes through the Router, without sockets: principals of different
// organisations and roles calling with bearer tokens, visibility (404 for other
// organisations), assignment and lifecycle, validation naming the field, attachments and their
// size limit, and the OpenAPI schemas the routes name.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <set>

#include <fmt/format.h>

#include "core/metrics.hpp"
#include "core/time.hpp"
#include "hub/audit_log.hpp"
#include "hub/crypto.hpp"
#include "hub/identity.hpp"
#include "hub/passwords.hpp"
#include "hub/schema.hpp"
#include "http/api.hpp"
#include "http/router.hpp"

namespace yagura::http {
namespace {

constexpr std::string_view REPORT = R"({
  "title": "Ransomware on file servers",
  "description": "Files encrypted on two servers",
  "category": "malware",
  "functional_impact": "significant_impact_to_non_critical_services",
  "information_impact": "privacy_data_breach",
  "recoverability": "supplemented",
  "location": "business_network",
  "observed_activity": "presence",
  "detected_at": "2026-11-26T09:30:00+09:00",
  "users_affected": 120,
  "indicators": [{"type": "ip", "value": "203.0.113.7"}],
  "point_of_contact": {"name": "Sato Hanako", "email": "sato@a.example.go.jp"}
})";

class ApiIncidentsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    hub::SetPasswordCost(hub::PasswordCost::Minimal());
    std::string pattern =
        (std::filesystem::temp_directory_path() / "yagura-api-incidents-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    auto opened = store::Database::Open((dir_ / "hub.db").string(), 4);
    ASSERT_TRUE(opened) << opened.error().ToString();
    db_ = std::move(*opened);
    ASSERT_TRUE(hub::MigrateSchema(*db_));
    audit_ = std::make_unique<hub::AuditLog>(*db_);
    ServiceSettings settings;
    settings.max_attachment_bytes = 64;
    context_ = std::make_unique<ApiContext>(ApiContext{*db_, *audit_, metrics_, settings});
    RegisterIncidentRoutes(router_, *context_);

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
    admin_principal_ = admin;
    org_a_ = AddOrg(admin, "Ministry A");
    org_b_ = AddOrg(admin, "Ministry B");
    duty_id_ = boot->user_id;
    duty_ = TokenFor(admin, duty_id_);
    analyst_id_ = AddUser(admin, centre_id_, "analyst", hub::Role::kCentreAnalyst);
    analyst_ = TokenFor(admin, analyst_id_);
    reporter_a_id_ = AddUser(admin, org_a_, "reporter.a", hub::Role::kOrgReporter);
    reporter_a_ = TokenFor(admin, reporter_a_id_);
    reporter_b_id_ = AddUser(admin, org_b_, "reporter.b", hub::Role::kOrgReporter);
    reporter_b_ = TokenFor(admin, reporter_b_id_);
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
                std::string body = {}, std::string content_type = "application/json") {
    Request request;
    request.method = std::move(method);
    request.target = target;
    EXPECT_TRUE(DecodeTarget(target, request));
    request.remote_address = "127.0.0.1";
    if (!body.empty() || request.method == "POST" || request.method == "PATCH") {
      request.body = std::move(body);
      if (!content_type.empty()) request.headers.Set("Content-Type", content_type);
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

  // Files the standard report (with `extra` members merged in) and returns its id.
  std::string File(const std::string& token, std::string_view extra = {}) {
    std::string body(REPORT);
    if (!extra.empty()) body = body.substr(0, body.rfind('}')) + "," + std::string(extra) + "}";
    Response response = Call("POST", "/api/v1/incidents", token, body);
    EXPECT_EQ(response.status, 201) << response.body;
    return Text(Body(response), "id");
  }

  std::vector<std::string> ListedIds(const std::string& token, const std::string& query = {}) {
    std::vector<std::string> ids;
    std::string cursor;
    for (int guard = 0; guard < 100; ++guard) {
      std::string target = "/api/v1/incidents?limit=2" + query;
      if (!cursor.empty()) target += "&cursor=" + cursor;
      Response response = Call("GET", target, token);
      EXPECT_EQ(response.status, 200) << response.body;
      JsonValue body = Body(response);
      for (const auto& item : body.Find("items")->as_array()) ids.push_back(Text(item, "id"));
      const JsonValue* next = body.Find("next_cursor");
      if (next == nullptr || next->is_null()) break;
      cursor = next->as_string();
    }
    return ids;
  }

  int64_t Count(const std::string& sql) {
    return db_->Acquire()->Query(sql).rows.at(0).at(0).as_int();
  }

  std::filesystem::path dir_;
  std::unique_ptr<store::Database> db_;
  std::unique_ptr<hub::AuditLog> audit_;
  Metrics metrics_;
  std::unique_ptr<ApiContext> context_;
  Router router_;
  hub::Principal admin_principal_;
  std::string centre_id_, duty_id_, org_a_, org_b_, analyst_id_, reporter_a_id_, reporter_b_id_;
  std::string duty_, analyst_, reporter_a_, reporter_b_, read_only_a_;
};

TEST_F(ApiIncidentsTest, ReportIsCreatedScoredAndHiddenFromOtherOrganizations) {
  Response created = Call("POST", "/api/v1/incidents", reporter_a_, std::string(REPORT));
  ASSERT_EQ(created.status, 201) << created.body;
  JsonValue incident = Body(created);
  std::string id = Text(incident, "id");
  EXPECT_EQ(created.headers.Get("location").value_or(""), "/api/v1/incidents/" + id);
  EXPECT_EQ(Text(incident, "reference").substr(0, 4), "INC-");
  EXPECT_EQ(Text(incident, "status"), "reported");
  EXPECT_EQ(Text(incident, "tlp"), "amber");
  EXPECT_EQ(Text(incident, "owner_org_id"), org_a_);
  EXPECT_EQ(Text(incident, "author_id"), reporter_a_id_);
  EXPECT_EQ(Text(incident, "location"), "2");
  EXPECT_EQ(Text(incident, "location_name"), "business_network");
  EXPECT_EQ(Text(incident, "detected_at"), "2026-11-26T00:30:00.000Z");
  EXPECT_EQ(incident.Find("users_affected")->as_int(), 120);
  EXPECT_TRUE(incident.Find("occurred_at")->is_null());

  const JsonValue& score = *incident.Find("score");
  EXPECT_DOUBLE_EQ(score.Find("value")->as_double(), 46.7);
  const JsonValue& priority = *score.Find("priority");
  EXPECT_EQ(priority.Find("level")->as_int(), 1);
  EXPECT_EQ(Text(priority, "name"), "low");
  EXPECT_EQ(Text(priority, "color"), "green");
  EXPECT_FALSE(priority.Find("significant")->as_bool());
  const auto& factors = score.Find("factors")->as_array();
  ASSERT_EQ(factors.size(), 8u);
  EXPECT_EQ(Text(factors[0], "factor"), "functional_impact");
  EXPECT_EQ(Text(factors[0], "value"), "significant_impact_to_non_critical_services");
  EXPECT_EQ(factors[0].Find("points")->as_int(), 50);
  EXPECT_EQ(factors[0].Find("weight")->as_int(), 20);
  EXPECT_DOUBLE_EQ(factors[0].Find("contribution")->as_double(), 13.3);
  EXPECT_EQ(Text(factors[3], "factor"), "actor_characterization");
  EXPECT_EQ(Text(factors[3], "value"), "not provided");
  EXPECT_TRUE(factors[3].Find("points")->is_null());
  EXPECT_FALSE(factors[3].Find("included")->as_bool());

  // Organisation B sees nothing: not in its list, 404 by id and for every sub-resource.
  EXPECT_TRUE(ListedIds(reporter_b_).empty());
  for (std::string suffix : {"", "/history", "/comments", "/attachments"}) {
    Response hidden = Call("GET", "/api/v1/incidents/" + id + suffix, reporter_b_);
    EXPECT_EQ(hidden.status, 404) << suffix << " " << hidden.body;
  }
  Response missing = Call("GET", "/api/v1/incidents/" + hub::NewId(), reporter_b_);
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(Body(missing).Find("error")->Find("message")->as_string(),
            Body(Call("GET", "/api/v1/incidents/" + id, reporter_b_))
                .Find("error")
                ->Find("message")
                ->as_string());
  // The duty officer sees it, and the read of AMBER data is audited.
  EXPECT_EQ(ListedIds(duty_), std::vector<std::string>{id});
  EXPECT_EQ(Call("GET", "/api/v1/incidents/" + id, duty_).status, 200);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM audit_log WHERE action = 'incident.create'"), 1);
  EXPECT_GE(Count("SELECT COUNT(*) FROM audit_log WHERE action = 'incident.read'"), 1);
  EXPECT_GE(Count("SELECT COUNT(*) FROM audit_log WHERE action = 'incident.list'"), 1);
}

TEST_F(ApiIncidentsTest, OnlyCentreStaffReportOnBehalfOfAnotherOrganization) {
  Response refused = Call("POST", "/api/v1/incidents", reporter_a_,
                          std::string(REPORT).substr(0, std::string(REPORT).rfind('}')) +
                              fmt::format(R"(,"owner_org_id":"{}"}})", org_b_));
  EXPECT_EQ(refused.status, 403) << refused.body;
  std::string id = File(analyst_, fmt::format(R"("owner_org_id":"{}")", org_b_));
  EXPECT_EQ(Text(Body(Call("GET", "/api/v1/incidents/" + id, reporter_b_)), "owner_org_id"),
            org_b_);
  Response read_only = Call("POST", "/api/v1/incidents", read_only_a_, std::string(REPORT));
  EXPECT_EQ(read_only.status, 403);
}

TEST_F(ApiIncidentsTest, DutyOfficerAssignsAnAnalystWhoMovesTheIncident) {
  std::string id = File(reporter_a_);
  std::string path = "/api/v1/incidents/" + id;
  // Not yet assigned: the analyst cannot see it.
  EXPECT_EQ(Call("GET", path, analyst_).status, 404);
  Response bad_assignee =
      Call("POST", path + "/assignees", duty_, fmt::format(R"({{"user_id":"{}"}})", reporter_b_id_));
  EXPECT_EQ(bad_assignee.status, 400);
  EXPECT_EQ(ErrorField(bad_assignee), "user_id");
  Response by_reporter = Call("POST", path + "/assignees", reporter_a_,
                              fmt::format(R"({{"user_id":"{}"}})", analyst_id_));
  EXPECT_EQ(by_reporter.status, 403);
  Response assigned =
      Call("POST", path + "/assignees", duty_, fmt::format(R"({{"user_id":"{}"}})", analyst_id_));
  ASSERT_EQ(assigned.status, 201) << assigned.body;
  EXPECT_EQ(Body(assigned).Find("assignees")->as_array().size(), 1u);
  EXPECT_EQ(Call("POST", path + "/assignees", duty_,
                 fmt::format(R"({{"user_id":"{}"}})", analyst_id_))
                .status,
            200);

  EXPECT_EQ(Call("GET", path, analyst_).status, 200);
  EXPECT_EQ(ListedIds(analyst_, "&assigned_to=me"), std::vector<std::string>{id});
  Response triaged = Call("POST", path + "/transitions", analyst_, R"({"to":"triaged","note":"ok"})");
  ASSERT_EQ(triaged.status, 200) << triaged.body;
  EXPECT_EQ(Text(Body(triaged), "status"), "triaged");
  Response back = Call("POST", path + "/transitions", analyst_, R"({"to":"reported"})");
  EXPECT_EQ(back.status, 409);
  Response unknown = Call("POST", path + "/transitions", analyst_, R"({"to":"finished"})");
  EXPECT_EQ(unknown.status, 400);
  EXPECT_EQ(ErrorField(unknown), "to");
  Response by_reporter_move =
      Call("POST", path + "/transitions", reporter_a_, R"({"to":"investigating"})");
  EXPECT_EQ(by_reporter_move.status, 403);
  ASSERT_EQ(Call("POST", path + "/transitions", analyst_, R"({"to":"resolved"})").status, 200);
  Response reopen = Call("POST", path + "/transitions", analyst_, R"({"to":"investigating","note":"x"})");
  EXPECT_EQ(reopen.status, 403);
  Response no_reason = Call("POST", path + "/transitions", duty_, R"({"to":"investigating"})");
  EXPECT_EQ(no_reason.status, 400);
  EXPECT_EQ(ErrorField(no_reason), "note");
  EXPECT_EQ(Call("POST", path + "/transitions", duty_,
                 R"({"to":"investigating","note":"more hosts found"})")
                .status,
            200);

  Response history = Call("GET", path + "/history", reporter_a_);
  ASSERT_EQ(history.status, 200);
  std::vector<std::string> kinds;
  std::vector<std::string> actors;
  JsonValue history_body = Body(history);
  for (const auto& entry : history_body.Find("items")->as_array()) {
    kinds.push_back(Text(entry, "kind"));
    actors.push_back(Text(entry, "actor_id"));
    EXPECT_TRUE(ParseIsoDateTimeMs(Text(entry, "at")));
  }
  std::multiset<std::string> kind_set(kinds.begin(), kinds.end());
  EXPECT_EQ(kind_set, (std::multiset<std::string>{"created", "assigned", "transition",
                                                   "transition", "reopened"}));
  // Entries made within one millisecond have no defined order; find them by kind.
  for (size_t i = 0; i < kinds.size(); ++i) {
    if (kinds[i] == "created") {
      EXPECT_EQ(actors[i], reporter_a_id_);
    }
    if (kinds[i] == "reopened" || kinds[i] == "assigned") {
      EXPECT_EQ(actors[i], duty_id_);
    }
  }

  EXPECT_EQ(Call("DELETE", path + "/assignees/" + analyst_id_, duty_).status, 204);
  EXPECT_EQ(Call("GET", path, analyst_).status, 404);
  EXPECT_EQ(Call("DELETE", path + "/assignees/" + analyst_id_, duty_).status, 404);
}

TEST_F(ApiIncidentsTest, ValidationNamesTheField) {
  auto without = [&](std::string_view member) {
    JsonValue body = *JsonValue::Parse(REPORT);
    JsonValue::Object kept;
    for (auto& [key, value] : body.as_object()) {
      if (key != member) kept.emplace_back(key, value);
    }
    return JsonValue(kept).Serialize();
  };
  auto with = [&](std::string_view member, std::string json) {
    JsonValue body = *JsonValue::Parse(REPORT);
    body.Set(member, *JsonValue::Parse(json));
    return body.Serialize();
  };
  struct Case {
    std::string body;
    std::string field;
  };
  const std::vector<Case> cases = {
      {without("title"), "title"},
      {without("detected_at"), "detected_at"},
      {without("point_of_contact"), "point_of_contact"},
      {without("location"), "location"},
      {with("category", R"("spam")"), "category"},
      {with("functional_impact", R"("catastrophic")"), "functional_impact"},
      {with("location", R"("9")"), "location"},
      {with("users_affected", "-1"), "users_affected"},
      {with("records_affected", "1.5"), "records_affected"},
      {with("detected_at", R"("yesterday")"), "detected_at"},
      {with("indicators", R"([{"type":"registry","value":"x"}])"), "indicators[0].type"},
      {with("indicators", R"([{"type":"ip","value":"1.2.3.4","tag":"x"}])"), "indicators[0].tag"},
      {with("point_of_contact", R"({"name":"A","email":"nope"})"), "point_of_contact.email"},
      {with("point_of_contact", R"({"name":"A","email":"a@b.example","fax":"1"})"),
       "point_of_contact.fax"},
      {with("tlp", R"("purple")"), "tlp"},
      {with("severity", R"("high")"), "severity"},
      {with("title", R"("")"), "title"},
  };
  for (const auto& c : cases) {
    Response response = Call("POST", "/api/v1/incidents", reporter_a_, c.body);
    EXPECT_EQ(response.status, 400) << c.field << ": " << response.body;
    EXPECT_EQ(ErrorField(response), c.field) << response.body;
  }
  Response nul = Call("POST", "/api/v1/incidents", reporter_a_, with("title", R"("a\u0000b")"));
  EXPECT_EQ(nul.status, 400) << nul.body;
  EXPECT_EQ(ErrorField(nul), "title");
  EXPECT_EQ(Call("GET", "/api/v1/incidents/%FF%FE", reporter_a_).status, 404);
  Response odd_query = Call("GET", "/api/v1/incidents?q=%FF", reporter_a_);
  EXPECT_EQ(odd_query.status, 200) << odd_query.body;
  EXPECT_EQ(Call("GET", "/api/v1/incidents?owner_org_id=%FF", reporter_a_).status, 400);
  // The audience must fit the TLP.
  Response red_shared = Call("POST", "/api/v1/incidents", reporter_a_,
                             with("tlp", R"("red")").substr(0, with("tlp", R"("red")").size() - 1) +
                                 fmt::format(R"(,"shared_with":["{}"]}})", org_b_));
  EXPECT_EQ(red_shared.status, 400) << red_shared.body;
  EXPECT_EQ(ErrorField(red_shared), "shared_with");
  Response not_json = Call("POST", "/api/v1/incidents", reporter_a_, std::string(REPORT),
                           "text/plain");
  EXPECT_EQ(not_json.status, 415);
  Response malformed = Call("POST", "/api/v1/incidents", reporter_a_, "{\"title\":");
  EXPECT_EQ(malformed.status, 400);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM incidents"), 0);
}

TEST_F(ApiIncidentsTest, PatchRescoresAndChecksTheVersion) {
  std::string id = File(reporter_a_, R"("attack_vector":"email_phishing")");
  std::string path = "/api/v1/incidents/" + id;
  Response stale = Call("PATCH", path, reporter_a_, R"({"version":5,"title":"x"})");
  EXPECT_EQ(stale.status, 409) << stale.body;
  Response updated = Call("PATCH", path, reporter_a_,
                          R"({"version":1,"functional_impact":"denial_of_critical_services",)"
                          R"("information_impact":"destruction_of_critical_system",)"
                          R"("recoverability":"not_recoverable","location":"7",)"
                          R"("observed_activity":"effect","attack_vector":null})");
  ASSERT_EQ(updated.status, 200) << updated.body;
  JsonValue body = Body(updated);
  EXPECT_EQ(body.Find("version")->as_int(), 2);
  EXPECT_DOUBLE_EQ(body.Find("score")->Find("value")->as_double(), 100);
  EXPECT_EQ(body.Find("score")->Find("priority")->Find("level")->as_int(), 5);
  EXPECT_TRUE(body.Find("score")->Find("priority")->Find("significant")->as_bool());
  EXPECT_TRUE(body.Find("attack_vector")->is_null());
  EXPECT_EQ(Text(body, "title"), "Ransomware on file servers");  // untouched

  Response list = Call("GET", "/api/v1/incidents?priority_min=5", reporter_a_);
  ASSERT_EQ(list.status, 200);
  ASSERT_EQ(Body(list).Find("items")->as_array().size(), 1u);
  EXPECT_EQ(Body(list).Find("items")->as_array()[0].Find("score")->Find("priority")->Find("level")->as_int(), 5);

  Response clear_required = Call("PATCH", path, reporter_a_, R"({"title":null})");
  EXPECT_EQ(clear_required.status, 400);
  EXPECT_EQ(ErrorField(clear_required), "title");
  Response unknown = Call("PATCH", path, reporter_a_, R"({"owner_org_id":"x"})");
  EXPECT_EQ(unknown.status, 400);
  EXPECT_EQ(ErrorField(unknown), "owner_org_id");
  Response by_b = Call("PATCH", path, reporter_b_, R"({"title":"mine now"})");
  EXPECT_EQ(by_b.status, 404);
  // Shared with B: B reads but may not edit.
  ASSERT_EQ(Call("PATCH", path, reporter_a_, fmt::format(R"({{"shared_with":["{}"]}})", org_b_))
                .status,
            200);
  EXPECT_EQ(Call("GET", path, reporter_b_).status, 200);
  EXPECT_EQ(Call("PATCH", path, reporter_b_, R"({"title":"mine now"})").status, 403);
}

TEST_F(ApiIncidentsTest, AttachmentsAreLimitedHashedAndServedAsDownloads) {
  std::string id = File(reporter_a_);
  std::string path = "/api/v1/incidents/" + id + "/attachments";
  Response too_big = Call("POST", path + "?filename=big.bin", reporter_a_, std::string(65, 'x'),
                          "application/octet-stream");
  EXPECT_EQ(too_big.status, 413) << too_big.body;
  Response unnamed = Call("POST", path, reporter_a_, "abc", "text/plain");
  EXPECT_EQ(unnamed.status, 400);
  EXPECT_EQ(ErrorField(unnamed), "filename");

  std::string content = "<script>alert(1)</script>";
  Response uploaded = Call("POST", path + "?filename=evil.html", reporter_a_, content, "text/html");
  ASSERT_EQ(uploaded.status, 201) << uploaded.body;
  JsonValue info = Body(uploaded);
  EXPECT_EQ(Text(info, "sha256"), hub::Sha256Hex(content));
  EXPECT_EQ(info.Find("size")->as_int(), static_cast<int64_t>(content.size()));
  EXPECT_EQ(Text(info, "filename"), "evil.html");
  std::string attachment_id = Text(info, "id");
  // The same file again (a retried upload) answers 200 with the attachment it already is.
  Response retried = Call("POST", path + "?filename=evil.html", reporter_a_, content, "text/html");
  ASSERT_EQ(retried.status, 200) << retried.body;
  EXPECT_EQ(Text(Body(retried), "id"), attachment_id);
  EXPECT_EQ(retried.headers.Get("location").value_or(""), path + "/" + attachment_id);

  // Content-Disposition names the file when there is no ?filename=.
  Request request;
  request.method = "POST";
  request.target = path;
  ASSERT_TRUE(DecodeTarget(path, request));
  request.body = "log line";
  request.headers.Set("Content-Type", "text/plain");
  request.headers.Set("Content-Disposition", "attachment; filename=\"C:\\logs\\auth.log\"");
  request.headers.Set("Authorization", "Bearer " + reporter_a_);
  Response disposed = router_.Dispatch(request);
  ASSERT_EQ(disposed.status, 201) << disposed.body;
  EXPECT_EQ(Text(Body(disposed), "filename"), "auth.log");

  Response download = Call("GET", path + "/" + attachment_id, duty_);
  ASSERT_EQ(download.status, 200);
  EXPECT_EQ(download.body, content);
  EXPECT_EQ(download.headers.Get("content-type").value_or(""), "text/html");
  EXPECT_EQ(download.headers.Get("x-content-type-options").value_or(""), "nosniff");
  EXPECT_TRUE(download.headers.Get("content-disposition").value_or("").starts_with(
      "attachment; filename=\"evil.html\""));
  Response listed = Call("GET", path, reporter_a_);
  ASSERT_EQ(listed.status, 200);
  EXPECT_EQ(Body(listed).Find("items")->as_array().size(), 2u);
  Response full = Call("GET", "/api/v1/incidents/" + id, reporter_a_);
  EXPECT_EQ(Body(full).Find("counts")->Find("attachments")->as_int(), 2);
  EXPECT_EQ(Call("GET", path + "/" + attachment_id, reporter_b_).status, 404);
  EXPECT_EQ(Call("POST", path + "?filename=x.txt", reporter_b_, "x", "text/plain").status, 404);
  EXPECT_EQ(Call("GET", path + "/" + hub::NewId(), reporter_a_).status, 404);
}

TEST_F(ApiIncidentsTest, CommentsAndLinks) {
  std::string first = File(reporter_a_);
  std::string second = File(reporter_a_);
  std::string other_org = File(reporter_b_);
  std::string path = "/api/v1/incidents/" + first;
  for (int i = 0; i < 3; ++i) {
    Response comment = Call("POST", path + "/comments", i == 1 ? duty_ : reporter_a_,
                            fmt::format(R"({{"body":"note {}"}})", i));
    ASSERT_EQ(comment.status, 201) << comment.body;
  }
  EXPECT_EQ(Call("POST", path + "/comments", reporter_a_, R"({"body":""})").status, 400);
  EXPECT_EQ(Call("POST", path + "/comments", reporter_b_, R"({"body":"hi"})").status, 404);
  // Two pages of two; comments made within one millisecond may come in either order.
  Response page = Call("GET", path + "/comments?limit=2", reporter_a_);
  ASSERT_EQ(page.status, 200);
  JsonValue page_body = Body(page);
  ASSERT_EQ(page_body.Find("items")->as_array().size(), 2u);
  std::multiset<std::string> bodies;
  for (const auto& item : page_body.Find("items")->as_array()) bodies.insert(Text(item, "body"));
  Response rest = Call("GET", path + "/comments?limit=2&cursor=" +
                                  page_body.Find("next_cursor")->as_string(),
                       reporter_a_);
  ASSERT_EQ(rest.status, 200);
  JsonValue rest_body = Body(rest);
  for (const auto& item : rest_body.Find("items")->as_array()) bodies.insert(Text(item, "body"));
  EXPECT_TRUE(rest_body.Find("next_cursor")->is_null());
  EXPECT_EQ(bodies, (std::multiset<std::string>{"note 0", "note 1", "note 2"}));

  Response hidden = Call("POST", path + "/links", reporter_a_,
                         fmt::format(R"({{"incident_id":"{}","relation":"related"}})", other_org));
  EXPECT_EQ(hidden.status, 400);
  EXPECT_EQ(ErrorField(hidden), "incident_id");
  Response linked = Call("POST", path + "/links", reporter_a_,
                         fmt::format(R"({{"incident_id":"{}","relation":"parent"}})", second));
  ASSERT_EQ(linked.status, 201) << linked.body;
  Response again = Call("POST", path + "/links", reporter_a_,
                        fmt::format(R"({{"incident_id":"{}","relation":"related"}})", second));
  EXPECT_EQ(again.status, 409);
  JsonValue seen = Body(Call("GET", "/api/v1/incidents/" + second, reporter_a_));
  ASSERT_EQ(seen.Find("links")->as_array().size(), 1u);
  EXPECT_EQ(Text(seen.Find("links")->as_array()[0], "relation"), "child");
  EXPECT_EQ(Call("DELETE", path + "/links/" + second, reporter_a_).status, 204);
  EXPECT_EQ(Call("DELETE", path + "/links/" + second, reporter_a_).status, 404);
}

TEST_F(ApiIncidentsTest, ListFiltersAndPaging) {
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(File(reporter_a_));
  File(reporter_b_);
  std::vector<std::string> listed = ListedIds(reporter_a_);
  EXPECT_EQ(std::set<std::string>(listed.begin(), listed.end()),
            std::set<std::string>(ids.begin(), ids.end()));
  EXPECT_EQ(listed.size(), 5u);
  EXPECT_EQ(ListedIds(duty_).size(), 6u);
  EXPECT_EQ(ListedIds(duty_, "&owner_org_id=" + org_b_).size(), 1u);
  EXPECT_EQ(ListedIds(duty_, "&status=reported&category=malware&tlp=amber&q=RANSOM").size(), 6u);
  EXPECT_TRUE(ListedIds(duty_, "&q=phish").empty());
  for (std::string bad : {"status=open", "priority_min=9", "tlp=white-ish", "assigned_to=bob",
                          "category=spam", "limit=0", "cursor=garbage"}) {
    Response response = Call("GET", "/api/v1/incidents?" + bad, duty_);
    EXPECT_EQ(response.status, 400) << bad;
  }
  Response summary = Call("GET", "/api/v1/incidents?limit=1", reporter_a_);
  JsonValue item = Body(summary).Find("items")->as_array().at(0);
  for (const char* key : {"id", "reference", "title", "status", "category", "tlp", "owner_org_id",
                          "score", "detected_at", "created_at", "updated_at"}) {
    EXPECT_NE(item.Find(key), nullptr) << key;
  }
  EXPECT_EQ(item.Find("description"), nullptr);  // summaries only
}

TEST_F(ApiIncidentsTest, EverySchemaTheRoutesNameExistsAndResolves) {
  std::set<std::string> names;
  for (const Route& route : router_.routes()) {
    EXPECT_EQ(route.doc.tag, "incidents") << route.pattern;
    EXPECT_FALSE(route.doc.summary.empty()) << route.pattern;
    if (!route.doc.request_schema.empty()) names.insert(route.doc.request_schema);
    if (!route.doc.response_schema.empty()) names.insert(route.doc.response_schema);
  }
  EXPECT_GE(router_.routes().size(), 15u);
  for (const auto& name : names) {
    EXPECT_NE(context_->schemas.Find(name), nullptr) << name;
  }
  // Every $ref inside the schemas points at a schema that exists.
  std::string text = context_->schemas.Serialize();
  const std::string marker = "#/components/schemas/";
  for (size_t at = text.find(marker); at != std::string::npos; at = text.find(marker, at + 1)) {
    size_t end = text.find('"', at);
    std::string name = text.substr(at + marker.size(), end - at - marker.size());
    EXPECT_NE(context_->schemas.Find(name), nullptr) << name;
  }
}

}  // namespace
}  // namespace yagura::http

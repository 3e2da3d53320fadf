// Audits through the Router, without sockets: a standard imported as an OSCAL catalog, an audit
// of a ministry from planning to closing, its follow-up by the ministry and its OSCAL exports.
// On SQLite, and on PostgreSQL when YAGURA_TEST_POSTGRES_URL is set.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "unit/http/console_api_support.hpp"

namespace yagura::http {
namespace {

using testing::ConsoleApiTest;

constexpr std::string_view CATALOG = R"json({"catalog": {
  "uuid": "6b1f0a4e-2c1d-4f7a-9d3e-5a8b7c6d5e4f",
  "metadata": {"title": "Unified Standard (API test)", "version": "1", "oscal-version": "1.1.2"},
  "groups": [{"id": "g", "title": "Governance", "controls": [
    {"id": "GV.1", "title": "Policy", "parts": [{"name": "statement", "prose": "Have a policy."}],
     "controls": [{"id": "GV.1.1", "title": "Review",
                   "parts": [{"name": "statement", "prose": "Review it yearly."}]}]},
    {"id": "GV.2", "title": "Roles", "parts": [{"name": "statement", "prose": "Name a CISO."}]}
  ]}]}})json";

class ApiAuditsTest : public ConsoleApiTest {
 protected:
  void SetUp() override {
    SetUpWorld();
    if (IsSkipped() || HasFatalFailure()) return;
    RegisterAgencyAuditRoutes(router_, *context_);
    hub::Principal admin;
    admin.user_id = admin_user_id_;
    admin.username = "duty";
    admin.org_id = centre_id_;
    admin.org_type = hub::OrgType::kCentre;
    admin.roles = {hub::Role::kCentreAdmin};
    admin.method = hub::AuthMethod::kInternal;
    admin.remote_address = "127.0.0.1";
    auto user = [&](const std::string& org, const std::string& name, hub::Role role) {
      std::string id = AddUser(admin, org, name, role);
      return User{id, TokenFor(admin, id)};
    };
    // The fixture's auditor leads; a second auditor is on the team.
    lead_ = User{"", auditor_};
    member_ = user(centre_id_, "auditor-2", hub::Role::kAuditor);
    duty_ = User{admin_user_id_, admin_};
    ministry_admin_ = user(ministry_id_, "admin-a", hub::Role::kOrgAdmin);
    ministry_reporter_ = User{"", reporter_};
    ministry_ = ministry_id_;
  }
  void TearDown() override {
    TearDownWorld();
    context_.reset();
  }

  struct User {
    std::string id;
    std::string secret;
  };

  Response Call(std::string method, const std::string& target, const User& user,
                std::string body = {}) {
    return ConsoleApiTest::Call(std::move(method), target, user.secret, std::move(body));
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

  // Imports the standard and opens an audit of the ministry over GV.1 and GV.1.1.
  std::string OpenAudit() {
    Response imported =
        Call("POST", "/api/v1/standards?source=unified-standard.json", lead_, std::string(CATALOG));
    EXPECT_EQ(imported.status, 201) << imported.body;
    standard_id_ = Text(Body(imported), "id");
    Response opened = Call("POST", "/api/v1/audits", lead_,
                           fmt::format(R"({{"title": "Audit of ministry A", "auditee_org_id": "{}",
                             "standard_id": "{}", "planned_start": "2027-01-10T00:00:00+09:00",
                             "control_ids": ["GV.1.1", "GV.1"],
                             "members": [{{"user_id": "{}", "role": "member"}}]}})",
                                       ministry_, standard_id_, member_.id));
    EXPECT_EQ(opened.status, 201) << opened.body;
    return Text(Body(opened), "id");
  }

  std::string ministry_, standard_id_;
  User lead_, member_, duty_, ministry_admin_, ministry_reporter_;
};

TEST_P(ApiAuditsTest, StandardsAreImportedAndListed) {
  Response refused =
      Call("POST", "/api/v1/standards?source=x.json", ministry_admin_, std::string(CATALOG));
  EXPECT_EQ(refused.status, 403);
  Response unnamed = Call("POST", "/api/v1/standards", lead_, std::string(CATALOG));
  EXPECT_EQ(unnamed.status, 400);
  EXPECT_EQ(ErrorField(unnamed), "source");
  Response bad = Call("POST", "/api/v1/standards?source=x.json", lead_, R"({"profile": {}})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("not an OSCAL catalog"), std::string::npos);
  Response imported =
      Call("POST", "/api/v1/standards?source=unified-standard.json", lead_, std::string(CATALOG));
  ASSERT_EQ(imported.status, 201) << imported.body;
  JsonValue standard = Body(imported);
  EXPECT_EQ(standard.Find("controls")->as_int(), 3);
  EXPECT_EQ(Call("POST", "/api/v1/standards?source=again.json", lead_, std::string(CATALOG)).status,
            409);
  Response listed = Call("GET", "/api/v1/standards", ministry_reporter_);
  ASSERT_EQ(listed.status, 200);
  EXPECT_EQ(Body(listed).Find("items")->as_array().size(), 1u);
  Response one = Call("GET", "/api/v1/standards/" + Text(standard, "id"), ministry_reporter_);
  ASSERT_EQ(one.status, 200);
  JsonValue with_controls = Body(one);
  const auto& controls = with_controls.Find("control_list")->as_array();
  ASSERT_EQ(controls.size(), 3u);
  EXPECT_EQ(Text(controls[1], "control_id"), "GV.1.1");
  EXPECT_EQ(Text(controls[1], "parent_id"), "GV.1");
  EXPECT_EQ(Text(controls[1], "statement"), "Review it yearly.");
}

TEST_P(ApiAuditsTest, AnAuditFromPlanningToClosing) {
  std::string id = OpenAudit();
  const std::string one = "/api/v1/audits/" + id;
  // Unknown fields and outsiders.
  EXPECT_EQ(Call("POST", "/api/v1/audits", lead_, R"({"title": "x", "colour": "red"})").status,
            400);
  EXPECT_EQ(Call("GET", one, duty_).status, 404);
  EXPECT_EQ(Call("GET", one, ministry_admin_).status, 404);
  Response read = Call("GET", one, member_);
  ASSERT_EQ(read.status, 200);
  JsonValue audit = Body(read);
  EXPECT_EQ(Text(audit, "status"), "planning");
  EXPECT_EQ(Text(audit, "my_role"), "member");
  EXPECT_EQ(Text(audit, "planned_start"), "2027-01-09T15:00:00.000Z");
  EXPECT_EQ(audit.Find("progress")->Find("controls")->as_int(), 2);
  EXPECT_EQ(audit.Find("members")->as_array().size(), 2u);

  ASSERT_EQ(Call("POST", one + "/transitions", lead_, R"({"status": "fieldwork"})").status, 200);
  // Control ids with dots travel in the path.
  Response assessed = Call("PUT", one + "/controls/GV.1.1", member_,
                           R"({"result": "satisfied", "methods": ["interview", "examine"],
                               "note": "Reviewed in March."})");
  ASSERT_EQ(assessed.status, 200) << assessed.body;
  EXPECT_EQ(Text(Body(assessed), "result"), "satisfied");
  EXPECT_EQ(Call("PUT", one + "/controls/GV.2", member_, R"({"result": "satisfied"})").status, 404);
  ASSERT_EQ(Call("PUT", one + "/controls/GV.1", member_, R"({"result": "not_satisfied"})").status,
            200);
  Response finding = Call("POST", one + "/findings", member_,
                          R"({"control_id": "GV.1", "title": "The policy is a draft",
                              "description": "Marked <b>draft</b> on every page.",
                              "risk": "high"})");
  ASSERT_EQ(finding.status, 201) << finding.body;
  std::string finding_id = Text(Body(finding), "id");
  EXPECT_EQ(Text(Body(finding), "reference"), "F-001");
  EXPECT_EQ(ErrorField(Call("POST", one + "/findings/" + finding_id + "/recommendations", member_,
                            R"({"text": "Adopt it"})")),
            "due_at");
  Response recommended =
      Call("POST", one + "/findings/" + finding_id + "/recommendations", member_,
           R"({"text": "Adopt the policy at the next board", "due_at": "2027-06-30T00:00:00Z"})");
  ASSERT_EQ(recommended.status, 201) << recommended.body;
  std::string recommendation_id = Text(Body(recommended), "id");
  ASSERT_EQ(Call("POST", one + "/transitions", lead_, R"({"status": "reporting"})").status, 200);
  Response issued = Call("POST", one + "/transitions", lead_, R"({"status": "issued"})");
  ASSERT_EQ(issued.status, 200) << issued.body;

  // The ministry's administrator reads the report, without the team's names or history.
  Response theirs = Call("GET", one, ministry_admin_);
  ASSERT_EQ(theirs.status, 200);
  EXPECT_TRUE(Body(theirs).Find("members")->as_array().empty());
  EXPECT_TRUE(Body(theirs).Find("my_role")->is_null());
  EXPECT_EQ(Call("GET", one + "/history", ministry_admin_).status, 403);
  EXPECT_EQ(Call("GET", one, ministry_reporter_).status, 404);
  Response listed = Call("GET", "/api/v1/audits", ministry_admin_);
  ASSERT_EQ(listed.status, 200);
  JsonValue listed_body = Body(listed);
  ASSERT_EQ(listed_body.Find("items")->as_array().size(), 1u);
  const JsonValue* listed_progress = listed_body.Find("items")->as_array()[0].Find("progress");
  EXPECT_EQ(listed_progress->Find("controls")->as_int(), 2);
  EXPECT_EQ(listed_progress->Find("not_satisfied")->as_int(), 1);
  EXPECT_EQ(listed_progress->Find("findings")->as_int(), 1);
  EXPECT_EQ(listed_progress->Find("recommendations_open")->as_int(), 1);
  Response results = Call("GET", one + "/findings", ministry_admin_);
  ASSERT_EQ(results.status, 200);
  EXPECT_EQ(Body(results).Find("recommendations")->as_array().size(), 1u);

  // What the ministry owes, across its audits; nothing for its reporters.
  Response owed =
      Call("GET", "/api/v1/audits/recommendations?status=open,in_progress", ministry_admin_);
  ASSERT_EQ(owed.status, 200) << owed.body;
  JsonValue owed_body = Body(owed);
  ASSERT_EQ(owed_body.Find("items")->as_array().size(), 1u);
  const JsonValue& owed_item = owed_body.Find("items")->as_array()[0];
  EXPECT_EQ(Text(owed_item, "reference"), "R-001");
  EXPECT_EQ(Text(*owed_item.Find("finding"), "control_id"), "GV.1");
  EXPECT_EQ(Text(*owed_item.Find("audit"), "auditee_name"), "Ministry A");
  EXPECT_FALSE(owed_item.Find("overdue")->as_bool());
  EXPECT_TRUE(Body(Call("GET", "/api/v1/audits/recommendations?overdue=true", ministry_admin_))
                  .Find("items")
                  ->as_array()
                  .empty());
  EXPECT_EQ(
      Body(Call("GET", "/api/v1/audits/recommendations?due_before=2027-07-01T00:00:00Z", member_))
          .Find("items")
          ->as_array()
          .size(),
      1u);
  EXPECT_TRUE(Body(Call("GET", "/api/v1/audits/recommendations", ministry_reporter_))
                  .Find("items")
                  ->as_array()
                  .empty());
  EXPECT_TRUE(
      Body(Call("GET", "/api/v1/audits/recommendations", duty_)).Find("items")->as_array().empty());
  EXPECT_EQ(Call("GET", "/api/v1/audits/recommendations?status=done", member_).status, 400);

  const std::string follow = one + "/recommendations/" + recommendation_id + "/follow-ups";
  ASSERT_EQ(Call("POST", follow, ministry_admin_,
                 R"({"status": "implemented", "note": "Adopted on 2027-03-01"})")
                .status,
            201);
  EXPECT_EQ(Call("POST", follow, ministry_admin_, R"({"status": "verified", "note": "x"})").status,
            403);
  Response attached = Call(
      "PUT",
      one + "/recommendations/" + recommendation_id + "/attachments?filename=board-minutes.txt",
      ministry_admin_, "Minutes: the policy was adopted.");
  ASSERT_EQ(attached.status, 201) << attached.body;
  std::string attachment_id = Text(Body(attached), "id");
  Response download =
      Call("GET", one + "/recommendations/" + recommendation_id + "/attachments/" + attachment_id,
           member_);
  ASSERT_EQ(download.status, 200);
  EXPECT_EQ(download.body, "Minutes: the policy was adopted.");
  Response verified =
      Call("POST", follow, member_, R"({"status": "verified", "note": "Minutes checked"})");
  ASSERT_EQ(verified.status, 201) << verified.body;
  EXPECT_EQ(Body(verified).Find("follow_ups")->as_array().size(), 2u);
  EXPECT_EQ(Text(Body(verified).Find("attachments")->as_array().at(0), "filename"),
            "board-minutes.txt");

  // The report: the organisation's in Japanese, without the team; the team's with it. What
  // people wrote is text, never markup.
  Response report = Call("GET", one + "/report?lang=ja", ministry_admin_);
  ASSERT_EQ(report.status, 200);
  EXPECT_NE(report.body.find("監査報告書"), std::string::npos);
  EXPECT_NE(report.body.find("TLP:AMBER+STRICT"), std::string::npos);
  EXPECT_NE(report.body.find("F-001 The policy is a draft"), std::string::npos);
  EXPECT_NE(report.body.find("Marked &lt;b&gt;draft&lt;/b&gt;"), std::string::npos);
  EXPECT_NE(report.body.find("不適合"), std::string::npos);
  EXPECT_EQ(report.body.find("監査チーム"), std::string::npos);
  EXPECT_EQ(report.body.find("<script"), std::string::npos);
  Response team_report = Call("GET", one + "/report", lead_);
  ASSERT_EQ(team_report.status, 200);
  EXPECT_NE(team_report.body.find("The audit team"), std::string::npos);
  EXPECT_NE(team_report.body.find("Adopt the policy at the next board"), std::string::npos);
  EXPECT_NE(team_report.body.find("board-minutes.txt (32 bytes"), std::string::npos);
  EXPECT_EQ(Call("GET", one + "/report?lang=fr", lead_).status, 400);
  EXPECT_EQ(Call("GET", one + "/report", ministry_reporter_).status, 404);

  Response ar = Call("GET", one + "/oscal/assessment-results", ministry_admin_);
  ASSERT_EQ(ar.status, 200);
  EXPECT_NE(ar.headers.Get("Content-Disposition").value_or("").find("assessment-results.json"),
            std::string::npos);
  EXPECT_NE(Body(ar).Find("assessment-results"), nullptr);
  Response poam = Call("GET", one + "/oscal/poam", member_);
  ASSERT_EQ(poam.status, 200);
  EXPECT_EQ(Body(poam).Find("plan-of-action-and-milestones")->Find("poam-items")->as_array().size(),
            1u);

  EXPECT_EQ(Call("POST", one + "/transitions", lead_, R"({"status": "closed"})").status, 400);
  Response closed =
      Call("POST", one + "/transitions", lead_, R"({"status": "closed", "note": "Remedied"})");
  ASSERT_EQ(closed.status, 200) << closed.body;
  EXPECT_EQ(Text(Body(closed), "conclusion"), "Remedied");

  // Every read of the audit is in the audit log, marked RED.
  audit_->Flush();
  EXPECT_GE(db_->Acquire()
                ->Query("SELECT COUNT(*) FROM audit_log WHERE object_type = 'audit' AND action = "
                        "'audit.export' AND tlp = 'red'")
                .rows[0][0]
                .as_int(),
            2);
}

TEST_P(ApiAuditsTest, ScopeFromAProfileAndPlanningChanges) {
  std::string id = OpenAudit();
  const std::string one = "/api/v1/audits/" + id;
  Response scoped = Call("PUT", one + "/scope", lead_,
                         R"({"profile": {"profile": {"imports": [{"href": "#",
                             "include-controls": [{"with-ids": ["GV.2"]}]}]}}})");
  ASSERT_EQ(scoped.status, 200) << scoped.body;
  Response controls = Call("GET", one + "/controls", lead_);
  ASSERT_EQ(controls.status, 200);
  JsonValue listed = Body(controls);
  const auto& items = listed.Find("items")->as_array();
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(Text(items[0], "control_id"), "GV.2");
  EXPECT_EQ(Text(items[0], "result"), "not_assessed");
  Response both = Call("PUT", one + "/scope", lead_,
                       R"({"control_ids": ["GV.1"], "profile": {"profile": {}}})");
  EXPECT_EQ(both.status, 400);
  EXPECT_EQ(ErrorField(both), "profile");
  Response patched =
      Call("PATCH", one, lead_, R"({"planned_start": null, "tlp": "red", "version": 2})");
  ASSERT_EQ(patched.status, 200) << patched.body;
  EXPECT_TRUE(Body(patched).Find("planned_start")->is_null());
  EXPECT_EQ(Text(Body(patched), "tlp"), "red");
  EXPECT_EQ(Call("PATCH", one, lead_, R"({"title": "x", "version": 1})").status, 409);
  EXPECT_EQ(Call("PATCH", one, member_, R"({"title": "x"})").status, 403);
}

INSTANTIATE_TEST_SUITE_P(Backends, ApiAuditsTest,
                         ::testing::Values(hub::testing::Backend::kSqlite,
                                           hub::testing::Backend::kPostgres),
                         hub::testing::BackendName);

}  // namespace
}  // namespace yagura::http

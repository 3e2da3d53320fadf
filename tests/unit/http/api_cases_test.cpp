// Investigations through the Router, without sockets: cases, evidence with its chain of
// custody, and the timeline, as the console and scripts use them. Organisations, users and API
// tokens are inserted directly.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "core/metrics.hpp"
#include "core/time.hpp"
#include "http/api.hpp"
#include "http/jobs.hpp"
#include "http/router.hpp"
#include "hub/audit_log.hpp"
#include "hub/crypto.hpp"
#include "hub/schema.hpp"
#include "test_support/deflate.hpp"

namespace yagura::http {
namespace {

using store::Param;

// Two alerts as `yagura scan` writes them.
constexpr std::string_view SCAN_OUTPUT =
    R"({"rule":{"id":"r-1","title":"LSASS Memory Opened","level":"high","tags":["attack.t1003.001"]},"time":"2026-01-14T10:00:00.000Z","source":{"file":"dc01/Security.evtx","record":541},"host":"DC01","details":{"GrantedAccess":"0x1010"}})"
    "\n"
    R"({"rule":{"id":"r-2","title":"Certutil Download","level":"high","tags":["attack.t1105"]},"time":"2026-01-14T10:05:00.000Z","source":{"file":"dc01/Sysmon.evtx","record":95},"host":"DC01","details":{"Image":"C:\\Windows\\System32\\certutil.exe"}})"
    "\n";

class ApiCasesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "yagura-api-cases-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    auto opened = store::Database::Open((dir_ / "hub.db").string(), 4);
    ASSERT_TRUE(opened) << opened.error().ToString();
    db_ = std::move(*opened);
    ASSERT_TRUE(hub::MigrateSchema(*db_));
    audit_ = std::make_unique<hub::AuditLog>(*db_);
    ServiceSettings settings;
    settings.max_attachment_bytes = 64 * 1024;
    // Yagura's own rules, for hunts in evidence files.
    settings.rule_paths = {std::string(YAGURA_SOURCE_DIR) + "/rules"};
    context_ = std::make_unique<ApiContext>(ApiContext{*db_, *audit_, metrics_, settings});
    context_->jobs = &jobs_;
    RegisterCaseRoutes(router_, *context_);
    RegisterIncidentRoutes(router_, *context_);
    RegisterJobRoutes(router_, *context_);

    centre_ = AddOrg("Centre", "centre");
    ministry_ = AddOrg("Ministry A", "ministry");
    duty_ = AddUser("duty", centre_, "centre_admin");
    lead_ = AddUser("lead", centre_, "investigator");
    member_ = AddUser("member", centre_, "investigator");
    reader_ = AddUser("reader", centre_, "auditor");
    reporter_ = AddUser("reporter", ministry_, "org_reporter");
  }

  void TearDown() override {
    jobs_.Stop();
    context_.reset();
    audit_.reset();
    db_.reset();
    std::filesystem::remove_all(dir_);
  }

  struct User {
    std::string id;
    std::string secret;
  };

  std::string AddOrg(const std::string& name, const std::string& type) {
    std::string id = hub::NewId();
    db_->Acquire()->Execute(
        "INSERT INTO organizations (id, name, type, created_at, updated_at) "
        "VALUES ($1, $2, $3, $4, $4)",
        {Param{id}, Param{name}, Param{type}, Param{NowMs()}});
    return id;
  }

  User AddUser(const std::string& username, const std::string& org_id, const std::string& roles) {
    User user{hub::NewId(), "ygt_" + hub::RandomToken(24)};
    auto connection = db_->Acquire();
    connection->Execute(
        "INSERT INTO users (id, username, display_name, org_id, roles, created_at, updated_at) "
        "VALUES ($1, $2, $2, $3, $4, $5, $5)",
        {Param{user.id}, Param{username}, Param{org_id}, Param{roles}, Param{NowMs()}});
    connection->Execute(
        "INSERT INTO api_tokens (id, user_id, name, token_hash, scopes, created_at) "
        "VALUES ($1, $2, 'test', $3, 'admin', $4)",
        {Param{hub::NewId()}, Param{user.id}, Param{hub::Sha256Hex(user.secret)}, Param{NowMs()}});
    return user;
  }

  Response Call(std::string method, std::string target, const User& user, std::string body = {},
                std::string content_type = "application/json") {
    Request request;
    request.method = std::move(method);
    request.target = target;
    EXPECT_TRUE(DecodeTarget(target, request));
    request.remote_address = "127.0.0.1";
    if (!body.empty()) {
      request.body = std::move(body);
      request.headers.Set("Content-Type", content_type);
    }
    request.headers.Set("Authorization", "Bearer " + user.secret);
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
  static std::vector<std::string> Field(const Response& response, std::string_view key) {
    std::vector<std::string> values;
    JsonValue body = Body(response);
    const JsonValue* items = body.Find("items");
    if (items == nullptr || !items->is_array()) return values;
    for (const auto& item : items->as_array()) values.push_back(Text(item, key));
    return values;
  }

  // A case led by lead_, with member_ and reader_.
  std::string OpenTeamCase() {
    Response response = Call("POST", "/api/v1/cases", lead_,
                             fmt::format(R"({{"title":"Intrusion at ministry A",)"
                                         R"("summary":"Web shell, then credential theft",)"
                                         R"("members":[{{"user_id":"{}","role":"member"}},)"
                                         R"({{"user_id":"{}","role":"reader"}}]}})",
                                         member_.id, reader_.id));
    EXPECT_EQ(response.status, 201) << response.body;
    return Text(Body(response), "id");
  }

  int64_t Audited(const std::string& action) {
    audit_->Flush();
    return db_->Acquire()
        ->Query("SELECT COUNT(*) FROM audit_log WHERE action = $1 AND tlp = 'red'", {Param{action}})
        .rows[0][0]
        .as_int();
  }

  std::filesystem::path dir_;
  std::unique_ptr<store::Database> db_;
  std::unique_ptr<hub::AuditLog> audit_;
  Metrics metrics_;
  JobRegistry jobs_;
  std::unique_ptr<ApiContext> context_;
  Router router_;
  std::string centre_, ministry_;
  User duty_, lead_, member_, reader_, reporter_;
};

TEST_F(ApiCasesTest, ACaseIsItsMembersAloneAndEveryReadIsAudited) {
  std::string id = OpenTeamCase();
  Response got = Call("GET", "/api/v1/cases/" + id, reader_);
  ASSERT_EQ(got.status, 200) << got.body;
  JsonValue json = Body(got);
  EXPECT_EQ(Text(json, "tlp"), "red");
  EXPECT_EQ(Text(json, "status"), "open");
  EXPECT_EQ(Text(json, "my_role"), "reader");
  EXPECT_EQ(json.Find("members")->as_array().size(), 3u);
  EXPECT_EQ(Text(json, "reference").substr(0, 5), "CASE-");

  for (const User* outsider : {&duty_, &reporter_}) {
    EXPECT_EQ(Call("GET", "/api/v1/cases/" + id, *outsider).status, 404);
    EXPECT_EQ(Call("GET", "/api/v1/cases/" + id + "/timeline", *outsider).status, 404);
    EXPECT_TRUE(Field(Call("GET", "/api/v1/cases", *outsider), "id").empty());
  }
  EXPECT_EQ(Field(Call("GET", "/api/v1/cases?status=open", member_), "id"),
            std::vector<std::string>{id});
  EXPECT_TRUE(Field(Call("GET", "/api/v1/cases?status=closed", member_), "id").empty());
  EXPECT_EQ(Call("GET", "/api/v1/cases?status=finished", member_).status, 400);
  EXPECT_EQ(Audited("case.read"), 1);
  EXPECT_EQ(Audited("case.list"), 1);
  EXPECT_EQ(Audited("case.open"), 1);

  // Who may open, and what a body may hold.
  EXPECT_EQ(Call("POST", "/api/v1/cases", reporter_, R"({"title":"x"})").status, 403);
  Response bad = Call("POST", "/api/v1/cases", lead_, R"({"title":"x","priority":1})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(ErrorField(bad), "priority");
  bad = Call("POST", "/api/v1/cases", lead_,
             fmt::format(R"({{"title":"x","members":[{{"user_id":"{}","role":"member"}}]}})",
                         reporter_.id));
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(ErrorField(bad), "members[0].user_id");
  bad = Call("POST", "/api/v1/cases", lead_, R"({"title":"x","tlp":"green"})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(ErrorField(bad), "tlp");

  // Whom a lead may add: the centre's active staff, by name; nobody outside the centre asks.
  Response candidates = Call("GET", "/api/v1/cases/candidates", lead_);
  ASSERT_EQ(candidates.status, 200) << candidates.body;
  EXPECT_EQ(Field(candidates, "username"),
            (std::vector<std::string>{"duty", "lead", "member", "reader"}));
  EXPECT_EQ(Call("GET", "/api/v1/cases/candidates", reporter_).status, 403);

  // Membership and lifecycle through the API.
  Response member = Call("POST", "/api/v1/cases/" + id + "/members", lead_,
                         fmt::format(R"({{"user_id":"{}","role":"reader"}})", duty_.id));
  EXPECT_EQ(member.status, 201) << member.body;
  EXPECT_EQ(Call("GET", "/api/v1/cases/" + id, duty_).status, 200);
  EXPECT_EQ(Call("DELETE", "/api/v1/cases/" + id + "/members/" + duty_.id, member_).status, 403);
  EXPECT_EQ(Call("DELETE", "/api/v1/cases/" + id + "/members/" + duty_.id, duty_).status, 204);
  EXPECT_EQ(Call("GET", "/api/v1/cases/" + id, duty_).status, 404);

  Response closed =
      Call("POST", "/api/v1/cases/" + id + "/transitions", lead_, R"({"status":"closed"})");
  EXPECT_EQ(closed.status, 400);
  EXPECT_EQ(ErrorField(closed), "note");
  closed = Call("POST", "/api/v1/cases/" + id + "/transitions", lead_,
                R"({"status":"closed","note":"Contained; the web shell was the only foothold"})");
  ASSERT_EQ(closed.status, 200) << closed.body;
  EXPECT_EQ(Text(Body(closed), "status"), "closed");
  EXPECT_EQ(Call("POST", "/api/v1/cases/" + id + "/timeline", member_,
                 R"({"at":"2026-01-14T10:00:00Z","kind":"note","title":"late"})")
                .status,
            409);
  Response history = Call("GET", "/api/v1/cases/" + id + "/history", reader_);
  EXPECT_EQ(Field(history, "kind"),
            (std::vector<std::string>{"opened", "member_added", "member_removed", "transition"}));
}

TEST_F(ApiCasesTest, EvidenceCustodyAndIntegrity) {
  std::string id = OpenTeamCase();
  const std::string base = "/api/v1/cases/" + id + "/evidence";
  const std::string log = "Jan 14 10:00:01 web01 sshd[77]: Accepted password for root\n";
  Response registered = Call(
      "POST", base, member_,
      fmt::format(R"({{"label":"web01 auth.log","kind":"log_collection",)"
                  R"j("acquired_at":"2026-01-14T12:00:00Z","acquired_by":"Tanaka (ministry A)",)j"
                  R"("sha256":"{}","holder":"Tanaka","source_host":"web01"}})",
                  hub::Sha256Hex(log)));
  ASSERT_EQ(registered.status, 201) << registered.body;
  JsonValue item = Body(registered);
  const std::string evidence = base + "/" + Text(item, "id");
  EXPECT_EQ(Text(item, "status"), "in_custody");
  EXPECT_EQ(item.Find("custody_events")->as_int(), 1);

  EXPECT_EQ(Call("POST", base, reader_, R"({"label":"x"})").status, 400);  // body first
  Response forbidden = Call("POST", base, reader_,
                            R"({"label":"x","kind":"other","acquired_at":"2026-01-14T12:00:00Z",)"
                            R"("acquired_by":"a","holder":"b"})");
  EXPECT_EQ(forbidden.status, 403);
  Response bad = Call("POST", base, member_,
                      R"({"label":"x","kind":"other","acquired_at":"2026-01-14T12:00:00Z",)"
                      R"("acquired_by":"a","holder":"b","sha256":"xyz"})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(ErrorField(bad), "sha256");

  // The file must be the item: another file is refused and nothing is stored.
  Response upload =
      Call("PUT", evidence + "/content?filename=auth.log", member_, "other bytes", "text/plain");
  EXPECT_EQ(upload.status, 409) << upload.body;
  upload = Call("PUT", evidence + "/content?filename=auth.log", member_,
                std::string(70 * 1024, 'x'), "text/plain");
  EXPECT_EQ(upload.status, 413);
  upload = Call("PUT", evidence + "/content?filename=auth.log", member_, log, "text/plain");
  ASSERT_EQ(upload.status, 201) << upload.body;
  EXPECT_TRUE(Body(upload).Find("has_content")->as_bool());

  Response download = Call("GET", evidence + "/content", reader_);
  EXPECT_EQ(download.status, 400);
  EXPECT_EQ(ErrorField(download), "purpose");
  download = Call("GET", evidence + "/content?purpose=Legal%20review", reader_);
  ASSERT_EQ(download.status, 200) << download.body;
  EXPECT_EQ(download.body, log);
  EXPECT_NE(download.headers.Get("content-disposition").value_or("").find("auth.log"),
            std::string::npos);
  EXPECT_EQ(download.headers.Get("etag").value_or(""),
            fmt::format("\"sha256-{}\"", hub::Sha256Hex(log)));

  Response custody = Call("POST", evidence + "/custody", member_,
                          R"j({"action":"transferred","to_holder":"Suzuki (centre)",)j"
                          R"("location":"Evidence locker 2"})");
  ASSERT_EQ(custody.status, 201) << custody.body;
  custody = Call("POST", evidence + "/custody", member_,
                 R"({"action":"checked_in","to_holder":"Suzuki"})");
  EXPECT_EQ(custody.status, 409);
  custody = Call("POST", evidence + "/custody", member_, R"({"action":"accessed"})");
  EXPECT_EQ(custody.status, 400);
  custody =
      Call("POST", evidence + "/custody", member_,
           fmt::format(R"({{"action":"verified","sha256_observed":"{}"}})", hub::Sha256Hex(log)));
  ASSERT_EQ(custody.status, 201) << custody.body;
  EXPECT_EQ(Text(Body(custody), "outcome"), "match");

  Response chain = Call("GET", evidence + "/custody", reader_);
  ASSERT_EQ(chain.status, 200);
  EXPECT_EQ(Field(chain, "action"),
            (std::vector<std::string>{"acquired", "content_added", "accessed", "transferred",
                                      "verified"}));
  EXPECT_EQ(Field(chain, "purpose")[2], "Legal review");

  Response integrity = Call("GET", evidence + "/integrity", reader_);
  ASSERT_EQ(integrity.status, 200) << integrity.body;
  EXPECT_TRUE(Body(integrity).Find("intact")->as_bool()) << integrity.body;

  db_->Acquire()->Execute("UPDATE custody_events SET holder_to = 'Nobody' WHERE seq = 4");
  integrity = Call("GET", evidence + "/integrity", reader_);
  JsonValue report = Body(integrity);
  EXPECT_FALSE(report.Find("intact")->as_bool());
  EXPECT_EQ(report.Find("chain")->Find("first_bad_seq")->as_int(), 4);

  Response list = Call("GET", base, reader_);
  EXPECT_EQ(Field(list, "label"), std::vector<std::string>{"web01 auth.log"});
  EXPECT_EQ(Audited("case.evidence.access"), 1);
  EXPECT_EQ(Audited("case.evidence.verify"), 2);
}

TEST_F(ApiCasesTest, TimelineImportsPagesAndExports) {
  std::string id = OpenTeamCase();
  const std::string timeline = "/api/v1/cases/" + id + "/timeline";
  Response imported = Call("POST", timeline + "/imports?source=dc01%20collection", member_,
                           std::string(SCAN_OUTPUT), "application/x-ndjson");
  ASSERT_EQ(imported.status, 201) << imported.body;
  EXPECT_EQ(Body(imported).Find("entries")->as_int(), 2);
  EXPECT_EQ(Text(Body(imported), "format"), "yagura-alerts");

  Response bad =
      Call("POST", timeline + "/imports?source=x", member_,
           std::string(SCAN_OUTPUT) + "{\"message\":\"no time\"}\n", "application/x-ndjson");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(ErrorField(bad), "line 3");
  EXPECT_EQ(
      Call("POST", timeline + "/imports", member_, std::string(SCAN_OUTPUT), "application/x-ndjson")
          .status,
      400);

  Response written = Call("POST", timeline, member_,
                          R"({"at":"2026-01-14T09:00:00Z","kind":"finding",)"
                          R"("title":"Phishing mail opened on ws-12","host":"ws-12",)"
                          R"("techniques":["T1566.001"]})");
  ASSERT_EQ(written.status, 201) << written.body;
  Response evidence = Call("POST", "/api/v1/cases/" + id + "/evidence", member_,
                           R"({"label":"DC01 memory","kind":"memory_image",)"
                           R"("acquired_at":"2026-01-14T11:00:00Z","acquired_by":"Ito",)"
                           R"("holder":"Ito","source_host":"DC01"})");
  ASSERT_EQ(evidence.status, 201) << evidence.body;

  // One entry a page, across written, imported and linked entries, in time order.
  std::vector<std::string> titles;
  std::string cursor;
  for (int pages = 0; pages < 10; ++pages) {
    Response page =
        Call("GET", timeline + "?limit=1" + (cursor.empty() ? "" : "&cursor=" + cursor), reader_);
    ASSERT_EQ(page.status, 200) << page.body;
    for (const auto& title : Field(page, "title")) titles.push_back(title);
    JsonValue body = Body(page);
    if (body.Find("next_cursor")->is_null()) break;
    cursor = body.Find("next_cursor")->as_string();
  }
  ASSERT_EQ(titles.size(), 4u);
  EXPECT_EQ(titles[0], "Phishing mail opened on ws-12");
  EXPECT_EQ(titles[1], "LSASS Memory Opened");
  EXPECT_EQ(titles[2], "Certutil Download");
  EXPECT_NE(titles[3].find("-E001 DC01 memory"), std::string::npos);
  EXPECT_EQ(Call("GET", timeline + "?cursor=12.evil%27", reader_).status, 400);

  EXPECT_EQ(Field(Call("GET", timeline + "?technique=T1003", reader_), "title"),
            std::vector<std::string>{"LSASS Memory Opened"});
  EXPECT_EQ(Field(Call("GET", timeline + "?host=dc01&kind=alert", reader_), "title"),
            (std::vector<std::string>{"LSASS Memory Opened", "Certutil Download"}));
  EXPECT_EQ(Call("GET", timeline + "?kind=rumour", reader_).status, 400);
  EXPECT_EQ(Call("GET", timeline + "?technique=lateral", reader_).status, 400);

  // The line an entry came from.
  std::string lsass_id = Field(Call("GET", timeline + "?technique=T1003", reader_), "id")[0];
  Response entry = Call("GET", timeline + "/" + lsass_id, reader_);
  ASSERT_EQ(entry.status, 200) << entry.body;
  EXPECT_EQ(Text(*Body(entry).Find("data")->Find("rule"), "id"), "r-1");

  // Exports for Timesketch, with the case's marking.
  Response csv = Call("GET", timeline + "?format=csv", reader_);
  ASSERT_EQ(csv.status, 200) << csv.body;
  EXPECT_EQ(csv.body.substr(0, csv.body.find('\r')),
            "message,datetime,timestamp_desc,kind,host,account,source,level,techniques,origin,"
            "detail,id");
  EXPECT_NE(csv.body.find("LSASS Memory Opened,2026-01-14T10:00:00.000Z"), std::string::npos);
  EXPECT_EQ(csv.headers.Get("x-tlp").value_or(""), "TLP:RED");
  Response jsonl = Call("GET", timeline + "?format=jsonl&kind=alert", reader_);
  ASSERT_EQ(jsonl.status, 200);
  EXPECT_EQ(std::count(jsonl.body.begin(), jsonl.body.end(), '\n'), 2);
  EXPECT_EQ(Audited("case.timeline.export"), 2);

  // A member may not remove an import; a lead may.
  std::string import_id = Field(Call("GET", timeline + "/imports", reader_), "id")[0];
  EXPECT_EQ(Call("DELETE", timeline + "/imports/" + import_id, member_).status, 403);
  EXPECT_EQ(Call("DELETE", timeline + "/imports/" + import_id, lead_).status, 204);
  EXPECT_EQ(Field(Call("GET", timeline, reader_), "origin"),
            (std::vector<std::string>{"written", "linked"}));
}

TEST_F(ApiCasesTest, AnIncidentNamesItsCasesToTheirMembersOnly) {
  Response incident = Call(
      "POST", "/api/v1/incidents", reporter_,
      R"({"title":"Web shell on the portal","description":"Found by the CSIRT","category":"intrusion",
      "functional_impact":"no_impact_to_services","information_impact":"suspected_but_not_identified",
      "recoverability":"regular","location":"1","detected_at":"2026-01-14T09:30:00+09:00",
      "point_of_contact":{"name":"Hanako Sato","email":"sato@example.go.jp"}})");
  ASSERT_EQ(incident.status, 201) << incident.body;
  const std::string incident_path = "/api/v1/incidents/" + Text(Body(incident), "id");
  // The lead may read the incident once assigned to it, and so link it at opening.
  ASSERT_EQ(Call("POST", incident_path + "/assignees", duty_,
                 fmt::format(R"({{"user_id":"{}"}})", lead_.id))
                .status,
            201);
  Response opened = Call("POST", "/api/v1/cases", lead_,
                         fmt::format(R"({{"title":"Portal compromise","incident_ids":["{}"]}})",
                                     Text(Body(incident), "id")));
  ASSERT_EQ(opened.status, 201) << opened.body;
  EXPECT_EQ(Body(opened).Find("links")->as_array().size(), 1u);

  auto cases_of = [&](const User& user) {
    Response got = Call("GET", incident_path, user);
    EXPECT_EQ(got.status, 200) << got.body;
    std::vector<std::string> references;
    JsonValue body = Body(got);
    for (const auto& item : body.Find("cases")->as_array()) {
      references.push_back(Text(item, "reference"));
    }
    return references;
  };
  EXPECT_EQ(cases_of(lead_), std::vector<std::string>{Text(Body(opened), "reference")});
  // The duty officer and the reporting ministry read the incident, not that it is investigated.
  EXPECT_TRUE(cases_of(duty_).empty());
  EXPECT_TRUE(cases_of(reporter_).empty());
}

TEST_F(ApiCasesTest, AHuntInAnItemsFileAddsItsAlertsToTheTimeline) {
  std::string id = OpenTeamCase();
  const std::string base = "/api/v1/cases/" + id + "/evidence";
  std::string log;
  {
    std::ifstream in(std::string(YAGURA_SOURCE_DIR) + "/samples/linux/auth.log", std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    log = text.str();
  }
  ASSERT_FALSE(log.empty());
  Response registered = Call("POST", base, member_,
                             R"({"label":"web01 auth.log","kind":"log_collection",)"
                             R"("acquired_at":"2026-01-14T12:00:00Z","acquired_by":"Tanaka",)"
                             R"("holder":"Tanaka"})");
  ASSERT_EQ(registered.status, 201) << registered.body;
  const std::string item = base + "/" + Text(Body(registered), "id");
  // Nothing to hunt in before the file is stored; readers do not hunt.
  EXPECT_EQ(Call("POST", item + "/hunt", member_).status, 409);
  ASSERT_EQ(Call("PUT", item + "/content?filename=auth.log", member_, log, "text/plain").status,
            201);
  EXPECT_EQ(Call("POST", item + "/hunt", reader_).status, 403);
  Response bad = Call("POST", item + "/hunt", member_, R"({"min_level":"urgent"})");
  EXPECT_EQ(bad.status, 400);

  Response accepted = Call("POST", item + "/hunt", member_);
  ASSERT_EQ(accepted.status, 202) << accepted.body;
  const std::string job = "/api/v1/jobs/" + Text(*Body(accepted).Find("job"), "id");
  JsonValue finished;
  for (int i = 0; i < 600; ++i) {
    finished = Body(Call("GET", job, member_));
    if (Text(finished, "state") != "running") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(Text(finished, "state"), "succeeded") << finished.Serialize();
  const JsonValue& result = *finished.Find("result");
  // The samples' auth.log gives the same alerts as `yagura scan samples/linux/auth.log`.
  EXPECT_GT(result.Find("alerts")->as_int(), 0);
  EXPECT_EQ(result.Find("entries")->as_int(), result.Find("alerts")->as_int());
  EXPECT_EQ(result.Find("records_read")->as_int(), std::count(log.begin(), log.end(), '\n'));
  // Counts only: the centre's administrators see every job, and the case is its members'.
  EXPECT_EQ(finished.Serialize().find(id), std::string::npos);

  Response timeline =
      Call("GET", "/api/v1/cases/" + id + "/timeline?kind=alert&limit=200", reader_);
  EXPECT_EQ(static_cast<int64_t>(Field(timeline, "id").size()), result.Find("entries")->as_int());
  EXPECT_EQ(Field(timeline, "host")[0], "web01");
  Response imports = Call("GET", "/api/v1/cases/" + id + "/timeline/imports", reader_);
  EXPECT_NE(Field(imports, "source")[0].find("-E001 hunt: auth.log"), std::string::npos);
  // The file's reading is in its custody, naming the job.
  Response custody = Call("GET", item + "/custody", reader_);
  EXPECT_EQ(Field(custody, "action").back(), "accessed");
  EXPECT_NE(Field(custody, "purpose").back().find("job "), std::string::npos);
}

TEST_F(ApiCasesTest, TheReportHoldsTheCaseItsCustodyAndTimeline) {
  std::string id = OpenTeamCase();
  const std::string base = "/api/v1/cases/" + id;
  Response registered = Call("POST", base + "/evidence", member_,
                             R"j({"label":"DC01 disk","kind":"disk_image",)j"
                             R"j("acquired_at":"2026-01-14T12:00:00Z","acquired_by":"Tanaka",)j"
                             R"j("holder":"Tanaka","sha256":")j" +
                                 std::string(64, 'a') + "\"}");
  ASSERT_EQ(registered.status, 201) << registered.body;
  const std::string item = base + "/evidence/" + Text(Body(registered), "id");
  ASSERT_EQ(Call("POST", item + "/custody", member_,
                 R"j({"action":"transferred","to_holder":"Suzuki","purpose":"To the lab"})j")
                .status,
            201);
  ASSERT_EQ(Call("POST", base + "/timeline", member_,
                 R"({"at":"2026-01-14T09:00:00Z","kind":"finding",)"
                 R"("title":"<script>alert(1)</script> in the portal"})")
                .status,
            201);

  Response report = Call("GET", base + "/report", reader_);
  ASSERT_EQ(report.status, 200) << report.body;
  EXPECT_EQ(report.headers.Get("content-type").value_or(""), "text/html; charset=utf-8");
  EXPECT_NE(report.headers.Get("content-disposition").value_or("").find("-report-en.html"),
            std::string::npos);
  const std::string& html = report.body;
  EXPECT_NE(html.find("TLP:RED"), std::string::npos);
  EXPECT_NE(html.find("Investigation report"), std::string::npos);
  EXPECT_NE(html.find("Intrusion at ministry A"), std::string::npos);
  EXPECT_NE(html.find("-E001 DC01 disk"), std::string::npos);
  EXPECT_NE(html.find("Tanaka → Suzuki"), std::string::npos);
  EXPECT_NE(html.find("To the lab"), std::string::npos);
  EXPECT_NE(html.find("The chain of custody is unbroken (2 events)."), std::string::npos);
  EXPECT_EQ(html.find("<script>"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;alert(1)&lt;/script&gt; in the portal"), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos);

  // In Japanese, and after tampering with the chain: the check is made when it is written.
  db_->Acquire()->Execute("UPDATE custody_events SET purpose = 'Elsewhere' WHERE seq = 2");
  Response ja = Call("GET", base + "/report?lang=ja", reader_);
  ASSERT_EQ(ja.status, 200);
  EXPECT_NE(ja.body.find("<html lang=\"ja\">"), std::string::npos);
  EXPECT_NE(ja.body.find("調査報告書"), std::string::npos);
  EXPECT_NE(ja.body.find("保管の連鎖が 2 件目で途切れています"), std::string::npos);
  EXPECT_NE(ja.body.find("改ざんの疑い"), std::string::npos);
  EXPECT_EQ(Call("GET", base + "/report?lang=fr", reader_).status, 400);
  EXPECT_EQ(Call("GET", base + "/report", duty_).status, 404);
  EXPECT_EQ(Audited("case.report"), 2);
}

}  // namespace
}  // namespace yagura::http

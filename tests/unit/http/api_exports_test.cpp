// Exports through the Router with a real job registry, without sockets: body and filter
// validation naming the field, a member's export holding exactly its own organisation's rows
// (alerts and incidents, never a RED report not addressed to it), list filters applied, paging
// past one page, CSV quoting and the formula-injection guard, progress reaching its total, the
// download for the owner only (404 for anyone else and after expiry), expiry of old files, and
// the audit entries. Jobs are awaited by polling their state, never by timing.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "core/detection.hpp"
#include "core/metrics.hpp"
#include "core/time.hpp"
#include "http/api.hpp"
#include "http/export_files.hpp"
#include "http/jobs.hpp"
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
constexpr int64_t T0 = 1'799'971'200'000;  // 2027-01-15T00:00:00Z

// A small RFC 4180 reader for checking what the export wrote.
std::vector<std::vector<std::string>> ParseCsv(const std::string& text) {
  std::vector<std::vector<std::string>> records;
  std::vector<std::string> record;
  std::string field;
  bool quoted = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      record.push_back(std::move(field));
      field.clear();
    } else if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') {
      record.push_back(std::move(field));
      field.clear();
      records.push_back(std::move(record));
      record.clear();
      ++i;
    } else {
      field += c;
    }
  }
  EXPECT_TRUE(field.empty() && record.empty()) << "the last record must end with CRLF";
  return records;
}

TEST(ExportCsv, QuotesAndGuardsCells) {
  EXPECT_EQ(exports::CsvField("plain"), "plain");
  EXPECT_EQ(exports::CsvField(""), "");
  EXPECT_EQ(exports::CsvField("a,b"), "\"a,b\"");
  EXPECT_EQ(exports::CsvField("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(exports::CsvField("two\nlines"), "\"two\nlines\"");
  EXPECT_EQ(exports::CsvField("cr\rhere"), "\"cr\rhere\"");
  EXPECT_EQ(exports::CsvField("=1+2"), "'=1+2");
  EXPECT_EQ(exports::CsvField("+81 3"), "'+81 3");
  EXPECT_EQ(exports::CsvField("-2"), "'-2");
  EXPECT_EQ(exports::CsvField("@SUM(A1)"), "'@SUM(A1)");
  EXPECT_EQ(exports::CsvField("\tx"), "'\tx");
  EXPECT_EQ(exports::CsvField("=HYPERLINK(\"http://x\",\"y\")"),
            "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\"");
  EXPECT_EQ(exports::CsvField("a=b"), "a=b");  // only a leading character is a formula
  std::string out;
  std::vector<std::string> fields = {"a", "b,c", ""};
  exports::AppendCsvRecord(out, fields);
  EXPECT_EQ(out, "a,\"b,c\",\r\n");
}

TEST(ExportFiles, IdsAreUuidsOnly) {
  EXPECT_TRUE(exports::IsExportId(hub::NewId()));
  EXPECT_FALSE(exports::IsExportId("../../etc/passwd"));
  EXPECT_FALSE(exports::IsExportId(""));
  EXPECT_FALSE(exports::IsExportId("0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5G"));
  EXPECT_FALSE(exports::IsExportId("0193a1b2/c3d4-7e5f-8a9b-0c1d2e3f4a5b"));
}

class ApiExportsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    hub::SetPasswordCost(hub::PasswordCost::Minimal());
    std::string pattern =
        (std::filesystem::temp_directory_path() / "yagura-api-exports-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    auto opened = store::Database::Open((dir_ / "hub.db").string(), 4);
    ASSERT_TRUE(opened) << opened.error().ToString();
    db_ = std::move(*opened);
    ASSERT_TRUE(hub::MigrateSchema(*db_));
    audit_ = std::make_unique<hub::AuditLog>(*db_);
    ServiceSettings settings;
    settings.export_dir = (dir_ / "exports").string();
    context_ = std::make_unique<ApiContext>(ApiContext{*db_, *audit_, metrics_, settings});
    jobs_ = std::make_unique<JobRegistry>();
    context_->jobs = jobs_.get();
    RegisterExportRoutes(router_, *context_);

    auto boot = hub::BootstrapCentre(*db_, "duty", "duty officer password");
    ASSERT_TRUE(boot) << boot.error().message;
    admin_.user_id = boot->user_id;
    admin_.username = "duty";
    admin_.org_id = boot->org_id;
    admin_.org_type = hub::OrgType::kCentre;
    admin_.roles = {hub::Role::kCentreAdmin};
    admin_.method = hub::AuthMethod::kInternal;
    admin_.remote_address = "127.0.0.1";
    duty_ = Token(boot->user_id);
    org_a_ = AddOrg("Ministry A");
    org_b_ = AddOrg("Ministry B");
    reporter_a_ = AddPrincipal(org_a_, "reporter.a");
    reporter_a2_ = AddPrincipal(org_a_, "reporter.a2");
    reporter_b_ = AddPrincipal(org_b_, "reporter.b");
    token_a_ = Token(reporter_a_.user_id);
    token_a2_ = Token(reporter_a2_.user_id);
    token_b_ = Token(reporter_b_.user_id);
  }

  void TearDown() override {
    jobs_.reset();  // joins the job threads before the database goes
    audit_.reset();
    db_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::string AddOrg(const std::string& name) {
    hub::NewOrganization org;
    org.name = name;
    org.type = hub::OrgType::kMinistry;
    org.contact_email = "soc@example.go.jp";
    auto created = hub::CreateOrganization(*db_, admin_, org);
    EXPECT_TRUE(created) << created.error().message;
    return created ? created->id : "";
  }

  hub::Principal AddPrincipal(const std::string& org_id, const std::string& username) {
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
    p.org_type = hub::OrgType::kMinistry;
    p.roles = {hub::Role::kOrgReporter};
    p.remote_address = "127.0.0.1";
    return p;
  }

  std::string Token(const std::string& user_id,
                    std::vector<std::string> scopes = {"read", "write"}) {
    auto token = hub::CreateToken(*db_, admin_, user_id, "tests", scopes, std::nullopt, NowMs());
    EXPECT_TRUE(token) << token.error().message;
    return token ? token->secret : "";
  }

  static DetectedAlert MakeAlert(const std::string& org, const std::string& level,
                                 int64_t event_time, std::string title = {}) {
    DetectedAlert a;
    a.id = hub::NewId();
    a.kind = "rule";
    a.org_id = org;
    a.rule_id = "rule-" + level;
    a.title = title.empty() ? "Rule " + level : std::move(title);
    a.level = level;
    a.techniques = {"T1110.001"};
    a.tags = {"attack.credential_access"};
    a.event_time_ms = event_time;
    a.detected_at_ms = event_time;
    return a;
  }

  void Insert(std::vector<DetectedAlert> alerts) {
    auto inserted = hub::InsertDetections(*db_, alerts, {}, T0);
    ASSERT_TRUE(inserted) << inserted.error().ToString();
  }

  std::string Incident(const hub::Principal& reporter, hub::Tlp tlp = hub::Tlp::kAmber,
                       std::string title = "Ransomware on file servers") {
    hub::IncidentReport r;
    r.title = std::move(title);
    r.description = "Files encrypted";
    r.category = "malware";
    r.functional_impact = "significant_impact_to_non_critical_services";
    r.information_impact = "privacy_data_breach";
    r.recoverability = "supplemented";
    r.location = "2";
    r.detected_at = T0 - HOUR;
    r.point_of_contact = {"Sato Hanako", "sato@a.example.go.jp", std::nullopt};
    r.tlp = tlp;
    auto created = db_->Transact([&](store::Connection& c) {
      return hub::CreateIncident(c, reporter, r, std::nullopt, T0);
    });
    EXPECT_TRUE(created) << created.error().message;
    return created ? created->id : "";
  }

  Response Call(const std::string& method, const std::string& target, const std::string& token,
                std::string body = {}) {
    Request request;
    request.method = method;
    request.target = target;
    EXPECT_TRUE(DecodeTarget(target, request));
    request.remote_address = "127.0.0.1";
    if (method == "POST") {
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
  static std::string ErrorField(const Response& response) {
    JsonValue body = Body(response);
    const JsonValue* error = body.Find("error");
    const JsonValue* field = error ? error->Find("field") : nullptr;
    return field && field->is_string() ? field->as_string() : "";
  }

  // Starts an export, waits for its job to finish and returns the finished job.
  JobSnapshot Export(const std::string& token, const hub::Principal& owner,
                     const std::string& body) {
    Response started = Call("POST", "/api/v1/exports", token, body);
    EXPECT_EQ(started.status, 202) << started.body;
    JsonValue json = Body(started);
    const JsonValue* job = json.Find("job");
    EXPECT_TRUE(job != nullptr && job->is_object()) << started.body;
    if (job == nullptr || !job->is_object()) return {};
    EXPECT_EQ(job->Find("kind")->as_string(), "export");
    std::string id = job->Find("id")->as_string();
    for (;;) {
      std::optional<JobSnapshot> snapshot = jobs_->Get(id, owner);
      EXPECT_TRUE(snapshot);
      if (!snapshot) return {};
      if (snapshot->state != JobState::kRunning) return *snapshot;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }

  static std::string ResultText(const JobSnapshot& job, std::string_view key) {
    if (!job.result) return {};
    const JsonValue* value = job.result->Find(key);
    return value && value->is_string() ? value->as_string() : "";
  }
  static int64_t ResultInt(const JobSnapshot& job, std::string_view key) {
    if (!job.result) return -1;
    const JsonValue* value = job.result->Find(key);
    return value && value->is_integer() ? value->as_int() : -1;
  }

  static std::vector<JsonValue> Lines(const std::string& text) {
    std::vector<JsonValue> lines;
    size_t start = 0;
    while (start < text.size()) {
      size_t end = text.find('\n', start);
      EXPECT_NE(end, std::string::npos) << "every line ends with a newline";
      if (end == std::string::npos) break;
      auto parsed = JsonValue::Parse(std::string_view(text).substr(start, end - start));
      EXPECT_TRUE(parsed);
      if (parsed) lines.push_back(std::move(*parsed));
      start = end + 1;
    }
    return lines;
  }

  std::vector<hub::StoredAuditEntry> AuditEntries(std::string_view prefix) {
    audit_->Flush();
    auto connection = db_->Acquire();
    return hub::AuditLog::List(*connection, 0, 10000, {}, std::string(prefix));
  }

  std::filesystem::path dir_;
  std::unique_ptr<store::Database> db_;
  std::unique_ptr<hub::AuditLog> audit_;
  Metrics metrics_;
  std::unique_ptr<ApiContext> context_;
  std::unique_ptr<JobRegistry> jobs_;
  Router router_;
  hub::Principal admin_, reporter_a_, reporter_a2_, reporter_b_;
  std::string org_a_, org_b_, duty_, token_a_, token_a2_, token_b_;
};

TEST_F(ApiExportsTest, RefusesInvalidRequestsNamingTheField) {
  auto field_of = [&](const std::string& body) {
    Response response = Call("POST", "/api/v1/exports", token_a_, body);
    EXPECT_EQ(response.status, 400) << body << " -> " << response.body;
    return ErrorField(response);
  };
  EXPECT_EQ(field_of(R"({"format":"csv"})"), "kind");
  EXPECT_EQ(field_of(R"({"kind":"users","format":"csv"})"), "kind");
  EXPECT_EQ(field_of(R"({"kind":"alerts","format":"xlsx"})"), "format");
  EXPECT_EQ(field_of(R"({"kind":"alerts","format":"csv","limit":5})"), "limit");
  EXPECT_EQ(field_of(R"({"kind":"alerts","format":"csv","filters":[]})"), "filters");
  EXPECT_EQ(field_of(R"({"kind":"alerts","format":"csv","filters":{"color":"red"}})"),
            "filters.color");
  EXPECT_EQ(field_of(R"({"kind":"alerts","format":"csv","filters":{"cursor":"x"}})"),
            "filters.cursor");
  EXPECT_EQ(field_of(R"({"kind":"alerts","format":"csv","filters":{"level":"urgent"}})"),
            "filters.level");
  EXPECT_EQ(field_of(R"({"kind":"alerts","format":"csv","filters":{"level":3}})"), "filters.level");
  EXPECT_EQ(field_of(R"({"kind":"alerts","format":"csv","filters":{"since":"yesterday"}})"),
            "filters.since");
  EXPECT_EQ(field_of(R"({"kind":"alerts","format":"csv","filters":{"org_id":"a\u0000b"}})"),
            "filters.org_id");
  // Each kind has the filters of its own list.
  EXPECT_EQ(field_of(R"({"kind":"incidents","format":"csv","filters":{"level":"high"}})"),
            "filters.level");
  EXPECT_EQ(field_of(R"({"kind":"incidents","format":"csv","filters":{"priority_min":"9"}})"),
            "filters.priority_min");
  EXPECT_EQ(field_of(R"({"kind":"incidents","format":"csv","filters":{"assigned_to":"you"}})"),
            "filters.assigned_to");
  EXPECT_EQ(Call("POST", "/api/v1/exports", "", R"({"kind":"alerts","format":"csv"})").status, 401);
  EXPECT_TRUE(jobs_->List(reporter_a_).empty());
}

TEST_F(ApiExportsTest, WithoutJobsOrDirectoryTheServiceAnswers503) {
  ApiContext no_jobs{*db_, *audit_, metrics_, context_->settings};
  Router router;
  RegisterExportRoutes(router, no_jobs);
  Request request;
  request.method = "POST";
  request.target = "/api/v1/exports";
  ASSERT_TRUE(DecodeTarget(request.target, request));
  request.body = R"({"kind":"alerts","format":"csv"})";
  request.headers.Set("Content-Type", "application/json");
  request.headers.Set("Authorization", "Bearer " + token_a_);
  EXPECT_EQ(router.Dispatch(request).status, 503);

  ApiContext no_dir{*db_, *audit_, metrics_, {}};
  no_dir.jobs = jobs_.get();
  Router router2;
  RegisterExportRoutes(router2, no_dir);
  EXPECT_EQ(router2.Dispatch(request).status, 503);
}

TEST_F(ApiExportsTest, MemberExportHoldsOnlyItsOrganizationsAlerts) {
  Insert({MakeAlert(org_a_, "high", T0 + 1), MakeAlert(org_a_, "low", T0 + 2),
          MakeAlert(org_a_, "critical", T0 + 3), MakeAlert(org_b_, "critical", T0 + 4),
          MakeAlert(org_b_, "high", T0 + 5)});
  JobSnapshot job = Export(token_a_, reporter_a_, R"({"kind":"alerts","format":"jsonl"})");
  ASSERT_EQ(job.state, JobState::kSucceeded) << job.error;
  EXPECT_EQ(job.unit, "rows");
  EXPECT_EQ(job.total, 3);
  EXPECT_EQ(job.done, job.total);
  EXPECT_EQ(ResultInt(job, "rows"), 3);
  std::string export_id = ResultText(job, "export_id");
  ASSERT_TRUE(exports::IsExportId(export_id));
  std::string url = ResultText(job, "download_url");
  EXPECT_EQ(url, "/api/v1/exports/" + export_id + "/download");

  Response download = Call("GET", url, token_a_);
  ASSERT_EQ(download.status, 200) << download.body;
  EXPECT_EQ(download.headers.Get("content-type").value_or(""), "application/x-ndjson");
  EXPECT_EQ(download.headers.Get("content-disposition").value_or("").rfind("attachment;", 0), 0u);
  EXPECT_EQ(static_cast<int64_t>(download.body.size()), ResultInt(job, "bytes"));
  std::vector<JsonValue> lines = Lines(download.body);
  ASSERT_EQ(lines.size(), 3u);
  for (const auto& line : lines) {
    EXPECT_EQ(line.Find("org_id")->as_string(), org_a_);
    EXPECT_EQ(line.Find("tlp")->as_string(), "amber");
    EXPECT_NE(line.Find("techniques_resolved"), nullptr);  // the list's item, as it is
  }
  // Newest event first, as the list.
  EXPECT_EQ(lines[0].Find("rule")->Find("level")->as_string(), "critical");

  // Nobody else downloads it: not a colleague, not another organisation, not the duty officer.
  EXPECT_EQ(Call("GET", url, token_a2_).status, 404);
  EXPECT_EQ(Call("GET", url, token_b_).status, 404);
  EXPECT_EQ(Call("GET", url, duty_).status, 404);
  EXPECT_EQ(Call("GET", "/api/v1/exports/" + hub::NewId() + "/download", token_a_).status, 404);
  EXPECT_EQ(Call("GET", "/api/v1/exports/hub.db/download", token_a_).status, 404);

  // The duty officer's export of the same list has every organisation's alerts.
  JobSnapshot all = Export(duty_, admin_, R"({"kind":"alerts","format":"jsonl"})");
  ASSERT_EQ(all.state, JobState::kSucceeded) << all.error;
  EXPECT_EQ(ResultInt(all, "rows"), 5);
}

TEST_F(ApiExportsTest, AppliesTheListsFiltersAndPagesThroughEverything) {
  std::vector<DetectedAlert> alerts;
  for (int i = 0; i < 1205; ++i) {
    alerts.push_back(MakeAlert(org_a_, i % 5 == 0 ? "high" : "low", T0 + i));
  }
  alerts.push_back(MakeAlert(org_b_, "high", T0));
  Insert(alerts);

  JobSnapshot everything = Export(token_a_, reporter_a_, R"({"kind":"alerts","format":"csv"})");
  ASSERT_EQ(everything.state, JobState::kSucceeded) << everything.error;
  EXPECT_EQ(everything.total, 1205);
  EXPECT_EQ(everything.done, 1205);
  Response download = Call("GET", ResultText(everything, "download_url"), token_a_);
  ASSERT_EQ(download.status, 200);
  auto records = ParseCsv(download.body);
  ASSERT_EQ(records.size(), 1206u);  // header + rows
  std::set<std::string> ids;
  for (size_t i = 1; i < records.size(); ++i) ids.insert(records[i][0]);
  EXPECT_EQ(ids.size(), 1205u);  // no row twice across pages

  JobSnapshot high = Export(token_a_, reporter_a_,
                            R"({"kind":"alerts","format":"csv","filters":{"level":"high",)"
                            R"("until":"2027-01-15T00:00:00.100Z"}})");
  ASSERT_EQ(high.state, JobState::kSucceeded) << high.error;
  EXPECT_EQ(ResultInt(high, "rows"), 20);  // i = 0, 5, ..., 95
  EXPECT_EQ(high.total, 20);
}

TEST_F(ApiExportsTest, CsvIsQuotedAndGuardedAgainstFormulas) {
  Insert({MakeAlert(org_a_, "high", T0 + 1, "=HYPERLINK(\"http://evil.example\",\"x\")"),
          MakeAlert(org_a_, "high", T0 + 2, "Brute force, \"admin\"\non two lines"),
          MakeAlert(org_a_, "high", T0 + 3, "@cmd"), MakeAlert(org_a_, "high", T0 + 4, "-1+1")});
  JobSnapshot job = Export(token_a_, reporter_a_, R"({"kind":"alerts","format":"csv"})");
  ASSERT_EQ(job.state, JobState::kSucceeded) << job.error;
  Response download = Call("GET", ResultText(job, "download_url"), token_a_);
  ASSERT_EQ(download.status, 200);
  EXPECT_EQ(download.headers.Get("content-type").value_or(""), "text/csv; charset=utf-8");
  EXPECT_NE(download.headers.Get("content-disposition").value_or("").find(".csv\""),
            std::string::npos);
  auto records = ParseCsv(download.body);
  ASSERT_EQ(records.size(), 5u);
  const auto& header = records[0];
  EXPECT_EQ(header[0], "id");
  size_t title = std::find(header.begin(), header.end(), "title") - header.begin();
  ASSERT_LT(title, header.size());
  for (const auto& record : records) EXPECT_EQ(record.size(), header.size());
  // Newest event first.
  EXPECT_EQ(records[1][title], "'-1+1");
  EXPECT_EQ(records[2][title], "'@cmd");
  EXPECT_EQ(records[3][title], "Brute force, \"admin\"\non two lines");
  EXPECT_EQ(records[4][title], "'=HYPERLINK(\"http://evil.example\",\"x\")");
  size_t techniques = std::find(header.begin(), header.end(), "techniques") - header.begin();
  ASSERT_LT(techniques, header.size());
  EXPECT_EQ(records[1][techniques], "T1110.001");
}

TEST_F(ApiExportsTest, IncidentExportFollowsTheReadPolicy) {
  std::string amber_a = Incident(reporter_a_);
  std::string red_a = Incident(reporter_a_, hub::Tlp::kRed, "=cmd|' /C calc'!A0");
  std::string amber_b = Incident(reporter_b_);

  // A colleague of the RED report's author does not get it; nor does anyone get B's report.
  JobSnapshot colleague = Export(token_a2_, reporter_a2_, R"({"kind":"incidents","format":"csv"})");
  ASSERT_EQ(colleague.state, JobState::kSucceeded) << colleague.error;
  EXPECT_EQ(colleague.total, 1);
  auto records = ParseCsv(Call("GET", ResultText(colleague, "download_url"), token_a2_).body);
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0][1], "reference");
  EXPECT_EQ(records[1][0], amber_a);

  JobSnapshot author = Export(token_a_, reporter_a_, R"({"kind":"incidents","format":"jsonl"})");
  ASSERT_EQ(author.state, JobState::kSucceeded) << author.error;
  std::vector<JsonValue> lines =
      Lines(Call("GET", ResultText(author, "download_url"), token_a_).body);
  std::set<std::string> ids;
  for (const auto& line : lines) ids.insert(line.Find("id")->as_string());
  EXPECT_EQ(ids, (std::set<std::string>{amber_a, red_a}));

  // The list's filters: tlp=red, and the title search.
  JobSnapshot red = Export(token_a_, reporter_a_,
                           R"({"kind":"incidents","format":"jsonl","filters":{"tlp":"red"}})");
  ASSERT_EQ(red.state, JobState::kSucceeded);
  EXPECT_EQ(ResultInt(red, "rows"), 1);
  JobSnapshot searched =
      Export(duty_, admin_, R"({"kind":"incidents","format":"csv","filters":{"q":"RANSOM"}})");
  ASSERT_EQ(searched.state, JobState::kSucceeded);
  EXPECT_EQ(ResultInt(searched, "rows"), 2);  // A's and B's AMBER reports, not the RED one
}

TEST_F(ApiExportsTest, ExportsAndDownloadsAreAudited) {
  Insert({MakeAlert(org_a_, "high", T0 + 1)});
  JobSnapshot job = Export(token_a_, reporter_a_,
                           R"({"kind":"alerts","format":"csv","filters":{"level":"low"}})");
  ASSERT_EQ(job.state, JobState::kSucceeded) << job.error;
  auto created = AuditEntries("export.create");
  ASSERT_EQ(created.size(), 1u);
  EXPECT_EQ(created[0].entry.actor_id, reporter_a_.user_id);
  EXPECT_EQ(created[0].entry.object_id, ResultText(job, "export_id"));
  auto detail = JsonValue::Parse(created[0].entry.detail);
  ASSERT_TRUE(detail);
  EXPECT_EQ(detail->Find("kind")->as_string(), "alerts");
  EXPECT_EQ(detail->Find("rows")->as_int(), 1);
  EXPECT_EQ(detail->Find("filters")->Find("level")->as_string(), "low");

  EXPECT_TRUE(AuditEntries("export.download").empty());
  ASSERT_EQ(Call("GET", ResultText(job, "download_url"), token_a_).status, 200);
  auto downloads = AuditEntries("export.download");
  ASSERT_EQ(downloads.size(), 1u);
  EXPECT_EQ(downloads[0].entry.object_id, ResultText(job, "export_id"));
  EXPECT_EQ(downloads[0].entry.tlp, hub::Tlp::kAmber);
}

TEST_F(ApiExportsTest, OldExportsAreRefusedAndDeleted) {
  Insert({MakeAlert(org_a_, "high", T0 + 1)});
  JobSnapshot job = Export(token_a_, reporter_a_, R"({"kind":"alerts","format":"jsonl"})");
  ASSERT_EQ(job.state, JobState::kSucceeded) << job.error;
  std::string id = ResultText(job, "export_id");
  std::filesystem::path dir = context_->settings.export_dir;
  auto record = exports::ReadRecord(dir, id);
  ASSERT_TRUE(record);
  EXPECT_EQ(record->owner_user_id, reporter_a_.user_id);
  EXPECT_EQ(record->rows, 1);
  ASSERT_TRUE(std::filesystem::exists(exports::DataPath(dir, id, "jsonl")));
  // AMBER data: only the service's user reads the file.
  auto perms = std::filesystem::status(exports::DataPath(dir, id, "jsonl")).permissions();
  EXPECT_EQ(perms & (std::filesystem::perms::group_all | std::filesystem::perms::others_all),
            std::filesystem::perms::none);

  // A day later it is still there; a moment after that it is gone.
  EXPECT_EQ(exports::PurgeExpired(dir, record->created_at_ms + exports::EXPORT_MAX_AGE_MS), 0u);
  EXPECT_TRUE(std::filesystem::exists(exports::DataPath(dir, id, "jsonl")));
  // Written as if made more than a day ago: the download refuses it, the next export removes it.
  record->created_at_ms -= exports::EXPORT_MAX_AGE_MS + 1;
  ASSERT_TRUE(exports::WriteRecord(dir, *record));
  EXPECT_EQ(Call("GET", ResultText(job, "download_url"), token_a_).status, 404);
  std::ofstream(dir / "unrelated.txt") << "not ours";
  JobSnapshot next = Export(token_a_, reporter_a_, R"({"kind":"alerts","format":"csv"})");
  ASSERT_EQ(next.state, JobState::kSucceeded) << next.error;
  EXPECT_FALSE(std::filesystem::exists(exports::DataPath(dir, id, "jsonl")));
  EXPECT_FALSE(std::filesystem::exists(exports::RecordPath(dir, id)));
  EXPECT_TRUE(std::filesystem::exists(dir / "unrelated.txt"));
  EXPECT_TRUE(
      std::filesystem::exists(exports::DataPath(dir, ResultText(next, "export_id"), "csv")));
}

// Starting an export writes (a file, an audit entry): like every POST it needs "write".
TEST_F(ApiExportsTest, AReadOnlyTokenMayNotExport) {
  std::string read_only = Token(reporter_a_.user_id, {"read"});
  Response refused =
      Call("POST", "/api/v1/exports", read_only, R"({"kind":"incidents","format":"csv"})");
  EXPECT_EQ(refused.status, 403) << refused.body;
  std::string writer = Token(reporter_a_.user_id, {"read", "write"});
  JobSnapshot job = Export(writer, reporter_a_, R"({"kind":"incidents","format":"csv"})");
  EXPECT_EQ(job.state, JobState::kSucceeded) << job.error;
  EXPECT_EQ(ResultInt(job, "rows"), 0);
}

}  // namespace
}  // namespace yagura::http

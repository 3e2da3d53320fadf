// Hostile input against the whole API: every route the router knows, every method it has,
// with malformed and hostile bodies, headers, credentials, paths and query strings; then the
// same kinds of abuse through the real Beast listener on 127.0.0.1.
//
// The routes are not listed here: the barrage walks router.routes() and derives its bodies
// from the JSON Schemas the routes name (hostile_support.hpp), so a route or a field added
// later is attacked without touching this file (a route whose {id} has no real object here
// fails the test until one is added). The oracle is the issue's rule for client errors: no
// 5xx ever; an invalid body is never accepted; every 4xx is the JSON error object and a
// validation error about one field names it; and nothing is written — after the barrage every
// table holds exactly the rows it held before (only the audit log, sessions and the login
// throttle may grow) and the audit chain still verifies.
//
// The barrage runs on SQLite, and on PostgreSQL too when YAGURA_TEST_POSTGRES_URL is set
// (scripts/with-postgres), since the two engines refuse different bytes.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iterator>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/json_value.hpp"
#include "core/metrics.hpp"
#include "core/time.hpp"
#include "core/utf8.hpp"
#include "http/api.hpp"
#include "http/console_control.hpp"
#include "http/jobs.hpp"
#include "http/router.hpp"
#include "http/server.hpp"
#include "hub/alerts.hpp"
#include "hub/attack.hpp"
#include "hub/audit_log.hpp"
#include "hub/crypto.hpp"
#include "hub/identity.hpp"
#include "hub/incidents.hpp"
#include "hub/passwords.hpp"
#include "hub/sensors.hpp"
#include "hub/taxii.hpp"
#include "intel/taxii_client.hpp"
#include "pipeline/event_store.hpp"
#include "unit/http/hostile_support.hpp"
#include "unit/hub/attack_test_bundle.hpp"
#include "unit/hub/hub_test_database.hpp"

namespace yagura::http {
namespace {

using hostile::BodyCase;
using hostile::BodyFactory;
using hostile::RawClient;
using hostile::Repeat;
using hub::testing::Backend;

constexpr std::string_view DUTY_PASSWORD = "duty officer password";

// ---- the world: a centre, a ministry, people with tokens, one object of each resource --------

class HostileWorld {
 public:
  bool Open(Backend backend, std::string& skip_reason) {
    hub::SetPasswordCost(hub::PasswordCost::Minimal());
    if (!database_.Open(backend, skip_reason)) return false;
    audit_ = std::make_unique<hub::AuditLog>(*database_);
    ServiceSettings settings;
    settings.max_attachment_bytes = 4096;
    context_ = std::make_unique<ApiContext>(ApiContext{*database_, *audit_, metrics_, settings});
    // Jobs and an indicator store (with one TAXII source, see Populate), so the job and
    // intelligence routes answer rather than 503.
    jobs_ = std::make_unique<JobRegistry>();
    context_->jobs = jobs_.get();
    std::string intel_dir =
        (std::filesystem::temp_directory_path() / ("yagura-hostile-intel-" + hub::NewId())).string();
    intel_dir_ = intel_dir;
    std::filesystem::create_directories(intel_dir);
    intel_ = MakeIntelControl(intel_dir);
    context_->intel = intel_.get();
    // An event store holding one event, so the raw-event routes answer rather than 503.
    pipeline::EventStoreOptions event_options;
    event_options.dir = intel_dir + "-events";
    events_dir_ = event_options.dir;
    auto events = pipeline::EventStore::Open(event_options);
    if (!events) {
      skip_reason = events.error().message;
      return false;
    }
    events_ = std::move(*events);
    context_->events = events_.get();
    RegisterApi(router_, *context_);
    return Populate();
  }

  ~HostileWorld() {
    if (jobs_) jobs_->Stop();
    if (!intel_dir_.empty()) std::filesystem::remove_all(intel_dir_);
    if (!events_dir_.empty()) std::filesystem::remove_all(events_dir_);
    router_ = Router();
    context_.reset();
    audit_.reset();
  }

  [[nodiscard]] const Router& router() const { return router_; }
  [[nodiscard]] const ApiContext& context() const { return *context_; }
  store::Database& database() { return *database_; }

  // Dispatches like the server would: decoded target, loopback address.
  Response Call(const std::string& method, const std::string& target, const std::string& bearer,
                std::string body = {}, std::string content_type = "application/json") {
    Request request;
    request.method = method;
    request.target = target;
    EXPECT_TRUE(DecodeTarget(target, request)) << target;
    request.remote_address = "127.0.0.1";
    if (!body.empty() || method == "POST" || method == "PATCH") {
      request.body = std::move(body);
      request.headers.Set("Content-Type", std::move(content_type));
    }
    if (!bearer.empty()) request.headers.Set("Authorization", "Bearer " + bearer);
    return router_.Dispatch(request);
  }

  // The id of an existing object for parameter `name` of `pattern`; nullopt when this world
  // has none (a new route: add an object for it in Populate).
  [[nodiscard]] std::optional<std::string> RealId(std::string_view pattern,
                                                  std::string_view name) const {
    auto under = [&](std::string_view prefix) { return pattern.starts_with(prefix); };
    if (under("/api/v1/incidents/")) {
      if (name == "id") return incident_;
      if (name == "user_id") return analyst_id_;
      if (name == "other_id") return other_incident_;
      if (name == "attachment_id") return incident_attachment_;
    }
    if (under("/api/v1/organizations/") && name == "id") return ministry_;
    if (under("/api/v1/users/") && name == "id") return reporter_id_;
    if (under("/api/v1/tokens/") && name == "id") return spare_token_;
    if (under("/api/v1/advisories/") && name == "id") return advisory_;
    if (under("/api/v1/requests/")) {
      if (name == "id") return request_;
      if (name == "user_id") return analyst_id_;
      if (name == "response_id") return request_response_;
      if (name == "attachment_id") return request_attachment_;
    }
    if (under("/api/v1/recommendations/") && name == "id") return recommendation_;
    if (under("/api/v1/cases/")) {
      if (name == "id") return case_;
      if (name == "user_id") return analyst_id_;
      if (name == "type") return std::string("alert");
      if (name == "object_id") return alert_;
      if (name == "evidence_id") return evidence_;
      if (name == "entry_id") return timeline_entry_;
      if (name == "import_id") return timeline_import_;
    }
    if (under("/api/v1/standards/") && name == "id") return standard_;
    if (under("/api/v1/audits/")) {
      if (name == "id") return agency_audit_;
      if (name == "user_id") return analyst_id_;
      if (name == "control_id") return std::string("h-1");
      if (name == "finding_id") return audit_finding_;
      if (name == "recommendation_id") return audit_recommendation_;
      if (name == "attachment_id") return audit_attachment_;
    }
    if (under("/api/v1/sensors/") && name == "id") return sensor_;
    if (under("/api/v1/alerts/") && name == "id") return alert_;
    if (under("/api/v1/campaigns/") && name == "id") return campaign_;
    if (under("/api/v1/attack/techniques/") && name == "id") return std::string("T1110");
    if (under("/api/v1/attack/groups/") && name == "id") return std::string("G0001");
    if (under("/taxii2/")) {
      if (name == "api_root") return std::string(hub::TAXII_DEFAULT_API_ROOT);
      if (name == "collection_id") return taxii_collection_;
      if (name == "object_id") return taxii_object_;
      if (name == "status_id") return taxii_status_;
    }
    if (under("/api/v1/taxii/collections/") && name == "id") return taxii_collection_;
    if (under("/api/v1/jobs/") && name == "id") return job_;
    if (under("/api/v1/intel/taxii-sources/") && name == "name") return std::string("partner");
    // No export is ever written here (no job registry): a well-formed export id that names none.
    if (under("/api/v1/exports/") && name == "export_id") return export_;
    return std::nullopt;
  }

  // Valid values for properties whose validity depends on this world's data.
  [[nodiscard]] std::map<std::string, JsonValue> Overrides() const {
    std::map<std::string, JsonValue> values;
    auto parse = [](std::string_view text) { return JsonValue::Parse(text).value(); };
    std::string future = FormatTimestampMs(NowMs() + 30LL * 24 * 3600 * 1000);
    values["username"] = JsonValue("hostile.user");
    values["password"] = JsonValue("a hostile password");
    values["current_password"] = JsonValue("not the current password");
    values["new_password"] = JsonValue("a new hostile password");
    values["roles"] = parse(R"(["org_reporter"])");
    values["scopes"] = parse(R"(["read"])");
    values["org_id"] = JsonValue(ministry_);
    values["target_org_id"] = JsonValue(ministry_);
    values["owner_org_id"] = JsonValue(ministry_);
    values["user_id"] = JsonValue(analyst_id_);
    values["incident_id"] = JsonValue(other_incident_);
    values["detected_at"] = JsonValue("2026-11-26T09:30:00+09:00");
    values["due_at"] = JsonValue(future);
    values["expires_at"] = JsonValue(future);
    values["target"] = parse(R"({"kind":"all"})");
    values["legal_basis"] = JsonValue("art30");
    values["auditee_org_id"] = JsonValue(ministry_);
    values["standard_id"] = JsonValue(standard_);
    values["control_id"] = JsonValue("h-1");
    values["point_of_contact"] = parse(R"({"name":"Sato Hanako","email":"sato@example.org"})");
    return values;
  }

  std::string duty_token_, read_only_token_, ministry_admin_token_, reporter_token_;
  std::string session_cookie_, session_csrf_;
  std::string incident_;

 private:
  std::string AddOrganization(const hub::Principal& admin, const std::string& name,
                              hub::OrgType type) {
    hub::NewOrganization org;
    org.name = name;
    org.type = type;
    auto created = hub::CreateOrganization(*database_, admin, org);
    EXPECT_TRUE(created) << created.error().message;
    return created ? created->id : "";
  }

  std::string AddUser(const hub::Principal& admin, const std::string& org_id,
                      const std::string& username, hub::Role role) {
    hub::NewUser user;
    user.username = username;
    user.org_id = org_id;
    user.roles = {role};
    auto created = hub::CreateUser(*database_, admin, user);
    EXPECT_TRUE(created) << created.error().message;
    return created ? created->id : "";
  }

  hub::CreatedApiToken AddToken(const hub::Principal& admin, const std::string& user_id,
                                std::vector<std::string> scopes) {
    auto token =
        hub::CreateToken(*database_, admin, user_id, "hostile", scopes, std::nullopt, NowMs());
    EXPECT_TRUE(token) << token.error().message;
    return token ? *token : hub::CreatedApiToken{};
  }

  // POSTs and returns the new object's id ("" and a test failure unless 201).
  std::string Create(const std::string& target, const std::string& bearer, std::string body,
                     std::string content_type = "application/json") {
    Response response = Call("POST", target, bearer, std::move(body), std::move(content_type));
    EXPECT_EQ(response.status, 201) << target << ": " << response.body;
    auto parsed = JsonValue::Parse(response.body);
    const JsonValue* id = parsed ? parsed->Find("id") : nullptr;
    return id != nullptr && id->is_string() ? id->as_string() : "";
  }

  bool Populate() {
    auto boot = hub::BootstrapCentre(*database_, "duty", DUTY_PASSWORD);
    if (!boot) {
      ADD_FAILURE() << boot.error().message;
      return false;
    }
    hub::Principal admin;
    admin.user_id = boot->user_id;
    admin.username = "duty";
    admin.org_id = boot->org_id;
    admin.org_type = hub::OrgType::kCentre;
    admin.roles = {hub::Role::kCentreAdmin};
    admin.method = hub::AuthMethod::kInternal;
    admin.remote_address = "127.0.0.1";

    ministry_ = AddOrganization(admin, "Ministry of Hostile Input", hub::OrgType::kMinistry);
    {
      pipeline::Envelope envelope;
      envelope.kind = pipeline::PayloadKind::kSyslog;
      envelope.org_id = ministry_;
      envelope.sensor_id = "syslog";
      envelope.received_at = "2026-11-20T09:00:00.000Z";
      envelope.payload = "Nov 20 09:00:00 web1 sshd[1]: Failed password for root";
      std::string bytes;
      pipeline::EncodeEnvelope(envelope, bytes);
      events_->Add(1, 1'795'165'200'000, 1'795'165'200'000, "web1", ministry_, bytes);
      if (!events_->Flush()) return false;
    }
    analyst_id_ = AddUser(admin, boot->org_id, "analyst", hub::Role::kCentreAnalyst);
    std::string ministry_admin = AddUser(admin, ministry_, "ministry.admin", hub::Role::kOrgAdmin);
    reporter_id_ = AddUser(admin, ministry_, "ministry.reporter", hub::Role::kOrgReporter);
    duty_token_ = AddToken(admin, boot->user_id, {"read", "write", "admin"}).secret;
    read_only_token_ = AddToken(admin, boot->user_id, {"read"}).secret;
    spare_token_ = AddToken(admin, boot->user_id, {"read"}).token.id;
    std::string analyst = AddToken(admin, analyst_id_, {"read", "write", "admin"}).secret;
    ministry_admin_token_ = AddToken(admin, ministry_admin, {"read", "write", "admin"}).secret;
    reporter_token_ = AddToken(admin, reporter_id_, {"read", "write"}).secret;

    Response login = Call("POST", "/api/v1/auth/login", "",
                          fmt::format(R"({{"username":"duty","password":"{}"}})", DUTY_PASSWORD));
    EXPECT_EQ(login.status, 200) << login.body;
    for (const auto& [name, value] : login.headers.all()) {
      if (name == "set-cookie" && value.starts_with("yagura_session=")) {
        session_cookie_ = value.substr(0, value.find(';'));
      }
    }
    if (auto body = JsonValue::Parse(login.body); body && body->Find("csrf_token")) {
      session_csrf_ = body->Find("csrf_token")->as_string();
    }
    EXPECT_FALSE(session_cookie_.empty() || session_csrf_.empty()) << "no session: " << login.body;

    const std::string report = R"({"title":"Ransomware on file servers",
      "description":"Files encrypted on two servers","category":"malware",
      "functional_impact":"significant_impact_to_non_critical_services",
      "information_impact":"privacy_data_breach","recoverability":"supplemented",
      "location":"business_network","detected_at":"2026-11-26T09:30:00+09:00",
      "point_of_contact":{"name":"Sato Hanako","email":"sato@example.org"}})";
    incident_ = Create("/api/v1/incidents", reporter_token_, report);
    other_incident_ = Create("/api/v1/incidents", reporter_token_, report);
    const std::string incident_path = "/api/v1/incidents/" + incident_;
    Create(incident_path + "/links", duty_token_,
           fmt::format(R"({{"incident_id":"{}","relation":"{}"}})", other_incident_,
                       hub::LinkRelationNames().front()));
    EXPECT_EQ(Call("POST", incident_path + "/assignees", duty_token_,
                   fmt::format(R"({{"user_id":"{}"}})", analyst_id_))
                  .status,
              201);
    Create(incident_path + "/comments", duty_token_, R"({"body":"First look."})");
    incident_attachment_ = Create(incident_path + "/attachments?filename=evidence.txt",
                                  reporter_token_, "evidence", "text/plain");

    advisory_ = Create("/api/v1/advisories", analyst,
                       R"({"title":"Hostile advisory","body":"Patch.","severity":"high",)"
                       R"("target":{"kind":"all"}})");
    request_ = Create("/api/v1/requests", analyst,
                      fmt::format(R"({{"legal_basis":"art30","target_org_id":"{}","title":"Logs",)"
                                  R"("body":"Mail gateway logs","due_at":"{}"}})",
                                  ministry_, FormatTimestampMs(NowMs() + 86'400'000)));
    request_response_ = Create("/api/v1/requests/" + request_ + "/responses", reporter_token_,
                               R"({"body":"Attached."})");
    request_attachment_ = Create("/api/v1/requests/" + request_ + "/responses/" +
                                     request_response_ + "/attachments?filename=logs.txt",
                                 reporter_token_, "log line", "text/plain");
    recommendation_ = Create("/api/v1/recommendations", duty_token_,
                             fmt::format(R"({{"target_org_id":"{}","title":"Enforce MFA",)"
                                         R"("body":"For remote access."}})",
                                         ministry_));
    auto sensor = hub::CreateSensorToken(*database_, hub::SystemPrincipal(), ministry_, "dc01",
                                         "product=windows", NowMs());
    EXPECT_TRUE(sensor) << sensor.error().message;
    if (sensor) sensor_ = sensor->sensor.id;

    // An alert of the ministry that belongs to a campaign, as the detector stores them.
    hub::DetectedAlert alert;
    alert.id = hub::NewId();
    alert.kind = "rule";
    alert.org_id = ministry_;
    alert.rule_id = "hostile-rule";
    alert.title = "Hostile rule";
    alert.level = "high";
    alert.techniques = {"T1110"};
    alert.event_time_ms = NowMs();
    alert.detected_at_ms = alert.event_time_ms;
    alert.details_json = R"({"rule":{"id":"hostile-rule"}})";
    hub::DetectedCampaign campaign;
    campaign.id = hub::NewId();
    campaign.key_kind = "rule";
    campaign.key_id = alert.rule_id;
    campaign.key_value = "198.51.100.1";
    campaign.title = "Hostile campaign";
    campaign.first_time_ms = campaign.last_time_ms = alert.event_time_ms;
    campaign.members = {{ministry_, alert.id, alert.event_time_ms}};
    std::vector<hub::DetectedAlert> alerts = {alert};
    std::vector<hub::DetectedCampaign> campaigns = {campaign};
    auto stored = hub::InsertDetections(*database_, alerts, campaigns, NowMs());
    EXPECT_TRUE(stored) << stored.error().ToString();
    alert_ = alert.id;
    campaign_ = campaign.id;
    auto catalogue =
        hub::ImportAttackBundle(*database_, hub::testing::SmallAttackBundle(), NowMs());
    EXPECT_TRUE(catalogue) << catalogue.error().ToString();
    // A TAXII collection with one published indicator, and the status of that envelope.
    taxii_collection_ =
        Create("/api/v1/taxii/collections", duty_token_, R"({"title":"Hostile sharing group"})");
    Response published =
        Call("POST", "/api/v1/taxii/collections/" + taxii_collection_ + "/publish", duty_token_,
             R"({"kind":"indicator","type":"ipv4","value":"198.51.100.9"})");
    EXPECT_EQ(published.status, 201) << published.body;
    if (auto body = JsonValue::Parse(published.body); body && body->Find("status")) {
      taxii_object_ = body->Find("primary_id")->as_string();
      taxii_status_ = body->Find("status")->Find("id")->as_string();
    }
    // A case of the duty officer's with the analyst as a member, one item of evidence, one
    // written timeline entry and one import.
    case_ = Create("/api/v1/cases", duty_token_,
                   fmt::format(R"({{"title":"Hostile case","members":[{{"user_id":"{}",)"
                               R"("role":"member"}}]}})",
                               analyst_id_));
    const std::string case_path = "/api/v1/cases/" + case_;
    evidence_ =
        Create(case_path + "/evidence", duty_token_,
               R"({"label":"Disk","kind":"disk_image","acquired_at":"2026-11-26T09:30:00Z",)"
               R"("acquired_by":"Tanaka","holder":"Tanaka"})");
    timeline_entry_ = Create(case_path + "/timeline", duty_token_,
                             R"({"at":"2026-11-26T09:00:00Z","kind":"note","title":"Start"})");
    timeline_import_ =
        Create(case_path + "/timeline/imports?source=hostile", duty_token_,
               R"({"message":"Logon","datetime":"2026-11-26T08:00:00Z"})", "application/x-ndjson");
    // A standard of two controls, and an audit of the ministry in fieldwork with the analyst on
    // its team, one finding and one recommendation.
    standard_ = Create("/api/v1/standards?source=hostile.json", duty_token_,
                       R"({"catalog":{"metadata":{"title":"Hostile standard"},"controls":[)"
                       R"({"id":"h-1","title":"One"},{"id":"h-2","title":"Two"}]}})");
    agency_audit_ = Create("/api/v1/audits", duty_token_,
                           fmt::format(R"({{"title":"Hostile audit","auditee_org_id":"{}",)"
                                       R"("standard_id":"{}","members":[{{"user_id":"{}",)"
                                       R"("role":"member"}}]}})",
                                       ministry_, standard_, analyst_id_));
    const std::string audit_path = "/api/v1/audits/" + agency_audit_;
    EXPECT_EQ(
        Call("POST", audit_path + "/transitions", duty_token_, R"({"status":"fieldwork"})").status,
        200);
    audit_finding_ =
        Create(audit_path + "/findings", duty_token_, R"({"control_id":"h-1","title":"Missing"})");
    audit_recommendation_ =
        Create(audit_path + "/findings/" + audit_finding_ + "/recommendations", duty_token_,
               R"({"text":"Fix it","due_at":"2027-01-01T00:00:00Z"})");
    Response attached = Call("PUT",
                             audit_path + "/recommendations/" + audit_recommendation_ +
                                 "/attachments?filename=paper.txt",
                             duty_token_, "working paper", "text/plain");
    EXPECT_EQ(attached.status, 201) << attached.body;
    if (auto body = JsonValue::Parse(attached.body); body && body->Find("id")) {
      audit_attachment_ = body->Find("id")->as_string();
    }
    // A finished job of the duty officer, and a partner's TAXII collection (never pulled: the
    // barrage sends no valid pull request).
    auto job = jobs_->Start("hostile.noop", admin,
                            [](JobHandle&) -> Result<JsonValue> { return JsonValue(); });
    EXPECT_TRUE(job);
    job_ = job.value_or("");
    {
      auto sources = intel::TaxiiSources::Load(intel_dir_);
      EXPECT_TRUE(sources);
      intel::TaxiiSource source;
      source.name = "partner";
      source.collection_url = "http://127.0.0.1:9/taxii2/api1/collections/hostile/";
      EXPECT_TRUE(sources && sources->Put(source) && sources->Save());
    }
    return !::testing::Test::HasFailure();
  }

  hub::testing::TestDatabase database_;
  std::unique_ptr<hub::AuditLog> audit_;
  Metrics metrics_;
  std::unique_ptr<ApiContext> context_;
  Router router_;
  std::string ministry_, analyst_id_, reporter_id_, spare_token_;
  std::string other_incident_, incident_attachment_, advisory_, request_, request_response_,
      request_attachment_, recommendation_, sensor_, alert_, campaign_;
  std::string taxii_collection_, taxii_object_, taxii_status_;
  std::string case_, evidence_, timeline_entry_, timeline_import_;
  std::string standard_, agency_audit_, audit_finding_, audit_recommendation_, audit_attachment_;
  std::unique_ptr<JobRegistry> jobs_;
  std::string intel_dir_, job_;
  std::unique_ptr<IntelControl> intel_;
  std::string events_dir_;
  std::unique_ptr<pipeline::EventStore> events_;
  std::string export_ = hub::NewId();
};

// ---- what the database holds ------------------------------------------------------------------

// Tables that may change while nothing is written on a client's behalf: reads and failed
// logins are audited, sessions are touched, failed logins are counted.
const std::set<std::string> MAY_CHANGE = {"audit_log", "audit_head", "login_throttle", "sessions"};

// Every row of every other table, as text, sorted; api_tokens without last_used_at (a token's
// use is recorded, which is not a write the client asked for).
std::map<std::string, std::vector<std::string>> Snapshot(store::Database& database) {
  auto connection = database.Acquire();
  store::Rows tables = database.engine() == store::Engine::kSqlite
                           ? connection->Query(
                                 "SELECT name FROM sqlite_master WHERE type = 'table' AND "
                                 "name NOT LIKE 'sqlite_%'")
                           : connection->Query(
                                 "SELECT table_name FROM information_schema.tables WHERE "
                                 "table_schema = current_schema()");
  std::map<std::string, std::vector<std::string>> snapshot;
  for (const auto& table_row : tables.rows) {
    std::string table = table_row[0].text();
    if (MAY_CHANGE.count(table) != 0) continue;
    store::Rows rows = connection->Query("SELECT * FROM " + table);
    std::vector<std::string>& lines = snapshot[table];
    for (const auto& row : rows.rows) {
      std::string line;
      for (size_t i = 0; i < row.size(); ++i) {
        if (table == "api_tokens" && rows.columns[i] == "last_used_at") continue;
        line += rows.columns[i] + "=" + (row[i].is_null() ? "NULL" : row[i].text()) + "|";
      }
      lines.push_back(std::move(line));
    }
    std::sort(lines.begin(), lines.end());
  }
  return snapshot;
}

// ---- shots and the oracle ---------------------------------------------------------------------

struct Shot {
  std::string method;
  std::string target;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  bool must_fail = false;  // invalid body or credentials: never 2xx
  int expect_status = 0;   // when set, exactly this status
  std::string field;       // a 400 invalid_request should name this field (or a part of it)
  std::string label;
  std::string route;  // the pattern aimed at; reports are given once per
  std::string kind;   // (problem, method, route, kind), kind leaving out the actor
};

std::string Printable(std::string_view text, size_t limit) {
  std::string out;
  for (size_t i = 0; i < text.size() && out.size() < limit; ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    out +=
        c >= 0x20 && c < 0x7f ? std::string(1, static_cast<char>(c)) : fmt::format("\\x{:02x}", c);
  }
  if (out.size() >= limit) out += fmt::format("...({} bytes)", text.size());
  return out;
}

class Barrage {
 public:
  explicit Barrage(const Router& router) : router_(router) {}

  Response Fire(const Shot& shot) {
    ++requests_;
    Request request;
    request.method = shot.method;
    request.target = shot.target;
    request.remote_address = "127.0.0.1";
    auto decoded = DecodeTarget(shot.target, request);
    if (decoded) decoded = CheckDecodedText(request);
    if (!decoded) {
      // The server answers 400 before routing; the router must cope with the raw path too.
      ++refused_targets_;
      request.path = shot.target.substr(0, shot.target.find('?'));
      request.query.clear();
    }
    for (const auto& [name, value] : shot.headers) request.headers.Add(name, value);
    request.body = shot.body;
    Response response = router_.Dispatch(request);
    Judge(shot, response);
    return response;
  }

  void Fail(const Shot& shot, const Response& response, std::string_view problem) {
    ++violations_;
    std::string key = fmt::format("{} {} {} {}", problem, shot.method, shot.route,
                                  shot.kind.empty() ? shot.label : shot.kind);
    if (!seen_.insert(key).second || reports_.size() >= 200) return;
    reports_.push_back(fmt::format("{}: {} {} [{}]\n    body: {}\n    -> {} {}", problem,
                                   shot.method, Printable(shot.target, 160), shot.label,
                                   Printable(shot.body, 160), response.status,
                                   Printable(response.body, 300)));
  }

  void Judge(const Shot& shot, const Response& response) {
    if (response.status >= 500) return Fail(shot, response, "server error");
    if (shot.must_fail && response.status < 300) return Fail(shot, response, "accepted");
    if (shot.expect_status != 0 && response.status != shot.expect_status) {
      return Fail(shot, response, fmt::format("expected {}", shot.expect_status));
    }
    if (response.status < 400 || shot.method == "HEAD") return;
    auto parsed = JsonValue::Parse(response.body);
    const JsonValue* error = parsed ? parsed->Find("error") : nullptr;
    const JsonValue* status = error ? error->Find("status") : nullptr;
    const JsonValue* code = error ? error->Find("code") : nullptr;
    const JsonValue* message = error ? error->Find("message") : nullptr;
    if (status == nullptr || !status->is_integer() || status->as_int() != response.status ||
        code == nullptr || !code->is_string() || code->as_string().empty() || message == nullptr ||
        !message->is_string() || message->as_string().empty()) {
      return Fail(shot, response, "not the JSON error object");
    }
    if (shot.field.empty() || response.status != 400 || code->as_string() != "invalid_request") {
      return;
    }
    const JsonValue* field = error->Find("field");
    if (field == nullptr || !field->is_string() || field->as_string().empty()) {
      return Fail(shot, response, "validation error without field");
    }
    // The named field is the broken one, or a part of it ("cves[0]" for "cves"), or contains it.
    const std::string& named = field->as_string();
    if (!named.starts_with(shot.field) && !shot.field.starts_with(named)) {
      Fail(shot, response, fmt::format("names {} instead of {}", named, shot.field));
    }
  }

  [[nodiscard]] size_t requests() const { return requests_; }
  [[nodiscard]] size_t refused_targets() const { return refused_targets_; }
  [[nodiscard]] size_t violations() const { return violations_; }
  [[nodiscard]] const std::vector<std::string>& reports() const { return reports_; }

 private:
  const Router& router_;
  size_t requests_ = 0;
  size_t refused_targets_ = 0;
  size_t violations_ = 0;
  std::set<std::string> seen_;
  std::vector<std::string> reports_;
};

// ---- path parameters -------------------------------------------------------------------------

std::string PercentEncode(std::string_view text) {
  std::string out;
  for (unsigned char c : text) {
    bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '-' || c == '.' || c == '_' || c == '~';
    out += plain ? std::string(1, static_cast<char>(c)) : fmt::format("%{:02X}", c);
  }
  return out;
}

struct PathValue {
  std::string label;
  std::string text;  // inserted percent-encoded, or as is when raw
  bool raw = false;
};

std::vector<PathValue> HostilePathValues() {
  return {
      {"nonexistent uuid", hub::NewId()},
      {"nil uuid", "00000000-0000-0000-0000-000000000000"},
      {"traversal", "../../etc"},
      {"raw traversal", "../../etc/passwd", true},
      {"dot", ".", true},
      {"dot dot", "..", true},
      {"encoded dot dot", "%2e%2e", true},
      {"encoded NUL", "%00", true},
      {"NUL inside", "a%00b", true},
      {"literal %00", "%00"},
      {"bad escape", "%zz", true},
      {"truncated escape", "%", true},
      {"overlong dot dot", "%c0%ae%c0%ae", true},
      {"overlong slash", "a%c0%afb", true},
      {"invalid utf-8", "\xff\xfe"},
      {"10 KB", Repeat("a", 10 * 1024)},
      {"unicode", "\xE6\x97\xA5\xE6\x9C\xAC\xF0\x9F\x99\x82"},
      {"raw unicode", "\xE6\x97\xA5\xE6\x9C\xAC", true},
      {"sql", "' OR '1'='1"},
      {"backslash", "..\\..\\windows"},
      {"control", "a\x01\x1b[2Jb"},
  };
}

// Splits "/api/v1/incidents/{id}/links/{other_id}" into literal and parameter parts.
std::vector<std::pair<bool, std::string>> PatternParts(const std::string& pattern) {
  std::vector<std::pair<bool, std::string>> parts;
  size_t at = 0;
  while (at < pattern.size()) {
    size_t open = pattern.find('{', at);
    if (open == std::string::npos) {
      parts.emplace_back(false, pattern.substr(at));
      break;
    }
    if (open > at) parts.emplace_back(false, pattern.substr(at, open - at));
    size_t close = pattern.find('}', open);
    parts.emplace_back(true, pattern.substr(open + 1, close - open - 1));
    at = close + 1;
  }
  return parts;
}

// One way of filling a route's parameters.
struct PathChoice {
  std::string label;
  std::string path;
  bool all_real = false;
  bool heavy = false;  // also gets the big bodies (real and nonexistent ids only)
};

std::vector<PathChoice> PathChoices(const HostileWorld& world, const std::string& pattern) {
  auto parts = PatternParts(pattern);
  std::vector<std::string> params;
  for (const auto& [param, text] : parts) {
    if (param) params.push_back(text);
  }
  auto build = [&](auto value_of) {
    std::string path;
    for (const auto& [param, text] : parts) path += param ? value_of(text) : text;
    return path;
  };
  auto real = [&](const std::string& name) {
    auto id = world.RealId(pattern, name);
    if (!id) ADD_FAILURE() << "no existing object for {" << name << "} of " << pattern;
    return id.value_or("missing");
  };
  auto insert = [](const PathValue& value) {
    return value.raw ? value.text : PercentEncode(value.text);
  };
  std::vector<PathChoice> choices;
  choices.push_back({"real ids", build(real), true, true});
  if (params.empty()) return choices;
  for (const PathValue& value : HostilePathValues()) {
    bool heavy = value.label == "nonexistent uuid";
    choices.push_back({"all " + value.label,
                       build([&](const std::string&) { return insert(value); }), false, heavy});
    if (params.size() < 2) continue;
    for (const std::string& broken : params) {
      choices.push_back({broken + " " + value.label, build([&](const std::string& name) {
                           return name == broken ? insert(value) : real(name);
                         }),
                         false, false});
    }
  }
  return choices;
}

// ---- bodies that are never a valid request -----------------------------------------------------

std::vector<BodyCase> GenericBodies(bool heavy) {
  std::vector<BodyCase> bodies = {
      {"empty", "", ""},
      {"whitespace", "", " \r\n\t "},
      {"null", "", "null"},
      {"array", "", "[]"},
      {"number", "", "123"},
      {"string", "", "\"text\""},
      {"true", "", "true"},
      {"open brace", "", "{"},
      {"dangling key", "", "{\"a\":"},
      {"trailing comma", "", "{\"a\":1,}"},
      {"single quotes", "", "{'a':1}"},
      {"trailing garbage", "", "{\"a\":1}garbage"},
      {"two objects", "", "{\"a\":1}{\"b\":2}"},
      {"comment", "", "{/*x*/\"a\":1}"},
      {"NaN", "", "{\"a\":NaN}"},
      {"invalid utf-8", "", "\xff\xfe\xfd"},
      {"invalid utf-8 in a string", "", "{\"a\":\"\xc0\xaf\"}"},
      {"lone surrogate", "", "{\"a\":\"\\ud800\"}"},
      {"BOM", "", "\xEF\xBB\xBF{\"a\":1}"},
      {"1e999", "", "{\"n\":1e999}"},
      {"-0", "", "{\"n\":-0}"},
      {"1.5", "", "{\"n\":1.5}"},
      {"duplicate keys", "", "{\"a\":1,\"a\":2}"},
      {"NUL in a key", "", std::string("{\"a\\u0000b\":1}")},
      {"NUL in a value", "", std::string("{\"a\":\"x\\u0000y\"}")},
      {"raw NUL", "", std::string("{\"a\":\"x") + '\0' + "y\"}"},
      {"unknown member", "", "{\"zz_unknown\":true}"},
      {"nested junk", "", "{\"a\":{\"b\":[1,{\"c\":null}]}}"},
  };
  if (heavy) {
    bodies.push_back({"100k [", "", Repeat("[", 100000)});
    bodies.push_back({"100k {\"a\":", "", Repeat("{\"a\":", 100000)});
    bodies.push_back({"2 MB string", "", "{\"value\":\"" + Repeat("x", 2 * 1024 * 1024) + "\"}"});
    bodies.push_back({"100k members", "", [] {
                        std::string text = "{";
                        for (int i = 0; i < 100000; ++i) text += fmt::format("\"k{}\":{},", i, i);
                        text.back() = '}';
                        return text;
                      }()});
  }
  return bodies;
}

// ---- the barrage
// ---------------------------------------------------------------------------------

bool IsSafeMethod(const std::string& method) { return method == "GET" || method == "HEAD"; }

class HostileInputTest : public ::testing::TestWithParam<Backend> {};

TEST_P(HostileInputTest, NoRouteAcceptsBreaksOrWritesOnHostileInput) {
  HostileWorld world;
  std::string skip;
  if (!world.Open(GetParam(), skip)) {
    if (GetParam() == Backend::kPostgres && !skip.empty()) GTEST_SKIP() << skip;
    FAIL() << "could not build the world " << skip;
  }
  auto started = std::chrono::steady_clock::now();
  auto before = Snapshot(world.database());
  BodyFactory factory(world.context().schemas, world.Overrides());
  Barrage barrage(world.router());
  const std::string json = "application/json";
  auto bearer = [](const std::string& token) {
    return std::pair<std::string, std::string>{"Authorization", "Bearer " + token};
  };

  struct Actor {
    std::string label;
    std::string token;
  };
  const std::vector<Actor> actors = {{"centre_admin", world.duty_token_},
                                     {"org_admin", world.ministry_admin_token_}};

  std::set<std::string> patterns;
  for (const Route& route : world.router().routes()) {
    patterns.insert(route.pattern);
    const bool json_body = !route.doc.request_schema.empty();
    const bool authenticated = route.doc.authenticated;
    // POST routes without a JSON schema: an optional JSON body (acknowledgement), a raw upload
    // that needs a file name (the body barrage sends none), or logout, which ignores its body.
    const bool bodyless_post = route.method == "POST" && !json_body;
    const bool ignores_body = IsSafeMethod(route.method) || route.method == "DELETE" ||
                              route.pattern == "/api/v1/auth/logout";
    std::vector<BodyCase> cases =
        json_body ? factory.Cases(route.doc.request_schema) : std::vector<BodyCase>{};
    if (json_body) {
      EXPECT_FALSE(cases.empty()) << route.pattern << " names schema " << route.doc.request_schema
                                  << " which does not exist";
    }
    // A body that is valid except for one unknown member: what header abuse is sent with.
    std::string almost_valid = cases.empty() ? std::string() : [&] {
      for (const auto& c : cases) {
        if (c.field == "zz_unknown") return c.text;
      }
      return std::string("{\"zz_unknown\":1}");
    }();

    for (const PathChoice& path : PathChoices(world, route.pattern)) {
      // 1. Bodies, from each actor.
      for (const Actor& actor : actors) {
        auto fire_body = [&](const BodyCase& body, bool schema_case) {
          // Real objects are never sent a request that would be valid: a DELETE, or a POST
          // whose empty body is acceptable (acknowledging, logging out).
          if (path.all_real && (route.method == "DELETE" || (bodyless_post && body.text.empty()))) {
            return;
          }
          Shot shot;
          shot.method = route.method;
          shot.target = path.path;
          shot.body = body.text;
          shot.headers = {bearer(actor.token), {"Content-Type", json}};
          shot.must_fail = json_body || (bodyless_post && !ignores_body);
          if (schema_case && path.all_real) shot.field = body.field;
          shot.label = fmt::format("{} / {} / {}", path.label, actor.label, body.label);
          shot.route = route.pattern;
          shot.kind = path.label + " / " + body.label;
          barrage.Fire(shot);
        };
        for (const BodyCase& body : GenericBodies(path.heavy)) fire_body(body, false);
        if (path.all_real || path.heavy) {
          for (const BodyCase& body : cases) fire_body(body, true);
        }
      }

      if (!path.all_real && !path.heavy) continue;
      // 2. Credentials and CSRF.
      const bool write = !IsSafeMethod(route.method);
      // The ingest route takes sensor tokens only: any user credential is simply unknown there.
      const bool sensor_route = route.pattern == "/api/v1/ingest";
      const int refused_write = sensor_route ? 401 : write ? 403 : 0;
      const std::string body = json_body ? almost_valid : std::string();
      struct CredentialCase {
        std::string label;
        std::vector<std::pair<std::string, std::string>> headers;
        int status;          // expected on an authenticated route (0: the body decides)
        bool valid = false;  // the credentials would allow the request
      };
      const std::string session = world.session_cookie_;
      std::vector<CredentialCase> credentials = {
          {"no credentials", {}, 401},
          {"Bearer alone", {{"Authorization", "Bearer"}}, 401},
          {"Bearer and a space", {{"Authorization", "Bearer "}}, 401},
          {"Bearer 10 KB", {{"Authorization", "Bearer " + Repeat("A", 10 * 1024)}}, 401},
          {"Bearer ygt_ 10 KB", {{"Authorization", "Bearer ygt_" + Repeat("A", 10 * 1024)}}, 401},
          {"Basic", {{"Authorization", "Basic eHh4Onl5eQ=="}}, 401},
          {"forged token", {{"Authorization", "Bearer ygt_forged"}}, 401},
          {"token with NUL",
           {{"Authorization", "Bearer " + world.duty_token_ + std::string(1, '\0')}},
           401},
          {"token twice",
           {{"Authorization", "Bearer " + world.duty_token_ + " " + world.duty_token_}},
           401},
          {"token without scheme", {{"Authorization", world.duty_token_}}, 401},
          {"unicode token", {{"Authorization", "Bearer \xE6\x97\xA5\xE6\x9C\xAC"}}, 401},
          {"garbage cookie", {{"Cookie", "yagura_session=garbage"}}, 401},
          {"10 KB cookie", {{"Cookie", "yagura_session=" + Repeat("c", 10 * 1024)}}, 401},
          {"cookie syntax soup", {{"Cookie", ";;;==;=;yagura_session;\"\";\x01\x7f"}}, 401},
          {"empty quoted cookie", {{"Cookie", "yagura_session=\"\""}}, 401},
          {"garbage Authorization beside a session",
           {{"Authorization", "Bearer nope"},
            {"Cookie", session},
            {"X-CSRF-Token", world.session_csrf_}},
           401},
          {"session without CSRF", {{"Cookie", session}}, refused_write, !write},
          {"session with garbage CSRF",
           {{"Cookie", session}, {"X-CSRF-Token", "garbage"}},
           refused_write,
           !write},
          {"session with 10 KB CSRF",
           {{"Cookie", session}, {"X-CSRF-Token", Repeat("z", 10 * 1024)}},
           refused_write,
           !write},
          {"read-only token", {bearer(world.read_only_token_)}, refused_write, !write},
          {"token with garbage CSRF and cookie",
           {bearer(world.duty_token_), {"X-CSRF-Token", "\x01garbage"}, {"Cookie", "a=\x01; b"}},
           0,
           true},
      };
      for (const CredentialCase& credential : credentials) {
        if (credential.valid && path.all_real &&
            (route.method == "DELETE" || (bodyless_post && body.empty()))) {
          continue;
        }
        Shot shot;
        shot.method = route.method;
        shot.target = path.path;
        shot.body = body;
        shot.headers = credential.headers;
        shot.headers.emplace_back("Content-Type", json);
        shot.must_fail = json_body || (authenticated && credential.status != 0);
        shot.expect_status = authenticated && path.all_real ? credential.status : 0;
        if (!authenticated && !json_body) shot.must_fail = false;
        shot.label = fmt::format("{} / {}", path.label, credential.label);
        shot.route = route.pattern;
        barrage.Fire(shot);
      }

      if (!path.all_real) continue;
      // 3. Content types: even a body that is valid JSON is refused unless it is declared so.
      if (json_body) {
        for (const std::string& type :
             {std::string(), std::string("text/plain"),
              std::string("application/json; charset=latin1"),
              std::string("multipart/form-data; boundary=xyz"),
              std::string("application/x-www-form-urlencoded"), std::string("application/jsonx"),
              std::string("APPLICATION/JSON"), std::string("application/json\0", 17),
              "application/" + Repeat("j", 10 * 1024), std::string(" application/json ")}) {
          Shot shot;
          shot.method = route.method;
          shot.target = path.path;
          shot.body = almost_valid;
          shot.headers = {bearer(world.duty_token_)};
          if (!type.empty()) shot.headers.emplace_back("Content-Type", type);
          shot.must_fail = true;
          shot.label = "content type " + Printable(type, 60);
          shot.route = route.pattern;
          barrage.Fire(shot);
        }
        for (const std::string& type :
             {std::string("text/plain"), std::string("multipart/form-data; boundary=xyz"),
              std::string("application/x-www-form-urlencoded")}) {
          Shot shot;
          shot.method = route.method;
          shot.target = path.path;
          shot.body =
              factory.Base(*world.context().schemas.Find(route.doc.request_schema)).Serialize();
          shot.headers = {bearer(world.duty_token_), {"Content-Type", type}};
          shot.expect_status = 415;
          shot.must_fail = true;
          shot.label = "valid JSON declared as " + type;
          shot.route = route.pattern;
          barrage.Fire(shot);
        }
      }
      // 4. Uploads: raw bodies named by ?filename= or Content-Disposition, typed by
      // Content-Type; a bad name or type must be refused before anything is stored.
      if (bodyless_post && std::find(route.doc.query.begin(), route.doc.query.end(), "filename") !=
                               route.doc.query.end()) {
        const std::vector<std::string> names = {"",
                                                ".",
                                                "..",
                                                std::string("a\0b", 3),
                                                "\xff\xfe",
                                                "\xc0\xae\xc0\xae",
                                                Repeat("n", 300),
                                                "a\x1b[2J.txt",
                                                "a\"b.txt",
                                                "dir/",
                                                "..\\",
                                                "a\r\nb.txt"};
        const std::vector<std::string> types = {"",
                                                std::string("text/plain\0x", 12),
                                                "\xff\xfe/x",
                                                "text/plain\r\nX-Injected: 1",
                                                "text/" + Repeat("p", 300),
                                                "text/plain; charset=\xff",
                                                "nonsense",
                                                "/",
                                                "text/"};
        const std::vector<std::string> dispositions = {"attachment; filename*=UTF-8''a%00b",
                                                       "attachment; filename*=UTF-8''%ff%fe",
                                                       "attachment; filename=\"..\"",
                                                       "attachment; filename=\"\"",
                                                       "attachment",
                                                       "attachment; filename*=UTF-8''%c0%ae%c0%ae",
                                                       "attachment; filename=\"a/\""};
        auto upload = [&](const Actor& actor, const std::string& query, std::string type,
                          std::optional<std::string> disposition, const std::string& label) {
          Shot shot;
          shot.method = route.method;
          shot.target = path.path + query;
          shot.body = "attachment content";
          shot.headers = {bearer(actor.token), {"Content-Type", std::move(type)}};
          if (disposition) shot.headers.emplace_back("Content-Disposition", *disposition);
          shot.must_fail = true;
          shot.label = actor.label + " / " + label;
          shot.route = route.pattern;
          shot.kind = label;
          barrage.Fire(shot);
        };
        for (const Actor& actor : actors) {
          for (const std::string& name : names) {
            upload(actor, "?filename=" + PercentEncode(name), "text/plain", std::nullopt,
                   "filename " + Printable(name, 40));
          }
          for (const std::string& type : types) {
            upload(actor, "?filename=ok.txt", type, std::nullopt,
                   "upload type " + Printable(type, 40));
          }
          for (const std::string& disposition : dispositions) {
            upload(actor, "", "text/plain", disposition,
                   "disposition " + Printable(disposition, 60));
          }
        }
      }
      // 5. Query strings, on reads.
      if (IsSafeMethod(route.method)) {
        std::vector<std::string> names = route.doc.query;
        for (const char* name : {"limit", "cursor", "zz_unknown", ""}) names.emplace_back(name);
        const std::vector<std::string> values = {"",
                                                 "-1",
                                                 "0",
                                                 "1",
                                                 "201",
                                                 "99999999999999999999",
                                                 "1e3",
                                                 "abc",
                                                 "true",
                                                 Repeat("q", 10 * 1024),
                                                 std::string("a\0b", 3),
                                                 "\xE6\x97\xA5",
                                                 "\xff\xfe",
                                                 "\xc0\xae\xc0\xae",
                                                 "a\x1b[2Jb",
                                                 "1.zz",
                                                 "-5.abc",
                                                 "99999999999999999999.abc",
                                                 ".abc",
                                                 "1." + Repeat("a", 65),
                                                 "' OR 1=1 --",
                                                 "%"};
        for (const std::string& name : names) {
          for (const std::string& value : values) {
            Shot shot;
            shot.method = route.method;
            shot.target = path.path + "?" + PercentEncode(name) + "=" + PercentEncode(value);
            shot.headers = {bearer(world.duty_token_)};
            shot.label = "query " + name + "=" + Printable(value, 40);
            shot.route = route.pattern;
            barrage.Fire(shot);
          }
        }
        for (const char* query : {"?limit=1&limit=500", "?cursor=x&cursor=y", "?limit", "?=x",
                                  "?&&&", "?", "?limit=%zz", "?limit=%", "?%00=1", "?limit=1%00",
                                  "?q=%c0%ae", "?limit=+1", "?limit=1#frag"}) {
          Shot shot;
          shot.method = route.method;
          shot.target = path.path + query;
          shot.headers = {bearer(world.duty_token_)};
          shot.label = std::string("query ") + query;
          shot.route = route.pattern;
          barrage.Fire(shot);
        }
      }
    }
  }

  // 6. Methods nobody registered, on every pattern.
  for (const std::string& pattern : patterns) {
    std::set<std::string> registered;
    for (const Route& route : world.router().routes()) {
      if (route.pattern == pattern) registered.insert(route.method);
    }
    std::string path = PathChoices(world, pattern).front().path;
    // A literal path can also match another pattern's parameter ("/users/names" and
    // "/users/{id}"); the router then hands that pattern's methods to it, so they are not 405.
    auto segments = [](std::string_view text) {
      std::vector<std::string> parts;
      for (size_t at = 0; at < text.size();) {
        size_t next = text.find('/', at);
        if (next == std::string_view::npos) next = text.size();
        parts.emplace_back(text.substr(at, next - at));
        at = next + 1;
      }
      return parts;
    };
    std::vector<std::string> path_parts = segments(pattern);
    for (const Route& route : world.router().routes()) {
      std::vector<std::string> route_parts = segments(route.pattern);
      if (route_parts.size() != path_parts.size()) continue;
      bool match = true;
      for (size_t i = 0; i < route_parts.size() && match; ++i) {
        bool param = !route_parts[i].empty() && route_parts[i].front() == '{';
        match = param || route_parts[i] == path_parts[i];
      }
      if (match) registered.insert(route.method);
    }
    for (const std::string& method :
         {std::string("GET"), std::string("POST"), std::string("PUT"), std::string("PATCH"),
          std::string("DELETE"), std::string("OPTIONS"), std::string("TRACE"),
          std::string("CONNECT"), std::string("get"), std::string("G E T"), std::string(),
          Repeat("X", 10 * 1024)}) {
      if (registered.count(method) != 0) continue;
      Shot shot;
      shot.method = method;
      shot.target = path;
      shot.body = "{\"zz_unknown\":1}";
      shot.headers = {bearer(world.duty_token_), {"Content-Type", json}};
      shot.expect_status = 405;
      shot.label = "method " + Printable(method, 20);
      shot.route = pattern;
      barrage.Fire(shot);
    }
  }

  // Nothing was written, the audit chain holds, and the API still works.
  auto after = Snapshot(world.database());
  for (const auto& [table, rows] : before) {
    const auto& now = after[table];
    if (rows == now) continue;
    std::vector<std::string> added, removed;
    std::set_difference(now.begin(), now.end(), rows.begin(), rows.end(),
                        std::back_inserter(added));
    std::set_difference(rows.begin(), rows.end(), now.begin(), now.end(),
                        std::back_inserter(removed));
    ADD_FAILURE() << "table " << table << " changed: " << rows.size() << " -> " << now.size()
                  << " rows; first new or changed: "
                  << (added.empty() ? "-" : Printable(added.front(), 600))
                  << "\n  first removed or changed: "
                  << (removed.empty() ? "-" : Printable(removed.front(), 600));
  }
  EXPECT_EQ(before.size(), after.size()) << "tables appeared";
  {
    auto connection = world.database().Acquire();
    hub::AuditVerification verification = hub::AuditLog::Verify(*connection);
    EXPECT_TRUE(verification.intact)
        << "audit chain broken at " << verification.first_bad_seq << ": " << verification.problem;
    EXPECT_GT(verification.entries, 0);
  }
  EXPECT_EQ(world.Call("GET", "/healthz", "").status, 200);
  EXPECT_EQ(world.Call("GET", "/api/v1/incidents/" + world.incident_, world.duty_token_).status,
            200);

  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::printf(
      "hostile input (%s): %zu requests on %zu routes (%zu refused by target decoding), "
      "%zu violations, %.1f s\n",
      GetParam() == Backend::kSqlite ? "SQLite" : "PostgreSQL", barrage.requests(),
      world.router().routes().size(), barrage.refused_targets(), barrage.violations(), seconds);
  for (const std::string& report : barrage.reports()) ADD_FAILURE() << report;
  EXPECT_EQ(barrage.violations(), 0u);
}

INSTANTIATE_TEST_SUITE_P(Backends, HostileInputTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         hub::testing::BackendName);

// ---- the checks the server applies after decoding a target --------------------------------------

TEST(HostileText, Utf8IsCheckedStrictly) {
  EXPECT_TRUE(ValidUtf8(""));
  EXPECT_TRUE(ValidUtf8("/api/v1/incidents"));
  EXPECT_TRUE(ValidUtf8("\xE6\x97\xA5\xE6\x9C\xAC"));  // 日本
  EXPECT_TRUE(ValidUtf8("\xF0\x9F\x99\x82"));          // U+1F642
  EXPECT_TRUE(ValidUtf8("\xF4\x8F\xBF\xBF"));          // U+10FFFF, the last code point
  EXPECT_FALSE(ValidUtf8("\xC0\xAE"));                 // overlong '.'
  EXPECT_FALSE(ValidUtf8("\xE0\x80\xAE"));             // overlong '.' in three bytes
  EXPECT_FALSE(ValidUtf8("\xF0\x80\x80\xAF"));         // overlong '/' in four bytes
  EXPECT_FALSE(ValidUtf8("\xED\xA0\x80"));             // a surrogate
  EXPECT_FALSE(ValidUtf8("\xF4\x90\x80\x80"));         // above U+10FFFF
  EXPECT_FALSE(ValidUtf8("\xE6\x97"));                 // truncated
  EXPECT_FALSE(ValidUtf8("\x80"));                     // a stray continuation byte
  EXPECT_FALSE(ValidUtf8("\xFF\xFE"));

  auto check = [](std::string_view target) {
    Request request;
    auto decoded = DecodeTarget(target, request);
    return decoded && CheckDecodedText(request).has_value();
  };
  EXPECT_TRUE(check("/api/v1/incidents/%E6%97%A5?q=%E6%97%A5&limit=5"));
  EXPECT_FALSE(check("/api/v1/incidents/%c0%ae%c0%ae"));
  EXPECT_FALSE(check("/api/v1/incidents?q=%FF"));
  EXPECT_FALSE(check("/api/v1/incidents?q=a%00b"));
  EXPECT_FALSE(check("/api/v1/incidents?%00=1"));
}

// ---- through the listener
// ------------------------------------------------------------------------

bool IsJsonError(const std::string& response, int status) {
  auto parsed = JsonValue::Parse(RawClient::Body(response));
  const JsonValue* error = parsed ? parsed->Find("error") : nullptr;
  const JsonValue* value = error ? error->Find("status") : nullptr;
  return value != nullptr && value->is_integer() && value->as_int() == status &&
         error->Find("code") != nullptr && error->Find("message") != nullptr;
}

TEST(HostileServer, RefusesOversizeFloodsGarbageAndTraversalThenKeepsServing) {
  HostileWorld world;
  std::string skip;
  ASSERT_TRUE(world.Open(Backend::kSqlite, skip)) << skip;
  auto before = Snapshot(world.database());

  ServerOptions options;
  options.listen = "127.0.0.1:0";
  options.max_body_bytes = 64 * 1024;
  options.max_header_bytes = 8 * 1024;
  options.threads = 2;
  options.read_timeout_seconds = 10;
  Server server(options, world.router());
  auto port = server.Start();
  ASSERT_TRUE(port) << port.error().ToString();
  std::thread runner([&] { server.Run(); });

  size_t requests = 0;
  const std::string auth = "Authorization: Bearer " + world.duty_token_ + "\r\n";
  // Sends raw bytes on a fresh connection and returns the first response.
  auto exchange = [&](const std::string& bytes) {
    ++requests;
    RawClient client(*port);
    EXPECT_TRUE(client.connected());
    client.Send(bytes);
    return client.ReadResponse();
  };
  auto expect = [&](const std::string& label, const std::string& response, std::set<int> statuses) {
    int status = RawClient::Status(response);
    EXPECT_TRUE(statuses.count(status) != 0) << label << ": got " << status << "\n"
                                             << Printable(response, 400);
    EXPECT_TRUE(IsJsonError(response, status)) << label << ": " << Printable(response, 400);
  };

  // Bodies above max_body_bytes: declared, chunked, and a declared length never sent.
  std::string big(options.max_body_bytes + 1, 'x');
  expect("oversize body",
         exchange("POST /api/v1/incidents HTTP/1.1\r\nHost: t\r\n" + auth +
                  "Content-Type: application/json\r\nContent-Length: " +
                  std::to_string(big.size()) + "\r\n\r\n" + big),
         {413});
  expect("huge Content-Length",
         exchange("POST /api/v1/incidents HTTP/1.1\r\nHost: t\r\n" + auth +
                  "Content-Type: application/json\r\nContent-Length: 1000000000000\r\n\r\n"),
         {413});
  {
    std::string chunked = "POST /api/v1/incidents HTTP/1.1\r\nHost: t\r\n" + auth +
                          "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (int i = 0; i < 20; ++i) chunked += "1000\r\n" + std::string(4096, 'y') + "\r\n";
    chunked += "0\r\n\r\n";
    expect("oversize chunked body", exchange(chunked), {413});
  }
  // Header floods.
  expect(
      "one 16 KB header",
      exchange("GET /healthz HTTP/1.1\r\nHost: t\r\nX-Big: " + Repeat("a", 16 * 1024) + "\r\n\r\n"),
      {400, 431});
  {
    std::string flood = "GET /healthz HTTP/1.1\r\nHost: t\r\n";
    for (int i = 0; i < 5000; ++i) flood += fmt::format("X-Flood-{}: v\r\n", i);
    expect("5000 headers", exchange(flood + "\r\n"), {400, 431});
  }
  expect("16 KB request line", exchange("GET /" + Repeat("a", 16 * 1024) + " HTTP/1.1\r\n\r\n"),
         {400, 414, 431});
  // Garbage and broken request lines.
  std::string random_bytes;
  uint32_t state = 12345;
  for (int i = 0; i < 4096; ++i) {
    state = state * 1103515245 + 12345;
    random_bytes += static_cast<char>((state >> 16) & 0xff);
  }
  const std::vector<std::pair<std::string, std::string>> garbage = {
      {"random bytes", random_bytes},
      {"NUL bytes", std::string(64, '\0') + "\r\n\r\n"},
      {"TLS hello", std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11) + "\r\n\r\n"},
      {"no version", "GET /healthz\r\n\r\n"},
      {"HTTP/9.9", "GET /healthz HTTP/9.9\r\n\r\n"},
      {"two spaces", "GET  /healthz HTTP/1.1\r\nHost: t\r\n\r\n"},
      {"extra token", "GET /healthz HTTP/1.1 extra\r\nHost: t\r\n\r\n"},
      {"NUL in the method", std::string("G") + '\0' + "T /healthz HTTP/1.1\r\nHost: t\r\n\r\n"},
      {"DEL in the target", "GET /heal\x7fthz HTTP/1.1\r\nHost: t\r\n\r\n"},
      {"absolute form", "GET http://evil.example/healthz HTTP/1.1\r\nHost: t\r\n\r\n"},
      {"asterisk form", "OPTIONS * HTTP/1.1\r\nHost: t\r\n\r\n"},
      {"authority form", "CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: t\r\n\r\n"},
      {"header without colon", "GET /healthz HTTP/1.1\r\nHost: t\r\nBad Header\r\n\r\n"},
      {"space before colon", "GET /healthz HTTP/1.1\r\nHost : t\r\n\r\n"},
      {"NUL in a header",
       std::string("GET /healthz HTTP/1.1\r\nHost: t\r\nX-A: a") + '\0' + "b\r\n\r\n"},
      {"two Content-Lengths",
       "POST /api/v1/auth/login HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\nContent-Length: 3\r\n"
       "\r\n{}x"},
      {"Content-Length and chunked",
       "POST /api/v1/auth/login HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n"
       "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"},
      {"negative Content-Length",
       "POST /api/v1/auth/login HTTP/1.1\r\nHost: t\r\nContent-Length: -1\r\n\r\n"},
      {"bad chunk size",
       "POST /api/v1/auth/login HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"},
      {"bare LF", "GET /healthz HTTP/1.1\nHost: t\n\n"},
  };
  for (const auto& [label, bytes] : garbage) expect(label, exchange(bytes), {400});
  {
    // RFC 9112 section 5.2 lets a server either refuse obsolete line folding or read it as a
    // space; both are fine, a crash or a 5xx is not.
    std::string folded = exchange("GET /healthz HTTP/1.1\r\nHost: t\r\nX-A: a\r\n b\r\n\r\n");
    int status = RawClient::Status(folded);
    EXPECT_TRUE(status == 200 || status == 400) << Printable(folded, 300);
  }
  // Paths that try to leave their route, hide a NUL or smuggle dots as overlong UTF-8.
  const std::string incident = "/api/v1/incidents/" + world.incident_;
  for (const std::string& target :
       {std::string("/api/v1/incidents/.."), std::string("/api/v1/incidents/%2e%2e"),
        std::string("/api/v1/%2e%2e/%2e%2e/etc/passwd"), std::string("/healthz/../metrics"),
        std::string("/api/v1/incidents/a%2F..%2F..%2Fetc"), incident + "%00",
        incident + "/%00/comments", std::string("/api/v1/incidents/%c0%ae%c0%ae"),
        std::string("/api/v1/incidents/%e0%80%ae%e0%80%ae"), std::string("/api/v1/%c0%af"),
        std::string("/api/v1/incidents/%u002e%u002e"), std::string("/api/v1/incidents/%"),
        std::string("/api/v1/incidents/%2"), std::string("/api/v1/incidents/%zz"),
        std::string("/api/v1/incidents/a%5c..%5c"), incident + "?limit=%00",
        std::string("/api/v1/incidents/%ff%fe")}) {
    expect(target, exchange("GET " + target + " HTTP/1.1\r\nHost: t\r\n" + auth + "\r\n"), {400});
  }

  // Still serving, on a fresh connection and on a kept-alive one.
  {
    RawClient client(*port);
    ASSERT_TRUE(client.connected());
    ASSERT_TRUE(client.Send("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n"));
    std::string health = client.ReadResponse();
    EXPECT_EQ(RawClient::Status(health), 200) << health;
    ASSERT_TRUE(client.Send("GET " + incident + " HTTP/1.1\r\nHost: t\r\n" + auth + "\r\n"));
    EXPECT_EQ(RawClient::Status(client.ReadResponse()), 200);
    ASSERT_TRUE(client.Send("POST /api/v1/incidents HTTP/1.1\r\nHost: t\r\n" + auth +
                            "Content-Type: application/json\r\nContent-Length: 1\r\n\r\n{"));
    std::string malformed = client.ReadResponse();
    EXPECT_EQ(RawClient::Status(malformed), 400) << malformed;
    EXPECT_TRUE(IsJsonError(malformed, 400)) << malformed;
    requests += 3;
  }
  server.Stop(5);
  runner.join();
  EXPECT_EQ(Snapshot(world.database()), before);
  std::printf("hostile input through the listener: %zu requests\n", requests);
}

}  // namespace
}  // namespace yagura::http

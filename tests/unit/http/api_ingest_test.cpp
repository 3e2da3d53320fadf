// POST /api/v1/ingest and the sensor routes through the Router: sensor tokens, per-line
// validation, tagging by the token's organisation and logsource, the spool before 202, and
// 503 with Retry-After when the spool is full.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <filesystem>
#include <functional>
#include <memory>

#include "core/metrics.hpp"
#include "core/time.hpp"
#include "http/api.hpp"
#include "http/router.hpp"
#include "hub/audit_log.hpp"
#include "hub/identity.hpp"
#include "hub/passwords.hpp"
#include "hub/schema.hpp"
#include "hub/sensors.hpp"
#include "pipeline/envelope.hpp"
#include "pipeline/ingest_queue.hpp"
#include "pipeline/spool.hpp"

namespace yagura::http {
namespace {

class ApiIngestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    hub::SetPasswordCost(hub::PasswordCost::Minimal());
    std::string pattern = (std::filesystem::temp_directory_path() / "yagura-ingest-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    auto opened = store::Database::Open((dir_ / "hub.db").string(), 4);
    ASSERT_TRUE(opened) << opened.error().ToString();
    db_ = std::move(*opened);
    ASSERT_TRUE(hub::MigrateSchema(*db_));
    audit_ = std::make_unique<hub::AuditLog>(*db_);
    OpenSpool(1 << 20);
    context_ = std::make_unique<ApiContext>(ApiContext{*db_, *audit_, metrics_, {}});
    context_->ingest = ingest_.get();
    RegisterApi(router_, *context_);

    auto boot = hub::BootstrapCentre(*db_, "admin", "centre admin password");
    ASSERT_TRUE(boot);
    auto admin_token = hub::CreateToken(*db_, hub::SystemPrincipal(), boot->user_id, "t",
                                        {"admin"}, std::nullopt, NowMs());
    ASSERT_TRUE(admin_token);
    admin_bearer_ = admin_token->secret;
    hub::NewOrganization ministry;
    ministry.name = "Ministry of Examples";
    auto org = hub::CreateOrganization(*db_, hub::SystemPrincipal(), ministry);
    ASSERT_TRUE(org);
    org_id_ = org->id;
    auto sensor = hub::CreateSensorToken(*db_, hub::SystemPrincipal(), org_id_, "dc01",
                                         "service=sysmon,product=windows", NowMs());
    ASSERT_TRUE(sensor) << sensor.error().message;
    sensor_ = sensor->sensor;
    sensor_secret_ = sensor->secret;
  }

  void TearDown() override {
    audit_.reset();
    db_.reset();
    std::filesystem::remove_all(dir_);
  }

  // `sync_file`: SpoolOptions::sync_file (a disk that refuses syncs on demand).
  void OpenSpool(uint64_t max_bytes, std::function<int(int)> sync_file = {}) {
    ingest_.reset();
    spool_.reset();
    pipeline::SpoolOptions options;
    options.dir = (dir_ / "spool").string();
    options.max_total_bytes = max_bytes;
    options.sync_file = std::move(sync_file);
    auto spool = pipeline::Spool::Open(options);
    ASSERT_TRUE(spool) << spool.error().ToString();
    spool_ = std::move(*spool);
    ingest_ = std::make_unique<pipeline::IngestQueue>(*spool_);
    if (context_) context_->ingest = ingest_.get();
  }

  Response Call(std::string method, std::string target, const std::string& bearer,
                std::string body = {}, std::string content_type = "application/x-ndjson") {
    Request request;
    request.method = std::move(method);
    request.target = target;
    EXPECT_TRUE(DecodeTarget(target, request));
    request.remote_address = "127.0.0.1";
    if (!bearer.empty()) request.headers.Set("Authorization", "Bearer " + bearer);
    if (!body.empty()) {
      request.body = std::move(body);
      request.headers.Set("Content-Type", content_type);
    }
    return router_.Dispatch(request);
  }

  static JsonValue Body(const Response& response) {
    auto parsed = JsonValue::Parse(response.body);
    EXPECT_TRUE(parsed) << response.body;
    return parsed.value_or(JsonValue());
  }

  std::filesystem::path dir_;
  std::unique_ptr<store::Database> db_;
  std::unique_ptr<hub::AuditLog> audit_;
  std::unique_ptr<pipeline::Spool> spool_;
  std::unique_ptr<pipeline::IngestQueue> ingest_;
  Metrics metrics_;
  std::unique_ptr<ApiContext> context_;
  Router router_;
  std::string admin_bearer_;
  std::string org_id_;
  hub::Sensor sensor_;
  std::string sensor_secret_;
};

TEST_F(ApiIngestTest, AcceptsValidLinesReportsBadOnesAndSpoolsBeforeAnswering) {
  std::string body =
      "{\"EventID\":4625,\"TargetUserName\":\"alice\"}\n"
      "{not json\n"
      "\n"
      "[1,2]\r\n"
      "{\"EventID\":4624}\r\n";
  Response response = Call("POST", "/api/v1/ingest", sensor_secret_, body);
  ASSERT_EQ(response.status, 202) << response.body;
  JsonValue result = Body(response);
  EXPECT_EQ(result.Find("accepted")->as_int(), 2);
  EXPECT_EQ(result.Find("rejected")->as_int(), 2);
  const auto& errors = result.Find("errors")->as_array();
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].Find("line")->as_int(), 2);
  EXPECT_EQ(errors[1].Find("line")->as_int(), 4);
  EXPECT_NE(errors[1].Find("message")->as_string().find("JSON object"), std::string::npos);

  auto records = spool_->Read(1, 10);
  ASSERT_TRUE(records);
  ASSERT_EQ(records->size(), 2u);
  auto first = pipeline::DecodeEnvelope((*records)[0].payload);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->kind, pipeline::PayloadKind::kJson);
  EXPECT_EQ(first->org_id, org_id_);
  EXPECT_EQ(first->sensor_id, sensor_.id);
  EXPECT_EQ(first->logsource, "product=windows,service=sysmon");
  EXPECT_EQ(first->transport, "http");
  EXPECT_EQ(first->peer, "127.0.0.1");
  EXPECT_EQ(first->payload, "{\"EventID\":4625,\"TargetUserName\":\"alice\"}");
  EXPECT_TRUE(ParseIsoDateTimeMs(first->received_at));
  EXPECT_NE(metrics_.RenderPrometheus().find("yagura_ingest_events_total{logsource=\"product=windows,service=sysmon\",org_id=\"" + org_id_ + "\",sensor=\"dc01\"} 2"),
            std::string::npos)
      << metrics_.RenderPrometheus();
}

TEST_F(ApiIngestTest, RefusesUnknownRevokedAndUserTokens) {
  EXPECT_EQ(Call("POST", "/api/v1/ingest", "", "{}\n").status, 401);
  EXPECT_EQ(Call("POST", "/api/v1/ingest", "ygs_forged", "{}\n").status, 401);
  EXPECT_EQ(Call("POST", "/api/v1/ingest", admin_bearer_, "{}\n").status, 401);
  ASSERT_TRUE(hub::RevokeSensorToken(*db_, hub::SystemPrincipal(), sensor_.id, NowMs()));
  EXPECT_EQ(Call("POST", "/api/v1/ingest", sensor_secret_, "{}\n").status, 401);
  EXPECT_EQ(spool_->next_seq(), 1u);
}

TEST_F(ApiIngestTest, BadBodies) {
  EXPECT_EQ(Call("POST", "/api/v1/ingest", sensor_secret_, "{}\n", "text/plain").status, 415);
  Response nothing_valid = Call("POST", "/api/v1/ingest", sensor_secret_, "nope\n");
  EXPECT_EQ(nothing_valid.status, 400);
  EXPECT_EQ(Body(nothing_valid).Find("errors")->as_array().size(), 1u);
  EXPECT_EQ(Call("POST", "/api/v1/ingest", sensor_secret_, "\n\n").status, 400);
  EXPECT_EQ(spool_->next_seq(), 1u);
}

TEST_F(ApiIngestTest, AFullSpoolDefersWithRetryAfterAndKeepsWhatItHas) {
  OpenSpool(1 << 20);
  std::string line = "{\"pad\":\"" + std::string(1000, 'x') + "\"}\n";
  std::string batch;
  for (int i = 0; i < 100; ++i) batch += line;
  int accepted_batches = 0;
  Response response;
  for (int i = 0; i < 20; ++i) {
    response = Call("POST", "/api/v1/ingest", sensor_secret_, batch);
    if (response.status != 202) break;
    ++accepted_batches;
  }
  ASSERT_EQ(response.status, 503) << response.body;
  EXPECT_EQ(response.headers.Get("retry-after").value_or(""), "5");
  EXPECT_EQ(Body(response).Find("error")->Find("code")->as_string(), "spool_full");
  EXPECT_EQ(spool_->next_seq() - 1, static_cast<uint64_t>(accepted_batches) * 100);
  // Full is not a failure: senders are slowed down and nothing is lost.
  Response health = Call("GET", "/healthz", "");
  EXPECT_EQ(health.status, 200) << health.body;
  EXPECT_EQ(Body(health).Find("ingest")->Find("status")->as_string(), "full");
}

// GET /healthz says how live ingest stands: a spool whose disk refused a sync takes no events,
// which makes the service unavailable, until the next request after the disk recovers reopens
// it.
TEST_F(ApiIngestTest, HealthReportsAFailedSpoolUntilItIsReopened) {
  auto failing = std::make_shared<std::atomic<bool>>(false);
  OpenSpool(1 << 20, [failing](int fd) {
    if (failing->load()) {
      errno = EIO;
      return -1;
    }
    return ::fdatasync(fd);
  });
  const std::string event = "{\"EventID\":4625}\n";
  Response health = Call("GET", "/healthz", "");
  ASSERT_EQ(health.status, 200) << health.body;
  JsonValue state = Body(health);
  EXPECT_EQ(state.Find("status")->as_string(), "ok");
  EXPECT_EQ(state.Find("database")->as_string(), "ok");
  EXPECT_EQ(state.Find("ingest")->Find("status")->as_string(), "ok");
  EXPECT_EQ(state.Find("ingest")->Find("spool_limit_bytes")->as_int(), 1 << 20);
  ASSERT_EQ(Call("POST", "/api/v1/ingest", sensor_secret_, event).status, 202);

  failing->store(true);
  Response refused = Call("POST", "/api/v1/ingest", sensor_secret_, event);
  ASSERT_EQ(refused.status, 503) << refused.body;
  EXPECT_EQ(Body(refused).Find("error")->Find("code")->as_string(), "ingest_unavailable");
  health = Call("GET", "/healthz", "");
  ASSERT_EQ(health.status, 503) << health.body;
  state = Body(health);
  EXPECT_EQ(state.Find("status")->as_string(), "unavailable");
  EXPECT_EQ(state.Find("database")->as_string(), "ok");
  EXPECT_EQ(state.Find("ingest")->Find("status")->as_string(), "failed");
  EXPECT_NE(state.Find("ingest")->Find("problem")->as_string().find("cannot sync"),
            std::string::npos)
      << health.body;
  const std::string scraped = Call("GET", "/metrics", "").body;
  EXPECT_NE(scraped.find("yagura_ingest_spool_failed 1"), std::string::npos) << scraped;
  EXPECT_NE(scraped.find("yagura_ingest_spool_limit_bytes 1048576"), std::string::npos);

  failing->store(false);
  Response taken = Call("POST", "/api/v1/ingest", sensor_secret_, event);
  ASSERT_EQ(taken.status, 202) << taken.body;
  EXPECT_EQ(Body(taken).Find("first_seq")->as_int(), 2);  // the refused request left nothing
  health = Call("GET", "/healthz", "");
  ASSERT_EQ(health.status, 200) << health.body;
  state = Body(health);
  EXPECT_EQ(state.Find("ingest")->Find("status")->as_string(), "ok");
  EXPECT_EQ(state.Find("ingest")->Find("reopened")->as_int(), 1);
  EXPECT_EQ(state.Find("ingest")->Find("next_seq")->as_int(), 3);
  EXPECT_NE(Call("GET", "/metrics", "").body.find("yagura_ingest_spool_failed 0"),
            std::string::npos);

  context_->ingest = nullptr;  // a service that takes no live events
  health = Call("GET", "/healthz", "");
  EXPECT_EQ(health.status, 200) << health.body;
  EXPECT_EQ(Body(health).Find("ingest")->Find("status")->as_string(), "off");
}

TEST_F(ApiIngestTest, SensorRoutesFollowTheAdministrationRules) {
  Response created = Call("POST", "/api/v1/sensors", admin_bearer_,
                          "{\"org_id\":\"" + org_id_ + "\",\"name\":\"fw\",\"logsource\":\"category=firewall\"}",
                          "application/json");
  ASSERT_EQ(created.status, 201) << created.body;
  std::string token = Body(created).Find("token")->as_string();
  EXPECT_EQ(token.rfind("ygs_", 0), 0u);
  EXPECT_EQ(Call("POST", "/api/v1/ingest", token, "{\"action\":\"blocked\"}\n").status, 202);
  Response bad = Call("POST", "/api/v1/sensors", admin_bearer_,
                      "{\"org_id\":\"" + org_id_ + "\",\"name\":\"fw\",\"logsource\":\"vendor=x\"}",
                      "application/json");
  EXPECT_EQ(bad.status, 400);
  Response listed = Call("GET", "/api/v1/sensors?org_id=" + org_id_, admin_bearer_);
  ASSERT_EQ(listed.status, 200);
  EXPECT_EQ(Body(listed).Find("items")->as_array().size(), 2u);
  EXPECT_EQ(listed.body.find("ygs_"), std::string::npos);  // secrets are never listed
  std::string id = Body(created).Find("id")->as_string();
  EXPECT_EQ(Call("DELETE", "/api/v1/sensors/" + id, admin_bearer_).status, 200);
  EXPECT_EQ(Call("POST", "/api/v1/ingest", token, "{}\n").status, 401);
}

TEST(Logsource, IsNormalisedAndChecked) {
  EXPECT_EQ(hub::NormaliseLogsource("service=sysmon,product=windows").value(),
            "product=windows,service=sysmon");
  EXPECT_FALSE(hub::NormaliseLogsource("product=Windows"));
  EXPECT_FALSE(hub::NormaliseLogsource("product=windows,product=linux"));
  EXPECT_FALSE(hub::NormaliseLogsource(""));
  EXPECT_FALSE(hub::NormaliseLogsource("os=linux"));
}

}  // namespace
}  // namespace yagura::http

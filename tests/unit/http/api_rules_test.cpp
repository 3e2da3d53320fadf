// The rule routes and the job routes through the Router, on SQLite and (through
// scripts/with-postgres) on PostgreSQL: listing with filters, paging and hits counted from
// stored alerts; who may list (centre staff) and reload (centre administrators); a reload as a
// job followed through GET /api/v1/jobs/{id}, its audit entry, 409 for a second one and for
// detection off, 503 without a job registry; and the real DetectionControl over a detector
// loading a small rules directory, reloaded through the API, a broken set keeping the running
// one.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "http/console_control.hpp"
#include "hub/alerts.hpp"
#include "hub/crypto.hpp"
#include "pipeline/detector.hpp"
#include "pipeline/envelope.hpp"
#include "pipeline/ingest_queue.hpp"
#include "pipeline/spool.hpp"
#include "unit/http/console_api_support.hpp"

namespace yagura::http {
namespace {

namespace fs = std::filesystem;
using testing::ConsoleApiTest;

constexpr int64_t T0 = 1'800'000'000'000;  // 2027-01-15T08:00:00Z
constexpr const char* SSH_ID = "11111111-1111-4111-8111-111111111111";
constexpr const char* SUDO_ID = "22222222-2222-4222-8222-222222222222";
constexpr const char* SPRAY_ID = "33333333-3333-4333-8333-333333333333";

RuleView Rule(std::string id, std::string title, std::string level, std::string kind) {
  RuleView rule;
  rule.id = std::move(id);
  rule.title = std::move(title);
  rule.level = std::move(level);
  rule.status = "test";
  rule.kind = std::move(kind);
  rule.product = "linux";
  rule.tags = {"attack.t1110.001"};
  rule.techniques = {"T1110.001"};
  rule.path = "/rules/" + rule.id + ".yml";
  return rule;
}

// Stands in for a running detector: a fixed catalogue; a reload that may wait for the test
// (to hold its job running) and may fail.
class FakeDetection final : public DetectionControl {
 public:
  FakeDetection() {
    auto catalog = std::make_shared<RuleCatalogView>();
    catalog->generation = 3;
    catalog->loaded_at_ms = T0;
    catalog->rules = {Rule(SSH_ID, "SSH password guessing", "high", "detection"),
                      Rule(SUDO_ID, "Sudo to root", "medium", "detection"),
                      Rule(SPRAY_ID, "Password spraying", "high", "correlation")};
    catalog->failures = {{"/rules/broken.yml", 2, "YAML parse error"}};
    catalog_ = std::move(catalog);
  }
  std::shared_ptr<const RuleCatalogView> Rules() const override { return catalog_; }
  DetectionHealth Health() const override { return {}; }
  Result<ReloadOutcome> Reload(JobHandle& job) override {
    job.SetTotal(4, "files");
    job.SetDone(2);
    {
      std::unique_lock lock(mutex_);
      reloading_ = true;
      changed_.notify_all();
      for (int i = 0; i < 60'000 && hold_ && !job.stopping(); ++i) {
        changed_.wait_for(lock, std::chrono::milliseconds(1));
      }
    }
    job.SetDone(4);
    ++reloads_;
    if (!fail_with_.empty()) return Fail(fail_with_);
    ReloadOutcome outcome;
    outcome.generation = 4;
    outcome.rule_count = 3;
    outcome.failures = catalog_->failures;
    return outcome;
  }
  void Hold() {
    std::lock_guard lock(mutex_);
    hold_ = true;
  }
  void Release() {
    std::lock_guard lock(mutex_);
    hold_ = false;
    changed_.notify_all();
  }
  bool WaitUntilReloading() {
    std::unique_lock lock(mutex_);
    for (int i = 0; i < 60'000 && !reloading_; ++i) {
      changed_.wait_for(lock, std::chrono::milliseconds(1));
    }
    return reloading_;
  }

  std::string fail_with_;
  std::atomic<int> reloads_{0};

 private:
  std::shared_ptr<const RuleCatalogView> catalog_;
  std::mutex mutex_;
  std::condition_variable changed_;
  bool hold_ = false;
  bool reloading_ = false;
};

class ApiRulesTest : public ConsoleApiTest {
 protected:
  void SetUp() override {
    SetUpWorld();
    if (IsSkipped() || HasFatalFailure()) return;
    context_->detection = &fake_;
    RegisterRuleRoutes(router_, *context_);
  }
  void TearDown() override { TearDownWorld(); }

  hub::DetectedAlert Alert(std::string kind, std::string rule_id, int64_t at) {
    hub::DetectedAlert alert;
    alert.id = hub::NewId();
    alert.kind = std::move(kind);
    alert.org_id = ministry_id_;
    alert.rule_id = std::move(rule_id);
    alert.title = "t";
    alert.level = "high";
    alert.event_time_ms = at;
    alert.detected_at_ms = at + 500;
    alert.logsource = "product=linux";
    alert.sensor_id = "sensor-1";
    alert.details_json = "{}";
    return alert;
  }

  FakeDetection fake_;
};

TEST_P(ApiRulesTest, CentreStaffListRulesWithHitsFiltersAndPages) {
  std::vector<hub::DetectedAlert> alerts = {
      Alert("rule", SSH_ID, T0), Alert("rule", SSH_ID, T0 + 60'000),
      Alert("correlation", SPRAY_ID, T0 + 5'000),
      // Indicator and campaign alerts name other things in rule_id: not counted.
      Alert("indicator", SUDO_ID, T0), Alert("campaign", SSH_ID, T0 + 120'000)};
  auto inserted = hub::InsertDetections(*db_, alerts, {}, NowMs());
  ASSERT_TRUE(inserted) << inserted.error().message;

  JsonValue list = Get("/api/v1/rules", analyst_);
  EXPECT_TRUE(list.Find("detection")->as_bool());
  EXPECT_EQ(list.Find("generation")->as_int(), 3);
  EXPECT_EQ(list.Find("loaded_at")->as_string(), FormatTimestampMs(T0));
  EXPECT_EQ(list.Find("rule_count")->as_int(), 3);
  ASSERT_EQ(list.Find("failures")->as_array().size(), 1u);
  EXPECT_EQ(list.Find("failures")->as_array()[0].Find("path")->as_string(), "/rules/broken.yml");
  EXPECT_EQ(list.Find("failures")->as_array()[0].Find("line")->as_int(), 2);
  EXPECT_TRUE(list.Find("next_cursor")->is_null());
  const auto& items = list.Find("items")->as_array();
  ASSERT_EQ(items.size(), 3u);
  EXPECT_EQ(items[0].Find("id")->as_string(), SSH_ID);
  EXPECT_EQ(items[0].Find("hits")->as_int(), 2);
  EXPECT_EQ(items[0].Find("last_hit_at")->as_string(), FormatTimestampMs(T0 + 60'000));
  EXPECT_EQ(items[0].Find("kind")->as_string(), "detection");
  EXPECT_EQ(items[0].Find("logsource")->Find("product")->as_string(), "linux");
  EXPECT_TRUE(items[0].Find("logsource")->Find("service")->is_null());
  EXPECT_EQ(items[0].Find("techniques")->as_array()[0].as_string(), "T1110.001");
  EXPECT_EQ(items[1].Find("hits")->as_int(), 0);
  EXPECT_TRUE(items[1].Find("last_hit_at")->is_null());
  EXPECT_EQ(items[2].Find("hits")->as_int(), 1);
  EXPECT_EQ(items[2].Find("kind")->as_string(), "correlation");

  // Auditors and investigators are centre staff too.
  EXPECT_EQ(Get("/api/v1/rules", auditor_).Find("items")->as_array().size(), 3u);

  // Filters.
  EXPECT_EQ(Get("/api/v1/rules?q=sudo", analyst_).Find("items")->as_array().size(), 1u);
  EXPECT_EQ(Get("/api/v1/rules?q=PASSWORD", analyst_).Find("items")->as_array().size(), 2u);
  EXPECT_EQ(Get("/api/v1/rules?q=22222222-2222", analyst_).Find("items")->as_array().size(), 1u);
  EXPECT_EQ(Get("/api/v1/rules?level=high", analyst_).Find("items")->as_array().size(), 2u);
  JsonValue correlations = Get("/api/v1/rules?kind=correlation&level=high", analyst_);
  ASSERT_EQ(correlations.Find("items")->as_array().size(), 1u);
  EXPECT_EQ(correlations.Find("items")->as_array()[0].Find("id")->as_string(), SPRAY_ID);
  EXPECT_EQ(Call("GET", "/api/v1/rules?level=severe", analyst_).status, 400);
  EXPECT_EQ(Call("GET", "/api/v1/rules?kind=filter", analyst_).status, 400);

  // Pages of one over the two high rules.
  JsonValue first = Get("/api/v1/rules?level=high&limit=1", analyst_);
  ASSERT_EQ(first.Find("items")->as_array().size(), 1u);
  EXPECT_EQ(first.Find("items")->as_array()[0].Find("id")->as_string(), SSH_ID);
  ASSERT_TRUE(first.Find("next_cursor")->is_string());
  JsonValue second = Get("/api/v1/rules?level=high&limit=1&cursor=" +
                             first.Find("next_cursor")->as_string(),
                         analyst_);
  ASSERT_EQ(second.Find("items")->as_array().size(), 1u);
  EXPECT_EQ(second.Find("items")->as_array()[0].Find("id")->as_string(), SPRAY_ID);
  EXPECT_EQ(second.Find("items")->as_array()[0].Find("hits")->as_int(), 1);
  EXPECT_TRUE(second.Find("next_cursor")->is_null());
  EXPECT_EQ(Call("GET", "/api/v1/rules?cursor=bogus", analyst_).status, 400);
  EXPECT_EQ(Call("GET", "/api/v1/rules?cursor=r12x", analyst_).status, 400);
}

TEST_P(ApiRulesTest, OthersAreRefused) {
  Response listed = Call("GET", "/api/v1/rules", reporter_);
  EXPECT_EQ(listed.status, 403);
  EXPECT_EQ(Call("GET", "/api/v1/rules", "").status, 401);
  EXPECT_EQ(Call("POST", "/api/v1/rules/reload", reporter_).status, 403);
  EXPECT_EQ(Call("POST", "/api/v1/rules/reload", analyst_).status, 403);
  EXPECT_EQ(Call("POST", "/api/v1/rules/reload", auditor_).status, 403);
  EXPECT_EQ(fake_.reloads_.load(), 0);
}

TEST_P(ApiRulesTest, AReloadIsAJobWithProgressAndAnAuditEntry) {
  fake_.Hold();
  Response accepted = Call("POST", "/api/v1/rules/reload", admin_);
  ASSERT_EQ(accepted.status, 202) << accepted.body;
  JsonValue job = *Body(accepted).Find("job");
  EXPECT_EQ(job.Find("kind")->as_string(), "rules.reload");
  EXPECT_EQ(job.Find("owner_user_id")->as_string(), admin_user_id_);
  std::string id = job.Find("id")->as_string();
  ASSERT_TRUE(fake_.WaitUntilReloading());

  // While it runs: its progress, a refused second reload, and nobody else's view of it.
  JsonValue running = Get("/api/v1/jobs/" + id, admin_);
  EXPECT_EQ(running.Find("state")->as_string(), "running");
  EXPECT_EQ(running.Find("progress")->Find("unit")->as_string(), "files");
  EXPECT_EQ(running.Find("progress")->Find("total")->as_int(), 4);
  EXPECT_EQ(running.Find("progress")->Find("done")->as_int(), 2);
  Response second = Call("POST", "/api/v1/rules/reload", admin_);
  EXPECT_EQ(second.status, 409);
  EXPECT_EQ(ErrorCode(second), "job_running");
  EXPECT_EQ(Call("GET", "/api/v1/jobs/" + id, analyst_).status, 404);
  EXPECT_EQ(Call("GET", "/api/v1/jobs/" + id, reporter_).status, 404);
  EXPECT_EQ(Call("GET", "/api/v1/jobs/not-a-job", admin_).status, 404);
  EXPECT_TRUE(Get("/api/v1/jobs", analyst_).Find("items")->as_array().empty());
  ASSERT_EQ(Get("/api/v1/jobs", admin_).Find("items")->as_array().size(), 1u);

  fake_.Release();
  JsonValue done = FinishedJob(accepted, admin_);
  EXPECT_EQ(done.Find("state")->as_string(), "succeeded");
  EXPECT_EQ(done.Find("progress")->Find("done")->as_int(), 4);
  EXPECT_TRUE(done.Find("finished_at")->is_string());
  const JsonValue* result = done.Find("result");
  ASSERT_TRUE(result != nullptr && result->is_object());
  EXPECT_EQ(result->Find("generation")->as_int(), 4);
  EXPECT_EQ(result->Find("rule_count")->as_int(), 3);
  EXPECT_EQ(result->Find("failures")->as_array().size(), 1u);
  EXPECT_EQ(AuditCount("rules.reload", "ok"), 1);
  EXPECT_EQ(AuditCount("rules.reload", "failed"), 0);
}

TEST_P(ApiRulesTest, AFailedReloadFailsItsJobWithTheLoadersMessage) {
  fake_.fail_with_ = "no rule to run: every rule failed to load";
  JsonValue done = FinishedJob(Call("POST", "/api/v1/rules/reload", admin_), admin_);
  EXPECT_EQ(done.Find("state")->as_string(), "failed");
  EXPECT_EQ(done.Find("error")->as_string(), "no rule to run: every rule failed to load");
  EXPECT_TRUE(done.Find("result")->is_null());
  EXPECT_EQ(AuditCount("rules.reload", "failed"), 1);
}

TEST_P(ApiRulesTest, DetectionOffAndNoJobs) {
  context_->detection = nullptr;
  JsonValue list = Get("/api/v1/rules", analyst_);
  EXPECT_FALSE(list.Find("detection")->as_bool());
  EXPECT_EQ(list.Find("rule_count")->as_int(), 0);
  EXPECT_TRUE(list.Find("items")->as_array().empty());
  Response off = Call("POST", "/api/v1/rules/reload", admin_);
  EXPECT_EQ(off.status, 409);
  EXPECT_EQ(ErrorCode(off), "detection_off");

  context_->detection = &fake_;
  context_->jobs = nullptr;
  EXPECT_EQ(Call("POST", "/api/v1/rules/reload", admin_).status, 503);
  EXPECT_EQ(Call("GET", "/api/v1/jobs", admin_).status, 503);
}

INSTANTIATE_TEST_SUITE_P(Backends, ApiRulesTest,
                         ::testing::Values(hub::testing::Backend::kSqlite,
                                           hub::testing::Backend::kPostgres),
                         hub::testing::BackendName);

// ---- the real DetectionControl over a detector ----------------------------------------------

constexpr const char* SSH_RULE = R"(title: SSH password guessing
id: 11111111-1111-4111-8111-111111111111
status: stable
level: high
tags: [attack.credential_access, attack.t1110.001]
logsource: {product: linux, service: sshd}
detection:
  keywords: ['Failed password']
  condition: keywords
)";

constexpr const char* SUDO_RULE = R"(title: Sudo to root
id: 22222222-2222-4222-8222-222222222222
level: medium
logsource: {product: linux}
detection:
  keywords: ['COMMAND=/bin/sh']
  condition: keywords
)";

class RealDetectionTest : public ConsoleApiTest {
 protected:
  void SetUp() override {
    SetUpWorld();
    if (IsSkipped() || HasFatalFailure()) return;
    std::string pattern = (fs::temp_directory_path() / "yagura-api-rules-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    fs::create_directories(dir_ / "rules");
    Write(dir_ / "rules" / "ssh.yml", SSH_RULE);
    Write(dir_ / "rules" / "broken.yml", "title: [unclosed\n");
    pipeline::SpoolOptions spool_options;
    spool_options.dir = (dir_ / "spool").string();
    auto spool = pipeline::Spool::Open(spool_options);
    ASSERT_TRUE(spool) << spool.error().ToString();
    spool_ = std::move(*spool);
    queue_ = std::make_unique<pipeline::IngestQueue>(*spool_);
    pipeline::DetectorOptions options;
    options.scan.rule_paths = {(dir_ / "rules").string()};
    options.state_path = (dir_ / "detector.state").string();
    options.centre_org_id = centre_id_;
    options.reload_interval_ms = 0;
    auto detector = pipeline::Detector::Create(
        std::move(options), *queue_,
        [this](const pipeline::DetectionBatch&) -> Result<void> {
          if (store_refuses_) return Fail("the store is down");
          return {};
        },
        metrics_);
    ASSERT_TRUE(detector) << detector.error().ToString();
    detector_ = std::move(*detector);
    detector_->Start();
    control_ = MakeDetectionControl(*detector_);
    context_->detection = control_.get();
    RegisterRuleRoutes(router_, *context_);
  }
  void TearDown() override {
    TearDownWorld();
    control_.reset();
    detector_.reset();
    queue_.reset();
    spool_.reset();
    if (!dir_.empty()) fs::remove_all(dir_);
  }
  static void Write(const fs::path& path, const std::string& text) {
    std::ofstream(path, std::ios::trunc) << text;
  }

  fs::path dir_;
  std::atomic<bool> store_refuses_{false};
  std::unique_ptr<pipeline::Spool> spool_;
  std::unique_ptr<pipeline::IngestQueue> queue_;
  std::unique_ptr<pipeline::Detector> detector_;
  std::unique_ptr<DetectionControl> control_;
};

// GET /healthz reports detection: how many spooled events wait, and "stalled" (503) when they
// wait and no batch was finished for the configured time, as when the store refuses alerts.
TEST_P(RealDetectionTest, HealthCallsDetectionStalledWhileTheStoreRefusesItsAlerts) {
  context_->ingest = queue_.get();
  context_->settings.detection_stall_ms = 300;
  RegisterSystemRoutes(router_, *context_);
  auto health = [&] {
    Response response = Call("GET", "/healthz", "");
    auto body = JsonValue::Parse(response.body);
    EXPECT_TRUE(body) << response.body;
    return std::make_pair(response.status, body.value_or(JsonValue()));
  };
  // Waits up to 30 s for detection's status to become `status`.
  auto wait_for = [&](const std::string& status) {
    for (int i = 0; i < 600; ++i) {
      auto [code, body] = health();
      if (body.Find("detection")->Find("status")->as_string() == status) return body;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ADD_FAILURE() << "detection never became " << status << ": " << health().second.Serialize();
    return JsonValue();
  };
  auto [code, body] = health();
  EXPECT_EQ(code, 200) << body.Serialize();
  EXPECT_EQ(body.Find("detection")->Find("status")->as_string(), "ok");
  EXPECT_EQ(body.Find("detection")->Find("lag_events")->as_int(), 0);
  // Idle, it keeps its progress time current: the next event must not find it long past.
  const std::string idle_since = body.Find("detection")->Find("last_progress")->as_string();
  bool advanced = false;
  for (int i = 0; i < 600 && !advanced; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    advanced = health().second.Find("detection")->Find("last_progress")->as_string() > idle_since;
  }
  EXPECT_TRUE(advanced) << "an idle detector's progress time stood still";

  store_refuses_ = true;
  pipeline::Envelope envelope;
  envelope.kind = pipeline::PayloadKind::kSyslog;
  envelope.org_id = ministry_id_;
  envelope.sensor_id = "sensor-1";
  envelope.logsource = "product=linux,service=sshd";
  envelope.received_at = "2026-11-26T01:30:00.000Z";
  envelope.peer = "127.0.0.1:5000";
  envelope.transport = "tcp";
  envelope.payload = "<38>Nov 26 01:30:00 host sshd[1]: Failed password for root from 10.0.0.1";
  std::string bytes;
  pipeline::EncodeEnvelope(envelope, bytes);
  std::string_view view = bytes;
  ASSERT_TRUE(queue_->Append(std::span<const std::string_view>(&view, 1)));

  JsonValue stalled = wait_for("stalled");
  EXPECT_EQ(stalled.Find("status")->as_string(), "unavailable");
  EXPECT_EQ(stalled.Find("detection")->Find("lag_events")->as_int(), 1);
  EXPECT_GE(stalled.Find("detection")->Find("sink_failures")->as_int(), 1);
  EXPECT_EQ(health().first, 503);

  store_refuses_ = false;  // the detector retries the batch
  JsonValue recovered = wait_for("ok");
  EXPECT_EQ(recovered.Find("detection")->Find("lag_events")->as_int(), 0);
  EXPECT_EQ(health().first, 200);

  context_->detection = nullptr;
  EXPECT_EQ(health().second.Find("detection")->Find("status")->as_string(), "off");
}

TEST_P(RealDetectionTest, ListsTheLoadedRulesAndReloadsThroughTheApi) {
  JsonValue list = Get("/api/v1/rules", analyst_);
  EXPECT_EQ(list.Find("generation")->as_int(), 1);
  EXPECT_EQ(list.Find("rule_count")->as_int(), 1);
  ASSERT_EQ(list.Find("failures")->as_array().size(), 1u);
  EXPECT_EQ(fs::path(list.Find("failures")->as_array()[0].Find("path")->as_string()).filename(),
            "broken.yml");
  const JsonValue& rule = list.Find("items")->as_array().at(0);
  EXPECT_EQ(rule.Find("id")->as_string(), SSH_ID);
  EXPECT_EQ(rule.Find("status")->as_string(), "stable");
  EXPECT_EQ(rule.Find("logsource")->Find("service")->as_string(), "sshd");
  EXPECT_EQ(rule.Find("techniques")->as_array().at(0).as_string(), "T1110.001");
  EXPECT_TRUE(list.Find("last_reload_failure")->is_null());
  EXPECT_EQ(list.Find("tuning")->Find("left_out")->as_int(), 0);
  EXPECT_EQ(list.Find("tuning")->Find("relevelled")->as_int(), 0);

  // A new rule file, reloaded by hand.
  Write(dir_ / "rules" / "sudo.yml", SUDO_RULE);
  JsonValue done = FinishedJob(Call("POST", "/api/v1/rules/reload", admin_), admin_);
  ASSERT_EQ(done.Find("state")->as_string(), "succeeded") << done.Serialize();
  EXPECT_EQ(done.Find("progress")->Find("unit")->as_string(), "files");
  EXPECT_EQ(done.Find("progress")->Find("total")->as_int(), 3);
  EXPECT_EQ(done.Find("progress")->Find("done")->as_int(), 3);
  EXPECT_EQ(done.Find("result")->Find("generation")->as_int(), 2);
  EXPECT_EQ(done.Find("result")->Find("rule_count")->as_int(), 2);
  list = Get("/api/v1/rules", analyst_);
  EXPECT_EQ(list.Find("generation")->as_int(), 2);
  EXPECT_EQ(list.Find("rule_count")->as_int(), 2);

  // A broken set: the job fails with the loader's message and the running rules stay.
  fs::remove(dir_ / "rules" / "ssh.yml");
  fs::remove(dir_ / "rules" / "sudo.yml");
  JsonValue failed = FinishedJob(Call("POST", "/api/v1/rules/reload", admin_), admin_);
  EXPECT_EQ(failed.Find("state")->as_string(), "failed");
  EXPECT_NE(failed.Find("error")->as_string().find("no rule to run"), std::string::npos)
      << failed.Serialize();
  list = Get("/api/v1/rules", analyst_);
  EXPECT_EQ(list.Find("generation")->as_int(), 2);
  EXPECT_EQ(list.Find("rule_count")->as_int(), 2);
  ASSERT_TRUE(list.Find("last_reload_failure")->is_object());
  EXPECT_NE(list.Find("last_reload_failure")->Find("message")->as_string().find("no rule"),
            std::string::npos);
  EXPECT_EQ(AuditCount("rules.reload", "ok"), 1);
  EXPECT_EQ(AuditCount("rules.reload", "failed"), 1);
}

INSTANTIATE_TEST_SUITE_P(Backends, RealDetectionTest,
                         ::testing::Values(hub::testing::Backend::kSqlite),
                         hub::testing::BackendName);

}  // namespace
}  // namespace yagura::http

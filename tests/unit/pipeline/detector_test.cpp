// Detector: streaming detection over the spool, with exactly-once results across restarts,
// sink failures and rule reloads.
#include "pipeline/detector.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "core/json_value.hpp"
#include "core/time.hpp"
#include "pipeline/envelope.hpp"
#include "pipeline/event_store.hpp"
#include "pipeline/ingest_queue.hpp"
#include "pipeline/spool.hpp"
#include "test_support/mmdb_writer.hpp"

namespace yagura::pipeline {
namespace {

namespace fs = std::filesystem;

constexpr const char* FAILED_LOGON_RULE = R"(title: Failed logon
id: 11111111-1111-4111-8111-111111111111
status: test
level: medium
author: Yagura tests
tags: [attack.credential_access, attack.t1110.001]
logsource: {product: windows, service: security}
detection:
  selection: {EventID: 4625}
  condition: selection
---
title: Logon brute force
id: 22222222-2222-4222-8222-222222222222
status: test
level: high
author: Yagura tests
correlation:
  type: event_count
  rules: [11111111-1111-4111-8111-111111111111]
  group-by: [IpAddress]
  timespan: 5m
  condition: {gte: 3}
  generate: true
)";

constexpr const char* SSHD_RULE = R"(title: SSH failed password
id: 33333333-3333-4333-8333-333333333333
status: test
level: low
author: Yagura tests
logsource: {product: linux, service: sshd}
detection:
  keywords: ['Failed password']
  condition: keywords
)";

struct Collected {
  std::vector<DetectedAlert> alerts;
  // Each DetectedRepeat as the alert it repeats, with only what a repeat carries: the alert's
  // id, kind and organisation, and the repeat's own spool position and event time.
  std::vector<DetectedAlert> repeats;
  std::vector<DetectedCampaign> campaigns;
  int calls = 0;
  int failures_left = 0;

  void Add(const DetectionBatch& batch) {
    alerts.insert(alerts.end(), batch.alerts.begin(), batch.alerts.end());
    uint64_t last_seq = 0;
    for (const auto& repeat : batch.repeats) {
      EXPECT_LT(repeat.alert, batch.alerts.size());
      EXPECT_GE(repeat.spool_seq, last_seq);  // in spool order
      last_seq = repeat.spool_seq;
      const DetectedAlert& alert = batch.alerts.at(repeat.alert);
      DetectedAlert slim;
      slim.id = alert.id;
      slim.kind = alert.kind;
      slim.org_id = alert.org_id;
      slim.spool_seq = repeat.spool_seq;
      slim.event_time_ms = repeat.event_time_ms;
      repeats.push_back(std::move(slim));
    }
    campaigns.insert(campaigns.end(), batch.campaigns.begin(), batch.campaigns.end());
  }
  [[nodiscard]] size_t detections() const { return alerts.size() + repeats.size(); }
};

class DetectorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "yagura-detector-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    fs::create_directories(dir_ / "rules");
    WriteFile(dir_ / "rules" / "failed_logon.yml", FAILED_LOGON_RULE);
    SpoolOptions spool_options;
    spool_options.dir = (dir_ / "spool").string();
    spool_options.segment_bytes = 8192;
    auto spool = Spool::Open(spool_options);
    ASSERT_TRUE(spool) << spool.error().ToString();
    spool_ = std::move(*spool);
    queue_ = std::make_unique<IngestQueue>(*spool_);
  }
  void TearDown() override {
    queue_.reset();
    spool_.reset();
    fs::remove_all(dir_);
  }

  static void WriteFile(const fs::path& path, const std::string& text) {
    std::ofstream(path) << text;
  }

  DetectorOptions Options() const {
    DetectorOptions options;
    options.scan.rule_paths = {(dir_ / "rules").string()};
    options.state_path = (dir_ / "detector.state").string();
    options.centre_org_id = "centre";
    options.reload_interval_ms = 0;
    options.campaigns.min_organisations = 3;
    return options;
  }

  std::unique_ptr<Detector> Make(Collected& collected, DetectorOptions options) {
    auto sink = [&collected](const DetectionBatch& batch) -> Result<void> {
      ++collected.calls;
      if (collected.failures_left > 0) {
        --collected.failures_left;
        return Fail("database unavailable");
      }
      collected.Add(batch);
      return {};
    };
    auto detector = Detector::Create(std::move(options), *queue_, sink, metrics_);
    EXPECT_TRUE(detector) << detector.error().ToString();
    return detector ? std::move(*detector) : nullptr;
  }
  std::unique_ptr<Detector> Make(Collected& collected) { return Make(collected, Options()); }

  void Send(std::string_view org, PayloadKind kind, std::string_view logsource,
            std::string_view payload) {
    Envelope envelope;
    envelope.kind = kind;
    envelope.org_id = org;
    envelope.sensor_id = "sensor-1";
    envelope.logsource = logsource;
    envelope.received_at = "2026-11-26T01:30:00.000Z";
    envelope.peer = "127.0.0.1:5000";
    envelope.transport = kind == PayloadKind::kJson ? "http" : "tcp";
    envelope.payload = payload;
    std::string bytes;
    EncodeEnvelope(envelope, bytes);
    std::string_view view = bytes;
    ASSERT_TRUE(queue_->Append(std::span<const std::string_view>(&view, 1)));
  }

  // A failed logon at `org` from `address` at 01:MM:SS.
  void FailedLogon(std::string_view org, std::string_view address, int minute, int second) {
    char time[64];
    std::snprintf(time, sizeof time, "2026-11-26T01:%02d:%02d.000Z", minute, second);
    std::string event = std::string(R"({"EventID":4625,"TargetUserName":"alice","IpAddress":")") +
                        std::string(address) + R"(","@timestamp":")" + time + R"("})";
    Send(org, PayloadKind::kJson, "product=windows,service=security", event);
  }

  // Every detection of `kind`, alerts and repeats, in spool order (campaign alerts, which have
  // no spool position, in the order they came).
  static std::vector<const DetectedAlert*> OfKind(const Collected& collected, std::string_view kind) {
    std::vector<const DetectedAlert*> out;
    for (const auto& alert : collected.alerts)
      if (alert.kind == kind) out.push_back(&alert);
    for (const auto& repeat : collected.repeats)
      if (repeat.kind == kind) out.push_back(&repeat);
    std::stable_sort(out.begin(), out.end(), [](const DetectedAlert* a, const DetectedAlert* b) {
      return a->spool_seq < b->spool_seq;
    });
    return out;
  }

  fs::path dir_;
  std::unique_ptr<Spool> spool_;
  std::unique_ptr<IngestQueue> queue_;
  Metrics metrics_;
};

TEST_F(DetectorTest, RuleAlertsCarryTheEnvelopeAndTheScanFormat) {
  Collected collected;
  auto detector = Make(collected);
  ASSERT_TRUE(detector);
  FailedLogon("org-a", "45.33.32.156", 0, 0);
  Send("org-a", PayloadKind::kJson, "product=windows,service=security", R"({"EventID":4624})");
  auto processed = detector->RunUntilIdle();
  ASSERT_TRUE(processed) << processed.error().ToString();
  EXPECT_EQ(*processed, 2u);
  auto rules = OfKind(collected, "rule");
  ASSERT_EQ(rules.size(), 1u);
  const DetectedAlert& alert = *rules[0];
  EXPECT_EQ(alert.org_id, "org-a");
  EXPECT_EQ(alert.rule_id, "11111111-1111-4111-8111-111111111111");
  EXPECT_EQ(alert.title, "Failed logon");
  EXPECT_EQ(alert.level, "medium");
  EXPECT_EQ(alert.techniques, std::vector<std::string>{"T1110.001"});
  EXPECT_EQ(alert.spool_seq, 1u);
  EXPECT_EQ(alert.sensor_id, "sensor-1");
  EXPECT_EQ(alert.logsource, "product=windows,service=security");
  EXPECT_EQ(alert.event_time_ms, *ParseIsoDateTimeMs("2026-11-26T01:00:00Z"));
  auto details = JsonValue::Parse(alert.details_json);
  ASSERT_TRUE(details) << alert.details_json;
  EXPECT_EQ(details->Find("rule")->Find("title")->as_string(), "Failed logon");
  EXPECT_EQ(details->Find("event")->Find("IpAddress")->as_string(), "45.33.32.156");
  EXPECT_EQ(detector->stats().next_seq.load(), 3u);
}

// With geo_ip_paths, live alerts locate their event's addresses as `yagura scan --geo-ip` does;
// a database that cannot be opened stops the detector from starting, naming it.
TEST_F(DetectorTest, AlertsLocateTheirAddressesWithGeoIpDatabases) {
  std::ofstream(dir_ / "City.mmdb", std::ios::binary)
      << test_support::CountryDatabase("45.33.32.0/24", "US", "United States");
  DetectorOptions options = Options();
  options.scan.geo_ip_paths = {(dir_ / "City.mmdb").string()};
  options.fold_window_ms = 0;  // each event an alert of its own
  Collected collected;
  auto detector = Make(collected, options);
  ASSERT_TRUE(detector);
  FailedLogon("org-a", "45.33.32.156", 0, 0);
  FailedLogon("org-a", "10.1.1.1", 0, 1);
  ASSERT_TRUE(detector->RunUntilIdle());
  ASSERT_EQ(collected.alerts.size(), 2u);
  auto located = JsonValue::Parse(collected.alerts[0].details_json);
  ASSERT_TRUE(located);
  const JsonValue& where = *located->Find("geo")->Find("IpAddress");
  EXPECT_EQ(where.Find("address")->as_string(), "45.33.32.156");
  EXPECT_EQ(where.Find("country")->as_string(), "US");
  EXPECT_EQ(where.Find("country_name")->as_string(), "United States");
  auto private_address = JsonValue::Parse(collected.alerts[1].details_json);
  EXPECT_TRUE(private_address->Find("geo")->as_object().empty());

  // A newer database replaces the file: read again at the next check, as feeds are. One that
  // does not open leaves the running databases in place.
  std::ofstream(dir_ / "City.mmdb", std::ios::binary | std::ios::trunc)
      << test_support::CountryDatabase("45.33.32.0/24", "CA", "Canada");
  auto reloaded = detector->ReloadIfChanged();
  ASSERT_TRUE(reloaded) << reloaded.error().ToString();
  EXPECT_TRUE(*reloaded);
  FailedLogon("org-a", "45.33.32.156", 0, 2);
  ASSERT_TRUE(detector->RunUntilIdle());
  ASSERT_EQ(collected.alerts.size(), 3u);
  EXPECT_EQ(JsonValue::Parse(collected.alerts[2].details_json)
                ->Find("geo")
                ->Find("IpAddress")
                ->Find("country")
                ->as_string(),
            "CA");
  std::ofstream(dir_ / "City.mmdb", std::ios::binary | std::ios::trunc) << "damaged";
  EXPECT_FALSE(*detector->ReloadIfChanged());
  FailedLogon("org-a", "45.33.32.156", 0, 3);
  ASSERT_TRUE(detector->RunUntilIdle());
  auto rules = OfKind(collected, "rule");  // a correlation alert came with the third logon
  ASSERT_EQ(rules.size(), 4u);
  EXPECT_EQ(JsonValue::Parse(rules[3]->details_json)
                ->Find("geo")
                ->Find("IpAddress")
                ->Find("country")
                ->as_string(),
            "CA");

  options.scan.geo_ip_paths = {(dir_ / "missing.mmdb").string()};
  auto refused = Detector::Create(
      options, *queue_, [](const DetectionBatch&) -> Result<void> { return {}; }, metrics_);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("missing.mmdb"), std::string::npos);
}

// Two rules with the same id (a copy of a rule edited, its id left as it was) raise alerts of
// their own: with one id, the store would keep one of them.
TEST_F(DetectorTest, RulesSharingAnIdRaiseAlertsWithIdsOfTheirOwn) {
  WriteFile(dir_ / "rules" / "copy.yml", R"(title: Failed logon, copied
id: 11111111-1111-4111-8111-111111111111
level: low
logsource: {product: windows, service: security}
detection:
  selection: {EventID: 4625}
  condition: selection
)");
  for (int fold_window : {0, 3600}) {
    SCOPED_TRACE("alert fold window " + std::to_string(fold_window));
    fs::remove(dir_ / "detector.state");
    ASSERT_TRUE(queue_->SaveCheckpoint("detector", 1));
    Collected collected;
    DetectorOptions options = Options();
    options.fold_window_ms = int64_t{fold_window} * 1000;
    auto detector = Make(collected, options);
    ASSERT_TRUE(detector);
    if (fold_window == 0) FailedLogon("org-a", "45.33.32.156", 0, 0);
    ASSERT_TRUE(detector->RunUntilIdle());
    auto rules = OfKind(collected, "rule");
    ASSERT_EQ(rules.size(), 2u);
    EXPECT_NE(rules[0]->id, rules[1]->id);
    EXPECT_NE(rules[0]->title, rules[1]->title);
    EXPECT_EQ(rules[0]->rule_id, rules[1]->rule_id);  // the id as the rules write it
  }
}

TEST_F(DetectorTest, CorrelationsCountPerOrganisationAndGroup) {
  Collected collected;
  auto detector = Make(collected);
  ASSERT_TRUE(detector);
  for (int i = 0; i < 3; ++i) FailedLogon("org-a", "45.33.32.156", 1, i * 10);
  for (int i = 0; i < 2; ++i) FailedLogon("org-b", "45.33.32.156", 1, i * 10);
  for (int i = 0; i < 2; ++i) FailedLogon("org-a", "45.33.32.157", 1, i * 10);
  ASSERT_TRUE(detector->RunUntilIdle());
  auto correlations = OfKind(collected, "correlation");
  ASSERT_EQ(correlations.size(), 1u);
  EXPECT_EQ(correlations[0]->org_id, "org-a");
  EXPECT_EQ(correlations[0]->rule_id, "22222222-2222-4222-8222-222222222222");
  EXPECT_EQ(correlations[0]->level, "high");
  EXPECT_NE(correlations[0]->group_key.find("45.33.32.156"), std::string::npos);
  EXPECT_EQ(OfKind(collected, "rule").size(), 7u);  // generate: true keeps the rule's own alerts
}

TEST_F(DetectorTest, TuningLeavesOutAndRelevelsRulesAndItsFilesAreReloadedWhenChanged) {
  // The failed-logon rule left out: its correlation still counts it, and alerts alone.
  const fs::path levels = dir_ / "level_tuning.txt";
  WriteFile(levels, "id,new_level\n22222222-2222-4222-8222-222222222222,critical\n");
  Collected collected;
  DetectorOptions options = Options();
  options.scan.exclude_rule_ids = {"11111111-1111-4111-8111-111111111111"};
  options.scan.level_override_files = {levels.string()};
  auto detector = Make(collected, options);
  ASSERT_TRUE(detector);
  for (int i = 0; i < 3; ++i) FailedLogon("org-a", "45.33.32.156", 1, i * 10);
  ASSERT_TRUE(detector->RunUntilIdle());
  EXPECT_TRUE(OfKind(collected, "rule").empty());
  auto correlations = OfKind(collected, "correlation");
  ASSERT_EQ(correlations.size(), 1u);
  EXPECT_EQ(correlations[0]->level, "critical");
  // The console's count of what tuning did: the rule left out, the correlation re-levelled.
  EXPECT_EQ(detector->Catalog()->left_out, 1u);
  EXPECT_EQ(detector->Catalog()->relevelled, 1u);

  // A changed tuning file reloads the rules: the correlation, lowered.
  WriteFile(levels, "22222222-2222-4222-8222-222222222222,low\n");
  auto reloaded = detector->ReloadIfChanged();
  ASSERT_TRUE(reloaded) << reloaded.error().ToString();
  EXPECT_TRUE(*reloaded);
  // The rule left out runs for the correlation, unlisted.
  ASSERT_EQ(detector->Catalog()->rules.size(), 1u);
  EXPECT_EQ(detector->Catalog()->rules[0].level, "low");
  collected.alerts.clear();
  for (int i = 0; i < 3; ++i) FailedLogon("org-a", "45.33.32.158", 2, i * 10);
  ASSERT_TRUE(detector->RunUntilIdle());
  correlations = OfKind(collected, "correlation");
  ASSERT_EQ(correlations.size(), 1u);
  EXPECT_EQ(correlations[0]->level, "low");
}

TEST_F(DetectorTest, ACampaignIsRaisedOnceWhenEnoughOrganisationsSeeTheSameAttacker) {
  Collected collected;
  auto detector = Make(collected);
  ASSERT_TRUE(detector);
  FailedLogon("org-a", "45.33.32.156", 2, 0);
  FailedLogon("org-b", "45.33.32.156", 2, 1);
  ASSERT_TRUE(detector->RunUntilIdle());
  EXPECT_TRUE(OfKind(collected, "campaign").empty());
  FailedLogon("org-c", "45.33.32.156", 2, 2);
  FailedLogon("org-d", "45.33.32.156", 2, 3);
  ASSERT_TRUE(detector->RunUntilIdle());
  auto campaigns = OfKind(collected, "campaign");
  ASSERT_EQ(campaigns.size(), 1u);
  EXPECT_EQ(campaigns[0]->org_id, "centre");
  ASSERT_GE(collected.campaigns.size(), 2u);  // raised at org-c, extended by org-d
  EXPECT_EQ(collected.campaigns.front().id, campaigns[0]->id);
  EXPECT_EQ(collected.campaigns.back().id, campaigns[0]->id);
  EXPECT_EQ(collected.campaigns.back().members.size(), 4u);
  EXPECT_EQ(collected.campaigns.back().key_value, "45.33.32.156");
}

TEST_F(DetectorTest, RepeatsInAWindowShareTheFirstAlertsIdAndOnlyItCarriesDetails) {
  auto logon = [&](std::string_view org, std::string_view host, std::string_view time) {
    Send(org, PayloadKind::kJson, "product=windows,service=security",
         std::string(R"({"EventID":4625,"TargetUserName":"alice","IpAddress":"45.33.32.156",)") +
             R"("Computer":")" + std::string(host) + R"(","@timestamp":")" + std::string(time) +
             R"("})");
  };
  auto rule_ids = [&](DetectorOptions options) {  // of a detector run from the spool's start
    fs::remove(dir_ / "detector.state");
    EXPECT_TRUE(queue_->SaveCheckpoint("detector", 1));
    Collected collected;
    auto detector = Make(collected, std::move(options));
    EXPECT_TRUE(detector && detector->RunUntilIdle());
    std::vector<std::string> ids;
    for (const auto* alert : OfKind(collected, "rule")) ids.push_back(alert->id);
    return ids;
  };
  logon("org-a", "dc01", "2026-11-26T01:05:00.000Z");
  logon("org-a", "dc01", "2026-11-26T01:59:59.000Z");  // the same hour
  logon("org-a", "dc02", "2026-11-26T01:06:00.000Z");  // another host
  logon("org-b", "dc01", "2026-11-26T01:07:00.000Z");  // another organisation
  logon("org-a", "dc01", "2026-11-26T02:00:00.000Z");  // the next window
  logon("org-a", "dc01", "2026-11-26T01:30:00.000Z");  // late, back in the first window
  logon("org-a", "dc02", "2026-11-26T01:40:00.000Z");  // the other host's alert repeats

  Collected collected;
  auto detector = Make(collected);
  ASSERT_TRUE(detector && detector->RunUntilIdle());
  detector.reset();
  auto folded = OfKind(collected, "rule");
  ASSERT_EQ(folded.size(), 7u);  // the detector hands every detection on; the store counts them
  EXPECT_EQ(collected.alerts.size(), 4u);
  EXPECT_EQ(collected.repeats.size(), 3u);  // in-batch repeats as DetectedRepeat
  EXPECT_EQ(folded[0]->id, folded[1]->id);
  EXPECT_EQ(folded[0]->id, folded[5]->id);
  EXPECT_EQ(folded[2]->id, folded[6]->id);
  EXPECT_NE(folded[0]->id, folded[2]->id);
  std::set<std::string> ids;
  for (const auto* alert : folded) ids.insert(alert->id);
  EXPECT_EQ(ids.size(), 4u);
  EXPECT_FALSE(folded[0]->details_json.empty());
  EXPECT_TRUE(folded[1]->details_json.empty());  // a repeat in the same batch: no details
  EXPECT_EQ(folded[1]->spool_seq, 2u);
  EXPECT_EQ(folded[1]->event_time_ms, *ParseIsoDateTimeMs("2026-11-26T01:59:59Z"));
  EXPECT_FALSE(folded[2]->details_json.empty());

  // The ids are a function of the events: a second detector over the same spool agrees.
  std::vector<std::string> first_ids;
  for (const auto* alert : folded) first_ids.push_back(alert->id);
  EXPECT_EQ(rule_ids(Options()), first_ids);

  // Without folding, every detection is an alert of its own.
  DetectorOptions unfolded = Options();
  unfolded.fold_window_ms = 0;
  auto single = rule_ids(unfolded);
  EXPECT_EQ(std::set<std::string>(single.begin(), single.end()).size(), 7u);
}

TEST_F(DetectorTest, RepeatsStillCountTowardsCampaigns) {
  // org-a's first attempt is too old for the campaign window when org-b and org-c come; its
  // repeat, later in the same fold window, is not: it makes org-a the third organisation and
  // raises the campaign, which takes its level and techniques from the alert it repeats.
  DetectorOptions options = Options();
  options.campaigns.window_ms = 30 * 60 * 1000;
  auto logon = [&](std::string_view org, std::string_view time) {
    Send(org, PayloadKind::kJson, "product=windows,service=security",
         std::string(R"({"EventID":4625,"TargetUserName":"alice","IpAddress":"45.33.32.156",)") +
             R"("Computer":"dc01","@timestamp":")" + std::string(time) + R"("})");
  };
  logon("org-a", "2026-11-26T01:05:00.000Z");
  logon("org-b", "2026-11-26T01:50:00.000Z");
  logon("org-c", "2026-11-26T01:51:00.000Z");
  logon("org-a", "2026-11-26T01:55:00.000Z");
  Collected collected;
  auto detector = Make(collected, options);
  ASSERT_TRUE(detector && detector->RunUntilIdle());
  auto rules = OfKind(collected, "rule");
  ASSERT_EQ(rules.size(), 4u);
  EXPECT_EQ(rules[0]->id, rules[3]->id);
  EXPECT_TRUE(rules[3]->title.empty());  // a repeat carries only what the store counts
  ASSERT_EQ(OfKind(collected, "campaign").size(), 1u);
  ASSERT_FALSE(collected.campaigns.empty());
  const DetectedCampaign& campaign = collected.campaigns.back();
  ASSERT_EQ(campaign.members.size(), 3u);
  bool org_a = false;
  for (const auto& member : campaign.members) {
    if (member.org_id != "org-a") continue;
    org_a = true;
    EXPECT_EQ(member.alert_id, rules[0]->id);  // the alert that counts the repeat
  }
  EXPECT_TRUE(org_a);
  EXPECT_EQ(OfKind(collected, "campaign")[0]->techniques, std::vector<std::string>{"T1110.001"});
}

TEST_F(DetectorTest, ARestartResumesWhereTheStateWasSavedAndAReplayRepeatsTheSameIds) {
  Collected first;
  {
    auto detector = Make(first);
    ASSERT_TRUE(detector);
    for (int i = 0; i < 2; ++i) FailedLogon("org-a", "45.33.32.156", 3, i);
    ASSERT_TRUE(detector->RunUntilIdle());
  }
  // The third failure arrives after a restart: the window carried over in the saved state.
  Collected second;
  {
    auto detector = Make(second);
    ASSERT_TRUE(detector);
    FailedLogon("org-a", "45.33.32.156", 3, 2);
    auto processed = detector->RunUntilIdle();
    ASSERT_TRUE(processed);
    EXPECT_EQ(*processed, 1u);  // nothing before the saved position is processed again
  }
  EXPECT_EQ(OfKind(second, "correlation").size(), 1u);

  // Losing the state replays the spool from its start: the same alerts, the same ids.
  fs::remove(dir_ / "detector.state");
  ASSERT_TRUE(queue_->SaveCheckpoint("detector", 1));
  Collected replay;
  auto detector = Make(replay);
  ASSERT_TRUE(detector);
  ASSERT_TRUE(detector->RunUntilIdle());
  std::set<std::string> before, after;
  for (const auto& a : first.alerts) before.insert(a.id);
  for (const auto& a : second.alerts) before.insert(a.id);
  for (const auto& a : replay.alerts) after.insert(a.id);
  EXPECT_EQ(before, after);
  // Batches cut differently make different repeats, but the same detections.
  EXPECT_EQ(replay.detections(), first.detections() + second.detections());
}

TEST_F(DetectorTest, AFailingSinkGetsTheSameBatchAgainAndNothingIsCountedTwice) {
  Collected collected;
  collected.failures_left = 2;
  auto detector = Make(collected);
  ASSERT_TRUE(detector);
  for (int i = 0; i < 3; ++i) FailedLogon("org-a", "45.33.32.156", 4, i);
  EXPECT_FALSE(detector->RunUntilIdle());
  EXPECT_FALSE(detector->RunUntilIdle());
  EXPECT_EQ(detector->stats().next_seq.load(), 1u);  // the position did not move
  auto processed = detector->RunUntilIdle();
  ASSERT_TRUE(processed) << processed.error().ToString();
  EXPECT_EQ(*processed, 3u);
  EXPECT_EQ(OfKind(collected, "rule").size(), 3u);
  EXPECT_EQ(OfKind(collected, "correlation").size(), 1u);
  EXPECT_EQ(detector->stats().sink_failures.load(), 2u);
}

TEST_F(DetectorTest, BadRecordsAreCountedAndTheOthersProcessed) {
  Collected collected;
  auto detector = Make(collected);
  ASSERT_TRUE(detector);
  std::string garbage = "not an envelope";
  std::string_view view = garbage;
  ASSERT_TRUE(queue_->Append(std::span<const std::string_view>(&view, 1)));
  Send("org-a", PayloadKind::kJson, "product=windows,service=security", "{\"EventID\": 46");
  FailedLogon("org-a", "45.33.32.156", 5, 0);
  auto processed = detector->RunUntilIdle();
  ASSERT_TRUE(processed);
  EXPECT_EQ(*processed, 3u);
  EXPECT_EQ(detector->stats().bad_records.load(), 2u);
  EXPECT_EQ(OfKind(collected, "rule").size(), 1u);
}

TEST_F(DetectorTest, EveryEventIsKeptInTheEventStoreWithItsHostAndTimeOnceAcrossARestart) {
  EventStoreOptions store_options;
  store_options.dir = (dir_ / "events").string();
  auto store = EventStore::Open(store_options);
  ASSERT_TRUE(store) << store.error().ToString();
  DetectorOptions options = Options();
  options.event_store = store->get();
  {
    Collected collected;
    auto detector = Make(collected, options);
    ASSERT_TRUE(detector);
    FailedLogon("org-a", "45.33.32.156", 6, 0);  // alerts
    Send("org-b", PayloadKind::kJson, "product=windows,service=security",
         R"({"EventID":4624,"Computer":"DC01.corp.example","@timestamp":"2026-11-26T01:06:30.000Z"})");
    Send("org-a", PayloadKind::kSyslog, "product=linux,service=sshd",
         "<38>Nov 26 01:06:40 web1 sshd[411]: Accepted publickey for deploy from 10.0.0.5");
    Send("org-a", PayloadKind::kJson, "product=windows,service=security", "{\"EventID\": 46");
    ASSERT_TRUE(detector->RunUntilIdle());
  }
  // A restart that lost its state replays the spool: the store keeps nothing twice.
  fs::remove(dir_ / "detector.state");
  ASSERT_TRUE(queue_->SaveCheckpoint("detector", 1));
  {
    Collected collected;
    auto detector = Make(collected, options);
    ASSERT_TRUE(detector);
    ASSERT_TRUE(detector->RunUntilIdle());
  }
  EventQuery query;
  query.limit = 100;
  auto page = (*store)->Query(query);
  ASSERT_TRUE(page) << page.error().ToString();
  ASSERT_EQ(page->events.size(), 4u);
  std::map<uint64_t, const StoredEvent*> by_seq;
  for (const auto& event : page->events) by_seq[event.seq] = &event;
  ASSERT_EQ(by_seq.size(), 4u);
  // The event's own time, not its arrival (01:30).
  EXPECT_EQ(FormatTimestampMs(by_seq[1]->time_ms), "2026-11-26T01:06:00.000Z");
  EXPECT_EQ(by_seq[2]->host, "DC01.corp.example");
  EXPECT_EQ(by_seq[2]->org_id, "org-b");
  EXPECT_EQ(FormatTimestampMs(by_seq[2]->time_ms), "2026-11-26T01:06:30.000Z");
  EXPECT_EQ(by_seq[3]->host, "web1");
  EXPECT_EQ(by_seq[3]->kind, PayloadKind::kSyslog);
  EXPECT_EQ(FormatTimestampMs(by_seq[3]->time_ms), "2026-11-26T01:06:40.000Z");
  // An event that did not parse is kept at its arrival, without a host.
  EXPECT_EQ(by_seq[4]->host, "");
  EXPECT_EQ(by_seq[4]->payload, "{\"EventID\": 46");
  EXPECT_EQ(FormatTimestampMs(by_seq[4]->time_ms), "2026-11-26T01:30:00.000Z");

  query.host = "dc01.CORP.example";
  page = (*store)->Query(query);
  ASSERT_TRUE(page);
  ASSERT_EQ(page->events.size(), 1u);
  EXPECT_EQ(page->events[0].seq, 2u);
}

TEST_F(DetectorTest, SyslogPayloadsAndTailedLinesAreDetected) {
  WriteFile(dir_ / "rules" / "sshd.yml", SSHD_RULE);
  Collected collected;
  auto detector = Make(collected);
  ASSERT_TRUE(detector);
  Send("org-a", PayloadKind::kSyslog, "product=linux,service=sshd",
       "<38>Nov 26 01:00:00 web1 sshd[411]: Failed password for root from 45.33.32.156 port 50022 ssh2");
  Send("org-a", PayloadKind::kLine, "product=linux,service=sshd",
       "Nov 26 01:00:01 web1 sshd[411]: Failed password for root from 45.33.32.156 port 50023 ssh2");
  Send("org-a", PayloadKind::kSyslog, "product=linux,service=sshd",
       "<38>Nov 26 01:00:02 web1 sshd[411]: Accepted publickey for deploy from 10.0.0.5 port 50024 ssh2");
  ASSERT_TRUE(detector->RunUntilIdle());
  auto rules = OfKind(collected, "rule");
  ASSERT_EQ(rules.size(), 2u);
  EXPECT_EQ(rules[0]->rule_id, "33333333-3333-4333-8333-333333333333");
  EXPECT_EQ(rules[1]->spool_seq, 2u);
}

TEST_F(DetectorTest, ChangedRulesAreReloadedBetweenBatchesAndBrokenOnesKeepTheRunningSet) {
  Collected collected;
  auto detector = Make(collected);
  ASSERT_TRUE(detector);
  std::string line =
      "<38>Nov 26 01:00:00 web1 sshd[411]: Failed password for root from 45.33.32.156 port 1 ssh2";
  Send("org-a", PayloadKind::kSyslog, "product=linux,service=sshd", line);
  ASSERT_TRUE(detector->RunUntilIdle());
  EXPECT_TRUE(collected.alerts.empty());

  WriteFile(dir_ / "rules" / "sshd.yml", SSHD_RULE);
  auto reloaded = detector->ReloadIfChanged();
  ASSERT_TRUE(reloaded) << reloaded.error().ToString();
  EXPECT_TRUE(*reloaded);
  Send("org-a", PayloadKind::kSyslog, "product=linux,service=sshd", line);
  ASSERT_TRUE(detector->RunUntilIdle());
  EXPECT_EQ(OfKind(collected, "rule").size(), 1u);

  // A rule set that no longer loads leaves the running one in place.
  fs::remove(dir_ / "rules" / "failed_logon.yml");
  fs::remove(dir_ / "rules" / "sshd.yml");
  EXPECT_FALSE(detector->ReloadIfChanged());
  Send("org-a", PayloadKind::kSyslog, "product=linux,service=sshd", line);
  ASSERT_TRUE(detector->RunUntilIdle());
  EXPECT_EQ(OfKind(collected, "rule").size(), 2u);
  EXPECT_EQ(detector->stats().reload_failures.load(), 1u);
}

TEST_F(DetectorTest, TheThreadProcessesWhatArrivesAndStopsCleanly) {
  Collected collected;
  std::mutex mutex;
  auto options = Options();
  auto sink = [&](const DetectionBatch& batch) -> Result<void> {
    std::lock_guard lock(mutex);
    collected.Add(batch);
    return {};
  };
  auto detector = Detector::Create(options, *queue_, sink, metrics_);
  ASSERT_TRUE(detector);
  (*detector)->Start();
  for (int i = 0; i < 50; ++i) FailedLogon("org-a", "45.33.32.156", 6 + i / 60, i % 60);
  for (int wait = 0; wait < 2000 && (*detector)->stats().next_seq.load() < 51; ++wait)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  (*detector)->Stop();
  EXPECT_EQ((*detector)->stats().next_seq.load(), 51u);
  std::lock_guard lock(mutex);
  EXPECT_EQ(OfKind(collected, "rule").size(), 50u);
  EXPECT_TRUE(fs::exists(dir_ / "detector.state"));
}

}  // namespace
}  // namespace yagura::pipeline

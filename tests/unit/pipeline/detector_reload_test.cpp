// Detector: the rule catalogue it publishes for the console, and reloads asked for by hand —
// with progress per rule file, swapped in by the running detection thread, and a broken rule
// set leaving the running one (and its alerts) in place.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <mutex>

#include "pipeline/detector.hpp"
#include "pipeline/envelope.hpp"
#include "pipeline/ingest_queue.hpp"
#include "pipeline/spool.hpp"

namespace yagura::pipeline {
namespace {

namespace fs = std::filesystem;

constexpr const char* SSHD_RULE = R"(title: SSH failed password
id: 33333333-3333-4333-8333-333333333333
status: test
level: low
tags: [attack.credential_access, attack.t1110.001]
logsource: {product: linux, service: sshd}
detection:
  keywords: ['Failed password']
  condition: keywords
)";

constexpr const char* SUDO_RULE = R"(title: Sudo to root
id: 44444444-4444-4444-8444-444444444444
level: medium
logsource: {product: linux}
detection:
  keywords: ['COMMAND=/bin/sh']
  condition: keywords
---
title: Repeated sudo
id: 55555555-5555-4555-8555-555555555555
level: high
correlation:
  type: event_count
  rules: [44444444-4444-4444-8444-444444444444]
  group-by: [host]
  timespan: 5m
  condition: {gte: 3}
  generate: true
)";

class DetectorReloadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "yagura-detector-reload-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    fs::create_directories(dir_ / "rules");
    Write(dir_ / "rules" / "sshd.yml", SSHD_RULE);
    Write(dir_ / "rules" / "broken.yml", "title: [unclosed\n");
    SpoolOptions spool_options;
    spool_options.dir = (dir_ / "spool").string();
    auto spool = Spool::Open(spool_options);
    ASSERT_TRUE(spool) << spool.error().ToString();
    spool_ = std::move(*spool);
    queue_ = std::make_unique<IngestQueue>(*spool_);
    DetectorOptions options;
    options.scan.rule_paths = {(dir_ / "rules").string()};
    options.state_path = (dir_ / "detector.state").string();
    options.centre_org_id = "centre";
    options.reload_interval_ms = 0;
    auto sink = [this](const DetectionBatch& batch) -> Result<void> {
      std::lock_guard lock(mutex_);
      for (const auto& alert : batch.alerts) rule_ids_.push_back(alert.rule_id);
      return {};
    };
    auto detector = Detector::Create(std::move(options), *queue_, sink, metrics_);
    ASSERT_TRUE(detector) << detector.error().ToString();
    detector_ = std::move(*detector);
  }
  void TearDown() override {
    detector_.reset();
    queue_.reset();
    spool_.reset();
    fs::remove_all(dir_);
  }

  static void Write(const fs::path& path, const std::string& text) {
    std::ofstream(path, std::ios::trunc) << text;
  }

  void SendSyslog(std::string_view message) {
    Envelope envelope;
    envelope.kind = PayloadKind::kSyslog;
    envelope.org_id = "org-a";
    envelope.sensor_id = "sensor-1";
    envelope.logsource = "product=linux,service=sshd";
    envelope.received_at = "2026-11-26T01:30:00.000Z";
    envelope.peer = "127.0.0.1:5000";
    envelope.transport = "tcp";
    envelope.payload = message;
    std::string bytes;
    EncodeEnvelope(envelope, bytes);
    std::string_view view = bytes;
    ASSERT_TRUE(queue_->Append(std::span<const std::string_view>(&view, 1)));
  }

  std::vector<std::string> RuleIds() {
    std::lock_guard lock(mutex_);
    return rule_ids_;
  }

  fs::path dir_;
  std::unique_ptr<Spool> spool_;
  std::unique_ptr<IngestQueue> queue_;
  Metrics metrics_;
  std::unique_ptr<Detector> detector_;
  std::mutex mutex_;
  std::vector<std::string> rule_ids_;
};

TEST_F(DetectorReloadTest, TheCatalogueListsTheLoadedRulesAndTheFailures) {
  auto catalog = detector_->Catalog();
  ASSERT_TRUE(catalog);
  EXPECT_EQ(catalog->generation, 1u);
  EXPECT_GT(catalog->loaded_at_ms, 0);
  ASSERT_EQ(catalog->rules.size(), 1u);
  const LoadedRuleInfo& rule = catalog->rules[0];
  EXPECT_EQ(rule.id, "33333333-3333-4333-8333-333333333333");
  EXPECT_EQ(rule.title, "SSH failed password");
  EXPECT_EQ(rule.level, "low");
  EXPECT_EQ(rule.status, "test");
  EXPECT_FALSE(rule.correlation);
  EXPECT_EQ(rule.logsource.product, "linux");
  EXPECT_EQ(rule.logsource.service, "sshd");
  EXPECT_EQ(rule.techniques, std::vector<std::string>{"T1110.001"});
  EXPECT_EQ(fs::path(rule.path).filename(), "sshd.yml");
  ASSERT_EQ(catalog->failures.size(), 1u);
  EXPECT_EQ(fs::path(catalog->failures[0].path).filename(), "broken.yml");
  EXPECT_FALSE(catalog->failures[0].message.empty());
  EXPECT_FALSE(detector_->LastReloadFailure());
}

TEST_F(DetectorReloadTest, AReloadReportsEachFileAndPublishesANewGeneration) {
  Write(dir_ / "rules" / "sudo.yml", SUDO_RULE);
  std::vector<std::pair<size_t, size_t>> files;
  std::vector<std::string> steps;
  ReloadProgress progress;
  progress.on_rule_file = [&](size_t done, size_t total) { files.emplace_back(done, total); };
  progress.on_step = [&](std::string_view step) { steps.emplace_back(step); };
  auto reloaded = detector_->Reload(progress);
  ASSERT_TRUE(reloaded) << reloaded.error().ToString();
  EXPECT_EQ((*reloaded)->generation, 2u);
  EXPECT_EQ(detector_->Catalog(), *reloaded);
  ASSERT_EQ(files.size(), 3u);  // broken.yml, sshd.yml, sudo.yml
  EXPECT_EQ(files.front(), std::make_pair(size_t{1}, size_t{3}));
  EXPECT_EQ(files.back(), std::make_pair(size_t{3}, size_t{3}));
  EXPECT_FALSE(steps.empty());
  ASSERT_EQ((*reloaded)->rules.size(), 3u);
  size_t correlations = 0;
  for (const auto& rule : (*reloaded)->rules) correlations += rule.correlation ? 1 : 0;
  EXPECT_EQ(correlations, 1u);
  EXPECT_EQ(detector_->stats().reloads.load(), 1u);
  // Nothing changed since: the file watch has nothing to do.
  auto again = detector_->ReloadIfChanged();
  ASSERT_TRUE(again);
  EXPECT_FALSE(*again);
}

TEST_F(DetectorReloadTest, TheRunningThreadSwapsInTheReloadedSet) {
  detector_->Start();
  Write(dir_ / "rules" / "sudo.yml", SUDO_RULE);
  auto reloaded = detector_->Reload();
  ASSERT_TRUE(reloaded) << reloaded.error().ToString();
  EXPECT_EQ((*reloaded)->generation, 2u);
  SendSyslog("<38>Nov 26 10:30:00 web1 sudo: alice : TTY=pts/0 ; COMMAND=/bin/sh");
  // Wait (bounded) for the thread to process the record with the new rules.
  bool alerted = false;
  for (int i = 0; i < 60'000 && !alerted; ++i) {
    for (const auto& id : RuleIds()) alerted |= id == "44444444-4444-4444-8444-444444444444";
    if (!alerted) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  detector_->Stop();
  EXPECT_TRUE(alerted);
}

TEST_F(DetectorReloadTest, ABrokenRuleSetKeepsTheRunningOne) {
  detector_->Start();
  fs::remove(dir_ / "rules" / "sshd.yml");
  Write(dir_ / "rules" / "other.yml", "title: also broken\ndetection: [\n");
  auto reloaded = detector_->Reload();
  ASSERT_FALSE(reloaded);
  EXPECT_NE(reloaded.error().message.find("no rule"), std::string::npos)
      << reloaded.error().message;
  EXPECT_EQ(detector_->Catalog()->generation, 1u);
  auto failure = detector_->LastReloadFailure();
  ASSERT_TRUE(failure);
  EXPECT_EQ(failure->message, reloaded.error().ToString());
  // The running rules still detect.
  SendSyslog("<38>Nov 26 10:30:00 web1 sshd[1]: Failed password for root from 192.0.2.7");
  bool alerted = false;
  for (int i = 0; i < 60'000 && !alerted; ++i) {
    for (const auto& id : RuleIds()) alerted |= id == "33333333-3333-4333-8333-333333333333";
    if (!alerted) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  detector_->Stop();
  EXPECT_TRUE(alerted);
  EXPECT_EQ(detector_->stats().reload_failures.load(), 1u);
}

}  // namespace
}  // namespace yagura::pipeline

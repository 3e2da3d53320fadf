#include "pipeline/file_tailer.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "pipeline/envelope.hpp"

namespace yagura::pipeline {
namespace {

namespace fs = std::filesystem;

struct Line {
  std::string payload;
  std::string org_id;
  std::string sensor_id;
  std::string logsource;
  std::string peer;
  std::string transport;
  std::string received_at;
  PayloadKind kind;
};

class FileTailerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "yagura-tail-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    fs::create_directories(dir_ / "logs");
    log_ = (dir_ / "logs" / "auth.log").string();
    OpenSpool({});
  }
  void TearDown() override {
    queue_.reset();
    spool_.reset();
    fs::remove_all(dir_);
  }

  void OpenSpool(SpoolOptions options) {
    queue_.reset();
    spool_.reset();
    options.dir = (dir_ / "spool").string();
    auto spool = Spool::Open(options);
    ASSERT_TRUE(spool) << spool.error().ToString();
    spool_ = std::move(*spool);
    queue_ = std::make_unique<IngestQueue>(*spool_);
  }

  std::unique_ptr<FileTailer> StartTailer() {
    TailedFile file{log_, "auth", "org-a", "service=sshd,product=linux"};
    auto tailer = FileTailer::Start({file}, (dir_ / "state").string(), *queue_, metrics_, 0);
    EXPECT_TRUE(tailer) << tailer.error().ToString();
    return tailer ? std::move(*tailer) : nullptr;
  }

  void Write(const std::string& path, std::string_view text) {
    std::ofstream out(path, std::ios::binary | std::ios::app);
    out << text;
  }

  // Every record from `cursor_` on, decoded; moves the cursor.
  std::vector<Line> Take() {
    std::vector<Line> lines;
    auto records = queue_->Read(cursor_, 100000);
    EXPECT_TRUE(records);
    for (const SpoolRecord& record : *records) {
      auto envelope = DecodeEnvelope(record.payload);
      EXPECT_TRUE(envelope.has_value());
      if (!envelope) continue;
      lines.push_back({std::string(envelope->payload), std::string(envelope->org_id),
                       std::string(envelope->sensor_id), std::string(envelope->logsource),
                       std::string(envelope->peer), std::string(envelope->transport),
                       std::string(envelope->received_at), envelope->kind});
      cursor_ = record.seq + 1;
    }
    return lines;
  }
  std::vector<std::string> TakePayloads() {
    std::vector<std::string> payloads;
    for (Line& line : Take()) payloads.push_back(std::move(line.payload));
    return payloads;
  }

  double CounterValue(std::string_view name, const MetricLabels& labels) {
    return metrics_.GetCounter(name, "", labels).Value();
  }

  fs::path dir_;
  std::string log_;
  std::unique_ptr<Spool> spool_;
  std::unique_ptr<IngestQueue> queue_;
  Metrics metrics_;
  uint64_t cursor_ = 1;
};

using Payloads = std::vector<std::string>;

TEST_F(FileTailerTest, CompleteLinesOnlyWithTheirOrigin) {
  auto tailer = StartTailer();
  ASSERT_NE(tailer, nullptr);
  tailer->PollOnce();  // the file does not exist yet: nothing, no error
  EXPECT_TRUE(Take().empty());

  Write(log_, "<13>Nov 26 06:00:01 host sshd[1]: one\r\n\ntwo\npar");
  tailer->PollOnce();
  std::vector<Line> lines = Take();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].payload, "<13>Nov 26 06:00:01 host sshd[1]: one");
  EXPECT_EQ(lines[1].payload, "two");
  EXPECT_EQ(lines[0].kind, PayloadKind::kLine);
  EXPECT_EQ(lines[0].org_id, "org-a");
  EXPECT_EQ(lines[0].sensor_id, "auth");
  EXPECT_EQ(lines[0].logsource, "product=linux,service=sshd");
  EXPECT_EQ(lines[0].peer, log_);
  EXPECT_EQ(lines[0].transport, "file");
  EXPECT_EQ(lines[0].received_at.size(), 24u);  // 2026-11-26T06:00:00.000Z

  tailer->PollOnce();
  EXPECT_TRUE(Take().empty());  // the partial line waits for its LF
  Write(log_, "tial\nthree\n");
  tailer->PollOnce();
  EXPECT_EQ(TakePayloads(), (Payloads{"partial", "three"}));
  EXPECT_EQ(CounterValue("yagura_tail_lines_total", {{"file", "auth"}, {"org_id", "org-a"}}), 4);
}

TEST_F(FileTailerTest, RenameRotationFinishesTheOldFileFirst) {
  auto tailer = StartTailer();
  Write(log_, "1\n2\n");
  tailer->PollOnce();
  EXPECT_EQ(TakePayloads(), (Payloads{"1", "2"}));

  Write(log_, "3\n");
  std::string rotated = log_ + ".1";
  fs::rename(log_, rotated);
  Write(log_, "new-1\nnew-2\n");
  Write(rotated, "4\n5 without LF");  // the writer still had the old file open
  Payloads all;
  for (int round = 0; round < 10 && all.size() < 5; ++round) {
    tailer->PollOnce();
    for (std::string& payload : TakePayloads()) all.push_back(std::move(payload));
  }
  EXPECT_EQ(all, (Payloads{"3", "4", "5 without LF", "new-1", "new-2"}));
  EXPECT_EQ(CounterValue("yagura_tail_rotations_total", {{"file", "auth"}, {"kind", "rename"}}), 1);

  // The new file is followed from here on.
  Write(log_, "new-3\n");
  tailer->PollOnce();
  EXPECT_EQ(TakePayloads(), (Payloads{"new-3"}));
}

TEST_F(FileTailerTest, RotatedAwayAndNotYetRecreated) {
  auto tailer = StartTailer();
  Write(log_, "a\n");
  tailer->PollOnce();
  fs::rename(log_, log_ + ".1");
  for (int round = 0; round < 3; ++round) tailer->PollOnce();
  EXPECT_EQ(TakePayloads(), (Payloads{"a"}));
  Write(log_, "b\n");
  tailer->PollOnce();
  EXPECT_EQ(TakePayloads(), (Payloads{"b"}));
}

TEST_F(FileTailerTest, CopyTruncateStartsAgainAtZero) {
  auto tailer = StartTailer();
  Write(log_, "first line\nsecond line\n");
  tailer->PollOnce();
  EXPECT_EQ(TakePayloads().size(), 2u);
  { std::ofstream truncate(log_, std::ios::binary | std::ios::trunc); }
  Write(log_, "after\n");
  tailer->PollOnce();
  EXPECT_EQ(TakePayloads(), (Payloads{"after"}));
  EXPECT_EQ(CounterValue("yagura_tail_rotations_total", {{"file", "auth"}, {"kind", "truncate"}}),
            1);
}

TEST_F(FileTailerTest, RestartContinuesFromTheSavedPosition) {
  {
    auto tailer = StartTailer();
    Write(log_, "1\n2\n3 partial");
    tailer->PollOnce();
  }
  EXPECT_EQ(TakePayloads(), (Payloads{"1", "2"}));
  Write(log_, " done\n4\n");
  {
    auto tailer = StartTailer();
    tailer->PollOnce();
    tailer->PollOnce();
  }
  EXPECT_EQ(TakePayloads(), (Payloads{"3 partial done", "4"}));
  {
    auto tailer = StartTailer();  // nothing new: nothing read twice
    tailer->PollOnce();
  }
  EXPECT_TRUE(Take().empty());

  // Rotated while stopped: the file at the path is another one, read from its start.
  fs::rename(log_, log_ + ".1");
  Write(log_, "fresh\n");
  auto tailer = StartTailer();
  tailer->PollOnce();
  EXPECT_EQ(TakePayloads(), (Payloads{"fresh"}));
}

TEST_F(FileTailerTest, OversizedLinesAreSkipped) {
  auto tailer = StartTailer();
  std::string big(FileTailer::MAX_LINE_BYTES + 1000, 'x');
  Write(log_, "a\n" + big + "\nb\n");
  tailer->PollOnce();
  EXPECT_EQ(TakePayloads(), (Payloads{"a", "b"}));
  // A long line still being written: skipped across rounds until its LF.
  Write(log_, "c\n" + big);
  tailer->PollOnce();
  EXPECT_EQ(TakePayloads(), (Payloads{"c"}));
  Write(log_, big + "\nd\n");
  tailer->PollOnce();
  EXPECT_EQ(TakePayloads(), (Payloads{"d"}));
  EXPECT_EQ(CounterValue("yagura_tail_skipped_total", {{"file", "auth"}, {"reason", "oversized"}}),
            2);
  // A line of exactly the limit is kept.
  std::string limit(FileTailer::MAX_LINE_BYTES, 'y');
  Write(log_, limit + "\n");
  tailer->PollOnce();
  auto payloads = TakePayloads();
  ASSERT_EQ(payloads.size(), 1u);
  EXPECT_EQ(payloads[0], limit);
}

TEST_F(FileTailerTest, FullSpoolDelaysButLosesNothing) {
  SpoolOptions options;
  options.segment_bytes = 4096;
  options.max_total_bytes = 16 * 1024;
  options.fsync = FsyncPolicy::kNever;
  OpenSpool(options);
  auto tailer = StartTailer();
  constexpr int LINES = 400;
  std::string text;
  for (int i = 0; i < LINES; ++i)
    text += "line " + std::to_string(i) + " " + std::string(40, 'p') + "\n";
  Write(log_, text);

  Payloads all;
  for (int round = 0; round < 10000 && all.size() < LINES; ++round) {
    tailer->PollOnce();
    for (std::string& payload : TakePayloads()) all.push_back(std::move(payload));
    ASSERT_TRUE(queue_->Trim(cursor_));  // the consumer caught up: free what it has read
  }
  ASSERT_EQ(all.size(), static_cast<size_t>(LINES));
  for (int i = 0; i < LINES; ++i) {
    ASSERT_EQ(all[i], "line " + std::to_string(i) + " " + std::string(40, 'p'));
  }
  EXPECT_GT(CounterValue("yagura_tail_backpressure_total", {{"file", "auth"}}), 0);
  tailer->PollOnce();
  EXPECT_TRUE(Take().empty());
}

TEST_F(FileTailerTest, BackgroundThreadFollowsTheFile) {
  TailedFile file{log_, "", "org-a", ""};
  auto tailer = FileTailer::Start({file}, (dir_ / "state").string(), *queue_, metrics_, 10);
  ASSERT_TRUE(tailer) << tailer.error().ToString();
  Write(log_, "hello\n");
  std::vector<Line> lines;
  for (int i = 0; i < 2000 && lines.empty(); ++i) {  // up to 20 s
    lines = Take();
    if (lines.empty()) usleep(10000);
  }
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].payload, "hello");
  EXPECT_EQ(lines[0].sensor_id, log_);  // the name defaults to the path
  EXPECT_EQ(lines[0].logsource, "");
  (*tailer)->Stop();
}

TEST_F(FileTailerTest, ConfigurationErrors) {
  auto state = (dir_ / "state").string();
  EXPECT_FALSE(FileTailer::Start({TailedFile{"", "n", "o", ""}}, state, *queue_, metrics_, 0));
  EXPECT_FALSE(FileTailer::Start({TailedFile{log_, "n", "", ""}}, state, *queue_, metrics_, 0));
  EXPECT_FALSE(FileTailer::Start({TailedFile{log_, "n", "o", ""}, TailedFile{log_, "m", "o", ""}},
                                 state, *queue_, metrics_, 0));
  auto bad =
      FileTailer::Start({TailedFile{log_, "n", "o", "vendor=x"}}, state, *queue_, metrics_, 0);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().ToString().find(log_), std::string::npos);
}

}  // namespace
}  // namespace yagura::pipeline

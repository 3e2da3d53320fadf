// `yagura stats`' record id gaps: RecordIdGaps on its own (spans joined in any order, copies
// ignored, numberings apart, too scattered ones left out, the most nearly whole logs first),
// then over a real EVTX file with one record missing, whole and narrowed by --where.
#include "scan/record_id_gaps.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <numeric>
#include <random>
#include <vector>

#include "core/json_value.hpp"
#include "core/time.hpp"
#include "scan/log_stats.hpp"

namespace yagura::scan {
namespace {

namespace fs = std::filesystem;

TEST(RecordIdGaps, SpansJoinInAnyOrderAndTheGapsBetweenThemAreMissing) {
  // Ids 100..199 but 130..134 and 150, each with time = id seconds, in three orders.
  std::vector<uint64_t> ids;
  for (uint64_t id = 100; id < 200; ++id)
    if ((id < 130 || id > 134) && id != 150) ids.push_back(id);
  std::vector<std::vector<uint64_t>> orders = {ids, {ids.rbegin(), ids.rend()}, ids};
  std::shuffle(orders[2].begin(), orders[2].end(), std::mt19937(7));
  for (const auto& order : orders) {
    RecordIdGaps gaps;
    for (uint64_t id : order) gaps.Add("a.evtx", "Security", "dc01", id, int64_t(id) * 1000);
    gaps.Add("a.evtx", "Security", "dc01", 140, 1);  // a copy of a record: ignored
    const auto found = gaps.Gaps();
    ASSERT_EQ(found.size(), 2u);
    EXPECT_EQ(found[0].first_missing, 130u);
    EXPECT_EQ(found[0].last_missing, 134u);
    EXPECT_EQ(found[0].missing(), 5u);
    EXPECT_EQ(found[0].before_ms, 129000);
    EXPECT_EQ(found[0].after_ms, 135000);
    EXPECT_EQ(found[1].first_missing, 150u);
    EXPECT_EQ(found[1].missing(), 1u);
    const auto summary = gaps.Summary();
    ASSERT_EQ(summary.size(), 1u);
    EXPECT_EQ(summary[0].first_id, 100u);
    EXPECT_EQ(summary[0].last_id, 199u);
    EXPECT_EQ(summary[0].present, 94u);
    EXPECT_EQ(summary[0].missing, 6u);
    EXPECT_EQ(summary[0].gaps, 2u);
    EXPECT_EQ(summary[0].largest.first_missing, 130u);
  }
}

TEST(RecordIdGaps, EachFileChannelAndComputerIsNumberedApart) {
  RecordIdGaps gaps;
  for (uint64_t id = 1; id <= 10; ++id) {
    gaps.Add("a.evtx", "Security", "dc01", id, std::nullopt);
    gaps.Add("a.evtx", "System", "dc01", id + 500, std::nullopt);  // another run, no gap
    gaps.Add("b.evtx", "Security", "dc01", id * 2, std::nullopt);  // every other id
  }
  gaps.Add("a.evtx", "Security", "dc02", 77, std::nullopt);
  const auto summary = gaps.Summary();
  ASSERT_EQ(summary.size(), 1u);
  EXPECT_EQ(summary[0].file, "b.evtx");
  EXPECT_EQ(summary[0].gaps, 9u);
  EXPECT_EQ(summary[0].missing, 9u);
  EXPECT_FALSE(summary[0].largest.before_ms);
}

TEST(RecordIdGaps, NearlyWholeLogsComeFirstAndScatteredOnesAreLeftOut) {
  RecordIdGaps gaps;
  for (uint64_t id = 1; id <= 1000; ++id) {
    if (id != 500) gaps.Add("edited.evtx", "Security", "dc01", id, std::nullopt);
    if (id % 10 == 0) gaps.Add("filtered.evtx", "Security", "dc01", id, std::nullopt);
  }
  for (uint64_t id = 0; id < 2 * RecordIdGaps::MAX_SPANS + 4; id += 2)
    gaps.Add("sampled.evtx", "Security", "dc01", id, std::nullopt);
  const auto summary = gaps.Summary();
  ASSERT_EQ(summary.size(), 2u);
  EXPECT_EQ(summary[0].file, "edited.evtx");
  EXPECT_EQ(summary[1].file, "filtered.evtx");
  EXPECT_EQ(gaps.scattered(), 1u);
}

TEST(RecordIdGaps, StatsOfAnEvtxFileWithARecordMissing) {
  const fs::path file =
      fs::path(YAGURA_SHARED_DIR) /
      "data/logs/evtx/Execution/execution_evasion_visual_studio_prebuild_event.evtx";
  if (!fs::exists(file)) GTEST_SKIP() << "test data absent: " << file;
  for (bool narrowed : {false, true}) {
    StatsOptions options;
    options.inputs = {file.string()};
    if (narrowed) options.conditions = {"EventID=999999"};  // --where keeps no record
    Diagnostics diagnostics;
    auto stats = CollectStats(options, diagnostics);
    ASSERT_TRUE(stats) << stats.error().ToString();
    ASSERT_EQ(stats->record_id_holes.size(), 1u) << "--where does not narrow the gaps";
    const RecordIdGaps::Holes& h = stats->record_id_holes[0];
    EXPECT_EQ(h.channel, "Microsoft-Windows-Sysmon/Operational");
    EXPECT_EQ(h.computer, "LAPTOP-JU4M3I0E");
    EXPECT_EQ(h.missing, 1u);
    EXPECT_EQ(h.last_id - h.first_id + 1, 30u);
    EXPECT_EQ(h.largest.first_missing, 2429133u);
    ASSERT_TRUE(h.largest.before_ms && h.largest.after_ms);
    EXPECT_EQ(FormatTimestampMs(*h.largest.before_ms), "2021-01-26T13:21:13.690Z");
    auto json = JsonValue::Parse(StatsJson(*stats));
    ASSERT_TRUE(json);
    const JsonValue* listed = json->Find("record_id_gaps");
    ASSERT_TRUE(listed != nullptr && listed->is_array());
    ASSERT_EQ(listed->as_array().size(), 1u);
    EXPECT_EQ(listed->as_array()[0].Find("missing")->as_int(), 1);
    EXPECT_NE(RenderStats(*stats, 10).find("1 of 30 ids missing in 1 gaps"), std::string::npos);
  }
}

// The other sign of a log tampered with: the log cleared (Security 1102, System 104 naming the
// channel it cleared), by time, with who did it.
TEST(LogStats, LogsClearedWithTheirChannelAndAccount) {
  const fs::path evtx = fs::path(YAGURA_SHARED_DIR) / "data/logs/evtx";
  const fs::path security = evtx / "Command and Control/DE_RDP_Tunnel_5156.evtx";
  const fs::path system = evtx / "Defense Evasion/DE_104_system_log_cleared.evtx";
  if (!fs::exists(security) || !fs::exists(system))
    GTEST_SKIP() << "test data absent: " << security << ", " << system;
  StatsOptions options;
  options.inputs = {system.string(), security.string()};  // read in the other order
  Diagnostics diagnostics;
  auto stats = CollectStats(options, diagnostics);
  ASSERT_TRUE(stats) << stats.error().ToString();
  ASSERT_EQ(stats->logs_cleared_count, 2u);
  ASSERT_EQ(stats->logs_cleared.size(), 2u);
  // By time: the Security log was cleared first, though its file was read last; the System
  // log's 104 names the channel it cleared.
  const LogStats::LogCleared& first = stats->logs_cleared[0];
  EXPECT_EQ(first.channel, "Security");
  EXPECT_EQ(first.computer, "PC01.example.corp");
  EXPECT_EQ(first.by, "EXAMPLE\\admin01");
  EXPECT_EQ(FormatTimestampMs(*first.time_ms), "2019-02-13T18:01:41.593Z");
  const LogStats::LogCleared& second = stats->logs_cleared[1];
  EXPECT_EQ(second.channel, "System");
  EXPECT_EQ(second.by, "EXAMPLE\\user01");
  EXPECT_EQ(FormatTimestampMs(*second.time_ms), "2019-03-19T23:34:25.894Z");
  const std::string text = RenderStats(*stats, 10);
  EXPECT_NE(text.find("Logs cleared (2)"), std::string::npos) << text;
  EXPECT_NE(text.find("Security on PC01.example.corp by EXAMPLE\\admin01"), std::string::npos);
  auto json = JsonValue::Parse(StatsJson(*stats));
  ASSERT_TRUE(json);
  EXPECT_EQ(json->Find("logs_cleared_count")->as_int(), 2);
  EXPECT_EQ(json->Find("logs_cleared")->as_array()[0].Find("by")->as_string(), "EXAMPLE\\admin01");
}

}  // namespace
}  // namespace yagura::scan

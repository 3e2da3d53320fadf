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

}  // namespace
}  // namespace yagura::scan

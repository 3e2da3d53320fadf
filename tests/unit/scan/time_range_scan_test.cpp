// --from / --to and --where: only events whose time lies in the range, and for which the
// conditions hold, are matched; the others, and events without a readable time, are read, not
// matched, and counted. One thread and several (which read a large JSON file a segment per
// worker) give the same alerts and the same counts.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/time.hpp"
#include "scan/scanner.hpp"

namespace yagura::scan {
namespace {

namespace fs = std::filesystem;

class TimeRangeScan : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("yagura-time-range-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "rules");
    std::ofstream(dir_ / "rules" / "whoami.yml") << R"(title: Whoami
id: 5f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f1
logsource: {product: windows}
detection:
  selection: {CommandLine|contains: 'whoami /all'}
  condition: selection
level: high
)";
  }
  void TearDown() override { fs::remove_all(dir_); }

  struct Result {
    std::vector<uint64_t> alerted;  // record numbers, in order
    ScanSummary summary;
  };

  Result Scan(int threads, std::optional<int64_t> from, std::optional<int64_t> to,
              const std::string& time_field = "", const std::vector<std::string>& conditions = {}) {
    ScanOptions options;
    options.conditions = conditions;
    options.rule_paths = {(dir_ / "rules").string()};
    options.threads = threads;
    options.from_ms = from;
    options.to_ms = to;
    options.time_field = time_field;
    Result result;
    Diagnostics diagnostics([](const Diagnostic&) {});
    auto engine = Engine::Prepare(options, diagnostics, result.summary);
    EXPECT_TRUE(engine) << engine.error().ToString();
    if (!engine) return result;
    (*engine)->Scan(
        {(dir_ / "events.json").string()},
        [&](const sigma::Rule&, const event::Event&, const event::Record& record,
            const std::string&) { result.alerted.push_back(record.number); },
        result.summary);
    return result;
  }

  fs::path dir_;
};

constexpr int64_t DAY_MS = 86'400'000;

TEST_F(TimeRangeScan, OnlyEventsInTheRangeAreMatchedAndTheOthersCounted) {
  // Three days of events, one every 11 s, every seventh a whoami; every 50th has no time and
  // every 77th a time no reader takes. Large enough for workers to read it a segment each.
  const int64_t start = *ParseIsoDateTimeMs("2026-11-01T00:00:00Z");
  const int64_t from = *ParseIsoDateTimeMs("2026-11-02T00:00:00Z");
  const int64_t to = *ParseIsoDateTimeMs("2026-11-02T23:59:59.999Z");
  std::vector<uint64_t> expected;
  uint64_t outside = 0, untimed = 0, events = 0;
  {
    std::ofstream out(dir_ / "events.json");
    for (int i = 0; i < 3 * DAY_MS / 11'000; ++i) {
      const int64_t time = start + int64_t{i} * 11'000;
      const bool whoami = i % 7 == 0;
      std::string line = R"({"Channel":"Microsoft-Windows-Sysmon/Operational","EventID":1,)";
      line += R"("CommandLine":")" + std::string(whoami ? "whoami /all" : "dir") + " #" +
              std::to_string(i) + R"(")";
      const bool no_time = i % 50 == 0;
      const bool bad_time = i % 77 == 0 && !no_time;
      if (bad_time) {
        line += R"(,"UtcTime":"the day after yesterday")";
      } else if (!no_time) {
        // Sysmon's own form, and the custom field another test reads.
        std::string text = FormatTimestampMs(time);
        line += R"(,"UtcTime":")" + text.substr(0, 10) + " " + text.substr(11, 12) + R"(")";
      }
      line += R"(,"When":")" + FormatTimestampMs(time + DAY_MS) + R"("})";
      out << line << "\n";
      ++events;
      if (no_time || bad_time) {
        ++untimed;
      } else if (time < from || time > to) {
        ++outside;
      } else if (whoami) {
        expected.push_back(static_cast<uint64_t>(i) + 1);
      }
    }
  }
  ASSERT_GT(fs::file_size(dir_ / "events.json"), 2u << 20);
  ASSERT_GT(expected.size(), 200u);

  for (int threads : {1, 2, 3}) {
    SCOPED_TRACE(std::to_string(threads) + " threads");
    Result result = Scan(threads, from, to);
    EXPECT_EQ(result.alerted, expected);
    EXPECT_EQ(result.summary.records_read, events);
    EXPECT_EQ(result.summary.events_outside_time_range, outside);
    EXPECT_EQ(result.summary.events_without_time, untimed);
  }

  // Without a range every whoami is matched, and nothing is counted as outside.
  Result all = Scan(1, std::nullopt, std::nullopt);
  EXPECT_EQ(all.alerted.size(), (events + 6) / 7);
  EXPECT_EQ(all.summary.events_outside_time_range, 0u);
  EXPECT_EQ(all.summary.events_without_time, 0u);

  // One bound: everything from the third day on.
  Result late = Scan(2, to + 1, std::nullopt);
  for (uint64_t number : late.alerted) EXPECT_GT(start + int64_t(number - 1) * 11'000, to);
  EXPECT_EQ(late.summary.events_without_time, untimed);

  // --time-field: "When" is a day later than UtcTime and present on every event.
  Result by_field = Scan(2, from + DAY_MS, to + DAY_MS, "When");
  EXPECT_EQ(by_field.summary.events_without_time, 0u);
  std::vector<uint64_t> with_untimed;  // those without UtcTime count now
  for (int i = 0; i < static_cast<int>(events); ++i) {
    const int64_t time = start + int64_t{i} * 11'000;
    if (i % 7 == 0 && time >= from && time <= to)
      with_untimed.push_back(static_cast<uint64_t>(i) + 1);
  }
  EXPECT_EQ(by_field.alerted, with_untimed);
}

TEST_F(TimeRangeScan, OnlyEventsWhereTheConditionsHoldAreMatchedAndTheOthersCounted) {
  // Four hosts; every seventh event a whoami. --where keeps host1's events whose command line
  // ends in 5, decided by Sigma's own modifiers (one a regex), within a time range.
  const int64_t start = *ParseIsoDateTimeMs("2026-11-01T00:00:00Z");
  const int64_t to = start + DAY_MS - 1;
  std::vector<uint64_t> expected;
  uint64_t events = 0, not_where = 0, outside = 0;
  {
    std::ofstream out(dir_ / "events.json");
    for (int i = 0; i < 2 * DAY_MS / 11'000; ++i) {
      const int64_t time = start + int64_t{i} * 11'000;
      const std::string text = FormatTimestampMs(time);
      out << R"({"Channel":"Microsoft-Windows-Sysmon/Operational","EventID":1,"Computer":"host)"
          << i % 4 << R"(","CommandLine":")" << (i % 7 == 0 ? "whoami /all" : "dir") << " #" << i
          << R"(","UtcTime":")" << text.substr(0, 10) << " " << text.substr(11, 12) << R"("})"
          << '\n';
      ++events;
      const bool holds = i % 4 == 1 && i % 10 == 5;
      if (time > to) {
        ++outside;
      } else if (!holds) {
        ++not_where;
      } else if (i % 7 == 0) {
        expected.push_back(static_cast<uint64_t>(i) + 1);
      }
    }
  }
  ASSERT_GT(fs::file_size(dir_ / "events.json"), 2u << 20);
  ASSERT_GT(expected.size(), 10u);
  const std::vector<std::string> where = {"Computer=HOST1", "CommandLine|re=#\\d*5$"};
  for (int threads : {1, 2, 3}) {
    SCOPED_TRACE(std::to_string(threads) + " threads");
    Result result = Scan(threads, std::nullopt, to, "", where);
    EXPECT_EQ(result.alerted, expected);
    EXPECT_EQ(result.summary.records_read, events);
    EXPECT_EQ(result.summary.events_outside_time_range, outside);
    EXPECT_EQ(result.summary.events_not_where, not_where);
  }
  Result all = Scan(1, std::nullopt, std::nullopt);
  EXPECT_EQ(all.summary.events_not_where, 0u);
  EXPECT_EQ(all.alerted.size(), (events + 6) / 7);
}

}  // namespace
}  // namespace yagura::scan

// `yagura scan --sort time`: the TimeSorter on its own (in memory, and spilling runs to
// temporary files), then RunScan writing a timeline over inputs whose events come out of order,
// for one thread and several, with and without spilling.
#include "scan/time_sorter.hpp"

#include <gtest/gtest.h>
#include <stdio.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "core/json_value.hpp"
#include "core/time.hpp"
#include "scan/scanner.hpp"

namespace yagura::scan {
namespace {

namespace fs = std::filesystem;

struct Item {
  std::optional<int64_t> time;
  std::string line;
};

// What the sorter must give: by time, untimed last, ties in arrival order.
std::string Expected(std::vector<Item> items) {
  std::stable_sort(items.begin(), items.end(), [](const Item& a, const Item& b) {
    if (!a.time || !b.time) return a.time.has_value() && !b.time.has_value();
    return *a.time < *b.time;
  });
  std::string out;
  for (const Item& item : items) out += item.line;
  return out;
}

std::string Sorted(TimeSorter& sorter, const std::vector<Item>& items) {
  for (const Item& item : items) {
    auto added = sorter.Add(item.time, item.line);
    EXPECT_TRUE(added) << added.error().ToString();
  }
  EXPECT_LT(sorter.open_runs(), TimeSorter::MAX_RUNS);
  std::FILE* out = std::tmpfile();
  auto written = sorter.WriteTo(out);
  EXPECT_TRUE(written) << written.error().ToString();
  std::string text(static_cast<size_t>(std::ftell(out)), '\0');
  std::rewind(out);
  EXPECT_EQ(std::fread(text.data(), 1, text.size(), out), text.size());
  std::fclose(out);
  return text;
}

std::vector<Item> RandomItems(size_t count, uint32_t seed) {
  std::mt19937 random(seed);
  std::vector<Item> items;
  for (size_t i = 0; i < count; ++i) {
    Item item;
    // Few distinct times, so that ties are common; some untimed, some before 1970.
    const int roll = static_cast<int>(random() % 20);
    if (roll != 0) item.time = static_cast<int64_t>(random() % 50) * 1000 - 3000;
    item.line = "alert " + std::to_string(i) + " " + std::string(random() % 300, 'x') + "\n";
    items.push_back(std::move(item));
  }
  return items;
}

TEST(TimeSorter, InMemoryByTimeWithTiesInArrivalOrderAndUntimedLast) {
  const std::vector<Item> items = RandomItems(2000, 1);
  TimeSorter sorter("");
  EXPECT_EQ(Sorted(sorter, items), Expected(items));
  EXPECT_EQ(sorter.runs_written(), 0u);
}

TEST(TimeSorter, RunsSpilledToTemporaryFilesMergeToTheSameOrder) {
  const fs::path dir = fs::temp_directory_path() / ("yagura-sort-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  for (size_t budget : {size_t{1}, size_t{4096}, size_t{100'000}}) {
    SCOPED_TRACE("budget " + std::to_string(budget));
    const std::vector<Item> items = RandomItems(3000, static_cast<uint32_t>(budget));
    TimeSorter sorter(dir.string(), budget);
    EXPECT_EQ(Sorted(sorter, items), Expected(items));
    // With a budget of one byte every alert is a run (or a merge of the runs so far, when
    // MAX_RUNS would be open).
    if (budget == 1) {
      EXPECT_EQ(sorter.runs_written(), 3000u);
    }
    EXPECT_GT(sorter.runs_written(), 2u);
    // The runs' files were unlinked as soon as they were made.
    EXPECT_TRUE(fs::is_empty(dir));
  }
  fs::remove_all(dir);
}

// A directory that takes no runs loses nothing: the lines stay in memory, in order, and the
// sorter says why, naming the directory and the option that chooses another.
TEST(TimeSorter, ADirectoryThatTakesNoFilesKeepsTheLinesInMemoryAndSaysWhy) {
  const std::vector<Item> items = RandomItems(500, 7);
  TimeSorter sorter("/nonexistent/yagura-sort-dir", 1);
  EXPECT_EQ(Sorted(sorter, items), Expected(items));
  EXPECT_EQ(sorter.runs_written(), 0u);
  EXPECT_NE(sorter.spill_problem().find("/nonexistent/yagura-sort-dir"), std::string::npos)
      << sorter.spill_problem();
  EXPECT_NE(sorter.spill_problem().find("--sort-dir"), std::string::npos);
}

// Runs stop being writable part way (the directory goes away; a file size limit, as a full disk
// would, stops the merge of the runs so far into one at MAX_RUNS, after it had read them all):
// the runs written before and every line after are all in the output, in order.
TEST(TimeSorter, RunsThatCannotBeWrittenPartWayLoseNothing) {
  for (bool while_merging : {false, true}) {
    SCOPED_TRACE(while_merging ? "the merge at MAX_RUNS fails" : "the directory goes away");
    const fs::path dir =
        fs::temp_directory_path() / ("yagura-sort-fail-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    const std::vector<Item> items = RandomItems(1000, while_merging ? 2 : 3);
    const size_t fail_after = while_merging ? TimeSorter::MAX_RUNS - 1 : 20;
    TimeSorter sorter(dir.string(), 1);  // every line a run
    size_t added = 0;
    for (; added < items.size() && sorter.runs_written() < fail_after; ++added)
      ASSERT_TRUE(sorter.Add(items[added].time, items[added].line));
    ASSERT_EQ(sorter.runs_written(), fail_after);
    EXPECT_TRUE(sorter.spill_problem().empty());
    rlimit saved{};
    ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &saved), 0);
    const auto saved_signal = std::signal(SIGXFSZ, SIG_IGN);  // EFBIG instead of the signal
    if (while_merging) {
      rlimit small = saved;
      small.rlim_cur = 4096;  // more than one line, less than the runs so far together
      ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
    } else {
      fs::remove_all(dir);
    }
    for (; added < items.size(); ++added)
      ASSERT_TRUE(sorter.Add(items[added].time, items[added].line));
    ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &saved), 0);
    std::signal(SIGXFSZ, saved_signal);
    const std::string text = Sorted(sorter, {});
    EXPECT_TRUE(text == Expected(items)) << "the output lost or reordered lines";
    EXPECT_FALSE(sorter.spill_problem().empty());
    EXPECT_NE(sorter.spill_problem().find(dir.string()), std::string::npos)
        << sorter.spill_problem();
    // The merge's run was made before it failed; no run was tried after the failure.
    EXPECT_EQ(sorter.runs_written(), fail_after + (while_merging ? 1 : 0));
    fs::remove_all(dir);
  }
}

class SortedScan : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("yagura-sorted-scan-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "rules");
    fs::create_directories(dir_ / "spill");
    std::ofstream(dir_ / "rules" / "whoami.yml") << R"(title: Whoami
id: 5f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f1
logsource: {product: windows}
detection:
  selection: {CommandLine|contains: 'whoami'}
  condition: selection
level: high
)";
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Two hosts' logs, each in its own order, the second file's events interleaved in time with
  // the first's and the first file's last hour written first; some events have no time.
  void WriteInputs(int events_per_file) {
    const int64_t start = *ParseIsoDateTimeMs("2026-11-01T00:00:00Z");
    for (int file = 0; file < 2; ++file) {
      std::ofstream out(dir_ / ("host" + std::to_string(file) + ".json"));
      for (int i = 0; i < events_per_file; ++i) {
        const int k = file == 0 ? (i + events_per_file / 2) % events_per_file : i;
        const int64_t time = start + int64_t{k} * 7'000 + file * 3'500 - (k % 5 == 0 ? 3'500 : 0);
        std::string line = R"({"Channel":"Microsoft-Windows-Sysmon/Operational","EventID":1,)";
        line +=
            R"("CommandLine":"whoami #)" + std::to_string(file) + "-" + std::to_string(i) + R"(")";
        if (i % 13 != 0) {
          const std::string text = FormatTimestampMs(time);
          line += R"(,"UtcTime":")" + text.substr(0, 10) + " " + text.substr(11, 12) + R"(")";
        }
        out << line << "}\n";
      }
    }
  }

  std::string Scan(int threads, AlertOrder order, size_t memory = size_t{64} << 20,
                   ScanSummary* summary_out = nullptr) {
    ScanOptions options;
    options.rule_paths = {(dir_ / "rules").string()};
    options.inputs = {(dir_ / "host0.json").string(), (dir_ / "host1.json").string()};
    options.threads = threads;
    options.alert_order = order;
    options.sort_dir = (dir_ / "spill").string();
    options.sort_memory_bytes = memory;
    options.output_path = (dir_ / "alerts.jsonl").string();
    Diagnostics diagnostics([](const Diagnostic&) {});
    auto summary = RunScan(options, diagnostics);
    EXPECT_TRUE(summary) << summary.error().ToString();
    if (summary && summary_out != nullptr) *summary_out = *summary;
    std::ifstream in(options.output_path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

  fs::path dir_;
};

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

TEST_F(SortedScan, AlertsComeInOrderOfEventTimeForAnyThreadsAndSpilling) {
  WriteInputs(20'000);  // large enough for workers to read each file a segment at a time
  const std::string unsorted = Scan(1, AlertOrder::kInput);
  const std::string sorted = Scan(1, AlertOrder::kTime);
  std::vector<std::string> unsorted_lines = Lines(unsorted);
  std::vector<std::string> sorted_lines = Lines(sorted);
  ASSERT_EQ(sorted_lines.size(), 40'000u);
  ASSERT_NE(sorted, unsorted);  // the inputs are out of order

  // The same alerts, in order of time; untimed ones last, in input order.
  std::vector<std::string> a = unsorted_lines, b = sorted_lines;
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  EXPECT_EQ(a, b);
  std::vector<std::string> untimed_in_input_order;
  for (const std::string& line : unsorted_lines)
    if (line.find("\"UtcTime\"") == std::string::npos) untimed_in_input_order.push_back(line);
  int64_t previous = INT64_MIN;
  size_t first_untimed = sorted_lines.size();
  for (size_t i = 0; i < sorted_lines.size(); ++i) {
    auto alert = JsonValue::Parse(sorted_lines[i]);
    ASSERT_TRUE(alert);
    const JsonValue* time = alert->Find("time");
    if (time == nullptr || time->is_null()) {
      first_untimed = std::min(first_untimed, i);
      continue;
    }
    ASSERT_EQ(first_untimed, sorted_lines.size()) << "a timed alert after an untimed one at " << i;
    const int64_t ms = *ParseIsoDateTimeMs(time->as_string());
    ASSERT_GE(ms, previous) << "line " << i;
    previous = ms;
  }
  EXPECT_EQ(std::vector<std::string>(sorted_lines.begin() + static_cast<long>(first_untimed),
                                     sorted_lines.end()),
            untimed_in_input_order);

  // The same bytes for several threads, and when most alerts wait in temporary files.
  for (int threads : {2, 3}) EXPECT_EQ(Scan(threads, AlertOrder::kTime), sorted) << threads;
  EXPECT_EQ(Scan(1, AlertOrder::kTime, 64 << 10), sorted);
  EXPECT_EQ(Scan(2, AlertOrder::kTime, 64 << 10), sorted);
  EXPECT_TRUE(fs::is_empty(dir_ / "spill"));
}

// The summary says when the alerted events happened, whatever the order of the alerts.
TEST_F(SortedScan, TheSummaryGivesTheAlertedEventsFirstAndLastTimeAndTheirDays) {
  WriteInputs(30'000);  // from just before 2026-11-01 to 2026-11-03 10:20 (7 s apart)
  int64_t first = INT64_MAX, last = INT64_MIN;
  uint64_t untimed = 0;
  std::map<std::string, uint64_t> days;
  for (const std::string& line : Lines(Scan(1, AlertOrder::kInput))) {
    auto alert = JsonValue::Parse(line);
    ASSERT_TRUE(alert);
    const JsonValue* time = alert->Find("time");
    if (time == nullptr || time->is_null()) {
      ++untimed;
      continue;
    }
    const int64_t ms = *ParseIsoDateTimeMs(time->as_string());
    first = std::min(first, ms);
    last = std::max(last, ms);
    ++days[FormatTimestampMs(ms).substr(0, 10)];
  }
  ASSERT_GE(days.size(), 3u);
  for (AlertOrder order : {AlertOrder::kInput, AlertOrder::kTime}) {
    for (int threads : {1, 3}) {
      ScanSummary summary;
      Scan(threads, order, size_t{64} << 20, &summary);
      ASSERT_TRUE(summary.first_alert_ms && summary.last_alert_ms);
      EXPECT_EQ(*summary.first_alert_ms, first);
      EXPECT_EQ(*summary.last_alert_ms, last);
      EXPECT_EQ(summary.alerts_without_time, untimed);
      EXPECT_EQ(summary.alerts_by_day, days);
    }
  }
}

}  // namespace
}  // namespace yagura::scan

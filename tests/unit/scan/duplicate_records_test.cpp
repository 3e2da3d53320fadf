// `yagura scan --skip-duplicate-records`: DuplicateRecords on its own (Windows records known by
// channel, computer and record id in any file; other records by their bytes in another file),
// then scans of collections that hold the same logs twice: alerts once, correlations counting
// each record once, the same for one thread and several, and an EVTX file with its JSON export.
#include "scan/duplicate_records.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "scan/scanner.hpp"

namespace yagura::scan {
namespace {

namespace fs = std::filesystem;

// An event with the Windows fields a record is known by (empty: absent) and raw bytes.
struct EventBuilder {
  event::FieldCatalog catalog;
  event::Event event;
  std::string raw;

  const event::Event& Make(std::string_view channel, std::string_view computer,
                           std::string_view record_id, std::string bytes = "") {
    event.Reset(catalog.size());
    auto add = [&](std::string_view name, std::string_view text) {
      if (!text.empty()) event.Add(catalog.Find(name), {text, event::ValueType::kString});
    };
    add("Channel", channel);
    add("Computer", computer);
    add("EventRecordID", record_id);
    raw = std::move(bytes);
    event.raw = raw;
    return event;
  }
};

TEST(DuplicateRecords, WindowsRecordsAreKnownByChannelComputerAndRecordIdInAnyFile) {
  EventBuilder b;
  DuplicateRecords seen(b.catalog);
  EXPECT_FALSE(seen.SeenBefore(b.Make("Security", "dc01", "42", "a"), 0));
  EXPECT_TRUE(seen.SeenBefore(b.Make("Security", "dc01", "42", "other bytes"), 1))
      << "the same record in a backup, rendered another way";
  EXPECT_TRUE(seen.SeenBefore(b.Make("Security", "dc01", "42", "a"), 0))
      << "a recovered record repeating a live one in the same file";
  EXPECT_FALSE(seen.SeenBefore(b.Make("Security", "dc02", "42"), 0)) << "another computer";
  EXPECT_FALSE(seen.SeenBefore(b.Make("System", "dc01", "42"), 0)) << "another channel";
  EXPECT_FALSE(seen.SeenBefore(b.Make("Security", "dc01", "43"), 0)) << "another record";
  // Parts cannot run together: "ab" + "c" is not "a" + "bc".
  EXPECT_FALSE(seen.SeenBefore(b.Make("ab", "c", "1"), 0));
  EXPECT_FALSE(seen.SeenBefore(b.Make("a", "bc", "1"), 0));
  EXPECT_EQ(seen.remembered(), 6u);
}

TEST(DuplicateRecords, OtherRecordsAreCopiesOnlyWhenTheSameBytesComeFromAnotherFile) {
  EventBuilder b;
  DuplicateRecords seen(b.catalog);
  const std::string line = "Nov 26 10:00:01 web1 sshd[1]: Failed password for root";
  EXPECT_FALSE(seen.SeenBefore(b.Make("", "", "", line), 0));
  EXPECT_FALSE(seen.SeenBefore(b.Make("", "", "", line), 0))
      << "the same message twice in one file is two events";
  EXPECT_TRUE(seen.SeenBefore(b.Make("", "", "", line), 1)) << "a copy of the file";
  EXPECT_FALSE(seen.SeenBefore(b.Make("", "", "", line + "!"), 1));
  // Raw bytes never meet a Windows key, whatever they hold.
  EXPECT_FALSE(seen.SeenBefore(b.Make("", "", "",
                                      std::string("Security\0dc01\0"
                                                  "42\0",
                                                  14)),
                               1));
  EXPECT_FALSE(seen.SeenBefore(b.Make("Security", "dc01", "42"), 2));
}

class DuplicateScan : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("yagura-duplicate-scan-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "rules");
    fs::create_directories(dir_ / "logs" / "backup");
    std::ofstream(dir_ / "rules" / "rules.yml") << R"(title: Whoami
id: 6a1e2d3c-4b5a-4968-8776-a5b4c3d2e1f1
logsource: {product: windows}
detection:
  selection: {CommandLine|contains: 'whoami'}
  condition: selection
level: high
---
title: Whoami again and again
id: 6a1e2d3c-4b5a-4968-8776-a5b4c3d2e1f2
correlation:
  type: event_count
  rules: [6a1e2d3c-4b5a-4968-8776-a5b4c3d2e1f1]
  group-by: [Computer]
  timespan: 1h
  condition: {gte: 3}
  generate: true
level: critical
---
title: SSH failed password
id: 6a1e2d3c-4b5a-4968-8776-a5b4c3d2e1f3
logsource: {product: linux, service: sshd}
detection:
  keywords: ['Failed password']
  condition: keywords
level: low
)";
    // Two whoami records of one host (under the correlation's three), and one other event.
    std::string windows;
    for (int id : {7, 8, 9}) {
      windows +=
          R"({"Event":{"System":{"Provider":{"#attributes":{"Name":"Microsoft-Windows-Sysmon"}},"EventID":1,"EventRecordID":)" +
          std::to_string(id) +
          R"(,"Channel":"Microsoft-Windows-Sysmon/Operational","Computer":"ws1","TimeCreated":{"#attributes":{"SystemTime":"2026-11-26T10:00:0)" +
          std::to_string(id) + R"(Z"}}},"EventData":{"CommandLine":")" +
          (id == 9 ? "notepad" : "whoami /all") + R"("}}})" + "\n";
    }
    std::ofstream(dir_ / "logs" / "sysmon.json") << windows;
    std::ofstream(dir_ / "logs" / "backup" / "sysmon.json") << windows;
    // One sshd failure written twice in one second (two events), in a file and its copy.
    const std::string failure =
        "Nov 26 10:00:01 web1 sshd[4242]: Failed password for root from 203.0.113.45 port 22 "
        "ssh2\n";
    std::ofstream(dir_ / "logs" / "auth.log") << failure << failure;
    std::ofstream(dir_ / "logs" / "backup" / "auth.log") << failure << failure;
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Scan(bool skip, int threads, ScanSummary& summary) {
    ScanOptions options;
    options.rule_paths = {(dir_ / "rules").string()};
    options.inputs = {(dir_ / "logs").string()};
    options.threads = threads;
    options.skip_duplicate_records = skip;
    options.output_path = (dir_ / "alerts.jsonl").string();
    Diagnostics diagnostics([](const Diagnostic&) {});
    auto scanned = RunScan(options, diagnostics);
    EXPECT_TRUE(scanned) << scanned.error().ToString();
    if (scanned) summary = *scanned;
    std::ifstream in(options.output_path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

  fs::path dir_;
};

size_t Count(const std::string& text, std::string_view what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST_F(DuplicateScan, ACollectionWithEveryLogTwiceAlertsOnceAndCorrelatesOnce) {
  ScanSummary all;
  const std::string doubled = Scan(false, 1, all);
  EXPECT_EQ(Count(doubled, R"("title":"Whoami")"), 4u);
  EXPECT_EQ(Count(doubled, R"("title":"SSH failed password")"), 4u);
  EXPECT_EQ(Count(doubled, R"("title":"Whoami again and again")"), 1u)
      << "the copies make two whoami records look like four";
  EXPECT_EQ(all.records_duplicate, 0u);

  ScanSummary once;
  const std::string deduplicated = Scan(true, 1, once);
  EXPECT_EQ(Count(deduplicated, R"("title":"Whoami")"), 2u);
  EXPECT_EQ(Count(deduplicated, R"("title":"SSH failed password")"), 2u)
      << "the same line twice in one file is two events; the copy's are not";
  EXPECT_EQ(Count(deduplicated, R"("title":"Whoami again and again")"), 0u);
  EXPECT_EQ(once.records_duplicate, 4u);
  EXPECT_EQ(once.alerts_duplicate, 4u);
  EXPECT_EQ(once.alerts, 4u);
  EXPECT_EQ(once.records_read, all.records_read) << "copies are read, only their alerts go";

  // The first copy in input order is kept, whatever the number of threads.
  for (int threads : {2, 3}) {
    ScanSummary summary;
    EXPECT_EQ(Scan(true, threads, summary), deduplicated) << threads;
    EXPECT_EQ(summary.records_duplicate, 4u);
  }
}

// An EVTX file and its evtx_dump JSON export are the same records: with the EVTX file twice,
// two of the three copies are left out.
TEST(DuplicateRecordsScan, AnEvtxFileAndItsJsonExportAreTheSameRecords) {
  const fs::path sigmahq = fs::path(YAGURA_SHARED_DIR) / "data/sigma/sigmahq";
  const fs::path sample = sigmahq /
                          "regression_data/rules-emerging-threats/2026/Exploits/RedSun/"
                          "file_event_win_exploit_redsun_indicators/"
                          "f2e4b7d9-5c3a-4f8b-9e1d-7a6c2b3f4e5d";
  const fs::path rule = sigmahq /
                        "rules-emerging-threats/2026/Exploits/RedSun/"
                        "file_event_win_exploit_redsun_indicators.yml";
  if (!fs::exists(sample.string() + ".evtx") || !fs::exists(rule))
    GTEST_SKIP() << "test data absent: " << sample << ", " << rule;
  for (bool skip : {false, true}) {
    ScanOptions options;
    options.rule_paths = {rule.string()};
    options.inputs = {sample.string() + ".evtx", sample.string() + ".json",
                      sample.string() + ".evtx"};
    options.skip_duplicate_records = skip;
    options.output_path = "/dev/null";
    Diagnostics diagnostics([](const Diagnostic&) {});
    auto summary = RunScan(options, diagnostics);
    ASSERT_TRUE(summary) << summary.error().ToString();
    ASSERT_GE(summary->records_read, 3u);
    EXPECT_EQ(summary->alerts, skip ? 1u : 3u);
    EXPECT_EQ(summary->records_duplicate, skip ? 2u : 0u);
  }
}

}  // namespace
}  // namespace yagura::scan

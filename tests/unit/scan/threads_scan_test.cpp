// Several threads give the alerts of one thread, in the same order, also when the records lie
// in many of the reader's buffers that workers keep while the reader goes on (JSON and line
// files larger than a buffer), when workers read large JSON files a segment each, and when they
// read EVTX files whole, on disk or inside a ZIP or uncompressed tar archive.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "scan/scanner.hpp"
#include "test_support/archive_writers.hpp"

namespace yagura::scan {
namespace {

namespace fs = std::filesystem;

struct Alert {
  std::string rule, path, data;
  uint64_t number = 0, line = 0;
  // One thread takes them from what its matcher found, several from the rule tested again.
  std::vector<std::string> matched_fields;
  bool operator==(const Alert&) const = default;
};

// The alerts of one scan by `engine`.
std::vector<Alert> ScanAlerts(Engine& engine, const std::vector<std::string>& inputs,
                              ScanSummary& summary) {
  std::vector<Alert> alerts;
  std::vector<std::string_view> fields;
  engine.Scan(inputs,
              [&](const sigma::Rule& rule, const event::Event& event, const event::Record& record,
                  const std::string& path) {
                fields.clear();
                engine.AppendMatchedFields(rule, event, fields);
                alerts.push_back({rule.info.title, path, std::string(record.data), record.number,
                                  record.line, {fields.begin(), fields.end()}});
              },
              summary);
  return alerts;
}

std::vector<Alert> ScanWith(int threads, const fs::path& rules,
                            const std::vector<std::string>& inputs, ScanSummary& summary,
                            std::vector<std::string>* reported = nullptr,
                            uint64_t whole_evtx_limit = ScanOptions().whole_evtx_limit) {
  ScanOptions options;
  options.rule_paths = {rules.string()};
  options.threads = threads;
  options.whole_evtx_limit = whole_evtx_limit;
  Diagnostics diagnostics([&](const Diagnostic& d) {
    if (reported != nullptr) reported->push_back(d.where + ": " + d.message);
  });
  auto engine = Engine::Prepare(options, diagnostics, summary);
  EXPECT_TRUE(engine) << engine.error().ToString();
  if (!engine) return {};
  return ScanAlerts(**engine, inputs, summary);
}

// What was read, skipped and unrecognised, as one thread counted it.
void ExpectSameCounts(const ScanSummary& many, const ScanSummary& one, int threads) {
  EXPECT_EQ(many.records_read, one.records_read) << threads;
  EXPECT_EQ(many.records_skipped, one.records_skipped) << threads;
  EXPECT_EQ(many.bytes_read, one.bytes_read) << threads;
  EXPECT_EQ(many.files_read, one.files_read) << threads;
  EXPECT_EQ(many.files_failed, one.files_failed) << threads;
  EXPECT_EQ(many.evtx_native_records, one.evtx_native_records) << threads;
  EXPECT_EQ(many.evtx_libevtx_records, one.evtx_libevtx_records) << threads;
  EXPECT_EQ(many.events_unrecognised, one.events_unrecognised) << threads;
}

// A fresh folder with a rules folder holding a rule on Windows command lines.
fs::path PrepareDir(const std::string& prefix) {
  fs::path dir = fs::temp_directory_path() / (prefix + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir / "rules");
  std::ofstream(dir / "rules" / "whoami.yml") << R"(title: Whoami
id: 5f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0
logsource: {product: windows}
detection:
  selection: {CommandLine|contains: 'whoami /all'}
  condition: selection
level: high
)";
  return dir;
}

TEST(ThreadsScan, KeptReaderBuffersGiveTheAlertsOfOneThread) {
  fs::path dir = PrepareDir("yagura-threads-scan-");
  std::ofstream(dir / "rules" / "ssh.yml") << R"(title: Ssh failure
id: 6a5b4c3d-2e1f-4a0b-9c8d-7e6f5a4b3c2d
logsource: {product: linux}
detection:
  keywords: ['Failed password for root']
  condition: keywords
level: medium
)";
  // About 14 MB of JSON lines: several of the reader's 4 MiB buffers, each record unique, an
  // alerting one every 997 lines so that some sit where one buffer ends and the next begins.
  {
    std::ofstream out(dir / "events.jsonl");
    for (int i = 0; i < 60000; ++i) {
      const bool alerting = i % 997 == 0;
      out << R"({"Channel":"Microsoft-Windows-Sysmon/Operational","EventID":1,"Computer":"ws)"
          << i % 13 << R"(","CommandLine":"cmd.exe /c )" << (alerting ? "whoami /all" : "dir")
          << " " << std::string(static_cast<size_t>(i % 181), 'x') << " #" << i << "\"}\n";
    }
  }
  {
    std::ofstream out(dir / "auth.log");
    for (int i = 0; i < 40000; ++i) {
      out << "<38>Jan 12 10:0" << i % 10 << ":00 host sshd[" << i << "]: "
          << (i % 1009 == 0 ? "Failed password for root" : "Accepted publickey for deploy")
          << " from 127.0.0." << i % 250 << " port " << 1024 + i << " ssh2 "
          << std::string(static_cast<size_t>(i % 97), 'y') << "\n";
    }
  }
  std::vector<std::string> inputs = {(dir / "events.jsonl").string(), (dir / "auth.log").string(),
                                     (dir / "events.jsonl").string()};
  const fs::path evtx = fs::path(YAGURA_SHARED_DIR) / "data/logs/evtx";
  if (fs::exists(evtx)) inputs.push_back(evtx.string());

  ScanSummary one_summary;
  std::vector<Alert> one = ScanWith(1, dir / "rules", inputs, one_summary);
  ASSERT_GE(one.size(), 2u * 61 + 40);
  // Every alerting JSON record is the one written: no buffer was written over while kept.
  for (const Alert& alert : one) {
    if (alert.path.ends_with("events.jsonl")) {
      EXPECT_NE(alert.data.find("whoami /all"), std::string::npos) << alert.data;
      EXPECT_NE(alert.data.find("#" + std::to_string(alert.number - 1) + "\""), std::string::npos)
          << alert.data;
    }
  }
  for (int threads : {2, 3}) {
    ScanSummary summary;
    std::vector<Alert> many = ScanWith(threads, dir / "rules", inputs, summary);
    EXPECT_EQ(summary.records_read, one_summary.records_read) << threads;
    ASSERT_EQ(many.size(), one.size()) << threads;
    for (size_t i = 0; i < one.size(); ++i) ASSERT_EQ(many[i], one[i]) << threads << " alert " << i;
  }
  fs::remove_all(dir);
}

// JSON files of several segments (read by the workers themselves, event/json_segments.hpp)
// with pretty-printed values, a top-level array and broken records lying across the segment
// boundaries, and pretty-printed throughout: the same alerts, numbers, lines, diagnostics and
// counts as one thread.
TEST(ThreadsScan, SegmentedJsonGivesWhatOneThreadGives) {
  fs::path dir = PrepareDir("yagura-segments-scan-");
  {
    // Ordinary JSON lines, and at each 1 MiB segment boundary something the boundary falls in:
    // a pretty-printed value, a top-level array over several lines, a record left open.
    std::ofstream out(dir / "events.json");
    uint64_t written = 0;
    int boundary = 1;
    auto put = [&](const std::string& text) {
      out << text;
      written += text.size();
    };
    for (int i = 0; i < 19000; ++i) {
      const std::string number = std::to_string(i);
      const std::string pad(static_cast<size_t>(i % 173), 'x');
      const uint64_t next_boundary = uint64_t{static_cast<unsigned>(boundary)} << 20;
      if (written + 300 >= next_boundary && written < next_boundary) {
        switch (boundary++ % 3) {
          case 1:  // pretty-printed, alerting
            put("{\n  \"Channel\": \"Microsoft-Windows-Sysmon/Operational\",\n");
            for (int line = 0; line < 12; ++line) put("  \"Pad" + std::to_string(line) + "\": \"" + pad + "\",\n");
            put("  \"EventID\": 1,\n  \"CommandLine\": \"whoami /all #" + number + "\"\n}\n");
            break;
          case 2:  // a top-level array over several lines
            put("[\n");
            for (int line = 0; line < 6; ++line)
              put(" {\"Channel\":\"Microsoft-Windows-Sysmon/Operational\",\"EventID\":1,"
                  "\"CommandLine\":\"whoami /all #" + number + "-" + std::to_string(line) + "\"},\n");
            put(" {\"EventID\":2}\n]\n");
            break;
          default:  // not JSON, then records left open (the next one at a line start ends each)
            put("garbage line " + number + "\n");
            for (int line = 0; line < 6; ++line) put("{\"CommandLine\": \"whoami /all open\", " + pad + "\n");
        }
        continue;
      }
      put(R"({"Channel":"Microsoft-Windows-Sysmon/Operational","EventID":1,"CommandLine":")" +
          std::string(i % 101 == 0 ? "whoami /all" : "dir") + " " + pad + " #" + number + "\"}\n");
    }
  }
  ASSERT_GT(fs::file_size(dir / "events.json"), 3u << 20);
  {
    // Pretty-printed through and through: the first segment's read runs on to the end, and
    // the reads of the others are dropped or skipped.
    std::ofstream out(dir / "pretty.json");
    for (int i = 0; i < 12000; ++i) {
      out << "{\n  \"Channel\": \"Microsoft-Windows-Sysmon/Operational\",\n  \"EventID\": 1,\n"
          << "  \"CommandLine\": \"" << (i % 211 == 0 ? "whoami /all" : "dir") << " #" << i
          << "\",\n  \"Pad\": \"" << std::string(static_cast<size_t>(i % 150), 'p') << "\"\n}\n";
    }
  }
  ASSERT_GT(fs::file_size(dir / "pretty.json"), 2u << 20);
  std::vector<std::string> inputs = {(dir / "events.json").string(),
                                     (dir / "pretty.json").string()};

  ScanSummary one_summary;
  std::vector<std::string> one_reported;
  std::vector<Alert> one = ScanWith(1, dir / "rules", inputs, one_summary, &one_reported);
  ASSERT_GE(one.size(), 150u);
  ASSERT_GE(one_reported.size(), 5u);
  for (int threads : {2, 3}) {
    for (int round = 0; round < 3; ++round) {
      ScanSummary summary;
      std::vector<std::string> reported;
      std::vector<Alert> many = ScanWith(threads, dir / "rules", inputs, summary, &reported);
      ExpectSameCounts(summary, one_summary, threads);
      EXPECT_EQ(reported, one_reported) << threads;
      ASSERT_EQ(many.size(), one.size()) << threads;
      for (size_t i = 0; i < one.size(); ++i)
        ASSERT_EQ(many[i], one[i]) << threads << " alert " << i;
    }
  }
  fs::remove_all(dir);
}

// The matcher state of every worker is made while the engine is prepared and kept for the next
// scan: a second scan with the same engine gives the same alerts as the first, and as one
// thread.
TEST(ThreadsScan, OneEngineScansAgainWithTheSameWorkers) {
  fs::path dir = PrepareDir("yagura-rescan-");
  {
    std::ofstream out(dir / "events.json");
    for (int i = 0; i < 12000; ++i)
      out << R"({"Channel":"Microsoft-Windows-Sysmon/Operational","EventID":1,"CommandLine":")"
          << (i % 97 == 0 ? "whoami /all" : "dir") << " "
          << std::string(static_cast<size_t>(i % 151), 'x') << " #" << i << "\"}\n";
  }
  ASSERT_GT(fs::file_size(dir / "events.json"), 1u << 20);
  const std::vector<std::string> inputs = {(dir / "events.json").string()};
  ScanSummary one_summary;
  const std::vector<Alert> one = ScanWith(1, dir / "rules", inputs, one_summary);
  ASSERT_EQ(one.size(), 124u);

  ScanOptions options;
  options.rule_paths = {(dir / "rules").string()};
  options.threads = 3;
  Diagnostics diagnostics([](const Diagnostic&) {});
  ScanSummary summary;
  auto engine = Engine::Prepare(options, diagnostics, summary);
  ASSERT_TRUE(engine) << engine.error().ToString();
  for (int round = 0; round < 3; ++round) {
    ScanSummary scanned;
    const std::vector<Alert> alerts = ScanAlerts(**engine, inputs, scanned);
    EXPECT_EQ(scanned.records_read, one_summary.records_read) << round;
    ASSERT_EQ(alerts, one) << round;
  }
  fs::remove_all(dir);
}

// Several threads hand alerts on in groups of batches, but not at the cost of a slow stream's
// alerts: with one full batch of records written to a pipe and nothing more for the moment,
// that batch's alert comes out while the writer waits for it.
TEST(ThreadsScan, AlertsOfASlowStreamAreNotHeldBack) {
  fs::path dir = PrepareDir("yagura-slow-stream-");
  const fs::path fifo = dir / "events.fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  std::mutex mutex;
  std::condition_variable alerted;
  int alerts = 0;
  bool waited_in_vain = false;
  std::thread writer([&] {
    std::ofstream out(fifo);
    auto record = [&](int i) {
      out << R"({"Channel":"Microsoft-Windows-Sysmon/Operational","EventID":1,"CommandLine":")"
          << (i == 0 ? "whoami /all" : "dir") << " #" << i << "\"}\n";
    };
    for (int i = 0; i < 1500; ++i) record(i);  // more than a batch (Batch::MAX_RECORDS)
    out.flush();
    {
      std::unique_lock lock(mutex);
      waited_in_vain =
          !alerted.wait_for(lock, std::chrono::seconds(20), [&] { return alerts > 0; });
    }
    for (int i = 1500; i < 1600; ++i) record(i);
  });
  ScanOptions options;
  options.rule_paths = {(dir / "rules").string()};
  options.threads = 2;
  Diagnostics diagnostics([](const Diagnostic&) {});
  ScanSummary summary;
  auto engine = Engine::Prepare(options, diagnostics, summary);
  ASSERT_TRUE(engine) << engine.error().ToString();
  (*engine)->Scan({fifo.string()},
                  [&](const sigma::Rule&, const event::Event&, const event::Record&,
                      const std::string&) {
                    std::lock_guard lock(mutex);
                    ++alerts;
                    alerted.notify_one();
                  },
                  summary);
  writer.join();
  EXPECT_EQ(alerts, 1);
  EXPECT_EQ(summary.records_read, 1600u);
  EXPECT_FALSE(waited_in_vain) << "the alert came only when the input ended";
  fs::remove_all(dir);
}

// A rule on the Windows events most logs hold, for the EVTX tests.
void WriteCommonEventsRule(const fs::path& dir) {
  std::ofstream(dir / "rules" / "events.yml") << R"(title: Common events
id: 0b1c2d3e-4f50-4617-a829-3a4b5c6d7e8f
logsource: {product: windows}
detection:
  selection: {EventID: [1, 3, 11, 13, 1102, 4624, 4688, 7045]}
  condition: selection
level: low
)";
}

// EVTX files read by the workers, whole (several to a batch) or, when larger than the limit, a
// range of chunks each, among JSON files the reader thread reads, with a truncated and a
// corrupted copy (diagnostics from the reading, and records rendered by libevtx, which the
// reader thread reads): the same alerts, diagnostics and counts as one thread.
TEST(ThreadsScan, EvtxFilesReadByWorkersGiveWhatOneThreadGives) {
  const fs::path evtx = fs::path(YAGURA_SHARED_DIR) / "data/logs/evtx";
  const fs::path cleared = evtx / "Defense Evasion/DE_1102_security_log_cleared.evtx";
  if (!fs::exists(cleared)) GTEST_SKIP() << "no EVTX samples under " << evtx;
  fs::path dir = PrepareDir("yagura-evtx-threads-");
  WriteCommonEventsRule(dir);
  // Matched fields decided selection by selection, and map by map.
  std::ofstream(dir / "rules" / "selections.yml") << R"(title: Selections
id: 6a7b8c9d-0e1f-4a2b-8c3d-4e5f6a7b8c9d
logsource: {product: windows}
detection:
  sel_logon: {EventID: 4624, LogonType: [2, 3, 10]}
  sel_process:
    - {EventID: 4688, NewProcessName|endswith: '.exe'}
    - {EventID: 1, Image|contains: '\'}
  sel_channel: {Channel|contains: 'Sysmon'}
  condition: 1 of sel_*
level: low
)";
  {
    std::ifstream in(cleared, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    ASSERT_GT(bytes.size(), 0x1000u + 3 * 65536);
    std::ofstream(dir / "truncated.evtx", std::ios::binary) << bytes.substr(0, 300000);
    bytes[0x1000 + 70000] = static_cast<char>(bytes[0x1000 + 70000] ^ 0xff);
    bytes[0x1000 + 2 * 65536 + 9000] = static_cast<char>(bytes[0x1000 + 2 * 65536 + 9000] ^ 0x55);
    std::ofstream(dir / "corrupted.evtx", std::ios::binary) << bytes;
  }
  {
    std::ofstream out(dir / "between.jsonl");
    for (int i = 0; i < 3000; ++i) {
      out << R"({"Channel":"Microsoft-Windows-Sysmon/Operational","EventID":1,"CommandLine":")"
          << (i % 50 == 0 ? "whoami /all" : "dir") << " #" << i << "\"}\n";
    }
    out << "{\"CommandLine\": broken\n";
  }
  std::vector<std::string> inputs;
  for (const auto& entry : fs::recursive_directory_iterator(evtx)) {
    if (entry.path().extension() == ".evtx") inputs.push_back(entry.path().string());
  }
  std::sort(inputs.begin(), inputs.end());
  ASSERT_GE(inputs.size(), 40u);
  inputs.resize(40);
  inputs.insert(inputs.begin() + 10, (dir / "between.jsonl").string());
  inputs.insert(inputs.begin() + 20, (dir / "truncated.evtx").string());
  inputs.insert(inputs.begin() + 21, (dir / "corrupted.evtx").string());
  inputs.push_back((dir / "between.jsonl").string());
  inputs.push_back(cleared.string());

  ScanSummary one_summary;
  std::vector<std::string> one_reported;
  std::vector<Alert> one = ScanWith(1, dir / "rules", inputs, one_summary, &one_reported);
  ASSERT_GE(one.size(), 200u);
  ASSERT_GE(one_reported.size(), 4u);
  ASSERT_GT(one_summary.evtx_libevtx_records, 0u);
  const auto several_fields = std::count_if(one.begin(), one.end(), [](const Alert& alert) {
    return alert.rule == "Selections" && alert.matched_fields.size() >= 2;
  });
  EXPECT_GT(several_fields, 50);
  // Files of 17 chunks: a range of 16 and one of 1 each.
  for (auto [threads, limit] : {std::pair{2, ScanOptions().whole_evtx_limit}, std::pair{3, ScanOptions().whole_evtx_limit},
                                std::pair{2, uint64_t{100000}}, std::pair{3, uint64_t{100000}}}) {
    SCOPED_TRACE("limit " + std::to_string(limit));
    ScanSummary summary;
    std::vector<std::string> reported;
    std::vector<Alert> many = ScanWith(threads, dir / "rules", inputs, summary, &reported, limit);
    ExpectSameCounts(summary, one_summary, threads);
    // The reader thread reports what it reads as it goes, before the alerts of earlier files
    // are handed on; what workers report comes in input order. Compare as sets, and the
    // workers' EVTX diagnostics in order.
    std::vector<std::string> sorted_one = one_reported, sorted_many = reported;
    std::sort(sorted_one.begin(), sorted_one.end());
    std::sort(sorted_many.begin(), sorted_many.end());
    EXPECT_EQ(sorted_many, sorted_one) << threads;
    auto evtx_only = [](const std::vector<std::string>& all) {
      std::vector<std::string> kept;
      for (const std::string& line : all)
        if (line.find(".evtx") != std::string::npos) kept.push_back(line);
      return kept;
    };
    EXPECT_EQ(evtx_only(reported), evtx_only(one_reported)) << threads;
    ASSERT_EQ(many.size(), one.size()) << threads;
    for (size_t i = 0; i < one.size(); ++i) ASSERT_EQ(many[i], one[i]) << threads << " alert " << i;
  }
  fs::remove_all(dir);
}

// A collection of EVTX files in an archive (as KAPE and Velociraptor send them), a damaged one and
// a JSON file among them: workers read the EVTX members of a ZIP archive and of an uncompressed
// tar archive whole; a compressed tar archive's members share one stream and stay with the
// reader thread. Every way, the alerts, diagnostics and counts of one thread.
TEST(ThreadsScan, EvtxMembersOfArchivesReadByWorkersGiveWhatOneThreadGives) {
  const fs::path evtx = fs::path(YAGURA_SHARED_DIR) / "data/logs/evtx";
  const fs::path cleared = evtx / "Defense Evasion/DE_1102_security_log_cleared.evtx";
  if (!fs::exists(cleared)) GTEST_SKIP() << "no EVTX samples under " << evtx;
  fs::path dir = PrepareDir("yagura-archive-threads-");
  WriteCommonEventsRule(dir);
  auto read = [](const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  };
  std::vector<std::pair<std::string, std::string>> members;  // name, bytes, in name order
  std::vector<std::string> files;
  for (const auto& entry : fs::recursive_directory_iterator(evtx))
    if (entry.path().extension() == ".evtx") files.push_back(entry.path().string());
  std::sort(files.begin(), files.end());
  ASSERT_GE(files.size(), 30u);
  files.resize(30);
  for (const std::string& file : files)
    members.emplace_back("C/Logs/" + fs::path(file).filename().string(), read(file));
  std::string damaged = read(cleared);
  damaged[0x1000 + 70000] = static_cast<char>(damaged[0x1000 + 70000] ^ 0xff);
  members.emplace_back("C/Logs/zz-damaged.evtx", damaged);
  std::string json;
  for (int i = 0; i < 2000; ++i)
    json += R"({"Channel":"Microsoft-Windows-Sysmon/Operational","EventID":1,"CommandLine":")" +
            std::string(i % 40 == 0 ? "whoami /all" : "dir") + "\"}\n";
  members.emplace_back("C/Logs/zz-sysmon.json", json);
  std::sort(members.begin(), members.end());

  test_support::ZipWriter zip;
  test_support::TarWriter tar;
  for (const auto& [name, bytes] : members) {
    zip.entries.push_back({name, bytes, 8});
    tar.File(name, bytes);
  }
  tar.End();
  std::ofstream(dir / "collection.zip", std::ios::binary) << zip.Build();
  std::ofstream(dir / "collection.tar", std::ios::binary) << tar.bytes();
  std::ofstream(dir / "collection.tar.gz", std::ios::binary)
      << test_support::Deflate(tar.bytes(), test_support::GZIP_WINDOW);

  for (const std::string archive : {"collection.zip", "collection.tar", "collection.tar.gz"}) {
    SCOPED_TRACE(archive);
    const std::vector<std::string> inputs = {(dir / archive).string()};
    ScanSummary one_summary;
    std::vector<std::string> one_reported;
    std::vector<Alert> one = ScanWith(1, dir / "rules", inputs, one_summary, &one_reported);
    ASSERT_GE(one.size(), 200u);
    ASSERT_GT(one_summary.evtx_libevtx_records, 0u) << "the damaged member, through libevtx";
    for (int threads : {2, 3}) {
      ScanSummary summary;
      std::vector<std::string> reported;
      std::vector<Alert> many = ScanWith(threads, dir / "rules", inputs, summary, &reported);
      ExpectSameCounts(summary, one_summary, threads);
      std::sort(reported.begin(), reported.end());
      std::vector<std::string> sorted_one = one_reported;
      std::sort(sorted_one.begin(), sorted_one.end());
      EXPECT_EQ(reported, sorted_one) << threads;
      ASSERT_EQ(many.size(), one.size()) << threads;
      for (size_t i = 0; i < one.size(); ++i) ASSERT_EQ(many[i], one[i]) << threads << " " << i;
    }
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace yagura::scan

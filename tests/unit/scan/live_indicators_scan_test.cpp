// Indicators replaced while a scan runs: events keep flowing through two workers, every event
// is matched against one whole indicator set (the old or the new), and nothing is lost.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "scan/scanner.hpp"

namespace yagura::scan {
namespace {

namespace fs = std::filesystem;

TEST(LiveIndicatorsScan, ReloadsWhileEventsFlow) {
  fs::path dir = fs::temp_directory_path() / ("yagura-live-scan-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir / "rules");
  std::ofstream(dir / "rules" / "never.yml") << R"(title: Never
id: 0b7c1a8e-1d2e-4f3a-9b4c-5d6e7f8a9b0c
logsource: {product: windows}
detection:
  selection: {QueryName: 'never.invalid'}
  condition: selection
level: low
)";
  const fs::path feed = dir / "feed.txt";
  auto write_feed = [&](const char* domain) {
    std::ofstream out(dir / "feed.tmp");
    out << domain << "\n";
    out.close();
    fs::rename(dir / "feed.tmp", feed);  // a whole file at every moment
  };
  write_feed("alpha.example");
  {
    std::ofstream events(dir / "events.jsonl");
    for (int i = 0; i < 60000; ++i) {
      events << R"({"Channel":"Microsoft-Windows-Sysmon/Operational","EventID":22,"QueryName":")"
             << (i % 2 ? "alpha.example" : "beta.example") << "\"}\n";
    }
  }

  ScanOptions options;
  options.rule_paths = {(dir / "rules").string()};
  options.intel_paths = {feed.string()};
  options.threads = 2;
  Diagnostics diagnostics;
  ScanSummary summary;
  auto engine = Engine::Prepare(options, diagnostics, summary);
  ASSERT_TRUE(engine) << engine.error().ToString();
  ASSERT_EQ(summary.indicators_loaded, 1u);

  std::atomic<bool> done = false;
  std::atomic<int> reloads = 0;
  std::thread reloader([&] {
    for (int i = 0; !done; ++i) {
      write_feed(i % 2 ? "alpha.example" : "beta.example");
      Diagnostics reload_diagnostics;
      (*engine)->indicators().Reload({{feed.string(), intel::FeedFormat::kAuto, "feed"}},
                                     reload_diagnostics);
      ++reloads;
    }
  });
  uint64_t alerts = 0, consistent = 0;
  (*engine)->Scan(
      {(dir / "events.jsonl").string()},
      [](const sigma::Rule&, const event::Event&, const event::Record&, const std::string&) {},
      [&](const intel::IndicatorIndex& index, const intel::IntelMatch& match,
          const std::vector<intel::IntelHit>& hits, const event::Event&, const event::Record&,
          const std::string&) {
        ++alerts;
        // The alert's indicator and the value it matched agree: one set per event.
        std::string pattern = index.snapshots()[match.snapshot]->View(match.indicator).pattern;
        std::string_view value = hits[match.first_hit].value;
        if (pattern.ends_with(std::string(value))) ++consistent;
      },
      summary);
  done = true;
  reloader.join();
  EXPECT_EQ(summary.records_read, 60000u);
  EXPECT_GT(reloads.load(), 0);
  EXPECT_GT(alerts, 0u);
  EXPECT_EQ(consistent, alerts);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace yagura::scan

// `yagura stats` as a library (scan/log_stats.hpp) over the project's sample logs, whose
// contents docs/samples.md describes: counts by kind, event id, host, day and file; a bad
// record and a missing file counted; the text and JSON forms.
#include "scan/log_stats.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "core/json_value.hpp"
#include "core/time.hpp"
#include "test_support/mmdb_writer.hpp"

namespace yagura::scan {
namespace {

namespace fs = std::filesystem;

const fs::path SAMPLES = fs::path(YAGURA_SOURCE_DIR) / "samples";

LogStats Collect(const std::vector<std::string>& inputs, Diagnostics& diagnostics,
                 std::optional<event::Logsource> declared = std::nullopt) {
  StatsOptions options;
  options.inputs = inputs;
  options.declared_logsource = std::move(declared);
  auto stats = CollectStats(options, diagnostics);
  EXPECT_TRUE(stats) << stats.error().ToString();
  return stats ? *stats : LogStats{};
}

uint64_t KindCount(const LogStats& stats, const std::string& name) {
  for (const auto& [kind, count] : stats.kinds)
    if (KindName(kind) == name) return count;
  return 0;
}

TEST(LogStats, SampleLogsByKindEventHostDayAndFile) {
  Diagnostics diagnostics;
  LogStats stats = Collect({SAMPLES.string()}, diagnostics);
  EXPECT_EQ(stats.files_read, 4u);
  EXPECT_EQ(stats.files_failed, 0u);
  EXPECT_EQ(stats.records_read, 55u);
  EXPECT_EQ(stats.records_skipped, 0u);
  EXPECT_EQ(stats.ExitStatus(), 0);
  EXPECT_EQ(KindCount(stats, "category=webserver"), 15u);
  EXPECT_EQ(KindCount(stats, "product=windows service=sysmon category=process_creation"), 5u);
  EXPECT_EQ(KindCount(stats, "product=windows service=sysmon category=process_access"), 2u);
  EXPECT_EQ(KindCount(stats, "product=windows service=security"), 5u);
  // 4688 is a process creation too, read through the windows-audit renames.
  EXPECT_EQ(KindCount(stats, "product=windows service=security category=process_creation"), 1u);
  EXPECT_EQ(KindCount(stats, "unrecognised"), 0u);
  uint64_t total = 0;
  for (const auto& [kind, count] : stats.kinds) total += count;
  EXPECT_EQ(total, 55u);

  LogStats::EventKey sysmon_1{"Microsoft-Windows-Sysmon/Operational", "", "1"};
  LogStats::EventKey failed_logon{"Security", "", "4625"};
  EXPECT_EQ(stats.events[sysmon_1], 5u);
  EXPECT_EQ(stats.events[failed_logon], 2u);
  EXPECT_EQ(stats.hosts["web01"], 25u);
  EXPECT_EQ(stats.hosts["WS01.corp.example.org"], 15u);
  EXPECT_EQ(stats.files[(SAMPLES / "linux/auth.log").string()], 25u);
  EXPECT_EQ(stats.files[(SAMPLES / "windows/security.jsonl").string()], 6u);
  EXPECT_EQ(stats.records_without_time, 0u);
  // Each file's span of event times.
  const LogStats::Span& security = stats.file_spans[(SAMPLES / "windows/security.jsonl").string()];
  ASSERT_TRUE(security.first_ms && security.last_ms);
  EXPECT_EQ(FormatTimestampMs(*security.first_ms), "2026-11-26T09:58:00.000Z");
  EXPECT_EQ(FormatTimestampMs(*security.last_ms), "2026-11-26T10:15:00.000Z");
  EXPECT_EQ(stats.file_spans.size(), 4u);
  EXPECT_NE(RenderStats(stats, 10).find("security.jsonl  2026-11-26T09:58:00.000Z to "
                                        "2026-11-26T10:15:00.000Z"),
            std::string::npos);

  // Logons: Windows 4624/4625 and sshd's accepted and failed authentications.
  EXPECT_EQ(stats.logons.size(), 6u);
  const auto& brute = stats.logons[{"web01", "root", "203.0.113.45", "ssh password"}];
  EXPECT_EQ(brute.succeeded, 1u);
  EXPECT_EQ(brute.failed, 4u);
  const auto& alice = stats.logons[{"WS01.corp.example.org", "CORP\\alice", "127.0.0.1", "type 2"}];
  EXPECT_EQ(alice.succeeded, 1u);
  EXPECT_EQ(alice.failed, 1u);
  EXPECT_EQ(alice.first_ms, ParseIsoDateTimeMs("2026-11-26T09:58:00Z"));
  EXPECT_EQ(alice.last_ms, ParseIsoDateTimeMs("2026-11-26T10:10:30Z"));
  const auto& remote =
      stats.logons[{"WS01.corp.example.org", "CORP\\administrator", "203.0.113.45", "type 3"}];
  EXPECT_EQ(remote.succeeded, 0u);
  EXPECT_EQ(remote.failed, 1u);
  EXPECT_EQ((stats.logons[{"web01", "alice", "198.51.100.7", "ssh publickey"}].succeeded), 1u);
  EXPECT_EQ(stats.logons.size(), 6u);  // the lookups above found entries, made none

  // The Windows samples alone: their times have a year, unlike syslog's.
  LogStats windows = Collect({(SAMPLES / "windows").string()}, diagnostics);
  EXPECT_EQ(windows.records_read, 15u);
  ASSERT_TRUE(windows.first_ms);
  EXPECT_EQ(windows.days, (std::map<std::string, uint64_t>{{"2026-11-26", 15}}));

  const std::string text = RenderStats(stats, 3);
  EXPECT_NE(text.find("records    55 read, 0 skipped"), std::string::npos) << text;
  EXPECT_NE(text.find("       15  category=webserver"), std::string::npos) << text;
  EXPECT_NE(text.find("... 8 more"), std::string::npos) << text;  // 11 kinds, 3 shown
  EXPECT_NE(text.find("       25  web01"), std::string::npos) << text;
  // Failures first.
  EXPECT_NE(text.find("Logons (6)"), std::string::npos) << text;
  EXPECT_NE(text.find("          1         4  root from 203.0.113.45 (ssh password) on web01"),
            std::string::npos)
      << text;

  auto json = JsonValue::Parse(StatsJson(stats));
  ASSERT_TRUE(json) << json.error().message;
  EXPECT_EQ(json->Find("records_read")->as_int(), 55);
  const auto& kinds = json->Find("kinds")->as_array();
  EXPECT_EQ(kinds.size(), stats.kinds.size());
  EXPECT_EQ(kinds.at(0).Find("categories")->as_array().at(0).as_string(), "webserver");
  EXPECT_EQ(kinds.at(0).Find("count")->as_int(), 15);
  const auto& events = json->Find("event_ids")->as_array();
  EXPECT_EQ(events.at(0).Find("channel")->as_string(), "Microsoft-Windows-Sysmon/Operational");
  EXPECT_EQ(events.at(0).Find("event_id")->as_string(), "1");
  EXPECT_EQ(events.at(0).Find("count")->as_int(), 5);
  const auto& logons = json->Find("logons")->as_array();
  ASSERT_EQ(logons.size(), 6u);
  EXPECT_EQ(logons.at(0).Find("account")->as_string(), "CORP\\administrator");  // key order
  EXPECT_EQ(logons.at(0).Find("failed")->as_int(), 1);
  EXPECT_EQ(logons.at(0).Find("first_time")->as_string(), "2026-11-26T10:10:00.000Z");
}

// --geo-ip locates each logon source once: the sample brute force's 203.0.113.45 (over ssh
// and Windows) gets its country and network, 127.0.0.1 nothing, 198.51.100.7 (unknown to the
// database) nothing.
TEST(LogStats, LogonSourcesAreLocatedWithGeoIpDatabases) {
  const fs::path dir =
      fs::temp_directory_path() / ("yagura-stats-geo-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  test_support::MmdbWriter asn(4, "GeoLite2-ASN");
  asn.Insert("203.0.113.0/24",
             test_support::MmdbMap{{"autonomous_system_number", uint64_t{131279}},
                                   {"autonomous_system_organization", "Star JV"}});
  std::ofstream(dir / "ASN.mmdb", std::ios::binary) << asn.Bytes();
  std::ofstream(dir / "Country.mmdb", std::ios::binary)
      << test_support::CountryDatabase("203.0.113.0/24", "KP", "North Korea");
  StatsOptions options;
  options.inputs = {SAMPLES.string()};
  options.geo_ip_paths = {dir.string()};
  Diagnostics diagnostics([](const Diagnostic&) {});
  auto stats = CollectStats(options, diagnostics);
  ASSERT_TRUE(stats) << stats.error().ToString();
  ASSERT_EQ(stats->source_locations.size(), 1u);
  const intel::GeoLocation& where = stats->source_locations.at("203.0.113.45");
  EXPECT_EQ(where.country, "KP");
  EXPECT_EQ(where.asn, 131279u);
  const std::string text = RenderStats(*stats, 10);
  EXPECT_NE(text.find("203.0.113.45 [KP North Korea, AS131279 Star JV]"), std::string::npos)
      << text;
  EXPECT_EQ(text.find("127.0.0.1 ["), std::string::npos);
  auto json = JsonValue::Parse(StatsJson(*stats));
  ASSERT_TRUE(json);
  size_t located = 0, unlocated = 0;
  for (const auto& logon : json->Find("logons")->as_array()) {
    const JsonValue* place = logon.Find("source_location");
    ASSERT_NE(place, nullptr);
    if (place->is_null()) {
      ++unlocated;
    } else {
      ++located;
      EXPECT_EQ(logon.Find("source")->as_string(), "203.0.113.45");
      EXPECT_EQ(place->Find("country_name")->as_string(), "North Korea");
      EXPECT_EQ(place->Find("as_org")->as_string(), "Star JV");
    }
  }
  EXPECT_EQ(located, 4u);  // the brute force's rows, over ssh and Windows
  EXPECT_EQ(unlocated, 2u);
  // Without --geo-ip the JSON has no source_location.
  options.geo_ip_paths.clear();
  EXPECT_EQ(StatsJson(*CollectStats(options, diagnostics)).find("source_location"),
            std::string::npos);
  // A database that cannot be opened is said before the logs are read.
  options.geo_ip_paths = {(dir / "missing.mmdb").string()};
  auto refused = CollectStats(options, diagnostics);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("missing.mmdb"), std::string::npos);
  fs::remove_all(dir);
}

TEST(LogStats, OnlyRecordsWhereTheConditionsHoldAreCounted) {
  Diagnostics diagnostics;
  StatsOptions options;
  options.inputs = {SAMPLES.string()};
  options.conditions = {"Computer=WS01*", "EventID|neq=1"};
  auto stats = CollectStats(options, diagnostics);
  ASSERT_TRUE(stats) << stats.error().ToString();
  EXPECT_EQ(stats->records_read, 55u);
  // The 15 Windows events but Sysmon's five process creations.
  uint64_t counted = 0;
  for (const auto& [kind, count] : stats->kinds) counted += count;
  EXPECT_EQ(counted, 10u);
  EXPECT_EQ(stats->records_not_where, 45u);
  EXPECT_EQ(KindCount(*stats, "product=windows service=sysmon category=process_creation"), 0u);
  EXPECT_EQ(KindCount(*stats, "product=windows service=security"), 5u);
  EXPECT_EQ(stats->hosts.size(), 1u);
  auto json = JsonValue::Parse(StatsJson(*stats));
  ASSERT_TRUE(json);
  EXPECT_EQ(json->Find("records_not_where")->as_int(), 45);

  options.conditions = {"Computer|nosuch=x"};
  auto refused = CollectStats(options, diagnostics);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("unknown modifier 'nosuch'"), std::string::npos);
}

TEST(LogStats, UnrecognisedDeclaredBadRecordsAndMissingFiles) {
  const fs::path dir =
      fs::temp_directory_path() / ("yagura-log-stats-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::ofstream(dir / "fw.jsonl")
      << R"({"src":"203.0.113.9","action":"deny","ts":"2026-11-28T01:00:00Z"})"
      << "\n{broken\n"
      << R"({"src":"198.51.100.4","action":"allow"})"
      << "\n";
  Diagnostics diagnostics;
  LogStats stats =
      Collect({(dir / "fw.jsonl").string(), (dir / "missing.jsonl").string()}, diagnostics);
  EXPECT_EQ(stats.records_read, 2u);
  EXPECT_EQ(stats.records_skipped, 1u);
  EXPECT_EQ(stats.files_failed, 1u);
  EXPECT_EQ(stats.ExitStatus(), 1);
  EXPECT_EQ(KindCount(stats, "unrecognised"), 2u);
  EXPECT_TRUE(stats.events.empty());
  EXPECT_EQ(stats.records_without_time, 2u);  // `ts` is no time field Yagura knows
  EXPECT_NE(RenderStats(stats, 10).find("2 records of unrecognised source"), std::string::npos);

  StatsOptions options;
  options.inputs = {(dir / "fw.jsonl").string()};
  options.time_field = "ts";
  options.declared_logsource = event::Logsource{"", "firewall", ""};
  auto declared = CollectStats(options, diagnostics);
  ASSERT_TRUE(declared);
  EXPECT_EQ(KindCount(*declared, "category=firewall"), 2u);
  EXPECT_EQ(declared->records_without_time, 1u);
  EXPECT_EQ(declared->days, (std::map<std::string, uint64_t>{{"2026-11-28", 1}}));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace yagura::scan

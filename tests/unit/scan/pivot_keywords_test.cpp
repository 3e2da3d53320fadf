// Pivot keywords (scan/pivot_keywords.hpp): each category's values from the events of alerts,
// counted once an alert, with the first and last time, placeholders left out, sorted by count;
// and `yagura scan --pivot-keywords` end to end over a small log.
#include "scan/pivot_keywords.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/json_value.hpp"
#include "core/time.hpp"
#include "scan/scanner.hpp"

namespace yagura::scan {
namespace {

namespace fs = std::filesystem;

TEST(PivotKeywords, ValuesOfEachCategoryCountedOnceAnAlertWithTheirTimes) {
  event::FieldCatalog catalog;
  PivotKeywords pivot(catalog);
  auto event_with = [&](const std::vector<std::pair<std::string, std::string>>& fields) {
    event::Event event;
    event.Reset(catalog.size());
    for (const auto& [name, value] : fields) event.Add(catalog.Find(name), {value});
    return event;
  };
  const int64_t nine = *ParseIsoDateTimeMs("2026-11-26T09:00:00Z");
  // alice in two user fields of one event counts once; "-" and SYSTEM's logon id are no keywords.
  pivot.Add(event_with({{"SubjectUserName", "alice"},
                        {"TargetUserName", "alice"},
                        {"IpAddress", "-"},
                        {"TargetLogonId", "0x3e7"},
                        {"Computer", "ws1"}}),
            nine + 60'000);
  pivot.Add(
      event_with({{"TargetUserName", "bob"}, {"IpAddress", "203.0.113.7"}, {"Computer", "ws1"}}),
      nine);
  pivot.Add(event_with({{"TargetUserName", "alice"}, {"IpAddress", "127.0.0.1"}}), std::nullopt);
  EXPECT_EQ(pivot.alerts(), 3u);
  EXPECT_EQ(pivot.Counts(), (std::vector<size_t>{2, 1, 1, 0, 0, 0, 0}));

  std::string json;
  pivot.WriteJson(sigma::Level::kHigh, json);
  auto parsed = JsonValue::Parse(json);
  ASSERT_TRUE(parsed) << json;
  EXPECT_EQ(parsed->Find("min_level")->as_string(), "high");
  EXPECT_EQ(parsed->Find("alerts")->as_int(), 3);
  const JsonValue& categories = *parsed->Find("categories");
  const auto& users = categories.Find("users")->as_array();
  ASSERT_EQ(users.size(), 2u);
  EXPECT_EQ(users[0].Find("value")->as_string(), "alice");  // most alerts first
  EXPECT_EQ(users[0].Find("count")->as_int(), 2);
  EXPECT_EQ(users[0].Find("first_time")->as_string(), "2026-11-26T09:01:00.000Z");
  EXPECT_EQ(users[1].Find("value")->as_string(), "bob");
  const auto& hosts = categories.Find("hosts")->as_array();
  ASSERT_EQ(hosts.size(), 1u);
  EXPECT_EQ(hosts[0].Find("count")->as_int(), 2);
  EXPECT_EQ(hosts[0].Find("first_time")->as_string(), "2026-11-26T09:00:00.000Z");
  EXPECT_EQ(hosts[0].Find("last_time")->as_string(), "2026-11-26T09:01:00.000Z");
  const auto& addresses = categories.Find("addresses")->as_array();
  ASSERT_EQ(addresses.size(), 1u);
  EXPECT_EQ(addresses[0].Find("value")->as_string(), "203.0.113.7");
  EXPECT_TRUE(categories.Find("logon_ids")->as_array().empty());
  EXPECT_TRUE(categories.Find("services")->as_array().empty());

  // What the syslog parser takes from an sshd message and its header.
  PivotKeywords sshd(catalog);
  sshd.Add(event_with({{"user", "root"}, {"src_ip", "203.0.113.45"}, {"host", "web01"}}), nine);
  EXPECT_EQ(sshd.Counts(), (std::vector<size_t>{1, 1, 1, 0, 0, 0, 0}));
}

TEST(PivotKeywords, ScanWritesTheKeywordsOfSevereAlertsOnly) {
  const fs::path dir = fs::temp_directory_path() / ("yagura-pivot-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir / "rules");
  std::ofstream(dir / "rules" / "rules.yml") << R"(title: Failed logon
id: 11111111-1111-4111-8111-111111111111
logsource: {product: windows, service: security}
detection:
  selection: {EventID: 4625}
  condition: selection
level: high
---
title: Any logon
id: 22222222-2222-4222-8222-222222222222
logsource: {product: windows, service: security}
detection:
  selection: {EventID: 4624}
  condition: selection
level: low
)";
  auto logon = [](int id, const char* user, const char* address) {
    std::ostringstream line;
    line
        << R"({"Event":{"System":{"Provider":{"#attributes":{"Name":"Microsoft-Windows-Security-Auditing"}},"EventID":)"
        << id
        << R"(,"Channel":"Security","Computer":"dc1.example.org"},"EventData":{"TargetUserName":")"
        << user << R"(","IpAddress":")" << address << R"("}}})"
        << "\n";
    return line.str();
  };
  std::ofstream(dir / "security.jsonl")
      << logon(4625, "admin", "203.0.113.9") << logon(4624, "alice", "10.0.0.5")
      << logon(4625, "admin", "203.0.113.10");
  ScanOptions options;
  options.rule_paths = {(dir / "rules").string()};
  options.inputs = {(dir / "security.jsonl").string()};
  options.output_path = (dir / "alerts.jsonl").string();
  options.pivot_keywords_path = (dir / "pivot.json").string();
  Diagnostics diagnostics([](const Diagnostic&) {});
  auto summary = RunScan(options, diagnostics);
  ASSERT_TRUE(summary) << summary.error().ToString();
  EXPECT_EQ(summary->alerts, 3u);
  EXPECT_EQ(summary->pivot_alerts, 2u);  // the two high ones
  std::ifstream in(dir / "pivot.json");
  std::stringstream text;
  text << in.rdbuf();
  auto parsed = JsonValue::Parse(text.str());
  ASSERT_TRUE(parsed) << text.str();
  const JsonValue& categories = *parsed->Find("categories");
  const auto& users = categories.Find("users")->as_array();
  ASSERT_EQ(users.size(), 1u);
  EXPECT_EQ(users[0].Find("value")->as_string(), "admin");
  EXPECT_EQ(users[0].Find("count")->as_int(), 2);
  EXPECT_EQ(categories.Find("addresses")->as_array().size(), 2u);
  EXPECT_EQ(categories.Find("hosts")->as_array()[0].Find("value")->as_string(), "dc1.example.org");

  // Down to low: alice and her address join.
  options.pivot_min_level = sigma::Level::kLow;
  summary = RunScan(options, diagnostics);
  ASSERT_TRUE(summary);
  EXPECT_EQ(summary->pivot_alerts, 3u);
  EXPECT_EQ(summary->pivot_keywords[0], 2u);

  // A path that takes no file is refused before anything is scanned.
  options.pivot_keywords_path = (dir / "no-such-dir" / "pivot.json").string();
  summary = RunScan(options, diagnostics);
  ASSERT_FALSE(summary);
  EXPECT_NE(summary.error().message.find("--pivot-keywords: cannot write"), std::string::npos)
      << summary.error().message;
  fs::remove_all(dir);
}

}  // namespace
}  // namespace yagura::scan

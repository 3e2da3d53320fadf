// ATT&CK techniques of alerts and of rule sets (scan/alert_techniques.hpp): counts, rules,
// hosts and times per technique; the three scores; ICS techniques set apart; and
// `yagura scan --attack-layer` end to end, correlation alerts included.
#include "scan/alert_techniques.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "core/json_value.hpp"
#include "scan/scanner.hpp"
#include "scan/summary.hpp"

namespace yagura::scan {
namespace {

namespace fs = std::filesystem;

sigma::RuleInfo Rule(std::string title, sigma::Level level, std::vector<std::string> tags) {
  sigma::RuleInfo info;
  info.title = std::move(title);
  info.level = level;
  info.tags = std::move(tags);
  return info;
}

const attack::LayerTechnique* Find(const attack::NavigatorLayer& layer, std::string_view id) {
  for (const auto& technique : layer.techniques)
    if (technique.id == id) return &technique;
  return nullptr;
}

std::string Metadata(const attack::LayerMetadata& metadata, std::string_view name) {
  for (const auto& [key, value] : metadata)
    if (key == name) return value;
  return "(absent)";
}

TEST(AlertTechniques, CountsEachTechniqueOfEachAlertWithItsRulesHostsAndTimes) {
  const sigma::RuleInfo brute =
      Rule("Brute force", sigma::Level::kMedium,
           {"attack.credential-access", "attack.t1110.001", "attack.T1110.001"});
  const sigma::RuleInfo mimikatz = Rule("Mimikatz", sigma::Level::kCritical,
                                        {"attack.t1003.001", "attack.t1110.001", "attack.s0002"});
  const sigma::RuleInfo untagged = Rule("No technique", sigma::Level::kHigh, {"attack.execution"});
  const sigma::RuleInfo ics = Rule("Modbus write", sigma::Level::kHigh, {"attack.t0855"});
  AlertTechniques techniques;
  techniques.Add(brute, "dc1", 1'000);
  techniques.Add(brute, "dc1", 3'000);
  techniques.Add(brute, "ws7", std::nullopt);
  techniques.Add(mimikatz, "ws7", 2'000);
  techniques.Add(untagged, "dc1", 5'000);
  techniques.Add(ics, "", 4'000);
  EXPECT_EQ(techniques.alerts(), 5u);  // the untagged rule's alert names nothing
  EXPECT_EQ(techniques.techniques(), 3u);

  attack::NavigatorLayer alerts = techniques.Layer({"logs/"}, TechniqueScore::kAlerts, 0);
  ASSERT_EQ(alerts.techniques.size(), 2u);  // T0855 belongs to the ICS matrix
  const attack::LayerTechnique* password = Find(alerts, "T1110.001");
  ASSERT_NE(password, nullptr);
  EXPECT_EQ(password->score, 4);  // a rule naming it twice counts once an alert
  EXPECT_EQ(password->comment, "Brute force (3); Mimikatz (1)");
  EXPECT_EQ(Metadata(password->metadata, "alerts"), "4");
  EXPECT_EQ(Metadata(password->metadata, "rules"), "2");
  EXPECT_EQ(Metadata(password->metadata, "highest level"), "critical");
  EXPECT_EQ(Metadata(password->metadata, "first"), "1970-01-01T00:00:01.000Z");
  EXPECT_EQ(Metadata(password->metadata, "last"), "1970-01-01T00:00:03.000Z");
  EXPECT_EQ(Metadata(password->metadata, "hosts"), "dc1 (2), ws7 (2)");
  EXPECT_EQ(Find(alerts, "T1003.001")->score, 1);
  EXPECT_EQ(alerts.name, "yagura scan: logs/");
  EXPECT_EQ(Metadata(alerts.metadata, "alerts"), "6");
  EXPECT_EQ(Metadata(alerts.metadata, "alerts naming a technique"), "5");
  EXPECT_EQ(Metadata(alerts.metadata, "ICS techniques (not on this matrix)"), "T0855 (1 alerts)");

  attack::NavigatorLayer levels = techniques.Layer({"a", "b"}, TechniqueScore::kLevel, 0);
  EXPECT_EQ(Find(levels, "T1110.001")->score, 5);  // critical
  EXPECT_EQ(levels.gradient_min, 1);
  EXPECT_EQ(levels.gradient_max, 5);
  ASSERT_EQ(levels.legend.size(), 5u);
  EXPECT_EQ(levels.legend[4].first, "critical");
  EXPECT_EQ(levels.name, "yagura scan: a and 1 more");
  attack::NavigatorLayer rules = techniques.Layer({}, TechniqueScore::kRules, 0);
  EXPECT_EQ(Find(rules, "T1110.001")->score, 2);
}

TEST(AlertTechniques, CommentsNameTheRulesWithTheMostAlertsFirstAndCountTheRest) {
  std::vector<sigma::RuleInfo> rules;
  for (int i = 0; i < 12; ++i)
    rules.push_back(Rule("Rule " + std::string(1, static_cast<char>('A' + i)), sigma::Level::kLow,
                         {"attack.t1059"}));
  AlertTechniques techniques;
  for (int i = 0; i < 12; ++i)
    for (int n = 0; n <= (i == 11 ? 5 : 0); ++n)
      techniques.Add(rules[static_cast<size_t>(i)], "", {});
  attack::NavigatorLayer layer = techniques.Layer({}, TechniqueScore::kAlerts, 0);
  ASSERT_EQ(layer.techniques.size(), 1u);
  EXPECT_EQ(layer.techniques[0].comment,
            "Rule L (6); Rule A (1); Rule B (1); Rule C (1); Rule D (1); Rule E (1); Rule F (1); "
            "Rule G (1); Rule H (1); Rule I (1); 2 more rules");
  EXPECT_EQ(Metadata(layer.techniques[0].metadata, "first"), "(absent)");
}

TEST(RuleCoverageLayer, ScoresTechniquesByRulesOrLevelWithTheirLogSources) {
  sigma::RuleInfo a = Rule("A", sigma::Level::kHigh, {"attack.t1059.001", "attack.execution"});
  a.logsource.product = "windows";
  a.logsource.category = "process_creation";
  sigma::RuleInfo b = Rule("B", sigma::Level::kLow, {"attack.t1059.001"});
  b.logsource.product = "windows";
  b.logsource.service = "powershell";
  sigma::RuleInfo c = Rule("C", sigma::Level::kMedium, {"attack.t1021", "attack.t0886"});
  sigma::RuleInfo none = Rule("D", sigma::Level::kMedium, {});
  const std::vector<const sigma::RuleInfo*> rules = {&a, &b, &c, &none};
  attack::NavigatorLayer layer = RuleCoverageLayer(rules, {"rules/"}, TechniqueScore::kRules, 0);
  ASSERT_EQ(layer.techniques.size(), 2u);
  const attack::LayerTechnique* powershell = Find(layer, "T1059.001");
  ASSERT_NE(powershell, nullptr);
  EXPECT_EQ(powershell->score, 2);
  EXPECT_EQ(powershell->comment, "A; B");  // most severe first
  EXPECT_EQ(Metadata(powershell->metadata, "levels"), "1 high, 1 low");
  EXPECT_EQ(Metadata(powershell->metadata, "log sources"),
            "windows/powershell (1), windows/process_creation (1)");
  EXPECT_EQ(Metadata(Find(layer, "T1021")->metadata, "log sources"), "any (1)");
  EXPECT_EQ(Metadata(layer.metadata, "rules naming a technique"), "3");
  EXPECT_EQ(Metadata(layer.metadata, "ICS techniques (not on this matrix)"), "T0886 (1 rules)");
  attack::NavigatorLayer levels = RuleCoverageLayer(rules, {"rules/"}, TechniqueScore::kLevel, 0);
  EXPECT_EQ(Find(levels, "T1059.001")->score, 4);  // high
}

TEST(AlertTechniques, ScanWritesTheLayerOfRuleAndCorrelationAlerts) {
  const fs::path dir = fs::temp_directory_path() / ("yagura-layer-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir / "rules");
  std::ofstream(dir / "rules" / "rules.yml") << R"(title: Failed logon
id: 11111111-1111-4111-8111-111111111111
name: failed_logon
tags: [attack.credential-access, attack.t1110.001]
logsource: {product: windows, service: security}
detection:
  selection: {EventID: 4625}
  condition: selection
level: medium
---
title: Any logon
id: 22222222-2222-4222-8222-222222222222
tags: [attack.t1078]
logsource: {product: windows, service: security}
detection:
  selection: {EventID: 4624}
  condition: selection
level: low
---
title: Two failed logons for one account
id: 33333333-3333-4333-8333-333333333333
tags: [attack.t1110]
correlation:
  type: event_count
  rules: [failed_logon]
  group-by: [TargetUserName]
  timespan: 1h
  condition: {gte: 2}
  generate: true
level: high
)";
  auto logon = [](int id, const char* user, const char* time) {
    std::ostringstream line;
    line
        << R"({"Event":{"System":{"Provider":{"#attributes":{"Name":"Microsoft-Windows-Security-Auditing"}},"EventID":)"
        << id
        << R"(,"Channel":"Security","Computer":"dc1.example.org","TimeCreated":{"#attributes":{"SystemTime":")"
        << time << R"("}}},"EventData":{"TargetUserName":")" << user << R"("}}})"
        << "\n";
    return line.str();
  };
  std::ofstream(dir / "security.jsonl") << logon(4625, "admin", "2026-11-20T10:00:00Z")
                                        << logon(4624, "alice", "2026-11-20T10:01:00Z")
                                        << logon(4625, "admin", "2026-11-20T10:02:00Z");
  ScanOptions options;
  options.rule_paths = {(dir / "rules").string()};
  options.inputs = {(dir / "security.jsonl").string()};
  options.output_path = (dir / "alerts.jsonl").string();
  options.attack_layer_path = (dir / "layer.json").string();
  options.attack_layer_score = TechniqueScore::kAlerts;
  Diagnostics diagnostics([](const Diagnostic&) {});
  auto summary = RunScan(options, diagnostics);
  ASSERT_TRUE(summary) << summary.error().ToString();
  EXPECT_EQ(summary->alerts, 4u);
  EXPECT_EQ(summary->correlation_alerts, 1u);
  EXPECT_EQ(summary->attack_alerts, 4u);
  EXPECT_EQ(summary->attack_techniques, 3u);
  std::ifstream in(dir / "layer.json");
  std::stringstream text;
  text << in.rdbuf();
  auto layer = JsonValue::Parse(text.str());
  ASSERT_TRUE(layer) << text.str();
  std::map<std::string, int64_t> scores;
  for (const auto& item : layer->Find("techniques")->as_array())
    scores[item.Find("techniqueID")->as_string()] =
        item.Find("score") != nullptr ? item.Find("score")->as_int() : -1;
  EXPECT_EQ(scores, (std::map<std::string, int64_t>{{"T1078", 1}, {"T1110", 1}, {"T1110.001", 2}}));
  EXPECT_EQ(layer->Find("domain")->as_string(), "enterprise-attack");
  EXPECT_NE(SummaryJson(*summary).find("\"attack_techniques\":3"), std::string::npos);

  // A path that takes no file is refused before anything is scanned.
  options.attack_layer_path = (dir / "no-such-dir" / "layer.json").string();
  summary = RunScan(options, diagnostics);
  ASSERT_FALSE(summary);
  EXPECT_NE(summary.error().message.find("--attack-layer: cannot write"), std::string::npos)
      << summary.error().message;
  fs::remove_all(dir);
}

}  // namespace
}  // namespace yagura::scan

// Rule tuning (scan/rule_tuning.hpp): Hayabusa's rule lists and level overrides read as it
// writes them, bad lines refused with file and line, and a scan whose rules they leave out,
// keep and re-level, with unknown ids warned of.
#include "scan/rule_tuning.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "scan/scanner.hpp"

namespace yagura::scan {
namespace {

namespace fs = std::filesystem;

class RuleTuning : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("yagura-rule-tuning-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "rules");
    std::ofstream(dir_ / "rules" / "rules.yml") << R"(title: Whoami
id: 11111111-1111-4111-8111-111111111111
logsource: {product: windows}
detection:
  selection: {CommandLine|contains: whoami}
  condition: selection
level: medium
---
title: Net User
id: 22222222-2222-4222-8222-222222222222
name: net_user
logsource: {product: windows}
detection:
  selection: {CommandLine|contains: 'net user'}
  condition: selection
level: low
---
title: Both in a minute
id: 33333333-3333-4333-8333-333333333333
correlation:
  type: temporal
  rules: [11111111-1111-4111-8111-111111111111, net_user]
  group-by: [Computer]
  timespan: 1m
level: high
)";
    std::ofstream(dir_ / "events.jsonl")
        << R"({"Computer":"ws1","CommandLine":"whoami /all","TimeCreated":"2026-11-26T09:00:00Z"})"
        << "\n"
        << R"({"Computer":"ws1","CommandLine":"net user x","TimeCreated":"2026-11-26T09:00:10Z"})"
        << "\n";
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Write(const std::string& name, const std::string& text) {
    const fs::path path = dir_ / name;
    std::ofstream(path, std::ios::binary) << text;
    return path.string();
  }

  // "title level" of each alert, in order; or the error of Prepare.
  std::vector<std::string> Scan(ScanOptions options, std::string* error = nullptr) {
    options.rule_paths = {(dir_ / "rules").string()};
    options.time_field = "TimeCreated";
    warnings_.clear();
    Diagnostics diagnostics([this](const Diagnostic& d) {
      if (d.kind == DiagnosticKind::kWarning) warnings_.push_back(d.where + ": " + d.message);
    });
    ScanSummary summary;
    auto engine = Engine::Prepare(options, diagnostics, summary);
    if (!engine) {
      if (error) *error = engine.error().message;
      return {};
    }
    std::vector<std::string> alerts;
    (*engine)->Scan(
        {(dir_ / "events.jsonl").string()},
        [&](const sigma::Rule& rule, const event::Event&, const event::Record&,
            const std::string&) {
          // As RunScan and live detection write them: chosen rules only.
          const auto index = static_cast<uint32_t>(&rule - (*engine)->rules().rules.data());
          if (!(*engine)->Selected(index)) return;
          alerts.push_back(rule.info.title + " " + std::string(sigma::LevelName(rule.info.level)));
        },
        summary);
    return alerts;
  }

  fs::path dir_;
  std::vector<std::string> warnings_;
};

TEST_F(RuleTuning, RuleListsReadAsHayabusaWritesThem) {
  const std::string path = Write("exclude_rules.txt",
                                 "\xEF\xBB\xBF# Noisy rules\n"
                                 "11111111-1111-4111-8111-111111111111 # Whoami\n"
                                 "\n"
                                 "   net_user\t# by name\r\n"
                                 "44444444-4444-4444-8444-444444444444,extra\n");
  auto ids = ReadRuleList(path);
  ASSERT_TRUE(ids) << ids.error().message;
  EXPECT_EQ(*ids, (std::vector<std::string>{"11111111-1111-4111-8111-111111111111", "net_user",
                                            "44444444-4444-4444-8444-444444444444"}));
  auto missing = ReadRuleList((dir_ / "nowhere.txt").string());
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("nowhere.txt: cannot be read"), std::string::npos);
}

TEST_F(RuleTuning, LevelOverridesReadAsHayabusaWritesThemAndBadLinesAreNamed) {
  LevelOverrides levels;
  auto read = ReadLevelOverrides(Write("level_tuning.txt",
                                       "id,new_level\n"
                                       "11111111-1111-4111-8111-111111111111,critical # Whoami\n"
                                       "net_user , informational\n"
                                       "11111111-1111-4111-8111-111111111111,high\n"),
                                 levels);
  ASSERT_TRUE(read) << read.error().message;
  ASSERT_EQ(levels.size(), 2u);
  EXPECT_EQ(levels.at("11111111-1111-4111-8111-111111111111"), sigma::Level::kHigh);  // later
  EXPECT_EQ(levels.at("net_user"), sigma::Level::kInformational);

  sigma::RuleInfo info;
  info.id = "22222222-2222-4222-8222-222222222222";
  info.name = "net_user";
  const sigma::Level* level = OverriddenLevel(levels, info);
  ASSERT_NE(level, nullptr);
  EXPECT_EQ(*level, sigma::Level::kInformational);
  info.name.clear();
  EXPECT_EQ(OverriddenLevel(levels, info), nullptr);

  for (const auto& [text, reason] : std::vector<std::pair<std::string, std::string>>{
           {"# fine\n11111111-1111-4111-8111-111111111111 critical\n",
            "bad.txt:2: expected 'id,level'"},
           {"x,severe\n", "bad.txt:1: 'severe' is no level"},
           {",high\n", "bad.txt:1: the rule id is empty"}}) {
    LevelOverrides untouched = levels;
    auto refused = ReadLevelOverrides(Write("bad.txt", text), untouched);
    ASSERT_FALSE(refused) << text;
    EXPECT_NE(refused.error().message.find(reason), std::string::npos) << refused.error().message;
    EXPECT_EQ(untouched, levels) << "a refused file changes nothing";
  }
}

TEST_F(RuleTuning, ScanLeavesOutKeepsAndRelevelsRules) {
  const std::vector<std::string> all = {"Whoami medium", "Net User low"};
  EXPECT_EQ(Scan({}), all);

  ScanOptions excluded;
  excluded.exclude_rule_ids = {"net_user"};
  EXPECT_EQ(Scan(excluded), (std::vector<std::string>{"Whoami medium"}));
  EXPECT_TRUE(warnings_.empty());

  ScanOptions listed;
  listed.exclude_rule_list_files = {
      Write("noisy.txt", "11111111-1111-4111-8111-111111111111\nno-such-rule\nnor-this\n")};
  EXPECT_EQ(Scan(listed), (std::vector<std::string>{"Net User low"}));
  ASSERT_EQ(warnings_.size(), 1u);
  EXPECT_NE(warnings_[0].find("noisy.txt: 2 rule ids name no loaded rule (the first: "
                              "no-such-rule)"),
            std::string::npos)
      << warnings_[0];

  ScanOptions kept;
  kept.rule_list_files = {Write("curated.txt", "net_user\n")};
  EXPECT_EQ(Scan(kept), (std::vector<std::string>{"Net User low"}));
  kept.rule_ids = {"11111111-1111-4111-8111-111111111111"};  // with --rule-id: either
  EXPECT_EQ(Scan(kept), all);

  std::string error;
  ScanOptions nothing;
  nothing.rule_list_files = {Write("empty.txt", "# none yet\n")};
  EXPECT_TRUE(Scan(nothing, &error).empty());
  EXPECT_NE(error.find("the rule lists name no rule"), std::string::npos) << error;

  // Levels change before --min-level chooses, and the alerts carry them.
  ScanOptions relevelled;
  relevelled.level_override_files = {
      Write("levels.txt", "net_user,critical\n11111111-1111-4111-8111-111111111111,low\n")};
  relevelled.min_level = sigma::Level::kHigh;
  EXPECT_EQ(Scan(relevelled), (std::vector<std::string>{"Net User critical"}));

  ScanOptions bad;
  bad.level_override_files = {Write("bad_levels.txt", "net_user,severe\n")};
  EXPECT_TRUE(Scan(bad, &error).empty());
  EXPECT_NE(error.find("bad_levels.txt:1: 'severe' is no level"), std::string::npos) << error;
}

TEST_F(RuleTuning, ACorrelationKeepsTheRulesItNeedsAndTakesItsOwnLevel) {
  std::vector<std::string> correlations;
  ScanOptions options;
  options.rule_paths = {(dir_ / "rules").string()};
  options.time_field = "TimeCreated";
  options.exclude_rule_ids = {"11111111-1111-4111-8111-111111111111"};
  options.level_override_files = {
      Write("levels.txt", "33333333-3333-4333-8333-333333333333,critical\n")};
  Diagnostics diagnostics([](const Diagnostic&) {});
  ScanSummary summary;
  auto engine = Engine::Prepare(options, diagnostics, summary);
  ASSERT_TRUE(engine) << engine.error().message;
  // The correlation is selected, so the rule it references stays loaded for it.
  EXPECT_EQ(summary.correlations_loaded, 1u);
  EXPECT_EQ(summary.rules_loaded, 2u);
  EXPECT_EQ(summary.rules_in_files, 3u);
  ASSERT_EQ((*engine)->rules().correlations.size(), 1u);
  EXPECT_EQ((*engine)->rules().correlations[0].info.level, sigma::Level::kCritical);
  EXPECT_TRUE((*engine)->CorrelationSelected(0));
  const auto& rules = (*engine)->rules().rules;
  ASSERT_EQ(rules.size(), 2u);
  for (uint32_t i = 0; i < rules.size(); ++i)
    EXPECT_EQ((*engine)->Selected(i), rules[i].info.title == "Net User") << rules[i].info.title;
}

}  // namespace
}  // namespace yagura::scan

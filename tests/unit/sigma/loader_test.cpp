#include "sigma/loader.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "sigma/condition.hpp"
#include "sigma_test_util.hpp"

namespace yagura::sigma {
namespace {

namespace fs = std::filesystem;
using testing::Describe;

// A scratch directory removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    path_ = fs::temp_directory_path() /
            ("yagura_sigma_" + std::to_string(::getpid()) + "_" + std::to_string(counter_++));
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string Write(const std::string& name, const std::string& text) const {
    fs::path file = path_ / name;
    fs::create_directories(file.parent_path());
    std::ofstream(file, std::ios::binary) << text;
    return file.string();
  }
  std::string path() const { return path_.string(); }

 private:
  static inline int counter_ = 0;
  fs::path path_;
};

const char* GOOD_RULE = R"(title: Good
id: 00000000-0000-0000-0000-000000000001
status: test
description: A rule
author:
  - Alice
  - Bob
date: 2024-01-02
modified: 2024-02-03
tags:
  - attack.execution
references: https://example.com/x
falsepositives:
  - Admins
logsource:
  product: Windows
  category: Process_Creation
level: HIGH
detection:
  sel:
    Image|endswith: '\cmd.exe'
  condition: sel
)";

TEST(Loader, Metadata) {
  event::FieldCatalog catalog;
  RuleSet set = LoadRuleText(GOOD_RULE, catalog, {}, "good.yml");
  ASSERT_TRUE(set.failures.empty()) << Describe(set);
  ASSERT_EQ(set.rules.size(), 1u);
  const RuleInfo& info = set.rules[0].info;
  EXPECT_EQ(info.title, "Good");
  EXPECT_EQ(info.id, "00000000-0000-0000-0000-000000000001");
  EXPECT_EQ(info.status, "test");
  EXPECT_EQ(info.author, "Alice, Bob");
  EXPECT_EQ(info.date, "2024-01-02");
  EXPECT_EQ(info.modified, "2024-02-03");
  EXPECT_EQ(info.level, Level::kHigh);
  EXPECT_EQ(LevelName(info.level), "high");
  EXPECT_EQ(info.tags, (std::vector<std::string>{"attack.execution"}));
  EXPECT_EQ(info.references, (std::vector<std::string>{"https://example.com/x"}));
  EXPECT_EQ(info.falsepositives, (std::vector<std::string>{"Admins"}));
  EXPECT_EQ(info.logsource.product, "windows");
  EXPECT_EQ(info.logsource.category, "process_creation");
  EXPECT_EQ(info.file, "good.yml");
  EXPECT_EQ(info.line, 1);
  ASSERT_EQ(set.rules[0].fields.size(), 1u);
  EXPECT_EQ(catalog.Name(set.rules[0].fields[0]), "Image");
  EXPECT_EQ(set.rules[0].selections[0].maps[0][0].field_name, "Image");
}

TEST(Loader, MalformedFileFailsAndTheNextFileLoads) {
  TempDir dir;
  dir.Write("a_bad.yml", "title: Broken\ndetection:\n  sel: [unclosed\n  condition: sel\n");
  dir.Write("b_good.yml", GOOD_RULE);
  dir.Write("notes.txt", "not a rule");
  event::FieldCatalog catalog;
  RuleSet set = RuleSet::Load({dir.path()}, catalog);
  EXPECT_EQ(set.files_read, 2u);
  ASSERT_EQ(set.rules.size(), 1u);
  EXPECT_EQ(set.rules[0].info.title, "Good");
  ASSERT_EQ(set.failures.size(), 1u);
  EXPECT_NE(set.failures[0].file.find("a_bad.yml"), std::string::npos);
  EXPECT_EQ(set.failures[0].reason.rfind("YAML parse error: ", 0), 0u) << set.failures[0].reason;
  EXPECT_GE(set.failures[0].line, 3);
  EXPECT_EQ(set.content_hash.size(), 32u);
}

TEST(Loader, MissingPathIsAFailure) {
  event::FieldCatalog catalog;
  RuleSet set = RuleSet::Load({"/nonexistent/yagura/rules"}, catalog);
  ASSERT_EQ(set.failures.size(), 1u);
  EXPECT_EQ(set.failures[0].file, "/nonexistent/yagura/rules");
}

TEST(Loader, MultiDocumentFileKeepsFileLineNumbers) {
  std::string text = std::string(GOOD_RULE) +
                     "---\n"
                     "title: Second\n"
                     "logsource:\n  product: linux\n"
                     "detection:\n"
                     "  sel:\n"
                     "    A|nope: 'x'\n"
                     "  condition: sel\n"
                     "---\n"
                     "# only a comment\n"
                     "---\n"
                     "title: Third\n"
                     "logsource:\n  product: linux\n"
                     "detection:\n"
                     "  sel:\n    A: 'x'\n"
                     "  condition: sel and nothing\n";
  event::FieldCatalog catalog;
  RuleSet set = LoadRuleText(text, catalog, {}, "multi.yml");
  ASSERT_EQ(set.rules.size(), 1u);
  ASSERT_EQ(set.failures.size(), 2u) << Describe(set);
  EXPECT_EQ(set.failures[0].line, 29);
  EXPECT_EQ(set.failures[0].reason, "unknown modifier 'nope' in field 'A|nope'");
  EXPECT_EQ(set.failures[1].line, 40);
  EXPECT_EQ(set.failures[1].reason, "condition references unknown identifier 'nothing'");
}

TEST(Loader, DocumentsThatAreNotRules) {
  event::FieldCatalog catalog;
  RuleSet no_title =
      LoadRuleText("logsource:\n  product: x\ndetection:\n  s: a\n  condition: s\n", catalog);
  ASSERT_EQ(no_title.failures.size(), 1u);
  EXPECT_EQ(no_title.failures[0].reason, "missing 'title'");
  RuleSet no_detection = LoadRuleText("title: x\nfoo: bar\n", catalog);
  ASSERT_EQ(no_detection.failures.size(), 1u);
  EXPECT_NE(no_detection.failures[0].reason.find("not a Sigma rule"), std::string::npos);
  RuleSet scalar = LoadRuleText("just text\n", catalog);
  ASSERT_EQ(scalar.failures.size(), 1u);
  RuleSet no_condition =
      LoadRuleText("title: x\nlogsource:\n  product: x\ndetection:\n  s: a\n", catalog);
  ASSERT_EQ(no_condition.failures.size(), 1u);
  EXPECT_EQ(no_condition.failures[0].reason, "detection has no 'condition'");
  RuleSet aggregation = LoadRuleText(
      "title: x\nlogsource:\n  product: x\ndetection:\n  s: a\n  condition: s | count() > 5\n",
      catalog);
  ASSERT_EQ(aggregation.failures.size(), 1u);
  EXPECT_NE(aggregation.failures[0].reason.find("aggregation"), std::string::npos);
  EXPECT_EQ(aggregation.failures[0].line, 6);
  RuleSet level = LoadRuleText(
      "title: x\nlevel: severe\nlogsource:\n  product: x\ndetection:\n  s: a\n  condition: s\n",
      catalog);
  ASSERT_EQ(level.failures.size(), 1u);
  EXPECT_EQ(level.failures[0].reason, "unknown level 'severe'");
  EXPECT_EQ(level.failures[0].line, 2);
}

TEST(Loader, DuplicateIdsAreKeptWithAWarning) {
  event::FieldCatalog catalog;
  RuleSet set = LoadRuleText(std::string(GOOD_RULE) + "---\n" + GOOD_RULE, catalog, {}, "dup.yml");
  EXPECT_EQ(set.rules.size(), 2u);
  EXPECT_TRUE(set.failures.empty());
  ASSERT_EQ(set.warnings.size(), 1u);
  EXPECT_NE(set.warnings[0].reason.find("duplicate rule id"), std::string::npos);
  // Their alerts are named apart: the first by the id, the second by the id and "#2".
  const std::string id = set.rules[0].info.id;
  ASSERT_FALSE(id.empty());
  EXPECT_EQ(set.rules[0].info.alert_key(), id);
  EXPECT_EQ(set.rules[1].info.alert_key(), id + "#2");
}

TEST(Loader, EveryRuleAndCorrelationHasAnAlertKeyOfItsOwn) {
  event::FieldCatalog catalog;
  const std::string untitled_twice = R"(title: No id
name: first
logsource: {product: x}
detection: {s: {a: 1}, condition: s}
---
title: No id
logsource: {product: x}
detection: {s: {a: 2}, condition: s}
---
title: No id#2
logsource: {product: x}
detection: {s: {a: 3}, condition: s}
---
title: Count
id: 0c000000-0000-4000-8000-000000000001
correlation: {type: event_count, rules: [first], timespan: 1m, condition: {gte: 2}}
---
title: Count again
id: 0c000000-0000-4000-8000-000000000001
correlation: {type: event_count, rules: [first], timespan: 1m, condition: {gte: 3}}
)";
  RuleSet set = LoadRuleText(untitled_twice, catalog, {}, "keys.yml");
  ASSERT_EQ(set.rules.size(), 3u) << (set.failures.empty() ? "" : set.failures[0].reason);
  ASSERT_EQ(set.correlations.size(), 2u) << (set.failures.empty() ? "" : set.failures[0].reason);
  ASSERT_TRUE(set.failures.empty()) << set.failures[0].reason;
  // Titles stand in for missing ids; a title that looks like a numbered key gets a number too.
  EXPECT_EQ(set.rules[0].info.alert_key(), "No id");
  EXPECT_EQ(set.rules[1].info.alert_key(), "No id#2");
  EXPECT_EQ(set.rules[2].info.alert_key(), "No id#2#2");
  EXPECT_EQ(set.correlations[0].info.alert_key(), "0c000000-0000-4000-8000-000000000001");
  EXPECT_EQ(set.correlations[1].info.alert_key(), "0c000000-0000-4000-8000-000000000001#2");
  bool warned = false;
  for (const auto& warning : set.warnings)
    warned = warned || warning.reason.find("duplicate correlation id") != std::string::npos;
  EXPECT_TRUE(warned);
}

TEST(Loader, FiltersAreFoldedIntoTheirRules) {
  std::string text = std::string(GOOD_RULE) + R"(---
title: Other rule
name: other_rule
logsource:
  product: windows
  category: process_creation
detection:
  sel:
    Image|endswith: '\powershell.exe'
  condition: 1 of them
---
title: Admins are fine
logsource:
  product: windows
  category: process_creation
filter:
  rules:
    - 00000000-0000-0000-0000-000000000001
    - other_rule
  selection:
    User|startswith: 'adm_'
  condition: not selection
)";
  event::FieldCatalog catalog;
  RuleSet set = LoadRuleText(text, catalog);
  ASSERT_TRUE(set.failures.empty()) << Describe(set);
  ASSERT_EQ(set.rules.size(), 2u);
  EXPECT_EQ(set.filters_applied, 1u);
  EXPECT_TRUE(set.warnings.empty()) << set.warnings[0].reason;
  testing::EventBuilder b(catalog);
  const Rule& other = set.rules[1];
  b.Add("Image", "c:\\powershell.exe").Add("User", "adm_bob");
  EXPECT_FALSE(EvaluateRule(other, b.event()));
  EXPECT_FALSE(EvaluateRule(set.rules[0],
                            b.Clear().Add("Image", "c:\\cmd.exe").Add("User", "adm_x").event()));
  EXPECT_TRUE(EvaluateRule(set.rules[0],
                           b.Clear().Add("Image", "c:\\cmd.exe").Add("User", "alice").event()));
  EXPECT_TRUE(EvaluateRule(other, b.Clear().Add("Image", "c:\\powershell.exe").event()));
  // The rule's `1 of them` was resolved before the filter's selections were added.
  std::vector<std::string> names;
  for (const Selection& s : other.selections) names.push_back(s.name);
  EXPECT_EQ(names, (std::vector<std::string>{"sel", "_filter0_selection"}));
  EXPECT_EQ(ConditionToString(other.condition, names), "(sel and not _filter0_selection)");
  EXPECT_EQ(other.fields.size(), 2u);
}

TEST(Loader, FilterWithMismatchedLogsourceOrUnknownRuleWarns) {
  std::string text = std::string(GOOD_RULE) + R"(---
title: Linux filter
logsource:
  product: linux
filter:
  rules:
    - 00000000-0000-0000-0000-000000000001
    - no_such_rule
  selection:
    User: root
  condition: not selection
)";
  event::FieldCatalog catalog;
  RuleSet set = LoadRuleText(text, catalog);
  ASSERT_TRUE(set.failures.empty()) << Describe(set);
  EXPECT_EQ(set.filters_applied, 0u);
  EXPECT_EQ(set.warnings.size(), 3u);  // logsource differs, unknown rule, applies to nothing
  EXPECT_EQ(set.rules[0].selections.size(), 1u);
}

const char* CORRELATION_BUNDLE = R"(title: Failed logins followed by success
id: b180ead8-d58f-40b2-ae54-c8940995b9b6
level: high
correlation:
  type: temporal_ordered
  rules:
    - multiple_failed_login
    - successful_login
  group-by:
    - User
  timespan: 10m
---
title: Multiple failed logons
id: a8418a5a-5fc4-46b5-b23b-6c73beb19d41
name: multiple_failed_login
correlation:
  type: event_count
  rules:
    - failed_login
  group-by:
    - User
  timespan: 1h
  condition:
    gte: 10
---
title: Single failed login
id: 53ba33fd-3a50-4468-a5ef-c583635cfa92
name: failed_login
logsource:
  product: windows
  service: security
detection:
  selection:
    EventID:
      - 529
      - 4625
  condition: selection
---
title: Successful login
id: 4d0a2c83-c62c-4ed4-b475-c7e23a9269b8
name: successful_login
logsource:
  product: windows
  service: security
detection:
  selection:
    EventID:
      - 528
      - 4624
  condition: selection
)";

TEST(Loader, CorrelationsAreParsedAndResolved) {
  event::FieldCatalog catalog;
  RuleSet set = LoadRuleText(CORRELATION_BUNDLE, catalog);
  ASSERT_TRUE(set.failures.empty()) << Describe(set);
  ASSERT_EQ(set.rules.size(), 2u);
  ASSERT_EQ(set.correlations.size(), 2u);
  const Correlation& ordered = set.correlations[0];
  EXPECT_EQ(ordered.type, CorrelationType::kTemporalOrdered);
  EXPECT_EQ(ordered.timespan_seconds, 600);
  EXPECT_EQ(ordered.group_by, (std::vector<std::string>{"User"}));
  EXPECT_EQ(ordered.info.level, Level::kHigh);
  ASSERT_EQ(ordered.rules.size(), 2u);
  EXPECT_TRUE(ordered.rules[0].is_correlation);
  EXPECT_EQ(ordered.rules[0].index, 1u);
  EXPECT_FALSE(ordered.rules[1].is_correlation);
  EXPECT_EQ(ordered.rules[1].index, 1u);     // "successful_login" is the second detection rule
  ASSERT_EQ(ordered.conditions.size(), 1u);  // temporal default: gte <number of rules>
  EXPECT_EQ(ordered.conditions[0].op, CorrelationOp::kGte);
  EXPECT_EQ(ordered.conditions[0].value, 2);
  const Correlation& count = set.correlations[1];
  EXPECT_EQ(count.type, CorrelationType::kEventCount);
  EXPECT_EQ(count.timespan_seconds, 3600);
  EXPECT_EQ(count.rules[0].index, 0u);
  EXPECT_FALSE(count.generate);
}

std::string Correlation(const std::string& body) {
  return "title: C\ncorrelation:\n" + body + "---\n" +
         "title: R\nname: r\nlogsource:\n  product: x\ndetection:\n  s: a\n  condition: s\n";
}

TEST(Loader, CorrelationErrors) {
  event::FieldCatalog catalog;
  auto reason = [&](const std::string& body) {
    RuleSet set = LoadRuleText(Correlation(body), catalog);
    return set.failures.empty() ? std::string("loaded") : set.failures[0].reason;
  };
  EXPECT_EQ(reason("  type: event_count\n  rules: [r]\n  timespan: 5m\n  condition:\n    gt: 3\n"),
            "loaded");
  EXPECT_EQ(reason("  type: bogus_count\n  rules: [r]\n  timespan: 5m\n  condition:\n    gt: 3\n"),
            "unknown correlation type 'bogus_count'");
  EXPECT_NE(reason("  type: event_count\n  rules: [r]\n  timespan: 5x\n  condition:\n    gt: 3\n")
                .find("invalid timespan '5x'"),
            std::string::npos);
  EXPECT_NE(reason("  type: event_count\n  rules: [r]\n  timespan: m\n  condition:\n    gt: 3\n")
                .find("invalid timespan"),
            std::string::npos);
  EXPECT_EQ(
      reason("  type: event_count\n  rules: [missing]\n  timespan: 5m\n  condition:\n    gt: 3\n"),
      "correlation references rule 'missing', which is not loaded (or failed to load)");
  EXPECT_EQ(reason("  type: event_count\n  rules: [r]\n  timespan: 5m\n"),
            "correlation has no 'condition'");
  EXPECT_EQ(reason("  type: value_count\n  rules: [r]\n  timespan: 5m\n  condition:\n    gt: 3\n"),
            "value_count correlation needs 'field' in its condition");
  EXPECT_EQ(
      reason("  type: event_count\n  rules: [r]\n  timespan: 5m\n  condition:\n    most: 3\n"),
      "unknown correlation condition operator 'most'");
  EXPECT_EQ(
      reason("  type: value_count\n  rules: [r]\n  timespan: 2d\n  condition:\n    field: User\n"
             "    gt: 3\n    lte: 9\n"),
      "loaded");
}

TEST(Loader, CorrelationRangeAliasesAndExtendedCondition) {
  event::FieldCatalog catalog;
  RuleSet set = LoadRuleText(
      Correlation("  type: value_sum\n  rules: [r]\n  timespan: 1w\n  group-by: [ip]\n"
                  "  aliases:\n    ip:\n      r: SourceIp\n"
                  "  condition:\n    field: Bytes\n    gt: 100\n    lte: 200\n") +
          "---\n" +
          "title: T\ncorrelation:\n  type: temporal\n  timespan: 30s\n  condition: r and not s\n"
          "---\ntitle: S\nname: s\nlogsource:\n  product: x\ndetection:\n  s: b\n  condition: s\n",
      catalog);
  ASSERT_TRUE(set.failures.empty()) << Describe(set);
  ASSERT_EQ(set.correlations.size(), 2u);
  const auto& sum = set.correlations[0];
  EXPECT_EQ(sum.timespan_seconds, 604800);
  EXPECT_EQ(sum.conditions.size(), 2u);
  EXPECT_EQ(sum.condition_fields, (std::vector<std::string>{"Bytes"}));
  EXPECT_EQ(sum.aliases.at("ip").at("r"), "SourceIp");
  const auto& temporal = set.correlations[1];
  EXPECT_TRUE(temporal.has_extended);
  ASSERT_EQ(temporal.rules.size(), 2u);
  EXPECT_EQ(temporal.rules[0].name, "r");
  EXPECT_EQ(temporal.rules[1].name, "s");
  EXPECT_EQ(temporal.extended.kind, Condition::Kind::kAnd);
}

TEST(Loader, ContentHashDependsOnBytesAndPlaceholders) {
  TempDir dir;
  dir.Write("r.yml", GOOD_RULE);
  event::FieldCatalog catalog;
  std::string first = RuleSet::Load({dir.path()}, catalog).content_hash;
  EXPECT_EQ(RuleSet::Load({dir.path()}, catalog).content_hash, first);
  LoadOptions options;
  options.placeholders["X"] = {"y"};
  EXPECT_NE(RuleSet::Load({dir.path()}, catalog, options).content_hash, first);
  dir.Write("r.yml", std::string(GOOD_RULE) + "# changed\n");
  EXPECT_NE(RuleSet::Load({dir.path()}, catalog).content_hash, first);
}

TEST(Loader, SplitDocuments) {
  auto docs = SplitDocuments("a: 1\n---\nb: 2\n--- # c\nc: 3\n");
  ASSERT_EQ(docs.size(), 3u);
  EXPECT_EQ(docs[0].first_line, 0);
  EXPECT_EQ(docs[1].first_line, 1);
  EXPECT_EQ(docs[2].first_line, 3);
  EXPECT_EQ(docs[2].text, "    # c\nc: 3\n");
}

TEST(Loader, PlaceholderFile) {
  TempDir dir;
  std::string path = dir.Write("p.yml", "Admins: ['a', 'b*']\n'%Single%': one\n");
  auto options = LoadOptions::WithPlaceholderFile(path);
  ASSERT_TRUE(options.has_value()) << options.error().ToString();
  EXPECT_EQ(options->placeholders.at("Admins"), (std::vector<std::string>{"a", "b*"}));
  EXPECT_EQ(options->placeholders.at("Single"), (std::vector<std::string>{"one"}));
  EXPECT_FALSE(LoadOptions::WithPlaceholderFile(dir.path() + "/missing.yml").has_value());
  std::string bad = dir.Write("bad.yml", "A:\n  b: c\n");
  EXPECT_FALSE(LoadOptions::WithPlaceholderFile(bad).has_value());
}

TEST(Loader, ShippedPlaceholderFileLoads) {
  auto options = LoadOptions::WithPlaceholderFile(std::string(YAGURA_SOURCE_DIR) + "/" +
                                                  LoadOptions::DEFAULT_PLACEHOLDER_FILE);
  ASSERT_TRUE(options.has_value()) << options.error().ToString();
  for (const char* name :
       {"Administrators", "JumpServers", "Workstations", "Servers", "DomainControllers"}) {
    EXPECT_TRUE(options->placeholders.count(name)) << name;
  }
}

}  // namespace
}  // namespace yagura::sigma

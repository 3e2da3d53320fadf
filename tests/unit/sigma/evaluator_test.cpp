#include "sigma/evaluator.hpp"

#include <gtest/gtest.h>

#include "sigma_test_util.hpp"

namespace yagura::sigma {
namespace {

using testing::EventBuilder;
using testing::RuleFixture;

#define ASSERT_LOADED(f) ASSERT_TRUE((f).Loaded()) << (f).Failures()

TEST(Evaluator, NotBindsTighterThanAnd) {
  RuleFixture f("  a:\n    A: '1'\n  b:\n    B: '1'\n  condition: not a and b\n");
  ASSERT_LOADED(f);
  EXPECT_TRUE(f.Matches({{"B", "1"}}));
  EXPECT_FALSE(f.Matches({{"A", "1"}, {"B", "1"}}));
  EXPECT_FALSE(f.Matches({}));  // (not a) and b, not not (a and b)
}

TEST(Evaluator, AndBindsTighterThanOr) {
  RuleFixture f(
      "  a:\n    A: '1'\n  b:\n    B: '1'\n  c:\n    C: '1'\n  condition: a or b and c\n");
  ASSERT_LOADED(f);
  EXPECT_TRUE(f.Matches({{"A", "1"}}));
  EXPECT_FALSE(f.Matches({{"B", "1"}}));
  EXPECT_TRUE(f.Matches({{"B", "1"}, {"C", "1"}}));
}

TEST(Evaluator, OneOfAndAllOf) {
  RuleFixture one(
      "  sel_a:\n    A: '1'\n  sel_b:\n    B: '1'\n  filter:\n    F: '1'\n"
      "  condition: 1 of sel_* and not filter\n");
  ASSERT_LOADED(one);
  EXPECT_TRUE(one.Matches({{"B", "1"}}));
  EXPECT_FALSE(one.Matches({{"B", "1"}, {"F", "1"}}));
  EXPECT_FALSE(one.Matches({{"F", "1"}}));
  RuleFixture all("  sel_a:\n    A: '1'\n  sel_b:\n    B: '1'\n  condition: all of them\n");
  ASSERT_LOADED(all);
  EXPECT_FALSE(all.Matches({{"B", "1"}}));
  EXPECT_TRUE(all.Matches({{"A", "1"}, {"B", "1"}}));
}

TEST(Evaluator, MapIsAndListOfMapsIsOr) {
  RuleFixture f(R"(  sel:
    - Image|endswith: '\a.exe'
      CommandLine|contains: 'x'
    - Image|endswith: '\b.exe'
  condition: sel
)");
  ASSERT_LOADED(f);
  EXPECT_EQ(f.rule().selections[0].maps.size(), 2u);
  EXPECT_TRUE(f.Matches({{"Image", "c:\\a.exe"}, {"CommandLine", "-x"}}));
  EXPECT_FALSE(f.Matches({{"Image", "c:\\a.exe"}, {"CommandLine", "-y"}}));
  EXPECT_TRUE(f.Matches({{"Image", "c:\\b.exe"}}));
}

TEST(Evaluator, MultiValuedFieldMatchesWhenAnyValueDoes) {
  RuleFixture f("  sel:\n    Tag: 'evil'\n  condition: sel\n");
  ASSERT_LOADED(f);
  EXPECT_TRUE(f.Matches({{"Tag", "good"}, {"Tag", "EVIL"}}));
}

TEST(Evaluator, NullMeansAbsentOrNull) {
  RuleFixture f("  sel:\n    A: 'x'\n  empty:\n    B: null\n  condition: sel and empty\n");
  ASSERT_LOADED(f);
  EXPECT_EQ(f.rule().predicates[1].kind, PredicateKind::kNull);
  EXPECT_TRUE(f.Matches({{"A", "x"}}));              // absent
  EXPECT_FALSE(f.Matches({{"A", "x"}, {"B", ""}}));  // empty string is not null
  EXPECT_FALSE(f.Matches({{"A", "x"}, {"B", "y"}}));
  f.builder().Clear().Add("A", "x").Add("B", "", event::ValueType::kNull);
  EXPECT_TRUE(EvaluateRule(f.rule(), f.builder().event()));
  RuleFixture list("  sel:\n    B: []\n  condition: sel\n");  // an empty list is null
  ASSERT_LOADED(list);
  EXPECT_TRUE(list.Matches({}));
  RuleFixture bare("  sel:\n    B:\n  condition: sel\n");
  ASSERT_LOADED(bare);
  EXPECT_EQ(bare.rule().predicates[0].kind, PredicateKind::kNull);
}

TEST(Evaluator, EmptyStringMatchesOnlyEmpty) {
  RuleFixture f("  sel:\n    B: ''\n  condition: sel\n");
  ASSERT_LOADED(f);
  EXPECT_TRUE(f.Matches({{"B", ""}}));
  EXPECT_FALSE(f.Matches({{"B", "x"}}));
  EXPECT_FALSE(f.Matches({}));
  f.builder().Clear().Add("B", "", event::ValueType::kNull);
  EXPECT_FALSE(EvaluateRule(f.rule(), f.builder().event()));
}

TEST(Evaluator, MissingFieldFailsPositiveAndSatisfiesNot) {
  RuleFixture f("  sel:\n    A: 'x'\n  filter:\n    F: 'y'\n  condition: sel and not filter\n");
  ASSERT_LOADED(f);
  EXPECT_TRUE(f.Matches({{"A", "x"}}));
  EXPECT_FALSE(f.Matches({{"F", "y"}}));
}

TEST(Evaluator, KeywordsAreCaseInsensitiveSubstringsOfAnyValue) {
  event::FieldCatalog catalog;
  RuleSet set = LoadRuleText(testing::RuleText("  keywords:\n    - 'Mimikatz'\n    - 'sekurlsa::'\n"
                                               "  condition: keywords\n"),
                             catalog);
  ASSERT_TRUE(set.failures.empty()) << testing::Describe(set);
  EXPECT_TRUE(catalog.wants_all_values());
  const Rule& rule = set.rules[0];
  EXPECT_EQ(rule.predicates[0].field, event::NO_FIELD);
  EXPECT_TRUE(rule.fields.empty());
  EventBuilder b(catalog);
  b.Add("CommandLine", "run MIMIKATZ.exe now");
  EXPECT_TRUE(EvaluateRule(rule, b.event()));
  b.Clear().Add("Other", "privilege::debug sekurlsa::logonpasswords");
  EXPECT_TRUE(EvaluateRule(rule, b.event()));
  b.Clear().Add("CommandLine", "benign");
  EXPECT_FALSE(EvaluateRule(rule, b.event()));
}

TEST(Evaluator, KeywordItemWithModifiers) {
  RuleFixture all(
      "  keywords:\n    '|all':\n      - 'foo'\n      - 'bar'\n  condition: keywords\n");
  ASSERT_LOADED(all);
  EXPECT_TRUE(all.Matches({{"A", "xfoo"}, {"B", "barx"}}));
  EXPECT_FALSE(all.Matches({{"A", "xfoo"}}));
  RuleFixture starts("  keywords:\n    '|startswith': 'foo'\n  condition: keywords\n");
  ASSERT_LOADED(starts);
  EXPECT_TRUE(starts.Matches({{"A", "foox"}}));
  EXPECT_FALSE(starts.Matches({{"A", "xfoo"}}));
  RuleFixture scalar("  keywords: 'evil'\n  condition: keywords\n");
  ASSERT_LOADED(scalar);
  EXPECT_TRUE(scalar.Matches({{"A", "so EVIL"}}));
  RuleFixture number("  keywords:\n    - 4624\n  condition: keywords\n");
  ASSERT_LOADED(number);
  EXPECT_TRUE(number.Matches({{"A", "id 4624"}}));
}

TEST(Evaluator, ConditionListIsOr) {
  RuleFixture f("  a:\n    A: '1'\n  b:\n    B: '1'\n  condition:\n    - a\n    - b\n");
  ASSERT_LOADED(f);
  EXPECT_TRUE(f.Matches({{"A", "1"}}));
  EXPECT_TRUE(f.Matches({{"B", "1"}}));
  EXPECT_FALSE(f.Matches({{"C", "1"}}));
}

TEST(Evaluator, MultiLineCondition) {
  RuleFixture f("  a:\n    A: '1'\n  b:\n    B: '1'\n  condition:\n    a and\n    not b\n");
  ASSERT_LOADED(f);
  EXPECT_TRUE(f.Matches({{"A", "1"}}));
  EXPECT_FALSE(f.Matches({{"A", "1"}, {"B", "1"}}));
}

TEST(Evaluator, MatchedFields) {
  RuleFixture f(R"(  sel:
    Image|endswith: '\cmd.exe'
    CommandLine|contains: 'whoami'
  other:
    User: 'bob'
  filter:
    Parent: 'x'
  condition: (sel or other) and not filter
)");
  ASSERT_LOADED(f);
  f.builder().Clear().Add("Image", "c:\\cmd.exe").Add("CommandLine", "whoami").Add("User", "alice");
  std::vector<std::string_view> fields;
  ASSERT_TRUE(EvaluateRule(f.rule(), f.builder().event(), &fields));
  EXPECT_EQ(fields, (std::vector<std::string_view>{"Image", "CommandLine"}));
}

// AppendMatchedFields (for a rule a matcher found) names what EvaluateRule names, for each way
// the condition can hold: through either side of the OR, through both, with maps of a list,
// and not through a disjunct whose selection holds but which is vetoed.
TEST(Evaluator, MatchedFieldsOfARuleKnownToHold) {
  RuleFixture f(R"(  sel:
    - Image|endswith: '\cmd.exe'
      CommandLine|contains: 'whoami'
    - Image|endswith: '\sh.exe'
  veto:
    Veto: 'yes'
  other:
    User: 'bob'
  also:
    Host|startswith: 'ws'
  filter:
    Parent: 'x'
  condition: ((sel and not veto) or other) and also and not filter
)");
  ASSERT_LOADED(f);
  const std::vector<std::vector<std::pair<const char*, const char*>>> holding = {
      {{"Image", "c:\\cmd.exe"}, {"CommandLine", "whoami"}, {"Host", "ws1"}},
      {{"User", "bob"}, {"Host", "ws2"}, {"Parent", "y"}},
      {{"Image", "c:\\sh.exe"}, {"User", "bob"}, {"Host", "ws3"}},
      {{"Image", "c:\\cmd.exe"}, {"CommandLine", "whoami"}, {"User", "bob"}, {"Host", "ws"}},
      {{"Image", "c:\\cmd.exe"}, {"CommandLine", "whoami"}, {"Veto", "yes"}, {"User", "bob"},
       {"Host", "ws"}},
  };
  // Only the map of `sel` that held names its fields; single-map selections that hold name
  // theirs without being tested again.
  const std::vector<std::vector<std::string_view>> expected = {
      {"Image", "CommandLine", "Host"},
      {"User", "Host"},
      {"Image", "User", "Host"},
      {"Image", "CommandLine", "User", "Host"},
      {"User", "Host"},
  };
  for (size_t i = 0; i < holding.size(); ++i) {
    f.builder().Clear();
    for (const auto& [name, value] : holding[i]) f.builder().Add(name, value);
    std::vector<std::string_view> evaluated, appended;
    ASSERT_TRUE(EvaluateRule(f.rule(), f.builder().event(), &evaluated));
    AppendMatchedFields(f.rule(), f.builder().event(), appended);
    EXPECT_EQ(appended, evaluated);
    EXPECT_EQ(appended, expected[i]) << "event " << i;
  }
  // The last event: the vetoed selection names nothing.
  std::vector<std::string_view> fields;
  AppendMatchedFields(f.rule(), f.builder().event(), fields);
  EXPECT_EQ(fields, (std::vector<std::string_view>{"User", "Host"}));
}

TEST(Evaluator, RoutingByLogsource) {
  RuleFixture f("  sel:\n    A: '1'\n  condition: sel\n");
  ASSERT_LOADED(f);
  event::LogsourceClass windows;
  windows.recognised = true;
  windows.product = "windows";
  windows.AddCategory("process_creation");
  EXPECT_TRUE(RuleApplies(f.rule(), windows, UnrecognisedPolicy::kSkip));
  event::LogsourceClass linux_class;
  linux_class.recognised = true;
  linux_class.product = "linux";
  linux_class.AddCategory("process_creation");
  EXPECT_FALSE(RuleApplies(f.rule(), linux_class, UnrecognisedPolicy::kAllRules));
  event::LogsourceClass unknown;
  EXPECT_TRUE(RuleApplies(f.rule(), unknown, UnrecognisedPolicy::kAllRules));
  EXPECT_FALSE(RuleApplies(f.rule(), unknown, UnrecognisedPolicy::kSkip));
}

TEST(Evaluator, EvaluateAllReturnsMatchingRulesInOrder) {
  event::FieldCatalog catalog;
  std::string text = testing::RuleText("  sel:\n    A: '1'\n  condition: sel\n") + "---\n" +
                     testing::RuleText("  sel:\n    A: '2'\n  condition: sel\n") + "---\n" +
                     testing::RuleText("  sel:\n    A|re: '[12]'\n  condition: sel\n");
  RuleSet set = LoadRuleText(text, catalog);
  ASSERT_EQ(set.rules.size(), 3u) << testing::Describe(set);
  EventBuilder b(catalog);
  b.Add("A", "2");
  std::vector<uint32_t> out;
  EvaluateAll(set, b.event(), UnrecognisedPolicy::kAllRules, out);
  EXPECT_EQ(out, (std::vector<uint32_t>{1, 2}));
}

}  // namespace
}  // namespace yagura::sigma

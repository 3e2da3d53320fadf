#include "sigma/condition.hpp"

#include <gtest/gtest.h>

namespace yagura::sigma {
namespace {

const std::vector<std::string> NAMES = {"selection", "filter_a", "filter_b", "sel1",
                                        "sel2",      "_private", "keywords"};

std::string Parse(std::string_view text, const std::vector<std::string>& names = NAMES) {
  auto condition = ParseCondition(text, names);
  if (!condition) return "ERROR: " + condition.error().message;
  return ConditionToString(*condition, names);
}

TEST(ConditionParser, SingleIdentifier) { EXPECT_EQ(Parse("selection"), "selection"); }

TEST(ConditionParser, NotBindsTighterThanAndThanOr) {
  EXPECT_EQ(Parse("not selection and sel1"), "(not selection and sel1)");
  EXPECT_EQ(Parse("selection or sel1 and sel2"), "(selection or (sel1 and sel2))");
  EXPECT_EQ(Parse("selection and sel1 or sel2"), "((selection and sel1) or sel2)");
  EXPECT_EQ(Parse("not not selection"), "not not selection");
}

TEST(ConditionParser, ParenthesesAndNaryFlattening) {
  EXPECT_EQ(Parse("(selection or sel1) and not (sel2 or keywords)"),
            "((selection or sel1) and not (sel2 or keywords))");
  EXPECT_EQ(Parse("selection and sel1 and sel2"), "(selection and sel1 and sel2)");
  EXPECT_EQ(Parse("((selection))"), "selection");
}

TEST(ConditionParser, QuantifiedPatterns) {
  EXPECT_EQ(Parse("1 of sel*"), "(selection or sel1 or sel2)");
  EXPECT_EQ(Parse("any of sel?"), "ERROR: unexpected character '?' in condition");
  EXPECT_EQ(Parse("any of sel*"), "(selection or sel1 or sel2)");
  EXPECT_EQ(Parse("all of sel*"), "(selection and sel1 and sel2)");
  EXPECT_EQ(Parse("1 of sel1*"), "sel1");
  EXPECT_EQ(Parse("selection and not 1 of filter_*"), "(selection and not (filter_a or filter_b))");
  EXPECT_EQ(Parse("1 of selection*"), "selection");  // '*' may match nothing
  EXPECT_EQ(Parse("all of *_b"), "filter_b");
}

TEST(ConditionParser, ThemExcludesUnderscoreIdentifiers) {
  EXPECT_EQ(Parse("all of them"),
            "(selection and filter_a and filter_b and sel1 and sel2 and keywords)");
  EXPECT_EQ(Parse("1 of them"), "(selection or filter_a or filter_b or sel1 or sel2 or keywords)");
  EXPECT_EQ(Parse("1 of *"), "(selection or filter_a or filter_b or sel1 or sel2 or keywords)");
  EXPECT_EQ(Parse("1 of _*"), "_private");   // a pattern starting with '_' may select them
  EXPECT_EQ(Parse("_private"), "_private");  // and naming one directly is fine
}

TEST(ConditionParser, WhitespaceAndNewlinesAreInsignificant) {
  EXPECT_EQ(Parse("keywords and\n    (\n  1 of filter_*\n  )\n"),
            "(keywords and (filter_a or filter_b))");
}

TEST(ConditionParser, Errors) {
  EXPECT_EQ(Parse("selection and sel3"), "ERROR: condition references unknown identifier 'sel3'");
  EXPECT_EQ(Parse("1 of nothing*"),
            "ERROR: condition pattern 'nothing*' matches no search identifier");
  EXPECT_NE(Parse("selection | count() > 5").find("aggregation"), std::string::npos);
  EXPECT_NE(Parse("selection and").find("syntax error"), std::string::npos);
  EXPECT_NE(Parse("(selection").find("expected ')'"), std::string::npos);
  EXPECT_NE(Parse("selection sel1").find("syntax error"), std::string::npos);
  EXPECT_NE(Parse("sel*").find("only allowed after"), std::string::npos);
  EXPECT_EQ(Parse(""), "ERROR: condition is empty");
  EXPECT_NE(Parse("selection AND sel1").find("syntax error"),
            std::string::npos);  // lower case only
  EXPECT_NE(Parse("selection & sel1").find("unexpected character"), std::string::npos);
}

TEST(ConditionParser, PatternMatching) {
  EXPECT_TRUE(ConditionPatternMatches("sel*", "selection"));
  EXPECT_TRUE(ConditionPatternMatches("*", "x"));
  EXPECT_TRUE(ConditionPatternMatches("a*b*c", "axxbyyc"));
  EXPECT_FALSE(ConditionPatternMatches("a*b*c", "axxbyy"));
  EXPECT_FALSE(ConditionPatternMatches("sel", "selection"));
}

}  // namespace
}  // namespace yagura::sigma

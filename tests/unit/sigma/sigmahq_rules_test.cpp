// Acceptance: every active SigmaHQ rule loads, with the project's default placeholder values.
#include <gtest/gtest.h>

#include <filesystem>

#include "sigma/rule_set.hpp"
#include "sigma_test_util.hpp"

namespace yagura::sigma {
namespace {

TEST(SigmaHqRules, AllActiveRulesLoadWithoutFailure) {
  const std::string base = std::string(YAGURA_SHARED_DIR) + "/data/sigma/sigmahq";
  if (!std::filesystem::exists(base + "/rules")) {
    GTEST_SKIP() << "SigmaHQ rules not found under " << base;
  }
  auto options = LoadOptions::WithPlaceholderFile(std::string(YAGURA_SOURCE_DIR) + "/" +
                                                  LoadOptions::DEFAULT_PLACEHOLDER_FILE);
  ASSERT_TRUE(options.has_value()) << options.error().ToString();
  std::vector<std::string> paths;
  for (const char* dir : {"rules", "rules-emerging-threats", "rules-threat-hunting",
                          "rules-placeholder", "rules-compliance"}) {
    paths.push_back(base + "/" + dir);
  }
  event::FieldCatalog catalog;
  RuleSet set = RuleSet::Load(paths, catalog, *options);
  EXPECT_EQ(set.failures.size(), 0u) << testing::Describe(set);
  EXPECT_EQ(set.rules.size(), 3780u);
  EXPECT_EQ(set.files_read, 3780u);
  EXPECT_TRUE(catalog.wants_all_values());  // SigmaHQ has keyword rules
  size_t predicates = 0;
  for (const Rule& rule : set.rules) {
    EXPECT_FALSE(rule.fields.empty() && rule.predicates.empty()) << rule.info.file;
    predicates += rule.predicates.size();
  }
  EXPECT_GT(predicates, 46000u);
}

TEST(SigmaHqRules, PlaceholderRulesNeedPlaceholders) {
  const std::string dir = std::string(YAGURA_SHARED_DIR) + "/data/sigma/sigmahq/rules-placeholder";
  if (!std::filesystem::exists(dir)) GTEST_SKIP() << "SigmaHQ rules not found under " << dir;
  event::FieldCatalog catalog;
  RuleSet set = RuleSet::Load({dir}, catalog);
  EXPECT_EQ(set.rules.size() + set.failures.size(), 23u);
  EXPECT_GT(set.failures.size(), 15u);
  for (const RuleFailure& failure : set.failures) {
    EXPECT_NE(failure.reason.find("has no configured values"), std::string::npos) << failure.reason;
    EXPECT_GT(failure.line, 0);
  }
}

}  // namespace
}  // namespace yagura::sigma

#include "intel/live_indicators.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "intel/store.hpp"

namespace yagura::intel {
namespace {

namespace fs = std::filesystem;

class FeedFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("yagura-live-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
            "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Write(const std::string& name, const std::string& text) {
    fs::path path = dir_ / name;
    std::ofstream(path, std::ios::binary) << text;
    return path.string();
  }
  fs::path dir_;
};

constexpr const char* GOOD_BUNDLE = R"({"type":"bundle","id":"bundle--1","objects":[
 {"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-000000000001",
  "created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z",
  "pattern":"[domain-name:value = 'one.example']","pattern_type":"stix",
  "valid_from":"2026-01-01T00:00:00Z"},
 {"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-000000000002",
  "created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z",
  "pattern":"[domain-name:value = 'two.example']","pattern_type":"stix",
  "valid_from":"2026-01-01T00:00:00Z"}]})";

TEST_F(FeedFiles, ABrokenReloadKeepsTheGoodVersion) {
  std::string path = Write("feed.json", GOOD_BUNDLE);
  LiveIndicators live;
  Diagnostics diagnostics;
  auto outcomes = live.Reload({{path, FeedFormat::kAuto, ""}}, diagnostics);
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_TRUE(outcomes[0].loaded);
  EXPECT_EQ(live.Current()->stats().active, 2u);

  // The download stops half way: the previous two indicators stay.
  std::string truncated = GOOD_BUNDLE;
  truncated.resize(truncated.find("indicator--00000000-0000-4000-8000-000000000002"));
  Write("feed.json", truncated);
  outcomes = live.Reload({{path, FeedFormat::kAuto, ""}}, diagnostics);
  EXPECT_TRUE(outcomes[0].kept_previous);
  EXPECT_FALSE(outcomes[0].stats.complete);
  EXPECT_EQ(live.Current()->stats().active, 2u);

  // The file disappears: still the previous version.
  fs::remove(path);
  outcomes = live.Reload({{path, FeedFormat::kAuto, ""}}, diagnostics);
  EXPECT_TRUE(outcomes[0].kept_previous);
  EXPECT_FALSE(outcomes[0].error.empty());
  EXPECT_EQ(live.Current()->stats().active, 2u);

  // A good new version replaces it.
  std::string one = GOOD_BUNDLE;
  one.erase(one.find(",\n {\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--00000000-0000-4000-8000-000000000002\""),
            std::string::npos);
  one += "]}";
  Write("feed.json", one);
  outcomes = live.Reload({{path, FeedFormat::kAuto, ""}}, diagnostics);
  EXPECT_TRUE(outcomes[0].loaded);
  EXPECT_EQ(live.Current()->stats().active, 1u);
}

TEST_F(FeedFiles, StoreImportsListsAndKeepsGoodVersions) {
  auto store = IntelStore::Open((dir_ / "store").string());
  ASSERT_TRUE(store) << store.error().ToString();
  Diagnostics diagnostics;
  std::string list = Write("blocklist.txt", "192.0.2.1\nevil.example\n# comment\n");
  auto outcome = store->Import(list, "", FeedFormat::kAuto, diagnostics);
  EXPECT_TRUE(outcome.stored) << outcome.error;
  EXPECT_EQ(outcome.name, "blocklist.txt");
  EXPECT_EQ(outcome.stats.indicators, 2u);

  std::string bundle = Write("partner.json", GOOD_BUNDLE);
  outcome = store->Import(bundle, "partner", FeedFormat::kAuto, diagnostics);
  EXPECT_TRUE(outcome.stored) << outcome.error;

  std::string truncated = GOOD_BUNDLE;
  truncated.resize(truncated.size() / 2);
  Write("partner.json", truncated);
  outcome = store->Import(bundle, "partner", FeedFormat::kAuto, diagnostics);
  EXPECT_FALSE(outcome.stored);
  EXPECT_TRUE(outcome.kept_previous);

  // Reopened from disk, the store lists both feeds, and the partner feed is the good version.
  auto reopened = IntelStore::Open((dir_ / "store").string());
  ASSERT_TRUE(reopened);
  ASSERT_EQ(reopened->feeds().size(), 2u);
  LiveIndicators live;
  auto outcomes = live.Reload(reopened->Sources(), diagnostics);
  for (const auto& o : outcomes) EXPECT_TRUE(o.loaded) << o.path << ": " << o.error;
  EXPECT_EQ(live.Current()->stats().active, 4u);
  EXPECT_EQ(ExpandFeedPaths({(dir_ / "store").string()}).size(), 2u);
}

}  // namespace
}  // namespace yagura::intel

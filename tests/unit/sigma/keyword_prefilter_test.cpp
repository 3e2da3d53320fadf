// KeywordPrefilter: when it may rule keywords out, when it must not, and a differential test:
// records parsed with only the fields rules name when the prefilter says so, then matched,
// give exactly the rules the plain evaluator gives on the same records parsed with every value.
#include "sigma/keyword_prefilter.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <sys/stat.h>
#include <unistd.h>

#include "event/parser.hpp"
#include "event/record.hpp"
#include "sigma/evaluator.hpp"
#include "sigma/loader.hpp"
#include "sigma/matcher.hpp"
#include "unit/sigma/sigma_test_util.hpp"

namespace yagura::sigma {
namespace {

std::string KeywordRule(std::string_view id, std::string_view keywords) {
  std::string text = "title: Keywords\nid: ";
  text += id;
  text += "\nlogsource:\n  product: windows\ndetection:\n  keywords:\n";
  text += keywords;
  text += "  condition: keywords\n";
  return text;
}

struct Prefilter {
  explicit Prefilter(const std::string& rules_text, const std::string& cache_dir = {}) {
    rules = LoadRuleText(rules_text, catalog);
    EXPECT_TRUE(rules.failures.empty()) << testing::Describe(rules);
    std::vector<uint32_t> all(rules.rules.size());
    for (uint32_t r = 0; r < all.size(); ++r) all[r] = r;
    auto built = KeywordPrefilter::Build(rules, all, cache_dir);
    EXPECT_TRUE(built.has_value()) << (built ? "" : built.error().ToString());
    if (built) prefilter = std::move(*built);
    if (prefilter) {
      auto made = prefilter->NewScratch();
      EXPECT_TRUE(made.has_value());
      if (made) scratch = std::move(*made);
    }
  }
  bool MayMatch(std::string json) {
    json.append(event::RECORD_PADDING, '\0');
    return prefilter->MayMatch(std::string_view(json).substr(0, json.size() - event::RECORD_PADDING),
                               scratch);
  }
  event::FieldCatalog catalog;
  RuleSet rules;
  std::unique_ptr<KeywordPrefilter> prefilter;
  HsScratch scratch;
};

TEST(KeywordPrefilter, NoKeywordRulesNeedNoPrefilter) {
  Prefilter p(testing::RuleText("  selection:\n    Image|endswith: '\\cmd.exe'\n"
                                "  condition: selection\n"));
  EXPECT_EQ(p.prefilter, nullptr);
}

TEST(KeywordPrefilter, RulesOutRecordsWithoutAnyNecessaryLiteral) {
  Prefilter p(KeywordRule("11111111-1111-1111-1111-111111111111",
                          "    - 'Mimikatz'\n    - 'sekurlsa::'\n"));
  ASSERT_NE(p.prefilter, nullptr);
  EXPECT_EQ(p.prefilter->literal_count(), 2u);
  EXPECT_FALSE(p.MayMatch(R"({"Image":"C:\\Windows\\System32\\cmd.exe","User":"erin"})"));
  EXPECT_FALSE(p.MayMatch(R"({"a":{"b":[1,2,{"c":"sekurlsa:"}]}})"));  // one colon short
  // Case-insensitively, in any value and at any depth.
  EXPECT_TRUE(p.MayMatch(R"({"CommandLine":"run MIMIKATZ.exe"})"));
  EXPECT_TRUE(p.MayMatch(R"({"a":{"b":["x","privilege::debug SEKURLSA::logonpasswords"]}})"));
}

TEST(KeywordPrefilter, GivesUpWhereRawBytesMaySpellAValueDifferently) {
  Prefilter p(KeywordRule("11111111-1111-1111-1111-111111111111", "    - 'sekurlsa::'\n"));
  ASSERT_NE(p.prefilter, nullptr);
  // \u escapes can spell any letter; \/ is a slash.
  EXPECT_TRUE(p.MayMatch(R"({"c":"sekur\u006csa::"})"));
  EXPECT_TRUE(p.MayMatch(R"({"c":"a\/b"})"));
  // Bytes outside ASCII: simple case folding maps U+017F (long s) to 's'.
  EXPECT_TRUE(p.MayMatch("{\"c\":\"\xC5\xBF" "ekurlsa::\"}"));
  // An escaped backslash before `u` is no \u escape; a third backslash makes one.
  EXPECT_FALSE(p.MayMatch(R"({"c":"C:\\users\\x"})"));
  EXPECT_TRUE(p.MayMatch(R"({"c":"C:\\\u0041"})"));
  // Found wherever it lies: in the last, partial block of 32 bytes too.
  EXPECT_TRUE(p.MayMatch(std::string(R"({"c":")") + std::string(70, 'x') + "\xC3\xA9\"}"));
  EXPECT_FALSE(p.MayMatch(std::string(R"({"c":")") + std::string(70, 'x') + "\"}"));
  // Other escapes are fine: they stand for bytes no necessary literal contains.
  EXPECT_FALSE(p.MayMatch(R"({"c":"C:\\Temp\\x.exe \"quoted\"\t"})"));
}

TEST(KeywordPrefilter, ShortKeywordsAreSearchedByALiteralDatabase) {
  // A one-byte literal is beyond the pair scan: the Hyperscan database answers, after the same
  // guard against other spellings.
  Prefilter p(KeywordRule("11111111-1111-1111-1111-111111111111",
                          "    - '$'\n    - 'sekurlsa::'\n"));
  ASSERT_NE(p.prefilter, nullptr);
  EXPECT_EQ(p.prefilter->literal_count(), 2u);
  EXPECT_TRUE(p.MayMatch(R"({"c":"cost $5"})"));
  EXPECT_TRUE(p.MayMatch(R"({"c":"SEKURLSA::x"})"));
  EXPECT_FALSE(p.MayMatch(R"({"c":"sekurlsa: 5"})"));
  EXPECT_TRUE(p.MayMatch(R"({"c":"\u0024"})"));
  EXPECT_TRUE(p.MayMatch("{\"c\":\"\xC3\xA9\"}"));
}

TEST(KeywordPrefilter, LiteralDatabasesAreKeptInTheCacheFolder) {
  namespace fs = std::filesystem;
  const fs::path dir =
      fs::temp_directory_path() / ("yagura-keyword-cache-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string rules = KeywordRule("11111111-1111-1111-1111-111111111111",
                                        "    - '$'\n    - 'sekurlsa::'\n");
  auto cache_files = [&] {
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(dir)) files.push_back(entry.path());
    return files;
  };
  auto inode = [](const fs::path& path) {
    struct stat info {};
    return ::stat(path.c_str(), &info) == 0 ? info.st_ino : ino_t{0};
  };
  auto answers_right = [](Prefilter& p) {
    ASSERT_NE(p.prefilter, nullptr);
    EXPECT_TRUE(p.MayMatch(R"({"c":"cost $5"})"));
    EXPECT_TRUE(p.MayMatch(R"({"c":"SEKURLSA::x"})"));
    EXPECT_FALSE(p.MayMatch(R"({"c":"sekurlsa: 5"})"));
  };

  Prefilter compiled(rules, dir.string());
  answers_right(compiled);
  ASSERT_EQ(cache_files().size(), 1u);
  const fs::path file = cache_files()[0];
  EXPECT_EQ(file.filename().string().rfind("keywords-", 0), 0u) << file;
  const auto size = fs::file_size(file);
  const auto stored = inode(file);

  // Loaded, not compiled and stored again: the file is the one written first.
  Prefilter loaded(rules, dir.string());
  answers_right(loaded);
  EXPECT_EQ(inode(file), stored);

  // A truncated file is not trusted: compiled again, and the file replaced by a whole one.
  fs::resize_file(file, size / 2);
  Prefilter recompiled(rules, dir.string());
  answers_right(recompiled);
  EXPECT_EQ(fs::file_size(file), size);
  EXPECT_NE(inode(file), stored);

  // Other literals, another database under another name.
  Prefilter other(KeywordRule("11111111-1111-1111-1111-111111111111", "    - '%'\n"), dir.string());
  ASSERT_NE(other.prefilter, nullptr);
  EXPECT_TRUE(other.MayMatch(R"({"c":"100%"})"));
  EXPECT_FALSE(other.MayMatch(R"({"c":"cost $5"})"));
  EXPECT_EQ(cache_files().size(), 2u);

  // A folder that cannot be written only costs the compile.
  Prefilter unwritable(rules, (dir / "missing" / "deeper").string());
  answers_right(unwritable);
  fs::remove_all(dir);
}

TEST(KeywordPrefilter, LiteralsAroundBackslashesAndWildcards) {
  Prefilter p(KeywordRule("11111111-1111-1111-1111-111111111111",
                          "    - 'C:\\Windows\\evil.exe'\n    - 'ab*cdefgh?ij'\n"));
  ASSERT_NE(p.prefilter, nullptr);
  // The backslash is escaped in JSON: the run after it, "evil.exe", is what must appear.
  EXPECT_TRUE(p.MayMatch(R"({"Image":"c:\\windows\\EVIL.exe"})"));
  EXPECT_TRUE(p.MayMatch(R"({"x":"zz cdefgh zz"})"));
  EXPECT_FALSE(p.MayMatch(R"({"Image":"c:\\windows\\good.exe","x":"abcdefg"})"));
}

TEST(KeywordPrefilter, NoPrefilterForKeywordsItCannotCover) {
  // A regex keyword, and a keyword that is all wildcards, have no necessary literal.
  Prefilter regex(KeywordRule("11111111-1111-1111-1111-111111111111", "    '|re': 'a.c'\n"));
  EXPECT_EQ(regex.prefilter, nullptr);
  Prefilter any(KeywordRule("11111111-1111-1111-1111-111111111111", "    - '*'\n"));
  EXPECT_EQ(any.prefilter, nullptr);
}

// Random JSON records built from fragments that do and do not hold keywords, in several cases,
// with escapes and non-ASCII text; rules mix keywords (also under `not`) with field tests.
TEST(KeywordPrefilter, MatchingWithThePrefilterEqualsThePlainEvaluator) {
  std::string text;
  text += KeywordRule("11111111-1111-1111-1111-111111111111",
                      "    - 'sekurlsa::'\n    - 'Mimikatz'\n    - '\\\\evil.exe'\n");
  text += "---\n";
  text += testing::RuleText(
      "  selection:\n    Image|endswith: '\\cmd.exe'\n  keywords:\n    - 'whoami'\n"
      "  condition: selection and not keywords\n");
  text += "---\n";
  text += KeywordRule("22222222-2222-2222-2222-222222222222",
                      "    '|all':\n      - 'net'\n      - 'user /add'\n");
  Prefilter p(text);
  ASSERT_NE(p.prefilter, nullptr);
  auto mapping = event::LogsourceMapping::LoadDefault();
  ASSERT_TRUE(mapping.has_value());
  mapping->InternFields(p.catalog);  // so that events are classified, as in a scan
  auto matcher = Matcher::Build(p.rules, p.catalog, {});
  ASSERT_TRUE(matcher.has_value());
  auto matcher_scratch = (*matcher)->NewScratch();

  const std::vector<std::string> pieces = {
      "benign",          "SEKURLSA::logonpasswords", "mimikatz",      "C:\\\\Temp\\\\evil.exe",
      "c:\\\\windows\\\\system32\\\\cmd.exe", "whoami /all", "net user /add x", "net",
      "user /add",       "sekur\\u006csa::",         "\\u00e9t\\u00e9", "caf\xC3\xA9",
      "a\\/b",           "WHOAMI",                   "\\\"quoted\\\"",  "evil.exe"};
  const std::vector<std::string> keys = {"Image", "CommandLine", "User", "Other"};
  // Most pieces are harmless, so that many records have no keyword literal at all.
  const std::vector<std::string> harmless = {"benign", "C:\\\\Program Files\\\\x.exe",
                                             "svchost.exe -k netsvcs", "\\\"q\\\"", "42"};
  std::mt19937 random(42);
  auto piece = [&] {
    return random() % 10 < 7 ? harmless[random() % harmless.size()] : pieces[random() % pieces.size()];
  };
  event::EventParser collecting(p.catalog, *mapping);
  event::EventParser prefiltered(p.catalog, *mapping);
  event::Event full_event, lean_event;
  int ruled_out = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string json = R"({"Event":{"System":{"EventID":1,"Channel":"Microsoft-Windows-Sysmon/Operational","Provider":{"#attributes":{"Name":"Microsoft-Windows-Sysmon"}}},"EventData":{)";
    const int fields = 1 + static_cast<int>(random() % 3);
    for (int f = 0; f < fields; ++f) {
      if (f > 0) json += ",";
      json += "\"" + keys[random() % keys.size()] + std::to_string(f) + "\":\"";
      json += piece() + " " + piece() + "\"";
      if (f == 0) json += ",\"Image\":\"" + piece() + "\"";
    }
    json += "}}}";
    const size_t size = json.size();
    json.append(event::RECORD_PADDING, '\0');
    event::Record record;
    record.data = std::string_view(json).substr(0, size);
    record.format = event::RecordFormat::kJson;

    ASSERT_TRUE(collecting.Parse(record, full_event).has_value()) << json;
    std::vector<uint32_t> expected;
    EvaluateAll(p.rules, full_event, UnrecognisedPolicy::kAllRules, expected);

    // As the scanner does: lean first, again with every value when the route needs them.
    prefiltered.SetCollectAllValues(false);
    ASSERT_TRUE(prefiltered.Parse(record, lean_event).has_value()) << json;
    const bool may = (*matcher)->NeedsAllValues(lean_event, record.data, *matcher_scratch);
    EXPECT_EQ(may, p.prefilter->MayMatch(record.data, p.scratch)) << json;
    if (!may) ++ruled_out;
    if (may) {
      prefiltered.SetCollectAllValues(true);
      ASSERT_TRUE(prefiltered.Parse(record, lean_event).has_value()) << json;
    }
    std::vector<uint32_t> actual;
    (*matcher)->Match(lean_event, *matcher_scratch, actual);
    ASSERT_EQ(actual, expected) << json;
  }
  // The test means something only if both answers occurred often.
  EXPECT_GT(ruled_out, 100);
  EXPECT_LT(ruled_out, 2900);
}

// Keyword rules of other products do not reach a Windows event: their short literals would
// be found in nearly every record.
TEST(KeywordPrefilter, EachRouteMeetsOnlyItsOwnKeywordRules) {
  std::string text = KeywordRule("11111111-1111-1111-1111-111111111111", "    - 'sekurlsa::'\n");
  text += "---\ntitle: Linux keywords\nid: 33333333-3333-3333-3333-333333333333\n"
          "logsource:\n  product: linux\ndetection:\n  keywords:\n    - '-d'\n"
          "  condition: keywords\n";
  event::FieldCatalog catalog;
  RuleSet rules = LoadRuleText(text, catalog);
  ASSERT_TRUE(rules.failures.empty()) << testing::Describe(rules);
  auto mapping = event::LogsourceMapping::LoadDefault();
  ASSERT_TRUE(mapping.has_value());
  mapping->InternFields(catalog);
  auto matcher = Matcher::Build(rules, catalog, {});
  ASSERT_TRUE(matcher.has_value());
  auto scratch = (*matcher)->NewScratch();
  event::EventParser parser(catalog, *mapping);
  parser.SetCollectAllValues(false);
  event::Event event;
  auto needs = [&](std::string json) {
    const size_t size = json.size();
    json.append(event::RECORD_PADDING, '\0');
    event::Record record;
    record.data = std::string_view(json).substr(0, size);
    EXPECT_TRUE(parser.Parse(record, event).has_value());
    return (*matcher)->NeedsAllValues(event, record.data, *scratch);
  };
  const std::string windows =
      R"({"Event":{"System":{"EventID":1,"Channel":"Microsoft-Windows-Sysmon/Operational"},)";
  EXPECT_FALSE(needs(windows + R"("EventData":{"CommandLine":"tar -d x"}}})"));
  EXPECT_TRUE(needs(windows + R"("EventData":{"CommandLine":"x sekurlsa::y"}}})"));
}

}  // namespace
}  // namespace yagura::sigma

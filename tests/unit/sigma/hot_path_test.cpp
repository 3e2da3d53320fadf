// Compiled predicates are safe to share across threads and evaluation is repeatable. (That
// Predicate::Test allocates nothing is asserted by matcher_test.cpp, whose counting allocator
// covers this whole test binary: Matcher::Match confirms through Predicate::Test.)
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "sigma/regex.hpp"
#include "sigma_test_util.hpp"

namespace yagura::sigma {
namespace {

const char* BUSY_RULE = R"(  sel_str:
    Image|endswith:
      - '\cmd.exe'
      - '\ПРИВЕТ.exe'
    CommandLine|contains|windash: ' -enc '
  sel_re:
    CommandLine|re|i: 'foo(?!bar)'
  sel_re2:
    CommandLine|re: '^[a-z]+ /[A-Z]+ [0-9]+$'
  sel_num:
    EventID: 4688
    Count|gt: 5
  sel_cidr:
    Ip|cidr: '10.0.0.0/8'
  sel_ref:
    A|fieldref|contains: B
  sel_null:
    Missing: null
  sel_time:
    UtcTime|hour: 23
  sel_bool:
    Signed: true
  keywords:
    - 'mimikatz'
  condition: 1 of them
)";

TEST(HotPath, RepeatedEvaluationIsStable) {
  testing::RuleFixture f(BUSY_RULE);
  ASSERT_TRUE(f.Loaded()) << f.Failures();
  auto& b = f.builder();
  b.Clear()
      .Add("Image", "C:\\Windows\\System32\\привет.EXE")
      .Add("CommandLine", "foobaz /ENC 1234")
      .Add("EventID", "4688")
      .Add("Count", "7")
      .Add("Ip", "10.2.3.4")
      .Add("A", "some text")
      .Add("B", "TEXT")
      .Add("UtcTime", "2024-01-01 23:00:00")
      .Add("Signed", "true")
      .Add("Description", "a Mimikatz build");
  // Warm up: RE2 builds its DFA lazily, PCRE2 match data is per thread.
  std::vector<std::string_view> fields;
  fields.reserve(32);
  ASSERT_TRUE(EvaluateRule(f.rule(), b.event(), &fields));
  for (const Predicate& p : f.rule().predicates) (void)p.Test(b.event());
  bool all = true;
  for (int i = 0; i < 100; ++i) {
    all = EvaluateRule(f.rule(), b.event()) && all;
    for (const Predicate& p : f.rule().predicates) (void)p.Test(b.event());
  }
  EXPECT_TRUE(all);
  // Every selection of the rule holds for this event.
  for (size_t s = 0; s < f.rule().selections.size(); ++s) {
    Rule single = f.rule();
    single.condition = Condition{Condition::Kind::kSelection, static_cast<uint32_t>(s), {}};
    EXPECT_TRUE(EvaluateRule(single, b.event())) << single.selections[s].name;
  }
}

TEST(HotPath, RegexIsSafeToShareAcrossThreads) {
  auto re2 = Regex::Compile("a[0-9]+b", {});
  auto pcre = Regex::Compile("(?<=x)a[0-9]+b", {});
  ASSERT_TRUE(re2.has_value() && pcre.has_value());
  ASSERT_FALSE((*re2)->uses_pcre());
  ASSERT_TRUE((*pcre)->uses_pcre());
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) {
        std::string hit = "zzxa" + std::to_string(i + t) + "b";
        std::string miss = "zza" + std::to_string(i) + "c";
        if (!(*re2)->Search(hit) || (*re2)->Search(miss)) ++wrong;
        if (!(*pcre)->Search(hit) || (*pcre)->Search(miss)) ++wrong;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(wrong.load(), 0);
}

TEST(HotPath, RegexFlagsAndErrors) {
  auto ci = Regex::Compile("ABC", {.ignore_case = true});
  ASSERT_TRUE(ci.has_value());
  EXPECT_TRUE((*ci)->Search("xxabcxx"));
  auto pcre_ci = Regex::Compile("(?=a)ABC", {.ignore_case = true});
  ASSERT_TRUE(pcre_ci.has_value());
  EXPECT_TRUE((*pcre_ci)->Search("xxabcxx"));
  EXPECT_TRUE(
      (*pcre_ci)->Search(std::string_view("a\xFF"
                                          "abc",
                                          5)));  // invalid UTF-8 subject
  EXPECT_FALSE((*pcre_ci)->Search(std::string_view()));
  auto bad = Regex::Compile("(unclosed", {});
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message.find("invalid regular expression"), std::string::npos);
}

}  // namespace
}  // namespace yagura::sigma

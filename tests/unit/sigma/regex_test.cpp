#include "sigma/regex.hpp"

#include <gtest/gtest.h>
#include <re2/re2.h>

#include <random>

namespace yagura::sigma {
namespace {

// `.{N,}` is decided by counting characters on ASCII text; it must agree with RE2 everywhere.
TEST(Regex, LongRunsAgreeWithRe2) {
  std::mt19937_64 rng(7);
  const char alphabet[] = "ab \n\t\r";
  for (const char* pattern : {".{1,}", ".{5,}", ".{40,}", "(?s).{5,}", "(?s).{40,}"}) {
    for (bool dotall : {false, true}) {
      auto regex = Regex::Compile(pattern, Regex::Flags{false, false, dotall});
      ASSERT_TRUE(regex);
      RE2::Options options;
      options.set_dot_nl(dotall);
      RE2 reference(pattern, options);
      ASSERT_TRUE(reference.ok());
      for (int i = 0; i < 2000; ++i) {
        std::string text(rng() % 80, 'x');
        for (char& c : text) c = alphabet[rng() % (sizeof alphabet - 1)];
        EXPECT_EQ((*regex)->Search(text), RE2::PartialMatch(text, reference))
            << pattern << " dotall=" << dotall << " on [" << text << "]";
      }
      // Non-ASCII text goes to the engine.
      std::string wide = std::string(3, 'a') + "\xc3\xa9\xc3\xa9" + std::string(2, 'b');
      EXPECT_EQ((*regex)->Search(wide), RE2::PartialMatch(wide, reference)) << pattern;
    }
  }
}

}  // namespace
}  // namespace yagura::sigma

namespace yagura::sigma {
namespace {

// A value holding none of the atoms is no match, whatever its case; one holding an atom is
// left to the engine, which alone decides case sensitivity and the rest of the pattern.
TEST(Regex, AtomsRuleOutValuesWithoutThem) {
  auto cased = Regex::Compile(R"(net\s+user\s+)", Regex::Flags{});
  ASSERT_TRUE(cased);
  ASSERT_FALSE((*cased)->atoms().empty());
  for (const std::string& atom : (*cased)->atoms()) {
    EXPECT_EQ(atom.find_first_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ"), std::string::npos) << atom;
  }
  EXPECT_FALSE((*cased)->Search("cmd.exe /c dir"));
  EXPECT_TRUE((*cased)->Search("cmd /c net  user admin"));
  EXPECT_FALSE((*cased)->Search("cmd /c NET USER admin"));  // atoms present, engine says no
  EXPECT_FALSE((*cased)->Search("net user"));               // no whitespace after user

  auto caseless = Regex::Compile(R"(net\s+user\s+)", Regex::Flags{true, false, false});
  ASSERT_TRUE(caseless);
  EXPECT_TRUE((*caseless)->Search("cmd /c NET USER admin"));
  EXPECT_FALSE((*caseless)->Search("cmd /c NET GROUP admin"));
  EXPECT_TRUE((*caseless)->Search("\xc3\xa9 net user x"));  // non-ASCII: the engine decides

  // Without atoms: every match needs no particular literal, or the atoms are too short.
  for (const char* pattern : {"[0-9]+", "a|bc", "(?i)x.{2}y", "abc|[0-9]"}) {
    auto regex = Regex::Compile(pattern, Regex::Flags{});
    ASSERT_TRUE(regex) << pattern;
    EXPECT_TRUE((*regex)->atoms().empty()) << pattern;
  }
  // Alternatives: one atom of either side is enough to ask the engine.
  auto either = Regex::Compile(R"(mimikatz|sekurlsa::\w+)", Regex::Flags{});
  ASSERT_TRUE(either);
  EXPECT_EQ((*either)->atoms().size(), 2u);
  EXPECT_TRUE((*either)->Search("run sekurlsa::logonpasswords"));
  EXPECT_TRUE((*either)->Search("mimikatz.exe"));
  EXPECT_FALSE((*either)->Search("Mimikatz.exe"));  // cased: the atom is found, RE2 says no
  EXPECT_FALSE((*either)->Search("procdump -ma lsass"));
}

// Random texts over the atoms' letters in both cases, against the engine alone.
TEST(Regex, AtomTestAgreesWithTheEngine) {
  std::mt19937_64 rng(9);
  const char alphabet[] = "netusrNETUSR \t-x";
  for (const char* pattern : {R"(net\s+user\s+)", R"((?i)net\s+user)", R"(user|ne+t)",
                              R"(^net\s)", R"(se.u?r)"}) {
    for (bool ignore_case : {false, true}) {
      auto regex = Regex::Compile(pattern, Regex::Flags{ignore_case, false, false});
      ASSERT_TRUE(regex);
      for (int i = 0; i < 3000; ++i) {
        std::string text(rng() % 24, 'x');
        for (char& c : text) c = alphabet[rng() % (sizeof alphabet - 1)];
        ASSERT_EQ((*regex)->Search(text), (*regex)->SearchWithEngine(text))
            << pattern << " ignore_case=" << ignore_case << " on [" << text << "]";
      }
    }
  }
}

}  // namespace
}  // namespace yagura::sigma

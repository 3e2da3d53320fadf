#include "sigma/wildcard.hpp"

#include <gtest/gtest.h>

#include <random>

#include "sigma/case_fold.hpp"

namespace yagura::sigma {
namespace {

using Kind = GlobToken::Kind;

TEST(SigmaEscaping, PlainTextIsOneLiteral) {
  auto glob = ParseSigmaString("cmd.exe");
  ASSERT_EQ(glob.size(), 1u);
  EXPECT_EQ(glob[0].kind, Kind::kLiteral);
  EXPECT_EQ(glob[0].text, "cmd.exe");
}

TEST(SigmaEscaping, WildcardsBecomeTokens) {
  auto glob = ParseSigmaString("*\\cmd?.exe*");
  ASSERT_EQ(glob.size(), 5u);
  EXPECT_EQ(glob[0].kind, Kind::kStar);
  EXPECT_EQ(glob[1].text, "\\cmd");
  EXPECT_EQ(glob[2].kind, Kind::kOne);
  EXPECT_EQ(glob[3].text, ".exe");
  EXPECT_EQ(glob[4].kind, Kind::kStar);
}

TEST(SigmaEscaping, BackslashEscapesOnlyStarQuestionAndBackslash) {
  EXPECT_EQ(LiteralText(ParseSigmaString("a\\*b")), "a*b");
  EXPECT_FALSE(HasWildcards(ParseSigmaString("a\\*b")));
  EXPECT_EQ(LiteralText(ParseSigmaString("a\\?b")), "a?b");
  EXPECT_EQ(LiteralText(ParseSigmaString("\\\\cmd.exe")), "\\cmd.exe");
  EXPECT_EQ(LiteralText(ParseSigmaString("\\cmd.exe")), "\\cmd.exe");  // same value
  EXPECT_EQ(LiteralText(ParseSigmaString("\\\\\\\\server")), "\\\\server");
  EXPECT_EQ(LiteralText(ParseSigmaString("C:\\Windows\\")), "C:\\Windows\\");  // trailing lone '\'
  EXPECT_EQ(LiteralText(ParseSigmaString("a\\nb")), "a\\nb");
}

TEST(SigmaEscaping, EscapedBackslashBeforeStarKeepsTheWildcard) {
  auto glob = ParseSigmaString("\\\\*");  // literal '\' then a wildcard
  ASSERT_EQ(glob.size(), 2u);
  EXPECT_EQ(glob[0].text, "\\");
  EXPECT_EQ(glob[1].kind, Kind::kStar);
  auto glob2 = ParseSigmaString("\\\\\\*");  // literal '\*'
  ASSERT_EQ(glob2.size(), 1u);
  EXPECT_EQ(glob2[0].text, "\\*");
}

TEST(SigmaEscaping, RunsOfStarsCollapse) {
  auto glob = ParseSigmaString("a**b");
  ASSERT_EQ(glob.size(), 3u);
  EXPECT_EQ(GlobToSigma(glob), "a*b");
}

TEST(GlobMatch, AnchoredAtBothEnds) {
  auto glob = ParseSigmaString("cmd.exe");
  EXPECT_TRUE(GlobMatch(glob, "cmd.exe", false));
  EXPECT_TRUE(GlobMatch(glob, "CMD.EXE", false));
  EXPECT_FALSE(GlobMatch(glob, "xcmd.exe", false));
  EXPECT_FALSE(GlobMatch(glob, "cmd.exex", false));
  EXPECT_FALSE(GlobMatch(glob, "CMD.EXE", true));
}

TEST(GlobMatch, StarAndQuestionMark) {
  // `\*` would be an escaped star: a backslash before a wildcard is written `\\*`.
  auto glob = ParseSigmaString("*\\system32\\\\*.exe");
  EXPECT_FALSE(GlobMatch(ParseSigmaString("*\\system32\\*.exe"), "C:\\system32\\cmd.exe", false));
  EXPECT_TRUE(GlobMatch(ParseSigmaString("*\\system32\\*.exe"), "C:\\system32*.exe", false));
  EXPECT_TRUE(GlobMatch(glob, "C:\\Windows\\System32\\cmd.exe", false));
  EXPECT_TRUE(GlobMatch(glob, "\\system32\\.exe", false));
  EXPECT_FALSE(GlobMatch(glob, "C:\\Windows\\System32\\cmd.dll", false));
  auto one = ParseSigmaString("a?c");
  EXPECT_TRUE(GlobMatch(one, "abc", false));
  EXPECT_FALSE(GlobMatch(one, "ac", false));
  EXPECT_FALSE(GlobMatch(one, "abbc", false));
  EXPECT_TRUE(GlobMatch(one,
                        "a\xC3\xA9"
                        "c",
                        false));  // '?' is one code point, not one byte
  EXPECT_TRUE(GlobMatch(ParseSigmaString("*"), "", false));
  EXPECT_TRUE(GlobMatch(ParseSigmaString(""), "", false));
  EXPECT_FALSE(GlobMatch(ParseSigmaString(""), "x", false));
}

TEST(GlobMatch, BacktracksAcrossSeveralStars) {
  auto glob = ParseSigmaString("*ab*abc*");
  EXPECT_TRUE(GlobMatch(glob, "xxabyyabababc", false));
  EXPECT_FALSE(GlobMatch(glob, "xxabyyababab", false));
  EXPECT_TRUE(GlobMatch(ParseSigmaString("*aab"), "aaab", false));
}

TEST(GlobMatch, EscapedStarIsLiteral) {
  auto glob = ParseSigmaString("a\\*b");
  EXPECT_TRUE(GlobMatch(glob, "a*b", false));
  EXPECT_FALSE(GlobMatch(glob, "axxb", false));
}

TEST(GlobMatch, UnicodeCaseFolding) {
  // Cyrillic, Greek, Latin-1 and Latin Extended-A capitals against small letters.
  EXPECT_TRUE(GlobMatch(ParseSigmaString("*ПРИВЕТ*"), "скажи привет мир", false));
  EXPECT_TRUE(GlobMatch(ParseSigmaString("ΣΟΦΊΑ"), "σοφία", false));
  EXPECT_TRUE(GlobMatch(ParseSigmaString("Ärger"), "äRGER", false));
  EXPECT_TRUE(GlobMatch(ParseSigmaString("ŁÓDŹ"), "łódź", false));
  EXPECT_TRUE(GlobMatch(ParseSigmaString("\xE2\x84\xAA"), "k", false));  // Kelvin sign
  EXPECT_FALSE(GlobMatch(ParseSigmaString("ПРИВЕТ"), "привет", true));
  EXPECT_FALSE(GlobMatch(ParseSigmaString("привет"), "привед", false));
}

TEST(GlobMatch, InvalidUtf8ComparesByteForByte) {
  std::string raw =
      "a\xFF\xFE"
      "b";
  auto glob = ParseSigmaString(raw);
  EXPECT_TRUE(GlobMatch(glob, raw, false));
  EXPECT_FALSE(GlobMatch(glob,
                         "a\xFF\xFD"
                         "b",
                         false));
}

TEST(CaseFold, Comparisons) {
  EXPECT_TRUE(EqualsFolded("HeLLo", "hello"));
  EXPECT_FALSE(EqualsFolded("hello", "hell"));
  EXPECT_TRUE(StartsWithFolded("PowerShell.exe", "powershell"));
  EXPECT_TRUE(EndsWithFolded("C:\\TEMP\\x.EXE", ".exe"));
  EXPECT_TRUE(ContainsFolded("abcÄÖÜdef", "äöü"));
  EXPECT_FALSE(ContainsFolded("abc", "abcd"));
  EXPECT_EQ(FoldCodePoint(0x0410), 0x0430u);  // А -> а
  EXPECT_EQ(FoldCodePoint(0x0401), 0x0451u);  // Ё -> ё
  EXPECT_EQ(FoldCodePoint(0x03A3), 0x03C3u);  // Σ -> σ
  EXPECT_EQ(FoldCodePoint(0x03C2), 0x03C3u);  // ς -> σ
  EXPECT_EQ(FoldCodePoint(0x0178), 0x00FFu);  // Ÿ -> ÿ
  EXPECT_EQ(FoldCodePoint('1'), static_cast<uint32_t>('1'));
}

TEST(GlobToRegex, EscapesAndAnchors) {
  EXPECT_EQ(GlobToRegex(ParseSigmaString("cmd.exe")), "\\Acmd\\.exe\\z");
  EXPECT_EQ(GlobToRegex(ParseSigmaString("*cmd.exe")), "cmd\\.exe\\z");
  EXPECT_EQ(GlobToRegex(ParseSigmaString("cmd*")), "\\Acmd");
  EXPECT_EQ(GlobToRegex(ParseSigmaString("*a*b*")), "a.*b");
  EXPECT_EQ(GlobToRegex(ParseSigmaString("a?b")),
            "\\Aa(?:[\\x00-\\x7f\\xc0-\\xff][\\x80-\\xbf]*)b\\z");
  EXPECT_EQ(GlobToRegex(ParseSigmaString("\\\\x y")), "\\A\\\\x\\x20y\\z");
  EXPECT_EQ(GlobToRegex(ParseSigmaString("*")), ".*");
  EXPECT_EQ(GlobToRegex(ParseSigmaString("é")), "\\A\\xc3\\xa9\\z");
}

}  // namespace
}  // namespace yagura::sigma

namespace yagura::sigma {
namespace {

// The `*literal*` fast path against the general matcher: random ASCII values (long ones
// included, so the 32-byte steps and the last, overlapping one run), literals cut from them or
// made up, in mixed case. The alphabet has bytes that differ only in bit 5 without being
// letters (`@` and `` ` ``, `[` and `{`, NUL and space), which the candidate search confuses.
TEST(GlobMatch, ContainsFastPathAgreesWithTheGeneralMatcher) {
  std::mt19937_64 rng(11);
  const char alphabet[] = "aAbB-:\\/. \n@`[{";
  auto text = [&](size_t n) {
    std::string s(n, 'x');
    for (char& c : s) c = alphabet[rng() % (sizeof alphabet - 1)];
    return s;
  };
  for (int i = 0; i < 20000; ++i) {
    std::string value = text(rng() % 160);
    std::string literal = value.size() > 4 && rng() % 2
                              ? value.substr(rng() % (value.size() - 3), 1 + rng() % 8)
                              : text(1 + rng() % 8);
    for (char& c : literal) {
      if (rng() % 2 && c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
      else if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 32);
    }
    std::vector<GlobToken> glob = {{GlobToken::Kind::kStar, {}},
                                   {GlobToken::Kind::kLiteral, literal},
                                   {GlobToken::Kind::kStar, {}}};
    for (bool cased : {false, true}) {
      ASSERT_EQ(GlobMatch(glob, value, cased), GlobMatchGeneral(glob, value, cased))
          << "[" << literal << "] in [" << value << "] cased=" << cased;
    }
  }
}

// A pattern with a code point no ASCII character folds to cannot match ASCII text, which
// GlobMatch answers without walking it; one that folds to ASCII (KELVIN SIGN, LONG S) still
// can. Random ASCII values and patterns mixing those code points with ASCII, against the
// general matcher.
TEST(GlobMatch, NonAsciiPatternsOnAsciiValuesAgreeWithTheGeneralMatcher) {
  std::mt19937_64 rng(12);
  const std::vector<std::string> pieces = {"a", "K", "k", "s", "S", "-", " ", "\u2013",
                                           "\u212a", "\u017f", "\u00e9", "*", "?", "\xff"};
  const char alphabet[] = "aksKS- e";
  for (int i = 0; i < 20000; ++i) {
    std::string value(rng() % 40, 'x');
    for (char& c : value) c = alphabet[rng() % (sizeof alphabet - 1)];
    std::vector<GlobToken> glob;
    const size_t parts = 1 + rng() % 5;
    for (size_t k = 0; k < parts; ++k) {
      const std::string& piece = pieces[rng() % pieces.size()];
      if (piece == "*") AppendStar(glob);
      else if (piece == "?") AppendOne(glob);
      else AppendLiteral(glob, piece);
    }
    for (bool cased : {false, true}) {
      ASSERT_EQ(GlobMatch(glob, value, cased), GlobMatchGeneral(glob, value, cased))
          << "[" << GlobToSigma(glob) << "] on [" << value << "] cased=" << cased;
    }
  }
  // The rejection itself: an en dash is needed, and ASCII text has none.
  EXPECT_FALSE(GlobMatch(ParseSigmaString("*\u2013s*"), "dir -s c:\\", false));
  EXPECT_TRUE(GlobMatch(ParseSigmaString("*\u2013s*"), "dir \u2013s c:\\", false));
  EXPECT_TRUE(GlobMatch(ParseSigmaString("*\u212aey*"), "a key", false));
}

}  // namespace
}  // namespace yagura::sigma

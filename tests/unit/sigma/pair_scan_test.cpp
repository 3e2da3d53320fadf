// PairScan: the pairs it chooses, when it declines, its guard, and a differential test against
// a plain search over random texts with planted literals in every case and position.
#include "sigma/pair_scan.hpp"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "event/record.hpp"
#include "sigma/case_fold.hpp"

namespace yagura::sigma {
namespace {

// `text` followed by the padding PairScan may read; both ways of scanning must agree.
bool Scan(const PairScan& scan, const std::string& text,
          PairScan::Guard guard = PairScan::Guard::kNone) {
  std::string padded = text;
  padded.append(event::RECORD_PADDING, '\0');
  const std::string_view view = std::string_view(padded).substr(0, text.size());
  const bool narrow = scan.ScanAvx2(view, guard);
  if (PairScan::HasAvx512()) {
    EXPECT_EQ(scan.ScanAvx512(view, guard), narrow) << text;
  }
  EXPECT_EQ(scan.Scan(view, guard), narrow) << text;
  return narrow;
}

std::string Lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; });
  return text;
}

bool PlainSearch(const std::vector<PairScan::Literal>& literals, const std::string& text) {
  for (const auto& literal : literals) {
    if (literal.cased ? text.find(literal.text) != std::string::npos
                      : Lower(text).find(Lower(literal.text)) != std::string::npos)
      return true;
  }
  return false;
}

// The JSON guard read byte by byte: a byte outside ASCII, or a backslash that starts an
// escape (an odd run of them) followed by `u` or `/`.
bool UnsafeJson(const std::string& text) {
  for (size_t i = 0; i < text.size(); ++i) {
    if (static_cast<unsigned char>(text[i]) >= 0x80) return true;
    if (text[i] != '\\') continue;
    size_t run = 0;
    while (run <= i && text[i - run] == '\\') ++run;
    if (run % 2 == 1 && i + 1 < text.size() && (text[i + 1] == 'u' || text[i + 1] == '/'))
      return true;
  }
  return false;
}

const std::vector<PairScan::Literal> MIMIKATZ = {
    {"dpapi::masterkey"}, {"eo.oe.kiwi"},       {"event::clear"},      {"event::drop"},
    {"gentilkiwi.com"},   {"kerberos::golden"}, {"kerberos::ptt"},     {"kiwi legit printer"},
    {"lsadump::"},        {"mimidrv.sys"},      {"mimilib.dll"},       {"misc::skeleton"},
    {"privilege::debug"}, {"sekurlsa::"},
};

TEST(PairScan, FewRareGramsCoverToolStrings) {
  auto scan = PairScan::Build(MIMIKATZ);
  ASSERT_NE(scan, nullptr);
  const auto grams = scan->grams();
  EXPECT_LE(grams.size(), 3u);
  EXPECT_NE(std::find(grams.begin(), grams.end(), "::"), grams.end());
  // None of them occurs in an ordinary Sysmon event, which therefore meets no comparison
  // (with pairs only, "im" stood for "mimidrv.sys" and was in every event's "SystemTime").
  const std::string event = Lower(
      R"({"Event":{"System":{"Provider":{"Name":"Microsoft-Windows-Sysmon"},"EventID":1,)"
      R"("TimeCreated":{"SystemTime":"2024-05-01T10:00:00.123Z"},"Computer":"ws01.corp.example"},)"
      R"("EventData":{"Image":"C:\Windows\System32\cmd.exe","CommandLine":"cmd.exe /c dir",)"
      R"("ParentImage":"C:\Windows\explorer.exe","User":"CORP\admin","IntegrityLevel":"Medium",)"
      R"("Hashes":"SHA256=0123456789abcdef","Company":"Microsoft Corporation"}}})");
  for (const std::string& gram : grams) {
    std::string folded = event;
    for (char& c : folded) c = static_cast<char>(c | 0x20);
    EXPECT_EQ(folded.find(gram), std::string::npos) << gram;
  }
}

TEST(PairScan, TriplesAreFoundAtTheEndOfABlock) {
  // A gram of three bytes starting at the last position of a 32- or 64-byte block has its
  // third byte in the next block.
  auto scan = PairScan::Build({{"mimidrv.sys"}, {"mimilib.dll"}});
  ASSERT_NE(scan, nullptr);
  for (size_t at = 0; at < 140; ++at) {
    std::string text(at, 'x');
    text += "MimiLib.DLL";
    text += std::string(3, 'y');
    EXPECT_TRUE(Scan(*scan, text)) << at;
    std::string near_miss(at, 'x');
    near_miss += "mimiLab.dll";
    EXPECT_FALSE(Scan(*scan, near_miss)) << at;
  }
}

TEST(PairScan, DeclinesShortNonAsciiOrTooManyLiterals) {
  EXPECT_EQ(PairScan::Build({{"a"}}), nullptr);
  EXPECT_EQ(PairScan::Build({{"caf\xc3\xa9"}}), nullptr);
  std::vector<PairScan::Literal> disjoint;
  for (const char* text : {"ab", "cd", "ef", "gh", "ij", "kl", "mn", "op"}) disjoint.push_back({text});
  EXPECT_EQ(PairScan::Build(disjoint), nullptr);
  // No literals: only the guard.
  auto guard = PairScan::Build({});
  ASSERT_NE(guard, nullptr);
  EXPECT_FALSE(Scan(*guard, "{\"a\": \"plain text\"}", PairScan::Guard::kJson));
  EXPECT_TRUE(Scan(*guard, "{\"a\": \"caf\xc3\xa9\"}", PairScan::Guard::kJson));
}

TEST(PairScan, FindsLiteralsAtEveryPositionAndCase) {
  auto scan = PairScan::Build(MIMIKATZ);
  ASSERT_NE(scan, nullptr);
  for (size_t length : {0, 1, 31, 32, 33, 63, 64, 65, 200}) {
    std::string filler(length, 'x');
    EXPECT_FALSE(Scan(*scan, filler)) << length;
    for (size_t at = 0; at <= length; at += (length > 40 ? 7 : 1)) {
      std::string text = filler;
      text.insert(at, "SekurLSA::");
      EXPECT_TRUE(Scan(*scan, text)) << text;
      text = filler;
      text.insert(at, "sekurlsa:");  // one byte short
      EXPECT_FALSE(Scan(*scan, text)) << text;
    }
  }
  // A pair at the very end of the text, its second byte beyond it: no match.
  EXPECT_FALSE(Scan(*scan, "xxxxsekurlsa:"));
  EXPECT_TRUE(Scan(*scan, "xxxxsekurlsa::"));
  // The pair after a byte none of its literals has there (IPv6 in a DNS answer), at the start
  // of the text, and after each byte one of them has.
  EXPECT_FALSE(Scan(*scan, "type:  5 edge.example.net;::ffff:13.107.4.50;"));
  EXPECT_FALSE(Scan(*scan, "::ffff:13.107.4.50"));
  for (const char* text : {"LSADUMP::sam", "Privilege::Debug", "misc::SKELETON", "(dpapi::masterkey)"})
    EXPECT_TRUE(Scan(*scan, text)) << text;
  auto starting = PairScan::Build({{"::1"}, {"x::y"}});
  ASSERT_NE(starting, nullptr);
  EXPECT_TRUE(Scan(*starting, "::1"));
  EXPECT_TRUE(Scan(*starting, "a;::1"));
  EXPECT_TRUE(Scan(*starting, "X::Y"));
}

TEST(PairScan, CasedLiteralsMatchOnlyTheirCase) {
  auto scan = PairScan::Build({{"Kiwi Legit", true}});
  ASSERT_NE(scan, nullptr);
  EXPECT_TRUE(Scan(*scan, "a Kiwi Legit printer"));
  EXPECT_FALSE(Scan(*scan, "a kiwi legit printer"));
}

TEST(PairScan, GuardFindsEscapesThatMaySpellOtherBytes) {
  auto scan = PairScan::Build(MIMIKATZ);
  ASSERT_NE(scan, nullptr);
  EXPECT_TRUE(Scan(*scan, R"({"a": "sekurlsa\u003a\u003a"})", PairScan::Guard::kJson));
  EXPECT_FALSE(Scan(*scan, R"({"a": "sekurlsa\u003a\u003a"})", PairScan::Guard::kNone));
  EXPECT_TRUE(Scan(*scan, R"({"a": "x\/y"})", PairScan::Guard::kJson));
  EXPECT_FALSE(Scan(*scan, R"({"a": "C:\\users\\x"})", PairScan::Guard::kJson));   // escaped backslashes
  EXPECT_TRUE(Scan(*scan, R"({"a": "C:\\\u0041"})", PairScan::Guard::kJson));      // \\ then \u
  EXPECT_FALSE(Scan(*scan, R"({"a": "C:\\\\u0041"})", PairScan::Guard::kJson));    // \\\\ then u: no escape
}

// Values as they are (no JSON): a backslash is a character, and of the bytes outside ASCII
// only the letters that fold to ASCII (U+0130, U+017F, U+212A) give up.
TEST(PairScan, FoldingGuardGivesUpOnlyOnLettersThatFoldToAscii) {
  auto scan = PairScan::Build(MIMIKATZ);
  ASSERT_NE(scan, nullptr);
  const auto guard = PairScan::Guard::kFoldsToAscii;
  EXPECT_FALSE(Scan(*scan, R"(C:\users\public\u.exe)", guard));
  EXPECT_FALSE(Scan(*scan, "x\\/y", guard));
  EXPECT_FALSE(Scan(*scan, "Microsoft\xc2\xae Windows\xc2\xae \xe2\x84\xa2 caf\xc3\xa9 \xe2\x80\x94", guard));
  EXPECT_TRUE(Scan(*scan, "\xc5\xbf" "ekurlsa", guard));      // U+017F
  EXPECT_TRUE(Scan(*scan, "\xe2\x84\xaa" "erberos", guard));  // U+212A
  EXPECT_TRUE(Scan(*scan, "m\xc4\xb0m\xc4\xb0katz", guard));   // U+0130
  EXPECT_FALSE(Scan(*scan, "\xc5\xbe \xe2\x84\xab", guard));  // U+017E, U+212B fold elsewhere
  EXPECT_TRUE(Scan(*scan, std::string("a\0sekurlsa::\0b", 14), guard));
  for (size_t at = 0; at + 1 < 150; ++at) {  // every position of both step widths
    std::string text(150, 'x');
    text[at] = '\xc3';
    text[at + 1] = '\xa9';
    EXPECT_FALSE(Scan(*scan, text, guard)) << at;
    text[at] = '\xc5';
    text[at + 1] = '\xbf';
    EXPECT_TRUE(Scan(*scan, text, guard)) << at;
  }
}

// Every code point the folding table maps to ASCII sets the guard off, and no other.
TEST(PairScan, FoldingGuardAgreesWithTheFoldingTable) {
  auto guard = PairScan::Build({});
  ASSERT_NE(guard, nullptr);
  size_t folding = 0;
  for (uint32_t cp = 0x80; cp < 0x20000; ++cp) {
    if (cp >= 0xD800 && cp <= 0xDFFF) continue;
    std::string text = "ab";
    AppendUtf8(text, cp);
    text += "cd";
    const bool folds = FoldCodePoint(cp) < 0x80;
    folding += folds;
    ASSERT_EQ(Scan(*guard, text, PairScan::Guard::kFoldsToAscii), folds) << std::hex << cp;
  }
  EXPECT_EQ(folding, 3u);  // U+0130, U+017F, U+212A
}

// The guard on random texts, against a byte-by-byte reading of the same rule.
TEST(PairScan, GuardAgreesWithAPlainReadingOnRandomTexts) {
  auto guard = PairScan::Build({});
  ASSERT_NE(guard, nullptr);
  std::mt19937 random(99);
  const std::vector<std::string> pieces = {"a", "b", "\\", "u", "/", "\\\\", "\xC3\xA9", " ", "\"", ":"};
  size_t unsafe = 0;
  for (int round = 0; round < 5000; ++round) {
    std::string text;
    const size_t length = random() % 200;
    while (text.size() < length) {
      const size_t piece = random() % 100;
      text += piece < 80 ? pieces[piece % 2] : pieces[piece % pieces.size()];
    }
    const bool expected = UnsafeJson(text);
    unsafe += expected;
    ASSERT_EQ(Scan(*guard, text, PairScan::Guard::kJson), expected) << text;
  }
  EXPECT_GT(unsafe, 500u);
  EXPECT_LT(unsafe, 4500u);
}

// JSON text with literals, escapes and bytes outside ASCII, for literal sets of several shapes
// (each a different build of the JSON pass, or none): the answer is a plain search's, or the
// plain reading of the guard's.
TEST(PairScan, JsonPassesAgreeWithAPlainReading) {
  const std::vector<std::vector<PairScan::Literal>> sets = {
      MIMIKATZ,                                      // a pair and two triples
      {{"::"}, {"x::y"}, {"q-z"}},                   // pairs
      {{"mimidrv.sys"}, {"gentilkiwi.com"}},         // triples
      {},                                            // the guard alone
      {{"jq"}, {"zx"}, {"kv"}, {"qj"}, {"xz"}},      // more pairs than a built pass has
  };
  std::set<std::pair<size_t, size_t>> shapes;  // (pairs, triples)
  std::mt19937 random(4321);
  const std::vector<std::string> pieces = {"a", "b", " ", "\"", ":", "\\", "u", "/", "\\\\",
                                           "\xC3\xA9", "Q", "z"};
  for (const auto& literals : sets) {
    auto scan = PairScan::Build(literals);
    ASSERT_NE(scan, nullptr);
    size_t pairs = 0;
    for (const std::string& gram : scan->grams()) pairs += gram.size() == 2;
    shapes.insert({pairs, scan->grams().size() - pairs});
    size_t found = 0, rounds = 4000;
    for (size_t round = 0; round < rounds; ++round) {
      std::string text;
      const size_t length = random() % 300;
      while (text.size() < length) {
        const size_t piece = random() % 1000;
        text += piece < 990 ? pieces[piece % 3] : pieces[piece % pieces.size()];
      }
      if (!literals.empty() && random() % 2 == 0) {
        std::string literal = literals[random() % literals.size()].text;
        if (random() % 3 == 0) literal.pop_back();
        text.insert(random() % (text.size() + 1), literal);
      }
      const bool expected = PlainSearch(literals, text) || UnsafeJson(text);
      found += expected;
      ASSERT_EQ(Scan(*scan, text, PairScan::Guard::kJson), expected) << text;
    }
    // Both answers, for the literals and for the guard alone.
    EXPECT_GT(found, rounds / 10) << scan->grams().size();
    EXPECT_LT(found, rounds * 9 / 10) << scan->grams().size();
  }
  EXPECT_EQ(shapes.size(), sets.size());
}

// Every pass reads at most RECORD_PADDING bytes past the text: here they end where an
// unreadable page begins, for texts of every length around the steps of 32 and 64 bytes.
TEST(PairScan, PassesReadNoFurtherThanThePadding) {
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  void* mapped = mmap(nullptr, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(mapped, MAP_FAILED);
  char* const guard_page = static_cast<char*>(mapped) + page;
  ASSERT_EQ(mprotect(guard_page, page, PROT_NONE), 0);
  std::vector<std::unique_ptr<PairScan>> scans;
  scans.push_back(PairScan::Build(MIMIKATZ));  // a pair and two triples: a built JSON pass
  scans.push_back(PairScan::Build({}));
  scans.push_back(PairScan::Build({{"jq"}, {"zx"}, {"kv"}, {"qj"}, {"xz"}}));
  for (const auto& scan : scans) {
    ASSERT_NE(scan, nullptr);
    for (size_t length = 0; length <= 200; ++length) {
      char* const text = guard_page - event::RECORD_PADDING - length;
      std::memset(text, 'x', length);
      std::memset(text + length, 0, event::RECORD_PADDING);
      const std::string_view view(text, length);
      for (auto guard : {PairScan::Guard::kNone, PairScan::Guard::kJson,
                         PairScan::Guard::kFoldsToAscii}) {
        EXPECT_FALSE(scan->ScanAvx2(view, guard)) << length;
        if (PairScan::HasAvx512()) {
          EXPECT_FALSE(scan->ScanAvx512(view, guard)) << length;
        }
        EXPECT_FALSE(scan->Scan(view, guard)) << length;
      }
    }
  }
  munmap(mapped, 2 * page);
}

TEST(PairScan, AgreesWithPlainSearchOnRandomTexts) {
  std::mt19937 random(1234);
  const std::string alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 :.,-_/{}\"";
  const std::vector<std::vector<PairScan::Literal>> sets = {
      MIMIKATZ,
      {{"ab"}, {"ba"}, {"a:b", true}},
      {{"::"}, {"x::y"}, {"q-z"}},
  };
  for (const auto& literals : sets) {
    auto scan = PairScan::Build(literals);
    ASSERT_NE(scan, nullptr);
    size_t positives = 0;
    for (int round = 0; round < 3000; ++round) {
      std::string text(random() % 300, ' ');
      for (char& c : text) c = alphabet[random() % alphabet.size()];
      if (random() % 2 == 0) {
        std::string literal = literals[random() % literals.size()].text;
        if (random() % 2 == 0) literal = Lower(literal);
        if (random() % 3 == 0) literal.pop_back();
        text.insert(random() % (text.size() + 1), literal);
      }
      const bool expected = PlainSearch(literals, text);
      positives += expected;
      ASSERT_EQ(Scan(*scan, text), expected) << text;
    }
    EXPECT_GT(positives, 500u);  // the test exercises both answers
  }
}

}  // namespace
}  // namespace yagura::sigma

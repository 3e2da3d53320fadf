// Folding and the literal indexes of the matcher against obvious reference implementations.
#include "sigma/literal_index.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <type_traits>

#include "sigma/case_fold.hpp"

namespace yagura::sigma {
namespace {

// Code point by code point, as GlobMatch compares: the definition FoldText must meet.
std::string ReferenceFold(std::string_view text) {
  std::string out;
  for (size_t at = 0; at < text.size();) {
    uint32_t cp = DecodeUtf8(text, &at);
    AppendUtf8(out, cp >= INVALID_BYTE_BASE ? 0xFFFD : FoldCodePoint(cp));
  }
  return out;
}

std::string RandomText(std::mt19937_64& rng, size_t max_length) {
  static const char* const PIECES[] = {"a", "Z", "q", "\\", " ", "0", "É", "é", "ß", "ẞ", "Ж",
                                       "\xE2\x84\xAA", "\xC5\xBF", "İ", "\xFF", "\x80", "\xC3",
                                       "😀", "ABCDEFGHIJKLMNOPQRSTUVWXYZ@[`{"};
  std::string s;
  size_t length = rng() % (max_length + 1);
  while (s.size() < length) s += PIECES[rng() % std::size(PIECES)];
  return s;
}

TEST(LiteralIndex, FoldTextAgreesWithCodePointFolding) {
  std::mt19937_64 rng(7);
  std::string folded;
  for (int i = 0; i < 20000; ++i) {
    // Mostly ASCII with a late non-ASCII byte exercises the vector loop and its fallback.
    std::string text = i % 3 == 0 ? std::string(rng() % 80, 'M') + RandomText(rng, 10)
                                  : RandomText(rng, 120);
    FoldText(text, folded);
    ASSERT_EQ(folded, ReferenceFold(text)) << text;
  }
  folded = "prefix:";
  AppendFolded("ABC\xE2\x84\xAA", folded);
  EXPECT_EQ(folded, "prefix:abck");
}

// Every ASCII byte at every offset of texts short and long, so each byte goes through the
// 32-byte, the 8-byte and the byte-by-byte steps of AppendFolded.
TEST(LiteralIndex, FoldTextFoldsEveryAsciiByteAtEveryOffset) {
  std::string folded;
  for (size_t length = 1; length <= 72; ++length) {
    for (size_t at = 0; at < length; ++at) {
      for (int byte = 0; byte < 0x80; ++byte) {
        std::string text(length, 'Q');
        text[at] = static_cast<char>(byte);
        FoldText(text, folded);
        ASSERT_EQ(folded, ReferenceFold(text)) << "byte " << byte << " at " << at << " of " << length;
      }
    }
  }
}

TEST(LiteralIndex, FoldableLiterals) {
  EXPECT_TRUE(FoldableLiteral("C:\\Windows\\ÄÖÜ"));
  EXPECT_TRUE(FoldableLiteral(""));
  EXPECT_FALSE(FoldableLiteral("a\xFF"));
  EXPECT_FALSE(FoldableLiteral("\xEF\xBF\xBD"));  // U+FFFD stands for invalid bytes in values
}

TEST(LiteralIndex, TriesFindEveryPrefixAndSuffix) {
  std::mt19937_64 rng(11);
  std::vector<std::string> keys = {"", "a", "ab", "abc", "b", "\\cmd.exe", ".exe", "x.exe",
                                   "é", "éa"};
  for (int i = 0; i < 200; ++i) keys.push_back(RandomText(rng, 6));
  // Long runs no literal ends in or branches from, which the walk compares at once: texts
  // that leave them at every byte, or end inside them, must still find what they hold.
  for (const char* path :
       {"c:\\windows\\system32\\", "c:\\windows\\system32\\cmd.exe",
        "c:\\windows\\system32\\windowspowershell\\v1.0\\powershell.exe",
        "c:\\windows\\syswow64\\rundll32.exe", "c:\\program files\\", "\\appdata\\local\\temp\\"}) {
    keys.push_back(path);
  }
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  LiteralTrie prefixes(LiteralTrie::Direction::kForward);
  LiteralTrie suffixes(LiteralTrie::Direction::kBackward);
  ExactIndex exact;
  for (uint32_t k = 0; k < keys.size(); ++k) {
    prefixes.Add(keys[k], k);
    suffixes.Add(keys[k], k);
    exact.Add(keys[k], k);
  }
  prefixes.Finish();
  suffixes.Finish();
  for (int i = 0; i < 20000; ++i) {
    std::string text = RandomText(rng, 12);
    if (i % 2) text = keys[rng() % keys.size()] + text;
    if (i % 3 == 0) text += keys[rng() % keys.size()];
    if (i % 5 == 0) {
      // A key cut short, or changed in one byte, on either end of the text.
      std::string key = keys[rng() % keys.size()];
      if (!key.empty()) {
        if (rng() % 2) {
          key.resize(rng() % key.size());
        } else {
          key[rng() % key.size()] = static_cast<char>('a' + rng() % 26);
        }
      }
      text = i % 2 ? key + text : text + key;
    }
    std::vector<uint32_t> got_prefix, got_suffix, want_prefix, want_suffix;
    prefixes.ForEachMatch(text, [&](uint32_t k) { got_prefix.push_back(k); });
    suffixes.ForEachMatch(text, [&](uint32_t k) { got_suffix.push_back(k); });
    for (uint32_t k = 0; k < keys.size(); ++k) {
      std::string_view t = text, key = keys[k];
      if (t.substr(0, key.size()) == key) want_prefix.push_back(k);
      if (t.size() >= key.size() && t.substr(t.size() - key.size()) == key) want_suffix.push_back(k);
    }
    std::sort(got_prefix.begin(), got_prefix.end());
    std::sort(got_suffix.begin(), got_suffix.end());
    ASSERT_EQ(got_prefix, want_prefix) << text;
    ASSERT_EQ(got_suffix, want_suffix) << text;
    uint32_t want_exact = ExactIndex::NONE;
    for (uint32_t k = 0; k < keys.size(); ++k)
      if (keys[k] == text) want_exact = k;
    ASSERT_EQ(exact.Find(text), want_exact) << text;
  }
}

// What `index` reports in `text` (each literal once, sorted) and what it should: the literals
// `text` contains.
struct Found {
  std::vector<uint32_t> got, want;
};
template <typename Index>
Found FindIn(const Index& index, const std::vector<std::string>& literals,
             const std::string& text) {
  Found found;
  if constexpr (std::is_same_v<Index, ContainsIndex>) {
    index.ForEachMatch(text, [&](uint32_t k, bool candidate) {
      found.got.push_back(k);
      EXPECT_EQ(candidate, k % 3 == 1) << k;
    });
  } else {
    index.ForEachMatch(text, [&](uint32_t k) { found.got.push_back(k); });
  }
  std::sort(found.got.begin(), found.got.end());
  found.got.erase(std::unique(found.got.begin(), found.got.end()), found.got.end());
  for (uint32_t k = 0; k < literals.size(); ++k)
    if (text.find(literals[k]) != std::string::npos) found.want.push_back(k);
  return found;
}

// Inserts up to two of `literals` at random places of `text`: whole, or, one time in
// `changes`, one byte short, and one time in `changes` (when `flip` is not zero) with one
// byte's bits `flip` changed.
void PlantLiterals(std::string& text, const std::vector<std::string>& literals,
                   std::mt19937_64& rng, size_t changes, unsigned char flip) {
  for (int planted = rng() % 3; planted > 0; --planted) {
    std::string literal = literals[rng() % literals.size()];
    const size_t change = rng() % changes;
    if (change == 0) literal.pop_back();
    if (change == 1 && flip != 0) literal[rng() % literal.size()] ^= static_cast<char>(flip);
    text.insert(rng() % (text.size() + 1), literal);
  }
}

// Hash-indicator shapes: hex text against hex literals with shared prefixes ("md5=", and
// literals of exactly the key length), found at every position, ends included; by the scalar
// filter and, where the processor has it, by the vector one.
void CheckInfixIndex(bool vector_filter) {
  std::mt19937_64 rng(17);
  auto hex = [&](size_t length) {
    std::string out;
    for (size_t i = 0; i < length; ++i) out.push_back("0123456789abcdef"[rng() % 16]);
    return out;
  };
  std::vector<std::string> literals = {"md5=0123456789abcdef", "0123456789abcdef", "89abcdef",
                                       "sha1=" + hex(40), "imphash=" + hex(32)};
  for (int i = 0; i < 300; ++i) literals.push_back((i % 2 ? "md5=" : "sha256=") + hex(i % 3 ? 32 : 8));
  // Literals sharing their last eight bytes.
  literals.push_back("x" + literals[3].substr(literals[3].size() - 12));
  literals.push_back("yy" + literals[3].substr(literals[3].size() - 9));
  InfixIndex index;
  for (uint32_t k = 0; k < literals.size(); ++k) index.Add(literals[k], k);
  index.Finish();
  index.set_vector_filter(vector_filter);
  size_t found = 0;
  for (int round = 0; round < 4000; ++round) {
    // Up to a few hundred bytes: texts end at every offset of a 64-position block.
    std::string text = hex(rng() % (round % 2 ? 120 : 300));
    PlantLiterals(text, literals, rng, 4, 0);
    if (rng() % 5 == 0) text = literals[rng() % literals.size()];  // the whole text
    const Found both = FindIn(index, literals, text);
    ASSERT_EQ(both.got, both.want) << text;
    found += both.want.size();
  }
  EXPECT_GT(found, 2000u);
  InfixIndex empty;
  empty.Finish();
  empty.set_vector_filter(vector_filter);
  empty.ForEachMatch("md5=0123456789abcdef", [](uint32_t) { FAIL(); });
}

TEST(LiteralIndex, InfixIndexOfHashListsLooksAfterEachEqualsSign) {
  // `algorithm=hex` literals, as SigmaHQ's `Hashes` lists are: keyed after their first `=`.
  // Texts are Sysmon-like lists with more `=` than the literals need, some near the end of
  // the text, and literals planted whole, cut short, or with a byte changed before or after
  // their key.
  std::mt19937_64 rng(23);
  auto hex = [&](size_t length) {
    std::string out;
    for (size_t i = 0; i < length; ++i) out.push_back("0123456789abcdef"[rng() % 16]);
    return out;
  };
  std::vector<std::string> literals = {"md5=0123456789abcdef", "=0123456789abcdef",
                                       "a=b=0123456789", "imphash=" + hex(32)};
  for (int i = 0; i < 200; ++i)
    literals.push_back((i % 3 == 0 ? "sha1=" : i % 3 == 1 ? "md5=" : "sha256=") + hex(i % 4 ? 32 : 8));
  // The same key after different algorithm names.
  literals.push_back("sha1=" + literals[3].substr(8));
  InfixIndex index;
  for (uint32_t k = 0; k < literals.size(); ++k) index.Add(literals[k], k);
  index.Finish();
  EXPECT_TRUE(index.anchored());
  size_t found = 0;
  for (int round = 0; round < 4000; ++round) {
    std::string text;
    for (int item = rng() % 5; item > 0; --item) {
      if (!text.empty()) text += ",";
      text += (rng() % 2 ? "sha256=" : "md5=") + hex(rng() % 40);
    }
    PlantLiterals(text, literals, rng, 6, 1);
    if (rng() % 7 == 0) text += "=" + hex(rng() % 10);  // an `=` too near the end for a key
    if (rng() % 9 == 0) text = literals[rng() % literals.size()];
    const Found both = FindIn(index, literals, text);
    ASSERT_EQ(both.got, both.want) << text;
    found += both.want.size();
  }
  EXPECT_GT(found, 1500u);

  // One literal without room after its `=` keys them all by their last bytes, as before.
  InfixIndex mixed;
  mixed.Add("md5=0123456789abcdef", 0);
  mixed.Add("sha1=0123", 1);
  mixed.Finish();
  EXPECT_FALSE(mixed.anchored());
  std::vector<uint32_t> got;
  mixed.ForEachMatch("x,sha1=0123,md5=0123456789abcdef", [&](uint32_t k) { got.push_back(k); });
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, (std::vector<uint32_t>{0, 1}));
}

TEST(LiteralIndex, InfixIndexFindsEveryContainedLiteral) {
  CheckInfixIndex(false);
  if (!InfixIndex::HasVectorFilter()) {
    GTEST_SKIP() << "this processor has no AVX-512 VBMI: the vector filter was not tested";
  }
  CheckInfixIndex(true);
}

// Command-line shapes: literals of 2 to 90 bytes over a small alphabet, so that they share
// runs of four bytes and contain one another; the same literal under two patterns; bytes of
// UTF-8 beyond ASCII. Texts of every length up to a few hundred bytes (ends of 16- and
// 64-position blocks included) with literals planted whole, cut short or changed by a byte.
void CheckContainsIndex(bool vector_filter) {
  std::mt19937_64 rng(29);
  const std::string alphabet = "abc -/\\.e\xc3\xa9";
  auto random_text = [&](size_t length) {
    std::string out;
    for (size_t i = 0; i < length; ++i) out.push_back(alphabet[rng() % alphabet.size()]);
    return out;
  };
  std::vector<std::string> literals = {"ab", "abc", "bca", "a b", " -e", "\\a\\", "cccc",
                                       "cccccccc", "-e c", std::string(70, 'a') + "b",
                                       random_text(90), random_text(300)};
  for (int i = 0; i < 600; ++i) {
    const size_t length = 2 + (i % 5 == 0 ? rng() % 80 : rng() % 10);
    literals.push_back(random_text(length));
  }
  literals.push_back(literals[5]);  // the same literal, another pattern
  ContainsIndex index;
  for (uint32_t k = 0; k < literals.size(); ++k) index.Add(literals[k], k, k % 3 == 1);
  index.Finish();
  index.set_vector_filter(vector_filter);
  EXPECT_EQ(index.size(), literals.size());
  size_t found = 0;
  for (int round = 0; round < 4000; ++round) {
    std::string text = random_text(rng() % (round % 2 ? 70 : 300));
    PlantLiterals(text, literals, rng, 5, 0x40);
    if (rng() % 7 == 0) text = literals[rng() % literals.size()];  // the whole text
    const Found both = FindIn(index, literals, text);
    ASSERT_EQ(both.got, both.want) << text;
    found += both.want.size();
  }
  EXPECT_GT(found, 20000u);

  // Only short literals, only long ones, none.
  for (const std::vector<std::string>& only :
       {std::vector<std::string>{"ab", "ba", "abc"}, std::vector<std::string>{"abcd", "bcda"},
        std::vector<std::string>{}}) {
    ContainsIndex some;
    for (uint32_t k = 0; k < only.size(); ++k) some.Add(only[k], k, k % 3 == 1);
    some.Finish();
    some.set_vector_filter(vector_filter);
    for (const std::string text : {"", "a", "ab", "abcda", "xxabcdaxxbaxx"}) {
      const Found both = FindIn(some, only, text);
      ASSERT_EQ(both.got, both.want) << text;
    }
  }
}

TEST(LiteralIndex, ContainsIndexFindsEveryContainedLiteral) {
  CheckContainsIndex(false);
  if (!ContainsIndex::HasVectorFilter()) {
    GTEST_SKIP() << "this processor has no AVX-512 VBMI: the vector filter was not tested";
  }
  CheckContainsIndex(true);
}

}  // namespace
}  // namespace yagura::sigma

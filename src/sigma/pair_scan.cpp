// PairScan (pair_scan.hpp): choosing the grams, and the AVX2 and AVX-512 passes.
#include "sigma/pair_scan.hpp"

#include <immintrin.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <map>
#include <set>

#include "sigma/case_fold.hpp"

namespace yagura::sigma {
namespace {

constexpr uint8_t FOLD = 0x20;

// How unusual a byte (with bit 5 set) is in event text, 1 to 3.
int Rarity(uint8_t byte) {
  if (byte >= 'a' && byte <= 'z') {
    if (std::strchr("etaoinshrdlcu", byte) != nullptr) return 1;
    if (std::strchr("kjxqz", byte) != nullptr) return 3;
    return 2;
  }
  if (byte >= '0' && byte <= '9') return 1;
  // Separators of paths, addresses, JSON and prose; '_' is 0x7f once folded.
  if (std::strchr(" ,:.-/{}", byte) != nullptr || byte == 0x7f) return 1;
  return 3;
}

// A rough share of text positions where `gram` occurs: the product of its bytes' shares, by
// rarity. Only the comparison of grams matters.
double Frequency(const uint8_t* gram, size_t length) {
  static constexpr double SHARE[4] = {0, 1.0 / 12, 1.0 / 40, 1.0 / 150};
  double frequency = 1;
  for (size_t i = 0; i < length; ++i) frequency *= SHARE[Rarity(gram[i])];
  // A doubled separator ("::") is rare even where the separator alone is everywhere.
  const uint8_t first = gram[0];
  const bool alnum = (first >= 'a' && first <= 'z') || (first >= '0' && first <= '9');
  if (length == 2 && gram[1] == first && !alnum && first != ' ' && first != '.' &&
      first != '-' && first != '/')
    frequency /= 20;
  return frequency;
}

// What one more gram costs the pass (two or three compares every 32 or 64 positions), as a
// share of positions that would need a full comparison for the same time.
constexpr double GRAM_COST = 3e-4;

uint8_t Folded(char c) { return static_cast<uint8_t>(static_cast<uint8_t>(c) | FOLD); }

// Whether the backslash at `at` starts an escape: the run of backslashes ending there is odd.
bool StartsEscape(const char* data, size_t at) {
  size_t run = 0;
  while (run <= at && data[at - run] == '\\') ++run;
  return run % 2 == 1;
}

bool EqualsFoldedAscii(const char* a, const char* b, size_t size) {
  for (size_t i = 0; i < size; ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// The first bytes of the UTF-8 of every code point that case folding (case_fold.hpp) maps to
// ASCII (three today: 0xC4 for U+0130, 0xC5 for U+017F, 0xE2 for U+212A), read from the
// folding table once. When there would be more than fit, every byte outside ASCII counts
// (`count` 0).
struct FoldingLeads {
  static constexpr size_t MAX = 4;
  uint8_t bytes[MAX] = {};
  size_t count = 0;
};

const FoldingLeads& Leads() {
  static const FoldingLeads leads = [] {
    std::set<uint8_t> found;
    // The table folds nothing beyond the Basic Multilingual Plane; the next plane is read too,
    // so that a table grown there is still seen.
    for (uint32_t cp = 0x80; cp < 0x20000; ++cp) {
      if (cp >= 0xD800 && cp <= 0xDFFF) continue;
      if (FoldCodePoint(cp) >= 0x80) continue;
      found.insert(static_cast<uint8_t>(cp < 0x800 ? 0xC0 | (cp >> 6)
                                        : cp < 0x10000 ? 0xE0 | (cp >> 12)
                                                       : 0xF0 | (cp >> 18)));
    }
    FoldingLeads result;
    if (found.size() > FoldingLeads::MAX) return result;
    for (uint8_t byte : found) result.bytes[result.count++] = byte;
    return result;
  }();
  return leads;
}

}  // namespace

std::unique_ptr<PairScan> PairScan::Build(const std::vector<Literal>& literals) {
  for (const Literal& literal : literals) {
    if (literal.text.size() < 2) return nullptr;
    for (char c : literal.text)
      if (static_cast<uint8_t>(c) >= 0x80) return nullptr;
  }
  std::unique_ptr<PairScan> scan(new PairScan());
  scan->literals_ = literals;
  using Key = std::array<uint8_t, 3>;  // a gram's bytes, the third 0 for a pair
  auto key_at = [&](const std::string& text, size_t i, size_t length) {
    Key key{Folded(text[i]), Folded(text[i + 1]), 0};
    if (length == 3) key[2] = Folded(text[i + 2]);
    return key;
  };
  // Greedy cover: the gram that covers the most literals for what it costs (the positions it
  // sends to a full comparison, and its compares).
  std::vector<bool> covered(literals.size(), false);
  size_t remaining = literals.size();
  while (remaining > 0) {
    std::map<Key, int> counts;
    for (size_t l = 0; l < literals.size(); ++l) {
      if (covered[l]) continue;
      const std::string& text = literals[l].text;
      std::set<Key> seen;  // each literal counts a gram once
      for (size_t length = 2; length <= 3; ++length)
        for (size_t i = 0; i + length <= text.size(); ++i)
          if (seen.insert(key_at(text, i, length)).second) ++counts[key_at(text, i, length)];
    }
    Key best{};
    double best_value = -1;
    for (const auto& [key, count] : counts) {
      const double value = count / (Frequency(key.data(), key[2] == 0 ? 2 : 3) + GRAM_COST);
      if (value > best_value) {
        best_value = value;
        best = key;
      }
    }
    if (scan->grams_.size() == MAX_GRAMS) return nullptr;
    Gram gram;
    gram.length = best[2] == 0 ? 2 : 3;
    std::copy(best.begin(), best.end(), gram.bytes);
    for (size_t l = 0; l < literals.size(); ++l) {
      if (covered[l]) continue;
      const std::string& text = literals[l].text;
      for (size_t i = 0; i + gram.length <= text.size(); ++i) {
        if (key_at(text, i, gram.length) != best) continue;
        gram.candidates.push_back({static_cast<uint32_t>(l), static_cast<uint32_t>(i)});
        if (i == 0) {
          gram.starts_literal = true;
        } else {
          const uint8_t before = Folded(text[i - 1]);
          gram.before[before >> 6] |= uint64_t{1} << (before & 63);
        }
        covered[l] = true;
        --remaining;
        break;
      }
    }
    scan->grams_.push_back(std::move(gram));
  }
  // Pairs first: the passes compare them without a third byte.
  const auto triples = std::stable_partition(scan->grams_.begin(), scan->grams_.end(),
                                             [](const Gram& gram) { return gram.length == 2; });
  scan->pair_count_ = static_cast<size_t>(triples - scan->grams_.begin());
  scan->json_pass_ = JsonPassFor(scan->pair_count_, scan->grams_.size() - scan->pair_count_);
  return scan;
}

std::vector<std::string> PairScan::grams() const {
  std::vector<std::string> out;
  for (const Gram& gram : grams_)
    out.emplace_back(reinterpret_cast<const char*>(gram.bytes), gram.length);
  return out;
}

bool PairScan::Verify(std::string_view text, size_t at, const Gram& gram) const {
  for (const Candidate& candidate : gram.candidates) {
    if (at < candidate.offset) continue;
    const size_t start = at - candidate.offset;
    const Literal& literal = literals_[candidate.literal];
    if (start + literal.text.size() > text.size()) continue;
    const char* bytes = text.data() + start;
    if (literal.cased ? std::memcmp(bytes, literal.text.data(), literal.text.size()) == 0
                      : EqualsFoldedAscii(bytes, literal.text.data(), literal.text.size()))
      return true;
  }
  return false;
}

bool PairScan::Scan(std::string_view text, Guard guard) const {
  // AVX-512 where the processor has it (64 bytes a step, with masks for what it finds);
  // decided once per process.
  static const bool wide = HasAvx512();
  if (!wide) return ScanAvx2(text, guard);
  if (guard == Guard::kJson && json_pass_ != nullptr) return (this->*json_pass_)(text);
  return ScanAvx512(text, guard);
}

bool PairScan::HasAvx512() { return __builtin_cpu_supports("avx512bw"); }

bool PairScan::Candidates(std::string_view text, size_t at, uint64_t candidates) const {
  const char* data = text.data();
  while (candidates != 0) {
    const size_t position = at + static_cast<size_t>(__builtin_ctzll(candidates));
    candidates &= candidates - 1;
    if (position + 1 >= text.size()) continue;
    const uint8_t first = Folded(data[position]);
    const uint8_t second = Folded(data[position + 1]);
    const uint8_t third = position + 2 < text.size() ? Folded(data[position + 2]) : 0;
    for (const Gram& gram : grams_) {
      if (gram.bytes[0] == first && gram.bytes[1] == second &&
          (gram.length == 2 || gram.bytes[2] == third) && gram.MayFollow(data, position) &&
          Verify(text, position, gram))
        return true;
    }
  }
  return false;
}

bool PairScan::Escapes(std::string_view text, size_t at, uint64_t candidates) {
  while (candidates != 0) {
    const size_t position = at + static_cast<size_t>(__builtin_ctzll(candidates));
    if (position + 1 < text.size() && StartsEscape(text.data(), position)) return true;
    candidates &= candidates - 1;
  }
  return false;
}

bool PairScan::FoldsToAscii(std::string_view text, size_t at, uint64_t candidates) {
  if (Leads().count == 0) return candidates != 0;
  while (candidates != 0) {
    size_t position = at + static_cast<size_t>(__builtin_ctzll(candidates));
    if (position < text.size() && FoldCodePoint(DecodeUtf8(text, &position)) < 0x80) return true;
    candidates &= candidates - 1;
  }
  return false;
}

// Both passes compare each position and the two bytes after it with every gram at once, ASCII
// case folded: a byte of (text XOR gram) is zero where they agree, so the OR of a gram's two
// or three differences is zero where it occurs, and the minimum over the grams is zero where
// any does (pairs, first, without a third). What needs a closer look (a gram, an escape, a
// byte outside ASCII) is gathered into one mask, so that a step that holds none of it, nearly
// every step, costs one test. (Compares into masks, one per gram and byte, took about half as
// long again on AVX-512.)
bool PairScan::ScanAvx512(std::string_view text, Guard guard) const {
  return ScanAvx512Blocks(text, guard, 0, text.size());
}

__attribute__((target("avx512f,avx512bw"))) bool PairScan::ScanAvx512Blocks(
    std::string_view text, Guard guard, size_t from, size_t to) const {
  const char* data = text.data();
  const size_t size = text.size();
  const __m512i fold = _mm512_set1_epi8(static_cast<char>(FOLD));
  const __m512i backslash = _mm512_set1_epi8('\\');
  const __m512i u = _mm512_set1_epi8('u');
  const __m512i slash = _mm512_set1_epi8('/');
  const __m512i zero = _mm512_setzero_si512();
  __m512i firsts[MAX_GRAMS];
  __m512i seconds[MAX_GRAMS];
  __m512i thirds[MAX_GRAMS];
  const size_t gram_count = grams_.size();
  for (size_t k = 0; k < gram_count; ++k) {
    firsts[k] = _mm512_set1_epi8(static_cast<char>(grams_[k].bytes[0]));
    seconds[k] = _mm512_set1_epi8(static_cast<char>(grams_[k].bytes[1]));
    thirds[k] = _mm512_set1_epi8(static_cast<char>(grams_[k].bytes[2]));
  }
  const FoldingLeads& leads = Leads();
  __m512i lead_bytes[FoldingLeads::MAX];
  for (size_t k = 0; k < leads.count; ++k) lead_bytes[k] = _mm512_set1_epi8(static_cast<char>(leads.bytes[k]));
  for (size_t at = from; at < to && at < size; at += 64) {
    const size_t left = size - at;
    const __m512i block = _mm512_loadu_si512(data + at);
    const __m512i next = _mm512_loadu_si512(data + at + 1);
    // The padding covers 64 bytes past the end: at the last position, the last byte is left out.
    const __m512i after = left >= 2 ? _mm512_loadu_si512(data + at + 2)
                                    : _mm512_maskz_loadu_epi8(~uint64_t{0} >> 1, data + at + 2);
    const uint64_t valid = left >= 64 ? ~uint64_t{0} : (uint64_t{1} << left) - 1;
    if (guard == Guard::kFoldsToAscii) {
      uint64_t starts = leads.count == 0 ? _mm512_movepi8_mask(block) : 0;
      for (size_t k = 0; k < leads.count; ++k) starts |= _mm512_cmpeq_epi8_mask(block, lead_bytes[k]);
      if ((starts & valid) != 0 && FoldsToAscii(text, at, starts & valid)) return true;
    }
    const __m512i folded = _mm512_or_si512(block, fold);
    const __m512i folded_next = _mm512_or_si512(next, fold);
    const __m512i folded_after = _mm512_or_si512(after, fold);
    __m512i nearest = _mm512_set1_epi8(-1);
    for (size_t k = 0; k < pair_count_; ++k) {
      const __m512i difference = _mm512_or_si512(_mm512_xor_si512(folded, firsts[k]),
                                                 _mm512_xor_si512(folded_next, seconds[k]));
      nearest = _mm512_min_epu8(nearest, difference);
    }
    for (size_t k = pair_count_; k < gram_count; ++k) {
      // 0xFE: a | b | c.
      const __m512i difference = _mm512_ternarylogic_epi32(
          _mm512_xor_si512(folded, firsts[k]), _mm512_xor_si512(folded_next, seconds[k]),
          _mm512_xor_si512(folded_after, thirds[k]), 0xFE);
      nearest = _mm512_min_epu8(nearest, difference);
    }
    const uint64_t hits = _mm512_cmpeq_epi8_mask(nearest, zero);
    uint64_t escapes = 0, outside = 0;
    if (guard == Guard::kJson) {
      outside = _mm512_movepi8_mask(block);
      escapes = _mm512_mask_cmpeq_epi8_mask(
          _mm512_cmpeq_epi8_mask(next, u) | _mm512_cmpeq_epi8_mask(next, slash), block, backslash);
    }
    if (((hits | escapes | outside) & valid) == 0) continue;
    if ((outside & valid) != 0) return true;
    if ((escapes & valid) != 0 && Escapes(text, at, escapes & valid)) return true;
    if ((hits & valid) != 0 && Candidates(text, at, hits & valid)) return true;
  }
  return false;
}

// One step of the JSON pass folds every reason to look closer into one vector whose byte is
// zero where there is one: (a XOR b) OR c, one vpternlog (truth table 0xBE), chains the
// differences of a gram's bytes; a backslash followed by `u` or `/` is such a gram on the
// bytes as they are; a byte outside ASCII is zero in (NOT byte) AND 0x80. About 20 operations
// a step for SigmaHQ's three grams, against about 30 and the gram loops' loads and branches in
// ScanAvx512Blocks, which looks at the few steps that have something again.
template <size_t PAIRS, size_t TRIPLES>
__attribute__((target("avx512f,avx512bw"))) bool PairScan::ScanJsonAvx512(
    std::string_view text) const {
  constexpr int OR_OF_XOR = 0xBE;  // (a ^ b) | c
  constexpr size_t GRAMS = PAIRS + TRIPLES;
  __m512i firsts[GRAMS + 1];  // +1: no zero-length arrays
  __m512i seconds[GRAMS + 1];
  __m512i thirds[GRAMS + 1];
  for (size_t k = 0; k < GRAMS; ++k) {
    firsts[k] = _mm512_set1_epi8(static_cast<char>(grams_[k].bytes[0]));
    seconds[k] = _mm512_set1_epi8(static_cast<char>(grams_[k].bytes[1]));
    thirds[k] = _mm512_set1_epi8(static_cast<char>(grams_[k].bytes[2]));
  }
  const __m512i fold = _mm512_set1_epi8(static_cast<char>(FOLD));
  const __m512i backslash = _mm512_set1_epi8('\\');
  const __m512i u = _mm512_set1_epi8('u');
  const __m512i slash = _mm512_set1_epi8('/');
  const __m512i high = _mm512_set1_epi8(static_cast<char>(0x80));
  const char* data = text.data();
  const size_t size = text.size();
  for (size_t at = 0; at < size; at += 64) {
    const size_t left = size - at;
    const __m512i block = _mm512_loadu_si512(data + at);
    const __m512i next = _mm512_loadu_si512(data + at + 1);
    __m512i nearest = _mm512_ternarylogic_epi32(
        block, backslash, _mm512_min_epu8(_mm512_xor_si512(next, u), _mm512_xor_si512(next, slash)),
        OR_OF_XOR);
    nearest = _mm512_min_epu8(nearest, _mm512_andnot_si512(block, high));
    const __m512i folded = _mm512_or_si512(block, fold);
    const __m512i folded_next = _mm512_or_si512(next, fold);
    for (size_t k = 0; k < PAIRS; ++k) {
      nearest = _mm512_min_epu8(
          nearest, _mm512_ternarylogic_epi32(folded, firsts[k],
                                             _mm512_xor_si512(folded_next, seconds[k]), OR_OF_XOR));
    }
    if constexpr (TRIPLES > 0) {
      // The padding covers 64 bytes past the end: at the last position, the last byte is left out.
      const __m512i after = left >= 2 ? _mm512_loadu_si512(data + at + 2)
                                      : _mm512_maskz_loadu_epi8(~uint64_t{0} >> 1, data + at + 2);
      const __m512i folded_after = _mm512_or_si512(after, fold);
      for (size_t k = PAIRS; k < GRAMS; ++k) {
        const __m512i later = _mm512_ternarylogic_epi32(
            folded_next, seconds[k], _mm512_xor_si512(folded_after, thirds[k]), OR_OF_XOR);
        nearest = _mm512_min_epu8(nearest,
                                  _mm512_ternarylogic_epi32(folded, firsts[k], later, OR_OF_XOR));
      }
    }
    uint64_t flagged = _mm512_testn_epi8_mask(nearest, nearest);
    if (left < 64) flagged &= (uint64_t{1} << left) - 1;
    if (flagged != 0 && ScanAvx512Blocks(text, Guard::kJson, at, at + 64)) return true;
  }
  return false;
}

PairScan::JsonPass PairScan::JsonPassFor(size_t pairs, size_t triples) {
  // Passes are built for up to three of each (SigmaHQ's keywords need one pair and two
  // triples); more grams take the general pass.
  constexpr size_t MAX_FIXED = 3;
  if (!HasAvx512() || pairs > MAX_FIXED || triples > MAX_FIXED) return nullptr;
  static constexpr JsonPass PASSES[MAX_FIXED + 1][MAX_FIXED + 1] = {
      {&PairScan::ScanJsonAvx512<0, 0>, &PairScan::ScanJsonAvx512<0, 1>,
       &PairScan::ScanJsonAvx512<0, 2>, &PairScan::ScanJsonAvx512<0, 3>},
      {&PairScan::ScanJsonAvx512<1, 0>, &PairScan::ScanJsonAvx512<1, 1>,
       &PairScan::ScanJsonAvx512<1, 2>, &PairScan::ScanJsonAvx512<1, 3>},
      {&PairScan::ScanJsonAvx512<2, 0>, &PairScan::ScanJsonAvx512<2, 1>,
       &PairScan::ScanJsonAvx512<2, 2>, &PairScan::ScanJsonAvx512<2, 3>},
      {&PairScan::ScanJsonAvx512<3, 0>, &PairScan::ScanJsonAvx512<3, 1>,
       &PairScan::ScanJsonAvx512<3, 2>, &PairScan::ScanJsonAvx512<3, 3>},
  };
  return PASSES[pairs][triples];
}

bool PairScan::ScanAvx2(std::string_view text, Guard guard) const {
  const char* data = text.data();
  const size_t size = text.size();
  const __m256i fold = _mm256_set1_epi8(static_cast<char>(FOLD));
  const __m256i backslash = _mm256_set1_epi8('\\');
  const __m256i u = _mm256_set1_epi8('u');
  const __m256i slash = _mm256_set1_epi8('/');
  const __m256i zero = _mm256_setzero_si256();
  __m256i firsts[MAX_GRAMS];
  __m256i seconds[MAX_GRAMS];
  __m256i thirds[MAX_GRAMS];
  const size_t gram_count = grams_.size();
  for (size_t k = 0; k < gram_count; ++k) {
    firsts[k] = _mm256_set1_epi8(static_cast<char>(grams_[k].bytes[0]));
    seconds[k] = _mm256_set1_epi8(static_cast<char>(grams_[k].bytes[1]));
    thirds[k] = _mm256_set1_epi8(static_cast<char>(grams_[k].bytes[2]));
  }
  const FoldingLeads& leads = Leads();
  __m256i lead_bytes[FoldingLeads::MAX];
  for (size_t k = 0; k < leads.count; ++k) lead_bytes[k] = _mm256_set1_epi8(static_cast<char>(leads.bytes[k]));
  for (size_t at = 0; at < size; at += 32) {
    const __m256i block = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(data + at));
    const __m256i next = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(data + at + 1));
    const __m256i after = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(data + at + 2));
    // Positions inside the text (a gram there also needs the bytes after it: Candidates()).
    const size_t left = size - at;
    const uint32_t valid = left >= 32 ? ~uint32_t{0} : (uint32_t{1} << left) - 1;
    if (guard == Guard::kFoldsToAscii) {
      __m256i starts = leads.count == 0 ? block : _mm256_setzero_si256();
      for (size_t k = 0; k < leads.count; ++k)
        starts = _mm256_or_si256(starts, _mm256_cmpeq_epi8(block, lead_bytes[k]));
      const uint32_t mask = static_cast<uint32_t>(_mm256_movemask_epi8(starts)) & valid;
      if (mask != 0 && FoldsToAscii(text, at, mask)) return true;
    }
    const __m256i folded = _mm256_or_si256(block, fold);
    const __m256i folded_next = _mm256_or_si256(next, fold);
    const __m256i folded_after = _mm256_or_si256(after, fold);
    __m256i nearest = _mm256_set1_epi8(-1);
    for (size_t k = 0; k < pair_count_; ++k) {
      const __m256i difference = _mm256_or_si256(_mm256_xor_si256(folded, firsts[k]),
                                                 _mm256_xor_si256(folded_next, seconds[k]));
      nearest = _mm256_min_epu8(nearest, difference);
    }
    for (size_t k = pair_count_; k < gram_count; ++k) {
      const __m256i difference =
          _mm256_or_si256(_mm256_or_si256(_mm256_xor_si256(folded, firsts[k]),
                                          _mm256_xor_si256(folded_next, seconds[k])),
                          _mm256_xor_si256(folded_after, thirds[k]));
      nearest = _mm256_min_epu8(nearest, difference);
    }
    const __m256i hits = _mm256_cmpeq_epi8(nearest, zero);
    // Top bits: a gram, or (JSON) an escape or a byte outside ASCII.
    __m256i flagged = hits;
    __m256i escapes = zero;
    if (guard == Guard::kJson) {
      escapes = _mm256_and_si256(
          _mm256_cmpeq_epi8(block, backslash),
          _mm256_or_si256(_mm256_cmpeq_epi8(next, u), _mm256_cmpeq_epi8(next, slash)));
      flagged = _mm256_or_si256(flagged, _mm256_or_si256(escapes, block));
    }
    if ((static_cast<uint32_t>(_mm256_movemask_epi8(flagged)) & valid) == 0) continue;
    if (guard == Guard::kJson) {
      if ((static_cast<uint32_t>(_mm256_movemask_epi8(block)) & valid) != 0) return true;
      const uint32_t escaped = static_cast<uint32_t>(_mm256_movemask_epi8(escapes)) & valid;
      if (escaped != 0 && Escapes(text, at, escaped)) return true;
    }
    const uint32_t candidates = static_cast<uint32_t>(_mm256_movemask_epi8(hits)) & valid;
    if (candidates != 0 && Candidates(text, at, candidates)) return true;
  }
  return false;
}

}  // namespace yagura::sigma

// PairScan (pair_scan.hpp): choosing the pairs, and the AVX2 and AVX-512 passes.
#include "sigma/pair_scan.hpp"

#include <immintrin.h>

#include <cstring>
#include <map>
#include <set>

#include "sigma/case_fold.hpp"

namespace yagura::sigma {
namespace {

constexpr uint8_t FOLD = 0x20;

// How unusual a byte (with bit 5 set) is in event text, 1 to 3. Only the order matters: it
// steers the choice of pairs towards those that occur rarely, so that few positions need a
// full comparison.
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

int PairScore(uint8_t first, uint8_t second) {
  int score = Rarity(first) + Rarity(second);
  // A doubled separator ("::") is rare even where the separator alone is everywhere.
  const bool alnum = (first >= 'a' && first <= 'z') || (first >= '0' && first <= '9');
  if (first == second && !alnum && first != ' ' && first != '.' && first != '-' && first != '/')
    score += 3;
  return score;
}

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
  // Greedy cover: the pair with the best rarity, counting the literals it would cover.
  std::vector<bool> covered(literals.size(), false);
  size_t remaining = literals.size();
  while (remaining > 0) {
    std::map<std::pair<uint8_t, uint8_t>, int> counts;
    for (size_t l = 0; l < literals.size(); ++l) {
      if (covered[l]) continue;
      const std::string& text = literals[l].text;
      std::set<std::pair<uint8_t, uint8_t>> seen;  // each literal counts a pair once
      for (size_t i = 0; i + 1 < text.size(); ++i) {
        auto key = std::make_pair(Folded(text[i]), Folded(text[i + 1]));
        if (seen.insert(key).second) ++counts[key];
      }
    }
    std::pair<uint8_t, uint8_t> best{};
    int best_score = -1;
    for (const auto& [key, count] : counts) {
      const int score = PairScore(key.first, key.second) + 2 * (count - 1);
      if (score > best_score) {
        best_score = score;
        best = key;
      }
    }
    if (scan->pairs_.size() == MAX_PAIRS) return nullptr;
    Pair pair;
    pair.first = best.first;
    pair.second = best.second;
    for (size_t l = 0; l < literals.size(); ++l) {
      if (covered[l]) continue;
      const std::string& text = literals[l].text;
      for (size_t i = 0; i + 1 < text.size(); ++i) {
        if (Folded(text[i]) == best.first && Folded(text[i + 1]) == best.second) {
          pair.candidates.push_back({static_cast<uint32_t>(l), static_cast<uint32_t>(i)});
          if (i == 0) {
            pair.starts_literal = true;
          } else {
            const uint8_t before = Folded(text[i - 1]);
            pair.before[before >> 6] |= uint64_t{1} << (before & 63);
          }
          covered[l] = true;
          --remaining;
          break;
        }
      }
    }
    scan->pairs_.push_back(std::move(pair));
  }
  return scan;
}

std::vector<std::string> PairScan::pairs() const {
  std::vector<std::string> out;
  for (const Pair& pair : pairs_)
    out.push_back(std::string{static_cast<char>(pair.first), static_cast<char>(pair.second)});
  return out;
}

bool PairScan::Verify(std::string_view text, size_t at, const Pair& pair) const {
  for (const Candidate& candidate : pair.candidates) {
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
  // AVX-512 where the processor has it (64 bytes a step, compares straight into masks);
  // decided once per process.
  static const bool wide = HasAvx512();
  return wide ? ScanAvx512(text, guard) : ScanAvx2(text, guard);
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
    for (const Pair& pair : pairs_) {
      if (pair.first == first && pair.second == second && pair.MayFollow(data, position) &&
          Verify(text, position, pair))
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

__attribute__((target("avx512f,avx512bw"))) bool PairScan::ScanAvx512(std::string_view text,
                                                                      Guard guard) const {
  const char* data = text.data();
  const size_t size = text.size();
  const __m512i fold = _mm512_set1_epi8(static_cast<char>(FOLD));
  const __m512i backslash = _mm512_set1_epi8('\\');
  const __m512i u = _mm512_set1_epi8('u');
  const __m512i slash = _mm512_set1_epi8('/');
  __m512i firsts[MAX_PAIRS];
  __m512i seconds[MAX_PAIRS];
  const size_t pair_count = pairs_.size();
  for (size_t k = 0; k < pair_count; ++k) {
    firsts[k] = _mm512_set1_epi8(static_cast<char>(pairs_[k].first));
    seconds[k] = _mm512_set1_epi8(static_cast<char>(pairs_[k].second));
  }
  const FoldingLeads& leads = Leads();
  __m512i lead_bytes[FoldingLeads::MAX];
  for (size_t k = 0; k < leads.count; ++k) lead_bytes[k] = _mm512_set1_epi8(static_cast<char>(leads.bytes[k]));
  for (size_t at = 0; at < size; at += 64) {
    const __m512i block = _mm512_loadu_si512(data + at);
    const __m512i next = _mm512_loadu_si512(data + at + 1);
    const size_t left = size - at;
    const uint64_t valid = left >= 64 ? ~uint64_t{0} : (uint64_t{1} << left) - 1;
    if (guard == Guard::kFoldsToAscii) {
      uint64_t starts = leads.count == 0 ? _mm512_movepi8_mask(block) : 0;
      for (size_t k = 0; k < leads.count; ++k) starts |= _mm512_cmpeq_epi8_mask(block, lead_bytes[k]);
      if ((starts & valid) != 0 && FoldsToAscii(text, at, starts & valid)) return true;
    }
    if (guard == Guard::kJson && (_mm512_movepi8_mask(block) & valid) != 0) return true;
    if (guard == Guard::kJson) {
      const uint64_t escapes = _mm512_cmpeq_epi8_mask(block, backslash) &
                               (_mm512_cmpeq_epi8_mask(next, u) | _mm512_cmpeq_epi8_mask(next, slash));
      if ((escapes & valid) != 0 && Escapes(text, at, escapes & valid)) return true;
    }
    if (pair_count == 0) continue;
    const __m512i folded = _mm512_or_si512(block, fold);
    const __m512i folded_next = _mm512_or_si512(next, fold);
    uint64_t hits = 0;
    for (size_t k = 0; k < pair_count; ++k)
      hits |= _mm512_cmpeq_epi8_mask(folded, firsts[k]) & _mm512_cmpeq_epi8_mask(folded_next, seconds[k]);
    if ((hits & valid) != 0 && Candidates(text, at, hits & valid)) return true;
  }
  return false;
}

bool PairScan::ScanAvx2(std::string_view text, Guard guard) const {
  const char* data = text.data();
  const size_t size = text.size();
  const __m256i fold = _mm256_set1_epi8(static_cast<char>(FOLD));
  const __m256i backslash = _mm256_set1_epi8('\\');
  const __m256i u = _mm256_set1_epi8('u');
  const __m256i slash = _mm256_set1_epi8('/');
  __m256i firsts[MAX_PAIRS];
  __m256i seconds[MAX_PAIRS];
  const size_t pair_count = pairs_.size();
  for (size_t k = 0; k < pair_count; ++k) {
    firsts[k] = _mm256_set1_epi8(static_cast<char>(pairs_[k].first));
    seconds[k] = _mm256_set1_epi8(static_cast<char>(pairs_[k].second));
  }
  const FoldingLeads& leads = Leads();
  __m256i lead_bytes[FoldingLeads::MAX];
  for (size_t k = 0; k < leads.count; ++k) lead_bytes[k] = _mm256_set1_epi8(static_cast<char>(leads.bytes[k]));
  for (size_t at = 0; at < size; at += 32) {
    const __m256i block = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(data + at));
    const __m256i next = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(data + at + 1));
    // Positions inside the text (a pair there also needs the byte after it: Candidates()).
    const size_t left = size - at;
    const uint32_t valid = left >= 32 ? ~uint32_t{0} : (uint32_t{1} << left) - 1;
    if (guard == Guard::kFoldsToAscii) {
      __m256i starts = leads.count == 0 ? block : _mm256_setzero_si256();
      for (size_t k = 0; k < leads.count; ++k)
        starts = _mm256_or_si256(starts, _mm256_cmpeq_epi8(block, lead_bytes[k]));
      const uint32_t mask = static_cast<uint32_t>(_mm256_movemask_epi8(starts)) & valid;
      if (mask != 0 && FoldsToAscii(text, at, mask)) return true;
    }
    if (guard == Guard::kJson &&
        (static_cast<uint32_t>(_mm256_movemask_epi8(block)) & valid) != 0) {
      return true;
    }
    if (guard == Guard::kJson) {
      const uint32_t escapes = static_cast<uint32_t>(_mm256_movemask_epi8(_mm256_and_si256(
          _mm256_cmpeq_epi8(block, backslash),
          _mm256_or_si256(_mm256_cmpeq_epi8(next, u), _mm256_cmpeq_epi8(next, slash)))));
      if ((escapes & valid) != 0 && Escapes(text, at, escapes & valid)) return true;
    }
    if (pair_count == 0) continue;
    const __m256i folded = _mm256_or_si256(block, fold);
    const __m256i folded_next = _mm256_or_si256(next, fold);
    __m256i hits = _mm256_setzero_si256();
    for (size_t k = 0; k < pair_count; ++k) {
      hits = _mm256_or_si256(hits, _mm256_and_si256(_mm256_cmpeq_epi8(folded, firsts[k]),
                                                    _mm256_cmpeq_epi8(folded_next, seconds[k])));
    }
    const uint32_t candidates = static_cast<uint32_t>(_mm256_movemask_epi8(hits)) & valid;
    if (candidates != 0 && Candidates(text, at, candidates)) return true;
  }
  return false;
}

}  // namespace yagura::sigma

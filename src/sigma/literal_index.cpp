#include "sigma/literal_index.hpp"

#include <algorithm>
#include <cstring>
#include <map>
#include <unordered_map>

#ifdef __AVX2__
#include <immintrin.h>
#endif

// Inlined: hashes of short keys and values on the hot path, where a call into the shared
// library cost more than the hashing.
#define XXH_INLINE_ALL
#include <xxhash.h>

#include "sigma/case_fold.hpp"

namespace yagura::sigma {

namespace {

constexpr uint32_t REPLACEMENT_CHAR = 0xFFFD;

inline char AsciiLower(char c) {
  auto u = static_cast<unsigned char>(c);
  return static_cast<char>(u + (static_cast<unsigned char>(u - 'A') < 26u ? 32 : 0));
}

// Folds bytes [at, end) that are not ASCII-only; returns nothing, appends to out.
void AppendFoldedSlow(std::string_view text, std::string& out) {
  for (size_t at = 0; at < text.size();) {
    auto byte = static_cast<unsigned char>(text[at]);
    if (byte < 0x80) {
      out.push_back(AsciiLower(static_cast<char>(byte)));
      ++at;
      continue;
    }
    uint32_t cp = DecodeUtf8(text, &at);
    AppendUtf8(out, cp >= INVALID_BYTE_BASE ? REPLACEMENT_CHAR : FoldCodePoint(cp));
  }
}

}  // namespace

void AppendFolded(std::string_view text, std::string& out) {
  const size_t start = out.size();
  out.resize(start + text.size());
  char* dst = out.data() + start;
  const char* src = text.data();
  size_t i = 0;
#ifdef __AVX2__
  // 32 bytes at a time: lowercase ASCII, and stop at the first non-ASCII byte.
  const __m256i upper_a = _mm256_set1_epi8('A' - 1), upper_z = _mm256_set1_epi8('Z' + 1);
  const __m256i bit = _mm256_set1_epi8(0x20);
  for (; i + 32 <= text.size(); i += 32) {
    __m256i chunk = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + i));
    if (_mm256_movemask_epi8(chunk) != 0) break;
    __m256i is_upper = _mm256_and_si256(_mm256_cmpgt_epi8(chunk, upper_a),
                                        _mm256_cmpgt_epi8(upper_z, chunk));
    chunk = _mm256_or_si256(chunk, _mm256_and_si256(is_upper, bit));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + i), chunk);
  }
#endif
  // Then 8 bytes at a time (most values are shorter than 32 bytes): a byte below 0x80 is upper
  // case when adding 0x3F sets its top bit and adding 0x25 does not; no sum carries into the
  // next byte.
  for (; i + 8 <= text.size(); i += 8) {
    uint64_t word;
    std::memcpy(&word, src + i, 8);
    if (word & 0x8080808080808080ULL) break;
    const uint64_t upper = (word + 0x3F3F3F3F3F3F3F3FULL) & ~(word + 0x2525252525252525ULL) &
                           0x8080808080808080ULL;
    word |= upper >> 2;
    std::memcpy(dst + i, &word, 8);
  }
  for (; i < text.size(); ++i) {
    if (static_cast<unsigned char>(src[i]) >= 0x80) {
      // Non-ASCII from here on: fold code point by code point.
      out.resize(start + i);
      AppendFoldedSlow(text.substr(i), out);
      return;
    }
    dst[i] = AsciiLower(src[i]);
  }
}

void FoldText(std::string_view text, std::string& out) {
  out.clear();
  AppendFolded(text, out);
}

bool FoldableLiteral(std::string_view literal) {
  for (size_t at = 0; at < literal.size();) {
    uint32_t cp = DecodeUtf8(literal, &at);
    if (cp >= INVALID_BYTE_BASE || cp == REPLACEMENT_CHAR) return false;
  }
  return true;
}

void ExactIndex::Grow() {
  std::vector<Slot> old = std::move(slots_);
  slots_.assign(std::max<size_t>(16, old.size() * 2), Slot{});
  const size_t mask = slots_.size() - 1;
  for (const Slot& slot : old) {
    if (slot.pattern == NONE) continue;
    size_t at = slot.hash & mask;
    while (slots_[at].pattern != NONE) at = (at + 1) & mask;
    slots_[at] = slot;
  }
}

void ExactIndex::Add(std::string_view folded, uint32_t pattern) {
  if ((count_ + 1) * 2 > slots_.size()) Grow();
  const uint64_t hash = XXH3_64bits(folded.data(), folded.size());
  const size_t mask = slots_.size() - 1;
  size_t at = hash & mask;
  for (; slots_[at].pattern != NONE; at = (at + 1) & mask) {
    const Slot& slot = slots_[at];
    if (slot.hash == hash && std::string_view(keys_).substr(slot.offset, slot.length) == folded)
      return;  // the first pattern of a key wins
  }
  slots_[at] = Slot{hash, static_cast<uint32_t>(keys_.size()), static_cast<uint32_t>(folded.size()),
                    pattern};
  keys_.append(folded);
  ++count_;
}

uint32_t ExactIndex::Find(std::string_view folded) const {
  if (count_ == 0) return NONE;
  const uint64_t hash = XXH3_64bits(folded.data(), folded.size());
  const size_t mask = slots_.size() - 1;
  for (size_t at = hash & mask; slots_[at].pattern != NONE; at = (at + 1) & mask) {
    const Slot& slot = slots_[at];
    if (slot.hash == hash && slot.length == folded.size() &&
        std::memcmp(keys_.data() + slot.offset, folded.data(), folded.size()) == 0)
      return slot.pattern;
  }
  return NONE;
}

void LiteralTrie::Add(std::string_view folded, uint32_t pattern) {
  std::string key(folded);
  if (direction_ == Direction::kBackward) std::reverse(key.begin(), key.end());
  built_.emplace_back(std::move(key), pattern);
}

void InfixIndex::Add(std::string_view folded, uint32_t pattern) {
  Entry entry;
  entry.offset = static_cast<uint32_t>(texts_.size());
  entry.length = static_cast<uint32_t>(folded.size());
  entry.pattern = pattern;
  texts_.append(folded);
  entries_.push_back(entry);
}

void InfixIndex::Finish() {
  // Keyed after the first ANCHOR when every literal allows it, else by the last bytes.
  anchored_ = !entries_.empty();
  for (Entry& entry : entries_) {
    const std::string_view literal(texts_.data() + entry.offset, entry.length);
    const size_t anchor = literal.find(ANCHOR);
    if (anchor == std::string_view::npos || literal.size() - anchor - 1 < KEY_BYTES) {
      anchored_ = false;
      break;
    }
    entry.key_at = static_cast<uint32_t>(anchor + 1);
  }
  for (Entry& entry : entries_) {
    if (!anchored_) entry.key_at = entry.length - static_cast<uint32_t>(KEY_BYTES);
    std::memcpy(&entry.key, texts_.data() + entry.offset + entry.key_at, KEY_BYTES);
  }
  std::sort(entries_.begin(), entries_.end(),
            [](const Entry& a, const Entry& b) { return a.key < b.key; });
  filter_.assign(size_t{1} << FILTER_WORDS_LOG2, 0);
  size_t distinct = 0;
  for (size_t e = 0; e < entries_.size(); ++e) {
    const uint64_t hash = FilterHash(entries_[e].key);
    filter_[hash >> (64 - FILTER_WORDS_LOG2)] |= FilterBits(hash);
    if (e == 0 || entries_[e].key != entries_[e - 1].key) ++distinct;
  }
  size_t capacity = 16;
  while (capacity < distinct * 2) capacity *= 2;
  slots_.assign(capacity, KeySlot{});
  slot_mask_ = capacity - 1;
  for (size_t e = 0; e < entries_.size();) {
    size_t end = e;
    while (end < entries_.size() && entries_[end].key == entries_[e].key) ++end;
    uint64_t slot = Slot(entries_[e].key);
    while (slots_[slot].begin != slots_[slot].end) slot = (slot + 1) & slot_mask_;
    slots_[slot] = {entries_[e].key, static_cast<uint32_t>(e), static_cast<uint32_t>(end)};
    e = end;
  }
}

bool InfixIndex::HasVectorFilter() {
  static const bool available = __builtin_cpu_supports("avx512f") &&
                                __builtin_cpu_supports("avx512bw") &&
                                __builtin_cpu_supports("avx512dq") &&
                                __builtin_cpu_supports("avx512vl") &&
                                __builtin_cpu_supports("avx512vbmi");
  return available;
}

// GCC 12's AVX-512 headers fill unused operands with self-initialised "undefined" vectors,
// which -Wmaybe-uninitialized reports once the intrinsics are inlined (GCC bug 105593).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
// Eight positions per step: the 15 bytes they span are loaded once, spread into eight
// overlapping 8-byte keys by one byte permutation, hashed by one 64-bit multiply each, and
// their filter words fetched by one gather. The scalar loop takes about three cycles a byte;
// SigmaHQ's hash lists meet every Sysmon `Hashes` value, a few hundred bytes each.
__attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx512vbmi"))) uint64_t
InfixIndex::FilterPass64(std::string_view text, size_t at) const {
  // Lane j of a key vector holds the bytes j..j+7 of the window.
  alignas(64) static constexpr uint8_t SPREAD[64] = {
      0, 1, 2, 3, 4, 5, 6, 7,  1, 2, 3, 4,  5,  6,  7,  8,  2, 3, 4, 5,  6,  7,
      8, 9, 3, 4, 5, 6, 7, 8,  9, 10, 4, 5, 6, 7, 8, 9, 10, 11, 5, 6, 7, 8, 9, 10,
      11, 12, 6, 7, 8, 9, 10, 11, 12, 13, 7, 8, 9, 10, 11, 12, 13, 14};
  const __m512i spread = _mm512_load_si512(SPREAD);
  const __m512i multiplier = _mm512_set1_epi64(static_cast<long long>(0x9E3779B97F4A7C15ULL));
  const __m512i one = _mm512_set1_epi64(1);
  const __m512i low6 = _mm512_set1_epi64(63);
  const size_t keys = text.size() - KEY_BYTES + 1;  // positions with a whole key
  uint64_t pass = 0;
  for (size_t step = 0; step < 64; step += 8) {
    const size_t position = at + step;
    if (position >= keys) break;
    const size_t available = text.size() - position;
    const __mmask16 load_mask =
        available >= 16 ? static_cast<__mmask16>(0xFFFF)
                        : static_cast<__mmask16>((1u << available) - 1);
    const __m128i window = _mm_maskz_loadu_epi8(load_mask, text.data() + position);
    const __m512i key = _mm512_permutexvar_epi8(spread, _mm512_zextsi128_si512(window));
    const __m512i hash = _mm512_mullo_epi64(key, multiplier);
    const __m512i word = _mm512_srli_epi64(hash, 64 - FILTER_WORDS_LOG2);
    const __m512i words = _mm512_i64gather_epi64(word, filter_.data(), 8);
    const __m512i bits = _mm512_or_si512(
        _mm512_sllv_epi64(one, _mm512_and_si512(hash, low6)),
        _mm512_sllv_epi64(one, _mm512_and_si512(_mm512_srli_epi64(hash, 6), low6)));
    __mmask8 hit = _mm512_cmpeq_epi64_mask(_mm512_and_si512(words, bits), bits);
    const size_t whole = keys - position;  // keys from here on
    if (whole < 8) hit &= static_cast<__mmask8>((1u << whole) - 1);
    pass |= static_cast<uint64_t>(hit) << step;
  }
  return pass;
}
#pragma GCC diagnostic pop

void ContainsIndex::Add(std::string_view folded, uint32_t pattern, bool candidate) {
  Entry entry;
  entry.candidate = candidate;
  entry.offset = static_cast<uint32_t>(texts_.size());
  entry.length = static_cast<uint32_t>(folded.size());
  entry.pattern = pattern;
  texts_.append(folded);
  (folded.size() >= LONG_KEY ? long_ : short_).entries.push_back(entry);
}

void ContainsIndex::Finish() {
  // How many long literals have each run of four bytes (once per literal), to key each literal
  // by its least shared run. The key lies in the first 256 bytes (Slot::key_at is a byte).
  std::unordered_map<uint32_t, uint32_t> literals_with;
  std::vector<uint32_t> runs;
  auto runs_of = [&](const Entry& entry) {
    runs.clear();
    const uint32_t last = std::min<uint32_t>(entry.length - LONG_KEY, UINT8_MAX);
    const char* literal = texts_.data() + entry.offset;
    for (uint32_t at = 0; at <= last; ++at) runs.push_back(Load4(literal + at));
  };
  for (const Entry& entry : long_.entries) {
    runs_of(entry);
    std::sort(runs.begin(), runs.end());
    runs.erase(std::unique(runs.begin(), runs.end()), runs.end());
    for (uint32_t run : runs) ++literals_with[run];
  }
  std::vector<uint32_t> key_at, keys;
  for (const Entry& entry : long_.entries) {
    runs_of(entry);
    uint32_t fewest = UINT32_MAX;
    key_at.push_back(0);
    keys.push_back(0);
    for (uint32_t at = 0; at < runs.size(); ++at) {
      const uint32_t shared = literals_with[runs[at]];
      if (shared < fewest) {
        fewest = shared;
        key_at.back() = at;
        keys.back() = runs[at];
      }
    }
  }
  Build(long_, key_at, keys);
  key_at.assign(short_.entries.size(), 0);
  keys.clear();
  for (const Entry& entry : short_.entries) keys.push_back(Load2(texts_.data() + entry.offset));
  Build(short_, key_at, keys);
}

void ContainsIndex::Build(Keyed& keyed, const std::vector<uint32_t>& key_at,
                          const std::vector<uint32_t>& keys) {
  std::vector<uint32_t> distinct(keys);
  std::sort(distinct.begin(), distinct.end());
  distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
  // About two keys a word: four bits of 32 set, so about one position in sixty passes by chance.
  unsigned words_log2 = 4;
  while ((size_t{1} << words_log2) * 2 < distinct.size()) ++words_log2;
  keyed.filter.assign(size_t{1} << words_log2, 0);
  keyed.filter_shift = 32 - words_log2;
  for (uint32_t key : distinct) {
    const uint32_t hash = key * FILTER_MULTIPLIER;
    keyed.filter[hash >> keyed.filter_shift] |= (1u << (hash & 31)) | (1u << ((hash >> 5) & 31));
  }
  unsigned slots_log2 = 4;
  while ((size_t{1} << slots_log2) < keyed.entries.size() * 2) ++slots_log2;
  keyed.slots.assign(size_t{1} << slots_log2, Slot{});
  keyed.slot_shift = 32 - slots_log2;
  const size_t mask = keyed.slots.size() - 1;
  for (size_t e = 0; e < keyed.entries.size(); ++e) {
    const Entry& entry = keyed.entries[e];
    size_t at = (keys[e] * SLOT_MULTIPLIER) >> keyed.slot_shift;
    while (keyed.slots[at].length != 0) at = (at + 1) & mask;
    Slot& slot = keyed.slots[at];
    slot.key = keys[e];
    slot.pattern = entry.pattern;
    slot.rest = entry.offset + static_cast<uint32_t>(std::min<size_t>(entry.length, HEAD));
    slot.length = static_cast<uint16_t>(entry.length);
    slot.key_at = static_cast<uint8_t>(key_at[e]);
    slot.candidate = entry.candidate;
    std::memcpy(slot.head, texts_.data() + entry.offset, std::min<size_t>(entry.length, HEAD));
  }
}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"  // GCC bug 105593, as above
// Which of sixteen 32-bit keys pass a ContainsIndex filter: its words, 32 - log2 of their
// number as a shift count, and the multiplier that hashes a key.
__attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx512vbmi"))) static inline __mmask16
KeysPassing(const uint32_t* filter, __m512i keys, __m128i shift, uint32_t multiplier) {
  const __m512i one = _mm512_set1_epi32(1);
  const __m512i low5 = _mm512_set1_epi32(31);
  const __m512i hash =
      _mm512_mullo_epi32(keys, _mm512_set1_epi32(static_cast<int>(multiplier)));
  const __m512i words = _mm512_i32gather_epi32(_mm512_srl_epi32(hash, shift), filter, 4);
  const __m512i bits =
      _mm512_or_si512(_mm512_sllv_epi32(one, _mm512_and_si512(hash, low5)),
                      _mm512_sllv_epi32(one, _mm512_and_si512(_mm512_srli_epi32(hash, 5), low5)));
  return _mm512_cmpeq_epi32_mask(_mm512_and_si512(words, bits), bits);
}
// Sixteen positions per step: the 19 bytes they span are loaded once and spread into sixteen
// overlapping 4-byte keys by one byte permutation; each filter is then a 32-bit multiply, a
// gather and a bit test for all sixteen. The short keys are the low halves of the long ones.
__attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx512vbmi"))) uint64_t
ContainsIndex::FilterPass64(std::string_view text, size_t at, uint64_t* short_pass) const {
  alignas(64) static constexpr uint8_t SPREAD[64] = {
      0,  1,  2,  3,  1,  2,  3,  4,  2,  3,  4,  5,  3,  4,  5,  6,  4,  5,  6,  7,  5,  6,
      7,  8,  6,  7,  8,  9,  7,  8,  9,  10, 8,  9,  10, 11, 9,  10, 11, 12, 10, 11, 12, 13,
      11, 12, 13, 14, 12, 13, 14, 15, 13, 14, 15, 16, 14, 15, 16, 17, 15, 16, 17, 18};
  const __m512i spread = _mm512_load_si512(SPREAD);
  const __m512i low16 = _mm512_set1_epi32(0xFFFF);
  const __m128i long_shift = _mm_cvtsi32_si128(static_cast<int>(long_.filter_shift));
  const __m128i short_shift = _mm_cvtsi32_si128(static_cast<int>(short_.filter_shift));
  const bool longs = !long_.entries.empty();
  const bool shorts = !short_.entries.empty();

  const size_t size = text.size();
  uint64_t long_pass = 0;
  uint64_t shorts_passed = 0;
  for (size_t step = 0; step < 64; step += 16) {
    const size_t position = at + step;
    if (position + SHORT_KEY > size) break;
    const size_t available = size - position;
    const __mmask32 load_mask = available >= 32 ? ~__mmask32{0}
                                                : static_cast<__mmask32>((1u << available) - 1);
    const __m256i window = _mm256_maskz_loadu_epi8(load_mask, text.data() + position);
    const __m512i keys = _mm512_permutexvar_epi8(spread, _mm512_zextsi256_si512(window));
    if (longs && available >= LONG_KEY) {
      __mmask16 hit = KeysPassing(long_.filter.data(), keys, long_shift, FILTER_MULTIPLIER);
      const size_t whole = available - LONG_KEY + 1;  // long keys from here on
      if (whole < 16) hit &= static_cast<__mmask16>((1u << whole) - 1);
      long_pass |= static_cast<uint64_t>(hit) << step;
    }
    if (shorts) {
      __mmask16 hit = KeysPassing(short_.filter.data(), _mm512_and_si512(keys, low16), short_shift,
                                   FILTER_MULTIPLIER);
      const size_t whole = available - SHORT_KEY + 1;
      if (whole < 16) hit &= static_cast<__mmask16>((1u << whole) - 1);
      shorts_passed |= static_cast<uint64_t>(hit) << step;
    }
  }
  *short_pass = shorts_passed;
  return long_pass;
}
#pragma GCC diagnostic pop

void LiteralTrie::Finish() {
  // A pointer-free build: children in ordered maps, then flattened with each node's edges
  // contiguous and sorted, which the walk relies on.
  std::vector<std::map<unsigned char, uint32_t>> children(1);
  std::vector<uint32_t> patterns(1, NONE);
  for (const auto& [key, pattern] : built_) {
    uint32_t node = 0;
    for (char c : key) {
      auto byte = static_cast<unsigned char>(c);
      auto it = children[node].find(byte);
      if (it == children[node].end()) {
        auto next = static_cast<uint32_t>(children.size());
        children[node].emplace(byte, next);
        children.emplace_back();
        patterns.push_back(NONE);
        node = next;
      } else {
        node = it->second;
      }
    }
    if (patterns[node] == NONE) patterns[node] = pattern;
  }
  built_.clear();
  built_.shrink_to_fit();
  root_pattern_ = patterns[0];
  root_table_.assign(256, NONE);
  nodes_.clear();
  edge_bytes_.clear();
  edge_targets_.clear();
  chain_bytes_.clear();
  // Each flat node stands for a node of the tree reached by an edge (its head) and the chain
  // below it; nodes are numbered as they are first referred to.
  std::vector<uint32_t> heads;
  auto refer = [&](uint32_t head) {
    heads.push_back(head);
    nodes_.emplace_back();
    return static_cast<uint32_t>(nodes_.size() - 1);
  };
  for (const auto& [byte, child] : children[0]) root_table_[byte] = refer(child);
  std::string chain;
  for (size_t index = 0; index < heads.size(); ++index) {
    uint32_t node = heads[index];
    chain.clear();
    while (patterns[node] == NONE && children[node].size() == 1) {
      chain.push_back(static_cast<char>(children[node].begin()->first));
      node = children[node].begin()->second;
    }
    if (direction_ == Direction::kBackward) std::reverse(chain.begin(), chain.end());
    Node flat;
    flat.chain_begin = static_cast<uint32_t>(chain_bytes_.size());
    flat.chain_length = static_cast<uint32_t>(chain.size());
    chain_bytes_.append(chain);
    flat.pattern = patterns[node];
    flat.edge_begin = static_cast<uint32_t>(edge_bytes_.size());
    for (const auto& [byte, child] : children[node]) {
      edge_bytes_.push_back(byte);
      edge_targets_.push_back(refer(child));
    }
    flat.edge_end = static_cast<uint32_t>(edge_bytes_.size());
    nodes_[index] = flat;
  }
}

}  // namespace yagura::sigma

// Literal indexes for the matcher: exact, prefix and suffix lookups over case-folded text.
//
// Nearly all Sigma string values are one literal with wildcards only at its ends: `x` (equals),
// `x*` (startswith), `*x` (endswith), `*x*` (contains). The first three need no automaton: a
// hash probe of the whole value and a walk of a byte trie from the start or from the end find
// every such literal of a field in time proportional to the length of the longest match, with
// none of the fixed cost of a Hyperscan scan. Contains is a hashed scan of every position
// (ContainsIndex below; InfixIndex for lists of hash indicators), whose small filter stays in
// the cache where Hyperscan's database of the same literals does not.
// Both sides are case-folded first (FoldText): ASCII lowercased, other code points by
// FoldCodePoint, invalid UTF-8 bytes replaced by U+FFFD. On folded text, byte equality is
// exactly GlobMatch's code-point-wise folded equality, so these lookups decide predicates with
// no confirmation (literals containing invalid UTF-8 or U+FFFD are not foldable and must be
// handled elsewhere).
// Thread-safety: immutable after Finish(); lookups are const.
#pragma once

#include <algorithm>

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "core/short_compare.hpp"

namespace yagura::sigma {

// Writes the folded form of `text` to `out` (replacing its contents). Allocates only when `out`
// must grow.
void FoldText(std::string_view text, std::string& out);
// Appends the folded form of `text` to `out`.
void AppendFolded(std::string_view text, std::string& out);
// Whether a pattern literal can be folded faithfully: valid UTF-8 without U+FFFD.
[[nodiscard]] bool FoldableLiteral(std::string_view literal);

// Exact folded values -> pattern: one flat open-addressed table (hash, pooled key, pattern),
// so a lookup is a hash and usually one probe, without the node chasing of a std::unordered_map.
// The first pattern added for a key wins.
class ExactIndex {
 public:
  static constexpr uint32_t NONE = UINT32_MAX;
  void Add(std::string_view folded, uint32_t pattern);
  [[nodiscard]] uint32_t Find(std::string_view folded) const;
  [[nodiscard]] bool empty() const { return count_ == 0; }

 private:
  struct Slot {
    uint64_t hash = 0;
    uint32_t offset = 0;
    uint32_t length = 0;
    uint32_t pattern = NONE;  // NONE: empty slot
  };
  void Grow();
  std::vector<Slot> slots_;
  std::string keys_;
  size_t count_ = 0;
};

// A byte trie of literals. ForEachMatch reports every literal that is a prefix of `text`
// (kForward) or a suffix of it (kBackward: the trie holds the literals reversed).
class LiteralTrie {
 public:
  static constexpr uint32_t NONE = UINT32_MAX;
  enum class Direction : uint8_t { kForward, kBackward };

  explicit LiteralTrie(Direction direction = Direction::kForward) : direction_(direction) {}
  void Add(std::string_view folded, uint32_t pattern);  // literal as written (not reversed)
  void Finish();
  // After Finish().
  [[nodiscard]] bool empty() const { return nodes_.empty() && root_pattern_ == NONE; }

  template <typename Fire>
  void ForEachMatch(std::string_view text, Fire&& fire) const {
    if (root_pattern_ != NONE) fire(root_pattern_);
    if (nodes_.empty() || text.empty()) return;
    const size_t n = text.size();
    const bool forward = direction_ == Direction::kForward;
    uint32_t node = root_table_[static_cast<unsigned char>(forward ? text[0] : text[n - 1])];
    size_t i = 1;  // bytes of the text walked
    while (node != NONE) {
      const Node& current = nodes_[node];
      if (current.chain_length != 0) {
        if (n - i < current.chain_length) return;
        const char* at = forward ? text.data() + i : text.data() + (n - i - current.chain_length);
        if (std::memcmp(at, chain_bytes_.data() + current.chain_begin, current.chain_length) != 0)
          return;
        i += current.chain_length;
      }
      if (current.pattern != NONE) fire(current.pattern);
      if (i == n || current.edge_begin == current.edge_end) return;
      auto byte = static_cast<unsigned char>(forward ? text[i] : text[n - 1 - i]);
      ++i;
      node = NONE;
      if (current.edge_end - current.edge_begin > 8) {
        // Wide nodes (the bytes before ".exe" in a suffix trie): binary search.
        const unsigned char* first = edge_bytes_.data() + current.edge_begin;
        const unsigned char* last = edge_bytes_.data() + current.edge_end;
        const unsigned char* at = std::lower_bound(first, last, byte);
        if (at != last && *at == byte) node = edge_targets_[current.edge_begin + (at - first)];
        continue;
      }
      for (uint32_t e = current.edge_begin; e < current.edge_end; ++e) {
        if (edge_bytes_[e] == byte) {
          node = edge_targets_[e];
          break;
        }
        if (edge_bytes_[e] > byte) break;
      }
    }
  }

 private:
  // A node reached by an edge first requires the bytes of its chain (the run of literal bytes
  // no literal ends inside and no other literal branches from: "ndows\\system32\\" in a trie
  // of Windows paths), compared at once instead of node by node.
  struct Node {
    uint32_t edge_begin = 0, edge_end = 0;
    uint32_t pattern = NONE;
    uint32_t chain_begin = 0, chain_length = 0;  // in chain_bytes_, in text order
  };
  Direction direction_;
  std::vector<std::pair<std::string, uint32_t>> built_;  // (key in walk order, pattern) until Finish
  uint32_t root_pattern_ = NONE;                          // the empty literal
  std::vector<uint32_t> root_table_;                      // first byte -> node
  std::vector<Node> nodes_;
  std::vector<unsigned char> edge_bytes_;
  std::vector<uint32_t> edge_targets_;
  std::string chain_bytes_;
};

// `*literal*` over folded text for long literals, each keyed by its last KEY_BYTES bytes (the
// first ones of indicator lists repeat: "imphash=", "sha256="): a scan looks every position of
// the text up in a bit filter and, where that hits, in a table of the keys. Hyperscan's literal matchers slow down badly when a thousand hex literals
// meet hex text (SigmaHQ's hash lists against Sysmon's `Hashes`: about 8 ns a byte, because
// every short fingerprint of hex text is in some literal); this costs about a multiply and a
// bit test a byte whatever the literals. The matcher uses it for such fields only.
// When every literal has an `=` followed by at least KEY_BYTES bytes (`algorithm=hex`, as all
// of SigmaHQ's `Hashes` values are), each is keyed by the bytes after its first `=` instead,
// and only the positions after an `=` of the text are looked up: a `Hashes` value has four.
class InfixIndex {
 public:
  static constexpr size_t KEY_BYTES = 8;
  // `folded` has at least KEY_BYTES bytes.
  void Add(std::string_view folded, uint32_t pattern);
  void Finish();
  [[nodiscard]] bool empty() const { return entries_.empty(); }

  // Reports each literal contained in `text` (once or more).
  template <typename Fire>
  void ForEachMatch(std::string_view text, Fire&& fire) const {
    if (entries_.empty() || text.size() < KEY_BYTES) return;
    const char* data = text.data();
    const size_t last = text.size() - KEY_BYTES;
    size_t at = 0;
    if (anchored_) {
      // A literal's key follows its first `=`, so it can only be found right after an `=`.
      for (const char* sign; at < last && (sign = static_cast<const char*>(
                                               std::memchr(data + at, ANCHOR, last - at)));) {
        at = static_cast<size_t>(sign - data) + 1;
        if (Passes(data + at)) LookUp(text, at, fire);
      }
      return;
    }
    if (vector_filter_) {
      // 64 positions at a time through the filter, then only those that pass one by one.
      for (; at <= last; at += 64) {
        for (uint64_t pass = FilterPass64(text, at); pass != 0; pass &= pass - 1)
          LookUp(text, at + static_cast<size_t>(__builtin_ctzll(pass)), fire);
      }
      return;
    }
    for (; at <= last; ++at)
      if (Passes(data + at)) LookUp(text, at, fire);
  }

  // Whether this processor can run the filter 8 positions at a time (AVX-512 with VBMI).
  static bool HasVectorFilter();
  // On by default where the processor has it; tests turn it off to compare the two.
  void set_vector_filter(bool enabled) { vector_filter_ = enabled && HasVectorFilter(); }
  // Whether the literals are keyed after their first `=` (decided by Finish()).
  [[nodiscard]] bool anchored() const { return anchored_; }

 private:
  static constexpr char ANCHOR = '=';
  // A blocked Bloom filter of 32 KB: two bits of one word per key. With a few thousand
  // literals about one position in five hundred passes (one bit per key let one in fifty
  // through, each then a cache miss in the key table).
  static constexpr unsigned FILTER_WORDS_LOG2 = 12;
  static uint64_t FilterHash(uint64_t key) { return key * 0x9E3779B97F4A7C15ULL; }
  static uint64_t FilterBits(uint64_t hash) {
    return (uint64_t{1} << (hash & 63)) | (uint64_t{1} << ((hash >> 6) & 63));
  }
  [[nodiscard]] uint64_t Slot(uint64_t key) const {
    return ((key ^ (key >> 29)) * 0xBF58476D1CE4E5B9ULL >> 32) & slot_mask_;
  }
  // Whether the KEY_BYTES bytes at `key_bytes` pass the filter.
  [[nodiscard]] bool Passes(const char* key_bytes) const {
    uint64_t key;
    std::memcpy(&key, key_bytes, KEY_BYTES);
    const uint64_t hash = FilterHash(key);
    const uint64_t bits = FilterBits(hash);
    return (filter_[hash >> (64 - FILTER_WORDS_LOG2)] & bits) == bits;
  }
  // Bit j: the key at `at + j` passes the filter (positions past the last key are clear).
  [[nodiscard]] uint64_t FilterPass64(std::string_view text, size_t at) const;
  // The literals whose key is the text's at `at`, compared in full.
  template <typename Fire>
  void LookUp(std::string_view text, size_t at, Fire& fire) const {
    const char* data = text.data();
    uint64_t key;
    std::memcpy(&key, data + at, KEY_BYTES);
    // The slot of this key, if any: open addressing over the distinct keys.
    for (uint64_t slot = Slot(key);; slot = (slot + 1) & slot_mask_) {
      const KeySlot& found = slots_[slot];
      if (found.begin == found.end) return;  // empty: no literal ends so
      if (found.key != key) continue;
      // The literal starts `key_at` bytes before its key; the key itself is equal.
      for (uint32_t e = found.begin; e < found.end; ++e) {
        const Entry& entry = entries_[e];
        const size_t before = entry.key_at;
        const size_t after = entry.length - entry.key_at - KEY_BYTES;
        if (before > at || after > text.size() - at - KEY_BYTES) continue;
        if (std::memcmp(data + at - before, texts_.data() + entry.offset, before) == 0 &&
            std::memcmp(data + at + KEY_BYTES,
                        texts_.data() + entry.offset + entry.key_at + KEY_BYTES, after) == 0)
          fire(entry.pattern);
      }
      return;
    }
  }
  struct KeySlot {
    uint64_t key = 0;
    uint32_t begin = 0, end = 0;  // entries with this key; begin == end: empty slot
  };
  struct Entry {
    uint64_t key = 0;  // KEY_BYTES bytes of the literal, from key_at
    uint32_t offset = 0, length = 0;
    uint32_t pattern = 0;
    uint32_t key_at = 0;  // the last KEY_BYTES bytes, or those after the first ANCHOR
  };
  std::vector<Entry> entries_;  // sorted by key after Finish()
  std::string texts_;
  std::vector<uint64_t> filter_;
  std::vector<KeySlot> slots_;
  uint64_t slot_mask_ = 0;
  bool vector_filter_ = HasVectorFilter();
  bool anchored_ = false;
};

// `*literal*` over folded text for the contains literals of two bytes or more of a field (hash
// lists have InfixIndex). Hyperscan decided these before. On a warm cache the two are close
// (SigmaHQ's 8,400 command-line literals against the command lines of the EVTX samples: about
// 1,200 cycles a value for Hyperscan, 630 here), but Hyperscan's database for them is a
// megabyte, which the rest of an event's work pushes out of the cache: within a scan a command
// line cost it about 5,000 cycles, and costs this index 1,400 to 1,900. A scan here reads a
// filter of a few kilobytes at every position, and the table behind it only where a literal
// may start.
// A literal of four bytes or more is keyed by four of its bytes: of all its runs of four, the
// one the fewest other literals have, so that literals rarely share a key (and a rare run of
// the literals is, more often than not, rare in text too). Literals of two or three bytes are
// keyed by their first two. Each key sets two bits of one 32-bit word of a blocked Bloom filter
// (one filter for each key length); a position whose key passes is looked up in the table of
// that length's keys, and the literals found there are compared in full.
// A literal may stand for a pattern it is only necessary for (`candidate`): the matcher keys
// a glob such as `*\\temp\\*.ps1` by its longest literal and confirms it when a rule reads it.
class ContainsIndex {
 public:
  static constexpr size_t MIN_LENGTH = 2;
  static constexpr size_t MAX_LENGTH = UINT16_MAX;
  // `folded` has MIN_LENGTH to MAX_LENGTH bytes.
  void Add(std::string_view folded, uint32_t pattern, bool candidate = false);
  void Finish();
  [[nodiscard]] bool empty() const { return long_.entries.empty() && short_.entries.empty(); }
  [[nodiscard]] size_t size() const { return long_.entries.size() + short_.entries.size(); }

  // Reports each literal contained in `text` (once or more): fire(pattern, candidate).
  template <typename Fire>
  void ForEachMatch(std::string_view text, Fire&& fire) const {
    const size_t size = text.size();
    if (size < MIN_LENGTH || empty()) return;
    const char* data = text.data();
    if (vector_filter_) {
      // 64 positions at a time through both filters, then only those that pass one by one.
      for (size_t at = 0; at + MIN_LENGTH <= size; at += 64) {
        uint64_t short_pass = 0;
        for (uint64_t pass = FilterPass64(text, at, &short_pass); pass != 0; pass &= pass - 1) {
          const size_t position = at + static_cast<size_t>(__builtin_ctzll(pass));
          long_.LookUp(text, position, Load4(data + position), texts_.data(), fire);
        }
        for (; short_pass != 0; short_pass &= short_pass - 1) {
          const size_t position = at + static_cast<size_t>(__builtin_ctzll(short_pass));
          short_.LookUp(text, position, Load2(data + position), texts_.data(), fire);
        }
      }
      return;
    }
    for (size_t at = 0; at + MIN_LENGTH <= size; ++at) {
      if (at + LONG_KEY <= size) {
        const uint32_t key = Load4(data + at);
        if (long_.Passes(key)) long_.LookUp(text, at, key, texts_.data(), fire);
      }
      const uint32_t key = Load2(data + at);
      if (short_.Passes(key)) short_.LookUp(text, at, key, texts_.data(), fire);
    }
  }

  // Whether this processor can run the filters 16 positions at a time (AVX-512 with VBMI).
  static bool HasVectorFilter() { return InfixIndex::HasVectorFilter(); }
  // On by default where the processor has it; tests turn it off to compare the two.
  void set_vector_filter(bool enabled) { vector_filter_ = enabled && HasVectorFilter(); }

 private:
  static constexpr size_t LONG_KEY = 4;
  static constexpr size_t SHORT_KEY = 2;
  static constexpr uint32_t FILTER_MULTIPLIER = 0x9E3779B1u;
  static constexpr uint32_t SLOT_MULTIPLIER = 0x85EBCA77u;
  static uint32_t Load4(const char* at) {
    uint32_t key;
    std::memcpy(&key, at, sizeof key);
    return key;
  }
  static uint32_t Load2(const char* at) {
    uint16_t key;
    std::memcpy(&key, at, sizeof key);
    return key;
  }
  // A literal as added, until Finish().
  struct Entry {
    uint32_t offset = 0, length = 0;  // in texts_
    uint32_t pattern = 0;
    bool candidate = false;
  };
  // One literal in the table of its key length: what is needed to compare it, in one cache line
  // with the key, since a lookup that passes the filter is often a cache miss (most literals
  // are at most HEAD bytes long and need nothing else).
  static constexpr size_t HEAD = 16;
  struct alignas(32) Slot {
    uint32_t key = 0;
    uint32_t pattern = 0;
    uint32_t rest = 0;  // in texts_: the bytes after the head
    uint16_t length = 0;  // 0: an empty slot
    uint8_t key_at = 0;   // where the key lies in the literal
    bool candidate = false;
    char head[HEAD] = {};  // the literal's first bytes, zero-padded
  };
  // The literals of one key length: their filter and their table (open addressing; literals
  // that share a key lie in the same run of slots).
  struct Keyed {
    std::vector<Entry> entries;
    std::vector<uint32_t> filter;
    unsigned filter_shift = 32;  // 32 - log2 of the filter's words
    std::vector<Slot> slots;
    unsigned slot_shift = 32;

    [[nodiscard]] bool Passes(uint32_t key) const {
      if (entries.empty()) return false;
      const uint32_t hash = key * FILTER_MULTIPLIER;
      const uint32_t bits = (1u << (hash & 31)) | (1u << ((hash >> 5) & 31));
      return (filter[hash >> filter_shift] & bits) == bits;
    }
    // The literals whose key is `key`, found at `at` of the text, compared in full.
    template <typename Fire>
    void LookUp(std::string_view text, size_t at, uint32_t key, const char* texts,
                Fire& fire) const {
      const size_t mask = slots.size() - 1;
      for (size_t slot = (key * SLOT_MULTIPLIER) >> slot_shift;; slot = (slot + 1) & mask) {
        const Slot& found = slots[slot];
        if (found.length == 0) return;  // empty: no more literals with this key
        if (found.key != key || found.key_at > at ||
            size_t{found.length} - found.key_at > text.size() - at)
          continue;
        const char* start = text.data() + at - found.key_at;
        if (found.length <= HEAD) {
          if (!SameShortBytes(start, found.head, found.length)) continue;
        } else {
          if (!SameShortBytes(start, found.head, HEAD)) continue;
          const size_t rest = found.length - HEAD;
          if (rest <= MAX_SHORT_COMPARE ? !SameShortBytes(start + HEAD, texts + found.rest, rest)
                                        : std::memcmp(start + HEAD, texts + found.rest, rest) != 0)
            continue;
        }
        fire(found.pattern, found.candidate);
      }
    }
  };
  // Keys each literal (`key_at` in `at`, the key in `keys`) and builds its table and filter.
  void Build(Keyed& keyed, const std::vector<uint32_t>& key_at, const std::vector<uint32_t>& keys);
  // Bit j of the result: the long key at `at + j` passes its filter; of `*short_pass`, the
  // short key. Positions without a whole key are clear.
  [[nodiscard]] uint64_t FilterPass64(std::string_view text, size_t at, uint64_t* short_pass) const;

  std::string texts_;
  Keyed long_, short_;
  bool vector_filter_ = HasVectorFilter();
};

}  // namespace yagura::sigma

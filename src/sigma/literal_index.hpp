// Literal indexes for the matcher: exact, prefix and suffix lookups over case-folded text.
//
// Nearly all Sigma string values are one literal with wildcards only at its ends: `x` (equals),
// `x*` (startswith), `*x` (endswith), `*x*` (contains). The first three need no automaton: a
// hash probe of the whole value and a walk of a byte trie from the start or from the end find
// every such literal of a field in time proportional to the length of the longest match, with
// none of the fixed cost of a Hyperscan scan. (Contains stays with Hyperscan: a hashed scan of
// every position measured two to three times slower than its SIMD literal matchers.)
// Both sides are case-folded first (FoldText): ASCII lowercased, other code points by
// FoldCodePoint, invalid UTF-8 bytes replaced by U+FFFD. On folded text, byte equality is
// exactly GlobMatch's code-point-wise folded equality, so these lookups decide predicates with
// no confirmation (literals containing invalid UTF-8 or U+FFFD are not foldable and must be
// handled elsewhere).
// Thread-safety: immutable after Finish(); lookups are const.
#pragma once

#include <algorithm>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

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
    uint32_t node = root_table_[static_cast<unsigned char>(
        direction_ == Direction::kForward ? text[0] : text[n - 1])];
    for (size_t i = 1;; ++i) {
      if (node == NONE) return;
      const Node& current = nodes_[node];
      if (current.pattern != NONE) fire(current.pattern);
      if (i == n || current.edge_begin == current.edge_end) return;
      auto byte = static_cast<unsigned char>(direction_ == Direction::kForward ? text[i]
                                                                              : text[n - 1 - i]);
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
  struct Node {
    uint32_t edge_begin = 0, edge_end = 0;
    uint32_t pattern = NONE;
  };
  Direction direction_;
  std::vector<std::pair<std::string, uint32_t>> built_;  // (key in walk order, pattern) until Finish
  uint32_t root_pattern_ = NONE;                          // the empty literal
  std::vector<uint32_t> root_table_;                      // first byte -> node
  std::vector<Node> nodes_;
  std::vector<unsigned char> edge_bytes_;
  std::vector<uint32_t> edge_targets_;
};

}  // namespace yagura::sigma

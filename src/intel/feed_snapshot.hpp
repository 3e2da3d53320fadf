// FeedSnapshot: the indicators of one feed as read at one moment, compact and immutable.
//
// A snapshot is what a feed contributes to the IndicatorIndex. Values are normalised when the
// snapshot is built (invalid ones are reported there, with the indicator id), strings live in
// one pool, and names, feeds, markings and labels that repeat are stored once, so a feed of a
// million indicators costs well under 200 bytes each. Snapshots are shared (shared_ptr) between
// successive indexes: reloading one feed rebuilds the index from the new snapshot of that feed
// and the unchanged snapshots of the others, and a feed that failed to load keeps its previous
// snapshot. Thread-safety: immutable once built; share freely.
#pragma once

#include <cstdint>
#include <algorithm>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/diagnostics.hpp"
#include "core/result.hpp"
#include "intel/feed.hpp"
#include "intel/indicator.hpp"

namespace yagura::intel {

inline constexpr int64_t NO_TIME_BEFORE = INT64_MIN;  // valid since forever
inline constexpr int64_t NO_TIME_AFTER = INT64_MAX;   // never expires

// One indicator, as output and listings show it. Views point into the snapshot.
struct IndicatorView {
  std::string id;
  std::string_view feed;
  std::string_view name;
  std::string pattern;  // as written; for one-value indicators "type:value" when none given
  Tlp tlp = Tlp::kUnset;
  int confidence = -1;
  int64_t valid_from = NO_TIME_BEFORE;  // ms since the epoch
  int64_t valid_until = NO_TIME_AFTER;
  int64_t modified = NO_TIME_BEFORE;
  bool revoked = false;
  const std::vector<std::string>* markings = nullptr;
  const std::vector<std::string>* labels = nullptr;
};

// Storage that grows in fixed chunks: no doubling and no copy when a feed of millions is read,
// so reading never holds twice the snapshot in memory.
template <typename T, size_t CHUNK = 4096>
class ChunkedVector {
 public:
  void push_back(const T& value) {
    if (size_ % CHUNK == 0 && size_ / CHUNK == chunks_.size())
      chunks_.push_back(std::make_unique<T[]>(CHUNK));
    chunks_[size_ / CHUNK][size_ % CHUNK] = value;
    ++size_;
  }
  void shrink(size_t size) { size_ = std::min(size, size_); }
  [[nodiscard]] size_t size() const { return size_; }
  T& operator[](size_t index) { return chunks_[index / CHUNK][index % CHUNK]; }
  const T& operator[](size_t index) const { return chunks_[index / CHUNK][index % CHUNK]; }
  [[nodiscard]] size_t MemoryBytes() const {
    return chunks_.size() * (CHUNK * sizeof(T) + sizeof(void*));
  }

 private:
  std::vector<std::unique_ptr<T[]>> chunks_;
  size_t size_ = 0;
};

// Strings in 1 MiB blocks addressed by one 32-bit offset; a string never straddles two blocks
// (a longer one gets a block of its own that spans several block numbers).
class StringPool {
 public:
  static constexpr uint32_t BLOCK_BITS = 20;
  static constexpr size_t BLOCK = size_t{1} << BLOCK_BITS;
  // Returns the offset of the stored copy; fails (nullopt) past 4 GiB.
  std::optional<uint32_t> Add(std::string_view text);
  [[nodiscard]] std::string_view Get(uint32_t offset, uint32_t length) const {
    return {starts_[offset >> BLOCK_BITS] + (offset & (BLOCK - 1)), length};
  }
  // Frees the unused tail of the last block.
  void Trim();
  [[nodiscard]] size_t MemoryBytes() const { return bytes_ + starts_.size() * sizeof(char*); }

 private:
  std::vector<std::unique_ptr<char[]>> blocks_;
  std::vector<const char*> starts_;  // per block number
  size_t used_ = 0;                  // bytes used in the last block
  size_t capacity_ = 0;              // of the last block
  size_t bytes_ = 0;                 // allocated
};

class FeedSnapshot {
 public:
  struct StrRef {
    uint32_t offset = 0;
    uint32_t length = 0;
  };
  // One normalised atom. `conjunction` numbers the indicator's conjunctions from 0.
  struct CompactAtom {
    StrRef value;
    uint16_t conjunction = 0;
    ObservableType type = ObservableType::kDomain;
    HashAlgorithm algorithm = HashAlgorithm::kNone;
    Direction direction = Direction::kAny;
    bool negated = false;
  };
  // The id is stored as text, or (ids like "blocklist.txt:1234", as lists number them) as an
  // interned prefix and a number.
  struct CompactId {
    uint32_t text_or_prefix = 0;  // StrRef offset, or index into texts_
    uint32_t length_or_number = 0;
    bool numbered = false;
  };
  struct Times {
    int64_t valid_from = NO_TIME_BEFORE;  // ms since the epoch
    int64_t valid_until = NO_TIME_AFTER;
    int64_t modified = NO_TIME_BEFORE;
  };
  struct CompactIndicator {
    uint32_t id_text = 0;  // see CompactId
    uint32_t id_number = 0;
    uint32_t name = 0;     // index into texts_ (0: none)
    uint32_t pattern = 0;  // index into texts_: the whole pattern, or the text before the value
    uint32_t times = 0;    // index into times_ (0: no times given)
    uint32_t first_atom = 0;
    uint32_t feed = 0;      // index into feeds_
    uint32_t markings = 0;  // index into string_lists_ (0: none)
    uint32_t labels = 0;
    uint16_t atom_count = 0;
    uint16_t conjunction_count = 0;
    Tlp tlp = Tlp::kUnset;
    int8_t confidence = -1;
    bool revoked = false;
    uint8_t flags = 0;  // PATTERN_IS_PREFIX, ID_NUMBERED
  };
  static constexpr uint8_t PATTERN_IS_PREFIX = 1;
  static constexpr uint8_t ID_NUMBERED = 2;

  // Collects indicators (an IndicatorSink) and builds the snapshot.
  class Builder {
   public:
    // `source` names the feed in diagnostics about values that cannot be normalised.
    Builder(std::string source, Diagnostics& diagnostics);
    ~Builder();
    Builder(const Builder&) = delete;
    Builder& operator=(const Builder&) = delete;

    void Add(Indicator&& indicator);
    [[nodiscard]] IndicatorSink Sink() {
      return [this](Indicator&& indicator) { Add(std::move(indicator)); };
    }
    // Indicators dropped because none of their conjunctions had a usable value.
    [[nodiscard]] uint64_t rejected() const { return rejected_; }
    [[nodiscard]] std::shared_ptr<const FeedSnapshot> Finish(FeedStats stats);

   private:
    struct Interning;
    uint32_t InternText(std::string_view text);
    std::unique_ptr<FeedSnapshot> snapshot_;
    std::unique_ptr<Interning> interning_;
    Diagnostics& diagnostics_;
    uint64_t rejected_ = 0;
    std::string buffer_;
  };

  // Loads a feed (see LoadFeed) into a snapshot. Fails only when nothing could be read.
  [[nodiscard]] static Result<std::shared_ptr<const FeedSnapshot>> Load(
      const std::string& path, FeedFormat format, std::string_view feed_name,
      Diagnostics& diagnostics);

  [[nodiscard]] const std::string& source() const { return source_; }  // path or name
  [[nodiscard]] const FeedStats& stats() const { return stats_; }
  [[nodiscard]] size_t size() const { return indicators_.size(); }
  [[nodiscard]] const CompactIndicator& indicator(uint32_t index) const {
    return indicators_[index];
  }
  [[nodiscard]] const CompactAtom& atom(uint32_t index) const { return atoms_[index]; }
  [[nodiscard]] std::string_view Text(StrRef ref) const {
    return pool_.Get(ref.offset, ref.length);
  }
  [[nodiscard]] const Times& times(uint32_t index) const { return times_[indicators_[index].times]; }
  // The indicator's id, appended to `out`.
  void AppendId(uint32_t index, std::string& out) const;
  [[nodiscard]] std::string Id(uint32_t index) const {
    std::string id;
    AppendId(index, id);
    return id;
  }
  [[nodiscard]] IndicatorView View(uint32_t index) const;
  // Bytes held, for the memory benchmark and `intel stats`.
  [[nodiscard]] size_t MemoryBytes() const;

 private:
  FeedSnapshot() = default;
  std::string source_;
  FeedStats stats_;
  StringPool pool_;
  ChunkedVector<CompactIndicator> indicators_;
  ChunkedVector<CompactAtom> atoms_;
  std::vector<StrRef> texts_;  // [0] is the empty text
  std::vector<Times> times_;   // [0] is "no times"
  std::vector<std::string> feeds_;
  std::vector<std::vector<std::string>> string_lists_;  // [0] is the empty list
};

// Normalises `value` of `type` into `out` as the index stores it (normalise.hpp, path_forms.hpp);
// false when it is not a valid value of that type.
bool NormaliseValue(ObservableType type, HashAlgorithm algorithm, std::string_view value,
                    std::string& out);

}  // namespace yagura::intel

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
  std::string_view id;
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
  struct CompactIndicator {
    StrRef id, name;
    StrRef pattern;  // the whole pattern, or (pattern_is_prefix) the text before the value
    bool pattern_is_prefix = false;
    int64_t valid_from = NO_TIME_BEFORE;
    int64_t valid_until = NO_TIME_AFTER;
    int64_t modified = NO_TIME_BEFORE;
    uint32_t first_atom = 0;
    uint32_t feed = 0;      // index into feeds_
    uint32_t markings = 0;  // index into string_lists_ (0: none)
    uint32_t labels = 0;
    uint16_t atom_count = 0;
    uint16_t conjunction_count = 0;
    Tlp tlp = Tlp::kUnset;
    int8_t confidence = -1;
    bool revoked = false;
  };

  // Collects indicators (an IndicatorSink) and builds the snapshot.
  class Builder {
   public:
    // `where` prefixes diagnostics about values that cannot be normalised.
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
    return {pool_.data() + ref.offset, ref.length};
  }
  [[nodiscard]] IndicatorView View(uint32_t index) const;
  // Bytes held, for the memory benchmark and `intel stats`.
  [[nodiscard]] size_t MemoryBytes() const;

 private:
  FeedSnapshot() = default;
  std::string source_;
  FeedStats stats_;
  std::string pool_;
  std::vector<CompactIndicator> indicators_;
  std::vector<CompactAtom> atoms_;
  std::vector<std::string> feeds_;
  std::vector<std::vector<std::string>> string_lists_;  // [0] is the empty list
};

// Normalises `value` of `type` into `out` as the index stores it (normalise.hpp, path_forms.hpp);
// false when it is not a valid value of that type.
bool NormaliseValue(ObservableType type, HashAlgorithm algorithm, std::string_view value,
                    std::string& out);

}  // namespace yagura::intel

// RecordIdGaps: the EventRecordIDs missing from EVTX files (`yagura stats`).
//
// Windows numbers the records of a channel one by one, and an EVTX file holds a run of them:
// the oldest the log still kept to the newest. Ids missing inside that run are records that
// are gone: deleted one by one by a tool that edits the log (as DanderSpritz's eventlogedit
// does, leaving no "log cleared" event), lost with a damaged chunk, or left out when the file
// was saved from a filtered view. An investigator wants to know before trusting a timeline.
//
// Each file, channel and computer has its own numbering. Ids are kept as spans of consecutive
// ids with the event times at their ends, so memory follows the number of gaps, not of
// records, and the records may come in any order.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

namespace yagura::scan {

class RecordIdGaps {
 public:
  // A numbering with more spans than this is left out: its records are too scattered for gaps
  // to mean anything (and to keep memory bounded).
  static constexpr size_t MAX_SPANS = 100'000;

  void Add(std::string_view file, std::string_view channel, std::string_view computer,
           uint64_t record_id, std::optional<int64_t> time_ms);

  struct Gap {
    std::string file;
    std::string channel;
    std::string computer;
    uint64_t first_missing = 0;
    uint64_t last_missing = 0;
    std::optional<int64_t> before_ms;  // the time of the record before the gap
    std::optional<int64_t> after_ms;   // and of the record after it
    [[nodiscard]] uint64_t missing() const { return last_missing - first_missing + 1; }
  };
  // By file, channel, computer, then id.
  [[nodiscard]] std::vector<Gap> Gaps() const;

  // One numbering with gaps: how much of its run is missing, and its largest gap.
  struct Holes {
    std::string file;
    std::string channel;
    std::string computer;
    uint64_t first_id = 0;  // the run, from the first id present to the last
    uint64_t last_id = 0;
    uint64_t present = 0;
    uint64_t missing = 0;
    uint64_t gaps = 0;
    Gap largest;
  };
  // The numberings with gaps, the most nearly whole first: a complete log with one hole is
  // what an edited log looks like, a log saved from a filtered view misses most of its run.
  [[nodiscard]] std::vector<Holes> Summary() const;
  // Numberings left out for MAX_SPANS.
  [[nodiscard]] uint64_t scattered() const { return scattered_; }

 private:
  struct Span {
    uint64_t last = 0;
    std::optional<int64_t> first_ms;
    std::optional<int64_t> last_ms;
  };
  using Key = std::tuple<std::string, std::string, std::string>;
  struct Numbering {
    std::map<uint64_t, Span> spans;  // by first id
    bool abandoned = false;
  };
  std::map<Key, Numbering> numberings_;
  // The numbering and span the last record extended: most records follow the one before.
  Numbering* last_numbering_ = nullptr;
  std::map<uint64_t, Span>::iterator last_span_;
  Key last_key_;
  uint64_t scattered_ = 0;
};

}  // namespace yagura::scan

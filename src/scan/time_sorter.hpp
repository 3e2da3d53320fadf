// TimeSorter: lines in order of event time, as an investigator reads a timeline, whatever order
// the inputs came in: the alerts of `yagura scan --sort time`, the records of `yagura search
// --sort time`.
//
// Lines arrive formatted, with their event time. They are kept in memory up to a budget; beyond
// it each full buffer is sorted and written to a temporary file (a run), and the runs are merged
// at the end. So a hunt over many hosts' logs that raises millions of alerts needs the budget
// in memory, not the whole output. At most MAX_RUNS runs are open at once: more are merged into
// one first, so the process does not run out of file descriptors. Temporary files are unlinked
// as soon as they are created: a process that is killed leaves none behind.
//
// Order: by time, earliest first; lines with the same time, and lines without a time (at the
// end), keep the order they came in, so a scan's output is the same for any number of threads.
//
// A run that cannot be written (the directory full, gone or read-only) loses nothing: the sorter
// stops spilling, keeps the rest in memory past its budget, and says why (spill_problem()), so
// the output is still complete and in order. Only a run that cannot be read back is an error.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace yagura::scan {

class TimeSorter {
 public:
  static constexpr size_t DEFAULT_MEMORY_BYTES = size_t{64} << 20;
  static constexpr size_t MAX_RUNS = 64;

  // `spill_dir`: where runs go (empty: $TMPDIR, else /tmp).
  explicit TimeSorter(std::string spill_dir, size_t memory_bytes = DEFAULT_MEMORY_BYTES);
  ~TimeSorter();
  TimeSorter(const TimeSorter&) = delete;
  TimeSorter& operator=(const TimeSorter&) = delete;

  // `line`: the alert or record as written, its newline included. `time_ms`: its event time,
  // if known.
  Result<void> Add(std::optional<int64_t> time_ms, std::string_view line);
  // Writes every line added, in order, to `out`. Once.
  Result<void> WriteTo(std::FILE* out);

  [[nodiscard]] size_t runs_written() const { return runs_written_; }  // temporary files
  [[nodiscard]] size_t open_runs() const { return runs_.size(); }
  // Why lines past the budget stayed in memory (empty while every spill succeeded).
  [[nodiscard]] const std::string& spill_problem() const { return spill_problem_; }

 private:
  struct Entry {
    int64_t time = 0;     // INT64_MAX without a time
    uint64_t seq = 0;     // arrival order
    uint64_t offset = 0;  // in bytes_
    uint32_t size = 0;
  };
  struct Run;
  Result<void> Spill();
  Result<void> WriteRun();
  Result<void> ReadFailure(const std::string& error);
  void SortEntries();
  // A new, empty run in an unlinked temporary file.
  Result<std::unique_ptr<Run>> NewRun();
  [[nodiscard]] std::string SpillError(std::string_view what) const;
  // Merges the runs and the sorted entries in memory into `write(line)`, in order.
  template <typename Write>
  Result<void> Merge(Write&& write);

  std::string spill_dir_;
  size_t memory_bytes_;
  std::vector<Entry> entries_;
  std::string bytes_;
  uint64_t next_seq_ = 0;
  std::vector<std::unique_ptr<Run>> runs_;
  size_t runs_written_ = 0;
  std::string spill_problem_;
  bool read_failed_ = false;
};

}  // namespace yagura::scan

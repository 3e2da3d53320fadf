// TimeSorter (see time_sorter.hpp).
#include "scan/time_sorter.hpp"

#include <fmt/format.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <limits>
#include <queue>

namespace yagura::scan {

namespace {

constexpr int64_t NO_TIME = std::numeric_limits<int64_t>::max();
// A run's entry on disk: time, arrival order and size, then the line's bytes.
constexpr size_t RUN_HEADER_BYTES = 8 + 8 + 4;
constexpr size_t RUN_BUFFER_BYTES = size_t{1} << 20;

std::string SpillDirectory(const std::string& chosen) {
  if (!chosen.empty()) return chosen;
  const char* tmp = std::getenv("TMPDIR");
  return tmp != nullptr && *tmp != '\0' ? tmp : "/tmp";
}

}  // namespace

// One sorted run in an unlinked temporary file, and the entry of it the merge is at.
struct TimeSorter::Run {
  std::FILE* file = nullptr;
  std::unique_ptr<char[]> buffer;
  int64_t time = 0;
  uint64_t seq = 0;
  std::string line;

  ~Run() {
    if (file != nullptr) std::fclose(file);
  }
  [[nodiscard]] bool Put(int64_t entry_time, uint64_t entry_seq, std::string_view text) {
    char header[RUN_HEADER_BYTES];
    const auto size = static_cast<uint32_t>(text.size());
    std::memcpy(header, &entry_time, 8);
    std::memcpy(header + 8, &entry_seq, 8);
    std::memcpy(header + 16, &size, 4);
    return std::fwrite(header, 1, sizeof header, file) == sizeof header &&
           std::fwrite(text.data(), 1, text.size(), file) == text.size();
  }
  // Done writing: back to the start, for reading.
  [[nodiscard]] bool Rewind() {
    return std::fflush(file) == 0 && std::fseek(file, 0, SEEK_SET) == 0;
  }
  // Reads the next entry; false at the end (`error` set when the file could not be read).
  bool Next(std::string& error) {
    char header[RUN_HEADER_BYTES];
    const size_t got = std::fread(header, 1, sizeof header, file);
    if (got == 0 && std::feof(file)) return false;
    uint32_t size = 0;
    if (got == sizeof header) {
      std::memcpy(&time, header, 8);
      std::memcpy(&seq, header + 8, 8);
      std::memcpy(&size, header + 16, 4);
      line.resize(size);
      if (size == 0 || std::fread(line.data(), 1, size, file) == size) return true;
    }
    error = std::string("cannot read back a temporary file of sorted lines: ") +
            (std::ferror(file) ? std::strerror(errno) : "it ends early");
    return false;
  }
};

TimeSorter::TimeSorter(std::string spill_dir, size_t memory_bytes)
    : spill_dir_(SpillDirectory(spill_dir)), memory_bytes_(std::max<size_t>(memory_bytes, 1)) {}

TimeSorter::~TimeSorter() = default;

Result<void> TimeSorter::Add(std::optional<int64_t> time_ms, std::string_view line) {
  if (line.size() > std::numeric_limits<uint32_t>::max()) {
    return Fail(fmt::format("a line of {} bytes is too large to sort", line.size()));
  }
  // Times at the very end of the range would sort with the lines that have none: harmless.
  entries_.push_back(
      {time_ms.value_or(NO_TIME), next_seq_++, bytes_.size(), static_cast<uint32_t>(line.size())});
  bytes_.append(line);
  if (bytes_.size() + entries_.size() * sizeof(Entry) >= memory_bytes_) return Spill();
  return {};
}

void TimeSorter::SortEntries() {
  // Arrival order breaks ties, and entries arrive in it: a stable sort by time is enough.
  std::stable_sort(entries_.begin(), entries_.end(),
                   [](const Entry& a, const Entry& b) { return a.time < b.time; });
}

Result<std::unique_ptr<TimeSorter::Run>> TimeSorter::NewRun() {
  std::string path = (std::filesystem::path(spill_dir_) / "yagura-sort-XXXXXX").string();
  const int fd = ::mkstemp(path.data());
  if (fd < 0) return Fail(SpillError("create"));
  ::unlink(path.c_str());  // gone with the last descriptor, even if the scan is killed
  auto run = std::make_unique<Run>();
  run->file = ::fdopen(fd, "w+b");
  if (run->file == nullptr) {
    ::close(fd);
    return Fail(SpillError("open"));
  }
  run->buffer = std::make_unique<char[]>(RUN_BUFFER_BYTES);
  std::setvbuf(run->file, run->buffer.get(), _IOFBF, RUN_BUFFER_BYTES);
  ++runs_written_;
  return run;
}

std::string TimeSorter::SpillError(std::string_view what) const {
  return fmt::format(
      "cannot {} a temporary file of sorted lines in {}: {} (--sort-dir chooses "
      "another directory)",
      what, spill_dir_, std::strerror(errno));
}

Result<void> TimeSorter::Spill() {
  if (!spill_problem_.empty()) return {};  // a spill failed before: memory holds the rest
  SortEntries();
  auto spilled = WriteRun();
  if (spilled || read_failed_) return spilled;
  // The temporary directory cannot take the run (full, gone, read-only). Nothing is lost: every
  // line stays in memory, or in the runs written before, which go back to their starts.
  spill_problem_ = spilled.error().message;
  for (auto& run : runs_) {
    if (!run->Rewind()) return Fail(SpillError("rewind"));
  }
  return {};
}

Result<void> TimeSorter::WriteRun() {
  if (runs_.size() + 1 >= MAX_RUNS) {
    // One run of everything so far, this buffer included: descriptors stay bounded.
    auto merged = NewRun();
    if (!merged) return tl::unexpected(merged.error());
    Run& into = **merged;
    auto written = Merge([&](int64_t time, uint64_t seq, std::string_view line) {
      return into.Put(time, seq, line);
    });
    if (!written) return written;
    if (!into.Rewind()) return Fail(SpillError("write"));
    runs_.clear();
    runs_.push_back(std::move(*merged));
    entries_.clear();
    bytes_.clear();
    return {};
  }
  auto run = NewRun();
  if (!run) return tl::unexpected(run.error());
  for (const Entry& entry : entries_) {
    if (!(*run)->Put(entry.time, entry.seq, {bytes_.data() + entry.offset, entry.size})) {
      return Fail(SpillError("write"));
    }
  }
  if (!(*run)->Rewind()) return Fail(SpillError("write"));
  runs_.push_back(std::move(*run));
  entries_.clear();
  bytes_.clear();
  return {};
}

template <typename Write>
Result<void> TimeSorter::Merge(Write&& write) {
  // The source whose next line comes first (by time, then arrival) gives it. Sources: runs
  // 0..n-1, then memory as n.
  const size_t memory_source = runs_.size();
  size_t memory_at = 0;
  std::string error;
  auto key = [&](size_t source) -> std::pair<int64_t, uint64_t> {
    if (source == memory_source) return {entries_[memory_at].time, entries_[memory_at].seq};
    return {runs_[source]->time, runs_[source]->seq};
  };
  auto later = [&](size_t a, size_t b) { return key(a) > key(b); };
  std::priority_queue<size_t, std::vector<size_t>, decltype(later)> next(later);
  for (size_t r = 0; r < runs_.size(); ++r) {
    if (runs_[r]->Next(error)) next.push(r);
    if (!error.empty()) return ReadFailure(error);
  }
  if (!entries_.empty()) next.push(memory_source);
  while (!next.empty()) {
    const size_t source = next.top();
    next.pop();
    if (source == memory_source) {
      const Entry& entry = entries_[memory_at];
      if (!write(entry.time, entry.seq, {bytes_.data() + entry.offset, entry.size}))
        return Fail(SpillError("write"));
      if (++memory_at < entries_.size()) next.push(source);
      continue;
    }
    Run& run = *runs_[source];
    if (!write(run.time, run.seq, run.line)) return Fail(SpillError("write"));
    if (run.Next(error)) next.push(source);
    if (!error.empty()) return ReadFailure(error);
  }
  return {};
}

Result<void> TimeSorter::ReadFailure(const std::string& error) {
  read_failed_ = true;
  return Fail(error);
}

Result<void> TimeSorter::WriteTo(std::FILE* out) {
  SortEntries();
  // Failures to write `out` itself are the caller's to find (ferror), as for unsorted output.
  auto written = Merge([&](int64_t, uint64_t, std::string_view line) {
    std::fwrite(line.data(), 1, line.size(), out);
    return true;
  });
  runs_.clear();
  entries_.clear();
  bytes_.clear();
  return written;
}

}  // namespace yagura::scan

// Reading one large JSON-lines file with several threads, a segment each.
//
// A scan with several threads reads most inputs on one thread and hands batches of records to
// workers. For a large uncompressed JSON file the workers read it themselves instead, one
// segment at a time: each byte is then read, framed, parsed and matched on one core. (Through
// the reader thread, every byte was copied and framed on one core and parsed on another, and
// the reader took its share of the two cores: two threads ran at 0.82-0.89 of the rate of two
// separate one-thread scans.)
//
// Segment k nominally covers bytes [k * segment_size, (k + 1) * segment_size). It starts at the
// first line start at or after its nominal start (segment 0 at byte 0) and ends where the next
// one starts. Framed on its own with a fresh framer, a segment gives exactly what framing the
// whole file gives, provided the whole file's framer is at a clean line start where the segment
// begins (JsonFramer::at_clean_line_start: outside any value, top-level array or skipped text).
// The reader of each segment checks that for the next segment, from the state its own framing
// ends in. Where it does not hold (a pretty-printed value runs across the boundary), the reader
// reads on through the following segments until one starts clean, and the caller drops the
// results of the segments it covered. So the records, their numbers, their lines and the
// framing errors are those of reading the file from its start, with any number of threads.
//
// Numbers and lines of a segment's records are relative to the segment (1-based); the caller
// adds the values and newlines of the segments before it (JsonSegment). The file is read up to
// the size it had when it was found splittable (a log still being written is read as it was
// then). Internal to src/event.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "core/large_buffer.hpp"
#include "core/result.hpp"
#include "event/input.hpp"
#include "event/record.hpp"

namespace yagura::event {

// What reading a segment covered.
struct JsonSegment {
  uint64_t first = 0;     // the segment read
  uint64_t end = 0;       // segments covered: [first, end); more than one when a value ran on
  uint64_t bytes = 0;     // bytes covered
  uint64_t values = 0;    // JSON values framed (records handed on)
  uint64_t newlines = 0;  // newlines in the bytes covered
  uint64_t errors = 0;    // framing errors reported
};

class JsonSegmentReader {
 public:
  static constexpr uint64_t DEFAULT_SEGMENT_SIZE = uint64_t{1} << 20;

  // The size of `file` when it is to be read in segments of `segment_size`: a regular file,
  // not compressed, at least two segments long, whose format (`forced`, or detected from its
  // first bytes) is JSON and whose first value is an object (not a top-level array, whose
  // elements a fresh framer could not tell from top-level values).
  [[nodiscard]] static std::optional<uint64_t> SplittableSize(
      const InputFile& file, InputFormat forced,
      uint64_t segment_size = DEFAULT_SEGMENT_SIZE);
  [[nodiscard]] static uint64_t SegmentCount(uint64_t size, uint64_t segment_size) {
    return (size + segment_size - 1) / segment_size;
  }

  explicit JsonSegmentReader(uint64_t segment_size = DEFAULT_SEGMENT_SIZE,
                             size_t max_record_size = MAX_RECORD_SIZE);
  ~JsonSegmentReader();
  JsonSegmentReader(const JsonSegmentReader&) = delete;
  JsonSegmentReader& operator=(const JsonSegmentReader&) = delete;

  // Opens `path`, of `size` bytes (as SplittableSize found it); a reader keeps one file open.
  [[nodiscard]] Result<void> Open(const std::string& path, uint64_t size);
  [[nodiscard]] const std::string& path() const { return path_; }

  // Record views (with RECORD_PADDING readable bytes after them) are valid during the call;
  // `number` and `line` are relative to the segment, `source_index` is left 0.
  using OnRecord = std::function<void(const Record&)>;
  using OnError = std::function<void(uint64_t line, std::string_view message)>;

  // Reads, frames and hands on segment `k` and, where a value runs past its end, the segments
  // after it. `covered`, when given, is raised to the end of what this read covers as soon as
  // it is known to run on, so that others can skip those segments. Fails on a read error (or a
  // file that shrank), after handing on what came before it.
  [[nodiscard]] Result<JsonSegment> Read(uint64_t k, const OnRecord& on_record,
                                         const OnError& on_error,
                                         std::atomic<uint64_t>* covered = nullptr);
  // JSON line records, as RecordReader::set_json_line_records: on_record calls
  // RejectLineRecord() for a record with `whole_line` that does not parse.
  void set_line_records(bool on) { line_records_ = on; }
  void RejectLineRecord() { line_rejected_ = true; }

 private:
  // Where segment `k` starts: just after the first newline at or after its nominal start.
  [[nodiscard]] Result<uint64_t> Start(uint64_t k);
  [[nodiscard]] Result<size_t> ReadAt(char* out, size_t size, uint64_t offset);
  // At least `bytes` of capacity, keeping the buffer's first `keep` bytes.
  void Reserve(size_t bytes, size_t keep);

  uint64_t segment_size_;
  size_t max_record_size_;
  int fd_ = -1;
  std::string path_;
  uint64_t size_ = 0;
  LargeBuffer buffer_;
  size_t capacity_ = 0;  // usable bytes of buffer_; RECORD_PADDING more are allocated
  bool line_records_ = false;
  bool line_rejected_ = false;
};

}  // namespace yagura::event

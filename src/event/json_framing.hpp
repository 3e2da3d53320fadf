// JsonFramer: finds the top-level JSON values in a byte stream without parsing them.
//
// One pass of a small state machine (inside/outside a string, escape, bracket depth) splits
// JSON lines, concatenated and pretty-printed values, and top-level arrays (each element is one
// record) into records. Parsing is left to simdjson, so the framer only balances brackets; a
// value with wrong brackets still frames and then fails to parse. The state survives buffer
// refills, so a value split across reads is never rescanned, and a value too large to keep can
// be scanned to its end while its bytes are dropped.
//
// Resynchronisation after broken input: a raw newline inside a string ends the broken value
// (JSON strings cannot hold one); so does a '{' at the start of a line while an unclosed value
// that itself began at the start of a line is open (the next JSON line follows a truncated one).
// Well-formed stretches are classified 64 bytes at a time (quote, backslash, bracket and newline
// masks; the string mask by carry-less multiplication); anything unusual in a block sends that
// block through the byte-by-byte state machine, which alone decides errors.
// Text that is no JSON value is skipped up to the end of its line (or the next ',' / ']' inside
// a top-level array). Internal to src/event.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace yagura::event {

class JsonFramer {
 public:
  enum class Kind : uint8_t {
    kRecord,    // [begin, end) is one value starting on `line`
    kError,     // bytes from `line` were skipped for `message`
    kNeedMore,  // everything up to `size` is consumed; feed more bytes (or eof)
  };
  struct Frame {
    Kind kind;
    size_t begin = 0;
    size_t end = 0;
    uint64_t line = 0;
    std::string_view message;
    bool whole_line = false;  // a line record (set_line_records), not framed byte by byte
  };

  // Scans data[position(), size). `eof` tells that no more bytes will follow.
  Frame Next(const char* data, size_t size, bool eof);

  // The first offset the framer still needs (the start of the open value, or the scan position);
  // bytes before it may be discarded.
  [[nodiscard]] size_t keep_from() const { return in_record_ && !discarding_ ? record_start_ : pos_; }
  // Bytes of the open value scanned so far (0 when none is open).
  [[nodiscard]] size_t open_record_size() const { return in_record_ ? pos_ - record_start_ : 0; }
  // The caller moved the buffer contents `shift` bytes towards the front.
  void Rebase(size_t shift) {
    pos_ -= shift;
    record_start_ = record_start_ >= shift ? record_start_ - shift : 0;
    no_line_record_before_ = no_line_record_before_ >= shift ? no_line_record_before_ - shift : 0;
  }
  // The data begins right after a newline of a longer stream (a segment of a file read by
  // several threads): no byte order mark is looked for. Framing it from here gives what framing
  // the whole stream gives when that stream's framer is at_clean_line_start() there.
  void ResumeAtLineStart() { started_ = true; }
  // Everything so far is consumed, the last byte was a newline, and no value, top-level array
  // or skipped text is open: what follows frames as if it were the start of a stream.
  [[nodiscard]] bool at_clean_line_start() const {
    return started_ && at_line_start_ && !in_record_ && !array_mode_ && !garbage_;
  }
  // The line the scan is on (1-based; newlines consumed so far plus one).
  [[nodiscard]] uint64_t line() const { return line_; }
  // Off: every byte goes through the byte-by-byte scanner, which the 64-byte block scanner
  // must agree with exactly (tests compare the two).
  void set_block_scanning(bool enabled) { block_scanning_ = enabled; }
  // Blocks are classified with AVX-512BW where the processor has it, else with AVX2; tests
  // hold both to the byte scanner (off: AVX2 even where AVX-512BW is there).
  void set_wide_blocks(bool enabled) { wide_blocks_ = enabled && HasWideBlocks(); }
  [[nodiscard]] static bool HasWideBlocks();
  // Line records: at a clean line start, a line that begins with '{' and ends with '}' (but
  // for spaces, tabs and a carriage return after it) is taken as one record without being
  // scanned, when its newline is already in the buffer. In JSON lines, almost every line is
  // exactly one value, and framing was a tenth of a scan. Whoever parses the record must call
  // Reframe() when it is not one JSON object, before the next Next(): the framer then goes back
  // to the line's start and frames it byte by byte, so a line that is not a value on its own
  // (the first line of a pretty-printed value, two values on a line, broken JSON) frames
  // exactly as it does without line records. Lines longer than `max_record_size` are framed
  // the ordinary way too, which reports them as too large. Off by default.
  void set_line_records(bool on, size_t max_record_size = SIZE_MAX) {
    line_records_ = on;
    max_line_record_ = max_record_size;
  }
  // The last frame, a line record, did not parse: frame its line again the ordinary way.
  void Reframe() {
    pos_ = last_line_.begin;
    line_ = last_line_.line;
    at_line_start_ = true;
    no_line_record_before_ = last_line_.next;
  }
  // The open value is too large to keep: scan it to its end without keeping its bytes, then
  // report it as an error with `message`.
  void Discard(std::string_view message) {
    discarding_ = true;
    discard_message_ = message;
  }

 private:
  Frame StartOrSkip(const char* data, size_t size, bool eof);
  // The line record starting at pos_ ('{' at a clean line start), or a frame of kind kNeedMore
  // when the line is not one.
  Frame LineRecord(const char* data, size_t size);
  Frame ScanRecord(const char* data, size_t size, bool eof);
  Frame EndRecordWithError(std::string_view message);

  size_t pos_ = 0;
  uint64_t line_ = 1;
  bool at_line_start_ = true;
  bool started_ = false;  // past a possible byte order mark

  bool array_mode_ = false;  // inside a top-level '[': its elements are the records
  bool garbage_ = false;     // skipping text that is no JSON value
  uint64_t garbage_line_ = 0;

  bool in_record_ = false;
  size_t record_start_ = 0;
  uint64_t record_line_ = 0;
  bool record_at_line_start_ = false;
  uint32_t depth_ = 0;
  bool in_string_ = false;
  bool escape_ = false;
  bool discarding_ = false;
  std::string_view discard_message_;
  bool block_scanning_ = true;
  bool line_records_ = false;
  size_t max_line_record_ = SIZE_MAX;
  struct LastLine {
    size_t begin = 0;  // where the line record began
    uint64_t line = 0;
    size_t next = 0;  // just past its newline
  } last_line_;
  size_t no_line_record_before_ = 0;  // a reframed line is framed the ordinary way
  bool wide_blocks_ = HasWideBlocks();
};

}  // namespace yagura::event

// Inputs: turning the paths a user names into a stream of Records.
//
// Paths may be files, directories (walked recursively, in sorted order so results are
// reproducible) or "-" for stdin. gzip and zstd files are decompressed transparently (by magic
// bytes, not by name). The format of each file is detected from its content unless forced:
// EVTX by its "ElfFile" signature, JSON by a leading '{' or '[', syslog by an RFC 5424/3164
// header, web server access logs by their line shape; anything else is read as text lines.
// A file that cannot be read, and every record that cannot be framed, is reported to
// Diagnostics with its location; reading goes on with the next record or file.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/diagnostics.hpp"
#include "core/result.hpp"
#include "event/record.hpp"

namespace yagura::event {

enum class InputFormat : uint8_t {
  kAuto,
  kJson,       // JSON lines, a JSON array, or concatenated (pretty-printed) JSON values
  kEvtx,       // binary Windows event log
  kSyslog,     // RFC 5424 or RFC 3164 lines
  kWebAccess,  // Apache/nginx combined or common log format, IIS W3C extended
  kText,       // one record per line, no structure
};

[[nodiscard]] Result<InputFormat> ParseInputFormat(std::string_view name);
[[nodiscard]] std::string_view InputFormatName(InputFormat format);

struct InputFile {
  std::string path;  // "-" for stdin
};

// Expands directories (recursively) and checks that each path exists. Unreadable paths are
// reported and left out.
[[nodiscard]] std::vector<InputFile> ExpandInputs(const std::vector<std::string>& paths,
                                                  Diagnostics& diagnostics);

struct ReadStats {
  uint64_t files_read = 0;
  uint64_t files_failed = 0;
  uint64_t records = 0;          // records handed on
  uint64_t records_skipped = 0;  // records that could not be framed or decoded
  uint64_t bytes = 0;            // bytes of input consumed (after decompression)
};

// Reads records from files. One reader per thread; the Record views passed to `on_record`
// (and their padding) are valid only during the call.
class RecordReader {
 public:
  using OnRecord = std::function<void(const Record&)>;
  // Called with the number of compressed-or-raw bytes of the current file consumed so far,
  // for progress display.
  using OnProgress = std::function<void(uint64_t bytes_done)>;

  RecordReader(InputFormat forced, Diagnostics& diagnostics);
  ~RecordReader();

  // Reads one file; returns false when the file could not be read at all.
  bool ReadFile(const InputFile& file, uint32_t source_index, const OnRecord& on_record,
                const OnProgress& on_progress = {});

  [[nodiscard]] const ReadStats& stats() const { return stats_; }

 private:
  InputFormat forced_;
  Diagnostics& diagnostics_;
  ReadStats stats_;
};

}  // namespace yagura::event

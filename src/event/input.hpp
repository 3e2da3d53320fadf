// Inputs: turning the paths a user names into a stream of Records.
//
// Paths may be files, directories (walked recursively, in sorted order so results are
// reproducible) or "-" for stdin. gzip and zstd files are decompressed transparently (by magic
// bytes, not by name), and ZIP and tar archives (.tar, .tar.gz, .tar.zst) are read as folders of
// their members (zip_archive.hpp, tar_archive.hpp). The
// format of each file is detected from its content unless forced: EVTX by its "ElfFile" signature,
// JSON by a leading '{' or '[', Windows events exported as XML by their <Event> elements (UTF-16
// with a byte order mark, as Windows writes it, is read as UTF-8), syslog by an RFC 5424/3164
// header, web server access logs by their
// line shape; other text is read as lines, and binary data of no known format is reported as
// unreadable (a forced format reads it anyway). A file that cannot be read, and every record that
// cannot be framed, is reported to Diagnostics with its location; reading goes on with the next
// record or file.
//
// Who counts what: the reader reports (and counts in ReadStats::records_skipped) only what it
// cannot frame or decode: an unterminated JSON value, text that is no JSON value where JSON is
// expected, a record over MAX_RECORD_SIZE, an EVTX record libevtx cannot read, an EVTX chunk
// whose checksum fails or that truncation cut off (reported as "path chunk N"). A record that is
// framed and handed on but then fails EventParser::Parse (invalid JSON inside a well-bracketed
// value, invalid UTF-8 in JSON) is counted in ReadStats::records and must be reported by the
// caller of Parse, which knows the location from Record::line / Record::number. Files that cannot
// be opened are reported as kInputUnreadable (where = path) and counted in files_failed; a read
// or decompression error part way through a file is reported the same way, but the records
// before it were handed on and the file counts in files_read.
//
// Record numbering: Record::number is the 1-based JSON value, EVTX record or line number (JSON
// values are counted in file order, so elements of a top-level array and values sharing a line
// get distinct numbers); Record::line is where the record starts, for "path:line" locations.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
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
  kXml,        // Windows events as XML: Event Viewer's "Save as XML", wevtutil qe /f:xml, ToXml()
  kSyslog,     // RFC 5424 or RFC 3164 lines
  kWebAccess,  // Apache/nginx combined or common log format, IIS W3C extended
  kText,       // one record per line, no structure
};

[[nodiscard]] Result<InputFormat> ParseInputFormat(std::string_view name);
[[nodiscard]] std::string_view InputFormatName(InputFormat format);

// The format detected for an input that begins with `head` (all of it when `whole_file`);
// kText for binary data too.
[[nodiscard]] InputFormat DetectInputFormat(std::string_view head, bool whole_file);

// Records larger than this are reported and skipped, so one runaway line cannot take memory
// without bound. The reader's buffer never grows beyond it plus one read chunk.
inline constexpr size_t MAX_RECORD_SIZE = size_t{64} << 20;

class ByteSource;

// The separator between an archive's path and a member's name in the name shown for a member.
inline constexpr std::string_view ARCHIVE_MEMBER_SEPARATOR = "!/";

// A file inside a ZIP or tar archive, read from the archive.
class ArchiveMember {
 public:
  virtual ~ArchiveMember() = default;
  [[nodiscard]] virtual Result<std::unique_ptr<ByteSource>> Open() const = 0;
  // Whether it can be read apart from the archive's other members, in any order and on any
  // thread: a ZIP member, a member of an uncompressed tar archive (not one of a compressed tar
  // archive, whose members share one stream).
  [[nodiscard]] virtual bool read_apart() const = 0;
  // Its bytes, uncompressed.
  [[nodiscard]] virtual uint64_t uncompressed_size() const = 0;
};

struct InputFile {
  std::string path;  // "-" for stdin; "ARCHIVE!/NAME" for a member of an archive
  // Bytes when the input was listed (0 for stdin): what progress reports measure against, so a
  // scan of many small files does not look each up again. A ZIP member's compressed bytes, a
  // tar member's bytes.
  uint64_t size = 0;
  // Set for a member of an archive, which is read from the archive. Such members are read by
  // one thread, in their listed order (a compressed tar archive's members share one stream).
  std::shared_ptr<const ArchiveMember> archive_member = nullptr;
};

// Whether `path` names a regular file, found without opening it: the checks below open only
// those. Opening a named pipe to look at it would take a reader's place for a moment, and the
// writer, finding no reader once it is closed, would get SIGPIPE (or its data would be split
// between that look and the real read).
[[nodiscard]] bool IsRegularFile(const std::string& path);

// The size of `file` when it is an EVTX file of at most `limit` bytes that readers can take
// over by name: a regular file (not stdin, not compressed) that starts with the EVTX
// signature, read as EVTX under `forced` (kAuto or kEvtx). A scan with several threads lets its
// workers read such files themselves, rendering included: whole, or a range of chunks each.
[[nodiscard]] std::optional<uint64_t> PlainEvtxFileSize(const InputFile& file, InputFormat forced,
                                                        uint64_t limit);

// The uncompressed size of `file` when it is an archive member named *.evtx that can be read
// apart (ArchiveMember::read_apart), read as EVTX under `forced` (kAuto or kEvtx): a scan with
// several threads lets its workers read such members whole, as they read plain EVTX files.
[[nodiscard]] std::optional<uint64_t> ArchiveEvtxMemberSize(const InputFile& file,
                                                            InputFormat forced);

// Expands directories (recursively) and archives (into their members) and checks that each path
// exists. Unreadable paths and archives are reported and left out; a damaged tar archive's
// members before the damage are kept, and the damage is reported.
[[nodiscard]] std::vector<InputFile> ExpandInputs(const std::vector<std::string>& paths,
                                                  Diagnostics& diagnostics);

struct ReadStats {
  uint64_t files_read = 0;
  uint64_t files_failed = 0;
  uint64_t records = 0;          // records handed on
  uint64_t records_skipped = 0;  // records that could not be framed or decoded
  uint64_t bytes = 0;            // bytes of input consumed (after decompression)
  uint64_t evtx_native_records = 0;   // EVTX records rendered by Yagura's BinXML reader
  uint64_t evtx_libevtx_records = 0;  // EVTX records rendered by libevtx (damaged files...)

  // Field by field: what readers on several threads read together, and what one read since.
  ReadStats& operator+=(const ReadStats& other);
  [[nodiscard]] ReadStats operator-(const ReadStats& earlier) const;
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

  // Lowers the record size limit (tests; memory-constrained deployments).
  void set_max_record_size(size_t bytes) { max_record_size_ = bytes; }
  // Lets a consumer keep records past the on_record call without copying them (a scan with
  // several threads hands them to workers). While on_record runs for a record of a JSON or
  // line-format file, shared_buffer() holds the storage its `data` lies in (not its `schema`,
  // which is the reader's own); while a copy of it is kept, the reader reads on into other
  // storage instead of writing over it. Empty for EVTX records, and when sharing is off.
  void set_share_buffers(bool share) { share_buffers_ = share; }
  [[nodiscard]] const std::shared_ptr<char[]>& shared_buffer() const;

  // Whether EVTX files also yield the deleted records libevtx recovers from free space,
  // numbered after the file's regular records. Off by default: libevtx often renders such
  // remnants with the wrong template (garbled names), which would be classified and matched as
  // if they were real events; only well-formed ones are handed on when this is on.
  void set_recover_deleted(bool recover) { recover_deleted_ = recover; }
  // EVTX records rendered with an outline carry only the text the outline points at, not
  // their XML (see Record::outline): for readers that parse and convert records through
  // EventParser, which reads the outline alone.
  void set_evtx_outline_only(bool on);
  // JSON lines taken as records without framing them byte by byte (JsonFramer's line
  // records), for a consumer that parses each record during the on_record call and calls
  // RejectLineRecord() there for a record with `whole_line` that does not parse (it is then
  // not counted, and the line is framed again). Off by default.
  void set_json_line_records(bool on) { json_line_records_ = on; }
  void RejectLineRecord() { line_rejected_ = true; }
  // Called from on_record: the file being read ends after this record (a consumer that has
  // found what it wanted). Cleared when the next file starts.
  void StopFile() { stop_file_ = true; }

 private:
  struct Impl;
  InputFormat forced_;
  Diagnostics& diagnostics_;
  ReadStats stats_;
  size_t max_record_size_ = MAX_RECORD_SIZE;
  bool recover_deleted_ = false;
  bool share_buffers_ = false;
  bool json_line_records_ = false;
  bool line_rejected_ = false;
  bool stop_file_ = false;
  std::unique_ptr<Impl> impl_;
};

}  // namespace yagura::event

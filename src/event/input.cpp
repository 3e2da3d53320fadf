// Reading inputs: path expansion, format detection, and the framing loop.
//
// Each file is read through one buffer that holds whole records: records are views into it
// (with RECORD_PADDING readable bytes after them, as simdjson wants), so nothing is copied per
// record. When the buffer runs out mid-record, the unfinished record is moved to the front and
// more is read; the buffer grows only while a single record needs it, up to the record size
// limit, beyond which the record is scanned to its end without being kept and then reported.
// A consumer that keeps records past the callback (set_share_buffers) holds the buffer itself;
// the reader then moves the unfinished record into another buffer instead, from a pool.
// Formats are detected from the first (decompressed) bytes: the EVTX signature, a leading '{' or
// '[', or a vote over the first lines (W3C directives, syslog headers, access-log shape). Data
// that is none of these and not text either is refused unless a format is forced.
#include "event/input.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>
#include <mutex>
#include <system_error>

#include "core/large_buffer.hpp"
#include "event/byte_source.hpp"
#include "event/evtx_reader.hpp"
#include "event/json_framing.hpp"
#include "event/record.hpp"
#include "event/syslog.hpp"
#include "event/tar_archive.hpp"
#include "event/web_access.hpp"
#include "event/zip_archive.hpp"

namespace yagura::event {
namespace {

namespace fs = std::filesystem;

// With its padding, a buffer of this capacity fills exactly two huge pages (AllocateLarge).
constexpr size_t INITIAL_CAPACITY = (size_t{4} << 20) - RECORD_PADDING;
// With shared buffers (several threads), each buffer stays in use until the batches in it are
// matched, so several are in flight, and each is memory the process touches for the first time.
// That costs more than it seems: on virtual machines whose hypervisor backs guest memory lazily,
// zeroing a fresh 2 MiB page took about 3.5 ms (measured on the project's 2-core machine), as
// long as reading 8 MiB. Buffers of one huge page keep fewer bytes in flight.
constexpr size_t SHARED_CAPACITY = (size_t{2} << 20) - RECORD_PADDING;
constexpr size_t READ_CHUNK = size_t{1} << 20;
// What one read() asks for when records are handled as they are framed: small enough that the
// bytes are still in the core's own cache (1-2 MiB of L2 on the machines measured) when the
// framer and the parser reach them. Reading 4 MiB at once pushed them out to L3 first.
// Shared buffers are still filled whole: a buffer then holds records until they are matched,
// and every compaction would take another one.
constexpr size_t CACHED_READ = size_t{256} << 10;
constexpr size_t DETECT_BYTES = size_t{64} << 10;
// EVTX input that must be copied before it is read (an archive member), up to this size, is
// copied to memory rather than to a temporary file.
constexpr uint64_t MEMORY_SPOOL_LIMIT = uint64_t{256} << 20;
constexpr size_t EVTX_SIGNATURE_PAGE = 4096;
constexpr size_t DETECT_LINES = 20;

constexpr std::array<std::pair<std::string_view, InputFormat>, 13> FORMAT_NAMES = {{
    {"auto", InputFormat::kAuto},
    {"json", InputFormat::kJson},
    {"evtx", InputFormat::kEvtx},
    {"xml", InputFormat::kXml},
    {"syslog", InputFormat::kSyslog},
    {"web", InputFormat::kWebAccess},
    {"text", InputFormat::kText},
    // Accepted spellings besides the canonical names above.
    {"jsonl", InputFormat::kJson},
    {"ndjson", InputFormat::kJson},
    {"webaccess", InputFormat::kWebAccess},
    {"access", InputFormat::kWebAccess},
    {"w3c", InputFormat::kWebAccess},
    {"iis", InputFormat::kWebAccess},
}};

RecordFormat ToRecordFormat(InputFormat format) {
  switch (format) {
    case InputFormat::kJson:
      return RecordFormat::kJson;
    case InputFormat::kEvtx:
    case InputFormat::kXml:  // each <Event> element as an EVTX record's XML
      return RecordFormat::kEvtx;
    case InputFormat::kSyslog:
      return RecordFormat::kSyslog;
    case InputFormat::kWebAccess:
      return RecordFormat::kWebAccess;
    default:
      return RecordFormat::kText;
  }
}

std::string_view TrimLine(std::string_view line) {
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) {
    line.remove_suffix(1);
  }
  return line;
}

// Binary data is no text format: more than 1 byte in 20 is a control character (NUL included:
// UTF-16 text is half NULs) or not valid UTF-8. Real text logs stay far below that even when
// they quote binary junk (a TLS handshake sent to a web server is logged as the request).
bool LooksBinary(std::string_view head) {
  if (head.substr(0, 2) == "\xFF\xFE" || head.substr(0, 2) == "\xFE\xFF") return true;  // UTF-16
  size_t odd = 0;
  size_t i = 0;
  // A sequence cut off at the end of the sample is not held against it.
  const size_t end = head.size() > 3 ? head.size() - 3 : 0;
  while (i < end) {
    auto c = static_cast<unsigned char>(head[i]);
    if (c < 0x80) {
      if (c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f' && c != '\v' && c != 0x1b) {
        ++odd;
      }
      ++i;
      continue;
    }
    size_t length = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
    bool valid = length > 0;
    for (size_t k = 1; valid && k < length; ++k) {
      valid = (static_cast<unsigned char>(head[i + k]) & 0xc0) == 0x80;
    }
    if (!valid) {
      ++odd;
      ++i;
    } else {
      i += length;
    }
  }
  return odd >= 8 && odd * 20 > head.size();
}

// Where the next <Event> start tag begins at or after `from` (not <Events>, <EventData>...).
size_t FindEventStart(std::string_view text, size_t from) {
  while (true) {
    const size_t at = text.find("<Event", from);
    if (at == std::string_view::npos || at + 6 >= text.size()) return std::string_view::npos;
    const char next = text[at + 6];
    if (next == '>' || next == '/' || next == ' ' || next == '\t' || next == '\r' || next == '\n')
      return at;
    from = at + 6;
  }
}

bool IsEvtxSignature(std::string_view head) {
  return head.size() >= 8 && std::memcmp(head.data(), "ElfFile\0", 8) == 0;
}

InputFormat DetectFormat(std::string_view head, bool whole_file, bool& binary) {
  binary = false;
  if (IsEvtxSignature(head)) return InputFormat::kEvtx;
  if (LooksBinary(head)) {
    binary = true;
    return InputFormat::kText;
  }
  std::string_view rest = head;
  if (rest.substr(0, 3) == "\xEF\xBB\xBF") rest.remove_prefix(3);
  size_t first = rest.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return InputFormat::kText;
  // Windows events as XML: an <Event> element at the start of a line, after an XML
  // declaration, an <Events> root, or text with no markup (a tool's banner, as evtxexport
  // writes before its events). Not one inside a line: Sysmon for Linux writes each event's XML
  // as a syslog message, and such a file is syslog.
  if (const size_t event = FindEventStart(rest, first); event != std::string_view::npos) {
    const std::string_view before = rest.substr(first, event - first);
    const bool line_start = before.empty() || before.back() == '\n' || before.back() == '>';
    if (line_start && (before.find('<') == std::string_view::npos ||
                       before.substr(0, 5) == "<?xml" || before.substr(0, 7) == "<Events"))
      return InputFormat::kXml;
  }
  // '{' then a key or '}', or '[' then an object or ']': a text line may also start with '['
  // ("[Sun Dec 04 04:47:44 2005] [notice] ...").
  if (rest[first] == '{' || rest[first] == '[') {
    size_t next = rest.find_first_not_of(" \t\r\n", first + 1);
    char expected_open = rest[first] == '{' ? '"' : '{';
    char expected_close = rest[first] == '{' ? '}' : ']';
    if (next == std::string_view::npos || rest[next] == expected_open ||
        rest[next] == expected_close) {
      return InputFormat::kJson;
    }
  }
  size_t lines = 0;
  size_t syslog = 0;
  size_t web = 0;
  while (!rest.empty() && lines < DETECT_LINES) {
    size_t newline = rest.find('\n');
    if (newline == std::string_view::npos && !whole_file) break;  // a partial last line
    std::string_view line = TrimLine(rest.substr(0, newline));
    rest = newline == std::string_view::npos ? std::string_view() : rest.substr(newline + 1);
    if (line.empty()) continue;
    if (IsW3cDirective(line)) return InputFormat::kWebAccess;
    ++lines;
    if (LooksLikeAccessLine(line)) {
      ++web;
    } else if (LooksLikeSyslog(line)) {
      ++syslog;
    }
  }
  if (lines == 0) return InputFormat::kText;
  if (web * 2 > lines) return InputFormat::kWebAccess;
  if (syslog * 2 > lines) return InputFormat::kSyslog;
  return InputFormat::kText;
}

}  // namespace

InputFormat DetectInputFormat(std::string_view head, bool whole_file) {
  bool binary = false;
  return DetectFormat(head, whole_file, binary);
}

bool IsRegularFile(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::optional<uint64_t> PlainEvtxFileSize(const InputFile& file, InputFormat forced,
                                          uint64_t limit) {
  if (file.path == "-" || file.archive_member ||
      (forced != InputFormat::kAuto && forced != InputFormat::kEvtx))
    return std::nullopt;
  if (!IsRegularFile(file.path)) return std::nullopt;
  int fd = ::open(file.path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  struct stat st {};
  std::array<char, 8> head{};
  ssize_t got = -1;
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && static_cast<uint64_t>(st.st_size) <= limit) {
    do {
      got = ::pread(fd, head.data(), head.size(), 0);
    } while (got < 0 && errno == EINTR);
  }
  ::close(fd);
  if (got != static_cast<ssize_t>(head.size()) || !IsEvtxSignature({head.data(), head.size()}))
    return std::nullopt;
  return static_cast<uint64_t>(st.st_size);
}

std::optional<uint64_t> ArchiveEvtxMemberSize(const InputFile& file, InputFormat forced) {
  if (!file.archive_member || !file.archive_member->read_apart() ||
      (forced != InputFormat::kAuto && forced != InputFormat::kEvtx))
    return std::nullopt;
  const std::string_view path = file.path;
  constexpr std::string_view EXTENSION = ".evtx";
  if (path.size() < EXTENSION.size() ||
      !std::equal(EXTENSION.begin(), EXTENSION.end(), path.end() - EXTENSION.size(),
                  [](char a, char b) { return a == std::tolower(static_cast<unsigned char>(b)); }))
    return std::nullopt;
  return file.archive_member->uncompressed_size();
}

ReadStats& ReadStats::operator+=(const ReadStats& other) {
  files_read += other.files_read;
  files_failed += other.files_failed;
  records += other.records;
  records_skipped += other.records_skipped;
  bytes += other.bytes;
  evtx_native_records += other.evtx_native_records;
  evtx_libevtx_records += other.evtx_libevtx_records;
  return *this;
}

ReadStats ReadStats::operator-(const ReadStats& earlier) const {
  ReadStats since;
  since.files_read = files_read - earlier.files_read;
  since.files_failed = files_failed - earlier.files_failed;
  since.records = records - earlier.records;
  since.records_skipped = records_skipped - earlier.records_skipped;
  since.bytes = bytes - earlier.bytes;
  since.evtx_native_records = evtx_native_records - earlier.evtx_native_records;
  since.evtx_libevtx_records = evtx_libevtx_records - earlier.evtx_libevtx_records;
  return since;
}

Result<InputFormat> ParseInputFormat(std::string_view name) {
  for (const auto& [known, format] : FORMAT_NAMES) {
    if (name == known) return format;
  }
  return Fail("unknown input format '" + std::string(name) +
              "' (expected auto, json, evtx, xml, syslog, web or text)");
}

std::string_view InputFormatName(InputFormat format) {
  for (const auto& [known, value] : FORMAT_NAMES) {
    if (value == format) return known;
  }
  return "auto";
}

namespace {

class ZipInput final : public ArchiveMember {
 public:
  explicit ZipInput(ZipMember member) : member_(std::move(member)) {}
  Result<std::unique_ptr<ByteSource>> Open() const override { return OpenZipMember(member_); }
  bool read_apart() const override { return true; }
  uint64_t uncompressed_size() const override { return member_.size; }

 private:
  const ZipMember member_;
};

class TarInput final : public ArchiveMember {
 public:
  TarInput(std::shared_ptr<TarArchive> archive, TarMember member)
      : archive_(std::move(archive)), member_(std::move(member)) {}
  Result<std::unique_ptr<ByteSource>> Open() const override {
    return OpenTarMember(archive_, member_);
  }
  bool read_apart() const override { return !TarMembersShareAStream(*archive_); }
  uint64_t uncompressed_size() const override { return member_.size; }

 private:
  const std::shared_ptr<TarArchive> archive_;
  const TarMember member_;
};

std::string MemberPath(const std::string& archive, const std::string& name) {
  return archive + std::string(ARCHIVE_MEMBER_SEPARATOR) + name;
}

void AddZipArchive(std::vector<InputFile>& files, const std::string& path,
                   Diagnostics& diagnostics) {
  auto members = ListZipArchive(path);
  if (!members) {
    diagnostics.Report(DiagnosticKind::kInputUnreadable, path, members.error().message);
    return;
  }
  for (ZipMember& member : *members) {
    InputFile file;
    file.path = MemberPath(path, member.name);
    file.size = member.compressed_size;
    file.archive_member = std::make_shared<const ZipInput>(std::move(member));
    files.push_back(std::move(file));
  }
}

void AddTarArchive(std::vector<InputFile>& files, const std::string& path,
                   Diagnostics& diagnostics) {
  auto listing = ListTarArchive(path);
  if (!listing) {
    diagnostics.Report(DiagnosticKind::kInputUnreadable, path, listing.error().message);
    return;
  }
  for (TarMember& member : listing->members) {
    InputFile file;
    file.path = MemberPath(path, member.name);
    file.size = member.size;
    file.archive_member = std::make_shared<const TarInput>(listing->archive, std::move(member));
    files.push_back(std::move(file));
  }
  for (const auto& [name, why] : listing->not_read)
    diagnostics.Report(DiagnosticKind::kInputUnreadable, MemberPath(path, name), why);
  if (!listing->damage.empty())
    diagnostics.Report(
        DiagnosticKind::kInputUnreadable, path,
        "a damaged tar archive: " + listing->damage + " (the members before it are read)");
}

enum class ArchiveKind : uint8_t { kNone, kZip, kTar };

// Whether a regular file is an archive, from its first bytes, read with one opening
// (decompressed, for a tar archive in gzip or zstd). A file that cannot be read is no archive:
// reading it says why.
ArchiveKind ArchiveKindOf(const std::string& path) {
  auto source = OpenByteSource(path);
  if (!source) return ArchiveKind::kNone;
  char head[512];
  size_t got = 0;
  while (got < sizeof head) {
    auto n = (*source)->Read(head + got, sizeof head - got);
    if (!n || *n == 0) break;
    got += *n;
  }
  const std::string_view bytes(head, got);
  if ((*source)->compression() == Compression::kNone && IsZipSignature(bytes))
    return ArchiveKind::kZip;
  return IsTarHeader(bytes) ? ArchiveKind::kTar : ArchiveKind::kNone;
}

// A regular file as an input, or, for an archive, each of its members.
void AddFile(std::vector<InputFile>& files, std::string path, uint64_t size,
             Diagnostics& diagnostics) {
  switch (ArchiveKindOf(path)) {
    case ArchiveKind::kZip:
      AddZipArchive(files, path, diagnostics);
      break;
    case ArchiveKind::kTar:
      AddTarArchive(files, path, diagnostics);
      break;
    case ArchiveKind::kNone:
      files.push_back({std::move(path), size});
      break;
  }
}

}  // namespace

std::vector<InputFile> ExpandInputs(const std::vector<std::string>& paths,
                                    Diagnostics& diagnostics) {
  std::vector<InputFile> files;
  for (const std::string& path : paths) {
    if (path == "-") {
      files.push_back({path});
      continue;
    }
    struct stat info {};
    if (::stat(path.c_str(), &info) != 0) {
      diagnostics.Report(DiagnosticKind::kInputUnreadable, path,
                         std::error_code(errno, std::generic_category()).message());
      continue;
    }
    if (!S_ISDIR(info.st_mode)) {
      if (S_ISREG(info.st_mode)) {
        AddFile(files, path, static_cast<uint64_t>(info.st_size), diagnostics);
      } else {
        files.push_back({path, static_cast<uint64_t>(info.st_size)});  // a pipe, a device
      }
      continue;
    }
    std::error_code error;
    std::vector<InputFile> found;
    fs::recursive_directory_iterator it(path, fs::directory_options::skip_permission_denied, error);
    if (error) {
      diagnostics.Report(DiagnosticKind::kInputUnreadable, path, error.message());
      continue;
    }
    for (; it != fs::recursive_directory_iterator(); it.increment(error)) {
      if (error) break;
      std::error_code entry_error;
      if (!it->is_regular_file(entry_error)) continue;
      const uintmax_t size = it->file_size(entry_error);
      found.push_back({it->path().string(), entry_error ? 0 : static_cast<uint64_t>(size)});
    }
    if (error) {
      diagnostics.Report(DiagnosticKind::kInputUnreadable, path, error.message());
    }
    std::sort(found.begin(), found.end(),
              [](const InputFile& a, const InputFile& b) { return a.path < b.path; });
    for (auto& file : found) AddFile(files, std::move(file.path), file.size, diagnostics);
  }
  return files;
}

// --- RecordReader --------------------------------------------------------------------------

namespace {

// Reads until the buffer holds at least `want` bytes or the input ends. Returns false and
// reports when reading failed (the data read so far stays usable).
struct Filler {
  ByteSource& source;
  Diagnostics& diagnostics;
  const std::string& path;
  ReadStats& stats;
  const RecordReader::OnProgress& on_progress;
  size_t read_size = READ_CHUNK * 4;  // at most this much per read()

  bool Fill(char* buffer, size_t capacity, size_t& end, bool& eof, size_t want,
            bool stop_at_newline = false) {
    while (!eof && end < want && end < capacity) {
      if (stop_at_newline && std::memchr(buffer, '\n', end) != nullptr) break;
      size_t room = std::min(capacity - end, read_size);
      auto got = source.Read(buffer + end, room);
      if (!got) {
        diagnostics.Report(DiagnosticKind::kInputUnreadable, path,
                           got.error().message + " (after " + std::to_string(stats.bytes + end) +
                               " bytes; the rest of the file is skipped)");
        eof = true;
        return false;
      }
      if (*got == 0) {
        eof = true;
        break;
      }
      end += *got;
      if (on_progress) on_progress(source.raw_bytes());
    }
    return true;
  }
};

}  // namespace

// Spare buffers of one capacity, for a reader whose consumers keep its buffers past the
// on_record call (RecordReader::set_share_buffers): a buffer comes back here when the last of
// them lets go of it, so fresh pages, which cost a fault each, are touched once per run.
// Shared between threads: buffers come back from wherever their last holder drops them.
class BufferPool : public std::enable_shared_from_this<BufferPool> {
 public:
  explicit BufferPool(size_t capacity) : capacity_(capacity) {}
  ~BufferPool() {
    for (char* buffer : spare_) FreeBuffer(buffer, capacity_);
  }
  [[nodiscard]] size_t capacity() const { return capacity_; }
  std::shared_ptr<char[]> Get() {
    char* buffer = nullptr;
    {
      std::lock_guard lock(mutex_);
      if (!spare_.empty()) {
        buffer = spare_.back();
        spare_.pop_back();
      }
    }
    if (buffer == nullptr) buffer = NewBuffer(capacity_);
    return std::shared_ptr<char[]>(buffer, [pool = shared_from_this()](char* returned) {
      pool->Return(returned);
    });
  }
  // The allocation has RECORD_PADDING readable (zero) bytes past `capacity`.
  static char* NewBuffer(size_t capacity) { return AllocateLarge(capacity + RECORD_PADDING); }
  static void FreeBuffer(char* buffer, size_t capacity) {
    FreeLarge(buffer, capacity + RECORD_PADDING);
  }

 private:
  // Enough for the batches a scan keeps in flight; more are freed.
  static constexpr size_t MAX_SPARE = 16;
  void Return(char* buffer) {
    {
      std::lock_guard lock(mutex_);
      if (spare_.size() < MAX_SPARE) {
        spare_.push_back(buffer);
        return;
      }
    }
    FreeBuffer(buffer, capacity_);
  }

  const size_t capacity_;
  std::mutex mutex_;
  std::vector<char*> spare_;
};

struct RecordReader::Impl {
  RecordReader& owner;
  std::shared_ptr<char[]> buffer;
  size_t capacity = 0;  // usable bytes; the allocation has RECORD_PADDING more
  size_t end = 0;       // bytes of data in the buffer
  bool eof = false;
  std::string schema;   // W3C "#Fields:" of the current file
  EvtxReader evtx;
  // With shared buffers: where buffers of the usual capacity come from, and whether the
  // records being handed on lie in `buffer` (JSON and line formats; not EVTX).
  std::shared_ptr<BufferPool> pool;
  bool records_in_buffer = false;

  explicit Impl(RecordReader& reader) : owner(reader) {}

  std::shared_ptr<char[]> NewBuffer(size_t new_capacity) {
    if (pool && pool->capacity() == new_capacity) return pool->Get();
    return std::shared_ptr<char[]>(BufferPool::NewBuffer(new_capacity),
                                   [new_capacity](char* buffer) {
                                     BufferPool::FreeBuffer(buffer, new_capacity);
                                   });
  }
  void Allocate(size_t new_capacity) {
    auto grown = NewBuffer(new_capacity);
    if (end > 0) std::memcpy(grown.get(), buffer.get(), end);
    buffer = std::move(grown);
    capacity = new_capacity;
  }
  // Before writing over the buffer from its start: a consumer may still hold it.
  void Unshare() {
    if (buffer.use_count() > 1) buffer = NewBuffer(capacity);
  }
  // Moves the data from `keep` on to the front, or into another buffer while a consumer still
  // holds this one.
  void Compact(size_t keep) {
    if (buffer.use_count() > 1) {
      auto fresh = NewBuffer(capacity);
      std::memcpy(fresh.get(), buffer.get() + keep, end - keep);
      buffer = std::move(fresh);
    } else {
      std::memmove(buffer.get(), buffer.get() + keep, end - keep);
    }
    end -= keep;
  }

  bool ReadEvtx(const InputFile& file, ByteSource& source, uint32_t source_index,
                const OnRecord& on_record, const OnProgress& on_progress);
  void ReadJson(const InputFile& file, Filler& filler, uint32_t source_index,
                const OnRecord& on_record);
  void ReadLines(const InputFile& file, Filler& filler, InputFormat format,
                 uint32_t source_index, const OnRecord& on_record);
  void ReadXml(const InputFile& file, Filler& filler, uint32_t source_index,
               const OnRecord& on_record);
};

RecordReader::RecordReader(InputFormat forced, Diagnostics& diagnostics)
    : forced_(forced), diagnostics_(diagnostics), impl_(std::make_unique<Impl>(*this)) {}

RecordReader::~RecordReader() = default;

void RecordReader::set_evtx_outline_only(bool on) { impl_->evtx.set_outline_only(on); }

const std::shared_ptr<char[]>& RecordReader::shared_buffer() const {
  static const std::shared_ptr<char[]> none;
  return impl_->records_in_buffer ? impl_->buffer : none;
}

bool RecordReader::ReadFile(const InputFile& file, uint32_t source_index,
                            const OnRecord& on_record, const OnProgress& on_progress) {
  auto opened = file.archive_member ? file.archive_member->Open() : OpenByteSource(file.path);
  if (!opened) {
    diagnostics_.Report(DiagnosticKind::kInputUnreadable, file.path, opened.error().message);
    ++stats_.files_failed;
    return false;
  }
  ByteSource& source = **opened;
  Impl& s = *impl_;
  const size_t limit = max_record_size_ + READ_CHUNK;
  const size_t initial = std::min(share_buffers_ ? SHARED_CAPACITY : INITIAL_CAPACITY, limit);
  if (share_buffers_ && !s.pool) s.pool = std::make_shared<BufferPool>(initial);
  if (s.capacity == 0) s.Allocate(initial);
  s.end = 0;
  s.Unshare();
  s.eof = false;
  stop_file_ = false;
  s.schema.clear();
  Filler filler{source, diagnostics_, file.path, stats_, on_progress,
                share_buffers_ ? READ_CHUNK * 4 : CACHED_READ};

  // Detection looks at up to DETECT_BYTES, but a live stream on stdin must not wait for that
  // much: there the first complete line is enough. An EVTX file is read again by the EVTX
  // reader, so its first page, which shows the file signature, is all that is read here.
  const bool live = file.path == "-";
  filler.Fill(s.buffer.get(), std::min(s.capacity, EVTX_SIGNATURE_PAGE), s.end, s.eof,
              EVTX_SIGNATURE_PAGE, live);
  if (!IsEvtxSignature({s.buffer.get(), s.end}))
    filler.Fill(s.buffer.get(), std::min(s.capacity, DETECT_BYTES), s.end, s.eof, DETECT_BYTES,
                live);
  InputFormat format = forced_;
  if (format == InputFormat::kAuto) {
    bool binary = false;
    format = DetectFormat({s.buffer.get(), s.end}, s.eof, binary);
    if (binary) {
      diagnostics_.Report(DiagnosticKind::kInputUnreadable, file.path,
                          "binary data of no known format (not EVTX, JSON or text; UTF-16 text "
                          "must be converted to UTF-8); --format text reads it as lines anyway");
      ++stats_.files_failed;
      return false;
    }
  }

  bool ok = true;
  if (format == InputFormat::kEvtx) {
    ok = s.ReadEvtx(file, source, source_index, on_record, on_progress);
  } else if (format == InputFormat::kJson) {
    s.records_in_buffer = share_buffers_;
    s.ReadJson(file, filler, source_index, on_record);
  } else if (format == InputFormat::kXml) {
    s.records_in_buffer = share_buffers_;
    s.ReadXml(file, filler, source_index, on_record);
  } else {
    s.records_in_buffer = share_buffers_;
    s.ReadLines(file, filler, format, source_index, on_record);
  }
  s.records_in_buffer = false;
  if (!ok) {
    ++stats_.files_failed;
  } else {
    ++stats_.files_read;
  }
  // One huge record should not pin its buffer for the rest of the run.
  if (s.capacity > initial) {
    s.end = 0;
    s.buffer.reset();
    s.capacity = 0;
  }
  return ok;
}

bool RecordReader::Impl::ReadEvtx(const InputFile& file, ByteSource& source, uint32_t source_index,
                            const OnRecord& on_record, const OnProgress& on_progress) {
  Impl& s = *this;
  Diagnostics& diagnostics_ = owner.diagnostics_;
  ReadStats& stats_ = owner.stats_;
  const size_t max_record_size_ = owner.max_record_size_;
  std::string path = source.reopenable_path();
  std::string spooled;
  int in_memory = -1;  // the spool, when it is in memory
  uint64_t spooled_size = 0;
  if (path.empty()) {
    // libevtx reads files by name: spool stdin or decompressed input to a temporary file. An
    // archive member of a known, moderate size (a collection's logs) is spooled in memory: a
    // file made and removed for each would cost more than reading it.
    const int64_t expected = source.expected_size();
    int fd = -1;
    if (expected >= 0 && static_cast<uint64_t>(expected) <= MEMORY_SPOOL_LIMIT) {
      fd = ::memfd_create("yagura-evtx", MFD_CLOEXEC);
      if (fd >= 0) {
        in_memory = fd;
        spooled = "/proc/self/fd/" + std::to_string(fd);
      }
    }
    if (fd < 0) {
      std::error_code error;
      fs::path directory = fs::temp_directory_path(error);
      if (error) directory = "/tmp";
      std::string pattern = (directory / "yagura-evtx-XXXXXX").string();
      fd = ::mkstemp(pattern.data());
      if (fd < 0) {
        diagnostics_.Report(
            DiagnosticKind::kInputUnreadable, file.path,
            std::string("cannot create a temporary file for EVTX input: ") + std::strerror(errno));
        return false;
      }
      spooled = pattern;
    }
    bool written = true;
    while (written) {
      size_t offset = 0;
      while (offset < s.end) {
        ssize_t n = ::write(fd, s.buffer.get() + offset, s.end - offset);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
          written = false;
          break;
        }
        offset += static_cast<size_t>(n);
      }
      spooled_size += offset;
      if (!written || s.eof) break;
      s.end = 0;
      auto got = source.Read(s.buffer.get(), s.capacity);
      if (!got) {
        diagnostics_.Report(DiagnosticKind::kInputUnreadable, file.path,
                            got.error().message + " (the EVTX data before it is still read)");
        break;
      }
      if (*got == 0) break;
      s.end = *got;
    }
    if (in_memory < 0) ::close(fd);
    s.end = 0;
    if (!written) {
      if (in_memory >= 0) {
        ::close(in_memory);
      } else {
        ::unlink(spooled.c_str());
      }
      diagnostics_.Report(DiagnosticKind::kInputUnreadable, file.path,
                          "cannot write the temporary file for EVTX input");
      return false;
    }
    path = spooled;
  }
  // A file (not a spooled stream) is read through the descriptor it was detected with, and
  // its size and first page are not asked for again; so is a spool in memory.
  EvtxReader::OpenFile open;
  if (spooled.empty() && source.reopenable_fd() >= 0) {
    open.fd = source.reopenable_fd();
    open.size = source.reopenable_size();
    open.first_bytes = std::string_view(s.buffer.get(), s.end);
  } else if (in_memory >= 0) {
    open.fd = in_memory;
    open.size = static_cast<int64_t>(spooled_size);
  }
  bool ok = s.evtx.Read(path, file.path, source_index, max_record_size_, owner.recover_deleted_,
                        on_record, on_progress, diagnostics_, stats_, open, &owner.stop_file_);
  if (in_memory >= 0) {
    ::close(in_memory);
  } else if (!spooled.empty()) {
    ::unlink(spooled.c_str());
  }
  return ok;
}

void RecordReader::Impl::ReadJson(const InputFile& file, Filler& filler, uint32_t source_index,
                            const OnRecord& on_record) {
  Impl& s = *this;
  Diagnostics& diagnostics_ = owner.diagnostics_;
  ReadStats& stats_ = owner.stats_;
  const size_t max_record_size_ = owner.max_record_size_;
  const size_t limit = max_record_size_ + READ_CHUNK;
  JsonFramer framer;
  framer.set_line_records(owner.json_line_records_, max_record_size_);
  uint64_t values = 0;
  const std::string too_large =
      "JSON value larger than " + std::to_string(max_record_size_) + " bytes";
  while (true) {
    JsonFramer::Frame frame = framer.Next(s.buffer.get(), s.end, s.eof);
    if (frame.kind == JsonFramer::Kind::kRecord && frame.end - frame.begin > max_record_size_) {
      // Over the limit but short enough to have arrived in one read.
      frame = JsonFramer::Frame{JsonFramer::Kind::kError, 0, 0, frame.line, too_large};
    }
    if (frame.kind == JsonFramer::Kind::kRecord) {
      Record record;
      record.data = std::string_view(s.buffer.get() + frame.begin, frame.end - frame.begin);
      record.format = RecordFormat::kJson;
      record.source_index = source_index;
      record.number = ++values;
      record.line = frame.line;
      record.whole_line = frame.whole_line;
      ++stats_.records;
      owner.line_rejected_ = false;
      on_record(record);
      if (frame.whole_line && owner.line_rejected_) {
        owner.line_rejected_ = false;
        --values;
        --stats_.records;
        framer.Reframe();
      }
      if (owner.stop_file_) {
        stats_.bytes += frame.end;
        return;
      }
      continue;
    }
    if (frame.kind == JsonFramer::Kind::kError) {
      diagnostics_.Report(DiagnosticKind::kRecordSkipped,
                          file.path + ":" + std::to_string(frame.line), std::string(frame.message));
      ++stats_.records_skipped;
      continue;
    }
    if (s.eof) break;
    if (framer.open_record_size() > max_record_size_) framer.Discard(too_large);
    size_t keep = framer.keep_from();
    stats_.bytes += keep;
    s.Compact(keep);
    framer.Rebase(keep);
    if (s.end == s.capacity && s.capacity < limit) s.Allocate(std::min(s.capacity * 2, limit));
    filler.Fill(s.buffer.get(), s.capacity, s.end, s.eof, s.end + 1);
  }
  stats_.bytes += s.end;
}

void RecordReader::Impl::ReadLines(const InputFile& file, Filler& filler, InputFormat format,
                             uint32_t source_index, const OnRecord& on_record) {
  Impl& s = *this;
  Diagnostics& diagnostics_ = owner.diagnostics_;
  ReadStats& stats_ = owner.stats_;
  const size_t max_record_size_ = owner.max_record_size_;
  const size_t limit = max_record_size_ + READ_CHUNK;
  const RecordFormat record_format = ToRecordFormat(format);
  uint64_t line_number = 0;
  size_t pos = 0;      // start of the current line
  size_t scanned = 0;  // bytes from pos already known to hold no newline
  bool discarding = false;

  auto emit = [&](size_t begin, size_t end) {
    ++line_number;
    // Either dropped while it streamed by, or over the limit but short enough for one read.
    if (discarding || end - begin > max_record_size_) {
      discarding = false;
      diagnostics_.Report(DiagnosticKind::kRecordSkipped,
                          file.path + ":" + std::to_string(line_number),
                          "line longer than " + std::to_string(max_record_size_) + " bytes");
      ++stats_.records_skipped;
      return;
    }
    std::string_view line(s.buffer.get() + begin, end - begin);
    if (line_number == 1 && line.substr(0, 3) == "\xEF\xBB\xBF") line.remove_prefix(3);
    line = TrimLine(line);
    if (line.find_first_not_of(" \t") == std::string_view::npos) return;
    if (format == InputFormat::kWebAccess && line.front() == '#') {
      if (line.substr(0, 8) == "#Fields:") {
        std::string_view fields = line.substr(8);
        size_t first = fields.find_first_not_of(' ');
        s.schema.assign(first == std::string_view::npos ? std::string_view() : fields.substr(first));
      }
      return;
    }
    Record record;
    record.data = line;
    record.format = record_format;
    record.source_index = source_index;
    record.number = line_number;
    record.line = line_number;
    if (!s.schema.empty()) record.schema = s.schema;
    ++stats_.records;
    on_record(record);
  };

  while (true) {
    const char* base = s.buffer.get();
    const void* newline = std::memchr(base + pos + scanned, '\n', s.end - pos - scanned);
    if (newline != nullptr) {
      size_t end = static_cast<size_t>(static_cast<const char*>(newline) - base);
      emit(pos, end);
      pos = end + 1;
      scanned = 0;
      if (owner.stop_file_) {
        stats_.bytes += pos;
        return;
      }
      continue;
    }
    if (s.eof) {
      if (pos < s.end || discarding) emit(pos, s.end);
      break;
    }
    if (discarding || s.end - pos > max_record_size_) {
      discarding = true;
      pos = s.end;  // drop what was seen of the oversized line
    }
    scanned = s.end - pos;
    stats_.bytes += pos;
    s.Compact(pos);
    pos = 0;
    if (s.end == s.capacity && s.capacity < limit) s.Allocate(std::min(s.capacity * 2, limit));
    filler.Fill(s.buffer.get(), s.capacity, s.end, s.eof, s.end + 1);
  }
  stats_.bytes += s.end;
}

// Windows events exported as XML: each <Event> element is a record, whatever surrounds it (an
// <Events> root, an XML declaration, wevtutil's bare sequence, text between them). Elements do
// not nest, so an element ends at the first </Event> after its start tag.
void RecordReader::Impl::ReadXml(const InputFile& file, Filler& filler, uint32_t source_index,
                                 const OnRecord& on_record) {
  constexpr std::string_view END_TAG = "</Event>";
  // Bytes kept at the end of the buffer when no tag is found in it: a tag cut by a read.
  constexpr size_t TAG_TAIL = END_TAG.size() - 1;
  Impl& s = *this;
  Diagnostics& diagnostics_ = owner.diagnostics_;
  ReadStats& stats_ = owner.stats_;
  const size_t max_record_size_ = owner.max_record_size_;
  const size_t limit = max_record_size_ + READ_CHUNK;
  uint64_t number = 0;
  uint64_t line = 1;                      // the line `pos` is on
  size_t pos = 0;                         // where to look on from
  size_t start = std::string_view::npos;  // the start tag of the element being read
  size_t end_from = 0;                    // where its end tag may begin: the bytes before hold none
  uint64_t start_line = 0;
  bool discarding = false;  // the element is over the size limit: dropped until its end tag

  auto advance = [&](size_t to) {
    line += static_cast<uint64_t>(std::count(s.buffer.get() + pos, s.buffer.get() + to, '\n'));
    pos = to;
  };
  auto skip = [&](std::string_view why) {
    diagnostics_.Report(DiagnosticKind::kRecordSkipped,
                        file.path + ":" + std::to_string(start_line), std::string(why));
    ++stats_.records_skipped;
  };

  while (true) {
    const std::string_view text(s.buffer.get(), s.end);
    if (start == std::string_view::npos && !discarding) {
      const size_t found = FindEventStart(text, pos);
      if (found != std::string_view::npos) {
        advance(found);
        const size_t close = text.find('>', found);
        if (close != std::string_view::npos && text[close - 1] == '/') {
          advance(close + 1);  // <Event/>: no record
          continue;
        }
        start = found;
        end_from = found + 6;
        start_line = line;
        ++number;
        continue;
      }
      if (s.eof) break;
      advance(std::max(pos, s.end > TAG_TAIL ? s.end - TAG_TAIL : 0));
    } else {
      const size_t end = text.find(END_TAG, end_from);
      if (end != std::string_view::npos) {
        const size_t after = end + END_TAG.size();
        if (discarding) {
          discarding = false;
        } else if (after - start > max_record_size_) {  // found whole within one read
          skip("an <Event> element longer than " + std::to_string(max_record_size_) + " bytes");
        } else {
          Record record;
          record.data = text.substr(start, after - start);
          record.format = RecordFormat::kEvtx;
          record.source_index = source_index;
          record.number = number;
          record.line = start_line;
          ++stats_.records;
          on_record(record);
        }
        advance(after);
        start = std::string_view::npos;
        if (owner.stop_file_) {
          stats_.bytes += pos;
          return;
        }
        continue;
      }
      if (s.eof) {
        if (!discarding) skip("an <Event> element without its end tag at the end of the input");
        break;
      }
      end_from = std::max(end_from, s.end > TAG_TAIL ? s.end - TAG_TAIL : 0);
      if (!discarding && s.end - start > max_record_size_) {
        skip("an <Event> element longer than " + std::to_string(max_record_size_) + " bytes");
        discarding = true;
        start = std::string_view::npos;
      }
      // Read on, keeping the element (or, while discarding, the tail an end tag may begin in).
      const size_t keep_from =
          discarding ? std::max(pos, s.end > TAG_TAIL ? s.end - TAG_TAIL : 0) : start;
      advance(std::max(pos, keep_from));
    }
    // Drop what is before `pos` (or the element's start) and read more.
    const size_t keep = start != std::string_view::npos ? start : pos;
    stats_.bytes += keep;
    s.Compact(keep);
    pos -= keep;
    end_from -= std::min(end_from, keep);
    if (start != std::string_view::npos) start = 0;
    if (s.end == s.capacity && s.capacity < limit) s.Allocate(std::min(s.capacity * 2, limit));
    filler.Fill(s.buffer.get(), s.capacity, s.end, s.eof, s.end + 1);
  }
  stats_.bytes += s.end;
}

}  // namespace yagura::event

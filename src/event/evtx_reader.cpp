// Native path: pass one reads every chunk once (checksums, record walk) and decides whether the
// file can be read natively; pass two reads the chunks again and renders their records. A
// record the renderer declines is fetched from libevtx by its index, which pass one proved to
// be the same in both. The libevtx path is the reader as it was before the native one.
#include "event/evtx_reader.hpp"

// libevtx.h includes libbfio.h (not packaged with libevtx-dev on Debian) only to declare the
// file-IO-handle functions, which Yagura does not use: take the feature switch out first.
#include <libevtx/features.h>
#undef LIBEVTX_HAVE_BFIO
#include <libevtx.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <unordered_set>

#include "event/evtx_native.hpp"
#include "event/record.hpp"

namespace yagura::event {
namespace {

// libevtx errors are heap objects with a message chain; take the text and free them.
std::string TakeError(libevtx_error_t*& error, const char* fallback) {
  std::string message = fallback;
  if (error != nullptr) {
    char buffer[512];
    if (libevtx_error_sprint(error, buffer, sizeof(buffer)) > 0) {
      message = buffer;
      // libevtx prints its whole backtrace joined by newlines; keep it on one line.
      for (char& c : message) {
        if (c == '\n') c = ' ';
      }
      while (!message.empty() && message.back() == ' ') message.pop_back();
    }
    libevtx_error_free(&error);
  }
  return message;
}

// The EventRecordID of a rendered record, or 0.
uint64_t EventRecordId(std::string_view xml) {
  constexpr std::string_view TAG = "<EventRecordID>";
  size_t at = xml.find(TAG);
  if (at == std::string_view::npos) return 0;
  uint64_t id = 0;
  for (size_t i = at + TAG.size(); i < xml.size() && xml[i] >= '0' && xml[i] <= '9'; ++i) {
    id = id * 10 + static_cast<uint64_t>(xml[i] - '0');
  }
  return id;
}

// libevtx quietly passes over chunks it cannot trust and cannot see chunks cut off by
// truncation, so the file's own checksums are verified here: every 64 KiB chunk that carries
// the "ElfChnk" signature must match its header and records CRC32, a chunk without it must be
// unused (all zero), and the file must end on a chunk boundary. Each failing chunk is one
// skipped-record report (its records are damaged or lost; how many cannot be known).
void CheckChunks(const std::string& path, const std::string& display_path,
                 Diagnostics& diagnostics, ReadStats& stats) {
  constexpr size_t FILE_HEADER = 4096;
  constexpr size_t CHUNK = 65536;
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) return;
  std::vector<unsigned char> chunk(CHUNK);
  if (std::fread(chunk.data(), 1, FILE_HEADER, file) != FILE_HEADER) {
    std::fclose(file);
    return;  // too short for a header: libevtx reports it
  }
  for (size_t index = 1;; ++index) {
    size_t got = std::fread(chunk.data(), 1, CHUNK, file);
    if (got == 0) break;
    auto where = [&] { return display_path + " chunk " + std::to_string(index); };
    if (got < CHUNK) {
      diagnostics.Report(DiagnosticKind::kRecordSkipped, where(),
                         "truncated: the file ends " + std::to_string(got) +
                             " bytes into this 64 KiB chunk; records in it, if any, are lost");
      ++stats.records_skipped;
      break;
    }
    // The checks the native reader makes (evtx::CheckChunk), reported as diagnostics.
    evtx::ChunkHeader header;
    const char* problem = nullptr;
    switch (evtx::CheckChunk(chunk.data(), CHUNK, header)) {
      case evtx::ChunkState::kValid:
      case evtx::ChunkState::kUnused:  // unused chunks are zero-filled
      case evtx::ChunkState::kTruncated:
        break;
      case evtx::ChunkState::kNoSignature:
        problem = "corrupted: the chunk holds data but no chunk signature; records in it, if any, "
                  "are lost";
        break;
      case evtx::ChunkState::kBadHeaderChecksum:
        problem = "corrupted: the chunk header checksum does not match; records in this chunk "
                  "may be damaged or missing";
        break;
      case evtx::ChunkState::kBadRecordsChecksum:
        problem = "corrupted: the records checksum does not match; records in this chunk may be "
                  "damaged or missing";
        break;
    }
    if (problem != nullptr) {
      diagnostics.Report(DiagnosticKind::kRecordSkipped, where(), problem);
      ++stats.records_skipped;
    }
  }
  std::fclose(file);
}

// Whether every tag of `xml` has a plain ASCII name, as every real Windows event has. Recovered
// remnants rendered with the wrong template have names made of random UTF-16 code units.
bool HasPlainTags(std::string_view xml) {
  for (size_t at = xml.find('<'); at != std::string_view::npos; at = xml.find('<', at + 1)) {
    size_t i = at + 1;
    if (i < xml.size() && (xml[i] == '/' || xml[i] == '?' || xml[i] == '!')) ++i;
    size_t start = i;
    while (i < xml.size()) {
      char c = xml[i];
      if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
          c == '_' || c == ':' || c == '.' || c == '-') {
        ++i;
      } else {
        break;
      }
    }
    if (i == start || i >= xml.size()) return false;
    char end = xml[i];
    if (end != ' ' && end != '>' && end != '/' && end != '\n' && end != '\t' && end != '\r') return false;
  }
  return true;
}

struct FileCloser {
  libevtx_file_t* file = nullptr;
  ~FileCloser() {
    if (file == nullptr) return;
    libevtx_error_t* error = nullptr;
    libevtx_file_close(file, &error);
    if (error != nullptr) libevtx_error_free(&error);
    libevtx_file_free(&file, &error);
    if (error != nullptr) libevtx_error_free(&error);
  }
};

// Fetches record `index` (regular or recovered) from libevtx into `xml`, trimmed and padded.
enum class Fetched : uint8_t { kOk, kNotRead, kTooLarge, kNotRendered };
Fetched FetchRecord(libevtx_file_t* file, int index, bool recovered, size_t max_record_size,
                    std::vector<char>& xml, size_t& length, std::string& message,
                    uint64_t* identifier = nullptr) {
  libevtx_error_t* error = nullptr;
  libevtx_record_t* record = nullptr;
  int rc = recovered ? libevtx_file_get_recovered_record_by_index(file, index, &record, &error)
                     : libevtx_file_get_record_by_index(file, index, &record, &error);
  if (rc != 1 || record == nullptr) {
    message = TakeError(error, "cannot read record");
    return Fetched::kNotRead;
  }
  auto release = [&] {
    libevtx_record_free(&record, &error);
    if (error != nullptr) libevtx_error_free(&error);
  };
  if (identifier != nullptr && (libevtx_record_get_identifier(record, identifier, &error) != 1)) {
    if (error != nullptr) libevtx_error_free(&error);
    *identifier = 0;
  }
  size_t size = 0;
  bool ok = libevtx_record_get_utf8_xml_string_size(record, &size, &error) == 1 && size > 0;
  if (ok && size > max_record_size) {
    release();
    return Fetched::kTooLarge;
  }
  if (ok) {
    if (xml.size() < size + RECORD_PADDING) xml.resize(size + RECORD_PADDING);
    ok = libevtx_record_get_utf8_xml_string(record, reinterpret_cast<uint8_t*>(xml.data()), size,
                                            &error) == 1;
  }
  if (!ok) {
    message = TakeError(error, "cannot render record as XML");
    release();
    return Fetched::kNotRendered;
  }
  release();
  // `size` counts the terminating NUL; trailing newlines are layout.
  length = strnlen(xml.data(), size);
  while (length > 0 && (xml[length - 1] == '\n' || xml[length - 1] == ' ' || xml[length - 1] == '\r')) {
    --length;
  }
  std::memset(xml.data() + length, 0, RECORD_PADDING);
  return Fetched::kOk;
}

bool ReadFully(int fd, uint8_t* data, size_t size, uint64_t offset) {
  size_t done = 0;
  while (done < size) {
    ssize_t n = ::pread(fd, data + done, size - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

// Adds what a read handed on to `stats`, as rendered natively or by libevtx, when it goes out
// of scope (every record handed on was one or the other).
struct CountRenderers {
  ReadStats& stats;
  const uint64_t& native;
  uint64_t records_before = stats.records;
  uint64_t native_before = native;
  ~CountRenderers() {
    const uint64_t native_now = native - native_before;
    const uint64_t all = stats.records - records_before;
    stats.evtx_native_records += native_now;
    stats.evtx_libevtx_records += all > native_now ? all - native_now : 0;
  }
};

}  // namespace

namespace evtx_reading {

// libevtx opened on demand, for fallback and recovered records of a natively read file.
struct LazyLibevtx {
  FileCloser handle;
  bool tried = false;
  int regular = -1;
  libevtx_file_t* Get(const std::string& path) {
    if (tried) return handle.file;
    tried = true;
    libevtx_error_t* error = nullptr;
    if (libevtx_file_initialize(&handle.file, &error) != 1) {
      if (error != nullptr) libevtx_error_free(&error);
      handle.file = nullptr;
      return nullptr;
    }
    if (libevtx_file_open(handle.file, path.c_str(), LIBEVTX_OPEN_READ, &error) != 1) {
      if (error != nullptr) libevtx_error_free(&error);
      libevtx_file_free(&handle.file, &error);
      if (error != nullptr) libevtx_error_free(&error);
      handle.file = nullptr;
      return nullptr;
    }
    if (libevtx_file_get_number_of_records(handle.file, &regular, &error) != 1) {
      if (error != nullptr) libevtx_error_free(&error);
      regular = -1;
    }
    return handle.file;
  }
};

// Per-file bookkeeping shared by both paths: numbering, de-duplication of recovered records
// against regular ones, progress.
struct Emitter {
  Emitter(const RecordReader::OnRecord& on_record, const RecordReader::OnProgress& on_progress,
          ReadStats& stats, uint32_t source_index, uint64_t file_size, uint64_t total)
      : on_record(on_record),
        on_progress(on_progress),
        stats(stats),
        source_index(source_index),
        file_size(file_size),
        total(total) {}

  const RecordReader::OnRecord& on_record;
  const RecordReader::OnProgress& on_progress;
  ReadStats& stats;
  uint32_t source_index;
  uint64_t file_size;
  uint64_t total;
  bool track_ids = false;  // recovered records will follow
  const bool* stop = nullptr;  // the consumer wants no more records of this file
  [[nodiscard]] bool stopped() const { return stop != nullptr && *stop; }
  std::unordered_set<uint64_t> regular_ids;
  uint64_t next_number = 0;
  int lost_fragments = 0;

  void Emit(std::string_view xml, bool is_recovered, uint64_t index,
            std::string_view outline = {}, OutlineShapeId outline_shape = {}) {
    if (!is_recovered) {
      if (track_ids) regular_ids.insert(EventRecordId(xml));
    } else if (!HasPlainTags(xml) || xml.find("<EventID") == std::string_view::npos) {
      ++lost_fragments;
      return;
    } else if (regular_ids.count(EventRecordId(xml)) != 0) {
      return;  // a stale copy of a record the log still holds
    }
    ++next_number;
    Record out;
    out.data = xml;
    out.format = RecordFormat::kEvtx;
    out.source_index = source_index;
    out.number = next_number;
    out.line = 0;
    out.outline = outline;
    out.outline_shape = outline_shape;
    ++stats.records;
    on_record(out);
    if (on_progress && total > 0 && (index % 256 == 255 || index + 1 == total)) {
      on_progress(file_size * (index + 1) / total);
    }
  }
};

}  // namespace evtx_reading

namespace {

using evtx_reading::Emitter;
using evtx_reading::LazyLibevtx;

// The recovered records, through libevtx, after the regular ones.
void ReadRecovered(libevtx_file_t* file, int recovered, uint64_t first_index,
                   size_t max_record_size, const std::string& display_path,
                   std::vector<char>& xml, Emitter& emitter, Diagnostics& diagnostics,
                   ReadStats& stats) {
  std::string message;
  for (int i = 0; i < recovered && !emitter.stopped(); ++i) {
    size_t length = 0;
    switch (FetchRecord(file, i, true, max_record_size, xml, length, message)) {
      case Fetched::kOk:
        emitter.Emit(std::string_view(xml.data(), length), true, first_index + static_cast<uint64_t>(i));
        break;
      case Fetched::kTooLarge:
        ++emitter.next_number;
        diagnostics.Report(DiagnosticKind::kRecordSkipped,
                           display_path + " record " + std::to_string(emitter.next_number),
                           "record larger than " + std::to_string(max_record_size) + " bytes");
        ++stats.records_skipped;
        break;
      case Fetched::kNotRead:
      case Fetched::kNotRendered:
        ++emitter.lost_fragments;
        break;
    }
  }
}

void ReportLostFragments(const Emitter& emitter, const std::string& display_path,
                         Diagnostics& diagnostics) {
  if (emitter.lost_fragments > 0) {
    diagnostics.Report(DiagnosticKind::kWarning, display_path,
                       std::to_string(emitter.lost_fragments) +
                           " fragments of deleted records could not be recovered intact");
  }
}

}  // namespace

bool EvtxReader::Read(const std::string& path, const std::string& display_path,
                      uint32_t source_index, size_t max_record_size, bool recover_deleted,
                      const RecordReader::OnRecord& on_record,
                      const RecordReader::OnProgress& on_progress, Diagnostics& diagnostics,
                      ReadStats& stats, const OpenFile& open, const bool* stop) {
  // Records rendered natively or by libevtx (fallbacks, damaged files, recovered records): the
  // summary tells how many of each.
  CountRenderers count{stats, native_records_};
  stop_ = stop;
  struct ClearStop {
    const bool*& stop;
    ~ClearStop() { stop = nullptr; }
  } clear_stop{stop_};
  if (native_) {
    OpenFile file = open;
    if (file.fd < 0) file = {::open(path.c_str(), O_RDONLY | O_CLOEXEC), -1, {}};
    const int fd = file.fd;
    if (fd >= 0) {
      uint64_t file_size = 0;
      const bool planned = PlanFile(file, file_size, true);
      bool ok = false;
      if (planned) {
        ok = ReadNative(fd, path, display_path, source_index, max_record_size, recover_deleted,
                        on_record, on_progress, diagnostics, stats, file_size);
      }
      if (fd != open.fd) ::close(fd);
      if (planned) return ok;
    }
  }
  return ReadLibevtx(path, display_path, source_index, max_record_size, recover_deleted,
                     on_record, on_progress, diagnostics, stats);
}

bool EvtxReader::PlanFile(const OpenFile& open, uint64_t& file_size, bool keep_for_second_pass) {
  if (open.size >= 0) {
    file_size = static_cast<uint64_t>(open.size);
  } else {
    struct stat info {};
    if (::fstat(open.fd, &info) != 0 || !S_ISREG(info.st_mode)) return false;
    file_size = static_cast<uint64_t>(info.st_size);
  }
  return PlanNative(open.fd, file_size, open.first_bytes, keep_for_second_pass);
}

// Most of a chunk may be free space: files of a few records (exported logs, samples) hold a
// quarter of their bytes in records. Reading the header first, then only the records, copies
// that quarter instead of the whole.
bool EvtxReader::ReadChunkInUse(int fd, uint64_t offset, uint8_t* into) {
  using namespace evtx;
  if (!ReadFully(fd, into, CHUNK_HEADER_SIZE, offset)) return false;
  // A header without a possible end fails the chunk's check; the chunk is then read whole.
  const uint32_t end = DeclaredEnd(into);
  return ReadFully(fd, into + CHUNK_HEADER_SIZE, end - CHUNK_HEADER_SIZE,
                   offset + CHUNK_HEADER_SIZE);
}

const uint8_t* EvtxReader::LoadChunk(int fd, uint64_t offset, uint32_t free_offset,
                                     uint64_t kept) {
  if (whole_) return file_data() + offset;
  if (kept != NOT_KEPT) return kept_data() + kept;
  return ReadFully(fd, chunk_.data(), free_offset, offset) ? chunk_.data() : nullptr;
}

// Pass one: whether libevtx would list exactly the records a plain walk of the chunks finds.
bool EvtxReader::PlanNative(int fd, uint64_t file_size, std::string_view first_bytes,
                            bool keep_for_second_pass) {
  using namespace evtx;
  plan_.clear();
  kept_at_.clear();
  if (file_size < FILE_HEADER_SIZE || (file_size - FILE_HEADER_SIZE) % CHUNK_SIZE != 0) return false;
  // Files of ordinary size are read once and kept; of larger ones, what fits is kept packed.
  whole_ = file_size <= whole_file_limit_;
  uint8_t header_bytes[FILE_HEADER_SIZE];
  uint64_t kept_size = 0;
  if (whole_) {
    if (file_capacity_ < file_size) {
      file_ = MakeLargeBuffer(file_size);
      file_capacity_ = file_size;
    }
  } else {
    chunk_.resize(CHUNK_SIZE);
    // A chunk's room past the last one kept: a chunk is read there before its size is known.
    const uint64_t capacity = whole_file_limit_ + CHUNK_SIZE;
    if (keep_for_second_pass && whole_file_limit_ > 0 && kept_capacity_ < capacity) {
      kept_ = MakeLargeBuffer(capacity);
      kept_capacity_ = capacity;
    }
  }
  uint8_t* const header_at = whole_ ? file_data() : header_bytes;
  FileHeader header;
  if (first_bytes.size() >= FILE_HEADER_SIZE) {
    std::memcpy(header_at, first_bytes.data(), FILE_HEADER_SIZE);
  } else if (!ReadFully(fd, header_at, FILE_HEADER_SIZE, 0)) {
    return false;
  }
  if (!ParseFileHeader(header_at, FILE_HEADER_SIZE, header)) {
    return false;
  }
  const uint64_t chunks = (file_size - FILE_HEADER_SIZE) / CHUNK_SIZE;
  for (uint64_t index = 0; index < chunks; ++index) {
    const uint64_t offset = FILE_HEADER_SIZE + index * CHUNK_SIZE;
    const bool keep = !whole_ && keep_for_second_pass && kept_size < whole_file_limit_;
    uint8_t* const data = whole_ ? file_data() + offset : keep ? kept_data() + kept_size : chunk_.data();
    if (!ReadChunkInUse(fd, offset, data)) return false;
    ChunkHeader chunk;
    const ChunkState state = CheckChunk(data, CHUNK_SIZE, chunk);
    if (state == ChunkState::kUnused) {
      if (index < header.chunk_count) return false;
      continue;
    }
    // Chunks in use are exactly the first `chunk_count` ones, each intact.
    if (state != ChunkState::kValid || index >= header.chunk_count) return false;
    uint32_t count = 0;
    if (!RecordsMatchHeader(data, chunk, count)) return false;
    plan_.push_back(ChunkPlan{offset, chunk.free_offset, count});
    if (!whole_) {
      kept_at_.push_back(keep ? kept_size : NOT_KEPT);
      // The next one starts on a cache line of its own.
      if (keep) kept_size += (uint64_t{chunk.free_offset} + 63) & ~uint64_t{63};
    }
  }
  return plan_.size() == header.chunk_count;
}

// Pass two.
bool EvtxReader::ReadNative(int fd, const std::string& path, const std::string& display_path,
                            uint32_t source_index, size_t max_record_size, bool recover_deleted,
                            const RecordReader::OnRecord& on_record,
                            const RecordReader::OnProgress& on_progress, Diagnostics& diagnostics,
                            ReadStats& stats, uint64_t file_size) {
  using namespace evtx;
  ++native_files_;
  LazyLibevtx libevtx;
  uint64_t regular = 0;
  for (const ChunkPlan& chunk : plan_) regular += chunk.records;
  int recovered = 0;
  if (recover_deleted) {
    if (libevtx_file_t* file = libevtx.Get(path)) {
      libevtx_error_t* error = nullptr;
      if (libevtx_file_get_number_of_recovered_records(file, &recovered, &error) != 1) {
        if (error != nullptr) libevtx_error_free(&error);
        recovered = 0;
      }
    }
  }
  Emitter emitter(on_record, on_progress, stats, source_index, file_size,
                  regular + static_cast<uint64_t>(recovered));
  emitter.track_ids = recovered > 0;
  emitter.stop = stop_;
  RenderChunks(fd, path, display_path, max_record_size, plan_, kept_at_, 0, plan_.size(), 0, regular,
               emitter, libevtx, diagnostics, stats);
  if (recovered > 0 && !emitter.stopped()) {
    ReadRecovered(libevtx.handle.file, recovered, regular, max_record_size, display_path, xml_,
                  emitter, diagnostics, stats);
  }
  ReportLostFragments(emitter, display_path, diagnostics);
  stats.bytes += file_size;
  return true;
}

void EvtxReader::RenderChunks(int fd, const std::string& path, const std::string& display_path,
                              size_t max_record_size, const std::vector<ChunkPlan>& chunks,
                              const std::vector<uint64_t>& kept,
                              size_t first, size_t last, uint64_t index, uint64_t regular,
                              Emitter& emitter, LazyLibevtx& libevtx, Diagnostics& diagnostics,
                              ReadStats& stats) {
  using namespace evtx;
  renderer_.set_output_limit(max_record_size);
  renderer_.set_outline_only(outline_only_ && !emitter.track_ids);
  auto skip = [&](const std::string& message) {
    ++emitter.next_number;
    diagnostics.Report(DiagnosticKind::kRecordSkipped,
                       display_path + " record " + std::to_string(emitter.next_number), message);
    ++stats.records_skipped;
  };
  const std::string too_large = "record larger than " + std::to_string(max_record_size) + " bytes";
  std::string message;
  for (size_t c = first; c < last && !emitter.stopped(); ++c) {
    const ChunkPlan& chunk = chunks[c];
    const uint64_t chunk_end = index + chunk.records;
    const uint8_t* data =
        LoadChunk(fd, chunk.offset, chunk.free_offset, c < kept.size() ? kept[c] : NOT_KEPT);
    if (data == nullptr) {
      for (; index < chunk_end; ++index) skip("cannot read the record's chunk again");
      continue;
    }
    RecordWalker walker(data, CHUNK_SIZE, chunk.free_offset);
    // Only the bytes up to the free space were read: a reference past them (a damaged record)
    // fails, and libevtx renders that record.
    renderer_.SetChunk(data, chunk.free_offset);
    for (; index < chunk_end && !emitter.stopped(); ++index) {
      RecordView view;
      if (walker.Next(view) != RecordWalker::Status::kRecord) {
        skip("the record's chunk changed while it was read");
        continue;
      }
      text_.Clear();
      if (renderer_.RenderRecord(view.binxml_begin, view.binxml_end, text_, &outline_)) {
        size_t length = text_.size();
        if (length + 1 > max_record_size) {
          skip(too_large);
          continue;
        }
        // XML ends in a newline; text without markup may end in a value's own spaces.
        while (renderer_.text_is_xml() && length > 0 &&
               (text_.data()[length - 1] == '\n' || text_.data()[length - 1] == ' ' ||
                text_.data()[length - 1] == '\r')) {
          --length;
        }
        text_.Truncate(length);
        std::memset(text_.Extend(RECORD_PADDING), 0, RECORD_PADDING);
        ++native_records_;
        emitter.Emit(std::string_view(text_.data(), length), false, index,
                     std::string_view(reinterpret_cast<const char*>(outline_.data()),
                                      outline_.size() * sizeof(binxml::OutlineStep)),
                     renderer_.outline_shape());
        continue;
      }
      // Declined (or over the size limit, which the renderer stops at early): libevtx renders
      // this one, by the same index, and decides how it is reported if it cannot.
      ++fallback_records_;
      libevtx_file_t* file = libevtx.Get(path);
      if (file == nullptr || libevtx.regular < 0 || static_cast<uint64_t>(libevtx.regular) != regular) {
        skip("cannot render record: " + std::string(renderer_.error()));
        continue;
      }
      size_t length = 0;
      uint64_t identifier = 0;
      switch (FetchRecord(file, static_cast<int>(index), false, max_record_size, xml_, length,
                          message, &identifier)) {
        case Fetched::kOk:
          if (identifier != view.id) {
            skip("cannot render record: " + std::string(renderer_.error()));
            break;
          }
          emitter.Emit(std::string_view(xml_.data(), length), false, index);
          break;
        case Fetched::kTooLarge:
          skip(too_large);
          break;
        case Fetched::kNotRead:
        case Fetched::kNotRendered:
          skip(message);
          break;
      }
    }
  }
}

bool EvtxReader::MakePlan(const std::string& path, Plan& plan) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  uint64_t file_size = 0;
  const bool planned = PlanFile({fd, -1, {}}, file_size, false);  // ranges read their own
  ::close(fd);
  if (!planned) return false;
  plan.chunks = plan_;
  plan.file_size = file_size;
  return true;
}

void EvtxReader::ReadChunks(const std::string& path, const std::string& display_path,
                            uint32_t source_index, size_t max_record_size, const Plan& plan,
                            size_t first, size_t last, const RecordReader::OnRecord& on_record,
                            Diagnostics& diagnostics, ReadStats& stats) {
  uint64_t index = 0;
  uint64_t regular = 0;
  for (size_t c = 0; c < plan.chunks.size(); ++c) {
    if (c < first) index += plan.chunks[c].records;
    regular += plan.chunks[c].records;
  }
  CountRenderers count{stats, native_records_};
  static const RecordReader::OnProgress no_progress;
  Emitter emitter(on_record, no_progress, stats, source_index, plan.file_size, regular);
  emitter.next_number = index;
  LazyLibevtx libevtx;
  whole_ = false;  // a chunk at a time
  chunk_.resize(evtx::CHUNK_SIZE);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  // A file that cannot be opened again yields its records as chunks that cannot be read again.
  static const std::vector<uint64_t> none_kept;  // the chunks are this reader's to read
  RenderChunks(fd, path, display_path, max_record_size, plan.chunks, none_kept, first, last, index, regular,
               emitter, libevtx, diagnostics, stats);
  if (fd >= 0) ::close(fd);
  // The file's bytes from this range's first chunk to the next range's (the header with the
  // first range, whatever follows the last chunk with the last): the ranges add up to the file.
  const uint64_t begin = first == 0 || first >= plan.chunks.size() ? 0 : plan.chunks[first].offset;
  const uint64_t end = last >= plan.chunks.size() ? plan.file_size : plan.chunks[last].offset;
  if (end > begin) stats.bytes += end - begin;
}

bool EvtxReader::ReadLibevtx(const std::string& path, const std::string& display_path,
                             uint32_t source_index, size_t max_record_size, bool recover_deleted,
                             const RecordReader::OnRecord& on_record,
                             const RecordReader::OnProgress& on_progress,
                             Diagnostics& diagnostics, ReadStats& stats) {
  libevtx_error_t* error = nullptr;
  FileCloser handle;
  if (libevtx_file_initialize(&handle.file, &error) != 1) {
    diagnostics.Report(DiagnosticKind::kInputUnreadable, display_path,
                       TakeError(error, "cannot initialise libevtx"));
    handle.file = nullptr;
    return false;
  }
  if (libevtx_file_open(handle.file, path.c_str(), LIBEVTX_OPEN_READ, &error) != 1) {
    diagnostics.Report(DiagnosticKind::kInputUnreadable, display_path,
                       "not a readable EVTX file: " + TakeError(error, "open failed"));
    libevtx_file_free(&handle.file, &error);
    if (error != nullptr) libevtx_error_free(&error);
    handle.file = nullptr;
    return false;
  }
  CheckChunks(path, display_path, diagnostics, stats);
  uint64_t file_size = 0;
  if (struct stat info {}; ::stat(path.c_str(), &info) == 0) file_size = static_cast<uint64_t>(info.st_size);

  if (libevtx_file_is_corrupted(handle.file, &error) == 1) {
    diagnostics.Report(DiagnosticKind::kWarning, display_path,
                       "the EVTX file is marked corrupted; some records may be missing");
  }
  if (error != nullptr) libevtx_error_free(&error);

  int regular = 0;
  if (libevtx_file_get_number_of_records(handle.file, &regular, &error) != 1) {
    diagnostics.Report(DiagnosticKind::kInputUnreadable, display_path,
                       TakeError(error, "cannot count records"));
    regular = 0;
  }
  int recovered = 0;
  if (recover_deleted &&
      libevtx_file_get_number_of_recovered_records(handle.file, &recovered, &error) != 1) {
    if (error != nullptr) libevtx_error_free(&error);
    recovered = 0;
  }
  Emitter emitter(on_record, on_progress, stats, source_index, file_size,
                  static_cast<uint64_t>(regular) + static_cast<uint64_t>(recovered));
  emitter.track_ids = recovered > 0;
  emitter.stop = stop_;
  std::string message;
  for (int index = 0; index < regular && !emitter.stopped(); ++index) {
    size_t length = 0;
    auto skip = [&](const std::string& text) {
      ++emitter.next_number;
      diagnostics.Report(DiagnosticKind::kRecordSkipped,
                         display_path + " record " + std::to_string(emitter.next_number), text);
      ++stats.records_skipped;
    };
    switch (FetchRecord(handle.file, index, false, max_record_size, xml_, length, message)) {
      case Fetched::kOk:
        emitter.Emit(std::string_view(xml_.data(), length), false, static_cast<uint64_t>(index));
        break;
      case Fetched::kTooLarge:
        skip("record larger than " + std::to_string(max_record_size) + " bytes");
        break;
      case Fetched::kNotRead:
      case Fetched::kNotRendered:
        skip(message);
        break;
    }
  }
  if (recovered > 0 && !emitter.stopped()) {
    ReadRecovered(handle.file, recovered, static_cast<uint64_t>(regular), max_record_size,
                  display_path, xml_, emitter, diagnostics, stats);
  }
  ReportLostFragments(emitter, display_path, diagnostics);
  stats.bytes += file_size;
  return true;
}

}  // namespace yagura::event

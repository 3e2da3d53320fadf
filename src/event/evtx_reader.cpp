#include "event/evtx_reader.hpp"

// libevtx.h includes libbfio.h (not packaged with libevtx-dev on Debian) only to declare the
// file-IO-handle functions, which Yagura does not use: take the feature switch out first.
#include <libevtx/features.h>
#undef LIBEVTX_HAVE_BFIO
#include <libevtx.h>
#include <sys/stat.h>

#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <unordered_set>

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

uint32_t ReadU32(const unsigned char* p) {
  return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 |
         static_cast<uint32_t>(p[2]) << 16 | static_cast<uint32_t>(p[3]) << 24;
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
    bool signed_chunk = got >= 8 && std::memcmp(chunk.data(), "ElfChnk", 8) == 0;
    if (got < CHUNK) {
      diagnostics.Report(DiagnosticKind::kRecordSkipped, where(),
                         "truncated: the file ends " + std::to_string(got) +
                             " bytes into this 64 KiB chunk; records in it, if any, are lost");
      ++stats.records_skipped;
      break;
    }
    if (!signed_chunk) {
      // Unused chunks are zero-filled; data without the signature is a damaged chunk.
      if (std::any_of(chunk.begin(), chunk.end(), [](unsigned char c) { return c != 0; })) {
        diagnostics.Report(DiagnosticKind::kRecordSkipped, where(),
                           "corrupted: the chunk holds data but no chunk signature; records in "
                           "it, if any, are lost");
        ++stats.records_skipped;
      }
      continue;
    }
    uLong header_crc = crc32(0L, chunk.data(), 120);
    header_crc = crc32(header_crc, chunk.data() + 128, 512 - 128);
    uint32_t free_offset = ReadU32(chunk.data() + 48);
    bool header_ok = header_crc == ReadU32(chunk.data() + 124);
    bool records_ok = true;
    if (free_offset >= 512 && free_offset <= CHUNK) {
      uLong data_crc = crc32(0L, chunk.data() + 512, free_offset - 512);
      records_ok = data_crc == ReadU32(chunk.data() + 52);
    } else {
      records_ok = false;
    }
    if (!header_ok || !records_ok) {
      diagnostics.Report(DiagnosticKind::kRecordSkipped, where(),
                         std::string("corrupted: the ") + (header_ok ? "records" : "chunk header") +
                             " checksum does not match; records in this chunk may be damaged "
                             "or missing");
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

}  // namespace

bool EvtxReader::Read(const std::string& path, const std::string& display_path,
                      uint32_t source_index, size_t max_record_size, bool recover_deleted,
                      const RecordReader::OnRecord& on_record,
                      const RecordReader::OnProgress& on_progress, Diagnostics& diagnostics,
                      ReadStats& stats) {
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
  if (!recover_deleted) {
    recovered = 0;
  } else if (libevtx_file_get_number_of_recovered_records(handle.file, &recovered, &error) != 1) {
    if (error != nullptr) libevtx_error_free(&error);
    recovered = 0;
  }
  const int total = regular + recovered;
  std::unordered_set<uint64_t> regular_ids;
  uint64_t next_number = 0;
  int lost_fragments = 0;
  for (int index = 0; index < total; ++index) {
    const bool is_recovered = index >= regular;
    const uint64_t number = next_number + 1;
    auto where = [&] { return display_path + " record " + std::to_string(number); };
    libevtx_record_t* record = nullptr;
    int rc = is_recovered
                 ? libevtx_file_get_recovered_record_by_index(handle.file, index - regular, &record, &error)
                 : libevtx_file_get_record_by_index(handle.file, index, &record, &error);
    if ((rc != 1 || record == nullptr) && is_recovered) {
      if (error != nullptr) libevtx_error_free(&error);
      ++lost_fragments;
      continue;
    }
    if (rc != 1 || record == nullptr) {
      ++next_number;
      diagnostics.Report(DiagnosticKind::kRecordSkipped, where(),
                         TakeError(error, "cannot read record"));
      ++stats.records_skipped;
      continue;
    }
    size_t size = 0;
    bool ok = libevtx_record_get_utf8_xml_string_size(record, &size, &error) == 1 && size > 0;
    if (ok && size > max_record_size) {
      ++next_number;
      diagnostics.Report(DiagnosticKind::kRecordSkipped, where(),
                         "record larger than " + std::to_string(max_record_size) + " bytes");
      ++stats.records_skipped;
      libevtx_record_free(&record, &error);
      if (error != nullptr) libevtx_error_free(&error);
      continue;
    }
    if (ok) {
      if (xml_.size() < size + RECORD_PADDING) xml_.resize(size + RECORD_PADDING);
      ok = libevtx_record_get_utf8_xml_string(record, reinterpret_cast<uint8_t*>(xml_.data()),
                                              size, &error) == 1;
    }
    if (!ok && is_recovered) {
      if (error != nullptr) libevtx_error_free(&error);
      libevtx_record_free(&record, &error);
      if (error != nullptr) libevtx_error_free(&error);
      ++lost_fragments;
      continue;
    }
    if (!ok) {
      ++next_number;
      diagnostics.Report(DiagnosticKind::kRecordSkipped, where(),
                         TakeError(error, "cannot render record as XML"));
      ++stats.records_skipped;
      libevtx_record_free(&record, &error);
      if (error != nullptr) libevtx_error_free(&error);
      continue;
    }
    libevtx_record_free(&record, &error);
    if (error != nullptr) libevtx_error_free(&error);
    // `size` counts the terminating NUL; trailing newlines are layout.
    size_t length = strnlen(xml_.data(), size);
    while (length > 0 && (xml_[length - 1] == '\n' || xml_[length - 1] == ' ' || xml_[length - 1] == '\r')) {
      --length;
    }
    std::memset(xml_.data() + length, 0, RECORD_PADDING);
    std::string_view xml(xml_.data(), length);
    if (!is_recovered) {
      if (recovered > 0) regular_ids.insert(EventRecordId(xml));
    } else if (!HasPlainTags(xml) || xml.find("<EventID") == std::string_view::npos) {
      ++lost_fragments;
      continue;
    } else if (regular_ids.count(EventRecordId(xml)) != 0) {
      continue;  // a stale copy of a record the log still holds
    }
    ++next_number;
    Record out;
    out.data = std::string_view(xml_.data(), length);
    out.format = RecordFormat::kEvtx;
    out.source_index = source_index;
    out.number = next_number;
    out.line = 0;
    ++stats.records;
    stats.bytes += length;
    on_record(out);
    if (on_progress && total > 0 && (index % 256 == 255 || index + 1 == total)) {
      on_progress(file_size * static_cast<uint64_t>(index + 1) / static_cast<uint64_t>(total));
    }
  }
  if (lost_fragments > 0) {
    diagnostics.Report(DiagnosticKind::kWarning, display_path,
                       std::to_string(lost_fragments) +
                           " fragments of deleted records could not be recovered intact");
  }
  return true;
}

}  // namespace yagura::event

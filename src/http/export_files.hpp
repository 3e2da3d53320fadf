// The files behind POST /api/v1/exports: CSV rows, and the export directory (DATA/exports).
//
// An export is two files named by its id: the data, `<id>.jsonl` or `<id>.csv`, and a small
// record beside it, `<id>.meta.json`, saying whose it is, what it holds and when it was made.
// Jobs live in memory and forget; the record is what lets the download route answer only the
// owner after a restart, and what expiry reads. Data is written to `<id>.<ext>.part` and renamed
// once complete, so a download never sees half a file.
//
// CSV follows RFC 4180 (CRLF line ends, fields quoted when they hold a quote, comma, CR or LF,
// quotes doubled) and guards against formula injection: a spreadsheet runs a cell beginning
// with = + - @ (or a tab or CR, which some strip before looking) as a formula, so such cells
// are written with a leading single quote — alert titles and incident titles come from outside.
#pragma once

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/result.hpp"
#include "hub/policy.hpp"

namespace yagura::http::exports {

// Exports are deleted this long after they were written.
inline constexpr int64_t EXPORT_MAX_AGE_MS = 24LL * 3600 * 1000;

// One CSV field: the injection guard, then quoting when needed.
std::string CsvField(std::string_view text);
// Appends one record (fields separated by commas, ended by CRLF).
void AppendCsvRecord(std::string& out, std::span<const std::string> fields);

struct ExportRecord {
  std::string id;
  std::string owner_user_id;
  std::string owner_org_id;
  std::string kind;    // "alerts" | "incidents"
  std::string format;  // "jsonl" | "csv"
  int64_t rows = 0;
  int64_t bytes = 0;
  hub::Tlp tlp = hub::Tlp::kAmber;  // the most restrictive marking among the rows
  int64_t created_at_ms = 0;
};

// Export ids are UUIDs we made; anything else never names a file (no path tricks).
bool IsExportId(std::string_view id);
std::filesystem::path DataPath(const std::filesystem::path& dir, std::string_view id,
                               std::string_view format);
std::filesystem::path RecordPath(const std::filesystem::path& dir, std::string_view id);
std::string_view ContentType(std::string_view format);

Result<void> WriteRecord(const std::filesystem::path& dir, const ExportRecord& record);
// nullopt when the id is not one, or no readable record exists.
std::optional<ExportRecord> ReadRecord(const std::filesystem::path& dir, std::string_view id);

// Deletes exports written more than EXPORT_MAX_AGE_MS before `now_ms` (by their record's
// time), and leftovers without a record (an interrupted export's .part) older than that by
// their modification time. Returns how many exports were deleted. Never fails: what cannot be
// deleted now is tried again next time.
size_t PurgeExpired(const std::filesystem::path& dir, int64_t now_ms);

// Writes one data file: Append() buffers, Commit() renames the finished .part into place,
// destruction without Commit() removes the .part.
class ExportFileWriter {
 public:
  ExportFileWriter() = default;
  ~ExportFileWriter();
  ExportFileWriter(const ExportFileWriter&) = delete;
  ExportFileWriter& operator=(const ExportFileWriter&) = delete;

  Result<void> Open(std::filesystem::path final_path);
  Result<void> Append(std::string_view bytes);
  // Flushes, syncs and renames; returns the file's size.
  Result<int64_t> Commit();

 private:
  std::filesystem::path final_path_;
  std::filesystem::path part_path_;
  std::FILE* file_ = nullptr;
  int64_t bytes_ = 0;
};

}  // namespace yagura::http::exports

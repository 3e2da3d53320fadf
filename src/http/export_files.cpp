// Export files (see export_files.hpp).
#include "http/export_files.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iterator>
#include <set>

#include "core/json_value.hpp"

namespace yagura::http::exports {
namespace {

constexpr std::string_view RECORD_SUFFIX = ".meta.json";
constexpr std::string_view PART_SUFFIX = ".part";

bool NeedsGuard(std::string_view text) {
  if (text.empty()) return false;
  char c = text.front();
  return c == '=' || c == '+' || c == '-' || c == '@' || c == '\t' || c == '\r';
}

std::string SystemError(std::string_view what, const std::filesystem::path& path) {
  return fmt::format("{} {}: {}", what, path.string(), std::strerror(errno));
}

// The export id a file in the directory belongs to ("" for files that are not exports').
std::string IdOf(const std::string& name) {
  size_t dot = name.find('.');
  if (dot == std::string::npos) return {};
  std::string id = name.substr(0, dot);
  return IsExportId(id) ? id : std::string();
}

}  // namespace

std::string CsvField(std::string_view text) {
  std::string value;
  value.reserve(text.size() + 2);
  if (NeedsGuard(text)) value += '\'';
  value.append(text);
  if (value.find_first_of("\",\r\n") == std::string::npos) return value;
  std::string quoted = "\"";
  for (char c : value) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  quoted += '"';
  return quoted;
}

void AppendCsvRecord(std::string& out, std::span<const std::string> fields) {
  bool first = true;
  for (const auto& field : fields) {
    if (!first) out += ',';
    first = false;
    out += CsvField(field);
  }
  out += "\r\n";
}

bool IsExportId(std::string_view id) {
  // The canonical UUID text form: 8-4-4-4-12 lower-case hex digits.
  if (id.size() != 36) return false;
  for (size_t i = 0; i < id.size(); ++i) {
    char c = id[i];
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

std::filesystem::path DataPath(const std::filesystem::path& dir, std::string_view id,
                               std::string_view format) {
  return dir / fmt::format("{}.{}", id, format);
}

std::filesystem::path RecordPath(const std::filesystem::path& dir, std::string_view id) {
  return dir / fmt::format("{}{}", id, RECORD_SUFFIX);
}

std::string_view ContentType(std::string_view format) {
  return format == "csv" ? "text/csv; charset=utf-8" : "application/x-ndjson";
}

Result<void> WriteRecord(const std::filesystem::path& dir, const ExportRecord& record) {
  JsonValue json = JsonValue::MakeObject();
  json.Set("id", record.id);
  json.Set("owner_user_id", record.owner_user_id);
  json.Set("owner_org_id", record.owner_org_id);
  json.Set("kind", record.kind);
  json.Set("format", record.format);
  json.Set("rows", record.rows);
  json.Set("bytes", record.bytes);
  json.Set("tlp", hub::ToString(record.tlp));
  json.Set("created_at_ms", record.created_at_ms);
  ExportFileWriter writer;
  if (auto opened = writer.Open(RecordPath(dir, record.id)); !opened) return opened;
  if (auto written = writer.Append(json.Serialize()); !written) return written;
  auto committed = writer.Commit();
  if (!committed) return tl::unexpected(committed.error());
  return {};
}

std::optional<ExportRecord> ReadRecord(const std::filesystem::path& dir, std::string_view id) {
  if (!IsExportId(id)) return std::nullopt;
  std::ifstream in(RecordPath(dir, id), std::ios::binary);
  if (!in) return std::nullopt;
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto json = JsonValue::Parse(text);
  if (!json || !json->is_object()) return std::nullopt;
  auto text_of = [&](std::string_view key) -> std::optional<std::string> {
    const JsonValue* value = json->Find(key);
    if (value == nullptr || !value->is_string()) return std::nullopt;
    return value->as_string();
  };
  auto int_of = [&](std::string_view key) -> std::optional<int64_t> {
    const JsonValue* value = json->Find(key);
    if (value == nullptr || !value->is_integer()) return std::nullopt;
    return value->as_int();
  };
  ExportRecord record;
  auto stored_id = text_of("id");
  auto owner = text_of("owner_user_id");
  auto kind = text_of("kind");
  auto format = text_of("format");
  auto tlp = text_of("tlp");
  auto created = int_of("created_at_ms");
  if (!stored_id || *stored_id != id || !owner || owner->empty() || !kind || !format || !tlp ||
      !created || (*format != "csv" && *format != "jsonl") || !hub::ParseTlp(*tlp)) {
    return std::nullopt;
  }
  record.id = *stored_id;
  record.owner_user_id = *owner;
  record.owner_org_id = text_of("owner_org_id").value_or("");
  record.kind = *kind;
  record.format = *format;
  record.rows = int_of("rows").value_or(0);
  record.bytes = int_of("bytes").value_or(0);
  record.tlp = *hub::ParseTlp(*tlp);
  record.created_at_ms = *created;
  return record;
}

size_t PurgeExpired(const std::filesystem::path& dir, int64_t now_ms) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) return 0;
  std::set<std::string> expired;  // ids whose files all go
  std::set<std::string> recorded;
  std::vector<std::filesystem::path> stale_leftovers;
  const auto file_now = std::filesystem::file_time_type::clock::now();
  const auto max_age = std::chrono::milliseconds(EXPORT_MAX_AGE_MS);
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (entry.is_regular_file(ec)) files.push_back(entry.path());
  }
  for (const auto& path : files) {
    std::string name = path.filename().string();
    std::string id = IdOf(name);
    if (id.empty()) continue;  // not ours: leave it alone
    if (name.size() > RECORD_SUFFIX.size() && name.ends_with(RECORD_SUFFIX)) {
      recorded.insert(id);
      auto record = ReadRecord(dir, id);
      if (!record || now_ms - record->created_at_ms > EXPORT_MAX_AGE_MS) expired.insert(id);
    }
  }
  for (const auto& path : files) {
    std::string name = path.filename().string();
    std::string id = IdOf(name);
    if (id.empty() || recorded.count(id) != 0) continue;
    // A data file or .part without a record: an export that failed or is being written now.
    // Only old ones are leftovers.
    auto modified = std::filesystem::last_write_time(path, ec);
    if (!ec && file_now - modified > max_age) stale_leftovers.push_back(path);
  }
  for (const auto& path : files) {
    std::string id = IdOf(path.filename().string());
    if (!id.empty() && expired.count(id) != 0) std::filesystem::remove(path, ec);
  }
  for (const auto& path : stale_leftovers) std::filesystem::remove(path, ec);
  return expired.size();
}

ExportFileWriter::~ExportFileWriter() {
  if (file_ != nullptr) {
    std::fclose(file_);
    std::error_code ec;
    std::filesystem::remove(part_path_, ec);
  }
}

Result<void> ExportFileWriter::Open(std::filesystem::path final_path) {
  final_path_ = std::move(final_path);
  part_path_ = final_path_;
  part_path_ += PART_SUFFIX;
  // Readable by the service's user only (exports hold AMBER data); O_EXCL: never reuse a file.
  int fd = ::open(part_path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return Fail(SystemError("cannot create", part_path_));
  file_ = ::fdopen(fd, "wb");
  if (file_ == nullptr) {
    std::string message = SystemError("cannot open", part_path_);
    ::close(fd);
    std::error_code ec;
    std::filesystem::remove(part_path_, ec);
    return Fail(std::move(message));
  }
  bytes_ = 0;
  return {};
}

Result<void> ExportFileWriter::Append(std::string_view bytes) {
  if (file_ == nullptr) return Fail("the export file is not open");
  if (!bytes.empty() && std::fwrite(bytes.data(), 1, bytes.size(), file_) != bytes.size()) {
    return Fail(SystemError("cannot write", part_path_));
  }
  bytes_ += static_cast<int64_t>(bytes.size());
  return {};
}

Result<int64_t> ExportFileWriter::Commit() {
  if (file_ == nullptr) return Fail("the export file is not open");
  bool flushed = std::fflush(file_) == 0 && ::fsync(::fileno(file_)) == 0;
  int saved = errno;
  bool closed = std::fclose(file_) == 0;
  file_ = nullptr;
  std::error_code ec;
  if (!flushed || !closed) {
    errno = saved;
    std::string message = SystemError("cannot write", part_path_);
    std::filesystem::remove(part_path_, ec);
    return Fail(std::move(message));
  }
  std::filesystem::rename(part_path_, final_path_, ec);
  if (ec) {
    std::filesystem::remove(part_path_, ec);
    return Fail(fmt::format("cannot rename {} into place: {}", part_path_.string(), ec.message()));
  }
  return bytes_;
}

}  // namespace yagura::http::exports

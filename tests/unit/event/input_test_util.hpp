// Shared helpers of the input and parser tests: temporary directories, reading every record of
// a file, and a parser over a catalog of chosen field names.
#pragma once

#include <gtest/gtest.h>
#include <simdjson.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/diagnostics.hpp"
#include "event/event.hpp"
#include "event/field_catalog.hpp"
#include "event/input.hpp"
#include "event/logsource_mapping.hpp"
#include "event/parser.hpp"
#include "event/record.hpp"

namespace yagura::event::testing {

namespace fs = std::filesystem;

inline fs::path SharedDir() { return fs::path(YAGURA_SHARED_DIR); }

#define YAGURA_REQUIRE_SHARED(path)                                               \
  do {                                                                            \
    if (!std::filesystem::exists(path)) GTEST_SKIP() << "test data absent: " << (path); \
  } while (0)

class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "yagura-input-test-XXXXXX").string();
    char* made = ::mkdtemp(pattern.data());
    if (made == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = made;
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  [[nodiscard]] const fs::path& path() const { return path_; }
  fs::path Write(const std::string& name, std::string_view content) const {
    fs::path file = path_ / name;
    fs::create_directories(file.parent_path());
    std::ofstream out(file, std::ios::binary);
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    return file;
  }

 private:
  fs::path path_;
};

inline std::string ReadWholeFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A copy of a Record that outlives the reader's callback.
struct SavedRecord {
  std::string data;
  RecordFormat format;
  uint64_t number;
  uint64_t line;
  std::string schema;
  uint32_t source_index;

  // A Record view of the copy, padded as readers guarantee.
  Record View() {
    padded_.assign(data);
    padded_.append(RECORD_PADDING, ' ');
    Record record;
    record.data = std::string_view(padded_.data(), data.size());
    record.format = format;
    record.number = number;
    record.line = line;
    record.schema = schema;
    record.source_index = source_index;
    return record;
  }

  std::string padded_;  // View()'s storage
};

struct ReadResult {
  std::vector<SavedRecord> records;
  ReadStats stats;
  std::vector<Diagnostic> diagnostics;
  bool ok = false;

  [[nodiscard]] size_t CountKind(DiagnosticKind kind) const {
    size_t n = 0;
    for (const auto& d : diagnostics) n += d.kind == kind ? 1 : 0;
    return n;
  }
};

// The data of every record of one input (an archive's member too), which must read whole.
inline std::vector<std::string> RecordData(const InputFile& file) {
  Diagnostics diagnostics;
  RecordReader reader(InputFormat::kAuto, diagnostics);
  std::vector<std::string> records;
  EXPECT_TRUE(reader.ReadFile(file, 0, [&](const Record& r) { records.emplace_back(r.data); }));
  EXPECT_EQ(diagnostics.Count(DiagnosticKind::kInputUnreadable), 0u);
  return records;
}

// `line_records`: JSON line records on (RecordReader::set_json_line_records), with a consumer
// that has a line record framed again unless it is exactly one JSON object.
inline ReadResult ReadAll(const std::string& path, InputFormat format = InputFormat::kAuto,
                          size_t max_record_size = MAX_RECORD_SIZE,
                          bool recover_deleted = false, bool line_records = false) {
  Diagnostics diagnostics;
  RecordReader reader(format, diagnostics);
  reader.set_max_record_size(max_record_size);
  reader.set_recover_deleted(recover_deleted);
  reader.set_json_line_records(line_records);
  simdjson::dom::parser validator;
  ReadResult result;
  result.ok = reader.ReadFile(InputFile{path}, 7, [&](const Record& record) {
    EXPECT_TRUE(line_records || !record.whole_line);
    if (record.whole_line) {
      const simdjson::padded_string text(record.data);
      simdjson::dom::element element;
      if (validator.parse(text).get(element) != simdjson::SUCCESS || !element.is_object()) {
        reader.RejectLineRecord();
        return;
      }
    }
    EXPECT_GE(record.data.size(), 0u);
    // The padding promise: RECORD_PADDING bytes after the data are readable.
    volatile char last = record.data.data()[record.data.size() + RECORD_PADDING - 1];
    (void)last;
    SavedRecord saved;
    saved.data.assign(record.data);
    saved.format = record.format;
    saved.number = record.number;
    saved.line = record.line;
    saved.schema.assign(record.schema);
    saved.source_index = record.source_index;
    result.records.push_back(std::move(saved));
  });
  result.stats = reader.stats();
  result.diagnostics = diagnostics.Kept();
  return result;
}

// A parser whose catalog holds the classification fields and `names`.
class ParserFixture {
 public:
  explicit ParserFixture(std::initializer_list<std::string_view> names, bool all_values = false,
                         std::optional<Logsource> declared = std::nullopt)
      : ParserFixture(std::vector<std::string>(names.begin(), names.end()), all_values,
                      std::move(declared)) {}
  explicit ParserFixture(const std::vector<std::string>& names, bool all_values = false,
                         std::optional<Logsource> declared = std::nullopt) {
    auto loaded = LogsourceMapping::LoadDefault();
    if (!loaded) throw std::runtime_error(loaded.error().ToString());
    mapping_ = std::make_unique<LogsourceMapping>(std::move(*loaded));
    for (const std::string& name : names) catalog_.Intern(name);
    mapping_->InternFields(catalog_);
    if (all_values) catalog_.RequireAllValues();
    parser_ = std::make_unique<EventParser>(catalog_, *mapping_, std::move(declared));
  }

  Result<void> Parse(std::string_view data, RecordFormat format = RecordFormat::kJson,
                     std::string_view schema = {}) {
    padded_.assign(data);
    padded_.append(RECORD_PADDING, '\0');
    Record record;
    record.data = std::string_view(padded_.data(), data.size());
    record.format = format;
    record.number = 1;
    record.line = 1;
    record.schema = schema;
    return parser_->Parse(record, event_);
  }
  Result<void> Parse(SavedRecord& saved) { return parser_->Parse(saved.View(), event_); }

  std::string ToJson(std::string_view data, RecordFormat format = RecordFormat::kJson,
                     std::string_view schema = {}) {
    padded_.assign(data);
    padded_.append(RECORD_PADDING, '\0');
    Record record;
    record.data = std::string_view(padded_.data(), data.size());
    record.format = format;
    record.schema = schema;
    return parser_->ToJson(record);
  }
  // The same, written over `out`.
  void ToJson(std::string_view data, RecordFormat format, std::string& out) {
    padded_.assign(data);
    padded_.append(RECORD_PADDING, '\0');
    Record record;
    record.data = std::string_view(padded_.data(), data.size());
    record.format = format;
    parser_->ToJson(record, out);
  }

  // The values of a field, as text.
  std::vector<std::string> Values(std::string_view name) const {
    std::vector<std::string> out;
    FieldId id = catalog_.Find(name);
    if (id == NO_FIELD) {
      ADD_FAILURE() << name << " is not interned";
      return out;
    }
    for (const FieldValue& value : event_.Values(id)) out.emplace_back(value.text);
    return out;
  }
  std::string Value(std::string_view name) const {
    auto values = Values(name);
    return values.size() == 1 ? values[0] : "<" + std::to_string(values.size()) + " values>";
  }
  const FieldValue* First(std::string_view name) const {
    FieldId id = catalog_.Find(name);
    return id == NO_FIELD ? nullptr : event_.First(id);
  }

  FieldCatalog& catalog() { return catalog_; }
  Event& event() { return event_; }
  EventParser& parser() { return *parser_; }

 private:
  FieldCatalog catalog_;
  std::unique_ptr<LogsourceMapping> mapping_;
  std::unique_ptr<EventParser> parser_;
  Event event_;
  std::string padded_;
};

}  // namespace yagura::event::testing

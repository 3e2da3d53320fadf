// JsonWriter: appends JSON text to a std::string, with our own string escaping.
//
// Output formats (alerts, summaries, `rules check --json`) are written with this instead of a DOM
// library: it is small, allocation-light and escapes exactly what RFC 8259 requires. Invalid
// UTF-8 in a string is written as U+FFFD so every line we emit is valid JSON.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace yagura {

// Appends `text` as a JSON string literal (with quotes).
void AppendJsonString(std::string& out, std::string_view text);

// Where the run of bytes from `from` that a JSON string holds as they are ends: the first
// control character, non-ASCII byte, '"' or '\\' at or after `from`, or text.size(). Escapers
// copy such runs whole (32 bytes are classified at once).
[[nodiscard]] size_t JsonPlainRunEnd(std::string_view text, size_t from);

class JsonWriter {
 public:
  explicit JsonWriter(std::string& out) : out_(out) {}

  JsonWriter& BeginObject();
  JsonWriter& EndObject();
  JsonWriter& BeginArray();
  JsonWriter& EndArray();
  JsonWriter& Key(std::string_view key);
  JsonWriter& String(std::string_view value);
  JsonWriter& Int(int64_t value);
  JsonWriter& Uint(uint64_t value);
  JsonWriter& Double(double value);
  JsonWriter& Bool(bool value);
  JsonWriter& Null();
  // Inserts already-serialised JSON (e.g. an event as it was read).
  JsonWriter& Raw(std::string_view json);

 private:
  void Separate();
  std::string& out_;
  bool need_comma_ = false;
};

}  // namespace yagura

// JsonWriter: appends JSON text to a std::string, with our own string escaping.
//
// Output formats (alerts, summaries, `rules check --json`) are written with this instead of a DOM
// library: it is small, allocation-light and escapes exactly what RFC 8259 requires. Invalid
// UTF-8 in a string is written as U+FFFD so every line we emit is valid JSON.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace yagura {

// Appends `text` as a JSON string literal (with quotes).
void AppendJsonString(std::string& out, std::string_view text);

// Where the run of bytes from `from` that a JSON string holds as they are ends: the first
// control character, non-ASCII byte, '"' or '\\' at or after `from`, or text.size(). Escapers
// copy such runs whole (32 bytes are classified at once).
[[nodiscard]] size_t JsonPlainRunEnd(std::string_view text, size_t from);

// A key as JSON writes it, quotes and colon included ("\"time\":"), checked when the program
// is compiled: the keys of output written for every alert, which then cost one append instead
// of a search for bytes to escape (an alert's ten keys took about 1,900 instructions).
class QuotedKey {
 public:
  consteval QuotedKey(const char* text) : text_(text) {  // NOLINT: literals convert
    if (text_.size() < 3 || text_.front() != '"' || text_.substr(text_.size() - 2) != "\":")
      throw "a quoted key is written \"name\":";
    for (char c : text_.substr(1, text_.size() - 3)) {
      const auto byte = static_cast<unsigned char>(c);
      if (byte < 0x20 || byte >= 0x80 || c == '"' || c == '\\')
        throw "a quoted key needs no escaping";
    }
  }
  [[nodiscard]] std::string_view text() const { return text_; }

 private:
  std::string_view text_;
};

class JsonWriter {
 public:
  explicit JsonWriter(std::string& out) : out_(out) {}

  JsonWriter& BeginObject();
  JsonWriter& EndObject();
  JsonWriter& BeginArray();
  JsonWriter& EndArray();
  JsonWriter& Key(std::string_view key);
  // The same for a key already quoted: Key("time") and WrittenKey("\"time\":") write alike.
  JsonWriter& WrittenKey(QuotedKey key);
  JsonWriter& String(std::string_view value);
  JsonWriter& Int(int64_t value);
  JsonWriter& Uint(uint64_t value);
  JsonWriter& Double(double value);
  JsonWriter& Bool(bool value);
  JsonWriter& Null();
  // A time as RFC 3339 UTC with milliseconds (FormatTimestampMs), or null when unknown.
  JsonWriter& TimeOrNull(const std::optional<int64_t>& ms);
  // Inserts already-serialised JSON (e.g. an event as it was read).
  JsonWriter& Raw(std::string_view json);

 private:
  void Separate();
  std::string& out_;
  bool need_comma_ = false;
};

}  // namespace yagura

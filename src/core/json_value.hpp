// JsonValue: a small JSON document model for request bodies, configuration and API responses.
//
// The hot path never uses it (events are read with simdjson On-Demand); it serves the centre's
// service, where bodies are small and must be validated field by field. The parser is strict
// RFC 8259 (no comments, no trailing commas, no duplicate keys, valid UTF-8, nesting limited)
// and reports the byte offset of the first error. Objects keep their members in document order.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "core/result.hpp"

namespace yagura {

class JsonValue {
 public:
  enum class Type { kNull, kBool, kNumber, kString, kArray, kObject };
  using Array = std::vector<JsonValue>;
  using Object = std::vector<std::pair<std::string, JsonValue>>;

  JsonValue() = default;  // null
  JsonValue(std::nullptr_t) {}
  JsonValue(bool value) : data_(value) {}
  JsonValue(int value) : data_(Number{static_cast<double>(value), value, true}) {}
  JsonValue(int64_t value) : data_(Number{static_cast<double>(value), value, true}) {}
  JsonValue(double value);
  JsonValue(const char* value) : data_(std::string(value)) {}
  JsonValue(std::string value) : data_(std::move(value)) {}
  JsonValue(std::string_view value) : data_(std::string(value)) {}
  JsonValue(Array value) : data_(std::move(value)) {}
  JsonValue(Object value) : data_(std::move(value)) {}

  static JsonValue MakeObject() { return JsonValue(Object{}); }
  static JsonValue MakeArray() { return JsonValue(Array{}); }

  // Parses one JSON text (surrounding whitespace allowed). Errors read like
  // "invalid JSON at byte 17: expected ':' after an object key".
  static Result<JsonValue> Parse(std::string_view text, int max_depth = 64);

  [[nodiscard]] Type type() const;
  [[nodiscard]] bool is_null() const { return type() == Type::kNull; }
  [[nodiscard]] bool is_bool() const { return type() == Type::kBool; }
  [[nodiscard]] bool is_number() const { return type() == Type::kNumber; }
  // A number written without fraction or exponent that fits int64.
  [[nodiscard]] bool is_integer() const;
  [[nodiscard]] bool is_string() const { return type() == Type::kString; }
  [[nodiscard]] bool is_array() const { return type() == Type::kArray; }
  [[nodiscard]] bool is_object() const { return type() == Type::kObject; }

  // Accessors; calling one on the wrong type throws std::logic_error (a programming error:
  // validate first).
  [[nodiscard]] bool as_bool() const;
  [[nodiscard]] double as_double() const;
  [[nodiscard]] int64_t as_int() const;
  [[nodiscard]] const std::string& as_string() const;
  [[nodiscard]] const Array& as_array() const;
  [[nodiscard]] Array& as_array();
  [[nodiscard]] const Object& as_object() const;
  [[nodiscard]] Object& as_object();

  // Object member lookup; nullptr when absent or when this is not an object.
  [[nodiscard]] const JsonValue* Find(std::string_view key) const;
  // Sets (replaces or appends) an object member; turns null into an object.
  JsonValue& Set(std::string_view key, JsonValue value);
  // Appends to an array; turns null into an array.
  JsonValue& Push(JsonValue value);

  // Compact serialisation (RFC 8259; invalid UTF-8 in strings becomes U+FFFD).
  [[nodiscard]] std::string Serialize() const;
  void SerializeTo(std::string& out) const;

  friend bool operator==(const JsonValue& a, const JsonValue& b);

 private:
  struct Number {
    double value;
    int64_t integer;
    bool is_integer;
  };
  std::variant<std::monostate, bool, Number, std::string, Array, Object> data_;
  friend class JsonParser;
};

// Name of a type for error messages: "null", "boolean", "number", "string", "array", "object".
std::string_view JsonTypeName(JsonValue::Type type);

}  // namespace yagura

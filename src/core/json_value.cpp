// JsonValue: strict recursive-descent parser and serialiser.
//
// Request bodies come from untrusted clients, so the parser checks everything RFC 8259 asks
// (UTF-8 validity, escapes, surrogate pairs, number grammar) and refuses duplicate keys, which
// RFC 8259 leaves open but which let two readers of one body disagree. Depth is bounded so a
// body of ten thousand '[' cannot exhaust the stack.
#include "core/json_value.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <stdexcept>
#include <unordered_set>

#include "core/json_writer.hpp"

namespace yagura {

JsonValue::JsonValue(double value) {
  Number number{value, 0, false};
  if (std::isfinite(value) && value == std::floor(value) && std::fabs(value) < 9.0e15) {
    number.integer = static_cast<int64_t>(value);
    number.is_integer = true;
  }
  data_ = number;
}

JsonValue::Type JsonValue::type() const {
  switch (data_.index()) {
    case 0: return Type::kNull;
    case 1: return Type::kBool;
    case 2: return Type::kNumber;
    case 3: return Type::kString;
    case 4: return Type::kArray;
    default: return Type::kObject;
  }
}

std::string_view JsonTypeName(JsonValue::Type type) {
  switch (type) {
    case JsonValue::Type::kNull: return "null";
    case JsonValue::Type::kBool: return "boolean";
    case JsonValue::Type::kNumber: return "number";
    case JsonValue::Type::kString: return "string";
    case JsonValue::Type::kArray: return "array";
    case JsonValue::Type::kObject: return "object";
  }
  return "?";
}

namespace {
[[noreturn]] void WrongType(const char* wanted, JsonValue::Type actual) {
  throw std::logic_error(fmt::format("JSON value is {}, not {}", JsonTypeName(actual), wanted));
}
}  // namespace

bool JsonValue::is_integer() const {
  const auto* number = std::get_if<Number>(&data_);
  return number != nullptr && number->is_integer;
}
bool JsonValue::as_bool() const {
  if (const auto* v = std::get_if<bool>(&data_)) return *v;
  WrongType("boolean", type());
}
double JsonValue::as_double() const {
  if (const auto* v = std::get_if<Number>(&data_)) return v->value;
  WrongType("number", type());
}
int64_t JsonValue::as_int() const {
  if (const auto* v = std::get_if<Number>(&data_)) {
    return v->is_integer ? v->integer : static_cast<int64_t>(v->value);
  }
  WrongType("number", type());
}
const std::string& JsonValue::as_string() const {
  if (const auto* v = std::get_if<std::string>(&data_)) return *v;
  WrongType("string", type());
}
const JsonValue::Array& JsonValue::as_array() const {
  if (const auto* v = std::get_if<Array>(&data_)) return *v;
  WrongType("array", type());
}
JsonValue::Array& JsonValue::as_array() {
  if (auto* v = std::get_if<Array>(&data_)) return *v;
  WrongType("array", type());
}
const JsonValue::Object& JsonValue::as_object() const {
  if (const auto* v = std::get_if<Object>(&data_)) return *v;
  WrongType("object", type());
}
JsonValue::Object& JsonValue::as_object() {
  if (auto* v = std::get_if<Object>(&data_)) return *v;
  WrongType("object", type());
}

const JsonValue* JsonValue::Find(std::string_view key) const {
  const auto* object = std::get_if<Object>(&data_);
  if (object == nullptr) return nullptr;
  for (const auto& [name, value] : *object) {
    if (name == key) return &value;
  }
  return nullptr;
}

JsonValue& JsonValue::Set(std::string_view key, JsonValue value) {
  if (is_null()) data_ = Object{};
  Object& object = as_object();
  for (auto& [name, existing] : object) {
    if (name == key) {
      existing = std::move(value);
      return existing;
    }
  }
  object.emplace_back(std::string(key), std::move(value));
  return object.back().second;
}

JsonValue& JsonValue::Push(JsonValue value) {
  if (is_null()) data_ = Array{};
  Array& array = as_array();
  array.push_back(std::move(value));
  return array.back();
}

bool operator==(const JsonValue& a, const JsonValue& b) {
  if (a.type() != b.type()) return false;
  switch (a.type()) {
    case JsonValue::Type::kNull: return true;
    case JsonValue::Type::kBool: return a.as_bool() == b.as_bool();
    case JsonValue::Type::kNumber:
      if (a.is_integer() && b.is_integer()) return a.as_int() == b.as_int();
      return a.as_double() == b.as_double();
    case JsonValue::Type::kString: return a.as_string() == b.as_string();
    case JsonValue::Type::kArray: return a.as_array() == b.as_array();
    case JsonValue::Type::kObject: return a.as_object() == b.as_object();
  }
  return false;
}

void JsonValue::SerializeTo(std::string& out) const {
  switch (type()) {
    case Type::kNull: out += "null"; return;
    case Type::kBool: out += as_bool() ? "true" : "false"; return;
    case Type::kNumber: {
      const auto& number = std::get<Number>(data_);
      if (number.is_integer) {
        out += std::to_string(number.integer);
      } else if (!std::isfinite(number.value)) {
        out += "null";  // JSON has no NaN or infinity
      } else {
        char buffer[32];
        auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), number.value);
        const std::string_view written(buffer, static_cast<size_t>(end - buffer));
        out.append(written);
        // A number read as a fraction ("1.0", "-0.0", "2e2") stays one when read back, so that
        // an integer field refuses it then as it did the first time: to_chars writes it "1".
        if (written.find_first_of(".eE") == std::string_view::npos) out += ".0";
      }
      return;
    }
    case Type::kString: AppendJsonString(out, as_string()); return;
    case Type::kArray: {
      out += '[';
      bool first = true;
      for (const auto& item : as_array()) {
        if (!first) out += ',';
        first = false;
        item.SerializeTo(out);
      }
      out += ']';
      return;
    }
    case Type::kObject: {
      out += '{';
      bool first = true;
      for (const auto& [key, item] : as_object()) {
        if (!first) out += ',';
        first = false;
        AppendJsonString(out, key);
        out += ':';
        item.SerializeTo(out);
      }
      out += '}';
      return;
    }
  }
}

std::string JsonValue::Serialize() const {
  std::string out;
  SerializeTo(out);
  return out;
}

class JsonParser {
 public:
  JsonParser(std::string_view text, int max_depth) : text_(text), max_depth_(max_depth) {}

  Result<JsonValue> ParseDocument() {
    JsonValue value;
    SkipSpace();
    if (!ParseValue(value, 0)) return Fail(error_);
    SkipSpace();
    if (pos_ != text_.size()) {
      Error("unexpected text after the JSON value");
      return Fail(error_);
    }
    return value;
  }

 private:
  bool Error(std::string_view what) {
    if (error_.empty()) error_ = fmt::format("invalid JSON at byte {}: {}", pos_, what);
    return false;
  }
  void SkipSpace() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' ||
                                   text_[pos_] == '\n' || text_[pos_] == '\r')) {
      ++pos_;
    }
  }
  bool Literal(std::string_view word) {
    if (text_.substr(pos_, word.size()) != word) return Error("unknown literal");
    pos_ += word.size();
    return true;
  }

  bool ParseValue(JsonValue& out, int depth) {
    if (pos_ >= text_.size()) return Error("unexpected end of input");
    char c = text_[pos_];
    switch (c) {
      case '{': return ParseObject(out, depth + 1);
      case '[': return ParseArray(out, depth + 1);
      case '"': {
        std::string s;
        if (!ParseString(s)) return false;
        out = JsonValue(std::move(s));
        return true;
      }
      case 't': if (!Literal("true")) return false; out = JsonValue(true); return true;
      case 'f': if (!Literal("false")) return false; out = JsonValue(false); return true;
      case 'n': if (!Literal("null")) return false; out = JsonValue(); return true;
      default:
        if (c == '-' || (c >= '0' && c <= '9')) return ParseNumber(out);
        return Error(fmt::format("unexpected character '{}'", Printable(c)));
    }
  }

  static std::string Printable(char c) {
    auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f) return std::string(1, c);
    return fmt::format("\\x{:02x}", u);
  }

  bool ParseObject(JsonValue& out, int depth) {
    if (depth > max_depth_) return Error("nesting too deep");
    ++pos_;  // '{'
    JsonValue::Object object;
    std::unordered_set<std::string> seen;
    SkipSpace();
    if (pos_ < text_.size() && text_[pos_] == '}') {
      ++pos_;
      out = JsonValue(std::move(object));
      return true;
    }
    while (true) {
      SkipSpace();
      if (pos_ >= text_.size() || text_[pos_] != '"') return Error("expected a string key");
      std::string key;
      if (!ParseString(key)) return false;
      // Small objects compare keys directly; large ones switch to a hash set, so a hostile body
      // with a million keys costs linear time, not quadratic.
      bool duplicate = false;
      if (object.size() < 16) {
        for (const auto& member : object) duplicate = duplicate || member.first == key;
      } else {
        if (seen.empty()) {
          for (const auto& member : object) seen.insert(member.first);
        }
        duplicate = !seen.insert(key).second;
      }
      if (duplicate) return Error(fmt::format("duplicate key \"{}\"", key));
      SkipSpace();
      if (pos_ >= text_.size() || text_[pos_] != ':') {
        return Error("expected ':' after an object key");
      }
      ++pos_;
      SkipSpace();
      JsonValue value;
      if (!ParseValue(value, depth)) return false;
      object.emplace_back(std::move(key), std::move(value));
      SkipSpace();
      if (pos_ >= text_.size()) return Error("unexpected end of input in an object");
      if (text_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (text_[pos_] == '}') {
        ++pos_;
        out = JsonValue(std::move(object));
        return true;
      }
      return Error("expected ',' or '}' in an object");
    }
  }

  bool ParseArray(JsonValue& out, int depth) {
    if (depth > max_depth_) return Error("nesting too deep");
    ++pos_;  // '['
    JsonValue::Array array;
    SkipSpace();
    if (pos_ < text_.size() && text_[pos_] == ']') {
      ++pos_;
      out = JsonValue(std::move(array));
      return true;
    }
    while (true) {
      SkipSpace();
      JsonValue value;
      if (!ParseValue(value, depth)) return false;
      array.push_back(std::move(value));
      SkipSpace();
      if (pos_ >= text_.size()) return Error("unexpected end of input in an array");
      if (text_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (text_[pos_] == ']') {
        ++pos_;
        out = JsonValue(std::move(array));
        return true;
      }
      return Error("expected ',' or ']' in an array");
    }
  }

  bool ParseNumber(JsonValue& out) {
    size_t start = pos_;
    bool integral = true;
    if (text_[pos_] == '-') ++pos_;
    if (pos_ >= text_.size()) return Error("incomplete number");
    const size_t integer_start = pos_;
    if (text_[pos_] == '0') {
      ++pos_;
    } else if (text_[pos_] >= '1' && text_[pos_] <= '9') {
      while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') ++pos_;
    } else {
      return Error("invalid number");
    }
    const auto integer_digits = static_cast<int64_t>(pos_ - integer_start);
    if (pos_ < text_.size() && text_[pos_] == '.') {
      integral = false;
      ++pos_;
      size_t digits = pos_;
      while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') ++pos_;
      if (pos_ == digits) return Error("expected digits after '.'");
    }
    int64_t exponent = 0;
    if (pos_ < text_.size() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
      integral = false;
      ++pos_;
      const bool negative = pos_ < text_.size() && text_[pos_] == '-';
      if (pos_ < text_.size() && (text_[pos_] == '+' || text_[pos_] == '-')) ++pos_;
      size_t digits = pos_;
      while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') {
        exponent = std::min<int64_t>(exponent * 10 + (text_[pos_] - '0'), 1'000'000);
        ++pos_;
      }
      if (pos_ == digits) return Error("expected digits in the exponent");
      if (negative) exponent = -exponent;
    }
    std::string_view literal = text_.substr(start, pos_ - start);
    if (integral) {
      int64_t value = 0;
      auto [end, ec] = std::from_chars(literal.data(), literal.data() + literal.size(), value);
      if (ec == std::errc() && end == literal.data() + literal.size()) {
        out = JsonValue(value);
        return true;
      }
    }
    double value = 0;
    auto [end, ec] = std::from_chars(literal.data(), literal.data() + literal.size(), value);
    if (ec == std::errc::result_out_of_range && integer_digits + exponent < 0) {
      // Too small for a double (1e-400): its nearest double is zero, as other JSON readers
      // (simdjson, JavaScript) read it. Too large is refused below.
      value = literal.front() == '-' ? -0.0 : 0.0;
      ec = std::errc();
    }
    if (ec != std::errc() || !std::isfinite(value)) return Error("number out of range");
    JsonValue number(value);
    if (!integral) {
      // "1.0" stays a non-integer so validation of integer fields can refuse it.
      number.data_ = JsonValue::Number{value, 0, false};
    }
    out = std::move(number);
    return true;
  }

  bool ParseHex4(uint32_t& code) {
    if (pos_ + 4 > text_.size()) return Error("incomplete \\u escape");
    code = 0;
    for (int i = 0; i < 4; ++i) {
      char h = text_[pos_++];
      code <<= 4;
      if (h >= '0' && h <= '9') code |= h - '0';
      else if (h >= 'a' && h <= 'f') code |= h - 'a' + 10;
      else if (h >= 'A' && h <= 'F') code |= h - 'A' + 10;
      else return Error("invalid hex digit in \\u escape");
    }
    return true;
  }

  static void AppendUtf8(std::string& out, uint32_t code) {
    if (code < 0x80) {
      out += static_cast<char>(code);
    } else if (code < 0x800) {
      out += static_cast<char>(0xC0 | (code >> 6));
      out += static_cast<char>(0x80 | (code & 0x3F));
    } else if (code < 0x10000) {
      out += static_cast<char>(0xE0 | (code >> 12));
      out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (code & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (code >> 18));
      out += static_cast<char>(0x80 | ((code >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (code & 0x3F));
    }
  }

  // Length of the valid UTF-8 sequence starting at pos_, or 0.
  size_t Utf8Length() const {
    auto byte = [&](size_t i) { return static_cast<unsigned char>(text_[pos_ + i]); };
    unsigned char lead = byte(0);
    size_t length;
    uint32_t min;
    uint32_t code;
    if (lead >= 0xC2 && lead <= 0xDF) { length = 2; min = 0x80; code = lead & 0x1F; }
    else if (lead >= 0xE0 && lead <= 0xEF) { length = 3; min = 0x800; code = lead & 0x0F; }
    else if (lead >= 0xF0 && lead <= 0xF4) { length = 4; min = 0x10000; code = lead & 0x07; }
    else return 0;
    if (pos_ + length > text_.size()) return 0;
    for (size_t i = 1; i < length; ++i) {
      if ((byte(i) & 0xC0) != 0x80) return 0;
      code = (code << 6) | (byte(i) & 0x3F);
    }
    if (code < min || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return 0;
    return length;
  }

  bool ParseString(std::string& out) {
    ++pos_;  // opening quote
    while (true) {
      if (pos_ >= text_.size()) return Error("unterminated string");
      auto c = static_cast<unsigned char>(text_[pos_]);
      if (c == '"') {
        ++pos_;
        return true;
      }
      if (c < 0x20) return Error("control character in a string");
      if (c == '\\') {
        ++pos_;
        if (pos_ >= text_.size()) return Error("unterminated escape");
        char e = text_[pos_++];
        switch (e) {
          case '"': out += '"'; break;
          case '\\': out += '\\'; break;
          case '/': out += '/'; break;
          case 'b': out += '\b'; break;
          case 'f': out += '\f'; break;
          case 'n': out += '\n'; break;
          case 'r': out += '\r'; break;
          case 't': out += '\t'; break;
          case 'u': {
            uint32_t code;
            if (!ParseHex4(code)) return false;
            if (code >= 0xD800 && code <= 0xDBFF) {
              if (text_.substr(pos_, 2) != "\\u") return Error("unpaired surrogate");
              pos_ += 2;
              uint32_t low;
              if (!ParseHex4(low)) return false;
              if (low < 0xDC00 || low > 0xDFFF) return Error("unpaired surrogate");
              code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
            } else if (code >= 0xDC00 && code <= 0xDFFF) {
              return Error("unpaired surrogate");
            }
            AppendUtf8(out, code);
            break;
          }
          default: return Error("invalid escape");
        }
        continue;
      }
      if (c < 0x80) {
        out += static_cast<char>(c);
        ++pos_;
        continue;
      }
      size_t length = Utf8Length();
      if (length == 0) return Error("invalid UTF-8 in a string");
      out.append(text_.substr(pos_, length));
      pos_ += length;
    }
  }

  std::string_view text_;
  int max_depth_;
  size_t pos_ = 0;
  std::string error_;
};

Result<JsonValue> JsonValue::Parse(std::string_view text, int max_depth) {
  JsonParser parser(text, max_depth);
  return parser.ParseDocument();
}

}  // namespace yagura

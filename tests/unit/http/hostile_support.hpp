// Tools of the hostile-input test: request bodies derived from the API's own JSON Schemas, and
// a raw socket client that can send bytes no HTTP library would.
//
// Bodies come from the schemas in ApiContext::schemas rather than from hand-written lists, so
// a field added to a route is attacked the day it is documented: for every property of a
// request schema the factory builds a body that is valid except for that one property (wrong
// JSON type, too long, empty, unknown enum value, bad format, NUL byte, integer oddities,
// too many items, ...), plus bodies with a required property missing, an unknown member and a
// duplicated key. Each case names the field the server's error is expected to name.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/json_value.hpp"

namespace yagura::http::hostile {

// One request body and the field its rejection should name ("" when no single field is meant).
struct BodyCase {
  std::string label;
  std::string field;
  std::string text;
};

// A replacement value: either a JSON value or, for texts JsonValue cannot produce (1e999, -0,
// an overflowing integer), the raw JSON text spliced into the serialised body.
struct BadValue {
  std::string label;
  JsonValue value;
  std::string raw;
};

inline std::string Repeat(std::string_view unit, size_t count) {
  std::string out;
  out.reserve(unit.size() * count);
  for (size_t i = 0; i < count; ++i) out += unit;
  return out;
}

class BodyFactory {
 public:
  // `overrides`: valid values for properties whose validity depends on the data (ids of real
  // objects, a future due date, a user name matching the pattern).
  BodyFactory(const JsonValue& schemas, std::map<std::string, JsonValue> overrides)
      : schemas_(schemas), overrides_(std::move(overrides)) {}

  // Follows a "$ref" to components/schemas; the schema itself otherwise.
  [[nodiscard]] const JsonValue& Resolve(const JsonValue& schema) const {
    const JsonValue* ref = schema.Find("$ref");
    if (ref != nullptr && ref->is_string()) {
      std::string_view name = ref->as_string();
      name.remove_prefix(name.rfind('/') + 1);
      if (const JsonValue* target = schemas_.Find(name)) return Resolve(*target);
    }
    return schema;
  }

  // A plausible valid value for `schema` (objects: their required members only).
  [[nodiscard]] JsonValue Base(const JsonValue& raw_schema, std::string_view name = {}) const {
    if (auto it = overrides_.find(std::string(name)); it != overrides_.end()) return it->second;
    const JsonValue& schema = Resolve(raw_schema);
    if (const JsonValue* values = schema.Find("enum")) {
      for (const auto& value : values->as_array()) {
        if (!value.is_null()) return value;
      }
    }
    std::set<std::string> types = TypesOf(schema);
    if (types.count("object") != 0 || schema.Find("properties") != nullptr) {
      JsonValue object = JsonValue::MakeObject();
      const JsonValue* properties = schema.Find("properties");
      if (const JsonValue* required = schema.Find("required")) {
        for (const auto& key : required->as_array()) {
          const JsonValue* property = properties ? properties->Find(key.as_string()) : nullptr;
          object.Set(key.as_string(), property ? Base(*property, key.as_string()) : JsonValue("x"));
        }
      }
      // Members that are optional in the schema but required in some combinations (a due date
      // and a target for art. 30 requests) are filled in when this world knows a valid value.
      if (properties != nullptr) {
        for (const auto& [key, property] : properties->as_object()) {
          if (object.Find(key) == nullptr && overrides_.count(key) != 0) {
            object.Set(key, overrides_.at(key));
          }
        }
      }
      return object;
    }
    if (types.count("array") != 0) {
      JsonValue array = JsonValue::MakeArray();
      const JsonValue* items = schema.Find("items");
      if (Number(schema, "minItems") > 0 && items != nullptr) array.Push(Base(*items));
      return array;
    }
    if (types.count("integer") != 0 || types.count("number") != 0) {
      return JsonValue(std::max<int64_t>(Number(schema, "minimum"), 1));
    }
    if (types.count("boolean") != 0) return JsonValue(false);
    std::string format = Text(schema, "format");
    if (format == "date-time") return JsonValue("2030-01-01T00:00:00Z");
    if (format == "email") return JsonValue("hostile@example.org");
    if (format == "uri") return JsonValue("https://example.org/hostile");
    int64_t min_length = std::max<int64_t>(Number(schema, "minLength"), 1);
    return JsonValue(Repeat("x", static_cast<size_t>(min_length)));
  }

  // Every case for the object schema `name`: one property broken at a time, members missing,
  // unknown and duplicated.
  [[nodiscard]] std::vector<BodyCase> Cases(const std::string& name) const {
    std::vector<BodyCase> cases;
    const JsonValue* schema = schemas_.Find(name);
    if (schema == nullptr) return cases;
    const JsonValue& object_schema = Resolve(*schema);
    JsonValue base = Base(object_schema);
    MutateObject(
        object_schema, base, "", [](const JsonValue& body) { return body; }, cases);

    // A duplicated member, both copies valid: strict parsers refuse it so that two readers of
    // one body cannot disagree about its value.
    if (!base.as_object().empty()) {
      std::string text = base.Serialize();
      const auto& [key, value] = base.as_object().front();
      JsonValue single = JsonValue::MakeObject();
      single.Set(key, value);
      std::string member = single.Serialize();
      member = member.substr(1, member.size() - 2);
      cases.push_back({"duplicate member " + key, "", "{" + member + "," + text.substr(1)});
    }
    // The schema promises at least one member.
    if (Number(object_schema, "minProperties") > 0) cases.push_back({"no members", "", "{}"});
    // A 2 MB value in the first string property.
    if (const JsonValue* properties = object_schema.Find("properties")) {
      for (const auto& [key, property] : properties->as_object()) {
        if (TypesOf(Resolve(property)).count("string") == 0) continue;
        JsonValue body = base;
        body.Set(key, JsonValue(Repeat("x", 2 * 1024 * 1024)));
        cases.push_back({key + ": 2 MB string", key, body.Serialize()});
        break;
      }
    }
    return cases;
  }

  // "type" as a set; enums without a type count as strings (plus null when listed).
  [[nodiscard]] static std::set<std::string> TypesOf(const JsonValue& schema) {
    std::set<std::string> types;
    if (const JsonValue* type = schema.Find("type")) {
      if (type->is_string()) types.insert(type->as_string());
      if (type->is_array()) {
        for (const auto& item : type->as_array()) types.insert(item.as_string());
      }
    }
    if (const JsonValue* values = schema.Find("enum"); values != nullptr && types.empty()) {
      for (const auto& value : values->as_array())
        types.insert(value.is_null() ? "null" : "string");
    }
    return types;
  }

 private:
  using Wrap = std::function<JsonValue(const JsonValue&)>;

  static std::string Text(const JsonValue& schema, std::string_view key) {
    const JsonValue* value = schema.Find(key);
    return value != nullptr && value->is_string() ? value->as_string() : std::string();
  }
  static int64_t Number(const JsonValue& schema, std::string_view key, int64_t fallback = -1) {
    const JsonValue* value = schema.Find(key);
    return value != nullptr && value->is_integer() ? value->as_int() : fallback;
  }
  static std::string Join(const std::string& path, std::string_view key) {
    return path.empty() ? std::string(key) : path + "." + std::string(key);
  }
  static JsonValue Without(const JsonValue& object, std::string_view key) {
    JsonValue copy = JsonValue::MakeObject();
    for (const auto& [name, value] : object.as_object()) {
      if (name != key) copy.Set(name, value);
    }
    return copy;
  }
  static std::string Serialize(const JsonValue& body, const std::string& raw) {
    std::string text = body.Serialize();
    if (raw.empty()) return text;
    const std::string marker = "\"@@RAW@@\"";
    size_t at = text.find(marker);
    if (at != std::string::npos) text.replace(at, marker.size(), raw);
    return text;
  }

  void MutateObject(const JsonValue& schema, const JsonValue& base, const std::string& path,
                    const Wrap& wrap, std::vector<BodyCase>& cases) const {
    const JsonValue* properties = schema.Find("properties");
    if (properties != nullptr) {
      for (const auto& [key, raw_property] : properties->as_object()) {
        const JsonValue& property = Resolve(raw_property);
        std::string field = Join(path, key);
        auto set = [&, key = key](const JsonValue& value) {
          JsonValue body = base;
          body.Set(key, value);
          return wrap(body);
        };
        MutateValue(property, key, field, set, cases);
      }
    }
    if (const JsonValue* required = schema.Find("required")) {
      for (const auto& key : required->as_array()) {
        cases.push_back({Join(path, key.as_string()) + ": missing", Join(path, key.as_string()),
                         wrap(Without(base, key.as_string())).Serialize()});
      }
    }
    JsonValue extra = base;
    extra.Set("zz_unknown", JsonValue(1));
    cases.push_back({Join(path, "zz_unknown") + ": unknown member", Join(path, "zz_unknown"),
                     wrap(extra).Serialize()});
  }

  // The cases for one value at `field`; `set` builds the whole body around a replacement.
  void MutateValue(const JsonValue& schema, std::string_view name, const std::string& field,
                   const Wrap& set, std::vector<BodyCase>& cases) const {
    for (const BadValue& bad : BadValues(schema)) {
      cases.push_back({field + ": " + bad.label, field, Serialize(set(bad.value), bad.raw)});
    }
    std::set<std::string> types = TypesOf(schema);
    if (types.count("object") != 0 && schema.Find("properties") != nullptr) {
      JsonValue nested = Base(schema, name);
      MutateObject(schema, nested, field, set, cases);
    }
    if (types.count("array") != 0) {
      const JsonValue* raw_items = schema.Find("items");
      if (raw_items == nullptr) return;
      const JsonValue& items = Resolve(*raw_items);
      auto one = [&set](const JsonValue& item) {
        JsonValue array = JsonValue::MakeArray();
        array.Push(item);
        return set(array);
      };
      std::string item_field = field + "[0]";
      for (const BadValue& bad : BadValues(items)) {
        cases.push_back(
            {item_field + ": " + bad.label, item_field, Serialize(one(bad.value), bad.raw)});
      }
      cases.push_back({item_field + ": null item", item_field, one(JsonValue()).Serialize()});
      if (TypesOf(items).count("object") != 0 && items.Find("properties") != nullptr) {
        MutateObject(items, Base(items), item_field, one, cases);
      }
      if (int64_t max_items = Number(schema, "maxItems"); max_items >= 0) {
        JsonValue array = JsonValue::MakeArray();
        for (int64_t i = 0; i <= max_items; ++i) array.Push(Base(items));
        cases.push_back({field + ": maxItems + 1", field, set(array).Serialize()});
      } else {
        // No documented bound: ten thousand items must still be refused somewhere.
        JsonValue array = JsonValue::MakeArray();
        for (int i = 0; i < 10000; ++i) array.Push(Base(items));
        cases.push_back({field + ": 10000 items", field, set(array).Serialize()});
      }
      if (Number(schema, "minItems") > 0) {
        cases.push_back({field + ": empty array", field, set(JsonValue::MakeArray()).Serialize()});
      }
    }
  }

  [[nodiscard]] std::vector<BadValue> BadValues(const JsonValue& schema) const {
    std::vector<BadValue> bad;
    std::set<std::string> types = TypesOf(schema);
    const JsonValue* values = schema.Find("enum");
    auto allowed = [&](const std::string& type) {
      if (types.count(type) != 0) return true;
      return type == "integer" && types.count("number") != 0;
    };
    // Wrong JSON types (never null: null means "absent" or "clear" for optional members).
    if (!types.empty()) {
      if (!allowed("integer")) bad.push_back({"wrong type (integer)", JsonValue(12345), ""});
      if (!allowed("number")) bad.push_back({"wrong type (number)", JsonValue(1.5), ""});
      if (!allowed("boolean")) bad.push_back({"wrong type (boolean)", JsonValue(true), ""});
      if (!allowed("string")) bad.push_back({"wrong type (string)", JsonValue("text"), ""});
      if (!allowed("array")) {
        JsonValue array = JsonValue::MakeArray();
        array.Push(JsonValue("x"));
        bad.push_back({"wrong type (array)", array, ""});
      }
      if (!allowed("object")) {
        JsonValue object = JsonValue::MakeObject();
        object.Set("a", JsonValue("b"));
        bad.push_back({"wrong type (object)", object, ""});
      }
    }
    if (values != nullptr) {
      std::string first;
      for (const auto& value : values->as_array()) {
        if (value.is_string()) {
          first = value.as_string();
          break;
        }
      }
      bad.push_back({"unknown enum value", JsonValue("no-such-value"), ""});
      bad.push_back({"empty enum value", JsonValue(""), ""});
      std::string upper = first;
      for (char& c : upper) c = static_cast<char>(c >= 'a' && c <= 'z' ? c - 32 : c);
      if (upper != first) bad.push_back({"enum value in upper case", JsonValue(upper), ""});
      bad.push_back({"enum value with a NUL", JsonValue(first + std::string(1, '\0')), ""});
      bad.push_back({"enum value with a space", JsonValue(" " + first), ""});
      return bad;
    }
    if (allowed("string")) {
      int64_t max_length = Number(schema, "maxLength");
      int64_t min_length = Number(schema, "minLength");
      if (max_length >= 0) {
        // Counted in characters, so the multi-byte ones must not slip through.
        bad.push_back({"maxLength + 1 characters",
                       JsonValue(Repeat("\xE6\x97\xA5", static_cast<size_t>(max_length + 1))), ""});
      } else {
        bad.push_back({"100 KB string", JsonValue(Repeat("x", 100 * 1024)), ""});
      }
      if (min_length >= 1) bad.push_back({"empty string", JsonValue(""), ""});
      if (min_length > 1) {
        bad.push_back({"minLength - 1 characters",
                       JsonValue(Repeat("x", static_cast<size_t>(min_length - 1))), ""});
      }
      std::string format = Text(schema, "format");
      if (format == "date-time") {
        for (const char* text :
             {"not-a-date", "2026-13-01T00:00:00Z", "2026-02-30T10:00:00Z", "2026-11-26T25:00:00Z",
              "2026-11-26T09:30:00", "2026-11-26", "+12026-11-26T00:00:00Z", "0000-01-01T00:00:00Z",
              "2026-11-26T09:30:00+99:00"}) {
          bad.push_back({std::string("bad date-time ") + text, JsonValue(text), ""});
        }
      } else if (format == "email") {
        for (const char* text : {"not-an-email", "a@b", "a b@example.org", "@example.org",
                                 "a@@example.org", "<a@example.org>"}) {
          bad.push_back({std::string("bad email ") + text, JsonValue(text), ""});
        }
      } else if (format == "uri") {
        for (const char* text : {"javascript:alert(1)", "not a url", "https://", "//example.org"}) {
          bad.push_back({std::string("bad uri ") + text, JsonValue(text), ""});
        }
      }
      if (schema.Find("pattern") != nullptr) {
        bad.push_back({"pattern mismatch", JsonValue("!! no match !!"), ""});
      }
      bad.push_back({"NUL character", JsonValue(std::string("a\0b", 3)), ""});
      bad.push_back({"escape character", JsonValue("a\x1b[31mb"), ""});
    }
    if (allowed("integer") && !allowed("number")) {
      for (const char* raw : {"1e999", "-1e999", "1e2", "1.0", "9223372036854775808",
                              "-9223372036854775809", "123456789012345678901234567890"}) {
        bad.push_back({std::string("integer written ") + raw, JsonValue("@@RAW@@"), raw});
      }
      if (int64_t minimum = Number(schema, "minimum", INT64_MIN); minimum != INT64_MIN) {
        bad.push_back({"minimum - 1", JsonValue(minimum - 1), ""});
        if (minimum > 0) bad.push_back({"-0", JsonValue("@@RAW@@"), "-0"});
      }
      if (int64_t maximum = Number(schema, "maximum", INT64_MAX); maximum != INT64_MAX) {
        bad.push_back({"maximum + 1", JsonValue(maximum + 1), ""});
      }
    }
    return bad;
  }

  const JsonValue& schemas_;
  std::map<std::string, JsonValue> overrides_;
};

// A blocking client on a loopback socket for bytes no HTTP library would send. The receive
// timeout is a safety net so that a broken server fails the test instead of hanging it.
class RawClient {
 public:
  explicit RawClient(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    timeval timeout{15, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    ::inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  }
  ~RawClient() {
    if (fd_ >= 0) ::close(fd_);
  }
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  [[nodiscard]] bool connected() const { return connected_; }

  // Sends everything it can; a server that closes early (413, 431) makes the rest fail, which
  // is expected, so the result only says whether all bytes went out.
  bool Send(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  // One response: the header block and Content-Length bytes of body; "" when the connection
  // closed before a header arrived.
  std::string ReadResponse() {
    size_t header_end;
    while ((header_end = pending_.find("\r\n\r\n")) == std::string::npos) {
      if (!Fill()) return std::exchange(pending_, {});
    }
    header_end += 4;
    std::string header = pending_.substr(0, header_end);
    for (char& c : header) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
    size_t length = 0;
    size_t at = header.find("\r\ncontent-length:");
    if (at != std::string::npos) length = std::strtoul(header.c_str() + at + 17, nullptr, 10);
    while (pending_.size() < header_end + length) {
      if (!Fill()) break;
    }
    std::string response = pending_.substr(0, std::min(pending_.size(), header_end + length));
    pending_.erase(0, response.size());
    return response;
  }

  static int Status(const std::string& response) {
    if (response.size() < 12 || response.compare(0, 5, "HTTP/") != 0) return 0;
    return std::atoi(response.c_str() + 9);
  }
  static std::string Body(const std::string& response) {
    size_t end = response.find("\r\n\r\n");
    return end == std::string::npos ? std::string() : response.substr(end + 4);
  }

 private:
  bool Fill() {
    char buffer[16384];
    ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
    if (n <= 0) return false;
    pending_.append(buffer, static_cast<size_t>(n));
    return true;
  }

  int fd_ = -1;
  bool connected_ = false;
  std::string pending_;
};

}  // namespace yagura::http::hostile

// JSON Schema builders for the API's request and response bodies (see schema_builders.hpp).
#include "http/schema_builders.hpp"

#include <fmt/format.h>

#include "http/json_forms.hpp"

namespace yagura::http::schema {

JsonValue Str(std::optional<size_t> max) {
  JsonValue schema = JsonValue::MakeObject();
  schema.Set("type", "string");
  if (max) schema.Set("maxLength", static_cast<int64_t>(*max));
  return schema;
}
JsonValue Nullable(std::string_view type) {
  JsonValue schema = JsonValue::MakeObject();
  JsonValue types = JsonValue::MakeArray();
  types.Push(std::string(type));
  types.Push("null");
  schema.Set("type", std::move(types));
  return schema;
}
JsonValue TimeSchema() {
  JsonValue schema = Str();
  schema.Set("format", "date-time");
  return schema;
}
JsonValue Enum(std::span<const std::string_view> names) {
  JsonValue schema = Str();
  JsonValue values = JsonValue::MakeArray();
  for (auto name : names) values.Push(std::string(name));
  schema.Set("enum", std::move(values));
  return schema;
}
JsonValue ArrayOf(JsonValue item) {
  JsonValue schema = JsonValue::MakeObject();
  schema.Set("type", "array");
  schema.Set("items", std::move(item));
  return schema;
}
JsonValue Ref(std::string_view name) {
  JsonValue schema = JsonValue::MakeObject();
  schema.Set("$ref", fmt::format("#/components/schemas/{}", name));
  return schema;
}
JsonValue Int() {
  JsonValue schema = JsonValue::MakeObject();
  schema.Set("type", "integer");
  return schema;
}
JsonValue Bool() {
  JsonValue schema = JsonValue::MakeObject();
  schema.Set("type", "boolean");
  return schema;
}
JsonValue Object(std::vector<std::pair<std::string, JsonValue>> properties,
                 std::vector<std::string> required, bool request) {
  JsonValue schema = JsonValue::MakeObject();
  schema.Set("type", "object");
  if (request) schema.Set("additionalProperties", false);
  schema.Set("required", Strings(required));
  JsonValue props = JsonValue::MakeObject();
  for (auto& [name, value] : properties) props.Set(name, std::move(value));
  schema.Set("properties", std::move(props));
  return schema;
}
JsonValue ListOf(std::string_view item) {
  return Object({{"items", ArrayOf(Ref(item))}, {"next_cursor", Nullable("string")}},
                {"items", "next_cursor"}, false);
}

}  // namespace yagura::http::schema

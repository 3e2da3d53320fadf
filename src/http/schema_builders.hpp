// Small builders of JSON Schemas (draft 2020-12), for the schemas each resource registers with
// RegisterSchema for the OpenAPI document.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/json_value.hpp"

namespace yagura::http::schema {

JsonValue Str(std::optional<size_t> max = std::nullopt);
JsonValue Nullable(std::string_view type);  // {"type": [type, "null"]}
JsonValue TimeSchema();                     // an RFC 3339 date-time string
JsonValue Enum(std::span<const std::string_view> names);
JsonValue ArrayOf(JsonValue item);
JsonValue Ref(std::string_view name);  // a schema of components/schemas
JsonValue Int();
JsonValue Bool();
// An object schema; `request` bodies refuse members they do not name.
JsonValue Object(std::vector<std::pair<std::string, JsonValue>> properties,
                 std::vector<std::string> required, bool request);
// {"items": [item...], "next_cursor": string|null}, as ListResponse writes it.
JsonValue ListOf(std::string_view item);

}  // namespace yagura::http::schema

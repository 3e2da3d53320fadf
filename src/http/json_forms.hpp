// The JSON forms every resource's answers share: times as RFC 3339 text, absent values as
// null, lists of strings, and a JsonValue as a response.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/json_value.hpp"
#include "core/time.hpp"
#include "http/message.hpp"

namespace yagura::http {

inline Response JsonResponse(int status, const JsonValue& value) {
  return Response::Json(status, value.Serialize());
}

// Epoch milliseconds as RFC 3339 UTC with milliseconds ("2026-11-26T00:30:00.000Z").
inline JsonValue Time(int64_t ms) { return JsonValue(FormatTimestampMs(ms)); }
inline JsonValue OptionalTime(const std::optional<int64_t>& ms) {
  return ms ? Time(*ms) : JsonValue();
}
inline JsonValue OptionalText(const std::optional<std::string>& text) {
  return text ? JsonValue(*text) : JsonValue();
}
inline JsonValue OptionalInt(const std::optional<int64_t>& value) {
  return value ? JsonValue(*value) : JsonValue();
}
inline JsonValue Strings(const std::vector<std::string>& items) {
  JsonValue array = JsonValue::MakeArray();
  for (const auto& item : items) array.Push(item);
  return array;
}

}  // namespace yagura::http

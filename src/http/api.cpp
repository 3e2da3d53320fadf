// What every route of the JSON API shares: authentication wrappers, error mapping, body
// validation and paging (see api.hpp).
#include "http/api.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstdio>

#include "core/json_writer.hpp"
#include "core/time.hpp"
#include "core/utf8.hpp"
#include "hub/crypto.hpp"

namespace yagura::http {

void ThrowBadRequest(std::string message, std::string field) {
  throw ApiError(400, "invalid_request", std::move(message), std::move(field));
}
void ThrowNotFound(std::string_view what) {
  throw ApiError(404, "not_found", fmt::format("{} not found", what));
}
void ThrowForbidden(std::string message) {
  throw ApiError(403, "forbidden", std::move(message));
}
void ThrowConflict(std::string message) { throw ApiError(409, "conflict", std::move(message)); }

namespace {

bool IsSafeMethod(std::string_view method) {
  return method == "GET" || method == "HEAD" || method == "OPTIONS";
}

Response Guard(const Request& request, const std::function<Response()>& work) {
  try {
    return work();
  } catch (const ApiError& error) {
    return Response::Error(error.status, error.code, error.what(), error.field);
  } catch (const store::DatabaseError& error) {
    if (error.unique_violation) {
      return Response::Error(409, "conflict", "a resource with the same unique value exists");
    }
    std::fprintf(stderr, "yagura: database error in %s %s: %s\n", request.method.c_str(),
                 request.path.c_str(), error.what());
    return Response::Error(500, "internal_error", "internal error");
  }
}

}  // namespace

Handler Authed(ApiContext& context, AuthedHandler handler, std::string scope) {
  return [&context, handler = std::move(handler), scope = std::move(scope)](Request& request) {
    return Guard(request, [&]() -> Response {
      std::optional<hub::Principal> principal = Authenticate(context, request);
      if (!principal) {
        Response response =
            Response::Error(401, "unauthenticated", "log in or send a valid API token");
        response.headers.Set("WWW-Authenticate", "Bearer realm=\"yagura\"");
        return response;
      }
      if (principal->method == hub::AuthMethod::kSession && !IsSafeMethod(request.method)) {
        auto header = request.headers.Get("x-csrf-token");
        if (!header || principal->csrf_token.empty() ||
            !hub::ConstantTimeEquals(*header, principal->csrf_token)) {
          return Response::Error(403, "csrf_token_invalid",
                                 "state-changing requests need the X-CSRF-Token header of the "
                                 "session");
        }
      }
      std::string needed = !scope.empty() ? scope : IsSafeMethod(request.method) ? "read" : "write";
      if (!principal->AllowsScope(needed)) {
        return Response::Error(403, "insufficient_scope",
                               fmt::format("the API token lacks the \"{}\" scope", needed));
      }
      return handler(request, *principal);
    });
  };
}

Handler Public(ApiContext& context, Handler handler) {
  (void)context;
  return [handler = std::move(handler)](Request& request) {
    return Guard(request, [&] { return handler(request); });
  };
}

void RegisterSchema(ApiContext& context, std::string_view name, std::string_view json) {
  auto parsed = JsonValue::Parse(json);
  if (!parsed) {
    throw std::logic_error("schema " + std::string(name) + ": " + parsed.error().message);
  }
  // Two resources naming their schemas alike would document one route with the other's body.
  if (context.schemas.Find(name) != nullptr) {
    throw std::logic_error("schema " + std::string(name) + " is registered twice");
  }
  context.schemas.Set(name, std::move(*parsed));
}

JsonValue ParseJsonBody(const Request& request) {
  auto content_type = request.headers.Get("content-type");
  std::string_view type = content_type.value_or("");
  type = type.substr(0, type.find(';'));
  while (!type.empty() && type.back() == ' ') type.remove_suffix(1);
  bool json = type.size() == 16 && std::equal(type.begin(), type.end(), "application/json",
                                              [](char a, char b) {
                                                return (a >= 'A' && a <= 'Z' ? a + 32 : a) == b;
                                              });
  if (!json) {
    throw ApiError(415, "unsupported_media_type", "the body must be application/json");
  }
  auto parsed = JsonValue::Parse(request.body);
  if (!parsed) throw ApiError(400, "invalid_json", parsed.error().message);
  if (!parsed->is_object()) throw ApiError(400, "invalid_json", "the body must be a JSON object");
  return std::move(*parsed);
}

Fields::Fields(const JsonValue& object, std::string path) : object_(object), path_(std::move(path)) {
  if (!object_.is_object()) {
    ThrowBadRequest(path_.empty() ? "the body must be an object" : path_ + " must be an object",
                    path_);
  }
}

std::string Fields::PathOf(std::string_view key) const {
  return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
}

bool Fields::Has(std::string_view key) const {
  const JsonValue* value = object_.Find(key);
  return value != nullptr && !value->is_null();
}

const JsonValue* Fields::Get(std::string_view key, bool required) {
  known_.emplace_back(key);
  const JsonValue* value = object_.Find(key);
  if (value == nullptr || value->is_null()) {
    if (required) ThrowBadRequest(fmt::format("{} is required", PathOf(key)), PathOf(key));
    return nullptr;
  }
  return value;
}

namespace {

// Length in characters (code points) rather than bytes, so Japanese text is measured the way
// people count it.
// Text a person typed has no control characters but tab, line feed and carriage return. NUL
// in particular cannot be stored in PostgreSQL text (the write would fail as a 500), and the
// others (ESC sequences) would reach terminals and logs that print titles and names.
void RequirePlainText(std::string_view text, const std::string& path) {
  for (char c : text) {
    auto byte = static_cast<unsigned char>(c);
    if ((byte < 0x20 && c != '\t' && c != '\n' && c != '\r') || byte == 0x7f) {
      ThrowBadRequest(fmt::format("{} must not contain control characters", path), path);
    }
  }
}

// RFC 3339 date-time (section 5.6): a full date, 'T', a time and a zone ('Z' or +hh:mm). The
// lenient ParseIsoDateTimeMs also reads a bare date or a time without zone as UTC, which in a
// request would silently move a Japanese local time by nine hours.
bool IsRfc3339DateTimeShape(std::string_view text) {
  if (text.size() < 20 || (text[10] != 'T' && text[10] != 't')) return false;
  char last = text.back();
  if (last == 'Z' || last == 'z') return true;
  std::string_view zone = text.substr(text.size() - 6);
  return (zone[0] == '+' || zone[0] == '-') && zone[3] == ':';
}

}  // namespace

std::optional<std::string> Fields::OptionalString(std::string_view key, size_t max_length) {
  const JsonValue* value = Get(key, false);
  if (value == nullptr) return std::nullopt;
  if (!value->is_string()) {
    ThrowBadRequest(fmt::format("{} must be a string, not {}", PathOf(key),
                                JsonTypeName(value->type())),
                    PathOf(key));
  }
  if (CodePoints(value->as_string()) > max_length) {
    ThrowBadRequest(fmt::format("{} is longer than {} characters", PathOf(key), max_length),
                    PathOf(key));
  }
  RequirePlainText(value->as_string(), PathOf(key));
  return value->as_string();
}

std::string Fields::String(std::string_view key, size_t min_length, size_t max_length) {
  const JsonValue* value = Get(key, true);
  if (!value->is_string()) {
    ThrowBadRequest(fmt::format("{} must be a string, not {}", PathOf(key),
                                JsonTypeName(value->type())),
                    PathOf(key));
  }
  size_t length = CodePoints(value->as_string());
  if (length < min_length) {
    ThrowBadRequest(min_length == 1 ? fmt::format("{} must not be empty", PathOf(key))
                                    : fmt::format("{} must have at least {} characters",
                                                  PathOf(key), min_length),
                    PathOf(key));
  }
  if (length > max_length) {
    ThrowBadRequest(fmt::format("{} is longer than {} characters", PathOf(key), max_length),
                    PathOf(key));
  }
  RequirePlainText(value->as_string(), PathOf(key));
  return value->as_string();
}

namespace {
std::string JoinAllowed(std::span<const std::string_view> allowed) {
  std::string text;
  for (auto name : allowed) {
    if (!text.empty()) text += ", ";
    text += name;
  }
  return text;
}
}  // namespace

std::optional<std::string> Fields::OptionalEnum(std::string_view key,
                                                std::span<const std::string_view> allowed) {
  const JsonValue* value = Get(key, false);
  if (value == nullptr) return std::nullopt;
  if (value->is_string()) {
    for (auto name : allowed) {
      if (name == value->as_string()) return value->as_string();
    }
  }
  ThrowBadRequest(fmt::format("{} must be one of: {}", PathOf(key), JoinAllowed(allowed)),
                  PathOf(key));
}

std::string Fields::Enum(std::string_view key, std::span<const std::string_view> allowed,
                         std::optional<std::string_view> fallback) {
  std::optional<std::string> value = OptionalEnum(key, allowed);
  if (value) return *value;
  if (fallback) return std::string(*fallback);
  ThrowBadRequest(fmt::format("{} is required (one of: {})", PathOf(key), JoinAllowed(allowed)),
                  PathOf(key));
}

std::optional<int64_t> Fields::OptionalInt(std::string_view key, int64_t min, int64_t max) {
  const JsonValue* value = Get(key, false);
  if (value == nullptr) return std::nullopt;
  if (!value->is_integer()) {
    ThrowBadRequest(fmt::format("{} must be an integer", PathOf(key)), PathOf(key));
  }
  int64_t number = value->as_int();
  if (number < min || number > max) {
    ThrowBadRequest(fmt::format("{} must be between {} and {}", PathOf(key), min, max),
                    PathOf(key));
  }
  return number;
}

int64_t Fields::Int(std::string_view key, int64_t min, int64_t max) {
  std::optional<int64_t> value = OptionalInt(key, min, max);
  if (!value) ThrowBadRequest(fmt::format("{} is required", PathOf(key)), PathOf(key));
  return *value;
}

bool Fields::Bool(std::string_view key, bool fallback) {
  const JsonValue* value = Get(key, false);
  if (value == nullptr) return fallback;
  if (!value->is_bool()) {
    ThrowBadRequest(fmt::format("{} must be true or false", PathOf(key)), PathOf(key));
  }
  return value->as_bool();
}

namespace {

// Epoch milliseconds of an RFC 3339 date-time with a zone, years 1970..9999 only (anything else
// is a typo, not a date a report can mean); 400 naming `field` otherwise.
int64_t ParseRequestTime(std::string_view text, const std::string& field) {
  std::optional<int64_t> ms;
  if (text.size() <= 40 && IsRfc3339DateTimeShape(text)) ms = ParseIsoDateTimeMs(text);
  if (!ms || *ms < 0 || *ms > 253402300799999) {
    ThrowBadRequest(fmt::format("{} must be an RFC 3339 date-time such as "
                                "\"2026-11-26T09:30:00+09:00\"",
                                field),
                    field);
  }
  return *ms;
}

}  // namespace

std::optional<int64_t> Fields::OptionalTime(std::string_view key) {
  const JsonValue* value = Get(key, false);
  if (value == nullptr) return std::nullopt;
  return ParseRequestTime(value->is_string() ? std::string_view(value->as_string()) : "", PathOf(key));
}

std::optional<std::string> QueryId(const Request& request, std::string_view name) {
  constexpr size_t ID_MAX = 64;
  auto value = request.Query(name);
  if (!value) return std::nullopt;
  const bool id_like = !value->empty() && value->size() <= ID_MAX &&
                       std::all_of(value->begin(), value->end(), [](char c) {
                         return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
                                (c >= 'A' && c <= 'Z') || c == '-' || c == '_' || c == '.' ||
                                c == ':';
                       });
  if (!id_like) {
    ThrowBadRequest(
        fmt::format("{} must be an id (letters, digits, - _ . :, at most {})", name, ID_MAX),
        std::string(name));
  }
  return std::string(*value);
}

std::optional<std::string> QueryEnum(const Request& request, std::string_view name,
                                     std::span<const std::string_view> allowed) {
  auto value = request.Query(name);
  if (!value) return std::nullopt;
  if (std::find(allowed.begin(), allowed.end(), *value) == allowed.end()) {
    std::string names;
    for (auto item : allowed) names += (names.empty() ? "" : ", ") + std::string(item);
    ThrowBadRequest(fmt::format("{} must be one of: {}", name, names), std::string(name));
  }
  return std::string(*value);
}

std::optional<int64_t> QueryTime(const Request& request, std::string_view name) {
  auto value = request.Query(name);
  if (!value) return std::nullopt;
  return ParseRequestTime(*value, std::string(name));
}

int64_t Fields::Time(std::string_view key) {
  std::optional<int64_t> value = OptionalTime(key);
  if (!value) ThrowBadRequest(fmt::format("{} is required", PathOf(key)), PathOf(key));
  return *value;
}

std::vector<std::string> Fields::StringArray(std::string_view key, size_t max_items,
                                             size_t max_length) {
  const JsonValue* value = Get(key, false);
  std::vector<std::string> items;
  if (value == nullptr) return items;
  if (!value->is_array()) {
    ThrowBadRequest(fmt::format("{} must be an array of strings", PathOf(key)), PathOf(key));
  }
  if (value->as_array().size() > max_items) {
    ThrowBadRequest(fmt::format("{} has more than {} items", PathOf(key), max_items),
                    PathOf(key));
  }
  size_t index = 0;
  for (const auto& item : value->as_array()) {
    std::string item_path = fmt::format("{}[{}]", PathOf(key), index++);
    if (!item.is_string() || item.as_string().empty()) {
      ThrowBadRequest(fmt::format("{} must be a non-empty string", item_path), item_path);
    }
    if (CodePoints(item.as_string()) > max_length) {
      ThrowBadRequest(fmt::format("{} is longer than {} characters", item_path, max_length),
                      item_path);
    }
    RequirePlainText(item.as_string(), item_path);
    items.push_back(item.as_string());
  }
  return items;
}

const JsonValue* Fields::Object(std::string_view key, bool required) {
  const JsonValue* value = Get(key, required);
  if (value != nullptr && !value->is_object()) {
    ThrowBadRequest(fmt::format("{} must be an object", PathOf(key)), PathOf(key));
  }
  return value;
}

const JsonValue* Fields::Array(std::string_view key, bool required) {
  const JsonValue* value = Get(key, required);
  if (value != nullptr && !value->is_array()) {
    ThrowBadRequest(fmt::format("{} must be an array", PathOf(key)), PathOf(key));
  }
  return value;
}

std::optional<std::string> Fields::OptionalEmail(std::string_view key) {
  std::optional<std::string> value = OptionalString(key, 254);
  if (!value) return value;
  size_t at = value->find('@');
  bool valid = at != std::string::npos && at > 0 && value->find('@', at + 1) == std::string::npos &&
               value->find('.', at) != std::string::npos && value->back() != '.' &&
               value->find_first_of(" \t\r\n<>\"") == std::string::npos;
  if (!valid) ThrowBadRequest(fmt::format("{} is not an e-mail address", PathOf(key)), PathOf(key));
  return value;
}

void Fields::Finish() const {
  for (const auto& [key, value] : object_.as_object()) {
    if (std::find(known_.begin(), known_.end(), key) == known_.end()) {
      ThrowBadRequest(fmt::format("unknown field {}", PathOf(key)), PathOf(key));
    }
  }
}

Handler BindAuthed(ApiContext& context, ContextHandler handler, std::string scope) {
  return Authed(
      context,
      [&context, handler](Request& request, const hub::Principal& principal) {
        return handler(context, request, principal);
      },
      std::move(scope));
}

RouteDoc DocumentRoute(std::string_view tag, std::string summary, std::string request_schema,
                       std::string response_schema, std::vector<std::string> query,
                       bool authenticated) {
  RouteDoc doc;
  doc.summary = std::move(summary);
  doc.tag = std::string(tag);
  doc.request_schema = std::move(request_schema);
  doc.response_schema = std::move(response_schema);
  doc.authenticated = authenticated;
  doc.query = std::move(query);
  return doc;
}

PageRequest ReadPage(const Request& request) {
  PageRequest page;
  if (auto limit = request.Query("limit")) {
    int value = 0;
    auto [end, ec] = std::from_chars(limit->data(), limit->data() + limit->size(), value);
    if (ec != std::errc() || end != limit->data() + limit->size() || value < 1 || value > 200) {
      ThrowBadRequest("limit must be an integer from 1 to 200", "limit");
    }
    page.limit = value;
  }
  if (auto cursor = request.Query("cursor")) page.cursor = std::string(*cursor);
  return page;
}

std::string EncodeCursor(int64_t created_at, std::string_view id) {
  // Readable but checked: "<ms>.<id>"; ids never contain '.'.
  return fmt::format("{}.{}", created_at, id);
}

std::pair<int64_t, std::string> DecodeCursor(std::string_view cursor) {
  size_t dot = cursor.find('.');
  int64_t created_at = 0;
  bool valid = dot != std::string_view::npos && dot > 0 && cursor.size() - dot - 1 <= 64 &&
               cursor.size() > dot + 1;
  if (valid) {
    auto [end, ec] = std::from_chars(cursor.data(), cursor.data() + dot, created_at);
    valid = ec == std::errc() && end == cursor.data() + dot;
  }
  if (valid) {
    for (char c : cursor.substr(dot + 1)) {
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || c == '-')) valid = false;
    }
  }
  if (!valid) ThrowBadRequest("cursor is not one this server issued", "cursor");
  return {created_at, std::string(cursor.substr(dot + 1))};
}

Response ListResponse(const JsonValue& items, const std::string& next_cursor) {
  std::string body = "{\"items\":";
  items.SerializeTo(body);
  body += ",\"next_cursor\":";
  if (next_cursor.empty()) body += "null";
  else AppendJsonString(body, next_cursor);
  body += '}';
  return Response::Json(200, std::move(body));
}

void AuditRead(ApiContext& context, const hub::Principal& principal, std::string_view object_type,
               std::string_view object_id, hub::Tlp tlp) {
  if (tlp == hub::Tlp::kClear || tlp == hub::Tlp::kGreen) return;
  context.audit.Record(hub::EntryFor(principal, std::string(object_type) + ".read",
                                     std::string(object_type), std::string(object_id), tlp));
}

void RegisterApi(Router& router, ApiContext& context) {
  RegisterIdentityRoutes(router, context);
  RegisterIncidentRoutes(router, context);
  RegisterCoordinationRoutes(router, context);
  RegisterAuditRoutes(router, context);
  RegisterIngestRoutes(router, context);
  RegisterAlertRoutes(router, context);
  RegisterAttackRoutes(router, context);
  RegisterTaxiiRoutes(router, context);
  RegisterJobRoutes(router, context);
  RegisterRuleRoutes(router, context);
  RegisterIntelRoutes(router, context);
  RegisterStatsRoutes(router, context);
  RegisterExportRoutes(router, context);
  RegisterCaseRoutes(router, context);
  RegisterEventRoutes(router, context);
  RegisterAgencyAuditRoutes(router, context);
  // Last, so the OpenAPI document it serves sees every other route.
  RegisterSystemRoutes(router, context);
}

}  // namespace yagura::http

// TAXII 2.1 under /taxii2/ and the administration of its collections under /api/v1/taxii.
//
// The TAXII routes speak the standard: media type application/taxii+json;version=2.1 both
// ways (406 for an Accept without it, 415 for another Content-Type, 413 above the API root's
// max_content_length), TAXII error messages, X-TAXII-Date-Added-First/Last on every page of
// objects, manifest entries and versions, and the paging of hub/taxii.hpp (`next` and
// `added_after` on one unique, monotonic date_added). Every error also carries the `error`
// member the rest of the centre's API answers with, so one client library and one log parser
// read both.
//
// Credentials: the API's own (bearer API tokens; the console's session with its CSRF header)
// through Authed, and HTTP Basic with a partner user's name and password — over TLS only,
// because Basic sends the password in clear. A Basic request is a login (hub::Login: the same
// argon2id verification, failure counting and lockout) whose session ends with the request.
//
// Access is hub/taxii.hpp's (collections by access list, objects by hub/policy.hpp under TLP);
// handlers only translate. Reads of AMBER and AMBER+STRICT objects are audited: one entry per
// page naming the objects, one per single object read.
#include <sodium.h>

#include <algorithm>
#include <array>
#include <tuple>
#include <charconv>
#include <cstdio>
#include <memory>
#include <string>

#include <fmt/format.h>

#include "core/json_value.hpp"
#include "core/json_writer.hpp"
#include "core/time.hpp"
#include "hub/identity.hpp"
#include "hub/policy.hpp"
#include "hub/stix_export.hpp"
#include "hub/taxii.hpp"
#include "http/api.hpp"

namespace yagura::http {
namespace {

constexpr std::string_view TAXII_MEDIA_TYPE = "application/taxii+json;version=2.1";
constexpr std::string_view TAG = "taxii";
constexpr std::string_view ADMIN_BASE = "/api/v1/taxii/collections";
constexpr size_t MATCH_VALUES_MAX = 100;

// ---- media types -----------------------------------------------------------------------------

std::string Lower(std::string_view text) {
  std::string lower(text);
  for (char& c : lower) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  return lower;
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

struct MediaType {
  std::string type;     // "application/taxii+json", lower case
  std::string version;  // the version parameter, empty when absent
  bool refused = false; // q=0
};

MediaType ParseMediaType(std::string_view text) {
  MediaType media;
  size_t semicolon = text.find(';');
  media.type = Lower(Trim(text.substr(0, semicolon)));
  while (semicolon != std::string_view::npos) {
    text = text.substr(semicolon + 1);
    semicolon = text.find(';');
    std::string_view parameter = Trim(text.substr(0, semicolon));
    size_t equals = parameter.find('=');
    if (equals == std::string_view::npos) continue;
    std::string name = Lower(Trim(parameter.substr(0, equals)));
    std::string_view value = Trim(parameter.substr(equals + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
    }
    if (name == "version") media.version = std::string(value);
    if (name == "q" && (value == "0" || value == "0.0" || value == "0.00" || value == "0.000")) {
      media.refused = true;
    }
  }
  return media;
}

bool IsTaxiiMedia(const MediaType& media) {
  return media.type == "application/taxii+json" && (media.version.empty() || media.version == "2.1");
}

// An absent Accept accepts anything (RFC 9110); otherwise one of its ranges must admit TAXII 2.1.
bool AcceptsTaxii(const Request& request) {
  auto accept = request.headers.Get("accept");
  if (!accept) return true;
  std::string_view list = *accept;
  while (true) {
    size_t comma = list.find(',');
    MediaType media = ParseMediaType(list.substr(0, comma));
    if (!media.refused &&
        (media.type == "*/*" || media.type == "application/*" || IsTaxiiMedia(media))) {
      return true;
    }
    if (comma == std::string_view::npos) return false;
    list = list.substr(comma + 1);
  }
}

// ---- responses and errors ----------------------------------------------------------------------

std::string_view TitleOf(int status) {
  switch (status) {
    case 400: return "Bad request";
    case 401: return "Authentication required";
    case 403: return "Forbidden";
    case 404: return "Not found";
    case 405: return "Method not allowed";
    case 406: return "Not acceptable";
    case 409: return "Conflict";
    case 413: return "Request entity too large";
    case 415: return "Unsupported media type";
    case 422: return "Unprocessable entity";
    case 429: return "Too many requests";
    default: return status >= 500 ? "Internal error" : "Request refused";
  }
}

// A TAXII error message that is also the API's error object.
std::string TaxiiErrorBody(int status, std::string_view code, std::string_view message,
                           std::string_view field) {
  std::string body;
  JsonWriter out(body);
  out.BeginObject();
  out.Key("title").String(TitleOf(status));
  out.Key("description").String(message);
  out.Key("http_status").String(std::to_string(status));
  out.Key("error_code").String(code);
  out.Key("error").BeginObject();
  out.Key("status").Int(status);
  out.Key("code").String(code);
  out.Key("message").String(message);
  if (!field.empty()) out.Key("field").String(field);
  out.EndObject();
  out.EndObject();
  return body;
}

Response TaxiiJson(int status, std::string body) {
  Response response;
  response.status = status;
  response.headers.Set("content-type", std::string(TAXII_MEDIA_TYPE));
  response.body = std::move(body);
  return response;
}

// Rewrites an API error response (from Authed, the router or a handler) as a TAXII error
// message, keeping its headers (WWW-Authenticate, Retry-After).
Response AsTaxii(Response response) {
  if (response.status < 400) return response;
  auto parsed = JsonValue::Parse(response.body);
  const JsonValue* error = parsed ? parsed->Find("error") : nullptr;
  if (error == nullptr || !error->is_object() || parsed->Find("title") != nullptr) return response;
  auto text = [&](std::string_view key) {
    const JsonValue* value = error->Find(key);
    return value != nullptr && value->is_string() ? value->as_string() : std::string();
  };
  response.body = TaxiiErrorBody(response.status, text("code"), text("message"), text("field"));
  response.headers.Set("content-type", std::string(TAXII_MEDIA_TYPE));
  return response;
}

[[noreturn]] void Throw(const hub::TaxiiError& error) {
  switch (error.kind) {
    case hub::TaxiiErrorKind::kInvalid:
      throw ApiError(400, "invalid_request", error.message, error.field);
    case hub::TaxiiErrorKind::kForbidden:
      throw ApiError(403, "forbidden", error.message, error.field);
    case hub::TaxiiErrorKind::kNotFound:
      throw ApiError(404, "not_found", error.message);
    case hub::TaxiiErrorKind::kConflict:
      throw ApiError(409, "conflict", error.message, error.field);
  }
  throw ApiError(400, "invalid_request", error.message, error.field);
}

template <typename T>
T Unwrap(hub::TaxiiResult<T> result) {
  if (!result) Throw(result.error());
  return std::move(*result);
}

// ---- authentication ----------------------------------------------------------------------------

using TaxiiHandler = std::function<Response(Request&, const hub::Principal&)>;

bool IsBasic(const Request& request) {
  auto authorization = request.headers.Get("authorization");
  return authorization && authorization->size() >= 6 && Lower(authorization->substr(0, 6)) == "basic ";
}

hub::IdentitySettings IdentitySettingsOf(const ServiceSettings& settings) {
  hub::IdentitySettings identity;
  identity.session_ttl_ms = settings.session_ttl_ms;
  identity.session_idle_ms = settings.session_idle_ms;
  identity.login_max_failures = settings.login_max_failures;
  identity.login_max_failures_per_address = settings.login_max_failures_per_address;
  identity.login_window_ms = settings.login_window_ms;
  identity.login_lockout_ms = settings.login_lockout_ms;
  return identity;
}

Response Unauthenticated(std::string message) {
  Response response = Response::Error(401, "unauthenticated", message);
  response.headers.Set("WWW-Authenticate", "Bearer realm=\"yagura\"");
  return response;
}

// HTTP Basic: the user name and password of a user, verified as a login (throttled, audited),
// whose session is ended before the answer leaves.
Response BasicAuthed(ApiContext& context, Request& request, const TaxiiHandler& handler) {
  if (!request.tls) {
    return Unauthenticated(
        "HTTP Basic credentials are accepted over TLS only; use HTTPS or a bearer API token");
  }
  std::string_view encoded = Trim(request.headers.Get("authorization")->substr(6));
  std::string decoded(encoded.size(), '\0');
  size_t length = 0;
  if (encoded.empty() || encoded.size() > 1024 ||
      sodium_base642bin(reinterpret_cast<unsigned char*>(decoded.data()), decoded.size(),
                        encoded.data(), encoded.size(), nullptr, &length, nullptr,
                        sodium_base64_VARIANT_ORIGINAL) != 0) {
    return Unauthenticated("malformed Basic credentials");
  }
  decoded.resize(length);
  size_t colon = decoded.find(':');
  if (colon == std::string::npos || colon == 0) return Unauthenticated("malformed Basic credentials");
  std::string username = decoded.substr(0, colon);
  std::string password = decoded.substr(colon + 1);
  int64_t now = NowMs();
  auto session = hub::Login(context.database, IdentitySettingsOf(context.settings), username,
                            password, request.remote_address, now);
  if (!session) {
    if (session.error().kind == hub::IdentityErrorKind::kLocked) {
      Response response = Response::Error(429, "locked", session.error().message);
      response.headers.Set("Retry-After", std::to_string(session.error().retry_after_s));
      return response;
    }
    return Unauthenticated("unknown user name or wrong password");
  }
  std::optional<hub::Principal> principal = hub::AuthenticateSession(
      context.database, IdentitySettingsOf(context.settings), session->token, now);
  if (!principal) return Unauthenticated("the account cannot log in");
  principal->remote_address = request.remote_address;
  Response response;
  try {
    response = handler(request, *principal);
  } catch (const ApiError& error) {
    response = Response::Error(error.status, error.code, error.what(), error.field);
  } catch (const store::DatabaseError& error) {
    std::fprintf(stderr, "yagura: database error in %s %s: %s\n", request.method.c_str(),
                 request.path.c_str(), error.what());
    response = error.unique_violation
                   ? Response::Error(409, "conflict", "a resource with the same unique value exists")
                   : Response::Error(500, "internal_error", "internal error");
  }
  hub::Logout(context.database, *principal, session->id);
  return response;
}

// A TAXII route: credentials (Authed, or Basic over TLS), the Accept check, TAXII errors.
Handler TaxiiRoute(ApiContext& context, TaxiiHandler handler) {
  TaxiiHandler negotiated = [handler = std::move(handler)](Request& request,
                                                            const hub::Principal& principal) {
    if (!AcceptsTaxii(request)) {
      throw ApiError(406, "not_acceptable",
                     "the Accept header must admit application/taxii+json;version=2.1");
    }
    return handler(request, principal);
  };
  Handler authed = Authed(context, negotiated);
  return [&context, negotiated, authed](Request& request) {
    Response response = IsBasic(request) ? BasicAuthed(context, request, negotiated) : authed(request);
    if (response.status == 401 && request.tls) {
      response.headers.Add("WWW-Authenticate", "Basic realm=\"yagura-taxii\", charset=\"UTF-8\"");
    }
    return AsTaxii(std::move(response));
  };
}

// ---- query parameters --------------------------------------------------------------------------

std::vector<std::string> MatchValues(const Request& request, std::string_view name) {
  std::vector<std::string> values;
  for (const auto& [key, value] : request.query) {
    if (key != name) continue;
    std::string_view list = value;
    while (true) {
      size_t comma = list.find(',');
      std::string_view item = Trim(list.substr(0, comma));
      if (item.empty()) ThrowBadRequest(fmt::format("{} has an empty value", name), std::string(name));
      values.emplace_back(item);
      if (values.size() > MATCH_VALUES_MAX) {
        ThrowBadRequest(fmt::format("{} has more than {} values", name, MATCH_VALUES_MAX),
                        std::string(name));
      }
      if (comma == std::string_view::npos) break;
      list = list.substr(comma + 1);
    }
  }
  return values;
}

// added_after, limit, next and the match[] filters. `versions`: whether match[version] applies.
hub::TaxiiQuery ReadQuery(const Request& request, const std::string& collection_id,
                          bool versions = true) {
  hub::TaxiiQuery query;
  if (auto limit = request.Query("limit")) {
    int64_t value = 0;
    auto [end, ec] = std::from_chars(limit->data(), limit->data() + limit->size(), value);
    if (ec == std::errc::result_out_of_range && end == limit->data() + limit->size() &&
        !limit->empty() && limit->front() != '-') {
      value = hub::TAXII_MAX_PAGE;  // a huge limit is a request for the server's maximum
    } else if (ec != std::errc() || end != limit->data() + limit->size() || value < 1) {
      ThrowBadRequest("limit must be a positive integer", "limit");
    }
    query.limit = static_cast<int>(std::min<int64_t>(value, hub::TAXII_MAX_PAGE));
  }
  if (auto added_after = request.Query("added_after")) {
    auto us = hub::ParseTaxiiTimestampUs(*added_after, false);
    if (!us) {
      ThrowBadRequest("added_after must be an RFC 3339 timestamp such as "
                      "\"2026-11-26T06:00:00.000000Z\"",
                      "added_after");
    }
    query.added_after_us = us;
  }
  if (auto next = request.Query("next")) {
    query.next_us = hub::DecodeTaxiiNext(collection_id, *next);
    if (!query.next_us) {
      ThrowBadRequest("next is not a value this server issued for this collection", "next");
    }
  }
  query.ids = MatchValues(request, "match[id]");
  for (const auto& id : query.ids) {
    if (!hub::IsStixId(id)) ThrowBadRequest("match[id] takes STIX identifiers", "match[id]");
  }
  query.types = MatchValues(request, "match[type]");
  for (const auto& type : query.types) {
    if (!hub::IsStixType(type)) ThrowBadRequest("match[type] takes STIX type names", "match[type]");
  }
  query.spec_versions = MatchValues(request, "match[spec_version]");
  for (const auto& version : query.spec_versions) {
    if (version != "2.0" && version != "2.1") {
      ThrowBadRequest("match[spec_version] takes 2.0 and 2.1", "match[spec_version]");
    }
  }
  if (versions) {
    for (const auto& version : MatchValues(request, "match[version]")) {
      if (version == "first") {
        query.first = true;
      } else if (version == "last") {
        query.last = true;
      } else if (version == "all") {
        query.all = true;
      } else if (auto us = hub::ParseTaxiiTimestampUs(version, false)) {
        query.version_times.push_back(*us);
      } else {
        ThrowBadRequest("match[version] takes first, last, all or timestamps", "match[version]");
      }
    }
  }
  return query;
}

bool IsPaged(const Request& request) {
  return request.Query("next").has_value() || request.Query("added_after").has_value();
}

// ---- shared pieces -----------------------------------------------------------------------------

std::string RootUrl(const ApiContext& context, std::string_view root) {
  std::string base = context.settings.public_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  return fmt::format("{}/taxii2/{}/", base, root);
}

// The API root named by the path, 404 unless the caller can see something in it.
std::string RootOf(store::Connection& connection, const Request& request,
                   const hub::Principal& principal) {
  std::string root(request.PathParam("api_root"));
  if (!hub::IsValidApiRoot(root)) ThrowNotFound("API root");
  auto roots = hub::TaxiiApiRoots(connection, principal);
  if (std::find(roots.begin(), roots.end(), root) == roots.end()) ThrowNotFound("API root");
  return root;
}

hub::TaxiiCollection CollectionOf(store::Connection& connection, const Request& request,
                                  const hub::Principal& principal) {
  std::string root(request.PathParam("api_root"));
  std::string_view id = request.PathParam("collection_id");
  if (!hub::IsValidApiRoot(root) || id.size() != 36 ||
      !std::all_of(id.begin(), id.end(), [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || c == '-';
      })) {
    ThrowNotFound("collection");
  }
  return Unwrap(hub::GetTaxiiCollection(connection, principal, root, id));
}

std::string ObjectIdOf(const Request& request) {
  std::string id(request.PathParam("object_id"));
  if (!hub::IsStixId(id)) ThrowNotFound("object");
  return id;
}

void WriteCollection(JsonWriter& out, const hub::TaxiiCollection& collection) {
  out.BeginObject();
  out.Key("id").String(collection.id);
  out.Key("title").String(collection.title);
  if (!collection.description.empty()) out.Key("description").String(collection.description);
  if (!collection.alias.empty()) out.Key("alias").String(collection.alias);
  out.Key("can_read").Bool(collection.can_read);
  out.Key("can_write").Bool(collection.can_write);
  out.Key("media_types").BeginArray().String(hub::STIX_MEDIA_TYPE).EndArray();
  out.EndObject();
}

// Sets X-TAXII-Date-Added-First/Last from a page (absent on an empty page).
void SetDateHeaders(Response& response, const hub::TaxiiPage& page) {
  if (page.items.empty()) return;
  response.headers.Set("X-TAXII-Date-Added-First",
                       hub::FormatTaxiiTimestampUs(page.items.front().date_added_us));
  response.headers.Set("X-TAXII-Date-Added-Last",
                       hub::FormatTaxiiTimestampUs(page.items.back().date_added_us));
}

void WritePaging(JsonWriter& out, const hub::TaxiiPage& page, const std::string& collection_id) {
  out.Key("more").Bool(page.more);
  if (page.more && !page.items.empty()) {
    out.Key("next").String(hub::EncodeTaxiiNext(collection_id, page.items.back().date_added_us));
  }
}

// One audit entry for the AMBER and AMBER+STRICT objects a page disclosed.
void AuditPage(ApiContext& context, const hub::Principal& principal, std::string_view action,
               const hub::TaxiiCollection& collection, const hub::TaxiiPage& page) {
  hub::Tlp most = hub::Tlp::kClear;
  JsonValue ids = JsonValue::MakeArray();
  for (const auto& item : page.items) {
    if (item.tlp == hub::Tlp::kClear || item.tlp == hub::Tlp::kGreen) continue;
    most = std::max(most, item.tlp);
    ids.Push(item.stix_id);
  }
  if (ids.as_array().empty()) return;
  hub::AuditEntry entry =
      hub::EntryFor(principal, std::string(action), "taxii_collection", collection.id, most);
  JsonValue detail = JsonValue::MakeObject();
  detail.Set("ids", std::move(ids));
  entry.detail = detail.Serialize();
  context.audit.Record(std::move(entry));
}

Response ObjectsEnvelope(ApiContext& context, const hub::Principal& principal,
                         const hub::TaxiiCollection& collection, const hub::TaxiiPage& page) {
  std::string body;
  JsonWriter out(body);
  out.BeginObject();
  WritePaging(out, page, collection.id);
  if (!page.items.empty()) {
    out.Key("objects").BeginArray();
    for (const auto& item : page.items) out.Raw(item.body);
    out.EndArray();
  }
  out.EndObject();
  AuditPage(context, principal, "taxii_object.list", collection, page);
  Response response = TaxiiJson(200, std::move(body));
  SetDateHeaders(response, page);
  return response;
}

void WriteStatusEntries(JsonWriter& out, std::string_view key,
                        const std::vector<hub::TaxiiStatusEntry>& entries) {
  if (entries.empty()) return;
  out.Key(key).BeginArray();
  for (const auto& entry : entries) {
    out.BeginObject();
    out.Key("id").String(entry.id);
    if (!entry.version.empty()) out.Key("version").String(entry.version);
    if (!entry.message.empty()) out.Key("message").String(entry.message);
    out.EndObject();
  }
  out.EndArray();
}

void WriteStatus(JsonWriter& out, const hub::TaxiiStatus& status) {
  out.BeginObject();
  out.Key("id").String(status.id);
  out.Key("status").String(status.status);
  out.Key("request_timestamp").String(hub::FormatTaxiiTimestampUs(status.request_timestamp_us));
  out.Key("total_count").Int(status.total_count());
  out.Key("success_count").Int(static_cast<int64_t>(status.successes.size()));
  WriteStatusEntries(out, "successes", status.successes);
  out.Key("failure_count").Int(static_cast<int64_t>(status.failures.size()));
  WriteStatusEntries(out, "failures", status.failures);
  out.Key("pending_count").Int(static_cast<int64_t>(status.pendings.size()));
  WriteStatusEntries(out, "pendings", status.pendings);
  out.EndObject();
}

// ---- TAXII handlers ----------------------------------------------------------------------------

Response DiscoveryHandler(ApiContext& context, Request&, const hub::Principal& principal) {
  auto roots = [&] {
    auto connection = context.database.Acquire();
    return hub::TaxiiApiRoots(*connection, principal);
  }();
  std::string body;
  JsonWriter out(body);
  out.BeginObject();
  out.Key("title").String("Yagura TAXII 2.1 server");
  out.Key("description")
      .String("Sharing groups of the national cyber defence centre with its partner CERTs");
  out.Key("default").String(RootUrl(context, hub::TAXII_DEFAULT_API_ROOT));
  out.Key("api_roots").BeginArray();
  for (const auto& root : roots) out.String(RootUrl(context, root));
  out.EndArray();
  out.EndObject();
  return TaxiiJson(200, std::move(body));
}

Response ApiRootHandler(ApiContext& context, Request& request, const hub::Principal& principal) {
  std::string root = [&] {
    auto connection = context.database.Acquire();
    return RootOf(*connection, request, principal);
  }();
  std::string body;
  JsonWriter out(body);
  out.BeginObject();
  out.Key("title").String(root == hub::TAXII_DEFAULT_API_ROOT ? std::string("The centre's sharing groups")
                                                               : "API root " + root);
  out.Key("description").String("Collections are sharing groups; objects are STIX 2.1 under TLP 2.0");
  out.Key("versions").BeginArray().String(TAXII_MEDIA_TYPE).EndArray();
  out.Key("max_content_length").Uint(context.settings.taxii_max_content_length);
  out.EndObject();
  return TaxiiJson(200, std::move(body));
}

Response StatusHandler(ApiContext& context, Request& request, const hub::Principal& principal) {
  auto connection = context.database.Acquire();
  std::string root = RootOf(*connection, request, principal);
  std::string_view id = request.PathParam("status_id");
  if (id.size() != 36 || !std::all_of(id.begin(), id.end(), [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || c == '-';
      })) {
    ThrowNotFound("status");
  }
  hub::TaxiiStatus status = Unwrap(hub::GetTaxiiStatus(*connection, principal, root, id));
  std::string body;
  JsonWriter out(body);
  WriteStatus(out, status);
  return TaxiiJson(200, std::move(body));
}

Response CollectionsHandler(ApiContext& context, Request& request,
                            const hub::Principal& principal) {
  auto connection = context.database.Acquire();
  std::string root = RootOf(*connection, request, principal);
  auto collections = hub::ListTaxiiCollections(*connection, principal, root);
  std::string body;
  JsonWriter out(body);
  out.BeginObject();
  out.Key("collections").BeginArray();
  for (const auto& collection : collections) WriteCollection(out, collection);
  out.EndArray();
  out.EndObject();
  return TaxiiJson(200, std::move(body));
}

Response CollectionHandler(ApiContext& context, Request& request, const hub::Principal& principal) {
  auto connection = context.database.Acquire();
  hub::TaxiiCollection collection = CollectionOf(*connection, request, principal);
  std::string body;
  JsonWriter out(body);
  WriteCollection(out, collection);
  return TaxiiJson(200, std::move(body));
}

Response GetObjectsHandler(ApiContext& context, Request& request, const hub::Principal& principal) {
  auto connection = context.database.Acquire();
  hub::TaxiiCollection collection = CollectionOf(*connection, request, principal);
  hub::TaxiiQuery query = ReadQuery(request, collection.id);
  hub::TaxiiPage page = Unwrap(hub::QueryTaxiiObjects(*connection, principal, collection, query));
  return ObjectsEnvelope(context, principal, collection, page);
}

Response AddObjectsHandler(ApiContext& context, Request& request, const hub::Principal& principal) {
  hub::TaxiiCollection collection = [&] {
    auto connection = context.database.Acquire();
    return CollectionOf(*connection, request, principal);
  }();
  auto content_type = request.headers.Get("content-type");
  if (!content_type || !IsTaxiiMedia(ParseMediaType(*content_type))) {
    throw ApiError(415, "unsupported_media_type",
                   "the body must be application/taxii+json;version=2.1");
  }
  if (request.body.size() > context.settings.taxii_max_content_length) {
    throw ApiError(413, "too_large",
                   fmt::format("the body exceeds max_content_length ({} bytes)",
                               context.settings.taxii_max_content_length));
  }
  auto parsed = JsonValue::Parse(request.body);
  if (!parsed) throw ApiError(400, "invalid_json", parsed.error().message);
  if (!parsed->is_object()) throw ApiError(400, "invalid_json", "the body must be an envelope object");
  const JsonValue* objects = nullptr;
  for (const auto& [key, value] : parsed->as_object()) {
    if (key == "objects") {
      if (!value.is_array()) ThrowBadRequest("objects must be an array", "objects");
      objects = &value;
    } else if (key != "more" && key != "next") {
      ThrowBadRequest(fmt::format("unknown field {}", key), key);
    }
  }
  if (objects == nullptr) ThrowBadRequest("objects is required", "objects");
  if (!collection.can_write) ThrowForbidden("no write access to this collection");
  hub::TaxiiStatus status = context.database.Transact([&](store::Connection& connection) {
    return Unwrap(
        hub::AddTaxiiObjects(connection, principal, collection, objects->as_array(), NowMs()));
  });
  std::string body;
  JsonWriter out(body);
  WriteStatus(out, status);
  return TaxiiJson(202, std::move(body));
}

Response GetObjectHandler(ApiContext& context, Request& request, const hub::Principal& principal) {
  auto connection = context.database.Acquire();
  hub::TaxiiCollection collection = CollectionOf(*connection, request, principal);
  std::string id = ObjectIdOf(request);
  hub::TaxiiQuery query = ReadQuery(request, collection.id);
  query.ids = {id};
  query.types.clear();
  hub::TaxiiPage page = Unwrap(hub::QueryTaxiiObjects(*connection, principal, collection, query));
  if (page.items.empty() && !IsPaged(request)) ThrowNotFound("object");
  for (const auto& item : page.items) {
    AuditRead(context, principal, "taxii_object", item.stix_id, item.tlp);
  }
  std::string body;
  JsonWriter out(body);
  out.BeginObject();
  WritePaging(out, page, collection.id);
  if (!page.items.empty()) {
    out.Key("objects").BeginArray();
    for (const auto& item : page.items) out.Raw(item.body);
    out.EndArray();
  }
  out.EndObject();
  Response response = TaxiiJson(200, std::move(body));
  SetDateHeaders(response, page);
  return response;
}

Response DeleteObjectHandler(ApiContext& context, Request& request,
                             const hub::Principal& principal) {
  hub::TaxiiCollection collection = [&] {
    auto connection = context.database.Acquire();
    return CollectionOf(*connection, request, principal);
  }();
  std::string id = ObjectIdOf(request);
  hub::TaxiiQuery match = ReadQuery(request, collection.id);
  context.database.Transact([&](store::Connection& connection) {
    Unwrap(hub::DeleteTaxiiObject(connection, principal, collection, id, match, NowMs()));
  });
  return TaxiiJson(200, {});
}

Response VersionsHandler(ApiContext& context, Request& request, const hub::Principal& principal) {
  auto connection = context.database.Acquire();
  hub::TaxiiCollection collection = CollectionOf(*connection, request, principal);
  std::string id = ObjectIdOf(request);
  hub::TaxiiQuery query = ReadQuery(request, collection.id, false);
  query.ids = {id};
  query.types.clear();
  query.all = true;
  hub::TaxiiPage page = Unwrap(hub::QueryTaxiiObjects(*connection, principal, collection, query));
  if (page.items.empty() && !IsPaged(request)) ThrowNotFound("object");
  AuditPage(context, principal, "taxii_object.versions", collection, page);
  std::string body;
  JsonWriter out(body);
  out.BeginObject();
  WritePaging(out, page, collection.id);
  if (!page.items.empty()) {
    out.Key("versions").BeginArray();
    for (const auto& item : page.items) out.String(item.version);
    out.EndArray();
  }
  out.EndObject();
  Response response = TaxiiJson(200, std::move(body));
  SetDateHeaders(response, page);
  return response;
}

Response ManifestHandler(ApiContext& context, Request& request, const hub::Principal& principal) {
  auto connection = context.database.Acquire();
  hub::TaxiiCollection collection = CollectionOf(*connection, request, principal);
  hub::TaxiiQuery query = ReadQuery(request, collection.id);
  hub::TaxiiPage page = Unwrap(hub::QueryTaxiiObjects(*connection, principal, collection, query));
  AuditPage(context, principal, "taxii_object.manifest", collection, page);
  std::string body;
  JsonWriter out(body);
  out.BeginObject();
  WritePaging(out, page, collection.id);
  if (!page.items.empty()) {
    out.Key("objects").BeginArray();
    for (const auto& item : page.items) {
      out.BeginObject();
      out.Key("id").String(item.stix_id);
      out.Key("date_added").String(hub::FormatTaxiiTimestampUs(item.date_added_us));
      out.Key("version").String(item.version);
      out.Key("media_type").String(hub::STIX_MEDIA_TYPE);
      out.EndObject();
    }
    out.EndArray();
  }
  out.EndObject();
  Response response = TaxiiJson(200, std::move(body));
  SetDateHeaders(response, page);
  return response;
}

// ---- administration ----------------------------------------------------------------------------

JsonValue AdminCollectionJson(ApiContext& context, const hub::TaxiiCollection& collection,
                              const std::vector<hub::TaxiiAccess>& access) {
  JsonValue json = JsonValue::MakeObject();
  json.Set("id", collection.id);
  json.Set("api_root", collection.api_root);
  json.Set("alias", collection.alias.empty() ? JsonValue() : JsonValue(collection.alias));
  json.Set("title", collection.title);
  json.Set("description", collection.description);
  json.Set("max_tlp", std::string(hub::ToString(collection.max_tlp)));
  json.Set("owner_org_id", collection.owner_org_id);
  json.Set("url", RootUrl(context, collection.api_root) + "collections/" + collection.id + "/");
  json.Set("can_read", collection.can_read);
  json.Set("can_write", collection.can_write);
  JsonValue list = JsonValue::MakeArray();
  for (const auto& entry : access) {
    JsonValue item = JsonValue::MakeObject();
    item.Set("org_id", entry.org_id);
    item.Set("can_read", entry.can_read);
    item.Set("can_write", entry.can_write);
    item.Set("updated_at", FormatTimestampMs(entry.updated_at));
    list.Push(std::move(item));
  }
  json.Set("access", std::move(list));
  json.Set("created_at", FormatTimestampMs(collection.created_at));
  json.Set("updated_at", FormatTimestampMs(collection.updated_at));
  return json;
}

std::string AdminIdOf(const Request& request) {
  std::string id(request.PathParam("id"));
  if (id.size() != 36 || !std::all_of(id.begin(), id.end(), [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || c == '-';
      })) {
    ThrowNotFound("collection");
  }
  return id;
}

constexpr std::array<std::string_view, 3> SHARING_LEVELS = {"clear", "green", "amber"};

Response ListCollectionsHandler(ApiContext& context, Request& request,
                                const hub::Principal& principal) {
  PageRequest page = ReadPage(request);
  std::optional<std::pair<int64_t, std::string>> after;
  if (!page.cursor.empty()) after = DecodeCursor(page.cursor);
  auto connection = context.database.Acquire();
  std::vector<hub::TaxiiCollection> all;
  for (const auto& root : hub::TaxiiApiRoots(*connection, principal)) {
    for (auto& collection : hub::ListTaxiiCollections(*connection, principal, root)) {
      all.push_back(std::move(collection));
    }
  }
  std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) {
    return std::tie(a.created_at, a.id) < std::tie(b.created_at, b.id);
  });
  std::vector<const hub::TaxiiCollection*> listed;
  for (const auto& collection : all) {
    if (after && std::tie(collection.created_at, collection.id) <=
                     std::tie(after->first, after->second)) {
      continue;
    }
    listed.push_back(&collection);
    if (static_cast<int>(listed.size()) > page.limit) break;
  }
  bool more = static_cast<int>(listed.size()) > page.limit;
  if (more) listed.pop_back();
  JsonValue items = JsonValue::MakeArray();
  for (const hub::TaxiiCollection* collection : listed) {
    std::vector<hub::TaxiiAccess> access;
    if (principal.IsCentreStaff()) {
      access = Unwrap(hub::ListTaxiiAccess(*connection, principal, collection->id));
    }
    items.Push(AdminCollectionJson(context, *collection, access));
  }
  std::string next =
      more ? EncodeCursor(listed.back()->created_at, listed.back()->id) : std::string();
  return ListResponse(items, next);
}

Response CreateCollectionHandler(ApiContext& context, Request& request,
                                 const hub::Principal& principal) {
  JsonValue body = ParseJsonBody(request);
  Fields fields(body);
  hub::NewTaxiiCollection input;
  input.title = fields.String("title", 1, hub::TAXII_TITLE_MAX);
  input.description = fields.OptionalString("description", hub::TAXII_DESCRIPTION_MAX).value_or("");
  input.alias = fields.OptionalString("alias", 63).value_or("");
  input.api_root =
      fields.OptionalString("api_root", 63).value_or(std::string(hub::TAXII_DEFAULT_API_ROOT));
  input.max_tlp = *hub::ParseTlp(fields.Enum("max_tlp", SHARING_LEVELS, "green"));
  fields.Finish();
  hub::TaxiiCollection collection = context.database.Transact([&](store::Connection& connection) {
    return Unwrap(hub::CreateTaxiiCollection(connection, principal, input, NowMs()));
  });
  Response response = Response::Json(201, AdminCollectionJson(context, collection, {}).Serialize());
  response.headers.Set("Location", fmt::format("{}/{}", ADMIN_BASE, collection.id));
  return response;
}

Response GetCollectionAdminHandler(ApiContext& context, Request& request,
                                   const hub::Principal& principal) {
  std::string id = AdminIdOf(request);
  auto connection = context.database.Acquire();
  hub::TaxiiCollection collection = Unwrap(hub::GetTaxiiCollection(*connection, principal, {}, id));
  std::vector<hub::TaxiiAccess> access;
  if (principal.IsCentreStaff()) access = Unwrap(hub::ListTaxiiAccess(*connection, principal, id));
  return Response::Json(200, AdminCollectionJson(context, collection, access).Serialize());
}

Response SetAccessHandler(ApiContext& context, Request& request, const hub::Principal& principal) {
  std::string id = AdminIdOf(request);
  JsonValue body = ParseJsonBody(request);
  Fields fields(body);
  hub::TaxiiAccess access;
  access.org_id = fields.String("org_id", 1, 64);
  access.can_read = fields.Bool("can_read", false);
  access.can_write = fields.Bool("can_write", false);
  fields.Finish();
  hub::TaxiiAccess stored = context.database.Transact([&](store::Connection& connection) {
    // Visibility first: someone who cannot see the collection learns nothing about it.
    Unwrap(hub::GetTaxiiCollection(connection, principal, {}, id));
    return Unwrap(hub::SetTaxiiAccess(connection, principal, id, access, NowMs()));
  });
  JsonValue json = JsonValue::MakeObject();
  json.Set("collection_id", id);
  json.Set("org_id", stored.org_id);
  json.Set("can_read", stored.can_read);
  json.Set("can_write", stored.can_write);
  json.Set("updated_at", FormatTimestampMs(stored.updated_at));
  return Response::Json(200, json.Serialize());
}

Response PublishHandler(ApiContext& context, Request& request, const hub::Principal& principal) {
  std::string id = AdminIdOf(request);
  JsonValue body = ParseJsonBody(request);
  Fields fields(body);
  hub::PublishRequest publish;
  publish.kind = *hub::ParsePublishKind(fields.Enum("kind", hub::PublishKindNames()));
  publish.tlp = *hub::ParseTlp(fields.Enum("tlp", hub::TlpNames(), "green"));
  auto type = fields.OptionalEnum("type", hub::ObservableTypeNames());
  auto value = fields.OptionalString("value", 2048);
  publish.name = fields.OptionalString("name", 200).value_or("");
  publish.description = fields.OptionalString("description", 5000).value_or("");
  publish.valid_from = fields.OptionalTime("valid_from");
  publish.valid_until = fields.OptionalTime("valid_until");
  auto sighting_of = fields.OptionalString("sighting_of_ref", 300);
  publish.count = fields.OptionalInt("count", 0, 999999999).value_or(1);
  publish.first_seen = fields.OptionalTime("first_seen");
  publish.last_seen = fields.OptionalTime("last_seen");
  auto incident = fields.OptionalString("incident_id", 64);
  publish.techniques = fields.StringArray("techniques", 100, 9);
  publish.object_refs = fields.StringArray("object_refs", 100, 300);
  fields.Finish();
  // Members each kind needs, checked once every member is known to be well-formed.
  switch (publish.kind) {
    case hub::PublishKind::kIndicator:
      if (!type) ThrowBadRequest("type is required for an indicator", "type");
      if (!value) ThrowBadRequest("value is required for an indicator", "value");
      publish.observable_type = *type;
      publish.value = *value;
      break;
    case hub::PublishKind::kSighting:
      if (!sighting_of) ThrowBadRequest("sighting_of_ref is required for a sighting", "sighting_of_ref");
      publish.sighting_of_ref = *sighting_of;
      break;
    case hub::PublishKind::kIncidentSummary:
      if (!incident) ThrowBadRequest("incident_id is required for an incident summary", "incident_id");
      publish.incident_id = *incident;
      break;
    case hub::PublishKind::kReport:
      break;
  }
  hub::PublishResult result = context.database.Transact([&](store::Connection& connection) {
    return Unwrap(hub::Publish(connection, principal, id, publish, NowMs()));
  });
  std::string text;
  JsonWriter out(text);
  out.BeginObject();
  out.Key("collection_id").String(id);
  out.Key("primary_id").String(result.primary_id);
  out.Key("objects").BeginArray();
  for (const auto& object : result.objects) out.Raw(object.Serialize());
  out.EndArray();
  out.Key("status");
  WriteStatus(out, result.status);
  out.EndObject();
  return Response::Json(201, std::move(text));
}

// ---- schemas and registration ------------------------------------------------------------------

std::string EnumJson(std::span<const std::string_view> names) {
  std::string text = "[";
  for (auto name : names) {
    if (text.size() > 1) text += ',';
    AppendJsonString(text, name);
  }
  return text + "]";
}

void AddSchema(ApiContext& context, std::string_view name, std::string text) {
  auto replace = [&](std::string_view from, const std::string& to) {
    for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
      text.replace(at, from.size(), to);
    }
  };
  replace("@TLPS@", EnumJson(hub::TlpNames()));
  replace("@LEVELS@", EnumJson(SHARING_LEVELS));
  replace("@KINDS@", EnumJson(hub::PublishKindNames()));
  replace("@OBSERVABLES@", EnumJson(hub::ObservableTypeNames()));
  RegisterSchema(context, name, text);
}

void AddSchemas(ApiContext& context) {
  AddSchema(context, "TaxiiDiscovery", R"({"type":"object","required":["title","api_roots"],
    "description":"TAXII 2.1 discovery resource",
    "properties":{"title":{"type":"string"},"description":{"type":"string"},
      "default":{"type":"string"},"api_roots":{"type":"array","items":{"type":"string"}}}})");
  AddSchema(context, "TaxiiApiRoot", R"({"type":"object","required":["title","versions","max_content_length"],
    "properties":{"title":{"type":"string"},"description":{"type":"string"},
      "versions":{"type":"array","items":{"type":"string"}},
      "max_content_length":{"type":"integer"}}})");
  AddSchema(context, "TaxiiCollectionResource", R"({"type":"object",
    "required":["id","title","can_read","can_write"],
    "properties":{"id":{"type":"string"},"title":{"type":"string"},"description":{"type":"string"},
      "alias":{"type":"string"},"can_read":{"type":"boolean"},"can_write":{"type":"boolean"},
      "media_types":{"type":"array","items":{"type":"string"}}}})");
  AddSchema(context, "TaxiiCollections", R"({"type":"object",
    "properties":{"collections":{"type":"array","items":{"$ref":"#/components/schemas/TaxiiCollectionResource"}}}})");
  AddSchema(context, "TaxiiEnvelope", R"({"type":"object","required":["objects"],
    "description":"TAXII 2.1 envelope; sent as application/taxii+json;version=2.1",
    "properties":{"more":{"type":"boolean"},"next":{"type":"string"},
      "objects":{"type":"array","items":{"type":"object","description":"a STIX 2.1 object"}}}})");
  AddSchema(context, "TaxiiManifest", R"({"type":"object",
    "properties":{"more":{"type":"boolean"},"next":{"type":"string"},
      "objects":{"type":"array","items":{"type":"object","required":["id","date_added","version"],
        "properties":{"id":{"type":"string"},"date_added":{"type":"string"},
          "version":{"type":"string"},"media_type":{"type":"string"}}}}}})");
  AddSchema(context, "TaxiiVersions", R"({"type":"object",
    "properties":{"more":{"type":"boolean"},"next":{"type":"string"},
      "versions":{"type":"array","items":{"type":"string"}}}})");
  AddSchema(context, "TaxiiStatusEntry", R"({"type":"object","required":["id"],
    "properties":{"id":{"type":"string"},"version":{"type":"string"},"message":{"type":"string"}}})");
  AddSchema(context, "TaxiiStatus", R"({"type":"object",
    "required":["id","status","total_count","success_count","failure_count","pending_count"],
    "properties":{"id":{"type":"string"},"status":{"enum":["complete","pending"]},
      "request_timestamp":{"type":"string"},"total_count":{"type":"integer"},
      "success_count":{"type":"integer"},"failure_count":{"type":"integer"},
      "pending_count":{"type":"integer"},
      "successes":{"type":"array","items":{"$ref":"#/components/schemas/TaxiiStatusEntry"}},
      "failures":{"type":"array","items":{"$ref":"#/components/schemas/TaxiiStatusEntry"}},
      "pendings":{"type":"array","items":{"$ref":"#/components/schemas/TaxiiStatusEntry"}}}})");
  AddSchema(context, "TaxiiAccess", R"({"type":"object","required":["org_id","can_read","can_write"],
    "properties":{"org_id":{"type":"string"},"can_read":{"type":"boolean"},
      "can_write":{"type":"boolean"},"updated_at":{"type":"string","format":"date-time"}}})");
  AddSchema(context, "TaxiiCollection", R"({"type":"object",
    "required":["id","api_root","title","max_tlp","url","access","created_at","updated_at"],
    "properties":{"id":{"type":"string"},"api_root":{"type":"string"},
      "alias":{"type":["string","null"]},"title":{"type":"string"},
      "description":{"type":"string"},"max_tlp":{"enum":@LEVELS@},
      "owner_org_id":{"type":"string"},"url":{"type":"string"},
      "can_read":{"type":"boolean"},"can_write":{"type":"boolean"},
      "access":{"type":"array","items":{"$ref":"#/components/schemas/TaxiiAccess"}},
      "created_at":{"type":"string","format":"date-time"},
      "updated_at":{"type":"string","format":"date-time"}}})");
  AddSchema(context, "TaxiiCollectionList", R"({"type":"object","required":["items","next_cursor"],
    "properties":{"items":{"type":"array","items":{"$ref":"#/components/schemas/TaxiiCollection"}},
      "next_cursor":{"type":["string","null"]}}})");
  AddSchema(context, "TaxiiCollectionCreate", R"({"type":"object","required":["title"],
    "properties":{"title":{"type":"string","minLength":1,"maxLength":200},
      "description":{"type":"string","maxLength":5000},
      "alias":{"type":"string","maxLength":63,"description":"a-z, 0-9, '-' and '_'"},
      "api_root":{"type":"string","maxLength":63,"description":"default \"centre\""},
      "max_tlp":{"enum":@LEVELS@,"description":"the most restrictive marking the sharing group receives; green by default"}}})");
  AddSchema(context, "TaxiiAccessGrant", R"({"type":"object","required":["org_id"],
    "description":"both flags false withdraw the organisation's access",
    "properties":{"org_id":{"type":"string","minLength":1,"maxLength":64},
      "can_read":{"type":"boolean"},"can_write":{"type":"boolean"}}})");
  AddSchema(context, "TaxiiAccessResult", R"({"type":"object",
    "required":["collection_id","org_id","can_read","can_write","updated_at"],
    "properties":{"collection_id":{"type":"string"},"org_id":{"type":"string"},
      "can_read":{"type":"boolean"},"can_write":{"type":"boolean"},
      "updated_at":{"type":"string","format":"date-time"}}})");
  AddSchema(context, "TaxiiPublish", R"({"type":"object","required":["kind"],
    "description":"indicator: type and value; sighting: sighting_of_ref; incident_summary: incident_id; report: name and techniques or object_refs. AMBER+STRICT and RED are refused (403).",
    "properties":{"kind":{"enum":@KINDS@},"tlp":{"enum":@TLPS@},
      "type":{"enum":@OBSERVABLES@},"value":{"type":"string","maxLength":2048},
      "name":{"type":"string","maxLength":200},"description":{"type":"string","maxLength":5000},
      "valid_from":{"type":"string","format":"date-time"},
      "valid_until":{"type":"string","format":"date-time"},
      "sighting_of_ref":{"type":"string","maxLength":300},
      "count":{"type":"integer","minimum":0,"maximum":999999999},
      "first_seen":{"type":"string","format":"date-time"},
      "last_seen":{"type":"string","format":"date-time"},
      "incident_id":{"type":"string","maxLength":64},
      "techniques":{"type":"array","maxItems":100,"items":{"type":"string","minLength":1,"maxLength":9}},
      "object_refs":{"type":"array","maxItems":100,"items":{"type":"string","minLength":1,"maxLength":300}}}})");
  AddSchema(context, "TaxiiPublishResult", R"({"type":"object",
    "required":["collection_id","primary_id","objects","status"],
    "properties":{"collection_id":{"type":"string"},"primary_id":{"type":"string"},
      "objects":{"type":"array","items":{"type":"object"}},
      "status":{"$ref":"#/components/schemas/TaxiiStatus"}}})");
}

RouteDoc Doc(std::string summary, std::string request_schema, std::string response_schema,
             std::vector<std::string> query = {}) {
  return DocumentRoute(TAG, std::move(summary), std::move(request_schema),
                       std::move(response_schema), std::move(query));
}

}  // namespace

void RegisterTaxiiRoutes(Router& router, ApiContext& context) {
  AddSchemas(context);
  using Fn = Response (*)(ApiContext&, Request&, const hub::Principal&);
  auto taxii = [&context](Fn handler) {
    return TaxiiRoute(context, [&context, handler](Request& request, const hub::Principal& principal) {
      return handler(context, request, principal);
    });
  };
  auto admin = [&context](Fn handler) { return BindAuthed(context, handler); };
  const std::vector<std::string> paging = {"added_after", "limit", "next", "match[id]",
                                           "match[type]", "match[version]", "match[spec_version]"};
  const std::string root = "/taxii2/{api_root}/";
  const std::string collection = root + "collections/{collection_id}/";
  const std::string object = collection + "objects/{object_id}/";
  router.Add("GET", "/taxii2/", taxii(DiscoveryHandler),
             Doc("TAXII 2.1 discovery: the API roots the caller can use", "", "TaxiiDiscovery"));
  router.Add("GET", root, taxii(ApiRootHandler),
             Doc("TAXII 2.1 API root: versions and max_content_length", "", "TaxiiApiRoot"));
  router.Add("GET", root + "status/{status_id}/", taxii(StatusHandler),
             Doc("Status of an envelope the caller's organisation posted", "", "TaxiiStatus"));
  router.Add("GET", root + "collections/", taxii(CollectionsHandler),
             Doc("Collections (sharing groups) the caller may read or write", "", "TaxiiCollections"));
  router.Add("GET", collection, taxii(CollectionHandler),
             Doc("One collection with the caller's can_read and can_write", "",
                 "TaxiiCollectionResource"));
  router.Add("GET", collection + "manifest/", taxii(ManifestHandler),
             Doc("Manifest: id, date_added, version and media type of the readable objects", "",
                 "TaxiiManifest", paging));
  router.Add("GET", collection + "objects/", taxii(GetObjectsHandler),
             Doc("Objects the caller's marking allows, in date_added order (X-TAXII-Date-Added-First/Last)",
                 "", "TaxiiEnvelope", paging));
  router.Add("POST", collection + "objects/", taxii(AddObjectsHandler),
             Doc("Add an envelope of STIX 2.1 objects (application/taxii+json;version=2.1); "
                 "each object is accepted or refused on its own (202 with the status)",
                 "TaxiiEnvelope", "TaxiiStatus"));
  router.Add("GET", object, taxii(GetObjectHandler),
             Doc("One object (its last version unless match[version] says otherwise)", "",
                 "TaxiiEnvelope", {"added_after", "limit", "next", "match[version]",
                                   "match[spec_version]"}));
  router.Add("DELETE", object, taxii(DeleteObjectHandler),
             Doc("Delete an object's versions (all unless match[version] narrows it)", "", "",
                 {"match[version]", "match[spec_version]"}));
  router.Add("GET", object + "versions/", taxii(VersionsHandler),
             Doc("The versions of one object", "", "TaxiiVersions",
                 {"added_after", "limit", "next", "match[spec_version]"}));

  const std::string base(ADMIN_BASE);
  router.Add("GET", base, admin(ListCollectionsHandler),
             Doc("TAXII collections with their access lists (centre staff see all)", "",
                 "TaxiiCollectionList", {"limit", "cursor"}));
  router.Add("POST", base, admin(CreateCollectionHandler),
             Doc("Create a collection (a sharing group) with its sharing level",
                 "TaxiiCollectionCreate", "TaxiiCollection"));
  router.Add("GET", base + "/{id}", admin(GetCollectionAdminHandler),
             Doc("One collection with its access list", "", "TaxiiCollection"));
  router.Add("POST", base + "/{id}/access", admin(SetAccessHandler),
             Doc("Grant or withdraw an organisation's can_read and can_write", "TaxiiAccessGrant",
                 "TaxiiAccessResult"));
  router.Add("POST", base + "/{id}/publish", admin(PublishHandler),
             Doc("Publish an indicator, a sighting, a sanitised incident summary or an ATT&CK "
                 "report as STIX 2.1 under its TLP marking",
                 "TaxiiPublish", "TaxiiPublishResult"));
}

}  // namespace yagura::http

// The JSON API under /api/v1: what every resource's routes share.
//
// Each resource registers its routes with RegisterXxxRoutes(router, context). Handlers receive
// the authenticated principal; authentication (session cookie + CSRF, or bearer token), scope
// checks, error mapping and request metrics happen once, in Authed/Public, so a handler only
// validates its body, asks hub/policy.hpp, and does its work in one transaction.
//
// Client errors are thrown as ApiError and become JSON error responses; a DatabaseError
// becomes 500 (unique violations 409); nothing a client sends can produce a partial write,
// because every handler writes inside Database::Transact.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/json_value.hpp"
#include "hub/audit_log.hpp"
#include "hub/principal.hpp"
#include "http/message.hpp"
#include "http/router.hpp"
#include "store/database.hpp"

namespace yagura {
class JsonWriter;
class Metrics;
}
namespace yagura::pipeline {
class IngestQueue;
class EventStore;
struct StoredEvent;
}
namespace yagura::hub {
struct Incident;
struct Alert;
struct AlertFilter;
struct IncidentFilter;
struct IncidentSummary;
struct TimelineImport;
}

namespace yagura::http {

class JobRegistry;
class DetectionControl;
class IntelControl;

// A client error: status, a stable machine code, a message for people, and the offending
// field (dotted path, "point_of_contact.email") when there is one.
class ApiError : public std::runtime_error {
 public:
  ApiError(int status, std::string code, std::string message, std::string field = {})
      : std::runtime_error(message), status(status), code(std::move(code)),
        field(std::move(field)) {}
  int status;
  std::string code;
  std::string field;
};

// Shorthands for the common cases.
[[noreturn]] void ThrowBadRequest(std::string message, std::string field = {});   // 400 invalid
[[noreturn]] void ThrowNotFound(std::string_view what = "resource");              // 404
[[noreturn]] void ThrowForbidden(std::string message = "not allowed");            // 403
[[noreturn]] void ThrowConflict(std::string message);                             // 409

struct ServiceSettings {
  int64_t session_ttl_ms = 8 * 3600 * 1000;         // absolute session lifetime
  int64_t session_idle_ms = 30 * 60 * 1000;         // idle timeout
  int login_max_failures = 5;                       // per account
  int login_max_failures_per_address = 20;          // per address (shared by NAT-ed users)
  int64_t login_window_ms = 15 * 60 * 1000;         // failures counted in this window
  int64_t login_lockout_ms = 15 * 60 * 1000;        // lockout after too many failures
  size_t max_attachment_bytes = 10 * 1024 * 1024;
  bool secure_cookies = false;                      // set when serving HTTPS
  std::string public_url = "http://127.0.0.1:8080";
  // Sigma rule files and directories whose ATT&CK tags GET /api/v1/attack/coverage reports
  // (normally the detector's rule paths); empty: no rules, every technique a gap.
  std::vector<std::string> rule_paths;
  // Rules live detection leaves out (the tuning keys exclude_rules and exclude_rule_lists): not
  // counted as coverage. The list files are read again when they change.
  std::vector<std::string> excluded_rule_ids;
  std::vector<std::string> excluded_rule_list_files;
  // The largest TAXII request body (an envelope of objects) accepted; larger ones answer 413.
  // Advertised as max_content_length by every API root.
  size_t taxii_max_content_length = 10 * 1024 * 1024;
  std::string export_dir;  // where exports are written (DATA/exports); empty: exports answer 503
  // GET /healthz calls detection stalled when spooled events wait and it has finished no batch
  // for this long.
  int64_t detection_stall_ms = 60'000;
};

struct ApiContext {
  store::Database& database;
  hub::AuditLog& audit;
  Metrics& metrics;
  ServiceSettings settings;
  // JSON Schemas (draft 2020-12, as OpenAPI 3.1 uses) of request and response bodies, by the
  // names RouteDoc refers to; each RegisterXxxRoutes adds its own.
  JsonValue schemas = JsonValue::MakeObject();
  // Live ingest: events accepted by POST /api/v1/ingest are appended here before they are
  // acknowledged. Null when ingest is off (the route answers 503).
  pipeline::IngestQueue* ingest = nullptr;
  // The raw events detection processed, kept for investigations (GET /api/v1/events, a case's
  // timeline). Null when none are kept: those routes answer 503.
  pipeline::EventStore* events = nullptr;
  // Long operations (rule reloads, feed pulls, exports) run as jobs here (http/jobs.hpp).
  // Null: such routes answer 503.
  JobRegistry* jobs = nullptr;
  // The running detector's rules and their reload (http/console_control.hpp). Null when
  // detection is off: GET /api/v1/rules lists nothing and a reload answers 409.
  DetectionControl* detection = nullptr;
  // The indicator feeds, indicators and TAXII sources of the service's store (DATA/intel).
  // Null: the intelligence routes answer 503.
  IntelControl* intel = nullptr;
};

using AuthedHandler = std::function<Response(Request&, const hub::Principal&)>;

// Wraps a handler that needs a logged-in principal: 401 without valid credentials; for
// state-changing methods with a session cookie, 403 unless the X-CSRF-Token header matches
// the session's token; 403 when an API token lacks the scope ("read" for GET/HEAD, "write"
// otherwise, or `scope` when given). Maps ApiError/DatabaseError to responses.
Handler Authed(ApiContext& context, AuthedHandler handler, std::string scope = {});
// Wraps a handler that needs no login (login itself, health): only the error mapping.
Handler Public(ApiContext& context, Handler handler);

// The form every resource's handlers take, bound to `context` behind Authed (with `scope`
// when the route needs more than its method's).
using ContextHandler = Response (*)(ApiContext&, Request&, const hub::Principal&);
Handler BindAuthed(ApiContext& context, ContextHandler handler, std::string scope = {});
// The OpenAPI documentation of a route of `tag`: what it does, its request and response
// schemas (names under components/schemas, or empty) and its query parameters.
RouteDoc DocumentRoute(std::string_view tag, std::string summary, std::string request_schema,
                       std::string response_schema, std::vector<std::string> query = {},
                       bool authenticated = true);

// Resolves the caller from the Cookie (session) or Authorization: Bearer header; nullopt when
// neither is valid. Touches the session's last-seen time. Implemented with the identity code.
std::optional<hub::Principal> Authenticate(ApiContext& context, const Request& request);

// Adds the JSON Schema `json` (its text) to context.schemas under `name`, for the OpenAPI
// document. Text that does not parse, or a name registered already, is a programming error:
// std::logic_error at start-up, which the OpenAPI test catches.
void RegisterSchema(ApiContext& context, std::string_view name, std::string_view json);

// Parses the body as a JSON object: 415 unless Content-Type is application/json, 400 with the
// parser's message when malformed, 400 when it is not an object.
JsonValue ParseJsonBody(const Request& request);

// Reads and validates the members of one JSON object. Every accessor records the key as
// known; Finish() rejects members nobody asked for (unknown fields are errors, not ignored).
// Errors name the field with its dotted path.
class Fields {
 public:
  explicit Fields(const JsonValue& object, std::string path = {});

  [[nodiscard]] bool Has(std::string_view key) const;
  std::string String(std::string_view key, size_t min_length = 1, size_t max_length = 200);
  std::optional<std::string> OptionalString(std::string_view key, size_t max_length = 200);
  // One of `allowed`; `fallback` when absent (required when no fallback).
  std::string Enum(std::string_view key, std::span<const std::string_view> allowed,
                   std::optional<std::string_view> fallback = std::nullopt);
  std::optional<std::string> OptionalEnum(std::string_view key,
                                          std::span<const std::string_view> allowed);
  int64_t Int(std::string_view key, int64_t min, int64_t max);
  std::optional<int64_t> OptionalInt(std::string_view key, int64_t min, int64_t max);
  bool Bool(std::string_view key, bool fallback);
  // RFC 3339 date-time, returned as epoch milliseconds.
  int64_t Time(std::string_view key);
  std::optional<int64_t> OptionalTime(std::string_view key);
  std::vector<std::string> StringArray(std::string_view key, size_t max_items = 100,
                                       size_t max_length = 200);
  // A nested object (nullptr when absent and not required).
  const JsonValue* Object(std::string_view key, bool required = false);
  const JsonValue* Array(std::string_view key, bool required = false);
  // An e-mail address (a light syntax check: one '@', a dot in the domain, no spaces).
  std::optional<std::string> OptionalEmail(std::string_view key);

  // Throws 400 "unknown field" for the first member no accessor asked for.
  void Finish() const;
  [[nodiscard]] std::string PathOf(std::string_view key) const;

 private:
  const JsonValue* Get(std::string_view key, bool required);
  const JsonValue& object_;
  std::string path_;
  std::vector<std::string> known_;
};

// Paging of list endpoints: ?limit= (1..200, default 50) and ?cursor= (opaque, from the
// previous page's next_cursor).
struct PageRequest {
  int limit = 50;
  std::string cursor;
};
PageRequest ReadPage(const Request& request);

// A query parameter holding an RFC 3339 date-time with a zone (since=, until=); nullopt when
// absent, 400 naming the parameter when malformed (a zoneless time would silently mean UTC).
std::optional<int64_t> QueryTime(const Request& request, std::string_view name);
// A query parameter naming an object by id (org_id=, incident_id=...): letters, digits and
// - _ . : only, at most 64 bytes; nullopt when absent, 400 naming the parameter otherwise.
std::optional<std::string> QueryId(const Request& request, std::string_view name);
// A query parameter that must be one of `allowed`; nullopt when absent, 400 listing the
// allowed values otherwise.
std::optional<std::string> QueryEnum(const Request& request, std::string_view name,
                                     std::span<const std::string_view> allowed);

// Keyset cursors over (created_at, id): opaque to clients, validated when read back (400 on a
// forged or damaged cursor).
std::string EncodeCursor(int64_t created_at, std::string_view id);
std::pair<int64_t, std::string> DecodeCursor(std::string_view cursor);

// Writes {"items":[...],"next_cursor":...} (next_cursor null on the last page).
Response ListResponse(const JsonValue& items, const std::string& next_cursor);

// Audits a read of AMBER or RED data (group-committed; CLEAR and GREEN reads are not logged).
void AuditRead(ApiContext& context, const hub::Principal& principal, std::string_view object_type,
               std::string_view object_id, hub::Tlp tlp);

// Files sent to the API and handed out by it (file_transfer.cpp).
// The uploaded file's name: ?filename= first, else Content-Disposition's filename* (RFC 5987,
// UTF-8 only) or filename parameter, without directory parts; 400 when there is none.
std::string UploadFilename(const Request& request);
// Content-Disposition for a download: an ASCII fallback and the exact UTF-8 name (RFC 6266).
std::string DownloadDisposition(std::string_view filename);
// A file as a download that no browser runs or caches (nosniff, a sandboxing CSP, no-store),
// with its SHA-256 as the ETag when given.
Response FileDownload(std::string body, std::string_view content_type, std::string_view filename,
                      std::string_view sha256 = {});

// The body as sent, or decompressed when it is gzip or zstd (told by its first bytes, so
// `curl --data-binary @alerts.jsonl.gz` works without headers): 400 when damaged, 413 when it
// decompresses to more than `max_bytes`.
std::string DecompressedBody(std::string body, size_t max_bytes);

// Route registration, one function per resource.
void RegisterSystemRoutes(Router& router, ApiContext& context);     // healthz, metrics, openapi
void RegisterIdentityRoutes(Router& router, ApiContext& context);   // auth, organizations, users, tokens
void RegisterIncidentRoutes(Router& router, ApiContext& context);
void RegisterCoordinationRoutes(Router& router, ApiContext& context);  // advisories, requests, recommendations
void RegisterAuditRoutes(Router& router, ApiContext& context);
void RegisterIngestRoutes(Router& router, ApiContext& context);     // sensors' bulk NDJSON
void RegisterAlertRoutes(Router& router, ApiContext& context);      // alerts and campaigns
void RegisterAttackRoutes(Router& router, ApiContext& context);     // ATT&CK catalogue, heatmap, coverage
// TAXII 2.1 under /taxii2/ and its administration under /api/v1/taxii (api_taxii.cpp).
void RegisterTaxiiRoutes(Router& router, ApiContext& context);
void RegisterJobRoutes(Router& router, ApiContext& context);       // long operations' progress
void RegisterRuleRoutes(Router& router, ApiContext& context);      // loaded rules, hits, reload
void RegisterIntelRoutes(Router& router, ApiContext& context);     // feeds, indicators, TAXII pulls
void RegisterStatsRoutes(Router& router, ApiContext& context);     // overview statistics
void RegisterExportRoutes(Router& router, ApiContext& context);    // alert and incident exports
void RegisterCaseRoutes(Router& router, ApiContext& context);      // investigations
void RegisterEventRoutes(Router& router, ApiContext& context);     // the event store: raw events
// Audits of organisations against standards, and the standards (api_audits.cpp).
void RegisterAgencyAuditRoutes(Router& router, ApiContext& context);
// All of the above.
void RegisterApi(Router& router, ApiContext& context);

// One incident as GET /api/v1/incidents/{id} answers it, including the alerts linked to it
// that the caller may read (api_incidents.cpp); the alert routes answer a promotion with it.
JsonValue IncidentJsonFor(store::Connection& connection, const hub::Principal& principal,
                          const hub::Incident& incident);

// A case timeline's import as POST /api/v1/cases/{id}/timeline/imports answers it
// (api_cases.cpp, schema "TimelineImportResult"); copying stored events answers with it too.
JsonValue TimelineImportResultJson(const hub::TimelineImport& import);

// A raw event of the event store as GET /api/v1/events lists it (schema "StoredEvent"), and as
// one Timesketch JSONL line (message, datetime, timestamp_desc, host, source, the payload), as
// a case's timeline imports it (api_events.cpp); `yagura events` writes both.
JsonValue StoredEventJson(const pipeline::StoredEvent& event);
std::string StoredEventTimesketchLine(const pipeline::StoredEvent& event);

// "techniques_resolved" of alerts and incidents (api_attack.cpp): each technique id with the
// catalogue's name, tactics and status ({"id","known","name","domain","tactics",...}; name null
// for an id the catalogue lacks). TechniqueIndex resolves the ids of a whole page in two
// queries; ResolvedTechniquesJson picks one object's entries from it.
JsonValue TechniqueIndex(store::Connection& connection, const std::vector<std::string>& ids);
JsonValue ResolvedTechniquesJson(const JsonValue& index, const std::vector<std::string>& ids);

// The alert and incident lists' query filters and items, for exports (api_exports.cpp), which
// must select and show exactly what the lists do: the filter parsers throw the same 400s as
// GET /api/v1/alerts and /api/v1/incidents; the items are those lists' JSON objects.
hub::AlertFilter AlertListFilter(const Request& request);                       // api_alerts.cpp
JsonValue AlertListItemJson(const hub::Alert& alert, const JsonValue& technique_index);
hub::IncidentFilter IncidentListFilter(const Request& request);                 // api_incidents.cpp
void WriteIncidentListItem(JsonWriter& out, const hub::IncidentSummary& summary);

}  // namespace yagura::http

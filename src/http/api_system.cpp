// System routes: /healthz, /metrics and the OpenAPI document, plus the audit log.
//
// The OpenAPI 3.1 document is generated from the router's own route table and the schemas
// each resource registers, so it cannot list a route that does not exist or miss one that does;
// a test still walks both directions.
#include <fmt/format.h>

#include <charconv>
#include <optional>

#include "core/metrics.hpp"
#include "core/time.hpp"
#include "http/api.hpp"
#include "http/console_control.hpp"
#include "http/openapi.hpp"
#include "pipeline/event_store.hpp"
#include "pipeline/ingest_queue.hpp"

namespace yagura::http {

namespace {

JsonValue ErrorSchema() {
  JsonValue error = JsonValue::MakeObject();
  error.Set("type", "object");
  JsonValue properties = JsonValue::MakeObject();
  properties.Set("status", JsonValue::Parse(R"({"type":"integer"})").value());
  properties.Set("code", JsonValue::Parse(R"({"type":"string"})").value());
  properties.Set("message", JsonValue::Parse(R"({"type":"string"})").value());
  properties.Set("field", JsonValue::Parse(R"({"type":"string"})").value());
  error.Set("properties", std::move(properties));
  error.Set("required", JsonValue(JsonValue::Array{"status", "code", "message"}));
  JsonValue wrapper = JsonValue::MakeObject();
  wrapper.Set("type", "object");
  JsonValue wrapper_properties = JsonValue::MakeObject();
  wrapper_properties.Set("error", std::move(error));
  wrapper.Set("properties", std::move(wrapper_properties));
  wrapper.Set("required", JsonValue(JsonValue::Array{"error"}));
  return wrapper;
}

std::vector<std::string> PathParameters(std::string_view pattern) {
  std::vector<std::string> names;
  for (size_t open = pattern.find('{'); open != std::string_view::npos;
       open = pattern.find('{', open + 1)) {
    size_t close = pattern.find('}', open);
    if (close == std::string_view::npos) break;
    names.emplace_back(pattern.substr(open + 1, close - open - 1));
  }
  return names;
}

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string OperationId(const Route& route) {
  std::string id = Lower(route.method);
  bool upper = true;
  for (char c : route.pattern) {
    if (c == '/' || c == '{' || c == '}' || c == '-' || c == '_' || c == '.') {
      upper = true;
      continue;
    }
    id += upper && c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c;
    upper = false;
  }
  return id;
}

JsonValue Ref(std::string_view schema) {
  JsonValue ref = JsonValue::MakeObject();
  ref.Set("$ref", fmt::format("#/components/schemas/{}", schema));
  return ref;
}

JsonValue JsonContent(std::string_view schema) {
  JsonValue media = JsonValue::MakeObject();
  media.Set("schema", Ref(schema));
  JsonValue content = JsonValue::MakeObject();
  content.Set("application/json", std::move(media));
  return content;
}

}  // namespace

JsonValue BuildOpenApi(const Router& router, const JsonValue& schemas, std::string_view version) {
  JsonValue document = JsonValue::MakeObject();
  document.Set("openapi", "3.1.0");
  JsonValue info = JsonValue::MakeObject();
  info.Set("title", "Yagura API");
  info.Set("version", std::string(version));
  info.Set("description",
           "The JSON API of a national cyber-defence centre: identity, incident reports, "
           "advisories, requests, recommendations and the audit log. Access follows the TLP 2.0 "
           "policy described in docs/access-policy.md.");
  document.Set("info", std::move(info));
  JsonValue paths = JsonValue::MakeObject();
  for (const Route& route : router.routes()) {
    JsonValue operation = JsonValue::MakeObject();
    operation.Set("operationId", OperationId(route));
    if (!route.doc.summary.empty()) operation.Set("summary", route.doc.summary);
    if (!route.doc.tag.empty()) operation.Set("tags", JsonValue(JsonValue::Array{route.doc.tag}));
    JsonValue parameters = JsonValue::MakeArray();
    for (const std::string& name : PathParameters(route.pattern)) {
      JsonValue parameter = JsonValue::MakeObject();
      parameter.Set("name", name);
      parameter.Set("in", "path");
      parameter.Set("required", true);
      parameter.Set("schema", JsonValue::Parse(R"({"type":"string"})").value());
      parameters.Push(std::move(parameter));
    }
    for (const std::string& name : route.doc.query) {
      JsonValue parameter = JsonValue::MakeObject();
      parameter.Set("name", name);
      parameter.Set("in", "query");
      parameter.Set("required", false);
      parameter.Set("schema", JsonValue::Parse(R"({"type":"string"})").value());
      parameters.Push(std::move(parameter));
    }
    if (!parameters.as_array().empty()) operation.Set("parameters", std::move(parameters));
    if (!route.doc.request_schema.empty()) {
      JsonValue body = JsonValue::MakeObject();
      body.Set("required", true);
      body.Set("content", JsonContent(route.doc.request_schema));
      operation.Set("requestBody", std::move(body));
    }
    JsonValue responses = JsonValue::MakeObject();
    JsonValue success = JsonValue::MakeObject();
    success.Set("description", "success");
    if (!route.doc.response_schema.empty()) {
      success.Set("content", JsonContent(route.doc.response_schema));
    }
    responses.Set("2XX", std::move(success));
    JsonValue failure = JsonValue::MakeObject();
    failure.Set("description", "error");
    failure.Set("content", JsonContent("Error"));
    responses.Set("default", std::move(failure));
    operation.Set("responses", std::move(responses));
    if (route.doc.authenticated) {
      operation.Set("security", JsonValue::Parse(R"([{"session":[]},{"bearer":[]}])").value());
    } else {
      operation.Set("security", JsonValue::MakeArray());
    }
    JsonValue* path_item = const_cast<JsonValue*>(paths.Find(route.pattern));
    if (path_item == nullptr) path_item = &paths.Set(route.pattern, JsonValue::MakeObject());
    path_item->Set(Lower(route.method), std::move(operation));
  }
  document.Set("paths", std::move(paths));
  JsonValue components = JsonValue::MakeObject();
  JsonValue all_schemas = schemas.is_object() ? schemas : JsonValue::MakeObject();
  all_schemas.Set("Error", ErrorSchema());
  components.Set("schemas", std::move(all_schemas));
  components.Set("securitySchemes",
                 JsonValue::Parse(R"({"session":{"type":"apiKey","in":"cookie","name":"yagura_session",)"
                                  R"("description":"Session cookie from POST /api/v1/auth/login; )"
                                  R"(state-changing requests also need X-CSRF-Token."},)"
                                  R"("bearer":{"type":"http","scheme":"bearer",)"
                                  R"("description":"API token (ygt_...) from POST /api/v1/tokens."}})")
                     .value());
  document.Set("components", std::move(components));
  return document;
}

void RegisterSystemRoutes(Router& router, ApiContext& context) {
  RegisterSchema(
      context, "Health",
      R"({"type":"object","required":["status","database","ingest","detection"],"properties":{)"
      R"("status":{"enum":["ok","unavailable"],"description":"unavailable (503) when the database )"
      R"(is unreachable, live ingest cannot keep what is sent, or detection is stalled"},)"
      R"("database":{"enum":["ok","unreachable"]},)"
      R"("ingest":{"type":"object","required":["status"],"properties":{)"
      R"("status":{"enum":["ok","full","failed","off"],"description":"full: senders are slowed )"
      R"(down; failed: the spool refuses events until it can be reopened (tried again as )"
      R"(events come); off: the service takes no live events"},)"
      R"("problem":{"type":"string"},"spool_bytes":{"type":"integer"},)"
      R"("spool_limit_bytes":{"type":"integer"},"next_seq":{"type":"integer"},)"
      R"("reopened":{"type":"integer","description":"times a failed spool was reopened"}}},)"
      R"("detection":{"type":"object","required":["status"],"properties":{)"
      R"("status":{"enum":["ok","stalled","off"],"description":"stalled (503): events wait )"
      R"(and no batch was finished for detection_stall (a minute by default), as when the )"
      R"(store refuses alerts"},)"
      R"("lag_events":{"type":"integer"},"last_progress":{"type":"string","format":"date-time"},)"
      R"("sink_failures":{"type":"integer"}}},)"
      R"("events":{"type":"object","required":["status"],"properties":{)"
      R"("status":{"enum":["ok","failing","off"],"description":"the event store, raw events )"
      R"(kept for investigations: failing when its last write failed; detection goes on, )"
      R"(the events of that block are not kept"},)"
      R"("problem":{"type":"string"},"events":{"type":"integer"},"bytes":{"type":"integer"},)"
      R"("oldest":{"type":["string","null"],"format":"date-time"},)"
      R"("newest":{"type":["string","null"],"format":"date-time"},)"
      R"("dropped":{"type":"integer"}}}}})");
  router.Add("GET", "/healthz", Public(context, [&context](Request&) {
               // The database answering a trivial query, live ingest able to keep what
               // sensors send, and detection keeping up are what "healthy" means for the
               // service. A full spool is not a failure: senders are slowed down and nothing
               // is lost.
               JsonValue health = JsonValue::MakeObject();
               int status = 200;
               try {
                 store::PooledConnection connection = context.database.Acquire();
                 connection->Query("SELECT 1");
                 health.Set("database", "ok");
               } catch (const std::exception& error) {
                 health.Set("database", "unreachable");
                 status = 503;
               }
               std::optional<pipeline::IngestHealth> spool;
               if (context.ingest != nullptr) spool = context.ingest->Health();
               JsonValue ingest = JsonValue::MakeObject();
               if (!spool) {
                 ingest.Set("status", "off");
               } else {
                 const pipeline::IngestHealth& state = *spool;
                 ingest.Set("status", !state.writable ? "failed" : state.full ? "full" : "ok");
                 if (!state.writable) {
                   ingest.Set("problem", state.problem);
                   status = 503;
                 }
                 ingest.Set("spool_bytes", static_cast<int64_t>(state.spool_bytes));
                 ingest.Set("spool_limit_bytes", static_cast<int64_t>(state.spool_limit_bytes));
                 ingest.Set("next_seq", static_cast<int64_t>(state.next_seq));
                 ingest.Set("reopened", static_cast<int64_t>(state.reopened));
               }
               health.Set("ingest", std::move(ingest));
               JsonValue detection = JsonValue::MakeObject();
               if (context.detection == nullptr) {
                 detection.Set("status", "off");
               } else {
                 const DetectionHealth state = context.detection->Health();
                 const uint64_t spooled = spool ? spool->next_seq : state.next_seq;
                 const uint64_t lag = spooled > state.next_seq ? spooled - state.next_seq : 0;
                 const bool stalled =
                     lag > 0 &&
                     NowMs() - state.progress_at_ms > context.settings.detection_stall_ms;
                 detection.Set("status", stalled ? "stalled" : "ok");
                 detection.Set("lag_events", static_cast<int64_t>(lag));
                 detection.Set("last_progress", FormatTimestampMs(state.progress_at_ms));
                 detection.Set("sink_failures", static_cast<int64_t>(state.sink_failures));
                 if (stalled) status = 503;
               }
               health.Set("detection", std::move(detection));
               JsonValue events = JsonValue::MakeObject();
               if (context.events == nullptr) {
                 events.Set("status", "off");
               } else {
                 const pipeline::EventStoreStats state = context.events->Stats();
                 events.Set("status", state.last_error.empty() ? "ok" : "failing");
                 if (!state.last_error.empty()) events.Set("problem", state.last_error);
                 events.Set("events", static_cast<int64_t>(state.events));
                 events.Set("bytes", static_cast<int64_t>(state.bytes));
                 events.Set("oldest", state.oldest_received_ms == 0
                                          ? JsonValue()
                                          : JsonValue(FormatTimestampMs(state.oldest_received_ms)));
                 events.Set("newest", state.newest_received_ms == 0
                                          ? JsonValue()
                                          : JsonValue(FormatTimestampMs(state.newest_received_ms)));
                 events.Set("dropped", static_cast<int64_t>(state.events_dropped));
               }
               health.Set("events", std::move(events));
               health.Set("status", status == 200 ? "ok" : "unavailable");
               return Response::Json(status, health.Serialize());
             }),
             RouteDoc{"Liveness: database reachability, live ingest's and detection's state",
                      "system", "", "Health", false, {}});
  router.Add("GET", "/metrics", Public(context, [&context](Request&) {
               if (context.ingest != nullptr) {
                 // The spool's state as of this scrape (the queue keeps no metrics itself).
                 const pipeline::IngestHealth state = context.ingest->Health();
                 Metrics& metrics = context.metrics;
                 metrics.GetGauge("yagura_ingest_spool_bytes", "Bytes in the ingest spool")
                     .Set(static_cast<double>(state.spool_bytes));
                 metrics
                     .GetGauge("yagura_ingest_spool_limit_bytes",
                               "The spool's limit (spool_max_bytes)")
                     .Set(static_cast<double>(state.spool_limit_bytes));
                 metrics
                     .GetGauge("yagura_ingest_spool_failed",
                               "1 while the spool refuses events after a disk error")
                     .Set(state.writable ? 0 : 1);
                 metrics
                     .GetGauge("yagura_ingest_spool_reopened",
                               "Times a failed spool was reopened since the service started")
                     .Set(static_cast<double>(state.reopened));
               }
               return Response::Text(200, context.metrics.RenderPrometheus(),
                                     PROMETHEUS_CONTENT_TYPE);
             }),
             RouteDoc{"Prometheus metrics (text format 0.0.4)", "system", "", "", false, {}});
  router.Add("GET", "/api/v1/openapi.json", Public(context, [&router, &context](Request&) {
               return Response::Json(200, BuildOpenApi(router, context.schemas, YAGURA_API_VERSION)
                                              .Serialize());
             }),
             RouteDoc{"This OpenAPI 3.1 document", "system", "", "", false, {}});
}

void RegisterAuditRoutes(Router& router, ApiContext& context) {
  context.schemas.Set(
      "AuditLogPage",
      JsonValue::Parse(
          R"({"type":"object","properties":{"items":{"type":"array","items":{"type":"object",)"
          R"("properties":{"seq":{"type":"integer"},"at":{"type":"string","format":"date-time"},)"
          R"("actor_id":{"type":"string"},"actor_org_id":{"type":"string"},"action":{"type":"string"},)"
          R"("object_type":{"type":"string"},"object_id":{"type":"string"},"tlp":{"type":"string"},)"
          R"("remote_address":{"type":"string"},"outcome":{"type":"string"},"detail":{"type":"object"},)"
          R"("prev_hash":{"type":"string"},"hash":{"type":"string"}}}},)"
          R"("next_cursor":{"type":["string","null"]}}})")
          .value());
  router.Add(
      "GET", "/api/v1/audit-log",
      Authed(context,
             [&context](Request& request, const hub::Principal& principal) {
               if (!hub::can::ReadAuditLog(principal)) {
                 ThrowForbidden("only the centre's administrators read the audit log");
               }
               PageRequest page = ReadPage(request);
               int64_t after = 0;
               if (!page.cursor.empty()) {
                 auto [end, ec] = std::from_chars(page.cursor.data(),
                                                  page.cursor.data() + page.cursor.size(), after);
                 if (ec != std::errc() || end != page.cursor.data() + page.cursor.size() ||
                     after < 0) {
                   ThrowBadRequest("cursor is not one this server issued", "cursor");
                 }
               }
               std::string actor(request.Query("actor").value_or(""));
               std::string action(request.Query("action").value_or(""));
               // Entries still queued by the asynchronous writer are committed first, so the
               // log shows every access made before this request.
               context.audit.Flush();
               std::vector<hub::StoredAuditEntry> entries;
               {
                 store::PooledConnection connection = context.database.Acquire();
                 entries = hub::AuditLog::List(*connection, after, page.limit + 1, actor, action);
               }
               std::string next;
               if (entries.size() > static_cast<size_t>(page.limit)) {
                 entries.resize(page.limit);
                 next = std::to_string(entries.back().seq);
               }
               JsonValue items = JsonValue::MakeArray();
               for (const auto& stored : entries) {
                 JsonValue item = JsonValue::MakeObject();
                 item.Set("seq", stored.seq);
                 item.Set("at", FormatTimestampMs(stored.at));
                 item.Set("actor_id", stored.entry.actor_id);
                 item.Set("actor_org_id", stored.entry.actor_org_id);
                 item.Set("action", stored.entry.action);
                 item.Set("object_type", stored.entry.object_type);
                 item.Set("object_id", stored.entry.object_id);
                 item.Set("tlp", std::string(hub::ToString(stored.entry.tlp)));
                 item.Set("remote_address", stored.entry.remote_address);
                 item.Set("outcome", stored.entry.outcome);
                 auto detail = JsonValue::Parse(stored.entry.detail);
                 item.Set("detail", detail ? std::move(*detail) : JsonValue(stored.entry.detail));
                 item.Set("prev_hash", stored.prev_hash);
                 item.Set("hash", stored.hash);
                 items.Push(std::move(item));
               }
               context.audit.Record(hub::EntryFor(principal, "audit.read", "audit_log", "",
                                                  hub::Tlp::kRed));
               return ListResponse(items, next);
             }),
      RouteDoc{"The hash-chained audit log (centre_admin)", "audit", "", "AuditLogPage", true,
               {"limit", "cursor", "actor", "action"}});
}

}  // namespace yagura::http

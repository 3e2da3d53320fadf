// POST /api/v1/ingest: sensors deliver events as NDJSON, authenticated by a sensor token that
// names their organisation and logsource.
//
// Every line is checked on its own: a line that is not a JSON object is reported with its
// number and skipped, the others are accepted. Accepted events are wrapped in an envelope
// (pipeline/envelope.hpp) with the sensor's organisation and logsource (taken from the token,
// never from the event) and appended to the spool in one batch; only then does the sensor get 202, so an acknowledged event survives a
// crash. A full spool answers 503 with Retry-After and appends nothing: senders slow down, no
// event is dropped.
#include <fmt/format.h>

#include "core/json_writer.hpp"
#include "core/metrics.hpp"
#include "core/time.hpp"
#include "hub/sensors.hpp"
#include "http/api.hpp"
#include "pipeline/envelope.hpp"
#include "pipeline/ingest_queue.hpp"

namespace yagura::http {
namespace {

constexpr size_t MAX_LINE_BYTES = 1 << 20;
constexpr size_t MAX_REPORTED_ERRORS = 100;
constexpr const char* RETRY_AFTER_SECONDS = "5";

bool IsNdjsonType(std::string_view type) {
  type = type.substr(0, type.find(';'));
  while (!type.empty() && type.back() == ' ') type.remove_suffix(1);
  std::string lower(type);
  for (char& c : lower) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return lower == "application/x-ndjson" || lower == "application/json" ||
         lower == "application/jsonl";
}

Response Ingest(ApiContext& context, Request& request) {
  auto authorization = request.headers.Get("authorization");
  std::optional<hub::Sensor> sensor;
  if (authorization && authorization->starts_with("Bearer ")) {
    sensor = hub::AuthenticateSensor(context.database, authorization->substr(7));
  }
  if (!sensor) {
    context.metrics
        .GetCounter("yagura_ingest_unauthenticated_total",
                    "Ingest requests refused for a missing, unknown or revoked sensor token")
        .Increment();
    Response response = Response::Error(401, "unauthenticated", "send a valid sensor token");
    response.headers.Set("WWW-Authenticate", "Bearer realm=\"yagura-ingest\"");
    return response;
  }
  if (!IsNdjsonType(request.headers.Get("content-type").value_or(""))) {
    throw ApiError(415, "unsupported_media_type", "the body must be application/x-ndjson");
  }
  if (context.ingest == nullptr) {
    throw ApiError(503, "ingest_unavailable", "live ingest is not enabled on this server");
  }
  std::string received_at = FormatTimestampMs(NowMs());
  std::vector<std::string> records;
  std::string errors = "[";
  size_t rejected = 0;
  size_t line_number = 0;
  std::string_view body = request.body;
  while (!body.empty()) {
    size_t end = body.find('\n');
    std::string_view line = body.substr(0, end);
    body = end == std::string_view::npos ? std::string_view() : body.substr(end + 1);
    ++line_number;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) {
      line.remove_suffix(1);
    }
    if (line.empty()) continue;
    std::string problem;
    if (line.size() > MAX_LINE_BYTES) {
      problem = fmt::format("line of {} bytes exceeds the limit of {}", line.size(), MAX_LINE_BYTES);
    } else {
      auto parsed = JsonValue::Parse(line);
      if (!parsed) problem = parsed.error().message;
      else if (!parsed->is_object()) problem = "an event must be a JSON object";
    }
    if (!problem.empty()) {
      if (rejected++ < MAX_REPORTED_ERRORS) {
        if (errors.size() > 1) errors += ',';
        JsonWriter(errors).BeginObject().Key("line").Uint(line_number).Key("message").String(problem).EndObject();
      }
      continue;
    }
    std::string record;
    pipeline::Envelope envelope;
    envelope.kind = pipeline::PayloadKind::kJson;
    envelope.org_id = sensor->org_id;
    envelope.sensor_id = sensor->id;
    envelope.logsource = sensor->logsource;
    envelope.received_at = received_at;
    envelope.peer = request.remote_address;
    envelope.transport = "http";
    envelope.payload = line;
    pipeline::EncodeEnvelope(envelope, record);
    records.push_back(std::move(record));
  }
  errors += ']';
  // Per sensor (its name) and organisation, as the syslog listeners count theirs.
  MetricLabels labels = {{"org_id", sensor->org_id}, {"logsource", sensor->logsource},
                         {"sensor", sensor->name}};
  if (rejected > 0) {
    context.metrics
        .GetCounter("yagura_ingest_rejected_lines_total", "NDJSON lines refused, by organisation, logsource and sensor",
                    labels)
        .Increment(static_cast<double>(rejected));
  }
  if (records.empty()) {
    if (rejected == 0) throw ApiError(400, "empty_body", "the body holds no events");
    return Response::Json(400, fmt::format(R"({{"error":{{"status":400,"code":"no_valid_events","message":"no line is a valid event"}},"accepted":0,"rejected":{},"errors":{}}})",
                                           rejected, errors));
  }
  std::vector<std::string_view> views(records.begin(), records.end());
  Result<uint64_t> appended = context.ingest->Append(views);
  if (!appended) {
    bool full = appended.error().message == pipeline::IngestQueue::FULL;
    context.metrics
        .GetCounter("yagura_ingest_deferred_total",
                    "Ingest requests answered 503 (spool full or unwritable); senders retry")
        .Increment();
    if (!full) std::fprintf(stderr, "yagura: ingest spool: %s\n", appended.error().message.c_str());
    Response response = Response::Error(
        503, full ? "spool_full" : "ingest_unavailable",
        full ? "the centre is catching up; retry after the indicated delay"
             : "events cannot be stored right now; retry after the indicated delay");
    response.headers.Set("Retry-After", RETRY_AFTER_SECONDS);
    return response;
  }
  context.metrics
      .GetCounter("yagura_ingest_events_total", "Events accepted into the spool, by organisation, logsource and sensor",
                  labels)
      .Increment(static_cast<double>(records.size()));
  uint64_t last = *appended;
  uint64_t first = last + 1 - records.size();
  return Response::Json(202, fmt::format(R"({{"accepted":{},"rejected":{},"first_seq":{},"last_seq":{},"errors":{}}})",
                                         records.size(), rejected, first, last, errors));
}

JsonValue SensorJson(const hub::Sensor& sensor) {
  JsonValue json = JsonValue::MakeObject();
  json.Set("id", sensor.id);
  json.Set("org_id", sensor.org_id);
  json.Set("name", sensor.name);
  json.Set("logsource", sensor.logsource);
  json.Set("created_at", FormatTimestampMs(sensor.created_at));
  json.Set("revoked_at", sensor.revoked_at ? JsonValue(FormatTimestampMs(*sensor.revoked_at)) : JsonValue());
  return json;
}

}  // namespace

void RegisterIngestRoutes(Router& router, ApiContext& context) {
  context.schemas.Set(
      "Sensor",
      JsonValue::Parse(
          R"({"type":"object","properties":{"id":{"type":"string"},"org_id":{"type":"string"},)"
          R"("name":{"type":"string"},"logsource":{"type":"string"},"created_at":{"type":"string"},)"
          R"("revoked_at":{"type":["string","null"]},"token":{"type":"string"}}})")
          .value());
  context.schemas.Set(
      "SensorCreate",
      JsonValue::Parse(
          R"({"type":"object","additionalProperties":false,"required":["org_id","name","logsource"],)"
          R"("properties":{"org_id":{"type":"string","maxLength":64},"name":{"type":"string","minLength":1,"maxLength":100},)"
          R"("logsource":{"type":"string","maxLength":200,"description":"product=...,category=...,service=..."}}})")
          .value());
  context.schemas.Set(
      "SensorList",
      JsonValue::Parse(R"({"type":"object","properties":{"items":{"type":"array","items":{"$ref":"#/components/schemas/Sensor"}},"next_cursor":{"type":["string","null"]}}})")
          .value());
  router.Add("POST", "/api/v1/sensors",
             Authed(context,
                    [&context](Request& request, const hub::Principal& principal) {
                      JsonValue body = ParseJsonBody(request);
                      Fields fields(body);
                      std::string org_id = fields.String("org_id", 1, 64);
                      std::string name = fields.String("name", 1, 100);
                      std::string logsource = fields.String("logsource", 1, 200);
                      fields.Finish();
                      if (!hub::can::ManageUsersOf(principal, org_id)) {
                        ThrowForbidden("only the centre's or the organisation's administrators "
                                       "create sensor tokens");
                      }
                      auto created = hub::CreateSensorToken(context.database, principal, org_id,
                                                            name, logsource, NowMs());
                      if (!created) {
                        bool missing = created.error().message.find("does not exist") != std::string::npos;
                        ThrowBadRequest(created.error().message, missing ? "org_id" : "logsource");
                      }
                      JsonValue json = SensorJson(created->sensor);
                      json.Set("token", created->secret);
                      return Response::Json(201, json.Serialize());
                    }),
             RouteDoc{"Create a sensor token (returned once)", "ingest", "SensorCreate", "Sensor",
                      true, {}});
  router.Add("GET", "/api/v1/sensors",
             Authed(context,
                    [&context](Request& request, const hub::Principal& principal) {
                      std::string org_id(request.Query("org_id").value_or(principal.org_id));
                      if (!hub::can::ManageUsersOf(principal, org_id)) {
                        ThrowForbidden("only administrators list sensor tokens");
                      }
                      JsonValue items = JsonValue::MakeArray();
                      for (const auto& sensor : hub::ListSensors(context.database, org_id)) {
                        items.Push(SensorJson(sensor));
                      }
                      return ListResponse(items, "");
                    }),
             RouteDoc{"An organisation's sensors (never their tokens)", "ingest", "", "SensorList",
                      true, {"org_id"}});
  router.Add("DELETE", "/api/v1/sensors/{id}",
             Authed(context,
                    [&context](Request& request, const hub::Principal& principal) {
                      auto revoked = hub::RevokeSensorToken(context.database, principal,
                                                            request.PathParam("id"), NowMs());
                      if (!revoked) ThrowNotFound("sensor");
                      return Response::Json(200, R"({"revoked":true})");
                    }),
             RouteDoc{"Revoke a sensor token", "ingest", "", "", true, {}});
  context.schemas.Set(
      "IngestResult",
      JsonValue::Parse(
          R"({"type":"object","properties":{"accepted":{"type":"integer"},"rejected":{"type":"integer"},)"
          R"("first_seq":{"type":"integer"},"last_seq":{"type":"integer"},)"
          R"("errors":{"type":"array","items":{"type":"object","properties":{"line":{"type":"integer"},)"
          R"("message":{"type":"string"}}}}}})")
          .value());
  router.Add("POST", "/api/v1/ingest",
             Public(context, [&context](Request& request) { return Ingest(context, request); }),
             RouteDoc{"Send events as NDJSON with a sensor token (202 once they are in the spool; "
                      "503 with Retry-After when the spool is full)",
                      "ingest", "", "IngestResult", true, {}});
}

}  // namespace yagura::http

// The event store's routes: raw events as sensors sent them, for investigations.
//
//   GET  /api/v1/events                      events by organisation, host, window and text
//   POST /api/v1/cases/{id}/timeline/events  the same events copied into a case's timeline
//
// Who reads whose raw events is the access policy's (hub::ReadRawEvents and
// RawEventOrganizations): the centre's duty officers, analysts and investigators every
// organisation's, an organisation's administrators and reporters their own. Raw events are
// the organisations' data, marked TLP:AMBER as their alerts are, so every page read is audited
// with the sequence numbers it showed.
//
// A case keeps its own copy: the store forgets events after its retention, a case's timeline
// does not. The copy is an ordinary timeline import (all or nothing, removable by a lead), in
// Timesketch's form, so its entries read, filter and export like a hunt's.
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <string>
#include <vector>

#include "core/json_value.hpp"
#include "core/time.hpp"
#include "core/utf8.hpp"
#include "http/api.hpp"
#include "http/hub_errors.hpp"
#include "http/json_forms.hpp"
#include "hub/audit_log.hpp"
#include "hub/case_timeline.hpp"
#include "hub/policy.hpp"
#include "pipeline/event_store.hpp"

namespace yagura::http {
namespace {

constexpr std::string_view TAG = "events";
constexpr size_t MAX_HOST_BYTES = 256;
constexpr size_t MAX_TEXT_BYTES = 256;
constexpr int64_t DEFAULT_CASE_LIMIT = 10'000;
constexpr size_t MESSAGE_CODE_POINTS = 300;

std::string_view KindName(pipeline::PayloadKind kind) {
  switch (kind) {
    case pipeline::PayloadKind::kJson:
      return "json";
    case pipeline::PayloadKind::kSyslog:
      return "syslog";
    case pipeline::PayloadKind::kLine:
      return "line";
  }
  return "line";
}

pipeline::EventStore& StoreOf(ApiContext& context) {
  if (context.events == nullptr) {
    throw ApiError(503, "events_unavailable",
                   "this server keeps no raw events (detection is off, or event_retention is 0)");
  }
  return *context.events;
}

void RequireReader(const hub::Principal& principal) {
  if (!hub::can::ReadRawEvents(principal)) ThrowForbidden("you may not read raw events");
}

// Plain text: no control characters but tab, valid UTF-8, at most `max` bytes.
std::string PlainText(std::string_view text, std::string_view field, size_t max) {
  const bool plain = !text.empty() && text.size() <= max && ValidUtf8(text) &&
                     std::none_of(text.begin(), text.end(), [](char c) {
                       return (static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f;
                     });
  if (!plain) {
    ThrowBadRequest(fmt::format("{} must be plain text of 1 to {} bytes", field, max),
                    std::string(field));
  }
  return std::string(text);
}

// The organisations a query may return: the policy's scope, narrowed by org_id when asked.
// An organisation outside the scope gives nothing, as the lists of alerts do.
std::vector<std::string> Scope(const hub::Principal& principal,
                               const std::optional<std::string>& org_id, bool& nothing) {
  std::vector<std::string> scope = hub::can::RawEventOrganizations(principal);
  nothing = false;
  if (!org_id) return scope;
  if (!scope.empty() && std::find(scope.begin(), scope.end(), *org_id) == scope.end()) {
    nothing = true;
  }
  return {*org_id};
}

}  // namespace

JsonValue StoredEventJson(const pipeline::StoredEvent& event) {
  JsonValue json = JsonValue::MakeObject();
  json.Set("seq", static_cast<int64_t>(event.seq));
  json.Set("time", Time(event.time_ms));
  json.Set("received_at", event.received_at);
  json.Set("org_id", event.org_id);
  json.Set("host", event.host.empty() ? JsonValue() : JsonValue(event.host));
  json.Set("sensor_id", event.sensor_id);
  json.Set("logsource", event.logsource.empty() ? JsonValue() : JsonValue(event.logsource));
  json.Set("transport", event.transport);
  json.Set("peer", event.peer);
  json.Set("kind", KindName(event.kind));
  // The bytes as the sensor sent them; a JSON event also as JSON, for clients that read it.
  json.Set("payload", ValidUtf8(event.payload) ? event.payload : std::string());
  JsonValue parsed;
  if (event.kind != pipeline::PayloadKind::kSyslog) {
    if (auto value = JsonValue::Parse(event.payload); value && value->is_object())
      parsed = std::move(*value);
  }
  json.Set("event", std::move(parsed));
  json.Set("tlp", "amber");
  return json;
}

namespace {

void AuditEvents(ApiContext& context, const hub::Principal& principal, std::string action,
                 std::string object_id, const std::vector<pipeline::StoredEvent>& events) {
  if (events.empty()) return;
  hub::AuditEntry entry =
      hub::EntryFor(principal, std::move(action), "event", std::move(object_id), hub::Tlp::kAmber);
  JsonValue detail = JsonValue::MakeObject();
  JsonValue seqs = JsonValue::MakeArray();
  for (const auto& event : events) seqs.Push(static_cast<int64_t>(event.seq));
  detail.Set("seqs", std::move(seqs));
  entry.detail = detail.Serialize();
  context.audit.Record(std::move(entry));
}

Response ListEventsHandler(ApiContext& context, Request& request, const hub::Principal& principal) {
  RequireReader(principal);
  pipeline::EventStore& store = StoreOf(context);
  PageRequest page = ReadPage(request);
  pipeline::EventQuery query;
  bool nothing = false;
  query.org_ids = Scope(principal, QueryId(request, "org_id"), nothing);
  if (auto host = request.Query("host")) query.host = PlainText(*host, "host", MAX_HOST_BYTES);
  if (auto text = request.Query("text")) query.text = PlainText(*text, "text", MAX_TEXT_BYTES);
  query.from = QueryTime(request, "from");
  query.to = QueryTime(request, "to");
  if (query.from && query.to && *query.from >= *query.to)
    ThrowBadRequest("from must be before to", "from");
  if (!page.cursor.empty()) {
    auto [time, seq] = DecodeCursor(page.cursor);
    uint64_t number = 0;
    auto [end, ec] = std::from_chars(seq.data(), seq.data() + seq.size(), number);
    if (ec != std::errc() || end != seq.data() + seq.size())
      ThrowBadRequest("cursor is damaged", "cursor");
    query.after = std::make_pair(time, number);
  }
  query.limit = static_cast<size_t>(page.limit);
  pipeline::EventPage found;
  if (!nothing) {
    auto result = store.Query(query);
    if (!result) throw std::runtime_error(result.error().message);
    found = std::move(*result);
  }
  JsonValue items = JsonValue::MakeArray();
  for (const auto& event : found.events) items.Push(StoredEventJson(event));
  AuditEvents(context, principal, "event.list", "", found.events);
  std::string next;
  if (found.more) {
    const auto& last = found.events.back();
    next = EncodeCursor(last.time_ms, std::to_string(last.seq));
  }
  return ListResponse(items, next);
}

}  // namespace

std::string StoredEventTimesketchLine(const pipeline::StoredEvent& event) {
  JsonValue line = JsonValue::MakeObject();
  // The event's first line, its blanks folded, as Timesketch's message.
  std::string message;
  bool blank = false;
  for (char c : event.payload) {
    const bool space = c == ' ' || c == '\t' || c == '\n' || c == '\r';
    if (space) {
      blank = !message.empty();
      continue;
    }
    if (blank) message.push_back(' ');
    blank = false;
    message.push_back(c);
    if (message.size() > MESSAGE_CODE_POINTS * 4) break;
  }
  if (!ValidUtf8(message)) message = fmt::format("event {} (not UTF-8)", event.seq);
  if (message.empty()) message = fmt::format("event {}", event.seq);
  line.Set("message", message);
  line.Set("datetime", FormatTimestampMs(event.time_ms));
  line.Set("timestamp", event.time_ms * 1000);
  line.Set("timestamp_desc", "Event time");
  line.Set("data_type", "yagura:event");
  if (!event.host.empty()) line.Set("host", event.host);
  line.Set("source_file", fmt::format("sensor {}", event.sensor_id));
  line.Set("source_record", std::to_string(event.seq));
  line.Set("org_id", event.org_id);
  if (!event.logsource.empty()) line.Set("logsource", event.logsource);
  line.Set("received_at", event.received_at);
  line.Set("transport", event.transport);
  line.Set("payload", ValidUtf8(event.payload) ? event.payload : std::string());
  return line.Serialize();
}

namespace {

Response AddEventsToCaseHandler(ApiContext& context, Request& request,
                                const hub::Principal& principal) {
  RequireReader(principal);
  pipeline::EventStore& store = StoreOf(context);
  JsonValue body = ParseJsonBody(request);
  Fields fields(body);
  pipeline::EventQuery query;
  query.from = fields.Time("from");
  query.to = fields.Time("to");
  if (auto host = fields.OptionalString("host", MAX_HOST_BYTES))
    query.host = PlainText(*host, "host", MAX_HOST_BYTES);
  if (auto text = fields.OptionalString("text", MAX_TEXT_BYTES))
    query.text = PlainText(*text, "text", MAX_TEXT_BYTES);
  std::optional<std::string> org_id = fields.OptionalString("org_id", 64);
  const int64_t limit =
      fields.OptionalInt("limit", 1, static_cast<int64_t>(hub::TIMELINE_IMPORT_MAX))
          .value_or(DEFAULT_CASE_LIMIT);
  fields.Finish();
  if (*query.from >= *query.to) ThrowBadRequest("from must be before to", "from");
  bool nothing = false;
  query.org_ids = Scope(principal, org_id, nothing);
  query.limit = static_cast<size_t>(limit);
  pipeline::EventPage found;
  if (!nothing) {
    auto result = store.Query(query);
    if (!result) throw std::runtime_error(result.error().message);
    found = std::move(*result);
  }
  if (found.more) {
    ThrowBadRequest(fmt::format("more than {} stored events match: narrow the window, the host or "
                                "the text, or raise limit (at most {})",
                                limit, hub::TIMELINE_IMPORT_MAX),
                    "limit");
  }
  if (found.events.empty()) {
    throw ApiError(404, "no_events", "no stored event you may read matches", "");
  }
  std::string text;
  for (const auto& event : found.events) {
    text += StoredEventTimesketchLine(event);
    text.push_back('\n');
  }
  std::string source = "event store";
  if (query.host) source += ", host " + *query.host;
  if (query.text) source += ", text \"" + *query.text + "\"";
  if (org_id) source += ", organisation " + *org_id;
  source += fmt::format(", {} to {}", FormatTimestampMs(*query.from), FormatTimestampMs(*query.to));
  std::string id(request.PathParam("id"));
  hub::TimelineImport import = context.database.Transact([&](store::Connection& connection) {
    return Unwrap(hub::ImportTimeline(connection, principal, id, source, text, NowMs()));
  });
  // What the events were is now in the case (audited as the case's); which ones were read
  // from the store is audited here.
  AuditEvents(context, principal, "event.copy_to_case", id, found.events);
  JsonValue json = TimelineImportResultJson(import);
  json.Set("blocks_read", static_cast<int64_t>(found.blocks_read));
  return JsonResponse(201, json);
}

void AddSchemas(ApiContext& context) {
  RegisterSchema(
      context, "StoredEvent",
      R"({"type":"object","required":["seq","time","received_at","org_id","host","sensor_id",)"
      R"("logsource","transport","peer","kind","payload","event","tlp"],"properties":{)"
      R"("seq":{"type":"integer","description":"the event's position in the ingest spool; )"
      R"(alerts name it as spool_seq"},)"
      R"("time":{"type":"string","format":"date-time","description":"the event's own time, )"
      R"(or its arrival when it has none"},)"
      R"("received_at":{"type":"string","format":"date-time"},)"
      R"("org_id":{"type":"string"},"host":{"type":["string","null"]},)"
      R"("sensor_id":{"type":"string"},"logsource":{"type":["string","null"]},)"
      R"("transport":{"enum":["http","udp","tcp","tls","file"]},"peer":{"type":"string"},)"
      R"("kind":{"enum":["json","syslog","line"]},)"
      R"("payload":{"type":"string","description":"the event as the sensor sent it"},)"
      R"("event":{"type":["object","null"],"description":"a JSON event, parsed"},)"
      R"("tlp":{"const":"amber"}}})");
  RegisterSchema(context, "StoredEventList",
                 R"({"type":"object","required":["items","next_cursor"],"properties":{)"
                 R"("items":{"type":"array","items":{"$ref":"#/components/schemas/StoredEvent"}},)"
                 R"("next_cursor":{"type":["string","null"]}}})");
  RegisterSchema(
      context, "CaseEventsCopy",
      R"({"type":"object","required":["from","to"],"additionalProperties":false,"properties":{)"
      R"("from":{"type":"string","format":"date-time"},"to":{"type":"string","format":"date-time"},)"
      R"("host":{"type":"string","maxLength":256},"text":{"type":"string","maxLength":256},)"
      R"("org_id":{"type":"string"},)"
      R"("limit":{"type":"integer","minimum":1,"maximum":200000,"description":"at most this )"
      R"(many events (10,000 by default); more matching is refused, not cut"}}})");
}

RouteDoc Doc(std::string summary, std::string request_schema, std::string response_schema,
             std::vector<std::string> query = {}) {
  return DocumentRoute(TAG, std::move(summary), std::move(request_schema),
                       std::move(response_schema), std::move(query));
}

}  // namespace

void RegisterEventRoutes(Router& router, ApiContext& context) {
  AddSchemas(context);
  auto bind = [&context](ContextHandler handler) { return BindAuthed(context, handler); };
  router.Add(
      "GET", "/api/v1/events", bind(ListEventsHandler),
      Doc("Raw events the service received, by event time then spool position: host "
          "(any case), text (in the event, any case), from/to bound the event time; "
          "the centre's staff read every organisation's, an organisation its own",
          "", "StoredEventList", {"org_id", "host", "text", "from", "to", "limit", "cursor"}));
  router.Add("POST", "/api/v1/cases/{id}/timeline/events", bind(AddEventsToCaseHandler),
             Doc("Copy the stored events of a window (and host, text) into the case's timeline "
                 "as one import; more than limit matching is refused",
                 "CaseEventsCopy", "TimelineImport"));
}

}  // namespace yagura::http

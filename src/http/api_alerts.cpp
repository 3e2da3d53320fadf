// Alert and campaign routes under /api/v1/alerts and /api/v1/campaigns: live GSOC triage.
//
// Handlers only translate, as the other resources do: query parameters and bodies are
// validated here (unknown members, types, enumerations, lengths — always naming the field),
// hub/alerts.hpp decides with the policy and writes inside the one Database::Transact of the
// request together with its audit entry, and the result becomes JSON. Hub refusals map to
// invalid 400, forbidden 403, not found (or not readable) 404, conflict 409. Every alert is
// TLP:AMBER, so every read is audited: one "alert.read" per single read, one "alert.list" per
// page naming its ids; campaigns likewise ("campaign.read", "campaign.list").
//
// A body is optional for acknowledge and reopen (nothing to say), but when one is sent it must
// be an empty JSON object: a request that carries something we would ignore is refused.
#include <fmt/format.h>

#include <algorithm>
#include <string>

#include "core/json_value.hpp"
#include "core/json_writer.hpp"
#include "core/time.hpp"
#include "http/api.hpp"
#include "http/hub_errors.hpp"
#include "http/json_forms.hpp"
#include "hub/alerts.hpp"
#include "hub/incidents.hpp"
#include "hub/policy.hpp"

namespace yagura::http {
namespace {

constexpr std::string_view TAG = "alerts";
constexpr std::string_view ALERTS = "/api/v1/alerts";
constexpr std::string_view CAMPAIGNS = "/api/v1/campaigns";
constexpr size_t ID_MAX = 64;

// The group of a correlation (its group-by values as JSON) or a campaign's key (text).
JsonValue GroupJson(const std::string& group_key) {
  if (group_key.empty()) return JsonValue();
  if (group_key.front() == '{' || group_key.front() == '[') {
    if (auto parsed = JsonValue::Parse(group_key)) return std::move(*parsed);
  }
  return JsonValue(group_key);
}

// `technique_index` is TechniqueIndex() over (at least) the alert's techniques.
JsonValue AlertJson(const hub::Alert& alert, bool with_details, const JsonValue& technique_index) {
  JsonValue json = JsonValue::MakeObject();
  json.Set("id", alert.id);
  json.Set("kind", alert.kind);
  json.Set("org_id", alert.org_id);
  JsonValue rule = JsonValue::MakeObject();
  rule.Set("id", alert.rule_id);
  rule.Set("title", alert.title);
  rule.Set("level", alert.level);
  json.Set("rule", std::move(rule));
  json.Set("techniques", Strings(alert.techniques));
  json.Set("techniques_resolved", ResolvedTechniquesJson(technique_index, alert.techniques));
  json.Set("tags", Strings(alert.tags));
  json.Set("event_time", Time(alert.event_time));
  json.Set("occurrences", alert.occurrences);
  json.Set("last_event_time", Time(alert.last_event_time));
  json.Set("detected_at", Time(alert.detected_at));
  json.Set("logsource", alert.logsource);
  json.Set("sensor_id", alert.sensor_id);
  json.Set("spool_seq", alert.spool_seq);
  json.Set("group", GroupJson(alert.group_key));
  json.Set("campaign_id", alert.campaign_id.empty() ? JsonValue() : JsonValue(alert.campaign_id));
  json.Set("status", std::string(hub::ToString(alert.status)));
  json.Set("resolution", OptionalText(alert.resolution));
  json.Set("reason", OptionalText(alert.reason));
  json.Set("assignee_id", OptionalText(alert.assignee_id));
  json.Set("incident_id", OptionalText(alert.incident_id));
  json.Set("acknowledged_by", OptionalText(alert.acknowledged_by));
  json.Set("acknowledged_at", OptionalTime(alert.acknowledged_at));
  json.Set("closed_by", OptionalText(alert.closed_by));
  json.Set("closed_at", OptionalTime(alert.closed_at));
  json.Set("tlp", "amber");
  json.Set("owner_org_id", alert.org_id);
  json.Set("author_id", "system");
  if (with_details) {
    auto details = JsonValue::Parse(alert.details);
    json.Set("details", details && details->is_object() ? std::move(*details) : JsonValue());
  }
  json.Set("created_at", Time(alert.created_at));
  json.Set("updated_at", Time(alert.updated_at));
  return json;
}

// One alert as a triage route answers it, its techniques resolved on a connection of its own
// (the write's transaction has committed).
JsonValue ResolvedAlertJson(ApiContext& context, const hub::Alert& alert) {
  auto connection = context.database.Acquire();
  return AlertJson(alert, true, TechniqueIndex(*connection, alert.techniques));
}

JsonValue CampaignJson(const hub::Campaign& campaign, bool with_members) {
  JsonValue json = JsonValue::MakeObject();
  json.Set("id", campaign.id);
  JsonValue key = JsonValue::MakeObject();
  key.Set("kind", campaign.key_kind);
  key.Set("id", campaign.key_id);
  key.Set("value", campaign.key_value);
  json.Set("key", std::move(key));
  json.Set("title", campaign.title);
  json.Set("first_time", Time(campaign.first_time));
  json.Set("last_time", Time(campaign.last_time));
  json.Set("org_count", campaign.org_count);
  json.Set("status", campaign.status);
  json.Set("tlp", "amber");
  if (with_members) {
    JsonValue members = JsonValue::MakeArray();
    for (const auto& member : campaign.members) {
      JsonValue item = JsonValue::MakeObject();
      item.Set("org_id", member.org_id);
      item.Set("alert_id", member.alert_id);
      item.Set("first_time", Time(member.first_time));
      members.Push(std::move(item));
    }
    json.Set("members", std::move(members));
    json.Set("alert_ids", Strings(campaign.alert_ids));
  }
  json.Set("created_at", Time(campaign.created_at));
  json.Set("updated_at", Time(campaign.updated_at));
  return json;
}

// ---- query parameters
// ----------------------------------------------------------------------------

// "T1110" or "T1110.001", any case.
std::optional<std::string> QueryTechnique(const Request& request) {
  auto value = request.Query("technique");
  if (!value) return std::nullopt;
  std::string text(*value);
  for (char& c : text) c = (c == 't') ? 'T' : c;
  auto digits = [&](size_t from, size_t count) {
    return text.size() >= from + count &&
           std::all_of(text.begin() + static_cast<long>(from),
                       text.begin() + static_cast<long>(from + count),
                       [](char c) { return c >= '0' && c <= '9'; });
  };
  bool valid = (text.size() == 5 || text.size() == 9) && text[0] == 'T' && digits(1, 4) &&
               (text.size() == 5 || (text[5] == '.' && digits(6, 3)));
  if (!valid) {
    ThrowBadRequest("technique must be an ATT&CK technique id such as T1110 or T1110.001",
                    "technique");
  }
  return text;
}

hub::AlertFilter ReadFilter(const Request& request) {
  hub::AlertFilter filter;
  filter.org_id = QueryId(request, "org_id");
  if (auto level = QueryEnum(request, "level", hub::AlertLevelNames())) {
    filter.level_min = hub::AlertLevelRank(*level);
  }
  if (auto rule = request.Query("rule_id")) {
    // A rule id, or the title naming a correlation rule that has none.
    bool plain = !rule->empty() && rule->size() <= 256 &&
                 std::none_of(rule->begin(), rule->end(), [](char c) {
                   return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
                 });
    if (!plain)
      ThrowBadRequest("rule_id must be a rule id or title (at most 256 bytes)", "rule_id");
    filter.rule_id = std::string(*rule);
  }
  filter.technique = QueryTechnique(request);
  filter.kind = QueryEnum(request, "kind", hub::AlertKindNames());
  if (auto status = QueryEnum(request, "status", hub::AlertStatusNames())) {
    filter.status = hub::ParseAlertStatus(*status);
  }
  filter.campaign_id = QueryId(request, "campaign_id");
  filter.since = QueryTime(request, "since");
  filter.until = QueryTime(request, "until");
  filter.assignee_id = QueryId(request, "assignee_id");
  filter.incident_id = QueryId(request, "incident_id");
  return filter;
}

std::optional<std::pair<int64_t, std::string>> CursorOf(const PageRequest& page) {
  if (page.cursor.empty()) return std::nullopt;
  return DecodeCursor(page.cursor);
}

// An optional body that must say nothing: empty, or {}.
void RequireEmptyBody(const Request& request) {
  if (request.body.empty()) return;
  JsonValue body = ParseJsonBody(request);
  Fields(body).Finish();
}

void AuditList(ApiContext& context, const hub::Principal& principal, std::string action,
               std::string object_type, const std::vector<std::string>& ids) {
  if (ids.empty()) return;
  hub::AuditEntry entry =
      hub::EntryFor(principal, std::move(action), std::move(object_type), "", hub::Tlp::kAmber);
  JsonValue detail = JsonValue::MakeObject();
  detail.Set("ids", Strings(ids));
  entry.detail = detail.Serialize();
  context.audit.Record(std::move(entry));
}

// ---- handlers
// ------------------------------------------------------------------------------------

Response ListAlertsHandler(ApiContext& context, Request& request, const hub::Principal& principal) {
  hub::AlertFilter filter = ReadFilter(request);
  PageRequest page = ReadPage(request);
  auto before = CursorOf(page);
  auto [result, technique_index] = [&] {
    auto connection = context.database.Acquire();
    hub::AlertPage found = hub::ListAlerts(*connection, principal, filter, before, page.limit);
    std::vector<std::string> techniques;
    for (const auto& alert : found.items) {
      techniques.insert(techniques.end(), alert.techniques.begin(), alert.techniques.end());
    }
    JsonValue index = TechniqueIndex(*connection, techniques);
    return std::make_pair(std::move(found), std::move(index));
  }();
  JsonValue items = JsonValue::MakeArray();
  std::vector<std::string> ids;
  for (const auto& alert : result.items) {
    items.Push(AlertJson(alert, false, technique_index));
    ids.push_back(alert.id);
  }
  AuditList(context, principal, "alert.list", "alert", ids);
  std::string next;
  if (result.more) next = EncodeCursor(result.items.back().event_time, result.items.back().id);
  return ListResponse(items, next);
}

Response GetAlertHandler(ApiContext& context, Request& request, const hub::Principal& principal) {
  auto [alert, technique_index] = [&] {
    auto connection = context.database.Acquire();
    hub::Alert found = Unwrap(hub::GetAlert(*connection, principal, request.PathParam("id")));
    JsonValue index = TechniqueIndex(*connection, found.techniques);
    return std::make_pair(std::move(found), std::move(index));
  }();
  AuditRead(context, principal, "alert", alert.id, hub::Tlp::kAmber);
  return JsonResponse(200, AlertJson(alert, true, technique_index));
}

Response AcknowledgeHandler(ApiContext& context, Request& request,
                            const hub::Principal& principal) {
  RequireEmptyBody(request);
  std::string id(request.PathParam("id"));
  hub::Alert alert = context.database.Transact([&](store::Connection& connection) {
    return Unwrap(hub::AcknowledgeAlert(connection, principal, id, NowMs()));
  });
  return JsonResponse(200, ResolvedAlertJson(context, alert));
}

Response AssignHandler(ApiContext& context, Request& request, const hub::Principal& principal) {
  JsonValue body = ParseJsonBody(request);
  Fields fields(body);
  if (body.Find("assignee_id") == nullptr) {
    ThrowBadRequest("assignee_id is required (null removes the assignee)", "assignee_id");
  }
  std::optional<std::string> assignee;
  if (fields.Has("assignee_id")) {
    assignee = fields.String("assignee_id", 1, ID_MAX);
  } else {
    fields.OptionalString("assignee_id", ID_MAX);  // null: marks the member as known
  }
  fields.Finish();
  std::string id(request.PathParam("id"));
  hub::Alert alert = context.database.Transact([&](store::Connection& connection) {
    return Unwrap(hub::AssignAlert(connection, principal, id, assignee, NowMs()));
  });
  return JsonResponse(200, ResolvedAlertJson(context, alert));
}

Response CloseHandler(ApiContext& context, Request& request, const hub::Principal& principal) {
  JsonValue body = ParseJsonBody(request);
  Fields fields(body);
  std::string resolution = fields.Enum("resolution", hub::AlertResolutionNames());
  std::string reason = fields.OptionalString("reason", hub::ALERT_REASON_MAX).value_or("");
  fields.Finish();
  std::string id(request.PathParam("id"));
  hub::Alert alert = context.database.Transact([&](store::Connection& connection) {
    return Unwrap(hub::CloseAlert(connection, principal, id, resolution, reason, NowMs()));
  });
  return JsonResponse(200, ResolvedAlertJson(context, alert));
}

Response ReopenHandler(ApiContext& context, Request& request, const hub::Principal& principal) {
  RequireEmptyBody(request);
  std::string id(request.PathParam("id"));
  hub::Alert alert = context.database.Transact([&](store::Connection& connection) {
    return Unwrap(hub::ReopenAlert(connection, principal, id, NowMs()));
  });
  return JsonResponse(200, ResolvedAlertJson(context, alert));
}

Response PromoteHandler(ApiContext& context, Request& request, const hub::Principal& principal) {
  hub::PromoteOverrides overrides;
  if (!request.body.empty()) {
    JsonValue body = ParseJsonBody(request);
    Fields fields(body);
    if (fields.Has("title")) overrides.title = fields.String("title", 1, hub::INCIDENT_TITLE_MAX);
    overrides.category = fields.OptionalEnum("category", hub::IncidentCategoryNames());
    if (auto tlp = fields.OptionalEnum("tlp", hub::TlpNames())) overrides.tlp = hub::ParseTlp(*tlp);
    if (fields.Has("summary")) {
      overrides.summary = fields.String("summary", 1, hub::INCIDENT_DESCRIPTION_MAX);
    }
    if (const JsonValue* object = fields.Object("point_of_contact")) {
      Fields contact(*object, "point_of_contact");
      hub::PointOfContact poc;
      poc.name = contact.String("name", 1, 200);
      std::optional<std::string> email = contact.OptionalEmail("email");
      if (!email) ThrowBadRequest("point_of_contact.email is required", "point_of_contact.email");
      poc.email = *email;
      poc.phone = contact.OptionalString("phone", 50);
      contact.Finish();
      overrides.point_of_contact = std::move(poc);
    }
    fields.Finish();
  }
  std::string id(request.PathParam("id"));
  JsonValue json = context.database.Transact([&](store::Connection& connection) {
    hub::Incident incident =
        Unwrap(hub::PromoteAlert(connection, principal, id, overrides, NowMs()));
    hub::Incident stored = Unwrap(hub::GetIncident(connection, principal, incident.id));
    return IncidentJsonFor(connection, principal, stored);
  });
  Response response = JsonResponse(201, json);
  const JsonValue* incident_id = json.Find("id");
  if (incident_id != nullptr && incident_id->is_string()) {
    response.headers.Set("Location", "/api/v1/incidents/" + incident_id->as_string());
  }
  return response;
}

Response AttachHandler(ApiContext& context, Request& request, const hub::Principal& principal) {
  JsonValue body = ParseJsonBody(request);
  Fields fields(body);
  std::string incident_id = fields.String("incident_id", 1, ID_MAX);
  fields.Finish();
  std::string id(request.PathParam("id"));
  hub::Alert alert = context.database.Transact([&](store::Connection& connection) {
    return Unwrap(hub::AttachAlert(connection, principal, id, incident_id, NowMs()));
  });
  return JsonResponse(200, ResolvedAlertJson(context, alert));
}

Response ListCampaignsHandler(ApiContext& context, Request& request,
                              const hub::Principal& principal) {
  PageRequest page = ReadPage(request);
  auto before = CursorOf(page);
  hub::CampaignPage result = [&] {
    auto connection = context.database.Acquire();
    return hub::ListCampaigns(*connection, principal, before, page.limit);
  }();
  JsonValue items = JsonValue::MakeArray();
  std::vector<std::string> ids;
  for (const auto& campaign : result.items) {
    items.Push(CampaignJson(campaign, false));
    ids.push_back(campaign.id);
  }
  AuditList(context, principal, "campaign.list", "campaign", ids);
  std::string next;
  if (result.more) next = EncodeCursor(result.items.back().created_at, result.items.back().id);
  return ListResponse(items, next);
}

Response GetCampaignHandler(ApiContext& context, Request& request,
                            const hub::Principal& principal) {
  hub::Campaign campaign = [&] {
    auto connection = context.database.Acquire();
    return Unwrap(hub::GetCampaign(*connection, principal, request.PathParam("id")));
  }();
  AuditRead(context, principal, "campaign", campaign.id, hub::Tlp::kAmber);
  return JsonResponse(200, CampaignJson(campaign, true));
}

// ---- schemas
// -------------------------------------------------------------------------------------

std::string EnumJson(std::span<const std::string_view> names, bool nullable = false) {
  std::string text = "[";
  for (auto name : names) {
    if (text.size() > 1) text += ',';
    AppendJsonString(text, name);
  }
  if (nullable) text += ",null";
  return text + "]";
}

void AddSchema(ApiContext& context, std::string_view name, std::string text) {
  auto replace = [&](std::string_view from, const std::string& to) {
    for (size_t at = text.find(from); at != std::string::npos;
         at = text.find(from, at + to.size())) {
      text.replace(at, from.size(), to);
    }
  };
  replace("@TIME@", R"({"type":"string","format":"date-time"})");
  replace("@TIME_NULL@", R"({"type":["string","null"],"format":"date-time"})");
  replace("@STATUSES@", EnumJson(hub::AlertStatusNames()));
  replace("@KINDS@", EnumJson(hub::AlertKindNames()));
  replace("@RESOLUTIONS_NULL@", EnumJson(hub::AlertResolutionNames(), true));
  replace("@RESOLUTIONS@", EnumJson(hub::AlertResolutionNames()));
  replace("@CATEGORIES@", EnumJson(hub::IncidentCategoryNames()));
  replace("@TLPS@", EnumJson(hub::TlpNames()));
  RegisterSchema(context, name, text);
}

void AddSchemas(ApiContext& context) {
  AddSchema(context, "Alert", R"json({"type":"object",
    "required":["id","kind","org_id","rule","techniques","tags","event_time","detected_at",
                "logsource","sensor_id","group","campaign_id","status","resolution","reason",
                "assignee_id","incident_id","tlp","owner_org_id","created_at","updated_at"],
    "properties":{"id":{"type":"string"},"kind":{"enum":@KINDS@},
      "org_id":{"type":"string","description":"whose events raised it; the centre's organisation for campaign alerts"},
      "rule":{"type":"object","required":["id","title","level"],"properties":{
        "id":{"type":"string","description":"Sigma rule, correlation rule or indicator id"},
        "title":{"type":"string"},"level":{"type":"string","description":"informational, low, medium, high or critical"}}},
      "techniques":{"type":"array","items":{"type":"string"},"description":"MITRE ATT&CK technique ids"},
      "techniques_resolved":{"type":"array","description":"the techniques with the ATT&CK catalogue's names and tactics; name null when the catalogue lacks the id",
        "items":{"type":"object","required":["id","known","name","tactics"],"properties":{
          "id":{"type":"string"},"known":{"type":"boolean"},"name":{"type":["string","null"]},
          "domain":{"type":["string","null"]},
          "tactics":{"type":"array","items":{"type":"object","properties":{"id":{"type":"string"},"shortname":{"type":"string"},"name":{"type":"string"}}}},
          "revoked":{"type":"boolean"},"revoked_by":{"type":["string","null"]},"deprecated":{"type":"boolean"},
          "url":{"type":["string","null"]}}}},
      "tags":{"type":"array","items":{"type":"string"}},
      "event_time":@TIME@,"detected_at":@TIME@,
      "occurrences":{"type":"integer","minimum":1,"description":"events this alert stands for: the first and its repeats (same rule or indicator, organisation and host within the fold window)"},
      "last_event_time":@TIME@,
      "logsource":{"type":"string"},"sensor_id":{"type":"string"},"spool_seq":{"type":"integer"},
      "group":{"description":"correlation: the group-by values; campaign: the key; null otherwise"},
      "campaign_id":{"type":["string","null"],"description":"set when the alert belongs to a campaign; organisations see the id, never the campaign"},
      "status":{"enum":@STATUSES@},"resolution":{"enum":@RESOLUTIONS_NULL@},
      "reason":{"type":["string","null"]},"assignee_id":{"type":["string","null"]},
      "incident_id":{"type":["string","null"]},
      "acknowledged_by":{"type":["string","null"]},"acknowledged_at":@TIME_NULL@,
      "closed_by":{"type":["string","null"]},"closed_at":@TIME_NULL@,
      "tlp":{"enum":["amber"]},"owner_org_id":{"type":"string"},"author_id":{"type":"string"},
      "details":{"type":["object","null"],"description":"the detection as yagura scan writes it (single reads only)"},
      "created_at":@TIME@,"updated_at":@TIME@}})json");
  AddSchema(context, "AlertList", R"json({"type":"object","required":["items","next_cursor"],
    "properties":{"items":{"type":"array","items":{"$ref":"#/components/schemas/Alert"}},
      "next_cursor":{"type":["string","null"]}},
    "description":"newest event first (event_time, then id, descending); items without details"})json");
  AddSchema(context, "AlertAssign", R"json({"type":"object","additionalProperties":false,
    "required":["assignee_id"],
    "properties":{"assignee_id":{"type":["string","null"],"minLength":1,"maxLength":64,
      "description":"a user of the alert's organisation, or (centre staff only) of the centre; null removes the assignee"}}})json");
  AddSchema(context, "AlertClose", R"json({"type":"object","additionalProperties":false,
    "required":["resolution"],
    "properties":{"resolution":{"enum":@RESOLUTIONS@},
      "reason":{"type":"string","maxLength":2000,"description":"required for false_positive"}}})json");
  AddSchema(context, "AlertPromote", R"json({"type":"object","additionalProperties":false,
    "description":"all optional: what is not given is filled in from the alert",
    "properties":{"title":{"type":"string","minLength":1,"maxLength":200},
      "category":{"enum":@CATEGORIES@,"description":"guessed from the ATT&CK techniques when absent"},
      "tlp":{"enum":@TLPS@,"default":"amber"},
      "summary":{"type":"string","minLength":1,"maxLength":20000,"description":"the incident's description"},
      "point_of_contact":{"$ref":"#/components/schemas/PointOfContact"}}})json");
  AddSchema(context, "AlertAttach", R"json({"type":"object","additionalProperties":false,
    "required":["incident_id"],
    "properties":{"incident_id":{"type":"string","minLength":1,"maxLength":64,"description":"an incident the caller may read and edit"}}})json");
  AddSchema(context, "Campaign", R"json({"type":"object",
    "required":["id","key","title","first_time","last_time","org_count","status","tlp","created_at","updated_at"],
    "properties":{"id":{"type":"string"},
      "key":{"type":"object","required":["kind","id","value"],"properties":{
        "kind":{"enum":["rule","indicator"]},"id":{"type":"string"},
        "value":{"type":"string","description":"source address, domain or hash; empty for indicators"}}},
      "title":{"type":"string"},"first_time":@TIME@,"last_time":@TIME@,
      "org_count":{"type":"integer"},"status":{"enum":["open"]},"tlp":{"enum":["amber"]},
      "members":{"type":"array","items":{"type":"object","required":["org_id","alert_id","first_time"],
        "properties":{"org_id":{"type":"string"},"alert_id":{"type":"string"},"first_time":@TIME@}}},
      "alert_ids":{"type":"array","items":{"type":"string"},"description":"the campaign alerts raised for it"},
      "created_at":@TIME@,"updated_at":@TIME@}})json");
  AddSchema(context, "CampaignList", R"json({"type":"object","required":["items","next_cursor"],
    "properties":{"items":{"type":"array","items":{"$ref":"#/components/schemas/Campaign"}},
      "next_cursor":{"type":["string","null"]}}})json");
}

RouteDoc Doc(std::string summary, std::string request_schema, std::string response_schema,
             std::vector<std::string> query = {}) {
  return DocumentRoute(TAG, std::move(summary), std::move(request_schema),
                       std::move(response_schema), std::move(query));
}

}  // namespace

void RegisterAlertRoutes(Router& router, ApiContext& context) {
  AddSchemas(context);
  auto bind = [&context](ContextHandler handler) { return BindAuthed(context, handler); };
  const std::string alerts(ALERTS);
  const std::string campaigns(CAMPAIGNS);
  router.Add("GET", alerts, bind(ListAlertsHandler),
             Doc("Alerts the caller may read, newest event first; level is a minimum, technique "
                 "matches sub-techniques, since/until bound the event time",
                 "", "AlertList",
                 {"org_id", "level", "rule_id", "technique", "kind", "status", "campaign_id",
                  "since", "until", "assignee_id", "incident_id", "limit", "cursor"}));
  router.Add("GET", alerts + "/{id}", bind(GetAlertHandler),
             Doc("One alert with its detection", "", "Alert"));
  router.Add("POST", alerts + "/{id}/acknowledge", bind(AcknowledgeHandler),
             Doc("Acknowledge a new alert (no body, or {})", "", "Alert"));
  router.Add("POST", alerts + "/{id}/assign", bind(AssignHandler),
             Doc("Assign the alert, or remove its assignee with null", "AlertAssign", "Alert"));
  router.Add("POST", alerts + "/{id}/close", bind(CloseHandler),
             Doc("Close the alert with a resolution (false_positive needs a reason)", "AlertClose",
                 "Alert"));
  router.Add(
      "POST", alerts + "/{id}/reopen", bind(ReopenHandler),
      Doc("Reopen a closed alert (no body, or {}); it returns to acknowledged", "", "Alert"));
  router.Add("POST", alerts + "/{id}/promote", bind(PromoteHandler),
             Doc("Create an incident from the alert for the alert's organisation (201 with the "
                 "incident)",
                 "AlertPromote", "Incident"));
  router.Add("POST", alerts + "/{id}/attach", bind(AttachHandler),
             Doc("Link the alert to an existing incident", "AlertAttach", "Alert"));
  router.Add("GET", campaigns, bind(ListCampaignsHandler),
             Doc("Campaigns (the centre's staff only; empty for everyone else), newest first", "",
                 "CampaignList", {"limit", "cursor"}));
  router.Add("GET", campaigns + "/{id}", bind(GetCampaignHandler),
             Doc("One campaign with its member organisations and alerts (the centre's staff "
                 "only)",
                 "", "Campaign"));
}

hub::AlertFilter AlertListFilter(const Request& request) { return ReadFilter(request); }

JsonValue AlertListItemJson(const hub::Alert& alert, const JsonValue& technique_index) {
  return AlertJson(alert, false, technique_index);
}

}  // namespace yagura::http

// Incident routes under /api/v1/incidents: reports, their lifecycle, assignees, comments,
// links and attachments.
//
// Handlers only translate: they validate the body with Fields (types, enums, lengths, unknown
// fields), call hub/incidents.hpp inside one Database::Transact (whose functions ask
// hub/policy.hpp and append the audit entry of every write), and turn the result into JSON.
// Hub refusals map to statuses here: invalid 400, forbidden 403, not found (or not readable)
// 404, conflict 409. Reads run on a pooled connection without a transaction (a SQLite write
// transaction would serialise them) and audit AMBER and RED reads.
//
// The list is the hot path (an organisation's page, thousands of times a second): summaries
// from the incidents table only, read through its indexes by a fixed number of queries (see
// hub::ListIncidents), and the page written with JsonWriter instead of a DOM.
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <limits>
#include <string>
#include <type_traits>

#include "core/json_value.hpp"
#include "core/json_writer.hpp"
#include "core/time.hpp"
#include "http/api.hpp"
#include "http/hub_errors.hpp"
#include "http/json_forms.hpp"
#include "hub/alerts.hpp"
#include "hub/cases.hpp"
#include "hub/incidents.hpp"
#include "hub/policy.hpp"
#include "hub/scoring.hpp"

namespace yagura::http {
namespace {

constexpr std::string_view TAG = "incidents";
constexpr std::string_view BASE = "/api/v1/incidents";

// ---- errors and small helpers ----------------------------------------------------------------

std::string IncidentPath(std::string_view id) { return fmt::format("{}/{}", BASE, id); }

// AMBER and RED reads of an incident's parts are logged like reads of the incident itself.
void AuditIncidentRead(ApiContext& context, const hub::Principal& principal, std::string action,
                       const hub::Incident& incident, std::string detail = "{}") {
  if (incident.report.tlp == hub::Tlp::kClear || incident.report.tlp == hub::Tlp::kGreen) return;
  hub::AuditEntry entry =
      hub::EntryFor(principal, std::move(action), "incident", incident.id, incident.report.tlp);
  entry.detail = std::move(detail);
  context.audit.Record(std::move(entry));
}

// ---- JSON forms ------------------------------------------------------------------------------

JsonValue PriorityJson(const hub::Priority& priority) {
  JsonValue json = JsonValue::MakeObject();
  json.Set("level", static_cast<int64_t>(priority.level));
  json.Set("name", std::string(priority.name));
  json.Set("color", std::string(priority.color));
  json.Set("significant", priority.significant());
  return json;
}

JsonValue ScoreJson(const hub::IncidentScore& score) {
  JsonValue json = JsonValue::MakeObject();
  json.Set("value", score.value);
  json.Set("priority", PriorityJson(score.priority));
  json.Set("method",
           "NCISS-style weighted mean: sum(points x weight) / sum(weight) over the included "
           "factors; factors not provided or unknown are excluded");
  JsonValue factors = JsonValue::MakeArray();
  for (const auto& factor : score.factors) {
    JsonValue item = JsonValue::MakeObject();
    item.Set("factor", std::string(factor.factor));
    item.Set("value", factor.value ? JsonValue(*factor.value) : JsonValue("not provided"));
    item.Set("points", factor.points ? JsonValue(static_cast<int64_t>(*factor.points))
                                     : JsonValue());
    item.Set("weight", static_cast<int64_t>(factor.weight));
    item.Set("contribution", factor.contribution);
    item.Set("included", factor.included());
    factors.Push(std::move(item));
  }
  json.Set("factors", std::move(factors));
  return json;
}

JsonValue LinkJson(const hub::IncidentLink& link) {
  JsonValue json = JsonValue::MakeObject();
  json.Set("incident_id", link.incident_id);
  json.Set("reference", link.reference);
  json.Set("title", link.title);
  json.Set("relation", link.relation);
  json.Set("created_by", link.created_by);
  json.Set("created_at", Time(link.created_at));
  return json;
}

JsonValue AttachmentJson(const hub::AttachmentInfo& info) {
  JsonValue json = JsonValue::MakeObject();
  json.Set("id", info.id);
  json.Set("incident_id", info.incident_id);
  json.Set("filename", info.filename);
  json.Set("content_type", info.content_type);
  json.Set("size", info.size);
  json.Set("sha256", info.sha256);
  json.Set("uploaded_by", info.uploaded_by);
  json.Set("created_at", Time(info.uploaded_at));
  json.Set("url", fmt::format("{}/attachments/{}", IncidentPath(info.incident_id), info.id));
  return json;
}

JsonValue CommentJson(const hub::IncidentComment& comment) {
  JsonValue json = JsonValue::MakeObject();
  json.Set("id", comment.id);
  json.Set("incident_id", comment.incident_id);
  json.Set("author_id", comment.author_id);
  json.Set("body", comment.body);
  json.Set("created_at", Time(comment.created_at));
  json.Set("updated_at", Time(comment.created_at));
  return json;
}

JsonValue IncidentJson(const hub::Incident& incident) {
  const hub::IncidentReport& r = incident.report;
  JsonValue json = JsonValue::MakeObject();
  json.Set("id", incident.id);
  json.Set("reference", incident.reference);
  json.Set("title", r.title);
  json.Set("description", r.description);
  json.Set("category", r.category);
  json.Set("status", std::string(hub::ToString(incident.status)));
  json.Set("tlp", std::string(hub::ToString(r.tlp)));
  json.Set("owner_org_id", incident.owner_org_id);
  json.Set("author_id", incident.author_id);
  json.Set("shared_with", Strings(r.shared_with));
  json.Set("recipients", Strings(r.recipients));
  json.Set("techniques", Strings(r.techniques));
  json.Set("functional_impact", r.functional_impact);
  json.Set("information_impact", r.information_impact);
  json.Set("recoverability", r.recoverability);
  json.Set("location", r.location);
  json.Set("location_name", std::string(hub::LocationName(r.location)));
  json.Set("observed_activity", OptionalText(r.observed_activity));
  json.Set("actor_characterization", OptionalText(r.actor_characterization));
  json.Set("cross_sector_dependency", OptionalText(r.cross_sector_dependency));
  json.Set("potential_impact", OptionalText(r.potential_impact));
  json.Set("attack_vector", OptionalText(r.attack_vector));
  json.Set("detected_at", Time(r.detected_at));
  json.Set("occurred_at", OptionalTime(r.occurred_at));
  json.Set("systems_affected", OptionalInt(r.systems_affected));
  json.Set("records_affected", OptionalInt(r.records_affected));
  json.Set("users_affected", OptionalInt(r.users_affected));
  JsonValue indicators = JsonValue::MakeArray();
  for (const auto& indicator : r.indicators) {
    JsonValue item = JsonValue::MakeObject();
    item.Set("type", indicator.type);
    item.Set("value", indicator.value);
    indicators.Push(std::move(item));
  }
  json.Set("indicators", std::move(indicators));
  json.Set("mitigations", OptionalText(r.mitigations));
  JsonValue contact = JsonValue::MakeObject();
  contact.Set("name", r.point_of_contact.name);
  contact.Set("email", r.point_of_contact.email);
  contact.Set("phone", OptionalText(r.point_of_contact.phone));
  json.Set("point_of_contact", std::move(contact));
  json.Set("score", ScoreJson(incident.score));
  json.Set("assignees", Strings(incident.assignee_ids));
  JsonValue links = JsonValue::MakeArray();
  for (const auto& link : incident.links) links.Push(LinkJson(link));
  json.Set("links", std::move(links));
  JsonValue attachments = JsonValue::MakeArray();
  for (const auto& attachment : incident.attachments) attachments.Push(AttachmentJson(attachment));
  json.Set("attachments", std::move(attachments));
  JsonValue counts = JsonValue::MakeObject();
  counts.Set("comments", incident.comment_count);
  counts.Set("attachments", static_cast<int64_t>(incident.attachments.size()));
  counts.Set("links", static_cast<int64_t>(incident.links.size()));
  counts.Set("assignees", static_cast<int64_t>(incident.assignee_ids.size()));
  counts.Set("indicators", static_cast<int64_t>(r.indicators.size()));
  json.Set("counts", std::move(counts));
  json.Set("version", incident.version);
  json.Set("created_at", Time(incident.created_at));
  json.Set("updated_at", Time(incident.updated_at));
  return json;
}

// An incident as a write answers it, its techniques resolved on a connection of its own (the
// write's transaction has committed).
JsonValue ResolvedIncidentJson(ApiContext& context, const hub::Incident& incident) {
  JsonValue json = IncidentJson(incident);
  auto connection = context.database.Acquire();
  json.Set("techniques_resolved",
           ResolvedTechniquesJson(TechniqueIndex(*connection, incident.report.techniques),
                                  incident.report.techniques));
  return json;
}

void WriteSummary(JsonWriter& out, const hub::IncidentSummary& s) {
  hub::Priority priority = hub::PriorityLevel(s.priority);
  out.BeginObject();
  out.Key("id").String(s.id);
  out.Key("reference").String(s.reference);
  out.Key("title").String(s.title);
  out.Key("status").String(hub::ToString(s.status));
  out.Key("category").String(s.category);
  out.Key("tlp").String(hub::ToString(s.tlp));
  out.Key("owner_org_id").String(s.owner_org_id);
  out.Key("score").BeginObject();
  out.Key("value").Double(s.score);
  out.Key("priority").BeginObject();
  out.Key("level").Int(priority.level);
  out.Key("name").String(priority.name);
  out.Key("color").String(priority.color);
  out.Key("significant").Bool(priority.significant());
  out.EndObject();
  out.EndObject();
  out.Key("detected_at").String(FormatTimestampMs(s.detected_at));
  out.Key("created_at").String(FormatTimestampMs(s.created_at));
  out.Key("updated_at").String(FormatTimestampMs(s.updated_at));
  out.EndObject();
}

// ---- request bodies --------------------------------------------------------------------------

// Reads the report members of a POST (create = true: the required ones must be there) or a
// PATCH (only the members present change; null clears an optional member).
class ReportReader {
 public:
  ReportReader(const JsonValue& body, Fields& fields, bool create)
      : body_(body), fields_(fields), create_(create) {}

  void Read(hub::IncidentReport& r) {
    if (Wanted("title")) r.title = fields_.String("title", 1, hub::INCIDENT_TITLE_MAX);
    if (Wanted("description")) {
      r.description = fields_.String("description", 1, hub::INCIDENT_DESCRIPTION_MAX);
    }
    if (Wanted("category")) r.category = fields_.Enum("category", hub::IncidentCategoryNames());
    if (Wanted("functional_impact")) {
      r.functional_impact = fields_.Enum(
          "functional_impact", hub::FactorValues(hub::ScoringFactor::kFunctionalImpact));
    }
    if (Wanted("information_impact")) {
      r.information_impact = fields_.Enum(
          "information_impact", hub::FactorValues(hub::ScoringFactor::kInformationImpact));
    }
    if (Wanted("recoverability")) {
      r.recoverability =
          fields_.Enum("recoverability", hub::FactorValues(hub::ScoringFactor::kRecoverability));
    }
    if (Wanted("location")) {
      r.location = *hub::LocationCode(fields_.Enum("location", hub::LocationInputs()));
    }
    OptionalEnum("observed_activity", hub::FactorValues(hub::ScoringFactor::kObservedActivity),
                 r.observed_activity);
    OptionalEnum("actor_characterization",
                 hub::FactorValues(hub::ScoringFactor::kActorCharacterization),
                 r.actor_characterization);
    OptionalEnum("cross_sector_dependency",
                 hub::FactorValues(hub::ScoringFactor::kCrossSectorDependency),
                 r.cross_sector_dependency);
    OptionalEnum("potential_impact", hub::FactorValues(hub::ScoringFactor::kPotentialImpact),
                 r.potential_impact);
    OptionalEnum("attack_vector", hub::AttackVectorNames(), r.attack_vector);
    if (Wanted("detected_at")) r.detected_at = fields_.Time("detected_at");
    if (Present("occurred_at")) r.occurred_at = fields_.OptionalTime("occurred_at");
    for (auto [key, target] : {std::pair{"systems_affected", &r.systems_affected},
                               std::pair{"records_affected", &r.records_affected},
                               std::pair{"users_affected", &r.users_affected}}) {
      if (Present(key)) *target = fields_.OptionalInt(key, 0, hub::INCIDENT_COUNT_MAX);
    }
    if (Present("indicators")) ReadIndicators(r);
    if (Present("mitigations")) {
      r.mitigations = fields_.OptionalString("mitigations", hub::INCIDENT_MITIGATIONS_MAX);
    }
    if (Wanted("point_of_contact")) ReadContact(r);
    if (Present("tlp")) {
      r.tlp = *hub::ParseTlp(fields_.Enum("tlp", hub::TlpNames(), hub::ToString(r.tlp)));
    }
    if (Present("shared_with")) {
      r.shared_with = fields_.StringArray("shared_with", hub::INCIDENT_AUDIENCE_MAX, 64);
    }
    if (Present("recipients")) {
      r.recipients = fields_.StringArray("recipients", hub::INCIDENT_AUDIENCE_MAX, 64);
    }
    if (Present("techniques")) {
      r.techniques = fields_.StringArray("techniques", hub::INCIDENT_TECHNIQUES_MAX, 16);
    }
  }

 private:
  [[nodiscard]] bool Present(std::string_view key) const { return body_.Find(key) != nullptr; }

  // A required member: always read on create (absence is an error there); on PATCH read when
  // present, and null is refused because the member cannot be cleared.
  bool Wanted(std::string_view key) {
    if (create_) return true;
    const JsonValue* value = body_.Find(key);
    if (value == nullptr) return false;
    if (value->is_null()) {
      ThrowBadRequest(fmt::format("{} cannot be cleared", key), std::string(key));
    }
    return true;
  }

  void OptionalEnum(std::string_view key, std::span<const std::string_view> allowed,
                    std::optional<std::string>& target) {
    if (Present(key)) target = fields_.OptionalEnum(key, allowed);
  }

  void ReadIndicators(hub::IncidentReport& r) {
    const JsonValue* array = fields_.Array("indicators");
    r.indicators.clear();
    if (array == nullptr) return;
    if (array->as_array().size() > hub::INCIDENT_INDICATORS_MAX) {
      ThrowBadRequest(
          fmt::format("indicators has more than {} items", hub::INCIDENT_INDICATORS_MAX),
          "indicators");
    }
    size_t index = 0;
    for (const auto& item : array->as_array()) {
      Fields indicator(item, fmt::format("indicators[{}]", index++));
      hub::Indicator parsed;
      parsed.type = indicator.Enum("type", hub::IndicatorTypeNames());
      parsed.value = indicator.String("value", 1, hub::INCIDENT_INDICATOR_VALUE_MAX);
      indicator.Finish();
      r.indicators.push_back(std::move(parsed));
    }
  }

  void ReadContact(hub::IncidentReport& r) {
    const JsonValue* object = fields_.Object("point_of_contact", true);
    Fields contact(*object, "point_of_contact");
    r.point_of_contact.name = contact.String("name", 1, 200);
    std::optional<std::string> email = contact.OptionalEmail("email");
    if (!email) ThrowBadRequest("point_of_contact.email is required", "point_of_contact.email");
    r.point_of_contact.email = *email;
    r.point_of_contact.phone = contact.OptionalString("phone", 50);
    contact.Finish();
  }

  const JsonValue& body_;
  Fields& fields_;
  bool create_;
};

// ---- query parameters ------------------------------------------------------------------------

hub::IncidentFilter ReadFilter(const Request& request) {
  hub::IncidentFilter filter;
  if (auto status = QueryEnum(request, "status", hub::IncidentStatusNames())) {
    filter.status = hub::ParseIncidentStatus(*status);
  }
  if (auto owner = request.Query("owner_org_id")) {
    bool id_like = !owner->empty() && owner->size() <= 64 &&
                   std::all_of(owner->begin(), owner->end(), [](char c) {
                     return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
                            (c >= 'A' && c <= 'Z') || c == '-';
                   });
    if (!id_like) ThrowBadRequest("owner_org_id must be an organization id", "owner_org_id");
    filter.owner_org_id = std::string(*owner);
  }
  filter.category = QueryEnum(request, "category", hub::IncidentCategoryNames());
  if (auto priority = request.Query("priority_min")) {
    int level = -1;
    auto [end, ec] = std::from_chars(priority->data(), priority->data() + priority->size(), level);
    if (ec != std::errc() || end != priority->data() + priority->size() || level < 0 ||
        level > 5) {
      ThrowBadRequest("priority_min must be an integer from 0 to 5", "priority_min");
    }
    filter.priority_min = level;
  }
  if (auto tlp = QueryEnum(request, "tlp", hub::TlpNames())) filter.tlp = hub::ParseTlp(*tlp);
  if (auto assigned = request.Query("assigned_to")) {
    if (*assigned != "me") ThrowBadRequest("assigned_to accepts only \"me\"", "assigned_to");
    filter.assigned_to_me = true;
  }
  if (auto q = request.Query("q")) {
    if (q->size() > 200) ThrowBadRequest("q is longer than 200 characters", "q");
    if (!q->empty()) filter.title_contains = std::string(*q);
  }
  return filter;
}

std::optional<std::pair<int64_t, std::string>> CursorOf(const PageRequest& page) {
  if (page.cursor.empty()) return std::nullopt;
  return DecodeCursor(page.cursor);
}

// ---- schemas ---------------------------------------------------------------------------------

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
  using hub::ScoringFactor;
  replace("@CATEGORIES@", EnumJson(hub::IncidentCategoryNames()));
  replace("@STATUSES_NULL@", EnumJson(hub::IncidentStatusNames(), true));
  replace("@STATUSES@", EnumJson(hub::IncidentStatusNames()));
  replace("@TLPS@", EnumJson(hub::TlpNames()));
  replace("@FUNCTIONAL@", EnumJson(hub::FactorValues(ScoringFactor::kFunctionalImpact)));
  replace("@INFORMATION@", EnumJson(hub::FactorValues(ScoringFactor::kInformationImpact)));
  replace("@RECOVERABILITY@", EnumJson(hub::FactorValues(ScoringFactor::kRecoverability)));
  replace("@LOCATION_IN@", EnumJson(hub::LocationInputs()));
  replace("@OBSERVED_NULL@",
          EnumJson(hub::FactorValues(ScoringFactor::kObservedActivity), true));
  replace("@ACTOR_NULL@",
          EnumJson(hub::FactorValues(ScoringFactor::kActorCharacterization), true));
  replace("@CROSS_NULL@",
          EnumJson(hub::FactorValues(ScoringFactor::kCrossSectorDependency), true));
  replace("@POTENTIAL_NULL@", EnumJson(hub::FactorValues(ScoringFactor::kPotentialImpact), true));
  replace("@VECTORS_NULL@", EnumJson(hub::AttackVectorNames(), true));
  replace("@INDICATOR_TYPES@", EnumJson(hub::IndicatorTypeNames()));
  replace("@RELATIONS@", EnumJson(hub::LinkRelationNames()));
  RegisterSchema(context, name, text);
}

// The members a report may have; `required` differs between POST and PATCH.
constexpr std::string_view REPORT_PROPERTIES = R"(
  "title":{"type":"string","minLength":1,"maxLength":200},
  "description":{"type":"string","minLength":1,"maxLength":20000},
  "category":{"enum":@CATEGORIES@,"description":"malware, phishing, intrusion (access gained through an exploit), ddos, data_leak, web_defacement, vulnerability (a weakness, no compromise yet), unauthorized_access (valid credentials misused or access by someone not entitled), insider, other"},
  "functional_impact":{"enum":@FUNCTIONAL@,"description":"CISA federal incident notification guidelines, from no impact to denial of critical services / loss of control"},
  "information_impact":{"enum":@INFORMATION@},
  "recoverability":{"enum":@RECOVERABILITY@},
  "location":{"enum":@LOCATION_IN@,"description":"location of observed activity: 0 unsuccessful, 1 business DMZ, 2 business network, 3 business network management, 4 critical system DMZ, 5 critical system management, 6 critical systems, 7 safety systems, U unknown; the code or its name"},
  "observed_activity":{"enum":@OBSERVED_NULL@},
  "actor_characterization":{"enum":@ACTOR_NULL@},
  "cross_sector_dependency":{"enum":@CROSS_NULL@},
  "potential_impact":{"enum":@POTENTIAL_NULL@},
  "attack_vector":{"enum":@VECTORS_NULL@},
  "detected_at":{"type":"string","format":"date-time"},
  "occurred_at":{"type":["string","null"],"format":"date-time"},
  "systems_affected":{"type":["integer","null"],"minimum":0},
  "records_affected":{"type":["integer","null"],"minimum":0},
  "users_affected":{"type":["integer","null"],"minimum":0},
  "indicators":{"type":["array","null"],"maxItems":1000,"items":{"type":"object","additionalProperties":false,"required":["type","value"],"properties":{"type":{"enum":@INDICATOR_TYPES@},"value":{"type":"string","minLength":1,"maxLength":2048}}}},
  "mitigations":{"type":["string","null"],"maxLength":20000},
  "point_of_contact":{"$ref":"#/components/schemas/PointOfContact"},
  "tlp":{"enum":@TLPS@,"default":"amber"},
  "shared_with":{"type":"array","maxItems":100,"items":{"type":"string"},"description":"organization ids; TLP amber only"},
  "recipients":{"type":"array","maxItems":100,"items":{"type":"string"},"description":"user ids; TLP red only"},
  "techniques":{"type":["array","null"],"maxItems":100,"items":{"type":"string","pattern":"^[Tt][0-9]{4}(\\.[0-9]{3})?$"},"description":"MITRE ATT&CK technique ids; once the catalogue is imported, ids it knows"})";

void AddSchemas(ApiContext& context) {
  const std::string time = R"({"type":"string","format":"date-time"})";
  AddSchema(context, "PointOfContact", R"({"type":"object","additionalProperties":false,
    "required":["name","email"],
    "properties":{"name":{"type":"string","minLength":1,"maxLength":200},
      "email":{"type":"string","format":"email"},"phone":{"type":["string","null"],"maxLength":50}}})");
  AddSchema(context, "IncidentCreate", fmt::format(R"({{"type":"object","additionalProperties":false,
    "required":["title","description","category","functional_impact","information_impact",
                "recoverability","location","detected_at","point_of_contact"],
    "properties":{{{},
      "owner_org_id":{{"type":"string","description":"centre staff only: report on behalf of this organization"}}}}}})",
                                                   REPORT_PROPERTIES));
  AddSchema(context, "IncidentUpdate", fmt::format(R"({{"type":"object","additionalProperties":false,
    "description":"members present replace the stored ones; null clears an optional member; the score is recomputed",
    "properties":{{{},
      "version":{{"type":"integer","minimum":1,"description":"when given, must equal the stored version, else 409"}}}}}})",
                                                   REPORT_PROPERTIES));
  AddSchema(context, "IncidentPriority", R"({"type":"object",
    "required":["level","name","color","significant"],
    "properties":{"level":{"type":"integer","minimum":0,"maximum":5},
      "name":{"enum":["baseline","low","medium","high","severe","emergency"]},
      "color":{"enum":["white","green","yellow","orange","red","black"]},
      "significant":{"type":"boolean","description":"level 3 and above"}},
    "description":"5 emergency >= 90, 4 severe >= 85, 3 high >= 75, 2 medium >= 50, 1 low >= 25, 0 baseline"})");
  AddSchema(context, "IncidentScore", R"({"type":"object","required":["value","priority","factors"],
    "properties":{"value":{"type":"number","minimum":0,"maximum":100},
      "priority":{"$ref":"#/components/schemas/IncidentPriority"},
      "method":{"type":"string"},
      "factors":{"type":"array","items":{"type":"object",
        "required":["factor","value","points","weight","contribution","included"],
        "properties":{"factor":{"enum":["functional_impact","observed_activity","location","actor_characterization","information_impact","recoverability","cross_sector_dependency","potential_impact"]},
          "value":{"type":"string","description":"\"not provided\" when absent"},
          "points":{"type":["integer","null"],"minimum":0,"maximum":100},
          "weight":{"type":"integer"},"contribution":{"type":"number"},
          "included":{"type":"boolean"}}}}}})");
  AddSchema(context, "IncidentLink", fmt::format(R"({{"type":"object",
    "required":["incident_id","reference","title","relation","created_by","created_at"],
    "properties":{{"incident_id":{{"type":"string"}},"reference":{{"type":"string"}},
      "title":{{"type":"string"}},"relation":{{"enum":@RELATIONS@}},
      "created_by":{{"type":"string"}},"created_at":{0}}}}})",
                                                 time));
  AddSchema(context, "IncidentLinkCreate", R"({"type":"object","additionalProperties":false,
    "required":["incident_id","relation"],
    "properties":{"incident_id":{"type":"string"},"relation":{"enum":@RELATIONS@,"description":"as seen from this incident; the other one sees parent and child swapped"}}})");
  AddSchema(context, "Attachment", fmt::format(R"({{"type":"object",
    "required":["id","incident_id","filename","content_type","size","sha256","uploaded_by","created_at"],
    "properties":{{"id":{{"type":"string"}},"incident_id":{{"type":"string"}},
      "filename":{{"type":"string"}},"content_type":{{"type":"string"}},
      "size":{{"type":"integer"}},"sha256":{{"type":"string","pattern":"^[0-9a-f]{{64}}$"}},
      "uploaded_by":{{"type":"string"}},"created_at":{0},"url":{{"type":"string"}}}}}})",
                                               time));
  AddSchema(context, "AttachmentList", R"({"type":"object","required":["items","next_cursor"],
    "properties":{"items":{"type":"array","items":{"$ref":"#/components/schemas/Attachment"}},
      "next_cursor":{"type":["string","null"]}}})");
  AddSchema(context, "Incident",
            fmt::format(R"({{"type":"object",
    "required":["id","reference","title","description","category","status","tlp","owner_org_id",
                "author_id","functional_impact","information_impact","recoverability","location",
                "detected_at","point_of_contact","score","assignees","links","attachments",
                "counts","version","created_at","updated_at"],
    "properties":{{{0},
      "id":{{"type":"string"}},"reference":{{"type":"string","pattern":"^INC-[0-9]{{4}}-[0-9]{{6,}}$"}},
      "status":{{"enum":@STATUSES@}},"owner_org_id":{{"type":"string"}},"author_id":{{"type":"string"}},
      "location_name":{{"type":"string","description":"the name of the location code"}},
      "score":{{"$ref":"#/components/schemas/IncidentScore"}},
      "assignees":{{"type":"array","items":{{"type":"string"}}}},
      "links":{{"type":"array","items":{{"$ref":"#/components/schemas/IncidentLink"}}}},
      "attachments":{{"type":"array","items":{{"$ref":"#/components/schemas/Attachment"}}}},
      "counts":{{"type":"object","properties":{{"comments":{{"type":"integer"}},"attachments":{{"type":"integer"}},
        "links":{{"type":"integer"}},"assignees":{{"type":"integer"}},"indicators":{{"type":"integer"}}}}}},
      "techniques_resolved":{{"type":"array","description":"the techniques with the ATT&CK catalogue's names and tactics; name null when the catalogue lacks the id",
        "items":{{"type":"object","required":["id","known","name","tactics"],"properties":{{
          "id":{{"type":"string"}},"known":{{"type":"boolean"}},"name":{{"type":["string","null"]}},
          "domain":{{"type":["string","null"]}},
          "tactics":{{"type":"array","items":{{"type":"object","properties":{{"id":{{"type":"string"}},"shortname":{{"type":"string"}},"name":{{"type":"string"}}}}}}}},
          "revoked":{{"type":"boolean"}},"revoked_by":{{"type":["string","null"]}},"deprecated":{{"type":"boolean"}},
          "url":{{"type":["string","null"]}}}}}}}},
      "alerts":{{"type":"array",
        "description":"alerts linked to the incident that the caller may read; in single reads",
        "items":{{"type":"object","required":["id","title","level","kind","org_id","event_time"],
          "properties":{{"id":{{"type":"string"}},"title":{{"type":"string"}},
            "level":{{"type":"string"}},"kind":{{"type":"string"}},"org_id":{{"type":"string"}},
            "event_time":{1}}}}}}},
      "cases":{{"type":"array",
        "description":"the investigations looking into the incident that the caller is a member of; in single reads",
        "items":{{"type":"object","required":["id","reference","title","status"],
          "properties":{{"id":{{"type":"string"}},"reference":{{"type":"string"}},
            "title":{{"type":"string"}},"status":{{"type":"string"}},"my_role":{{"type":"string"}}}}}}}},
      "version":{{"type":"integer"}},"created_at":{1},"updated_at":{1}}}}})",
                        REPORT_PROPERTIES, time));
  AddSchema(context, "IncidentSummary", fmt::format(R"({{"type":"object",
    "required":["id","reference","title","status","category","tlp","owner_org_id","score",
                "detected_at","created_at","updated_at"],
    "properties":{{"id":{{"type":"string"}},"reference":{{"type":"string"}},"title":{{"type":"string"}},
      "status":{{"enum":@STATUSES@}},"category":{{"enum":@CATEGORIES@}},"tlp":{{"enum":@TLPS@}},
      "owner_org_id":{{"type":"string"}},
      "score":{{"type":"object","required":["value","priority"],"properties":{{"value":{{"type":"number"}},
        "priority":{{"$ref":"#/components/schemas/IncidentPriority"}}}}}},
      "detected_at":{0},"created_at":{0},"updated_at":{0}}}}})",
                                                    time));
  AddSchema(context, "IncidentList", R"({"type":"object","required":["items","next_cursor"],
    "properties":{"items":{"type":"array","items":{"$ref":"#/components/schemas/IncidentSummary"}},
      "next_cursor":{"type":["string","null"]}}})");
  AddSchema(context, "IncidentTransition", R"({"type":"object","additionalProperties":false,
    "required":["to"],
    "properties":{"to":{"enum":@STATUSES@},"note":{"type":"string","maxLength":20000,"description":"required when reopening"}},
    "description":"reported -> triaged first; from triaged on any later status; resolved or closed -> investigating reopens, by a centre_admin with a note"})");
  AddSchema(context, "IncidentHistoryEntry", fmt::format(R"({{"type":"object",
    "required":["id","at","actor_id","kind","detail"],
    "properties":{{"id":{{"type":"string"}},"at":{0},"actor_id":{{"type":"string"}},
      "kind":{{"enum":["created","updated","transition","reopened","assigned","unassigned","linked","unlinked","attachment_added"]}},
      "from_status":{{"enum":@STATUSES_NULL@}},"to_status":{{"enum":@STATUSES_NULL@}},
      "detail":{{"type":"object"}}}}}})",
                                                         time));
  AddSchema(context, "IncidentHistory", R"({"type":"object","required":["items","next_cursor"],
    "properties":{"items":{"type":"array","items":{"$ref":"#/components/schemas/IncidentHistoryEntry"}},
      "next_cursor":{"type":["string","null"]}}})");
  AddSchema(context, "IncidentAssignee", R"({"type":"object","additionalProperties":false,
    "required":["user_id"],"properties":{"user_id":{"type":"string","description":"a centre staff user"}}})");
  AddSchema(context, "IncidentAssignees", R"({"type":"object","required":["incident_id","assignees"],
    "properties":{"incident_id":{"type":"string"},"assignees":{"type":"array","items":{"type":"string"}}}})");
  AddSchema(context, "IncidentComment", fmt::format(R"({{"type":"object",
    "required":["id","incident_id","author_id","body","created_at"],
    "properties":{{"id":{{"type":"string"}},"incident_id":{{"type":"string"}},
      "author_id":{{"type":"string"}},"body":{{"type":"string"}},"created_at":{0},"updated_at":{0}}}}})",
                                                    time));
  AddSchema(context, "IncidentCommentCreate", R"({"type":"object","additionalProperties":false,
    "required":["body"],"properties":{"body":{"type":"string","minLength":1,"maxLength":20000}}})");
  AddSchema(context, "IncidentCommentList", R"({"type":"object","required":["items","next_cursor"],
    "properties":{"items":{"type":"array","items":{"$ref":"#/components/schemas/IncidentComment"}},
      "next_cursor":{"type":["string","null"]}}})");
}

RouteDoc Doc(std::string summary, std::string request_schema, std::string response_schema,
             std::vector<std::string> query = {}) {
  return DocumentRoute(TAG, std::move(summary), std::move(request_schema),
                       std::move(response_schema), std::move(query));
}

// ---- handlers --------------------------------------------------------------------------------

Response ListIncidentsHandler(ApiContext& context, Request& request,
                              const hub::Principal& principal) {
  hub::IncidentFilter filter = ReadFilter(request);
  PageRequest page = ReadPage(request);
  auto before = CursorOf(page);
  hub::IncidentPage result = [&] {
    auto connection = context.database.Acquire();
    return hub::ListIncidents(*connection, principal, filter, before, page.limit);
  }();

  std::string body;
  body.reserve(256 + result.items.size() * 400);
  JsonWriter out(body);
  out.BeginObject().Key("items").BeginArray();
  hub::Tlp highest = hub::Tlp::kClear;
  std::string audited_ids = "[";
  for (const auto& item : result.items) {
    WriteSummary(out, item);
    if (item.tlp != hub::Tlp::kClear && item.tlp != hub::Tlp::kGreen) {
      highest = std::max(highest, item.tlp);
      if (audited_ids.size() > 1) audited_ids += ',';
      AppendJsonString(audited_ids, item.id);
    }
  }
  out.EndArray().Key("next_cursor");
  if (result.more) {
    out.String(EncodeCursor(result.items.back().created_at, result.items.back().id));
  } else {
    out.Null();
  }
  out.EndObject();
  if (highest != hub::Tlp::kClear) {
    hub::AuditEntry entry = hub::EntryFor(principal, "incident.list", "incident", "", highest);
    entry.detail = "{\"ids\":" + audited_ids + "]}";
    context.audit.Record(std::move(entry));
  }
  return Response::Json(200, std::move(body));
}

Response CreateIncidentHandler(ApiContext& context, Request& request,
                               const hub::Principal& principal) {
  JsonValue body = ParseJsonBody(request);
  Fields fields(body);
  hub::IncidentReport report;
  ReportReader(body, fields, true).Read(report);
  std::optional<std::string> owner = fields.OptionalString("owner_org_id", 64);
  fields.Finish();
  hub::Incident incident = context.database.Transact([&](store::Connection& connection) {
    return Unwrap(hub::CreateIncident(connection, principal, report, owner, NowMs()));
  });
  Response response = JsonResponse(201, ResolvedIncidentJson(context, incident));
  response.headers.Set("Location", IncidentPath(incident.id));
  return response;
}

Response GetIncidentHandler(ApiContext& context, Request& request,
                            const hub::Principal& principal) {
  auto [incident, json] = [&] {
    auto connection = context.database.Acquire();
    hub::Incident found =
        Unwrap(hub::GetIncident(*connection, principal, request.PathParam("id")));
    JsonValue body = IncidentJsonFor(*connection, principal, found);
    return std::make_pair(std::move(found), std::move(body));
  }();
  AuditRead(context, principal, "incident", incident.id, incident.report.tlp);
  return JsonResponse(200, json);
}

Response UpdateIncidentHandler(ApiContext& context, Request& request,
                               const hub::Principal& principal) {
  JsonValue body = ParseJsonBody(request);
  std::string id(request.PathParam("id"));
  hub::Incident incident = context.database.Transact([&](store::Connection& connection) {
    hub::Incident current = Unwrap(hub::GetIncident(connection, principal, id));
    Fields fields(body);
    hub::IncidentReport report = current.report;
    ReportReader(body, fields, false).Read(report);
    std::optional<int64_t> version =
        fields.OptionalInt("version", 1, std::numeric_limits<int64_t>::max());
    fields.Finish();
    Unwrap(hub::UpdateIncident(connection, principal, id, report, version, NowMs()));
    return Unwrap(hub::GetIncident(connection, principal, id));
  });
  return JsonResponse(200, ResolvedIncidentJson(context, incident));
}

Response TransitionHandler(ApiContext& context, Request& request,
                           const hub::Principal& principal) {
  JsonValue body = ParseJsonBody(request);
  Fields fields(body);
  hub::IncidentStatus to = *hub::ParseIncidentStatus(fields.Enum("to", hub::IncidentStatusNames()));
  std::string note = fields.OptionalString("note", hub::INCIDENT_COMMENT_MAX).value_or("");
  fields.Finish();
  std::string id(request.PathParam("id"));
  hub::Incident incident = context.database.Transact([&](store::Connection& connection) {
    Unwrap(hub::TransitionIncident(connection, principal, id, to, note, NowMs()));
    return Unwrap(hub::GetIncident(connection, principal, id));
  });
  return JsonResponse(200, ResolvedIncidentJson(context, incident));
}

Response HistoryHandler(ApiContext& context, Request& request, const hub::Principal& principal) {
  std::string id(request.PathParam("id"));
  auto [incident, entries] = [&] {
    auto connection = context.database.Acquire();
    hub::Incident found = Unwrap(hub::GetIncident(*connection, principal, id));
    return std::make_pair(found, Unwrap(hub::IncidentHistory(*connection, principal, id)));
  }();
  AuditIncidentRead(context, principal, "incident.history.read", incident);
  JsonValue items = JsonValue::MakeArray();
  for (const auto& entry : entries) {
    JsonValue json = JsonValue::MakeObject();
    json.Set("id", entry.id);
    json.Set("at", Time(entry.at));
    json.Set("actor_id", entry.actor_id);
    json.Set("kind", entry.kind);
    json.Set("from_status", OptionalText(entry.from_status));
    json.Set("to_status", OptionalText(entry.to_status));
    auto detail = JsonValue::Parse(entry.detail);
    json.Set("detail", detail ? std::move(*detail) : JsonValue::MakeObject());
    items.Push(std::move(json));
  }
  return ListResponse(items, "");
}

Response AssigneesJson(int status, const hub::Incident& incident) {
  JsonValue json = JsonValue::MakeObject();
  json.Set("incident_id", incident.id);
  json.Set("assignees", Strings(incident.assignee_ids));
  return JsonResponse(status, json);
}

Response AssignHandler(ApiContext& context, Request& request, const hub::Principal& principal) {
  JsonValue body = ParseJsonBody(request);
  Fields fields(body);
  std::string user_id = fields.String("user_id", 1, 64);
  fields.Finish();
  std::string id(request.PathParam("id"));
  auto [added, incident] = context.database.Transact([&](store::Connection& connection) {
    bool newly = Unwrap(hub::AssignIncident(connection, principal, id, user_id, NowMs()));
    return std::make_pair(newly, Unwrap(hub::GetIncident(connection, principal, id)));
  });
  return AssigneesJson(added ? 201 : 200, incident);
}

Response UnassignHandler(ApiContext& context, Request& request,
                         const hub::Principal& principal) {
  std::string id(request.PathParam("id"));
  std::string user_id(request.PathParam("user_id"));
  context.database.Transact([&](store::Connection& connection) {
    Unwrap(hub::UnassignIncident(connection, principal, id, user_id, NowMs()));
  });
  return Response::NoContent();
}

Response ListCommentsHandler(ApiContext& context, Request& request,
                             const hub::Principal& principal) {
  std::string id(request.PathParam("id"));
  PageRequest page = ReadPage(request);
  auto after = CursorOf(page);
  auto [incident, comments] = [&] {
    auto connection = context.database.Acquire();
    hub::Incident found = Unwrap(hub::GetIncident(*connection, principal, id));
    return std::make_pair(found, Unwrap(hub::ListComments(*connection, principal, id, after,
                                                          page.limit)));
  }();
  AuditIncidentRead(context, principal, "incident.comments.read", incident);
  JsonValue items = JsonValue::MakeArray();
  for (const auto& comment : comments.items) items.Push(CommentJson(comment));
  std::string next;
  if (comments.more) {
    next = EncodeCursor(comments.items.back().created_at, comments.items.back().id);
  }
  return ListResponse(items, next);
}

Response AddCommentHandler(ApiContext& context, Request& request,
                           const hub::Principal& principal) {
  JsonValue body = ParseJsonBody(request);
  Fields fields(body);
  std::string text = fields.String("body", 1, hub::INCIDENT_COMMENT_MAX);
  fields.Finish();
  std::string id(request.PathParam("id"));
  hub::IncidentComment comment = context.database.Transact([&](store::Connection& connection) {
    return Unwrap(hub::AddComment(connection, principal, id, text, NowMs()));
  });
  return JsonResponse(201, CommentJson(comment));
}

Response LinkHandler(ApiContext& context, Request& request, const hub::Principal& principal) {
  JsonValue body = ParseJsonBody(request);
  Fields fields(body);
  std::string other = fields.String("incident_id", 1, 64);
  std::string relation = fields.Enum("relation", hub::LinkRelationNames());
  fields.Finish();
  std::string id(request.PathParam("id"));
  hub::IncidentLink link = context.database.Transact([&](store::Connection& connection) {
    return Unwrap(hub::LinkIncidents(connection, principal, id, other, relation, NowMs()));
  });
  return JsonResponse(201, LinkJson(link));
}

Response UnlinkHandler(ApiContext& context, Request& request, const hub::Principal& principal) {
  std::string id(request.PathParam("id"));
  std::string other(request.PathParam("other_id"));
  context.database.Transact([&](store::Connection& connection) {
    Unwrap(hub::UnlinkIncidents(connection, principal, id, other, NowMs()));
  });
  return Response::NoContent();
}

Response UploadHandler(ApiContext& context, Request& request, const hub::Principal& principal) {
  if (request.body.size() > context.settings.max_attachment_bytes) {
    throw ApiError(413, "payload_too_large",
                   fmt::format("attachments are limited to {} bytes",
                               context.settings.max_attachment_bytes));
  }
  std::string filename = UploadFilename(request);
  std::string content_type(
      request.headers.Get("content-type").value_or("application/octet-stream"));
  std::string id(request.PathParam("id"));
  hub::AttachmentInfo info = context.database.Transact([&](store::Connection& connection) {
    return Unwrap(hub::AddAttachment(connection, principal, id, filename, content_type,
                                     request.body, NowMs()));
  });
  // The same file again answers 200 with the attachment it already is (a retried upload).
  Response response = JsonResponse(info.already_attached ? 200 : 201, AttachmentJson(info));
  response.headers.Set("Location", fmt::format("{}/attachments/{}", IncidentPath(id), info.id));
  return response;
}

Response ListAttachmentsHandler(ApiContext& context, Request& request,
                                const hub::Principal& principal) {
  std::string id(request.PathParam("id"));
  hub::Incident incident = [&] {
    auto connection = context.database.Acquire();
    return Unwrap(hub::GetIncident(*connection, principal, id));
  }();
  AuditIncidentRead(context, principal, "incident.attachments.read", incident);
  JsonValue items = JsonValue::MakeArray();
  for (const auto& attachment : incident.attachments) items.Push(AttachmentJson(attachment));
  return ListResponse(items, "");
}

Response DownloadHandler(ApiContext& context, Request& request, const hub::Principal& principal) {
  std::string id(request.PathParam("id"));
  auto [incident, attachment] = [&] {
    auto connection = context.database.Acquire();
    hub::Incident found = Unwrap(hub::GetIncident(*connection, principal, id));
    return std::make_pair(found, Unwrap(hub::GetAttachment(*connection, principal, id,
                                                           request.PathParam("attachment_id"))));
  }();
  JsonValue detail = JsonValue::MakeObject();
  detail.Set("attachment_id", attachment.info.id);
  detail.Set("sha256", attachment.info.sha256);
  AuditIncidentRead(context, principal, "incident.attachment.read", incident, detail.Serialize());
  return FileDownload(std::move(attachment.content), attachment.info.content_type,
                      attachment.info.filename, attachment.info.sha256);
}

}  // namespace

JsonValue IncidentJsonFor(store::Connection& connection, const hub::Principal& principal,
                          const hub::Incident& incident) {
  JsonValue json = IncidentJson(incident);
  json.Set("techniques_resolved",
           ResolvedTechniquesJson(TechniqueIndex(connection, incident.report.techniques),
                                  incident.report.techniques));
  // Only the alerts this caller may read: an alert of another organisation attached by the
  // centre stays invisible here as everywhere else.
  JsonValue alerts = JsonValue::MakeArray();
  for (const auto& ref : hub::AlertsOfIncident(connection, principal, incident.id)) {
    JsonValue item = JsonValue::MakeObject();
    item.Set("id", ref.id);
    item.Set("title", ref.title);
    item.Set("level", ref.level);
    item.Set("kind", ref.kind);
    item.Set("org_id", ref.org_id);
    item.Set("event_time", Time(ref.event_time));
    alerts.Push(std::move(item));
  }
  json.Set("alerts", std::move(alerts));
  // The cases looking into it, to their members only: nobody else learns that an incident is
  // under investigation.
  hub::CaseFilter filter;
  filter.incident_id = incident.id;
  JsonValue cases = JsonValue::MakeArray();
  for (const auto& summary :
       hub::ListCases(connection, principal, filter, std::nullopt, 100).items) {
    JsonValue item = JsonValue::MakeObject();
    item.Set("id", summary.id);
    item.Set("reference", summary.reference);
    item.Set("title", summary.title);
    item.Set("status", std::string(hub::ToString(summary.status)));
    item.Set("my_role", std::string(hub::ToString(summary.role)));
    cases.Push(std::move(item));
  }
  json.Set("cases", std::move(cases));
  return json;
}

void RegisterIncidentRoutes(Router& router, ApiContext& context) {
  AddSchemas(context);
  auto bind = [&context](ContextHandler handler) { return BindAuthed(context, handler); };
  const std::string base(BASE);
  router.Add("GET", base, bind(ListIncidentsHandler),
             Doc("Incidents the caller may read, newest first", "", "IncidentList",
                 {"status", "owner_org_id", "category", "priority_min", "tlp", "assigned_to", "q",
                  "limit", "cursor"}));
  router.Add("POST", base, bind(CreateIncidentHandler),
             Doc("Report an incident (scored on creation)", "IncidentCreate", "Incident"));
  router.Add("GET", base + "/{id}", bind(GetIncidentHandler),
             Doc("One incident with its score breakdown, assignees, links and attachments", "",
                 "Incident"));
  router.Add("PATCH", base + "/{id}", bind(UpdateIncidentHandler),
             Doc("Change report fields (re-scored; optional version for optimistic concurrency)",
                 "IncidentUpdate", "Incident"));
  router.Add("POST", base + "/{id}/transitions", bind(TransitionHandler),
             Doc("Move the incident along its lifecycle", "IncidentTransition", "Incident"));
  router.Add("GET", base + "/{id}/history", bind(HistoryHandler),
             Doc("Who changed what and when, oldest first", "", "IncidentHistory"));
  router.Add("POST", base + "/{id}/assignees", bind(AssignHandler),
             Doc("Assign centre staff (201 when newly assigned, 200 when already)",
                 "IncidentAssignee", "IncidentAssignees"));
  router.Add("DELETE", base + "/{id}/assignees/{user_id}", bind(UnassignHandler),
             Doc("Remove an assignee", "", ""));
  router.Add("GET", base + "/{id}/comments", bind(ListCommentsHandler),
             Doc("Comments, oldest first", "", "IncidentCommentList", {"limit", "cursor"}));
  router.Add("POST", base + "/{id}/comments", bind(AddCommentHandler),
             Doc("Comment on the incident", "IncidentCommentCreate", "IncidentComment"));
  router.Add("POST", base + "/{id}/links", bind(LinkHandler),
             Doc("Link another incident (both must be readable)", "IncidentLinkCreate",
                 "IncidentLink"));
  router.Add("DELETE", base + "/{id}/links/{other_id}", bind(UnlinkHandler),
             Doc("Remove the link between two incidents", "", ""));
  router.Add("POST", base + "/{id}/attachments", bind(UploadHandler),
             Doc("Upload an attachment: the raw file as the body with its Content-Type, the "
                 "name in ?filename= or Content-Disposition; SHA-256 recorded; 413 above the "
                 "size limit; the same file again (name, size, SHA-256) answers 200 with the "
                 "attachment it already is",
                 "", "Attachment", {"filename"}));
  router.Add("GET", base + "/{id}/attachments", bind(ListAttachmentsHandler),
             Doc("Attachment metadata", "", "AttachmentList"));
  router.Add("GET", base + "/{id}/attachments/{attachment_id}", bind(DownloadHandler),
             Doc("Download an attachment (Content-Disposition: attachment)", "", ""));
}

hub::IncidentFilter IncidentListFilter(const Request& request) { return ReadFilter(request); }

void WriteIncidentListItem(JsonWriter& out, const hub::IncidentSummary& summary) {
  WriteSummary(out, summary);
}

}  // namespace yagura::http

// Incident reports: storage, lifecycle, assignment, comments, links and attachments (see
// incidents.hpp for the rules).
//
// Every operation first loads the incident with its grants and asks hub/policy.hpp, then checks
// the request against the domain rules, and only then writes — so a refused request leaves no
// trace but its absence. The score is recomputed from the report on every write (the stored
// score and priority columns exist for filtering and sorting lists) and on every load, so a
// change of weights shows in reads at once and in lists after the next write.
//
// Structured parts of a report that are never filtered on (indicators, mitigations, the point
// of contact) live in the `details` column as one JSON object; the audience (shared_with,
// recipients, assignees) lives in access_grants, where the SQL read condition finds it.
#include "hub/incidents.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>

#include "core/json_value.hpp"
#include "core/time.hpp"
#include "hub/attack.hpp"
#include "hub/audit_log.hpp"
#include "hub/crypto.hpp"
#include "hub/text_checks.hpp"

namespace yagura::hub {
namespace {

constexpr std::string_view OBJECT_TYPE = "incident";

constexpr std::array<std::string_view, 6> STATUS_NAMES = {
    "reported", "triaged", "investigating", "contained", "resolved", "closed"};

constexpr std::array<std::string_view, 10> CATEGORY_NAMES = {
    "malware",        "phishing",      "intrusion",           "ddos",    "data_leak",
    "web_defacement", "vulnerability", "unauthorized_access", "insider", "other"};

constexpr std::array<std::string_view, 9> ATTACK_VECTOR_NAMES = {
    "unknown",        "attrition",     "web",
    "email_phishing", "external_removable_media", "impersonation_spoofing",
    "improper_usage", "loss_or_theft_of_equipment", "other"};

constexpr std::array<std::string_view, 7> INDICATOR_TYPE_NAMES = {
    "ip", "domain", "url", "hash", "email", "file_name", "other"};

constexpr std::array<std::string_view, 4> LINK_RELATION_NAMES = {"related", "duplicate", "parent",
                                                                  "child"};

// The columns every full load reads, in this order (see RowToIncident).
constexpr std::string_view INCIDENT_COLUMNS =
    "id, reference, owner_org_id, author_id, tlp, status, title, description, category, "
    "functional_impact, information_impact, recoverability, observed_activity, location, "
    "attack_vector, actor_characterization, cross_sector_dependency, potential_impact, "
    "detected_at, occurred_at, systems_affected, records_affected, users_affected, details, "
    "created_at, updated_at, version";

template <size_t N>
bool OneOf(const std::array<std::string_view, N>& names, std::string_view value) {
  return std::find(names.begin(), names.end(), value) != names.end();
}

tl::unexpected<IncidentError> Refuse(IncidentErrorKind kind, std::string message,
                                     std::string field = {}) {
  return tl::unexpected(IncidentError{kind, std::move(message), std::move(field)});
}

tl::unexpected<IncidentError> NotFound(std::string_view what = "incident") {
  return Refuse(IncidentErrorKind::kNotFound, fmt::format("{} not found", what));
}

IncidentError Invalid(std::string message, std::string field) {
  return IncidentError{IncidentErrorKind::kInvalid, std::move(message), std::move(field)};
}

std::optional<IncidentError> CheckText(std::string_view field, const std::string& text,
                                       size_t max_length, bool required) {
  if (required && text.empty()) return Invalid(fmt::format("{} must not be empty", field),
                                               std::string(field));
  if (text.find('\0') != std::string::npos || !ValidUtf8(text)) {
    return Invalid(fmt::format("{} must be UTF-8 text without NUL characters", field),
                   std::string(field));
  }
  if (CodePoints(text) > max_length) {
    return Invalid(fmt::format("{} is longer than {} characters", field, max_length),
                   std::string(field));
  }
  return std::nullopt;
}

std::optional<IncidentError> CheckFactor(ScoringFactor factor, std::string_view field,
                                         const std::optional<std::string>& value) {
  if (!value || IsFactorValue(factor, *value)) return std::nullopt;
  return Invalid(fmt::format("{} is not one of the allowed values", field), std::string(field));
}

bool LooksLikeEmail(std::string_view text) {
  size_t at = text.find('@');
  return at != std::string_view::npos && at > 0 && text.find('@', at + 1) == std::string_view::npos &&
         text.find('.', at) != std::string_view::npos && text.back() != '.' &&
         text.find_first_of(" \t\r\n<>\"") == std::string_view::npos;
}

std::optional<std::string> OptionalText(const store::Field& field) { return field.optional_text(); }

std::optional<int64_t> OptionalInt(const store::Field& field) {
  if (field.is_null()) return std::nullopt;
  return field.as_int();
}

store::Param OptionalParam(const std::optional<std::string>& value) {
  if (!value) return store::Param{nullptr};
  return store::Param{*value};
}

store::Param OptionalParam(const std::optional<int64_t>& value) {
  if (!value) return store::Param{nullptr};
  return store::Param{*value};
}

std::string DetailsJson(const IncidentReport& report) {
  JsonValue details = JsonValue::MakeObject();
  JsonValue indicators = JsonValue::MakeArray();
  for (const auto& indicator : report.indicators) {
    JsonValue item = JsonValue::MakeObject();
    item.Set("type", indicator.type);
    item.Set("value", indicator.value);
    indicators.Push(std::move(item));
  }
  details.Set("indicators", std::move(indicators));
  details.Set("mitigations",
              report.mitigations ? JsonValue(*report.mitigations) : JsonValue(nullptr));
  JsonValue contact = JsonValue::MakeObject();
  contact.Set("name", report.point_of_contact.name);
  contact.Set("email", report.point_of_contact.email);
  contact.Set("phone", report.point_of_contact.phone ? JsonValue(*report.point_of_contact.phone)
                                                     : JsonValue(nullptr));
  details.Set("point_of_contact", std::move(contact));
  return details.Serialize();
}

void ReadDetails(const std::string& text, IncidentReport& report) {
  auto parsed = JsonValue::Parse(text);
  if (!parsed || !parsed->is_object()) return;  // written by us; nothing to recover from
  if (const JsonValue* indicators = parsed->Find("indicators");
      indicators != nullptr && indicators->is_array()) {
    for (const auto& item : indicators->as_array()) {
      const JsonValue* type = item.Find("type");
      const JsonValue* value = item.Find("value");
      if (type != nullptr && type->is_string() && value != nullptr && value->is_string()) {
        report.indicators.push_back({type->as_string(), value->as_string()});
      }
    }
  }
  if (const JsonValue* mitigations = parsed->Find("mitigations");
      mitigations != nullptr && mitigations->is_string()) {
    report.mitigations = mitigations->as_string();
  }
  if (const JsonValue* contact = parsed->Find("point_of_contact");
      contact != nullptr && contact->is_object()) {
    auto text_of = [&](std::string_view key) -> std::optional<std::string> {
      const JsonValue* value = contact->Find(key);
      if (value == nullptr || !value->is_string()) return std::nullopt;
      return value->as_string();
    };
    report.point_of_contact.name = text_of("name").value_or("");
    report.point_of_contact.email = text_of("email").value_or("");
    report.point_of_contact.phone = text_of("phone");
  }
}

Incident RowToIncident(const std::vector<store::Field>& row) {
  Incident incident;
  size_t c = 0;
  incident.id = row[c++].text();
  incident.reference = row[c++].text();
  incident.owner_org_id = row[c++].text();
  incident.author_id = row[c++].text();
  incident.report.tlp = ParseTlp(row[c++].text()).value_or(Tlp::kRed);
  incident.status = ParseIncidentStatus(row[c++].text()).value_or(IncidentStatus::kReported);
  IncidentReport& report = incident.report;
  report.title = row[c++].text();
  report.description = row[c++].text();
  report.category = row[c++].text();
  report.functional_impact = row[c++].text();
  report.information_impact = row[c++].text();
  report.recoverability = row[c++].text();
  report.observed_activity = OptionalText(row[c++]);
  report.location = row[c++].text();
  report.attack_vector = OptionalText(row[c++]);
  report.actor_characterization = OptionalText(row[c++]);
  report.cross_sector_dependency = OptionalText(row[c++]);
  report.potential_impact = OptionalText(row[c++]);
  report.detected_at = row[c++].as_int();
  report.occurred_at = OptionalInt(row[c++]);
  report.systems_affected = OptionalInt(row[c++]);
  report.records_affected = OptionalInt(row[c++]);
  report.users_affected = OptionalInt(row[c++]);
  ReadDetails(row[c++].text(), report);
  incident.created_at = row[c++].as_int();
  incident.updated_at = row[c++].as_int();
  incident.version = row[c++].as_int();
  incident.score = ScoreIncident(report.Scoring());
  return incident;
}

// Loads the incident row and its grants; nullopt when it does not exist.
std::optional<Incident> LoadIncident(store::Connection& connection, std::string_view id) {
  store::Rows rows = connection.Query(
      fmt::format("SELECT {} FROM incidents WHERE id = $1", INCIDENT_COLUMNS),
      {store::Param{std::string(id)}});
  if (rows.empty()) return std::nullopt;
  Incident incident = RowToIncident(rows.rows[0]);
  Marking marking;
  LoadGrants(connection, OBJECT_TYPE, incident.id, marking);
  incident.report.shared_with = std::move(marking.shared_org_ids);
  incident.report.recipients = std::move(marking.named_user_ids);
  incident.assignee_ids = std::move(marking.assignee_ids);
  for (const auto& row : connection
                             .Query("SELECT technique FROM incident_techniques WHERE "
                                    "incident_id = $1 ORDER BY technique",
                                    {store::Param{incident.id}})
                             .rows) {
    incident.report.techniques.push_back(row[0].text());
  }
  return incident;
}

// Normalised ("t1110" -> "T1110"), each once, sorted: the order people typed them in carries
// no meaning, and a sorted list compares equal however it was given.
std::vector<std::string> NormalizedTechniques(const std::vector<std::string>& ids) {
  std::vector<std::string> out;
  for (const auto& id : ids) out.push_back(NormalizeTechniqueId(id).value_or(id));
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

// Once the ATT&CK catalogue is imported, technique ids must name techniques it knows (a typo
// would otherwise count as a technique of its own in the heatmap).
std::optional<IncidentError> CheckTechniques(store::Connection& connection,
                                             const std::vector<std::string>& techniques) {
  if (techniques.empty() || !AttackCatalogueLoaded(connection)) return std::nullopt;
  std::vector<ResolvedTechnique> resolved = ResolveTechniques(connection, techniques);
  for (size_t i = 0; i < techniques.size(); ++i) {
    std::optional<std::string> id = NormalizeTechniqueId(techniques[i]);
    bool known = std::any_of(resolved.begin(), resolved.end(), [&](const ResolvedTechnique& r) {
      return r.known && id && r.id == *id;
    });
    if (!known) {
      std::string field = fmt::format("techniques[{}]", i);
      return Invalid(fmt::format("{} names no technique of the ATT&CK catalogue", field), field);
    }
  }
  return std::nullopt;
}

void SaveTechniques(store::Connection& connection, const std::string& incident_id,
                    const std::vector<std::string>& techniques, bool replace) {
  if (replace) {
    connection.Execute("DELETE FROM incident_techniques WHERE incident_id = $1",
                       {store::Param{incident_id}});
  }
  for (const auto& technique : techniques) {
    connection.Execute(
        "INSERT INTO incident_techniques (incident_id, technique) VALUES ($1, $2)",
        {store::Param{incident_id}, store::Param{technique}});
  }
}

// Loads an incident the principal may read; kNotFound otherwise (never revealing existence).
IncidentResult<Incident> LoadReadable(store::Connection& connection, const Principal& principal,
                                      std::string_view id) {
  if (!PlausibleId(id)) return NotFound();
  std::optional<Incident> incident = LoadIncident(connection, id);
  if (!incident || !CanRead(principal, incident->ToMarking())) return NotFound();
  return std::move(*incident);
}

void RecordHistory(store::Connection& connection, std::string_view incident_id, int64_t at,
                   const Principal& principal, std::string_view kind,
                   std::optional<std::string_view> from_status,
                   std::optional<std::string_view> to_status, const JsonValue& detail) {
  connection.Execute(
      "INSERT INTO incident_history (id, incident_id, at, actor_id, kind, from_status, "
      "to_status, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
      {store::Param{NewId()}, store::Param{std::string(incident_id)}, store::Param{at},
       store::Param{principal.user_id}, store::Param{std::string(kind)},
       from_status ? store::Param{std::string(*from_status)} : store::Param{nullptr},
       to_status ? store::Param{std::string(*to_status)} : store::Param{nullptr},
       store::Param{detail.Serialize()}});
}

void Audit(store::Connection& connection, const Principal& principal, std::string action,
           const Incident& incident, const JsonValue& detail, int64_t at) {
  AuditEntry entry = EntryFor(principal, std::move(action), std::string(OBJECT_TYPE), incident.id,
                              incident.report.tlp);
  entry.detail = detail.Serialize();
  AuditLog::Append(connection, entry, at);
}

std::string NextReference(store::Connection& connection, int64_t now_ms) {
  std::string year = FormatTimestampMs(now_ms).substr(0, 4);
  store::Rows rows = connection.Query(
      "INSERT INTO counters (name, value) VALUES ($1, 1) ON CONFLICT (name) DO UPDATE SET "
      "value = counters.value + 1 RETURNING value",
      {store::Param{"incident-" + year}});
  return fmt::format("INC-{}-{:06d}", year, rows.rows.at(0).at(0).as_int());
}

bool Exists(store::Connection& connection, std::string_view sql, const std::string& id) {
  return !connection.Query(sql, {store::Param{id}}).empty();
}

// Removes repeated ids, keeping the first occurrence (the order people typed them in).
std::vector<std::string> Unique(const std::vector<std::string>& ids) {
  std::vector<std::string> out;
  for (const auto& id : ids) {
    if (std::find(out.begin(), out.end(), id) == out.end()) out.push_back(id);
  }
  return out;
}

// Checks that the organisations and users a report names exist.
std::optional<IncidentError> CheckAudience(store::Connection& connection,
                                           const IncidentReport& report) {
  for (size_t i = 0; i < report.shared_with.size(); ++i) {
    if (!PlausibleId(report.shared_with[i]) ||
        !Exists(connection, "SELECT 1 FROM organizations WHERE id = $1", report.shared_with[i])) {
      std::string field = fmt::format("shared_with[{}]", i);
      return Invalid(fmt::format("{} names no organization", field), field);
    }
  }
  for (size_t i = 0; i < report.recipients.size(); ++i) {
    if (!PlausibleId(report.recipients[i]) ||
        !Exists(connection, "SELECT 1 FROM users WHERE id = $1", report.recipients[i])) {
      std::string field = fmt::format("recipients[{}]", i);
      return Invalid(fmt::format("{} names no user", field), field);
    }
  }
  return std::nullopt;
}

// Names of the report fields that differ, for the history and the audit detail.
std::vector<std::string> ChangedFields(const IncidentReport& a, const IncidentReport& b) {
  std::vector<std::string> changed;
  auto compare = [&](std::string_view name, const auto& x, const auto& y) {
    if (!(x == y)) changed.emplace_back(name);
  };
  compare("title", a.title, b.title);
  compare("description", a.description, b.description);
  compare("category", a.category, b.category);
  compare("functional_impact", a.functional_impact, b.functional_impact);
  compare("information_impact", a.information_impact, b.information_impact);
  compare("recoverability", a.recoverability, b.recoverability);
  compare("location", a.location, b.location);
  compare("observed_activity", a.observed_activity, b.observed_activity);
  compare("actor_characterization", a.actor_characterization, b.actor_characterization);
  compare("cross_sector_dependency", a.cross_sector_dependency, b.cross_sector_dependency);
  compare("potential_impact", a.potential_impact, b.potential_impact);
  compare("attack_vector", a.attack_vector, b.attack_vector);
  compare("detected_at", a.detected_at, b.detected_at);
  compare("occurred_at", a.occurred_at, b.occurred_at);
  compare("systems_affected", a.systems_affected, b.systems_affected);
  compare("records_affected", a.records_affected, b.records_affected);
  compare("users_affected", a.users_affected, b.users_affected);
  bool indicators_equal =
      a.indicators.size() == b.indicators.size() &&
      std::equal(a.indicators.begin(), a.indicators.end(), b.indicators.begin(),
                 [](const Indicator& x, const Indicator& y) {
                   return x.type == y.type && x.value == y.value;
                 });
  if (!indicators_equal) changed.emplace_back("indicators");
  compare("mitigations", a.mitigations, b.mitigations);
  bool contact_equal = a.point_of_contact.name == b.point_of_contact.name &&
                       a.point_of_contact.email == b.point_of_contact.email &&
                       a.point_of_contact.phone == b.point_of_contact.phone;
  if (!contact_equal) changed.emplace_back("point_of_contact");
  compare("tlp", a.tlp, b.tlp);
  auto sorted = [](std::vector<std::string> ids) {
    std::sort(ids.begin(), ids.end());
    return ids;
  };
  compare("shared_with", sorted(a.shared_with), sorted(b.shared_with));
  compare("recipients", sorted(a.recipients), sorted(b.recipients));
  compare("techniques", a.techniques, b.techniques);
  return changed;
}

JsonValue StringArray(const std::vector<std::string>& items) {
  JsonValue array = JsonValue::MakeArray();
  for (const auto& item : items) array.Push(item);
  return array;
}

IncidentResult<IncidentLink> ReadableLinkTarget(store::Connection& connection,
                                                const Principal& principal,
                                                const std::string& other_id) {
  auto other = LoadReadable(connection, principal, other_id);
  if (!other) return tl::unexpected(other.error());
  IncidentLink link;
  link.incident_id = other->id;
  link.reference = other->reference;
  link.title = other->report.title;
  return link;
}

constexpr std::string_view ATTACHMENT_COLUMNS =
    "id, object_id, filename, content_type, size, sha256, uploaded_by, uploaded_at";

AttachmentInfo RowToAttachment(const std::vector<store::Field>& row) {
  AttachmentInfo info;
  info.id = row[0].text();
  info.incident_id = row[1].text();
  info.filename = row[2].text();
  info.content_type = row[3].text();
  info.size = row[4].as_int();
  info.sha256 = row[5].text();
  info.uploaded_by = row[6].text();
  info.uploaded_at = row[7].as_int();
  return info;
}

// Metadata only: the content stays in the database until someone downloads it.
std::vector<AttachmentInfo> AttachmentsOf(store::Connection& connection,
                                          const std::string& incident_id) {
  std::vector<AttachmentInfo> items;
  store::Rows rows = connection.Query(
      fmt::format("SELECT {} FROM attachments WHERE object_type = $1 AND object_id = $2 "
                  "ORDER BY uploaded_at, id",
                  ATTACHMENT_COLUMNS),
      {store::Param{std::string(OBJECT_TYPE)}, store::Param{incident_id}});
  for (const auto& row : rows.rows) items.push_back(RowToAttachment(row));
  return items;
}

}  // namespace

std::string_view ToString(IncidentStatus status) {
  return STATUS_NAMES[static_cast<size_t>(status)];
}

std::optional<IncidentStatus> ParseIncidentStatus(std::string_view text) {
  for (size_t i = 0; i < STATUS_NAMES.size(); ++i) {
    if (STATUS_NAMES[i] == text) return static_cast<IncidentStatus>(i);
  }
  return std::nullopt;
}

std::span<const std::string_view> IncidentStatusNames() { return STATUS_NAMES; }
std::span<const std::string_view> IncidentCategoryNames() { return CATEGORY_NAMES; }
std::span<const std::string_view> AttackVectorNames() { return ATTACK_VECTOR_NAMES; }
std::span<const std::string_view> IndicatorTypeNames() { return INDICATOR_TYPE_NAMES; }
std::span<const std::string_view> LinkRelationNames() { return LINK_RELATION_NAMES; }

std::string_view InverseRelation(std::string_view relation) {
  if (relation == "parent") return "child";
  if (relation == "child") return "parent";
  return relation;
}

ScoringInputs IncidentReport::Scoring() const {
  ScoringInputs inputs;
  inputs.functional_impact = functional_impact;
  inputs.information_impact = information_impact;
  inputs.recoverability = recoverability;
  inputs.location = location;
  inputs.observed_activity = observed_activity;
  inputs.actor_characterization = actor_characterization;
  inputs.cross_sector_dependency = cross_sector_dependency;
  inputs.potential_impact = potential_impact;
  return inputs;
}

Marking Incident::ToMarking() const {
  Marking marking;
  marking.tlp = report.tlp;
  marking.owner_org_id = owner_org_id;
  marking.author_id = author_id;
  marking.addressed = false;
  marking.centre_intake = true;
  marking.shared_org_ids = report.shared_with;
  marking.named_user_ids = report.recipients;
  marking.assignee_ids = assignee_ids;
  return marking;
}

std::optional<IncidentError> ValidateReport(const IncidentReport& report) {
  if (auto error = CheckText("title", report.title, INCIDENT_TITLE_MAX, true)) return error;
  if (auto error = CheckText("description", report.description, INCIDENT_DESCRIPTION_MAX, true)) {
    return error;
  }
  if (!OneOf(CATEGORY_NAMES, report.category)) {
    return Invalid("category is not one of the allowed values", "category");
  }
  if (auto error = CheckFactor(ScoringFactor::kFunctionalImpact, "functional_impact",
                               report.functional_impact)) {
    return error;
  }
  if (auto error = CheckFactor(ScoringFactor::kInformationImpact, "information_impact",
                               report.information_impact)) {
    return error;
  }
  if (auto error =
          CheckFactor(ScoringFactor::kRecoverability, "recoverability", report.recoverability)) {
    return error;
  }
  if (auto error = CheckFactor(ScoringFactor::kLocation, "location", report.location)) {
    return error;
  }
  if (auto error = CheckFactor(ScoringFactor::kObservedActivity, "observed_activity",
                               report.observed_activity)) {
    return error;
  }
  if (auto error = CheckFactor(ScoringFactor::kActorCharacterization, "actor_characterization",
                               report.actor_characterization)) {
    return error;
  }
  if (auto error = CheckFactor(ScoringFactor::kCrossSectorDependency, "cross_sector_dependency",
                               report.cross_sector_dependency)) {
    return error;
  }
  if (auto error = CheckFactor(ScoringFactor::kPotentialImpact, "potential_impact",
                               report.potential_impact)) {
    return error;
  }
  if (report.attack_vector && !OneOf(ATTACK_VECTOR_NAMES, *report.attack_vector)) {
    return Invalid("attack_vector is not one of the allowed values", "attack_vector");
  }
  if (report.detected_at < 0) return Invalid("detected_at is before 1970", "detected_at");
  if (report.occurred_at && *report.occurred_at > report.detected_at) {
    return Invalid("occurred_at must not be after detected_at", "occurred_at");
  }
  const std::array<std::pair<std::string_view, const std::optional<int64_t>*>, 3> counts = {{
      {"systems_affected", &report.systems_affected},
      {"records_affected", &report.records_affected},
      {"users_affected", &report.users_affected},
  }};
  for (const auto& [name, value] : counts) {
    if (*value && (**value < 0 || **value > INCIDENT_COUNT_MAX)) {
      return Invalid(fmt::format("{} must be between 0 and {}", name, INCIDENT_COUNT_MAX),
                     std::string(name));
    }
  }
  if (report.indicators.size() > INCIDENT_INDICATORS_MAX) {
    return Invalid(fmt::format("indicators has more than {} items", INCIDENT_INDICATORS_MAX),
                   "indicators");
  }
  for (size_t i = 0; i < report.indicators.size(); ++i) {
    const Indicator& indicator = report.indicators[i];
    if (!OneOf(INDICATOR_TYPE_NAMES, indicator.type)) {
      std::string field = fmt::format("indicators[{}].type", i);
      return Invalid(fmt::format("{} is not one of the allowed values", field), field);
    }
    if (auto error = CheckText(fmt::format("indicators[{}].value", i), indicator.value,
                               INCIDENT_INDICATOR_VALUE_MAX, true)) {
      return error;
    }
  }
  if (report.mitigations) {
    if (auto error =
            CheckText("mitigations", *report.mitigations, INCIDENT_MITIGATIONS_MAX, false)) {
      return error;
    }
  }
  if (auto error = CheckText("point_of_contact.name", report.point_of_contact.name, 200, true)) {
    return error;
  }
  if (!LooksLikeEmail(report.point_of_contact.email) ||
      CodePoints(report.point_of_contact.email) > 254 ||
      CheckText("point_of_contact.email", report.point_of_contact.email, 254, true)) {
    return Invalid("point_of_contact.email is not an e-mail address", "point_of_contact.email");
  }
  if (report.point_of_contact.phone) {
    if (auto error =
            CheckText("point_of_contact.phone", *report.point_of_contact.phone, 50, false)) {
      return error;
    }
  }
  if (!report.shared_with.empty() && report.tlp != Tlp::kAmber) {
    return Invalid("shared_with is allowed only with TLP amber", "shared_with");
  }
  if (!report.recipients.empty() && report.tlp != Tlp::kRed) {
    return Invalid("recipients is allowed only with TLP red", "recipients");
  }
  if (report.shared_with.size() > INCIDENT_AUDIENCE_MAX) {
    return Invalid(fmt::format("shared_with has more than {} items", INCIDENT_AUDIENCE_MAX),
                   "shared_with");
  }
  if (report.recipients.size() > INCIDENT_AUDIENCE_MAX) {
    return Invalid(fmt::format("recipients has more than {} items", INCIDENT_AUDIENCE_MAX),
                   "recipients");
  }
  if (report.techniques.size() > INCIDENT_TECHNIQUES_MAX) {
    return Invalid(fmt::format("techniques has more than {} items", INCIDENT_TECHNIQUES_MAX),
                   "techniques");
  }
  for (size_t i = 0; i < report.techniques.size(); ++i) {
    if (!NormalizeTechniqueId(report.techniques[i])) {
      std::string field = fmt::format("techniques[{}]", i);
      return Invalid(fmt::format("{} is not an ATT&CK technique id such as T1110 or T1110.001",
                                 field),
                     field);
    }
  }
  return std::nullopt;
}

IncidentResult<Incident> CreateIncident(store::Connection& connection, const Principal& principal,
                                        const IncidentReport& input,
                                        std::optional<std::string> owner_org_id, int64_t now_ms) {
  std::string owner = owner_org_id.value_or(principal.org_id);
  if (!can::ReportIncidentFor(principal, owner)) {
    return Refuse(IncidentErrorKind::kForbidden,
                  owner_org_id ? "you may not report incidents on behalf of this organization"
                               : "your role may not report incidents");
  }
  IncidentReport report = input;
  report.shared_with = Unique(report.shared_with);
  report.recipients = Unique(report.recipients);
  if (auto error = ValidateReport(report)) return tl::unexpected(*error);
  if (auto error = CheckTechniques(connection, report.techniques)) return tl::unexpected(*error);
  report.techniques = NormalizedTechniques(report.techniques);
  if (!PlausibleId(owner) ||
      !Exists(connection, "SELECT 1 FROM organizations WHERE id = $1", owner)) {
    return Refuse(IncidentErrorKind::kInvalid, "owner_org_id names no organization",
                  "owner_org_id");
  }
  if (auto error = CheckAudience(connection, report)) return tl::unexpected(*error);

  Incident incident;
  incident.id = NewId();
  incident.reference = NextReference(connection, now_ms);
  incident.owner_org_id = owner;
  incident.author_id = principal.user_id;
  incident.status = IncidentStatus::kReported;
  incident.report = std::move(report);
  incident.score = ScoreIncident(incident.report.Scoring());
  incident.created_at = now_ms;
  incident.updated_at = now_ms;
  incident.version = 1;
  const IncidentReport& r = incident.report;
  connection.Execute(
      "INSERT INTO incidents (id, reference, owner_org_id, author_id, tlp, addressed, "
      "centre_intake, title, description, category, status, functional_impact, "
      "information_impact, recoverability, observed_activity, location, attack_vector, "
      "actor_characterization, cross_sector_dependency, potential_impact, detected_at, "
      "occurred_at, systems_affected, records_affected, users_affected, details, score, "
      "priority, created_at, updated_at, version) VALUES ($1, $2, $3, $4, $5, 0, 1, $6, $7, $8, "
      "$9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, "
      "$27, $27, 1)",
      {store::Param{incident.id}, store::Param{incident.reference},
       store::Param{incident.owner_org_id}, store::Param{incident.author_id},
       store::Param{std::string(ToString(r.tlp))}, store::Param{r.title},
       store::Param{r.description}, store::Param{r.category},
       store::Param{std::string(ToString(incident.status))}, store::Param{r.functional_impact},
       store::Param{r.information_impact}, store::Param{r.recoverability},
       OptionalParam(r.observed_activity), store::Param{r.location},
       OptionalParam(r.attack_vector), OptionalParam(r.actor_characterization),
       OptionalParam(r.cross_sector_dependency), OptionalParam(r.potential_impact),
       store::Param{r.detected_at}, OptionalParam(r.occurred_at),
       OptionalParam(r.systems_affected), OptionalParam(r.records_affected),
       OptionalParam(r.users_affected), store::Param{DetailsJson(r)},
       store::Param{incident.score.value},
       store::Param{static_cast<int64_t>(incident.score.priority.level)},
       store::Param{now_ms}});
  if (!r.shared_with.empty() || !r.recipients.empty()) {
    SaveGrants(connection, OBJECT_TYPE, incident.id, incident.ToMarking());
  }
  SaveTechniques(connection, incident.id, r.techniques, false);
  JsonValue detail = JsonValue::MakeObject();
  detail.Set("reference", incident.reference);
  detail.Set("owner_org_id", incident.owner_org_id);
  detail.Set("score", incident.score.value);
  detail.Set("priority", static_cast<int64_t>(incident.score.priority.level));
  RecordHistory(connection, incident.id, now_ms, principal, "created", std::nullopt,
                ToString(incident.status), detail);
  Audit(connection, principal, "incident.create", incident, detail, now_ms);
  return incident;
}

IncidentResult<Incident> GetIncident(store::Connection& connection, const Principal& principal,
                                     std::string_view id) {
  auto incident = LoadReadable(connection, principal, id);
  if (!incident) return incident;

  // Links in both directions, to incidents this principal may read only: a link must not
  // reveal an incident's title or existence to someone who could not open it.
  SqlCondition readable = ReadCondition(principal, OBJECT_TYPE, "i", 2);
  std::string sql = fmt::format(
      "SELECT i.id, i.reference, i.title, l.relation, l.created_by, l.created_at, 0 "
      "FROM incident_links l JOIN incidents i ON i.id = l.linked_incident_id "
      "WHERE l.incident_id = $1 AND {0} "
      "UNION ALL "
      "SELECT i.id, i.reference, i.title, l.relation, l.created_by, l.created_at, 1 "
      "FROM incident_links l JOIN incidents i ON i.id = l.incident_id "
      "WHERE l.linked_incident_id = $1 AND {0} "
      "ORDER BY 6, 1",
      readable.sql);
  std::vector<store::Param> params = {store::Param{incident->id}};
  params.insert(params.end(), readable.params.begin(), readable.params.end());
  for (const auto& row : connection.Query(sql, params).rows) {
    IncidentLink link;
    link.incident_id = row[0].text();
    link.reference = row[1].text();
    link.title = row[2].text();
    link.relation = row[6].as_int() == 1 ? std::string(InverseRelation(row[3].text()))
                                         : row[3].text();
    link.created_by = row[4].text();
    link.created_at = row[5].as_int();
    incident->links.push_back(std::move(link));
  }
  incident->attachments = AttachmentsOf(connection, incident->id);
  incident->comment_count =
      connection
          .Query("SELECT COUNT(*) FROM incident_comments WHERE incident_id = $1",
                 {store::Param{incident->id}})
          .rows.at(0)
          .at(0)
          .as_int();
  return incident;
}

IncidentResult<Incident> UpdateIncident(store::Connection& connection, const Principal& principal,
                                        std::string_view id, const IncidentReport& input,
                                        std::optional<int64_t> expected_version, int64_t now_ms) {
  auto current = LoadReadable(connection, principal, id);
  if (!current) return current;
  if (!can::EditIncidentReport(principal, current->ToMarking())) {
    return Refuse(IncidentErrorKind::kForbidden, "you may not edit this incident report");
  }
  if (current->status == IncidentStatus::kClosed) {
    return Refuse(IncidentErrorKind::kConflict,
                  "a closed incident cannot be edited; it must be reopened first");
  }
  if (expected_version && *expected_version != current->version) {
    return Refuse(IncidentErrorKind::kConflict,
                  fmt::format("the incident was changed meanwhile: version is {}, not {}",
                              current->version, *expected_version));
  }
  IncidentReport report = input;
  report.shared_with = Unique(report.shared_with);
  report.recipients = Unique(report.recipients);
  if (auto error = ValidateReport(report)) return tl::unexpected(*error);
  if (auto error = CheckAudience(connection, report)) return tl::unexpected(*error);
  if (NormalizedTechniques(report.techniques) != current->report.techniques) {
    if (auto error = CheckTechniques(connection, report.techniques)) {
      return tl::unexpected(*error);
    }
  }
  report.techniques = NormalizedTechniques(report.techniques);

  std::vector<std::string> changed = ChangedFields(current->report, report);
  if (changed.empty()) return current;
  {
    Marking before = current->ToMarking();
    Marking after = before;
    after.tlp = report.tlp;
    after.shared_org_ids = report.shared_with;
    after.named_user_ids = report.recipients;
    if (Widens(before, after) && !can::WidenAudience(principal, before)) {
      return Refuse(IncidentErrorKind::kForbidden,
                    "only the reporting organisation may widen who receives this report "
                    "(a less restrictive TLP or more recipients)");
    }
  }

  Incident updated = std::move(*current);
  const IncidentReport before = updated.report;
  updated.report = std::move(report);
  updated.score = ScoreIncident(updated.report.Scoring());
  updated.updated_at = now_ms;
  const IncidentReport& r = updated.report;
  int64_t rows = connection.Execute(
      "UPDATE incidents SET tlp = $1, title = $2, description = $3, category = $4, "
      "functional_impact = $5, information_impact = $6, recoverability = $7, "
      "observed_activity = $8, location = $9, attack_vector = $10, actor_characterization = $11, "
      "cross_sector_dependency = $12, potential_impact = $13, detected_at = $14, "
      "occurred_at = $15, systems_affected = $16, records_affected = $17, users_affected = $18, "
      "details = $19, score = $20, priority = $21, updated_at = $22, version = version + 1 "
      "WHERE id = $23 AND version = $24",
      {store::Param{std::string(ToString(r.tlp))}, store::Param{r.title},
       store::Param{r.description}, store::Param{r.category}, store::Param{r.functional_impact},
       store::Param{r.information_impact}, store::Param{r.recoverability},
       OptionalParam(r.observed_activity), store::Param{r.location},
       OptionalParam(r.attack_vector), OptionalParam(r.actor_characterization),
       OptionalParam(r.cross_sector_dependency), OptionalParam(r.potential_impact),
       store::Param{r.detected_at}, OptionalParam(r.occurred_at),
       OptionalParam(r.systems_affected), OptionalParam(r.records_affected),
       OptionalParam(r.users_affected), store::Param{DetailsJson(r)},
       store::Param{updated.score.value},
       store::Param{static_cast<int64_t>(updated.score.priority.level)}, store::Param{now_ms},
       store::Param{updated.id}, store::Param{updated.version}});
  if (rows != 1) {
    return Refuse(IncidentErrorKind::kConflict, "the incident was changed meanwhile");
  }
  updated.version += 1;
  bool audience_changed = std::find_if(changed.begin(), changed.end(), [](const auto& name) {
                            return name == "shared_with" || name == "recipients";
                          }) != changed.end();
  if (audience_changed) SaveGrants(connection, OBJECT_TYPE, updated.id, updated.ToMarking());
  if (before.techniques != r.techniques) SaveTechniques(connection, updated.id, r.techniques, true);

  JsonValue detail = JsonValue::MakeObject();
  detail.Set("changed", StringArray(changed));
  if (updated.score.value != ScoreIncident(before.Scoring()).value) {
    detail.Set("score", updated.score.value);
    detail.Set("priority", static_cast<int64_t>(updated.score.priority.level));
  }
  if (before.tlp != r.tlp) {
    detail.Set("tlp_from", std::string(ToString(before.tlp)));
    detail.Set("tlp_to", std::string(ToString(r.tlp)));
  }
  RecordHistory(connection, updated.id, now_ms, principal, "updated", std::nullopt, std::nullopt,
                detail);
  Audit(connection, principal, "incident.update", updated, detail, now_ms);
  return updated;
}

std::optional<IncidentError> CheckTransition(const Principal& principal, IncidentStatus from,
                                             IncidentStatus to, const std::string& note) {
  auto conflict = [&](std::string message) {
    return IncidentError{IncidentErrorKind::kConflict, std::move(message), "to"};
  };
  if (from == to) {
    return conflict(fmt::format("the incident is already {}", ToString(to)));
  }
  bool reopening = (from == IncidentStatus::kResolved || from == IncidentStatus::kClosed) &&
                   to == IncidentStatus::kInvestigating;
  if (reopening) {
    if (!(principal.IsCentreStaff() && principal.Has(Role::kCentreAdmin))) {
      return IncidentError{IncidentErrorKind::kForbidden,
                           "only a centre_admin may reopen an incident", "to"};
    }
    if (note.find_first_not_of(" \t\r\n") == std::string::npos) {
      return Invalid("note is required when reopening an incident: give the reason", "note");
    }
    return std::nullopt;
  }
  if (to < from) {
    return conflict(fmt::format("cannot go back from {} to {}; only resolved or closed "
                                "incidents may be reopened, to investigating",
                                ToString(from), ToString(to)));
  }
  if (from == IncidentStatus::kReported && to != IncidentStatus::kTriaged) {
    return conflict(fmt::format("a reported incident must be triaged before it becomes {}",
                                ToString(to)));
  }
  return std::nullopt;
}

IncidentResult<Incident> TransitionIncident(store::Connection& connection,
                                            const Principal& principal, std::string_view id,
                                            IncidentStatus to, const std::string& note,
                                            int64_t now_ms) {
  auto incident = LoadReadable(connection, principal, id);
  if (!incident) return incident;
  if (!can::TriageIncident(principal, incident->ToMarking())) {
    return Refuse(IncidentErrorKind::kForbidden,
                  "only the duty officer or centre staff assigned to the incident may change "
                  "its status");
  }
  if (auto error = CheckText("note", note, INCIDENT_COMMENT_MAX, false)) {
    return tl::unexpected(*error);
  }
  IncidentStatus from = incident->status;
  if (auto error = CheckTransition(principal, from, to, note)) return tl::unexpected(*error);
  int64_t rows = connection.Execute(
      "UPDATE incidents SET status = $1, updated_at = $2, version = version + 1 "
      "WHERE id = $3 AND version = $4",
      {store::Param{std::string(ToString(to))}, store::Param{now_ms}, store::Param{incident->id},
       store::Param{incident->version}});
  if (rows != 1) return Refuse(IncidentErrorKind::kConflict, "the incident was changed meanwhile");
  incident->status = to;
  incident->updated_at = now_ms;
  incident->version += 1;
  bool reopened = to < from;
  JsonValue detail = JsonValue::MakeObject();
  detail.Set("from", std::string(ToString(from)));
  detail.Set("to", std::string(ToString(to)));
  if (!note.empty()) detail.Set("note", note);
  RecordHistory(connection, incident->id, now_ms, principal, reopened ? "reopened" : "transition",
                ToString(from), ToString(to), detail);
  Audit(connection, principal, reopened ? "incident.reopen" : "incident.transition", *incident,
        detail, now_ms);
  return incident;
}

IncidentResult<std::vector<HistoryEntry>> IncidentHistory(store::Connection& connection,
                                                          const Principal& principal,
                                                          std::string_view id) {
  auto incident = LoadReadable(connection, principal, id);
  if (!incident) return tl::unexpected(incident.error());
  std::vector<HistoryEntry> entries;
  store::Rows rows = connection.Query(
      "SELECT id, at, actor_id, kind, from_status, to_status, detail FROM incident_history "
      "WHERE incident_id = $1 ORDER BY at, id",
      {store::Param{incident->id}});
  entries.reserve(rows.size());
  for (const auto& row : rows.rows) {
    HistoryEntry entry;
    entry.id = row[0].text();
    entry.at = row[1].as_int();
    entry.actor_id = row[2].text();
    entry.kind = row[3].text();
    entry.from_status = row[4].optional_text();
    entry.to_status = row[5].optional_text();
    entry.detail = row[6].is_null() ? "{}" : row[6].text();
    // A link entry names the other incident. Like the links of GetIncident, it is shown only
    // to those who may read that incident too: its id alone would prove that it exists.
    if (entry.kind == "linked" || entry.kind == "unlinked") {
      auto detail = JsonValue::Parse(entry.detail);
      const JsonValue* other = detail ? detail->Find("incident_id") : nullptr;
      if (other == nullptr || !other->is_string() ||
          !LoadReadable(connection, principal, other->as_string())) {
        continue;
      }
    }
    entries.push_back(std::move(entry));
  }
  return entries;
}

IncidentResult<bool> AssignIncident(store::Connection& connection, const Principal& principal,
                                    std::string_view id, const std::string& user_id,
                                    int64_t now_ms) {
  auto incident = LoadReadable(connection, principal, id);
  if (!incident) return tl::unexpected(incident.error());
  if (!can::AssignIncident(principal)) {
    return Refuse(IncidentErrorKind::kForbidden, "only centre staff may assign incidents");
  }
  bool staff = PlausibleId(user_id) &&
               !connection
                    .Query("SELECT u.id FROM users u JOIN organizations o ON o.id = u.org_id "
                           "WHERE u.id = $1 AND o.type = 'centre' AND u.disabled = 0",
                           {store::Param{user_id}})
                    .empty();
  if (!staff) {
    return Refuse(IncidentErrorKind::kInvalid, "user_id names no active centre staff user",
                  "user_id");
  }
  Marking marking = incident->ToMarking();
  if (std::find(marking.assignee_ids.begin(), marking.assignee_ids.end(), user_id) !=
      marking.assignee_ids.end()) {
    return false;
  }
  marking.assignee_ids.push_back(user_id);
  SaveGrants(connection, OBJECT_TYPE, incident->id, marking);
  connection.Execute("UPDATE incidents SET updated_at = $1 WHERE id = $2",
                     {store::Param{now_ms}, store::Param{incident->id}});
  JsonValue detail = JsonValue::MakeObject();
  detail.Set("user_id", user_id);
  RecordHistory(connection, incident->id, now_ms, principal, "assigned", std::nullopt,
                std::nullopt, detail);
  Audit(connection, principal, "incident.assign", *incident, detail, now_ms);
  return true;
}

IncidentResult<void> UnassignIncident(store::Connection& connection, const Principal& principal,
                                      std::string_view id, const std::string& user_id,
                                      int64_t now_ms) {
  auto incident = LoadReadable(connection, principal, id);
  if (!incident) return tl::unexpected(incident.error());
  if (!can::AssignIncident(principal)) {
    return Refuse(IncidentErrorKind::kForbidden, "only centre staff may assign incidents");
  }
  Marking marking = incident->ToMarking();
  auto it = std::find(marking.assignee_ids.begin(), marking.assignee_ids.end(), user_id);
  if (it == marking.assignee_ids.end()) return NotFound("assignee");
  marking.assignee_ids.erase(it);
  SaveGrants(connection, OBJECT_TYPE, incident->id, marking);
  connection.Execute("UPDATE incidents SET updated_at = $1 WHERE id = $2",
                     {store::Param{now_ms}, store::Param{incident->id}});
  JsonValue detail = JsonValue::MakeObject();
  detail.Set("user_id", user_id);
  RecordHistory(connection, incident->id, now_ms, principal, "unassigned", std::nullopt,
                std::nullopt, detail);
  Audit(connection, principal, "incident.unassign", *incident, detail, now_ms);
  return {};
}

IncidentResult<IncidentComment> AddComment(store::Connection& connection,
                                           const Principal& principal, std::string_view id,
                                           const std::string& body, int64_t now_ms) {
  auto incident = LoadReadable(connection, principal, id);
  if (!incident) return tl::unexpected(incident.error());
  if (!can::Comment(principal, incident->ToMarking())) {
    return Refuse(IncidentErrorKind::kForbidden, "you may not comment on this incident");
  }
  if (auto error = CheckText("body", body, INCIDENT_COMMENT_MAX, true)) {
    return tl::unexpected(*error);
  }
  IncidentComment comment{NewId(), incident->id, principal.user_id, body, now_ms};
  connection.Execute(
      "INSERT INTO incident_comments (id, incident_id, author_id, body, created_at) "
      "VALUES ($1, $2, $3, $4, $5)",
      {store::Param{comment.id}, store::Param{comment.incident_id},
       store::Param{comment.author_id}, store::Param{comment.body}, store::Param{now_ms}});
  JsonValue detail = JsonValue::MakeObject();
  detail.Set("comment_id", comment.id);
  Audit(connection, principal, "incident.comment", *incident, detail, now_ms);
  return comment;
}

IncidentResult<CommentPage> ListComments(store::Connection& connection, const Principal& principal,
                                         std::string_view id,
                                         std::optional<std::pair<int64_t, std::string>> after,
                                         int limit) {
  auto incident = LoadReadable(connection, principal, id);
  if (!incident) return tl::unexpected(incident.error());
  std::vector<store::Param> params = {store::Param{incident->id},
                                      store::Param{static_cast<int64_t>(limit) + 1}};
  std::string sql =
      "SELECT id, incident_id, author_id, body, created_at FROM incident_comments "
      "WHERE incident_id = $1";
  if (after) {
    sql += " AND (created_at, id) > ($3, $4)";
    params.push_back(store::Param{after->first});
    params.push_back(store::Param{after->second});
  }
  sql += " ORDER BY created_at, id LIMIT $2";
  CommentPage page;
  for (const auto& row : connection.Query(sql, params).rows) {
    page.items.push_back(IncidentComment{row[0].text(), row[1].text(), row[2].text(),
                                         row[3].text(), row[4].as_int()});
  }
  if (page.items.size() > static_cast<size_t>(limit)) {
    page.items.pop_back();
    page.more = true;
  }
  return page;
}

IncidentResult<IncidentLink> LinkIncidents(store::Connection& connection,
                                           const Principal& principal, std::string_view id,
                                           const std::string& other_id,
                                           const std::string& relation, int64_t now_ms) {
  auto incident = LoadReadable(connection, principal, id);
  if (!incident) return tl::unexpected(incident.error());
  if (!OneOf(LINK_RELATION_NAMES, relation)) {
    return Refuse(IncidentErrorKind::kInvalid, "relation is not one of the allowed values",
                  "relation");
  }
  if (other_id == incident->id) {
    return Refuse(IncidentErrorKind::kInvalid, "an incident cannot be linked to itself",
                  "incident_id");
  }
  auto target = ReadableLinkTarget(connection, principal, other_id);  // checks the id's form
  if (!target) {
    // The same answer for a missing and an unreadable incident.
    return Refuse(IncidentErrorKind::kInvalid, "incident_id names no incident you can read",
                  "incident_id");
  }
  if (!can::EditIncidentReport(principal, incident->ToMarking())) {
    return Refuse(IncidentErrorKind::kForbidden, "you may not link this incident");
  }
  bool exists = !connection
                     .Query("SELECT 1 FROM incident_links WHERE (incident_id = $1 AND "
                            "linked_incident_id = $2) OR (incident_id = $2 AND "
                            "linked_incident_id = $1)",
                            {store::Param{incident->id}, store::Param{other_id}})
                     .empty();
  if (exists) return Refuse(IncidentErrorKind::kConflict, "the incidents are already linked");
  connection.Execute(
      "INSERT INTO incident_links (incident_id, linked_incident_id, relation, created_by, "
      "created_at) VALUES ($1, $2, $3, $4, $5)",
      {store::Param{incident->id}, store::Param{other_id}, store::Param{relation},
       store::Param{principal.user_id}, store::Param{now_ms}});
  IncidentLink link = std::move(*target);
  link.relation = relation;
  link.created_by = principal.user_id;
  link.created_at = now_ms;
  JsonValue detail = JsonValue::MakeObject();
  detail.Set("incident_id", other_id);
  detail.Set("relation", relation);
  RecordHistory(connection, incident->id, now_ms, principal, "linked", std::nullopt, std::nullopt,
                detail);
  JsonValue reverse = JsonValue::MakeObject();
  reverse.Set("incident_id", incident->id);
  reverse.Set("relation", std::string(InverseRelation(relation)));
  RecordHistory(connection, other_id, now_ms, principal, "linked", std::nullopt, std::nullopt,
                reverse);
  Audit(connection, principal, "incident.link", *incident, detail, now_ms);
  return link;
}

IncidentResult<void> UnlinkIncidents(store::Connection& connection, const Principal& principal,
                                     std::string_view id, const std::string& other_id,
                                     int64_t now_ms) {
  auto incident = LoadReadable(connection, principal, id);
  if (!incident) return tl::unexpected(incident.error());
  auto target = ReadableLinkTarget(connection, principal, other_id);
  if (!target) return NotFound("link");
  if (!can::EditIncidentReport(principal, incident->ToMarking())) {
    return Refuse(IncidentErrorKind::kForbidden, "you may not unlink this incident");
  }
  int64_t removed = connection.Execute(
      "DELETE FROM incident_links WHERE (incident_id = $1 AND linked_incident_id = $2) OR "
      "(incident_id = $2 AND linked_incident_id = $1)",
      {store::Param{incident->id}, store::Param{other_id}});
  if (removed == 0) return NotFound("link");
  JsonValue detail = JsonValue::MakeObject();
  detail.Set("incident_id", other_id);
  RecordHistory(connection, incident->id, now_ms, principal, "unlinked", std::nullopt,
                std::nullopt, detail);
  JsonValue reverse = JsonValue::MakeObject();
  reverse.Set("incident_id", incident->id);
  RecordHistory(connection, other_id, now_ms, principal, "unlinked", std::nullopt, std::nullopt,
                reverse);
  Audit(connection, principal, "incident.unlink", *incident, detail, now_ms);
  return {};
}

IncidentResult<AttachmentInfo> AddAttachment(store::Connection& connection,
                                             const Principal& principal, std::string_view id,
                                             const std::string& filename,
                                             const std::string& content_type,
                                             const std::string& content, int64_t now_ms) {
  auto incident = LoadReadable(connection, principal, id);
  if (!incident) return tl::unexpected(incident.error());
  if (!can::EditIncidentReport(principal, incident->ToMarking())) {
    return Refuse(IncidentErrorKind::kForbidden, "you may not add attachments to this incident");
  }
  if (!ValidFilename(filename)) {
    return Refuse(IncidentErrorKind::kInvalid,
                  "filename must be 1 to 255 characters without path separators, quotes or "
                  "control characters",
                  "filename");
  }
  if (!ValidContentType(content_type)) {
    return Refuse(IncidentErrorKind::kInvalid, "Content-Type is not a media type",
                  "content_type");
  }
  if (content.empty()) {
    return Refuse(IncidentErrorKind::kInvalid, "the attachment is empty", "body");
  }
  const std::string sha256 = Sha256Hex(content);
  const auto size = static_cast<int64_t>(content.size());
  // Two identical uploads at once (a client retrying before its first answer) must not both
  // find nothing and both insert.
  store::SerializeWith(connection,
                       fmt::format("attachment {} {} {}", OBJECT_TYPE, incident->id, sha256));
  store::Rows same = connection.Query(
      fmt::format("SELECT {} FROM attachments WHERE object_type = $1 AND object_id = $2 AND "
                  "filename = $3 AND size = $4 AND sha256 = $5 ORDER BY uploaded_at, id LIMIT 1",
                  ATTACHMENT_COLUMNS),
      {store::Param{std::string(OBJECT_TYPE)}, store::Param{incident->id}, store::Param{filename},
       store::Param{size}, store::Param{sha256}});
  if (!same.empty()) {
    AttachmentInfo info = RowToAttachment(same.rows[0]);
    info.already_attached = true;
    JsonValue detail = JsonValue::MakeObject();
    detail.Set("attachment_id", info.id);
    detail.Set("filename", info.filename);
    detail.Set("size", info.size);
    detail.Set("sha256", info.sha256);
    detail.Set("already_attached", true);
    Audit(connection, principal, "incident.attachment.add", *incident, detail, now_ms);
    return info;
  }
  AttachmentInfo info;
  info.id = NewId();
  info.incident_id = incident->id;
  info.filename = filename;
  info.content_type = content_type;
  info.size = size;
  info.sha256 = sha256;
  info.uploaded_by = principal.user_id;
  info.uploaded_at = now_ms;
  connection.Execute(
      "INSERT INTO attachments (id, object_type, object_id, filename, content_type, size, "
      "sha256, content, uploaded_by, uploaded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, "
      "$10)",
      {store::Param{info.id}, store::Param{std::string(OBJECT_TYPE)}, store::Param{info.incident_id},
       store::Param{info.filename}, store::Param{info.content_type}, store::Param{info.size},
       store::Param{info.sha256}, store::Param{store::Blob{content}},
       store::Param{info.uploaded_by}, store::Param{now_ms}});
  JsonValue detail = JsonValue::MakeObject();
  detail.Set("attachment_id", info.id);
  detail.Set("filename", info.filename);
  detail.Set("size", info.size);
  detail.Set("sha256", info.sha256);
  RecordHistory(connection, incident->id, now_ms, principal, "attachment_added", std::nullopt,
                std::nullopt, detail);
  Audit(connection, principal, "incident.attachment.add", *incident, detail, now_ms);
  return info;
}

IncidentResult<std::vector<AttachmentInfo>> ListAttachments(store::Connection& connection,
                                                            const Principal& principal,
                                                            std::string_view id) {
  auto incident = LoadReadable(connection, principal, id);
  if (!incident) return tl::unexpected(incident.error());
  return AttachmentsOf(connection, incident->id);
}

IncidentResult<Attachment> GetAttachment(store::Connection& connection,
                                         const Principal& principal, std::string_view id,
                                         std::string_view attachment_id) {
  auto incident = LoadReadable(connection, principal, id);
  if (!incident) return tl::unexpected(incident.error());
  if (!PlausibleId(attachment_id)) return NotFound("attachment");
  store::Rows rows = connection.Query(
      fmt::format("SELECT {}, content FROM attachments WHERE id = $1 AND object_type = $2 AND "
                  "object_id = $3",
                  ATTACHMENT_COLUMNS),
      {store::Param{std::string(attachment_id)}, store::Param{std::string(OBJECT_TYPE)},
       store::Param{incident->id}});
  if (rows.empty()) return NotFound("attachment");
  Attachment attachment;
  attachment.info = RowToAttachment(rows.rows[0]);
  attachment.content = rows.rows[0][8].text();
  return attachment;
}

IncidentPage ListIncidents(store::Connection& connection, const Principal& principal,
                           const IncidentFilter& filter,
                           std::optional<std::pair<int64_t, std::string>> before, int limit) {
  // Values no incident can have match nothing (and never reach the database as text it would
  // refuse).
  if ((filter.owner_org_id && !PlausibleId(*filter.owner_org_id)) ||
      (filter.category && !OneOf(CATEGORY_NAMES, *filter.category)) ||
      (filter.title_contains && CheckText("q", *filter.title_contains, 200, false))) {
    return IncidentPage{};
  }
  SqlCondition readable = ReadCondition(principal, OBJECT_TYPE, "i", 1);
  std::vector<store::Param> params = readable.params;
  auto next = [&](store::Param param) {
    params.push_back(std::move(param));
    return fmt::format("${}", params.size());
  };
  // The caller's filters and the keyset position, as " AND ..." over alias i.
  std::string filters;
  if (filter.owner_org_id) filters += fmt::format(" AND i.owner_org_id = {}", next(*filter.owner_org_id));
  if (filter.status) {
    filters += fmt::format(" AND i.status = {}", next(std::string(ToString(*filter.status))));
  }
  if (filter.category) filters += fmt::format(" AND i.category = {}", next(*filter.category));
  if (filter.priority_min) {
    filters +=
        fmt::format(" AND i.priority >= {}", next(static_cast<int64_t>(*filter.priority_min)));
  }
  if (filter.tlp) filters += fmt::format(" AND i.tlp = {}", next(std::string(ToString(*filter.tlp))));
  if (filter.assigned_to_me) {
    filters += fmt::format(
        " AND EXISTS (SELECT 1 FROM access_grants a WHERE a.object_type = 'incident' AND "
        "a.object_id = i.id AND a.kind = 'assignee' AND a.principal_id = {})",
        next(principal.user_id));
  }
  if (filter.title_contains) {
    // Lower-cased here (ASCII), so both engines compare lower(title) with the same pattern.
    std::string pattern = "%";
    for (char c : *filter.title_contains) {
      if (c == '%' || c == '_' || c == '\\') pattern += '\\';
      pattern += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    }
    pattern += '%';
    filters += fmt::format(" AND lower(i.title) LIKE {} ESCAPE '\\'", next(pattern));
  }
  if (before) {
    std::string at = next(before->first);
    std::string id = next(before->second);
    filters += fmt::format(" AND (i.created_at, i.id) < ({}, {})", at, id);
  }
  const std::string limit_param = next(static_cast<int64_t>(limit) + 1);
  const std::string order =
      fmt::format(" ORDER BY i.created_at DESC, i.id DESC LIMIT {}", limit_param);
  const std::string columns_only =
      "SELECT i.id, i.reference, i.title, i.status, i.category, i.tlp, i.owner_org_id, i.score, "
      "i.priority, i.detected_at, i.created_at, i.updated_at ";
  const std::string columns = columns_only + "FROM incidents i WHERE ";

  struct Statement {
    std::string sql;
    std::vector<store::Param> params;
  };
  std::vector<Statement> statements;
  bool own_organisation = filter.owner_org_id && *filter.owner_org_id == principal.org_id;
  if ((principal.IsCentreStaff() && principal.Has(Role::kCentreAdmin)) || own_organisation) {
    // The duty officer reads nearly everything, and a member listing its own organisation's
    // reports reads all of them but RED ones not addressed to it; so walking the
    // (created_at, id) index — or the owner's index when filtered by owner — and confirming
    // each row with the read condition finds a page at once.
    statements.push_back({columns + readable.sql + filters + order, params});
  } else {
    // Everyone else reads a small part of a large table, and one OR over all the policy's
    // clauses would make the database walk the whole table in time order (milliseconds for an
    // organisation owning 1% of 100,000 incidents). Instead each way of being allowed to read
    // (authored, named or assigned, owning organisation, shared with the organisation,
    // community GREEN, CLEAR) supplies its newest rows through its own index, and every branch
    // also applies the read condition: a branch can only narrow what the policy allows, never
    // widen it. Each branch holds only readable rows, so the newest `limit + 1` of their union
    // are the newest readable rows; they are merged here (rows found by several branches kept
    // once). The grant branches start from the caller's few grants: CROSS JOIN fixes that
    // join order on SQLite (which would otherwise walk the owner's index when filtered by
    // owner), and `object_type || ''` keeps SQLite from preferring the primary key, whose
    // only usable column is object_type, over the (principal_id, kind) index.
    // Every statement shares the parameters so far; a branch about the caller's user or
    // organisation adds its id as the last one.
    const std::string own = fmt::format("${}", params.size() + 1);
    const std::string user = principal.user_id.empty() ? std::string("\x01") : principal.user_id;
    const std::string org = principal.org_id.empty() ? std::string("\x01") : principal.org_id;
    struct Branch {
      std::string from_where;
      std::optional<std::string> own_id;
    };
    std::vector<Branch> branches = {
        {fmt::format("FROM incidents i WHERE i.author_id = {}", own), user},
        {fmt::format("FROM access_grants ag CROSS JOIN incidents i "
                     "WHERE i.id = ag.object_id AND ag.object_type || '' = 'incident' AND "
                     "ag.kind IN ('user', 'assignee') AND ag.principal_id = {}",
                     own),
         user},
        {fmt::format("FROM incidents i WHERE i.owner_org_id = {} AND i.tlp <> 'red'", own), org},
        {fmt::format("FROM access_grants ag CROSS JOIN incidents i "
                     "WHERE i.id = ag.object_id AND ag.object_type || '' = 'incident' AND "
                     "ag.kind = 'org' AND ag.principal_id = {} AND i.tlp IN ('amber', 'green', "
                     "'clear')",
                     own),
         org},
        {"FROM incidents i WHERE i.tlp = 'clear' AND i.addressed = 0", std::nullopt},
    };
    if (principal.IsMember()) {
      branches.push_back({"FROM incidents i WHERE i.tlp = 'green' AND i.addressed = 0",
                          std::nullopt});
    }
    // Separate statements rather than one UNION ALL: SQLite 3.40 spends tens of microseconds
    // on every member of such a compound even when it finds nothing, while an empty branch on
    // its own costs a few. A page is still a fixed number of queries, never one per row.
    for (const auto& branch : branches) {
      Statement statement;
      statement.sql = fmt::format("{}{} AND {}{}{}", columns_only, branch.from_where,
                                  readable.sql, filters, order);
      statement.params = params;
      if (branch.own_id) statement.params.push_back(store::Param{*branch.own_id});
      statements.push_back(std::move(statement));
    }
  }

  IncidentPage page;
  for (const auto& statement : statements) {
    store::Rows rows = connection.Query(statement.sql, statement.params);
    for (const auto& row : rows.rows) {
      IncidentSummary summary;
      summary.id = row[0].text();
      summary.reference = row[1].text();
      summary.title = row[2].text();
      summary.status = ParseIncidentStatus(row[3].text()).value_or(IncidentStatus::kReported);
      summary.category = row[4].text();
      summary.tlp = ParseTlp(row[5].text()).value_or(Tlp::kRed);
      summary.owner_org_id = row[6].text();
      summary.score = row[7].as_double();
      summary.priority = static_cast<int>(row[8].as_int());
      summary.detected_at = row[9].as_int();
      summary.created_at = row[10].as_int();
      summary.updated_at = row[11].as_int();
      page.items.push_back(std::move(summary));
    }
  }
  // Newest first; a no-op for the single ordered query, the merge for the branches.
  auto newer = [](const IncidentSummary& a, const IncidentSummary& b) {
    return a.created_at != b.created_at ? a.created_at > b.created_at : a.id > b.id;
  };
  if (!std::is_sorted(page.items.begin(), page.items.end(), newer)) {
    std::sort(page.items.begin(), page.items.end(), newer);
  }
  page.items.erase(std::unique(page.items.begin(), page.items.end(),
                               [](const auto& a, const auto& b) { return a.id == b.id; }),
                   page.items.end());
  if (page.items.size() > static_cast<size_t>(limit)) {
    page.items.resize(static_cast<size_t>(limit));
    page.more = true;
  }
  return page;
}

}  // namespace yagura::hub

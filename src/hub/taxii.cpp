// TAXII 2.1 collections, their access lists, objects and status resources (see taxii.hpp).
//
// The read rule lives in hub/policy.hpp: the view taxii_object_access presents every stored
// object version with the columns ReadCondition reads, the collection id standing in for the
// object id so that the collection's grants in access_grants are the object's audience. The
// same ReadCondition text is used twice in a query when match[version] asks for the first or
// last version, so "last" means the last version *this reader* may see.
//
// date_added is handed out under the lock of the collection row: the UPDATE ... RETURNING of
// last_date_added takes a row lock on PostgreSQL that is held until commit (SQLite's writers
// are serialised anyway), so the next adder to the same collection continues after the values
// this one used, and commits after it.
#include "hub/taxii.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <set>

#include <fmt/format.h>

#include "hub/audit_log.hpp"
#include "hub/crypto.hpp"
#include "hub/stix_export.hpp"

namespace yagura::hub {
namespace {

using store::Param;

constexpr std::string_view GRANT_TYPE = "taxii_collection";
constexpr std::string_view COLLECTION_COLUMNS =
    "c.id, c.api_root, c.alias, c.title, c.description, c.max_tlp, c.owner_org_id, "
    "c.created_at, c.updated_at";
constexpr std::string_view OBJECT_COLUMNS =
    "o.stix_id, o.version, o.version_us, o.date_added, o.type, o.spec_version, o.tlp, o.body, "
    "o.owner_org_id";
// Entries kept in an audit entry's detail; the counts are always complete.
constexpr size_t AUDIT_IDS_MAX = 100;

tl::unexpected<TaxiiError> Error(TaxiiErrorKind kind, std::string message, std::string field = {}) {
  return tl::unexpected(TaxiiError{kind, std::move(message), std::move(field)});
}

TaxiiCollection ReadCollection(const std::vector<store::Field>& row) {
  TaxiiCollection c;
  c.id = row[0].text();
  c.api_root = row[1].text();
  c.alias = row[2].text();
  c.title = row[3].text();
  c.description = row[4].text();
  c.max_tlp = ParseTlp(row[5].text()).value_or(Tlp::kAmber);
  c.owner_org_id = row[6].text();
  c.created_at = row[7].as_int();
  c.updated_at = row[8].as_int();
  return c;
}

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

// The centre's organisations: always among a collection's readers.
std::vector<std::string> CentreOrgIds(store::Connection& connection) {
  std::vector<std::string> ids;
  for (const auto& row :
       connection.Query("SELECT id FROM organizations WHERE type = 'centre' ORDER BY id").rows) {
    ids.push_back(row[0].text());
  }
  return ids;
}

// Rewrites the collection's audience in access_grants from its access list.
void SaveReaders(store::Connection& connection, std::string_view collection_id) {
  Marking marking;
  marking.shared_org_ids = CentreOrgIds(connection);
  for (const auto& row : connection
                             .Query("SELECT org_id FROM taxii_collection_access WHERE "
                                    "collection_id = $1 AND can_read = 1 ORDER BY org_id",
                                    {Param{std::string(collection_id)}})
                             .rows) {
    if (std::find(marking.shared_org_ids.begin(), marking.shared_org_ids.end(), row[0].text()) ==
        marking.shared_org_ids.end()) {
      marking.shared_org_ids.push_back(row[0].text());
    }
  }
  SaveGrants(connection, GRANT_TYPE, collection_id, marking);
}

std::string DetailOf(const JsonValue& value) { return value.Serialize(); }

JsonValue EntriesJson(const std::vector<TaxiiStatusEntry>& entries) {
  JsonValue array = JsonValue::MakeArray();
  for (const auto& entry : entries) {
    JsonValue item = JsonValue::MakeObject();
    item.Set("id", entry.id);
    item.Set("version", entry.version);
    item.Set("message", entry.message);
    array.Push(std::move(item));
  }
  return array;
}

std::vector<TaxiiStatusEntry> EntriesFrom(const std::string& text) {
  std::vector<TaxiiStatusEntry> entries;
  auto parsed = JsonValue::Parse(text);
  if (!parsed || !parsed->is_array()) return entries;
  for (const auto& item : parsed->as_array()) {
    TaxiiStatusEntry entry;
    auto text_of = [&](std::string_view key) {
      const JsonValue* value = item.Find(key);
      return value != nullptr && value->is_string() ? value->as_string() : std::string();
    };
    entry.id = text_of("id");
    entry.version = text_of("version");
    entry.message = text_of("message");
    entries.push_back(std::move(entry));
  }
  return entries;
}

// ---- calendar arithmetic (proleptic Gregorian, UTC) --------------------------------------------

int64_t DaysFromCivil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

void CivilFromDays(int64_t z, int64_t& y, int64_t& m, int64_t& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp + (mp < 10 ? 3 : -9);
  y = yoe + era * 400 + (m <= 2);
}

bool Digits(std::string_view text, size_t at, size_t count, int& out) {
  if (at + count > text.size()) return false;
  out = 0;
  for (size_t i = at; i < at + count; ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
    out = out * 10 + (text[i] - '0');
  }
  return true;
}

// ---- STIX validation tables --------------------------------------------------------------------

constexpr std::array<std::string_view, 18> SCO_TYPES = {
    "artifact",   "autonomous-system", "directory",    "domain-name",   "email-addr",
    "email-message", "file",           "ipv4-addr",    "ipv6-addr",     "mac-addr",
    "mutex",      "network-traffic",   "process",      "software",      "url",
    "user-account", "windows-registry-key", "x509-certificate"};

enum class Kind { kString, kTimestamp, kId, kIdList, kBool, kInteger, kObject };

struct RequiredProperty {
  std::string_view type;
  std::string_view property;
  Kind kind;
};

// The required properties of the standard types (OASIS STIX 2.1 JSON schemas).
constexpr std::array<RequiredProperty, 40> REQUIRED = {{
    {"attack-pattern", "name", Kind::kString},
    {"campaign", "name", Kind::kString},
    {"course-of-action", "name", Kind::kString},
    {"grouping", "context", Kind::kString},
    {"grouping", "object_refs", Kind::kIdList},
    {"identity", "name", Kind::kString},
    {"incident", "name", Kind::kString},
    {"indicator", "pattern", Kind::kString},
    {"indicator", "pattern_type", Kind::kString},
    {"indicator", "valid_from", Kind::kTimestamp},
    {"infrastructure", "name", Kind::kString},
    {"intrusion-set", "name", Kind::kString},
    {"malware", "is_family", Kind::kBool},
    {"malware-analysis", "product", Kind::kString},
    {"note", "content", Kind::kString},
    {"note", "object_refs", Kind::kIdList},
    {"observed-data", "first_observed", Kind::kTimestamp},
    {"observed-data", "last_observed", Kind::kTimestamp},
    {"observed-data", "number_observed", Kind::kInteger},
    {"opinion", "opinion", Kind::kString},
    {"opinion", "object_refs", Kind::kIdList},
    {"report", "name", Kind::kString},
    {"report", "published", Kind::kTimestamp},
    {"report", "object_refs", Kind::kIdList},
    {"threat-actor", "name", Kind::kString},
    {"tool", "name", Kind::kString},
    {"vulnerability", "name", Kind::kString},
    {"relationship", "relationship_type", Kind::kString},
    {"relationship", "source_ref", Kind::kId},
    {"relationship", "target_ref", Kind::kId},
    {"sighting", "sighting_of_ref", Kind::kId},
    {"ipv4-addr", "value", Kind::kString},
    {"ipv6-addr", "value", Kind::kString},
    {"domain-name", "value", Kind::kString},
    {"url", "value", Kind::kString},
    {"email-addr", "value", Kind::kString},
    {"mac-addr", "value", Kind::kString},
    {"mutex", "name", Kind::kString},
    {"directory", "path", Kind::kString},
    {"autonomous-system", "number", Kind::kInteger},
}};

// Optional timestamp properties and the pairs that must be ordered.
constexpr std::array<std::string_view, 9> TIMESTAMP_PROPERTIES = {
    "valid_from", "valid_until", "first_seen", "last_seen", "published",
    "first_observed", "last_observed", "start_time", "stop_time"};
constexpr std::array<std::pair<std::string_view, std::string_view>, 4> ORDERED = {{
    {"valid_from", "valid_until"},
    {"first_seen", "last_seen"},
    {"first_observed", "last_observed"},
    {"start_time", "stop_time"},
}};

std::optional<std::string> CheckKind(const JsonValue& object, std::string_view property,
                                     Kind kind) {
  const JsonValue* value = object.Find(property);
  if (value == nullptr) return fmt::format("{} is required", property);
  switch (kind) {
    case Kind::kString:
      if (!value->is_string() || value->as_string().empty()) {
        return fmt::format("{} must be a non-empty string", property);
      }
      break;
    case Kind::kTimestamp:
      if (!value->is_string() || !ParseTaxiiTimestampUs(value->as_string(), true)) {
        return fmt::format("{} must be an RFC 3339 timestamp in UTC such as "
                           "\"2026-11-26T06:00:00.000Z\"",
                           property);
      }
      break;
    case Kind::kId:
      if (!value->is_string() || !IsStixId(value->as_string())) {
        return fmt::format("{} must be a STIX identifier (type--UUID)", property);
      }
      break;
    case Kind::kIdList:
      if (!value->is_array() || value->as_array().empty()) {
        return fmt::format("{} must be a non-empty array of STIX identifiers", property);
      }
      for (const auto& item : value->as_array()) {
        if (!item.is_string() || !IsStixId(item.as_string())) {
          return fmt::format("{} must hold STIX identifiers only", property);
        }
      }
      break;
    case Kind::kBool:
      if (!value->is_bool()) return fmt::format("{} must be true or false", property);
      break;
    case Kind::kInteger:
      if (!value->is_integer()) return fmt::format("{} must be an integer", property);
      break;
    case Kind::kObject:
      if (!value->is_object()) return fmt::format("{} must be an object", property);
      break;
  }
  return std::nullopt;
}

// created and modified: STIX requires at least millisecond precision ("...:00.000Z").
bool HasMilliseconds(std::string_view text) {
  if (text.size() < 24 || text[19] != '.') return false;
  size_t digits = 0;
  for (size_t at = 20; at < text.size() && text[at] >= '0' && text[at] <= '9'; ++at) ++digits;
  return digits >= 3;
}

std::optional<int64_t> TimestampOf(const JsonValue& object, std::string_view property) {
  const JsonValue* value = object.Find(property);
  if (value == nullptr || !value->is_string()) return std::nullopt;
  return ParseTaxiiTimestampUs(value->as_string(), true);
}

// ---- objects -----------------------------------------------------------------------------------

struct PreparedObject {
  std::string id;
  std::string type;
  std::string spec_version;
  std::string version;
  int64_t version_us = 0;
  Tlp tlp = Tlp::kClear;
  std::string body;
};

// The version of an object as TAXII defines it: modified, else created, else the date it is
// added (cyber-observables have neither).
void VersionOf(const JsonValue& object, int64_t date_added_us, PreparedObject& prepared) {
  for (std::string_view property : {"modified", "created"}) {
    const JsonValue* value = object.Find(property);
    if (value != nullptr && value->is_string()) {
      if (auto us = ParseTaxiiTimestampUs(value->as_string(), true)) {
        prepared.version = value->as_string();
        prepared.version_us = *us;
        return;
      }
    }
  }
  prepared.version = FormatTaxiiTimestampUs(date_added_us);
  prepared.version_us = date_added_us;
}

TaxiiObjectRecord ReadRecord(const std::vector<store::Field>& row, std::string* owner = nullptr) {
  TaxiiObjectRecord record;
  record.stix_id = row[0].text();
  record.version = row[1].text();
  record.version_us = row[2].as_int();
  record.date_added_us = row[3].as_int();
  record.type = row[4].text();
  record.spec_version = row[5].text();
  record.tlp = ParseTlp(row[6].text()).value_or(Tlp::kRed);
  record.body = row[7].text();
  if (owner != nullptr) *owner = row[8].text();
  return record;
}

// Appends " AND o.<column> IN ($a, $b, ...)".
void AppendIn(std::string& sql, std::vector<Param>& params, std::string_view column,
              const std::vector<std::string>& values) {
  if (values.empty()) return;
  sql += fmt::format(" AND o.{} IN (", column);
  for (size_t i = 0; i < values.size(); ++i) {
    params.emplace_back(values[i]);
    sql += fmt::format("{}${}", i == 0 ? "" : ", ", params.size());
  }
  sql += ")";
}

// The SELECT of the objects a principal may read, with the filters of `query`, in date_added
// order; `limit` rows at most (0: no limit).
std::pair<std::string, std::vector<Param>> ObjectSelect(const Principal& principal,
                                                        std::string_view collection_id,
                                                        const TaxiiQuery& query, int64_t limit) {
  std::vector<Param> params;
  params.emplace_back(std::string(collection_id));
  int64_t after = -1;
  if (query.added_after_us) after = std::max(after, *query.added_after_us);
  if (query.next_us) after = std::max(after, *query.next_us);
  params.emplace_back(after);
  std::string sql = fmt::format(
      "SELECT {} FROM taxii_object_access o WHERE o.id = $1 AND o.deleted = 0 AND "
      "o.date_added > $2",
      OBJECT_COLUMNS);
  AppendIn(sql, params, "stix_id", query.ids);
  AppendIn(sql, params, "type", query.types);
  AppendIn(sql, params, "spec_version", query.spec_versions);
  const int read_param = static_cast<int>(params.size()) + 1;
  SqlCondition read = ReadCondition(principal, GRANT_TYPE, "o", read_param);
  for (auto& param : read.params) params.push_back(std::move(param));
  sql += " AND " + read.sql;

  bool last = query.last || (!query.first && !query.all && query.version_times.empty());
  if (!query.all) {
    std::vector<std::string> clauses;
    // The same placeholders as the outer condition: the values are the same.
    std::string visible = ReadCondition(principal, GRANT_TYPE, "v", read_param).sql;
    auto extreme = [&](const char* function) {
      return fmt::format(
          "o.version_us = (SELECT {}(v.version_us) FROM taxii_object_access v WHERE v.id = o.id "
          "AND v.stix_id = o.stix_id AND v.deleted = 0 AND {})",
          function, visible);
    };
    if (last) clauses.push_back(extreme("MAX"));
    if (query.first) clauses.push_back(extreme("MIN"));
    if (!query.version_times.empty()) {
      std::string in = "o.version_us IN (";
      for (size_t i = 0; i < query.version_times.size(); ++i) {
        params.emplace_back(query.version_times[i]);
        in += fmt::format("{}${}", i == 0 ? "" : ", ", params.size());
      }
      clauses.push_back(in + ")");
    }
    sql += " AND (";
    for (size_t i = 0; i < clauses.size(); ++i) sql += (i == 0 ? "" : " OR ") + clauses[i];
    sql += ")";
  }
  sql += " ORDER BY o.date_added";
  if (limit > 0) {
    params.emplace_back(limit);
    sql += fmt::format(" LIMIT ${}", params.size());
  }
  return {std::move(sql), std::move(params)};
}

}  // namespace

// ---- rules and names ---------------------------------------------------------------------------

bool CanManageTaxii(const Principal& principal) { return can::ManageOrganizations(principal); }
bool CanPublishTaxii(const Principal& principal) { return can::IssueAdvisory(principal); }

bool IsValidApiRoot(std::string_view name) {
  if (name.empty() || name.size() > 63 || name.front() == '-' || name.front() == '_') return false;
  return std::all_of(name.begin(), name.end(), IsNameChar);
}

bool IsStixType(std::string_view type) {
  if (type.size() < 3 || type.size() > 250) return false;
  if (type.front() < 'a' || type.front() > 'z') return false;
  if (type.back() == '-' || type.find("--") != std::string_view::npos) return false;
  return std::all_of(type.begin(), type.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

bool IsStixId(std::string_view id) {
  size_t dashes = id.find("--");
  if (dashes == std::string_view::npos || !IsStixType(id.substr(0, dashes))) return false;
  std::string_view uuid = id.substr(dashes + 2);
  if (uuid.size() != 36) return false;
  for (size_t i = 0; i < uuid.size(); ++i) {
    char c = uuid[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
      return false;
    }
  }
  // The schemas' identifier pattern: RFC 4122 variant, versions 1 to 5.
  char version = uuid[14];
  char variant = static_cast<char>(uuid[19] | 0x20);
  return version >= '1' && version <= '5' &&
         (variant == '8' || variant == '9' || variant == 'a' || variant == 'b');
}

bool IsCyberObservableType(std::string_view type) {
  return std::find(SCO_TYPES.begin(), SCO_TYPES.end(), type) != SCO_TYPES.end();
}

// ---- timestamps and tokens ---------------------------------------------------------------------

std::optional<int64_t> ParseTaxiiTimestampUs(std::string_view t, bool require_utc) {
  if (t.size() < 20 || t.size() > 64) return std::nullopt;
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!Digits(t, 0, 4, year) || t[4] != '-' || !Digits(t, 5, 2, month) || t[7] != '-' ||
      !Digits(t, 8, 2, day) || !(t[10] == 'T' || (!require_utc && t[10] == 't')) ||
      !Digits(t, 11, 2, hour) || t[13] != ':' || !Digits(t, 14, 2, minute) || t[16] != ':' ||
      !Digits(t, 17, 2, second)) {
    return std::nullopt;
  }
  static constexpr std::array<int, 12> DAYS = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  if (year < 1000 || month < 1 || month > 12 || day < 1 || day > DAYS[month - 1] ||
      (month == 2 && day == 29 && !leap) || hour > 23 || minute > 59 || second > 60) {
    return std::nullopt;
  }
  size_t at = 19;
  int64_t fraction_us = 0;
  if (at < t.size() && t[at] == '.') {
    ++at;
    size_t start = at;
    while (at < t.size() && t[at] >= '0' && t[at] <= '9') {
      if (at - start < 6) fraction_us = fraction_us * 10 + (t[at] - '0');
      ++at;
    }
    if (at == start) return std::nullopt;
    for (size_t digits = at - start; digits < 6; ++digits) fraction_us *= 10;
  }
  int64_t offset_s = 0;
  std::string_view zone = t.substr(at);
  if (zone == "Z" || (!require_utc && zone == "z")) {
    offset_s = 0;
  } else if (!require_utc && zone.size() == 6 && (zone[0] == '+' || zone[0] == '-') &&
             zone[3] == ':') {
    int zone_hours = 0, zone_minutes = 0;
    if (!Digits(zone, 1, 2, zone_hours) || !Digits(zone, 4, 2, zone_minutes) || zone_hours > 23 ||
        zone_minutes > 59) {
      return std::nullopt;
    }
    offset_s = (zone_hours * 3600 + zone_minutes * 60) * (zone[0] == '+' ? 1 : -1);
  } else {
    return std::nullopt;
  }
  int64_t seconds = DaysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second -
                    offset_s;
  return seconds * 1'000'000 + fraction_us;
}

std::string FormatTaxiiTimestampUs(int64_t us) {
  int64_t seconds = us >= 0 ? us / 1'000'000 : -((-us + 999'999) / 1'000'000);
  int64_t fraction = us - seconds * 1'000'000;
  int64_t days = seconds >= 0 ? seconds / 86400 : -((-seconds + 86399) / 86400);
  int64_t rest = seconds - days * 86400;
  int64_t year = 0, month = 0, day = 0;
  CivilFromDays(days, year, month, day);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z", year, month, day, rest / 3600,
                     rest / 60 % 60, rest % 60, fraction);
}

std::string EncodeTaxiiNext(std::string_view collection_id, int64_t date_added_us) {
  // "<position>.<check>": the check binds the token to its collection, so a token of another
  // collection (or a guessed one) is refused instead of silently starting elsewhere.
  std::string position = std::to_string(date_added_us);
  return position + "." +
         Sha256Hex(std::string(collection_id) + ":" + position).substr(0, 16);
}

std::optional<int64_t> DecodeTaxiiNext(std::string_view collection_id, std::string_view token) {
  size_t dot = token.find('.');
  if (dot == std::string_view::npos || dot == 0 || dot > 20 || token.size() - dot - 1 != 16) {
    return std::nullopt;
  }
  int64_t position = 0;
  auto [end, ec] = std::from_chars(token.data(), token.data() + dot, position);
  if (ec != std::errc() || end != token.data() + dot || position < 0) return std::nullopt;
  if (!ConstantTimeEquals(EncodeTaxiiNext(collection_id, position), token)) return std::nullopt;
  return position;
}

// ---- validation --------------------------------------------------------------------------------

std::optional<std::string> ValidateStixObject(const JsonValue& object) {
  if (!object.is_object()) return "an object must be a JSON object";
  const JsonValue* type = object.Find("type");
  if (type == nullptr) return "type is required";
  if (!type->is_string() || !IsStixType(type->as_string())) {
    return "type must be a STIX type name (3-250 of a-z, 0-9 and single hyphens)";
  }
  const std::string& type_name = type->as_string();
  if (type_name == "bundle") return "a bundle is not an object; post its objects";
  const JsonValue* id = object.Find("id");
  if (id == nullptr) return "id is required";
  if (!id->is_string() || !IsStixId(id->as_string())) {
    return "id must be a STIX identifier: the type, \"--\" and an RFC 4122 UUID";
  }
  if (id->as_string().compare(0, type_name.size() + 2, type_name + "--") != 0) {
    return fmt::format("id must start with \"{}--\"", type_name);
  }
  const bool observable = IsCyberObservableType(type_name);
  const JsonValue* spec_version = object.Find("spec_version");
  if (spec_version == nullptr && !observable) return "spec_version is required";
  if (spec_version != nullptr &&
      (!spec_version->is_string() || spec_version->as_string() != "2.1")) {
    return "spec_version must be \"2.1\"";
  }

  // Common properties of SDOs and SROs: created and modified; a marking definition has created.
  if (!observable) {
    if (auto problem = CheckKind(object, "created", Kind::kTimestamp)) return problem;
    if (!HasMilliseconds(object.Find("created")->as_string())) {
      return "created must have at least millisecond precision (\"...T06:00:00.000Z\")";
    }
    if (type_name != "marking-definition") {
      if (auto problem = CheckKind(object, "modified", Kind::kTimestamp)) return problem;
      if (!HasMilliseconds(object.Find("modified")->as_string())) {
        return "modified must have at least millisecond precision (\"...T06:00:00.000Z\")";
      }
      if (*TimestampOf(object, "modified") < *TimestampOf(object, "created")) {
        return "modified must not be earlier than created";
      }
    } else if (object.Find("modified") != nullptr) {
      return "a marking definition has no modified property";
    }
  }
  for (std::string_view property : TIMESTAMP_PROPERTIES) {
    if (object.Find(property) != nullptr) {
      if (auto problem = CheckKind(object, property, Kind::kTimestamp)) return problem;
    }
  }
  for (const auto& [from, to] : ORDERED) {
    auto start = TimestampOf(object, from);
    auto end = TimestampOf(object, to);
    if (start && end && *end < *start) return fmt::format("{} must not be earlier than {}", to, from);
  }
  for (const auto& required : REQUIRED) {
    if (required.type != type_name) continue;
    if (auto problem = CheckKind(object, required.property, required.kind)) return problem;
  }

  // References by naming convention: *_ref holds one identifier, *_refs a list of them.
  for (const auto& [key, value] : object.as_object()) {
    if (key.size() > 250) return "property names are at most 250 characters";
    if (key.ends_with("_ref")) {
      if (auto problem = CheckKind(object, key, Kind::kId)) return problem;
    } else if (key.ends_with("_refs")) {
      if (auto problem = CheckKind(object, key, Kind::kIdList)) return problem;
    }
  }
  if (const JsonValue* refs = object.Find("object_marking_refs")) {
    for (const auto& ref : refs->as_array()) {
      if (!ref.as_string().starts_with("marking-definition--")) {
        return "object_marking_refs must name marking-definition objects";
      }
    }
  }
  if (const JsonValue* labels = object.Find("labels")) {
    if (!labels->is_array()) return "labels must be an array of strings";
    for (const auto& label : labels->as_array()) {
      if (!label.is_string()) return "labels must be an array of strings";
    }
  }
  if (const JsonValue* revoked = object.Find("revoked"); revoked != nullptr && !revoked->is_bool()) {
    return "revoked must be true or false";
  }
  if (const JsonValue* confidence = object.Find("confidence")) {
    if (!confidence->is_integer() || confidence->as_int() < 0 || confidence->as_int() > 100) {
      return "confidence must be an integer from 0 to 100";
    }
  }
  if (const JsonValue* references = object.Find("external_references")) {
    if (!references->is_array()) return "external_references must be an array";
    for (const auto& reference : references->as_array()) {
      const JsonValue* source = reference.Find("source_name");
      if (source == nullptr || !source->is_string() || source->as_string().empty()) {
        return "every external reference needs a source_name";
      }
    }
  }
  if (const JsonValue* granular = object.Find("granular_markings")) {
    if (!granular->is_array() || granular->as_array().empty()) {
      return "granular_markings must be a non-empty array";
    }
    for (const auto& marking : granular->as_array()) {
      const JsonValue* selectors = marking.Find("selectors");
      const JsonValue* ref = marking.Find("marking_ref");
      if (selectors == nullptr || !selectors->is_array() || selectors->as_array().empty()) {
        return "every granular marking needs selectors";
      }
      if (ref != nullptr && (!ref->is_string() || !IsStixId(ref->as_string()) ||
                             !ref->as_string().starts_with("marking-definition--"))) {
        return "a granular marking's marking_ref must name a marking definition";
      }
    }
  }
  if (const JsonValue* extensions = object.Find("extensions");
      extensions != nullptr && (!extensions->is_object() || extensions->as_object().empty())) {
    return "extensions must be a non-empty object";
  }
  if (type_name == "sighting") {
    if (const JsonValue* count = object.Find("count")) {
      if (!count->is_integer() || count->as_int() < 0 || count->as_int() > 999999999) {
        return "count must be an integer from 0 to 999999999";
      }
    }
  }
  if (type_name == "marking-definition" && object.Find("extensions") == nullptr &&
      (object.Find("definition_type") == nullptr || object.Find("definition") == nullptr)) {
    return "a marking definition needs definition_type and definition, or extensions";
  }
  return std::nullopt;
}

// ---- collections -------------------------------------------------------------------------------

TaxiiResult<TaxiiCollection> CreateTaxiiCollection(store::Connection& connection,
                                                   const Principal& principal,
                                                   const NewTaxiiCollection& input,
                                                   int64_t now_ms) {
  if (!CanManageTaxii(principal)) {
    return Error(TaxiiErrorKind::kForbidden, "only the centre's duty officers manage collections");
  }
  if (!IsValidApiRoot(input.api_root)) {
    return Error(TaxiiErrorKind::kInvalid,
                 "api_root must be 1-63 of a-z, 0-9, '-' and '_', starting with a letter or digit",
                 "api_root");
  }
  if (!input.alias.empty() && !IsValidApiRoot(input.alias)) {
    return Error(TaxiiErrorKind::kInvalid,
                 "alias must be 1-63 of a-z, 0-9, '-' and '_', starting with a letter or digit",
                 "alias");
  }
  if (input.title.empty() || input.title.size() > TAXII_TITLE_MAX * 4) {
    return Error(TaxiiErrorKind::kInvalid, "title must not be empty", "title");
  }
  if (input.max_tlp != Tlp::kClear && input.max_tlp != Tlp::kGreen &&
      input.max_tlp != Tlp::kAmber) {
    return Error(TaxiiErrorKind::kInvalid,
                 "max_tlp must be clear, green or amber: AMBER+STRICT and RED information never "
                 "goes to a sharing group",
                 "max_tlp");
  }
  if (!input.alias.empty() &&
      !connection
           .Query("SELECT 1 FROM taxii_collections WHERE api_root = $1 AND alias = $2",
                  {Param{input.api_root}, Param{input.alias}})
           .empty()) {
    return Error(TaxiiErrorKind::kConflict, "another collection of this API root has this alias",
                 "alias");
  }
  TaxiiCollection collection;
  collection.id = NewUuid4();
  collection.api_root = input.api_root;
  collection.alias = input.alias;
  collection.title = input.title;
  collection.description = input.description;
  collection.max_tlp = input.max_tlp;
  collection.owner_org_id = principal.org_id;
  collection.created_at = collection.updated_at = now_ms;
  collection.can_read = true;
  collection.can_write = CanPublishTaxii(principal);
  connection.Execute(
      "INSERT INTO taxii_collections (id, api_root, alias, title, description, max_tlp, "
      "owner_org_id, created_by, last_date_added, created_at, updated_at) "
      "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $9, $9)",
      {Param{collection.id}, Param{collection.api_root},
       collection.alias.empty() ? Param{nullptr} : Param{collection.alias},
       Param{collection.title}, Param{collection.description},
       Param{std::string(ToString(collection.max_tlp))}, Param{collection.owner_org_id},
       Param{principal.user_id}, Param{now_ms}});
  SaveReaders(connection, collection.id);
  AuditEntry entry = EntryFor(principal, "taxii_collection.create", std::string(GRANT_TYPE),
                              collection.id);
  JsonValue detail = JsonValue::MakeObject();
  detail.Set("api_root", collection.api_root);
  detail.Set("title", collection.title);
  detail.Set("max_tlp", std::string(ToString(collection.max_tlp)));
  entry.detail = DetailOf(detail);
  AuditLog::Append(connection, entry, now_ms);
  return collection;
}

TaxiiResult<TaxiiAccess> SetTaxiiAccess(store::Connection& connection, const Principal& principal,
                                        std::string_view collection_id, const TaxiiAccess& access,
                                        int64_t now_ms) {
  if (!CanManageTaxii(principal)) {
    return Error(TaxiiErrorKind::kForbidden,
                 "only the centre's duty officers grant access to collections");
  }
  if (connection.Query("SELECT 1 FROM taxii_collections WHERE id = $1",
                       {Param{std::string(collection_id)}})
          .empty()) {
    return Error(TaxiiErrorKind::kNotFound, "collection not found");
  }
  store::Rows org = connection.Query("SELECT type FROM organizations WHERE id = $1",
                                     {Param{access.org_id}});
  if (org.empty()) return Error(TaxiiErrorKind::kInvalid, "no such organization", "org_id");
  if (org.rows[0][0].text() == "centre") {
    return Error(TaxiiErrorKind::kInvalid, "the centre always has access to its collections",
                 "org_id");
  }
  TaxiiAccess stored = access;
  stored.updated_at = now_ms;
  if (!access.can_read && !access.can_write) {
    connection.Execute(
        "DELETE FROM taxii_collection_access WHERE collection_id = $1 AND org_id = $2",
        {Param{std::string(collection_id)}, Param{access.org_id}});
  } else {
    connection.Execute(
        "INSERT INTO taxii_collection_access (collection_id, org_id, can_read, can_write, "
        "created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5) "
        "ON CONFLICT (collection_id, org_id) DO UPDATE SET can_read = $3, can_write = $4, "
        "updated_at = $5",
        {Param{std::string(collection_id)}, Param{access.org_id},
         Param{int64_t{access.can_read ? 1 : 0}}, Param{int64_t{access.can_write ? 1 : 0}},
         Param{now_ms}});
  }
  SaveReaders(connection, collection_id);
  connection.Execute("UPDATE taxii_collections SET updated_at = $2 WHERE id = $1",
                     {Param{std::string(collection_id)}, Param{now_ms}});
  AuditEntry entry = EntryFor(principal, "taxii_collection.access", std::string(GRANT_TYPE),
                              std::string(collection_id));
  JsonValue detail = JsonValue::MakeObject();
  detail.Set("org_id", access.org_id);
  detail.Set("can_read", access.can_read);
  detail.Set("can_write", access.can_write);
  entry.detail = DetailOf(detail);
  AuditLog::Append(connection, entry, now_ms);
  return stored;
}

TaxiiResult<std::vector<TaxiiAccess>> ListTaxiiAccess(store::Connection& connection,
                                                      const Principal& principal,
                                                      std::string_view collection_id) {
  if (!principal.IsCentreStaff()) return Error(TaxiiErrorKind::kNotFound, "collection not found");
  if (connection.Query("SELECT 1 FROM taxii_collections WHERE id = $1",
                       {Param{std::string(collection_id)}})
          .empty()) {
    return Error(TaxiiErrorKind::kNotFound, "collection not found");
  }
  std::vector<TaxiiAccess> list;
  for (const auto& row :
       connection
           .Query("SELECT org_id, can_read, can_write, updated_at FROM taxii_collection_access "
                  "WHERE collection_id = $1 ORDER BY org_id",
                  {Param{std::string(collection_id)}})
           .rows) {
    list.push_back(TaxiiAccess{row[0].text(), row[1].as_bool(), row[2].as_bool(), row[3].as_int()});
  }
  return list;
}

std::vector<std::string> TaxiiApiRoots(store::Connection& connection, const Principal& principal) {
  std::set<std::string> roots = {std::string(TAXII_DEFAULT_API_ROOT)};
  store::Rows rows =
      principal.IsCentreStaff()
          ? connection.Query("SELECT DISTINCT api_root FROM taxii_collections")
          : connection.Query(
                "SELECT DISTINCT c.api_root FROM taxii_collections c JOIN taxii_collection_access "
                "a ON a.collection_id = c.id WHERE a.org_id = $1",
                {Param{principal.org_id}});
  for (const auto& row : rows.rows) roots.insert(row[0].text());
  return {roots.begin(), roots.end()};
}

std::vector<TaxiiCollection> ListTaxiiCollections(store::Connection& connection,
                                                  const Principal& principal,
                                                  std::string_view api_root) {
  std::vector<TaxiiCollection> collections;
  if (principal.IsCentreStaff()) {
    for (const auto& row :
         connection
             .Query(fmt::format("SELECT {} FROM taxii_collections c WHERE c.api_root = $1 "
                                "ORDER BY c.created_at, c.id",
                                COLLECTION_COLUMNS),
                    {Param{std::string(api_root)}})
             .rows) {
      TaxiiCollection collection = ReadCollection(row);
      collection.can_read = true;
      collection.can_write = CanPublishTaxii(principal);
      collections.push_back(std::move(collection));
    }
    return collections;
  }
  for (const auto& row :
       connection
           .Query(fmt::format("SELECT {}, a.can_read, a.can_write FROM taxii_collections c "
                              "JOIN taxii_collection_access a ON a.collection_id = c.id "
                              "WHERE c.api_root = $1 AND a.org_id = $2 "
                              "ORDER BY c.created_at, c.id",
                              COLLECTION_COLUMNS),
                  {Param{std::string(api_root)}, Param{principal.org_id}})
           .rows) {
    TaxiiCollection collection = ReadCollection(row);
    collection.can_read = row[9].as_bool();
    collection.can_write = row[10].as_bool();
    collections.push_back(std::move(collection));
  }
  return collections;
}

TaxiiResult<TaxiiCollection> GetTaxiiCollection(store::Connection& connection,
                                                const Principal& principal,
                                                std::string_view api_root,
                                                std::string_view collection_id) {
  store::Rows rows = connection.Query(
      fmt::format("SELECT {} FROM taxii_collections c WHERE c.id = $1", COLLECTION_COLUMNS),
      {Param{std::string(collection_id)}});
  if (rows.empty()) return Error(TaxiiErrorKind::kNotFound, "collection not found");
  TaxiiCollection collection = ReadCollection(rows.rows[0]);
  if (!api_root.empty() && collection.api_root != api_root) {
    return Error(TaxiiErrorKind::kNotFound, "collection not found");
  }
  if (principal.IsCentreStaff()) {
    collection.can_read = true;
    collection.can_write = CanPublishTaxii(principal);
    return collection;
  }
  store::Rows access = connection.Query(
      "SELECT can_read, can_write FROM taxii_collection_access WHERE collection_id = $1 AND "
      "org_id = $2",
      {Param{collection.id}, Param{principal.org_id}});
  if (access.empty()) return Error(TaxiiErrorKind::kNotFound, "collection not found");
  collection.can_read = access.rows[0][0].as_bool();
  collection.can_write = access.rows[0][1].as_bool();
  return collection;
}

// ---- objects -----------------------------------------------------------------------------------

bool TaxiiHasObject(store::Connection& connection, std::string_view collection_id,
                    std::string_view stix_id) {
  return !connection
              .Query("SELECT 1 FROM taxii_objects WHERE collection_id = $1 AND stix_id = $2 AND "
                     "deleted = 0 LIMIT 1",
                     {Param{std::string(collection_id)}, Param{std::string(stix_id)}})
              .empty();
}

TaxiiResult<TaxiiStatus> AddTaxiiObjects(store::Connection& connection, const Principal& principal,
                                         const TaxiiCollection& collection,
                                         const JsonValue::Array& objects, int64_t now_ms) {
  if (!collection.can_write) {
    return Error(TaxiiErrorKind::kForbidden, "no write access to this collection");
  }
  TaxiiStatus status;
  status.id = NewId();
  status.request_timestamp_us = now_ms * 1000;

  // Locks the collection row until commit: date_added values are handed out in commit order.
  store::Rows locked = connection.Query(
      "UPDATE taxii_collections SET last_date_added = last_date_added WHERE id = $1 "
      "RETURNING last_date_added",
      {Param{collection.id}});
  if (locked.empty()) return Error(TaxiiErrorKind::kNotFound, "collection not found");
  int64_t next_date_added = std::max(now_ms * 1000, locked.rows[0][0].as_int() + 1);
  const int64_t first_date_added = next_date_added;

  // Marking definitions this envelope brings, so objects may refer to them.
  std::set<std::string> envelope_markings;
  for (const auto& object : objects) {
    const JsonValue* type = object.is_object() ? object.Find("type") : nullptr;
    const JsonValue* id = object.is_object() ? object.Find("id") : nullptr;
    if (type != nullptr && type->is_string() && type->as_string() == "marking-definition" &&
        id != nullptr && id->is_string() && ValidateStixObject(object) == std::nullopt) {
      envelope_markings.insert(id->as_string());
    }
  }

  std::set<std::pair<std::string, int64_t>> seen;
  Tlp most_restrictive = Tlp::kClear;
  std::vector<std::string> added_ids;
  const bool centre = principal.IsCentreStaff();
  for (const auto& object : objects) {
    PreparedObject prepared;
    const JsonValue* id = object.is_object() ? object.Find("id") : nullptr;
    if (id != nullptr && id->is_string() && id->as_string().size() <= 300) {
      prepared.id = id->as_string();
    }
    auto fail = [&](std::string message) {
      status.failures.push_back(TaxiiStatusEntry{prepared.id, prepared.version, std::move(message)});
    };
    if (auto problem = ValidateStixObject(object)) {
      fail(*problem);
      continue;
    }
    prepared.type = object.Find("type")->as_string();
    const JsonValue* spec_version = object.Find("spec_version");
    prepared.spec_version = spec_version != nullptr ? spec_version->as_string() : "2.1";
    VersionOf(object, next_date_added, prepared);

    // The TLP the object travels under: the most restrictive TLP marking on it or on any of its
    // parts; the collection's sharing level when it carries none.
    std::optional<Tlp> marked;
    std::string unknown_marking;
    auto consider = [&](const std::string& ref) {
      if (auto tlp = TlpOfMarkingId(ref)) {
        marked = marked ? std::max(*marked, *tlp) : *tlp;
      } else if (!envelope_markings.contains(ref) && !TaxiiHasObject(connection, collection.id, ref)) {
        if (unknown_marking.empty()) unknown_marking = ref;
      }
    };
    if (const JsonValue* refs = object.Find("object_marking_refs")) {
      for (const auto& ref : refs->as_array()) consider(ref.as_string());
    }
    if (const JsonValue* granular = object.Find("granular_markings")) {
      for (const auto& marking : granular->as_array()) {
        if (const JsonValue* ref = marking.Find("marking_ref")) consider(ref->as_string());
      }
    }
    if (!unknown_marking.empty()) {
      fail(fmt::format("unknown marking definition {}: post it in the same envelope or first",
                       unknown_marking));
      continue;
    }
    if (prepared.type == "marking-definition") {
      // Marking definitions are public; a TLP 2.0 one must be exactly the OASIS definition, or
      // a partner could redefine what a TLP id means for every other reader.
      if (auto tlp = TlpOfMarkingId(prepared.id)) {
        JsonValue official = TlpMarkingDefinition(*tlp);
        if (official.Find("extensions") != nullptr &&
            CanonicalJson(official) != CanonicalJson(object)) {
          fail("a TLP 2.0 marking definition must be the one OASIS publishes");
          continue;
        }
      }
      prepared.tlp = marked.value_or(Tlp::kClear);
    } else {
      prepared.tlp = marked.value_or(collection.max_tlp);
    }
    if (prepared.tlp == Tlp::kRed) {
      fail("TLP:RED information is for named people only and is never accepted over TAXII");
      continue;
    }
    if (prepared.tlp != Tlp::kAmberStrict && prepared.tlp > collection.max_tlp) {
      fail(fmt::format("the collection shares at most TLP:{}; this object is marked TLP:{}",
                       ToString(collection.max_tlp), ToString(prepared.tlp)));
      continue;
    }

    if (!seen.insert({prepared.id, prepared.version_us}).second) {
      status.successes.push_back({prepared.id, prepared.version, "already present"});
      continue;
    }
    // Versions of an object belong to the organisation that first shared it: another one may
    // not put a "last" version in front of every reader (the centre's publishers excepted).
    store::Rows owners = connection.Query(
        "SELECT owner_org_id, version_us, deleted FROM taxii_objects WHERE collection_id = $1 AND "
        "stix_id = $2",
        {Param{collection.id}, Param{prepared.id}});
    bool present = false, deleted_copy = false, foreign = false;
    for (const auto& row : owners.rows) {
      if (row[0].text() != principal.org_id && !(centre && CanPublishTaxii(principal))) {
        foreign = true;
      }
      if (row[1].as_int() == prepared.version_us) {
        present = !row[2].as_bool();
        deleted_copy = row[2].as_bool();
      }
    }
    if (foreign) {
      fail("this object was shared by another organisation; only it may add versions");
      continue;
    }
    if (present) {
      status.successes.push_back({prepared.id, prepared.version, "already present"});
      continue;
    }
    prepared.body = object.Serialize();
    int64_t date_added = next_date_added++;
    std::vector<Param> values = {Param{collection.id},
                                 Param{date_added},
                                 Param{prepared.id},
                                 Param{prepared.version},
                                 Param{prepared.version_us},
                                 Param{prepared.type},
                                 Param{prepared.spec_version},
                                 Param{std::string(ToString(prepared.tlp))},
                                 Param{principal.org_id},
                                 Param{principal.user_id},
                                 Param{int64_t{centre ? 0 : 1}},
                                 Param{prepared.body}};
    if (deleted_copy) {
      connection.Execute(
          "UPDATE taxii_objects SET date_added = $2, version = $4, type = $6, spec_version = $7, "
          "tlp = $8, owner_org_id = $9, author_id = $10, centre_intake = $11, body = $12, "
          "deleted = 0 WHERE collection_id = $1 AND stix_id = $3 AND version_us = $5",
          values);
    } else {
      connection.Execute(
          "INSERT INTO taxii_objects (collection_id, date_added, stix_id, version, version_us, "
          "type, spec_version, tlp, owner_org_id, author_id, centre_intake, body, deleted) "
          "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 0)",
          values);
    }
    most_restrictive = std::max(most_restrictive, prepared.tlp);
    if (added_ids.size() < AUDIT_IDS_MAX) added_ids.push_back(prepared.id);
    status.successes.push_back({prepared.id, prepared.version, ""});
  }
  if (next_date_added != first_date_added) {
    connection.Execute("UPDATE taxii_collections SET last_date_added = $2 WHERE id = $1",
                       {Param{collection.id}, Param{next_date_added - 1}});
  }

  connection.Execute(
      "INSERT INTO taxii_status (id, api_root, collection_id, org_id, user_id, status, "
      "request_timestamp, total_count, success_count, failure_count, pending_count, successes, "
      "failures, pendings, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, "
      "$13, $14, $15)",
      {Param{status.id}, Param{collection.api_root}, Param{collection.id}, Param{principal.org_id},
       Param{principal.user_id}, Param{status.status}, Param{status.request_timestamp_us},
       Param{status.total_count()}, Param{static_cast<int64_t>(status.successes.size())},
       Param{static_cast<int64_t>(status.failures.size())},
       Param{static_cast<int64_t>(status.pendings.size())},
       Param{EntriesJson(status.successes).Serialize()},
       Param{EntriesJson(status.failures).Serialize()},
       Param{EntriesJson(status.pendings).Serialize()}, Param{now_ms}});

  AuditEntry entry = EntryFor(principal, "taxii_object.add", std::string(GRANT_TYPE),
                              collection.id, most_restrictive);
  JsonValue detail = JsonValue::MakeObject();
  detail.Set("status_id", status.id);
  detail.Set("successes", static_cast<int64_t>(status.successes.size()));
  detail.Set("failures", static_cast<int64_t>(status.failures.size()));
  JsonValue ids = JsonValue::MakeArray();
  for (const auto& added : added_ids) ids.Push(added);
  detail.Set("added", std::move(ids));
  entry.detail = DetailOf(detail);
  AuditLog::Append(connection, entry, now_ms);
  return status;
}

TaxiiResult<TaxiiStatus> GetTaxiiStatus(store::Connection& connection, const Principal& principal,
                                        std::string_view api_root, std::string_view status_id) {
  store::Rows rows = connection.Query(
      "SELECT id, org_id, status, request_timestamp, successes, failures, pendings "
      "FROM taxii_status WHERE id = $1 AND api_root = $2",
      {Param{std::string(status_id)}, Param{std::string(api_root)}});
  if (rows.empty() ||
      (rows.rows[0][1].text() != principal.org_id && !principal.IsCentreStaff())) {
    return Error(TaxiiErrorKind::kNotFound, "status not found");
  }
  const auto& row = rows.rows[0];
  TaxiiStatus status;
  status.id = row[0].text();
  status.status = row[2].text();
  status.request_timestamp_us = row[3].as_int();
  status.successes = EntriesFrom(row[4].text());
  status.failures = EntriesFrom(row[5].text());
  status.pendings = EntriesFrom(row[6].text());
  return status;
}

TaxiiResult<TaxiiPage> QueryTaxiiObjects(store::Connection& connection, const Principal& principal,
                                         const TaxiiCollection& collection,
                                         const TaxiiQuery& query) {
  if (!collection.can_read) {
    return Error(TaxiiErrorKind::kForbidden, "no read access to this collection");
  }
  int limit = std::clamp(query.limit, 1, TAXII_MAX_PAGE);
  auto [sql, params] = ObjectSelect(principal, collection.id, query, limit + 1);
  store::Rows rows = connection.Query(sql, params);
  TaxiiPage page;
  for (const auto& row : rows.rows) {
    if (static_cast<int>(page.items.size()) == limit) {
      page.more = true;
      break;
    }
    page.items.push_back(ReadRecord(row));
  }
  return page;
}

TaxiiResult<int64_t> DeleteTaxiiObject(store::Connection& connection, const Principal& principal,
                                       const TaxiiCollection& collection, std::string_view stix_id,
                                       const TaxiiQuery& match, int64_t now_ms) {
  if (!collection.can_read) return Error(TaxiiErrorKind::kNotFound, "object not found");
  TaxiiQuery query = match;
  query.ids = {std::string(stix_id)};
  query.added_after_us.reset();
  query.next_us.reset();
  // DELETE removes every version unless match[version] narrows it.
  if (!query.first && !query.last && query.version_times.empty()) query.all = true;
  auto [sql, params] = ObjectSelect(principal, collection.id, query, 0);
  store::Rows rows = connection.Query(sql, params);
  if (rows.empty()) return Error(TaxiiErrorKind::kNotFound, "object not found");
  const bool publisher = principal.IsCentreStaff() && CanPublishTaxii(principal);
  std::vector<int64_t> versions;
  Tlp tlp = Tlp::kClear;
  for (const auto& row : rows.rows) {
    std::string owner;
    TaxiiObjectRecord record = ReadRecord(row, &owner);
    if (!publisher && !(collection.can_write && owner == principal.org_id)) {
      return Error(TaxiiErrorKind::kForbidden,
                   "only the organisation that shared an object (or the centre) may delete it");
    }
    versions.push_back(record.version_us);
    tlp = std::max(tlp, record.tlp);
  }
  for (int64_t version : versions) {
    connection.Execute(
        "UPDATE taxii_objects SET deleted = 1 WHERE collection_id = $1 AND stix_id = $2 AND "
        "version_us = $3",
        {Param{collection.id}, Param{std::string(stix_id)}, Param{version}});
  }
  AuditEntry entry = EntryFor(principal, "taxii_object.delete", std::string(GRANT_TYPE),
                              collection.id, tlp);
  JsonValue detail = JsonValue::MakeObject();
  detail.Set("stix_id", std::string(stix_id));
  detail.Set("versions", static_cast<int64_t>(versions.size()));
  entry.detail = DetailOf(detail);
  AuditLog::Append(connection, entry, now_ms);
  return static_cast<int64_t>(versions.size());
}

}  // namespace yagura::hub

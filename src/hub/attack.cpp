// The ATT&CK catalogue: import, resolution, catalogue reads, heatmap and coverage (see
// attack.hpp).
//
// Import works in two passes. The bundle is walked once with simdjson On-Demand, keeping only
// the members the catalogue stores (a few megabytes of descriptions out of 49 MB of JSON, most
// of it external references); then everything that needs the whole bundle is derived in memory
// — tactic ids from their shortnames, matrix order, the replacement of revoked objects, the
// parent of each sub-technique — and the domain's rows are replaced in one transaction with
// multi-row INSERTs (hundreds of rows per statement, so PostgreSQL is not held up by 20,000
// round trips).
//
// Reads are plain SQL over the catalogue's indexes; every lookup by external id also names
// the type, because deprecated mitigations reuse technique ids ("T1086" is both). The heatmap
// groups in SQL by technique and bucket under the read conditions of the lists, and does the
// little left (months from days, labels) here.
#include "hub/attack.hpp"

#include <simdjson.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <set>
#include <unordered_map>

#include <fmt/format.h>

#include "core/json_value.hpp"
#include "core/time.hpp"
#include "hub/alerts.hpp"
#include "hub/audit_log.hpp"
#include "hub/crypto.hpp"
#include "hub/identity.hpp"

namespace yagura::hub {
namespace {

constexpr std::string_view ENTERPRISE = "enterprise-attack";
constexpr int64_t DAY_MS = 86'400'000;
// Rows per INSERT statement: well below both engines' parameter limits (SQLite 32766,
// PostgreSQL 65535) at 20 columns.
constexpr size_t ROWS_PER_STATEMENT = 400;

// ---- parsing ----------------------------------------------------------------------------------

struct ParsedObject {
  std::string stix_id;
  std::string stix_type;
  std::string type;
  std::string external_id;
  std::string url;
  std::string name;
  std::string description;
  std::string shortname;
  bool is_subtechnique = false;
  std::vector<std::string> aliases;
  std::vector<std::string> platforms;
  std::vector<std::string> domains;
  std::vector<std::string> phases;       // kill-chain phase names of ATT&CK kill chains
  std::vector<std::string> tactic_refs;  // matrices: tactic STIX ids in display order
  bool revoked = false;
  bool deprecated = false;
  int64_t created = 0;
  int64_t modified = 0;
  std::string version;
  std::string collection_version;  // x-mitre-collection only
};

struct ParsedRelationship {
  std::string stix_id;
  std::string source_ref;
  std::string type;
  std::string target_ref;
};

struct ParsedBundle {
  std::string bundle_id;
  std::vector<ParsedObject> objects;  // with a MITRE external id
  std::vector<ParsedRelationship> relationships;
  std::string collection_name;
  std::string collection_version;
  std::string matrix_domain;
  int64_t skipped = 0;
};

// The catalogue's name for a STIX type; "" for types it does not keep.
std::string_view CatalogueType(std::string_view stix_type) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 12> TYPES = {{
      {"attack-pattern", "technique"},
      {"x-mitre-tactic", "tactic"},
      {"intrusion-set", "group"},
      {"malware", "software"},
      {"tool", "software"},
      {"campaign", "campaign"},
      {"course-of-action", "mitigation"},
      {"x-mitre-matrix", "matrix"},
      {"x-mitre-data-source", "data-source"},
      {"x-mitre-data-component", "data-component"},
      {"x-mitre-detection-strategy", "detection-strategy"},
      {"x-mitre-analytic", "analytic"},
  }};
  for (const auto& [stix, name] : TYPES) {
    if (stix == stix_type) return name;
  }
  if (stix_type == "x-mitre-asset") return "asset";
  return {};
}

// Text without NUL (PostgreSQL refuses it in text columns); simdjson has checked UTF-8.
std::string Text(std::string_view text) {
  std::string out(text);
  out.erase(std::remove(out.begin(), out.end(), '\0'), out.end());
  return out;
}

using simdjson::ondemand::value;

std::vector<std::string> StringList(value item) {
  std::vector<std::string> out;
  simdjson::ondemand::array array;
  if (item.get_array().get(array) != simdjson::SUCCESS) return out;
  for (auto element : array) {
    std::string_view text;
    if (element.get_string().get(text) == simdjson::SUCCESS) out.push_back(Text(text));
  }
  return out;
}

int64_t Timestamp(value item) {
  std::string_view text;
  if (item.get_string().get(text) != simdjson::SUCCESS) return 0;
  return ParseIsoDateTimeMs(text).value_or(0);
}

bool IsAttackSource(std::string_view source) {
  return source == "mitre-attack" || source == "mitre-ics-attack" ||
         source == "mitre-mobile-attack";
}

// Reads one object of the bundle's "objects" array.
void ReadObject(simdjson::ondemand::object object, ParsedBundle& bundle) {
  ParsedObject parsed;
  std::string source_ref, target_ref, relationship_type;
  for (auto field : object) {
    std::string_view key = field.unescaped_key();
    value item = field.value();
    std::string_view text;
    if (key == "type") {
      parsed.stix_type = Text(item.get_string().value());
    } else if (key == "id") {
      parsed.stix_id = Text(item.get_string().value());
    } else if (key == "name") {
      if (item.get_string().get(text) == simdjson::SUCCESS) parsed.name = Text(text);
    } else if (key == "description") {
      if (item.get_string().get(text) == simdjson::SUCCESS) parsed.description = Text(text);
    } else if (key == "x_mitre_shortname") {
      if (item.get_string().get(text) == simdjson::SUCCESS) parsed.shortname = Text(text);
    } else if (key == "x_mitre_is_subtechnique") {
      bool flag = false;
      if (item.get_bool().get(flag) == simdjson::SUCCESS) parsed.is_subtechnique = flag;
    } else if (key == "revoked") {
      bool flag = false;
      if (item.get_bool().get(flag) == simdjson::SUCCESS) parsed.revoked = flag;
    } else if (key == "x_mitre_deprecated") {
      bool flag = false;
      if (item.get_bool().get(flag) == simdjson::SUCCESS) parsed.deprecated = flag;
    } else if (key == "created") {
      parsed.created = Timestamp(item);
    } else if (key == "modified") {
      parsed.modified = Timestamp(item);
    } else if (key == "x_mitre_version") {
      if (item.get_string().get(text) == simdjson::SUCCESS) parsed.version = Text(text);
    } else if (key == "aliases" || key == "x_mitre_aliases") {
      // Groups list themselves first among their aliases; software lists its own name too.
      for (auto& alias : StringList(item)) {
        if (std::find(parsed.aliases.begin(), parsed.aliases.end(), alias) ==
            parsed.aliases.end()) {
          parsed.aliases.push_back(std::move(alias));
        }
      }
    } else if (key == "x_mitre_platforms") {
      parsed.platforms = StringList(item);
    } else if (key == "x_mitre_domains") {
      parsed.domains = StringList(item);
    } else if (key == "tactic_refs") {
      parsed.tactic_refs = StringList(item);
    } else if (key == "kill_chain_phases") {
      simdjson::ondemand::array phases;
      if (item.get_array().get(phases) != simdjson::SUCCESS) continue;
      for (auto phase_value : phases) {
        simdjson::ondemand::object phase;
        if (phase_value.get_object().get(phase) != simdjson::SUCCESS) continue;
        std::string chain, name;
        for (auto member : phase) {
          std::string_view member_key = member.unescaped_key();
          std::string_view member_text;
          if (member.value().get_string().get(member_text) != simdjson::SUCCESS) continue;
          if (member_key == "kill_chain_name") chain = Text(member_text);
          if (member_key == "phase_name") name = Text(member_text);
        }
        if (IsAttackSource(chain) && !name.empty()) parsed.phases.push_back(std::move(name));
      }
    } else if (key == "external_references") {
      simdjson::ondemand::array references;
      if (item.get_array().get(references) != simdjson::SUCCESS) continue;
      for (auto reference_value : references) {
        simdjson::ondemand::object reference;
        if (reference_value.get_object().get(reference) != simdjson::SUCCESS) continue;
        std::string source, external_id, url;
        for (auto member : reference) {
          std::string_view member_key = member.unescaped_key();
          std::string_view member_text;
          if (member.value().get_string().get(member_text) != simdjson::SUCCESS) continue;
          if (member_key == "source_name") source = member_text;
          else if (member_key == "external_id") external_id = Text(member_text);
          else if (member_key == "url") url = Text(member_text);
        }
        if (parsed.external_id.empty() && IsAttackSource(source) && !external_id.empty()) {
          parsed.external_id = std::move(external_id);
          parsed.url = std::move(url);
        }
      }
    } else if (key == "source_ref") {
      source_ref = Text(item.get_string().value());
    } else if (key == "target_ref") {
      target_ref = Text(item.get_string().value());
    } else if (key == "relationship_type") {
      relationship_type = Text(item.get_string().value());
    }
  }
  if (parsed.stix_type == "relationship") {
    // A revoked or deprecated relationship is no longer asserted.
    if (!parsed.revoked && !parsed.deprecated && !source_ref.empty() && !target_ref.empty()) {
      bundle.relationships.push_back(
          {parsed.stix_id, std::move(source_ref), std::move(relationship_type), std::move(target_ref)});
    }
    return;
  }
  if (parsed.stix_type == "x-mitre-collection") {
    bundle.collection_name = parsed.name;
    bundle.collection_version = parsed.version;
    ++bundle.skipped;
    return;
  }
  parsed.type = std::string(CatalogueType(parsed.stix_type));
  if (parsed.type.empty() || parsed.external_id.empty() || parsed.stix_id.empty()) {
    ++bundle.skipped;
    return;
  }
  if (parsed.type == "matrix" && bundle.matrix_domain.empty()) {
    bundle.matrix_domain = parsed.external_id;
  }
  bundle.objects.push_back(std::move(parsed));
}

Result<ParsedBundle> ParseBundle(std::string_view bytes) {
  ParsedBundle bundle;
  try {
    simdjson::padded_string padded(bytes);
    simdjson::ondemand::parser parser;
    simdjson::ondemand::document document = parser.iterate(padded);
    simdjson::ondemand::object root;
    if (document.get_object().get(root) != simdjson::SUCCESS) {
      return Fail("not a STIX bundle (the text is not a JSON object)");
    }
    bool seen_objects = false;
    std::string type;
    for (auto field : root) {
      std::string_view key = field.unescaped_key();
      if (key == "type") {
        type = std::string(field.value().get_string().value());
      } else if (key == "id") {
        bundle.bundle_id = Text(field.value().get_string().value());
      } else if (key == "objects") {
        seen_objects = true;
        for (auto element : field.value().get_array()) {
          simdjson::ondemand::object object;
          if (element.get_object().get(object) != simdjson::SUCCESS) {
            return Fail("an item of \"objects\" is not a JSON object");
          }
          ReadObject(object, bundle);
        }
      }
    }
    if (type != "bundle" || !seen_objects) {
      return Fail("not a STIX bundle (an object with \"type\": \"bundle\" and \"objects\")");
    }
  } catch (const simdjson::simdjson_error& error) {
    return Fail(fmt::format("not readable as a STIX bundle: {}", error.what()));
  }
  return bundle;
}

// ---- import -----------------------------------------------------------------------------------

std::string JsonArrayText(const std::vector<std::string>& items) {
  JsonValue array = JsonValue::MakeArray();
  for (const auto& item : items) array.Push(item);
  return array.Serialize();
}

std::vector<std::string> ParseStringArray(const std::string& text) {
  std::vector<std::string> items;
  auto parsed = JsonValue::Parse(text);
  if (!parsed || !parsed->is_array()) return items;
  for (const auto& item : parsed->as_array()) {
    if (item.is_string()) items.push_back(item.as_string());
  }
  return items;
}

// INSERTs `rows` into `table` in statements of ROWS_PER_STATEMENT rows.
void InsertRows(store::Connection& connection, std::string_view table, std::string_view columns,
                size_t column_count, const std::vector<std::vector<store::Param>>& rows) {
  for (size_t start = 0; start < rows.size(); start += ROWS_PER_STATEMENT) {
    size_t end = std::min(rows.size(), start + ROWS_PER_STATEMENT);
    std::string sql = fmt::format("INSERT INTO {} ({}) VALUES ", table, columns);
    std::vector<store::Param> params;
    params.reserve((end - start) * column_count);
    for (size_t r = start; r < end; ++r) {
      sql += r == start ? "(" : ", (";
      for (size_t c = 0; c < column_count; ++c) {
        params.push_back(rows[r][c]);
        sql += fmt::format("{}${}", c == 0 ? "" : ", ", params.size());
      }
      sql += ')';
    }
    connection.Execute(sql, params);
  }
}

Result<AttackImportReport> Store(store::Database& database, const ParsedBundle& bundle,
                                 std::string_view bytes, int64_t now_ms) {
  std::string domain = bundle.matrix_domain;
  if (domain.empty()) {
    for (const auto& object : bundle.objects) {
      if (object.domains.size() == 1) {
        domain = object.domains.front();
        break;
      }
    }
  }
  if (domain.empty() || domain.size() > 64 ||
      !std::all_of(domain.begin(), domain.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
      })) {
    return Fail("the bundle names no ATT&CK domain (no x-mitre-matrix and no x_mitre_domains)");
  }
  bool has_technique = std::any_of(bundle.objects.begin(), bundle.objects.end(),
                                   [](const ParsedObject& o) { return o.type == "technique"; });
  if (!has_technique) return Fail("the bundle holds no ATT&CK technique (attack-pattern)");

  // What needs the whole bundle.
  std::unordered_map<std::string, const ParsedObject*> by_stix_id;
  std::unordered_map<std::string, std::string> tactic_by_shortname;
  std::unordered_map<std::string, int64_t> tactic_ordinal;
  for (const auto& object : bundle.objects) {
    by_stix_id.emplace(object.stix_id, &object);
    if (object.type == "tactic" && !object.shortname.empty() && !object.revoked) {
      tactic_by_shortname.emplace(object.shortname, object.external_id);
    }
    if (object.type == "matrix" && object.external_id == domain) {
      for (size_t i = 0; i < object.tactic_refs.size(); ++i) {
        tactic_ordinal.emplace(object.tactic_refs[i], static_cast<int64_t>(i) + 1);
      }
    }
  }
  std::unordered_map<std::string, std::string> revoked_by;
  for (const auto& relationship : bundle.relationships) {
    if (relationship.type != "revoked-by") continue;
    auto target = by_stix_id.find(relationship.target_ref);
    if (target != by_stix_id.end()) {
      revoked_by[relationship.source_ref] = target->second->external_id;
    }
  }

  AttackImportReport report;
  report.domain = domain;
  report.name = bundle.collection_name;
  report.version = bundle.collection_version;
  report.skipped = bundle.skipped;
  std::vector<std::vector<store::Param>> object_rows;
  std::vector<std::vector<store::Param>> tactic_rows;
  std::vector<std::vector<store::Param>> relationship_rows;
  std::set<std::pair<std::string, std::string>> seen_tactics;
  std::set<std::string> seen_ids;
  for (const auto& o : bundle.objects) {
    if (!seen_ids.insert(o.stix_id).second) continue;  // a repeated object: the first one counts
    bool subtechnique = o.type == "technique" && o.is_subtechnique;
    std::optional<std::string> parent;
    if (subtechnique && o.external_id.find('.') != std::string::npos) {
      parent = o.external_id.substr(0, o.external_id.find('.'));
    }
    auto replacement = revoked_by.find(o.stix_id);
    auto ordinal = tactic_ordinal.find(o.stix_id);
    object_rows.push_back({
        store::Param{domain}, store::Param{o.stix_id}, store::Param{o.stix_type},
        store::Param{o.type}, store::Param{o.external_id}, store::Param{o.name},
        store::Param{o.description},
        o.shortname.empty() ? store::Param{nullptr} : store::Param{o.shortname},
        store::Param{ordinal == tactic_ordinal.end() ? int64_t{0} : ordinal->second},
        store::Param{static_cast<int64_t>(subtechnique ? 1 : 0)},
        parent ? store::Param{*parent} : store::Param{nullptr},
        store::Param{JsonArrayText(o.aliases)}, store::Param{JsonArrayText(o.platforms)},
        store::Param{static_cast<int64_t>(o.revoked ? 1 : 0)},
        replacement == revoked_by.end() ? store::Param{nullptr} : store::Param{replacement->second},
        store::Param{static_cast<int64_t>(o.deprecated ? 1 : 0)}, store::Param{o.created},
        store::Param{o.modified}, store::Param{o.version}, store::Param{o.url},
    });
    ++report.counts[subtechnique ? "subtechnique" : o.type];
    if (o.revoked) ++report.revoked;
    if (o.deprecated) ++report.deprecated;
    if (o.type != "technique") continue;
    for (const auto& phase : o.phases) {
      if (!seen_tactics.insert({o.external_id, phase}).second) continue;
      auto tactic = tactic_by_shortname.find(phase);
      tactic_rows.push_back({store::Param{domain}, store::Param{o.external_id}, store::Param{phase},
                             store::Param{tactic == tactic_by_shortname.end() ? std::string()
                                                                             : tactic->second}});
    }
  }
  std::set<std::string> seen_relationships;
  for (const auto& r : bundle.relationships) {
    if (!seen_relationships.insert(r.stix_id).second) continue;
    relationship_rows.push_back({store::Param{domain}, store::Param{r.stix_id},
                                 store::Param{r.source_ref}, store::Param{r.type},
                                 store::Param{r.target_ref}});
  }
  report.counts["relationship"] = static_cast<int64_t>(relationship_rows.size());

  JsonValue counts = JsonValue::MakeObject();
  for (const auto& [type, count] : report.counts) counts.Set(type, count);
  counts.Set("revoked", report.revoked);
  counts.Set("deprecated", report.deprecated);
  try {
    database.Transact([&](store::Connection& connection) {
      for (std::string_view table :
           {"attack_objects", "attack_technique_tactics", "attack_relationships", "attack_imports"}) {
        connection.Execute(fmt::format("DELETE FROM {} WHERE domain = $1", table),
                           {store::Param{domain}});
      }
      InsertRows(connection, "attack_objects",
                 "domain, stix_id, stix_type, type, external_id, name, description, shortname, "
                 "ordinal, is_subtechnique, parent_id, aliases, platforms, revoked, revoked_by, "
                 "deprecated, created, modified, version, url",
                 20, object_rows);
      InsertRows(connection, "attack_technique_tactics",
                 "domain, technique_id, tactic_shortname, tactic_id", 4, tactic_rows);
      InsertRows(connection, "attack_relationships",
                 "domain, stix_id, source_ref, relationship_type, target_ref", 5,
                 relationship_rows);
      connection.Execute(
          "INSERT INTO attack_imports (domain, name, version, bundle_id, sha256, counts, "
          "imported_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
          {store::Param{domain}, store::Param{report.name}, store::Param{report.version},
           store::Param{bundle.bundle_id}, store::Param{Sha256Hex(bytes)},
           store::Param{counts.Serialize()}, store::Param{now_ms}});
      AuditEntry entry = EntryFor(SystemPrincipal(), "attack.import", "attack_catalogue", domain,
                                  Tlp::kClear);
      JsonValue detail = JsonValue::MakeObject();
      detail.Set("name", report.name);
      detail.Set("version", report.version);
      detail.Set("counts", counts);
      entry.detail = detail.Serialize();
      AuditLog::Append(connection, entry, now_ms);
    });
  } catch (const store::DatabaseError& error) {
    return Fail(fmt::format("storing the {} catalogue failed: {}", domain, error.what()));
  }
  return report;
}

// ---- reading rows -----------------------------------------------------------------------------

// Builds "$first, $first+1, ..." for `count` parameters.
std::string Placeholders(size_t first, size_t count) {
  std::string text;
  for (size_t i = 0; i < count; ++i) text += fmt::format("{}${}", i == 0 ? "" : ", ", first + i);
  return text;
}

// "%text%" for LIKE over lower-cased columns, with LIKE's wildcards escaped (ESCAPE '\').
std::string ContainsPattern(std::string_view text) {
  std::string pattern = "%";
  for (char c : text) {
    if (c == '%' || c == '_' || c == '\\') pattern += '\\';
    pattern += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  }
  return pattern + "%";
}

std::optional<std::string> OptionalText(const store::Field& field) {
  if (field.is_null() || field.text().empty()) return std::nullopt;
  return field.text();
}

constexpr std::string_view TECHNIQUE_COLUMNS =
    "o.external_id, o.stix_id, o.domain, o.name, o.is_subtechnique, o.parent_id, o.platforms, "
    "o.revoked, o.revoked_by, o.deprecated, o.version, o.url, o.created, o.modified";

AttackTechnique RowToTechnique(const std::vector<store::Field>& row) {
  AttackTechnique t;
  size_t c = 0;
  t.id = row[c++].text();
  t.stix_id = row[c++].text();
  t.domain = row[c++].text();
  t.name = row[c++].text();
  t.is_subtechnique = row[c++].as_bool();
  t.parent_id = OptionalText(row[c++]);
  t.platforms = ParseStringArray(row[c++].text());
  t.revoked = row[c++].as_bool();
  t.revoked_by = OptionalText(row[c++]);
  t.deprecated = row[c++].as_bool();
  t.version = row[c++].text();
  t.url = row[c++].text();
  t.created = row[c++].as_int();
  t.modified = row[c++].as_int();
  if (c < row.size()) t.description = row[c++].text();
  return t;
}

// The tactics of techniques: (domain, technique id) -> tactics in matrix order. One query.
std::map<std::pair<std::string, std::string>, std::vector<AttackTacticRef>> TacticsOf(
    store::Connection& connection, const std::vector<std::string>& technique_ids) {
  std::map<std::pair<std::string, std::string>, std::vector<AttackTacticRef>> tactics;
  if (technique_ids.empty()) return tactics;
  std::vector<store::Param> params;
  for (const auto& id : technique_ids) params.emplace_back(id);
  store::Rows rows = connection.Query(
      fmt::format("SELECT tt.domain, tt.technique_id, tt.tactic_id, tt.tactic_shortname, "
                  "COALESCE(t.name, tt.tactic_shortname), COALESCE(t.ordinal, 0) "
                  "FROM attack_technique_tactics tt LEFT JOIN attack_objects t ON "
                  "t.domain = tt.domain AND t.type = 'tactic' AND t.external_id = tt.tactic_id "
                  "AND t.revoked = 0 WHERE tt.technique_id IN ({}) "
                  "ORDER BY tt.domain, tt.technique_id, 6, tt.tactic_shortname",
                  Placeholders(1, params.size())),
      params);
  for (const auto& row : rows.rows) {
    tactics[{row[0].text(), row[1].text()}].push_back(
        {row[2].text(), row[3].text(), row[4].text()});
  }
  return tactics;
}

void FillTactics(store::Connection& connection, std::vector<AttackTechnique>& techniques) {
  std::vector<std::string> ids;
  for (const auto& t : techniques) ids.push_back(t.id);
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  auto tactics = TacticsOf(connection, ids);
  for (auto& t : techniques) {
    auto found = tactics.find({t.domain, t.id});
    if (found != tactics.end()) t.tactics = found->second;
  }
}

AttackRef RowToRef(const std::vector<store::Field>& row) {
  return AttackRef{row[0].text(), row[1].text(), row[2].text(), row[3].text(), row[4].text()};
}

// Catalogue ids are short and plain: letters, digits, '.', '-'.
bool PlausibleExternalId(std::string_view id) {
  return !id.empty() && id.size() <= 32 && std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           c == '.' || c == '-';
  });
}

std::string MonthOfDay(int64_t day) { return FormatTimestampMs(day * DAY_MS).substr(0, 7); }

}  // namespace

// ---- import -----------------------------------------------------------------------------------

Result<AttackImportReport> ImportAttackBundle(store::Database& database, std::string_view bytes,
                                              int64_t now_ms) {
  auto bundle = ParseBundle(bytes);
  if (!bundle) return tl::unexpected(bundle.error());
  return Store(database, *bundle, bytes, now_ms);
}

Result<AttackImportReport> ImportAttackFile(store::Database& database, const std::string& path,
                                            int64_t now_ms) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) return Fail(fmt::format("{}: cannot be opened", path));
  std::string bytes;
  char buffer[1 << 16];
  size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof buffer, file)) > 0) bytes.append(buffer, n);
  bool failed = std::ferror(file) != 0;
  std::fclose(file);
  if (failed) return Fail(fmt::format("{}: read error", path));
  auto report = ImportAttackBundle(database, bytes, now_ms);
  if (!report) return Fail(fmt::format("{}: {}", path, report.error().message));
  return report;
}

// ---- resolution -------------------------------------------------------------------------------

std::vector<ResolvedTechnique> ResolveTechniques(store::Connection& connection,
                                                 std::span<const std::string> ids) {
  std::vector<ResolvedTechnique> resolved;
  std::vector<store::Param> params;
  for (const auto& raw : ids) {
    auto id = NormalizeTechniqueId(raw);
    if (!id) continue;
    if (std::any_of(resolved.begin(), resolved.end(),
                    [&](const ResolvedTechnique& r) { return r.id == *id; })) {
      continue;
    }
    ResolvedTechnique entry;
    entry.id = *id;
    resolved.push_back(std::move(entry));
    params.emplace_back(*id);
  }
  if (resolved.empty()) return resolved;
  // Enterprise first, then the other domains by name: the first row of an id wins.
  store::Rows rows = connection.Query(
      fmt::format("SELECT o.external_id, o.domain, o.name, o.is_subtechnique, o.parent_id, "
                  "o.revoked, o.revoked_by, o.deprecated, o.url FROM attack_objects o "
                  "WHERE o.type = 'technique' AND o.external_id IN ({}) "
                  "ORDER BY o.external_id, CASE WHEN o.domain = '{}' THEN 0 ELSE 1 END, o.domain",
                  Placeholders(1, params.size()), ENTERPRISE),
      params);
  std::vector<std::string> known;
  for (const auto& row : rows.rows) {
    auto entry = std::find_if(resolved.begin(), resolved.end(),
                              [&](const ResolvedTechnique& r) { return r.id == row[0].text(); });
    if (entry == resolved.end() || entry->known) continue;
    entry->known = true;
    entry->domain = row[1].text();
    entry->name = row[2].text();
    entry->is_subtechnique = row[3].as_bool();
    entry->parent_id = OptionalText(row[4]);
    entry->revoked = row[5].as_bool();
    entry->revoked_by = OptionalText(row[6]);
    entry->deprecated = row[7].as_bool();
    entry->url = row[8].text();
    known.push_back(entry->id);
  }
  auto tactics = TacticsOf(connection, known);
  for (auto& entry : resolved) {
    auto found = tactics.find({entry.domain, entry.id});
    if (entry.known && found != tactics.end()) entry.tactics = found->second;
  }
  return resolved;
}

bool AttackCatalogueLoaded(store::Connection& connection) {
  return !connection
              .Query("SELECT 1 FROM attack_objects WHERE type = 'technique' LIMIT 1")
              .empty();
}

// ---- catalogue reads --------------------------------------------------------------------------

AttackTechniquePage ListAttackTechniques(
    store::Connection& connection, const AttackTechniqueFilter& filter,
    const std::optional<std::pair<std::string, std::string>>& after, int limit) {
  AttackTechniquePage page;
  limit = std::clamp(limit, 1, 1000);
  std::vector<store::Param> params;
  auto next = [&](store::Param param) {
    params.push_back(std::move(param));
    return fmt::format("${}", params.size());
  };
  std::string sql = fmt::format("SELECT {} FROM attack_objects o WHERE o.type = 'technique'",
                                TECHNIQUE_COLUMNS);
  if (filter.domain) sql += fmt::format(" AND o.domain = {}", next(*filter.domain));
  if (!filter.include_subtechniques) sql += " AND o.is_subtechnique = 0";
  if (!filter.include_deprecated) sql += " AND o.revoked = 0 AND o.deprecated = 0";
  if (filter.tactic) {
    std::string tactic = next(*filter.tactic);
    sql += fmt::format(
        " AND EXISTS (SELECT 1 FROM attack_technique_tactics tt WHERE tt.domain = o.domain AND "
        "tt.technique_id = o.external_id AND (tt.tactic_shortname = {0} OR tt.tactic_id = {0}))",
        tactic);
  }
  if (filter.q) {
    std::string pattern = next(ContainsPattern(*filter.q));
    sql += fmt::format(
        " AND (lower(o.name) LIKE {0} ESCAPE '\\' OR lower(o.external_id) LIKE {0} ESCAPE '\\')",
        pattern);
  }
  if (after) {
    std::string id = next(after->first);
    std::string domain = next(after->second);
    sql += fmt::format(" AND (o.external_id, o.domain) > ({}, {})", id, domain);
  }
  sql += fmt::format(" ORDER BY o.external_id, o.domain LIMIT {}",
                     next(static_cast<int64_t>(limit) + 1));
  for (const auto& row : connection.Query(sql, params).rows) {
    page.items.push_back(RowToTechnique(row));
  }
  if (page.items.size() > static_cast<size_t>(limit)) {
    page.items.resize(static_cast<size_t>(limit));
    page.more = true;
  }
  FillTactics(connection, page.items);
  return page;
}

std::optional<AttackTechniqueDetail> GetAttackTechnique(store::Connection& connection,
                                                        std::string_view id,
                                                        const std::optional<std::string>& domain) {
  auto normalized = NormalizeTechniqueId(id);
  if (!normalized) return std::nullopt;
  std::vector<store::Param> params = {store::Param{*normalized}};
  std::string sql = fmt::format(
      "SELECT {}, o.description FROM attack_objects o WHERE o.type = 'technique' AND "
      "o.external_id = $1",
      TECHNIQUE_COLUMNS);
  if (domain) {
    params.emplace_back(*domain);
    sql += " AND o.domain = $2";
  }
  sql += fmt::format(" ORDER BY CASE WHEN o.domain = '{}' THEN 0 ELSE 1 END, o.domain LIMIT 1",
                     ENTERPRISE);
  store::Rows rows = connection.Query(sql, params);
  if (rows.empty()) return std::nullopt;
  AttackTechniqueDetail detail;
  detail.technique = RowToTechnique(rows.rows[0]);
  std::vector<AttackTechnique> one = {detail.technique};
  FillTactics(connection, one);
  detail.technique.tactics = one.front().tactics;
  const AttackTechnique& t = detail.technique;
  const std::string ref_columns = "s.external_id, s.name, s.type, s.stix_type, s.domain";
  if (t.parent_id) {
    store::Rows parent = connection.Query(
        fmt::format("SELECT {} FROM attack_objects s WHERE s.type = 'technique' AND "
                    "s.domain = $1 AND s.external_id = $2",
                    ref_columns),
        {store::Param{t.domain}, store::Param{*t.parent_id}});
    if (!parent.empty()) detail.parent = RowToRef(parent.rows[0]);
  }
  for (const auto& row :
       connection
           .Query(fmt::format("SELECT {} FROM attack_objects s WHERE s.type = 'technique' AND "
                              "s.domain = $1 AND s.parent_id = $2 AND s.revoked = 0 AND "
                              "s.deprecated = 0 ORDER BY s.external_id",
                              ref_columns),
                  {store::Param{t.domain}, store::Param{t.id}})
           .rows) {
    detail.subtechniques.push_back(RowToRef(row));
  }
  for (const auto& row :
       connection
           .Query(fmt::format(
                      "SELECT {}, r.relationship_type FROM attack_relationships r JOIN "
                      "attack_objects s ON s.domain = r.domain AND s.stix_id = r.source_ref "
                      "WHERE r.domain = $1 AND r.target_ref = $2 AND r.relationship_type IN "
                      "('uses', 'mitigates') AND s.revoked = 0 AND s.deprecated = 0 "
                      "ORDER BY s.external_id",
                      ref_columns),
                  {store::Param{t.domain}, store::Param{t.stix_id}})
           .rows) {
    AttackRef ref = RowToRef(row);
    const std::string& relation = row[5].text();
    if (relation == "mitigates" && ref.type == "mitigation") detail.mitigations.push_back(ref);
    else if (relation == "uses" && ref.type == "group") detail.groups.push_back(ref);
    else if (relation == "uses" && ref.type == "software") detail.software.push_back(ref);
    else if (relation == "uses" && ref.type == "campaign") detail.campaigns.push_back(ref);
  }
  return detail;
}

std::vector<AttackTactic> ListAttackTactics(store::Connection& connection,
                                            const std::optional<std::string>& domain) {
  std::vector<store::Param> params;
  std::string sql =
      "SELECT o.external_id, o.shortname, o.name, o.description, o.domain, o.ordinal, o.url, "
      "o.created, o.modified, (SELECT COUNT(*) FROM attack_technique_tactics tt JOIN "
      "attack_objects t ON t.domain = tt.domain AND t.type = 'technique' AND "
      "t.external_id = tt.technique_id WHERE tt.domain = o.domain AND "
      "tt.tactic_shortname = o.shortname AND t.revoked = 0 AND t.deprecated = 0) "
      "FROM attack_objects o WHERE o.type = 'tactic' AND o.revoked = 0";
  if (domain) {
    params.emplace_back(*domain);
    sql += " AND o.domain = $1";
  }
  sql += " ORDER BY o.domain, o.ordinal, o.external_id";
  std::vector<AttackTactic> tactics;
  for (const auto& row : connection.Query(sql, params).rows) {
    AttackTactic tactic;
    tactic.id = row[0].text();
    tactic.shortname = row[1].text();
    tactic.name = row[2].text();
    tactic.description = row[3].text();
    tactic.domain = row[4].text();
    tactic.ordinal = row[5].as_int();
    tactic.url = row[6].text();
    tactic.created = row[7].as_int();
    tactic.modified = row[8].as_int();
    tactic.technique_count = row[9].as_int();
    tactics.push_back(std::move(tactic));
  }
  return tactics;
}

namespace {

constexpr std::string_view GROUP_COLUMNS =
    "o.external_id, o.stix_id, o.name, o.aliases, o.domain, o.revoked, o.revoked_by, "
    "o.deprecated, o.version, o.url, o.created, o.modified, o.description";

// Rows of one group in several domains become one group listing its domains; the first row
// (enterprise, when present) gives the rest.
std::vector<AttackGroup> MergeGroups(const store::Rows& rows, bool with_description) {
  std::vector<AttackGroup> groups;
  for (const auto& row : rows.rows) {
    if (!groups.empty() && groups.back().id == row[0].text()) {
      groups.back().domains.push_back(row[4].text());
      continue;
    }
    AttackGroup g;
    g.id = row[0].text();
    g.stix_id = row[1].text();
    g.name = row[2].text();
    g.aliases = ParseStringArray(row[3].text());
    g.domains = {row[4].text()};
    g.revoked = row[5].as_bool();
    g.revoked_by = OptionalText(row[6]);
    g.deprecated = row[7].as_bool();
    g.version = row[8].text();
    g.url = row[9].text();
    g.created = row[10].as_int();
    g.modified = row[11].as_int();
    if (with_description) g.description = row[12].text();
    groups.push_back(std::move(g));
  }
  return groups;
}

}  // namespace

AttackGroupPage ListAttackGroups(store::Connection& connection, const AttackGroupFilter& filter,
                                 const std::optional<std::string>& after, int limit) {
  AttackGroupPage page;
  limit = std::clamp(limit, 1, 1000);
  std::vector<store::Param> params;
  auto next = [&](store::Param param) {
    params.push_back(std::move(param));
    return fmt::format("${}", params.size());
  };
  // The page's ids first (distinct across domains), then every row of those ids.
  std::string ids = "SELECT DISTINCT g.external_id FROM attack_objects g WHERE g.type = 'group'";
  if (filter.domain) ids += fmt::format(" AND g.domain = {}", next(*filter.domain));
  if (!filter.include_deprecated) ids += " AND g.revoked = 0 AND g.deprecated = 0";
  if (filter.q) {
    std::string pattern = next(ContainsPattern(*filter.q));
    ids += fmt::format(
        " AND (lower(g.name) LIKE {0} ESCAPE '\\' OR lower(g.aliases) LIKE {0} ESCAPE '\\' OR "
        "lower(g.external_id) LIKE {0} ESCAPE '\\')",
        pattern);
  }
  if (after) ids += fmt::format(" AND g.external_id > {}", next(*after));
  ids += fmt::format(" ORDER BY g.external_id LIMIT {}", next(static_cast<int64_t>(limit) + 1));
  std::string sql = fmt::format(
      "SELECT {} FROM attack_objects o WHERE o.type = 'group' AND o.external_id IN ({}) "
      "ORDER BY o.external_id, CASE WHEN o.domain = '{}' THEN 0 ELSE 1 END, o.domain",
      GROUP_COLUMNS, ids, ENTERPRISE);
  page.items = MergeGroups(connection.Query(sql, params), false);
  if (page.items.size() > static_cast<size_t>(limit)) {
    page.items.resize(static_cast<size_t>(limit));
    page.more = true;
  }
  return page;
}

std::optional<AttackGroupDetail> GetAttackGroup(store::Connection& connection,
                                                std::string_view id) {
  if (!PlausibleExternalId(id)) return std::nullopt;
  std::string upper(id);
  for (char& c : upper) c = static_cast<char>(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
  store::Rows rows = connection.Query(
      fmt::format("SELECT {} FROM attack_objects o WHERE o.type = 'group' AND o.external_id = $1 "
                  "ORDER BY CASE WHEN o.domain = '{}' THEN 0 ELSE 1 END, o.domain",
                  GROUP_COLUMNS, ENTERPRISE),
      {store::Param{upper}});
  std::vector<AttackGroup> groups = MergeGroups(rows, true);
  if (groups.empty()) return std::nullopt;
  AttackGroupDetail detail;
  detail.group = std::move(groups.front());
  // What the group uses, in every domain it appears in (its STIX id is the same in each).
  store::Rows used = connection.Query(
      "SELECT s.external_id, s.name, s.type, s.stix_type, s.domain FROM attack_objects g "
      "JOIN attack_relationships r ON r.domain = g.domain AND r.source_ref = g.stix_id "
      "JOIN attack_objects s ON s.domain = r.domain AND s.stix_id = r.target_ref "
      "WHERE g.type = 'group' AND g.external_id = $1 AND r.relationship_type = 'uses' AND "
      "s.type IN ('technique', 'software') AND s.revoked = 0 AND s.deprecated = 0 "
      "ORDER BY s.type, s.external_id, s.domain",
      {store::Param{upper}});
  std::vector<std::string> technique_ids;
  for (const auto& row : used.rows) {
    AttackRef ref = RowToRef(row);
    if (ref.type == "technique") {
      if (!detail.techniques.empty() && detail.techniques.back().technique.id == ref.id) continue;
      technique_ids.push_back(ref.id);
      detail.techniques.push_back({std::move(ref), {}});
    } else {
      if (!detail.software.empty() && detail.software.back().id == ref.id) continue;
      detail.software.push_back(std::move(ref));
    }
  }
  auto tactics = TacticsOf(connection, technique_ids);
  for (auto& item : detail.techniques) {
    auto found = tactics.find({item.technique.domain, item.technique.id});
    if (found != tactics.end()) item.tactics = found->second;
  }
  store::Rows campaigns = connection.Query(
      "SELECT s.external_id, s.name, s.type, s.stix_type, s.domain FROM attack_objects g "
      "JOIN attack_relationships r ON r.domain = g.domain AND r.target_ref = g.stix_id "
      "JOIN attack_objects s ON s.domain = r.domain AND s.stix_id = r.source_ref "
      "WHERE g.type = 'group' AND g.external_id = $1 AND r.relationship_type = 'attributed-to' "
      "AND s.type = 'campaign' AND s.revoked = 0 ORDER BY s.external_id, s.domain",
      {store::Param{upper}});
  for (const auto& row : campaigns.rows) {
    AttackRef ref = RowToRef(row);
    if (!detail.campaigns.empty() && detail.campaigns.back().id == ref.id) continue;
    detail.campaigns.push_back(std::move(ref));
  }
  return detail;
}

// ---- heatmap ----------------------------------------------------------------------------------

Heatmap TechniqueHeatmap(store::Connection& connection, const Principal& principal,
                         const HeatmapQuery& query) {
  // (technique, bucket) -> counts; buckets of kMonth are days until the end.
  std::map<std::pair<std::string, std::string>, HeatmapCell> cells;
  Heatmap heatmap;
  const std::string sector_sql =
      "CASE WHEN org.sector IS NULL OR org.sector = '' THEN COALESCE(org.type, 'unknown') "
      "ELSE org.sector END";
  auto bucket_sql = [&](std::string_view time_column, std::string_view org_column) {
    switch (query.dimension) {
      case HeatmapDimension::kOrganisation:
        return std::string(org_column);
      case HeatmapDimension::kSector:
        return sector_sql;
      case HeatmapDimension::kMonth:
        return fmt::format("{} / {}", time_column, DAY_MS);
    }
    return std::string(org_column);
  };
  const std::string technique_sql =
      query.rollup ? "substr(t.technique, 1, 5)" : std::string("t.technique");
  auto bucket_of = [&](const store::Field& field) {
    return query.dimension == HeatmapDimension::kMonth ? MonthOfDay(field.as_int())
                                                       : field.text();
  };

  if (query.alerts) {
    std::vector<store::Param> params;
    std::string condition = AlertReadCondition(principal, params);
    auto next = [&](store::Param param) {
      params.push_back(std::move(param));
      return fmt::format("${}", params.size());
    };
    std::string sql = fmt::format(
        "SELECT {0}, {1}, COUNT(DISTINCT a.id) FROM alert_techniques t JOIN alerts a ON "
        "a.id = t.alert_id LEFT JOIN organizations org ON org.id = a.org_id WHERE {2} AND "
        "a.kind <> 'campaign'",
        technique_sql, bucket_sql("a.event_time", "a.org_id"), condition);
    if (query.since) sql += fmt::format(" AND a.event_time >= {}", next(*query.since));
    if (query.until) sql += fmt::format(" AND a.event_time < {}", next(*query.until));
    if (query.org_id) sql += fmt::format(" AND a.org_id = {}", next(*query.org_id));
    if (query.sector) sql += fmt::format(" AND {} = {}", sector_sql, next(*query.sector));
    sql += " GROUP BY 1, 2";
    for (const auto& row : connection.Query(sql, params).rows) {
      HeatmapCell& cell = cells[{row[0].text(), bucket_of(row[1])}];
      cell.alerts += row[2].as_int();
      if (row[2].as_int() > 0) {
        heatmap.counted_anything = true;
        heatmap.highest = std::max(heatmap.highest, Tlp::kAmber);
      }
    }
  }
  if (query.incidents) {
    SqlCondition readable = ReadCondition(principal, "incident", "i", 1);
    std::vector<store::Param> params = readable.params;
    auto next = [&](store::Param param) {
      params.push_back(std::move(param));
      return fmt::format("${}", params.size());
    };
    std::string sql = fmt::format(
        "SELECT {0}, {1}, i.tlp, COUNT(DISTINCT i.id) FROM incident_techniques t JOIN incidents "
        "i ON i.id = t.incident_id LEFT JOIN organizations org ON org.id = i.owner_org_id "
        "WHERE {2}",
        technique_sql, bucket_sql("i.detected_at", "i.owner_org_id"), readable.sql);
    if (query.since) sql += fmt::format(" AND i.detected_at >= {}", next(*query.since));
    if (query.until) sql += fmt::format(" AND i.detected_at < {}", next(*query.until));
    if (query.org_id) sql += fmt::format(" AND i.owner_org_id = {}", next(*query.org_id));
    if (query.sector) sql += fmt::format(" AND {} = {}", sector_sql, next(*query.sector));
    sql += " GROUP BY 1, 2, 3";
    for (const auto& row : connection.Query(sql, params).rows) {
      HeatmapCell& cell = cells[{row[0].text(), bucket_of(row[1])}];
      cell.incidents += row[3].as_int();
      if (row[3].as_int() > 0) {
        heatmap.counted_anything = true;
        heatmap.highest = std::max(heatmap.highest, ParseTlp(row[2].text()).value_or(Tlp::kRed));
      }
    }
  }
  for (auto& [key, cell] : cells) {
    cell.technique = key.first;
    cell.bucket = key.second;
    heatmap.buckets.emplace(cell.bucket, cell.bucket);
    heatmap.cells.push_back(std::move(cell));
  }
  if (query.dimension == HeatmapDimension::kOrganisation && !heatmap.buckets.empty()) {
    // Names of the organisations that own something the caller may read.
    std::vector<store::Param> params;
    for (const auto& [id, label] : heatmap.buckets) params.emplace_back(id);
    store::Rows names = connection.Query(
        fmt::format("SELECT id, name FROM organizations WHERE id IN ({})",
                    Placeholders(1, params.size())),
        params);
    for (const auto& row : names.rows) heatmap.buckets[row[0].text()] = row[1].text();
  }
  return heatmap;
}

// ---- coverage ---------------------------------------------------------------------------------

AttackCoverage ComputeCoverage(store::Connection& connection, std::span<const RuleTechniques> rules,
                               const std::optional<std::string>& domain,
                               bool include_subtechniques) {
  AttackCoverage coverage;
  std::vector<store::Param> params;
  std::string sql = fmt::format(
      "SELECT {} FROM attack_objects o WHERE o.type = 'technique' AND o.revoked = 0 AND "
      "o.deprecated = 0",
      TECHNIQUE_COLUMNS);
  if (domain) {
    params.emplace_back(*domain);
    sql += " AND o.domain = $1";
  }
  sql += " ORDER BY o.external_id, o.domain";
  std::vector<AttackTechnique> techniques;
  for (const auto& row : connection.Query(sql, params).rows) {
    techniques.push_back(RowToTechnique(row));
  }
  FillTactics(connection, techniques);

  // Every rule once per technique and once per parent of a sub-technique it names.
  std::map<std::string, std::vector<const RuleTechniques*>> direct;
  std::map<std::string, std::set<const RuleTechniques*>> through_subtechniques;
  std::set<std::string> named;
  for (const auto& rule : rules) {
    for (const auto& id : rule.techniques) {
      named.insert(id);
      auto& list = direct[id];
      if (std::find(list.begin(), list.end(), &rule) == list.end()) list.push_back(&rule);
      if (id.size() > 5) through_subtechniques[id.substr(0, 5)].insert(&rule);
    }
  }
  std::set<std::string> current;
  for (auto& t : techniques) {
    current.insert(t.id);
    if (t.is_subtechnique && !include_subtechniques) continue;
    CoveredTechnique item;
    auto rules_of = direct.find(t.id);
    if (rules_of != direct.end()) item.rules = rules_of->second;
    if (!t.is_subtechnique) {
      auto via = through_subtechniques.find(t.id);
      if (via != through_subtechniques.end()) {
        item.subtechnique_rules = static_cast<int64_t>(via->second.size());
      }
    }
    item.technique = std::move(t);
    coverage.techniques.push_back(std::move(item));
  }
  // Tags the catalogue (in this domain) does not know as current techniques: revoked,
  // deprecated, unknown — unless they are current in another domain.
  std::vector<std::string> missing;
  for (const auto& id : named) {
    if (!current.count(id)) missing.push_back(id);
  }
  if (!missing.empty()) {
    for (const auto& resolved : ResolveTechniques(connection, missing)) {
      if (resolved.known && !resolved.revoked && !resolved.deprecated) continue;
      StaleTechnique stale;
      stale.id = resolved.id;
      stale.reason = !resolved.known ? "unknown" : resolved.revoked ? "revoked" : "deprecated";
      stale.revoked_by = resolved.revoked_by;
      stale.rules = direct[resolved.id];
      coverage.stale.push_back(std::move(stale));
    }
  }
  for (auto& tactic : ListAttackTactics(connection, domain)) {
    TacticCoverage summary;
    for (const auto& item : coverage.techniques) {
      if (item.technique.domain != tactic.domain) continue;
      bool in_tactic = std::any_of(item.technique.tactics.begin(), item.technique.tactics.end(),
                                   [&](const AttackTacticRef& t) {
                                     return t.shortname == tactic.shortname;
                                   });
      if (!in_tactic) continue;
      ++summary.techniques;
      if (item.covered()) ++summary.covered;
    }
    summary.tactic = std::move(tactic);
    coverage.tactics.push_back(std::move(summary));
  }
  return coverage;
}

}  // namespace yagura::hub

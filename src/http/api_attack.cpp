// ATT&CK routes under /api/v1/attack: the catalogue (techniques, tactics, groups), technique
// counts over alerts and incidents for a heatmap, and the coverage of the loaded rules.
//
// The catalogue is public reference data (TLP:CLEAR): any logged-in principal reads it, and
// reads are not audited. The heatmap counts confidential objects, filtered in SQL by the same
// read conditions as the alert and incident lists (hub::TechniqueHeatmap), so a count never
// includes what the caller could not open; because those counts are read from AMBER (or more
// restricted) data, each heatmap that counted anything is one audit entry "attack.heatmap".
//
// Coverage reads the rule files the service was given (ServiceSettings::rule_paths): only the
// id, title and tags of each YAML document, with yaml-cpp, not a compiled rule set — the
// detector owns that, and compiling Hyperscan databases to answer a report would be waste. The
// parsed tags are cached and re-read only when the files' names, sizes or modification times
// change, so editing a rule shows in the next report. Rules that live detection leaves out
// (ServiceSettings::excluded_rule_ids and the rule lists) cover nothing.
//
// The catalogue's lists page by external id, not by (created_at, id): the catalogue has its own
// order (T1001 < T1001.001 < T1003), and its cursors encode that key.
#include <fmt/format.h>
#include <sys/stat.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>
#include <string>

#include "attack/navigator_layer.hpp"
#include "attack/technique_id.hpp"
#include "core/json_value.hpp"
#include "core/json_writer.hpp"
#include "core/time.hpp"
#include "core/utf8.hpp"
#include "http/api.hpp"
#include "http/json_forms.hpp"
#include "hub/attack.hpp"
#include "hub/audit_log.hpp"
#include "scan/rule_tuning.hpp"
#include "sigma/loader.hpp"

namespace yagura::http {
namespace {

constexpr std::string_view TAG = "attack";
constexpr std::string_view BASE = "/api/v1/attack";
constexpr size_t QUERY_MAX = 200;

// ---- JSON forms -------------------------------------------------------------------------------

JsonValue TacticRefJson(const hub::AttackTacticRef& tactic) {
  JsonValue json = JsonValue::MakeObject();
  json.Set("id", tactic.id);
  json.Set("shortname", tactic.shortname);
  json.Set("name", tactic.name);
  return json;
}

JsonValue TacticRefsJson(const std::vector<hub::AttackTacticRef>& tactics) {
  JsonValue array = JsonValue::MakeArray();
  for (const auto& tactic : tactics) array.Push(TacticRefJson(tactic));
  return array;
}

JsonValue RefJson(const hub::AttackRef& ref) {
  JsonValue json = JsonValue::MakeObject();
  json.Set("id", ref.id);
  json.Set("name", ref.name);
  json.Set("type", ref.type);
  if (ref.type == "software") json.Set("software_type", ref.stix_type);  // malware or tool
  json.Set("domain", ref.domain);
  return json;
}

JsonValue RefsJson(const std::vector<hub::AttackRef>& refs) {
  JsonValue array = JsonValue::MakeArray();
  for (const auto& ref : refs) array.Push(RefJson(ref));
  return array;
}

JsonValue TechniqueJson(const hub::AttackTechnique& t, bool with_description) {
  JsonValue json = JsonValue::MakeObject();
  json.Set("id", t.id);
  json.Set("stix_id", t.stix_id);
  json.Set("domain", t.domain);
  json.Set("name", t.name);
  if (with_description) json.Set("description", t.description);
  json.Set("is_subtechnique", t.is_subtechnique);
  json.Set("parent_id", OptionalText(t.parent_id));
  json.Set("tactics", TacticRefsJson(t.tactics));
  json.Set("platforms", Strings(t.platforms));
  json.Set("revoked", t.revoked);
  json.Set("revoked_by", OptionalText(t.revoked_by));
  json.Set("deprecated", t.deprecated);
  json.Set("version", t.version);
  json.Set("url", t.url);
  json.Set("created_at", Time(t.created));
  json.Set("updated_at", Time(t.modified));
  return json;
}

JsonValue TacticJson(const hub::AttackTactic& t) {
  JsonValue json = JsonValue::MakeObject();
  json.Set("id", t.id);
  json.Set("shortname", t.shortname);
  json.Set("name", t.name);
  json.Set("description", t.description);
  json.Set("domain", t.domain);
  json.Set("order", t.ordinal);
  json.Set("technique_count", t.technique_count);
  json.Set("url", t.url);
  json.Set("created_at", Time(t.created));
  json.Set("updated_at", Time(t.modified));
  return json;
}

JsonValue GroupJson(const hub::AttackGroup& g, bool with_description) {
  JsonValue json = JsonValue::MakeObject();
  json.Set("id", g.id);
  json.Set("stix_id", g.stix_id);
  json.Set("name", g.name);
  json.Set("aliases", Strings(g.aliases));
  json.Set("domains", Strings(g.domains));
  if (with_description) json.Set("description", g.description);
  json.Set("revoked", g.revoked);
  json.Set("revoked_by", OptionalText(g.revoked_by));
  json.Set("deprecated", g.deprecated);
  json.Set("version", g.version);
  json.Set("url", g.url);
  json.Set("created_at", Time(g.created));
  json.Set("updated_at", Time(g.modified));
  return json;
}

JsonValue ResolvedJson(const hub::ResolvedTechnique& r) {
  JsonValue json = JsonValue::MakeObject();
  json.Set("id", r.id);
  json.Set("known", r.known);
  json.Set("name", r.known ? JsonValue(r.name) : JsonValue());
  json.Set("domain", r.known ? JsonValue(r.domain) : JsonValue());
  json.Set("tactics", TacticRefsJson(r.tactics));
  json.Set("revoked", r.revoked);
  json.Set("revoked_by", OptionalText(r.revoked_by));
  json.Set("deprecated", r.deprecated);
  json.Set("url", r.known ? JsonValue(r.url) : JsonValue());
  return json;
}

// ---- query parameters -------------------------------------------------------------------------

bool QueryBool(const Request& request, std::string_view name, bool fallback) {
  static constexpr std::array<std::string_view, 2> BOOLS = {"true", "false"};
  auto value = QueryEnum(request, name, BOOLS);
  return value ? *value == "true" : fallback;
}

// A domain is lower-case letters, digits and '-' ("enterprise-attack"); one the catalogue does
// not hold simply matches nothing.
std::optional<std::string> QueryDomain(const Request& request) {
  auto value = request.Query("domain");
  if (!value) return std::nullopt;
  bool valid = !value->empty() && value->size() <= 64 &&
               std::all_of(value->begin(), value->end(), [](char c) {
                 return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
               });
  if (!valid) {
    ThrowBadRequest("domain must be an ATT&CK domain such as enterprise-attack or ics-attack",
                    "domain");
  }
  return std::string(*value);
}

// Free text for substring search: printable, at most QUERY_MAX bytes.
std::optional<std::string> QueryText(const Request& request, std::string_view name) {
  auto value = request.Query(name);
  if (!value || value->empty()) return std::nullopt;
  bool valid = value->size() <= QUERY_MAX && std::none_of(value->begin(), value->end(), [](char c) {
                 return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
               });
  if (!valid) {
    ThrowBadRequest(fmt::format("{} must be text of at most {} bytes", name, QUERY_MAX),
                    std::string(name));
  }
  // PostgreSQL refuses text that is not UTF-8.
  if (!ValidUtf8(*value)) {
    ThrowBadRequest(fmt::format("{} must be UTF-8 text", name), std::string(name));
  }
  return std::string(*value);
}

// Cursors over catalogue keys: the parts joined by '\n', hex-encoded. Opaque to clients and
// checked when read back.
std::string EncodeKeyCursor(const std::vector<std::string>& parts) {
  static constexpr char HEX[] = "0123456789abcdef";
  std::string joined;
  for (size_t i = 0; i < parts.size(); ++i) joined += (i == 0 ? "" : "\n") + parts[i];
  std::string out;
  for (unsigned char c : joined) {
    out += HEX[c >> 4];
    out += HEX[c & 0x0F];
  }
  return out;
}

std::vector<std::string> DecodeKeyCursor(std::string_view cursor, size_t parts) {
  auto fail = [] { ThrowBadRequest("cursor is not one this server issued", "cursor"); };
  if (cursor.empty() || cursor.size() % 2 != 0 || cursor.size() > 256) fail();
  auto nibble = [&](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    fail();
    return 0;
  };
  std::string joined;
  for (size_t i = 0; i < cursor.size(); i += 2) {
    joined += static_cast<char>(nibble(cursor[i]) * 16 + nibble(cursor[i + 1]));
  }
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t at = joined.find('\n'); at != std::string::npos; at = joined.find('\n', start)) {
    out.push_back(joined.substr(start, at - start));
    start = at + 1;
  }
  out.push_back(joined.substr(start));
  bool plain = out.size() == parts && std::all_of(out.begin(), out.end(), [](const auto& part) {
                 return !part.empty() && std::all_of(part.begin(), part.end(), [](char c) {
                   return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
                          (c >= 'A' && c <= 'Z') || c == '.' || c == '-';
                 });
               });
  if (!plain) fail();
  return out;
}

// ---- rule tags for coverage -------------------------------------------------------------------

// The id, title and ATT&CK techniques of every rule under the service's rule paths, re-read when
// the files change. Thread-safe.
class RuleTagCache {
 public:
  struct Snapshot {
    std::vector<hub::RuleTechniques> rules;  // every rule (detection or correlation) read
    int64_t files = 0;
    std::vector<std::string> problems;  // files or documents that could not be read
  };

  explicit RuleTagCache(const ServiceSettings& settings)
      : paths_(settings.rule_paths),
        excluded_ids_(settings.excluded_rule_ids),
        excluded_lists_(settings.excluded_rule_list_files) {}

  std::shared_ptr<const Snapshot> Get() {
    std::vector<sigma::RuleFailure> failures;
    std::vector<std::string> files =
        paths_.empty() ? std::vector<std::string>{} : sigma::CollectRuleFiles(paths_, failures);
    std::string fingerprint;
    for (const auto* group : {&files, &excluded_lists_}) {
      for (const auto& file : *group) {
        struct stat st {};
        if (::stat(file.c_str(), &st) != 0) continue;
        fingerprint += fmt::format("{}\x1f{}\x1f{}.{}\n", file, st.st_size, st.st_mtim.tv_sec,
                                   st.st_mtim.tv_nsec);
      }
    }
    for (const auto& failure : failures) fingerprint += failure.file + "\x1e";
    std::lock_guard lock(mutex_);
    if (snapshot_ && fingerprint == fingerprint_) return snapshot_;
    auto snapshot = std::make_shared<Snapshot>();
    for (const auto& failure : failures) {
      snapshot->problems.push_back(fmt::format("{}: {}", failure.file, failure.reason));
    }
    std::set<std::string, std::less<>> excluded(excluded_ids_.begin(), excluded_ids_.end());
    for (const auto& list : excluded_lists_) {
      auto ids = scan::ReadRuleList(list);
      if (!ids) {
        snapshot->problems.push_back(ids.error().message);
        continue;
      }
      excluded.insert(ids->begin(), ids->end());
    }
    for (const auto& file : files) Read(file, excluded, *snapshot);
    snapshot_ = std::move(snapshot);
    fingerprint_ = std::move(fingerprint);
    return snapshot_;
  }

 private:
  static std::string Scalar(const YAML::Node& node) {
    return node && node.IsScalar() ? node.Scalar() : std::string();
  }

  static void Read(const std::string& file, const std::set<std::string, std::less<>>& excluded,
                   Snapshot& snapshot) {
    std::ifstream in(file, std::ios::binary);
    std::ostringstream buffer;
    buffer << in.rdbuf();
    if (!in) {
      snapshot.problems.push_back(fmt::format("{}: cannot be read", file));
      return;
    }
    ++snapshot.files;
    std::string bytes = buffer.str();
    for (const auto& document : sigma::SplitDocuments(bytes)) {
      YAML::Node node;
      try {
        node = YAML::Load(document.text);
      } catch (const YAML::Exception& error) {
        snapshot.problems.push_back(
            fmt::format("{}:{}: {}", file, document.first_line + 1, error.msg));
        continue;
      }
      // Filters (no detection, no correlation) and empty documents are not rules.
      if (!node.IsMap() || (!node["detection"] && !node["correlation"])) continue;
      hub::RuleTechniques rule;
      rule.title = Scalar(node["title"]);
      rule.rule_id = Scalar(node["id"]);
      const std::string name = Scalar(node["name"]);
      if ((!rule.rule_id.empty() && excluded.contains(rule.rule_id)) ||
          (!name.empty() && excluded.contains(name)))
        continue;
      if (rule.rule_id.empty()) rule.rule_id = rule.title;
      YAML::Node tags = node["tags"];
      if (tags && tags.IsSequence()) {
        for (const auto& tag : tags) {
          auto technique = hub::TechniqueOfTag(Scalar(tag));
          if (technique && std::find(rule.techniques.begin(), rule.techniques.end(),
                                     *technique) == rule.techniques.end()) {
            rule.techniques.push_back(*technique);
          }
        }
      }
      snapshot.rules.push_back(std::move(rule));
    }
  }

  std::vector<std::string> paths_;
  std::vector<std::string> excluded_ids_;
  std::vector<std::string> excluded_lists_;
  std::mutex mutex_;
  std::string fingerprint_;
  std::shared_ptr<const Snapshot> snapshot_;
};

// ---- handlers ---------------------------------------------------------------------------------

Response CatalogueHandler(ApiContext& context, Request&, const hub::Principal&) {
  auto connection = context.database.Acquire();
  store::Rows rows = connection->Query(
      "SELECT domain, name, version, bundle_id, sha256, counts, imported_at FROM attack_imports "
      "ORDER BY domain");
  JsonValue items = JsonValue::MakeArray();
  for (const auto& row : rows.rows) {
    JsonValue item = JsonValue::MakeObject();
    item.Set("domain", row[0].text());
    item.Set("name", row[1].text());
    item.Set("version", row[2].text());
    item.Set("bundle_id", row[3].text());
    item.Set("sha256", row[4].text());
    auto counts = JsonValue::Parse(row[5].text());
    item.Set("counts", counts && counts->is_object() ? std::move(*counts) : JsonValue::MakeObject());
    item.Set("imported_at", Time(row[6].as_int()));
    items.Push(std::move(item));
  }
  return ListResponse(items, "");
}

Response ListTechniquesHandler(ApiContext& context, Request& request, const hub::Principal&) {
  hub::AttackTechniqueFilter filter;
  filter.domain = QueryDomain(request);
  if (auto tactic = request.Query("tactic")) {
    bool valid = !tactic->empty() && tactic->size() <= 64 &&
                 std::all_of(tactic->begin(), tactic->end(), [](char c) {
                   return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                          (c >= '0' && c <= '9') || c == '-';
                 });
    if (!valid) {
      ThrowBadRequest("tactic must be a tactic id (TA0006) or shortname (credential-access)",
                      "tactic");
    }
    filter.tactic = std::string(*tactic);
  }
  filter.q = QueryText(request, "q");
  filter.include_subtechniques = QueryBool(request, "include_subtechniques", true);
  filter.include_deprecated = QueryBool(request, "include_deprecated", false);
  PageRequest page = ReadPage(request);
  std::optional<std::pair<std::string, std::string>> after;
  if (!page.cursor.empty()) {
    auto parts = DecodeKeyCursor(page.cursor, 2);
    after = std::make_pair(parts[0], parts[1]);
  }
  hub::AttackTechniquePage result = [&] {
    auto connection = context.database.Acquire();
    return hub::ListAttackTechniques(*connection, filter, after, page.limit);
  }();
  JsonValue items = JsonValue::MakeArray();
  for (const auto& technique : result.items) items.Push(TechniqueJson(technique, false));
  std::string next;
  if (result.more) next = EncodeKeyCursor({result.items.back().id, result.items.back().domain});
  return ListResponse(items, next);
}

Response GetTechniqueHandler(ApiContext& context, Request& request, const hub::Principal&) {
  std::optional<std::string> domain = QueryDomain(request);
  auto detail = [&] {
    auto connection = context.database.Acquire();
    return hub::GetAttackTechnique(*connection, request.PathParam("id"), domain);
  }();
  if (!detail) ThrowNotFound("technique");
  JsonValue json = TechniqueJson(detail->technique, true);
  json.Set("parent", detail->parent ? RefJson(*detail->parent) : JsonValue());
  json.Set("subtechniques", RefsJson(detail->subtechniques));
  json.Set("groups", RefsJson(detail->groups));
  json.Set("software", RefsJson(detail->software));
  json.Set("campaigns", RefsJson(detail->campaigns));
  json.Set("mitigations", RefsJson(detail->mitigations));
  return JsonResponse(200, json);
}

Response ListTacticsHandler(ApiContext& context, Request& request, const hub::Principal&) {
  std::optional<std::string> domain = QueryDomain(request);
  std::vector<hub::AttackTactic> tactics = [&] {
    auto connection = context.database.Acquire();
    return hub::ListAttackTactics(*connection, domain);
  }();
  JsonValue items = JsonValue::MakeArray();
  for (const auto& tactic : tactics) items.Push(TacticJson(tactic));
  return ListResponse(items, "");
}

Response ListGroupsHandler(ApiContext& context, Request& request, const hub::Principal&) {
  hub::AttackGroupFilter filter;
  filter.domain = QueryDomain(request);
  filter.q = QueryText(request, "q");
  filter.include_deprecated = QueryBool(request, "include_deprecated", false);
  PageRequest page = ReadPage(request);
  std::optional<std::string> after;
  if (!page.cursor.empty()) after = DecodeKeyCursor(page.cursor, 1).front();
  hub::AttackGroupPage result = [&] {
    auto connection = context.database.Acquire();
    return hub::ListAttackGroups(*connection, filter, after, page.limit);
  }();
  JsonValue items = JsonValue::MakeArray();
  for (const auto& group : result.items) items.Push(GroupJson(group, false));
  std::string next;
  if (result.more) next = EncodeKeyCursor({result.items.back().id});
  return ListResponse(items, next);
}

Response GetGroupHandler(ApiContext& context, Request& request, const hub::Principal&) {
  auto detail = [&] {
    auto connection = context.database.Acquire();
    return hub::GetAttackGroup(*connection, request.PathParam("id"));
  }();
  if (!detail) ThrowNotFound("group");
  JsonValue json = GroupJson(detail->group, true);
  JsonValue techniques = JsonValue::MakeArray();
  for (const auto& item : detail->techniques) {
    JsonValue technique = RefJson(item.technique);
    technique.Set("tactics", TacticRefsJson(item.tactics));
    techniques.Push(std::move(technique));
  }
  json.Set("techniques", std::move(techniques));
  json.Set("software", RefsJson(detail->software));
  json.Set("campaigns", RefsJson(detail->campaigns));
  return JsonResponse(200, json);
}

constexpr std::array<std::string_view, 3> DIMENSIONS = {"organisation", "sector", "month"};
constexpr std::array<std::string_view, 3> SOURCES = {"alerts", "incidents", "both"};

// The parameters the heatmap and its Navigator layer share.
struct HeatmapRequest {
  hub::HeatmapQuery query;
  std::string dimension;
  std::string source;
};

HeatmapRequest ParseHeatmapRequest(Request& request) {
  HeatmapRequest parsed;
  hub::HeatmapQuery& query = parsed.query;
  parsed.dimension = QueryEnum(request, "dimension", DIMENSIONS).value_or("organisation");
  query.dimension = parsed.dimension == "sector"  ? hub::HeatmapDimension::kSector
                    : parsed.dimension == "month" ? hub::HeatmapDimension::kMonth
                                                  : hub::HeatmapDimension::kOrganisation;
  parsed.source = QueryEnum(request, "source", SOURCES).value_or("both");
  query.alerts = parsed.source != "incidents";
  query.incidents = parsed.source != "alerts";
  query.since = QueryTime(request, "since");
  query.until = QueryTime(request, "until");
  if (query.since && query.until && *query.until <= *query.since) {
    ThrowBadRequest("until must be later than since", "until");
  }
  query.rollup = QueryBool(request, "rollup", false);
  query.org_id = QueryId(request, "org_id");
  if (auto sector = request.Query("sector")) {
    const bool valid = !sector->empty() && sector->size() <= 64 &&
                       std::all_of(sector->begin(), sector->end(), [](char c) {
                         return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
                       });
    if (!valid)
      ThrowBadRequest("sector must be a sector or organisation type such as electric_power",
                      "sector");
    query.sector = std::string(*sector);
  }
  return parsed;
}

// A heatmap that counted confidential (TLP:AMBER or RED) alerts or incidents is a read of them:
// one audit entry "attack.heatmap", whichever form it was read in.
void AuditHeatmap(ApiContext& context, const hub::Principal& principal,
                  const HeatmapRequest& parsed, const hub::Heatmap& heatmap,
                  std::string_view form) {
  if (!heatmap.counted_anything || heatmap.highest == hub::Tlp::kClear ||
      heatmap.highest == hub::Tlp::kGreen)
    return;
  const hub::HeatmapQuery& query = parsed.query;
  hub::AuditEntry entry = hub::EntryFor(principal, "attack.heatmap", "attack", "", heatmap.highest);
  JsonValue detail = JsonValue::MakeObject();
  detail.Set("dimension", parsed.dimension);
  detail.Set("source", parsed.source);
  detail.Set("rollup", query.rollup);
  detail.Set("since", query.since ? Time(*query.since) : JsonValue());
  detail.Set("until", query.until ? Time(*query.until) : JsonValue());
  detail.Set("org_id", query.org_id ? JsonValue(*query.org_id) : JsonValue());
  detail.Set("sector", query.sector ? JsonValue(*query.sector) : JsonValue());
  detail.Set("cells", static_cast<int64_t>(heatmap.cells.size()));
  detail.Set("form", form);
  entry.detail = detail.Serialize();
  context.audit.Record(std::move(entry));
}

Response HeatmapHandler(ApiContext& context, Request& request, const hub::Principal& principal) {
  const HeatmapRequest parsed = ParseHeatmapRequest(request);
  const hub::HeatmapQuery& query = parsed.query;
  const std::string& dimension = parsed.dimension;
  const std::string& source = parsed.source;

  auto [heatmap, resolved] = [&] {
    auto connection = context.database.Acquire();
    hub::Heatmap counted = hub::TechniqueHeatmap(*connection, principal, query);
    std::vector<std::string> ids;
    for (const auto& cell : counted.cells) {
      if (ids.empty() || ids.back() != cell.technique) ids.push_back(cell.technique);
    }
    return std::make_pair(std::move(counted), hub::ResolveTechniques(*connection, ids));
  }();

  // Totals per technique and per bucket.
  struct Totals {
    int64_t alerts = 0;
    int64_t incidents = 0;
  };
  std::map<std::string, Totals> by_technique;
  std::map<std::string, Totals> by_bucket;
  JsonValue cells = JsonValue::MakeArray();
  for (const auto& cell : heatmap.cells) {
    JsonValue json = JsonValue::MakeObject();
    json.Set("technique", cell.technique);
    json.Set("bucket", cell.bucket);
    json.Set("alerts", cell.alerts);
    json.Set("incidents", cell.incidents);
    json.Set("count", cell.alerts + cell.incidents);
    cells.Push(std::move(json));
    by_technique[cell.technique].alerts += cell.alerts;
    by_technique[cell.technique].incidents += cell.incidents;
    by_bucket[cell.bucket].alerts += cell.alerts;
    by_bucket[cell.bucket].incidents += cell.incidents;
  }
  auto totals_json = [](JsonValue& json, const Totals& totals) {
    json.Set("alerts", totals.alerts);
    json.Set("incidents", totals.incidents);
    json.Set("count", totals.alerts + totals.incidents);
  };
  JsonValue techniques = JsonValue::MakeArray();
  for (const auto& [id, totals] : by_technique) {
    auto found = std::find_if(resolved.begin(), resolved.end(),
                              [&](const hub::ResolvedTechnique& r) { return r.id == id; });
    JsonValue json = JsonValue::MakeObject();
    json.Set("id", id);
    json.Set("name", found != resolved.end() && found->known ? JsonValue(found->name) : JsonValue());
    json.Set("tactics", found != resolved.end() ? TacticRefsJson(found->tactics)
                                                : JsonValue::MakeArray());
    totals_json(json, totals);
    techniques.Push(std::move(json));
  }
  JsonValue buckets = JsonValue::MakeArray();
  for (const auto& [key, totals] : by_bucket) {
    JsonValue json = JsonValue::MakeObject();
    json.Set("key", key);
    auto label = heatmap.buckets.find(key);
    json.Set("label", label != heatmap.buckets.end() ? label->second : key);
    totals_json(json, totals);
    buckets.Push(std::move(json));
  }
  JsonValue body = JsonValue::MakeObject();
  body.Set("dimension", dimension);
  body.Set("source", source);
  body.Set("rollup", query.rollup);
  body.Set("since", query.since ? Time(*query.since) : JsonValue());
  body.Set("until", query.until ? Time(*query.until) : JsonValue());
  body.Set("org_id", query.org_id ? JsonValue(*query.org_id) : JsonValue());
  body.Set("sector", query.sector ? JsonValue(*query.sector) : JsonValue());
  body.Set("buckets", std::move(buckets));
  body.Set("techniques", std::move(techniques));
  body.Set("cells", std::move(cells));

  AuditHeatmap(context, principal, parsed, heatmap, "heatmap");
  return JsonResponse(200, body);
}

// The imported release of `domain` as the Navigator names releases: by their major version
// ("18" for 18.1); "" when the domain was never imported.
std::string NavigatorAttackVersion(store::Connection& connection, const std::string& domain) {
  store::Rows rows = connection.Query("SELECT version FROM attack_imports WHERE domain = $1",
                                      {store::Param{domain}});
  if (rows.rows.empty()) return {};
  const std::string version = rows.rows[0][0].text();
  return version.substr(0, version.find('.'));
}

// The heatmap as an ATT&CK Navigator layer of one domain (enterprise-attack unless `domain`
// says otherwise): each technique's score is its count (alerts plus incidents, as the
// heatmap's `count`), its comment its name and counts, and its tooltip the buckets of the chosen
// dimension (organisations, sectors or months) with the most. An analyst takes it to the
// Navigator, or lays it over a threat group's layer to see which of its techniques hit us.
Response HeatmapLayerHandler(ApiContext& context, Request& request,
                             const hub::Principal& principal) {
  constexpr size_t TOOLTIP_BUCKETS = 8;
  const HeatmapRequest parsed = ParseHeatmapRequest(request);
  const std::string domain = QueryDomain(request).value_or("enterprise-attack");
  hub::Heatmap heatmap;
  std::vector<hub::ResolvedTechnique> resolved;
  std::string version;
  {
    auto connection = context.database.Acquire();
    heatmap = hub::TechniqueHeatmap(*connection, principal, parsed.query);
    std::vector<std::string> ids;
    for (const auto& cell : heatmap.cells)
      if (ids.empty() || ids.back() != cell.technique) ids.push_back(cell.technique);
    resolved = hub::ResolveTechniques(*connection, ids);
    version = NavigatorAttackVersion(*connection, domain);
  }

  struct Tally {
    int64_t alerts = 0;
    int64_t incidents = 0;
    std::map<std::string, int64_t> buckets;
  };
  std::map<std::string, Tally> by_technique;
  for (const auto& cell : heatmap.cells) {
    Tally& tally = by_technique[cell.technique];
    tally.alerts += cell.alerts;
    tally.incidents += cell.incidents;
    tally.buckets[cell.bucket] += cell.alerts + cell.incidents;
  }
  attack::NavigatorLayer layer;
  layer.domain = domain;
  layer.attack_version = version;
  const std::string what = parsed.source == "alerts"      ? "alerts"
                           : parsed.source == "incidents" ? "incidents"
                                                          : "alerts and incidents";
  layer.name = fmt::format("Yagura: {} by technique", what);
  layer.description = fmt::format(
      "ATT&CK techniques of the {} the reader may read{}{}{}. A technique's score is their "
      "count; its tooltip, the {}s with the most.",
      what, parsed.query.since ? ", from " + FormatTimestampMs(*parsed.query.since) : "",
      parsed.query.until ? ", until " + FormatTimestampMs(*parsed.query.until) : "",
      parsed.query.rollup ? ", sub-techniques counted under their parent" : "", parsed.dimension);
  if (parsed.query.org_id) layer.metadata.emplace_back("organisation", *parsed.query.org_id);
  if (parsed.query.sector) layer.metadata.emplace_back("sector", *parsed.query.sector);
  size_t other_domains = 0;
  for (const auto& [id, tally] : by_technique) {
    auto found = std::find_if(resolved.begin(), resolved.end(),
                              [&](const hub::ResolvedTechnique& r) { return r.id == id; });
    const bool known = found != resolved.end() && found->known;
    const std::string_view technique_domain =
        known ? std::string_view(found->domain) : attack::DomainOfTechnique(id);
    if (technique_domain != domain) {
      ++other_domains;
      continue;
    }
    attack::LayerTechnique technique;
    technique.id = id;
    technique.score = tally.alerts + tally.incidents;
    technique.comment = fmt::format("{}{} alerts, {} incidents", known ? found->name + ": " : "",
                                    tally.alerts, tally.incidents);
    technique.metadata.emplace_back("alerts", std::to_string(tally.alerts));
    technique.metadata.emplace_back("incidents", std::to_string(tally.incidents));
    std::vector<std::pair<std::string, int64_t>> buckets(tally.buckets.begin(),
                                                         tally.buckets.end());
    std::stable_sort(buckets.begin(), buckets.end(),
                     [](const auto& a, const auto& b) { return a.second > b.second; });
    for (size_t i = 0; i < buckets.size() && i < TOOLTIP_BUCKETS; ++i) {
      auto label = heatmap.buckets.find(buckets[i].first);
      technique.metadata.emplace_back(
          label != heatmap.buckets.end() ? label->second : buckets[i].first,
          std::to_string(buckets[i].second));
    }
    if (buckets.size() > TOOLTIP_BUCKETS)
      technique.metadata.emplace_back(
          "more", fmt::format("{} {}s", buckets.size() - TOOLTIP_BUCKETS, parsed.dimension));
    layer.techniques.push_back(std::move(technique));
  }
  layer.metadata.emplace_back("source", parsed.source);
  layer.metadata.emplace_back("made", FormatTimestampMs(NowMs()));
  if (other_domains > 0)
    layer.metadata.emplace_back("techniques of other domains", std::to_string(other_domains));
  AuditHeatmap(context, principal, parsed, heatmap, "navigator-layer");
  Response response = JsonResponse(200, attack::LayerJson(layer));
  response.headers.Set("Content-Disposition",
                       fmt::format("attachment; filename=\"yagura-{}-layer.json\"", domain));
  return response;
}

JsonValue RuleRefsJson(const std::vector<const hub::RuleTechniques*>& rules) {
  JsonValue array = JsonValue::MakeArray();
  for (const auto* rule : rules) {
    JsonValue json = JsonValue::MakeObject();
    json.Set("id", rule->rule_id);
    json.Set("title", rule->title);
    array.Push(std::move(json));
  }
  return array;
}

Response CoverageHandler(ApiContext& context, RuleTagCache& cache, Request& request,
                         const hub::Principal&) {
  std::optional<std::string> domain = QueryDomain(request);
  bool include_subtechniques = QueryBool(request, "include_subtechniques", true);
  std::shared_ptr<const RuleTagCache::Snapshot> rules = cache.Get();
  hub::AttackCoverage coverage = [&] {
    auto connection = context.database.Acquire();
    return hub::ComputeCoverage(*connection, rules->rules, domain, include_subtechniques);
  }();

  JsonValue techniques = JsonValue::MakeArray();
  JsonValue gaps = JsonValue::MakeArray();
  int64_t covered = 0;
  for (const auto& item : coverage.techniques) {
    JsonValue json = JsonValue::MakeObject();
    json.Set("id", item.technique.id);
    json.Set("name", item.technique.name);
    json.Set("domain", item.technique.domain);
    json.Set("is_subtechnique", item.technique.is_subtechnique);
    json.Set("tactics", TacticRefsJson(item.technique.tactics));
    json.Set("rule_count", static_cast<int64_t>(item.rules.size()));
    json.Set("rules", RuleRefsJson(item.rules));
    json.Set("subtechnique_rule_count", item.subtechnique_rules);
    json.Set("covered", item.covered());
    techniques.Push(std::move(json));
    if (item.covered()) ++covered;
    else gaps.Push(item.technique.id);
  }
  JsonValue tactics = JsonValue::MakeArray();
  for (const auto& summary : coverage.tactics) {
    JsonValue json = JsonValue::MakeObject();
    json.Set("id", summary.tactic.id);
    json.Set("shortname", summary.tactic.shortname);
    json.Set("name", summary.tactic.name);
    json.Set("domain", summary.tactic.domain);
    json.Set("techniques", summary.techniques);
    json.Set("covered", summary.covered);
    json.Set("ratio", summary.techniques == 0 ? 0.0
                                              : static_cast<double>(summary.covered) /
                                                    static_cast<double>(summary.techniques));
    tactics.Push(std::move(json));
  }
  JsonValue stale = JsonValue::MakeArray();
  for (const auto& item : coverage.stale) {
    JsonValue json = JsonValue::MakeObject();
    json.Set("id", item.id);
    json.Set("reason", item.reason);
    json.Set("revoked_by", OptionalText(item.revoked_by));
    json.Set("rules", RuleRefsJson(item.rules));
    stale.Push(std::move(json));
  }
  int64_t tagged = std::count_if(rules->rules.begin(), rules->rules.end(),
                                 [](const hub::RuleTechniques& r) { return !r.techniques.empty(); });
  JsonValue summary = JsonValue::MakeObject();
  summary.Set("rule_files", rules->files);
  summary.Set("rules", static_cast<int64_t>(rules->rules.size()));
  summary.Set("rules_with_techniques", tagged);
  summary.Set("techniques", static_cast<int64_t>(coverage.techniques.size()));
  summary.Set("covered", covered);
  summary.Set("problems", Strings(rules->problems));
  JsonValue body = JsonValue::MakeObject();
  body.Set("domain", OptionalText(domain));
  body.Set("summary", std::move(summary));
  body.Set("tactics", std::move(tactics));
  body.Set("techniques", std::move(techniques));
  body.Set("gaps", std::move(gaps));
  body.Set("stale", std::move(stale));
  return JsonResponse(200, body);
}

// The loaded rules' coverage of one domain as an ATT&CK Navigator layer: each technique the
// rules' tags name, scored by how many rules name it, its comment their titles. The same
// layer as `yagura rules list --attack-layer` for the rules the service runs.
Response CoverageLayerHandler(ApiContext& context, RuleTagCache& cache, Request& request,
                              const hub::Principal&) {
  constexpr size_t COMMENT_RULES = 10;
  const std::string domain = QueryDomain(request).value_or("enterprise-attack");
  std::shared_ptr<const RuleTagCache::Snapshot> rules = cache.Get();
  std::string version;
  {
    auto connection = context.database.Acquire();
    version = NavigatorAttackVersion(*connection, domain);
  }
  std::map<std::string, std::vector<const hub::RuleTechniques*>> rules_of;
  for (const hub::RuleTechniques& rule : rules->rules)
    for (const std::string& id : rule.techniques) {
      auto& list = rules_of[id];
      if (list.empty() || list.back() != &rule) list.push_back(&rule);
    }
  attack::NavigatorLayer layer;
  layer.domain = domain;
  layer.attack_version = version;
  layer.name = "Yagura: rule coverage";
  layer.description = fmt::format(
      "ATT&CK techniques the tags of the service's {} rules name. A technique's score is how "
      "many rules name it.",
      rules->rules.size());
  // Ids alone tell ICS techniques (T0xxx) from the others; Mobile's share Enterprise's range.
  const std::string_view numbered_as = domain == "ics-attack" ? "ics-attack" : "enterprise-attack";
  for (auto& [id, covering] : rules_of) {
    if (attack::DomainOfTechnique(id) != numbered_as) continue;
    std::sort(covering.begin(), covering.end(),
              [](const auto* a, const auto* b) { return a->title < b->title; });
    attack::LayerTechnique technique;
    technique.id = id;
    technique.score = static_cast<int64_t>(covering.size());
    for (size_t i = 0; i < covering.size() && i < COMMENT_RULES; ++i)
      technique.comment += (i > 0 ? "; " : "") + covering[i]->title;
    if (covering.size() > COMMENT_RULES)
      technique.comment += fmt::format("; {} more rules", covering.size() - COMMENT_RULES);
    technique.metadata.emplace_back("rules", std::to_string(covering.size()));
    layer.techniques.push_back(std::move(technique));
  }
  layer.metadata.emplace_back("rule files", std::to_string(rules->files));
  layer.metadata.emplace_back("made", FormatTimestampMs(NowMs()));
  Response response = JsonResponse(200, attack::LayerJson(layer));
  response.headers.Set(
      "Content-Disposition",
      fmt::format("attachment; filename=\"yagura-coverage-{}-layer.json\"", domain));
  return response;
}

// ---- schemas ----------------------------------------------------------------------------------

void AddSchema(ApiContext& context, std::string_view name, std::string text) {
  auto replace = [&](std::string_view from, const std::string& to) {
    for (size_t at = text.find(from); at != std::string::npos;
         at = text.find(from, at + to.size())) {
      text.replace(at, from.size(), to);
    }
  };
  replace("@TIME@", R"({"type":"string","format":"date-time"})");
  replace("@TACTICS@",
          R"({"type":"array","items":{"type":"object","required":["id","shortname","name"],"properties":{"id":{"type":"string"},"shortname":{"type":"string"},"name":{"type":"string"}}}})");
  replace("@REFS@",
          R"({"type":"array","items":{"$ref":"#/components/schemas/AttackRef"}})");
  replace("@COUNTS@", R"("alerts":{"type":"integer"},"incidents":{"type":"integer"},"count":{"type":"integer"})");
  RegisterSchema(context, name, text);
}

void AddSchemas(ApiContext& context) {
  AddSchema(context, "AttackCatalogue", R"({"type":"object","required":["items","next_cursor"],
    "properties":{"items":{"type":"array","items":{"type":"object",
      "required":["domain","name","version","counts","imported_at"],
      "properties":{"domain":{"type":"string"},"name":{"type":"string"},"version":{"type":"string"},
        "bundle_id":{"type":"string"},"sha256":{"type":"string"},
        "counts":{"type":"object","additionalProperties":{"type":"integer"}},"imported_at":@TIME@}}},
      "next_cursor":{"type":"null"}}})");
  AddSchema(context, "AttackRef", R"({"type":"object","required":["id","name","type","domain"],
    "properties":{"id":{"type":"string"},"name":{"type":"string"},
      "type":{"enum":["technique","tactic","group","software","campaign","mitigation","matrix","data-source","data-component","detection-strategy","analytic","asset"]},
      "software_type":{"enum":["malware","tool"]},"domain":{"type":"string"}}})");
  const std::string technique = R"("id":{"type":"string","pattern":"^T[0-9]{4}(\\.[0-9]{3})?$"},
      "stix_id":{"type":"string"},"domain":{"type":"string"},"name":{"type":"string"},
      "is_subtechnique":{"type":"boolean"},"parent_id":{"type":["string","null"]},
      "tactics":@TACTICS@,"platforms":{"type":"array","items":{"type":"string"}},
      "revoked":{"type":"boolean"},"revoked_by":{"type":["string","null"],"description":"the technique that replaces a revoked one"},
      "deprecated":{"type":"boolean"},"version":{"type":"string"},"url":{"type":"string"},
      "created_at":@TIME@,"updated_at":@TIME@)";
  AddSchema(context, "AttackTechnique", R"({"type":"object",
    "required":["id","stix_id","domain","name","is_subtechnique","tactics","revoked","deprecated","url","created_at","updated_at"],
    "properties":{)" + technique + "}}");
  AddSchema(context, "AttackTechniqueList", R"({"type":"object","required":["items","next_cursor"],
    "properties":{"items":{"type":"array","items":{"$ref":"#/components/schemas/AttackTechnique"}},
      "next_cursor":{"type":["string","null"]}},
    "description":"ordered by id (sub-techniques after their parent), then domain"})");
  AddSchema(context, "AttackTechniqueDetail", R"({"type":"object",
    "required":["id","name","description","tactics","subtechniques","groups","software","campaigns","mitigations"],
    "properties":{)" + technique + R"(,"description":{"type":"string","description":"Markdown, as MITRE writes it"},
      "parent":{"oneOf":[{"$ref":"#/components/schemas/AttackRef"},{"type":"null"}]},
      "subtechniques":@REFS@,"groups":@REFS@,"software":@REFS@,"campaigns":@REFS@,"mitigations":@REFS@}})");
  AddSchema(context, "AttackTactic", R"({"type":"object",
    "required":["id","shortname","name","domain","order","technique_count"],
    "properties":{"id":{"type":"string"},"shortname":{"type":"string"},"name":{"type":"string"},
      "description":{"type":"string"},"domain":{"type":"string"},
      "order":{"type":"integer","description":"position in the domain's matrix, from 1"},
      "technique_count":{"type":"integer","description":"current techniques and sub-techniques"},
      "url":{"type":"string"},"created_at":@TIME@,"updated_at":@TIME@}})");
  AddSchema(context, "AttackTacticList", R"({"type":"object","required":["items","next_cursor"],
    "properties":{"items":{"type":"array","items":{"$ref":"#/components/schemas/AttackTactic"}},
      "next_cursor":{"type":"null"}}})");
  const std::string group = R"("id":{"type":"string"},"stix_id":{"type":"string"},"name":{"type":"string"},
      "aliases":{"type":"array","items":{"type":"string"}},"domains":{"type":"array","items":{"type":"string"}},
      "revoked":{"type":"boolean"},"revoked_by":{"type":["string","null"]},"deprecated":{"type":"boolean"},
      "version":{"type":"string"},"url":{"type":"string"},"created_at":@TIME@,"updated_at":@TIME@)";
  AddSchema(context, "AttackGroup", R"({"type":"object","required":["id","name","aliases","domains"],
    "properties":{)" + group + "}}");
  AddSchema(context, "AttackGroupList", R"({"type":"object","required":["items","next_cursor"],
    "properties":{"items":{"type":"array","items":{"$ref":"#/components/schemas/AttackGroup"}},
      "next_cursor":{"type":["string","null"]}}})");
  AddSchema(context, "AttackGroupDetail", R"({"type":"object",
    "required":["id","name","description","techniques","software","campaigns"],
    "properties":{)" + group + R"(,"description":{"type":"string"},
      "techniques":{"type":"array","items":{"allOf":[{"$ref":"#/components/schemas/AttackRef"}],
        "type":"object","properties":{"tactics":@TACTICS@}}},
      "software":@REFS@,"campaigns":@REFS@}})");
  AddSchema(context, "AttackNavigatorLayer", R"({"type":"object",
    "required":["name","versions","domain","techniques","gradient"],
    "description":"An ATT&CK Navigator layer, format 4.5: github.com/mitre-attack/attack-navigator, layers/spec/v4.5",
    "properties":{"name":{"type":"string"},"description":{"type":"string"},
      "versions":{"type":"object","required":["navigator","layer"],"properties":{"attack":{"type":"string"},"navigator":{"type":"string"},"layer":{"const":"4.5"}}},
      "domain":{"type":"string"},
      "techniques":{"type":"array","items":{"type":"object","required":["techniqueID"],
        "properties":{"techniqueID":{"type":"string","pattern":"^T[0-9]{4}(\\.[0-9]{3})?$"},"score":{"type":"integer"},
          "comment":{"type":"string"},"enabled":{"type":"boolean"},"showSubtechniques":{"type":"boolean"},
          "metadata":{"type":"array","items":{"type":"object","required":["name","value"],"properties":{"name":{"type":"string"},"value":{"type":"string"}}}}}}},
      "gradient":{"type":"object","required":["colors","minValue","maxValue"],"properties":{"colors":{"type":"array","items":{"type":"string"}},"minValue":{"type":"number"},"maxValue":{"type":"number"}}},
      "metadata":{"type":"array","items":{"type":"object","required":["name","value"],"properties":{"name":{"type":"string"},"value":{"type":"string"}}}}}})");
  AddSchema(context, "AttackHeatmap", R"({"type":"object",
    "required":["dimension","source","rollup","since","until","buckets","techniques","cells"],
    "properties":{"dimension":{"enum":["organisation","sector","month"]},
      "source":{"enum":["alerts","incidents","both"]},"rollup":{"type":"boolean"},
      "since":{"type":["string","null"],"format":"date-time"},"until":{"type":["string","null"],"format":"date-time"},
      "org_id":{"type":["string","null"],"description":"only this organisation's alerts and incidents"},
      "sector":{"type":["string","null"],"description":"only the organisations of this sector, or of this type when they have none"},
      "buckets":{"type":"array","items":{"type":"object","required":["key","label","count"],
        "properties":{"key":{"type":"string","description":"organisation id, sector (or organisation type), or month YYYY-MM in UTC"},
          "label":{"type":"string"},@COUNTS@}}},
      "techniques":{"type":"array","items":{"type":"object","required":["id","name","tactics","count"],
        "properties":{"id":{"type":"string"},"name":{"type":["string","null"]},"tactics":@TACTICS@,@COUNTS@}}},
      "cells":{"type":"array","items":{"type":"object","required":["technique","bucket","alerts","incidents","count"],
        "properties":{"technique":{"type":"string"},"bucket":{"type":"string"},@COUNTS@}}}},
    "description":"counts of the alerts and incidents the caller may read, per technique and bucket"})");
  AddSchema(context, "AttackCoverage", R"({"type":"object",
    "required":["summary","tactics","techniques","gaps","stale"],
    "properties":{"domain":{"type":["string","null"]},
      "summary":{"type":"object","required":["rule_files","rules","rules_with_techniques","techniques","covered"],
        "properties":{"rule_files":{"type":"integer"},"rules":{"type":"integer"},
          "rules_with_techniques":{"type":"integer"},"techniques":{"type":"integer"},
          "covered":{"type":"integer"},"problems":{"type":"array","items":{"type":"string"}}}},
      "tactics":{"type":"array","items":{"type":"object","required":["id","shortname","name","domain","techniques","covered","ratio"],
        "properties":{"id":{"type":"string"},"shortname":{"type":"string"},"name":{"type":"string"},
          "domain":{"type":"string"},"techniques":{"type":"integer"},"covered":{"type":"integer"},
          "ratio":{"type":"number","minimum":0,"maximum":1}}}},
      "techniques":{"type":"array","items":{"type":"object",
        "required":["id","name","domain","tactics","rule_count","rules","subtechnique_rule_count","covered"],
        "properties":{"id":{"type":"string"},"name":{"type":"string"},"domain":{"type":"string"},
          "is_subtechnique":{"type":"boolean"},"tactics":@TACTICS@,
          "rule_count":{"type":"integer","description":"rules tagged with this technique itself"},
          "rules":{"type":"array","items":{"type":"object","properties":{"id":{"type":"string"},"title":{"type":"string"}}}},
          "subtechnique_rule_count":{"type":"integer","description":"rules tagged with one of its sub-techniques"},
          "covered":{"type":"boolean"}}}},
      "gaps":{"type":"array","items":{"type":"string"},"description":"techniques no rule detects"},
      "stale":{"type":"array","items":{"type":"object","required":["id","reason","rules"],
        "properties":{"id":{"type":"string"},"reason":{"enum":["unknown","revoked","deprecated"]},
          "revoked_by":{"type":["string","null"]},
          "rules":{"type":"array","items":{"type":"object"}}}},
        "description":"rule tags naming techniques the catalogue lacks or has revoked or deprecated"}}})");
}

RouteDoc Doc(std::string summary, std::string response_schema,
             std::vector<std::string> query = {}) {
  return DocumentRoute(TAG, std::move(summary), "", std::move(response_schema), std::move(query));
}

}  // namespace

JsonValue TechniqueIndex(store::Connection& connection, const std::vector<std::string>& ids) {
  JsonValue index = JsonValue::MakeObject();
  for (const auto& resolved : hub::ResolveTechniques(connection, ids)) {
    index.Set(resolved.id, ResolvedJson(resolved));
  }
  return index;
}

JsonValue ResolvedTechniquesJson(const JsonValue& index, const std::vector<std::string>& ids) {
  JsonValue array = JsonValue::MakeArray();
  std::vector<std::string> seen;
  for (const auto& raw : ids) {
    auto id = hub::NormalizeTechniqueId(raw);
    if (!id || std::find(seen.begin(), seen.end(), *id) != seen.end()) continue;
    seen.push_back(*id);
    const JsonValue* found = index.Find(*id);
    if (found != nullptr) {
      array.Push(*found);
    } else {
      hub::ResolvedTechnique unknown;
      unknown.id = *id;
      array.Push(ResolvedJson(unknown));
    }
  }
  return array;
}

void RegisterAttackRoutes(Router& router, ApiContext& context) {
  AddSchemas(context);
  auto bind = [&context](ContextHandler handler) { return BindAuthed(context, handler); };
  const std::string base(BASE);
  router.Add("GET", base, bind(CatalogueHandler),
             Doc("The imported ATT&CK domains: release, import time and counts per type",
                 "AttackCatalogue"));
  router.Add("GET", base + "/techniques", bind(ListTechniquesHandler),
             Doc("ATT&CK techniques and sub-techniques by id; tactic is an id or shortname, q a "
                 "substring of the name or id; include_deprecated also lists revoked ones",
                 "AttackTechniqueList",
                 {"domain", "tactic", "q", "include_subtechniques", "include_deprecated", "limit",
                  "cursor"}));
  router.Add("GET", base + "/techniques/{id}", bind(GetTechniqueHandler),
             Doc("One technique (T1110, T1110.001) with its tactics, sub-techniques, and the "
                 "groups, software, campaigns and mitigations related to it",
                 "AttackTechniqueDetail", {"domain"}));
  router.Add("GET", base + "/tactics", bind(ListTacticsHandler),
             Doc("Tactics of each domain in matrix order", "AttackTacticList", {"domain"}));
  router.Add("GET", base + "/groups", bind(ListGroupsHandler),
             Doc("Threat groups (intrusion sets) by id; q matches the name, an alias or the id",
                 "AttackGroupList", {"domain", "q", "include_deprecated", "limit", "cursor"}));
  router.Add("GET", base + "/groups/{id}", bind(GetGroupHandler),
             Doc("One group with the techniques (and their tactics) and software it uses and the "
                 "campaigns attributed to it",
                 "AttackGroupDetail"));
  router.Add("GET", base + "/heatmap", bind(HeatmapHandler),
             Doc("Technique counts over the alerts and incidents the caller may read, per "
                 "organisation, sector or month (UTC); since/until bound the event time of alerts "
                 "and the detection time of incidents; rollup counts sub-techniques under their "
                 "parent",
                 "AttackHeatmap",
                 {"dimension", "source", "since", "until", "rollup", "org_id", "sector"}));
  router.Add(
      "GET", base + "/heatmap/layer", bind(HeatmapLayerHandler),
      Doc("The heatmap of one domain (enterprise-attack by default) as an ATT&CK Navigator "
          "layer (format 4.5): scores are counts, tooltips the dimension's buckets with "
          "the most",
          "AttackNavigatorLayer", {"domain", "dimension", "source", "since", "until", "rollup"}));
  auto cache = std::make_shared<RuleTagCache>(context.settings);
  router.Add("GET", base + "/coverage",
             Authed(context,
                    [&context, cache](Request& request, const hub::Principal& principal) {
                      return CoverageHandler(context, *cache, request, principal);
                    }),
             Doc("Which current techniques the loaded rules detect (rule tags "
                 "attack.tNNNN[.NNN]), the gaps, a summary by tactic, and rule tags naming "
                 "unknown, revoked or deprecated techniques",
                 "AttackCoverage", {"domain", "include_subtechniques"}));
  router.Add("GET", base + "/coverage/layer",
             Authed(context,
                    [&context, cache](Request& request, const hub::Principal& principal) {
                      return CoverageLayerHandler(context, *cache, request, principal);
                    }),
             Doc("The loaded rules' coverage of one domain (enterprise-attack by default) as an "
                 "ATT&CK Navigator layer (format 4.5): scores are how many rules name a technique",
                 "AttackNavigatorLayer", {"domain"}));
}

}  // namespace yagura::http

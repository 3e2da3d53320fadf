// Rule routes under /api/v1/rules: the rule set live detection runs, its load failures, how
// often each rule fired, and a reload on demand.
//
// The list comes from the detector's published catalogue (DetectionControl), filtered and
// paged in memory: a few thousand rules, already in the order they were loaded (by file), so a
// cursor is a position in the filtered list. Hits are counted over the stored alerts of all
// organisations with one GROUP BY per page, for the page's rule ids only (alerts_rule_event
// index), counting rule and correlation alerts, not indicator or campaign alerts whose
// rule_id names something else.
//
// A reload is a job (202): loading and compiling thousands of rules takes longer than a
// request should. It reports progress in rule files; a set that does not load keeps the
// running one and the job fails with the loader's message. Each finished reload is one audit
// entry "rules.reload" (outcome ok or failed) with the requesting administrator as actor.
//
// Only the centre's staff see rules (403 for others: the route exists for every user, it is
// the rule set that is the centre's); only its administrators reload.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdio>
#include <map>
#include <stdexcept>
#include <string>

#include "core/json_value.hpp"
#include "core/time.hpp"
#include "http/api.hpp"
#include "http/console_control.hpp"
#include "http/jobs.hpp"
#include "http/json_forms.hpp"
#include "hub/audit_log.hpp"
#include "hub/policy.hpp"

namespace yagura::http {
namespace {

constexpr std::string_view TAG = "rules";
constexpr std::string_view RELOAD_KIND = "rules.reload";
constexpr std::array<std::string_view, 5> LEVELS = {"informational", "low", "medium", "high",
                                                    "critical"};
constexpr std::array<std::string_view, 2> KINDS = {"detection", "correlation"};
constexpr size_t QUERY_MAX = 200;

JsonValue FailuresJson(const std::vector<RuleFailureView>& failures) {
  JsonValue array = JsonValue::MakeArray();
  for (const auto& failure : failures) {
    JsonValue item = JsonValue::MakeObject();
    item.Set("path", failure.path);
    item.Set("line", failure.line == 0 ? JsonValue() : JsonValue(failure.line));
    item.Set("message", failure.message);
    array.Push(std::move(item));
  }
  return array;
}

std::string Lower(std::string_view text) {
  std::string lower(text);
  for (char& c : lower) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  }
  return lower;
}

// Cursor "r<position>": where the next page starts in the filtered list.
size_t DecodeOffset(std::string_view cursor) {
  size_t offset = 0;
  bool valid = cursor.size() > 1 && cursor.size() <= 12 && cursor[0] == 'r';
  if (valid) {
    auto [end, ec] = std::from_chars(cursor.data() + 1, cursor.data() + cursor.size(), offset);
    valid = ec == std::errc() && end == cursor.data() + cursor.size();
  }
  if (!valid) ThrowBadRequest("cursor is not one this server issued", "cursor");
  return offset;
}

struct Hits {
  int64_t count = 0;
  std::optional<int64_t> last_at;
};

// Hit counts and the latest event time per rule id, for one page of rules.
std::map<std::string, Hits, std::less<>> HitsOf(ApiContext& context,
                                                 const std::vector<const RuleView*>& rules) {
  std::map<std::string, Hits, std::less<>> hits;
  if (rules.empty()) return hits;
  std::vector<store::Param> params;
  std::string placeholders;
  for (const RuleView* rule : rules) {
    params.emplace_back(rule->id);
    placeholders += fmt::format("{}${}", placeholders.empty() ? "" : ",", params.size());
  }
  auto connection = context.database.Acquire();
  store::Rows rows = connection->Query(
      fmt::format("SELECT rule_id, COUNT(*), MAX(event_time) FROM alerts "
                  "WHERE kind IN ('rule', 'correlation') AND rule_id IN ({}) GROUP BY rule_id",
                  placeholders),
      params);
  for (const auto& row : rows.rows) {
    Hits& entry = hits[row.at(0).text()];
    entry.count = row.at(1).as_int();
    if (!row.at(2).is_null()) entry.last_at = row.at(2).as_int();
  }
  return hits;
}

Response ListRulesHandler(ApiContext& context, Request& request, const hub::Principal& principal) {
  if (!hub::can::ViewDetection(principal)) ThrowForbidden("only the centre's staff see the rules");
  PageRequest page = ReadPage(request);
  std::string q = Lower(request.Query("q").value_or(""));
  if (q.size() > QUERY_MAX) ThrowBadRequest("q is longer than 200 characters", "q");
  std::optional<std::string> level = QueryEnum(request, "level", LEVELS);
  std::optional<std::string> kind = QueryEnum(request, "kind", KINDS);
  size_t offset = page.cursor.empty() ? 0 : DecodeOffset(page.cursor);

  std::shared_ptr<const RuleCatalogView> catalog =
      context.detection != nullptr ? context.detection->Rules() : nullptr;
  std::vector<const RuleView*> selected;
  size_t matched = 0;
  std::string next_cursor;
  if (catalog) {
    for (const RuleView& rule : catalog->rules) {
      if (level && rule.level != *level) continue;
      if (kind && rule.kind != *kind) continue;
      if (!q.empty() && Lower(rule.id).find(q) == std::string::npos &&
          Lower(rule.title).find(q) == std::string::npos) {
        continue;
      }
      if (matched++ < offset) continue;
      if (selected.size() == static_cast<size_t>(page.limit)) {
        next_cursor = fmt::format("r{}", offset + selected.size());
        break;
      }
      selected.push_back(&rule);
    }
  }
  auto hits = HitsOf(context, selected);

  JsonValue items = JsonValue::MakeArray();
  for (const RuleView* rule : selected) {
    JsonValue item = JsonValue::MakeObject();
    item.Set("id", rule->id);
    item.Set("title", rule->title);
    item.Set("level", rule->level);
    item.Set("status", rule->status.empty() ? JsonValue() : JsonValue(rule->status));
    item.Set("kind", rule->kind);
    JsonValue logsource = JsonValue::MakeObject();
    auto text_or_null = [](const std::string& text) {
      return text.empty() ? JsonValue() : JsonValue(text);
    };
    logsource.Set("product", text_or_null(rule->product));
    logsource.Set("category", text_or_null(rule->category));
    logsource.Set("service", text_or_null(rule->service));
    item.Set("logsource", std::move(logsource));
    item.Set("tags", Strings(rule->tags));
    item.Set("techniques", Strings(rule->techniques));
    item.Set("path", rule->path);
    auto found = hits.find(rule->id);
    item.Set("hits", found == hits.end() ? int64_t{0} : found->second.count);
    item.Set("last_hit_at", found == hits.end() || !found->second.last_at
                                ? JsonValue()
                                : JsonValue(FormatTimestampMs(*found->second.last_at)));
    items.Push(std::move(item));
  }

  JsonValue body = JsonValue::MakeObject();
  body.Set("detection", context.detection != nullptr);
  body.Set("generation", catalog ? static_cast<int64_t>(catalog->generation) : int64_t{0});
  body.Set("loaded_at", catalog && catalog->loaded_at_ms > 0
                            ? JsonValue(FormatTimestampMs(catalog->loaded_at_ms))
                            : JsonValue());
  body.Set("rule_count", catalog ? static_cast<int64_t>(catalog->rules.size()) : int64_t{0});
  JsonValue tuning = JsonValue::MakeObject();
  tuning.Set("left_out", catalog ? static_cast<int64_t>(catalog->left_out) : int64_t{0});
  tuning.Set("relevelled", catalog ? static_cast<int64_t>(catalog->relevelled) : int64_t{0});
  body.Set("tuning", std::move(tuning));
  body.Set("failures", catalog ? FailuresJson(catalog->failures) : JsonValue::MakeArray());
  JsonValue last_failure;
  if (catalog && catalog->last_reload_failed_at_ms > 0) {
    last_failure = JsonValue::MakeObject();
    last_failure.Set("at", FormatTimestampMs(catalog->last_reload_failed_at_ms));
    last_failure.Set("message", catalog->last_reload_error);
  }
  body.Set("last_reload_failure", std::move(last_failure));
  body.Set("items", std::move(items));
  body.Set("next_cursor", next_cursor.empty() ? JsonValue() : JsonValue(next_cursor));
  return Response::Json(200, body.Serialize());
}

// The routes starting a job take no body: empty, or {} (anything else is refused, not ignored).
void RequireEmptyBody(const Request& request) {
  if (request.body.empty()) return;
  JsonValue body = ParseJsonBody(request);
  Fields(body).Finish();
}

void AuditReload(ApiContext& context, const hub::Principal& principal, const std::string& job_id,
                 const Result<ReloadOutcome>& outcome) {
  hub::AuditEntry entry = hub::EntryFor(principal, std::string(RELOAD_KIND), "rules", job_id);
  JsonValue detail = JsonValue::MakeObject();
  detail.Set("job_id", job_id);
  if (outcome) {
    detail.Set("generation", static_cast<int64_t>(outcome->generation));
    detail.Set("rule_count", static_cast<int64_t>(outcome->rule_count));
    detail.Set("failures", static_cast<int64_t>(outcome->failures.size()));
  } else {
    entry.outcome = "failed";
    detail.Set("error", outcome.error().ToString());
  }
  entry.detail = detail.Serialize();
  try {
    context.database.Transact(
        [&](store::Connection& connection) { hub::AuditLog::Append(connection, entry); });
  } catch (const std::exception& error) {
    std::fprintf(stderr, "yagura serve: the audit entry of rule reload %s failed: %s\n",
                 job_id.c_str(), error.what());
  }
}

Response ReloadRulesHandler(ApiContext& context, Request& request,
                            const hub::Principal& principal) {
  if (!hub::can::OperateDetection(principal)) {
    ThrowForbidden("only the centre's administrators reload the rules");
  }
  RequireEmptyBody(request);
  if (context.detection == nullptr) {
    throw ApiError(409, "detection_off", "live detection is off: there are no rules to reload");
  }
  DetectionControl* detection = context.detection;
  return StartJobResponse(
      context.jobs, std::string(RELOAD_KIND), principal,
      [&context, detection, principal](JobHandle& job) -> Result<JsonValue> {
        Result<ReloadOutcome> outcome = detection->Reload(job);
        AuditReload(context, principal, job.id(), outcome);
        if (!outcome) return tl::unexpected(outcome.error());
        JsonValue result = JsonValue::MakeObject();
        result.Set("generation", static_cast<int64_t>(outcome->generation));
        result.Set("rule_count", static_cast<int64_t>(outcome->rule_count));
        result.Set("failures", FailuresJson(outcome->failures));
        return result;
      });
}

}  // namespace

void RegisterRuleRoutes(Router& router, ApiContext& context) {
  RegisterSchema(context, "RuleFailure", R"({"type":"object","required":["path","line","message"],
    "properties":{"path":{"type":"string"},"line":{"type":["integer","null"]},
      "message":{"type":"string"}}})");
  RegisterSchema(context, "RuleList", R"({"type":"object",
    "required":["detection","generation","loaded_at","rule_count","failures","items","next_cursor"],
    "properties":{
      "detection":{"type":"boolean","description":"false: live detection is off, nothing is loaded"},
      "generation":{"type":"integer","description":"1 for the rules loaded at start, +1 per reload"},
      "loaded_at":{"type":["string","null"],"format":"date-time"},
      "rule_count":{"type":"integer"},
      "tuning":{"type":"object","required":["left_out","relevelled"],"properties":{
        "left_out":{"type":"integer","description":"rules of the files that exclude_rules or exclude_rule_lists leave out; those a correlation still reads run for it, unlisted"},
        "relevelled":{"type":"integer","description":"rules whose level level_overrides changed"}}},
      "failures":{"type":"array","items":{"$ref":"#/components/schemas/RuleFailure"}},
      "last_reload_failure":{"type":["object","null"],"properties":{
        "at":{"type":"string","format":"date-time"},"message":{"type":"string"}}},
      "items":{"type":"array","items":{"type":"object",
        "required":["id","title","level","status","kind","logsource","tags","techniques","path",
                    "hits","last_hit_at"],
        "properties":{
          "id":{"type":"string","description":"the rule's id (its title when it has none), as alerts carry it"},
          "title":{"type":"string"},
          "level":{"type":"string","enum":["informational","low","medium","high","critical"]},
          "status":{"type":["string","null"]},
          "kind":{"type":"string","enum":["detection","correlation"]},
          "logsource":{"type":"object","properties":{"product":{"type":["string","null"]},
            "category":{"type":["string","null"]},"service":{"type":["string","null"]}}},
          "tags":{"type":"array","items":{"type":"string"}},
          "techniques":{"type":"array","items":{"type":"string"}},
          "path":{"type":"string"},
          "hits":{"type":"integer","description":"stored alerts of this rule, all organisations"},
          "last_hit_at":{"type":["string","null"],"format":"date-time",
            "description":"event time of its latest alert"}}}},
      "next_cursor":{"type":["string","null"]}}})");
  RegisterSchema(context, "RuleReloadResult", R"({"type":"object",
    "required":["generation","rule_count","failures"],
    "properties":{"generation":{"type":"integer"},"rule_count":{"type":"integer"},
      "failures":{"type":"array","items":{"$ref":"#/components/schemas/RuleFailure"}}},
    "description":"the result of a succeeded rules.reload job"})");

  auto bind = [&context](ContextHandler handler) { return BindAuthed(context, handler); };
  router.Add("GET", "/api/v1/rules", bind(ListRulesHandler),
             RouteDoc{"The rules live detection runs, with load failures and hits (stored alerts "
                      "per rule); q matches the id or title; centre staff only",
                      std::string(TAG), "", "RuleList",
                      true, {"q", "level", "kind", "limit", "cursor"}});
  router.Add("POST", "/api/v1/rules/reload", bind(ReloadRulesHandler),
             RouteDoc{"Reloads the rule files and feeds as a job (progress in files; result: "
                      "RuleReloadResult); a set that fails to load keeps the running one; 409 "
                      "detection_off when detection is off; centre administrators only",
                      std::string(TAG), "", "JobAccepted", true, {}});
}

}  // namespace yagura::http

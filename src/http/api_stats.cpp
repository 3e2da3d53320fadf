// GET /api/v1/stats/overview: the figures of the console's overview page.
//
// The handler validates the range and bucket and hands them to hub::ComputeOverview, which
// counts in SQL only what the caller may read. Counts are not object reads — no title, no
// content leaves the database — so, like the ATT&CK heatmap, an overview is not audited.
//
// Defaults: `to` now; `from` the start of the bucket 29 days (day buckets) or 23 hours (hour
// buckets) before the one holding `to`, so a bare request draws the last 30 days and
// ?bucket=hour the last 24 hours, both within the bucket limit.
#include <fmt/format.h>

#include <stdexcept>
#include <string>

#include "core/json_value.hpp"
#include "core/time.hpp"
#include "http/api.hpp"
#include "http/json_forms.hpp"
#include "hub/alerts.hpp"
#include "hub/incidents.hpp"
#include "hub/stats.hpp"

namespace yagura::http {
namespace {

constexpr std::string_view TAG = "stats";
constexpr int64_t DEFAULT_DAYS = 30;
constexpr int64_t DEFAULT_HOURS = 24;

JsonValue LevelsJson(const hub::LevelCounts& counts) {
  JsonValue json = JsonValue::MakeObject();
  // Most severe first, as the console lists them.
  auto names = hub::AlertLevelNames();
  for (size_t i = names.size(); i-- > 0;) json.Set(names[i], counts[i]);
  return json;
}

JsonValue OrganizationsJson(const std::vector<hub::OrganizationCount>& items) {
  JsonValue array = JsonValue::MakeArray();
  for (const auto& item : items) {
    JsonValue json = JsonValue::MakeObject();
    json.Set("id", item.id);
    json.Set("name", item.name.empty() ? JsonValue() : JsonValue(item.name));
    json.Set("sector", item.sector.empty() ? JsonValue() : JsonValue(item.sector));
    json.Set("count", item.count);
    array.Push(std::move(json));
  }
  return array;
}

JsonValue SectorsJson(const std::vector<hub::SectorCount>& items) {
  JsonValue array = JsonValue::MakeArray();
  for (const auto& item : items) {
    JsonValue json = JsonValue::MakeObject();
    json.Set("sector", item.sector.empty() ? JsonValue() : JsonValue(item.sector));
    json.Set("count", item.count);
    array.Push(std::move(json));
  }
  return array;
}

JsonValue OverviewJson(const hub::Overview& overview) {
  JsonValue json = JsonValue::MakeObject();
  json.Set("from", Time(overview.query.from_ms));
  json.Set("to", Time(overview.query.to_ms));
  json.Set("bucket", hub::ToString(overview.query.bucket));

  const hub::AlertOverview& a = overview.alerts;
  JsonValue alerts = JsonValue::MakeObject();
  alerts.Set("total", a.total);
  alerts.Set("open", a.open);
  JsonValue alert_series = JsonValue::MakeArray();
  for (const auto& point : a.series) {
    JsonValue item = JsonValue::MakeObject();
    item.Set("t", Time(point.t));
    item.Set("count", point.count);
    item.Set("by_level", LevelsJson(point.by_level));
    alert_series.Push(std::move(item));
  }
  alerts.Set("series", std::move(alert_series));
  alerts.Set("by_level", LevelsJson(a.by_level));
  alerts.Set("by_organization", OrganizationsJson(a.by_organization));
  alerts.Set("by_sector", SectorsJson(a.by_sector));
  json.Set("alerts", std::move(alerts));

  const hub::IncidentOverview& i = overview.incidents;
  JsonValue incidents = JsonValue::MakeObject();
  incidents.Set("total", i.total);
  incidents.Set("open", i.open);
  JsonValue incident_series = JsonValue::MakeArray();
  for (const auto& point : i.series) {
    JsonValue item = JsonValue::MakeObject();
    item.Set("t", Time(point.t));
    item.Set("count", point.count);
    incident_series.Push(std::move(item));
  }
  incidents.Set("series", std::move(incident_series));
  JsonValue by_status = JsonValue::MakeObject();
  for (const auto& [status, count] : i.by_status) by_status.Set(status, count);
  incidents.Set("by_status", std::move(by_status));
  incidents.Set("by_organization", OrganizationsJson(i.by_organization));
  incidents.Set("by_sector", SectorsJson(i.by_sector));
  json.Set("incidents", std::move(incidents));

  const hub::Backlog& b = overview.backlog;
  JsonValue requests = JsonValue::MakeObject();
  requests.Set("open", b.requests_open);
  requests.Set("overdue", b.requests_overdue);
  json.Set("requests", std::move(requests));
  JsonValue recommendations = JsonValue::MakeObject();
  recommendations.Set("open", b.recommendations_open);
  recommendations.Set("overdue", b.recommendations_overdue);
  json.Set("recommendations", std::move(recommendations));
  JsonValue advisories = JsonValue::MakeObject();
  advisories.Set("unacknowledged", b.advisories_unacknowledged);
  json.Set("advisories", std::move(advisories));
  return json;
}

Response OverviewHandler(ApiContext& context, Request& request, const hub::Principal& principal) {
  hub::StatsBucket bucket = hub::StatsBucket::kDay;
  if (auto name = QueryEnum(request, "bucket", hub::StatsBucketNames())) {
    bucket = *hub::ParseStatsBucket(*name);
  }
  const int64_t now = NowMs();
  const int64_t to = QueryTime(request, "to").value_or(now);
  const int64_t length = hub::BucketLengthMs(bucket);
  const int64_t back = bucket == hub::StatsBucket::kDay ? DEFAULT_DAYS : DEFAULT_HOURS;
  const int64_t from =
      QueryTime(request, "from").value_or(hub::BucketStartMs(to - 1, bucket) - (back - 1) * length);
  if (from >= to) ThrowBadRequest("from must be earlier than to", "from");
  // In buckets from here on, so the arithmetic cannot overflow for any representable times.
  int64_t buckets = hub::BucketCount(from, to, bucket);
  if (buckets > hub::STATS_MAX_BUCKETS) {
    ThrowBadRequest(fmt::format("from..to spans {} {} buckets; at most {} are allowed (use a "
                                "shorter range or bucket=day)",
                                buckets, hub::ToString(bucket), hub::STATS_MAX_BUCKETS),
                    "bucket");
  }
  hub::OverviewQuery query;
  query.from_ms = from;
  query.to_ms = to;
  query.bucket = bucket;
  query.now_ms = now;
  hub::Overview overview = [&] {
    auto connection = context.database.Acquire();
    return hub::ComputeOverview(*connection, principal, query);
  }();
  return Response::Json(200, OverviewJson(overview).Serialize());
}

std::string EnumJson(std::span<const std::string_view> names) {
  std::string text = "[";
  for (auto name : names) {
    if (text.size() > 1) text += ',';
    text += '"';
    text += name;
    text += '"';
  }
  return text + "]";
}

void AddSchemas(ApiContext& context) {
  std::string levels;
  for (auto name : hub::AlertLevelNames()) {
    levels += fmt::format(R"({}"{}":{{"type":"integer"}})", levels.empty() ? "" : ",", name);
  }
  std::string statuses;
  for (auto name : hub::IncidentStatusNames()) {
    statuses += fmt::format(R"({}"{}":{{"type":"integer"}})", statuses.empty() ? "" : ",", name);
  }
  std::string text = R"json({"type":"object",
    "required":["from","to","bucket","alerts","incidents","requests","recommendations","advisories"],
    "description":"counts of what the caller may read; series hold every bucket of the range, oldest first, zero counts included",
    "properties":{
      "from":{"type":"string","format":"date-time"},"to":{"type":"string","format":"date-time"},
      "bucket":{"enum":@BUCKETS@},
      "alerts":{"type":"object","description":"alerts whose event time is in [from, to)",
        "required":["total","open","series","by_level","by_organization","by_sector"],
        "properties":{"total":{"type":"integer"},
          "open":{"type":"integer","description":"new or acknowledged"},
          "series":{"type":"array","items":{"type":"object","required":["t","count","by_level"],
            "properties":{"t":{"type":"string","format":"date-time","description":"bucket start (UTC hour or day)"},
              "count":{"type":"integer"},"by_level":{"$ref":"#/components/schemas/StatsLevelCounts"}}}},
          "by_level":{"$ref":"#/components/schemas/StatsLevelCounts"},
          "by_organization":{"$ref":"#/components/schemas/StatsOrganizationCounts"},
          "by_sector":{"$ref":"#/components/schemas/StatsSectorCounts"}}},
      "incidents":{"type":"object","description":"incidents reported (created) in [from, to)",
        "required":["total","open","series","by_status","by_organization","by_sector"],
        "properties":{"total":{"type":"integer"},
          "open":{"type":"integer","description":"not resolved or closed"},
          "series":{"type":"array","items":{"type":"object","required":["t","count"],
            "properties":{"t":{"type":"string","format":"date-time"},"count":{"type":"integer"}}}},
          "by_status":{"type":"object","required":@STATUS_NAMES@,"properties":{@STATUSES@}},
          "by_organization":{"$ref":"#/components/schemas/StatsOrganizationCounts"},
          "by_sector":{"$ref":"#/components/schemas/StatsSectorCounts"}}},
      "requests":{"type":"object","required":["open","overdue"],"description":"as of now, whatever the range",
        "properties":{"open":{"type":"integer"},"overdue":{"type":"integer","description":"open past the due date"}}},
      "recommendations":{"type":"object","required":["open","overdue"],"description":"as of now",
        "properties":{"open":{"type":"integer","description":"not closed"},
          "overdue":{"type":"integer","description":"issued, unanswered, past the due date"}}},
      "advisories":{"type":"object","required":["unacknowledged"],"description":"as of now",
        "properties":{"unacknowledged":{"type":"integer","description":"members: addressed to the caller's organisation and not acknowledged by it; the centre's staff: advisories some recipient has not acknowledged"}}}}})json";
  auto replace = [&](std::string_view from, const std::string& to) {
    for (size_t at = text.find(from); at != std::string::npos;
         at = text.find(from, at + to.size())) {
      text.replace(at, from.size(), to);
    }
  };
  replace("@STATUS_NAMES@", EnumJson(hub::IncidentStatusNames()));
  replace("@STATUSES@", statuses);
  replace("@BUCKETS@", EnumJson(hub::StatsBucketNames()));
  RegisterSchema(context, "StatsOverview", text);
  RegisterSchema(context, "StatsLevelCounts",
      fmt::format(R"({{"type":"object","required":{},"properties":{{{}}}}})",
                  EnumJson(hub::AlertLevelNames()), levels));
  RegisterSchema(context, "StatsOrganizationCounts", R"json({"type":"array","description":"most first",
    "items":{"type":"object","required":["id","name","sector","count"],"properties":{
      "id":{"type":"string"},"name":{"type":["string","null"]},
      "sector":{"type":["string","null"],"description":"critical-infrastructure sector, null for other organisations"},
      "count":{"type":"integer"}}}})json");
  RegisterSchema(context, "StatsSectorCounts", R"json({"type":"array",
    "description":"most first; sector null: organisations without one (ministries, agencies, local governments)",
    "items":{"type":"object","required":["sector","count"],"properties":{
      "sector":{"type":["string","null"]},"count":{"type":"integer"}}}})json");
}

}  // namespace

void RegisterStatsRoutes(Router& router, ApiContext& context) {
  AddSchemas(context);
  RouteDoc doc;
  doc.summary =
      "Overview figures of what the caller may read: alerts and incidents over time (hour or "
      "day buckets, UTC), by level, status, organisation and sector; open and overdue requests "
      "and recommendations; unacknowledged advisories. Default range: the last 30 days (day "
      "buckets) or 24 hours (hour buckets); at most 400 buckets";
  doc.tag = std::string(TAG);
  doc.response_schema = "StatsOverview";
  doc.authenticated = true;
  doc.query = {"from", "to", "bucket"};
  router.Add("GET", "/api/v1/stats/overview",
             Authed(context,
                    [&context](Request& request, const hub::Principal& principal) {
                      return OverviewHandler(context, request, principal);
                    }),
             std::move(doc));
}

}  // namespace yagura::http

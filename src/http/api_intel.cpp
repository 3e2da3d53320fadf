// Intelligence routes under /api/v1/intel: the indicator feeds live detection matches, a
// search over their indicators, the partner TAXII collections the service pulls, and a pull
// on demand.
//
// Everything is read through IntelControl (console_control.hpp): the feeds and indicators
// detection holds in memory, and the store's TAXII sources without their credentials. A pull
// is a job (202) that takes the store's lock as the scheduled pull does, so the two never
// interleave; detection notices the changed feed by itself. Each finished pull is one audit
// entry "intel.pull" (outcome ok or failed) with the requesting administrator as actor.
//
// The indicators are the centre's intelligence, some shared with it under TLP:AMBER by
// partners: only the centre's staff read them (403 for everyone else), and only its
// administrators pull.
#include <algorithm>
#include <array>
#include <cstdio>
#include <stdexcept>
#include <string>

#include <fmt/format.h>

#include "core/json_value.hpp"
#include "core/time.hpp"
#include "http/api.hpp"
#include "http/console_control.hpp"
#include "http/jobs.hpp"
#include "hub/audit_log.hpp"
#include "hub/policy.hpp"

namespace yagura::http {
namespace {

constexpr std::string_view TAG = "intel";
constexpr std::string_view PULL_KIND = "intel.pull";
constexpr std::array<std::string_view, 11> TYPES = {
    "ipv4", "ipv6", "domain", "url", "hash", "email", "file-name", "process-name",
    "registry-key", "port", "user-agent"};
constexpr size_t QUERY_MAX = 200;

IntelControl& RequireIntel(ApiContext& context, const hub::Principal& principal) {
  if (!hub::can::ViewDetection(principal)) {
    ThrowForbidden("only the centre's staff see the intelligence feeds");
  }
  if (context.intel == nullptr) {
    throw ApiError(503, "intel_unavailable", "the indicator store is not available");
  }
  return *context.intel;
}

template <typename T>
T Unwrap(Result<T> result) {
  if (!result) throw ApiError(500, "intel_error", result.error().ToString());
  return std::move(*result);
}

JsonValue TimeOrNull(int64_t ms) { return ms == 0 ? JsonValue() : JsonValue(FormatTimestampMs(ms)); }
JsonValue TextOrNull(const std::string& text) { return text.empty() ? JsonValue() : JsonValue(text); }

Response FeedsHandler(ApiContext& context, Request&, const hub::Principal& principal) {
  FeedList list = Unwrap(RequireIntel(context, principal).Feeds());
  JsonValue items = JsonValue::MakeArray();
  for (const FeedView& feed : list.feeds) {
    JsonValue item = JsonValue::MakeObject();
    item.Set("name", feed.name);
    item.Set("format", feed.format);
    item.Set("source", feed.source);
    item.Set("origin", feed.origin);
    item.Set("indicators", static_cast<int64_t>(feed.indicators));
    item.Set("objects", static_cast<int64_t>(feed.objects));
    item.Set("skipped", static_cast<int64_t>(feed.skipped));
    item.Set("complete", feed.complete);
    item.Set("updated_at", TimeOrNull(feed.updated_at_ms));
    item.Set("loaded", feed.loaded);
    items.Push(std::move(item));
  }
  JsonValue body = JsonValue::MakeObject();
  body.Set("items", std::move(items));
  body.Set("total_indicators", static_cast<int64_t>(list.total_indicators));
  body.Set("active_indicators", static_cast<int64_t>(list.active_indicators));
  return Response::Json(200, body.Serialize());
}

Response IndicatorsHandler(ApiContext& context, Request& request,
                           const hub::Principal& principal) {
  IntelControl& intel = RequireIntel(context, principal);
  PageRequest page = ReadPage(request);
  IndicatorQuery query;
  query.q = std::string(request.Query("q").value_or(""));
  if (query.q.size() > QUERY_MAX) ThrowBadRequest("q is longer than 200 characters", "q");
  query.type = QueryEnum(request, "type", TYPES).value_or("");
  query.feed = std::string(request.Query("feed").value_or(""));
  if (query.feed.size() > QUERY_MAX) ThrowBadRequest("feed is longer than 200 characters", "feed");
  query.limit = page.limit;
  query.cursor = page.cursor;
  auto result = intel.Indicators(query);
  if (!result) ThrowBadRequest(result.error().message, "cursor");
  JsonValue items = JsonValue::MakeArray();
  for (const IndicatorItem& indicator : result->items) {
    JsonValue item = JsonValue::MakeObject();
    item.Set("id", indicator.id);
    item.Set("value", indicator.value);
    item.Set("type", indicator.type);
    item.Set("feed", indicator.feed);
    item.Set("name", TextOrNull(indicator.name));
    item.Set("pattern", indicator.pattern);
    item.Set("tlp", TextOrNull(indicator.tlp));
    item.Set("confidence", indicator.confidence < 0 ? JsonValue() : JsonValue(indicator.confidence));
    JsonValue labels = JsonValue::MakeArray();
    for (const auto& label : indicator.labels) labels.Push(label);
    item.Set("labels", std::move(labels));
    item.Set("valid_from", TimeOrNull(indicator.valid_from_ms));
    item.Set("valid_until", TimeOrNull(indicator.valid_until_ms));
    item.Set("revoked", indicator.revoked);
    items.Push(std::move(item));
  }
  return ListResponse(items, result->next_cursor);
}

Response TaxiiSourcesHandler(ApiContext& context, Request&, const hub::Principal& principal) {
  auto sources = Unwrap(RequireIntel(context, principal).TaxiiSources());
  JsonValue items = JsonValue::MakeArray();
  for (const TaxiiSourceView& source : sources) {
    JsonValue item = JsonValue::MakeObject();
    item.Set("name", source.name);
    item.Set("url", source.url);
    item.Set("collection", source.collection);
    item.Set("auth", source.auth);
    item.Set("bookmark", TextOrNull(source.bookmark));
    item.Set("last_pull_at", TextOrNull(source.last_pull_at));
    item.Set("last_error", TextOrNull(source.last_error));
    item.Set("objects_pulled", static_cast<int64_t>(source.objects_pulled));
    items.Push(std::move(item));
  }
  JsonValue body = JsonValue::MakeObject();
  body.Set("items", std::move(items));
  return Response::Json(200, body.Serialize());
}

// The routes starting a job take no body: empty, or {} (anything else is refused, not ignored).
void RequireEmptyBody(const Request& request) {
  if (request.body.empty()) return;
  JsonValue body = ParseJsonBody(request);
  Fields(body).Finish();
}

void AuditPull(ApiContext& context, const hub::Principal& principal, const std::string& name,
               const std::string& job_id, const Result<PullResult>& outcome) {
  hub::AuditEntry entry = hub::EntryFor(principal, std::string(PULL_KIND), "taxii_source", name);
  JsonValue detail = JsonValue::MakeObject();
  detail.Set("job_id", job_id);
  if (outcome) {
    detail.Set("pages", static_cast<int64_t>(outcome->pages));
    detail.Set("objects", static_cast<int64_t>(outcome->objects));
    detail.Set("indicators", static_cast<int64_t>(outcome->indicators));
  } else {
    entry.outcome = "failed";
    detail.Set("error", outcome.error().ToString());
  }
  entry.detail = detail.Serialize();
  try {
    context.database.Transact(
        [&](store::Connection& connection) { hub::AuditLog::Append(connection, entry); });
  } catch (const std::exception& error) {
    std::fprintf(stderr, "yagura serve: the audit entry of TAXII pull %s failed: %s\n",
                 job_id.c_str(), error.what());
  }
}

Response PullHandler(ApiContext& context, Request& request, const hub::Principal& principal) {
  IntelControl& intel = RequireIntel(context, principal);
  if (!hub::can::OperateDetection(principal)) {
    ThrowForbidden("only the centre's administrators pull TAXII collections");
  }
  RequireEmptyBody(request);
  std::string name(request.PathParam("name"));
  auto sources = Unwrap(intel.TaxiiSources());
  bool known = std::any_of(sources.begin(), sources.end(),
                           [&](const TaxiiSourceView& source) { return source.name == name; });
  if (!known) ThrowNotFound("TAXII source");
  IntelControl* control = &intel;
  return StartJobResponse(
      context.jobs, std::string(PULL_KIND), principal,
      [&context, control, principal, name](JobHandle& job) -> Result<JsonValue> {
        Result<PullResult> outcome = control->Pull(name, job);
        AuditPull(context, principal, name, job.id(), outcome);
        if (!outcome) return tl::unexpected(outcome.error());
        JsonValue result = JsonValue::MakeObject();
        result.Set("source", name);
        result.Set("pages", static_cast<int64_t>(outcome->pages));
        result.Set("objects", static_cast<int64_t>(outcome->objects));
        result.Set("indicators", static_cast<int64_t>(outcome->indicators));
        return result;
      });
}

}  // namespace

void RegisterIntelRoutes(Router& router, ApiContext& context) {
  RegisterSchema(context, "IntelFeedList", R"({"type":"object",
    "required":["items","total_indicators","active_indicators"],
    "properties":{
      "items":{"type":"array","items":{"type":"object",
        "required":["name","format","source","origin","indicators","updated_at","loaded"],
        "properties":{
          "name":{"type":"string"},
          "format":{"type":"string","enum":["auto","stix","misp","list"]},
          "source":{"type":"string","description":"where it was imported from"},
          "origin":{"type":"string","enum":["store","file"],
            "description":"store: imported or pulled into DATA/intel; file: a configured path"},
          "indicators":{"type":"integer"},"objects":{"type":"integer"},
          "skipped":{"type":"integer"},"complete":{"type":"boolean"},
          "updated_at":{"type":["string","null"],"format":"date-time"},
          "loaded":{"type":"boolean","description":"live detection matches it now"}}}},
      "total_indicators":{"type":"integer"},
      "active_indicators":{"type":"integer",
        "description":"indicators detection matches after versions, revocation and expiry"}}})");
  RegisterSchema(context, "IntelIndicatorList", R"({"type":"object","required":["items","next_cursor"],
    "properties":{
      "items":{"type":"array","items":{"type":"object",
        "required":["id","value","type","feed","tlp","confidence"],
        "properties":{
          "id":{"type":"string"},
          "value":{"type":"string","description":"the value; the whole pattern for several"},
          "type":{"type":"string","description":"ipv4, domain, hash, ...; pattern for several values"},
          "feed":{"type":"string"},"name":{"type":["string","null"]},
          "pattern":{"type":"string"},
          "tlp":{"type":["string","null"],"enum":["clear","green","amber","amber+strict","red",null]},
          "confidence":{"type":["integer","null"]},
          "labels":{"type":"array","items":{"type":"string"}},
          "valid_from":{"type":["string","null"],"format":"date-time"},
          "valid_until":{"type":["string","null"],"format":"date-time"},
          "revoked":{"type":"boolean"}}}},
      "next_cursor":{"type":["string","null"]}}})");
  RegisterSchema(context, "TaxiiSourceList", R"({"type":"object","required":["items"],
    "properties":{"items":{"type":"array","items":{"type":"object",
      "required":["name","url","collection","last_pull_at","last_error","objects_pulled"],
      "properties":{
        "name":{"type":"string"},"url":{"type":"string"},"collection":{"type":"string"},
        "auth":{"type":"string","enum":["token","basic","none"]},
        "bookmark":{"type":["string","null"]},
        "last_pull_at":{"type":["string","null"],"format":"date-time"},
        "last_error":{"type":["string","null"]},
        "objects_pulled":{"type":"integer"}}}}}})");
  RegisterSchema(context, "IntelPullResult", R"({"type":"object",
    "required":["source","pages","objects","indicators"],
    "properties":{"source":{"type":"string"},"pages":{"type":"integer"},
      "objects":{"type":"integer","description":"objects received by this pull"},
      "indicators":{"type":"integer","description":"indicators in the stored feed afterwards"}},
    "description":"the result of a succeeded intel.pull job"})");

  auto bind = [&context](ContextHandler handler) { return BindAuthed(context, handler); };
  const std::string tag(TAG);
  router.Add("GET", "/api/v1/intel/feeds", bind(FeedsHandler),
             RouteDoc{"The indicator feeds: the store's (imported, pulled over TAXII) and those "
                      "detection reads from configured paths; centre staff only",
                      tag, "", "IntelFeedList", true, {}});
  router.Add("GET", "/api/v1/intel/indicators", bind(IndicatorsHandler),
             RouteDoc{"Indicators of the loaded feeds in feed order; q is a case-insensitive "
                      "substring of the value, name, id or pattern; centre staff only",
                      tag, "", "IntelIndicatorList", true,
                      {"q", "type", "feed", "limit", "cursor"}});
  router.Add("GET", "/api/v1/intel/taxii-sources", bind(TaxiiSourcesHandler),
             RouteDoc{"Partner TAXII collections the service pulls, with the status of their "
                      "last pull (never their credentials); centre staff only",
                      tag, "", "TaxiiSourceList", true, {}});
  router.Add("POST", "/api/v1/intel/taxii-sources/{name}/pull", bind(PullHandler),
             RouteDoc{"Pulls one TAXII source now as a job (progress in objects; result: "
                      "IntelPullResult); centre administrators only",
                      tag, "", "JobAccepted", true, {}});
}

}  // namespace yagura::http

// Exports: POST /api/v1/exports writes the caller's alerts or incidents to a file as a job, and
// GET /api/v1/exports/{export_id}/download hands the file to the one who asked for it.
//
// An export is a list read written to disk: its `filters` are the list endpoint's query
// parameters, parsed by that endpoint's own parser (AlertListFilter, IncidentListFilter), and
// the rows come from the same hub list functions, page by keyset page, under the same policy.
// So an export can never hold a row the list would not show the caller, and JSON Lines rows are
// exactly the list's items. CSV rows flatten the same fields (export_files.hpp has the quoting
// and the formula-injection guard).
//
// The job first counts the matching rows (hub::CountAlerts / CountIncidents) so the console can
// draw progress in rows, writes `<id>.<format>.part`, renames it into place, records
// "export.create" in the audit log (kind, format, filters, rows, bytes), and only then writes
// the record that makes the file downloadable. Files older than 24 hours are deleted when the
// next export starts; the download route refuses them already. Downloads are audited as
// "export.download". A download of another user's export, or of an unknown or expired one,
// answers 404 like any object the caller may not see.
//
// Starting an export needs the "write" scope, like every POST: it writes a file and an audit
// entry, even though it discloses nothing a list would not.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>

#include "core/json_value.hpp"
#include "core/json_writer.hpp"
#include "core/time.hpp"
#include "http/api.hpp"
#include "http/export_files.hpp"
#include "http/jobs.hpp"
#include "hub/alerts.hpp"
#include "hub/audit_log.hpp"
#include "hub/crypto.hpp"
#include "hub/incidents.hpp"
#include "hub/scoring.hpp"
#include "hub/stats.hpp"

namespace yagura::http {
namespace {

constexpr std::string_view TAG = "exports";
constexpr std::string_view JOB_KIND = "export";
constexpr std::array<std::string_view, 2> KINDS = {"alerts", "incidents"};
constexpr std::array<std::string_view, 2> FORMATS = {"jsonl", "csv"};
// The list endpoints' query parameters an export accepts (paging is the export's own).
constexpr std::array<std::string_view, 11> ALERT_FILTERS = {
    "org_id",      "level", "rule_id", "technique",   "kind",       "status",
    "campaign_id", "since", "until",   "assignee_id", "incident_id"};
constexpr std::array<std::string_view, 7> INCIDENT_FILTERS = {
    "status", "owner_org_id", "category", "priority_min", "tlp", "assigned_to", "q"};
constexpr size_t FILTER_VALUE_MAX = 512;
constexpr int ALERT_PAGE = 1000;
constexpr int INCIDENT_PAGE = 500;

// New columns go at the end: scripts read these files by position.
const std::array<std::string, 26> ALERT_COLUMNS = {
    "id",        "kind",        "org_id",      "rule_id",         "title",
    "level",     "status",      "event_time",  "detected_at",     "techniques",
    "tags",      "logsource",   "sensor_id",   "campaign_id",     "resolution",
    "reason",    "assignee_id", "incident_id", "acknowledged_by", "acknowledged_at",
    "closed_by", "closed_at",   "created_at",  "updated_at",      "occurrences",
    "last_event_time"};
const std::array<std::string, 13> INCIDENT_COLUMNS = {
    "id",    "reference", "title",         "status",      "category",   "tlp",       "owner_org_id",
    "score", "priority",  "priority_name", "detected_at", "created_at", "updated_at"};

struct ExportSpec {
  std::string id;
  std::string kind;
  std::string format;
  JsonValue filters = JsonValue::MakeObject();  // as given, for the audit entry
  hub::AlertFilter alert_filter;
  hub::IncidentFilter incident_filter;
  std::filesystem::path dir;
};

std::string Joined(const std::vector<std::string>& items) {
  std::string text;
  for (const auto& item : items) text += (text.empty() ? "" : ";") + item;
  return text;
}

std::string TimeText(int64_t ms) { return FormatTimestampMs(ms); }
std::string TimeText(const std::optional<int64_t>& ms) {
  return ms ? FormatTimestampMs(*ms) : std::string();
}

std::vector<std::string> AlertRow(const hub::Alert& a) {
  return {a.id,
          a.kind,
          a.org_id,
          a.rule_id,
          a.title,
          a.level,
          std::string(hub::ToString(a.status)),
          TimeText(a.event_time),
          TimeText(a.detected_at),
          Joined(a.techniques),
          Joined(a.tags),
          a.logsource,
          a.sensor_id,
          a.campaign_id,
          a.resolution.value_or(""),
          a.reason.value_or(""),
          a.assignee_id.value_or(""),
          a.incident_id.value_or(""),
          a.acknowledged_by.value_or(""),
          TimeText(a.acknowledged_at),
          a.closed_by.value_or(""),
          TimeText(a.closed_at),
          TimeText(a.created_at),
          TimeText(a.updated_at),
          std::to_string(a.occurrences),
          TimeText(a.last_event_time)};
}

std::vector<std::string> IncidentRow(const hub::IncidentSummary& s) {
  hub::Priority priority = hub::PriorityLevel(s.priority);
  return {s.id,
          s.reference,
          s.title,
          std::string(hub::ToString(s.status)),
          s.category,
          std::string(hub::ToString(s.tlp)),
          s.owner_org_id,
          fmt::format("{}", s.score),
          std::to_string(priority.level),
          std::string(priority.name),
          TimeText(s.detected_at),
          TimeText(s.created_at),
          TimeText(s.updated_at)};
}

// ---- request --------------------------------------------------------------------------------

// The filters object as the list endpoint's query: each member a parameter, parsed by the
// list's own parser; its 400s name the member as "filters.<name>".
template <size_t N>
Request FiltersAsQuery(const JsonValue* filters, const std::array<std::string_view, N>& allowed,
                       std::string_view kind, JsonValue& given) {
  Request query;
  query.method = "GET";
  if (filters == nullptr) return query;
  for (const auto& [name, value] : filters->as_object()) {
    std::string field = "filters." + name;
    if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
      std::string names;
      for (auto item : allowed) names += (names.empty() ? "" : ", ") + std::string(item);
      ThrowBadRequest(fmt::format("{} is not a filter of {} (filters: {})", field, kind, names),
                      field);
    }
    if (!value.is_string()) {
      ThrowBadRequest(fmt::format("{} must be a string, as in the list's query", field), field);
    }
    const std::string& text = value.as_string();
    if (text.size() > FILTER_VALUE_MAX) {
      ThrowBadRequest(fmt::format("{} is longer than {} bytes", field, FILTER_VALUE_MAX), field);
    }
    if (std::any_of(text.begin(), text.end(),
                    [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; })) {
      ThrowBadRequest(fmt::format("{} must not contain control characters", field), field);
    }
    query.query.emplace_back(name, text);
    given.Set(name, text);
  }
  return query;
}

template <typename Parse>
auto ParseFilters(const Request& query, Parse parse) {
  try {
    return parse(query);
  } catch (const ApiError& error) {
    std::string field = error.field.empty() ? "filters" : "filters." + error.field;
    throw ApiError(error.status, error.code, fmt::format("filters: {}", error.what()), field);
  }
}

ExportSpec ReadSpec(ApiContext& context, const Request& request) {
  JsonValue body = ParseJsonBody(request);
  Fields fields(body);
  ExportSpec spec;
  spec.kind = fields.Enum("kind", KINDS);
  spec.format = fields.Enum("format", FORMATS);
  const JsonValue* filters = fields.Object("filters");
  fields.Finish();
  if (spec.kind == "alerts") {
    Request query = FiltersAsQuery(filters, ALERT_FILTERS, spec.kind, spec.filters);
    spec.alert_filter = ParseFilters(query, AlertListFilter);
  } else {
    Request query = FiltersAsQuery(filters, INCIDENT_FILTERS, spec.kind, spec.filters);
    spec.incident_filter = ParseFilters(query, IncidentListFilter);
  }
  spec.dir = context.settings.export_dir;
  spec.id = hub::NewId();
  return spec;
}

// ---- the job --------------------------------------------------------------------------------

// Writes the rows; returns the count and the most restrictive TLP among them.
struct Written {
  int64_t rows = 0;
  hub::Tlp tlp = hub::Tlp::kClear;
};

Result<Written> WriteAlerts(ApiContext& context, const hub::Principal& principal,
                            const ExportSpec& spec, exports::ExportFileWriter& file,
                            JobHandle& job) {
  Written written;
  written.tlp = hub::Tlp::kAmber;  // every alert is AMBER
  std::optional<std::pair<int64_t, std::string>> before;
  std::string chunk;
  for (;;) {
    if (job.stopping()) return Fail("the service is stopping; the export was abandoned");
    chunk.clear();
    bool more = false;
    {
      auto connection = context.database.Acquire();
      hub::AlertPage page =
          hub::ListAlerts(*connection, principal, spec.alert_filter, before, ALERT_PAGE);
      if (spec.format == "jsonl") {
        std::vector<std::string> techniques;
        for (const auto& alert : page.items) {
          techniques.insert(techniques.end(), alert.techniques.begin(), alert.techniques.end());
        }
        JsonValue index = TechniqueIndex(*connection, techniques);
        for (const auto& alert : page.items) {
          AlertListItemJson(alert, index).SerializeTo(chunk);
          chunk += '\n';
        }
      } else {
        for (const auto& alert : page.items) exports::AppendCsvRecord(chunk, AlertRow(alert));
      }
      written.rows += static_cast<int64_t>(page.items.size());
      more = page.more && !page.items.empty();
      if (more) before = std::make_pair(page.items.back().event_time, page.items.back().id);
    }
    if (auto appended = file.Append(chunk); !appended) return tl::unexpected(appended.error());
    job.SetDone(written.rows);
    if (!more) return written;
  }
}

Result<Written> WriteIncidents(ApiContext& context, const hub::Principal& principal,
                               const ExportSpec& spec, exports::ExportFileWriter& file,
                               JobHandle& job) {
  Written written;
  std::optional<std::pair<int64_t, std::string>> before;
  std::string chunk;
  for (;;) {
    if (job.stopping()) return Fail("the service is stopping; the export was abandoned");
    chunk.clear();
    hub::IncidentPage page = [&] {
      auto connection = context.database.Acquire();
      return hub::ListIncidents(*connection, principal, spec.incident_filter, before,
                                INCIDENT_PAGE);
    }();
    for (const auto& incident : page.items) {
      written.tlp = std::max(written.tlp, incident.tlp);
      if (spec.format == "jsonl") {
        JsonWriter out(chunk);
        WriteIncidentListItem(out, incident);
        chunk += '\n';
      } else {
        exports::AppendCsvRecord(chunk, IncidentRow(incident));
      }
    }
    written.rows += static_cast<int64_t>(page.items.size());
    if (auto appended = file.Append(chunk); !appended) return tl::unexpected(appended.error());
    job.SetDone(written.rows);
    if (!page.more || page.items.empty()) return written;
    before = std::make_pair(page.items.back().created_at, page.items.back().id);
  }
}

Result<JsonValue> RunExport(ApiContext& context, const hub::Principal& principal,
                            const ExportSpec& spec, JobHandle& job) {
  const int64_t started = NowMs();
  exports::PurgeExpired(spec.dir, started);
  std::error_code ec;
  if (std::filesystem::create_directories(spec.dir, ec)) {
    std::filesystem::permissions(spec.dir, std::filesystem::perms::owner_all, ec);
  }
  if (ec) return Fail(fmt::format("cannot create {}: {}", spec.dir.string(), ec.message()));

  job.SetMessage("counting rows");
  int64_t total = [&] {
    auto connection = context.database.Acquire();
    return spec.kind == "alerts"
               ? hub::CountAlerts(*connection, principal, spec.alert_filter)
               : hub::CountIncidents(*connection, principal, spec.incident_filter);
  }();
  job.SetTotal(total, "rows");
  job.SetMessage(fmt::format("writing {} {}", total, spec.kind));

  exports::ExportFileWriter file;
  if (auto opened = file.Open(exports::DataPath(spec.dir, spec.id, spec.format)); !opened) {
    return tl::unexpected(opened.error());
  }
  if (spec.format == "csv") {
    std::string header;
    if (spec.kind == "alerts") {
      exports::AppendCsvRecord(header, ALERT_COLUMNS);
    } else {
      exports::AppendCsvRecord(header, INCIDENT_COLUMNS);
    }
    if (auto appended = file.Append(header); !appended) return tl::unexpected(appended.error());
  }
  Result<Written> written = spec.kind == "alerts"
                                ? WriteAlerts(context, principal, spec, file, job)
                                : WriteIncidents(context, principal, spec, file, job);
  if (!written) return tl::unexpected(written.error());
  Result<int64_t> bytes = file.Commit();
  if (!bytes) return tl::unexpected(bytes.error());
  // Rows may have arrived or gone since the count: the progress ends at what was written.
  job.SetTotal(written->rows, "rows");
  job.SetDone(written->rows);

  exports::ExportRecord record;
  record.id = spec.id;
  record.owner_user_id = principal.user_id;
  record.owner_org_id = principal.org_id;
  record.kind = spec.kind;
  record.format = spec.format;
  record.rows = written->rows;
  record.bytes = *bytes;
  record.tlp = written->tlp;
  record.created_at_ms = NowMs();
  auto remove_data = [&] {
    std::error_code ignored;
    std::filesystem::remove(exports::DataPath(spec.dir, spec.id, spec.format), ignored);
  };
  try {
    context.database.Transact([&](store::Connection& connection) {
      hub::AuditEntry entry =
          hub::EntryFor(principal, "export.create", "export", spec.id, record.tlp);
      JsonValue detail = JsonValue::MakeObject();
      detail.Set("kind", spec.kind);
      detail.Set("format", spec.format);
      detail.Set("filters", spec.filters);
      detail.Set("rows", record.rows);
      detail.Set("bytes", record.bytes);
      entry.detail = detail.Serialize();
      hub::AuditLog::Append(connection, entry, record.created_at_ms);
    });
  } catch (...) {
    remove_data();  // an export nobody could account for is not handed out
    throw;
  }
  if (auto stored = exports::WriteRecord(spec.dir, record); !stored) {
    remove_data();
    return tl::unexpected(stored.error());
  }
  job.SetMessage(fmt::format("{} {} written", record.rows, spec.kind));
  JsonValue result = JsonValue::MakeObject();
  result.Set("export_id", spec.id);
  result.Set("download_url", fmt::format("/api/v1/exports/{}/download", spec.id));
  result.Set("rows", record.rows);
  result.Set("bytes", record.bytes);
  return result;
}

// ---- handlers -------------------------------------------------------------------------------

Response CreateExportHandler(ApiContext& context, Request& request,
                             const hub::Principal& principal) {
  ExportSpec spec = ReadSpec(context, request);
  if (spec.dir.empty()) {
    throw ApiError(503, "exports_unavailable", "exports are not configured on this server");
  }
  // Answered as every job-starting route answers (202, 409 "job_running", 503).
  return StartJobResponse(context.jobs, std::string(JOB_KIND), principal,
                          [&context, principal, spec = std::move(spec)](JobHandle& job) {
                            return RunExport(context, principal, spec, job);
                          });
}

Response DownloadHandler(ApiContext& context, Request& request, const hub::Principal& principal) {
  const std::string& dir = context.settings.export_dir;
  std::string_view id = request.PathParam("export_id");
  std::optional<exports::ExportRecord> record;
  if (!dir.empty()) record = exports::ReadRecord(dir, id);
  if (!record || record->owner_user_id != principal.user_id ||
      NowMs() - record->created_at_ms > exports::EXPORT_MAX_AGE_MS) {
    ThrowNotFound("export");
  }
  std::ifstream in(exports::DataPath(dir, record->id, record->format), std::ios::binary);
  if (!in) ThrowNotFound("export");
  Response response;
  response.status = 200;
  response.body.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  if (in.bad()) throw std::runtime_error("reading export " + record->id + " failed");
  hub::AuditEntry entry =
      hub::EntryFor(principal, "export.download", "export", record->id, record->tlp);
  JsonValue detail = JsonValue::MakeObject();
  detail.Set("kind", record->kind);
  detail.Set("format", record->format);
  detail.Set("rows", record->rows);
  entry.detail = detail.Serialize();
  context.audit.Record(std::move(entry));
  response.headers.Set("Content-Type", std::string(exports::ContentType(record->format)));
  response.headers.Set("Content-Disposition",
                       fmt::format("attachment; filename=\"yagura-{}-{}.{}\"", record->kind,
                                   record->id, record->format));
  response.headers.Set("X-Content-Type-Options", "nosniff");
  response.headers.Set("Content-Security-Policy", "default-src 'none'; sandbox");
  response.headers.Set("Cache-Control", "no-store");
  return response;
}

// ---- schemas --------------------------------------------------------------------------------

std::string NamesJson(std::span<const std::string_view> names) {
  std::string text = "[";
  for (auto name : names) {
    if (text.size() > 1) text += ',';
    AppendJsonString(text, name);
  }
  return text + "]";
}

void AddSchemas(ApiContext& context) {
  std::string alert_filters;
  for (auto name : ALERT_FILTERS) {
    alert_filters +=
        fmt::format(R"({}"{}":{{"type":"string"}})", alert_filters.empty() ? "" : ",", name);
  }
  std::string incident_filters;
  for (auto name : INCIDENT_FILTERS) {
    incident_filters +=
        fmt::format(R"({}"{}":{{"type":"string"}})", incident_filters.empty() ? "" : ",", name);
  }
  std::string text = fmt::format(
      R"json({{"type":"object","additionalProperties":false,"required":["kind","format"],
    "properties":{{"kind":{{"enum":{kinds}}},"format":{{"enum":{formats}}},
      "filters":{{"type":"object","additionalProperties":{{"type":"string","maxLength":{max}}},
        "description":"the list endpoint's query parameters as strings (GET /api/v1/alerts or /api/v1/incidents, without limit and cursor)",
        "anyOf":[{{"title":"alerts","properties":{{{alerts}}},"additionalProperties":false}},
                 {{"title":"incidents","properties":{{{incidents}}},"additionalProperties":false}}]}}}}}})json",
      fmt::arg("kinds", NamesJson(KINDS)), fmt::arg("formats", NamesJson(FORMATS)),
      fmt::arg("max", FILTER_VALUE_MAX), fmt::arg("alerts", alert_filters),
      fmt::arg("incidents", incident_filters));
  RegisterSchema(context, "ExportCreate", text);
  RegisterSchema(context, "ExportResult", R"json({"type":"object",
    "description":"the result of a succeeded export job",
    "required":["export_id","download_url","rows","bytes"],
    "properties":{"export_id":{"type":"string"},"download_url":{"type":"string"},
      "rows":{"type":"integer"},"bytes":{"type":"integer"}}})json");
}

}  // namespace

void RegisterExportRoutes(Router& router, ApiContext& context) {
  AddSchemas(context);
  auto bind = [&context](ContextHandler handler, std::string scope) {
    return BindAuthed(context, handler, std::move(scope));
  };
  RouteDoc create;
  create.summary =
      "Export the alerts or incidents the caller may read, with the list's filters, as JSON "
      "Lines or CSV: answers 202 with a job (kind \"export\", progress in rows) whose result "
      "is an ExportResult; 409 while another export runs";
  create.tag = std::string(TAG);
  create.request_schema = "ExportCreate";
  create.response_schema = "JobAccepted";
  router.Add("POST", "/api/v1/exports", bind(CreateExportHandler, ""), std::move(create));
  RouteDoc download;
  download.summary =
      "Download a finished export (its owner only; 404 otherwise and after 24 hours), as an "
      "attachment: text/csv or application/x-ndjson";
  download.tag = std::string(TAG);
  router.Add("GET", "/api/v1/exports/{export_id}/download", bind(DownloadHandler, ""),
             std::move(download));
}

}  // namespace yagura::http

// Audit routes: the standards (/api/v1/standards: OSCAL catalogs) and the audits of
// organisations against them (/api/v1/audits), with their scope, assessments, findings,
// recommendations, follow-up and OSCAL exports (hub/standards.hpp, hub/audits.hpp,
// hub/oscal_export.hpp).
//
// Handlers translate only: the hub checks the policy and appends the audit entry of every write
// in the same transaction. Every read of an audit is audited as RED, as a case's is: who looked
// at which organisation's weaknesses is itself need-to-know. An audit the caller may not read
// answers 404, as one that does not exist.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <set>
#include <string>

#include "core/json_value.hpp"
#include "core/time.hpp"
#include "http/api.hpp"
#include "http/audit_report.hpp"
#include "http/hub_errors.hpp"
#include "http/json_forms.hpp"
#include "http/report_page.hpp"
#include "http/schema_builders.hpp"
#include "hub/audit_log.hpp"
#include "hub/audits.hpp"
#include "hub/oscal_export.hpp"
#include "hub/standards.hpp"

namespace yagura::http {
namespace {

constexpr std::string_view TAG = "audits";
constexpr std::string_view AUDITS = "/api/v1/audits";
constexpr std::string_view STANDARDS = "/api/v1/standards";

void AuditAuditRead(ApiContext& context, const hub::Principal& principal, std::string action,
                    std::string_view audit_id, JsonValue detail = JsonValue::MakeObject()) {
  hub::AuditEntry entry =
      hub::EntryFor(principal, std::move(action), "audit", std::string(audit_id), hub::Tlp::kRed);
  entry.detail = detail.Serialize();
  context.audit.Record(std::move(entry));
}

// ---- JSON forms ------------------------------------------------------------------------------

JsonValue StandardJson(const hub::Standard& standard) {
  JsonValue json = JsonValue::MakeObject();
  json.Set("id", standard.id);
  json.Set("title", standard.title);
  json.Set("version", standard.version);
  json.Set("oscal_uuid", standard.oscal_uuid);
  json.Set("oscal_version", standard.oscal_version);
  json.Set("published", standard.published.empty() ? JsonValue() : JsonValue(standard.published));
  json.Set("source", standard.source_name);
  json.Set("sha256", standard.sha256);
  json.Set("controls", standard.controls);
  json.Set("imported_by", standard.imported_by);
  json.Set("imported_at", Time(standard.imported_at));
  return json;
}

JsonValue ControlJson(const hub::StandardControl& control) {
  JsonValue json = JsonValue::MakeObject();
  json.Set("control_id", control.control_id);
  json.Set("parent_id", control.parent_id.empty() ? JsonValue() : JsonValue(control.parent_id));
  json.Set("group", control.group_title);
  json.Set("label", control.label);
  json.Set("title", control.title);
  json.Set("class", control.control_class);
  json.Set("statement", control.statement);
  json.Set("depth", static_cast<int64_t>(control.depth));
  return json;
}

JsonValue ScopedControlJson(const hub::ScopedControl& scoped) {
  JsonValue json = ControlJson(scoped.control);
  json.Set("result", scoped.result);
  json.Set("methods", Strings(scoped.methods));
  json.Set("note", scoped.note);
  json.Set("assessed_by", scoped.assessed_by.empty() ? JsonValue() : JsonValue(scoped.assessed_by));
  json.Set("assessed_at", OptionalTime(scoped.assessed_at));
  return json;
}

JsonValue ProgressJson(const hub::AuditProgress& progress) {
  JsonValue json = JsonValue::MakeObject();
  json.Set("controls", progress.controls);
  json.Set("assessed", progress.assessed);
  json.Set("satisfied", progress.satisfied);
  json.Set("partially_satisfied", progress.partially_satisfied);
  json.Set("not_satisfied", progress.not_satisfied);
  json.Set("not_applicable", progress.not_applicable);
  json.Set("findings", progress.findings);
  json.Set("recommendations", progress.recommendations);
  json.Set("recommendations_open", progress.recommendations_open);
  json.Set("recommendations_overdue", progress.recommendations_overdue);
  return json;
}

JsonValue AuditJson(store::Connection& connection, const hub::Principal& principal,
                    const hub::Audit& audit) {
  JsonValue json = JsonValue::MakeObject();
  json.Set("id", audit.id);
  json.Set("reference", audit.reference);
  json.Set("title", audit.title);
  json.Set("objectives", audit.objectives);
  json.Set("auditee_org_id", audit.auditee_org_id);
  json.Set("auditee_name", audit.auditee_name);
  json.Set("standard_id", audit.standard_id);
  json.Set("standard_title", audit.standard_title);
  json.Set("status", std::string(hub::ToString(audit.status)));
  json.Set("tlp", std::string(hub::ToString(audit.tlp)));
  json.Set("planned_start", OptionalTime(audit.planned_start));
  json.Set("planned_end", OptionalTime(audit.planned_end));
  json.Set("conclusion", OptionalText(audit.conclusion));
  json.Set("issued_at", OptionalTime(audit.issued_at));
  json.Set("closed_at", OptionalTime(audit.closed_at));
  json.Set("created_at", Time(audit.created_at));
  json.Set("updated_at", Time(audit.updated_at));
  json.Set("version", audit.version);
  auto role = audit.RoleOf(principal.user_id);
  const bool team = role && principal.IsCentreStaff();
  json.Set("my_role", team ? JsonValue(std::string(hub::ToString(*role))) : JsonValue());
  // The audited organisation reads the report, not who wrote it.
  JsonValue members = JsonValue::MakeArray();
  if (team) {
    json.Set("opened_by", audit.opened_by);
    for (const auto& member : audit.members) {
      JsonValue item = JsonValue::MakeObject();
      item.Set("user_id", member.user_id);
      item.Set("username", member.username);
      item.Set("display_name", member.display_name);
      item.Set("role", std::string(hub::ToString(member.role)));
      item.Set("added_at", Time(member.added_at));
      members.Push(std::move(item));
    }
  } else {
    json.Set("opened_by", JsonValue());
  }
  json.Set("members", std::move(members));
  json.Set("progress", ProgressJson(hub::ProgressOf(connection, audit.id, NowMs())));
  return json;
}

JsonValue FindingJson(const hub::AuditFinding& finding) {
  JsonValue json = JsonValue::MakeObject();
  json.Set("id", finding.id);
  json.Set("number", finding.number);
  json.Set("reference", finding.reference);
  json.Set("control_id", finding.control_id);
  json.Set("title", finding.title);
  json.Set("description", finding.description);
  json.Set("risk", finding.risk);
  json.Set("created_by", finding.created_by);
  json.Set("created_at", Time(finding.created_at));
  json.Set("updated_at", Time(finding.updated_at));
  return json;
}

JsonValue AttachmentJson(const hub::AuditAttachment& attachment) {
  JsonValue json = JsonValue::MakeObject();
  json.Set("id", attachment.id);
  json.Set("filename", attachment.filename);
  json.Set("content_type", attachment.content_type);
  json.Set("size", attachment.size);
  json.Set("sha256", attachment.sha256);
  json.Set("uploaded_by", attachment.uploaded_by);
  json.Set("uploaded_by_org_id", attachment.uploaded_by_org_id);
  json.Set("uploaded_at", Time(attachment.uploaded_at));
  return json;
}

JsonValue RecommendationJson(const hub::AuditRecommendation& recommendation, int64_t now_ms) {
  JsonValue json = JsonValue::MakeObject();
  json.Set("id", recommendation.id);
  json.Set("finding_id", recommendation.finding_id);
  json.Set("number", recommendation.number);
  json.Set("reference", recommendation.reference);
  json.Set("text", recommendation.text);
  json.Set("due_at", Time(recommendation.due_at));
  json.Set("status", recommendation.status);
  json.Set("overdue", recommendation.OverdueAt(now_ms));
  json.Set("created_by", recommendation.created_by);
  json.Set("created_at", Time(recommendation.created_at));
  json.Set("updated_at", Time(recommendation.updated_at));
  JsonValue steps = JsonValue::MakeArray();
  for (const auto& step : recommendation.follow_ups) {
    JsonValue item = JsonValue::MakeObject();
    item.Set("id", step.id);
    item.Set("seq", step.seq);
    item.Set("at", Time(step.at));
    item.Set("actor_id", step.actor_id);
    item.Set("actor_org_id", step.actor_org_id);
    item.Set("from", step.status_from);
    item.Set("to", step.status_to);
    item.Set("note", step.note);
    steps.Push(std::move(item));
  }
  json.Set("follow_ups", std::move(steps));
  JsonValue files = JsonValue::MakeArray();
  for (const auto& attachment : recommendation.attachments) files.Push(AttachmentJson(attachment));
  json.Set("attachments", std::move(files));
  return json;
}

// ---- request bodies --------------------------------------------------------------------------

// control_ids or profile (an OSCAL profile document, as an object).
hub::AuditScope ScopeFrom(Fields& fields) {
  hub::AuditScope scope;
  scope.control_ids = fields.StringArray("control_ids", hub::AUDIT_SCOPE_MAX, 200);
  if (const JsonValue* profile = fields.Object("profile")) {
    scope.profile_document = profile->Serialize();
  }
  return scope;
}

std::vector<std::string> MethodsFrom(Fields& fields) {
  return fields.StringArray("methods", 3, 20);
}

int64_t DueAt(Fields& fields) { return fields.Time("due_at"); }

// ---- standards -------------------------------------------------------------------------------

Response ListStandardsHandler(ApiContext& context, Request&, const hub::Principal& principal) {
  auto standards = [&] {
    auto connection = context.database.Acquire();
    return hub::ListStandards(*connection, principal);
  }();
  JsonValue items = JsonValue::MakeArray();
  for (const auto& standard : standards) items.Push(StandardJson(standard));
  return ListResponse(items, "");
}

Response ImportStandardHandler(ApiContext& context, Request& request,
                               const hub::Principal& principal) {
  std::string source(request.Query("source").value_or(""));
  if (source.empty()) {
    if (auto name = request.Query("filename")) source = std::string(*name);
  }
  if (source.empty()) {
    ThrowBadRequest("name the catalog's file or origin with ?source=", "source");
  }
  const std::string document =
      DecompressedBody(std::move(request.body), hub::STANDARD_DOCUMENT_MAX);
  JsonValue json = context.database.Transact([&](store::Connection& connection) {
    return StandardJson(
        Unwrap(hub::ImportStandard(connection, principal, source, document, NowMs())));
  });
  Response response = JsonResponse(201, json);
  response.headers.Set("Location", fmt::format("{}/{}", STANDARDS, json.Find("id")->as_string()));
  return response;
}

Response GetStandardHandler(ApiContext& context, Request& request,
                            const hub::Principal& principal) {
  std::string id(request.PathParam("id"));
  auto connection = context.database.Acquire();
  JsonValue json = StandardJson(Unwrap(hub::GetStandard(*connection, principal, id)));
  JsonValue controls = JsonValue::MakeArray();
  for (const auto& control : hub::StandardControls(*connection, id)) {
    controls.Push(ControlJson(control));
  }
  json.Set("control_list", std::move(controls));
  return JsonResponse(200, json);
}

// ---- audits ----------------------------------------------------------------------------------

Response ListAuditsHandler(ApiContext& context, Request& request, const hub::Principal& principal) {
  hub::AuditFilter filter;
  if (auto status = QueryEnum(request, "status", hub::AuditStatusNames())) {
    filter.status = hub::ParseAuditStatus(*status);
  }
  filter.auditee_org_id = QueryId(request, "auditee_org_id");
  if (auto text = request.Query("q")) filter.title_contains = std::string(*text);
  PageRequest page = ReadPage(request);
  std::optional<std::pair<int64_t, std::string>> before;
  if (!page.cursor.empty()) before = DecodeCursor(page.cursor);
  auto connection = context.database.Acquire();
  hub::AuditPage result = hub::ListAudits(*connection, principal, filter, before, page.limit);
  std::vector<std::string> ids;
  for (const auto& summary : result.items) ids.push_back(summary.id);
  auto progress = hub::ProgressOfAudits(*connection, ids, NowMs());
  JsonValue items = JsonValue::MakeArray();
  for (const auto& summary : result.items) {
    JsonValue json = JsonValue::MakeObject();
    json.Set("id", summary.id);
    json.Set("reference", summary.reference);
    json.Set("title", summary.title);
    json.Set("auditee_org_id", summary.auditee_org_id);
    json.Set("auditee_name", summary.auditee_name);
    json.Set("standard_title", summary.standard_title);
    json.Set("status", std::string(hub::ToString(summary.status)));
    json.Set("tlp", std::string(hub::ToString(summary.tlp)));
    json.Set("my_role",
             summary.role ? JsonValue(std::string(hub::ToString(*summary.role))) : JsonValue());
    json.Set("planned_end", OptionalTime(summary.planned_end));
    json.Set("created_at", Time(summary.created_at));
    json.Set("updated_at", Time(summary.updated_at));
    json.Set("progress", ProgressJson(progress[summary.id]));
    items.Push(std::move(json));
    AuditAuditRead(context, principal, "audit.list", summary.id);
  }
  std::string next;
  if (result.more) next = EncodeCursor(result.items.back().created_at, result.items.back().id);
  return ListResponse(items, next);
}

Response ListRecommendationsHandler(ApiContext& context, Request& request,
                                    const hub::Principal& principal) {
  hub::AuditRecommendationFilter filter;
  if (auto statuses = request.Query("status")) {
    std::string_view text = *statuses;
    for (size_t start = 0; start <= text.size();) {
      size_t comma = text.find(',', start);
      if (comma == std::string_view::npos) comma = text.size();
      std::string status(text.substr(start, comma - start));
      auto names = hub::AuditRecommendationStatusNames();
      if (std::find(names.begin(), names.end(), status) == names.end()) {
        ThrowBadRequest(fmt::format("status {:?} is not one of open, in_progress, implemented, "
                                    "verified, risk_accepted",
                                    status),
                        "status");
      }
      filter.statuses.push_back(std::move(status));
      start = comma + 1;
    }
  }
  if (auto overdue =
          QueryEnum(request, "overdue", std::array<std::string_view, 2>{"true", "false"})) {
    filter.overdue_only = *overdue == "true";
  }
  filter.due_before = QueryTime(request, "due_before");
  filter.auditee_org_id = QueryId(request, "auditee_org_id");
  PageRequest page = ReadPage(request);
  if (!page.cursor.empty()) ThrowBadRequest("this list has one page (limit up to 200)", "cursor");
  const int64_t now = NowMs();
  auto items = [&] {
    auto connection = context.database.Acquire();
    return hub::ListAuditRecommendations(*connection, principal, filter, now, page.limit);
  }();
  JsonValue list = JsonValue::MakeArray();
  std::set<std::string> audits;
  for (const auto& item : items) {
    JsonValue json = JsonValue::MakeObject();
    json.Set("id", item.recommendation.id);
    json.Set("reference", item.recommendation.reference);
    json.Set("text", item.recommendation.text);
    json.Set("due_at", Time(item.recommendation.due_at));
    json.Set("status", item.recommendation.status);
    json.Set("overdue", item.overdue);
    json.Set("updated_at", Time(item.recommendation.updated_at));
    JsonValue finding = JsonValue::MakeObject();
    finding.Set("id", item.finding.id);
    finding.Set("reference", item.finding.reference);
    finding.Set("control_id", item.finding.control_id);
    finding.Set("title", item.finding.title);
    finding.Set("risk", item.finding.risk);
    json.Set("finding", std::move(finding));
    JsonValue audit = JsonValue::MakeObject();
    audit.Set("id", item.audit_id);
    audit.Set("reference", item.audit_reference);
    audit.Set("title", item.audit_title);
    audit.Set("status", std::string(hub::ToString(item.audit_status)));
    audit.Set("auditee_org_id", item.auditee_org_id);
    audit.Set("auditee_name", item.auditee_name);
    json.Set("audit", std::move(audit));
    list.Push(std::move(json));
    audits.insert(item.audit_id);
  }
  for (const auto& audit_id : audits) {
    AuditAuditRead(context, principal, "audit.recommendations", audit_id);
  }
  return ListResponse(list, "");
}

Response OpenAuditHandler(ApiContext& context, Request& request, const hub::Principal& principal) {
  JsonValue body = ParseJsonBody(request);
  Fields fields(body);
  hub::AuditCreate create;
  create.title = fields.String("title", 1, hub::AUDIT_TITLE_MAX);
  create.objectives = fields.OptionalString("objectives", hub::AUDIT_TEXT_MAX).value_or("");
  create.auditee_org_id = fields.String("auditee_org_id", 1, 64);
  create.standard_id = fields.String("standard_id", 1, 64);
  if (auto tlp = fields.OptionalEnum("tlp", hub::AuditTlpNames())) {
    create.tlp = *hub::ParseTlp(*tlp);
  }
  create.planned_start = fields.OptionalTime("planned_start");
  create.planned_end = fields.OptionalTime("planned_end");
  create.scope = ScopeFrom(fields);
  if (const JsonValue* members = fields.Array("members")) {
    size_t index = 0;
    for (const auto& member : members->as_array()) {
      std::string path = fmt::format("members[{}]", index++);
      if (!member.is_object()) ThrowBadRequest(path + " must be an object", path);
      Fields item(member, path);
      std::string user_id = item.String("user_id", 1, 64);
      hub::CaseRole role = *hub::ParseCaseRole(item.Enum("role", hub::CaseRoleNames()));
      item.Finish();
      create.members.emplace_back(std::move(user_id), role);
    }
  }
  fields.Finish();
  JsonValue json = context.database.Transact([&](store::Connection& connection) {
    hub::Audit audit = Unwrap(hub::OpenAudit(connection, principal, create, NowMs()));
    return AuditJson(connection, principal, audit);
  });
  Response response = JsonResponse(201, json);
  response.headers.Set("Location", fmt::format("{}/{}", AUDITS, json.Find("id")->as_string()));
  return response;
}

Response GetAuditHandler(ApiContext& context, Request& request, const hub::Principal& principal) {
  std::string id(request.PathParam("id"));
  JsonValue json = [&] {
    auto connection = context.database.Acquire();
    return AuditJson(*connection, principal, Unwrap(hub::GetAudit(*connection, principal, id)));
  }();
  AuditAuditRead(context, principal, "audit.read", id);
  return JsonResponse(200, json);
}

Response UpdateAuditHandler(ApiContext& context, Request& request,
                            const hub::Principal& principal) {
  JsonValue body = ParseJsonBody(request);
  Fields fields(body);
  hub::AuditUpdate update;
  update.title = fields.OptionalString("title", hub::AUDIT_TITLE_MAX);
  if (update.title && update.title->empty()) ThrowBadRequest("title must not be empty", "title");
  if (fields.Has("objectives")) {
    update.objectives = fields.String("objectives", 0, hub::AUDIT_TEXT_MAX);
  }
  if (auto tlp = fields.OptionalEnum("tlp", hub::AuditTlpNames())) update.tlp = hub::ParseTlp(*tlp);
  // null clears a planned date; absent leaves it.
  for (auto [key, target] : {std::pair{"planned_start", &update.planned_start},
                             std::pair{"planned_end", &update.planned_end}}) {
    const bool present = body.Find(key) != nullptr;
    auto time = fields.OptionalTime(key);
    if (present) *target = time;
  }
  auto version = fields.OptionalInt("version", 1, INT64_MAX);
  fields.Finish();
  std::string id(request.PathParam("id"));
  JsonValue json = context.database.Transact([&](store::Connection& connection) {
    hub::Audit audit =
        Unwrap(hub::UpdateAudit(connection, principal, id, update, version, NowMs()));
    return AuditJson(connection, principal, audit);
  });
  return JsonResponse(200, json);
}

Response SetScopeHandler(ApiContext& context, Request& request, const hub::Principal& principal) {
  JsonValue body = ParseJsonBody(request);
  Fields fields(body);
  hub::AuditScope scope = ScopeFrom(fields);
  fields.Finish();
  std::string id(request.PathParam("id"));
  JsonValue json = context.database.Transact([&](store::Connection& connection) {
    hub::Audit audit = Unwrap(hub::SetAuditScope(connection, principal, id, scope, NowMs()));
    return AuditJson(connection, principal, audit);
  });
  return JsonResponse(200, json);
}

Response TransitionHandler(ApiContext& context, Request& request, const hub::Principal& principal) {
  JsonValue body = ParseJsonBody(request);
  Fields fields(body);
  auto status = *hub::ParseAuditStatus(fields.Enum("status", hub::AuditStatusNames()));
  std::string note = fields.OptionalString("note", hub::AUDIT_TEXT_MAX).value_or("");
  fields.Finish();
  std::string id(request.PathParam("id"));
  JsonValue json = context.database.Transact([&](store::Connection& connection) {
    hub::Audit audit =
        Unwrap(hub::TransitionAudit(connection, principal, id, status, note, NowMs()));
    return AuditJson(connection, principal, audit);
  });
  return JsonResponse(200, json);
}

Response HistoryHandler(ApiContext& context, Request& request, const hub::Principal& principal) {
  std::string id(request.PathParam("id"));
  auto entries = [&] {
    auto connection = context.database.Acquire();
    return Unwrap(hub::AuditHistory(*connection, principal, id));
  }();
  JsonValue items = JsonValue::MakeArray();
  for (const auto& entry : entries) {
    JsonValue json = JsonValue::MakeObject();
    json.Set("id", entry.id);
    json.Set("at", Time(entry.at));
    json.Set("actor_id", entry.actor_id);
    json.Set("kind", entry.kind);
    auto detail = JsonValue::Parse(entry.detail);
    json.Set("detail", detail ? *detail : JsonValue::MakeObject());
    items.Push(std::move(json));
  }
  AuditAuditRead(context, principal, "audit.history", id);
  return ListResponse(items, "");
}

Response SetMemberHandler(ApiContext& context, Request& request, const hub::Principal& principal) {
  JsonValue body = ParseJsonBody(request);
  Fields fields(body);
  std::string user_id = fields.String("user_id", 1, 64);
  hub::CaseRole role = *hub::ParseCaseRole(fields.Enum("role", hub::CaseRoleNames()));
  fields.Finish();
  std::string id(request.PathParam("id"));
  auto [added, json] = context.database.Transact([&](store::Connection& connection) {
    bool added = Unwrap(hub::SetAuditMember(connection, principal, id, user_id, role, NowMs()));
    hub::Audit audit = Unwrap(hub::GetAudit(connection, principal, id));
    return std::pair{added, AuditJson(connection, principal, audit)};
  });
  return JsonResponse(added ? 201 : 200, json);
}

Response RemoveMemberHandler(ApiContext& context, Request& request,
                             const hub::Principal& principal) {
  std::string id(request.PathParam("id"));
  std::string user_id(request.PathParam("user_id"));
  context.database.Transact([&](store::Connection& connection) {
    Unwrap(hub::RemoveAuditMember(connection, principal, id, user_id, NowMs()));
    return 0;
  });
  return Response::NoContent();
}

Response ControlsHandler(ApiContext& context, Request& request, const hub::Principal& principal) {
  std::string id(request.PathParam("id"));
  auto controls = [&] {
    auto connection = context.database.Acquire();
    return Unwrap(hub::AuditControls(*connection, principal, id));
  }();
  JsonValue items = JsonValue::MakeArray();
  for (const auto& scoped : controls) items.Push(ScopedControlJson(scoped));
  AuditAuditRead(context, principal, "audit.controls", id);
  return ListResponse(items, "");
}

Response AssessHandler(ApiContext& context, Request& request, const hub::Principal& principal) {
  JsonValue body = ParseJsonBody(request);
  Fields fields(body);
  hub::ControlAssessment assessment;
  assessment.result = fields.Enum("result", hub::ControlResultNames());
  assessment.methods = MethodsFrom(fields);
  assessment.note = fields.OptionalString("note", hub::AUDIT_TEXT_MAX).value_or("");
  fields.Finish();
  std::string id(request.PathParam("id"));
  std::string control_id(request.PathParam("control_id"));
  JsonValue json = context.database.Transact([&](store::Connection& connection) {
    return ScopedControlJson(
        Unwrap(hub::AssessControl(connection, principal, id, control_id, assessment, NowMs())));
  });
  return JsonResponse(200, json);
}

JsonValue ResultsJson(const hub::AuditResults& results) {
  const int64_t now = NowMs();
  JsonValue json = JsonValue::MakeObject();
  JsonValue findings = JsonValue::MakeArray();
  for (const auto& finding : results.findings) findings.Push(FindingJson(finding));
  JsonValue recommendations = JsonValue::MakeArray();
  for (const auto& recommendation : results.recommendations) {
    recommendations.Push(RecommendationJson(recommendation, now));
  }
  json.Set("findings", std::move(findings));
  json.Set("recommendations", std::move(recommendations));
  return json;
}

Response FindingsHandler(ApiContext& context, Request& request, const hub::Principal& principal) {
  std::string id(request.PathParam("id"));
  auto results = [&] {
    auto connection = context.database.Acquire();
    return Unwrap(hub::AuditFindings(*connection, principal, id));
  }();
  AuditAuditRead(context, principal, "audit.findings", id);
  return JsonResponse(200, ResultsJson(results));
}

hub::FindingWrite FindingFrom(Fields& fields) {
  hub::FindingWrite write;
  write.control_id = fields.OptionalString("control_id", 200);
  write.title = fields.OptionalString("title", hub::AUDIT_TITLE_MAX);
  if (fields.Has("description")) {
    write.description = fields.String("description", 0, hub::AUDIT_TEXT_MAX);
  }
  write.risk = fields.OptionalEnum("risk", hub::FindingRiskNames());
  fields.Finish();
  return write;
}

Response AddFindingHandler(ApiContext& context, Request& request, const hub::Principal& principal) {
  JsonValue body = ParseJsonBody(request);
  Fields fields(body);
  hub::FindingWrite write = FindingFrom(fields);
  std::string id(request.PathParam("id"));
  JsonValue json = context.database.Transact([&](store::Connection& connection) {
    return FindingJson(Unwrap(hub::AddFinding(connection, principal, id, write, NowMs())));
  });
  return JsonResponse(201, json);
}

Response UpdateFindingHandler(ApiContext& context, Request& request,
                              const hub::Principal& principal) {
  JsonValue body = ParseJsonBody(request);
  Fields fields(body);
  hub::FindingWrite write = FindingFrom(fields);
  std::string id(request.PathParam("id"));
  std::string finding_id(request.PathParam("finding_id"));
  JsonValue json = context.database.Transact([&](store::Connection& connection) {
    return FindingJson(
        Unwrap(hub::UpdateFinding(connection, principal, id, finding_id, write, NowMs())));
  });
  return JsonResponse(200, json);
}

Response AddRecommendationHandler(ApiContext& context, Request& request,
                                  const hub::Principal& principal) {
  JsonValue body = ParseJsonBody(request);
  Fields fields(body);
  hub::RecommendationWrite write;
  write.text = fields.String("text", 1, hub::AUDIT_TEXT_MAX);
  write.due_at = DueAt(fields);
  fields.Finish();
  std::string id(request.PathParam("id"));
  std::string finding_id(request.PathParam("finding_id"));
  JsonValue json = context.database.Transact([&](store::Connection& connection) {
    return RecommendationJson(
        Unwrap(hub::AddRecommendation(connection, principal, id, finding_id, write, NowMs())),
        NowMs());
  });
  return JsonResponse(201, json);
}

Response UpdateRecommendationHandler(ApiContext& context, Request& request,
                                     const hub::Principal& principal) {
  JsonValue body = ParseJsonBody(request);
  Fields fields(body);
  hub::RecommendationWrite write;
  write.text = fields.OptionalString("text", hub::AUDIT_TEXT_MAX);
  write.due_at = fields.OptionalTime("due_at");
  fields.Finish();
  std::string id(request.PathParam("id"));
  std::string recommendation_id(request.PathParam("recommendation_id"));
  JsonValue json = context.database.Transact([&](store::Connection& connection) {
    return RecommendationJson(Unwrap(hub::UpdateAuditRecommendation(
                                  connection, principal, id, recommendation_id, write, NowMs())),
                              NowMs());
  });
  return JsonResponse(200, json);
}

Response FollowUpHandler(ApiContext& context, Request& request, const hub::Principal& principal) {
  JsonValue body = ParseJsonBody(request);
  Fields fields(body);
  std::string status = fields.Enum("status", hub::AuditRecommendationStatusNames());
  std::string note = fields.OptionalString("note", hub::AUDIT_TEXT_MAX).value_or("");
  fields.Finish();
  std::string id(request.PathParam("id"));
  std::string recommendation_id(request.PathParam("recommendation_id"));
  JsonValue json = context.database.Transact([&](store::Connection& connection) {
    return RecommendationJson(
        Unwrap(hub::FollowUpRecommendation(connection, principal, id, recommendation_id, status,
                                           note, NowMs())),
        NowMs());
  });
  return JsonResponse(201, json);
}

Response AttachHandler(ApiContext& context, Request& request, const hub::Principal& principal) {
  if (request.body.size() > context.settings.max_attachment_bytes) {
    throw ApiError(
        413, "payload_too_large",
        fmt::format("attachments are limited to {} bytes", context.settings.max_attachment_bytes));
  }
  std::string filename = UploadFilename(request);
  std::string content_type(
      request.headers.Get("content-type").value_or("application/octet-stream"));
  std::string id(request.PathParam("id"));
  std::string recommendation_id(request.PathParam("recommendation_id"));
  hub::AuditAttachment attachment = context.database.Transact([&](store::Connection& connection) {
    return Unwrap(hub::AttachToRecommendation(connection, principal, id, recommendation_id,
                                              filename, content_type, request.body, NowMs()));
  });
  // The same file again answers 200 with the attachment it already is (a retried upload).
  Response response =
      JsonResponse(attachment.already_attached ? 200 : 201, AttachmentJson(attachment));
  response.headers.Set("Location", fmt::format("{}/{}/recommendations/{}/attachments/{}", AUDITS,
                                               id, recommendation_id, attachment.id));
  return response;
}

Response DownloadHandler(ApiContext& context, Request& request, const hub::Principal& principal) {
  std::string id(request.PathParam("id"));
  auto [attachment, content] = [&] {
    auto connection = context.database.Acquire();
    return Unwrap(hub::RecommendationAttachment(*connection, principal, id,
                                                request.PathParam("recommendation_id"),
                                                request.PathParam("attachment_id")));
  }();
  JsonValue detail = JsonValue::MakeObject();
  detail.Set("attachment_id", attachment.id);
  detail.Set("sha256", attachment.sha256);
  AuditAuditRead(context, principal, "audit.attachment.read", id, std::move(detail));
  return FileDownload(std::move(content), attachment.content_type, attachment.filename,
                      attachment.sha256);
}

Response OscalHandler(ApiContext& context, Request& request, const hub::Principal& principal,
                      bool poam) {
  std::string id(request.PathParam("id"));
  auto record = [&] {
    auto connection = context.database.Acquire();
    return Unwrap(hub::ReadAuditRecord(*connection, principal, id));
  }();
  JsonValue document = poam ? hub::PoamJson(record) : hub::AssessmentResultsJson(record);
  JsonValue detail = JsonValue::MakeObject();
  detail.Set("format", poam ? "oscal-poam" : "oscal-assessment-results");
  AuditAuditRead(context, principal, "audit.export", id, std::move(detail));
  std::string filename =
      fmt::format("{}-{}.json", record.audit.reference, poam ? "poam" : "assessment-results");
  return FileDownload(document.Serialize(), "application/json", filename);
}

Response AssessmentResultsHandler(ApiContext& context, Request& request,
                                  const hub::Principal& principal) {
  return OscalHandler(context, request, principal, false);
}

Response PoamHandler(ApiContext& context, Request& request, const hub::Principal& principal) {
  return OscalHandler(context, request, principal, true);
}

Response ReportHandler(ApiContext& context, Request& request, const hub::Principal& principal) {
  auto lang = QueryEnum(request, "lang", std::array<std::string_view, 2>{"en", "ja"});
  const AuditReportLanguage language =
      lang == "ja" ? AuditReportLanguage::kJapanese : AuditReportLanguage::kEnglish;
  std::string id(request.PathParam("id"));
  AuditReportInput input = [&] {
    auto connection = context.database.Acquire();
    AuditReportInput in;
    in.record = Unwrap(hub::ReadAuditRecord(*connection, principal, id));
    const hub::Audit& audit = in.record.audit;
    in.show_team = audit.RoleOf(principal.user_id).has_value() && principal.IsCentreStaff();
    store::Rows version = connection->Query("SELECT version FROM standards WHERE id = $1",
                                            {store::Param{audit.standard_id}});
    if (!version.empty()) in.standard_version = version.rows[0][0].text();
    // Names of the people and organisations the report shows, in one query each.
    std::set<std::string> people{principal.user_id};
    if (in.show_team) {
      for (const auto& member : audit.members) people.insert(member.user_id);
    }
    std::set<std::string> orgs;
    for (const auto& recommendation : in.record.results.recommendations) {
      for (const auto& step : recommendation.follow_ups) orgs.insert(step.actor_org_id);
      for (const auto& file : recommendation.attachments) orgs.insert(file.uploaded_by_org_id);
    }
    in.user_names = ReportUserNames(*connection, people);
    if (!orgs.empty()) {
      std::vector<store::Param> params;
      std::string list;
      for (const auto& org : orgs) {
        params.push_back(store::Param{org});
        list += fmt::format("{}${}", list.empty() ? "" : ", ", params.size());
      }
      for (const auto& row :
           connection
               ->Query(fmt::format("SELECT id, name FROM organizations WHERE id IN ({})", list),
                       params)
               .rows) {
        in.org_names[row[0].text()] = row[1].text();
      }
    }
    auto me = in.user_names.find(principal.user_id);
    in.generated_by = me == in.user_names.end() ? principal.username : me->second;
    in.generated_at = NowMs();
    return in;
  }();
  JsonValue detail = JsonValue::MakeObject();
  detail.Set("lang", language == AuditReportLanguage::kJapanese ? "ja" : "en");
  AuditAuditRead(context, principal, "audit.report", id, std::move(detail));
  std::string filename = fmt::format("{}-report-{}.html", input.record.audit.reference,
                                     language == AuditReportLanguage::kJapanese ? "ja" : "en");
  return FileDownload(RenderAuditReport(input, language), "text/html; charset=utf-8", filename);
}

// ---- schemas ---------------------------------------------------------------------------------

using namespace schema;  // NOLINT: the builders read as the schema they build

void AddSchemas(ApiContext& context) {
  auto add = [&](std::string_view name, const JsonValue& schema) {
    RegisterSchema(context, name, schema.Serialize());
  };
  add("Standard", Object({{"id", Str()},
                          {"title", Str()},
                          {"version", Str()},
                          {"oscal_uuid", Str()},
                          {"oscal_version", Str()},
                          {"published", Nullable("string")},
                          {"source", Str()},
                          {"sha256", Str()},
                          {"controls", Int()},
                          {"imported_by", Str()},
                          {"imported_at", TimeSchema()}},
                         {"id", "title", "version", "controls", "sha256"}, false));
  add("StandardList", ListOf("Standard"));
  // A control as a standard lists it; an audit's control adds its assessment.
  const std::vector<std::pair<std::string, JsonValue>> control_properties = {
      {"control_id", Str()}, {"parent_id", Nullable("string")},
      {"group", Str()},      {"label", Str()},
      {"title", Str()},      {"class", Str()},
      {"statement", Str()},  {"depth", Int()}};
  JsonValue control = Object(control_properties, {"control_id", "title", "depth"}, false);
  JsonValue with_controls = Object({{"control_list", ArrayOf(control)}}, {"control_list"}, false);
  JsonValue all_of = JsonValue::MakeArray();
  all_of.Push(Ref("Standard"));
  all_of.Push(std::move(with_controls));
  JsonValue standard_with_controls = JsonValue::MakeObject();
  standard_with_controls.Set("allOf", std::move(all_of));
  add("StandardWithControls", standard_with_controls);

  const JsonValue role = Enum(hub::CaseRoleNames());
  add("AuditCreate", Object({{"title", Str(hub::AUDIT_TITLE_MAX)},
                             {"objectives", Str(hub::AUDIT_TEXT_MAX)},
                             {"auditee_org_id", Str(64)},
                             {"standard_id", Str(64)},
                             {"tlp", Enum(hub::AuditTlpNames())},
                             {"planned_start", TimeSchema()},
                             {"planned_end", TimeSchema()},
                             {"control_ids", ArrayOf(Str(200))},
                             {"profile", Object({}, {}, false)},
                             {"members", ArrayOf(Object({{"user_id", Str(64)}, {"role", role}},
                                                        {"user_id", "role"}, true))}},
                            {"title", "auditee_org_id", "standard_id"}, true));
  add("AuditUpdate", Object({{"title", Str(hub::AUDIT_TITLE_MAX)},
                             {"objectives", Str(hub::AUDIT_TEXT_MAX)},
                             {"tlp", Enum(hub::AuditTlpNames())},
                             {"planned_start", Nullable("string")},
                             {"planned_end", Nullable("string")},
                             {"version", Int()}},
                            {}, true));
  add("AuditScope",
      Object({{"control_ids", ArrayOf(Str(200))}, {"profile", Object({}, {}, false)}}, {}, true));
  add("AuditTransition",
      Object({{"status", Enum(hub::AuditStatusNames())}, {"note", Str(hub::AUDIT_TEXT_MAX)}},
             {"status"}, true));
  add("AuditMemberSet", Object({{"user_id", Str(64)}, {"role", role}}, {"user_id", "role"}, true));
  JsonValue progress = Object({{"controls", Int()},
                               {"assessed", Int()},
                               {"satisfied", Int()},
                               {"partially_satisfied", Int()},
                               {"not_satisfied", Int()},
                               {"not_applicable", Int()},
                               {"findings", Int()},
                               {"recommendations", Int()},
                               {"recommendations_open", Int()},
                               {"recommendations_overdue", Int()}},
                              {"controls", "assessed"}, false);
  add("Audit", Object({{"id", Str()},
                       {"reference", Str()},
                       {"title", Str()},
                       {"objectives", Str()},
                       {"auditee_org_id", Str()},
                       {"auditee_name", Str()},
                       {"standard_id", Str()},
                       {"standard_title", Str()},
                       {"status", Enum(hub::AuditStatusNames())},
                       {"tlp", Enum(hub::AuditTlpNames())},
                       {"planned_start", Nullable("string")},
                       {"planned_end", Nullable("string")},
                       {"conclusion", Nullable("string")},
                       {"issued_at", Nullable("string")},
                       {"closed_at", Nullable("string")},
                       {"created_at", TimeSchema()},
                       {"updated_at", TimeSchema()},
                       {"version", Int()},
                       {"my_role", Nullable("string")},
                       {"opened_by", Nullable("string")},
                       {"members", ArrayOf(Object({{"user_id", Str()},
                                                   {"username", Str()},
                                                   {"display_name", Str()},
                                                   {"role", role},
                                                   {"added_at", TimeSchema()}},
                                                  {"user_id", "role"}, false))},
                       {"progress", progress}},
                      {"id", "reference", "title", "status", "auditee_org_id", "standard_id",
                       "members", "progress", "version"},
                      false));
  add("AuditSummary", Object({{"id", Str()},
                              {"reference", Str()},
                              {"title", Str()},
                              {"auditee_org_id", Str()},
                              {"auditee_name", Str()},
                              {"standard_title", Str()},
                              {"status", Enum(hub::AuditStatusNames())},
                              {"tlp", Enum(hub::AuditTlpNames())},
                              {"my_role", Nullable("string")},
                              {"planned_end", Nullable("string")},
                              {"created_at", TimeSchema()},
                              {"updated_at", TimeSchema()},
                              {"progress", progress}},
                             {"id", "reference", "title", "status", "progress"}, false));
  add("AuditList", ListOf("AuditSummary"));
  add("AuditHistory", Object({{"items", ArrayOf(Object({{"id", Str()},
                                                        {"at", TimeSchema()},
                                                        {"actor_id", Str()},
                                                        {"kind", Str()},
                                                        {"detail", Object({}, {}, false)}},
                                                       {"id", "at", "actor_id", "kind"}, false))},
                              {"next_cursor", Nullable("string")}},
                             {"items"}, false));
  auto assessed_properties = control_properties;
  assessed_properties.insert(assessed_properties.end(),
                             {{"result", Enum(hub::ControlResultNames())},
                              {"methods", ArrayOf(Enum(hub::AssessmentMethodNames()))},
                              {"note", Str()},
                              {"assessed_by", Nullable("string")},
                              {"assessed_at", Nullable("string")}});
  add("AuditControl",
      Object(std::move(assessed_properties), {"control_id", "result", "methods"}, false));
  add("AuditControlList", ListOf("AuditControl"));
  add("AuditControlAssessment", Object({{"result", Enum(hub::ControlResultNames())},
                                        {"methods", ArrayOf(Enum(hub::AssessmentMethodNames()))},
                                        {"note", Str(hub::AUDIT_TEXT_MAX)}},
                                       {"result"}, true));
  add("AuditFindingWrite", Object({{"control_id", Str(200)},
                                   {"title", Str(hub::AUDIT_TITLE_MAX)},
                                   {"description", Str(hub::AUDIT_TEXT_MAX)},
                                   {"risk", Enum(hub::FindingRiskNames())}},
                                  {}, true));
  add("AuditFinding", Object({{"id", Str()},
                              {"number", Int()},
                              {"reference", Str()},
                              {"control_id", Str()},
                              {"title", Str()},
                              {"description", Str()},
                              {"risk", Enum(hub::FindingRiskNames())},
                              {"created_by", Str()},
                              {"created_at", TimeSchema()},
                              {"updated_at", TimeSchema()}},
                             {"id", "reference", "control_id", "title", "risk"}, false));
  add("AuditRecommendationCreate",
      Object({{"text", Str(hub::AUDIT_TEXT_MAX)}, {"due_at", TimeSchema()}}, {"text", "due_at"},
             true));
  add("AuditRecommendationUpdate",
      Object({{"text", Str(hub::AUDIT_TEXT_MAX)}, {"due_at", TimeSchema()}}, {}, true));
  add("AuditFollowUp", Object({{"status", Enum(hub::AuditRecommendationStatusNames())},
                               {"note", Str(hub::AUDIT_TEXT_MAX)}},
                              {"status"}, true));
  add("AuditRecommendation",
      Object({{"id", Str()},
              {"finding_id", Str()},
              {"number", Int()},
              {"reference", Str()},
              {"text", Str()},
              {"due_at", TimeSchema()},
              {"status", Enum(hub::AuditRecommendationStatusNames())},
              {"overdue", Bool()},
              {"created_by", Str()},
              {"created_at", TimeSchema()},
              {"updated_at", TimeSchema()},
              {"attachments", ArrayOf(Ref("AuditAttachment"))},
              {"follow_ups", ArrayOf(Object({{"id", Str()},
                                             {"seq", Int()},
                                             {"at", TimeSchema()},
                                             {"actor_id", Str()},
                                             {"actor_org_id", Str()},
                                             {"from", Str()},
                                             {"to", Str()},
                                             {"note", Str()}},
                                            {"seq", "at", "from", "to"}, false))}},
             {"id", "reference", "text", "due_at", "status", "overdue", "follow_ups"}, false));
  add("AuditAttachment", Object({{"id", Str()},
                                 {"filename", Str()},
                                 {"content_type", Str()},
                                 {"size", Int()},
                                 {"sha256", Str()},
                                 {"uploaded_by", Str()},
                                 {"uploaded_by_org_id", Str()},
                                 {"uploaded_at", TimeSchema()}},
                                {"id", "filename", "size", "sha256"}, false));
  add("AuditRecommendationSummary",
      Object({{"id", Str()},
              {"reference", Str()},
              {"text", Str()},
              {"due_at", TimeSchema()},
              {"status", Enum(hub::AuditRecommendationStatusNames())},
              {"overdue", Bool()},
              {"updated_at", TimeSchema()},
              {"finding", Object({{"id", Str()},
                                  {"reference", Str()},
                                  {"control_id", Str()},
                                  {"title", Str()},
                                  {"risk", Enum(hub::FindingRiskNames())}},
                                 {"id", "reference", "control_id"}, false)},
              {"audit", Object({{"id", Str()},
                                {"reference", Str()},
                                {"title", Str()},
                                {"status", Enum(hub::AuditStatusNames())},
                                {"auditee_org_id", Str()},
                                {"auditee_name", Str()}},
                               {"id", "reference", "auditee_org_id"}, false)}},
             {"id", "reference", "due_at", "status", "overdue", "finding", "audit"}, false));
  add("AuditRecommendationList", ListOf("AuditRecommendationSummary"));
  add("AuditResults", Object({{"findings", ArrayOf(Ref("AuditFinding"))},
                              {"recommendations", ArrayOf(Ref("AuditRecommendation"))}},
                             {"findings", "recommendations"}, false));
}

RouteDoc Doc(std::string summary, std::string request_schema, std::string response_schema,
             std::vector<std::string> query = {}) {
  return DocumentRoute(TAG, std::move(summary), std::move(request_schema),
                       std::move(response_schema), std::move(query));
}

}  // namespace

void RegisterAgencyAuditRoutes(Router& router, ApiContext& context) {
  AddSchemas(context);
  auto bind = [&context](ContextHandler handler) { return BindAuthed(context, handler); };
  const std::string standards(STANDARDS);
  const std::string base(AUDITS);
  const std::string one = base + "/{id}";
  router.Add("GET", standards, bind(ListStandardsHandler),
             Doc("The imported standards (OSCAL catalogs), newest first", "", "StandardList"));
  router.Add("POST", standards, bind(ImportStandardHandler),
             Doc("Import an OSCAL catalog (the raw JSON body, plain, gzip or zstd; ?source= names "
                 "it); centre_admin, auditor. 409 when it is imported already",
                 "", "Standard", {"source"}));
  router.Add(
      "GET", standards + "/{id}", bind(GetStandardHandler),
      Doc("One standard with its controls in the catalog's order", "", "StandardWithControls"));
  router.Add("GET", base, bind(ListAuditsHandler),
             Doc("The audits the caller may read (its team's; the audited organisation's "
                 "administrators once issued), newest first",
                 "", "AuditList", {"status", "auditee_org_id", "q", "limit", "cursor"}));
  router.Add("GET", base + "/recommendations", bind(ListRecommendationsHandler),
             Doc("Recommendations of the issued and closed audits the caller may read, soonest "
                 "due first: what an organisation owes, what the team awaits",
                 "", "AuditRecommendationList",
                 {"status", "overdue", "due_before", "auditee_org_id", "limit"}));
  router.Add("POST", base, bind(OpenAuditHandler),
             Doc("Open an audit of an organisation against a standard (centre_admin, auditor); "
                 "scope: control_ids, an OSCAL profile, or every control",
                 "AuditCreate", "Audit"));
  router.Add("GET", one, bind(GetAuditHandler),
             Doc("One audit with its team and progress", "", "Audit"));
  router.Add("PATCH", one, bind(UpdateAuditHandler),
             Doc("Change title, objectives, marking or planned dates (leads, until issued)",
                 "AuditUpdate", "Audit"));
  router.Add("PUT", one + "/scope", bind(SetScopeHandler),
             Doc("Set the controls in scope (leads, in planning)", "AuditScope", "Audit"));
  router.Add("POST", one + "/transitions", bind(TransitionHandler),
             Doc("fieldwork, reporting, issued (every control assessed, every finding with a "
                 "recommendation), closed (every recommendation verified or accepted; note: the "
                 "conclusion), cancelled (note: the reason)",
                 "AuditTransition", "Audit"));
  router.Add(
      "GET", one + "/history", bind(HistoryHandler),
      Doc("The team's record of the audit, oldest first (the team only)", "", "AuditHistory"));
  router.Add(
      "POST", one + "/members", bind(SetMemberHandler),
      Doc("Add a member to the team or change a role (201 when added)", "AuditMemberSet", "Audit"));
  router.Add("DELETE", one + "/members/{user_id}", bind(RemoveMemberHandler),
             Doc("Remove a member, or leave the team", "", ""));
  router.Add("GET", one + "/controls", bind(ControlsHandler),
             Doc("The controls in scope with the standard's text and their assessment", "",
                 "AuditControlList"));
  router.Add("PUT", one + "/controls/{control_id}", bind(AssessHandler),
             Doc("Assess a control in scope (fieldwork, reporting)", "AuditControlAssessment",
                 "AuditControl"));
  router.Add("GET", one + "/findings", bind(FindingsHandler),
             Doc("The findings and recommendations, with their follow-up", "", "AuditResults"));
  router.Add(
      "POST", one + "/findings", bind(AddFindingHandler),
      Doc("Write a finding against a control in scope", "AuditFindingWrite", "AuditFinding"));
  router.Add("PATCH", one + "/findings/{finding_id}", bind(UpdateFindingHandler),
             Doc("Change a finding (fieldwork, reporting)", "AuditFindingWrite", "AuditFinding"));
  router.Add("POST", one + "/findings/{finding_id}/recommendations", bind(AddRecommendationHandler),
             Doc("Recommend what the organisation should do, and by when",
                 "AuditRecommendationCreate", "AuditRecommendation"));
  router.Add("PATCH", one + "/recommendations/{recommendation_id}",
             bind(UpdateRecommendationHandler),
             Doc("Change a recommendation; once issued, a lead may only move its due date",
                 "AuditRecommendationUpdate", "AuditRecommendation"));
  router.Add("POST", one + "/recommendations/{recommendation_id}/follow-ups", bind(FollowUpHandler),
             Doc("Follow up a recommendation of an issued audit: in_progress, implemented (the "
                 "organisation), verified or back to in_progress (the team), risk_accepted "
                 "(leads)",
                 "AuditFollowUp", "AuditRecommendation"));
  router.Add("PUT", one + "/recommendations/{recommendation_id}/attachments", bind(AttachHandler),
             Doc("Attach a file to a recommendation (the raw body; ?filename= or "
                 "Content-Disposition): the organisation's proof while it is followed up, the "
                 "team's working paper; 413 above the size limit",
                 "", "AuditAttachment", {"filename"}));
  router.Add("GET", one + "/recommendations/{recommendation_id}/attachments/{attachment_id}",
             bind(DownloadHandler), Doc("Download a recommendation's file", "", ""));
  router.Add("GET", one + "/report", bind(ReportHandler),
             Doc("The audit report: one self-contained HTML page (lang=en or ja) with the audit, "
                 "a summary, every finding with its recommendations and follow-up, and every "
                 "control's result, headed by the audit's marking",
                 "", "", {"lang"}));
  router.Add("GET", one + "/oscal/assessment-results", bind(AssessmentResultsHandler),
             Doc("The audit as OSCAL assessment results (a JSON download)", "", ""));
  router.Add("GET", one + "/oscal/poam", bind(PoamHandler),
             Doc("The recommendations as an OSCAL plan of action and milestones (a JSON download)",
                 "", ""));
}

}  // namespace yagura::http

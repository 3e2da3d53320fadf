// Investigation routes under /api/v1/cases: cases, members, links, evidence with its chain of
// custody, and the timeline (hub/cases.hpp, hub/evidence.hpp, hub/case_timeline.hpp).
//
// Handlers translate only: they read the body with Fields, call the hub inside one
// Database::Transact (the hub asks the policy and appends the audit entry of every write), and
// write JSON. Every read of a case or of one of its parts is audited: a case is TLP:RED to the
// audit log whatever its own marking, because who looked into which investigation is itself
// need-to-know. A case the caller is not a member of answers 404, as one that does not exist.
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "attack/technique_id.hpp"
#include "core/json_value.hpp"
#include "core/time.hpp"
#include "http/api.hpp"
#include "http/case_report.hpp"
#include "http/export_files.hpp"
#include "http/hub_errors.hpp"
#include "http/jobs.hpp"
#include "http/json_forms.hpp"
#include "http/report_page.hpp"
#include "http/schema_builders.hpp"
#include "hub/case_timeline.hpp"
#include "hub/cases.hpp"
#include "hub/evidence.hpp"
#include "scan/scanner.hpp"

namespace yagura::http {
namespace {

constexpr std::string_view TAG = "cases";
constexpr std::string_view BASE = "/api/v1/cases";
// The most bytes an import's body may decompress to.
constexpr size_t IMPORT_MAX_BYTES = 256 * 1024 * 1024;
// The most entries one timeline export holds (written, imported and linked together).
constexpr size_t TIMELINE_EXPORT_MAX = 2'100'000;

std::string CasePath(std::string_view id) { return fmt::format("{}/{}", BASE, id); }

// Every read of a case's data, with what was read.
void AuditCaseRead(ApiContext& context, const hub::Principal& principal, std::string action,
                   std::string_view case_id, JsonValue detail = JsonValue::MakeObject()) {
  hub::AuditEntry entry =
      hub::EntryFor(principal, std::move(action), "case", std::string(case_id), hub::Tlp::kRed);
  entry.detail = detail.Serialize();
  context.audit.Record(std::move(entry));
}

// ---- JSON forms ------------------------------------------------------------------------------

JsonValue MemberJson(const hub::CaseMember& member) {
  JsonValue json = JsonValue::MakeObject();
  json.Set("user_id", member.user_id);
  json.Set("username", member.username);
  json.Set("display_name", member.display_name);
  json.Set("role", std::string(hub::ToString(member.role)));
  json.Set("added_by", member.added_by);
  json.Set("added_at", Time(member.added_at));
  return json;
}

JsonValue LinkedJson(const hub::LinkedObject& object) {
  JsonValue json = JsonValue::MakeObject();
  json.Set("type", object.link.type);
  json.Set("id", object.link.object_id);
  json.Set("title", object.title);
  json.Set("reference", object.reference.empty() ? JsonValue() : JsonValue(object.reference));
  json.Set("status", object.status);
  json.Set("level", object.level);
  json.Set("org_id", object.org_id);
  json.Set("at", Time(object.at));
  json.Set("host", object.host.empty() ? JsonValue() : JsonValue(object.host));
  json.Set("techniques", Strings(object.techniques));
  json.Set("note", object.link.note);
  json.Set("added_by", object.link.added_by);
  json.Set("added_at", Time(object.link.added_at));
  return json;
}

JsonValue CaseJson(store::Connection& connection, const hub::Principal& principal,
                   const hub::Case& kase) {
  JsonValue json = JsonValue::MakeObject();
  json.Set("id", kase.id);
  json.Set("reference", kase.reference);
  json.Set("title", kase.title);
  json.Set("summary", kase.summary);
  json.Set("status", std::string(hub::ToString(kase.status)));
  json.Set("tlp", std::string(hub::ToString(kase.tlp)));
  json.Set("opened_by", kase.opened_by);
  json.Set("conclusion", OptionalText(kase.conclusion));
  json.Set("created_at", Time(kase.created_at));
  json.Set("updated_at", Time(kase.updated_at));
  json.Set("closed_at", OptionalTime(kase.closed_at));
  json.Set("version", kase.version);
  auto role = kase.RoleOf(principal.user_id);
  json.Set("my_role", role ? JsonValue(std::string(hub::ToString(*role))) : JsonValue());
  JsonValue members = JsonValue::MakeArray();
  for (const auto& member : kase.members) members.Push(MemberJson(member));
  json.Set("members", std::move(members));
  hub::CaseLinks links = hub::CaseLinksFor(connection, principal, kase);
  JsonValue linked = JsonValue::MakeArray();
  for (const auto& object : links.readable) linked.Push(LinkedJson(object));
  json.Set("links", std::move(linked));
  // Links to what this member may not read are counted, never named.
  json.Set("hidden_links", links.hidden);
  JsonValue counts = JsonValue::MakeObject();
  counts.Set(
      "evidence",
      connection.Query("SELECT COUNT(*) FROM evidence WHERE case_id = $1", {store::Param{kase.id}})
          .rows[0][0]
          .as_int());
  counts.Set("timeline_entries", connection
                                     .Query("SELECT COUNT(*) FROM case_timeline WHERE case_id = $1",
                                            {store::Param{kase.id}})
                                     .rows[0][0]
                                     .as_int());
  json.Set("counts", std::move(counts));
  return json;
}

JsonValue EvidenceJson(const hub::EvidenceItem& item) {
  const hub::EvidenceRegistration& r = item.registration;
  JsonValue json = JsonValue::MakeObject();
  json.Set("id", item.id);
  json.Set("case_id", item.case_id);
  json.Set("number", item.number);
  json.Set("reference", item.reference);
  json.Set("label", r.label);
  json.Set("description", r.description);
  json.Set("kind", r.kind);
  json.Set("source_org_id", OptionalText(r.source_org_id));
  json.Set("source_host", OptionalText(r.source_host));
  json.Set("acquired_at", Time(r.acquired_at));
  json.Set("acquired_by", r.acquired_by);
  json.Set("acquisition_method", OptionalText(r.acquisition_method));
  json.Set("sha256", OptionalText(r.sha256));
  json.Set("sha1", OptionalText(r.sha1));
  json.Set("md5", OptionalText(r.md5));
  json.Set("size", r.size ? JsonValue(*r.size) : JsonValue());
  json.Set("seal", OptionalText(r.seal));
  json.Set("status", item.status);
  json.Set("holder", item.holder);
  json.Set("location", OptionalText(item.location));
  json.Set("has_content", item.has_content);
  json.Set("filename", OptionalText(item.filename));
  json.Set("content_type", OptionalText(item.content_type));
  json.Set("custody_events", item.custody_events);
  json.Set("created_by", item.created_by);
  json.Set("created_at", Time(item.created_at));
  json.Set("updated_at", Time(item.updated_at));
  return json;
}

JsonValue CustodyJson(const hub::CustodyEvent& event) {
  JsonValue json = JsonValue::MakeObject();
  json.Set("id", event.id);
  json.Set("seq", event.seq);
  json.Set("action", event.action);
  json.Set("at", Time(event.at));
  json.Set("recorded_at", Time(event.recorded_at));
  json.Set("recorded_by", event.recorded_by);
  json.Set("holder_from", event.holder_from);
  json.Set("holder_to", event.holder_to);
  json.Set("location", OptionalText(event.location));
  json.Set("purpose", event.purpose);
  json.Set("seal", OptionalText(event.seal));
  json.Set("sha256_observed", OptionalText(event.sha256_observed));
  json.Set("outcome", event.outcome.empty() ? JsonValue() : JsonValue(event.outcome));
  auto detail = JsonValue::Parse(event.detail);
  json.Set("detail", detail ? *detail : JsonValue::MakeObject());
  json.Set("prev_hash", event.prev_hash);
  json.Set("hash", event.hash);
  return json;
}

JsonValue EntryJson(const hub::TimelineEntry& entry, bool with_data) {
  JsonValue json = JsonValue::MakeObject();
  json.Set("id", entry.id);
  json.Set("at", Time(entry.at));
  json.Set("kind", entry.kind);
  json.Set("title", entry.title);
  json.Set("detail", entry.detail);
  json.Set("host", entry.host);
  json.Set("account", entry.account);
  json.Set("source", entry.source);
  json.Set("level", entry.level);
  json.Set("techniques", Strings(entry.techniques));
  json.Set("origin", entry.origin);
  json.Set("import_id", entry.import_id.empty() ? JsonValue() : JsonValue(entry.import_id));
  json.Set("created_by", entry.created_by.empty() ? JsonValue() : JsonValue(entry.created_by));
  json.Set("created_at", Time(entry.created_at));
  if (with_data) {
    auto data = JsonValue::Parse(entry.data);
    json.Set("data", entry.data.empty() || !data ? JsonValue() : *data);
  }
  return json;
}

JsonValue ImportJson(const hub::TimelineImport& import) {
  JsonValue json = JsonValue::MakeObject();
  json.Set("id", import.id);
  json.Set("source", import.source_name);
  json.Set("format", import.format);
  json.Set("entries", import.entries);
  json.Set("first_at", Time(import.first_at));
  json.Set("last_at", Time(import.last_at));
  json.Set("sha256", import.sha256);
  json.Set("imported_by", import.imported_by);
  json.Set("imported_at", Time(import.imported_at));
  return json;
}

}  // namespace

// The import's answer: the import, and what was passed over for want of a time.
JsonValue TimelineImportResultJson(const hub::TimelineImport& import) {
  JsonValue json = ImportJson(import);
  json.Set("without_time", import.without_time);
  JsonValue lines = JsonValue::MakeArray();
  for (int64_t line : import.without_time_lines) lines.Push(line);
  json.Set("without_time_lines", std::move(lines));
  return json;
}

namespace {

// ---- request bodies and queries --------------------------------------------------------------

std::optional<hub::Tlp> CaseTlp(Fields& fields) {
  auto text = fields.OptionalEnum("tlp", hub::CaseTlpNames());
  if (!text) return std::nullopt;
  return hub::ParseTlp(*text);
}

hub::CaseRole Role(Fields& fields) {
  return *hub::ParseCaseRole(fields.Enum("role", hub::CaseRoleNames()));
}

// Timeline cursors: "<at>.<id>", where a linked entry's id is "alert:...", "incident:..." or
// "evidence:..." (the shared cursor format takes hexadecimal ids only).
std::string EncodeTimelineCursor(int64_t at, std::string_view id) {
  return fmt::format("{}.{}", at, id);
}

std::pair<int64_t, std::string> DecodeTimelineCursor(std::string_view cursor) {
  size_t dot = cursor.find('.');
  int64_t at = 0;
  bool valid = dot != std::string_view::npos && dot > 0 && cursor.size() > dot + 1 &&
               cursor.size() - dot - 1 <= 80;
  if (valid) {
    auto [end, ec] = std::from_chars(cursor.data(), cursor.data() + dot, at);
    valid = ec == std::errc() && end == cursor.data() + dot;
  }
  std::string_view id = valid ? cursor.substr(dot + 1) : std::string_view();
  for (std::string_view prefix : {"alert:", "incident:", "evidence:"}) {
    if (id.substr(0, prefix.size()) == prefix) {
      id.remove_prefix(prefix.size());
      break;
    }
  }
  if (valid) {
    valid = !id.empty();
    for (char c : id) {
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || c == '-')) valid = false;
    }
  }
  if (!valid) ThrowBadRequest("cursor is not one this server issued", "cursor");
  return {at, std::string(cursor.substr(dot + 1))};
}

hub::TimelineFilter TimelineQuery(const Request& request) {
  hub::TimelineFilter filter;
  filter.from = QueryTime(request, "from");
  filter.to = QueryTime(request, "to");
  if (auto kinds = request.Query("kind")) {
    std::string_view text = *kinds;
    for (size_t start = 0; start <= text.size();) {
      size_t comma = text.find(',', start);
      if (comma == std::string_view::npos) comma = text.size();
      std::string kind(text.substr(start, comma - start));
      auto names = hub::TimelineKindNames();
      if (std::find(names.begin(), names.end(), kind) == names.end()) {
        ThrowBadRequest(fmt::format("kind {:?} is not a timeline kind (event, alert, incident, "
                                    "evidence, action, finding, note)",
                                    kind),
                        "kind");
      }
      filter.kinds.push_back(std::move(kind));
      start = comma + 1;
    }
  }
  if (auto host = request.Query("host")) {
    if (host->empty() || host->size() > 500) ThrowBadRequest("host is 1 to 500 characters", "host");
    filter.host = std::string(*host);
  }
  if (auto technique = request.Query("technique")) {
    auto id = attack::NormalizeTechniqueId(*technique);
    if (!id) ThrowBadRequest("technique is an ATT&CK technique id (T1059, T1003.001)", "technique");
    filter.technique = *id;
  }
  if (auto text = request.Query("q")) {
    if (text->empty() || text->size() > 200) ThrowBadRequest("q is 1 to 200 characters", "q");
    filter.text = std::string(*text);
  }
  return filter;
}

// ---- cases -----------------------------------------------------------------------------------

Response ListCasesHandler(ApiContext& context, Request& request, const hub::Principal& principal) {
  hub::CaseFilter filter;
  if (auto status = QueryEnum(request, "status", hub::CaseStatusNames())) {
    filter.status = hub::ParseCaseStatus(*status);
  }
  if (auto text = request.Query("q")) filter.title_contains = std::string(*text);
  filter.incident_id = QueryId(request, "incident_id");
  PageRequest page = ReadPage(request);
  std::optional<std::pair<int64_t, std::string>> before;
  if (!page.cursor.empty()) before = DecodeCursor(page.cursor);
  hub::CasePage result = [&] {
    auto connection = context.database.Acquire();
    return hub::ListCases(*connection, principal, filter, before, page.limit);
  }();
  JsonValue items = JsonValue::MakeArray();
  for (const auto& summary : result.items) {
    JsonValue json = JsonValue::MakeObject();
    json.Set("id", summary.id);
    json.Set("reference", summary.reference);
    json.Set("title", summary.title);
    json.Set("status", std::string(hub::ToString(summary.status)));
    json.Set("tlp", std::string(hub::ToString(summary.tlp)));
    json.Set("my_role", std::string(hub::ToString(summary.role)));
    json.Set("created_at", Time(summary.created_at));
    json.Set("updated_at", Time(summary.updated_at));
    items.Push(std::move(json));
    // Each case listed is a read of it.
    AuditCaseRead(context, principal, "case.list", summary.id);
  }
  std::string next;
  if (result.more) next = EncodeCursor(result.items.back().created_at, result.items.back().id);
  return ListResponse(items, next);
}

Response CandidatesHandler(ApiContext& context, Request&, const hub::Principal& principal) {
  if (!principal.IsCentreStaff()) throw ApiError(403, "forbidden", "the centre's staff only");
  auto candidates = [&] {
    auto connection = context.database.Acquire();
    return hub::CaseCandidates(*connection, principal);
  }();
  JsonValue items = JsonValue::MakeArray();
  for (const auto& candidate : candidates) {
    JsonValue json = JsonValue::MakeObject();
    json.Set("user_id", candidate.user_id);
    json.Set("username", candidate.username);
    json.Set("display_name", candidate.display_name);
    JsonValue roles = JsonValue::MakeArray();
    for (hub::Role role : candidate.roles) roles.Push(std::string(hub::ToString(role)));
    json.Set("roles", std::move(roles));
    items.Push(std::move(json));
  }
  return ListResponse(items, "");
}

Response OpenCaseHandler(ApiContext& context, Request& request, const hub::Principal& principal) {
  JsonValue body = ParseJsonBody(request);
  Fields fields(body);
  hub::CaseCreate create;
  create.title = fields.String("title", 1, hub::CASE_TITLE_MAX);
  create.summary = fields.OptionalString("summary", hub::CASE_TEXT_MAX).value_or("");
  create.tlp = CaseTlp(fields).value_or(hub::Tlp::kRed);
  if (const JsonValue* members = fields.Array("members")) {
    if (members->as_array().size() > hub::CASE_MEMBERS_MAX) {
      ThrowBadRequest(fmt::format("a case has at most {} members", hub::CASE_MEMBERS_MAX),
                      "members");
    }
    size_t index = 0;
    for (const auto& member : members->as_array()) {
      std::string path = fmt::format("members[{}]", index++);
      if (!member.is_object()) ThrowBadRequest(path + " must be an object", path);
      Fields item(member, path);
      std::string user_id = item.String("user_id", 1, 64);
      hub::CaseRole role = Role(item);
      item.Finish();
      create.members.emplace_back(std::move(user_id), role);
    }
  }
  create.incident_ids = fields.StringArray("incident_ids", 100, 64);
  fields.Finish();
  JsonValue json = context.database.Transact([&](store::Connection& connection) {
    hub::Case kase = Unwrap(hub::OpenCase(connection, principal, create, NowMs()));
    return CaseJson(connection, principal, kase);
  });
  Response response = JsonResponse(201, json);
  response.headers.Set("Location", CasePath(json.Find("id")->as_string()));
  return response;
}

Response GetCaseHandler(ApiContext& context, Request& request, const hub::Principal& principal) {
  std::string id(request.PathParam("id"));
  JsonValue json = [&] {
    auto connection = context.database.Acquire();
    hub::Case kase = Unwrap(hub::GetCase(*connection, principal, id));
    return CaseJson(*connection, principal, kase);
  }();
  AuditCaseRead(context, principal, "case.read", id);
  return JsonResponse(200, json);
}

Response UpdateCaseHandler(ApiContext& context, Request& request, const hub::Principal& principal) {
  JsonValue body = ParseJsonBody(request);
  Fields fields(body);
  hub::CaseUpdate update;
  update.title = fields.OptionalString("title", hub::CASE_TITLE_MAX);
  if (update.title && update.title->empty()) ThrowBadRequest("title must not be empty", "title");
  if (fields.Has("summary")) update.summary = fields.String("summary", 0, hub::CASE_TEXT_MAX);
  update.tlp = CaseTlp(fields);
  auto version = fields.OptionalInt("version", 1, INT64_MAX);
  fields.Finish();
  std::string id(request.PathParam("id"));
  JsonValue json = context.database.Transact([&](store::Connection& connection) {
    hub::Case kase = Unwrap(hub::UpdateCase(connection, principal, id, update, version, NowMs()));
    return CaseJson(connection, principal, kase);
  });
  return JsonResponse(200, json);
}

Response TransitionHandler(ApiContext& context, Request& request, const hub::Principal& principal) {
  JsonValue body = ParseJsonBody(request);
  Fields fields(body);
  auto status = *hub::ParseCaseStatus(fields.Enum("status", hub::CaseStatusNames()));
  std::string note = fields.OptionalString("note", hub::CASE_TEXT_MAX).value_or("");
  fields.Finish();
  std::string id(request.PathParam("id"));
  JsonValue json = context.database.Transact([&](store::Connection& connection) {
    hub::Case kase = Unwrap(hub::TransitionCase(connection, principal, id, status, note, NowMs()));
    return CaseJson(connection, principal, kase);
  });
  return JsonResponse(200, json);
}

Response HistoryHandler(ApiContext& context, Request& request, const hub::Principal& principal) {
  std::string id(request.PathParam("id"));
  auto entries = [&] {
    auto connection = context.database.Acquire();
    return Unwrap(hub::CaseHistory(*connection, principal, id));
  }();
  AuditCaseRead(context, principal, "case.history.read", id);
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
  return ListResponse(items, "");
}

Response SetMemberHandler(ApiContext& context, Request& request, const hub::Principal& principal) {
  JsonValue body = ParseJsonBody(request);
  Fields fields(body);
  std::string user_id = fields.String("user_id", 1, 64);
  hub::CaseRole role = Role(fields);
  fields.Finish();
  std::string id(request.PathParam("id"));
  auto [added, json] = context.database.Transact([&](store::Connection& connection) {
    bool is_new = Unwrap(hub::SetCaseMember(connection, principal, id, user_id, role, NowMs()));
    hub::Case kase = Unwrap(hub::GetCase(connection, principal, id));
    JsonValue members = JsonValue::MakeArray();
    for (const auto& member : kase.members) members.Push(MemberJson(member));
    JsonValue out = JsonValue::MakeObject();
    out.Set("members", std::move(members));
    return std::make_pair(is_new, std::move(out));
  });
  return JsonResponse(added ? 201 : 200, json);
}

Response RemoveMemberHandler(ApiContext& context, Request& request,
                             const hub::Principal& principal) {
  std::string id(request.PathParam("id"));
  std::string user_id(request.PathParam("user_id"));
  context.database.Transact([&](store::Connection& connection) {
    Unwrap(hub::RemoveCaseMember(connection, principal, id, user_id, NowMs()));
  });
  return Response::NoContent();
}

Response LinkHandler(ApiContext& context, Request& request, const hub::Principal& principal) {
  JsonValue body = ParseJsonBody(request);
  Fields fields(body);
  std::string type = fields.Enum("type", hub::CaseLinkTypeNames());
  std::string object_id = fields.String("id", 1, 64);
  std::string note = fields.OptionalString("note", hub::CASE_TEXT_MAX).value_or("");
  fields.Finish();
  std::string id(request.PathParam("id"));
  auto [added, json] = context.database.Transact([&](store::Connection& connection) {
    bool is_new =
        Unwrap(hub::LinkToCase(connection, principal, id, type, object_id, note, NowMs()));
    hub::Case kase = Unwrap(hub::GetCase(connection, principal, id));
    for (const auto& object : hub::CaseLinksFor(connection, principal, kase).readable) {
      if (object.link.type == type && object.link.object_id == object_id) {
        return std::make_pair(is_new, LinkedJson(object));
      }
    }
    return std::make_pair(is_new, JsonValue::MakeObject());
  });
  return JsonResponse(added ? 201 : 200, json);
}

Response UnlinkHandler(ApiContext& context, Request& request, const hub::Principal& principal) {
  std::string id(request.PathParam("id"));
  std::string type(request.PathParam("type"));
  std::string object_id(request.PathParam("object_id"));
  context.database.Transact([&](store::Connection& connection) {
    Unwrap(hub::UnlinkFromCase(connection, principal, id, type, object_id, NowMs()));
  });
  return Response::NoContent();
}

// ---- evidence --------------------------------------------------------------------------------

std::optional<std::string> Digest(Fields& fields, std::string_view key, size_t length) {
  auto text = fields.OptionalString(key, length);
  if (!text) return std::nullopt;
  std::string lower = *text;
  for (char& c : lower) {
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
  }
  return lower;
}

Response ListEvidenceHandler(ApiContext& context, Request& request,
                             const hub::Principal& principal) {
  std::string id(request.PathParam("id"));
  auto items = [&] {
    auto connection = context.database.Acquire();
    return Unwrap(hub::ListEvidence(*connection, principal, id));
  }();
  AuditCaseRead(context, principal, "case.evidence.list", id);
  JsonValue json = JsonValue::MakeArray();
  for (const auto& item : items) json.Push(EvidenceJson(item));
  return ListResponse(json, "");
}

Response RegisterEvidenceHandler(ApiContext& context, Request& request,
                                 const hub::Principal& principal) {
  JsonValue body = ParseJsonBody(request);
  Fields fields(body);
  hub::EvidenceRegistration r;
  r.label = fields.String("label", 1, hub::EVIDENCE_LABEL_MAX);
  r.description = fields.OptionalString("description", hub::CASE_TEXT_MAX).value_or("");
  r.kind = fields.Enum("kind", hub::EvidenceKindNames());
  r.source_org_id = fields.OptionalString("source_org_id", 64);
  r.source_host = fields.OptionalString("source_host", hub::EVIDENCE_FIELD_MAX);
  r.acquired_at = fields.Time("acquired_at");
  r.acquired_by = fields.String("acquired_by", 1, hub::EVIDENCE_FIELD_MAX);
  r.acquisition_method = fields.OptionalString("acquisition_method", hub::EVIDENCE_FIELD_MAX);
  r.sha256 = Digest(fields, "sha256", 64);
  r.sha1 = Digest(fields, "sha1", 40);
  r.md5 = Digest(fields, "md5", 32);
  r.size = fields.OptionalInt("size", 0, INT64_MAX);
  r.holder = fields.String("holder", 1, hub::EVIDENCE_FIELD_MAX);
  r.location = fields.OptionalString("location", hub::EVIDENCE_FIELD_MAX);
  r.seal = fields.OptionalString("seal", hub::EVIDENCE_FIELD_MAX);
  fields.Finish();
  std::string id(request.PathParam("id"));
  hub::EvidenceItem item = context.database.Transact([&](store::Connection& connection) {
    return Unwrap(hub::RegisterEvidence(connection, principal, id, r, NowMs()));
  });
  Response response = JsonResponse(201, EvidenceJson(item));
  response.headers.Set("Location", fmt::format("{}/evidence/{}", CasePath(id), item.id));
  return response;
}

Response GetEvidenceHandler(ApiContext& context, Request& request,
                            const hub::Principal& principal) {
  std::string id(request.PathParam("id"));
  std::string evidence_id(request.PathParam("evidence_id"));
  hub::EvidenceItem item = [&] {
    auto connection = context.database.Acquire();
    return Unwrap(hub::GetEvidence(*connection, principal, id, evidence_id));
  }();
  JsonValue detail = JsonValue::MakeObject();
  detail.Set("evidence_id", item.id);
  AuditCaseRead(context, principal, "case.evidence.read", id, std::move(detail));
  return JsonResponse(200, EvidenceJson(item));
}

Response UploadContentHandler(ApiContext& context, Request& request,
                              const hub::Principal& principal) {
  if (request.body.size() > context.settings.max_attachment_bytes) {
    throw ApiError(413, "payload_too_large",
                   fmt::format("files are limited to {} bytes here: register a larger item "
                               "with its hashes, and keep it in the evidence store",
                               context.settings.max_attachment_bytes));
  }
  std::string filename = UploadFilename(request);
  std::string content_type(
      request.headers.Get("content-type").value_or("application/octet-stream"));
  std::string id(request.PathParam("id"));
  std::string evidence_id(request.PathParam("evidence_id"));
  hub::EvidenceItem item = context.database.Transact([&](store::Connection& connection) {
    return Unwrap(hub::AddEvidenceContent(connection, principal, id, evidence_id, filename,
                                          content_type, request.body, NowMs()));
  });
  return JsonResponse(201, EvidenceJson(item));
}

Response DownloadContentHandler(ApiContext& context, Request& request,
                                const hub::Principal& principal) {
  std::string id(request.PathParam("id"));
  std::string evidence_id(request.PathParam("evidence_id"));
  std::string purpose(request.Query("purpose").value_or(""));
  hub::EvidenceContent file = context.database.Transact([&](store::Connection& connection) {
    return Unwrap(
        hub::ReadEvidenceContent(connection, principal, id, evidence_id, purpose, NowMs()));
  });
  return FileDownload(
      std::move(file.content), file.item.content_type.value_or("application/octet-stream"),
      file.item.filename.value_or(file.item.reference), file.item.registration.sha256.value_or(""));
}

Response CustodyHandler(ApiContext& context, Request& request, const hub::Principal& principal) {
  std::string id(request.PathParam("id"));
  std::string evidence_id(request.PathParam("evidence_id"));
  auto chain = [&] {
    auto connection = context.database.Acquire();
    return Unwrap(hub::CustodyChain(*connection, principal, id, evidence_id));
  }();
  JsonValue detail = JsonValue::MakeObject();
  detail.Set("evidence_id", evidence_id);
  AuditCaseRead(context, principal, "case.evidence.custody.read", id, std::move(detail));
  JsonValue items = JsonValue::MakeArray();
  for (const auto& event : chain) items.Push(CustodyJson(event));
  return ListResponse(items, "");
}

Response RecordCustodyHandler(ApiContext& context, Request& request,
                              const hub::Principal& principal) {
  JsonValue body = ParseJsonBody(request);
  Fields fields(body);
  hub::CustodyRecord record;
  record.action = fields.Enum("action", hub::RecordableCustodyActionNames());
  record.at = fields.OptionalTime("at");
  record.to_holder = fields.OptionalString("to_holder", hub::EVIDENCE_FIELD_MAX);
  record.location = fields.OptionalString("location", hub::EVIDENCE_FIELD_MAX);
  record.purpose = fields.OptionalString("purpose", hub::CASE_TEXT_MAX).value_or("");
  record.seal = fields.OptionalString("seal", hub::EVIDENCE_FIELD_MAX);
  record.sha256_observed = Digest(fields, "sha256_observed", 64);
  fields.Finish();
  std::string id(request.PathParam("id"));
  std::string evidence_id(request.PathParam("evidence_id"));
  hub::CustodyEvent event = context.database.Transact([&](store::Connection& connection) {
    return Unwrap(hub::RecordCustody(connection, principal, id, evidence_id, record, NowMs()));
  });
  return JsonResponse(201, CustodyJson(event));
}

Response IntegrityHandler(ApiContext& context, Request& request, const hub::Principal& principal) {
  std::string id(request.PathParam("id"));
  std::string evidence_id(request.PathParam("evidence_id"));
  hub::EvidenceIntegrity integrity = [&] {
    auto connection = context.database.Acquire();
    return Unwrap(hub::VerifyEvidence(*connection, principal, id, evidence_id));
  }();
  JsonValue detail = JsonValue::MakeObject();
  detail.Set("evidence_id", evidence_id);
  AuditCaseRead(context, principal, "case.evidence.verify", id, std::move(detail));
  JsonValue json = JsonValue::MakeObject();
  json.Set("intact", integrity.chain_intact && integrity.registration_intact &&
                         integrity.content_matches.value_or(true));
  JsonValue chain = JsonValue::MakeObject();
  chain.Set("intact", integrity.chain_intact);
  chain.Set("events", integrity.events);
  chain.Set("first_bad_seq",
            integrity.first_bad_seq == 0 ? JsonValue() : JsonValue(integrity.first_bad_seq));
  chain.Set("problem", integrity.problem.empty() ? JsonValue() : JsonValue(integrity.problem));
  json.Set("chain", std::move(chain));
  JsonValue registration = JsonValue::MakeObject();
  registration.Set("intact", integrity.registration_intact);
  registration.Set("problem", integrity.registration_problem.empty()
                                  ? JsonValue()
                                  : JsonValue(integrity.registration_problem));
  json.Set("registration", std::move(registration));
  JsonValue content = JsonValue::MakeObject();
  content.Set("stored", integrity.content_stored);
  content.Set("matches",
              integrity.content_matches ? JsonValue(*integrity.content_matches) : JsonValue());
  content.Set("sha256",
              integrity.content_sha256.empty() ? JsonValue() : JsonValue(integrity.content_sha256));
  json.Set("content", std::move(content));
  return JsonResponse(200, json);
}

// ---- timeline --------------------------------------------------------------------------------

// The whole filtered timeline, for exports.
// The whole filtered timeline, for exports: one read of the stored entries and of the links.
std::vector<hub::TimelineEntry> WholeTimeline(store::Connection& connection,
                                              const hub::Principal& principal,
                                              const std::string& id,
                                              const hub::TimelineFilter& filter) {
  return Unwrap(hub::ListTimeline(connection, principal, id, filter, std::nullopt,
                                  static_cast<int>(TIMELINE_EXPORT_MAX)))
      .items;
}

Response TimelineExport(ApiContext& context, const hub::Principal& principal, const std::string& id,
                        const hub::TimelineFilter& filter, std::string_view format) {
  auto [reference, marking, entries] = [&] {
    auto connection = context.database.Acquire();
    hub::Case kase = Unwrap(hub::GetCase(*connection, principal, id));
    return std::make_tuple(kase.reference, kase.tlp,
                           WholeTimeline(*connection, principal, id, filter));
  }();
  JsonValue detail = JsonValue::MakeObject();
  detail.Set("format", std::string(format));
  detail.Set("entries", static_cast<int64_t>(entries.size()));
  AuditCaseRead(context, principal, "case.timeline.export", id, std::move(detail));
  std::string body;
  // Timesketch's import columns first (message, datetime, timestamp_desc), then the timeline's.
  if (format == "csv") {
    const std::vector<std::string> header = {"message",    "datetime", "timestamp_desc", "kind",
                                             "host",       "account",  "source",         "level",
                                             "techniques", "origin",   "detail",         "id"};
    exports::AppendCsvRecord(body, header);
    for (const auto& entry : entries) {
      std::string techniques;
      for (const auto& technique : entry.techniques) {
        techniques += (techniques.empty() ? "" : ";") + technique;
      }
      const std::vector<std::string> record = {entry.title,  FormatTimestampMs(entry.at),
                                               "Event time", entry.kind,
                                               entry.host,   entry.account,
                                               entry.source, entry.level,
                                               techniques,   entry.origin,
                                               entry.detail, entry.id};
      exports::AppendCsvRecord(body, record);
    }
  } else {
    for (const auto& entry : entries) {
      JsonValue line = JsonValue::MakeObject();
      line.Set("message", entry.title);
      line.Set("datetime", FormatTimestampMs(entry.at));
      line.Set("timestamp", entry.at * 1000);
      line.Set("timestamp_desc", "Event time");
      line.Set("kind", entry.kind);
      line.Set("host", entry.host);
      line.Set("account", entry.account);
      line.Set("source", entry.source);
      line.Set("level", entry.level);
      line.Set("techniques", Strings(entry.techniques));
      line.Set("origin", entry.origin);
      line.Set("detail", entry.detail);
      line.Set("id", entry.id);
      line.SerializeTo(body);
      body += '\n';
    }
  }
  std::string filename = fmt::format("{}-timeline.{}", reference, format);
  Response response =
      FileDownload(std::move(body),
                   format == "csv" ? "text/csv; charset=utf-8" : "application/x-ndjson", filename);
  // What leaves the case carries its marking.
  response.headers.Set("X-TLP", hub::TlpLabel(marking));
  return response;
}

Response TimelineHandler(ApiContext& context, Request& request, const hub::Principal& principal) {
  std::string id(request.PathParam("id"));
  hub::TimelineFilter filter = TimelineQuery(request);
  if (auto format =
          QueryEnum(request, "format", std::array<std::string_view, 3>{"json", "csv", "jsonl"})) {
    if (*format != "json") return TimelineExport(context, principal, id, filter, *format);
  }
  PageRequest page = ReadPage(request);
  std::optional<std::pair<int64_t, std::string>> after;
  if (!page.cursor.empty()) after = DecodeTimelineCursor(page.cursor);
  hub::TimelinePage result = [&] {
    auto connection = context.database.Acquire();
    return Unwrap(hub::ListTimeline(*connection, principal, id, filter, after, page.limit));
  }();
  AuditCaseRead(context, principal, "case.timeline.read", id);
  JsonValue items = JsonValue::MakeArray();
  for (const auto& entry : result.items) items.Push(EntryJson(entry, false));
  std::string next;
  if (result.more) next = EncodeTimelineCursor(result.items.back().at, result.items.back().id);
  return ListResponse(items, next);
}

Response AddEntryHandler(ApiContext& context, Request& request, const hub::Principal& principal) {
  JsonValue body = ParseJsonBody(request);
  Fields fields(body);
  hub::TimelineEntryCreate create;
  create.at = fields.Time("at");
  create.kind = fields.Enum("kind", hub::WritableTimelineKindNames());
  create.title = fields.String("title", 1, 500);
  create.detail = fields.OptionalString("detail", hub::CASE_TEXT_MAX).value_or("");
  create.host = fields.OptionalString("host", 500).value_or("");
  create.account = fields.OptionalString("account", 500).value_or("");
  create.source = fields.OptionalString("source", 500).value_or("");
  create.techniques = fields.StringArray("techniques", 100, 20);
  fields.Finish();
  std::string id(request.PathParam("id"));
  hub::TimelineEntry entry = context.database.Transact([&](store::Connection& connection) {
    return Unwrap(hub::AddTimelineEntry(connection, principal, id, create, NowMs()));
  });
  return JsonResponse(201, EntryJson(entry, false));
}

Response GetEntryHandler(ApiContext& context, Request& request, const hub::Principal& principal) {
  std::string id(request.PathParam("id"));
  std::string entry_id(request.PathParam("entry_id"));
  hub::TimelineEntry entry = [&] {
    auto connection = context.database.Acquire();
    return Unwrap(hub::GetTimelineEntry(*connection, principal, id, entry_id));
  }();
  JsonValue detail = JsonValue::MakeObject();
  detail.Set("entry_id", entry.id);
  AuditCaseRead(context, principal, "case.timeline.entry.read", id, std::move(detail));
  return JsonResponse(200, EntryJson(entry, true));
}

Response ImportHandler(ApiContext& context, Request& request, const hub::Principal& principal) {
  std::string source(request.Query("source").value_or(""));
  if (source.empty()) {
    if (auto name = request.Query("filename")) source = std::string(*name);
  }
  if (source.empty()) {
    ThrowBadRequest("name what is imported with ?source= (a host, a collection, a file)", "source");
  }
  std::string id(request.PathParam("id"));
  // A hunt's output is large and compresses well: gzip or zstd bodies are read too.
  const std::string text = DecompressedBody(std::move(request.body), IMPORT_MAX_BYTES);
  hub::TimelineImport import = context.database.Transact([&](store::Connection& connection) {
    return Unwrap(hub::ImportTimeline(connection, principal, id, source, text, NowMs()));
  });
  return JsonResponse(201, TimelineImportResultJson(import));
}

Response ListImportsHandler(ApiContext& context, Request& request,
                            const hub::Principal& principal) {
  std::string id(request.PathParam("id"));
  auto imports = [&] {
    auto connection = context.database.Acquire();
    return Unwrap(hub::ListTimelineImports(*connection, principal, id));
  }();
  AuditCaseRead(context, principal, "case.timeline.imports.read", id);
  JsonValue items = JsonValue::MakeArray();
  for (const auto& import : imports) items.Push(ImportJson(import));
  return ListResponse(items, "");
}

Response RemoveImportHandler(ApiContext& context, Request& request,
                             const hub::Principal& principal) {
  std::string id(request.PathParam("id"));
  std::string import_id(request.PathParam("import_id"));
  context.database.Transact([&](store::Connection& connection) {
    Unwrap(hub::RemoveTimelineImport(connection, principal, id, import_id, NowMs()));
  });
  return Response::NoContent();
}

// ---- hunting in an item's file ----------------------------------------------------------------

constexpr std::string_view HUNT_KIND = "case.evidence.hunt";

// A folder of its own for one hunt, removed with everything in it.
class HuntFolder {
 public:
  HuntFolder() {
    std::string pattern = (std::filesystem::temp_directory_path() / "yagura-hunt-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) {
      throw std::runtime_error("cannot make a temporary folder for the hunt");
    }
    path_ = pattern;
  }
  ~HuntFolder() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  HuntFolder(const HuntFolder&) = delete;
  HuntFolder& operator=(const HuntFolder&) = delete;
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Runs the service's rules over the item's stored file, as `yagura scan` does, and imports the
// alerts into the case's timeline. The download is in the item's custody (its purpose names
// the job), the import in the case's history; the job's own result holds counts only, because
// the centre's administrators see every job and a case is its members' alone.
Response HuntHandler(ApiContext& context, Request& request, const hub::Principal& principal) {
  std::optional<sigma::Level> min_level;
  if (!request.body.empty()) {
    JsonValue body = ParseJsonBody(request);
    Fields fields(body);
    static constexpr std::array<std::string_view, 5> LEVELS = {"informational", "low", "medium",
                                                               "high", "critical"};
    if (auto level = fields.OptionalEnum("min_level", LEVELS)) {
      // LEVELS is in sigma::Level's order.
      min_level = static_cast<sigma::Level>(std::find(LEVELS.begin(), LEVELS.end(), *level) -
                                            LEVELS.begin());
    }
    fields.Finish();
  }
  std::string id(request.PathParam("id"));
  std::string evidence_id(request.PathParam("evidence_id"));
  {
    auto connection = context.database.Acquire();
    Unwrap(hub::CaseForWork(*connection, principal, id));
    hub::EvidenceItem item = Unwrap(hub::GetEvidence(*connection, principal, id, evidence_id));
    if (!item.has_content) {
      throw ApiError(409, "no_file", "the item has no stored file to hunt in");
    }
  }
  if (context.settings.rule_paths.empty()) {
    throw ApiError(409, "no_rules", "the service has no rules to hunt with (serve --rules)");
  }
  return StartJobResponse(
      context.jobs, std::string(HUNT_KIND), principal,
      [&context, principal, id, evidence_id, min_level](JobHandle& job) -> Result<JsonValue> {
        job.SetMessage("reading the evidence");
        const std::string purpose =
            fmt::format("Hunted in with the centre's rules (job {})", job.id());
        hub::EvidenceContent file = context.database.Transact([&](store::Connection& c) {
          return Unwrap(hub::ReadEvidenceContent(c, principal, id, evidence_id, purpose, NowMs()));
        });
        HuntFolder folder;
        // The stored name keeps its extension, which tells a ZIP or an EVTX file apart.
        const std::filesystem::path input =
            folder.path() / file.item.filename.value_or(file.item.reference);
        {
          std::ofstream out(input, std::ios::binary);
          out.write(file.content.data(), static_cast<std::streamsize>(file.content.size()));
          if (!out) return tl::unexpected(Error{"cannot write the evidence for the hunt", ""});
        }
        file.content.clear();
        scan::ScanOptions options;
        options.inputs = {input.string()};
        options.rule_paths = context.settings.rule_paths;
        options.exclude_rule_ids = context.settings.excluded_rule_ids;
        options.exclude_rule_list_files = context.settings.excluded_rule_list_files;
        options.min_level = min_level;
        options.output_path = (folder.path() / "alerts.jsonl").string();
        options.on_rule_file = [&job](size_t done, size_t total) {
          job.SetTotal(static_cast<int64_t>(total), "files");
          job.SetDone(static_cast<int64_t>(done));
        };
        job.SetMessage("hunting");
        Diagnostics diagnostics;
        Result<scan::ScanSummary> summary = scan::RunScan(options, diagnostics);
        if (!summary) return tl::unexpected(summary.error());
        std::string alerts;
        {
          std::ifstream in(options.output_path, std::ios::binary);
          std::ostringstream text;
          text << in.rdbuf();
          alerts = std::move(text).str();
        }
        JsonValue result = JsonValue::MakeObject();
        result.Set("rules_loaded", static_cast<int64_t>(summary->rules_loaded));
        result.Set("files_read", static_cast<int64_t>(summary->files_read));
        result.Set("records_read", static_cast<int64_t>(summary->records_read));
        result.Set("alerts", static_cast<int64_t>(summary->alerts));
        int64_t entries = 0;
        int64_t without_time = 0;
        if (summary->alerts > 0) {
          job.SetMessage("adding the alerts to the timeline");
          const std::string source =
              fmt::format("{} hunt: {}", file.item.reference,
                          file.item.filename.value_or(file.item.registration.label));
          hub::TimelineImport import = context.database.Transact([&](store::Connection& c) {
            return Unwrap(hub::ImportTimeline(c, principal, id, source, alerts, NowMs()));
          });
          entries = import.entries;
          without_time = import.without_time;
        }
        result.Set("entries", entries);
        result.Set("without_time", without_time);
        return result;
      });
}

// ---- the report ------------------------------------------------------------------------------

Response ReportHandler(ApiContext& context, Request& request, const hub::Principal& principal) {
  std::string id(request.PathParam("id"));
  auto lang = QueryEnum(request, "lang", std::array<std::string_view, 2>{"en", "ja"});
  const CaseReportLanguage language =
      lang == "ja" ? CaseReportLanguage::kJapanese : CaseReportLanguage::kEnglish;
  CaseReportInput input = [&] {
    auto connection = context.database.Acquire();
    CaseReportInput in;
    in.kase = Unwrap(hub::GetCase(*connection, principal, id));
    in.links = hub::CaseLinksFor(*connection, principal, in.kase);
    for (auto& item : Unwrap(hub::ListEvidence(*connection, principal, id))) {
      CaseReportItem entry;
      entry.custody = Unwrap(hub::CustodyChain(*connection, principal, id, item.id));
      entry.integrity = Unwrap(hub::VerifyEvidence(*connection, principal, id, item.id));
      entry.item = std::move(item);
      in.evidence.push_back(std::move(entry));
    }
    hub::TimelinePage page = Unwrap(hub::ListTimeline(*connection, principal, id, {}, std::nullopt,
                                                      static_cast<int>(CASE_REPORT_MAX_TIMELINE)));
    in.timeline = std::move(page.items);
    in.timeline_total = page.more ? Unwrap(hub::CountTimeline(*connection, principal, id))
                                  : static_cast<int64_t>(in.timeline.size());
    in.history = Unwrap(hub::CaseHistory(*connection, principal, id));
    // The names of the people the report mentions.
    std::set<std::string> people = {principal.user_id, in.kase.opened_by};
    for (const auto& member : in.kase.members) people.insert(member.user_id);
    for (const auto& entry : in.evidence) {
      for (const auto& event : entry.custody) people.insert(event.recorded_by);
    }
    for (const auto& entry : in.history) people.insert(entry.actor_id);
    in.user_names = ReportUserNames(*connection, people);
    auto me = in.user_names.find(principal.user_id);
    in.generated_by = me == in.user_names.end() ? principal.username : me->second;
    in.generated_at = NowMs();
    return in;
  }();
  JsonValue detail = JsonValue::MakeObject();
  detail.Set("lang", language == CaseReportLanguage::kJapanese ? "ja" : "en");
  detail.Set("evidence", static_cast<int64_t>(input.evidence.size()));
  AuditCaseRead(context, principal, "case.report", id, std::move(detail));
  std::string filename = fmt::format("{}-report-{}.html", input.kase.reference,
                                     language == CaseReportLanguage::kJapanese ? "ja" : "en");
  return FileDownload(RenderCaseReport(input, language), "text/html; charset=utf-8", filename);
}

// ---- schemas ---------------------------------------------------------------------------------

using namespace schema;  // NOLINT: the builders read as the schema they build

void AddSchemas(ApiContext& context) {
  auto add = [&](std::string_view name, const JsonValue& schema) {
    RegisterSchema(context, name, schema.Serialize());
  };
  const JsonValue tlp = Enum(hub::CaseTlpNames());
  const JsonValue role = Enum(hub::CaseRoleNames());
  add("CaseCreate", Object({{"title", Str(hub::CASE_TITLE_MAX)},
                            {"summary", Str(hub::CASE_TEXT_MAX)},
                            {"tlp", tlp},
                            {"members", ArrayOf(Object({{"user_id", Str(64)}, {"role", role}},
                                                       {"user_id", "role"}, true))},
                            {"incident_ids", ArrayOf(Str(64))}},
                           {"title"}, true));
  add("CaseUpdate", Object({{"title", Str(hub::CASE_TITLE_MAX)},
                            {"summary", Str(hub::CASE_TEXT_MAX)},
                            {"tlp", tlp},
                            {"version", Int()}},
                           {}, true));
  add("CaseTransition",
      Object({{"status", Enum(hub::CaseStatusNames())}, {"note", Str(hub::CASE_TEXT_MAX)}},
             {"status"}, true));
  const JsonValue member = Object({{"user_id", Str()},
                                   {"username", Str()},
                                   {"display_name", Str()},
                                   {"role", role},
                                   {"added_by", Str()},
                                   {"added_at", TimeSchema()}},
                                  {"user_id", "role"}, false);
  add("CaseMember", member);
  add("CaseMemberSet", Object({{"user_id", Str(64)}, {"role", role}}, {"user_id", "role"}, true));
  add("CaseMembers", Object({{"members", ArrayOf(Ref("CaseMember"))}}, {"members"}, false));
  add("CaseLinkCreate", Object({{"type", Enum(hub::CaseLinkTypeNames())},
                                {"id", Str(64)},
                                {"note", Str(hub::CASE_TEXT_MAX)}},
                               {"type", "id"}, true));
  add("CaseLink", Object({{"type", Str()},
                          {"id", Str()},
                          {"title", Str()},
                          {"reference", Nullable("string")},
                          {"status", Str()},
                          {"level", Str()},
                          {"org_id", Str()},
                          {"at", TimeSchema()},
                          {"host", Nullable("string")},
                          {"techniques", ArrayOf(Str())},
                          {"note", Str()},
                          {"added_by", Str()},
                          {"added_at", TimeSchema()}},
                         {"type", "id"}, false));
  add("Case",
      Object({{"id", Str()},
              {"reference", Str()},
              {"title", Str()},
              {"summary", Str()},
              {"status", Enum(hub::CaseStatusNames())},
              {"tlp", tlp},
              {"opened_by", Str()},
              {"conclusion", Nullable("string")},
              {"created_at", TimeSchema()},
              {"updated_at", TimeSchema()},
              {"closed_at", Nullable("string")},
              {"version", Int()},
              {"my_role", Nullable("string")},
              {"members", ArrayOf(Ref("CaseMember"))},
              {"links", ArrayOf(Ref("CaseLink"))},
              {"hidden_links", Int()},
              {"counts", Object({{"evidence", Int()}, {"timeline_entries", Int()}}, {}, false)}},
             {"id", "reference", "title", "status", "tlp", "members", "links", "version"}, false));
  add("CaseSummary", Object({{"id", Str()},
                             {"reference", Str()},
                             {"title", Str()},
                             {"status", Str()},
                             {"tlp", Str()},
                             {"my_role", Str()},
                             {"created_at", TimeSchema()},
                             {"updated_at", TimeSchema()}},
                            {"id", "reference", "title", "status", "my_role"}, false));
  add("CaseList", ListOf("CaseSummary"));
  add("CaseCandidate", Object({{"user_id", Str()},
                               {"username", Str()},
                               {"display_name", Str()},
                               {"roles", ArrayOf(Enum(hub::RoleNames()))}},
                              {"user_id", "username", "display_name", "roles"}, false));
  add("CaseCandidateList", ListOf("CaseCandidate"));
  add("CaseHistory", Object({{"items", ArrayOf(Object({{"id", Str()},
                                                       {"at", TimeSchema()},
                                                       {"actor_id", Str()},
                                                       {"kind", Str()},
                                                       {"detail", Object({}, {}, false)}},
                                                      {"id", "at", "actor_id", "kind"}, false))},
                             {"next_cursor", Nullable("string")}},
                            {"items"}, false));

  JsonValue sha256 = Str(64);
  sha256.Set("pattern", "^[0-9a-fA-F]{64}$");
  add("EvidenceCreate", Object({{"label", Str(hub::EVIDENCE_LABEL_MAX)},
                                {"description", Str(hub::CASE_TEXT_MAX)},
                                {"kind", Enum(hub::EvidenceKindNames())},
                                {"source_org_id", Str(64)},
                                {"source_host", Str(hub::EVIDENCE_FIELD_MAX)},
                                {"acquired_at", TimeSchema()},
                                {"acquired_by", Str(hub::EVIDENCE_FIELD_MAX)},
                                {"acquisition_method", Str(hub::EVIDENCE_FIELD_MAX)},
                                {"sha256", sha256},
                                {"sha1", Str(40)},
                                {"md5", Str(32)},
                                {"size", Int()},
                                {"holder", Str(hub::EVIDENCE_FIELD_MAX)},
                                {"location", Str(hub::EVIDENCE_FIELD_MAX)},
                                {"seal", Str(hub::EVIDENCE_FIELD_MAX)}},
                               {"label", "kind", "acquired_at", "acquired_by", "holder"}, true));
  add("Evidence",
      Object({{"id", Str()},
              {"case_id", Str()},
              {"number", Int()},
              {"reference", Str()},
              {"label", Str()},
              {"description", Str()},
              {"kind", Str()},
              {"source_org_id", Nullable("string")},
              {"source_host", Nullable("string")},
              {"acquired_at", TimeSchema()},
              {"acquired_by", Str()},
              {"acquisition_method", Nullable("string")},
              {"sha256", Nullable("string")},
              {"sha1", Nullable("string")},
              {"md5", Nullable("string")},
              {"size", Nullable("integer")},
              {"seal", Nullable("string")},
              {"status", Enum(hub::EvidenceStatusNames())},
              {"holder", Str()},
              {"location", Nullable("string")},
              {"has_content", Bool()},
              {"filename", Nullable("string")},
              {"content_type", Nullable("string")},
              {"custody_events", Int()},
              {"created_by", Str()},
              {"created_at", TimeSchema()},
              {"updated_at", TimeSchema()}},
             {"id", "reference", "label", "kind", "status", "holder", "custody_events"}, false));
  add("EvidenceList", ListOf("Evidence"));
  add("CustodyRecord", Object({{"action", Enum(hub::RecordableCustodyActionNames())},
                               {"at", TimeSchema()},
                               {"to_holder", Str(hub::EVIDENCE_FIELD_MAX)},
                               {"location", Str(hub::EVIDENCE_FIELD_MAX)},
                               {"purpose", Str(hub::CASE_TEXT_MAX)},
                               {"seal", Str(hub::EVIDENCE_FIELD_MAX)},
                               {"sha256_observed", sha256}},
                              {"action"}, true));
  add("CustodyEvent",
      Object({{"id", Str()},
              {"seq", Int()},
              {"action", Enum(hub::CustodyActionNames())},
              {"at", TimeSchema()},
              {"recorded_at", TimeSchema()},
              {"recorded_by", Str()},
              {"holder_from", Str()},
              {"holder_to", Str()},
              {"location", Nullable("string")},
              {"purpose", Str()},
              {"seal", Nullable("string")},
              {"sha256_observed", Nullable("string")},
              {"outcome", Nullable("string")},
              {"detail", Object({}, {}, false)},
              {"prev_hash", Str()},
              {"hash", Str()}},
             {"id", "seq", "action", "at", "recorded_by", "prev_hash", "hash"}, false));
  add("CustodyChain", ListOf("CustodyEvent"));
  add("EvidenceIntegrity",
      Object({{"intact", Bool()},
              {"chain", Object({{"intact", Bool()},
                                {"events", Int()},
                                {"first_bad_seq", Nullable("integer")},
                                {"problem", Nullable("string")}},
                               {"intact", "events"}, false)},
              {"registration",
               Object({{"intact", Bool()}, {"problem", Nullable("string")}}, {"intact"}, false)},
              {"content", Object({{"stored", Bool()},
                                  {"matches", Nullable("boolean")},
                                  {"sha256", Nullable("string")}},
                                 {"stored"}, false)}},
             {"intact", "chain", "registration", "content"}, false));

  add("EvidenceHunt",
      Object({{"min_level", Enum(std::array<std::string_view, 5>{"informational", "low", "medium",
                                                                 "high", "critical"})}},
             {}, true));
  add("TimelineEntryCreate", Object({{"at", TimeSchema()},
                                     {"kind", Enum(hub::WritableTimelineKindNames())},
                                     {"title", Str(500)},
                                     {"detail", Str(hub::CASE_TEXT_MAX)},
                                     {"host", Str(500)},
                                     {"account", Str(500)},
                                     {"source", Str(500)},
                                     {"techniques", ArrayOf(Str(20))}},
                                    {"at", "kind", "title"}, true));
  add("TimelineEntry",
      Object({{"id", Str()},
              {"at", TimeSchema()},
              {"kind", Enum(hub::TimelineKindNames())},
              {"title", Str()},
              {"detail", Str()},
              {"host", Str()},
              {"account", Str()},
              {"source", Str()},
              {"level", Str()},
              {"techniques", ArrayOf(Str())},
              {"origin", Enum(std::array<std::string_view, 3>{"written", "imported", "linked"})},
              {"import_id", Nullable("string")},
              {"created_by", Nullable("string")},
              {"created_at", TimeSchema()},
              {"data", Object({}, {}, false)}},
             {"id", "at", "kind", "title", "origin"}, false));
  add("Timeline", ListOf("TimelineEntry"));
  add("TimelineImport", Object({{"id", Str()},
                                {"source", Str()},
                                {"format", Enum(std::array<std::string_view, 3>{
                                               "yagura-alerts", "timesketch", "mixed"})},
                                {"entries", Int()},
                                {"first_at", TimeSchema()},
                                {"last_at", TimeSchema()},
                                {"sha256", Str()},
                                {"imported_by", Str()},
                                {"imported_at", TimeSchema()},
                                {"without_time", Int()},
                                {"without_time_lines", ArrayOf(Int())}},
                               {"id", "source", "format", "entries", "sha256"}, false));
  add("TimelineImportList", ListOf("TimelineImport"));
}

RouteDoc Doc(std::string summary, std::string request_schema, std::string response_schema,
             std::vector<std::string> query = {}) {
  return DocumentRoute(TAG, std::move(summary), std::move(request_schema),
                       std::move(response_schema), std::move(query));
}

}  // namespace

void RegisterCaseRoutes(Router& router, ApiContext& context) {
  AddSchemas(context);
  auto bind = [&context](ContextHandler handler) { return BindAuthed(context, handler); };
  const std::string base(BASE);
  const std::string one = base + "/{id}";
  const std::string item = one + "/evidence/{evidence_id}";
  router.Add("GET", base, bind(ListCasesHandler),
             Doc("The caller's cases (members only), newest first", "", "CaseList",
                 {"status", "q", "incident_id", "limit", "cursor"}));
  router.Add("POST", base, bind(OpenCaseHandler),
             Doc("Open a case (centre_admin, investigator); the opener is its lead", "CaseCreate",
                 "Case"));
  router.Add("GET", base + "/candidates", bind(CandidatesHandler),
             Doc("The centre's active staff a lead may make members (names and roles only)", "",
                 "CaseCandidateList"));
  router.Add("GET", one, bind(GetCaseHandler),
             Doc("One case with its members and the links the caller may read", "", "Case"));
  router.Add(
      "PATCH", one, bind(UpdateCaseHandler),
      Doc("Change title, summary or marking (leads; optional version)", "CaseUpdate", "Case"));
  router.Add("POST", one + "/transitions", bind(TransitionHandler),
             Doc("open, on_hold, closed (note: the conclusion), reopened (note: the reason)",
                 "CaseTransition", "Case"));
  router.Add("GET", one + "/history", bind(HistoryHandler),
             Doc("Who changed what in the case, oldest first", "", "CaseHistory"));
  router.Add("POST", one + "/members", bind(SetMemberHandler),
             Doc("Add a member or change a member's role (201 when added)", "CaseMemberSet",
                 "CaseMembers"));
  router.Add("DELETE", one + "/members/{user_id}", bind(RemoveMemberHandler),
             Doc("Remove a member, or leave the case", "", ""));
  router.Add("POST", one + "/links", bind(LinkHandler),
             Doc("Link an incident or alert the caller may read (201 when new)", "CaseLinkCreate",
                 "CaseLink"));
  router.Add("DELETE", one + "/links/{type}/{object_id}", bind(UnlinkHandler),
             Doc("Remove a link", "", ""));
  router.Add("GET", one + "/evidence", bind(ListEvidenceHandler),
             Doc("The case's evidence, by number", "", "EvidenceList"));
  router.Add("POST", one + "/evidence", bind(RegisterEvidenceHandler),
             Doc("Register an item of evidence; its acquisition begins its chain of custody",
                 "EvidenceCreate", "Evidence"));
  router.Add("GET", item, bind(GetEvidenceHandler), Doc("One item of evidence", "", "Evidence"));
  router.Add("PUT", item + "/content", bind(UploadContentHandler),
             Doc("Store the item's file (the raw body; ?filename= or Content-Disposition). It "
                 "must have the registered SHA-256 and size; 413 above the size limit",
                 "", "Evidence", {"filename"}));
  router.Add("GET", item + "/content", bind(DownloadContentHandler),
             Doc("Download the item's file; ?purpose= is required and recorded in its chain of "
                 "custody",
                 "", "", {"purpose"}));
  router.Add("GET", item + "/custody", bind(CustodyHandler),
             Doc("The item's chain of custody, oldest first, each event with its hash", "",
                 "CustodyChain"));
  router.Add("POST", item + "/custody", bind(RecordCustodyHandler),
             Doc("Record a custody event (transferred, checked_out, checked_in, examined, "
                 "verified, copied, sealed, unsealed, released, destroyed)",
                 "CustodyRecord", "CustodyEvent"));
  router.Add("POST", item + "/hunt", bind(HuntHandler),
             Doc("Hunt in the item's stored file with the service's rules, as yagura scan does, "
                 "and add the alerts to the timeline (a job; optional min_level)",
                 "EvidenceHunt", "JobAccepted"));
  router.Add("GET", item + "/integrity", bind(IntegrityHandler),
             Doc("Recompute the chain of custody, the registration and the stored file's hash", "",
                 "EvidenceIntegrity"));
  router.Add("GET", one + "/timeline", bind(TimelineHandler),
             Doc("The timeline in time order: written, imported and linked entries; "
                 "format=csv or jsonl downloads all of it for Timesketch",
                 "", "Timeline",
                 {"from", "to", "kind", "host", "technique", "q", "format", "limit", "cursor"}));
  router.Add(
      "POST", one + "/timeline", bind(AddEntryHandler),
      Doc("Write an entry (event, action, finding, note)", "TimelineEntryCreate", "TimelineEntry"));
  router.Add("GET", one + "/timeline/imports", bind(ListImportsHandler),
             Doc("What was imported into the timeline", "", "TimelineImportList"));
  router.Add("POST", one + "/timeline/imports", bind(ImportHandler),
             Doc("Import JSON lines (plain, gzip or zstd): yagura scan's alerts or Timesketch "
                 "events; all or nothing, "
                 "the first bad line named",
                 "", "TimelineImport", {"source"}));
  router.Add("DELETE", one + "/timeline/imports/{import_id}", bind(RemoveImportHandler),
             Doc("Remove an import's entries (leads)", "", ""));
  router.Add("GET", one + "/report", bind(ReportHandler),
             Doc("The investigation report: one self-contained HTML page (lang=en or ja) with "
                 "the case, its evidence and whole chains of custody checked now, the timeline "
                 "and the history, headed by the case's marking",
                 "", "", {"lang"}));
  router.Add("GET", one + "/timeline/{entry_id}", bind(GetEntryHandler),
             Doc("One written or imported entry with the line it came from", "", "TimelineEntry"));
}

}  // namespace yagura::http

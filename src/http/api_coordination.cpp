// Routes of the centre's coordination work: advisories, requests for materials and
// recommendations (/api/v1/advisories, /api/v1/requests, /api/v1/recommendations).
//
// Each handler validates its body with Fields (unknown members are errors), hands the typed
// input to hub/advisories, hub/requests or hub/recommendations — which decide with the policy,
// write in one transaction and append the audit entry in it — and turns the result into JSON.
// Refusals from the hub become 400/403/404/409 here; a single object the caller may not read
// is always 404, so a refusal never confirms that something exists. Reads of AMBER and RED
// objects are audited: one entry per single read, one entry per list page naming the ids.
#include <fmt/format.h>

#include <algorithm>

#include "core/time.hpp"
#include "http/api.hpp"
#include "http/json_forms.hpp"
#include "hub/advisories.hpp"
#include "hub/recommendations.hpp"
#include "hub/requests.hpp"

namespace yagura::http {
namespace {

using hub::CoordinationError;
using hub::CoordinationResult;

constexpr size_t TITLE_MAX = 200;
constexpr size_t BODY_MAX = 20000;
constexpr size_t ID_MAX = 64;
constexpr size_t MAX_FILENAME_BYTES = 255;

[[noreturn]] void Throw(const CoordinationError& error) {
  switch (error.kind) {
    case CoordinationError::Kind::kInvalid:
      ThrowBadRequest(error.message, error.field);
    case CoordinationError::Kind::kForbidden:
      ThrowForbidden(error.message);
    case CoordinationError::Kind::kNotFound:
      throw ApiError(404, "not_found", error.message);
    case CoordinationError::Kind::kConflict:
      ThrowConflict(error.message);
  }
  ThrowBadRequest(error.message, error.field);
}

template <typename T>
T Unwrap(CoordinationResult<T> result) {
  if (!result) Throw(result.error());
  return std::move(*result);
}

void Unwrap(CoordinationResult<void> result) {
  if (!result) Throw(result.error());
}

JsonValue TimeOrNull(const std::optional<int64_t>& ms) {
  return ms ? JsonValue(FormatTimestampMs(*ms)) : JsonValue();
}

JsonValue TextOrNull(const std::optional<std::string>& text) {
  return text ? JsonValue(*text) : JsonValue();
}

Response Created(const JsonValue& body, const std::string& location) {
  Response response = Response::Json(201, body.Serialize());
  response.headers.Set("Location", location);
  return response;
}

// ?name=true|false; nullopt when absent.
std::optional<bool> QueryBool(const Request& request, std::string_view name) {
  auto value = request.Query(name);
  if (!value) return std::nullopt;
  if (*value == "true") return true;
  if (*value == "false") return false;
  ThrowBadRequest(fmt::format("{} must be true or false", name), std::string(name));
}

hub::PageQuery ReadPageQuery(const Request& request) {
  PageRequest page = ReadPage(request);
  hub::PageQuery query;
  query.limit = page.limit;
  if (!page.cursor.empty()) {
    auto [created_at, id] = DecodeCursor(page.cursor);
    query.after = hub::PagePosition{created_at, std::move(id)};
  }
  return query;
}

std::string NextCursor(const std::optional<hub::PagePosition>& next) {
  return next ? EncodeCursor(next->created_at, next->id) : std::string();
}

// One audit entry for a list page that showed AMBER or RED objects, naming them.
template <typename T>
void AuditList(ApiContext& context, const hub::Principal& principal, std::string_view type,
               const std::vector<T>& items) {
  hub::Tlp strictest = hub::Tlp::kClear;
  JsonValue ids = JsonValue::MakeArray();
  for (const auto& item : items) {
    if (item.tlp == hub::Tlp::kClear || item.tlp == hub::Tlp::kGreen) continue;
    ids.Push(item.id);
    strictest = std::max(strictest, item.tlp);
  }
  if (ids.as_array().empty()) return;
  hub::AuditEntry entry =
      hub::EntryFor(principal, std::string(type) + ".list", std::string(type), "", strictest);
  JsonValue detail = JsonValue::MakeObject();
  detail.Set("ids", std::move(ids));
  entry.detail = detail.Serialize();
  context.audit.Record(std::move(entry));
}

hub::Tlp ReadTlp(Fields& fields) {
  return *hub::ParseTlp(fields.Enum("tlp", hub::TlpNames(), "amber"));
}

// A JSON body when one was sent; endpoints whose body is optional accept an empty one.
std::optional<JsonValue> OptionalJsonBody(const Request& request) {
  if (request.body.empty()) return std::nullopt;
  return ParseJsonBody(request);
}

// ---------------------------------------------------------------------------------------------
// Advisories

bool IsDigits(std::string_view text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string Upper(std::string text) {
  for (char& c : text) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return text;
}

// "CVE-2024-3400": a four-digit year and a sequence of at least four digits.
bool IsCveId(std::string_view id) {
  return id.size() >= 13 && id.substr(0, 4) == "CVE-" && IsDigits(id.substr(4, 4)) &&
         id[8] == '-' && IsDigits(id.substr(9));
}

// ATT&CK technique ids: "T1190", "T1059.001".
bool IsTechniqueId(std::string_view id) {
  if (id.size() != 5 && id.size() != 9) return false;
  if (id[0] != 'T' || !IsDigits(id.substr(1, 4))) return false;
  return id.size() == 5 || (id[5] == '.' && IsDigits(id.substr(6, 3)));
}

bool IsWebUrl(std::string_view url) {
  bool scheme = url.starts_with("https://") || url.starts_with("http://");
  size_t host_start = url.find("://") + 3;
  return scheme && url.size() > host_start &&
         std::none_of(url.begin(), url.end(), [](char c) {
           return static_cast<unsigned char>(c) <= ' ' || c == '"' || c == '<' || c == '>';
         });
}

hub::NewAdvisory ParseNewAdvisory(const JsonValue& body) {
  Fields fields(body);
  hub::NewAdvisory input;
  input.title = fields.String("title", 1, TITLE_MAX);
  input.body = fields.String("body", 1, BODY_MAX);
  input.severity = fields.Enum("severity", hub::AdvisorySeverityNames());
  input.tlp = ReadTlp(fields);
  const JsonValue* target = fields.Object("target", true);
  Fields target_fields(*target, fields.PathOf("target"));
  input.target_kind = target_fields.Enum("kind", hub::AdvisoryTargetKindNames());
  if (input.target_kind == "organization") {
    input.target_value = target_fields.String("org_id", 1, ID_MAX);
  } else if (input.target_kind == "sector") {
    input.target_value = target_fields.Enum("sector", hub::SectorNames());
  }
  target_fields.Finish();
  input.recipients = fields.StringArray("recipients", 200, ID_MAX);
  input.references = fields.StringArray("references", 50, 2000);
  for (size_t i = 0; i < input.references.size(); ++i) {
    if (!IsWebUrl(input.references[i])) {
      ThrowBadRequest(fmt::format("references[{}] must be an http or https URL", i),
                      fmt::format("references[{}]", i));
    }
  }
  input.cves = fields.StringArray("cves", 200, 32);
  for (size_t i = 0; i < input.cves.size(); ++i) {
    input.cves[i] = Upper(input.cves[i]);
    if (!IsCveId(input.cves[i])) {
      ThrowBadRequest(fmt::format("cves[{}] must be a CVE id such as CVE-2024-3400", i),
                      fmt::format("cves[{}]", i));
    }
  }
  input.ttps = fields.StringArray("ttps", 200, 16);
  for (size_t i = 0; i < input.ttps.size(); ++i) {
    input.ttps[i] = Upper(input.ttps[i]);
    if (!IsTechniqueId(input.ttps[i])) {
      ThrowBadRequest(
          fmt::format("ttps[{}] must be an ATT&CK technique id such as T1059.001", i),
          fmt::format("ttps[{}]", i));
    }
  }
  fields.Finish();
  return input;
}

JsonValue AcknowledgementJson(const hub::AdvisoryAcknowledgement& ack, bool with_name) {
  JsonValue json = JsonValue::MakeObject();
  json.Set("org_id", ack.org_id);
  if (with_name) json.Set("org_name", ack.org_name);
  json.Set("acknowledged", ack.acknowledged_at.has_value());
  json.Set("acknowledged_at", TimeOrNull(ack.acknowledged_at));
  json.Set("user_id", ack.user_id.empty() ? JsonValue() : JsonValue(ack.user_id));
  return json;
}

JsonValue AdvisoryJson(const hub::Advisory& advisory, bool single) {
  JsonValue json = JsonValue::MakeObject();
  json.Set("id", advisory.id);
  json.Set("reference", advisory.reference);
  json.Set("title", advisory.title);
  json.Set("body", advisory.body);
  json.Set("severity", advisory.severity);
  json.Set("tlp", std::string(hub::ToString(advisory.tlp)));
  json.Set("owner_org_id", advisory.owner_org_id);
  json.Set("author_id", advisory.author_id);
  JsonValue target = JsonValue::MakeObject();
  target.Set("kind", advisory.target_kind);
  if (advisory.target_kind == "organization") target.Set("org_id", advisory.target_value);
  if (advisory.target_kind == "sector") target.Set("sector", advisory.target_value);
  json.Set("target", std::move(target));
  json.Set("references", Strings(advisory.references));
  json.Set("cves", Strings(advisory.cves));
  json.Set("ttps", Strings(advisory.ttps));
  json.Set("created_at", FormatTimestampMs(advisory.created_at));
  json.Set("updated_at", FormatTimestampMs(advisory.updated_at));
  json.Set("acknowledgement", advisory.own_acknowledgement
                                  ? AcknowledgementJson(*advisory.own_acknowledgement, false)
                                  : JsonValue());
  if (single) json.Set("recipients", Strings(advisory.recipients));
  if (advisory.full_view) {
    json.Set("pending_count", advisory.pending_count);
    if (single) {
      json.Set("recipient_org_ids", Strings(advisory.recipient_org_ids));
      JsonValue acknowledged = JsonValue::MakeArray();
      JsonValue pending = JsonValue::MakeArray();
      for (const auto& ack : advisory.acknowledgements) {
        if (ack.acknowledged_at) {
          acknowledged.Push(AcknowledgementJson(ack, true));
        } else {
          JsonValue org = JsonValue::MakeObject();
          org.Set("org_id", ack.org_id);
          org.Set("org_name", ack.org_name);
          pending.Push(std::move(org));
        }
      }
      json.Set("acknowledgements", std::move(acknowledged));
      json.Set("pending", std::move(pending));
    }
  }
  return json;
}

void RegisterAdvisoryRoutes(Router& router, ApiContext& context) {
  router.Add(
      "POST", "/api/v1/advisories",
      Authed(context,
             [&context](Request& request, const hub::Principal& principal) {
               if (!hub::can::IssueAdvisory(principal)) {
                 ThrowForbidden("only the centre's administrators and analysts issue advisories");
               }
               hub::NewAdvisory input = ParseNewAdvisory(ParseJsonBody(request));
               hub::Advisory advisory =
                   Unwrap(hub::CreateAdvisory(context.database, principal, input, NowMs()));
               return Created(AdvisoryJson(advisory, true), "/api/v1/advisories/" + advisory.id);
             }),
      RouteDoc{"Issue an advisory to an organisation, a sector or every member", "advisories",
               "AdvisoryCreate", "Advisory", true, {}});

  router.Add(
      "GET", "/api/v1/advisories",
      Authed(context,
             [&context](Request& request, const hub::Principal& principal) {
               hub::AdvisoryFilter filter;
               filter.severity = QueryEnum(request, "severity", hub::AdvisorySeverityNames());
               filter.unacknowledged = QueryBool(request, "unacknowledged").value_or(false);
               auto page = Unwrap(hub::ListAdvisories(context.database, principal, filter,
                                                      ReadPageQuery(request)));
               AuditList(context, principal, "advisory", page.items);
               JsonValue items = JsonValue::MakeArray();
               for (const auto& advisory : page.items) items.Push(AdvisoryJson(advisory, false));
               return ListResponse(items, NextCursor(page.next));
             }),
      RouteDoc{"Advisories addressed to the caller (the centre: those it issued)", "advisories",
               "", "AdvisoryList", true, {"severity", "unacknowledged", "limit", "cursor"}});

  router.Add(
      "GET", "/api/v1/advisories/{id}",
      Authed(context,
             [&context](Request& request, const hub::Principal& principal) {
               hub::Advisory advisory = Unwrap(hub::ReadAdvisory(
                   context.database, principal, request.PathParam("id")));
               AuditRead(context, principal, "advisory", advisory.id, advisory.tlp);
               return Response::Json(200, AdvisoryJson(advisory, true).Serialize());
             }),
      RouteDoc{"One advisory; the centre also sees who has and has not acknowledged it",
               "advisories", "", "Advisory", true, {}});

  router.Add(
      "POST", "/api/v1/advisories/{id}/acknowledgements",
      Authed(context,
             [&context](Request& request, const hub::Principal& principal) {
               if (auto body = OptionalJsonBody(request)) Fields(*body).Finish();
               hub::AdvisoryAcknowledgement ack = Unwrap(hub::AcknowledgeAdvisoryFor(
                   context.database, principal, request.PathParam("id"), NowMs()));
               return Response::Json(200, AcknowledgementJson(ack, true).Serialize());
             }),
      RouteDoc{"Acknowledge an advisory for the caller's organisation (idempotent)",
               "advisories", "", "AdvisoryAcknowledgement", true, {}});
}

// ---------------------------------------------------------------------------------------------
// Requests

JsonValue AttachmentJson(const hub::RequestAttachment& attachment) {
  JsonValue json = JsonValue::MakeObject();
  json.Set("id", attachment.id);
  json.Set("response_id", attachment.response_id);
  json.Set("filename", attachment.filename);
  json.Set("content_type", attachment.content_type);
  json.Set("size", attachment.size);
  json.Set("sha256", attachment.sha256);
  json.Set("uploaded_by", attachment.uploaded_by);
  json.Set("uploaded_at", FormatTimestampMs(attachment.uploaded_at));
  return json;
}

JsonValue ResponseJson(const hub::RequestResponse& response) {
  JsonValue json = JsonValue::MakeObject();
  json.Set("id", response.id);
  json.Set("request_id", response.request_id);
  json.Set("author_id", response.author_id);
  json.Set("org_id", response.org_id);
  json.Set("body", response.body);
  json.Set("created_at", FormatTimestampMs(response.created_at));
  JsonValue attachments = JsonValue::MakeArray();
  for (const auto& attachment : response.attachments) attachments.Push(AttachmentJson(attachment));
  json.Set("attachments", std::move(attachments));
  return json;
}

JsonValue RequestJson(const hub::MaterialsRequest& request, bool single) {
  JsonValue json = JsonValue::MakeObject();
  json.Set("id", request.id);
  json.Set("reference", request.reference);
  json.Set("direction", request.direction);
  json.Set("legal_basis", request.legal_basis);
  json.Set("tlp", std::string(hub::ToString(request.tlp)));
  json.Set("owner_org_id", request.owner_org_id);
  json.Set("author_id", request.author_id);
  json.Set("requester_org_id", request.requester_org_id);
  json.Set("target_org_id", request.target_org_id);
  json.Set("recipients", Strings({request.target_org_id}));
  json.Set("title", request.title);
  json.Set("body", request.body);
  json.Set("due_at", TimeOrNull(request.due_at));
  json.Set("status", request.status);
  json.Set("overdue", request.overdue);
  json.Set("created_at", FormatTimestampMs(request.created_at));
  json.Set("updated_at", FormatTimestampMs(request.updated_at));
  json.Set("answered_at", TimeOrNull(request.answered_at));
  json.Set("assignees", Strings(request.assignee_ids));
  if (single) {
    JsonValue responses = JsonValue::MakeArray();
    for (const auto& response : request.responses) responses.Push(ResponseJson(response));
    json.Set("responses", std::move(responses));
  }
  return json;
}

hub::NewMaterialsRequest ParseNewRequest(const JsonValue& body, const hub::Principal& principal) {
  Fields fields(body);
  hub::NewMaterialsRequest input;
  input.legal_basis = fields.Enum("legal_basis", hub::LegalBasisNames());
  const bool inbound = input.legal_basis == "art32";
  // The basis decides who may ask, so refuse the caller before judging the rest of the body.
  if (inbound && !hub::can::CreateInboundRequest(principal)) {
    ThrowForbidden("only local governments ask the centre under art. 32");
  }
  if (!inbound && !hub::can::CreateRequest(principal)) {
    ThrowForbidden("only the centre's administrators and analysts request materials");
  }
  if (!inbound) input.target_org_id = fields.String("target_org_id", 1, ID_MAX);
  input.title = fields.String("title", 1, TITLE_MAX);
  input.body = fields.String("body", 1, BODY_MAX);
  input.due_at = inbound ? fields.OptionalTime("due_at") : fields.Time("due_at");
  input.tlp = ReadTlp(fields);
  fields.Finish();
  return input;
}

// A file name safe to store and to echo in Content-Disposition: no path, no controls, no
// quotes.
std::string ReadFilename(const Request& request) {
  auto filename = request.Query("filename");
  if (!filename || filename->empty()) ThrowBadRequest("filename is required", "filename");
  if (filename->size() > MAX_FILENAME_BYTES) {
    ThrowBadRequest(fmt::format("filename is longer than {} bytes", MAX_FILENAME_BYTES), "filename");
  }
  bool safe = *filename != "." && *filename != ".." &&
              std::none_of(filename->begin(), filename->end(), [](char c) {
                return static_cast<unsigned char>(c) < 0x20 || c == 0x7f || c == '/' ||
                       c == '\\' || c == '"';
              });
  if (!safe) {
    ThrowBadRequest("filename must not contain path separators, quotes or control characters",
                    "filename");
  }
  return std::string(*filename);
}

// `attachment` with an ASCII fallback name and the exact UTF-8 name (RFC 6266, RFC 8187).
std::string ContentDisposition(std::string_view filename) {
  std::string ascii;
  std::string encoded;
  for (char c : filename) {
    auto byte = static_cast<unsigned char>(c);
    ascii += byte < 0x80 ? c : '_';
    bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                 c == '.' || c == '-' || c == '_';
    encoded += plain ? std::string(1, c) : fmt::format("%{:02X}", byte);
  }
  return fmt::format("attachment; filename=\"{}\"; filename*=UTF-8''{}", ascii, encoded);
}

std::string ReadContentType(const Request& request) {
  std::string type(request.headers.Get("content-type").value_or("application/octet-stream"));
  bool safe = !type.empty() && type.size() <= 200 &&
              std::none_of(type.begin(), type.end(), [](char c) {
                // Media types are ASCII; other bytes would reach the database (PostgreSQL
                // refuses invalid UTF-8) and the download's Content-Type header.
                auto byte = static_cast<unsigned char>(c);
                return byte < 0x20 || byte >= 0x7f;
              });
  // "type/subtype" of RFC 9110 token characters, then parameters that are kept as sent.
  std::string_view essence = std::string_view(type).substr(0, type.find(';'));
  while (!essence.empty() && essence.back() == ' ') essence.remove_suffix(1);
  size_t slash = essence.find('/');
  auto token = [](std::string_view part) {
    return !part.empty() && std::all_of(part.begin(), part.end(), [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
             std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
    });
  };
  safe = safe && slash != std::string_view::npos && token(essence.substr(0, slash)) &&
         token(essence.substr(slash + 1));
  if (!safe) ThrowBadRequest("Content-Type is not a media type", "content-type");
  return type;
}

void RegisterRequestRoutes(Router& router, ApiContext& context) {
  router.Add(
      "POST", "/api/v1/requests",
      Authed(context,
             [&context](Request& request, const hub::Principal& principal) {
               hub::NewMaterialsRequest input =
                   ParseNewRequest(ParseJsonBody(request), principal);
               hub::MaterialsRequest created = Unwrap(
                   hub::CreateMaterialsRequest(context.database, principal, input, NowMs()));
               return Created(RequestJson(created, true), "/api/v1/requests/" + created.id);
             }),
      RouteDoc{"Request materials from an organisation (art. 30, 31), or, as a local "
               "government, ask the centre (art. 32)",
               "requests", "RequestCreate", "Request", true, {}});

  router.Add(
      "GET", "/api/v1/requests",
      Authed(context,
             [&context](Request& request, const hub::Principal& principal) {
               hub::MaterialsRequestFilter filter;
               filter.direction = QueryEnum(request, "direction", hub::RequestDirectionNames());
               filter.status = QueryEnum(request, "status", hub::RequestStatusNames());
               filter.overdue = QueryBool(request, "overdue");
               filter.target_org_id = QueryId(request, "target_org_id");
               if (auto assigned = request.Query("assigned_to")) {
                 if (*assigned != "me") {
                   ThrowBadRequest("assigned_to accepts only \"me\"", "assigned_to");
                 }
                 filter.assigned_to_me = true;
               }
               auto page = Unwrap(hub::ListMaterialsRequests(
                   context.database, principal, filter, ReadPageQuery(request), NowMs()));
               AuditList(context, principal, "request", page.items);
               JsonValue items = JsonValue::MakeArray();
               for (const auto& item : page.items) items.Push(RequestJson(item, false));
               return ListResponse(items, NextCursor(page.next));
             }),
      RouteDoc{
          "Requests the caller made, must answer or is assigned to",
          "requests",
          "",
          "RequestList",
          true,
          {"direction", "status", "overdue", "target_org_id", "assigned_to", "limit", "cursor"}});

  router.Add(
      "GET", "/api/v1/requests/{id}",
      Authed(context,
             [&context](Request& request, const hub::Principal& principal) {
               hub::MaterialsRequest found = Unwrap(hub::ReadMaterialsRequest(
                   context.database, principal, request.PathParam("id"), NowMs()));
               AuditRead(context, principal, "request", found.id, found.tlp);
               return Response::Json(200, RequestJson(found, true).Serialize());
             }),
      RouteDoc{"One request with its responses", "requests", "", "Request", true, {}});

  router.Add(
      "PATCH", "/api/v1/requests/{id}",
      Authed(context,
             [&context](Request& request, const hub::Principal& principal) {
               JsonValue body = ParseJsonBody(request);
               Fields fields(body);
               static constexpr std::string_view TARGETS[] = {"closed", "withdrawn"};
               std::string status = fields.Enum("status", TARGETS);
               fields.Finish();
               hub::MaterialsRequest updated = Unwrap(hub::TransitionMaterialsRequest(
                   context.database, principal, request.PathParam("id"), status, NowMs()));
               return Response::Json(200, RequestJson(updated, true).Serialize());
             }),
      RouteDoc{"Close an answered request or withdraw an open one (the requester)", "requests",
               "RequestUpdate", "Request", true, {}});

  router.Add(
      "POST", "/api/v1/requests/{id}/assignees",
      Authed(context,
             [&context](Request& request, const hub::Principal& principal) {
               JsonValue body = ParseJsonBody(request);
               Fields fields(body);
               std::string user_id = fields.String("user_id", 1, ID_MAX);
               fields.Finish();
               const std::string id(request.PathParam("id"));
               const bool newly = Unwrap(
                   hub::AssignMaterialsRequest(context.database, principal, id, user_id, NowMs()));
               hub::MaterialsRequest found =
                   Unwrap(hub::ReadMaterialsRequest(context.database, principal, id, NowMs()));
               JsonValue json = JsonValue::MakeObject();
               json.Set("request_id", found.id);
               json.Set("assignees", Strings(found.assignee_ids));
               return Response::Json(newly ? 201 : 200, json.Serialize());
             }),
      RouteDoc{"Assign centre staff to a request (201 when newly assigned, 200 when already): "
               "an assignee reads it whatever its TLP below RED",
               "requests", "RequestAssignee", "RequestAssignees", true, {}});

  router.Add(
      "DELETE", "/api/v1/requests/{id}/assignees/{user_id}",
      Authed(context,
             [&context](Request& request, const hub::Principal& principal) {
               Unwrap(hub::UnassignMaterialsRequest(context.database, principal,
                                                    request.PathParam("id"),
                                                    std::string(request.PathParam("user_id")),
                                                    NowMs()));
               return Response::NoContent();
             }),
      RouteDoc{"Remove an assignee from a request", "requests", "", "", true, {}});

  router.Add(
      "POST", "/api/v1/requests/{id}/responses",
      Authed(context,
             [&context](Request& request, const hub::Principal& principal) {
               JsonValue body = ParseJsonBody(request);
               Fields fields(body);
               std::string text = fields.String("body", 1, BODY_MAX);
               fields.Finish();
               hub::RequestResponse response = Unwrap(hub::AddRequestResponse(
                   context.database, principal, request.PathParam("id"), text, NowMs()));
               return Created(ResponseJson(response),
                              fmt::format("/api/v1/requests/{}/responses/{}",
                                          response.request_id, response.id));
             }),
      RouteDoc{"Answer a request (the addressed organisation; the centre for art. 32)",
               "requests", "RequestResponseCreate", "RequestResponse", true, {}});

  router.Add(
      "POST", "/api/v1/requests/{id}/responses/{response_id}/attachments",
      Authed(context,
             [&context](Request& request, const hub::Principal& principal) {
               if (request.body.size() > context.settings.max_attachment_bytes) {
                 throw ApiError(413, "payload_too_large",
                                fmt::format("attachments are limited to {} bytes",
                                            context.settings.max_attachment_bytes));
               }
               if (request.body.empty()) ThrowBadRequest("the attachment is empty");
               std::string filename = ReadFilename(request);
               std::string content_type = ReadContentType(request);
               hub::RequestAttachment attachment = Unwrap(hub::AddResponseAttachment(
                   context.database, principal, request.PathParam("id"),
                   request.PathParam("response_id"), filename, content_type, request.body,
                   NowMs()));
               Response response =
                   Created(AttachmentJson(attachment),
                           fmt::format("/api/v1/requests/{}/responses/{}/attachments/{}",
                                       request.PathParam("id"), attachment.response_id,
                                       attachment.id));
               // The same file again answers 200 with the attachment it already is.
               if (attachment.already_attached) response.status = 200;
               return response;
             }),
      RouteDoc{"Attach a file to a response (raw body, ?filename=); the same file again "
               "answers 200 with the attachment it already is",
               "requests", "",
               "RequestAttachment", true, {"filename"}});

  router.Add(
      "GET", "/api/v1/requests/{id}/responses/{response_id}/attachments",
      Authed(context,
             [&context](Request& request, const hub::Principal& principal) {
               auto attachments = Unwrap(hub::ListResponseAttachments(
                   context.database, principal, request.PathParam("id"),
                   request.PathParam("response_id")));
               AuditRead(context, principal, "request", request.PathParam("id"),
                         attachments.tlp);
               JsonValue items = JsonValue::MakeArray();
               for (const auto& attachment : attachments.items) {
                 items.Push(AttachmentJson(attachment));
               }
               return ListResponse(items, "");
             }),
      RouteDoc{"The attachments of one response", "requests", "", "RequestAttachmentList", true,
               {}});

  router.Add(
      "GET", "/api/v1/requests/{id}/responses/{response_id}/attachments/{attachment_id}",
      Authed(context,
             [&context](Request& request, const hub::Principal& principal) {
               hub::AttachmentContent content = Unwrap(hub::ReadResponseAttachment(
                   context.database, principal, request.PathParam("id"),
                   request.PathParam("response_id"), request.PathParam("attachment_id")));
               if (content.tlp != hub::Tlp::kClear && content.tlp != hub::Tlp::kGreen) {
                 hub::AuditEntry entry = hub::EntryFor(principal, "request.attachment.read",
                                                       "request",
                                                       std::string(request.PathParam("id")),
                                                       content.tlp);
                 JsonValue detail = JsonValue::MakeObject();
                 detail.Set("attachment_id", content.meta.id);
                 entry.detail = detail.Serialize();
                 context.audit.Record(std::move(entry));
               }
               Response response =
                   Response::Text(200, std::move(content.bytes), content.meta.content_type);
               // Uploaded content is served as a download, never rendered in the console's
               // origin.
               response.headers.Set("Content-Disposition",
                                    ContentDisposition(content.meta.filename));
               response.headers.Set("X-Content-Type-Options", "nosniff");
               response.headers.Set("Content-Security-Policy", "sandbox");
               response.headers.Set("X-Content-SHA256", content.meta.sha256);
               return response;
             }),
      RouteDoc{"Download one attachment", "requests", "", "", true, {}});
}

// ---------------------------------------------------------------------------------------------
// Recommendations

JsonValue RecommendationJson(const hub::Recommendation& r) {
  JsonValue json = JsonValue::MakeObject();
  json.Set("id", r.id);
  json.Set("reference", r.reference);
  json.Set("tlp", std::string(hub::ToString(r.tlp)));
  json.Set("owner_org_id", r.owner_org_id);
  json.Set("author_id", r.author_id);
  json.Set("target_org_id", r.target_org_id);
  json.Set("recipients", Strings({r.target_org_id}));
  json.Set("title", r.title);
  json.Set("body", r.body);
  json.Set("due_at", TimeOrNull(r.due_at));
  json.Set("status", r.status);
  json.Set("overdue", r.overdue);
  json.Set("response", TextOrNull(r.response));
  json.Set("responded_by", TextOrNull(r.responded_by));
  json.Set("responded_at", TimeOrNull(r.responded_at));
  json.Set("follow_up_notes", TextOrNull(r.follow_up_notes));
  json.Set("created_at", FormatTimestampMs(r.created_at));
  json.Set("updated_at", FormatTimestampMs(r.updated_at));
  return json;
}

void RegisterRecommendationRoutes(Router& router, ApiContext& context) {
  router.Add(
      "POST", "/api/v1/recommendations",
      Authed(context,
             [&context](Request& request, const hub::Principal& principal) {
               if (!hub::can::IssueRecommendation(principal)) {
                 ThrowForbidden("only the centre's administrators issue recommendations");
               }
               JsonValue body = ParseJsonBody(request);
               Fields fields(body);
               hub::NewRecommendation input;
               input.target_org_id = fields.String("target_org_id", 1, ID_MAX);
               input.title = fields.String("title", 1, TITLE_MAX);
               input.body = fields.String("body", 1, BODY_MAX);
               input.due_at = fields.OptionalTime("due_at");
               input.tlp = ReadTlp(fields);
               fields.Finish();
               hub::Recommendation created = Unwrap(
                   hub::CreateRecommendation(context.database, principal, input, NowMs()));
               return Created(RecommendationJson(created),
                              "/api/v1/recommendations/" + created.id);
             }),
      RouteDoc{"Issue a recommendation to a ministry or agency (art. 27)", "recommendations",
               "RecommendationCreate", "Recommendation", true, {}});

  router.Add(
      "GET", "/api/v1/recommendations",
      Authed(context,
             [&context](Request& request, const hub::Principal& principal) {
               hub::RecommendationFilter filter;
               filter.status = QueryEnum(request, "status", hub::RecommendationStatusNames());
               filter.target_org_id = QueryId(request, "target_org_id");
               auto page = Unwrap(hub::ListRecommendations(
                   context.database, principal, filter, ReadPageQuery(request), NowMs()));
               AuditList(context, principal, "recommendation", page.items);
               JsonValue items = JsonValue::MakeArray();
               for (const auto& item : page.items) items.Push(RecommendationJson(item));
               return ListResponse(items, NextCursor(page.next));
             }),
      RouteDoc{"Recommendations the caller issued or received",
               "recommendations",
               "",
               "RecommendationList",
               true,
               {"status", "target_org_id", "limit", "cursor"}});

  router.Add(
      "GET", "/api/v1/recommendations/{id}",
      Authed(context,
             [&context](Request& request, const hub::Principal& principal) {
               hub::Recommendation found = Unwrap(hub::ReadRecommendation(
                   context.database, principal, request.PathParam("id"), NowMs()));
               AuditRead(context, principal, "recommendation", found.id, found.tlp);
               return Response::Json(200, RecommendationJson(found).Serialize());
             }),
      RouteDoc{"One recommendation", "recommendations", "", "Recommendation", true, {}});

  router.Add(
      "POST", "/api/v1/recommendations/{id}/response",
      Authed(context,
             [&context](Request& request, const hub::Principal& principal) {
               JsonValue body = ParseJsonBody(request);
               Fields fields(body);
               std::string text = fields.String("response", 1, BODY_MAX);
               fields.Finish();
               hub::Recommendation updated = Unwrap(hub::RespondToRecommendationAs(
                   context.database, principal, request.PathParam("id"), text, NowMs()));
               return Response::Json(200, RecommendationJson(updated).Serialize());
             }),
      RouteDoc{"The agency's response (its org_admin)", "recommendations",
               "RecommendationResponseCreate", "Recommendation", true, {}});

  router.Add(
      "PATCH", "/api/v1/recommendations/{id}",
      Authed(context,
             [&context](Request& request, const hub::Principal& principal) {
               JsonValue body = ParseJsonBody(request);
               Fields fields(body);
               hub::RecommendationUpdate update;
               update.status = fields.OptionalEnum("status", hub::RecommendationStatusNames());
               update.follow_up_notes = fields.OptionalString("follow_up_notes", BODY_MAX);
               fields.Finish();
               hub::Recommendation updated = Unwrap(hub::UpdateRecommendation(
                   context.database, principal, request.PathParam("id"), update, NowMs()));
               return Response::Json(200, RecommendationJson(updated).Serialize());
             }),
      RouteDoc{"Follow-up status and notes (centre_admin)", "recommendations",
               "RecommendationUpdate", "Recommendation", true, {}});
}

// ---------------------------------------------------------------------------------------------
// Schemas

std::string EnumJson(std::span<const std::string_view> names) {
  std::string out = "[";
  for (auto name : names) {
    if (out.size() > 1) out += ',';
    out += '"';
    out += name;
    out += '"';
  }
  return out + "]";
}

void RegisterSchemas(ApiContext& context) {
  const std::string tlp = fmt::format(R"({{"type":"string","enum":{}}})", EnumJson(hub::TlpNames()));
  const std::string time = R"({"type":"string","format":"date-time"})";
  const std::string time_or_null = R"({"type":["string","null"],"format":"date-time"})";
  const std::string text_or_null = R"({"type":["string","null"]})";
  const std::string strings = R"({"type":"array","items":{"type":"string"}})";
  auto list_of = [](std::string_view item) {
    return fmt::format(
        R"({{"type":"object","required":["items","next_cursor"],"properties":{{"items":{{"type":"array","items":{{"$ref":"#/components/schemas/{}"}}}},"next_cursor":{{"type":["string","null"]}}}}}})",
        item);
  };

  RegisterSchema(context, "AdvisoryCreate",
            fmt::format(
                R"({{"type":"object","additionalProperties":false,"required":["title","body","severity","target"],"properties":{{)"
                R"("title":{{"type":"string","minLength":1,"maxLength":200}},)"
                R"("body":{{"type":"string","minLength":1,"maxLength":20000}},)"
                R"("severity":{{"type":"string","enum":{sev}}},"tlp":{tlp},)"
                R"("target":{{"type":"object","additionalProperties":false,"required":["kind"],"properties":{{)"
                R"("kind":{{"type":"string","enum":{kinds}}},"org_id":{{"type":"string"}},)"
                R"("sector":{{"type":"string","enum":{sectors}}}}}}},)"
                R"("recipients":{{"type":"array","items":{{"type":"string"}},"description":"named user ids; required for TLP:RED"}},)"
                R"("references":{{"type":"array","items":{{"type":"string","format":"uri"}}}},)"
                R"("cves":{{"type":"array","items":{{"type":"string","pattern":"^CVE-[0-9]{{4}}-[0-9]{{4,}}$"}}}},)"
                R"("ttps":{{"type":"array","items":{{"type":"string","pattern":"^T[0-9]{{4}}(\\.[0-9]{{3}})?$"}}}}}}}})",
                fmt::arg("sev", EnumJson(hub::AdvisorySeverityNames())), fmt::arg("tlp", tlp),
                fmt::arg("kinds", EnumJson(hub::AdvisoryTargetKindNames())),
                fmt::arg("sectors", EnumJson(hub::SectorNames()))));
  const std::string acknowledgement =
      fmt::format(R"({{"type":"object","required":["org_id","acknowledged","acknowledged_at"],"properties":{{)"
                  R"("org_id":{{"type":"string"}},"org_name":{{"type":"string"}},)"
                  R"("acknowledged":{{"type":"boolean"}},"acknowledged_at":{t},"user_id":{s}}}}})",
                  fmt::arg("t", time_or_null), fmt::arg("s", text_or_null));
  RegisterSchema(context, "AdvisoryAcknowledgement", acknowledgement);
  RegisterSchema(context, "Advisory",
            fmt::format(
                R"({{"type":"object","required":["id","reference","title","body","severity","tlp","target","created_at","updated_at"],"properties":{{)"
                R"("id":{{"type":"string"}},"reference":{{"type":"string"}},"title":{{"type":"string"}},)"
                R"("body":{{"type":"string"}},"severity":{{"type":"string"}},"tlp":{tlp},)"
                R"("owner_org_id":{{"type":"string"}},"author_id":{{"type":"string"}},)"
                R"("target":{{"type":"object","properties":{{"kind":{{"type":"string"}},"org_id":{{"type":"string"}},"sector":{{"type":"string"}}}}}},)"
                R"("references":{strings},"cves":{strings},"ttps":{strings},)"
                R"("created_at":{time},"updated_at":{time},)"
                R"("recipients":{strings},"recipient_org_ids":{strings},)"
                R"("acknowledgement":{{"oneOf":[{{"$ref":"#/components/schemas/AdvisoryAcknowledgement"}},{{"type":"null"}}]}},)"
                R"("acknowledgements":{{"type":"array","items":{{"$ref":"#/components/schemas/AdvisoryAcknowledgement"}}}},)"
                R"("pending":{{"type":"array","items":{{"type":"object","properties":{{"org_id":{{"type":"string"}},"org_name":{{"type":"string"}}}}}}}},)"
                R"("pending_count":{{"type":"integer"}}}}}})",
                fmt::arg("tlp", tlp), fmt::arg("strings", strings), fmt::arg("time", time)));
  RegisterSchema(context, "AdvisoryList", list_of("Advisory"));

  RegisterSchema(context, "RequestCreate",
            fmt::format(
                R"({{"type":"object","additionalProperties":false,"required":["legal_basis","title","body"],)"
                R"("description":"art30/art31: the centre to an organisation, with target_org_id and due_at; art32: a local government to the centre, without target_org_id",)"
                R"("properties":{{"legal_basis":{{"type":"string","enum":{bases}}},)"
                R"("target_org_id":{{"type":"string"}},"title":{{"type":"string","minLength":1,"maxLength":200}},)"
                R"("body":{{"type":"string","minLength":1,"maxLength":20000}},"due_at":{time},)"
                R"("tlp":{{"type":"string","enum":["clear","green","amber","amber+strict"]}}}}}})",
                fmt::arg("bases", EnumJson(hub::LegalBasisNames())), fmt::arg("time", time)));
  RegisterSchema(context, "RequestUpdate",
            R"({"type":"object","additionalProperties":false,"required":["status"],"properties":{"status":{"type":"string","enum":["closed","withdrawn"]}}})");
  RegisterSchema(context, "RequestResponseCreate",
            R"({"type":"object","additionalProperties":false,"required":["body"],"properties":{"body":{"type":"string","minLength":1,"maxLength":20000}}})");
  RegisterSchema(context, "RequestAttachment",
            fmt::format(
                R"({{"type":"object","required":["id","filename","size","sha256"],"properties":{{)"
                R"("id":{{"type":"string"}},"response_id":{{"type":"string"}},"filename":{{"type":"string"}},)"
                R"("content_type":{{"type":"string"}},"size":{{"type":"integer"}},"sha256":{{"type":"string"}},)"
                R"("uploaded_by":{{"type":"string"}},"uploaded_at":{time}}}}})",
                fmt::arg("time", time)));
  RegisterSchema(context, "RequestAttachmentList", list_of("RequestAttachment"));
  RegisterSchema(context, "RequestResponse",
            fmt::format(
                R"({{"type":"object","required":["id","body","created_at"],"properties":{{)"
                R"("id":{{"type":"string"}},"request_id":{{"type":"string"}},"author_id":{{"type":"string"}},)"
                R"("org_id":{{"type":"string"}},"body":{{"type":"string"}},"created_at":{time},)"
                R"("attachments":{{"type":"array","items":{{"$ref":"#/components/schemas/RequestAttachment"}}}}}}}})",
                fmt::arg("time", time)));
  RegisterSchema(context, "Request",
            fmt::format(
                R"({{"type":"object","required":["id","reference","direction","legal_basis","status","overdue"],"properties":{{)"
                R"("id":{{"type":"string"}},"reference":{{"type":"string"}},)"
                R"("direction":{{"type":"string","enum":{dirs}}},"legal_basis":{{"type":"string","enum":{bases}}},)"
                R"("tlp":{tlp},"owner_org_id":{{"type":"string"}},"author_id":{{"type":"string"}},)"
                R"("requester_org_id":{{"type":"string"}},"target_org_id":{{"type":"string"}},"recipients":{strings},)"
                R"("title":{{"type":"string"}},"body":{{"type":"string"}},"due_at":{tn},)"
                R"("status":{{"type":"string","enum":{statuses}}},"overdue":{{"type":"boolean"}},)"
                R"("created_at":{time},"updated_at":{time},"answered_at":{tn},)"
                R"("assignees":{{"type":"array","items":{{"type":"string"}},"description":"centre staff assigned to the request"}},)"
                R"("responses":{{"type":"array","items":{{"$ref":"#/components/schemas/RequestResponse"}}}}}}}})",
                fmt::arg("dirs", EnumJson(hub::RequestDirectionNames())),
                fmt::arg("bases", EnumJson(hub::LegalBasisNames())), fmt::arg("tlp", tlp),
                fmt::arg("strings", strings), fmt::arg("tn", time_or_null),
                fmt::arg("statuses", EnumJson(hub::RequestStatusNames())),
                fmt::arg("time", time)));
  RegisterSchema(context, "RequestList", list_of("Request"));
  RegisterSchema(context, "RequestAssignee",
            R"({"type":"object","additionalProperties":false,"required":["user_id"],"properties":{"user_id":{"type":"string","description":"a centre staff user"}}})");
  RegisterSchema(context, "RequestAssignees",
            R"({"type":"object","required":["request_id","assignees"],"properties":{"request_id":{"type":"string"},"assignees":{"type":"array","items":{"type":"string"}}}})");

  RegisterSchema(context, "RecommendationCreate",
            fmt::format(
                R"({{"type":"object","additionalProperties":false,"required":["target_org_id","title","body"],"properties":{{)"
                R"("target_org_id":{{"type":"string","description":"a ministry or agency"}},)"
                R"("title":{{"type":"string","minLength":1,"maxLength":200}},)"
                R"("body":{{"type":"string","minLength":1,"maxLength":20000}},"due_at":{time},)"
                R"("tlp":{{"type":"string","enum":["clear","green","amber","amber+strict"]}}}}}})",
                fmt::arg("time", time)));
  RegisterSchema(context, "RecommendationResponseCreate",
            R"({"type":"object","additionalProperties":false,"required":["response"],"properties":{"response":{"type":"string","minLength":1,"maxLength":20000}}})");
  RegisterSchema(context, "RecommendationUpdate",
            fmt::format(
                R"({{"type":"object","additionalProperties":false,"minProperties":1,"properties":{{)"
                R"("status":{{"type":"string","enum":{statuses}}},"follow_up_notes":{{"type":"string","maxLength":20000}}}}}})",
                fmt::arg("statuses", EnumJson(hub::RecommendationStatusNames()))));
  RegisterSchema(context, "Recommendation",
            fmt::format(
                R"({{"type":"object","required":["id","reference","target_org_id","status","overdue"],"properties":{{)"
                R"("id":{{"type":"string"}},"reference":{{"type":"string"}},"tlp":{tlp},)"
                R"("owner_org_id":{{"type":"string"}},"author_id":{{"type":"string"}},)"
                R"("target_org_id":{{"type":"string"}},"recipients":{strings},)"
                R"("title":{{"type":"string"}},"body":{{"type":"string"}},"due_at":{tn},)"
                R"("status":{{"type":"string","enum":{statuses}}},"overdue":{{"type":"boolean"}},)"
                R"("response":{sn},"responded_by":{sn},"responded_at":{tn},"follow_up_notes":{sn},)"
                R"("created_at":{time},"updated_at":{time}}}}})",
                fmt::arg("tlp", tlp), fmt::arg("strings", strings), fmt::arg("tn", time_or_null),
                fmt::arg("sn", text_or_null),
                fmt::arg("statuses", EnumJson(hub::RecommendationStatusNames())),
                fmt::arg("time", time)));
  RegisterSchema(context, "RecommendationList", list_of("Recommendation"));
}

}  // namespace

void RegisterCoordinationRoutes(Router& router, ApiContext& context) {
  RegisterSchemas(context);
  RegisterAdvisoryRoutes(router, context);
  RegisterRequestRoutes(router, context);
  RegisterRecommendationRoutes(router, context);
}

}  // namespace yagura::http

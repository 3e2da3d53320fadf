// Requests for materials (see requests.hpp).
//
// The audience is set once, at creation. Outbound, the centre owns the request and the
// addressed organisation holds an 'org' grant; inbound, the local government owns it, the
// centre holds the grant, and it is centre intake so the duty officers see it at any TLP below
// RED. At TLP:AMBER+STRICT the policy shows an object only to its owning organisation, so an
// outbound AMBER+STRICT request is owned by the organisation that must answer it and marked as
// centre intake, which keeps it visible to its author and the centre's duty officers. TLP:RED
// is refused: a request has no named recipients, so nobody at the addressed organisation could
// read it. The requester's organisation is stored separately from the owner, because only the
// requesting side closes or withdraws.
#include "hub/requests.hpp"

#include <algorithm>
#include <array>

#include <fmt/format.h>

#include "core/json_value.hpp"
#include "hub/audit_log.hpp"
#include "hub/crypto.hpp"
#include "hub/keyset.hpp"

namespace yagura::hub {
namespace {

using coordination::Conflict;
using coordination::Forbidden;
using coordination::Invalid;
using coordination::NotFound;
using store::Param;

constexpr std::array<std::string_view, 3> LEGAL_BASIS_NAMES = {"art30", "art31", "art32"};
constexpr std::array<std::string_view, 4> STATUS_NAMES = {"open", "answered", "closed",
                                                          "withdrawn"};
constexpr std::array<std::string_view, 2> DIRECTION_NAMES = {"outbound", "inbound"};

constexpr const char* REQUEST_COLUMNS =
    "r.id, r.reference, r.direction, r.legal_basis, r.requester_org_id, r.owner_org_id, "
    "r.author_id, r.tlp, r.target_org_id, r.title, r.body, r.due_at, r.status, r.created_at, "
    "r.updated_at, r.answered_at";

constexpr const char* ATTACHMENT_COLUMNS =
    "f.id, f.object_id, f.filename, f.content_type, f.size, f.sha256, f.uploaded_by, "
    "f.uploaded_at";

bool IsOverdue(const MaterialsRequest& request, int64_t now_ms) {
  return request.status == "open" && request.due_at && *request.due_at < now_ms;
}

MaterialsRequest RequestFromRow(const std::vector<store::Field>& row, int64_t now_ms) {
  MaterialsRequest request;
  request.id = row[0].text();
  request.reference = row[1].text();
  request.direction = row[2].text();
  request.legal_basis = row[3].text();
  request.requester_org_id = row[4].text();
  request.owner_org_id = row[5].text();
  request.author_id = row[6].text();
  request.tlp = ParseTlp(row[7].text()).value_or(Tlp::kRed);
  request.target_org_id = row[8].text();
  request.title = row[9].text();
  request.body = row[10].text();
  if (!row[11].is_null()) request.due_at = row[11].as_int();
  request.status = row[12].text();
  request.created_at = row[13].as_int();
  request.updated_at = row[14].as_int();
  if (!row[15].is_null()) request.answered_at = row[15].as_int();
  request.overdue = IsOverdue(request, now_ms);
  return request;
}

RequestAttachment AttachmentFromRow(const std::vector<store::Field>& row) {
  RequestAttachment attachment;
  attachment.id = row[0].text();
  attachment.response_id = row[1].text();
  attachment.filename = row[2].text();
  attachment.content_type = row[3].text();
  attachment.size = row[4].as_int();
  attachment.sha256 = row[5].text();
  attachment.uploaded_by = row[6].text();
  attachment.uploaded_at = row[7].as_int();
  return attachment;
}

std::optional<MaterialsRequest> LoadRequest(store::Connection& connection, std::string_view id,
                                            int64_t now_ms) {
  store::Rows rows =
      connection.Query(fmt::format("SELECT {} FROM requests r WHERE r.id = $1", REQUEST_COLUMNS),
                       {Param{std::string(id)}});
  if (rows.empty()) return std::nullopt;
  return RequestFromRow(rows.rows[0], now_ms);
}

// The request and its marking when the principal may read it; kNotFound otherwise, so a
// request the caller may not see looks exactly like one that does not exist.
struct Visible {
  MaterialsRequest request;
  Marking marking;
};
CoordinationResult<Visible> LoadVisible(store::Connection& connection, const Principal& principal,
                                        std::string_view id, int64_t now_ms) {
  auto marking = coordination::LoadMarking(connection, "requests", "request", id);
  if (!marking || !CanRead(principal, *marking)) {
    return tl::unexpected(NotFound("request not found"));
  }
  auto request = LoadRequest(connection, id, now_ms);
  if (!request) return tl::unexpected(NotFound("request not found"));
  request->assignee_ids = marking->assignee_ids;
  return Visible{std::move(*request), std::move(*marking)};
}

bool MayAnswer(const Principal& principal, const Visible& visible) {
  return visible.request.direction == "inbound" ? can::AnswerInboundRequest(principal)
                                                : can::AnswerRequest(principal, visible.marking);
}

bool IsRequester(const Principal& principal, const MaterialsRequest& request) {
  if (principal.org_id != request.requester_org_id) return false;
  return request.direction == "inbound" ? can::CreateInboundRequest(principal)
                                        : can::CreateRequest(principal);
}

std::string AuditDetail(std::initializer_list<std::pair<std::string_view, JsonValue>> members) {
  JsonValue detail = JsonValue::MakeObject();
  for (const auto& [key, value] : members) detail.Set(key, value);
  return detail.Serialize();
}

}  // namespace

std::span<const std::string_view> LegalBasisNames() { return LEGAL_BASIS_NAMES; }
std::span<const std::string_view> RequestStatusNames() { return STATUS_NAMES; }
std::span<const std::string_view> RequestDirectionNames() { return DIRECTION_NAMES; }

bool LegalBasisCovers(std::string_view legal_basis, OrgType type) {
  if (legal_basis == "art30") return type == OrgType::kMinistry;
  if (legal_basis == "art31") {
    return type == OrgType::kLocalGovernment || type == OrgType::kIndependentAgency ||
           type == OrgType::kCriticalInfrastructure;
  }
  return false;  // art32 goes the other way: from a local government to the centre
}

CoordinationResult<MaterialsRequest> CreateMaterialsRequest(store::Database& database,
                                                            const Principal& principal,
                                                            const NewMaterialsRequest& input,
                                                            int64_t now_ms) {
  const bool inbound = input.legal_basis == "art32";
  if (!inbound && input.legal_basis != "art30" && input.legal_basis != "art31") {
    return tl::unexpected(Invalid("unknown legal basis", "legal_basis"));
  }
  if (inbound ? !can::CreateInboundRequest(principal) : !can::CreateRequest(principal)) {
    return tl::unexpected(Forbidden(
        inbound ? "only local governments ask the centre under art. 32"
                : "only the centre's administrators and analysts request materials"));
  }
  if (input.tlp == Tlp::kRed) {
    return tl::unexpected(Invalid(
        "a request has no named recipients, so it cannot be TLP:RED; use AMBER+STRICT", "tlp"));
  }
  if (!inbound && !input.due_at) return tl::unexpected(Invalid("due_at is required", "due_at"));
  if (input.due_at && *input.due_at <= now_ms) {
    return tl::unexpected(Invalid("due_at must be in the future", "due_at"));
  }

  std::string id = NewId();
  auto created = database.Transact([&](store::Connection& connection)
                                       -> CoordinationResult<std::string> {
    Marking marking;
    marking.tlp = input.tlp;
    marking.author_id = principal.user_id;
    marking.addressed = true;
    std::string target_org_id;
    if (inbound) {
      auto centre = coordination::CentreOrgId(connection);
      if (!centre) return tl::unexpected(Conflict("the centre's organisation is not set up"));
      target_org_id = *centre;
      marking.owner_org_id = principal.org_id;
      marking.centre_intake = true;
    } else {
      auto target = coordination::FindOrganization(connection, input.target_org_id);
      if (!target) return tl::unexpected(Invalid("unknown organisation", "target_org_id"));
      if (!LegalBasisCovers(input.legal_basis, target->type)) {
        return tl::unexpected(Invalid(
            input.legal_basis == "art30"
                ? "art. 30 requests go to ministries and agencies"
                : "art. 31 requests go to local governments, independent administrative "
                  "agencies and critical-infrastructure operators",
            "target_org_id"));
      }
      target_org_id = target->id;
      if (input.tlp == Tlp::kAmberStrict) {
        marking.owner_org_id = target->id;
        marking.centre_intake = true;
      } else {
        marking.owner_org_id = principal.org_id;
      }
    }
    marking.shared_org_ids = {target_org_id};

    std::string reference = coordination::NextReference(connection, "REQ", now_ms);
    connection.Execute(
        "INSERT INTO requests (id, reference, direction, legal_basis, requester_org_id, "
        "owner_org_id, author_id, tlp, addressed, centre_intake, target_org_id, title, body, "
        "due_at, status, created_at, updated_at, answered_at) VALUES ($1, $2, $3, $4, $5, $6, "
        "$7, $8, 1, $9, $10, $11, $12, $13, 'open', $14, $14, NULL)",
        {Param{id}, Param{reference}, Param{std::string(inbound ? "inbound" : "outbound")},
         Param{input.legal_basis}, Param{principal.org_id}, Param{marking.owner_org_id},
         Param{principal.user_id}, Param{std::string(ToString(input.tlp))},
         Param{int64_t{marking.centre_intake ? 1 : 0}}, Param{target_org_id},
         Param{input.title}, Param{input.body},
         input.due_at ? Param{*input.due_at} : Param{nullptr}, Param{now_ms}});
    SaveGrants(connection, "request", id, marking);
    AuditEntry entry = EntryFor(principal, "request.create", "request", id, input.tlp);
    entry.detail = AuditDetail({{"reference", reference},
                                {"legal_basis", input.legal_basis},
                                {"target_org_id", target_org_id}});
    AuditLog::Append(connection, entry, now_ms);
    return id;
  });
  if (!created) return tl::unexpected(created.error());
  return ReadMaterialsRequest(database, principal, *created, now_ms);
}

CoordinationResult<MaterialsRequest> ReadMaterialsRequest(store::Database& database,
                                                          const Principal& principal,
                                                          std::string_view id, int64_t now_ms) {
  auto connection = database.Acquire();
  auto visible = LoadVisible(*connection, principal, id, now_ms);
  if (!visible) return tl::unexpected(visible.error());
  MaterialsRequest request = std::move(visible->request);
  store::Rows responses = connection->Query(
      "SELECT id, author_id, org_id, body, created_at FROM request_responses "
      "WHERE request_id = $1 ORDER BY created_at, id",
      {Param{std::string(id)}});
  for (const auto& row : responses.rows) {
    RequestResponse response;
    response.id = row[0].text();
    response.request_id = request.id;
    response.author_id = row[1].text();
    response.org_id = row[2].text();
    response.body = row[3].text();
    response.created_at = row[4].as_int();
    request.responses.push_back(std::move(response));
  }
  store::Rows attachments = connection->Query(
      fmt::format("SELECT {} FROM attachments f JOIN request_responses p ON "
                  "f.object_type = 'request_response' AND f.object_id = p.id "
                  "WHERE p.request_id = $1 ORDER BY f.uploaded_at, f.id",
                  ATTACHMENT_COLUMNS),
      {Param{std::string(id)}});
  for (const auto& row : attachments.rows) {
    RequestAttachment attachment = AttachmentFromRow(row);
    for (auto& response : request.responses) {
      if (response.id == attachment.response_id) response.attachments.push_back(attachment);
    }
  }
  return request;
}

CoordinationResult<Page<MaterialsRequest>> ListMaterialsRequests(
    store::Database& database, const Principal& principal, const MaterialsRequestFilter& filter,
    const PageQuery& page, int64_t now_ms) {
  if (filter.direction && std::find(DIRECTION_NAMES.begin(), DIRECTION_NAMES.end(),
                                    *filter.direction) == DIRECTION_NAMES.end()) {
    return tl::unexpected(Invalid("unknown direction", "direction"));
  }
  if (filter.status &&
      std::find(STATUS_NAMES.begin(), STATUS_NAMES.end(), *filter.status) == STATUS_NAMES.end()) {
    return tl::unexpected(Invalid("unknown status", "status"));
  }
  SqlCondition readable = ReadCondition(principal, "request", "r", 1);
  std::vector<Param> params = readable.params;
  auto next_param = [&](const Param& value) {
    params.push_back(value);
    return fmt::format("${}", params.size());
  };
  std::string sql =
      fmt::format("SELECT {} FROM requests r WHERE {}", REQUEST_COLUMNS, readable.sql);
  if (filter.direction) sql += " AND r.direction = " + next_param(Param{*filter.direction});
  if (filter.status) sql += " AND r.status = " + next_param(Param{*filter.status});
  if (filter.target_org_id) {
    sql += " AND r.target_org_id = " + next_param(Param{*filter.target_org_id});
  }
  if (filter.assigned_to_me) {
    sql +=
        " AND EXISTS (SELECT 1 FROM access_grants a WHERE a.object_type = 'request' AND "
        "a.object_id = r.id AND a.kind = 'assignee' AND a.principal_id = " +
        next_param(Param{principal.user_id}) + ")";
  }
  if (filter.overdue) {
    std::string now = next_param(Param{now_ms});
    sql += *filter.overdue
               ? fmt::format(" AND r.status = 'open' AND r.due_at IS NOT NULL AND r.due_at < {}",
                             now)
               : fmt::format(" AND (r.status <> 'open' OR r.due_at IS NULL OR r.due_at >= {})",
                             now);
  }
  if (page.after) {
    sql += KeysetCondition("r", KeysetOrder::kNewestFirst, page.after->created_at, page.after->id,
                           params);
  }
  int limit = std::clamp(page.limit, 1, 200);
  sql += fmt::format(" ORDER BY r.created_at DESC, r.id DESC LIMIT {}", limit + 1);

  auto connection = database.Acquire();
  store::Rows rows = connection->Query(sql, params);
  Page<MaterialsRequest> result;
  for (const auto& row : rows.rows) {
    if (result.items.size() == static_cast<size_t>(limit)) {
      result.next = PagePosition{result.items.back().created_at, result.items.back().id};
      break;
    }
    result.items.push_back(RequestFromRow(row, now_ms));
  }
  // The page's assignees in one query.
  if (!result.items.empty()) {
    std::vector<Param> ids;
    std::string placeholders;
    for (const auto& item : result.items) {
      ids.push_back(Param{item.id});
      placeholders += fmt::format("{}${}", placeholders.empty() ? "" : ", ", ids.size());
    }
    store::Rows assigned = connection->Query(
        fmt::format("SELECT object_id, principal_id FROM access_grants WHERE object_type = "
                    "'request' AND kind = 'assignee' AND object_id IN ({}) ORDER BY principal_id",
                    placeholders),
        ids);
    for (const auto& row : assigned.rows) {
      for (auto& item : result.items) {
        if (item.id == row[0].text()) item.assignee_ids.push_back(row[1].text());
      }
    }
  }
  return result;
}

CoordinationResult<RequestResponse> AddRequestResponse(store::Database& database,
                                                       const Principal& principal,
                                                       std::string_view request_id,
                                                       const std::string& body, int64_t now_ms) {
  return database.Transact([&](store::Connection& connection)
                               -> CoordinationResult<RequestResponse> {
    auto visible = LoadVisible(connection, principal, request_id, now_ms);
    if (!visible) return tl::unexpected(visible.error());
    if (!MayAnswer(principal, *visible)) {
      return tl::unexpected(Forbidden("only the addressed organisation answers this request"));
    }
    const MaterialsRequest& request = visible->request;
    if (request.status != "open" && request.status != "answered") {
      return tl::unexpected(Conflict(fmt::format("the request is {}", request.status)));
    }
    RequestResponse response;
    response.id = NewId();
    response.request_id = request.id;
    response.author_id = principal.user_id;
    response.org_id = principal.org_id;
    response.body = body;
    response.created_at = now_ms;
    connection.Execute(
        "INSERT INTO request_responses (id, request_id, author_id, org_id, body, created_at) "
        "VALUES ($1, $2, $3, $4, $5, $6)",
        {Param{response.id}, Param{request.id}, Param{principal.user_id}, Param{principal.org_id},
         Param{body}, Param{now_ms}});
    connection.Execute(
        "UPDATE requests SET status = 'answered', updated_at = $2, "
        "answered_at = COALESCE(answered_at, $2) WHERE id = $1",
        {Param{request.id}, Param{now_ms}});
    AuditEntry entry = EntryFor(principal, "request.respond", "request", request.id, request.tlp);
    entry.detail = AuditDetail({{"response_id", response.id},
                                {"from_status", request.status},
                                {"to_status", "answered"}});
    AuditLog::Append(connection, entry, now_ms);
    return response;
  });
}

CoordinationResult<RequestAttachment> AddResponseAttachment(
    store::Database& database, const Principal& principal, std::string_view request_id,
    std::string_view response_id, const std::string& filename, const std::string& content_type,
    const std::string& bytes, int64_t now_ms) {
  return database.Transact([&](store::Connection& connection)
                               -> CoordinationResult<RequestAttachment> {
    auto visible = LoadVisible(connection, principal, request_id, now_ms);
    if (!visible) return tl::unexpected(visible.error());
    store::Rows response = connection.Query(
        "SELECT org_id FROM request_responses WHERE id = $1 AND request_id = $2",
        {Param{std::string(response_id)}, Param{std::string(request_id)}});
    if (response.empty()) return tl::unexpected(NotFound("response not found"));
    if (!MayAnswer(principal, *visible) || response.rows[0][0].text() != principal.org_id) {
      return tl::unexpected(Forbidden("only the responding organisation attaches files"));
    }
    const MaterialsRequest& request = visible->request;
    if (request.status != "open" && request.status != "answered") {
      return tl::unexpected(Conflict(fmt::format("the request is {}", request.status)));
    }
    const std::string sha256 = Sha256Hex(bytes);
    const auto size = static_cast<int64_t>(bytes.size());
    // Two identical uploads at once must not both find nothing and both insert.
    store::SerializeWith(connection,
                         fmt::format("attachment request_response {} {}", response_id, sha256));
    store::Rows same = connection.Query(
        fmt::format("SELECT {} FROM attachments f WHERE f.object_type = 'request_response' AND "
                    "f.object_id = $1 AND f.filename = $2 AND f.size = $3 AND f.sha256 = $4 "
                    "ORDER BY f.uploaded_at, f.id LIMIT 1",
                    ATTACHMENT_COLUMNS),
        {Param{std::string(response_id)}, Param{filename}, Param{size}, Param{sha256}});
    if (!same.empty()) {
      RequestAttachment attachment = AttachmentFromRow(same.rows[0]);
      attachment.already_attached = true;
      AuditEntry entry = EntryFor(principal, "request.attach", "request", request.id, request.tlp);
      entry.detail = AuditDetail({{"response_id", attachment.response_id},
                                  {"attachment_id", attachment.id},
                                  {"filename", attachment.filename},
                                  {"size", attachment.size},
                                  {"sha256", attachment.sha256},
                                  {"already_attached", true}});
      AuditLog::Append(connection, entry, now_ms);
      return attachment;
    }
    RequestAttachment attachment;
    attachment.id = NewId();
    attachment.response_id = std::string(response_id);
    attachment.filename = filename;
    attachment.content_type = content_type;
    attachment.size = size;
    attachment.sha256 = sha256;
    attachment.uploaded_by = principal.user_id;
    attachment.uploaded_at = now_ms;
    connection.Execute(
        "INSERT INTO attachments (id, object_type, object_id, filename, content_type, size, "
        "sha256, content, uploaded_by, uploaded_at) "
        "VALUES ($1, 'request_response', $2, $3, $4, $5, $6, $7, $8, $9)",
        {Param{attachment.id}, Param{attachment.response_id}, Param{filename},
         Param{content_type}, Param{attachment.size}, Param{attachment.sha256},
         Param{store::Blob{bytes}}, Param{principal.user_id}, Param{now_ms}});
    connection.Execute("UPDATE requests SET updated_at = $2 WHERE id = $1",
                       {Param{request.id}, Param{now_ms}});
    AuditEntry entry = EntryFor(principal, "request.attach", "request", request.id, request.tlp);
    entry.detail = AuditDetail({{"response_id", attachment.response_id},
                                {"attachment_id", attachment.id},
                                {"filename", filename},
                                {"size", attachment.size},
                                {"sha256", attachment.sha256}});
    AuditLog::Append(connection, entry, now_ms);
    return attachment;
  });
}

CoordinationResult<ResponseAttachments> ListResponseAttachments(
    store::Database& database, const Principal& principal, std::string_view request_id,
    std::string_view response_id) {
  auto connection = database.Acquire();
  auto visible = LoadVisible(*connection, principal, request_id, 0);
  if (!visible) return tl::unexpected(visible.error());
  store::Rows response = connection->Query(
      "SELECT 1 FROM request_responses WHERE id = $1 AND request_id = $2",
      {Param{std::string(response_id)}, Param{std::string(request_id)}});
  if (response.empty()) return tl::unexpected(NotFound("response not found"));
  store::Rows rows = connection->Query(
      fmt::format("SELECT {} FROM attachments f WHERE f.object_type = 'request_response' AND "
                  "f.object_id = $1 ORDER BY f.uploaded_at, f.id",
                  ATTACHMENT_COLUMNS),
      {Param{std::string(response_id)}});
  ResponseAttachments attachments;
  attachments.tlp = visible->request.tlp;
  for (const auto& row : rows.rows) attachments.items.push_back(AttachmentFromRow(row));
  return attachments;
}

CoordinationResult<AttachmentContent> ReadResponseAttachment(store::Database& database,
                                                             const Principal& principal,
                                                             std::string_view request_id,
                                                             std::string_view response_id,
                                                             std::string_view attachment_id) {
  auto connection = database.Acquire();
  auto visible = LoadVisible(*connection, principal, request_id, 0);
  if (!visible) return tl::unexpected(visible.error());
  // The join pins the attachment to this request's response, so an id from elsewhere is 404.
  store::Rows rows = connection->Query(
      fmt::format("SELECT {}, f.content FROM attachments f JOIN request_responses p ON "
                  "f.object_type = 'request_response' AND f.object_id = p.id "
                  "WHERE f.id = $1 AND p.id = $2 AND p.request_id = $3",
                  ATTACHMENT_COLUMNS),
      {Param{std::string(attachment_id)}, Param{std::string(response_id)},
       Param{std::string(request_id)}});
  if (rows.empty()) return tl::unexpected(NotFound("attachment not found"));
  AttachmentContent content;
  content.meta = AttachmentFromRow(rows.rows[0]);
  content.bytes = rows.rows[0][8].text();
  content.tlp = visible->request.tlp;
  return content;
}

CoordinationResult<bool> AssignMaterialsRequest(store::Database& database,
                                                const Principal& principal, std::string_view id,
                                                const std::string& user_id, int64_t now_ms) {
  return database.Transact([&](store::Connection& connection) -> CoordinationResult<bool> {
    auto visible = LoadVisible(connection, principal, id, now_ms);
    if (!visible) return tl::unexpected(visible.error());
    if (!can::AssignRequest(principal)) {
      return tl::unexpected(
          Forbidden("only the centre's administrators and analysts assign requests"));
    }
    const bool staff = PlausibleId(user_id) &&
                       !connection
                            .Query(
                                "SELECT u.id FROM users u JOIN organizations o ON o.id = u.org_id "
                                "WHERE u.id = $1 AND o.type = 'centre' AND u.disabled = 0",
                                {Param{user_id}})
                            .empty();
    if (!staff)
      return tl::unexpected(Invalid("user_id names no active centre staff user", "user_id"));
    Marking& marking = visible->marking;
    if (std::find(marking.assignee_ids.begin(), marking.assignee_ids.end(), user_id) !=
        marking.assignee_ids.end()) {
      return false;
    }
    marking.assignee_ids.push_back(user_id);
    SaveGrants(connection, "request", visible->request.id, marking);
    connection.Execute("UPDATE requests SET updated_at = $2 WHERE id = $1",
                       {Param{visible->request.id}, Param{now_ms}});
    AuditEntry entry =
        EntryFor(principal, "request.assign", "request", visible->request.id, visible->request.tlp);
    entry.detail = AuditDetail({{"user_id", user_id}});
    AuditLog::Append(connection, entry, now_ms);
    return true;
  });
}

CoordinationResult<void> UnassignMaterialsRequest(store::Database& database,
                                                  const Principal& principal, std::string_view id,
                                                  const std::string& user_id, int64_t now_ms) {
  return database.Transact([&](store::Connection& connection) -> CoordinationResult<void> {
    auto visible = LoadVisible(connection, principal, id, now_ms);
    if (!visible) return tl::unexpected(visible.error());
    if (!can::AssignRequest(principal)) {
      return tl::unexpected(
          Forbidden("only the centre's administrators and analysts assign requests"));
    }
    Marking& marking = visible->marking;
    auto it = std::find(marking.assignee_ids.begin(), marking.assignee_ids.end(), user_id);
    if (it == marking.assignee_ids.end()) {
      return tl::unexpected(NotFound("that user is not assigned to the request"));
    }
    marking.assignee_ids.erase(it);
    SaveGrants(connection, "request", visible->request.id, marking);
    connection.Execute("UPDATE requests SET updated_at = $2 WHERE id = $1",
                       {Param{visible->request.id}, Param{now_ms}});
    AuditEntry entry = EntryFor(principal, "request.unassign", "request", visible->request.id,
                                visible->request.tlp);
    entry.detail = AuditDetail({{"user_id", user_id}});
    AuditLog::Append(connection, entry, now_ms);
    return {};
  });
}

CoordinationResult<MaterialsRequest> TransitionMaterialsRequest(store::Database& database,
                                                                const Principal& principal,
                                                                std::string_view id,
                                                                const std::string& status,
                                                                int64_t now_ms) {
  if (status != "closed" && status != "withdrawn") {
    return tl::unexpected(Invalid("status must be closed or withdrawn", "status"));
  }
  auto changed = database.Transact([&](store::Connection& connection)
                                       -> CoordinationResult<bool> {
    auto visible = LoadVisible(connection, principal, id, now_ms);
    if (!visible) return tl::unexpected(visible.error());
    const MaterialsRequest& request = visible->request;
    if (!IsRequester(principal, request)) {
      return tl::unexpected(Forbidden("only the requesting side closes or withdraws a request"));
    }
    const std::string_view from = status == "closed" ? "answered" : "open";
    if (request.status != from) {
      return tl::unexpected(Conflict(
          fmt::format("a {} request cannot become {}; only an {} one can", request.status,
                      status, from)));
    }
    connection.Execute("UPDATE requests SET status = $2, updated_at = $3 WHERE id = $1",
                       {Param{request.id}, Param{status}, Param{now_ms}});
    AuditEntry entry =
        EntryFor(principal, "request.transition", "request", request.id, request.tlp);
    entry.detail = AuditDetail({{"from_status", request.status}, {"to_status", status}});
    AuditLog::Append(connection, entry, now_ms);
    return true;
  });
  if (!changed) return tl::unexpected(changed.error());
  return ReadMaterialsRequest(database, principal, id, now_ms);
}

}  // namespace yagura::hub

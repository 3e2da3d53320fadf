// Requests for materials and cooperation, in both directions the Act provides.
//
// Outbound, the centre asks an organisation for materials by a due date: art. 30 obliges the
// ministries and agencies (OrgType::kMinistry) to provide them; art. 31 lets the centre ask
// local governments, independent administrative agencies and — through the liaison bodies the
// article names — critical-infrastructure operators. Inbound, art. 32 lets a local government
// ask the centre for information and cooperation. The legal basis decides the direction, and
// LegalBasisCovers() is the one place that maps a basis to the organisations it reaches.
//
// A request is addressed: the requesting side owns it, the addressed organisation holds an
// 'org' grant, and nobody else sees it, but for centre staff assigned to it: the centre's
// administrators and analysts assign colleagues to the requests the centre takes part in (all of
// them: it sends art. 30 and 31 requests and receives art. 32 ones), which is how an analyst
// comes to work on a TLP:AMBER+STRICT request that otherwise only the duty officers see. Status
// runs open -> answered (first response) -> closed (by the requester), or open -> withdrawn (by the
// requester). Responses carry text and attachments (the shared attachments table, object type
// "request_response"). A request is overdue while it is open past its due date; "now" comes from
// the caller, so the flag and the ?overdue filter are computed at read time, never stored.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "hub/advisories.hpp"
#include "hub/policy.hpp"
#include "hub/principal.hpp"
#include "store/database.hpp"

namespace yagura::hub {

// "art30", "art31", "art32".
std::span<const std::string_view> LegalBasisNames();
// "open", "answered", "closed", "withdrawn".
std::span<const std::string_view> RequestStatusNames();
// "outbound" (centre -> organisation), "inbound" (local government -> centre).
std::span<const std::string_view> RequestDirectionNames();

// Whether an outbound request under `legal_basis` may be addressed to an organisation of
// `type`: art30 -> ministry; art31 -> local_government, independent_agency,
// critical_infrastructure. art32 is inbound only and addresses the centre.
bool LegalBasisCovers(std::string_view legal_basis, OrgType type);

struct NewMaterialsRequest {
  std::string legal_basis;    // art30 | art31 (outbound), art32 (inbound)
  std::string target_org_id;  // outbound only
  std::string title;
  std::string body;
  std::optional<int64_t> due_at;  // required outbound
  Tlp tlp = Tlp::kAmber;
};

struct RequestAttachment {
  std::string id;
  std::string response_id;
  std::string filename;
  std::string content_type;
  int64_t size = 0;
  std::string sha256;
  std::string uploaded_by;
  int64_t uploaded_at = 0;
  // Set by AddResponseAttachment when the response already had this file (the same name, size
  // and SHA-256): that attachment is returned and nothing is stored again (a retried upload).
  bool already_attached = false;
};

struct RequestResponse {
  std::string id;
  std::string request_id;
  std::string author_id;
  std::string org_id;
  std::string body;
  int64_t created_at = 0;
  std::vector<RequestAttachment> attachments;
};

struct MaterialsRequest {
  std::string id;
  std::string reference;
  std::string direction;
  std::string legal_basis;
  std::string requester_org_id;
  std::string owner_org_id;
  std::string author_id;
  Tlp tlp = Tlp::kAmber;
  std::string target_org_id;
  std::string title;
  std::string body;
  std::optional<int64_t> due_at;
  std::string status;
  int64_t created_at = 0;
  int64_t updated_at = 0;
  std::optional<int64_t> answered_at;
  bool overdue = false;
  std::vector<std::string> assignee_ids;   // centre staff assigned to it
  std::vector<RequestResponse> responses;  // single reads only
};

struct MaterialsRequestFilter {
  std::optional<std::string> direction;
  std::optional<std::string> status;
  std::optional<bool> overdue;
  std::optional<std::string> target_org_id;
  bool assigned_to_me = false;  // only requests the caller is assigned to
};

struct AttachmentContent {
  RequestAttachment meta;
  std::string bytes;
  Tlp tlp = Tlp::kAmber;  // the request's marking, for auditing the read
};

// Creates a request; art30/art31 need can::CreateRequest, art32 can::CreateInboundRequest.
CoordinationResult<MaterialsRequest> CreateMaterialsRequest(store::Database& database,
                                                            const Principal& principal,
                                                            const NewMaterialsRequest& input,
                                                            int64_t now_ms);
// One request with its responses and their attachments' metadata.
CoordinationResult<MaterialsRequest> ReadMaterialsRequest(store::Database& database,
                                                          const Principal& principal,
                                                          std::string_view id, int64_t now_ms);
// Requests the principal may read, newest first.
CoordinationResult<Page<MaterialsRequest>> ListMaterialsRequests(
    store::Database& database, const Principal& principal, const MaterialsRequestFilter& filter,
    const PageQuery& page, int64_t now_ms);
// Answers a request (can::AnswerRequest outbound, can::AnswerInboundRequest inbound); the first
// response moves it from open to answered. Closed and withdrawn requests take no responses.
CoordinationResult<RequestResponse> AddRequestResponse(store::Database& database,
                                                       const Principal& principal,
                                                       std::string_view request_id,
                                                       const std::string& body, int64_t now_ms);
// Attaches a file to a response; only the responding organisation may, while the request takes
// responses. The caller enforces the size limit. The same file again returns the first one,
// already_attached set (the attempt is audited; nothing else changes).
CoordinationResult<RequestAttachment> AddResponseAttachment(
    store::Database& database, const Principal& principal, std::string_view request_id,
    std::string_view response_id, const std::string& filename, const std::string& content_type,
    const std::string& bytes, int64_t now_ms);
struct ResponseAttachments {
  std::vector<RequestAttachment> items;
  Tlp tlp = Tlp::kAmber;  // the request's marking, for auditing the read
};

// The attachments of one response.
CoordinationResult<ResponseAttachments> ListResponseAttachments(
    store::Database& database, const Principal& principal, std::string_view request_id,
    std::string_view response_id);
CoordinationResult<AttachmentContent> ReadResponseAttachment(store::Database& database,
                                                             const Principal& principal,
                                                             std::string_view request_id,
                                                             std::string_view response_id,
                                                             std::string_view attachment_id);
// Assigns a centre staff user (can::AssignRequest); true when newly assigned, false when the
// user already was. Unassigning a user who is not assigned is kNotFound.
CoordinationResult<bool> AssignMaterialsRequest(store::Database& database,
                                                const Principal& principal, std::string_view id,
                                                const std::string& user_id, int64_t now_ms);
CoordinationResult<void> UnassignMaterialsRequest(store::Database& database,
                                                  const Principal& principal, std::string_view id,
                                                  const std::string& user_id, int64_t now_ms);
// The requester closes an answered request or withdraws an open one (`status` "closed" or
// "withdrawn"); 409 for other transitions.
CoordinationResult<MaterialsRequest> TransitionMaterialsRequest(store::Database& database,
                                                                const Principal& principal,
                                                                std::string_view id,
                                                                const std::string& status,
                                                                int64_t now_ms);

}  // namespace yagura::hub

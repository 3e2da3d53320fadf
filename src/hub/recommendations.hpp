// Recommendations: the head of the centre's recommendations to agency heads (Act art. 27).
//
// Only a centre_admin issues one, only to a ministry or agency (OrgType::kMinistry), and only
// that agency's org_admin answers it. After the answer the centre tracks follow-up: the status
// runs issued -> responded (set by the agency's response) -> in_progress -> implemented ->
// closed, set by a centre_admin together with follow-up notes. The centre's judgement of
// follow-up is not a state machine — an "implemented" finding may turn out not to be — so any
// status may be set by the centre; only "responded" also needs a response on record.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "hub/advisories.hpp"
#include "hub/policy.hpp"
#include "hub/principal.hpp"
#include "store/database.hpp"

namespace yagura::hub {

// "issued", "responded", "in_progress", "implemented", "closed".
std::span<const std::string_view> RecommendationStatusNames();

struct NewRecommendation {
  std::string target_org_id;
  std::string title;
  std::string body;
  std::optional<int64_t> due_at;
  Tlp tlp = Tlp::kAmber;
};

struct Recommendation {
  std::string id;
  std::string reference;
  std::string owner_org_id;
  std::string author_id;
  Tlp tlp = Tlp::kAmber;
  std::string target_org_id;
  std::string title;
  std::string body;
  std::optional<int64_t> due_at;
  std::string status;
  std::optional<std::string> response;
  std::optional<std::string> responded_by;
  std::optional<int64_t> responded_at;
  std::optional<std::string> follow_up_notes;
  int64_t created_at = 0;
  int64_t updated_at = 0;
  bool overdue = false;  // issued, unanswered and past its due date
};

struct RecommendationUpdate {
  std::optional<std::string> status;
  std::optional<std::string> follow_up_notes;
};

struct RecommendationFilter {
  std::optional<std::string> status;
  std::optional<std::string> target_org_id;
};

// can::IssueRecommendation; the target must be a ministry or agency.
CoordinationResult<Recommendation> CreateRecommendation(store::Database& database,
                                                        const Principal& principal,
                                                        const NewRecommendation& input,
                                                        int64_t now_ms);
CoordinationResult<Recommendation> ReadRecommendation(store::Database& database,
                                                      const Principal& principal,
                                                      std::string_view id, int64_t now_ms);
CoordinationResult<Page<Recommendation>> ListRecommendations(store::Database& database,
                                                             const Principal& principal,
                                                             const RecommendationFilter& filter,
                                                             const PageQuery& page,
                                                             int64_t now_ms);
// The agency's answer (can::RespondToRecommendation); replaces an earlier answer and moves an
// issued recommendation to responded. A closed recommendation takes no answer.
CoordinationResult<Recommendation> RespondToRecommendationAs(store::Database& database,
                                                             const Principal& principal,
                                                             std::string_view id,
                                                             const std::string& response,
                                                             int64_t now_ms);
// Follow-up by a centre_admin (can::IssueRecommendation).
CoordinationResult<Recommendation> UpdateRecommendation(store::Database& database,
                                                        const Principal& principal,
                                                        std::string_view id,
                                                        const RecommendationUpdate& update,
                                                        int64_t now_ms);

}  // namespace yagura::hub

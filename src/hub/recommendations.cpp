// Recommendations (see recommendations.hpp).
//
// The audience is the centre (owner) and the agency (an 'org' grant on an addressed object).
// As with requests, TLP:RED is refused because a recommendation names no individuals, and at
// TLP:AMBER+STRICT the agency owns the record (the policy shows such objects to the owning
// organisation only) while centre intake keeps it visible to the centre's duty officers, who
// are also the only ones who may follow it up.
#include "hub/recommendations.hpp"

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

constexpr std::array<std::string_view, 5> STATUS_NAMES = {"issued", "responded", "in_progress",
                                                          "implemented", "closed"};

constexpr const char* COLUMNS =
    "c.id, c.reference, c.owner_org_id, c.author_id, c.tlp, c.target_org_id, c.title, c.body, "
    "c.due_at, c.status, c.response, c.responded_by, c.responded_at, c.follow_up_notes, "
    "c.created_at, c.updated_at";

bool IsStatus(std::string_view status) {
  return std::find(STATUS_NAMES.begin(), STATUS_NAMES.end(), status) != STATUS_NAMES.end();
}

Recommendation FromRow(const std::vector<store::Field>& row, int64_t now_ms) {
  Recommendation r;
  r.id = row[0].text();
  r.reference = row[1].text();
  r.owner_org_id = row[2].text();
  r.author_id = row[3].text();
  r.tlp = ParseTlp(row[4].text()).value_or(Tlp::kRed);
  r.target_org_id = row[5].text();
  r.title = row[6].text();
  r.body = row[7].text();
  if (!row[8].is_null()) r.due_at = row[8].as_int();
  r.status = row[9].text();
  r.response = row[10].optional_text();
  r.responded_by = row[11].optional_text();
  if (!row[12].is_null()) r.responded_at = row[12].as_int();
  r.follow_up_notes = row[13].optional_text();
  r.created_at = row[14].as_int();
  r.updated_at = row[15].as_int();
  r.overdue = r.status == "issued" && r.due_at && *r.due_at < now_ms;
  return r;
}

struct Visible {
  Recommendation recommendation;
  Marking marking;
};
CoordinationResult<Visible> LoadVisible(store::Connection& connection, const Principal& principal,
                                        std::string_view id, int64_t now_ms) {
  auto marking = coordination::LoadMarking(connection, "recommendations", "recommendation", id);
  if (!marking || !CanRead(principal, *marking)) {
    return tl::unexpected(NotFound("recommendation not found"));
  }
  store::Rows rows = connection.Query(
      fmt::format("SELECT {} FROM recommendations c WHERE c.id = $1", COLUMNS),
      {Param{std::string(id)}});
  if (rows.empty()) return tl::unexpected(NotFound("recommendation not found"));
  return Visible{FromRow(rows.rows[0], now_ms), std::move(*marking)};
}

}  // namespace

std::span<const std::string_view> RecommendationStatusNames() { return STATUS_NAMES; }

CoordinationResult<Recommendation> CreateRecommendation(store::Database& database,
                                                        const Principal& principal,
                                                        const NewRecommendation& input,
                                                        int64_t now_ms) {
  if (!can::IssueRecommendation(principal)) {
    return tl::unexpected(Forbidden("only the centre's administrators issue recommendations"));
  }
  if (input.tlp == Tlp::kRed) {
    return tl::unexpected(Invalid(
        "a recommendation names no individuals, so it cannot be TLP:RED; use AMBER+STRICT",
        "tlp"));
  }
  if (input.due_at && *input.due_at <= now_ms) {
    return tl::unexpected(Invalid("due_at must be in the future", "due_at"));
  }
  std::string id = NewId();
  auto created = database.Transact([&](store::Connection& connection)
                                       -> CoordinationResult<std::string> {
    auto target = coordination::FindOrganization(connection, input.target_org_id);
    if (!target) return tl::unexpected(Invalid("unknown organisation", "target_org_id"));
    if (target->type != OrgType::kMinistry) {
      return tl::unexpected(Invalid(
          "recommendations (art. 27) go to ministries and agencies only", "target_org_id"));
    }
    Marking marking;
    marking.tlp = input.tlp;
    marking.author_id = principal.user_id;
    marking.addressed = true;
    marking.shared_org_ids = {target->id};
    if (input.tlp == Tlp::kAmberStrict) {
      marking.owner_org_id = target->id;
      marking.centre_intake = true;
    } else {
      marking.owner_org_id = principal.org_id;
    }
    std::string reference = coordination::NextReference(connection, "REC", now_ms);
    connection.Execute(
        "INSERT INTO recommendations (id, reference, owner_org_id, author_id, tlp, addressed, "
        "centre_intake, target_org_id, title, body, due_at, status, created_at, updated_at) "
        "VALUES ($1, $2, $3, $4, $5, 1, $6, $7, $8, $9, $10, 'issued', $11, $11)",
        {Param{id}, Param{reference}, Param{marking.owner_org_id}, Param{principal.user_id},
         Param{std::string(ToString(input.tlp))}, Param{int64_t{marking.centre_intake ? 1 : 0}},
         Param{target->id}, Param{input.title}, Param{input.body},
         input.due_at ? Param{*input.due_at} : Param{nullptr}, Param{now_ms}});
    SaveGrants(connection, "recommendation", id, marking);
    JsonValue detail = JsonValue::MakeObject();
    detail.Set("reference", reference);
    detail.Set("target_org_id", target->id);
    AuditEntry entry =
        EntryFor(principal, "recommendation.create", "recommendation", id, input.tlp);
    entry.detail = detail.Serialize();
    AuditLog::Append(connection, entry, now_ms);
    return id;
  });
  if (!created) return tl::unexpected(created.error());
  return ReadRecommendation(database, principal, *created, now_ms);
}

CoordinationResult<Recommendation> ReadRecommendation(store::Database& database,
                                                      const Principal& principal,
                                                      std::string_view id, int64_t now_ms) {
  auto connection = database.Acquire();
  auto visible = LoadVisible(*connection, principal, id, now_ms);
  if (!visible) return tl::unexpected(visible.error());
  return std::move(visible->recommendation);
}

CoordinationResult<Page<Recommendation>> ListRecommendations(store::Database& database,
                                                             const Principal& principal,
                                                             const RecommendationFilter& filter,
                                                             const PageQuery& page,
                                                             int64_t now_ms) {
  if (filter.status && !IsStatus(*filter.status)) {
    return tl::unexpected(Invalid("unknown status", "status"));
  }
  SqlCondition readable = ReadCondition(principal, "recommendation", "c", 1);
  std::vector<Param> params = readable.params;
  auto next_param = [&](const Param& value) {
    params.push_back(value);
    return fmt::format("${}", params.size());
  };
  std::string sql =
      fmt::format("SELECT {} FROM recommendations c WHERE {}", COLUMNS, readable.sql);
  if (filter.status) sql += " AND c.status = " + next_param(Param{*filter.status});
  if (filter.target_org_id) {
    sql += " AND c.target_org_id = " + next_param(Param{*filter.target_org_id});
  }
  if (page.after) {
    sql += KeysetCondition("c", KeysetOrder::kNewestFirst, page.after->created_at, page.after->id,
                           params);
  }
  int limit = std::clamp(page.limit, 1, 200);
  sql += fmt::format(" ORDER BY c.created_at DESC, c.id DESC LIMIT {}", limit + 1);
  auto connection = database.Acquire();
  store::Rows rows = connection->Query(sql, params);
  Page<Recommendation> result;
  for (const auto& row : rows.rows) {
    if (result.items.size() == static_cast<size_t>(limit)) {
      result.next = PagePosition{result.items.back().created_at, result.items.back().id};
      break;
    }
    result.items.push_back(FromRow(row, now_ms));
  }
  return result;
}

CoordinationResult<Recommendation> RespondToRecommendationAs(store::Database& database,
                                                             const Principal& principal,
                                                             std::string_view id,
                                                             const std::string& response,
                                                             int64_t now_ms) {
  auto done = database.Transact([&](store::Connection& connection) -> CoordinationResult<bool> {
    auto visible = LoadVisible(connection, principal, id, now_ms);
    if (!visible) return tl::unexpected(visible.error());
    if (!can::RespondToRecommendation(principal, visible->marking)) {
      return tl::unexpected(
          Forbidden("only the administrator of the addressed agency responds"));
    }
    const Recommendation& current = visible->recommendation;
    if (current.status == "closed") {
      return tl::unexpected(Conflict("the recommendation is closed"));
    }
    std::string status = current.status == "issued" ? "responded" : current.status;
    connection.Execute(
        "UPDATE recommendations SET response = $2, responded_by = $3, responded_at = $4, "
        "status = $5, updated_at = $4 WHERE id = $1",
        {Param{current.id}, Param{response}, Param{principal.user_id}, Param{now_ms},
         Param{status}});
    JsonValue detail = JsonValue::MakeObject();
    detail.Set("from_status", current.status);
    detail.Set("to_status", status);
    AuditEntry entry = EntryFor(principal, "recommendation.respond", "recommendation",
                                current.id, current.tlp);
    entry.detail = detail.Serialize();
    AuditLog::Append(connection, entry, now_ms);
    return true;
  });
  if (!done) return tl::unexpected(done.error());
  return ReadRecommendation(database, principal, id, now_ms);
}

CoordinationResult<Recommendation> UpdateRecommendation(store::Database& database,
                                                        const Principal& principal,
                                                        std::string_view id,
                                                        const RecommendationUpdate& update,
                                                        int64_t now_ms) {
  if (update.status && !IsStatus(*update.status)) {
    return tl::unexpected(Invalid("unknown status", "status"));
  }
  if (!update.status && !update.follow_up_notes) {
    return tl::unexpected(Invalid("nothing to change: give status or follow_up_notes"));
  }
  auto done = database.Transact([&](store::Connection& connection) -> CoordinationResult<bool> {
    auto visible = LoadVisible(connection, principal, id, now_ms);
    if (!visible) return tl::unexpected(visible.error());
    if (!can::IssueRecommendation(principal)) {
      return tl::unexpected(Forbidden("only the centre's administrators follow up"));
    }
    const Recommendation& current = visible->recommendation;
    std::string status = update.status.value_or(current.status);
    if (status == "responded" && !current.response) {
      return tl::unexpected(Conflict("the agency has not responded yet"));
    }
    std::optional<std::string> notes =
        update.follow_up_notes ? update.follow_up_notes : current.follow_up_notes;
    connection.Execute(
        "UPDATE recommendations SET status = $2, follow_up_notes = $3, updated_at = $4 "
        "WHERE id = $1",
        {Param{current.id}, Param{status}, notes ? Param{*notes} : Param{nullptr},
         Param{now_ms}});
    JsonValue detail = JsonValue::MakeObject();
    detail.Set("from_status", current.status);
    detail.Set("to_status", status);
    detail.Set("follow_up_notes_changed", update.follow_up_notes.has_value());
    AuditEntry entry = EntryFor(principal, "recommendation.update", "recommendation",
                                current.id, current.tlp);
    entry.detail = detail.Serialize();
    AuditLog::Append(connection, entry, now_ms);
    return true;
  });
  if (!done) return tl::unexpected(done.error());
  return ReadRecommendation(database, principal, id, now_ms);
}

}  // namespace yagura::hub

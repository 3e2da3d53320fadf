// Advisories (see advisories.hpp), and the look-ups the coordination modules share.
//
// Issuing resolves the audience once, inside the transaction that stores the advisory: the
// recipient organisations become access grants (kind 'org', on an addressed object, so the
// policy shows it to them and to nobody else of the community) and acknowledgement rows; named
// users become grants of kind 'user'. At TLP:AMBER+STRICT the audience is one organisation, and
// the policy lets only the owning organisation read such objects, so the recipient
// organisation owns the advisory and it is marked as centre intake: the author and the
// centre's duty officers keep sight of it.
#include "hub/advisories.hpp"

#include <algorithm>
#include <array>
#include <set>

#include <fmt/format.h>

#include "core/json_value.hpp"
#include "core/time.hpp"
#include "hub/audit_log.hpp"
#include "hub/crypto.hpp"
#include "hub/keyset.hpp"

namespace yagura::hub {
namespace {

using store::Param;

constexpr std::array<std::string_view, 5> SEVERITY_NAMES = {"info", "low", "medium", "high",
                                                            "critical"};
constexpr std::array<std::string_view, 3> TARGET_KIND_NAMES = {"organization", "sector", "all"};

// The organisation types that count as members for "all" and sector targets.
constexpr const char* MEMBER_ORGS = "type NOT IN ('partner_cert', 'centre')";

constexpr const char* ADVISORY_COLUMNS =
    "a.id, a.reference, a.owner_org_id, a.author_id, a.tlp, a.title, a.body, a.severity, "
    "a.target_kind, a.target_value, a.details, a.created_at, a.updated_at";

bool Contains(std::span<const std::string_view> names, std::string_view value) {
  return std::find(names.begin(), names.end(), value) != names.end();
}

std::vector<std::string> StringsOf(const JsonValue* array) {
  std::vector<std::string> out;
  if (array == nullptr || !array->is_array()) return out;
  for (const auto& item : array->as_array()) {
    if (item.is_string()) out.push_back(item.as_string());
  }
  return out;
}

JsonValue ArrayOf(const std::vector<std::string>& values) {
  JsonValue array = JsonValue::MakeArray();
  for (const auto& value : values) array.Push(value);
  return array;
}

// Fills the columns of ADVISORY_COLUMNS, starting at `at`.
Advisory AdvisoryFromRow(const std::vector<store::Field>& row, size_t at = 0) {
  Advisory advisory;
  advisory.id = row[at + 0].text();
  advisory.reference = row[at + 1].text();
  advisory.owner_org_id = row[at + 2].text();
  advisory.author_id = row[at + 3].text();
  advisory.tlp = ParseTlp(row[at + 4].text()).value_or(Tlp::kRed);
  advisory.title = row[at + 5].text();
  advisory.body = row[at + 6].text();
  advisory.severity = row[at + 7].text();
  advisory.target_kind = row[at + 8].text();
  advisory.target_value = row[at + 9].text();
  if (auto details = JsonValue::Parse(row[at + 10].text()); details && details->is_object()) {
    advisory.references = StringsOf(details->Find("references"));
    advisory.cves = StringsOf(details->Find("cves"));
    advisory.ttps = StringsOf(details->Find("ttps"));
  }
  advisory.created_at = row[at + 11].as_int();
  advisory.updated_at = row[at + 12].as_int();
  return advisory;
}

std::vector<std::string> MemberOrgIds(store::Connection& connection, const std::string& sector) {
  store::Rows rows =
      sector.empty()
          ? connection.Query(fmt::format("SELECT id FROM organizations WHERE {} ORDER BY id",
                                         MEMBER_ORGS))
          : connection.Query(
                fmt::format("SELECT id FROM organizations WHERE sector = $1 AND {} ORDER BY id",
                            MEMBER_ORGS),
                {Param{sector}});
  std::vector<std::string> ids;
  for (const auto& row : rows.rows) ids.push_back(row[0].text());
  return ids;
}

// The recipient organisations of a target, or why the target is refused.
CoordinationResult<std::vector<std::string>> ResolveTarget(store::Connection& connection,
                                                           const NewAdvisory& input) {
  using coordination::Invalid;
  std::vector<std::string> orgs;
  if (input.target_kind == "organization") {
    auto org = coordination::FindOrganization(connection, input.target_value);
    if (!org) return tl::unexpected(Invalid("unknown organisation", "target.org_id"));
    if (org->type == OrgType::kCentre) {
      return tl::unexpected(
          Invalid("advisories go to other organisations, not the centre", "target.org_id"));
    }
    orgs.push_back(org->id);
  } else if (input.target_kind == "sector") {
    if (!IsSector(input.target_value)) {
      return tl::unexpected(Invalid("unknown sector", "target.sector"));
    }
    orgs = MemberOrgIds(connection, input.target_value);
    if (orgs.empty()) {
      return tl::unexpected(
          Invalid("no member organisation belongs to this sector", "target.sector"));
    }
  } else if (input.target_kind == "all") {
    orgs = MemberOrgIds(connection, {});
    if (orgs.empty()) return tl::unexpected(Invalid("there are no member organisations", "target"));
  } else {
    return tl::unexpected(Invalid("unknown target kind", "target.kind"));
  }
  return orgs;
}

std::vector<AdvisoryAcknowledgement> LoadAcknowledgements(store::Connection& connection,
                                                          std::string_view advisory_id) {
  store::Rows rows = connection.Query(
      "SELECT k.org_id, COALESCE(o.name, ''), k.acknowledged_at, COALESCE(k.user_id, '') "
      "FROM advisory_acks k LEFT JOIN organizations o ON o.id = k.org_id "
      "WHERE k.advisory_id = $1 ORDER BY o.name, k.org_id",
      {Param{std::string(advisory_id)}});
  std::vector<AdvisoryAcknowledgement> acks;
  for (const auto& row : rows.rows) {
    AdvisoryAcknowledgement ack;
    ack.org_id = row[0].text();
    ack.org_name = row[1].text();
    if (!row[2].is_null()) ack.acknowledged_at = row[2].as_int();
    ack.user_id = row[3].text();
    acks.push_back(std::move(ack));
  }
  return acks;
}

}  // namespace

namespace coordination {

std::optional<Organization> FindOrganization(store::Connection& connection, std::string_view id) {
  if (id.empty()) return std::nullopt;
  store::Rows rows = connection.Query(
      "SELECT id, name, type, COALESCE(sector, '') FROM organizations WHERE id = $1",
      {Param{std::string(id)}});
  if (rows.empty()) return std::nullopt;
  const auto& row = rows.rows[0];
  auto type = ParseOrgType(row[2].text());
  if (!type) return std::nullopt;
  return Organization{row[0].text(), row[1].text(), *type, row[3].text()};
}

std::optional<std::string> CentreOrgId(store::Connection& connection) {
  store::Rows rows = connection.Query(
      "SELECT id FROM organizations WHERE type = 'centre' ORDER BY created_at, id LIMIT 1");
  if (rows.empty()) return std::nullopt;
  return rows.rows[0][0].text();
}

std::optional<Marking> LoadMarking(store::Connection& connection, std::string_view table,
                                   std::string_view object_type, std::string_view id) {
  // `table` is one of the module's own table names, never client input.
  store::Rows rows = connection.Query(
      fmt::format("SELECT tlp, owner_org_id, author_id, addressed, centre_intake FROM {} "
                  "WHERE id = $1",
                  table),
      {Param{std::string(id)}});
  if (rows.empty()) return std::nullopt;
  const auto& row = rows.rows[0];
  Marking marking;
  // An unreadable marking is treated as the strictest one.
  marking.tlp = ParseTlp(row[0].text()).value_or(Tlp::kRed);
  marking.owner_org_id = row[1].text();
  marking.author_id = row[2].text();
  marking.addressed = row[3].as_bool();
  marking.centre_intake = row[4].as_bool();
  LoadGrants(connection, object_type, id, marking);
  return marking;
}

std::string NextReference(store::Connection& connection, std::string_view prefix,
                          int64_t now_ms) {
  std::string year = FormatTimestampMs(now_ms).substr(0, 4);
  std::string name = fmt::format("{}-{}", prefix, year);
  store::Rows rows = connection.Query(
      "INSERT INTO counters (name, value) VALUES ($1, 1) "
      "ON CONFLICT (name) DO UPDATE SET value = counters.value + 1 RETURNING value",
      {Param{name}});
  return fmt::format("{}-{:06d}", name, rows.rows.at(0).at(0).as_int());
}

CoordinationError Invalid(std::string message, std::string field) {
  return {CoordinationError::Kind::kInvalid, std::move(message), std::move(field)};
}
CoordinationError Forbidden(std::string message) {
  return {CoordinationError::Kind::kForbidden, std::move(message), {}};
}
CoordinationError NotFound(std::string message) {
  return {CoordinationError::Kind::kNotFound, std::move(message), {}};
}
CoordinationError Conflict(std::string message) {
  return {CoordinationError::Kind::kConflict, std::move(message), {}};
}

}  // namespace coordination

std::span<const std::string_view> AdvisorySeverityNames() { return SEVERITY_NAMES; }
std::span<const std::string_view> AdvisoryTargetKindNames() { return TARGET_KIND_NAMES; }

CoordinationResult<Advisory> CreateAdvisory(store::Database& database, const Principal& principal,
                                            const NewAdvisory& input, int64_t now_ms) {
  using coordination::Invalid;
  if (!can::IssueAdvisory(principal)) {
    return tl::unexpected(
        coordination::Forbidden("only the centre's administrators and analysts issue advisories"));
  }
  if (!Contains(SEVERITY_NAMES, input.severity)) {
    return tl::unexpected(Invalid("unknown severity", "severity"));
  }
  if (input.tlp == Tlp::kAmberStrict && input.target_kind != "organization") {
    return tl::unexpected(
        Invalid("a TLP:AMBER+STRICT advisory goes to a single organisation", "tlp"));
  }
  if (input.tlp == Tlp::kRed && input.recipients.empty()) {
    return tl::unexpected(Invalid("a TLP:RED advisory needs named recipients", "recipients"));
  }

  std::string id = NewId();
  auto created = database.Transact([&](store::Connection& connection)
                                       -> CoordinationResult<std::string> {
    auto target_orgs = ResolveTarget(connection, input);
    if (!target_orgs) return tl::unexpected(target_orgs.error());

    // Named users must belong to the audience: naming someone is a narrowing, never a way
    // around the target.
    std::vector<std::string> recipients;
    std::set<std::string> recipient_user_orgs;
    for (const auto& user_id : input.recipients) {
      if (std::find(recipients.begin(), recipients.end(), user_id) != recipients.end()) continue;
      store::Rows user = connection.Query("SELECT org_id, disabled FROM users WHERE id = $1",
                                          {Param{user_id}});
      if (user.empty() || user.rows[0][1].as_bool()) {
        return tl::unexpected(Invalid(fmt::format("unknown user {}", user_id), "recipients"));
      }
      const std::string& org_id = user.rows[0][0].text();
      if (std::find(target_orgs->begin(), target_orgs->end(), org_id) == target_orgs->end()) {
        return tl::unexpected(Invalid(
            fmt::format("user {} is not in a recipient organisation", user_id), "recipients"));
      }
      recipients.push_back(user_id);
      recipient_user_orgs.insert(org_id);
    }

    Marking marking;
    marking.tlp = input.tlp;
    marking.author_id = principal.user_id;
    marking.addressed = true;
    marking.named_user_ids = recipients;
    // At TLP:RED the audience is the named users, so only their organisations acknowledge.
    marking.shared_org_ids =
        input.tlp == Tlp::kRed
            ? std::vector<std::string>(recipient_user_orgs.begin(), recipient_user_orgs.end())
            : *target_orgs;
    if (input.tlp == Tlp::kAmberStrict) {
      marking.owner_org_id = target_orgs->front();
      marking.centre_intake = true;
    } else {
      marking.owner_org_id = principal.org_id;
    }

    JsonValue details = JsonValue::MakeObject();
    details.Set("references", ArrayOf(input.references));
    details.Set("cves", ArrayOf(input.cves));
    details.Set("ttps", ArrayOf(input.ttps));

    std::string reference = coordination::NextReference(connection, "ADV", now_ms);
    connection.Execute(
        "INSERT INTO advisories (id, reference, owner_org_id, author_id, tlp, addressed, "
        "centre_intake, title, body, severity, target_kind, target_value, details, created_at, "
        "updated_at) VALUES ($1, $2, $3, $4, $5, 1, $6, $7, $8, $9, $10, $11, $12, $13, $13)",
        {Param{id}, Param{reference}, Param{marking.owner_org_id}, Param{principal.user_id},
         Param{std::string(ToString(input.tlp))}, Param{int64_t{marking.centre_intake ? 1 : 0}},
         Param{input.title}, Param{input.body}, Param{input.severity}, Param{input.target_kind},
         input.target_value.empty() ? Param{nullptr} : Param{input.target_value},
         Param{details.Serialize()}, Param{now_ms}});
    SaveGrants(connection, "advisory", id, marking);
    for (const auto& org_id : marking.shared_org_ids) {
      connection.Execute(
          "INSERT INTO advisory_acks (advisory_id, org_id, user_id, acknowledged_at) "
          "VALUES ($1, $2, NULL, NULL)",
          {Param{id}, Param{org_id}});
    }

    JsonValue detail = JsonValue::MakeObject();
    detail.Set("reference", reference);
    detail.Set("target_kind", input.target_kind);
    detail.Set("recipient_orgs", ArrayOf(marking.shared_org_ids));
    detail.Set("named_users", ArrayOf(recipients));
    AuditEntry entry = EntryFor(principal, "advisory.create", "advisory", id, input.tlp);
    entry.detail = detail.Serialize();
    AuditLog::Append(connection, entry, now_ms);
    return id;
  });
  if (!created) return tl::unexpected(created.error());
  return ReadAdvisory(database, principal, *created);
}

CoordinationResult<Advisory> ReadAdvisory(store::Database& database, const Principal& principal,
                                          std::string_view id) {
  auto connection = database.Acquire();
  auto marking = coordination::LoadMarking(*connection, "advisories", "advisory", id);
  if (!marking || !CanRead(principal, *marking)) {
    return tl::unexpected(coordination::NotFound("advisory not found"));
  }
  store::Rows rows = connection->Query(
      fmt::format("SELECT {} FROM advisories a WHERE a.id = $1", ADVISORY_COLUMNS),
      {Param{std::string(id)}});
  if (rows.empty()) return tl::unexpected(coordination::NotFound("advisory not found"));
  Advisory advisory = AdvisoryFromRow(rows.rows[0]);
  advisory.full_view = principal.IsCentreStaff();
  std::vector<AdvisoryAcknowledgement> acks = LoadAcknowledgements(*connection, id);
  for (const auto& ack : acks) {
    if (ack.org_id == principal.org_id) advisory.own_acknowledgement = ack;
  }
  if (advisory.full_view) {
    advisory.recipients = marking->named_user_ids;
    advisory.recipient_org_ids = marking->shared_org_ids;
    advisory.pending_count = std::count_if(acks.begin(), acks.end(),
                                           [](const auto& ack) { return !ack.acknowledged_at; });
    advisory.acknowledgements = std::move(acks);
  } else {
    for (const auto& user_id : marking->named_user_ids) {
      if (user_id == principal.user_id) advisory.recipients.push_back(user_id);
    }
  }
  return advisory;
}

CoordinationResult<AdvisoryAcknowledgement> AcknowledgeAdvisoryFor(store::Database& database,
                                                                   const Principal& principal,
                                                                   std::string_view id,
                                                                   int64_t now_ms) {
  return database.Transact([&](store::Connection& connection)
                               -> CoordinationResult<AdvisoryAcknowledgement> {
    auto marking = coordination::LoadMarking(connection, "advisories", "advisory", id);
    if (!marking || !CanRead(principal, *marking)) {
      return tl::unexpected(coordination::NotFound("advisory not found"));
    }
    if (!can::AcknowledgeAdvisory(principal, *marking)) {
      return tl::unexpected(
          coordination::Forbidden("only users of a recipient organisation acknowledge"));
    }
    const Param advisory_param{std::string(id)};
    const Param org_param{principal.org_id};
    int64_t changed = connection.Execute(
        "UPDATE advisory_acks SET acknowledged_at = $3, user_id = $4 "
        "WHERE advisory_id = $1 AND org_id = $2 AND acknowledged_at IS NULL",
        {advisory_param, org_param, Param{now_ms}, Param{principal.user_id}});
    if (changed > 0) {
      AuditLog::Append(connection,
                       EntryFor(principal, "advisory.acknowledge", "advisory", std::string(id),
                                marking->tlp),
                       now_ms);
    }
    for (auto& ack : LoadAcknowledgements(connection, id)) {
      if (ack.org_id == principal.org_id) return ack;
    }
    return tl::unexpected(
        coordination::Forbidden("your organisation is not a recipient of this advisory"));
  });
}

CoordinationResult<Page<Advisory>> ListAdvisories(store::Database& database,
                                                  const Principal& principal,
                                                  const AdvisoryFilter& filter,
                                                  const PageQuery& page) {
  if (filter.severity && !Contains(SEVERITY_NAMES, *filter.severity)) {
    return tl::unexpected(coordination::Invalid("unknown severity", "severity"));
  }
  SqlCondition readable = ReadCondition(principal, "advisory", "a", 1);
  std::vector<Param> params = readable.params;
  auto next_param = [&](const Param& value) {
    params.push_back(value);
    return fmt::format("${}", params.size());
  };
  std::string org = next_param(Param{principal.org_id});
  std::string sql = fmt::format(
      "SELECT {}, mine.org_id, mine.acknowledged_at, COALESCE(mine.user_id, ''), "
      "(SELECT COUNT(*) FROM advisory_acks k WHERE k.advisory_id = a.id AND "
      "k.acknowledged_at IS NULL) "
      "FROM advisories a LEFT JOIN advisory_acks mine ON mine.advisory_id = a.id AND "
      "mine.org_id = {} WHERE {}",
      ADVISORY_COLUMNS, org, readable.sql);
  if (filter.severity) sql += fmt::format(" AND a.severity = {}", next_param(*filter.severity));
  if (filter.unacknowledged) {
    sql += " AND mine.org_id IS NOT NULL AND mine.acknowledged_at IS NULL";
  }
  if (page.after) {
    sql += KeysetCondition("a", KeysetOrder::kNewestFirst, page.after->created_at, page.after->id,
                           params);
  }
  int limit = std::clamp(page.limit, 1, 200);
  sql += fmt::format(" ORDER BY a.created_at DESC, a.id DESC LIMIT {}", limit + 1);

  auto connection = database.Acquire();
  store::Rows rows = connection->Query(sql, params);
  Page<Advisory> result;
  constexpr size_t EXTRA = 13;  // first column after ADVISORY_COLUMNS
  for (const auto& row : rows.rows) {
    if (result.items.size() == static_cast<size_t>(limit)) {
      const Advisory& last = result.items.back();
      result.next = PagePosition{last.created_at, last.id};
      break;
    }
    Advisory advisory = AdvisoryFromRow(row);
    advisory.full_view = principal.IsCentreStaff();
    if (!row[EXTRA].is_null()) {
      AdvisoryAcknowledgement ack;
      ack.org_id = row[EXTRA].text();
      if (!row[EXTRA + 1].is_null()) ack.acknowledged_at = row[EXTRA + 1].as_int();
      ack.user_id = row[EXTRA + 2].text();
      advisory.own_acknowledgement = std::move(ack);
    }
    if (advisory.full_view) advisory.pending_count = row[EXTRA + 3].as_int();
    result.items.push_back(std::move(advisory));
  }
  return result;
}

}  // namespace yagura::hub

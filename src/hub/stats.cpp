// Overview statistics (see stats.hpp).
//
// Each figure is one aggregate query whose WHERE clause starts with the read condition of the
// module that owns the table — AlertReadCondition for alerts, ReadCondition for the rest —
// followed by the range. Series and per-level/per-status totals come from the same GROUP BY
// (bucket, level or status), and per-sector totals are summed here from the per-organisation
// rows, so the figures of one overview always add up. Bucket numbers are relative to the first
// bucket's start and grouped by position (GROUP BY 1, 2), which both engines accept for an
// expression holding a parameter.
#include "hub/stats.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <map>

#include "hub/alerts.hpp"
#include "hub/incidents.hpp"
#include "hub/policy.hpp"

namespace yagura::hub {
namespace {

using store::Param;

constexpr std::array<std::string_view, 2> BUCKET_NAMES = {"hour", "day"};
constexpr int64_t HOUR_MS = 3'600'000;
constexpr int64_t DAY_MS = 24 * HOUR_MS;

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

std::string Next(std::vector<Param>& params, Param value) {
  params.push_back(std::move(value));
  return fmt::format("${}", params.size());
}

// Per-organisation counts from rows (org id, name, sector, count), most first, then by name;
// and the per-sector sums of the same rows (organisations without a sector, such as ministries
// and local governments, under the empty sector, so that the sums add up to the total).
void ReadOrganizations(const store::Rows& rows, std::vector<OrganizationCount>& organizations,
                       std::vector<SectorCount>& sectors) {
  std::map<std::string, int64_t> by_sector;
  for (const auto& row : rows.rows) {
    OrganizationCount item{row[0].text(), row[1].text(), row[2].text(), row[3].as_int()};
    by_sector[item.sector] += item.count;
    organizations.push_back(std::move(item));
  }
  std::sort(organizations.begin(), organizations.end(),
            [](const OrganizationCount& a, const OrganizationCount& b) {
              if (a.count != b.count) return a.count > b.count;
              if (a.name != b.name) return a.name < b.name;
              return a.id < b.id;
            });
  for (const auto& [sector, count] : by_sector) sectors.push_back({sector, count});
  std::stable_sort(sectors.begin(), sectors.end(),
                   [](const SectorCount& a, const SectorCount& b) { return a.count > b.count; });
}

AlertOverview AlertFigures(store::Connection& connection, const Principal& principal,
                           const OverviewQuery& query, int64_t first, int64_t buckets) {
  AlertOverview overview;
  const int64_t length = BucketLengthMs(query.bucket);
  overview.series.resize(static_cast<size_t>(buckets));
  for (int64_t i = 0; i < buckets; ++i)
    overview.series[static_cast<size_t>(i)].t = first + i * length;

  // The read condition and the range, shared by the queries below.
  std::vector<Param> params;
  std::string where = AlertReadCondition(principal, params);
  where += fmt::format(" AND a.event_time >= {}", Next(params, query.from_ms));
  where += fmt::format(" AND a.event_time < {}", Next(params, query.to_ms));

  std::vector<Param> series_params = params;
  std::string start = Next(series_params, first);
  store::Rows series = connection.Query(
      fmt::format("SELECT (a.event_time - {0}) / {1}, a.level_rank, COUNT(*), "
                  "SUM(CASE WHEN a.status IN ('new', 'acknowledged') THEN 1 ELSE 0 END) "
                  "FROM alerts a WHERE {2} GROUP BY 1, 2",
                  start, length, where),
      series_params);
  for (const auto& row : series.rows) {
    int64_t index = row[0].as_int();
    int64_t rank = row[1].as_int();
    int64_t count = row[2].as_int();
    overview.total += count;
    overview.open += row[3].as_int();
    bool known_level = rank >= 1 && rank <= 5;
    if (known_level) overview.by_level[static_cast<size_t>(rank - 1)] += count;
    if (index < 0 || index >= buckets) continue;  // cannot happen: the range bounds the rows
    auto& point = overview.series[static_cast<size_t>(index)];
    point.count += count;
    if (known_level) point.by_level[static_cast<size_t>(rank - 1)] += count;
  }

  store::Rows organizations =
      connection.Query(fmt::format("SELECT a.org_id, o.name, o.sector, COUNT(*) FROM alerts a "
                                   "LEFT JOIN organizations o ON o.id = a.org_id WHERE {} "
                                   "GROUP BY a.org_id, o.name, o.sector",
                                   where),
                       params);
  ReadOrganizations(organizations, overview.by_organization, overview.by_sector);
  return overview;
}

IncidentOverview IncidentFigures(store::Connection& connection, const Principal& principal,
                                 const OverviewQuery& query, int64_t first, int64_t buckets) {
  IncidentOverview overview;
  const int64_t length = BucketLengthMs(query.bucket);
  overview.series.resize(static_cast<size_t>(buckets));
  for (int64_t i = 0; i < buckets; ++i)
    overview.series[static_cast<size_t>(i)].t = first + i * length;
  for (auto status : IncidentStatusNames()) overview.by_status.emplace_back(std::string(status), 0);

  // The same condition ListIncidents applies to every page.
  SqlCondition readable = ReadCondition(principal, "incident", "i", 1);
  std::vector<Param> params = readable.params;
  std::string where = readable.sql;
  where += fmt::format(" AND i.created_at >= {}", Next(params, query.from_ms));
  where += fmt::format(" AND i.created_at < {}", Next(params, query.to_ms));

  std::vector<Param> series_params = params;
  std::string start = Next(series_params, first);
  store::Rows series = connection.Query(
      fmt::format("SELECT (i.created_at - {0}) / {1}, i.status, COUNT(*) FROM incidents i "
                  "WHERE {2} GROUP BY 1, 2",
                  start, length, where),
      series_params);
  for (const auto& row : series.rows) {
    int64_t index = row[0].as_int();
    const std::string& status = row[1].text();
    int64_t count = row[2].as_int();
    overview.total += count;
    auto parsed = ParseIncidentStatus(status);
    if (parsed != IncidentStatus::kResolved && parsed != IncidentStatus::kClosed) {
      overview.open += count;
    }
    for (auto& [name, total] : overview.by_status) {
      if (name == status) total += count;
    }
    if (index >= 0 && index < buckets) overview.series[static_cast<size_t>(index)].count += count;
  }

  store::Rows organizations = connection.Query(
      fmt::format("SELECT i.owner_org_id, o.name, o.sector, COUNT(*) FROM incidents i "
                  "LEFT JOIN organizations o ON o.id = i.owner_org_id WHERE {} "
                  "GROUP BY i.owner_org_id, o.name, o.sector",
                  where),
      params);
  ReadOrganizations(organizations, overview.by_organization, overview.by_sector);
  return overview;
}

Backlog BacklogFigures(store::Connection& connection, const Principal& principal, int64_t now_ms) {
  Backlog backlog;
  {
    // "open" and "overdue" as hub/requests.cpp defines them (IsOverdue, ?overdue=true).
    SqlCondition readable = ReadCondition(principal, "request", "r", 1);
    std::vector<Param> params = readable.params;
    std::string now = Next(params, now_ms);
    store::Rows rows = connection.Query(
        fmt::format("SELECT COUNT(*), COALESCE(SUM(CASE WHEN r.due_at IS NOT NULL AND "
                    "r.due_at < {} THEN 1 ELSE 0 END), 0) FROM requests r "
                    "WHERE {} AND r.status = 'open'",
                    now, readable.sql),
        params);
    backlog.requests_open = rows.rows.at(0).at(0).as_int();
    backlog.requests_overdue = rows.rows.at(0).at(1).as_int();
  }
  {
    // Overdue as Recommendation::overdue: issued (unanswered) and past its due date.
    SqlCondition readable = ReadCondition(principal, "recommendation", "c", 1);
    std::vector<Param> params = readable.params;
    std::string now = Next(params, now_ms);
    store::Rows rows = connection.Query(
        fmt::format("SELECT COUNT(*), COALESCE(SUM(CASE WHEN c.status = 'issued' AND "
                    "c.due_at IS NOT NULL AND c.due_at < {} THEN 1 ELSE 0 END), 0) "
                    "FROM recommendations c WHERE {} AND c.status <> 'closed'",
                    now, readable.sql),
        params);
    backlog.recommendations_open = rows.rows.at(0).at(0).as_int();
    backlog.recommendations_overdue = rows.rows.at(0).at(1).as_int();
  }
  {
    SqlCondition readable = ReadCondition(principal, "advisory", "a", 1);
    std::vector<Param> params = readable.params;
    std::string sql;
    if (principal.IsCentreStaff()) {
      sql = fmt::format(
          "SELECT COUNT(*) FROM advisories a WHERE {} AND EXISTS (SELECT 1 FROM advisory_acks k "
          "WHERE k.advisory_id = a.id AND k.acknowledged_at IS NULL)",
          readable.sql);
    } else {
      // The advisory list's ?unacknowledged: addressed to the caller's organisation and not yet
      // acknowledged by it.
      std::string org =
          Next(params, principal.org_id.empty() ? std::string("\x01") : principal.org_id);
      sql = fmt::format(
          "SELECT COUNT(*) FROM advisories a JOIN advisory_acks mine ON "
          "mine.advisory_id = a.id AND mine.org_id = {} WHERE {} AND "
          "mine.acknowledged_at IS NULL",
          org, readable.sql);
    }
    backlog.advisories_unacknowledged = connection.Query(sql, params).rows.at(0).at(0).as_int();
  }
  return backlog;
}

}  // namespace

std::string_view ToString(StatsBucket bucket) { return BUCKET_NAMES[static_cast<size_t>(bucket)]; }

std::optional<StatsBucket> ParseStatsBucket(std::string_view text) {
  for (size_t i = 0; i < BUCKET_NAMES.size(); ++i) {
    if (BUCKET_NAMES[i] == text) return static_cast<StatsBucket>(i);
  }
  return std::nullopt;
}

std::span<const std::string_view> StatsBucketNames() { return BUCKET_NAMES; }

int64_t BucketLengthMs(StatsBucket bucket) {
  return bucket == StatsBucket::kHour ? HOUR_MS : DAY_MS;
}

int64_t BucketStartMs(int64_t time_ms, StatsBucket bucket) {
  int64_t length = BucketLengthMs(bucket);
  return FloorDiv(time_ms, length) * length;
}

int64_t BucketCount(int64_t from_ms, int64_t to_ms, StatsBucket bucket) {
  if (to_ms <= from_ms) return 0;
  int64_t length = BucketLengthMs(bucket);
  // The last bucket is the one holding to_ms - 1 (the range is half-open).
  return FloorDiv(to_ms - 1, length) - FloorDiv(from_ms, length) + 1;
}

Overview ComputeOverview(store::Connection& connection, const Principal& principal,
                         const OverviewQuery& query) {
  Overview overview;
  overview.query = query;
  int64_t buckets = BucketCount(query.from_ms, query.to_ms, query.bucket);
  int64_t first = BucketStartMs(query.from_ms, query.bucket);
  overview.alerts = AlertFigures(connection, principal, query, first, buckets);
  overview.incidents = IncidentFigures(connection, principal, query, first, buckets);
  overview.backlog = BacklogFigures(connection, principal, query.now_ms);
  return overview;
}

int64_t CountAlerts(store::Connection& connection, const Principal& principal,
                    const AlertFilter& filter) {
  // ListAlerts answers an empty page for values no alert can have (ids that are not ids, an
  // unknown kind, a malformed technique); such values only ever count nothing here too, as
  // plain comparisons.
  std::vector<Param> params;
  std::string sql = "SELECT COUNT(*) FROM alerts a WHERE " + AlertReadCondition(principal, params);
  auto equal = [&](std::string_view column, const std::optional<std::string>& value) {
    if (value) sql += fmt::format(" AND a.{} = {}", column, Next(params, *value));
  };
  equal("org_id", filter.org_id);
  equal("rule_id", filter.rule_id);
  equal("kind", filter.kind);
  equal("campaign_id", filter.campaign_id);
  equal("assignee_id", filter.assignee_id);
  equal("incident_id", filter.incident_id);
  if (filter.status) equal("status", std::string(ToString(*filter.status)));
  if (filter.level_min) {
    sql += fmt::format(" AND a.level_rank >= {}",
                       Next(params, static_cast<int64_t>(*filter.level_min)));
  }
  if (filter.technique) {
    std::string technique = *filter.technique;
    for (char& c : technique) c = (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
    std::string exact = Next(params, technique);
    std::string sub = Next(params, technique + ".%");
    sql += fmt::format(
        " AND EXISTS (SELECT 1 FROM alert_techniques t WHERE t.alert_id = a.id AND "
        "(t.technique = {} OR t.technique LIKE {}))",
        exact, sub);
  }
  if (filter.since) sql += fmt::format(" AND a.event_time >= {}", Next(params, *filter.since));
  if (filter.until) sql += fmt::format(" AND a.event_time < {}", Next(params, *filter.until));
  return connection.Query(sql, params).rows.at(0).at(0).as_int();
}

int64_t CountIncidents(store::Connection& connection, const Principal& principal,
                       const IncidentFilter& filter) {
  SqlCondition readable = ReadCondition(principal, "incident", "i", 1);
  std::vector<Param> params = readable.params;
  std::string sql = "SELECT COUNT(*) FROM incidents i WHERE " + readable.sql;
  if (filter.owner_org_id) {
    sql += fmt::format(" AND i.owner_org_id = {}", Next(params, *filter.owner_org_id));
  }
  if (filter.status) {
    sql += fmt::format(" AND i.status = {}", Next(params, std::string(ToString(*filter.status))));
  }
  if (filter.category) sql += fmt::format(" AND i.category = {}", Next(params, *filter.category));
  if (filter.priority_min) {
    sql += fmt::format(" AND i.priority >= {}",
                       Next(params, static_cast<int64_t>(*filter.priority_min)));
  }
  if (filter.tlp)
    sql += fmt::format(" AND i.tlp = {}", Next(params, std::string(ToString(*filter.tlp))));
  if (filter.assigned_to_me) {
    sql += fmt::format(
        " AND EXISTS (SELECT 1 FROM access_grants ag WHERE ag.object_type = 'incident' AND "
        "ag.object_id = i.id AND ag.kind = 'assignee' AND ag.principal_id = {})",
        Next(params, principal.user_id));
  }
  if (filter.title_contains) {
    // As ListIncidents matches it: ASCII lower case on both sides, LIKE with escapes.
    std::string pattern = "%";
    for (char c : *filter.title_contains) {
      if (c == '%' || c == '_' || c == '\\') pattern += '\\';
      pattern += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    }
    pattern += '%';
    sql += fmt::format(" AND lower(i.title) LIKE {} ESCAPE '\\'", Next(params, pattern));
  }
  return connection.Query(sql, params).rows.at(0).at(0).as_int();
}

}  // namespace yagura::hub

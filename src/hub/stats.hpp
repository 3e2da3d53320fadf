// Overview statistics: what the console's first page draws — alerts and incidents over time, by
// level, status, organisation and sector, and the open and overdue coordination work.
//
// Everything is counted in SQL, one GROUP BY per figure, and filtered by the same read rule the
// lists use, so an overview never counts what the caller could not list: alerts through
// AlertReadCondition (own organisation for members and partners, every organisation for the
// centre's staff), incidents, requests, recommendations and advisories through
// hub::ReadCondition. A member never counts another organisation's alerts, and a RED incident
// is counted only by its named audience.
//
// Buckets are computed from the epoch-millisecond columns with integer arithmetic,
// (time - first bucket start) / bucket length, which SQLite and PostgreSQL evaluate alike (both
// operands non-negative, so truncation and floor agree). Hour buckets start on UTC hours, day
// buckets at UTC midnight; buckets without rows are filled in here, so a series always has one
// point per bucket of the range, oldest first.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "hub/alerts.hpp"
#include "hub/incidents.hpp"
#include "hub/principal.hpp"
#include "store/database.hpp"

namespace yagura::hub {

enum class StatsBucket { kHour, kDay };

// "hour", "day".
std::string_view ToString(StatsBucket bucket);
std::optional<StatsBucket> ParseStatsBucket(std::string_view text);
std::span<const std::string_view> StatsBucketNames();
int64_t BucketLengthMs(StatsBucket bucket);
// The start of the bucket holding `time_ms` (floor to the UTC hour or day).
int64_t BucketStartMs(int64_t time_ms, StatsBucket bucket);
// How many buckets the range [from_ms, to_ms) touches; 0 when to_ms <= from_ms.
int64_t BucketCount(int64_t from_ms, int64_t to_ms, StatsBucket bucket);

// The most buckets one overview may have (the API answers 400 beyond it).
inline constexpr int64_t STATS_MAX_BUCKETS = 400;

struct OverviewQuery {
  int64_t from_ms = 0;  // inclusive
  int64_t to_ms = 0;    // exclusive
  StatsBucket bucket = StatsBucket::kDay;
  int64_t now_ms = 0;  // for "overdue"
};

// Counts per alert level, indexed by AlertLevelRank - 1 (informational .. critical).
using LevelCounts = std::array<int64_t, 5>;

struct OrganizationCount {
  std::string id;
  std::string name;    // empty when the organisation row is gone
  std::string sector;  // empty for organisations outside the critical-infrastructure sectors
  int64_t count = 0;
};

struct SectorCount {
  std::string sector;
  int64_t count = 0;
};

struct AlertSeriesPoint {
  int64_t t = 0;  // bucket start
  int64_t count = 0;
  LevelCounts by_level{};
};

// Alerts whose event time falls in the range.
struct AlertOverview {
  int64_t total = 0;
  int64_t open = 0;  // new or acknowledged (what triage can still act on)
  std::vector<AlertSeriesPoint> series;
  LevelCounts by_level{};
  std::vector<OrganizationCount> by_organization;  // most first, then by name
  std::vector<SectorCount> by_sector;  // most first; "": organisations without a sector
};

struct IncidentSeriesPoint {
  int64_t t = 0;
  int64_t count = 0;
};

// Incidents reported (created) in the range.
struct IncidentOverview {
  int64_t total = 0;
  int64_t open = 0;  // not yet resolved or closed
  std::vector<IncidentSeriesPoint> series;
  // Every status of the lifecycle in its order, zero counts included.
  std::vector<std::pair<std::string, int64_t>> by_status;
  std::vector<OrganizationCount> by_organization;
  std::vector<SectorCount> by_sector;
};

// Coordination work as of now (not limited to the range): what is waiting.
struct Backlog {
  int64_t requests_open = 0;            // requests with status open
  int64_t requests_overdue = 0;         // open past their due date (MaterialsRequest::overdue)
  int64_t recommendations_open = 0;     // not closed
  int64_t recommendations_overdue = 0;  // issued, unanswered, past due (Recommendation::overdue)
  // Members: advisories addressed to the caller's organisation it has not acknowledged (the
  // advisory list's ?unacknowledged). The centre's staff: advisories they can read that some
  // recipient organisation has not yet acknowledged.
  int64_t advisories_unacknowledged = 0;
};

struct Overview {
  OverviewQuery query;
  AlertOverview alerts;
  IncidentOverview incidents;
  Backlog backlog;
};

// Computes the overview for `principal` on one connection (a handful of aggregate queries).
// The caller has validated the range (from < to, at most STATS_MAX_BUCKETS buckets).
Overview ComputeOverview(store::Connection& connection, const Principal& principal,
                         const OverviewQuery& query);

// How many items ListAlerts / ListIncidents would return over all their pages for `filter`:
// the same read condition and the same filters in one COUNT(*). Exports report their progress
// against it (and then the rows they really wrote).
int64_t CountAlerts(store::Connection& connection, const Principal& principal,
                    const AlertFilter& filter);
int64_t CountIncidents(store::Connection& connection, const Principal& principal,
                       const IncidentFilter& filter);

}  // namespace yagura::hub

// The timeline of an investigation: what happened, in the order it happened.
//
// Its entries come from three places:
//   - written by the case's members: an event seen in a log, an action taken, a finding, a note
//     (kinds event, action, finding, note). Written entries are never edited or deleted: they
//     are the investigators' contemporaneous record.
//   - imported from a hunt: the JSON lines `yagura scan` writes (its alerts, jsonl or
//     timesketch output) or any Timesketch JSONL (plaso's psort, Hayabusa, Chainsaw's
//     converters), as kinds alert and event. An import is all or nothing: a line that is
//     neither names its number and nothing is kept. A lead may remove an import that was a
//     mistake, whole (recorded in the case's history).
//   - the case's own links and evidence, read when the timeline is: each linked alert at its
//     event time, each linked incident at the time it occurred (or was detected), each item of
//     evidence at its acquisition. They show only what the reader may read, and change when the
//     links change. Their ids are "alert:ID", "incident:ID", "evidence:ID".
//
// Pages are ordered by (at, id) and continue after the last entry of the previous page.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "hub/cases.hpp"

namespace yagura::hub {

// event, alert, incident, evidence, action, finding, note.
std::span<const std::string_view> TimelineKindNames();
// The kinds a member writes: event, action, finding, note.
std::span<const std::string_view> WritableTimelineKindNames();

inline constexpr size_t TIMELINE_IMPORT_MAX = 200000;     // entries of one import
inline constexpr size_t TIMELINE_PER_CASE_MAX = 2000000;  // written and imported entries
inline constexpr size_t TIMELINE_DATA_MAX = 64 * 1024;    // bytes of an imported line kept

struct TimelineEntry {
  std::string id;
  int64_t at = 0;
  std::string kind;
  std::string title;
  std::string detail;
  std::string host;
  std::string account;
  std::string source;  // where it was seen: a file and record, a sensor, a person
  std::string level;   // alerts: the rule's level
  std::vector<std::string> techniques;
  std::string origin;  // written, imported, linked
  std::string import_id;
  std::string created_by;  // "" for linked entries
  int64_t created_at = 0;
  std::string data;  // the imported line (JSON text), only from GetTimelineEntry
};

struct TimelineEntryCreate {
  int64_t at = 0;
  std::string kind;
  std::string title;
  std::string detail;
  std::string host;
  std::string account;
  std::string source;
  std::vector<std::string> techniques;
};
CaseResult<TimelineEntry> AddTimelineEntry(store::Connection& connection,
                                           const Principal& principal, std::string_view case_id,
                                           const TimelineEntryCreate& create, int64_t now_ms);

struct TimelineImport {
  std::string id;
  std::string case_id;
  std::string source_name;
  std::string format;  // yagura-alerts, timesketch
  int64_t entries = 0;
  int64_t first_at = 0;
  int64_t last_at = 0;
  std::string sha256;  // of the body as received
  std::string imported_by;
  int64_t imported_at = 0;
  // Alerts and events the lines hold without a time (a scan's alert on a file of no dates, a
  // Timesketch line marked "No event time"): not placed on the timeline, counted and named
  // here. Set by ImportTimeline only (not kept with the import).
  int64_t without_time = 0;
  std::vector<int64_t> without_time_lines;  // the first 20
};
// Reads `text` (JSON lines; blank lines are passed over). kInvalid names the first line that is
// not an entry, with field "line N"; nothing is stored then. A line that is an entry but has no
// time is passed over and counted in without_time; a time that cannot be read is invalid.
CaseResult<TimelineImport> ImportTimeline(store::Connection& connection, const Principal& principal,
                                          std::string_view case_id, const std::string& source_name,
                                          std::string_view text, int64_t now_ms);
CaseResult<std::vector<TimelineImport>> ListTimelineImports(store::Connection& connection,
                                                            const Principal& principal,
                                                            std::string_view case_id);
// The leads' only: an import's entries go, the record of the import and its removal stay in
// the case's history.
CaseResult<int64_t> RemoveTimelineImport(store::Connection& connection, const Principal& principal,
                                         std::string_view case_id, std::string_view import_id,
                                         int64_t now_ms);

struct TimelineFilter {
  std::optional<int64_t> from;  // at >= from
  std::optional<int64_t> to;    // at < to
  std::vector<std::string> kinds;
  std::optional<std::string> host;       // exact, case-insensitive for ASCII
  std::optional<std::string> technique;  // "T1059" also finds "T1059.001"
  std::optional<std::string> text;       // in title or detail, case-insensitive for ASCII
};
struct TimelinePage {
  std::vector<TimelineEntry> items;
  bool more = false;
};
// `after` is the (at, id) of the previous page's last entry.
CaseResult<TimelinePage> ListTimeline(store::Connection& connection, const Principal& principal,
                                      std::string_view case_id, const TimelineFilter& filter,
                                      std::optional<std::pair<int64_t, std::string>> after,
                                      int limit);
// How many entries the principal's timeline of the case holds, unfiltered: written, imported and
// linked (those the principal may read).
CaseResult<int64_t> CountTimeline(store::Connection& connection, const Principal& principal,
                                  std::string_view case_id);
// One written or imported entry, with its data.
CaseResult<TimelineEntry> GetTimelineEntry(store::Connection& connection,
                                           const Principal& principal, std::string_view case_id,
                                           std::string_view entry_id);

}  // namespace yagura::hub

// CorrelationEngine: Sigma correlation rules (docs/sigma-spec.md section 9) over a stream of
// rule matches, in `scan` and in `serve` alike.
//
// The engine is fed every match of a rule that some correlation references, with the event's
// time and its group-by values, and answers with the correlation alerts that fire. Windows are
// sliding windows on event time: each group keeps the matches of the last `timespan`, pruned as
// the watermark (the latest event time seen, minus the allowed lateness) moves on; a match
// older than the watermark is counted as late and dropped. A correlation fires when its
// condition first holds for a group, and then stays quiet for that group until its window has
// emptied, so one burst gives one alert. `lt`/`lte` conditions ("too few") are decided when a
// window closes, which happens when the watermark passes it or at Finish().
//
// Groups are kept per organisation: the same address failing logins at two organisations is two
// groups (the cross-organisation view is CampaignTracker's). State is bounded: at most
// `max_groups` groups and `max_events_per_group` remembered matches per group; the oldest
// group is evicted first and evictions are counted.
//
// Precise rules (docs/correlation.md has the whole story):
//   - Group-by values are the first value of each field (through the correlation's aliases for
//     the referenced rule); an event without the field is grouped under "" for it, so events
//     that do not name a source address still count, together. A chained correlation's firing
//     takes its values from the firing's group (by group-by name or alias), else "".
//   - value_count counts distinct values (distinct tuples for a list of fields) among the
//     matches that have the field (a tuple: at least one of them); value_sum/avg/percentile/
//     median aggregate the matches whose first value of the field is a number, and never hold
//     without one.
//   - A window is [t - timespan, t], both ends included. temporal_ordered takes, for each rule
//     in the order of `rules`, its first match at or after the previous rule's.
//   - Conditions with lt/lte, and extended temporal conditions with `not`, are decided at window
//     close; such a window opens at the group's first match.
//   - Alert ids: StableId of the correlation (id, else title), organisation, group values and
//     the sequence of the window's first match.
//   - A correlation referenced only by correlations with `generate: false` is not emitted
//     (Emitted()), but still feeds the correlations that reference it.
// Everything is a function of the input sequence: the same matches in the same order give the
// same alerts with the same ids, and Snapshot()/Restore() carry the state over a restart, so a
// replay after a crash reproduces, and never duplicates, what was already emitted.
// Not thread-safe: one engine per stream, fed in stream order.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "event/event.hpp"
#include "event/field_catalog.hpp"
#include "sigma/rule_set.hpp"

namespace yagura::correlate {

struct CorrelationOptions {
  int64_t allowed_lateness_ms = 60'000;
  size_t max_groups = 1'000'000;
  size_t max_events_per_group = 10'000;
};

// One match of a detection rule, as fed to the engine.
struct RuleMatch {
  uint32_t rule_index = 0;  // into RuleSet::rules
  int64_t event_time_ms = 0;
  std::string_view org_id;  // empty in `scan`
  // Position of the event in its stream (spool sequence number, or record ordinal in `scan`):
  // part of the deterministic alert ids.
  uint64_t sequence = 0;
  const event::Event* event = nullptr;  // for group-by and condition fields
};

struct CorrelationAlert {
  std::string id;  // deterministic: a UUID-shaped hash of the correlation, org, group and window
  uint32_t correlation_index = 0;  // into RuleSet::correlations
  std::string org_id;
  // group-by field (or alias) -> value, in the order of `group-by`.
  std::vector<std::pair<std::string, std::string>> group;
  int64_t first_time_ms = 0;  // event time of the first match in the window
  int64_t last_time_ms = 0;   // of the match that made the condition hold (or window end)
  double value = 0;           // the aggregate compared: count, distinct count, sum...
  uint64_t match_count = 0;   // matches in the window
  // Sequence numbers of the events matched in the window, each once (at most 100, oldest
  // first).
  std::vector<uint64_t> sequences;
};

struct CorrelationStats {
  uint64_t matches = 0;
  uint64_t late_matches = 0;     // older than the watermark: dropped
  uint64_t evicted_groups = 0;   // state bound reached
  uint64_t alerts = 0;
  uint64_t groups = 0;           // live now
  uint64_t dropped_matches = 0;  // over max_events_per_group: the group's oldest forgotten
};

class CorrelationEngine {
 public:
  // `rules` must outlive the engine. Fields named by group-by, aliases and conditions must have
  // been interned in the catalog before the event parser was built: see InternFields().
  CorrelationEngine(const sigma::RuleSet& rules, const event::FieldCatalog& catalog,
                    CorrelationOptions options = {});
  ~CorrelationEngine();
  CorrelationEngine(const CorrelationEngine&) = delete;
  CorrelationEngine& operator=(const CorrelationEngine&) = delete;

  // Interns every field the correlations of `rules` read (call before building the parser).
  static void InternFields(const sigma::RuleSet& rules, event::FieldCatalog& catalog);

  [[nodiscard]] bool empty() const;  // no correlation loaded
  // Whether some correlation references this detection rule (only those need Observe()).
  [[nodiscard]] bool Referenced(uint32_t rule_index) const;
  // Whether the rule's own alerts are suppressed: every correlation referencing it has
  // `generate: false` (the default).
  [[nodiscard]] bool Suppressed(uint32_t rule_index) const;
  // Whether alerts of this correlation are emitted: false when every correlation that references
  // it has `generate: false` (it is then only a step of a chain).
  [[nodiscard]] bool Emitted(uint32_t correlation_index) const;

  // Feeds one match; appends the correlation alerts that fire (chained correlations included).
  void Observe(const RuleMatch& match, std::vector<CorrelationAlert>& out);
  // Moves the watermark to `event_time_ms` (if later), closing windows that end before it.
  void Advance(int64_t event_time_ms, std::vector<CorrelationAlert>& out);
  // End of input (`scan`): closes every window.
  void Finish(std::vector<CorrelationAlert>& out);

  // The whole state as bytes, and back. Restore() fails, changing nothing, on bytes that are
  // not a snapshot of this rule set (the snapshot records RuleSet::content_hash, and a hash of
  // the correlation rules, which is what must match: windows carry over a change of detection
  // rules that leaves the correlation rules as they were).
  [[nodiscard]] std::string Snapshot() const;
  [[nodiscard]] Result<void> Restore(std::string_view snapshot);

  [[nodiscard]] const CorrelationStats& stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace yagura::correlate

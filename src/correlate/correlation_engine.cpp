// CorrelationEngine (see correlation_engine.hpp for the semantics it promises).
//
// Plan: each correlation is compiled once into a Plan: for each of its `rules` entries, the
// field ids (after aliases) that give the group-by values and the aggregated value, and the
// correlations that reference it (chaining). Each rule index maps to the (correlation, position)
// pairs that reference it.
//
// State: one Group per (correlation, organisation, group-by values), holding its matches sorted
// by event time (ties by arrival). Two kinds of correlation are kept apart:
//   - "on arrival" (gt, gte, eq, neq, temporal without `not`): the sliding window ending at a
//     match is evaluated when the match arrives (and, for a match that arrives out of order,
//     every window ending at a later match within one timespan). The first window that holds
//     fires; the group then keeps only `quiet_until` (latest match + timespan) and ignores its
//     matches until one arrives after it: the window has emptied and the group is re-armed.
//   - "at close" (lt/lte comparisons, extended conditions with `not`): a window opens at the
//     group's first match and is decided when the watermark passes its end (or at Finish);
//     the next window opens at the first match after it.
// Each group has one timer in an ordered set (deadline, group id): its window end (at close) or
// the time after which nothing it holds can matter any more (on arrival: the group is dropped).
// Timers, like everything else, run in an order that depends only on the input, so alert ids
// and the order of alerts are reproducible. Least recently used groups are evicted first when
// `max_groups` is reached.
//
// Snapshot: a versioned binary image ("YCOR", version, the rule set's content hash, a hash of
// the correlation rules, the counters, every group with its matches) followed by an XXH3-64 of
// everything before it, so a truncated or foreign blob is refused before any state is touched.
// The state is made of correlation windows, so it is accepted by a rule set whose correlation
// rules are the same even when detection rules changed around them (a reload in `serve`).
#include "correlate/correlation_engine.hpp"

#include <xxhash.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <deque>
#include <limits>
#include <map>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "core/stable_id.hpp"

namespace yagura::correlate {
namespace {

using sigma::Correlation;
using sigma::CorrelationOp;
using sigma::CorrelationType;

constexpr size_t MAX_ALERT_SEQUENCES = 100;
constexpr uint32_t SNAPSHOT_VERSION = 1;
constexpr char SNAPSHOT_MAGIC[4] = {'Y', 'C', 'O', 'R'};
constexpr int64_t NO_TIME = std::numeric_limits<int64_t>::min();

// Where the values of one `rules` entry come from: event fields for a detection rule, the group
// of the referenced correlation's alert for a chained one.
struct RefSpec {
  bool is_correlation = false;
  std::vector<event::FieldId> group_fields;  // per group-by entry (rule refs)
  std::vector<std::string> group_names;      // per group-by entry (correlation refs)
  std::vector<event::FieldId> value_fields;  // per condition field (rule refs)
  std::vector<std::string> value_names;      // per condition field (correlation refs)
};

struct Plan {
  const Correlation* correlation = nullptr;
  int64_t timespan_ms = 0;
  bool at_close = false;
  bool emit = true;  // false: only referenced by correlations with generate: false
  std::string id_text;
  std::vector<RefSpec> refs;
  std::vector<std::pair<uint32_t, uint16_t>> parents;  // (correlation, position in its rules)
};

struct Entry {
  int64_t time = 0;
  uint64_t arrival = 0;
  uint64_t sequence = 0;
  uint16_t ref = 0;
  bool has_value = false;
  bool has_number = false;
  double number = 0;
  std::string value;
};

struct Group {
  uint64_t id = 0;
  uint32_t correlation = 0;
  std::string org;
  std::vector<std::string> values;
  std::deque<Entry> entries;  // by (time, arrival)
  bool fired = false;
  int64_t quiet_until = NO_TIME;  // fired: matches up to here belong to the alerted burst
  int64_t floor = NO_TIME;        // re-armed: matches up to here belonged to the last burst
  uint64_t touch = 0;
  int64_t deadline = NO_TIME;  // registered in timers (NO_TIME: none)
  // value_count and temporal: the aggregate of the window that ends at the newest match
  // (entries [window_begin, end)), kept up to date while matches arrive in order, so a match
  // costs O(1) instead of O(window). Rebuilt from the entries when invalid (a match arrived
  // out of order, or after Restore). Keys are copies: the entry that added a value may leave
  // the group while later entries with the same value are still in the window.
  bool aggregate_valid = false;
  size_t window_begin = 0;
  std::unordered_map<std::string, uint32_t> distinct;
  std::vector<uint32_t> ref_counts;
};

// The mutable part of the engine: what Snapshot() writes and Restore() replaces whole.
struct State {
  bool has_max = false;
  int64_t max_time = 0;
  uint64_t next_arrival = 0;
  uint64_t next_group_id = 1;
  uint64_t next_touch = 0;
  CorrelationStats stats;
  std::unordered_map<uint64_t, Group> groups;
  std::unordered_map<std::string, uint64_t> index;  // GroupKey -> id
  std::set<std::pair<int64_t, uint64_t>> timers;    // (deadline, group id)
  std::map<uint64_t, uint64_t> lru;                 // touch -> group id
};

// A match (or a chained correlation alert) on its way into one correlation.
struct Input {
  std::string_view org;
  std::vector<std::string> values;
  Entry entry;
};

// A fired correlation with what its parents need.
struct Fired {
  CorrelationAlert alert;
  uint64_t trigger_sequence = 0;
};

void AppendLengthPrefixed(std::string& out, std::string_view part) {
  uint32_t size = static_cast<uint32_t>(part.size());
  out.append(reinterpret_cast<const char*>(&size), sizeof size);
  out.append(part);
}

std::string GroupKey(uint32_t correlation, std::string_view org,
                     const std::vector<std::string>& values) {
  std::string key(reinterpret_cast<const char*>(&correlation), sizeof correlation);
  AppendLengthPrefixed(key, org);
  for (const auto& value : values) AppendLengthPrefixed(key, value);
  return key;
}

bool Compare(CorrelationOp op, double value, double limit) {
  switch (op) {
    case CorrelationOp::kGt:
      return value > limit;
    case CorrelationOp::kGte:
      return value >= limit;
    case CorrelationOp::kLt:
      return value < limit;
    case CorrelationOp::kLte:
      return value <= limit;
    case CorrelationOp::kEq:
      return value == limit;
    case CorrelationOp::kNeq:
      return value != limit;
  }
  return false;
}

bool ContainsNot(const sigma::Condition& condition) {
  if (condition.kind == sigma::Condition::Kind::kNot) return true;
  return std::any_of(condition.children.begin(), condition.children.end(), ContainsNot);
}

bool EvaluateBool(const sigma::Condition& condition, const std::vector<bool>& present) {
  using Kind = sigma::Condition::Kind;
  switch (condition.kind) {
    case Kind::kSelection:
      return condition.selection < present.size() && present[condition.selection];
    case Kind::kAnd:
      return std::all_of(condition.children.begin(), condition.children.end(),
                         [&](const sigma::Condition& c) { return EvaluateBool(c, present); });
    case Kind::kOr:
      return std::any_of(condition.children.begin(), condition.children.end(),
                         [&](const sigma::Condition& c) { return EvaluateBool(c, present); });
    case Kind::kNot:
      return !condition.children.empty() && !EvaluateBool(condition.children[0], present);
    case Kind::kTrue:
      return true;
    case Kind::kFalse:
      return false;
  }
  return false;
}

bool ParseNumber(std::string_view text, double& out) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  if (text.empty() || text.size() > 64) return false;
  char buffer[65];
  std::memcpy(buffer, text.data(), text.size());
  buffer[text.size()] = '\0';
  char* end = nullptr;
  double value = std::strtod(buffer, &end);
  if (end != buffer + text.size() || !std::isfinite(value)) return false;
  out = value;
  return true;
}

// The field a `rules` entry reads for `name` (a group-by entry or condition field): the alias
// mapping for that entry when `name` is an alias that names it (by the reference as written,
// or the referenced rule's id or name), else `name` itself.
std::string ResolveAlias(const Correlation& c, const std::string& name,
                         const sigma::CorrelationRef& ref, const sigma::RuleInfo& target) {
  auto alias = c.aliases.find(name);
  if (alias == c.aliases.end()) return name;
  for (const std::string* key : {&ref.name, &target.id, &target.name}) {
    if (key->empty()) continue;
    if (auto it = alias->second.find(*key); it != alias->second.end()) return it->second;
  }
  return name;
}

const sigma::RuleInfo& TargetInfo(const sigma::RuleSet& rules, const sigma::CorrelationRef& ref) {
  return ref.is_correlation ? rules.correlations[ref.index].info : rules.rules[ref.index].info;
}

// XXH3-128 (hex) of the correlation rules as the engine uses them: what a snapshot's state
// means. Referenced detection rules count by id or title, not by index or content.
std::string CorrelationsHash(const sigma::RuleSet& rules) {
  std::string text;
  auto add = [&](std::string_view part) { AppendLengthPrefixed(text, part); };
  auto add_number = [&](double value) {
    text.append(reinterpret_cast<const char*>(&value), sizeof value);
  };
  for (const Correlation& c : rules.correlations) {
    add(c.info.id);
    add(c.info.name);
    add(c.info.title);
    add(sigma::CorrelationTypeName(c.type));
    for (const auto& ref : c.rules) {
      const sigma::RuleInfo& target = TargetInfo(rules, ref);
      add(ref.is_correlation ? "correlation" : "rule");
      add(target.id.empty() ? target.title : target.id);
    }
    add("group-by");
    for (const auto& field : c.group_by) add(field);
    add_number(static_cast<double>(c.timespan_seconds));
    for (const auto& comparison : c.conditions) {
      add_number(static_cast<double>(comparison.op));
      add_number(comparison.value);
    }
    add("fields");
    for (const auto& field : c.condition_fields) add(field);
    add_number(c.percentile);
    add(c.extended_text);
    for (const auto& [alias, mapping] : c.aliases) {
      add(alias);
      for (const auto& [rule, field] : mapping) {
        add(rule);
        add(field);
      }
    }
    add(c.generate ? "generate" : "");
    add("\n");
  }
  XXH128_hash_t hash = XXH3_128bits(text.data(), text.size());
  char hex[33];
  std::snprintf(hex, sizeof hex, "%016llx%016llx", static_cast<unsigned long long>(hash.high64),
                static_cast<unsigned long long>(hash.low64));
  return hex;
}

// ---- snapshot encoding --------------------------------------------------------------------

class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}
  template <typename T>
  void Raw(T value) {
    out_.append(reinterpret_cast<const char*>(&value), sizeof value);
  }
  void U8(uint8_t v) { Raw(v); }
  void U16(uint16_t v) { Raw(v); }
  void U32(uint32_t v) { Raw(v); }
  void U64(uint64_t v) { Raw(v); }
  void I64(int64_t v) { Raw(v); }
  void F64(double v) { Raw(v); }
  void Str(std::string_view s) {
    U32(static_cast<uint32_t>(s.size()));
    out_.append(s);
  }

 private:
  std::string& out_;
};

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  template <typename T>
  bool Raw(T& value) {
    if (in_.size() - pos_ < sizeof value) return false;
    std::memcpy(&value, in_.data() + pos_, sizeof value);
    pos_ += sizeof value;
    return true;
  }
  bool Str(std::string& s) {
    uint32_t size = 0;
    if (!Raw(size) || in_.size() - pos_ < size) return false;
    s.assign(in_.data() + pos_, size);
    pos_ += size;
    return true;
  }
  bool Bool(bool& b) {
    uint8_t v = 0;
    if (!Raw(v) || v > 1) return false;
    b = v == 1;
    return true;
  }
  [[nodiscard]] bool AtEnd() const { return pos_ == in_.size(); }

 private:
  std::string_view in_;
  size_t pos_ = 0;
};

}  // namespace

struct CorrelationEngine::Impl {
  const sigma::RuleSet& rules;
  CorrelationOptions options;
  std::vector<Plan> plans;
  // rule index -> (correlation, position) of every reference to it
  std::vector<std::vector<std::pair<uint32_t, uint16_t>>> rule_users;
  std::vector<bool> rule_suppressed;
  // Hash of everything about the correlations that their state depends on (CorrelationsHash).
  std::string fingerprint;
  State state;
  // Per correlation, the sequence (plus one) of the last event a rule match fed it: an event
  // that several of its rules match counts once in a count or an aggregate (as a backend's
  // `(a) OR (b) | stats count()` counts it). An event's matches are fed together, never split
  // by a snapshot, so this is not part of one.
  std::vector<uint64_t> last_event;

  Impl(const sigma::RuleSet& rule_set, const event::FieldCatalog& catalog, CorrelationOptions opts)
      : rules(rule_set), options(opts) {
    if (options.max_groups == 0) options.max_groups = 1;
    if (options.max_events_per_group == 0) options.max_events_per_group = 1;
    if (options.allowed_lateness_ms < 0) options.allowed_lateness_ms = 0;
    rule_users.resize(rules.rules.size());
    rule_suppressed.assign(rules.rules.size(), false);
    std::vector<bool> rule_generated(rules.rules.size(), false);
    std::vector<bool> correlation_referenced(rules.correlations.size(), false);
    std::vector<bool> correlation_generated(rules.correlations.size(), false);
    plans.resize(rules.correlations.size());
    for (uint32_t ci = 0; ci < rules.correlations.size(); ++ci) {
      const Correlation& c = rules.correlations[ci];
      Plan& plan = plans[ci];
      plan.correlation = &c;
      plan.timespan_ms = c.timespan_seconds * 1000;
      plan.id_text = c.info.alert_key();
      plan.at_close = c.has_extended && ContainsNot(c.extended);
      for (const auto& comparison : c.conditions) {
        if (comparison.op == CorrelationOp::kLt || comparison.op == CorrelationOp::kLte)
          plan.at_close = true;
      }
      for (uint16_t position = 0; position < c.rules.size(); ++position) {
        const sigma::CorrelationRef& ref = c.rules[position];
        const sigma::RuleInfo& target = TargetInfo(rules, ref);
        RefSpec spec;
        spec.is_correlation = ref.is_correlation;
        for (const auto& name : c.group_by) {
          std::string field = ResolveAlias(c, name, ref, target);
          if (ref.is_correlation)
            spec.group_names.push_back(field);
          else
            spec.group_fields.push_back(catalog.Find(field));
        }
        for (const auto& name : c.condition_fields) {
          std::string field = ResolveAlias(c, name, ref, target);
          if (ref.is_correlation)
            spec.value_names.push_back(field);
          else
            spec.value_fields.push_back(catalog.Find(field));
        }
        plan.refs.push_back(std::move(spec));
        if (ref.is_correlation) {
          correlation_referenced[ref.index] = true;
          if (c.generate) correlation_generated[ref.index] = true;
          plans[ref.index].parents.emplace_back(ci, position);
        } else {
          rule_users[ref.index].emplace_back(ci, position);
          if (c.generate) rule_generated[ref.index] = true;
        }
      }
    }
    // A correlation referenced only by `generate: false` correlations is a building block,
    // like a detection rule referenced that way: its alerts are not emitted on their own.
    for (uint32_t ci = 0; ci < plans.size(); ++ci)
      plans[ci].emit = !correlation_referenced[ci] || correlation_generated[ci];
    for (uint32_t ri = 0; ri < rule_users.size(); ++ri)
      rule_suppressed[ri] = !rule_users[ri].empty() && !rule_generated[ri];
    fingerprint = CorrelationsHash(rules);
    last_event.assign(plans.size(), 0);
  }

  [[nodiscard]] int64_t Watermark() const {
    if (!state.has_max) return NO_TIME;
    return state.max_time - options.allowed_lateness_ms;
  }

  // ---- groups ---------------------------------------------------------------------------

  void SetTimer(Group& group, int64_t deadline) {
    if (group.deadline != NO_TIME) state.timers.erase({group.deadline, group.id});
    group.deadline = deadline;
    if (deadline != NO_TIME) state.timers.emplace(deadline, group.id);
  }

  void Touch(Group& group) {
    if (group.touch) state.lru.erase(group.touch);
    group.touch = ++state.next_touch;
    state.lru.emplace(group.touch, group.id);
  }

  void DeleteGroup(uint64_t id) {
    auto it = state.groups.find(id);
    if (it == state.groups.end()) return;
    Group& group = it->second;
    SetTimer(group, NO_TIME);
    state.lru.erase(group.touch);
    state.index.erase(GroupKey(group.correlation, group.org, group.values));
    state.groups.erase(it);
    state.stats.groups = state.groups.size();
  }

  Group& FindOrCreate(uint32_t correlation, std::string_view org,
                      const std::vector<std::string>& values) {
    std::string key = GroupKey(correlation, org, values);
    if (auto it = state.index.find(key); it != state.index.end())
      return state.groups.at(it->second);
    while (state.groups.size() >= options.max_groups && !state.lru.empty()) {
      DeleteGroup(state.lru.begin()->second);
      ++state.stats.evicted_groups;
    }
    uint64_t id = state.next_group_id++;
    Group& group = state.groups[id];
    group.id = id;
    group.correlation = correlation;
    group.org = std::string(org);
    group.values = values;
    state.index.emplace(std::move(key), id);
    state.stats.groups = state.groups.size();
    return group;
  }

  // The timer of an on-arrival group: after it, every match it holds is older than any window
  // a new match can open, and a new match would re-arm it anyway.
  void ScheduleArrival(Group& group, const Plan& plan) {
    int64_t until = group.fired ? group.quiet_until : NO_TIME;
    if (!group.entries.empty())
      until = std::max(until, group.entries.back().time + plan.timespan_ms);
    SetTimer(group, until);
  }

  // ---- the in-order window aggregate --------------------------------------------------------

  static bool Incremental(const Plan& plan) {
    return plan.correlation->type == CorrelationType::kValueCount ||
           plan.correlation->type == CorrelationType::kTemporal;
  }

  static void AggregateAdd(Group& group, const Entry& entry) {
    if (entry.has_value) ++group.distinct[entry.value];
    if (entry.ref < group.ref_counts.size()) ++group.ref_counts[entry.ref];
  }

  static void AggregateRemove(Group& group, const Entry& entry) {
    if (entry.has_value) {
      auto it = group.distinct.find(entry.value);
      if (it != group.distinct.end() && --it->second == 0) group.distinct.erase(it);
    }
    if (entry.ref < group.ref_counts.size()) --group.ref_counts[entry.ref];
  }

  static void AggregateReset(Group& group, const Plan& plan) {
    group.distinct.clear();
    group.ref_counts.assign(plan.refs.size(), 0);
    group.window_begin = 0;
    group.aggregate_valid = Incremental(plan);
  }

  static void AggregateRebuild(Group& group, const Plan& plan) {
    AggregateReset(group, plan);
    if (!group.aggregate_valid || group.entries.empty()) return;
    int64_t start = group.entries.back().time - plan.timespan_ms;
    while (group.entries[group.window_begin].time < start) ++group.window_begin;
    for (size_t i = group.window_begin; i < group.entries.size(); ++i)
      AggregateAdd(group, group.entries[i]);
  }

  // Removes the group's oldest entry, keeping the aggregate right.
  static void PopOldest(Group& group) {
    if (group.aggregate_valid) {
      if (group.window_begin > 0)
        --group.window_begin;
      else
        AggregateRemove(group, group.entries.front());
    }
    group.entries.pop_front();
  }

  // The aggregate of the window ending at the newest entry, from the in-order state.
  std::pair<bool, double> EvaluateAggregate(const Plan& plan, const Group& group) const {
    const Correlation& c = *plan.correlation;
    double value = 0;
    std::vector<bool> present;
    if (c.type == CorrelationType::kValueCount) {
      value = static_cast<double>(group.distinct.size());
    } else {
      present.resize(plan.refs.size());
      for (size_t r = 0; r < present.size(); ++r) present[r] = group.ref_counts[r] > 0;
      value = static_cast<double>(std::count(present.begin(), present.end(), true));
      if (c.has_extended) return {EvaluateBool(c.extended, present), value};
    }
    for (const auto& comparison : c.conditions)
      if (!Compare(comparison.op, value, comparison.value)) return {false, value};
    return {true, value};
  }

  // ---- evaluation -----------------------------------------------------------------------

  // The aggregate of entries [lo, hi] and whether the correlation's condition holds for it.
  std::pair<bool, double> Evaluate(const Plan& plan, const std::deque<Entry>& entries, size_t lo,
                                   size_t hi) const {
    const Correlation& c = *plan.correlation;
    auto compare = [&](double value) {
      for (const auto& comparison : c.conditions)
        if (!Compare(comparison.op, value, comparison.value)) return false;
      return true;
    };
    switch (c.type) {
      case CorrelationType::kEventCount: {
        double value = static_cast<double>(hi - lo + 1);
        return {compare(value), value};
      }
      case CorrelationType::kValueCount: {
        std::unordered_set<std::string_view> distinct;
        for (size_t i = lo; i <= hi; ++i)
          if (entries[i].has_value) distinct.insert(entries[i].value);
        double value = static_cast<double>(distinct.size());
        return {compare(value), value};
      }
      case CorrelationType::kTemporal:
      case CorrelationType::kTemporalOrdered: {
        std::vector<bool> present(plan.refs.size(), false);
        if (c.type == CorrelationType::kTemporal) {
          for (size_t i = lo; i <= hi; ++i) present[entries[i].ref] = true;
        } else {
          // Greedy: each rule's first match at or after the previous rule's; a rule without
          // one is absent, and (without an extended condition) ends the ordered chain.
          size_t at = lo;
          for (uint16_t r = 0; r < plan.refs.size(); ++r) {
            size_t i = at;
            while (i <= hi && entries[i].ref != r) ++i;
            if (i <= hi) {
              present[r] = true;
              at = i + 1;
            } else if (!c.has_extended) {
              break;
            }
          }
        }
        double value = static_cast<double>(std::count(present.begin(), present.end(), true));
        bool holds = c.has_extended ? EvaluateBool(c.extended, present) : compare(value);
        return {holds, value};
      }
      case CorrelationType::kValueSum:
      case CorrelationType::kValueAvg:
      case CorrelationType::kValuePercentile:
      case CorrelationType::kValueMedian: {
        std::vector<double> numbers;
        for (size_t i = lo; i <= hi; ++i)
          if (entries[i].has_number) numbers.push_back(entries[i].number);
        if (numbers.empty()) return {false, 0};
        double value = 0;
        if (c.type == CorrelationType::kValueSum || c.type == CorrelationType::kValueAvg) {
          for (double n : numbers) value += n;
          if (c.type == CorrelationType::kValueAvg) value /= static_cast<double>(numbers.size());
        } else {
          // Linear interpolation between closest ranks (the usual "percentile" of numpy and
          // most SIEMs).
          double p = c.type == CorrelationType::kValueMedian ? 50 : c.percentile;
          p = std::clamp(p, 0.0, 100.0);
          std::sort(numbers.begin(), numbers.end());
          double rank = p / 100.0 * static_cast<double>(numbers.size() - 1);
          auto below = static_cast<size_t>(std::floor(rank));
          size_t above = std::min(below + 1, numbers.size() - 1);
          value = numbers[below] + (numbers[above] - numbers[below]) * (rank - below);
        }
        return {compare(value), value};
      }
    }
    return {false, 0};
  }

  Fired MakeAlert(const Plan& plan, uint32_t correlation, const Group& group, size_t lo, size_t hi,
                  double value, int64_t last_time) const {
    Fired fired;
    CorrelationAlert& alert = fired.alert;
    const std::deque<Entry>& entries = group.entries;
    alert.correlation_index = correlation;
    alert.org_id = group.org;
    for (size_t g = 0; g < group.values.size(); ++g)
      alert.group.emplace_back(plan.correlation->group_by[g], group.values[g]);
    alert.first_time_ms = entries[lo].time;
    alert.last_time_ms = last_time;
    alert.value = value;
    alert.match_count = hi - lo + 1;
    for (size_t i = lo; i <= hi && alert.sequences.size() < MAX_ALERT_SEQUENCES; ++i) {
      // An event that matched two of a temporal correlation's rules is two entries, side by
      // side (its matches are fed together): it is listed once.
      if (i > lo && entries[i].sequence == entries[i - 1].sequence) continue;
      alert.sequences.push_back(entries[i].sequence);
    }
    std::string group_text;
    for (const auto& v : group.values) AppendLengthPrefixed(group_text, v);
    alert.id = StableId(
        {"correlation", plan.id_text, group.org, group_text, std::to_string(entries[lo].sequence)});
    fired.trigger_sequence = entries[hi].sequence;
    return fired;
  }

  // ---- feeding ----------------------------------------------------------------------------

  // Adds one input to one correlation; a firing is appended to `fired`.
  void Feed(uint32_t correlation, Input& input, std::vector<Fired>& fired) {
    const Plan& plan = plans[correlation];
    Group& group = FindOrCreate(correlation, input.org, input.values);
    Touch(group);
    Entry& entry = input.entry;
    entry.arrival = state.next_arrival++;
    if (plan.at_close) {
      InsertSorted(group, std::move(entry));
      SetTimer(group, group.entries.front().time + plan.timespan_ms);
      return;
    }
    if (group.fired) {
      if (entry.time <= group.quiet_until) {
        // Part of the burst already alerted: it only keeps the group quiet longer.
        group.quiet_until = std::max(group.quiet_until, entry.time + plan.timespan_ms);
        ScheduleArrival(group, plan);
        return;
      }
      // The window emptied since the alert: a new burst starts with this match.
      group.fired = false;
      group.floor = group.quiet_until;
      group.entries.clear();
      AggregateReset(group, plan);
    }
    if (entry.time <= group.floor) return;  // late part of the previous burst
    if (group.entries.empty()) AggregateReset(group, plan);
    // Matches no new window can reach any more.
    int64_t horizon = Watermark() == NO_TIME ? NO_TIME : Watermark() - plan.timespan_ms;
    while (!group.entries.empty() && group.entries.front().time < horizon) PopOldest(group);
    int64_t entry_time = entry.time;
    size_t at = InsertSorted(group, std::move(entry));
    if (at == SIZE_MAX) at = 0;  // (InsertSorted dropped the oldest; windows re-checked below)
    if (group.aggregate_valid && at + 1 == group.entries.size()) {
      // In order: slide the window that ends at the newest match.
      const Entry& newest = group.entries.back();
      AggregateAdd(group, newest);
      int64_t start = newest.time - plan.timespan_ms;
      while (group.entries[group.window_begin].time < start) {
        AggregateRemove(group, group.entries[group.window_begin]);
        ++group.window_begin;
      }
    } else {
      group.aggregate_valid = false;
    }
    // Windows that now contain the new match: those ending at it and, when it arrived out of
    // order, those ending at later matches less than a timespan after it.
    for (size_t hi = std::min(at, group.entries.size() - 1); hi < group.entries.size(); ++hi) {
      if (group.entries[hi].time > entry_time + plan.timespan_ms) break;
      bool newest = hi + 1 == group.entries.size();
      if (newest && Incremental(plan) && !group.aggregate_valid) AggregateRebuild(group, plan);
      size_t lo = 0;
      std::pair<bool, double> outcome;
      if (newest && group.aggregate_valid) {
        lo = group.window_begin;
        outcome = EvaluateAggregate(plan, group);
      } else {
        int64_t start = group.entries[hi].time - plan.timespan_ms;
        lo = static_cast<size_t>(
            std::lower_bound(group.entries.begin(), group.entries.begin() + hi, start,
                             [](const Entry& e, int64_t t) { return e.time < t; }) -
            group.entries.begin());
        outcome = Evaluate(plan, group.entries, lo, hi);
      }
      if (!outcome.first) continue;
      fired.push_back(
          MakeAlert(plan, correlation, group, lo, hi, outcome.second, group.entries[hi].time));
      group.fired = true;
      group.quiet_until = group.entries.back().time + plan.timespan_ms;
      group.entries.clear();
      AggregateReset(group, plan);
      break;
    }
    ScheduleArrival(group, plan);
  }

  // Inserts by (time, arrival); returns the position, or SIZE_MAX when the group was full and
  // the oldest matches were forgotten (positions shifted).
  size_t InsertSorted(Group& group, Entry entry) {
    auto& entries = group.entries;
    size_t at = entries.size();
    while (at > 0 && entries[at - 1].time > entry.time) --at;
    entries.insert(entries.begin() + static_cast<std::ptrdiff_t>(at), std::move(entry));
    if (at + 1 != entries.size()) group.aggregate_valid = false;  // out of order: rebuilt
    bool shifted = false;
    while (entries.size() > options.max_events_per_group) {
      PopOldest(group);  // (the new entry, at the back, is not in the aggregate yet)
      ++state.stats.dropped_matches;
      shifted = true;
    }
    if (!shifted) return at;
    return at == 0 ? SIZE_MAX : at - 1;
  }

  // Decides the window of an at-close group that begins at its first match.
  void CloseWindow(Group& group, std::vector<Fired>& fired) {
    const Plan& plan = plans[group.correlation];
    auto& entries = group.entries;
    if (entries.empty()) {
      DeleteGroup(group.id);
      return;
    }
    int64_t end = entries.front().time + plan.timespan_ms;
    size_t count = 0;
    while (count < entries.size() && entries[count].time <= end) ++count;
    auto [holds, value] = Evaluate(plan, entries, 0, count - 1);
    if (holds) fired.push_back(MakeAlert(plan, group.correlation, group, 0, count - 1, value, end));
    entries.erase(entries.begin(), entries.begin() + static_cast<std::ptrdiff_t>(count));
    if (entries.empty())
      DeleteGroup(group.id);
    else
      SetTimer(group, entries.front().time + plan.timespan_ms);
  }

  // Emits what fired and feeds it, as an event, to the correlations that reference it.
  void Propagate(std::vector<Fired>& fired, std::vector<CorrelationAlert>& out) {
    // Breadth-first: parents are fed in the order their children fired.
    for (size_t i = 0; i < fired.size(); ++i) {
      uint32_t child = fired[i].alert.correlation_index;
      const Plan& plan = plans[child];
      for (const auto& [parent, position] : plan.parents) {
        const RefSpec& spec = plans[parent].refs[position];
        Input input;
        auto lookup = [&](const std::string& name, bool& found) {
          for (const auto& [key, value] : fired[i].alert.group) {
            if (key == name) {
              found = true;
              return value;
            }
          }
          found = false;
          return std::string();
        };
        bool found = false;
        for (const auto& name : spec.group_names) input.values.push_back(lookup(name, found));
        FillValue(spec.value_names, lookup, input.entry);
        input.entry.time = fired[i].alert.last_time_ms;
        input.entry.sequence = fired[i].trigger_sequence;
        input.entry.ref = position;
        // A copy: feeding may append to `fired` and move the alert.
        std::string org = fired[i].alert.org_id;
        input.org = org;
        std::vector<Fired> more;
        Feed(parent, input, more);
        for (auto& f : more) fired.push_back(std::move(f));
      }
    }
    for (auto& f : fired) {
      if (!plans[f.alert.correlation_index].emit) continue;
      ++state.stats.alerts;
      out.push_back(std::move(f.alert));
    }
  }

  // Sets the aggregated value of an entry from `names` (chained input).
  template <typename Lookup>
  static void FillValue(const std::vector<std::string>& names, Lookup& lookup, Entry& entry) {
    if (names.empty()) return;
    bool any = false;
    std::string tuple;
    for (const auto& name : names) {
      bool found = false;
      std::string value = lookup(name, found);
      any = any || found;
      if (names.size() == 1)
        tuple = value;
      else
        AppendLengthPrefixed(tuple, value);
      if (&name == &names.front() && found) entry.has_number = ParseNumber(value, entry.number);
    }
    entry.has_value = any;
    entry.value = std::move(tuple);
  }

  void RunTimers(bool all, std::vector<CorrelationAlert>& out) {
    std::vector<Fired> fired;
    while (!state.timers.empty()) {
      auto [deadline, id] = *state.timers.begin();
      if (!all && !(deadline < Watermark())) break;
      Group& group = state.groups.at(id);
      SetTimer(group, NO_TIME);
      if (plans[group.correlation].at_close)
        CloseWindow(group, fired);
      else
        DeleteGroup(id);
      if (!fired.empty()) {
        Propagate(fired, out);
        fired.clear();
      }
    }
  }

  void AdvanceTo(int64_t time, std::vector<CorrelationAlert>& out) {
    if (!state.has_max || time > state.max_time) {
      state.has_max = true;
      state.max_time = time;
    }
    RunTimers(false, out);
  }

  void Observe(const RuleMatch& match, std::vector<CorrelationAlert>& out) {
    ++state.stats.matches;
    if (state.has_max && match.event_time_ms < Watermark()) {
      ++state.stats.late_matches;
      return;
    }
    AdvanceTo(match.event_time_ms, out);
    if (match.rule_index >= rule_users.size()) return;
    std::vector<Fired> fired;
    for (const auto& [correlation, position] : rule_users[match.rule_index]) {
      const sigma::CorrelationType type = plans[correlation].correlation->type;
      if (type != sigma::CorrelationType::kTemporal &&
          type != sigma::CorrelationType::kTemporalOrdered) {
        // Temporal correlations count rules, not events: there the event counts for each rule.
        if (last_event[correlation] == match.sequence + 1) continue;
        last_event[correlation] = match.sequence + 1;
      }
      const RefSpec& spec = plans[correlation].refs[position];
      Input input;
      input.org = match.org_id;
      for (event::FieldId field : spec.group_fields) {
        const event::FieldValue* value =
            match.event && field != event::NO_FIELD ? match.event->First(field) : nullptr;
        input.values.emplace_back(value ? value->text : std::string_view());
      }
      if (!spec.value_fields.empty()) {
        bool any = false;
        std::string tuple;
        for (size_t f = 0; f < spec.value_fields.size(); ++f) {
          event::FieldId field = spec.value_fields[f];
          const event::FieldValue* value =
              match.event && field != event::NO_FIELD ? match.event->First(field) : nullptr;
          any = any || value;
          std::string_view text = value ? value->text : std::string_view();
          if (spec.value_fields.size() == 1)
            tuple.assign(text);
          else
            AppendLengthPrefixed(tuple, text);
          if (f == 0 && value) input.entry.has_number = ParseNumber(text, input.entry.number);
        }
        input.entry.has_value = any;
        input.entry.value = std::move(tuple);
      }
      input.entry.time = match.event_time_ms;
      input.entry.sequence = match.sequence;
      input.entry.ref = position;
      Feed(correlation, input, fired);
    }
    if (!fired.empty()) Propagate(fired, out);
  }

  // ---- snapshot -----------------------------------------------------------------------------

  [[nodiscard]] std::string Snapshot() const {
    std::string out;
    Writer w(out);
    out.append(SNAPSHOT_MAGIC, sizeof SNAPSHOT_MAGIC);
    w.U32(SNAPSHOT_VERSION);
    w.Str(rules.content_hash);
    w.Str(fingerprint);
    w.U32(static_cast<uint32_t>(rules.correlations.size()));
    w.U8(state.has_max ? 1 : 0);
    w.I64(state.max_time);
    w.U64(state.next_arrival);
    w.U64(state.next_group_id);
    w.U64(state.next_touch);
    const CorrelationStats& s = state.stats;
    for (uint64_t v : {s.matches, s.late_matches, s.evicted_groups, s.alerts, s.dropped_matches})
      w.U64(v);
    // Groups in id order, so equal states give equal bytes.
    std::vector<uint64_t> ids;
    ids.reserve(state.groups.size());
    for (const auto& [id, group] : state.groups) ids.push_back(id);
    std::sort(ids.begin(), ids.end());
    w.U64(ids.size());
    for (uint64_t id : ids) {
      const Group& g = state.groups.at(id);
      w.U64(g.id);
      w.U32(g.correlation);
      w.Str(g.org);
      w.U32(static_cast<uint32_t>(g.values.size()));
      for (const auto& v : g.values) w.Str(v);
      w.U8(g.fired ? 1 : 0);
      w.I64(g.quiet_until);
      w.I64(g.floor);
      w.U64(g.touch);
      w.U32(static_cast<uint32_t>(g.entries.size()));
      for (const Entry& e : g.entries) {
        w.I64(e.time);
        w.U64(e.arrival);
        w.U64(e.sequence);
        w.U16(e.ref);
        w.U8(e.has_value ? 1 : 0);
        w.U8(e.has_number ? 1 : 0);
        w.F64(e.number);
        w.Str(e.value);
      }
    }
    w.U64(XXH3_64bits(out.data(), out.size()));
    return out;
  }

  Result<void> Restore(std::string_view bytes) {
    auto bad = [](std::string_view why) {
      return Fail(std::string("correlation snapshot refused: ") + std::string(why));
    };
    if (bytes.size() < sizeof SNAPSHOT_MAGIC + 8 ||
        std::memcmp(bytes.data(), SNAPSHOT_MAGIC, sizeof SNAPSHOT_MAGIC) != 0)
      return bad("not a correlation snapshot");
    uint64_t checksum = 0;
    std::memcpy(&checksum, bytes.data() + bytes.size() - 8, 8);
    std::string_view body = bytes.substr(0, bytes.size() - 8);
    if (XXH3_64bits(body.data(), body.size()) != checksum) return bad("checksum mismatch");
    Reader r(body.substr(sizeof SNAPSHOT_MAGIC));
    uint32_t version = 0;
    std::string content_hash;
    std::string correlations;
    uint32_t correlation_count = 0;
    if (!r.Raw(version) || version != SNAPSHOT_VERSION) return bad("unknown version");
    if (!r.Str(content_hash) || !r.Str(correlations) || !r.Raw(correlation_count))
      return bad("truncated");
    // The state is made of correlation windows: detection rules that changed around unchanged
    // correlation rules (a reload in `serve`) leave it meaningful.
    (void)content_hash;  // recorded for diagnosis
    if (correlations != fingerprint || correlation_count != rules.correlations.size())
      return bad("taken with a different rule set (other correlation rules)");
    State next;
    uint64_t group_count = 0;
    if (!r.Bool(next.has_max) || !r.Raw(next.max_time) || !r.Raw(next.next_arrival) ||
        !r.Raw(next.next_group_id) || !r.Raw(next.next_touch))
      return bad("truncated");
    CorrelationStats& s = next.stats;
    for (uint64_t* v :
         {&s.matches, &s.late_matches, &s.evicted_groups, &s.alerts, &s.dropped_matches})
      if (!r.Raw(*v)) return bad("truncated");
    if (!r.Raw(group_count)) return bad("truncated");
    for (uint64_t n = 0; n < group_count; ++n) {
      Group g;
      uint32_t value_count = 0;
      uint32_t entry_count = 0;
      if (!r.Raw(g.id) || !r.Raw(g.correlation) || !r.Str(g.org) || !r.Raw(value_count))
        return bad("truncated");
      if (g.correlation >= plans.size()) return bad("unknown correlation");
      const Plan& plan = plans[g.correlation];
      if (value_count != plan.correlation->group_by.size()) return bad("group-by mismatch");
      g.values.resize(value_count);
      for (auto& v : g.values)
        if (!r.Str(v)) return bad("truncated");
      if (!r.Bool(g.fired) || !r.Raw(g.quiet_until) || !r.Raw(g.floor) || !r.Raw(g.touch) ||
          !r.Raw(entry_count))
        return bad("truncated");
      for (uint32_t i = 0; i < entry_count; ++i) {
        Entry e;
        if (!r.Raw(e.time) || !r.Raw(e.arrival) || !r.Raw(e.sequence) || !r.Raw(e.ref) ||
            !r.Bool(e.has_value) || !r.Bool(e.has_number) || !r.Raw(e.number) || !r.Str(e.value))
          return bad("truncated");
        if (e.ref >= plan.refs.size()) return bad("unknown rule reference");
        if (!g.entries.empty() && g.entries.back().time > e.time) return bad("unordered group");
        g.entries.push_back(std::move(e));
      }
      if (g.id == 0 || g.id >= next.next_group_id || g.touch == 0 || g.touch > next.next_touch)
        return bad("inconsistent counters");
      std::string key = GroupKey(g.correlation, g.org, g.values);
      if (!next.index.emplace(key, g.id).second || !next.lru.emplace(g.touch, g.id).second)
        return bad("duplicate group");
      uint64_t id = g.id;
      if (!next.groups.emplace(id, std::move(g)).second) return bad("duplicate group");
    }
    if (!r.AtEnd()) return bad("trailing bytes");
    // Timers follow from the groups.
    for (auto& [id, group] : next.groups) {
      const Plan& plan = plans[group.correlation];
      int64_t deadline = NO_TIME;
      if (plan.at_close) {
        if (!group.entries.empty()) deadline = group.entries.front().time + plan.timespan_ms;
      } else {
        deadline = group.fired ? group.quiet_until : NO_TIME;
        if (!group.entries.empty())
          deadline = std::max(deadline, group.entries.back().time + plan.timespan_ms);
      }
      group.deadline = deadline;
      if (deadline != NO_TIME) next.timers.emplace(deadline, id);
    }
    next.stats.groups = next.groups.size();
    state = std::move(next);
    return {};
  }
};

CorrelationEngine::CorrelationEngine(const sigma::RuleSet& rules,
                                     const event::FieldCatalog& catalog, CorrelationOptions options)
    : impl_(std::make_unique<Impl>(rules, catalog, options)) {}

CorrelationEngine::~CorrelationEngine() = default;

void CorrelationEngine::InternFields(const sigma::RuleSet& rules, event::FieldCatalog& catalog) {
  for (const Correlation& c : rules.correlations) {
    for (const sigma::CorrelationRef& ref : c.rules) {
      if (ref.is_correlation) continue;  // values come from the referenced correlation's group
      const sigma::RuleInfo& target = TargetInfo(rules, ref);
      for (const auto& name : c.group_by) catalog.Intern(ResolveAlias(c, name, ref, target));
      for (const auto& name : c.condition_fields)
        catalog.Intern(ResolveAlias(c, name, ref, target));
    }
  }
}

bool CorrelationEngine::empty() const { return impl_->plans.empty(); }

bool CorrelationEngine::Referenced(uint32_t rule_index) const {
  return rule_index < impl_->rule_users.size() && !impl_->rule_users[rule_index].empty();
}

bool CorrelationEngine::Suppressed(uint32_t rule_index) const {
  return rule_index < impl_->rule_suppressed.size() && impl_->rule_suppressed[rule_index];
}

bool CorrelationEngine::Emitted(uint32_t correlation_index) const {
  return correlation_index < impl_->plans.size() && impl_->plans[correlation_index].emit;
}

void CorrelationEngine::Observe(const RuleMatch& match, std::vector<CorrelationAlert>& out) {
  impl_->Observe(match, out);
}

void CorrelationEngine::Advance(int64_t event_time_ms, std::vector<CorrelationAlert>& out) {
  impl_->AdvanceTo(event_time_ms, out);
}

void CorrelationEngine::Finish(std::vector<CorrelationAlert>& out) { impl_->RunTimers(true, out); }

std::string CorrelationEngine::Snapshot() const { return impl_->Snapshot(); }

Result<void> CorrelationEngine::Restore(std::string_view snapshot) {
  return impl_->Restore(snapshot);
}

const CorrelationStats& CorrelationEngine::stats() const { return impl_->state.stats; }

}  // namespace yagura::correlate

// Fuzz harness of the correlation engine: Sigma correlation rules over a stream of events, both
// taken from the input, held to the promises live detection rests on.
//
// An input is Sigma YAML (detection and correlation rules), then a line "%%" and JSON lines,
// each an event with its time (`@timestamp`, `timestamp`, ...) and optionally its organisation
// (`org`). Every event is evaluated by the plain evaluator; each match of a rule some
// correlation references is fed to the engine, and the watermark advanced after each event,
// as the detector does. Checked:
//   - the same stream gives the same alerts, in the same order, with the same ids;
//   - cut anywhere, with the state carried over by Snapshot() and Restore() into a new engine,
//     the stream gives exactly the alerts of the uninterrupted run (a restart of `serve`), and
//     the restored engine's snapshot is the one it was restored from;
//   - Restore() of damaged snapshot bytes (cut short, a bit flipped, and flipped with the
//     checksum made to fit, so that the structure's own checks are reached) fails without
//     changing the engine, or leaves an engine that takes the rest of the stream;
//   - no two alerts of a run share an id (the store keeps one of each id: a second would be
//     lost), but for the same alert raised again after its group was evicted; and every alert
//     is well formed (times in order, its matches listed oldest first, no more of them than
//     matches).
// The state bounds come from the input's last byte (a seed ending in "p" has the defaults'
// room), often small enough to be reached: evicting groups and forgetting matches must keep
// every promise above too.
//
// Built with -fsanitize=fuzzer (YAGURA_LIBFUZZER; scripts/fuzz) it is a libFuzzer target.
// Otherwise its own main() replays the files and directories named on the command line and
// deterministic mutations of each, so it runs as a ctest.
#include <xxhash.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "correlate/correlation_engine.hpp"
#include "correlate/event_time.hpp"
#include "event/event.hpp"
#include "event/field_catalog.hpp"
#include "event/logsource_mapping.hpp"
#include "event/parser.hpp"
#include "event/record.hpp"
#include "replay_main.hpp"
#include "sigma/evaluator.hpp"
#include "sigma/loader.hpp"
#include "sigma/rule_set.hpp"

namespace {

using namespace yagura;

constexpr size_t MAX_EVENTS = 64;

// What the inputs reached, for the replay's report.
size_t correlations_loaded = 0;
size_t matches_fed = 0;
size_t alerts_raised = 0;
size_t restores_refused = 0;

[[noreturn]] void Fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "correlation_fuzz: invariant violated: %s\n%s\n", what, detail.c_str());
  std::abort();
}

event::LogsourceMapping& Mapping() {
  static event::LogsourceMapping mapping = [] {
    auto loaded = event::LogsourceMapping::LoadDefault();
    if (!loaded) Fail("the default logsource mapping loads", loaded.error().ToString());
    return std::move(*loaded);
  }();
  return mapping;
}

std::string Describe(const correlate::CorrelationAlert& alert) {
  std::string out = alert.id + " correlation " + std::to_string(alert.correlation_index) +
                    " org '" + alert.org_id + "' group";
  for (const auto& [name, value] : alert.group) out += " " + name + "='" + value + "'";
  out += " times " + std::to_string(alert.first_time_ms) + ".." +
         std::to_string(alert.last_time_ms) + " value " + std::to_string(alert.value) +
         " matches " + std::to_string(alert.match_count) + " seqs";
  for (uint64_t seq : alert.sequences) out += " " + std::to_string(seq);
  return out;
}

bool Same(const correlate::CorrelationAlert& a, const correlate::CorrelationAlert& b) {
  // Values are compared bit for bit, as a replay must reproduce them (NaN never arises).
  return a.id == b.id && a.correlation_index == b.correlation_index && a.org_id == b.org_id &&
         a.group == b.group && a.first_time_ms == b.first_time_ms &&
         a.last_time_ms == b.last_time_ms && a.value == b.value && a.match_count == b.match_count &&
         a.sequences == b.sequences;
}

std::string DescribeAll(const std::vector<correlate::CorrelationAlert>& alerts) {
  std::string out;
  for (const auto& alert : alerts) out += "  " + Describe(alert) + "\n";
  return out.empty() ? "  (none)\n" : out;
}

void ExpectSame(const char* what, const std::vector<correlate::CorrelationAlert>& expected,
                const std::vector<correlate::CorrelationAlert>& got) {
  bool same = expected.size() == got.size();
  for (size_t i = 0; same && i < expected.size(); ++i) same = Same(expected[i], got[i]);
  if (!same) Fail(what, "expected:\n" + DescribeAll(expected) + "got:\n" + DescribeAll(got));
}

// The stream: each event parsed once, with its time, organisation and the rules it matched.
struct StreamEvent {
  std::string record;  // with its padding; the event's values point into it
  event::Event event;
  int64_t time_ms = 0;
  std::string org;
  std::vector<uint32_t> rules;
};

class Stream {
 public:
  explicit Stream(const std::deque<StreamEvent>& events) : events_(events) {}

  // Feeds events [from, to) to `engine`, appending what fires to `out`; Finish() when `finish`.
  void Feed(correlate::CorrelationEngine& engine, size_t from, size_t to, bool finish,
            std::vector<correlate::CorrelationAlert>& out) const {
    for (size_t i = from; i < to; ++i) {
      const StreamEvent& e = events_[i];
      for (uint32_t rule : e.rules) {
        if (!engine.Referenced(rule)) continue;
        correlate::RuleMatch match;
        match.rule_index = rule;
        match.event_time_ms = e.time_ms;
        match.org_id = e.org;
        match.sequence = i + 1;
        match.event = &e.event;
        engine.Observe(match, out);
        ++matches_fed;
      }
      engine.Advance(e.time_ms, out);
    }
    if (finish) engine.Finish(out);
  }

 private:
  const std::deque<StreamEvent>& events_;
};

// `evicted`: groups were evicted during the run (the state bound was reached).
void CheckWellFormed(const std::vector<correlate::CorrelationAlert>& alerts,
                     const sigma::RuleSet& rules, const std::deque<StreamEvent>& events,
                     bool evicted) {
  std::map<std::string, const correlate::CorrelationAlert*> ids;
  for (const auto& alert : alerts) {
    // An id names one alert. The same alert may come again only when its group was evicted
    // and made again from the same first match (the store then keeps it once).
    auto [it, inserted] = ids.emplace(alert.id, &alert);
    const correlate::CorrelationAlert& first = *it->second;
    if (!inserted &&
        (!evicted || first.correlation_index != alert.correlation_index ||
         first.org_id != alert.org_id || first.group != alert.group || first.sequences.empty() ||
         alert.sequences.empty() || first.sequences.front() != alert.sequences.front())) {
      Fail("no two alerts share an id", DescribeAll(alerts));
    }
    if (alert.correlation_index >= rules.correlations.size())
      Fail("an alert names a loaded correlation", Describe(alert));
    if (alert.first_time_ms > alert.last_time_ms)
      Fail("an alert's first match is not after its last", Describe(alert));
    if (alert.sequences.size() > 100 || alert.sequences.size() > alert.match_count)
      Fail("an alert lists at most 100 of its matches", Describe(alert));
    // Oldest by event time (a late match goes before those that came earlier), each an event
    // of the stream within the alert's times.
    int64_t previous = INT64_MIN;
    for (uint64_t seq : alert.sequences) {
      if (seq == 0 || seq > events.size())
        Fail("an alert lists events of the stream", Describe(alert));
      const int64_t time = events[seq - 1].time_ms;
      if (time < previous) Fail("an alert lists its matches oldest first", Describe(alert));
      previous = time;
    }
  }
}

void Run(std::string_view input) {
  if (input.empty()) return;
  std::string_view rule_text = input;
  std::string_view event_text;
  if (size_t cut = input.find("\n%%\n"); cut != std::string_view::npos) {
    rule_text = input.substr(0, cut + 1);
    event_text = input.substr(cut + 4);
  }

  event::FieldCatalog catalog;
  Mapping().InternFields(catalog);
  const event::FieldId org_field = catalog.Intern("org");
  sigma::RuleSet rules = sigma::LoadRuleText(rule_text, catalog);
  if (rules.correlations.empty()) return;
  correlate::CorrelationEngine::InternFields(rules, catalog);
  correlations_loaded += rules.correlations.size();

  // Bounds from the last byte: sometimes tight enough to evict groups and forget matches.
  const auto knob = static_cast<uint8_t>(input.back());
  correlate::CorrelationOptions options;
  options.max_groups = knob % 4 == 0 ? 1000 : knob % 4;
  options.max_events_per_group = (knob & 16) != 0 ? 10'000 : 2 + (knob / 4) % 4;
  options.allowed_lateness_ms = (knob & 32) != 0 ? 30'000 : 0;

  event::EventParser parser(catalog, Mapping());
  std::deque<StreamEvent> events;  // a deque: an event stays where its values point
  int64_t reference_ms = 0;
  for (size_t at = 0; at < event_text.size() && events.size() < MAX_EVENTS;) {
    size_t end = event_text.find('\n', at);
    if (end == std::string_view::npos) end = event_text.size();
    const std::string_view line = event_text.substr(at, end - at);
    at = end + 1;
    if (line.empty() || line.front() != '{') continue;
    StreamEvent& e = events.emplace_back();
    e.record = std::string(line) + std::string(event::RECORD_PADDING, '\0');
    event::Record record;
    record.data = std::string_view(e.record.data(), line.size());
    record.format = event::RecordFormat::kJson;
    record.number = events.size();
    auto time = parser.Parse(record, e.event)
                    ? correlate::EventTimeMs(e.event, event::NO_FIELD, reference_ms)
                    : std::nullopt;
    if (!time) {  // as `scan` does: an event without a time is not correlated
      events.pop_back();
      continue;
    }
    reference_ms = e.time_ms = *time;
    if (const event::FieldValue* org = e.event.First(org_field)) e.org = std::string(org->text);
    sigma::EvaluateAll(rules, e.event, sigma::UnrecognisedPolicy::kAllRules, e.rules);
  }
  if (events.empty()) return;
  const Stream stream(events);

  // The whole stream, twice.
  std::vector<correlate::CorrelationAlert> whole;
  bool evicted = false;
  {
    correlate::CorrelationEngine engine(rules, catalog, options);
    stream.Feed(engine, 0, events.size(), true, whole);
    evicted = engine.stats().evicted_groups > 0;
  }
  alerts_raised += whole.size();
  CheckWellFormed(whole, rules, events, evicted);
  {
    std::vector<correlate::CorrelationAlert> again;
    correlate::CorrelationEngine engine(rules, catalog, options);
    stream.Feed(engine, 0, events.size(), true, again);
    ExpectSame("the same stream gives the same alerts", whole, again);
  }

  // Cut and carried over by a snapshot, at a few places.
  std::set<size_t> cuts = {events.size() / 3, events.size() / 2, events.size() - 1,
                           static_cast<size_t>(knob) % events.size()};
  for (size_t cut : cuts) {
    std::vector<correlate::CorrelationAlert> resumed;
    std::string snapshot;
    {
      correlate::CorrelationEngine before(rules, catalog, options);
      stream.Feed(before, 0, cut, false, resumed);
      snapshot = before.Snapshot();
    }
    correlate::CorrelationEngine after(rules, catalog, options);
    if (auto restored = after.Restore(snapshot); !restored)
      Fail("an engine restores its own snapshot", restored.error().ToString());
    if (after.Snapshot() != snapshot)
      Fail("a restored engine's snapshot is the one it was restored from",
           "cut after event " + std::to_string(cut));
    stream.Feed(after, cut, events.size(), true, resumed);
    ExpectSame("a stream cut and carried over gives the alerts of the whole", whole, resumed);

    // The snapshot damaged: refused with the engine unchanged, or taken and usable.
    std::mt19937 random(static_cast<uint32_t>(snapshot.size() * 31 + cut));
    for (int variant = 0; variant < 4 && !snapshot.empty(); ++variant) {
      std::string damaged = snapshot;
      const size_t at = random() % damaged.size();
      if (variant == 0) {
        damaged.resize(at);
      } else {
        damaged[at] = static_cast<char>(damaged[at] ^ (1u << (random() % 8)));
      }
      if (variant >= 2 && damaged.size() > 8) {
        // Sealed again: the checksum no longer stops the damage, the structure's checks must.
        const uint64_t checksum = XXH3_64bits(damaged.data(), damaged.size() - 8);
        std::memcpy(damaged.data() + damaged.size() - 8, &checksum, 8);
      }
      correlate::CorrelationEngine target(rules, catalog, options);
      std::vector<correlate::CorrelationAlert> ignored;
      stream.Feed(target, 0, std::min<size_t>(2, events.size()), false, ignored);
      const std::string state = target.Snapshot();
      if (auto restored = target.Restore(damaged); !restored) {
        ++restores_refused;
        if (target.Snapshot() != state) Fail("a refused snapshot changes nothing", "");
      }
      stream.Feed(target, cut, events.size(), true, ignored);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Run(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}

#ifndef YAGURA_LIBFUZZER

namespace {

// Words of correlation rules and of their events, put in by the mutations.
// clang-format off
constexpr std::string_view INSERTS[] = {
    "event_count", "value_count", "temporal", "temporal_ordered", "value_sum", "value_avg",
    "value_percentile", "value_median", "gte: ", "gt: ", "lt: ", "lte: ", "eq: ", "neq: ",
    "timespan: ", "1s", "10s", "5m", "group-by", "aliases", "generate: true", " and not ",
    " or ", "\"org\": \"b\", ", "\"@timestamp\": \"2026-11-26T10:00:0", "\"timestamp\": 17",
    "- ", ": ", "\n", ",", "0", "9", "\"",
};
// clang-format on

std::string Mutate(const std::string& seed, std::mt19937& random) {
  std::string out = yagura::fuzz::MutateByEdits(seed, random, INSERTS, 3);
  if (out.empty() || random() % 2 == 0) return out;
  // An event line repeated, or moved: the stream's order and density change.
  const size_t events = out.find("\n%%\n");
  if (events == std::string::npos) return out;
  const size_t at = events + 4 + random() % std::max<size_t>(1, out.size() - events - 4);
  const size_t start = out.rfind('\n', at) + 1;
  const size_t end = std::min(out.find('\n', at), out.size());
  if (start <= events + 3 || start >= end) return out;
  const std::string line = out.substr(start, end - start) + "\n";
  if (random() % 2 == 0) {
    out.insert(start, line);
  } else {
    out.erase(start, line.size() <= out.size() - start ? line.size() : out.size() - start);
    out.insert(events + 4, line);
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  yagura::fuzz::Replayed replayed;
  if (int usage = yagura::fuzz::ReplaySeeds(argc, argv, 300, 20261129, Mutate, replayed))
    return usage;
  std::printf(
      "correlation_fuzz: %zu inputs from %zu seeds (%zu correlations loaded, %zu matches fed, "
      "%zu alerts, %zu damaged snapshots refused), no failures\n",
      replayed.runs, replayed.seeds, correlations_loaded, matches_fed, alerts_raised,
      restores_refused);
  if (alerts_raised == 0) {
    std::fprintf(stderr, "correlation_fuzz: no correlation fired: the seeds check nothing\n");
    return 1;
  }
  return 0;
}

#endif

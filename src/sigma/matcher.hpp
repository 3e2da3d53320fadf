// Matcher: the compiled, fast form of a RuleSet.
//
// Rules are routed by logsource first: the candidate rules of each distinct event class are
// computed once and cached. The string and regex predicates of all rules on one field are
// compiled together: plain literals, prefixes and suffixes into hash and trie lookups over the
// case-folded value, everything else into one Hyperscan (Vectorscan) database per field (one
// for the folded value, one for the raw value); keyword predicates into one database run over
// every value of the event at once. Fired patterns are recorded in a bitset and confirmed
// exactly where the database can only prefilter (regexes). Only candidate rules with a fired
// pattern, or whose condition can hold without any (negations, null, exists), are evaluated,
// from the bitset, over the same condition tree as the plain evaluator (laid out as one flat
// program for all rules, so that evaluating reads one array). Compiled databases are
// cached on disk under a key that covers the rule set's hash and every compiled pattern.
// Thread-safety: Match() is const and may run on many threads, each with its own Scratch.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "event/event.hpp"
#include "sigma/evaluator.hpp"
#include "sigma/rule_set.hpp"

namespace yagura::sigma {

struct MatcherOptions {
  UnrecognisedPolicy unrecognised = UnrecognisedPolicy::kAllRules;
  std::string cache_dir;  // empty: no on-disk cache
};

// What Build() made, for diagnostics, benchmarks and tests.
struct MatcherStats {
  bool from_cache = false;       // the databases were loaded from cache_dir, not compiled
  std::string cache_file;        // the cache file read or written (empty without cache_dir)
  double build_seconds = 0;      // the whole of Build()
  size_t predicates = 0;         // all predicates of all rules
  size_t patterns = 0;           // distinct patterns (per field)
  size_t literal_patterns = 0;   // of which decided by literal lookups (no Hyperscan)
  size_t prefiltered = 0;        // regex patterns Hyperscan runs as a prefilter only
  size_t direct_predicates = 0;  // predicates decided by Predicate::Test, not by a scan
  size_t databases = 0;          // Hyperscan databases (folded and raw, per field)
  size_t gated_rules = 0;        // rules evaluated only when one of their patterns fired
  size_t lazy_patterns = 0;      // patterns not scanned: no rule's trigger, tested when read
};

class Matcher {
 public:
  class Scratch;  // per-thread working memory, defined in matcher.cpp
  // Scratch is opaque to callers, so its deleter lives in matcher.cpp too.
  struct ScratchDeleter {
    void operator()(Scratch* scratch) const;
  };
  using ScratchPtr = std::unique_ptr<Scratch, ScratchDeleter>;

  // `rules` must outlive the matcher: predicates are tested through it.
  [[nodiscard]] static Result<std::unique_ptr<Matcher>> Build(const RuleSet& rules,
                                                              const event::FieldCatalog& catalog,
                                                              const MatcherOptions& options);
  ~Matcher();

  [[nodiscard]] ScratchPtr NewScratch() const;

  // Appends the indices of the rules that apply to and match `event`, in ascending order:
  // exactly what EvaluateAll() gives.
  void Match(const event::Event& event, Scratch& scratch, std::vector<uint32_t>& out) const;

  // The matched fields of rule `rule_index` (into the rule set) on `event`, as
  // sigma::AppendMatchedFields gives them, decided from what `scratch` found on the event: for
  // the event last given to Match() with `scratch`, and a rule Match() gave for it. Predicates
  // the matcher did not need to decide are decided now; none is tested twice.
  void AppendMatchedFields(uint32_t rule_index, const event::Event& event, Scratch& scratch,
                           std::vector<std::string_view>& out) const;

  // Whether `event`, parsed without every value (EventParser::SetCollectAllValues(false)), must
  // be parsed again with them before Match(): true when keyword searches of the rules routed to
  // its class might hold for the record's JSON text `raw_json` (sigma/keyword_prefilter.hpp),
  // which must be followed by event::RECORD_PADDING readable bytes, as records are (the scan
  // reads whole vectors past its end). Only the event's logsource is read.
  [[nodiscard]] bool NeedsAllValues(const event::Event& event, std::string_view raw_json,
                                    Scratch& scratch) const;

  // For an event parsed with every value from a record that is not JSON (EVTX, syslog...):
  // whether keyword searches of the rules routed to its class might hold for those values.
  // False means Match() need not look at them (Event::ClearAllValues), which spares folding
  // and scanning every value of every Windows event for one Mimikatz keyword rule.
  [[nodiscard]] bool KeywordsMayMatchValues(const event::Event& event, Scratch& scratch) const;

  [[nodiscard]] const MatcherStats& stats() const;

  // What one scratch has done so far.
  struct Counters {
    uint64_t events = 0;           // events matched that some rule applies to
    uint64_t rules_evaluated = 0;  // condition evaluations (always-evaluated and triggered rules)
    // Lazy patterns decided by reading back what they gave on the same value before (the
    // field's only value, remembered with what it fired).
    uint64_t lazy_remembered = 0;
    // Times the triggers were chosen again from what fired on the events (Match does so after
    // the first few thousand events and then every so often, and may adopt the choice another
    // scratch made): a rule is then gated on whichever of its possible triggers fired least.
    uint64_t trigger_choices = 0;
  };
  [[nodiscard]] Counters counters(const Scratch& scratch) const;

  struct Impl;

 private:
  explicit Matcher(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace yagura::sigma

// The inside of a scan Engine, shared by the files that implement it (scanner.cpp reads files,
// live_detection.cpp takes records one at a time for `serve`). Not part of the public face.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "event/event.hpp"
#include "event/field_catalog.hpp"
#include "event/logsource_mapping.hpp"
#include "event/parser.hpp"
#include "intel/event_matcher.hpp"
#include "intel/live_indicators.hpp"
#include "scan/event_conditions.hpp"
#include "scan/scanner.hpp"
#include "sigma/matcher.hpp"
#include "sigma/rule_set.hpp"

namespace yagura::scan {

// Detection state of one thread: each worker parses and matches with its own copies.
struct Worker {
  std::unique_ptr<event::EventParser> parser;
  event::Event event;
  sigma::Matcher::ScratchPtr scratch;
  // Whether the last JSON record needed every value for keyword searches: if so, the next is
  // parsed with them straight away (records of one class come in runs), and only every
  // KEYWORD_RECHECK-th is checked to see whether the run has ended.
  bool keywords_last_needed = false;
  uint32_t keyword_checks_skipped = 0;
  std::vector<uint32_t> matches;
  std::vector<std::string_view> fields;  // one rule's matched fields, reused
  // The indicator set this worker matches with: taken from LiveIndicators per batch (or every
  // INTEL_REFRESH records on one thread), so a reload reaches the workers within a batch.
  std::shared_ptr<const intel::IndicatorIndex> intel_index;
  intel::IntelMatcher::Scratch intel_scratch;
  uint64_t intel_generation = 0;  // LiveIndicators::generation() of intel_index
  // What the scan's scope (the time range of --from and --to, the conditions of --where) made
  // of the last record Detect parsed: only records inside it are matched.
  enum class Scope : uint8_t { kInside, kOutsideTimeRange, kUntimed, kNotWhere };
  Scope scope = Scope::kInside;
};

// Counts the record `worker` has just detected against the scan's scope into a summary's or a
// batch's counters.
template <typename Counts>
void CountScope(const Worker& worker, Counts& counts) {
  switch (worker.scope) {
    case Worker::Scope::kInside:
      return;
    case Worker::Scope::kOutsideTimeRange:
      ++counts.events_outside_time_range;
      return;
    case Worker::Scope::kUntimed:
      ++counts.events_without_time;
      return;
    case Worker::Scope::kNotWhere:
      ++counts.events_not_where;
      return;
  }
}

constexpr uint64_t INTEL_REFRESH = 1024;

struct Engine::Impl {
  ScanOptions options;
  Diagnostics* diagnostics = nullptr;
  event::FieldCatalog catalog;
  std::optional<event::LogsourceMapping> mapping;
  std::vector<event::FieldId> host_fields;
  event::FieldId time_field = event::NO_FIELD;  // options.time_field's id, if set
  std::optional<EventConditions> where;         // --where: only events where these hold are matched
  sigma::RuleSet rules;
  // By index into rules.rules / rules.correlations: chosen by the options, or kept only
  // because a chosen correlation references it (Engine::Selected).
  std::vector<bool> rule_selected, correlation_selected;
  std::unique_ptr<sigma::Matcher> matcher;
  std::optional<intel::IntelMatcher> intel_matcher;  // set when feeds were given
  std::unique_ptr<intel::LiveIndicators> indicators;
  Worker main_worker;  // the calling thread's parser and matcher state
  // Matcher state for the scan's other workers (options.threads - 1), made while loading: a
  // fresh scratch is memory touched for the first time, 0.3-5 ms each on a virtual machine,
  // which a scan of a second or less on two threads noticed.
  std::vector<sigma::Matcher::ScratchPtr> spare_scratches;
  // DetectRecord's workers, one per declared logsource ("" for none): the parser is built for
  // one declared class.
  std::map<std::string, std::unique_ptr<Worker>, std::less<>> live_workers;
  std::string live_key;  // DetectRecord's lookup key, reused
  // During an OnAlert call: the alert's matched fields as the matcher of the worker that
  // matched the event found them (FindMatchedFields); unset without a matcher. See
  // Engine::AppendMatchedFields.
  std::optional<std::span<const std::string_view>> alerting_fields;
};

constexpr uint32_t KEYWORD_RECHECK = 8;

// Gives a new worker its per-thread matching state.
void PrepareWorker(const Engine::Impl& m, Worker& worker);

// Parses and matches one record; false when the record could not be parsed (`error` says why).
bool Detect(const Engine::Impl& m, Worker& worker, const event::Record& record,
            std::string& error);

// The matched fields of rule `rule_index` on the event `worker` has just matched, into
// worker.fields, from what its matcher found there (it still knows what fired); false without
// a matcher.
bool FindMatchedFields(const Engine::Impl& m, Worker& worker, uint32_t rule_index);

// Calls `on_alert` for each rule the event `worker` has just matched, with its matched fields
// found by the worker's matcher (Engine::AppendMatchedFields).
void ReportRuleAlerts(Engine::Impl& m, Worker& worker, const event::Record& record,
                      const std::string& path, const Engine::OnAlert& on_alert);

}  // namespace yagura::scan

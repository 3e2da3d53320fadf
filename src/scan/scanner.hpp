// Scanner: `yagura scan` as a library — inputs in, alerts out, with counts for the summary.
//
// The flow is the hot path of docs/architecture.md: RecordReader frames records, EventParser
// extracts the fields the rules read and classifies the event, the Matcher (or, for tests, the
// plain evaluator) finds the rules that match, and the AlertWriter formats each alert.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/diagnostics.hpp"
#include "event/field_catalog.hpp"
#include "event/input.hpp"
#include "event/logsource.hpp"
#include "event/record.hpp"
#include "intel/event_matcher.hpp"
#include "intel/live_indicators.hpp"
#include "scan/alert_techniques.hpp"
#include "sigma/evaluator.hpp"
#include "sigma/rule.hpp"
#include "sigma/rule_set.hpp"

namespace yagura::scan {

// Field names whose first value names the host of an event, in the order they are read (the
// scan summary's hosts, `yagura stats`).
inline constexpr std::string_view HOST_FIELDS[] = {"Computer", "Hostname", "hostname", "host",
                                                   "ComputerName"};

enum class OutputFormat : uint8_t { kJsonl, kCsv, kTimesketch };
// --sort: alerts as the inputs give them, or by event time (scan/time_sorter.hpp).
enum class AlertOrder : uint8_t { kInput, kTime };

struct ScanOptions {
  std::vector<std::string> inputs;
  std::vector<std::string> rule_paths;
  event::InputFormat format = event::InputFormat::kAuto;
  std::optional<event::Logsource> declared_logsource;
  sigma::UnrecognisedPolicy unrecognised = sigma::UnrecognisedPolicy::kAllRules;
  std::string output_path;  // empty or "-": stdout
  // --pivot-keywords: where RunScan writes the keywords of the events of alerts at or above
  // pivot_min_level (scan/pivot_keywords.hpp) as JSON; empty: none.
  std::string pivot_keywords_path;
  sigma::Level pivot_min_level = sigma::Level::kHigh;
  // --html-report: where RunScan writes the alerts as one HTML page (scan/html_report.hpp),
  // and whether its words are Japanese (--html-report-lang ja) rather than English.
  std::string html_report_path;
  bool html_report_japanese = false;
  // --attack-layer: where RunScan writes the ATT&CK techniques of the alerts as a Navigator
  // layer (scan/alert_techniques.hpp); empty: none.
  std::string attack_layer_path;
  TechniqueScore attack_layer_score = TechniqueScore::kLevel;
  // --geo-ip: MaxMind DB files or folders of them (intel/geo_ip.hpp); the addresses of alerted
  // events are located, written with each alert and counted by country. Empty: none.
  std::vector<std::string> geo_ip_paths;
  OutputFormat output_format = OutputFormat::kJsonl;
  AlertOrder alert_order = AlertOrder::kInput;
  // With AlertOrder::kTime: where alerts beyond the memory budget wait (empty: $TMPDIR, else
  // /tmp), and the budget.
  std::string sort_dir;
  size_t sort_memory_bytes = size_t{64} << 20;
  std::optional<sigma::Level> min_level;
  std::vector<std::string> rule_ids;  // only these rules (by id or name)
  std::vector<std::string> tags;      // only rules with one of these tags
  std::vector<std::string> exclude_tags;  // no rule with one of these tags
  std::vector<std::string> statuses;      // only rules of one of these statuses (stable, test...)
  std::vector<std::string> exclude_rule_ids;  // no rule with one of these ids or names
  // Rule tuning files (scan/rule_tuning.hpp), read by Engine::Prepare, so that a reload of
  // live detection reads them again: rule lists whose rules alone are kept (with rule_ids) or
  // are left out, and level overrides, applied before --min-level chooses.
  std::vector<std::string> rule_list_files;
  std::vector<std::string> exclude_rule_list_files;
  std::vector<std::string> level_override_files;
  int threads = 1;
  // With several threads, workers read EVTX files up to this size whole, and larger ones a
  // range of chunks each (the reader thread checks them first).
  uint64_t whole_evtx_limit = uint64_t{64} << 20;
  bool detect = true;             // false: --no-detect, parse and extract only
  bool plain_evaluator = false;   // use the oracle instead of the compiled matcher
  bool progress = false;          // progress bar on stderr
  std::string cache_dir;          // compiled matcher cache; empty: none
  std::map<std::string, std::vector<std::string>> placeholders;  // |expand values
  std::vector<std::string> intel_paths;  // indicator feeds (files or directories)
  bool intel_subdomains = true;          // domain indicators also match subdomains
  // Interns fields that something besides the rules reads (live detection's campaign keys and
  // time field), before the event parser is built.
  std::function<void(event::FieldCatalog&)> intern_extra_fields;
  // --skip-duplicate-records: a record that is a copy of one read before (scan/
  // duplicate_records.hpp) raises no alert and feeds no correlation.
  bool skip_duplicate_records = false;
  // Correlation rules: the event time is read from this field when set (else the format's own
  // time), and a match may arrive this far behind the latest event time and still count.
  std::string time_field;
  int64_t allowed_lateness_ms = 60'000;
  // --from / --to: only events whose time (as above: the time field, else the format's own)
  // lies in [from_ms, to_ms] are matched; the others, and events whose time cannot be read
  // when a bound is set, are read but not matched, and counted in the summary.
  std::optional<int64_t> from_ms;
  std::optional<int64_t> to_ms;
  // --where: Sigma conditions `FIELD[|modifier...]=VALUE` (scan/event_conditions.hpp) that must
  // all hold for an event to be matched; the others are read, not matched, and counted.
  std::vector<std::string> conditions;
  // Progress of Engine::Prepare over the rule files (sigma::LoadOptions::on_file); live
  // detection's reloads report it to the console.
  std::function<void(size_t files_done, size_t files_total)> on_rule_file;
};

struct ScanSummary {
  uint64_t rules_loaded = 0;  // after the selection (with what its correlations reference)
  uint64_t rules_failed = 0;
  // Rules and correlations that loaded from the files, before the selection chose among them,
  // and those whose level a level override changed.
  uint64_t rules_in_files = 0;
  uint64_t rules_relevelled = 0;
  uint64_t files_read = 0;
  uint64_t files_failed = 0;
  uint64_t records_read = 0;
  uint64_t records_skipped = 0;
  uint64_t events_unrecognised = 0;
  uint64_t bytes_read = 0;
  uint64_t evtx_native_records = 0;   // of records_read: EVTX rendered by Yagura itself
  uint64_t evtx_libevtx_records = 0;  // EVTX rendered by libevtx (damaged files, recovery)
  uint64_t alerts = 0;
  uint64_t indicators_loaded = 0;  // active indicators after versions, expiry and revocation
  uint64_t intel_feeds_failed = 0;
  uint64_t indicator_alerts = 0;   // of `alerts`
  uint64_t correlations_loaded = 0;
  uint64_t correlation_alerts = 0;          // of `alerts`
  uint64_t correlation_late_matches = 0;    // arrived behind the watermark: not counted
  uint64_t correlation_evicted_groups = 0;  // state bound reached
  // Events matched by a rule that a correlation references but whose time could not be read:
  // they cannot take part in correlations.
  uint64_t correlation_untimed_events = 0;
  // With --from or --to: events left unmatched because their time lies outside the range, or
  // cannot be read.
  uint64_t events_outside_time_range = 0;
  uint64_t events_without_time = 0;
  // With --where: events left unmatched because the conditions do not hold.
  uint64_t events_not_where = 0;
  // With --pivot-keywords: the alerts whose events gave keywords, and the distinct keywords of
  // each category (PivotCategories() order).
  uint64_t pivot_alerts = 0;
  // With --skip-duplicate-records: alerting records that were copies of records read before,
  // and the alerts they would have raised.
  uint64_t records_duplicate = 0;
  uint64_t alerts_duplicate = 0;
  std::vector<size_t> pivot_keywords;
  // With --attack-layer: the alerts whose rule names a technique, and the techniques named
  // (the layer's, ICS techniques included).
  uint64_t attack_alerts = 0;
  std::optional<size_t> attack_techniques;
  double load_seconds = 0;
  double scan_seconds = 0;
  std::map<sigma::Level, uint64_t> alerts_by_level;
  std::map<std::string, uint64_t> alerts_by_rule;  // rule title
  std::map<std::string, uint64_t> alerts_by_host;
  std::map<std::string, uint64_t> alerts_by_feed;  // indicator alerts by feed
  // With --geo-ip: alerts by the countries of their event's addresses (ISO codes; an alert
  // counts once for each country), and the alerts with at least one located address.
  bool geo_ip = false;
  std::map<std::string, uint64_t> alerts_by_country;
  uint64_t alerts_located = 0;
  // When the alerted events happened (the time --from and --to read; a correlation alert's is
  // its window's last match): the first and last, and alerts by UTC day ("2026-11-29"), as an
  // investigator asks first which days a hunt's findings fall on.
  std::optional<int64_t> first_alert_ms;
  std::optional<int64_t> last_alert_ms;
  std::map<std::string, uint64_t> alerts_by_day;
  uint64_t alerts_without_time = 0;
  // What could not be written once the scan had read its inputs (the alerts' output, the pivot
  // keywords, the HTML report: a full disk), each with its reason. The scan still ends with
  // its summary, so a long hunt's counts are not lost with one file.
  std::vector<std::string> output_failures;

  // 0 everything read and written; 1 some input or rule could not be read, or some output
  // could not be written (exit status of `yagura scan`).
  [[nodiscard]] int ExitStatus() const {
    return rules_failed || files_failed || records_skipped || intel_feeds_failed ||
                   !output_failures.empty()
               ? 1
               : 0;
  }
};

// A prepared scan: rules loaded and compiled, ready to read any number of inputs. RunScan is one
// Engine over the options' inputs; tests drive an Engine directly to reuse one compiled rule set
// over many files.
class Engine {
 public:
  // Called for each alert, in input order. `record` and `event` are valid during the call only.
  using OnAlert = std::function<void(const sigma::Rule& rule, const event::Event& event,
                                     const event::Record& record, const std::string& path)>;

  // Called for each indicator that matches an event, after the event's rule alerts.
  using OnIndicatorAlert = std::function<void(
      const intel::IndicatorIndex& index, const intel::IntelMatch& match,
      const std::vector<intel::IntelHit>& hits, const event::Event& event,
      const event::Record& record, const std::string& path)>;

  // Loads and compiles the rules and reads the indicator feeds; failures go to `diagnostics`
  // and `summary`.
  [[nodiscard]] static Result<std::unique_ptr<Engine>> Prepare(const ScanOptions& options,
                                                                Diagnostics& diagnostics,
                                                                ScanSummary& summary);
  ~Engine();

  [[nodiscard]] const sigma::RuleSet& rules() const;
  // Whether rule `rule_index` of rules() (or a correlation) was chosen by the options' rule
  // selection and tuning, rather than kept only because a chosen correlation references it:
  // only chosen ones raise alerts of their own.
  [[nodiscard]] bool Selected(uint32_t rule_index) const;
  [[nodiscard]] bool CorrelationSelected(uint32_t correlation_index) const;
  // The whole record as JSON, for output (see EventParser::ToJson).
  [[nodiscard]] std::string EventJson(const event::Record& record);
  // The same, written over `out`, whose storage is reused.
  void EventJson(const event::Record& record, std::string& out);
  // The first value of the fields that name the host of an event, if any.
  [[nodiscard]] std::string_view Host(const event::Event& event) const;
  // Each of `fields` (names, as AppendMatchedFields gives them) with its first value in the
  // event, appended to `out`: what made a rule fire, for an alert's `details`. Fields without
  // a value are left out.
  void AppendFieldValues(const event::Event& event, const std::vector<std::string_view>& fields,
                         std::vector<std::pair<std::string_view, std::string_view>>& out) const;
  // During an OnAlert call: the alert's matched fields (sigma::AppendMatchedFields), from what
  // the matcher found on the event (with several threads, as the worker that matched it kept
  // them); by testing the rule's predicates again where no matcher was used.
  void AppendMatchedFields(const sigma::Rule& rule, const event::Event& event,
                           std::vector<std::string_view>& out) const;

  // Scans `inputs` (files, directories, "-"), adding to the counts of `summary`.
  void Scan(const std::vector<std::string>& inputs, const OnAlert& on_alert,
            ScanSummary& summary);
  void Scan(const std::vector<std::string>& inputs, const OnAlert& on_alert,
            const OnIndicatorAlert& on_indicator, ScanSummary& summary);

  // Live detection (`serve`): one record at a time on the calling thread. `declared` is the
  // logsource of the sensor that sent it, the class given to the event when its content does
  // not say what it is. Alerts go to the callbacks as with Scan() (path ""). False, with
  // `error` set, when the record could not be parsed. `parsed`, when given, is set to the
  // event as parsed, valid until the next call. Not thread-safe: one caller.
  bool DetectRecord(const event::Record& record, const std::optional<event::Logsource>& declared,
                    const OnAlert& on_alert, const OnIndicatorAlert& on_indicator,
                    std::string& error, const event::Event** parsed = nullptr);

  // The indicator set matched on every event; a caller may Reload() it while Scan() runs.
  [[nodiscard]] intel::LiveIndicators& indicators();
  [[nodiscard]] std::string_view FieldName(event::FieldId id) const;
  [[nodiscard]] const event::FieldCatalog& catalog() const;

  struct Impl;

 private:
  explicit Engine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Indicator alerts have no rule level; the indicator's confidence stands in for it: unknown or
// at least 70 is high, 30-69 medium, below 30 low.
[[nodiscard]] sigma::Level IndicatorLevel(int confidence);

// Runs a whole scan. Diagnostics (unreadable files, bad records, failed rules) go to
// `diagnostics` as they happen. Returns an error only when the scan could not start
// (no rule loaded, output not writable).
[[nodiscard]] Result<ScanSummary> RunScan(const ScanOptions& options, Diagnostics& diagnostics);

}  // namespace yagura::scan

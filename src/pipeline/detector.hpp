// Detector: streaming detection over the ingest spool, for `yagura serve`.
//
// One thread reads the spool in order from its saved position, unwraps each envelope, runs the
// same engine as `yagura scan` (Sigma rules and indicators, scan/scanner.hpp), feeds the
// matches to the Sigma correlation rules and the cross-organisation campaign tracker
// (src/correlate), and hands every batch's alerts to a sink (the centre's database).
//
// Exactly once, from the sink's point of view, without a distributed transaction:
//   - every alert id is a pure function of the event's spool position and what fired
//     (core/stable_id.hpp), and correlation and campaign state are pure functions of the
//     records in order, so processing the same records again yields the same alerts;
//   - the sink inserts idempotently (an id it has seen is left alone);
//   - the detector's state (next spool position, correlation and campaign state) is saved only
//     after the sink has accepted everything before that position, atomically (temporary file,
//     fsync, rename). After a crash, detection resumes from the last saved state and replays
//     the records after it: what was stored is produced again with the same ids and ignored.
// The spool is trimmed only up to the saved position, so the replayed records are still there.
//
// When the sink fails (database down), the batch is retried, never skipped; meanwhile ingest
// goes on into the spool until it is full, and then the senders are slowed down.
//
// Rules and feeds are reloaded when their files change: a new engine is prepared beside the
// running one and swapped in between two batches, so no event is dropped or seen twice. A rule
// set that fails to load leaves the running one in place. Correlation state survives a reload
// when the correlation rules are unchanged; otherwise windows start empty (logged).
//
// The console lists the running rule set (Catalog(): an immutable snapshot replaced by each
// rule reload, so readers on other threads never see the detection thread's engine change
// under them) and can ask for a reload (Reload()): the new set is prepared on the asking
// thread, with progress per rule file, and handed to the detection thread to swap in.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/detection.hpp"
#include "core/metrics.hpp"
#include "core/result.hpp"
#include "correlate/campaigns.hpp"
#include "correlate/correlation_engine.hpp"
#include "pipeline/event_store.hpp"
#include "pipeline/ingest_queue.hpp"
#include "scan/scanner.hpp"

namespace yagura::pipeline {

struct DetectorOptions {
  // Rules, feeds, placeholders, matcher cache and minimum level, as for `yagura scan`
  // (inputs, output and threads are not used).
  scan::ScanOptions scan;
  std::string time_field;  // event time from this field instead of the format's usual one
  correlate::CorrelationOptions correlation;
  correlate::CampaignOptions campaigns;
  std::string centre_org_id;  // owner of campaign alerts
  std::string state_path;     // the detector's saved state
  size_t batch_records = 4096;
  // The state is saved after a batch once this long has passed since it was last saved, and
  // when the detector is idle or stops (saving writes the correlation state; a crash replays
  // about this much, and the replay stores nothing twice).
  int64_t state_interval_ms = 1000;
  // How often rule and feed files are checked for changes; 0: never.
  int64_t reload_interval_ms = 2000;
  // Processed events stay in the spool this long (0: removed once processed and saved).
  int64_t spool_retention_ms = 0;
  // Every processed event is added here with its host and event time, for investigations
  // (none: not kept). Flushed before each save of the detector's state and trimmed after.
  EventStore* event_store = nullptr;
  // How long the sink is given before a failed batch is retried.
  int64_t retry_delay_ms = 1000;
  // Repeats: a rule or indicator alert for the same organisation and host as an earlier one, in
  // the same window of event time, gets that alert's id, and the store counts it there instead
  // of keeping a row per event (hub/alerts.hpp). Windows are fixed (event time divided by this),
  // so the id is a function of the event alone and a replay finds the same alert. 0: every
  // event is an alert of its own.
  int64_t fold_window_ms = 3'600'000;
};

// What one batch of spool records produced.
struct DetectionBatch {
  uint64_t first_seq = 0;  // spool records [first_seq, next_seq)
  uint64_t next_seq = 0;
  std::vector<DetectedAlert> alerts;
  std::vector<DetectedRepeat> repeats;  // of alerts above, in spool order
  std::vector<DetectedCampaign> campaigns;
};

// Stores a batch; must be idempotent by alert and campaign id. An error makes the detector
// retry the same batch later.
using DetectionSink = std::function<Result<void>(const DetectionBatch& batch)>;

struct DetectorStats {
  std::atomic<uint64_t> records{0};         // spool records processed
  std::atomic<uint64_t> bad_records{0};     // not an envelope, or the event did not parse
  std::atomic<uint64_t> alerts{0};          // alerts handed to the sink (replays included)
  std::atomic<uint64_t> correlation_alerts{0};
  std::atomic<uint64_t> campaigns{0};       // campaign updates
  std::atomic<uint64_t> sink_failures{0};
  std::atomic<uint64_t> reloads{0};
  std::atomic<uint64_t> reload_failures{0};
  std::atomic<uint64_t> next_seq{0};        // the next spool record to process
  // Wall-clock time of the last batch processed, or of the last wait that found nothing to
  // read (at most 200 ms apart when idle): with records waiting, a detector whose progress is
  // old is stuck (a store refusing alerts, say).
  std::atomic<int64_t> progress_at_ms{0};
};

// One loaded rule as the console lists it.
struct LoadedRuleInfo {
  std::string id;  // what alerts carry as rule_id: the rule's id, or its title when it has none
  std::string title;
  std::string level;
  std::string status;
  bool correlation = false;  // a correlation rule rather than a detection rule
  event::Logsource logsource;
  std::vector<std::string> tags;
  std::vector<std::string> techniques;  // from attack.tNNNN tags: "T1110.001"
  std::string path;
};

// A rule file or document that did not load.
struct RuleLoadProblem {
  std::string path;
  int line = 0;
  std::string message;
};

// The running rule set. Immutable once published; each rule reload publishes a new one.
struct RuleCatalog {
  uint64_t generation = 0;  // 1 for the rules loaded at start, then +1 per rule reload
  int64_t loaded_at_ms = 0;
  uint64_t files_read = 0;
  std::vector<LoadedRuleInfo> rules;  // detection rules, then correlation rules
  std::vector<RuleLoadProblem> failures;
  // Tuning (exclude_rules, exclude_rule_lists, level_overrides): the rules and correlations of
  // the files that raise no alert of their own, and those whose level an override changed.
  uint64_t left_out = 0;
  uint64_t relevelled = 0;
};

// A reload that kept the running rules because the new set did not load.
struct ReloadFailure {
  int64_t at_ms = 0;
  std::string message;
};

// What a reload asked for by hand reports while it prepares the new set.
struct ReloadProgress {
  std::function<void(size_t files_done, size_t files_total)> on_rule_file;
  std::function<void(std::string_view step)> on_step;
};

class Detector {
 public:
  // Loads the rules and feeds and the saved state; does not start the thread.
  static Result<std::unique_ptr<Detector>> Create(DetectorOptions options, IngestQueue& queue,
                                                  DetectionSink sink, Metrics& metrics);
  ~Detector();  // stops the thread
  Detector(const Detector&) = delete;
  Detector& operator=(const Detector&) = delete;

  // Runs detection on its own thread until Stop().
  void Start();
  // Finishes the batch in hand (or gives up on a failing sink), saves the state, joins.
  void Stop();

  // Processes the records available now on the calling thread (tests, benchmarks); returns how
  // many were processed. Not to be mixed with Start().
  Result<uint64_t> RunUntilIdle();
  // Checks rule and feed files now and reloads what changed (the thread does this by itself
  // every reload_interval_ms).
  Result<bool> ReloadIfChanged();

  // Reloads rules and feeds now, changed or not (the console's reload). The new set is
  // prepared on the calling thread beside the running one, then swapped in by the detection
  // thread between two batches (directly when that thread is not running); the call returns
  // once it runs. A set that fails to load leaves the running one in place and returns the
  // loader's error. One reload at a time; a file-watch reload due meanwhile waits its turn.
  Result<std::shared_ptr<const RuleCatalog>> Reload(const ReloadProgress& progress = {});
  // The running rule set (any thread).
  [[nodiscard]] std::shared_ptr<const RuleCatalog> Catalog() const;
  // The last reload (by hand or on file change) that failed, if the running set is older.
  [[nodiscard]] std::optional<ReloadFailure> LastReloadFailure() const;
  // The indicator index detection matches events against now (any thread).
  [[nodiscard]] std::shared_ptr<const intel::IndicatorIndex> Indicators() const;

  [[nodiscard]] const DetectorStats& stats() const;

  struct Impl;

 private:
  explicit Detector(std::unique_ptr<Impl> impl);
  static Result<bool> ReloadIfChangedImpl(Impl& impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace yagura::pipeline

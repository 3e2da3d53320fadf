// RunScan: loads rules, builds the matcher, then streams every input record through
// parse -> classify -> match -> write. See scanner.hpp for the stages.
#include "scan/scanner.hpp"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>

#include "core/large_buffer.hpp"
#include "core/time.hpp"
#include "correlate/correlation_engine.hpp"
#include "correlate/event_time.hpp"
#include "event/evtx_reader.hpp"
#include "event/json_segments.hpp"
#include "event/parser.hpp"
#include "intel/store.hpp"
#include "scan/alert_techniques.hpp"
#include "scan/alert_writer.hpp"
#include "scan/duplicate_records.hpp"
#include "scan/engine_impl.hpp"
#include "scan/html_report.hpp"
#include "scan/pivot_keywords.hpp"
#include "scan/report_file.hpp"
#include "scan/rule_tuning.hpp"
#include "sigma/evaluator.hpp"
#include "sigma/matcher.hpp"
#include "sigma/rule_set.hpp"

namespace yagura::scan {
namespace {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// A one-line progress bar on stderr, redrawn at most every 200 ms.
class Progress {
 public:
  Progress(bool enabled, uint64_t total_bytes) : enabled_(enabled), total_(total_bytes) {}

  void Update(uint64_t bytes_done, uint64_t events) {
    if (!enabled_) return;
    auto now = Clock::now();
    if (now - last_ < std::chrono::milliseconds(200)) return;
    last_ = now;
    double elapsed = std::chrono::duration<double>(now - start_).count();
    double rate = elapsed > 0 ? static_cast<double>(events) / elapsed : 0;
    double fraction = total_ ? std::min(1.0, static_cast<double>(bytes_done) / total_) : 0;
    constexpr int WIDTH = 30;
    int filled = static_cast<int>(fraction * WIDTH);
    std::string bar(filled, '#');
    bar.resize(WIDTH, '.');
    double eta = fraction > 0 ? elapsed / fraction - elapsed : 0;
    std::fprintf(stderr, "\r[%s] %5.1f%%  %.1f/%.1f MB  %.0f events/s  ETA %.0fs   ", bar.c_str(),
                 fraction * 100, bytes_done / 1e6, total_ / 1e6, rate, eta);
    drawn_ = true;
  }
  void Finish() {
    if (drawn_) std::fprintf(stderr, "\r%*s\r", 100, "");
  }

 private:
  bool enabled_;
  uint64_t total_;
  Clock::time_point start_ = Clock::now();
  Clock::time_point last_{};
  bool drawn_ = false;
};

bool RuleSelected(const sigma::Rule& rule, const ScanOptions& options) {
  const auto& info = rule.info;
  if (options.min_level && info.level < *options.min_level) return false;
  auto named = [&](const std::vector<std::string>& ids) {
    return std::any_of(ids.begin(), ids.end(), [&](const std::string& id) {
      return id == info.id || (!info.name.empty() && id == info.name);
    });
  };
  if (!options.rule_ids.empty() && !named(options.rule_ids)) return false;
  if (!options.exclude_rule_ids.empty() && named(options.exclude_rule_ids)) return false;
  auto has_tag = [&](const std::vector<std::string>& wanted) {
    return std::any_of(info.tags.begin(), info.tags.end(), [&](const std::string& tag) {
      return std::find(wanted.begin(), wanted.end(), tag) != wanted.end();
    });
  };
  if (!options.tags.empty() && !has_tag(options.tags)) return false;
  if (!options.exclude_tags.empty() && has_tag(options.exclude_tags)) return false;
  // A rule without a status is of none of them.
  if (!options.statuses.empty() && std::find(options.statuses.begin(), options.statuses.end(),
                                             info.status) == options.statuses.end()) {
    return false;
  }
  return true;
}

uint64_t InputSize(const std::vector<event::InputFile>& inputs) {
  uint64_t total = 0;
  for (const auto& input : inputs) total += input.size;
  return total;
}

// "path:line" for line-oriented input, "path record N" for EVTX and JSON values without lines.
std::string RecordLocation(const std::string& path, const event::Record& record) {
  if (record.line) return fmt::format("{}:{}", path, record.line);
  return fmt::format("{} record {}", path, record.number);
}


}  // namespace

Engine::Engine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Engine::~Engine() = default;

const sigma::RuleSet& Engine::rules() const { return impl_->rules; }

intel::LiveIndicators& Engine::indicators() { return *impl_->indicators; }

std::string_view Engine::FieldName(event::FieldId id) const { return impl_->catalog.Name(id); }

const event::FieldCatalog& Engine::catalog() const { return impl_->catalog; }

std::string Engine::EventJson(const event::Record& record) {
  return impl_->main_worker.parser->ToJson(record);
}

bool Engine::Selected(uint32_t rule_index) const { return impl_->rule_selected[rule_index]; }

bool Engine::CorrelationSelected(uint32_t correlation_index) const {
  return impl_->correlation_selected[correlation_index];
}

void Engine::EventJson(const event::Record& record, std::string& out) {
  impl_->main_worker.parser->ToJson(record, out);
}

std::string_view Engine::Host(const event::Event& event) const {
  for (auto id : impl_->host_fields) {
    if (const auto* value = event.First(id)) return value->text;
  }
  return {};
}

void Engine::AppendFieldValues(
    const event::Event& event, const std::vector<std::string_view>& fields,
    std::vector<std::pair<std::string_view, std::string_view>>& out) const {
  for (std::string_view name : fields) {
    const event::FieldId id = impl_->catalog.Find(name);
    if (id == event::NO_FIELD) continue;
    for (const event::FieldValue& value : event.Values(id)) {
      if (value.type == event::ValueType::kNull) continue;
      out.emplace_back(name, value.text);
      break;
    }
  }
}

void Engine::AppendMatchedFields(const sigma::Rule& rule, const event::Event& event,
                                 std::vector<std::string_view>& out) const {
  const Impl& m = *impl_;
  if (!m.alerting_fields) {
    sigma::AppendMatchedFields(rule, event, out);
    return;
  }
  // Found by the matcher that matched the event: testing the predicates again took about a
  // twentieth of a scan of the EVTX samples, where one record in five alerts (`1 of
  // selection_*` decides every selection).
  for (std::string_view field : *m.alerting_fields)
    if (std::find(out.begin(), out.end(), field) == out.end()) out.push_back(field);
}

bool FindMatchedFields(const Engine::Impl& m, Worker& worker, uint32_t rule_index) {
  if (!m.matcher || !worker.scratch) return false;
  worker.fields.clear();
  m.matcher->AppendMatchedFields(rule_index, worker.event, *worker.scratch, worker.fields);
  return true;
}

void ReportRuleAlerts(Engine::Impl& m, Worker& worker, const event::Record& record,
                      const std::string& path, const Engine::OnAlert& on_alert) {
  for (uint32_t rule_index : worker.matches) {
    if (FindMatchedFields(m, worker, rule_index)) m.alerting_fields = worker.fields;
    on_alert(m.rules.rules[rule_index], worker.event, record, path);
  }
  m.alerting_fields.reset();
}

Result<std::unique_ptr<Engine>> Engine::Prepare(const ScanOptions& options,
                                                Diagnostics& diagnostics, ScanSummary& summary) {
  auto load_start = Clock::now();
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->diagnostics = &diagnostics;

  auto mapping = event::LogsourceMapping::LoadDefault();
  if (!mapping) return tl::unexpected(mapping.error());
  impl->mapping.emplace(std::move(*mapping));
  impl->mapping->InternFields(impl->catalog);
  for (auto name : HOST_FIELDS) impl->host_fields.push_back(impl->catalog.Intern(name));
  if (options.intern_extra_fields) options.intern_extra_fields(impl->catalog);

  intel::IndexOptions index_options;
  index_options.match_subdomains = options.intel_subdomains;
  impl->indicators = std::make_unique<intel::LiveIndicators>(index_options);
  if (!options.intel_paths.empty() && options.detect) {
    // Fields the indicator matcher reads must be interned before the parser is built.
    impl->intel_matcher.emplace(impl->catalog);
    std::vector<intel::FeedSource> feeds = intel::ExpandFeedPaths(options.intel_paths);
    for (const auto& outcome : impl->indicators->Reload(feeds, diagnostics)) {
      if (!outcome.error.empty()) {
        diagnostics.Report(DiagnosticKind::kInputUnreadable, outcome.path, outcome.error);
        ++summary.intel_feeds_failed;
      } else if (!outcome.stats.complete) {
        ++summary.intel_feeds_failed;
      }
    }
    summary.indicators_loaded = impl->indicators->Current()->stats().active;
  }

  sigma::LoadOptions load_options;
  load_options.placeholders = options.placeholders;
  load_options.on_file = options.on_rule_file;
  impl->rules = sigma::RuleSet::Load(options.rule_paths, impl->catalog, load_options);
  sigma::RuleSet& rules = impl->rules;
  for (const auto& failure : rules.failures) {
    diagnostics.Report(DiagnosticKind::kRuleFailed,
                       failure.line ? fmt::format("{}:{}", failure.file, failure.line)
                                    : failure.file,
                       failure.reason);
  }
  for (const auto& warning : rules.warnings) {
    diagnostics.Report(DiagnosticKind::kWarning,
                       warning.line ? fmt::format("{}:{}", warning.file, warning.line)
                                    : warning.file,
                       warning.reason);
  }
  summary.rules_failed = rules.failures.size();
  size_t loaded = rules.rules.size();
  summary.rules_in_files = rules.rules.size() + rules.correlations.size();
  // The tuning files' ids join those of the options; levels are overridden before selection.
  ScanOptions selection = options;
  if (auto tuned = ApplyRuleTuning(rules, selection, diagnostics, summary); !tuned)
    return tl::unexpected(tuned.error());
  {
    // --min-level, --rule-id, --exclude-rule, the rule lists, --tag, --exclude-tag and
    // --status select rules and correlations alike. A selected correlation keeps what it
    // references (rules and correlations, transitively) so it can be evaluated; alerts are
    // written only for what was selected (Engine::Selected). Indices change, so the references
    // of the correlations are renumbered.
    auto info_selected = [&](const sigma::RuleInfo& info) {
      sigma::Rule probe;
      probe.info = info;
      return RuleSelected(probe, selection);
    };
    std::vector<bool> keep_correlation(rules.correlations.size(), false);
    std::vector<bool> keep_rule(rules.rules.size(), false);
    std::function<void(uint32_t)> keep = [&](uint32_t index) {
      if (keep_correlation[index]) return;
      keep_correlation[index] = true;
      for (const auto& ref : rules.correlations[index].rules) {
        if (ref.is_correlation)
          keep(ref.index);
        else
          keep_rule[ref.index] = true;
      }
    };
    std::vector<bool> selected_correlation(rules.correlations.size(), false);
    std::vector<bool> selected_rule(rules.rules.size(), false);
    for (uint32_t i = 0; i < rules.correlations.size(); ++i) {
      selected_correlation[i] = info_selected(rules.correlations[i].info);
      if (selected_correlation[i]) keep(i);
    }
    for (uint32_t i = 0; i < rules.rules.size(); ++i) {
      selected_rule[i] = RuleSelected(rules.rules[i], selection);
      if (selected_rule[i]) keep_rule[i] = true;
    }
    std::vector<uint32_t> rule_index(rules.rules.size(), 0);
    std::vector<uint32_t> correlation_index(rules.correlations.size(), 0);
    std::vector<sigma::Rule> kept_rules;
    std::vector<sigma::Correlation> kept_correlations;
    for (uint32_t i = 0; i < rules.rules.size(); ++i) {
      rule_index[i] = static_cast<uint32_t>(kept_rules.size());
      if (!keep_rule[i]) continue;
      kept_rules.push_back(std::move(rules.rules[i]));
      impl->rule_selected.push_back(selected_rule[i]);
    }
    for (uint32_t i = 0; i < rules.correlations.size(); ++i) {
      correlation_index[i] = static_cast<uint32_t>(kept_correlations.size());
      if (!keep_correlation[i]) continue;
      kept_correlations.push_back(std::move(rules.correlations[i]));
      impl->correlation_selected.push_back(selected_correlation[i]);
    }
    for (auto& correlation : kept_correlations) {
      for (auto& ref : correlation.rules)
        ref.index = ref.is_correlation ? correlation_index[ref.index] : rule_index[ref.index];
    }
    rules.rules = std::move(kept_rules);
    rules.correlations = std::move(kept_correlations);
  }
  summary.rules_loaded = rules.rules.size();
  summary.correlations_loaded = rules.correlations.size();
  // The fields correlations group and aggregate by, and the time field, are read from events:
  // they must be interned before the matcher and the parser are built.
  correlate::CorrelationEngine::InternFields(rules, impl->catalog);
  if (!options.conditions.empty()) {
    auto where = EventConditions::Compile(options.conditions, impl->catalog);
    if (!where) return tl::unexpected(where.error());
    impl->where = std::move(*where);
  }
  if (!options.time_field.empty()) impl->time_field = impl->catalog.Intern(options.time_field);
  if (rules.rules.empty() && options.detect) {
    if (loaded > 0) {
      return Fail(
          fmt::format("no rule to run: none of the {} loaded rules matches --min-level, "
                      "--rule-id, --exclude-rule, the rule lists, --tag, --exclude-tag and "
                      "--status",
                      loaded));
    }
    return Fail(rules.failures.empty() ? "no rule to run: no rule file found"
                                       : "no rule to run: every rule failed to load");
  }

  if (options.detect && !options.plain_evaluator) {
    sigma::MatcherOptions matcher_options;
    matcher_options.unrecognised = options.unrecognised;
    matcher_options.cache_dir = options.cache_dir;
    auto built = sigma::Matcher::Build(rules, impl->catalog, matcher_options);
    if (!built) return tl::unexpected(built.error());
    impl->matcher = std::move(*built);
    PrepareWorker(*impl, impl->main_worker);
    for (int t = 1; t < options.threads; ++t)
      impl->spare_scratches.push_back(impl->matcher->NewScratch());
  }
  impl->main_worker.parser = std::make_unique<event::EventParser>(impl->catalog, *impl->mapping,
                                                      options.declared_logsource);
  summary.load_seconds = SecondsSince(load_start);
  return std::unique_ptr<Engine>(new Engine(std::move(impl)));
}

namespace {

// A run of records that workers process while the reader goes on. JSON and line records stay
// where the reader put them: the batch keeps the reader's buffers alive instead (copying every
// record was most of what a second thread added to the work). Others (EVTX records, whose
// storage the EVTX reader reuses, and web-log records with a schema) are copied into `bytes`,
// each followed by RECORD_PADDING zero bytes.
struct Batch {
  struct Entry {
    const char* shared = nullptr;  // the record's bytes in a kept buffer, or null: in `bytes`
    size_t offset = 0;
    size_t size = 0;
    size_t schema_offset = 0;
    size_t schema_size = 0;
    size_t outline_offset = 0;
    size_t outline_size = 0;
    event::Record meta;  // data/schema/outline filled in by View()
  };
  struct Hit {
    uint32_t entry;
    uint32_t rule;  // or INDICATORS: the entry matched indicators of `intel_index`
    // The rule's matched fields, found by the worker's matcher: matched_fields[begin, end).
    uint32_t fields_begin = 0, fields_end = 0;
  };
  static constexpr uint32_t INDICATORS = UINT32_MAX;
  struct Failure {
    uint32_t entry;
    std::string message;
  };

  // A segment of a large JSON file (event::JsonSegmentReader) that the worker reads itself;
  // then `entries` holds only the records with hits (copied), and `notes` what could not be
  // framed or parsed, in order, with lines relative to the segment.
  struct Segment {
    uint32_t file = 0;  // index into the inputs
    uint64_t size = 0;  // of the file
    uint64_t index = 0;
    std::atomic<uint64_t>* covered = nullptr;  // of the file: what reads ran on into
  };
  struct Note {
    uint64_t line;
    std::string message;
  };
  std::optional<Segment> segment;
  bool skipped = false;  // not read: the first segment's read ran on into it
  event::JsonSegment outcome;
  std::optional<std::string> read_error;  // the read stopped here; the rest of the file is lost
  std::vector<Note> notes;

  // Whole EVTX files (event::PlainEvtxFileSize; indexes into the inputs, consecutive) that the
  // worker reads, renders, parses and matches itself; then `entries` holds only the records
  // with hits (copied), and `reported` what reading and parsing them reported, in order. Small
  // files go several to a batch: a batch per file of a few dozen records cost more in waking
  // threads than in matching.
  std::vector<uint32_t> whole_files;
  uint64_t whole_file_bytes = 0;
  static constexpr uint64_t WHOLE_FILE_BATCH_BYTES = 1 << 20;
  // Or a range of chunks of a large EVTX file that the reader thread has checked
  // (event::EvtxReader::MakePlan): the same, for those chunks' records.
  struct EvtxRange {
    uint32_t file = 0;
    std::shared_ptr<const event::EvtxReader::Plan> plan;
    size_t first = 0, last = 0;  // chunks
  };
  std::optional<EvtxRange> evtx_range;
  static constexpr size_t CHUNKS_PER_RANGE = 16;  // 1 MiB
  std::vector<Diagnostic> reported;
  uint64_t records_read = 0;
  uint64_t parse_failures = 0;  // of the records read (each also in `reported`)
  event::ReadStats read_stats;

  uint64_t sequence = 0;
  LargeBytes bytes;
  size_t record_bytes = 0;  // of every record, kept or copied
  std::vector<std::shared_ptr<char[]>> kept;  // the reader's buffers the records lie in
  std::vector<Entry> entries;
  std::vector<Hit> hits;
  // Names of the rules' fields (views of the rule set's strings), for Hit::fields_begin.
  std::vector<std::string_view> matched_fields;
  std::vector<Failure> failures;
  uint64_t unrecognised = 0;
  uint64_t events_outside_time_range = 0;  // CountScope
  uint64_t events_without_time = 0;
  uint64_t events_not_where = 0;
  std::shared_ptr<const intel::IndicatorIndex> intel_index;  // the set the batch was matched with

  static constexpr size_t MAX_RECORDS = 1024;
  static constexpr size_t MAX_BYTES = 1 << 20;

  void Clear() {
    segment.reset();
    skipped = false;
    outcome = {};
    read_error.reset();
    notes.clear();
    whole_files.clear();
    whole_file_bytes = 0;
    evtx_range.reset();
    reported.clear();
    records_read = 0;
    parse_failures = 0;
    read_stats = {};
    bytes.Clear();
    record_bytes = 0;
    kept.clear();
    entries.clear();
    hits.clear();
    matched_fields.clear();
    failures.clear();
    unrecognised = 0;
    events_outside_time_range = 0;
    events_without_time = 0;
    events_not_where = 0;
    intel_index.reset();
  }
  [[nodiscard]] bool Full() const {
    return entries.size() >= MAX_RECORDS || record_bytes >= MAX_BYTES;
  }
  // `buffer`: the reader's shared buffer that the record's data lies in, or empty.
  void Add(const event::Record& record, const std::shared_ptr<char[]>& buffer) {
    Entry entry;
    entry.meta = record;
    entry.size = record.data.size();
    record_bytes += record.data.size();
    if (buffer && record.schema.empty() && record.outline.empty()) {
      if (kept.empty() || kept.back() != buffer) kept.push_back(buffer);
      entry.shared = record.data.data();
      entries.push_back(entry);
      return;
    }
    entry.offset = bytes.size();
    bytes.Append(record.data);
    bytes.AppendZeros(event::RECORD_PADDING);
    if (!record.schema.empty()) {
      entry.schema_offset = bytes.size();
      entry.schema_size = record.schema.size();
      bytes.Append(record.schema);
      bytes.AppendZeros(event::RECORD_PADDING);
    }
    if (!record.outline.empty()) {
      entry.outline_offset = bytes.size();
      entry.outline_size = record.outline.size();
      bytes.Append(record.outline);
    }
    entries.push_back(entry);
  }
  [[nodiscard]] event::Record View(size_t index) const {
    const Entry& entry = entries[index];
    event::Record record = entry.meta;
    if (entry.shared != nullptr) {
      record.data = std::string_view(entry.shared, entry.size);
      return record;
    }
    record.data = std::string_view(bytes.data() + entry.offset, entry.size);
    record.schema = entry.schema_size
                        ? std::string_view(bytes.data() + entry.schema_offset, entry.schema_size)
                        : std::string_view();
    record.outline = entry.outline_size
                         ? std::string_view(bytes.data() + entry.outline_offset, entry.outline_size)
                         : std::string_view();
    return record;
  }
};

// A bounded multi-producer multi-consumer queue; Close() wakes every waiter.
template <typename T>
class BoundedQueue {
 public:
  explicit BoundedQueue(size_t capacity) : capacity_(capacity) {}
  void Push(T item) {
    std::unique_lock lock(mutex_);
    not_full_.wait(lock, [&] { return items_.size() < capacity_ || closed_; });
    items_.push_back(std::move(item));
    if (items_.size() >= wanted_) not_empty_.notify_one();
  }
  // Adds an item unless the queue is full (then the item is dropped and false returned).
  bool TryPush(T item) {
    std::lock_guard lock(mutex_);
    if (items_.size() >= capacity_ || closed_) return false;
    items_.push_back(std::move(item));
    if (items_.size() >= wanted_) not_empty_.notify_one();
    return true;
  }
  std::optional<T> Pop() { return PopWhenAtLeast(1); }
  // Pop(), but waits (when it has to) until `count` items are there: a consumer that can take
  // several in a row wakes once for them, not once each. One consumer at a time may ask for
  // more than one.
  std::optional<T> PopWhenAtLeast(size_t count) {
    std::unique_lock lock(mutex_);
    if (items_.empty()) {
      wanted_ = count;
      not_empty_.wait(lock, [&] { return items_.size() >= wanted_ || closed_; });
      wanted_ = 1;
    }
    if (items_.empty()) return std::nullopt;
    T item = std::move(items_.front());
    items_.pop_front();
    not_full_.notify_one();
    return item;
  }
  // Takes an item if one is ready, without waiting.
  std::optional<T> TryPop() {
    std::lock_guard lock(mutex_);
    if (items_.empty()) return std::nullopt;
    T item = std::move(items_.front());
    items_.pop_front();
    not_full_.notify_one();
    return item;
  }
  void Close() {
    std::lock_guard lock(mutex_);
    closed_ = true;
    not_empty_.notify_all();
    not_full_.notify_all();
  }

 private:
  size_t capacity_;
  size_t wanted_ = 1;  // items a waiting consumer waits for
  std::mutex mutex_;
  std::condition_variable not_empty_, not_full_;
  std::deque<T> items_;
  bool closed_ = false;
};

}  // namespace

void PrepareWorker(const Engine::Impl& m, Worker& worker) {
  if (m.matcher) worker.scratch = m.matcher->NewScratch();
}

namespace {

// JSON records with the compiled matcher: parsed first with only the fields rules name; again
// with every value only when keyword searches routed to the event's class might hold
// (Matcher::NeedsAllValues). Collecting, folding and scanning every value was about a fifth of
// the detection time, for one Windows keyword rule that almost never holds.
Result<void> ParseForMatching(const Engine::Impl& m, Worker& worker, const event::Record& record) {
  const bool collect = worker.keywords_last_needed;
  worker.parser->SetCollectAllValues(collect);
  auto parsed = worker.parser->Parse(record, worker.event);
  if (!parsed) return parsed;
  if (collect && ++worker.keyword_checks_skipped < KEYWORD_RECHECK) return parsed;
  worker.keyword_checks_skipped = 0;
  const bool needed = m.matcher->NeedsAllValues(worker.event, record.data, *worker.scratch);
  worker.keywords_last_needed = needed;
  if (!needed || collect) return parsed;
  worker.parser->SetCollectAllValues(true);
  return worker.parser->Parse(record, worker.event);
}

}  // namespace

// Parses and matches one record; false when the record could not be parsed (`error` says why).
bool Detect(const Engine::Impl& m, Worker& worker, const event::Record& record,
            std::string& error) {
  Result<void> parsed;
  if (!m.options.detect) {
    // --no-detect extracts the fields rules name, not every value for keyword searches.
    worker.parser->SetCollectAllValues(false);
    parsed = worker.parser->Parse(record, worker.event);
  } else if (m.matcher && record.format == event::RecordFormat::kJson) {
    parsed = ParseForMatching(m, worker, record);
  } else {
    worker.parser->SetCollectAllValues(true);
    parsed = worker.parser->Parse(record, worker.event);
    // Other formats are parsed with every value (cheaply: EVTX fields come from the renderer's
    // outline); the matcher then folds and scans them all only if a keyword might be there.
    if (parsed && m.matcher && !m.matcher->KeywordsMayMatchValues(worker.event, *worker.scratch))
      worker.event.ClearAllValues();
  }
  if (!parsed) {
    error = parsed.error().message;
    return false;
  }
  worker.matches.clear();
  worker.intel_scratch.Clear();
  worker.scope = Worker::Scope::kInside;
  if (m.options.from_ms || m.options.to_ms) {
    // A year-less syslog time is placed in the year nearest the range.
    const auto time = correlate::EventTimeMs(
        worker.event, m.time_field, m.options.from_ms.value_or(m.options.to_ms.value_or(0)));
    if (!time) {
      worker.scope = Worker::Scope::kUntimed;
      return true;
    }
    if ((m.options.from_ms && *time < *m.options.from_ms) ||
        (m.options.to_ms && *time > *m.options.to_ms)) {
      worker.scope = Worker::Scope::kOutsideTimeRange;
      return true;
    }
  }
  if (m.where && !m.where->Hold(worker.event)) {
    worker.scope = Worker::Scope::kNotWhere;
    return true;
  }
  if (!m.options.detect) return true;
  if (m.matcher) {
    m.matcher->Match(worker.event, *worker.scratch, worker.matches);
  } else {
    sigma::EvaluateAll(m.rules, worker.event, m.options.unrecognised, worker.matches);
  }
  if (m.intel_matcher && worker.intel_index)
    m.intel_matcher->Match(*worker.intel_index, worker.event, worker.intel_scratch);
  return true;
}

namespace {

// The hits of the event `worker` has just matched, on entry `entry` of the batch, with each
// rule's matched fields: the worker's matcher still knows what fired on the event, where the
// handing-on thread would test the rule's predicates again (Engine::AppendMatchedFields).
void AddHits(const Engine::Impl& m, Worker& worker, uint32_t entry, Batch& b) {
  for (uint32_t rule_index : worker.matches) {
    Batch::Hit hit{entry, rule_index};
    if (FindMatchedFields(m, worker, rule_index)) {
      hit.fields_begin = static_cast<uint32_t>(b.matched_fields.size());
      b.matched_fields.insert(b.matched_fields.end(), worker.fields.begin(), worker.fields.end());
      hit.fields_end = static_cast<uint32_t>(b.matched_fields.size());
    }
    b.hits.push_back(hit);
  }
  if (!worker.intel_scratch.matches().empty()) b.hits.push_back({entry, Batch::INDICATORS});
}

// Keeps a copy of `record` in the batch, with the worker's hits on it, when it has any: a worker
// that reads a file itself reuses its storage for the next record.
void KeepHits(const Engine::Impl& m, Worker& worker, const event::Record& record, Batch& b) {
  if (worker.matches.empty() && worker.intel_scratch.matches().empty()) return;
  b.Add(record, {});
  AddHits(m, worker, static_cast<uint32_t>(b.entries.size() - 1), b);
}

// Reads, parses and matches the batch's segment (Batch::Segment) with `worker`, unless the read
// of the file's first segment ran on into it (a pretty-printed file: then that one read covers
// it, and the batch is marked skipped). Only the first segment's read says how far it ran:
// it alone is known to start where the file's framing does, so it alone covers exactly what it
// says. A later segment's read may have started inside a value that an earlier read covers;
// its results are dropped, and what it ran on into is still needed.
void MatchSegment(const Engine::Impl& m, Worker& worker, event::JsonSegmentReader& reader,
                  const std::vector<event::InputFile>& inputs, Batch& b) {
  const Batch::Segment& segment = *b.segment;
  if (segment.index < segment.covered->load(std::memory_order_relaxed)) {
    b.skipped = true;
    return;
  }
  const std::string& path = inputs[segment.file].path;
  if (reader.path() != path) {
    if (auto opened = reader.Open(path, segment.size); !opened) {
      b.read_error = opened.error().message;
      return;
    }
  }
  std::string error;
  auto on_record = [&](const event::Record& framed) {
    event::Record record = framed;
    record.source_index = segment.file;
    if (!Detect(m, worker, record, error)) {
      if (record.whole_line) {  // not one JSON value by itself: framed again by the reader
        reader.RejectLineRecord();
        return;
      }
      ++b.outcome.values;
      b.notes.push_back({record.line, error});
      return;
    }
    ++b.outcome.values;
    if (!worker.event.logsource.recognised) ++b.unrecognised;
    CountScope(worker, b);
    KeepHits(m, worker, record, b);
  };
  auto on_error = [&](uint64_t line, std::string_view message) {
    b.notes.push_back({line, std::string(message)});
  };
  auto outcome =
      reader.Read(segment.index, on_record, on_error, segment.index == 0 ? segment.covered : nullptr);
  if (!outcome) {
    b.read_error = outcome.error().message;
    return;
  }
  b.outcome = *outcome;
}

// Parses and matches a record of a file the worker reads itself (Batch::whole_files,
// Batch::evtx_range); one that cannot be parsed is reported in the batch's list.
void MatchOwnRecord(const Engine::Impl& m, Worker& worker, const std::string& path,
                    const event::Record& record, std::string& error, Batch& b) {
  ++b.records_read;
  if (!Detect(m, worker, record, error)) {
    ++b.parse_failures;
    b.reported.push_back({DiagnosticKind::kRecordSkipped, RecordLocation(path, record), error});
    return;
  }
  if (!worker.event.logsource.recognised) ++b.unrecognised;
  CountScope(worker, b);
  KeepHits(m, worker, record, b);
}

// Reads, renders, parses and matches one of the batch's whole EVTX files (Batch::whole_files)
// with `worker` and its own `reader`, whose diagnostics go to `collecting` (set to the batch's
// list while the file is read).
void MatchWholeFile(const Engine::Impl& m, Worker& worker, event::RecordReader& reader,
                    std::vector<Diagnostic>*& collecting,
                    const std::vector<event::InputFile>& inputs, uint32_t index, Batch& b) {
  const std::string& path = inputs[index].path;
  const event::ReadStats before = reader.stats();
  collecting = &b.reported;
  std::string error;
  reader.ReadFile(inputs[index], index, [&](const event::Record& record) {
    MatchOwnRecord(m, worker, path, record, error, b);
  });
  collecting = nullptr;
  b.read_stats += reader.stats() - before;
}

// Reads, renders, parses and matches the batch's range of chunks of a large EVTX file
// (Batch::evtx_range) with `worker` and its own `reader`, which reports to `diagnostics` (the
// worker's, collecting into the batch's list).
void MatchEvtxRange(const Engine::Impl& m, Worker& worker, event::EvtxReader& reader,
                    Diagnostics& diagnostics, std::vector<Diagnostic>*& collecting,
                    const std::vector<event::InputFile>& inputs, Batch& b) {
  const Batch::EvtxRange& range = *b.evtx_range;
  const std::string& path = inputs[range.file].path;
  collecting = &b.reported;
  std::string error;
  reader.ReadChunks(
      path, path, range.file, event::MAX_RECORD_SIZE, *range.plan, range.first, range.last,
      [&](const event::Record& record) { MatchOwnRecord(m, worker, path, record, error, b); },
      diagnostics, b.read_stats);
  collecting = nullptr;
  if (range.first == 0) ++b.read_stats.files_read;
}

}  // namespace

void Engine::Scan(const std::vector<std::string>& paths, const OnAlert& on_alert,
                  ScanSummary& summary) {
  Scan(paths, on_alert, {}, summary);
}

void Engine::Scan(const std::vector<std::string>& paths, const OnAlert& on_alert,
                  const OnIndicatorAlert& on_indicator, ScanSummary& summary) {
  Impl& m = *impl_;
  // Indicator alerts of the event a worker has just matched.
  auto report_indicators = [&](Worker& w, const event::Record& record, const std::string& path) {
    if (!on_indicator || !w.intel_index) return;
    for (const auto& match : w.intel_scratch.matches())
      on_indicator(*w.intel_index, match, w.intel_scratch.hits(), w.event, record, path);
  };
  Diagnostics& diagnostics = *m.diagnostics;
  auto scan_start = Clock::now();
  uint64_t unreadable_before = diagnostics.Count(DiagnosticKind::kInputUnreadable);
  std::vector<event::InputFile> inputs = event::ExpandInputs(paths, diagnostics);
  uint64_t paths_missing = diagnostics.Count(DiagnosticKind::kInputUnreadable) - unreadable_before;
  Progress progress(m.options.progress, InputSize(inputs));
  event::RecordReader reader(m.options.format, diagnostics);
  // Several threads: batches keep the reader's buffers instead of copying records out of them.
  reader.set_share_buffers(m.options.threads > 1);
  // One thread parses each record while the reader waits: JSON lines need no framing but
  // their parse (event::JsonFramer's line records).
  reader.set_json_line_records(m.options.threads <= 1);
  // Records are parsed and written out through their EVTX outlines, never as XML text.
  reader.set_evtx_outline_only(true);
  uint64_t records = 0;
  uint64_t parse_failures = 0;
  event::ReadStats read_by_workers;  // of whole EVTX files and EVTX ranges, with several threads

  // Reads every input in order, calling `on_record` for each record. `claim`, when given, may
  // take a file over instead, given its index and the bytes of the files before it, and returns
  // the file's size when it does.
  using Claim = std::function<std::optional<uint64_t>(uint32_t index, uint64_t bytes_before)>;
  auto read_all = [&](const std::function<void(const event::Record&)>& on_record,
                      const Claim& claim = {}) {
    uint64_t bytes_before_file = 0;
    for (uint32_t index = 0; index < inputs.size(); ++index) {
      if (claim) {
        if (auto size = claim(index, bytes_before_file)) {
          bytes_before_file += *size;
          continue;
        }
      }
      auto on_progress = [&](uint64_t bytes_done) {
        progress.Update(bytes_before_file + bytes_done, records);
      };
      reader.ReadFile(inputs[index], index, on_record, on_progress);
      bytes_before_file += inputs[index].size;
    }
  };

  if (m.options.threads <= 1) {
    // One thread: parse and match straight from the reader's buffers, no copies.
    std::string error;
    read_all([&](const event::Record& record) {
      if (m.intel_matcher && records % INTEL_REFRESH == 0)
        m.main_worker.intel_index = m.indicators->Current();
      const std::string& path = inputs[record.source_index].path;
      if (!Detect(m, m.main_worker, record, error)) {
        if (record.whole_line) {  // not one JSON value by itself: framed again by the reader
          reader.RejectLineRecord();
          return;
        }
        ++records;
        ++parse_failures;
        diagnostics.Report(DiagnosticKind::kRecordSkipped, RecordLocation(path, record), error);
        return;
      }
      ++records;
      Worker& w = m.main_worker;
      if (!w.event.logsource.recognised) ++summary.events_unrecognised;
      CountScope(w, summary);
      ReportRuleAlerts(m, w, record, path, on_alert);
      report_indicators(w, record, path);
    });
  } else {
    // Several threads: the reader thread puts records into batches, workers parse and match
    // them, and this thread hands the alerts on in input order, so the output does not depend
    // on the number of threads. Large JSON files are not read by the reader thread: it queues
    // their segments, and each worker reads, frames, parses and matches a segment itself. EVTX
    // files go to the workers whole, several small ones to a batch, rendering included. Alerts
    // are rare, so their events are parsed again here rather than kept from the worker.
    //
    // Each batch used to wake the other two threads: the reader, to queue the next one as soon
    // as a worker took one and again for the batch this thread freed, and this thread, to hand
    // it on. That was three context switches a batch (about 400 in a two-thread scan of the
    // standard corpus), on two cores the workers were using. Now the reader never waits for
    // room in the queue (at most batch_limit batches exist), and when it waits for free
    // batches it waits for REFILL of them; this thread waits until HAND_ON_GROUP batches in a
    // row are matched (or HAND_ON_WAIT has passed: a slow stream's alerts are not held up).
    // Neither can wait for the other for ever: when the reader waits, fewer than REFILL
    // batches are free, so more than batch_limit - REFILL are sent and not handed on; the
    // workers match them, and batch_limit - REFILL + 1 >= HAND_ON_GROUP.
    size_t thread_count = static_cast<size_t>(m.options.threads);
    const size_t batch_limit = thread_count * 4;
    const size_t REFILL = batch_limit / 2;
    const uint64_t HAND_ON_GROUP = batch_limit / 2;
    constexpr auto HAND_ON_WAIT = std::chrono::milliseconds(50);
    BoundedQueue<std::unique_ptr<Batch>> work(batch_limit);
    std::mutex done_mutex;
    std::condition_variable done_changed;
    std::map<uint64_t, std::unique_ptr<Batch>> done;
    size_t batches_made = 0;  // by the reader thread
    BoundedQueue<std::unique_ptr<Batch>> free_batches(batch_limit);
    uint64_t batches_sent = 0;
    bool reading_finished = false;
    uint64_t next = 0;  // the batch to hand on next
    // Under done_mutex: whether the batches from `next` on can be handed on, `group` of them
    // in a row (fewer at the end of the input).
    auto can_hand_on = [&](uint64_t group) {
      if (reading_finished && next == batches_sent) return true;
      for (uint64_t k = next; k < next + group; ++k)
        if (done.count(k) == 0) return reading_finished && k == batches_sent && k > next;
      return true;
    };

    // The first worker takes the matcher scratch prepared while loading, which this thread
    // does not use while workers match, and the others the spare ones: a fresh one is memory
    // touched for the first time, slow on virtual machines (see core/large_buffer.hpp).
    sigma::Matcher::ScratchPtr loaded_scratch = std::move(m.main_worker.scratch);
    std::vector<std::thread> threads;
    for (size_t t = 0; t < thread_count; ++t) {
      threads.emplace_back([&, t] {
        Worker worker;
        worker.parser = std::make_unique<event::EventParser>(m.catalog, *m.mapping,
                                                             m.options.declared_logsource);
        if (t == 0 && loaded_scratch) {
          worker.scratch = std::move(loaded_scratch);
        } else if (t > 0 && t <= m.spare_scratches.size() && m.spare_scratches[t - 1]) {
          worker.scratch = std::move(m.spare_scratches[t - 1]);
        } else {
          PrepareWorker(m, worker);
        }
        std::string error;
        event::JsonSegmentReader segment_reader;
        segment_reader.set_line_records(true);  // MatchSegment parses during the call
        std::vector<Diagnostic>* collecting = nullptr;
        Diagnostics file_diagnostics([&collecting](const Diagnostic& d) {
          if (collecting != nullptr) collecting->push_back(d);
        });
        event::RecordReader file_reader(m.options.format, file_diagnostics);
        file_reader.set_evtx_outline_only(true);
        event::EvtxReader range_reader;
        range_reader.set_outline_only(true);
        while (auto batch = work.Pop()) {
          Batch& b = **batch;
          if (m.intel_matcher) worker.intel_index = b.intel_index = m.indicators->Current();
          if (b.segment) MatchSegment(m, worker, segment_reader, inputs, b);
          for (uint32_t file : b.whole_files)
            MatchWholeFile(m, worker, file_reader, collecting, inputs, file, b);
          if (b.evtx_range)
            MatchEvtxRange(m, worker, range_reader, file_diagnostics, collecting, inputs, b);
          const bool read_by_worker = b.segment || !b.whole_files.empty() || b.evtx_range;
          for (uint32_t i = 0; !read_by_worker && i < b.entries.size(); ++i) {
            event::Record record = b.View(i);
            if (!Detect(m, worker, record, error)) {
              b.failures.push_back({i, error});
              continue;
            }
            if (!worker.event.logsource.recognised) ++b.unrecognised;
            CountScope(worker, b);
            AddHits(m, worker, i, b);
          }
          std::lock_guard lock(done_mutex);
          done.emplace(b.sequence, std::move(*batch));
          if (can_hand_on(HAND_ON_GROUP)) done_changed.notify_one();
        }
        if (t == 0) {
          loaded_scratch = std::move(worker.scratch);
        } else if (t <= m.spare_scratches.size()) {
          m.spare_scratches[t - 1] = std::move(worker.scratch);  // for the next Scan()
        }
      });
    }
    // Whether a read of a segmented file ran on into later segments, per file; the atomics stay
    // where they are while workers hold pointers to them.
    std::deque<std::atomic<uint64_t>> segments_covered;
    uint64_t files_segmented = 0;
    std::thread reader_thread([&] {
      std::unique_ptr<Batch> batch;
      // At most as many batches as the free list holds: a new batch's storage is memory touched
      // for the first time (slow on virtual machines, core/large_buffer.hpp), and batches that
      // are never dropped are made once. When all of them are in flight, this thread waits for
      // one to come back: the hand-on thread returns each after the batches before it, which
      // are all queued, being matched or matched.
      auto take = [&] {
        if (batch) return;
        auto recycled = free_batches.TryPop();
        if (!recycled && batches_made >= batch_limit)
          recycled = free_batches.PopWhenAtLeast(REFILL);
        if (recycled) {
          batch = std::move(*recycled);
        } else {
          batch = std::make_unique<Batch>();
          ++batches_made;
        }
      };
      auto send = [&] {
        batch->sequence = batches_sent++;
        work.Push(std::move(batch));
      };
      auto on_record = [&](const event::Record& record) {
        ++records;
        if (batch && !batch->whole_files.empty()) send();
        take();
        batch->Add(record, reader.shared_buffer());
        if (batch->Full()) send();
      };
      // A large JSON file: the workers read it, a segment each (event/json_segments.hpp). An
      // EVTX file: a worker reads it whole, rendering included (most of the work of reading
      // EVTX, which the reader thread did alone before); a larger one that reads natively, a
      // range of chunks each, once this thread has checked it (one that does not, through
      // libevtx, is read here as before).
      event::EvtxReader planner;
      auto claim = [&](uint32_t index, uint64_t bytes_before) -> std::optional<uint64_t> {
        auto read_whole = [&](uint64_t size) {
          if (batch && !batch->entries.empty()) send();
          take();
          batch->whole_files.push_back(index);
          batch->whole_file_bytes += size;
          if (batch->whole_file_bytes >= Batch::WHOLE_FILE_BATCH_BYTES) send();
          progress.Update(bytes_before + inputs[index].size, records);
        };
        // An EVTX file inside a ZIP archive (a KAPE or Velociraptor collection): read whole by
        // a worker, as a plain one is.
        if (auto size = event::ArchiveEvtxMemberSize(inputs[index], m.options.format);
            size && *size <= m.options.whole_evtx_limit) {
          read_whole(*size);
          return inputs[index].size;
        }
        if (auto size = event::PlainEvtxFileSize(inputs[index], m.options.format, UINT64_MAX)) {
          if (*size <= m.options.whole_evtx_limit) {
            read_whole(*size);
            return size;
          }
          auto plan = std::make_shared<event::EvtxReader::Plan>();
          if (!planner.MakePlan(inputs[index].path, *plan)) return std::nullopt;
          if (batch && (!batch->entries.empty() || !batch->whole_files.empty())) send();
          const size_t chunks = plan->chunks.size();
          for (size_t first = 0; first == 0 || first < chunks; first += Batch::CHUNKS_PER_RANGE) {
            take();
            batch->evtx_range = Batch::EvtxRange{
                index, plan, first, std::min(chunks, first + Batch::CHUNKS_PER_RANGE)};
            send();
            const size_t done = std::min(chunks, first + Batch::CHUNKS_PER_RANGE);
            if (chunks > 0) progress.Update(bytes_before + *size * done / chunks, records);
          }
          return size;
        }
        auto size = event::JsonSegmentReader::SplittableSize(inputs[index], m.options.format);
        if (!size) return std::nullopt;
        if (batch && (!batch->entries.empty() || !batch->whole_files.empty())) send();
        ++files_segmented;
        std::atomic<uint64_t>& covered = segments_covered.emplace_back(0);
        const uint64_t count = event::JsonSegmentReader::SegmentCount(
            *size, event::JsonSegmentReader::DEFAULT_SEGMENT_SIZE);
        for (uint64_t k = 0; k < count; ++k) {
          take();
          batch->segment = Batch::Segment{index, *size, k, &covered};
          send();
          progress.Update(bytes_before + (k + 1) * *size / count, records);
        }
        return size;
      };
      read_all(on_record, claim);
      if (batch && (!batch->entries.empty() || !batch->whole_files.empty())) send();
      work.Close();
      std::lock_guard lock(done_mutex);
      reading_finished = true;
      done_changed.notify_one();
    });

    // The segmented file whose batches are being handed on: the segment it needs next, and the
    // JSON values and newlines before it (the segments' numbers and lines are their own).
    struct SegmentedFile {
      uint32_t file = UINT32_MAX;
      uint64_t needed = 0;
      uint64_t values = 0;
      uint64_t lines = 0;
      bool stopped = false;  // a read error: the rest of the file is skipped
    } segmented;
    uint64_t segment_records = 0;
    uint64_t segment_bytes = 0;
    uint64_t records_read_by_workers = 0;

    for (;;) {
      std::unique_ptr<Batch> batch;
      {
        std::unique_lock lock(done_mutex);
        // At the start, and whenever the run of matched batches ends, wait for a group.
        if (next == 0 || done.count(next) == 0) {
          while (!done_changed.wait_for(lock, HAND_ON_WAIT,
                                        [&] { return can_hand_on(HAND_ON_GROUP); })) {
            if (can_hand_on(1)) break;
          }
        }
        if (!done.count(next)) break;
        batch = std::move(done[next]);
        done.erase(next);
        ++next;  // under the lock: workers read it (can_hand_on)
      }
      uint64_t value_base = 0;
      uint64_t line_base = 0;
      if (batch->segment) {
        const Batch::Segment& segment = *batch->segment;
        if (segmented.file != segment.file) segmented = SegmentedFile{segment.file};
        if (segmented.stopped || segment.index < segmented.needed || batch->skipped) {
          // Covered by the read of a segment before it, which ran on into it (a skipped
          // segment always is: see MatchSegment).
          batch->Clear();
          (void)free_batches.TryPush(std::move(batch));
          continue;
        }
        value_base = segmented.values;
        line_base = segmented.lines;
        const std::string& path = inputs[segment.file].path;
        for (const Batch::Note& note : batch->notes) {
          ++parse_failures;
          diagnostics.Report(DiagnosticKind::kRecordSkipped,
                             fmt::format("{}:{}", path, line_base + note.line), note.message);
        }
        segment_records += batch->outcome.values;
        segment_bytes += batch->outcome.bytes;
        segmented.values += batch->outcome.values;
        segmented.lines += batch->outcome.newlines;
        segmented.needed = batch->outcome.end;
        if (batch->read_error) {
          diagnostics.Report(DiagnosticKind::kInputUnreadable, path,
                             *batch->read_error + " (the rest of the file is skipped)");
          segmented.stopped = true;
        }
      }
      if (!batch->whole_files.empty() || batch->evtx_range) {
        for (const Diagnostic& d : batch->reported) diagnostics.Report(d.kind, d.where, d.message);
        parse_failures += batch->parse_failures;
        records_read_by_workers += batch->records_read;
        read_by_workers += batch->read_stats;
      }
      summary.events_unrecognised += batch->unrecognised;
      summary.events_outside_time_range += batch->events_outside_time_range;
      summary.events_without_time += batch->events_without_time;
      summary.events_not_where += batch->events_not_where;
      size_t failure = 0;
      size_t hit = 0;
      for (uint32_t i = 0; i < batch->entries.size(); ++i) {
        event::Record record = batch->View(i);
        record.number += value_base;
        record.line += line_base;
        const std::string& path = inputs[record.source_index].path;
        if (failure < batch->failures.size() && batch->failures[failure].entry == i) {
          ++parse_failures;
          diagnostics.Report(DiagnosticKind::kRecordSkipped, RecordLocation(path, record),
                             batch->failures[failure].message);
          ++failure;
          continue;
        }
        if (hit == batch->hits.size() || batch->hits[hit].entry != i) continue;
        if (!m.main_worker.parser->Parse(record, m.main_worker.event)) {
          while (hit < batch->hits.size() && batch->hits[hit].entry == i) ++hit;
          continue;
        }
        for (; hit < batch->hits.size() && batch->hits[hit].entry == i; ++hit) {
          if (batch->hits[hit].rule == Batch::INDICATORS) {
            // Matched again with the same indicator set the worker used.
            Worker& w = m.main_worker;
            w.intel_index = batch->intel_index;
            w.intel_scratch.Clear();
            m.intel_matcher->Match(*w.intel_index, w.event, w.intel_scratch);
            report_indicators(w, record, path);
            continue;
          }
          const Batch::Hit& found = batch->hits[hit];
          if (m.matcher) {  // the worker found them (AddHits)
            m.alerting_fields = std::span<const std::string_view>(
                batch->matched_fields.data() + found.fields_begin,
                found.fields_end - found.fields_begin);
          }
          on_alert(m.rules.rules[found.rule], m.main_worker.event, record, path);
          m.alerting_fields.reset();
        }
      }
      batch->Clear();
      (void)free_batches.TryPush(std::move(batch));  // never full: at most batch_limit exist
    }
    reader_thread.join();
    for (auto& thread : threads) thread.join();
    m.main_worker.scratch = std::move(loaded_scratch);
    records += segment_records + records_read_by_workers;
    summary.files_read += files_segmented;
    summary.bytes_read += segment_bytes;
  }
  progress.Finish();

  event::ReadStats stats = reader.stats();
  stats += read_by_workers;
  summary.files_read += stats.files_read;
  summary.files_failed += stats.files_failed + paths_missing;
  summary.records_read += records;
  summary.records_skipped += stats.records_skipped + parse_failures;
  summary.bytes_read += stats.bytes;
  summary.evtx_native_records += stats.evtx_native_records;
  summary.evtx_libevtx_records += stats.evtx_libevtx_records;
  summary.scan_seconds += SecondsSince(scan_start);
}

namespace {

}  // namespace

Result<ScanSummary> RunScan(const ScanOptions& options, Diagnostics& diagnostics) {
  ScanSummary summary;
  // --pivot-keywords: the fields it reads are interned with the rules', before the parser.
  std::optional<PivotKeywords> pivot;
  // --skip-duplicate-records: the fields a Windows record is known by are interned too.
  std::optional<DuplicateRecords> duplicates;
  // --geo-ip: the databases are opened first (a wrong path is said before rules load), and the
  // fields that hold addresses are interned with the rules'.
  std::optional<intel::GeoIpDatabases> geo;
  std::vector<std::pair<event::FieldId, std::string_view>> address_fields;
  if (!options.geo_ip_paths.empty()) {
    auto opened = intel::GeoIpDatabases::Open(options.geo_ip_paths);
    if (!opened) return tl::unexpected(opened.error());
    geo.emplace(std::move(*opened));
    summary.geo_ip = true;
  }
  ScanOptions prepared = options;
  if (!options.pivot_keywords_path.empty() || options.skip_duplicate_records || geo) {
    prepared.intern_extra_fields = [&pivot, &duplicates, &options, &geo, &address_fields,
                                    extra = options.intern_extra_fields](event::FieldCatalog& c) {
      if (extra) extra(c);
      if (!options.pivot_keywords_path.empty()) pivot.emplace(c);
      if (options.skip_duplicate_records) duplicates.emplace(c);
      if (geo) {
        for (std::string_view name : AddressFields())
          address_fields.emplace_back(c.Intern(name), name);
      }
    };
  }
  auto engine = Engine::Prepare(prepared, diagnostics, summary);
  if (!engine) return tl::unexpected(engine.error());
  // The pivot keywords and the report are opened before the scan, so that a path that takes no
  // file is said at once, not after a long hunt.
  ReportFile pivot_file, report_file;
  if (pivot) {
    if (auto opened = pivot_file.Open(options.pivot_keywords_path, "--pivot-keywords"); !opened)
      return tl::unexpected(opened.error());
  }
  auto pivot_on = [&](sigma::Level level, const event::Event& event, std::optional<int64_t> time) {
    if (pivot && level >= options.pivot_min_level) pivot->Add(event, time);
  };
  // --html-report: opened before the scan too.
  std::optional<HtmlReport> report;
  if (!options.html_report_path.empty()) {
    if (auto opened = report_file.Open(options.html_report_path, "--html-report"); !opened)
      return tl::unexpected(opened.error());
    report.emplace();
  }
  // --attack-layer: opened before the scan too.
  ReportFile layer_file;
  std::optional<AlertTechniques> techniques;
  if (!options.attack_layer_path.empty()) {
    if (auto opened = layer_file.Open(options.attack_layer_path, "--attack-layer"); !opened)
      return tl::unexpected(opened.error());
    techniques.emplace();
  }
  auto technique_on = [&](const sigma::RuleInfo& rule, std::string_view host,
                          std::optional<int64_t> time) {
    if (techniques) techniques->Add(rule, host, time);
  };
  std::string report_details;
  auto report_on = [&](HtmlReport::Alert alert,
                       const std::vector<std::pair<std::string, std::string>>* group,
                       const std::vector<std::pair<std::string_view, std::string_view>>* values) {
    if (!report) return;
    report_details.clear();
    if (group)
      for (const auto& [field, value] : *group) AppendDetail(report_details, field, value);
    if (values)
      for (const auto& [field, value] : *values) AppendDetail(report_details, field, value);
    alert.details = report_details;
    report->Add(alert);
  };
  std::unique_ptr<TimeSorter> sorter;
  if (options.alert_order == AlertOrder::kTime)
    sorter = std::make_unique<TimeSorter>(options.sort_dir, options.sort_memory_bytes);
  auto writer = AlertWriter::Open(options.output_path, options.output_format, std::move(sorter),
                                  geo.has_value());
  if (!writer) return tl::unexpected(writer.error());
  const event::FieldId time_field =
      options.time_field.empty() ? event::NO_FIELD : (*engine)->catalog().Find(options.time_field);

  // Alerts of one record share its JSON rendering, and with --sort time its time.
  const std::string* rendered_path = nullptr;
  uint64_t rendered_number = 0;
  std::string event_json;
  std::optional<int64_t> alert_time;
  int64_t alert_reference_ms = NowMs();  // the year of RFC 3164 times: then each event's own
  std::vector<std::string_view> matched_fields;
  std::vector<std::pair<std::string_view, std::string_view>> details;
  std::vector<GeoTag> geo_tags;  // --geo-ip: the rendered record's located addresses
  std::vector<std::string_view> alert_countries;
  auto count_countries = [&](const std::vector<GeoTag>& tags) {
    alert_countries.clear();
    for (const GeoTag& tag : tags) {
      const std::string& country = tag.location->country;
      if (country.empty() || std::find(alert_countries.begin(), alert_countries.end(), country) !=
                                 alert_countries.end())
        continue;
      alert_countries.push_back(country);
      ++summary.alerts_by_country[country];
    }
    if (!tags.empty()) ++summary.alerts_located;
  };
  // What every alert of an event shares: where it is, and the event rendered once.
  auto AlertOf = [&](const event::Event& event, const event::Record& record,
                     const std::string& path, const std::vector<std::string_view>* matched) {
    if (rendered_path != &path || rendered_number != record.number) {
      (*engine)->EventJson(record, event_json);
      rendered_path = &path;
      rendered_number = record.number;
      // The time --from and --to read (the time field, else the format's own): for the
      // summary's days, and --sort time.
      alert_time = correlate::EventTimeMs(event, time_field, alert_reference_ms);
      if (alert_time) alert_reference_ms = *alert_time;
      if (geo) LocateAddresses(event, address_fields, *geo, geo_tags);
    }
    AlertRecord alert;
    alert.time = event.time;
    alert.file = path;
    alert.record = record.number;
    alert.logsource = &event.logsource;
    alert.event_json = event_json;
    alert.matched = matched;
    alert.host = (*engine)->Host(event);
    if (geo) {
      alert.geo = &geo_tags;
      count_countries(geo_tags);
    }
    return alert;
  };
  // When the alerted events happened, for the summary.
  auto count_time = [&](std::optional<int64_t> time) {
    if (!time) {
      ++summary.alerts_without_time;
      return;
    }
    WidenSpan(summary.first_alert_ms, summary.last_alert_ms, *time);
    ++summary.alerts_by_day[FormatTimestampMs(*time).substr(0, 10)];  // the UTC date
  };
  // The summary's counters by rule title and by host are map entries, whose addresses do not
  // change: an alert finds its rule's counter by the rule's index, and its host's counter
  // without a map lookup when it has the host of the alert before (most do).
  std::vector<uint64_t*> rule_counters((*engine)->rules().rules.size());
  std::string_view counted_host;
  uint64_t* host_counter = nullptr;
  auto count_host = [&](std::string_view host) {
    if (host.empty()) return;
    if (host_counter == nullptr || host != counted_host) {
      auto entry = summary.alerts_by_host.try_emplace(std::string(host), 0).first;
      counted_host = entry->first;
      host_counter = &entry->second;
    }
    ++*host_counter;
  };
  auto write_rule_alert = [&](const sigma::Rule& rule, const event::Event& event,
                              const event::Record& record, const std::string& path,
                              uint32_t rule_index) {
    matched_fields.clear();
    (*engine)->AppendMatchedFields(rule, event, matched_fields);
    AlertRecord alert = AlertOf(event, record, path, &matched_fields);
    alert.rule = &rule;
    details.clear();
    (*engine)->AppendFieldValues(event, matched_fields, details);
    alert.details = &details;
    writer->Write(alert, alert_time);
    ++summary.alerts;
    count_time(alert_time);
    ++summary.alerts_by_level[rule.info.level];
    uint64_t*& rule_counter = rule_counters[rule_index];
    if (rule_counter == nullptr) rule_counter = &summary.alerts_by_rule[rule.info.title];
    ++*rule_counter;
    count_host(alert.host);
    pivot_on(rule.info.level, event, alert_time);
    technique_on(rule.info, alert.host, alert_time);
    report_on({rule.info.level,
               rule.info.id,
               rule.info.title,
               alert_time,
               alert.host,
               {},
               path,
               record.number,
               &rule.info.tags},
              nullptr, &details);
  };
  // Correlation rules: every match of a rule that a correlation references is fed to the
  // engine. Its sequence is the input file's ordinal (high bits) and the record number (low 40
  // bits): increasing in input order, and it says which records a window holds without keeping
  // a table of them. Alerts are handed on in input order whatever the number of threads, so
  // the correlation alerts do not depend on it either.
  const sigma::RuleSet& rule_set = (*engine)->rules();
  correlate::CorrelationOptions correlation_options;
  correlation_options.allowed_lateness_ms = options.allowed_lateness_ms;
  correlate::CorrelationEngine correlations(rule_set, (*engine)->catalog(), correlation_options);
  // Which rules and correlations were selected (--min-level, --rule-id, --tag...) and are not
  // suppressed by a `generate: false` correlation; the others were kept only to be referenced.
  std::vector<bool> rule_written(rule_set.rules.size());
  for (uint32_t i = 0; i < rule_set.rules.size(); ++i)
    rule_written[i] = (*engine)->Selected(i) && !correlations.Suppressed(i);
  std::vector<bool> correlation_written(rule_set.correlations.size());
  for (uint32_t i = 0; i < rule_set.correlations.size(); ++i)
    correlation_written[i] = (*engine)->CorrelationSelected(i);
  constexpr int RECORD_BITS = 40;
  constexpr uint64_t RECORD_MASK = (uint64_t{1} << RECORD_BITS) - 1;
  std::vector<std::string> correlation_paths;  // input files that fed the engine, in order
  const std::string* last_path = nullptr;  // the record last fed, to feed each record once
  uint64_t last_number = 0;
  std::optional<int64_t> last_time;
  int64_t reference_ms = NowMs();  // the year of RFC 3164 times: then each event's own
  std::vector<correlate::CorrelationAlert> fired;
  CorrelationAlertInfo correlation_info;
  auto write_correlations = [&] {
    for (const auto& alert : fired) {
      if (!correlation_written[alert.correlation_index]) continue;
      const sigma::Correlation& c = rule_set.correlations[alert.correlation_index];
      correlation_info.correlation = &c;
      correlation_info.alert = &alert;
      correlation_info.records.clear();
      for (uint64_t sequence : alert.sequences) {
        correlation_info.records.emplace_back(correlation_paths[sequence >> RECORD_BITS],
                                              sequence & RECORD_MASK);
      }
      AlertRecord record;
      record.correlation = &correlation_info;
      writer->Write(record, alert.last_time_ms);
      ++summary.alerts;
      count_time(alert.last_time_ms);
      ++summary.correlation_alerts;
      ++summary.alerts_by_level[c.info.level];
      ++summary.alerts_by_rule[c.info.title];
      technique_on(c.info, {}, alert.last_time_ms);
      report_on({c.info.level,
                 c.info.id,
                 c.info.title,
                 alert.last_time_ms,
                 {},
                 {},
                 correlation_info.records.empty() ? std::string_view()
                                                  : correlation_info.records.front().first,
                 correlation_info.records.empty() ? 0 : correlation_info.records.front().second,
                 &c.info.tags},
                &alert.group, nullptr);
    }
    fired.clear();
  };
  auto correlate = [&](uint32_t rule_index, const event::Event& event,
                       const event::Record& record, const std::string& path) {
    if (last_path != &path || last_number != record.number) {
      // A new record: its time and ordinal, once for all the rules it matched.
      last_path = &path;
      last_number = record.number;
      last_time = correlate::EventTimeMs(event, time_field, reference_ms);
      if (!last_time) {
        ++summary.correlation_untimed_events;
        return;
      }
      reference_ms = *last_time;
      if (correlation_paths.empty() || correlation_paths.back() != path)
        correlation_paths.push_back(path);
    }
    if (!last_time) return;
    correlate::RuleMatch match;
    match.rule_index = rule_index;
    match.event_time_ms = *last_time;
    match.sequence = (static_cast<uint64_t>(correlation_paths.size() - 1) << RECORD_BITS) |
                     (record.number & RECORD_MASK);
    match.event = &event;
    correlations.Observe(match, fired);
    write_correlations();
  };
  // Whether the record is a copy of one read before (--skip-duplicate-records): asked once a
  // record, in input order, so the first copy is the one kept whatever the number of threads.
  const std::string* asked_path = nullptr;
  uint64_t asked_number = 0;
  bool asked_duplicate = false;
  auto duplicate = [&](const event::Event& event, const event::Record& record,
                       const std::string& path) {
    if (!duplicates) return false;
    if (asked_path != &path || asked_number != record.number) {
      asked_path = &path;
      asked_number = record.number;
      asked_duplicate = duplicates->SeenBefore(event, record.source_index);
      if (asked_duplicate) ++summary.records_duplicate;
    }
    return asked_duplicate;
  };
  auto on_alert = [&](const sigma::Rule& rule, const event::Event& event,
                      const event::Record& record, const std::string& path) {
    auto rule_index = static_cast<uint32_t>(&rule - rule_set.rules.data());
    if (duplicate(event, record, path)) {
      if (rule_written[rule_index]) ++summary.alerts_duplicate;
      return;
    }
    if (rule_written[rule_index]) write_rule_alert(rule, event, record, path, rule_index);
    if (correlations.Referenced(rule_index)) correlate(rule_index, event, record, path);
  };
  std::vector<std::string_view> indicator_fields;
  IndicatorAlertInfo info;
  auto on_indicator = [&](const intel::IndicatorIndex& index, const intel::IntelMatch& match,
                          const std::vector<intel::IntelHit>& hits, const event::Event& event,
                          const event::Record& record, const std::string& path) {
    const intel::FeedSnapshot& snapshot = *index.snapshots()[match.snapshot];
    intel::IndicatorView view = snapshot.View(match.indicator);
    sigma::Level level = IndicatorLevel(view.confidence);
    if (options.min_level && level < *options.min_level) return;
    if (duplicate(event, record, path)) {
      ++summary.alerts_duplicate;
      return;
    }
    const auto& compact = snapshot.indicator(match.indicator);
    info.id = view.id;
    info.feed = view.feed;
    info.name = view.name;
    info.pattern = std::move(view.pattern);
    info.type = intel::ToString(snapshot.atom(compact.first_atom).type);
    info.tlp = intel::ToString(view.tlp);
    info.level = sigma::LevelName(level);
    info.confidence = view.confidence;
    info.labels = view.labels;
    info.markings = view.markings;
    info.found.clear();
    indicator_fields.clear();
    for (uint32_t h = match.first_hit; h < match.first_hit + match.hit_count; ++h) {
      std::string_view field = (*engine)->FieldName(hits[h].field);
      info.found.emplace_back(field, hits[h].value);
      if (std::find(indicator_fields.begin(), indicator_fields.end(), field) ==
          indicator_fields.end())
        indicator_fields.push_back(field);
    }
    AlertRecord alert = AlertOf(event, record, path, &indicator_fields);
    alert.indicator = &info;
    writer->Write(alert, alert_time);
    ++summary.alerts;
    count_time(alert_time);
    ++summary.indicator_alerts;
    ++summary.alerts_by_level[level];
    ++summary.alerts_by_feed[std::string(view.feed)];
    count_host(alert.host);
    pivot_on(level, event, alert_time);
    report_on({level,
               info.id,
               info.name.empty() ? std::string_view(info.pattern) : info.name,
               alert_time,
               alert.host,
               {},
               path,
               record.number},
              nullptr, &info.found);
  };
  (*engine)->Scan(options.inputs, on_alert, on_indicator, summary);
  correlations.Finish(fired);  // end of input: every window closes
  write_correlations();
  const correlate::CorrelationStats& stats = correlations.stats();
  summary.correlation_late_matches += stats.late_matches;
  summary.correlation_evicted_groups += stats.evicted_groups;
  // From here on a failure is one file lost, not the scan: each is said, and the others are
  // still written.
  if (auto finished = writer->Finish(); !finished)
    summary.output_failures.push_back(finished.error().ToString());
  if (!writer->spill_problem().empty()) {
    diagnostics.Report(DiagnosticKind::kWarning, "--sort time",
                       writer->spill_problem() + "; the alerts were sorted in memory instead");
  }
  if (pivot) {
    std::string json;
    pivot->WriteJson(options.pivot_min_level, json, geo ? &*geo : nullptr);
    json.push_back('\n');
    if (auto written = pivot_file.WriteAndClose(json); !written)
      summary.output_failures.push_back(written.error().ToString());
    summary.pivot_alerts = pivot->alerts();
    summary.pivot_keywords = pivot->Counts();
  }
  if (techniques) {
    std::string json =
        attack::LayerJson(techniques->Layer(options.inputs, options.attack_layer_score, NowMs()))
            .Serialize();
    json.push_back('\n');
    if (auto written = layer_file.WriteAndClose(json); !written)
      summary.output_failures.push_back(written.error().ToString());
    summary.attack_alerts = techniques->alerts();
    summary.attack_techniques = techniques->techniques();
  }
  if (report) {
    const std::string page = report->Render(
        summary, options.inputs, NowMs(),
        options.html_report_japanese ? ReportLanguage::kJapanese : ReportLanguage::kEnglish);
    if (auto written = report_file.WriteAndClose(page); !written)
      summary.output_failures.push_back(written.error().ToString());
  }
  return summary;
}

}  // namespace yagura::scan

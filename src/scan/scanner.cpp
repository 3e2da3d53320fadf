// RunScan: loads rules, builds the matcher, then streams every input record through
// parse -> classify -> match -> write. See scanner.hpp for the stages.
#include "scan/scanner.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fmt/format.h>

#include "event/parser.hpp"
#include "scan/alert_writer.hpp"
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
  if (!options.rule_ids.empty() &&
      std::none_of(options.rule_ids.begin(), options.rule_ids.end(),
                   [&](const std::string& id) { return id == info.id || id == info.name; })) {
    return false;
  }
  if (!options.tags.empty()) {
    bool any = false;
    for (const auto& wanted : options.tags) {
      for (const auto& tag : info.tags) {
        if (tag == wanted) any = true;
      }
    }
    if (!any) return false;
  }
  return true;
}

uint64_t InputSize(const std::vector<event::InputFile>& inputs) {
  uint64_t total = 0;
  for (const auto& input : inputs) {
    struct stat st {};
    if (input.path != "-" && ::stat(input.path.c_str(), &st) == 0) total += st.st_size;
  }
  return total;
}

// Field names whose first value names the host of an event, for the summary.
constexpr std::string_view HOST_FIELDS[] = {"Computer", "Hostname", "hostname", "host",
                                            "ComputerName"};

}  // namespace

struct Engine::Impl {
  ScanOptions options;
  Diagnostics* diagnostics = nullptr;
  event::FieldCatalog catalog;
  std::optional<event::LogsourceMapping> mapping;
  std::vector<event::FieldId> host_fields;
  sigma::RuleSet rules;
  std::unique_ptr<sigma::Matcher> matcher;
  std::unique_ptr<event::EventParser> parser;
  sigma::Matcher::ScratchPtr scratch;
  event::Event event;
  std::vector<uint32_t> matches;
};

Engine::Engine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Engine::~Engine() = default;

const sigma::RuleSet& Engine::rules() const { return impl_->rules; }

std::string Engine::EventJson(const event::Record& record) { return impl_->parser->ToJson(record); }

std::string_view Engine::Host(const event::Event& event) const {
  for (auto id : impl_->host_fields) {
    if (const auto* value = event.First(id)) return value->text;
  }
  return {};
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

  sigma::LoadOptions load_options;
  load_options.placeholders = options.placeholders;
  impl->rules = sigma::RuleSet::Load(options.rule_paths, impl->catalog, load_options);
  sigma::RuleSet& rules = impl->rules;
  for (const auto& failure : rules.failures) {
    diagnostics.Report(DiagnosticKind::kRuleFailed,
                       failure.line ? fmt::format("{}:{}", failure.file, failure.line)
                                    : failure.file,
                       failure.reason);
  }
  summary.rules_failed = rules.failures.size();
  std::erase_if(rules.rules, [&](const sigma::Rule& rule) { return !RuleSelected(rule, options); });
  summary.rules_loaded = rules.rules.size();
  if (rules.rules.empty() && options.detect) {
    return Fail(rules.failures.empty() ? "no rule to run: no rule file found or none selected"
                                       : "no rule to run: every rule failed to load");
  }

  if (options.detect && !options.plain_evaluator) {
    sigma::MatcherOptions matcher_options;
    matcher_options.unrecognised = options.unrecognised;
    matcher_options.cache_dir = options.cache_dir;
    auto built = sigma::Matcher::Build(rules, impl->catalog, matcher_options);
    if (!built) return tl::unexpected(built.error());
    impl->matcher = std::move(*built);
    impl->scratch = impl->matcher->NewScratch();
  }
  impl->parser = std::make_unique<event::EventParser>(impl->catalog, *impl->mapping,
                                                      options.declared_logsource);
  summary.load_seconds = SecondsSince(load_start);
  return std::unique_ptr<Engine>(new Engine(std::move(impl)));
}

void Engine::Scan(const std::vector<std::string>& paths, const OnAlert& on_alert,
                  ScanSummary& summary) {
  Impl& m = *impl_;
  Diagnostics& diagnostics = *m.diagnostics;
  auto scan_start = Clock::now();
  uint64_t unreadable_before = diagnostics.Count(DiagnosticKind::kInputUnreadable);
  std::vector<event::InputFile> inputs = event::ExpandInputs(paths, diagnostics);
  uint64_t paths_missing = diagnostics.Count(DiagnosticKind::kInputUnreadable) - unreadable_before;
  Progress progress(m.options.progress, InputSize(inputs));
  event::RecordReader reader(m.options.format, diagnostics);
  uint64_t records = 0;
  uint64_t parse_failures = 0;
  uint64_t bytes_before_file = 0;

  for (uint32_t index = 0; index < inputs.size(); ++index) {
    const std::string& path = inputs[index].path;
    auto on_record = [&](const event::Record& record) {
      ++records;
      auto parsed = m.parser->Parse(record, m.event);
      if (!parsed) {
        ++parse_failures;
        diagnostics.Report(DiagnosticKind::kRecordSkipped,
                           fmt::format("{}:{}", path, record.number), parsed.error().message);
        return;
      }
      if (!m.event.logsource.recognised) ++summary.events_unrecognised;
      if (!m.options.detect) return;
      m.matches.clear();
      if (m.matcher) {
        m.matcher->Match(m.event, *m.scratch, m.matches);
      } else {
        sigma::EvaluateAll(m.rules, m.event, m.options.unrecognised, m.matches);
      }
      for (uint32_t rule_index : m.matches) {
        on_alert(m.rules.rules[rule_index], m.event, record, path);
      }
    };
    auto on_progress = [&](uint64_t bytes_done) {
      progress.Update(bytes_before_file + bytes_done, records);
    };
    reader.ReadFile(inputs[index], index, on_record, on_progress);
    struct stat st {};
    if (path != "-" && ::stat(path.c_str(), &st) == 0) bytes_before_file += st.st_size;
  }
  progress.Finish();

  const event::ReadStats& stats = reader.stats();
  summary.files_read += stats.files_read;
  summary.files_failed += stats.files_failed + paths_missing;
  summary.records_read += records;
  summary.records_skipped += stats.records_skipped + parse_failures;
  summary.bytes_read += stats.bytes;
  summary.scan_seconds += SecondsSince(scan_start);
}

Result<ScanSummary> RunScan(const ScanOptions& options, Diagnostics& diagnostics) {
  ScanSummary summary;
  auto engine = Engine::Prepare(options, diagnostics, summary);
  if (!engine) return tl::unexpected(engine.error());
  auto writer = AlertWriter::Open(options.output_path, options.output_format);
  if (!writer) return tl::unexpected(writer.error());

  // Alerts of one record share its JSON rendering.
  const std::string* rendered_path = nullptr;
  uint64_t rendered_number = 0;
  std::string event_json;
  std::vector<std::string_view> matched_fields;
  auto on_alert = [&](const sigma::Rule& rule, const event::Event& event,
                      const event::Record& record, const std::string& path) {
    if (rendered_path != &path || rendered_number != record.number) {
      event_json = (*engine)->EventJson(record);
      rendered_path = &path;
      rendered_number = record.number;
    }
    matched_fields.clear();
    (void)sigma::EvaluateRule(rule, event, &matched_fields);
    AlertRecord alert{&rule, event.time, path, record.number, &event.logsource, event_json,
                      &matched_fields};
    writer->Write(alert);
    ++summary.alerts;
    ++summary.alerts_by_level[rule.info.level];
    ++summary.alerts_by_rule[rule.info.title];
    std::string_view host = (*engine)->Host(event);
    if (!host.empty()) ++summary.alerts_by_host[std::string(host)];
  };
  (*engine)->Scan(options.inputs, on_alert, summary);
  if (auto finished = writer->Finish(); !finished) return tl::unexpected(finished.error());
  return summary;
}

}  // namespace yagura::scan

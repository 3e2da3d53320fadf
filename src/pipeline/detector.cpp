// Detector (see detector.hpp).
#include "pipeline/detector.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "attack/technique_id.hpp"
#include "core/diagnostics.hpp"
#include "core/json_writer.hpp"
#include "core/stable_id.hpp"
#include "core/time.hpp"
#include "correlate/event_time.hpp"
#include "event/record.hpp"
#include "intel/geo_ip.hpp"
#include "intel/store.hpp"
#include "pipeline/envelope.hpp"
#include "scan/alert_writer.hpp"
#include "sigma/evaluator.hpp"

namespace yagura::pipeline {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view STATE_MAGIC = "YDS1";
constexpr std::string_view CHECKPOINT = "detector";
constexpr std::string_view RELOADS_HELP = "Rule and feed reloads of the detector, by result";

int64_t SteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// The saved state: where to resume and the correlation and campaign state at that point.
struct SavedState {
  uint64_t next_seq = 0;
  std::string correlation;
  std::string campaigns;
};

void PutU64(uint64_t value, std::string& out) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>(value >> (8 * i)));
}

bool GetU64(std::string_view bytes, size_t& at, uint64_t& value) {
  if (bytes.size() - at < 8) return false;
  value = 0;
  for (int i = 0; i < 8; ++i) value |= static_cast<uint64_t>(static_cast<uint8_t>(bytes[at + i])) << (8 * i);
  at += 8;
  return true;
}

std::string EncodeState(const SavedState& state) {
  std::string out(STATE_MAGIC);
  PutU64(state.next_seq, out);
  PutU64(state.correlation.size(), out);
  out += state.correlation;
  PutU64(state.campaigns.size(), out);
  out += state.campaigns;
  uint32_t crc = Crc32c(0, out.data(), out.size());
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>(crc >> (8 * i)));
  return out;
}

Result<SavedState> DecodeState(std::string_view bytes) {
  if (bytes.size() < STATE_MAGIC.size() + 4 || bytes.substr(0, STATE_MAGIC.size()) != STATE_MAGIC)
    return Fail("not a detector state file");
  uint32_t stored = 0;
  for (int i = 0; i < 4; ++i)
    stored |= static_cast<uint32_t>(static_cast<uint8_t>(bytes[bytes.size() - 4 + i])) << (8 * i);
  std::string_view body = bytes.substr(0, bytes.size() - 4);
  if (Crc32c(0, body.data(), body.size()) != stored) return Fail("detector state checksum mismatch");
  SavedState state;
  size_t at = STATE_MAGIC.size();
  uint64_t size = 0;
  if (!GetU64(body, at, state.next_seq) || !GetU64(body, at, size) || size > body.size() - at)
    return Fail("detector state truncated");
  state.correlation.assign(body.substr(at, size));
  at += size;
  if (!GetU64(body, at, size) || size > body.size() - at) return Fail("detector state truncated");
  state.campaigns.assign(body.substr(at, size));
  return state;
}

Result<void> WriteFileAtomically(const std::string& path, std::string_view bytes) {
  std::string temporary = path + ".tmp";
  int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Fail(fmt::format("cannot write {}: {}", temporary, std::strerror(errno)));
  size_t written = 0;
  while (written < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int error = errno;
      ::close(fd);
      return Fail(fmt::format("cannot write {}: {}", temporary, std::strerror(error)));
    }
    written += static_cast<size_t>(n);
  }
  if (::fdatasync(fd) != 0 || ::close(fd) != 0)
    return Fail(fmt::format("cannot sync {}: {}", temporary, std::strerror(errno)));
  if (::rename(temporary.c_str(), path.c_str()) != 0)
    return Fail(fmt::format("cannot rename {}: {}", temporary, std::strerror(errno)));
  std::string dir = fs::path(path).parent_path().string();
  int dir_fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    (void)::fsync(dir_fd);
    ::close(dir_fd);
  }
  return {};
}

std::optional<std::string> ReadWholeFile(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (!file) return std::nullopt;
  std::string bytes;
  char buffer[65536];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, file)) > 0) bytes.append(buffer, n);
  std::fclose(file);
  return bytes;
}

// A fingerprint of the files under `paths` (names, sizes, modification times): rules and
// feeds are reloaded when it changes.
std::string FilesFingerprint(const std::vector<std::string>& paths) {
  std::string fingerprint;
  auto add = [&](const fs::path& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return;
    fingerprint += fmt::format("{}\x1f{}\x1f{}.{}\n", path.string(), st.st_size, st.st_mtim.tv_sec,
                               st.st_mtim.tv_nsec);
  };
  for (const auto& root : paths) {
    std::error_code error;
    if (fs::is_directory(root, error)) {
      std::vector<fs::path> files;
      for (fs::recursive_directory_iterator it(root, error), end; !error && it != end;
           it.increment(error)) {
        if (it->is_regular_file(error)) files.push_back(it->path());
      }
      std::sort(files.begin(), files.end());
      for (const auto& file : files) add(file);
    } else {
      add(root);
    }
  }
  return fingerprint;
}

// The files whose change reloads the rules: the rule files and the tuning files that choose
// among them and set their levels.
std::string RulesFingerprint(const scan::ScanOptions& scan) {
  std::vector<std::string> paths = scan.rule_paths;
  for (const auto* files :
       {&scan.rule_list_files, &scan.exclude_rule_list_files, &scan.level_override_files})
    paths.insert(paths.end(), files->begin(), files->end());
  return FilesFingerprint(paths);
}

}  // namespace

// One prepared rule set: the scan engine with its correlation engine and campaign key fields.
// The engine is shared so that the console can keep reading its indicator index while the
// detection thread swaps in a new one.
struct Loaded {
  std::unique_ptr<Diagnostics> diagnostics;
  std::shared_ptr<scan::Engine> engine;
  std::shared_ptr<RuleCatalog> catalog;  // generation and time are set when it is installed
  std::unique_ptr<correlate::CorrelationEngine> correlation;
  std::unique_ptr<correlate::CampaignKeyFields> key_fields;
  event::FieldId time_field = event::NO_FIELD;
  // With geo_ip_paths: the fields whose addresses alerts locate (scan::AddressFields).
  std::vector<std::pair<event::FieldId, std::string_view>> address_fields;
  std::string correlation_fingerprint;  // of the correlation rules: state carries over if equal
};

struct Detector::Impl {
  DetectorOptions options;
  IngestQueue* queue = nullptr;
  DetectionSink sink;
  Metrics* metrics = nullptr;
  DetectorStats stats;

  Loaded loaded;
  // Opened at start (scan.geo_ip_paths), and again when the files change (a monthly GeoLite2
  // update), as feeds are; a file that does not open leaves the running databases in place.
  std::optional<intel::GeoIpDatabases> geo;
  std::string geo_fingerprint;
  std::vector<scan::GeoTag> geo_tags;
  correlate::CampaignTracker campaigns;
  std::string rules_fingerprint;
  std::string feeds_fingerprint;
  int64_t last_reload_check_ms = 0;

  uint64_t next_seq = 0;
  std::optional<DetectionBatch> pending;  // processed, not yet accepted by the sink
  // The pending batch's alerts by id (their first in the batch): a repeat of one of them is only
  // what the store counts (DetectedRepeat), which spares rendering its event. Keyed by the id's
  // bytes, so a repeat's id is never written out as text.
  struct IdHash {
    size_t operator()(const StableIdBytes& id) const { return id.HashBits(); }
  };
  std::unordered_map<StableIdBytes, uint32_t, IdHash> batch_alert_ids;
  int64_t last_state_save_ms = 0;
  bool state_dirty = false;
  std::string event_store_error;  // the last failure reported, so it is not repeated each save

  std::thread thread;
  std::atomic<bool> stopping{false};
  std::atomic<bool> running{false};

  // Rule reloads, by hand or on file change, one at a time: each reads the files and installs
  // the set it read, so two interleaved would install in either order.
  std::mutex reload_mutex;
  // A set prepared by Reload() on another thread, waiting for the detection thread.
  struct Handover {
    Loaded loaded;
    std::string rules_fingerprint;
    std::string feeds_fingerprint;
  };
  std::mutex handover_mutex;
  std::condition_variable handover_done;
  std::optional<Handover> handover;
  std::atomic<bool> handover_pending{false};

  // What other threads read: the running catalogue and engine, the last failed reload.
  mutable std::mutex published_mutex;
  std::shared_ptr<const RuleCatalog> catalog;
  std::shared_ptr<scan::Engine> published_engine;
  std::optional<ReloadFailure> last_failure;
  uint64_t generation = 0;

  // Scratch reused across records, so steady-state processing allocates only for alerts.
  SpoolReadBuffer spool_read;
  std::string padded;
  std::map<std::string, std::optional<event::Logsource>, std::less<>> logsources;
  std::vector<correlate::CorrelationAlert> correlation_out;
  std::vector<correlate::CampaignUpdate> campaign_out;
  std::vector<std::pair<std::string, std::string>> key_values;
  std::vector<std::string_view> matched_fields;
  std::vector<std::pair<std::string_view, std::string_view>> matched_values;  // an alert's details

  Counter* records_counter = nullptr;
  Counter* bad_counter = nullptr;
  Counter* sink_failure_counter = nullptr;
  Gauge* lag_gauge = nullptr;

  explicit Impl(DetectorOptions o) : options(std::move(o)), campaigns(options.campaigns) {}

  Result<Loaded> Load(const ReloadProgress* progress = nullptr);
  // Makes `next` the running set (on the detection thread, or with it stopped).
  void Install(Loaded next, std::string rules_now, std::string feeds_now);
  void Publish();
  void RecordFailure(const std::string& message);
  void TakeHandover();
  Result<void> RestoreState();
  Result<void> SaveState();
  Result<uint64_t> ProcessBatch();
  void ProcessRecord(const SpoolReadBuffer::Record& record, DetectionBatch& batch);
  void EmitCorrelations(const Envelope& envelope, uint64_t seq, DetectionBatch& batch);
  // Offers a detection of `org` at `time` under `key`, as the batch's alert `alert` (the alert
  // itself, or the alert it repeats): a campaign it raises lists that alert as the member and
  // takes its level, tags and techniques. An index, not a reference: raising a campaign adds
  // to the batch.
  void OfferToCampaigns(const correlate::CampaignKeyView& key, std::string_view org, size_t alert,
                        int64_t time, DetectionBatch& batch);
  void Run();
};

// The console's view of a prepared engine's rules: those that raise alerts. A rule left out
// by tuning but kept because a correlation references it runs unseen, and is not listed.
std::shared_ptr<RuleCatalog> BuildCatalog(const scan::Engine& engine) {
  const sigma::RuleSet& rules = engine.rules();
  auto catalog = std::make_shared<RuleCatalog>();
  catalog->files_read = rules.files_read;
  auto add = [&](const sigma::RuleInfo& info, bool correlation) {
    LoadedRuleInfo rule;
    rule.id = info.id.empty() ? info.title : info.id;
    rule.title = info.title;
    rule.level = std::string(sigma::LevelName(info.level));
    rule.status = info.status;
    rule.correlation = correlation;
    rule.logsource = info.logsource;
    rule.tags = info.tags;
    for (const auto& tag : info.tags) {
      if (auto technique = attack::TechniqueOfTag(tag))
        rule.techniques.push_back(std::move(*technique));
    }
    rule.path = info.file;
    catalog->rules.push_back(std::move(rule));
  };
  for (uint32_t i = 0; i < rules.rules.size(); ++i)
    if (engine.Selected(i)) add(rules.rules[i].info, false);
  for (uint32_t i = 0; i < rules.correlations.size(); ++i)
    if (engine.CorrelationSelected(i)) add(rules.correlations[i].info, true);
  for (const auto& failure : rules.failures)
    catalog->failures.push_back({failure.file, failure.line, failure.reason});
  return catalog;
}

Result<Loaded> Detector::Impl::Load(const ReloadProgress* progress) {
  Loaded result;
  result.diagnostics = std::make_unique<Diagnostics>([](const Diagnostic& d) {
    // Warnings too: a tuning file's id that names no rule (a misspelt one leaves a noisy rule
    // running).
    if (d.kind == DiagnosticKind::kRuleFailed || d.kind == DiagnosticKind::kInputUnreadable ||
        d.kind == DiagnosticKind::kWarning)
      std::fprintf(stderr, "yagura detector: %s: %s\n", d.where.c_str(), d.message.c_str());
  });
  scan::ScanOptions scan_options = options.scan;
  scan_options.threads = 1;
  scan_options.detect = true;
  if (progress != nullptr) scan_options.on_rule_file = progress->on_rule_file;
  std::string time_field = options.time_field;
  scan_options.intern_extra_fields = [&](event::FieldCatalog& catalog) {
    if (options.scan.intern_extra_fields) options.scan.intern_extra_fields(catalog);
    correlate::CampaignKeyFields::InternFields(catalog);
    if (!time_field.empty()) catalog.Intern(time_field);
    if (!options.scan.geo_ip_paths.empty()) {
      for (std::string_view name : scan::AddressFields())
        result.address_fields.emplace_back(catalog.Intern(name), name);
    }
  };
  scan::ScanSummary summary;
  auto engine = scan::Engine::Prepare(scan_options, *result.diagnostics, summary);
  if (!engine) return tl::unexpected(engine.error());
  result.engine = std::move(*engine);
  const auto& catalog = result.engine->catalog();
  if (!time_field.empty()) result.time_field = catalog.Find(time_field);
  result.correlation = std::make_unique<correlate::CorrelationEngine>(
      result.engine->rules(), catalog, options.correlation);
  result.key_fields = std::make_unique<correlate::CampaignKeyFields>(catalog);
  for (const auto& correlation : result.engine->rules().correlations) {
    result.correlation_fingerprint += correlation.info.file + "\x1f" + correlation.info.id + "\n";
  }
  result.catalog = BuildCatalog(*result.engine);
  result.catalog->left_out = summary.rules_in_files - result.catalog->rules.size();
  result.catalog->relevelled = summary.rules_relevelled;
  return result;
}

void Detector::Impl::Install(Loaded next, std::string rules_now, std::string feeds_now) {
  if (next.correlation_fingerprint == loaded.correlation_fingerprint) {
    if (auto restored = next.correlation->Restore(loaded.correlation->Snapshot()); !restored) {
      std::fprintf(stderr, "yagura detector: correlation windows start empty after the reload (%s)\n",
                   restored.error().message.c_str());
    }
  } else {
    std::fprintf(stderr, "yagura detector: correlation rules changed: their windows start empty\n");
  }
  loaded = std::move(next);
  rules_fingerprint = std::move(rules_now);
  feeds_fingerprint = std::move(feeds_now);  // a new engine reads the feeds afresh
  ++stats.reloads;
  metrics->GetCounter("yagura_detector_reloads_total", RELOADS_HELP, {{"result", "ok"}}).Increment();
  Publish();
}

void Detector::Impl::Publish() {
  std::lock_guard lock(published_mutex);
  loaded.catalog->generation = ++generation;
  loaded.catalog->loaded_at_ms = NowMs();
  catalog = loaded.catalog;
  published_engine = loaded.engine;
  last_failure.reset();
}

void Detector::Impl::RecordFailure(const std::string& message) {
  ++stats.reload_failures;
  metrics->GetCounter("yagura_detector_reloads_total", RELOADS_HELP, {{"result", "failed"}}).Increment();
  std::lock_guard lock(published_mutex);
  last_failure = ReloadFailure{NowMs(), message};
}

void Detector::Impl::TakeHandover() {
  std::lock_guard lock(handover_mutex);
  if (handover) {
    Install(std::move(handover->loaded), std::move(handover->rules_fingerprint),
            std::move(handover->feeds_fingerprint));
    handover.reset();
  }
  handover_pending = false;
  handover_done.notify_all();
}

Result<void> Detector::Impl::RestoreState() {
  next_seq = queue->first_seq();
  auto bytes = ReadWholeFile(options.state_path);
  if (!bytes) {
    // No state yet: a spool checkpoint (kept for trimming) still says how far detection got.
    next_seq = std::max(next_seq, queue->LoadCheckpoint(CHECKPOINT));
    return {};
  }
  auto state = DecodeState(*bytes);
  if (!state) return Fail(fmt::format("{}: {}", options.state_path, state.error().message));
  if (state->next_seq < queue->first_seq()) {
    std::fprintf(stderr,
                 "yagura detector: the spool no longer holds records %llu to %llu; resuming at "
                 "%llu\n",
                 static_cast<unsigned long long>(state->next_seq),
                 static_cast<unsigned long long>(queue->first_seq() - 1),
                 static_cast<unsigned long long>(queue->first_seq()));
  }
  next_seq = std::max(state->next_seq, queue->first_seq());
  if (!state->correlation.empty()) {
    if (auto restored = loaded.correlation->Restore(state->correlation); !restored) {
      std::fprintf(stderr, "yagura detector: correlation windows start empty (%s)\n",
                   restored.error().message.c_str());
    }
  }
  if (!state->campaigns.empty()) {
    if (auto restored = campaigns.Restore(state->campaigns); !restored) {
      std::fprintf(stderr, "yagura detector: campaign state starts empty (%s)\n",
                   restored.error().message.c_str());
    }
  }
  return {};
}

Result<void> Detector::Impl::SaveState() {
  // With a batch in hand the correlation state already includes records at and after
  // next_seq; saved together, a restart would count those records twice. Wait for the sink.
  if (pending) return {};
  // The event store holds everything before the saved position, so a restart that replays
  // from it finds no gap there. Its failures are reported, not fatal: detection goes on.
  if (options.event_store != nullptr) {
    auto flushed = options.event_store->Flush();
    if (flushed) flushed = options.event_store->Trim(NowMs()).map([](uint64_t) {});
    std::string message = flushed ? std::string() : flushed.error().message;
    if (message != event_store_error && !message.empty())
      std::fprintf(stderr, "yagura detector: event store: %s\n", message.c_str());
    event_store_error = std::move(message);
  }
  SavedState state;
  state.next_seq = next_seq;
  state.correlation = loaded.correlation->Snapshot();
  state.campaigns = campaigns.Snapshot();
  if (auto written = WriteFileAtomically(options.state_path, EncodeState(state)); !written)
    return written;
  last_state_save_ms = SteadyMs();
  state_dirty = false;
  // The spool keeps everything from the saved position on, for a replay after a crash.
  if (auto saved = queue->SaveCheckpoint(CHECKPOINT, next_seq); !saved) return saved;
  if (auto trimmed = queue->Trim(next_seq, options.spool_retention_ms, NowMs()); !trimmed)
    return tl::unexpected(trimmed.error());
  return {};
}

void Detector::Impl::OfferToCampaigns(const correlate::CampaignKeyView& key, std::string_view org,
                                      size_t alert, int64_t time, DetectionBatch& batch) {
  campaign_out.clear();
  campaigns.Observe(key, org, batch.alerts[alert].id, time, campaign_out);
  for (auto& update : campaign_out) {
    DetectedCampaign campaign;
    campaign.id = update.id;
    campaign.key_kind = update.key.kind;
    campaign.key_id = update.key.id;
    campaign.key_value = update.key.value;
    campaign.title = update.key.value.empty()
                         ? fmt::format("{} seen at {} organisations", update.key.title,
                                       update.members.size())
                         : fmt::format("{} ({}) seen at {} organisations", update.key.title,
                                       update.key.value, update.members.size());
    campaign.first_time_ms = update.first_time_ms;
    campaign.last_time_ms = update.last_time_ms;
    for (const auto& member : update.members)
      campaign.members.push_back({member.org_id, member.alert_id, member.first_time_ms});
    if (update.created) {
      // The centre's own alert for the campaign: it is what the duty officer triages.
      const DetectedAlert& described = batch.alerts[alert];
      DetectedAlert centre;
      centre.id = update.id;
      centre.kind = "campaign";
      centre.org_id = options.centre_org_id;
      centre.rule_id = update.key.id;
      centre.title = campaign.title;
      centre.level = described.level == "critical" ? "critical" : "high";
      centre.techniques = described.techniques;
      centre.tags = described.tags;
      centre.event_time_ms = update.first_time_ms;
      centre.detected_at_ms = NowMs();
      centre.group_key = update.key.value;
      centre.campaign_id = update.id;
      std::string details;
      JsonWriter w(details);
      w.BeginObject()
          .Key("campaign").BeginObject()
          .Key("id").String(update.id)
          .Key("key_kind").String(update.key.kind)
          .Key("key_id").String(update.key.id)
          .Key("key_value").String(update.key.value)
          .Key("title").String(update.key.title)
          .EndObject()
          .Key("organisations").Uint(update.members.size())
          .EndObject();
      centre.details_json = std::move(details);
      batch.alerts.push_back(std::move(centre));
    }
    batch.campaigns.push_back(std::move(campaign));
    ++stats.campaigns;
  }
}

void Detector::Impl::EmitCorrelations(const Envelope& envelope, uint64_t seq,
                                      DetectionBatch& batch) {
  const auto& rules = loaded.engine->rules();
  for (auto& fired : correlation_out) {
    // A correlation left out (exclude_rules) but referenced by a chosen one runs unseen.
    if (!loaded.engine->CorrelationSelected(fired.correlation_index)) continue;
    const sigma::Correlation& correlation = rules.correlations[fired.correlation_index];
    DetectedAlert alert;
    alert.id = fired.id;
    alert.kind = "correlation";
    alert.org_id = fired.org_id;
    alert.rule_id = correlation.info.id.empty() ? correlation.info.title : correlation.info.id;
    alert.title = correlation.info.title;
    alert.level = std::string(sigma::LevelName(correlation.info.level));
    alert.tags = correlation.info.tags;
    for (const auto& tag : correlation.info.tags) {
      if (auto technique = attack::TechniqueOfTag(tag)) alert.techniques.push_back(*technique);
    }
    alert.event_time_ms = fired.first_time_ms;
    alert.detected_at_ms = NowMs();
    alert.logsource = std::string(envelope.logsource);
    alert.sensor_id = std::string(envelope.sensor_id);
    alert.spool_seq = fired.sequences.empty() ? seq : fired.sequences.back();
    std::string group;
    JsonWriter g(group);
    g.BeginObject();
    for (const auto& [field, value] : fired.group) g.Key(field).String(value);
    g.EndObject();
    alert.group_key = group;
    std::string details;
    JsonWriter w(details);
    w.BeginObject()
        .Key("correlation").BeginObject()
        .Key("id").String(correlation.info.id)
        .Key("title").String(correlation.info.title)
        .Key("type").String(sigma::CorrelationTypeName(correlation.type))
        .Key("level").String(sigma::LevelName(correlation.info.level))
        .Key("author").String(correlation.info.author)
        .EndObject()
        .Key("group").Raw(group)
        .Key("first_time").String(FormatTimestampMs(fired.first_time_ms))
        .Key("last_time").String(FormatTimestampMs(fired.last_time_ms))
        .Key("value").Double(fired.value)
        .Key("count").Uint(fired.match_count)
        .Key("spool_seqs").BeginArray();
    for (uint64_t s : fired.sequences) w.Uint(s);
    w.EndArray().EndObject();
    alert.details_json = std::move(details);
    ++stats.correlation_alerts;
    batch.alerts.push_back(std::move(alert));
  }
  correlation_out.clear();
}

void Detector::Impl::ProcessRecord(const SpoolReadBuffer::Record& spooled, DetectionBatch& batch) {
  auto envelope = DecodeEnvelope(spooled.payload);
  if (!envelope) {
    ++stats.bad_records;
    bad_counter->Increment();
    return;
  }
  // The parser reads up to RECORD_PADDING bytes past a record (simdjson), so the event is
  // copied into a padded buffer that is reused from record to record.
  padded.assign(envelope->payload);
  padded.append(event::RECORD_PADDING, '\0');
  event::Record record;
  record.data = std::string_view(padded.data(), envelope->payload.size());
  record.number = spooled.seq;
  switch (envelope->kind) {
    case PayloadKind::kJson: record.format = event::RecordFormat::kJson; break;
    case PayloadKind::kSyslog: record.format = event::RecordFormat::kSyslog; break;
    case PayloadKind::kLine: {
      size_t first = envelope->payload.find_first_not_of(" \t");
      record.format = first != std::string_view::npos && envelope->payload[first] == '{'
                          ? event::RecordFormat::kJson
                          : event::RecordFormat::kSyslog;
      break;
    }
  }
  auto found = logsources.find(envelope->logsource);
  if (found == logsources.end()) {
    std::optional<event::Logsource> declared;
    if (auto parsed = event::ParseLogsource(envelope->logsource); parsed && !envelope->logsource.empty())
      declared = std::move(*parsed);
    found = logsources.emplace(std::string(envelope->logsource), std::move(declared)).first;
  }
  scan::Engine& engine = *loaded.engine;
  const sigma::RuleSet& rules = engine.rules();
  std::string event_json;  // rendered once per record, when something fires
  // The event's time (else its arrival), found when something fires: most events fire nothing.
  int64_t event_time_ms = 0;
  bool time_known = false;
  std::optional<int64_t> received;  // the arrival, read once when first needed
  auto received_ms = [&] {
    if (!received) received = ParseIsoDateTimeMs(envelope->received_at).value_or(0);
    return *received;
  };
  auto event_time = [&](const event::Event& event) {
    if (!time_known) {
      event_time_ms =
          correlate::EventTimeMs(event, loaded.time_field, received_ms()).value_or(received_ms());
      time_known = true;
    }
    return event_time_ms;
  };
  auto base_alert = [&](const event::Event& event, std::string_view kind) {
    DetectedAlert alert;
    alert.kind = std::string(kind);
    alert.org_id = std::string(envelope->org_id);
    alert.event_time_ms = event_time(event);
    alert.detected_at_ms = NowMs();
    alert.logsource = std::string(envelope->logsource);
    alert.sensor_id = std::string(envelope->sensor_id);
    alert.spool_seq = spooled.seq;
    if (event_json.empty()) event_json = engine.EventJson(record);
    return alert;
  };
  std::string seq_text = std::to_string(spooled.seq);
  // With folding, the id that every repeat in the event's window shares (DetectorOptions).
  const int64_t fold_window = options.fold_window_ms;
  auto repeats_id = [&](const event::Event& event, std::string_view kind, std::string_view a,
                        std::string_view b) {
    const int64_t time = event_time(event);
    int64_t window = time / fold_window;
    if (time % fold_window != 0 && time < 0) --window;  // floor, for times before 1970
    // The window's start orders these ids as spool positions order the others.
    const auto position = static_cast<uint64_t>(std::max<int64_t>(window, 0) * fold_window);
    char window_text[24];
    const auto written = fmt::format_to_n(window_text, sizeof window_text, "{}", window);
    return OrderedStableIdBytes(position, {"repeats", kind, envelope->org_id, engine.Host(event),
                                           std::string_view(window_text, written.size), a, b});
  };
  // With folding: the id of the alert a detection makes, or nullopt when it repeats an alert of
  // the batch. A repeat is recorded as only what the store counts, and offered to campaigns as
  // that alert (`offer(index)`), since an attacker's later attempts still join campaigns.
  auto fold = [&](const event::Event& event, std::string_view kind, std::string_view a,
                  std::string_view b, auto&& offer) -> std::optional<std::string> {
    const StableIdBytes id = repeats_id(event, kind, a, b);
    // A new alert goes at the end of the batch's alerts.
    auto [first, fresh] =
        batch_alert_ids.try_emplace(id, static_cast<uint32_t>(batch.alerts.size()));
    if (fresh) return id.ToString();
    batch.repeats.push_back({first->second, spooled.seq, event_time(event)});
    offer(first->second);
    return std::nullopt;
  };
  // Writes a new alert's details as `yagura scan` writes the alert (`record` says what fired and
  // which fields), adds it to the batch and offers it to campaigns.
  auto add_alert = [&](DetectedAlert alert, scan::AlertRecord record, const event::Event& event,
                       auto&& offer) {
    record.time = event.time;
    record.record = spooled.seq;
    record.logsource = &event.logsource;
    record.event_json = event_json;
    record.host = engine.Host(event);
    if (geo) {
      scan::LocateAddresses(event, loaded.address_fields, *geo, geo_tags);
      record.geo = &geo_tags;
    }
    scan::AlertWriter::FormatJson(record, alert.details_json);
    batch.alerts.push_back(std::move(alert));
    offer(static_cast<uint32_t>(batch.alerts.size() - 1));
  };

  auto on_alert = [&](const sigma::Rule& rule, const event::Event& event, const event::Record&,
                      const std::string&) {
    auto rule_index = static_cast<uint32_t>(&rule - rules.rules.data());
    correlate::CorrelationEngine& correlation = *loaded.correlation;
    if (correlation.Referenced(rule_index)) {
      correlate::RuleMatch match;
      match.rule_index = rule_index;
      match.event_time_ms = event_time(event);
      match.org_id = envelope->org_id;
      match.sequence = spooled.seq;
      match.event = &event;
      correlation.Observe(match, correlation_out);
    }
    // Suppressed by a `generate: false` correlation, or left out (exclude_rules) and kept
    // only because a correlation references it.
    if (correlation.Suppressed(rule_index) || !engine.Selected(rule_index)) return;
    const std::string& rule_key = rule.info.alert_key();
    ++stats.alerts;
    auto offer = [&](uint32_t alert) {
      key_values.clear();
      loaded.key_fields->Extract(event, key_values);
      for (const auto& [field, value] : key_values) {
        OfferToCampaigns({"rule", rule_key, value, rule.info.title}, envelope->org_id, alert,
                         event_time(event), batch);
      }
    };
    std::optional<std::string> id =
        fold_window > 0 ? fold(event, "rule", rule_key, "", offer)
                        : OrderedStableId(spooled.seq, {"rule", seq_text, rule_key});
    if (!id) return;  // a repeat
    DetectedAlert alert = base_alert(event, "rule");
    alert.id = std::move(*id);
    alert.rule_id = rule.info.id.empty() ? rule.info.title : rule.info.id;
    alert.title = rule.info.title;
    alert.level = std::string(sigma::LevelName(rule.info.level));
    alert.tags = rule.info.tags;
    for (const auto& tag : rule.info.tags) {
      if (auto technique = attack::TechniqueOfTag(tag)) alert.techniques.push_back(*technique);
    }
    matched_fields.clear();
    engine.AppendMatchedFields(rule, event, matched_fields);
    matched_values.clear();
    engine.AppendFieldValues(event, matched_fields, matched_values);
    scan::AlertRecord record_out;
    record_out.rule = &rule;
    record_out.matched = &matched_fields;
    record_out.details = &matched_values;
    add_alert(std::move(alert), record_out, event, offer);
  };

  scan::IndicatorAlertInfo info;
  std::vector<std::string_view> indicator_fields;
  auto on_indicator = [&](const intel::IndicatorIndex& index, const intel::IntelMatch& match,
                          const std::vector<intel::IntelHit>& hits, const event::Event& event,
                          const event::Record&, const std::string&) {
    const intel::FeedSnapshot& snapshot = *index.snapshots()[match.snapshot];
    intel::IndicatorView view = snapshot.View(match.indicator);
    sigma::Level level = scan::IndicatorLevel(view.confidence);
    if (options.scan.min_level && level < *options.scan.min_level) return;
    const auto& compact = snapshot.indicator(match.indicator);
    ++stats.alerts;
    std::string key_id = fmt::format("{}/{}", view.feed, view.id);
    auto offer = [&](uint32_t alert) {
      OfferToCampaigns(
          {"indicator", key_id, "", view.name.empty() ? std::string_view(view.id) : view.name},
          envelope->org_id, alert, event_time(event), batch);
    };
    std::optional<std::string> id =
        fold_window > 0 ? fold(event, "indicator", view.feed, view.id, offer)
                        : OrderedStableId(spooled.seq, {"indicator", seq_text, view.feed, view.id});
    if (!id) return;  // a repeat
    DetectedAlert alert = base_alert(event, "indicator");
    alert.id = std::move(*id);
    alert.rule_id = std::string(view.id);
    alert.title = view.name.empty() ? std::string(view.pattern) : std::string(view.name);
    alert.level = std::string(sigma::LevelName(level));
    if (view.labels) alert.tags = *view.labels;
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
      std::string_view field = engine.FieldName(hits[h].field);
      info.found.emplace_back(field, hits[h].value);
      if (std::find(indicator_fields.begin(), indicator_fields.end(), field) == indicator_fields.end())
        indicator_fields.push_back(field);
    }
    scan::AlertRecord record_out;
    record_out.indicator = &info;
    record_out.matched = &indicator_fields;
    add_alert(std::move(alert), record_out, event, offer);
  };

  std::string error;
  // The callbacks go through one-pointer trampolines: a std::function holds those without
  // allocating, where the lambdas themselves (many captures) would cost two allocations a record.
  const auto* alert_callback = &on_alert;
  const auto* indicator_callback = &on_indicator;
  scan::Engine::OnAlert on_alert_function = [alert_callback](const sigma::Rule& rule,
                                                             const event::Event& event,
                                                             const event::Record& r,
                                                             const std::string& path) {
    (*alert_callback)(rule, event, r, path);
  };
  scan::Engine::OnIndicatorAlert on_indicator_function =
      [indicator_callback](const intel::IndicatorIndex& index, const intel::IntelMatch& match,
                           const std::vector<intel::IntelHit>& hits, const event::Event& event,
                           const event::Record& r, const std::string& path) {
        (*indicator_callback)(index, match, hits, event, r, path);
      };
  const event::Event* parsed = nullptr;
  if (!engine.DetectRecord(record, found->second, on_alert_function, on_indicator_function,
                           error, &parsed)) {
    ++stats.bad_records;
    bad_counter->Increment();
    // Kept all the same: an investigator may want what a sensor sent that did not parse.
    if (options.event_store != nullptr) {
      options.event_store->Add(spooled.seq, received_ms(), received_ms(), {}, envelope->org_id,
                               spooled.payload);
    }
    return;
  }
  if (options.event_store != nullptr) {
    options.event_store->Add(spooled.seq, event_time(*parsed), received_ms(), engine.Host(*parsed),
                             envelope->org_id, spooled.payload);
  }
  EmitCorrelations(*envelope, spooled.seq, batch);
  if (time_known) {
    loaded.correlation->Advance(event_time_ms, correlation_out);
    EmitCorrelations(*envelope, spooled.seq, batch);
  }
}

Result<uint64_t> Detector::Impl::ProcessBatch() {
  // A batch the sink refused is offered again as it is, before anything new is read: the
  // correlation state has already seen its records, so they must not be processed twice.
  if (!pending) {
    if (auto read = queue->Read(next_seq, options.batch_records, spool_read); !read)
      return tl::unexpected(read.error());
    const auto& records = spool_read.records;
    if (records.empty()) return 0;
    pending.emplace();
    pending->first_seq = next_seq;
    batch_alert_ids.clear();
    for (const auto& record : records) ProcessRecord(record, *pending);
    pending->next_seq = records.back().seq + 1;
  }
  if (!(pending->alerts.empty() && pending->campaigns.empty())) {
    auto stored = sink(*pending);
    if (!stored) {
      ++stats.sink_failures;
      sink_failure_counter->Increment();
      return Fail("storing alerts failed (the batch will be retried): " + stored.error().message);
    }
  }
  uint64_t processed = pending->next_seq - pending->first_seq;
  next_seq = pending->next_seq;
  pending.reset();
  stats.next_seq = next_seq;
  stats.progress_at_ms = NowMs();
  stats.records += processed;
  records_counter->Increment(static_cast<double>(processed));
  lag_gauge->Set(static_cast<double>(queue->next_seq() - next_seq));
  state_dirty = true;
  // Not after every batch that alerted: on an attack stream that is every batch, and the state
  // file's fdatasync and rename were a tenth of the detector's time. A replay after a crash
  // stores nothing twice, so saving less often only makes it longer.
  if (SteadyMs() - last_state_save_ms >= options.state_interval_ms) {
    if (auto saved = SaveState(); !saved) return tl::unexpected(saved.error());
  }
  return processed;
}

void Detector::Impl::Run() {
  while (!stopping.load()) {
    if (handover_pending.load()) TakeHandover();
    if (options.reload_interval_ms > 0 &&
        SteadyMs() - last_reload_check_ms >= options.reload_interval_ms) {
      last_reload_check_ms = SteadyMs();
      // Reload failures are reported inside and leave the running rules in place. While a
      // reload by hand prepares its set, this check waits for the next round.
      std::unique_lock reload(reload_mutex, std::try_to_lock);
      if (reload.owns_lock()) (void)Detector::ReloadIfChangedImpl(*this);
    }
    if (!pending && !queue->WaitFor(next_seq, std::chrono::milliseconds(200))) {
      // Nothing it can read: it has kept up as of now. Otherwise, after a quiet hour, the
      // first event would find an hour-old progress time and read as a stall.
      stats.progress_at_ms = NowMs();
      if (state_dirty && SteadyMs() - last_state_save_ms >= options.state_interval_ms) {
        if (auto saved = SaveState(); !saved)
          std::fprintf(stderr, "yagura detector: %s\n", saved.error().message.c_str());
      }
      continue;
    }
    auto processed = ProcessBatch();
    if (!processed) {
      std::fprintf(stderr, "yagura detector: %s\n", processed.error().message.c_str());
      std::this_thread::sleep_for(std::chrono::milliseconds(options.retry_delay_ms));
    }
  }
  if (state_dirty) {
    if (auto saved = SaveState(); !saved)
      std::fprintf(stderr, "yagura detector: %s\n", saved.error().message.c_str());
  }
}

Detector::Detector(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Detector::~Detector() { Stop(); }

Result<std::unique_ptr<Detector>> Detector::Create(DetectorOptions options, IngestQueue& queue,
                                                   DetectionSink sink, Metrics& metrics) {
  if (options.state_path.empty()) return Fail("the detector needs a state file path");
  auto impl = std::make_unique<Impl>(std::move(options));
  impl->queue = &queue;
  impl->sink = std::move(sink);
  impl->metrics = &metrics;
  impl->records_counter = &metrics.GetCounter("yagura_detector_events_total",
                                              "Spool records the detector has processed");
  impl->bad_counter = &metrics.GetCounter(
      "yagura_detector_bad_events_total", "Spool records that were not a readable event");
  impl->sink_failure_counter = &metrics.GetCounter(
      "yagura_detector_sink_failures_total", "Batches of alerts the store refused (retried)");
  impl->lag_gauge = &metrics.GetGauge("yagura_detector_lag_events",
                                      "Spooled events not yet processed by the detector");
  if (!impl->options.scan.geo_ip_paths.empty()) {
    auto geo = intel::GeoIpDatabases::Open(impl->options.scan.geo_ip_paths);
    if (!geo) return tl::unexpected(geo.error());
    impl->geo.emplace(std::move(*geo));
  }
  auto loaded = impl->Load();
  if (!loaded) return tl::unexpected(loaded.error());
  impl->loaded = std::move(*loaded);
  impl->Publish();
  impl->rules_fingerprint = RulesFingerprint(impl->options.scan);
  impl->feeds_fingerprint = FilesFingerprint(impl->options.scan.intel_paths);
  impl->geo_fingerprint = FilesFingerprint(impl->options.scan.geo_ip_paths);
  if (auto restored = impl->RestoreState(); !restored) return tl::unexpected(restored.error());
  impl->stats.next_seq = impl->next_seq;
  impl->stats.progress_at_ms = NowMs();
  impl->last_state_save_ms = SteadyMs();
  impl->last_reload_check_ms = SteadyMs();
  return std::unique_ptr<Detector>(new Detector(std::move(impl)));
}

void Detector::Start() {
  if (impl_->thread.joinable()) return;
  impl_->stopping = false;
  impl_->running = true;
  impl_->thread = std::thread([this] { impl_->Run(); });
}

void Detector::Stop() {
  if (!impl_ || !impl_->thread.joinable()) return;
  impl_->stopping = true;
  impl_->thread.join();
  {
    // A reload waiting for the thread installs its set itself (see Reload()).
    std::lock_guard lock(impl_->handover_mutex);
    impl_->running = false;
  }
  impl_->handover_done.notify_all();
}

Result<uint64_t> Detector::RunUntilIdle() {
  uint64_t total = 0;
  for (;;) {
    auto processed = impl_->ProcessBatch();
    if (!processed) return processed;
    if (*processed == 0) break;
    total += *processed;
  }
  if (impl_->state_dirty) {
    if (auto saved = impl_->SaveState(); !saved) return tl::unexpected(saved.error());
  }
  return total;
}

Result<bool> Detector::ReloadIfChanged() {
  std::lock_guard reload(impl_->reload_mutex);
  return ReloadIfChangedImpl(*impl_);
}

Result<std::shared_ptr<const RuleCatalog>> Detector::Reload(const ReloadProgress& progress) {
  Impl& impl = *impl_;
  std::lock_guard reload(impl.reload_mutex);
  // Fingerprints first: a file changed while loading is seen as changed by the next check.
  std::string rules_now = RulesFingerprint(impl.options.scan);
  std::string feeds_now = FilesFingerprint(impl.options.scan.intel_paths);
  if (progress.on_step) progress.on_step("reading indicator feeds and rule files");
  auto loaded = impl.Load(&progress);
  if (!loaded) {
    impl.RecordFailure(loaded.error().ToString());
    std::fprintf(stderr, "yagura detector: rules not reloaded, the running ones stay: %s\n",
                 loaded.error().message.c_str());
    return tl::unexpected(loaded.error());
  }
  if (progress.on_step) progress.on_step("switching detection to the new rules");
  std::shared_ptr<const RuleCatalog> catalog = loaded->catalog;
  {
    std::unique_lock lock(impl.handover_mutex);
    if (impl.running) {
      impl.handover.emplace(Impl::Handover{std::move(*loaded), std::move(rules_now),
                                           std::move(feeds_now)});
      impl.handover_pending = true;
      impl.handover_done.wait(lock, [&] { return !impl.handover || !impl.running; });
      if (impl.handover) {
        // The thread stopped first: nothing runs the engine now, install it here.
        auto handover = std::move(*impl.handover);
        impl.handover.reset();
        impl.handover_pending = false;
        impl.Install(std::move(handover.loaded), std::move(handover.rules_fingerprint),
                     std::move(handover.feeds_fingerprint));
      }
    } else {
      impl.Install(std::move(*loaded), std::move(rules_now), std::move(feeds_now));
    }
  }
  return catalog;
}

std::shared_ptr<const RuleCatalog> Detector::Catalog() const {
  std::lock_guard lock(impl_->published_mutex);
  return impl_->catalog;
}

std::optional<ReloadFailure> Detector::LastReloadFailure() const {
  std::lock_guard lock(impl_->published_mutex);
  return impl_->last_failure;
}

std::shared_ptr<const intel::IndicatorIndex> Detector::Indicators() const {
  std::shared_ptr<scan::Engine> engine;
  {
    std::lock_guard lock(impl_->published_mutex);
    engine = impl_->published_engine;
  }
  return engine ? engine->indicators().Current() : nullptr;
}

Result<bool> Detector::ReloadIfChangedImpl(Impl& impl) {
  std::string rules_now = RulesFingerprint(impl.options.scan);
  std::string feeds_now = FilesFingerprint(impl.options.scan.intel_paths);
  bool changed = false;
  if (rules_now != impl.rules_fingerprint) {
    impl.rules_fingerprint = rules_now;
    auto loaded = impl.Load();
    if (!loaded) {
      impl.RecordFailure(loaded.error().ToString());
      std::fprintf(stderr, "yagura detector: rules not reloaded, the running ones stay: %s\n",
                   loaded.error().message.c_str());
      return tl::unexpected(loaded.error());
    }
    impl.Install(std::move(*loaded), std::move(rules_now), std::move(feeds_now));
    changed = true;
  } else if (feeds_now != impl.feeds_fingerprint) {
    impl.feeds_fingerprint = feeds_now;
    Diagnostics& diagnostics = *impl.loaded.diagnostics;
    for (const auto& outcome :
         impl.loaded.engine->indicators().Reload(intel::ExpandFeedPaths(impl.options.scan.intel_paths),
                                                 diagnostics)) {
      if (!outcome.error.empty()) {
        ++impl.stats.reload_failures;
        impl.metrics->GetCounter("yagura_detector_reloads_total", RELOADS_HELP, {{"result", "failed"}}).Increment();
        std::fprintf(stderr, "yagura detector: feed %s kept its previous version: %s\n",
                     outcome.path.c_str(), outcome.error.c_str());
      }
    }
    ++impl.stats.reloads;
    impl.metrics->GetCounter("yagura_detector_reloads_total", RELOADS_HELP, {{"result", "ok"}}).Increment();
    changed = true;
  }
  if (impl.geo) {
    std::string geo_now = FilesFingerprint(impl.options.scan.geo_ip_paths);
    if (geo_now != impl.geo_fingerprint) {
      impl.geo_fingerprint = std::move(geo_now);
      auto reopened = intel::GeoIpDatabases::Open(impl.options.scan.geo_ip_paths);
      const bool ok = reopened.has_value();
      if (ok) {
        impl.geo.emplace(std::move(*reopened));
        ++impl.stats.reloads;
        changed = true;
      } else {
        ++impl.stats.reload_failures;
        std::fprintf(stderr, "yagura detector: GeoIP databases kept as they were: %s\n",
                     reopened.error().message.c_str());
      }
      impl.metrics
          ->GetCounter("yagura_detector_reloads_total", RELOADS_HELP,
                       {{"result", ok ? "ok" : "failed"}})
          .Increment();
    }
  }
  return changed;
}

const DetectorStats& Detector::stats() const { return impl_->stats; }

}  // namespace yagura::pipeline

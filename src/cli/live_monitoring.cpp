// LiveMonitoring (see live_monitoring.hpp).
#include "cli/live_monitoring.hpp"

#include <cstdio>
#include <filesystem>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "cli/commands.hpp"
#include "cli/placeholders.hpp"
#include "core/diagnostics.hpp"
#include "core/time.hpp"
#include "hub/alerts.hpp"
#include "hub/identity.hpp"
#include "intel/store.hpp"
#include "intel/taxii_client.hpp"
#include "pipeline/detector.hpp"
#include "pipeline/file_tailer.hpp"
#include "pipeline/sender_map.hpp"
#include "pipeline/syslog_server.hpp"

namespace yagura::cli {
namespace {

// Organisation ids by id and by name, for the configuration's `org:` values.
class OrganisationNames {
 public:
  explicit OrganisationNames(store::Database& database) {
    hub::OrganizationQuery query;
    query.limit = 500;
    for (;;) {
      auto page = hub::ListOrganizations(database, query);
      for (const auto& org : page) {
        ids_[org.id] = org.id;
        ids_[org.name] = org.id;
        if (org.type == hub::OrgType::kCentre && centre_.empty()) centre_ = org.id;
      }
      if (page.size() < static_cast<size_t>(query.limit)) break;
      query.after = std::make_pair(page.back().created_at, page.back().id);
    }
  }
  Result<std::string> Resolve(const std::string& id_or_name) const {
    auto found = ids_.find(id_or_name);
    if (found == ids_.end()) {
      return Fail(fmt::format("no organisation with the id or name \"{}\"", id_or_name));
    }
    return found->second;
  }
  [[nodiscard]] const std::string& centre() const { return centre_; }

 private:
  std::map<std::string, std::string> ids_;
  std::string centre_;
};

// One round over the store's TAXII sources; failures are logged and retried next round
// (the bookmark of a failed source does not move). Each source is pulled under the store's
// lock (PullStoredTaxiiSource), as a pull asked for from the console is, so the two never
// interleave.
void PollTaxiiOnce(const std::string& intel_store) {
  auto sources = intel::TaxiiSources::Load(intel_store);
  if (!sources) {
    std::fprintf(stderr, "yagura serve: TAXII sources: %s\n", sources.error().ToString().c_str());
    return;
  }
  Diagnostics diagnostics;
  for (const auto& source : sources->sources()) {
    auto pulled = intel::PullStoredTaxiiSource(intel_store, source.name, diagnostics);
    if (!pulled) std::fprintf(stderr, "yagura serve: %s\n", pulled.error().ToString().c_str());
  }
}

}  // namespace

struct LiveMonitoring::Impl {
  // Pulls partner TAXII collections into the service's indicator store on a schedule; the
  // detector notices the changed feeds and reloads them.
  std::thread taxii_poller;
  std::mutex taxii_mutex;
  std::condition_variable taxii_wake;
  bool stopping = false;
  std::unique_ptr<pipeline::SyslogServer> syslog;
  std::unique_ptr<pipeline::FileTailer> tailer;
  std::unique_ptr<pipeline::Detector> detector;
  std::vector<std::string> described;
};

LiveMonitoring::LiveMonitoring(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
LiveMonitoring::~LiveMonitoring() { Stop(); }

Result<std::unique_ptr<LiveMonitoring>> LiveMonitoring::Start(const ServeConfig& config,
                                                              store::Database& database,
                                                              pipeline::IngestQueue& queue,
                                                              Metrics& metrics,
                                                              pipeline::EventStore* events) {
  auto impl = std::make_unique<Impl>();
  OrganisationNames organisations(database);

  if (config.detection) {
    pipeline::DetectorOptions options;
    options.scan.rule_paths = config.rules;
    if (options.scan.rule_paths.empty()) options.scan.rule_paths.push_back(DataDir() + "/rules");
    options.scan.exclude_rule_ids = config.exclude_rules;
    options.scan.exclude_rule_list_files = config.exclude_rule_lists;
    options.scan.level_override_files = config.level_overrides;
    options.scan.intel_paths = config.intel;
    options.scan.geo_ip_paths = config.geo_ip;
    // The service's own store (DATA/intel: partner TAXII collections, imported feeds).
    std::string intel_store = (std::filesystem::path(config.data_dir) / "intel").string();
    if (intel::IntelStore::IsStore(intel_store)) options.scan.intel_paths.push_back(intel_store);
    options.scan.cache_dir = DefaultCacheDir();
    auto placeholders = ResolvePlaceholders(config.placeholders);
    if (!placeholders) return tl::unexpected(placeholders.error());
    options.scan.placeholders = std::move(*placeholders);
    options.time_field = config.time_field;
    options.correlation.allowed_lateness_ms = config.allowed_lateness_ms;
    options.campaigns.min_organisations = config.campaign_min_organisations;
    options.campaigns.window_ms = config.campaign_window_ms;
    options.fold_window_ms = config.alert_fold_window_ms;
    options.centre_org_id = organisations.centre();
    options.spool_retention_ms = config.spool_retention_ms;
    options.event_store = events;
    options.state_path = (std::filesystem::path(config.data_dir) / "detector.state").string();
    Counter& stored = metrics.GetCounter("yagura_alerts_stored_total",
                                         "Alerts the detector stored for the first time");
    Counter& repeated = metrics.GetCounter(
        "yagura_alert_repeats_total",
        "Detections counted on an alert as repeats instead of stored as alerts of their own");
    auto sink = [&database, &stored,
                 &repeated](const pipeline::DetectionBatch& batch) -> Result<void> {
      size_t repeats = 0;
      auto inserted =
          hub::InsertDetections(database, batch.alerts, batch.repeats, batch.campaigns,
                                NowMs(), &repeats);
      if (!inserted) return tl::unexpected(inserted.error());
      stored.Increment(static_cast<double>(*inserted));
      repeated.Increment(static_cast<double>(repeats));
      return {};
    };
    auto detector = pipeline::Detector::Create(std::move(options), queue, sink, metrics);
    if (!detector) return tl::unexpected(detector.error());
    impl->detector = std::move(*detector);
    impl->detector->Start();
    impl->described.push_back(fmt::format("detection on, resuming at spool record {}",
                                          impl->detector->stats().next_seq.load()));
  } else {
    impl->described.push_back("detection off (events are spooled, not analysed)");
  }

  // Sources start after the detector, so nothing they accept waits on a detector that then
  // fails to start.
  if (!config.syslog_udp.empty() || !config.syslog_tcp.empty() || !config.syslog_tls.empty()) {
    std::vector<pipeline::SyslogSender> senders;
    for (const auto& source : config.syslog_senders) {
      pipeline::SyslogSender sender;
      sender.match = source.match_or_path;
      sender.name = source.name.empty() ? source.match_or_path : source.name;
      auto org = organisations.Resolve(source.org);
      if (!org) return Fail("syslog_senders: " + org.error().message);
      sender.org_id = *org;
      auto logsource = pipeline::NormaliseConfiguredLogsource(source.logsource);
      if (!logsource) return Fail(fmt::format("syslog_senders ({}): {}", sender.name, logsource.error().message));
      sender.logsource = *logsource;
      senders.push_back(std::move(sender));
    }
    if (senders.empty()) {
      return Fail("syslog listeners are configured but no syslog_senders: every message would "
                  "be refused (map sender addresses or certificates to organisations)");
    }
    auto map = pipeline::SenderMap::Build(std::move(senders));
    if (!map) return Fail("syslog_senders: " + map.error().message);
    pipeline::SyslogServerOptions options;
    options.udp = config.syslog_udp;
    options.tcp = config.syslog_tcp;
    options.tls = config.syslog_tls;
    options.tls_cert_file = config.syslog_tls_certificate;
    options.tls_key_file = config.syslog_tls_private_key;
    options.tls_client_ca_file = config.syslog_tls_client_ca;
    auto server = pipeline::SyslogServer::Start(std::move(options), *map, queue, metrics);
    if (!server) return tl::unexpected(server.error());
    impl->syslog = std::move(*server);
    for (const auto& endpoint : impl->syslog->endpoints())
      impl->described.push_back("syslog " + endpoint);
  }
  if (!config.tail_files.empty()) {
    std::vector<pipeline::TailedFile> files;
    for (const auto& source : config.tail_files) {
      pipeline::TailedFile file;
      file.path = source.match_or_path;
      file.name = source.name.empty() ? source.match_or_path : source.name;
      auto org = organisations.Resolve(source.org);
      if (!org) return Fail("tail: " + org.error().message);
      file.org_id = *org;
      auto logsource = pipeline::NormaliseConfiguredLogsource(source.logsource);
      if (!logsource) return Fail(fmt::format("tail ({}): {}", file.path, logsource.error().message));
      file.logsource = *logsource;
      files.push_back(std::move(file));
    }
    auto state_dir = (std::filesystem::path(config.data_dir) / "tail").string();
    auto tailer = pipeline::FileTailer::Start(std::move(files), state_dir, queue, metrics);
    if (!tailer) return tl::unexpected(tailer.error());
    impl->tailer = std::move(*tailer);
    for (const auto& source : config.tail_files)
      impl->described.push_back("tailing " + source.match_or_path);
  }
  std::string intel_store = (std::filesystem::path(config.data_dir) / "intel").string();
  if (config.taxii_poll_interval_ms > 0 && intel::IntelStore::IsStore(intel_store)) {
    auto sources = intel::TaxiiSources::Load(intel_store);
    if (sources && !sources->sources().empty()) {
      impl->described.push_back(fmt::format("pulling {} TAXII collections every {} s into {}",
                                            sources->sources().size(),
                                            config.taxii_poll_interval_ms / 1000, intel_store));
      Impl* state = impl.get();
      int64_t interval_ms = config.taxii_poll_interval_ms;
      impl->taxii_poller = std::thread([state, intel_store, interval_ms] {
        std::unique_lock lock(state->taxii_mutex);
        do {
          lock.unlock();
          PollTaxiiOnce(intel_store);
          lock.lock();
        } while (!state->taxii_wake.wait_for(lock, std::chrono::milliseconds(interval_ms),
                                             [state] { return state->stopping; }));
      });
    }
  }
  return std::unique_ptr<LiveMonitoring>(new LiveMonitoring(std::move(impl)));
}

void LiveMonitoring::Stop() {
  if (!impl_) return;
  {
    std::lock_guard lock(impl_->taxii_mutex);
    impl_->stopping = true;
  }
  impl_->taxii_wake.notify_all();
  if (impl_->taxii_poller.joinable()) impl_->taxii_poller.join();
  if (impl_->syslog) impl_->syslog->Stop();
  if (impl_->tailer) impl_->tailer->Stop();
  if (impl_->detector) impl_->detector->Stop();
}

std::vector<std::string> LiveMonitoring::Describe() const { return impl_->described; }

pipeline::Detector* LiveMonitoring::detector() const { return impl_->detector.get(); }

}  // namespace yagura::cli

// `yagura serve` and `yagura admin`.
//
// serve: opens the store (SQLite in the data directory, or PostgreSQL), applies pending
// migrations, registers the API and runs the HTTP(S) server until SIGTERM or SIGINT, then
// drains in-flight requests before exiting. Signals are blocked in every thread and taken by
// one waiting thread, so no handler runs in signal context.
#include <fmt/format.h>
#include <signal.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <thread>

#include "cli/commands.hpp"
#include "cli/live_monitoring.hpp"
#include "core/metrics.hpp"
#include "core/time.hpp"
#include "http/api.hpp"
#include "http/console_control.hpp"
#include "http/jobs.hpp"
#include "http/server.hpp"
#include "http/static_files.hpp"
#include "hub/attack.hpp"
#include "hub/audit_log.hpp"
#include "hub/identity.hpp"
#include "hub/schema.hpp"
#include "hub/sensors.hpp"
#include "pipeline/detector.hpp"
#include "pipeline/event_store.hpp"
#include "pipeline/ingest_queue.hpp"
#include "pipeline/spool.hpp"

namespace yagura::cli {
namespace {

constexpr const char* DEFAULT_CONFIG_NAME = "yagura.yml";

Result<std::unique_ptr<store::Database>> OpenStore(const ServeConfig& config, bool create_dir) {
  std::error_code ec;
  if (config.database.empty()) {
    if (create_dir) std::filesystem::create_directories(config.data_dir, ec);
    if (!std::filesystem::is_directory(config.data_dir)) {
      return Fail(fmt::format("the data directory {} does not exist (run yagura admin init "
                              "--data {} first)",
                              config.data_dir, config.data_dir));
    }
  }
  int pool = config.database_pool > 0 ? config.database_pool : config.server.threads * 2 + 2;
  auto database = store::Database::Open(config.DatabaseTarget(), pool);
  if (!database) return tl::unexpected(database.error());
  auto applied = hub::MigrateSchema(**database);
  if (!applied) return tl::unexpected(applied.error());
  for (int version : *applied) {
    std::fprintf(stderr, "yagura: applied migration %d to %s\n", version,
                 (*database)->description().c_str());
  }
  return std::move(*database);
}

// Creates the centre and its first administrator when missing; prints how to log in.
bool Bootstrap(store::Database& database, bool quiet_when_existing) {
  const char* user_env = std::getenv("YAGURA_ADMIN_USER");
  const char* password_env = std::getenv("YAGURA_ADMIN_PASSWORD");
  std::string username = user_env && *user_env ? user_env : "admin";
  std::string password = password_env ? password_env : "";
  auto result = hub::BootstrapCentre(database, username, password);
  if (!result) {
    std::fprintf(stderr, "yagura: %s\n", result.error().message.c_str());
    return false;
  }
  if (result->created) {
    std::printf("Created the centre's organisation and the administrator \"%s\".\n",
                result->username.c_str());
    if (!result->generated_password.empty()) {
      std::printf("Generated password (shown only now): %s\n", result->generated_password.c_str());
    }
  } else if (!quiet_when_existing) {
    std::printf("The centre already has an administrator (\"%s\"); nothing changed.\n",
                result->username.c_str());
  }
  std::fflush(stdout);
  return true;
}

}  // namespace

Result<ServeConfig> LoadServeConfig(const std::string& config_file, const std::string& data_dir,
                                    const std::string& database) {
  ServeConfig config;
  if (const char* data_env = std::getenv("YAGURA_DATA"); data_env && *data_env) {
    config.data_dir = data_env;
  }
  if (!data_dir.empty()) config.data_dir = data_dir;
  std::string file = config_file;
  if (file.empty()) {
    if (const char* env = std::getenv("YAGURA_CONFIG"); env && *env) file = env;
  }
  if (file.empty()) {
    auto candidate = std::filesystem::path(config.data_dir) / DEFAULT_CONFIG_NAME;
    if (std::filesystem::exists(candidate)) file = candidate.string();
  }
  if (!file.empty()) {
    auto applied = ApplyConfigFile(config, file);
    if (!applied) return tl::unexpected(applied.error());
  }
  auto applied = ApplyEnvironment(config);
  if (!applied) return tl::unexpected(applied.error());
  if (!data_dir.empty()) config.data_dir = data_dir;
  if (!database.empty()) config.database = database;
  return config;
}

ServeCommand::ServeCommand(CLI::App& app) {
  command_ = app.add_subcommand("serve", "Run the centre's service: JSON API and audit log");
  command_->add_option("--config", config_file_, "YAML configuration file (default DATA/yagura.yml)");
  command_->add_option("--data", data_dir_, "Data directory (SQLite store, configuration)");
  command_->add_option("--listen", listen_, "Address and port, e.g. 127.0.0.1:8080 or [::1]:8443");
  command_->add_option("--database", database_,
                       "PostgreSQL URL (postgresql://...) instead of the embedded SQLite store");
  command_->add_option("--tls-cert", tls_certificate_, "PEM certificate: serve HTTPS");
  command_->add_option("--tls-key", tls_private_key_, "PEM private key of --tls-cert");
  command_->add_option("--threads", threads_, "I/O and request threads (default: cores)");
  command_->add_flag("--init", init_,
                     "Create the centre and its first administrator if the store has none");
  command_->add_option("--syslog-udp", syslog_udp_, "Receive syslog over UDP on ADDR:PORT (repeatable)");
  command_->add_option("--syslog-tcp", syslog_tcp_,
                       "Receive syslog over TCP (RFC 6587 framing) on ADDR:PORT (repeatable)");
  command_->add_option("--syslog-tls", syslog_tls_,
                       "Receive syslog over TLS (RFC 5425) on ADDR:PORT (repeatable)");
  command_->add_option("--rules", rules_,
                       "Rule file or directory for live detection (repeatable; default: Yagura's own rules/)");
  command_->add_option("--intel", intel_, "Indicator feed file or directory (repeatable)");
  command_->add_option("--geo-ip", geo_ip_,
                       "MaxMind DB file or folder (GeoLite2 City or Country, ASN): alerts say "
                       "the country, city and network of their event's addresses (repeatable)");
  command_->add_option("--time-field", time_field_,
                       "Take event time from this field (correlation windows)");
  command_->add_option("--allowed-lateness", allowed_lateness_,
                       "How late an event may arrive and still count in correlation windows (default 60s)");
  command_->add_option("--alert-fold-window", alert_fold_window_,
                       "Count an alert's repeats (same rule or indicator, organisation and host) "
                       "within this window of event time on it (default 1h; 0: every event its own "
                       "alert)");
  command_->add_flag("--no-detection", no_detection_,
                     "Spool ingested events without analysing them");
  command_->add_option("--web-root", web_root_,
                       "Directory of the built console (default: web/ next to the yagura binary; "
                       "none: API only)");
}

int ServeCommand::Run() {
  auto loaded = LoadServeConfig(config_file_, data_dir_, database_);
  if (!loaded) {
    std::fprintf(stderr, "yagura serve: %s\n", loaded.error().ToString().c_str());
    return EXIT_USAGE;
  }
  ServeConfig config = std::move(*loaded);
  if (!listen_.empty()) config.server.listen = listen_;
  if (!tls_certificate_.empty()) config.server.tls_certificate = tls_certificate_;
  if (!tls_private_key_.empty()) config.server.tls_private_key = tls_private_key_;
  if (threads_ > 0) config.server.threads = threads_;
  // Flags add to the configuration's lists; a flag given replaces the list it names.
  if (!syslog_udp_.empty()) config.syslog_udp = syslog_udp_;
  if (!syslog_tcp_.empty()) config.syslog_tcp = syslog_tcp_;
  if (!syslog_tls_.empty()) config.syslog_tls = syslog_tls_;
  if (!rules_.empty()) config.rules = rules_;
  if (!intel_.empty()) config.intel = intel_;
  if (!geo_ip_.empty()) config.geo_ip = geo_ip_;
  if (!time_field_.empty()) config.time_field = time_field_;
  if (!allowed_lateness_.empty()) {
    auto applied = ApplySetting(config, "allowed_lateness", allowed_lateness_);
    if (!applied) {
      std::fprintf(stderr, "yagura serve: --allowed-lateness: %s\n", applied.error().message.c_str());
      return EXIT_USAGE;
    }
  }
  if (!alert_fold_window_.empty()) {
    auto applied = ApplySetting(config, "alert_fold_window", alert_fold_window_);
    if (!applied) {
      std::fprintf(stderr, "yagura serve: --alert-fold-window: %s\n",
                   applied.error().message.c_str());
      return EXIT_USAGE;
    }
  }
  if (no_detection_) config.detection = false;
  if (!web_root_.empty()) config.web_root = web_root_;
  if (config.server.threads <= 0) {
    config.server.threads = static_cast<int>(std::max(2u, std::thread::hardware_concurrency()));
  }
  bool tls = !config.server.tls_certificate.empty() || !config.server.tls_private_key.empty();
  if (tls && (config.server.tls_certificate.empty() || config.server.tls_private_key.empty())) {
    std::fprintf(stderr, "yagura serve: HTTPS needs both --tls-cert and --tls-key\n");
    return EXIT_USAGE;
  }
  config.service.secure_cookies = tls;
  // The rules live detection runs, for the ATT&CK coverage route.
  config.service.rule_paths = config.rules;
  if (config.service.rule_paths.empty()) config.service.rule_paths.push_back(DataDir() + "/rules");
  config.service.excluded_rule_ids = config.exclude_rules;
  config.service.excluded_rule_list_files = config.exclude_rule_lists;
  // Exports (POST /api/v1/exports) are written here and deleted after 24 hours.
  config.service.export_dir = (std::filesystem::path(config.data_dir) / "exports").string();

  // Block the signals before any thread starts so every thread inherits the mask and only the
  // waiting thread below receives them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto database = OpenStore(config, init_);
  if (!database) {
    std::fprintf(stderr, "yagura serve: %s\n", database.error().ToString().c_str());
    return EXIT_PARTIAL;
  }
  if (init_ && !Bootstrap(**database, true)) return EXIT_PARTIAL;

  // The ingest spool: events sensors send are durable here before they are acknowledged.
  pipeline::SpoolOptions spool_options;
  spool_options.dir = config.spool_dir.empty()
                          ? (std::filesystem::path(config.data_dir) / "spool").string()
                          : config.spool_dir;
  spool_options.max_total_bytes = config.spool_max_bytes;
  spool_options.fsync = config.spool_fsync == "never"      ? pipeline::FsyncPolicy::kNever
                        : config.spool_fsync == "interval" ? pipeline::FsyncPolicy::kInterval
                                                           : pipeline::FsyncPolicy::kEveryAppend;
  auto spool = pipeline::Spool::Open(spool_options);
  if (!spool) {
    std::fprintf(stderr, "yagura serve: %s\n", spool.error().ToString().c_str());
    return EXIT_PARTIAL;
  }
  if (!(*spool)->recovery().truncated_at.empty()) {
    std::fprintf(stderr, "yagura serve: the ingest spool's torn tail was cut (%s, %llu bytes)\n",
                 (*spool)->recovery().truncated_at.c_str(),
                 static_cast<unsigned long long>((*spool)->recovery().truncated_bytes));
  }
  if ((*spool)->recovery().lost_to != 0) {
    std::fprintf(stderr,
                 "yagura serve: spool records %llu to %llu were analysed but are no longer on the "
                 "disk (lost with the machine: spool_fsync is not \"always\"); the spool goes on "
                 "from %llu\n",
                 static_cast<unsigned long long>((*spool)->recovery().lost_from),
                 static_cast<unsigned long long>((*spool)->recovery().lost_to),
                 static_cast<unsigned long long>((*spool)->recovery().lost_to + 1));
  }
  pipeline::IngestQueue ingest(**spool);

  Metrics& metrics = Metrics::Global();
  hub::AuditLog audit(**database, config.audit_reads == "durable"
                                      ? hub::ReadAuditMode::kDurable
                                      : hub::ReadAuditMode::kAsynchronous);
  http::ApiContext context{**database, audit, metrics, config.service};
  context.ingest = &ingest;
  // Long operations started from the API; stopped (and joined) before what they use goes away.
  http::JobRegistry jobs;
  context.jobs = &jobs;
  http::Router router;
  http::RegisterApi(router, context);
  // The analyst console: every path no API route matches is offered to its static files.
  std::string web_root = ResolveWebRoot(config);
  if (!web_root.empty()) {
    auto console = http::StaticFiles::Open(web_root);
    if (!console) {
      std::fprintf(stderr, "yagura serve: %s\n", console.error().ToString().c_str());
      return EXIT_USAGE;
    }
    web_root = (*console)->root();
    http::MountConsole(router, std::move(*console));
  }

  // The raw events detection processes, kept for investigations (none without detection).
  std::unique_ptr<pipeline::EventStore> events;
  const std::string events_dir = config.event_store_dir.empty()
                                     ? (std::filesystem::path(config.data_dir) / "events").string()
                                     : config.event_store_dir;
  if (config.detection && config.event_retention_ms != 0) {
    pipeline::EventStoreOptions event_options;
    event_options.dir = events_dir;
    event_options.retention_ms = config.event_retention_ms;
    event_options.max_total_bytes = config.event_store_max_bytes;
    auto opened = pipeline::EventStore::Open(event_options);
    if (!opened) {
      std::fprintf(stderr, "yagura serve: %s\n", opened.error().ToString().c_str());
      return EXIT_PARTIAL;
    }
    events = std::move(*opened);
    const pipeline::EventStoreStats stats = events->Stats();
    if (!stats.truncated_at.empty()) {
      std::fprintf(stderr, "yagura serve: the event store's torn tail was cut (%s, %llu bytes)\n",
                   stats.truncated_at.c_str(),
                   static_cast<unsigned long long>(stats.truncated_bytes));
    }
    context.events = events.get();
  }

  auto live = LiveMonitoring::Start(config, **database, ingest, metrics, events.get());
  if (!live) {
    std::fprintf(stderr, "yagura serve: %s\n", live.error().ToString().c_str());
    return EXIT_PARTIAL;
  }
  // The console's rules and intelligence pages: the running detector and the indicator store.
  std::unique_ptr<http::DetectionControl> detection_control;
  pipeline::Detector* detector = (*live)->detector();
  if (detector != nullptr) {
    detection_control = http::MakeDetectionControl(*detector);
    context.detection = detection_control.get();
  }
  std::unique_ptr<http::IntelControl> intel_control = http::MakeIntelControl(
      (std::filesystem::path(config.data_dir) / "intel").string(),
      detector == nullptr ? std::function<std::shared_ptr<const intel::IndicatorIndex>()>()
                          : [detector] { return detector->Indicators(); });
  context.intel = intel_control.get();

  // The security headers are the server's own (http::SecurityHeaders); API answers are never
  // cached, the console's files set their own Cache-Control.
  config.server.default_headers = {{"Cache-Control", "no-store"}};
  if (tls) {
    config.server.default_headers.emplace_back("Strict-Transport-Security", "max-age=31536000");
  }
  Histogram& latency = metrics.GetHistogram("yagura_http_request_duration_seconds",
                                            "Time to answer an HTTP request");
  config.server.on_request = [&metrics, &latency](const http::Request& request, int status,
                                                  double seconds) {
    latency.Observe(seconds);
    metrics
        .GetCounter("yagura_http_requests_total", "HTTP requests answered, by method and status",
                    {{"method", request.method}, {"status", std::to_string(status)}})
        .Increment();
  };

  http::Server server(config.server, router);
  auto port = server.Start();
  if (!port) {
    std::fprintf(stderr, "yagura serve: %s\n", port.error().ToString().c_str());
    return EXIT_PARTIAL;
  }
  std::string host = config.server.listen.substr(0, config.server.listen.rfind(':'));
  std::string url = fmt::format("{}://{}:{}", tls ? "https" : "http", host, *port);
  std::printf("Yagura is serving %s on %s\n", (*database)->description().c_str(), url.c_str());
  std::printf("API: %s/api/v1/ (OpenAPI: %s/api/v1/openapi.json); log in with POST "
              "%s/api/v1/auth/login {\"username\":..,\"password\":..}\n",
              url.c_str(), url.c_str(), url.c_str());
  if (web_root.empty()) {
    std::printf("Console: %s (API only)\n", config.web_root == "none" ? "off" : "not built");
  } else {
    std::printf("Console: %s/ (from %s)\n", url.c_str(), web_root.c_str());
  }
  for (const auto& line : (*live)->Describe()) std::printf("Live monitoring: %s\n", line.c_str());
  if (events) {
    const pipeline::EventStoreStats stats = events->Stats();
    std::printf("Events: kept for investigations in %s for %s (%llu held)\n", events_dir.c_str(),
                (config.event_retention_ms % 3'600'000 == 0
                     ? fmt::format("{}h", config.event_retention_ms / 3'600'000)
                     : fmt::format("{}s", config.event_retention_ms / 1000))
                    .c_str(),
                static_cast<unsigned long long>(stats.events));
  } else {
    std::printf("Events: not kept (%s)\n", config.detection ? "event_retention is 0" : "detection is off");
  }
  std::fflush(stdout);

  // Housekeeping: expired sessions and stale login-throttle rows are purged every five minutes
  // (login itself only clears the logging-in user's own sessions).
  std::mutex maintenance_mutex;
  std::condition_variable maintenance_wake;
  bool stopping = false;
  std::thread maintenance([&] {
    hub::IdentitySettings identity;
    identity.session_ttl_ms = config.service.session_ttl_ms;
    identity.session_idle_ms = config.service.session_idle_ms;
    identity.login_max_failures = config.service.login_max_failures;
    identity.login_max_failures_per_address = config.service.login_max_failures_per_address;
    identity.login_window_ms = config.service.login_window_ms;
    identity.login_lockout_ms = config.service.login_lockout_ms;
    std::unique_lock lock(maintenance_mutex);
    while (!maintenance_wake.wait_for(lock, std::chrono::minutes(5), [&] { return stopping; })) {
      lock.unlock();
      try {
        hub::PurgeExpired(**database, identity, NowMs());
      } catch (const std::exception& error) {
        std::fprintf(stderr, "yagura serve: purging expired sessions failed: %s\n", error.what());
      }
      lock.lock();
    }
  });

  std::thread signal_waiter([&server, &signals] {
    int received = 0;
    sigwait(&signals, &received);
    std::fprintf(stderr, "yagura serve: %s received, finishing in-flight requests\n",
                 received == SIGTERM ? "SIGTERM" : "SIGINT");
    server.Stop(10);
  });
  server.Run();
  // Run() also returns when the server stops for another reason; wake the waiter then.
  pthread_kill(signal_waiter.native_handle(), SIGTERM);
  signal_waiter.join();
  {
    std::lock_guard lock(maintenance_mutex);
    stopping = true;
  }
  maintenance_wake.notify_all();
  maintenance.join();
  jobs.Stop();
  (*live)->Stop();
  ingest.Close();
  std::fprintf(stderr, "yagura serve: stopped\n");
  return EXIT_OK;
}

AdminCommand::AdminCommand(CLI::App& app) {
  command_ = app.add_subcommand("admin", "Bootstrap and maintain the service's store");
  command_->require_subcommand(1);
  auto add_common = [this](CLI::App* sub) {
    sub->add_option("--config", config_file_, "YAML configuration file");
    sub->add_option("--data", data_dir_, "Data directory");
    sub->add_option("--database", database_, "PostgreSQL URL instead of the embedded store");
  };
  init_ = command_->add_subcommand(
      "init", "Create the centre's organisation and first administrator (YAGURA_ADMIN_USER, "
              "YAGURA_ADMIN_PASSWORD)");
  add_common(init_);
  verify_audit_ = command_->add_subcommand(
      "verify-audit", "Check the audit log's hash chain; report the first altered, removed or "
                      "reordered entry");
  add_common(verify_audit_);
  verify_audit_->add_flag("--json", json_, "Report as JSON");
  migrate_ = command_->add_subcommand("migrate", "Apply pending database migrations");
  add_common(migrate_);
  sensor_token_ = command_->add_subcommand(
      "sensor-token", "Create a sensor token for POST /api/v1/ingest (printed once)");
  add_common(sensor_token_);
  sensor_token_->add_option("--org", sensor_org_, "Organisation id or exact name")->required();
  sensor_token_->add_option("--logsource", sensor_logsource_,
                            "What the sensor sends, e.g. product=windows,service=sysmon")
      ->required();
  sensor_token_->add_option("--name", sensor_name_, "A name for the sensor");
  attack_import_ = command_->add_subcommand(
      "attack-import", "Import MITRE ATT&CK STIX bundles (enterprise-attack.json, "
                       "ics-attack.json); each replaces its domain's catalogue");
  add_common(attack_import_);
  attack_import_->add_option("FILE", attack_files_, "STIX 2.1 bundle files")->required();
  attack_import_->add_flag("--json", json_, "Report as JSON");
}

int AdminCommand::Run() {
  auto loaded = LoadServeConfig(config_file_, data_dir_, database_);
  if (!loaded) {
    std::fprintf(stderr, "yagura admin: %s\n", loaded.error().ToString().c_str());
    return EXIT_USAGE;
  }
  ServeConfig config = std::move(*loaded);
  config.server.threads = 1;
  auto database = OpenStore(config, init_->parsed());
  if (!database) {
    std::fprintf(stderr, "yagura admin: %s\n", database.error().ToString().c_str());
    return EXIT_PARTIAL;
  }
  if (init_->parsed()) return Bootstrap(**database, false) ? EXIT_OK : EXIT_PARTIAL;
  if (sensor_token_->parsed()) {
    std::string org_id = sensor_org_;
    {
      store::PooledConnection connection = (*database)->Acquire();
      store::Rows rows = connection->Query(
          "SELECT id FROM organizations WHERE id = $1 OR name = $1", {store::Param{sensor_org_}});
      if (rows.size() != 1) {
        std::fprintf(stderr, "yagura admin sensor-token: no organisation \"%s\" (give its id or "
                             "exact name)\n", sensor_org_.c_str());
        return EXIT_USAGE;
      }
      org_id = rows.rows[0][0].text();
    }
    auto created = hub::CreateSensorToken(**database, hub::SystemPrincipal(), org_id,
                                          sensor_name_, sensor_logsource_, NowMs());
    if (!created) {
      std::fprintf(stderr, "yagura admin sensor-token: %s\n", created.error().message.c_str());
      return EXIT_USAGE;
    }
    std::printf("Sensor %s of organisation %s (%s)\n", created->sensor.id.c_str(), org_id.c_str(),
                created->sensor.logsource.c_str());
    std::printf("Token (shown only now): %s\n", created->secret.c_str());
    return EXIT_OK;
  }
  if (attack_import_->parsed()) {
    JsonValue reports = JsonValue::MakeArray();
    for (const auto& file : attack_files_) {
      auto report = hub::ImportAttackFile(**database, file, NowMs());
      if (!report) {
        std::fprintf(stderr, "yagura admin attack-import: %s\n", report.error().message.c_str());
        return EXIT_PARTIAL;
      }
      JsonValue counts = JsonValue::MakeObject();
      std::string line;
      for (const auto& [type, count] : report->counts) {
        counts.Set(type, count);
        line += fmt::format("{}{} {}", line.empty() ? "" : ", ", count, type);
      }
      if (json_) {
        JsonValue item = JsonValue::MakeObject();
        item.Set("file", file);
        item.Set("domain", report->domain);
        item.Set("name", report->name);
        item.Set("version", report->version);
        item.Set("counts", std::move(counts));
        item.Set("revoked", report->revoked);
        item.Set("deprecated", report->deprecated);
        reports.Push(std::move(item));
      } else {
        std::printf("%s: %s %s (%s): %s; %lld revoked, %lld deprecated\n", file.c_str(),
                    report->name.c_str(), report->version.c_str(), report->domain.c_str(),
                    line.c_str(), static_cast<long long>(report->revoked),
                    static_cast<long long>(report->deprecated));
      }
    }
    if (json_) std::printf("%s\n", reports.Serialize().c_str());
    return EXIT_OK;
  }
  if (migrate_->parsed()) {
    std::printf("Schema version %d on %s\n", (*database)->SchemaVersion(),
                (*database)->description().c_str());
    return EXIT_OK;
  }
  // verify-audit
  hub::AuditVerification verification;
  {
    store::PooledConnection connection = (*database)->Acquire();
    verification = hub::AuditLog::Verify(*connection);
  }
  if (json_) {
    JsonValue report = JsonValue::MakeObject();
    report.Set("intact", verification.intact);
    report.Set("entries", verification.entries);
    if (!verification.intact) {
      report.Set("first_bad_seq", verification.first_bad_seq);
      report.Set("problem", verification.problem);
    }
    std::printf("%s\n", report.Serialize().c_str());
  } else if (verification.intact) {
    std::printf("Audit log intact: %lld entries verified.\n",
                static_cast<long long>(verification.entries));
  } else {
    std::printf("Audit log BROKEN at entry %lld: %s\n",
                static_cast<long long>(verification.first_bad_seq), verification.problem.c_str());
  }
  return verification.intact ? EXIT_OK : EXIT_PARTIAL;
}

}  // namespace yagura::cli

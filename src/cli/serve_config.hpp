// Configuration of `yagura serve` and `yagura admin`: defaults, then the configuration file,
// then environment variables, then command-line flags — each later source overriding the
// earlier ones. docs/serve.md lists every key.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "http/api.hpp"
#include "http/server.hpp"

namespace yagura::cli {

struct ServeConfig {
  std::string data_dir = "data";
  std::string database;  // empty: SQLite at <data_dir>/yagura.db
  http::ServerOptions server;
  http::ServiceSettings service;
  int database_pool = 0;  // 0: threads * 2
  // "async": reads' audit entries are committed by a background writer within milliseconds;
  // "durable": each read waits for its entry's commit (slower; docs/decisions.md).
  std::string audit_reads = "async";
  // The ingest spool (docs/serve.md): empty dir means <data_dir>/spool.
  std::string spool_dir;
  uint64_t spool_max_bytes = 8ull << 30;
  // The built console (docs/serve.md, "The console"): empty means <dir of yagura>/web when it
  // holds index.html, "none" serves the API only.
  std::string web_root;
  std::string spool_fsync = "always";  // always | interval | never
  int64_t spool_retention_ms = 0;       // keep processed events this long (0: until processed)
  // The event store (pipeline/event_store.hpp): raw events kept for investigations.
  // Retention 0 keeps none; empty dir means <data_dir>/events.
  std::string event_store_dir;
  int64_t event_retention_ms = 30LL * 24 * 3600 * 1000;
  uint64_t event_store_max_bytes = 16ull << 30;

  // Streaming detection over the spool (docs/serve.md, "Live monitoring").
  bool detection = true;
  std::vector<std::string> rules;         // empty: Yagura's own rules/
  // Rule tuning (scan/rule_tuning.hpp), read again by each reload: rules left out by id or
  // name, rule list files of rules left out, and level override files.
  std::vector<std::string> exclude_rules;
  std::vector<std::string> exclude_rule_lists;
  std::vector<std::string> level_overrides;
  std::vector<std::string> intel;         // indicator feeds (files, directories)
  std::vector<std::string> geo_ip;        // MaxMind DB files or folders: alerts' addresses located
  std::string placeholders;               // |expand values; empty: config/placeholders.yml
  std::string time_field;                 // event time from this field
  int64_t allowed_lateness_ms = 60'000;
  size_t campaign_min_organisations = 3;
  int64_t campaign_window_ms = 24 * 3600 * 1000LL;
  // Repeats of an alert within this much event time are counted on it (0: never).
  int64_t alert_fold_window_ms = 3600 * 1000LL;
  // Partner TAXII collections (`yagura intel --store DATA/intel taxii add`) are pulled this
  // often into DATA/intel, whose feeds detection reads; 0: never.
  int64_t taxii_poll_interval_ms = 5 * 60 * 1000;

  // Syslog listeners and their senders; tailed files.
  std::vector<std::string> syslog_udp, syslog_tcp, syslog_tls;  // "ADDR:PORT"
  std::string syslog_tls_certificate, syslog_tls_private_key, syslog_tls_client_ca;
  struct Source {  // a syslog sender or a tailed file
    std::string match_or_path;  // sender: address, CIDR, cert-sha256:..., cert-cn:...; file path
    std::string org;            // organisation id or name
    std::string logsource;      // "product=linux,service=sshd"
    std::string name;
  };
  std::vector<Source> syslog_senders;
  std::vector<Source> tail_files;

  // The database target to open.
  [[nodiscard]] std::string DatabaseTarget() const;
};

// Reads a YAML configuration file (keys in docs/serve.md); unknown keys are errors so a
// misspelt setting is never silently ignored.
// Sets one scalar key as the configuration file would (flags reuse the checks).
Result<void> ApplySetting(ServeConfig& config, const std::string& key, const std::string& value);
Result<void> ApplyConfigFile(ServeConfig& config, const std::string& path);
// YAGURA_LISTEN, YAGURA_DATABASE, YAGURA_DATA, YAGURA_TLS_CERT, YAGURA_TLS_KEY,
// YAGURA_THREADS, YAGURA_PUBLIC_URL, YAGURA_SESSION_TTL, YAGURA_SESSION_IDLE,
// YAGURA_MAX_BODY_BYTES, YAGURA_MAX_ATTACHMENT_BYTES, YAGURA_AUDIT_READS, YAGURA_WEB_ROOT.
Result<void> ApplyEnvironment(ServeConfig& config);

// The console directory to serve: web_root when set, else the build's output next to the
// executable (<dir of yagura>/web) when it holds index.html; empty for API only ("none", or no
// console built).
std::string ResolveWebRoot(const ServeConfig& config);

}  // namespace yagura::cli

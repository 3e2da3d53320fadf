// Configuration of `yagura serve` and `yagura admin`: defaults, then the configuration file,
// then environment variables, then command-line flags — each later source overriding the
// earlier ones. docs/serve.md lists every key.
#pragma once

#include <cstdint>
#include <string>

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
  std::string spool_fsync = "always";  // always | interval | never

  // The database target to open.
  [[nodiscard]] std::string DatabaseTarget() const;
};

// Reads a YAML configuration file (keys in docs/serve.md); unknown keys are errors so a
// misspelt setting is never silently ignored.
Result<void> ApplyConfigFile(ServeConfig& config, const std::string& path);
// YAGURA_LISTEN, YAGURA_DATABASE, YAGURA_DATA, YAGURA_TLS_CERT, YAGURA_TLS_KEY,
// YAGURA_THREADS, YAGURA_PUBLIC_URL, YAGURA_SESSION_TTL, YAGURA_SESSION_IDLE,
// YAGURA_MAX_BODY_BYTES, YAGURA_MAX_ATTACHMENT_BYTES, YAGURA_AUDIT_READS.
Result<void> ApplyEnvironment(ServeConfig& config);

}  // namespace yagura::cli

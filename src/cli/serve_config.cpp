// Configuration sources of the service (see serve_config.hpp).
#include "cli/serve_config.hpp"

#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

namespace yagura::cli {
namespace {

Result<int64_t> ParseInteger(std::string_view text, std::string_view name, int64_t min,
                             int64_t max) {
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < min || value > max) {
    return Fail(fmt::format("{} must be an integer from {} to {}, not \"{}\"", name, min, max,
                            text));
  }
  return value;
}

// Durations: "30m", "8h", "45s", "1500ms" or plain milliseconds.
Result<int64_t> ParseDurationMs(std::string_view text, std::string_view name) {
  int64_t unit = 1;
  std::string_view number = text;
  auto ends = [&](std::string_view suffix) {
    return number.size() > suffix.size() && number.substr(number.size() - suffix.size()) == suffix;
  };
  if (ends("ms")) number.remove_suffix(2);
  else if (ends("s")) { unit = 1000; number.remove_suffix(1); }
  else if (ends("m")) { unit = 60000; number.remove_suffix(1); }
  else if (ends("h")) { unit = 3600000; number.remove_suffix(1); }
  auto value = ParseInteger(number, name, 1, int64_t{1} << 40);
  if (!value) {
    return Fail(fmt::format("{} must be a duration such as 30m, 8h or 45s, not \"{}\"", name, text));
  }
  return *value * unit;
}

// A duration, or "0" for a feature switched off.
Result<int64_t> ParseDurationOrOffMs(std::string_view text, std::string_view name) {
  if (text == "0") return int64_t{0};
  return ParseDurationMs(text, name);
}

using Setter = std::function<Result<void>(ServeConfig&, const std::string&)>;

const std::map<std::string, Setter>& Setters() {
  static const std::map<std::string, Setter> setters = {
      {"listen", [](ServeConfig& c, const std::string& v) -> Result<void> { c.server.listen = v; return {}; }},
      {"data", [](ServeConfig& c, const std::string& v) -> Result<void> { c.data_dir = v; return {}; }},
      {"web_root", [](ServeConfig& c, const std::string& v) -> Result<void> { c.web_root = v; return {}; }},
      {"database", [](ServeConfig& c, const std::string& v) -> Result<void> { c.database = v; return {}; }},
      {"tls_certificate", [](ServeConfig& c, const std::string& v) -> Result<void> { c.server.tls_certificate = v; return {}; }},
      {"tls_private_key", [](ServeConfig& c, const std::string& v) -> Result<void> { c.server.tls_private_key = v; return {}; }},
      {"public_url", [](ServeConfig& c, const std::string& v) -> Result<void> { c.service.public_url = v; return {}; }},
      {"spool_dir", [](ServeConfig& c, const std::string& v) -> Result<void> { c.spool_dir = v; return {}; }},
      {"spool_max_bytes", [](ServeConfig& c, const std::string& v) -> Result<void> {
         auto n = ParseInteger(v, "spool_max_bytes", 1 << 20, int64_t{1} << 50);
         if (!n) return tl::unexpected(n.error());
         c.spool_max_bytes = static_cast<uint64_t>(*n);
         return {};
       }},
      {"spool_fsync", [](ServeConfig& c, const std::string& v) -> Result<void> {
         if (v != "always" && v != "interval" && v != "never") {
           return Fail(fmt::format("spool_fsync must be always, interval or never, not \"{}\"", v));
         }
         c.spool_fsync = v;
         return {};
       }},
      {"spool_retention", [](ServeConfig& c, const std::string& v) -> Result<void> {
         auto ms = ParseDurationOrOffMs(v, "spool_retention");
         if (!ms) return tl::unexpected(ms.error());
         c.spool_retention_ms = *ms;
         return {};
       }},
      {"event_store_dir", [](ServeConfig& c, const std::string& v) -> Result<void> { c.event_store_dir = v; return {}; }},
      {"event_retention", [](ServeConfig& c, const std::string& v) -> Result<void> {
         auto ms = ParseDurationOrOffMs(v, "event_retention");
         if (!ms) return tl::unexpected(ms.error());
         c.event_retention_ms = *ms;
         return {};
       }},
      {"event_store_max_bytes", [](ServeConfig& c, const std::string& v) -> Result<void> {
         auto n = ParseInteger(v, "event_store_max_bytes", 1 << 20, int64_t{1} << 50);
         if (!n) return tl::unexpected(n.error());
         c.event_store_max_bytes = static_cast<uint64_t>(*n);
         return {};
       }},
      {"audit_reads", [](ServeConfig& c, const std::string& v) -> Result<void> {
         if (v != "async" && v != "durable") {
           return Fail(fmt::format("audit_reads must be async or durable, not \"{}\"", v));
         }
         c.audit_reads = v;
         return {};
       }},
      {"threads", [](ServeConfig& c, const std::string& v) -> Result<void> {
         auto n = ParseInteger(v, "threads", 1, 256);
         if (!n) return tl::unexpected(n.error());
         c.server.threads = static_cast<int>(*n);
         return {};
       }},
      {"database_pool", [](ServeConfig& c, const std::string& v) -> Result<void> {
         auto n = ParseInteger(v, "database_pool", 1, 1024);
         if (!n) return tl::unexpected(n.error());
         c.database_pool = static_cast<int>(*n);
         return {};
       }},
      {"max_body_bytes", [](ServeConfig& c, const std::string& v) -> Result<void> {
         auto n = ParseInteger(v, "max_body_bytes", 1024, int64_t{1} << 32);
         if (!n) return tl::unexpected(n.error());
         c.server.max_body_bytes = static_cast<size_t>(*n);
         return {};
       }},
      {"max_attachment_bytes", [](ServeConfig& c, const std::string& v) -> Result<void> {
         auto n = ParseInteger(v, "max_attachment_bytes", 1, int64_t{1} << 32);
         if (!n) return tl::unexpected(n.error());
         c.service.max_attachment_bytes = static_cast<size_t>(*n);
         return {};
       }},
      {"session_ttl", [](ServeConfig& c, const std::string& v) -> Result<void> {
         auto ms = ParseDurationMs(v, "session_ttl");
         if (!ms) return tl::unexpected(ms.error());
         c.service.session_ttl_ms = *ms;
         return {};
       }},
      {"detection_stall", [](ServeConfig& c, const std::string& v) -> Result<void> {
         auto ms = ParseDurationMs(v, "detection_stall");
         if (!ms) return tl::unexpected(ms.error());
         c.service.detection_stall_ms = *ms;
         return {};
       }},
      {"session_idle", [](ServeConfig& c, const std::string& v) -> Result<void> {
         auto ms = ParseDurationMs(v, "session_idle");
         if (!ms) return tl::unexpected(ms.error());
         c.service.session_idle_ms = *ms;
         return {};
       }},
      {"login_max_failures", [](ServeConfig& c, const std::string& v) -> Result<void> {
         auto n = ParseInteger(v, "login_max_failures", 1, 1000);
         if (!n) return tl::unexpected(n.error());
         c.service.login_max_failures = static_cast<int>(*n);
         return {};
       }},
      {"login_max_failures_per_address", [](ServeConfig& c, const std::string& v) -> Result<void> {
         auto n = ParseInteger(v, "login_max_failures_per_address", 1, 100000);
         if (!n) return tl::unexpected(n.error());
         c.service.login_max_failures_per_address = static_cast<int>(*n);
         return {};
       }},
      {"login_lockout", [](ServeConfig& c, const std::string& v) -> Result<void> {
         auto ms = ParseDurationMs(v, "login_lockout");
         if (!ms) return tl::unexpected(ms.error());
         c.service.login_lockout_ms = *ms;
         return {};
       }},
      {"login_window", [](ServeConfig& c, const std::string& v) -> Result<void> {
         auto ms = ParseDurationMs(v, "login_window");
         if (!ms) return tl::unexpected(ms.error());
         c.service.login_window_ms = *ms;
         return {};
       }},
      {"detection", [](ServeConfig& c, const std::string& v) -> Result<void> {
         if (v != "true" && v != "false" && v != "on" && v != "off") {
           return Fail(fmt::format("detection must be true or false, not \"{}\"", v));
         }
         c.detection = v == "true" || v == "on";
         return {};
       }},
      {"rules", [](ServeConfig& c, const std::string& v) -> Result<void> { c.rules.push_back(v); return {}; }},
      {"intel", [](ServeConfig& c, const std::string& v) -> Result<void> { c.intel.push_back(v); return {}; }},
      {"geo_ip", [](ServeConfig& c, const std::string& v) -> Result<void> { c.geo_ip.push_back(v); return {}; }},
      {"exclude_rules", [](ServeConfig& c, const std::string& v) -> Result<void> { c.exclude_rules.push_back(v); return {}; }},
      {"exclude_rule_lists", [](ServeConfig& c, const std::string& v) -> Result<void> { c.exclude_rule_lists.push_back(v); return {}; }},
      {"level_overrides", [](ServeConfig& c, const std::string& v) -> Result<void> { c.level_overrides.push_back(v); return {}; }},
      {"placeholders", [](ServeConfig& c, const std::string& v) -> Result<void> { c.placeholders = v; return {}; }},
      {"time_field", [](ServeConfig& c, const std::string& v) -> Result<void> { c.time_field = v; return {}; }},
      {"allowed_lateness", [](ServeConfig& c, const std::string& v) -> Result<void> {
         auto ms = ParseDurationMs(v, "allowed_lateness");
         if (!ms) return tl::unexpected(ms.error());
         c.allowed_lateness_ms = *ms;
         return {};
       }},
      {"campaign_min_organisations", [](ServeConfig& c, const std::string& v) -> Result<void> {
         auto n = ParseInteger(v, "campaign_min_organisations", 2, 100000);
         if (!n) return tl::unexpected(n.error());
         c.campaign_min_organisations = static_cast<size_t>(*n);
         return {};
       }},
      {"campaign_window", [](ServeConfig& c, const std::string& v) -> Result<void> {
         auto ms = ParseDurationMs(v, "campaign_window");
         if (!ms) return tl::unexpected(ms.error());
         c.campaign_window_ms = *ms;
         return {};
       }},
      {"alert_fold_window", [](ServeConfig& c, const std::string& v) -> Result<void> {
         auto ms = ParseDurationOrOffMs(v, "alert_fold_window");
         if (!ms) return tl::unexpected(ms.error());
         c.alert_fold_window_ms = *ms;
         return {};
       }},
      {"taxii_poll_interval", [](ServeConfig& c, const std::string& v) -> Result<void> {
         auto ms = ParseDurationOrOffMs(v, "taxii_poll_interval");
         if (!ms) return tl::unexpected(ms.error());
         c.taxii_poll_interval_ms = *ms;
         return {};
       }},
      {"syslog_udp", [](ServeConfig& c, const std::string& v) -> Result<void> { c.syslog_udp.push_back(v); return {}; }},
      {"syslog_tcp", [](ServeConfig& c, const std::string& v) -> Result<void> { c.syslog_tcp.push_back(v); return {}; }},
      {"syslog_tls", [](ServeConfig& c, const std::string& v) -> Result<void> { c.syslog_tls.push_back(v); return {}; }},
      {"syslog_tls_certificate", [](ServeConfig& c, const std::string& v) -> Result<void> { c.syslog_tls_certificate = v; return {}; }},
      {"syslog_tls_private_key", [](ServeConfig& c, const std::string& v) -> Result<void> { c.syslog_tls_private_key = v; return {}; }},
      {"syslog_tls_client_ca", [](ServeConfig& c, const std::string& v) -> Result<void> { c.syslog_tls_client_ca = v; return {}; }},
  };
  return setters;
}

// Keys whose value is a list of whole values (a scalar is a list of one).
bool IsListKey(const std::string& key) {
  return key == "rules" || key == "intel" || key == "syslog_udp" || key == "syslog_tcp" ||
         key == "syslog_tls" || key == "exclude_rules" || key == "exclude_rule_lists" ||
         key == "level_overrides" || key == "geo_ip";
}

// syslog_senders / tail: lists of mappings.
Result<void> ApplySources(std::vector<ServeConfig::Source>& out, const std::string& key,
                          const YAML::Node& node) {
  if (!node.IsSequence()) return Fail(fmt::format("{} must be a list of mappings", key));
  const std::string first = key == "tail" ? "path" : "match";
  for (const auto& entry : node) {
    if (!entry.IsMap()) return Fail(fmt::format("each entry of {} must be a mapping", key));
    ServeConfig::Source source;
    for (const auto& field : entry) {
      std::string name = field.first.as<std::string>("");
      if (!field.second.IsScalar()) return Fail(fmt::format("{}.{} must be a single value", key, name));
      std::string value = field.second.as<std::string>();
      if (name == first) source.match_or_path = value;
      else if (name == "org") source.org = value;
      else if (name == "logsource") source.logsource = value;
      else if (name == "name") source.name = value;
      else return Fail(fmt::format("unknown key \"{}\" in {} (expected {}, org, logsource, name)", name, key, first));
    }
    if (source.match_or_path.empty() || source.org.empty() || source.logsource.empty()) {
      return Fail(fmt::format("each entry of {} needs {}, org and logsource", key, first));
    }
    out.push_back(std::move(source));
  }
  return {};
}

}  // namespace

std::string ServeConfig::DatabaseTarget() const {
  if (!database.empty()) return database;
  return (std::filesystem::path(data_dir) / "yagura.db").string();
}

Result<void> ApplySetting(ServeConfig& config, const std::string& key, const std::string& value) {
  auto setter = Setters().find(key);
  if (setter == Setters().end()) return Fail(fmt::format("unknown key \"{}\"", key));
  return setter->second(config, value);
}

Result<void> ApplyConfigFile(ServeConfig& config, const std::string& path) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::Exception& error) {
    return Fail(fmt::format("cannot read the configuration: {}", error.what()), path);
  }
  if (root.IsNull()) return {};
  if (!root.IsMap()) return Fail("the configuration must be a mapping of keys to values", path);
  for (const auto& item : root) {
    std::string key = item.first.as<std::string>("");
    if (key == "syslog_senders" || key == "tail") {
      auto applied = ApplySources(key == "tail" ? config.tail_files : config.syslog_senders, key,
                                  item.second);
      if (!applied) return Fail(applied.error().message, path);
      continue;
    }
    auto setter = Setters().find(key);
    if (setter == Setters().end()) {
      return Fail(fmt::format("unknown key \"{}\" (see docs/serve.md)", key), path);
    }
    if (IsListKey(key) && item.second.IsSequence()) {
      for (const auto& value : item.second) {
        if (!value.IsScalar()) return Fail(fmt::format("{} must be a list of values", key), path);
        auto applied = setter->second(config, value.as<std::string>());
        if (!applied) return Fail(applied.error().message, path);
      }
      continue;
    }
    if (!item.second.IsScalar()) return Fail(fmt::format("{} must be a single value", key), path);
    auto applied = setter->second(config, item.second.as<std::string>());
    if (!applied) return Fail(applied.error().message, path);
  }
  return {};
}

Result<void> ApplyEnvironment(ServeConfig& config) {
  static const std::pair<const char*, const char*> VARIABLES[] = {
      {"YAGURA_LISTEN", "listen"},
      {"YAGURA_DATA", "data"},
      {"YAGURA_DATABASE", "database"},
      {"YAGURA_TLS_CERT", "tls_certificate"},
      {"YAGURA_TLS_KEY", "tls_private_key"},
      {"YAGURA_PUBLIC_URL", "public_url"},
      {"YAGURA_THREADS", "threads"},
      {"YAGURA_SESSION_TTL", "session_ttl"},
      {"YAGURA_SESSION_IDLE", "session_idle"},
      {"YAGURA_MAX_BODY_BYTES", "max_body_bytes"},
      {"YAGURA_MAX_ATTACHMENT_BYTES", "max_attachment_bytes"},
      {"YAGURA_AUDIT_READS", "audit_reads"},
      {"YAGURA_WEB_ROOT", "web_root"},
  };
  for (const auto& [variable, key] : VARIABLES) {
    const char* value = std::getenv(variable);
    if (value == nullptr || *value == '\0') continue;
    auto applied = Setters().at(key)(config, value);
    if (!applied) return Fail(applied.error().message, variable);
  }
  return {};
}

std::string ResolveWebRoot(const ServeConfig& config) {
  if (config.web_root == "none") return {};
  if (!config.web_root.empty()) return config.web_root;
  std::error_code ec;
  std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return {};
  std::filesystem::path web = exe.parent_path() / "web";
  if (!std::filesystem::is_regular_file(web / "index.html", ec)) return {};
  return web.string();
}

}  // namespace yagura::cli

// The subcommands of `yagura`. Each registers its options on construction and runs after parsing.
// Exit status of every command: 0 done, 1 some input or rule could not be read, 2 usage error.
#pragma once

#include <CLI/App.hpp>
#include <optional>
#include <string>
#include <vector>

#include "cli/serve_config.hpp"
#include "scan/base64_payloads.hpp"
#include "scan/log_stats.hpp"
#include "scan/record_search.hpp"
#include "scan/scanner.hpp"

namespace yagura::cli {

inline constexpr int EXIT_OK = 0;
inline constexpr int EXIT_PARTIAL = 1;
inline constexpr int EXIT_USAGE = 2;

// Where the project's own rules and data live: $YAGURA_HOME, the folder above the executable's
// (an installed or built tree), or the source tree the binary was built from.
std::string DataDir();

class ScanCommand {
 public:
  explicit ScanCommand(CLI::App& app);
  [[nodiscard]] bool parsed() const { return command_->parsed(); }
  int Run();

 private:
  CLI::App* command_;
  scan::ScanOptions options_;
  std::string format_ = "auto";
  std::string logsource_;
  std::string unrecognised_ = "all";
  std::string output_format_ = "jsonl";
  std::string sort_ = "input";
  std::string min_level_;
  std::string pivot_min_level_;
  std::string attack_layer_score_;
  std::string html_report_lang_;
  std::string engine_ = "compiled";
  std::string placeholders_file_;
  std::string summary_json_;
  bool no_detect_ = false;
  bool quiet_ = false;
  bool no_progress_ = false;
  bool no_cache_ = false;
};

class IntelCommand {
 public:
  explicit IntelCommand(CLI::App& app);
  [[nodiscard]] bool parsed() const { return command_->parsed(); }
  int Run();

 private:
  int Import();
  int List();
  int Stats();
  void AddTaxiiCommands();  // taxii_command.cpp
  int Taxii();
  CLI::App* command_;
  CLI::App* import_;
  CLI::App* list_;
  CLI::App* stats_;
  CLI::App* taxii_ = nullptr;
  CLI::App* taxii_add_ = nullptr;
  CLI::App* taxii_pull_ = nullptr;
  CLI::App* taxii_list_ = nullptr;
  CLI::App* taxii_remove_ = nullptr;
  std::string taxii_name_, taxii_url_, taxii_token_, taxii_token_env_, taxii_user_,
      taxii_password_env_, taxii_ca_file_;
  std::vector<std::string> taxii_names_;
  int taxii_page_limit_ = 500;
  std::vector<std::string> paths_;
  std::string store_dir_;
  std::string name_;
  std::string format_ = "auto";
  std::string type_;
  std::string feed_;
  size_t limit_ = 0;
  bool include_inactive_ = false;
  bool json_ = false;
};

// `yagura rules check`: load and lint rules; `yagura rules test`: run their regression tests
// (scan/rule_tests.hpp).
class RulesCommand {
 public:
  explicit RulesCommand(CLI::App& app);
  [[nodiscard]] bool parsed() const { return command_->parsed(); }
  int Run();

 private:
  int Check();
  int Test();
  int List();
  CLI::App* command_;
  CLI::App* check_;
  CLI::App* test_;
  CLI::App* list_;
  // rules list
  scan::ScanOptions selection_;
  std::string min_level_;
  std::vector<std::string> paths_;
  std::string placeholders_file_;
  std::string attack_layer_path_;
  std::string attack_layer_score_;
  bool json_ = false;
  // rules test
  std::string root_;
  std::string cache_dir_;
  bool no_cache_ = false;
  bool with_json_ = false;
  bool exact_count_ = false;
  bool require_tests_ = false;
  bool verbose_ = false;
};

// `yagura serve`: the centre's service (HTTP API, audit log) on the embedded store or PostgreSQL.
class ServeCommand {
 public:
  explicit ServeCommand(CLI::App& app);
  [[nodiscard]] bool parsed() const { return command_->parsed(); }
  int Run();

 private:
  CLI::App* command_;
  std::string config_file_;
  std::string data_dir_;
  std::string listen_;
  std::string database_;
  std::string tls_certificate_;
  std::string tls_private_key_;
  int threads_ = 0;
  bool init_ = false;
  std::vector<std::string> syslog_udp_, syslog_tcp_, syslog_tls_;
  std::vector<std::string> rules_, intel_, geo_ip_;
  std::string time_field_;
  std::string allowed_lateness_;
  std::string alert_fold_window_;
  bool no_detection_ = false;
  std::string web_root_;
};

// The options that choose rules, as `scan` and `rules list` take them: --min-level (its name
// into `min_level`, for LevelNamed), --rule-id, --tag, --exclude-tag, --status, and the tuning
// of --exclude-rule, --rule-list, --exclude-rule-list and --level-override.
void AddRuleSelectionOptions(CLI::App* command, scan::ScanOptions& options, std::string& min_level);
// The level of that name (informational... critical), if it is one.
[[nodiscard]] std::optional<sigma::Level> LevelNamed(std::string_view name);

// --where,-w FIELD[|modifier...]=VALUE (repeatable) of a command that reads `what` ("events",
// "records") only where Sigma conditions hold (scan::EventConditions).
void AddWhereOption(CLI::App* command, std::vector<std::string>& conditions,
                    const std::string& what);
// Why the conditions would not compile, for a usage error before anything is read; empty
// when they do (or there are none).
[[nodiscard]] std::string WhereProblem(const std::vector<std::string>& conditions);

// --format NAME of a command that reads logs: auto or an input format (event::ParseInputFormat
// checks the name, so every spelling it takes is taken here too).
void AddInputFormatOption(CLI::App* command, std::string& format);

// What the commands that read logs (search, extract-base64) check before reading: the --format
// name, read into `format`, and a --from after --to. Empty when both are fine, else the usage
// error to print after the command's name.
[[nodiscard]] std::string ReadOptionsProblem(const std::string& format_name,
                                             event::InputFormat& format,
                                             const std::optional<int64_t>& from_ms,
                                             const std::optional<int64_t>& to_ms);

// The end of the one-line summary of search and extract-base64: records outside the time range
// or without a readable time, records skipped, inputs unreadable (each only when there are).
void AppendReadProblems(std::string& text, uint64_t outside_time_range, uint64_t without_time,
                        uint64_t records_skipped, uint64_t files_failed);

// --sort input|time and --sort-dir DIR of a command that writes `what` ("alerts", "records")
// in input order or as a timeline (scan::TimeSorter).
void AddSortOptions(CLI::App* command, std::string& sort, std::string& sort_dir,
                    const std::string& what);
// What is wrong with the two, for a usage error: a --sort-dir without --sort time, or one that
// is not a directory; empty when nothing is.
[[nodiscard]] std::string SortOptionsProblem(const std::string& sort, const std::string& sort_dir);

// `yagura dump FILE...`: every record as one JSON object per line (EVTX as evtx_dump).
// --from / --to of `scan` and `search`: an RFC 3339 time, or a date, which as an end bound
// means the end of that day.
[[nodiscard]] Result<int64_t> ParseRangeBound(std::string_view text, bool end);
// Adds such an option (`--from`, `--to`) to `command`, read into `bound`.
void AddRangeBoundOption(CLI::App* command, const std::string& name, bool end,
                         std::optional<int64_t>& bound, const std::string& help);

// `yagura search`: the records of log files that hold strings or regexes (scan/record_search.hpp).
class SearchCommand {
 public:
  explicit SearchCommand(CLI::App& app);
  [[nodiscard]] bool parsed() const { return command_->parsed(); }
  int Run();

 private:
  CLI::App* command_;
  scan::SearchOptions options_;
  std::string format_ = "auto";
  std::string output_;
  std::string sort_ = "input";
  std::string sort_dir_;
  bool count_ = false;
  bool quiet_ = false;
};

// `yagura stats`: what collected logs hold (scan/log_stats.hpp).
class StatsCommand {
 public:
  explicit StatsCommand(CLI::App& app);
  [[nodiscard]] bool parsed() const { return command_->parsed(); }
  int Run();

 private:
  CLI::App* command_;
  scan::StatsOptions options_;
  std::string format_ = "auto";
  std::string logsource_;
  size_t top_ = 10;
  bool json_ = false;
};

// `yagura extract-base64`: base64 payloads in log fields, decoded (scan/base64_payloads.hpp).
class ExtractBase64Command {
 public:
  explicit ExtractBase64Command(CLI::App& app);
  [[nodiscard]] bool parsed() const { return command_->parsed(); }
  int Run();

 private:
  CLI::App* command_;
  scan::Base64Options options_;
  std::string format_ = "auto";
  std::string output_;
  std::string output_format_ = "jsonl";
  bool quiet_ = false;
};

// `yagura carve-evtx`: EVTX chunks recovered from any bytes, written as EVTX files
// (event/evtx_carver.hpp).
class CarveEvtxCommand {
 public:
  explicit CarveEvtxCommand(CLI::App& app);
  [[nodiscard]] bool parsed() const { return command_->parsed(); }
  int Run();

 private:
  CLI::App* command_;
  std::vector<std::string> inputs_;
  std::string output_;
  bool json_ = false;
};

class DumpCommand {
 public:
  explicit DumpCommand(CLI::App& app);
  [[nodiscard]] bool parsed() const { return command_->parsed(); }
  int Run();

 private:
  CLI::App* command_;
  std::vector<std::string> inputs_;
  std::string format_;
  std::string output_;
};

// `yagura events`: the event store's raw events, read-only (events_command.cpp).
class EventsCommand {
 public:
  explicit EventsCommand(CLI::App& app);
  [[nodiscard]] bool parsed() const { return command_->parsed(); }
  int Run();

 private:
  CLI::App* command_;
  std::string data_dir_ = "data";
  std::string store_dir_;
  std::string host_;
  std::string from_;
  std::string to_;
  std::string text_;
  std::vector<std::string> orgs_;
  uint64_t limit_ = 0;
  std::string format_ = "jsonl";
  std::string output_;
};

// `yagura admin init|verify-audit|migrate`: bootstrap and maintenance of the service's store.
class AdminCommand {
 public:
  explicit AdminCommand(CLI::App& app);
  [[nodiscard]] bool parsed() const { return command_->parsed(); }
  int Run();

 private:
  CLI::App* command_;
  CLI::App* init_;
  CLI::App* verify_audit_;
  CLI::App* migrate_;
  CLI::App* sensor_token_;
  CLI::App* attack_import_;
  std::vector<std::string> attack_files_;
  std::string sensor_org_;
  std::string sensor_logsource_;
  std::string sensor_name_ = "sensor";
  std::string config_file_;
  std::string data_dir_;
  std::string database_;
  bool json_ = false;
};

// Loads the configuration (file, environment, flags) shared by serve and admin.
Result<ServeConfig> LoadServeConfig(const std::string& config_file, const std::string& data_dir,
                                    const std::string& database);

}  // namespace yagura::cli

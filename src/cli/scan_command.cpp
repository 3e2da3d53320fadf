#include <fmt/format.h>
#include <malloc.h>
#include <unistd.h>

#include <filesystem>
#include <iostream>

#include "cli/commands.hpp"
#include "cli/placeholders.hpp"
#include "core/time.hpp"
#include "scan/event_conditions.hpp"
#include "scan/summary.hpp"
#include "sigma/rule_set.hpp"

namespace yagura::cli {
namespace {

Result<event::Logsource> ParseLogsource(std::string_view text) {
  auto logsource = event::ParseLogsource(text);
  if (!logsource) return Fail("--logsource: " + logsource.error().message);
  return logsource;
}

// "90s", "5m", "1h", "1d", "250ms" or bare seconds, to milliseconds.
Result<int64_t> ParseDurationMs(std::string_view text) {
  size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  if (digits == 0 || digits > 12)
    return Fail(fmt::format("expected a duration such as 60s or 5m, got '{}'", text));
  int64_t value = std::stoll(std::string(text.substr(0, digits)));
  std::string_view unit = text.substr(digits);
  if (unit.empty() || unit == "s") return value * 1000;
  if (unit == "ms") return value;
  if (unit == "m") return value * 60'000;
  if (unit == "h") return value * 3'600'000;
  if (unit == "d") return value * 86'400'000;
  return Fail(fmt::format("unknown duration unit in '{}' (ms, s, m, h, d)", text));
}

}  // namespace

// A date as --to means the end of that day (so `--from 2026-11-01 --to 2026-11-03` is three
// whole days).
Result<int64_t> ParseRangeBound(std::string_view text, bool end) {
  const auto ms = ParseIsoDateTimeMs(text);
  if (!ms) {
    return Fail(
        fmt::format("cannot read '{}' as a time: give a date (2026-11-26) or an RFC 3339 "
                    "time (2026-11-26T09:30:00Z; no zone means UTC)",
                    text));
  }
  const bool date_only = text.size() == 10;
  return end && date_only ? *ms + 86'400'000 - 1 : *ms;
}

void AddRangeBoundOption(CLI::App* command, const std::string& name, bool end,
                         std::optional<int64_t>& bound, const std::string& help) {
  command
      ->add_option_function<std::string>(
          name,
          [name, end, &bound](const std::string& text) {
            auto ms = ParseRangeBound(text, end);
            if (!ms) throw CLI::ValidationError(name, ms.error().message);
            bound = *ms;
          },
          help)
      ->type_name("TIME");
}

void AddRuleSelectionOptions(CLI::App* command, scan::ScanOptions& options,
                             std::string& min_level) {
  command
      ->add_option("--min-level", min_level,
                   "Only rules of this level or above: informational, low, medium, high, "
                   "critical")
      ->check(CLI::IsMember({"informational", "low", "medium", "high", "critical"}));
  command->add_option("--rule-id", options.rule_ids, "Only this rule, by id or name (repeatable)")
      ->allow_extra_args(false);
  command->add_option("--tag", options.tags, "Only rules with this tag (repeatable)")
      ->allow_extra_args(false);
  command
      ->add_option("--exclude-tag", options.exclude_tags,
                   "Leave out rules with this tag (repeatable), e.g. detection.threat-hunting")
      ->allow_extra_args(false);
  command
      ->add_option("--status", options.statuses,
                   "Only rules of this status (repeatable): stable, test, experimental, "
                   "deprecated, unsupported")
      ->check(CLI::IsMember({"stable", "test", "experimental", "deprecated", "unsupported"}))
      ->allow_extra_args(false);
  command
      ->add_option("--exclude-rule", options.exclude_rule_ids,
                   "Leave out this rule, by id or name (repeatable)")
      ->allow_extra_args(false);
  command
      ->add_option("--rule-list", options.rule_list_files,
                   "Only the rules this file names: one id or name per line, # comments "
                   "(repeatable; with --rule-id, the rules of either)")
      ->check(CLI::ExistingFile)
      ->allow_extra_args(false);
  command
      ->add_option("--exclude-rule-list", options.exclude_rule_list_files,
                   "Leave out the rules this file names, e.g. Hayabusa's exclude_rules.txt or "
                   "noisy_rules.txt (repeatable)")
      ->check(CLI::ExistingFile)
      ->allow_extra_args(false);
  command
      ->add_option("--level-override", options.level_override_files,
                   "CSV of 'id,level' lines that change rules' levels before --min-level "
                   "chooses, e.g. Hayabusa's level_tuning.txt (repeatable; later files win)")
      ->check(CLI::ExistingFile)
      ->allow_extra_args(false);
}

std::optional<sigma::Level> LevelNamed(std::string_view name) {
  for (sigma::Level level : {sigma::Level::kInformational, sigma::Level::kLow,
                             sigma::Level::kMedium, sigma::Level::kHigh, sigma::Level::kCritical}) {
    if (sigma::LevelName(level) == name) return level;
  }
  return std::nullopt;
}

void AddWhereOption(CLI::App* command, std::vector<std::string>& conditions,
                    const std::string& what) {
  command
      ->add_option("--where,-w", conditions,
                   fmt::format("Only {} where this Sigma condition FIELD[|modifier...]=VALUE "
                               "holds (repeatable: all must), e.g. Computer=DC01* or "
                               "EventID|neq=4688; the others are read and counted, nothing more",
                               what))
      ->allow_extra_args(false);
}

void AddInputFormatOption(CLI::App* command, std::string& format) {
  command
      ->add_option("--format", format,
                   "Input format: auto (the default: each file's content tells), json, evtx, xml "
                   "(Windows events exported as XML), syslog, webaccess, text")
      ->check([](const std::string& name) {
        auto parsed = event::ParseInputFormat(name);
        return parsed ? std::string() : parsed.error().message;
      });
}

std::string ReadOptionsProblem(const std::string& format_name, event::InputFormat& format,
                               const std::optional<int64_t>& from_ms,
                               const std::optional<int64_t>& to_ms) {
  auto parsed = event::ParseInputFormat(format_name);
  if (!parsed) return "--format: " + parsed.error().message;
  format = *parsed;
  if (from_ms && to_ms && *from_ms > *to_ms)
    return "--from is after --to: no record could be found";
  return {};
}

void AppendReadProblems(std::string& text, uint64_t outside_time_range, uint64_t without_time,
                        uint64_t records_skipped, uint64_t files_failed) {
  if (outside_time_range || without_time)
    text += fmt::format("; {} outside the time range, {} without a readable time",
                        outside_time_range, without_time);
  if (records_skipped) text += fmt::format("; {} records skipped", records_skipped);
  if (files_failed) text += fmt::format("; {} inputs unreadable", files_failed);
}

std::string WhereProblem(const std::vector<std::string>& conditions) {
  if (conditions.empty()) return {};
  event::FieldCatalog scratch;
  auto where = scan::EventConditions::Compile(conditions, scratch);
  return where ? std::string() : where.error().message;
}

void AddSortOptions(CLI::App* command, std::string& sort, std::string& sort_dir,
                    const std::string& what) {
  command
      ->add_option(
          "--sort", sort,
          fmt::format("Order of the {0}: 'input' (as the inputs give them, the default) or "
                      "'time' (by event time, earliest first, as a timeline across files; "
                      "{0} without a time last)",
                      what))
      ->check(CLI::IsMember({"input", "time"}));
  command->add_option("--sort-dir", sort_dir,
                      fmt::format("With --sort time: where {} beyond 64 MiB wait in temporary "
                                  "files (default $TMPDIR, else /tmp)",
                                  what));
}

std::string SortOptionsProblem(const std::string& sort, const std::string& sort_dir) {
  if (sort_dir.empty()) return {};
  if (sort != "time") return "--sort-dir applies only with --sort time";
  if (!std::filesystem::is_directory(sort_dir))
    return fmt::format("--sort-dir {} is not a directory", sort_dir);
  return {};
}

ScanCommand::ScanCommand(CLI::App& app) {
  command_ = app.add_subcommand("scan", "Run Sigma rules over log files (EVTX, JSON, syslog, web "
                                        "access logs), as an investigator hunts");
  command_->add_option("paths", options_.inputs,
                       "Files or directories to scan (directories recursively); - for stdin")
      ->required();
  command_->add_option("--rules,-r", options_.rule_paths,
                       "Rule file or directory (repeatable; default: Yagura's own rules/)")
      ->allow_extra_args(false);
  AddInputFormatOption(command_, format_);
  command_->add_option("--logsource", logsource_,
                       "Declare the source of inputs whose source cannot be recognised, e.g. "
                       "product=linux,service=sshd");
  command_->add_option("--unrecognised", unrecognised_,
                       "Events of unrecognised source: 'all' rules that test a field they hold (or "
                       "search keywords) apply, or 'skip'")
      ->check(CLI::IsMember({"all", "skip"}));
  command_->add_option("--output,-o", options_.output_path, "Alert output file (default stdout)");
  command_
      ->add_option("--output-format", output_format_,
                   "jsonl, csv, or timesketch (JSON lines Timesketch imports)")
      ->check(CLI::IsMember({"jsonl", "csv", "timesketch"}));
  AddSortOptions(command_, sort_, options_.sort_dir, "alerts");
  AddRuleSelectionOptions(command_, options_, min_level_);
  command_->add_option("--threads,-t", options_.threads, "Worker threads")
      ->check(CLI::Range(1, 256));
  command_->add_flag("--no-detect", no_detect_,
                     "Parse and extract the fields rules read, but match nothing (for measuring)");
  command_->add_option("--engine", engine_,
                       "compiled (default) or plain (the reference evaluator, slow)")
      ->check(CLI::IsMember({"compiled", "plain"}));
  command_->add_option("--placeholders", placeholders_file_,
                       "YAML file of |expand placeholder values (default: config/placeholders.yml)");
  command_->add_option("--cache-dir", options_.cache_dir,
                       "Compiled matcher cache (default: $XDG_CACHE_HOME/yagura)");
  command_->add_flag("--no-cache", no_cache_, "Do not read or write the compiled matcher cache");
  command_->add_option("--intel", options_.intel_paths,
                       "Indicator feed: STIX 2.1 bundle, MISP feed directory or event, text or "
                       "CSV list, or a directory of them (repeatable)")
      ->allow_extra_args(false);
  command_->add_flag("!--no-subdomains", options_.intel_subdomains,
                     "Domain indicators match only the exact name, not its subdomains");
  command_->add_option("--time-field", options_.time_field,
                       "Correlation rules: read the event time from this field instead of the "
                       "format's own time field");
  command_->add_option_function<std::string>(
              "--allowed-lateness",
              [this](const std::string& text) {
                auto ms = ParseDurationMs(text);
                if (!ms) throw CLI::ValidationError("--allowed-lateness", ms.error().message);
                options_.allowed_lateness_ms = *ms;
              },
              "Correlation rules: how far behind the latest event time a match may come and "
              "still count, e.g. 60s (default), 5m; later ones are dropped and counted")
      ->type_name("DURATION");
  AddRangeBoundOption(command_, "--from", false, options_.from_ms,
                      "Only events at or after this time (a date, or RFC 3339 such as "
                      "2026-11-26T09:00:00Z); the others are read but not matched");
  AddRangeBoundOption(command_, "--to", true, options_.to_ms,
                      "Only events at or before this time (a date means its whole day); events "
                      "whose time cannot be read are not matched either when --from or --to is "
                      "given");
  command_->add_option("--html-report", options_.html_report_path,
                       "Also write the alerts as one self-contained HTML page: what was read, "
                       "alerts by level and day, rules, hosts, the most severe alerts");
  command_
      ->add_option("--html-report-lang", html_report_lang_,
                   "The HTML report's own words: en (default) or ja")
      ->check(CLI::IsMember({"en", "ja"}));
  command_->add_option("--pivot-keywords", options_.pivot_keywords_path,
                       "Also write the users, hosts, addresses, processes, logon ids and "
                       "services of the alerted events (--pivot-min-level and above) to this "
                       "JSON file, for the searches that come next");
  command_
      ->add_option("--pivot-min-level", pivot_min_level_,
                   "Alerts whose events give pivot keywords: this level and above (default "
                   "high)")
      ->check(CLI::IsMember({"informational", "low", "medium", "high", "critical"}));
  command_->add_option("--attack-layer", options_.attack_layer_path,
                       "Also write the MITRE ATT&CK techniques the alerted rules name to this "
                       "file, as an ATT&CK Navigator layer (comments: the rules; tooltips: "
                       "alerts, levels, times, hosts)");
  command_
      ->add_option("--attack-layer-score", attack_layer_score_,
                   "A technique's score in the --attack-layer: 'level' (the highest level of "
                   "its alerts, a colour each: the default), 'alerts' or 'rules' (how many)")
      ->check(CLI::IsMember({"level", "alerts", "rules"}));
  command_->add_option("--geo-ip", options_.geo_ip_paths,
                       "MaxMind DB files (GeoLite2 City or Country, and ASN), or folders of "
                       "them: each alert also says the country, city and network of its event's "
                       "addresses (IpAddress, SourceIp, DestinationIp...), and the summary counts "
                       "alerts by country (repeatable)");
  AddWhereOption(command_, options_.conditions, "events");
  command_->add_flag("--skip-duplicate-records", options_.skip_duplicate_records,
                     "A record that is a copy of one read before (Windows: the same channel, "
                     "computer and EventRecordID, in any file; other records: the same bytes in "
                     "another file) raises no alert and feeds no correlation: for collections "
                     "that hold the same logs twice (backups, shadow copies, exports)");
  command_->add_option("--summary-json", summary_json_,
                       "Also write the summary as JSON to this file (for scripts and benchmarks)");
  command_->add_flag("--quiet,-q", quiet_, "No summary and no progress bar");
  command_->add_flag("--no-progress", no_progress_, "No progress bar");
}

int ScanCommand::Run() {
  auto format = event::ParseInputFormat(format_);
  if (!format) {
    std::cerr << "yagura scan: " << format.error().ToString() << "\n";
    return EXIT_USAGE;
  }
  options_.format = *format;
  if (!logsource_.empty()) {
    auto logsource = ParseLogsource(logsource_);
    if (!logsource) {
      std::cerr << "yagura scan: " << logsource.error().ToString() << "\n";
      return EXIT_USAGE;
    }
    options_.declared_logsource = *logsource;
  }
  options_.unrecognised = unrecognised_ == "skip" ? sigma::UnrecognisedPolicy::kSkip
                                                  : sigma::UnrecognisedPolicy::kAllRules;
  options_.output_format = output_format_ == "csv"          ? scan::OutputFormat::kCsv
                           : output_format_ == "timesketch" ? scan::OutputFormat::kTimesketch
                                                            : scan::OutputFormat::kJsonl;
  options_.alert_order = sort_ == "time" ? scan::AlertOrder::kTime : scan::AlertOrder::kInput;
  if (auto problem = SortOptionsProblem(sort_, options_.sort_dir); !problem.empty()) {
    std::cerr << "yagura scan: " << problem << "\n";
    return EXIT_USAGE;
  }
  if (!attack_layer_score_.empty() && options_.attack_layer_path.empty()) {
    std::cerr << "yagura scan: --attack-layer-score applies only with --attack-layer\n";
    return EXIT_USAGE;
  }
  if (!attack_layer_score_.empty())
    options_.attack_layer_score = *scan::TechniqueScoreNamed(attack_layer_score_);
  if (!pivot_min_level_.empty() && options_.pivot_keywords_path.empty()) {
    std::cerr << "yagura scan: --pivot-min-level applies only with --pivot-keywords\n";
    return EXIT_USAGE;
  }
  if (auto level = LevelNamed(pivot_min_level_)) options_.pivot_min_level = *level;
  if (!html_report_lang_.empty() && options_.html_report_path.empty()) {
    std::cerr << "yagura scan: --html-report-lang applies only with --html-report\n";
    return EXIT_USAGE;
  }
  options_.html_report_japanese = html_report_lang_ == "ja";
  options_.min_level = LevelNamed(min_level_);
  if (options_.from_ms && options_.to_ms && *options_.from_ms > *options_.to_ms) {
    std::cerr << "yagura scan: --from is after --to: no event could be matched\n";
    return EXIT_USAGE;
  }
  options_.detect = !no_detect_;
  options_.plain_evaluator = engine_ == "plain";
  options_.progress = !quiet_ && !no_progress_ && ::isatty(STDERR_FILENO);
  if (options_.rule_paths.empty()) options_.rule_paths.push_back(DataDir() + "/rules");
  if (no_cache_) {
    options_.cache_dir.clear();
  } else if (options_.cache_dir.empty()) {
    options_.cache_dir = DefaultCacheDir();
  }

  auto placeholders = ResolvePlaceholders(placeholders_file_);
  if (!placeholders) {
    std::cerr << "yagura scan: " << placeholders.error().ToString() << "\n";
    return EXIT_USAGE;
  }
  options_.placeholders = std::move(*placeholders);
  // Refused before any rule is loaded: a mistyped condition is a usage error.
  if (auto problem = WhereProblem(options_.conditions); !problem.empty()) {
    std::cerr << "yagura scan: " << problem << "\n";
    return EXIT_USAGE;
  }

  Diagnostics diagnostics([](const Diagnostic& d) {
    const char* kind = d.kind == DiagnosticKind::kWarning ? "warning: " : "";
    std::fprintf(stderr, "\r%s: %s%s\n", d.where.c_str(), kind, d.message.c_str());
  });
  // Workers allocate from the arena loading left behind instead of arenas of their own: a
  // thread's own arena grows into memory the process touches for the first time, which costs
  // a fault per page (about 12 µs on virtual machines like the project's own), while loading
  // freed more than the workers need. Matching allocates nothing per event, so the shared
  // arena's lock is not contended.
  if (options_.threads > 1) (void)mallopt(M_ARENA_MAX, 1);
  auto summary = scan::RunScan(options_, diagnostics);
  if (!summary) {
    std::cerr << "yagura scan: " << summary.error().ToString() << "\n";
    return EXIT_PARTIAL;
  }
  // Outputs that could not be written are said even with --quiet: the exit status alone would
  // not say which file is missing.
  for (const std::string& failure : summary->output_failures)
    std::cerr << "yagura scan: " << failure << "\n";
  if (!quiet_) std::cerr << scan::RenderSummary(*summary);
  if (!summary_json_.empty()) {
    std::FILE* file = std::fopen(summary_json_.c_str(), "wb");
    std::string json = scan::SummaryJson(*summary) + "\n";
    if (!file || std::fwrite(json.data(), 1, json.size(), file) != json.size()) {
      std::cerr << "yagura scan: cannot write " << summary_json_ << "\n";
      if (file) std::fclose(file);
      return EXIT_PARTIAL;
    }
    std::fclose(file);
  }
  return summary->ExitStatus();
}

}  // namespace yagura::cli

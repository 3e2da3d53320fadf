// `yagura search`: the records of log files that hold strings or regexes, as JSON lines.
#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <memory>

#include "cli/commands.hpp"
#include "core/json_writer.hpp"
#include "core/time.hpp"
#include "scan/time_sorter.hpp"

namespace yagura::cli {

SearchCommand::SearchCommand(CLI::App& app) {
  command_ = app.add_subcommand(
      "search",
      "Find the records of log files that hold given strings or regexes (EVTX, JSON, syslog, "
      "web access logs), without a rule");
  command_
      ->add_option("paths", options_.inputs,
                   "Files or directories to search (directories recursively); - for stdin")
      ->required();
  command_
      ->add_option("--string,-s", options_.strings,
                   "Text to find inside a value (repeatable; a record with any of them is "
                   "found, with --all every one)")
      ->allow_extra_args(false);
  command_
      ->add_option("--regex,-e", options_.regexes,
                   "Regular expression (RE2 syntax) to find in a value (repeatable)")
      ->allow_extra_args(false);
  command_
      ->add_option("--where,-w", options_.conditions,
                   "A Sigma condition FIELD[|modifier...]=VALUE that must hold too (repeatable: "
                   "all must), e.g. EventID=4625 or IpAddress|cidr=203.0.113.0/24")
      ->allow_extra_args(false);
  command_
      ->add_option("--field,-f", options_.fields,
                   "Search only this field (repeatable; names as Sigma rules read them: "
                   "CommandLine, TargetUserName, Computer...). Default: every value")
      ->allow_extra_args(false);
  command_->add_flag("--all", options_.match_all,
                     "Find records that hold every string and regex, not just one of them");
  command_->add_flag("--match-case", options_.match_case,
                     "Compare with case (default: ignore case, as Sigma does)");
  AddInputFormatOption(command_, format_);
  AddRangeBoundOption(command_, "--from", false, options_.from_ms,
                      "Only records at or after this time (a date, or RFC 3339 such as "
                      "2026-11-26T09:00:00Z)");
  AddRangeBoundOption(
      command_, "--to", true, options_.to_ms,
      "Only records at or before this time (a date means its whole day); records whose "
      "time cannot be read are passed over when --from or --to is given");
  command_->add_option("--time-field", options_.time_field,
                       "Read the record's time (for --from/--to and the output's time) from "
                       "this field instead of the format's own time field");
  command_->add_option("--limit", options_.limit, "Stop after this many records (0: no limit)");
  AddSortOptions(command_, sort_, sort_dir_, "records");
  command_->add_flag("--count", count_, "Print only the number of records found");
  command_->add_option("--output,-o", output_,
                       "Write the records found to this file (default stdout)");
  command_->add_flag("--quiet,-q", quiet_, "No summary on stderr");
}

int SearchCommand::Run() {
  const char* self = "yagura search";
  if (auto problem = ReadOptionsProblem(format_, options_.format, options_.from_ms, options_.to_ms);
      !problem.empty()) {
    std::cerr << self << ": " << problem << "\n";
    return EXIT_USAGE;
  }
  const bool by_time = sort_ == "time";
  if (auto problem = SortOptionsProblem(sort_, sort_dir_); !problem.empty()) {
    std::cerr << self << ": " << problem << "\n";
    return EXIT_USAGE;
  }
  std::unique_ptr<scan::TimeSorter> sorter;
  if (by_time && !count_) sorter = std::make_unique<scan::TimeSorter>(sort_dir_);
  std::FILE* out = stdout;
  if (!output_.empty() && output_ != "-") {
    out = std::fopen(output_.c_str(), "wb");
    if (!out) {
      std::cerr << self << ": cannot write " << output_ << "\n";
      return EXIT_USAGE;
    }
  }
  Diagnostics diagnostics([self](const Diagnostic& d) {
    std::fprintf(stderr, "%s: %s: %s\n", self, d.where.c_str(), d.message.c_str());
  });
  std::string line;
  bool write_failed = false;
  std::string sort_error;
  auto summary = scan::SearchRecords(options_, diagnostics, [&](const scan::FoundRecord& found) {
    if (count_ || write_failed || !sort_error.empty()) return;
    line.clear();
    JsonWriter w(line);
    w.BeginObject();
    w.Key("source").BeginObject();
    w.Key("file").String(found.path);
    w.Key("record").Uint(found.record.number).EndObject();
    if (found.time_ms) w.Key("time").String(FormatTimestampMs(*found.time_ms));
    w.Key("matches").BeginArray();
    for (const scan::SearchMatch& m : found.matches)
      w.BeginObject().Key("field").String(m.field).Key("value").String(m.value).EndObject();
    w.EndArray();
    w.Key("event").Raw(found.json);
    w.EndObject();
    line.push_back('\n');
    if (sorter) {
      if (auto added = sorter->Add(found.time_ms, line); !added) sort_error = added.error().message;
      return;
    }
    write_failed = std::fwrite(line.data(), 1, line.size(), out) != line.size();
  });
  if (summary && sorter && sort_error.empty()) {
    if (auto written = sorter->WriteTo(out); !written) sort_error = written.error().message;
    if (!sorter->spill_problem().empty()) {
      std::cerr << self << ": warning: " << sorter->spill_problem()
                << "; the records were sorted in memory instead\n";
    }
  }
  if (!summary) {
    std::cerr << self << ": " << summary.error().ToString() << "\n";
    if (out != stdout) std::fclose(out);
    return EXIT_USAGE;
  }
  if (count_) std::fprintf(out, "%llu\n", static_cast<unsigned long long>(summary->records_found));
  write_failed = std::fflush(out) != 0 || std::ferror(out) || write_failed;
  if (out != stdout) write_failed = std::fclose(out) != 0 || write_failed;
  if (!sort_error.empty()) {
    std::cerr << self << ": " << sort_error << "\n";
    return EXIT_PARTIAL;
  }
  if (write_failed) {
    std::cerr << self << ": writing the output failed\n";
    return EXIT_PARTIAL;
  }
  if (!quiet_) {
    std::string text =
        fmt::format("{}: {} records found in {} read from {} files", self, summary->records_found,
                    summary->records_read, summary->files_read);
    if (summary->stopped_at_limit) text += fmt::format(" (stopped at --limit {})", options_.limit);
    AppendReadProblems(text, summary->records_outside_time_range, summary->records_without_time,
                       summary->records_skipped, summary->files_failed);
    std::cerr << text << "\n";
  }
  return summary->ExitStatus();
}

}  // namespace yagura::cli

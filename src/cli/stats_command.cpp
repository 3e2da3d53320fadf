// `yagura stats`: what collected logs hold, as a text summary or one JSON object.
#include <cstdio>
#include <iostream>

#include "cli/commands.hpp"

namespace yagura::cli {

StatsCommand::StatsCommand(CLI::App& app) {
  command_ = app.add_subcommand(
      "stats",
      "Summarise log files before hunting in them: records, time span, kinds as rules see "
      "them, event ids, hosts, days");
  command_
      ->add_option("paths", options_.inputs,
                   "Files or directories (directories recursively); - for stdin")
      ->required();
  AddInputFormatOption(command_, format_);
  command_->add_option("--logsource", logsource_,
                       "Declare the source of inputs whose source cannot be recognised, as scan "
                       "does, e.g. product=linux,service=sshd");
  command_->add_option("--time-field", options_.time_field,
                       "Read the event time from this field instead of the format's own");
  command_->add_option("--top", top_, "Rows of each table (default 10)")
      ->check(CLI::PositiveNumber);
  AddWhereOption(command_, options_.conditions, "records");
  command_->add_option("--geo-ip", options_.geo_ip_paths,
                       "MaxMind DB files (GeoLite2 City or Country, and ASN), or folders of "
                       "them: the logon summary says the country, city and network of each "
                       "source address (repeatable)");
  command_->add_flag("--json", json_, "Print one JSON object with every count");
}

int StatsCommand::Run() {
  const char* self = "yagura stats";
  auto format = event::ParseInputFormat(format_);
  if (!format) {
    std::cerr << self << ": --format: " << format.error().message << "\n";
    return EXIT_USAGE;
  }
  options_.format = *format;
  if (!logsource_.empty()) {
    auto logsource = event::ParseLogsource(logsource_);
    if (!logsource) {
      std::cerr << self << ": --logsource: " << logsource.error().message << "\n";
      return EXIT_USAGE;
    }
    options_.declared_logsource = *logsource;
  }
  if (auto problem = WhereProblem(options_.conditions); !problem.empty()) {
    std::cerr << self << ": " << problem << "\n";
    return EXIT_USAGE;
  }
  Diagnostics diagnostics([self](const Diagnostic& d) {
    std::fprintf(stderr, "%s: %s: %s\n", self, d.where.c_str(), d.message.c_str());
  });
  auto stats = scan::CollectStats(options_, diagnostics);
  if (!stats) {
    std::cerr << self << ": " << stats.error().ToString() << "\n";
    return EXIT_PARTIAL;
  }
  std::cout << (json_ ? scan::StatsJson(*stats) + "\n" : scan::RenderStats(*stats, top_));
  return stats->ExitStatus();
}

}  // namespace yagura::cli

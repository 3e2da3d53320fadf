// `yagura dump`: every record of log files as one JSON object per line.
//
// EVTX records come out in evtx_dump's shape ({"Event": {"System", "EventData"...}}), syslog
// and access-log lines as objects of their parsed fields, JSON records as they were. The output
// is what sensors post to POST /api/v1/ingest, and what `yagura scan` reads back with the same
// alerts as from the original files, so it converts collected evidence for live replay or for
// other tools.
#include <cstdio>

#include <fmt/format.h>

#include "cli/commands.hpp"
#include "core/diagnostics.hpp"
#include "event/field_catalog.hpp"
#include "event/input.hpp"
#include "event/logsource_mapping.hpp"
#include "event/parser.hpp"

namespace yagura::cli {

DumpCommand::DumpCommand(CLI::App& app) {
  command_ = app.add_subcommand(
      "dump", "Print every record of log files as one JSON object per line (EVTX as evtx_dump)");
  command_->add_option("inputs", inputs_, "Files or directories ('-' for stdin)")->required();
  AddInputFormatOption(command_, format_);
  command_->add_option("--output,-o", output_, "Write to this file instead of stdout");
}

int DumpCommand::Run() {
  auto format = event::ParseInputFormat(format_.empty() ? "auto" : format_);
  if (!format) {
    std::fprintf(stderr, "yagura dump: --format: %s\n", format.error().message.c_str());
    return EXIT_USAGE;
  }
  std::FILE* out = stdout;
  if (!output_.empty() && output_ != "-") {
    out = std::fopen(output_.c_str(), "wb");
    if (!out) {
      std::fprintf(stderr, "yagura dump: cannot write %s\n", output_.c_str());
      return EXIT_USAGE;
    }
  }
  Diagnostics diagnostics([](const Diagnostic& d) {
    std::fprintf(stderr, "yagura dump: %s: %s\n", d.where.c_str(), d.message.c_str());
  });
  auto mapping = event::LogsourceMapping::LoadDefault();
  if (!mapping) {
    std::fprintf(stderr, "yagura dump: %s\n", mapping.error().ToString().c_str());
    return EXIT_PARTIAL;
  }
  event::FieldCatalog catalog;
  mapping->InternFields(catalog);
  event::EventParser parser(catalog, *mapping);
  event::RecordReader reader(*format, diagnostics);
  std::vector<event::InputFile> inputs = event::ExpandInputs(inputs_, diagnostics);
  uint64_t written = 0;
  std::string line;
  for (uint32_t index = 0; index < inputs.size(); ++index) {
    reader.ReadFile(inputs[index], index, [&](const event::Record& record) {
      line = parser.ToJson(record);
      line.push_back('\n');
      std::fwrite(line.data(), 1, line.size(), out);
      ++written;
    });
  }
  bool write_failed = std::fflush(out) != 0 || std::ferror(out);
  if (out != stdout) write_failed = std::fclose(out) != 0 || write_failed;
  if (write_failed) {
    std::fprintf(stderr, "yagura dump: writing the output failed\n");
    return EXIT_PARTIAL;
  }
  const auto& stats = reader.stats();
  std::fprintf(stderr, "yagura dump: %llu records from %llu files\n",
               static_cast<unsigned long long>(written),
               static_cast<unsigned long long>(stats.files_read));
  bool partial = stats.files_failed || stats.records_skipped ||
                 diagnostics.Count(DiagnosticKind::kInputUnreadable);
  return partial ? EXIT_PARTIAL : EXIT_OK;
}

}  // namespace yagura::cli

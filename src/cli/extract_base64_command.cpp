// `yagura extract-base64`: the base64 payloads of log fields, decoded, as JSON lines or CSV.
#include <fmt/format.h>

#include <cstdio>
#include <iostream>

#include "cli/commands.hpp"
#include "core/json_writer.hpp"
#include "core/time.hpp"
#include "scan/alert_writer.hpp"

namespace yagura::cli {

namespace {

constexpr std::string_view CSV_HEADER =
    "time,file,record,host,event_id,field,encoding,compression,file_type,layers,decoded_bytes,"
    "decoded,base64\n";

void FormatJson(const scan::FoundPayload& found, std::string& out) {
  const scan::Base64Payload& p = found.payload;
  JsonWriter w(out);
  w.BeginObject();
  w.Key("time").TimeOrNull(found.time_ms);
  w.Key("source").BeginObject();
  w.Key("file").String(found.path);
  w.Key("record").Uint(found.record).EndObject();
  w.Key("host").String(found.host);
  w.Key("event_id").String(found.event_id);
  w.Key("field").String(found.field);
  w.Key("encoding").String(p.encoding);
  w.Key("compression");
  p.compression.empty() ? w.Null() : w.String(p.compression);
  w.Key("file_type");
  p.file_type.empty() ? w.Null() : w.String(p.file_type);
  w.Key("layers").Int(p.layers);
  w.Key("decoded_bytes").Uint(p.decoded_bytes);
  w.Key("decoded").String(p.text);
  if (!p.outer_text.empty()) w.Key("outer_decoded").String(p.outer_text);
  if (!p.binary_head.empty()) w.Key("binary_head").String(p.binary_head);
  w.Key("base64").String(p.encoded);
  w.EndObject();
  out.push_back('\n');
}

void FormatCsv(const scan::FoundPayload& found, std::string& out) {
  const scan::Base64Payload& p = found.payload;
  const std::string time = found.time_ms ? FormatTimestampMs(*found.time_ms) : std::string();
  const std::string record = std::to_string(found.record);
  const std::string layers = std::to_string(p.layers);
  const std::string bytes = std::to_string(p.decoded_bytes);
  const std::string_view columns[] = {
      time,           found.path,  record,     found.host,
      found.event_id, found.field, p.encoding, p.compression,
      p.file_type,    layers,      bytes,      p.text.empty() ? p.binary_head : p.text,
      p.encoded};
  for (size_t i = 0; i < std::size(columns); ++i) {
    if (i) out.push_back(',');
    scan::AppendCsvField(out, columns[i]);
  }
  out.push_back('\n');
}

}  // namespace

ExtractBase64Command::ExtractBase64Command(CLI::App& app) {
  command_ = app.add_subcommand(
      "extract-base64",
      "Find base64 payloads in command lines, PowerShell script blocks, service paths, registry "
      "values, syslog messages and URL queries, and decode them (UTF-16LE, gzip and deflate, "
      "double encoding, executables)");
  command_
      ->add_option("paths", options_.inputs,
                   "Files or directories (directories recursively); - for stdin")
      ->required();
  command_
      ->add_option("--field,-f", options_.fields,
                   "Read this field (repeatable; names as Sigma rules read them). Default: "
                   "CommandLine, ParentCommandLine, ScriptBlockText, Payload, ContextInfo, "
                   "ImagePath, ServiceFileName, Details, message, cs-uri-query, c-uri-query")
      ->allow_extra_args(false);
  command_
      ->add_option("--min-length", options_.min_length,
                   "Shortest base64 run looked at, in characters (default 20)")
      ->check(CLI::Range(4, 1 << 20));
  AddInputFormatOption(command_, format_);
  AddRangeBoundOption(command_, "--from", false, options_.from_ms,
                      "Only records at or after this time (a date, or RFC 3339)");
  AddRangeBoundOption(command_, "--to", true, options_.to_ms,
                      "Only records at or before this time (a date means its whole day)");
  command_->add_option("--time-field", options_.time_field,
                       "Read the event time from this field instead of the format's own");
  AddWhereOption(command_, options_.conditions, "records");
  command_->add_option("--output,-o", output_, "Write the payloads to this file (default stdout)");
  command_->add_option("--output-format", output_format_, "jsonl (default) or csv")
      ->check(CLI::IsMember({"jsonl", "csv"}));
  command_->add_flag("--quiet,-q", quiet_, "No summary on stderr");
}

int ExtractBase64Command::Run() {
  const char* self = "yagura extract-base64";
  if (auto problem = ReadOptionsProblem(format_, options_.format, options_.from_ms, options_.to_ms);
      !problem.empty()) {
    std::cerr << self << ": " << problem << "\n";
    return EXIT_USAGE;
  }
  if (auto problem = WhereProblem(options_.conditions); !problem.empty()) {
    std::cerr << self << ": " << problem << "\n";
    return EXIT_USAGE;
  }
  std::FILE* out = stdout;
  if (!output_.empty() && output_ != "-") {
    out = std::fopen(output_.c_str(), "wb");
    if (!out) {
      std::cerr << self << ": cannot write " << output_ << "\n";
      return EXIT_USAGE;
    }
  }
  const bool csv = output_format_ == "csv";
  if (csv) std::fwrite(CSV_HEADER.data(), 1, CSV_HEADER.size(), out);
  Diagnostics diagnostics([self](const Diagnostic& d) {
    std::fprintf(stderr, "%s: %s: %s\n", self, d.where.c_str(), d.message.c_str());
  });
  std::string line;
  auto summary = scan::ExtractBase64(options_, diagnostics, [&](const scan::FoundPayload& found) {
    line.clear();
    csv ? FormatCsv(found, line) : FormatJson(found, line);
    std::fwrite(line.data(), 1, line.size(), out);
  });
  bool write_failed = std::fflush(out) != 0 || std::ferror(out);
  if (out != stdout) write_failed = std::fclose(out) != 0 || write_failed;
  if (!summary) {
    std::cerr << self << ": " << summary.error().ToString() << "\n";
    return EXIT_USAGE;
  }
  if (write_failed) {
    std::cerr << self << ": writing the output failed\n";
    return EXIT_PARTIAL;
  }
  if (!quiet_) {
    std::string text = fmt::format("{}: {} payloads in {} of {} records read from {} files", self,
                                   summary->payloads, summary->records_with_payloads,
                                   summary->records_read, summary->files_read);
    AppendReadProblems(text, summary->records_outside_time_range, summary->records_without_time,
                       summary->records_skipped, summary->files_failed);
    std::cerr << text << "\n";
  }
  return summary->ExitStatus();
}

}  // namespace yagura::cli

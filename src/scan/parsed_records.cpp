#include "scan/parsed_records.hpp"

#include <fmt/format.h>

namespace yagura::scan {

ParsedReadSummary ReadParsedRecords(const std::vector<std::string>& paths,
                                    event::InputFormat format, event::EventParser& parser,
                                    Diagnostics& diagnostics, const OnParsed& on_parsed) {
  ParsedReadSummary summary;
  const uint64_t unreadable_before = diagnostics.Count(DiagnosticKind::kInputUnreadable);
  std::vector<event::InputFile> inputs = event::ExpandInputs(paths, diagnostics);
  summary.files_failed = diagnostics.Count(DiagnosticKind::kInputUnreadable) - unreadable_before;
  event::RecordReader reader(format, diagnostics);
  reader.set_evtx_outline_only(true);
  reader.set_json_line_records(true);  // each record is parsed during the call
  event::Event event;
  bool stopped = false;
  for (uint32_t index = 0; index < inputs.size() && !stopped; ++index) {
    const std::string& path = inputs[index].path;
    reader.ReadFile(inputs[index], index, [&](const event::Record& record) {
      if (stopped) return;
      auto parsed = parser.Parse(record, event);
      if (!parsed) {
        if (record.whole_line) {  // not one JSON value by itself: framed again by the reader
          reader.RejectLineRecord();
          return;
        }
        ++summary.records_skipped;
        diagnostics.Report(DiagnosticKind::kRecordSkipped,
                           record.line ? fmt::format("{}:{}", path, record.line)
                                       : fmt::format("{} record {}", path, record.number),
                           parsed.error().message);
        return;
      }
      ++summary.records_parsed;
      if (!on_parsed(path, record, event)) {
        stopped = true;
        reader.StopFile();
      }
    });
  }
  const event::ReadStats& read = reader.stats();
  summary.files_read = read.files_read;
  summary.files_failed += read.files_failed;
  summary.records_skipped += read.records_skipped;
  return summary;
}

}  // namespace yagura::scan

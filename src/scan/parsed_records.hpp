// Log files read and parsed record by record on the calling thread, as the one-thread scan
// reads them: JSON lines taken whole (and framed again when one is not a JSON value by itself),
// EVTX through the renderer's outline. For the commands that look at events without matching
// rules (`search`, `stats`).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/diagnostics.hpp"
#include "event/event.hpp"
#include "event/input.hpp"
#include "event/parser.hpp"
#include "event/record.hpp"

namespace yagura::scan {

struct ParsedReadSummary {
  uint64_t files_read = 0;
  uint64_t files_failed = 0;     // missing, unreadable or of no known format
  uint64_t records_parsed = 0;   // handed to the callback
  uint64_t records_skipped = 0;  // could not be framed, decoded or parsed (each reported)
};

// Called for each record that parsed, with its file's path. Returns false to stop reading: the
// file ends at once (RecordReader::StopFile) and no further file is read.
using OnParsed = std::function<bool(const std::string& path, const event::Record& record,
                                    const event::Event& event)>;

// Reads `paths` (files, directories recursively, "-" for stdin) in order.
ParsedReadSummary ReadParsedRecords(const std::vector<std::string>& paths,
                                    event::InputFormat format, event::EventParser& parser,
                                    Diagnostics& diagnostics, const OnParsed& on_parsed);

// Copies what was read into a command's own summary (SearchSummary, LogStats, Base64Summary:
// each has files_read, files_failed, records_read and records_skipped).
template <typename Summary>
void CopyReadCounts(const ParsedReadSummary& read, Summary& summary) {
  summary.files_read = read.files_read;
  summary.files_failed = read.files_failed;
  summary.records_read = read.records_parsed;
  summary.records_skipped = read.records_skipped;
}

}  // namespace yagura::scan

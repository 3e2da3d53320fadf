// EvtxReader: the records of a binary Windows event log, as XML, through libevtx.
//
// libevtx parses the file's chunks and templates and renders each record as XML; the reader
// hands every record on and reports each record libevtx cannot read. Then, if asked, come the
// deleted records libevtx recovers from the chunks' free space, numbered after the regular ones:
// those whose EventRecordID is also a regular record's are left out (free space often holds
// stale copies), and fragments libevtx cannot render, or renders with garbled element names
// (a template that no longer fits), are only summed up in one warning, since they are
// leftovers rather than records of the log. The XML buffer is reused across records.
// Internal to src/event; one per RecordReader.
#pragma once

#include <string>
#include <vector>

#include "core/diagnostics.hpp"
#include "event/input.hpp"

namespace yagura::event {

class EvtxReader {
 public:
  // Reads the EVTX file at `path`; diagnostics name `display_path`. Returns false when the file
  // cannot be opened as EVTX at all.
  bool Read(const std::string& path, const std::string& display_path, uint32_t source_index,
            size_t max_record_size, bool recover_deleted, const RecordReader::OnRecord& on_record,
            const RecordReader::OnProgress& on_progress, Diagnostics& diagnostics,
            ReadStats& stats);

 private:
  std::vector<char> xml_;
};

}  // namespace yagura::event

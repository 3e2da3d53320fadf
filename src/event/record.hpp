// Record: the bytes of one log record, before parsing, and where it came from.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "event/event.hpp"
#include "event/outline_shape.hpp"

namespace yagura::event {

// Readers guarantee this many readable bytes after a record's data, so simdjson can parse it in
// place without copying (it reads up to SIMDJSON_PADDING bytes past the end).
inline constexpr size_t RECORD_PADDING = 64;

struct Record {
  std::string_view data;
  RecordFormat format = RecordFormat::kJson;
  uint32_t source_index = 0;  // index into the reader's list of InputFiles
  uint64_t number = 0;        // 1-based: JSON value, EVTX record or line number
  // 1-based line of the input on which the record starts, for locating problems
  // ("path:line"); 0 for EVTX records. For line formats it equals `number`.
  uint64_t line = 0;
  // IIS W3C extended logs: the field names of the last "#Fields:" directive before this line,
  // space-separated (valid as long as `data`); empty for every other format.
  std::string_view schema;
  // EVTX records rendered by Yagura's own reader: the record's outline (binxml::OutlineStep
  // values, unaligned), which flattening reads instead of the XML's syntax; empty otherwise.
  // Valid as long as `data`. Unless the reader was asked for outline-only text
  // (RecordReader::set_evtx_outline_only), `data` is the record's XML either way; with it, a
  // record with an outline has in `data` only the names and values the outline points at.
  std::string_view outline;
  // The outline's shape, when the reader knows it.
  OutlineShapeId outline_shape;
  // A JSON record taken as its whole line without being framed (the reader's JSON line
  // records): if it does not parse, its consumer calls the reader's RejectLineRecord() instead
  // of reporting it, and the line's records come again, framed the ordinary way.
  bool whole_line = false;
};

}  // namespace yagura::event

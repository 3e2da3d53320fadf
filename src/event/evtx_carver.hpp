// Carving EVTX chunks: Windows event records recovered from any bytes (a disk image, its
// unallocated space, a memory dump, a pagefile, a damaged or cleared .evtx) and written as EVTX
// files that every reader, Yagura's included, reads as it reads a log.
//
// A chunk of an event log is self-contained: its 64 KiB hold its records with the templates and
// strings they use, so one found anywhere renders on its own. Every "ElfChnk\0" signature is
// examined, at any offset. A chunk is kept when its header and records checksums hold and its
// records are what its header says (the EVTX reader's own check). A chunk whose header holds but
// whose records do not (partly overwritten) gives up its records before the damage
// (evtx::RepairChunk); those go to files of their own, as their last record may carry damage no
// check can see. Other signatures are counted as damaged, or truncated when the input ends within
// 64 KiB. The same chunk found again (a log's copy in the file system, the page cache and a
// backup) is kept once. Kept chunks are written by the log they belong to (the channel of their
// first record), in the order found, up to CHUNKS_PER_FILE a file, behind a file header written
// for them: carved-Security-0001.evtx, carved-Microsoft-Windows-Sysmon%4Operational-0001.evtx
// (Windows' own spelling of a channel in a file name), salvaged-Security-0001.evtx... in the
// output folder; carved-unknown-0001.evtx for chunks whose first record names no channel.
//
// The input is read in blocks by offset, so its size does not matter; memory stays a few
// megabytes plus 16 bytes for each distinct chunk.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/result.hpp"

namespace yagura::event {

namespace binxml {
class ChunkRenderer;
class TextBuffer;
}  // namespace binxml

struct CarveStats {
  uint64_t inputs = 0;
  uint64_t bytes_scanned = 0;
  uint64_t signatures = 0;  // "ElfChnk\0" found
  uint64_t chunks = 0;      // intact and new: written
  uint64_t duplicates = 0;  // intact, but written before
  uint64_t damaged = 0;     // nothing kept: the header's checksum fails, or no record is sound
  uint64_t truncated = 0;   // the input ends within the chunk
  uint64_t records = 0;     // in the intact chunks written
  uint64_t salvaged_chunks = 0;   // damaged, their sound records written apart
  uint64_t salvaged_records = 0;  // in them
};

class EvtxCarver {
 public:
  // Chunks per output file: the file header counts them in 16 bits; a gibibyte a file.
  static constexpr uint32_t CHUNKS_PER_FILE = 16384;

  // Output files go to `directory` (made when missing), `chunks_per_file` (at most
  // CHUNKS_PER_FILE) to a file. Fails when it cannot be made, or holds carved files already (a
  // second carve into it would mix or overwrite them).
  static Result<std::unique_ptr<EvtxCarver>> Create(const std::string& directory,
                                                    uint32_t chunks_per_file = CHUNKS_PER_FILE);
  ~EvtxCarver();
  EvtxCarver(const EvtxCarver&) = delete;
  EvtxCarver& operator=(const EvtxCarver&) = delete;

  // Scans one input for chunks. Fails when it cannot be opened or read; the chunks found
  // before a read error are kept.
  Result<void> Carve(const std::string& path);
  // Completes the file being written (its header). Fails when a write failed.
  Result<void> Finish();

  [[nodiscard]] const CarveStats& stats() const { return stats_; }
  [[nodiscard]] const std::vector<std::string>& files() const { return files_; }

 private:
  EvtxCarver(std::string directory, uint32_t chunks_per_file);
  // Files of one kind and log: carved-LOG-NNNN.evtx or salvaged-LOG-NNNN.evtx.
  struct Output {
    std::string prefix;   // "carved-LOG-"
    int fd = -1;          // the file being written
    uint32_t count = 0;   // files begun
    uint32_t chunks = 0;  // in the file being written
    uint64_t next_record_id = 0;
  };

  // Looks at the chunk at a signature; returns how far the scan may pass over: an intact
  // chunk's records (their checksum holds, so no other chunk begins among them), else a byte.
  size_t Examine(const uint8_t* chunk);
  // Whether the chunk's first `used` bytes are new; counts a copy when they are not.
  bool New(const uint8_t* chunk, uint32_t used);
  // The files of `kind` ("carved", "salvaged") for the chunk's log.
  Output& OutputFor(const char* kind, const uint8_t* chunk, uint32_t used);
  void Keep(Output& output, const uint8_t* chunk, uint64_t last_record_id);
  Result<void> Write(Output& output, const uint8_t* chunk, uint64_t last_record_id);
  Result<void> CloseFile(Output& output);

  struct Seen;
  std::string directory_;
  uint32_t chunks_per_file_;
  std::unique_ptr<Seen> seen_;
  CarveStats stats_;
  std::vector<std::string> files_;
  std::map<std::string, Output> outputs_;            // by prefix
  std::unique_ptr<binxml::ChunkRenderer> renderer_;  // for a chunk's first record's channel
  std::unique_ptr<binxml::TextBuffer> text_;
  std::vector<uint8_t> repaired_;
  std::string write_error_;
};

}  // namespace yagura::event

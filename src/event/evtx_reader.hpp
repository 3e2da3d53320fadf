// EvtxReader: the records of a binary Windows event log, as XML.
//
// The records are rendered by Yagura's own EVTX/BinXML reader (evtx_native.hpp, binxml.hpp),
// which writes for every record exactly the XML text libevtx writes, several times faster.
// libevtx stays the reference and the fallback:
// - A file is read natively only when its layout leaves no doubt about which records libevtx
//   would list: every chunk in use passes its checksums, the chunks in use are exactly the
//   ones the file header counts, and every chunk's records match its header. Any other file
//   (truncated, corrupted, half-written) goes through libevtx as a whole, with the same
//   diagnostics as ever.
// - A record the native reader will not vouch for (a construct or value whose libevtx rendering
//   it does not reproduce, or text over the record size limit, where it stops early) is
//   rendered by libevtx instead, by its index; fallback_records() counts them.
// - Deleted records recovered from the chunks' free space always come from libevtx.
//
// Through libevtx the reader hands on every record and reports each one libevtx cannot read.
// Then, if asked, come the recovered deleted records, numbered after the regular ones: those
// whose EventRecordID is also a regular record's are left out (free space often holds stale
// copies), and fragments libevtx cannot render, or renders with garbled element names (a
// template that no longer fits), are only summed up in one warning, since they are leftovers
// rather than records of the log. Buffers are reused across records and files.
// Internal to src/event and to the scan's workers (large files a range of chunks each); one
// per thread, not thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/diagnostics.hpp"
#include "core/large_buffer.hpp"
#include "event/binxml.hpp"
#include "event/input.hpp"

namespace yagura::event {

namespace evtx_reading {  // evtx_reader.cpp
struct Emitter;
struct LazyLibevtx;
}  // namespace evtx_reading

// What a caller that has opened an EVTX file already knows of it, so that it is not asked
// again: samples of attacks come as hundreds of small files, and a system call costs a few
// microseconds on virtual machines.
struct EvtxOpenFile {
  int fd = -1;        // the file, read by offset and left open; -1: opened by path
  int64_t size = -1;  // its size as fstat gave it (a regular file); -1: unknown
  // Its first bytes, from offset 0 (as read to detect its format): the file header is taken
  // from them when they hold all of it.
  std::string_view first_bytes;
};

class EvtxReader {
 public:
  using OpenFile = EvtxOpenFile;

  // Reads the EVTX file at `path`; diagnostics name `display_path`. Returns false when the file
  // cannot be opened as EVTX at all. libevtx, where it takes over, opens the file by `path`
  // itself, whatever `open` gives. When `*stop` turns true (during an on_record call), the
  // rest of the file is passed over.
  bool Read(const std::string& path, const std::string& display_path, uint32_t source_index,
            size_t max_record_size, bool recover_deleted, const RecordReader::OnRecord& on_record,
            const RecordReader::OnProgress& on_progress, Diagnostics& diagnostics, ReadStats& stats,
            const OpenFile& open = {}, const bool* stop = nullptr);

  // Reads every file through libevtx alone (the reference, for comparisons and benchmarks).
  void set_native(bool native) { native_ = native; }
  // Files up to this size are kept whole after the first pass; of larger ones the first pass
  // keeps this much of the chunks in use for the second (WHOLE_FILE_LIMIT; tests set less, to
  // read small files as large ones are read).
  void set_whole_file_limit(uint64_t bytes) { whole_file_limit_ = bytes; }
  // Records rendered natively with an outline carry only the text their outline points at,
  // not their XML (binxml::ChunkRenderer::set_outline_only); see Record::outline. Not for a
  // file whose recovered records follow: those are told from stale copies by the regular
  // records' EventRecordID, read from their XML.
  void set_outline_only(bool on) { outline_only_ = on; }

  // A large file read by several readers, a range of chunks each (a scan with several threads).
  // MakePlan() checks the file once, as Read() does before reading natively; then each
  // ReadChunks() renders the records of chunks [first, last) of the plan, numbered on from the
  // records of the chunks before. Range by range, the records, numbers and diagnostics are
  // those Read() gives (without recovering deleted records, which are libevtx's alone).
  struct ChunkPlan {
    uint64_t offset;  // in the file
    uint32_t free_offset;
    uint32_t records;
  };
  struct Plan {
    std::vector<ChunkPlan> chunks;
    uint64_t file_size = 0;
  };
  // False when the file is not to be read natively (Read() would read it through libevtx).
  bool MakePlan(const std::string& path, Plan& plan);
  void ReadChunks(const std::string& path, const std::string& display_path, uint32_t source_index,
                  size_t max_record_size, const Plan& plan, size_t first, size_t last,
                  const RecordReader::OnRecord& on_record, Diagnostics& diagnostics,
                  ReadStats& stats);

  // Over the reader's lifetime: files read natively, records rendered natively, and records
  // of natively read files that were rendered by libevtx instead.
  [[nodiscard]] uint64_t native_files() const { return native_files_; }
  [[nodiscard]] uint64_t native_records() const { return native_records_; }
  [[nodiscard]] uint64_t fallback_records() const { return fallback_records_; }

 private:
  // Files up to this size are kept in memory after the first pass. Of larger ones, the first
  // pass keeps the chunks' bytes in use, packed, up to this much (logs made of partly filled
  // chunks, such as samples joined together, then need no second read); the second reads the
  // chunks that did not fit again, one at a time. Reading them again took about a twentieth of
  // a scan of 200 MiB of the samples' chunks.
  static constexpr uint64_t WHOLE_FILE_LIMIT = 64u << 20;

  // `first_bytes`: the file's first bytes, if known (OpenFile).
  // `keep_for_second_pass`: a second pass of this reader follows (Read), and may use what the
  // first kept (kept_at_).
  bool PlanNative(int fd, uint64_t file_size, std::string_view first_bytes,
                  bool keep_for_second_pass);
  // PlanNative() of the open file `open.fd`, when it is a regular file (known to be one when
  // `open.size` is given); `file_size` receives its size.
  bool PlanFile(const OpenFile& open, uint64_t& file_size, bool keep_for_second_pass);
  // Reads the chunk at `offset` into `into` as far as its records go (the free-space offset
  // its header gives), or whole when it has no such header; false when it cannot be read.
  // Nothing reads past the free-space offset of a chunk in use: the renderer is bound to it.
  bool ReadChunkInUse(int fd, uint64_t offset, uint8_t* into);
  // The chunk at `offset`, read as far as `free_offset` (the plan's), or null. `kept`: where
  // the first pass kept the chunk in kept_, or NOT_KEPT.
  static constexpr uint64_t NOT_KEPT = UINT64_MAX;
  const uint8_t* LoadChunk(int fd, uint64_t offset, uint32_t free_offset, uint64_t kept);
  bool ReadNative(int fd, const std::string& path, const std::string& display_path,
                  uint32_t source_index, size_t max_record_size, bool recover_deleted,
                  const RecordReader::OnRecord& on_record,
                  const RecordReader::OnProgress& on_progress, Diagnostics& diagnostics,
                  ReadStats& stats, uint64_t file_size);
  // Renders the records of chunks [first, last) of `chunks`, the first of them the file's
  // record `index` (from 0) of `regular`; a record the renderer declines comes from `libevtx`.
  // `kept`: where kept_ holds each chunk (kept_at_, for the second pass of a Read), or empty.
  void RenderChunks(int fd, const std::string& path, const std::string& display_path,
                    size_t max_record_size, const std::vector<ChunkPlan>& chunks,
                    const std::vector<uint64_t>& kept, size_t first,
                    size_t last, uint64_t index, uint64_t regular, evtx_reading::Emitter& emitter,
                    evtx_reading::LazyLibevtx& libevtx, Diagnostics& diagnostics,
                    ReadStats& stats);
  bool ReadLibevtx(const std::string& path, const std::string& display_path,
                   uint32_t source_index, size_t max_record_size, bool recover_deleted,
                   const RecordReader::OnRecord& on_record,
                   const RecordReader::OnProgress& on_progress, Diagnostics& diagnostics,
                   ReadStats& stats);

  std::vector<char> xml_;
  // The whole file (its chunks as far as in use), below the limit; in 2 MiB pages, which a
  // reader of hundreds of files of different sizes does not fault in 4 KiB at a time.
  LargeBuffer file_;
  size_t file_capacity_ = 0;
  [[nodiscard]] uint8_t* file_data() { return reinterpret_cast<uint8_t*>(file_.get()); }
  std::vector<uint8_t> chunk_;  // one chunk, otherwise
  // Otherwise, the bytes in use of the first chunks, one after another (whole_file_limit_ of
  // them, and a chunk's room past them), and where each chunk of plan_ starts in it (NOT_KEPT
  // for none). Only the second pass of the same Read() uses them.
  LargeBuffer kept_;
  uint64_t kept_capacity_ = 0;
  std::vector<uint64_t> kept_at_;
  uint64_t whole_file_limit_ = WHOLE_FILE_LIMIT;
  [[nodiscard]] uint8_t* kept_data() { return reinterpret_cast<uint8_t*>(kept_.get()); }
  bool whole_ = false;
  std::vector<ChunkPlan> plan_;
  binxml::ChunkRenderer renderer_;
  binxml::TextBuffer text_;
  std::vector<binxml::OutlineStep> outline_;  // of the record in text_
  bool native_ = true;
  bool outline_only_ = false;
  uint64_t native_files_ = 0;
  uint64_t native_records_ = 0;
  const bool* stop_ = nullptr;  // Read's `stop`, while it reads
  uint64_t fallback_records_ = 0;
};

}  // namespace yagura::event

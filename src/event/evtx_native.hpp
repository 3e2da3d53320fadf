// The EVTX container: file header, 64 KiB chunks and the records in them, read directly from
// the file's bytes (the BinXML inside each record is binxml.hpp's business).
//
// Layout (all integers little-endian): a 4 KiB file header ("ElfFile\0", first and last chunk
// number, next record identifier, version, chunk count, flags, CRC32 of its first 120 bytes),
// then chunks of 64 KiB. A chunk opens with a 512-byte header ("ElfChnk\0", record number and
// identifier ranges, the offsets of the last record and of the free space, the CRC32 of the
// records, 64 common-string and 32 template offsets, the CRC32 of the header itself) followed by
// records packed from offset 512 up to the free-space offset. A record is "**\0\0", its size, its
// identifier, its FILETIME, BinXML, and the size again.
//
// These functions only look; they never trust a size or offset before checking it against the
// buffer. Internal to src/event.
#pragma once

#include <cstddef>
#include <cstdint>

namespace yagura::event::evtx {

inline constexpr size_t FILE_HEADER_SIZE = 4096;
inline constexpr size_t CHUNK_SIZE = 65536;
inline constexpr size_t CHUNK_HEADER_SIZE = 512;
inline constexpr size_t RECORD_HEADER_SIZE = 24;

struct FileHeader {
  uint64_t first_chunk = 0;
  uint64_t last_chunk = 0;
  uint64_t next_record_id = 0;
  uint32_t header_size = 0;
  uint16_t minor_version = 0;
  uint16_t major_version = 0;
  uint16_t block_size = 0;
  uint16_t chunk_count = 0;
  uint32_t flags = 0;
  bool checksum_ok = false;
};

// Reads the file header; false when `data` does not start with one.
bool ParseFileHeader(const uint8_t* data, size_t size, FileHeader& header);

enum class ChunkState : uint8_t {
  kValid,
  kUnused,              // all zero
  kNoSignature,         // data but no "ElfChnk"
  kBadHeaderChecksum,
  kBadRecordsChecksum,  // includes a free-space offset outside the chunk
  kTruncated,           // fewer than 64 KiB
};

struct ChunkHeader {
  uint64_t first_record_number = 0;
  uint64_t last_record_number = 0;
  uint64_t first_record_id = 0;
  uint64_t last_record_id = 0;
  uint32_t last_record_offset = 0;
  uint32_t free_offset = 0;
};

// Classifies the chunk of `size` bytes (normally CHUNK_SIZE) and reads its header.
ChunkState CheckChunk(const uint8_t* chunk, size_t size, ChunkHeader& header);

// How far the bytes of a chunk matter, from its first CHUNK_HEADER_SIZE bytes alone: the
// free-space offset its header declares, when the header has the signature and that offset
// lies within the chunk; CHUNK_SIZE otherwise (CheckChunk then tells what is wrong).
uint32_t DeclaredEnd(const uint8_t* chunk_header);

// Whether the records of a valid chunk (CheckChunk) are exactly what its header says: ids in
// sequence from its first to its last, the last at its offset, as many as its numbers span.
// Their count goes to `count`.
bool RecordsMatchHeader(const uint8_t* chunk, const ChunkHeader& header, uint32_t& count);

// A chunk whose header is sound (its checksum holds) but whose records are not all (a checksum
// that fails: the chunk was partly overwritten), cut to its records from the first up to the
// first that is not well formed or out of sequence: written to `repaired` (CHUNK_SIZE bytes) with
// a header and checksums that say so, so that CheckChunk and RecordsMatchHeader accept it.
// Returns the records kept; 0 (and `repaired` unspecified) when the header is not sound or no
// record is.
uint32_t RepairChunk(const uint8_t* chunk, uint8_t* repaired);

// A file header for `chunk_count` chunks (at most 65,535) whose records end before
// `next_record_id`, as Windows writes it, checksum included: `out` gets FILE_HEADER_SIZE bytes.
void WriteFileHeader(uint16_t chunk_count, uint64_t next_record_id, uint8_t* out);

struct RecordView {
  uint32_t offset = 0;  // in the chunk
  uint32_t size = 0;
  uint64_t id = 0;
  uint64_t written = 0;  // FILETIME
  uint32_t binxml_begin = 0;
  uint32_t binxml_end = 0;
};

// Walks the records of a chunk from offset 512 up to `end` (the free-space offset).
class RecordWalker {
 public:
  enum class Status : uint8_t { kRecord, kEnd, kBad };
  RecordWalker(const uint8_t* chunk, size_t size, uint32_t end);
  // kBad: the bytes at the current offset are not a well-formed record (walking stops).
  Status Next(RecordView& record);

 private:
  const uint8_t* chunk_;
  uint32_t end_;
  uint32_t offset_ = CHUNK_HEADER_SIZE;
};

}  // namespace yagura::event::evtx

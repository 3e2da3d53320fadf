// Checks follow the file's own redundancy: signatures, the two CRC32s of every chunk and the
// size copy at the end of every record. A record walk stops at the first record that fails them.
// The CRC32s are libdeflate's, which folds with carry-less multiplication: five times zlib's
// speed here, where every chunk of every file is checked before its records are read.
#include "event/evtx_native.hpp"

#include <libdeflate.h>

#include <algorithm>
#include <cstring>

namespace yagura::event::evtx {
namespace {

uint16_t U16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | p[1] << 8); }
uint32_t U32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 |
         static_cast<uint32_t>(p[2]) << 16 | static_cast<uint32_t>(p[3]) << 24;
}
uint64_t U64(const uint8_t* p) { return U32(p) | static_cast<uint64_t>(U32(p + 4)) << 32; }

}  // namespace

bool ParseFileHeader(const uint8_t* data, size_t size, FileHeader& header) {
  if (size < 128 || std::memcmp(data, "ElfFile", 8) != 0) return false;
  header.first_chunk = U64(data + 8);
  header.last_chunk = U64(data + 16);
  header.next_record_id = U64(data + 24);
  header.header_size = U32(data + 32);
  header.minor_version = U16(data + 36);
  header.major_version = U16(data + 38);
  header.block_size = U16(data + 40);
  header.chunk_count = U16(data + 42);
  header.flags = U32(data + 120);
  header.checksum_ok = libdeflate_crc32(0, data, 120) == U32(data + 124);
  return true;
}

ChunkState CheckChunk(const uint8_t* chunk, size_t size, ChunkHeader& header) {
  header = ChunkHeader{};
  if (size < CHUNK_SIZE) return ChunkState::kTruncated;
  if (std::memcmp(chunk, "ElfChnk", 8) != 0) {
    // All zero: the first byte is, and every byte equals the next (one vectorised compare).
    return chunk[0] == 0 && std::memcmp(chunk, chunk + 1, CHUNK_SIZE - 1) == 0
               ? ChunkState::kUnused
               : ChunkState::kNoSignature;
  }
  header.first_record_number = U64(chunk + 8);
  header.last_record_number = U64(chunk + 16);
  header.first_record_id = U64(chunk + 24);
  header.last_record_id = U64(chunk + 32);
  header.last_record_offset = U32(chunk + 44);
  header.free_offset = U32(chunk + 48);
  uint32_t header_crc = libdeflate_crc32(0, chunk, 120);
  header_crc = libdeflate_crc32(header_crc, chunk + 128, CHUNK_HEADER_SIZE - 128);
  if (header_crc != U32(chunk + 124)) return ChunkState::kBadHeaderChecksum;
  if (header.free_offset < CHUNK_HEADER_SIZE || header.free_offset > CHUNK_SIZE) {
    return ChunkState::kBadRecordsChecksum;
  }
  const uint32_t records_crc =
      libdeflate_crc32(0, chunk + CHUNK_HEADER_SIZE, header.free_offset - CHUNK_HEADER_SIZE);
  if (records_crc != U32(chunk + 52)) return ChunkState::kBadRecordsChecksum;
  return ChunkState::kValid;
}

uint32_t DeclaredEnd(const uint8_t* chunk_header) {
  if (std::memcmp(chunk_header, "ElfChnk", 8) != 0) return CHUNK_SIZE;
  const uint32_t free_offset = U32(chunk_header + 48);
  return free_offset < CHUNK_HEADER_SIZE || free_offset > CHUNK_SIZE ? uint32_t{CHUNK_SIZE}
                                                                      : free_offset;
}

RecordWalker::RecordWalker(const uint8_t* chunk, size_t size, uint32_t end)
    : chunk_(chunk), end_(static_cast<uint32_t>(std::min<size_t>(end, size))) {}

bool RecordsMatchHeader(const uint8_t* chunk, const ChunkHeader& header, uint32_t& count) {
  RecordWalker walker(chunk, CHUNK_SIZE, header.free_offset);
  RecordView record;
  count = 0;
  uint64_t last_id = 0;
  uint32_t last_offset = 0;
  RecordWalker::Status status;
  while ((status = walker.Next(record)) == RecordWalker::Status::kRecord) {
    if (count == 0 ? record.id != header.first_record_id : record.id != last_id + 1) return false;
    last_id = record.id;
    last_offset = record.offset;
    ++count;
  }
  return status == RecordWalker::Status::kEnd && count > 0 && last_id == header.last_record_id &&
         last_offset == header.last_record_offset &&
         header.last_record_number - header.first_record_number + 1 == count;
}

uint32_t RepairChunk(const uint8_t* chunk, uint8_t* repaired) {
  ChunkHeader header;
  const ChunkState state = CheckChunk(chunk, CHUNK_SIZE, header);
  if (state != ChunkState::kValid && state != ChunkState::kBadRecordsChecksum) return 0;
  // The records as far as they hold: the free-space offset may be what was overwritten.
  RecordWalker walker(chunk, CHUNK_SIZE, CHUNK_SIZE);
  RecordView record;
  uint32_t count = 0;
  uint32_t last_offset = 0;
  uint32_t end = CHUNK_HEADER_SIZE;
  const uint32_t declared_end = DeclaredEnd(chunk);
  while (end < declared_end && walker.Next(record) == RecordWalker::Status::kRecord &&
         record.id == header.first_record_id + count &&
         record.offset + record.size <= declared_end) {
    last_offset = record.offset;
    end = record.offset + record.size;
    ++count;
  }
  if (count == 0) return 0;
  std::memcpy(repaired, chunk, CHUNK_SIZE);
  auto put32 = [&](size_t at, uint32_t v) {
    for (int i = 0; i < 4; ++i) repaired[at + i] = static_cast<uint8_t>(v >> (8 * i));
  };
  auto put64 = [&](size_t at, uint64_t v) {
    put32(at, static_cast<uint32_t>(v));
    put32(at + 4, static_cast<uint32_t>(v >> 32));
  };
  put64(16, header.first_record_number + count - 1);
  put64(32, header.first_record_id + count - 1);
  put32(44, last_offset);
  put32(48, end);
  std::memset(repaired + end, 0, CHUNK_SIZE - end);  // what followed is not this chunk's any more
  put32(52, libdeflate_crc32(0, repaired + CHUNK_HEADER_SIZE, end - CHUNK_HEADER_SIZE));
  uint32_t header_crc = libdeflate_crc32(0, repaired, 120);
  header_crc = libdeflate_crc32(header_crc, repaired + 128, CHUNK_HEADER_SIZE - 128);
  put32(124, header_crc);
  return count;
}

void WriteFileHeader(uint16_t chunk_count, uint64_t next_record_id, uint8_t* out) {
  auto put16 = [&](size_t at, uint16_t v) {
    out[at] = static_cast<uint8_t>(v);
    out[at + 1] = static_cast<uint8_t>(v >> 8);
  };
  auto put32 = [&](size_t at, uint32_t v) {
    put16(at, static_cast<uint16_t>(v));
    put16(at + 2, static_cast<uint16_t>(v >> 16));
  };
  auto put64 = [&](size_t at, uint64_t v) {
    put32(at, static_cast<uint32_t>(v));
    put32(at + 4, static_cast<uint32_t>(v >> 32));
  };
  std::memset(out, 0, FILE_HEADER_SIZE);
  std::memcpy(out, "ElfFile", 8);
  put64(8, 0);                                       // first chunk
  put64(16, chunk_count > 0 ? chunk_count - 1 : 0);  // last chunk
  put64(24, next_record_id);
  put32(32, 128);  // header size
  put16(36, 1);    // minor version
  put16(38, 3);    // major version
  put16(40, static_cast<uint16_t>(FILE_HEADER_SIZE));
  put16(42, chunk_count);
  put32(120, 0);  // flags: clean, not full
  put32(124, libdeflate_crc32(0, out, 120));
}

RecordWalker::Status RecordWalker::Next(RecordView& record) {
  if (offset_ >= end_) return Status::kEnd;
  if (end_ - offset_ < RECORD_HEADER_SIZE + 4) return Status::kBad;
  const uint8_t* p = chunk_ + offset_;
  if (std::memcmp(p, "**\0\0", 4) != 0) return Status::kBad;
  const uint32_t size = U32(p + 4);
  if (size < RECORD_HEADER_SIZE + 4 || size > end_ - offset_ || U32(p + size - 4) != size) {
    return Status::kBad;
  }
  record.offset = offset_;
  record.size = size;
  record.id = U64(p + 8);
  record.written = U64(p + 16);
  record.binxml_begin = offset_ + static_cast<uint32_t>(RECORD_HEADER_SIZE);
  record.binxml_end = offset_ + size - 4;
  offset_ += size;
  return Status::kRecord;
}

}  // namespace yagura::event::evtx

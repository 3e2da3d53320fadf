// ZIP archives as inputs: the logs inside a collection's ZIP file (a Velociraptor or KAPE
// collection, logs an agency sends zipped) are read as if the archive were a folder, without
// unpacking it first.
//
// The central directory names the members (ZIP64 included, for archives and members over
// 4 GiB); each member is read by streaming its stored or deflated bytes, with its CRC-32 and
// size checked at the end; a gzip or zstd file inside (a rotated log) is decompressed as a file
// on disk would be. Encrypted members and other compression methods are named as
// unreadable, and the others are read. A member is named "ARCHIVE!/NAME", as other tools name
// a file inside an archive, in alerts and messages. Internal to src/event.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "event/byte_source.hpp"

namespace yagura::event {

struct ZipMember {
  std::string archive;  // the archive's path
  std::string name;     // the member's name inside it
  uint64_t local_header_offset = 0;
  uint64_t compressed_size = 0;
  uint64_t size = 0;  // uncompressed
  uint32_t crc32 = 0;
  uint16_t method = 0;  // 0 stored, 8 deflate
  bool encrypted = false;
};

// Whether the regular file at `path` starts as a ZIP archive does.
[[nodiscard]] bool IsZipArchive(const std::string& path);
// Whether a file's first bytes are a ZIP archive's (a local header, or the end record of an
// empty archive).
[[nodiscard]] bool IsZipSignature(std::string_view head);

// The files of the archive (directories left out), in name order.
[[nodiscard]] Result<std::vector<ZipMember>> ListZipArchive(const std::string& path);

// The member's bytes, decompressed (and a gzip or zstd file inside decompressed too). Fails
// for encrypted members and unknown methods; a read that finds the member damaged (a CRC-32 or
// size that does not match) fails part way.
[[nodiscard]] Result<std::unique_ptr<ByteSource>> OpenZipMember(const ZipMember& member);

}  // namespace yagura::event

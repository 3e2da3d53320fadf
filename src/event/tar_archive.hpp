// tar archives as inputs: a collection packed as .tar, .tar.gz (.tgz) or .tar.zst (what UAC
// and most Linux triage scripts write) is read as the folder it holds, without unpacking it.
//
// ustar, GNU and pax archives are read: long names (GNU 'L' members, pax `path`), sizes past
// 8 GiB (base-256 and pax `size`), a ustar prefix. Regular files are members; directories,
// links and devices are not (a hard link's target is read where it is stored). Sparse files
// and multi-volume continuations are named as not read. A damaged header or an archive cut
// short ends the listing there, and the members before it are kept.
//
// A compressed archive cannot be read from the middle: listing it decompresses it once, and
// its members, read in archive order, then share one decompressing stream that each member
// hands on to the next (a member read out of order starts the stream again). An uncompressed
// archive is read by offset. A gzip or zstd file inside (a rotated log) is decompressed too.
// A member is named "ARCHIVE!/NAME", as a ZIP archive's are. Internal to src/event.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "event/byte_source.hpp"

namespace yagura::event {

// One archive, shared by its members: its path and the stream they hand on.
class TarArchive;

struct TarMember {
  std::string name;          // as stored, without a leading "./" or "/"
  uint64_t data_offset = 0;  // in the archive's decompressed bytes
  uint64_t size = 0;
};

struct TarListing {
  std::shared_ptr<TarArchive> archive;
  std::vector<TarMember> members;  // regular files, in archive order
  // Files that are in the archive but are not read, with why ("a sparse file").
  std::vector<std::pair<std::string, std::string>> not_read;
  // Why listing stopped before the archive's end (a damaged header, an archive cut short);
  // empty when it reached the end. The members before it are listed.
  std::string damage;
};

// Whether the regular file at `path` starts, once decompressed, with a ustar, GNU or pax header
// whose checksum holds.
[[nodiscard]] bool IsTarArchive(const std::string& path);
// Whether a file's first bytes (decompressed) are such a header.
[[nodiscard]] bool IsTarHeader(std::string_view head);

// Whether the archive's members are read through one decompressing stream they share (a
// compressed archive), rather than each by offset.
[[nodiscard]] bool TarMembersShareAStream(const TarArchive& archive);

// The archive's members. Fails only when the archive cannot be opened or its first header is
// not a tar header.
[[nodiscard]] Result<TarListing> ListTarArchive(const std::string& path);

// The member's bytes (a gzip or zstd file inside decompressed too). A read that finds the
// archive ending inside the member fails part way.
[[nodiscard]] Result<std::unique_ptr<ByteSource>> OpenTarMember(
    const std::shared_ptr<TarArchive>& archive, const TarMember& member);

}  // namespace yagura::event

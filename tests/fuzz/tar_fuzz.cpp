// Fuzz harness of tar archives as inputs (event/tar_archive.hpp): ustar, GNU and pax headers,
// long names, base-256 sizes and sparse members, from arbitrary bytes. The input's first byte
// steers: its bit 0 gzips the rest, so members are read through the shared stream of a
// compressed archive rather than by offset; its bit 1 sets the checksum of every block that
// looks like a header, so that mutations get past the checksum.
//
// Invariants:
//   - a listing names files only (no empty name, none ending in '/'), each after the one before
//     in the archive, its data starting on a 512-byte block;
//   - a member that reads to its end gives exactly its declared size (unless what is inside was
//     decoded: a gzip or zstd file, UTF-16 text), and reading stops cleanly at an error;
//   - members read in order through the shared stream give what a fresh stream gives.
//
// Built with -fsanitize=fuzzer (YAGURA_LIBFUZZER; scripts/fuzz) it is a libFuzzer target.
// Otherwise its own main() replays the files and directories named on the command line and
// deterministic mutations of each, so it runs as a ctest.
#include <zlib.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <string_view>

#include "event/tar_archive.hpp"
#include "replay_main.hpp"

namespace {

using namespace yagura::event;

size_t members_read = 0;  // for the replay's report

[[noreturn]] void Fail(const char* what) {
  std::fprintf(stderr, "tar_fuzz: invariant violated: %s\n", what);
  std::abort();
}

// Members are read up to this much each: a declared size may be anything.
constexpr uint64_t READ_LIMIT = uint64_t{4} << 20;

std::string Gzip(std::string_view data) {
  z_stream stream{};
  if (deflateInit2(&stream, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return {};
  std::string out(deflateBound(&stream, data.size()) + 64, '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream.avail_in = static_cast<uInt>(data.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  deflate(&stream, Z_FINISH);
  out.resize(stream.total_out);
  deflateEnd(&stream);
  return out;
}

// The member's bytes (up to READ_LIMIT), and whether it read to its end.
std::string ReadMember(const TarListing& listing, const TarMember& member, bool& whole) {
  whole = false;
  std::string out;
  auto source = OpenTarMember(listing.archive, member);
  if (!source) return out;
  ++members_read;
  char buffer[4096];
  while (out.size() < READ_LIMIT) {
    auto got = (*source)->Read(buffer, sizeof buffer);
    if (!got) return out;
    if (*got == 0) {
      whole = true;
      // A member read as it is knows its size; one decoded (a gzip or zstd file inside, UTF-16
      // text) does not, and its size is its own.
      const int64_t expected = (*source)->expected_size();
      if (expected >= 0 &&
          (expected != static_cast<int64_t>(member.size) || out.size() != member.size))
        Fail("a member read to its end has its declared size");
      return out;
    }
    out.append(buffer, *got);
  }
  return out;
}

// Sets the checksum of every block that looks like a header, so that mutations get past it.
void RepairChecksums(std::string& bytes) {
  for (size_t at = 0; at + 512 <= bytes.size(); at += 512) {
    if (bytes.compare(at + 257, 5, "ustar") != 0) continue;
    bytes.replace(at + 148, 8, "        ");
    unsigned sum = 0;
    for (size_t i = 0; i < 512; ++i) sum += static_cast<unsigned char>(bytes[at + i]);
    char field[8];
    std::snprintf(field, sizeof field, "%06o", sum & 0777777);
    bytes.replace(at + 148, 6, field, 6);
    bytes[at + 154] = '\0';
  }
}

void Run(std::string_view input) {
  if (input.empty()) return;
  const auto control = static_cast<unsigned char>(input[0]);
  std::string tar(input.substr(1));
  if ((control & 2) != 0) RepairChecksums(tar);
  const std::string bytes = (control & 1) != 0 ? Gzip(tar) : tar;
  yagura::fuzz::WithTempFile(bytes, [](const char* path) {
    (void)IsTarArchive(path);
    auto listing = ListTarArchive(path);
    if (listing) {
      uint64_t after = 0;
      std::vector<std::string> in_order;
      for (const TarMember& member : listing->members) {
        if (member.name.empty() || member.name.back() == '/') Fail("a directory listed");
        if (member.data_offset < after + 512 || member.data_offset % 512 != 0)
          Fail("members in archive order, each on a block after its header");
        after = member.data_offset + member.size;
        bool whole = false;
        in_order.push_back(ReadMember(*listing, member, whole));
      }
      // Out of order (the last first) the stream starts again and gives the same bytes.
      for (size_t i = listing->members.size(); i-- > 0 && i + 3 >= listing->members.size();) {
        bool whole = false;
        if (ReadMember(*listing, listing->members[i], whole) != in_order[i])
          Fail("a member read again gives the same bytes");
      }
    }
  });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Run(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}

#ifndef YAGURA_LIBFUZZER

namespace {

// Magics, type flags and extended header keys, put in by the mutations.
// clang-format off
constexpr std::string_view INSERTS[] = {
    std::string_view("ustar\0" "00", 8), std::string_view("ustar  \0", 8), "0000777", "\x80",
    "L", "x", "S", "K", "g", "5", "30 path=aaaaaaaaaaaaaaaaaaaaa\n", "16 size=99999\n",
    "20 GNU.sparse.map=1\n", std::string_view("\0\0\0\0\0\0\0\0", 8), "././@LongLink",
};
// clang-format on

std::string Mutate(const std::string& seed, std::mt19937& random) {
  return yagura::fuzz::MutateByEdits(seed, random, INSERTS);
}

}  // namespace

int main(int argc, char** argv) {
  yagura::fuzz::Replayed replayed;
  if (int usage = yagura::fuzz::ReplaySeeds(argc, argv, 300, 20261130, Mutate, replayed))
    return usage;
  std::printf("tar_fuzz: %zu inputs from %zu seeds (%zu members opened), no failures\n",
              replayed.runs, replayed.seeds, members_read);
  return 0;
}

#endif

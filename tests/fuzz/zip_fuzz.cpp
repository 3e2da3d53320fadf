// Fuzz harness of ZIP archives as inputs (event/zip_archive.hpp): the central directory and its
// ZIP64 records, local headers and stored or deflated members, from arbitrary bytes.
//
// Invariants:
//   - listing never reads outside the file, and every member it names is a file (no name
//     ending in '/'), in name order;
//   - a member that reads to its end gives exactly its declared size (anything else is an
//     error, not data), and reading stops cleanly at an error.
//
// Built with -fsanitize=fuzzer (YAGURA_LIBFUZZER; scripts/fuzz) it is a libFuzzer target.
// Otherwise its own main() replays the files and directories named on the command line and
// deterministic mutations of each, so it runs as a ctest.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <string_view>

#include "event/zip_archive.hpp"
#include "replay_main.hpp"

namespace {

using namespace yagura::event;

size_t members_read = 0;  // for the replay's report

[[noreturn]] void Fail(const char* what) {
  std::fprintf(stderr, "zip_fuzz: invariant violated: %s\n", what);
  std::abort();
}

// Members are read up to this much each: a declared size may be anything.
constexpr uint64_t READ_LIMIT = uint64_t{4} << 20;

void Run(std::string_view input) {
  yagura::fuzz::WithTempFile(input, [](const char* path) {
    auto members = ListZipArchive(path);
    if (members) {
      for (size_t i = 0; i < members->size(); ++i) {
        const ZipMember& member = (*members)[i];
        if (!member.name.empty() && member.name.back() == '/') Fail("a directory listed");
        if (i > 0 && (*members)[i - 1].name > member.name) Fail("members in name order");
        auto source = OpenZipMember(member);
        if (!source) continue;
        ++members_read;
        char buffer[4096];
        uint64_t total = 0;
        while (total < READ_LIMIT) {
          auto got = (*source)->Read(buffer, sizeof buffer);
          if (!got) break;
          if (*got == 0) {
            // A member read as it is knows its size; one decoded (a gzip or zstd file inside,
            // UTF-16 text) does not, and its size is its own.
            const int64_t expected = (*source)->expected_size();
            if (expected >= 0 &&
                (expected != static_cast<int64_t>(member.size) || total != member.size))
              Fail("a member read to its end has its declared size");
            break;
          }
          total += *got;
        }
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

// Signatures and all-ones fields, put in by the mutations.
// clang-format off
constexpr std::string_view INSERTS[] = {
    "PK\x03\x04", "PK\x01\x02", "PK\x05\x06", "PK\x06\x06", "PK\x06\x07", "\xff\xff\xff\xff",
    "\xff\xff", std::string_view("\0\0\0\0", 4), std::string_view("\x01\0\x18\0", 4), "/",
};
// clang-format on

std::string Mutate(const std::string& seed, std::mt19937& random) {
  return yagura::fuzz::MutateByEdits(seed, random, INSERTS);
}

}  // namespace

int main(int argc, char** argv) {
  yagura::fuzz::Replayed replayed;
  if (int usage = yagura::fuzz::ReplaySeeds(argc, argv, 300, 20261129, Mutate, replayed))
    return usage;
  std::printf("zip_fuzz: %zu inputs from %zu seeds (%zu members opened), no failures\n",
              replayed.runs, replayed.seeds, members_read);
  return 0;
}

#endif

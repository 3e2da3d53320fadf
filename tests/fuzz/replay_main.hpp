// The main() of a fuzz harness built without libFuzzer: replays every seed (files, or
// directories read recursively; licence notes *.md skipped) and a fixed number of
// deterministic mutations of each through LLVMFuzzerTestOneInput. The count comes from
// YAGURA_FUZZ_MUTATIONS when set.
#pragma once

#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace yagura::fuzz {

// Calls `use(path)` with `bytes` written to a temporary file, removed after: for harnesses of
// readers that take files. Does nothing when the file cannot be written.
template <typename Use>
void WithTempFile(std::string_view bytes, Use&& use) {
  char path[] = "/tmp/yagura-fuzz-XXXXXX";
  const int fd = ::mkstemp(path);
  if (fd < 0) return;
  const bool written =
      ::write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size());
  ::close(fd);
  if (written) use(static_cast<const char*>(path));
  ::unlink(path);
}

struct Replayed {
  size_t runs = 0;
  size_t seeds = 0;
};

// Returns 2 (usage) when no seed was given; `mutate(seed, random)` makes one variant.
template <typename Mutate>
int ReplaySeeds(int argc, char** argv, int default_mutations, uint32_t random_seed, Mutate&& mutate,
                Replayed& replayed) {
  namespace fs = std::filesystem;
  std::vector<fs::path> files;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (fs::is_directory(arg)) {
      for (const auto& entry : fs::recursive_directory_iterator(arg))
        if (entry.is_regular_file() && entry.path().extension() != ".md")
          files.push_back(entry.path());
    } else {
      files.emplace_back(arg);
    }
  }
  std::sort(files.begin(), files.end());
  if (files.empty()) {
    std::fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
    return 2;
  }
  const char* configured = std::getenv("YAGURA_FUZZ_MUTATIONS");
  const int mutations = configured != nullptr ? std::atoi(configured) : default_mutations;
  std::mt19937 random(random_seed);
  for (const auto& path : files) {
    std::ifstream in(path, std::ios::binary);
    std::string seed{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(seed.data()), seed.size());
    ++replayed.runs;
    for (int i = 0; i < mutations; ++i) {
      std::string input = mutate(seed, random);
      LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(input.data()), input.size());
      ++replayed.runs;
    }
  }
  replayed.seeds = files.size();
  return 0;
}

// A variant of `seed` for the replay: one to `max_edits` edits, each inserting one of
// `inserts` somewhere (twice as likely as the others), flipping a bit, or erasing up to
// `max_erase` bytes. Harnesses choose inserts that matter to their grammar.
inline std::string MutateByEdits(const std::string& seed, std::mt19937& random,
                                 std::span<const std::string_view> inserts, int max_edits = 4,
                                 size_t max_erase = 8) {
  std::string out = seed;
  const int edits = 1 + static_cast<int>(random() % static_cast<uint32_t>(max_edits));
  for (int i = 0; i < edits; ++i) {
    switch (random() % 4) {
      case 0:
      case 1: {
        const size_t at = out.empty() ? 0 : random() % (out.size() + 1);
        out.insert(at, inserts[random() % inserts.size()]);
        break;
      }
      case 2:
        if (!out.empty()) out[random() % out.size()] ^= static_cast<char>(1u << (random() % 8));
        break;
      default:
        if (!out.empty()) out.erase(random() % out.size(), 1 + random() % max_erase);
        break;
    }
  }
  return out;
}

}  // namespace yagura::fuzz

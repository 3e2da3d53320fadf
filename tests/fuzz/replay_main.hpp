// The main() of a fuzz harness built without libFuzzer: replays every seed (files, or
// directories read recursively; licence notes *.md skipped) and a fixed number of
// deterministic mutations of each through LLVMFuzzerTestOneInput. The count comes from
// YAGURA_FUZZ_MUTATIONS when set.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace yagura::fuzz {

struct Replayed {
  size_t runs = 0;
  size_t seeds = 0;
};

// Returns 2 (usage) when no seed was given; `mutate(seed, random)` makes one variant.
template <typename Mutate>
int ReplaySeeds(int argc, char** argv, int default_mutations, uint32_t random_seed,
                Mutate&& mutate, Replayed& replayed) {
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

}  // namespace yagura::fuzz

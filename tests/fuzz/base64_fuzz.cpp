// Fuzz harness of `yagura extract-base64`'s decoder (FindBase64Payloads) on any text: command
// lines, script blocks and URLs as attackers write them, and bytes that are none of these.
//
// Invariants:
//   - every payload's base64 is a piece of the input, of at least the minimum length;
//   - its text is valid UTF-8, no longer than the inflation bound, and a binary payload names
//     its file type and has no text;
//   - layers lie between 1 and MAX_LAYERS, and only a payload of several layers has an outer
//     text;
//   - the payloads of a text are the same whether it is given alone or between spaces.
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

#include "replay_main.hpp"
#include "scan/base64_payloads.hpp"

namespace {

using namespace yagura::scan;

size_t payloads_found = 0;  // for the replay's report

[[noreturn]] void Fail(const char* what, std::string_view detail) {
  std::fprintf(stderr, "base64_fuzz: invariant violated: %s\n[%.*s]\n", what,
               static_cast<int>(detail.size()), detail.data());
  std::abort();
}

bool ValidUtf8(std::string_view text) {
  for (size_t i = 0; i < text.size();) {
    const auto c = static_cast<uint8_t>(text[i]);
    const size_t length = c < 0x80         ? 1
                          : (c >> 5) == 6  ? 2
                          : (c >> 4) == 14 ? 3
                          : (c >> 3) == 30 ? 4
                                           : 0;
    if (length == 0 || i + length > text.size()) return false;
    for (size_t k = 1; k < length; ++k)
      if ((static_cast<uint8_t>(text[i + k]) & 0xc0) != 0x80) return false;
    i += length;
  }
  return true;
}

bool SamePayloads(const std::vector<Base64Payload>& a, const std::vector<Base64Payload>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].encoded != b[i].encoded || a[i].text != b[i].text || a[i].layers != b[i].layers)
      return false;
  }
  return true;
}

void Run(std::string_view input) {
  for (size_t min_length : {size_t{8}, DEFAULT_MIN_BASE64_LENGTH}) {
    const std::vector<Base64Payload> found = FindBase64Payloads(input, min_length);
    payloads_found += found.size();
    for (const Base64Payload& p : found) {
      if (input.find(p.encoded) == std::string_view::npos)
        Fail("a payload's base64 is a piece of the input", input);
      if (p.encoded.size() < min_length) Fail("a payload is at least the minimum length", input);
      if (!ValidUtf8(p.text) || !ValidUtf8(p.outer_text)) Fail("decoded text is UTF-8", input);
      if (p.text.size() > 2 * MAX_INFLATED_BYTES) Fail("inflation is bounded", input);
      if (p.encoding == "binary" && (p.file_type.empty() || !p.text.empty()))
        Fail("a binary payload names its file type and has no text", input);
      if (p.layers < 1 || p.layers > MAX_LAYERS) Fail("layers are bounded", input);
      if ((p.layers > 1) != !p.outer_text.empty())
        Fail("only a payload of several layers has an outer text", input);
    }
    const std::string spaced = " " + std::string(input) + " ";
    if (!SamePayloads(found, FindBase64Payloads(spaced, min_length)))
      Fail("the payloads of a text do not depend on the spaces around it", input);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Run(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}

#ifndef YAGURA_LIBFUZZER

namespace {

// Pieces of base64 and of what surrounds it, put in by the mutations.
// clang-format off
constexpr std::string_view INSERTS[] = {
    "=", "==", "/", "+", " ", "-enc ", "H4sI", "JAB", "TVqQ", "f0VMR", "UEsDB", "AAAA", "\x00",
    "\xff", "'", "\"", "http://h/", "SQBFAFgA",
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
  std::printf("base64_fuzz: %zu inputs from %zu seeds (%zu payloads found), no failures\n",
              replayed.runs, replayed.seeds, payloads_found);
  return 0;
}

#endif

// Fuzz harness of threat-intelligence input: what partner CERTs and feeds send.
//
// Every input goes through the STIX pattern parser, the STIX bundle, MISP event and list
// loaders, and the value normalisers, with these invariants:
//   - a pattern that parses prints (ToString) as text that parses to the same print, and its
//     DNF has at most MAX_CONJUNCTIONS conjunctions;
//   - every indicator a loader delivers has at least one conjunction, none of them empty;
//   - the normalisers are idempotent (a canonical form is its own canonical form), and an
//     address printed by AppendIpv6 parses back to the same bytes.
// Each line of the input is also given to the pattern parser and the normalisers alone, so
// seeds can hold many short cases.
//
// Built with -fsanitize=fuzzer (YAGURA_LIBFUZZER; scripts/fuzz) it is a libFuzzer target.
// Otherwise its own main() replays the files and directories named on the command line and
// deterministic mutations of each, so it runs as a ctest.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <random>
#include <string>
#include <string_view>

#include "core/diagnostics.hpp"
#include "core/time.hpp"
#include "intel/indicator.hpp"
#include "intel/list_feed.hpp"
#include "intel/misp_feed.hpp"
#include "intel/normalise.hpp"
#include "intel/stix_feed.hpp"
#include "intel/stix_pattern.hpp"
#include "replay_main.hpp"

namespace {

using namespace yagura;
using namespace yagura::intel;

size_t patterns_parsed = 0;  // for the replay's report
size_t indicators_delivered = 0;

[[noreturn]] void Fail(const char* what, std::string_view detail) {
  std::fprintf(stderr, "intel_fuzz: invariant violated: %s\n[%.*s]\n", what,
               static_cast<int>(detail.size()), detail.data());
  std::abort();
}

void CheckPattern(std::string_view text) {
  auto pattern = stix::ParsePattern(text);
  if (!pattern) return;
  ++patterns_parsed;
  const std::string printed = stix::ToString(*pattern);
  auto again = stix::ParsePattern(printed);
  if (!again) Fail("a printed pattern parses", printed + " <- " + std::string(text));
  if (stix::ToString(*again) != printed) Fail("a printed pattern prints the same", printed);
  auto dnf = stix::ToIndicatorDnf(*pattern);
  if (dnf && dnf->size() > stix::MAX_CONJUNCTIONS) Fail("the DNF stays within its bound", text);
}

void CheckIdempotent(const char* what, std::string_view text,
                     bool (*normalise)(std::string_view, std::string&)) {
  std::string once;
  if (!normalise(text, once)) return;
  std::string twice;
  if (!normalise(once, twice) || twice != once) Fail(what, once + " -> " + twice);
}

// A time read from text prints (FormatTimestampMs) as text that reads back to the same time.
// Offsets can carry a four-digit year past 9999 or before 0000, which RFC 3339 cannot write:
// those are left out.
void CheckTime(std::string_view text, std::optional<int64_t> ms) {
  constexpr int64_t FIRST_MS = -62'135'596'800'000 + 86'400'000;  // 0001-01-02
  constexpr int64_t LAST_MS = 253'402'214'400'000 - 86'400'000;   // 9999-12-31
  if (!ms || *ms < FIRST_MS || *ms >= LAST_MS) return;
  const std::string printed = yagura::FormatTimestampMs(*ms);
  auto again = ParseIsoDateTimeMs(printed);
  if (!again || *again != *ms) Fail("a time prints as text that reads back to it", printed);
}

void CheckValues(std::string_view text) {
  CheckIdempotent("a canonical domain is its own canonical form", text, NormaliseDomain);
  CheckIdempotent("a canonical e-mail address is its own canonical form", text, NormaliseEmail);
  CheckIdempotent("a canonical URL is its own canonical form", text,
                  [](std::string_view t, std::string& out) { return NormaliseUrl(t, out); });
  CheckIdempotent("a canonical URL (http assumed) is its own canonical form", text,
                  [](std::string_view t, std::string& out) { return NormaliseUrl(t, out, true); });
  for (HashAlgorithm algorithm : {HashAlgorithm::kMd5, HashAlgorithm::kSha256,
                                  HashAlgorithm::kSsdeep, HashAlgorithm::kTlsh}) {
    std::string once, twice;
    if (NormaliseHash(text, algorithm, once) &&
        (!NormaliseHash(once, algorithm, twice) || twice != once)) {
      Fail("a canonical hash is its own canonical form", once);
    }
  }
  if (auto address = ParseIpv6(text)) {
    std::string printed;
    AppendIpv6(*address, printed);
    auto again = ParseIpv6(printed);
    if (!again || *again != *address) Fail("a printed IPv6 address parses to itself", printed);
  }
  if (auto network = ParseIpv4Network(text)) {
    const uint32_t host_bits = network->prefix == 32 ? 0 : ~uint32_t{0} >> network->prefix;
    if (network->prefix > 32 || (network->address & host_bits) != 0) {
      Fail("an IPv4 network has its host bits cleared", text);
    }
  }
  if (auto network = ParseIpv6Network(text); network && network->prefix > 128) {
    Fail("an IPv6 prefix is at most 128", text);
  }
  (void)ParseIpv4(text);
  (void)DetectType(text);
  (void)Refang(text);
  CheckTime(text, ParseIsoDateTimeMs(text));
  CheckTime(text, stix::ParseTimestampMs(text));
}

void Run(std::string_view input) {
  CheckPattern(input);
  CheckValues(input);
  for (size_t at = 0; at < input.size();) {
    size_t end = input.find('\n', at);
    if (end == std::string_view::npos) end = input.size();
    const std::string_view line = input.substr(at, end - at);
    if (line.size() != input.size()) {
      CheckPattern(line);
      CheckValues(line);
    }
    at = end + 1;
  }

  const IndicatorSink sink = [](Indicator&& indicator) {
    ++indicators_delivered;
    if (indicator.any_of.empty()) Fail("a delivered indicator has a conjunction", indicator.id);
    for (const Conjunction& conjunction : indicator.any_of) {
      if (conjunction.empty())
        Fail("no conjunction of a delivered indicator is empty", indicator.id);
    }
  };
  Diagnostics diagnostics;
  (void)LoadStixBundle(input, "fuzz", "input", sink, diagnostics);
  (void)LoadMispEvent(input, "fuzz", "input", sink, diagnostics);
  (void)LoadList(input, "fuzz", "input", sink, diagnostics);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Run(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}

#ifndef YAGURA_LIBFUZZER

namespace {

// Bytes and words of the grammar, put in by the mutations.
// clang-format off
constexpr std::string_view INSERTS[] = {
    "[", "]", "'", "\\'", "\\\\", " AND ", " OR ", " FOLLOWEDBY ", " WITHIN 5 SECONDS",
    " REPEATS 2 TIMES", " START t'2020-01-01T00:00:00Z' STOP t'2021-01-01T00:00:00Z'", " MATCHES ",
    " LIKE ", " != ", " ISSUBSET ", ".", ":", "::", "/", "%", "%2e", "[.]", "hxxp", "{", "}", "\"",
    ",", "0", "255", "/33", "\xff", "\xc3\xa9", "\n",
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
  std::printf(
      "intel_fuzz: %zu inputs from %zu seeds (%zu patterns parsed, %zu indicators "
      "delivered), no failures\n",
      replayed.runs, replayed.seeds, patterns_parsed, indicators_delivered);
  if (patterns_parsed == 0 || indicators_delivered == 0) {
    std::fprintf(stderr, "intel_fuzz: the seeds reach neither patterns nor indicators\n");
    return 1;
  }
  return 0;
}

#endif

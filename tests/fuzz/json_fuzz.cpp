// Fuzz harness of JsonValue, the parser of every request body the centre's API receives.
//
// Invariants:
//   - what parses serialises to text that parses to an equal value and serialises the same;
//   - JsonValue and simdjson agree on what is JSON: a text simdjson accepts without duplicate
//     keys and within the nesting limit parses, and a text JsonValue accepts is one simdjson
//     accepts too, unless simdjson refuses one of its numbers for its range (integers beyond
//     64 bits, which RFC 8259 allows and JsonValue reads as doubles).
//
// Built with -fsanitize=fuzzer (YAGURA_LIBFUZZER; scripts/fuzz) it is a libFuzzer target.
// Otherwise its own main() replays the files and directories named on the command line and
// deterministic mutations of each, so it runs as a ctest.
#include <simdjson.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <set>
#include <string>
#include <string_view>

#include "core/json_value.hpp"
#include "replay_main.hpp"

namespace {

using yagura::JsonValue;

constexpr int MAX_DEPTH = 64;  // JsonValue::Parse's default
size_t accepted = 0;           // for the replay's report
size_t refused = 0;

[[noreturn]] void Fail(const char* what, std::string_view detail) {
  std::fprintf(stderr, "json_fuzz: invariant violated: %s\n[%.*s]\n", what,
               static_cast<int>(detail.size()), detail.data());
  std::abort();
}

// Whether the document has an object with a repeated key, or nests deeper than `limit`
// (JsonValue counts arrays and objects open, the outermost being 1).
bool DuplicateKeyOrTooDeep(simdjson::dom::element element, int depth, int limit) {
  switch (element.type()) {
    case simdjson::dom::element_type::ARRAY:
      if (depth + 1 > limit) return true;
      for (simdjson::dom::element child : simdjson::dom::array(element)) {
        if (DuplicateKeyOrTooDeep(child, depth + 1, limit)) return true;
      }
      return false;
    case simdjson::dom::element_type::OBJECT: {
      if (depth + 1 > limit) return true;
      std::set<std::string_view> keys;
      for (simdjson::dom::key_value_pair member : simdjson::dom::object(element)) {
        if (!keys.insert(member.key).second) return true;
        if (DuplicateKeyOrTooDeep(member.value, depth + 1, limit)) return true;
      }
      return false;
    }
    default:
      return false;
  }
}

// Whether the value holds a number simdjson may refuse for its range: beyond 64-bit integers
// (or not finite, though JsonValue should never hold one).
bool HasNumberBeyond64Bits(const JsonValue& value) {
  switch (value.type()) {
    case JsonValue::Type::kNumber:
      return !value.is_integer() &&
             (!std::isfinite(value.as_double()) || std::fabs(value.as_double()) >= 9.2e18);
    case JsonValue::Type::kArray:
      for (const JsonValue& element : value.as_array()) {
        if (HasNumberBeyond64Bits(element)) return true;
      }
      return false;
    case JsonValue::Type::kObject:
      for (const auto& [key, member] : value.as_object()) {
        if (HasNumberBeyond64Bits(member)) return true;
      }
      return false;
    default:
      return false;
  }
}

void Run(std::string_view text) {
  auto parsed = JsonValue::Parse(text);
  if (parsed) {
    ++accepted;
    const std::string printed = parsed->Serialize();
    auto again = JsonValue::Parse(printed);
    if (!again) Fail("serialised JSON parses", printed + " : " + again.error().ToString());
    if (!(*again == *parsed)) Fail("serialised JSON parses to an equal value", printed);
    if (again->Serialize() != printed) Fail("serialising is stable", printed);
  } else {
    ++refused;
  }

  static simdjson::dom::parser parser;
  simdjson::padded_string padded(text);
  simdjson::dom::element element;
  const simdjson::error_code error = parser.parse(padded).get(element);
  if (error == simdjson::SUCCESS) {
    if (!parsed && !DuplicateKeyOrTooDeep(element, 0, MAX_DEPTH)) {
      Fail("JSON simdjson reads, without duplicate keys and not too deep, parses",
           std::string(text) + " : " + parsed.error().ToString());
    }
  } else if (parsed && error != simdjson::DEPTH_ERROR &&
             !((error == simdjson::NUMBER_ERROR || error == simdjson::NUMBER_OUT_OF_RANGE) &&
               HasNumberBeyond64Bits(*parsed))) {
    Fail("what parses is JSON simdjson reads",
         std::string(text) + " : simdjson says " + simdjson::error_message(error));
  }
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
    "{", "}", "[", "]", "\"", "\\", "\\u", "\\ud83d", "\\ude00", ",", ":", " ", "0", "-", ".", "e",
    "E+", "1e999", "99999999999999999999", "true", "null", "\xff", "\xc3\xa9", "\xed\xa0\x80",
    "\t", "\x01",
};
// clang-format on

std::string Mutate(const std::string& seed, std::mt19937& random) {
  return yagura::fuzz::MutateByEdits(seed, random, INSERTS, 3, 4);
}

}  // namespace

int main(int argc, char** argv) {
  yagura::fuzz::Replayed replayed;
  if (int usage = yagura::fuzz::ReplaySeeds(argc, argv, 500, 20261201, Mutate, replayed))
    return usage;
  std::printf("json_fuzz: %zu inputs from %zu seeds (%zu accepted, %zu refused), no failures\n",
              replayed.runs, replayed.seeds, accepted, refused);
  return 0;
}

#endif

// Fuzz harness of the Sigma engine: the rule loader on any text, then the compiled matcher held
// to the plain evaluator on events, both taken from the input.
//
// An input is Sigma YAML (one or more documents), then optionally a line "%%" and JSON lines,
// each an event (a line that is not a JSON object is skipped). The rules that load are compiled
// with Matcher::Build, which must accept every rule the loader accepted, and every event is
// matched both ways: the matcher must give exactly what EvaluateAll gives, with unrecognised
// events evaluated by every rule and skipped. The keyword prefilter is held to its promise too:
// when it says a record's keyword values are not needed, matching the event parsed without them
// gives the same rules. Each event is matched twice, so the matcher's memory of values it has
// seen is replayed against a fresh computation.
//
// Built with -fsanitize=fuzzer (YAGURA_LIBFUZZER; scripts/fuzz) it is a libFuzzer target.
// Otherwise its own main() replays the files and directories named on the command line and
// deterministic mutations of each (bytes flipped, lines dropped and repeated, modifiers and
// wildcards inserted), so it runs as a ctest.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "event/event.hpp"
#include "event/field_catalog.hpp"
#include "event/logsource_mapping.hpp"
#include "event/parser.hpp"
#include "event/record.hpp"
#include "replay_main.hpp"
#include "sigma/evaluator.hpp"
#include "sigma/loader.hpp"
#include "sigma/matcher.hpp"
#include "sigma/rule_set.hpp"

namespace {

using namespace yagura;

constexpr size_t MAX_RULES = 16;  // beyond this, the input is cut (Hyperscan compiles per input)
constexpr size_t MAX_EVENTS = 32;

// What the inputs reached, for the replay's report: a corpus whose rules never load or never
// match would check nothing.
size_t rules_loaded = 0;
size_t events_matched = 0;
size_t rule_hits = 0;

[[noreturn]] void Fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "sigma_fuzz: invariant violated: %s\n%s\n", what, detail.c_str());
  std::abort();
}

std::string Indices(const std::vector<uint32_t>& rules) {
  std::string out;
  for (uint32_t r : rules) out += " " + std::to_string(r);
  return out.empty() ? " (none)" : out;
}

// One mapping for every input: its fields are interned first into each input's fresh catalog,
// so they get the same ids every time.
event::LogsourceMapping& Mapping() {
  static event::LogsourceMapping mapping = [] {
    auto loaded = event::LogsourceMapping::LoadDefault();
    if (!loaded) Fail("the default logsource mapping loads", loaded.error().ToString());
    return std::move(*loaded);
  }();
  return mapping;
}

void Run(std::string_view input) {
  std::string_view rule_text = input;
  std::string_view event_text;
  if (size_t cut = input.find("\n%%\n"); cut != std::string_view::npos) {
    rule_text = input.substr(0, cut + 1);
    event_text = input.substr(cut + 4);
  }

  event::FieldCatalog catalog;
  Mapping().InternFields(catalog);
  sigma::RuleSet rules = sigma::LoadRuleText(rule_text, catalog);
  if (rules.rules.empty()) return;
  if (rules.rules.size() > MAX_RULES) rules.rules.resize(MAX_RULES);
  rules_loaded += rules.rules.size();
  // Correlations name rules by index; the matcher does not read them.
  rules.correlations.clear();

  std::vector<std::string> lines;
  for (size_t at = 0; at < event_text.size() && lines.size() < MAX_EVENTS;) {
    size_t end = event_text.find('\n', at);
    if (end == std::string_view::npos) end = event_text.size();
    std::string_view line = event_text.substr(at, end - at);
    if (!line.empty() && line.front() == '{') lines.emplace_back(line);
    at = end + 1;
  }

  event::FieldCatalog reduced = catalog;  // the rules' fields only, for the prefilter's check
  catalog.RequireAllValues();

  for (sigma::UnrecognisedPolicy policy :
       {sigma::UnrecognisedPolicy::kAllRules, sigma::UnrecognisedPolicy::kSkip}) {
    sigma::MatcherOptions options;
    options.unrecognised = policy;
    auto matcher = sigma::Matcher::Build(rules, catalog, options);
    if (!matcher)
      Fail("the matcher compiles every rule the loader accepted", matcher.error().ToString());
    auto scratch = (*matcher)->NewScratch();
    event::EventParser parser(catalog, Mapping());
    event::EventParser reduced_parser(reduced, Mapping());
    reduced_parser.SetCollectAllValues(false);
    event::Event event;
    event::Event reduced_event;
    std::vector<uint32_t> fast, plain, without;
    for (int pass = 0; pass < 2; ++pass) {
      for (const std::string& line : lines) {
        std::string padded = line + std::string(event::RECORD_PADDING, '\0');
        event::Record record;
        record.data = std::string_view(padded.data(), line.size());
        record.format = event::RecordFormat::kJson;
        record.number = 1;
        if (!parser.Parse(record, event)) continue;
        fast.clear();
        plain.clear();
        (*matcher)->Match(event, *scratch, fast);
        sigma::EvaluateAll(rules, event, policy, plain);
        ++events_matched;
        rule_hits += plain.size();
        if (fast != plain) {
          Fail("the matcher gives what the evaluator gives",
               "event: " + line + "\nmatcher:" + Indices(fast) + "\nevaluator:" + Indices(plain));
        }
        if (!reduced_parser.Parse(record, reduced_event)) {
          Fail("an event that parses with every value parses without them", line);
        }
        if ((*matcher)->NeedsAllValues(reduced_event, record.data, *scratch)) continue;
        without.clear();
        (*matcher)->Match(reduced_event, *scratch, without);
        if (without != plain) {
          Fail("the keyword prefilter passes only records whose keywords cannot matter",
               "event: " + line + "\nwithout keyword values:" + Indices(without) +
                   "\nwith them:" + Indices(plain));
        }
      }
    }
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
    "|contains", "|startswith", "|endswith", "|all", "|re", "|cased", "|windash", "|base64offset",
    "|cidr", "|exists", "|expand", "|fieldref", "|gt", "|lte", "|utf16le", "*", "?", "\\", "\\*",
    "'", "\"", " ", "\n", ": ", "- ", "not ", " or ", " and ", "1 of ", "all of ", "(", ")",
    "null", "É", "\xff",
};
// clang-format on

// Mutations that keep the YAML mostly well-formed, so that most variants load and reach the
// matcher: a modifier or wildcard put into a value, bytes flipped or erased, and half the time a
// line cut short or repeated.
std::string Mutate(const std::string& seed, std::mt19937& random) {
  std::string out = yagura::fuzz::MutateByEdits(seed, random, INSERTS, 3);
  if (out.empty() || random() % 2 == 0) return out;
  const size_t at = random() % out.size();
  const size_t end = std::min(out.find('\n', at), out.size());
  if (random() % 2 == 0) {
    out.erase(at, end - at);  // the rest of a line dropped
  } else {
    const size_t start = out.rfind('\n', at) == std::string::npos ? 0 : out.rfind('\n', at) + 1;
    out.insert(start, out.substr(start, end - start) + "\n");  // a line repeated
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  yagura::fuzz::Replayed replayed;
  if (int usage = yagura::fuzz::ReplaySeeds(argc, argv, 200, 20261129, Mutate, replayed))
    return usage;
  std::printf(
      "sigma_fuzz: %zu inputs from %zu seeds (%zu rules loaded, %zu events matched, %zu "
      "rule hits), no failures\n",
      replayed.runs, replayed.seeds, rules_loaded, events_matched, rule_hits);
  if (rule_hits == 0) {
    std::fprintf(stderr, "sigma_fuzz: no rule matched any event: the seeds check nothing\n");
    return 1;
  }
  return 0;
}

#endif

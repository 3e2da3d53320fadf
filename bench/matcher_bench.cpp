// Micro benchmarks of the compiled matcher with every active SigmaHQ rule (3,780).
//
// Events are the synthetic Windows corpus of ../shared/data/sigma/bench (5,000 events plus the
// SigmaHQ regression positives every 400). BM_MatchSigmaHq matches events parsed once up front
// (5,000 events do not fit in cache, so it is pessimistic); BM_ParseThenMatch parses each
// record and matches it at once, as a scan does, and BM_ParseOnly is its baseline: their
// difference is the cost of matching on a hot event. BM_EvaluateAll runs the plain evaluator
// for comparison. Each benchmark checks its result: the matcher must find exactly the number
// of matches the evaluator finds.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>

#include "event/logsource_mapping.hpp"
#include "event/parser.hpp"
#include "sigma/evaluator.hpp"
#include "sigma/matcher.hpp"
#include "sigma/rule_set.hpp"
#include "sigmahq_rules.hpp"

namespace yagura {
namespace {

namespace fs = std::filesystem;

struct Corpus : bench::SigmaHqRules {
  std::deque<std::string> buffers;  // record bytes (padded) the parsed events point into
  std::vector<event::Record> records;
  std::vector<event::Event> events;
  std::vector<size_t> event_records;  // per event: its record in `records`
  size_t bytes = 0;
  std::string cache_dir;
  std::unique_ptr<sigma::Matcher> matcher;
  size_t expected_matches = 0;  // per pass over the events, from the plain evaluator
};

std::vector<std::string> ReadLines(const fs::path& path) {
  std::vector<std::string> lines;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) lines.push_back(line);
  return lines;
}

Corpus& Shared() {
  static Corpus corpus = [] {
    Corpus c;
    fs::path shared = YAGURA_SHARED_DIR;
    fs::path regression = shared / "data/sigma/regression/jsonl";
    fs::path generator = shared / "data/sigma/bench/gen_synthetic_events.py";
    bench::LoadSigmaHqRules(c, "data/sigma/bench/gen_synthetic_events.py");
    if (!c.error.empty()) return c;

    fs::path out = fs::temp_directory_path() / "yagura-matcher-bench-events.jsonl";
    std::string command = "python3 '" + generator.string() + "' 5000 '" + out.string() +
                          "' --seed 42 --inject '" + regression.string() +
                          "' --every 400 > /dev/null 2>&1";
    if (std::system(command.c_str()) != 0) {
      c.error = "cannot run " + command;
      return c;
    }
    std::vector<std::string> lines = ReadLines(out);
    event::EventParser parser(c.catalog, *c.mapping);
    c.events.reserve(lines.size());
    for (size_t i = 0; i < lines.size(); ++i) {
      std::string& buffer = c.buffers.emplace_back(lines[i]);
      buffer.append(event::RECORD_PADDING, ' ');
      event::Record record;
      record.data = std::string_view(buffer.data(), lines[i].size());
      record.number = record.line = i + 1;
      c.records.push_back(record);
      c.events.emplace_back();
      if (!parser.Parse(record, c.events.back())) {
        c.events.pop_back();
        continue;
      }
      c.event_records.push_back(c.records.size() - 1);
      c.bytes += lines[i].size();
    }

    c.cache_dir = (fs::temp_directory_path() / "yagura-matcher-bench-cache").string();
    sigma::MatcherOptions matcher_options;
    matcher_options.cache_dir = c.cache_dir;
    auto matcher = sigma::Matcher::Build(c.rules, c.catalog, matcher_options);
    if (!matcher) {
      c.error = matcher.error().ToString();
      return c;
    }
    c.matcher = std::move(*matcher);
    // Keep only the current cache file: older rule sets' files would pile up.
    for (const auto& entry : fs::directory_iterator(c.cache_dir)) {
      if (entry.path().extension() == ".hsdb" &&
          entry.path() != fs::path(c.matcher->stats().cache_file)) {
        std::error_code ignored;
        fs::remove(entry.path(), ignored);
      }
    }
    std::vector<uint32_t> out_rules;
    for (const event::Event& e : c.events) {
      out_rules.clear();
      sigma::EvaluateAll(c.rules, e, sigma::UnrecognisedPolicy::kAllRules, out_rules);
      c.expected_matches += out_rules.size();
    }
    return c;
  }();
  return corpus;
}

void BM_MatchSigmaHq(benchmark::State& state) {
  Corpus& c = Shared();
  if (!c.error.empty()) {
    state.SkipWithError(c.error.c_str());
    return;
  }
  auto scratch = c.matcher->NewScratch();
  std::vector<uint32_t> out;
  out.reserve(256);
  size_t matches = 0, passes = 0;
  for (auto _ : state) {
    for (const event::Event& e : c.events) {
      out.clear();
      c.matcher->Match(e, *scratch, out);
      matches += out.size();
    }
    ++passes;
  }
  if (matches != c.expected_matches * passes) {
    state.SkipWithError("the matcher disagrees with the plain evaluator");
    return;
  }
  state.SetItemsProcessed(static_cast<int64_t>(passes * c.events.size()));
  state.SetBytesProcessed(static_cast<int64_t>(passes * c.bytes));
  state.counters["ns_per_event"] = benchmark::Counter(
      static_cast<double>(passes * c.events.size()),
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.counters["matches_per_pass"] = static_cast<double>(c.expected_matches);
}
BENCHMARK(BM_MatchSigmaHq)->Unit(benchmark::kMillisecond);

// Parses every record into one event and, when `match`, matches it right away. `walk`: JSON
// walked by event::JsonWalker (off: simdjson On-Demand for every record).
void ParseLoop(benchmark::State& state, bool match, bool walk = true) {
  Corpus& c = Shared();
  if (!c.error.empty()) {
    state.SkipWithError(c.error.c_str());
    return;
  }
  event::EventParser parser(c.catalog, *c.mapping);
  parser.SetJsonWalk(walk);
  event::Event event;
  auto scratch = c.matcher->NewScratch();
  std::vector<uint32_t> out;
  out.reserve(256);
  size_t matches = 0, passes = 0;
  for (auto _ : state) {
    for (const event::Record& record : c.records) {
      if (!parser.Parse(record, event)) continue;
      if (match) {
        out.clear();
        c.matcher->Match(event, *scratch, out);
        matches += out.size();
      }
    }
    ++passes;
  }
  if (match && matches != c.expected_matches * passes) {
    state.SkipWithError("the matcher disagrees with the plain evaluator");
    return;
  }
  state.SetItemsProcessed(static_cast<int64_t>(passes * c.records.size()));
  state.SetBytesProcessed(static_cast<int64_t>(passes * c.bytes));
  state.counters["ns_per_event"] = benchmark::Counter(
      static_cast<double>(passes * c.records.size()),
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

// The keyword prefilter's test of each record's raw JSON (Matcher::NeedsAllValues), which a
// scan makes of every Windows event before matching it: SigmaHQ's Mimikatz keywords apply to
// every Windows event.
void BM_KeywordPrefilterJson(benchmark::State& state) {
  Corpus& c = Shared();
  if (!c.error.empty()) {
    state.SkipWithError(c.error.c_str());
    return;
  }
  auto scratch = c.matcher->NewScratch();
  size_t needed = 0, passes = 0;
  for (auto _ : state) {
    for (size_t i = 0; i < c.events.size(); ++i)
      needed +=
          c.matcher->NeedsAllValues(c.events[i], c.records[c.event_records[i]].data, *scratch);
    ++passes;
  }
  state.SetItemsProcessed(static_cast<int64_t>(passes * c.events.size()));
  state.SetBytesProcessed(static_cast<int64_t>(passes * c.bytes));
  state.counters["needed_share"] =
      static_cast<double>(needed) / static_cast<double>(passes * c.events.size());
}
BENCHMARK(BM_KeywordPrefilterJson)->Unit(benchmark::kMillisecond);

void BM_ParseOnly(benchmark::State& state) { ParseLoop(state, false); }
BENCHMARK(BM_ParseOnly)->Unit(benchmark::kMillisecond);

void BM_ParseOnlySimdjson(benchmark::State& state) { ParseLoop(state, false, false); }
BENCHMARK(BM_ParseOnlySimdjson)->Unit(benchmark::kMillisecond);

void BM_ParseThenMatch(benchmark::State& state) { ParseLoop(state, true); }
BENCHMARK(BM_ParseThenMatch)->Unit(benchmark::kMillisecond);

void BM_EvaluateAllSigmaHq(benchmark::State& state) {
  Corpus& c = Shared();
  if (!c.error.empty()) {
    state.SkipWithError(c.error.c_str());
    return;
  }
  std::vector<uint32_t> out;
  size_t matches = 0, passes = 0;
  for (auto _ : state) {
    for (const event::Event& e : c.events) {
      out.clear();
      sigma::EvaluateAll(c.rules, e, sigma::UnrecognisedPolicy::kAllRules, out);
      matches += out.size();
    }
    ++passes;
  }
  if (matches != c.expected_matches * passes) state.SkipWithError("evaluator is not deterministic");
  state.SetItemsProcessed(static_cast<int64_t>(passes * c.events.size()));
}
BENCHMARK(BM_EvaluateAllSigmaHq)->Unit(benchmark::kMillisecond)->Iterations(1);

void BM_BuildMatcherWarmCache(benchmark::State& state) {
  Corpus& c = Shared();
  if (!c.error.empty()) {
    state.SkipWithError(c.error.c_str());
    return;
  }
  sigma::MatcherOptions options;
  options.cache_dir = c.cache_dir;  // written by the first (cold) build in Shared()
  for (auto _ : state) {
    auto matcher = sigma::Matcher::Build(c.rules, c.catalog, options);
    if (!matcher || !(*matcher)->stats().from_cache) {
      state.SkipWithError("the warm build did not load the cache");
      return;
    }
    benchmark::DoNotOptimize(matcher);
  }
}
BENCHMARK(BM_BuildMatcherWarmCache)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace yagura

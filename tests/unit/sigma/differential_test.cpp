// Differential tests: the compiled matcher must give exactly what the plain evaluator gives.
//
// 1. Random rules over a small vocabulary of values (ASCII, non-ASCII letters, the code points
//    that fold to ASCII, invalid UTF-8, wildcards), modifiers and condition shapes, matched
//    against random events built from the same vocabulary; fixed seeds, so failures reproduce.
// 2. Every active SigmaHQ rule over the SigmaHQ regression events and a generated corpus of
//    synthetic Windows events, parsed and classified as `yagura scan` does.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <sstream>

#include "event/logsource_mapping.hpp"
#include "event/parser.hpp"
#include "sigma/evaluator.hpp"
#include "sigma/matcher.hpp"
#include "sigma/regex.hpp"
#include "sigma/rule_set.hpp"
#include "sigma/wildcard.hpp"
#include "unit/sigma/matcher_test_util.hpp"

namespace yagura::sigma {
namespace {

using namespace yagura::sigma::testing;
namespace fs = std::filesystem;

// ---- 1. random rules ----

const char* const PIECES[] = {
    "cmd",   "powershell", "\\",   ".exe", "-enc", "/c",      " ",    "ab",  "AB",     "x",
    "Ärger", "ärger",      "ÄRGER", "K",   "k",    "\xE2\x84\xAA" /* Kelvin sign */,
    "s",     "\xC5\xBF" /* long s */, "İ", "i",    "I",       "é",    "É",   "привет", "ПРИВЕТ",
    "\xFF",  "\x80",       "\xC3",  "😀",  "7",    "foo",     "bar",  "ẞ",   "ß",      "\n",
};
const char* const REGEXES[] = {
    "ab+c",         "(?i)ärger", "cmd.{0,3}/c", "^x",       "x$",        "foo(?=bar)",
    "(ab)\\1",      "[^a]b",     "\\bcmd\\b",   "é.",       "K",         "(?i)k",
    "^$",           "a|b",       ".",           "\\x80",    "(?s)a.b",   "(?i)straße",
    "[[:upper:]]x", "\\d+",      "\\w\\s\\w",   "привет",   "(?m)^foo$", "x*",
};

class RandomCorpus {
 public:
  explicit RandomCorpus(uint64_t seed) : rng_(seed) {
    for (const char* name : {"A", "B", "C", "D", "E"}) fields_.push_back(catalog.Intern(name));
  }
  // Restarts the random sequence: the same seed gives the same next event again.
  void Reseed(uint64_t seed) { rng_.seed(seed); }

  std::string Text(int max_pieces, bool flip_case) {
    std::string s;
    int n = Pick(max_pieces + 1);
    for (int i = 0; i < n; ++i) {
      std::string piece = PIECES[Pick(std::size(PIECES))];
      if (flip_case && Pick(3) == 0) {
        for (char& c : piece)
          if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 32);
      }
      s += piece;
    }
    return s;
  }

  // A Sigma string value: pieces, wildcards and escapes.
  std::string SigmaValue() {
    std::string s;
    int n = 1 + Pick(3);
    for (int i = 0; i < n; ++i) {
      switch (Pick(8)) {
        case 0: s += "*"; break;
        case 1: s += "?"; break;
        case 2: s += "\\*"; break;
        default: s += PIECES[Pick(std::size(PIECES))];
      }
    }
    switch (Pick(4)) {  // contains / startswith / endswith / equals
      case 0: return "*" + s + "*";
      case 1: return s + "*";
      case 2: return "*" + s;
      default: return s;
    }
  }

  Predicate RandomPredicate(event::FieldId field) {
    int kind = Pick(20);
    if (field == event::NO_FIELD) kind = kind < 17 ? 0 : 15;  // keywords: strings and regexes
    if (kind < 13) return Str(field, SigmaValue(), Pick(8) == 0);
    if (kind < 16) return Re(field, REGEXES[Pick(std::size(REGEXES))], Pick(3) == 0);
    if (kind == 16) return Exists(field, Pick(2) == 0);
    if (kind == 17) return Null(field);
    return Number(field, Pick(2) ? 7 : 3, Pick(2) ? CompareOp::kEq : CompareOp::kGt);
  }

  Condition RandomCondition(uint32_t selections, int depth) {
    if (depth == 0 || Pick(3) == 0) {
      Condition c = Sel(Pick(selections));
      return Pick(4) == 0 ? Not(std::move(c)) : c;
    }
    std::vector<Condition> children;
    int n = 1 + Pick(3);
    for (int i = 0; i < n; ++i) children.push_back(RandomCondition(selections, depth - 1));
    Condition c = Pick(2) ? And(std::move(children)) : Or(std::move(children));
    return Pick(5) == 0 ? Not(std::move(c)) : c;
  }

  event::Logsource RandomLogsource() {
    switch (Pick(6)) {
      case 0: return {"windows", "process_creation", ""};
      case 1: return {"windows", "", "security"};
      case 2: return {"linux", "", ""};
      case 3: return {"windows", "", ""};
      default: return {};
    }
  }

  Rule RandomRule(int index) {
    RuleMaker maker("random " + std::to_string(index), RandomLogsource());
    uint32_t selections = 1 + Pick(3);
    for (uint32_t s = 0; s < selections; ++s) {
      std::vector<std::vector<ItemSpec>> maps(1 + Pick(2));
      for (auto& map : maps) {
        int items = 1 + Pick(3);
        for (int i = 0; i < items; ++i) {
          ItemSpec item;
          item.field = Pick(8) == 0 ? event::NO_FIELD : fields_[Pick(fields_.size())];
          int values = 1 + Pick(3);
          for (int v = 0; v < values; ++v) item.values.push_back(RandomPredicate(item.field));
          item.all = values > 1 && Pick(4) == 0;
          item.negate = Pick(10) == 0;
          map.push_back(std::move(item));
        }
      }
      maker.Selection(std::move(maps));
    }
    return maker.Finish(RandomCondition(selections, 3));
  }

  void RandomEvent(EventMaker& events) {
    event::Event& e = events.Start();
    switch (Pick(5)) {
      case 0: break;  // unrecognised
      case 1:
        e.logsource.recognised = true;
        e.logsource.product = "windows";
        e.logsource.AddCategory("process_creation");
        break;
      case 2:
        e.logsource.recognised = true;
        e.logsource.product = "windows";
        e.logsource.AddService("security");
        break;
      case 3:
        e.logsource.recognised = true;
        e.logsource.product = "linux";
        break;
      default:
        e.logsource.recognised = true;
        e.logsource.product = "windows";
        e.logsource.AddService("security");
        e.logsource.AddCategory("process_creation");
    }
    for (event::FieldId field : fields_) {
      if (Pick(3) == 0) continue;
      int values = Pick(4) == 0 ? 2 : 1;
      for (int v = 0; v < values; ++v) {
        switch (Pick(12)) {
          case 0: events.Add(field, "", event::ValueType::kNull); break;
          case 1: events.Add(field, Pick(2) ? "7" : "3.5", event::ValueType::kNumber); break;
          default: events.Add(field, Text(Pick(4) == 0 ? 14 : 4, true));  // some past 32 bytes
        }
      }
    }
  }

  size_t Pick(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng_); }

  event::FieldCatalog catalog;

 private:
  std::mt19937_64 rng_;
  std::vector<event::FieldId> fields_;
};

TEST(MatcherDifferential, RepeatedEventsAgreeWithTheEvaluator) {
  // Events drawn again and again from a small pool, in random order: the matcher's memory of
  // values it has seen (replayed instead of scanned) must give what a fresh scan gives.
  RandomCorpus corpus(3);
  RuleSet rules;
  for (int i = 0; i < 300; ++i) rules.rules.push_back(corpus.RandomRule(i));
  auto matcher = Matcher::Build(rules, corpus.catalog, MatcherOptions{});
  ASSERT_TRUE(matcher) << matcher.error().ToString();
  auto scratch = (*matcher)->NewScratch();
  EventMaker events(corpus.catalog);
  std::mt19937_64 order(5);
  size_t matches = 0, mismatches = 0;
  for (int i = 0; i < 6000; ++i) {
    corpus.Reseed(1000 + order() % 40);
    corpus.RandomEvent(events);
    std::vector<uint32_t> fast, plain;
    (*matcher)->Match(events.event(), *scratch, fast);
    EvaluateAll(rules, events.event(), UnrecognisedPolicy::kAllRules, plain);
    matches += plain.size();
    if (fast != plain) ++mismatches;
  }
  EXPECT_EQ(mismatches, 0u);
  EXPECT_GT(matches, 100u);
}

TEST(MatcherDifferential, RandomRulesAgreeWithTheEvaluator) {
  for (uint64_t seed : {1u, 2u}) {
    RandomCorpus corpus(seed);
    RuleSet rules;
    for (int i = 0; i < 300; ++i) rules.rules.push_back(corpus.RandomRule(i));
    for (UnrecognisedPolicy policy : {UnrecognisedPolicy::kAllRules, UnrecognisedPolicy::kSkip}) {
      MatcherOptions options;
      options.unrecognised = policy;
      auto matcher = Matcher::Build(rules, corpus.catalog, options);
      ASSERT_TRUE(matcher) << matcher.error().ToString();
      auto scratch = (*matcher)->NewScratch();
      EventMaker events(corpus.catalog);
      size_t matches = 0, mismatches = 0;
      for (int i = 0; i < 3000; ++i) {
        corpus.RandomEvent(events);
        std::vector<uint32_t> fast, plain;
        (*matcher)->Match(events.event(), *scratch, fast);
        EvaluateAll(rules, events.event(), policy, plain);
        matches += plain.size();
        if (fast != plain && ++mismatches <= 5) {
          std::string values;
          for (const auto& v : events.event().AllValues()) values += "[" + std::string(v.text) + "] ";
          std::string diff;
          for (uint32_t r : plain)
            if (std::find(fast.begin(), fast.end(), r) == fast.end()) diff += " missed " + std::to_string(r);
          for (uint32_t r : fast)
            if (std::find(plain.begin(), plain.end(), r) == plain.end()) diff += " extra " + std::to_string(r);
          ADD_FAILURE() << "seed " << seed << " event " << i << ": " << values << "->" << diff;
        }
      }
      EXPECT_EQ(mismatches, 0u) << "seed " << seed;
      EXPECT_GT(matches, 1000u) << "the corpus should make many rules match";
    }
  }
}

// ---- 2. SigmaHQ ----

struct SigmaHq {
  event::FieldCatalog catalog;
  RuleSet rules;
  std::optional<event::LogsourceMapping> mapping;
};

// Loads the rules once for the whole binary: it takes a second or two.
SigmaHq* LoadSigmaHq(std::string* why) {
  static std::unique_ptr<SigmaHq> loaded;
  static std::string error;
  static bool tried = false;
  if (tried) {
    *why = error;
    return loaded.get();
  }
  tried = true;
  fs::path base = fs::path(YAGURA_SHARED_DIR) / "data/sigma/sigmahq";
  if (!fs::exists(base / "rules")) {
    *why = error = "SigmaHQ rules not found under " + base.string();
    return nullptr;
  }
  auto options = LoadOptions::WithPlaceholderFile(std::string(YAGURA_SOURCE_DIR) + "/" +
                                                  LoadOptions::DEFAULT_PLACEHOLDER_FILE);
  if (!options) {
    *why = error = options.error().ToString();
    return nullptr;
  }
  auto hq = std::make_unique<SigmaHq>();
  auto mapping = event::LogsourceMapping::LoadDefault();
  if (!mapping) {
    *why = error = mapping.error().ToString();
    return nullptr;
  }
  hq->mapping.emplace(std::move(*mapping));
  hq->mapping->InternFields(hq->catalog);
  std::vector<std::string> paths;
  for (const char* dir : {"rules", "rules-emerging-threats", "rules-threat-hunting",
                          "rules-placeholder", "rules-compliance"}) {
    paths.push_back((base / dir).string());
  }
  hq->rules = RuleSet::Load(paths, hq->catalog, *options);
  loaded = std::move(hq);
  return loaded.get();
}

std::vector<std::string> ReadLines(const fs::path& path) {
  std::vector<std::string> lines;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) lines.push_back(line);
  return lines;
}

// Parses every line with the real parser and checks matcher == evaluator on each event.
void CheckCorpus(const SigmaHq& hq, const Matcher& matcher, const std::vector<std::string>& lines,
                 const std::string& what, size_t* total_matches) {
  event::EventParser parser(hq.catalog, *hq.mapping);
  event::Event event;
  auto scratch = matcher.NewScratch();
  std::string buffer;
  size_t parsed = 0, mismatches = 0;
  for (size_t i = 0; i < lines.size(); ++i) {
    buffer.assign(lines[i]);
    buffer.append(event::RECORD_PADDING, ' ');
    event::Record record;
    record.data = std::string_view(buffer.data(), lines[i].size());
    record.format = event::RecordFormat::kJson;
    record.number = record.line = i + 1;
    if (!parser.Parse(record, event)) continue;
    ++parsed;
    std::vector<uint32_t> fast, plain;
    matcher.Match(event, *scratch, fast);
    EvaluateAll(hq.rules, event, UnrecognisedPolicy::kAllRules, plain);
    *total_matches += plain.size();
    if (fast != plain && ++mismatches <= 10) {
      std::string diff;
      for (uint32_t r : plain)
        if (std::find(fast.begin(), fast.end(), r) == fast.end())
          diff += " missed " + hq.rules.rules[r].info.file;
      for (uint32_t r : fast)
        if (std::find(plain.begin(), plain.end(), r) == plain.end())
          diff += " extra " + hq.rules.rules[r].info.file;
      ADD_FAILURE() << what << " line " << i + 1 << ":" << diff;
    }
  }
  EXPECT_EQ(mismatches, 0u) << what;
  EXPECT_EQ(parsed, lines.size()) << what << ": every line should parse";
}

TEST(MatcherDifferential, AllSigmaHqRulesOnRegressionAndSyntheticEvents) {
  std::string why;
  SigmaHq* hq = LoadSigmaHq(&why);
  if (!hq) GTEST_SKIP() << why;
  ASSERT_GT(hq->rules.rules.size(), 3700u);

  MatcherOptions options;
  // A cache shared by test runs: its key covers the rules and patterns, so reuse is safe.
  options.cache_dir = (fs::temp_directory_path() / "yagura-test-matcher-cache").string();
  auto matcher = Matcher::Build(hq->rules, hq->catalog, options);
  ASSERT_TRUE(matcher) << matcher.error().ToString();
  const MatcherStats& stats = (*matcher)->stats();
  // Keep only the current cache file: older rule sets' files would pile up run after run.
  for (const auto& entry : fs::directory_iterator(options.cache_dir)) {
    if (entry.path().extension() == ".hsdb" && entry.path() != fs::path(stats.cache_file)) {
      std::error_code ignored;
      fs::remove(entry.path(), ignored);
    }
  }
  std::printf("matcher: %zu rules, %zu patterns (%zu literal lookups) in %zu databases, "
              "%zu direct predicates, %zu gated rules, built in %.2f s (%s)\n",
              hq->rules.rules.size(), stats.patterns, stats.literal_patterns, stats.databases,
              stats.direct_predicates, stats.gated_rules, stats.build_seconds,
              stats.from_cache ? "warm cache" : "compiled");

  fs::path regression = fs::path(YAGURA_SHARED_DIR) / "data/sigma/regression/jsonl";
  std::vector<std::string> regression_lines;
  for (const auto& entry : fs::directory_iterator(regression)) {
    if (entry.path().extension() != ".jsonl") continue;
    for (std::string& line : ReadLines(entry.path())) regression_lines.push_back(std::move(line));
  }
  ASSERT_GT(regression_lines.size(), 200u);
  size_t matches = 0;
  CheckCorpus(*hq, **matcher, regression_lines, "regression", &matches);
  EXPECT_GT(matches, regression_lines.size() / 2) << "regression events are detections";

  fs::path generator = fs::path(YAGURA_SHARED_DIR) / "data/sigma/bench/gen_synthetic_events.py";
  if (std::system("python3 --version > /dev/null 2>&1") != 0 || !fs::exists(generator)) {
    GTEST_SKIP() << "python3 or " << generator << " unavailable: synthetic corpus skipped";
  }
  fs::path out = fs::temp_directory_path() /
                 ("yagura-differential-" + std::to_string(::getpid()) + ".jsonl");
  std::string command = "python3 '" + generator.string() + "' 5000 '" + out.string() +
                        "' --seed 42 --inject '" + regression.string() +
                        "' --every 400 > /dev/null 2>&1";
  ASSERT_EQ(std::system(command.c_str()), 0) << command;
  std::vector<std::string> synthetic = ReadLines(out);
  fs::remove(out);
  ASSERT_GE(synthetic.size(), 5000u);
  matches = 0;
  CheckCorpus(*hq, **matcher, synthetic, "synthetic", &matches);
  EXPECT_GT(matches, 0u);
}

// Regex::Search rules a value out without the engine when none of the pattern's atoms occurs
// in it. The plain evaluator and the matcher both go through Search, so the test above cannot
// see an atom test that is wrong; here every SigmaHQ regex is asked about every value of the
// regression events (which many of them match), as written and in upper and lower case,
// with and without the atom test.
TEST(RegexAtoms, NeverHideAMatchOfASigmaHqRegex) {
  std::string why;
  SigmaHq* hq = LoadSigmaHq(&why);
  if (!hq) GTEST_SKIP() << why;
  std::vector<const Regex*> regexes;
  for (const Rule& rule : hq->rules.rules) {
    for (const Predicate& predicate : rule.predicates) {
      if (predicate.kind == PredicateKind::kRegex && predicate.regex != nullptr &&
          !predicate.regex->atoms().empty()) {
        regexes.push_back(predicate.regex.get());
      }
    }
  }
  ASSERT_GT(regexes.size(), 100u) << "most SigmaHQ regexes have atoms";

  std::set<std::string> values;
  fs::path regression = fs::path(YAGURA_SHARED_DIR) / "data/sigma/regression/jsonl";
  event::EventParser parser(hq->catalog, *hq->mapping);
  parser.SetCollectAllValues(true);
  event::Event event;
  for (const auto& entry : fs::directory_iterator(regression)) {
    if (entry.path().extension() != ".jsonl") continue;
    for (std::string& line : ReadLines(entry.path())) {
      const size_t size = line.size();
      line.append(event::RECORD_PADDING, ' ');
      event::Record record;
      record.data = std::string_view(line.data(), size);
      if (!parser.Parse(record, event)) continue;
      for (const event::FieldValue& value : event.AllValues()) {
        std::string text(value.text);
        values.insert(text);
        for (char& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        values.insert(text);
        for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        values.insert(text);
      }
    }
  }
  ASSERT_GT(values.size(), 1000u);
  size_t engine_matches = 0, ruled_out = 0;
  for (const Regex* regex : regexes) {
    for (const std::string& value : values) {
      const bool engine = regex->SearchWithEngine(value);
      ASSERT_EQ(regex->Search(value), engine) << regex->pattern() << " on [" << value << "]";
      engine_matches += engine;
      bool any_atom = false;
      for (const std::string& atom : regex->atoms())
        any_atom = any_atom || ContainsAscii(value, atom, false);
      ruled_out += !any_atom;
    }
  }
  std::printf("%zu regexes with atoms, %zu values: %zu matches, %zu ruled out by atoms\n",
              regexes.size(), values.size(), engine_matches, ruled_out);
  EXPECT_GT(engine_matches, 100u) << "the values should exercise matches too";
  EXPECT_GT(ruled_out, regexes.size() * values.size() / 2);
}

}  // namespace
}  // namespace yagura::sigma

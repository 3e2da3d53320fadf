// KeywordPrefilter (keyword_prefilter.hpp): the necessary literals of the keywords, searched in
// the raw record.
//
// Every literal means "the keywords may match". A few long ones (the usual case: Windows
// keyword rules name tool strings such as "sekurlsa::") are searched by one PairScan pass that
// also looks for the spellings that make the test unsafe (a byte outside ASCII; a `\u` or `\/`
// escape). Other sets go to a Hyperscan literal database, after the same guard pass: as
// patterns of the database the guards made its scan about twice as slow. Both stop at the first
// hit, so a record that needs its values collected costs only as much of the scan as it took
// to find out. A literal database takes milliseconds to compile (ten for the hundred literals
// of the PowerShell keyword rules), which a scan of a few EVTX files pays for every class of
// event it meets: with a cache folder, the compiled database is kept there under a digest of
// its patterns and of the library build, as the matcher keeps its own.
#include "sigma/keyword_prefilter.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace yagura::sigma {
namespace {

// Bytes JSON always writes as themselves inside a string (RFC 8259: everything but the quote,
// the backslash and control characters; '/' may be escaped too, which the guard pattern covers).
bool WrittenVerbatim(char c) {
  const auto byte = static_cast<unsigned char>(c);
  return byte >= 0x20 && byte < 0x7f && c != '"' && c != '\\';
}

// The longest run of verbatim bytes in the pattern's literal text; empty when there is none.
std::string NecessaryLiteral(const Predicate& predicate) {
  std::string best;
  for (const GlobToken& token : predicate.glob) {
    if (token.kind != GlobToken::Kind::kLiteral) continue;
    size_t start = 0;
    for (size_t i = 0; i <= token.text.size(); ++i) {
      if (i < token.text.size() && WrittenVerbatim(token.text[i])) continue;
      if (i - start > best.size()) best = token.text.substr(start, i - start);
      start = i + 1;
    }
  }
  return best;
}

// A literal as a Hyperscan expression: every byte that is not a letter or digit as \xNN.
std::string LiteralExpression(std::string_view literal) {
  std::string out;
  for (char c : literal) {
    const auto byte = static_cast<unsigned char>(c);
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
      out.push_back(c);
    } else {
      out += fmt::format("\\x{:02x}", byte);
    }
  }
  return out;
}

int StopAtFirst(unsigned, unsigned long long, unsigned long long, unsigned, void*) { return 1; }

// Bump when the patterns generated for the same literals change meaning.
constexpr uint32_t CACHE_FORMAT = 1;

uint64_t PatternsDigest(const std::vector<HsPattern>& patterns) {
  HsCacheDigest hasher;
  hasher.AddString("keyword prefilter");
  hasher.Add(&CACHE_FORMAT, sizeof CACHE_FORMAT);
  hasher.AddString(HsBuildTag());
  for (const HsPattern& pattern : patterns) {
    hasher.Add(&pattern.flags, sizeof pattern.flags);
    hasher.AddString(pattern.expression);
  }
  return hasher.Finish();
}

// The database of `patterns`, from `cache_dir` when it holds it, else compiled (and stored
// there when it can be: a cache that cannot be written only costs the next scan the compile).
Result<HsDatabase> LoadOrCompile(const std::vector<HsPattern>& patterns,
                                 const std::string& cache_dir,
                                 std::vector<HsPatternStatus>& status) {
  std::string path;
  uint64_t digest = 0;
  if (!cache_dir.empty()) {
    digest = PatternsDigest(patterns);
    path = HsCachePath(cache_dir, "keywords", digest);
    if (auto loaded = LoadHsCache(path, digest);
        loaded && loaded->databases.size() == 1 && loaded->status.size() == 1 &&
        loaded->status[0].size() == patterns.size()) {
      status = std::move(loaded->status[0]);
      return std::move(loaded->databases[0]);
    }
  }
  const std::vector<bool> allow_prefilter(patterns.size(), false);
  auto database = CompileHsDatabase(patterns, allow_prefilter, status);
  if (!database || path.empty()) return database;
  HsCacheEntry entry;
  entry.databases.push_back(std::move(*database));
  entry.status.push_back(status);
  (void)StoreHsCache(path, digest, entry);
  return std::move(entry.databases[0]);
}

}  // namespace

Result<std::unique_ptr<KeywordPrefilter>> KeywordPrefilter::Build(const RuleSet& rules) {
  std::vector<uint32_t> all(rules.rules.size());
  for (uint32_t r = 0; r < all.size(); ++r) all[r] = r;
  return Build(rules, all);
}

bool KeywordPrefilter::Coverable(const Rule& rule) {
  for (const Predicate& predicate : rule.predicates) {
    if (predicate.field != event::NO_FIELD) continue;
    if (predicate.kind != PredicateKind::kString || NecessaryLiteral(predicate).empty()) return false;
  }
  return true;
}

Result<std::unique_ptr<KeywordPrefilter>> KeywordPrefilter::Build(
    const RuleSet& rules, const std::vector<uint32_t>& rule_indexes, const std::string& cache_dir) {
  // (literal, cased): caseless literals are kept lower-cased so that one entry covers both.
  std::set<std::pair<std::string, bool>> literals;
  bool any_keyword = false;
  for (uint32_t r : rule_indexes) {
    for (const Predicate& predicate : rules.rules[r].predicates) {
      if (predicate.field != event::NO_FIELD) continue;
      any_keyword = true;
      if (predicate.kind != PredicateKind::kString) return std::unique_ptr<KeywordPrefilter>();
      std::string literal = NecessaryLiteral(predicate);
      if (literal.empty()) return std::unique_ptr<KeywordPrefilter>();
      if (!predicate.cased) {
        for (char& c : literal)
          if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      }
      literals.emplace(std::move(literal), predicate.cased);
    }
  }
  if (!any_keyword) return std::unique_ptr<KeywordPrefilter>();

  std::unique_ptr<KeywordPrefilter> prefilter(new KeywordPrefilter());
  prefilter->literal_count_ = literals.size();
  prefilter->shortest_literal_ = SIZE_MAX;
  std::vector<PairScan::Literal> pair_literals;
  for (const auto& [literal, cased] : literals) {
    pair_literals.push_back({literal, cased});
    prefilter->shortest_literal_ = std::min(prefilter->shortest_literal_, literal.size());
  }
  // A few long literals: one AVX2 pass does it all, several times faster than Hyperscan.
  if ((prefilter->pair_scan_ = PairScan::Build(pair_literals))) return prefilter;
  prefilter->guard_ = PairScan::Build({});

  std::vector<HsPattern> patterns;
  for (const auto& [literal, cased] : literals) {
    patterns.push_back({LiteralExpression(literal), cased ? 0u : unsigned{HS_FLAG_CASELESS}, 0});
  }
  std::vector<HsPatternStatus> status;
  auto database = LoadOrCompile(patterns, cache_dir, status);
  if (!database) return tl::unexpected(database.error());
  for (HsPatternStatus s : status) {
    // A literal Hyperscan left out would make the test unsound: no prefilter then.
    if (s != HsPatternStatus::kExact) return std::unique_ptr<KeywordPrefilter>();
  }
  prefilter->database_ = std::move(*database);
  return prefilter;
}

Result<HsScratch> KeywordPrefilter::NewScratch() const {
  HsScratch scratch;
  if (auto reserved = Reserve(scratch); !reserved) return tl::unexpected(reserved.error());
  return scratch;
}

Result<void> KeywordPrefilter::Reserve(HsScratch& scratch) const {
  if (!database_) return {};
  return scratch.Reserve(database_);
}

bool KeywordPrefilter::MayMatch(std::string_view json, HsScratch& scratch) const {
  return Search(json, PairScan::Guard::kJson, scratch);
}

bool KeywordPrefilter::MayMatchValues(std::string_view values, HsScratch& scratch) const {
  return Search(values, PairScan::Guard::kFoldsToAscii, scratch);
}

bool KeywordPrefilter::Search(std::string_view text, PairScan::Guard guard,
                              HsScratch& scratch) const {
  if (pair_scan_) return pair_scan_->Scan(text, guard);
  if (guard_->Scan(text, guard)) return true;
  const hs_error_t result = hs_scan(database_.get(), text.data(), static_cast<unsigned>(text.size()),
                                    0, scratch.get(), StopAtFirst, nullptr);
  // HS_SCAN_TERMINATED: something was found. Any other failure: be safe and collect.
  return result != HS_SUCCESS;
}

}  // namespace yagura::sigma

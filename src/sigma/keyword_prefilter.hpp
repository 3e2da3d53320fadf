// KeywordPrefilter: decides from a JSON record's bytes, before parsing, whether any keyword
// search of the rule set could match it.
//
// Keyword searches (field-less Sigma values) need every value of an event: the parser must
// collect all of them and the matcher fold them into one buffer and scan it. One SigmaHQ rule
// (Mimikatz keywords, product `windows` and nothing else) routes keywords to every Windows
// event, so that work was about a fifth of the detection time while it almost never finds
// anything. Each keyword pattern has a necessary literal: the longest run of its literal text
// that JSON writes as itself (printable ASCII other than `"` and `\`). If no such run occurs in
// the record (ASCII case-insensitively where the keyword is), no keyword can hold, and the
// event is parsed with only the fields rules name.
//
// The test must never be wrong in that direction, so it gives up (answers "may match") where
// the raw bytes might spell a value differently from its parsed text: a `\u` or `\/` escape, and
// any byte outside ASCII (simple case folding maps a few non-ASCII letters, such as U+017F, to
// ASCII ones). A rule set with a keyword the literal test cannot cover (a regex, a number, a
// pattern with no such run) gets no prefilter at all. Thread-safety: immutable after Build();
// each thread scans with its own Scratch.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "sigma/hs_database.hpp"
#include "sigma/pair_scan.hpp"
#include "sigma/rule_set.hpp"

namespace yagura::sigma {

class KeywordPrefilter {
 public:
  // Null when the rules have no keyword searches or one the prefilter cannot cover. With
  // `rule_indexes`, only those rules of the set are considered. With `cache_dir`, a literal
  // database is loaded from there when it was compiled before, and stored there when not.
  [[nodiscard]] static Result<std::unique_ptr<KeywordPrefilter>> Build(const RuleSet& rules);
  [[nodiscard]] static Result<std::unique_ptr<KeywordPrefilter>> Build(
      const RuleSet& rules, const std::vector<uint32_t>& rule_indexes,
      const std::string& cache_dir = {});

  // Whether a rule has a keyword search that no prefilter can cover.
  [[nodiscard]] static bool Coverable(const Rule& rule);

  [[nodiscard]] Result<HsScratch> NewScratch() const;
  // Grows `scratch` (used for other databases too) so it can scan this prefilter.
  [[nodiscard]] Result<void> Reserve(HsScratch& scratch) const;

  // False only when no keyword predicate of the rules can hold for any value of the JSON text
  // `json` (as the parser would flatten it).
  [[nodiscard]] bool MayMatch(std::string_view json, HsScratch& scratch) const;

  // The same for the values of an event, as they are (not JSON): each followed by a byte that
  // no literal holds (NUL), and the whole followed by 64 readable bytes. Only a letter that
  // case folding maps to ASCII (U+0130, U+017F, U+212A) makes this give up; other bytes
  // outside ASCII fold to bytes outside ASCII, which no literal holds.
  [[nodiscard]] bool MayMatchValues(std::string_view values, HsScratch& scratch) const;

  // How many distinct literals the prefilter searches for (for diagnostics and tests).
  [[nodiscard]] size_t literal_count() const { return literal_count_; }
  // The length of the shortest literal: a value with fewer bytes holds none (folding can only
  // shorten what it maps to ASCII).
  [[nodiscard]] size_t shortest_literal() const { return shortest_literal_; }

 private:
  KeywordPrefilter() = default;
  [[nodiscard]] bool Search(std::string_view text, PairScan::Guard guard, HsScratch& scratch) const;
  // A few long literals are searched by `pair_scan_` alone; others by the database, after
  // `guard_` (a PairScan of no literals) has looked for unsafe spellings.
  std::unique_ptr<PairScan> pair_scan_;
  std::unique_ptr<PairScan> guard_;
  HsDatabase database_;
  size_t literal_count_ = 0;
  size_t shortest_literal_ = 0;
};

}  // namespace yagura::sigma

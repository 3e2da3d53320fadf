// Matcher: the compiled, fast form of a RuleSet.
//
// Rules are routed by logsource first: the candidate rules of each distinct event class are
// computed once and cached. For each field, every string and regex predicate of every rule on
// that field is compiled into one Hyperscan (Vectorscan) database; one scan per field value
// yields the predicates that fired, which are recorded in a bitset and confirmed exactly where
// the database can only prefilter (non-ASCII case folding, regexes Hyperscan cannot run exactly).
// Only candidate rules with at least one fired predicate, or whose condition can hold without
// any (negations, null, exists), are evaluated, from the bitset, over the same condition tree
// as the plain evaluator. Compiled databases are cached on disk keyed by the rule set's hash.
// Thread-safety: Match() is const and may run on many threads, each with its own Scratch.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "event/event.hpp"
#include "sigma/evaluator.hpp"
#include "sigma/rule_set.hpp"

namespace yagura::sigma {

struct MatcherOptions {
  UnrecognisedPolicy unrecognised = UnrecognisedPolicy::kAllRules;
  std::string cache_dir;  // empty: no on-disk cache
};

class Matcher {
 public:
  class Scratch;  // per-thread working memory, defined in matcher.cpp
  // Scratch is opaque to callers, so its deleter lives in matcher.cpp too.
  struct ScratchDeleter {
    void operator()(Scratch* scratch) const;
  };
  using ScratchPtr = std::unique_ptr<Scratch, ScratchDeleter>;

  [[nodiscard]] static Result<std::unique_ptr<Matcher>> Build(const RuleSet& rules,
                                                              const event::FieldCatalog& catalog,
                                                              const MatcherOptions& options);
  ~Matcher();

  [[nodiscard]] ScratchPtr NewScratch() const;

  // Appends the indices of the rules that apply to and match `event`, in ascending order:
  // exactly what EvaluateAll() gives.
  void Match(const event::Event& event, Scratch& scratch, std::vector<uint32_t>& out) const;

  struct Impl;

 private:
  explicit Matcher(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace yagura::sigma

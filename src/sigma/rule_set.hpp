// RuleSet: every Sigma rule under the given paths, loaded, checked and compiled.
//
// Paths are files or directories (walked recursively for *.yml and *.yaml, in sorted order).
// A file may hold several YAML documents: detection rules, correlation rules and filters
// (docs/sigma-spec.md sections 1, 9, 10). A document that cannot be loaded becomes a
// RuleFailure with its file, line and reason; it never stops the other rules from loading, and
// nothing is dropped without a failure entry. Filters are folded into the rules they name.
// Thread-safety: immutable after Load(); share freely.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "event/field_catalog.hpp"
#include "sigma/rule.hpp"

namespace yagura::sigma {

struct RuleFailure {
  std::string file;
  int line = 0;
  std::string reason;
};

struct LoadOptions {
  // Values for |expand placeholders (%Name% -> list of values). A rule whose placeholder has no
  // entry here is refused, as the specification requires.
  std::map<std::string, std::vector<std::string>> placeholders;
};

struct RuleSet {
  std::vector<Rule> rules;
  std::vector<RuleFailure> failures;
  uint64_t files_read = 0;
  // Hash of every loaded rule file's path and bytes: the key of compiled-matcher caches.
  std::string content_hash;

  [[nodiscard]] static RuleSet Load(const std::vector<std::string>& paths,
                                    event::FieldCatalog& catalog,
                                    const LoadOptions& options = {});
};

}  // namespace yagura::sigma

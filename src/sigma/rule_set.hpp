// RuleSet: every Sigma rule under the given paths, loaded, checked and compiled.
//
// Paths are files or directories (walked recursively for *.yml and *.yaml, in sorted order).
// A file may hold several YAML documents: detection rules, correlation rules and filters
// (docs/sigma-spec.md sections 1, 9, 10). A document that cannot be loaded becomes a
// RuleFailure with its file, line and reason; it never stops the other rules from loading, and
// nothing is dropped without a failure entry. Filters are folded into the rules they name.
// Thread-safety: immutable after Load(); share freely.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "event/field_catalog.hpp"
#include "sigma/correlation.hpp"
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
  // Names are written without the percent signs ("Administrators").
  std::map<std::string, std::vector<std::string>> placeholders;

  // Called after each rule file is read and loaded, with how many of how many files are done
  // (a reload started from the console shows it as progress). Empty: not called.
  std::function<void(size_t files_done, size_t files_total)> on_file;

  // The project ships default placeholder values in config/placeholders.yml (a YAML map of
  // name -> string or list of strings; see that file). Reads such a file.
  [[nodiscard]] static Result<LoadOptions> WithPlaceholderFile(const std::string& path);
  // Path of the shipped file relative to the source tree / install prefix.
  static constexpr const char* DEFAULT_PLACEHOLDER_FILE = "config/placeholders.yml";
};

struct RuleSet {
  std::vector<Rule> rules;
  std::vector<RuleFailure> failures;
  // Correlation rules, validated; their references are resolved against `rules` and
  // `correlations` (docs/sigma-spec.md section 9).
  std::vector<Correlation> correlations;
  // Things worth telling that lost nothing: duplicate rule ids, filters that apply to no rule.
  std::vector<RuleFailure> warnings;
  uint64_t filters_applied = 0;  // filter documents folded into at least one rule
  uint64_t files_read = 0;
  // XXH3-128 (hex) of every loaded rule file's path and bytes, in path order, and of the
  // placeholder values: the key of compiled-matcher caches.
  std::string content_hash;

  [[nodiscard]] static RuleSet Load(const std::vector<std::string>& paths,
                                    event::FieldCatalog& catalog, const LoadOptions& options = {});
};

}  // namespace yagura::sigma

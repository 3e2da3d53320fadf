// Rule tuning: what the people who run a rule set change in it without editing its files. A
// hunt over SigmaHQ's three thousand rules, like a centre's live detection, needs noisy rules
// left out, a curated set kept, and levels raised or lowered to the organisation's view of
// them; editing the rules would be undone by the next update of the repository.
//
// The files are those Hayabusa reads, so an investigator's existing tuning carries over:
//   - a rule list (`exclude_rules.txt`, `noisy_rules.txt`): one rule id or name per line, its
//     first word; `#` starts a comment, blank lines are skipped;
//   - level overrides (`level_tuning.txt`): CSV lines `id,level` (an `id,new_level` header is
//     allowed), `#` comments as above, levels as rules write them (informational... critical).
// Ids are compared exactly; a rule's `name` (Sigma's unique alias) may stand for its id.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/diagnostics.hpp"
#include "core/result.hpp"
#include "scan/scanner.hpp"
#include "sigma/rule.hpp"
#include "sigma/rule_set.hpp"

namespace yagura::scan {

// The ids or names of a rule list file, in order. Fails naming the file when it cannot be read.
[[nodiscard]] Result<std::vector<std::string>> ReadRuleList(const std::string& path);

using LevelOverrides = std::map<std::string, sigma::Level, std::less<>>;

// Level overrides read from `path` into `out` (a later line, or file, wins for the same id).
// Fails naming the file and line of a line that is not `id,level` or names no level.
[[nodiscard]] Result<void> ReadLevelOverrides(const std::string& path, LevelOverrides& out);

// The level `overrides` give the rule (by its id, else its name), if any.
[[nodiscard]] const sigma::Level* OverriddenLevel(const LevelOverrides& overrides,
                                                  const sigma::RuleInfo& info);

// Reads the tuning files of `selection` (ScanOptions' rule lists and level overrides): their
// ids join rule_ids and exclude_rule_ids, and their levels are set on the rules and
// correlations (counted in summary.rules_relevelled). Ids that name nothing loaded are warned
// of, a list at a time: a misspelt id would otherwise leave a noisy rule running unnoticed.
[[nodiscard]] Result<void> ApplyRuleTuning(sigma::RuleSet& rules, ScanOptions& selection,
                                           Diagnostics& diagnostics, ScanSummary& summary);

}  // namespace yagura::scan

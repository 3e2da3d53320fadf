// Rule regression tests (`yagura rules test`), in SigmaHQ's convention.
//
// A rule names an `info.yml` with `regression_tests_path`, a path relative to the root of its
// rule repository (the folder holding `rules/` and `regression_data/`). The file lists the
// rule's sample logs under `regression_tests_info`, each with a name, a type (`evtx`, `json`),
// a path relative to the same root and an optional `match_count`. A test passes when scanning
// the sample raises at least `match_count` alerts of the rule (exactly that many with
// RuleTestOptions::exact_count; none at all when it is 0), or at least one when no count is
// given; `rule_metadata` must name the rule's id. SigmaHQ's counts are minimums: some of its
// samples hold more matching events than their info.yml counts. The root is found by walking up
// from the rule's file until the named path exists there, as SigmaHQ's own runner does, unless one
// is given. A sample not found under the root is looked for beside its info.yml, so a rule copied
// with its test folder into another repository still finds it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "scan/scanner.hpp"

namespace yagura::scan {

struct RuleTestCase {
  std::string name;    // as info.yml names it
  std::string type;    // evtx, json...: what info.yml says the sample is
  std::string sample;  // the sample's path, resolved (as written when it was not found)
  std::optional<int64_t> match_count;  // absent: the rule must fire at least once
  bool exact = false;                  // match_count is the exact number of alerts, not a minimum
  bool extra_json = false;  // the `.json` beside an `evtx` sample (RuleTestOptions::with_json)
  // Results.
  bool ran = false;
  uint64_t alerts = 0;
  std::string error;  // why the sample could not be scanned
  [[nodiscard]] bool passed() const {
    if (!ran || !error.empty()) return false;
    if (!match_count) return alerts > 0;
    const auto expected = static_cast<uint64_t>(*match_count);
    return exact || expected == 0 ? alerts == expected : alerts >= expected;
  }
};

struct RuleTest {
  // Index into the engine's RuleSet::rules, or RuleSet::correlations for a correlation rule's
  // test (whose alerts are those of the correlation, fed by the rules it references).
  uint32_t rule = 0;
  bool correlation = false;
  std::string info_path;  // the resolved info.yml ("" when it was not found)
  // What makes the test fail before any sample runs: info.yml missing or malformed, an id that
  // is not the rule's, no sample listed.
  std::string problem;
  std::vector<RuleTestCase> cases;
  [[nodiscard]] bool passed() const;
  // The rule's or correlation's own description.
  [[nodiscard]] const sigma::RuleInfo& info(const sigma::RuleSet& rules) const {
    return correlation ? rules.correlations[rule].info : rules.rules[rule].info;
  }
};

struct RuleTestOptions {
  std::string root;  // the rule repository's root; empty: found from each rule's file
  // Also scan the `.json` file beside each `evtx` sample (SigmaHQ ships the samples in
  // evtx_dump's JSON too), with the same expectation: the JSON path of the engine is tested
  // with the same events.
  bool with_json = false;
  bool exact_count = false;  // match_count exact, not a minimum
};

// The tests of every rule of `rules` that names an info.yml, in rule order, then of every
// correlation rule that names one.
[[nodiscard]] std::vector<RuleTest> FindRuleTests(const sigma::RuleSet& rules,
                                                  const RuleTestOptions& options);

// Scans each test's samples with `engine` (whose rule set FindRuleTests read) and records the
// alerts of the test's rule or correlation. A correlation's windows close at the end of each
// sample, and a sample's events need not come in time order.
void RunRuleTests(Engine& engine, std::vector<RuleTest>& tests);

}  // namespace yagura::scan

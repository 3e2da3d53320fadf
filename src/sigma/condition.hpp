// The Sigma condition language: parsing a condition string into a Condition tree.
//
// Recursive descent over the grammar of docs/sigma-spec.md section 8, loosest first:
// or < and < not < `x of` < parentheses; `and`/`or` are n-ary. `1 of P` / `any of P` become an
// OR and `all of P` an AND of the identifiers that fully match the wildcard pattern P (`them`
// = every identifier); identifiers starting with `_` are only selected by patterns that start
// with `_` themselves. The Sigma 1 aggregation syntax (`| count() ...`, `near`) is rejected.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "sigma/rule.hpp"

namespace yagura::sigma {

// Parses `text` (whitespace, including newlines, is insignificant) over `identifiers`:
// kSelection nodes index into that list.
[[nodiscard]] Result<Condition> ParseCondition(std::string_view text,
                                               const std::vector<std::string>& identifiers);

// Whether `name` fully matches a condition pattern where `*` is any run of characters.
[[nodiscard]] bool ConditionPatternMatches(std::string_view pattern, std::string_view name);

// A one-line rendering of a condition tree, with `names` for the selections (tests, messages).
[[nodiscard]] std::string ConditionToString(const Condition& condition,
                                            const std::vector<std::string>& names);

}  // namespace yagura::sigma

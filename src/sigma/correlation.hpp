// Correlation rules (docs/sigma-spec.md section 9): parsed and validated at load time, evaluated
// by the correlation engine over the matches of the rules they reference.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "sigma/rule.hpp"

namespace yagura::sigma {

enum class CorrelationType : uint8_t {
  kEventCount,
  kValueCount,
  kTemporal,
  kTemporalOrdered,
  kValueSum,
  kValueAvg,
  kValuePercentile,
  kValueMedian,  // pySigma extension
};
[[nodiscard]] std::string_view CorrelationTypeName(CorrelationType type);

enum class CorrelationOp : uint8_t { kGt, kGte, kLt, kLte, kEq, kNeq };

struct CorrelationComparison {
  CorrelationOp op = CorrelationOp::kGte;
  double value = 0;
};

// A reference in `rules:`, resolved by id first, then by name.
struct CorrelationRef {
  std::string name;             // as written
  bool is_correlation = false;  // refers to another correlation (chaining)
  uint32_t index = 0;           // into RuleSet::rules or RuleSet::correlations
};

struct Correlation {
  RuleInfo info;  // logsource is empty; level etc. as written on the correlation
  CorrelationType type = CorrelationType::kEventCount;
  std::vector<CorrelationRef> rules;
  std::vector<std::string> group_by;  // may name aliases
  int64_t timespan_seconds = 0;
  // ANDed comparisons of the aggregate (a range gives two). Temporal types without a condition
  // get `gte: <number of rules>`.
  std::vector<CorrelationComparison> conditions;
  std::vector<std::string> condition_fields;  // value_count / value_*: the aggregated field(s)
  double percentile = 0;                      // value_percentile
  // Temporal types may instead give a boolean expression over the referenced rules
  // ("a and b and not c"); `extended` is then its tree, kSelection indexing `rules`.
  std::string extended_text;
  bool has_extended = false;
  Condition extended;
  // alias -> (rule name or id -> field in that rule's events)
  std::map<std::string, std::map<std::string, std::string>> aliases;
  bool generate = false;  // whether the referenced rules also alert on their own
};

}  // namespace yagura::sigma

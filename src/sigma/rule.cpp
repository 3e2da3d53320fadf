// Names of the rule model's enumerations, as written in Sigma rules.
#include "sigma/rule.hpp"

#include "sigma/correlation.hpp"

namespace yagura::sigma {

std::string_view LevelName(Level level) {
  switch (level) {
    case Level::kInformational:
      return "informational";
    case Level::kLow:
      return "low";
    case Level::kMedium:
      return "medium";
    case Level::kHigh:
      return "high";
    case Level::kCritical:
      return "critical";
  }
  return "medium";
}

std::string_view CorrelationTypeName(CorrelationType type) {
  switch (type) {
    case CorrelationType::kEventCount:
      return "event_count";
    case CorrelationType::kValueCount:
      return "value_count";
    case CorrelationType::kTemporal:
      return "temporal";
    case CorrelationType::kTemporalOrdered:
      return "temporal_ordered";
    case CorrelationType::kValueSum:
      return "value_sum";
    case CorrelationType::kValueAvg:
      return "value_avg";
    case CorrelationType::kValuePercentile:
      return "value_percentile";
    case CorrelationType::kValueMedian:
      return "value_median";
  }
  return "event_count";
}

}  // namespace yagura::sigma

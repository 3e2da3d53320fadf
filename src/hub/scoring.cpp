// NCISS-style scoring (the tables and the rules are documented in scoring.hpp).
//
// The factor tables are the single source of the allowed values: the API's validation, the
// JSON Schemas and the score all read them, so a value cannot be accepted and then ignored.
#include "hub/scoring.hpp"

#include <algorithm>
#include <array>
#include <cmath>

namespace yagura::hub {
namespace {

constexpr std::array<FactorLevel, 8> FUNCTIONAL_IMPACT = {{
    {"no_impact", "No impact", 0},
    {"no_impact_to_services", "No impact to services", 5},
    {"minimal_impact_to_non_critical_services", "Minimal impact to non-critical services", 20},
    {"minimal_impact_to_critical_services", "Minimal impact to critical services", 35},
    {"significant_impact_to_non_critical_services",
     "Significant impact to non-critical services", 50},
    {"denial_of_non_critical_services", "Denial of non-critical services", 65},
    {"significant_impact_to_critical_services", "Significant impact to critical services", 85},
    {"denial_of_critical_services", "Denial of critical services / loss of control", 100},
}};

constexpr std::array<FactorLevel, 4> OBSERVED_ACTIVITY = {{
    {"prepare", "Prepare: reconnaissance and staging, no access yet", 20},
    {"engage", "Engage: delivery and exploitation attempts", 45},
    {"presence", "Presence: the actor has established access", 70},
    {"effect", "Effect: the actor has acted on objectives", 100},
}};

constexpr std::array<FactorLevel, 9> LOCATION = {{
    {"0", "Unsuccessful", 0},
    {"1", "Business demilitarized zone", 15},
    {"2", "Business network", 30},
    {"3", "Business network management", 45},
    {"4", "Critical system demilitarized zone", 60},
    {"5", "Critical system management", 75},
    {"6", "Critical systems", 90},
    {"7", "Safety systems", 100},
    {"U", "Unknown", -1},
}};

// API names of the location codes, parallel to LOCATION.
constexpr std::array<std::string_view, 9> LOCATION_NAMES = {
    "unsuccessful",        "business_dmz",     "business_network",
    "business_network_management", "critical_system_dmz", "critical_system_management",
    "critical_systems",    "safety_systems",   "unknown"};

constexpr std::array<FactorLevel, 7> ACTOR_CHARACTERIZATION = {{
    {"unknown", "Unknown", -1},
    {"unsophisticated", "Unsophisticated individual", 15},
    {"hacktivist", "Hacktivist", 35},
    {"insider", "Insider", 50},
    {"criminal", "Criminal", 55},
    {"organized_crime", "Organized crime", 75},
    {"state_sponsored", "Nation state or state sponsored", 100},
}};

constexpr std::array<FactorLevel, 8> INFORMATION_IMPACT = {{
    {"none", "No impact", 0},
    {"suspected_but_not_identified", "Suspected but not identified", 10},
    {"privacy_data_breach", "Privacy data breach", 40},
    {"proprietary_information_breach", "Proprietary information breach", 45},
    {"destruction_of_non_critical_systems", "Destruction of non-critical systems", 55},
    {"critical_systems_data_breach", "Critical systems data breach", 75},
    {"core_credential_compromise", "Core credential compromise", 85},
    {"destruction_of_critical_system", "Destruction of critical system", 100},
}};

constexpr std::array<FactorLevel, 4> RECOVERABILITY = {{
    {"regular", "Regular: recovery with existing resources, predictable time", 10},
    {"supplemented", "Supplemented: predictable time with additional resources", 40},
    {"extended", "Extended: unpredictable time, additional resources and outside help", 70},
    {"not_recoverable", "Not recoverable", 100},
}};

constexpr std::array<FactorLevel, 4> CROSS_SECTOR_DEPENDENCY = {{
    {"none", "No dependent sectors", 0},
    {"low", "Few dependents in other sectors", 35},
    {"medium", "Several sectors depend on the affected services", 70},
    {"high", "Many sectors depend on the affected services", 100},
}};

constexpr std::array<FactorLevel, 5> POTENTIAL_IMPACT = {{
    {"none", "No national-level impact", 0},
    {"low", "Low national-level impact", 25},
    {"medium", "Medium national-level impact", 50},
    {"high", "High national-level impact", 75},
    {"critical", "Critical national-level impact", 100},
}};

constexpr std::array<FactorDefinition, 8> FACTORS = {{
    {ScoringFactor::kFunctionalImpact, "functional_impact", 20, FUNCTIONAL_IMPACT},
    {ScoringFactor::kObservedActivity, "observed_activity", 15, OBSERVED_ACTIVITY},
    {ScoringFactor::kLocation, "location", 15, LOCATION},
    {ScoringFactor::kActorCharacterization, "actor_characterization", 10, ACTOR_CHARACTERIZATION},
    {ScoringFactor::kInformationImpact, "information_impact", 15, INFORMATION_IMPACT},
    {ScoringFactor::kRecoverability, "recoverability", 10, RECOVERABILITY},
    {ScoringFactor::kCrossSectorDependency, "cross_sector_dependency", 5,
     CROSS_SECTOR_DEPENDENCY},
    {ScoringFactor::kPotentialImpact, "potential_impact", 10, POTENTIAL_IMPACT},
}};

template <size_t N>
constexpr std::array<std::string_view, N> ValuesOf(const std::array<FactorLevel, N>& levels) {
  std::array<std::string_view, N> values{};
  for (size_t i = 0; i < N; ++i) values[i] = levels[i].value;
  return values;
}

constexpr auto FUNCTIONAL_IMPACT_VALUES = ValuesOf(FUNCTIONAL_IMPACT);
constexpr auto OBSERVED_ACTIVITY_VALUES = ValuesOf(OBSERVED_ACTIVITY);
constexpr auto LOCATION_VALUES = ValuesOf(LOCATION);
constexpr auto ACTOR_CHARACTERIZATION_VALUES = ValuesOf(ACTOR_CHARACTERIZATION);
constexpr auto INFORMATION_IMPACT_VALUES = ValuesOf(INFORMATION_IMPACT);
constexpr auto RECOVERABILITY_VALUES = ValuesOf(RECOVERABILITY);
constexpr auto CROSS_SECTOR_DEPENDENCY_VALUES = ValuesOf(CROSS_SECTOR_DEPENDENCY);
constexpr auto POTENTIAL_IMPACT_VALUES = ValuesOf(POTENTIAL_IMPACT);

constexpr std::array<std::string_view, 18> LOCATION_INPUTS = [] {
  std::array<std::string_view, 18> inputs{};
  for (size_t i = 0; i < 9; ++i) {
    inputs[i] = LOCATION[i].value;
    inputs[9 + i] = LOCATION_NAMES[i];
  }
  return inputs;
}();

struct PriorityBand {
  double minimum;
  Priority priority;
};

// Highest first; the first band whose minimum the score reaches applies.
constexpr std::array<PriorityBand, 6> BANDS = {{
    {90, {5, "emergency", "black"}},
    {85, {4, "severe", "red"}},
    {75, {3, "high", "orange"}},
    {50, {2, "medium", "yellow"}},
    {25, {1, "low", "green"}},
    {0, {0, "baseline", "white"}},
}};

double RoundOneDecimal(double value) { return std::round(value * 10.0) / 10.0; }

const FactorLevel* FindLevel(const FactorDefinition& definition, std::string_view value) {
  for (const auto& level : definition.levels) {
    if (level.value == value) return &level;
  }
  return nullptr;
}

}  // namespace

std::span<const FactorDefinition> ScoringFactors() { return FACTORS; }

const FactorDefinition& DefinitionOf(ScoringFactor factor) {
  return FACTORS[static_cast<size_t>(factor)];
}

std::span<const std::string_view> FactorValues(ScoringFactor factor) {
  switch (factor) {
    case ScoringFactor::kFunctionalImpact: return FUNCTIONAL_IMPACT_VALUES;
    case ScoringFactor::kObservedActivity: return OBSERVED_ACTIVITY_VALUES;
    case ScoringFactor::kLocation: return LOCATION_VALUES;
    case ScoringFactor::kActorCharacterization: return ACTOR_CHARACTERIZATION_VALUES;
    case ScoringFactor::kInformationImpact: return INFORMATION_IMPACT_VALUES;
    case ScoringFactor::kRecoverability: return RECOVERABILITY_VALUES;
    case ScoringFactor::kCrossSectorDependency: return CROSS_SECTOR_DEPENDENCY_VALUES;
    case ScoringFactor::kPotentialImpact: return POTENTIAL_IMPACT_VALUES;
  }
  return {};
}

bool IsFactorValue(ScoringFactor factor, std::string_view value) {
  return FindLevel(DefinitionOf(factor), value) != nullptr;
}

std::optional<std::string> LocationCode(std::string_view code_or_name) {
  for (size_t i = 0; i < LOCATION.size(); ++i) {
    if (LOCATION[i].value == code_or_name || LOCATION_NAMES[i] == code_or_name) {
      return std::string(LOCATION[i].value);
    }
  }
  return std::nullopt;
}

std::string_view LocationName(std::string_view code) {
  for (size_t i = 0; i < LOCATION.size(); ++i) {
    if (LOCATION[i].value == code) return LOCATION_NAMES[i];
  }
  return {};
}

std::span<const std::string_view> LocationInputs() { return LOCATION_INPUTS; }

Priority PriorityOf(double score) {
  for (const auto& band : BANDS) {
    if (score >= band.minimum) return band.priority;
  }
  return BANDS.back().priority;
}

Priority PriorityLevel(int level) {
  level = std::clamp(level, 0, 5);
  return BANDS[static_cast<size_t>(5 - level)].priority;
}

IncidentScore ScoreIncident(const ScoringInputs& inputs) {
  const std::array<const std::optional<std::string>*, 8> optional_values = {
      nullptr, &inputs.observed_activity, nullptr, &inputs.actor_characterization,
      nullptr, nullptr, &inputs.cross_sector_dependency, &inputs.potential_impact};
  const std::array<const std::string*, 8> required_values = {
      &inputs.functional_impact, nullptr, &inputs.location, nullptr,
      &inputs.information_impact, &inputs.recoverability, nullptr, nullptr};

  IncidentScore score;
  score.factors.reserve(FACTORS.size());
  double weighted = 0;
  int total_weight = 0;
  for (size_t i = 0; i < FACTORS.size(); ++i) {
    const FactorDefinition& definition = FACTORS[i];
    FactorScore factor;
    factor.factor = definition.name;
    factor.weight = definition.weight;
    if (required_values[i] != nullptr && !required_values[i]->empty()) {
      factor.value = *required_values[i];
    } else if (optional_values[i] != nullptr && optional_values[i]->has_value()) {
      factor.value = **optional_values[i];
    }
    if (factor.value) {
      const FactorLevel* level = FindLevel(definition, *factor.value);
      if (level == nullptr) {
        factor.value.reset();  // not one of ours: treated as not provided
      } else if (level->points >= 0) {
        factor.points = level->points;
        weighted += static_cast<double>(level->points) * definition.weight;
        total_weight += definition.weight;
      }
    }
    score.factors.push_back(std::move(factor));
  }
  if (total_weight > 0) {
    for (auto& factor : score.factors) {
      if (factor.points) {
        factor.contribution =
            RoundOneDecimal(static_cast<double>(*factor.points) * factor.weight / total_weight);
      }
    }
    score.value = RoundOneDecimal(weighted / total_weight);
  }
  score.priority = PriorityOf(score.value);
  return score;
}

}  // namespace yagura::hub

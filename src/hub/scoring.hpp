// Incident scoring in the manner of CISA's National Cyber Incident Scoring System (NCISS).
//
// NCISS scores an incident as a weighted arithmetic mean over eight factors and maps the
// score to a priority level. CISA publishes the method and the factors but calls the option
// values of its public demonstration "notional", so the points and weights below are Yagura's
// own, chosen so that the ordering of every factor follows CISA's lists and the factors that
// describe what actually happened (functional and information impact, location, observed
// activity) weigh most. They are written down here and repeated in every score, so anyone can
// check a priority by hand:
//
//   factor                    weight  values (points 0..100)
//   functional_impact           20    no_impact 0, no_impact_to_services 5,
//                                     minimal_impact_to_non_critical_services 20,
//                                     minimal_impact_to_critical_services 35,
//                                     significant_impact_to_non_critical_services 50,
//                                     denial_of_non_critical_services 65,
//                                     significant_impact_to_critical_services 85,
//                                     denial_of_critical_services 100 (also "loss of control")
//   observed_activity           15    prepare 20, engage 45, presence 70, effect 100
//   location                    15    0 unsuccessful 0, 1 business_dmz 15, 2 business_network 30,
//                                     3 business_network_management 45, 4 critical_system_dmz 60,
//                                     5 critical_system_management 75, 6 critical_systems 90,
//                                     7 safety_systems 100, U unknown (excluded)
//   actor_characterization      10    unknown (excluded), unsophisticated 15, hacktivist 35,
//                                     insider 50, criminal 55, organized_crime 75,
//                                     state_sponsored 100
//   information_impact          15    none 0, suspected_but_not_identified 10,
//                                     privacy_data_breach 40, proprietary_information_breach 45,
//                                     destruction_of_non_critical_systems 55,
//                                     critical_systems_data_breach 75,
//                                     core_credential_compromise 85,
//                                     destruction_of_critical_system 100
//   recoverability              10    regular 10, supplemented 40, extended 70,
//                                     not_recoverable 100
//   cross_sector_dependency      5    none 0, low 35, medium 70, high 100
//   potential_impact            10    none 0, low 25, medium 50, high 75, critical 100
//
// score = sum(points * weight) / sum(weight), over the factors that were provided and are not
// "unknown"; the others are listed with "included": false and do not pull the mean down. The
// score is rounded to one decimal. Each factor's contribution is points * weight / sum(weight),
// so the contributions add up to the score.
//
// Priority levels follow NCISS (and the MISP "priority-level" taxonomy, whose numerical values
// 25, 50, 75, 85, 90 are the band boundaries used here):
//   5 emergency (black)   score >= 90
//   4 severe    (red)     score >= 85
//   3 high      (orange)  score >= 75
//   2 medium    (yellow)  score >= 50
//   1 low       (green)   score >= 25
//   0 baseline  (white)   score <  25
// Level 3 and above is "significant".
//
// Everything here is pure and thread-safe.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace yagura::hub {

enum class ScoringFactor {
  kFunctionalImpact,
  kObservedActivity,
  kLocation,
  kActorCharacterization,
  kInformationImpact,
  kRecoverability,
  kCrossSectorDependency,
  kPotentialImpact,
};

// One allowed value of a factor. `points` < 0 marks "unknown": accepted, but excluded from the
// mean. `label` is the wording of CISA's guidelines.
struct FactorLevel {
  std::string_view value;
  std::string_view label;
  int points;
};

struct FactorDefinition {
  ScoringFactor factor;
  std::string_view name;  // "functional_impact", ...
  int weight;
  std::span<const FactorLevel> levels;
};

// The eight factors in NCISS order.
std::span<const FactorDefinition> ScoringFactors();
const FactorDefinition& DefinitionOf(ScoringFactor factor);
// The values of a factor, in ascending order of severity (for validation and JSON Schema).
std::span<const std::string_view> FactorValues(ScoringFactor factor);
bool IsFactorValue(ScoringFactor factor, std::string_view value);

// Location of observed activity: codes "0".."7" and "U" with names; the API accepts either and
// stores the code.
std::optional<std::string> LocationCode(std::string_view code_or_name);
std::string_view LocationName(std::string_view code);
// Codes and names together (what an API request may send).
std::span<const std::string_view> LocationInputs();

// The values that feed the score. Required factors of an incident report are always present;
// the optional ones may be empty.
struct ScoringInputs {
  std::string functional_impact;
  std::string information_impact;
  std::string recoverability;
  std::string location;  // code "0".."7" or "U"
  std::optional<std::string> observed_activity;
  std::optional<std::string> actor_characterization;
  std::optional<std::string> cross_sector_dependency;
  std::optional<std::string> potential_impact;
};

struct FactorScore {
  std::string_view factor;
  std::optional<std::string> value;  // nullopt: not provided
  std::optional<int> points;         // nullopt: excluded from the mean
  int weight = 0;
  double contribution = 0;           // points * weight / sum of included weights, 1 decimal
  [[nodiscard]] bool included() const { return points.has_value(); }
};

struct Priority {
  int level = 0;
  std::string_view name;   // "baseline", "low", "medium", "high", "severe", "emergency"
  std::string_view color;  // "white", "green", "yellow", "orange", "red", "black"
  [[nodiscard]] bool significant() const { return level >= 3; }
};

struct IncidentScore {
  double value = 0;  // 0..100, one decimal
  Priority priority;
  std::vector<FactorScore> factors;  // all eight, in NCISS order
};

// Scores `inputs`. Values outside a factor's list count as not provided (callers validate
// first; scoring never fails).
IncidentScore ScoreIncident(const ScoringInputs& inputs);

// The priority level of a score (thresholds above).
Priority PriorityOf(double score);
// The level's record by number (0..5); level is clamped.
Priority PriorityLevel(int level);

}  // namespace yagura::hub

// NCISS-style scoring: each factor's points, the weighted mean over provided factors only,
// rounding, and the priority thresholds.
#include "hub/scoring.hpp"

#include <gtest/gtest.h>

#include <numeric>
#include <set>

namespace yagura::hub {
namespace {

ScoringInputs Minimal() {
  ScoringInputs inputs;
  inputs.functional_impact = "no_impact";
  inputs.information_impact = "none";
  inputs.recoverability = "regular";
  inputs.location = "0";
  return inputs;
}

const FactorScore& FactorOf(const IncidentScore& score, std::string_view name) {
  for (const auto& factor : score.factors) {
    if (factor.factor == name) return factor;
  }
  throw std::out_of_range(std::string(name));
}

TEST(ScoringTest, EightFactorsInNcissOrderWithWeightsSummingToHundred) {
  auto factors = ScoringFactors();
  ASSERT_EQ(factors.size(), 8u);
  const char* expected[] = {"functional_impact", "observed_activity",     "location",
                            "actor_characterization", "information_impact", "recoverability",
                            "cross_sector_dependency", "potential_impact"};
  int total = 0;
  for (size_t i = 0; i < factors.size(); ++i) {
    EXPECT_EQ(factors[i].name, expected[i]);
    EXPECT_GT(factors[i].weight, 0);
    total += factors[i].weight;
  }
  EXPECT_EQ(total, 100);
}

TEST(ScoringTest, EnumerationsHaveTheDomainSizes) {
  EXPECT_EQ(FactorValues(ScoringFactor::kFunctionalImpact).size(), 8u);
  EXPECT_EQ(FactorValues(ScoringFactor::kInformationImpact).size(), 8u);
  EXPECT_EQ(FactorValues(ScoringFactor::kRecoverability).size(), 4u);
  EXPECT_EQ(FactorValues(ScoringFactor::kLocation).size(), 9u);
  EXPECT_EQ(FactorValues(ScoringFactor::kObservedActivity).size(), 4u);
  EXPECT_EQ(FactorValues(ScoringFactor::kFunctionalImpact).front(), "no_impact");
  EXPECT_EQ(FactorValues(ScoringFactor::kFunctionalImpact).back(), "denial_of_critical_services");
  EXPECT_EQ(FactorValues(ScoringFactor::kInformationImpact).back(),
            "destruction_of_critical_system");
}

// Within every factor, severity (and so points) never decreases along the list, and the
// known values span 0..100 except where the lowest value still means something happened.
TEST(ScoringTest, PointsAreOrderedAndWithinRange) {
  for (const auto& definition : ScoringFactors()) {
    int previous = -1;
    int highest = -1;
    for (const auto& level : definition.levels) {
      if (level.points < 0) continue;  // unknown: excluded
      EXPECT_GE(level.points, previous) << definition.name << " " << level.value;
      EXPECT_LE(level.points, 100);
      previous = level.points;
      highest = std::max(highest, level.points);
    }
    EXPECT_EQ(highest, 100) << definition.name;
  }
}

TEST(ScoringTest, EachFactorValueScoresItsPointsWhenAlone) {
  // With only one factor included, the score equals that factor's points.
  for (const auto& definition : ScoringFactors()) {
    for (const auto& level : definition.levels) {
      ScoringInputs inputs;
      switch (definition.factor) {
        case ScoringFactor::kFunctionalImpact: inputs.functional_impact = level.value; break;
        case ScoringFactor::kInformationImpact: inputs.information_impact = level.value; break;
        case ScoringFactor::kRecoverability: inputs.recoverability = level.value; break;
        case ScoringFactor::kLocation: inputs.location = level.value; break;
        case ScoringFactor::kObservedActivity: inputs.observed_activity = level.value; break;
        case ScoringFactor::kActorCharacterization:
          inputs.actor_characterization = level.value;
          break;
        case ScoringFactor::kCrossSectorDependency:
          inputs.cross_sector_dependency = level.value;
          break;
        case ScoringFactor::kPotentialImpact: inputs.potential_impact = level.value; break;
      }
      IncidentScore score = ScoreIncident(inputs);
      const FactorScore& factor = FactorOf(score, definition.name);
      ASSERT_TRUE(factor.value.has_value());
      EXPECT_EQ(*factor.value, level.value);
      EXPECT_EQ(factor.weight, definition.weight);
      if (level.points < 0) {
        EXPECT_FALSE(factor.included()) << definition.name << " " << level.value;
        EXPECT_EQ(score.value, 0);
      } else {
        ASSERT_TRUE(factor.included());
        EXPECT_EQ(*factor.points, level.points);
        EXPECT_DOUBLE_EQ(score.value, level.points) << definition.name << " " << level.value;
        EXPECT_DOUBLE_EQ(factor.contribution, level.points);
      }
    }
  }
}

TEST(ScoringTest, WeightedMeanOverProvidedFactors) {
  ScoringInputs inputs;
  inputs.functional_impact = "significant_impact_to_non_critical_services";  // 50 x 20
  inputs.observed_activity = "presence";                                     // 70 x 15
  inputs.location = "2";                                                     // 30 x 15
  inputs.information_impact = "privacy_data_breach";                         // 40 x 15
  inputs.recoverability = "supplemented";                                    // 40 x 10
  IncidentScore score = ScoreIncident(inputs);
  // (1000 + 1050 + 450 + 600 + 400) / 75 = 46.666...
  EXPECT_DOUBLE_EQ(score.value, 46.7);
  EXPECT_EQ(score.priority.level, 1);
  EXPECT_EQ(score.priority.name, "low");
  EXPECT_EQ(score.priority.color, "green");
  EXPECT_FALSE(score.priority.significant());
  EXPECT_DOUBLE_EQ(FactorOf(score, "functional_impact").contribution, 13.3);  // 1000/75
  EXPECT_DOUBLE_EQ(FactorOf(score, "observed_activity").contribution, 14.0);
}

TEST(ScoringTest, MissingOptionalFactorsAreExcludedNotCountedAsZero) {
  ScoringInputs inputs;
  inputs.functional_impact = "denial_of_critical_services";
  inputs.information_impact = "destruction_of_critical_system";
  inputs.recoverability = "not_recoverable";
  inputs.location = "7";
  IncidentScore without = ScoreIncident(inputs);
  EXPECT_DOUBLE_EQ(without.value, 100);
  EXPECT_EQ(without.priority.level, 5);
  for (const char* name : {"observed_activity", "actor_characterization",
                           "cross_sector_dependency", "potential_impact"}) {
    const FactorScore& factor = FactorOf(without, name);
    EXPECT_FALSE(factor.value.has_value()) << name;
    EXPECT_FALSE(factor.included()) << name;
    EXPECT_EQ(factor.contribution, 0) << name;
  }
  // Providing a low optional factor lowers the mean: it is now counted.
  inputs.potential_impact = "none";
  IncidentScore with = ScoreIncident(inputs);
  EXPECT_DOUBLE_EQ(with.value, 85.7);  // 6000 / 70
  EXPECT_EQ(with.priority.level, 4);
}

TEST(ScoringTest, UnknownValuesAreShownButExcluded) {
  ScoringInputs inputs = Minimal();
  inputs.functional_impact = "denial_of_critical_services";  // 100 x 20
  inputs.location = "U";
  inputs.actor_characterization = "unknown";
  IncidentScore score = ScoreIncident(inputs);
  // functional 2000 + information 0 + recoverability 10 x 10 = 2100 over 45.
  EXPECT_DOUBLE_EQ(score.value, 46.7);
  EXPECT_EQ(*FactorOf(score, "location").value, "U");
  EXPECT_FALSE(FactorOf(score, "location").included());
  EXPECT_FALSE(FactorOf(score, "actor_characterization").included());
}

TEST(ScoringTest, ValuesOutsideTheListsCountAsNotProvided) {
  ScoringInputs inputs = Minimal();
  inputs.observed_activity = "bogus";
  IncidentScore score = ScoreIncident(inputs);
  EXPECT_FALSE(FactorOf(score, "observed_activity").value.has_value());
  EXPECT_FALSE(FactorOf(score, "observed_activity").included());
}

TEST(ScoringTest, NothingProvidedScoresZeroBaseline) {
  IncidentScore score = ScoreIncident(ScoringInputs{});
  EXPECT_EQ(score.value, 0);
  EXPECT_EQ(score.priority.level, 0);
  EXPECT_EQ(score.priority.name, "baseline");
  EXPECT_EQ(score.factors.size(), 8u);
}

TEST(ScoringTest, ContributionsAddUpToTheScore) {
  ScoringInputs inputs;
  inputs.functional_impact = "minimal_impact_to_critical_services";
  inputs.information_impact = "core_credential_compromise";
  inputs.recoverability = "extended";
  inputs.location = "5";
  inputs.observed_activity = "effect";
  inputs.actor_characterization = "criminal";
  inputs.cross_sector_dependency = "low";
  inputs.potential_impact = "high";
  IncidentScore score = ScoreIncident(inputs);
  double sum = 0;
  for (const auto& factor : score.factors) sum += factor.contribution;
  EXPECT_NEAR(sum, score.value, 0.05 * 8);
  // 35x20 + 100x15 + 75x15 + 55x10 + 85x15 + 70x10 + 35x5 + 75x10 = 6775 / 100.
  EXPECT_DOUBLE_EQ(score.value, 67.8);
  EXPECT_EQ(score.priority.level, 2);
}

TEST(ScoringTest, PriorityThresholds) {
  struct Case {
    double score;
    int level;
    const char* name;
    const char* color;
  };
  const Case cases[] = {
      {0, 0, "baseline", "white"},   {24.9, 0, "baseline", "white"}, {25, 1, "low", "green"},
      {49.9, 1, "low", "green"},     {50, 2, "medium", "yellow"},    {74.9, 2, "medium", "yellow"},
      {75, 3, "high", "orange"},     {84.9, 3, "high", "orange"},    {85, 4, "severe", "red"},
      {89.9, 4, "severe", "red"},    {90, 5, "emergency", "black"}, {100, 5, "emergency", "black"},
  };
  for (const auto& c : cases) {
    Priority priority = PriorityOf(c.score);
    EXPECT_EQ(priority.level, c.level) << c.score;
    EXPECT_EQ(priority.name, c.name) << c.score;
    EXPECT_EQ(priority.color, c.color) << c.score;
    EXPECT_EQ(priority.significant(), c.level >= 3) << c.score;
    EXPECT_EQ(PriorityLevel(c.level).name, c.name);
  }
  EXPECT_EQ(PriorityLevel(9).level, 5);
  EXPECT_EQ(PriorityLevel(-1).level, 0);
}

TEST(ScoringTest, ScoreIsRoundedToOneDecimalAndLevelFollowsTheShownScore) {
  ScoringInputs inputs;
  inputs.functional_impact = "significant_impact_to_critical_services";  // 85 x 20 = 1700
  inputs.location = "4";                                                // 60 x 15 = 900
  inputs.information_impact = "critical_systems_data_breach";           // 75 x 15 = 1125
  inputs.recoverability = "supplemented";                               // 40 x 10 = 400
  IncidentScore score = ScoreIncident(inputs);
  // 4125 / 60 = 68.75 -> 68.8
  EXPECT_DOUBLE_EQ(score.value, 68.8);
  EXPECT_EQ(score.priority.level, PriorityOf(score.value).level);
  EXPECT_EQ(score.priority.level, 2);
}

TEST(ScoringTest, LocationCodesAndNames) {
  EXPECT_EQ(LocationCode("3"), "3");
  EXPECT_EQ(LocationCode("business_network_management"), "3");
  EXPECT_EQ(LocationCode("unknown"), "U");
  EXPECT_EQ(LocationCode("U"), "U");
  EXPECT_FALSE(LocationCode("8").has_value());
  EXPECT_FALSE(LocationCode("").has_value());
  EXPECT_EQ(LocationName("7"), "safety_systems");
  EXPECT_EQ(LocationName("0"), "unsuccessful");
  std::set<std::string_view> inputs(LocationInputs().begin(), LocationInputs().end());
  EXPECT_EQ(inputs.size(), 18u);
}

}  // namespace
}  // namespace yagura::hub

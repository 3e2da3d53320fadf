// Technique ids (attack/technique_id.hpp): one spelling from tags and typed text, parents and
// domains by number.
#include "attack/technique_id.hpp"

#include <gtest/gtest.h>

namespace yagura::attack {
namespace {

TEST(TechniqueIds, NormalisesTechniqueIdsAndTags) {
  EXPECT_EQ(NormalizeTechniqueId("t1110.001"), "T1110.001");
  EXPECT_EQ(NormalizeTechniqueId("T0800"), "T0800");
  EXPECT_FALSE(NormalizeTechniqueId("T111"));
  EXPECT_FALSE(NormalizeTechniqueId("T1110.01"));
  EXPECT_FALSE(NormalizeTechniqueId("TA0006"));
  EXPECT_FALSE(NormalizeTechniqueId("T1110.001x"));
  EXPECT_FALSE(NormalizeTechniqueId(""));
  EXPECT_EQ(TechniqueOfTag("attack.t1110.001"), "T1110.001");
  EXPECT_EQ(TechniqueOfTag("ATTACK.T1059"), "T1059");
  EXPECT_FALSE(TechniqueOfTag("attack.credential_access"));
  EXPECT_FALSE(TechniqueOfTag("attack.credential-access"));
  EXPECT_FALSE(TechniqueOfTag("attack.g0007"));
  EXPECT_FALSE(TechniqueOfTag("attack.s0002"));
  EXPECT_FALSE(TechniqueOfTag("attack.t1059.1"));
  EXPECT_FALSE(TechniqueOfTag("attack."));
  EXPECT_FALSE(TechniqueOfTag("cve.2021-44228"));
  EXPECT_FALSE(TechniqueOfTag("xattack.t1059"));
}

TEST(TechniqueIds, TheTechniquesOfARulesTagsEachOnceInTagOrder) {
  EXPECT_EQ(TechniquesOfTags({"attack.execution", "attack.t1059.001", "attack.T1059.001",
                              "attack.t1003", "attack.s0002"}),
            (std::vector<std::string>{"T1059.001", "T1003"}));
  EXPECT_TRUE(TechniquesOfTags({}).empty());
}

TEST(TechniqueIds, ParentsAndDomains) {
  EXPECT_EQ(ParentTechnique("T1059.001"), "T1059");
  EXPECT_EQ(ParentTechnique("T1059"), "T1059");
  EXPECT_EQ(DomainOfTechnique("T1059.001"), "enterprise-attack");
  EXPECT_EQ(DomainOfTechnique("T0855"), "ics-attack");
}

}  // namespace
}  // namespace yagura::attack

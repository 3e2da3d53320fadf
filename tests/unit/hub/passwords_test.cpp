// argon2id hashing through libsodium: round trips, cost changes and the strength rule.
#include "hub/passwords.hpp"

#include <gtest/gtest.h>

namespace yagura::hub {
namespace {

class PasswordsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    saved_ = CurrentPasswordCost();
    SetPasswordCost(PasswordCost::Minimal());
  }
  void TearDown() override { SetPasswordCost(saved_); }
  PasswordCost saved_;
};

TEST_F(PasswordsTest, HashesAreArgon2idAndVerify) {
  auto hash = HashPassword("correct horse battery");
  ASSERT_TRUE(hash) << hash.error().message;
  EXPECT_TRUE(hash->starts_with("$argon2id$")) << *hash;
  EXPECT_TRUE(VerifyPassword(*hash, "correct horse battery"));
  EXPECT_FALSE(VerifyPassword(*hash, "correct horse batterY"));
  EXPECT_FALSE(VerifyPassword(*hash, ""));
}

TEST_F(PasswordsTest, SamePasswordGetsDifferentSalts) {
  auto a = HashPassword("the same password");
  auto b = HashPassword("the same password");
  ASSERT_TRUE(a && b);
  EXPECT_NE(*a, *b);
  EXPECT_TRUE(VerifyPassword(*a, "the same password"));
  EXPECT_TRUE(VerifyPassword(*b, "the same password"));
}

TEST_F(PasswordsTest, PasswordsWithNulBytesAreHashedWhole) {
  std::string with_nul("abcdefghijkl\0tail", 17);
  auto hash = HashPassword(with_nul);
  ASSERT_TRUE(hash);
  EXPECT_TRUE(VerifyPassword(*hash, with_nul));
  EXPECT_FALSE(VerifyPassword(*hash, "abcdefghijkl"));
}

TEST_F(PasswordsTest, MalformedHashesNeverVerify) {
  EXPECT_FALSE(VerifyPassword("", "anything at all"));
  EXPECT_FALSE(VerifyPassword("not a hash", "not a hash"));
  EXPECT_FALSE(VerifyPassword(std::string(1000, 'x'), "x"));
  EXPECT_TRUE(PasswordNeedsRehash(""));
  EXPECT_TRUE(PasswordNeedsRehash("$2y$10$bcrypt..."));
}

TEST_F(PasswordsTest, CostChangeAsksForRehash) {
  auto minimal = HashPassword("rehash me please");
  ASSERT_TRUE(minimal);
  EXPECT_FALSE(PasswordNeedsRehash(*minimal));
  // A slightly higher cost (still quick) stands in for a raised production cost.
  PasswordCost higher = PasswordCost::Minimal();
  higher.opslimit += 1;
  SetPasswordCost(higher);
  EXPECT_TRUE(PasswordNeedsRehash(*minimal));
  EXPECT_TRUE(VerifyPassword(*minimal, "rehash me please"));  // the old hash still verifies
  auto upgraded = HashPassword("rehash me please");
  ASSERT_TRUE(upgraded);
  EXPECT_FALSE(PasswordNeedsRehash(*upgraded));
}

TEST_F(PasswordsTest, InteractiveIsTheDefaultCost) {
  EXPECT_EQ(saved_, PasswordCost::Interactive());
  EXPECT_NE(PasswordCost::Interactive(), PasswordCost::Minimal());
}

TEST_F(PasswordsTest, StrengthNeedsTwelveCharactersNotBytes) {
  EXPECT_FALSE(CheckPasswordStrength("short"));
  EXPECT_FALSE(CheckPasswordStrength("elevenchars"));
  EXPECT_TRUE(CheckPasswordStrength("twelve chars"));
  // Six Japanese characters are 18 bytes but only six characters.
  EXPECT_FALSE(CheckPasswordStrength("\u3042\u3044\u3046\u3048\u304a\u304b"));
  EXPECT_TRUE(CheckPasswordStrength(std::string(MAX_PASSWORD_BYTES, 'a')));
  EXPECT_FALSE(CheckPasswordStrength(std::string(MAX_PASSWORD_BYTES + 1, 'a')));
}

TEST_F(PasswordsTest, DummyVerificationRunsWithoutAnAccount) {
  DummyPasswordVerification("whatever was typed");
  SetPasswordCost(PasswordCost::Interactive());
  SetPasswordCost(PasswordCost::Minimal());
  DummyPasswordVerification("after a cost change");  // rebuilds its hash for the new cost
  SUCCEED();
}

}  // namespace
}  // namespace yagura::hub

#include "core/stable_id.hpp"

#include <gtest/gtest.h>

#include <regex>

namespace yagura {
namespace {

TEST(StableIdTest, IsAPureFunctionOfItsParts) {
  EXPECT_EQ(StableId({"rule", "42", "abc"}), StableId({"rule", "42", "abc"}));
  EXPECT_NE(StableId({"rule", "42", "abc"}), StableId({"rule", "43", "abc"}));
}

TEST(StableIdTest, PartBoundariesMatter) {
  EXPECT_NE(StableId({"ab", "c"}), StableId({"a", "bc"}));
  EXPECT_NE(StableId({"abc"}), StableId({"abc", ""}));
}

TEST(StableIdTest, LooksLikeAVersion8Uuid) {
  std::string id = StableId({"x"});
  EXPECT_TRUE(std::regex_match(id, std::regex("[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")))
      << id;
}

TEST(StableIdTest, OrderedIdsSortByPositionAndStayPure) {
  EXPECT_EQ(OrderedStableId(7, {"rule", "a"}), OrderedStableId(7, {"rule", "a"}));
  EXPECT_NE(OrderedStableId(7, {"rule", "a"}), OrderedStableId(7, {"rule", "b"}));
  EXPECT_LT(OrderedStableId(255, {"z"}), OrderedStableId(256, {"a"}));
  EXPECT_LT(OrderedStableId(1u << 20, {"z"}), OrderedStableId((1u << 20) + 1, {"a"}));
  EXPECT_TRUE(OrderedStableId(0x0102030405ull, {"x"}).starts_with("00010203-0405-8"));
}

}  // namespace
}  // namespace yagura

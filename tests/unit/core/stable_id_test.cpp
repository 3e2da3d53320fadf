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

TEST(StableIdTest, TheFunctionNeverChanges) {
  // Stored alerts carry these ids: a replay after an upgrade must make the same ones.
  EXPECT_EQ(StableId({"rule", "42", "abc"}), "8d0fd144-14fd-831f-aef1-0c6297e71367");
  EXPECT_EQ(StableId({}), "d8984701-d306-8a99-bf49-8d4624c30160");
  EXPECT_EQ(OrderedStableId(0x0102030405ull, {"repeats", "rule", "org", "host", "7", "a", ""}),
            "00010203-0405-82da-9a3b-200c1848dbdc");
  // Parts longer than the stack buffer take the other path to the same function.
  const std::string long_part(2000, 'x');
  EXPECT_EQ(StableId({long_part, "y"}), "c47bd219-7da6-83d1-b4f4-66f493d9a600");
}

TEST(StableIdTest, BytesAreTheIdBeforeItIsText) {
  StableIdBytes bytes = OrderedStableIdBytes(9, {"repeats", "rule", "x"});
  EXPECT_EQ(bytes.ToString(), OrderedStableId(9, {"repeats", "rule", "x"}));
  EXPECT_EQ(bytes, OrderedStableIdBytes(9, {"repeats", "rule", "x"}));
  EXPECT_FALSE(bytes == OrderedStableIdBytes(9, {"repeats", "rule", "y"}));
  EXPECT_NE(bytes.HashBits(), OrderedStableIdBytes(9, {"repeats", "rule", "y"}).HashBits());
}

}  // namespace
}  // namespace yagura

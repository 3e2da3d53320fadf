#include "core/time.hpp"

#include <gtest/gtest.h>

namespace yagura {
namespace {

TEST(Time, FormatsWithMillisecondsInUtc) {
  EXPECT_EQ(FormatTimestampMs(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatTimestampMs(1795932000123), "2026-11-29T06:00:00.123Z");
  EXPECT_EQ(FormatTimestampMs(951782400000), "2000-02-29T00:00:00.000Z");
  EXPECT_EQ(FormatTimestampMs(-1), "1969-12-31T23:59:59.999Z");
}

TEST(Time, ParseAndFormatAreInverse) {
  for (int64_t ms : {int64_t{0}, int64_t{1}, int64_t{951868799999}, int64_t{1795932000123},
                     int64_t{4102444800000}, int64_t{-86400000}}) {
    auto parsed = ParseIsoDateTimeMs(FormatTimestampMs(ms));
    ASSERT_TRUE(parsed.has_value()) << ms;
    EXPECT_EQ(*parsed, ms);
  }
  EXPECT_EQ(ParseIsoDateTimeMs("2026-11-26T15:00:00+09:00"),
            ParseIsoDateTimeMs("2026-11-26T06:00:00Z"));
  EXPECT_FALSE(ParseIsoDateTimeMs("2026-02-30").has_value());
  EXPECT_FALSE(ParseIsoDateTimeMs("yesterday").has_value());
}

}  // namespace
}  // namespace yagura

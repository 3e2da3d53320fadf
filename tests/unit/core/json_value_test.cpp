#include "core/json_value.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

namespace yagura {
namespace {

TEST(JsonValue, ParsesAndSerialisesRoundTrip) {
  auto value = JsonValue::Parse(R"( {"a":[1,-2,3.5,true,false,null],"b":{"c":"d\u00e9\n"}} )");
  ASSERT_TRUE(value.has_value()) << value.error().ToString();
  EXPECT_EQ(value->Serialize(), "{\"a\":[1,-2,3.5,true,false,null],\"b\":{\"c\":\"dé\\n\"}}");
  EXPECT_EQ(value->Find("a")->as_array()[1].as_int(), -2);
  EXPECT_TRUE(value->Find("a")->as_array()[0].is_integer());
  EXPECT_FALSE(value->Find("a")->as_array()[2].is_integer());
  EXPECT_EQ(value->Find("missing"), nullptr);
}

TEST(JsonValue, KeepsMemberOrderAndReplacesOnSet) {
  JsonValue object = JsonValue::MakeObject();
  object.Set("z", 1);
  object.Set("a", "x");
  object.Set("z", 2);
  EXPECT_EQ(object.Serialize(), R"({"z":2,"a":"x"})");
}

TEST(JsonValue, DecodesSurrogatePairs) {
  auto value = JsonValue::Parse(R"("\ud83d\ude00")");
  ASSERT_TRUE(value.has_value());
  EXPECT_EQ(value->as_string(), "\xF0\x9F\x98\x80");
}

TEST(JsonValue, DistinguishesIntegersFromFractions) {
  EXPECT_TRUE(JsonValue::Parse("10")->is_integer());
  EXPECT_FALSE(JsonValue::Parse("10.0")->is_integer());
  EXPECT_FALSE(JsonValue::Parse("1e2")->is_integer());
  EXPECT_FALSE(JsonValue::Parse("99999999999999999999")->is_integer());
  EXPECT_EQ(JsonValue::Parse("-9223372036854775808")->as_int(), INT64_MIN);
}

TEST(JsonValue, FractionsStayFractionsWhenSerialisedAndReadBack) {
  // An integer field refuses 1.0 and 2e2; the same body serialised and read again must be
  // refused the same way, so such numbers are written with their fraction.
  auto value = JsonValue::Parse(R"([1.0, -0.0, 2e2, 1.5, 3, -0, 1e300, 12345678901234567890])");
  ASSERT_TRUE(value.has_value()) << value.error().ToString();
  const std::string printed = value->Serialize();
  EXPECT_EQ(printed, "[1.0,-0.0,200.0,1.5,3,0,1e+300,12345678901234567168.0]");
  auto again = JsonValue::Parse(printed);
  ASSERT_TRUE(again.has_value());
  for (size_t i = 0; i < value->as_array().size(); ++i) {
    EXPECT_EQ(again->as_array()[i].is_integer(), value->as_array()[i].is_integer()) << i;
  }
  EXPECT_EQ(again->Serialize(), printed);
}

TEST(JsonValue, NumbersTooSmallForADoubleAreZeroTooLargeAreRefused) {
  for (const char* tiny : {"1e-400", "481E-888887", "0.000001e-330", "-123e-5000"}) {
    auto value = JsonValue::Parse(tiny);
    ASSERT_TRUE(value.has_value()) << tiny << ": " << value.error().ToString();
    EXPECT_EQ(value->as_double(), 0.0) << tiny;
    EXPECT_FALSE(value->is_integer()) << tiny;
  }
  EXPECT_TRUE(std::signbit(JsonValue::Parse("-1e-400")->as_double()));
  EXPECT_EQ(JsonValue::Parse("4.9e-324")->as_double(), 4.9e-324);  // the least subnormal
  for (const char* huge : {"1e400", "-1e309", "1000000000000000000000e300"}) {
    auto value = JsonValue::Parse(huge);
    ASSERT_FALSE(value.has_value()) << huge;
    EXPECT_NE(value.error().ToString().find("number out of range"), std::string::npos);
  }
}

TEST(JsonValue, RejectsMalformedInputWithPosition) {
  struct Case {
    const char* text;
    const char* message;
  };
  const Case cases[] = {
      {"", "unexpected end of input"},
      {"{", "expected a string key"},
      {"{\"a\" 1}", "expected ':'"},
      {"[1,]", "unexpected character ']'"},
      {"[1 2]", "expected ',' or ']'"},
      {"{\"a\":1,\"a\":2}", "duplicate key"},
      {"01", "unexpected text after"},
      {"1.", "expected digits after '.'"},
      {"\"\\x\"", "invalid escape"},
      {"\"\\ud800\"", "unpaired surrogate"},
      {"\"a\x01\"", "control character"},
      {"\"\xC0\xAF\"", "invalid UTF-8"},
      {"\"\xED\xA0\x80\"", "invalid UTF-8"},
      {"tru", "unknown literal"},
      {"NaN", "unexpected character 'N'"},
      {"1e999", "number out of range"},
      {"{} {}", "unexpected text after"},
  };
  for (const auto& c : cases) {
    auto value = JsonValue::Parse(c.text);
    ASSERT_FALSE(value.has_value()) << c.text;
    EXPECT_NE(value.error().message.find(c.message), std::string::npos)
        << c.text << " -> " << value.error().message;
    EXPECT_NE(value.error().message.find("at byte"), std::string::npos);
  }
}

TEST(JsonValue, LimitsNesting) {
  std::string deep(100000, '[');
  auto value = JsonValue::Parse(deep);
  ASSERT_FALSE(value.has_value());
  EXPECT_NE(value.error().message.find("nesting too deep"), std::string::npos);
  std::string ok = std::string(10, '[') + std::string(10, ']');
  EXPECT_TRUE(JsonValue::Parse(ok).has_value());
}

TEST(JsonValue, WrongTypeAccessThrows) {
  JsonValue value("text");
  EXPECT_THROW((void)value.as_int(), std::logic_error);
  EXPECT_THROW((void)value.as_object(), std::logic_error);
}

}  // namespace
}  // namespace yagura

namespace yagura {
namespace {

TEST(JsonValue, ManyKeysParseAndDuplicatesAreStillFound) {
  // 200,000 members: a quadratic duplicate check would take minutes here.
  std::string text = "{";
  for (int i = 0; i < 200000; ++i) {
    if (i > 0) text += ',';
    text += "\"k" + std::to_string(i) + "\":1";
  }
  auto parsed = JsonValue::Parse(text + "}");
  ASSERT_TRUE(parsed.has_value()) << parsed.error().message;
  EXPECT_EQ(parsed->as_object().size(), 200000u);
  auto duplicate = JsonValue::Parse(text + ",\"k123456\":2}");
  ASSERT_FALSE(duplicate.has_value());
  EXPECT_NE(duplicate.error().message.find("duplicate key \"k123456\""), std::string::npos);
  auto early = JsonValue::Parse("{\"a\":1,\"b\":2,\"a\":3}");
  ASSERT_FALSE(early.has_value());
}

}  // namespace
}  // namespace yagura

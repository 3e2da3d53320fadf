#include "core/json_writer.hpp"

#include <gtest/gtest.h>

namespace yagura {
namespace {

std::string Quote(std::string_view s) {
  std::string out;
  AppendJsonString(out, s);
  return out;
}

TEST(JsonWriter, EscapesWhatRfc8259Requires) {
  EXPECT_EQ(Quote("plain"), "\"plain\"");
  EXPECT_EQ(Quote("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(Quote("line\nnext\ttab"), "\"line\\nnext\\ttab\"");
  EXPECT_EQ(Quote(std::string_view("\x01", 1)), "\"\\u0001\"");
}

TEST(JsonWriter, KeepsValidUtf8AndReplacesInvalidBytes) {
  EXPECT_EQ(Quote("櫓"), "\"櫓\"");
  EXPECT_EQ(Quote("a\xFF" "b"), "\"a\xEF\xBF\xBD" "b\"");
  EXPECT_EQ(Quote("\xE6\xAB"), "\"\xEF\xBF\xBD\xEF\xBF\xBD\"");  // truncated sequence
  EXPECT_EQ(Quote("\xED\xA0\x80"), "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"");  // surrogate
}

TEST(JsonWriter, NestsObjectsAndArraysWithCommas) {
  std::string out;
  JsonWriter w(out);
  w.BeginObject().Key("a").Int(1).Key("b").BeginArray().String("x").Bool(true).Null().EndArray();
  w.Key("c").BeginObject().EndObject().Key("d").Raw("{\"e\":2}").EndObject();
  EXPECT_EQ(out, R"({"a":1,"b":["x",true,null],"c":{},"d":{"e":2}})");
}

}  // namespace
}  // namespace yagura

#include "core/json_writer.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

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

// Texts of every length up to and past the plain-run finder's blocks, plain or with one byte to
// escape or to replace at any place, come out as escaping byte by byte gives them, as values and
// as keys.
TEST(JsonWriter, ShortAndLongTextsAreEscapedAlike) {
  auto reference = [](std::string_view text) {
    std::string out = "\"";
    for (size_t i = 0; i < text.size(); ++i) {
      const auto c = static_cast<unsigned char>(text[i]);
      if (c == '"') out += "\\\"";
      else if (c == '\\') out += "\\\\";
      else if (c == '\n') out += "\\n";
      else if (c == 0x01) out += "\\u0001";
      else if (c == 0xC3 && i + 1 < text.size()) { out += text.substr(i, 2); ++i; }  // é
      else if (c >= 0x80) out += "\xEF\xBF\xBD";
      else out.push_back(static_cast<char>(c));
    }
    return out + "\"";
  };
  const std::string specials[] = {"\"", "\\", "\n", "\x01", "\xC3\xA9", "\xFF"};
  for (size_t length = 0; length <= 70; ++length) {
    const std::string plain(length, 'k');
    std::vector<std::string> texts = {plain};
    for (size_t at = 0; at < length; ++at)
      for (const std::string& special : specials)
        texts.push_back(plain.substr(0, at) + special + plain.substr(at + 1));
    for (const std::string& text : texts) {
      ASSERT_EQ(Quote(text), reference(text)) << length;
      std::string out;
      JsonWriter w(out);
      w.BeginObject().Key(text).Int(1).EndObject();
      ASSERT_EQ(out, "{" + reference(text) + ":1}") << length;
    }
  }
}

TEST(JsonWriter, WrittenKeysAreWrittenAsKeys) {
  std::string keys, written;
  JsonWriter k(keys), w(written);
  k.BeginObject().Key("time").Null().Key("source").BeginObject().Key("file").String("a");
  k.EndObject().Key("matched").BeginArray().EndArray().EndObject();
  w.BeginObject().WrittenKey("\"time\":").Null().WrittenKey("\"source\":").BeginObject();
  w.WrittenKey("\"file\":").String("a").EndObject().WrittenKey("\"matched\":").BeginArray();
  w.EndArray().EndObject();
  EXPECT_EQ(written, keys);
  EXPECT_EQ(written, R"({"time":null,"source":{"file":"a"},"matched":[]})");
}

TEST(JsonWriter, NestsObjectsAndArraysWithCommas) {
  std::string out;
  JsonWriter w(out);
  w.BeginObject().Key("a").Int(1).Key("b").BeginArray().String("x").Bool(true).Null().EndArray();
  w.Key("c").BeginObject().EndObject().Key("d").Raw("{\"e\":2}").EndObject();
  EXPECT_EQ(out, R"({"a":1,"b":["x",true,null],"c":{},"d":{"e":2}})");
}

TEST(JsonWriter, TimesAreRfc3339OrNull) {
  std::string out;
  JsonWriter w(out);
  w.BeginObject()
      .Key("first")
      .TimeOrNull(int64_t{1'764'145'800'123})
      .Key("last")
      .TimeOrNull(std::nullopt);
  w.EndObject();
  EXPECT_EQ(out, R"({"first":"2025-11-26T08:30:00.123Z","last":null})");
}

}  // namespace
}  // namespace yagura

namespace yagura {
namespace {

// The plain-run finder classifies 32 bytes at a time, then a last block overlapping the ones
// before, or 8-byte words in shorter texts: every kind of special byte, at every offset of each,
// ends the run exactly where a byte-wise scan does.
TEST(JsonWriter, PlainRunsEndAtTheFirstByteThatNeedsEscaping) {
  auto reference = [](std::string_view text, size_t from) {
    for (; from < text.size(); ++from) {
      const auto c = static_cast<unsigned char>(text[from]);
      if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\') break;
    }
    return from;
  };
  const char specials[] = {'"', '\\', '\n', '\x01', '\x1f', '\x7f', '\x80', '\xe3', '\xff'};
  for (size_t length : {0, 1, 7, 8, 9, 15, 16, 17, 24, 31, 32, 33, 40, 63, 64, 70}) {
    std::string text(length, 'a');
    EXPECT_EQ(JsonPlainRunEnd(text, 0), length);
    for (size_t at = 0; at < length; ++at) {
      for (char special : specials) {
        std::string with = text;
        with[at] = special;
        for (size_t from : {size_t{0}, at / 2, at}) {
          ASSERT_EQ(JsonPlainRunEnd(with, from), reference(with, from))
              << "length " << length << ", special at " << at << ", from " << from;
        }
      }
    }
  }
  // DEL is no control character for JSON: it stays in the run.
  EXPECT_EQ(JsonPlainRunEnd("a\x7f" "b", 0), 3u);
}

}  // namespace
}  // namespace yagura

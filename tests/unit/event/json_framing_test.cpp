// The 64-byte block scanner of JsonFramer (its AVX2 and, where the processor has it, its
// AVX-512BW form) and its line records against its byte-by-byte scanner: the same frames,
// errors and line numbers on well-formed and broken streams, fed in chunks of every size.
#include "event/json_framing.hpp"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <random>
#include <string>
#include <vector>

namespace yagura::event {
namespace {

struct Seen {
  JsonFramer::Kind kind;
  size_t begin, end;
  uint64_t line;
  std::string message;
  bool operator==(const Seen&) const = default;
};

// Feeds `text` to a framer `chunk` bytes at a time, as RecordReader does (without dropping
// consumed bytes, which does not change the framer's decisions). With `line_records`, a
// consumer has each line record that is not exactly one JSON object framed again (as the
// scanner does); `taken` counts the line records kept.
std::vector<Seen> Frames(const std::string& text, size_t chunk, bool blocks, bool wide = false,
                         bool line_records = false, size_t* taken = nullptr) {
  JsonFramer framer;
  framer.set_block_scanning(blocks);
  framer.set_wide_blocks(wide);
  framer.set_line_records(line_records);
  simdjson::dom::parser parser;
  std::vector<Seen> seen;
  size_t available = std::min(chunk, text.size());
  for (int guard = 0; guard < 1000000; ++guard) {
    bool eof = available == text.size();
    JsonFramer::Frame frame = framer.Next(text.data(), available, eof);
    if (frame.kind == JsonFramer::Kind::kNeedMore) {
      if (eof) break;
      available = std::min(available + chunk, text.size());
      continue;
    }
    if (frame.whole_line) {
      EXPECT_TRUE(line_records);
      EXPECT_EQ(frame.kind, JsonFramer::Kind::kRecord);
      const simdjson::padded_string record(text.data() + frame.begin, frame.end - frame.begin);
      simdjson::dom::element element;
      if (parser.parse(record).get(element) != simdjson::SUCCESS || !element.is_object()) {
        framer.Reframe();
        continue;
      }
      if (taken != nullptr) ++*taken;
    }
    seen.push_back({frame.kind, frame.begin, frame.end, frame.line, std::string(frame.message)});
  }
  return seen;
}

// With line records and the framer's widest blocks.
std::vector<Seen> LineFrames(const std::string& text, size_t chunk, size_t* taken = nullptr) {
  return Frames(text, chunk, true, JsonFramer::HasWideBlocks(), true, taken);
}

class StreamMaker {
 public:
  explicit StreamMaker(uint64_t seed) : rng_(seed) {}
  size_t Pick(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng_); }

  std::string String() {
    static const char* PIECES[] = {"C:\\\\Windows\\\\System32", "\\\"quoted\\\"", "\\\\", "abc",
                                   "\\u00e9", "\\n", " ", "{", "}", "[", "]", ",", ":",
                                   "日本語", "powershell -enc", "\\\\\\\\server\\\\share"};
    std::string s = "\"";
    for (size_t n = Pick(6); n > 0; --n) s += PIECES[Pick(std::size(PIECES))];
    if (Pick(60) == 0) s += "\n";   // a raw newline: a broken string
    if (Pick(80) == 0) s += "\\";   // escapes the closing quote
    return s + "\"";
  }
  std::string Value(int depth, bool pretty) {
    switch (depth > 3 ? Pick(3) : Pick(6)) {
      case 0: return String();
      case 1: return std::to_string(Pick(100000));
      case 2: return Pick(2) ? "true" : "null";
      case 3: {
        std::string s = "[";
        for (size_t n = Pick(4); n > 0; --n) s += Value(depth + 1, pretty) + (n > 1 ? "," : "");
        return s + "]";
      }
      default: return Object(depth + 1, pretty);
    }
  }
  std::string Object(int depth, bool pretty) {
    std::string s = "{";
    for (size_t n = Pick(7); n > 0; --n) {
      if (pretty) s += "\n" + std::string(depth * 2, ' ');
      s += String() + ": " + Value(depth, pretty);
      if (n > 1) s += ",";
      if (Pick(150) == 0) s += "\\";   // a backslash outside any string
    }
    if (pretty) s += "\n";
    return s + "}";
  }
  std::string Stream() {
    std::string s;
    bool array = Pick(8) == 0;
    if (array) s += "[";
    for (size_t n = 1 + Pick(12); n > 0; --n) {
      bool pretty = Pick(4) == 0;
      std::string record = Object(0, pretty);
      if (Pick(15) == 0) record.resize(Pick(record.size()));  // truncated line
      if (Pick(20) == 0) s += "not json at all\n";
      s += record;
      s += array ? (n > 1 ? ",\n" : "]\n") : "\n";
    }
    return s;
  }

 private:
  std::mt19937_64 rng_;
};

TEST(JsonFramerBlocks, AgreeWithTheByteScanner) {
  StreamMaker maker(42);
  for (int i = 0; i < 3000; ++i) {
    std::string text = maker.Stream();
    for (size_t chunk : {size_t{1} << 30, size_t{7}, size_t{64}, size_t{100}, size_t{333}}) {
      auto expected = Frames(text, chunk, false);
      ASSERT_EQ(Frames(text, chunk, true), expected)
          << "stream " << i << ", chunk " << chunk << ":\n" << text;
      if (JsonFramer::HasWideBlocks()) {
        ASSERT_EQ(Frames(text, chunk, true, true), expected)
            << "AVX-512, stream " << i << ", chunk " << chunk << ":\n" << text;
      }
    }
  }
}

TEST(JsonFramerBlocks, LongRecordsWithEscapesAcrossBlocks) {
  // Backslash runs and escaped quotes placed across every 64-byte boundary.
  for (size_t shift = 0; shift < 70; ++shift) {
    std::string text = "{\"k\": \"" + std::string(shift, 'a') +
                       "\\\\\\\\\\\"x\\\\\", \"p\": \"C:\\\\a\\\\b\", \"n\": {\"m\": []}}\n";
    text += text;
    auto expected = Frames(text, 1 << 30, false);
    ASSERT_EQ(expected.size(), 2u) << text;
    EXPECT_EQ(Frames(text, 1 << 30, true), expected) << text;
    if (JsonFramer::HasWideBlocks()) {
      EXPECT_EQ(Frames(text, 1 << 30, true, true), expected) << text;
    }
  }
}

TEST(JsonFramerBlocks, BackslashRunsOfEveryLengthAcrossBlocks) {
  // A run of 1 to 70 backslashes, then a quote (escaped after an odd run, closing the string
  // after an even one), starting at every place of a 64-byte block and so ending in the same
  // block, the next one or the one after; records of nested objects around them, so that the
  // depth is also counted across blocks. Each stream must frame as the byte scanner frames it.
  for (size_t run = 1; run <= 70; ++run) {
    for (size_t shift = 0; shift < 64; ++shift) {
      const std::string value = std::string(shift, 'a') + std::string(run, '\\') + "\"";
      std::string record = "{\"a\": {\"b\": {\"k\": \"" + value;
      if (run % 2 == 1) record += " still a string\"";  // the quote was escaped
      record += ", \"n\": [{}, {\"m\": [1, 2]}]}}, \"z\": \"C:\\\\x\"}\n";
      const std::string text = record + record + "{\"last\": 1}\n";
      auto expected = Frames(text, 1 << 30, false);
      ASSERT_EQ(expected.size(), 3u) << text;
      for (const auto& frame : expected) ASSERT_EQ(frame.kind, JsonFramer::Kind::kRecord) << text;
      ASSERT_EQ(Frames(text, 1 << 30, true), expected) << text;
      ASSERT_EQ(Frames(text, 100, true), expected) << text;
      if (JsonFramer::HasWideBlocks()) {
        ASSERT_EQ(Frames(text, 1 << 30, true, true), expected) << text;
      }
    }
  }
}

TEST(JsonFramerLines, LineRecordsFrameAsTheByteScannerDoes) {
  StreamMaker maker(7);
  size_t taken = 0;
  for (int i = 0; i < 3000; ++i) {
    const std::string text = maker.Stream();
    for (size_t chunk : {size_t{1} << 30, size_t{7}, size_t{100}, size_t{333}}) {
      ASSERT_EQ(LineFrames(text, chunk, &taken), Frames(text, chunk, false))
          << "stream " << i << ", chunk " << chunk << ":\n" << text;
    }
  }
  EXPECT_GT(taken, 10000u);  // most lines of the JSON-lines streams were taken whole
}

TEST(JsonFramerLines, LinesThatAreNotOneValue) {
  for (const std::string& text : std::vector<std::string>{
           "{\"a\": 1}\r\n{\"b\": [1, {\"c\": \"}\"}]}  \t\n",  // CRLF, trailing blanks
           "{\"a\": 1} {\"b\": 2}\n{\"c\": 3}\n",                // two values on a line
           "{\"a\": {\"x\": 1}\n}\n{\"b\": 2}\n",                // a value over two lines
           "{\"a\": {\"x\": 1}\n{\"b\": 2}\n",                   // a truncated line
           "{\"a\": \"x}\n{\"b\": 2}\n",                           // an unterminated string
           "{\"a\": 1}}\n{\"b\": 2}\n",                            // one brace too many
           "{\"a\": [}\n{\"b\": 2}\n",                             // mismatched brackets
           "{}\n{\"a\": tru}\n{\"b\": 2}",                          // no newline at the end
           "\xEF\xBB\xBF{\"a\": 1}\n",                              // a byte order mark
           "[{\"a\": 1},\n{\"b\": 2}]\n{\"c\": 3}\n",             // a top-level array
           " {\"a\": 1}\n{\"b\": 2}\n",                            // a blank before the value
       }) {
    for (size_t chunk : {size_t{1} << 30, size_t{1}, size_t{5}, size_t{12}}) {
      EXPECT_EQ(LineFrames(text, chunk), Frames(text, chunk, false)) << chunk << ": " << text;
    }
  }
}

}  // namespace
}  // namespace yagura::event

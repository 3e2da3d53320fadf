// The JSON walk against simdjson: every record is parsed by one parser that walks JSON and by
// one that parses it with simdjson only, and the two events (or errors) must be the same. The
// walk must also take what it covers (a walk that declined everything would agree too).
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "event/parser.hpp"
#include "input_test_util.hpp"

namespace yagura::event {
namespace {

namespace fs = std::filesystem;
using testing::ParserFixture;
using testing::ReadWholeFile;
using testing::SharedDir;

const std::vector<std::string> NAMES = {
    "a",     "a.b",   "a.b.c",       "arr",         "arr.x",       "s",
    "n",     "t",     "z",           "k",           "Image",       "CommandLine",
    "EventID", "Provider_Name", "Channel", "Computer", "TimeCreated_SystemTime",
    "ParentImage", "Hashes", "User", "ThreatName", "Data", "Param1", "UtcTime",
    "TargetObject", "Details", "obj", "obj.inner", "Event.Other", "list.name", "timestamp"};

// One event as text: each field's values with their types, in the order the fields were
// first given a value, then the every-value list and the time.
std::string Describe(ParserFixture& p) {
  std::string out;
  for (FieldId id : p.event().Fields()) {
    out += p.catalog().Name(id);
    out += '=';
    for (const FieldValue& value : p.event().Values(id)) {
      out += '[' + std::to_string(static_cast<int>(value.type)) + ']';
      out.append(value.text);
      out += '|';
    }
    out += '\n';
  }
  out += "all:";
  for (const FieldValue& value : p.event().AllValues()) {
    out += '[' + std::to_string(static_cast<int>(value.type)) + ']';
    out.append(value.text);
    out += '|';
  }
  out += "\ntime:";
  out.append(p.event().time);
  return out;
}

// Two parsers over the same names: one walks, one does not.
class WalkPair {
 public:
  explicit WalkPair(bool all_values = false)
      : walking_(NAMES, all_values), parsing_(NAMES, all_values) {
    parsing_.parser().SetJsonWalk(false);
  }

  // Parses `json` both ways and expects the same outcome. Returns whether the walk took it.
  bool Agree(const std::string& json) {
    const uint64_t declined = walking_.parser().json_walk_declined();
    auto walked = walking_.Parse(json);
    auto parsed = parsing_.Parse(json);
    EXPECT_EQ(walked.has_value(), parsed.has_value()) << json;
    if (walked.has_value() && parsed.has_value()) {
      EXPECT_EQ(Describe(walking_), Describe(parsing_)) << json;
    } else if (!walked.has_value() && !parsed.has_value()) {
      EXPECT_EQ(walked.error().ToString(), parsed.error().ToString()) << json;
    }
    return walking_.parser().json_walk_declined() == declined;
  }

 private:
  ParserFixture walking_;
  ParserFixture parsing_;
};

TEST(JsonWalk, TakesWellFormedRecordsAndAgrees) {
  for (bool all_values : {false, true}) {
    WalkPair pair(all_values);
    for (const std::string& json : std::vector<std::string>{
             R"({})",
             R"( { "a" : { "b" : { "c" : "deep" , "d" : 1 } } } )",
             R"({"a": {"b": {"c": "x"}}, "obj": {"inner": [1, {"q": null}], "x": true}})",
             R"({"arr": [1, "two", true, false, null, [3.5, -0, 0.25], {"x": "y"}, [], {}]})",
             R"({"s": "C:\\Windows\\System32\\\"q\"\/\b\f\n\r\t", "n": -12.5, "t": true})",
             R"({"s": "\u00e9 is declined"})",
             "{\"s\": \"caf\xC3\xA9 \xE6\x97\xA5\xE6\x9C\xAC \xF0\x9F\x98\x80\"}",
             R"({"list": [{"name": "one"}, {"name": "two", "other": [1, 2]}], "k": ""})",
             R"({"Event": {"#attributes": {"xmlns": "x"}, "System": {"Provider": {"#attributes":
                 {"Name": "Microsoft-Windows-Sysmon", "Guid": "{5770}"}}, "EventID": 1,
                 "TimeCreated": {"#attributes": {"SystemTime": "2026-03-01T08:00:00Z"}},
                 "Execution": {"#attributes": {"ProcessID": 3208}},
                 "Channel": "Microsoft-Windows-Sysmon/Operational",
                 "Computer": "WS-1", "Security": null, "EventRecordID": {"#text": 7}},
                 "EventData": {"Image": "C:\\a.exe", "Threat Name": "Evil", "#text": "skip",
                 "Data": [{"#text": "one"}, {"#text": "two"}], "CommandLine": {"#text": "x /c y",
                 "#attributes": {"Name": "CommandLine"}}, "UtcTime": "2026-03-01 08:00:00.000"},
                 "UserData": {"LogFileCleared": {"xmlns": "u", "Param1": {"#text": "v",
                 "#attributes": {"xmlns:auto-ns2": "a", "Kind": "k"}, "Nested": {"User": "me"}},
                 "User": "SYSTEM", "#c": 1}, "Flat": "f"}, "Other": {"x": 1},
                 "RenderingInfo": {"Message": "m"}}})",
             R"({"Event": "not an object", "timestamp": "2026-01-01T00:00:00Z"})",
             R"({"a": {"b": [{"c": "x"}, {"c": "y"}]}, "a.b.c": "z"})",
         }) {
      pair.Agree(json);
    }
  }
}

TEST(JsonWalk, TakesTheRecordsItCovers) {
  WalkPair pair;
  EXPECT_TRUE(pair.Agree(R"({"a": {"b": {"c": "deep"}}, "n": [1, -2.5, 0, true, null]})"));
  EXPECT_TRUE(pair.Agree(R"({"s": "C:\\Windows\\\"q\"", "k": "\/\b\f\n\r\t"})"));
  EXPECT_TRUE(pair.Agree("{\"s\": \"\xE6\x97\xA5\xE6\x9C\xAC \xF0\x9F\x98\x80 \xC3\xA9\"}"));
  EXPECT_TRUE(
      pair.Agree(R"({"Event": {"System": {"EventID": 4688}, "EventData": {"Image": "x"}}})"));
}

// Escapes, backslash runs and multi-byte characters at every place around the 32- and 64-byte
// blocks the walk reads strings in, and strings of every length around them.
TEST(JsonWalk, StringsAroundTheirBlocks) {
  WalkPair pair(true);
  const std::vector<std::string> pieces = {"\\\\", "\\\"", "\\\\\\\\", "\\\\\\\"", "\\n",
                                           "\xC3\xA9", "\xE6\x97\xA5", "\xF0\x9F\x98\x80", "x"};
  for (const std::string& piece : pieces) {
    for (size_t before = 0; before < 140; ++before) {
      for (size_t after : {size_t{0}, size_t{1}, size_t{31}, size_t{64}}) {
        const std::string text = std::string(before, 'a') + piece + std::string(after, 'b');
        EXPECT_TRUE(pair.Agree("{\"s\": \"" + text + "\", \"Image\": \"" + text + "\"}"))
            << text;
      }
    }
  }
}

// Numbers of every length on either side of the point, around the 8-byte words the walk reads
// digits in, followed by every kind of byte that may or may not end them, at the end of the
// record too (the walk takes what simdjson takes, up to 18 digits a side, and declines longer).
TEST(JsonWalk, NumbersAroundTheirWords) {
  WalkPair pair(true);
  const std::string digits = "1234567890123456789012";
  for (size_t whole = 1; whole <= 20; ++whole) {
    for (size_t fraction :
         {size_t{0}, size_t{1}, size_t{7}, size_t{8}, size_t{9}, size_t{17}, size_t{19}}) {
      std::string number = digits.substr(0, whole);
      if (fraction > 0) number += "." + digits.substr(3, fraction);
      const bool taken = whole <= 18 && fraction <= 18;
      for (const std::string& sign : {std::string(), std::string("-")}) {
        for (const std::string& after : {std::string(","), std::string(" ,"),
                                         std::string("\n,"), std::string("x,"), std::string("e5,"),
                                         std::string(":,"), std::string("/,")}) {
          const std::string json = "{\"n\": " + sign + number + after + " \"EventID\": " +
                                   sign + number + "}";
          const bool walked = pair.Agree(json);
          if (after == "," || after == " ,") {
            EXPECT_EQ(walked, taken) << json;
          }
        }
        EXPECT_EQ(pair.Agree("{\"EventID\": " + sign + number + "}"), taken) << number;
      }
    }
  }
}

TEST(JsonWalk, DeclinesWhatItDoesNotCoverAndSimdjsonDecides) {
  WalkPair pair;
  const std::string deep = std::string(100, '[') + std::string(100, ']');
  for (const std::string& json : std::vector<std::string>{
           R"({"s": "\u00e9"})",          // \u escapes
           R"({"s": "\ud83d\ude00"})",
           R"({"s": "\ud83d"})",          // a lone surrogate: simdjson's error
           R"({"a\"b": 1})",              // an escaped key
           R"({"n": 1e5})",               // exponents
           R"({"n": 1.5E-3})",
           R"({"n": 1234567890123456789012})",  // long numbers
           R"({"n": 0.12345678901234567890})",
           R"({"arr": )" + deep + "}",  // deep nesting
           // Malformed: simdjson's errors stand.
           R"({"s": "a)",
           R"({"s": "a" "t": 1})",
           R"({"s": 1,})",
           R"({"s" 1})",
           R"({"n": 01})",
           R"({"n": -})",
           R"({"n": 1.})",
           R"({"t": tru})",
           R"({"t": nulll})",
           R"({"t": truex})",
           R"({"a": [1, 2,]})",
           R"({"a": [1 2]})",
           R"({"s": "x\qy"})",
           "{\"s\": \"tab\there\"}",
           "{\"s\": \"\xC3\"}",
           "{\"s\": \"\xE0\x80\x80\"}",
           "{\"s\": \"\xED\xA0\x80\"}",
           "{\"s\": \"\xF4\x90\x80\x80\"}",
           "{\"s\": \"\xFF\"}",
           R"({"a": 1} x)",
           R"({"a": 1}})",
           R"([1, 2])",
           R"("text")",
           R"({"unread": {"x": [1, 2, {"y": tru}]}})",
           R"({"unread": "\u0041"})",
       }) {
    EXPECT_FALSE(pair.Agree(json)) << json;
  }
}

// A line taken as a record without framing it is one JSON value only if the walk says so: one
// the walk declines fails, so that its reader frames the line again (simdjson, which leaves
// skipped values unchecked, does not decide what a line is).
TEST(JsonWalk, WholeLinesTheWalkDeclinesFail) {
  ParserFixture p(NAMES);
  const std::string json = R"({"s": "\u00e9", "Image": "x"})";
  std::string padded = json + std::string(RECORD_PADDING, '\0');
  Record record;
  record.data = std::string_view(padded.data(), json.size());
  record.number = 1;
  record.line = 1;
  Event event;
  EXPECT_TRUE(p.parser().Parse(record, event).has_value());
  record.whole_line = true;
  EXPECT_FALSE(p.parser().Parse(record, event).has_value());
  const std::string walked = R"({"s": "e", "Image": "x"})";
  padded = walked + std::string(RECORD_PADDING, '\0');
  record.data = std::string_view(padded.data(), walked.size());
  EXPECT_TRUE(p.parser().Parse(record, event).has_value());
}

// Records from the regression cases (evtx_dump JSON of real detections): the walk takes them.
TEST(JsonWalk, RegressionRecordsAreWalked) {
  const fs::path dir = SharedDir() / "data/sigma/regression/jsonl";
  if (!fs::exists(dir)) GTEST_SKIP() << "no regression cases under " << dir;
  WalkPair pair;
  WalkPair all_values(true);
  size_t records = 0;
  size_t walked = 0;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file() || entry.path().extension() != ".jsonl") continue;
    const std::string text = ReadWholeFile(entry.path());
    size_t start = 0;
    while (start < text.size()) {
      size_t end = text.find('\n', start);
      if (end == std::string::npos) end = text.size();
      const std::string line = text.substr(start, end - start);
      start = end + 1;
      if (line.find('{') == std::string::npos) continue;
      ++records;
      if (pair.Agree(line)) ++walked;
      all_values.Agree(line);
    }
  }
  ASSERT_GT(records, 100u);
  // \u escapes and exponents are rare: nearly every record is walked.
  EXPECT_GT(walked, records * 95 / 100) << walked << " of " << records;
}

// Random documents, then random damage to them: both ways agree on every one.
TEST(JsonWalk, RandomAndDamagedDocumentsAgree) {
  std::mt19937 random(20261128);
  auto pick = [&](size_t n) { return static_cast<size_t>(random() % n); };
  const std::vector<std::string> keys = {"a", "b", "c", "arr", "s", "n", "Event", "System",
                                         "EventData", "UserData", "#text", "#attributes",
                                         "Image", "x y", "obj", "inner", "Data", "list", "name"};
  const std::vector<std::string> scalars = {
      "1", "-2.5", "0", "true", "false", "null", "\"\"", "\"C:\\\\Windows\\\\x.exe\"",
      "\"q\\\"uote\"", "\"\\u0041\"", "1e3", "\"caf\xC3\xA9\"", "\"tab\\t\"",
      "12345678901234567890"};
  std::function<std::string(int)> value = [&](int depth) -> std::string {
    const size_t kind = depth > 4 ? 2 : pick(4);
    if (kind == 0) {
      std::string out = "{";
      const size_t members = pick(5);
      for (size_t i = 0; i < members; ++i) {
        if (i > 0) out += pick(2) ? ", " : ",";
        out += '"' + keys[pick(keys.size())] + "\":" + (pick(2) ? " " : "") + value(depth + 1);
      }
      return out + "}";
    }
    if (kind == 1) {
      std::string out = "[";
      const size_t elements = pick(4);
      for (size_t i = 0; i < elements; ++i) {
        if (i > 0) out += ", ";
        out += value(depth + 1);
      }
      return out + "]";
    }
    return scalars[pick(scalars.size())];
  };
  const std::string damage = "{}[]\",:\\ \n\x01\xC3x0e-.";
  for (bool all_values : {false, true}) {
    WalkPair pair(all_values);
    size_t walked = 0;
    for (int round = 0; round < 3000; ++round) {
      std::string doc = "{";
      const size_t members = 1 + pick(6);
      for (size_t i = 0; i < members; ++i) {
        if (i > 0) doc += ", ";
        doc += '"' + keys[pick(keys.size())] + "\": " + value(0);
      }
      doc += "}";
      if (pair.Agree(doc)) ++walked;
      for (int hurt = 0; hurt < 3; ++hurt) {
        std::string damaged = doc;
        const size_t at = pick(damaged.size());
        switch (pick(3)) {
          case 0: damaged[at] = damage[pick(damage.size())]; break;
          case 1: damaged.erase(at, 1); break;
          default: damaged.insert(at, 1, damage[pick(damage.size())]); break;
        }
        pair.Agree(damaged);
      }
    }
    EXPECT_GT(walked, 300u);
  }
}

}  // namespace
}  // namespace yagura::event

// A JSON file read in segments, in any order, gives the records, numbers, lines and framing
// errors of reading it from its start: JSON lines, and everything that makes a segment's start
// not a clean line start (pretty-printed values, top-level arrays, broken records) at every
// offset relative to the segment boundaries.
#include "event/json_segments.hpp"

#include <gtest/gtest.h>
#include <simdjson.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "core/diagnostics.hpp"

namespace yagura::event {
namespace {

namespace fs = std::filesystem;

struct Seen {
  std::string what;  // the record's text, or "error: message"
  uint64_t number = 0;
  uint64_t line = 0;
  bool operator==(const Seen&) const = default;
};

std::ostream& operator<<(std::ostream& out, const Seen& seen) {
  return out << seen.line << "/" << seen.number << " " << seen.what.substr(0, 60);
}

class JsonSegmentsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("yagura-json-segments-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Write(const std::string& name, const std::string& text) {
    std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }

  // What the reader gives reading the file from its start.
  static std::vector<Seen> Sequential(const std::string& path) {
    std::vector<Seen> seen;
    Diagnostics diagnostics([&](const Diagnostic& d) {
      if (d.kind != DiagnosticKind::kRecordSkipped) return;
      uint64_t line = std::stoull(d.where.substr(d.where.rfind(':') + 1));
      seen.push_back({"error: " + d.message, 0, line});
    });
    RecordReader reader(InputFormat::kJson, diagnostics);
    reader.ReadFile(InputFile{path}, 0, [&](const Record& record) {
      seen.push_back({std::string(record.data), record.number, record.line});
    });
    return seen;
  }

  // What reading every segment on its own gives once put together as a scan does: segments
  // covered by a read before them are dropped, numbers and lines are offset by what came
  // before. `order` is the order the segments are read in (as workers might); with
  // `skip_covered` the first segment's read says how far it ran on, and reads of segments it
  // covers are skipped, as the scan does (such a segment must then never be needed).
  // `line_records`: with JSON line records, each framed again unless it is one object.
  static std::vector<Seen> Segmented(const std::string& path, uint64_t segment_size,
                                     const std::vector<uint64_t>& order, bool skip_covered,
                                     bool line_records = false) {
    const uint64_t size = fs::file_size(path);
    const uint64_t count = JsonSegmentReader::SegmentCount(size, segment_size);
    struct Result {
      bool skipped = false;
      std::vector<Seen> seen;
      JsonSegment segment;
    };
    std::vector<Result> results(count);
    std::atomic<uint64_t> covered{0};
    JsonSegmentReader reader(segment_size);
    reader.set_line_records(line_records);
    simdjson::dom::parser validator;
    EXPECT_TRUE(reader.Open(path, size));
    auto read = [&](uint64_t k, std::atomic<uint64_t>* shared) {
      Result& result = results[k];
      result.seen.clear();
      auto segment = reader.Read(
          k, [&](const Record& record) {
            if (record.whole_line) {
              const simdjson::padded_string text(record.data);
              simdjson::dom::element element;
              if (validator.parse(text).get(element) != simdjson::SUCCESS ||
                  !element.is_object()) {
                reader.RejectLineRecord();
                return;
              }
            }
            result.seen.push_back({std::string(record.data), record.number, record.line});
          },
          [&](uint64_t line, std::string_view message) {
            result.seen.push_back({"error: " + std::string(message), 0, line});
          },
          shared);
      EXPECT_TRUE(segment) << segment.error().message;
      if (segment) result.segment = *segment;
    };
    for (uint64_t k : order) {
      if (skip_covered && k < covered.load()) {
        results[k].skipped = true;
        continue;
      }
      read(k, skip_covered && k == 0 ? &covered : nullptr);
    }
    std::vector<Seen> seen;
    uint64_t needed = 0, values = 0, lines = 0;
    for (uint64_t k = 0; k < count; ++k) {
      if (k < needed) continue;
      EXPECT_FALSE(results[k].skipped) << "segment " << k << " was skipped but is needed";
      const Result& result = results[k];
      EXPECT_EQ(result.segment.first, k);
      for (Seen s : result.seen) {
        if (s.number != 0) s.number += values;
        s.line += lines;
        seen.push_back(s);
      }
      values += result.segment.values;
      lines += result.segment.newlines;
      needed = result.segment.end;
    }
    return seen;
  }

  void ExpectSegmentedAsSequential(const std::string& path) {
    const std::vector<Seen> sequential = Sequential(path);
    const uint64_t size = fs::file_size(path);
    for (uint64_t segment_size : {uint64_t{97}, uint64_t{256}, uint64_t{1000}, uint64_t{4096}}) {
      const uint64_t count = JsonSegmentReader::SegmentCount(size, segment_size);
      std::vector<uint64_t> forward(count);
      for (uint64_t k = 0; k < count; ++k) forward[k] = k;
      std::vector<uint64_t> backward(forward.rbegin(), forward.rend());
      std::vector<uint64_t> shuffled = forward;
      std::shuffle(shuffled.begin(), shuffled.end(), std::mt19937(static_cast<unsigned>(count)));
      for (const auto& order : {forward, backward, shuffled}) {
        for (bool skip : {false, true}) {
          for (bool lines : {false, true}) {
            std::vector<Seen> segmented = Segmented(path, segment_size, order, skip, lines);
            ASSERT_EQ(segmented.size(), sequential.size())
                << "segments of " << segment_size << ", skip " << skip << ", lines " << lines;
            for (size_t i = 0; i < sequential.size(); ++i) {
              ASSERT_EQ(segmented[i], sequential[i]) << "segments of " << segment_size
                                                     << ", skip " << skip << ", lines " << lines
                                                     << ", item " << i;
            }
          }
        }
      }
    }
  }

  fs::path dir_;
};

TEST_F(JsonSegmentsTest, JsonLinesOfEveryLength) {
  std::string text;
  for (int i = 0; i < 400; ++i) {
    text += R"({"EventID":)" + std::to_string(i) + R"(,"CommandLine":")" +
            std::string(static_cast<size_t>((i * 37) % 700), 'a') + R"( \"{[\n"})";
    text += i % 7 == 0 ? "\r\n" : "\n";
    if (i % 50 == 0) text += "\n   \n";
  }
  ExpectSegmentedAsSequential(Write("lines.jsonl", text));
}

TEST_F(JsonSegmentsTest, PrettyPrintedArraysAndBrokenRecordsAcrossBoundaries) {
  std::string text;
  for (int i = 0; i < 120; ++i) {
    switch (i % 8) {
      case 0:  // pretty-printed: newlines inside the value
        text += "{\n  \"EventID\": " + std::to_string(i) + ",\n  \"Data\": {\n    \"x\": \"" +
                std::string(static_cast<size_t>(i * 3), 'p') + "\"\n  }\n}\n";
        break;
      case 1:  // a top-level array over several lines
        text += "[\n  {\"a\": " + std::to_string(i) + "},\n  {\"b\": \"" +
                std::string(static_cast<size_t>(i), 'q') + "\"}\n]\n";
        break;
      case 2:  // text that is no JSON value
        text += "not json at all " + std::to_string(i) + "\n";
        break;
      case 3:  // a record cut short, followed by the next at a line start
        text += "{\"cut\": \"" + std::string(static_cast<size_t>(i), 'c') + "\n";
        break;
      case 4:  // several values on one line, and an array on one line
        text += "{\"a\":1} {\"b\":2}\t[{\"c\":3},{\"d\":4}]\n";
        break;
      case 5:  // a string holding a raw newline (not JSON)
        text += "{\"s\": \"one\ntwo\"}\n";
        break;
      default:
        text += "{\"EventID\": " + std::to_string(i) + ", \"pad\": \"" +
                std::string(static_cast<size_t>(i * 5), 'z') + "\"}\n";
    }
  }
  text += "{\"last\": \"no newline at the end\"}";
  ExpectSegmentedAsSequential(Write("mixed.json", text));
}

TEST_F(JsonSegmentsTest, OnePrettyPrintedValueOverTheWholeFile) {
  std::string text = "{\n";
  for (int i = 0; i < 300; ++i) text += "  \"k" + std::to_string(i) + "\": \"value\",\n";
  text += "  \"end\": true\n}\n{\"after\": 1}\n";
  ExpectSegmentedAsSequential(Write("one.json", text));
}

TEST_F(JsonSegmentsTest, OnlyLargePlainJsonFilesAreSplit) {
  const uint64_t segment = 1000;
  std::string lines;
  while (lines.size() < 3 * segment) lines += "{\"EventID\": 4688, \"pad\": \"xxxxxxxxxxxxxxxx\"}\n";
  std::string json = Write("big.jsonl", lines);
  EXPECT_EQ(JsonSegmentReader::SplittableSize(InputFile{json}, InputFormat::kAuto, segment),
            lines.size());
  EXPECT_EQ(JsonSegmentReader::SplittableSize(InputFile{json}, InputFormat::kJson, segment),
            lines.size());
  EXPECT_FALSE(JsonSegmentReader::SplittableSize(InputFile{json}, InputFormat::kText, segment));
  EXPECT_FALSE(JsonSegmentReader::SplittableSize(InputFile{json}, InputFormat::kAuto,
                                                 lines.size()));  // one segment
  EXPECT_FALSE(JsonSegmentReader::SplittableSize(
      InputFile{Write("array.json", "[" + lines + "]")}, InputFormat::kAuto, segment));
  std::string syslog;
  while (syslog.size() < 3 * segment) syslog += "<38>Jan 12 10:00:00 host sshd[1]: hello\n";
  EXPECT_FALSE(JsonSegmentReader::SplittableSize(InputFile{Write("auth.log", syslog)},
                                                 InputFormat::kAuto, segment));
  // gzip: compressed bytes cannot be read from the middle.
  std::string gz = (dir_ / "big.jsonl.gz").string();
  gzFile file = gzopen(gz.c_str(), "wb");
  for (int i = 0; i < 20; ++i) gzwrite(file, lines.data(), static_cast<unsigned>(lines.size()));
  gzclose(file);
  ASSERT_GT(fs::file_size(gz), 2 * 100u);
  EXPECT_FALSE(JsonSegmentReader::SplittableSize(InputFile{gz}, InputFormat::kAuto, 100));
  EXPECT_FALSE(JsonSegmentReader::SplittableSize(InputFile{"-"}, InputFormat::kAuto, segment));
  EXPECT_FALSE(
      JsonSegmentReader::SplittableSize(InputFile{dir_.string()}, InputFormat::kAuto, segment));
}

TEST_F(JsonSegmentsTest, AFileThatShrankIsAnErrorAfterWhatCameBefore) {
  std::string lines;
  for (int i = 0; i < 100; ++i) lines += "{\"EventID\": " + std::to_string(i) + "}\n";
  std::string path = Write("shrinking.jsonl", lines);
  JsonSegmentReader reader(256);
  ASSERT_TRUE(reader.Open(path, lines.size() + 5000));  // as if it had been larger
  uint64_t records = 0;
  const uint64_t last = JsonSegmentReader::SegmentCount(lines.size() + 5000, 256) - 1;
  auto segment = reader.Read(
      last, [&](const Record&) { ++records; }, [](uint64_t, std::string_view) {});
  ASSERT_FALSE(segment);
  EXPECT_NE(segment.error().message.find("shrank"), std::string::npos) << segment.error().message;
  auto first = reader.Read(0, [&](const Record&) { ++records; }, [](uint64_t, std::string_view) {});
  ASSERT_TRUE(first);
  EXPECT_GT(records, 5u);
}

}  // namespace
}  // namespace yagura::event

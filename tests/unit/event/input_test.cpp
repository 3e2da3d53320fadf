#include "event/input.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <zlib.h>
#include <zstd.h>

#include <cstdio>
#include <random>
#include <regex>
#include <set>

#include "event/byte_source.hpp"
#include "input_test_util.hpp"
#include "test_support/deflate.hpp"

// libevtx 20181227 leaks its partly built XML tags when a corrupted record fails to render;
// that is the library's, not ours, so LeakSanitizer builds do not report it.
extern "C" const char* __lsan_default_suppressions() { return "leak:libevtx.so\n"; }

namespace yagura::event {
namespace {

namespace fs = std::filesystem;
using testing::ReadAll;
using testing::ReadWholeFile;
using testing::SharedDir;
using testing::TempDir;

std::vector<std::string> Data(const testing::ReadResult& result) {
  std::vector<std::string> out;
  for (const auto& record : result.records) out.push_back(record.data);
  return out;
}

std::string Gzip(std::string_view data) {
  return test_support::Deflate(data, test_support::GZIP_WINDOW);
}

using test_support::Zstd;

TEST(InputFormat, NamesRoundTrip) {
  for (InputFormat format :
       {InputFormat::kAuto, InputFormat::kJson, InputFormat::kEvtx, InputFormat::kXml,
        InputFormat::kSyslog, InputFormat::kWebAccess, InputFormat::kText}) {
    auto parsed = ParseInputFormat(InputFormatName(format));
    ASSERT_TRUE(parsed.has_value()) << InputFormatName(format);
    EXPECT_EQ(*parsed, format);
  }
  EXPECT_EQ(*ParseInputFormat("jsonl"), InputFormat::kJson);
  EXPECT_EQ(*ParseInputFormat("w3c"), InputFormat::kWebAccess);
  EXPECT_EQ(*ParseInputFormat("webaccess"), InputFormat::kWebAccess);
  auto bad = ParseInputFormat("xmlish");
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message.find("'xmlish'"), std::string::npos);
}

TEST(JsonInput, JsonLinesWithNumbersAndLines) {
  TempDir dir;
  auto path = dir.Write("a.jsonl", "{\"a\":1}\n{\"a\":2}\r\n\n{\"a\":3}");
  auto result = ReadAll(path);
  ASSERT_TRUE(result.ok);
  EXPECT_EQ(Data(result), (std::vector<std::string>{"{\"a\":1}", "{\"a\":2}", "{\"a\":3}"}));
  ASSERT_EQ(result.records.size(), 3u);
  EXPECT_EQ(result.records[2].number, 3u);
  EXPECT_EQ(result.records[2].line, 4u);
  EXPECT_EQ(result.records[0].format, RecordFormat::kJson);
  EXPECT_EQ(result.records[0].source_index, 7u);
  EXPECT_EQ(result.stats.records, 3u);
  EXPECT_EQ(result.stats.records_skipped, 0u);
  EXPECT_EQ(result.stats.files_read, 1u);
  EXPECT_EQ(result.stats.bytes, fs::file_size(path));
  EXPECT_TRUE(result.diagnostics.empty());
}

// A consumer that found what it wanted stops the file; the next file is read whole.
TEST(JsonInput, StopFileEndsTheFileNotTheReader) {
  TempDir dir;
  auto json = dir.Write("a.jsonl", "{\"a\":1}\n{\"a\":2}\n{\"a\":3}\n");
  auto lines = dir.Write("b.log", "one\ntwo\nthree\n");
  Diagnostics diagnostics;
  RecordReader reader(InputFormat::kAuto, diagnostics);
  std::vector<std::string> seen;
  for (const fs::path& path : {json, lines, json}) {
    reader.ReadFile({path.string(), 0}, 0, [&](const Record& record) {
      seen.emplace_back(record.data);
      if (record.number == 2) reader.StopFile();
    });
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"{\"a\":1}", "{\"a\":2}", "one", "two", "{\"a\":1}",
                                            "{\"a\":2}"}));
  EXPECT_EQ(reader.stats().records, 6u);
  EXPECT_EQ(reader.stats().files_read, 3u);
  EXPECT_TRUE(diagnostics.Kept().empty());

  // An EVTX file too, whether rendered by Yagura's reader or by libevtx.
  const fs::path evtx = SharedDir() /
                        "data/sigma/sigmahq/regression_data/rules/windows/file/file_event/"
                        "file_event_win_anydesk_artefact/0b9ad457-2554-44c1-82c2-d56a99c42377.evtx";
  if (!fs::exists(evtx)) GTEST_SKIP() << "SigmaHQ regression data not found at " << evtx;
  std::vector<uint64_t> numbers;
  for (int pass = 0; pass < 2; ++pass) {
    reader.ReadFile({evtx.string(), 0}, 0, [&](const Record& record) {
      numbers.push_back(record.number);
      if (record.number == 2) reader.StopFile();
    });
  }
  EXPECT_EQ(numbers, (std::vector<uint64_t>{1, 2, 1, 2}));  // of the file's 5
}

TEST(JsonInput, TopLevelArrayElementsAreRecords) {
  TempDir dir;
  auto path = dir.Write("a.json", "\xEF\xBB\xBF[\n  {\"a\": [1, {\"b\": \"]\"}]},\n  {\"a\": 2}\n]\n");
  auto result = ReadAll(path);
  EXPECT_EQ(Data(result),
            (std::vector<std::string>{"{\"a\": [1, {\"b\": \"]\"}]}", "{\"a\": 2}"}));
  ASSERT_EQ(result.records.size(), 2u);
  EXPECT_EQ(result.records[1].line, 3u);
  EXPECT_TRUE(result.diagnostics.empty());
}

TEST(JsonInput, ConcatenatedAndPrettyPrintedValues) {
  TempDir dir;
  std::string text =
      "{\n  \"s\": \"}{\\\"]\",\n  \"n\": {\"x\": [1, 2]}\n}\n"
      "{\"b\":1}{\"c\":2}\n"
      "  {\n    \"d\": 3\n  }\n";
  auto result = ReadAll(dir.Write("a.json", text));
  EXPECT_EQ(Data(result), (std::vector<std::string>{
                              "{\n  \"s\": \"}{\\\"]\",\n  \"n\": {\"x\": [1, 2]}\n}",
                              "{\"b\":1}", "{\"c\":2}", "{\n    \"d\": 3\n  }"}));
  ASSERT_EQ(result.records.size(), 4u);
  EXPECT_EQ(result.records[1].line, 5u);
  EXPECT_EQ(result.records[3].line, 6u);
}

TEST(JsonInput, SigmaHqRegressionFilesFrameOneRecordPerEvent) {
  fs::path dir = SharedDir() / "data/sigma/sigmahq/regression_data";
  YAGURA_REQUIRE_SHARED(dir);
  size_t files = 0;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (entry.path().extension() != ".json") continue;
    std::string text = ReadWholeFile(entry.path());
    // evtx_dump pretty-prints each event starting with "{" at the start of a line.
    size_t expected = 0;
    for (size_t i = 0; i < text.size(); ++i) {
      if (text[i] == '{' && (i == 0 || text[i - 1] == '\n')) ++expected;
    }
    auto result = ReadAll(entry.path().string());
    EXPECT_EQ(result.records.size(), expected) << entry.path();
    EXPECT_TRUE(result.diagnostics.empty()) << entry.path();
    ++files;
  }
  EXPECT_GT(files, 100u);
}

TEST(JsonInput, BrokenLinesAreReportedWithTheirLineAndReadingGoesOn) {
  TempDir dir;
  std::string text =
      "{\"a\":1}\n"
      "{\"a\": \"unterminated}\n"
      "{\"a\":3}\n"
      "not json at all\n"
      "{\"a\":5, \"open\": {\n"
      "{\"a\":6}\n"
      "]\n"
      "{\"a\":8}";
  auto path = dir.Write("bad.jsonl", text);
  auto result = ReadAll(path);
  ASSERT_TRUE(result.ok);
  EXPECT_EQ(Data(result),
            (std::vector<std::string>{"{\"a\":1}", "{\"a\":3}", "{\"a\":6}", "{\"a\":8}"}));
  ASSERT_EQ(result.diagnostics.size(), 4u);
  std::vector<std::string> where;
  for (const auto& d : result.diagnostics) {
    EXPECT_EQ(d.kind, DiagnosticKind::kRecordSkipped);
    where.push_back(d.where);
  }
  EXPECT_EQ(where, (std::vector<std::string>{path.string() + ":2", path.string() + ":4",
                                             path.string() + ":5", path.string() + ":7"}));
  EXPECT_EQ(result.stats.records, 4u);
  EXPECT_EQ(result.stats.records_skipped, 4u);
}

TEST(JsonInput, TruncatedLastValueIsReported) {
  TempDir dir;
  auto path = dir.Write("t.json", "{\"a\":1}\n{\"a\": {\"b\": [1, 2");
  auto result = ReadAll(path);
  EXPECT_EQ(result.records.size(), 1u);
  ASSERT_EQ(result.diagnostics.size(), 1u);
  EXPECT_EQ(result.diagnostics[0].where, path.string() + ":2");
}

TEST(JsonInput, ScalarArrayElementsAreSkipped) {
  TempDir dir;
  auto result = ReadAll(dir.Write("s.json", "[{\"a\":1}, 2, \"x\", {\"a\":3}]"));
  EXPECT_EQ(Data(result), (std::vector<std::string>{"{\"a\":1}", "{\"a\":3}"}));
  EXPECT_EQ(result.stats.records_skipped, 2u);
}

TEST(JsonInput, HugeLineIsSkippedAndTheNextLinesAreRead) {
  TempDir dir;
  fs::path path = dir.path() / "huge.jsonl";
  {
    std::ofstream out(path, std::ios::binary);
    out << "{\"a\":1}\n{\"big\":\"";
    std::string block(1 << 20, 'x');
    for (int i = 0; i < 100; ++i) out << block;  // a 100 MiB line
    out << "\"}\n{\"a\":3}\n";
  }
  auto result = ReadAll(path.string());
  EXPECT_EQ(Data(result), (std::vector<std::string>{"{\"a\":1}", "{\"a\":3}"}));
  ASSERT_EQ(result.diagnostics.size(), 1u);
  EXPECT_EQ(result.diagnostics[0].kind, DiagnosticKind::kRecordSkipped);
  EXPECT_EQ(result.diagnostics[0].where, path.string() + ":2");
  EXPECT_NE(result.diagnostics[0].message.find("larger than"), std::string::npos);
  EXPECT_EQ(result.stats.records_skipped, 1u);
  EXPECT_EQ(result.records[1].line, 3u);

  // The same line read as text.
  auto text = ReadAll(path.string(), InputFormat::kText);
  ASSERT_EQ(text.records.size(), 2u);
  EXPECT_EQ(text.records[1].number, 3u);
  ASSERT_EQ(text.diagnostics.size(), 1u);
  EXPECT_EQ(text.diagnostics[0].where, path.string() + ":2");
}

TEST(JsonInput, RecordLimitAppliesToPrettyPrintedValues) {
  TempDir dir;
  std::string big = "{\n";
  for (int i = 0; i < 1000; ++i) big += "  \"k" + std::to_string(i) + "\": \"value\",\n";
  big += "  \"end\": 1\n}\n";
  auto path = dir.Write("p.json", big + "{\"small\": 1}\n" + big);
  auto result = ReadAll(path.string(), InputFormat::kAuto, 4096);
  EXPECT_EQ(Data(result), (std::vector<std::string>{"{\"small\": 1}"}));
  EXPECT_EQ(result.stats.records_skipped, 2u);
  ASSERT_EQ(result.diagnostics.size(), 2u);
  EXPECT_EQ(result.diagnostics[0].where, path.string() + ":1");
}

// JSON line records, with a consumer that has each line framed again when it is not exactly
// one object, read every stream as framing it byte by byte does: the same records, numbers,
// lines, diagnostics and counts, on JSON lines, pretty-printed and concatenated values, broken
// lines, arrays and values over the record limit.
TEST(JsonInput, LineRecordsReadAsFramedRecords) {
  TempDir dir;
  const std::string long_line = "{\"big\": \"" + std::string(5000, 'x') + "\"}\n";
  const std::vector<std::string> texts = {
      "{\"a\":1}\n{\"a\": \"unterminated}\n{\"a\":3}\nnot json at all\n"
      "{\"a\":5, \"open\": {\n{\"a\":6}\n]\n{\"a\":8}",
      "{\"a\":1}\n{\"a\": {\"b\": [1, 2",
      "[{\"a\":1}, 2, \"x\", {\"a\":3}]\n{\"b\": 1}\n",
      "{\"a\": 1} {\"b\": 2}\n{\"c\":\n 3}\n{\"d\": {\"x\": 1}\n}\n{\"e\": \"\\u00e9\"}\r\n",
      "{\"a\": 1}}\n{\"b\": [}\n{\"c\": tru}\n{\"d\": 4}\n",
      long_line + "{\"small\": 1}\n" + long_line,
  };
  for (size_t i = 0; i < texts.size(); ++i) {
    const std::string path = dir.Write("lines" + std::to_string(i) + ".jsonl", texts[i]);
    for (size_t limit : {MAX_RECORD_SIZE, size_t{4096}}) {
      const auto framed = ReadAll(path, InputFormat::kAuto, limit);
      const auto lines = ReadAll(path, InputFormat::kAuto, limit, false, true);
      ASSERT_EQ(lines.records.size(), framed.records.size()) << texts[i];
      for (size_t r = 0; r < framed.records.size(); ++r) {
        EXPECT_EQ(lines.records[r].data, framed.records[r].data) << texts[i];
        EXPECT_EQ(lines.records[r].number, framed.records[r].number) << texts[i];
        EXPECT_EQ(lines.records[r].line, framed.records[r].line) << texts[i];
      }
      ASSERT_EQ(lines.diagnostics.size(), framed.diagnostics.size()) << texts[i];
      for (size_t d = 0; d < framed.diagnostics.size(); ++d) {
        EXPECT_EQ(lines.diagnostics[d].where, framed.diagnostics[d].where) << texts[i];
        EXPECT_EQ(lines.diagnostics[d].message, framed.diagnostics[d].message) << texts[i];
      }
      EXPECT_EQ(lines.stats.records, framed.stats.records) << texts[i];
      EXPECT_EQ(lines.stats.records_skipped, framed.stats.records_skipped) << texts[i];
    }
  }
}

// Shared buffers: records whose buffer a consumer keeps stay as they were read while the
// reader reads on through files several buffers long; buffers nobody keeps are reused in
// place. EVTX records have no shared buffer, and without sharing there is none at all.
TEST(SharedBuffers, KeptRecordsStayIntactWhileTheReaderReadsOn) {
  TempDir dir;
  std::string json, lines;
  for (int i = 0; i < 120000; ++i) {
    json += "{\"n\":" + std::to_string(i) + ",\"pad\":\"" + std::string(i % 173, 'j') + "\"}\n";
    lines += "line " + std::to_string(i) + " " + std::string(i % 151, 't') + "\n";
  }
  ASSERT_GT(json.size(), size_t{3} * (4 << 20));
  const fs::path json_path = dir.Write("a.jsonl", json);
  const fs::path text_path = dir.Write("b.txt", lines);

  Diagnostics diagnostics;
  RecordReader reader(InputFormat::kAuto, diagnostics);
  reader.set_share_buffers(true);
  struct Kept {
    std::string_view view;
    std::string copy;
  };
  std::vector<Kept> kept;
  std::vector<std::shared_ptr<char[]>> buffers;
  size_t records = 0;
  for (const fs::path& path : {json_path, text_path, json_path}) {
    ASSERT_TRUE(reader.ReadFile({path.string()}, 0, [&](const Record& record) {
      const std::shared_ptr<char[]>& buffer = reader.shared_buffer();
      ASSERT_TRUE(buffer != nullptr) << path;
      ASSERT_GE(record.data.data(), buffer.get());
      // Every third record's buffer is kept; the others' may be written over.
      if (records++ % 3 == 0) {
        if (buffers.empty() || buffers.back() != buffer) buffers.push_back(buffer);
        kept.push_back({record.data, std::string(record.data)});
      }
    }));
  }
  EXPECT_EQ(records, 360000u);
  EXPECT_GT(buffers.size(), 4u);
  for (const Kept& record : kept) ASSERT_EQ(record.view, record.copy);

  const fs::path evtx = SharedDir() / "data/logs/evtx";
  if (fs::exists(evtx)) {
    std::vector<InputFile> files = ExpandInputs({evtx.string()}, diagnostics);
    ASSERT_FALSE(files.empty());
    size_t evtx_records = 0;
    ASSERT_TRUE(reader.ReadFile(files.front(), 0, [&](const Record&) {
      ++evtx_records;
      EXPECT_TRUE(reader.shared_buffer() == nullptr);
    }));
    EXPECT_GT(evtx_records, 0u);
  }

  RecordReader unshared(InputFormat::kAuto, diagnostics);
  ASSERT_TRUE(unshared.ReadFile({json_path.string()}, 0, [&](const Record&) {
    EXPECT_TRUE(unshared.shared_buffer() == nullptr);
  }));
}

TEST(LineInput, SyslogFilesAreDetected) {
  for (const char* name : {"OpenSSH_2k.log", "Linux_2k.log"}) {
    fs::path path = SharedDir() / "data/logs/loghub" / name;
    YAGURA_REQUIRE_SHARED(path);
    auto result = ReadAll(path.string());
    ASSERT_EQ(result.records.size(), 2000u) << name;
    EXPECT_EQ(result.records[0].format, RecordFormat::kSyslog) << name;
    EXPECT_EQ(result.records[1999].number, 2000u);
    EXPECT_TRUE(result.diagnostics.empty());
  }
}

TEST(LineInput, WebAccessLogsAreDetected) {
  fs::path web = SharedDir() / "data/logs/web";
  YAGURA_REQUIRE_SHARED(web);
  for (const char* name : {"ocatak_w3af.txt", "sbousseaden_web_attack_and_isp_webshell_localhost_access_log.txt"}) {
    auto result = ReadAll((web / name).string());
    ASSERT_FALSE(result.records.empty()) << name;
    EXPECT_EQ(result.records[0].format, RecordFormat::kWebAccess) << name;
    EXPECT_TRUE(result.records[0].schema.empty());
  }
  auto iis = ReadAll((web / "sbousseaden_Tunna_rdp_tunnel_IIS.log").string());
  ASSERT_FALSE(iis.records.empty());
  EXPECT_EQ(iis.records[0].format, RecordFormat::kWebAccess);
  EXPECT_EQ(iis.records[0].line, 7u);  // directives and blank lines are not records
  EXPECT_EQ(iis.records[0].schema.substr(0, 14), "date time s-ip");
  for (const auto& record : iis.records) EXPECT_NE(record.data[0], '#');
}

TEST(LineInput, OtherTextIsOneRecordPerLine) {
  fs::path path = SharedDir() / "data/logs/loghub/Apache_2k.log";
  YAGURA_REQUIRE_SHARED(path);
  auto result = ReadAll(path.string());
  ASSERT_EQ(result.records.size(), 2000u);
  EXPECT_EQ(result.records[0].format, RecordFormat::kText);
  EXPECT_EQ(result.records[0].data.substr(0, 26), "[Sun Dec 04 04:47:44 2005]");
}

TEST(LineInput, ForcedFormatWins) {
  TempDir dir;
  auto path = dir.Write("x.log", "{\"a\":1}\n");
  auto result = ReadAll(path.string(), InputFormat::kSyslog);
  ASSERT_EQ(result.records.size(), 1u);
  EXPECT_EQ(result.records[0].format, RecordFormat::kSyslog);
}

TEST(LineInput, BinaryGarbageIsRefusedUnlessAFormatIsForced) {
  TempDir dir;
  std::string garbage;
  std::mt19937 random(42);
  for (int i = 0; i < (1 << 20); ++i) garbage.push_back(static_cast<char>(random() & 0xff));
  auto path = dir.Write("garbage.bin", garbage);
  auto detected = ReadAll(path.string());
  EXPECT_FALSE(detected.ok);
  EXPECT_TRUE(detected.records.empty());
  EXPECT_EQ(detected.stats.files_failed, 1u);
  ASSERT_EQ(detected.CountKind(DiagnosticKind::kInputUnreadable), 1u);
  EXPECT_EQ(detected.diagnostics[0].where, path.string());
  EXPECT_NE(detected.diagnostics[0].message.find("binary"), std::string::npos);

  // Forced text: lines as they are.
  auto text = ReadAll(path.string(), InputFormat::kText);
  EXPECT_TRUE(text.ok);
  EXPECT_EQ(text.records[0].format, RecordFormat::kText);
  size_t total = 0;
  for (const auto& record : text.records) total += record.data.size();
  EXPECT_GT(total, garbage.size() / 2);

  // Forced JSON: every line is reported, none crashes the framer.
  auto json = ReadAll(path.string(), InputFormat::kJson);
  EXPECT_TRUE(json.ok);
  EXPECT_GT(json.stats.records_skipped, 100u);
  EXPECT_EQ(json.CountKind(DiagnosticKind::kRecordSkipped), json.diagnostics.size());

  // Forced EVTX: not an EVTX file.
  auto evtx = ReadAll(path.string(), InputFormat::kEvtx);
  EXPECT_FALSE(evtx.ok);
  EXPECT_EQ(evtx.stats.files_failed, 1u);
  EXPECT_EQ(evtx.CountKind(DiagnosticKind::kInputUnreadable), 1u);

  // Compressed garbage is still garbage.
  EXPECT_FALSE(ReadAll(dir.Write("garbage.gz", Gzip(garbage)).string()).ok);
  // UTF-16 text without a byte order mark has NUL bytes: refused with a hint rather than read
  // as junk (with the mark it is decoded: Utf16Input below).
  std::string no_bom;
  for (char c : std::string("Jun 14 15:16:01 combo sshd[1]: text\n")) no_bom += std::string{c, '\0'};
  EXPECT_FALSE(ReadAll(dir.Write("u16b.log", no_bom).string()).ok);
}

// UTF-16 with a byte order mark, as Windows tools write text, read as UTF-8: both byte orders,
// pairs of surrogates, lone ones and an odd last byte replaced, compressed or not, read in pieces
// of any size; a damaged gzip stream still says so.
std::string Utf16(std::u16string_view text, bool big_endian) {
  std::string out = big_endian ? "\xFE\xFF" : "\xFF\xFE";
  for (char16_t unit : text) {
    const char high = static_cast<char>(unit >> 8), low = static_cast<char>(unit & 0xff);
    out += big_endian ? std::string{high, low} : std::string{low, high};
  }
  return out;
}

std::string ReadSource(const std::string& path, size_t piece, std::string* error = nullptr) {
  auto source = OpenByteSource(path);
  EXPECT_TRUE(source);
  std::string out(piece, '\0'), all;
  while (true) {
    auto got = (*source)->Read(out.data(), piece);
    if (!got) {
      if (error) *error = got.error().message;
      return all;
    }
    if (*got == 0) return all;
    all.append(out.data(), *got);
  }
}

TEST(Utf16Input, AByteOrderMarkDecodesToUtf8) {
  TempDir dir;
  const std::u16string text = u"4625 ログオン失敗 \U0001F512 user=太郎\n<Event/>\n";
  const std::string utf8 = "4625 ログオン失敗 \xF0\x9F\x94\x92 user=太郎\n<Event/>\n";
  for (bool big_endian : {false, true}) {
    const std::string bytes = Utf16(text, big_endian);
    const std::string plain = dir.Write("u16.log", bytes).string();
    const std::string gz = dir.Write("u16.log.gz", Gzip(bytes)).string();
    for (size_t piece : {1, 2, 3, 5, 4096}) {
      EXPECT_EQ(ReadSource(plain, piece), utf8) << big_endian << " " << piece;
      EXPECT_EQ(ReadSource(gz, piece), utf8) << big_endian << " " << piece;
    }
  }
  // A lone high surrogate before an ASCII unit, a lone low one, a high one at the end and an odd
  // last byte: each is U+FFFD, and nothing else is lost.
  std::string broken = Utf16(u"a", false);
  broken += std::string(
      "\x00\xD8"
      "b\x00"
      "\x00\xDC"
      "c\x00"
      "\x3D\xD8",
      10);
  EXPECT_EQ(ReadSource(dir.Write("broken.log", broken).string(), 7),
            "a\xEF\xBF\xBD"
            "b\xEF\xBF\xBD"
            "c\xEF\xBF\xBD");
  EXPECT_EQ(ReadSource(dir.Write("odd.log", Utf16(u"ab", false) + "x").string(), 3),
            "ab\xEF\xBF\xBD");
  // Lines of UTF-16 syslog are records like any others.
  auto records = ReadAll(
      dir.Write("auth.log", Utf16(u"Jun 14 15:16:01 combo sshd[1]: Failed password for root\r\n"
                                  u"Jun 14 15:16:02 combo sshd[1]: Failed password for 太郎\r\n",
                                  false))
          .string());
  ASSERT_TRUE(records.ok);
  ASSERT_EQ(records.records.size(), 2u);
  EXPECT_EQ(records.records[1].data, "Jun 14 15:16:02 combo sshd[1]: Failed password for 太郎");
  // A damaged gzip stream met while looking at its first bytes is still reported.
  std::string damaged = Gzip(std::string(1000, 'x'));
  damaged[12] ^= 0x55;
  std::string error;
  ReadSource(dir.Write("damaged.gz", damaged).string(), 100, &error);
  EXPECT_NE(error.find("gzip"), std::string::npos) << error;
}

// Which files a scan with several threads lets one worker read whole (as EVTX): plain EVTX
// files up to the limit, read as EVTX.
TEST(EvtxInput, WholeFilesAreOnlyPlainEvtxFilesUpToTheLimit) {
  TempDir dir;
  const std::string evtx_bytes = std::string("ElfFile\0", 8) + std::string(100, 'x');
  const std::string evtx = dir.Write("log.evtx", evtx_bytes).string();
  EXPECT_EQ(PlainEvtxFileSize(InputFile{evtx}, InputFormat::kAuto, 1000), evtx_bytes.size());
  EXPECT_EQ(PlainEvtxFileSize(InputFile{evtx}, InputFormat::kEvtx, evtx_bytes.size()),
            evtx_bytes.size());
  EXPECT_FALSE(PlainEvtxFileSize(InputFile{evtx}, InputFormat::kAuto, evtx_bytes.size() - 1));
  EXPECT_FALSE(PlainEvtxFileSize(InputFile{evtx}, InputFormat::kJson, 1000));
  EXPECT_FALSE(PlainEvtxFileSize(InputFile{evtx}, InputFormat::kText, 1000));
  EXPECT_FALSE(PlainEvtxFileSize(InputFile{dir.Write("log.gz", Gzip(evtx_bytes)).string()},
                                 InputFormat::kAuto, 1000));
  EXPECT_FALSE(PlainEvtxFileSize(InputFile{dir.Write("short.evtx", "ElfFil").string()},
                                 InputFormat::kAuto, 1000));
  EXPECT_FALSE(PlainEvtxFileSize(InputFile{dir.Write("e.jsonl", "{\"EventID\": 1}\n").string()},
                                 InputFormat::kAuto, 1000));
  EXPECT_FALSE(PlainEvtxFileSize(InputFile{"-"}, InputFormat::kAuto, 1000));
  EXPECT_FALSE(PlainEvtxFileSize(InputFile{dir.path().string()}, InputFormat::kAuto, 1000));
  EXPECT_FALSE(
      PlainEvtxFileSize(InputFile{(dir.path() / "missing.evtx").string()}, InputFormat::kAuto, 1000));
}

TEST(LineInput, InvalidUtf8InTextPassesThrough) {
  TempDir dir;
  auto utf8 = ReadAll(dir.Write("bad.txt", "caf\xC3\n\xFF\xFE\x80 line\nok\n").string());
  EXPECT_TRUE(utf8.ok);
  EXPECT_EQ(Data(utf8), (std::vector<std::string>{"caf\xC3", "\xFF\xFE\x80 line", "ok"}));
  EXPECT_TRUE(utf8.diagnostics.empty());
}

TEST(ByteSourceTest, BytesComeBackWholeAroundTheFirstBlock) {
  // The first read asks for a block (the page that tells EVTX from text); what follows must
  // come after it, whatever the file's size and the sizes of later reads.
  TempDir dir;
  std::mt19937 random(7);
  for (size_t size : {size_t{0}, size_t{3}, size_t{4}, size_t{4095}, size_t{4096}, size_t{4097},
                      size_t{10000}}) {
    std::string content(size, '\0');
    for (char& c : content) c = static_cast<char>('a' + random() % 26);
    const fs::path path = dir.Write("f" + std::to_string(size), content);
    for (size_t piece : {size_t{1}, size_t{7}, size_t{4096}, size_t{65536}}) {
      auto source = OpenByteSource(path.string());
      ASSERT_TRUE(source) << path;
      EXPECT_EQ((*source)->reopenable_path(), path.string());
      EXPECT_EQ((*source)->reopenable_size(), static_cast<int64_t>(size));
      std::string read;
      std::string buffer(piece, '\0');
      for (;;) {
        auto got = (*source)->Read(buffer.data(), piece);
        ASSERT_TRUE(got);
        if (*got == 0) break;
        read.append(buffer.data(), *got);
      }
      EXPECT_EQ(read, content) << size << " bytes read " << piece << " at a time";
      EXPECT_EQ((*source)->raw_bytes(), size);
    }
  }
  // A compressed file is not read by offset: no size, no path.
  auto gz = OpenByteSource(dir.Write("c.gz", Gzip("{\"a\":1}\n")).string());
  ASSERT_TRUE(gz);
  EXPECT_EQ((*gz)->reopenable_size(), -1);
  EXPECT_EQ((*gz)->reopenable_fd(), -1);
}

TEST(CompressedInput, GzipAndZstdGiveTheSameRecords) {
  TempDir dir;
  std::string text;
  for (int i = 0; i < 50000; ++i) text += "{\"n\":" + std::to_string(i) + ",\"s\":\"abcdefgh\"}\n";
  auto plain = ReadAll(dir.Write("plain.jsonl", text).string());
  ASSERT_EQ(plain.records.size(), 50000u);
  auto gz = ReadAll(dir.Write("data.log.gz", Gzip(text)).string());
  auto zst = ReadAll(dir.Write("data.bin", Zstd(text)).string());  // detected by magic, not name
  EXPECT_EQ(Data(gz), Data(plain));
  EXPECT_EQ(Data(zst), Data(plain));
  EXPECT_EQ(gz.stats.bytes, text.size());
  EXPECT_TRUE(gz.diagnostics.empty());
  EXPECT_TRUE(zst.diagnostics.empty());

  // Concatenated members and frames are one stream.
  std::string half1 = text.substr(0, text.size() / 2);
  std::string half2 = text.substr(text.size() / 2);
  EXPECT_EQ(Data(ReadAll(dir.Write("cat.gz", Gzip(half1) + Gzip(half2)).string())), Data(plain));
  EXPECT_EQ(Data(ReadAll(dir.Write("cat.zst", Zstd(half1) + Zstd(half2)).string())), Data(plain));
}

TEST(CompressedInput, TruncatedAndCorruptStreamsAreReported) {
  TempDir dir;
  std::string text;
  for (int i = 0; i < 20000; ++i) text += "line " + std::to_string(i) + " of some text\n";
  std::string gz = Gzip(text);
  auto truncated = ReadAll(dir.Write("t.gz", gz.substr(0, gz.size() / 2)).string());
  EXPECT_TRUE(truncated.ok);
  EXPECT_GT(truncated.records.size(), 100u);
  EXPECT_LT(truncated.records.size(), 20000u);
  ASSERT_EQ(truncated.CountKind(DiagnosticKind::kInputUnreadable), 1u);
  EXPECT_NE(truncated.diagnostics[0].message.find("truncated"), std::string::npos);

  std::string zst = Zstd(text);
  auto cut = ReadAll(dir.Write("t.zst", zst.substr(0, zst.size() / 2)).string());
  EXPECT_LT(cut.records.size(), 20000u);
  ASSERT_EQ(cut.CountKind(DiagnosticKind::kInputUnreadable), 1u);
  EXPECT_NE(cut.diagnostics[0].message.find("truncated"), std::string::npos);

  for (size_t i = zst.size() / 2; i < zst.size() / 2 + 64; ++i) zst[i] = static_cast<char>(~zst[i]);
  auto corrupt = ReadAll(dir.Write("c.zst", zst).string());
  EXPECT_TRUE(corrupt.ok);
  EXPECT_EQ(corrupt.CountKind(DiagnosticKind::kInputUnreadable), 1u);

  auto trailing = ReadAll(dir.Write("g.gz", gz + "garbage").string());
  EXPECT_EQ(trailing.records.size(), 20000u);
  EXPECT_EQ(trailing.CountKind(DiagnosticKind::kInputUnreadable), 1u);
}

TEST(ExpandInputs, WalksDirectoriesRecursivelyInSortedOrder) {
  TempDir dir;
  dir.Write("b/2.log", "x\n");
  dir.Write("b/1.log", "x\n");
  dir.Write("a/z/3.json", "{}\n");
  dir.Write("c.log", "x\n");
  fs::create_directories(dir.path() / "empty");
  Diagnostics diagnostics;
  std::string missing = (dir.path() / "missing.log").string();
  auto files = ExpandInputs({dir.path().string(), missing, "-"}, diagnostics);
  std::vector<std::string> names;
  for (const auto& file : files) names.push_back(file.path);
  std::string root = dir.path().string();
  EXPECT_EQ(names, (std::vector<std::string>{root + "/a/z/3.json", root + "/b/1.log",
                                             root + "/b/2.log", root + "/c.log", "-"}));
  ASSERT_EQ(diagnostics.Count(DiagnosticKind::kInputUnreadable), 1u);
  EXPECT_EQ(diagnostics.Kept()[0].where, missing);
  EXPECT_EQ(diagnostics.Kept()[0].message, "No such file or directory");
}

TEST(ExpandInputs, ListedFilesCarryTheirSizes) {
  // Progress reports measure against these sizes instead of looking every file up again.
  TempDir dir;
  dir.Write("d/one.log", "1234\n");
  dir.Write("d/two.json", std::string(1000, ' ') + "{}\n");
  const fs::path alone = dir.Write("alone.log", "");
  Diagnostics diagnostics;
  auto files = ExpandInputs({(dir.path() / "d").string(), alone.string(), "-"}, diagnostics);
  ASSERT_EQ(files.size(), 4u);
  EXPECT_EQ(files[0].size, 5u);
  EXPECT_EQ(files[1].size, 1003u);
  EXPECT_EQ(files[2].size, 0u);
  EXPECT_EQ(files[3].path, "-");
  EXPECT_EQ(files[3].size, 0u);
  EXPECT_EQ(diagnostics.Count(DiagnosticKind::kInputUnreadable), 0u);
}

TEST(UnreadableInput, DirectoriesAndMissingFilesAreReportedAndCounted) {
  TempDir dir;
  Diagnostics diagnostics;
  RecordReader reader(InputFormat::kAuto, diagnostics);
  size_t records = 0;
  auto count = [&](const Record&) { ++records; };
  EXPECT_FALSE(reader.ReadFile({dir.path().string()}, 0, count));
  EXPECT_FALSE(reader.ReadFile({(dir.path() / "nope.json").string()}, 1, count));
  EXPECT_TRUE(reader.ReadFile({dir.Write("ok.jsonl", "{\"a\":1}\n").string()}, 2, count));
  EXPECT_EQ(records, 1u);
  EXPECT_EQ(reader.stats().files_failed, 2u);
  EXPECT_EQ(reader.stats().files_read, 1u);
  auto kept = diagnostics.Kept();
  ASSERT_EQ(kept.size(), 2u);
  EXPECT_EQ(kept[0].kind, DiagnosticKind::kInputUnreadable);
  EXPECT_EQ(kept[0].where, dir.path().string());
  EXPECT_NE(kept[0].message.find("directory"), std::string::npos);
  EXPECT_EQ(kept[1].where, (dir.path() / "nope.json").string());
}

// --- EVTX ----------------------------------------------------------------------------------

fs::path EvtxSample() {
  return SharedDir() / "data/logs/evtx/Command and Control/DE_RDP_Tunneling_4624.evtx";
}

// The record count evtxinfo prints, or -1 when the tool is not installed.
long EvtxInfoCount(const fs::path& path) {
  std::string command = "evtxinfo '" + path.string() + "' 2>/dev/null";
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return -1;
  std::string output;
  char buffer[512];
  while (fgets(buffer, sizeof(buffer), pipe) != nullptr) output += buffer;
  ::pclose(pipe);
  std::smatch match;
  if (!std::regex_search(output, match, std::regex("Number of records\\s*:\\s*(\\d+)"))) return -1;
  return std::stol(match[1]);
}

TEST(EvtxInput, ReadsEveryRecordAsXml) {
  fs::path path = EvtxSample();
  YAGURA_REQUIRE_SHARED(path);
  auto result = ReadAll(path.string());
  ASSERT_TRUE(result.ok);
  ASSERT_EQ(result.records.size(), 18u);
  long tool = EvtxInfoCount(path);
  if (tool >= 0) {
    EXPECT_EQ(static_cast<long>(result.records.size()), tool);
  }
  const auto& first = result.records[0];
  EXPECT_EQ(first.format, RecordFormat::kEvtx);
  EXPECT_EQ(first.number, 1u);
  EXPECT_EQ(result.records[17].number, 18u);
  EXPECT_EQ(first.data.substr(0, 7), "<Event ");
  EXPECT_NE(first.data.find("<EventID>4624</EventID>"), std::string::npos);
  EXPECT_NE(first.data.find("<EventRecordID>5278</EventRecordID>"), std::string::npos);
  EXPECT_EQ(first.data.back(), '>');
  EXPECT_TRUE(result.diagnostics.empty());
  EXPECT_EQ(result.stats.records, 18u);
}

TEST(EvtxInput, EveryRecordCountMatchesTheEvtxTool) {
  fs::path dir = SharedDir() / "data/logs/evtx/Credential Access";
  YAGURA_REQUIRE_SHARED(dir);
  if (EvtxInfoCount(EvtxSample()) < 0) GTEST_SKIP() << "evtxinfo not installed";
  size_t checked = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != ".evtx" || checked >= 12) continue;
    // evtxinfo counts the regular records; recovered deleted ones come on top when asked for.
    auto regular = ReadAll(entry.path().string());
    EXPECT_EQ(static_cast<long>(regular.records.size() + regular.stats.records_skipped),
              EvtxInfoCount(entry.path()))
        << entry.path();
    auto all = ReadAll(entry.path().string(), InputFormat::kAuto, MAX_RECORD_SIZE, true);
    EXPECT_GE(all.records.size(), regular.records.size());
    for (size_t i = 0; i < regular.records.size(); ++i) {
      EXPECT_EQ(all.records[i].data, regular.records[i].data);
    }
    std::set<std::string> ids;
    for (const auto& record : all.records) {
      size_t at = record.data.find("<EventRecordID>");
      ASSERT_NE(at, std::string::npos);
      EXPECT_TRUE(ids.insert(record.data.substr(at, 40)).second) << "duplicate " << entry.path();
    }
    EXPECT_EQ(all.stats.records_skipped, regular.stats.records_skipped);
    ++checked;
  }
  EXPECT_GT(checked, 0u);
}

TEST(EvtxInput, CompressedEvtxIsSpooledAndRead) {
  fs::path path = EvtxSample();
  YAGURA_REQUIRE_SHARED(path);
  TempDir dir;
  std::string bytes = ReadWholeFile(path);
  auto plain = ReadAll(path.string());
  auto gz = ReadAll(dir.Write("log.evtx.gz", Gzip(bytes)).string());
  auto zst = ReadAll(dir.Write("log.evtx.zst", Zstd(bytes)).string());
  EXPECT_EQ(Data(gz), Data(plain));
  EXPECT_EQ(Data(zst), Data(plain));
  EXPECT_EQ(gz.diagnostics.size(), 0u);
}

TEST(EvtxInput, TruncatedFileDoesNotCrashAndLosesOnlyTheTail) {
  fs::path path = SharedDir() / "data/logs/evtx/Command and Control/bits_openvpn.evtx";
  YAGURA_REQUIRE_SHARED(path);
  TempDir dir;
  std::string bytes = ReadWholeFile(path);
  auto full = ReadAll(path.string());
  ASSERT_GT(full.records.size(), 1000u);
  auto half = ReadAll(dir.Write("half.evtx", bytes.substr(0, bytes.size() / 2 + 1000)).string());
  EXPECT_GT(half.records.size(), 0u);
  EXPECT_LT(half.records.size(), full.records.size());
  ASSERT_EQ(half.CountKind(DiagnosticKind::kRecordSkipped), 1u);
  EXPECT_EQ(half.stats.records_skipped, 1u);
  for (const auto& d : half.diagnostics) {
    if (d.kind == DiagnosticKind::kRecordSkipped) {
      EXPECT_NE(d.message.find("truncated"), std::string::npos);
      EXPECT_NE(d.where.find("half.evtx chunk "), std::string::npos);
    }
  }
  // What was read is what the intact file holds.
  for (size_t i = 0; i < half.records.size() && i < 50; ++i) {
    EXPECT_EQ(half.records[i].data, full.records[i].data);
  }
  // Only the header survives: no records, the loss is reported, and nothing crashes.
  auto header = ReadAll(dir.Write("header.evtx", bytes.substr(0, 4096 + 100)).string());
  EXPECT_TRUE(header.records.empty());
  EXPECT_GE(header.stats.records_skipped + header.stats.files_failed, 1u);
  // Shorter than a header.
  auto stub = ReadAll(dir.Write("stub.evtx", bytes.substr(0, 100)).string(), InputFormat::kEvtx);
  EXPECT_FALSE(stub.ok);
  EXPECT_EQ(stub.CountKind(DiagnosticKind::kInputUnreadable), 1u);
}

TEST(EvtxInput, CorruptedBytesAreSkippedWithDiagnostics) {
  fs::path path = SharedDir() / "data/logs/evtx/Command and Control/bits_openvpn.evtx";
  YAGURA_REQUIRE_SHARED(path);
  TempDir dir;
  std::string bytes = ReadWholeFile(path);
  auto full = ReadAll(path.string());
  std::mt19937 random(7);
  // Flip bytes inside every chunk's records (chunks are 64 KiB after the 4 KiB file header).
  for (size_t chunk = 4096; chunk + 65536 <= bytes.size(); chunk += 65536) {
    for (int i = 0; i < 40; ++i) {
      size_t at = chunk + 512 + random() % (65536 - 512);
      bytes[at] = static_cast<char>(bytes[at] ^ 0x5a);
    }
  }
  auto corrupt = ReadAll(dir.Write("flipped.evtx", bytes).string());
  EXPECT_TRUE(corrupt.ok);
  size_t corrupted_chunks = 0;
  for (const auto& d : corrupt.diagnostics) {
    corrupted_chunks += d.message.find("checksum does not match") != std::string::npos ? 1 : 0;
  }
  // Every chunk in use was hit; a flip past a chunk's last record escapes its checksum.
  size_t signed_chunks = 0;
  for (size_t chunk = 4096; chunk + 65536 <= bytes.size(); chunk += 65536) {
    signed_chunks += bytes.compare(chunk, 7, "ElfChnk") == 0 ? 1 : 0;
  }
  EXPECT_GT(corrupted_chunks, 0u);
  EXPECT_GE(corrupted_chunks * 2, signed_chunks);
  // Every record is either handed on or reported, never silently dropped or crashing.
  EXPECT_EQ(corrupt.stats.records_skipped, corrupt.CountKind(DiagnosticKind::kRecordSkipped));
  EXPECT_LE(corrupt.records.size(), full.records.size() + 64);
  for (const auto& d : corrupt.diagnostics) {
    if (d.kind == DiagnosticKind::kRecordSkipped) {
      EXPECT_TRUE(d.where.find(" record ") != std::string::npos ||
                  d.where.find(" chunk ") != std::string::npos)
          << d.where;
    }
  }
  // Bytes overwritten in an unused (zero) chunk are reported too.
  std::string unused = ReadWholeFile(path);
  size_t last_chunk = 4096 + (unused.size() - 4096) / 65536 * 65536 - 65536;
  if (unused.compare(last_chunk, 7, "ElfChnk") != 0) {
    unused.replace(last_chunk + 1000, 4, "\xde\xad\xbe\xef");
    auto dirty = ReadAll(dir.Write("dirty.evtx", unused).string());
    EXPECT_EQ(dirty.stats.records_skipped, 1u);
  }
  // An intact file reports nothing.
  EXPECT_EQ(full.stats.records_skipped, 0u);
  // Corrupting the file header signature makes the file unreadable as EVTX.
  std::string bad_header = ReadWholeFile(path);
  bad_header[0] = 'X';
  auto unreadable = ReadAll(dir.Write("header.bin", bad_header).string(), InputFormat::kEvtx);
  EXPECT_FALSE(unreadable.ok);
}

}  // namespace
}  // namespace yagura::event

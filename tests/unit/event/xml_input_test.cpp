// Windows events exported as XML (Event Viewer's "Save as XML", `wevtutil qe /f:xml`,
// PowerShell's ToXml()): detected by content, each <Event> element a record read as an EVTX
// record's XML; an EVTX file's records written out as XML, UTF-16 as Windows writes it, give
// the same events back; framing holds across reads, around other text and at the limits.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "event/evtx_xml.hpp"
#include "event/input.hpp"
#include "input_test_util.hpp"

namespace yagura::event {
namespace {

using testing::ReadAll;
using testing::SharedDir;
using testing::TempDir;
namespace fs = std::filesystem;

// UTF-8 as UTF-16LE with a byte order mark.
std::string Utf16Le(std::string_view utf8) {
  std::string out = "\xFF\xFE";
  auto unit = [&](uint32_t u) {
    out.push_back(static_cast<char>(u & 0xff));
    out.push_back(static_cast<char>(u >> 8));
  };
  for (size_t i = 0; i < utf8.size();) {
    const auto c = static_cast<unsigned char>(utf8[i]);
    const size_t length = c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
    uint32_t code = length == 1 ? c : c & (0x7f >> length);
    for (size_t k = 1; k < length; ++k) code = (code << 6) | (utf8[i + k] & 0x3f);
    i += length;
    if (code >= 0x10000) {
      unit(0xd800 + ((code - 0x10000) >> 10));
      unit(0xdc00 + ((code - 0x10000) & 0x3ff));
    } else {
      unit(code);
    }
  }
  return out;
}

struct EvtxRecord {
  std::string xml;
  std::string json;
};

std::vector<EvtxRecord> ReadEvtx(const fs::path& path) {
  Diagnostics diagnostics;
  RecordReader reader(InputFormat::kAuto, diagnostics);
  std::vector<EvtxRecord> records;
  EXPECT_TRUE(reader.ReadFile(InputFile{path.string()}, 0, [&](const Record& record) {
    auto json = EvtxXmlToJson(record.data, record.outline, record.outline_shape);
    EXPECT_TRUE(json);
    records.push_back({std::string(record.data), json ? *json : std::string()});
  }));
  return records;
}

TEST(XmlInput, AnEvtxFilesRecordsWrittenAsXmlGiveTheSameEvents) {
  const fs::path evtx =
      SharedDir() / "data/logs/evtx/Lateral Movement/LM_sysmon_psexec_smb_meterpreter.evtx";
  YAGURA_REQUIRE_SHARED(evtx);
  const std::vector<EvtxRecord> records = ReadEvtx(evtx);
  ASSERT_GE(records.size(), 5u);

  // As Event Viewer saves them: UTF-16 with a byte order mark, a declaration, an <Events> root.
  std::string saved = "<?xml version=\"1.0\" encoding=\"UTF-16\"?>\r\n<Events>";
  for (const EvtxRecord& record : records) saved += record.xml + "\r\n";
  saved += "</Events>\r\n";
  // As wevtutil writes them: one after another, nothing around them; many times over, so that
  // elements are cut by the reads.
  constexpr size_t REPEATS = 80;
  std::string bare;
  for (size_t k = 0; k < REPEATS; ++k)
    for (const EvtxRecord& record : records) bare += record.xml;
  ASSERT_GT(bare.size(), size_t{2} << 20);

  TempDir dir;
  for (const auto& [name, bytes] : std::vector<std::pair<std::string, std::string>>{
           {"saved.xml", Utf16Le(saved)}, {"bare.xml", bare}, {"saved-utf8.xml", saved}}) {
    SCOPED_TRACE(name);
    const std::string path = dir.Write(name, bytes).string();
    for (size_t limit : {MAX_RECORD_SIZE, size_t{64} << 10}) {
      auto read = ReadAll(path, InputFormat::kAuto, limit);
      ASSERT_TRUE(read.ok);
      EXPECT_TRUE(read.diagnostics.empty());
      ASSERT_EQ(read.records.size(), records.size() * (name == "bare.xml" ? REPEATS : 1));
      for (size_t i = 0; i < read.records.size(); ++i) {
        const auto& record = read.records[i];
        const EvtxRecord& original = records[i % records.size()];
        EXPECT_EQ(record.format, RecordFormat::kEvtx);
        EXPECT_EQ(record.number, i + 1);
        ASSERT_EQ(record.data, original.xml) << i;
        // The XML's own syntax gives what the EVTX reader's outline gave.
        if (i < records.size()) {
          EXPECT_EQ(EvtxXmlToJson(record.data).value_or(""), original.json);
        }
      }
      EXPECT_EQ(read.stats.bytes, name == "saved.xml" ? saved.size() : bytes.size())
          << "every byte counted once (UTF-16 as the UTF-8 it reads as)";
    }
  }
}

TEST(XmlInput, ElementsAreFramedWhateverSurroundsThem) {
  const std::string a =
      "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><EventID>1"
      "</EventID><Channel>Security</Channel></System><EventData><Data Name='X'>a</Data>"
      "</EventData></Event>";
  const std::string b =
      "<Event>\n  <System>\n    <EventID>2</EventID>\n  </System>\n  <EventData>\n"
      "    <Data Name='Text'>&lt;/Event&gt; in text</Data>\n  </EventData>\n</Event>";
  const std::string big = "<Event><System><EventID>3</EventID></System><EventData><Data>" +
                          std::string(5000, 'x') + "</Data></EventData></Event>";
  const std::string text = "<?xml version='1.0'?>\n<Events>\nEvent number: 1\n" + a +
                           "\n<Event/>\n<EventsOther/>\n" + b + "\n" + big + "\n" + a +
                           "\n</Events>\n<Event><System>";
  TempDir dir;
  const std::string path = dir.Write("mixed.xml", text).string();
  EXPECT_EQ(DetectInputFormat(text.substr(0, 200), false), InputFormat::kXml);

  auto read = ReadAll(path, InputFormat::kAuto, 1000);
  ASSERT_TRUE(read.ok);
  ASSERT_EQ(read.records.size(), 3u) << "a, b and a again: the big one over the limit";
  EXPECT_EQ(read.records[0].data, a);
  EXPECT_EQ(read.records[0].line, 4u);
  EXPECT_EQ(read.records[1].data, b);
  EXPECT_EQ(read.records[1].line, 7u);
  EXPECT_EQ(read.records[2].data, a);
  EXPECT_EQ(read.records[2].number, 4u) << "the one skipped keeps its number";
  EXPECT_EQ(read.records[2].line, 16u);
  ASSERT_EQ(read.stats.records_skipped, 2u);
  ASSERT_EQ(read.diagnostics.size(), 2u);
  EXPECT_EQ(read.diagnostics[0].where, path + ":15");
  EXPECT_NE(read.diagnostics[0].message.find("longer than 1000 bytes"), std::string::npos);
  EXPECT_EQ(read.diagnostics[1].where, path + ":18");
  EXPECT_NE(read.diagnostics[1].message.find("without its end tag"), std::string::npos);
  EXPECT_EQ(read.stats.bytes, text.size());
  EXPECT_EQ(EvtxXmlToJson(b).value_or(""),
            R"({"Event":{"System":{"EventID":2},"EventData":{"Text":"</Event> in text"}}})");

  // Not XML events: syslog with its priority, other XML.
  EXPECT_NE(DetectInputFormat("<13>Nov 29 10:00:00 host sshd[1]: <Event x>\n", true),
            InputFormat::kXml);
  EXPECT_NE(DetectInputFormat("<?xml version='1.0'?><config><Events/></config>\n", true),
            InputFormat::kXml);
  // An element over the limit that several reads cut: dropped as it streams by.
  const std::string huge = "<Event>" + std::string(size_t{3} << 20, 'h') + "</Event>\n" + a;
  auto streamed = ReadAll(dir.Write("huge.xml", huge).string(), InputFormat::kXml, 1000);
  ASSERT_EQ(streamed.records.size(), 1u);
  EXPECT_EQ(streamed.records[0].data, a);
  EXPECT_EQ(streamed.records[0].number, 2u);
  EXPECT_EQ(streamed.records[0].line, 2u);
  EXPECT_EQ(streamed.stats.records_skipped, 1u);
  EXPECT_EQ(streamed.stats.bytes, huge.size());

  // Forced: a file whose events come late is still read as XML.
  const std::string late = std::string(70000, '\n') + a;
  auto forced = ReadAll(dir.Write("late.xml", late).string(), InputFormat::kXml);
  ASSERT_EQ(forced.records.size(), 1u);
  EXPECT_EQ(forced.records[0].line, 70001u);
}

}  // namespace
}  // namespace yagura::event

// Carving EVTX chunks: logs hidden at odd offsets in other bytes come back as EVTX files whose
// records are the logs' own, read by the native reader; copies are kept once; damaged and cut
// chunks are counted, not kept; signatures across the carver's reads are found; output files
// split at their chunk limit; a folder with carved files already is refused.
#include "event/evtx_carver.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "event/evtx_native.hpp"
#include "event/evtx_xml.hpp"
#include "event/input.hpp"
#include "input_test_util.hpp"

namespace yagura::event {
namespace {

using testing::ReadWholeFile;
using testing::SharedDir;
using testing::TempDir;
namespace fs = std::filesystem;

std::string Noise(size_t size, uint32_t seed) {
  std::mt19937 random(seed);
  std::string out(size, '\0');
  for (char& c : out) c = static_cast<char>(random());
  return out;
}

// The records of the files as evtx_dump JSON, in order, and the native reader's share of them.
struct Read {
  std::vector<std::string> json;
  uint64_t native = 0;
  uint64_t libevtx = 0;
};
Read ReadRecords(const std::vector<std::string>& paths) {
  Read read;
  Diagnostics diagnostics;
  RecordReader reader(InputFormat::kAuto, diagnostics);
  for (const std::string& path : paths) {
    EXPECT_TRUE(reader.ReadFile(InputFile{path}, 0, [&](const Record& record) {
      read.json.push_back(
          EvtxXmlToJson(record.data, record.outline, record.outline_shape).value_or("unreadable"));
    }));
  }
  EXPECT_EQ(diagnostics.Count(DiagnosticKind::kInputUnreadable), 0u);
  read.native = reader.stats().evtx_native_records;
  read.libevtx = reader.stats().evtx_libevtx_records;
  return read;
}

// The file's chunks (without its header), as many as it uses.
std::string Chunks(const std::string& file) {
  evtx::FileHeader header;
  EXPECT_TRUE(
      evtx::ParseFileHeader(reinterpret_cast<const uint8_t*>(file.data()), file.size(), header));
  return file.substr(evtx::FILE_HEADER_SIZE, size_t{header.chunk_count} * evtx::CHUNK_SIZE);
}

TEST(EvtxCarver, LogsAmongOtherBytesComeBackAsTheirOwnRecords) {
  const fs::path first =
      SharedDir() / "data/logs/evtx/Lateral Movement/LM_sysmon_psexec_smb_meterpreter.evtx";
  const fs::path second =
      SharedDir() / "data/logs/evtx/Command and Control/DE_RDP_Tunneling_4624.evtx";
  YAGURA_REQUIRE_SHARED(first);
  YAGURA_REQUIRE_SHARED(second);
  const std::string a = Chunks(ReadWholeFile(first));
  const std::string b = Chunks(ReadWholeFile(second));
  ASSERT_GE(a.size(), evtx::CHUNK_SIZE);
  ASSERT_GE(b.size(), evtx::CHUNK_SIZE);

  std::string damaged = a.substr(0, evtx::CHUNK_SIZE);
  damaged[evtx::CHUNK_HEADER_SIZE + 100] ^= 0x01;  // a record's byte: the records' checksum fails
  // An image: noise, the first log at an odd offset, its damaged copy, the second log, the first
  // log's first chunk again, and a chunk cut off by the end. The second log begins just past
  // the carver's first read (8 MiB and a chunk's length), its signature cut by it.
  std::string image = Noise(1'000'003, 1) + a + Noise(777, 2) + damaged;
  image += Noise((size_t{8} << 20) + evtx::CHUNK_SIZE - 3 - image.size(), 3) + b +
           std::string(4096, '\0');
  image += a.substr(0, evtx::CHUNK_SIZE) + Noise(12345, 4) + a.substr(0, 30000);
  TempDir dir;
  const std::string image_path = dir.Write("disk.img", image).string();

  auto carver = EvtxCarver::Create((dir.path() / "out").string());
  ASSERT_TRUE(carver) << carver.error().ToString();
  ASSERT_TRUE((*carver)->Carve(image_path));
  ASSERT_TRUE((*carver)->Finish());
  const CarveStats& stats = (*carver)->stats();
  const uint64_t chunks = (a.size() + b.size()) / evtx::CHUNK_SIZE;
  EXPECT_EQ(stats.inputs, 1u);
  EXPECT_EQ(stats.bytes_scanned, image.size());
  EXPECT_EQ(stats.chunks, chunks);
  EXPECT_EQ(stats.duplicates, 1u);
  EXPECT_EQ(stats.damaged, 1u);
  EXPECT_EQ(stats.truncated, 1u);
  ASSERT_EQ((*carver)->files().size(), 1u);

  const Read original = ReadRecords({first.string(), second.string()});
  const Read carved = ReadRecords((*carver)->files());
  EXPECT_EQ(stats.records, original.json.size());
  EXPECT_EQ(carved.json, original.json) << "the same records, in the order found";
  EXPECT_EQ(carved.native, carved.json.size()) << "a sound file: the native reader reads it all";
  EXPECT_EQ(carved.libevtx, 0u);

  // A second carve into the same folder is refused; split output files.
  EXPECT_FALSE(EvtxCarver::Create((dir.path() / "out").string()));
  auto split = EvtxCarver::Create((dir.path() / "split").string(), 1);
  ASSERT_TRUE(split);
  ASSERT_TRUE((*split)->Carve(image_path));
  ASSERT_TRUE((*split)->Finish());
  ASSERT_EQ((*split)->files().size(), chunks);
  EXPECT_EQ(fs::path((*split)->files().back()).filename().string(),
            "carved-" + std::string(4 - std::to_string(chunks).size(), '0') +
                std::to_string(chunks) + ".evtx");
  EXPECT_EQ(ReadRecords((*split)->files()).json, original.json);

  // An input that cannot be read is named; nothing is written for it.
  auto missing = EvtxCarver::Create((dir.path() / "none").string());
  ASSERT_TRUE(missing);
  EXPECT_FALSE((*missing)->Carve((dir.path() / "no-such.img").string()));
  ASSERT_TRUE((*missing)->Finish());
  EXPECT_TRUE((*missing)->files().empty());
}

}  // namespace
}  // namespace yagura::event

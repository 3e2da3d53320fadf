// Carving EVTX chunks: logs hidden at odd offsets in other bytes come back as EVTX files whose
// records are the logs' own, read by the native reader; copies are kept once; the sound records
// of damaged chunks are salvaged into files apart; chunks with a damaged header or cut off are
// counted, not kept; signatures across the carver's reads are found; output files split at
// their chunk limit; a folder with carved files already is refused.
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

  // Damaged copies of the first chunk: a bit of a record's BinXML flipped (its records'
  // checksum fails, but every record is well formed: all are salvaged, apart); the chunk's
  // second half overwritten (the records before it are salvaged); a bit of its header flipped
  // (nothing can be trusted: damaged).
  const std::string chunk = a.substr(0, evtx::CHUNK_SIZE);
  std::string flipped = chunk;
  flipped[evtx::CHUNK_HEADER_SIZE + 100] ^= 0x01;
  const size_t overwritten_at = 20000;
  const std::string overwritten =
      chunk.substr(0, overwritten_at) + Noise(evtx::CHUNK_SIZE - overwritten_at, 5);
  std::string bad_header = chunk;
  bad_header[30] ^= 0x01;
  uint32_t all = 0, before = 0;
  {
    evtx::ChunkHeader header;
    ASSERT_EQ(
        evtx::CheckChunk(reinterpret_cast<const uint8_t*>(chunk.data()), chunk.size(), header),
        evtx::ChunkState::kValid);
    evtx::RecordWalker walker(reinterpret_cast<const uint8_t*>(chunk.data()), chunk.size(),
                              header.free_offset);
    evtx::RecordView record;
    while (walker.Next(record) == evtx::RecordWalker::Status::kRecord) {
      ++all;
      if (record.offset + record.size <= overwritten_at) ++before;
    }
    ASSERT_GT(before, 0u);
    ASSERT_LT(before, all);
  }
  // An image: noise, the first log at an odd offset, its damaged copies, the second log, the
  // first log's first chunk again, and a chunk cut off by the end. The second log begins just
  // past the carver's first read (8 MiB and a chunk's length), its signature cut by it.
  std::string image =
      Noise(1'000'003, 1) + a + Noise(777, 2) + flipped + overwritten + Noise(100, 6) + bad_header;
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
  EXPECT_EQ(stats.salvaged_chunks, 2u);
  EXPECT_EQ(stats.salvaged_records, all + before);
  // A file for each log, named as Windows names its file, in the order first found.
  std::vector<std::string> names;
  for (const std::string& file : (*carver)->files()) names.push_back(fs::path(file).filename());
  EXPECT_EQ(names,
            (std::vector<std::string>{"carved-Microsoft-Windows-Sysmon%4Operational-0001.evtx",
                                      "salvaged-Microsoft-Windows-Sysmon%4Operational-0001.evtx",
                                      "carved-Security-0001.evtx"}));
  ASSERT_EQ(names.size(), 3u);
  const std::vector<std::string>& files = (*carver)->files();

  const Read original = ReadRecords({first.string(), second.string()});
  const Read carved = ReadRecords({files[0], files[2]});
  EXPECT_EQ(stats.records, original.json.size());
  EXPECT_EQ(carved.json, original.json) << "the same records, in the order found";
  EXPECT_EQ(carved.native, carved.json.size()) << "a sound file: the native reader reads it all";
  EXPECT_EQ(carved.libevtx, 0u);

  // Salvaged: the flipped chunk's records (one of them altered), then the records before the
  // overwritten half, as they were.
  const Read salvaged = ReadRecords({files[1]});
  ASSERT_EQ(salvaged.json.size(), all + before);
  for (uint32_t i = 0; i < before; ++i) EXPECT_EQ(salvaged.json[all + i], original.json[i]);

  // A second carve into the same folder is refused; split output files.
  EXPECT_FALSE(EvtxCarver::Create((dir.path() / "out").string()));
  auto split = EvtxCarver::Create((dir.path() / "split").string(), 1);
  ASSERT_TRUE(split);
  ASSERT_TRUE((*split)->Carve(image_path));
  ASSERT_TRUE((*split)->Finish());
  ASSERT_EQ((*split)->files().size(), chunks + 2);
  std::vector<std::string> carved_files;
  for (const std::string& file : (*split)->files())
    if (fs::path(file).filename().string().rfind("carved-", 0) == 0) carved_files.push_back(file);
  ASSERT_EQ(carved_files.size(), chunks);
  const uint64_t a_chunks = a.size() / evtx::CHUNK_SIZE;
  EXPECT_EQ(fs::path(carved_files[a_chunks - 1]).filename().string(),
            "carved-Microsoft-Windows-Sysmon%4Operational-" +
                std::string(4 - std::to_string(a_chunks).size(), '0') + std::to_string(a_chunks) +
                ".evtx");
  EXPECT_EQ(ReadRecords(carved_files).json, original.json);

  // An input that cannot be read is named; nothing is written for it.
  auto missing = EvtxCarver::Create((dir.path() / "none").string());
  ASSERT_TRUE(missing);
  EXPECT_FALSE((*missing)->Carve((dir.path() / "no-such.img").string()));
  ASSERT_TRUE((*missing)->Finish());
  EXPECT_TRUE((*missing)->files().empty());
}

}  // namespace
}  // namespace yagura::event

#include "pipeline/spool.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace yagura::pipeline {
namespace {

namespace fs = std::filesystem;

class SpoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "yagura-spool-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    options_.dir = dir_.string();
    options_.segment_bytes = 4096;
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<Spool> OpenSpool() {
    auto spool = Spool::Open(options_);
    EXPECT_TRUE(spool) << spool.error().ToString();
    return spool ? std::move(*spool) : nullptr;
  }

  static std::string Payload(uint64_t i) { return "event " + std::to_string(i) + std::string(i % 97, 'x'); }

  void AppendRange(Spool& spool, uint64_t from, uint64_t to) {
    for (uint64_t i = from; i < to; ++i) {
      std::string payload = Payload(i);
      std::string_view view = payload;
      auto seq = spool.Append(std::span<const std::string_view>(&view, 1));
      ASSERT_TRUE(seq) << seq.error().ToString();
      ASSERT_EQ(*seq, i);
    }
  }

  std::vector<fs::path> Segments() const {
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(dir_)) {
      if (entry.path().extension() == ".spool") files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    return files;
  }

  fs::path dir_;
  SpoolOptions options_;
};

TEST(Crc32c, MatchesTheStandardCheckValue) {
  EXPECT_EQ(Crc32c(0, "123456789", 9), 0xE3069283u);
  EXPECT_EQ(Crc32c(Crc32c(0, "1234", 4), "56789", 5), 0xE3069283u);
}

TEST_F(SpoolTest, RecordsRoundTripAcrossSegmentsAndReopens) {
  {
    auto spool = OpenSpool();
    AppendRange(*spool, 1, 301);
    EXPECT_GT(Segments().size(), 3u);
    auto records = spool->Read(1, 1000);
    ASSERT_TRUE(records);
    ASSERT_EQ(records->size(), 300u);
    for (uint64_t i = 0; i < 300; ++i) {
      EXPECT_EQ((*records)[i].seq, i + 1);
      EXPECT_EQ((*records)[i].payload, Payload(i + 1));
    }
    auto middle = spool->Read(150, 10);
    ASSERT_TRUE(middle);
    ASSERT_EQ(middle->size(), 10u);
    EXPECT_EQ(middle->front().seq, 150u);
  }
  auto reopened = OpenSpool();
  EXPECT_EQ(reopened->next_seq(), 301u);
  EXPECT_EQ(reopened->recovery().records, 300u);
  EXPECT_TRUE(reopened->recovery().truncated_at.empty());
  AppendRange(*reopened, 301, 320);
  EXPECT_EQ(reopened->Read(1, 1000)->size(), 319u);
}

TEST_F(SpoolTest, BatchAfterBatchIntoOneBufferReadsWhatAFreshReadDoes) {
  // The detector reads into the same buffer batch after batch: the views of one read must be
  // exactly the records, whatever the earlier reads left in the buffer, including records
  // larger than a read's chunk of 1 MiB and records that straddle chunks.
  options_.segment_bytes = 8 << 20;
  options_.max_record_bytes = 4 << 20;
  auto spool = OpenSpool();
  std::vector<std::string> payloads;
  for (int i = 0; i < 900; ++i) {
    const size_t size = i % 300 == 7 ? (3 << 20) + i : static_cast<size_t>(500 + i * 37 % 9000);
    payloads.push_back(std::string(size, static_cast<char>('a' + i % 26)) + std::to_string(i));
  }
  for (const auto& payload : payloads) {
    std::string_view view = payload;
    ASSERT_TRUE(spool->Append(std::span<const std::string_view>(&view, 1)));
  }
  SpoolReadBuffer buffer;
  uint64_t next = 1;
  for (size_t batch : {1u, 5u, 250u, 3u, 400u, 1000u}) {
    auto fresh = spool->Read(next, batch);
    ASSERT_TRUE(fresh);
    ASSERT_TRUE(spool->Read(next, batch, buffer));
    ASSERT_EQ(buffer.records.size(), fresh->size());
    for (size_t i = 0; i < fresh->size(); ++i) {
      EXPECT_EQ(buffer.records[i].seq, (*fresh)[i].seq);
      EXPECT_EQ(buffer.records[i].payload, (*fresh)[i].payload);
      EXPECT_EQ(buffer.records[i].payload, payloads[(*fresh)[i].seq - 1]);
    }
    if (!fresh->empty()) next = fresh->back().seq + 1;
  }
  EXPECT_EQ(next, 901u);
  ASSERT_TRUE(spool->Read(next, 10, buffer));
  EXPECT_TRUE(buffer.records.empty());
  for (const auto& chunk : buffer.chunks) EXPECT_LE(chunk.capacity(), 4u << 20);
}

TEST_F(SpoolTest, BatchesAppendInOrder) {
  auto spool = OpenSpool();
  std::vector<std::string> payloads = {"a", "bb", "", "dddd"};
  std::vector<std::string_view> views(payloads.begin(), payloads.end());
  auto last = spool->Append(views);
  ASSERT_TRUE(last);
  EXPECT_EQ(*last, 4u);
  auto records = spool->Read(1, 10);
  ASSERT_EQ(records->size(), 4u);
  EXPECT_EQ((*records)[2].payload, "");
  EXPECT_EQ((*records)[3].payload, "dddd");
}

TEST_F(SpoolTest, ATornTailIsCutAndTheRestKept) {
  {
    auto spool = OpenSpool();
    AppendRange(*spool, 1, 41);
  }
  fs::path newest = Segments().back();
  auto size = fs::file_size(newest);
  fs::resize_file(newest, size - 3);  // the last record lost its last bytes
  auto spool = OpenSpool();
  EXPECT_EQ(spool->next_seq(), 40u);
  EXPECT_GT(spool->recovery().truncated_bytes, 0u);
  EXPECT_NE(spool->recovery().truncated_at.find("record longer than the file"), std::string::npos)
      << spool->recovery().truncated_at;
  AppendRange(*spool, 40, 45);  // the lost record's number is given again
  auto records = spool->Read(1, 100);
  ASSERT_EQ(records->size(), 44u);
  EXPECT_EQ(records->back().payload, Payload(44));
}

TEST_F(SpoolTest, AFlippedBitIsFoundByTheChecksum) {
  {
    auto spool = OpenSpool();
    AppendRange(*spool, 1, 6);
  }
  fs::path newest = Segments().back();
  {
    std::fstream file(newest, std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(static_cast<std::streamoff>(fs::file_size(newest) - 2));
    file.put('#');
  }
  auto spool = OpenSpool();
  EXPECT_EQ(spool->next_seq(), 5u);
  EXPECT_NE(spool->recovery().truncated_at.find("checksum mismatch"), std::string::npos);
}

TEST_F(SpoolTest, DamageBeforeTheNewestSegmentIsReportedNotCut) {
  {
    auto spool = OpenSpool();
    AppendRange(*spool, 1, 200);
  }
  auto segments = Segments();
  ASSERT_GT(segments.size(), 2u);
  {
    std::fstream file(segments[0], std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(30);
    file.put('#');
  }
  auto spool = Spool::Open(options_);
  ASSERT_FALSE(spool);
  EXPECT_NE(spool.error().message.find("is damaged"), std::string::npos) << spool.error().message;
  EXPECT_EQ(Segments().size(), segments.size());  // nothing was removed
}

TEST_F(SpoolTest, CheckpointsAndTrimming) {
  auto spool = OpenSpool();
  AppendRange(*spool, 1, 301);
  EXPECT_EQ(spool->LoadCheckpoint("detector"), 1u);
  ASSERT_TRUE(spool->SaveCheckpoint("detector", 200));
  EXPECT_FALSE(spool->SaveCheckpoint("../escape", 5));
  EXPECT_EQ(spool->LoadCheckpoint("detector"), 200u);
  size_t before = Segments().size();
  auto freed = spool->Trim(spool->LoadCheckpoint("detector"));
  ASSERT_TRUE(freed);
  EXPECT_GT(*freed, 0u);
  EXPECT_LT(Segments().size(), before);
  EXPECT_LE(spool->first_seq(), 200u);
  auto records = spool->Read(200, 1000);
  ASSERT_TRUE(records);
  EXPECT_EQ(records->front().seq, 200u);
  EXPECT_EQ(records->back().seq, 300u);
  auto reopened_checkpoint = OpenSpool();  // a second handle reads the saved position
  EXPECT_EQ(reopened_checkpoint->LoadCheckpoint("detector"), 200u);
}

TEST_F(SpoolTest, AFullSpoolRefusesInsteadOfDropping) {
  options_.max_total_bytes = 2000;
  auto spool = OpenSpool();
  std::string payload(100, 'p');
  std::string_view view = payload;
  uint64_t accepted = 0;
  while (true) {
    auto seq = spool->Append(std::span<const std::string_view>(&view, 1));
    if (!seq) {
      EXPECT_NE(seq.error().message.find("full"), std::string::npos);
      break;
    }
    accepted = *seq;
  }
  EXPECT_TRUE(spool->Full() || spool->total_bytes() + 120 > options_.max_total_bytes);
  EXPECT_EQ(spool->next_seq(), accepted + 1);  // the refused append left nothing behind
  EXPECT_EQ(spool->Read(1, 1000)->size(), accepted);
}

TEST_F(SpoolTest, OversizedRecordsAreRefused) {
  options_.max_record_bytes = 64;
  auto spool = OpenSpool();
  std::string big(65, 'b');
  std::string small = "ok";
  std::vector<std::string_view> batch = {small, big};
  auto refused = spool->Append(batch);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("larger than the limit"), std::string::npos);
  EXPECT_EQ(spool->next_seq(), 1u);  // not even the small one
}

TEST_F(SpoolTest, RetentionKeepsRecentlyWrittenSegmentsEvenWhenProcessed) {
  auto spool = OpenSpool();
  ASSERT_TRUE(spool);
  AppendRange(*spool, 1, 200);
  size_t segments = Segments().size();
  ASSERT_GT(segments, 2u);
  int64_t now_ms = static_cast<int64_t>(time(nullptr)) * 1000;
  // Everything is processed, but written just now: an hour's retention keeps it all.
  auto kept = spool->Trim(200, 3600 * 1000, now_ms);
  ASSERT_TRUE(kept);
  EXPECT_EQ(*kept, 0u);
  EXPECT_EQ(Segments().size(), segments);
  // Seen from two hours later, the processed segments go (the one being written stays).
  auto freed = spool->Trim(200, 3600 * 1000, now_ms + 2 * 3600 * 1000);
  ASSERT_TRUE(freed);
  EXPECT_GT(*freed, 0u);
  EXPECT_EQ(Segments().size(), 1u);
}

}  // namespace
}  // namespace yagura::pipeline

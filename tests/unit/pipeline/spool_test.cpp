#include "pipeline/spool.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>

#include "pipeline/ingest_queue.hpp"

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

  // Appends payloads Payload(from) .. Payload(to - 1) as one batch.
  void AppendBatch(Spool& spool, uint64_t from, uint64_t to) {
    std::vector<std::string> payloads;
    for (uint64_t i = from; i < to; ++i) payloads.push_back(Payload(i));
    std::vector<std::string_view> views(payloads.begin(), payloads.end());
    auto last = spool.Append(views);
    ASSERT_TRUE(last) << last.error().ToString();
    ASSERT_EQ(*last, to - 1);
  }

  // The sequence numbers Read finds from 1 on.
  static std::vector<uint64_t> Sequences(Spool& spool) {
    auto records = spool.Read(1, 100000);
    EXPECT_TRUE(records) << records.error().ToString();
    std::vector<uint64_t> seqs;
    if (!records) return seqs;
    for (const auto& record : *records) {
      EXPECT_EQ(record.payload, Payload(record.seq));
      seqs.push_back(record.seq);
    }
    return seqs;
  }

  static std::vector<uint64_t> Range(uint64_t from, uint64_t to) {
    std::vector<uint64_t> seqs;
    for (uint64_t i = from; i < to; ++i) seqs.push_back(i);
    return seqs;
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

// A process killed while it appends leaves a prefix of its write in the file: whole records
// of the batch, then perhaps part of one. None of the batch may survive reopening.
TEST_F(SpoolTest, ABatchCutShortByACrashIsCutWhole) {
  options_.segment_bytes = 1 << 20;
  const uint64_t batch_first = 6, batch_end = 14;  // records 6 to 13, one batch
  uint64_t before_batch = 0;
  std::vector<uint64_t> record_ends;  // file sizes at the end of each record of the batch
  for (uint64_t i = batch_first; i < batch_end; ++i) {
    record_ends.push_back((record_ends.empty() ? 0 : record_ends.back()) +
                          Spool::RECORD_OVERHEAD_BYTES + Payload(i).size());
  }
  {
    auto spool = OpenSpool();
    AppendRange(*spool, 1, batch_first);
    before_batch = fs::file_size(Segments().back());
    AppendBatch(*spool, batch_first, batch_end);
    ASSERT_EQ(fs::file_size(Segments().back()), before_batch + record_ends.back());
  }
  const fs::path file = Segments().back();
  const std::string whole = [&] {
    std::ifstream in(file, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }();
  // Every cut inside the batch: at its start, at each record's end but the last, and in the
  // middle of each record.
  std::vector<std::pair<uint64_t, uint64_t>> cuts;  // (bytes of the batch kept, whole records)
  cuts.push_back({0, 0});
  for (size_t k = 0; k + 1 < record_ends.size(); ++k) cuts.push_back({record_ends[k], k + 1});
  for (size_t k = 0; k < record_ends.size(); ++k) {
    const uint64_t start = k == 0 ? 0 : record_ends[k - 1];
    cuts.push_back({start + 7, k});
    cuts.push_back({start + Spool::RECORD_OVERHEAD_BYTES + 1, k});
  }
  for (const auto& [kept, whole_records] : cuts) {
    SCOPED_TRACE(fmt::format("{} bytes of the batch kept", kept));
    {
      std::ofstream out(file, std::ios::binary | std::ios::trunc);
      out.write(whole.data(), static_cast<std::streamsize>(before_batch + kept));
    }
    auto spool = OpenSpool();
    ASSERT_TRUE(spool);
    EXPECT_EQ(spool->next_seq(), batch_first);
    EXPECT_EQ(Sequences(*spool), Range(1, batch_first));
    EXPECT_EQ(fs::file_size(file), before_batch);
    EXPECT_EQ(spool->recovery().records, batch_first - 1);
    EXPECT_EQ(spool->recovery().incomplete_batch_records, whole_records);
    EXPECT_EQ(spool->recovery().truncated_bytes, kept);
    if (kept > 0) {
      EXPECT_NE(spool->recovery().truncated_at.find(
                    whole_records > 0 ? "not written whole" : "@" + std::to_string(before_batch)),
                std::string::npos)
          << spool->recovery().truncated_at;
    } else {
      EXPECT_TRUE(spool->recovery().truncated_at.empty()) << spool->recovery().truncated_at;
    }
    // The numbers of the lost batch are given again, to the sender's retry.
    AppendBatch(*spool, batch_first, batch_end);
    EXPECT_EQ(Sequences(*spool), Range(1, batch_end));
  }
  // Whole, the batch survives reopening.
  auto spool = OpenSpool();
  EXPECT_TRUE(spool->recovery().truncated_at.empty()) << spool->recovery().truncated_at;
  EXPECT_EQ(Sequences(*spool), Range(1, batch_end));
}

TEST_F(SpoolTest, ABatchAcrossSegmentsIsCutWhole) {
  const uint64_t batch_first = 4, batch_end = 204;
  std::vector<fs::path> before;
  for (bool empty_newest : {false, true}) {
    SCOPED_TRACE(empty_newest ? "the newest segment empty" : "the newest segment torn");
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    {
      auto spool = OpenSpool();
      AppendRange(*spool, 1, batch_first);
      before = Segments();
      AppendBatch(*spool, batch_first, batch_end);
    }
    auto segments = Segments();
    ASSERT_GE(segments.size(), before.size() + 2);  // the batch spans three segments or more
    const uint64_t first_size = fs::file_size(before.back());
    fs::resize_file(segments.back(), empty_newest ? 0 : fs::file_size(segments.back()) - 3);
    {
      auto spool = OpenSpool();
      ASSERT_TRUE(spool);
      EXPECT_EQ(spool->next_seq(), batch_first);
      EXPECT_EQ(Segments(), before);  // the segments the batch started were removed
      EXPECT_LT(fs::file_size(before.back()), first_size + 1);
      EXPECT_EQ(Sequences(*spool), Range(1, batch_first));
      EXPECT_NE(spool->recovery().truncated_at.find(fmt::format("records {} to", batch_first)),
                std::string::npos)
          << spool->recovery().truncated_at;
      AppendBatch(*spool, batch_first, batch_end);
      AppendRange(*spool, batch_end, batch_end + 5);
    }
    auto spool = OpenSpool();
    EXPECT_TRUE(spool->recovery().truncated_at.empty()) << spool->recovery().truncated_at;
    EXPECT_EQ(Sequences(*spool), Range(1, batch_end + 5));
  }
}

TEST_F(SpoolTest, AFlippedBatchMarkIsFoundByTheChecksum) {
  // The mark of a batch's last record turned into "continued" would join it to the next batch;
  // the checksum differs with the mark, so the record is found damaged instead.
  uint64_t before_batch = 0;
  {
    auto spool = OpenSpool();
    AppendRange(*spool, 1, 3);
    before_batch = fs::file_size(Segments().back());
    AppendBatch(*spool, 3, 6);
  }
  const fs::path file = Segments().back();
  const uint64_t last_record =
      before_batch + 2 * Spool::RECORD_OVERHEAD_BYTES + Payload(3).size() + Payload(4).size();
  {
    std::fstream out(file, std::ios::in | std::ios::out | std::ios::binary);
    out.seekg(static_cast<std::streamoff>(last_record + 3));
    ASSERT_EQ(out.get(), 'S');  // "YGRS": ends its batch
    out.seekp(static_cast<std::streamoff>(last_record + 3));
    out.put('C');  // "YGRC": continued
  }
  auto spool = OpenSpool();
  EXPECT_EQ(spool->next_seq(), 3u);
  EXPECT_NE(spool->recovery().truncated_at.find("checksum mismatch"), std::string::npos)
      << spool->recovery().truncated_at;
  EXPECT_EQ(spool->recovery().incomplete_batch_records, 2u);
  EXPECT_EQ(Sequences(*spool), Range(1, 3));
}

// Sets the largest file this process may write, and gives the old limit back at the end.
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    getrlimit(RLIMIT_FSIZE, &old_);
    old_handler_ = signal(SIGXFSZ, SIG_IGN);  // the write fails with EFBIG instead
    rlimit limit = old_;
    limit.rlim_cur = bytes;
    setrlimit(RLIMIT_FSIZE, &limit);
  }
  ~FileSizeLimit() {
    setrlimit(RLIMIT_FSIZE, &old_);
    signal(SIGXFSZ, old_handler_);
  }
  FileSizeLimit(const FileSizeLimit&) = delete;
  FileSizeLimit& operator=(const FileSizeLimit&) = delete;

 private:
  rlimit old_{};
  sighandler_t old_handler_ = SIG_DFL;
};

TEST_F(SpoolTest, AWriteThatFailsHalfWayIsUndone) {
  options_.segment_bytes = 1 << 20;
  auto spool = OpenSpool();
  AppendRange(*spool, 1, 4);
  const uint64_t size = fs::file_size(Segments().back());
  {
    FileSizeLimit limit(size + 100);  // room for about one record of the batch
    std::vector<std::string> payloads;
    for (uint64_t i = 4; i < 14; ++i) payloads.push_back(Payload(i));
    std::vector<std::string_view> views(payloads.begin(), payloads.end());
    auto refused = spool->Append(views);
    ASSERT_FALSE(refused);
    EXPECT_NE(refused.error().message.find("cannot write"), std::string::npos)
        << refused.error().ToString();
  }
  EXPECT_EQ(fs::file_size(Segments().back()), size);
  EXPECT_EQ(spool->next_seq(), 4u);
  EXPECT_EQ(Sequences(*spool), Range(1, 4));
  // Undone, the spool takes the next batch (it was not left broken) under the same numbers.
  AppendBatch(*spool, 4, 14);
  EXPECT_EQ(Sequences(*spool), Range(1, 14));
  spool.reset();
  auto reopened = OpenSpool();
  EXPECT_TRUE(reopened->recovery().truncated_at.empty()) << reopened->recovery().truncated_at;
  EXPECT_EQ(Sequences(*reopened), Range(1, 14));
}

TEST_F(SpoolTest, ABatchThatCannotStartItsNextSegmentIsUndoneInTheEarlierOne) {
  auto spool = OpenSpool();
  AppendRange(*spool, 1, 4);
  const auto before = Segments();
  const uint64_t size = fs::file_size(before.back());
  // Files in the way of every segment the batch could start: creating one fails.
  std::vector<fs::path> decoys;
  for (uint64_t seq = 4; seq < 104; ++seq) {
    decoys.push_back(dir_ / fmt::format("{:020}.spool", seq));
    std::ofstream(decoys.back()) << "in the way";
  }
  std::vector<std::string> payloads;
  for (uint64_t i = 4; i < 104; ++i) payloads.push_back(Payload(i));
  std::vector<std::string_view> views(payloads.begin(), payloads.end());
  auto refused = spool->Append(views);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("cannot create"), std::string::npos)
      << refused.error().ToString();
  for (const auto& decoy : decoys) fs::remove(decoy);
  EXPECT_EQ(Segments(), before);
  EXPECT_EQ(fs::file_size(before.back()), size);  // the first part's write was cut off again
  EXPECT_EQ(Sequences(*spool), Range(1, 4));
  AppendBatch(*spool, 4, 104);
  spool.reset();
  auto reopened = OpenSpool();
  EXPECT_TRUE(reopened->recovery().truncated_at.empty()) << reopened->recovery().truncated_at;
  EXPECT_EQ(Sequences(*reopened), Range(1, 104));
}

// The machine went down before the spool's last records reached the disk (fsync not on every
// append), after a consumer had read them: their numbers name what it made of them, and new
// records must not take them.
TEST_F(SpoolTest, NumbersAConsumerHasPassedAreNotGivenAgainAfterALostTail) {
  for (bool newest_emptied : {false, true}) {
    SCOPED_TRACE(newest_emptied ? "the newest segment lost whole"
                                : "the newest segment's end lost");
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    uint64_t kept_end = 0;
    {
      auto spool = OpenSpool();
      AppendRange(*spool, 1, 120);
      ASSERT_TRUE(spool->SaveCheckpoint("detector", 120));
    }
    // The disk kept the newest segment's first record, or none of it.
    const fs::path newest = Segments().back();
    kept_end = std::stoull(newest.stem().string());
    if (!newest_emptied) {
      fs::resize_file(newest, Spool::RECORD_OVERHEAD_BYTES + Payload(kept_end).size());
      kept_end += 1;
    } else {
      fs::resize_file(newest, 0);
    }
    {
      auto spool = OpenSpool();
      ASSERT_TRUE(spool);
      EXPECT_EQ(spool->recovery().lost_from, kept_end);
      EXPECT_EQ(spool->recovery().lost_to, 119u);
      EXPECT_EQ(spool->next_seq(), 120u);
      AppendRange(*spool, 120, 130);
      auto expected = Range(1, kept_end);
      for (uint64_t i = 120; i < 130; ++i) expected.push_back(i);
      EXPECT_EQ(Sequences(*spool), expected);
      auto from_checkpoint = spool->Read(spool->LoadCheckpoint("detector"), 1000);
      ASSERT_TRUE(from_checkpoint);
      ASSERT_FALSE(from_checkpoint->empty());
      EXPECT_EQ(from_checkpoint->front().seq, 120u);
    }
    // The gap the checkpoint has passed is accepted on every later reopening.
    auto spool = OpenSpool();
    ASSERT_TRUE(spool);
    EXPECT_EQ(spool->recovery().lost_to, 0u);
    EXPECT_EQ(spool->next_seq(), 130u);
    ASSERT_TRUE(spool->Trim(spool->LoadCheckpoint("detector")));
  }
}

TEST_F(SpoolTest, AMissingSegmentNoCheckpointHasPassedIsReported) {
  {
    auto spool = OpenSpool();
    AppendRange(*spool, 1, 200);
    ASSERT_TRUE(spool->SaveCheckpoint("detector", 5));
  }
  auto segments = Segments();
  ASSERT_GT(segments.size(), 3u);
  fs::remove(segments[2]);
  auto spool = Spool::Open(options_);
  ASSERT_FALSE(spool);
  EXPECT_NE(spool.error().message.find("does not follow"), std::string::npos)
      << spool.error().message;
}

// Under the interval policy appends reach the disk now and then, but a consumer never reads a
// record that is not there yet: what it makes of a record must not outlive the record.
TEST_F(SpoolTest, UnderTheIntervalPolicyOnlySyncedRecordsAreRead) {
  options_.fsync = FsyncPolicy::kInterval;
  options_.fsync_interval_ms = 3'600'000;
  {
    auto spool = OpenSpool();
    EXPECT_EQ(spool->synced_next_seq(), 1u);
    AppendRange(*spool, 1, 4);  // opening synced: the next sync is an hour away
    EXPECT_EQ(spool->synced_next_seq(), 1u);
    EXPECT_EQ(spool->readable_next_seq(), 1u);
    EXPECT_GT(spool->SyncDueInMs(), 0);
    EXPECT_TRUE(Sequences(*spool).empty());
    ASSERT_TRUE(spool->Sync());
    EXPECT_EQ(spool->SyncDueInMs(), -1);
    EXPECT_EQ(Sequences(*spool), Range(1, 4));
  }
  // Once the interval has passed, a read syncs by itself.
  options_.fsync_interval_ms = 20;
  {
    auto spool = OpenSpool();
    AppendRange(*spool, 4, 6);
    usleep(30'000);
    EXPECT_EQ(spool->SyncDueInMs(), 0);
    EXPECT_EQ(Sequences(*spool), Range(1, 6));
    EXPECT_EQ(spool->synced_next_seq(), 6u);
  }
  // Only a crash of the process is to be survived: everything is read at once.
  options_.fsync = FsyncPolicy::kNever;
  auto spool = OpenSpool();
  AppendRange(*spool, 6, 8);
  EXPECT_EQ(spool->synced_next_seq(), 6u);
  EXPECT_EQ(spool->SyncDueInMs(), -1);
  EXPECT_EQ(Sequences(*spool), Range(1, 8));
}

TEST_F(SpoolTest, AWaitingConsumerIsWokenWhenTheIntervalSyncsWithNoAppendToDoIt) {
  options_.fsync = FsyncPolicy::kInterval;
  options_.fsync_interval_ms = 500;  // long enough for the first read to come before it
  auto spool = OpenSpool();
  IngestQueue queue(*spool);
  std::string payload = Payload(1);
  std::string_view view = payload;
  ASSERT_TRUE(queue.Append(std::span<const std::string_view>(&view, 1)));
  EXPECT_TRUE(queue.Read(1, 10)->empty());                  // not synced yet
  EXPECT_TRUE(queue.WaitFor(1, std::chrono::seconds(30)));  // syncs once the interval is over
  auto records = queue.Read(1, 10);
  ASSERT_TRUE(records);
  ASSERT_EQ(records->size(), 1u);
  EXPECT_EQ(records->front().payload, payload);
  EXPECT_FALSE(queue.WaitFor(2, std::chrono::milliseconds(10)));  // nothing more to come
}

// A disk that refuses syncs while `failing` is set (SpoolOptions::sync_file): no real disk does
// on demand. Counts the syncs it was asked for.
struct FlakyDisk {
  std::shared_ptr<std::atomic<bool>> failing = std::make_shared<std::atomic<bool>>(false);
  std::shared_ptr<std::atomic<int>> syncs = std::make_shared<std::atomic<int>>(0);
  std::function<int(int)> SyncFile() const {
    return [failing = failing, syncs = syncs](int fd) {
      ++*syncs;
      if (failing->load()) {
        errno = EIO;
        return -1;
      }
      return ::fdatasync(fd);
    };
  }
};

std::string_view One(const std::string& payload) { return payload; }

// After a sync the disk refused, the kernel's word on the file is worth nothing (a later sync
// may succeed without the pages it dropped): the spool refuses appends, says why, keeps what
// it had, and takes appends again once reopened from the disk.
TEST_F(SpoolTest, ASyncTheDiskRefusesBreaksTheSpoolUntilItIsReopened) {
  FlakyDisk disk;
  options_.sync_file = disk.SyncFile();
  options_.segment_bytes = 1 << 20;
  auto spool = OpenSpool();
  AppendRange(*spool, 1, 4);
  EXPECT_FALSE(spool->broken());

  disk.failing->store(true);
  std::string payload = Payload(4);
  std::string_view view = payload;
  auto refused = spool->Append(std::span<const std::string_view>(&view, 1));
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("cannot sync"), std::string::npos)
      << refused.error().ToString();
  EXPECT_TRUE(spool->broken());
  EXPECT_NE(spool->broken_reason().find("cannot sync"), std::string::npos);
  EXPECT_EQ(spool->next_seq(), 4u);  // the refused batch was cut off again
  EXPECT_EQ(Sequences(*spool), Range(1, 4));

  // Broken, it refuses even when the disk works again, until it is reopened.
  disk.failing->store(false);
  auto still = spool->Append(std::span<const std::string_view>(&view, 1));
  ASSERT_FALSE(still);
  EXPECT_NE(still.error().message.find("until it is reopened"), std::string::npos)
      << still.error().ToString();

  // A reopening the disk refuses leaves it as it was: broken, and readable.
  disk.failing->store(true);
  auto failed = spool->Reopen();
  ASSERT_FALSE(failed);
  EXPECT_TRUE(spool->broken());
  EXPECT_EQ(Sequences(*spool), Range(1, 4));

  disk.failing->store(false);
  ASSERT_TRUE(spool->Reopen()) << "the disk works again";
  EXPECT_FALSE(spool->broken());
  EXPECT_TRUE(spool->broken_reason().empty());
  EXPECT_EQ(spool->next_seq(), 4u);
  AppendRange(*spool, 4, 10);
  EXPECT_EQ(Sequences(*spool), Range(1, 10));
  spool.reset();
  auto reopened = OpenSpool();
  EXPECT_TRUE(reopened->recovery().truncated_at.empty()) << reopened->recovery().truncated_at;
  EXPECT_EQ(Sequences(*reopened), Range(1, 10));
}

// Starting a new segment syncs the one before it: under the interval policy it may hold
// records not yet on the disk, and only the newest segment is synced after that.
TEST_F(SpoolTest, ARefusedSyncOfTheSegmentBeforeANewOneBreaksTheSpool) {
  FlakyDisk disk;
  options_.sync_file = disk.SyncFile();
  options_.fsync = FsyncPolicy::kInterval;
  options_.fsync_interval_ms = 3'600'000;
  auto spool = OpenSpool();
  AppendRange(*spool, 1, 4);
  const auto before = Segments();
  const uint64_t size = fs::file_size(before.back());
  disk.failing->store(true);
  std::vector<std::string> payloads;
  for (uint64_t i = 4; i < 104; ++i) payloads.push_back(Payload(i));  // past one segment
  std::vector<std::string_view> views(payloads.begin(), payloads.end());
  auto refused = spool->Append(views);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("cannot sync"), std::string::npos)
      << refused.error().ToString();
  EXPECT_TRUE(spool->broken());
  EXPECT_EQ(Segments(), before);  // the new segment was not left behind
  EXPECT_EQ(fs::file_size(before.back()), size);
  disk.failing->store(false);
  ASSERT_TRUE(spool->Reopen());
  AppendBatch(*spool, 4, 104);
  ASSERT_TRUE(spool->Sync());  // the interval is an hour: readable once synced
  EXPECT_EQ(Sequences(*spool), Range(1, 104));

  // Under kNever nothing was promised to be on the disk: ingest goes on.
  spool.reset();
  options_.fsync = FsyncPolicy::kNever;
  spool = OpenSpool();
  disk.failing->store(true);
  AppendBatch(*spool, 104, 204);
  EXPECT_FALSE(spool->broken());
  EXPECT_EQ(Sequences(*spool), Range(1, 204));
}

// Under the interval policy the sync that makes records readable can come from a read or a
// waiting consumer: refused there, it breaks the spool too, and the records it was to make
// readable are not handed out.
TEST_F(SpoolTest, ARefusedIntervalSyncHandsOutNothingUnsyncedAndBreaksTheSpool) {
  FlakyDisk disk;
  options_.sync_file = disk.SyncFile();
  options_.fsync = FsyncPolicy::kInterval;
  options_.fsync_interval_ms = 300;  // the append comes well before it
  auto spool = OpenSpool();
  IngestQueue queue(*spool, std::chrono::milliseconds(0));
  const std::string first = Payload(1);
  ASSERT_TRUE(queue.Append(std::span<const std::string_view>(std::array{One(first)})));
  ASSERT_EQ(spool->synced_next_seq(), 1u) << "synced by the append: the test needs it not to be";
  disk.failing->store(true);
  usleep(350'000);
  EXPECT_FALSE(queue.WaitFor(1, std::chrono::milliseconds(50)));
  EXPECT_TRUE(queue.Read(1, 10)->empty());
  // A sync after a refused one proves nothing: the disk working again does not make the
  // record readable until the spool is read again from the disk.
  disk.failing->store(false);
  EXPECT_TRUE(queue.Read(1, 10)->empty());
  EXPECT_FALSE(queue.WaitFor(1, std::chrono::milliseconds(50)));
  disk.failing->store(true);
  const IngestHealth health = queue.Health();
  EXPECT_FALSE(health.writable);
  EXPECT_NE(health.problem.find("cannot sync"), std::string::npos) << health.problem;
  // The queue tries to reopen at the next append; with the disk still refusing, it refuses.
  const std::string second = Payload(2);
  auto refused = queue.Append(std::span<const std::string_view>(std::array{One(second)}));
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message, IngestQueue::FULL);
  EXPECT_EQ(queue.Health().reopened, 0u);
  // Once the disk works, the next append reopens the spool and is taken.
  disk.failing->store(false);
  auto taken = queue.Append(std::span<const std::string_view>(std::array{One(second)}));
  ASSERT_TRUE(taken) << taken.error().ToString();
  EXPECT_EQ(queue.Health().reopened, 1u);
  EXPECT_TRUE(queue.Health().writable);
  EXPECT_TRUE(queue.WaitFor(*taken, std::chrono::seconds(30)));
  auto records = queue.Read(1, 10);
  ASSERT_TRUE(records);
  std::vector<std::string> payloads;
  for (const auto& record : *records) payloads.push_back(record.payload);
  // The first record is there if the disk kept it (here it did: only the sync was refused).
  EXPECT_EQ(payloads, (std::vector<std::string>{first, second}));
}

// The queue tries a broken spool again at most once per interval: a sender retrying in a loop
// does not turn into a loop of reopenings.
TEST_F(SpoolTest, TheQueueReopensABrokenSpoolAtMostOncePerInterval) {
  FlakyDisk disk;
  options_.sync_file = disk.SyncFile();
  auto spool = OpenSpool();
  IngestQueue queue(*spool, std::chrono::hours(1));
  const std::string payload = Payload(1);
  const auto append = [&] {
    return queue.Append(std::span<const std::string_view>(std::array{One(payload)}));
  };
  disk.failing->store(true);
  ASSERT_FALSE(append());  // the sync is refused: broken
  EXPECT_FALSE(queue.Health().writable);
  const int syncs_before_reopening = disk.syncs->load();
  ASSERT_FALSE(append());  // the first reopening is tried at once, and refused
  const int syncs = disk.syncs->load();
  EXPECT_GT(syncs, syncs_before_reopening);
  for (int i = 0; i < 5; ++i) ASSERT_FALSE(append());
  EXPECT_EQ(disk.syncs->load(), syncs) << "tried again within the hour";
  disk.failing->store(false);
  ASSERT_FALSE(append());  // the disk works, but the hour has not passed
  EXPECT_EQ(queue.Health().reopened, 0u);
  EXPECT_FALSE(queue.Health().writable);
}

}  // namespace
}  // namespace yagura::pipeline

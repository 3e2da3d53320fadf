// EventStore: raw events kept for investigations, found by host, window and text without
// reading the blocks that cannot hold them; replays, torn tails, retention and a refusing disk.
#include "pipeline/event_store.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>

namespace yagura::pipeline {
namespace {

namespace fs = std::filesystem;

constexpr int64_t BASE = 1'795'000'000'000;  // 2026-11-18, a time in the past

class EventStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "yagura-events-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { fs::remove_all(dir_); }

  EventStoreOptions Options() const {
    EventStoreOptions options;
    options.dir = dir_.string();
    options.block_bytes = 2048;  // many blocks from few events
    return options;
  }

  std::unique_ptr<EventStore> Open(EventStoreOptions options) {
    auto store = EventStore::Open(std::move(options));
    EXPECT_TRUE(store) << store.error().ToString();
    return store ? std::move(*store) : nullptr;
  }
  std::unique_ptr<EventStore> Open() { return Open(Options()); }

  // Event `seq`: host "ws-<seq % hosts>", organisation "org-a" or "org-b" by parity, a second
  // apart from BASE, received a minute later.
  static void AddEvent(EventStore& store, uint64_t seq, int hosts = 10) {
    const std::string host = "ws-" + std::to_string(seq % hosts);
    const std::string org = seq % 2 == 0 ? "org-a" : "org-b";
    const int64_t time = BASE + static_cast<int64_t>(seq) * 1000;
    const std::string payload = R"({"EventID":4625,"Computer":")" + host + R"(","n":)" +
                                std::to_string(seq) +
                                (seq % 7 == 0 ? R"(,"note":"Mimikatz"})" : "}");
    Envelope envelope;
    envelope.kind = PayloadKind::kJson;
    envelope.org_id = org;
    envelope.sensor_id = "sensor-1";
    envelope.logsource = "product=windows,service=security";
    envelope.received_at = "2026-11-18T00:00:00.000Z";
    envelope.peer = "127.0.0.1:5000";
    envelope.transport = "http";
    envelope.payload = payload;
    std::string bytes;
    EncodeEnvelope(envelope, bytes);
    store.Add(seq, time, time + 60'000, host, org, bytes);
  }

  static std::vector<uint64_t> Seqs(const EventPage& page) {
    std::vector<uint64_t> seqs;
    for (const auto& event : page.events) seqs.push_back(event.seq);
    return seqs;
  }

  static EventPage Run(const EventStore& store, const EventQuery& query) {
    auto page = store.Query(query);
    EXPECT_TRUE(page) << page.error().ToString();
    return page ? std::move(*page) : EventPage{};
  }

  fs::path dir_;
};

TEST_F(EventStoreTest, EventsAreFoundByHostWindowTextAndOrganisationReadingOnlyLikelyBlocks) {
  auto store = Open();
  ASSERT_TRUE(store);
  for (uint64_t seq = 1; seq <= 2000; ++seq) AddEvent(*store, seq, 50);
  ASSERT_TRUE(store->Flush());
  const EventStoreStats stats = store->Stats();
  EXPECT_EQ(stats.events, 2000u);
  EXPECT_GT(stats.blocks, 20u);
  EXPECT_EQ(stats.last_seq, 2000u);

  EventQuery query;
  query.host = "WS-7";  // hosts match in any case
  query.limit = 1000;
  EventPage page = Run(*store, query);
  ASSERT_EQ(page.events.size(), 40u);
  for (const auto& event : page.events) {
    EXPECT_EQ(event.seq % 50, 7u);
    EXPECT_EQ(event.host, "ws-7");
    EXPECT_EQ(event.time_ms, BASE + static_cast<int64_t>(event.seq) * 1000);
    EXPECT_EQ(event.received_ms, event.time_ms + 60'000);
    EXPECT_EQ(event.sensor_id, "sensor-1");
    EXPECT_EQ(event.logsource, "product=windows,service=security");
    EXPECT_EQ(event.kind, PayloadKind::kJson);
    EXPECT_NE(event.payload.find("\"Computer\":\"ws-7\""), std::string::npos);
  }
  EXPECT_TRUE(
      std::is_sorted(page.events.begin(), page.events.end(),
                     [](const StoredEvent& a, const StoredEvent& b) { return a.seq < b.seq; }));
  // The blocks' filters leave most of them unread: each holds a few of the fifty hosts.
  EXPECT_GT(page.blocks_skipped, 0u);
  EXPECT_FALSE(page.more);

  // A window of event time reads only the blocks it meets.
  query = {};
  query.from = BASE + 100'000;
  query.to = BASE + 200'000;
  query.limit = 1000;
  page = Run(*store, query);
  EXPECT_EQ(page.events.size(), 100u);
  EXPECT_EQ(page.events.front().seq, 100u);
  EXPECT_EQ(page.events.back().seq, 199u);
  EXPECT_GT(page.blocks_skipped, stats.blocks / 2);

  // Text in the payload, in any case, within one organisation.
  query = {};
  query.text = "mimikatz";
  query.org_ids = {"org-a"};
  query.limit = 1000;
  page = Run(*store, query);
  std::vector<uint64_t> expected;
  for (uint64_t seq = 14; seq <= 2000; seq += 14) expected.push_back(seq);
  EXPECT_EQ(Seqs(page), expected);

  // An organisation of no event finds nothing.
  query = {};
  query.org_ids = {"org-c"};
  EXPECT_TRUE(Run(*store, query).events.empty());
}

TEST_F(EventStoreTest, PagesFollowEventTimeThenSequenceAndContinueAfterTheCursor) {
  auto store = Open();
  ASSERT_TRUE(store);
  // Arrival order is not time order: a late sensor sends older events after newer ones.
  for (uint64_t seq = 1; seq <= 300; ++seq) AddEvent(*store, seq);
  Envelope envelope;
  envelope.org_id = "org-a";
  envelope.payload = "late";
  std::string bytes;
  EncodeEnvelope(envelope, bytes);
  store->Add(301, BASE + 5'000, BASE + 400'000, "ws-5", "org-a", bytes);  // at seq 5's time
  ASSERT_TRUE(store->Flush());

  std::vector<std::pair<int64_t, uint64_t>> seen;
  EventQuery query;
  query.limit = 37;
  for (int pages = 0; pages < 20; ++pages) {
    EventPage page = Run(*store, query);
    for (const auto& event : page.events) seen.emplace_back(event.time_ms, event.seq);
    if (!page.more) break;
    query.after = std::make_pair(page.events.back().time_ms, page.events.back().seq);
  }
  ASSERT_EQ(seen.size(), 301u);
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
  EXPECT_EQ(std::set(seen.begin(), seen.end()).size(), 301u);
  EXPECT_EQ(seen[4], std::make_pair(BASE + 5'000, uint64_t{5}));
  EXPECT_EQ(seen[5], std::make_pair(BASE + 5'000, uint64_t{301}));
}

TEST_F(EventStoreTest, AReplayIsPassedOverAndAReopenedStoreKnowsWhereItStopped) {
  {
    auto store = Open();
    ASSERT_TRUE(store);
    for (uint64_t seq = 1; seq <= 100; ++seq) AddEvent(*store, seq);
    for (uint64_t seq = 50; seq <= 100; ++seq) AddEvent(*store, seq);  // replayed
    ASSERT_TRUE(store->Flush());
    EXPECT_EQ(store->Stats().events, 100u);
  }
  auto store = Open();
  ASSERT_TRUE(store);
  EXPECT_EQ(store->last_seq(), 100u);
  for (uint64_t seq = 90; seq <= 120; ++seq) AddEvent(*store, seq);  // a replay, then new
  ASSERT_TRUE(store->Flush());
  EventQuery query;
  query.limit = 1000;
  EventPage page = Run(*store, query);
  std::vector<uint64_t> expected;
  for (uint64_t seq = 1; seq <= 120; ++seq) expected.push_back(seq);
  EXPECT_EQ(Seqs(page), expected);
  EXPECT_TRUE(store->Stats().truncated_at.empty());
}

TEST_F(EventStoreTest, ATornOrCorruptTailIsCutOffAndTheBlocksBeforeItStay) {
  fs::path segment;
  uint64_t size_after_50 = 0;
  {
    auto store = Open();
    ASSERT_TRUE(store);
    for (uint64_t seq = 1; seq <= 50; ++seq) AddEvent(*store, seq);
    ASSERT_TRUE(store->Flush());
    for (const auto& entry : fs::directory_iterator(dir_)) segment = entry.path();
    size_after_50 = fs::file_size(segment);
    for (uint64_t seq = 51; seq <= 80; ++seq) AddEvent(*store, seq);
    ASSERT_TRUE(store->Flush());
    ASSERT_GT(fs::file_size(segment), size_after_50);
  }
  // A flipped bit in a body of the segment written last: that block and what follows go.
  {
    std::fstream file(segment, std::ios::in | std::ios::out | std::ios::binary);
    file.seekg(static_cast<std::streamoff>(size_after_50 - 3));
    const char byte = static_cast<char>(file.get());
    file.seekp(static_cast<std::streamoff>(size_after_50 - 3));
    file.put(static_cast<char>(byte ^ 0x10));
  }
  uint64_t kept_after_flip = 0;
  {
    auto store = Open();
    ASSERT_TRUE(store);
    const EventStoreStats stats = store->Stats();
    EXPECT_NE(stats.truncated_at.find("checksum"), std::string::npos) << stats.truncated_at;
    EXPECT_LT(stats.events, 50u);
    EXPECT_GT(stats.events, 0u);
    EXPECT_EQ(fs::file_size(segment), stats.bytes);
    kept_after_flip = stats.events;
  }
  // A crash in the middle of the last block's write.
  fs::resize_file(segment, fs::file_size(segment) - 10);
  auto store = Open();
  ASSERT_TRUE(store);
  const EventStoreStats stats = store->Stats();
  EXPECT_NE(stats.truncated_at.find("cut short"), std::string::npos) << stats.truncated_at;
  EXPECT_LT(stats.events, kept_after_flip);
  // The detector replays what the store lost; it is taken again.
  for (uint64_t seq = store->last_seq() + 1; seq <= 80; ++seq) AddEvent(*store, seq);
  ASSERT_TRUE(store->Flush());
  EventQuery query;
  query.limit = 1000;
  EXPECT_EQ(Run(*store, query).events.size(), 80u);
}

TEST_F(EventStoreTest, AReaderBesideTheWriterChangesNothingAndLeavesOutABlockBeingWritten) {
  auto writer = Open();
  ASSERT_TRUE(writer);
  for (uint64_t seq = 1; seq <= 60; ++seq) AddEvent(*writer, seq);
  ASSERT_TRUE(writer->Flush());
  fs::path segment;
  for (const auto& entry : fs::directory_iterator(dir_)) segment = entry.path();
  // Half a block, as the writer's next write looks to a reader while it happens.
  const auto whole = fs::file_size(segment);
  {
    std::ofstream file(segment, std::ios::binary | std::ios::app);
    file << "YEB1 half a header";
  }
  EventStoreOptions options = Options();
  options.read_only = true;
  auto reader = Open(options);
  ASSERT_TRUE(reader);
  EXPECT_TRUE(reader->Stats().truncated_at.empty());
  EXPECT_EQ(fs::file_size(segment), whole + 18);  // nothing cut
  EventQuery query;
  query.limit = 100;
  EXPECT_EQ(Run(*reader, query).events.size(), 60u);
}

TEST_F(EventStoreTest, ADamagedBlockInAnOlderSegmentIsCountedAndPassedOver) {
  EventStoreOptions options = Options();
  options.segment_bytes = 4096;  // a segment every few blocks
  {
    auto store = Open(options);
    ASSERT_TRUE(store);
    for (uint64_t seq = 1; seq <= 400; ++seq) AddEvent(*store, seq);
    ASSERT_TRUE(store->Flush());
    ASSERT_GT(store->Stats().segments, 3u);
  }
  std::vector<fs::path> segments;
  for (const auto& entry : fs::directory_iterator(dir_)) segments.push_back(entry.path());
  std::sort(segments.begin(), segments.end());
  {
    // Near the end of the first segment: inside its last block's body.
    std::fstream file(segments.front(), std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(static_cast<std::streamoff>(fs::file_size(segments.front()) - 5));
    file.put('\x01');
  }
  auto store = Open(options);
  ASSERT_TRUE(store);
  EventQuery query;
  query.limit = 1000;
  EventPage page = Run(*store, query);
  EXPECT_EQ(page.blocks_damaged, 1u);
  EXPECT_LT(page.events.size(), 400u);
  EXPECT_GT(page.events.size(), 300u);
}

TEST_F(EventStoreTest, RetentionAndTheSizeLimitRemoveWholeOldSegmentsButNeverTheCurrentOne) {
  EventStoreOptions options = Options();
  options.segment_bytes = 4096;
  options.retention_ms = 3'600'000;
  auto store = Open(options);
  ASSERT_TRUE(store);
  for (uint64_t seq = 1; seq <= 400; ++seq) AddEvent(*store, seq);
  ASSERT_TRUE(store->Flush());
  store->WaitForCompactions();  // the sizes compared below are those after grouping by host
  const EventStoreStats before = store->Stats();
  ASSERT_GT(before.segments, 3u);

  // Within the retention nothing goes.
  auto freed = store->Trim(BASE + 400'000);
  ASSERT_TRUE(freed);
  EXPECT_EQ(*freed, 0u);
  // A day later everything but the segment being written goes.
  freed = store->Trim(BASE + 24 * 3'600'000LL);
  ASSERT_TRUE(freed);
  EXPECT_GT(*freed, 0u);
  const EventStoreStats after = store->Stats();
  EXPECT_EQ(after.segments, 1u);
  EXPECT_EQ(before.bytes - after.bytes, *freed);
  EventQuery query;
  query.limit = 1000;
  EventPage page = Run(*store, query);
  EXPECT_EQ(page.events.size(), after.events);
  EXPECT_EQ(page.events.back().seq, 400u);
  // New events go on after it.
  AddEvent(*store, 401);
  ASSERT_TRUE(store->Flush());
  EXPECT_EQ(Run(*store, query).events.back().seq, 401u);

  // The size limit: the oldest go first until the store fits.
  fs::remove_all(dir_);
  options.retention_ms = 0;
  options.max_total_bytes = 10'000;
  store = Open(options);
  ASSERT_TRUE(store);
  for (uint64_t seq = 1; seq <= 400; ++seq) AddEvent(*store, seq);
  ASSERT_TRUE(store->Flush());
  store->WaitForCompactions();
  ASSERT_TRUE(store->Trim(BASE));
  const EventStoreStats limited = store->Stats();
  EXPECT_LE(limited.bytes, 10'000u + options.segment_bytes);
  EXPECT_GT(limited.segments, 1u);
  page = Run(*store, query);
  EXPECT_EQ(page.events.back().seq, 400u);
  EXPECT_GT(page.events.front().seq, 1u);
}

TEST_F(EventStoreTest, SealedSegmentsAreGroupedByHostSoAHostsQueryReadsFewBlocks) {
  EventStoreOptions options = Options();
  options.block_bytes = 4096;
  options.segment_bytes = 64 * 1024;
  options.compact = false;
  auto store = Open(options);
  ASSERT_TRUE(store);
  for (uint64_t seq = 1; seq <= 20000; ++seq) AddEvent(*store, seq, 200);
  ASSERT_TRUE(store->Flush());
  ASSERT_GT(store->Stats().segments, 3u);
  EventQuery query;
  query.host = "ws-42";
  query.limit = 1000;
  const EventPage before = Run(*store, query);
  ASSERT_EQ(before.events.size(), 100u);
  EventQuery all;
  all.limit = 30000;
  const EventPage everything = Run(*store, all);
  store.reset();

  // A store opened with grouping on groups what was sealed before.
  options.compact = true;
  store = Open(options);
  ASSERT_TRUE(store);
  store->WaitForCompactions();
  EventStoreStats stats = store->Stats();
  EXPECT_EQ(stats.segments_compacted, stats.segments - 1);
  EXPECT_TRUE(stats.last_compaction_error.empty()) << stats.last_compaction_error;
  EXPECT_EQ(stats.events, 20000u);
  const EventPage after = Run(*store, query);
  EXPECT_EQ(Seqs(after), Seqs(before));
  // Each block now holds a few of the hosts: most of them are left unread.
  EXPECT_LT(after.blocks_read * 2, before.blocks_read)
      << after.blocks_read << " blocks read after grouping, " << before.blocks_read << " before";
  // The block or two holding the host in each segment, and a filter's false positive now and
  // then.
  EXPECT_LE(after.blocks_read, 3 * stats.segments);
  // Nothing was lost, changed or doubled, and pages still follow event time.
  const EventPage regrouped = Run(*store, all);
  ASSERT_EQ(regrouped.events.size(), everything.events.size());
  for (size_t i = 0; i < regrouped.events.size(); ++i) {
    ASSERT_EQ(regrouped.events[i].seq, everything.events[i].seq);
    ASSERT_EQ(regrouped.events[i].time_ms, everything.events[i].time_ms);
    ASSERT_EQ(regrouped.events[i].received_ms, everything.events[i].received_ms);
    ASSERT_EQ(regrouped.events[i].host, everything.events[i].host);
    ASSERT_EQ(regrouped.events[i].org_id, everything.events[i].org_id);
    ASSERT_EQ(regrouped.events[i].payload, everything.events[i].payload);
  }
  // The organisation filter still works on grouped blocks.
  EventQuery org;
  org.org_ids = {"org-b"};
  org.limit = 30000;
  EXPECT_EQ(Run(*store, org).events.size(), 10000u);

  // New events go on after the grouped ones, and a replay is still passed over.
  for (uint64_t seq = 19990; seq <= 20010; ++seq) AddEvent(*store, seq, 200);
  ASSERT_TRUE(store->Flush());
  EXPECT_EQ(store->Stats().events, 20010u);
  store->WaitForCompactions();  // of a segment those events may have sealed
  store.reset();

  // Grouped segments stay grouped; a rewrite a crash interrupted is removed.
  std::ofstream(dir_ / "00000000000000000001.events.packing") << "half a rewrite";
  store = Open(options);
  ASSERT_TRUE(store);
  store->WaitForCompactions();
  EXPECT_EQ(store->last_seq(), 20010u);
  EXPECT_EQ(store->Stats().segments_compacted, 0u);  // nothing left to group
  EXPECT_FALSE(fs::exists(dir_ / "00000000000000000001.events.packing"));
  EXPECT_EQ(Run(*store, query).events.size(), 100u);
}

TEST_F(EventStoreTest, ABlockTheDiskRefusesIsDroppedAndCountedAndTheStoreGoesOn) {
  EventStoreOptions options = Options();
  bool refuse = false;
  options.write_file = [&refuse](int fd, const char* data, size_t size, uint64_t offset) {
    if (refuse) {
      // Half of it reaches the file before the disk fills up.
      (void)::pwrite(fd, data, size / 2, static_cast<off_t>(offset));
      errno = ENOSPC;
      return false;
    }
    return ::pwrite(fd, data, size, static_cast<off_t>(offset)) == static_cast<ssize_t>(size);
  };
  auto store = Open(options);
  ASSERT_TRUE(store);
  for (uint64_t seq = 1; seq <= 10; ++seq) AddEvent(*store, seq);
  ASSERT_TRUE(store->Flush());
  refuse = true;
  for (uint64_t seq = 11; seq <= 20; ++seq) AddEvent(*store, seq);
  auto flushed = store->Flush();
  ASSERT_FALSE(flushed);
  EXPECT_NE(flushed.error().message.find("No space left"), std::string::npos)
      << flushed.error().message;
  EventStoreStats stats = store->Stats();
  EXPECT_EQ(stats.events_dropped, 10u);
  EXPECT_FALSE(stats.last_error.empty());
  refuse = false;
  for (uint64_t seq = 21; seq <= 30; ++seq) AddEvent(*store, seq);
  ASSERT_TRUE(store->Flush());
  stats = store->Stats();
  EXPECT_TRUE(stats.last_error.empty());
  EXPECT_EQ(stats.events, 20u);
  store.reset();
  // What half reached the file was cut off: the file reads whole.
  store = Open(options);
  ASSERT_TRUE(store);
  EXPECT_TRUE(store->Stats().truncated_at.empty());
  EventQuery query;
  query.limit = 100;
  EventPage page = Run(*store, query);
  ASSERT_EQ(page.events.size(), 20u);
  EXPECT_EQ(page.events[9].seq, 10u);
  EXPECT_EQ(page.events[10].seq, 21u);
}

}  // namespace
}  // namespace yagura::pipeline

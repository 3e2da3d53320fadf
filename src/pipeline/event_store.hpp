// EventStore: the raw events the centre received, kept for investigations.
//
// Detection reads the spool and lets it go; an investigator asks weeks later what else host X
// did in the hour around an alert. The event store keeps every processed event (its envelope:
// organisation, sensor, logsource, arrival, payload) with its host and event time, written by
// the detector in spool order, and answers "these organisations, this host, this window of
// event time, this text" without reading what cannot match.
//
// Layout, in the spirit of log stores that index chunks rather than events: segment files
// (<first sequence number>.events), each a run of blocks. A block holds about `block_bytes` of
// events, compressed with zstd, behind a header that says what it holds: the sequence numbers,
// the smallest and largest event and arrival times, and a Bloom filter over its hosts and
// organisations. The headers stay in memory (a few hundred bytes per thousand events), so a
// query decompresses only the blocks whose time range meets its window and whose filter may
// hold its host. A block is written whole, with checksums over header and body; reopening cuts
// a torn tail off. Segments end after `segment_bytes` or `segment_ms`, and whole segments go
// when their newest arrival is older than the retention or the store is over its size.
//
// The store follows the spool: it keeps the highest sequence number it holds and passes over
// records at or below it, so the detector's replay after a crash stores nothing twice. The
// detector flushes it before saving its own position, so nothing the detector has passed is
// missing. A block the disk refuses is dropped and counted, and the store goes on: detection
// does not stop for the investigators' copy (the spool still holds the events until processed).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "core/result.hpp"
#include "pipeline/envelope.hpp"

namespace yagura::pipeline {

struct EventStoreOptions {
  std::string dir;
  uint64_t block_bytes = 1u << 20;        // uncompressed events per block
  uint64_t segment_bytes = 256ull << 20;  // compressed bytes per segment file
  int64_t segment_ms = 3'600'000;         // a segment covers at most this much wall-clock time
  int64_t retention_ms = 30LL * 24 * 3'600'000;  // 0: kept until the size limit
  uint64_t max_total_bytes = 16ull << 30;
  int compression_level = 1;
  // Opened to read beside the service that writes (`yagura events`): nothing is cut, removed
  // or rewritten, and a block still being written is left out. Add and Trim must not be used.
  bool read_only = false;
  // Sealed segments are rewritten in the background with their events grouped by host
  // (EventStore::Compact), in windows of this many uncompressed bytes.
  bool compact = true;
  uint64_t compaction_window_bytes = 64ull << 20;
  // How a block reaches its file: pwrite(2) in full when empty. Returns false with errno set.
  // Tests put a failing one here to see what the store does when the disk refuses a write.
  std::function<bool(int fd, const char* data, size_t size, uint64_t offset)> write_file;
};

// One stored event, as a query returns it.
struct StoredEvent {
  uint64_t seq = 0;     // spool sequence number
  int64_t time_ms = 0;  // event time (the arrival when the event has none)
  int64_t received_ms = 0;
  std::string host;  // "" when the event names none
  std::string org_id;
  std::string sensor_id;
  std::string logsource;
  std::string received_at;
  std::string peer;
  std::string transport;
  PayloadKind kind = PayloadKind::kJson;
  std::string payload;
};

struct EventQuery {
  // Organisations whose events may be returned; empty: every organisation.
  std::vector<std::string> org_ids;
  std::optional<std::string> host;  // exact, case-insensitive for ASCII
  std::optional<int64_t> from;      // time_ms >= from
  std::optional<int64_t> to;        // time_ms < to
  std::optional<std::string> text;  // in the payload, case-insensitive for ASCII
  // The (time_ms, seq) of the previous page's last event: the page continues after it.
  std::optional<std::pair<int64_t, uint64_t>> after;
  size_t limit = 100;
};

struct EventPage {
  std::vector<StoredEvent> events;  // by (time_ms, seq)
  bool more = false;
  uint64_t blocks_read = 0;     // decompressed
  uint64_t blocks_skipped = 0;  // left unread by their headers
  uint64_t blocks_damaged = 0;  // whose body failed its checksum or did not decompress
};

struct EventStoreStats {
  uint64_t segments = 0;
  uint64_t blocks = 0;
  uint64_t events = 0;
  uint64_t bytes = 0;  // on the disk
  uint64_t last_seq = 0;
  int64_t oldest_received_ms = 0;  // 0 when empty
  int64_t newest_received_ms = 0;
  uint64_t events_dropped = 0;   // in blocks the disk refused
  std::string last_error;        // the last write that failed, "" if none did
  uint64_t truncated_bytes = 0;  // a torn tail cut off when the store was opened
  std::string truncated_at;
  uint64_t segments_compacted = 0;  // since the store was opened
  std::string last_compaction_error;
};

class EventStore {
 public:
  static Result<std::unique_ptr<EventStore>> Open(EventStoreOptions options);
  ~EventStore();
  EventStore(const EventStore&) = delete;
  EventStore& operator=(const EventStore&) = delete;

  // Adds one event (one writer: the detector). `envelope` is the spooled record as it was
  // appended (EncodeEnvelope). Records at or below last_seq() are passed over: a replay.
  void Add(uint64_t seq, int64_t time_ms, int64_t received_ms, std::string_view host,
           std::string_view org_id, std::string_view envelope);
  // Writes the block in hand and makes the segment durable. An error says what the disk
  // refused; the events of that block are counted as dropped.
  Result<void> Flush();
  // Removes segments past the retention or beyond the size limit, oldest first; returns the
  // bytes freed. Never the segment being written.
  Result<uint64_t> Trim(int64_t now_ms);

  // Any thread.
  [[nodiscard]] Result<EventPage> Query(const EventQuery& query) const;
  [[nodiscard]] EventStoreStats Stats() const;
  [[nodiscard]] uint64_t last_seq() const { return last_seq_; }
  // Returns once no sealed segment waits to be grouped by host (tests, benchmarks).
  void WaitForCompactions();

  struct Segment;
  struct BlockInfo;
  struct BlockBuilder;

 private:
  explicit EventStore(EventStoreOptions options);
  Result<void> Recover();
  Result<void> WriteBlock();
  Result<void> StartSegment(uint64_t first_seq, int64_t now_ms);
  void QueueCompaction(std::shared_ptr<Segment> segment);
  void RunCompactions();
  Result<void> Compact(const std::shared_ptr<Segment>& segment);

  EventStoreOptions options_;
  // The block being filled (writer only).
  std::unique_ptr<BlockBuilder> block_;
  std::string compressed_;
  void* compressor_ = nullptr;  // ZSTD_CCtx
  bool unsynced_ = false;
  std::atomic<uint64_t> last_seq_{0};

  // Segments and their blocks: read by queries, changed by the writer.
  mutable std::shared_mutex mutex_;
  std::vector<std::shared_ptr<Segment>> segments_;  // oldest first; the last is written
  uint64_t events_dropped_ = 0;
  std::string last_error_;
  uint64_t truncated_bytes_ = 0;
  std::string truncated_at_;
  std::string last_compaction_error_;

  // Sealed segments wait here for the compaction thread (started with the first).
  std::mutex compaction_mutex_;
  std::condition_variable compaction_wake_;
  std::deque<std::shared_ptr<Segment>> compaction_queue_;
  bool compacting_ = false;
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> segments_compacted_{0};
  std::thread compactor_;
};

}  // namespace yagura::pipeline

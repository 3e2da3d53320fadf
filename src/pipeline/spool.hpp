// Spool: the durable, checksummed, segmented log that live ingest appends to before it
// acknowledges (docs/architecture.md, decision 3).
//
// Records go to numbered segment files (<first sequence number>.spool). Each record is framed
// as magic, length, sequence number and a CRC-32C over the sequence number and payload, so a
// torn write or a flipped bit is found when the spool is reopened: the tail from the first bad
// record on is cut off, and everything before it stays. An append is all or nothing: every
// record of a batch but its last is marked as continued (its own magic, and its checksum
// differs too, so a flipped mark is found as well), and reopening also cuts a batch whose last
// record never reached the file, back to the end of the batch before it. A write that fails
// half-way is undone at once. So a request the centre did not acknowledge leaves all of its
// events or none, never its first few. Sequence numbers a consumer's checkpoint has passed are
// never given again, even when the machine went down before their records reached the disk:
// the spool then goes on from the checkpoint, leaving a gap between two segments. Consumers read
// from a sequence number and save named checkpoints (written to a temporary file and renamed, so a
// checkpoint is either the old or the new one). Segments every checkpoint has passed can be
// removed. When the spool holds `max_total_bytes`, Full() says so and the caller slows its senders
// down instead of losing events.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace yagura::pipeline {

// When appended records reach the disk.
enum class FsyncPolicy {
  kEveryAppend,  // fdatasync before Append returns: nothing acknowledged is ever lost
  kInterval,     // at most every `fsync_interval_ms`: a power loss can lose that window, but
                 // never what a consumer has read (Read hands out synced records only)
  kNever,        // left to the kernel: only a process crash is survived, not a power loss
};

struct SpoolOptions {
  std::string dir;
  uint64_t segment_bytes = 64ull << 20;
  uint64_t max_total_bytes = 8ull << 30;
  FsyncPolicy fsync = FsyncPolicy::kEveryAppend;
  int64_t fsync_interval_ms = 200;
  uint32_t max_record_bytes = 16u << 20;
  // How a segment's data is made durable: fdatasync(fd) when empty. Returns 0 on success, or
  // -1 with errno set. Tests put a failing one here to see what the spool does when the disk
  // refuses a sync, which no real disk does on demand.
  std::function<int(int fd)> sync_file;
};

// Why the spool was opened the way it was (for logs and metrics).
struct SpoolRecovery {
  uint64_t segments = 0;
  uint64_t records = 0;
  uint64_t truncated_bytes = 0;  // a torn or corrupt tail that was cut off
  std::string truncated_at;      // "<segment file>@<offset>: <reason>", empty when clean
  // Whole records cut off with it because their batch was incomplete (counted in `records`
  // neither, nor in `segments` when a segment held nothing else and was removed).
  uint64_t incomplete_batch_records = 0;
  // Records a checkpoint had passed that were not on the disk (a tail lost with the machine,
  // under an fsync policy other than every append): their numbers, which are not given again.
  // Zero when none were.
  uint64_t lost_from = 0;
  uint64_t lost_to = 0;
};

struct SpoolRecord {
  uint64_t seq = 0;
  std::string payload;
};

// Records read into buffers that are kept from read to read: a consumer that reads batch after
// batch (the detector) then allocates nothing per record. The payloads are views into `chunks`,
// valid until the next read into the same SpoolReadBuffer.
struct SpoolReadBuffer {
  struct Record {
    uint64_t seq = 0;
    std::string_view payload;
  };
  std::vector<Record> records;
  std::vector<std::string> chunks;  // the bytes read, a record wholly inside one
};

class Spool {
 public:
  // Bytes each record takes besides its payload (framing and checksum).
  static constexpr uint64_t RECORD_OVERHEAD_BYTES = 20;

  static Result<std::unique_ptr<Spool>> Open(SpoolOptions options);
  ~Spool();
  Spool(const Spool&) = delete;
  Spool& operator=(const Spool&) = delete;

  // Appends the records in order, as one batch, and returns the sequence number of the last
  // one; durable as the fsync policy says when it returns. Fails, appending nothing, when a
  // record is larger than max_record_bytes, the spool is full or a write fails (what was
  // written is cut off again; if even that fails, or the disk did not take a sync, every later
  // append fails until the spool is reopened, which recovers it).
  Result<uint64_t> Append(std::span<const std::string_view> records);
  Result<void> Sync();

  // Reads up to `max_records` records with sequence numbers >= `from`, in order. Under
  // kInterval only records on the disk (below readable_next_seq()), syncing first when the
  // interval has passed: a consumer acts on what it reads (alerts named after the records'
  // numbers), and a record it read must not be lost after.
  Result<std::vector<SpoolRecord>> Read(uint64_t from, size_t max_records) const;
  Result<void> Read(uint64_t from, size_t max_records, SpoolReadBuffer& out) const;

  // Named consumer positions: the next sequence number the consumer has not processed.
  Result<void> SaveCheckpoint(std::string_view name, uint64_t next_seq);
  [[nodiscard]] uint64_t LoadCheckpoint(std::string_view name) const;  // first_seq() if none

  // Removes whole segments whose records all lie below `next_seq`; returns bytes freed.
  Result<uint64_t> Trim(uint64_t next_seq);
  // The same, but keeps segments written to less than `retention_ms` before `now_ms` (processed
  // events kept for a while, e.g. to replay them into new rules); oldest first, so it stops at
  // the first segment still retained.
  Result<uint64_t> Trim(uint64_t next_seq, int64_t retention_ms, int64_t now_ms);

  [[nodiscard]] uint64_t first_seq() const;  // oldest record kept
  [[nodiscard]] uint64_t next_seq() const;   // the number the next record will get
  // One past the last record known to be on the disk.
  [[nodiscard]] uint64_t synced_next_seq() const { return synced_next_seq_; }
  // One past the last record Read hands out now (synced_next_seq() under kInterval).
  [[nodiscard]] uint64_t readable_next_seq() const {
    return options_.fsync == FsyncPolicy::kInterval ? synced_next_seq_ : next_seq_;
  }
  // Under kInterval with records not yet on the disk: milliseconds until a sync is due (0: it
  // is); otherwise -1.
  [[nodiscard]] int64_t SyncDueInMs() const;
  [[nodiscard]] uint64_t total_bytes() const;
  [[nodiscard]] bool Full() const { return total_bytes() >= options_.max_total_bytes; }
  [[nodiscard]] uint64_t max_total_bytes() const { return options_.max_total_bytes; }
  [[nodiscard]] const SpoolRecovery& recovery() const { return recovery_; }

  // After a sync the disk refused, or a failed write that could not be undone, the spool
  // refuses appends: what the kernel says about the file can no longer be trusted. Why, for
  // health checks and the refusals; empty while it is not broken.
  [[nodiscard]] bool broken() const { return !broken_reason_.empty(); }
  [[nodiscard]] const std::string& broken_reason() const { return broken_reason_; }
  // Reads the spool again from the disk, as Open does (cutting what is torn or incomplete), and
  // takes appends again. On failure the spool stays as it was, still broken. Readers go on from
  // their positions: under every fsync policy but kNever they were handed only records that had
  // reached the disk.
  Result<void> Reopen();

 private:
  explicit Spool(SpoolOptions options);
  struct Segment;
  Result<void> Recover();
  Result<void> StartSegment(uint64_t first_seq);
  // The highest position any consumer saved (0: none).
  [[nodiscard]] uint64_t HighestCheckpoint() const;
  // Cuts off everything after the end of the last whole batch (Recover).
  Result<void> CutIncompleteBatch(size_t segment_index, uint64_t offset, uint64_t end_seq);
  // Undoes a batch Append could not finish: the segments it started are removed and the one
  // it started in is cut back to `bytes` (false: that failed too).
  bool UndoAppend(size_t segments_before, uint64_t bytes_before, uint64_t next_seq_before);

  SpoolOptions options_;
  // Why appends are refused until the spool is reopened (empty: they are not). Mutable: a sync
  // from Read can fail too.
  mutable std::string broken_reason_;
  // Syncs one segment file through options_.sync_file.
  [[nodiscard]] bool SyncFile(int fd) const;
  std::vector<std::unique_ptr<Segment>> segments_;  // oldest first; the last is written
  uint64_t next_seq_ = 1;
  // Sync bookkeeping, mutable: Read syncs (SyncNow) under kInterval.
  Result<void> SyncNow() const;
  mutable int64_t last_sync_ms_ = 0;
  mutable uint64_t synced_next_seq_ = 1;
  SpoolRecovery recovery_;
  // Where the last Read() stopped: the next record's sequence number and byte offset.
  struct ReadCursor {
    uint64_t segment_first_seq = 0;
    uint64_t seq = 0;
    uint64_t offset = 0;
  };
  mutable ReadCursor read_cursor_;
};

// CRC-32C (Castagnoli), with SSE 4.2 instructions.
uint32_t Crc32c(uint32_t crc, const void* data, size_t size);

}  // namespace yagura::pipeline

// IngestQueue: the one door into the spool for every source, and the detector's view of it.
//
// HTTP handlers, syslog connections and file tailers append from their own threads; the
// detector reads from another. The spool itself is single-threaded, so every call goes through
// one mutex here, held only for the append or read itself. Appending wakes the detector, which
// otherwise sleeps instead of polling. When the spool is full, Append refuses with
// IngestQueue::FULL as the message and appends nothing: the source then slows its sender down
// (TCP stops reading, HTTP answers 503 with Retry-After); UDP, which cannot slow anyone down,
// drops and counts.
//
// A spool the disk failed (Spool::broken) refuses appends; the queue reopens it, at most every
// `reopen_interval`, when an append comes, so ingest resumes by itself once the disk takes
// writes again (a sender retries after the 503's Retry-After). Health() says how it stands, for
// GET /healthz.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "pipeline/spool.hpp"

namespace yagura::pipeline {

// What GET /healthz reports of live ingest.
struct IngestHealth {
  bool writable = true;  // false: the spool is broken and could not be reopened yet
  std::string problem;   // why not, when not writable
  bool full = false;     // senders are being slowed down (an append refused as FULL)
  uint64_t spool_bytes = 0;
  uint64_t spool_limit_bytes = 0;
  uint64_t next_seq = 0;
  uint64_t reopened = 0;  // times a broken spool was reopened since start
};

class IngestQueue {
 public:
  static constexpr std::string_view FULL = "spool full";
  static constexpr std::chrono::milliseconds DEFAULT_REOPEN_INTERVAL{5000};

  explicit IngestQueue(Spool& spool,
                       std::chrono::milliseconds reopen_interval = DEFAULT_REOPEN_INTERVAL)
      : spool_(spool), reopen_interval_(reopen_interval) {}

  // Appends encoded envelopes (pipeline/envelope.hpp) as one batch; returns the sequence number
  // of the last. Fails with message FULL, appending nothing, when the spool is full.
  Result<uint64_t> Append(std::span<const std::string_view> records);
  [[nodiscard]] bool Full() const;

  // Detector side.
  Result<std::vector<SpoolRecord>> Read(uint64_t from, size_t max_records) const;
  Result<void> Read(uint64_t from, size_t max_records, SpoolReadBuffer& out) const;
  // Waits until a record with sequence number >= `seq` can be read (Spool::readable_next_seq:
  // under the interval fsync policy, once it is synced), Close() is called or `timeout`
  // passes; true when such a record can be read.
  bool WaitFor(uint64_t seq, std::chrono::milliseconds timeout);
  Result<void> SaveCheckpoint(std::string_view name, uint64_t next_seq);
  [[nodiscard]] uint64_t LoadCheckpoint(std::string_view name) const;
  Result<uint64_t> Trim(uint64_t next_seq, int64_t retention_ms = 0, int64_t now_ms = 0);
  Result<void> Sync();
  [[nodiscard]] uint64_t next_seq() const;
  [[nodiscard]] uint64_t first_seq() const;
  [[nodiscard]] uint64_t total_bytes() const;
  [[nodiscard]] IngestHealth Health() const;

  // Wakes every waiter; later WaitFor calls return at once.
  void Close();

 private:
  // A broken spool reopened if the last try was `reopen_interval_` ago; false: still broken.
  bool ReopenIfDue();

  Spool& spool_;
  const std::chrono::milliseconds reopen_interval_;
  std::chrono::steady_clock::time_point last_reopen_try_{};
  uint64_t reopened_ = 0;
  // The spool's size when an append was last refused as FULL (none: the last append was
  // taken): the spool is still too full for senders while it holds as much, though below its
  // limit.
  std::optional<uint64_t> refused_full_at_bytes_;
  mutable std::mutex mutex_;
  std::condition_variable appended_;
  bool closed_ = false;
};

}  // namespace yagura::pipeline

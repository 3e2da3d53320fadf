// IngestQueue: the one door into the spool for every source, and the detector's view of it.
//
// HTTP handlers, syslog connections and file tailers append from their own threads; the
// detector reads from another. The spool itself is single-threaded, so every call goes through
// one mutex here, held only for the append or read itself. Appending wakes the detector, which
// otherwise sleeps instead of polling. When the spool is full, Append refuses with
// IngestQueue::FULL as the message and appends nothing: the source then slows its sender down
// (TCP stops reading, HTTP answers 503 with Retry-After); UDP, which cannot slow anyone down,
// drops and counts.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <span>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "pipeline/spool.hpp"

namespace yagura::pipeline {

class IngestQueue {
 public:
  static constexpr std::string_view FULL = "spool full";

  explicit IngestQueue(Spool& spool) : spool_(spool) {}

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

  // Wakes every waiter; later WaitFor calls return at once.
  void Close();

 private:
  Spool& spool_;
  mutable std::mutex mutex_;
  std::condition_variable appended_;
  bool closed_ = false;
};

}  // namespace yagura::pipeline

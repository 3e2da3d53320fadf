// IngestQueue (see ingest_queue.hpp).
#include "pipeline/ingest_queue.hpp"

#include <cstdio>
#include <string>

namespace yagura::pipeline {
namespace {

uint64_t BatchBytes(std::span<const std::string_view> records) {
  uint64_t bytes = 0;
  for (std::string_view record : records) bytes += Spool::RECORD_OVERHEAD_BYTES + record.size();
  return bytes;
}

}  // namespace

bool IngestQueue::ReopenIfDue() {
  if (!spool_.broken()) return true;
  const auto now = std::chrono::steady_clock::now();
  if (last_reopen_try_ != std::chrono::steady_clock::time_point{} &&
      now - last_reopen_try_ < reopen_interval_)
    return false;
  last_reopen_try_ = now;
  if (auto reopened = spool_.Reopen(); !reopened) {
    std::fprintf(stderr, "yagura: the ingest spool could not be reopened: %s\n",
                 reopened.error().message.c_str());
    return false;
  }
  ++reopened_;
  std::fprintf(stderr, "yagura: the ingest spool was reopened and takes events again\n");
  if (const SpoolRecovery& recovery = spool_.recovery(); !recovery.truncated_at.empty()) {
    std::fprintf(stderr, "yagura: reopening cut the spool's tail (%s)\n",
                 recovery.truncated_at.c_str());
  }
  return true;
}

Result<uint64_t> IngestQueue::Append(std::span<const std::string_view> records) {
  Result<uint64_t> appended;
  {
    std::lock_guard lock(mutex_);
    if (!ReopenIfDue()) return Fail(spool_.broken_reason());
    if (spool_.Full()) {
      refused_full_at_bytes_ = spool_.total_bytes();
      return Fail(std::string(FULL));
    }
    appended = spool_.Append(records);
    // The spool also refuses a batch that would take it past its limit: the same condition
    // for the sources, which slow their senders down on FULL alone.
    if (!appended && spool_.total_bytes() + BatchBytes(records) > spool_.max_total_bytes()) {
      refused_full_at_bytes_ = spool_.total_bytes();
      return Fail(std::string(FULL));
    }
    if (appended) refused_full_at_bytes_.reset();
  }
  if (appended) appended_.notify_all();
  return appended;
}

bool IngestQueue::Full() const {
  std::lock_guard lock(mutex_);
  return spool_.Full();
}

Result<std::vector<SpoolRecord>> IngestQueue::Read(uint64_t from, size_t max_records) const {
  std::lock_guard lock(mutex_);
  return spool_.Read(from, max_records);
}

Result<void> IngestQueue::Read(uint64_t from, size_t max_records, SpoolReadBuffer& out) const {
  std::lock_guard lock(mutex_);
  return spool_.Read(from, max_records, out);
}

bool IngestQueue::WaitFor(uint64_t seq, std::chrono::milliseconds timeout) {
  // Under the interval fsync policy a record becomes readable once synced: by an append after
  // the interval, or here when the interval passes with no append to do it.
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::unique_lock lock(mutex_);
  while (!closed_ && spool_.readable_next_seq() <= seq) {
    const int64_t due_ms = spool_.SyncDueInMs();
    if (due_ms == 0) {
      if (auto synced = spool_.Sync(); !synced) {
        // Reported by the next read; tried again after the timeout, not in a loop.
        appended_.wait_until(lock, deadline, [&] { return closed_; });
        return false;
      }
      continue;
    }
    auto wake = deadline;
    if (due_ms > 0)
      wake = std::min(wake, std::chrono::steady_clock::now() + std::chrono::milliseconds(due_ms));
    if (appended_.wait_until(lock, wake) == std::cv_status::timeout &&
        std::chrono::steady_clock::now() >= deadline)
      break;
  }
  return spool_.readable_next_seq() > seq;
}

Result<void> IngestQueue::SaveCheckpoint(std::string_view name, uint64_t next_seq) {
  std::lock_guard lock(mutex_);
  return spool_.SaveCheckpoint(name, next_seq);
}

uint64_t IngestQueue::LoadCheckpoint(std::string_view name) const {
  std::lock_guard lock(mutex_);
  return spool_.LoadCheckpoint(name);
}

Result<uint64_t> IngestQueue::Trim(uint64_t next_seq, int64_t retention_ms, int64_t now_ms) {
  std::lock_guard lock(mutex_);
  return spool_.Trim(next_seq, retention_ms, now_ms);
}

Result<void> IngestQueue::Sync() {
  std::lock_guard lock(mutex_);
  return spool_.Sync();
}

uint64_t IngestQueue::next_seq() const {
  std::lock_guard lock(mutex_);
  return spool_.next_seq();
}

uint64_t IngestQueue::first_seq() const {
  std::lock_guard lock(mutex_);
  return spool_.first_seq();
}

uint64_t IngestQueue::total_bytes() const {
  std::lock_guard lock(mutex_);
  return spool_.total_bytes();
}

IngestHealth IngestQueue::Health() const {
  std::lock_guard lock(mutex_);
  IngestHealth health;
  health.writable = !spool_.broken();
  health.problem = spool_.broken_reason();
  health.full = spool_.Full() ||
                (refused_full_at_bytes_ && spool_.total_bytes() >= *refused_full_at_bytes_);
  health.spool_bytes = spool_.total_bytes();
  health.spool_limit_bytes = spool_.max_total_bytes();
  health.next_seq = spool_.next_seq();
  health.reopened = reopened_;
  return health;
}

void IngestQueue::Close() {
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
  }
  appended_.notify_all();
}

}  // namespace yagura::pipeline

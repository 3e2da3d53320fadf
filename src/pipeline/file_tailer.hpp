// FileTailer: follows log files as they grow and appends each new line to the spool as a
// kLine envelope, attributed to the organisation and logsource configured for the file.
//
// Design:
// - Polling, not inotify: one stat and one read per file and round works on every file system
//   (NFS, overlay, bind mounts) and costs nothing measurable at a 200 ms interval.
// - Only complete lines are read: a partial last line waits for its LF. CR before LF is
//   dropped, empty lines are skipped. A line over 1 MiB is counted and skipped up to its LF.
// - Lines are appended in batches of up to 512 (one IngestQueue::Append each), and only after
//   a successful append is the file's position saved to `state_dir` as (path, device, inode,
//   offset), written to a temporary file, synced and renamed. A restart therefore continues
//   where the previous run stopped: after a clean stop no line is lost or read twice; a crash
//   between an append and the state write reads that batch again (detection is idempotent:
//   alert ids are deterministic), it never loses it.
// - Rotation by rename (logrotate's default, and "create"): when the path names another file
//   (device or inode changed) or nothing, the old file is read to its end first — including a
//   last line without LF — once a round has found nothing new in it, then the new file is read
//   from offset 0. Rotation by copytruncate: the file became shorter than the saved offset, so
//   it is read again from 0 (lines written between the copy and the truncation that took the
//   file past the old offset again before the next poll cannot be told apart; that is inherent
//   to copytruncate).
// - A file that does not exist yet is waited for. A first start (no saved state) reads an
//   existing file from its beginning. When a restart finds another file at the path than the
//   state names (rotated while stopped), the new file is read from 0; the old one's unread
//   tail is not searched for.
// - Spool full: the round for that file ends, its offset does not move, and the next round
//   tries again. Nothing is dropped.
//
// Metrics (names and labels are a contract; docs/ingest-sources.md):
//   yagura_tail_lines_total{file,org_id}     lines appended to the spool
//   yagura_tail_bytes_total{file,org_id}     their bytes (without LF)
//   yagura_tail_skipped_total{file,reason}   reason: oversized
//   yagura_tail_rotations_total{file,kind}   kind: rename, truncate
//   yagura_tail_backpressure_total{file}     rounds that stopped on a full spool
//   yagura_tail_errors_total{file}           read, state or spool errors (also on stderr)
// `file` is the TailedFile name.
//
// Thread-safety: PollOnce may be called from any thread (rounds are serialised); Stop is
// idempotent and run by the destructor.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/metrics.hpp"
#include "core/result.hpp"
#include "pipeline/ingest_queue.hpp"

namespace yagura::pipeline {

struct TailedFile {
  std::string path;
  std::string name;       // sensor name in envelopes and metrics; defaults to the path
  std::string org_id;     // required
  std::string logsource;  // "product=linux,service=sshd", may be empty
};

class FileTailer {
 public:
  static constexpr size_t MAX_LINE_BYTES = 1 << 20;
  static constexpr size_t MAX_BATCH_LINES = 512;

  // Checks the files (path and organisation set, no path twice), creates `state_dir`, loads
  // the saved positions and, when `poll_interval_ms` > 0, starts the polling thread. With 0 no
  // thread is started and the caller drives it with PollOnce().
  static Result<std::unique_ptr<FileTailer>> Start(std::vector<TailedFile> files,
                                                   std::string state_dir, IngestQueue& queue,
                                                   Metrics& metrics,
                                                   int64_t poll_interval_ms = 200);
  ~FileTailer();
  FileTailer(const FileTailer&) = delete;
  FileTailer& operator=(const FileTailer&) = delete;

  // Stops the thread after its current round; the saved state is current.
  void Stop();
  // One synchronous round over every file.
  void PollOnce();

  struct Tail;

 private:
  FileTailer(std::string state_dir, IngestQueue& queue, Metrics& metrics);
  void Run(int64_t poll_interval_ms);
  void PollFile(Tail& tail);

  std::string state_dir_;
  IngestQueue& queue_;
  Metrics& metrics_;
  std::vector<std::unique_ptr<Tail>> tails_;
  std::mutex poll_mutex_;  // one round at a time
  std::mutex stop_mutex_;
  std::condition_variable stop_signal_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace yagura::pipeline

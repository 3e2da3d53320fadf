// The audit log: every write, every login and every read of AMBER or RED data, hash-chained.
//
// Each entry stores the SHA-256 of its predecessor and its own hash over all its fields, so
// altering, removing or reordering any entry breaks the chain at that point, and
// `yagura admin verify-audit` names the first broken entry. The head row (audit_head) holds
// the last sequence number and hash; appending locks it, which orders appends on PostgreSQL
// as BEGIN IMMEDIATE does on SQLite.
//
// Writes append inside the transaction of the change they record, so the change and its
// record commit together or not at all. Reads have no transaction of their own; their entries
// go to one writer thread that commits them in batches (group commit), so auditing a busy list
// costs one transaction per batch, not per request. In the durable mode a reader waits for its
// batch's commit; in the asynchronous mode (the service's default, docs/decisions.md) it
// returns at once, the writer commits within milliseconds, a failed commit is retried, and the
// queue is bounded: when it is full, readers wait, so no entry is ever dropped while the
// process lives. Only a crash can lose the entries of the last moments, never a write's.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "hub/policy.hpp"
#include "hub/principal.hpp"
#include "store/database.hpp"

namespace yagura::hub {

struct AuditEntry {
  std::string actor_id;        // user id, or "anonymous" for failed logins
  std::string actor_org_id;
  std::string action;          // "incident.create", "auth.login", "incident.read", ...
  std::string object_type;     // "incident", "user", "session", ...
  std::string object_id;
  Tlp tlp = Tlp::kClear;
  std::string remote_address;
  std::string outcome = "ok";  // "ok", "denied", "failed"
  std::string detail;          // JSON object text, "{}" when empty
};

// Fills actor and address from the principal.
AuditEntry EntryFor(const Principal& principal, std::string action, std::string object_type,
                    std::string object_id, Tlp tlp = Tlp::kClear);

struct StoredAuditEntry {
  int64_t seq = 0;
  int64_t at = 0;
  AuditEntry entry;
  std::string prev_hash;
  std::string hash;
};

struct AuditVerification {
  bool intact = true;
  int64_t entries = 0;
  int64_t first_bad_seq = 0;  // 0 when intact
  std::string problem;        // what is wrong at first_bad_seq
};

enum class ReadAuditMode { kDurable, kAsynchronous };

class AuditLog {
 public:
  explicit AuditLog(store::Database& database, ReadAuditMode mode = ReadAuditMode::kDurable);
  ~AuditLog();
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  // Appends inside the caller's transaction.
  static void Append(store::Connection& connection, const AuditEntry& entry, int64_t at_ms);
  static void Append(store::Connection& connection, const AuditEntry& entry);

  // Appends in a group commit. Durable mode: returns once the entry is committed and throws
  // the database's error if the commit fails. Asynchronous mode: returns once queued.
  void Record(AuditEntry entry);
  // Returns once every entry recorded so far is committed.
  void Flush();
  // Entries queued and not yet committed.
  [[nodiscard]] size_t pending() const;
  // The most entries the asynchronous queue holds before Record waits.
  static constexpr size_t MAX_QUEUED = 100000;
  // How long the asynchronous writer gathers entries before a commit.
  static constexpr std::chrono::milliseconds ASYNC_LINGER{25};

  // Entries in sequence order, newest last; `after_seq` pages forward, `limit` caps the page.
  static std::vector<StoredAuditEntry> List(store::Connection& connection, int64_t after_seq,
                                            int limit, const std::string& actor_filter = {},
                                            const std::string& action_prefix = {});

  // Recomputes the chain and reports the first entry that was altered, removed or moved.
  static AuditVerification Verify(store::Connection& connection);

  // The hash of one entry given its predecessor's hash (exposed for tests).
  static std::string HashOf(int64_t seq, int64_t at, const AuditEntry& entry,
                            const std::string& prev_hash);

 private:
  struct Pending {
    AuditEntry entry;
    int64_t at;
    bool done = false;
    std::exception_ptr error;
  };
  void WriterLoop();

  store::Database& database_;
  ReadAuditMode mode_;
  mutable std::mutex mutex_;
  size_t in_flight_ = 0;  // entries taken by the writer and not yet committed
  int flush_requests_ = 0;  // callers of Flush waiting: no lingering then
  std::condition_variable wake_writer_;
  std::condition_variable wake_waiters_;
  std::deque<std::shared_ptr<Pending>> queue_;
  bool stopping_ = false;
  std::thread writer_;
};

}  // namespace yagura::hub

// The hash-chained audit log (see audit_log.hpp).
//
// The hash covers every field with its length in front ("<len>:<bytes>;"), so no two different
// entries serialise to the same text, whatever bytes the fields contain.
#include "hub/audit_log.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>

#include <fmt/format.h>

#include "core/time.hpp"
#include "hub/crypto.hpp"

namespace yagura::hub {
namespace {

using store::Param;

void AddField(std::string& out, std::string_view value) {
  out += std::to_string(value.size());
  out += ':';
  out += value;
  out += ';';
}

}  // namespace

AuditEntry EntryFor(const Principal& principal, std::string action, std::string object_type,
                    std::string object_id, Tlp tlp) {
  AuditEntry entry;
  entry.actor_id = principal.user_id;
  entry.actor_org_id = principal.org_id;
  entry.action = std::move(action);
  entry.object_type = std::move(object_type);
  entry.object_id = std::move(object_id);
  entry.tlp = tlp;
  entry.remote_address = principal.remote_address;
  return entry;
}

std::string AuditLog::HashOf(int64_t seq, int64_t at, const AuditEntry& entry,
                             const std::string& prev_hash) {
  std::string text;
  text.reserve(256 + entry.detail.size());
  AddField(text, prev_hash);
  AddField(text, std::to_string(seq));
  AddField(text, std::to_string(at));
  AddField(text, entry.actor_id);
  AddField(text, entry.actor_org_id);
  AddField(text, entry.action);
  AddField(text, entry.object_type);
  AddField(text, entry.object_id);
  AddField(text, ToString(entry.tlp));
  AddField(text, entry.remote_address);
  AddField(text, entry.outcome);
  AddField(text, entry.detail.empty() ? std::string_view("{}") : std::string_view(entry.detail));
  return Sha256Hex(text);
}

void AuditLog::Append(store::Connection& connection, const AuditEntry& entry, int64_t at_ms) {
  // Taking the head row's lock first serialises appenders on PostgreSQL; SQLite's write
  // transaction is already exclusive.
  store::Rows head = connection.Query(
      "UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash");
  if (head.empty()) throw store::DatabaseError("audit_head row is missing");
  int64_t seq = head.rows[0][0].as_int();
  std::string prev_hash = head.rows[0][1].text();
  std::string hash = HashOf(seq, at_ms, entry, prev_hash);
  connection.Execute(
      "INSERT INTO audit_log (seq, at, actor_id, actor_org_id, action, object_type, object_id, "
      "tlp, remote_address, outcome, detail, prev_hash, hash) "
      "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
      {Param{seq}, Param{at_ms}, Param{entry.actor_id}, Param{entry.actor_org_id},
       Param{entry.action}, Param{entry.object_type}, Param{entry.object_id},
       Param{std::string(ToString(entry.tlp))}, Param{entry.remote_address},
       Param{entry.outcome}, Param{entry.detail.empty() ? std::string("{}") : entry.detail},
       Param{prev_hash}, Param{hash}});
  connection.Execute("UPDATE audit_head SET hash = $1 WHERE id = 1", {Param{hash}});
}

// A batch reads and moves the head once, so a group commit costs one INSERT per entry.
static void AppendBatch(store::Connection& connection,
                        const std::vector<std::pair<const AuditEntry*, int64_t>>& entries) {
  if (entries.empty()) return;
  store::Rows head = connection.Query(
      "UPDATE audit_head SET seq = seq + $1 WHERE id = 1 RETURNING seq, hash",
      {Param{static_cast<int64_t>(entries.size())}});
  if (head.empty()) throw store::DatabaseError("audit_head row is missing");
  int64_t seq = head.rows[0][0].as_int() - static_cast<int64_t>(entries.size());
  std::string prev_hash = head.rows[0][1].text();
  for (const auto& [entry, at_ms] : entries) {
    ++seq;
    std::string hash = AuditLog::HashOf(seq, at_ms, *entry, prev_hash);
    connection.Execute(
        "INSERT INTO audit_log (seq, at, actor_id, actor_org_id, action, object_type, object_id, "
        "tlp, remote_address, outcome, detail, prev_hash, hash) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        {Param{seq}, Param{at_ms}, Param{entry->actor_id}, Param{entry->actor_org_id},
         Param{entry->action}, Param{entry->object_type}, Param{entry->object_id},
         Param{std::string(ToString(entry->tlp))}, Param{entry->remote_address},
         Param{entry->outcome}, Param{entry->detail.empty() ? std::string("{}") : entry->detail},
         Param{prev_hash}, Param{hash}});
    prev_hash = std::move(hash);
  }
  connection.Execute("UPDATE audit_head SET hash = $1 WHERE id = 1", {Param{prev_hash}});
}

void AuditLog::Append(store::Connection& connection, const AuditEntry& entry) {
  Append(connection, entry, NowMs());
}

AuditLog::AuditLog(store::Database& database, ReadAuditMode mode)
    : database_(database), mode_(mode) {
  writer_ = std::thread([this] { WriterLoop(); });
}

AuditLog::~AuditLog() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_writer_.notify_all();
  writer_.join();
}

void AuditLog::Record(AuditEntry entry) {
  auto pending = std::make_shared<Pending>();
  pending->entry = std::move(entry);
  pending->at = NowMs();
  std::unique_lock lock(mutex_);
  if (stopping_) throw store::DatabaseError("the audit log is shutting down");
  if (mode_ == ReadAuditMode::kAsynchronous) {
    // Backpressure instead of loss: a full queue makes readers wait for the writer.
    wake_waiters_.wait(lock, [&] { return queue_.size() < MAX_QUEUED; });
    queue_.push_back(std::move(pending));
    wake_writer_.notify_one();
    return;
  }
  queue_.push_back(pending);
  wake_writer_.notify_one();
  wake_waiters_.wait(lock, [&] { return pending->done; });
  if (pending->error) std::rethrow_exception(pending->error);
}

void AuditLog::Flush() {
  std::unique_lock lock(mutex_);
  ++flush_requests_;
  wake_writer_.notify_one();
  wake_waiters_.wait(lock, [&] { return queue_.empty() && in_flight_ == 0; });
  --flush_requests_;
}

size_t AuditLog::pending() const {
  std::lock_guard lock(mutex_);
  return queue_.size() + in_flight_;
}

void AuditLog::WriterLoop() {
  std::unique_lock lock(mutex_);
  bool reported_failure = false;
  while (true) {
    wake_writer_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (queue_.empty() && stopping_) return;
    if (mode_ == ReadAuditMode::kAsynchronous && !stopping_ && flush_requests_ == 0) {
      // Linger briefly so a busy service commits reads' entries a few dozen times a second:
      // every commit makes each reader connection of SQLite drop its page cache, which cost
      // more than the commit itself.
      wake_writer_.wait_for(lock, ASYNC_LINGER, [&] {
        return stopping_ || flush_requests_ > 0 || queue_.size() >= 1000;
      });
    }
    // Batches are capped so one commit stays short even after a backlog.
    size_t take = std::min<size_t>(queue_.size(), 1000);
    std::vector<std::shared_ptr<Pending>> batch(queue_.begin(), queue_.begin() + take);
    queue_.erase(queue_.begin(), queue_.begin() + take);
    in_flight_ = batch.size();
    lock.unlock();
    std::exception_ptr error;
    try {
      std::vector<std::pair<const AuditEntry*, int64_t>> entries;
      entries.reserve(batch.size());
      for (const auto& pending : batch) entries.emplace_back(&pending->entry, pending->at);
      database_.Transact([&](store::Connection& connection) { AppendBatch(connection, entries); });
    } catch (...) {
      error = std::current_exception();
    }
    lock.lock();
    in_flight_ = 0;
    if (error && mode_ == ReadAuditMode::kAsynchronous) {
      // Nobody waits for these entries, so they are kept and retried rather than lost.
      if (!reported_failure) {
        try {
          std::rethrow_exception(error);
        } catch (const std::exception& failure) {
          std::fprintf(stderr, "yagura: audit log commit failed, retrying: %s\n", failure.what());
        }
        reported_failure = true;
      }
      queue_.insert(queue_.begin(), batch.begin(), batch.end());
      if (stopping_) {
        std::fprintf(stderr, "yagura: %zu audit entries could not be committed at shutdown\n",
                     queue_.size());
        queue_.clear();
        wake_waiters_.notify_all();
        return;
      }
      wake_writer_.wait_for(lock, std::chrono::milliseconds(200), [&] { return stopping_; });
      continue;
    }
    if (!error) reported_failure = false;
    for (const auto& pending : batch) {
      pending->done = true;
      pending->error = error;
    }
    wake_waiters_.notify_all();
  }
}

namespace {

StoredAuditEntry ReadEntry(const store::Rows& rows, size_t i) {
  const auto& row = rows.rows[i];
  StoredAuditEntry stored;
  stored.seq = row[0].as_int();
  stored.at = row[1].as_int();
  stored.entry.actor_id = row[2].text();
  stored.entry.actor_org_id = row[3].text();
  stored.entry.action = row[4].text();
  stored.entry.object_type = row[5].text();
  stored.entry.object_id = row[6].text();
  stored.entry.tlp = ParseTlp(row[7].text()).value_or(Tlp::kRed);
  stored.entry.remote_address = row[8].text();
  stored.entry.outcome = row[9].text();
  stored.entry.detail = row[10].text();
  stored.prev_hash = row[11].text();
  stored.hash = row[12].text();
  return stored;
}

constexpr const char* SELECT_COLUMNS =
    "SELECT seq, at, actor_id, actor_org_id, action, object_type, object_id, tlp, "
    "remote_address, outcome, detail, prev_hash, hash FROM audit_log ";

}  // namespace

std::vector<StoredAuditEntry> AuditLog::List(store::Connection& connection, int64_t after_seq,
                                             int limit, const std::string& actor_filter,
                                             const std::string& action_prefix) {
  std::string sql = SELECT_COLUMNS;
  sql += "WHERE seq > $1";
  std::vector<Param> params = {Param{after_seq}};
  if (!actor_filter.empty()) {
    params.emplace_back(actor_filter);
    sql += fmt::format(" AND actor_id = ${}", params.size());
  }
  if (!action_prefix.empty()) {
    params.emplace_back(action_prefix);
    sql += fmt::format(" AND substr(action, 1, length(${0})) = ${0}", params.size());
  }
  params.emplace_back(static_cast<int64_t>(limit));
  sql += fmt::format(" ORDER BY seq LIMIT ${}", params.size());
  store::Rows rows = connection.Query(sql, params);
  std::vector<StoredAuditEntry> entries;
  entries.reserve(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) entries.push_back(ReadEntry(rows, i));
  return entries;
}

AuditVerification AuditLog::Verify(store::Connection& connection) {
  AuditVerification result;
  std::string expected_prev(64, '0');
  int64_t expected_seq = 1;
  // Page through the log so a long chain never sits in memory at once.
  int64_t after = 0;
  while (true) {
    store::Rows rows = connection.Query(
        std::string(SELECT_COLUMNS) + "WHERE seq > $1 ORDER BY seq LIMIT 5000", {Param{after}});
    if (rows.empty()) break;
    for (size_t i = 0; i < rows.size(); ++i) {
      StoredAuditEntry stored = ReadEntry(rows, i);
      after = stored.seq;
      ++result.entries;
      auto fail = [&](int64_t seq, std::string problem) {
        result.intact = false;
        result.first_bad_seq = seq;
        result.problem = std::move(problem);
      };
      if (stored.seq != expected_seq) {
        fail(expected_seq, fmt::format("entry {} is missing (the next entry is {})",
                                       expected_seq, stored.seq));
        return result;
      }
      if (stored.prev_hash != expected_prev) {
        fail(stored.seq, fmt::format("entry {} does not follow entry {}: its predecessor was "
                                     "removed, replaced or moved",
                                     stored.seq, stored.seq - 1));
        return result;
      }
      if (HashOf(stored.seq, stored.at, stored.entry, stored.prev_hash) != stored.hash) {
        fail(stored.seq, fmt::format("entry {} was altered: its content no longer matches its "
                                     "hash",
                                     stored.seq));
        return result;
      }
      expected_prev = stored.hash;
      ++expected_seq;
    }
  }
  store::Rows head = connection.Query("SELECT seq, hash FROM audit_head WHERE id = 1");
  if (head.empty()) {
    result.intact = false;
    result.first_bad_seq = expected_seq;
    result.problem = "the audit head row is missing";
    return result;
  }
  int64_t head_seq = head.rows[0][0].as_int();
  if (head_seq != expected_seq - 1 || head.rows[0][1].text() != expected_prev) {
    result.intact = false;
    result.first_bad_seq = expected_seq;
    result.problem = head_seq > expected_seq - 1
                         ? fmt::format("entries {} to {} were removed from the end", expected_seq,
                                       head_seq)
                         : fmt::format("the head (entry {}) does not match the last entry {}",
                                       head_seq, expected_seq - 1);
  }
  return result;
}

}  // namespace yagura::hub

// Database: the engine-independent half of the store — field conversion, the connection pool
// and versioned migrations.
//
// The pool lends at most `pool_size` connections, opening them lazily and keeping returned
// ones (most recently used first, so warm statement caches are reused). A borrower that finds
// every connection out waits on a condition variable. A connection that reports itself
// unhealthy (lost server, I/O error) is dropped on return rather than lent again, and a
// transaction a borrower left open is rolled back so the next borrower starts clean.
//
// Migrations run one transaction each, so a failing migration leaves the earlier ones applied
// and itself not at all. Each re-checks `schema_migrations` inside its transaction (after
// BEGIN IMMEDIATE on SQLite, after an advisory lock on PostgreSQL), so several processes
// migrating the same database at start-up apply every migration exactly once.
#include "store/database.hpp"

#include <charconv>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <ctime>
#include <limits>
#include <mutex>
#include <set>

#include <fmt/format.h>

#include "store/engines.hpp"

namespace yagura::store {

namespace {

// Key of the PostgreSQL advisory lock that serialises migrators ("yagu").
constexpr int64_t MIGRATION_LOCK_KEY = 0x79616775;
// The first half of SerializeWith's two-part advisory keys ("ya" + "gs").
constexpr int64_t SERIALIZED_KEY_CLASS = 0x79616773;

std::string UtcNow() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buffer;
}

// Serialises migrators: on SQLite BEGIN IMMEDIATE already holds the write lock; on
// PostgreSQL a transaction-scoped advisory lock does (released at COMMIT/ROLLBACK).
void LockMigrations(Connection& connection) {
  if (connection.engine() == Engine::kPostgres) {
    connection.Query("SELECT pg_advisory_xact_lock($1)", {Param{MIGRATION_LOCK_KEY}});
  }
}

}  // namespace

void SerializeWith(Connection& connection, std::string_view key) {
  if (connection.engine() != Engine::kPostgres) return;
  static const std::string sql =
      fmt::format("SELECT pg_advisory_xact_lock({}, hashtext($1))", SERIALIZED_KEY_CLASS);
  connection.Query(sql, {Param{std::string(key)}});
}

namespace {

bool MigrationTableExists(Connection& connection) {
  if (connection.engine() == Engine::kSqlite) {
    return connection
               .Query("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND "
                      "name = 'schema_migrations'")
               .rows.at(0)
               .at(0)
               .as_int() > 0;
  }
  return connection.Query("SELECT to_regclass('schema_migrations') IS NOT NULL")
      .rows.at(0)
      .at(0)
      .as_bool();
}

void CreateMigrationTable(Connection& connection) {
  connection.Begin();
  try {
    LockMigrations(connection);
    connection.ExecuteScript(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, "
        "name TEXT NOT NULL, applied_at TEXT NOT NULL)");
    connection.Commit();
  } catch (...) {
    try {
      connection.Rollback();
    } catch (...) {
    }
    throw;
  }
}

}  // namespace

// ---- Field, Rows ----------------------------------------------------------------------------

const std::string& Field::text() const {
  static const std::string EMPTY;
  return text_ ? *text_ : EMPTY;
}

int64_t Field::as_int() const {
  if (!text_ || text_->empty()) return 0;
  const char* first = text_->data();
  const char* last = first + text_->size();
  int64_t value = 0;
  auto [end, error] = std::from_chars(first, last, value);
  if (error == std::errc() && end == last) return value;
  // "2.0" from a numeric aggregate, "1e3": integral part of a finite double in range.
  const double d = as_double();
  if (std::isfinite(d) && d >= -9.2e18 && d <= 9.2e18) return static_cast<int64_t>(d);
  return 0;
}

double Field::as_double() const {
  if (!text_ || text_->empty()) return 0;
  const char* first = text_->data();
  const char* last = first + text_->size();
  double value = 0;
  auto [end, error] = std::from_chars(first, last, value);
  if (error == std::errc() && end == last) return value;
  return 0;
}

size_t Rows::column(std::string_view name) const {
  for (size_t i = 0; i < columns.size(); ++i) {
    if (columns[i] == name) return i;
  }
  std::string known;
  for (const std::string& column : columns) {
    if (!known.empty()) known += ", ";
    known += column;
  }
  throw std::out_of_range(fmt::format("no column '{}' in the result (columns: {})", name, known));
}

std::string DoubleText(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "Infinity" : "-Infinity";
  char buffer[64];
  auto [end, error] = std::to_chars(buffer, buffer + sizeof buffer, value);
  return std::string(buffer, end);
}

// ---- pool -----------------------------------------------------------------------------------

struct Database::Pool {
  std::mutex mutex;
  std::condition_variable available;
  std::vector<std::unique_ptr<Connection>> idle;  // back = most recently returned
  int lent = 0;
};

Database::Database(int pool_size)
    : pool_size_(pool_size < 1 ? 1 : pool_size), pool_(std::make_shared<Pool>()) {}

void Database::AdoptIdle(std::unique_ptr<Connection> connection) {
  std::lock_guard lock(pool_->mutex);
  if (static_cast<int>(pool_->idle.size()) + pool_->lent < pool_size_) {
    pool_->idle.push_back(std::move(connection));
  }
}

PooledConnection Database::Acquire() {
  std::unique_ptr<Connection> connection;
  {
    std::unique_lock lock(pool_->mutex);
    pool_->available.wait(lock, [&] { return pool_->lent < pool_size_; });
    ++pool_->lent;
    if (!pool_->idle.empty()) {
      connection = std::move(pool_->idle.back());
      pool_->idle.pop_back();
    }
  }
  if (!connection) {
    // Opened outside the lock: a PostgreSQL handshake must not hold up other borrowers.
    try {
      connection = Connect();
    } catch (...) {
      std::lock_guard lock(pool_->mutex);
      --pool_->lent;
      pool_->available.notify_one();
      throw;
    }
  }
  return PooledConnection(this, std::move(connection));
}

void Database::Release(std::unique_ptr<Connection> connection) {
  if (connection && connection->healthy() && connection->in_transaction()) {
    try {
      connection->Rollback();
    } catch (...) {
      connection.reset();
    }
  }
  if (connection && !connection->healthy()) connection.reset();  // closed outside the lock
  std::lock_guard lock(pool_->mutex);
  --pool_->lent;
  if (connection) pool_->idle.push_back(std::move(connection));
  pool_->available.notify_one();
}

PooledConnection::PooledConnection(Database* owner, std::unique_ptr<Connection> connection)
    : owner_(owner), connection_(std::move(connection)) {}

PooledConnection::PooledConnection(PooledConnection&& other) noexcept
    : owner_(other.owner_), connection_(std::move(other.connection_)) {
  other.owner_ = nullptr;
}

PooledConnection::~PooledConnection() {
  if (owner_) owner_->Release(std::move(connection_));
}

// ---- Open -----------------------------------------------------------------------------------

Result<std::unique_ptr<Database>> Database::Open(std::string_view target, int pool_size) {
  if (target.starts_with("postgresql://") || target.starts_with("postgres://")) {
    return OpenPostgres(target, pool_size);
  }
  if (target.empty()) return Fail("no database given (a SQLite file path or a postgresql:// URL)");
  return OpenSqlite(target, pool_size);
}

// ---- migrations -----------------------------------------------------------------------------

Result<std::vector<int>> Database::Migrate(std::span<const Migration> migrations) {
  for (size_t i = 0; i < migrations.size(); ++i) {
    if (migrations[i].version <= 0) {
      return Fail(fmt::format("migration {} ({}): versions must be positive",
                              migrations[i].version, migrations[i].name));
    }
    if (i > 0 && migrations[i].version <= migrations[i - 1].version) {
      return Fail(fmt::format(
          "migrations are not in strictly increasing version order: {} ({}) follows {} ({})",
          migrations[i].version, migrations[i].name, migrations[i - 1].version,
          migrations[i - 1].name));
    }
  }

  std::vector<int> applied;
  std::set<int64_t> recorded;
  int64_t current = 0;
  try {
    PooledConnection connection = Acquire();
    if (!MigrationTableExists(*connection)) CreateMigrationTable(*connection);
    for (const auto& row : connection->Query("SELECT version FROM schema_migrations").rows) {
      recorded.insert(row.at(0).as_int());
    }
    if (!recorded.empty()) current = *recorded.rbegin();

    for (const Migration& migration : migrations) {
      if (recorded.contains(migration.version)) continue;
      if (migration.version < current) {
        // Applying it now would run it after newer ones it was never written against.
        return Fail(fmt::format(
            "migration {} ({}) was never applied but the database is already at version {}; "
            "give it a version above {}",
            migration.version, migration.name, current, current));
      }
      try {
        connection->Begin();
        LockMigrations(*connection);
        if (!connection->Query("SELECT 1 FROM schema_migrations WHERE version = $1",
                               {Param{int64_t{migration.version}}})
                 .empty()) {
          connection->Rollback();  // another process applied it while we waited
          continue;
        }
        connection->ExecuteScript(engine() == Engine::kSqlite ? migration.sqlite_sql
                                                              : migration.postgres_sql);
        connection->Execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
            {Param{int64_t{migration.version}}, Param{migration.name}, Param{UtcNow()}});
        connection->Commit();
        applied.push_back(migration.version);
      } catch (const std::exception& e) {
        try {
          connection->Rollback();
        } catch (...) {
        }
        return Fail(fmt::format("migration {} ({}) failed: {}", migration.version, migration.name,
                                e.what()));
      }
    }
  } catch (const std::exception& e) {
    return Fail(fmt::format("cannot read the schema version of {}: {}", description(), e.what()));
  }
  return applied;
}

int Database::SchemaVersion() {
  PooledConnection connection = Acquire();
  if (!MigrationTableExists(*connection)) return 0;
  return static_cast<int>(
      connection->Query("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")
          .rows.at(0)
          .at(0)
          .as_int());
}

}  // namespace yagura::store

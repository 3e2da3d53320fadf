// The SQLite engine: one sqlite3 handle per pooled connection, in WAL mode.
//
// WAL lets readers run while one writer writes; writers queue on the database lock. Write
// transactions begin IMMEDIATE, taking the write lock up front: a DEFERRED transaction that
// read first and then tries to write can fail with SQLITE_BUSY at once (no waiting helps a
// reader upgrading past a concurrent writer), whereas BEGIN IMMEDIATE simply waits in the busy
// handler for its turn. synchronous=NORMAL is durable across application crashes in WAL mode
// and loses at most the last transactions on power loss, which the centre accepts for speed.
//
// Statements are prepared once per connection and cached by their SQL text; each cached
// statement remembers which `$N` every SQLite parameter slot stands for (SQLite gives a
// repeated `$1` a single slot), so binding is a loop over slots. Statements are strict about
// placeholders: a `$N` without a value, or a value no `$N` uses, is an error, because
// PostgreSQL rejects both and code tested on SQLite must run there too.
#include <sqlite3.h>

#include <charconv>
#include <string>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>

#include "store/engines.hpp"

namespace yagura::store {
namespace {

constexpr int BUSY_TIMEOUT_MS = 5000;
// Beyond this many distinct SQL texts the cache is emptied: callers that build SQL
// dynamically (IN lists of varying length) must not grow it without bound.
constexpr size_t MAX_CACHED_STATEMENTS = 256;

std::string Abbreviate(std::string_view sql) {
  constexpr size_t LIMIT = 160;
  std::string out(sql.substr(0, LIMIT));
  for (char& c : out) {
    if (c == '\n' || c == '\t' || c == '\r') c = ' ';
  }
  if (sql.size() > LIMIT) out += "...";
  return out;
}

// Errors after which the handle cannot be trusted any more.
bool IsConnectionLevel(int primary_code) {
  switch (primary_code) {
    case SQLITE_IOERR:
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
    case SQLITE_CANTOPEN:
    case SQLITE_NOMEM:
    case SQLITE_FULL:
    case SQLITE_PROTOCOL:
      return true;
    default:
      return false;
  }
}

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

class SqliteConnection final : public Connection {
 public:
  explicit SqliteConnection(const std::string& path) {
    const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    const int rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
    if (rc != SQLITE_OK) {
      std::string message = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
      sqlite3_close_v2(db_);
      db_ = nullptr;
      throw DatabaseError(fmt::format("cannot open SQLite database {}: {}", path, message));
    }
    sqlite3_extended_result_codes(db_, 1);
    sqlite3_busy_timeout(db_, BUSY_TIMEOUT_MS);
    try {
      // mmap: reads of hot pages become memory loads instead of one pread(2) each; the page
      // cache per connection is raised from 2 MiB so a list page's index and rows stay cached.
      ExecuteScript(
          "PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL; "
          "PRAGMA mmap_size=1073741824; PRAGMA cache_size=-32768; PRAGMA temp_store=MEMORY;");
    } catch (...) {
      sqlite3_close_v2(db_);
      db_ = nullptr;
      throw;
    }
  }

  ~SqliteConnection() override {
    ClearCache();
    sqlite3_close_v2(db_);
  }

  SqliteConnection(const SqliteConnection&) = delete;
  SqliteConnection& operator=(const SqliteConnection&) = delete;

  Rows Query(std::string_view sql, std::span<const Param> params) override {
    Rows rows;
    Run(sql, params, &rows);
    return rows;
  }

  int64_t Execute(std::string_view sql, std::span<const Param> params) override {
    return Run(sql, params, nullptr);
  }

  void ExecuteScript(std::string_view sql) override {
    char* error = nullptr;
    const int rc = sqlite3_exec(db_, std::string(sql).c_str(), nullptr, nullptr, &error);
    if (rc != SQLITE_OK) {
      std::string message = error ? error : sqlite3_errstr(rc);
      sqlite3_free(error);
      Throw(rc, message, sql);
    }
  }

  void Begin() override { Run("BEGIN IMMEDIATE", {}, nullptr); }
  void Commit() override { Run("COMMIT", {}, nullptr); }
  void Rollback() override {
    // SQLite itself ends the transaction after some errors (SQLITE_FULL, SQLITE_IOERR, ...).
    if (in_transaction()) Run("ROLLBACK", {}, nullptr);
  }

  [[nodiscard]] Engine engine() const override { return Engine::kSqlite; }
  [[nodiscard]] bool healthy() const override { return healthy_; }
  [[nodiscard]] bool in_transaction() const override { return sqlite3_get_autocommit(db_) == 0; }

 private:
  struct Statement {
    sqlite3_stmt* stmt = nullptr;
    std::vector<int> param_of_slot;  // slot i+1 binds params[param_of_slot[i]]
    size_t param_count = 0;          // highest $N used
  };

  [[noreturn]] void Throw(int rc, const std::string& message, std::string_view sql) {
    const int primary = rc & 0xff;
    if (IsConnectionLevel(primary)) healthy_ = false;
    DatabaseError error(fmt::format("{} [{}]", message, Abbreviate(sql)));
    error.unique_violation =
        rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY;
    throw error;
  }

  void ClearCache() {
    for (auto& [sql, statement] : cache_) sqlite3_finalize(statement.stmt);
    cache_.clear();
  }

  Statement& Prepare(std::string_view sql) {
    if (auto it = cache_.find(sql); it != cache_.end()) return it->second;
    if (cache_.size() >= MAX_CACHED_STATEMENTS) ClearCache();

    Statement statement;
    const char* tail = nullptr;
    const int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                      SQLITE_PREPARE_PERSISTENT, &statement.stmt, &tail);
    if (rc != SQLITE_OK) Throw(rc, sqlite3_errmsg(db_), sql);
    auto finalize_and_throw = [&](const std::string& message) {
      sqlite3_finalize(statement.stmt);
      DatabaseError error(fmt::format("{} [{}]", message, Abbreviate(sql)));
      throw error;
    };
    if (statement.stmt == nullptr) finalize_and_throw("empty statement");
    if (tail != nullptr && tail < sql.data() + sql.size()) {
      // What follows may be only blanks, comments and semicolons; SQLite tells by preparing
      // it to nothing.
      sqlite3_stmt* next = nullptr;
      const char* end = sql.data() + sql.size();
      while (tail < end && next == nullptr) {
        const char* following = nullptr;
        if (sqlite3_prepare_v2(db_, tail, static_cast<int>(end - tail), &next, &following) !=
            SQLITE_OK) {
          break;  // unparsable rest: certainly not blank
        }
        if (next == nullptr && following == tail) break;
        tail = following;
      }
      const bool more = next != nullptr || tail < end;
      sqlite3_finalize(next);
      if (more) finalize_and_throw("several statements given; use ExecuteScript for scripts");
    }
    const int slots = sqlite3_bind_parameter_count(statement.stmt);
    for (int slot = 1; slot <= slots; ++slot) {
      const char* name = sqlite3_bind_parameter_name(statement.stmt, slot);
      size_t number = 0;
      if (name != nullptr && name[0] == '$') {
        const char* end = name + std::char_traits<char>::length(name);
        auto [stop, error] = std::from_chars(name + 1, end, number);
        if (error != std::errc() || stop != end) number = 0;
      }
      if (number == 0) {
        finalize_and_throw(fmt::format("placeholder {} is not of the form $N (N from 1)",
                                       name ? name : "?"));
      }
      statement.param_of_slot.push_back(static_cast<int>(number - 1));
      statement.param_count = std::max(statement.param_count, number);
    }
    return cache_.emplace(std::string(sql), std::move(statement)).first->second;
  }

  void Bind(Statement& statement, std::span<const Param> params, std::string_view sql) {
    if (params.size() != statement.param_count ||
        statement.param_of_slot.size() != statement.param_count) {
      // Either a value is missing, or some $N between $1 and the highest is never used.
      throw DatabaseError(fmt::format(
          "the statement uses {} distinct placeholders up to ${} but {} values were given [{}]",
          statement.param_of_slot.size(), statement.param_count, params.size(),
          Abbreviate(sql)));
    }
    for (size_t i = 0; i < statement.param_of_slot.size(); ++i) {
      const int slot = static_cast<int>(i) + 1;
      const Param& param = params[statement.param_of_slot[i]];
      // SQLITE_STATIC: the values outlive the statement's run, and bindings are cleared
      // before Run returns.
      const int rc = std::visit(
          [&](const auto& value) -> int {
            using T = std::decay_t<decltype(value)>;
            sqlite3_stmt* stmt = statement.stmt;
            if constexpr (std::is_same_v<T, std::nullptr_t>) {
              return sqlite3_bind_null(stmt, slot);
            } else if constexpr (std::is_same_v<T, int64_t>) {
              return sqlite3_bind_int64(stmt, slot, value);
            } else if constexpr (std::is_same_v<T, bool>) {
              return sqlite3_bind_int64(stmt, slot, value ? 1 : 0);
            } else if constexpr (std::is_same_v<T, double>) {
              return sqlite3_bind_double(stmt, slot, value);
            } else if constexpr (std::is_same_v<T, std::string>) {
              return sqlite3_bind_text64(stmt, slot, value.data(), value.size(), SQLITE_STATIC,
                                         SQLITE_UTF8);
            } else {  // Blob; a null pointer would bind NULL, so empty blobs use zeroblob
              if (value.bytes.empty()) return sqlite3_bind_zeroblob(stmt, slot, 0);
              return sqlite3_bind_blob64(stmt, slot, value.bytes.data(), value.bytes.size(),
                                         SQLITE_STATIC);
            }
          },
          param);
      if (rc != SQLITE_OK) Throw(rc, sqlite3_errmsg(db_), sql);
    }
  }

  // Runs one statement to completion, collecting rows into `rows` when given. Returns the
  // number of rows changed.
  int64_t Run(std::string_view sql, std::span<const Param> params, Rows* rows) {
    Statement& statement = Prepare(sql);
    sqlite3_stmt* stmt = statement.stmt;
    struct Cleanup {
      sqlite3_stmt* stmt;
      ~Cleanup() {
        sqlite3_reset(stmt);
        sqlite3_clear_bindings(stmt);
      }
    } cleanup{stmt};
    Bind(statement, params, sql);

    int columns = -1;
    for (;;) {
      const int rc = sqlite3_step(stmt);
      if (rc != SQLITE_DONE && rc != SQLITE_ROW) Throw(rc, sqlite3_errmsg(db_), sql);
      if (rows && columns < 0) {
        // Read after the first step: a schema change since the statement was cached makes
        // SQLite prepare it again inside sqlite3_step, and `SELECT *` may gain columns.
        columns = sqlite3_column_count(stmt);
        rows->columns.reserve(columns);
        for (int c = 0; c < columns; ++c) rows->columns.emplace_back(sqlite3_column_name(stmt, c));
      }
      if (rc == SQLITE_DONE) break;
      if (!rows) continue;
      std::vector<Field>& row = rows->rows.emplace_back();
      row.reserve(columns);
      for (int c = 0; c < columns; ++c) row.push_back(ReadField(stmt, c));
    }
    return sqlite3_changes64(db_);
  }

  static Field ReadField(sqlite3_stmt* stmt, int column) {
    switch (sqlite3_column_type(stmt, column)) {
      case SQLITE_NULL:
        return Field();
      case SQLITE_INTEGER:
        return Field(std::to_string(sqlite3_column_int64(stmt, column)));
      case SQLITE_FLOAT:
        return Field(DoubleText(sqlite3_column_double(stmt, column)));
      case SQLITE_BLOB: {
        const void* data = sqlite3_column_blob(stmt, column);
        const int size = sqlite3_column_bytes(stmt, column);
        return Field(std::string(static_cast<const char*>(data), data ? size : 0));
      }
      default: {
        const auto* data = reinterpret_cast<const char*>(sqlite3_column_text(stmt, column));
        const int size = sqlite3_column_bytes(stmt, column);
        return Field(std::string(data ? data : "", data ? size : 0));
      }
    }
  }

  sqlite3* db_ = nullptr;
  bool healthy_ = true;
  std::unordered_map<std::string, Statement, StringHash, std::equal_to<>> cache_;
};

class SqliteDatabase final : public Database {
 public:
  SqliteDatabase(std::string path, int pool_size) : Database(pool_size), path_(std::move(path)) {}
  [[nodiscard]] Engine engine() const override { return Engine::kSqlite; }
  [[nodiscard]] std::string description() const override { return "sqlite:" + path_; }

  std::unique_ptr<Connection> Connect() override {
    return std::make_unique<SqliteConnection>(path_);
  }

  // Opens the first connection now so a bad path is reported by Open, not by the first
  // request; it then waits in the pool.
  Result<bool> Check() {
    try {
      AdoptIdle(Connect());
      return true;
    } catch (const std::exception& e) {
      return Fail(e.what());
    }
  }

 private:
  std::string path_;
};

}  // namespace

Result<std::unique_ptr<Database>> OpenSqlite(std::string_view target, int pool_size) {
  if (target.starts_with("sqlite:")) target.remove_prefix(7);
  std::string path(target);
  if (path.empty()) return Fail("no SQLite database path given");
  // Every connection to ":memory:" would see its own empty database.
  if (path == ":memory:") pool_size = 1;
  auto database = std::make_unique<SqliteDatabase>(path, pool_size);
  if (auto checked = database->Check(); !checked) return tl::unexpected(checked.error());
  return std::unique_ptr<Database>(std::move(database));
}

}  // namespace yagura::store

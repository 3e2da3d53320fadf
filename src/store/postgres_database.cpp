// The PostgreSQL engine, over libpqxx 6.4 (the only file that includes its headers: they are
// heavy and its 6.x API should not leak into the rest of the store).
//
// Every statement goes through a server-side prepared statement named after its position in
// a per-connection cache keyed by SQL text, so repeated queries skip parsing and planning.
// Parameters travel in text format: numbers in their decimal text, doubles in shortest
// round-trip form, Blob as a bytea hex literal ("\x00ff"); PostgreSQL types each `$N` from its
// context. Results come back as text, except bytea (returned as its raw bytes, like SQLite
// BLOBs) and boolean (returned as "1"/"0", the BIGINT convention the callers use, so a
// comparison in a SELECT reads the same on both engines).
//
// The interface has explicit Begin/Commit/Rollback, so the connection holds a pqxx::work
// between Begin and Commit/Rollback and runs statements outside it in a throwaway
// pqxx::nontransaction (autocommit). A broken connection or a commit in doubt marks the
// connection unhealthy, and the pool then drops it.
#include <pqxx/pqxx>

#include <string>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>

#include "store/engines.hpp"

namespace yagura::store {
namespace {

constexpr size_t MAX_CACHED_STATEMENTS = 256;
constexpr pqxx::oid BYTEA_OID = 17;
constexpr pqxx::oid BOOL_OID = 16;
constexpr std::string_view UNIQUE_VIOLATION = "23505";
constexpr std::string_view FEATURE_NOT_SUPPORTED = "0A000";

std::string Trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

std::string HexBytea(const std::string& bytes) {
  static constexpr char DIGITS[] = "0123456789abcdef";
  std::string out = "\\x";
  out.reserve(2 + bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += DIGITS[c >> 4];
    out += DIGITS[c & 0xf];
  }
  return out;
}

// Notices ("relation already exists, skipping") are expected chatter, not news; warnings
// still reach stderr through libpqxx's default handler.
class QuietNotices final : public pqxx::errorhandler {
 public:
  using pqxx::errorhandler::errorhandler;
  bool operator()(const char message[]) noexcept override {
    const std::string_view text(message);
    return !(text.starts_with("NOTICE:") || text.starts_with("INFO:") ||
             text.starts_with("DEBUG:") || text.starts_with("LOG:"));
  }
};

class PostgresConnection final : public Connection {
 public:
  explicit PostgresConnection(const std::string& url) {
    try {
      connection_ = std::make_unique<pqxx::connection>(url);
    } catch (const std::exception& e) {
      throw DatabaseError(Trimmed(e.what()));
    }
    notices_ = std::make_unique<QuietNotices>(*connection_);
    // Our statements are prepared once per connection and are shaped for their indexes, so
    // one generic plan serves every execution; the default (a fresh custom plan for the first
    // executions and whenever it looks cheaper) spent more time planning a page of incidents
    // than running it.
    try {
      pqxx::nontransaction setup(*connection_);
      setup.exec("SET plan_cache_mode = force_generic_plan");
    } catch (const std::exception& e) {
      throw DatabaseError(Trimmed(e.what()));
    }
  }

  ~PostgresConnection() override {
    // Members go in reverse order anyway; spelled out because the order matters: the
    // transaction and the notice handler refer to the connection.
    try {
      work_.reset();
    } catch (...) {
    }
    notices_.reset();
    connection_.reset();
  }

  Rows Query(std::string_view sql, std::span<const Param> params) override {
    return Guard([&] {
      const pqxx::result result = ExecPrepared(sql, params);
      return ToRows(result);
    });
  }

  int64_t Execute(std::string_view sql, std::span<const Param> params) override {
    return Guard([&] {
      const pqxx::result result = ExecPrepared(sql, params);
      return static_cast<int64_t>(result.affected_rows());
    });
  }

  void ExecuteScript(std::string_view sql) override {
    Guard([&] {
      const std::string script(sql);
      if (work_) {
        work_->exec(script);
      } else {
        pqxx::nontransaction tx(*connection_);
        tx.exec(script);
        tx.commit();
      }
      return 0;
    });
  }

  void Begin() override {
    if (work_) throw DatabaseError("Begin: a transaction is already open on this connection");
    Guard([&] {
      work_ = std::make_unique<pqxx::work>(*connection_);
      return 0;
    });
  }

  void Commit() override {
    if (!work_) throw DatabaseError("Commit: no transaction is open on this connection");
    std::unique_ptr<pqxx::work> work = std::move(work_);
    Guard([&] {
      work->commit();
      return 0;
    });
  }

  void Rollback() override {
    if (!work_) return;
    std::unique_ptr<pqxx::work> work = std::move(work_);
    Guard([&] {
      work->abort();
      return 0;
    });
  }

  [[nodiscard]] Engine engine() const override { return Engine::kPostgres; }
  [[nodiscard]] bool healthy() const override { return healthy_; }
  [[nodiscard]] bool in_transaction() const override { return work_ != nullptr; }

 private:
  // Runs `body`, turning libpqxx's exceptions into DatabaseError.
  template <typename F>
  auto Guard(F&& body) -> decltype(body()) {
    try {
      return body();
    } catch (const DatabaseError&) {
      throw;
    } catch (const pqxx::broken_connection& e) {
      healthy_ = false;
      throw DatabaseError("connection lost: " + Trimmed(e.what()));
    } catch (const pqxx::in_doubt_error& e) {
      healthy_ = false;
      throw DatabaseError("commit in doubt: " + Trimmed(e.what()));
    } catch (const pqxx::sql_error& e) {
      DatabaseError error(Trimmed(e.what()));
      error.unique_violation = e.sqlstate() == UNIQUE_VIOLATION;
      throw error;
    } catch (const std::exception& e) {
      if (!connection_->is_open()) healthy_ = false;
      throw DatabaseError(Trimmed(e.what()));
    }
  }

  const std::string& StatementName(std::string_view sql) {
    if (auto it = prepared_.find(std::string(sql)); it != prepared_.end()) return it->second;
    // DEALLOCATE fails inside an aborted transaction, so statements are only dropped on the
    // server between transactions.
    if (prepared_.size() >= MAX_CACHED_STATEMENTS && !work_) {
      for (auto& [text, name] : prepared_) stale_.push_back(std::move(name));
      prepared_.clear();
    }
    if (!stale_.empty() && !work_) {
      for (const std::string& name : stale_) {
        try {
          connection_->unprepare(name);
        } catch (...) {
        }
      }
      stale_.clear();
    }
    std::string name = fmt::format("yagura_{}", next_statement_++);
    connection_->prepare(name, std::string(sql));
    return prepared_.emplace(std::string(sql), std::move(name)).first->second;
  }

  pqxx::result ExecPrepared(std::string_view sql, std::span<const Param> params) {
    // Text values and the pointers libpq reads; a null pointer is SQL NULL.
    std::vector<std::string> texts(params.size());
    std::vector<const char*> values(params.size(), nullptr);
    for (size_t i = 0; i < params.size(); ++i) {
      std::visit(
          [&](const auto& value) {
            using T = std::decay_t<decltype(value)>;
            if constexpr (std::is_same_v<T, std::nullptr_t>) {
              return;
            } else if constexpr (std::is_same_v<T, int64_t>) {
              texts[i] = std::to_string(value);
            } else if constexpr (std::is_same_v<T, bool>) {
              texts[i] = value ? "1" : "0";
            } else if constexpr (std::is_same_v<T, double>) {
              texts[i] = DoubleText(value);
            } else if constexpr (std::is_same_v<T, std::string>) {
              if (value.find('\0') != std::string::npos) {
                throw DatabaseError(fmt::format(
                    "parameter ${} contains a zero byte, which PostgreSQL text cannot hold; "
                    "bind it as a Blob",
                    i + 1));
              }
              texts[i] = value;
            } else {
              texts[i] = HexBytea(value.bytes);
            }
            values[i] = texts[i].c_str();
          },
          params[i]);
    }
    auto dynamic = pqxx::prepare::make_dynamic_params(values.cbegin(), values.cend());
    try {
      return RunPrepared(StatementName(sql), dynamic);
    } catch (const pqxx::sql_error& e) {
      // A prepared `SELECT *` whose table gained or lost columns since (a migration by another
      // process) cannot be re-planned by the server; it must be prepared again.
      if (e.sqlstate() != FEATURE_NOT_SUPPORTED ||
          std::string_view(e.what()).find("cached plan must not change result type") ==
              std::string_view::npos) {
        throw;
      }
      Forget(sql);
      if (work_) throw;  // the transaction is aborted; the next use prepares afresh
      return RunPrepared(StatementName(sql), dynamic);
    }
  }

  template <typename Params>
  pqxx::result RunPrepared(const std::string& name, const Params& dynamic) {
    if (work_) return work_->exec_prepared(name, dynamic);
    pqxx::nontransaction tx(*connection_);
    pqxx::result result = tx.exec_prepared(name, dynamic);
    tx.commit();
    return result;
  }

  void Forget(std::string_view sql) {
    if (auto it = prepared_.find(std::string(sql)); it != prepared_.end()) {
      stale_.push_back(it->second);
      prepared_.erase(it);
    }
  }

  static Rows ToRows(const pqxx::result& result) {
    Rows rows;
    const auto columns = result.columns();
    std::vector<pqxx::oid> types(columns);
    rows.columns.reserve(columns);
    for (pqxx::row::size_type c = 0; c < columns; ++c) {
      rows.columns.emplace_back(result.column_name(c));
      types[c] = result.column_type(c);
    }
    rows.rows.reserve(result.size());
    for (const pqxx::row& source : result) {
      std::vector<Field>& row = rows.rows.emplace_back();
      row.reserve(columns);
      for (pqxx::row::size_type c = 0; c < columns; ++c) {
        const pqxx::field field = source[c];
        if (field.is_null()) {
          row.emplace_back();
        } else if (types[c] == BYTEA_OID) {
          row.emplace_back(pqxx::binarystring(field).str());
        } else if (types[c] == BOOL_OID) {
          row.emplace_back(std::string(field.c_str()[0] == 't' ? "1" : "0"));
        } else {
          row.emplace_back(std::string(field.c_str(), field.size()));
        }
      }
    }
    return rows;
  }

  std::unique_ptr<pqxx::connection> connection_;
  std::unique_ptr<QuietNotices> notices_;
  std::unique_ptr<pqxx::work> work_;
  std::unordered_map<std::string, std::string> prepared_;  // SQL text -> statement name
  std::vector<std::string> stale_;  // names to DEALLOCATE once outside a transaction
  uint64_t next_statement_ = 0;
  bool healthy_ = true;
};

class PostgresDatabase final : public Database {
 public:
  PostgresDatabase(std::string url, int pool_size)
      : Database(pool_size), url_(std::move(url)), description_(RedactPostgresUrl(url_)) {}
  [[nodiscard]] Engine engine() const override { return Engine::kPostgres; }
  [[nodiscard]] std::string description() const override { return description_; }

  std::unique_ptr<Connection> Connect() override {
    try {
      return std::make_unique<PostgresConnection>(url_);
    } catch (const DatabaseError& e) {
      throw DatabaseError(fmt::format("cannot connect to {}: {}", description_, e.what()));
    }
  }

  Result<bool> Check() {
    try {
      AdoptIdle(Connect());
      return true;
    } catch (const std::exception& e) {
      return Fail(e.what());
    }
  }

 private:
  std::string url_;
  std::string description_;
};

}  // namespace

std::string RedactPostgresUrl(std::string_view url) {
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return "postgresql://?";
  const std::string_view scheme = url.substr(0, scheme_end + 3);
  std::string_view rest = url.substr(scheme_end + 3);
  rest = rest.substr(0, rest.find('?'));  // query parameters may carry password=...
  // The last '@' ends the user information: the host and database name hold none.
  const size_t at = rest.rfind('@');
  if (at == std::string_view::npos) return std::string(scheme) + std::string(rest);
  const std::string_view user_info = rest.substr(0, at);
  const std::string_view user = user_info.substr(0, user_info.find(':'));
  return std::string(scheme) + std::string(user) + "@" + std::string(rest.substr(at + 1));
}

Result<std::unique_ptr<Database>> OpenPostgres(std::string_view url, int pool_size) {
  auto database = std::make_unique<PostgresDatabase>(std::string(url), pool_size);
  if (auto checked = database->Check(); !checked) return tl::unexpected(checked.error());
  return std::unique_ptr<Database>(std::move(database));
}

}  // namespace yagura::store

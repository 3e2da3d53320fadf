// Every test here runs against both engines: SQLite in a temporary file always, PostgreSQL when
// YAGURA_TEST_POSTGRES_URL names a server (scripts/with-postgres starts a throwaway one). Each
// PostgreSQL test works in a schema of its own, dropped afterwards, selected for every pooled
// connection through the URL's `options=-csearch_path=...`.
#include "store/database.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <random>
#include <thread>

// libpqxx 6.4 leaks libpq's error result when a statement fails because the server dropped
// the connection (ALostConnectionIsDiscardedAndReplaced provokes exactly that). The hook is
// read by LeakSanitizer in sanitizer builds and is an unused function otherwise.
extern "C" const char* __lsan_default_suppressions() {
  return "leak:pqxx::connection_base::exec_prepared\n"
         "leak:pqxx::connection_base::register_prepared\n";
}

namespace yagura::store {
namespace {

std::string RandomSuffix() {
  std::random_device device;
  std::mt19937_64 random(device());
  static constexpr char DIGITS[] = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 12; ++i) out += DIGITS[random() % 16];
  return out;
}

class DatabaseTest : public ::testing::TestWithParam<Engine> {
 protected:
  void SetUp() override {
    if (GetParam() == Engine::kSqlite) {
      std::string pattern =
          (std::filesystem::temp_directory_path() / "yagura-store-XXXXXX").string();
      ASSERT_NE(mkdtemp(pattern.data()), nullptr);
      dir_ = pattern;
      target_ = (dir_ / "test.db").string();
    } else {
      const char* url = std::getenv("YAGURA_TEST_POSTGRES_URL");
      if (url == nullptr || *url == '\0') {
        GTEST_SKIP() << "PostgreSQL variant skipped: YAGURA_TEST_POSTGRES_URL is not set. Run "
                        "scripts/with-postgres build/tests/yagura_store_tests to test against a "
                        "throwaway PostgreSQL 15 cluster.";
      }
      auto admin = Database::Open(url, 1);
      ASSERT_TRUE(admin) << admin.error().ToString();
      admin_ = std::move(*admin);
      schema_ = "test_" + RandomSuffix();
      admin_->Acquire()->ExecuteScript("CREATE SCHEMA " + schema_);
      const std::string base(url);
      target_ = base + (base.find('?') == std::string::npos ? "?" : "&") +
                "options=-csearch_path%3D" + schema_;
    }
    db_ = OpenDatabase(4);
  }

  void TearDown() override {
    db_.reset();
    if (admin_) admin_->Acquire()->ExecuteScript("DROP SCHEMA " + schema_ + " CASCADE");
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  std::unique_ptr<Database> OpenDatabase(int pool_size) {
    auto opened = Database::Open(target_, pool_size);
    EXPECT_TRUE(opened) << opened.error().ToString();
    return opened ? std::move(*opened) : nullptr;
  }

  bool IsSqlite() const { return GetParam() == Engine::kSqlite; }
  std::string BlobType() const { return IsSqlite() ? "BLOB" : "BYTEA"; }

  void Script(std::string_view sql) { db_->Acquire()->ExecuteScript(sql); }

  int64_t Count(std::string_view table) {
    return db_->Acquire()
        ->Query("SELECT COUNT(*) AS n FROM " + std::string(table))
        .rows.at(0)
        .at(0)
        .as_int();
  }

  std::filesystem::path dir_;
  std::string schema_;
  std::string target_;
  std::unique_ptr<Database> admin_;
  std::unique_ptr<Database> db_;
};

TEST_P(DatabaseTest, ReportsItsEngine) {
  EXPECT_EQ(db_->engine(), GetParam());
  EXPECT_EQ(db_->Acquire()->engine(), GetParam());
  EXPECT_FALSE(db_->description().empty());
}

TEST_P(DatabaseTest, BindsAndReadsBackEveryParameterType) {
  Script("CREATE TABLE t (id BIGINT PRIMARY KEY, i BIGINT, d DOUBLE PRECISION, s TEXT, b " +
         BlobType() + ", f BIGINT, n TEXT)");
  const std::string text = "櫓 'single' \"double\" \\back $1 ?";
  const std::string bytes("a\0b\xff\x00z", 6);
  auto connection = db_->Acquire();
  EXPECT_EQ(connection->Execute(
                "INSERT INTO t (id, i, d, s, b, f, n) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                {Param{int64_t{1}}, Param{int64_t{-9223372036854775807LL - 1}}, Param{0.1},
                 Param{text}, Param{Blob{bytes}}, Param{true}, Param{nullptr}}),
            1);
  connection->Execute(
      "INSERT INTO t (id, i, d, s, b, f, n) VALUES ($1, $2, $3, $4, $5, $6, $7)",
      {Param{int64_t{2}}, Param{int64_t{9223372036854775807LL}}, Param{-2.5e300},
       Param{std::string()}, Param{Blob{}}, Param{false}, Param{std::string("x")}});

  const Rows rows = connection->Query("SELECT id, i, d, s, b, f, n FROM t ORDER BY id");
  ASSERT_EQ(rows.size(), 2u);
  ASSERT_EQ(rows.columns, (std::vector<std::string>{"id", "i", "d", "s", "b", "f", "n"}));
  const auto& first = rows.rows[0];
  EXPECT_EQ(first[rows.column("id")].as_int(), 1);
  EXPECT_EQ(first[rows.column("i")].as_int(), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(first[rows.column("i")].text(), "-9223372036854775808");
  EXPECT_EQ(first[rows.column("d")].as_double(), 0.1);  // exact: no digits lost
  EXPECT_EQ(first[rows.column("s")].text(), text);
  EXPECT_EQ(first[rows.column("b")].text(), bytes);
  EXPECT_TRUE(first[rows.column("f")].as_bool());
  EXPECT_EQ(first[rows.column("f")].text(), "1");
  EXPECT_TRUE(first[rows.column("n")].is_null());

  const auto& second = rows.rows[1];
  EXPECT_EQ(second[1].as_int(), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(second[2].as_double(), -2.5e300);
  EXPECT_FALSE(second[3].is_null());
  EXPECT_EQ(second[3].text(), "");
  EXPECT_FALSE(second[4].is_null());  // an empty blob is not NULL
  EXPECT_EQ(second[4].text(), "");
  EXPECT_FALSE(second[5].as_bool());
  EXPECT_EQ(second[6].text(), "x");
}

TEST_P(DatabaseTest, DoublesKeepFullPrecision) {
  Script("CREATE TABLE t (id BIGINT PRIMARY KEY, d DOUBLE PRECISION)");
  const std::vector<double> values = {1.0 / 3.0, 1e-300, 123456789.123456789, -0.0, 2.0};
  auto connection = db_->Acquire();
  for (size_t i = 0; i < values.size(); ++i) {
    connection->Execute("INSERT INTO t (id, d) VALUES ($1, $2)",
                        {Param{static_cast<int64_t>(i)}, Param{values[i]}});
  }
  const Rows rows = connection->Query("SELECT d FROM t ORDER BY id");
  ASSERT_EQ(rows.size(), values.size());
  for (size_t i = 0; i < values.size(); ++i) EXPECT_EQ(rows.rows[i][0].as_double(), values[i]);
  EXPECT_EQ(rows.rows[4][0].text(), "2");  // the same spelling on both engines
}

TEST_P(DatabaseTest, PlaceholdersMayRepeatAndComeOutOfOrder) {
  Script("CREATE TABLE t (id BIGINT PRIMARY KEY, a TEXT, b TEXT, c BIGINT)");
  auto connection = db_->Acquire();
  connection->Execute("INSERT INTO t (c, b, a, id) VALUES ($2, $1, $1, $2)",
                      {Param{std::string("one")}, Param{int64_t{7}}});
  connection->Execute("INSERT INTO t (id, a, b, c) VALUES ($3, $2, $1, $3)",
                      {Param{std::string("x")}, Param{std::string("y")}, Param{int64_t{8}}});
  const Rows rows = connection->Query("SELECT id, a, b, c FROM t ORDER BY id");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows.rows[0][0].as_int(), 7);
  EXPECT_EQ(rows.rows[0][1].text(), "one");
  EXPECT_EQ(rows.rows[0][2].text(), "one");
  EXPECT_EQ(rows.rows[0][3].as_int(), 7);
  EXPECT_EQ(rows.rows[1][1].text(), "y");
  EXPECT_EQ(rows.rows[1][2].text(), "x");
  EXPECT_EQ(rows.rows[1][3].as_int(), 8);

  const Rows found = connection->Query("SELECT id FROM t WHERE a = $2 OR c = $1 ORDER BY id",
                                       {Param{int64_t{8}}, Param{std::string("one")}});
  ASSERT_EQ(found.size(), 2u);

  // The same SQL again, with other values, through the statement cache.
  for (int64_t id = 10; id < 20; ++id) {
    connection->Execute("INSERT INTO t (id, a, b, c) VALUES ($3, $2, $1, $3)",
                        {Param{std::string("x")}, Param{std::string("y")}, Param{id}});
  }
  EXPECT_EQ(Count("t"), 12);
}

TEST_P(DatabaseTest, MismatchedPlaceholdersAreErrors) {
  Script("CREATE TABLE t (id BIGINT PRIMARY KEY, a TEXT)");
  auto connection = db_->Acquire();
  EXPECT_THROW(connection->Execute("INSERT INTO t (id, a) VALUES ($1, $2)", {Param{int64_t{1}}}),
               DatabaseError);
  EXPECT_THROW(connection->Execute("INSERT INTO t (id) VALUES ($1)",
                                   {Param{int64_t{1}}, Param{std::string("unused")}}),
               DatabaseError);
  EXPECT_THROW(connection->Query("SELEC 1"), DatabaseError);
  // The connection is still usable after the errors.
  EXPECT_EQ(connection->Execute("INSERT INTO t (id) VALUES ($1)", {Param{int64_t{1}}}), 1);
}

TEST_P(DatabaseTest, NullsBindAndReadAsNull) {
  Script("CREATE TABLE t (id BIGINT PRIMARY KEY, i BIGINT, d DOUBLE PRECISION, s TEXT, b " +
         BlobType() + ")");
  auto connection = db_->Acquire();
  connection->Execute("INSERT INTO t (id, i, d, s, b) VALUES ($1, $2, $3, $4, $5)",
                      {Param{int64_t{1}}, Param{nullptr}, Param{nullptr}, Param{nullptr},
                       Param{nullptr}});
  const Rows rows = connection->Query("SELECT i, d, s, b FROM t WHERE s IS NULL");
  ASSERT_EQ(rows.size(), 1u);
  for (const Field& field : rows.rows[0]) {
    EXPECT_TRUE(field.is_null());
    EXPECT_EQ(field.text(), "");
    EXPECT_EQ(field.as_int(), 0);
    EXPECT_EQ(field.as_double(), 0.0);
    EXPECT_FALSE(field.optional_text().has_value());
  }
  // COALESCE with a NULL parameter.
  const Rows coalesced = connection->Query("SELECT COALESCE($1, s, 'fallback') AS v FROM t",
                                           {Param{nullptr}});
  EXPECT_EQ(coalesced.rows.at(0).at(0).text(), "fallback");
}

TEST_P(DatabaseTest, BlobsKeepEveryByteValue) {
  Script("CREATE TABLE t (id BIGINT PRIMARY KEY, b " + BlobType() + ")");
  std::string all;
  for (int c = 0; c < 256; ++c) all += static_cast<char>(c);
  const std::string zeros(1000, '\0');
  auto connection = db_->Acquire();
  connection->Execute("INSERT INTO t (id, b) VALUES ($1, $2)", {Param{int64_t{1}}, Param{Blob{all}}});
  connection->Execute("INSERT INTO t (id, b) VALUES ($1, $2)",
                      {Param{int64_t{2}}, Param{Blob{zeros}}});
  const Rows rows = connection->Query("SELECT b FROM t ORDER BY id");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows.rows[0][0].text(), all);
  EXPECT_EQ(rows.rows[1][0].text(), zeros);
  // A blob parameter compares with the stored blob.
  EXPECT_EQ(connection->Query("SELECT id FROM t WHERE b = $1", {Param{Blob{zeros}}})
                .rows.at(0)
                .at(0)
                .as_int(),
            2);
}

TEST_P(DatabaseTest, UniqueViolationsAreFlagged) {
  Script("CREATE TABLE t (id BIGINT PRIMARY KEY, name TEXT NOT NULL UNIQUE)");
  auto connection = db_->Acquire();
  connection->Execute("INSERT INTO t (id, name) VALUES ($1, $2)",
                      {Param{int64_t{1}}, Param{std::string("a")}});
  auto insert = [&](int64_t id, Param name) -> DatabaseError {
    try {
      connection->Execute("INSERT INTO t (id, name) VALUES ($1, $2)", {Param{id}, name});
    } catch (const DatabaseError& e) {
      return e;
    }
    ADD_FAILURE() << "no error for id " << id;
    return DatabaseError("none");
  };
  EXPECT_TRUE(insert(1, std::string("b")).unique_violation);  // primary key
  EXPECT_TRUE(insert(2, std::string("a")).unique_violation);  // unique column
  const DatabaseError not_null = insert(3, nullptr);
  EXPECT_FALSE(not_null.unique_violation);
  EXPECT_NE(std::string(not_null.what()).find("name"), std::string::npos) << not_null.what();
  EXPECT_EQ(Count("t"), 1);
}

TEST_P(DatabaseTest, TransactCommitsAndReturnsTheResult) {
  Script("CREATE TABLE t (id BIGINT PRIMARY KEY, v TEXT)");
  const int64_t inserted = db_->Transact([](Connection& connection) {
    int64_t n = 0;
    for (int64_t id = 1; id <= 3; ++id) {
      n += connection.Execute("INSERT INTO t (id, v) VALUES ($1, $2)",
                              {Param{id}, Param{std::string("v")}});
    }
    return n;
  });
  EXPECT_EQ(inserted, 3);
  EXPECT_EQ(Count("t"), 3);
  db_->Transact([](Connection& connection) {
    EXPECT_TRUE(connection.in_transaction());
    connection.Execute("DELETE FROM t WHERE id = $1", {Param{int64_t{1}}});
  });
  EXPECT_EQ(Count("t"), 2);
}

TEST_P(DatabaseTest, TransactRollsBackWhenTheWorkThrows) {
  Script("CREATE TABLE t (id BIGINT PRIMARY KEY, v TEXT)");
  EXPECT_THROW(db_->Transact([](Connection& connection) {
    connection.Execute("INSERT INTO t (id, v) VALUES ($1, $2)",
                       {Param{int64_t{1}}, Param{std::string("gone")}});
    throw std::runtime_error("handler failed");
  }),
               std::runtime_error);
  EXPECT_EQ(Count("t"), 0);

  // A failing statement mid-transaction: the earlier insert is rolled back too.
  EXPECT_THROW(db_->Transact([](Connection& connection) {
    connection.Execute("INSERT INTO t (id, v) VALUES ($1, $2)",
                       {Param{int64_t{2}}, Param{std::string("gone")}});
    connection.Execute("INSERT INTO t (id, v) VALUES ($1, $2)",
                       {Param{int64_t{2}}, Param{std::string("duplicate")}});
  }),
               DatabaseError);
  EXPECT_EQ(Count("t"), 0);

  // The pooled connections are clean afterwards.
  db_->Transact([](Connection& connection) {
    connection.Execute("INSERT INTO t (id, v) VALUES ($1, $2)",
                       {Param{int64_t{3}}, Param{std::string("kept")}});
  });
  EXPECT_EQ(Count("t"), 1);
}

TEST_P(DatabaseTest, ReleasingAConnectionRollsBackWhatItLeftOpen) {
  Script("CREATE TABLE t (id BIGINT PRIMARY KEY)");
  auto db = OpenDatabase(1);  // one connection, so the next borrower gets the same one
  {
    auto connection = db->Acquire();
    connection->Begin();
    connection->Execute("INSERT INTO t (id) VALUES ($1)", {Param{int64_t{1}}});
    EXPECT_TRUE(connection->in_transaction());
  }
  auto connection = db->Acquire();
  EXPECT_FALSE(connection->in_transaction());
  EXPECT_EQ(connection->Query("SELECT COUNT(*) FROM t").rows.at(0).at(0).as_int(), 0);
}

TEST_P(DatabaseTest, ReturningAndOnConflictWorkOnBothEngines) {
  Script("CREATE TABLE t (id BIGINT PRIMARY KEY, v TEXT, hits BIGINT NOT NULL DEFAULT 0)");
  auto connection = db_->Acquire();
  const std::string upsert =
      "INSERT INTO t (id, v, hits) VALUES ($1, $2, 1) ON CONFLICT (id) DO UPDATE SET "
      "v = excluded.v, hits = t.hits + 1 RETURNING id, v, hits";
  Rows rows = connection->Query(upsert, {Param{int64_t{5}}, Param{std::string("first")}});
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows.rows[0][rows.column("hits")].as_int(), 1);
  rows = connection->Query(upsert, {Param{int64_t{5}}, Param{std::string("second")}});
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows.rows[0][rows.column("id")].as_int(), 5);
  EXPECT_EQ(rows.rows[0][rows.column("v")].text(), "second");
  EXPECT_EQ(rows.rows[0][rows.column("hits")].as_int(), 2);

  const std::string insert_new =
      "INSERT INTO t (id, v) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING RETURNING id";
  EXPECT_TRUE(connection->Query(insert_new, {Param{int64_t{5}}, Param{std::string("x")}}).empty());
  EXPECT_EQ(connection->Query(insert_new, {Param{int64_t{6}}, Param{std::string("x")}}).size(), 1u);
  EXPECT_EQ(connection->Execute(insert_new, {Param{int64_t{6}}, Param{std::string("x")}}), 0);

  rows = connection->Query("UPDATE t SET v = $1 RETURNING id", {Param{std::string("all")}});
  EXPECT_EQ(rows.size(), 2u);
  EXPECT_EQ(connection->Execute("DELETE FROM t WHERE v = $1", {Param{std::string("all")}}), 2);
}

TEST_P(DatabaseTest, SelectStarSurvivesAColumnAddedAfterItWasCached) {
  Script("CREATE TABLE t (id BIGINT PRIMARY KEY, a TEXT)");
  auto db = OpenDatabase(1);
  auto connection = db->Acquire();
  connection->Execute("INSERT INTO t (id, a) VALUES ($1, $2)",
                      {Param{int64_t{1}}, Param{std::string("x")}});
  EXPECT_EQ(connection->Query("SELECT * FROM t").columns.size(), 2u);
  connection->ExecuteScript("ALTER TABLE t ADD COLUMN b TEXT");
  const Rows rows = connection->Query("SELECT * FROM t");
  EXPECT_EQ(rows.columns, (std::vector<std::string>{"id", "a", "b"}));
}

std::vector<Migration> SampleMigrations() {
  return {
      {1, "create_users", "CREATE TABLE users (id BIGINT PRIMARY KEY, name TEXT NOT NULL);",
       "CREATE TABLE users (id BIGINT PRIMARY KEY, name TEXT NOT NULL);"},
      {2, "seed_admin",
       "INSERT INTO users (id, name) VALUES (1, 'admin'); CREATE INDEX users_name ON users (name);",
       "INSERT INTO users (id, name) VALUES (1, 'admin'); CREATE INDEX users_name ON users (name);"},
  };
}

TEST_P(DatabaseTest, SchemaVersionOfAnEmptyDatabaseIsZero) { EXPECT_EQ(db_->SchemaVersion(), 0); }

TEST_P(DatabaseTest, MigrateAppliesInOrderAndSkipsWhatWasApplied) {
  std::vector<Migration> migrations = SampleMigrations();
  auto applied = db_->Migrate(migrations);
  ASSERT_TRUE(applied) << applied.error().ToString();
  EXPECT_EQ(*applied, (std::vector<int>{1, 2}));
  EXPECT_EQ(db_->SchemaVersion(), 2);
  EXPECT_EQ(Count("users"), 1);

  applied = db_->Migrate(migrations);  // nothing new: the seed is not inserted twice
  ASSERT_TRUE(applied) << applied.error().ToString();
  EXPECT_TRUE(applied->empty());
  EXPECT_EQ(Count("users"), 1);

  migrations.push_back({5, "add_email", "ALTER TABLE users ADD COLUMN email TEXT;",
                        "ALTER TABLE users ADD COLUMN email TEXT;"});
  applied = db_->Migrate(migrations);
  ASSERT_TRUE(applied) << applied.error().ToString();
  EXPECT_EQ(*applied, (std::vector<int>{5}));
  EXPECT_EQ(db_->SchemaVersion(), 5);

  const Rows recorded = db_->Acquire()->Query(
      "SELECT version, name, applied_at FROM schema_migrations ORDER BY version");
  ASSERT_EQ(recorded.size(), 3u);
  EXPECT_EQ(recorded.rows[2][1].text(), "add_email");
  EXPECT_FALSE(recorded.rows[2][2].text().empty());

  // A migration older than the applied ones that never ran is refused, not silently skipped.
  migrations.insert(migrations.begin() + 2, Migration{3, "late", "SELECT 1;", "SELECT 1;"});
  applied = db_->Migrate(migrations);
  ASSERT_FALSE(applied);
  EXPECT_NE(applied.error().message.find("late"), std::string::npos) << applied.error().message;
}

TEST_P(DatabaseTest, AFailingMigrationLeavesTheEarlierOnesAppliedAndNamesItself) {
  std::vector<Migration> migrations = SampleMigrations();
  const std::string broken =
      "CREATE TABLE half (x BIGINT); INSERT INTO no_such_table (x) VALUES (1);";
  migrations.push_back({3, "broken_step", broken, broken});
  migrations.push_back({4, "never_reached", "CREATE TABLE after (x BIGINT);",
                        "CREATE TABLE after (x BIGINT);"});
  auto applied = db_->Migrate(migrations);
  ASSERT_FALSE(applied);
  const std::string& message = applied.error().message;
  EXPECT_NE(message.find("broken_step"), std::string::npos) << message;
  EXPECT_NE(message.find("no_such_table"), std::string::npos) << message;  // engine's words
  EXPECT_EQ(db_->SchemaVersion(), 2);
  EXPECT_EQ(Count("users"), 1);
  // Migration 3's first statement was rolled back with it.
  EXPECT_THROW(Count("half"), DatabaseError);
  EXPECT_THROW(Count("after"), DatabaseError);

  // Fixed, it applies, and so does the one after it.
  migrations[2].sqlite_sql = migrations[2].postgres_sql = "CREATE TABLE half (x BIGINT);";
  applied = db_->Migrate(migrations);
  ASSERT_TRUE(applied) << applied.error().ToString();
  EXPECT_EQ(*applied, (std::vector<int>{3, 4}));
  EXPECT_EQ(db_->SchemaVersion(), 4);
}

TEST_P(DatabaseTest, MigrationsMustHaveIncreasingVersions) {
  std::vector<Migration> migrations = SampleMigrations();
  std::swap(migrations[0], migrations[1]);
  auto applied = db_->Migrate(migrations);
  ASSERT_FALSE(applied);
  EXPECT_NE(applied.error().message.find("increasing"), std::string::npos);
  EXPECT_EQ(db_->SchemaVersion(), 0);

  migrations = SampleMigrations();
  migrations[1].version = 1;
  EXPECT_FALSE(db_->Migrate(migrations));
  EXPECT_EQ(db_->SchemaVersion(), 0);
}

TEST_P(DatabaseTest, ConcurrentMigratorsApplyEachMigrationOnce) {
  std::vector<Migration> migrations = SampleMigrations();
  std::vector<std::unique_ptr<Database>> handles;
  for (int i = 0; i < 3; ++i) handles.push_back(OpenDatabase(1));
  std::atomic<int> total_applied{0};
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (auto& handle : handles) {
    threads.emplace_back([&, db = handle.get()] {
      auto applied = db->Migrate(migrations);
      if (!applied) {
        ++failures;
        ADD_FAILURE() << applied.error().ToString();
        return;
      }
      total_applied += static_cast<int>(applied->size());
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(total_applied.load(), 2);
  EXPECT_EQ(Count("users"), 1);
}

// Read-modify-write of one counter from several threads through a pool smaller than the number
// of threads: the total is exact only if transactions serialise (SQLite: BEGIN IMMEDIATE and
// the busy timeout; PostgreSQL: the row lock taken by SELECT ... FOR UPDATE).
TEST_P(DatabaseTest, ConcurrentTransactionsOnOneCounterLoseNoUpdate) {
  Script("CREATE TABLE counter (id BIGINT PRIMARY KEY, n BIGINT NOT NULL)");
  db_->Acquire()->Execute("INSERT INTO counter (id, n) VALUES (1, 0)");
  const std::string read = IsSqlite() ? "SELECT n FROM counter WHERE id = 1"
                                      : "SELECT n FROM counter WHERE id = 1 FOR UPDATE";
  auto db = OpenDatabase(3);
  constexpr int THREADS = 6;
  constexpr int INCREMENTS = 40;
  std::vector<std::thread> threads;
  std::atomic<int> errors{0};
  for (int t = 0; t < THREADS; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < INCREMENTS; ++i) {
        try {
          db->Transact([&](Connection& connection) {
            const int64_t n = connection.Query(read).rows.at(0).at(0).as_int();
            connection.Execute("UPDATE counter SET n = $1 WHERE id = 1", {Param{n + 1}});
          });
        } catch (const std::exception& e) {
          if (errors++ == 0) ADD_FAILURE() << e.what();
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(db->Acquire()->Query("SELECT n FROM counter").rows.at(0).at(0).as_int(),
            THREADS * INCREMENTS);
}

TEST_P(DatabaseTest, AcquireWaitsForAConnectionToBeReturned) {
  auto db = OpenDatabase(1);
  std::mutex mutex;
  std::vector<std::string> order;
  std::thread borrower;
  {
    auto held = db->Acquire();
    borrower = std::thread([&] {
      auto connection = db->Acquire();  // must wait for `held`
      std::lock_guard lock(mutex);
      order.push_back("borrower");
    });
    // Give the borrower every chance to overtake if Acquire did not block.
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    std::lock_guard lock(mutex);
    order.push_back("holder");
  }
  borrower.join();
  EXPECT_EQ(order, (std::vector<std::string>{"holder", "borrower"}));
}

TEST_P(DatabaseTest, ALostConnectionIsDiscardedAndReplaced) {
  if (IsSqlite()) GTEST_SKIP() << "needs a server that can drop a connection";
  auto db = OpenDatabase(1);
  int64_t first_backend = 0;
  {
    auto connection = db->Acquire();
    first_backend = connection->Query("SELECT pg_backend_pid()").rows.at(0).at(0).as_int();
    // Waits (up to 10 s) until the backend has exited.
    EXPECT_TRUE(admin_->Acquire()
                    ->Query("SELECT pg_terminate_backend($1, 10000)", {Param{first_backend}})
                    .rows.at(0)
                    .at(0)
                    .as_bool());
    EXPECT_THROW(connection->Query("SELECT pg_backend_pid()"), DatabaseError);
    EXPECT_FALSE(connection->healthy());
  }
  auto connection = db->Acquire();  // a new connection, not the dead one
  EXPECT_TRUE(connection->healthy());
  const int64_t second_backend =
      connection->Query("SELECT pg_backend_pid()").rows.at(0).at(0).as_int();
  EXPECT_NE(second_backend, first_backend);
}

TEST_P(DatabaseTest, PooledConnectionsCanBeMoved) {
  auto db = OpenDatabase(1);
  auto first = db->Acquire();
  PooledConnection moved(std::move(first));
  EXPECT_EQ(moved->Query("SELECT 1 AS one").rows.at(0).at(0).as_int(), 1);
}

TEST_P(DatabaseTest, ScriptsRunSeveralStatements) {
  Script("CREATE TABLE a (x BIGINT); CREATE TABLE b (y BIGINT); INSERT INTO a (x) VALUES (1);");
  EXPECT_EQ(Count("a"), 1);
  EXPECT_EQ(Count("b"), 0);
  EXPECT_THROW(Script("INSERT INTO missing (x) VALUES (1);"), DatabaseError);
}

INSTANTIATE_TEST_SUITE_P(Engines, DatabaseTest,
                         ::testing::Values(Engine::kSqlite, Engine::kPostgres),
                         [](const ::testing::TestParamInfo<Engine>& info) {
                           return info.param == Engine::kSqlite ? "Sqlite" : "Postgres";
                         });

}  // namespace
}  // namespace yagura::store

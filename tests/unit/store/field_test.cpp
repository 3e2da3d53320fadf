// The engine-independent pieces: field conversion, column lookup, URL redaction, and Open's
// errors (which need no server: nothing listens on 127.0.0.1 port 1).
#include <gtest/gtest.h>

#include <filesystem>

#include "store/database.hpp"
#include "store/engines.hpp"

namespace yagura::store {
namespace {

TEST(Field, ConvertsNumbersFromTheirText) {
  EXPECT_EQ(Field("42").as_int(), 42);
  EXPECT_EQ(Field("-9223372036854775808").as_int(), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(Field("2.75").as_int(), 2);  // e.g. a PostgreSQL numeric aggregate
  EXPECT_EQ(Field("abc").as_int(), 0);
  EXPECT_EQ(Field("12abc").as_int(), 0);
  EXPECT_EQ(Field("").as_int(), 0);
  EXPECT_EQ(Field("0.1").as_double(), 0.1);
  EXPECT_EQ(Field("-Infinity").as_double(), -std::numeric_limits<double>::infinity());
  EXPECT_EQ(Field("x").as_double(), 0.0);
  EXPECT_TRUE(Field("1").as_bool());
  EXPECT_FALSE(Field("0").as_bool());
}

TEST(Field, NullIsDistinctFromEmpty) {
  Field null;
  EXPECT_TRUE(null.is_null());
  EXPECT_EQ(null.text(), "");
  EXPECT_EQ(null.optional_text(), std::nullopt);
  Field empty{std::string()};
  EXPECT_FALSE(empty.is_null());
  EXPECT_EQ(empty.optional_text(), std::optional<std::string>(""));
}

TEST(Rows, ColumnLookupNamesTheMissingColumn) {
  Rows rows;
  rows.columns = {"id", "name"};
  EXPECT_EQ(rows.column("name"), 1u);
  try {
    (void)rows.column("email");
    FAIL() << "no exception";
  } catch (const std::out_of_range& e) {
    EXPECT_NE(std::string(e.what()).find("email"), std::string::npos);
  }
}

TEST(DoubleText, ShortestRoundTripAndPostgresSpellings) {
  EXPECT_EQ(DoubleText(0.1), "0.1");
  EXPECT_EQ(DoubleText(2.0), "2");
  EXPECT_EQ(DoubleText(1.0 / 3.0), "0.3333333333333333");
  EXPECT_EQ(DoubleText(std::numeric_limits<double>::infinity()), "Infinity");
  EXPECT_EQ(DoubleText(std::numeric_limits<double>::quiet_NaN()), "NaN");
}

TEST(RedactPostgresUrl, DropsThePasswordAndTheQuery) {
  EXPECT_EQ(RedactPostgresUrl("postgresql://yagura:s3cret@127.0.0.1:5432/yagura"),
            "postgresql://yagura@127.0.0.1:5432/yagura");
  EXPECT_EQ(RedactPostgresUrl("postgres://u:p@ss@db:1/x?password=other&sslmode=require"),
            "postgres://u@db:1/x");
  EXPECT_EQ(RedactPostgresUrl("postgresql://yagura@127.0.0.1:5432/yagura"),
            "postgresql://yagura@127.0.0.1:5432/yagura");
  EXPECT_EQ(RedactPostgresUrl("postgresql://127.0.0.1/yagura"), "postgresql://127.0.0.1/yagura");
}

TEST(DatabaseOpen, ReportsAnUnreachableServerWithoutThePassword) {
  auto opened = Database::Open("postgresql://yagura:topsecret@127.0.0.1:1/yagura", 2);
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error().message.find("topsecret"), std::string::npos)
      << opened.error().message;
  EXPECT_NE(opened.error().message.find("127.0.0.1"), std::string::npos);
}

TEST(DatabaseOpen, ReportsAnUnopenableSqliteFile) {
  auto opened = Database::Open("/nonexistent-dir/yagura/test.db");
  ASSERT_FALSE(opened);
  EXPECT_NE(opened.error().message.find("/nonexistent-dir"), std::string::npos);
}

TEST(DatabaseOpen, InMemorySqliteUsesOneConnection) {
  auto opened = Database::Open(":memory:", 8);
  ASSERT_TRUE(opened) << opened.error().ToString();
  auto& db = **opened;
  EXPECT_EQ(db.pool_size(), 1);
  EXPECT_EQ(db.description(), "sqlite::memory:");
  db.Acquire()->ExecuteScript("CREATE TABLE t (x BIGINT)");
  db.Acquire()->Execute("INSERT INTO t (x) VALUES ($1)", {Param{int64_t{3}}});
  EXPECT_EQ(db.Acquire()->Query("SELECT x FROM t").rows.at(0).at(0).as_int(), 3);
}

}  // namespace
}  // namespace yagura::store

// A migrated database for hub tests: SQLite in a temporary file always, and PostgreSQL when
// YAGURA_TEST_POSTGRES_URL names a server (scripts/with-postgres starts a throwaway one), each
// test in a schema of its own that is dropped afterwards.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <random>
#include <string>

#include "hub/schema.hpp"
#include "store/database.hpp"

namespace yagura::hub::testing {

enum class Backend { kSqlite, kPostgres };

inline std::string BackendName(const ::testing::TestParamInfo<Backend>& info) {
  return info.param == Backend::kSqlite ? "Sqlite" : "Postgres";
}

class TestDatabase {
 public:
  // Returns false (and the caller should GTEST_SKIP) when the backend is not available.
  bool Open(Backend backend, std::string& skip_reason) {
    std::random_device random;
    suffix_ = std::to_string(random()) + std::to_string(random());
    if (backend == Backend::kSqlite) {
      dir_ = std::filesystem::temp_directory_path() / ("yagura-hub-test-" + suffix_);
      std::filesystem::create_directories(dir_);
      auto database = store::Database::Open((dir_ / "test.db").string(), 8);
      if (!database) {
        skip_reason = database.error().ToString();
        return false;
      }
      database_ = std::move(*database);
    } else {
      const char* url = std::getenv("YAGURA_TEST_POSTGRES_URL");
      if (url == nullptr || *url == '\0') {
        skip_reason =
            "PostgreSQL variant skipped: YAGURA_TEST_POSTGRES_URL is not set (run the test "
            "through scripts/with-postgres)";
        return false;
      }
      auto admin = store::Database::Open(url, 1);
      if (!admin) {
        skip_reason = admin.error().ToString();
        return false;
      }
      admin_ = std::move(*admin);
      schema_ = "hub_test_" + suffix_;
      admin_->Acquire()->ExecuteScript("CREATE SCHEMA " + schema_);
      std::string target = url;
      target += (target.find('?') == std::string::npos ? "?" : "&");
      target += "options=-csearch_path%3D" + schema_;
      auto database = store::Database::Open(target, 8);
      if (!database) {
        skip_reason = database.error().ToString();
        return false;
      }
      database_ = std::move(*database);
    }
    auto migrated = MigrateSchema(*database_);
    if (!migrated) {
      ADD_FAILURE() << migrated.error().ToString();
      return false;
    }
    return true;
  }

  ~TestDatabase() {
    database_.reset();
    if (admin_ && !schema_.empty()) {
      try {
        admin_->Acquire()->ExecuteScript("DROP SCHEMA " + schema_ + " CASCADE");
      } catch (...) {
      }
    }
    if (!dir_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
    }
  }

  store::Database& operator*() { return *database_; }
  store::Database* operator->() { return database_.get(); }
  [[nodiscard]] const std::filesystem::path& dir() const { return dir_; }

 private:
  std::string suffix_;
  std::filesystem::path dir_;
  std::string schema_;
  std::unique_ptr<store::Database> admin_;
  std::unique_ptr<store::Database> database_;
};

}  // namespace yagura::hub::testing

#include "hub/audit_log.hpp"

#include <gtest/gtest.h>

#include <thread>

#include "hub_test_database.hpp"

namespace yagura::hub {
namespace {

using store::Param;
using testing::Backend;

class AuditLogTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    std::string reason;
    if (!database_.Open(GetParam(), reason)) GTEST_SKIP() << reason;
  }

  AuditEntry Entry(std::string action, std::string object_id) {
    AuditEntry entry;
    entry.actor_id = "user-1";
    entry.actor_org_id = "org-1";
    entry.action = std::move(action);
    entry.object_type = "incident";
    entry.object_id = std::move(object_id);
    entry.tlp = Tlp::kAmber;
    entry.remote_address = "127.0.0.1";
    entry.detail = R"({"field":"value"})";
    return entry;
  }

  void AppendSome(int count) {
    database_->Transact([&](store::Connection& connection) {
      for (int i = 0; i < count; ++i) {
        AuditLog::Append(connection, Entry("incident.update", "inc-" + std::to_string(i)),
                         1000 + i);
      }
    });
  }

  AuditVerification Verify() {
    store::PooledConnection connection = database_->Acquire();
    return AuditLog::Verify(*connection);
  }

  void Sql(const std::string& sql) { database_->Acquire()->ExecuteScript(sql); }

  testing::TestDatabase database_;
};

TEST_P(AuditLogTest, AnEmptyLogIsIntact) {
  AuditVerification verification = Verify();
  EXPECT_TRUE(verification.intact) << verification.problem;
  EXPECT_EQ(verification.entries, 0);
}

TEST_P(AuditLogTest, ChainsEntriesAndVerifiesThem) {
  AppendSome(5);
  store::PooledConnection connection = database_->Acquire();
  auto entries = AuditLog::List(*connection, 0, 100);
  ASSERT_EQ(entries.size(), 5u);
  EXPECT_EQ(entries[0].prev_hash, std::string(64, '0'));
  for (size_t i = 1; i < entries.size(); ++i) {
    EXPECT_EQ(entries[i].prev_hash, entries[i - 1].hash);
    EXPECT_EQ(entries[i].seq, entries[i - 1].seq + 1);
  }
  EXPECT_EQ(entries[2].entry.object_id, "inc-2");
  EXPECT_EQ(entries[2].entry.detail, R"({"field":"value"})");
  AuditVerification verification = AuditLog::Verify(*connection);
  EXPECT_TRUE(verification.intact) << verification.problem;
  EXPECT_EQ(verification.entries, 5);
}

TEST_P(AuditLogTest, PagesAndFilters) {
  AppendSome(7);
  database_->Transact([&](store::Connection& connection) {
    AuditEntry login = Entry("auth.login", "");
    login.actor_id = "user-2";
    AuditLog::Append(connection, login, 5000);
  });
  store::PooledConnection connection = database_->Acquire();
  auto first = AuditLog::List(*connection, 0, 3);
  ASSERT_EQ(first.size(), 3u);
  auto second = AuditLog::List(*connection, first.back().seq, 3);
  ASSERT_EQ(second.size(), 3u);
  EXPECT_EQ(second.front().seq, 4);
  auto by_actor = AuditLog::List(*connection, 0, 100, "user-2");
  ASSERT_EQ(by_actor.size(), 1u);
  EXPECT_EQ(by_actor[0].entry.action, "auth.login");
  auto by_action = AuditLog::List(*connection, 0, 100, "", "incident.");
  EXPECT_EQ(by_action.size(), 7u);
}

TEST_P(AuditLogTest, RolledBackWritesLeaveNoEntry) {
  AppendSome(2);
  EXPECT_THROW(database_->Transact([&](store::Connection& connection) {
    AuditLog::Append(connection, Entry("incident.create", "doomed"), 3000);
    throw std::runtime_error("the change failed");
  }),
               std::runtime_error);
  AuditVerification verification = Verify();
  EXPECT_TRUE(verification.intact) << verification.problem;
  EXPECT_EQ(verification.entries, 2);
}

TEST_P(AuditLogTest, DetectsAnAlteredEntry) {
  AppendSome(5);
  Sql("UPDATE audit_log SET object_id = 'inc-forged' WHERE seq = 3");
  AuditVerification verification = Verify();
  EXPECT_FALSE(verification.intact);
  EXPECT_EQ(verification.first_bad_seq, 3);
  EXPECT_NE(verification.problem.find("altered"), std::string::npos) << verification.problem;
}

TEST_P(AuditLogTest, DetectsAnAlteredEntryWhoseHashWasRecomputed) {
  AppendSome(5);
  // A forger who recomputes the altered entry's own hash still breaks its successor's link.
  store::PooledConnection connection = database_->Acquire();
  auto entries = AuditLog::List(*connection, 0, 100);
  AuditEntry forged = entries[1].entry;
  forged.outcome = "denied";
  std::string hash = AuditLog::HashOf(2, entries[1].at, forged, entries[1].prev_hash);
  connection->Execute("UPDATE audit_log SET outcome = 'denied', hash = $1 WHERE seq = 2",
                      {Param{hash}});
  AuditVerification verification = AuditLog::Verify(*connection);
  EXPECT_FALSE(verification.intact);
  EXPECT_EQ(verification.first_bad_seq, 3);
  EXPECT_NE(verification.problem.find("does not follow"), std::string::npos);
}

TEST_P(AuditLogTest, DetectsARemovedEntry) {
  AppendSome(5);
  Sql("DELETE FROM audit_log WHERE seq = 2");
  AuditVerification verification = Verify();
  EXPECT_FALSE(verification.intact);
  EXPECT_EQ(verification.first_bad_seq, 2);
  EXPECT_NE(verification.problem.find("missing"), std::string::npos);
}

TEST_P(AuditLogTest, DetectsEntriesRemovedFromTheEnd) {
  AppendSome(5);
  Sql("DELETE FROM audit_log WHERE seq >= 4");
  AuditVerification verification = Verify();
  EXPECT_FALSE(verification.intact);
  EXPECT_EQ(verification.first_bad_seq, 4);
  EXPECT_NE(verification.problem.find("removed from the end"), std::string::npos);
}

TEST_P(AuditLogTest, DetectsReorderedEntries) {
  AppendSome(5);
  // Swap entries 2 and 3 (their sequence numbers), as a forger reordering history would.
  Sql("UPDATE audit_log SET seq = 100 WHERE seq = 2");
  Sql("UPDATE audit_log SET seq = 2 WHERE seq = 3");
  Sql("UPDATE audit_log SET seq = 3 WHERE seq = 100");
  AuditVerification verification = Verify();
  EXPECT_FALSE(verification.intact);
  EXPECT_EQ(verification.first_bad_seq, 2);
}

TEST_P(AuditLogTest, GroupCommitsConcurrentRecords) {
  AuditLog log(*database_);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) log.Record(Entry("incident.read", std::to_string(t * 100 + i)));
    });
  }
  for (auto& thread : threads) thread.join();
  AuditVerification verification = Verify();
  EXPECT_TRUE(verification.intact) << verification.problem;
  EXPECT_EQ(verification.entries, 100);
}

INSTANTIATE_TEST_SUITE_P(Backends, AuditLogTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         testing::BackendName);

}  // namespace
}  // namespace yagura::hub

namespace yagura::hub {
namespace {

class AsyncAuditLogTest : public ::testing::TestWithParam<testing::Backend> {
 protected:
  void SetUp() override {
    std::string reason;
    if (!database_.Open(GetParam(), reason)) GTEST_SKIP() << reason;
  }
  testing::TestDatabase database_;
};

TEST_P(AsyncAuditLogTest, RecordsReturnAtOnceAndFlushCommitsThemAll) {
  {
    AuditLog log(*database_, ReadAuditMode::kAsynchronous);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < 250; ++i) {
          AuditEntry entry;
          entry.actor_id = "reader-" + std::to_string(t);
          entry.action = "incident.read";
          entry.object_type = "incident";
          entry.object_id = std::to_string(i);
          entry.tlp = Tlp::kAmber;
          log.Record(entry);
        }
      });
    }
    for (auto& thread : threads) thread.join();
    log.Flush();
    EXPECT_EQ(log.pending(), 0u);
    store::PooledConnection connection = database_->Acquire();
    AuditVerification verification = AuditLog::Verify(*connection);
    EXPECT_TRUE(verification.intact) << verification.problem;
    EXPECT_EQ(verification.entries, 1000);
  }
}

TEST_P(AsyncAuditLogTest, EntriesQueuedAtShutdownAreCommitted) {
  {
    AuditLog log(*database_, ReadAuditMode::kAsynchronous);
    for (int i = 0; i < 100; ++i) {
      AuditEntry entry;
      entry.actor_id = "reader";
      entry.action = "incident.read";
      entry.object_type = "incident";
      entry.object_id = std::to_string(i);
      log.Record(entry);
    }
  }  // the destructor drains the queue
  store::PooledConnection connection = database_->Acquire();
  EXPECT_EQ(AuditLog::Verify(*connection).entries, 100);
}

INSTANTIATE_TEST_SUITE_P(Backends, AsyncAuditLogTest,
                         ::testing::Values(testing::Backend::kSqlite, testing::Backend::kPostgres),
                         testing::BackendName);

}  // namespace
}  // namespace yagura::hub

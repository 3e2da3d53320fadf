// TAXII collections in the hub, on SQLite and (with YAGURA_TEST_POSTGRES_URL) PostgreSQL:
// paging edge cases (many objects with one timestamp, limit 1, added_after equal to a
// date_added, next mixed with added_after, a restart from the last date_added, a clock that
// went back), versions, deletion, per-object validation with reasons, TLP per reader, and the
// STIX primitives (UUIDv5 observables, JCS, timestamps, TLP 2.0 ids).
#include <gtest/gtest.h>

#include <set>

#include <fmt/format.h>

#include "core/time.hpp"
#include "hub/identity.hpp"
#include "hub/stix_export.hpp"
#include "hub/taxii.hpp"
#include "unit/hub/hub_test_database.hpp"

namespace yagura::hub {
namespace {

using testing::Backend;

constexpr int64_t T0 = 1'795'000'000'000;  // 2026-11-18, ms

std::string Indicator(const std::string& id, const std::string& modified,
                      const std::string& marking = {}) {
  std::string markings =
      marking.empty() ? std::string() : fmt::format(R"(,"object_marking_refs":["{}"])", marking);
  return fmt::format(
      R"({{"type":"indicator","spec_version":"2.1","id":"{}","created":"2026-01-01T00:00:00.000Z",)"
      R"("modified":"{}","pattern":"[ipv4-addr:value = '198.51.100.1']","pattern_type":"stix",)"
      R"("valid_from":"2026-01-01T00:00:00Z"{}}})",
      id, modified, markings);
}

JsonValue::Array Envelope(const std::vector<std::string>& objects) {
  JsonValue::Array array;
  for (const auto& text : objects) array.push_back(JsonValue::Parse(text).value());
  return array;
}

std::string IdOf(int i) { return fmt::format("indicator--{:08x}-0000-4000-8000-000000000000", i); }

class TaxiiTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    std::string skip;
    if (!db_.Open(GetParam(), skip)) {
      if (!skip.empty()) GTEST_SKIP() << skip;
      FAIL() << "no database";
    }
    auto boot = BootstrapCentre(*db_, "duty", "duty officer password");
    ASSERT_TRUE(boot) << boot.error().message;
    duty_.user_id = boot->user_id;
    duty_.org_id = boot->org_id;
    duty_.org_type = OrgType::kCentre;
    duty_.roles = {Role::kCentreAdmin};
    analyst_ = duty_;
    analyst_.user_id = "analyst-user";
    analyst_.roles = {Role::kCentreAnalyst};
    member_ = Partner("CERT A");
    outsider_ = Partner("CERT B");
    other_member_ = Partner("CERT C");
  }

  Principal Partner(const std::string& name) {
    NewOrganization org;
    org.name = name;
    org.type = OrgType::kPartnerCert;
    auto created = CreateOrganization(*db_, duty_, org);
    EXPECT_TRUE(created) << created.error().message;
    Principal p;
    p.user_id = "user-of-" + (created ? created->id : name);
    p.org_id = created ? created->id : "";
    p.org_type = OrgType::kPartnerCert;
    p.roles = {Role::kPartner};
    return p;
  }

  // A collection with member_ and other_member_ reading and writing.
  TaxiiCollection Collection(Tlp max_tlp = Tlp::kAmber) {
    return db_->Transact([&](store::Connection& c) {
      NewTaxiiCollection input;
      input.title = "Sharing group";
      input.max_tlp = max_tlp;
      auto created = CreateTaxiiCollection(c, duty_, input, T0);
      EXPECT_TRUE(created) << created.error().message;
      for (const Principal* p : {&member_, &other_member_}) {
        auto granted = SetTaxiiAccess(c, duty_, created->id, {p->org_id, true, true, 0}, T0);
        EXPECT_TRUE(granted) << granted.error().message;
      }
      return *created;
    });
  }

  TaxiiCollection As(const Principal& p, const TaxiiCollection& collection) {
    auto connection = db_->Acquire();
    auto loaded = GetTaxiiCollection(*connection, p, {}, collection.id);
    EXPECT_TRUE(loaded) << loaded.error().message;
    return loaded ? *loaded : collection;
  }

  TaxiiStatus Add(const Principal& p, const TaxiiCollection& collection,
                  const std::vector<std::string>& objects, int64_t now_ms) {
    TaxiiCollection mine = As(p, collection);
    return db_->Transact([&](store::Connection& c) {
      auto status = AddTaxiiObjects(c, p, mine, Envelope(objects), now_ms);
      EXPECT_TRUE(status) << status.error().message;
      return status ? *status : TaxiiStatus{};
    });
  }

  TaxiiPage Query(const Principal& p, const TaxiiCollection& collection, TaxiiQuery query) {
    TaxiiCollection mine = As(p, collection);
    auto connection = db_->Acquire();
    auto page = QueryTaxiiObjects(*connection, p, mine, query);
    EXPECT_TRUE(page) << page.error().message;
    return page ? *page : TaxiiPage{};
  }

  std::vector<std::string> Ids(const TaxiiPage& page) {
    std::vector<std::string> ids;
    for (const auto& item : page.items) ids.push_back(item.stix_id);
    return ids;
  }

  // Everything readable, walked with `limit` per page through next.
  std::vector<TaxiiObjectRecord> Walk(const Principal& p, const TaxiiCollection& collection,
                                      int limit, TaxiiQuery query = {}) {
    std::vector<TaxiiObjectRecord> all;
    query.limit = limit;
    for (int guard = 0; guard < 10000; ++guard) {
      TaxiiPage page = Query(p, collection, query);
      for (auto& item : page.items) all.push_back(item);
      if (!page.more) break;
      EXPECT_FALSE(page.items.empty());
      query.next_us = DecodeTaxiiNext(collection.id,
                                      EncodeTaxiiNext(collection.id, page.items.back().date_added_us));
    }
    return all;
  }

  testing::TestDatabase db_;
  Principal duty_, analyst_, member_, outsider_, other_member_;
};

TEST_P(TaxiiTest, FiftyObjectsWithOneTimestampWalkOneByOne) {
  TaxiiCollection collection = Collection();
  std::vector<std::string> objects;
  for (int i = 0; i < 50; ++i) objects.push_back(Indicator(IdOf(i), "2026-01-01T00:00:00.000Z"));
  TaxiiStatus status = Add(member_, collection, objects, T0);
  ASSERT_EQ(status.successes.size(), 50u);
  ASSERT_TRUE(status.failures.empty()) << status.failures.front().message;

  std::vector<TaxiiObjectRecord> walked = Walk(other_member_, collection, 1);
  ASSERT_EQ(walked.size(), 50u);
  std::set<std::string> ids;
  std::set<int64_t> dates;
  for (size_t i = 0; i < walked.size(); ++i) {
    ids.insert(walked[i].stix_id);
    dates.insert(walked[i].date_added_us);
    EXPECT_EQ(walked[i].stix_id, IdOf(static_cast<int>(i)));  // the order they were posted in
    if (i > 0) {
      EXPECT_GT(walked[i].date_added_us, walked[i - 1].date_added_us);
    }
  }
  EXPECT_EQ(ids.size(), 50u);
  EXPECT_EQ(dates.size(), 50u) << "date_added must be unique within the collection";
  EXPECT_EQ(walked.front().date_added_us, T0 * 1000);
  EXPECT_EQ(walked.back().date_added_us, T0 * 1000 + 49);
}

TEST_P(TaxiiTest, AddedAfterEqualToADateAddedIsStrictlyAfter) {
  TaxiiCollection collection = Collection();
  std::vector<std::string> objects;
  for (int i = 0; i < 10; ++i) objects.push_back(Indicator(IdOf(i), "2026-01-01T00:00:00.000Z"));
  Add(member_, collection, objects, T0);
  std::vector<TaxiiObjectRecord> all = Walk(member_, collection, 1000);
  ASSERT_EQ(all.size(), 10u);
  for (size_t k = 0; k < all.size(); ++k) {
    TaxiiQuery query;
    query.added_after_us = all[k].date_added_us;
    TaxiiPage page = Query(member_, collection, query);
    ASSERT_EQ(page.items.size(), all.size() - k - 1) << "added_after = date_added of #" << k;
    if (!page.items.empty()) {
      EXPECT_EQ(page.items.front().stix_id, all[k + 1].stix_id);
    }
  }
  // One microsecond before the first date_added includes it.
  TaxiiQuery before;
  before.added_after_us = all.front().date_added_us - 1;
  EXPECT_EQ(Query(member_, collection, before).items.size(), 10u);
}

TEST_P(TaxiiTest, MixingNextAndAddedAfterNeitherLosesNorRepeats) {
  TaxiiCollection collection = Collection();
  std::vector<std::string> objects;
  for (int i = 0; i < 20; ++i) objects.push_back(Indicator(IdOf(i), "2026-01-01T00:00:00.000Z"));
  Add(member_, collection, objects, T0);

  std::vector<std::string> seen;
  TaxiiQuery query;
  query.limit = 7;
  TaxiiPage first = Query(member_, collection, query);
  for (auto id : Ids(first)) seen.push_back(id);
  ASSERT_TRUE(first.more);
  query.next_us = first.items.back().date_added_us;
  TaxiiPage second = Query(member_, collection, query);
  for (auto id : Ids(second)) seen.push_back(id);

  // Objects added meanwhile, with the same clock reading: they go after everything seen.
  std::vector<std::string> later;
  for (int i = 20; i < 25; ++i) later.push_back(Indicator(IdOf(i), "2026-01-01T00:00:00.000Z"));
  Add(other_member_, collection, later, T0);

  // Switch to added_after = the last page's X-TAXII-Date-Added-Last, keeping next as well.
  TaxiiQuery switched;
  switched.limit = 7;
  switched.added_after_us = second.items.back().date_added_us;
  switched.next_us = first.items.back().date_added_us;  // an older next must not rewind
  for (int guard = 0; guard < 100; ++guard) {
    TaxiiPage page = Query(member_, collection, switched);
    for (auto id : Ids(page)) seen.push_back(id);
    if (!page.more) break;
    switched.next_us = page.items.back().date_added_us;
  }
  std::set<std::string> unique(seen.begin(), seen.end());
  EXPECT_EQ(seen.size(), 25u);
  EXPECT_EQ(unique.size(), 25u);
}

TEST_P(TaxiiTest, RestartFromTheLastDateAddedAfterTheClockWentBack) {
  TaxiiCollection collection = Collection();
  std::vector<std::string> objects;
  for (int i = 0; i < 12; ++i) objects.push_back(Indicator(IdOf(i), "2026-01-01T00:00:00.000Z"));
  Add(member_, collection, objects, T0);
  std::vector<TaxiiObjectRecord> read = Walk(member_, collection, 5);
  ASSERT_EQ(read.size(), 12u);
  int64_t last = read.back().date_added_us;

  // The server's clock is behind the last date_added (NTP step): new objects still sort after.
  std::vector<std::string> more;
  for (int i = 12; i < 17; ++i) more.push_back(Indicator(IdOf(i), "2026-01-01T00:00:00.000Z"));
  Add(member_, collection, more, T0 - 60'000);
  TaxiiQuery restart;
  restart.added_after_us = last;
  std::vector<TaxiiObjectRecord> rest = Walk(member_, collection, 2, restart);
  ASSERT_EQ(rest.size(), 5u);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(rest[static_cast<size_t>(i)].stix_id, IdOf(12 + i));
    EXPECT_GT(rest[static_cast<size_t>(i)].date_added_us, last);
  }
}

TEST_P(TaxiiTest, LimitIsCappedAndMoreIsExact) {
  TaxiiCollection collection = Collection();
  std::vector<std::string> objects;
  for (int i = 0; i < 3; ++i) objects.push_back(Indicator(IdOf(i), "2026-01-01T00:00:00.000Z"));
  Add(member_, collection, objects, T0);
  TaxiiQuery query;
  query.limit = 3;
  EXPECT_FALSE(Query(member_, collection, query).more);  // exactly a page: no phantom page
  query.limit = 2;
  EXPECT_TRUE(Query(member_, collection, query).more);
  query.limit = 1'000'000;
  EXPECT_EQ(Query(member_, collection, query).items.size(), 3u);
}

TEST_P(TaxiiTest, VersionsFirstLastAllAndOne) {
  TaxiiCollection collection = Collection();
  std::string id = IdOf(1);
  Add(member_, collection,
      {Indicator(id, "2026-01-01T00:00:00.000Z"), Indicator(id, "2026-02-01T00:00:00.000Z"),
       Indicator(id, "2026-03-01T00:00:00.123456Z"), Indicator(IdOf(2), "2026-01-01T00:00:00.000Z")},
      T0);
  TaxiiQuery query;
  query.ids = {id};
  TaxiiPage last = Query(member_, collection, query);
  ASSERT_EQ(last.items.size(), 1u);
  EXPECT_EQ(last.items[0].version, "2026-03-01T00:00:00.123456Z");
  query.first = true;
  query.last = false;
  TaxiiPage first = Query(member_, collection, query);
  ASSERT_EQ(first.items.size(), 1u);
  EXPECT_EQ(first.items[0].version, "2026-01-01T00:00:00.000Z");
  query.first = false;
  query.all = true;
  EXPECT_EQ(Query(member_, collection, query).items.size(), 3u);
  query.all = false;
  query.version_times = {*ParseTaxiiTimestampUs("2026-02-01T00:00:00Z", false)};
  TaxiiPage one = Query(member_, collection, query);
  ASSERT_EQ(one.items.size(), 1u);
  EXPECT_EQ(one.items[0].version, "2026-02-01T00:00:00.000Z");
  // Without match[id], "last" is per object.
  EXPECT_EQ(Query(member_, collection, TaxiiQuery{}).items.size(), 2u);
  // The same version again is a success without a second copy.
  TaxiiStatus again = Add(member_, collection, {Indicator(id, "2026-02-01T00:00:00.000Z")}, T0);
  ASSERT_EQ(again.successes.size(), 1u);
  EXPECT_EQ(again.successes[0].message, "already present");
  TaxiiQuery every;
  every.all = true;
  EXPECT_EQ(Query(member_, collection, every).items.size(), 4u);
}

TEST_P(TaxiiTest, DeleteHidesAndKeepsPositions) {
  TaxiiCollection collection = Collection();
  Add(member_, collection,
      {Indicator(IdOf(1), "2026-01-01T00:00:00.000Z"), Indicator(IdOf(2), "2026-01-01T00:00:00.000Z")},
      T0);
  // Another organisation may not delete what the member shared.
  db_->Transact([&](store::Connection& c) {
    auto refused = DeleteTaxiiObject(c, other_member_, As(other_member_, collection), IdOf(1), {}, T0);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().kind, TaxiiErrorKind::kForbidden);
    auto deleted = DeleteTaxiiObject(c, member_, As(member_, collection), IdOf(1), {}, T0);
    ASSERT_TRUE(deleted) << deleted.error().message;
    EXPECT_EQ(*deleted, 1);
  });
  EXPECT_EQ(Ids(Query(member_, collection, {})), std::vector<std::string>{IdOf(2)});
  // Added again: a new date_added after everything, never an old position.
  Add(member_, collection, {Indicator(IdOf(1), "2026-01-01T00:00:00.000Z")}, T0);
  std::vector<TaxiiObjectRecord> all = Walk(member_, collection, 10);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[1].stix_id, IdOf(1));
  EXPECT_GT(all[1].date_added_us, all[0].date_added_us);
}

TEST_P(TaxiiTest, MalformedObjectsAreRefusedOneByOneWithReasons) {
  TaxiiCollection collection = Collection(Tlp::kGreen);
  std::vector<std::pair<std::string, std::string>> bad = {
      {R"({"spec_version":"2.1","id":"indicator--11111111-1111-4111-8111-111111111111"})", "type"},
      {R"({"type":"indicator","spec_version":"2.1"})", "id is required"},
      {R"({"type":"indicator","id":"indicator--22222222-2222-4222-8222-222222222222","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","pattern":"[x:y = 'z']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z"})",
       "spec_version"},
      {Indicator("indicator--not-a-uuid", "2026-01-01T00:00:00.000Z"), "identifier"},
      {Indicator("malware--33333333-3333-4333-8333-333333333333", "2026-01-01T00:00:00.000Z"),
       "must start with"},
      {Indicator("indicator--44444444-4444-7444-8444-444444444444", "2026-01-01T00:00:00.000Z"),
       "identifier"},  // UUIDv7: outside the schemas' versions 1-5
      {Indicator(IdOf(5), "2026-01-01 00:00:00Z"), "modified"},
      {Indicator(IdOf(6), "2026-01-01T00:00:00Z"), "millisecond"},
      {Indicator(IdOf(7), "2025-12-31T23:59:59.999Z"), "modified must not be earlier"},
      {Indicator(IdOf(8), "2026-01-01T00:00:00.000Z",
                 "marking-definition--99999999-9999-4999-8999-999999999999"),
       "unknown marking"},
      {Indicator(IdOf(9), "2026-01-01T00:00:00.000Z", std::string(TlpMarkingId(Tlp::kRed))),
       "RED"},
      {Indicator(IdOf(10), "2026-01-01T00:00:00.000Z", std::string(TlpMarkingId(Tlp::kAmber))),
       "at most TLP:green"},
      {R"({"type":"report","spec_version":"2.1","id":"report--55555555-5555-4555-8555-555555555555","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","name":"r","published":"2026-01-01T00:00:00Z","object_refs":[]})",
       "object_refs"},
      {R"("just a string")", "JSON object"},
      {R"({"type":"bundle","id":"bundle--66666666-6666-4666-8666-666666666666","objects":[]})", "bundle"},
  };
  std::vector<std::string> objects = {Indicator(IdOf(100), "2026-01-01T00:00:00.000Z")};
  for (const auto& [text, reason] : bad) objects.push_back(text);
  objects.push_back(Indicator(IdOf(101), "2026-01-01T00:00:00.000Z",
                              std::string(TlpMarkingId(Tlp::kGreen))));
  TaxiiStatus status = Add(member_, collection, objects, T0);
  EXPECT_EQ(status.total_count(), static_cast<int64_t>(objects.size()));
  ASSERT_EQ(status.successes.size(), 2u);
  ASSERT_EQ(status.failures.size(), bad.size());
  for (size_t i = 0; i < bad.size(); ++i) {
    EXPECT_NE(status.failures[i].message.find(bad[i].second), std::string::npos)
        << "object " << i << ": " << status.failures[i].message;
  }
  EXPECT_EQ(status.failures[3].id, "indicator--not-a-uuid");
  EXPECT_EQ(Query(member_, collection, {}).items.size(), 2u);
  // The stored status resource says the same, and only to the organisation that posted.
  auto connection = db_->Acquire();
  auto stored = GetTaxiiStatus(*connection, member_, collection.api_root, status.id);
  ASSERT_TRUE(stored) << stored.error().message;
  EXPECT_EQ(stored->failures.size(), bad.size());
  EXPECT_EQ(stored->failures[9].message, status.failures[9].message);
  EXPECT_FALSE(GetTaxiiStatus(*connection, other_member_, collection.api_root, status.id));
  EXPECT_TRUE(GetTaxiiStatus(*connection, analyst_, collection.api_root, status.id));
}

TEST_P(TaxiiTest, EveryMarkingPerReader) {
  TaxiiCollection collection = Collection(Tlp::kAmber);
  // The member posts one object per marking it may; CLEAR, GREEN, AMBER also by the centre.
  const std::vector<Tlp> shareable = {Tlp::kClear, Tlp::kGreen, Tlp::kAmber};
  std::vector<std::string> objects;
  int n = 0;
  for (Tlp tlp : shareable) {
    objects.push_back(
        Indicator(IdOf(n++), "2026-01-01T00:00:00.000Z", std::string(TlpMarkingId(tlp))));
  }
  objects.push_back(Indicator(IdOf(n++), "2026-01-01T00:00:00.000Z",
                              std::string(TlpMarkingId(Tlp::kAmberStrict))));
  TaxiiStatus status = Add(member_, collection, objects, T0);
  ASSERT_EQ(status.successes.size(), 4u);
  TaxiiStatus red = Add(member_, collection,
                        {Indicator(IdOf(n++), "2026-01-01T00:00:00.000Z",
                                   std::string(TlpMarkingId(Tlp::kRed)))},
                        T0);
  EXPECT_EQ(red.failures.size(), 1u);

  auto visible = [&](const Principal& p) {
    std::set<std::string> ids;
    for (const auto& item : Query(p, collection, {}).items) ids.insert(item.stix_id);
    return ids;
  };
  // Group members: CLEAR, GREEN, AMBER; AMBER+STRICT only to the organisation that shared it.
  EXPECT_EQ(visible(member_), (std::set<std::string>{IdOf(0), IdOf(1), IdOf(2), IdOf(3)}));
  EXPECT_EQ(visible(other_member_), (std::set<std::string>{IdOf(0), IdOf(1), IdOf(2)}));
  // A partner outside the group does not even see the collection.
  {
    auto connection = db_->Acquire();
    auto hidden = GetTaxiiCollection(*connection, outsider_, {}, collection.id);
    ASSERT_FALSE(hidden);
    EXPECT_EQ(hidden.error().kind, TaxiiErrorKind::kNotFound);
  }
  // The centre: everything shared with it; AMBER+STRICT of a partner to the duty officer only.
  EXPECT_EQ(visible(duty_), (std::set<std::string>{IdOf(0), IdOf(1), IdOf(2), IdOf(3)}));
  EXPECT_EQ(visible(analyst_), (std::set<std::string>{IdOf(0), IdOf(1), IdOf(2)}));

  // Withdrawing read access removes the whole collection from a former member.
  db_->Transact([&](store::Connection& c) {
    ASSERT_TRUE(SetTaxiiAccess(c, duty_, collection.id, {other_member_.org_id, false, false, 0}, T0));
  });
  auto connection = db_->Acquire();
  EXPECT_FALSE(GetTaxiiCollection(*connection, other_member_, {}, collection.id));
}

TEST_P(TaxiiTest, APartnerCannotAddVersionsOfAnotherOrganisationsObject) {
  TaxiiCollection collection = Collection();
  Add(member_, collection, {Indicator(IdOf(1), "2026-01-01T00:00:00.000Z")}, T0);
  TaxiiStatus status =
      Add(other_member_, collection, {Indicator(IdOf(1), "2026-06-01T00:00:00.000Z")}, T0);
  ASSERT_EQ(status.failures.size(), 1u);
  EXPECT_NE(status.failures[0].message.find("another organisation"), std::string::npos);
}

TEST_P(TaxiiTest, OnlyTheDutyOfficerManagesCollections) {
  db_->Transact([&](store::Connection& c) {
    NewTaxiiCollection input;
    input.title = "x";
    EXPECT_EQ(CreateTaxiiCollection(c, analyst_, input, T0).error().kind, TaxiiErrorKind::kForbidden);
    EXPECT_EQ(CreateTaxiiCollection(c, member_, input, T0).error().kind, TaxiiErrorKind::kForbidden);
    input.max_tlp = Tlp::kRed;
    EXPECT_EQ(CreateTaxiiCollection(c, duty_, input, T0).error().field, "max_tlp");
    input.max_tlp = Tlp::kGreen;
    input.api_root = "../x";
    EXPECT_EQ(CreateTaxiiCollection(c, duty_, input, T0).error().field, "api_root");
  });
}

TEST_P(TaxiiTest, PublishingRefusesWhatMustNotLeaveTheCentre) {
  TaxiiCollection collection = Collection(Tlp::kGreen);
  db_->Transact([&](store::Connection& c) {
    PublishRequest request;
    request.kind = PublishKind::kIndicator;
    request.observable_type = "ipv4";
    request.value = "198.51.100.3";
    for (Tlp tlp : {Tlp::kRed, Tlp::kAmberStrict}) {
      request.tlp = tlp;
      auto refused = Publish(c, analyst_, collection.id, request, T0);
      ASSERT_FALSE(refused);
      EXPECT_EQ(refused.error().kind, TaxiiErrorKind::kForbidden);
    }
    request.tlp = Tlp::kAmber;  // above the group's level
    EXPECT_EQ(Publish(c, analyst_, collection.id, request, T0).error().field, "tlp");
    request.tlp = Tlp::kGreen;
    EXPECT_EQ(Publish(c, member_, collection.id, request, T0).error().kind,
              TaxiiErrorKind::kForbidden);
    auto published = Publish(c, analyst_, collection.id, request, T0);
    ASSERT_TRUE(published) << published.error().message;
    EXPECT_TRUE(published->primary_id.starts_with("indicator--"));
    // marking definition, identity, observable, indicator
    EXPECT_EQ(published->status.successes.size(), 4u);
    // The second time the shared objects are already there.
    auto again = Publish(c, analyst_, collection.id, request, T0 + 1);
    ASSERT_TRUE(again) << again.error().message;
    EXPECT_EQ(again->status.successes.size(), 1u);
  });
}

INSTANTIATE_TEST_SUITE_P(Backends, TaxiiTest, ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         testing::BackendName);

// ---- primitives --------------------------------------------------------------------------------

TEST(StixPrimitives, ObservableIdsAreUuid5OverTheCanonicalContributingProperties) {
  // uuid5(00abedb4-..., '{"value":"198.51.100.3"}'), as Python's uuid module computes it.
  auto ip = MakeObservable("ipv4", "198.51.100.3");
  ASSERT_TRUE(ip);
  EXPECT_EQ(ip->object.Find("id")->as_string(), "ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4");
  EXPECT_EQ(ip->pattern, "[ipv4-addr:value = '198.51.100.3']");
  auto domain = MakeObservable("domain", "Example.COM");
  ASSERT_TRUE(domain);
  EXPECT_EQ(domain->object.Find("id")->as_string(),
            "domain-name--bedb4899-d24b-5401-bc86-8f6b4cc18ec7");
  auto file = MakeObservable("sha256", std::string(64, 'A'));
  ASSERT_TRUE(file);
  EXPECT_EQ(file->pattern, "[file:hashes.'SHA-256' = '" + std::string(64, 'a') + "']");
  EXPECT_EQ(file->object.Find("id")->as_string(),
            "file--" + Uuid5(STIX_SCO_NAMESPACE, R"({"hashes":{"SHA-256":")" +
                                                     std::string(64, 'a') + "\"}}"));
  // A file keeps one hash for its id, by the STIX preference (MD5 before SHA-256).
  auto both = JsonValue::Parse(R"({"type":"file","hashes":{"SHA-256":"bb","MD5":"aa"},"name":"x"})");
  EXPECT_EQ(DeterministicScoId(*both),
            "file--" + Uuid5(STIX_SCO_NAMESPACE, R"({"hashes":{"MD5":"aa"},"name":"x"})"));
  EXPECT_FALSE(MakeObservable("ipv4", "300.1.1.1"));
  EXPECT_FALSE(MakeObservable("url", "no scheme"));
  EXPECT_FALSE(MakeObservable("md5", "abc"));
  EXPECT_FALSE(MakeObservable("carrier-pigeon", "x"));
  // Quotes in values are escaped in patterns.
  EXPECT_EQ(MakeObservable("url", "http://x.example/a'b")->pattern,
            "[url:value = 'http://x.example/a\\'b']");
}

TEST(StixPrimitives, Uuid5AndCanonicalJson) {
  // RFC 9562 appendix: uuid5(DNS namespace, "www.example.com").
  EXPECT_EQ(Uuid5("6ba7b810-9dad-11d1-80b4-00c04fd430c8", "www.example.com"),
            "2ed6657d-e927-568b-95e1-2665a8aea6a2");
  auto value = JsonValue::Parse(R"({"b":[1,"x\n"],"a":{"d":true,"c":null}})");
  EXPECT_EQ(CanonicalJson(*value), R"({"a":{"c":null,"d":true},"b":[1,"x\n"]})");
  std::string id = NewUuid4();
  EXPECT_TRUE(IsStixId("indicator--" + id)) << id;
  EXPECT_EQ(id[14], '4');
}

TEST(StixPrimitives, TlpMarkingIdsAreTheOasisOnes) {
  EXPECT_EQ(TlpMarkingId(Tlp::kClear), "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487");
  EXPECT_EQ(TlpMarkingId(Tlp::kRed), "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1");
  EXPECT_EQ(TlpOfMarkingId("marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"),
            Tlp::kClear);  // TLP 1.0 WHITE
  EXPECT_EQ(TlpOfMarkingId("marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"), Tlp::kAmber);
  EXPECT_FALSE(TlpOfMarkingId("marking-definition--00000000-0000-4000-8000-000000000000"));
  JsonValue amber = TlpMarkingDefinition(Tlp::kAmberStrict);
  EXPECT_EQ(amber.Find("name")->as_string(), "TLP:AMBER+STRICT");
  EXPECT_EQ(ValidateStixObject(amber), std::nullopt);
}

TEST(StixPrimitives, TimestampsKeepMicroseconds) {
  auto us = ParseTaxiiTimestampUs("2026-11-26T06:00:00.123456789Z", true);
  ASSERT_TRUE(us);
  EXPECT_EQ(FormatTaxiiTimestampUs(*us), "2026-11-26T06:00:00.123456Z");
  EXPECT_EQ(ParseTaxiiTimestampUs("2026-11-26T15:00:00+09:00", false),
            ParseTaxiiTimestampUs("2026-11-26T06:00:00Z", true));
  EXPECT_FALSE(ParseTaxiiTimestampUs("2026-11-26T15:00:00+09:00", true));
  EXPECT_FALSE(ParseTaxiiTimestampUs("2026-02-30T00:00:00Z", true));
  EXPECT_FALSE(ParseTaxiiTimestampUs("2026-11-26 06:00:00Z", false));
  EXPECT_EQ(FormatTaxiiTimestampUs(0), "1970-01-01T00:00:00.000000Z");
  EXPECT_EQ(StixTimestamp(T0), FormatTimestampMs(T0));
}

TEST(StixPrimitives, NextTokensAreBoundToTheirCollection) {
  std::string token = EncodeTaxiiNext("collection-a", 1234567);
  EXPECT_EQ(DecodeTaxiiNext("collection-a", token), 1234567);
  EXPECT_FALSE(DecodeTaxiiNext("collection-b", token));
  EXPECT_FALSE(DecodeTaxiiNext("collection-a", "1234568" + token.substr(7)));
  EXPECT_FALSE(DecodeTaxiiNext("collection-a", "garbage"));
  EXPECT_FALSE(DecodeTaxiiNext("collection-a", ""));
}

}  // namespace
}  // namespace yagura::hub

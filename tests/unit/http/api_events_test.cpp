// The event store's routes: who reads whose raw events, the filters and cursors, the audit, and
// copying a window of events into a case's timeline.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "pipeline/event_store.hpp"
#include "unit/http/console_api_support.hpp"

namespace yagura::http {
namespace {

using testing::ConsoleApiTest;

class ApiEventsTest : public ConsoleApiTest {
 protected:
  void SetUp() override {
    SetUpWorld();
    if (IsSkipped() || HasFatalFailure()) return;
    RegisterEventRoutes(router_, *context_);
    RegisterCaseRoutes(router_, *context_);
    std::string pattern =
        (std::filesystem::temp_directory_path() / "yagura-api-events-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    pipeline::EventStoreOptions options;
    options.dir = dir_.string();
    options.block_bytes = 1024;
    auto store = pipeline::EventStore::Open(options);
    ASSERT_TRUE(store) << store.error().ToString();
    store_ = std::move(*store);
  }
  void TearDown() override {
    TearDownWorld();
    context_.reset();
    store_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  // Events a minute apart from 2026-11-20T09:00Z: the ministry's host "web1" (sshd lines)
  // and another organisation's "dc01" (JSON), alternating.
  void Fill(int count) {
    for (int i = 0; i < count; ++i) {
      const bool ministry = i % 2 == 0;
      const int64_t time = START + i * 60'000LL;
      std::string payload =
          ministry ? fmt::format(
                         "Nov 20 09:{:02} web1 sshd[411]: Failed password for root from "
                         "45.33.32.156 port {} ssh2",
                         i % 60, 50000 + i)
                   : fmt::format(R"({{"EventID":4625,"Computer":"dc01","n":{}}})", i);
      pipeline::Envelope envelope;
      envelope.kind = ministry ? pipeline::PayloadKind::kSyslog : pipeline::PayloadKind::kJson;
      const std::string org = ministry ? ministry_id_ : std::string(OTHER_ORG);
      envelope.org_id = org;
      envelope.sensor_id = ministry ? "web-syslog" : "dc-agent";
      envelope.logsource =
          ministry ? "product=linux,service=sshd" : "product=windows,service=security";
      const std::string received = FormatTimestampMs(time + 1000);
      envelope.received_at = received;
      envelope.peer = "127.0.0.1:5514";
      envelope.transport = ministry ? "tcp" : "http";
      envelope.payload = payload;
      std::string bytes;
      pipeline::EncodeEnvelope(envelope, bytes);
      store_->Add(static_cast<uint64_t>(i + 1), time, time + 1000, ministry ? "web1" : "dc01",
                  envelope.org_id, bytes);
    }
    ASSERT_TRUE(store_->Flush());
    context_->events = store_.get();
  }

  static std::vector<int64_t> Seqs(const JsonValue& page) {
    std::vector<int64_t> seqs;
    for (const auto& item : page.Find("items")->as_array())
      seqs.push_back(item.Find("seq")->as_int());
    return seqs;
  }

  static constexpr int64_t START = 1'795'165'200'000;  // 2026-11-20T09:00:00Z
  static constexpr const char* OTHER_ORG = "org-elsewhere";
  std::filesystem::path dir_;
  std::unique_ptr<pipeline::EventStore> store_;
};

TEST_P(ApiEventsTest, TheCentreReadsEveryOrganisationsEventsAndAnOrganisationItsOwn) {
  // Without a store the route says why.
  Response off = Call("GET", "/api/v1/events", admin_);
  EXPECT_EQ(off.status, 503);
  EXPECT_EQ(ErrorCode(off), "events_unavailable");
  Fill(40);

  JsonValue all = Get("/api/v1/events?limit=200", admin_);
  ASSERT_EQ(all.Find("items")->as_array().size(), 40u);
  const JsonValue& first = all.Find("items")->as_array()[0];
  EXPECT_EQ(first.Find("seq")->as_int(), 1);
  EXPECT_EQ(first.Find("time")->as_string(), "2026-11-20T09:00:00.000Z");
  EXPECT_EQ(first.Find("received_at")->as_string(), "2026-11-20T09:00:01.000Z");
  EXPECT_EQ(first.Find("host")->as_string(), "web1");
  EXPECT_EQ(first.Find("org_id")->as_string(), ministry_id_);
  EXPECT_EQ(first.Find("kind")->as_string(), "syslog");
  EXPECT_EQ(first.Find("transport")->as_string(), "tcp");
  EXPECT_EQ(first.Find("tlp")->as_string(), "amber");
  EXPECT_TRUE(first.Find("event")->is_null());
  EXPECT_NE(first.Find("payload")->as_string().find("Failed password"), std::string::npos);
  const JsonValue& second = all.Find("items")->as_array()[1];
  ASSERT_TRUE(second.Find("event")->is_object());
  EXPECT_EQ(second.Find("event")->Find("EventID")->as_int(), 4625);

  // Filters: host in any case, a window of event time, text in any case.
  JsonValue dc =
      Get("/api/v1/events?host=DC01&from=2026-11-20T09:10:00Z&to=2026-11-20T09:20:00Z", analyst_);
  EXPECT_EQ(Seqs(dc), (std::vector<int64_t>{12, 14, 16, 18, 20}));
  JsonValue text = Get("/api/v1/events?text=PORT%2050010", analyst_);
  EXPECT_EQ(Seqs(text), (std::vector<int64_t>{11}));

  // Pages continue after the cursor, in event time.
  std::vector<int64_t> paged;
  std::string target = "/api/v1/events?limit=7";
  for (int pages = 0; pages < 10; ++pages) {
    JsonValue page = Get(target, admin_);
    for (int64_t seq : Seqs(page)) paged.push_back(seq);
    const JsonValue* next = page.Find("next_cursor");
    if (next->is_null()) break;
    target = "/api/v1/events?limit=7&cursor=" + next->as_string();
  }
  ASSERT_EQ(paged.size(), 40u);
  EXPECT_TRUE(std::is_sorted(paged.begin(), paged.end()));

  // The ministry's reporter reads the ministry's events only, and asking for another
  // organisation's gives nothing.
  JsonValue own = Get("/api/v1/events?limit=200", reporter_);
  ASSERT_EQ(own.Find("items")->as_array().size(), 20u);
  for (const auto& item : own.Find("items")->as_array())
    EXPECT_EQ(item.Find("org_id")->as_string(), ministry_id_);
  EXPECT_TRUE(Get(std::string("/api/v1/events?org_id=") + OTHER_ORG, reporter_)
                  .Find("items")
                  ->as_array()
                  .empty());
  // The centre narrows to one organisation.
  EXPECT_EQ(Get(std::string("/api/v1/events?limit=200&org_id=") + OTHER_ORG, admin_)
                .Find("items")
                ->as_array()
                .size(),
            20u);
  // Auditors read no raw events.
  EXPECT_EQ(Call("GET", "/api/v1/events", auditor_).status, 403);

  // Bad parameters name themselves.
  Response bad = Call("GET", "/api/v1/events?from=yesterday", admin_);
  EXPECT_EQ(bad.status, 400);
  bad = Call("GET", "/api/v1/events?from=2026-11-20T10:00:00Z&to=2026-11-20T09:00:00Z", admin_);
  EXPECT_EQ(bad.status, 400);
  bad = Call("GET", "/api/v1/events?host=a%0Ab", admin_);
  EXPECT_EQ(bad.status, 400);
  bad = Call("GET", "/api/v1/events?cursor=12.x", admin_);
  EXPECT_EQ(bad.status, 400);

  // Every page read is audited as AMBER, naming the events it showed.
  audit_->Flush();
  auto rows = db_->Acquire()->Query(
      "SELECT COUNT(*) FROM audit_log WHERE action = 'event.list' AND tlp = 'amber'");
  EXPECT_GE(rows.rows.at(0).at(0).as_int(), 10);
}

TEST_P(ApiEventsTest, AWindowOfEventsIsCopiedIntoACaseTimelineAsOneImport) {
  Fill(40);
  Response opened =
      Call("POST", "/api/v1/cases", admin_, R"({"title":"Password spraying at the ministry"})");
  ASSERT_EQ(opened.status, 201) << opened.body;
  const std::string id = Body(opened).Find("id")->as_string();
  const std::string events = "/api/v1/cases/" + id + "/timeline/events";

  Response copied =
      Call("POST", events, admin_,
           R"({"from":"2026-11-20T09:00:00Z","to":"2026-11-20T09:30:00Z","host":"web1"})");
  ASSERT_EQ(copied.status, 201) << copied.body;
  JsonValue import = Body(copied);
  EXPECT_EQ(import.Find("entries")->as_int(), 15);
  EXPECT_EQ(import.Find("format")->as_string(), "timesketch");
  EXPECT_NE(import.Find("source")->as_string().find("host web1"), std::string::npos);
  EXPECT_EQ(import.Find("first_at")->as_string(), "2026-11-20T09:00:00.000Z");

  JsonValue timeline = Get("/api/v1/cases/" + id + "/timeline?limit=200", admin_);
  const auto& items = timeline.Find("items")->as_array();
  ASSERT_EQ(items.size(), 15u);
  EXPECT_EQ(items[0].Find("kind")->as_string(), "event");
  EXPECT_EQ(items[0].Find("host")->as_string(), "web1");
  EXPECT_NE(items[0].Find("title")->as_string().find("Failed password for root"),
            std::string::npos);
  EXPECT_EQ(items[0].Find("source")->as_string(), "sensor web-syslog #1");
  // The whole event is kept with the entry.
  JsonValue entry =
      Get("/api/v1/cases/" + id + "/timeline/" + items[0].Find("id")->as_string(), admin_);
  EXPECT_NE(entry.Find("data")->Serialize().find("\"payload\""), std::string::npos);

  // More matching than the limit is refused whole, not cut.
  Response many = Call("POST", events, admin_,
                       R"({"from":"2026-11-20T09:00:00Z","to":"2026-11-20T10:00:00Z","limit":10})");
  EXPECT_EQ(many.status, 400);
  EXPECT_NE(Body(many).Find("error")->Find("message")->as_string().find("more than 10"),
            std::string::npos);
  // Nothing matching says so.
  Response none = Call("POST", events, admin_,
                       R"({"from":"2026-11-21T09:00:00Z","to":"2026-11-21T10:00:00Z"})");
  EXPECT_EQ(none.status, 404);
  EXPECT_EQ(ErrorCode(none), "no_events");
  // The window is required, fields are checked.
  EXPECT_EQ(Call("POST", events, admin_, R"({"host":"web1"})").status, 400);
  EXPECT_EQ(Call("POST", events, admin_,
                 R"({"from":"2026-11-20T09:00:00Z","to":"2026-11-20T10:00:00Z","colour":"red"})")
                .status,
            400);
  // The ministry's reporter reads the ministry's events but not the centre's case.
  EXPECT_EQ(Call("POST", events, reporter_,
                 R"({"from":"2026-11-20T09:00:00Z","to":"2026-11-20T09:30:00Z"})")
                .status,
            404);
  // Still one import: nothing refused was kept.
  JsonValue imports = Get("/api/v1/cases/" + id + "/timeline/imports", admin_);
  EXPECT_EQ(imports.Find("items")->as_array().size(), 1u);
  EXPECT_EQ(AuditCount("event.copy_to_case", "ok"), 1);
}

INSTANTIATE_TEST_SUITE_P(Backends, ApiEventsTest,
                         ::testing::Values(hub::testing::Backend::kSqlite,
                                           hub::testing::Backend::kPostgres),
                         hub::testing::BackendName);

}  // namespace
}  // namespace yagura::http

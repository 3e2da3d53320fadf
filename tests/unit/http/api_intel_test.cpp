// The intelligence routes through the Router over the real IntelControl: a small indicator
// store (a list feed), searched and paged; the index detection matches used when given;
// TAXII sources listed without their credentials; a pull as a job from a loopback TAXII
// server (a few lines of socket code answering canned envelopes), its progress, result and
// audit entry, a failing pull, and who may read (centre staff) and pull (administrators).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include <fmt/format.h>

#include "http/console_control.hpp"
#include "intel/live_indicators.hpp"
#include "intel/store.hpp"
#include "intel/taxii_client.hpp"
#include "unit/http/console_api_support.hpp"

namespace yagura::http {
namespace {

namespace fs = std::filesystem;
using testing::ConsoleApiTest;

// Answers every request on 127.0.0.1 with one canned HTTP response until destroyed.
class CannedHttpServer {
 public:
  CannedHttpServer(int status, std::string body) : status_(status), body_(std::move(body)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    EXPECT_EQ(::listen(fd_, 8), 0);
    socklen_t length = sizeof address;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~CannedHttpServer() {
    stopping_ = true;
    thread_.join();
    ::close(fd_);
  }
  [[nodiscard]] int port() const { return port_; }
  [[nodiscard]] int requests() const { return requests_.load(); }

 private:
  void Serve() {
    while (!stopping_) {
      pollfd poll_fd{fd_, POLLIN, 0};
      if (::poll(&poll_fd, 1, 20) <= 0) continue;
      int client = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (client < 0) continue;
      std::string request;
      char buffer[4096];
      while (request.find("\r\n\r\n") == std::string::npos) {
        ssize_t n = ::recv(client, buffer, sizeof buffer, 0);
        if (n <= 0) break;
        request.append(buffer, static_cast<size_t>(n));
      }
      ++requests_;
      std::string response = "HTTP/1.1 " + std::to_string(status_) + " Canned\r\n" +
                             "Content-Type: application/taxii+json;version=2.1\r\n" +
                             "X-TAXII-Date-Added-First: 2027-01-15T08:00:00.000Z\r\n" +
                             "X-TAXII-Date-Added-Last: 2027-01-15T08:00:00.000Z\r\n" +
                             "Content-Length: " + std::to_string(body_.size()) + "\r\n" +
                             "Connection: close\r\n\r\n" + body_;
      size_t sent = 0;
      while (sent < response.size()) {
        ssize_t n = ::send(client, response.data() + sent, response.size() - sent, MSG_NOSIGNAL);
        if (n <= 0) break;
        sent += static_cast<size_t>(n);
      }
      ::close(client);
    }
  }

  int status_;
  std::string body_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> requests_{0};
  std::thread thread_;
};

constexpr const char* ENVELOPE = R"({"more":false,"objects":[
  {"type":"indicator","spec_version":"2.1","id":"indicator--6b0e4b8c-4a3a-4b1e-9d1e-2f4c5a6b7c8d",
   "created":"2027-01-15T08:00:00.000Z","modified":"2027-01-15T08:00:00.000Z",
   "name":"Partner C2 server","pattern":"[ipv4-addr:value = '198.51.100.7']",
   "pattern_type":"stix","valid_from":"2027-01-15T08:00:00Z","confidence":80}]})";

class ApiIntelTest : public ConsoleApiTest {
 protected:
  void SetUp() override {
    SetUpWorld();
    if (IsSkipped() || HasFatalFailure()) return;
    std::string pattern = (fs::temp_directory_path() / "yagura-api-intel-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    store_dir_ = (dir_ / "intel").string();
    auto store = intel::IntelStore::Open(store_dir_);
    ASSERT_TRUE(store) << store.error().ToString();
    std::string list = (dir_ / "blocklist.txt").string();
    std::ofstream(list) << "192.0.2.1\nevil.example\n# comment\nbad.example.org\n";
    Diagnostics diagnostics;
    auto outcome = store->Import(list, "blocklist", intel::FeedFormat::kList, diagnostics);
    ASSERT_TRUE(outcome.stored) << outcome.error;
    control_ = MakeIntelControl(store_dir_);
    context_->intel = control_.get();
    RegisterIntelRoutes(router_, *context_);
  }
  void TearDown() override {
    TearDownWorld();
    control_.reset();
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  void AddSource(const std::string& name, int port) {
    auto lock = intel::StoreLock::Acquire(store_dir_);
    ASSERT_TRUE(lock);
    auto sources = intel::TaxiiSources::Load(store_dir_);
    ASSERT_TRUE(sources);
    intel::TaxiiSource source;
    source.name = name;
    source.collection_url = fmt::format(
        "http://127.0.0.1:{}/taxii2/api1/collections/91a7b528-80eb-42ed-a74d-c6fbd5a26116/", port);
    source.token = "very-secret-token";
    ASSERT_TRUE(sources->Put(source));
    ASSERT_TRUE(sources->Save());
  }

  static std::vector<std::string> Values(const JsonValue& list) {
    std::vector<std::string> values;
    for (const auto& item : list.Find("items")->as_array())
      values.push_back(item.Find("value")->as_string());
    return values;
  }

  fs::path dir_;
  std::string store_dir_;
  std::unique_ptr<IntelControl> control_;
};

TEST_P(ApiIntelTest, FeedsAndIndicatorsOfTheStore) {
  JsonValue feeds = Get("/api/v1/intel/feeds", analyst_);
  ASSERT_EQ(feeds.Find("items")->as_array().size(), 1u);
  const JsonValue& feed = feeds.Find("items")->as_array()[0];
  EXPECT_EQ(feed.Find("name")->as_string(), "blocklist");
  EXPECT_EQ(feed.Find("format")->as_string(), "list");
  EXPECT_EQ(feed.Find("origin")->as_string(), "store");
  EXPECT_EQ(feed.Find("indicators")->as_int(), 3);
  EXPECT_TRUE(feed.Find("updated_at")->is_string());
  EXPECT_TRUE(feed.Find("loaded")->as_bool());
  EXPECT_NE(feed.Find("source")->as_string().find("blocklist.txt"), std::string::npos);
  EXPECT_EQ(feeds.Find("total_indicators")->as_int(), 3);
  EXPECT_EQ(feeds.Find("active_indicators")->as_int(), 3);

  JsonValue all = Get("/api/v1/intel/indicators", analyst_);
  EXPECT_EQ(Values(all), (std::vector<std::string>{"192.0.2.1", "evil.example", "bad.example.org"}));
  const JsonValue& first = all.Find("items")->as_array()[0];
  EXPECT_EQ(first.Find("type")->as_string(), "ipv4");
  EXPECT_EQ(first.Find("feed")->as_string(), "blocklist");
  EXPECT_TRUE(first.Find("confidence")->is_null());
  EXPECT_TRUE(all.Find("next_cursor")->is_null());

  EXPECT_EQ(Values(Get("/api/v1/intel/indicators?q=EVIL", analyst_)),
            std::vector<std::string>{"evil.example"});
  EXPECT_EQ(Values(Get("/api/v1/intel/indicators?q=192.0.2.1", analyst_)),
            std::vector<std::string>{"192.0.2.1"});
  EXPECT_EQ(Values(Get("/api/v1/intel/indicators?type=domain", analyst_)).size(), 2u);
  EXPECT_EQ(Values(Get("/api/v1/intel/indicators?feed=blocklist&q=example", analyst_)).size(), 2u);
  EXPECT_TRUE(Values(Get("/api/v1/intel/indicators?feed=other", analyst_)).empty());
  EXPECT_EQ(Call("GET", "/api/v1/intel/indicators?type=colour", analyst_).status, 400);
  EXPECT_EQ(Call("GET", "/api/v1/intel/indicators?cursor=x", analyst_).status, 400);

  // Pages of one, through the cursors.
  std::vector<std::string> paged;
  std::string cursor;
  for (int page = 0; page < 10; ++page) {
    JsonValue one = Get("/api/v1/intel/indicators?limit=1" +
                            (cursor.empty() ? std::string() : "&cursor=" + cursor),
                        analyst_);
    for (auto& value : Values(one)) paged.push_back(value);
    if (one.Find("next_cursor")->is_null()) break;
    cursor = one.Find("next_cursor")->as_string();
  }
  EXPECT_EQ(paged, (std::vector<std::string>{"192.0.2.1", "evil.example", "bad.example.org"}));

  // A new feed in the store shows without a restart (detection off: read here).
  std::string more = (dir_ / "more.txt").string();
  std::ofstream(more) << "203.0.113.9\n";
  {
    auto store = intel::IntelStore::Open(store_dir_);
    ASSERT_TRUE(store);
    Diagnostics diagnostics;
    ASSERT_TRUE(store->Import(more, "more", intel::FeedFormat::kList, diagnostics).stored);
  }
  EXPECT_EQ(Get("/api/v1/intel/feeds", analyst_).Find("total_indicators")->as_int(), 4);
  EXPECT_EQ(Values(Get("/api/v1/intel/indicators?feed=more", analyst_)),
            std::vector<std::string>{"203.0.113.9"});
}

TEST_P(ApiIntelTest, WithDetectionTheIndexItMatchesIsListed) {
  // Detection's index here holds the store's feeds and a configured file outside the store.
  std::string extra = (dir_ / "extra.txt").string();
  std::ofstream(extra) << "malware.example\n";
  auto live = std::make_shared<intel::LiveIndicators>();
  Diagnostics diagnostics;
  live->Reload(intel::ExpandFeedPaths({store_dir_, extra}), diagnostics);
  control_ = MakeIntelControl(store_dir_, [live] { return live->Current(); });
  context_->intel = control_.get();
  JsonValue feeds = Get("/api/v1/intel/feeds", analyst_);
  ASSERT_EQ(feeds.Find("items")->as_array().size(), 2u);
  const JsonValue& file = feeds.Find("items")->as_array()[1];
  EXPECT_EQ(file.Find("origin")->as_string(), "file");
  EXPECT_EQ(file.Find("indicators")->as_int(), 1);
  EXPECT_EQ(feeds.Find("total_indicators")->as_int(), 4);
  EXPECT_EQ(Values(Get("/api/v1/intel/indicators?q=malware", analyst_)),
            std::vector<std::string>{"malware.example"});
}

TEST_P(ApiIntelTest, OnlyCentreStaffReadAndOnlyAdministratorsPull) {
  AddSource("partner", 9);
  EXPECT_EQ(Call("GET", "/api/v1/intel/feeds", reporter_).status, 403);
  EXPECT_EQ(Call("GET", "/api/v1/intel/indicators", reporter_).status, 403);
  EXPECT_EQ(Call("GET", "/api/v1/intel/taxii-sources", reporter_).status, 403);
  EXPECT_EQ(Call("POST", "/api/v1/intel/taxii-sources/partner/pull", reporter_).status, 403);
  EXPECT_EQ(Call("POST", "/api/v1/intel/taxii-sources/partner/pull", analyst_).status, 403);
  EXPECT_EQ(Call("POST", "/api/v1/intel/taxii-sources/partner/pull", auditor_).status, 403);
  EXPECT_EQ(Call("POST", "/api/v1/intel/taxii-sources/nobody/pull", admin_).status, 404);
  EXPECT_EQ(Call("GET", "/api/v1/intel/feeds", auditor_).status, 200);
  context_->intel = nullptr;
  EXPECT_EQ(Call("GET", "/api/v1/intel/feeds", analyst_).status, 503);
}

TEST_P(ApiIntelTest, APullIsAJobThatStoresThePartnersIndicators) {
  CannedHttpServer server(200, ENVELOPE);
  AddSource("partner", server.port());
  Response sources_response = Call("GET", "/api/v1/intel/taxii-sources", analyst_);
  ASSERT_EQ(sources_response.status, 200);
  EXPECT_EQ(sources_response.body.find("very-secret-token"), std::string::npos);
  JsonValue sources = Body(sources_response);
  ASSERT_EQ(sources.Find("items")->as_array().size(), 1u);
  const JsonValue& source = sources.Find("items")->as_array()[0];
  EXPECT_EQ(source.Find("name")->as_string(), "partner");
  EXPECT_EQ(source.Find("collection")->as_string(), "91a7b528-80eb-42ed-a74d-c6fbd5a26116");
  EXPECT_EQ(source.Find("auth")->as_string(), "token");
  EXPECT_TRUE(source.Find("last_pull_at")->is_null());
  EXPECT_EQ(source.Find("objects_pulled")->as_int(), 0);

  Response accepted = Call("POST", "/api/v1/intel/taxii-sources/partner/pull", admin_);
  ASSERT_EQ(accepted.status, 202) << accepted.body;
  EXPECT_EQ(Body(accepted).Find("job")->Find("kind")->as_string(), "intel.pull");
  JsonValue done = FinishedJob(accepted, admin_);
  ASSERT_EQ(done.Find("state")->as_string(), "succeeded") << done.Serialize();
  EXPECT_EQ(done.Find("progress")->Find("unit")->as_string(), "objects");
  EXPECT_EQ(done.Find("progress")->Find("done")->as_int(), 1);
  EXPECT_EQ(done.Find("result")->Find("objects")->as_int(), 1);
  EXPECT_EQ(done.Find("result")->Find("indicators")->as_int(), 1);
  EXPECT_EQ(done.Find("result")->Find("pages")->as_int(), 1);
  EXPECT_EQ(AuditCount("intel.pull", "ok"), 1);
  EXPECT_GE(server.requests(), 1);

  JsonValue after = Get("/api/v1/intel/taxii-sources", analyst_);
  const JsonValue& pulled = after.Find("items")->as_array()[0];
  EXPECT_TRUE(pulled.Find("last_pull_at")->is_string());
  EXPECT_TRUE(pulled.Find("last_error")->is_null());
  EXPECT_EQ(pulled.Find("objects_pulled")->as_int(), 1);
  JsonValue indicators = Get("/api/v1/intel/indicators?feed=taxii-partner", analyst_);
  ASSERT_EQ(indicators.Find("items")->as_array().size(), 1u);
  const JsonValue& indicator = indicators.Find("items")->as_array()[0];
  EXPECT_EQ(indicator.Find("value")->as_string(), "198.51.100.7");
  EXPECT_EQ(indicator.Find("name")->as_string(), "Partner C2 server");
  EXPECT_EQ(indicator.Find("confidence")->as_int(), 80);
}

TEST_P(ApiIntelTest, AFailedPullFailsItsJobAndIsRecordedOnTheSource) {
  // 4xx answers fail at once (no retries).
  CannedHttpServer server(403, R"({"title":"not allowed","description":"no access"})");
  AddSource("partner", server.port());
  JsonValue done =
      FinishedJob(Call("POST", "/api/v1/intel/taxii-sources/partner/pull", admin_), admin_);
  EXPECT_EQ(done.Find("state")->as_string(), "failed");
  EXPECT_NE(done.Find("error")->as_string().find("partner"), std::string::npos);
  EXPECT_EQ(AuditCount("intel.pull", "failed"), 1);
  JsonValue after = Get("/api/v1/intel/taxii-sources", analyst_);
  EXPECT_TRUE(after.Find("items")->as_array()[0].Find("last_error")->is_string());
}

INSTANTIATE_TEST_SUITE_P(Backends, ApiIntelTest,
                         ::testing::Values(hub::testing::Backend::kSqlite,
                                           hub::testing::Backend::kPostgres),
                         hub::testing::BackendName);

}  // namespace
}  // namespace yagura::http

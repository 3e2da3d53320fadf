// Advisories, requests and recommendations through the Router, without sockets. Organisations,
// users and API tokens are inserted directly (a token row whose hash is SHA-256 of the secret
// is what Authenticate checks), so these tests exercise only the coordination routes, the
// policy behind them and the shared API plumbing.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include <fmt/format.h>

#include "core/metrics.hpp"
#include "core/time.hpp"
#include "hub/audit_log.hpp"
#include "hub/crypto.hpp"
#include "hub/schema.hpp"
#include "http/api.hpp"
#include "http/router.hpp"

namespace yagura::http {
namespace {

using store::Param;

constexpr int64_t HOUR = 3'600'000;

class ApiCoordinationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "yagura-api-coordination-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    auto opened = store::Database::Open((dir_ / "hub.db").string(), 4);
    ASSERT_TRUE(opened) << opened.error().ToString();
    db_ = std::move(*opened);
    ASSERT_TRUE(hub::MigrateSchema(*db_));
    audit_ = std::make_unique<hub::AuditLog>(*db_);
    ServiceSettings settings;
    settings.max_attachment_bytes = 64;
    context_ = std::make_unique<ApiContext>(ApiContext{*db_, *audit_, metrics_, settings});
    RegisterCoordinationRoutes(router_, *context_);

    centre_ = AddOrg("Centre", "centre");
    ministry_ = AddOrg("Ministry A", "ministry");
    ministry_b_ = AddOrg("Ministry B", "ministry");
    city_ = AddOrg("City", "local_government");
    bank_ = AddOrg("Bank", "critical_infrastructure", "finance");
    card_ = AddOrg("Card Issuer", "critical_infrastructure", "finance");
    water_ = AddOrg("Water Utility", "critical_infrastructure", "water");

    admin_ = AddUser("admin", centre_, "centre_admin");
    analyst_ = AddUser("analyst", centre_, "centre_analyst");
    ministry_admin_ = AddUser("ministry.admin", ministry_, "org_admin");
    ministry_reporter_ = AddUser("ministry.reporter", ministry_, "org_reporter");
    ministry_b_admin_ = AddUser("ministry.b.admin", ministry_b_, "org_admin");
    city_admin_ = AddUser("city.admin", city_, "org_admin");
    bank_reporter_ = AddUser("bank.reporter", bank_, "org_reporter");
    bank_admin_ = AddUser("bank.admin", bank_, "org_admin");
    card_admin_ = AddUser("card.admin", card_, "org_admin");
    water_admin_ = AddUser("water.admin", water_, "org_admin");
  }

  void TearDown() override {
    context_.reset();
    audit_.reset();
    db_.reset();
    std::filesystem::remove_all(dir_);
  }

  struct User {
    std::string id;
    std::string org_id;
    std::string secret;
  };

  std::string AddOrg(const std::string& name, const std::string& type,
                     const std::string& sector = {}) {
    std::string id = hub::NewId();
    db_->Acquire()->Execute(
        "INSERT INTO organizations (id, name, type, sector, created_at, updated_at) "
        "VALUES ($1, $2, $3, $4, $5, $5)",
        {Param{id}, Param{name}, Param{type}, sector.empty() ? Param{nullptr} : Param{sector},
         Param{NowMs()}});
    return id;
  }

  User AddUser(const std::string& username, const std::string& org_id, const std::string& roles) {
    User user{hub::NewId(), org_id, "ygt_" + hub::RandomToken(24)};
    auto connection = db_->Acquire();
    connection->Execute(
        "INSERT INTO users (id, username, display_name, org_id, roles, created_at, updated_at) "
        "VALUES ($1, $2, $2, $3, $4, $5, $5)",
        {Param{user.id}, Param{username}, Param{org_id}, Param{roles}, Param{NowMs()}});
    connection->Execute(
        "INSERT INTO api_tokens (id, user_id, name, token_hash, scopes, created_at) "
        "VALUES ($1, $2, 'test', $3, 'admin', $4)",
        {Param{hub::NewId()}, Param{user.id}, Param{hub::Sha256Hex(user.secret)},
         Param{NowMs()}});
    return user;
  }

  Response Call(std::string method, std::string target, const User& user, std::string body = {},
                std::string content_type = "application/json") {
    Request request;
    request.method = std::move(method);
    request.target = target;
    EXPECT_TRUE(DecodeTarget(target, request));
    request.remote_address = "127.0.0.1";
    if (!body.empty()) {
      request.body = std::move(body);
      request.headers.Set("Content-Type", content_type);
    }
    request.headers.Set("Authorization", "Bearer " + user.secret);
    return router_.Dispatch(request);
  }

  static JsonValue Body(const Response& response) {
    auto parsed = JsonValue::Parse(response.body);
    EXPECT_TRUE(parsed) << response.body;
    return parsed ? *parsed : JsonValue();
  }
  static std::string Text(const JsonValue& value, std::string_view key) {
    const JsonValue* member = value.Find(key);
    return member != nullptr && member->is_string() ? member->as_string() : std::string();
  }
  static std::string ErrorField(const Response& response) {
    JsonValue body = Body(response);
    const JsonValue* error = body.Find("error");
    return error ? Text(*error, "field") : std::string();
  }
  static std::vector<std::string> Ids(const Response& response) {
    std::vector<std::string> ids;
    JsonValue body = Body(response);
    const JsonValue* items = body.Find("items");
    if (items == nullptr || !items->is_array()) return ids;
    for (const auto& item : items->as_array()) ids.push_back(Text(item, "id"));
    return ids;
  }
  static std::vector<std::string> OrgIdsOf(const JsonValue& object, std::string_view key) {
    std::vector<std::string> ids;
    const JsonValue* list = object.Find(key);
    if (list == nullptr || !list->is_array()) return ids;
    for (const auto& item : list->as_array()) ids.push_back(Text(item, "org_id"));
    return ids;
  }
  static bool Contains(const std::vector<std::string>& list, const std::string& value) {
    return std::find(list.begin(), list.end(), value) != list.end();
  }

  std::string Create(const std::string& path, const User& user, const std::string& body) {
    Response response = Call("POST", path, user, body);
    EXPECT_EQ(response.status, 201) << response.body;
    return Text(Body(response), "id");
  }

  static std::string Future(int64_t offset = 24 * HOUR) {
    return FormatTimestampMs(NowMs() + offset);
  }

  int64_t AuditCount(std::string_view action) {
    return db_->Acquire()
        ->Query("SELECT COUNT(*) FROM audit_log WHERE action = $1", {Param{std::string(action)}})
        .rows.at(0)
        .at(0)
        .as_int();
  }

  std::filesystem::path dir_;
  std::unique_ptr<store::Database> db_;
  std::unique_ptr<hub::AuditLog> audit_;
  Metrics metrics_;
  std::unique_ptr<ApiContext> context_;
  Router router_;
  std::string centre_, ministry_, ministry_b_, city_, bank_, card_, water_;
  User admin_, analyst_, ministry_admin_, ministry_reporter_, ministry_b_admin_, city_admin_,
      bank_reporter_, bank_admin_, card_admin_, water_admin_;
};

constexpr std::string_view SECTOR_ADVISORY =
    R"({"title":"VPN appliance exploited","body":"Patch now.","severity":"high","tlp":"amber",)"
    R"("target":{"kind":"sector","sector":"finance"},"references":["https://example.org/a"],)"
    R"("cves":["cve-2024-3400"],"ttps":["T1190"]})";

TEST_F(ApiCoordinationTest, SectorAdvisoryReachesExactlyThatSectorAndTracksAcknowledgements) {
  Response created = Call("POST", "/api/v1/advisories", analyst_, std::string(SECTOR_ADVISORY));
  ASSERT_EQ(created.status, 201) << created.body;
  JsonValue advisory = Body(created);
  std::string id = Text(advisory, "id");
  EXPECT_EQ(created.headers.Get("location").value_or(""), "/api/v1/advisories/" + id);
  EXPECT_EQ(advisory.Find("cves")->as_array()[0].as_string(), "CVE-2024-3400");
  EXPECT_EQ(OrgIdsOf(advisory, "pending").size(), 2u);

  for (const User* reader : {&bank_reporter_, &card_admin_}) {
    EXPECT_TRUE(Contains(Ids(Call("GET", "/api/v1/advisories", *reader)), id));
    Response single = Call("GET", "/api/v1/advisories/" + id, *reader);
    EXPECT_EQ(single.status, 200) << single.body;
    // A recipient sees its own acknowledgement state, never the rest of the audience.
    EXPECT_EQ(Body(single).Find("pending"), nullptr);
    EXPECT_EQ(Body(single).Find("acknowledgements"), nullptr);
    EXPECT_EQ(Text(*Body(single).Find("acknowledgement"), "org_id"), reader->org_id);
  }
  for (const User* outsider : {&water_admin_, &ministry_admin_}) {
    EXPECT_FALSE(Contains(Ids(Call("GET", "/api/v1/advisories", *outsider)), id));
    EXPECT_EQ(Call("GET", "/api/v1/advisories/" + id, *outsider).status, 404);
    EXPECT_EQ(Call("POST", "/api/v1/advisories/" + id + "/acknowledgements", *outsider).status,
              404);
  }

  Response ack = Call("POST", "/api/v1/advisories/" + id + "/acknowledgements", bank_reporter_);
  ASSERT_EQ(ack.status, 200) << ack.body;
  EXPECT_EQ(Text(Body(ack), "user_id"), bank_reporter_.id);
  EXPECT_FALSE(Text(Body(ack), "acknowledged_at").empty());
  Response again = Call("POST", "/api/v1/advisories/" + id + "/acknowledgements", bank_admin_);
  ASSERT_EQ(again.status, 200);
  EXPECT_EQ(Text(Body(again), "user_id"), bank_reporter_.id);

  JsonValue centre_view = Body(Call("GET", "/api/v1/advisories/" + id, admin_));
  EXPECT_EQ(OrgIdsOf(centre_view, "pending"), std::vector<std::string>{card_});
  std::vector<std::string> acknowledged = OrgIdsOf(centre_view, "acknowledgements");
  EXPECT_EQ(acknowledged, std::vector<std::string>{bank_});
  EXPECT_EQ(Text(centre_view.Find("acknowledgements")->as_array()[0], "org_name"), "Bank");

  // ?unacknowledged=true is about the caller's organisation.
  EXPECT_FALSE(
      Contains(Ids(Call("GET", "/api/v1/advisories?unacknowledged=true", bank_admin_)), id));
  EXPECT_TRUE(
      Contains(Ids(Call("GET", "/api/v1/advisories?unacknowledged=true", card_admin_)), id));
  EXPECT_EQ(Call("GET", "/api/v1/advisories?unacknowledged=maybe", card_admin_).status, 400);
  EXPECT_EQ(Call("GET", "/api/v1/advisories?severity=urgent", card_admin_).status, 400);
  EXPECT_TRUE(Contains(Ids(Call("GET", "/api/v1/advisories?severity=high", card_admin_)), id));
  EXPECT_FALSE(Contains(Ids(Call("GET", "/api/v1/advisories?severity=low", card_admin_)), id));

  // AMBER reads are audited: single reads one by one, list pages once.
  EXPECT_GE(AuditCount("advisory.read"), 3);
  EXPECT_GE(AuditCount("advisory.list"), 1);
  EXPECT_EQ(AuditCount("advisory.acknowledge"), 1);
}

TEST_F(ApiCoordinationTest, RedAdvisoryGoesToNamedUsersOnly) {
  std::string without = R"({"title":"t","body":"b","severity":"critical","tlp":"red",)"
                        R"("target":{"kind":"organization","org_id":")" +
                        bank_ + R"("}})";
  Response refused = Call("POST", "/api/v1/advisories", analyst_, without);
  EXPECT_EQ(refused.status, 400);
  EXPECT_EQ(ErrorField(refused), "recipients");

  std::string named = R"({"title":"t","body":"b","severity":"critical","tlp":"red",)"
                      R"("target":{"kind":"organization","org_id":")" +
                      bank_ + R"("},"recipients":[")" + bank_reporter_.id + R"("]})";
  std::string id = Create("/api/v1/advisories", analyst_, named);
  EXPECT_EQ(Call("GET", "/api/v1/advisories/" + id, bank_reporter_).status, 200);
  EXPECT_TRUE(Contains(Ids(Call("GET", "/api/v1/advisories", bank_reporter_)), id));
  for (const User* other : {&bank_admin_, &card_admin_, &admin_}) {
    EXPECT_EQ(Call("GET", "/api/v1/advisories/" + id, *other).status, 404);
    EXPECT_FALSE(Contains(Ids(Call("GET", "/api/v1/advisories", *other)), id));
  }
}

TEST_F(ApiCoordinationTest, AdvisoryBodiesAreValidated) {
  std::string strict_sector =
      R"({"title":"t","body":"b","severity":"low","tlp":"amber+strict",)"
      R"("target":{"kind":"sector","sector":"finance"}})";
  Response strict = Call("POST", "/api/v1/advisories", analyst_, strict_sector);
  EXPECT_EQ(strict.status, 400);
  EXPECT_EQ(ErrorField(strict), "tlp");

  Response unknown = Call("POST", "/api/v1/advisories", analyst_,
                          R"({"title":"t","body":"b","severity":"low","target":{"kind":"all"},)"
                          R"("colour":"red"})");
  EXPECT_EQ(unknown.status, 400);
  EXPECT_EQ(ErrorField(unknown), "colour");

  Response bad_sector = Call("POST", "/api/v1/advisories", analyst_,
                             R"({"title":"t","body":"b","severity":"low",)"
                             R"("target":{"kind":"sector","sector":"bakeries"}})");
  EXPECT_EQ(bad_sector.status, 400);
  EXPECT_EQ(ErrorField(bad_sector), "target.sector");

  Response bad_cve = Call("POST", "/api/v1/advisories", analyst_,
                          R"({"title":"t","body":"b","severity":"low","target":{"kind":"all"},)"
                          R"("cves":["CVE-24-1"]})");
  EXPECT_EQ(bad_cve.status, 400);
  EXPECT_EQ(ErrorField(bad_cve), "cves[0]");

  Response by_member = Call("POST", "/api/v1/advisories", bank_admin_,
                            R"({"title":"t","body":"b","severity":"low","target":{"kind":"all"}})");
  EXPECT_EQ(by_member.status, 403);
  EXPECT_EQ(AuditCount("advisory.create"), 0);
}

TEST_F(ApiCoordinationTest, OutboundRequestIsAnsweredWithAnAttachmentAndFlaggedWhenOverdue) {
  std::string id = Create("/api/v1/requests", analyst_,
                          fmt::format(R"({{"legal_basis":"art30","target_org_id":"{}",)"
                                      R"("title":"Mail gateway logs","body":"1-7 January",)"
                                      R"("due_at":"{}","tlp":"amber"}})",
                                      ministry_, Future()));
  JsonValue fresh = Body(Call("GET", "/api/v1/requests/" + id, ministry_reporter_));
  EXPECT_EQ(Text(fresh, "status"), "open");
  EXPECT_EQ(Text(fresh, "direction"), "outbound");
  EXPECT_FALSE(fresh.Find("overdue")->as_bool());
  EXPECT_TRUE(Ids(Call("GET", "/api/v1/requests?overdue=true", analyst_)).empty());
  EXPECT_EQ(Call("GET", "/api/v1/requests/" + id, ministry_b_admin_).status, 404);

  // Time passes: the due date is now behind us.
  db_->Acquire()->Execute("UPDATE requests SET due_at = $2 WHERE id = $1",
                          {Param{id}, Param{NowMs() - HOUR}});
  EXPECT_TRUE(Body(Call("GET", "/api/v1/requests/" + id, analyst_)).Find("overdue")->as_bool());
  EXPECT_EQ(Ids(Call("GET", "/api/v1/requests?overdue=true", analyst_)),
            std::vector<std::string>{id});
  EXPECT_EQ(Ids(Call("GET", "/api/v1/requests?overdue=true", ministry_admin_)),
            std::vector<std::string>{id});
  EXPECT_TRUE(Ids(Call("GET", "/api/v1/requests?overdue=false", analyst_)).empty());

  EXPECT_EQ(Call("POST", "/api/v1/requests/" + id + "/responses", ministry_b_admin_,
                 R"({"body":"x"})")
                .status,
            404);
  Response answered = Call("POST", "/api/v1/requests/" + id + "/responses", ministry_reporter_,
                           R"({"body":"Logs attached."})");
  ASSERT_EQ(answered.status, 201) << answered.body;
  std::string response_id = Text(Body(answered), "id");
  std::string attachments = "/api/v1/requests/" + id + "/responses/" + response_id + "/attachments";

  const std::string content = "2027-01-01 mail accepted from 198.51.100.7\n";
  Response uploaded =
      Call("POST", attachments + "?filename=gateway.log", ministry_reporter_, content, "text/plain");
  ASSERT_EQ(uploaded.status, 201) << uploaded.body;
  JsonValue attachment = Body(uploaded);
  EXPECT_EQ(Text(attachment, "sha256"), hub::Sha256Hex(content));
  EXPECT_EQ(attachment.Find("size")->as_int(), static_cast<int64_t>(content.size()));
  EXPECT_EQ(Call("POST", attachments + "?filename=big.bin", ministry_reporter_,
                 std::string(65, 'x'), "application/octet-stream")
                .status,
            413);
  EXPECT_EQ(Call("POST", attachments, ministry_reporter_, "x", "text/plain").status, 400);
  EXPECT_EQ(Call("POST", attachments + "?filename=..%2Fx", ministry_reporter_, "x", "text/plain")
                .status,
            400);

  Response download = Call("GET", attachments + "/" + Text(attachment, "id"), analyst_);
  ASSERT_EQ(download.status, 200) << download.body;
  EXPECT_EQ(download.body, content);
  EXPECT_EQ(download.headers.Get("content-type").value_or(""), "text/plain");
  EXPECT_EQ(download.headers.Get("content-disposition").value_or(""),
            "attachment; filename=\"gateway.log\"; filename*=UTF-8''gateway.log");
  EXPECT_EQ(AuditCount("request.attachment.read"), 1);
  EXPECT_EQ(Call("GET", attachments + "/" + Text(attachment, "id"), ministry_b_admin_).status,
            404);
  EXPECT_EQ(Ids(Call("GET", attachments, analyst_)),
            std::vector<std::string>{Text(attachment, "id")});

  JsonValue done = Body(Call("GET", "/api/v1/requests/" + id, analyst_));
  EXPECT_EQ(Text(done, "status"), "answered");
  EXPECT_FALSE(done.Find("overdue")->as_bool());
  const JsonValue& responses = *done.Find("responses");
  ASSERT_EQ(responses.as_array().size(), 1u);
  EXPECT_EQ(responses.as_array()[0].Find("attachments")->as_array().size(), 1u);
  EXPECT_TRUE(Ids(Call("GET", "/api/v1/requests?overdue=true", analyst_)).empty());

  // Only the requester closes.
  EXPECT_EQ(Call("PATCH", "/api/v1/requests/" + id, ministry_admin_, R"({"status":"closed"})")
                .status,
            403);
  Response closed = Call("PATCH", "/api/v1/requests/" + id, analyst_, R"({"status":"closed"})");
  ASSERT_EQ(closed.status, 200) << closed.body;
  EXPECT_EQ(Text(Body(closed), "status"), "closed");
  EXPECT_EQ(Call("POST", "/api/v1/requests/" + id + "/responses", ministry_reporter_,
                 R"({"body":"late"})")
                .status,
            409);
}

TEST_F(ApiCoordinationTest, RequestLegalBasisDecidesTheAddressee) {
  Response art30_to_city = Call("POST", "/api/v1/requests", analyst_,
                                fmt::format(R"({{"legal_basis":"art30","target_org_id":"{}",)"
                                            R"("title":"t","body":"b","due_at":"{}"}})",
                                            city_, Future()));
  EXPECT_EQ(art30_to_city.status, 400);
  EXPECT_EQ(ErrorField(art30_to_city), "target_org_id");
  Response missing_due = Call("POST", "/api/v1/requests", analyst_,
                              fmt::format(R"({{"legal_basis":"art31","target_org_id":"{}",)"
                                          R"("title":"t","body":"b"}})",
                                          bank_));
  EXPECT_EQ(missing_due.status, 400);
  EXPECT_EQ(ErrorField(missing_due), "due_at");
  std::string id = Create("/api/v1/requests", analyst_,
                          fmt::format(R"({{"legal_basis":"art31","target_org_id":"{}",)"
                                      R"("title":"t","body":"b","due_at":"{}"}})",
                                      bank_, Future()));
  EXPECT_EQ(Ids(Call("GET", "/api/v1/requests?target_org_id=" + bank_, analyst_)),
            std::vector<std::string>{id});
  EXPECT_EQ(Ids(Call("GET", "/api/v1/requests", bank_admin_)), std::vector<std::string>{id});
  EXPECT_TRUE(Ids(Call("GET", "/api/v1/requests", card_admin_)).empty());
}

TEST_F(ApiCoordinationTest, LocalGovernmentAsksTheCentreUnderArticle32) {
  const std::string body =
      R"({"legal_basis":"art32","title":"Help with ransomware","body":"File servers encrypted.",)"
      R"("tlp":"amber"})";
  EXPECT_EQ(Call("POST", "/api/v1/requests", ministry_admin_, body).status, 403);
  EXPECT_EQ(Call("POST", "/api/v1/requests", analyst_, body).status, 403);
  Response created = Call("POST", "/api/v1/requests", city_admin_, body);
  ASSERT_EQ(created.status, 201) << created.body;
  std::string id = Text(Body(created), "id");
  EXPECT_EQ(Text(Body(created), "direction"), "inbound");
  EXPECT_EQ(Text(Body(created), "target_org_id"), centre_);

  EXPECT_EQ(Ids(Call("GET", "/api/v1/requests?direction=inbound", analyst_)),
            std::vector<std::string>{id});
  EXPECT_EQ(Call("GET", "/api/v1/requests/" + id, ministry_admin_).status, 404);
  EXPECT_EQ(Call("POST", "/api/v1/requests/" + id + "/responses", city_admin_, R"({"body":"x"})")
                .status,
            403);
  Response answer = Call("POST", "/api/v1/requests/" + id + "/responses", analyst_,
                         R"({"body":"A team is on its way."})");
  ASSERT_EQ(answer.status, 201) << answer.body;
  JsonValue seen = Body(Call("GET", "/api/v1/requests/" + id, city_admin_));
  EXPECT_EQ(Text(seen, "status"), "answered");
  ASSERT_EQ(seen.Find("responses")->as_array().size(), 1u);
  EXPECT_EQ(Text(seen.Find("responses")->as_array()[0], "body"), "A team is on its way.");
  Response closed = Call("PATCH", "/api/v1/requests/" + id, city_admin_, R"({"status":"closed"})");
  EXPECT_EQ(closed.status, 200) << closed.body;
}

TEST_F(ApiCoordinationTest, RequestsTakeCentreAssignees) {
  Response created = Call("POST", "/api/v1/requests", city_admin_,
                          R"({"legal_basis":"art32","title":"Help with ransomware",)"
                          R"("body":"File servers encrypted.","tlp":"amber+strict"})");
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string id = Text(Body(created), "id");
  const std::string path = "/api/v1/requests/" + id;
  EXPECT_EQ(Body(created).Find("assignees")->as_array().size(), 0u);
  EXPECT_EQ(Call("GET", path, analyst_).status, 404);  // AMBER+STRICT: the duty officers only

  const std::string assign = fmt::format(R"({{"user_id":"{}"}})", analyst_.id);
  EXPECT_EQ(Call("POST", path + "/assignees", analyst_, assign).status, 404);
  EXPECT_EQ(Call("POST", path + "/assignees", city_admin_, assign).status, 403);
  Response outsider = Call("POST", path + "/assignees", admin_,
                           fmt::format(R"({{"user_id":"{}"}})", city_admin_.id));
  EXPECT_EQ(outsider.status, 400) << outsider.body;
  EXPECT_NE(outsider.body.find("centre staff"), std::string::npos) << outsider.body;
  EXPECT_EQ(Call("POST", path + "/assignees", admin_, R"({"user":"x"})").status, 400);

  Response assigned = Call("POST", path + "/assignees", admin_, assign);
  ASSERT_EQ(assigned.status, 201) << assigned.body;
  EXPECT_EQ(Text(Body(assigned), "request_id"), id);
  ASSERT_EQ(Body(assigned).Find("assignees")->as_array().size(), 1u);
  EXPECT_EQ(Body(assigned).Find("assignees")->as_array()[0].as_string(), analyst_.id);
  EXPECT_EQ(Call("POST", path + "/assignees", admin_, assign).status, 200);

  Response seen = Call("GET", path, analyst_);
  ASSERT_EQ(seen.status, 200) << seen.body;
  EXPECT_EQ(Body(seen).Find("assignees")->as_array()[0].as_string(), analyst_.id);
  EXPECT_EQ(Ids(Call("GET", "/api/v1/requests", analyst_)), std::vector<std::string>{id});
  EXPECT_EQ(Ids(Call("GET", "/api/v1/requests?assigned_to=me", analyst_)),
            std::vector<std::string>{id});
  EXPECT_TRUE(Ids(Call("GET", "/api/v1/requests?assigned_to=me", admin_)).empty());
  EXPECT_EQ(Call("GET", "/api/v1/requests?assigned_to=someone", admin_).status, 400);
  EXPECT_EQ(Call("POST", path + "/responses", analyst_, R"({"body":"On our way."})").status, 201);

  EXPECT_EQ(Call("DELETE", path + "/assignees/" + admin_.id, admin_).status, 404);
  EXPECT_EQ(Call("DELETE", path + "/assignees/" + analyst_.id, city_admin_).status, 403);
  EXPECT_EQ(Call("DELETE", path + "/assignees/" + analyst_.id, admin_).status, 204);
  EXPECT_EQ(Call("GET", path, analyst_).status, 404);
}

TEST_F(ApiCoordinationTest, RecommendationsGoToMinistriesAndTheirAdministratorsRespond) {
  Response to_bank = Call("POST", "/api/v1/recommendations", admin_,
                          fmt::format(R"({{"target_org_id":"{}","title":"MFA","body":"b"}})", bank_));
  EXPECT_EQ(to_bank.status, 400);
  EXPECT_EQ(ErrorField(to_bank), "target_org_id");
  EXPECT_EQ(Call("POST", "/api/v1/recommendations", analyst_,
                 fmt::format(R"({{"target_org_id":"{}","title":"MFA","body":"b"}})", ministry_))
                .status,
            403);
  std::string id = Create(
      "/api/v1/recommendations", admin_,
      fmt::format(R"({{"target_org_id":"{}","title":"Enforce MFA","body":"For remote access.",)"
                  R"("due_at":"{}","tlp":"amber"}})",
                  ministry_, Future(30 * 24 * HOUR)));

  const std::string path = "/api/v1/recommendations/" + id;
  EXPECT_EQ(Call("GET", path, ministry_b_admin_).status, 404);
  EXPECT_EQ(Call("POST", path + "/response", ministry_reporter_, R"({"response":"ok"})").status,
            403);
  EXPECT_EQ(Call("POST", path + "/response", ministry_b_admin_, R"({"response":"ok"})").status,
            404);
  Response responded =
      Call("POST", path + "/response", ministry_admin_, R"({"response":"Planned for Q2."})");
  ASSERT_EQ(responded.status, 200) << responded.body;
  EXPECT_EQ(Text(Body(responded), "status"), "responded");
  EXPECT_EQ(Text(Body(responded), "responded_by"), ministry_admin_.id);

  EXPECT_EQ(Call("PATCH", path, analyst_, R"({"status":"in_progress"})").status, 403);
  EXPECT_EQ(Call("PATCH", path, ministry_admin_, R"({"status":"closed"})").status, 403);
  EXPECT_EQ(Call("PATCH", path, admin_, R"({"status":"done"})").status, 400);
  Response followed = Call("PATCH", path, admin_,
                           R"({"status":"implemented","follow_up_notes":"Verified on site."})");
  ASSERT_EQ(followed.status, 200) << followed.body;
  EXPECT_EQ(Text(Body(followed), "status"), "implemented");
  EXPECT_EQ(Text(Body(followed), "follow_up_notes"), "Verified on site.");

  EXPECT_EQ(Ids(Call("GET", "/api/v1/recommendations?status=implemented", ministry_admin_)),
            std::vector<std::string>{id});
  EXPECT_TRUE(Ids(Call("GET", "/api/v1/recommendations", ministry_b_admin_)).empty());
}

TEST_F(ApiCoordinationTest, EveryDocumentedSchemaExists) {
  for (const Route& route : router_.routes()) {
    EXPECT_FALSE(route.doc.summary.empty()) << route.pattern;
    for (const std::string& name : {route.doc.request_schema, route.doc.response_schema}) {
      if (!name.empty()) {
        EXPECT_NE(context_->schemas.Find(name), nullptr) << name;
      }
    }
  }
}

}  // namespace
}  // namespace yagura::http

// The TAXII 2.1 routes and their administration through the Router, without sockets, on SQLite
// and (with YAGURA_TEST_POSTGRES_URL) PostgreSQL: discovery, API roots and collections per
// partner, media type negotiation (406, 415, 413), TAXII error messages, the date headers and
// paging over HTTP, the status resource, HTTP Basic refused without TLS and accepted with it,
// bearer tokens, every TLP marking per reader, sanitised incident summaries, and everything
// the server emits validated against the OASIS STIX 2.1 schemas by
// tests/integration/stix_validate.py.
#include <gtest/gtest.h>
#include <sodium.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>

#include <fmt/format.h>

#include "core/metrics.hpp"
#include "core/time.hpp"
#include "hub/audit_log.hpp"
#include "hub/identity.hpp"
#include "hub/passwords.hpp"
#include "hub/stix_export.hpp"
#include "hub/taxii.hpp"
#include "http/api.hpp"
#include "http/router.hpp"
#include "unit/hub/hub_test_database.hpp"

namespace yagura::http {
namespace {

using hub::testing::Backend;

constexpr std::string_view TAXII = "application/taxii+json;version=2.1";
constexpr std::string_view PARTNER_PASSWORD = "partner password 2026";

struct Call {
  Call(std::string method, std::string target, std::string authorization, std::string body = {},
       std::string content_type = std::string(TAXII), std::string accept = std::string(TAXII))
      : method(std::move(method)), target(std::move(target)),
        authorization(std::move(authorization)), body(std::move(body)),
        content_type(std::move(content_type)), accept(std::move(accept)) {}
  std::string method;
  std::string target;
  std::string authorization;  // the whole header value
  std::string body;
  std::string content_type;
  std::string accept;
  bool tls = false;
};

std::string Basic(std::string_view user, std::string_view password) {
  std::string plain = std::string(user) + ":" + std::string(password);
  std::string encoded(sodium_base64_ENCODED_LEN(plain.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(encoded.data(), encoded.size(), reinterpret_cast<const unsigned char*>(plain.data()),
                    plain.size(), sodium_base64_VARIANT_ORIGINAL);
  encoded.resize(encoded.find('\0'));
  return "Basic " + encoded;
}

class ApiTaxiiTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    hub::SetPasswordCost(hub::PasswordCost::Minimal());
    std::string skip;
    if (!db_.Open(GetParam(), skip)) {
      if (!skip.empty()) GTEST_SKIP() << skip;
      FAIL() << "no database";
    }
    audit_ = std::make_unique<hub::AuditLog>(*db_);
    ServiceSettings settings;
    settings.taxii_max_content_length = 64 * 1024;
    settings.public_url = "https://taxii.example.go.jp";
    context_ = std::make_unique<ApiContext>(ApiContext{*db_, *audit_, metrics_, settings});
    RegisterApi(router_, *context_);

    auto boot = hub::BootstrapCentre(*db_, "duty", "duty officer password");
    ASSERT_TRUE(boot) << boot.error().message;
    admin_.user_id = boot->user_id;
    admin_.org_id = centre_ = boot->org_id;
    admin_.org_type = hub::OrgType::kCentre;
    admin_.roles = {hub::Role::kCentreAdmin};
    admin_.method = hub::AuthMethod::kInternal;
    duty_ = "Bearer " + Token(boot->user_id);
    analyst_ = "Bearer " + Token(User(centre_, "analyst", hub::Role::kCentreAnalyst));
    member_org_ = Org("CERT A", hub::OrgType::kPartnerCert);
    member_ = "Bearer " + Token(User(member_org_, "cert.a", hub::Role::kPartner, true));
    other_org_ = Org("CERT C", hub::OrgType::kPartnerCert);
    other_ = "Bearer " + Token(User(other_org_, "cert.c", hub::Role::kPartner));
    outsider_org_ = Org("CERT B", hub::OrgType::kPartnerCert);
    outsider_ = "Bearer " + Token(User(outsider_org_, "cert.b", hub::Role::kPartner));
    ministry_org_ = Org("Ministry of Examples", hub::OrgType::kMinistry);
    reporter_ = "Bearer " + Token(User(ministry_org_, "reporter", hub::Role::kOrgReporter));
  }

  void TearDown() override {
    router_ = Router();
    context_.reset();
    audit_.reset();
  }

  std::string Org(const std::string& name, hub::OrgType type) {
    hub::NewOrganization org;
    org.name = name;
    org.type = type;
    auto created = hub::CreateOrganization(*db_, admin_, org);
    EXPECT_TRUE(created) << created.error().message;
    return created ? created->id : "";
  }
  std::string User(const std::string& org, const std::string& name, hub::Role role,
                   bool password = false) {
    hub::NewUser user;
    user.username = name;
    user.org_id = org;
    user.roles = {role};
    if (password) user.password = std::string(PARTNER_PASSWORD);
    auto created = hub::CreateUser(*db_, admin_, user);
    EXPECT_TRUE(created) << created.error().message;
    return created ? created->id : "";
  }
  std::string Token(const std::string& user_id) {
    auto token = hub::CreateToken(*db_, admin_, user_id, "taxii", {"read", "write"}, std::nullopt,
                                  NowMs());
    EXPECT_TRUE(token) << token.error().message;
    return token ? token->secret : "";
  }

  Response Send(const Call& call) {
    Request request;
    request.method = call.method;
    request.target = call.target;
    EXPECT_TRUE(DecodeTarget(call.target, request)) << call.target;
    request.remote_address = "127.0.0.1";
    request.tls = call.tls;
    if (!call.authorization.empty()) request.headers.Set("Authorization", call.authorization);
    if (!call.accept.empty()) request.headers.Set("Accept", call.accept);
    if (call.method == "POST") {
      request.body = call.body;
      if (!call.content_type.empty()) request.headers.Set("Content-Type", call.content_type);
    }
    return router_.Dispatch(request);
  }
  Response Get(const std::string& target, const std::string& authorization) {
    return Send({"GET", target, authorization});
  }
  // The admin API (application/json).
  Response Admin(const std::string& target, const std::string& authorization, std::string body) {
    Call call{"POST", target, authorization, std::move(body), "application/json", ""};
    return Send(call);
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

  // A collection with the member (read, write) and the other partner (read) in its group.
  std::string Collection(std::string_view max_tlp) {
    Response created = Admin("/api/v1/taxii/collections", duty_,
                             fmt::format(R"({{"title":"Group {}","max_tlp":"{}","alias":"g-{}"}})",
                                         max_tlp, max_tlp, max_tlp));
    EXPECT_EQ(created.status, 201) << created.body;
    std::string id = Text(Body(created), "id");
    EXPECT_EQ(Admin("/api/v1/taxii/collections/" + id + "/access", duty_,
                    fmt::format(R"({{"org_id":"{}","can_read":true,"can_write":true}})", member_org_))
                  .status,
              200);
    EXPECT_EQ(Admin("/api/v1/taxii/collections/" + id + "/access", duty_,
                    fmt::format(R"({{"org_id":"{}","can_read":true}})", other_org_))
                  .status,
              200);
    return id;
  }

  std::string Objects(const std::string& collection) {
    return "/taxii2/centre/collections/" + collection + "/objects/";
  }

  std::set<std::string> VisibleIds(const std::string& collection, const std::string& who) {
    std::set<std::string> ids;
    Response response = Get(Objects(collection) + "?match[type]=indicator", who);
    if (response.status != 200) return {"status " + std::to_string(response.status)};
    JsonValue body = Body(response);
    if (const JsonValue* objects = body.Find("objects")) {
      for (const auto& object : objects->as_array()) ids.insert(Text(object, "id"));
    }
    return ids;
  }

  std::string PublishIndicator(const std::string& collection, std::string_view tlp,
                               std::string_view value, int expect = 201) {
    Response response = Admin(
        "/api/v1/taxii/collections/" + collection + "/publish", analyst_,
        fmt::format(R"({{"kind":"indicator","tlp":"{}","type":"ipv4","value":"{}"}})", tlp, value));
    EXPECT_EQ(response.status, expect) << response.body;
    return Text(Body(response), "primary_id");
  }

  static std::string Indicator(int i, std::string_view marking = {}) {
    std::string markings =
        marking.empty() ? std::string() : fmt::format(R"(,"object_marking_refs":["{}"])", marking);
    return fmt::format(
        R"({{"type":"indicator","spec_version":"2.1","id":"indicator--{:08x}-0000-4000-8000-000000000000",)"
        R"("created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z",)"
        R"("name":"partner indicator","pattern":"[domain-name:value = 'bad.example']",)"
        R"("pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z"{}}})",
        i, markings);
  }

  hub::testing::TestDatabase db_;
  std::unique_ptr<hub::AuditLog> audit_;
  Metrics metrics_;
  std::unique_ptr<ApiContext> context_;
  Router router_;
  hub::Principal admin_;
  std::string centre_, member_org_, other_org_, outsider_org_, ministry_org_;
  std::string duty_, analyst_, member_, other_, outsider_, reporter_;
};

TEST_P(ApiTaxiiTest, DiscoveryApiRootAndCollectionsPerPartner) {
  std::string collection = Collection("green");
  Response discovery = Get("/taxii2/", member_);
  ASSERT_EQ(discovery.status, 200) << discovery.body;
  EXPECT_EQ(discovery.headers.Get("content-type").value_or(""), TAXII);
  JsonValue body = Body(discovery);
  EXPECT_EQ(Text(body, "default"), "https://taxii.example.go.jp/taxii2/centre/");
  ASSERT_EQ(body.Find("api_roots")->as_array().size(), 1u);

  Response root = Get("/taxii2/centre/", member_);
  ASSERT_EQ(root.status, 200) << root.body;
  EXPECT_EQ(Body(root).Find("max_content_length")->as_int(), 64 * 1024);
  EXPECT_EQ(Body(root).Find("versions")->as_array().at(0).as_string(), TAXII);
  EXPECT_EQ(Get("/taxii2/elsewhere/", member_).status, 404);

  auto listed = [&](const std::string& who) {
    JsonValue list = Body(Get("/taxii2/centre/collections/", who));
    std::vector<std::string> ids;
    for (const auto& c : list.Find("collections")->as_array()) ids.push_back(Text(c, "id"));
    return ids;
  };
  EXPECT_EQ(listed(member_), std::vector<std::string>{collection});
  EXPECT_EQ(listed(other_), std::vector<std::string>{collection});
  EXPECT_TRUE(listed(outsider_).empty());
  EXPECT_EQ(listed(duty_), std::vector<std::string>{collection});

  JsonValue mine = Body(Get("/taxii2/centre/collections/" + collection + "/", member_));
  EXPECT_TRUE(mine.Find("can_read")->as_bool());
  EXPECT_TRUE(mine.Find("can_write")->as_bool());
  EXPECT_EQ(Text(mine, "alias"), "g-green");
  EXPECT_EQ(mine.Find("media_types")->as_array().at(0).as_string(), hub::STIX_MEDIA_TYPE);
  EXPECT_FALSE(Body(Get("/taxii2/centre/collections/" + collection + "/", other_))
                   .Find("can_write")->as_bool());
  // Outside the group: not found, never "forbidden".
  EXPECT_EQ(Get("/taxii2/centre/collections/" + collection + "/", outsider_).status, 404);
  EXPECT_EQ(Get(Objects(collection), outsider_).status, 404);
}

TEST_P(ApiTaxiiTest, MediaTypesAndTaxiiErrorMessages) {
  std::string collection = Collection("green");
  Call call{"GET", Objects(collection), member_};
  call.accept = "application/json";
  Response refused = Send(call);
  ASSERT_EQ(refused.status, 406) << refused.body;
  JsonValue error = Body(refused);
  EXPECT_EQ(Text(error, "http_status"), "406");
  EXPECT_FALSE(Text(error, "title").empty());
  EXPECT_FALSE(Text(error, "description").empty());
  EXPECT_EQ(error.Find("error")->Find("status")->as_int(), 406);
  EXPECT_EQ(refused.headers.Get("content-type").value_or(""), TAXII);
  call.accept = "application/taxii+json;version=2.0";
  EXPECT_EQ(Send(call).status, 406);
  for (const char* accept : {"application/taxii+json", "application/taxii+json; version=2.1",
                             "text/html, */*;q=0.1", ""}) {
    call.accept = accept;
    EXPECT_EQ(Send(call).status, 200) << accept;
  }
  call.accept = "application/taxii+json;version=2.1;q=0";
  EXPECT_EQ(Send(call).status, 406);

  Call post{"POST", Objects(collection), member_, R"({"objects":[]})", "application/json"};
  EXPECT_EQ(Send(post).status, 415);
  post.content_type = "application/stix+json;version=2.1";
  EXPECT_EQ(Send(post).status, 415);
  post.content_type = std::string(TAXII);
  EXPECT_EQ(Send(post).status, 202);
  post.body = R"({"objects":[)";
  for (int i = 0; i < 300; ++i) post.body += (i ? "," : "") + Indicator(i);
  post.body += "]}";
  ASSERT_GT(post.body.size(), 64u * 1024);
  Response large = Send(post);
  EXPECT_EQ(large.status, 413);
  EXPECT_EQ(Text(Body(large), "http_status"), "413");
  post.body = R"({"objects":{}})";
  EXPECT_EQ(Send(post).status, 400);
  post.body = "{";
  EXPECT_EQ(Send(post).status, 400);

  // Errors of the router and of authentication are TAXII errors too.
  Response missing = Get("/taxii2/centre/collections/00000000-0000-4000-8000-000000000000/", member_);
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(Text(Body(missing), "http_status"), "404");
  Response anonymous = Get("/taxii2/", "");
  EXPECT_EQ(anonymous.status, 401);
  EXPECT_EQ(Text(Body(anonymous), "http_status"), "401");
  EXPECT_EQ(Get(Objects(collection) + "?limit=0", member_).status, 400);
  EXPECT_EQ(Get(Objects(collection) + "?added_after=yesterday", member_).status, 400);
  EXPECT_EQ(Get(Objects(collection) + "?next=forged.0000000000000000", member_).status, 400);
  EXPECT_EQ(Get(Objects(collection) + "?match[version]=newest", member_).status, 400);
  EXPECT_EQ(Get(Objects(collection) + "?match[id]=not-an-id", member_).status, 400);
}

TEST_P(ApiTaxiiTest, PagingHeadersStatusManifestVersionsOverHttp) {
  std::string collection = Collection("green");
  std::string body = R"({"objects":[)";
  for (int i = 0; i < 5; ++i) body += (i ? "," : "") + Indicator(i);
  body += R"(,{"type":"indicator","id":"indicator--bad"}]})";
  Response posted = Send({"POST", Objects(collection), member_, body});
  ASSERT_EQ(posted.status, 202) << posted.body;
  JsonValue status = Body(posted);
  EXPECT_EQ(Text(status, "status"), "complete");
  EXPECT_EQ(status.Find("total_count")->as_int(), 6);
  EXPECT_EQ(status.Find("success_count")->as_int(), 5);
  EXPECT_EQ(status.Find("failure_count")->as_int(), 1);
  EXPECT_EQ(Text(status.Find("failures")->as_array().at(0), "id"), "indicator--bad");
  EXPECT_FALSE(Text(status.Find("failures")->as_array().at(0), "message").empty());
  Response again = Get("/taxii2/centre/status/" + Text(status, "id") + "/", member_);
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(Body(again).Find("failure_count")->as_int(), 1);
  EXPECT_EQ(Get("/taxii2/centre/status/" + Text(status, "id") + "/", other_).status, 404);

  std::vector<std::string> ids;
  std::string next;
  std::string last_header;
  for (int page = 0; page < 10; ++page) {
    std::string target = Objects(collection) + "?limit=2" + (next.empty() ? "" : "&next=" + next);
    Response response = Get(target, other_);
    ASSERT_EQ(response.status, 200) << response.body;
    JsonValue envelope = Body(response);
    const auto& objects = envelope.Find("objects")->as_array();
    for (const auto& object : objects) ids.push_back(Text(object, "id"));
    auto first = response.headers.Get("x-taxii-date-added-first");
    auto last = response.headers.Get("x-taxii-date-added-last");
    ASSERT_TRUE(first && last);
    EXPECT_LE(*first, *last);
    EXPECT_GT(*first, last_header);
    last_header = std::string(*last);
    if (!envelope.Find("more")->as_bool()) {
      EXPECT_EQ(envelope.Find("next"), nullptr);
      break;
    }
    next = Text(envelope, "next");
  }
  EXPECT_EQ(ids.size(), 5u);
  // added_after = the last X-TAXII-Date-Added-Last: nothing more.
  Response after = Get(Objects(collection) + "?added_after=" + last_header, other_);
  EXPECT_EQ(after.status, 200);
  EXPECT_EQ(Body(after).Find("objects"), nullptr);
  EXPECT_FALSE(after.headers.Get("x-taxii-date-added-first"));

  Response manifest = Get("/taxii2/centre/collections/" + collection + "/manifest/?limit=3", other_);
  ASSERT_EQ(manifest.status, 200);
  JsonValue entries = Body(manifest);
  EXPECT_TRUE(entries.Find("more")->as_bool());
  ASSERT_EQ(entries.Find("objects")->as_array().size(), 3u);
  const JsonValue& entry = entries.Find("objects")->as_array()[0];
  EXPECT_EQ(Text(entry, "version"), "2026-01-01T00:00:00.000Z");
  EXPECT_EQ(Text(entry, "media_type"), hub::STIX_MEDIA_TYPE);
  EXPECT_EQ(Text(entry, "date_added").size(), 27u);  // microseconds
  EXPECT_TRUE(manifest.headers.Get("x-taxii-date-added-last"));

  std::string object = Objects(collection) + ids[0] + "/";
  Response one = Get(object, other_);
  ASSERT_EQ(one.status, 200) << one.body;
  EXPECT_EQ(Body(one).Find("objects")->as_array().size(), 1u);
  Response versions = Get(object + "versions/", other_);
  ASSERT_EQ(versions.status, 200);
  EXPECT_EQ(Body(versions).Find("versions")->as_array().at(0).as_string(),
            "2026-01-01T00:00:00.000Z");
  EXPECT_TRUE(versions.headers.Get("x-taxii-date-added-first"));
  // Only the sharer (or the centre) deletes; then the object is gone.
  EXPECT_EQ(Send({"DELETE", object, other_}).status, 403);
  EXPECT_EQ(Send({"DELETE", object, member_}).status, 200);
  EXPECT_EQ(Get(object, other_).status, 404);
  EXPECT_EQ(Get(Objects(collection) + "indicator--00000000-0000-4000-8000-000000000000/", other_).status,
            404);
}

TEST_P(ApiTaxiiTest, BasicAuthenticationOnlyOverTls) {
  std::string collection = Collection("green");
  Call call{"GET", "/taxii2/centre/collections/", Basic("cert.a", PARTNER_PASSWORD)};
  Response plain = Send(call);
  EXPECT_EQ(plain.status, 401);
  EXPECT_NE(Text(*Body(plain).Find("error"), "message").find("TLS"), std::string::npos);
  call.tls = true;
  Response secure = Send(call);
  ASSERT_EQ(secure.status, 200) << secure.body;
  EXPECT_EQ(Body(secure).Find("collections")->as_array().size(), 1u);
  // Writes work too (no CSRF: Basic is not an ambient browser session here).
  Call post{"POST", Objects(collection), call.authorization, R"({"objects":[)" + Indicator(1) + "]}"};
  post.tls = true;
  EXPECT_EQ(Send(post).status, 202);
  // A wrong password is a failed login; over TLS the challenge offers Basic.
  call.authorization = Basic("cert.a", "not the password");
  Response wrong = Send(call);
  EXPECT_EQ(wrong.status, 401);
  bool basic_offered = false;
  for (const auto& [name, value] : wrong.headers.all()) {
    if (name == "www-authenticate" && value.starts_with("Basic")) basic_offered = true;
  }
  EXPECT_TRUE(basic_offered);
  call.authorization = "Basic !!!";
  EXPECT_EQ(Send(call).status, 401);
  // The session a Basic request opens ends with it.
  auto connection = db_->Acquire();
  EXPECT_EQ(connection->Query("SELECT COUNT(*) FROM sessions").rows[0][0].as_int(), 0);
  EXPECT_GE(connection->Query("SELECT COUNT(*) FROM audit_log WHERE action = 'auth.login' AND "
                              "outcome = 'failed'")
                .rows[0][0]
                .as_int(),
            1);
}

TEST_P(ApiTaxiiTest, BearerTokensNeedTheirScope) {
  std::string collection = Collection("green");
  std::string user = hub::FindUserByName(*db_, "cert.a")->id;
  auto read_only = hub::CreateToken(*db_, admin_, user, "ro", {"read"}, std::nullopt, NowMs());
  ASSERT_TRUE(read_only);
  std::string token = "Bearer " + read_only->secret;
  EXPECT_EQ(Get(Objects(collection), token).status, 200);
  Response refused = Send({"POST", Objects(collection), token, R"({"objects":[]})"});
  EXPECT_EQ(refused.status, 403);
  EXPECT_EQ(Text(Body(refused), "http_status"), "403");
  // A reader without can_write may not add.
  EXPECT_EQ(Send({"POST", Objects(collection), other_, R"({"objects":[]})"}).status, 403);
}

TEST_P(ApiTaxiiTest, EveryMarkingPerReader) {
  std::string amber = Collection("amber");
  std::string clear_id = PublishIndicator(amber, "clear", "198.51.100.1");
  std::string green_id = PublishIndicator(amber, "green", "198.51.100.2");
  std::string amber_id = PublishIndicator(amber, "amber", "198.51.100.3");
  PublishIndicator(amber, "amber+strict", "198.51.100.4", 403);
  PublishIndicator(amber, "red", "198.51.100.5", 403);
  // A partner's AMBER+STRICT stays with its organisation (and the duty officer).
  std::string strict_marking(hub::TlpMarkingId(hub::Tlp::kAmberStrict));
  ASSERT_EQ(Send({"POST", Objects(amber), member_, R"({"objects":[)" + Indicator(7, strict_marking) + "]}"})
                .status,
            202);
  std::string strict_id = "indicator--00000007-0000-4000-8000-000000000000";

  const std::set<std::string> group = {clear_id, green_id, amber_id};
  std::set<std::string> with_strict = group;
  with_strict.insert(strict_id);
  EXPECT_EQ(VisibleIds(amber, member_), with_strict);
  EXPECT_EQ(VisibleIds(amber, other_), group);
  EXPECT_EQ(VisibleIds(amber, outsider_), std::set<std::string>{"status 404"});
  EXPECT_EQ(VisibleIds(amber, duty_), with_strict);
  EXPECT_EQ(VisibleIds(amber, analyst_), group);
  // A member organisation of the community that is not in the group sees nothing either.
  EXPECT_EQ(VisibleIds(amber, reporter_), std::set<std::string>{"status 404"});

  // A GREEN group never receives AMBER.
  std::string green = Collection("green");
  PublishIndicator(green, "amber", "198.51.100.6", 400);
  std::string green_only = PublishIndicator(green, "green", "198.51.100.6");
  EXPECT_EQ(VisibleIds(green, other_), std::set<std::string>{green_only});
  Response partner_amber = Send({"POST", Objects(green), member_,
                                 R"({"objects":[)" +
                                     Indicator(8, hub::TlpMarkingId(hub::Tlp::kAmber)) + "]}"});
  EXPECT_EQ(Body(partner_amber).Find("failure_count")->as_int(), 1);

  // AMBER reads are audited: one entry per page naming the objects.
  audit_->Flush();
  auto connection = db_->Acquire();
  store::Rows rows = connection->Query(
      "SELECT detail, tlp FROM audit_log WHERE action = 'taxii_object.list' AND actor_org_id = $1",
      {store::Param{other_org_}});
  ASSERT_FALSE(rows.empty());
  EXPECT_NE(rows.rows[0][0].text().find(amber_id), std::string::npos);
  EXPECT_EQ(rows.rows[0][1].text(), "amber");
}

TEST_P(ApiTaxiiTest, IncidentSummariesAreSanitised) {
  std::string amber = Collection("amber");
  Response filed = Admin("/api/v1/incidents", reporter_, R"({
    "title": "Ransomware at the Ministry of Examples payroll servers",
    "description": "Contact Sato at payroll; servers PAY-01 and PAY-02 encrypted",
    "category": "malware",
    "functional_impact": "significant_impact_to_non_critical_services",
    "information_impact": "privacy_data_breach",
    "recoverability": "supplemented",
    "location": "business_network",
    "attack_vector": "email_phishing",
    "detected_at": "2026-11-26T09:30:00+09:00",
    "indicators": [{"type": "ip", "value": "203.0.113.7"}],
    "point_of_contact": {"name": "Sato Hanako", "email": "sato@payroll.example.go.jp"}
  })");
  ASSERT_EQ(filed.status, 201) << filed.body;
  std::string incident = Text(Body(filed), "id");
  std::string target = "/api/v1/taxii/collections/" + amber + "/publish";
  // The incident is AMBER: a GREEN summary would share it more widely.
  Response green = Admin(target, duty_,
                         fmt::format(R"({{"kind":"incident_summary","incident_id":"{}","tlp":"green"}})",
                                     incident));
  EXPECT_EQ(green.status, 403) << green.body;
  Response published = Admin(
      target, duty_,
      fmt::format(R"({{"kind":"incident_summary","incident_id":"{}","tlp":"amber"}})", incident));
  ASSERT_EQ(published.status, 201) << published.body;
  std::string report_id = Text(Body(published), "primary_id");
  EXPECT_TRUE(report_id.starts_with("report--"));

  Response read = Get(Objects(amber) + "?match[type]=report,incident", other_);
  ASSERT_EQ(read.status, 200);
  ASSERT_EQ(Body(read).Find("objects")->as_array().size(), 2u);
  for (const char* secret : {"Ministry", "payroll", "Sato", "PAY-01", "203.0.113.7",
                             ministry_org_.c_str(), "Ransomware at"}) {
    EXPECT_EQ(read.body.find(secret), std::string::npos) << secret << " leaked: " << read.body;
  }
  EXPECT_NE(read.body.find("email phishing"), std::string::npos);
  // Published again: the same report, a new version.
  ASSERT_EQ(Admin(target, duty_,
                  fmt::format(R"({{"kind":"incident_summary","incident_id":"{}","tlp":"amber"}})",
                              incident))
                .status,
            201);
  Response versions = Get(Objects(amber) + report_id + "/versions/", other_);
  EXPECT_EQ(Body(versions).Find("versions")->as_array().size(), 2u);
  // Someone who cannot read the incident cannot publish it.
  Response unknown = Admin(target, analyst_,
                           fmt::format(R"({{"kind":"incident_summary","incident_id":"{}","tlp":"amber"}})",
                                       hub::NewUuid4()));
  EXPECT_EQ(unknown.status, 404);
}

TEST_P(ApiTaxiiTest, AdministrationIsTheDutyOfficers) {
  Response created = Admin("/api/v1/taxii/collections", analyst_, R"({"title":"x"})");
  EXPECT_EQ(created.status, 403);
  EXPECT_EQ(Admin("/api/v1/taxii/collections", member_, R"({"title":"x"})").status, 403);
  Response bad = Admin("/api/v1/taxii/collections", duty_, R"({"title":"x","max_tlp":"red"})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(Text(*Body(bad).Find("error"), "field"), "max_tlp");
  EXPECT_EQ(Admin("/api/v1/taxii/collections", duty_, R"({"title":"x","zz":1})").status, 400);
  std::string id = Collection("green");
  Response one = Send({"GET", "/api/v1/taxii/collections/" + id, duty_, "", "", ""});
  ASSERT_EQ(one.status, 200) << one.body;
  EXPECT_EQ(Body(one).Find("access")->as_array().size(), 2u);
  EXPECT_EQ(Send({"GET", "/api/v1/taxii/collections/" + id, outsider_, "", "", ""}).status, 404);
  Response list = Send({"GET", "/api/v1/taxii/collections?limit=1", duty_, "", "", ""});
  ASSERT_EQ(list.status, 200);
  EXPECT_TRUE(Body(list).Find("next_cursor")->is_null());
  std::string other = Collection("amber");
  JsonValue page = Body(Send({"GET", "/api/v1/taxii/collections?limit=1", duty_, "", "", ""}));
  ASSERT_TRUE(page.Find("next_cursor")->is_string());
  JsonValue second = Body(Send({"GET",
                                "/api/v1/taxii/collections?limit=1&cursor=" +
                                    page.Find("next_cursor")->as_string(),
                                duty_, "", "", ""}));
  ASSERT_EQ(second.Find("items")->as_array().size(), 1u);
  EXPECT_TRUE(second.Find("next_cursor")->is_null());
  std::set<std::string> both = {Text(page.Find("items")->as_array()[0], "id"),
                                Text(second.Find("items")->as_array()[0], "id")};
  EXPECT_EQ(both, (std::set<std::string>{id, other}));
  EXPECT_EQ(Admin("/api/v1/taxii/collections/" + id + "/access", duty_,
                  fmt::format(R"({{"org_id":"{}","can_read":true}})", centre_))
                .status,
            400);
}

// Everything the exporter and the server emit, checked by the OASIS schemas.
TEST_P(ApiTaxiiTest, EmittedObjectsValidateAgainstTheOasisSchemas) {
  const std::string python = "/usr/bin/python3";
  const std::string script = std::string(YAGURA_SOURCE_DIR) + "/tests/integration/stix_validate.py";
  const std::string schemas = std::string(YAGURA_SHARED_DIR) + "/data/stix/schemas";
  if (std::system((python + " -c 'import jsonschema' 2>/dev/null").c_str()) != 0) {
    GTEST_SKIP() << "python3-jsonschema is not installed (scripts/setup installs it)";
  }
  std::string amber = Collection("amber");
  std::string base = "/api/v1/taxii/collections/" + amber + "/publish";
  std::vector<std::string> published;
  for (const auto& [type, value] :
       std::vector<std::pair<std::string, std::string>>{{"ipv4", "198.51.100.7"},
                                                        {"ipv6", "2001:db8::1"},
                                                        {"domain", "bad.example"},
                                                        {"url", "https://bad.example/x'y"},
                                                        {"email", "phish@bad.example"},
                                                        {"md5", std::string(32, 'a')},
                                                        {"sha1", std::string(40, 'b')},
                                                        {"sha256", std::string(64, 'c')},
                                                        {"sha512", std::string(128, 'd')}}) {
    Response response = Admin(base, analyst_,
                              fmt::format(R"({{"kind":"indicator","tlp":"green","type":"{}","value":"{}",)"
                                          R"("valid_until":"2030-01-01T00:00:00Z"}})",
                                          type, value));
    ASSERT_EQ(response.status, 201) << response.body;
    published.push_back(response.body);
  }
  std::string indicator = Text(Body(Admin(base, analyst_,
                                          R"({"kind":"indicator","tlp":"amber","type":"ipv4","value":"192.0.2.1"})")),
                               "primary_id");
  Response sighting = Admin(base, analyst_,
                            fmt::format(R"({{"kind":"sighting","tlp":"amber","sighting_of_ref":"{}",)"
                                        R"("count":3,"first_seen":"2026-11-25T00:00:00Z",)"
                                        R"("last_seen":"2026-11-26T00:00:00Z"}})",
                                        indicator));
  ASSERT_EQ(sighting.status, 201) << sighting.body;
  Response report = Admin(base, analyst_,
                          fmt::format(R"({{"kind":"report","tlp":"clear","name":"Spearphishing wave",)"
                                      R"("techniques":["T1566.001","T1059"],"object_refs":["{}"]}})",
                                      indicator));
  ASSERT_EQ(report.status, 201) << report.body;
  Response filed = Admin("/api/v1/incidents", reporter_, R"({"title":"t","description":"d",
    "category":"phishing","functional_impact":"no_impact","information_impact":"none",
    "recoverability":"regular","location":"business_network",
    "detected_at":"2026-11-26T09:30:00+09:00","tlp":"green",
    "point_of_contact":{"name":"n","email":"n@example.org"}})");
  ASSERT_EQ(filed.status, 201) << filed.body;
  ASSERT_EQ(Admin(base, duty_,
                  fmt::format(R"({{"kind":"incident_summary","incident_id":"{}","tlp":"green"}})",
                              Text(Body(filed), "id")))
                .status,
            201);
  // A partner's objects (valid ones from the OASIS examples) are served as they came.
  std::ifstream example(std::string(YAGURA_SHARED_DIR) +
                        "/data/stix/examples/oasis-cti-stix2-json-schemas/indicator-for-c2-ip-address.json");
  std::string bundle((std::istreambuf_iterator<char>(example)), std::istreambuf_iterator<char>());
  auto parsed = JsonValue::Parse(bundle);
  ASSERT_TRUE(parsed) << parsed.error().message;
  JsonValue envelope = JsonValue::MakeObject();
  envelope.Set("objects", *parsed->Find("objects"));
  Response posted = Send({"POST", Objects(amber), member_, envelope.Serialize()});
  ASSERT_EQ(posted.status, 202) << posted.body;
  EXPECT_EQ(Body(posted).Find("failure_count")->as_int(), 0) << posted.body;

  auto dir = db_.dir().empty() ? std::filesystem::temp_directory_path() / ("yagura-stix-" + hub::NewUuid4())
                               : db_.dir() / "emitted";
  std::filesystem::create_directories(dir);
  int files = 0;
  auto write = [&](const std::string& text) {
    std::ofstream(dir / fmt::format("{:04}.json", files++)) << text;
  };
  // What the server serves: every version of every object, through the TAXII routes.
  std::string next;
  size_t served = 0;
  for (int guard = 0; guard < 100; ++guard) {
    Response page = Get(Objects(amber) + "?match[version]=all&limit=7" + (next.empty() ? "" : "&next=" + next),
                        other_);
    ASSERT_EQ(page.status, 200) << page.body;
    JsonValue body = Body(page);
    served += body.Find("objects")->as_array().size();
    write(page.body);
    if (!body.Find("more")->as_bool()) break;
    next = Text(body, "next");
  }
  EXPECT_GE(served, 20u);
  // What the exporter answered the publisher with.
  for (const auto& text : published) write(Body(Response{201, {}, text}).Find("objects")->Serialize());
  write(Body(sighting).Find("objects")->Serialize());
  write(Body(report).Find("objects")->Serialize());
  for (hub::Tlp tlp : {hub::Tlp::kClear, hub::Tlp::kGreen, hub::Tlp::kAmber, hub::Tlp::kAmberStrict,
                       hub::Tlp::kRed}) {
    write(hub::TlpMarkingDefinition(tlp).Serialize());
  }
  std::string command = fmt::format("{} {} {} {} > {}/result.txt 2>&1", python, script, schemas,
                                    dir.string(), dir.string());
  int rc = std::system(command.c_str());
  std::ifstream result(dir / "result.txt");
  std::string output((std::istreambuf_iterator<char>(result)), std::istreambuf_iterator<char>());
  EXPECT_EQ(rc, 0) << output;
  EXPECT_NE(output.find(" 0 invalid"), std::string::npos) << output;
  // The validator itself refuses what it should: the invalid example bundle.
  std::string negative = fmt::format("{} {} {} {}/data/stix/examples/invalid-indicator-bundle.json "
                                     "> /dev/null 2>&1",
                                     python, script, schemas, YAGURA_SHARED_DIR);
  EXPECT_NE(std::system(negative.c_str()), 0);
  if (db_.dir().empty()) std::filesystem::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(Backends, ApiTaxiiTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         hub::testing::BackendName);

}  // namespace
}  // namespace yagura::http

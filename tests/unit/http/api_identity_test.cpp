// The identity routes through the Router, without sockets: login and its cookie, CSRF, bearer
// tokens and their scopes, lockout, expiry, logout, and who may create whom.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>

#include <fmt/format.h>

#include "core/metrics.hpp"
#include "core/time.hpp"
#include "hub/audit_log.hpp"
#include "hub/identity.hpp"
#include "hub/passwords.hpp"
#include "hub/schema.hpp"
#include "http/api.hpp"
#include "http/router.hpp"

namespace yagura::http {
namespace {

using store::Param;

constexpr std::string_view ADMIN_PASSWORD = "centre admin password";
constexpr std::string_view PASSWORD = "a long enough password";

// A credential to send: a session (cookie + CSRF token) or a bearer token.
struct Credential {
  std::string cookie;
  std::string csrf;
  std::string bearer;
};

class ApiIdentityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    hub::SetPasswordCost(hub::PasswordCost::Minimal());
    std::string pattern = (std::filesystem::temp_directory_path() / "yagura-api-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    auto opened = store::Database::Open((dir_ / "hub.db").string(), 4);
    ASSERT_TRUE(opened) << opened.error().ToString();
    db_ = std::move(*opened);
    ASSERT_TRUE(hub::MigrateSchema(*db_));
    audit_ = std::make_unique<hub::AuditLog>(*db_);
    ServiceSettings settings;
    settings.login_max_failures = 3;
    context_ = std::make_unique<ApiContext>(ApiContext{*db_, *audit_, metrics_, settings});
    RegisterIdentityRoutes(router_, *context_);

    auto boot = hub::BootstrapCentre(*db_, "admin", ADMIN_PASSWORD);
    ASSERT_TRUE(boot);
    centre_id_ = boot->org_id;
    admin_ = Login("admin", ADMIN_PASSWORD);
    ministry_id_ = CreateOrg(R"({"name":"Ministry of Examples","type":"ministry"})");
    other_id_ = CreateOrg(R"({"name":"Another Ministry","type":"ministry"})");
    partner_id_ = CreateOrg(R"({"name":"CERT Abroad","type":"partner_cert"})");
    org_admin_id_ = CreateUser(ministry_id_, "ministry.admin", "org_admin");
    reporter_id_ = CreateUser(ministry_id_, "reporter", "org_reporter");
    org_admin_ = Login("ministry.admin", PASSWORD);
    reporter_ = Login("reporter", PASSWORD);
  }

  void TearDown() override {
    audit_.reset();
    db_.reset();
    std::filesystem::remove_all(dir_);
  }

  Response Call(std::string method, std::string target, const Credential* credential = nullptr,
                std::string body = {}, std::string address = "127.0.0.1") {
    Request request;
    request.method = std::move(method);
    request.target = target;
    EXPECT_TRUE(DecodeTarget(target, request));
    request.remote_address = std::move(address);
    if (!body.empty()) {
      request.body = std::move(body);
      request.headers.Set("Content-Type", "application/json");
    }
    if (credential != nullptr) {
      if (!credential->bearer.empty()) {
        request.headers.Set("Authorization", "Bearer " + credential->bearer);
      }
      if (!credential->cookie.empty()) {
        request.headers.Set("Cookie", "theme=dark; yagura_session=" + credential->cookie);
      }
      if (!credential->csrf.empty()) request.headers.Set("X-CSRF-Token", credential->csrf);
    }
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
  static std::string ErrorMember(const Response& response, std::string_view key) {
    JsonValue body = Body(response);
    const JsonValue* error = body.Find("error");
    return error ? Text(*error, key) : std::string();
  }
  static std::string ErrorCode(const Response& response) { return ErrorMember(response, "code"); }
  static std::string ErrorField(const Response& response) { return ErrorMember(response, "field"); }

  Credential Login(std::string_view username, std::string_view password,
                   std::string address = "127.0.0.1") {
    Response response =
        Call("POST", "/api/v1/auth/login", nullptr,
             fmt::format(R"({{"username":"{}","password":"{}"}})", username, password), address);
    EXPECT_EQ(response.status, 200) << response.body;
    Credential credential;
    auto cookie = response.headers.Get("set-cookie");
    if (cookie) {
      std::string_view value = *cookie;
      value.remove_prefix(value.find('=') + 1);
      credential.cookie = std::string(value.substr(0, value.find(';')));
    }
    credential.csrf = Text(Body(response), "csrf_token");
    return credential;
  }

  std::string CreateOrg(std::string body) {
    Response response = Call("POST", "/api/v1/organizations", &admin_, std::move(body));
    EXPECT_EQ(response.status, 201) << response.body;
    return Text(Body(response), "id");
  }

  std::string CreateUser(const std::string& org_id, const std::string& username,
                         const std::string& role) {
    Response response = Call("POST", "/api/v1/users", &admin_,
                             fmt::format(R"({{"username":"{}","org_id":"{}","roles":["{}"],)"
                                         R"("password":"{}"}})",
                                         username, org_id, role, PASSWORD));
    EXPECT_EQ(response.status, 201) << response.body;
    return Text(Body(response), "id");
  }

  // A token of the admin with the given scopes, made through the API.
  std::string Token(std::string scopes_json, const Credential& owner) {
    Response response = Call("POST", "/api/v1/tokens", &owner,
                             R"({"name":"test token","scopes":)" + scopes_json + "}");
    EXPECT_EQ(response.status, 201) << response.body;
    return Text(Body(response), "token");
  }

  int64_t Count(const std::string& sql) {
    return db_->Acquire()->Query(sql).rows.at(0).at(0).as_int();
  }

  std::filesystem::path dir_;
  std::unique_ptr<store::Database> db_;
  std::unique_ptr<hub::AuditLog> audit_;
  Metrics metrics_;
  std::unique_ptr<ApiContext> context_;
  Router router_;
  std::string centre_id_, ministry_id_, other_id_, partner_id_, org_admin_id_, reporter_id_;
  Credential admin_, org_admin_, reporter_;
};

// ---- login -----------------------------------------------------------------------------------

TEST_F(ApiIdentityTest, UserNamesAnswerOnlyVisibleIdsAndRefuseLongLists) {
  std::string stranger_id = CreateUser(other_id_, "stranger", "org_reporter");
  std::string admin_id =
      db_->Acquire()->Query("SELECT id FROM users WHERE username = 'admin'").rows.at(0).at(0).text();
  ASSERT_FALSE(admin_id.empty());
  std::string target = fmt::format("/api/v1/users/names?ids={},{},{},,unknown", org_admin_id_,
                                   stranger_id, admin_id);
  Response response = Call("GET", target, &reporter_);
  ASSERT_EQ(response.status, 200) << response.body;
  JsonValue body = Body(response);
  const JsonValue* items = body.Find("items");
  ASSERT_NE(items, nullptr);
  std::vector<std::string> ids;
  for (const auto& item : items->as_array()) {
    ids.push_back(Text(item, "id"));
    if (Text(item, "id") == admin_id) {
      EXPECT_EQ(Text(item, "organization_id"), centre_id_);
      EXPECT_EQ(Text(item, "organization_name"), "National Cyber Defence Centre");
      EXPECT_EQ(Text(item, "display_name"), "admin");
    }
  }
  std::sort(ids.begin(), ids.end());
  std::vector<std::string> expected = {org_admin_id_, admin_id};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(ids, expected);

  // The centre sees everyone.
  body = Body(Call("GET", target, &admin_));
  EXPECT_EQ(body.Find("items")->as_array().size(), 3u);

  std::string many = "/api/v1/users/names?ids=" + org_admin_id_;
  for (int i = 0; i < 100; ++i) many += "," + reporter_id_;
  response = Call("GET", many, &admin_);
  EXPECT_EQ(response.status, 400) << response.body;
  EXPECT_EQ(ErrorField(response), "ids");
  EXPECT_EQ(Call("GET", "/api/v1/users/names?ids=" + org_admin_id_).status, 401);
  // Without ids: an empty answer.
  body = Body(Call("GET", "/api/v1/users/names", &reporter_));
  EXPECT_EQ(body.Find("items")->as_array().size(), 0u);
}


TEST_F(ApiIdentityTest, LoginSetsAStrictHttpOnlyCookieAndReturnsTheCsrfToken) {
  Response response = Call("POST", "/api/v1/auth/login", nullptr,
                           R"({"username":"reporter","password":"a long enough password"})");
  ASSERT_EQ(response.status, 200) << response.body;
  auto cookie = response.headers.Get("set-cookie");
  ASSERT_TRUE(cookie);
  EXPECT_TRUE(cookie->starts_with("yagura_session=")) << *cookie;
  EXPECT_NE(cookie->find("; HttpOnly"), std::string_view::npos);
  EXPECT_NE(cookie->find("; SameSite=Strict"), std::string_view::npos);
  EXPECT_NE(cookie->find("; Path=/"), std::string_view::npos);
  EXPECT_EQ(cookie->find("Secure"), std::string_view::npos);
  EXPECT_EQ(response.headers.Get("cache-control").value_or(""), "no-store");
  JsonValue body = Body(response);
  EXPECT_FALSE(Text(body, "csrf_token").empty());
  EXPECT_TRUE(ParseIsoDateTimeMs(Text(body, "expires_at")));
  EXPECT_EQ(Text(*body.Find("user"), "username"), "reporter");
  EXPECT_EQ(body.Find("user")->Find("password_hash"), nullptr);

  context_->settings.secure_cookies = true;
  Response secure = Call("POST", "/api/v1/auth/login", nullptr,
                         R"({"username":"reporter","password":"a long enough password"})");
  EXPECT_NE(secure.headers.Get("set-cookie")->find("; Secure"), std::string_view::npos);
}

TEST_F(ApiIdentityTest, WrongPasswordAndUnknownUserGetTheSame401) {
  Response wrong = Call("POST", "/api/v1/auth/login", nullptr,
                        R"({"username":"reporter","password":"not the password"})");
  Response unknown = Call("POST", "/api/v1/auth/login", nullptr,
                          R"({"username":"nobody","password":"not the password"})", "127.0.0.2");
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(unknown.status, 401);
  EXPECT_EQ(ErrorCode(wrong), "invalid_credentials");
  EXPECT_EQ(wrong.body, unknown.body);
  EXPECT_FALSE(wrong.headers.Get("set-cookie"));
}

TEST_F(ApiIdentityTest, RepeatedFailuresLockWith429AndRetryAfterAndAreAudited) {
  int64_t failed_before =
      Count("SELECT COUNT(*) FROM audit_log WHERE action = 'auth.login' AND outcome = 'failed'");
  Response last;
  for (int i = 0; i < 3; ++i) {
    last = Call("POST", "/api/v1/auth/login", nullptr,
                R"({"username":"reporter","password":"guessing again"})", "192.0.2.50");
  }
  EXPECT_EQ(last.status, 429) << last.body;
  Response locked = Call("POST", "/api/v1/auth/login", nullptr,
                         R"({"username":"reporter","password":"a long enough password"})",
                         "192.0.2.51");
  EXPECT_EQ(locked.status, 429);
  EXPECT_EQ(ErrorCode(locked), "too_many_attempts");
  auto retry_after = locked.headers.Get("retry-after");
  ASSERT_TRUE(retry_after);
  EXPECT_GT(std::stoll(std::string(*retry_after)), 0);
  EXPECT_LE(std::stoll(std::string(*retry_after)), context_->settings.login_lockout_ms / 1000);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM audit_log WHERE action = 'auth.login' AND outcome = "
                  "'failed'") - failed_before,
            3);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM audit_log WHERE action = 'auth.login' AND outcome = "
                  "'locked'"),
            1);
}

TEST_F(ApiIdentityTest, LoginBodiesAreValidated) {
  Response extra = Call("POST", "/api/v1/auth/login", nullptr,
                        R"({"username":"reporter","password":"x","remember":true})");
  EXPECT_EQ(extra.status, 400);
  EXPECT_EQ(ErrorField(extra), "remember");
  Response missing = Call("POST", "/api/v1/auth/login", nullptr, R"({"username":"reporter"})");
  EXPECT_EQ(missing.status, 400);
  EXPECT_EQ(ErrorField(missing), "password");
}

// ---- CSRF, scopes, expiry, logout ------------------------------------------------------------

TEST_F(ApiIdentityTest, StateChangesWithTheCookieNeedTheCsrfToken) {
  Credential no_csrf = reporter_;
  no_csrf.csrf.clear();
  Response missing = Call("POST", "/api/v1/tokens", &no_csrf, R"({"name":"t","scopes":["read"]})");
  EXPECT_EQ(missing.status, 403);
  EXPECT_EQ(ErrorCode(missing), "csrf_token_invalid");
  Credential wrong = reporter_;
  wrong.csrf = admin_.csrf;  // another session's token
  EXPECT_EQ(Call("POST", "/api/v1/tokens", &wrong, R"({"name":"t","scopes":["read"]})").status,
            403);
  EXPECT_EQ(Call("PATCH", "/api/v1/auth/me", &no_csrf, R"({"locale":"ja"})").status, 403);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM api_tokens"), 0);
  // Reads need no CSRF token.
  EXPECT_EQ(Call("GET", "/api/v1/auth/me", &no_csrf).status, 200);
  EXPECT_EQ(Call("POST", "/api/v1/tokens", &reporter_, R"({"name":"t","scopes":["read"]})").status,
            201);
}

TEST_F(ApiIdentityTest, BearerTokensNeedNoCsrfButTheirScopes) {
  Credential writer{"", "", Token(R"(["write"])", admin_)};
  Response created = Call("POST", "/api/v1/organizations", &writer,
                          R"({"name":"Prefecture","type":"local_government"})");
  EXPECT_EQ(created.status, 201) << created.body;

  Credential reader{"", "", Token(R"(["read"])", admin_)};
  EXPECT_EQ(Call("GET", "/api/v1/organizations", &reader).status, 200);
  Response refused = Call("POST", "/api/v1/organizations", &reader,
                          R"({"name":"Village","type":"local_government"})");
  EXPECT_EQ(refused.status, 403);
  EXPECT_EQ(ErrorCode(refused), "insufficient_scope");
  // Minting tokens needs "admin": a write token cannot make itself an admin token.
  EXPECT_EQ(Call("POST", "/api/v1/tokens", &writer, R"({"name":"x","scopes":["admin"]})").status,
            403);
  Credential admin_token{"", "", Token(R"(["admin"])", admin_)};
  EXPECT_EQ(Call("POST", "/api/v1/tokens", &admin_token, R"({"name":"x","scopes":["read"]})")
                .status,
            201);
  Response me = Call("GET", "/api/v1/auth/me", &reader);
  EXPECT_EQ(Text(Body(me), "auth_method"), "api_token");
  EXPECT_TRUE(Body(me).Find("csrf_token")->is_null());
}

TEST_F(ApiIdentityTest, RevokedAndExpiredTokensAnswer401) {
  Response created = Call("POST", "/api/v1/tokens", &reporter_,
                          R"({"name":"feed","scopes":["read"],"expires_at":"2099-01-01T00:00:00Z"})");
  ASSERT_EQ(created.status, 201) << created.body;
  std::string secret = Text(Body(created), "token");
  std::string id = Text(Body(created), "id");
  EXPECT_TRUE(secret.starts_with("ygt_"));
  EXPECT_EQ(Text(Body(created), "expires_at"), "2099-01-01T00:00:00.000Z");
  Credential bearer{"", "", secret};
  EXPECT_EQ(Call("GET", "/api/v1/auth/me", &bearer).status, 200);

  // The list shows the token but never its secret.
  Response list = Call("GET", "/api/v1/tokens", &reporter_);
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(list.body.find(secret), std::string::npos);
  EXPECT_EQ(list.body.find(secret.substr(4)), std::string::npos);
  EXPECT_EQ(Body(list).Find("items")->as_array().size(), 1u);

  EXPECT_EQ(Call("DELETE", "/api/v1/tokens/" + id, &reporter_).status, 204);
  Response revoked = Call("GET", "/api/v1/auth/me", &bearer);
  EXPECT_EQ(revoked.status, 401);
  EXPECT_EQ(ErrorCode(revoked), "unauthenticated");

  Credential expiring{"", "", Token(R"(["read"])", reporter_)};
  EXPECT_EQ(Call("GET", "/api/v1/auth/me", &expiring).status, 200);
  db_->Acquire()->Execute("UPDATE api_tokens SET expires_at = 1 WHERE revoked_at IS NULL");
  EXPECT_EQ(Call("GET", "/api/v1/auth/me", &expiring).status, 401);
  // Somebody else's token is not there for them.
  std::string admins_token_id =
      Text(Body(Call("POST", "/api/v1/tokens", &admin_, R"({"name":"a","scopes":["read"]})")),
           "id");
  EXPECT_EQ(Call("DELETE", "/api/v1/tokens/" + admins_token_id, &reporter_).status, 404);
}

TEST_F(ApiIdentityTest, IdleSessionsAnswer401) {
  EXPECT_EQ(Call("GET", "/api/v1/auth/me", &reporter_).status, 200);
  db_->Acquire()->Execute("UPDATE sessions SET last_seen_at = last_seen_at - $1",
                          {Param{context_->settings.session_idle_ms + 1}});
  EXPECT_EQ(Call("GET", "/api/v1/auth/me", &reporter_).status, 401);
  EXPECT_EQ(Call("GET", "/api/v1/auth/me", &admin_).status, 401);
}

TEST_F(ApiIdentityTest, LogoutEndsTheSessionAndClearsTheCookie) {
  Response out = Call("POST", "/api/v1/auth/logout", &reporter_);
  EXPECT_EQ(out.status, 204) << out.body;
  auto cookie = out.headers.Get("set-cookie");
  ASSERT_TRUE(cookie);
  EXPECT_TRUE(cookie->starts_with("yagura_session=;"));
  EXPECT_NE(cookie->find("Max-Age=0"), std::string_view::npos);
  EXPECT_EQ(Call("GET", "/api/v1/auth/me", &reporter_).status, 401);
  EXPECT_EQ(Call("GET", "/api/v1/auth/me", &admin_).status, 200);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM audit_log WHERE action = 'auth.logout'"), 1);
}

// ---- the caller's own account ----------------------------------------------------------------

TEST_F(ApiIdentityTest, MeShowsTheCallerAndRemembersPreferences) {
  Response me = Call("GET", "/api/v1/auth/me", &reporter_);
  ASSERT_EQ(me.status, 200);
  JsonValue body = Body(me);
  EXPECT_EQ(Text(body, "csrf_token"), reporter_.csrf);
  EXPECT_EQ(Text(*body.Find("organization"), "id"), ministry_id_);
  EXPECT_EQ(body.Find("roles")->as_array().at(0).as_string(), "org_reporter");
  EXPECT_EQ(Text(body, "locale"), "en");
  EXPECT_EQ(Text(body, "time_zone"), "Asia/Tokyo");

  Response patched = Call("PATCH", "/api/v1/auth/me", &reporter_,
                          R"({"locale":"ja","time_zone":"Europe/Paris","display_name":"記者"})");
  ASSERT_EQ(patched.status, 200) << patched.body;
  JsonValue after = Body(Call("GET", "/api/v1/auth/me", &reporter_));
  EXPECT_EQ(Text(after, "locale"), "ja");
  EXPECT_EQ(Text(after, "time_zone"), "Europe/Paris");
  EXPECT_EQ(Text(*after.Find("user"), "display_name"), "記者");

  Response bad_zone = Call("PATCH", "/api/v1/auth/me", &reporter_, R"({"time_zone":"Mars/Base"})");
  EXPECT_EQ(bad_zone.status, 200);  // a well-formed name; the zone database is the browser's
  Response bad = Call("PATCH", "/api/v1/auth/me", &reporter_, R"({"time_zone":"not a zone"})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(ErrorField(bad), "time_zone");
  Response locale = Call("PATCH", "/api/v1/auth/me", &reporter_, R"({"locale":"fr"})");
  EXPECT_EQ(locale.status, 400);
  EXPECT_EQ(ErrorField(locale), "locale");
  // Roles are not one's own preference.
  Response roles = Call("PATCH", "/api/v1/auth/me", &reporter_, R"({"roles":["org_admin"]})");
  EXPECT_EQ(roles.status, 400);
  EXPECT_EQ(ErrorField(roles), "roles");
}

TEST_F(ApiIdentityTest, PasswordChangeChecksTheCurrentPassword) {
  Response wrong = Call("POST", "/api/v1/auth/password", &reporter_,
                        R"({"current_password":"not it at all","new_password":"brand new secret"})");
  EXPECT_EQ(wrong.status, 403);
  EXPECT_EQ(ErrorField(wrong), "current_password");
  Response weak = Call("POST", "/api/v1/auth/password", &reporter_,
                       R"({"current_password":"a long enough password","new_password":"short"})");
  EXPECT_EQ(weak.status, 400);
  EXPECT_EQ(ErrorField(weak), "new_password");
  Response ok = Call("POST", "/api/v1/auth/password", &reporter_,
                     R"({"current_password":"a long enough password","new_password":"brand new secret"})");
  EXPECT_EQ(ok.status, 204) << ok.body;
  EXPECT_EQ(Call("GET", "/api/v1/auth/me", &reporter_).status, 200);  // this session stays
  Login("reporter", "brand new secret");
}

// ---- organisations ---------------------------------------------------------------------------

TEST_F(ApiIdentityTest, OrganisationRulesAndVisibility) {
  Response no_sector = Call("POST", "/api/v1/organizations", &admin_,
                            R"({"name":"Railway Co","type":"critical_infrastructure"})");
  EXPECT_EQ(no_sector.status, 400);
  EXPECT_EQ(ErrorField(no_sector), "sector");
  Response bad_sector = Call("POST", "/api/v1/organizations", &admin_,
                             R"({"name":"Railway Co","type":"critical_infrastructure","sector":"trains"})");
  EXPECT_EQ(bad_sector.status, 400);
  EXPECT_EQ(ErrorField(bad_sector), "sector");
  Response ok = Call("POST", "/api/v1/organizations", &admin_,
                     R"({"name":"Railway Co","type":"critical_infrastructure","sector":"railways"})");
  EXPECT_EQ(ok.status, 201) << ok.body;
  EXPECT_EQ(Text(Body(ok), "sector"), "railways");
  Response duplicate = Call("POST", "/api/v1/organizations", &admin_,
                            R"({"name":"Railway Co","type":"ministry"})");
  EXPECT_EQ(duplicate.status, 409);
  Response unknown = Call("POST", "/api/v1/organizations", &admin_,
                          R"({"name":"X","type":"ministry","colour":"blue"})");
  EXPECT_EQ(unknown.status, 400);
  EXPECT_EQ(ErrorField(unknown), "colour");
  EXPECT_NE(Body(unknown).Find("error")->Find("message")->as_string().find("colour"),
            std::string::npos);
  EXPECT_EQ(Call("POST", "/api/v1/organizations", &org_admin_,
                 R"({"name":"Mine","type":"ministry"})").status,
            403);

  // Members see their own organisation only; others' answer 404.
  JsonValue mine = Body(Call("GET", "/api/v1/organizations", &reporter_));
  ASSERT_EQ(mine.Find("items")->as_array().size(), 1u);
  EXPECT_EQ(Text(mine.Find("items")->as_array()[0], "id"), ministry_id_);
  EXPECT_EQ(Call("GET", "/api/v1/organizations/" + ministry_id_, &reporter_).status, 200);
  EXPECT_EQ(Call("GET", "/api/v1/organizations/" + other_id_, &reporter_).status, 404);
  EXPECT_EQ(Call("PATCH", "/api/v1/organizations/" + other_id_, &org_admin_,
                 R"({"name":"Renamed"})").status,
            404);
  EXPECT_EQ(Call("PATCH", "/api/v1/organizations/" + ministry_id_, &org_admin_,
                 R"({"name":"Renamed"})").status,
            403);
  Response renamed = Call("PATCH", "/api/v1/organizations/" + ministry_id_, &admin_,
                          R"({"name":"Renamed Ministry","contact_email":"cert@example.jp"})");
  EXPECT_EQ(renamed.status, 200) << renamed.body;
  EXPECT_EQ(Text(Body(renamed), "contact_email"), "cert@example.jp");

  // The centre sees every organisation, a page at a time.
  Response first = Call("GET", "/api/v1/organizations?limit=2", &admin_);
  JsonValue page = Body(first);
  ASSERT_EQ(page.Find("items")->as_array().size(), 2u);
  std::string cursor = Text(page, "next_cursor");
  ASSERT_FALSE(cursor.empty());
  JsonValue rest = Body(Call("GET", "/api/v1/organizations?limit=50&cursor=" + cursor, &admin_));
  EXPECT_EQ(rest.Find("items")->as_array().size(), 3u);  // 5 in all
  EXPECT_TRUE(rest.Find("next_cursor")->is_null());
  EXPECT_EQ(Call("GET", "/api/v1/organizations?type=spaceship", &admin_).status, 400);
  EXPECT_EQ(Call("GET", "/api/v1/organizations?cursor=forged", &admin_).status, 400);
}

// ---- users -----------------------------------------------------------------------------------

TEST_F(ApiIdentityTest, OrgAdminsManageTheirOwnOrganisationOnly) {
  auto create = [&](const Credential& who, const std::string& org, const std::string& role,
                    const std::string& name) {
    return Call("POST", "/api/v1/users", &who,
                fmt::format(R"({{"username":"{}","org_id":"{}","roles":["{}"],"password":"{}"}})",
                            name, org, role, PASSWORD));
  };
  Response ok = create(org_admin_, ministry_id_, "org_reporter", "new.reporter");
  EXPECT_EQ(ok.status, 201) << ok.body;
  EXPECT_EQ(create(org_admin_, ministry_id_, "centre_admin", "sneaky").status, 403);
  EXPECT_EQ(create(org_admin_, centre_id_, "centre_admin", "sneaky").status, 403);
  EXPECT_EQ(create(org_admin_, other_id_, "org_reporter", "elsewhere").status, 403);
  EXPECT_EQ(create(reporter_, ministry_id_, "org_reporter", "friend").status, 403);
  // Without org_id the user lands in the caller's organisation.
  Response defaulted = Call("POST", "/api/v1/users", &org_admin_,
                            R"({"username":"colleague","roles":["org_reporter"],)"
                            R"("password":"a long enough password"})");
  ASSERT_EQ(defaulted.status, 201) << defaulted.body;
  EXPECT_EQ(Text(Body(defaulted), "org_id"), ministry_id_);

  // The partner role exists only in partner CERTs, and the centre roles only in the centre.
  Response partner_in_ministry = create(admin_, ministry_id_, "partner", "partner1");
  EXPECT_EQ(partner_in_ministry.status, 400);
  EXPECT_EQ(ErrorField(partner_in_ministry), "roles");
  EXPECT_EQ(create(admin_, partner_id_, "partner", "partner2").status, 201);
  EXPECT_EQ(create(admin_, partner_id_, "org_reporter", "partner3").status, 400);
  EXPECT_EQ(create(admin_, ministry_id_, "auditor", "auditor1").status, 400);
  EXPECT_EQ(create(admin_, centre_id_, "auditor", "auditor2").status, 201);
  Response bad_role = create(admin_, ministry_id_, "superuser", "x.y.z");
  EXPECT_EQ(bad_role.status, 400);
  EXPECT_EQ(ErrorField(bad_role), "roles[0]");
  Response duplicate = create(admin_, ministry_id_, "org_reporter", "reporter");
  EXPECT_EQ(duplicate.status, 409);
  Response weak = Call("POST", "/api/v1/users", &admin_,
                       R"({"username":"weakling","roles":["auditor"],"password":"short"})");
  EXPECT_EQ(weak.status, 400);
  EXPECT_EQ(ErrorField(weak), "password");
}

TEST_F(ApiIdentityTest, UsersAreVisibleToThemselvesAndTheirManagersOnly) {
  std::string outsider = CreateUser(other_id_, "outsider", "org_reporter");
  auto ids = [&](const Credential& who, const std::string& query = "") {
    std::vector<std::string> out;
    JsonValue body = Body(Call("GET", "/api/v1/users" + query, &who));
    for (const auto& item : body.Find("items")->as_array()) out.push_back(Text(item, "id"));
    std::sort(out.begin(), out.end());
    return out;
  };
  EXPECT_EQ(ids(reporter_), std::vector<std::string>{reporter_id_});
  auto ministry = std::vector<std::string>{org_admin_id_, reporter_id_};
  std::sort(ministry.begin(), ministry.end());
  EXPECT_EQ(ids(org_admin_), ministry);
  EXPECT_TRUE(ids(org_admin_, "?org_id=" + other_id_).empty());
  EXPECT_EQ(ids(admin_).size(), 4u);
  EXPECT_EQ(ids(admin_, "?org_id=" + ministry_id_), ministry);

  EXPECT_EQ(Call("GET", "/api/v1/users/" + reporter_id_, &reporter_).status, 200);
  EXPECT_EQ(Call("GET", "/api/v1/users/" + org_admin_id_, &reporter_).status, 404);
  EXPECT_EQ(Call("GET", "/api/v1/users/" + outsider, &org_admin_).status, 404);
  EXPECT_EQ(Call("GET", "/api/v1/users/" + reporter_id_, &org_admin_).status, 200);
  EXPECT_EQ(Call("PATCH", "/api/v1/users/" + outsider, &org_admin_, R"({"disabled":true})").status,
            404);
  // Visible but not manageable: 403, and one's own roles are not one's to change.
  EXPECT_EQ(Call("PATCH", "/api/v1/users/" + reporter_id_, &reporter_,
                 R"({"roles":["org_admin"]})").status,
            403);
}

TEST_F(ApiIdentityTest, UserChangesFollowTheGrantRules) {
  Response promote = Call("PATCH", "/api/v1/users/" + reporter_id_, &org_admin_,
                          R"({"roles":["org_admin","org_reporter"]})");
  EXPECT_EQ(promote.status, 200) << promote.body;
  EXPECT_EQ(Body(promote).Find("roles")->as_array().size(), 2u);
  // Effective at once: the reporter's existing session now manages the ministry's users.
  EXPECT_EQ(Body(Call("GET", "/api/v1/users", &reporter_)).Find("items")->as_array().size(), 2u);
  Response centre_role = Call("PATCH", "/api/v1/users/" + reporter_id_, &org_admin_,
                              R"({"roles":["centre_analyst"]})");
  EXPECT_EQ(centre_role.status, 403);
  Response unknown = Call("PATCH", "/api/v1/users/" + reporter_id_, &org_admin_,
                          R"({"nickname":"x"})");
  EXPECT_EQ(unknown.status, 400);
  EXPECT_EQ(ErrorField(unknown), "nickname");
  Response disable = Call("PATCH", "/api/v1/users/" + reporter_id_, &org_admin_,
                          R"({"disabled":true})");
  EXPECT_EQ(disable.status, 200);
  EXPECT_EQ(Call("GET", "/api/v1/auth/me", &reporter_).status, 401);
  Response disabled_login = Call("POST", "/api/v1/auth/login", nullptr,
                                 R"({"username":"reporter","password":"a long enough password"})");
  EXPECT_EQ(disabled_login.status, 403);
  EXPECT_EQ(ErrorCode(disabled_login), "account_disabled");
  // The last centre administrator stays.
  std::string admin_id = Text(*Body(Call("GET", "/api/v1/auth/me", &admin_)).Find("user"), "id");
  Response last = Call("PATCH", "/api/v1/users/" + admin_id, &admin_, R"({"disabled":true})");
  EXPECT_EQ(last.status, 409);
  EXPECT_GE(Count("SELECT COUNT(*) FROM audit_log WHERE action = 'user.update'"), 2);
}

// ---- documentation ---------------------------------------------------------------------------

TEST_F(ApiIdentityTest, EveryRouteIsDocumentedWithKnownSchemas) {
  ASSERT_GE(router_.routes().size(), 16u);
  for (const auto& route : router_.routes()) {
    EXPECT_FALSE(route.doc.summary.empty()) << route.pattern;
    EXPECT_EQ(route.doc.tag, "identity") << route.pattern;
    for (const auto& name : {route.doc.request_schema, route.doc.response_schema}) {
      if (!name.empty()) {
        EXPECT_NE(context_->schemas.Find(name), nullptr) << name;
      }
    }
  }
  // Every $ref inside a schema names a schema that exists.
  std::string text = context_->schemas.Serialize();
  int refs = 0;
  for (size_t at = text.find("#/components/schemas/"); at != std::string::npos;
       at = text.find("#/components/schemas/", at + 1), ++refs) {
    size_t start = at + 21;
    std::string ref = text.substr(start, text.find('"', start) - start);
    EXPECT_NE(context_->schemas.Find(ref), nullptr) << ref;
  }
  EXPECT_GT(refs, 0);
  EXPECT_FALSE(router_.routes().front().doc.authenticated);  // login
}

}  // namespace
}  // namespace yagura::http

// Identity against a real database: SQLite in a temporary directory always, PostgreSQL as well
// when YAGURA_TEST_POSTGRES_URL names a server (scripts/with-postgres starts a throwaway one;
// each test then works in a schema of its own). Time is passed in explicitly, so expiry and
// lockout are tested without waiting.
#include "hub/identity.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <random>

#include "core/time.hpp"
#include "hub/audit_log.hpp"
#include "hub/crypto.hpp"
#include "hub/passwords.hpp"
#include "hub/schema.hpp"

namespace yagura::hub {
namespace {

using store::Engine;
using store::Param;

constexpr std::string_view ADMIN_PASSWORD = "centre admin password";
constexpr std::string_view PASSWORD = "a long enough password";

std::string RandomSuffix() {
  std::random_device device;
  std::mt19937_64 random(device());
  static constexpr char DIGITS[] = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 12; ++i) out += DIGITS[random() % 16];
  return out;
}

class IdentityTest : public ::testing::TestWithParam<Engine> {
 protected:
  void SetUp() override {
    SetPasswordCost(PasswordCost::Minimal());
    std::string target;
    if (GetParam() == Engine::kSqlite) {
      std::string pattern =
          (std::filesystem::temp_directory_path() / "yagura-identity-XXXXXX").string();
      ASSERT_NE(mkdtemp(pattern.data()), nullptr);
      dir_ = pattern;
      target = (dir_ / "hub.db").string();
    } else {
      const char* url = std::getenv("YAGURA_TEST_POSTGRES_URL");
      if (url == nullptr || *url == '\0') {
        GTEST_SKIP() << "PostgreSQL variant skipped: YAGURA_TEST_POSTGRES_URL is not set";
      }
      auto admin = store::Database::Open(url, 1);
      ASSERT_TRUE(admin) << admin.error().ToString();
      admin_ = std::move(*admin);
      schema_ = "identity_" + RandomSuffix();
      admin_->Acquire()->ExecuteScript("CREATE SCHEMA " + schema_);
      std::string base(url);
      target = base + (base.find('?') == std::string::npos ? "?" : "&") +
               "options=-csearch_path%3D" + schema_;
    }
    auto opened = store::Database::Open(target, 4);
    ASSERT_TRUE(opened) << opened.error().ToString();
    db_ = std::move(*opened);
    auto migrated = MigrateSchema(*db_);
    ASSERT_TRUE(migrated) << migrated.error().ToString();

    auto boot = BootstrapCentre(*db_, "admin", ADMIN_PASSWORD);
    ASSERT_TRUE(boot) << boot.error().message;
    centre_id_ = boot->org_id;
    admin_id_ = boot->user_id;
    admin_principal_ = *AuthenticateAs(admin_id_);

    auto ministry = CreateOrganization(*db_, admin_principal_,
                                       {"Ministry of Examples", "", OrgType::kMinistry, "", ""});
    ASSERT_TRUE(ministry) << ministry.error().message;
    ministry_id_ = ministry->id;
    settings_.login_max_failures = 3;
    settings_.login_max_failures_per_address = 6;
    settings_.login_window_ms = 60'000;
    settings_.login_lockout_ms = 300'000;
    settings_.session_ttl_ms = 8 * 3'600'000;
    settings_.session_idle_ms = 1'800'000;
  }

  void TearDown() override {
    db_.reset();
    if (admin_) admin_->Acquire()->ExecuteScript("DROP SCHEMA " + schema_ + " CASCADE");
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  // A principal as the API would load it, without going through a login.
  std::optional<Principal> AuthenticateAs(const std::string& user_id) {
    auto user = GetUser(*db_, user_id);
    if (!user) return std::nullopt;
    auto org = GetOrganization(*db_, user->org_id);
    Principal principal;
    principal.user_id = user->id;
    principal.username = user->username;
    principal.org_id = user->org_id;
    principal.org_type = org->type;
    principal.roles = user->roles;
    return principal;
  }

  User MakeUser(const std::string& username, const std::string& org_id, std::vector<Role> roles,
                std::string password = std::string(PASSWORD)) {
    NewUser input;
    input.username = username;
    input.org_id = org_id;
    input.roles = std::move(roles);
    input.password = std::move(password);
    auto user = CreateUser(*db_, admin_principal_, input);
    EXPECT_TRUE(user) << user.error().message;
    return user ? *user : User{};
  }

  int64_t Count(const std::string& sql, std::initializer_list<Param> params = {}) {
    return db_->Acquire()->Query(sql, params).rows.at(0).at(0).as_int();
  }

  std::vector<StoredAuditEntry> Audit(const std::string& action_prefix) {
    auto connection = db_->Acquire();
    return AuditLog::List(*connection, 0, 1000, {}, action_prefix);
  }

  std::filesystem::path dir_;
  std::string schema_;
  std::unique_ptr<store::Database> admin_;
  std::unique_ptr<store::Database> db_;
  IdentitySettings settings_;
  std::string centre_id_, admin_id_, ministry_id_;
  Principal admin_principal_;
  int64_t now_ = 1'800'000'000'000;
};

// ---- organisations ---------------------------------------------------------------------------

TEST_P(IdentityTest, CriticalInfrastructureNeedsAValidSectorAndOthersNone) {
  auto missing = CreateOrganization(*db_, admin_principal_,
                                    {"Grid Operator", "", OrgType::kCriticalInfrastructure, "", ""});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().kind, IdentityErrorKind::kInvalid);
  EXPECT_EQ(missing.error().field, "sector");
  auto wrong = CreateOrganization(
      *db_, admin_principal_, {"Grid Operator", "", OrgType::kCriticalInfrastructure, "power", ""});
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().field, "sector");
  auto ok = CreateOrganization(*db_, admin_principal_,
                               {"Grid Operator", "送電会社", OrgType::kCriticalInfrastructure,
                                "electric_power", "soc@grid.example"});
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(ok->sector, "electric_power");
  EXPECT_EQ(GetOrganization(*db_, ok->id)->name_ja, "送電会社");
  auto ministry_with_sector = CreateOrganization(
      *db_, admin_principal_, {"Ministry B", "", OrgType::kMinistry, "finance", ""});
  ASSERT_FALSE(ministry_with_sector);
  EXPECT_EQ(ministry_with_sector.error().field, "sector");
  // A sector can be changed but not removed from a critical-infrastructure operator.
  OrganizationPatch clear;
  clear.sector = "";
  auto cleared = UpdateOrganization(*db_, admin_principal_, ok->id, clear);
  ASSERT_FALSE(cleared);
  EXPECT_EQ(cleared.error().field, "sector");
}

TEST_P(IdentityTest, OrganisationNamesAreUniqueAndThereIsOneCentre) {
  auto duplicate = CreateOrganization(*db_, admin_principal_,
                                      {"Ministry of Examples", "", OrgType::kLocalGovernment, "", ""});
  ASSERT_FALSE(duplicate);
  EXPECT_EQ(duplicate.error().kind, IdentityErrorKind::kConflict);
  auto second_centre =
      CreateOrganization(*db_, admin_principal_, {"Another Centre", "", OrgType::kCentre, "", ""});
  ASSERT_FALSE(second_centre);
  EXPECT_EQ(second_centre.error().kind, IdentityErrorKind::kConflict);

  auto other = CreateOrganization(*db_, admin_principal_,
                                  {"Prefecture", "", OrgType::kLocalGovernment, "", ""});
  ASSERT_TRUE(other);
  OrganizationPatch rename;
  rename.name = "Ministry of Examples";
  auto renamed = UpdateOrganization(*db_, admin_principal_, other->id, rename);
  ASSERT_FALSE(renamed);
  EXPECT_EQ(renamed.error().kind, IdentityErrorKind::kConflict);
}

TEST_P(IdentityTest, OrganisationUpdatesAreAuditedAndListsPage) {
  OrganizationPatch patch;
  patch.contact_email = "cert@ministry.example";
  patch.name_ja = "例示省";
  auto updated = UpdateOrganization(*db_, admin_principal_, ministry_id_, patch);
  ASSERT_TRUE(updated) << updated.error().message;
  EXPECT_EQ(updated->contact_email, "cert@ministry.example");
  auto entries = Audit("organization.update");
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].entry.actor_id, admin_id_);
  EXPECT_EQ(entries[0].entry.object_id, ministry_id_);
  EXPECT_NE(entries[0].entry.detail.find("contact_email"), std::string::npos);
  EXPECT_EQ(Audit("organization.create").size(), 2u);  // the centre and the ministry

  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(CreateOrganization(*db_, admin_principal_,
                                   {"Town " + std::to_string(i), "", OrgType::kLocalGovernment,
                                    "", ""}));
  }
  OrganizationQuery query;
  query.limit = 2;
  auto first = ListOrganizations(*db_, query);
  ASSERT_EQ(first.size(), 2u);
  query.after = std::make_pair(first.back().created_at, first.back().id);
  query.limit = 10;
  auto rest = ListOrganizations(*db_, query);
  EXPECT_EQ(rest.size(), 3u);  // 5 organisations in all, none repeated
  for (const auto& org : rest) EXPECT_NE(org.id, first[0].id);
  query = {};
  query.type = OrgType::kLocalGovernment;
  EXPECT_EQ(ListOrganizations(*db_, query).size(), 3u);
  query = {};
  query.only_id = ministry_id_;
  EXPECT_EQ(ListOrganizations(*db_, query).size(), 1u);
}

// ---- users -----------------------------------------------------------------------------------

TEST_P(IdentityTest, UsernamesAndPasswordsAreValidated) {
  NewUser input;
  input.org_id = ministry_id_;
  input.roles = {Role::kOrgReporter};
  input.password = std::string(PASSWORD);
  for (std::string bad : {std::string("ab"), std::string("Upper"), std::string("has space"),
                          std::string("ünï"), std::string(65, 'a')}) {
    input.username = bad;
    auto user = CreateUser(*db_, admin_principal_, input);
    ASSERT_FALSE(user) << bad;
    EXPECT_EQ(user.error().field, "username") << bad;
  }
  input.username = "r.tanaka_01-x";
  input.password = "short pass";
  auto weak = CreateUser(*db_, admin_principal_, input);
  ASSERT_FALSE(weak);
  EXPECT_EQ(weak.error().field, "password");
  input.password = std::string(PASSWORD);
  input.time_zone = "Not a zone!";
  auto zone = CreateUser(*db_, admin_principal_, input);
  ASSERT_FALSE(zone);
  EXPECT_EQ(zone.error().field, "time_zone");
  input.time_zone = "America/Argentina/Buenos_Aires";
  input.locale = "fr";
  auto locale = CreateUser(*db_, admin_principal_, input);
  ASSERT_FALSE(locale);
  EXPECT_EQ(locale.error().field, "locale");
  input.locale = "ja";
  auto ok = CreateUser(*db_, admin_principal_, input);
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(ok->display_name, "r.tanaka_01-x");
  EXPECT_TRUE(ok->has_password);
  auto again = CreateUser(*db_, admin_principal_, input);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().kind, IdentityErrorKind::kConflict);
  // The stored hash is argon2id, never the password.
  auto hash = db_->Acquire()->Query("SELECT password_hash FROM users WHERE id = $1", {Param{ok->id}});
  EXPECT_TRUE(hash.rows[0][0].text().starts_with("$argon2id$"));
  EXPECT_EQ(hash.rows[0][0].text().find(PASSWORD), std::string::npos);
}

TEST_P(IdentityTest, RolesFollowTheOrganisationType) {
  auto partner_org = CreateOrganization(*db_, admin_principal_,
                                        {"CERT Abroad", "", OrgType::kPartnerCert, "", ""});
  ASSERT_TRUE(partner_org);
  struct Case {
    std::string org_id;
    Role role;
    bool allowed;
  } cases[] = {
      {centre_id_, Role::kCentreAnalyst, true},    {centre_id_, Role::kInvestigator, true},
      {centre_id_, Role::kPartner, false},         {ministry_id_, Role::kCentreAdmin, false},
      {ministry_id_, Role::kAuditor, false},       {ministry_id_, Role::kOrgAdmin, true},
      {ministry_id_, Role::kPartner, false},       {partner_org->id, Role::kPartner, true},
      {partner_org->id, Role::kOrgReporter, false}, {partner_org->id, Role::kCentreAnalyst, false},
  };
  int n = 0;
  for (const auto& c : cases) {
    NewUser input;
    input.username = "user" + std::to_string(n++);
    input.org_id = c.org_id;
    input.roles = {c.role};
    auto user = CreateUser(*db_, admin_principal_, input);
    EXPECT_EQ(user.has_value(), c.allowed) << ToString(c.role) << " in " << c.org_id;
    if (!user) {
      EXPECT_EQ(user.error().field, "roles");
    }
  }
  NewUser no_roles;
  no_roles.username = "nobody";
  no_roles.org_id = ministry_id_;
  auto none = CreateUser(*db_, admin_principal_, no_roles);
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().field, "roles");
  NewUser unknown_org = no_roles;
  unknown_org.roles = {Role::kOrgReporter};
  unknown_org.org_id = NewId();
  auto missing = CreateUser(*db_, admin_principal_, unknown_org);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().field, "org_id");
  // Role changes are held to the same rule.
  User reporter = MakeUser("reporter", ministry_id_, {Role::kOrgReporter});
  UserPatch patch;
  patch.roles = std::vector<Role>{Role::kCentreAnalyst};
  auto promoted = UpdateUser(*db_, admin_principal_, reporter.id, patch);
  ASSERT_FALSE(promoted);
  EXPECT_EQ(promoted.error().field, "roles");
}

TEST_P(IdentityTest, UpdateUserChangesPreferencesAndIsAudited) {
  User user = MakeUser("prefs", ministry_id_, {Role::kOrgReporter});
  UserPatch patch;
  patch.locale = "ja";
  patch.time_zone = "Etc/GMT-9";
  patch.display_name = "田中 太郎";
  patch.roles = std::vector<Role>{Role::kOrgAdmin, Role::kOrgReporter, Role::kOrgAdmin};
  auto updated = UpdateUser(*db_, admin_principal_, user.id, patch);
  ASSERT_TRUE(updated) << updated.error().message;
  auto stored = GetUser(*db_, user.id);
  EXPECT_EQ(stored->locale, "ja");
  EXPECT_EQ(stored->time_zone, "Etc/GMT-9");
  EXPECT_EQ(stored->display_name, "田中 太郎");
  EXPECT_EQ(stored->roles, (std::vector<Role>{Role::kOrgAdmin, Role::kOrgReporter}));
  auto entries = Audit("user.update");
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_NE(entries[0].entry.detail.find("roles_before"), std::string::npos);
  // A patch that changes nothing writes nothing.
  ASSERT_TRUE(UpdateUser(*db_, admin_principal_, user.id, patch));
  EXPECT_EQ(Audit("user.update").size(), 1u);
  EXPECT_FALSE(UpdateUser(*db_, admin_principal_, NewId(), patch));
}

TEST_P(IdentityTest, TheLastCentreAdministratorCannotBeDisabledOrDemoted) {
  UserPatch disable;
  disable.disabled = true;
  auto refused = UpdateUser(*db_, admin_principal_, admin_id_, disable);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().kind, IdentityErrorKind::kConflict);
  UserPatch demote;
  demote.roles = std::vector<Role>{Role::kCentreAnalyst};
  ASSERT_FALSE(UpdateUser(*db_, admin_principal_, admin_id_, demote));
  EXPECT_FALSE(GetUser(*db_, admin_id_)->disabled);
  MakeUser("second.admin", centre_id_, {Role::kCentreAdmin});
  EXPECT_TRUE(UpdateUser(*db_, admin_principal_, admin_id_, demote));
}

// ---- bootstrap -------------------------------------------------------------------------------

TEST_P(IdentityTest, BootstrapIsIdempotent) {
  int64_t audit_before = Count("SELECT COUNT(*) FROM audit_log");
  auto again = BootstrapCentre(*db_, "someone-else", "");
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_FALSE(again->created);
  EXPECT_EQ(again->username, "admin");
  EXPECT_EQ(again->user_id, admin_id_);
  EXPECT_EQ(again->org_id, centre_id_);
  EXPECT_TRUE(again->generated_password.empty());
  EXPECT_EQ(Count("SELECT COUNT(*) FROM users"), 1);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM organizations WHERE type = 'centre'"), 1);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM audit_log"), audit_before);
  // The original password still works: nothing was reset.
  EXPECT_TRUE(Login(*db_, settings_, "admin", ADMIN_PASSWORD, "127.0.0.1", now_));
}

TEST_P(IdentityTest, BootstrapGeneratesAPasswordThatLogsIn) {
  // A fresh database of its own, so the fixture's bootstrap does not count.
  db_->Acquire()->ExecuteScript(
      "DELETE FROM audit_log; DELETE FROM users; DELETE FROM organizations;");
  auto boot = BootstrapCentre(*db_, "chief", "");
  ASSERT_TRUE(boot) << boot.error().message;
  EXPECT_TRUE(boot->created);
  EXPECT_EQ(boot->username, "chief");
  ASSERT_GE(boot->generated_password.size(), 12u);
  auto session = Login(*db_, settings_, "chief", boot->generated_password, "127.0.0.1", now_);
  ASSERT_TRUE(session) << session.error().message;
  EXPECT_EQ(session->user.roles, std::vector<Role>{Role::kCentreAdmin});
  EXPECT_EQ(Audit("user.create").size(), 1u);
  EXPECT_EQ(Audit("user.create")[0].entry.actor_id, "system");
  auto weak = BootstrapCentre(*db_, "x", "short");
  EXPECT_TRUE(weak && !weak->created);  // already bootstrapped: input is not even looked at
}

TEST_P(IdentityTest, BootstrapRejectsBadInputOnAnEmptyDatabase) {
  db_->Acquire()->ExecuteScript(
      "DELETE FROM audit_log; DELETE FROM users; DELETE FROM organizations;");
  auto bad_name = BootstrapCentre(*db_, "Bad Name", "");
  ASSERT_FALSE(bad_name);
  EXPECT_EQ(bad_name.error().field, "username");
  auto weak = BootstrapCentre(*db_, "chief", "too short");
  ASSERT_FALSE(weak);
  EXPECT_EQ(weak.error().field, "password");
  EXPECT_EQ(Count("SELECT COUNT(*) FROM organizations"), 0);
}

// ---- login, lockout, sessions ----------------------------------------------------------------

TEST_P(IdentityTest, LoginCreatesASessionStoredOnlyByItsHash) {
  User user = MakeUser("analyst", centre_id_, {Role::kCentreAnalyst});
  auto session = Login(*db_, settings_, "analyst", PASSWORD, "192.0.2.1", now_);
  ASSERT_TRUE(session) << session.error().message;
  EXPECT_GE(session->token.size(), 43u);
  EXPECT_GE(session->csrf_token.size(), 43u);
  EXPECT_NE(session->token, session->csrf_token);
  EXPECT_EQ(session->expires_at, now_ + settings_.session_ttl_ms);
  EXPECT_EQ(session->id, Sha256Hex(session->token));
  EXPECT_EQ(Count("SELECT COUNT(*) FROM sessions WHERE id = $1", {Param{Sha256Hex(session->token)}}),
            1);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM sessions WHERE id = $1", {Param{session->token}}), 0);

  auto principal = AuthenticateSession(*db_, settings_, session->token, now_ + 1000);
  ASSERT_TRUE(principal);
  EXPECT_EQ(principal->user_id, user.id);
  EXPECT_EQ(principal->org_type, OrgType::kCentre);
  EXPECT_EQ(principal->method, AuthMethod::kSession);
  EXPECT_EQ(principal->csrf_token, session->csrf_token);
  EXPECT_EQ(principal->session_id, session->id);
  EXPECT_TRUE(principal->Has(Role::kCentreAnalyst));
  EXPECT_FALSE(AuthenticateSession(*db_, settings_, session->token + "x", now_));
  EXPECT_FALSE(AuthenticateSession(*db_, settings_, "", now_));

  auto ok = Audit("auth.login");
  ASSERT_EQ(ok.size(), 1u);
  EXPECT_EQ(ok[0].entry.outcome, "ok");
  EXPECT_EQ(ok[0].entry.actor_id, user.id);
  EXPECT_EQ(ok[0].entry.remote_address, "192.0.2.1");
}

TEST_P(IdentityTest, LoginIgnoresCaseOfTheUserName) {
  MakeUser("mixed", ministry_id_, {Role::kOrgReporter});
  EXPECT_TRUE(Login(*db_, settings_, "MiXeD", PASSWORD, "127.0.0.1", now_));
}

TEST_P(IdentityTest, UnknownUserAndWrongPasswordAnswerAlike) {
  MakeUser("known", ministry_id_, {Role::kOrgReporter});
  auto wrong = Login(*db_, settings_, "known", "not the password", "127.0.0.1", now_);
  auto unknown = Login(*db_, settings_, "unknown", "not the password", "127.0.0.2", now_);
  ASSERT_FALSE(wrong);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(wrong.error().kind, IdentityErrorKind::kBadCredentials);
  EXPECT_EQ(unknown.error().kind, IdentityErrorKind::kBadCredentials);
  EXPECT_EQ(wrong.error().message, unknown.error().message);
  auto failures = Audit("auth.login");
  ASSERT_EQ(failures.size(), 2u);
  for (const auto& stored : failures) {
    EXPECT_EQ(stored.entry.outcome, "failed");
    EXPECT_EQ(stored.entry.actor_id, "anonymous");
  }
  EXPECT_NE(failures[1].entry.detail.find("unknown"), std::string::npos);
}

TEST_P(IdentityTest, AccountLocksAfterTooManyFailuresAndUnlocksLater) {
  MakeUser("target", ministry_id_, {Role::kOrgReporter});
  // Each attempt from a different address, so only the account counter matters.
  for (int i = 0; i < settings_.login_max_failures - 1; ++i) {
    auto attempt = Login(*db_, settings_, "target", "wrong password!", "10.0.0." + std::to_string(i),
                         now_ + i);
    ASSERT_FALSE(attempt);
    EXPECT_EQ(attempt.error().kind, IdentityErrorKind::kBadCredentials);
  }
  auto locking = Login(*db_, settings_, "target", "wrong password!", "10.0.1.1", now_ + 10);
  ASSERT_FALSE(locking);
  EXPECT_EQ(locking.error().kind, IdentityErrorKind::kLocked);
  EXPECT_EQ(locking.error().retry_after_s, settings_.login_lockout_ms / 1000);
  // Locked: even the right password is refused, without being checked.
  auto right = Login(*db_, settings_, "target", PASSWORD, "10.0.2.1", now_ + 60'000);
  ASSERT_FALSE(right);
  EXPECT_EQ(right.error().kind, IdentityErrorKind::kLocked);
  EXPECT_EQ(right.error().retry_after_s, (settings_.login_lockout_ms - 60'000 + 10) / 1000 + 1);
  auto entries = Audit("auth.login");
  ASSERT_EQ(entries.size(), static_cast<size_t>(settings_.login_max_failures) + 1);
  EXPECT_EQ(entries.back().entry.outcome, "locked");
  // After the lockout the right password works and clears the account's counter.
  auto later = Login(*db_, settings_, "target", PASSWORD, "10.0.3.1",
                     now_ + settings_.login_lockout_ms + 11);
  ASSERT_TRUE(later) << later.error().message;
  EXPECT_EQ(Count("SELECT COUNT(*) FROM login_throttle WHERE key = 'user:target'"), 0);
}

TEST_P(IdentityTest, UnknownAccountsLockLikeRealOnes) {
  for (int i = 0; i < settings_.login_max_failures; ++i) {
    (void)Login(*db_, settings_, "ghost", "guess number " + std::to_string(i),
                "10.1.0." + std::to_string(i), now_);
  }
  auto locked = Login(*db_, settings_, "ghost", "another guess", "10.1.1.1", now_);
  ASSERT_FALSE(locked);
  EXPECT_EQ(locked.error().kind, IdentityErrorKind::kLocked);
}

TEST_P(IdentityTest, AnAddressLocksAcrossAccounts) {
  MakeUser("victim", ministry_id_, {Role::kOrgReporter});
  // Colleagues behind one address mistyping as often as one account may: not locked yet.
  for (int i = 0; i < settings_.login_max_failures; ++i) {
    (void)Login(*db_, settings_, "spray" + std::to_string(i), "password spraying",
                "203.0.113.9", now_);
  }
  EXPECT_TRUE(Login(*db_, settings_, "victim", PASSWORD, "203.0.113.9", now_));
  for (int i = settings_.login_max_failures; i < settings_.login_max_failures_per_address; ++i) {
    (void)Login(*db_, settings_, "spray" + std::to_string(i), "password spraying",
                "203.0.113.9", now_);
  }
  auto blocked = Login(*db_, settings_, "victim", PASSWORD, "203.0.113.9", now_ + 1);
  ASSERT_FALSE(blocked);
  EXPECT_EQ(blocked.error().kind, IdentityErrorKind::kLocked);
  // The account itself is not locked: from another address the owner gets in.
  EXPECT_TRUE(Login(*db_, settings_, "victim", PASSWORD, "198.51.100.7", now_ + 1));
}

TEST_P(IdentityTest, FailuresOutsideTheWindowAreForgotten) {
  MakeUser("slow", ministry_id_, {Role::kOrgReporter});
  for (int i = 0; i < 10; ++i) {
    auto attempt = Login(*db_, settings_, "slow", "wrong password!", "10.2.0." + std::to_string(i),
                         now_ + i * (settings_.login_window_ms / 2 + 1));
    ASSERT_FALSE(attempt);
    EXPECT_EQ(attempt.error().kind, IdentityErrorKind::kBadCredentials) << i;
  }
}

TEST_P(IdentityTest, SuccessResetsTheAccountCounter) {
  MakeUser("forgetful", ministry_id_, {Role::kOrgReporter});
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < settings_.login_max_failures - 1; ++i) {
      auto attempt = Login(*db_, settings_, "forgetful", "typo password", "10.3." +
                           std::to_string(round) + "." + std::to_string(i), now_);
      ASSERT_EQ(attempt.error().kind, IdentityErrorKind::kBadCredentials);
    }
    ASSERT_TRUE(Login(*db_, settings_, "forgetful", PASSWORD, "10.4.0." + std::to_string(round),
                      now_));
  }
}

TEST_P(IdentityTest, DisabledUsersCannotLogInOrUseSessionsOrTokens) {
  User user = MakeUser("leaver", ministry_id_, {Role::kOrgReporter});
  auto session = Login(*db_, settings_, "leaver", PASSWORD, "127.0.0.1", now_);
  ASSERT_TRUE(session);
  auto token = CreateToken(*db_, admin_principal_, user.id, "ci", {"read"}, std::nullopt, now_);
  ASSERT_TRUE(token);
  ASSERT_TRUE(AuthenticateToken(*db_, token->secret, now_));
  UserPatch disable;
  disable.disabled = true;
  ASSERT_TRUE(UpdateUser(*db_, admin_principal_, user.id, disable));
  EXPECT_FALSE(AuthenticateSession(*db_, settings_, session->token, now_ + 1));
  EXPECT_FALSE(AuthenticateToken(*db_, token->secret, now_ + 1));
  EXPECT_EQ(Count("SELECT COUNT(*) FROM sessions WHERE user_id = $1", {Param{user.id}}), 0);
  auto login = Login(*db_, settings_, "leaver", PASSWORD, "127.0.0.1", now_ + 2);
  ASSERT_FALSE(login);
  EXPECT_EQ(login.error().kind, IdentityErrorKind::kDisabled);
  // With a wrong password a disabled account answers like any wrong password.
  auto wrong = Login(*db_, settings_, "leaver", "wrong password!", "127.0.0.1", now_ + 3);
  EXPECT_EQ(wrong.error().kind, IdentityErrorKind::kBadCredentials);
}

TEST_P(IdentityTest, SessionsEndAtTheirLifetimeAndWhenIdle) {
  MakeUser("worker", ministry_id_, {Role::kOrgReporter});
  auto session = Login(*db_, settings_, "worker", PASSWORD, "127.0.0.1", now_);
  ASSERT_TRUE(session);
  // Activity every 20 minutes keeps an idle timeout of 30 minutes from firing...
  int64_t t = now_;
  while (t + 20 * 60'000 < session->expires_at) {
    t += 20 * 60'000;
    ASSERT_TRUE(AuthenticateSession(*db_, settings_, session->token, t)) << (t - now_);
  }
  // ...but not the absolute lifetime.
  EXPECT_FALSE(AuthenticateSession(*db_, settings_, session->token, session->expires_at));

  auto idle = Login(*db_, settings_, "worker", PASSWORD, "127.0.0.1", now_);
  ASSERT_TRUE(idle);
  EXPECT_TRUE(AuthenticateSession(*db_, settings_, idle->token,
                                  now_ + settings_.session_idle_ms - 1));
  EXPECT_FALSE(AuthenticateSession(*db_, settings_, idle->token,
                                   now_ + 2 * settings_.session_idle_ms));
  // An ended session stays ended, and was removed.
  EXPECT_FALSE(AuthenticateSession(*db_, settings_, idle->token, now_ + 1));
  EXPECT_EQ(Count("SELECT COUNT(*) FROM sessions WHERE id = $1", {Param{idle->id}}), 0);
}

TEST_P(IdentityTest, RoleChangesTakeEffectOnTheNextRequest) {
  User user = MakeUser("promoted", ministry_id_, {Role::kOrgReporter});
  auto session = Login(*db_, settings_, "promoted", PASSWORD, "127.0.0.1", now_);
  ASSERT_TRUE(session);
  EXPECT_FALSE(AuthenticateSession(*db_, settings_, session->token, now_)->Has(Role::kOrgAdmin));
  UserPatch patch;
  patch.roles = std::vector<Role>{Role::kOrgAdmin};
  ASSERT_TRUE(UpdateUser(*db_, admin_principal_, user.id, patch));
  auto principal = AuthenticateSession(*db_, settings_, session->token, now_);
  EXPECT_TRUE(principal->Has(Role::kOrgAdmin));
  EXPECT_FALSE(principal->Has(Role::kOrgReporter));
}

TEST_P(IdentityTest, LogoutEndsTheSessionAndIsAudited) {
  MakeUser("leaving", ministry_id_, {Role::kOrgReporter});
  auto session = Login(*db_, settings_, "leaving", PASSWORD, "127.0.0.1", now_);
  ASSERT_TRUE(session);
  auto principal = AuthenticateSession(*db_, settings_, session->token, now_);
  ASSERT_TRUE(principal);
  Logout(*db_, *principal, principal->session_id);
  EXPECT_FALSE(AuthenticateSession(*db_, settings_, session->token, now_));
  auto entries = Audit("auth.logout");
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].entry.actor_id, principal->user_id);
}

TEST_P(IdentityTest, PasswordChangesEndOtherSessions) {
  User user = MakeUser("rotating", ministry_id_, {Role::kOrgReporter});
  auto here = Login(*db_, settings_, "rotating", PASSWORD, "127.0.0.1", now_);
  auto elsewhere = Login(*db_, settings_, "rotating", PASSWORD, "127.0.0.2", now_);
  ASSERT_TRUE(here && elsewhere);
  auto principal = *AuthenticateSession(*db_, settings_, here->token, now_);
  auto wrong = ChangeOwnPassword(*db_, settings_, principal, "not my password", "a new password 1",
                                 now_);
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().kind, IdentityErrorKind::kBadCredentials);
  auto weak = ChangeOwnPassword(*db_, settings_, principal, PASSWORD, "short", now_);
  ASSERT_FALSE(weak);
  EXPECT_EQ(weak.error().field, "new_password");
  ASSERT_TRUE(ChangeOwnPassword(*db_, settings_, principal, PASSWORD, "a new password 1", now_));
  EXPECT_TRUE(AuthenticateSession(*db_, settings_, here->token, now_));
  EXPECT_FALSE(AuthenticateSession(*db_, settings_, elsewhere->token, now_));
  EXPECT_FALSE(Login(*db_, settings_, "rotating", PASSWORD, "127.0.0.3", now_));
  EXPECT_TRUE(Login(*db_, settings_, "rotating", "a new password 1", "127.0.0.4", now_));
  // An administrator's reset ends every session.
  ASSERT_TRUE(SetPassword(*db_, admin_principal_, user.id, "reset by the admin"));
  EXPECT_FALSE(AuthenticateSession(*db_, settings_, here->token, now_));
  EXPECT_EQ(Audit("user.password").size(), 3u);  // one failed, two changes
}

TEST_P(IdentityTest, WrongCurrentPasswordsLockTheAccount) {
  MakeUser("stolen", ministry_id_, {Role::kOrgReporter});
  auto session = Login(*db_, settings_, "stolen", PASSWORD, "127.0.0.1", now_);
  auto principal = *AuthenticateSession(*db_, settings_, session->token, now_);
  IdentityResult<void> last;
  for (int i = 0; i < settings_.login_max_failures; ++i) {
    last = ChangeOwnPassword(*db_, settings_, principal, "guess " + std::to_string(i) + " xxxxx",
                             "a new password 1", now_);
  }
  ASSERT_FALSE(last);
  EXPECT_EQ(last.error().kind, IdentityErrorKind::kLocked);
  auto right = ChangeOwnPassword(*db_, settings_, principal, PASSWORD, "a new password 1", now_);
  ASSERT_FALSE(right);
  EXPECT_EQ(right.error().kind, IdentityErrorKind::kLocked);
}

TEST_P(IdentityTest, AccountsWithoutPasswordsCannotLogIn) {
  NewUser input;
  input.username = "service";
  input.org_id = ministry_id_;
  input.roles = {Role::kOrgReporter};
  auto user = CreateUser(*db_, admin_principal_, input);
  ASSERT_TRUE(user);
  EXPECT_FALSE(user->has_password);
  auto login = Login(*db_, settings_, "service", "", "127.0.0.1", now_);
  ASSERT_FALSE(login);
  EXPECT_EQ(login.error().kind, IdentityErrorKind::kBadCredentials);
}

TEST_P(IdentityTest, OldHashesAreUpgradedAtLogin) {
  MakeUser("legacy", ministry_id_, {Role::kOrgReporter});
  PasswordCost higher = PasswordCost::Minimal();
  higher.opslimit += 1;
  SetPasswordCost(higher);
  ASSERT_TRUE(Login(*db_, settings_, "legacy", PASSWORD, "127.0.0.1", now_));
  auto hash = db_->Acquire()->Query("SELECT password_hash FROM users WHERE username = 'legacy'");
  EXPECT_FALSE(PasswordNeedsRehash(hash.rows[0][0].text()));
  SetPasswordCost(PasswordCost::Minimal());
  EXPECT_TRUE(Login(*db_, settings_, "legacy", PASSWORD, "127.0.0.1", now_));
}

// ---- API tokens ------------------------------------------------------------------------------

TEST_P(IdentityTest, TokensAreShownOnceStoredHashedScopedAndRevocable) {
  User user = MakeUser("robot", ministry_id_, {Role::kOrgReporter});
  auto created = CreateToken(*db_, admin_principal_, user.id, "sensor feed",
                             {"write", "read", "write"}, now_ + 3'600'000, now_);
  ASSERT_TRUE(created) << created.error().message;
  EXPECT_TRUE(created->secret.starts_with("ygt_"));
  EXPECT_EQ(created->token.scopes, (std::vector<std::string>{"read", "write"}));
  EXPECT_EQ(Count("SELECT COUNT(*) FROM api_tokens WHERE token_hash = $1",
                  {Param{Sha256Hex(created->secret)}}),
            1);
  auto all = db_->Acquire()->Query("SELECT * FROM api_tokens");
  for (const auto& row : all.rows) {
    for (const auto& field : row) EXPECT_EQ(field.text().find(created->secret), std::string::npos);
  }

  auto principal = AuthenticateToken(*db_, created->secret, now_ + 1);
  ASSERT_TRUE(principal);
  EXPECT_EQ(principal->user_id, user.id);
  EXPECT_EQ(principal->method, AuthMethod::kApiToken);
  EXPECT_TRUE(principal->AllowsScope("write"));
  EXPECT_FALSE(principal->AllowsScope("admin"));
  EXPECT_FALSE(AuthenticateToken(*db_, "ygt_" + created->secret.substr(4, 10), now_));
  EXPECT_FALSE(AuthenticateToken(*db_, created->secret.substr(4), now_));  // without prefix
  EXPECT_FALSE(AuthenticateToken(*db_, created->secret, now_ + 3'600'000));  // expired

  auto listed = ListTokens(*db_, user.id);
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].name, "sensor feed");
  EXPECT_EQ(listed[0].last_used_at, now_ + 1);

  auto revoked = RevokeToken(*db_, admin_principal_, created->token.id, now_ + 5);
  ASSERT_TRUE(revoked);
  EXPECT_EQ(revoked->revoked_at, now_ + 5);
  EXPECT_FALSE(AuthenticateToken(*db_, created->secret, now_ + 6));
  auto twice = RevokeToken(*db_, admin_principal_, created->token.id, now_ + 50);
  ASSERT_TRUE(twice);
  EXPECT_EQ(twice->revoked_at, now_ + 5);
  EXPECT_FALSE(RevokeToken(*db_, admin_principal_, NewId(), now_));
  EXPECT_EQ(Audit("token.create").size(), 1u);
  EXPECT_EQ(Audit("token.revoke").size(), 2u);
}

TEST_P(IdentityTest, TokenRequestsAreValidated) {
  User user = MakeUser("robot2", ministry_id_, {Role::kOrgReporter});
  auto no_scope = CreateToken(*db_, admin_principal_, user.id, "x", {}, std::nullopt, now_);
  ASSERT_FALSE(no_scope);
  EXPECT_EQ(no_scope.error().field, "scopes");
  auto bad_scope = CreateToken(*db_, admin_principal_, user.id, "x", {"root"}, std::nullopt, now_);
  ASSERT_FALSE(bad_scope);
  EXPECT_EQ(bad_scope.error().field, "scopes");
  auto past = CreateToken(*db_, admin_principal_, user.id, "x", {"read"}, now_ - 1, now_);
  ASSERT_FALSE(past);
  EXPECT_EQ(past.error().field, "expires_at");
  auto unnamed = CreateToken(*db_, admin_principal_, user.id, "", {"read"}, std::nullopt, now_);
  ASSERT_FALSE(unnamed);
  EXPECT_EQ(unnamed.error().field, "name");
  auto nobody = CreateToken(*db_, admin_principal_, NewId(), "x", {"read"}, std::nullopt, now_);
  ASSERT_FALSE(nobody);
  EXPECT_EQ(nobody.error().kind, IdentityErrorKind::kNotFound);
}

TEST_P(IdentityTest, PurgeRemovesWhatNobodyNeeds) {
  MakeUser("purged", ministry_id_, {Role::kOrgReporter});
  auto old_session = Login(*db_, settings_, "purged", PASSWORD, "127.0.0.1", now_);
  ASSERT_TRUE(old_session);
  (void)Login(*db_, settings_, "purged", "wrong password!", "127.0.0.9", now_);
  int64_t later = now_ + settings_.session_ttl_ms + settings_.login_window_ms;
  auto fresh = Login(*db_, settings_, "purged", PASSWORD, "127.0.0.1", later);
  ASSERT_TRUE(fresh);
  EXPECT_GE(PurgeExpired(*db_, settings_, later + 1), 1);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM sessions"), 1);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM login_throttle"), 0);
  EXPECT_TRUE(AuthenticateSession(*db_, settings_, fresh->token, later + 1));
}

TEST_P(IdentityTest, EveryWriteKeepsTheAuditChainIntact) {
  User user = MakeUser("chain", ministry_id_, {Role::kOrgReporter});
  (void)Login(*db_, settings_, "chain", "wrong password!", "127.0.0.1", now_);
  ASSERT_TRUE(Login(*db_, settings_, "chain", PASSWORD, "127.0.0.1", now_));
  ASSERT_TRUE(CreateToken(*db_, admin_principal_, user.id, "t", {"read"}, std::nullopt, now_));
  auto connection = db_->Acquire();
  AuditVerification verification = AuditLog::Verify(*connection);
  EXPECT_TRUE(verification.intact) << verification.problem;
  EXPECT_GE(verification.entries, 6);
}

// ---- names -----------------------------------------------------------------------------------

TEST_P(IdentityTest, UserNamesFollowWhoMayLearnThem) {
  auto other = CreateOrganization(*db_, admin_principal_,
                                  {"Another Ministry", "", OrgType::kMinistry, "", ""});
  ASSERT_TRUE(other) << other.error().message;
  auto partner = CreateOrganization(*db_, admin_principal_,
                                    {"CERT Abroad", "", OrgType::kPartnerCert, "", ""});
  ASSERT_TRUE(partner) << partner.error().message;
  User reporter = MakeUser("reporter", ministry_id_, {Role::kOrgReporter});
  User colleague = MakeUser("colleague", ministry_id_, {Role::kOrgAdmin});
  User analyst = MakeUser("analyst", centre_id_, {Role::kCentreAnalyst});
  User stranger = MakeUser("stranger", other->id, {Role::kOrgReporter});
  User foreign = MakeUser("foreign", partner->id, {Role::kPartner});
  std::vector<std::string> everyone = {reporter.id, colleague.id, analyst.id, stranger.id,
                                       foreign.id,  admin_id_,    NewId(),    "not-an-id"};
  auto ids_seen_by = [&](const std::string& user_id) {
    std::vector<std::string> ids;
    for (const auto& name : UserNames(*db_, *AuthenticateAs(user_id), everyone)) {
      ids.push_back(name.id);
    }
    std::sort(ids.begin(), ids.end());
    return ids;
  };
  auto sorted = [](std::vector<std::string> ids) {
    std::sort(ids.begin(), ids.end());
    return ids;
  };

  // A member: its own organisation and the centre, never another member organisation.
  EXPECT_EQ(ids_seen_by(reporter.id), sorted({reporter.id, colleague.id, analyst.id, admin_id_}));
  // A partner CERT: itself and the centre.
  EXPECT_EQ(ids_seen_by(foreign.id), sorted({foreign.id, analyst.id, admin_id_}));
  // The centre's staff: everyone; unknown ids are absent.
  EXPECT_EQ(ids_seen_by(analyst.id), sorted({reporter.id, colleague.id, analyst.id, stranger.id,
                                             foreign.id, admin_id_}));

  auto names = UserNames(*db_, *AuthenticateAs(reporter.id), {analyst.id, analyst.id});
  ASSERT_EQ(names.size(), 1u);  // duplicates answered once
  EXPECT_EQ(names[0].display_name, "analyst");
  EXPECT_EQ(names[0].org_id, centre_id_);
  EXPECT_EQ(names[0].org_name, "National Cyber Defence Centre");
  EXPECT_TRUE(UserNames(*db_, *AuthenticateAs(reporter.id), {}).empty());
  EXPECT_TRUE(UserNames(*db_, *AuthenticateAs(reporter.id), {stranger.id}).empty());
}

TEST(IdentityValidation, TimeZonesLookLikeIanaNames) {
  for (std::string_view ok : {"UTC", "Asia/Tokyo", "America/Argentina/Buenos_Aires", "Etc/GMT+9",
                              "America/Port-au-Prince"}) {
    EXPECT_TRUE(IsValidTimeZone(ok)) << ok;
  }
  for (std::string_view bad : {"", "/Asia", "Asia/", "Asia//Tokyo", "9Tokyo", "Asia/Tokyo;DROP",
                               "../etc/passwd", "Asia/ Tokyo"}) {
    EXPECT_FALSE(IsValidTimeZone(bad)) << bad;
  }
  EXPECT_FALSE(IsValidTimeZone(std::string(65, 'A')));
}

INSTANTIATE_TEST_SUITE_P(Engines, IdentityTest,
                         ::testing::Values(Engine::kSqlite, Engine::kPostgres),
                         [](const ::testing::TestParamInfo<Engine>& info) {
                           return info.param == Engine::kSqlite ? "Sqlite" : "Postgres";
                         });

}  // namespace
}  // namespace yagura::hub

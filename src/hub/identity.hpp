// Identity: organisations, users, login sessions and API tokens.
//
// The centre's users belong to organisations (ministries, agencies, critical-infrastructure
// operators by sector, local governments, partner CERTs abroad, the centre itself) and hold
// roles; which roles an organisation's members may hold follows from its type (centre roles in
// the centre only, "partner" in partner CERTs only). This file keeps those facts valid; who may
// *change* them is decided by hub/policy.hpp (can::ManageUsersOf, can::GrantRole) in the API.
//
// Credentials:
//   - passwords are argon2id hashes (hub/passwords.hpp);
//   - a login creates a session: a random token the browser keeps in an HttpOnly cookie and a
//     CSRF token the console sends back in a header. Only the SHA-256 of the session token is
//     stored, so a copy of the database does not log anybody in. Sessions end at an absolute
//     lifetime and after an idle timeout;
//   - API tokens ("ygt_" + 43 random characters) are shown once, stored as SHA-256, carry
//     scopes (read, write, admin), may expire and can be revoked.
// Failed logins are counted per account ("user:<name>") and per address ("addr:<ip>") in
// login_throttle; too many in the window lock the key for the lockout time. Unknown user names
// are counted and locked like real ones and cost one dummy password verification, so neither
// the answer nor its timing tells whether an account exists.
//
// The principal of a request is loaded from the database on every request, so disabling a user
// or changing their roles takes effect at once.
//
// Every write appends its audit entry in the same transaction (hub/audit_log.hpp).
//
// Thread-safety: free functions over a Database; safe to call from many threads.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <tl/expected.hpp>

#include "hub/principal.hpp"
#include "store/database.hpp"

namespace yagura::hub {

// Why an identity operation was refused.
enum class IdentityErrorKind {
  kInvalid,         // bad input; `field` names it
  kConflict,        // a unique name is taken, or the change would leave no administrator
  kNotFound,        // no such organisation, user or token
  kBadCredentials,  // unknown user or wrong password (deliberately indistinguishable)
  kLocked,          // too many failed logins; retry after `retry_after_s`
  kDisabled,        // right password, disabled account
};

struct IdentityError {
  IdentityErrorKind kind = IdentityErrorKind::kInvalid;
  std::string message;
  std::string field;
  int64_t retry_after_s = 0;
};

template <typename T>
using IdentityResult = tl::expected<T, IdentityError>;

// Lifetimes and login throttling; the HTTP layer fills them from its ServiceSettings.
struct IdentitySettings {
  int64_t session_ttl_ms = 8 * 3600 * 1000;
  int64_t session_idle_ms = 30 * 60 * 1000;
  int login_max_failures = 5;  // per account
  // Per address: higher, because many honest users can share one address (a ministry behind
  // one NAT gateway); it still stops one address from guessing across many accounts.
  int login_max_failures_per_address = 20;
  int64_t login_window_ms = 15 * 60 * 1000;
  int64_t login_lockout_ms = 15 * 60 * 1000;
};

// The principal used for changes nobody logged in made (bootstrap, maintenance).
Principal SystemPrincipal();

// ---- organisations ---------------------------------------------------------------------------

struct Organization {
  std::string id;
  std::string name;
  std::string name_ja;        // empty when none
  OrgType type = OrgType::kMinistry;
  std::string sector;         // critical infrastructure only
  std::string contact_email;  // empty when none
  int64_t created_at = 0;
  int64_t updated_at = 0;
};

struct NewOrganization {
  std::string name;
  std::string name_ja;
  OrgType type = OrgType::kMinistry;
  std::string sector;
  std::string contact_email;
};

// Absent members stay as they are; an empty name_ja / contact_email clears it. The type of an
// organisation never changes (its members' roles depend on it).
struct OrganizationPatch {
  std::optional<std::string> name;
  std::optional<std::string> name_ja;
  std::optional<std::string> sector;
  std::optional<std::string> contact_email;
};

IdentityResult<Organization> CreateOrganization(store::Database& database, const Principal& actor,
                                                const NewOrganization& organization);
IdentityResult<Organization> UpdateOrganization(store::Database& database, const Principal& actor,
                                                std::string_view id,
                                                const OrganizationPatch& patch);
std::optional<Organization> GetOrganization(store::Database& database, std::string_view id);

// Keyset-paged list in (created_at, id) order, starting after the cursor position when given.
struct OrganizationQuery {
  std::optional<std::string> only_id;  // restrict to one organisation (the caller's own)
  std::optional<OrgType> type;
  std::optional<std::pair<int64_t, std::string>> after;
  int limit = 50;
};
std::vector<Organization> ListOrganizations(store::Database& database,
                                            const OrganizationQuery& query);

// ---- users -----------------------------------------------------------------------------------

struct User {
  std::string id;
  std::string username;
  std::string display_name;
  std::string email;  // empty when none
  std::string org_id;
  std::vector<Role> roles;
  std::string locale = "en";
  std::string time_zone = "Asia/Tokyo";
  bool disabled = false;
  bool has_password = false;
  int64_t created_at = 0;
  int64_t updated_at = 0;
  int64_t password_changed_at = 0;  // 0 when never set
};

struct NewUser {
  std::string username;
  std::string display_name;  // the user name when empty
  std::string email;
  std::string org_id;
  std::vector<Role> roles;
  // Empty: the account has no password yet and cannot log in until SetPassword (accounts used
  // only through API tokens, or invited users).
  std::string password;
  std::string locale = "en";
  std::string time_zone = "Asia/Tokyo";
};

// Absent members stay as they are; an empty email clears it.
struct UserPatch {
  std::optional<std::string> display_name;
  std::optional<std::string> email;
  std::optional<std::vector<Role>> roles;
  std::optional<bool> disabled;
  std::optional<std::string> locale;
  std::optional<std::string> time_zone;
};

// Validation shared with the API (it reports the same messages before touching the database).
[[nodiscard]] bool IsValidUsername(std::string_view username);  // 3-64 of [a-z0-9._-]
[[nodiscard]] bool IsValidLocale(std::string_view locale);      // "en" or "ja"
// An IANA zone name in form: "UTC", "Asia/Tokyo", "America/Argentina/Buenos_Aires",
// "Etc/GMT-9". (The zone database itself is the browser's business.)
[[nodiscard]] bool IsValidTimeZone(std::string_view time_zone);
// Whether members of an organisation of `type` may hold `role`; the message when not.
[[nodiscard]] std::optional<std::string> RoleRefusal(OrgType type, Role role);

IdentityResult<User> CreateUser(store::Database& database, const Principal& actor,
                                const NewUser& user);
// Disabling a user also ends their sessions. Refused (kConflict) when it would leave the centre
// without an enabled centre_admin.
IdentityResult<User> UpdateUser(store::Database& database, const Principal& actor,
                                std::string_view id, const UserPatch& patch);
std::optional<User> GetUser(store::Database& database, std::string_view id);
std::optional<User> FindUserByName(store::Database& database, std::string_view username);

// Sets a new password and ends every session of the user except `keep_session_id` (the hashed
// id of the session that made the change, if any).
IdentityResult<void> SetPassword(store::Database& database, const Principal& actor,
                                 std::string_view user_id, std::string_view new_password,
                                 std::string_view keep_session_id = {});

// Changes the caller's own password after checking the current one. Wrong current passwords
// count as failed logins of the account (and lock it), so a stolen session cannot be used to
// guess the password.
IdentityResult<void> ChangeOwnPassword(store::Database& database, const IdentitySettings& settings,
                                       const Principal& actor, std::string_view current_password,
                                       std::string_view new_password, int64_t now_ms);

struct UserQuery {
  std::optional<std::string> org_id;   // only members of this organisation
  std::optional<std::string> user_id;  // only this user (callers who may see only themselves)
  std::optional<std::pair<int64_t, std::string>> after;
  int limit = 50;
};
std::vector<User> ListUsers(store::Database& database, const UserQuery& query);

// Who a user is, as shown next to their id (incident authors, assignees, commenters...).
struct UserName {
  std::string id;
  std::string display_name;
  std::string org_id;
  std::string org_name;
};

// The names of those `ids` the viewer may learn, in id order; ids unknown or not visible are
// simply absent (so the answer never tells whether an id exists). A viewer may learn the names
// of their own organisation's users and of the centre's staff (anyone may know who at the centre
// handles their case); the centre's staff may learn every name. The filter is in the SQL.
std::vector<UserName> UserNames(store::Database& database, const Principal& viewer,
                                const std::vector<std::string>& ids);

// ---- bootstrap -------------------------------------------------------------------------------

struct BootstrapResult {
  bool created = false;            // false: a centre administrator already existed
  std::string username;            // the (new or existing) administrator
  std::string generated_password;  // set only when created with a generated password
  std::string org_id;
  std::string user_id;
};

// Creates the centre's organisation and its first centre_admin. Idempotent: when the centre
// already has an administrator, reports them and changes nothing. An empty `password` makes a
// random one, returned once in generated_password.
IdentityResult<BootstrapResult> BootstrapCentre(
    store::Database& database, std::string_view username, std::string_view password,
    std::string_view centre_name = "National Cyber Defence Centre");

// ---- sessions --------------------------------------------------------------------------------

struct Session {
  std::string token;       // the cookie value; never stored
  std::string id;          // SHA-256 of the token, the stored key
  std::string csrf_token;
  int64_t created_at = 0;
  int64_t expires_at = 0;  // absolute end (the idle timeout may end it sooner)
  User user;
};

IdentityResult<Session> Login(store::Database& database, const IdentitySettings& settings,
                              std::string_view username, std::string_view password,
                              std::string_view remote_address, int64_t now_ms);

// Ends one session (by its hashed id) and records it.
void Logout(store::Database& database, const Principal& actor, std::string_view session_id);

// The principal of a session token, or nullopt when the session is unknown, past its lifetime,
// idle for too long, or its user is disabled. Refreshes the session's last-seen time.
std::optional<Principal> AuthenticateSession(store::Database& database,
                                             const IdentitySettings& settings,
                                             std::string_view token, int64_t now_ms);

// ---- API tokens ------------------------------------------------------------------------------

inline constexpr std::string_view API_TOKEN_PREFIX = "ygt_";

struct ApiToken {
  std::string id;
  std::string user_id;
  std::string name;
  std::vector<std::string> scopes;  // subset of read, write, admin
  int64_t created_at = 0;
  int64_t expires_at = 0;    // 0: never
  int64_t revoked_at = 0;    // 0: active
  int64_t last_used_at = 0;  // 0: never
};

struct CreatedApiToken {
  ApiToken token;
  std::string secret;  // "ygt_..." — shown once, never stored
};

[[nodiscard]] bool IsTokenScope(std::string_view scope);

IdentityResult<CreatedApiToken> CreateToken(store::Database& database, const Principal& actor,
                                            std::string_view user_id, std::string_view name,
                                            const std::vector<std::string>& scopes,
                                            std::optional<int64_t> expires_at, int64_t now_ms);
std::optional<ApiToken> GetToken(store::Database& database, std::string_view id);
std::vector<ApiToken> ListTokens(store::Database& database, std::string_view user_id);
// Revoking twice is not an error (the first revocation time stays).
IdentityResult<ApiToken> RevokeToken(store::Database& database, const Principal& actor,
                                     std::string_view id, int64_t now_ms);

// The principal of an API token secret, or nullopt when it is unknown, revoked, expired or its
// user is disabled.
std::optional<Principal> AuthenticateToken(store::Database& database, std::string_view secret,
                                           int64_t now_ms);

// Deletes expired sessions and throttle entries nobody needs any more; returns rows removed.
int64_t PurgeExpired(store::Database& database, const IdentitySettings& settings, int64_t now_ms);

}  // namespace yagura::hub

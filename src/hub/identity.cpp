// Organisations, users, sessions and API tokens (see identity.hpp).
//
// Password hashing is deliberately kept outside database transactions: an argon2id hash takes
// tens of milliseconds and SQLite's write lock (BEGIN IMMEDIATE) would queue every other writer
// behind it. So Login reads the account, verifies the password with no transaction open, and
// then writes the outcome (throttle counters or a new session, and the audit entry) in one
// short transaction.
//
// Roles are stored as one comma-separated column ("org_admin,org_reporter"): a user holds few,
// and the principal is loaded with a single join per request. Queries that look for a role
// match ',' || roles || ',' against '%,<role>,%', which both engines understand.
#include "hub/identity.hpp"

#include <algorithm>
#include <utility>

#include "core/json_value.hpp"
#include "core/time.hpp"
#include "core/utf8.hpp"
#include "hub/audit_log.hpp"
#include "hub/crypto.hpp"
#include "hub/keyset.hpp"
#include "hub/passwords.hpp"

namespace yagura::hub {
namespace {

using store::Param;

constexpr std::string_view ORG_COLUMNS =
    "id, name, name_ja, type, sector, contact_email, created_at, updated_at";
constexpr std::string_view USER_COLUMNS =
    "id, username, display_name, email, org_id, roles, locale, time_zone, disabled, created_at, "
    "updated_at, password_changed_at, password_hash";
constexpr std::string_view TOKEN_COLUMNS =
    "id, user_id, name, scopes, created_at, expires_at, revoked_at, last_used_at";

// How often a session's or token's last-seen time is written: often enough for the idle
// timeout, rarely enough that reads do not turn into a write per request.
constexpr int64_t TOUCH_INTERVAL_MS = 60 * 1000;
constexpr size_t MAX_CREDENTIAL_BYTES = 256;

IdentityError Invalid(std::string message, std::string field = {}) {
  return IdentityError{IdentityErrorKind::kInvalid, std::move(message), std::move(field), 0};
}
IdentityError Conflict(std::string message, std::string field = {}) {
  return IdentityError{IdentityErrorKind::kConflict, std::move(message), std::move(field), 0};
}
IdentityError NotFound(std::string message) {
  return IdentityError{IdentityErrorKind::kNotFound, std::move(message), {}, 0};
}
IdentityError BadCredentials() {
  return IdentityError{IdentityErrorKind::kBadCredentials, "invalid user name or password", {}, 0};
}

bool HasControlCharacters(std::string_view text) {
  return std::any_of(text.begin(), text.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7F;
  });
}

bool IsLightEmail(std::string_view email) {
  size_t at = email.find('@');
  return email.size() <= 254 && at != std::string_view::npos && at > 0 &&
         email.find('@', at + 1) == std::string_view::npos &&
         email.find('.', at) != std::string_view::npos && email.back() != '.' &&
         email.find_first_of(" \t\r\n<>\"") == std::string_view::npos;
}

std::optional<IdentityError> CheckName(std::string_view text, std::string_view field,
                                       size_t max_chars) {
  if (text.empty()) return Invalid(std::string(field) + " must not be empty", std::string(field));
  if (CodePoints(text) > max_chars) {
    return Invalid(std::string(field) + " is longer than " + std::to_string(max_chars) +
                       " characters",
                   std::string(field));
  }
  if (HasControlCharacters(text)) {
    return Invalid(std::string(field) + " must not contain control characters",
                   std::string(field));
  }
  return std::nullopt;
}

std::string RolesText(const std::vector<Role>& roles) {
  std::string text;
  for (Role role : roles) {
    if (!text.empty()) text += ',';
    text += ToString(role);
  }
  return text;
}

std::string ScopesText(const std::vector<std::string>& scopes) {
  std::string text;
  for (const auto& scope : scopes) {
    if (!text.empty()) text += ',';
    text += scope;
  }
  return text;
}

std::vector<std::string> ParseScopesText(std::string_view text) {
  std::vector<std::string> scopes;
  while (!text.empty()) {
    size_t comma = text.find(',');
    if (!text.substr(0, comma).empty()) scopes.emplace_back(text.substr(0, comma));
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return scopes;
}

std::string Detail(const JsonValue& value) { return value.Serialize(); }

JsonValue RoleArray(const std::vector<Role>& roles) {
  JsonValue array = JsonValue::MakeArray();
  for (Role role : roles) array.Push(JsonValue(ToString(role)));
  return array;
}

Organization ReadOrganization(const std::vector<store::Field>& row) {
  Organization org;
  org.id = row[0].text();
  org.name = row[1].text();
  org.name_ja = row[2].text();
  org.type = ParseOrgType(row[3].text()).value_or(OrgType::kMinistry);
  org.sector = row[4].text();
  org.contact_email = row[5].text();
  org.created_at = row[6].as_int();
  org.updated_at = row[7].as_int();
  return org;
}

// A user row with its password hash, which never leaves this file.
struct StoredUser {
  User user;
  std::string password_hash;
};

StoredUser ReadUser(const std::vector<store::Field>& row) {
  StoredUser stored;
  User& user = stored.user;
  user.id = row[0].text();
  user.username = row[1].text();
  user.display_name = row[2].text();
  user.email = row[3].text();
  user.org_id = row[4].text();
  user.roles = ParseRolesText(row[5].text());
  user.locale = row[6].text();
  user.time_zone = row[7].text();
  user.disabled = row[8].as_bool();
  user.created_at = row[9].as_int();
  user.updated_at = row[10].as_int();
  user.password_changed_at = row[11].as_int();
  stored.password_hash = row[12].text();
  user.has_password = !stored.password_hash.empty();
  return stored;
}

ApiToken ReadToken(const std::vector<store::Field>& row) {
  ApiToken token;
  token.id = row[0].text();
  token.user_id = row[1].text();
  token.name = row[2].text();
  token.scopes = ParseScopesText(row[3].text());
  token.created_at = row[4].as_int();
  token.expires_at = row[5].as_int();
  token.revoked_at = row[6].as_int();
  token.last_used_at = row[7].as_int();
  return token;
}

std::optional<Organization> LoadOrganization(store::Connection& connection, std::string_view id) {
  store::Rows rows = connection.Query(
      "SELECT " + std::string(ORG_COLUMNS) + " FROM organizations WHERE id = $1",
      {Param{std::string(id)}});
  if (rows.empty()) return std::nullopt;
  return ReadOrganization(rows.rows[0]);
}

std::optional<StoredUser> LoadUser(store::Connection& connection, std::string_view column,
                                   std::string_view value) {
  store::Rows rows = connection.Query("SELECT " + std::string(USER_COLUMNS) + " FROM users WHERE " +
                                          std::string(column) + " = $1",
                                      {Param{std::string(value)}});
  if (rows.empty()) return std::nullopt;
  return ReadUser(rows.rows[0]);
}

std::optional<IdentityError> CheckSector(OrgType type, std::string_view sector) {
  if (type == OrgType::kCriticalInfrastructure) {
    if (sector.empty()) {
      return Invalid("a critical-infrastructure organisation needs a sector", "sector");
    }
    if (!IsSector(sector)) return Invalid("sector is not one of the 15 sectors", "sector");
  } else if (!sector.empty()) {
    return Invalid("only critical-infrastructure organisations have a sector", "sector");
  }
  return std::nullopt;
}

std::optional<IdentityError> CheckRoles(OrgType type, const std::vector<Role>& roles) {
  if (roles.empty()) return Invalid("a user needs at least one role", "roles");
  for (Role role : roles) {
    if (auto refusal = RoleRefusal(type, role)) return Invalid(*refusal, "roles");
  }
  return std::nullopt;
}

std::vector<Role> Deduplicated(std::vector<Role> roles) {
  std::sort(roles.begin(), roles.end());
  roles.erase(std::unique(roles.begin(), roles.end()), roles.end());
  return roles;
}

// Enabled centre administrators; the last one may not be disabled or demoted, or nobody could
// administer the service any more.
int64_t CountCentreAdmins(store::Connection& connection) {
  store::Rows rows = connection.Query(
      "SELECT COUNT(*) FROM users u JOIN organizations o ON o.id = u.org_id "
      "WHERE o.type = 'centre' AND u.disabled = 0 AND (',' || u.roles || ',') LIKE "
      "'%,centre_admin,%'");
  return rows.rows.at(0).at(0).as_int();
}

bool IsUniqueViolation(const store::DatabaseError& error) { return error.unique_violation; }

// ---- login throttling ------------------------------------------------------------------------

std::string UserKey(std::string_view username) {
  return "user:" + std::string(username.substr(0, 64));
}
std::string AddressKey(std::string_view address) {
  return "addr:" + std::string(address.substr(0, 64));
}

int64_t LockedUntil(store::Connection& connection, const std::string& key) {
  store::Rows rows = connection.Query("SELECT locked_until FROM login_throttle WHERE key = $1",
                                      {Param{key}});
  return rows.empty() ? 0 : rows.rows[0][0].as_int();
}

// Counts one failure of `key`; returns true when this failure locked it. One UPDATE does the
// read-modify-write, so concurrent failures on PostgreSQL are counted, not lost.
bool CountFailure(store::Connection& connection, const IdentitySettings& settings,
                  const std::string& key, int64_t now) {
  connection.Execute(
      "INSERT INTO login_throttle (key, failures, first_failure_at, locked_until) "
      "VALUES ($1, 0, $2, 0) ON CONFLICT (key) DO NOTHING",
      {Param{key}, Param{now}});
  store::Rows rows = connection.Query(
      "UPDATE login_throttle SET "
      "failures = CASE WHEN first_failure_at + $3 > $2 THEN failures + 1 ELSE 1 END, "
      "first_failure_at = CASE WHEN first_failure_at + $3 > $2 THEN first_failure_at ELSE $2 END "
      "WHERE key = $1 RETURNING failures",
      {Param{key}, Param{now}, Param{settings.login_window_ms}});
  int limit = key.starts_with("addr:") ? settings.login_max_failures_per_address
                                        : settings.login_max_failures;
  if (rows.empty() || rows.rows[0][0].as_int() < limit) return false;
  // Locked: the count starts again once the lockout is over.
  connection.Execute(
      "UPDATE login_throttle SET failures = 0, first_failure_at = $2, locked_until = $3 "
      "WHERE key = $1",
      {Param{key}, Param{now}, Param{now + settings.login_lockout_ms}});
  return true;
}

int64_t RetryAfterSeconds(int64_t locked_until, int64_t now) {
  return std::max<int64_t>(1, (locked_until - now + 999) / 1000);
}

AuditEntry LoginEntry(std::string_view username, std::string_view remote_address,
                      const std::optional<StoredUser>& user, std::string outcome,
                      std::string_view reason) {
  AuditEntry entry;
  entry.actor_id = "anonymous";
  entry.action = "auth.login";
  entry.object_type = "user";
  entry.object_id = user ? user->user.id : std::string();
  entry.remote_address = std::string(remote_address);
  entry.outcome = std::move(outcome);
  JsonValue detail = JsonValue::MakeObject();
  detail.Set("username", JsonValue(username.substr(0, 64)));
  detail.Set("reason", JsonValue(reason));
  entry.detail = Detail(detail);
  return entry;
}

std::string LowerAscii(std::string_view text) {
  std::string lower(text);
  for (char& c : lower) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return lower;
}

// The principal of a user row joined with its organisation; nullopt for disabled users.
struct PrincipalRow {
  std::string user_id, username, org_id, roles, org_type, sector;
  bool disabled = false;
};

std::optional<Principal> MakePrincipal(const PrincipalRow& row) {
  if (row.disabled) return std::nullopt;
  auto type = ParseOrgType(row.org_type);
  if (!type) return std::nullopt;
  Principal principal;
  principal.user_id = row.user_id;
  principal.username = row.username;
  principal.org_id = row.org_id;
  principal.org_type = *type;
  principal.sector = row.sector;
  principal.roles = ParseRolesText(row.roles);
  return principal;
}

}  // namespace

std::vector<Role> ParseRolesText(std::string_view text) {
  std::vector<Role> roles;
  while (!text.empty()) {
    size_t comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    if (auto role = ParseRole(item)) roles.push_back(*role);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return roles;
}

Principal SystemPrincipal() {
  Principal principal;
  principal.user_id = "system";
  principal.username = "system";
  principal.org_type = OrgType::kCentre;
  principal.method = AuthMethod::kInternal;
  return principal;
}

// ---- validation ------------------------------------------------------------------------------

bool IsValidUsername(std::string_view username) {
  if (username.size() < 3 || username.size() > 64) return false;
  return std::all_of(username.begin(), username.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
  });
}

bool IsValidLocale(std::string_view locale) { return locale == "en" || locale == "ja"; }

bool IsValidTimeZone(std::string_view zone) {
  if (zone.empty() || zone.size() > 64) return false;
  // Segments separated by '/', each starting with a letter and made of letters, digits, '_',
  // '-' and '+' ("Etc/GMT+9"); no empty segment, so no "//" or leading or trailing '/'.
  size_t start = 0;
  while (true) {
    size_t slash = zone.find('/', start);
    std::string_view segment = zone.substr(start, slash == std::string_view::npos
                                                      ? std::string_view::npos
                                                      : slash - start);
    if (segment.empty()) return false;
    char first = segment.front();
    if (!((first >= 'A' && first <= 'Z') || (first >= 'a' && first <= 'z'))) return false;
    for (char c : segment) {
      bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                c == '_' || c == '-' || c == '+';
      if (!ok) return false;
    }
    if (slash == std::string_view::npos) return true;
    start = slash + 1;
  }
}

std::optional<std::string> RoleRefusal(OrgType type, Role role) {
  if (IsCentreRole(role) && type != OrgType::kCentre) {
    return "the " + std::string(ToString(role)) + " role is only for the centre's staff";
  }
  if (role == Role::kPartner && type != OrgType::kPartnerCert) {
    return std::string("the partner role is only for members of partner CERTs");
  }
  if (role != Role::kPartner && type == OrgType::kPartnerCert) {
    return "members of partner CERTs hold the partner role only, not " +
           std::string(ToString(role));
  }
  return std::nullopt;
}

bool IsTokenScope(std::string_view scope) {
  return scope == "read" || scope == "write" || scope == "admin";
}

// ---- organisations ---------------------------------------------------------------------------

IdentityResult<Organization> CreateOrganization(store::Database& database, const Principal& actor,
                                                const NewOrganization& input) {
  if (auto error = CheckName(input.name, "name", 200)) return tl::unexpected(*error);
  if (!input.name_ja.empty()) {
    if (auto error = CheckName(input.name_ja, "name_ja", 200)) return tl::unexpected(*error);
  }
  if (auto error = CheckSector(input.type, input.sector)) return tl::unexpected(*error);
  if (!input.contact_email.empty() && !IsLightEmail(input.contact_email)) {
    return tl::unexpected(Invalid("contact_email is not an e-mail address", "contact_email"));
  }
  Organization org;
  org.id = NewId();
  org.name = input.name;
  org.name_ja = input.name_ja;
  org.type = input.type;
  org.sector = input.sector;
  org.contact_email = input.contact_email;
  org.created_at = org.updated_at = NowMs();
  try {
    return database.Transact([&](store::Connection& connection) -> IdentityResult<Organization> {
      if (!connection.Query("SELECT 1 FROM organizations WHERE name = $1", {Param{org.name}})
               .empty()) {
        return tl::unexpected(Conflict("an organisation with this name exists", "name"));
      }
      if (org.type == OrgType::kCentre &&
          !connection.Query("SELECT 1 FROM organizations WHERE type = 'centre'").empty()) {
        return tl::unexpected(Conflict("the centre's organisation exists already", "type"));
      }
      auto optional_text = [](const std::string& text) {
        return text.empty() ? Param{nullptr} : Param{text};
      };
      connection.Execute(
          "INSERT INTO organizations (id, name, name_ja, type, sector, contact_email, "
          "created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
          {Param{org.id}, Param{org.name}, optional_text(org.name_ja),
           Param{std::string(ToString(org.type))}, optional_text(org.sector),
           optional_text(org.contact_email), Param{org.created_at}});
      AuditEntry entry = EntryFor(actor, "organization.create", "organization", org.id);
      JsonValue detail = JsonValue::MakeObject();
      detail.Set("name", JsonValue(org.name));
      detail.Set("type", JsonValue(ToString(org.type)));
      if (!org.sector.empty()) detail.Set("sector", JsonValue(org.sector));
      entry.detail = Detail(detail);
      AuditLog::Append(connection, entry, org.created_at);
      return org;
    });
  } catch (const store::DatabaseError& error) {
    if (IsUniqueViolation(error)) {
      return tl::unexpected(Conflict("an organisation with this name exists", "name"));
    }
    throw;
  }
}

IdentityResult<Organization> UpdateOrganization(store::Database& database, const Principal& actor,
                                                std::string_view id,
                                                const OrganizationPatch& patch) {
  if (patch.name) {
    if (auto error = CheckName(*patch.name, "name", 200)) return tl::unexpected(*error);
  }
  if (patch.name_ja && !patch.name_ja->empty()) {
    if (auto error = CheckName(*patch.name_ja, "name_ja", 200)) return tl::unexpected(*error);
  }
  if (patch.contact_email && !patch.contact_email->empty() &&
      !IsLightEmail(*patch.contact_email)) {
    return tl::unexpected(Invalid("contact_email is not an e-mail address", "contact_email"));
  }
  int64_t now = NowMs();
  try {
    return database.Transact([&](store::Connection& connection) -> IdentityResult<Organization> {
      std::optional<Organization> current = LoadOrganization(connection, id);
      if (!current) return tl::unexpected(NotFound("organisation not found"));
      Organization org = *current;
      JsonValue changed = JsonValue::MakeArray();
      if (patch.name && *patch.name != org.name) {
        if (!connection
                 .Query("SELECT 1 FROM organizations WHERE name = $1 AND id <> $2",
                        {Param{*patch.name}, Param{org.id}})
                 .empty()) {
          return tl::unexpected(Conflict("an organisation with this name exists", "name"));
        }
        org.name = *patch.name;
        changed.Push(JsonValue("name"));
      }
      if (patch.name_ja && *patch.name_ja != org.name_ja) {
        org.name_ja = *patch.name_ja;
        changed.Push(JsonValue("name_ja"));
      }
      if (patch.sector && *patch.sector != org.sector) {
        org.sector = *patch.sector;
        changed.Push(JsonValue("sector"));
      }
      if (patch.contact_email && *patch.contact_email != org.contact_email) {
        org.contact_email = *patch.contact_email;
        changed.Push(JsonValue("contact_email"));
      }
      if (auto error = CheckSector(org.type, org.sector)) return tl::unexpected(*error);
      if (changed.as_array().empty()) return org;
      org.updated_at = std::max(now, org.updated_at);
      auto optional_text = [](const std::string& text) {
        return text.empty() ? Param{nullptr} : Param{text};
      };
      connection.Execute(
          "UPDATE organizations SET name = $2, name_ja = $3, sector = $4, contact_email = $5, "
          "updated_at = $6 WHERE id = $1",
          {Param{org.id}, Param{org.name}, optional_text(org.name_ja), optional_text(org.sector),
           optional_text(org.contact_email), Param{org.updated_at}});
      AuditEntry entry = EntryFor(actor, "organization.update", "organization", org.id);
      JsonValue detail = JsonValue::MakeObject();
      detail.Set("changed", std::move(changed));
      entry.detail = Detail(detail);
      AuditLog::Append(connection, entry, now);
      return org;
    });
  } catch (const store::DatabaseError& error) {
    if (IsUniqueViolation(error)) {
      return tl::unexpected(Conflict("an organisation with this name exists", "name"));
    }
    throw;
  }
}

std::optional<Organization> GetOrganization(store::Database& database, std::string_view id) {
  auto connection = database.Acquire();
  return LoadOrganization(*connection, id);
}

std::vector<Organization> ListOrganizations(store::Database& database,
                                            const OrganizationQuery& query) {
  std::string sql = "SELECT " + std::string(ORG_COLUMNS) + " FROM organizations WHERE 1 = 1";
  std::vector<Param> params;
  if (query.only_id) {
    params.emplace_back(*query.only_id);
    sql += " AND id = $" + std::to_string(params.size());
  }
  if (query.type) {
    params.emplace_back(std::string(ToString(*query.type)));
    sql += " AND type = $" + std::to_string(params.size());
  }
  if (query.after) {
    sql += KeysetCondition("", KeysetOrder::kOldestFirst, query.after->first, query.after->second,
                           params);
  }
  sql += " ORDER BY created_at, id LIMIT " + std::to_string(std::max(1, query.limit));
  auto connection = database.Acquire();
  store::Rows rows = connection->Query(sql, params);
  std::vector<Organization> orgs;
  orgs.reserve(rows.size());
  for (const auto& row : rows.rows) orgs.push_back(ReadOrganization(row));
  return orgs;
}

// ---- users -----------------------------------------------------------------------------------

namespace {

std::optional<IdentityError> CheckUserFields(const std::string& display_name,
                                             const std::string& email, const std::string& locale,
                                             const std::string& time_zone) {
  if (auto error = CheckName(display_name, "display_name", 200)) return error;
  if (!email.empty() && !IsLightEmail(email)) {
    return Invalid("email is not an e-mail address", "email");
  }
  if (!IsValidLocale(locale)) return Invalid("locale must be one of: en, ja", "locale");
  if (!IsValidTimeZone(time_zone)) {
    return Invalid("time_zone must be an IANA time zone name such as Asia/Tokyo", "time_zone");
  }
  return std::nullopt;
}

// Inserts a user whose fields were validated; the caller holds the transaction.
void InsertUser(store::Connection& connection, const Principal& actor, const User& user,
                const std::string& password_hash) {
  connection.Execute(
      "INSERT INTO users (id, username, display_name, email, org_id, roles, password_hash, "
      "locale, time_zone, disabled, created_at, updated_at, password_changed_at) "
      "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 0, $10, $10, $11)",
      {Param{user.id}, Param{user.username}, Param{user.display_name},
       user.email.empty() ? Param{nullptr} : Param{user.email}, Param{user.org_id},
       Param{RolesText(user.roles)},
       password_hash.empty() ? Param{nullptr} : Param{password_hash}, Param{user.locale},
       Param{user.time_zone}, Param{user.created_at},
       password_hash.empty() ? Param{nullptr} : Param{user.created_at}});
  AuditEntry entry = EntryFor(actor, "user.create", "user", user.id);
  JsonValue detail = JsonValue::MakeObject();
  detail.Set("username", JsonValue(user.username));
  detail.Set("org_id", JsonValue(user.org_id));
  detail.Set("roles", RoleArray(user.roles));
  entry.detail = Detail(detail);
  AuditLog::Append(connection, entry, user.created_at);
}

}  // namespace

IdentityResult<User> CreateUser(store::Database& database, const Principal& actor,
                                const NewUser& input) {
  if (!IsValidUsername(input.username)) {
    return tl::unexpected(Invalid(
        "username must be 3 to 64 characters of lower-case letters, digits, '.', '_' and '-'",
        "username"));
  }
  User user;
  user.id = NewId();
  user.username = input.username;
  user.display_name = input.display_name.empty() ? input.username : input.display_name;
  user.email = input.email;
  user.org_id = input.org_id;
  user.roles = Deduplicated(input.roles);
  user.locale = input.locale;
  user.time_zone = input.time_zone;
  if (auto error = CheckUserFields(user.display_name, user.email, user.locale, user.time_zone)) {
    return tl::unexpected(*error);
  }
  std::string hash;
  if (!input.password.empty()) {
    if (auto strength = CheckPasswordStrength(input.password); !strength) {
      return tl::unexpected(Invalid(strength.error().message, "password"));
    }
  }
  {
    // Validate against the organisation before spending time on the hash.
    std::optional<Organization> org = GetOrganization(database, user.org_id);
    if (!org) return tl::unexpected(Invalid("no organisation has this id", "org_id"));
    if (auto error = CheckRoles(org->type, user.roles)) return tl::unexpected(*error);
  }
  if (!input.password.empty()) {
    auto hashed = HashPassword(input.password);
    if (!hashed) throw store::DatabaseError(hashed.error().message);
    hash = std::move(*hashed);
  }
  user.has_password = !hash.empty();
  user.created_at = user.updated_at = NowMs();
  user.password_changed_at = hash.empty() ? 0 : user.created_at;
  try {
    return database.Transact([&](store::Connection& connection) -> IdentityResult<User> {
      std::optional<Organization> org = LoadOrganization(connection, user.org_id);
      if (!org) return tl::unexpected(Invalid("no organisation has this id", "org_id"));
      if (auto error = CheckRoles(org->type, user.roles)) return tl::unexpected(*error);
      if (!connection.Query("SELECT 1 FROM users WHERE username = $1", {Param{user.username}})
               .empty()) {
        return tl::unexpected(Conflict("this user name is taken", "username"));
      }
      InsertUser(connection, actor, user, hash);
      return user;
    });
  } catch (const store::DatabaseError& error) {
    if (IsUniqueViolation(error)) {
      return tl::unexpected(Conflict("this user name is taken", "username"));
    }
    throw;
  }
}

IdentityResult<User> UpdateUser(store::Database& database, const Principal& actor,
                                std::string_view id, const UserPatch& patch) {
  int64_t now = NowMs();
  return database.Transact([&](store::Connection& connection) -> IdentityResult<User> {
    std::optional<StoredUser> stored = LoadUser(connection, "id", id);
    if (!stored) return tl::unexpected(NotFound("user not found"));
    User user = stored->user;
    std::optional<Organization> org = LoadOrganization(connection, user.org_id);
    if (!org) return tl::unexpected(NotFound("user not found"));
    bool was_admin = org->type == OrgType::kCentre && !user.disabled &&
                     std::find(user.roles.begin(), user.roles.end(), Role::kCentreAdmin) !=
                         user.roles.end();
    JsonValue changed = JsonValue::MakeArray();
    JsonValue detail = JsonValue::MakeObject();
    if (patch.display_name && *patch.display_name != user.display_name) {
      user.display_name = *patch.display_name;
      changed.Push(JsonValue("display_name"));
    }
    if (patch.email && *patch.email != user.email) {
      user.email = *patch.email;
      changed.Push(JsonValue("email"));
    }
    if (patch.locale && *patch.locale != user.locale) {
      user.locale = *patch.locale;
      changed.Push(JsonValue("locale"));
    }
    if (patch.time_zone && *patch.time_zone != user.time_zone) {
      user.time_zone = *patch.time_zone;
      changed.Push(JsonValue("time_zone"));
    }
    if (patch.roles) {
      std::vector<Role> roles = Deduplicated(*patch.roles);
      if (auto error = CheckRoles(org->type, roles)) return tl::unexpected(*error);
      if (roles != Deduplicated(user.roles)) {
        detail.Set("roles_before", RoleArray(user.roles));
        detail.Set("roles", RoleArray(roles));
        user.roles = roles;
        changed.Push(JsonValue("roles"));
      }
    }
    bool disabling = false;
    if (patch.disabled && *patch.disabled != user.disabled) {
      user.disabled = *patch.disabled;
      disabling = user.disabled;
      detail.Set("disabled", JsonValue(user.disabled));
      changed.Push(JsonValue("disabled"));
    }
    if (auto error = CheckUserFields(user.display_name, user.email, user.locale, user.time_zone)) {
      return tl::unexpected(*error);
    }
    if (changed.as_array().empty()) return user;
    bool still_admin = !user.disabled && std::find(user.roles.begin(), user.roles.end(),
                                                   Role::kCentreAdmin) != user.roles.end();
    if (was_admin && !still_admin && CountCentreAdmins(connection) <= 1) {
      return tl::unexpected(Conflict("the centre must keep at least one enabled centre_admin",
                                     patch.disabled && user.disabled ? "disabled" : "roles"));
    }
    user.updated_at = std::max(now, user.updated_at);
    connection.Execute(
        "UPDATE users SET display_name = $2, email = $3, roles = $4, disabled = $5, locale = $6, "
        "time_zone = $7, updated_at = $8 WHERE id = $1",
        {Param{user.id}, Param{user.display_name},
         user.email.empty() ? Param{nullptr} : Param{user.email}, Param{RolesText(user.roles)},
         Param{int64_t{user.disabled ? 1 : 0}}, Param{user.locale}, Param{user.time_zone},
         Param{user.updated_at}});
    if (disabling) {
      connection.Execute("DELETE FROM sessions WHERE user_id = $1", {Param{user.id}});
    }
    detail.Set("changed", std::move(changed));
    AuditEntry entry = EntryFor(actor, "user.update", "user", user.id);
    entry.detail = Detail(detail);
    AuditLog::Append(connection, entry, now);
    return user;
  });
}

std::optional<User> GetUser(store::Database& database, std::string_view id) {
  auto connection = database.Acquire();
  auto stored = LoadUser(*connection, "id", id);
  if (!stored) return std::nullopt;
  return stored->user;
}

std::optional<User> FindUserByName(store::Database& database, std::string_view username) {
  auto connection = database.Acquire();
  auto stored = LoadUser(*connection, "username", username);
  if (!stored) return std::nullopt;
  return stored->user;
}

std::vector<User> ListUsers(store::Database& database, const UserQuery& query) {
  std::string sql = "SELECT " + std::string(USER_COLUMNS) + " FROM users WHERE 1 = 1";
  std::vector<Param> params;
  if (query.org_id) {
    params.emplace_back(*query.org_id);
    sql += " AND org_id = $" + std::to_string(params.size());
  }
  if (query.user_id) {
    params.emplace_back(*query.user_id);
    sql += " AND id = $" + std::to_string(params.size());
  }
  if (query.after) {
    sql += KeysetCondition("", KeysetOrder::kOldestFirst, query.after->first, query.after->second,
                           params);
  }
  sql += " ORDER BY created_at, id LIMIT " + std::to_string(std::max(1, query.limit));
  auto connection = database.Acquire();
  store::Rows rows = connection->Query(sql, params);
  std::vector<User> users;
  users.reserve(rows.size());
  for (const auto& row : rows.rows) users.push_back(ReadUser(row).user);
  return users;
}

std::vector<UserName> UserNames(store::Database& database, const Principal& viewer,
                                const std::vector<std::string>& ids) {
  std::vector<std::string> wanted(ids);
  std::sort(wanted.begin(), wanted.end());
  wanted.erase(std::unique(wanted.begin(), wanted.end()), wanted.end());
  std::vector<UserName> names;
  if (wanted.empty()) return names;
  std::vector<Param> params;
  std::string sql =
      "SELECT u.id, u.display_name, o.id, o.name FROM users u "
      "JOIN organizations o ON o.id = u.org_id WHERE u.id IN (";
  for (const auto& id : wanted) {
    params.emplace_back(id);
    if (params.size() > 1) sql += ", ";
    sql += "$" + std::to_string(params.size());
  }
  sql += ")";
  if (!viewer.IsCentreStaff()) {
    params.emplace_back(viewer.org_id);
    sql += " AND (u.org_id = $" + std::to_string(params.size());
    params.emplace_back(std::string(ToString(OrgType::kCentre)));
    sql += " OR o.type = $" + std::to_string(params.size()) + ")";
  }
  sql += " ORDER BY u.id";
  auto connection = database.Acquire();
  store::Rows rows = connection->Query(sql, params);
  names.reserve(rows.size());
  for (const auto& row : rows.rows) {
    names.push_back({row[0].text(), row[1].text(), row[2].text(),
                     row[3].text()});
  }
  return names;
}

namespace {

// Writes a new password hash, ends the user's other sessions and records it.
void StorePassword(store::Connection& connection, const Principal& actor,
                   std::string_view user_id, const std::string& hash,
                   std::string_view keep_session_id, int64_t now) {
  connection.Execute(
      "UPDATE users SET password_hash = $2, password_changed_at = $3, updated_at = $3 "
      "WHERE id = $1",
      {Param{std::string(user_id)}, Param{hash}, Param{now}});
  connection.Execute("DELETE FROM sessions WHERE user_id = $1 AND id <> $2",
                     {Param{std::string(user_id)}, Param{std::string(keep_session_id)}});
  AuditLog::Append(connection, EntryFor(actor, "user.password", "user", std::string(user_id)),
                   now);
}

}  // namespace

IdentityResult<void> SetPassword(store::Database& database, const Principal& actor,
                                 std::string_view user_id, std::string_view new_password,
                                 std::string_view keep_session_id) {
  if (auto strength = CheckPasswordStrength(new_password); !strength) {
    return tl::unexpected(Invalid(strength.error().message, "password"));
  }
  if (!GetUser(database, user_id)) return tl::unexpected(NotFound("user not found"));
  auto hashed = HashPassword(new_password);
  if (!hashed) throw store::DatabaseError(hashed.error().message);
  int64_t now = NowMs();
  return database.Transact([&](store::Connection& connection) -> IdentityResult<void> {
    if (!LoadUser(connection, "id", user_id)) return tl::unexpected(NotFound("user not found"));
    StorePassword(connection, actor, user_id, *hashed, keep_session_id, now);
    return {};
  });
}

IdentityResult<void> ChangeOwnPassword(store::Database& database, const IdentitySettings& settings,
                                       const Principal& actor, std::string_view current_password,
                                       std::string_view new_password, int64_t now_ms) {
  std::optional<StoredUser> stored;
  int64_t locked_until = 0;
  {
    auto connection = database.Acquire();
    stored = LoadUser(*connection, "id", actor.user_id);
    if (stored) locked_until = LockedUntil(*connection, UserKey(stored->user.username));
  }
  if (!stored) return tl::unexpected(NotFound("user not found"));
  if (locked_until > now_ms) {
    return tl::unexpected(IdentityError{IdentityErrorKind::kLocked,
                                        "too many failed attempts; try again later", {},
                                        RetryAfterSeconds(locked_until, now_ms)});
  }
  if (!VerifyPassword(stored->password_hash, current_password)) {
    bool locked = database.Transact([&](store::Connection& connection) {
      bool now_locked = CountFailure(connection, settings, UserKey(stored->user.username), now_ms);
      AuditEntry entry = EntryFor(actor, "user.password", "user", actor.user_id);
      entry.outcome = "failed";
      entry.detail = R"({"reason":"wrong current password"})";
      AuditLog::Append(connection, entry, now_ms);
      return now_locked;
    });
    if (locked) {
      return tl::unexpected(IdentityError{IdentityErrorKind::kLocked,
                                          "too many failed attempts; try again later", {},
                                          RetryAfterSeconds(now_ms + settings.login_lockout_ms,
                                                            now_ms)});
    }
    IdentityError error = BadCredentials();
    error.message = "the current password is not correct";
    error.field = "current_password";
    return tl::unexpected(error);
  }
  if (auto strength = CheckPasswordStrength(new_password); !strength) {
    return tl::unexpected(Invalid(strength.error().message, "new_password"));
  }
  auto hashed = HashPassword(new_password);
  if (!hashed) throw store::DatabaseError(hashed.error().message);
  database.Transact([&](store::Connection& connection) {
    StorePassword(connection, actor, actor.user_id, *hashed, actor.session_id, now_ms);
  });
  return {};
}

// ---- bootstrap -------------------------------------------------------------------------------

IdentityResult<BootstrapResult> BootstrapCentre(store::Database& database,
                                                std::string_view username,
                                                std::string_view password,
                                                std::string_view centre_name) {
  auto existing_admin = [](store::Connection& connection) -> std::optional<BootstrapResult> {
    store::Rows rows = connection.Query(
        "SELECT u.username, u.id, o.id FROM users u JOIN organizations o ON o.id = u.org_id "
        "WHERE o.type = 'centre' AND (',' || u.roles || ',') LIKE '%,centre_admin,%' "
        "ORDER BY u.created_at, u.id LIMIT 1");
    if (rows.empty()) return std::nullopt;
    BootstrapResult result;
    result.username = rows.rows[0][0].text();
    result.user_id = rows.rows[0][1].text();
    result.org_id = rows.rows[0][2].text();
    return result;
  };
  {
    auto connection = database.Acquire();
    if (auto found = existing_admin(*connection)) return *found;
  }
  if (!IsValidUsername(username)) {
    return tl::unexpected(Invalid(
        "the administrator's user name must be 3 to 64 characters of lower-case letters, "
        "digits, '.', '_' and '-'",
        "username"));
  }
  BootstrapResult result;
  std::string secret(password);
  if (secret.empty()) {
    secret = RandomToken(18);  // 24 characters, 144 bits
    result.generated_password = secret;
  }
  if (auto strength = CheckPasswordStrength(secret); !strength) {
    return tl::unexpected(Invalid(strength.error().message, "password"));
  }
  auto hashed = HashPassword(secret);
  if (!hashed) throw store::DatabaseError(hashed.error().message);
  Principal system = SystemPrincipal();
  int64_t now = NowMs();
  return database.Transact([&](store::Connection& connection) -> IdentityResult<BootstrapResult> {
    if (auto found = existing_admin(connection)) return *found;  // another run won the race
    store::Rows centre = connection.Query("SELECT id FROM organizations WHERE type = 'centre'");
    if (centre.empty()) {
      result.org_id = NewId();
      connection.Execute(
          "INSERT INTO organizations (id, name, type, created_at, updated_at) "
          "VALUES ($1, $2, 'centre', $3, $3)",
          {Param{result.org_id}, Param{std::string(centre_name)}, Param{now}});
      AuditEntry entry = EntryFor(system, "organization.create", "organization", result.org_id);
      JsonValue detail = JsonValue::MakeObject();
      detail.Set("name", JsonValue(centre_name));
      detail.Set("type", JsonValue("centre"));
      detail.Set("bootstrap", JsonValue(true));
      entry.detail = Detail(detail);
      AuditLog::Append(connection, entry, now);
    } else {
      result.org_id = centre.rows[0][0].text();
    }
    if (!connection.Query("SELECT 1 FROM users WHERE username = $1", {Param{std::string(username)}})
             .empty()) {
      return tl::unexpected(
          Conflict("a user with this name exists but is not a centre administrator", "username"));
    }
    User admin;
    admin.id = NewId();
    admin.username = std::string(username);
    admin.display_name = std::string(username);
    admin.org_id = result.org_id;
    admin.roles = {Role::kCentreAdmin};
    admin.created_at = admin.updated_at = now;
    InsertUser(connection, system, admin, *hashed);
    result.created = true;
    result.username = admin.username;
    result.user_id = admin.id;
    return result;
  });
}

// ---- sessions --------------------------------------------------------------------------------

IdentityResult<Session> Login(store::Database& database, const IdentitySettings& settings,
                              std::string_view username_input, std::string_view password,
                              std::string_view remote_address, int64_t now_ms) {
  std::string username = LowerAscii(username_input.substr(0, 256));
  std::string user_key = UserKey(username);
  std::string address_key = remote_address.empty() ? std::string() : AddressKey(remote_address);

  std::optional<StoredUser> stored;
  int64_t locked_until = 0;
  {
    auto connection = database.Acquire();
    locked_until = LockedUntil(*connection, user_key);
    if (!address_key.empty()) {
      locked_until = std::max(locked_until, LockedUntil(*connection, address_key));
    }
    if (IsValidUsername(username)) stored = LoadUser(*connection, "username", username);
  }

  if (locked_until > now_ms) {
    // No verification at all while locked: the lockout must stop guessing, and unknown names
    // are locked the same way, so a fast answer reveals nothing.
    database.Transact([&](store::Connection& connection) {
      AuditLog::Append(connection, LoginEntry(username, remote_address, stored, "locked", "locked"),
                       now_ms);
    });
    return tl::unexpected(IdentityError{IdentityErrorKind::kLocked,
                                        "too many failed logins; try again later", {},
                                        RetryAfterSeconds(locked_until, now_ms)});
  }

  bool verified = false;
  if (stored && !stored->password_hash.empty()) {
    verified = VerifyPassword(stored->password_hash, password);
  } else {
    DummyPasswordVerification(password);
  }

  if (!verified) {
    bool locked = database.Transact([&](store::Connection& connection) {
      bool now_locked = CountFailure(connection, settings, user_key, now_ms);
      if (!address_key.empty()) {
        now_locked = CountFailure(connection, settings, address_key, now_ms) || now_locked;
      }
      AuditLog::Append(connection,
                       LoginEntry(username, remote_address, stored, "failed",
                                  now_locked ? "bad credentials; now locked" : "bad credentials"),
                       now_ms);
      return now_locked;
    });
    if (locked) {
      return tl::unexpected(IdentityError{IdentityErrorKind::kLocked,
                                          "too many failed logins; try again later", {},
                                          RetryAfterSeconds(now_ms + settings.login_lockout_ms,
                                                            now_ms)});
    }
    return tl::unexpected(BadCredentials());
  }

  if (stored->user.disabled) {
    database.Transact([&](store::Connection& connection) {
      AuditLog::Append(connection,
                       LoginEntry(username, remote_address, stored, "failed", "disabled"), now_ms);
    });
    return tl::unexpected(
        IdentityError{IdentityErrorKind::kDisabled, "this account is disabled", {}, 0});
  }

  // Hashes written with an older cost are upgraded now that the password is known.
  std::string rehashed;
  if (PasswordNeedsRehash(stored->password_hash)) {
    if (auto hashed = HashPassword(password)) rehashed = std::move(*hashed);
  }

  Session session;
  session.token = RandomToken(32);
  session.id = Sha256Hex(session.token);
  session.csrf_token = RandomToken(32);
  session.created_at = now_ms;
  session.expires_at = now_ms + settings.session_ttl_ms;
  session.user = stored->user;
  database.Transact([&](store::Connection& connection) {
    connection.Execute("DELETE FROM login_throttle WHERE key = $1", {Param{user_key}});
    // The user's own stale sessions go now, so the table does not grow with every login.
    connection.Execute(
        "DELETE FROM sessions WHERE user_id = $1 AND (expires_at <= $2 OR last_seen_at + $3 <= $2)",
        {Param{stored->user.id}, Param{now_ms}, Param{settings.session_idle_ms}});
    connection.Execute(
        "INSERT INTO sessions (id, user_id, csrf_token, created_at, expires_at, last_seen_at, "
        "remote_address) VALUES ($1, $2, $3, $4, $5, $4, $6)",
        {Param{session.id}, Param{stored->user.id}, Param{session.csrf_token}, Param{now_ms},
         Param{session.expires_at}, Param{std::string(remote_address)}});
    if (!rehashed.empty()) {
      connection.Execute("UPDATE users SET password_hash = $2 WHERE id = $1",
                         {Param{stored->user.id}, Param{rehashed}});
    }
    AuditEntry entry;
    entry.actor_id = stored->user.id;
    entry.actor_org_id = stored->user.org_id;
    entry.action = "auth.login";
    entry.object_type = "session";
    entry.object_id = session.id;
    entry.remote_address = std::string(remote_address);
    entry.outcome = "ok";
    JsonValue detail = JsonValue::MakeObject();
    detail.Set("username", JsonValue(stored->user.username));
    entry.detail = Detail(detail);
    AuditLog::Append(connection, entry, now_ms);
  });
  return session;
}

void Logout(store::Database& database, const Principal& actor, std::string_view session_id) {
  database.Transact([&](store::Connection& connection) {
    connection.Execute("DELETE FROM sessions WHERE id = $1", {Param{std::string(session_id)}});
    AuditLog::Append(connection,
                     EntryFor(actor, "auth.logout", "session", std::string(session_id)));
  });
}

std::optional<Principal> AuthenticateSession(store::Database& database,
                                             const IdentitySettings& settings,
                                             std::string_view token, int64_t now_ms) {
  if (token.empty() || token.size() > MAX_CREDENTIAL_BYTES) return std::nullopt;
  std::string id = Sha256Hex(token);
  auto connection = database.Acquire();
  store::Rows rows = connection->Query(
      "SELECT s.csrf_token, s.expires_at, s.last_seen_at, u.id, u.username, u.org_id, u.roles, "
      "u.disabled, o.type, o.sector FROM sessions s JOIN users u ON u.id = s.user_id "
      "JOIN organizations o ON o.id = u.org_id WHERE s.id = $1",
      {Param{id}});
  if (rows.empty()) return std::nullopt;
  const auto& row = rows.rows[0];
  int64_t expires_at = row[1].as_int();
  int64_t last_seen_at = row[2].as_int();
  if (expires_at <= now_ms || last_seen_at + settings.session_idle_ms <= now_ms) {
    connection->Execute("DELETE FROM sessions WHERE id = $1", {Param{id}});
    return std::nullopt;
  }
  PrincipalRow principal_row{row[3].text(), row[4].text(), row[5].text(),
                             row[6].text(), row[8].text(), row[9].text(), row[7].as_bool()};
  std::optional<Principal> principal = MakePrincipal(principal_row);
  if (!principal) return std::nullopt;
  principal->method = AuthMethod::kSession;
  principal->session_id = id;
  principal->csrf_token = row[0].text();
  int64_t touch_interval = std::min(TOUCH_INTERVAL_MS, settings.session_idle_ms / 10);
  if (now_ms - last_seen_at >= touch_interval) {
    connection->Execute("UPDATE sessions SET last_seen_at = $2 WHERE id = $1 AND last_seen_at < $2",
                        {Param{id}, Param{now_ms}});
  }
  return principal;
}

// ---- API tokens ------------------------------------------------------------------------------

IdentityResult<CreatedApiToken> CreateToken(store::Database& database, const Principal& actor,
                                            std::string_view user_id, std::string_view name,
                                            const std::vector<std::string>& scopes_input,
                                            std::optional<int64_t> expires_at, int64_t now_ms) {
  if (auto error = CheckName(name, "name", 100)) return tl::unexpected(*error);
  if (scopes_input.empty()) return tl::unexpected(Invalid("a token needs a scope", "scopes"));
  std::vector<std::string> scopes;
  for (std::string_view scope : {"read", "write", "admin"}) {
    bool wanted = false;
    for (const auto& given : scopes_input) {
      if (!IsTokenScope(given)) {
        return tl::unexpected(Invalid("scopes must be read, write or admin", "scopes"));
      }
      wanted = wanted || given == scope;
    }
    if (wanted) scopes.emplace_back(scope);
  }
  if (expires_at && *expires_at <= now_ms) {
    return tl::unexpected(Invalid("expires_at must be in the future", "expires_at"));
  }
  CreatedApiToken created;
  created.secret = std::string(API_TOKEN_PREFIX) + RandomToken(32);
  ApiToken& token = created.token;
  token.id = NewId();
  token.user_id = std::string(user_id);
  token.name = std::string(name);
  token.scopes = scopes;
  token.created_at = now_ms;
  token.expires_at = expires_at.value_or(0);
  return database.Transact([&](store::Connection& connection) -> IdentityResult<CreatedApiToken> {
    std::optional<StoredUser> user = LoadUser(connection, "id", user_id);
    if (!user) return tl::unexpected(NotFound("user not found"));
    if (user->user.disabled) return tl::unexpected(Invalid("the user is disabled", "user_id"));
    connection.Execute(
        "INSERT INTO api_tokens (id, user_id, name, token_hash, scopes, created_at, expires_at) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7)",
        {Param{token.id}, Param{token.user_id}, Param{token.name},
         Param{Sha256Hex(created.secret)}, Param{ScopesText(token.scopes)}, Param{now_ms},
         expires_at ? Param{*expires_at} : Param{nullptr}});
    AuditEntry entry = EntryFor(actor, "token.create", "api_token", token.id);
    JsonValue detail = JsonValue::MakeObject();
    detail.Set("user_id", JsonValue(token.user_id));
    detail.Set("name", JsonValue(token.name));
    detail.Set("scopes", JsonValue(ScopesText(token.scopes)));
    entry.detail = Detail(detail);
    AuditLog::Append(connection, entry, now_ms);
    return created;
  });
}

std::optional<ApiToken> GetToken(store::Database& database, std::string_view id) {
  auto connection = database.Acquire();
  store::Rows rows = connection->Query(
      "SELECT " + std::string(TOKEN_COLUMNS) + " FROM api_tokens WHERE id = $1",
      {Param{std::string(id)}});
  if (rows.empty()) return std::nullopt;
  return ReadToken(rows.rows[0]);
}

std::vector<ApiToken> ListTokens(store::Database& database, std::string_view user_id) {
  auto connection = database.Acquire();
  store::Rows rows = connection->Query("SELECT " + std::string(TOKEN_COLUMNS) +
                                           " FROM api_tokens WHERE user_id = $1 "
                                           "ORDER BY created_at, id",
                                       {Param{std::string(user_id)}});
  std::vector<ApiToken> tokens;
  for (const auto& row : rows.rows) tokens.push_back(ReadToken(row));
  return tokens;
}

IdentityResult<ApiToken> RevokeToken(store::Database& database, const Principal& actor,
                                     std::string_view id, int64_t now_ms) {
  return database.Transact([&](store::Connection& connection) -> IdentityResult<ApiToken> {
    store::Rows rows = connection.Query(
        "UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1 RETURNING " +
            std::string(TOKEN_COLUMNS),
        {Param{std::string(id)}, Param{now_ms}});
    if (rows.empty()) return tl::unexpected(NotFound("token not found"));
    ApiToken token = ReadToken(rows.rows[0]);
    AuditEntry entry = EntryFor(actor, "token.revoke", "api_token", token.id);
    JsonValue detail = JsonValue::MakeObject();
    detail.Set("user_id", JsonValue(token.user_id));
    entry.detail = Detail(detail);
    AuditLog::Append(connection, entry, now_ms);
    return token;
  });
}

std::optional<Principal> AuthenticateToken(store::Database& database, std::string_view secret,
                                           int64_t now_ms) {
  if (!secret.starts_with(API_TOKEN_PREFIX) || secret.size() > MAX_CREDENTIAL_BYTES) {
    return std::nullopt;
  }
  auto connection = database.Acquire();
  store::Rows rows = connection->Query(
      "SELECT t.id, t.scopes, t.expires_at, t.revoked_at, t.last_used_at, u.id, u.username, "
      "u.org_id, u.roles, u.disabled, o.type, o.sector FROM api_tokens t "
      "JOIN users u ON u.id = t.user_id JOIN organizations o ON o.id = u.org_id "
      "WHERE t.token_hash = $1",
      {Param{Sha256Hex(secret)}});
  if (rows.empty()) return std::nullopt;
  const auto& row = rows.rows[0];
  if (!row[3].is_null()) return std::nullopt;                                  // revoked
  if (!row[2].is_null() && row[2].as_int() <= now_ms) return std::nullopt;     // expired
  PrincipalRow principal_row{row[5].text(), row[6].text(),  row[7].text(),
                             row[8].text(), row[10].text(), row[11].text(), row[9].as_bool()};
  std::optional<Principal> principal = MakePrincipal(principal_row);
  if (!principal) return std::nullopt;
  principal->method = AuthMethod::kApiToken;
  principal->scopes = ParseScopesText(row[1].text());
  if (row[4].is_null() || now_ms - row[4].as_int() >= TOUCH_INTERVAL_MS) {
    connection->Execute("UPDATE api_tokens SET last_used_at = $2 WHERE id = $1",
                        {Param{row[0].text()}, Param{now_ms}});
  }
  return principal;
}

int64_t PurgeExpired(store::Database& database, const IdentitySettings& settings, int64_t now_ms) {
  return database.Transact([&](store::Connection& connection) {
    int64_t removed = connection.Execute(
        "DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at + $2 <= $1",
        {Param{now_ms}, Param{settings.session_idle_ms}});
    removed += connection.Execute(
        "DELETE FROM login_throttle WHERE locked_until <= $1 AND first_failure_at + $2 <= $1",
        {Param{now_ms}, Param{settings.login_window_ms}});
    return removed;
  });
}

}  // namespace yagura::hub

// Identity routes: login, logout and the caller's own account under /api/v1/auth, and the
// organisations, users and API tokens resources; plus Authenticate, which every Authed route
// uses to find its principal.
//
// The handlers validate bodies with Fields, ask hub/policy.hpp who may do what
// (can::ManageOrganizations, can::ManageUsersOf, can::GrantRole) and leave the data rules
// (which roles an organisation type allows, sectors, unique names) and the transactions with
// their audit entries to hub/identity.hpp.
//
// Visibility: a user record is visible to its owner and to whoever may manage users of its
// organisation; an organisation to its members and to the centre's staff. Anything else
// answers 404, so ids of other organisations' people cannot be probed. Names alone (GET
// /users/names) reach further: the caller's organisation and the centre's staff, everyone for
// the centre; ids outside that are left out of the answer exactly like unknown ones.
//
// The session cookie is HttpOnly (scripts cannot read it) and SameSite=Strict (other sites
// cannot make the browser send it); the CSRF token in the login answer and in GET /auth/me is
// what the console echoes in X-CSRF-Token, checked by Authed for every state-changing request.
#include <fmt/format.h>

#include <algorithm>
#include <string>

#include "core/json_value.hpp"
#include "core/time.hpp"
#include "http/api.hpp"
#include "http/json_forms.hpp"
#include "hub/identity.hpp"
#include "hub/policy.hpp"

namespace yagura::http {
namespace {

constexpr std::string_view SESSION_COOKIE = "yagura_session";
constexpr std::string_view TAG = "identity";
constexpr size_t MAX_NAME_IDS = 100;

hub::IdentitySettings IdentitySettingsOf(const ServiceSettings& settings) {
  hub::IdentitySettings identity;
  identity.session_ttl_ms = settings.session_ttl_ms;
  identity.session_idle_ms = settings.session_idle_ms;
  identity.login_max_failures = settings.login_max_failures;
  identity.login_max_failures_per_address = settings.login_max_failures_per_address;
  identity.login_window_ms = settings.login_window_ms;
  identity.login_lockout_ms = settings.login_lockout_ms;
  return identity;
}

// ---- JSON forms ------------------------------------------------------------------------------

JsonValue TextOrNull(const std::string& text) {
  return text.empty() ? JsonValue() : JsonValue(text);
}
JsonValue TimeOrNull(int64_t ms) { return ms == 0 ? JsonValue() : JsonValue(FormatTimestampMs(ms)); }

JsonValue RolesJson(const std::vector<hub::Role>& roles) {
  JsonValue array = JsonValue::MakeArray();
  for (hub::Role role : roles) array.Push(JsonValue(hub::ToString(role)));
  return array;
}

JsonValue OrganizationJson(const hub::Organization& org) {
  JsonValue json = JsonValue::MakeObject();
  json.Set("id", JsonValue(org.id));
  json.Set("name", JsonValue(org.name));
  json.Set("name_ja", TextOrNull(org.name_ja));
  json.Set("type", JsonValue(hub::ToString(org.type)));
  json.Set("sector", TextOrNull(org.sector));
  json.Set("contact_email", TextOrNull(org.contact_email));
  json.Set("created_at", JsonValue(FormatTimestampMs(org.created_at)));
  json.Set("updated_at", JsonValue(FormatTimestampMs(org.updated_at)));
  return json;
}

JsonValue UserJson(const hub::User& user) {
  JsonValue json = JsonValue::MakeObject();
  json.Set("id", JsonValue(user.id));
  json.Set("username", JsonValue(user.username));
  json.Set("display_name", JsonValue(user.display_name));
  json.Set("email", TextOrNull(user.email));
  json.Set("org_id", JsonValue(user.org_id));
  json.Set("roles", RolesJson(user.roles));
  json.Set("locale", JsonValue(user.locale));
  json.Set("time_zone", JsonValue(user.time_zone));
  json.Set("disabled", JsonValue(user.disabled));
  json.Set("has_password", JsonValue(user.has_password));
  json.Set("password_changed_at", TimeOrNull(user.password_changed_at));
  json.Set("created_at", JsonValue(FormatTimestampMs(user.created_at)));
  json.Set("updated_at", JsonValue(FormatTimestampMs(user.updated_at)));
  return json;
}

JsonValue TokenJson(const hub::ApiToken& token, int64_t now) {
  JsonValue json = JsonValue::MakeObject();
  json.Set("id", JsonValue(token.id));
  json.Set("user_id", JsonValue(token.user_id));
  json.Set("name", JsonValue(token.name));
  JsonValue scopes = JsonValue::MakeArray();
  for (const auto& scope : token.scopes) scopes.Push(JsonValue(scope));
  json.Set("scopes", std::move(scopes));
  std::string_view status = token.revoked_at != 0                                ? "revoked"
                            : token.expires_at != 0 && token.expires_at <= now ? "expired"
                                                                               : "active";
  json.Set("status", JsonValue(status));
  json.Set("created_at", JsonValue(FormatTimestampMs(token.created_at)));
  json.Set("expires_at", TimeOrNull(token.expires_at));
  json.Set("revoked_at", TimeOrNull(token.revoked_at));
  json.Set("last_used_at", TimeOrNull(token.last_used_at));
  return json;
}

// ---- errors ----------------------------------------------------------------------------------

[[noreturn]] void Throw(const hub::IdentityError& error, std::string_view what = "resource") {
  switch (error.kind) {
    case hub::IdentityErrorKind::kInvalid:
      throw ApiError(400, "invalid_request", error.message, error.field);
    case hub::IdentityErrorKind::kConflict:
      throw ApiError(409, "conflict", error.message, error.field);
    case hub::IdentityErrorKind::kNotFound:
      ThrowNotFound(what);
    case hub::IdentityErrorKind::kBadCredentials:
      throw ApiError(401, "invalid_credentials", error.message, error.field);
    case hub::IdentityErrorKind::kDisabled:
      throw ApiError(403, "account_disabled", error.message);
    case hub::IdentityErrorKind::kLocked:
      break;  // answered by LockedResponse, which sets Retry-After
  }
  throw ApiError(429, "too_many_attempts", error.message);
}

Response LockedResponse(const hub::IdentityError& error) {
  Response response = Response::Error(429, "too_many_attempts", error.message);
  response.headers.Set("Retry-After", std::to_string(std::max<int64_t>(1, error.retry_after_s)));
  return response;
}

// ---- cookies ---------------------------------------------------------------------------------

std::string SessionCookie(const ServiceSettings& settings, std::string_view value,
                          int64_t max_age_s) {
  std::string cookie = fmt::format("{}={}; Path=/; Max-Age={}; HttpOnly; SameSite=Strict",
                                   SESSION_COOKIE, value, max_age_s);
  if (settings.secure_cookies) cookie += "; Secure";
  return cookie;
}

// ---- visibility, decided by the policy's write rules -----------------------------------------

// Whoever may manage users of every organisation (can::ManageUsersOf for an organisation that
// is not their own) sees every user; nobody's own organisation id is empty.
bool ManagesEveryOrganization(const hub::Principal& p) { return hub::can::ManageUsersOf(p, ""); }

bool CanSeeUser(const hub::Principal& p, const hub::User& user) {
  return user.id == p.user_id || hub::can::ManageUsersOf(p, user.org_id);
}

bool CanSeeOrganization(const hub::Principal& p, std::string_view org_id) {
  return p.IsCentreStaff() || p.org_id == org_id;
}

std::vector<hub::Role> ParseRoles(const std::vector<std::string>& names) {
  std::vector<hub::Role> roles;
  for (size_t i = 0; i < names.size(); ++i) {
    auto role = hub::ParseRole(names[i]);
    if (!role) {
      std::string field = fmt::format("roles[{}]", i);
      std::string allowed;
      for (auto name : hub::RoleNames()) allowed += (allowed.empty() ? "" : ", ") + std::string(name);
      ThrowBadRequest(fmt::format("{} must be one of: {}", field, allowed), field);
    }
    roles.push_back(*role);
  }
  return roles;
}

std::optional<std::pair<int64_t, std::string>> AfterOf(const PageRequest& page) {
  if (page.cursor.empty()) return std::nullopt;
  return DecodeCursor(page.cursor);
}

void OptionalTimeZoneCheck(const std::optional<std::string>& zone) {
  if (zone && !hub::IsValidTimeZone(*zone)) {
    ThrowBadRequest("time_zone must be an IANA time zone name such as Asia/Tokyo", "time_zone");
  }
}

// ---- the caller ------------------------------------------------------------------------------

JsonValue MeJson(ApiContext& context, const hub::Principal& principal) {
  std::optional<hub::User> user = hub::GetUser(context.database, principal.user_id);
  if (!user) ThrowNotFound("user");
  std::optional<hub::Organization> org = hub::GetOrganization(context.database, user->org_id);
  JsonValue json = JsonValue::MakeObject();
  json.Set("user", UserJson(*user));
  json.Set("organization", org ? OrganizationJson(*org) : JsonValue());
  json.Set("roles", RolesJson(user->roles));
  json.Set("locale", JsonValue(user->locale));
  json.Set("time_zone", JsonValue(user->time_zone));
  json.Set("auth_method", JsonValue(principal.method == hub::AuthMethod::kSession ? "session"
                                                                                   : "api_token"));
  JsonValue scopes = JsonValue::MakeArray();
  for (const auto& scope : principal.scopes) scopes.Push(JsonValue(scope));
  json.Set("scopes", std::move(scopes));
  json.Set("csrf_token", TextOrNull(principal.csrf_token));
  return json;
}

Response NoStore(Response response) {
  response.headers.Set("Cache-Control", "no-store");
  return response;
}

// ---- schemas ---------------------------------------------------------------------------------

std::string EnumJson(std::span<const std::string_view> names) {
  std::string text = "[";
  for (auto name : names) {
    if (text.size() > 1) text += ',';
    text += '"';
    text += name;
    text += '"';
  }
  return text + "]";
}

void AddSchema(ApiContext& context, std::string_view name, std::string text) {
  auto replace = [&](std::string_view from, const std::string& to) {
    for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
      text.replace(at, from.size(), to);
    }
  };
  replace("@ORG_TYPES@", EnumJson(hub::OrgTypeNames()));
  replace("@ROLES@", EnumJson(hub::RoleNames()));
  replace("@SECTORS@", EnumJson(hub::SectorNames()));
  std::string sectors_or_null = EnumJson(hub::SectorNames());
  sectors_or_null.insert(sectors_or_null.size() - 1, ",null");
  replace("@SECTORS_NULL@", sectors_or_null);
  RegisterSchema(context, name, text);
}

void AddSchemas(ApiContext& context) {
  constexpr std::string_view TIME = R"({"type":"string","format":"date-time"})";
  auto time = std::string(TIME);
  auto nullable_time = R"({"type":["string","null"],"format":"date-time"})";
  AddSchema(context, "LoginRequest", R"({"type":"object","additionalProperties":false,
    "required":["username","password"],
    "properties":{"username":{"type":"string","minLength":1,"maxLength":256},
                  "password":{"type":"string","minLength":1,"maxLength":1024}}})");
  AddSchema(context, "LoginResponse", fmt::format(R"({{"type":"object",
    "required":["user","csrf_token","expires_at"],
    "properties":{{"user":{{"$ref":"#/components/schemas/User"}},
                  "csrf_token":{{"type":"string"}},"expires_at":{}}}}})",
                                                  time));
  AddSchema(context, "Organization", fmt::format(R"({{"type":"object",
    "required":["id","name","type","created_at","updated_at"],
    "properties":{{"id":{{"type":"string","format":"uuid"}},"name":{{"type":"string"}},
      "name_ja":{{"type":["string","null"]}},"type":{{"enum":@ORG_TYPES@}},
      "sector":{{"enum":@SECTORS_NULL@}},"contact_email":{{"type":["string","null"]}},
      "created_at":{0},"updated_at":{0}}}}})",
                                                 time));
  AddSchema(context, "OrganizationCreate", R"({"type":"object","additionalProperties":false,
    "required":["name","type"],
    "properties":{"name":{"type":"string","minLength":1,"maxLength":200},
      "name_ja":{"type":"string","maxLength":200},"type":{"enum":@ORG_TYPES@},
      "sector":{"enum":@SECTORS@,"description":"required for critical_infrastructure, absent otherwise"},
      "contact_email":{"type":"string","format":"email"}}})");
  AddSchema(context, "OrganizationUpdate", R"({"type":"object","additionalProperties":false,
    "properties":{"name":{"type":"string","minLength":1,"maxLength":200},
      "name_ja":{"type":"string","maxLength":200,"description":"empty clears"},
      "sector":{"enum":@SECTORS@},
      "contact_email":{"type":"string","maxLength":254,"description":"empty clears"}}})");
  AddSchema(context, "OrganizationList", R"({"type":"object","required":["items","next_cursor"],
    "properties":{"items":{"type":"array","items":{"$ref":"#/components/schemas/Organization"}},
      "next_cursor":{"type":["string","null"]}}})");
  AddSchema(context, "User", fmt::format(R"({{"type":"object",
    "required":["id","username","display_name","org_id","roles","locale","time_zone","disabled",
                "created_at","updated_at"],
    "properties":{{"id":{{"type":"string","format":"uuid"}},"username":{{"type":"string"}},
      "display_name":{{"type":"string"}},"email":{{"type":["string","null"]}},
      "org_id":{{"type":"string"}},"roles":{{"type":"array","items":{{"enum":@ROLES@}}}},
      "locale":{{"enum":["en","ja"]}},"time_zone":{{"type":"string"}},
      "disabled":{{"type":"boolean"}},"has_password":{{"type":"boolean"}},
      "password_changed_at":{1},"created_at":{0},"updated_at":{0}}}}})",
                                         time, nullable_time));
  AddSchema(context, "UserCreate", R"({"type":"object","additionalProperties":false,
    "required":["username","roles","password"],
    "properties":{"username":{"type":"string","pattern":"^[a-z0-9._-]{3,64}$"},
      "display_name":{"type":"string","maxLength":200},"email":{"type":"string","format":"email"},
      "org_id":{"type":"string","description":"defaults to the caller's organisation"},
      "roles":{"type":"array","minItems":1,"items":{"enum":@ROLES@}},
      "password":{"type":"string","minLength":12,"maxLength":1024},
      "locale":{"enum":["en","ja"]},"time_zone":{"type":"string","maxLength":64}}})");
  AddSchema(context, "UserUpdate", R"({"type":"object","additionalProperties":false,
    "properties":{"display_name":{"type":"string","minLength":1,"maxLength":200},
      "email":{"type":"string","maxLength":254,"description":"empty clears"},
      "roles":{"type":"array","minItems":1,"items":{"enum":@ROLES@}},
      "disabled":{"type":"boolean"},"locale":{"enum":["en","ja"]},
      "time_zone":{"type":"string","maxLength":64}}})");
  AddSchema(context, "UserList", R"({"type":"object","required":["items","next_cursor"],
    "properties":{"items":{"type":"array","items":{"$ref":"#/components/schemas/User"}},
      "next_cursor":{"type":["string","null"]}}})");
  AddSchema(context, "UserNameList", R"({"type":"object","required":["items"],
    "properties":{"items":{"type":"array","items":{"type":"object",
      "required":["id","display_name","organization_id","organization_name"],
      "properties":{"id":{"type":"string","format":"uuid"},"display_name":{"type":"string"},
        "organization_id":{"type":"string","format":"uuid"},
        "organization_name":{"type":"string"}}}}}})");
  AddSchema(context, "Me", R"({"type":"object",
    "required":["user","roles","locale","time_zone","auth_method"],
    "properties":{"user":{"$ref":"#/components/schemas/User"},
      "organization":{"$ref":"#/components/schemas/Organization"},
      "roles":{"type":"array","items":{"enum":@ROLES@}},"locale":{"enum":["en","ja"]},
      "time_zone":{"type":"string"},"auth_method":{"enum":["session","api_token"]},
      "scopes":{"type":"array","items":{"enum":["read","write","admin"]}},
      "csrf_token":{"type":["string","null"],"description":"send it as X-CSRF-Token"}}})");
  AddSchema(context, "MeUpdate", R"({"type":"object","additionalProperties":false,
    "properties":{"locale":{"enum":["en","ja"]},"time_zone":{"type":"string","maxLength":64},
      "display_name":{"type":"string","minLength":1,"maxLength":200}}})");
  AddSchema(context, "PasswordChange", R"({"type":"object","additionalProperties":false,
    "required":["current_password","new_password"],
    "properties":{"current_password":{"type":"string","minLength":1,"maxLength":1024},
      "new_password":{"type":"string","minLength":12,"maxLength":1024}}})");
  AddSchema(context, "ApiToken", fmt::format(R"({{"type":"object",
    "required":["id","user_id","name","scopes","status","created_at"],
    "properties":{{"id":{{"type":"string","format":"uuid"}},"user_id":{{"type":"string"}},
      "name":{{"type":"string"}},"scopes":{{"type":"array","items":{{"enum":["read","write","admin"]}}}},
      "status":{{"enum":["active","revoked","expired"]}},"created_at":{0},
      "expires_at":{1},"revoked_at":{1},"last_used_at":{1}}}}})",
                                             time, nullable_time));
  AddSchema(context, "ApiTokenCreate", R"({"type":"object","additionalProperties":false,
    "required":["name","scopes"],
    "properties":{"name":{"type":"string","minLength":1,"maxLength":100},
      "scopes":{"type":"array","minItems":1,"items":{"enum":["read","write","admin"]}},
      "expires_at":{"type":"string","format":"date-time"}}})");
  AddSchema(context, "ApiTokenCreated", R"({"allOf":[{"$ref":"#/components/schemas/ApiToken"},
    {"type":"object","required":["token"],
     "properties":{"token":{"type":"string","description":"shown once; send as Authorization: Bearer"}}}]})");
  AddSchema(context, "ApiTokenList", R"({"type":"object","required":["items","next_cursor"],
    "properties":{"items":{"type":"array","items":{"$ref":"#/components/schemas/ApiToken"}},
      "next_cursor":{"type":["string","null"]}}})");
}

RouteDoc Doc(std::string summary, std::string request_schema, std::string response_schema,
             bool authenticated = true, std::vector<std::string> query = {}) {
  return DocumentRoute(TAG, std::move(summary), std::move(request_schema),
                       std::move(response_schema), std::move(query), authenticated);
}

// ---- routes ----------------------------------------------------------------------------------

void RegisterAuthRoutes(Router& router, ApiContext& context) {
  router.Add(
      "POST", "/api/v1/auth/login",
      Public(context,
             [&context](Request& request) -> Response {
               JsonValue body = ParseJsonBody(request);
               Fields fields(body);
               std::string username = fields.String("username", 1, 256);
               std::string password = fields.String("password", 1, 1024);
               fields.Finish();
               auto session = hub::Login(context.database, IdentitySettingsOf(context.settings),
                                         username, password, request.remote_address, NowMs());
               if (!session) {
                 if (session.error().kind == hub::IdentityErrorKind::kLocked) {
                   return LockedResponse(session.error());
                 }
                 Throw(session.error());
               }
               JsonValue json = JsonValue::MakeObject();
               json.Set("user", UserJson(session->user));
               json.Set("csrf_token", JsonValue(session->csrf_token));
               json.Set("expires_at", JsonValue(FormatTimestampMs(session->expires_at)));
               Response response = NoStore(JsonResponse(200, json));
               response.headers.Add(
                   "Set-Cookie", SessionCookie(context.settings, session->token,
                                               context.settings.session_ttl_ms / 1000));
               return response;
             }),
      Doc("Log in with a user name and password; sets the session cookie", "LoginRequest",
          "LoginResponse", false));

  router.Add("POST", "/api/v1/auth/logout",
             Authed(context,
                    [&context](Request&, const hub::Principal& principal) -> Response {
                      if (principal.method == hub::AuthMethod::kSession) {
                        hub::Logout(context.database, principal, principal.session_id);
                      }
                      Response response = Response::NoContent();
                      response.headers.Add("Set-Cookie", SessionCookie(context.settings, "", 0));
                      return response;
                    }),
             Doc("End the session and clear its cookie", "", ""));

  router.Add("GET", "/api/v1/auth/me",
             Authed(context,
                    [&context](Request&, const hub::Principal& principal) {
                      return NoStore(JsonResponse(200, MeJson(context, principal)));
                    }),
             Doc("The caller: user, organisation, roles, preferences and CSRF token", "", "Me"));

  router.Add(
      "PATCH", "/api/v1/auth/me",
      Authed(context,
             [&context](Request& request, const hub::Principal& principal) {
               JsonValue body = ParseJsonBody(request);
               Fields fields(body);
               static constexpr std::string_view LOCALES[] = {"en", "ja"};
               hub::UserPatch patch;
               patch.locale = fields.OptionalEnum("locale", LOCALES);
               patch.time_zone = fields.OptionalString("time_zone", 64);
               if (fields.Has("display_name")) patch.display_name = fields.String("display_name");
               fields.Finish();
               OptionalTimeZoneCheck(patch.time_zone);
               auto updated = hub::UpdateUser(context.database, principal, principal.user_id, patch);
               if (!updated) Throw(updated.error(), "user");
               return NoStore(JsonResponse(200, MeJson(context, principal)));
             }),
      Doc("Change the caller's display name, language or time zone", "MeUpdate", "Me"));

  router.Add(
      "POST", "/api/v1/auth/password",
      Authed(
          context,
          [&context](Request& request, const hub::Principal& principal) -> Response {
            JsonValue body = ParseJsonBody(request);
            Fields fields(body);
            std::string current = fields.String("current_password", 1, 1024);
            std::string next = fields.String("new_password", 1, 1024);
            fields.Finish();
            auto changed =
                hub::ChangeOwnPassword(context.database, IdentitySettingsOf(context.settings),
                                       principal, current, next, NowMs());
            if (!changed) {
              const hub::IdentityError& error = changed.error();
              if (error.kind == hub::IdentityErrorKind::kLocked) return LockedResponse(error);
              // 403, not 401: the caller is logged in; only the current password was wrong.
              if (error.kind == hub::IdentityErrorKind::kBadCredentials) {
                throw ApiError(403, "invalid_credentials", error.message, "current_password");
              }
              Throw(error, "user");
            }
            return Response::NoContent();
          },
          "admin"),
      Doc("Change the caller's password (ends the caller's other sessions)", "PasswordChange",
          ""));
}

void RegisterOrganizationRoutes(Router& router, ApiContext& context) {
  router.Add(
      "GET", "/api/v1/organizations",
      Authed(context,
             [&context](Request& request, const hub::Principal& principal) {
               PageRequest page = ReadPage(request);
               hub::OrganizationQuery query;
               if (auto type = request.Query("type")) {
                 query.type = hub::ParseOrgType(*type);
                 if (!query.type) ThrowBadRequest("type is not an organisation type", "type");
               }
               if (!principal.IsCentreStaff()) query.only_id = principal.org_id;
               query.after = AfterOf(page);
               query.limit = page.limit + 1;
               auto orgs = hub::ListOrganizations(context.database, query);
               std::string next;
               if (orgs.size() > static_cast<size_t>(page.limit)) {
                 orgs.resize(page.limit);
                 next = EncodeCursor(orgs.back().created_at, orgs.back().id);
               }
               JsonValue items = JsonValue::MakeArray();
               for (const auto& org : orgs) items.Push(OrganizationJson(org));
               return ListResponse(items, next);
             }),
      Doc("Organisations the caller may see (all for the centre's staff, else their own)", "",
          "OrganizationList", true, {"type", "limit", "cursor"}));

  router.Add(
      "POST", "/api/v1/organizations",
      Authed(context,
             [&context](Request& request, const hub::Principal& principal) {
               JsonValue body = ParseJsonBody(request);
               Fields fields(body);
               hub::NewOrganization input;
               input.name = fields.String("name", 1, 200);
               input.name_ja = fields.OptionalString("name_ja", 200).value_or("");
               input.type = *hub::ParseOrgType(fields.Enum("type", hub::OrgTypeNames()));
               input.sector = fields.OptionalEnum("sector", hub::SectorNames()).value_or("");
               input.contact_email = fields.OptionalEmail("contact_email").value_or("");
               fields.Finish();
               if (!hub::can::ManageOrganizations(principal)) {
                 ThrowForbidden("only the centre's administrators create organisations");
               }
               auto org = hub::CreateOrganization(context.database, principal, input);
               if (!org) Throw(org.error(), "organization");
               return JsonResponse(201, OrganizationJson(*org));
             }),
      Doc("Create an organisation (centre_admin)", "OrganizationCreate", "Organization"));

  router.Add("GET", "/api/v1/organizations/{id}",
             Authed(context,
                    [&context](Request& request, const hub::Principal& principal) {
                      std::string id(request.PathParam("id"));
                      auto org = CanSeeOrganization(principal, id)
                                     ? hub::GetOrganization(context.database, id)
                                     : std::nullopt;
                      if (!org) ThrowNotFound("organization");
                      return JsonResponse(200, OrganizationJson(*org));
                    }),
             Doc("One organisation", "", "Organization"));

  router.Add(
      "PATCH", "/api/v1/organizations/{id}",
      Authed(context,
             [&context](Request& request, const hub::Principal& principal) {
               std::string id(request.PathParam("id"));
               JsonValue body = ParseJsonBody(request);
               Fields fields(body);
               hub::OrganizationPatch patch;
               if (fields.Has("name")) patch.name = fields.String("name", 1, 200);
               patch.name_ja = fields.OptionalString("name_ja", 200);
               patch.sector = fields.OptionalEnum("sector", hub::SectorNames());
               patch.contact_email = fields.OptionalString("contact_email", 254);
               fields.Finish();
               if (!CanSeeOrganization(principal, id) || !hub::GetOrganization(context.database, id)) {
                 ThrowNotFound("organization");
               }
               if (!hub::can::ManageOrganizations(principal)) {
                 ThrowForbidden("only the centre's administrators change organisations");
               }
               auto org = hub::UpdateOrganization(context.database, principal, id, patch);
               if (!org) Throw(org.error(), "organization");
               return JsonResponse(200, OrganizationJson(*org));
             }),
      Doc("Change an organisation (centre_admin)", "OrganizationUpdate", "Organization"));
}

void RegisterUserRoutes(Router& router, ApiContext& context) {
  router.Add(
      "GET", "/api/v1/users",
      Authed(context,
             [&context](Request& request, const hub::Principal& principal) {
               PageRequest page = ReadPage(request);
               hub::UserQuery query;
               std::optional<std::string_view> org_filter = request.Query("org_id");
               if (ManagesEveryOrganization(principal)) {
                 if (org_filter) query.org_id = std::string(*org_filter);
               } else if (hub::can::ManageUsersOf(principal, principal.org_id)) {
                 query.org_id = principal.org_id;
                 if (org_filter && *org_filter != principal.org_id) query.user_id = "";
               } else {
                 query.user_id = principal.user_id;
                 if (org_filter && *org_filter != principal.org_id) query.user_id = "";
               }
               query.after = AfterOf(page);
               query.limit = page.limit + 1;
               std::vector<hub::User> users;
               if (!query.user_id || !query.user_id->empty()) {
                 users = hub::ListUsers(context.database, query);
               }
               std::string next;
               if (users.size() > static_cast<size_t>(page.limit)) {
                 users.resize(page.limit);
                 next = EncodeCursor(users.back().created_at, users.back().id);
               }
               JsonValue items = JsonValue::MakeArray();
               for (const auto& user : users) items.Push(UserJson(user));
               return ListResponse(items, next);
             }),
      Doc("Users the caller may manage (centre_admin: all; org_admin: their organisation; "
          "others: themselves)",
          "", "UserList", true, {"org_id", "limit", "cursor"}));

  // Names for the ids other resources carry (authors, assignees, commenters). Unknown and
  // invisible ids are left out alike, so the answer does not reveal which ids exist.
  router.Add(
      "GET", "/api/v1/users/names",
      Authed(context,
             [&context](Request& request, const hub::Principal& principal) {
               std::vector<std::string> ids;
               size_t given = 0;
               std::string_view list = request.Query("ids").value_or("");
               while (!list.empty()) {
                 size_t comma = list.find(',');
                 std::string_view id = list.substr(0, comma);
                 list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
                 if (id.empty()) continue;
                 if (++given > MAX_NAME_IDS) {
                   ThrowBadRequest(fmt::format("ids: at most {} ids", MAX_NAME_IDS), "ids");
                 }
                 // Longer strings cannot be ids: they are simply not found, like unknown ones.
                 if (id.size() <= 64) ids.emplace_back(id);
               }
               JsonValue items = JsonValue::MakeArray();
               for (const auto& name : hub::UserNames(context.database, principal, ids)) {
                 JsonValue item = JsonValue::MakeObject();
                 item.Set("id", JsonValue(name.id));
                 item.Set("display_name", JsonValue(name.display_name));
                 item.Set("organization_id", JsonValue(name.org_id));
                 item.Set("organization_name", JsonValue(name.org_name));
                 items.Push(std::move(item));
               }
               JsonValue body = JsonValue::MakeObject();
               body.Set("items", std::move(items));
               return JsonResponse(200, body);
             }),
      Doc("Display names and organisations of users by id (at most 100, comma-separated): the "
          "caller's organisation and the centre's staff; every user for the centre's staff. "
          "Unknown or invisible ids are absent",
          "", "UserNameList", true, {"ids"}));

  router.Add(
      "POST", "/api/v1/users",
      Authed(context,
             [&context](Request& request, const hub::Principal& principal) {
               JsonValue body = ParseJsonBody(request);
               Fields fields(body);
               static constexpr std::string_view LOCALES[] = {"en", "ja"};
               hub::NewUser input;
               input.username = fields.String("username", 3, 64);
               input.display_name = fields.OptionalString("display_name", 200).value_or("");
               input.email = fields.OptionalEmail("email").value_or("");
               input.org_id = fields.OptionalString("org_id", 64).value_or(principal.org_id);
               if (!fields.Has("roles")) ThrowBadRequest("roles is required", "roles");
               input.roles = ParseRoles(fields.StringArray("roles", 10, 40));
               input.password = fields.String("password", 1, 1024);
               input.locale = fields.Enum("locale", LOCALES, "en");
               input.time_zone = fields.OptionalString("time_zone", 64).value_or("Asia/Tokyo");
               fields.Finish();
               if (!hub::can::ManageUsersOf(principal, input.org_id)) {
                 ThrowForbidden("you may not create users in this organisation");
               }
               for (hub::Role role : input.roles) {
                 if (!hub::can::GrantRole(principal, role)) {
                   ThrowForbidden(fmt::format("you may not grant the {} role", hub::ToString(role)));
                 }
               }
               auto user = hub::CreateUser(context.database, principal, input);
               if (!user) Throw(user.error(), "user");
               return JsonResponse(201, UserJson(*user));
             }),
      Doc("Create a user (centre_admin; org_admin in their organisation)", "UserCreate", "User"));

  router.Add("GET", "/api/v1/users/{id}",
             Authed(context,
                    [&context](Request& request, const hub::Principal& principal) {
                      auto user = hub::GetUser(context.database, request.PathParam("id"));
                      if (!user || !CanSeeUser(principal, *user)) ThrowNotFound("user");
                      return JsonResponse(200, UserJson(*user));
                    }),
             Doc("One user", "", "User"));

  router.Add(
      "PATCH", "/api/v1/users/{id}",
      Authed(context,
             [&context](Request& request, const hub::Principal& principal) {
               JsonValue body = ParseJsonBody(request);
               Fields fields(body);
               static constexpr std::string_view LOCALES[] = {"en", "ja"};
               hub::UserPatch patch;
               if (fields.Has("display_name")) patch.display_name = fields.String("display_name");
               patch.email = fields.OptionalString("email", 254);
               if (fields.Has("roles")) patch.roles = ParseRoles(fields.StringArray("roles", 10, 40));
               if (fields.Has("disabled")) patch.disabled = fields.Bool("disabled", false);
               patch.locale = fields.OptionalEnum("locale", LOCALES);
               patch.time_zone = fields.OptionalString("time_zone", 64);
               fields.Finish();
               auto user = hub::GetUser(context.database, request.PathParam("id"));
               if (!user || !CanSeeUser(principal, *user)) ThrowNotFound("user");
               if (!hub::can::ManageUsersOf(principal, user->org_id)) {
                 ThrowForbidden("you may not change this user; your own preferences are at "
                                "/api/v1/auth/me");
               }
               if (patch.roles) {
                 // Taking a role away needs the same right as granting it.
                 auto changes = [&](hub::Role role) {
                   bool before = std::find(user->roles.begin(), user->roles.end(), role) !=
                                 user->roles.end();
                   bool after = std::find(patch.roles->begin(), patch.roles->end(), role) !=
                                patch.roles->end();
                   return before != after;
                 };
                 for (size_t i = 0; i < hub::RoleNames().size(); ++i) {
                   auto role = static_cast<hub::Role>(i);
                   if (changes(role) && !hub::can::GrantRole(principal, role)) {
                     ThrowForbidden(
                         fmt::format("you may not grant or remove the {} role", hub::ToString(role)));
                   }
                 }
               }
               auto updated = hub::UpdateUser(context.database, principal, user->id, patch);
               if (!updated) Throw(updated.error(), "user");
               return JsonResponse(200, UserJson(*updated));
             }),
      Doc("Change a user (centre_admin; org_admin in their organisation)", "UserUpdate", "User"));
}

void RegisterTokenRoutes(Router& router, ApiContext& context) {
  router.Add(
      "GET", "/api/v1/tokens",
      Authed(context,
             [&context](Request& request, const hub::Principal& principal) {
               std::string user_id = principal.user_id;
               if (auto other = request.Query("user_id"); other && *other != principal.user_id) {
                 auto owner = hub::GetUser(context.database, *other);
                 if (!owner || !hub::can::ManageUsersOf(principal, owner->org_id)) {
                   ThrowNotFound("user");
                 }
                 user_id = owner->id;
               }
               int64_t now = NowMs();
               JsonValue items = JsonValue::MakeArray();
               for (const auto& token : hub::ListTokens(context.database, user_id)) {
                 items.Push(TokenJson(token, now));
               }
               return ListResponse(items, "");
             }),
      Doc("The caller's API tokens (never their secrets); ?user_id= for users one manages", "",
          "ApiTokenList", true, {"user_id"}));

  router.Add(
      "POST", "/api/v1/tokens",
      Authed(
          context,
          [&context](Request& request, const hub::Principal& principal) {
            JsonValue body = ParseJsonBody(request);
            Fields fields(body);
            std::string name = fields.String("name", 1, 100);
            if (!fields.Has("scopes")) ThrowBadRequest("scopes is required", "scopes");
            std::vector<std::string> scopes = fields.StringArray("scopes", 3, 10);
            for (size_t i = 0; i < scopes.size(); ++i) {
              if (!hub::IsTokenScope(scopes[i])) {
                std::string field = fmt::format("scopes[{}]", i);
                ThrowBadRequest(field + " must be one of: read, write, admin", field);
              }
            }
            std::optional<int64_t> expires_at = fields.OptionalTime("expires_at");
            fields.Finish();
            int64_t now = NowMs();
            auto created = hub::CreateToken(context.database, principal, principal.user_id, name,
                                            scopes, expires_at, now);
            if (!created) Throw(created.error(), "user");
            JsonValue json = TokenJson(created->token, now);
            json.Set("token", JsonValue(created->secret));
            return NoStore(JsonResponse(201, json));
          },
          "admin"),
      Doc("Create an API token for the caller; its secret is in this answer only",
          "ApiTokenCreate", "ApiTokenCreated"));

  router.Add("DELETE", "/api/v1/tokens/{id}",
             Authed(context,
                    [&context](Request& request, const hub::Principal& principal) {
                      auto token = hub::GetToken(context.database, request.PathParam("id"));
                      bool visible = false;
                      if (token) {
                        if (token->user_id == principal.user_id) {
                          visible = true;
                        } else if (auto owner = hub::GetUser(context.database, token->user_id)) {
                          visible = hub::can::ManageUsersOf(principal, owner->org_id);
                        }
                      }
                      if (!visible) ThrowNotFound("token");
                      auto revoked = hub::RevokeToken(context.database, principal, token->id, NowMs());
                      if (!revoked) Throw(revoked.error(), "token");
                      return Response::NoContent();
                    }),
             Doc("Revoke an API token", "", ""));
}

}  // namespace

std::optional<hub::Principal> Authenticate(ApiContext& context, const Request& request) {
  int64_t now = NowMs();
  std::optional<hub::Principal> principal;
  if (auto authorization = request.headers.Get("authorization")) {
    // A request that names a credential is judged by it alone, never by a cookie beside it.
    std::string_view value = *authorization;
    constexpr std::string_view SCHEME = "bearer ";
    if (value.size() <= SCHEME.size()) return std::nullopt;
    for (size_t i = 0; i < SCHEME.size(); ++i) {
      char c = value[i];
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      if (c != SCHEME[i]) return std::nullopt;
    }
    std::string_view secret = value.substr(SCHEME.size());
    while (!secret.empty() && secret.front() == ' ') secret.remove_prefix(1);
    while (!secret.empty() && secret.back() == ' ') secret.remove_suffix(1);
    principal = hub::AuthenticateToken(context.database, secret, now);
  } else if (auto cookie = request.Cookie(SESSION_COOKIE)) {
    principal = hub::AuthenticateSession(context.database, IdentitySettingsOf(context.settings),
                                         *cookie, now);
  }
  if (principal) principal->remote_address = request.remote_address;
  return principal;
}

void RegisterIdentityRoutes(Router& router, ApiContext& context) {
  AddSchemas(context);
  RegisterAuthRoutes(router, context);
  RegisterOrganizationRoutes(router, context);
  RegisterUserRoutes(router, context);
  RegisterTokenRoutes(router, context);
}

}  // namespace yagura::http

// Who is asking: organisations, roles and the authenticated principal.
//
// The vocabulary here is the centre's (docs/domain.md): the organisation types that report to
// it, Japan's 15 critical-infrastructure sectors, and the roles of the people who use Yagura.
// Every value has one spelling, used in the API, the database and the audit log.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace yagura::hub {

enum class OrgType {
  kMinistry,
  kIndependentAgency,
  kCriticalInfrastructure,
  kLocalGovernment,
  kPartnerCert,
  kCentre,
};

enum class Role {
  kCentreAdmin,
  kCentreAnalyst,
  kInvestigator,
  kAuditor,
  kOrgAdmin,
  kOrgReporter,
  kPartner,
};

// "ministry", "independent_agency", "critical_infrastructure", "local_government",
// "partner_cert", "centre".
std::string_view ToString(OrgType type);
std::optional<OrgType> ParseOrgType(std::string_view text);
std::span<const std::string_view> OrgTypeNames();

// "centre_admin", "centre_analyst", "investigator", "auditor", "org_admin", "org_reporter",
// "partner".
std::string_view ToString(Role role);
std::optional<Role> ParseRole(std::string_view text);
std::span<const std::string_view> RoleNames();
// Roles only members of the centre's own organisation may hold.
bool IsCentreRole(Role role);
// The stored form of a user's roles, "centre_analyst,auditor"; unknown names are passed over.
std::vector<Role> ParseRolesText(std::string_view text);

// The 15 critical-infrastructure sectors, as API values: "information_communication",
// "finance", "aviation", "airports", "railways", "electric_power", "gas",
// "government_administrative_services", "medical", "water", "logistics", "chemicals",
// "credit_cards", "petroleum", "ports".
std::span<const std::string_view> SectorNames();
bool IsSector(std::string_view text);

// How the principal proved who it is.
enum class AuthMethod { kSession, kApiToken, kInternal };

// The authenticated caller of one request.
struct Principal {
  std::string user_id;
  std::string username;
  std::string org_id;
  OrgType org_type = OrgType::kMinistry;
  std::string sector;  // for critical-infrastructure organisations
  std::vector<Role> roles;
  AuthMethod method = AuthMethod::kSession;
  // API tokens carry scopes ("read", "write", "admin"); sessions have all of the user's rights.
  std::vector<std::string> scopes;
  std::string session_id;  // hashed session id, for logout
  std::string csrf_token;  // the session's CSRF token (sessions only)
  std::string remote_address;

  [[nodiscard]] bool Has(Role role) const;
  [[nodiscard]] bool IsCentreStaff() const { return org_type == OrgType::kCentre; }
  // A member organisation of the community (everyone but partner CERTs abroad).
  [[nodiscard]] bool IsMember() const { return org_type != OrgType::kPartnerCert; }
  // True when the credential allows `scope` ("read" for GET, "write" for changes).
  [[nodiscard]] bool AllowsScope(std::string_view scope) const;
};

}  // namespace yagura::hub

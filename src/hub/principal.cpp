// Spellings of organisation types, roles and sectors (one table each, so the API, the database
// and the OpenAPI enums read the same list).
#include "hub/principal.hpp"

#include <algorithm>
#include <array>

namespace yagura::hub {
namespace {

constexpr std::array<std::string_view, 6> ORG_TYPE_NAMES = {
    "ministry", "independent_agency", "critical_infrastructure", "local_government",
    "partner_cert", "centre"};

constexpr std::array<std::string_view, 7> ROLE_NAMES = {
    "centre_admin", "centre_analyst", "investigator", "auditor",
    "org_admin",    "org_reporter",   "partner"};

constexpr std::array<std::string_view, 15> SECTOR_NAMES = {
    "information_communication", "finance", "aviation", "airports", "railways",
    "electric_power", "gas", "government_administrative_services", "medical", "water",
    "logistics", "chemicals", "credit_cards", "petroleum", "ports"};

template <typename Enum, size_t N>
std::optional<Enum> Find(const std::array<std::string_view, N>& names, std::string_view text) {
  for (size_t i = 0; i < N; ++i) {
    if (names[i] == text) return static_cast<Enum>(i);
  }
  return std::nullopt;
}

}  // namespace

std::string_view ToString(OrgType type) { return ORG_TYPE_NAMES[static_cast<size_t>(type)]; }
std::optional<OrgType> ParseOrgType(std::string_view text) {
  return Find<OrgType>(ORG_TYPE_NAMES, text);
}
std::span<const std::string_view> OrgTypeNames() { return ORG_TYPE_NAMES; }

std::string_view ToString(Role role) { return ROLE_NAMES[static_cast<size_t>(role)]; }
std::optional<Role> ParseRole(std::string_view text) { return Find<Role>(ROLE_NAMES, text); }
std::span<const std::string_view> RoleNames() { return ROLE_NAMES; }

bool IsCentreRole(Role role) {
  return role == Role::kCentreAdmin || role == Role::kCentreAnalyst ||
         role == Role::kInvestigator || role == Role::kAuditor;
}

std::span<const std::string_view> SectorNames() { return SECTOR_NAMES; }
bool IsSector(std::string_view text) {
  return std::find(SECTOR_NAMES.begin(), SECTOR_NAMES.end(), text) != SECTOR_NAMES.end();
}

bool Principal::Has(Role role) const {
  return std::find(roles.begin(), roles.end(), role) != roles.end();
}

bool Principal::AllowsScope(std::string_view scope) const {
  if (method != AuthMethod::kApiToken) return true;
  if (std::find(scopes.begin(), scopes.end(), scope) != scopes.end()) return true;
  // "admin" implies "write", which implies "read".
  bool admin = std::find(scopes.begin(), scopes.end(), "admin") != scopes.end();
  bool write = admin || std::find(scopes.begin(), scopes.end(), "write") != scopes.end();
  if (scope == "read") return write;
  if (scope == "write") return admin;
  return false;
}

}  // namespace yagura::hub

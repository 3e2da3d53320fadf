// Security standards: the catalogs of controls that agencies are audited against (hub/audits.hpp).
//
// Japan's unified standards for government bodies, and every standard NIST publishes, come as
// OSCAL catalogs (docs/domain.md): groups of controls, each with an id ("ac-2", "GV.OC-01",
// "SP_800_171_03.01.01"), a title, a statement and enhancements nested under it. The centre
// imports a catalog once; each control is kept as a row with its statement rendered to text
// (parameters written as "[Assignment: ...]" or "[Selection: ...]", as the published documents
// print them), so an audit's checklist reads without the OSCAL document at hand.
//
// A catalog is kept as imported: a new edition of the same catalog is a new standard, and an
// audit keeps pointing at the edition it was planned against. The same document imported twice
// is refused (409), naming the standard that holds it.
//
// An OSCAL profile (a baseline such as SP 800-53's MODERATE) selects controls from a catalog:
// ProfileControlIds reads its include-all / include-controls / exclude-controls against an
// imported standard, for an audit's scope.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <tl/expected.hpp>
#include <vector>

#include "hub/cases.hpp"  // CaseError, CaseResult: the same four kinds of refusal
#include "hub/principal.hpp"
#include "store/database.hpp"

namespace yagura::hub {

// The largest catalog document accepted, and the most controls one may hold (SP 800-53 rev5 has
// 1,189 controls and enhancements).
inline constexpr size_t STANDARD_DOCUMENT_MAX = 32 * 1024 * 1024;
inline constexpr size_t STANDARD_CONTROLS_MAX = 20000;

struct StandardControl {
  std::string control_id;   // as the catalog writes it: "ac-2.1"
  std::string parent_id;    // the control it enhances; "" for a control of a group
  std::string group_title;  // the nearest group's title: "Access Control"
  std::string label;        // the label prop when there is one: "AC-2(1)"
  std::string title;
  std::string control_class;  // the control's class: "SP800-53-enhancement", "subcategory"
  std::string statement;      // the statement parts as text, items on lines of their own
  int depth = 0;              // 0 for a group's controls, 1 for their enhancements, ...
  int64_t position = 0;       // the catalog's order
};

// A catalog read from its OSCAL JSON.
struct ParsedCatalog {
  std::string oscal_uuid;
  std::string title;
  std::string version;
  std::string oscal_version;
  std::string published;  // metadata.published, as written; may be empty
  std::vector<StandardControl> controls;
};

// Parses an OSCAL catalog ({"catalog": {...}}); the error names where the document went wrong
// ("catalog.groups[2].controls[0]: a control has no id").
tl::expected<ParsedCatalog, std::string> ParseOscalCatalog(std::string_view document);

struct Standard {
  std::string id;
  std::string title;
  std::string version;
  std::string oscal_uuid;
  std::string oscal_version;
  std::string published;
  std::string source_name;  // the file name it was imported from, as given
  std::string sha256;       // of the document
  int64_t controls = 0;
  std::string imported_by;
  int64_t imported_at = 0;
};

// Imports a catalog (can::ImportStandard). kInvalid names the document's problem; kConflict
// when a standard holds the same document already.
CaseResult<Standard> ImportStandard(store::Connection& connection, const Principal& principal,
                                    std::string_view source_name, std::string_view document,
                                    int64_t now_ms);

// Standards are public documents: every member of the community reads them (partner CERTs
// abroad do not, as they take part in no audit).
std::vector<Standard> ListStandards(store::Connection& connection, const Principal& principal);
CaseResult<Standard> GetStandard(store::Connection& connection, const Principal& principal,
                                 std::string_view id);
// The standard's controls in the catalog's order.
std::vector<StandardControl> StandardControls(store::Connection& connection,
                                              std::string_view standard_id);

// The controls of `standard_id` an OSCAL profile selects ({"profile": {"imports": [...]}}), in
// the catalog's order. Every import counts, whatever its href: the profile is read as a
// tailoring of this standard. An id the profile names that the standard lacks is an error
// naming it, so a profile of another catalog is not silently read as an empty scope.
tl::expected<std::vector<std::string>, std::string> ProfileControlIds(
    const std::vector<StandardControl>& controls, std::string_view profile_document);

}  // namespace yagura::hub

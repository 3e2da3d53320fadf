// The MITRE ATT&CK catalogue: techniques, tactics, groups, software, campaigns and mitigations
// imported from the STIX 2.1 bundles MITRE publishes (enterprise-attack.json, ics-attack.json),
// the names and tactics behind the technique ids that alerts and incidents carry, technique
// counts for a heatmap, and rule coverage.
//
// Import replaces one domain's rows in one transaction, so a re-import of the same or a newer
// release is idempotent and readers never see half a catalogue; the bundle is read with simdjson
// On-Demand (the enterprise bundle is 49 MB; a DOM of it would need several times that). Every
// object with a MITRE external id is kept, revoked and deprecated ones marked (a revoked
// technique names its replacement), together with every relationship ("uses", "mitigates",
// "subtechnique-of", "detects", "attributed-to", "revoked-by", ...).
//
// The catalogue is public reference data (TLP:CLEAR): reading it needs a login but no grant and
// is not audited. The heatmap counts confidential alerts and incidents, so it counts only what
// the principal may read — the same SQL read conditions as the lists (hub/policy.hpp,
// AlertReadCondition) — and reports the most restrictive TLP it counted so the caller can audit
// the read.
//
// Functions take the caller's connection (or database, for the import) and are thread-safe as
// long as each thread uses its own connection.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "attack/technique_id.hpp"
#include "core/result.hpp"
#include "hub/policy.hpp"
#include "hub/principal.hpp"
#include "store/database.hpp"

namespace yagura::hub {

// ---- import -----------------------------------------------------------------------------------

// What one import stored. `counts` by catalogue type: technique, subtechnique, tactic, group,
// software, campaign, mitigation, matrix, data-source, data-component, detection-strategy,
// analytic, asset, relationship; `revoked` and `deprecated` count objects of every type.
struct AttackImportReport {
  std::string domain;   // "enterprise-attack", "ics-attack"
  std::string name;     // the collection's name, "Enterprise ATT&CK"
  std::string version;  // the collection's version, "18.1" ("" when the bundle has none)
  std::map<std::string, int64_t> counts;
  int64_t revoked = 0;
  int64_t deprecated = 0;
  int64_t skipped = 0;  // objects without a MITRE external id (identity, marking definitions)
};

// Imports one bundle (the file's bytes) in one transaction: the domain's previous rows are
// deleted and the bundle's inserted, with one audit entry "attack.import" by the system. The
// domain comes from the bundle's matrix (or its objects' x_mitre_domains). Fails without
// writing when the text is not a STIX bundle of ATT&CK objects.
Result<AttackImportReport> ImportAttackBundle(store::Database& database, std::string_view bytes,
                                              int64_t now_ms);
Result<AttackImportReport> ImportAttackFile(store::Database& database, const std::string& path,
                                            int64_t now_ms);

// ---- technique ids ----------------------------------------------------------------------------

// NormalizeTechniqueId("t1110.001") -> "T1110.001", TechniqueOfTag("attack.t1110.001"): one
// spelling shared with the offline scan (attack/technique_id.hpp).
using attack::NormalizeTechniqueId;
using attack::TechniqueOfTag;

// ---- resolution -------------------------------------------------------------------------------

struct AttackTacticRef {
  std::string id;         // "TA0006"
  std::string shortname;  // "credential-access"
  std::string name;       // "Credential Access"
};

// A technique id as the catalogue knows it. `known` is false for ids the catalogue lacks (not
// imported, or a typo); the other members are then empty.
struct ResolvedTechnique {
  std::string id;
  bool known = false;
  std::string name;
  std::string domain;
  bool is_subtechnique = false;
  std::optional<std::string> parent_id;
  std::vector<AttackTacticRef> tactics;  // in matrix order
  bool revoked = false;
  std::optional<std::string> revoked_by;  // the replacement's id
  bool deprecated = false;
  std::string url;
};

// One entry per distinct normalised id of `ids`, in the order given (ids that are not technique
// ids are left out). Two queries whatever the number of ids. When an id exists in several
// domains, the enterprise one wins.
std::vector<ResolvedTechnique> ResolveTechniques(store::Connection& connection,
                                                 std::span<const std::string> ids);

// True once any technique has been imported.
bool AttackCatalogueLoaded(store::Connection& connection);

// ---- catalogue reads --------------------------------------------------------------------------

// Dates of the STIX object: `created` and `modified`, epoch milliseconds.
struct AttackTechnique {
  std::string id;  // "T1110.001"
  std::string stix_id;
  std::string domain;
  std::string name;
  std::string description;  // filled by GetAttackTechnique only
  bool is_subtechnique = false;
  std::optional<std::string> parent_id;
  std::vector<AttackTacticRef> tactics;
  std::vector<std::string> platforms;
  bool revoked = false;
  std::optional<std::string> revoked_by;
  bool deprecated = false;
  std::string version;
  std::string url;
  int64_t created = 0;
  int64_t modified = 0;
};

// Another catalogue object as a related item.
struct AttackRef {
  std::string id;
  std::string name;
  std::string type;  // technique, group, software, campaign, mitigation, ...
  std::string stix_type;
  std::string domain;
};

struct AttackTechniqueDetail {
  AttackTechnique technique;
  std::optional<AttackRef> parent;
  std::vector<AttackRef> subtechniques;
  // Objects whose relationship names this technique; revoked and deprecated ones left out.
  std::vector<AttackRef> groups;
  std::vector<AttackRef> software;
  std::vector<AttackRef> campaigns;
  std::vector<AttackRef> mitigations;
};

struct AttackTechniqueFilter {
  std::optional<std::string> domain;
  std::optional<std::string> tactic;  // shortname ("credential-access") or id ("TA0006")
  std::optional<std::string> q;       // substring of the name or the id, ASCII case-insensitive
  bool include_subtechniques = true;
  bool include_deprecated = false;  // also includes revoked techniques
};

struct AttackTechniquePage {
  std::vector<AttackTechnique> items;
  bool more = false;
};

// Ordered by (id, domain), so sub-techniques follow their parent; `after` is the (id, domain)
// of the last item of the previous page.
AttackTechniquePage ListAttackTechniques(store::Connection& connection,
                                         const AttackTechniqueFilter& filter,
                                         const std::optional<std::pair<std::string, std::string>>& after,
                                         int limit);

// nullopt when the catalogue has no technique with this id (in `domain`, when given).
std::optional<AttackTechniqueDetail> GetAttackTechnique(store::Connection& connection,
                                                        std::string_view id,
                                                        const std::optional<std::string>& domain);

struct AttackTactic {
  std::string id;
  std::string shortname;
  std::string name;
  std::string description;
  std::string domain;
  int64_t ordinal = 0;          // position in the domain's matrix
  int64_t technique_count = 0;  // current (neither revoked nor deprecated) techniques, sub-techniques included
  std::string url;
  int64_t created = 0;
  int64_t modified = 0;
};

// Domain by domain, each in matrix order.
std::vector<AttackTactic> ListAttackTactics(store::Connection& connection,
                                            const std::optional<std::string>& domain);

// A group (intrusion set); the same group appears in several domains under one id.
struct AttackGroup {
  std::string id;  // "G0007"
  std::string stix_id;
  std::string name;
  std::vector<std::string> aliases;
  std::vector<std::string> domains;
  std::string description;  // filled by GetAttackGroup only
  bool revoked = false;
  std::optional<std::string> revoked_by;
  bool deprecated = false;
  std::string version;
  std::string url;
  int64_t created = 0;
  int64_t modified = 0;
};

struct AttackGroupTechnique {
  AttackRef technique;
  std::vector<AttackTacticRef> tactics;
};

struct AttackGroupDetail {
  AttackGroup group;
  std::vector<AttackGroupTechnique> techniques;  // used by the group, by id
  std::vector<AttackRef> software;
  std::vector<AttackRef> campaigns;  // attributed to the group
};

struct AttackGroupFilter {
  std::optional<std::string> domain;
  std::optional<std::string> q;  // substring of the name, an alias or the id
  bool include_deprecated = false;
};

struct AttackGroupPage {
  std::vector<AttackGroup> items;
  bool more = false;
};

// Ordered by id; `after` is the id of the last item of the previous page.
AttackGroupPage ListAttackGroups(store::Connection& connection, const AttackGroupFilter& filter,
                                 const std::optional<std::string>& after, int limit);
std::optional<AttackGroupDetail> GetAttackGroup(store::Connection& connection,
                                                std::string_view id);

// ---- heatmap ----------------------------------------------------------------------------------

enum class HeatmapDimension { kOrganisation, kSector, kMonth };

struct HeatmapQuery {
  HeatmapDimension dimension = HeatmapDimension::kOrganisation;
  bool alerts = true;
  bool incidents = true;
  std::optional<int64_t> since;  // alerts: event_time >= since; incidents: detected_at >= since
  std::optional<int64_t> until;  // ... < until
  bool rollup = false;           // count sub-techniques under their parent technique
  // Only the alerts and incidents of one organisation (an alert's, an incident's owner), or of
  // the organisations of one sector (the sector dimension's key: a sector, else the type).
  std::optional<std::string> org_id;
  std::optional<std::string> sector;
};

struct HeatmapCell {
  std::string technique;
  std::string bucket;
  int64_t alerts = 0;
  int64_t incidents = 0;
};

struct Heatmap {
  std::vector<HeatmapCell> cells;  // by technique, then bucket
  // Bucket key -> label: organisation id -> its name; sector (or organisation type) -> itself;
  // month "2026-11" -> itself.
  std::map<std::string, std::string> buckets;
  bool counted_anything = false;
  Tlp highest = Tlp::kClear;  // the most restrictive marking among what was counted
};

// Counts, per technique and bucket, the alerts (rule, indicator and correlation alerts; campaign
// alerts would count their members twice) and the incidents the principal may read. An object
// with several techniques counts once for each; with `rollup`, once per parent technique.
Heatmap TechniqueHeatmap(store::Connection& connection, const Principal& principal,
                         const HeatmapQuery& query);

// ---- coverage ---------------------------------------------------------------------------------

// One loaded rule and the techniques its tags name.
struct RuleTechniques {
  std::string rule_id;  // the rule's id, or its title when it has none
  std::string title;
  std::vector<std::string> techniques;  // normalised ids
};

struct CoveredTechnique {
  AttackTechnique technique;
  std::vector<const RuleTechniques*> rules;  // tagged with the technique itself
  int64_t subtechnique_rules = 0;            // rules tagged with one of its sub-techniques
  [[nodiscard]] bool covered() const { return !rules.empty() || subtechnique_rules > 0; }
};

struct TacticCoverage {
  AttackTactic tactic;
  int64_t techniques = 0;
  int64_t covered = 0;
};

// A rule tag naming a technique the catalogue lacks, or one that is revoked or deprecated.
struct StaleTechnique {
  std::string id;
  std::string reason;  // "unknown", "revoked", "deprecated"
  std::optional<std::string> revoked_by;
  std::vector<const RuleTechniques*> rules;
};

struct AttackCoverage {
  std::vector<CoveredTechnique> techniques;  // current techniques, by id
  std::vector<TacticCoverage> tactics;
  std::vector<StaleTechnique> stale;
};

// Which current techniques (neither revoked nor deprecated) of `domain` (every domain when
// absent) the rules detect. Pointers refer into `rules`, which must outlive the result.
AttackCoverage ComputeCoverage(store::Connection& connection, std::span<const RuleTechniques> rules,
                               const std::optional<std::string>& domain,
                               bool include_subtechniques);

}  // namespace yagura::hub

// An audit as OSCAL documents (NIST OSCAL 1.1), for the audited organisation's own tools and for
// other assessors.
//
// - Assessment results: one result for the audit. Each assessed control is an observation (the
//   team's note and methods) and a finding whose target is the control, satisfied or not
//   satisfied (partially satisfied and not applicable as props, since OSCAL knows only the two
//   states). The audit's own findings are OSCAL risks, with the risk level as a facet, linked
//   from the control's finding; their recommendations are the risks' remediations, each with
//   its due date as a milestone.
// - A plan of action and milestones: the same risks, and one POA&M item per recommendation.
//
// UUIDs are stable: a row's id is already a UUID, and derived objects (an observation of a
// control) take StableId of what they stand for, so a second export of an unchanged audit is
// the same document, and a changed one keeps its objects' identities.
#pragma once

#include <cstdint>

#include "core/json_value.hpp"
#include "hub/audits.hpp"

namespace yagura::hub {

// The OSCAL version the documents are written to.
inline constexpr std::string_view OSCAL_VERSION = "1.1.2";

struct AuditRecord {
  Audit audit;
  std::vector<ScopedControl> controls;
  AuditResults results;
  // Authors of findings who have left the team since: parties too, as the risks name them.
  std::vector<AuditMember> former_members;
};

// Reads what an export needs, with the caller's right to read the audit.
CaseResult<AuditRecord> ReadAuditRecord(store::Connection& connection, const Principal& principal,
                                        std::string_view id);

JsonValue AssessmentResultsJson(const AuditRecord& record);
JsonValue PoamJson(const AuditRecord& record);

}  // namespace yagura::hub

// The report of an audit: one self-contained HTML page, in English or Japanese, the document the
// centre issues to the audited organisation (docs/audits.md).
//
// It holds the audit's frame (organisation, standard, period, objectives, status, conclusion),
// a summary of the results, every finding with its recommendations, their due dates and the
// follow-up so far, and every control in scope with its result, methods and note. The team is
// named only to readers on the team, as the API shows it. The audit's marking heads and closes
// the page in TLP 2.0's colours.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "hub/oscal_export.hpp"  // AuditRecord

namespace yagura::http {

enum class AuditReportLanguage { kEnglish, kJapanese };

struct AuditReportInput {
  hub::AuditRecord record;
  std::string standard_version;
  bool show_team = false;                         // the reader is on the team
  std::map<std::string, std::string> org_names;   // org id -> name (follow-up authors)
  std::map<std::string, std::string> user_names;  // user id -> "display name (username)"
  std::string generated_by;
  int64_t generated_at = 0;
};

std::string RenderAuditReport(const AuditReportInput& input, AuditReportLanguage language);

}  // namespace yagura::http

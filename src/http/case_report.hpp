// The report of an investigation: one self-contained HTML page, in English or Japanese, to
// print, sign and hand over.
//
// What a case holds is on it, as its reader may read it: the case and its conclusion, its
// members, the incidents and alerts it links, each item of evidence with its whole chain of
// custody and the integrity check made when the report was written, the timeline and the
// case's history. The case's marking heads and closes the page, in TLP 2.0's colours. Like the
// scan's HTML report, it runs no script and fetches nothing: it is read on machines that are
// offline, and it leaves the centre.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "hub/case_timeline.hpp"
#include "hub/cases.hpp"
#include "hub/evidence.hpp"

namespace yagura::http {

enum class CaseReportLanguage { kEnglish, kJapanese };

struct CaseReportItem {
  hub::EvidenceItem item;
  std::vector<hub::CustodyEvent> custody;
  hub::EvidenceIntegrity integrity;
};

struct CaseReportInput {
  hub::Case kase;
  hub::CaseLinks links;
  std::vector<CaseReportItem> evidence;
  std::vector<hub::TimelineEntry> timeline;
  int64_t timeline_total = 0;  // entries in all; the report holds the first MAX_TIMELINE
  std::vector<hub::CaseHistoryEntry> history;
  std::map<std::string, std::string> user_names;  // user id -> "display name (username)"
  std::string generated_by;                       // the reader's name
  int64_t generated_at = 0;
};

// The most timeline entries a report lists (the export has them all).
inline constexpr size_t CASE_REPORT_MAX_TIMELINE = 5000;

std::string RenderCaseReport(const CaseReportInput& input, CaseReportLanguage language);

}  // namespace yagura::http

// What the service's printable HTML reports share (the investigation report, the audit report):
// their style sheet and the TLP 2.0 banner that heads and closes them. The pages run no script
// and fetch nothing: they are read offline, and they leave the centre.
#pragma once

#include <map>
#include <set>
#include <string>
#include <string_view>

#include "hub/policy.hpp"
#include "store/database.hpp"

namespace yagura::http {

// The style sheet: CJK fonts first, tables with a header row, "meta" tables of name and value,
// "item" boxes that do not break across printed pages, ok/bad/note classes.
extern const std::string_view REPORT_STYLE;

// The marking as TLP 2.0 shows it: the label in its colour on black.
std::string TlpBanner(hub::Tlp tlp);

// The people a report names, by user id, as "display name (username)" (the username alone when
// the two are the same), in one query. Ids that name no user are left out.
std::map<std::string, std::string> ReportUserNames(store::Connection& connection,
                                                   const std::set<std::string>& user_ids);

}  // namespace yagura::http

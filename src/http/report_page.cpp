// The reports' shared page parts (see report_page.hpp).
#include "http/report_page.hpp"

#include <fmt/format.h>

namespace yagura::http {
namespace {

// TLP 2.0's colours.
std::string_view TlpColour(hub::Tlp tlp) {
  switch (tlp) {
    case hub::Tlp::kRed:
      return "#FF2B2B";
    case hub::Tlp::kAmber:
    case hub::Tlp::kAmberStrict:
      return "#FFC000";
    case hub::Tlp::kGreen:
      return "#33FF00";
    case hub::Tlp::kClear:
      return "#FFFFFF";
  }
  return "#FFFFFF";
}

}  // namespace

const std::string_view REPORT_STYLE = R"(
body{font-family:"Noto Sans CJK JP","Noto Sans JP","Hiragino Sans","Yu Gothic",sans-serif;
margin:2em;color:#111;font-size:14px;line-height:1.45}
h1{font-size:1.6em;margin:.2em 0}h2{font-size:1.25em;margin-top:1.6em;border-bottom:2px solid #333}
h3{font-size:1.05em;margin:1.2em 0 .3em}
table{border-collapse:collapse;margin:.4em 0;width:100%}
td,th{border:1px solid #bbb;padding:.25em .45em;vertical-align:top;text-align:left}
th{background:#eee}table.meta td:first-child{width:14em;background:#f6f6f6}
.tlp{background:#000;padding:.3em .6em;margin:.5em 0;font-weight:bold;font-family:monospace;font-size:1.1em}
.mono,.hash{font-family:monospace;word-break:break-all}.hash{font-size:.85em}
.ok{color:#11632b;font-weight:bold}.bad{color:#b00000;font-weight:bold}
.note{color:#555}.item{border:1px solid #999;padding:.2em .8em .6em;margin:1em 0;page-break-inside:avoid}
pre{white-space:pre-wrap;margin:0}
@media print{body{margin:1cm}a{color:inherit}}
)";

std::string TlpBanner(hub::Tlp tlp) {
  return fmt::format("<div class=\"tlp\"><span style=\"color:{}\">{}</span></div>\n",
                     TlpColour(tlp), hub::TlpLabel(tlp));
}

std::map<std::string, std::string> ReportUserNames(store::Connection& connection,
                                                   const std::set<std::string>& user_ids) {
  std::map<std::string, std::string> names;
  if (user_ids.empty()) return names;
  std::vector<store::Param> params;
  std::string list;
  for (const auto& id : user_ids) {
    params.push_back(store::Param{id});
    list += fmt::format("{}${}", list.empty() ? "" : ", ", params.size());
  }
  for (const auto& row :
       connection
           .Query(
               fmt::format("SELECT id, username, display_name FROM users WHERE id IN ({})", list),
               params)
           .rows) {
    names[row[0].text()] = row[2].text() == row[1].text()
                               ? row[1].text()
                               : fmt::format("{} ({})", row[2].text(), row[1].text());
  }
  return names;
}

}  // namespace yagura::http

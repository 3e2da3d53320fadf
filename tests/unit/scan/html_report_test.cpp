// The HTML report of a scan (scan/html_report.hpp): what logs and rules wrote is escaped, the
// most severe alerts are kept (the earliest first within a level) and the rest counted, and
// rules, hosts and days add up.
#include "scan/html_report.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <string>

#include "core/time.hpp"

namespace yagura::scan {
namespace {

size_t Count(const std::string& text, std::string_view what) {
  size_t count = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++count;
  return count;
}

TEST(HtmlReport, WhatLogsAndRulesWroteIsEscaped) {
  HtmlReport report;
  report.Add({sigma::Level::kHigh, "11111111-1111-4111-8111-111111111111",
              "<script>alert(1)</script> & \"quotes\"", std::nullopt, "<img src=x onerror=y>",
              "CommandLine: cmd /c \"echo <b>\" & exit", "logs/a'b.jsonl", 3});
  ScanSummary summary;
  summary.alerts = 1;
  summary.alerts_by_level[sigma::Level::kHigh] = 1;
  const std::string page = report.Render(summary, {"logs/<dir>"}, 0);
  EXPECT_EQ(page.find("<script>"), std::string::npos);
  EXPECT_EQ(page.find("<img"), std::string::npos);
  EXPECT_EQ(page.find("<b>"), std::string::npos);
  EXPECT_NE(page.find("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quotes&quot;"),
            std::string::npos);
  EXPECT_NE(page.find("cmd /c &quot;echo &lt;b&gt;&quot; &amp; exit"), std::string::npos);
  EXPECT_NE(page.find("logs/a&#39;b.jsonl:3"), std::string::npos);
  EXPECT_NE(page.find("logs/&lt;dir&gt;"), std::string::npos);
  // Nothing is fetched from elsewhere, and there is no script.
  EXPECT_EQ(page.find("http"), std::string::npos);
  EXPECT_EQ(page.find("<script"), std::string::npos);
}

TEST(HtmlReport, TheMostSevereAlertsAreKeptAndRulesHostsAndDaysAddUp) {
  HtmlReport report;
  const int64_t start = *ParseIsoDateTimeMs("2026-11-26T00:00:00Z");
  const size_t total = 2 * HtmlReport::MAX_ROWS + 500;
  for (size_t i = 0; i < total; ++i) {
    // Every 100th critical, in reverse time order; the rest low, over two days and two hosts.
    const bool critical = i % 100 == 0;
    const int64_t time = critical ? start + static_cast<int64_t>(total - i) * 60'000
                                  : start + static_cast<int64_t>(i) * 60'000;
    report.Add({critical ? sigma::Level::kCritical : sigma::Level::kLow,
                critical ? "c-rule" : "l-rule", critical ? "Critical rule" : "Low rule", time,
                i % 2 ? "ws1" : "dc1", "", "a.jsonl", i + 1});
  }
  ScanSummary summary;
  const std::string page = report.Render(summary, {"a.jsonl"}, start);
  const size_t criticals = (total + 99) / 100;
  EXPECT_NE(page.find(fmt::format("<h2>Alerts ({} shown)</h2>", HtmlReport::MAX_ROWS)),
            std::string::npos);
  EXPECT_NE(
      page.find(fmt::format("{} more are in the scan's output", total - HtmlReport::MAX_ROWS)),
      std::string::npos);
  // The criticals come first, the earliest first: the last added is the earliest.
  const size_t alerts_at = page.find("<h2>Alerts (");
  const size_t first_row = page.find("<tr><td class=\"t\">", alerts_at);
  EXPECT_EQ(page.find(fmt::format("a.jsonl:{}", (criticals - 1) * 100 + 1), first_row),
            page.find("a.jsonl:", first_row));
  EXPECT_EQ(Count(page.substr(alerts_at), "<span class=\"level critical\">"), criticals);
  // Per rule: alerts and hosts.
  EXPECT_NE(page.find(fmt::format("Critical rule<br><span class=\"note\">c-rule</span></td>"
                                  "<td class=\"n\">{}</td><td class=\"n\">1</td>",
                                  criticals)),
            std::string::npos)
      << "the criticals are all on dc1 (even i)";
  EXPECT_NE(page.find(fmt::format("Low rule<br><span class=\"note\">l-rule</span></td>"
                                  "<td class=\"n\">{}</td><td class=\"n\">2</td>",
                                  total - criticals)),
            std::string::npos);
  EXPECT_NE(page.find("<h2>Hosts (2)</h2>"), std::string::npos);
  EXPECT_NE(page.find("<td class=\"t\">2026-11-26</td>"), std::string::npos);
  EXPECT_NE(page.find("<td class=\"t\">2026-11-27</td>"), std::string::npos);
}

TEST(HtmlReport, JapaneseWordsWhenAsked) {
  HtmlReport report;
  report.Add({sigma::Level::kCritical, "11111111-1111-4111-8111-111111111111", "Whoami", int64_t{0},
              "ws1", "", "a.jsonl", 1});
  ScanSummary summary;
  summary.alerts = 1;
  summary.alerts_by_level[sigma::Level::kCritical] = 1;
  const std::string page = report.Render(summary, {"a.jsonl"}, 0, ReportLanguage::kJapanese);
  EXPECT_NE(page.find("<html lang=\"ja\">"), std::string::npos);
  EXPECT_NE(page.find("<h2>重要度別アラート</h2>"), std::string::npos);
  EXPECT_NE(page.find("<span class=\"level critical\">重大</span>"), std::string::npos);
  EXPECT_NE(page.find("<h2>ルール (1)</h2>"), std::string::npos);
  EXPECT_EQ(page.find("Alerts by level"), std::string::npos);
  // The rule's own words stay as written.
  EXPECT_NE(page.find("Whoami"), std::string::npos);
}

}  // namespace
}  // namespace yagura::scan

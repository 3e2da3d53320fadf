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

namespace yagura::scan {
namespace {

// The techniques the alerted rules name (the most severe first, each with its alerts and
// rules), and with --geo-ip the countries of the alerted events' addresses.
TEST(HtmlReport, TechniquesOfTheRulesAndCountriesOfTheAddresses) {
  const std::vector<std::string> brute = {"attack.credential-access", "attack.t1110.001",
                                          "attack.T1110.001"};
  const std::vector<std::string> dump = {"attack.t1003.001", "attack.t1110.001"};
  HtmlReport report;
  for (int i = 0; i < 3; ++i)
    report.Add(
        {sigma::Level::kMedium, "b", "Brute <force>", std::nullopt, "dc1", "", "a", 1, &brute});
  report.Add({sigma::Level::kCritical, "m", "Mimikatz", std::nullopt, "ws1", "", "a", 2, &dump});
  report.Add({sigma::Level::kHigh, "n", "No technique", std::nullopt, "ws1", "", "a", 3});
  ScanSummary summary;
  summary.alerts_by_country = {{"JP", 1}, {"KP", 4}};
  const std::string page = report.Render(summary, {"a"}, 0);
  const size_t heading = page.find("<h2>ATT&CK techniques (2)</h2>");
  ASSERT_NE(heading, std::string::npos);
  // Both critical (Mimikatz names T1110.001 too): T1110.001 first, with both rules' four
  // alerts and their titles escaped, then T1003.001.
  const size_t dump_row = page.find("<td>T1003.001</td><td class=\"n\">1</td><td>Mimikatz</td>");
  const size_t brute_row = page.find(
      "<span class=\"level critical\">critical</span></td><td>T1110.001</td><td class=\"n\">4</td>"
      "<td>Mimikatz<br>Brute &lt;force&gt;</td>");
  ASSERT_NE(dump_row, std::string::npos) << page.substr(heading, 800);
  ASSERT_NE(brute_row, std::string::npos) << page.substr(heading, 800);
  EXPECT_LT(brute_row, dump_row);
  const size_t countries = page.find("<h2>Countries of the alerted events' addresses (2)</h2>");
  ASSERT_NE(countries, std::string::npos);
  EXPECT_LT(page.find("<td>KP</td><td class=\"n\">4</td>", countries),
            page.find("<td>JP</td><td class=\"n\">1</td>", countries));

  // Without techniques or --geo-ip, neither section.
  HtmlReport plain;
  plain.Add({sigma::Level::kHigh, "n", "No technique", std::nullopt, "ws1", "", "a", 3});
  const std::string bare = plain.Render(ScanSummary{}, {"a"}, 0, ReportLanguage::kJapanese);
  EXPECT_EQ(bare.find("ATT&CK"), std::string::npos);
  EXPECT_EQ(bare.find("アドレスの国"), std::string::npos);
}

}  // namespace
}  // namespace yagura::scan

// The JSON lines of Sigma rule alerts as the writer writes them, which keeps each rule's `rule`
// object from its first alert: every line must be what FormatJson writes for it alone.
#include <gtest/gtest.h>

#include <vector>

#include "alert_test_util.hpp"
#include "core/json_value.hpp"
#include "scan/alert_writer.hpp"

namespace yagura::scan {
namespace {

sigma::Rule MakeRule(std::string id, std::string title) {
  sigma::Rule rule;
  rule.info.id = std::move(id);
  rule.info.title = std::move(title);
  rule.info.status = "test";
  rule.info.author = "Yagura project";
  rule.info.level = sigma::Level::kHigh;
  rule.info.tags = {"attack.execution", "attack.t1059.001"};
  rule.info.references = {"https://example.org/a?b=\"c\"&d=\\e"};
  return rule;
}

TEST(RuleAlert, LinesOfOneRuleAndAnotherAreWrittenAsAlone) {
  const sigma::Rule first = MakeRule("11111111-1111-4111-8111-111111111111",
                                     "Quotes \" backslash \\ and 櫓 in a title");
  const sigma::Rule second = MakeRule("22222222-2222-4222-8222-222222222222", "Second rule");
  event::LogsourceClass logsource;
  logsource.product = "windows";
  std::vector<AlertRecord> alerts;
  for (const sigma::Rule* rule : {&first, &second, &first, &second, &first}) {
    AlertRecord alert;
    alert.rule = rule;
    alert.time = "2026-11-26T08:12:15.000Z";
    alert.file = "a.jsonl";
    alert.record = alerts.size() + 1;
    alert.logsource = &logsource;
    alert.event_json = R"({"EventID": 1})";
    alerts.push_back(alert);
  }

  const std::vector<std::string> lines = WriteAlerts(alerts, OutputFormat::kJsonl);
  ASSERT_EQ(lines.size(), alerts.size());
  for (size_t i = 0; i < alerts.size(); ++i) {
    std::string alone;
    AlertWriter::FormatJson(alerts[i], alone);
    EXPECT_EQ(lines[i], alone) << "line " << i;
    auto parsed = JsonValue::Parse(lines[i]);
    ASSERT_TRUE(parsed.has_value()) << lines[i];
    const JsonValue* rule = parsed->Find("rule");
    ASSERT_NE(rule, nullptr) << lines[i];
    EXPECT_EQ(rule->Find("title")->as_string(), alerts[i].rule->info.title);
    EXPECT_EQ(rule->Find("references")->as_array().at(0).as_string(),
              "https://example.org/a?b=\"c\"&d=\\e");
    EXPECT_EQ(parsed->Find("source")->Find("record")->as_int(), static_cast<int64_t>(i + 1));
  }
}

TEST(RuleAlert, HostAndDetailsSayWhereAndWhyInJsonAndCsv) {
  const sigma::Rule rule = MakeRule("11111111-1111-4111-8111-111111111111", "Whoami");
  event::LogsourceClass logsource;
  logsource.product = "windows";
  const std::vector<std::string_view> matched = {"Image", "CommandLine"};
  const std::vector<std::pair<std::string_view, std::string_view>> details = {
      {"Image", "C:\\Windows\\System32\\whoami.exe"}, {"CommandLine", "whoami /all, \"x\""}};
  AlertRecord alert;
  alert.rule = &rule;
  alert.time = "2026-11-26T08:12:15.000Z";
  alert.file = "a.jsonl";
  alert.record = 7;
  alert.logsource = &logsource;
  alert.event_json = R"({"EventID": 1})";
  alert.matched = &matched;
  alert.host = "WS01.corp.example.org";
  alert.details = &details;
  AlertRecord unnamed = alert;
  unnamed.host = {};
  unnamed.details = nullptr;

  const std::vector<std::string> lines = WriteAlerts({alert, unnamed}, OutputFormat::kJsonl);
  ASSERT_EQ(lines.size(), 2u);
  auto parsed = JsonValue::Parse(lines[0]);
  ASSERT_TRUE(parsed) << lines[0];
  EXPECT_EQ(parsed->Find("host")->as_string(), "WS01.corp.example.org");
  const JsonValue* shown = parsed->Find("details");
  ASSERT_NE(shown, nullptr);
  EXPECT_EQ(shown->Find("Image")->as_string(), "C:\\Windows\\System32\\whoami.exe");
  EXPECT_EQ(shown->Find("CommandLine")->as_string(), "whoami /all, \"x\"");
  auto bare = JsonValue::Parse(lines[1]);
  ASSERT_TRUE(bare) << lines[1];
  EXPECT_TRUE(bare->Find("host")->is_null());
  EXPECT_TRUE(bare->Find("details")->as_object().empty());

  const std::vector<std::string> csv = WriteAlerts({alert, unnamed}, OutputFormat::kCsv);
  ASSERT_EQ(csv.size(), 3u);
  EXPECT_TRUE(csv[0].ends_with(",event,host,details")) << csv[0];
  EXPECT_TRUE(
      csv[1].ends_with(",WS01.corp.example.org,\"Image: C:\\Windows\\System32\\whoami.exe "
                       "\u00a6 CommandLine: whoami /all, \"\"x\"\"\""))
      << csv[1];
  EXPECT_TRUE(csv[2].ends_with(",,")) << csv[2];
}

}  // namespace
}  // namespace yagura::scan

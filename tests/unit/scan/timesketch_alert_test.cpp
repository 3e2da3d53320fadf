// `scan --output-format timesketch`: Timesketch's mandatory fields (message, datetime,
// timestamp_desc), the time in microseconds and flat attributes, for rule, indicator and
// correlation alerts, with and without an event time (the contract in scan/alert_writer.hpp).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "alert_test_util.hpp"
#include "core/json_value.hpp"
#include "core/time.hpp"
#include "scan/alert_writer.hpp"

namespace yagura::scan {
namespace {

JsonValue Parse(const std::string& line) {
  auto parsed = JsonValue::Parse(line);
  EXPECT_TRUE(parsed.has_value()) << line;
  return parsed ? *parsed : JsonValue();
}

std::string Text(const JsonValue& doc, const char* key) {
  const JsonValue* value = doc.Find(key);
  EXPECT_NE(value, nullptr) << key;
  return value != nullptr && value->is_string() ? value->as_string() : std::string("<missing>");
}

TEST(TimesketchAlert, RuleAlertsWithAndWithoutATime) {
  sigma::Rule rule;
  rule.info.id = "11111111-1111-4111-8111-111111111111";
  rule.info.title = "Whoami \"quoted\"";
  rule.info.author = "Yagura project";
  rule.info.level = sigma::Level::kHigh;
  rule.info.tags = {"attack.discovery", "attack.t1033"};
  rule.info.logsource = {"windows", "process_creation", ""};
  event::LogsourceClass logsource;
  logsource.product = "windows";
  logsource.AddService("sysmon");
  logsource.AddCategory("process_creation");
  const std::vector<std::string_view> matched = {"Image", "CommandLine"};
  AlertRecord alert;
  alert.rule = &rule;
  alert.time = "2026-11-26T08:12:15.250Z";
  alert.file = "evidence/sysmon.jsonl";
  alert.record = 42;
  alert.logsource = &logsource;
  // Pretty-printed input: the event is still one line, as a string.
  alert.event_json = "{\n  \"EventID\": 1,\n  \"CommandLine\": \"whoami /all\"\n}";
  alert.matched = &matched;
  alert.host = "WS01";
  const std::vector<std::pair<std::string_view, std::string_view>> details = {
      {"Image", "whoami.exe"}, {"CommandLine", "whoami /all"}};
  alert.details = &details;
  const int64_t time = *ParseIsoDateTimeMs("2026-11-26T08:12:15.250Z");

  const std::vector<std::string> lines =
      WriteAlerts({alert, alert}, OutputFormat::kTimesketch, {time, std::nullopt});
  ASSERT_EQ(lines.size(), 2u);  // no header
  const JsonValue doc = Parse(lines[0]);
  EXPECT_EQ(Text(doc, "message"), "[high] Whoami \"quoted\"");
  EXPECT_EQ(Text(doc, "datetime"), "2026-11-26T08:12:15.250Z");
  EXPECT_EQ(doc.Find("timestamp")->as_int(), time * 1000);
  EXPECT_EQ(Text(doc, "timestamp_desc"), "Event time");
  EXPECT_EQ(Text(doc, "alert_type"), "rule");
  EXPECT_EQ(Text(doc, "level"), "high");
  EXPECT_EQ(Text(doc, "rule_id"), "11111111-1111-4111-8111-111111111111");
  EXPECT_EQ(Text(doc, "rule_title"), "Whoami \"quoted\"");
  EXPECT_EQ(Text(doc, "rule_author"), "Yagura project");
  EXPECT_EQ(Text(doc, "rule_tags"), "attack.discovery;attack.t1033");
  EXPECT_EQ(Text(doc, "source_file"), "evidence/sysmon.jsonl");
  EXPECT_EQ(Text(doc, "source_record"), "42");
  EXPECT_EQ(Text(doc, "product"), "windows");
  EXPECT_EQ(Text(doc, "service"), "sysmon");
  EXPECT_EQ(Text(doc, "category"), "process_creation");
  EXPECT_EQ(Text(doc, "matched"), "Image;CommandLine");
  EXPECT_EQ(Text(doc, "host"), "WS01");
  EXPECT_EQ(Text(doc, "details"), "Image: whoami.exe \u00a6 CommandLine: whoami /all");
  const std::string event = Text(doc, "event");
  EXPECT_EQ(event.find('\n'), std::string::npos) << event;
  auto inner = JsonValue::Parse(event);
  ASSERT_TRUE(inner) << event;
  EXPECT_EQ(inner->Find("CommandLine")->as_string(), "whoami /all");

  // No readable event time: the epoch, and timestamp_desc says so.
  const JsonValue untimed = Parse(lines[1]);
  EXPECT_EQ(Text(untimed, "datetime"), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(untimed.Find("timestamp")->as_int(), 0);
  EXPECT_EQ(Text(untimed, "timestamp_desc"), "No event time");
}

TEST(TimesketchAlert, IndicatorAndCorrelationAlerts) {
  const std::vector<std::string> labels = {"c2", "apt-x"};
  IndicatorAlertInfo indicator;
  indicator.id = "indicator--0d1e9a8b-0000-4000-8000-000000000001";
  indicator.feed = "partner-cert";
  indicator.name = "C2 address";
  indicator.level = "high";
  indicator.labels = &labels;
  indicator.found = {{"DestinationIp", "203.0.113.9"}};
  AlertRecord by_indicator;
  by_indicator.indicator = &indicator;
  by_indicator.file = "net.jsonl";
  by_indicator.record = 7;
  by_indicator.event_json = R"({"DestinationIp":"203.0.113.9"})";

  sigma::Correlation correlation;
  correlation.info.id = "66ff9f6b-40dc-499a-b2c9-a998d9910b7a";
  correlation.info.title = "SSH Brute Force From One Address";
  correlation.info.author = "Yagura project";
  correlation.info.level = sigma::Level::kMedium;
  correlation.info.tags = {"attack.t1110.001"};
  correlation.type = sigma::CorrelationType::kEventCount;
  correlate::CorrelationAlert window;
  window.id = "0d1e9a8b-0000-8000-8000-000000000001";
  window.group = {{"src_ip", "203.0.113.7"}};
  window.first_time_ms = 1795680735000;
  window.last_time_ms = 1795680795500;
  window.value = 10;
  window.match_count = 12;
  CorrelationAlertInfo info;
  info.correlation = &correlation;
  info.alert = &window;
  info.records = {{"auth.log", 35}, {"auth.log", 36}};
  AlertRecord by_correlation;
  by_correlation.correlation = &info;

  const int64_t time = *ParseIsoDateTimeMs("2026-11-27T01:02:03Z");
  const std::vector<std::string> lines =
      WriteAlerts({by_indicator, by_correlation}, OutputFormat::kTimesketch, {time, std::nullopt});
  ASSERT_EQ(lines.size(), 2u);
  const JsonValue found = Parse(lines[0]);
  EXPECT_EQ(Text(found, "message"), "[high] C2 address");
  EXPECT_EQ(Text(found, "datetime"), "2026-11-27T01:02:03.000Z");
  EXPECT_EQ(Text(found, "alert_type"), "indicator");
  EXPECT_EQ(Text(found, "rule_id"), "indicator--0d1e9a8b-0000-4000-8000-000000000001");
  EXPECT_EQ(Text(found, "rule_author"), "partner-cert");
  EXPECT_EQ(Text(found, "rule_tags"), "c2;apt-x");
  EXPECT_EQ(Text(found, "matched"), "DestinationIp=203.0.113.9");

  // A correlation's time is its window's end, whatever the scan passed.
  const JsonValue window_doc = Parse(lines[1]);
  EXPECT_EQ(Text(window_doc, "message"), "[medium] SSH Brute Force From One Address");
  EXPECT_EQ(Text(window_doc, "datetime"), "2026-11-26T08:13:15.500Z");
  EXPECT_EQ(window_doc.Find("timestamp")->as_int(), int64_t{1795680795500} * 1000);
  EXPECT_EQ(Text(window_doc, "timestamp_desc"), "Correlation window end");
  EXPECT_EQ(Text(window_doc, "alert_type"), "correlation");
  EXPECT_EQ(Text(window_doc, "source_file"), "auth.log");
  EXPECT_EQ(Text(window_doc, "source_record"), "35");
  EXPECT_EQ(Text(window_doc, "matched"), "src_ip=203.0.113.7");
  auto event = JsonValue::Parse(Text(window_doc, "event"));
  ASSERT_TRUE(event);
  EXPECT_EQ(event->Find("count")->as_int(), 12);
  EXPECT_EQ(event->Find("type")->as_string(), "event_count");
}

}  // namespace
}  // namespace yagura::scan

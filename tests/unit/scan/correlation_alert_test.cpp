// The JSON line and CSV row of a correlation alert (the contract in scan/alert_writer.hpp).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "alert_test_util.hpp"
#include "core/json_value.hpp"
#include "scan/alert_writer.hpp"

namespace yagura::scan {
namespace {

struct Fixture {
  Fixture() {
    correlation.info.id = "66ff9f6b-40dc-499a-b2c9-a998d9910b7a";
    correlation.info.title = "SSH Brute Force From One Address";
    correlation.info.author = "Yagura project";
    correlation.info.status = "experimental";
    correlation.info.level = sigma::Level::kMedium;
    correlation.info.tags = {"attack.t1110.001"};
    correlation.type = sigma::CorrelationType::kEventCount;
    correlation.rules = {{"ssh_failed", false, 0}};
    correlation.group_by = {"src_ip"};
    correlation.timespan_seconds = 300;
    correlation.generate = true;
    alert.id = "0d1e9a8b-0000-8000-8000-000000000001";
    alert.group = {{"src_ip", "203.0.113.7"}};
    alert.first_time_ms = 1795680735000;  // 2026-11-26T08:12:15Z
    alert.last_time_ms = 1795680795500;
    alert.value = 10;
    alert.match_count = 12;
    info.correlation = &correlation;
    info.alert = &alert;
    info.records = {{"auth.log", 35}, {"auth.log", 36}};
    record.correlation = &info;
  }
  sigma::Correlation correlation;
  correlate::CorrelationAlert alert;
  CorrelationAlertInfo info;
  AlertRecord record;
};

TEST(CorrelationAlert, JsonLine) {
  Fixture f;
  std::string line;
  AlertWriter::FormatJson(f.record, line);
  auto parsed = JsonValue::Parse(line);
  ASSERT_TRUE(parsed.has_value()) << line;
  const JsonValue& doc = *parsed;
  const JsonValue* c = doc.Find("correlation");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->Find("id")->as_string(), "66ff9f6b-40dc-499a-b2c9-a998d9910b7a");
  EXPECT_EQ(c->Find("title")->as_string(), "SSH Brute Force From One Address");
  EXPECT_EQ(c->Find("level")->as_string(), "medium");
  EXPECT_EQ(c->Find("type")->as_string(), "event_count");
  EXPECT_EQ(c->Find("author")->as_string(), "Yagura project");
  EXPECT_EQ(c->Find("tags")->as_array().at(0).as_string(), "attack.t1110.001");
  EXPECT_EQ(c->Find("rules")->as_array().at(0).as_string(), "ssh_failed");
  EXPECT_EQ(c->Find("group_by")->as_array().at(0).as_string(), "src_ip");
  EXPECT_EQ(c->Find("timespan")->as_int(), 300);
  EXPECT_TRUE(c->Find("generate")->as_bool());
  EXPECT_EQ(doc.Find("alert_id")->as_string(), "0d1e9a8b-0000-8000-8000-000000000001");
  EXPECT_EQ(doc.Find("group")->Find("src_ip")->as_string(), "203.0.113.7");
  EXPECT_EQ(doc.Find("time")->as_string(), "2026-11-26T08:13:15.500Z");
  EXPECT_EQ(doc.Find("first_time")->as_string(), "2026-11-26T08:12:15.000Z");
  EXPECT_EQ(doc.Find("last_time")->as_string(), "2026-11-26T08:13:15.500Z");
  EXPECT_TRUE(doc.Find("value")->is_integer());
  EXPECT_EQ(doc.Find("value")->as_int(), 10);
  EXPECT_EQ(doc.Find("count")->as_int(), 12);
  const auto& records = doc.Find("records")->as_array();
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].Find("file")->as_string(), "auth.log");
  EXPECT_EQ(records[1].Find("record")->as_int(), 36);
  EXPECT_EQ(doc.Find("rule"), nullptr);

  f.alert.value = 2.5;
  line.clear();
  AlertWriter::FormatJson(f.record, line);
  EXPECT_NE(line.find("\"value\":2.5"), std::string::npos) << line;
}

TEST(CorrelationAlert, CsvRow) {
  Fixture f;
  const std::vector<std::string> lines = WriteAlerts({f.record}, OutputFormat::kCsv);
  ASSERT_EQ(lines.size(), 2u);  // the header and the row
  const std::string& row = lines[1];
  EXPECT_EQ(row.rfind("2026-11-26T08:13:15.500Z,medium,66ff9f6b-40dc-499a-b2c9-a998d9910b7a,"
                      "SSH Brute Force From One Address,Yagura project,auth.log,35,,,,"
                      "src_ip=203.0.113.7,",
                      0),
            0u)
      << row;
  EXPECT_NE(row.find("\"\"count\"\":12"), std::string::npos) << row;
}

}  // namespace
}  // namespace yagura::scan

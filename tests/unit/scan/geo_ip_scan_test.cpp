// `yagura scan --geo-ip`: each alert of an event with located addresses carries them (JSON
// lines, CSV's last column, Timesketch's attributes), addresses of no place are left out, and
// the summary counts alerts by country.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "core/json_value.hpp"
#include "scan/scanner.hpp"
#include "scan/summary.hpp"
#include "test_support/mmdb_writer.hpp"

namespace yagura::scan {
namespace {

namespace fs = std::filesystem;
using test_support::MmdbMap;

std::string ReadAll(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class GeoIpScanTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("yagura-geoscan-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "rules");
    test_support::MmdbWriter city(6, "GeoLite2-City");
    city.Insert("203.0.113.0/24",
                MmdbMap{{"city", MmdbMap{{"names", MmdbMap{{"en", "Pyongyang"}}}}},
                        {"country",
                         MmdbMap{{"iso_code", "KP"}, {"names", MmdbMap{{"en", "North Korea"}}}}}});
    city.Insert(
        "198.51.100.0/24",
        MmdbMap{{"country", MmdbMap{{"iso_code", "JP"}, {"names", MmdbMap{{"en", "Japan"}}}}}});
    std::ofstream(dir_ / "City.mmdb", std::ios::binary) << city.Bytes();
    test_support::MmdbWriter asn(4, "GeoLite2-ASN");
    asn.Insert("203.0.113.0/24", MmdbMap{{"autonomous_system_number", uint64_t{131279}},
                                         {"autonomous_system_organization", "Star JV"}});
    std::ofstream(dir_ / "ASN.mmdb", std::ios::binary) << asn.Bytes();
    std::ofstream(dir_ / "rules" / "rules.yml") << R"(title: Network logon
id: 11111111-1111-4111-8111-111111111111
logsource: {product: windows, service: security}
detection:
  selection: {EventID: 4624}
  condition: selection
level: high
)";
    auto logon = [](const char* address, const char* workstation_address) {
      std::ostringstream line;
      line
          << R"({"Event":{"System":{"Provider":{"#attributes":{"Name":"Microsoft-Windows-Security-Auditing"}},"EventID":4624,"Channel":"Security","Computer":"dc1"},"EventData":{"TargetUserName":"admin","IpAddress":")"
          << address << R"(","SourceAddress":")" << workstation_address << R"("}}})"
          << "\n";
      return line.str();
    };
    std::ofstream(dir_ / "security.jsonl")
        << logon("203.0.113.9", "10.0.0.5") << logon("10.0.0.7", "-")
        << logon("::ffff:198.51.100.20", "203.0.113.10");
  }
  void TearDown() override { fs::remove_all(dir_); }

  ScanOptions Options(OutputFormat format, const std::string& output) {
    ScanOptions options;
    options.rule_paths = {(dir_ / "rules").string()};
    options.inputs = {(dir_ / "security.jsonl").string()};
    options.output_path = (dir_ / output).string();
    options.output_format = format;
    options.geo_ip_paths = {(dir_ / "City.mmdb").string(), (dir_ / "ASN.mmdb").string()};
    return options;
  }
  fs::path dir_;
};

TEST_F(GeoIpScanTest, AlertsCarryTheirAddressesPlacesAndTheSummaryCountsCountries) {
  Diagnostics diagnostics([](const Diagnostic&) {});
  ScanOptions options = Options(OutputFormat::kJsonl, "alerts.jsonl");
  options.pivot_keywords_path = (dir_ / "pivot.json").string();
  auto summary = RunScan(options, diagnostics);
  ASSERT_TRUE(summary) << summary.error().ToString();
  ASSERT_EQ(summary->alerts, 3u);
  std::istringstream lines(ReadAll(dir_ / "alerts.jsonl"));
  std::vector<JsonValue> alerts;
  for (std::string line; std::getline(lines, line);) alerts.push_back(*JsonValue::Parse(line));
  ASSERT_EQ(alerts.size(), 3u);
  const JsonValue& first = *alerts[0].Find("geo")->Find("IpAddress");
  EXPECT_EQ(first.Find("address")->as_string(), "203.0.113.9");
  EXPECT_EQ(first.Find("country")->as_string(), "KP");
  EXPECT_EQ(first.Find("country_name")->as_string(), "North Korea");
  EXPECT_EQ(first.Find("city")->as_string(), "Pyongyang");
  EXPECT_EQ(first.Find("asn")->as_int(), 131279);
  EXPECT_EQ(first.Find("as_org")->as_string(), "Star JV");
  EXPECT_EQ(alerts[0].Find("geo")->Find("SourceAddress"), nullptr);  // a private address
  // Nothing located: the object is there, empty.
  EXPECT_TRUE(alerts[1].Find("geo")->as_object().empty());
  const JsonValue& third = *alerts[2].Find("geo");
  EXPECT_EQ(third.Find("IpAddress")->Find("country")->as_string(), "JP");
  EXPECT_TRUE(third.Find("IpAddress")->Find("asn")->is_null());
  EXPECT_EQ(third.Find("SourceAddress")->Find("country")->as_string(), "KP");

  EXPECT_EQ(summary->alerts_located, 2u);
  EXPECT_EQ(summary->alerts_by_country, (std::map<std::string, uint64_t>{{"JP", 1}, {"KP", 2}}));
  const std::string json = SummaryJson(*summary);
  EXPECT_NE(json.find(R"("alerts_by_country":{"JP":1,"KP":2})"), std::string::npos) << json;
  EXPECT_NE(RenderSummary(*summary).find("Countries of the alerted events' addresses"),
            std::string::npos);
  // The pivot keywords' addresses say where they are too (null for a private one).
  auto pivot = JsonValue::Parse(ReadAll(dir_ / "pivot.json"));
  ASSERT_TRUE(pivot);
  std::map<std::string, std::string> countries;
  for (const auto& address : pivot->Find("categories")->Find("addresses")->as_array()) {
    const JsonValue* location = address.Find("location");
    ASSERT_NE(location, nullptr);
    countries[address.Find("value")->as_string()] =
        location->is_null() ? "-" : location->Find("country")->as_string();
  }
  EXPECT_EQ(countries, (std::map<std::string, std::string>{{"10.0.0.5", "-"},
                                                           {"10.0.0.7", "-"},
                                                           {"203.0.113.10", "KP"},
                                                           {"203.0.113.9", "KP"},
                                                           {"::ffff:198.51.100.20", "JP"}}));

  // Without --geo-ip the alerts are as they were: no `geo`.
  ScanOptions plain = Options(OutputFormat::kJsonl, "plain.jsonl");
  plain.geo_ip_paths.clear();
  ASSERT_TRUE(RunScan(plain, diagnostics));
  EXPECT_EQ(ReadAll(dir_ / "plain.jsonl").find("\"geo\""), std::string::npos);
  EXPECT_EQ(SummaryJson(*RunScan(plain, diagnostics)).find("alerts_by_country"), std::string::npos);
}

TEST_F(GeoIpScanTest, FlatFormatsCarryTheAddressesAsText) {
  Diagnostics diagnostics([](const Diagnostic&) {});
  ASSERT_TRUE(RunScan(Options(OutputFormat::kCsv, "alerts.csv"), diagnostics));
  std::istringstream csv(ReadAll(dir_ / "alerts.csv"));
  std::string header, row;
  std::getline(csv, header);
  std::getline(csv, row);
  EXPECT_TRUE(header.ends_with(",details,geo")) << header;
  EXPECT_TRUE(
      row.ends_with(",\"IpAddress: 203.0.113.9 KP North Korea, Pyongyang, AS131279 Star JV\""))
      << row;

  ASSERT_TRUE(RunScan(Options(OutputFormat::kTimesketch, "alerts.ts.jsonl"), diagnostics));
  std::istringstream lines(ReadAll(dir_ / "alerts.ts.jsonl"));
  std::vector<JsonValue> alerts;
  for (std::string line; std::getline(lines, line);) alerts.push_back(*JsonValue::Parse(line));
  ASSERT_EQ(alerts.size(), 3u);
  EXPECT_EQ(alerts[2].Find("geo")->as_string(),
            "IpAddress: ::ffff:198.51.100.20 JP Japan \u00a6 SourceAddress: 203.0.113.10 KP North "
            "Korea, Pyongyang, AS131279 Star JV");
  EXPECT_EQ(alerts[2].Find("geo_countries")->as_string(), "JP;KP");
  EXPECT_EQ(alerts[1].Find("geo")->as_string(), "");
}

TEST_F(GeoIpScanTest, ADatabaseThatCannotBeOpenedIsNamedBeforeAnythingIsScanned) {
  ScanOptions options = Options(OutputFormat::kJsonl, "alerts.jsonl");
  options.geo_ip_paths = {(dir_ / "GeoLite2-City.mmdb").string()};
  Diagnostics diagnostics([](const Diagnostic&) {});
  auto summary = RunScan(options, diagnostics);
  ASSERT_FALSE(summary);
  EXPECT_NE(summary.error().message.find("--geo-ip:"), std::string::npos);
  EXPECT_NE(summary.error().message.find("GeoLite2-City.mmdb"), std::string::npos);
  EXPECT_FALSE(fs::exists(dir_ / "alerts.jsonl"));
}

}  // namespace
}  // namespace yagura::scan

// SigmaHQ's regression data: for each of its 202 rules, scanning the rule's .evtx sample and its
// .json sample with every active SigmaHQ rule loaded yields at least `match_count` alerts of that
// rule (absent: at least one), and no rule fires on an event of another product.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <simdjson.h>
#include <string>
#include <vector>

#include "scan/scanner.hpp"
#include "test_support/sigmahq.hpp"

namespace yagura::scan {
namespace {

namespace fs = std::filesystem;

struct RegressionCase {
  std::string name;
  std::string rule_id;
  std::string product;  // the rule's logsource product
  int64_t match_count = 1;
  std::string evtx;
  std::string json;
};

std::vector<RegressionCase> ReadCases(const fs::path& path) {
  std::vector<RegressionCase> cases;
  simdjson::dom::parser parser;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    simdjson::dom::element doc = parser.parse(line);
    // One line names a rule whose regression test is commented out upstream: nothing to run.
    std::string_view status;
    if (!doc["status"].get(status) && status == "no_active_test") continue;
    RegressionCase c;
    c.name = std::string(doc["case"].get_string().value());
    c.rule_id = std::string(doc["rule_id"].get_string().value());
    std::string_view product;
    if (!doc["logsource"]["product"].get(product)) c.product = std::string(product);
    int64_t count = 0;
    if (!doc["match_count"].get(count)) c.match_count = count;
    std::string_view evtx, json;
    if (!doc["evtx"].get(evtx)) c.evtx = std::string(evtx);
    if (!doc["json"].get(json)) c.json = std::string(json);
    cases.push_back(std::move(c));
  }
  return cases;
}

TEST(SigmaHqRegression, EveryRuleDetectsItsSamples) {
  fs::path shared = YAGURA_SHARED_DIR;
  fs::path cases_file = shared / "data/sigma/regression/regression_cases.jsonl";
  fs::path sigmahq = shared / "data/sigma/sigmahq";
  if (!fs::exists(cases_file)) GTEST_SKIP() << "SigmaHQ regression data not found at " << cases_file;

  ScanOptions options;
  options.rule_paths = test_support::ActiveSigmaHqRuleDirs();
  options.placeholders = test_support::ProjectPlaceholders();
  ScanSummary load_summary;
  Diagnostics diagnostics;
  auto engine = Engine::Prepare(options, diagnostics, load_summary);
  ASSERT_TRUE(engine) << engine.error().ToString();
  EXPECT_EQ(load_summary.rules_failed, 0u);

  std::vector<RegressionCase> cases = ReadCases(cases_file);
  ASSERT_EQ(cases.size(), 202u);
  int passed = 0;
  for (const RegressionCase& c : cases) {
    bool ok = true;
    EXPECT_FALSE(c.evtx.empty() || c.json.empty()) << c.name << ": a sample is missing";
    for (const std::string& sample : {c.evtx, c.json}) {
      if (sample.empty()) continue;
      std::map<std::string, int64_t> alerts;  // rule id -> count
      std::vector<std::string> foreign;       // rules of another product that fired
      ScanSummary summary;
      (*engine)->Scan(
          {(sigmahq / sample).string()},
          [&](const sigma::Rule& rule, const event::Event& event, const event::Record&,
              const std::string&) {
            ++alerts[rule.info.id];
            const auto& product = rule.info.logsource.product;
            if (!product.empty() && product != event.logsource.product) {
              foreign.push_back(rule.info.id + " (" + product + ")");
            }
          },
          summary);
      int64_t got = alerts.count(c.rule_id) ? alerts[c.rule_id] : 0;
      if (got < c.match_count) {
        ADD_FAILURE() << c.name << ": " << sample << ": " << got << " alerts of " << c.rule_id
                      << ", expected at least " << c.match_count << " (records read "
                      << summary.records_read << ", skipped " << summary.records_skipped << ")";
        ok = false;
      }
      for (const auto& f : foreign) {
        ADD_FAILURE() << c.name << ": " << sample << ": rule " << f
                      << " fired on an event of another product";
        ok = false;
      }
    }
    passed += ok;
  }
  std::printf("SigmaHQ regression: %d of %zu cases pass\n", passed, cases.size());
  EXPECT_EQ(passed, static_cast<int>(cases.size()));
}

}  // namespace
}  // namespace yagura::scan

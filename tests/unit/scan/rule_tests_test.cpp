// Rule regression tests in SigmaHQ's convention (scan/rule_tests.hpp): a repository of rules
// whose info.yml files name sample logs, found from the rules' files or from a given root,
// with the failures a rule author meets named.
#include "scan/rule_tests.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "test_support/sigmahq.hpp"

namespace yagura::scan {
namespace {

namespace fs = std::filesystem;

constexpr const char* WHOAMI_ID = "5f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f1";

std::string Event(const std::string& command_line) {
  return R"({"Event":{"System":{"Provider":{"#attributes":{"Name":"Microsoft-Windows-Sysmon"}},)"
         R"("EventID":1,"Channel":"Microsoft-Windows-Sysmon/Operational"},)"
         R"("EventData":{"Image":"C:\\Windows\\System32\\cmd.exe","CommandLine":")" +
         command_line + R"("}}})" + "\n";
}

class RuleTests : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("yagura-rule-tests-" + std::to_string(::getpid()));
    fs::remove_all(root_);
    fs::create_directories(root_ / "rules" / "windows");
  }
  void TearDown() override { fs::remove_all(root_); }

  // A rule file under rules/windows whose regression_tests_path is `info` (none when empty).
  void WriteRule(const std::string& name, const std::string& id, const std::string& needle,
                 const std::string& info) {
    std::ofstream out(root_ / "rules" / "windows" / (name + ".yml"));
    out << "title: " << name << "\nid: " << id << "\n"
        << "logsource: {product: windows, category: process_creation}\n"
        << "detection:\n  selection: {CommandLine|contains: '" << needle << "'}\n"
        << "  condition: selection\nlevel: high\n";
    if (!info.empty()) out << "regression_tests_path: " << info << "\n";
  }
  // regression_data/<name>/info.yml naming `id`, with `tests` as its regression_tests_info.
  void WriteInfo(const std::string& name, const std::string& id, const std::string& tests) {
    fs::create_directories(root_ / "regression_data" / name);
    std::ofstream(root_ / "regression_data" / name / "info.yml")
        << "id: 0d9e8f7a-6b5c-4d3e-8f2a-1b0c9d8e7f6a\ndescription: N/A\ndate: 2026-11-29\n"
        << "author: Test\nrule_metadata:\n    - id: " << id << "\n      title: " << name
        << "\nregression_tests_info:\n"
        << tests;
  }
  void WriteSample(const fs::path& relative, const std::string& content) {
    fs::create_directories((root_ / relative).parent_path());
    std::ofstream(root_ / relative) << content;
  }

  std::vector<RuleTest> Run(const RuleTestOptions& options = {}) {
    ScanOptions scan;
    scan.rule_paths = {(root_ / "rules").string()};
    Diagnostics diagnostics([](const Diagnostic&) {});
    ScanSummary summary;
    auto engine = Engine::Prepare(scan, diagnostics, summary);
    EXPECT_TRUE(engine) << engine.error().ToString();
    if (!engine) return {};
    engine_ = std::move(*engine);
    std::vector<RuleTest> tests = FindRuleTests(engine_->rules(), options);
    RunRuleTests(*engine_, tests);
    return tests;
  }
  const sigma::RuleInfo& RuleOf(const RuleTest& test) const {
    return engine_->rules().rules[test.rule].info;
  }

  fs::path root_;
  std::unique_ptr<Engine> engine_;
};

TEST_F(RuleTests, CountsAreMinimumsUnlessExactAndZeroMeansNone) {
  WriteRule("whoami", WHOAMI_ID, "whoami /all", "regression_data/whoami/info.yml");
  WriteInfo("whoami", WHOAMI_ID,
            "    - name: Two\n      type: json\n      match_count: 2\n"
            "      path: regression_data/whoami/two.json\n"
            "    - name: Any\n      type: json\n      path: regression_data/whoami/two.json\n"
            "    - name: Benign\n      type: json\n      match_count: 0\n"
            "      path: regression_data/whoami/benign.json\n"
            "    - name: At least one\n      type: json\n      match_count: 1\n"
            "      path: regression_data/whoami/two.json\n");
  WriteSample("regression_data/whoami/two.json",
              Event("whoami /all") + Event("dir") + Event("cmd /c whoami /all"));
  WriteSample("regression_data/whoami/benign.json", Event("whoami") + Event("dir"));

  std::vector<RuleTest> tests = Run();
  ASSERT_EQ(tests.size(), 1u);
  const RuleTest& test = tests[0];
  EXPECT_EQ(RuleOf(test).id, WHOAMI_ID);
  EXPECT_EQ(test.problem, "");
  EXPECT_EQ(fs::path(test.info_path), root_ / "regression_data/whoami/info.yml");
  ASSERT_EQ(test.cases.size(), 4u);
  EXPECT_EQ(test.cases[0].name, "Two");
  EXPECT_EQ(test.cases[0].type, "json");
  EXPECT_EQ(fs::path(test.cases[0].sample), root_ / "regression_data/whoami/two.json");
  for (const RuleTestCase& c : test.cases) EXPECT_TRUE(c.ran) << c.name;
  EXPECT_EQ(test.cases[0].alerts, 2u);
  EXPECT_EQ(test.cases[1].alerts, 2u);
  EXPECT_EQ(test.cases[2].alerts, 0u);
  EXPECT_EQ(test.cases[3].alerts, 2u);
  for (const RuleTestCase& c : test.cases) EXPECT_TRUE(c.passed()) << c.name;
  EXPECT_TRUE(test.passed());

  // Exact counts: two alerts where one is counted fails.
  RuleTestOptions exact;
  exact.exact_count = true;
  tests = Run(exact);
  ASSERT_EQ(tests.size(), 1u);
  ASSERT_EQ(tests[0].cases.size(), 4u);
  EXPECT_TRUE(tests[0].cases[0].passed());
  EXPECT_TRUE(tests[0].cases[1].passed());  // no count: at least one
  EXPECT_TRUE(tests[0].cases[2].passed());
  EXPECT_FALSE(tests[0].cases[3].passed());
  EXPECT_FALSE(tests[0].passed());
}

TEST_F(RuleTests, TooFewAlertsAndAlertsWhereNoneAreWantedFail) {
  WriteRule("whoami", WHOAMI_ID, "whoami /all", "regression_data/whoami/info.yml");
  WriteInfo("whoami", WHOAMI_ID,
            "    - name: Three\n      type: json\n      match_count: 3\n"
            "      path: regression_data/whoami/two.json\n"
            "    - name: None\n      type: json\n      match_count: 0\n"
            "      path: regression_data/whoami/two.json\n"
            "    - name: Some\n      type: json\n      path: regression_data/whoami/benign.json\n");
  WriteSample("regression_data/whoami/two.json", Event("whoami /all") + Event("whoami /all"));
  WriteSample("regression_data/whoami/benign.json", Event("dir"));
  std::vector<RuleTest> tests = Run();
  ASSERT_EQ(tests.size(), 1u);
  ASSERT_EQ(tests[0].cases.size(), 3u);
  for (const RuleTestCase& c : tests[0].cases) {
    EXPECT_FALSE(c.passed()) << c.name;
    EXPECT_EQ(c.error, "") << c.name;
  }
  EXPECT_EQ(tests[0].cases[0].alerts, 2u);
  EXPECT_EQ(tests[0].cases[2].alerts, 0u);
  EXPECT_FALSE(tests[0].passed());
}

TEST_F(RuleTests, ProblemsAreNamedAndOtherRulesStillRun) {
  const std::string other_id = "7a6b5c4d-3e2f-4a1b-9c8d-7e6f5a4b3c2d";
  // A path that exists nowhere above the rule.
  WriteRule("lost", "1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e", "lost",
            "regression_data/lost/info.yml");
  // An info.yml of another rule.
  WriteRule("copied", "2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f", "copied",
            "regression_data/copied/info.yml");
  WriteInfo("copied", other_id,
            "    - name: x\n      type: json\n      path: regression_data/copied/x.json\n");
  // Broken YAML.
  WriteRule("broken", "3d4e5f6a-7b8c-4d9e-8f1a-2b3c4d5e6f7a", "broken",
            "regression_data/broken/info.yml");
  fs::create_directories(root_ / "regression_data" / "broken");
  std::ofstream(root_ / "regression_data" / "broken" / "info.yml") << "rule_metadata: [\n";
  // No sample listed.
  WriteRule("empty", "4e5f6a7b-8c9d-4e0f-9a1b-3c4d5e6f7a8b", "empty",
            "regression_data/empty/info.yml");
  WriteInfo("empty", "4e5f6a7b-8c9d-4e0f-9a1b-3c4d5e6f7a8b", "");
  // A count that is no number.
  WriteRule("count", "5f6a7b8c-9d0e-4f1a-8b2c-4d5e6f7a8b9c", "count",
            "regression_data/count/info.yml");
  WriteInfo("count", "5f6a7b8c-9d0e-4f1a-8b2c-4d5e6f7a8b9c",
            "    - name: x\n      type: json\n      match_count: many\n"
            "      path: regression_data/count/x.json\n");
  // A sample that is missing, and one that is not JSON.
  WriteRule("samples", "6a7b8c9d-0e1f-4a2b-9c3d-5e6f7a8b9c0d", "whoami",
            "regression_data/samples/info.yml");
  WriteInfo("samples", "6a7b8c9d-0e1f-4a2b-9c3d-5e6f7a8b9c0d",
            "    - name: missing\n      type: json\n      path: regression_data/samples/gone.json\n"
            "    - name: garbage\n      type: json\n      path: regression_data/samples/bad.json\n"
            "    - name: good\n      type: json\n      path: regression_data/samples/good.json\n");
  WriteSample("regression_data/samples/bad.json", Event("whoami") + "{not json\n");
  WriteSample("regression_data/samples/good.json", Event("whoami"));
  // A rule without a test is not listed.
  WriteRule("untested", "7b8c9d0e-1f2a-4b3c-8d4e-6f7a8b9c0d1e", "untested", "");

  std::vector<RuleTest> tests = Run();
  ASSERT_EQ(tests.size(), 6u);
  std::map<std::string, const RuleTest*> by_title;
  for (const RuleTest& t : tests) by_title[RuleOf(t).title] = &t;
  ASSERT_EQ(by_title.size(), 6u);
  EXPECT_EQ(by_title.count("untested"), 0u);
  for (const char* title : {"lost", "copied", "broken", "empty", "count"}) {
    const RuleTest& t = *by_title[title];
    EXPECT_FALSE(t.passed()) << title;
    EXPECT_TRUE(t.cases.empty()) << title;
  }
  EXPECT_EQ(by_title["lost"]->problem,
            "regression_tests_path regression_data/lost/info.yml is in no folder above the rule");
  EXPECT_EQ(by_title["lost"]->info_path, "");
  EXPECT_NE(by_title["copied"]->problem.find("is the test of rule " + other_id), std::string::npos)
      << by_title["copied"]->problem;
  EXPECT_NE(by_title["broken"]->problem.find("cannot be read"), std::string::npos)
      << by_title["broken"]->problem;
  EXPECT_NE(by_title["empty"]->problem.find("lists no sample"), std::string::npos)
      << by_title["empty"]->problem;
  EXPECT_NE(by_title["count"]->problem.find("match_count 'many' is not a number"),
            std::string::npos)
      << by_title["count"]->problem;

  const RuleTest& samples = *by_title["samples"];
  EXPECT_EQ(samples.problem, "");
  ASSERT_EQ(samples.cases.size(), 3u);
  EXPECT_EQ(samples.cases[0].error, "the sample is missing");
  EXPECT_EQ(samples.cases[1].error, "1 of the sample's records could not be read");
  EXPECT_EQ(samples.cases[1].alerts, 1u);  // the good record still counts, the test fails
  EXPECT_FALSE(samples.cases[1].passed());
  EXPECT_TRUE(samples.cases[2].passed());
  EXPECT_FALSE(samples.passed());
}

TEST_F(RuleTests, RootGivenSampleBesideInfoAndJsonBesideEvtx) {
  // info.yml in a folder of its own, away from the rules: found only with a root.
  fs::path elsewhere = root_ / "tests-repo";
  WriteRule("whoami", WHOAMI_ID, "whoami /all", "data/whoami/info.yml");
  fs::create_directories(elsewhere / "data" / "whoami");
  std::ofstream(elsewhere / "data" / "whoami" / "info.yml")
      << "rule_metadata:\n    - id: " << WHOAMI_ID << "\nregression_tests_info:\n"
      << "    - name: moved\n      type: evtx\n      match_count: 1\n"
      // Written for another layout: the sample is found beside info.yml by its name.
      << "      path: regression_data/rules/windows/whoami/sample.evtx\n";
  // No EVTX file is at hand in a unit test: the evtx sample is missing, its JSON twin is not.
  std::ofstream(elsewhere / "data" / "whoami" / "sample.json") << Event("whoami /all");

  EXPECT_NE(Run()[0].problem, "");  // not above the rule

  RuleTestOptions options;
  options.root = elsewhere.string();
  options.with_json = true;
  std::vector<RuleTest> tests = Run(options);
  ASSERT_EQ(tests.size(), 1u);
  EXPECT_EQ(tests[0].problem, "");
  ASSERT_EQ(tests[0].cases.size(), 2u);
  EXPECT_EQ(tests[0].cases[0].type, "evtx");
  EXPECT_FALSE(tests[0].cases[0].extra_json);
  EXPECT_EQ(tests[0].cases[0].error, "the sample is missing");
  EXPECT_EQ(tests[0].cases[1].type, "json");
  EXPECT_TRUE(tests[0].cases[1].extra_json);
  EXPECT_EQ(fs::path(tests[0].cases[1].sample), elsewhere / "data/whoami/sample.json");
  EXPECT_TRUE(tests[0].cases[1].passed());
  EXPECT_FALSE(tests[0].passed());
}

// A correlation rule names its own info.yml: its samples are scanned with the rules it
// references, and the correlation's alerts are counted (the windows close at each sample's end;
// the events need not come in time order).
TEST_F(RuleTests, CorrelationRulesAreTestedByTheirOwnAlerts) {
  WriteRule("whoami", WHOAMI_ID, "whoami", "");
  std::ofstream(root_ / "rules" / "windows" / "whoami_burst.yml")
      << "title: Whoami burst\nid: 7a1e2d3c-4b5a-4968-8776-a5b4c3d2e1f9\n"
      << "correlation:\n  type: event_count\n  rules: [" << WHOAMI_ID << "]\n"
      << "  group-by: [Computer]\n  timespan: 10m\n  condition: {gte: 3}\n"
      << "level: high\nregression_tests_path: regression_data/burst/info.yml\n";
  auto timed = [](int minute, const std::string& host) {
    return R"({"Event":{"System":{"Provider":{"#attributes":{"Name":"Microsoft-Windows-Sysmon"}},)"
           R"("EventID":1,"Channel":"Microsoft-Windows-Sysmon/Operational","Computer":")" +
           host + R"(","TimeCreated":{"#attributes":{"SystemTime":"2026-11-29T10:)" +
           (minute < 10 ? "0" : "") + std::to_string(minute) +
           R"(:00Z"}}},"EventData":{"CommandLine":"whoami /all"}}})" + "\n";
  };
  WriteInfo("burst", "7a1e2d3c-4b5a-4968-8776-a5b4c3d2e1f9",
            "    - name: three on one host\n      type: json\n      match_count: 1\n"
            "      path: regression_data/burst/burst.json\n"
            "    - name: spread out\n      type: json\n      match_count: 0\n"
            "      path: regression_data/burst/spread.json\n");
  // Three on ws1 within ten minutes, written out of order; two on ws2.
  WriteSample(
      "regression_data/burst/burst.json",
      timed(7, "ws1") + timed(1, "ws1") + timed(2, "ws2") + timed(4, "ws1") + timed(3, "ws2"));
  // Three on ws1, but an hour apart.
  WriteSample("regression_data/burst/spread.json",
              timed(1, "ws1") + timed(30, "ws1") + timed(59, "ws1"));
  std::vector<RuleTest> tests = Run();
  ASSERT_EQ(tests.size(), 1u);
  const RuleTest& test = tests[0];
  EXPECT_TRUE(test.correlation);
  EXPECT_EQ(test.info(engine_->rules()).title, "Whoami burst");
  EXPECT_EQ(test.problem, "");
  ASSERT_EQ(test.cases.size(), 2u);
  EXPECT_EQ(test.cases[0].alerts, 1u);
  EXPECT_EQ(test.cases[1].alerts, 0u);
  EXPECT_TRUE(test.passed());

  // Counted exactly, a sample with two bursts gives two alerts.
  WriteSample("regression_data/burst/burst.json", timed(1, "ws1") + timed(2, "ws1") +
                                                      timed(3, "ws1") + timed(1, "ws2") +
                                                      timed(2, "ws2") + timed(3, "ws2"));
  RuleTestOptions exact;
  exact.exact_count = true;
  tests = Run(exact);
  ASSERT_EQ(tests.size(), 1u);
  EXPECT_EQ(tests[0].cases[0].alerts, 2u);
  EXPECT_FALSE(tests[0].passed());
}

// SigmaHQ's own regression data, found from its rules as `yagura rules test` finds it: every
// test passes, on the EVTX samples and on their JSON twins.
TEST(SigmaHqRuleTests, EveryRegressionTestPasses) {
  const std::vector<std::string> dirs = test_support::ActiveSigmaHqRuleDirs();
  if (dirs.empty() || !fs::exists(dirs.front()))
    GTEST_SKIP() << "SigmaHQ rules not found under " YAGURA_SHARED_DIR;
  ScanOptions scan;
  scan.rule_paths = dirs;
  scan.placeholders = test_support::ProjectPlaceholders();
  Diagnostics diagnostics([](const Diagnostic&) {});
  ScanSummary summary;
  auto engine = Engine::Prepare(scan, diagnostics, summary);
  ASSERT_TRUE(engine) << engine.error().ToString();
  RuleTestOptions options;
  options.with_json = true;
  std::vector<RuleTest> tests = FindRuleTests((*engine)->rules(), options);
  RunRuleTests(**engine, tests);
  EXPECT_EQ(tests.size(), 202u);
  size_t cases = 0;
  for (const RuleTest& t : tests) {
    EXPECT_TRUE(t.passed()) << (*engine)->rules().rules[t.rule].info.file << ": " << t.problem;
    for (const RuleTestCase& c : t.cases) {
      ++cases;
      EXPECT_TRUE(c.passed()) << c.sample << ": " << c.alerts << " alerts " << c.error;
    }
  }
  EXPECT_EQ(cases, 2 * tests.size());
}

}  // namespace
}  // namespace yagura::scan

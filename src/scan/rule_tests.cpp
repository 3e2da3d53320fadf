#include "scan/rule_tests.hpp"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <system_error>

#include "correlate/correlation_engine.hpp"
#include "correlate/event_time.hpp"

namespace yagura::scan {

namespace fs = std::filesystem;

namespace {

bool IsFile(const fs::path& path) {
  std::error_code ec;
  return fs::is_regular_file(path, ec);
}

std::string Scalar(const YAML::Node& node) {
  if (!node.IsDefined() || node.IsNull() || !node.IsScalar()) return {};
  return node.Scalar();
}

// The folder above `from` (itself included) under which `relative` exists, if any.
std::optional<fs::path> FindRoot(const fs::path& from, const fs::path& relative) {
  std::error_code ec;
  fs::path dir = fs::absolute(from, ec);
  if (ec) return std::nullopt;
  while (true) {
    if (IsFile(dir / relative)) return dir;
    fs::path parent = dir.parent_path();
    if (parent == dir) return std::nullopt;
    dir = std::move(parent);
  }
}

// A sample's path as info.yml writes it: under the root, else beside info.yml (by its name).
fs::path ResolveSample(const fs::path& root, const fs::path& info_dir, const std::string& path) {
  const fs::path written(path);
  if (written.is_absolute()) return written;
  if (!root.empty() && IsFile(root / written)) return root / written;
  if (IsFile(info_dir / written.filename())) return info_dir / written.filename();
  return root.empty() ? written : root / written;
}

// Reads info.yml into `test`: the cases, or the problem that stops them.
void ReadInfo(const sigma::RuleInfo& rule, const fs::path& root, const fs::path& info,
              const RuleTestOptions& options, RuleTest& test) {
  YAML::Node doc;
  try {
    doc = YAML::LoadFile(info.string());
  } catch (const YAML::Exception& e) {
    test.problem = fmt::format("{} cannot be read: {}", info.string(), e.what());
    return;
  }
  if (!doc.IsMap()) {
    test.problem = fmt::format("{} is not a YAML map", info.string());
    return;
  }
  // The test must be the rule's: a copied folder left pointing at another rule tests nothing.
  const YAML::Node metadata = doc["rule_metadata"];
  std::vector<std::string> ids;
  if (metadata.IsSequence()) {
    for (const YAML::Node& entry : metadata)
      if (entry.IsMap()) ids.push_back(Scalar(entry["id"]));
  }
  if (ids.empty()) {
    test.problem = fmt::format("{} has no rule_metadata naming the rule's id", info.string());
    return;
  }
  if (!rule.id.empty() && std::find(ids.begin(), ids.end(), rule.id) == ids.end()) {
    test.problem = fmt::format("{} is the test of rule {}, not of this rule ({})", info.string(),
                               ids.front(), rule.id);
    return;
  }
  const YAML::Node list = doc["regression_tests_info"];
  if (!list.IsSequence() || list.size() == 0) {
    test.problem = fmt::format("{} lists no sample under regression_tests_info", info.string());
    return;
  }
  const fs::path info_dir = info.parent_path();
  for (const YAML::Node& entry : list) {
    RuleTestCase c;
    if (!entry.IsMap()) {
      test.problem =
          fmt::format("{}: an entry of regression_tests_info is not a map", info.string());
      return;
    }
    c.name = Scalar(entry["name"]);
    c.type = Scalar(entry["type"]);
    const std::string path = Scalar(entry["path"]);
    if (path.empty()) {
      test.problem = fmt::format("{}: test '{}' has no path", info.string(), c.name);
      return;
    }
    const YAML::Node count = entry["match_count"];
    if (count.IsDefined() && !count.IsNull()) {
      try {
        c.match_count = count.as<int64_t>();
      } catch (const YAML::Exception&) {
        test.problem = fmt::format("{}: test '{}': match_count '{}' is not a number", info.string(),
                                   c.name, Scalar(count));
        return;
      }
      if (*c.match_count < 0) {
        test.problem = fmt::format("{}: test '{}': match_count is negative", info.string(), c.name);
        return;
      }
    }
    c.exact = options.exact_count;
    c.sample = ResolveSample(root, info_dir, path).string();
    test.cases.push_back(c);
    if (options.with_json && c.type == "evtx") {
      RuleTestCase json = c;
      json.type = "json";
      json.extra_json = true;
      // Resolved by itself: the twin may be where the evtx sample is not.
      json.sample =
          ResolveSample(root, info_dir, fs::path(path).replace_extension(".json").string())
              .string();
      test.cases.push_back(std::move(json));
    }
  }
}

}  // namespace

bool RuleTest::passed() const {
  if (!problem.empty() || cases.empty()) return false;
  return std::all_of(cases.begin(), cases.end(), [](const RuleTestCase& c) { return c.passed(); });
}

std::vector<RuleTest> FindRuleTests(const sigma::RuleSet& rules, const RuleTestOptions& options) {
  std::vector<RuleTest> tests;
  auto find = [&](const sigma::RuleInfo& rule, uint32_t index, bool correlation) {
    if (rule.regression_tests_path.empty()) return;
    RuleTest test;
    test.rule = index;
    test.correlation = correlation;
    const fs::path relative(rule.regression_tests_path);
    std::optional<fs::path> root;
    if (relative.is_absolute()) {
      root = fs::path();
    } else if (!options.root.empty()) {
      root = fs::path(options.root);
    } else {
      root = FindRoot(fs::path(rule.file).parent_path(), relative);
    }
    const fs::path info = root ? *root / relative : relative;
    if (!root || !IsFile(info)) {
      test.problem = options.root.empty()
                         ? fmt::format("regression_tests_path {} is in no folder above the rule",
                                       relative.string())
                         : fmt::format("regression_tests_path {} is not under {}",
                                       relative.string(), options.root);
      tests.push_back(std::move(test));
      return;
    }
    test.info_path = info.string();
    ReadInfo(rule, *root, info, options, test);
    tests.push_back(std::move(test));
  };
  for (uint32_t r = 0; r < rules.rules.size(); ++r) find(rules.rules[r].info, r, false);
  for (uint32_t c = 0; c < rules.correlations.size(); ++c)
    find(rules.correlations[c].info, c, true);
  return tests;
}

void RunRuleTests(Engine& engine, std::vector<RuleTest>& tests) {
  const sigma::RuleSet& rules = engine.rules();
  // A sample is a few events of an attack, written in no particular order: every match counts
  // however late it comes, and the windows close at the sample's end.
  correlate::CorrelationOptions correlation_options;
  correlation_options.allowed_lateness_ms = int64_t{1} << 50;
  for (RuleTest& test : tests) {
    if (!test.problem.empty()) continue;
    const sigma::Rule* rule = test.correlation ? nullptr : &rules.rules[test.rule];
    for (RuleTestCase& c : test.cases) {
      c.ran = true;
      if (!IsFile(c.sample)) {
        c.error = "the sample is missing";
        continue;
      }
      ScanSummary summary;
      uint64_t alerts = 0;
      std::optional<correlate::CorrelationEngine> correlations;
      std::vector<correlate::CorrelationAlert> fired;
      auto count_fired = [&] {
        for (const auto& alert : fired) alerts += alert.correlation_index == test.rule;
        fired.clear();
      };
      if (test.correlation) correlations.emplace(rules, engine.catalog(), correlation_options);
      engine.Scan(
          {c.sample},
          [&](const sigma::Rule& alerted, const event::Event& event, const event::Record& record,
              const std::string&) {
            if (!correlations) {
              alerts += &alerted == rule;
              return;
            }
            const auto index = static_cast<uint32_t>(&alerted - rules.rules.data());
            if (!correlations->Referenced(index)) return;
            const std::optional<int64_t> time = correlate::EventTimeMs(event);
            if (!time) return;
            correlate::RuleMatch match;
            match.rule_index = index;
            match.event_time_ms = *time;
            match.sequence = record.number;
            match.event = &event;
            correlations->Observe(match, fired);
            count_fired();
          },
          summary);
      if (correlations) {
        correlations->Finish(fired);
        count_fired();
      }
      c.alerts = alerts;
      if (summary.files_failed != 0) {
        c.error = "the sample could not be read";
      } else if (summary.records_skipped != 0) {
        c.error =
            fmt::format("{} of the sample's records could not be read", summary.records_skipped);
      } else if (summary.records_read == 0) {
        c.error = "the sample holds no record";
      }
    }
  }
}

}  // namespace yagura::scan

#include <fmt/format.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <map>

#include "cli/commands.hpp"
#include "cli/placeholders.hpp"
#include "core/json_writer.hpp"
#include "core/time.hpp"
#include "scan/report_file.hpp"
#include "scan/rule_tests.hpp"
#include "scan/scanner.hpp"
#include "sigma/rule_set.hpp"

namespace yagura::cli {

RulesCommand::RulesCommand(CLI::App& app) {
  command_ = app.add_subcommand("rules", "Work with Sigma rules");
  command_->require_subcommand(1);
  check_ = command_->add_subcommand(
      "check", "Load rules and report every rule that fails, with file, line and reason");
  check_->add_option("paths", paths_, "Rule files or directories")->required();
  check_->add_flag("--json", json_,
                   R"(Print {"loaded": N, "failed": N, "failures": [{"file","line","reason"}]})");
  check_->add_option("--placeholders", placeholders_file_,
                     "YAML file of |expand placeholder values (default: config/placeholders.yml)");

  test_ = command_->add_subcommand(
      "test",
      "Run the rules' regression tests: each rule's sample logs (SigmaHQ's regression_tests_path "
      "and info.yml) must raise its alerts");
  test_->add_option("paths", paths_, "Rule files or directories")->required();
  test_->add_option("--root", root_,
                    "The rule repository's root, which regression_tests_path and the samples' "
                    "paths are relative to (default: the folder above each rule where the path "
                    "exists)");
  test_->add_flag("--with-json", with_json_,
                  "Also scan the .json beside each evtx sample (the same events in evtx_dump's "
                  "JSON), with the same expectation");
  test_->add_flag("--exact-count", exact_count_,
                  "A test's match_count is the exact number of alerts its sample must raise "
                  "(default: at least that many, as SigmaHQ's counts are minimums)");
  test_->add_flag("--require-tests", require_tests_,
                  "Fail, and list them, when some rules name no regression test");
  test_->add_flag("--verbose,-v", verbose_, "List the tests that pass too");
  test_->add_flag("--json", json_, "Print the report as one JSON object");
  test_->add_option("--placeholders", placeholders_file_,
                    "YAML file of |expand placeholder values (default: config/placeholders.yml)");
  test_->add_option("--cache-dir", cache_dir_,
                    "Compiled matcher cache (default: $XDG_CACHE_HOME/yagura)");
  test_->add_flag("--no-cache", no_cache_, "Do not read or write the compiled matcher cache");

  list_ = command_->add_subcommand(
      "list",
      "List the rules a scan would run, after the same selection and tuning (levels, tags, "
      "status, rule lists, level overrides), with counts by level, status and logsource");
  list_->add_option("paths", paths_, "Rule files or directories")->required();
  AddRuleSelectionOptions(list_, selection_, min_level_);
  list_->add_flag(
      "--json", json_,
      R"(Print {"loaded", "failed", "listed", "by_level", "by_status", "rules": [...]})");
  list_->add_option("--attack-layer", attack_layer_path_,
                    "Also write the MITRE ATT&CK techniques the listed rules name to this file, "
                    "as an ATT&CK Navigator layer of the rule set's coverage");
  list_
      ->add_option("--attack-layer-score", attack_layer_score_,
                   "A technique's score in the --attack-layer: 'rules' (how many name it: the "
                   "default) or 'level' (the highest level among them, a colour each)")
      ->check(CLI::IsMember({"rules", "level"}));
  list_->add_option("--placeholders", placeholders_file_,
                    "YAML file of |expand placeholder values (default: config/placeholders.yml)");
}

int RulesCommand::Run() {
  if (test_->parsed()) return Test();
  if (list_->parsed()) return List();
  return Check();
}

namespace {

// The rules that could not be loaded, as `rules check --json` and `rules test --json` list them.
void WriteLoadFailures(JsonWriter& w, const std::vector<sigma::RuleFailure>& failures) {
  w.BeginArray();
  for (const auto& f : failures) {
    w.BeginObject().Key("file").String(f.file).Key("line").Int(f.line);
    w.Key("reason").String(f.reason).EndObject();
  }
  w.EndArray();
}

}  // namespace

int RulesCommand::Check() {
  sigma::LoadOptions options;
  auto placeholders = ResolvePlaceholders(placeholders_file_);
  if (!placeholders) {
    std::cerr << "yagura rules check: " << placeholders.error().ToString() << "\n";
    return EXIT_USAGE;
  }
  options.placeholders = std::move(*placeholders);
  for (const auto& p : paths_) {
    if (!std::filesystem::exists(p)) {
      std::cerr << "yagura rules check: " << p << ": no such file or directory\n";
      return EXIT_USAGE;
    }
  }

  event::FieldCatalog catalog;
  sigma::RuleSet rules = sigma::RuleSet::Load(paths_, catalog, options);
  size_t loaded = rules.rules.size() + rules.correlations.size();
  if (json_) {
    std::string out;
    JsonWriter w(out);
    w.BeginObject().Key("loaded").Uint(loaded).Key("failed").Uint(rules.failures.size());
    w.Key("failures");
    WriteLoadFailures(w, rules.failures);
    w.EndObject();
    std::cout << out << "\n";
  } else {
    for (const auto& f : rules.failures) {
      std::cout << f.file << ":" << f.line << ": " << f.reason << "\n";
    }
    std::cout << fmt::format("{} rules loaded, {} failed\n", loaded, rules.failures.size());
  }
  return rules.failures.empty() ? EXIT_OK : EXIT_PARTIAL;
}

namespace {

std::string CaseLine(const scan::RuleTestCase& c) {
  std::string expected = !c.match_count ? std::string("expected at least 1")
                         : c.exact || *c.match_count == 0
                             ? fmt::format("expected {}", *c.match_count)
                             : fmt::format("expected at least {}", *c.match_count);
  std::string what = c.error.empty() ? fmt::format("{} alerts, {}", c.alerts, expected)
                                     : fmt::format("{} ({})", c.error, expected);
  return fmt::format("{} [{}] {}: {}", c.name.empty() ? "(unnamed)" : c.name, c.type, c.sample,
                     what);
}

}  // namespace

int RulesCommand::Test() {
  const char* self = "yagura rules test";
  if (!root_.empty() && !std::filesystem::is_directory(root_)) {
    std::cerr << self << ": --root " << root_ << ": no such directory\n";
    return EXIT_USAGE;
  }
  for (const auto& p : paths_) {
    if (!std::filesystem::exists(p)) {
      std::cerr << self << ": " << p << ": no such file or directory\n";
      return EXIT_USAGE;
    }
  }
  scan::ScanOptions options;
  options.rule_paths = paths_;
  options.cache_dir = no_cache_ ? "" : cache_dir_.empty() ? DefaultCacheDir() : cache_dir_;
  auto placeholders = ResolvePlaceholders(placeholders_file_);
  if (!placeholders) {
    std::cerr << self << ": " << placeholders.error().ToString() << "\n";
    return EXIT_USAGE;
  }
  options.placeholders = std::move(*placeholders);

  // Rules that fail to load are listed (as `rules check` does) and fail the run; the others
  // are still tested.
  Diagnostics diagnostics([self](const Diagnostic& d) {
    const char* kind = d.kind == DiagnosticKind::kWarning ? "warning: " : "";
    std::fprintf(stderr, "%s: %s: %s%s\n", self, d.where.c_str(), kind, d.message.c_str());
  });
  scan::ScanSummary load_summary;
  auto engine = scan::Engine::Prepare(options, diagnostics, load_summary);
  if (!engine) {
    std::cerr << self << ": " << engine.error().ToString() << "\n";
    return EXIT_PARTIAL;
  }
  const sigma::RuleSet& rules = (*engine)->rules();
  scan::RuleTestOptions test_options;
  test_options.root = root_;
  test_options.with_json = with_json_;
  test_options.exact_count = exact_count_;
  std::vector<scan::RuleTest> tests = scan::FindRuleTests(rules, test_options);
  scan::RunRuleTests(**engine, tests);

  size_t passed = 0;
  for (const auto& t : tests) passed += t.passed();
  const size_t failed = tests.size() - passed;
  // Rules and correlations without a test.
  std::vector<const sigma::RuleInfo*> untested;
  {
    std::vector<bool> has_test(rules.rules.size(), false);
    std::vector<bool> correlation_has_test(rules.correlations.size(), false);
    for (const auto& t : tests) (t.correlation ? correlation_has_test : has_test)[t.rule] = true;
    for (uint32_t r = 0; r < rules.rules.size(); ++r)
      if (!has_test[r]) untested.push_back(&rules.rules[r].info);
    for (uint32_t c = 0; c < rules.correlations.size(); ++c)
      if (!correlation_has_test[c]) untested.push_back(&rules.correlations[c].info);
  }

  if (json_) {
    std::string out;
    JsonWriter w(out);
    w.BeginObject();
    w.Key("rules").Uint(rules.rules.size());
    w.Key("correlations").Uint(rules.correlations.size());
    w.Key("rules_failed_to_load").Uint(rules.failures.size());
    w.Key("tested").Uint(tests.size()).Key("passed").Uint(passed).Key("failed").Uint(failed);
    w.Key("without_tests").Uint(untested.size());
    w.Key("results").BeginArray();
    for (const auto& t : tests) {
      const sigma::RuleInfo& info = t.info(rules);
      w.BeginObject().Key("rule_id").String(info.id).Key("title").String(info.title);
      w.Key("correlation").Bool(t.correlation);
      w.Key("file").String(info.file).Key("info").String(t.info_path);
      w.Key("passed").Bool(t.passed());
      if (!t.problem.empty()) w.Key("problem").String(t.problem);
      w.Key("cases").BeginArray();
      for (const auto& c : t.cases) {
        w.BeginObject().Key("name").String(c.name).Key("type").String(c.type);
        w.Key("sample").String(c.sample);
        // The least number of alerts that passes, and whether more fail the test.
        w.Key("expected").Int(c.match_count ? *c.match_count : 1);
        w.Key("exact").Bool(c.match_count && (c.exact || *c.match_count == 0));
        w.Key("alerts").Uint(c.alerts).Key("passed").Bool(c.passed());
        if (!c.error.empty()) w.Key("error").String(c.error);
        w.EndObject();
      }
      w.EndArray().EndObject();
    }
    w.EndArray();
    if (require_tests_) {
      w.Key("untested").BeginArray();
      for (const sigma::RuleInfo* untested_info : untested) {
        const sigma::RuleInfo& info = *untested_info;
        w.BeginObject().Key("rule_id").String(info.id).Key("title").String(info.title);
        w.Key("file").String(info.file).EndObject();
      }
      w.EndArray();
    }
    w.Key("load_failures");
    WriteLoadFailures(w, rules.failures);
    w.EndObject();
    std::cout << out << "\n";
  } else {
    // Load failures were printed as the rules loaded (the diagnostics above).
    for (const auto& t : tests) {
      const bool ok = t.passed();
      if (ok && !verbose_) continue;
      const sigma::RuleInfo& info = t.info(rules);
      std::cout << fmt::format("{}  {}  {} ({})\n", ok ? "PASS" : "FAIL", info.file, info.title,
                               info.id);
      if (!t.problem.empty()) std::cout << "      " << t.problem << "\n";
      for (const auto& c : t.cases)
        if (!ok || verbose_)
          std::cout << "      " << (c.passed() ? "ok  " : "FAIL") << "  " << CaseLine(c) << "\n";
    }
    if (require_tests_) {
      for (const sigma::RuleInfo* untested_info : untested) {
        const sigma::RuleInfo& info = *untested_info;
        std::cout << fmt::format("NONE  {}  {} ({}): no regression_tests_path\n", info.file,
                                 info.title, info.id);
      }
    }
    std::cout << fmt::format("{} rules with regression tests: {} passed, {} failed; {} without\n",
                             tests.size(), passed, failed, untested.size());
    if (!rules.failures.empty())
      std::cout << fmt::format("{} rules failed to load\n", rules.failures.size());
  }
  const bool ok = failed == 0 && rules.failures.empty() && (!require_tests_ || untested.empty());
  return ok ? EXIT_OK : EXIT_PARTIAL;
}

}  // namespace yagura::cli

namespace yagura::cli {
namespace {

// A rule's logsource as rules write it: "product=windows category=process_creation".
std::string LogsourceText(const event::Logsource& logsource) {
  std::string text;
  auto add = [&](std::string_view key, const std::string& value) {
    if (value.empty()) return;
    if (!text.empty()) text += ' ';
    text.append(key).append("=").append(value);
  };
  add("product", logsource.product);
  add("category", logsource.category);
  add("service", logsource.service);
  return text;
}

}  // namespace

int RulesCommand::List() {
  const char* self = "yagura rules list";
  for (const auto& p : paths_) {
    if (!std::filesystem::exists(p)) {
      std::cerr << self << ": " << p << ": no such file or directory\n";
      return EXIT_USAGE;
    }
  }
  if (!attack_layer_score_.empty() && attack_layer_path_.empty()) {
    std::cerr << self << ": --attack-layer-score applies only with --attack-layer\n";
    return EXIT_USAGE;
  }
  auto placeholders = ResolvePlaceholders(placeholders_file_);
  if (!placeholders) {
    std::cerr << self << ": " << placeholders.error().ToString() << "\n";
    return EXIT_USAGE;
  }
  // The layer's file is opened first, so that a path that takes no file is said at once.
  scan::ReportFile layer_file;
  if (!attack_layer_path_.empty()) {
    if (auto opened = layer_file.Open(attack_layer_path_, "--attack-layer"); !opened) {
      std::cerr << self << ": " << opened.error().message << "\n";
      return EXIT_USAGE;
    }
  }
  scan::ScanOptions options = selection_;
  options.rule_paths = paths_;
  options.placeholders = std::move(*placeholders);
  options.min_level = LevelNamed(min_level_);
  options.detect = false;  // the rules as chosen, without compiling a matcher
  Diagnostics diagnostics([self](const Diagnostic& d) {
    const char* kind = d.kind == DiagnosticKind::kWarning ? "warning: " : "";
    std::fprintf(stderr, "%s: %s: %s%s\n", self, d.where.c_str(), kind, d.message.c_str());
  });
  scan::ScanSummary summary;
  auto engine = scan::Engine::Prepare(options, diagnostics, summary);
  if (!engine) {
    std::cerr << self << ": " << engine.error().ToString() << "\n";
    return EXIT_PARTIAL;
  }
  const sigma::RuleSet& rules = (*engine)->rules();
  struct Listed {
    const sigma::RuleInfo* info;
    bool correlation;
  };
  std::vector<Listed> listed;
  for (uint32_t i = 0; i < rules.rules.size(); ++i)
    if ((*engine)->Selected(i)) listed.push_back({&rules.rules[i].info, false});
  for (uint32_t i = 0; i < rules.correlations.size(); ++i)
    if ((*engine)->CorrelationSelected(i)) listed.push_back({&rules.correlations[i].info, true});
  std::map<sigma::Level, uint64_t> by_level;
  std::map<std::string, uint64_t> by_status;
  for (const Listed& rule : listed) {
    ++by_level[rule.info->level];
    ++by_status[rule.info->status.empty() ? "(none)" : rule.info->status];
  }
  const uint64_t loaded = summary.rules_in_files;

  if (json_) {
    std::string out;
    JsonWriter w(out);
    w.BeginObject();
    w.Key("loaded").Uint(loaded);
    w.Key("failed").Uint(summary.rules_failed);
    w.Key("listed").Uint(listed.size());
    w.Key("by_level").BeginObject();
    for (auto it = by_level.rbegin(); it != by_level.rend(); ++it)
      w.Key(sigma::LevelName(it->first)).Uint(it->second);
    w.EndObject();
    w.Key("by_status").BeginObject();
    for (const auto& [status, count] : by_status) w.Key(status).Uint(count);
    w.EndObject();
    w.Key("rules").BeginArray();
    for (const Listed& rule : listed) {
      const sigma::RuleInfo& info = *rule.info;
      w.BeginObject();
      w.Key("id").String(info.id).Key("title").String(info.title);
      w.Key("kind").String(rule.correlation ? "correlation" : "rule");
      w.Key("level").String(sigma::LevelName(info.level)).Key("status").String(info.status);
      w.Key("logsource").BeginObject();
      if (!info.logsource.product.empty()) w.Key("product").String(info.logsource.product);
      if (!info.logsource.category.empty()) w.Key("category").String(info.logsource.category);
      if (!info.logsource.service.empty()) w.Key("service").String(info.logsource.service);
      w.EndObject();
      w.Key("tags").BeginArray();
      for (const auto& tag : info.tags) w.String(tag);
      w.EndArray();
      w.Key("file").String(info.file).Key("line").Int(info.line);
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
    std::cout << out << "\n";
  } else {
    for (const Listed& rule : listed) {
      const sigma::RuleInfo& info = *rule.info;
      std::cout << fmt::format(
          "{:<13} {:<12} {:<36}  {}{}  [{}]\n", sigma::LevelName(info.level),
          info.status.empty() ? "-" : info.status, info.id.empty() ? "-" : info.id,
          rule.correlation ? "(correlation) " : "", info.title, LogsourceText(info.logsource));
    }
    std::string levels;
    for (auto it = by_level.rbegin(); it != by_level.rend(); ++it)
      levels += fmt::format("{}{} {}", levels.empty() ? "" : ", ", it->second,
                            sigma::LevelName(it->first));
    std::cerr << fmt::format("{}: {} listed ({}); {} loaded, {} failed\n", self, listed.size(),
                             levels.empty() ? "none" : levels, loaded, summary.rules_failed);
  }
  if (layer_file.is_open()) {
    std::vector<const sigma::RuleInfo*> infos;
    for (const Listed& rule : listed) infos.push_back(rule.info);
    const scan::TechniqueScore score = attack_layer_score_ == "level"
                                           ? scan::TechniqueScore::kLevel
                                           : scan::TechniqueScore::kRules;
    attack::NavigatorLayer layer = scan::RuleCoverageLayer(infos, paths_, score, NowMs());
    const size_t techniques = layer.techniques.size();
    std::string json = attack::LayerJson(layer).Serialize();
    json.push_back('\n');
    if (auto written = layer_file.WriteAndClose(json); !written) {
      std::cerr << self << ": " << written.error().message << "\n";
      return EXIT_PARTIAL;
    }
    std::cerr << fmt::format("{}: {} techniques of the Enterprise matrix in {}\n", self, techniques,
                             attack_layer_path_);
  }
  if (listed.empty()) {
    std::cerr << self << ": no loaded rule matches the selection\n";
    return EXIT_PARTIAL;
  }
  return summary.rules_failed ? EXIT_PARTIAL : EXIT_OK;
}

}  // namespace yagura::cli

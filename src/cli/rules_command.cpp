#include <filesystem>
#include <fmt/format.h>
#include <iostream>

#include "cli/commands.hpp"
#include "cli/placeholders.hpp"
#include "core/json_writer.hpp"
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
}

int RulesCommand::Run() {
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
    w.Key("failures").BeginArray();
    for (const auto& f : rules.failures) {
      w.BeginObject().Key("file").String(f.file).Key("line").Int(f.line);
      w.Key("reason").String(f.reason).EndObject();
    }
    w.EndArray().EndObject();
    std::cout << out << "\n";
  } else {
    for (const auto& f : rules.failures) {
      std::cout << f.file << ":" << f.line << ": " << f.reason << "\n";
    }
    std::cout << fmt::format("{} rules loaded, {} failed\n", loaded, rules.failures.size());
  }
  return rules.failures.empty() ? EXIT_OK : EXIT_PARTIAL;
}

}  // namespace yagura::cli

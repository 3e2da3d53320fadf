// Where the test suite finds SigmaHQ's rules and the project's placeholder values.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "sigma/rule_set.hpp"

namespace yagura::test_support {

// The five folders of active SigmaHQ rules (3,780 rules).
inline std::vector<std::string> ActiveSigmaHqRuleDirs() {
  std::filesystem::path root = std::filesystem::path(YAGURA_SHARED_DIR) / "data/sigma/sigmahq";
  std::vector<std::string> dirs;
  for (const char* name : {"rules", "rules-emerging-threats", "rules-threat-hunting",
                           "rules-placeholder", "rules-compliance"}) {
    dirs.push_back((root / name).string());
  }
  return dirs;
}

// config/placeholders.yml of the project: the values `yagura` uses for |expand by default.
inline std::map<std::string, std::vector<std::string>> ProjectPlaceholders() {
  auto options = sigma::LoadOptions::WithPlaceholderFile(std::string(YAGURA_SOURCE_DIR) + "/" +
                                                         sigma::LoadOptions::DEFAULT_PLACEHOLDER_FILE);
  return options ? options->placeholders : std::map<std::string, std::vector<std::string>>{};
}

}  // namespace yagura::test_support

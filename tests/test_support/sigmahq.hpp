// Where the test suite finds SigmaHQ's rules and the project's placeholder values.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

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

// rules/placeholders.yml of the project: the values `yagura` uses for |expand by default.
inline std::map<std::string, std::vector<std::string>> ProjectPlaceholders() {
  std::map<std::string, std::vector<std::string>> out;
  YAML::Node root = YAML::LoadFile(std::string(YAGURA_SOURCE_DIR) + "/rules/placeholders.yml");
  for (const auto& entry : root) {
    std::vector<std::string> values;
    if (entry.second.IsSequence()) {
      for (const auto& v : entry.second) values.push_back(v.as<std::string>());
    } else {
      values.push_back(entry.second.as<std::string>());
    }
    out[entry.first.as<std::string>()] = values;
  }
  return out;
}

}  // namespace yagura::test_support

#include "cli/placeholders.hpp"

#include <yaml-cpp/yaml.h>

#include <cstdlib>

namespace yagura::cli {

Result<std::map<std::string, std::vector<std::string>>> LoadPlaceholders(const std::string& path) {
  std::map<std::string, std::vector<std::string>> out;
  try {
    YAML::Node root = YAML::LoadFile(path);
    if (!root || root.IsNull()) return out;
    if (!root.IsMap()) return Fail("placeholders must be a map of name -> values", path);
    for (const auto& entry : root) {
      auto name = entry.first.as<std::string>();
      std::vector<std::string> values;
      if (entry.second.IsSequence()) {
        for (const auto& value : entry.second) values.push_back(value.as<std::string>());
      } else if (entry.second.IsScalar()) {
        values.push_back(entry.second.as<std::string>());
      } else {
        return Fail("placeholder '" + name + "' must be a value or a list of values", path);
      }
      out[name] = std::move(values);
    }
  } catch (const YAML::Exception& e) {
    return Fail(std::string("cannot read placeholders: ") + e.what(), path);
  }
  return out;
}

std::string DefaultCacheDir() {
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) {
    return std::string(xdg) + "/yagura";
  }
  if (const char* home = std::getenv("HOME"); home && *home) {
    return std::string(home) + "/.cache/yagura";
  }
  return {};
}

}  // namespace yagura::cli

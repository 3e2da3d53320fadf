// RuleSet entry points: loading (sigma/loader.cpp does the work) and placeholder files.
#include "sigma/rule_set.hpp"

#include <yaml-cpp/yaml.h>

#include "sigma/loader.hpp"

namespace yagura::sigma {

RuleSet RuleSet::Load(const std::vector<std::string>& paths, event::FieldCatalog& catalog,
                      const LoadOptions& options) {
  return LoadRules(paths, catalog, options);
}

Result<LoadOptions> LoadOptions::WithPlaceholderFile(const std::string& path) {
  LoadOptions options;
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    return Fail("cannot read placeholder file", path);
  } catch (const YAML::Exception& e) {
    return Fail("YAML parse error: " + e.msg,
                path + ":" + std::to_string(e.mark.is_null() ? 0 : e.mark.line + 1));
  }
  if (root.IsNull()) return options;
  if (!root.IsMap()) return Fail("placeholder file must be a map of name -> values", path);
  for (const auto& entry : root) {
    std::string name = entry.first.Scalar();
    // Accept "%Name%" as well as "Name".
    if (name.size() >= 2 && name.front() == '%' && name.back() == '%') {
      name = name.substr(1, name.size() - 2);
    }
    std::vector<std::string>& values = options.placeholders[name];
    const YAML::Node& node = entry.second;
    std::string where = path + ":" + std::to_string(node.Mark().line + 1);
    if (node.IsScalar()) {
      values.push_back(node.Scalar());
    } else if (node.IsSequence()) {
      for (const YAML::Node& value : node) {
        if (!value.IsScalar()) return Fail("placeholder '" + name + "' must list strings", where);
        values.push_back(value.Scalar());
      }
    } else {
      return Fail("placeholder '" + name + "' must be a string or a list of strings", where);
    }
    if (values.empty()) return Fail("placeholder '" + name + "' has no values", where);
  }
  return options;
}

}  // namespace yagura::sigma

// What the micro benchmarks share: the logsource mapping and every active SigmaHQ rule of
// ../shared, loaded into one field catalog as `yagura scan` loads them.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "event/field_catalog.hpp"
#include "event/logsource_mapping.hpp"
#include "sigma/rule_set.hpp"

namespace yagura::bench {

struct SigmaHqRules {
  event::FieldCatalog catalog;
  std::optional<event::LogsourceMapping> mapping;
  sigma::RuleSet rules;
  std::string error;  // set when the rules or the mapping could not be loaded
};

// Loads into `out`; `also_needed` (relative to ../shared) must exist too.
inline void LoadSigmaHqRules(SigmaHqRules& out, const std::string& also_needed) {
  namespace fs = std::filesystem;
  const fs::path shared = YAGURA_SHARED_DIR;
  const fs::path sigmahq = shared / "data/sigma/sigmahq";
  if (!fs::exists(sigmahq / "rules") || !fs::exists(shared / also_needed)) {
    out.error = "SigmaHQ rules or " + also_needed + " not found under " + shared.string();
    return;
  }
  auto options = sigma::LoadOptions::WithPlaceholderFile(
      std::string(YAGURA_SOURCE_DIR) + "/" + sigma::LoadOptions::DEFAULT_PLACEHOLDER_FILE);
  auto mapping = event::LogsourceMapping::LoadDefault();
  if (!options || !mapping) {
    out.error = "cannot load placeholders or the logsource mapping";
    return;
  }
  out.mapping.emplace(std::move(*mapping));
  out.mapping->InternFields(out.catalog);
  std::vector<std::string> paths;
  for (const char* dir : {"rules", "rules-emerging-threats", "rules-threat-hunting",
                          "rules-placeholder", "rules-compliance"}) {
    paths.push_back((sigmahq / dir).string());
  }
  out.rules = sigma::RuleSet::Load(paths, out.catalog, *options);
}

}  // namespace yagura::bench

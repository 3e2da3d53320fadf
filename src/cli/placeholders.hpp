// Placeholder values for Sigma's |expand modifier, and where caches live.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/result.hpp"

namespace yagura::cli {

// Reads a YAML map of placeholder name -> value or list of values.
[[nodiscard]] Result<std::map<std::string, std::vector<std::string>>> LoadPlaceholders(
    const std::string& path);

// $XDG_CACHE_HOME/yagura, or ~/.cache/yagura.
[[nodiscard]] std::string DefaultCacheDir();

}  // namespace yagura::cli

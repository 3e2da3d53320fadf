// Where the project's data and caches live, and the placeholder values a command uses.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/result.hpp"

namespace yagura::cli {

// The |expand placeholder values for a command: from `explicit_file` when given (an error if it
// cannot be read), else from the project's config/placeholders.yml when present, else none.
[[nodiscard]] Result<std::map<std::string, std::vector<std::string>>> ResolvePlaceholders(
    const std::string& explicit_file);

// $XDG_CACHE_HOME/yagura, or ~/.cache/yagura.
[[nodiscard]] std::string DefaultCacheDir();

}  // namespace yagura::cli

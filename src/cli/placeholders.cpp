#include "cli/placeholders.hpp"

#include <cstdlib>
#include <filesystem>

#include "cli/commands.hpp"
#include "sigma/rule_set.hpp"

namespace yagura::cli {

Result<std::map<std::string, std::vector<std::string>>> ResolvePlaceholders(
    const std::string& explicit_file) {
  std::string path =
      explicit_file.empty()
          ? DataDir() + "/" + sigma::LoadOptions::DEFAULT_PLACEHOLDER_FILE
          : explicit_file;
  if (explicit_file.empty() && !std::filesystem::exists(path)) {
    return std::map<std::string, std::vector<std::string>>{};
  }
  auto options = sigma::LoadOptions::WithPlaceholderFile(path);
  if (!options) return tl::unexpected(options.error());
  return std::move(options->placeholders);
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

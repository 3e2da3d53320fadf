// Rule lists and level overrides (see rule_tuning.hpp).
#include "scan/rule_tuning.hpp"

#include <fmt/format.h>

#include <array>
#include <fstream>
#include <string_view>

namespace yagura::scan {
namespace {

std::string_view Trim(std::string_view text) {
  const size_t begin = text.find_first_not_of(" \t\r");
  if (begin == std::string_view::npos) return {};
  const size_t end = text.find_last_not_of(" \t\r");
  return text.substr(begin, end - begin + 1);
}

// Each line of `path` without its comment and surrounding blanks, with its number; blank lines
// are skipped.
template <typename OnLine>
Result<void> ForEachLine(const std::string& path, OnLine&& on_line) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Fail(fmt::format("{}: cannot be read", path));
  std::string line;
  size_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    std::string_view text = line;
    if (number == 1 && text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);  // a BOM
    text = Trim(text.substr(0, text.find('#')));
    if (text.empty()) continue;
    if (auto done = on_line(text, number); !done) return done;
  }
  if (in.bad()) return Fail(fmt::format("{}: reading failed", path));
  return {};
}

}  // namespace

Result<std::vector<std::string>> ReadRuleList(const std::string& path) {
  std::vector<std::string> ids;
  auto read = ForEachLine(path, [&](std::string_view text, size_t) -> Result<void> {
    ids.emplace_back(text.substr(0, text.find_first_of(" \t,")));
    return {};
  });
  if (!read) return tl::unexpected(read.error());
  return ids;
}

Result<void> ReadLevelOverrides(const std::string& path, LevelOverrides& out) {
  static constexpr std::array LEVELS = {sigma::Level::kInformational, sigma::Level::kLow,
                                        sigma::Level::kMedium, sigma::Level::kHigh,
                                        sigma::Level::kCritical};
  LevelOverrides read;
  auto lines = ForEachLine(path, [&](std::string_view text, size_t number) -> Result<void> {
    const size_t comma = text.find(',');
    if (comma == std::string_view::npos)
      return Fail(fmt::format("{}:{}: expected 'id,level', got '{}'", path, number, text));
    const std::string_view id = Trim(text.substr(0, comma));
    const std::string_view level = Trim(text.substr(comma + 1));
    if (id == "id" && level == "new_level") return {};  // Hayabusa's header
    if (id.empty()) return Fail(fmt::format("{}:{}: the rule id is empty", path, number));
    for (sigma::Level candidate : LEVELS) {
      if (sigma::LevelName(candidate) == level) {
        read.insert_or_assign(std::string(id), candidate);
        return {};
      }
    }
    return Fail(
        fmt::format("{}:{}: '{}' is no level (informational, low, medium, high or critical)", path,
                    number, level));
  });
  if (!lines) return lines;
  for (auto& [id, level] : read) out.insert_or_assign(id, level);
  return {};
}

const sigma::Level* OverriddenLevel(const LevelOverrides& overrides, const sigma::RuleInfo& info) {
  if (overrides.empty()) return nullptr;
  if (!info.id.empty()) {
    if (auto it = overrides.find(info.id); it != overrides.end()) return &it->second;
  }
  if (!info.name.empty()) {
    if (auto it = overrides.find(info.name); it != overrides.end()) return &it->second;
  }
  return nullptr;
}

}  // namespace yagura::scan

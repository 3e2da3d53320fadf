// Rule lists and level overrides (see rule_tuning.hpp).
#include "scan/rule_tuning.hpp"

#include <fmt/format.h>

#include <array>
#include <fstream>
#include <set>
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

Result<void> ApplyRuleTuning(sigma::RuleSet& rules, ScanOptions& selection,
                             Diagnostics& diagnostics, ScanSummary& summary) {
  std::set<std::string, std::less<>> known;
  auto add_known = [&](const sigma::RuleInfo& info) {
    if (!info.id.empty()) known.insert(info.id);
    if (!info.name.empty()) known.insert(info.name);
  };
  for (const auto& rule : rules.rules) add_known(rule.info);
  for (const auto& correlation : rules.correlations) add_known(correlation.info);
  auto warn_unknown = [&](const std::string& where, const std::vector<std::string>& ids) {
    size_t unknown = 0;
    const std::string* first = nullptr;
    for (const std::string& id : ids) {
      if (known.contains(id)) continue;
      if (unknown++ == 0) first = &id;
    }
    if (unknown == 0) return;
    diagnostics.Report(DiagnosticKind::kWarning, where,
                       fmt::format("{} rule id{} name{} no loaded rule (the first: {})", unknown,
                                   unknown == 1 ? "" : "s", unknown == 1 ? "s" : "", *first));
  };
  warn_unknown("--rule-id", selection.rule_ids);
  warn_unknown("--exclude-rule", selection.exclude_rule_ids);
  auto read_lists = [&](const std::vector<std::string>& files,
                        std::vector<std::string>& into) -> Result<void> {
    for (const std::string& file : files) {
      auto ids = ReadRuleList(file);
      if (!ids) return tl::unexpected(ids.error());
      warn_unknown(file, *ids);
      into.insert(into.end(), ids->begin(), ids->end());
    }
    return {};
  };
  if (auto read = read_lists(selection.rule_list_files, selection.rule_ids); !read) return read;
  // A list that names nothing must not mean "every rule", as no list does.
  if (!selection.rule_list_files.empty() && selection.rule_ids.empty())
    return Fail("no rule to run: the rule lists name no rule");
  if (auto read = read_lists(selection.exclude_rule_list_files, selection.exclude_rule_ids); !read)
    return read;
  LevelOverrides levels;
  for (const std::string& file : selection.level_override_files) {
    LevelOverrides of_file;
    if (auto read = ReadLevelOverrides(file, of_file); !read) return read;
    std::vector<std::string> ids;
    for (const auto& [id, level] : of_file) ids.push_back(id);
    warn_unknown(file, ids);
    for (auto& [id, level] : of_file) levels.insert_or_assign(id, level);
  }
  auto relevel = [&](sigma::RuleInfo& info) {
    const sigma::Level* level = OverriddenLevel(levels, info);
    if (level == nullptr || *level == info.level) return;
    info.level = *level;
    ++summary.rules_relevelled;
  };
  for (auto& rule : rules.rules) relevel(rule.info);
  for (auto& correlation : rules.correlations) relevel(correlation.info);
  return {};
}

}  // namespace yagura::scan

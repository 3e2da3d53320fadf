#include "attack/technique_id.hpp"

#include <algorithm>

namespace yagura::attack {

std::optional<std::string> NormalizeTechniqueId(std::string_view text) {
  auto digits = [&](size_t from, size_t count) {
    return text.size() >= from + count &&
           std::all_of(text.begin() + static_cast<long>(from),
                       text.begin() + static_cast<long>(from + count),
                       [](char c) { return c >= '0' && c <= '9'; });
  };
  const bool valid = (text.size() == 5 || text.size() == 9) && (text[0] == 'T' || text[0] == 't') &&
                     digits(1, 4) && (text.size() == 5 || (text[5] == '.' && digits(6, 3)));
  if (!valid) return std::nullopt;
  std::string id(text);
  id[0] = 'T';
  return id;
}

std::optional<std::string> TechniqueOfTag(std::string_view tag) {
  constexpr std::string_view PREFIX = "attack.";
  if (tag.size() <= PREFIX.size()) return std::nullopt;
  for (size_t i = 0; i < PREFIX.size(); ++i) {
    char c = tag[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != PREFIX[i]) return std::nullopt;
  }
  return NormalizeTechniqueId(tag.substr(PREFIX.size()));
}

std::vector<std::string> TechniquesOfTags(const std::vector<std::string>& tags) {
  std::vector<std::string> ids;
  for (const std::string& tag : tags) {
    std::optional<std::string> id = TechniqueOfTag(tag);
    if (id && std::find(ids.begin(), ids.end(), *id) == ids.end()) ids.push_back(std::move(*id));
  }
  return ids;
}

std::string_view ParentTechnique(std::string_view id) {
  const size_t dot = id.find('.');
  return dot == std::string_view::npos ? id : id.substr(0, dot);
}

std::string_view DomainOfTechnique(std::string_view id) {
  return id.size() >= 2 && id[1] == '0' ? "ics-attack" : "enterprise-attack";
}

}  // namespace yagura::attack

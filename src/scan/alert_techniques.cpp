#include "scan/alert_techniques.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "attack/technique_id.hpp"
#include "core/time.hpp"

namespace yagura::scan {
namespace {

// Rules named in a technique's comment, and hosts in its tooltip: the most alerts first, then
// a count of the rest, so that a technique fired by a hundred rules keeps a readable tooltip.
constexpr size_t COMMENT_RULES = 10;
constexpr size_t TOOLTIP_HOSTS = 5;

// "dc1 (23), ws7 (4), 2 more": the names with the most first (ties in name order), at most
// TOOLTIP_HOSTS of them, then how many are left.
std::string MostFirst(const std::map<std::string, uint64_t, std::less<>>& counts) {
  std::vector<std::pair<std::string, uint64_t>> sorted(counts.begin(), counts.end());
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  std::string text;
  for (size_t i = 0; i < sorted.size() && i < TOOLTIP_HOSTS; ++i)
    text += fmt::format("{}{} ({})", i > 0 ? ", " : "", sorted[i].first, sorted[i].second);
  if (sorted.size() > TOOLTIP_HOSTS)
    text += fmt::format(", {} more", sorted.size() - TOOLTIP_HOSTS);
  return text;
}

std::string Joined(const std::vector<std::string>& items) {
  std::string text;
  for (const std::string& item : items) {
    if (!text.empty()) text += ", ";
    text += item;
  }
  return text;
}

}  // namespace

std::optional<TechniqueScore> TechniqueScoreNamed(std::string_view name) {
  if (name == "level") return TechniqueScore::kLevel;
  if (name == "alerts") return TechniqueScore::kAlerts;
  if (name == "rules") return TechniqueScore::kRules;
  return std::nullopt;
}

int64_t LevelScore(sigma::Level level) {
  switch (level) {
    case sigma::Level::kInformational:
      return 1;
    case sigma::Level::kLow:
      return 2;
    case sigma::Level::kMedium:
      return 3;
    case sigma::Level::kHigh:
      return 4;
    case sigma::Level::kCritical:
      return 5;
  }
  return 1;
}

void UseLevelGradient(attack::NavigatorLayer& layer) {
  // One colour a level, at the scores 1..5 exactly: pale blue to deep red.
  layer.gradient_colors = {"#cfe8ff", "#fff3a3", "#ffc078", "#ff8787", "#e03131"};
  layer.gradient_min = 1;
  layer.gradient_max = 5;
  layer.legend.clear();
  for (sigma::Level level : {sigma::Level::kInformational, sigma::Level::kLow,
                             sigma::Level::kMedium, sigma::Level::kHigh, sigma::Level::kCritical})
    layer.legend.emplace_back(std::string(sigma::LevelName(level)),
                              layer.gradient_colors[static_cast<size_t>(LevelScore(level) - 1)]);
}

attack::NavigatorLayer RuleCoverageLayer(const std::vector<const sigma::RuleInfo*>& rules,
                                         const std::vector<std::string>& rule_paths,
                                         TechniqueScore score, int64_t now_ms) {
  attack::NavigatorLayer layer;
  if (score == TechniqueScore::kLevel) UseLevelGradient(layer);
  std::map<std::string, std::vector<const sigma::RuleInfo*>> rules_of;
  size_t tagged = 0;
  for (const sigma::RuleInfo* rule : rules) {
    const std::vector<std::string> ids = attack::TechniquesOfTags(rule->tags);
    for (const std::string& id : ids) rules_of[id].push_back(rule);
    if (!ids.empty()) ++tagged;
  }
  std::vector<std::string> ics;
  for (auto& [id, covering] : rules_of) {
    if (attack::DomainOfTechnique(id) != layer.domain) {
      ics.push_back(fmt::format("{} ({} rules)", id, covering.size()));
      continue;
    }
    // Most severe first, then by title.
    std::sort(covering.begin(), covering.end(), [](const auto* a, const auto* b) {
      return a->level != b->level ? a->level > b->level : a->title < b->title;
    });
    attack::LayerTechnique technique;
    technique.id = id;
    technique.score = score == TechniqueScore::kLevel ? LevelScore(covering.front()->level)
                                                      : static_cast<int64_t>(covering.size());
    for (size_t i = 0; i < covering.size() && i < COMMENT_RULES; ++i)
      technique.comment += (i > 0 ? "; " : "") + covering[i]->title;
    if (covering.size() > COMMENT_RULES)
      technique.comment += fmt::format("; {} more rules", covering.size() - COMMENT_RULES);
    std::map<sigma::Level, size_t> by_level;
    std::map<std::string, uint64_t, std::less<>> by_source;
    for (const sigma::RuleInfo* rule : covering) {
      ++by_level[rule->level];
      const event::Logsource& source = rule->logsource;
      std::string name;
      for (const std::string* part : {&source.product, &source.service, &source.category})
        if (!part->empty()) name += (name.empty() ? "" : "/") + *part;
      ++by_source[name.empty() ? std::string("any") : name];
    }
    std::string levels;
    for (auto it = by_level.rbegin(); it != by_level.rend(); ++it)
      levels += fmt::format("{}{} {}", levels.empty() ? "" : ", ", it->second,
                            sigma::LevelName(it->first));
    technique.metadata.emplace_back("rules", std::to_string(covering.size()));
    technique.metadata.emplace_back("levels", std::move(levels));
    technique.metadata.emplace_back("log sources", MostFirst(by_source));
    layer.techniques.push_back(std::move(technique));
  }
  const std::string paths = Joined(rule_paths);
  layer.name = fmt::format("Rule coverage: {}", paths);
  layer.description = fmt::format(
      "ATT&CK techniques the rules' tags name: {} of {} rules name {} techniques. A technique's "
      "score is {}.",
      tagged, rules.size(), rules_of.size(),
      score == TechniqueScore::kLevel
          ? "the highest level of its rules (1 informational to 5 critical)"
          : "how many rules name it");
  layer.metadata.emplace_back("rules", paths);
  layer.metadata.emplace_back("rules listed", std::to_string(rules.size()));
  layer.metadata.emplace_back("rules naming a technique", std::to_string(tagged));
  layer.metadata.emplace_back("made", FormatTimestampMs(now_ms));
  if (!ics.empty()) layer.metadata.emplace_back("ICS techniques (not on this matrix)", Joined(ics));
  return layer;
}

void AlertTechniques::Add(const sigma::RuleInfo& rule, std::string_view host,
                          std::optional<int64_t> time_ms) {
  ++rule_alerts_;
  auto [known, inserted] = tallies_of_rule_.try_emplace(&rule);
  if (inserted) {
    for (const std::string& id : attack::TechniquesOfTags(rule.tags))
      known->second.push_back(&tallies_[id]);
  }
  if (known->second.empty()) return;
  ++alerts_;
  for (Tally* counted : known->second) {
    Tally& tally = *counted;
    ++tally.alerts;
    ++tally.rules[&rule];
    if (!host.empty()) {
      auto entry = tally.hosts.find(host);
      if (entry == tally.hosts.end()) entry = tally.hosts.emplace(std::string(host), 0).first;
      ++entry->second;
    }
    if (time_ms) WidenSpan(tally.first_ms, tally.last_ms, *time_ms);
    tally.highest = std::max(tally.highest, rule.level);
  }
}

attack::NavigatorLayer AlertTechniques::Layer(const std::vector<std::string>& inputs,
                                              TechniqueScore score, int64_t now_ms) const {
  attack::NavigatorLayer layer;
  if (score == TechniqueScore::kLevel) UseLevelGradient(layer);
  layer.name = inputs.empty() ? std::string("yagura scan")
               : inputs.size() == 1
                   ? fmt::format("yagura scan: {}", inputs.front())
                   : fmt::format("yagura scan: {} and {} more", inputs.front(), inputs.size() - 1);
  std::vector<std::string> ics;
  for (const auto& [id, tally] : tallies_) {
    if (attack::DomainOfTechnique(id) != layer.domain) {
      ics.push_back(fmt::format("{} ({} alerts)", id, tally.alerts));
      continue;
    }
    attack::LayerTechnique technique;
    technique.id = id;
    technique.score = score == TechniqueScore::kLevel   ? LevelScore(tally.highest)
                      : score == TechniqueScore::kRules ? static_cast<int64_t>(tally.rules.size())
                                                        : static_cast<int64_t>(tally.alerts);

    // Most alerts first, ties by title (the map's order is by address).
    std::vector<std::pair<const sigma::RuleInfo*, uint64_t>> rules(tally.rules.begin(),
                                                                   tally.rules.end());
    std::sort(rules.begin(), rules.end(), [](const auto& a, const auto& b) {
      return a.second != b.second ? a.second > b.second : a.first->title < b.first->title;
    });
    for (size_t i = 0; i < rules.size() && i < COMMENT_RULES; ++i) {
      if (i > 0) technique.comment += "; ";
      technique.comment += fmt::format("{} ({})", rules[i].first->title, rules[i].second);
    }
    if (rules.size() > COMMENT_RULES)
      technique.comment += fmt::format("; {} more rules", rules.size() - COMMENT_RULES);

    technique.metadata.emplace_back("alerts", std::to_string(tally.alerts));
    technique.metadata.emplace_back("rules", std::to_string(tally.rules.size()));
    technique.metadata.emplace_back("highest level", std::string(sigma::LevelName(tally.highest)));
    if (tally.first_ms)
      technique.metadata.emplace_back("first", FormatTimestampMs(*tally.first_ms));
    if (tally.last_ms) technique.metadata.emplace_back("last", FormatTimestampMs(*tally.last_ms));
    if (!tally.hosts.empty()) technique.metadata.emplace_back("hosts", MostFirst(tally.hosts));
    layer.techniques.push_back(std::move(technique));
  }
  layer.description = fmt::format(
      "ATT&CK techniques named by the rules of a scan's alerts: {} of {} alerts, of {} rules, "
      "name {} techniques. A technique's score is {}.",
      alerts_, rule_alerts_,
      std::count_if(tallies_of_rule_.begin(), tallies_of_rule_.end(),
                    [](const auto& entry) { return !entry.second.empty(); }),
      tallies_.size(),
      score == TechniqueScore::kLevel
          ? "the highest level of its alerts (1 informational to 5 critical)"
      : score == TechniqueScore::kRules ? "how many rules raised its alerts"
                                        : "how many alerts name it");
  layer.metadata.emplace_back("inputs", Joined(inputs));
  layer.metadata.emplace_back("alerts", std::to_string(rule_alerts_));
  layer.metadata.emplace_back("alerts naming a technique", std::to_string(alerts_));
  layer.metadata.emplace_back("made", FormatTimestampMs(now_ms));
  if (!ics.empty()) layer.metadata.emplace_back("ICS techniques (not on this matrix)", Joined(ics));
  return layer;
}

}  // namespace yagura::scan

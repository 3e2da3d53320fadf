// AlertTechniques: the MITRE ATT&CK techniques of a scan's alerts, as a Navigator layer
// (`yagura scan --attack-layer FILE`), as Takajo's ttp-visualize draws Hayabusa's results: the
// matrix shows at a glance how far an intrusion went (execution, persistence, credential
// access, lateral movement) and which techniques to look at first.
//
// A technique is named by the `attack.tNNNN[.NNN]` tags of the rules and correlations that
// fired; an alert counts once for each technique its rule names. Each technique's score is its
// highest level (--attack-layer-score level, the default: what to look at first), its alerts
// or its rules; its comment names the rules (most alerts first) and its tooltip the alerts,
// rules, highest level, first and last time and hosts. Indicator alerts name no technique.
// ICS techniques (T0xxx) belong to another matrix: they are named in the layer's metadata
// instead of being drawn on the Enterprise one.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "attack/navigator_layer.hpp"
#include "sigma/rule.hpp"

namespace yagura::scan {

// What a technique's score in a layer is.
enum class TechniqueScore {
  kLevel,   // the highest level of its rules: informational 1 ... critical 5, a colour each
  kAlerts,  // how many alerts (a layer's count: rules, for a rule set's coverage)
  kRules,   // how many distinct rules
};
[[nodiscard]] std::optional<TechniqueScore> TechniqueScoreNamed(std::string_view name);

// Scores 1 to 5 by level, with a colour and a legend entry each.
[[nodiscard]] int64_t LevelScore(sigma::Level level);
void UseLevelGradient(attack::NavigatorLayer& layer);

// The techniques a rule set covers, as `yagura rules list --attack-layer` writes them (as
// sigma2attack does): a technique's score is its rules (or with kLevel their highest level);
// its comment names them (most severe first) and its tooltip counts them by level and names
// the log sources they read, which says what a centre must collect to detect it.
[[nodiscard]] attack::NavigatorLayer RuleCoverageLayer(
    const std::vector<const sigma::RuleInfo*>& rules, const std::vector<std::string>& rule_paths,
    TechniqueScore score, int64_t now_ms);

class AlertTechniques {
 public:
  // One alert of `rule` (a rule's or a correlation's info, which must outlive this), on
  // `host` ("" when unknown), at `time_ms` when known.
  void Add(const sigma::RuleInfo& rule, std::string_view host, std::optional<int64_t> time_ms);

  // The Enterprise layer. `inputs` name what was scanned (the layer's name and metadata);
  // `now_ms` is when it was made.
  [[nodiscard]] attack::NavigatorLayer Layer(const std::vector<std::string>& inputs,
                                             TechniqueScore score, int64_t now_ms) const;

  // Alerts whose rule names at least one technique, and the distinct techniques named.
  [[nodiscard]] uint64_t alerts() const { return alerts_; }
  [[nodiscard]] size_t techniques() const { return tallies_.size(); }

 private:
  struct Tally {
    uint64_t alerts = 0;
    std::map<const sigma::RuleInfo*, uint64_t> rules;
    std::map<std::string, uint64_t, std::less<>> hosts;
    std::optional<int64_t> first_ms, last_ms;
    sigma::Level highest = sigma::Level::kInformational;
  };
  std::map<std::string, Tally> tallies_;  // by technique id
  // The tallies of each rule seen (its tags are read once).
  std::unordered_map<const sigma::RuleInfo*, std::vector<Tally*>> tallies_of_rule_;
  uint64_t alerts_ = 0;
  uint64_t rule_alerts_ = 0;  // every alert given to Add
};

}  // namespace yagura::scan

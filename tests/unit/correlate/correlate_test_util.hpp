// Helpers for the correlation tests: a rule set loaded from YAML text, events built by field
// name, and a driver that feeds hand-written matches to an engine and keeps its alerts.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <deque>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "correlate/correlation_engine.hpp"
#include "event/event.hpp"
#include "event/field_catalog.hpp"
#include "sigma/rule_set.hpp"

namespace yagura::correlate::testing {

// Detection rules the correlations of the tests reference; their detections are never run
// (matches are fed by hand), only their ids and names matter.
inline constexpr const char* BASE_RULES = R"(title: Failed logon
id: 0a000000-0000-4000-8000-000000000001
name: failed
logsource: {product: test}
detection:
  sel: {EventID: 4625}
  condition: sel
---
title: Successful logon
id: 0a000000-0000-4000-8000-000000000002
name: success
logsource: {product: test}
detection:
  sel: {EventID: 4624}
  condition: sel
---
title: Connection
id: 0a000000-0000-4000-8000-000000000003
name: connection
logsource: {product: test}
detection:
  sel: {EventID: 3}
  condition: sel
)";

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "yagura-corr-XXXXXX").string();
    path_ = mkdtemp(pattern.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  void Write(const std::string& name, const std::string& text) const {
    std::ofstream(path_ / name) << text;
  }
  [[nodiscard]] std::string path() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

// A rule set made of BASE_RULES and `correlations` (YAML documents).
class Rules {
 public:
  explicit Rules(const std::string& correlations, const std::string& base = BASE_RULES) {
    dir_.Write("base.yml", base);
    dir_.Write("correlations.yml", correlations);
    set = sigma::RuleSet::Load({dir_.path()}, catalog);
    CorrelationEngine::InternFields(set, catalog);
  }
  [[nodiscard]] std::string Failures() const {
    std::string out;
    for (const auto& f : set.failures) out += f.file + ": " + f.reason + "\n";
    return out;
  }
  [[nodiscard]] uint32_t Rule(const std::string& name) const {
    for (uint32_t i = 0; i < set.rules.size(); ++i)
      if (set.rules[i].info.name == name || set.rules[i].info.id == name) return i;
    ADD_FAILURE() << "no rule " << name;
    return 0;
  }
  [[nodiscard]] uint32_t Correlation(const std::string& name) const {
    for (uint32_t i = 0; i < set.correlations.size(); ++i)
      if (set.correlations[i].info.name == name || set.correlations[i].info.id == name) return i;
    ADD_FAILURE() << "no correlation " << name;
    return 0;
  }

  event::FieldCatalog catalog;
  sigma::RuleSet set;

 private:
  TempDir dir_;
};

// Feeds matches with events built from (field, value) pairs; sequences count from 1.
class Driver {
 private:
  const Rules& rules_;

 public:
  Driver(const Rules& rules, CorrelationOptions options = {})
      : rules_(rules), engine(rules.set, rules.catalog, options) {}

  // Feeds one match of `rule` at `seconds` (event time in seconds, for readability).
  void Match(const std::string& rule, double seconds,
             const std::vector<std::pair<std::string, std::string>>& fields,
             const std::string& org = "") {
    event_.Reset(rules_.catalog.size());
    for (const auto& [name, value] : fields) {
      event::FieldId id = rules_.catalog.Find(name);
      if (id == event::NO_FIELD) continue;  // not read by any correlation
      storage_.push_back(value);
      event_.Add(id, event::FieldValue{storage_.back(), event::ValueType::kString});
    }
    RuleMatch match;
    match.rule_index = rules_.Rule(rule);
    match.event_time_ms = static_cast<int64_t>(seconds * 1000);
    match.org_id = org;
    match.sequence = ++sequence;
    match.event = &event_;
    engine.Observe(match, alerts);
  }
  // Feeds a match of another rule on the event of the last Match (the same sequence).
  void AlsoMatches(const std::string& rule, double seconds, const std::string& org = "") {
    RuleMatch match;
    match.rule_index = rules_.Rule(rule);
    match.event_time_ms = static_cast<int64_t>(seconds * 1000);
    match.org_id = org;
    match.sequence = sequence;
    match.event = &event_;
    engine.Observe(match, alerts);
  }
  void Advance(double seconds) { engine.Advance(static_cast<int64_t>(seconds * 1000), alerts); }
  void Finish() { engine.Finish(alerts); }

  // Alerts of one correlation (by name or id).
  [[nodiscard]] std::vector<CorrelationAlert> Of(const std::string& name) const {
    std::vector<CorrelationAlert> out;
    uint32_t index = rules_.Correlation(name);
    for (const auto& a : alerts)
      if (a.correlation_index == index) out.push_back(a);
    return out;
  }

  CorrelationEngine engine;
  std::vector<CorrelationAlert> alerts;
  uint64_t sequence = 0;

 private:
  event::Event event_;
  std::deque<std::string> storage_;
};

}  // namespace yagura::correlate::testing

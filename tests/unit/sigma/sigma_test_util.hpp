// Helpers for the Sigma unit tests: load rules from text, build events by field name.
#pragma once

#include <gtest/gtest.h>

#include <deque>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "event/event.hpp"
#include "event/field_catalog.hpp"
#include "sigma/evaluator.hpp"
#include "sigma/loader.hpp"
#include "sigma/rule_set.hpp"

namespace yagura::sigma::testing {

// A one-rule fixture: `detection` is the YAML body of the detection block (indented 2 spaces).
inline std::string RuleText(std::string_view detection, std::string_view extra = {}) {
  std::string text =
      "title: Test rule\nid: 11111111-1111-1111-1111-111111111111\n"
      "logsource:\n  product: windows\n  category: process_creation\n";
  text += extra;
  text += "detection:\n";
  text += detection;
  return text;
}

inline std::string Describe(const RuleSet& set) {
  std::string out;
  for (const RuleFailure& failure : set.failures)
    out += failure.file + ":" + std::to_string(failure.line) + ": " + failure.reason + "\n";
  return out;
}

// Builds events over one catalog. Every string value also goes to the keyword list.
class EventBuilder {
 public:
  explicit EventBuilder(event::FieldCatalog& catalog) : catalog_(catalog) { Clear(); }

  EventBuilder& Clear() {
    storage_.clear();
    event_.Reset(catalog_.size());
    return *this;
  }
  EventBuilder& Add(std::string_view field, std::string_view text,
                    event::ValueType type = event::ValueType::kString) {
    storage_.emplace_back(text);  // a deque: earlier views stay valid
    std::string_view view = storage_.back();
    event::FieldValue value{view, type};
    event_.Add(catalog_.Intern(field), value);
    if (type != event::ValueType::kNull) event_.AddToAllValues(value);
    return *this;
  }
  const event::Event& event() const { return event_; }

 private:
  event::FieldCatalog& catalog_;
  event::Event event_;
  std::deque<std::string> storage_;
};

// Loads one rule and checks it loaded.
class RuleFixture {
 public:
  explicit RuleFixture(std::string_view detection, LoadOptions options = {})
      : set_(LoadRuleText(RuleText(detection), catalog_, options)), builder_(catalog_) {}

  bool Loaded() const { return set_.failures.empty() && set_.rules.size() == 1; }
  std::string Failures() const { return Describe(set_); }
  const Rule& rule() const { return set_.rules.at(0); }
  const RuleSet& set() const { return set_; }
  event::FieldCatalog& catalog() { return catalog_; }

  // Whether the rule matches an event holding the given (field, value) pairs.
  bool Matches(std::vector<std::pair<std::string, std::string>> fields) {
    builder_.Clear();
    for (auto& [field, value] : fields) builder_.Add(field, value);
    return EvaluateRule(rule(), builder_.event());
  }
  EventBuilder& builder() { return builder_; }

 private:
  event::FieldCatalog catalog_;
  RuleSet set_;
  EventBuilder builder_;
};

}  // namespace yagura::sigma::testing

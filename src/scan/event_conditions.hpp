// EventConditions: Sigma conditions written on the command line, `FIELD[|modifier...]=VALUE`,
// as `yagura search --where` and `yagura scan --where` take them. They are compiled into one
// rule of a selection each, all of which must hold, and decided by the Sigma evaluator, so
// every modifier means what it means in a rule (`cidr`, `windash`, `re`, `neq`...).
//
// VALUE is a Sigma string (`*` and `?` are wildcards, `\` escapes them), except after
// `exists` (true or false) and the comparisons and time parts (`lt`... `hour`...), which take a
// number written bare, as a rule writes it.
#pragma once

#include <string>
#include <vector>

#include "core/result.hpp"
#include "event/event.hpp"
#include "event/field_catalog.hpp"
#include "sigma/rule.hpp"

namespace yagura::scan {

class EventConditions {
 public:
  // Interns the conditions' fields into `catalog`, so it must come before the event parser is
  // built. Fails with the loader's reason for a condition that would not load as a rule,
  // prefixed by `option`.
  [[nodiscard]] static Result<EventConditions> Compile(const std::vector<std::string>& conditions,
                                                       event::FieldCatalog& catalog,
                                                       const std::string& option = "--where");

  // Whether every condition holds for the event.
  [[nodiscard]] bool Hold(const event::Event& event) const;

  [[nodiscard]] size_t size() const { return fields_.size(); }
  // Condition k's field, as written (without modifiers) and interned.
  [[nodiscard]] const std::string& field_name(size_t k) const { return names_[k]; }
  [[nodiscard]] event::FieldId field(size_t k) const { return fields_[k]; }
  // Whether `value` of condition k's field is one that made it hold. A negated condition, and
  // one that looks at presence or compares two fields, holds for no value by itself: every
  // value then counts.
  [[nodiscard]] bool ValueHeld(size_t k, const event::FieldValue& value) const;

 private:
  sigma::Rule rule_;
  std::vector<std::string> names_;
  std::vector<event::FieldId> fields_;
  std::vector<size_t> selections_;  // condition k's selection in rule_.selections
};

}  // namespace yagura::scan

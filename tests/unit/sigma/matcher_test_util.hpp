// Hand-built rules and events for the matcher tests: the compiled rule model (sigma/rule.hpp)
// assembled directly, so the matcher can be exercised on exactly the shapes a test needs.
#pragma once

#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "event/event.hpp"
#include "event/field_catalog.hpp"
#include "sigma/predicate.hpp"
#include "sigma/regex.hpp"
#include "sigma/rule.hpp"
#include "sigma/rule_set.hpp"
#include "sigma/wildcard.hpp"

namespace yagura::sigma::testing {

inline Predicate Str(event::FieldId field, std::string_view sigma, bool cased = false) {
  Predicate p;
  p.kind = PredicateKind::kString;
  p.field = field;
  p.glob = ParseSigmaString(sigma);
  p.cased = cased;
  return p;
}

inline Predicate Re(event::FieldId field, std::string_view pattern, bool ignore_case = false) {
  Predicate p;
  p.kind = PredicateKind::kRegex;
  p.field = field;
  p.pattern = std::string(pattern);
  p.re_ignore_case = ignore_case;
  auto regex = Regex::Compile(pattern, Regex::Flags{ignore_case, false, false});
  if (regex) p.regex = *regex;
  return p;
}

inline Predicate Exists(event::FieldId field, bool exists = true) {
  Predicate p;
  p.kind = PredicateKind::kExists;
  p.field = field;
  p.exists = exists;
  return p;
}

inline Predicate Null(event::FieldId field) {
  Predicate p;
  p.kind = PredicateKind::kNull;
  p.field = field;
  return p;
}

inline Predicate Number(event::FieldId field, double n, CompareOp op = CompareOp::kEq) {
  Predicate p;
  p.kind = PredicateKind::kNumber;
  p.field = field;
  p.number = n;
  p.op = op;
  return p;
}

// One item: `field` with alternative values (each its own group), |all and |neq.
struct ItemSpec {
  event::FieldId field = event::NO_FIELD;
  std::vector<Predicate> values;
  bool all = false;
  bool negate = false;
};

inline Condition Sel(uint32_t index) {
  Condition c;
  c.kind = Condition::Kind::kSelection;
  c.selection = index;
  return c;
}
inline Condition Node(Condition::Kind kind, std::vector<Condition> children) {
  Condition c;
  c.kind = kind;
  c.children = std::move(children);
  return c;
}
inline Condition And(std::vector<Condition> children) {
  return Node(Condition::Kind::kAnd, std::move(children));
}
inline Condition Or(std::vector<Condition> children) {
  return Node(Condition::Kind::kOr, std::move(children));
}
inline Condition Not(Condition child) { return Node(Condition::Kind::kNot, {std::move(child)}); }

class RuleMaker {
 public:
  explicit RuleMaker(std::string title, event::Logsource logsource = {}) {
    rule_.info.title = std::move(title);
    rule_.info.logsource = std::move(logsource);
  }

  // Adds a selection that is an OR of maps, each an AND of items; returns its index.
  uint32_t Selection(std::vector<std::vector<ItemSpec>> maps) {
    sigma::Selection selection;
    selection.name = "s" + std::to_string(rule_.selections.size());
    for (auto& map : maps) {
      std::vector<Item> items;
      for (auto& spec : map) {
        Item item;
        item.field = spec.field;
        item.match_all = spec.all;
        item.negate = spec.negate;
        for (Predicate& p : spec.values) {
          item.groups.push_back({static_cast<uint32_t>(rule_.predicates.size())});
          rule_.predicates.push_back(std::move(p));
        }
        if (spec.field != event::NO_FIELD) AddField(spec.field);
        items.push_back(std::move(item));
      }
      selection.maps.push_back(std::move(items));
    }
    rule_.selections.push_back(std::move(selection));
    return static_cast<uint32_t>(rule_.selections.size() - 1);
  }
  // A selection of one map.
  uint32_t Map(std::vector<ItemSpec> items) { return Selection({std::move(items)}); }

  Rule Finish(Condition condition) {
    rule_.condition = std::move(condition);
    return std::move(rule_);
  }

 private:
  void AddField(event::FieldId field) {
    for (event::FieldId f : rule_.fields)
      if (f == field) return;
    rule_.fields.push_back(field);
  }
  Rule rule_;
};

// An event with string values (every value also goes to the keyword list).
class EventMaker {
 public:
  explicit EventMaker(const event::FieldCatalog& catalog) : catalog_(catalog) {}

  event::Event& Start() {
    storage_.clear();
    event_.Reset(catalog_.size());
    return event_;
  }
  void Add(event::FieldId field, std::string text,
           event::ValueType type = event::ValueType::kString) {
    storage_.push_back(std::move(text));
    event::FieldValue value{storage_.back(), type};
    event_.Add(field, value);
    if (type != event::ValueType::kNull) event_.AddToAllValues(value);
  }
  event::Event& event() { return event_; }

 private:
  const event::FieldCatalog& catalog_;
  std::deque<std::string> storage_;  // a deque never moves its elements: views stay valid
  event::Event event_;
};

}  // namespace yagura::sigma::testing

// The plain evaluator: a direct walk of the condition tree (see evaluator.hpp).
#include "sigma/evaluator.hpp"

#include <algorithm>

namespace yagura::sigma {

namespace {

// The walk is written once over `Holds`, a callable deciding a predicate by its index in the
// rule: Predicate::Test for the plain evaluator, a matcher's findings for matched fields.
template <typename Holds>
bool GroupHolds(const std::vector<uint32_t>& group, const Holds& holds) {
  for (uint32_t index : group)
    if (holds(index)) return true;
  return false;
}

template <typename Holds>
bool ItemHolds(const Item& item, const Holds& holds) {
  bool held;
  if (item.match_all) {
    held = !item.groups.empty();
    for (const auto& group : item.groups) {
      if (!GroupHolds(group, holds)) {
        held = false;
        break;
      }
    }
  } else {
    held = false;
    for (const auto& group : item.groups) {
      if (GroupHolds(group, holds)) {
        held = true;
        break;
      }
    }
  }
  return item.negate ? !held : held;
}

template <typename Holds>
bool MapHolds(const std::vector<Item>& map, const Holds& holds) {
  for (const Item& item : map)
    if (!ItemHolds(item, holds)) return false;
  return true;
}

template <typename Holds>
bool SelectionHolds(const Selection& selection, const Holds& holds) {
  for (const auto& map : selection.maps)
    if (MapHolds(map, holds)) return true;
  return false;
}

template <typename Holds>
bool ConditionHolds(const Rule& rule, const Condition& condition, const Holds& holds) {
  switch (condition.kind) {
    case Condition::Kind::kSelection:
      return SelectionHolds(rule.selections[condition.selection], holds);
    case Condition::Kind::kAnd:
      for (const Condition& child : condition.children)
        if (!ConditionHolds(rule, child, holds)) return false;
      return true;
    case Condition::Kind::kOr:
      for (const Condition& child : condition.children)
        if (ConditionHolds(rule, child, holds)) return true;
      return false;
    case Condition::Kind::kNot:
      return !ConditionHolds(rule, condition.children.front(), holds);
    case Condition::Kind::kTrue:
      return true;
    case Condition::Kind::kFalse:
      return false;
  }
  return false;
}

void AddField(std::vector<std::string_view>& out, std::string_view name) {
  if (std::find(out.begin(), out.end(), name) == out.end()) out.push_back(name);
}

// Fields of the positive items that held in the selections that made `condition` true, for a
// `condition` that holds. Items under `not`, negated (|neq) items and keyword items name no
// matched field. Since the node holds, a selection of one map needs no test to say that its
// map held: the matched fields of most rules (`selection and not filter`) cost no evaluation.
template <typename Holds>
void CollectMatched(const Rule& rule, const Condition& condition, const Holds& holds,
                    std::vector<std::string_view>& out) {
  switch (condition.kind) {
    case Condition::Kind::kSelection: {
      const Selection& selection = rule.selections[condition.selection];
      const bool one_map = selection.maps.size() == 1;
      for (const auto& map : selection.maps) {
        if (!one_map && !MapHolds(map, holds)) continue;
        for (const Item& item : map)
          if (!item.negate && item.field != event::NO_FIELD) AddField(out, item.field_name);
      }
      return;
    }
    case Condition::Kind::kAnd:
      // Every operand of an AND that holds holds.
      for (const Condition& child : condition.children) CollectMatched(rule, child, holds, out);
      return;
    case Condition::Kind::kOr:
      for (const Condition& child : condition.children)
        if (ConditionHolds(rule, child, holds)) CollectMatched(rule, child, holds, out);
      return;
    default:
      return;
  }
}

// Predicate::Test, the plain evaluator's way.
struct TestedOn {
  const Rule& rule;
  const event::Event& event;
  bool operator()(uint32_t index) const { return rule.predicates[index].Test(event); }
};

}  // namespace

bool RuleApplies(const Rule& rule, const event::LogsourceClass& event_class,
                 UnrecognisedPolicy policy) {
  if (!event_class.recognised) return policy == UnrecognisedPolicy::kAllRules;
  return event_class.Admits(rule.info.logsource);
}

bool RuleSeesUnrecognisedEvent(const Rule& rule, const event::Event& event) {
  for (const Predicate& predicate : rule.predicates) {
    if (predicate.field == event::NO_FIELD) return true;  // keywords search the whole event
    if (event.First(predicate.field) != nullptr) return true;
    if (predicate.kind == PredicateKind::kFieldRef && event.First(predicate.other) != nullptr)
      return true;
  }
  return false;
}

bool EvaluateRule(const Rule& rule, const event::Event& event,
                  std::vector<std::string_view>* matched_fields) {
  const TestedOn holds{rule, event};
  if (!ConditionHolds(rule, rule.condition, holds)) return false;
  if (matched_fields != nullptr) CollectMatched(rule, rule.condition, holds, *matched_fields);
  return true;
}

void AppendMatchedFields(const Rule& rule, const event::Event& event,
                         std::vector<std::string_view>& matched_fields) {
  CollectMatched(rule, rule.condition, TestedOn{rule, event}, matched_fields);
}

void AppendMatchedFields(const Rule& rule, const PredicateTest& holds,
                         std::vector<std::string_view>& matched_fields) {
  CollectMatched(rule, rule.condition, holds, matched_fields);
}

void EvaluateAll(const RuleSet& rules, const event::Event& event, UnrecognisedPolicy policy,
                 std::vector<uint32_t>& out) {
  for (size_t i = 0; i < rules.rules.size(); ++i) {
    const Rule& rule = rules.rules[i];
    if (RuleApplies(rule, event.logsource, policy) &&
        (event.logsource.recognised || RuleSeesUnrecognisedEvent(rule, event)) &&
        EvaluateRule(rule, event)) {
      out.push_back(static_cast<uint32_t>(i));
    }
  }
}

}  // namespace yagura::sigma

// The plain evaluator: a direct walk of the condition tree (see evaluator.hpp).
#include "sigma/evaluator.hpp"

#include <algorithm>

namespace yagura::sigma {

namespace {

bool GroupHolds(const Rule& rule, const std::vector<uint32_t>& group, const event::Event& event) {
  for (uint32_t index : group)
    if (rule.predicates[index].Test(event)) return true;
  return false;
}

bool ItemHolds(const Rule& rule, const Item& item, const event::Event& event) {
  bool holds;
  if (item.match_all) {
    holds = !item.groups.empty();
    for (const auto& group : item.groups) {
      if (!GroupHolds(rule, group, event)) {
        holds = false;
        break;
      }
    }
  } else {
    holds = false;
    for (const auto& group : item.groups) {
      if (GroupHolds(rule, group, event)) {
        holds = true;
        break;
      }
    }
  }
  return item.negate ? !holds : holds;
}

bool MapHolds(const Rule& rule, const std::vector<Item>& map, const event::Event& event) {
  for (const Item& item : map)
    if (!ItemHolds(rule, item, event)) return false;
  return true;
}

bool SelectionHolds(const Rule& rule, const Selection& selection, const event::Event& event) {
  for (const auto& map : selection.maps)
    if (MapHolds(rule, map, event)) return true;
  return false;
}

bool ConditionHolds(const Rule& rule, const Condition& condition, const event::Event& event) {
  switch (condition.kind) {
    case Condition::Kind::kSelection:
      return SelectionHolds(rule, rule.selections[condition.selection], event);
    case Condition::Kind::kAnd:
      for (const Condition& child : condition.children)
        if (!ConditionHolds(rule, child, event)) return false;
      return true;
    case Condition::Kind::kOr:
      for (const Condition& child : condition.children)
        if (ConditionHolds(rule, child, event)) return true;
      return false;
    case Condition::Kind::kNot:
      return !ConditionHolds(rule, condition.children.front(), event);
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
void CollectMatched(const Rule& rule, const Condition& condition, const event::Event& event,
                    std::vector<std::string_view>& out) {
  switch (condition.kind) {
    case Condition::Kind::kSelection: {
      const Selection& selection = rule.selections[condition.selection];
      const bool one_map = selection.maps.size() == 1;
      for (const auto& map : selection.maps) {
        if (!one_map && !MapHolds(rule, map, event)) continue;
        for (const Item& item : map)
          if (!item.negate && item.field != event::NO_FIELD) AddField(out, item.field_name);
      }
      return;
    }
    case Condition::Kind::kAnd:
      // Every operand of an AND that holds holds.
      for (const Condition& child : condition.children) CollectMatched(rule, child, event, out);
      return;
    case Condition::Kind::kOr:
      for (const Condition& child : condition.children)
        if (ConditionHolds(rule, child, event)) CollectMatched(rule, child, event, out);
      return;
    default:
      return;
  }
}

}  // namespace

bool RuleApplies(const Rule& rule, const event::LogsourceClass& event_class,
                 UnrecognisedPolicy policy) {
  if (!event_class.recognised) return policy == UnrecognisedPolicy::kAllRules;
  return event_class.Admits(rule.info.logsource);
}

bool EvaluateRule(const Rule& rule, const event::Event& event,
                  std::vector<std::string_view>* matched_fields) {
  if (!ConditionHolds(rule, rule.condition, event)) return false;
  if (matched_fields != nullptr) CollectMatched(rule, rule.condition, event, *matched_fields);
  return true;
}

void AppendMatchedFields(const Rule& rule, const event::Event& event,
                         std::vector<std::string_view>& matched_fields) {
  CollectMatched(rule, rule.condition, event, matched_fields);
}

void EvaluateAll(const RuleSet& rules, const event::Event& event, UnrecognisedPolicy policy,
                 std::vector<uint32_t>& out) {
  for (size_t i = 0; i < rules.rules.size(); ++i) {
    const Rule& rule = rules.rules[i];
    if (RuleApplies(rule, event.logsource, policy) && EvaluateRule(rule, event)) {
      out.push_back(static_cast<uint32_t>(i));
    }
  }
}

}  // namespace yagura::sigma

// EventConditions (see event_conditions.hpp).
#include "scan/event_conditions.hpp"

#include <fmt/format.h>

#include <charconv>
#include <string_view>

#include "sigma/evaluator.hpp"
#include "sigma/loader.hpp"

namespace yagura::scan {
namespace {

// What a condition's value must be for its modifiers: every value on the command line is text,
// but |exists takes a boolean and the comparisons and time parts a number, as in a rule.
enum class Scalar : uint8_t { kText, kNumber, kBoolean };

Scalar ScalarWanted(std::string_view field) {
  static constexpr std::string_view NUMERIC[] = {"lt",   "lte", "gt",   "gte",   "minute",
                                                 "hour", "day", "week", "month", "year"};
  Scalar wanted = Scalar::kText;
  size_t bar = field.find('|');
  while (bar != std::string_view::npos) {
    const size_t next = field.find('|', bar + 1);
    const std::string_view modifier = field.substr(bar + 1, next - bar - 1);
    if (modifier == "exists") wanted = Scalar::kBoolean;
    for (std::string_view numeric : NUMERIC)
      if (modifier == numeric) wanted = Scalar::kNumber;
    bar = next;
  }
  return wanted;
}

// Whether `value` is written bare in the rule's YAML: a number where one is wanted, true or
// false where a boolean is. Anything else stays quoted text, and the loader names what is wrong.
bool IsPlainScalar(std::string_view value, Scalar wanted) {
  if (wanted == Scalar::kBoolean) return value == "true" || value == "false";
  if (wanted != Scalar::kNumber || value.empty()) return false;
  double number = 0;
  const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), number);
  return error == std::errc() && end == value.data() + value.size();
}

// The selection of each condition, in the order of the conditions (selection "condition_K"
// holds condition K's one item); empty when the rule is not of that shape.
std::vector<size_t> ConditionSelections(const sigma::Rule& rule) {
  constexpr size_t NONE = SIZE_MAX;
  std::vector<size_t> selections(rule.selections.size(), NONE);
  for (size_t s = 0; s < rule.selections.size(); ++s) {
    const sigma::Selection& selection = rule.selections[s];
    constexpr std::string_view PREFIX = "condition_";
    if (!selection.name.starts_with(PREFIX) || selection.maps.size() != 1 ||
        selection.maps.front().size() != 1)
      return {};
    size_t k = 0;
    const char* digits = selection.name.data() + PREFIX.size();
    const char* end = selection.name.data() + selection.name.size();
    if (std::from_chars(digits, end, k).ptr != end || k >= selections.size()) return {};
    selections[k] = s;
  }
  for (size_t s : selections)
    if (s == NONE) return {};
  return selections;
}

}  // namespace

Result<EventConditions> EventConditions::Compile(const std::vector<std::string>& conditions,
                                                 event::FieldCatalog& catalog,
                                                 const std::string& option) {
  EventConditions out;
  std::string yaml = "title: conditions\nlogsource: {}\ndetection:\n";
  for (size_t i = 0; i < conditions.size(); ++i) {
    const std::string& condition = conditions[i];
    const size_t equals = condition.find('=');
    if (equals == std::string::npos || equals == 0)
      return Fail(
          fmt::format("{} '{}': expected FIELD=VALUE, such as EventID=4625 or "
                      "CommandLine|contains=whoami",
                      option, condition));
    const std::string field = condition.substr(0, equals);
    if (field.find_first_of("'\"\n\r") != std::string::npos || field.front() == '|')
      return Fail(fmt::format("{} '{}': '{}' is not a field name", option, condition, field));
    out.names_.push_back(field.substr(0, field.find('|')));
    const std::string_view raw = std::string_view(condition).substr(equals + 1);
    if (raw.find_first_of("\n\r") != std::string_view::npos)
      return Fail(fmt::format("{} '{}': a value cannot span lines", option, condition));
    std::string value;
    if (IsPlainScalar(raw, ScalarWanted(field))) {
      value = raw;  // a number or boolean, as the modifier needs it
    } else {
      // Single-quoted YAML: only the quote itself needs escaping, by doubling.
      value = '\'';
      for (char c : raw) {
        value += c;
        if (c == '\'') value += c;
      }
      value += '\'';
    }
    yaml += fmt::format("  condition_{}:\n    '{}': {}\n", i, field, value);
  }
  yaml += "  condition: all of condition_*\n";
  sigma::RuleSet rules = sigma::LoadRuleText(yaml, catalog, {}, option);
  if (!rules.failures.empty()) {
    // The reason names the field and modifier as written ("unknown modifier 'x' in field...").
    return Fail(option + ": " + rules.failures.front().reason);
  }
  if (rules.rules.size() != 1) return Fail(option + ": the conditions did not make one rule");
  out.rule_ = std::move(rules.rules.front());
  out.selections_ = ConditionSelections(out.rule_);
  if (out.selections_.size() != conditions.size())
    return Fail(option + ": the conditions did not make one selection each");
  for (const std::string& name : out.names_) out.fields_.push_back(catalog.Intern(name));
  return out;
}

bool EventConditions::Hold(const event::Event& event) const {
  return sigma::EvaluateRule(rule_, event);
}

bool EventConditions::ValueHeld(size_t k, const event::FieldValue& value) const {
  const sigma::Item& item = rule_.selections[selections_[k]].maps.front().front();
  if (item.negate) return true;
  for (const std::vector<uint32_t>& group : item.groups) {
    for (uint32_t index : group) {
      const sigma::Predicate& predicate = rule_.predicates[index];
      switch (predicate.kind) {
        case sigma::PredicateKind::kExists:
        case sigma::PredicateKind::kNull:
        case sigma::PredicateKind::kFieldRef:
          return true;
        default:
          if (predicate.TestValue(value)) return true;
      }
    }
  }
  return false;
}

}  // namespace yagura::scan

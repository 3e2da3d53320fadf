// The plain evaluator: Sigma semantics written as directly as possible.
//
// It walks the condition tree and tests every predicate against the event. It is the oracle the
// fast matcher is checked against (tests/unit/sigma/differential_test.cpp), so it favours
// obviousness over speed. Thread-safe: it keeps no state.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "event/event.hpp"
#include "sigma/rule.hpp"
#include "sigma/rule_set.hpp"

namespace yagura::sigma {

// What to do with events whose logsource is unknown (nothing in the event or in --logsource
// says what it is). docs/logsources.md explains the choice.
enum class UnrecognisedPolicy : uint8_t {
  kAllRules,  // evaluate every rule (default: a keyword or field match on unknown data still counts)
  kSkip,      // evaluate no rule; the events are counted as unrecognised
};

// Whether `rule` is routed to an event of class `event_class`.
[[nodiscard]] bool RuleApplies(const Rule& rule, const event::LogsourceClass& event_class,
                               UnrecognisedPolicy policy);

// Whether the rule can speak of an event whose logsource nothing recognised: it searches
// keywords, or the event holds at least one of the fields the rule tests. Routed to every
// rule (kAllRules), a foreign event otherwise fires each rule whose condition is met by absent
// fields alone (`not selection`, `Image|exists: false`): thousands of alerts on a text file
// that says nothing of what the rules look for. Both the evaluator and the matcher apply it.
[[nodiscard]] bool RuleSeesUnrecognisedEvent(const Rule& rule, const event::Event& event);

// Whether the rule's condition holds for the event (logsource routing is not checked here).
// When `matched_fields` is given, the names of the fields whose items held in the selections
// that made the condition true are appended (deduplicated).
[[nodiscard]] bool EvaluateRule(const Rule& rule, const event::Event& event,
                                std::vector<std::string_view>* matched_fields = nullptr);

// The matched fields of a rule already known to hold for the event (a matcher's result), as
// EvaluateRule appends them, without deciding the whole condition again first.
void AppendMatchedFields(const Rule& rule, const event::Event& event,
                         std::vector<std::string_view>& matched_fields);

// Whether predicate `index` of a rule (into Rule::predicates) holds for the event at hand,
// decided by whoever knows best: a matcher that has just matched the event answers from what it
// found instead of testing the predicate again. A non-owning reference to a callable.
class PredicateTest {
 public:
  template <typename Test>
  explicit PredicateTest(const Test& test)
      : test_(&test), call_([](const void* t, uint32_t index) {
          return (*static_cast<const Test*>(t))(index);
        }) {}
  bool operator()(uint32_t index) const { return call_(test_, index); }

 private:
  const void* test_;
  bool (*call_)(const void*, uint32_t);
};

// AppendMatchedFields with the rule's predicates decided by `holds`, which must agree with
// Predicate::Test on the event.
void AppendMatchedFields(const Rule& rule, const PredicateTest& holds,
                         std::vector<std::string_view>& matched_fields);

// Appends to `out` the indices of all rules of `rules` that apply to and match `event`, in
// ascending order (an unrecognised event: only rules that see it, RuleSeesUnrecognisedEvent).
void EvaluateAll(const RuleSet& rules, const event::Event& event, UnrecognisedPolicy policy,
                 std::vector<uint32_t>& out);

}  // namespace yagura::sigma

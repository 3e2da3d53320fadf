// Predicate tests, dispatched through a table indexed by PredicateKind: each kind has a value
// test (one field value) and optionally an event test (kinds that look at presence or at two
// fields). The match functions live with the modifier units that create the kinds.
#include "sigma/predicate.hpp"

#include <array>

#include "sigma/case_fold.hpp"
#include "sigma/modifiers/modifier.hpp"
#include "sigma/wildcard.hpp"

namespace yagura::sigma {

namespace {

bool MatchString(const Predicate& predicate, const event::FieldValue& value) {
  // A null value is no string, not even the empty one (`Field: ''` needs an empty string).
  if (value.type == event::ValueType::kNull) return false;
  return GlobMatch(predicate.glob, value.text, predicate.cased);
}

bool MatchRegexValue(const Predicate& predicate, const event::FieldValue& value) {
  if (value.type == event::ValueType::kNull) return false;
  return modifiers::MatchRegex(predicate, value);
}

bool MatchBool(const Predicate& predicate, const event::FieldValue& value) {
  if (value.type != event::ValueType::kBool && value.type != event::ValueType::kString)
    return false;
  return EqualsFolded(value.text, predicate.boolean ? "true" : "false");
}

bool NoValueTest(const Predicate&, const event::FieldValue&) { return false; }

bool TestNull(const Predicate& predicate, const event::Event& event) {
  if (!event.Has(predicate.field)) return true;
  for (const event::FieldValue& value : event.Values(predicate.field))
    if (value.type == event::ValueType::kNull) return true;
  return false;
}

struct KindOps {
  bool (*test_value)(const Predicate&, const event::FieldValue&);
  bool (*test_event)(const Predicate&, const event::Event&);  // null: any value of the field
};

// Indexed by PredicateKind; the static_assert below keeps the order honest.
constexpr std::array<KindOps, 9> KIND_OPS = {{
    {MatchString, nullptr},                  // kString
    {MatchRegexValue, nullptr},              // kRegex
    {modifiers::MatchCidr, nullptr},         // kCidr
    {modifiers::MatchNumber, nullptr},       // kNumber
    {modifiers::MatchTimePart, nullptr},     // kTimePart
    {NoValueTest, modifiers::TestExists},    // kExists
    {NoValueTest, TestNull},                 // kNull
    {NoValueTest, modifiers::TestFieldRef},  // kFieldRef
    {MatchBool, nullptr},                    // kBool
}};
static_assert(static_cast<size_t>(PredicateKind::kBool) == KIND_OPS.size() - 1);

}  // namespace

bool Predicate::TestValue(const event::FieldValue& value) const {
  return KIND_OPS[static_cast<size_t>(kind)].test_value(*this, value);
}

bool Predicate::Test(const event::Event& event) const {
  const KindOps& ops = KIND_OPS[static_cast<size_t>(kind)];
  if (field == event::NO_FIELD) {
    // Keyword search: any value of the event.
    for (const event::FieldValue& value : event.AllValues())
      if (ops.test_value(*this, value)) return true;
    return false;
  }
  if (ops.test_event != nullptr) return ops.test_event(*this, event);
  for (const event::FieldValue& value : event.Values(field))
    if (ops.test_value(*this, value)) return true;
  return false;
}

}  // namespace yagura::sigma

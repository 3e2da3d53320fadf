// fieldref: the value names another field of the same event; the item holds when a value of
// the field equals a value of the other field (or starts with, ends with, contains it, with
// startswith / endswith / contains after fieldref). The specification leaves case handling
// open; we compare case-insensitively like every other Sigma string comparison.
#include "sigma/case_fold.hpp"
#include "sigma/modifiers/modifier.hpp"

namespace yagura::sigma::modifiers {

namespace {

Result<void> ApplyFieldRef(const ModifierContext& ctx, ValueState& value) {
  if (auto ok = RequireRaw(ctx, value); !ok) return ok;
  if (value.raw.empty()) return ModifierError(ctx, "needs a field name");
  if (value.raw.find_first_of("*?") != std::string::npos) {
    return ModifierError(ctx, "a field name cannot contain wildcards");
  }
  value.proto.kind = PredicateKind::kFieldRef;
  value.proto.other = ctx.catalog.Intern(value.raw);
  value.alternatives.clear();
  return {};
}

bool Compare(std::string_view a, std::string_view b, FieldRefMode mode) {
  switch (mode) {
    case FieldRefMode::kEquals:
      return EqualsFolded(a, b);
    case FieldRefMode::kStartsWith:
      return StartsWithFolded(a, b);
    case FieldRefMode::kEndsWith:
      return EndsWithFolded(a, b);
    case FieldRefMode::kContains:
      return ContainsFolded(a, b);
  }
  return false;
}

}  // namespace

bool TestFieldRef(const Predicate& predicate, const event::Event& event) {
  for (const event::FieldValue& a : event.Values(predicate.field)) {
    if (a.type == event::ValueType::kNull) continue;
    for (const event::FieldValue& b : event.Values(predicate.other)) {
      if (b.type == event::ValueType::kNull) continue;
      if (Compare(a.text, b.text, predicate.ref_mode)) return true;
    }
  }
  return false;
}

const Modifier FIELDREF{"fieldref", nullptr, ApplyFieldRef};

}  // namespace yagura::sigma::modifiers

// exists: `Field|exists: true` holds when the field is present (even empty or null), `false`
// when it is absent. It takes a boolean and no other modifier.
#include "sigma/modifiers/modifier.hpp"

namespace yagura::sigma::modifiers {

namespace {

Result<void> CheckExists(const ModifierContext& ctx, ItemFlags& flags) {
  if (ctx.chain.size() != 1) return ModifierError(ctx, "cannot be combined with other modifiers");
  if (flags.keyword) return ModifierError(ctx, "needs a field name");
  return {};
}

Result<void> ApplyExists(const ModifierContext& ctx, ValueState& value) {
  if (value.type != ValueType::kBool) return ModifierError(ctx, "needs the value true or false");
  bool present = value.proto.boolean;
  value.proto.kind = PredicateKind::kExists;
  value.proto.exists = present;
  return {};
}

}  // namespace

bool TestExists(const Predicate& predicate, const event::Event& event) {
  return event.Has(predicate.field) == predicate.exists;
}

const Modifier EXISTS{"exists", CheckExists, ApplyExists};

}  // namespace yagura::sigma::modifiers

// all / neq: item-level modifiers. |all ANDs the item's values instead of ORing them (the
// alternatives of one expanded value stay ORed); |neq negates the whole item, so an absent
// field satisfies it, as in pySigma.
#include "sigma/modifiers/modifier.hpp"

namespace yagura::sigma::modifiers {

namespace {

Result<void> CheckAll(const ModifierContext& ctx, ItemFlags& flags) {
  flags.match_all = true;
  return {};
}

Result<void> CheckNeq(const ModifierContext& ctx, ItemFlags& flags) {
  if (flags.keyword) return ModifierError(ctx, "needs a field name");
  flags.negate = true;
  return {};
}

}  // namespace

const Modifier ALL{"all", CheckAll, nullptr};
const Modifier NEQ{"neq", CheckNeq, nullptr};

}  // namespace yagura::sigma::modifiers

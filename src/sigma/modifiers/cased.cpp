// cased: compare the (wildcard) string case-sensitively.
#include "sigma/modifiers/modifier.hpp"

namespace yagura::sigma::modifiers {

namespace {

Result<void> ApplyCased(const ModifierContext& ctx, ValueState& value) {
  if (auto ok = RequireString(ctx, value); !ok) return ok;
  value.proto.cased = true;
  return {};
}

}  // namespace

const Modifier CASED{"cased", nullptr, ApplyCased};

}  // namespace yagura::sigma::modifiers

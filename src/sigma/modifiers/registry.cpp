// The modifier table: every unit registers here; lookup is by exact (lower-case) name.
#include <algorithm>

#include "sigma/modifiers/modifier.hpp"

namespace yagura::sigma::modifiers {

const std::vector<const Modifier*>& AllModifiers() {
  static const std::vector<const Modifier*> table = {
      &CONTAINS,      &STARTSWITH,   &ENDSWITH,     &ALL,     &NEQ,
      &CASED,         &EXISTS,       &WINDASH,      &RE,      &RE_I,
      &RE_IGNORECASE, &RE_M,         &RE_MULTILINE, &RE_S,    &RE_DOTALL,
      &BASE64,        &BASE64OFFSET, &UTF16LE,      &UTF16BE, &UTF16,
      &WIDE,          &CIDR,         &LT,           &LTE,     &GT,
      &GTE,           &MINUTE,       &HOUR,         &DAY,     &WEEK,
      &MONTH,         &YEAR,         &FIELDREF,     &EXPAND,
  };
  return table;
}

const Modifier* FindModifier(std::string_view name) {
  const auto& table = AllModifiers();
  auto it = std::find_if(table.begin(), table.end(),
                         [&](const Modifier* modifier) { return modifier->name == name; });
  return it == table.end() ? nullptr : *it;
}

tl::unexpected<Error> ModifierError(const ModifierContext& ctx, std::string_view what) {
  return Fail("modifier '" + std::string(ctx.name()) + "' in '" + std::string(ctx.key) +
              "': " + std::string(what));
}

tl::unexpected<Error> TooManyAlternatives(const ModifierContext& ctx) {
  return ModifierError(ctx,
                       "expands to more than " + std::to_string(MAX_ALTERNATIVES) + " alternatives");
}

Result<void> RequireString(const ModifierContext& ctx, ValueState& value) {
  if (value.type == ValueType::kNull) return ModifierError(ctx, "cannot apply to a null value");
  bool untouched_scalar =
      !value.transformed &&
      ((value.type == ValueType::kNumber && value.proto.kind == PredicateKind::kNumber &&
        value.proto.op == CompareOp::kEq) ||
       (value.type == ValueType::kBool && value.proto.kind == PredicateKind::kBool));
  if (untouched_scalar) {
    // A number or boolean under a string modifier is matched as the text it was written as.
    value.type = ValueType::kString;
    value.proto.kind = PredicateKind::kString;
    value.alternatives.clear();
    value.alternatives.push_back({GlobToken{GlobToken::Kind::kLiteral, value.raw}});
    return {};
  }
  if (value.type != ValueType::kString || value.proto.kind != PredicateKind::kString) {
    return ModifierError(ctx, "needs a string value");
  }
  return {};
}

Result<void> RequireRaw(const ModifierContext& ctx, const ValueState& value) {
  if (value.type != ValueType::kString) return ModifierError(ctx, "needs a string value");
  if (value.transformed || value.proto.kind != PredicateKind::kString) {
    return ModifierError(ctx, "must come before any modifier that changes the value");
  }
  return {};
}

bool ChainHas(const ModifierContext& ctx, std::string_view name) {
  return std::find(ctx.chain.begin(), ctx.chain.end(), name) != ctx.chain.end();
}

}  // namespace yagura::sigma::modifiers

// re and its flags: the value is a regular expression searched anywhere in the field
// (sigma/regex.hpp). `re` needs the raw string, so it must come before any transformation;
// i / m / s (aliases ignorecase / multiline / dotall) may only follow it. The pattern is
// compiled when the item is finished (the flags come later in the chain).
#include "sigma/modifiers/modifier.hpp"
#include "sigma/regex.hpp"

namespace yagura::sigma::modifiers {

namespace {

Result<void> ApplyRe(const ModifierContext& ctx, ValueState& value) {
  if (auto ok = RequireRaw(ctx, value); !ok) return ok;
  value.proto.kind = PredicateKind::kRegex;
  value.proto.pattern = value.raw;
  value.alternatives.clear();
  return {};
}

Result<void> CheckFlag(const ModifierContext& ctx, ItemFlags&) {
  for (size_t i = 0; i < ctx.index; ++i)
    if (ctx.chain[i] == "re") return {};
  return ModifierError(ctx, "is a regular-expression flag and must follow 're'");
}

template <bool Predicate::*Flag>
Result<void> ApplyFlag(const ModifierContext& ctx, ValueState& value) {
  if (value.proto.kind != PredicateKind::kRegex) {
    return ModifierError(ctx, "is a regular-expression flag and must follow 're'");
  }
  value.proto.*Flag = true;
  return {};
}

}  // namespace

bool MatchRegex(const Predicate& predicate, const event::FieldValue& value) {
  return predicate.regex != nullptr && predicate.regex->Search(value.text);
}

const Modifier RE{"re", nullptr, ApplyRe};
const Modifier RE_I{"i", CheckFlag, ApplyFlag<&Predicate::re_ignore_case>};
const Modifier RE_IGNORECASE{"ignorecase", CheckFlag, ApplyFlag<&Predicate::re_ignore_case>};
const Modifier RE_M{"m", CheckFlag, ApplyFlag<&Predicate::re_multiline>};
const Modifier RE_MULTILINE{"multiline", CheckFlag, ApplyFlag<&Predicate::re_multiline>};
const Modifier RE_S{"s", CheckFlag, ApplyFlag<&Predicate::re_dotall>};
const Modifier RE_DOTALL{"dotall", CheckFlag, ApplyFlag<&Predicate::re_dotall>};

}  // namespace yagura::sigma::modifiers

// contains / startswith / endswith: put `*` on one or both sides of a string (unless already
// there). On a regex they add `.*` (a no-op under search semantics, kept for fidelity with
// pySigma); on a field reference they select substring / prefix / suffix comparison.
#include "sigma/modifiers/modifier.hpp"
#include "sigma/wildcard.hpp"

namespace yagura::sigma::modifiers {

namespace {

Result<void> ApplyPosition(const ModifierContext& ctx, ValueState& value, bool leading,
                           bool trailing, FieldRefMode ref_mode) {
  if (value.proto.kind == PredicateKind::kFieldRef) {
    if (value.proto.ref_mode != FieldRefMode::kEquals) {
      return ModifierError(ctx, "a field reference takes only one of contains/startswith/endswith");
    }
    value.proto.ref_mode = ref_mode;
    return {};
  }
  if (value.proto.kind == PredicateKind::kRegex) {
    std::string& pattern = value.proto.pattern;
    auto starts = [&](std::string_view s) { return pattern.compare(0, s.size(), s) == 0; };
    auto ends = [&](std::string_view s) {
      return pattern.size() >= s.size() &&
             pattern.compare(pattern.size() - s.size(), s.size(), s) == 0;
    };
    if (leading && !starts(".*") && !starts("^")) pattern.insert(0, ".*");
    if (trailing && !ends(".*") && !ends("$")) pattern += ".*";
    return {};
  }
  if (auto ok = RequireString(ctx, value); !ok) return ok;
  for (auto& glob : value.alternatives) {
    if (leading && !StartsWithStar(glob))
      glob.insert(glob.begin(), GlobToken{GlobToken::Kind::kStar, {}});
    if (trailing && !EndsWithStar(glob)) AppendStar(glob);
  }
  value.transformed = true;
  value.positioned = true;
  return {};
}

Result<void> ApplyContains(const ModifierContext& ctx, ValueState& value) {
  return ApplyPosition(ctx, value, true, true, FieldRefMode::kContains);
}
Result<void> ApplyStartsWith(const ModifierContext& ctx, ValueState& value) {
  return ApplyPosition(ctx, value, false, true, FieldRefMode::kStartsWith);
}
Result<void> ApplyEndsWith(const ModifierContext& ctx, ValueState& value) {
  return ApplyPosition(ctx, value, true, false, FieldRefMode::kEndsWith);
}

}  // namespace

const Modifier CONTAINS{"contains", nullptr, ApplyContains};
const Modifier STARTSWITH{"startswith", nullptr, ApplyStartsWith};
const Modifier ENDSWITH{"endswith", nullptr, ApplyEndsWith};

}  // namespace yagura::sigma::modifiers

// lt / lte / gt / gte, and numeric equality for plain numeric rule values. The rule value must
// be a YAML number; the event value is parsed as a decimal number (optional '-', digits,
// fraction, exponent: "4624", "-1.5", "1e3"). Hex ("0x10"), surrounding spaces and other text
// never match, so a non-numeric field simply does not satisfy the predicate.
#include <charconv>

#include "sigma/modifiers/modifier.hpp"

namespace yagura::sigma::modifiers {

bool ParseDecimal(std::string_view text, double* out) {
  if (text.empty()) return false;
  // from_chars accepts "inf", "nan" and hex floats only when asked; restrict to decimal text.
  for (char c : text) {
    bool ok = (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E';
    if (!ok) return false;
  }
  if (text.front() == '+') return false;
  auto [end, ec] =
      std::from_chars(text.data(), text.data() + text.size(), *out, std::chars_format::general);
  return ec == std::errc() && end == text.data() + text.size();
}

bool CompareNumbers(double value, CompareOp op, double reference) {
  switch (op) {
    case CompareOp::kEq:
      return value == reference;
    case CompareOp::kLt:
      return value < reference;
    case CompareOp::kLte:
      return value <= reference;
    case CompareOp::kGt:
      return value > reference;
    case CompareOp::kGte:
      return value >= reference;
  }
  return false;
}

bool MatchNumber(const Predicate& predicate, const event::FieldValue& value) {
  if (value.type != event::ValueType::kString && value.type != event::ValueType::kNumber) {
    return false;
  }
  double number = 0;
  return ParseDecimal(value.text, &number) &&
         CompareNumbers(number, predicate.op, predicate.number);
}

namespace {

Result<void> CheckCompare(const ModifierContext& ctx, ItemFlags&) {
  int count = 0;
  for (std::string_view m : ctx.chain)
    count += (m == "lt" || m == "lte" || m == "gt" || m == "gte");
  if (count > 1) return ModifierError(ctx, "only one of lt/lte/gt/gte may be given");
  return {};
}

template <CompareOp Op>
Result<void> ApplyCompare(const ModifierContext& ctx, ValueState& value) {
  if (value.type != ValueType::kNumber || value.transformed) {
    return ModifierError(ctx, "needs a numeric value");
  }
  if (value.proto.kind != PredicateKind::kNumber && value.proto.kind != PredicateKind::kTimePart) {
    return ModifierError(ctx, "cannot follow a modifier that changed the value's type");
  }
  value.proto.op = Op;
  return {};
}

}  // namespace

const Modifier LT{"lt", CheckCompare, ApplyCompare<CompareOp::kLt>};
const Modifier LTE{"lte", CheckCompare, ApplyCompare<CompareOp::kLte>};
const Modifier GT{"gt", CheckCompare, ApplyCompare<CompareOp::kGt>};
const Modifier GTE{"gte", CheckCompare, ApplyCompare<CompareOp::kGte>};

}  // namespace yagura::sigma::modifiers

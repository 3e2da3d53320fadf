// minute / hour / day / week / month / year: take that component of a date/time field and
// compare it numerically with the value (equality, or lt/lte/gt/gte when also given). The field
// is read as "YYYY-MM-DD", optionally followed by 'T' or ' ' and "HH:MM[:SS[.fraction]]" and
// any zone suffix, which is ignored: there is no time-zone conversion, as the specification
// says. `week` is the ISO 8601 week number (1-53).
#include "sigma/modifiers/modifier.hpp"

namespace yagura::sigma::modifiers {

namespace {

bool Digits(std::string_view text, size_t at, size_t count, int* out) {
  if (at + count > text.size()) return false;
  int value = 0;
  for (size_t i = at; i < at + count; ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
    value = value * 10 + (text[i] - '0');
  }
  *out = value;
  return true;
}

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
int64_t DaysFromCivil(int y, int m, int d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

int IsoWeekday(int64_t days) {  // 1 = Monday ... 7 = Sunday; 1970-01-01 was a Thursday
  int64_t w = (days + 3) % 7;
  if (w < 0) w += 7;
  return static_cast<int>(w) + 1;
}

int IsoWeeksInYear(int year) {
  int jan1 = IsoWeekday(DaysFromCivil(year, 1, 1));
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return (jan1 == 4 || (leap && jan1 == 3)) ? 53 : 52;
}

int IsoWeek(int year, int month, int day) {
  int64_t days = DaysFromCivil(year, month, day);
  int ordinal = static_cast<int>(days - DaysFromCivil(year, 1, 1)) + 1;
  int week = (ordinal - IsoWeekday(days) + 10) / 7;
  if (week < 1) return IsoWeeksInYear(year - 1);
  if (week > IsoWeeksInYear(year)) return 1;
  return week;
}

template <TimePart Part>
Result<void> ApplyTimePart(const ModifierContext& ctx, ValueState& value) {
  if (value.type != ValueType::kNumber || value.transformed ||
      (value.proto.kind != PredicateKind::kNumber)) {
    return ModifierError(ctx, "needs a numeric value");
  }
  value.proto.kind = PredicateKind::kTimePart;
  value.proto.part = Part;
  return {};
}

Result<void> CheckTimePart(const ModifierContext& ctx, ItemFlags&) {
  for (size_t i = 0; i < ctx.chain.size(); ++i) {
    std::string_view m = ctx.chain[i];
    if (i != ctx.index && (m == "minute" || m == "hour" || m == "day" || m == "week" ||
                           m == "month" || m == "year")) {
      return ModifierError(ctx, "only one time component may be given");
    }
  }
  return {};
}

}  // namespace

bool ExtractTimePart(std::string_view text, TimePart part, int* out) {
  int year, month, day;
  if (!Digits(text, 0, 4, &year) || text.size() < 10 || text[4] != '-' ||
      !Digits(text, 5, 2, &month) || text[7] != '-' || !Digits(text, 8, 2, &day)) {
    return false;
  }
  if (month < 1 || month > 12 || day < 1 || day > 31) return false;
  switch (part) {
    case TimePart::kYear:
      *out = year;
      return true;
    case TimePart::kMonth:
      *out = month;
      return true;
    case TimePart::kDay:
      *out = day;
      return true;
    case TimePart::kWeek:
      *out = IsoWeek(year, month, day);
      return true;
    default:
      break;
  }
  int hour, minute;
  if (text.size() < 16 || (text[10] != 'T' && text[10] != ' ' && text[10] != 't') ||
      !Digits(text, 11, 2, &hour) || text[13] != ':' || !Digits(text, 14, 2, &minute) ||
      hour > 23 || minute > 59) {
    return false;
  }
  *out = part == TimePart::kHour ? hour : minute;
  return true;
}

bool MatchTimePart(const Predicate& predicate, const event::FieldValue& value) {
  int component = 0;
  return ExtractTimePart(value.text, predicate.part, &component) &&
         CompareNumbers(component, predicate.op, predicate.number);
}

const Modifier MINUTE{"minute", CheckTimePart, ApplyTimePart<TimePart::kMinute>};
const Modifier HOUR{"hour", CheckTimePart, ApplyTimePart<TimePart::kHour>};
const Modifier DAY{"day", CheckTimePart, ApplyTimePart<TimePart::kDay>};
const Modifier WEEK{"week", CheckTimePart, ApplyTimePart<TimePart::kWeek>};
const Modifier MONTH{"month", CheckTimePart, ApplyTimePart<TimePart::kMonth>};
const Modifier YEAR{"year", CheckTimePart, ApplyTimePart<TimePart::kYear>};

}  // namespace yagura::sigma::modifiers

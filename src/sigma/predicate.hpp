// Predicate: one Sigma value after its modifiers, tested against the values of one field.
//
// The plain evaluator calls Predicate::Test directly; the fast matcher (sigma/matcher.hpp)
// decides kString and kRegex predicates with one Hyperscan scan per field and calls Test only
// for the other kinds and to confirm prefilter hits. Both must agree: tests/unit/differential.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "event/event.hpp"
#include "event/field_catalog.hpp"

namespace yagura::sigma {

class Regex;  // sigma/regex.hpp: RE2, or PCRE2 for patterns RE2 cannot run

enum class PredicateKind : uint8_t {
  kString,    // wildcard pattern, anchored at both ends, case-insensitive unless |cased
  kRegex,     // |re, unanchored search
  kCidr,      // |cidr
  kNumber,    // |lt |lte |gt |gte, or a plain numeric value (numeric equality)
  kTimePart,  // |minute |hour |day |week |month |year, compared numerically
  kExists,    // |exists
  kNull,      // Field: null -> absent, or present with a null value
  kFieldRef,  // |fieldref (with startswith/endswith/contains)
  kBool,      // a YAML boolean value: matches true/false case-insensitively
};

// A wildcard pattern after Sigma escaping has been resolved: literal text and wildcards.
struct GlobToken {
  enum class Kind : uint8_t { kLiteral, kStar, kOne };
  Kind kind = Kind::kLiteral;
  std::string text;  // kLiteral only: the literal bytes (UTF-8)
};

enum class CompareOp : uint8_t { kEq, kLt, kLte, kGt, kGte };
enum class TimePart : uint8_t { kMinute, kHour, kDay, kWeek, kMonth, kYear };
enum class FieldRefMode : uint8_t { kEquals, kStartsWith, kEndsWith, kContains };

struct IpNetwork {
  bool v6 = false;
  std::array<uint8_t, 16> address{};  // network address, big-endian; v4 uses the first 4 bytes
  uint8_t prefix = 0;
};

struct Predicate {
  PredicateKind kind = PredicateKind::kString;
  event::FieldId field = event::NO_FIELD;  // NO_FIELD: keyword, tested against every value

  // kString
  std::vector<GlobToken> glob;
  bool cased = false;

  // kRegex
  std::string pattern;  // as written in the rule
  bool re_ignore_case = false, re_multiline = false, re_dotall = false;
  std::shared_ptr<const Regex> regex;

  // kCidr
  IpNetwork network;

  // kNumber, kTimePart
  CompareOp op = CompareOp::kEq;
  double number = 0;
  TimePart part = TimePart::kMinute;

  // kExists
  bool exists = true;

  // kFieldRef
  event::FieldId other = event::NO_FIELD;
  FieldRefMode ref_mode = FieldRefMode::kEquals;

  // kBool
  bool boolean = false;

  // Whether the predicate holds for the event: for a field predicate, whether any value of the
  // field satisfies it (kNull and kExists look at presence; kFieldRef compares two fields).
  [[nodiscard]] bool Test(const event::Event& event) const;
  // Whether one value satisfies the predicate (kString, kRegex, kCidr, kNumber, kTimePart,
  // kBool only). Keyword predicates use this on every value of the event.
  [[nodiscard]] bool TestValue(const event::FieldValue& value) const;
};

}  // namespace yagura::sigma

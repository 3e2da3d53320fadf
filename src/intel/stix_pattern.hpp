// STIX 2.1 patterning: parser, syntax tree, and the reduction of a pattern to indicator atoms.
//
// ParsePattern is a hand-written recursive-descent parser for the whole STIX 2.1 pattern grammar
// (observation expressions joined by AND / OR / FOLLOWEDBY with WITHIN, START/STOP and REPEATS
// qualifiers; comparison expressions inside brackets with AND binding tighter than OR; every
// comparison operator, object path form and literal type). It tokenises the whole pattern first
// (patterns are short), then descends one function per precedence level; AND/OR/FOLLOWEDBY
// chains become one n-ary node, parentheses become nesting. Errors name the character offset.
//
// ToIndicatorDnf turns the subset of patterns that can be checked on one event into the
// disjunctive normal form of Atoms that IndicatorIndex matches: observations joined by OR, each
// without qualifiers, whose comparisons are equalities (=, IN, !=, LIKE without wildcards,
// MATCHES of an anchored literal, ISSUBSET of a CIDR range) on object paths the index knows.
// AND/OR inside an observation is distributed, capped at MAX_CONJUNCTIONS. Anything else makes
// the whole pattern not indexable, with the reason: dropping one AND term would silently widen
// the indicator and turn it into a false-positive generator.
//
// Thread-safety: all functions are pure and may be called from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "intel/indicator.hpp"

namespace yagura::intel::stix {

enum class LiteralKind : uint8_t {
  kString,     // 'text' (text holds it unescaped)
  kInteger,    // 42, -1, +7 (integer holds the value)
  kFloat,      // 7.0, -.5 (number holds the value)
  kBoolean,    // true, false
  kTimestamp,  // t'2014-01-13T07:03:17Z' (text: inside the quotes; timestamp_ms: its value)
  kHex,        // h'ffd8' (text: the hex digits)
  kBinary,     // b'AAEC' (text: the base64 characters)
};

struct Literal {
  LiteralKind kind = LiteralKind::kString;
  std::string text;  // as described above; integers and floats: the digits as written
  int64_t integer = 0;
  double number = 0;
  bool boolean = false;
  int64_t timestamp_ms = 0;
  size_t offset = 0;  // where the literal starts in the pattern
};

struct PathStep {
  enum class Kind : uint8_t { kKey, kIndex, kAnyIndex };  // .key / 'quoted key', [n], [*]
  Kind kind = Kind::kKey;
  std::string key;
  int64_t index = 0;
};

// `type:first.second[*].third`: steps[0] is always a key.
struct ObjectPath {
  std::string object_type;
  std::vector<PathStep> steps;
  size_t offset = 0;
  // Canonical text, keys quoted only when they are not plain identifiers: file:hashes.'SHA-256'.
  [[nodiscard]] std::string ToString() const;
};

enum class ComparisonOperator : uint8_t {
  kEqual,         // = or ==
  kNotEqual,      // != or <>
  kLess,          // <
  kLessEqual,     // <=
  kGreater,       // >
  kGreaterEqual,  // >=
  kIn,            // IN (a, b, ...)
  kLike,          // LIKE 'sql%pattern_'
  kMatches,       // MATCHES 'pcre'
  kIsSubset,      // ISSUBSET 'cidr'
  kIsSuperset,    // ISSUPERSET 'cidr'
  kExists,        // EXISTS path
};
std::string_view ToString(ComparisonOperator op);

struct Comparison {
  ObjectPath path;
  ComparisonOperator op = ComparisonOperator::kEqual;
  bool negated = false;         // NOT before the operator (or before EXISTS)
  std::vector<Literal> values;  // one; the set's elements for IN (may be empty); none for EXISTS
  size_t offset = 0;
};

struct ComparisonExpression {
  enum class Kind : uint8_t { kComparison, kAnd, kOr };
  Kind kind = Kind::kComparison;
  Comparison comparison;                       // kComparison
  std::vector<ComparisonExpression> operands;  // kAnd, kOr: two or more
};

struct Qualifier {
  enum class Kind : uint8_t { kWithin, kStartStop, kRepeats };
  Kind kind = Kind::kWithin;
  double seconds = 0;  // kWithin
  std::string seconds_text;
  int64_t times = 0;    // kRepeats
  Literal start, stop;  // kStartStop (timestamps)
  size_t offset = 0;
};

struct ObservationExpression {
  enum class Kind : uint8_t { kObservation, kAnd, kOr, kFollowedBy };
  Kind kind = Kind::kObservation;
  ComparisonExpression comparison;              // kObservation: the text inside [...]
  std::vector<ObservationExpression> operands;  // kAnd, kOr, kFollowedBy: two or more, in order
  std::vector<Qualifier> qualifiers;            // in the order written
  size_t offset = 0;
};

struct Pattern {
  ObservationExpression root;
};

// Parses a whole pattern. The error message starts "at offset N:" (0-based, in bytes).
[[nodiscard]] Result<Pattern> ParsePattern(std::string_view text);

// Canonical text of a parsed pattern; parsing it again gives the same tree.
[[nodiscard]] std::string ToString(const Pattern& pattern);

// At most this many conjunctions come out of one pattern; more is reported as not indexable.
inline constexpr size_t MAX_CONJUNCTIONS = 256;

// The pattern as atoms in DNF, or the reason it cannot be checked on a single event.
[[nodiscard]] Result<std::vector<Conjunction>> ToIndicatorDnf(const Pattern& pattern);

// RFC 3339 date-time ("2016-05-12T08:17:27.000Z", "...T10:00:00+09:00", fraction optional, any
// number of fraction digits, 't'/'z' lower-case accepted) as milliseconds since the epoch (UTC),
// fraction truncated to milliseconds. Used for pattern timestamps and STIX object properties.
[[nodiscard]] std::optional<int64_t> ParseTimestampMs(std::string_view text);

}  // namespace yagura::intel::stix

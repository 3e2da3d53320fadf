// Sigma value modifiers: one small unit per modifier (or family), registered in one table.
//
// An item `Field|m1|m2: values` is compiled in two steps. First every modifier's `check` hook
// runs once for the item: it validates the modifier's place in the chain and sets item-level
// flags (|all, |neq). Then, for each value, a ValueState is created from the YAML scalar and
// every modifier's `apply` hook transforms it, left to right: transformations rewrite the glob
// alternatives (contains, windash, base64...), type modifiers turn the value into another kind
// of predicate (re, cidr, lt, fieldref...). Modifiers that expand a value (windash,
// base64offset, expand) add alternatives, which always stay ORed, even under |all. The match
// side of each predicate kind lives with the modifier that creates it (cidr.cpp, compare.cpp...)
// and is reached through the kind table in predicate.cpp. Prefiltering belongs to the fast
// matcher: kString predicates become Hyperscan patterns through GlobToRegex (wildcard.hpp),
// kRegex predicates through their pattern; every other kind is confirmed by its match hook.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "event/event.hpp"
#include "event/field_catalog.hpp"
#include "sigma/predicate.hpp"
#include "sigma/rule_set.hpp"

namespace yagura::sigma::modifiers {

// An expansion larger than this is refused: it would only ever come from a mistake.
inline constexpr size_t MAX_ALTERNATIVES = 65536;

// The YAML type the value was written with.
enum class ValueType : uint8_t { kString, kNumber, kBool, kNull };

// One rule value while its modifiers are applied.
struct ValueState {
  ValueType type = ValueType::kString;
  std::string raw;           // the string as written (before escaping), or the number's text
  bool transformed = false;  // a transformation has rewritten the value: `raw` is stale
  bool positioned = false;   // contains/startswith/endswith was applied
  // For kString predicates: the ORed alternatives (one unless an expansion ran).
  std::vector<std::vector<GlobToken>> alternatives;
  // Kind and flags shared by all predicates made from this value.
  Predicate proto;
};

// Item-level effects of modifiers.
struct ItemFlags {
  bool match_all = false;  // |all
  bool negate = false;     // |neq
  bool keyword = false;    // the item has no field name
};

struct ModifierContext {
  const LoadOptions& options;
  event::FieldCatalog& catalog;
  std::string_view key;                        // the item key as written ("CommandLine|re|i")
  const std::vector<std::string_view>& chain;  // every modifier of the item, in order
  size_t index;                                // position of this modifier in `chain`
  [[nodiscard]] std::string_view name() const { return chain[index]; }
};

struct Modifier {
  std::string_view name;
  // Parse hook: runs once per item, before any value. May be null.
  Result<void> (*check)(const ModifierContext&, ItemFlags&);
  // Compile hook: transforms one value. May be null (item-level modifiers).
  Result<void> (*apply)(const ModifierContext&, ValueState&);
};

// The registered modifier called `name`, or nullptr.
[[nodiscard]] const Modifier* FindModifier(std::string_view name);
// Every registered modifier (aliases included), for documentation and tests.
[[nodiscard]] const std::vector<const Modifier*>& AllModifiers();

// ---- helpers shared by the modifier units ----

// "modifier 'x' in 'Key|x': <what>".
[[nodiscard]] tl::unexpected<Error> ModifierError(const ModifierContext& ctx,
                                                  std::string_view what);
// The refusal of an expansion past MAX_ALTERNATIVES values (windash, expand).
[[nodiscard]] tl::unexpected<Error> TooManyAlternatives(const ModifierContext& ctx);
// Makes the value a plain string (numbers and booleans use their written text), or fails when
// it is null or has already become another kind (regex, cidr...).
[[nodiscard]] Result<void> RequireString(const ModifierContext& ctx, ValueState& value);
// The value must be a string nothing has transformed yet (re, cidr, fieldref need the raw text).
[[nodiscard]] Result<void> RequireRaw(const ModifierContext& ctx, const ValueState& value);
// Whether `name` appears anywhere in the item's chain.
[[nodiscard]] bool ChainHas(const ModifierContext& ctx, std::string_view name);

// ---- the registered units (one per file) ----
extern const Modifier CONTAINS, STARTSWITH, ENDSWITH;  // position.cpp
extern const Modifier ALL, NEQ;                        // item_flags.cpp
extern const Modifier CASED;                           // cased.cpp
extern const Modifier EXISTS;                          // exists.cpp
extern const Modifier WINDASH;                         // windash.cpp
extern const Modifier RE, RE_I, RE_IGNORECASE, RE_M, RE_MULTILINE, RE_S, RE_DOTALL;  // re.cpp
extern const Modifier BASE64, BASE64OFFSET;                                          // base64.cpp
extern const Modifier UTF16LE, UTF16BE, UTF16, WIDE;                                 // utf16.cpp
extern const Modifier CIDR;                                                          // cidr.cpp
extern const Modifier LT, LTE, GT, GTE;                                              // compare.cpp
extern const Modifier MINUTE, HOUR, DAY, WEEK, MONTH, YEAR;  // time_part.cpp
extern const Modifier FIELDREF;                              // fieldref.cpp
extern const Modifier EXPAND;                                // expand.cpp

// ---- match hooks of the predicate kinds the units create ----
bool MatchRegex(const Predicate& predicate, const event::FieldValue& value);     // re.cpp
bool MatchCidr(const Predicate& predicate, const event::FieldValue& value);      // cidr.cpp
bool MatchNumber(const Predicate& predicate, const event::FieldValue& value);    // compare.cpp
bool MatchTimePart(const Predicate& predicate, const event::FieldValue& value);  // time_part.cpp
bool TestExists(const Predicate& predicate, const event::Event& event);          // exists.cpp
bool TestFieldRef(const Predicate& predicate, const event::Event& event);        // fieldref.cpp

// ---- parsing helpers exposed for tests and other units ----
// Parses a decimal number (optional '-', digits, fraction, exponent; no hex, no spaces).
[[nodiscard]] bool ParseDecimal(std::string_view text, double* out);
// Compares per `op` (kEq is equality).
[[nodiscard]] bool CompareNumbers(double value, CompareOp op, double reference);
// Parses an IPv4 or IPv6 address into 16 bytes (v4 in the first 4); v4-mapped v6 becomes v4.
[[nodiscard]] bool ParseIp(std::string_view text, std::array<uint8_t, 16>* address, bool* v6);
[[nodiscard]] Result<IpNetwork> ParseCidr(std::string_view text);
// Base64 (standard alphabet, padded).
[[nodiscard]] std::string Base64Encode(std::string_view bytes);
// The three base64offset alternatives of `bytes`.
[[nodiscard]] std::vector<std::string> Base64OffsetVariants(std::string_view bytes);
// Extracts a date/time component from "YYYY-MM-DD[(T| )HH:MM[:SS[.frac]]][zone]".
[[nodiscard]] bool ExtractTimePart(std::string_view text, TimePart part, int* out);

}  // namespace yagura::sigma::modifiers

// The compiled form of a Sigma rule: what the loader produces and both evaluators consume.
//
// A rule is a condition tree over search identifiers ("selections"). A selection is an OR of
// maps; a map is an AND of items; an item applies to one field (or to every value, for keyword
// searches) and is an OR (or, with |all, an AND) of predicates; each predicate is one value after
// all modifiers have been applied. Expanding modifiers (windash, base64offset, utf16, expand)
// produce several alternative predicates that are always ORed, even under |all: such a group is
// an Alternatives node inside the item.
//
// Predicates are numbered globally (Predicate::id) so the fast matcher can record which string
// predicates fired in a bitset and evaluate the same tree from it (sigma/matcher.hpp).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "event/field_catalog.hpp"
#include "event/logsource.hpp"
#include "sigma/predicate.hpp"

namespace yagura::sigma {

enum class Level : uint8_t { kInformational, kLow, kMedium, kHigh, kCritical };
[[nodiscard]] std::string_view LevelName(Level level);

struct RuleInfo {
  std::string id;     // UUID as written; may be empty for rules without one
  std::string name;   // optional unique alias
  std::string title;
  std::string status;
  std::string description;
  std::string author;
  std::string date;
  std::string modified;
  Level level = Level::kMedium;
  std::vector<std::string> tags;
  std::vector<std::string> references;
  std::vector<std::string> falsepositives;
  event::Logsource logsource;
  // SigmaHQ's regression test convention: the info.yml listing the rule's sample logs, relative
  // to the root of the rule repository (scan/rule_tests.hpp); empty when the rule names none.
  std::string regression_tests_path;
  std::string file;  // path the rule was loaded from
  int line = 0;      // line of the document start in that file
  // What names this rule in the ids of its alerts (set by the loader): its id, else its title;
  // a later rule of the set (or correlation, among correlations) with the same one gets "#2",
  // "#3"... after it, so that two rules sharing an id raise alerts of their own instead of
  // one id that a store keeps once.
  std::string key;
  [[nodiscard]] const std::string& alert_key() const {
    return !key.empty() ? key : !id.empty() ? id : title;
  }
};

// One item of a map: Field|modifiers: values.
struct Item {
  event::FieldId field = event::NO_FIELD;  // NO_FIELD: keyword search over every value
  std::string field_name;                  // as written in the rule, for output ("matched")
  bool match_all = false;                  // |all: every group must hold
  bool negate = false;                     // |neq: the item holds when no group holds
  // Each group is an OR of predicate indices (an expansion of one rule value).
  std::vector<std::vector<uint32_t>> groups;
};

struct Selection {
  std::string name;
  std::vector<std::vector<Item>> maps;  // OR of maps, each an AND of items
};

// Condition tree node.
struct Condition {
  enum class Kind : uint8_t { kSelection, kAnd, kOr, kNot, kTrue, kFalse };
  Kind kind = Kind::kFalse;
  uint32_t selection = 0;  // kSelection: index into Rule::selections
  std::vector<Condition> children;
};

struct Rule {
  RuleInfo info;
  std::vector<Selection> selections;
  Condition condition;  // a list of conditions is already folded into one kOr
  std::vector<Predicate> predicates;  // indexed by the ids stored in items
  // The distinct fields the rule reads, for --no-detect extraction and the matcher.
  std::vector<event::FieldId> fields;
};

}  // namespace yagura::sigma

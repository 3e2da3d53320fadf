// Compiling a `detection` block (or a filter's selections) into selections, predicates and a
// condition tree. Shared by detection rules and filters (sigma/loader.cpp).
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>
#include <string_view>
#include <tl/expected.hpp>
#include <vector>

#include "event/field_catalog.hpp"
#include "sigma/rule.hpp"
#include "sigma/rule_set.hpp"

namespace yagura::sigma {

// A load failure with the line it was found on (1-based in the file; 0 when unknown).
struct LoadError {
  std::string reason;
  int line = 0;
};
template <typename T>
using LoadResult = tl::expected<T, LoadError>;

struct Detection {
  std::vector<Selection> selections;
  std::vector<Predicate> predicates;
  Condition condition;
  bool uses_keywords = false;  // some item searches every value of the event
};

struct DetectionContext {
  event::FieldCatalog& catalog;
  const LoadOptions& options;
  int line_offset = 0;  // file line of the YAML text's first line, minus one
  // Keys of the block that are not search identifiers besides `condition` (e.g. a filter's
  // `rules`).
  std::vector<std::string_view> reserved;
};

// Compiles every search identifier of `block` and its `condition` (a string, or a list of
// strings meaning their OR).
[[nodiscard]] LoadResult<Detection> CompileDetection(const YAML::Node& block,
                                                     const DetectionContext& ctx);

// Adds a filter's detection to `rule`: its selections are renamed with `prefix` so the rule's
// own `1 of them` cannot see them, and the rule's condition becomes (rule) and (filter).
void ApplyFilterDetection(Rule& rule, const Detection& filter, std::string_view prefix);

// Recomputes Rule::fields from the rule's items and predicates.
void CollectRuleFields(Rule& rule);

// The 1-based file line of a node.
[[nodiscard]] inline int NodeLine(const YAML::Node& node, int line_offset) {
  return node.Mark().is_null() ? 0 : node.Mark().line + 1 + line_offset;
}

}  // namespace yagura::sigma

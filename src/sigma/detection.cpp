// Detection compiler: YAML search identifiers -> Selection / Item / Predicate.
//
// Each identifier is a map (AND of items), a list of maps (OR of maps), or a list of scalars /
// a scalar (keyword search). For each item the modifiers' check hooks run once, then every
// value is typed from its YAML scalar (plain numbers, booleans and null keep their type; quoted
// text is a string), run through the modifiers' apply hooks and finalised into predicates: one
// group per rule value, holding the value's alternatives. Keyword values get an implicit `*` on
// both sides unless a position modifier was given.
#include "sigma/detection.hpp"

#include <algorithm>
#include <charconv>
#include <string>
#include <unordered_set>

#include "sigma/condition.hpp"
#include "sigma/modifiers/modifier.hpp"
#include "sigma/regex.hpp"
#include "sigma/wildcard.hpp"

namespace yagura::sigma {

namespace {

using modifiers::ItemFlags;
using modifiers::ModifierContext;
using modifiers::ValueState;
using modifiers::ValueType;

tl::unexpected<LoadError> LoadFail(std::string reason, int line) {
  return tl::unexpected<LoadError>(LoadError{std::move(reason), line});
}

bool IsPlainNull(const std::string& s) {
  return s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL";
}

bool IsPlainBool(const std::string& s, bool* value) {
  if (s == "true" || s == "True" || s == "TRUE") return *value = true, true;
  if (s == "false" || s == "False" || s == "FALSE") return *value = false, true;
  return false;
}

// YAML 1.2 core-schema decimal numbers: [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
// Hex and octal stay strings (documented in docs/sigma.md).
bool LooksDecimal(std::string_view s) {
  size_t i = 0;
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
  size_t int_digits = 0, frac_digits = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i, ++int_digits;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i, ++frac_digits;
  }
  if (int_digits == 0 && frac_digits == 0) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
    size_t exp_digits = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i, ++exp_digits;
    if (exp_digits == 0) return false;
  }
  return i == s.size();
}

bool IsPlainNumber(const std::string& s, double* value) {
  if (!LooksDecimal(s)) return false;
  std::string_view text = s;
  if (text.front() == '+') text.remove_prefix(1);
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *value);
  return ec == std::errc() && end == text.data() + text.size();
}

// The initial state of a scalar value, typed the way YAML typed it.
ValueState InitialValue(const YAML::Node& node) {
  ValueState value;
  if (!node.IsDefined() || node.IsNull()) {
    value.type = ValueType::kNull;
    value.proto.kind = PredicateKind::kNull;
    return value;
  }
  const std::string& text = node.Scalar();
  value.raw = text;
  bool plain = node.Tag() == "?";
  bool boolean = false;
  double number = 0;
  if (plain && IsPlainNull(text)) {
    value.type = ValueType::kNull;
    value.proto.kind = PredicateKind::kNull;
  } else if (plain && IsPlainBool(text, &boolean)) {
    value.type = ValueType::kBool;
    value.proto.kind = PredicateKind::kBool;
    value.proto.boolean = boolean;
  } else if (plain && IsPlainNumber(text, &number)) {
    value.type = ValueType::kNumber;
    value.proto.kind = PredicateKind::kNumber;
    value.proto.number = number;
  } else {
    value.type = ValueType::kString;
    value.proto.kind = PredicateKind::kString;
    value.alternatives.push_back(ParseSigmaString(text));
  }
  return value;
}

std::vector<std::string_view> SplitKey(std::string_view key) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    size_t bar = key.find('|', start);
    parts.push_back(key.substr(start, bar == std::string_view::npos ? bar : bar - start));
    if (bar == std::string_view::npos) break;
    start = bar + 1;
  }
  return parts;
}

class DetectionCompiler {
 public:
  DetectionCompiler(const DetectionContext& ctx, Detection& out) : ctx_(ctx), out_(out) {}

  LoadResult<Selection> CompileSelection(const std::string& name, const YAML::Node& node) {
    Selection selection;
    selection.name = name;
    int line = NodeLine(node, ctx_.line_offset);
    if (node.IsMap()) {
      auto map = CompileMap(node);
      if (!map) return tl::unexpected(map.error());
      selection.maps.push_back(std::move(*map));
    } else if (node.IsSequence()) {
      if (node.size() == 0) return LoadFail("search identifier '" + name + "' is empty", line);
      std::vector<YAML::Node> keywords;
      for (const YAML::Node& element : node) {
        if (element.IsMap()) {
          auto map = CompileMap(element);
          if (!map) return tl::unexpected(map.error());
          selection.maps.push_back(std::move(*map));
        } else if (element.IsScalar() || element.IsNull()) {
          keywords.push_back(element);
        } else {
          return LoadFail("search identifier '" + name + "' holds a nested list",
                          NodeLine(element, ctx_.line_offset));
        }
      }
      if (!keywords.empty()) {
        auto item = CompileItem("", keywords, line);
        if (!item) return tl::unexpected(item.error());
        selection.maps.push_back({std::move(*item)});
      }
    } else if (node.IsScalar()) {
      auto item = CompileItem("", {node}, line);
      if (!item) return tl::unexpected(item.error());
      selection.maps.push_back({std::move(*item)});
    } else {
      return LoadFail("search identifier '" + name + "' is empty", line);
    }
    return selection;
  }

 private:
  LoadResult<std::vector<Item>> CompileMap(const YAML::Node& node) {
    std::vector<Item> items;
    if (node.size() == 0) {
      return LoadFail("empty map in a search identifier", NodeLine(node, ctx_.line_offset));
    }
    for (const auto& entry : node) {
      int line = NodeLine(entry.first, ctx_.line_offset);
      if (!entry.first.IsScalar()) return LoadFail("a field name must be a string", line);
      const YAML::Node& value = entry.second;
      std::vector<YAML::Node> values;
      if (value.IsSequence()) {
        for (const YAML::Node& element : value) {
          if (!element.IsScalar() && !element.IsNull()) {
            return LoadFail("value of '" + entry.first.Scalar() + "' is a nested structure",
                            NodeLine(element, ctx_.line_offset));
          }
          values.push_back(element);
        }
        // An empty list means null (pySigma).
        if (values.empty()) values.push_back(YAML::Node(YAML::NodeType::Null));
      } else if (value.IsMap()) {
        return LoadFail("value of '" + entry.first.Scalar() + "' is a map", line);
      } else {
        values.push_back(value);
      }
      auto item = CompileItem(entry.first.Scalar(), values, line);
      if (!item) return tl::unexpected(item.error());
      items.push_back(std::move(*item));
    }
    return items;
  }

  LoadResult<Item> CompileItem(const std::string& key, const std::vector<YAML::Node>& values,
                               int line) {
    std::vector<std::string_view> parts = SplitKey(key);
    std::string_view field = parts.front();
    std::vector<std::string_view> chain(parts.begin() + 1, parts.end());

    Item item;
    item.field_name = std::string(field);
    ItemFlags flags;
    flags.keyword = field.empty();
    if (flags.keyword) {
      out_.uses_keywords = true;
    } else {
      item.field = ctx_.catalog.Intern(field);
    }

    std::vector<const modifiers::Modifier*> mods;
    for (size_t i = 0; i < chain.size(); ++i) {
      const modifiers::Modifier* modifier = modifiers::FindModifier(chain[i]);
      if (modifier == nullptr) {
        return LoadFail("unknown modifier '" + std::string(chain[i]) + "' in field '" + key + "'",
                        line);
      }
      mods.push_back(modifier);
      ModifierContext mctx{ctx_.options, ctx_.catalog, key, chain, i};
      if (modifier->check != nullptr) {
        if (auto ok = modifier->check(mctx, flags); !ok) return LoadFail(ok.error().message, line);
      }
    }
    item.match_all = flags.match_all;
    item.negate = flags.negate;

    for (const YAML::Node& node : values) {
      int value_line = NodeLine(node, ctx_.line_offset);
      if (value_line == 0) value_line = line;
      ValueState value = InitialValue(node);
      for (size_t i = 0; i < mods.size(); ++i) {
        if (mods[i]->apply == nullptr) continue;
        ModifierContext mctx{ctx_.options, ctx_.catalog, key, chain, i};
        if (auto ok = mods[i]->apply(mctx, value); !ok) {
          return LoadFail(ok.error().message, value_line);
        }
      }
      auto group = Finalise(item, flags, std::move(value), key, value_line);
      if (!group) return tl::unexpected(group.error());
      item.groups.push_back(std::move(*group));
    }
    return item;
  }

  // Turns a finished value into predicates; returns their indices (one group).
  LoadResult<std::vector<uint32_t>> Finalise(const Item& item, const ItemFlags& flags,
                                             ValueState value, const std::string& key, int line) {
    if (flags.keyword) {
      if (value.type == ValueType::kNull) {
        return LoadFail("a keyword search cannot look for null", line);
      }
      if (value.type != ValueType::kString && !value.transformed) {
        // Keywords are text searches: numbers and booleans are looked for as written.
        value.type = ValueType::kString;
        value.proto.kind = PredicateKind::kString;
        value.alternatives = {ParseSigmaString(value.raw)};
      }
      if (value.proto.kind == PredicateKind::kString && !value.positioned) {
        for (auto& glob : value.alternatives) {
          if (!StartsWithStar(glob))
            glob.insert(glob.begin(), GlobToken{GlobToken::Kind::kStar, {}});
          AppendStar(glob);
        }
      }
    }
    Predicate proto = std::move(value.proto);
    proto.field = item.field;
    std::vector<uint32_t> group;
    auto add = [&](Predicate predicate) {
      group.push_back(static_cast<uint32_t>(out_.predicates.size()));
      out_.predicates.push_back(std::move(predicate));
    };
    switch (proto.kind) {
      case PredicateKind::kString: {
        // Identical alternatives (windash on a value with no flag dash...) collapse to one.
        // Found by a key of each glob's tokens in a hash set: a windash value with six flag
        // dashes has 15,625 alternatives, and comparing each with all before it took seconds.
        std::unordered_set<std::string> seen;
        std::string token_key;
        for (auto& glob : value.alternatives) {
          token_key.clear();
          for (const GlobToken& token : glob) {
            token_key.push_back(static_cast<char>(token.kind));
            const auto size = static_cast<uint32_t>(token.text.size());
            token_key.append(reinterpret_cast<const char*>(&size), sizeof size);
            token_key.append(token.text);
          }
          if (!seen.insert(token_key).second) continue;
          Predicate predicate = proto;
          predicate.glob = std::move(glob);
          add(std::move(predicate));
        }
        break;
      }
      case PredicateKind::kRegex: {
        Regex::Flags flags_re{proto.re_ignore_case, proto.re_multiline, proto.re_dotall};
        auto regex = Regex::Compile(proto.pattern, flags_re);
        if (!regex) return LoadFail("in '" + key + "': " + regex.error().message, line);
        proto.regex = std::move(*regex);
        add(std::move(proto));
        break;
      }
      default:
        add(std::move(proto));
        break;
    }
    return group;
  }

  const DetectionContext& ctx_;
  Detection& out_;
};

}  // namespace

LoadResult<Detection> CompileDetection(const YAML::Node& block, const DetectionContext& ctx) {
  Detection detection;
  int block_line = NodeLine(block, ctx.line_offset);
  if (!block.IsMap()) return LoadFail("'detection' must be a map", block_line);
  DetectionCompiler compiler(ctx, detection);
  std::vector<std::string> names;
  YAML::Node condition_node;
  for (const auto& entry : block) {
    if (!entry.first.IsScalar()) {
      return LoadFail("search identifier names must be strings",
                      NodeLine(entry.first, ctx.line_offset));
    }
    const std::string& name = entry.first.Scalar();
    if (name == "condition") {
      condition_node = entry.second;
      continue;
    }
    if (std::find(ctx.reserved.begin(), ctx.reserved.end(), name) != ctx.reserved.end()) continue;
    auto selection = compiler.CompileSelection(name, entry.second);
    if (!selection) return tl::unexpected(selection.error());
    names.push_back(name);
    detection.selections.push_back(std::move(*selection));
  }
  if (!condition_node.IsDefined() || condition_node.IsNull()) {
    return LoadFail("detection has no 'condition'", block_line);
  }
  int condition_line = NodeLine(condition_node, ctx.line_offset);
  std::vector<std::string> texts;
  if (condition_node.IsScalar()) {
    texts.push_back(condition_node.Scalar());
  } else if (condition_node.IsSequence() && condition_node.size() > 0) {
    for (const YAML::Node& element : condition_node) {
      if (!element.IsScalar()) return LoadFail("condition list must hold strings", condition_line);
      texts.push_back(element.Scalar());
    }
  } else {
    return LoadFail("condition must be a string or a list of strings", condition_line);
  }
  std::vector<Condition> alternatives;
  for (const std::string& text : texts) {
    auto condition = ParseCondition(text, names);
    if (!condition) return LoadFail(condition.error().message, condition_line);
    alternatives.push_back(std::move(*condition));
  }
  if (alternatives.size() == 1) {
    detection.condition = std::move(alternatives.front());
  } else {
    detection.condition.kind = Condition::Kind::kOr;
    detection.condition.children = std::move(alternatives);
  }
  return detection;
}

namespace {

void OffsetCondition(Condition& condition, uint32_t offset) {
  if (condition.kind == Condition::Kind::kSelection) condition.selection += offset;
  for (Condition& child : condition.children) OffsetCondition(child, offset);
}

}  // namespace

void ApplyFilterDetection(Rule& rule, const Detection& filter, std::string_view prefix) {
  auto selection_offset = static_cast<uint32_t>(rule.selections.size());
  auto predicate_offset = static_cast<uint32_t>(rule.predicates.size());
  for (const Predicate& predicate : filter.predicates) rule.predicates.push_back(predicate);
  for (Selection selection : filter.selections) {
    selection.name = std::string(prefix) + selection.name;
    for (auto& map : selection.maps)
      for (Item& item : map)
        for (auto& group : item.groups)
          for (uint32_t& index : group) index += predicate_offset;
    rule.selections.push_back(std::move(selection));
  }
  Condition filter_condition = filter.condition;
  OffsetCondition(filter_condition, selection_offset);
  Condition combined;
  combined.kind = Condition::Kind::kAnd;
  combined.children.push_back(std::move(rule.condition));
  combined.children.push_back(std::move(filter_condition));
  rule.condition = std::move(combined);
  CollectRuleFields(rule);
}

void CollectRuleFields(Rule& rule) {
  std::vector<event::FieldId> fields;
  for (const Predicate& predicate : rule.predicates) {
    if (predicate.field != event::NO_FIELD) fields.push_back(predicate.field);
    if (predicate.kind == PredicateKind::kFieldRef && predicate.other != event::NO_FIELD) {
      fields.push_back(predicate.other);
    }
  }
  std::sort(fields.begin(), fields.end());
  fields.erase(std::unique(fields.begin(), fields.end()), fields.end());
  rule.fields = std::move(fields);
}

}  // namespace yagura::sigma

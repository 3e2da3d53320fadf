#include "scan/record_search.hpp"

#include <fmt/format.h>

#include <charconv>
#include <memory>

#include "core/json_value.hpp"
#include "core/time.hpp"
#include "correlate/event_time.hpp"
#include "event/field_catalog.hpp"
#include "event/logsource_mapping.hpp"
#include "event/parser.hpp"
#include "scan/parsed_records.hpp"
#include "sigma/evaluator.hpp"
#include "sigma/literal_index.hpp"
#include "sigma/loader.hpp"
#include "sigma/regex.hpp"

namespace yagura::scan {

namespace {

// Up to 64 patterns: which of them a value holds is one word.
constexpr size_t MAX_PATTERNS = 64;

class Patterns {
 public:
  static Result<Patterns> Compile(const SearchOptions& options) {
    Patterns out;
    out.match_case_ = options.match_case;
    // A time range alone is a search too: every record of the window, as a timeline.
    if (options.strings.empty() && options.regexes.empty() && options.conditions.empty() &&
        !options.from_ms && !options.to_ms)
      return Fail(
          "nothing to search for: give a string (--string), a regex (--regex), a condition "
          "(--where) or a time range (--from, --to)");
    if (options.strings.size() + options.regexes.size() > MAX_PATTERNS)
      return Fail(fmt::format("at most {} strings and regexes at once", MAX_PATTERNS));
    for (const std::string& text : options.strings) {
      if (text.empty()) return Fail("an empty --string would find every record");
      Pattern p;
      if (options.match_case) {
        p.text = text;
      } else {
        sigma::FoldText(text, p.text);
      }
      out.patterns_.push_back(std::move(p));
    }
    for (const std::string& text : options.regexes) {
      sigma::Regex::Flags flags;
      flags.ignore_case = !options.match_case;
      auto regex = sigma::Regex::Compile(text, flags);
      if (!regex) return Fail(fmt::format("--regex '{}': {}", text, regex.error().message));
      Pattern p;
      p.regex = std::move(*regex);
      out.patterns_.push_back(std::move(p));
    }
    out.all_ = out.patterns_.size() == MAX_PATTERNS ? ~uint64_t{0}
                                                    : (uint64_t{1} << out.patterns_.size()) - 1;
    return out;
  }

  [[nodiscard]] bool empty() const { return patterns_.empty(); }
  // The patterns `text` holds, a bit each.
  uint64_t Held(std::string_view text) {
    std::string_view folded = text;
    if (!match_case_) {
      sigma::FoldText(text, folded_);
      folded = folded_;
    }
    uint64_t held = 0;
    for (size_t i = 0; i < patterns_.size(); ++i) {
      const Pattern& p = patterns_[i];
      const bool found =
          p.regex ? p.regex->Search(text) : folded.find(p.text) != std::string_view::npos;
      if (found) held |= uint64_t{1} << i;
    }
    return held;
  }
  [[nodiscard]] uint64_t all() const { return all_; }

 private:
  struct Pattern {
    std::string text;                           // a string, folded unless matching case
    std::shared_ptr<const sigma::Regex> regex;  // or a regex
  };
  std::vector<Pattern> patterns_;
  bool match_case_ = false;
  uint64_t all_ = 0;
  std::string folded_;
};

// The leaves of a record's JSON that hold a pattern, with their dotted paths.
void NameMatches(const JsonValue& value, std::string& path, Patterns& patterns,
                 std::vector<SearchMatch>& out) {
  auto leaf = [&](std::string text) {
    if (patterns.Held(text) != 0) out.push_back({path, std::move(text)});
  };
  auto child = [&](std::string_view name, const JsonValue& member) {
    const size_t size = path.size();
    if (!path.empty()) path.push_back('.');
    path.append(name);
    NameMatches(member, path, patterns, out);
    path.resize(size);
  };
  switch (value.type()) {
    case JsonValue::Type::kString:
      leaf(value.as_string());
      return;
    case JsonValue::Type::kNumber:
    case JsonValue::Type::kBool:
      leaf(value.Serialize());
      return;
    case JsonValue::Type::kObject:
      for (const auto& [name, member] : value.as_object()) child(name, member);
      return;
    case JsonValue::Type::kArray: {
      const auto& items = value.as_array();
      for (size_t i = 0; i < items.size(); ++i) child(std::to_string(i), items[i]);
      return;
    }
    case JsonValue::Type::kNull:
      return;
  }
}

// What a condition's value must be for its modifiers: every value on the command line is text,
// but |exists takes a boolean and the comparisons and time parts a number, as in a rule.
enum class Scalar : uint8_t { kText, kNumber, kBoolean };

Scalar ScalarWanted(std::string_view field) {
  static constexpr std::string_view NUMERIC[] = {"lt",   "lte", "gt",   "gte",   "minute",
                                                 "hour", "day", "week", "month", "year"};
  Scalar wanted = Scalar::kText;
  size_t bar = field.find('|');
  while (bar != std::string_view::npos) {
    const size_t next = field.find('|', bar + 1);
    const std::string_view modifier = field.substr(bar + 1, next - bar - 1);
    if (modifier == "exists") wanted = Scalar::kBoolean;
    for (std::string_view numeric : NUMERIC)
      if (modifier == numeric) wanted = Scalar::kNumber;
    bar = next;
  }
  return wanted;
}

// Whether `value` is written bare in the rule's YAML: a number where one is wanted, true or
// false where a boolean is. Anything else stays quoted text, and the loader names what is wrong.
bool IsPlainScalar(std::string_view value, Scalar wanted) {
  if (wanted == Scalar::kBoolean) return value == "true" || value == "false";
  if (wanted != Scalar::kNumber || value.empty()) return false;
  double number = 0;
  const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), number);
  return error == std::errc() && end == value.data() + value.size();
}

// The conditions as one rule: a selection of one item each, all of which must hold (a
// selection per condition, so that one field may be named twice).
Result<sigma::RuleSet> CompileConditions(const std::vector<std::string>& conditions,
                                         event::FieldCatalog& catalog,
                                         std::vector<std::string>& field_names) {
  std::string yaml = "title: search conditions\nlogsource: {}\ndetection:\n";
  for (size_t i = 0; i < conditions.size(); ++i) {
    const std::string& condition = conditions[i];
    const size_t equals = condition.find('=');
    if (equals == std::string::npos || equals == 0)
      return Fail(
          fmt::format("--where '{}': expected FIELD=VALUE, such as EventID=4625 or "
                      "CommandLine|contains=whoami",
                      condition));
    const std::string field = condition.substr(0, equals);
    if (field.find_first_of("'\"\n\r") != std::string::npos || field.front() == '|')
      return Fail(fmt::format("--where '{}': '{}' is not a field name", condition, field));
    field_names.push_back(field.substr(0, field.find('|')));
    const std::string_view raw = std::string_view(condition).substr(equals + 1);
    if (raw.find_first_of("\n\r") != std::string_view::npos)
      return Fail(fmt::format("--where '{}': a value cannot span lines", condition));
    std::string value;
    if (IsPlainScalar(raw, ScalarWanted(field))) {
      value = raw;  // a number or boolean, as the modifier needs it
    } else {
      // Single-quoted YAML: only the quote itself needs escaping, by doubling.
      value = '\'';
      for (char c : raw) {
        value += c;
        if (c == '\'') value += c;
      }
      value += '\'';
    }
    yaml += fmt::format("  condition_{}:\n    '{}': {}\n", i, field, value);
  }
  yaml += "  condition: all of condition_*\n";
  sigma::RuleSet rules = sigma::LoadRuleText(yaml, catalog, {}, "--where");
  if (!rules.failures.empty()) {
    // The reason names the field and modifier as written ("unknown modifier 'x' in field...").
    return Fail("--where: " + rules.failures.front().reason);
  }
  if (rules.rules.size() != 1) return Fail("--where: the conditions did not make one rule");
  return rules;
}

// The item of each condition, in the order of the conditions (selection "condition_K" holds
// condition K's one item).
std::vector<const sigma::Item*> ConditionItems(const sigma::Rule& rule) {
  std::vector<const sigma::Item*> items(rule.selections.size(), nullptr);
  for (const sigma::Selection& selection : rule.selections) {
    constexpr std::string_view PREFIX = "condition_";
    if (!selection.name.starts_with(PREFIX) || selection.maps.size() != 1 ||
        selection.maps.front().size() != 1)
      return {};
    size_t k = 0;
    const char* digits = selection.name.data() + PREFIX.size();
    const char* end = selection.name.data() + selection.name.size();
    if (std::from_chars(digits, end, k).ptr != end || k >= items.size()) return {};
    items[k] = &selection.maps.front().front();
  }
  for (const sigma::Item* item : items)
    if (item == nullptr) return {};
  return items;
}

// Whether `value` of a condition's field is one that made the condition hold. A negated item,
// and predicates that look at presence or compare two fields, hold for no value by itself:
// then every value of the field is named.
bool ValueHeld(const sigma::Rule& rule, const sigma::Item& item, const event::FieldValue& value) {
  if (item.negate) return true;
  for (const std::vector<uint32_t>& group : item.groups) {
    for (uint32_t index : group) {
      const sigma::Predicate& predicate = rule.predicates[index];
      switch (predicate.kind) {
        case sigma::PredicateKind::kExists:
        case sigma::PredicateKind::kNull:
        case sigma::PredicateKind::kFieldRef:
          return true;
        default:
          if (predicate.TestValue(value)) return true;
      }
    }
  }
  return false;
}

}  // namespace

Result<SearchSummary> SearchRecords(const SearchOptions& options, Diagnostics& diagnostics,
                                    const OnFound& on_found) {
  auto compiled = Patterns::Compile(options);
  if (!compiled) return tl::unexpected(compiled.error());
  Patterns& patterns = *compiled;
  auto mapping = event::LogsourceMapping::LoadDefault();
  if (!mapping) return tl::unexpected(mapping.error());
  event::FieldCatalog catalog;
  mapping->InternFields(catalog);
  // Compiled first: the rule's fields are interned before the parser is built.
  std::optional<sigma::RuleSet> where;
  std::vector<std::string> where_names;
  std::vector<event::FieldId> where_fields;
  std::vector<const sigma::Item*> where_items;
  if (!options.conditions.empty()) {
    auto compiled_conditions = CompileConditions(options.conditions, catalog, where_names);
    if (!compiled_conditions) return tl::unexpected(compiled_conditions.error());
    where = std::move(*compiled_conditions);
    for (const std::string& name : where_names) where_fields.push_back(catalog.Intern(name));
    where_items = ConditionItems(where->rules.front());
    if (where_items.size() != where_fields.size())
      return Fail("--where: the conditions did not make one item each");
  }
  std::vector<event::FieldId> fields;
  for (const std::string& name : options.fields) fields.push_back(catalog.Intern(name));
  const event::FieldId time_field =
      options.time_field.empty() ? event::NO_FIELD : catalog.Intern(options.time_field);
  // Every value is searched for the patterns unless fields are named.
  const bool all_values = fields.empty() && !patterns.empty();
  if (all_values) catalog.RequireAllValues();
  event::EventParser parser(catalog, *mapping);
  parser.SetCollectAllValues(all_values);

  SearchSummary summary;
  std::string json;
  std::string path;
  std::vector<SearchMatch> matches;
  const bool ranged = options.from_ms || options.to_ms;
  // The year of an RFC 3164 time (which has none): the one nearest the range, as `scan` places
  // it; without a range, nearest now, then nearest the time of the record found before.
  int64_t reference_ms = ranged ? options.from_ms.value_or(options.to_ms.value_or(0)) : NowMs();

  auto on_parsed = [&](const std::string& file, const event::Record& record,
                       const event::Event& event) {
    std::optional<int64_t> time;
    if (ranged) {
      time = correlate::EventTimeMs(event, time_field, reference_ms);
      if (!time) {
        ++summary.records_without_time;
        return true;
      }
      if ((options.from_ms && *time < *options.from_ms) ||
          (options.to_ms && *time > *options.to_ms)) {
        ++summary.records_outside_time_range;
        return true;
      }
    }
    if (where && !sigma::EvaluateRule(where->rules.front(), event)) return true;
    uint64_t held = 0;
    auto search = [&](const event::FieldValue& value) {
      if (value.type != event::ValueType::kNull) held |= patterns.Held(value.text);
    };
    if (!patterns.empty()) {
      if (fields.empty()) {
        for (const event::FieldValue& value : event.AllValues()) search(value);
      } else {
        for (const event::FieldId field : fields)
          for (const event::FieldValue& value : event.Values(field)) search(value);
      }
      if (options.match_all ? held != patterns.all() : held == 0) return true;
    }

    parser.ToJson(record, json);
    matches.clear();
    // The values of the conditions' fields that held: of a field with several values, only
    // those its condition accepts.
    for (size_t k = 0; k < where_fields.size(); ++k) {
      for (const event::FieldValue& value : event.Values(where_fields[k])) {
        if (value.type == event::ValueType::kNull) continue;
        if (!ValueHeld(where->rules.front(), *where_items[k], value)) continue;
        matches.push_back({where_names[k], std::string(value.text)});
      }
    }
    if (patterns.empty()) {
      // Nothing more to name.
    } else if (fields.empty()) {
      // Where the values are: the record's JSON walked again, for the records found only.
      if (auto value = JsonValue::Parse(json)) {
        path.clear();
        NameMatches(*value, path, patterns, matches);
      }
    } else {
      for (size_t k = 0; k < fields.size(); ++k) {
        for (const event::FieldValue& value : event.Values(fields[k])) {
          if (value.type == event::ValueType::kNull) continue;
          if (patterns.Held(value.text) != 0)
            matches.push_back({options.fields[k], std::string(value.text)});
        }
      }
    }
    ++summary.records_found;
    if (!ranged) {
      time = correlate::EventTimeMs(event, time_field, reference_ms);
      if (time) reference_ms = *time;
    }
    on_found(FoundRecord{file, record, event, json, matches, time});
    if (options.limit != 0 && summary.records_found >= options.limit) {
      summary.stopped_at_limit = true;
      return false;
    }
    return true;
  };
  const ParsedReadSummary read =
      ReadParsedRecords(options.inputs, options.format, parser, diagnostics, on_parsed);
  summary.files_read = read.files_read;
  summary.files_failed = read.files_failed;
  summary.records_read = read.records_parsed;
  summary.records_skipped = read.records_skipped;
  return summary;
}

}  // namespace yagura::scan

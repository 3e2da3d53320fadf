#include "scan/record_search.hpp"

#include <fmt/format.h>

#include <memory>

#include "core/json_value.hpp"
#include "core/time.hpp"
#include "correlate/event_time.hpp"
#include "event/field_catalog.hpp"
#include "event/logsource_mapping.hpp"
#include "event/parser.hpp"
#include "scan/event_conditions.hpp"
#include "scan/parsed_records.hpp"
#include "sigma/literal_index.hpp"
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
  // Compiled first: the conditions' fields are interned before the parser is built.
  std::optional<EventConditions> where;
  if (!options.conditions.empty()) {
    auto compiled_conditions = EventConditions::Compile(options.conditions, catalog);
    if (!compiled_conditions) return tl::unexpected(compiled_conditions.error());
    where = std::move(*compiled_conditions);
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
    if (where && !where->Hold(event)) return true;
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
    for (size_t k = 0; where && k < where->size(); ++k) {
      for (const event::FieldValue& value : event.Values(where->field(k))) {
        if (value.type == event::ValueType::kNull) continue;
        if (!where->ValueHeld(k, value)) continue;
        matches.push_back({where->field_name(k), std::string(value.text)});
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
  CopyReadCounts(ReadParsedRecords(options.inputs, options.format, parser, diagnostics, on_parsed),
                 summary);
  return summary;
}

}  // namespace yagura::scan

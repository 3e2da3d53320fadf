// Rule loader (see loader.hpp for the algorithm).
#include "sigma/loader.hpp"

#include <xxhash.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include "sigma/condition.hpp"
#include "sigma/detection.hpp"

namespace yagura::sigma {

namespace fs = std::filesystem;

namespace {

tl::unexpected<LoadError> LoadFail(std::string reason, int line) {
  return tl::unexpected<LoadError>(LoadError{std::move(reason), line});
}

std::string Lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

bool IsMarkerLine(std::string_view line, std::string_view marker) {
  if (line.substr(0, 3) != marker) return false;
  return line.size() == 3 || line[3] == ' ' || line[3] == '\t' || line[3] == '\r';
}

// A scalar as text; empty when absent or null.
std::string ScalarText(const YAML::Node& node) {
  if (!node.IsDefined() || node.IsNull() || !node.IsScalar()) return {};
  return node.Scalar();
}

// A scalar or a list of scalars, as a list.
LoadResult<std::vector<std::string>> StringList(const YAML::Node& node, std::string_view key,
                                                int line_offset) {
  std::vector<std::string> out;
  if (!node.IsDefined() || node.IsNull()) return out;
  if (node.IsScalar()) {
    out.push_back(node.Scalar());
    return out;
  }
  if (node.IsSequence()) {
    for (const YAML::Node& element : node) {
      if (element.IsNull()) continue;
      if (!element.IsScalar()) {
        return LoadFail("'" + std::string(key) + "' must be a list of strings",
                        NodeLine(element, line_offset));
      }
      out.push_back(element.Scalar());
    }
    return out;
  }
  return LoadFail("'" + std::string(key) + "' must be a string or a list of strings",
                  NodeLine(node, line_offset));
}

std::string Join(const std::vector<std::string>& parts, std::string_view separator) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += separator;
    out += parts[i];
  }
  return out;
}

// The metadata every document kind shares.
LoadResult<RuleInfo> ParseInfo(const YAML::Node& doc, const std::string& file, int line_offset,
                               bool needs_logsource) {
  RuleInfo info;
  info.file = file;
  info.line = NodeLine(doc, line_offset);
  const YAML::Node title = doc["title"];
  if (!title.IsDefined() || title.IsNull()) return LoadFail("missing 'title'", info.line);
  if (!title.IsScalar()) return LoadFail("'title' must be a string", NodeLine(title, line_offset));
  info.title = title.Scalar();
  info.id = ScalarText(doc["id"]);
  info.name = ScalarText(doc["name"]);
  info.status = ScalarText(doc["status"]);
  info.regression_tests_path = ScalarText(doc["regression_tests_path"]);
  info.description = ScalarText(doc["description"]);
  info.date = ScalarText(doc["date"]);
  info.modified = ScalarText(doc["modified"]);
  auto author = StringList(doc["author"], "author", line_offset);
  if (!author) return tl::unexpected(author.error());
  info.author = Join(*author, ", ");
  for (auto [key, target] :
       {std::pair{"tags", &info.tags}, std::pair{"references", &info.references},
        std::pair{"falsepositives", &info.falsepositives}}) {
    auto list = StringList(doc[key], key, line_offset);
    if (!list) return tl::unexpected(list.error());
    *target = std::move(*list);
  }
  const YAML::Node level = doc["level"];
  if (level.IsDefined() && !level.IsNull()) {
    std::string name = Lower(ScalarText(level));
    static const std::pair<std::string_view, Level> LEVELS[] = {
        {"informational", Level::kInformational},
        {"low", Level::kLow},
        {"medium", Level::kMedium},
        {"high", Level::kHigh},
        {"critical", Level::kCritical}};
    auto it = std::find_if(std::begin(LEVELS), std::end(LEVELS),
                           [&](const auto& entry) { return entry.first == name; });
    if (it == std::end(LEVELS)) {
      return LoadFail("unknown level '" + ScalarText(level) + "'", NodeLine(level, line_offset));
    }
    info.level = it->second;
  }
  const YAML::Node logsource = doc["logsource"];
  if (!logsource.IsDefined() || logsource.IsNull()) {
    if (needs_logsource) return LoadFail("missing 'logsource'", info.line);
  } else if (!logsource.IsMap()) {
    return LoadFail("'logsource' must be a map", NodeLine(logsource, line_offset));
  } else {
    info.logsource.product = Lower(ScalarText(logsource["product"]));
    info.logsource.category = Lower(ScalarText(logsource["category"]));
    info.logsource.service = Lower(ScalarText(logsource["service"]));
  }
  return info;
}

struct Filter {
  RuleInfo info;
  std::vector<std::string> targets;  // empty: every rule whose logsource matches
  Detection detection;
};

// A correlation whose references are still names.
struct PendingCorrelation {
  Correlation correlation;
  std::vector<std::string> refs;
};

LoadResult<int64_t> ParseTimespan(const YAML::Node& node, int line_offset) {
  int line = NodeLine(node, line_offset);
  if (!node.IsDefined() || node.IsNull()) return LoadFail("correlation has no 'timespan'", line);
  std::string text = ScalarText(node);
  if (text.size() < 2) return LoadFail("invalid timespan '" + text + "'", line);
  char unit = text.back();
  std::string digits = text.substr(0, text.size() - 1);
  if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return LoadFail("invalid timespan '" + text + "': expected a number and one of s m h d w M y",
                    line);
  }
  int64_t seconds_per_unit = 0;
  switch (unit) {
    case 's':
      seconds_per_unit = 1;
      break;
    case 'm':
      seconds_per_unit = 60;
      break;
    case 'h':
      seconds_per_unit = 3600;
      break;
    case 'd':
      seconds_per_unit = 86400;
      break;
    case 'w':
      seconds_per_unit = 604800;
      break;
    case 'M':
      seconds_per_unit = 2629746;
      break;  // average Gregorian month
    case 'y':
      seconds_per_unit = 31556952;
      break;  // average Gregorian year
    default:
      return LoadFail(
          "invalid timespan '" + text + "': unknown unit '" + std::string(1, unit) + "'", line);
  }
  int64_t count = std::stoll(digits);
  if (count <= 0) return LoadFail("invalid timespan '" + text + "': must be positive", line);
  return count * seconds_per_unit;
}

LoadResult<PendingCorrelation> ParseCorrelation(const YAML::Node& doc, const std::string& file,
                                                int line_offset) {
  auto info = ParseInfo(doc, file, line_offset, false);
  if (!info) return tl::unexpected(info.error());
  PendingCorrelation pending;
  Correlation& c = pending.correlation;
  c.info = std::move(*info);
  const YAML::Node body = doc["correlation"];
  int body_line = NodeLine(body, line_offset);
  if (!body.IsMap()) return LoadFail("'correlation' must be a map", body_line);

  static const std::pair<std::string_view, CorrelationType> TYPES[] = {
      {"event_count", CorrelationType::kEventCount},
      {"value_count", CorrelationType::kValueCount},
      {"temporal", CorrelationType::kTemporal},
      {"temporal_ordered", CorrelationType::kTemporalOrdered},
      {"value_sum", CorrelationType::kValueSum},
      {"value_avg", CorrelationType::kValueAvg},
      {"value_percentile", CorrelationType::kValuePercentile},
      {"value_median", CorrelationType::kValueMedian}};
  std::string type = ScalarText(body["type"]);
  auto type_it = std::find_if(std::begin(TYPES), std::end(TYPES),
                              [&](const auto& entry) { return entry.first == type; });
  if (type_it == std::end(TYPES)) {
    return LoadFail(
        type.empty() ? "correlation has no 'type'" : "unknown correlation type '" + type + "'",
        body["type"].IsDefined() ? NodeLine(body["type"], line_offset) : body_line);
  }
  c.type = type_it->second;
  bool temporal =
      c.type == CorrelationType::kTemporal || c.type == CorrelationType::kTemporalOrdered;

  auto refs = StringList(body["rules"], "rules", line_offset);
  if (!refs) return tl::unexpected(refs.error());
  pending.refs = std::move(*refs);

  auto group_by = StringList(body["group-by"], "group-by", line_offset);
  if (!group_by) return tl::unexpected(group_by.error());
  c.group_by = std::move(*group_by);

  YAML::Node timespan = body["timespan"];
  if (!timespan.IsDefined()) timespan = body["timeframe"];  // Sigma 1 / early v2 spelling
  auto seconds = ParseTimespan(timespan, line_offset);
  if (!seconds) {
    LoadError error = seconds.error();
    if (error.line == 0) error.line = body_line;
    return tl::unexpected(error);
  }
  c.timespan_seconds = *seconds;

  const YAML::Node condition = body["condition"];
  int condition_line = condition.IsDefined() ? NodeLine(condition, line_offset) : body_line;
  if (condition.IsDefined() && condition.IsScalar() && temporal) {
    // Extended temporal condition: a boolean expression over the referenced rules.
    c.extended_text = condition.Scalar();
    c.has_extended = true;
    if (pending.refs.empty()) {
      // The rule list can be derived from the expression's identifiers.
      std::string text = c.extended_text;
      for (char& ch : text)
        if (ch == '(' || ch == ')') ch = ' ';
      std::istringstream tokens(text);
      std::string word;
      while (tokens >> word) {
        if (word == "and" || word == "or" || word == "not") continue;
        if (std::find(pending.refs.begin(), pending.refs.end(), word) == pending.refs.end()) {
          pending.refs.push_back(word);
        }
      }
    }
    auto tree = ParseCondition(c.extended_text, pending.refs);
    if (!tree) return LoadFail(tree.error().message, condition_line);
    c.extended = std::move(*tree);
  } else if (condition.IsDefined() && !condition.IsNull()) {
    if (!condition.IsMap())
      return LoadFail("correlation 'condition' must be a map", condition_line);
    static const std::pair<std::string_view, CorrelationOp> OPS[] = {
        {"gt", CorrelationOp::kGt},   {"gte", CorrelationOp::kGte}, {"lt", CorrelationOp::kLt},
        {"lte", CorrelationOp::kLte}, {"eq", CorrelationOp::kEq},   {"neq", CorrelationOp::kNeq}};
    for (const auto& entry : condition) {
      std::string key = ScalarText(entry.first);
      int line = NodeLine(entry.first, line_offset);
      if (key == "field") {
        auto fields = StringList(entry.second, "field", line_offset);
        if (!fields) return tl::unexpected(fields.error());
        c.condition_fields = std::move(*fields);
        continue;
      }
      double number = 0;
      std::string text = ScalarText(entry.second);
      size_t used = 0;
      bool numeric = false;
      try {
        number = std::stod(text, &used);
        numeric = used == text.size() && !text.empty();
      } catch (const std::exception&) {
      }
      if (key == "percentile") {
        if (!numeric) return LoadFail("correlation percentile must be a number", line);
        c.percentile = number;
        continue;
      }
      auto op = std::find_if(std::begin(OPS), std::end(OPS),
                             [&](const auto& candidate) { return candidate.first == key; });
      if (op == std::end(OPS)) {
        return LoadFail("unknown correlation condition operator '" + key + "'", line);
      }
      if (!numeric) return LoadFail("correlation condition '" + key + "' needs a number", line);
      c.conditions.push_back({op->second, number});
    }
  }
  if (pending.refs.empty()) return LoadFail("correlation has no 'rules'", body_line);
  if (c.conditions.empty() && !c.has_extended) {
    if (!temporal) return LoadFail("correlation has no 'condition'", condition_line);
    c.conditions.push_back({CorrelationOp::kGte, static_cast<double>(pending.refs.size())});
  }
  bool needs_field = c.type == CorrelationType::kValueCount ||
                     c.type == CorrelationType::kValueSum || c.type == CorrelationType::kValueAvg ||
                     c.type == CorrelationType::kValuePercentile ||
                     c.type == CorrelationType::kValueMedian;
  if (needs_field && c.condition_fields.empty()) {
    return LoadFail(
        std::string(CorrelationTypeName(c.type)) + " correlation needs 'field' in its condition",
        condition_line);
  }

  const YAML::Node aliases = body["aliases"];
  if (aliases.IsDefined() && !aliases.IsNull()) {
    if (!aliases.IsMap())
      return LoadFail("'aliases' must be a map", NodeLine(aliases, line_offset));
    for (const auto& alias : aliases) {
      if (!alias.second.IsMap()) {
        return LoadFail("alias '" + ScalarText(alias.first) + "' must map rule names to fields",
                        NodeLine(alias.second, line_offset));
      }
      auto& mapping = c.aliases[ScalarText(alias.first)];
      for (const auto& entry : alias.second)
        mapping[ScalarText(entry.first)] = ScalarText(entry.second);
    }
  }
  const YAML::Node generate = body["generate"].IsDefined() ? body["generate"] : doc["generate"];
  if (generate.IsDefined() && !generate.IsNull()) {
    std::string text = Lower(ScalarText(generate));
    if (text != "true" && text != "false") {
      return LoadFail("'generate' must be true or false", NodeLine(generate, line_offset));
    }
    c.generate = text == "true";
  }
  return pending;
}

LoadResult<Filter> ParseFilter(const YAML::Node& doc, const std::string& file, int line_offset,
                               event::FieldCatalog& catalog, const LoadOptions& options) {
  auto info = ParseInfo(doc, file, line_offset, true);
  if (!info) return tl::unexpected(info.error());
  Filter filter;
  filter.info = std::move(*info);
  const YAML::Node body = doc["filter"];
  if (!body.IsMap()) return LoadFail("'filter' must be a map", NodeLine(body, line_offset));
  const YAML::Node rules = body["rules"];
  if (rules.IsDefined() && rules.IsScalar() && Lower(rules.Scalar()) == "any") {
    // every rule whose logsource matches
  } else {
    auto targets = StringList(rules, "rules", line_offset);
    if (!targets) return tl::unexpected(targets.error());
    filter.targets = std::move(*targets);
  }
  DetectionContext ctx{catalog, options, line_offset, {"rules"}};
  auto detection = CompileDetection(body, ctx);
  if (!detection) return tl::unexpected(detection.error());
  filter.detection = std::move(*detection);
  return filter;
}

LoadResult<Rule> ParseRule(const YAML::Node& doc, const std::string& file, int line_offset,
                           event::FieldCatalog& catalog, const LoadOptions& options) {
  auto info = ParseInfo(doc, file, line_offset, true);
  if (!info) return tl::unexpected(info.error());
  Rule rule;
  rule.info = std::move(*info);
  DetectionContext ctx{catalog, options, line_offset, {}};
  auto detection = CompileDetection(doc["detection"], ctx);
  if (!detection) return tl::unexpected(detection.error());
  rule.selections = std::move(detection->selections);
  rule.predicates = std::move(detection->predicates);
  rule.condition = std::move(detection->condition);
  CollectRuleFields(rule);
  if (detection->uses_keywords) catalog.RequireAllValues();
  return rule;
}

// Whether a filter with logsource `filter` applies to a rule with logsource `rule`: every key
// the filter gives must be the rule's.
bool LogsourceCovers(const event::Logsource& filter, const event::Logsource& rule) {
  return (filter.product.empty() || filter.product == rule.product) &&
         (filter.category.empty() || filter.category == rule.category) &&
         (filter.service.empty() || filter.service == rule.service);
}

std::string Where(const RuleInfo& info) { return info.file + ":" + std::to_string(info.line); }

class Loader {
 public:
  Loader(event::FieldCatalog& catalog, const LoadOptions& options)
      : catalog_(catalog), options_(options) {}

  RuleSet Run(const std::vector<std::string>& paths) {
    std::vector<std::string> files = CollectRuleFiles(paths, set_.failures);
    std::vector<std::pair<std::string, std::string>> contents;  // for the hash
    for (const std::string& file : files) {
      std::ifstream in(file, std::ios::binary);
      std::ostringstream buffer;
      if (in) buffer << in.rdbuf();
      if (!in || in.bad()) {
        set_.failures.push_back({file, 0, "cannot read the file"});
        ReportFile(files.size());
        continue;
      }
      ++set_.files_read;
      std::string bytes = buffer.str();
      LoadFile(file, bytes);
      contents.emplace_back(file, std::move(bytes));
      ReportFile(files.size());
    }
    return Finish(std::move(contents));
  }

  void ReportFile(size_t total) {
    ++files_done_;
    if (options_.on_file) options_.on_file(files_done_, total);
  }

  RuleSet RunText(std::string_view text, const std::string& name) {
    ++set_.files_read;
    LoadFile(name, text);
    return Finish({{name, std::string(text)}});
  }

 private:
  RuleSet Finish(std::vector<std::pair<std::string, std::string>> contents) {
    ApplyFilters();
    ResolveCorrelations();
    NameRules();
    set_.content_hash = Hash(std::move(contents));
    return std::move(set_);
  }

  void LoadFile(const std::string& file, std::string_view bytes) {
    if (bytes.substr(0, 3) == "\xEF\xBB\xBF") bytes.remove_prefix(3);
    for (const DocumentText& document : SplitDocuments(bytes)) {
      int first_line = document.first_line + 1;
      try {
        YAML::Node doc = YAML::Load(document.text);
        if (!doc.IsDefined() || doc.IsNull()) continue;  // empty document
        LoadDocument(file, doc, document.first_line);
      } catch (const YAML::Exception& e) {
        int line = e.mark.is_null() ? first_line : e.mark.line + 1 + document.first_line;
        set_.failures.push_back({file, line, "YAML parse error: " + e.msg});
      } catch (const std::exception& e) {
        set_.failures.push_back({file, first_line, std::string("cannot load: ") + e.what()});
      }
    }
  }

  void LoadDocument(const std::string& file, const YAML::Node& doc, int line_offset) {
    int line = NodeLine(doc, line_offset);
    auto fail = [&](const LoadError& error) {
      set_.failures.push_back({file, error.line != 0 ? error.line : line, error.reason});
    };
    if (!doc.IsMap()) {
      fail({"document is not a YAML map, so not a Sigma rule", line});
      return;
    }
    if (doc["correlation"].IsDefined()) {
      auto correlation = ParseCorrelation(doc, file, line_offset);
      if (!correlation) return fail(correlation.error());
      pending_.push_back(std::move(*correlation));
    } else if (doc["detection"].IsDefined()) {
      auto rule = ParseRule(doc, file, line_offset, catalog_, options_);
      if (!rule) return fail(rule.error());
      set_.rules.push_back(std::move(*rule));
    } else if (doc["filter"].IsDefined()) {
      auto filter = ParseFilter(doc, file, line_offset, catalog_, options_);
      if (!filter) return fail(filter.error());
      filters_.push_back(std::move(*filter));
    } else {
      fail({"not a Sigma rule: no 'detection', 'correlation' or 'filter'", line});
    }
  }

  void ApplyFilters() {
    for (size_t f = 0; f < filters_.size(); ++f) {
      const Filter& filter = filters_[f];
      std::string label = filter.info.id.empty() ? filter.info.title : filter.info.id;
      std::string prefix = "_filter" + std::to_string(f) + "_";
      size_t applied = 0;
      std::set<std::string> found;
      for (Rule& rule : set_.rules) {
        bool named = filter.targets.empty();
        for (const std::string& target : filter.targets) {
          if ((!rule.info.id.empty() && target == rule.info.id) ||
              (!rule.info.name.empty() && target == rule.info.name)) {
            named = true;
            found.insert(target);
          }
        }
        if (!named) continue;
        if (!LogsourceCovers(filter.info.logsource, rule.info.logsource)) {
          if (!filter.targets.empty()) {
            set_.warnings.push_back({Where(filter.info), filter.info.line,
                                     "filter '" + label + "' names rule '" + rule.info.title +
                                         "' whose logsource differs; not applied to it"});
          }
          continue;
        }
        ApplyFilterDetection(rule, filter.detection, prefix);
        ++applied;
      }
      for (const std::string& target : filter.targets) {
        if (!found.count(target)) {
          set_.warnings.push_back(
              {filter.info.file, filter.info.line,
               "filter '" + label + "' names rule '" + target + "', which is not loaded"});
        }
      }
      if (applied == 0) {
        set_.warnings.push_back(
            {filter.info.file, filter.info.line, "filter '" + label + "' applies to no rule"});
      } else {
        ++set_.filters_applied;
      }
    }
  }

  void ResolveCorrelations() {
    std::unordered_map<std::string, uint32_t> rule_keys;
    for (size_t i = 0; i < set_.rules.size(); ++i) {
      const RuleInfo& info = set_.rules[i].info;
      if (!info.id.empty()) rule_keys.emplace(info.id, static_cast<uint32_t>(i));
    }
    for (size_t i = 0; i < set_.rules.size(); ++i) {
      const RuleInfo& info = set_.rules[i].info;
      if (!info.name.empty()) rule_keys.emplace(info.name, static_cast<uint32_t>(i));
    }
    // Correlations may reference each other; drop the broken ones until none is left.
    std::vector<bool> alive(pending_.size(), true);
    std::vector<std::string> reasons(pending_.size());
    std::vector<int> reason_lines(pending_.size(), 0);
    bool changed = true;
    while (changed) {
      changed = false;
      std::unordered_map<std::string, uint32_t> correlation_keys;
      for (size_t i = 0; i < pending_.size(); ++i) {
        if (!alive[i]) continue;
        const RuleInfo& info = pending_[i].correlation.info;
        if (!info.id.empty()) correlation_keys.emplace(info.id, static_cast<uint32_t>(i));
        if (!info.name.empty()) correlation_keys.emplace(info.name, static_cast<uint32_t>(i));
      }
      for (size_t i = 0; i < pending_.size(); ++i) {
        if (!alive[i]) continue;
        Correlation& c = pending_[i].correlation;
        c.rules.clear();
        for (const std::string& ref : pending_[i].refs) {
          if (auto it = rule_keys.find(ref); it != rule_keys.end()) {
            c.rules.push_back({ref, false, it->second});
          } else if (auto ct = correlation_keys.find(ref); ct != correlation_keys.end()) {
            if (ct->second == i) {
              reasons[i] = "correlation references itself";
            } else {
              c.rules.push_back({ref, true, ct->second});
              continue;
            }
          } else {
            reasons[i] = "correlation references rule '" + ref +
                         "', which is not loaded (or failed to load)";
          }
          if (!reasons[i].empty()) {
            alive[i] = false;
            changed = true;
            break;
          }
        }
      }
      if (!changed) changed = BreakCycles(alive, reasons);
    }
    // Renumber: correlation indices refer to the surviving list.
    std::vector<uint32_t> new_index(pending_.size(), 0);
    uint32_t next = 0;
    for (size_t i = 0; i < pending_.size(); ++i)
      if (alive[i]) new_index[i] = next++;
    for (size_t i = 0; i < pending_.size(); ++i) {
      Correlation& c = pending_[i].correlation;
      if (!alive[i]) {
        set_.failures.push_back({c.info.file, c.info.line, reasons[i]});
        continue;
      }
      for (CorrelationRef& ref : c.rules)
        if (ref.is_correlation) ref.index = new_index[ref.index];
      set_.correlations.push_back(std::move(c));
    }
  }

  // Marks correlations on a reference cycle as failed; returns whether any was.
  bool BreakCycles(std::vector<bool>& alive, std::vector<std::string>& reasons) {
    enum class Mark : uint8_t { kNone, kActive, kDone };
    std::vector<Mark> marks(pending_.size(), Mark::kNone);
    bool found = false;
    std::function<bool(size_t)> visit = [&](size_t i) -> bool {
      if (marks[i] == Mark::kActive) return true;
      if (marks[i] == Mark::kDone) return false;
      marks[i] = Mark::kActive;
      bool cycle = false;
      for (const CorrelationRef& ref : pending_[i].correlation.rules)
        if (ref.is_correlation && alive[ref.index] && visit(ref.index)) cycle = true;
      marks[i] = Mark::kDone;
      if (cycle) {
        alive[i] = false;
        reasons[i] = "correlation is part of a reference cycle";
        found = true;
      }
      return cycle;
    };
    for (size_t i = 0; i < pending_.size(); ++i)
      if (alive[i]) visit(i);
    return found;
  }

  // Gives every rule and correlation its alert key (RuleInfo::key), in load order (files
  // sorted, so that a reload gives each the same key again), and warns of ids used twice.
  void NameRules() {
    struct Keys {
      std::unordered_map<std::string, const RuleInfo*> first;  // by id (else title)
      std::unordered_set<std::string> given;
    };
    auto name = [&](RuleInfo& info, Keys& keys, const char* kind) {
      const std::string& base = info.id.empty() ? info.title : info.id;
      auto [it, inserted] = keys.first.try_emplace(base, &info);
      if (!inserted && !info.id.empty()) {
        set_.warnings.push_back({info.file, info.line,
                                 std::string("duplicate ") + kind + " id " + info.id +
                                     " (also in " + Where(*it->second) + "); both are kept"});
      }
      std::string key = base;
      for (int n = 2; !keys.given.insert(key).second; ++n) key = base + "#" + std::to_string(n);
      info.key = std::move(key);
    };
    Keys rules, correlations;
    for (Rule& rule : set_.rules) name(rule.info, rules, "rule");
    for (Correlation& correlation : set_.correlations)
      name(correlation.info, correlations, "correlation");
  }

  std::string Hash(std::vector<std::pair<std::string, std::string>> contents) const {
    std::sort(contents.begin(), contents.end());
    XXH3_state_t* state = XXH3_createState();
    XXH3_128bits_reset(state);
    auto update = [&](std::string_view bytes) {
      uint64_t size = bytes.size();
      XXH3_128bits_update(state, &size, sizeof size);
      XXH3_128bits_update(state, bytes.data(), bytes.size());
    };
    for (const auto& [path, bytes] : contents) {
      update(path);
      update(bytes);
    }
    // Placeholder values change the compiled rules, so they are part of the key.
    for (const auto& [name, values] : options_.placeholders) {
      update(name);
      for (const std::string& value : values) update(value);
    }
    XXH128_hash_t hash = XXH3_128bits_digest(state);
    XXH3_freeState(state);
    char hex[33];
    std::snprintf(hex, sizeof hex, "%016llx%016llx", static_cast<unsigned long long>(hash.high64),
                  static_cast<unsigned long long>(hash.low64));
    return hex;
  }

  event::FieldCatalog& catalog_;
  const LoadOptions& options_;
  size_t files_done_ = 0;
  RuleSet set_;
  std::vector<Filter> filters_;
  std::vector<PendingCorrelation> pending_;
};

}  // namespace

std::vector<DocumentText> SplitDocuments(std::string_view bytes) {
  std::vector<DocumentText> documents(1);
  int line_number = 0;
  size_t at = 0;
  while (at < bytes.size()) {
    size_t end = bytes.find('\n', at);
    size_t next = end == std::string_view::npos ? bytes.size() : end + 1;
    std::string_view line = bytes.substr(at, next - at);
    std::string_view content = line;
    while (!content.empty() && (content.back() == '\n' || content.back() == '\r')) {
      content.remove_suffix(1);
    }
    if (IsMarkerLine(content, "---") || IsMarkerLine(content, "...")) {
      // A new document starts here; its text keeps the marker line blanked so that the rest
      // of the line (a comment, say) and the line numbers survive.
      documents.push_back(DocumentText{{}, line_number});
      std::string blanked(line);
      blanked[0] = blanked[1] = blanked[2] = ' ';
      documents.back().text += blanked;
    } else {
      documents.back().text.append(line);
    }
    ++line_number;
    at = next;
  }
  return documents;
}

std::vector<std::string> CollectRuleFiles(const std::vector<std::string>& paths,
                                          std::vector<RuleFailure>& failures) {
  std::vector<std::string> files;
  std::set<std::string> seen;
  auto add = [&](const std::string& file) {
    if (seen.insert(file).second) files.push_back(file);
  };
  for (const std::string& path : paths) {
    std::error_code ec;
    fs::file_status status = fs::status(path, ec);
    if (ec || !fs::exists(status)) {
      failures.push_back({path, 0, "cannot read: no such file or directory"});
      continue;
    }
    if (!fs::is_directory(status)) {
      add(path);
      continue;
    }
    std::vector<std::string> found;
    fs::recursive_directory_iterator it(path, fs::directory_options::skip_permission_denied, ec);
    if (ec) {
      failures.push_back({path, 0, "cannot read the directory: " + ec.message()});
      continue;
    }
    for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (ec) {
        failures.push_back({path, 0, "cannot walk the directory: " + ec.message()});
        break;
      }
      const fs::path& entry = it->path();
      std::string name = entry.filename().string();
      if (!name.empty() && name.front() == '.') {  // hidden files and folders (.git, .github)
        if (it->is_directory(ec)) it.disable_recursion_pending();
        continue;
      }
      if (!it->is_regular_file(ec)) continue;
      std::string extension = entry.extension().string();
      if (extension == ".yml" || extension == ".yaml") found.push_back(entry.string());
    }
    std::sort(found.begin(), found.end());
    for (const std::string& file : found) add(file);
  }
  return files;
}

RuleSet LoadRules(const std::vector<std::string>& paths, event::FieldCatalog& catalog,
                  const LoadOptions& options) {
  Loader loader(catalog, options);
  return loader.Run(paths);
}

RuleSet LoadRuleText(std::string_view text, event::FieldCatalog& catalog,
                     const LoadOptions& options, const std::string& name) {
  Loader loader(catalog, options);
  return loader.RunText(text, name);
}

}  // namespace yagura::sigma

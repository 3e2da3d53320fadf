#include "scan/alert_writer.hpp"

#include <simdjson.h>

#include <cerrno>
#include <cmath>
#include <cstring>

#include "core/json_writer.hpp"
#include "core/time.hpp"

namespace yagura::scan {
namespace {

constexpr size_t OUTPUT_BUFFER_BYTES = size_t{1} << 20;

constexpr std::string_view CSV_HEADER =
    "time,level,rule_id,rule_title,rule_author,file,record,product,service,category,matched,"
    "event\n";

// Whether `text` holds one of the few `bytes`: one vectorised memchr pass per byte, which is
// faster than one pass that looks every byte up (std::string_view::find_first_of searches the
// set once for every byte of the text: for an event's JSON, thousands of calls).
bool HasAnyOf(std::string_view text, std::string_view bytes) {
  for (char c : bytes)
    if (!text.empty() && std::memchr(text.data(), c, text.size()) != nullptr) return true;
  return false;
}

void AppendCsvField(std::string& out, std::string_view field) {
  bool quote = HasAnyOf(field, ",\"\r\n");
  if (!quote) {
    out.append(field);
    return;
  }
  out.push_back('"');
  for (char c : field) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
}

std::string Join(const std::vector<std::string_view>& parts, char separator) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i) out.push_back(separator);
    out.append(parts[i]);
  }
  return out;
}

// The logsource written with an alert: the event's classification, narrowed to the service and
// category the rule asked for when it named them.
struct ShownLogsource {
  std::string_view product, service, category;
};

ShownLogsource Shown(const AlertRecord& alert) {
  ShownLogsource shown;
  static const event::Logsource NONE;
  const auto& rule_ls = alert.rule ? alert.rule->info.logsource : NONE;
  const event::LogsourceClass* ls = alert.logsource;
  shown.product = ls && !ls->product.empty() ? ls->product : std::string_view(rule_ls.product);
  if (!rule_ls.service.empty())
    shown.service = rule_ls.service;
  else if (ls && ls->service_count)
    shown.service = ls->services[0];
  if (!rule_ls.category.empty())
    shown.category = rule_ls.category;
  else if (ls && ls->category_count)
    shown.category = ls->categories[0];
  return shown;
}

}  // namespace

Result<AlertWriter> AlertWriter::Open(const std::string& path, OutputFormat format,
                                      std::unique_ptr<AlertSorter> sorter) {
  std::FILE* file = stdout;
  bool owned = false;
  if (!path.empty() && path != "-") {
    file = std::fopen(path.c_str(), "wb");
    if (!file) return Fail(std::string("cannot open output: ") + std::strerror(errno), path);
    owned = true;
  }
  AlertWriter writer(file, owned, format, path.empty() ? "-" : path);
  writer.sorter_ = std::move(sorter);
  if (format == OutputFormat::kCsv) {
    std::fwrite(CSV_HEADER.data(), 1, CSV_HEADER.size(), file);
  }
  return writer;
}

AlertWriter::AlertWriter(std::FILE* file, bool owned, OutputFormat format, std::string path)
    : file_(file), owned_(owned), format_(format), path_(std::move(path)) {
  if (owned_) {
    buffer_ = std::make_unique<char[]>(OUTPUT_BUFFER_BYTES);
    std::setvbuf(file_, buffer_.get(), _IOFBF, OUTPUT_BUFFER_BYTES);
  }
}

AlertWriter::AlertWriter(AlertWriter&& other) noexcept
    : buffer_(std::move(other.buffer_)),
      file_(other.file_),
      owned_(other.owned_),
      format_(other.format_),
      path_(std::move(other.path_)),
      failed_(other.failed_),
      sorter_(std::move(other.sorter_)),
      sort_error_(std::move(other.sort_error_)),
      rule_objects_(std::move(other.rule_objects_)) {
  other.file_ = nullptr;
  other.owned_ = false;
}

AlertWriter::~AlertWriter() {
  if (file_ && owned_) std::fclose(file_);
}

// JSON lines need the event on one line: a pretty-printed input record is minified (which also
// removes the whitespace simdjson knows to be insignificant, and nothing else).
static std::string_view OneLine(std::string_view json, std::string& buffer) {
  if (!HasAnyOf(json, "\r\n")) return json;
  buffer.resize(json.size());
  size_t length = 0;
  if (simdjson::minify(json.data(), json.size(), buffer.data(), length) != simdjson::SUCCESS) {
    // Not valid JSON (cannot happen for a record that parsed); keep it as a string instead.
    buffer.clear();
    AppendJsonString(buffer, json);
    return buffer;
  }
  buffer.resize(length);
  return buffer;
}

static void WriteIndicator(JsonWriter& w, const IndicatorAlertInfo& indicator) {
  w.Key("indicator").BeginObject();
  w.Key("id").String(indicator.id);
  w.Key("feed").String(indicator.feed);
  w.Key("name").String(indicator.name);
  w.Key("pattern").String(indicator.pattern);
  w.Key("type").String(indicator.type);
  w.Key("level").String(indicator.level);
  w.Key("tlp");
  if (indicator.tlp.empty())
    w.Null();
  else
    w.String(indicator.tlp);
  w.Key("confidence");
  if (indicator.confidence < 0)
    w.Null();
  else
    w.Int(indicator.confidence);
  w.Key("labels").BeginArray();
  if (indicator.labels)
    for (const auto& label : *indicator.labels) w.String(label);
  w.EndArray();
  w.Key("markings").BeginArray();
  if (indicator.markings)
    for (const auto& marking : *indicator.markings) w.String(marking);
  w.EndArray();
  w.EndObject();
}

// A whole number as an integer ("3", not "3.0"): counts are the usual aggregate.
static void WriteNumber(JsonWriter& w, double value) {
  if (std::isfinite(value) && value == std::floor(value) && std::fabs(value) < 9.0e15)
    w.Int(static_cast<int64_t>(value));
  else
    w.Double(value);
}

void AlertWriter::FormatCorrelationWindow(JsonWriter& w, const CorrelationAlertInfo& info) {
  const correlate::CorrelationAlert& alert = *info.alert;
  w.Key("alert_id").String(alert.id);
  w.Key("group").BeginObject();
  for (const auto& [field, value] : alert.group) w.Key(field).String(value);
  w.EndObject();
  w.Key("time").String(FormatTimestampMs(alert.last_time_ms));
  w.Key("first_time").String(FormatTimestampMs(alert.first_time_ms));
  w.Key("last_time").String(FormatTimestampMs(alert.last_time_ms));
  w.Key("value");
  WriteNumber(w, alert.value);
  w.Key("count").Uint(alert.match_count);
  w.Key("records").BeginArray();
  for (const auto& [file, record] : info.records)
    w.BeginObject().Key("file").String(file).Key("record").Uint(record).EndObject();
  w.EndArray();
}

void AlertWriter::FormatCorrelation(const CorrelationAlertInfo& info, std::string& out) {
  JsonWriter w(out);
  const sigma::Correlation& c = *info.correlation;
  w.BeginObject();
  w.Key("correlation").BeginObject();
  w.Key("id").String(c.info.id);
  w.Key("title").String(c.info.title);
  w.Key("level").String(sigma::LevelName(c.info.level));
  w.Key("status").String(c.info.status);
  w.Key("type").String(sigma::CorrelationTypeName(c.type));
  w.Key("author").String(c.info.author);
  w.Key("tags").BeginArray();
  for (const auto& tag : c.info.tags) w.String(tag);
  w.EndArray();
  w.Key("references").BeginArray();
  for (const auto& ref : c.info.references) w.String(ref);
  w.EndArray();
  w.Key("rules").BeginArray();
  for (const auto& ref : c.rules) w.String(ref.name);
  w.EndArray();
  w.Key("group_by").BeginArray();
  for (const auto& field : c.group_by) w.String(field);
  w.EndArray();
  w.Key("timespan").Int(c.timespan_seconds);
  w.Key("generate").Bool(c.generate);
  w.EndObject();
  FormatCorrelationWindow(w, info);
  w.EndObject();
}

void AlertWriter::FormatRuleObject(const sigma::RuleInfo& info, std::string& out) {
  JsonWriter w(out);
  WriteRuleObject(w, info);
}

void AlertWriter::WriteRuleObject(JsonWriter& w, const sigma::RuleInfo& info) {
  w.BeginObject();
  w.Key("id").String(info.id);
  w.Key("title").String(info.title);
  w.Key("level").String(sigma::LevelName(info.level));
  w.Key("status").String(info.status);
  w.Key("author").String(info.author);
  w.Key("tags").BeginArray();
  for (const auto& tag : info.tags) w.String(tag);
  w.EndArray();
  w.Key("references").BeginArray();
  for (const auto& ref : info.references) w.String(ref);
  w.EndArray();
  w.EndObject();
}

void AlertWriter::FormatJson(const AlertRecord& alert, std::string& out,
                             std::string_view rule_object) {
  if (alert.correlation) {
    FormatCorrelation(*alert.correlation, out);
    return;
  }
  JsonWriter w(out);
  w.BeginObject();
  if (alert.indicator) {
    WriteIndicator(w, *alert.indicator);
    FormatTail(w, alert);
    w.Key("matched_values").BeginArray();
    for (const auto& [field, value] : alert.indicator->found) {
      w.BeginObject().Key("field").String(field).Key("value").String(value).EndObject();
    }
    w.EndArray();
    w.EndObject();
    return;
  }
  w.WrittenKey("\"rule\":");
  if (rule_object.empty()) {
    WriteRuleObject(w, alert.rule->info);
  } else {
    w.Raw(rule_object);
  }
  FormatTail(w, alert);
  w.EndObject();
}

// The members every alert has after its "rule" or "indicator": time, source, logsource, event
// and matched (the field names).
void AlertWriter::FormatTail(JsonWriter& w, const AlertRecord& alert) {
  w.WrittenKey("\"time\":");
  if (alert.time.empty())
    w.Null();
  else
    w.String(alert.time);
  w.WrittenKey("\"source\":").BeginObject();
  w.WrittenKey("\"file\":").String(alert.file).WrittenKey("\"record\":").Uint(alert.record);
  w.EndObject();
  ShownLogsource shown = Shown(alert);
  w.WrittenKey("\"logsource\":").BeginObject();
  if (!shown.product.empty()) w.WrittenKey("\"product\":").String(shown.product);
  if (!shown.category.empty()) w.WrittenKey("\"category\":").String(shown.category);
  if (!shown.service.empty()) w.WrittenKey("\"service\":").String(shown.service);
  w.EndObject();
  w.WrittenKey("\"event\":");
  std::string one_line;
  if (alert.event_json.empty())
    w.Raw("{}");
  else
    w.Raw(OneLine(alert.event_json, one_line));
  w.WrittenKey("\"matched\":").BeginArray();
  if (alert.matched) {
    for (auto name : *alert.matched) w.String(name);
  }
  w.EndArray();
}

void AlertWriter::Write(const AlertRecord& alert, std::optional<int64_t> time_ms) {
  line_.clear();
  if (format_ == OutputFormat::kJsonl) {
    std::string_view rule_object;
    if (alert.rule != nullptr && alert.indicator == nullptr && alert.correlation == nullptr) {
      auto [entry, added] = rule_objects_.try_emplace(&alert.rule->info);
      if (added) FormatRuleObject(alert.rule->info, entry->second);
      rule_object = entry->second;
    }
    FormatJson(alert, line_, rule_object);
  } else {
    ShownLogsource shown = Shown(alert);
    std::string record = std::to_string(alert.record);
    std::string matched;
    std::string_view level, id, title, author;
    std::string time(alert.time);
    std::string_view file = alert.file;
    std::string event_json;
    if (alert.correlation) {
      const CorrelationAlertInfo& info = *alert.correlation;
      const sigma::RuleInfo& rule_info = info.correlation->info;
      for (const auto& [field, value] : info.alert->group) {
        if (!matched.empty()) matched.push_back(';');
        matched.append(field).append("=").append(value);
      }
      level = sigma::LevelName(rule_info.level);
      id = rule_info.id;
      title = rule_info.title;
      author = rule_info.author;
      time = FormatTimestampMs(info.alert->last_time_ms);
      file = info.records.empty() ? std::string_view() : info.records.front().first;
      record = info.records.empty() ? std::string() : std::to_string(info.records.front().second);
      JsonWriter w(event_json);
      w.BeginObject();
      w.Key("type").String(sigma::CorrelationTypeName(info.correlation->type));
      FormatCorrelationWindow(w, info);
      w.EndObject();
    } else if (alert.indicator) {
      const IndicatorAlertInfo& indicator = *alert.indicator;
      for (const auto& [field, value] : indicator.found) {
        if (!matched.empty()) matched.push_back(';');
        matched.append(field).append("=").append(value);
      }
      level = indicator.level;
      id = indicator.id;
      title = indicator.name.empty() ? std::string_view(indicator.pattern) : indicator.name;
      author = indicator.feed;
    } else {
      const sigma::RuleInfo& info = alert.rule->info;
      matched = alert.matched ? Join(*alert.matched, ';') : std::string();
      level = sigma::LevelName(info.level);
      id = info.id;
      title = info.title;
      author = info.author;
    }
    std::string one_line;
    // The columns of CSV_HEADER, in order.
    const std::string_view columns[] = {
        time,          level,          id,      title,
        author,        file,           record,  shown.product,
        shown.service, shown.category, matched,
        alert.correlation ? std::string_view(event_json) : OneLine(alert.event_json, one_line)};
    for (size_t i = 0; i < std::size(columns); ++i) {
      if (i) line_.push_back(',');
      AppendCsvField(line_, columns[i]);
    }
  }
  line_.push_back('\n');
  if (sorter_) {
    if (!sort_error_.empty()) return;
    if (auto added = sorter_->Add(time_ms, line_); !added) sort_error_ = added.error().message;
    return;
  }
  // One thread writes (see the header): the stream's lock was a seventh of this function.
  if (::fwrite_unlocked(line_.data(), 1, line_.size(), file_) != line_.size()) failed_ = true;
}

Result<void> AlertWriter::Finish() {
  if (sorter_ && sort_error_.empty()) {
    if (auto written = sorter_->WriteTo(file_); !written) sort_error_ = written.error().message;
    sorter_.reset();  // its temporary files go now
  }
  if (!sort_error_.empty()) return Fail("cannot sort alerts: " + sort_error_, path_);
  if (std::fflush(file_) != 0 || std::ferror(file_)) failed_ = true;
  if (failed_) return Fail(std::string("cannot write alerts: ") + std::strerror(errno), path_);
  return {};
}

}  // namespace yagura::scan

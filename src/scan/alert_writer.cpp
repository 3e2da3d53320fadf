#include "scan/alert_writer.hpp"

#include <simdjson.h>

#include <cerrno>
#include <cmath>
#include <cstring>

#include "core/json_writer.hpp"
#include "core/time.hpp"
#include "scan/pivot_keywords.hpp"

namespace yagura::scan {
namespace {

constexpr size_t OUTPUT_BUFFER_BYTES = size_t{1} << 20;

constexpr std::string_view CSV_HEADER =
    "time,level,rule_id,rule_title,rule_author,file,record,product,service,category,matched,"
    "event,host,details\n";

// Whether `text` holds one of the few `bytes`: one vectorised memchr pass per byte, which is
// faster than one pass that looks every byte up (std::string_view::find_first_of searches the
// set once for every byte of the text: for an event's JSON, thousands of calls).
bool HasAnyOf(std::string_view text, std::string_view bytes) {
  for (char c : bytes)
    if (!text.empty() && std::memchr(text.data(), c, text.size()) != nullptr) return true;
  return false;
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

Result<AlertWriter> AlertWriter::Open(const std::string& path, OutputFormat format,
                                      std::unique_ptr<TimeSorter> sorter, bool geo_column) {
  std::FILE* file = stdout;
  bool owned = false;
  if (!path.empty() && path != "-") {
    file = std::fopen(path.c_str(), "wb");
    if (!file) return Fail(std::string("cannot open output: ") + std::strerror(errno), path);
    owned = true;
  }
  AlertWriter writer(file, owned, format, path.empty() ? "-" : path);
  writer.sorter_ = std::move(sorter);
  writer.geo_column_ = geo_column;
  if (format == OutputFormat::kCsv) {
    // The geo column, when asked for, comes last, so that scripts reading the others by
    // position are not moved.
    const std::string_view header =
        geo_column ? CSV_HEADER.substr(0, CSV_HEADER.size() - 1) : CSV_HEADER;
    std::fwrite(header.data(), 1, header.size(), file);
    if (geo_column) std::fwrite(",geo\n", 1, 5, file);
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
    : geo_column_(other.geo_column_),
      buffer_(std::move(other.buffer_)),
      file_(other.file_),
      owned_(other.owned_),
      format_(other.format_),
      path_(std::move(other.path_)),
      failed_(other.failed_),
      sorter_(std::move(other.sorter_)),
      sort_error_(std::move(other.sort_error_)),
      spill_problem_(std::move(other.spill_problem_)),
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
  w.WrittenKey("\"host\":");
  if (alert.host.empty())
    w.Null();
  else
    w.String(alert.host);
  w.WrittenKey("\"details\":").BeginObject();
  if (alert.details) {
    for (const auto& [field, value] : *alert.details) w.Key(field).String(value);
  }
  w.EndObject();
  if (alert.geo) {
    w.WrittenKey("\"geo\":").BeginObject();
    for (const GeoTag& tag : *alert.geo) {
      w.Key(tag.field).BeginObject();
      w.WrittenKey("\"address\":").String(tag.address);
      intel::WriteLocationMembers(w, *tag.location);
      w.EndObject();
    }
    w.EndObject();
  }
}

static void AppendGeo(std::string& out, const GeoTag& tag) {
  const intel::GeoLocation& where = *tag.location;
  std::string text(tag.address);
  if (!where.country.empty()) text.append(" ").append(where.country);
  if (!where.country_name.empty()) text.append(" ").append(where.country_name);
  if (!where.city.empty()) text.append(", ").append(where.city);
  if (where.asn != 0) text.append(", AS").append(std::to_string(where.asn));
  if (!where.as_org.empty()) text.append(" ").append(where.as_org);
  AppendDetail(out, tag.field, text);
}

// What the flat formats (CSV, Timesketch) show of an alert, whatever made it.
struct AlertWriter::Flat {
  std::string_view kind;  // "rule", "indicator", "correlation"
  std::string time;
  std::string_view level, id, title, author, file;
  std::string record;
  std::string matched;     // field names, or field=value pairs, separated by ';'
  std::string event_json;  // for a correlation: its window
  std::string_view host;
  std::string details;  // "Field: value ¦ Field: value"
  const std::vector<std::string>* tags = nullptr;
  bool has_geo = false;       // --geo-ip
  std::string geo;            // "IpAddress: 203.0.113.9 JP Japan, Tokyo, AS2516 KDDI ¦ ..."
  std::string geo_countries;  // "JP;US"
};

const std::vector<std::string_view>& AddressFields() {
  for (const PivotCategory& category : PivotCategories())
    if (category.name == "addresses") return category.fields;
  static const std::vector<std::string_view> NONE;
  return NONE;
}

void LocateAddresses(const event::Event& event,
                     const std::vector<std::pair<event::FieldId, std::string_view>>& fields,
                     intel::GeoIpDatabases& databases, std::vector<GeoTag>& out) {
  out.clear();
  for (const auto& [field, name] : fields) {
    if (field == event::NO_FIELD || !event.Has(field)) continue;
    for (const event::FieldValue& value : event.Values(field)) {
      if (const intel::GeoLocation* where = databases.Lookup(value.text)) {
        out.push_back({name, value.text, where});
        break;
      }
    }
  }
}

void AppendDetail(std::string& out, std::string_view field, std::string_view value) {
  if (!out.empty()) out.append(" \u00a6 ");
  out.append(field).append(": ").append(value);
}

void AlertWriter::Flatten(const AlertRecord& alert, Flat& flat) {
  flat.time = std::string(alert.time);
  flat.host = alert.host;
  if (alert.details) {
    for (const auto& [field, value] : *alert.details) AppendDetail(flat.details, field, value);
  }
  if (alert.geo) {
    flat.has_geo = true;
    for (const GeoTag& tag : *alert.geo) {
      AppendGeo(flat.geo, tag);
      const std::string& country = tag.location->country;
      if (country.empty() || flat.geo_countries.find(country) != std::string::npos) continue;
      if (!flat.geo_countries.empty()) flat.geo_countries.push_back(';');
      flat.geo_countries += country;
    }
  }
  flat.file = alert.file;
  flat.record = std::to_string(alert.record);
  if (alert.correlation) {
    const CorrelationAlertInfo& info = *alert.correlation;
    const sigma::RuleInfo& rule_info = info.correlation->info;
    for (const auto& [field, value] : info.alert->group) {
      if (!flat.matched.empty()) flat.matched.push_back(';');
      flat.matched.append(field).append("=").append(value);
    }
    flat.kind = "correlation";
    flat.level = sigma::LevelName(rule_info.level);
    flat.id = rule_info.id;
    flat.title = rule_info.title;
    flat.author = rule_info.author;
    flat.tags = &rule_info.tags;
    flat.time = FormatTimestampMs(info.alert->last_time_ms);
    flat.file = info.records.empty() ? std::string_view() : info.records.front().first;
    flat.record =
        info.records.empty() ? std::string() : std::to_string(info.records.front().second);
    JsonWriter w(flat.event_json);
    w.BeginObject();
    w.Key("type").String(sigma::CorrelationTypeName(info.correlation->type));
    FormatCorrelationWindow(w, info);
    w.EndObject();
  } else if (alert.indicator) {
    const IndicatorAlertInfo& indicator = *alert.indicator;
    for (const auto& [field, value] : indicator.found) {
      if (!flat.matched.empty()) flat.matched.push_back(';');
      flat.matched.append(field).append("=").append(value);
    }
    flat.kind = "indicator";
    flat.level = indicator.level;
    flat.id = indicator.id;
    flat.title = indicator.name.empty() ? std::string_view(indicator.pattern) : indicator.name;
    flat.author = indicator.feed;
    flat.tags = indicator.labels;
  } else {
    const sigma::RuleInfo& info = alert.rule->info;
    flat.kind = "rule";
    flat.matched = alert.matched ? Join(*alert.matched, ';') : std::string();
    flat.level = sigma::LevelName(info.level);
    flat.id = info.id;
    flat.title = info.title;
    flat.author = info.author;
    flat.tags = &info.tags;
  }
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
    Flat flat;
    Flatten(alert, flat);
    ShownLogsource shown = Shown(alert);
    std::string one_line;
    const std::string_view event =
        alert.correlation ? std::string_view(flat.event_json) : OneLine(alert.event_json, one_line);
    if (format_ == OutputFormat::kCsv) {
      // The columns of CSV_HEADER, in order.
      const std::string_view columns[] = {
          flat.time,    flat.level,  flat.id,       flat.title,    flat.author,
          flat.file,    flat.record, shown.product, shown.service, shown.category,
          flat.matched, event,       flat.host,     flat.details};
      for (size_t i = 0; i < std::size(columns); ++i) {
        if (i) line_.push_back(',');
        AppendCsvField(line_, columns[i]);
      }
      if (geo_column_) {
        line_.push_back(',');
        AppendCsvField(line_, flat.geo);
      }
    } else {
      FormatTimesketch(
          flat, shown.product, shown.service, shown.category, event,
          alert.correlation ? std::optional(alert.correlation->alert->last_time_ms) : time_ms,
          line_);
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

// Timesketch's JSON lines: its three mandatory fields (message, datetime, timestamp_desc),
// the time in microseconds, and flat attributes. The event is one JSON string, not an object:
// fields whose type differs from event to event (EventID a number here, an object there) would
// clash in the search index's mapping. An alert whose event time cannot be read is placed at
// the epoch and says so in timestamp_desc, as plaso marks a missing time.
void AlertWriter::FormatTimesketch(const Flat& flat, std::string_view product,
                                   std::string_view service, std::string_view category,
                                   std::string_view event, std::optional<int64_t> time_ms,
                                   std::string& out) {
  JsonWriter w(out);
  w.BeginObject();
  std::string message = "[";
  message.append(flat.level).append("] ").append(flat.title);
  w.Key("message").String(message);
  w.Key("datetime").String(FormatTimestampMs(time_ms.value_or(0)));
  w.Key("timestamp").Int(time_ms.value_or(0) * 1000);
  w.Key("timestamp_desc")
      .String(!time_ms                     ? "No event time"
              : flat.kind == "correlation" ? "Correlation window end"
                                           : "Event time");
  w.Key("alert_type").String(flat.kind);
  w.Key("level").String(flat.level);
  w.Key("rule_id").String(flat.id);
  w.Key("rule_title").String(flat.title);
  w.Key("rule_author").String(flat.author);
  std::string tags;
  if (flat.tags != nullptr) {
    for (const std::string& tag : *flat.tags) {
      if (!tags.empty()) tags.push_back(';');
      tags += tag;
    }
  }
  w.Key("rule_tags").String(tags);
  w.Key("source_file").String(flat.file);
  w.Key("source_record").String(flat.record);
  w.Key("product").String(product);
  w.Key("service").String(service);
  w.Key("category").String(category);
  w.Key("matched").String(flat.matched);
  w.Key("host").String(flat.host);
  w.Key("details").String(flat.details);
  if (flat.has_geo) {
    w.Key("geo").String(flat.geo);
    w.Key("geo_countries").String(flat.geo_countries);
  }
  w.Key("event").String(event);
  w.EndObject();
}

Result<void> AlertWriter::Finish() {
  if (sorter_ && sort_error_.empty()) {
    if (auto written = sorter_->WriteTo(file_); !written) sort_error_ = written.error().message;
    spill_problem_ = sorter_->spill_problem();
    sorter_.reset();  // its temporary files go now
  }
  if (!sort_error_.empty()) return Fail("cannot sort alerts: " + sort_error_, path_);
  if (std::fflush(file_) != 0 || std::ferror(file_)) failed_ = true;
  if (failed_) return Fail(std::string("cannot write alerts: ") + std::strerror(errno), path_);
  return {};
}

}  // namespace yagura::scan

// EventParser: dispatches a Record to the flattener of its format, then classifies the event.
//
// All parsers emit through one EventSink, which stores only what the FieldCatalog asks for and
// picks the event time. Values are views into the record or copies in the event's arena, so a
// parse allocates nothing once the event's vectors and arena have grown to their working size.
// ToJson re-reads the record with an emitter that writes JSON instead; it runs only for alerts,
// so it may allocate.
#include "event/parser.hpp"

#include <cstring>

#include "core/json_writer.hpp"
#include "event/evtx_xml.hpp"
#include "event/flatten.hpp"
#include "event/json_walk.hpp"
#include "event/syslog.hpp"
#include "event/web_access.hpp"

namespace yagura::event {
namespace {

// Collects every field of a line record as a JSON object.
class JsonObjectWriter final : public FieldEmitter {
 public:
  explicit JsonObjectWriter(std::string& out) : out_(out) { out_.push_back('{'); }
  void Emit(std::string_view name, FieldValue value) override {
    if (!first_) out_.push_back(',');
    first_ = false;
    AppendJsonString(out_, name);
    out_.push_back(':');
    AppendJsonValue(out_, value);
  }
  void Finish() { out_.push_back('}'); }

 private:
  std::string& out_;
  bool first_ = true;
};

bool StartsWithIsoDate(std::string_view line) {
  if (line.size() < 11) return false;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (line[i] < '0' || line[i] > '9') return false;
  }
  return line[4] == '-' && line[7] == '-' && line[10] == ' ';
}

void ParseWebLine(const Record& record, FieldEmitter& emitter) {
  if (!record.schema.empty()) {
    ParseW3cLine(record.data, record.schema, emitter);
  } else if (StartsWithIsoDate(record.data)) {
    // W3C lines without a "#Fields:" directive: IIS's default fields.
    ParseW3cLine(record.data, {}, emitter);
  } else {
    ParseAccessLine(record.data, emitter);
  }
}

// Passes every field of a syslog line on, and keeps its message: Sysmon for Linux writes each
// event as its XML (<Event>...</Event>) in the message of a syslog line.
class SyslogMessageKeeper final : public FieldEmitter {
 public:
  explicit SyslogMessageKeeper(FieldEmitter& inner) : inner_(inner) {}
  void Emit(std::string_view name, FieldValue value) override {
    if (name == "message") message_ = value.text;
    inner_.Emit(name, value);  // which keeps only what it wants
  }
  [[nodiscard]] bool Wants(std::string_view name) const override {
    return name == "message" || inner_.Wants(name);
  }
  void OfferTime(std::string_view text, int rank) override { inner_.OfferTime(text, rank); }
  // The message when it is an event's XML, else empty.
  [[nodiscard]] std::string_view event_xml() const {
    return message_.substr(0, 7) == "<Event>" && message_.size() >= 15 &&
                   message_.substr(message_.size() - 8) == "</Event>"
               ? message_
               : std::string_view();
  }

 private:
  FieldEmitter& inner_;
  std::string_view message_;
};

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\n' || text.front() == '\r' ||
                           text.front() == '\t')) {
    text.remove_prefix(1);
  }
  while (!text.empty() && (text.back() == ' ' || text.back() == '\n' || text.back() == '\r' ||
                           text.back() == '\t')) {
    text.remove_suffix(1);
  }
  return text;
}

}  // namespace

struct EventParser::Impl {
  const FieldCatalog& catalog;
  const LogsourceMapping& mapping;
  std::optional<Logsource> declared;
  EventSink sink;
  JsonWalker walker;
  JsonFlattener json;
  bool walk_json = true;
  uint64_t walk_declined = 0;
  EvtxXmlFlattener xml;
  Arena scratch;  // ToJson only

  Impl(const FieldCatalog& c, const LogsourceMapping& m, std::optional<Logsource> d)
      : catalog(c), mapping(m), declared(std::move(d)), sink(c), walker(sink), json(sink) {}
};

EventParser::EventParser(const FieldCatalog& catalog, const LogsourceMapping& mapping,
                         std::optional<Logsource> declared)
    : impl_(std::make_unique<Impl>(catalog, mapping, std::move(declared))) {}

EventParser::~EventParser() = default;

void EventParser::SetCollectAllValues(bool on) { impl_->sink.set_all_values(on); }

void EventParser::SetJsonWalk(bool on) { impl_->walk_json = on; }

uint64_t EventParser::json_walk_declined() const { return impl_->walk_declined; }

Result<void> EventParser::Parse(const Record& record, Event& event) {
  Impl& s = *impl_;
  event.Reset(s.catalog.size());
  event.raw = record.data;
  event.format = record.format;
  event.source_index = record.source_index;
  event.record_number = record.number;
  s.sink.Begin(event);
  switch (record.format) {
    case RecordFormat::kJson: {
      if (s.walk_json) {
        if (s.walker.Flatten(record.data)) break;
        // A line taken as a record unframed is one JSON value only if the walk, which
        // validates all of it, says so (simdjson leaves skipped values unchecked): otherwise
        // its reader frames the line again and this record comes back framed.
        if (record.whole_line) return Fail("a JSON line the walk declined is framed again");
        // Declined: simdjson parses the record again from the start.
        ++s.walk_declined;
        event.ClearValues();
        s.sink.Begin(event);
      }
      simdjson::error_code error = s.json.Flatten(record.data);
      if (error) {
        if (error == simdjson::INCORRECT_TYPE && !Trim(record.data).empty() &&
            Trim(record.data).front() != '{') {
          return Fail("the JSON value is not an object");
        }
        return Fail(std::string("invalid JSON: ") + simdjson::error_message(error));
      }
      break;
    }
    case RecordFormat::kEvtx: {
      auto flattened = record.outline.empty()
                           ? s.xml.Flatten(record.data, s.sink, event.arena())
                           : s.xml.FlattenOutline(record.data, record.outline, s.sink, event.arena(),
                                                  record.outline_shape);
      if (!flattened) return tl::unexpected(flattened.error());
      break;
    }
    case RecordFormat::kSyslog: {
      SyslogMessageKeeper keeper(s.sink);
      ParseSyslogLine(record.data, keeper, event.arena());
      // Sysmon for Linux: the event's own fields too (Channel Linux-Sysmon/Operational, Image,
      // CommandLine...), so its rules see it as they see Sysmon's events. XML that does not
      // parse leaves the syslog fields alone.
      if (const std::string_view xml = keeper.event_xml(); !xml.empty())
        (void)s.xml.Flatten(xml, s.sink, event.arena());
      break;
    }
    case RecordFormat::kWebAccess:
      ParseWebLine(record, s.sink);
      break;
    case RecordFormat::kText:
      s.sink.Emit("message", FieldValue{record.data, ValueType::kString});
      break;
  }
  s.mapping.Classify(event);
  if (!event.logsource.recognised && s.declared && !s.declared->empty()) {
    // The strings live in the parser (declared), which outlives every event it fills.
    event.logsource.recognised = true;
    event.logsource.id = 0;
    event.logsource.product = s.declared->product;
    if (!s.declared->service.empty()) event.logsource.AddService(s.declared->service);
    if (!s.declared->category.empty()) event.logsource.AddCategory(s.declared->category);
  }
  return {};
}

std::string EventParser::ToJson(const Record& record) {
  std::string out;
  ToJson(record, out);
  return out;
}

void EventParser::ToJson(const Record& record, std::string& out) {
  Impl& s = *impl_;
  out.clear();
  switch (record.format) {
    case RecordFormat::kJson:
      out.assign(Trim(record.data));
      return;
    case RecordFormat::kEvtx: {
      if (EvtxXmlToJson(record.data, record.outline, out, record.outline_shape)) return;
      // Unreadable XML still gets reported with its text.
      out.clear();
      JsonObjectWriter writer(out);
      writer.Emit("xml", FieldValue{record.data, ValueType::kString});
      writer.Finish();
      return;
    }
    default:
      break;
  }
  s.scratch.Reset();
  JsonObjectWriter writer(out);
  switch (record.format) {
    case RecordFormat::kSyslog: {
      SyslogMessageKeeper keeper(writer);
      ParseSyslogLine(record.data, keeper, s.scratch);
      if (const std::string_view xml = keeper.event_xml(); !xml.empty())
        (void)s.xml.Flatten(xml, writer, s.scratch);
      break;
    }
    case RecordFormat::kWebAccess:
      ParseWebLine(record, writer);
      break;
    default:
      writer.Emit("message", FieldValue{record.data, ValueType::kString});
      break;
  }
  writer.Finish();
}

}  // namespace yagura::event

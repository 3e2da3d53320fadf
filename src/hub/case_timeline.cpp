// The timeline of a case (rules in case_timeline.hpp).
//
// Written and imported entries are rows of case_timeline, read by (case_id, at, id); entries
// from links and evidence are made when a page is read and merged into it. There are at most a
// few thousand of those, so they are filtered in memory by the same predicates the SQL applies.
#include "hub/case_timeline.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>

#include "attack/technique_id.hpp"
#include "core/json_value.hpp"
#include "core/log_time.hpp"
#include "core/time.hpp"
#include "hub/crypto.hpp"
#include "hub/evidence.hpp"
#include "hub/text_checks.hpp"

namespace yagura::hub {
namespace {

constexpr std::array<std::string_view, 7> KIND_NAMES = {"event",  "alert",   "incident", "evidence",
                                                        "action", "finding", "note"};
constexpr std::array<std::string_view, 4> WRITABLE_KINDS = {"event", "action", "finding", "note"};

constexpr std::string_view ENTRY_COLUMNS =
    "id, at, kind, title, detail, host, account, source, level, techniques, origin, import_id, "
    "created_by, created_at";

constexpr size_t TITLE_MAX = 500;
// The time of an entry read without one: passed over by the import, counted.
constexpr int64_t TIMELESS = INT64_MIN;
constexpr size_t FIELD_MAX = 500;
constexpr size_t TECHNIQUES_MAX = 100;

CaseError Invalid(std::string message, std::string field) {
  return InvalidCaseField(std::move(message), std::move(field));
}

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// ",T1059,T1003.001," so that LIKE finds a technique and its sub-techniques by their bounds.
std::string JoinTechniques(const std::vector<std::string>& techniques) {
  if (techniques.empty()) return "";
  std::string out = ",";
  for (const auto& id : techniques) out += id + ",";
  return out;
}

std::vector<std::string> SplitTechniques(std::string_view text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string_view::npos) comma = text.size();
    if (comma > start) out.emplace_back(text.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

TimelineEntry RowToEntry(const std::vector<store::Field>& row) {
  TimelineEntry entry;
  entry.id = row[0].text();
  entry.at = row[1].as_int();
  entry.kind = row[2].text();
  entry.title = row[3].text();
  entry.detail = row[4].text();
  entry.host = row[5].text();
  entry.account = row[6].text();
  entry.source = row[7].text();
  entry.level = row[8].text();
  entry.techniques = SplitTechniques(row[9].text());
  entry.origin = row[10].text();
  entry.import_id = row[11].text();
  entry.created_by = row[12].text();
  entry.created_at = row[13].as_int();
  return entry;
}

void InsertEntry(store::Connection& connection, const std::string& case_id,
                 const TimelineEntry& entry) {
  connection.Execute(
      fmt::format("INSERT INTO case_timeline (case_id, host_key, data, {}) VALUES ($1, $2, $3, "
                  "$4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
                  ENTRY_COLUMNS),
      {store::Param{case_id}, store::Param{Lower(entry.host)}, store::Param{entry.data},
       store::Param{entry.id}, store::Param{entry.at}, store::Param{entry.kind},
       store::Param{entry.title}, store::Param{entry.detail}, store::Param{entry.host},
       store::Param{entry.account}, store::Param{entry.source}, store::Param{entry.level},
       store::Param{JoinTechniques(entry.techniques)}, store::Param{entry.origin},
       store::Param{entry.import_id}, store::Param{entry.created_by},
       store::Param{entry.created_at}});
}

int64_t StoredEntries(store::Connection& connection, const std::string& case_id) {
  return connection
      .Query("SELECT COUNT(*) FROM case_timeline WHERE case_id = $1", {store::Param{case_id}})
      .rows[0][0]
      .as_int();
}

// ---- reading imported lines ----------------------------------------------------------------

const JsonValue* Member(const JsonValue& object, std::string_view key) {
  return object.is_object() ? object.Find(key) : nullptr;
}

std::string StringMember(const JsonValue& object, std::string_view key) {
  const JsonValue* value = Member(object, key);
  if (value == nullptr) return "";
  if (value->is_string()) return value->as_string();
  if (value->is_number())
    return value->is_integer() ? std::to_string(value->as_int())
                               : fmt::format("{}", value->as_double());
  return "";
}

std::string ScalarText(const JsonValue& value) {
  if (value.is_string()) return value.as_string();
  if (value.is_null()) return "null";
  return value.Serialize();
}

// "Field: value ¦ Field: value", as the scan's CSV and Timesketch outputs write details.
std::string DetailsText(const JsonValue* details) {
  if (details == nullptr) return "";
  if (details->is_string()) return details->as_string();
  if (!details->is_object()) return "";
  std::string out;
  for (const auto& [key, value] : details->as_object()) {
    if (!out.empty()) out += " \xC2\xA6 ";
    out += key + ": " + ScalarText(value);
  }
  return out;
}

std::vector<std::string> TagsOf(const JsonValue* tags) {
  std::vector<std::string> out;
  if (tags == nullptr) return out;
  if (tags->is_array()) {
    for (const auto& tag : tags->as_array()) {
      if (tag.is_string()) out.push_back(tag.as_string());
    }
  } else if (tags->is_string()) {
    // Timesketch lines carry them as one text, "attack.t1003;attack.credential-access".
    std::string_view text = tags->as_string();
    size_t start = 0;
    while (start <= text.size()) {
      size_t end = text.find_first_of(";,", start);
      if (end == std::string_view::npos) end = text.size();
      std::string_view tag = text.substr(start, end - start);
      while (!tag.empty() && tag.front() == ' ') tag.remove_prefix(1);
      while (!tag.empty() && tag.back() == ' ') tag.remove_suffix(1);
      if (!tag.empty()) out.emplace_back(tag);
      start = end + 1;
    }
  }
  return out;
}

// A time as a log wrote it (RFC 3339, Sysmon's, syslog's without a year, an access log's); a
// syslog time takes the year that puts it nearest to `reference_ms`, the import's time, as a
// scan did when it read the line.
std::optional<int64_t> TimeMember(const JsonValue& object, std::string_view key,
                                  int64_t reference_ms) {
  const JsonValue* value = Member(object, key);
  if (value == nullptr || !value->is_string()) return std::nullopt;
  return ParseEventTimeMs(value->as_string(), reference_ms);
}

std::string SourceOf(const JsonValue* source) {
  if (source == nullptr || !source->is_object()) return "";
  std::string file = StringMember(*source, "file");
  std::string record = StringMember(*source, "record");
  if (file.empty()) return "";
  return record.empty() ? file : file + " #" + record;
}

// The data kept of a line: the line itself, or without its raw event when that is too long.
std::string KeptData(std::string_view line, const JsonValue& object) {
  if (line.size() <= TIMELINE_DATA_MAX) return std::string(line);
  JsonValue copy = JsonValue::MakeObject();
  for (const auto& [key, value] : object.as_object()) {
    if (key != "event") copy.Set(key, value);
  }
  std::string text = copy.Serialize();
  return text.size() <= TIMELINE_DATA_MAX ? text : std::string();
}

// One line of `yagura scan`'s JSON output (a rule, indicator or correlation alert).
std::optional<TimelineEntry> FromScanAlert(const JsonValue& line, int64_t reference_ms) {
  const JsonValue* rule = Member(line, "rule");
  const JsonValue* indicator = Member(line, "indicator");
  const JsonValue* correlation = Member(line, "correlation");
  const JsonValue* head = rule ? rule : indicator ? indicator : correlation;
  if (head == nullptr || !head->is_object()) return std::nullopt;
  auto at = TimeMember(line, "time", reference_ms);
  const JsonValue* time = Member(line, "time");
  const bool timeless = time == nullptr || time->is_null();
  if (!at && !timeless) return std::nullopt;
  TimelineEntry entry;
  entry.kind = "alert";
  entry.at = at.value_or(TIMELESS);
  entry.title = StringMember(*head, indicator ? "name" : "title");
  entry.level = StringMember(*head, "level");
  entry.techniques = attack::TechniquesOfTags(TagsOf(Member(*head, "tags")));
  entry.host = StringMember(line, "host");
  entry.source = SourceOf(Member(line, "source"));
  if (rule) {
    entry.detail = DetailsText(Member(line, "details"));
  } else if (indicator) {
    std::string found;
    if (const JsonValue* values = Member(line, "matched_values"); values && values->is_array()) {
      for (const auto& value : values->as_array()) {
        if (!found.empty()) found += " \xC2\xA6 ";
        found += StringMember(value, "field") + ": " + StringMember(value, "value");
      }
    }
    entry.detail = found;
  } else {
    std::string group;
    if (const JsonValue* members = Member(line, "group"); members && members->is_object()) {
      for (const auto& [key, value] : members->as_object()) {
        if (!group.empty()) group += " \xC2\xA6 ";
        group += key + ": " + ScalarText(value);
      }
    }
    entry.detail =
        fmt::format("{} of {} events{}{}", StringMember(*head, "type"), StringMember(line, "count"),
                    group.empty() ? "" : " \xC2\xA6 ", group);
    if (auto first = TimeMember(line, "first_time", reference_ms)) entry.at = *first;
  }
  if (entry.title.empty()) return std::nullopt;
  return entry;
}

// One Timesketch JSONL event: message, and datetime or timestamp (microseconds).
std::optional<TimelineEntry> FromTimesketch(const JsonValue& line, int64_t reference_ms) {
  std::string message = StringMember(line, "message");
  if (message.empty()) return std::nullopt;
  std::optional<int64_t> at = TimeMember(line, "datetime", reference_ms);
  if (!at) {
    const JsonValue* timestamp = Member(line, "timestamp");
    if (timestamp != nullptr && timestamp->is_number()) {
      at = timestamp->is_integer() ? timestamp->as_int() / 1000
                                   : static_cast<int64_t>(timestamp->as_double() / 1000);
    }
  }
  if (!at) return std::nullopt;
  TimelineEntry entry;
  // yagura scan marks an alert of no time so, at the epoch.
  entry.at = StringMember(line, "timestamp_desc") == "No event time" ? TIMELESS : *at;
  entry.title = message;
  const bool alert = Member(line, "rule_title") != nullptr || Member(line, "alert_type") != nullptr;
  entry.kind = alert ? "alert" : "event";
  entry.level = StringMember(line, "level");
  for (std::string_view key : {"host", "hostname", "computer_name", "Computer"}) {
    entry.host = StringMember(line, key);
    if (!entry.host.empty()) break;
  }
  for (std::string_view key : {"user", "username", "account"}) {
    entry.account = StringMember(line, key);
    if (!entry.account.empty()) break;
  }
  std::string file = StringMember(line, "source_file");
  if (file.empty()) file = StringMember(line, "filename");
  std::string record = StringMember(line, "source_record");
  entry.source = record.empty() || file.empty() ? file : file + " #" + record;
  if (entry.source.empty()) entry.source = StringMember(line, "data_type");
  entry.detail = StringMember(line, "details");
  if (entry.detail.empty()) entry.detail = StringMember(line, "timestamp_desc");
  entry.techniques = attack::TechniquesOfTags(TagsOf(Member(line, "rule_tags")));
  if (entry.techniques.empty())
    entry.techniques = attack::TechniquesOfTags(TagsOf(Member(line, "tags")));
  return entry;
}

// Cuts text to `max` code points (imported text is kept, not refused, when long).
std::string Clip(std::string text, size_t max) {
  if (CodePoints(text) <= max) return text;
  size_t points = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80 && ++points > max) {
      text.resize(i);
      break;
    }
  }
  return text;
}

// ---- entries from links and evidence ---------------------------------------------------------

std::vector<TimelineEntry> LinkedEntries(store::Connection& connection, const Principal& principal,
                                         const Case& kase) {
  std::vector<TimelineEntry> entries;
  CaseLinks links = CaseLinksFor(connection, principal, kase);
  for (const auto& object : links.readable) {
    TimelineEntry entry;
    entry.id = object.link.type + ":" + object.link.object_id;
    entry.at = object.at;
    entry.kind = object.link.type;
    entry.title = object.link.type == "incident"
                      ? fmt::format("{} {}", object.reference, object.title)
                      : object.title;
    entry.detail = object.link.note;
    entry.host = object.host;
    entry.level = object.level;
    entry.techniques = object.techniques;
    entry.source =
        object.link.type == "alert" ? "alert " + object.link.object_id : object.reference;
    entry.origin = "linked";
    entry.created_at = object.link.added_at;
    entries.push_back(std::move(entry));
  }
  auto evidence = ListEvidence(connection, principal, kase.id);
  if (evidence) {
    for (const auto& item : *evidence) {
      TimelineEntry entry;
      entry.id = "evidence:" + item.id;
      entry.at = item.registration.acquired_at;
      entry.kind = "evidence";
      // The kind says it is the acquisition, in the reader's language.
      entry.title = fmt::format("{} {}", item.reference, item.registration.label);
      entry.detail = item.registration.description;
      entry.host = item.registration.source_host.value_or("");
      entry.account = item.registration.acquired_by;
      entry.source = item.registration.acquisition_method.value_or("");
      entry.origin = "linked";
      entry.created_by = item.created_by;
      entry.created_at = item.created_at;
      entries.push_back(std::move(entry));
    }
  }
  return entries;
}

bool HasTechnique(const std::vector<std::string>& techniques, std::string_view wanted) {
  for (const auto& id : techniques) {
    if (id == wanted || (id.size() > wanted.size() && id.compare(0, wanted.size(), wanted) == 0 &&
                         id[wanted.size()] == '.')) {
      return true;
    }
  }
  return false;
}

bool Matches(const TimelineEntry& entry, const TimelineFilter& filter) {
  if (filter.from && entry.at < *filter.from) return false;
  if (filter.to && entry.at >= *filter.to) return false;
  if (!filter.kinds.empty() &&
      std::find(filter.kinds.begin(), filter.kinds.end(), entry.kind) == filter.kinds.end()) {
    return false;
  }
  if (filter.host && Lower(entry.host) != Lower(*filter.host)) return false;
  if (filter.technique && !HasTechnique(entry.techniques, *filter.technique)) return false;
  if (filter.text) {
    std::string needle = Lower(*filter.text);
    if (Lower(entry.title).find(needle) == std::string::npos &&
        Lower(entry.detail).find(needle) == std::string::npos) {
      return false;
    }
  }
  return true;
}

std::string LikePattern(std::string_view text) {
  std::string pattern = "%";
  for (char c : Lower(text)) {
    if (c == '%' || c == '_' || c == '\\') pattern += '\\';
    pattern += c;
  }
  return pattern + "%";
}

}  // namespace

std::span<const std::string_view> TimelineKindNames() { return KIND_NAMES; }
std::span<const std::string_view> WritableTimelineKindNames() { return WRITABLE_KINDS; }

CaseResult<TimelineEntry> AddTimelineEntry(store::Connection& connection,
                                           const Principal& principal, std::string_view case_id,
                                           const TimelineEntryCreate& create, int64_t now_ms) {
  auto kase = CaseForWork(connection, principal, case_id);
  if (!kase) return tl::unexpected(kase.error());
  if (std::find(WRITABLE_KINDS.begin(), WRITABLE_KINDS.end(), create.kind) ==
      WRITABLE_KINDS.end()) {
    return tl::unexpected(Invalid("kind is event, action, finding or note", "kind"));
  }
  if (create.title.empty() || !ValidText(create.title, TITLE_MAX)) {
    return tl::unexpected(
        Invalid(fmt::format("title must be 1 to {} characters of UTF-8 text", TITLE_MAX), "title"));
  }
  if (!ValidText(create.detail, CASE_TEXT_MAX)) {
    return tl::unexpected(
        Invalid(fmt::format("detail must be at most {} characters of UTF-8 text", CASE_TEXT_MAX),
                "detail"));
  }
  for (auto [field, text] : {std::pair<std::string_view, const std::string*>{"host", &create.host},
                             {"account", &create.account},
                             {"source", &create.source}}) {
    if (!ValidText(*text, FIELD_MAX)) {
      return tl::unexpected(
          Invalid(fmt::format("{} must be at most {} characters of UTF-8 text", field, FIELD_MAX),
                  std::string(field)));
    }
  }
  if (create.techniques.size() > TECHNIQUES_MAX) {
    return tl::unexpected(
        Invalid(fmt::format("an entry names at most {} techniques", TECHNIQUES_MAX), "techniques"));
  }
  std::vector<std::string> techniques;
  for (size_t i = 0; i < create.techniques.size(); ++i) {
    auto id = attack::NormalizeTechniqueId(create.techniques[i]);
    if (!id) {
      std::string field = fmt::format("techniques[{}]", i);
      return tl::unexpected(Invalid(
          fmt::format("{} is not an ATT&CK technique id (T1059, T1003.001)", field), field));
    }
    if (std::find(techniques.begin(), techniques.end(), *id) == techniques.end()) {
      techniques.push_back(*id);
    }
  }
  if (StoredEntries(connection, kase->id) >= static_cast<int64_t>(TIMELINE_PER_CASE_MAX)) {
    return RefuseCase(CaseErrorKind::kConflict,
                      fmt::format("a case's timeline holds at most {} written and imported "
                                  "entries",
                                  TIMELINE_PER_CASE_MAX));
  }
  TimelineEntry entry;
  entry.id = NewId();
  entry.at = create.at;
  entry.kind = create.kind;
  entry.title = create.title;
  entry.detail = create.detail;
  entry.host = create.host;
  entry.account = create.account;
  entry.source = create.source;
  entry.techniques = std::move(techniques);
  entry.origin = "written";
  entry.created_by = principal.user_id;
  entry.created_at = now_ms;
  InsertEntry(connection, kase->id, entry);
  JsonValue detail = JsonValue::MakeObject();
  detail.Set("entry_id", entry.id);
  detail.Set("kind", entry.kind);
  detail.Set("at", FormatTimestampMs(entry.at));
  RecordCaseActivity(connection, principal, *kase, "timeline_added", "case.timeline.add", detail,
                     now_ms);
  return entry;
}

CaseResult<TimelineImport> ImportTimeline(store::Connection& connection, const Principal& principal,
                                          std::string_view case_id, const std::string& source_name,
                                          std::string_view text, int64_t now_ms) {
  auto kase = CaseForWork(connection, principal, case_id);
  if (!kase) return tl::unexpected(kase.error());
  if (source_name.empty() || !ValidText(source_name, FIELD_MAX)) {
    return tl::unexpected(Invalid(
        fmt::format("source names what was imported, 1 to {} characters", FIELD_MAX), "source"));
  }
  if (!ValidUtf8(text)) {
    return tl::unexpected(Invalid("the body is not UTF-8 text", "body"));
  }
  TimelineImport import;
  import.id = NewId();
  import.case_id = kase->id;
  import.source_name = source_name;
  import.sha256 = Sha256Hex(text);
  import.imported_by = principal.user_id;
  import.imported_at = now_ms;
  std::vector<TimelineEntry> entries;
  std::string_view scan_format, sketch_format;
  size_t line_number = 0;
  for (size_t start = 0; start < text.size();) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
    std::string field = fmt::format("line {}", line_number);
    auto parsed = JsonValue::Parse(line);
    if (!parsed || !parsed->is_object()) {
      return tl::unexpected(Invalid(fmt::format("line {} is not a JSON object{}", line_number,
                                                parsed ? "" : ": " + parsed.error().message),
                                    field));
    }
    std::optional<TimelineEntry> entry = FromScanAlert(*parsed, now_ms);
    if (entry) {
      scan_format = "yagura-alerts";
    } else if ((entry = FromTimesketch(*parsed, now_ms))) {
      sketch_format = "timesketch";
    } else {
      return tl::unexpected(Invalid(
          fmt::format("line {} is neither an alert of yagura scan (rule, indicator or "
                      "correlation, and time) nor a Timesketch event (message, and datetime or "
                      "timestamp)",
                      line_number),
          field));
    }
    if (entries.size() >= TIMELINE_IMPORT_MAX) {
      return tl::unexpected(Invalid(
          fmt::format("an import holds at most {} entries: split the file", TIMELINE_IMPORT_MAX),
          field));
    }
    if (entry->at == TIMELESS) {
      ++import.without_time;
      if (import.without_time_lines.size() < 20) {
        import.without_time_lines.push_back(static_cast<int64_t>(line_number));
      }
      continue;
    }
    entry->title = Clip(std::move(entry->title), TITLE_MAX);
    entry->detail = Clip(std::move(entry->detail), CASE_TEXT_MAX);
    entry->host = Clip(std::move(entry->host), FIELD_MAX);
    entry->account = Clip(std::move(entry->account), FIELD_MAX);
    entry->source = Clip(std::move(entry->source), FIELD_MAX);
    entry->data = KeptData(line, *parsed);
    entries.push_back(std::move(*entry));
  }
  if (entries.empty()) {
    return tl::unexpected(Invalid(import.without_time > 0 ? "the body holds no entries with a time"
                                                          : "the body holds no entries",
                                  "body"));
  }
  if (StoredEntries(connection, kase->id) + static_cast<int64_t>(entries.size()) >
      static_cast<int64_t>(TIMELINE_PER_CASE_MAX)) {
    return RefuseCase(CaseErrorKind::kConflict,
                      fmt::format("a case's timeline holds at most {} written and imported "
                                  "entries",
                                  TIMELINE_PER_CASE_MAX));
  }
  import.format = !scan_format.empty() && !sketch_format.empty() ? "mixed"
                  : !scan_format.empty()                         ? std::string(scan_format)
                                                                 : std::string(sketch_format);
  import.entries = static_cast<int64_t>(entries.size());
  import.first_at = entries.front().at;
  import.last_at = entries.front().at;
  for (auto& entry : entries) {
    import.first_at = std::min(import.first_at, entry.at);
    import.last_at = std::max(import.last_at, entry.at);
    entry.id = NewId();
    entry.origin = "imported";
    entry.import_id = import.id;
    entry.created_by = principal.user_id;
    entry.created_at = now_ms;
    InsertEntry(connection, kase->id, entry);
  }
  connection.Execute(
      "INSERT INTO case_timeline_imports (id, case_id, source_name, format, entries, first_at, "
      "last_at, sha256, imported_by, imported_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, "
      "$10)",
      {store::Param{import.id}, store::Param{import.case_id}, store::Param{import.source_name},
       store::Param{import.format}, store::Param{import.entries}, store::Param{import.first_at},
       store::Param{import.last_at}, store::Param{import.sha256}, store::Param{import.imported_by},
       store::Param{now_ms}});
  JsonValue detail = JsonValue::MakeObject();
  detail.Set("import_id", import.id);
  detail.Set("source", import.source_name);
  detail.Set("format", import.format);
  detail.Set("entries", import.entries);
  detail.Set("sha256", import.sha256);
  if (import.without_time > 0) detail.Set("without_time", import.without_time);
  RecordCaseActivity(connection, principal, *kase, "timeline_imported", "case.timeline.import",
                     detail, now_ms);
  return import;
}

CaseResult<std::vector<TimelineImport>> ListTimelineImports(store::Connection& connection,
                                                            const Principal& principal,
                                                            std::string_view case_id) {
  auto kase = CaseForRead(connection, principal, case_id);
  if (!kase) return tl::unexpected(kase.error());
  std::vector<TimelineImport> imports;
  for (const auto& row :
       connection
           .Query("SELECT id, case_id, source_name, format, entries, first_at, last_at, sha256, "
                  "imported_by, imported_at FROM case_timeline_imports WHERE case_id = $1 "
                  "ORDER BY imported_at, id",
                  {store::Param{kase->id}})
           .rows) {
    TimelineImport import;
    import.id = row[0].text();
    import.case_id = row[1].text();
    import.source_name = row[2].text();
    import.format = row[3].text();
    import.entries = row[4].as_int();
    import.first_at = row[5].as_int();
    import.last_at = row[6].as_int();
    import.sha256 = row[7].text();
    import.imported_by = row[8].text();
    import.imported_at = row[9].as_int();
    imports.push_back(std::move(import));
  }
  return imports;
}

CaseResult<int64_t> RemoveTimelineImport(store::Connection& connection, const Principal& principal,
                                         std::string_view case_id, std::string_view import_id,
                                         int64_t now_ms) {
  auto kase = CaseForRead(connection, principal, case_id);
  if (!kase) return tl::unexpected(kase.error());
  if (!can::RunCase(principal, kase->RoleOf(principal.user_id))) {
    return RefuseCase(CaseErrorKind::kForbidden, "only a case's leads remove an import");
  }
  if (kase->status == CaseStatus::kClosed) {
    return RefuseCase(CaseErrorKind::kConflict,
                      "the case is closed: reopen it before changing what it holds");
  }
  if (!PlausibleId(import_id)) {
    return RefuseCase(CaseErrorKind::kNotFound, "import not found");
  }
  store::Rows rows = connection.Query(
      "SELECT source_name, entries FROM case_timeline_imports WHERE id = $1 AND case_id = $2",
      {store::Param{std::string(import_id)}, store::Param{kase->id}});
  if (rows.empty()) return RefuseCase(CaseErrorKind::kNotFound, "import not found");
  int64_t removed =
      connection.Execute("DELETE FROM case_timeline WHERE case_id = $1 AND import_id = $2",
                         {store::Param{kase->id}, store::Param{std::string(import_id)}});
  connection.Execute("DELETE FROM case_timeline_imports WHERE id = $1",
                     {store::Param{std::string(import_id)}});
  JsonValue detail = JsonValue::MakeObject();
  detail.Set("import_id", std::string(import_id));
  detail.Set("source", rows.rows[0][0].text());
  detail.Set("entries", removed);
  RecordCaseActivity(connection, principal, *kase, "import_removed", "case.timeline.remove_import",
                     detail, now_ms);
  return removed;
}

CaseResult<TimelinePage> ListTimeline(store::Connection& connection, const Principal& principal,
                                      std::string_view case_id, const TimelineFilter& filter,
                                      std::optional<std::pair<int64_t, std::string>> after,
                                      int limit) {
  auto kase = CaseForRead(connection, principal, case_id);
  if (!kase) return tl::unexpected(kase.error());
  TimelinePage page;
  std::vector<store::Param> params{store::Param{kase->id}};
  auto next = [&](store::Param param) {
    params.push_back(std::move(param));
    return fmt::format("${}", params.size());
  };
  std::string sql = fmt::format("SELECT {} FROM case_timeline WHERE case_id = $1", ENTRY_COLUMNS);
  if (filter.from) sql += fmt::format(" AND at >= {}", next(*filter.from));
  if (filter.to) sql += fmt::format(" AND at < {}", next(*filter.to));
  if (!filter.kinds.empty()) {
    std::string list;
    for (const auto& kind : filter.kinds) list += (list.empty() ? "" : ", ") + next(kind);
    sql += fmt::format(" AND kind IN ({})", list);
  }
  if (filter.host) sql += fmt::format(" AND host_key = {}", next(Lower(*filter.host)));
  if (filter.technique) {
    sql +=
        fmt::format(" AND (techniques LIKE {} OR techniques LIKE {})",
                    next("%," + *filter.technique + ",%"), next("%," + *filter.technique + ".%"));
  }
  if (filter.text) {
    std::string pattern = next(LikePattern(*filter.text));
    sql += fmt::format(
        " AND (LOWER(title) LIKE {0} ESCAPE '\\' OR LOWER(detail) LIKE {0} "
        "ESCAPE '\\')",
        pattern);
  }
  if (after) {
    std::string at = next(after->first);
    std::string id = next(after->second);
    sql += fmt::format(" AND (at > {0} OR (at = {0} AND id > {1}))", at, id);
  }
  sql += fmt::format(" ORDER BY at, id LIMIT {}", limit + 1);
  std::vector<TimelineEntry> stored;
  for (const auto& row : connection.Query(sql, params).rows) stored.push_back(RowToEntry(row));

  std::vector<TimelineEntry> linked;
  for (auto& entry : LinkedEntries(connection, principal, *kase)) {
    if (!Matches(entry, filter)) continue;
    if (after &&
        (entry.at < after->first || (entry.at == after->first && entry.id <= after->second))) {
      continue;
    }
    linked.push_back(std::move(entry));
  }
  auto before = [](const TimelineEntry& a, const TimelineEntry& b) {
    return a.at != b.at ? a.at < b.at : a.id < b.id;
  };
  std::sort(linked.begin(), linked.end(), before);
  std::merge(std::make_move_iterator(stored.begin()), std::make_move_iterator(stored.end()),
             std::make_move_iterator(linked.begin()), std::make_move_iterator(linked.end()),
             std::back_inserter(page.items), before);
  if (page.items.size() > static_cast<size_t>(limit)) {
    page.items.resize(limit);
    page.more = true;
  }
  return page;
}

CaseResult<int64_t> CountTimeline(store::Connection& connection, const Principal& principal,
                                  std::string_view case_id) {
  auto kase = CaseForRead(connection, principal, case_id);
  if (!kase) return tl::unexpected(kase.error());
  return StoredEntries(connection, kase->id) +
         static_cast<int64_t>(LinkedEntries(connection, principal, *kase).size());
}

CaseResult<TimelineEntry> GetTimelineEntry(store::Connection& connection,
                                           const Principal& principal, std::string_view case_id,
                                           std::string_view entry_id) {
  auto kase = CaseForRead(connection, principal, case_id);
  if (!kase) return tl::unexpected(kase.error());
  if (!PlausibleId(entry_id)) return RefuseCase(CaseErrorKind::kNotFound, "entry not found");
  store::Rows rows = connection.Query(
      fmt::format("SELECT {}, data FROM case_timeline WHERE case_id = $1 AND id = $2",
                  ENTRY_COLUMNS),
      {store::Param{kase->id}, store::Param{std::string(entry_id)}});
  if (rows.empty()) return RefuseCase(CaseErrorKind::kNotFound, "entry not found");
  TimelineEntry entry = RowToEntry(rows.rows[0]);
  entry.data = rows.rows[0][14].text();
  return entry;
}

}  // namespace yagura::hub

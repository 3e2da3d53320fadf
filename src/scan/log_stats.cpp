#include "scan/log_stats.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <utility>

#include "core/json_writer.hpp"
#include "core/time.hpp"
#include "correlate/event_time.hpp"
#include "event/event.hpp"
#include "event/field_catalog.hpp"
#include "event/logsource_mapping.hpp"
#include "event/parser.hpp"
#include "scan/event_conditions.hpp"
#include "scan/parsed_records.hpp"
#include "scan/scanner.hpp"

namespace yagura::scan {

namespace {

std::string Join(const std::vector<std::string>& parts, std::string_view separator) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i != 0) out += separator;
    out += parts[i];
  }
  return out;
}

std::string_view FirstText(const event::Event& event, event::FieldId field) {
  if (field == event::NO_FIELD) return {};
  const event::FieldValue* value = event.First(field);
  return value != nullptr && value->type != event::ValueType::kNull ? value->text
                                                                    : std::string_view();
}

std::string EventKeyName(const LogStats::EventKey& key) {
  const std::string& source = key.channel.empty() ? key.provider : key.channel;
  return fmt::format("{} {}", source.empty() ? "(no channel)" : source, key.event_id);
}

// The `top` largest counts, largest first (ties in key order).
template <typename Key>
std::vector<std::pair<Key, uint64_t>> Largest(const std::map<Key, uint64_t>& counts, size_t top) {
  std::vector<std::pair<Key, uint64_t>> rows(counts.begin(), counts.end());
  std::stable_sort(rows.begin(), rows.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  if (rows.size() > top) rows.resize(top);
  return rows;
}

template <typename Key, typename Name>
void Table(std::string& out, const char* heading, const std::map<Key, uint64_t>& counts, size_t top,
           Name name) {
  if (counts.empty()) return;
  out += fmt::format("\n{} ({})\n", heading, counts.size());
  for (const auto& [key, count] : Largest(counts, top))
    out += fmt::format("  {:>9}  {}\n", count, name(key));
  if (counts.size() > top) out += fmt::format("  {:>9}  ... {} more\n", "", counts.size() - top);
}

// "KP North Korea, Pyongyang, AS131279 Star JV": a located address in one line.
std::string PlaceText(const intel::GeoLocation& where) {
  std::string text = where.country;
  auto add = [&](std::string_view separator, std::string_view part) {
    if (part.empty()) return;
    if (!text.empty()) text.append(separator);
    text.append(part);
  };
  add(" ", where.country_name);
  add(", ", where.city);
  if (where.asn != 0) add(", ", "AS" + std::to_string(where.asn));
  add(" ", where.as_org);
  return text;
}

}  // namespace

std::string KindName(const LogStats::Kind& kind) {
  if (!kind.recognised) return "unrecognised";
  std::vector<std::string> parts;
  if (!kind.product.empty()) parts.push_back("product=" + kind.product);
  if (!kind.services.empty()) parts.push_back("service=" + Join(kind.services, "+"));
  if (!kind.categories.empty()) parts.push_back("category=" + Join(kind.categories, "+"));
  return parts.empty() ? "(no product, service or category)" : Join(parts, " ");
}

Result<LogStats> CollectStats(const StatsOptions& options, Diagnostics& diagnostics) {
  // The databases are opened first: a wrong path is said before the logs are read.
  std::optional<intel::GeoIpDatabases> geo;
  if (!options.geo_ip_paths.empty()) {
    auto opened = intel::GeoIpDatabases::Open(options.geo_ip_paths);
    if (!opened) return tl::unexpected(opened.error());
    geo.emplace(std::move(*opened));
  }
  auto mapping = event::LogsourceMapping::LoadDefault();
  if (!mapping) return tl::unexpected(mapping.error());
  event::FieldCatalog catalog;
  mapping->InternFields(catalog);
  const event::FieldId channel = catalog.Intern("Channel");
  const event::FieldId provider = catalog.Intern("Provider_Name");
  const event::FieldId event_id = catalog.Intern("EventID");
  std::vector<event::FieldId> host_fields;
  for (std::string_view name : HOST_FIELDS) host_fields.push_back(catalog.Intern(name));
  const event::FieldId time_field =
      options.time_field.empty() ? event::NO_FIELD : catalog.Intern(options.time_field);
  const event::FieldId target_user = catalog.Intern("TargetUserName");
  const event::FieldId target_domain = catalog.Intern("TargetDomainName");
  const event::FieldId ip_address = catalog.Intern("IpAddress");
  const event::FieldId workstation = catalog.Intern("WorkstationName");
  const event::FieldId logon_type = catalog.Intern("LogonType");
  const event::FieldId program = catalog.Intern("program");
  const event::FieldId message = catalog.Intern("message");
  const event::FieldId user = catalog.Intern("user");
  const event::FieldId src_ip = catalog.Intern("src_ip");
  const event::FieldId record_id = catalog.Intern("EventRecordID");
  const event::FieldId computer = catalog.Intern("Computer");
  const event::FieldId subject_user = catalog.Intern("SubjectUserName");
  const event::FieldId subject_domain = catalog.Intern("SubjectDomainName");
  RecordIdGaps gaps;
  std::optional<EventConditions> where;
  if (!options.conditions.empty()) {
    auto compiled = EventConditions::Compile(options.conditions, catalog);
    if (!compiled) return tl::unexpected(compiled.error());
    where = std::move(*compiled);
  }
  event::EventParser parser(catalog, *mapping, options.declared_logsource);
  parser.SetCollectAllValues(false);

  LogStats stats;
  // The year of an RFC 3164 time: nearest now, then nearest the record before.
  int64_t reference_ms = NowMs();
  LogStats::Kind kind;
  LogStats::EventKey key;
  LogStats::LogonKey logon;
  const std::string* counted_file_name = nullptr;
  uint64_t* counted_file = nullptr;
  LogStats::Span* file_span = nullptr;
  auto on_parsed = [&](const std::string& path, const event::Record&, const event::Event& event) {
    // Record ids of EVTX files: every record counts, whatever --where keeps, as a gap is in
    // the file. (Exports in other formats are often filtered: their gaps would say nothing.)
    if (event.format == event::RecordFormat::kEvtx) {
      const std::string_view id_text = FirstText(event, record_id);
      uint64_t id = 0;
      const auto [end, error] =
          std::from_chars(id_text.data(), id_text.data() + id_text.size(), id);
      if (error == std::errc() && end == id_text.data() + id_text.size() && !id_text.empty()) {
        gaps.Add(path, FirstText(event, channel), FirstText(event, computer), id,
                 correlate::EventTimeMs(event, time_field, reference_ms));
      }
    }
    if (where && !where->Hold(event)) {
      ++stats.records_not_where;
      return true;
    }
    // The file's count and span, found once a run of records from the same file.
    if (counted_file == nullptr || *counted_file_name != path) {
      auto entry = stats.files.try_emplace(path, 0).first;
      counted_file_name = &entry->first;
      counted_file = &entry->second;
      file_span = &stats.file_spans[path];
    }
    ++*counted_file;
    const event::LogsourceClass& cls = event.logsource;
    kind.recognised = cls.recognised;
    kind.product.assign(cls.product);
    kind.services.assign(cls.services.begin(), cls.services.begin() + cls.service_count);
    kind.categories.assign(cls.categories.begin(), cls.categories.begin() + cls.category_count);
    if (!kind.recognised) {
      kind.product.clear();
      kind.services.clear();
      kind.categories.clear();
    }
    ++stats.kinds[kind];
    key.event_id.assign(FirstText(event, event_id));
    key.channel.assign(FirstText(event, channel));
    if (!key.event_id.empty()) {
      key.provider.assign(key.channel.empty() ? FirstText(event, provider) : std::string_view());
      ++stats.events[key];
    }
    std::string_view host;
    for (event::FieldId field : host_fields) {
      host = FirstText(event, field);
      if (!host.empty()) {
        ++stats.hosts[std::string(host)];
        break;
      }
    }
    const auto time = correlate::EventTimeMs(event, time_field, reference_ms);
    if (time) {
      reference_ms = *time;
      WidenSpan(stats.first_ms, stats.last_ms, *time);
      WidenSpan(file_span->first_ms, file_span->last_ms, *time);
      ++stats.days[FormatTimestampMs(*time).substr(0, 10)];
    } else {
      ++stats.records_without_time;
    }

    // Logons: Windows 4624/4625 and sshd's accepted and failed authentications.
    std::optional<bool> succeeded;
    if (key.channel == "Security" && (key.event_id == "4624" || key.event_id == "4625")) {
      succeeded = key.event_id == "4624";
      logon.account.assign(FirstText(event, target_user));
      if (std::string_view domain = FirstText(event, target_domain);
          !domain.empty() && domain != "-")
        logon.account.insert(0, std::string(domain) + "\\");
      std::string_view source = FirstText(event, ip_address);
      if (source.empty() || source == "-") source = FirstText(event, workstation);
      logon.source.assign(source == "-" ? std::string_view() : source);
      logon.method = "type " + std::string(FirstText(event, logon_type));
    } else if (FirstText(event, program) == "sshd") {
      const std::string_view text = FirstText(event, message);
      for (const auto& [prefix, outcome] : {std::pair{std::string_view("Accepted "), true},
                                            std::pair{std::string_view("Failed "), false}}) {
        if (text.substr(0, prefix.size()) != prefix) continue;
        const std::string_view rest = text.substr(prefix.size());
        const std::string_view method = rest.substr(0, rest.find(' '));
        if (rest.substr(method.size()).substr(0, 5) != " for ") break;
        succeeded = outcome;
        logon.account.assign(FirstText(event, user));
        logon.source.assign(FirstText(event, src_ip));
        logon.method = "ssh " + std::string(method);
        break;
      }
    }
    // Logs cleared: by the Eventlog service, Security's own 1102 and System's 104 (whose
    // UserData names the channel cleared, a second value of Channel).
    if (FirstText(event, provider) == "Microsoft-Windows-Eventlog" &&
        ((key.channel == "Security" && key.event_id == "1102") ||
         (key.channel == "System" && key.event_id == "104"))) {
      if (stats.logs_cleared_count++ < LogStats::MAX_LOGS_CLEARED) {
        LogStats::LogCleared cleared;
        cleared.time_ms = time;
        cleared.computer.assign(FirstText(event, computer));
        const auto channels = event.Values(channel);
        cleared.channel = key.channel;
        for (const event::FieldValue& value : channels) {
          if (value.type == event::ValueType::kString && !value.text.empty())
            cleared.channel.assign(value.text);  // the last: UserData's, when it names one
        }
        cleared.by.assign(FirstText(event, subject_user));
        if (std::string_view domain = FirstText(event, subject_domain); !domain.empty())
          cleared.by.insert(0, std::string(domain) + "\\");
        cleared.file = path;
        stats.logs_cleared.push_back(std::move(cleared));
      }
    }
    if (succeeded) {
      logon.host.assign(host);
      LogStats::LogonCounts& counts = stats.logons[logon];
      ++(*succeeded ? counts.succeeded : counts.failed);
      if (time) WidenSpan(counts.first_ms, counts.last_ms, *time);
    }
    return true;
  };
  CopyReadCounts(ReadParsedRecords(options.inputs, options.format, parser, diagnostics, on_parsed),
                 stats);
  stats.record_id_holes = gaps.Summary();
  // A timeline: by time, the untimed last, ties in input order.
  std::stable_sort(stats.logs_cleared.begin(), stats.logs_cleared.end(),
                   [](const LogStats::LogCleared& a, const LogStats::LogCleared& b) {
                     if (!a.time_ms || !b.time_ms)
                       return a.time_ms.has_value() > b.time_ms.has_value();
                     return *a.time_ms < *b.time_ms;
                   });
  stats.record_id_numberings_scattered = gaps.scattered();
  if (geo) {
    stats.geo_ip = true;
    for (const auto& [key, counts] : stats.logons) {
      if (key.source.empty() || stats.source_locations.contains(key.source)) continue;
      if (const intel::GeoLocation* where = geo->Lookup(key.source))
        stats.source_locations.emplace(key.source, *where);
    }
  }
  return stats;
}

std::string RenderStats(const LogStats& s, size_t top) {
  std::string out;
  out += fmt::format("files      {} read, {} unreadable\n", s.files_read, s.files_failed);
  out += fmt::format("records    {} read, {} skipped\n", s.records_read, s.records_skipped);
  if (s.records_not_where)
    out += fmt::format(
        "where      {} records where the --where conditions do not hold: not "
        "counted below\n",
        s.records_not_where);
  if (s.first_ms) {
    out += fmt::format("time       {} to {}", FormatTimestampMs(*s.first_ms),
                       FormatTimestampMs(*s.last_ms));
    if (s.records_without_time)
      out += fmt::format(" ({} without a readable time)", s.records_without_time);
    out += "\n";
  } else if (s.records_read) {
    out += "time       no record has a readable time\n";
  }
  uint64_t unrecognised = 0;
  for (const auto& [kind, count] : s.kinds)
    if (!kind.recognised) unrecognised += count;
  if (unrecognised)
    out += fmt::format(
        "           {} records of unrecognised source: rules with a logsource will not see "
        "them unless scan --logsource says what they are\n",
        unrecognised);
  Table(out, "Kinds, as rules' logsources see them", s.kinds, top,
        [](const LogStats::Kind& kind) { return KindName(kind); });
  Table(out, "Event ids (channel or provider, id)", s.events, top,
        [](const LogStats::EventKey& key) { return EventKeyName(key); });
  Table(out, "Hosts", s.hosts, top, [](const std::string& host) { return host; });
  // Days in order: a timeline, not a ranking.
  if (!s.days.empty()) {
    out += fmt::format("\nDays (UTC) ({})\n", s.days.size());
    size_t shown = 0;
    for (const auto& [day, count] : s.days) {
      if (shown++ == top) {
        out += fmt::format("  {:>9}  ... {} more, to {}\n", "", s.days.size() - top,
                           s.days.rbegin()->first);
        break;
      }
      out += fmt::format("  {:>9}  {}\n", count, day);
    }
  }
  if (!s.logons.empty()) {
    std::vector<std::pair<LogStats::LogonKey, LogStats::LogonCounts>> rows(s.logons.begin(),
                                                                           s.logons.end());
    // Failures first: a brute force stands out; then the most frequent.
    std::stable_sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) {
      return std::pair(a.second.failed, a.second.succeeded) >
             std::pair(b.second.failed, b.second.succeeded);
    });
    out += fmt::format("\nLogons ({}): succeeded, failed, account, source, method, host, when\n",
                       rows.size());
    for (size_t i = 0; i < rows.size() && i < top; ++i) {
      const auto& [key, counts] = rows[i];
      std::string source = key.source.empty() ? "(no source)" : key.source;
      if (auto where = s.source_locations.find(key.source); where != s.source_locations.end())
        source += " [" + PlaceText(where->second) + "]";
      out += fmt::format("  {:>9} {:>9}  {} from {} ({}) on {}", counts.succeeded, counts.failed,
                         key.account.empty() ? "(no account)" : key.account, source, key.method,
                         key.host.empty() ? "(no host)" : key.host);
      if (counts.first_ms)
        out += fmt::format(", {} to {}", FormatTimestampMs(*counts.first_ms),
                           FormatTimestampMs(*counts.last_ms));
      out += "\n";
    }
    if (rows.size() > top) out += fmt::format("  {:>19}  ... {} more\n", "", rows.size() - top);
  }
  if (s.logs_cleared_count) {
    out += fmt::format("\nLogs cleared ({}): when, channel, computer, by whom\n",
                       s.logs_cleared_count);
    for (size_t i = 0; i < s.logs_cleared.size() && i < top; ++i) {
      const LogStats::LogCleared& c = s.logs_cleared[i];
      out += fmt::format("  {}  {} on {} by {}\n",
                         c.time_ms ? FormatTimestampMs(*c.time_ms) : "(no time)            ",
                         c.channel, c.computer.empty() ? "(no computer)" : c.computer,
                         c.by.empty() ? "(no account)" : c.by);
    }
    if (s.logs_cleared_count > top)
      out += fmt::format("  ... {} more\n", s.logs_cleared_count - top);
  }
  if (!s.record_id_holes.empty()) {
    out += fmt::format(
        "\nRecord ids missing inside EVTX files ({}): deleted (a log edited record by record), "
        "lost with a damaged chunk, or left out when the file was saved from a filtered view. "
        "Nearly whole logs first: missing of the run, gaps, channel, computer, file, the largest "
        "gap\n",
        s.record_id_holes.size());
    for (size_t i = 0; i < s.record_id_holes.size() && i < top; ++i) {
      const RecordIdGaps::Holes& h = s.record_id_holes[i];
      const RecordIdGaps::Gap& gap = h.largest;
      out += fmt::format(
          "  {:>9} of {} ids missing in {} gaps: {} on {} in {}; largest ids {}", h.missing,
          h.last_id - h.first_id + 1, h.gaps, h.channel.empty() ? "(no channel)" : h.channel,
          h.computer.empty() ? "(no computer)" : h.computer, h.file, gap.first_missing);
      if (gap.last_missing != gap.first_missing) out += fmt::format("-{}", gap.last_missing);
      if (gap.before_ms && gap.after_ms)
        out += fmt::format(", between {} and {}", FormatTimestampMs(*gap.before_ms),
                           FormatTimestampMs(*gap.after_ms));
      out += "\n";
    }
    if (s.record_id_holes.size() > top)
      out += fmt::format("  {:>9}  ... {} more\n", "", s.record_id_holes.size() - top);
  }
  if (s.files.size() > 1) {
    Table(out, "Files, and the span of event times each covers", s.files, top,
          [&s](const std::string& file) {
            auto span = s.file_spans.find(file);
            if (span == s.file_spans.end() || !span->second.first_ms) return file;
            return fmt::format("{}  {} to {}", file, FormatTimestampMs(*span->second.first_ms),
                               FormatTimestampMs(*span->second.last_ms));
          });
  }
  return out;
}

std::string StatsJson(const LogStats& s) {
  std::string out;
  JsonWriter w(out);
  w.BeginObject();
  w.Key("files_read").Uint(s.files_read).Key("files_failed").Uint(s.files_failed);
  w.Key("records_read").Uint(s.records_read).Key("records_skipped").Uint(s.records_skipped);
  w.Key("records_not_where").Uint(s.records_not_where);
  w.Key("first_time").TimeOrNull(s.first_ms);
  w.Key("last_time").TimeOrNull(s.last_ms);
  w.Key("records_without_time").Uint(s.records_without_time);
  auto list = [&w](const std::vector<std::string>& items) {
    w.BeginArray();
    for (const std::string& item : items) w.String(item);
    w.EndArray();
  };
  w.Key("kinds").BeginArray();
  for (const auto& [kind, count] : Largest(s.kinds, s.kinds.size())) {
    w.BeginObject().Key("recognised").Bool(kind.recognised);
    w.Key("product").String(kind.product).Key("services");
    list(kind.services);
    w.Key("categories");
    list(kind.categories);
    w.Key("count").Uint(count).EndObject();
  }
  w.EndArray();
  w.Key("event_ids").BeginArray();
  for (const auto& [key, count] : Largest(s.events, s.events.size())) {
    w.BeginObject().Key("channel").String(key.channel).Key("provider").String(key.provider);
    w.Key("event_id").String(key.event_id).Key("count").Uint(count).EndObject();
  }
  w.EndArray();
  w.Key("hosts").BeginArray();
  for (const auto& [host, count] : Largest(s.hosts, s.hosts.size()))
    w.BeginObject().Key("host").String(host).Key("count").Uint(count).EndObject();
  w.EndArray();
  w.Key("days").BeginArray();
  for (const auto& [day, count] : s.days)
    w.BeginObject().Key("day").String(day).Key("count").Uint(count).EndObject();
  w.EndArray();
  w.Key("logons").BeginArray();
  for (const auto& [key, counts] : s.logons) {
    w.BeginObject().Key("host").String(key.host).Key("account").String(key.account);
    w.Key("source").String(key.source).Key("method").String(key.method);
    if (s.geo_ip) {
      // With --geo-ip: where the source is, null when no database knows it.
      w.Key("source_location");
      if (auto where = s.source_locations.find(key.source); where != s.source_locations.end()) {
        w.BeginObject();
        intel::WriteLocationMembers(w, where->second);
        w.EndObject();
      } else {
        w.Null();
      }
    }
    w.Key("succeeded").Uint(counts.succeeded).Key("failed").Uint(counts.failed);
    w.Key("first_time").TimeOrNull(counts.first_ms);
    w.Key("last_time").TimeOrNull(counts.last_ms);
    w.EndObject();
  }
  w.EndArray();
  w.Key("files").BeginArray();
  for (const auto& [file, count] : s.files) {
    w.BeginObject().Key("file").String(file).Key("count").Uint(count);
    if (auto span = s.file_spans.find(file); span != s.file_spans.end()) {
      w.Key("first_time").TimeOrNull(span->second.first_ms);
      w.Key("last_time").TimeOrNull(span->second.last_ms);
    }
    w.EndObject();
  }
  w.EndArray();
  w.Key("record_id_gaps").BeginArray();
  for (const RecordIdGaps::Holes& h : s.record_id_holes) {
    w.BeginObject().Key("file").String(h.file).Key("channel").String(h.channel);
    w.Key("computer").String(h.computer);
    w.Key("first_id").Uint(h.first_id).Key("last_id").Uint(h.last_id);
    w.Key("present").Uint(h.present).Key("missing").Uint(h.missing).Key("gaps").Uint(h.gaps);
    w.Key("largest_gap").BeginObject();
    w.Key("first_missing").Uint(h.largest.first_missing);
    w.Key("last_missing").Uint(h.largest.last_missing);
    w.Key("before_time").TimeOrNull(h.largest.before_ms);
    w.Key("after_time").TimeOrNull(h.largest.after_ms);
    w.EndObject().EndObject();
  }
  w.EndArray();
  w.Key("record_id_numberings_scattered").Uint(s.record_id_numberings_scattered);
  w.Key("logs_cleared_count").Uint(s.logs_cleared_count);
  w.Key("logs_cleared").BeginArray();
  for (const LogStats::LogCleared& c : s.logs_cleared) {
    w.BeginObject().Key("time").TimeOrNull(c.time_ms).Key("channel").String(c.channel);
    w.Key("computer").String(c.computer).Key("by").String(c.by).Key("file").String(c.file);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return out;
}

}  // namespace yagura::scan

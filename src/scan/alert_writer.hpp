// AlertWriter: formats alerts as JSON lines or CSV.
//
// JSON lines, one alert per line (the contract of `yagura scan --output-format jsonl`):
//   {"rule": {"id","title","level","status","author","tags","references"}, "time",
//    "source": {"file","record"}, "logsource": {...}, "event": {...}, "matched": [...],
//    "host", "details": {matched field: its value}}
// `host` is the event's Computer (or hostname...) or null; `details` holds the first value of
// each matched field, so that a reader sees why the rule fired without opening the event.
// Indicator alerts have "indicator" in place of "rule":
//   {"indicator": {"id","feed","name","pattern","type","level","tlp","confidence","labels",
//    "markings"}, "time", "source", "logsource", "event", "matched": [field names], "host",
//    "details": {}, "matched_values": [{"field","value"}]}
// Correlation alerts (docs/correlation.md) have "correlation" in place of "rule" and describe
// the window instead of one event:
//   {"correlation": {"id","title","level","status","type","author","tags","references",
//    "rules": [as written],"group_by","timespan": seconds,"generate"}, "alert_id", "group":
//    {field or alias: value}, "time": RFC 3339 of last_time, "first_time", "last_time",
//    "value": the aggregate compared, "count": matches in the window, "records": [{"file",
//    "record"}] (the window's matches, oldest first, at most 100)}
// `author` is always written: the Detection Rule License of SigmaHQ rules requires attribution.
// CSV has one header line and the columns of CSV_HEADER, with the event as JSON and, last,
// `host` and `details` ("Field: value ¦ Field: value", as Hayabusa's Details); for indicator
// alerts rule_id, rule_title and rule_author hold the indicator id, its name (or pattern) and
// its feed, and `matched` lists field=value pairs. For correlation alerts file and record are
// those of the window's first match, `matched` lists the group as field=value pairs and `event`
// holds {"alert_id","type","group","first_time","last_time","value","count","records"}.
// Timesketch (`--output-format timesketch`): one JSON line per alert with Timesketch's
// mandatory message ("[level] title"), datetime (the event time, RFC 3339) and timestamp_desc,
// then timestamp (microseconds), alert_type (rule, indicator, correlation), level, rule_id,
// rule_title, rule_author, rule_tags (';'-separated), source_file, source_record, product,
// service, category, matched (as in CSV), host, details (as in CSV) and event (the event's
// JSON as a string). An alert
// without a readable event time has the epoch and timestamp_desc "No event time".
// Not thread-safe: alerts are written from one thread, in input order. With a sorter, they are
// handed to it and written in order of event time when the writer finishes.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/json_writer.hpp"
#include "core/result.hpp"
#include "correlate/correlation_engine.hpp"
#include "event/event.hpp"
#include "intel/geo_ip.hpp"
#include "scan/scanner.hpp"
#include "scan/time_sorter.hpp"
#include "sigma/rule.hpp"

namespace yagura::scan {

// What an indicator alert says about its indicator (the `indicator` object of the output).
struct IndicatorAlertInfo {
  std::string_view id, feed, name, type, tlp, level;
  std::string pattern;
  int confidence = -1;
  const std::vector<std::string>* labels = nullptr;
  const std::vector<std::string>* markings = nullptr;
  // Where it was found: (field, value) pairs.
  std::vector<std::pair<std::string_view, std::string_view>> found;
};

// What a correlation alert says: the correlation, what fired, and where the window's matches
// are (file, record), oldest first.
struct CorrelationAlertInfo {
  const sigma::Correlation* correlation = nullptr;
  const correlate::CorrelationAlert* alert = nullptr;
  std::vector<std::pair<std::string_view, uint64_t>> records;
};

// One alert: from a Sigma rule (`rule` set), from an indicator (`indicator` set) or from a
// correlation rule (`correlation` set; the event fields are then unused).
// Where one address of an alerted event is (`scan --geo-ip`): the field that holds it, the
// address as written, and what the databases know of it.
struct GeoTag {
  std::string_view field;
  std::string_view address;
  const intel::GeoLocation* location = nullptr;
};

// The fields whose addresses --geo-ip locates: those the pivot keywords call addresses
// (IpAddress, SourceIp, DestinationIp, SourceAddress, c-ip, src_ip...).
[[nodiscard]] const std::vector<std::string_view>& AddressFields();
// The first located address of each of `fields` (ids and names, as interned) in `event`.
void LocateAddresses(const event::Event& event,
                     const std::vector<std::pair<event::FieldId, std::string_view>>& fields,
                     intel::GeoIpDatabases& databases, std::vector<GeoTag>& out);

struct AlertRecord {
  const sigma::Rule* rule = nullptr;
  const IndicatorAlertInfo* indicator = nullptr;
  const CorrelationAlertInfo* correlation = nullptr;
  std::string_view time;
  std::string_view file;
  uint64_t record = 0;
  const event::LogsourceClass* logsource = nullptr;
  std::string_view event_json;  // the whole event as a JSON object
  const std::vector<std::string_view>* matched = nullptr;
  std::string_view host;  // the event's host (Computer, hostname...), empty when it names none
  // The matched fields with their values (Engine::AppendFieldValues): what made a rule fire.
  const std::vector<std::pair<std::string_view, std::string_view>>* details = nullptr;
  // With --geo-ip: the event's located addresses (perhaps none); nullptr without it.
  const std::vector<GeoTag>* geo = nullptr;
};

// Appends "field: value" to `out`, after " ¦ " when `out` holds something: the flat form of
// an alert's details (CSV, Timesketch, the HTML report), as Hayabusa writes its Details.
void AppendDetail(std::string& out, std::string_view field, std::string_view value);
// Appends one CSV field (RFC 4180: quoted when it holds a comma, quote or line break).
void AppendCsvField(std::string& out, std::string_view field);

class AlertWriter {
 public:
  // Opens `path` ("" or "-" = stdout) for writing. With `sorter`, alerts are written in order
  // of event time by Finish().
  [[nodiscard]] static Result<AlertWriter> Open(const std::string& path, OutputFormat format,
                                                std::unique_ptr<TimeSorter> sorter = nullptr,
                                                bool geo_column = false);
  AlertWriter(AlertWriter&& other) noexcept;
  AlertWriter& operator=(AlertWriter&&) = delete;
  ~AlertWriter();

  // `time_ms`: the alert's event time, by which a sorter orders it (unused without one).
  void Write(const AlertRecord& alert, std::optional<int64_t> time_ms = std::nullopt);
  // Writes what the sorter holds, then flushes; returns an error when the output could not be
  // written (disk full, closed pipe) or the sorter failed.
  [[nodiscard]] Result<void> Finish();
  // After Finish: why the sorter kept alerts in memory past its budget (TimeSorter::
  // spill_problem); empty when it did not, or there was no sorter.
  [[nodiscard]] const std::string& spill_problem() const { return spill_problem_; }

  // Formats one alert as a JSON line (without the newline); exposed for tests and other sinks.
  // `rule_object`: the alert's `rule` object as FormatRuleObject writes it, when the caller
  // keeps it from alert to alert; written afresh when empty.
  static void FormatJson(const AlertRecord& alert, std::string& out,
                         std::string_view rule_object = {});
  // The `rule` object of a rule's alerts: the same for every alert of the rule.
  static void FormatRuleObject(const sigma::RuleInfo& info, std::string& out);

 private:
  static void WriteRuleObject(JsonWriter& w, const sigma::RuleInfo& info);
  static void FormatTail(JsonWriter& w, const AlertRecord& alert);
  static void FormatCorrelation(const CorrelationAlertInfo& info, std::string& out);
  // The correlation alert without its "correlation" object (the CSV `event` column).
  static void FormatCorrelationWindow(JsonWriter& w, const CorrelationAlertInfo& info);
  // An alert as the flat formats (CSV, Timesketch) show it.
  struct Flat;
  static void Flatten(const AlertRecord& alert, Flat& flat);
  static void FormatTimesketch(const Flat& flat, std::string_view product, std::string_view service,
                               std::string_view category, std::string_view event,
                               std::optional<int64_t> time_ms, std::string& out);
  AlertWriter(std::FILE* file, bool owned, OutputFormat format, std::string path);
  bool geo_column_ = false;  // CSV: the `geo` column (--geo-ip)
  // The stdio buffer of an owned file (destroyed after the destructor's fclose): glibc ignores
  // the size given to setvbuf without a buffer and writes every 4 KiB, a system call per two
  // EVTX alerts.
  std::unique_ptr<char[]> buffer_;
  std::FILE* file_;
  bool owned_;
  OutputFormat format_;
  std::string path_;
  std::string line_;
  bool failed_ = false;
  std::unique_ptr<TimeSorter> sorter_;
  std::string sort_error_;  // the sorter's first failure
  std::string spill_problem_;
  // Each rule's `rule` object, written at its first alert: escaping its title, tags and
  // references again for every alert cost a third of writing an EVTX alert. Keyed by the
  // rule's address: the rules of a scan outlive its writer.
  std::unordered_map<const sigma::RuleInfo*, std::string> rule_objects_;
};

}  // namespace yagura::scan

// `yagura stats`: what collected logs hold, before hunting in them. How many records, from
// when to when, of which kinds as Yagura routes them to rules (product, service, categories,
// or unrecognised: then `scan --logsource` is needed), which Windows channels and event ids,
// which hosts, which days, and who logged on from where. Hayabusa's log, event-id and
// computer metrics and its logon summary answer the same first questions of an investigator.
//
// Logons are Windows Security 4624 (succeeded) and 4625 (failed), by host, account
// (TargetDomainName\TargetUserName), source (IpAddress, else WorkstationName) and logon type;
// and sshd's "Accepted <method> for" and "Failed <method> for" lines, by host, user, source
// address and method.
//
// With --geo-ip, each logon source address is located once (intel/geo_ip.hpp): a logon to a
// ministry's server from another country's hosting network stands out in the summary.
//
// Whether the logs can be trusted comes first too: the logs cleared (Security 1102, System
// 104), and the record ids missing inside EVTX files (scan/record_id_gaps.hpp), which a log
// edited record by record leaves without any "cleared" event.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/diagnostics.hpp"
#include "core/result.hpp"
#include "event/input.hpp"
#include "event/logsource.hpp"
#include "intel/geo_ip.hpp"
#include "scan/record_id_gaps.hpp"

namespace yagura::scan {

struct StatsOptions {
  std::vector<std::string> inputs;  // files, directories (recursively), "-" for stdin
  event::InputFormat format = event::InputFormat::kAuto;
  std::optional<event::Logsource> declared_logsource;  // as `scan --logsource`
  std::string time_field;  // the event time's field (default: the format's own)
  // --where: only records where these Sigma conditions hold are counted
  // (scan/event_conditions.hpp).
  std::vector<std::string> conditions;
  // --geo-ip: MaxMind DB files or folders that locate the logons' source addresses.
  std::vector<std::string> geo_ip_paths;
};

struct LogStats {
  // An event kind as rules see it: its product, services and categories, "" when the event
  // was not recognised.
  struct Kind {
    bool recognised = false;
    std::string product;
    std::vector<std::string> services;
    std::vector<std::string> categories;
    auto operator<=>(const Kind&) const = default;
  };
  // A Windows event id (or any event with an EventID) of a channel, else of a provider.
  struct EventKey {
    std::string channel;
    std::string provider;
    std::string event_id;
    auto operator<=>(const EventKey&) const = default;
  };

  struct LogonKey {
    std::string host;
    std::string account;
    std::string source;
    std::string method;  // Windows: "type 3"; sshd: "ssh password"
    auto operator<=>(const LogonKey&) const = default;
  };
  struct LogonCounts {
    uint64_t succeeded = 0;
    uint64_t failed = 0;
    std::optional<int64_t> first_ms;
    std::optional<int64_t> last_ms;
  };

  // A Windows event log cleared: Security 1102, or System 104 for another channel, both
  // written by the Eventlog service itself.
  struct LogCleared {
    std::optional<int64_t> time_ms;
    std::string computer;
    std::string channel;  // the channel cleared
    std::string by;       // DOMAIN\user
    std::string file;
  };
  static constexpr size_t MAX_LOGS_CLEARED = 10'000;  // kept; more are counted only

  uint64_t files_read = 0;
  uint64_t files_failed = 0;
  uint64_t records_read = 0;
  uint64_t records_skipped = 0;
  uint64_t records_not_where = 0;   // read, but the --where conditions do not hold: not counted
  std::optional<int64_t> first_ms;  // the earliest and latest readable event times
  std::optional<int64_t> last_ms;
  uint64_t records_without_time = 0;
  std::map<Kind, uint64_t> kinds;
  std::map<EventKey, uint64_t> events;    // events that have an EventID
  std::map<std::string, uint64_t> hosts;  // the first value of the host fields scan reports
  std::map<std::string, uint64_t> days;   // UTC day of the event time, "2026-11-29"
  std::map<std::string, uint64_t> files;  // records per input file
  // Each file's earliest and latest readable event time: what span a log covers (a Security
  // log that holds two hours rolled over, or was cleared), as Hayabusa's log metrics show it.
  struct Span {
    std::optional<int64_t> first_ms;
    std::optional<int64_t> last_ms;
  };
  std::map<std::string, Span> file_spans;
  std::map<LogonKey, LogonCounts> logons;
  // With geo_ip_paths: the located logon sources, by address as written.
  bool geo_ip = false;
  std::map<std::string, intel::GeoLocation> source_locations;
  // EventRecordIDs missing inside the runs of EVTX files, each file, channel and computer
  // numbered apart (scan/record_id_gaps.hpp), the most nearly whole first; --where does not
  // narrow them.
  std::vector<RecordIdGaps::Holes> record_id_holes;
  // Logs cleared (the first MAX_LOGS_CLEARED read), by time, and how many there were.
  std::vector<LogCleared> logs_cleared;
  uint64_t logs_cleared_count = 0;
  uint64_t record_id_numberings_scattered = 0;

  // 0 everything read, 1 some input could not be read.
  [[nodiscard]] int ExitStatus() const { return files_failed || records_skipped ? 1 : 0; }
};

// "product=windows service=sysmon category=process_creation", several services or categories
// joined by "+"; "unrecognised".
[[nodiscard]] std::string KindName(const LogStats::Kind& kind);

// Reads and parses every record of `options.inputs`.
[[nodiscard]] Result<LogStats> CollectStats(const StatsOptions& options, Diagnostics& diagnostics);

// The summary as text (tables of the `top` largest counts each) and as one JSON object.
[[nodiscard]] std::string RenderStats(const LogStats& stats, size_t top);
[[nodiscard]] std::string StatsJson(const LogStats& stats);

}  // namespace yagura::scan

// `yagura search`: the records of log files that hold given strings or regular expressions, as
// an investigator looks for an indicator, a user name or a host across collected evidence
// without writing a rule (Chainsaw's and Hayabusa's `search`).
//
// Every value of a record is searched (EVTX records as evtx_dump renders them, JSON records'
// values, syslog and access-log fields), or only the named fields (Sigma field names, as rules
// read them). Matching ignores case (Unicode simple case folding, as Sigma's) unless asked not
// to; a record is found when any pattern occurs in one of its values, or with `match_all` when
// every pattern occurs in some value. Conditions in Sigma's own terms (`FIELD|modifiers=VALUE`,
// such as `IpAddress|cidr=203.0.113.0/24` or `EventID=4625`) must all hold as well: they are
// compiled into a rule of one selection each and decided by the Sigma evaluator, so every
// modifier means what it means in a rule. A time range limits the search as `scan
// --from/--to` does. Each record found is handed on with the values that matched and where
// they are.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/diagnostics.hpp"
#include "core/result.hpp"
#include "event/event.hpp"
#include "event/input.hpp"
#include "event/record.hpp"

namespace yagura::scan {

struct SearchOptions {
  std::vector<std::string> inputs;   // files, directories (recursively), "-" for stdin
  std::vector<std::string> strings;  // text to find inside a value
  std::vector<std::string> regexes;  // RE2 (else PCRE2) syntax
  std::vector<std::string> fields;   // only these fields (Sigma names); empty: every value
  // FIELD[|modifier...]=VALUE: Sigma conditions that must all hold. VALUE is a Sigma string
  // (`*` and `?` are wildcards, `\` escapes them), compared as a rule compares it.
  std::vector<std::string> conditions;
  bool match_all = false;            // every pattern must occur in the record, not just one
  bool match_case = false;           // compare with case
  event::InputFormat format = event::InputFormat::kAuto;
  std::optional<int64_t> from_ms;  // event time range, both ends included
  std::optional<int64_t> to_ms;
  std::string time_field;  // the event time's field (default: the format's own)
  uint64_t limit = 0;      // stop after this many records found (0: no limit)
};

struct SearchMatch {
  // Where the value is: the field name as given with `fields` or in a condition, else its path
  // in the record's JSON (what `yagura dump` prints), dotted, with array positions as numbers
  // ("Event.EventData.CommandLine").
  std::string field;
  std::string value;
};

struct SearchSummary {
  uint64_t files_read = 0;
  uint64_t files_failed = 0;
  uint64_t records_read = 0;
  uint64_t records_skipped = 0;  // could not be framed, decoded or parsed
  uint64_t records_found = 0;
  uint64_t records_outside_time_range = 0;  // with a time range
  uint64_t records_without_time = 0;        // with a time range: not searched
  bool stopped_at_limit = false;
  // 0 everything read, 1 some input could not be read.
  [[nodiscard]] int ExitStatus() const { return files_failed || records_skipped ? 1 : 0; }
};

// A record found. All of it is valid during the OnFound call only.
struct FoundRecord {
  const std::string& path;  // its file
  const event::Record& record;
  const event::Event& event;  // its parsed values
  const std::string& json;    // the whole record as JSON (EventParser::ToJson)
  const std::vector<SearchMatch>& matches;
  std::optional<int64_t> time_ms;  // its time (SearchOptions::time_field, else the format's)
};
using OnFound = std::function<void(const FoundRecord& found)>;

// Searches `options.inputs`. Fails (before reading anything) when no pattern or condition is
// given or one does not compile; unreadable inputs and records go to `diagnostics` and the
// summary.
[[nodiscard]] Result<SearchSummary> SearchRecords(const SearchOptions& options,
                                                  Diagnostics& diagnostics,
                                                  const OnFound& on_found);

}  // namespace yagura::scan

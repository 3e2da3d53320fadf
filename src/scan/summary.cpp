#include "scan/summary.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <utility>
#include <vector>

#include "core/json_writer.hpp"
#include "core/time.hpp"
#include "scan/pivot_keywords.hpp"

namespace yagura::scan {
namespace {

std::string HumanBytes(uint64_t bytes) {
  const char* units[] = {"B", "KB", "MB", "GB", "TB"};
  double value = static_cast<double>(bytes);
  int unit = 0;
  while (value >= 1000 && unit < 4) {
    value /= 1000;
    ++unit;
  }
  return unit == 0 ? fmt::format("{} B", bytes) : fmt::format("{:.1f} {}", value, units[unit]);
}

void Top(std::string& out, const char* heading, const std::map<std::string, uint64_t>& counts,
         size_t top) {
  std::vector<std::pair<std::string, uint64_t>> rows(counts.begin(), counts.end());
  std::stable_sort(rows.begin(), rows.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  out += fmt::format("\n{} ({})\n", heading, rows.size());
  for (size_t i = 0; i < rows.size() && i < top; ++i) {
    out += fmt::format("  {:>9}  {}\n", rows[i].second, rows[i].first);
  }
  if (rows.size() > top) out += fmt::format("  {:>9}  ... {} more\n", "", rows.size() - top);
}

}  // namespace

std::string RenderSummary(const ScanSummary& s, size_t top) {
  std::string out;
  out += "\nYagura scan summary\n";
  out += fmt::format("  rules      {} loaded, {} failed", s.rules_loaded, s.rules_failed);
  // What the selection (levels, tags, status, rule lists) left out, when it left anything.
  if (s.rules_in_files > s.rules_loaded + s.correlations_loaded)
    out += fmt::format("; {} of the {} in the files left out by the selection",
                       s.rules_in_files - s.rules_loaded - s.correlations_loaded, s.rules_in_files);
  out += '\n';
  out += fmt::format("  files      {} read, {} unreadable\n", s.files_read, s.files_failed);
  out += fmt::format("  records    {} read, {} skipped, {} of unrecognised source\n",
                     s.records_read, s.records_skipped, s.events_unrecognised);
  if (s.events_outside_time_range || s.events_without_time)
    out +=
        fmt::format("  time range {} events outside it, {} without a readable time: not matched\n",
                    s.events_outside_time_range, s.events_without_time);
  if (s.events_not_where)
    out += fmt::format(
        "  where      {} events where the --where conditions do not hold: not matched\n",
        s.events_not_where);
  if (!s.pivot_keywords.empty()) {
    std::string counts;
    const auto& categories = PivotCategories();
    for (size_t c = 0; c < s.pivot_keywords.size() && c < categories.size(); ++c) {
      if (!counts.empty()) counts += ", ";
      counts += fmt::format("{} {}", s.pivot_keywords[c], categories[c].name);
    }
    out += fmt::format("  pivot      keywords of {} alerts' events: {}\n", s.pivot_alerts, counts);
  }
  if (s.attack_techniques)
    out += fmt::format("  att&ck     {} techniques named by the rules of {} alerts\n",
                       *s.attack_techniques, s.attack_alerts);
  if (s.records_duplicate)
    out += fmt::format(
        "  duplicates {} alerting records were copies of records read before: their {} alerts "
        "left out\n",
        s.records_duplicate, s.alerts_duplicate);
  if (s.evtx_native_records || s.evtx_libevtx_records)
    out += fmt::format("  evtx       {} records rendered by Yagura, {} by libevtx\n",
                       s.evtx_native_records, s.evtx_libevtx_records);
  double rate = s.scan_seconds > 0 ? static_cast<double>(s.records_read) / s.scan_seconds : 0;
  out += fmt::format("  input      {} in {:.2f} s ({:.0f} events/s); rules loaded in {:.2f} s\n",
                     HumanBytes(s.bytes_read), s.scan_seconds, rate, s.load_seconds);
  if (s.indicators_loaded || s.intel_feeds_failed)
    out += fmt::format("  indicators {} active, {} feeds incomplete or unreadable\n",
                       s.indicators_loaded, s.intel_feeds_failed);
  out += fmt::format("  alerts     {}", s.alerts);
  if (s.indicator_alerts) out += fmt::format(" ({} from indicators)", s.indicator_alerts);
  if (s.correlation_alerts) out += fmt::format(" ({} from correlations)", s.correlation_alerts);
  out += "\n";
  if (s.first_alert_ms) {
    out += fmt::format("  alerted    events from {} to {}", FormatTimestampMs(*s.first_alert_ms),
                       FormatTimestampMs(*s.last_alert_ms));
    if (s.alerts_without_time)
      out += fmt::format(" ({} alerts without a readable time)", s.alerts_without_time);
    out += "\n";
  }
  if (s.correlations_loaded) {
    out += fmt::format("  correlations {} loaded, {} alerts, {} late matches dropped",
                       s.correlations_loaded, s.correlation_alerts, s.correlation_late_matches);
    if (s.correlation_evicted_groups)
      out += fmt::format(", {} groups evicted", s.correlation_evicted_groups);
    out += "\n";
    if (s.correlation_late_matches)
      out += "             (inputs not in time order, e.g. several hosts' logs one after the "
             "other: see --allowed-lateness)\n";
    if (s.correlation_untimed_events)
      out += fmt::format("             {} matching events had no readable time and took no part "
                         "in correlations (see --time-field)\n",
                         s.correlation_untimed_events);
  }
  for (const std::string& failure : s.output_failures)
    out += fmt::format("  NOT WRITTEN {}\n", failure);
  if (s.alerts) {
    out += "\nAlerts by level\n";
    for (auto level : {sigma::Level::kCritical, sigma::Level::kHigh, sigma::Level::kMedium,
                       sigma::Level::kLow, sigma::Level::kInformational}) {
      auto it = s.alerts_by_level.find(level);
      out += fmt::format("  {:>9}  {}\n", it == s.alerts_by_level.end() ? 0 : it->second,
                         sigma::LevelName(level));
    }
    Top(out, "Top rules", s.alerts_by_rule, top);
    if (!s.alerts_by_feed.empty()) Top(out, "Indicator alerts by feed", s.alerts_by_feed, top);
    Top(out, "Top hosts", s.alerts_by_host, top);
    if (!s.alerts_by_country.empty())
      Top(out, "Countries of the alerted events' addresses", s.alerts_by_country, top);
    if (!s.alerts_by_day.empty()) Top(out, "Days with the most alerts (UTC)", s.alerts_by_day, top);
  }
  return out;
}

std::string SummaryJson(const ScanSummary& s) {
  std::string out;
  JsonWriter w(out);
  w.BeginObject();
  w.Key("rules_loaded").Uint(s.rules_loaded).Key("rules_failed").Uint(s.rules_failed);
  w.Key("rules_in_files").Uint(s.rules_in_files);
  w.Key("files_read").Uint(s.files_read).Key("files_failed").Uint(s.files_failed);
  w.Key("records_read").Uint(s.records_read).Key("records_skipped").Uint(s.records_skipped);
  w.Key("events_unrecognised").Uint(s.events_unrecognised).Key("bytes_read").Uint(s.bytes_read);
  w.Key("evtx_native_records").Uint(s.evtx_native_records);
  w.Key("evtx_libevtx_records").Uint(s.evtx_libevtx_records);
  w.Key("alerts").Uint(s.alerts).Key("indicator_alerts").Uint(s.indicator_alerts);
  w.Key("correlations_loaded").Uint(s.correlations_loaded);
  w.Key("correlation_alerts").Uint(s.correlation_alerts);
  w.Key("correlation_late_matches").Uint(s.correlation_late_matches);
  w.Key("correlation_evicted_groups").Uint(s.correlation_evicted_groups);
  w.Key("correlation_untimed_events").Uint(s.correlation_untimed_events);
  w.Key("events_outside_time_range").Uint(s.events_outside_time_range);
  w.Key("events_not_where").Uint(s.events_not_where);
  w.Key("records_duplicate").Uint(s.records_duplicate);
  w.Key("alerts_duplicate").Uint(s.alerts_duplicate);
  if (s.attack_techniques) {
    w.Key("attack_alerts").Uint(s.attack_alerts);
    w.Key("attack_techniques").Uint(*s.attack_techniques);
  }
  w.Key("events_without_time").Uint(s.events_without_time);
  w.Key("indicators_loaded").Uint(s.indicators_loaded);
  w.Key("intel_feeds_failed").Uint(s.intel_feeds_failed);
  w.Key("load_seconds").Double(s.load_seconds).Key("scan_seconds").Double(s.scan_seconds);
  w.Key("events_per_second")
      .Double(s.scan_seconds > 0 ? static_cast<double>(s.records_read) / s.scan_seconds : 0);
  w.Key("alerts_by_level").BeginObject();
  for (const auto& [level, n] : s.alerts_by_level) w.Key(sigma::LevelName(level)).Uint(n);
  w.EndObject();
  w.Key("alerts_by_rule").BeginObject();
  for (const auto& [rule, n] : s.alerts_by_rule) w.Key(rule).Uint(n);
  w.EndObject();
  w.Key("alerts_by_feed").BeginObject();
  for (const auto& [feed, n] : s.alerts_by_feed) w.Key(feed).Uint(n);
  w.EndObject();
  if (s.geo_ip) {
    w.Key("alerts_located").Uint(s.alerts_located);
    w.Key("alerts_by_country").BeginObject();
    for (const auto& [country, n] : s.alerts_by_country) w.Key(country).Uint(n);
    w.EndObject();
  }
  w.Key("alerts_by_host").BeginObject();
  for (const auto& [host, n] : s.alerts_by_host) w.Key(host).Uint(n);
  w.EndObject();
  w.Key("first_alert_time").TimeOrNull(s.first_alert_ms);
  w.Key("last_alert_time").TimeOrNull(s.last_alert_ms);
  w.Key("alerts_without_time").Uint(s.alerts_without_time);
  w.Key("alerts_by_day").BeginObject();
  for (const auto& [day, n] : s.alerts_by_day) w.Key(day).Uint(n);
  w.EndObject();
  w.Key("output_failures").BeginArray();
  for (const std::string& failure : s.output_failures) w.String(failure);
  w.EndArray();
  w.EndObject();
  return out;
}

}  // namespace yagura::scan

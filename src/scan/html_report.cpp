// HtmlReport (see html_report.hpp).
#include "scan/html_report.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "core/time.hpp"

namespace yagura::scan {
namespace {

constexpr std::array<sigma::Level, 5> LEVELS_DOWN = {sigma::Level::kCritical, sigma::Level::kHigh,
                                                     sigma::Level::kMedium, sigma::Level::kLow,
                                                     sigma::Level::kInformational};

size_t LevelIndex(sigma::Level level) { return static_cast<size_t>(level); }

// Text as HTML: everything in a report comes from logs and rules, which an attacker may have
// written.
void Escape(std::string_view text, std::string& out) {
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
}

std::string Html(std::string_view text) {
  std::string out;
  Escape(text, out);
  return out;
}

std::string Time(const std::optional<int64_t>& ms) {
  return ms ? FormatTimestampMs(*ms) : std::string("—");
}

void Widen(std::optional<int64_t>& first, std::optional<int64_t>& last,
           const std::optional<int64_t>& time) {
  if (!time) return;
  if (!first || *time < *first) first = time;
  if (!last || *time > *last) last = time;
}

std::string Badge(sigma::Level level) {
  return fmt::format("<span class=\"level {0}\">{0}</span>", sigma::LevelName(level));
}

// A horizontal bar `count` long on a scale whose longest is `max`.
std::string Bar(uint64_t count, uint64_t max, sigma::Level level) {
  const double percent =
      max == 0 ? 0 : 100.0 * static_cast<double>(count) / static_cast<double>(max);
  return fmt::format("<span class=\"bar {}\" style=\"width:{:.1f}%\"></span>",
                     sigma::LevelName(level), percent);
}

constexpr std::string_view STYLE = R"(
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI","Hiragino Sans","Noto Sans JP",sans-serif;margin:2em;color:#1d2330;background:#fff}
h1{font-size:1.6em;margin:0 0 .2em}h2{font-size:1.2em;margin:1.8em 0 .6em;border-bottom:1px solid #d8dce6;padding-bottom:.2em}
table{border-collapse:collapse;width:100%;margin:.4em 0}th,td{text-align:left;padding:.3em .6em;border-bottom:1px solid #eceef3;vertical-align:top}
th{background:#f4f5f8;font-weight:600}th.n{text-align:right}td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.t{white-space:nowrap;font-variant-numeric:tabular-nums}td.d{word-break:break-all;font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.9em}
.meta td:first-child{width:12em;color:#555}.barcell{width:40%}
.bar{display:inline-block;height:.8em;border-radius:2px;min-width:1px}
.level{display:inline-block;padding:0 .5em;border-radius:3px;font-size:.85em;font-weight:600;color:#fff}
.critical{background:#8b1a1a}.high{background:#d9480f}.medium{background:#e6a700}.low{background:#2f7bbf}.informational{background:#7a869a}
.note{color:#555;font-size:.9em}
)";

}  // namespace

void HtmlReport::Add(const Alert& alert) {
  ++alerts_;
  std::string key = alert.rule_id.empty() ? std::string(alert.title) : std::string(alert.rule_id);
  auto [rule, added] = rules_.try_emplace(std::move(key));
  RuleStats& stats = rule->second;
  if (added) {
    stats.level = alert.level;
    stats.id = alert.rule_id;
    stats.title = alert.title;
  }
  ++stats.count;
  Widen(stats.first_ms, stats.last_ms, alert.time_ms);
  if (!alert.host.empty() && !stats.hosts.contains(alert.host)) {
    if (stats.hosts.size() < MAX_HOSTS_PER_RULE)
      stats.hosts.emplace(alert.host);
    else
      stats.more_hosts = true;
  }
  if (!alert.host.empty()) {
    auto host = hosts_.find(alert.host);
    if (host == hosts_.end()) host = hosts_.emplace(std::string(alert.host), HostStats{}).first;
    ++host->second.by_level[LevelIndex(alert.level)];
    ++host->second.total;
    Widen(host->second.first_ms, host->second.last_ms, alert.time_ms);
  }
  if (alert.time_ms) {
    auto& day = days_[FormatTimestampMs(*alert.time_ms).substr(0, 10)];
    ++day[LevelIndex(alert.level)];
  }
  rows_.push_back(Row{alert.level, alert.time_ms, alerts_, std::string(alert.title),
                      std::string(alert.host), std::string(alert.details), std::string(alert.file),
                      alert.record});
  if (rows_.size() >= 2 * MAX_ROWS) TrimRows();
}

// Keeps the MAX_ROWS most severe rows, the earliest first within a level (untimed last), in
// that order.
void HtmlReport::TrimRows() {
  auto before = [](const Row& a, const Row& b) {
    if (a.level != b.level) return a.level > b.level;
    if (a.time_ms.has_value() != b.time_ms.has_value()) return a.time_ms.has_value();
    if (a.time_ms && *a.time_ms != *b.time_ms) return *a.time_ms < *b.time_ms;
    return a.order < b.order;
  };
  if (rows_.size() > MAX_ROWS) {
    std::nth_element(rows_.begin(), rows_.begin() + MAX_ROWS, rows_.end(), before);
    rows_left_out_ += rows_.size() - MAX_ROWS;
    rows_.resize(MAX_ROWS);
  }
  std::sort(rows_.begin(), rows_.end(), before);
}

std::string HtmlReport::Render(const ScanSummary& summary, const std::vector<std::string>& inputs,
                               int64_t generated_ms) {
  TrimRows();
  std::string out;
  out += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n";
  out += "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\n";
  out += "<title>Yagura scan report</title>\n<style>";
  out += STYLE;
  out += "</style></head><body>\n";
  out += "<h1>Yagura scan report</h1>\n";
  out += fmt::format("<p class=\"note\">Generated {} by yagura scan.</p>\n",
                     FormatTimestampMs(generated_ms));

  // What was read.
  out += "<h2>Scan</h2>\n<table class=\"meta\">\n";
  std::string scanned;
  for (const std::string& input : inputs) {
    if (!scanned.empty()) scanned += "<br>";
    Escape(input, scanned);
  }
  out += fmt::format("<tr><td>Inputs</td><td class=\"d\">{}</td></tr>\n", scanned);
  out += fmt::format("<tr><td>Rules</td><td>{} loaded, {} failed; {} correlations</td></tr>\n",
                     summary.rules_loaded, summary.rules_failed, summary.correlations_loaded);
  out += fmt::format("<tr><td>Files</td><td>{} read, {} unreadable</td></tr>\n", summary.files_read,
                     summary.files_failed);
  out += fmt::format("<tr><td>Records</td><td>{} read, {} skipped</td></tr>\n",
                     summary.records_read, summary.records_skipped);
  if (summary.events_outside_time_range || summary.events_without_time || summary.events_not_where)
    out += fmt::format(
        "<tr><td>Not matched</td><td>{} outside the time range, {} without a readable time, {} "
        "where the --where conditions do not hold</td></tr>\n",
        summary.events_outside_time_range, summary.events_without_time, summary.events_not_where);
  out += fmt::format("<tr><td>Alerts</td><td>{}</td></tr>\n", summary.alerts);
  out += fmt::format("<tr><td>Alerted events</td><td>{} to {}</td></tr>\n",
                     Time(summary.first_alert_ms), Time(summary.last_alert_ms));
  out += "</table>\n";

  // By level.
  out +=
      "<h2>Alerts by level</h2>\n<table>\n<tr><th>Level</th><th "
      "class=\"n\">Alerts</th><th></th></tr>\n";
  uint64_t most = 0;
  for (const auto& [level, count] : summary.alerts_by_level) most = std::max(most, count);
  for (sigma::Level level : LEVELS_DOWN) {
    auto it = summary.alerts_by_level.find(level);
    const uint64_t count = it == summary.alerts_by_level.end() ? 0 : it->second;
    out += fmt::format("<tr><td>{}</td><td class=\"n\">{}</td><td class=\"barcell\">{}</td></tr>\n",
                       Badge(level), count, Bar(count, most, level));
  }
  out += "</table>\n";

  // By day.
  if (!days_.empty()) {
    out += "<h2>Alerts by day (UTC)</h2>\n<table>\n<tr><th>Day</th>";
    for (sigma::Level level : LEVELS_DOWN)
      out += fmt::format("<th class=\"n\">{}</th>", Badge(level));
    out += "<th class=\"n\">Total</th></tr>\n";
    for (const auto& [day, counts] : days_) {
      uint64_t total = 0;
      out += fmt::format("<tr><td class=\"t\">{}</td>", Html(day));
      for (sigma::Level level : LEVELS_DOWN) {
        out += fmt::format("<td class=\"n\">{}</td>", counts[LevelIndex(level)]);
        total += counts[LevelIndex(level)];
      }
      out += fmt::format("<td class=\"n\">{}</td></tr>\n", total);
    }
    out += "</table>\n";
  }

  // Rules, most severe first, then most alerts.
  std::vector<const RuleStats*> rules;
  for (const auto& [key, stats] : rules_) rules.push_back(&stats);
  std::stable_sort(rules.begin(), rules.end(), [](const RuleStats* a, const RuleStats* b) {
    if (a->level != b->level) return a->level > b->level;
    return a->count > b->count;
  });
  out += fmt::format("<h2>Rules ({})</h2>\n<table>\n", rules.size());
  out +=
      "<tr><th>Level</th><th>Rule</th><th class=\"n\">Alerts</th><th "
      "class=\"n\">Hosts</th><th>First</th>"
      "<th>Last</th></tr>\n";
  for (const RuleStats* rule : rules) {
    std::string hosts = std::to_string(rule->hosts.size());
    if (rule->more_hosts) hosts += "+";
    out += fmt::format(
        "<tr><td>{}</td><td>{}<br><span class=\"note\">{}</span></td><td class=\"n\">{}</td>"
        "<td class=\"n\">{}</td><td class=\"t\">{}</td><td class=\"t\">{}</td></tr>\n",
        Badge(rule->level), Html(rule->title), Html(rule->id), rule->count, hosts,
        Time(rule->first_ms), Time(rule->last_ms));
  }
  out += "</table>\n";

  // Hosts, most alerts first.
  if (!hosts_.empty()) {
    std::vector<std::pair<const std::string*, const HostStats*>> hosts;
    for (const auto& [name, stats] : hosts_) hosts.emplace_back(&name, &stats);
    std::stable_sort(hosts.begin(), hosts.end(), [](const auto& a, const auto& b) {
      for (sigma::Level level : LEVELS_DOWN) {
        const size_t i = LevelIndex(level);
        if (a.second->by_level[i] != b.second->by_level[i])
          return a.second->by_level[i] > b.second->by_level[i];
      }
      return false;
    });
    out += fmt::format("<h2>Hosts ({})</h2>\n<table>\n<tr><th>Host</th>", hosts.size());
    for (sigma::Level level : LEVELS_DOWN)
      out += fmt::format("<th class=\"n\">{}</th>", Badge(level));
    out += "<th class=\"n\">Total</th><th>First</th><th>Last</th></tr>\n";
    for (const auto& [name, stats] : hosts) {
      out += fmt::format("<tr><td>{}</td>", Html(*name));
      for (sigma::Level level : LEVELS_DOWN)
        out += fmt::format("<td class=\"n\">{}</td>", stats->by_level[LevelIndex(level)]);
      out += fmt::format(
          "<td class=\"n\">{}</td><td class=\"t\">{}</td><td class=\"t\">{}</td></tr>\n",
          stats->total, Time(stats->first_ms), Time(stats->last_ms));
    }
    out += "</table>\n";
  }

  // The most severe alerts.
  out += fmt::format("<h2>Alerts ({} shown)</h2>\n", rows_.size());
  if (rows_left_out_ > 0)
    out += fmt::format(
        "<p class=\"note\">The {} most severe alerts, earliest first within a level; {} more "
        "are in the scan's output.</p>\n",
        rows_.size(), rows_left_out_);
  out +=
      "<table>\n<tr><th>Time</th><th>Level</th><th>Rule</th><th>Host</th><th>Details</th>"
      "<th>Source</th></tr>\n";
  for (const Row& row : rows_) {
    out += fmt::format(
        "<tr><td class=\"t\">{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"d\">{}</td>"
        "<td class=\"d\">{}:{}</td></tr>\n",
        Time(row.time_ms), Badge(row.level), Html(row.title), Html(row.host), Html(row.details),
        Html(row.file), row.record);
  }
  out += "</table>\n</body></html>\n";
  return out;
}

}  // namespace yagura::scan

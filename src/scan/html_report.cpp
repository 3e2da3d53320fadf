// HtmlReport (see html_report.hpp).
#include "scan/html_report.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "attack/technique_id.hpp"
#include "core/html.hpp"
#include "core/time.hpp"

namespace yagura::scan {
namespace {

constexpr std::array<sigma::Level, 5> LEVELS_DOWN = {sigma::Level::kCritical, sigma::Level::kHigh,
                                                     sigma::Level::kMedium, sigma::Level::kLow,
                                                     sigma::Level::kInformational};

size_t LevelIndex(sigma::Level level) { return static_cast<size_t>(level); }

// The report's words. Format strings take their figures in the order given; Japanese uses the
// console's words for levels (重大, 高, 中, 低, 情報).
struct Words {
  std::string_view lang, title, generated, scan, inputs, rules_row, rules_text, files_row,
      files_text, records_row, records_text, not_matched_row, not_matched_text, alerts_row,
      alerted_row, alerted_text, by_level, level, alerts, by_day, day, total, rules, rule, hosts,
      first, last, hosts_heading, host, alerts_heading, more, time, details, source,
      techniques_heading, technique, technique_rules, countries_heading, country;
  std::array<std::string_view, 5> levels;  // by sigma::Level
};

constexpr Words ENGLISH = {
    "en",
    "Yagura scan report",
    "Generated {} by yagura scan.",
    "Scan",
    "Inputs",
    "Rules",
    "{} loaded, {} failed; {} correlations",
    "Files",
    "{} read, {} unreadable",
    "Records",
    "{} read, {} skipped",
    "Not matched",
    "{} outside the time range, {} without a readable time, {} where the --where conditions do "
    "not hold",
    "Alerts",
    "Alerted events",
    "{} to {}",
    "Alerts by level",
    "Level",
    "Alerts",
    "Alerts by day (UTC)",
    "Day",
    "Total",
    "Rules ({})",
    "Rule",
    "Hosts",
    "First",
    "Last",
    "Hosts ({})",
    "Host",
    "Alerts ({} shown)",
    "The {} most severe alerts, earliest first within a level; {} more are in the scan's output.",
    "Time",
    "Details",
    "Source",
    "ATT&CK techniques ({})",
    "Technique",
    "Rules",
    "Countries of the alerted events' addresses ({})",
    "Country",
    {"informational", "low", "medium", "high", "critical"}};

constexpr Words JAPANESE = {
    "ja",
    "Yagura スキャン報告",
    "{} に yagura scan が作成",
    "スキャン",
    "入力",
    "ルール",
    "読込 {}、失敗 {}、相関ルール {}",
    "ファイル",
    "読込 {}、読めないもの {}",
    "レコード",
    "読込 {}、スキップ {}",
    "照合しなかったもの",
    "期間外 {}、時刻を読めないもの {}、--where の条件に合わないもの {}",
    "アラート",
    "アラートのイベント",
    "{} から {}",
    "重要度別アラート",
    "重要度",
    "アラート",
    "日別アラート (UTC)",
    "日付",
    "合計",
    "ルール ({})",
    "ルール",
    "ホスト",
    "最初",
    "最後",
    "ホスト ({})",
    "ホスト",
    "アラート ({} 件を表示)",
    "重要度の高いアラート {} 件を、同じ重要度の中では古い順に示しています。残り {} "
    "件はスキャンの出力にあります。",
    "時刻",
    "詳細",
    "出所",
    "ATT&CK 手法 ({})",
    "手法",
    "ルール",
    "アラートのイベントのアドレスの国 ({})",
    "国",
    {"情報", "低", "中", "高", "重大"}};

// Text as HTML: everything in a report comes from logs and rules, which an attacker may have
// written.
void Escape(std::string_view text, std::string& out) { AppendHtmlEscaped(text, out); }

std::string Html(std::string_view text) { return HtmlEscaped(text); }

std::string Time(const std::optional<int64_t>& ms) {
  return ms ? FormatTimestampMs(*ms) : std::string("—");
}

std::string Badge(sigma::Level level, const Words& words) {
  return fmt::format("<span class=\"level {}\">{}</span>", sigma::LevelName(level),
                     words.levels[static_cast<size_t>(level)]);
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
    if (alert.tags != nullptr) stats.techniques = attack::TechniquesOfTags(*alert.tags);
  }
  ++stats.count;
  if (alert.time_ms) WidenSpan(stats.first_ms, stats.last_ms, *alert.time_ms);
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
    if (alert.time_ms) WidenSpan(host->second.first_ms, host->second.last_ms, *alert.time_ms);
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
                               int64_t generated_ms, ReportLanguage language) {
  TrimRows();
  const Words& w = language == ReportLanguage::kJapanese ? JAPANESE : ENGLISH;
  auto say = [](std::string_view format, auto&&... args) {
    return fmt::vformat(format, fmt::make_format_args(args...));
  };
  std::string out;
  out += fmt::format("<!DOCTYPE html>\n<html lang=\"{}\"><head><meta charset=\"utf-8\">\n", w.lang);
  out += "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\n";
  out += fmt::format("<title>{}</title>\n<style>", w.title);
  out += STYLE;
  out += "</style></head><body>\n";
  out += fmt::format("<h1>{}</h1>\n", w.title);
  const std::string generated = FormatTimestampMs(generated_ms);
  out += fmt::format("<p class=\"note\">{}</p>\n", say(w.generated, generated));

  // What was read.
  out += fmt::format("<h2>{}</h2>\n<table class=\"meta\">\n", w.scan);
  std::string scanned;
  for (const std::string& input : inputs) {
    if (!scanned.empty()) scanned += "<br>";
    Escape(input, scanned);
  }
  auto meta = [&](std::string_view name, const std::string& value, std::string_view cell = "") {
    out += fmt::format("<tr><td>{}</td><td{}>{}</td></tr>\n", name, cell, value);
  };
  meta(w.inputs, scanned, " class=\"d\"");
  meta(w.rules_row,
       say(w.rules_text, summary.rules_loaded, summary.rules_failed, summary.correlations_loaded));
  meta(w.files_row, say(w.files_text, summary.files_read, summary.files_failed));
  meta(w.records_row, say(w.records_text, summary.records_read, summary.records_skipped));
  if (summary.events_outside_time_range || summary.events_without_time || summary.events_not_where)
    meta(w.not_matched_row, say(w.not_matched_text, summary.events_outside_time_range,
                                summary.events_without_time, summary.events_not_where));
  meta(w.alerts_row, std::to_string(summary.alerts));
  const std::string first_alert = Time(summary.first_alert_ms);
  const std::string last_alert = Time(summary.last_alert_ms);
  meta(w.alerted_row, say(w.alerted_text, first_alert, last_alert));
  out += "</table>\n";

  // By level.
  out += fmt::format("<h2>{}</h2>\n<table>\n<tr><th>{}</th><th class=\"n\">{}</th><th></th></tr>\n",
                     w.by_level, w.level, w.alerts);
  uint64_t most = 0;
  for (const auto& [level, count] : summary.alerts_by_level) most = std::max(most, count);
  for (sigma::Level level : LEVELS_DOWN) {
    auto it = summary.alerts_by_level.find(level);
    const uint64_t count = it == summary.alerts_by_level.end() ? 0 : it->second;
    out += fmt::format("<tr><td>{}</td><td class=\"n\">{}</td><td class=\"barcell\">{}</td></tr>\n",
                       Badge(level, w), count, Bar(count, most, level));
  }
  out += "</table>\n";

  // By day.
  if (!days_.empty()) {
    out += fmt::format("<h2>{}</h2>\n<table>\n<tr><th>{}</th>", w.by_day, w.day);
    for (sigma::Level level : LEVELS_DOWN)
      out += fmt::format("<th class=\"n\">{}</th>", Badge(level, w));
    out += fmt::format("<th class=\"n\">{}</th></tr>\n", w.total);
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
  out += fmt::format("<h2>{}</h2>\n<table>\n", say(w.rules, rules.size()));
  out += fmt::format(
      "<tr><th>{}</th><th>{}</th><th class=\"n\">{}</th><th class=\"n\">{}</th><th>{}</th>"
      "<th>{}</th></tr>\n",
      w.level, w.rule, w.alerts, w.hosts, w.first, w.last);
  for (const RuleStats* rule : rules) {
    std::string hosts = std::to_string(rule->hosts.size());
    if (rule->more_hosts) hosts += "+";
    out += fmt::format(
        "<tr><td>{}</td><td>{}<br><span class=\"note\">{}</span></td><td class=\"n\">{}</td>"
        "<td class=\"n\">{}</td><td class=\"t\">{}</td><td class=\"t\">{}</td></tr>\n",
        Badge(rule->level, w), Html(rule->title), Html(rule->id), rule->count, hosts,
        Time(rule->first_ms), Time(rule->last_ms));
  }
  out += "</table>\n";

  // ATT&CK techniques the rules name: the most severe first, then the most alerts.
  struct TechniqueStats {
    sigma::Level level = sigma::Level::kInformational;
    uint64_t alerts = 0;
    std::vector<const RuleStats*> rules;
  };
  std::map<std::string, TechniqueStats> techniques;
  for (const RuleStats* rule : rules) {
    for (const std::string& id : rule->techniques) {
      TechniqueStats& technique = techniques[id];
      technique.level = std::max(technique.level, rule->level);
      technique.alerts += rule->count;
      technique.rules.push_back(rule);
    }
  }
  if (!techniques.empty()) {
    std::vector<std::pair<const std::string*, const TechniqueStats*>> sorted;
    for (const auto& [id, stats] : techniques) sorted.emplace_back(&id, &stats);
    std::stable_sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) {
      if (a.second->level != b.second->level) return a.second->level > b.second->level;
      return a.second->alerts > b.second->alerts;
    });
    out += fmt::format("<h2>{}</h2>\n<table>\n", say(w.techniques_heading, sorted.size()));
    out += fmt::format("<tr><th>{}</th><th>{}</th><th class=\"n\">{}</th><th>{}</th></tr>\n",
                       w.level, w.technique, w.alerts, w.technique_rules);
    for (const auto& [id, stats] : sorted) {
      std::string titles;
      for (const RuleStats* rule : stats->rules) {
        if (!titles.empty()) titles += "<br>";
        titles += Html(rule->title);
      }
      out += fmt::format("<tr><td>{}</td><td>{}</td><td class=\"n\">{}</td><td>{}</td></tr>\n",
                         Badge(stats->level, w), Html(*id), stats->alerts, titles);
    }
    out += "</table>\n";
  }

  // Countries of the alerted events' addresses (--geo-ip), the most alerts first.
  if (!summary.alerts_by_country.empty()) {
    std::vector<std::pair<std::string, uint64_t>> countries(summary.alerts_by_country.begin(),
                                                            summary.alerts_by_country.end());
    std::stable_sort(countries.begin(), countries.end(),
                     [](const auto& a, const auto& b) { return a.second > b.second; });
    out += fmt::format("<h2>{}</h2>\n<table>\n<tr><th>{}</th><th class=\"n\">{}</th></tr>\n",
                       say(w.countries_heading, countries.size()), w.country, w.alerts);
    for (const auto& [country, count] : countries)
      out += fmt::format("<tr><td>{}</td><td class=\"n\">{}</td></tr>\n", Html(country), count);
    out += "</table>\n";
  }

  // Hosts, most severe alerts first.
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
    out += fmt::format("<h2>{}</h2>\n<table>\n<tr><th>{}</th>", say(w.hosts_heading, hosts.size()),
                       w.host);
    for (sigma::Level level : LEVELS_DOWN)
      out += fmt::format("<th class=\"n\">{}</th>", Badge(level, w));
    out += fmt::format("<th class=\"n\">{}</th><th>{}</th><th>{}</th></tr>\n", w.total, w.first,
                       w.last);
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
  out += fmt::format("<h2>{}</h2>\n", say(w.alerts_heading, rows_.size()));
  if (rows_left_out_ > 0)
    out += fmt::format("<p class=\"note\">{}</p>\n", say(w.more, rows_.size(), rows_left_out_));
  out += fmt::format(
      "<table>\n<tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>\n",
      w.time, w.level, w.rule, w.host, w.details, w.source);
  for (const Row& row : rows_) {
    out += fmt::format(
        "<tr><td class=\"t\">{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"d\">{}</td>"
        "<td class=\"d\">{}:{}</td></tr>\n",
        Time(row.time_ms), Badge(row.level, w), Html(row.title), Html(row.host), Html(row.details),
        Html(row.file), row.record);
  }
  out += "</table>\n</body></html>\n";
  return out;
}

}  // namespace yagura::scan

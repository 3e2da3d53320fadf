// HtmlReport: a scan's alerts as one self-contained HTML page (`yagura scan --html-report
// FILE`), for an investigator to read in a browser or hand to the people who asked for the
// hunt: what was read, alerts by level and by day, each rule with its hosts and its first and
// last alert, each host with its alerts by level, the ATT&CK techniques the rules name, the
// countries of the alerted events' addresses (with --geo-ip), and the most severe alerts with
// their details. Like Hayabusa's HTML summary, but with no script and nothing fetched from
// elsewhere: evidence machines are often offline, and a report may leave the investigator's hands.
//
// Memory stays bounded on any number of alerts: the counts are per rule, host and day, and at
// most MAX_ROWS alerts are kept for the table, the most severe first, then the earliest.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "scan/scanner.hpp"
#include "sigma/rule.hpp"

namespace yagura::scan {

// The language of the report's own words (the logs' and rules' words are as written).
enum class ReportLanguage : uint8_t { kEnglish, kJapanese };

class HtmlReport {
 public:
  static constexpr size_t MAX_ROWS = 1000;
  static constexpr size_t MAX_HOSTS_PER_RULE = 1000;  // beyond it, counted as "1000+"

  struct Alert {
    sigma::Level level = sigma::Level::kMedium;
    std::string_view rule_id, title;
    std::optional<int64_t> time_ms;
    std::string_view host;
    std::string_view details;  // "Field: value ¦ Field: value"
    std::string_view file;
    uint64_t record = 0;
    // The rule's tags, for its ATT&CK techniques (read once a rule); nullptr: none.
    const std::vector<std::string>* tags = nullptr;
  };
  void Add(const Alert& alert);

  // The page (putting the kept alerts in order first). `inputs`: the paths scanned, as given;
  // `generated_ms`: when (UTC).
  [[nodiscard]] std::string Render(const ScanSummary& summary,
                                   const std::vector<std::string>& inputs, int64_t generated_ms,
                                   ReportLanguage language = ReportLanguage::kEnglish);

 private:
  static constexpr size_t LEVELS = 5;
  struct RuleStats {
    sigma::Level level = sigma::Level::kMedium;
    std::string id, title;
    uint64_t count = 0;
    std::optional<int64_t> first_ms, last_ms;
    std::set<std::string, std::less<>> hosts;
    bool more_hosts = false;
    std::vector<std::string> techniques;  // from the tags of its first alert
  };
  struct HostStats {
    uint64_t by_level[LEVELS] = {};
    uint64_t total = 0;
    std::optional<int64_t> first_ms, last_ms;
  };
  struct Row {
    sigma::Level level;
    std::optional<int64_t> time_ms;
    uint64_t order;  // arrival, for ties
    std::string title, host, details, file;
    uint64_t record;
  };
  void TrimRows();

  std::map<std::string, RuleStats, std::less<>> rules_;  // by id, then title
  std::map<std::string, HostStats, std::less<>> hosts_;
  std::map<std::string, std::array<uint64_t, LEVELS>, std::less<>> days_;  // UTC date
  std::vector<Row> rows_;
  uint64_t alerts_ = 0;
  uint64_t rows_left_out_ = 0;
};

}  // namespace yagura::scan

// Engine::DetectRecord: the scan engine one record at a time, for live detection in `serve`.
//
// Records arrive from many sensors, each with its own declared logsource, interleaved. The
// event parser takes its declared class at construction, so there is one parser (and matcher
// scratch) per declared logsource, made on first use; a centre has a handful of source types,
// not thousands. The indicator set is refreshed every INTEL_REFRESH records, as in a scan, so a
// feed reload reaches live detection within that many events.
#include <fmt/format.h>

#include "scan/engine_impl.hpp"

namespace yagura::scan {

// Indicator alerts have no rule level; the indicator's confidence stands in for it: unknown or
// at least 70 is high, 30-69 medium, below 30 low.
sigma::Level IndicatorLevel(int confidence) {
  if (confidence < 0 || confidence >= 70) return sigma::Level::kHigh;
  if (confidence >= 30) return sigma::Level::kMedium;
  return sigma::Level::kLow;
}

bool Engine::DetectRecord(const event::Record& record,
                          const std::optional<event::Logsource>& declared,
                          const OnAlert& on_alert, const OnIndicatorAlert& on_indicator,
                          std::string& error) {
  Impl& m = *impl_;
  std::string key = declared ? fmt::format("{}\x1f{}\x1f{}", declared->product,
                                           declared->category, declared->service)
                             : std::string();
  auto found = m.live_workers.find(key);
  if (found == m.live_workers.end()) {
    auto worker = std::make_unique<Worker>();
    worker->parser = std::make_unique<event::EventParser>(m.catalog, *m.mapping, declared);
    if (m.matcher) worker->scratch = m.matcher->NewScratch();
    found = m.live_workers.emplace(std::move(key), std::move(worker)).first;
  }
  Worker& w = *found->second;
  if (m.intel_matcher && (m.live_records % INTEL_REFRESH == 0 || !w.intel_index)) {
    w.intel_index = m.indicators->Current();
  }
  ++m.live_records;
  if (!Detect(m, w, record, error)) return false;
  for (uint32_t rule_index : w.matches) on_alert(m.rules.rules[rule_index], w.event, record, "");
  if (on_indicator && w.intel_index) {
    static const std::string NO_PATH;
    for (const auto& match : w.intel_scratch.matches())
      on_indicator(*w.intel_index, match, w.intel_scratch.hits(), w.event, record, NO_PATH);
  }
  return true;
}

}  // namespace yagura::scan

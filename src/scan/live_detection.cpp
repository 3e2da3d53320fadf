// Engine::DetectRecord: the scan engine one record at a time, for live detection in `serve`.
//
// Records arrive from many sensors, each with its own declared logsource, interleaved. The
// event parser takes its declared class at construction, so there is one parser (and matcher
// scratch) per declared logsource, made on first use; a centre has a handful of source types,
// not thousands. A reloaded indicator set is picked up at the next record.

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
                          std::string& error, const event::Event** parsed) {
  Impl& m = *impl_;
  // The key is built in a buffer kept across calls: no allocation per record.
  std::string& key = m.live_key;
  key.clear();
  if (declared) {
    key.append(declared->product).push_back('\x1f');
    key.append(declared->category).push_back('\x1f');
    key.append(declared->service);
  }
  auto found = m.live_workers.find(key);
  if (found == m.live_workers.end()) {
    auto worker = std::make_unique<Worker>();
    worker->parser = std::make_unique<event::EventParser>(m.catalog, *m.mapping, declared);
    PrepareWorker(m, *worker);
    found = m.live_workers.emplace(key, std::move(worker)).first;
  }
  Worker& w = *found->second;
  // Live events may be minutes apart: a reloaded feed is picked up at the next event, not
  // after INTEL_REFRESH of them (the generation is one atomic load).
  if (m.intel_matcher && (!w.intel_index || w.intel_generation != m.indicators->generation())) {
    w.intel_generation = m.indicators->generation();
    w.intel_index = m.indicators->Current();
  }
  if (!Detect(m, w, record, error)) return false;
  if (parsed != nullptr) *parsed = &w.event;
  static const std::string NO_PATH;
  ReportRuleAlerts(m, w, record, NO_PATH, on_alert);
  if (on_indicator && w.intel_index) {
    for (const auto& match : w.intel_scratch.matches())
      on_indicator(*w.intel_index, match, w.intel_scratch.hits(), w.event, record, NO_PATH);
  }
  return true;
}

}  // namespace yagura::scan

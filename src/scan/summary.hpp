// The end-of-scan summary table: alerts by level, top rules, top hosts, what was read.
#pragma once

#include <string>

#include "scan/scanner.hpp"

namespace yagura::scan {

// Renders `summary` as a plain-text table for a terminal (no colour codes; safe to redirect).
[[nodiscard]] std::string RenderSummary(const ScanSummary& summary, size_t top = 10);

// The same figures as one JSON object (`yagura scan --summary-json FILE`), for scripts and
// benchmarks: counts, seconds, events_per_second, alerts by level, rule and host.
[[nodiscard]] std::string SummaryJson(const ScanSummary& summary);

}  // namespace yagura::scan

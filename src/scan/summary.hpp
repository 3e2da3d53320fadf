// The end-of-scan summary table: alerts by level, top rules, top hosts, what was read.
#pragma once

#include <string>

#include "scan/scanner.hpp"

namespace yagura::scan {

// Renders `summary` as a plain-text table for a terminal (no colour codes; safe to redirect).
[[nodiscard]] std::string RenderSummary(const ScanSummary& summary, size_t top = 10);

}  // namespace yagura::scan

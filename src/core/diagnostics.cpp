#include "core/diagnostics.hpp"

namespace yagura {

void Diagnostics::Report(DiagnosticKind kind, std::string where, std::string message) {
  counts_[static_cast<size_t>(kind)].fetch_add(1, std::memory_order_relaxed);
  Diagnostic diagnostic{kind, std::move(where), std::move(message)};
  std::lock_guard lock(mutex_);
  if (listener_) listener_(diagnostic);
  if (kept_.size() < MAX_KEPT) kept_.push_back(std::move(diagnostic));
}

std::vector<Diagnostic> Diagnostics::Kept() const {
  std::lock_guard lock(mutex_);
  return kept_;
}

}  // namespace yagura

// Diagnostics: bad input is counted and reported with its location, and processing goes on.
//
// Thread-safety: Report() and the counters may be called from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace yagura {

enum class DiagnosticKind : uint8_t {
  kInputUnreadable,  // a file or directory could not be opened or read
  kRecordSkipped,    // one record (line, JSON value, EVTX record) could not be parsed
  kRuleFailed,       // a rule file or document could not be loaded
  kWarning,          // worth telling, nothing was lost
};

struct Diagnostic {
  DiagnosticKind kind;
  std::string where;    // "file", "file:line", "file record N"
  std::string message;
};

class Diagnostics {
 public:
  using Listener = std::function<void(const Diagnostic&)>;

  // `listener` sees every diagnostic as it is reported (e.g. to print it on stderr).
  explicit Diagnostics(Listener listener = {}) : listener_(std::move(listener)) {}

  void Report(DiagnosticKind kind, std::string where, std::string message);

  [[nodiscard]] uint64_t Count(DiagnosticKind kind) const {
    return counts_[static_cast<size_t>(kind)].load(std::memory_order_relaxed);
  }
  // The first MAX_KEPT diagnostics are kept for summaries and tests.
  [[nodiscard]] std::vector<Diagnostic> Kept() const;

  static constexpr size_t MAX_KEPT = 10000;

 private:
  Listener listener_;
  std::atomic<uint64_t> counts_[4] = {};
  mutable std::mutex mutex_;
  std::vector<Diagnostic> kept_;
};

}  // namespace yagura

// LiveIndicators: the indicator set of a long-running process, replaced while events flow.
//
// Readers take the current IndicatorIndex with Current() (an atomic shared_ptr load) and keep
// it for a batch of events; Reload() builds a new index off to the side and publishes it with
// one atomic store, so matching never pauses and never sees a half-built set. A reader holding
// the old index keeps it alive until it lets go.
// Reload() reads each configured feed again. A feed that cannot be read, or that ends early
// (FeedStats::complete false), keeps the snapshot it had: a broken download never replaces a
// good feed. A feed that has never loaded well contributes what it could read.
// Thread-safety: Current() from any thread; Reload() from one thread at a time (serialised).
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/diagnostics.hpp"
#include "intel/feed.hpp"
#include "intel/feed_snapshot.hpp"
#include "intel/indicator_index.hpp"

namespace yagura::intel {

struct FeedSource {
  std::string path;
  FeedFormat format = FeedFormat::kAuto;
  std::string name;  // empty: the path
};

// What one Reload() did with each feed.
struct FeedOutcome {
  std::string path;
  bool loaded = false;   // a new snapshot was taken
  bool kept_previous = false;  // the feed failed and its previous snapshot stays
  FeedStats stats;       // of this read
  std::string error;     // when the feed could not be read at all
};

class LiveIndicators {
 public:
  explicit LiveIndicators(IndexOptions options = {});

  [[nodiscard]] std::shared_ptr<const IndicatorIndex> Current() const {
    return current_.load(std::memory_order_acquire);
  }
  // Counts publications: a reader that holds an index checks this plain atomic (cheaper than
  // Current()) to know whether a newer index is out.
  [[nodiscard]] uint64_t generation() const { return generation_.load(std::memory_order_acquire); }

  // Reads `feeds` (replacing the configured list) and publishes the new index.
  std::vector<FeedOutcome> Reload(const std::vector<FeedSource>& feeds, Diagnostics& diagnostics);

  // Publishes an index built from these snapshots (tests, and callers that read feeds
  // themselves).
  void Publish(std::vector<std::shared_ptr<const FeedSnapshot>> snapshots);

 private:
  IndexOptions options_;
  std::atomic<std::shared_ptr<const IndicatorIndex>> current_;
  std::atomic<uint64_t> generation_{0};
  std::mutex reload_mutex_;
  std::map<std::string, std::shared_ptr<const FeedSnapshot>> snapshots_;  // by path
};

}  // namespace yagura::intel

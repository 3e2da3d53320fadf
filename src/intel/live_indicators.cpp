#include "intel/live_indicators.hpp"

namespace yagura::intel {

LiveIndicators::LiveIndicators(IndexOptions options) : options_(options) {
  current_.store(IndicatorIndex::Build({}, options_));
}

void LiveIndicators::Publish(std::vector<std::shared_ptr<const FeedSnapshot>> snapshots) {
  current_.store(IndicatorIndex::Build(std::move(snapshots), options_), std::memory_order_release);
  generation_.fetch_add(1, std::memory_order_acq_rel);
}

std::vector<FeedOutcome> LiveIndicators::Reload(const std::vector<FeedSource>& feeds,
                                                Diagnostics& diagnostics) {
  std::lock_guard lock(reload_mutex_);
  std::vector<FeedOutcome> outcomes;
  std::map<std::string, std::shared_ptr<const FeedSnapshot>> next;
  for (const FeedSource& feed : feeds) {
    FeedOutcome outcome;
    outcome.path = feed.path;
    auto previous = snapshots_.find(feed.path);
    auto snapshot = FeedSnapshot::Load(feed.path, feed.format, feed.name, diagnostics);
    if (snapshot) outcome.stats = (*snapshot)->stats();
    bool good = snapshot && (*snapshot)->stats().complete;
    if (!snapshot) outcome.error = snapshot.error().ToString();
    if (good || (snapshot && previous == snapshots_.end())) {
      next[feed.path] = *snapshot;
      outcome.loaded = true;
    } else if (previous != snapshots_.end()) {
      next[feed.path] = previous->second;
      outcome.kept_previous = true;
      diagnostics.Report(DiagnosticKind::kWarning, feed.path,
                         "the feed is incomplete or unreadable; its previous version stays in use");
    }
    outcomes.push_back(std::move(outcome));
  }
  snapshots_ = std::move(next);
  std::vector<std::shared_ptr<const FeedSnapshot>> ordered;
  for (const FeedSource& feed : feeds) {
    auto it = snapshots_.find(feed.path);
    if (it != snapshots_.end()) ordered.push_back(it->second);
  }
  // Building the index can take a second for millions of indicators: it happens here, off to
  // the side, and readers switch with one atomic store.
  current_.store(IndicatorIndex::Build(std::move(ordered), options_), std::memory_order_release);
  generation_.fetch_add(1, std::memory_order_acq_rel);
  return outcomes;
}

}  // namespace yagura::intel

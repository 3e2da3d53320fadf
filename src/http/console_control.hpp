// What the console's rules and intelligence pages read from, and act on, in live detection.
//
// The routes (api_rules.cpp, api_intel.cpp) see plain structs through two small interfaces,
// so they neither know the detector's engine nor the indicator store's layout, and tests can
// stand in for a running detector. The real implementations (console_control.cpp) sit over
// pipeline::Detector, which publishes an immutable rule catalogue and its indicator index, and
// over the service's indicator store (DATA/intel) with its TAXII sources.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "http/jobs.hpp"

namespace yagura::pipeline {
class Detector;
}
namespace yagura::intel {
class IndicatorIndex;
}

namespace yagura::http {

// ---- rules ------------------------------------------------------------------------------------

struct RuleView {
  std::string id;  // what stored alerts carry as rule_id
  std::string title;
  std::string level;
  std::string status;
  std::string kind;  // "detection" | "correlation"
  std::string product, category, service;
  std::vector<std::string> tags;
  std::vector<std::string> techniques;
  std::string path;
};

struct RuleFailureView {
  std::string path;
  int line = 0;  // 0: the whole file
  std::string message;
};

// The running rule set. Shared and immutable: a request copies nothing but the pointer.
struct RuleCatalogView {
  uint64_t generation = 0;
  int64_t loaded_at_ms = 0;
  std::vector<RuleView> rules;
  std::vector<RuleFailureView> failures;
  // Tuning: rules of the files that raise no alert of their own, and rules re-levelled.
  uint64_t left_out = 0;
  uint64_t relevelled = 0;
  // The last reload that kept the running rules because the new set failed (0 / empty: none
  // since the running set loaded).
  int64_t last_reload_failed_at_ms = 0;
  std::string last_reload_error;
};

struct ReloadOutcome {
  uint64_t generation = 0;
  size_t rule_count = 0;
  std::vector<RuleFailureView> failures;
};

// How far detection has come, for GET /healthz.
struct DetectionHealth {
  uint64_t next_seq = 0;       // the next spool record it will analyse
  int64_t progress_at_ms = 0;  // when it last finished a batch (or started)
  uint64_t sink_failures = 0;  // batches of alerts the store refused (retried)
};

class DetectionControl {
 public:
  virtual ~DetectionControl() = default;
  [[nodiscard]] virtual DetectionHealth Health() const = 0;
  [[nodiscard]] virtual std::shared_ptr<const RuleCatalogView> Rules() const = 0;
  // Reloads rules and feeds, reporting progress in rule files on `job`. A set that fails to
  // load leaves the running one and returns the loader's message.
  virtual Result<ReloadOutcome> Reload(JobHandle& job) = 0;
};

// Over a running (or, in tests, a stopped) detector; it must outlive the returned object.
std::unique_ptr<DetectionControl> MakeDetectionControl(pipeline::Detector& detector);

// ---- intelligence -----------------------------------------------------------------------------

struct FeedView {
  std::string name;
  std::string format;       // "stix", "misp", "list", "auto"
  std::string source;       // where it was imported from (a path, a TAXII collection)
  std::string origin;       // "store" (imported or pulled) | "file" (configured path)
  uint64_t indicators = 0;  // delivered by the feed's last read
  uint64_t objects = 0;
  uint64_t skipped = 0;
  bool complete = true;
  int64_t updated_at_ms = 0;  // 0: unknown
  bool loaded = false;        // detection matches it now
};

struct FeedList {
  std::vector<FeedView> feeds;
  uint64_t total_indicators = 0;  // sum over the feeds
  uint64_t active_indicators = 0; // in the index detection matches (after versions, expiry)
};

struct IndicatorQuery {
  std::string q;     // substring of the value, pattern, name or id; case-insensitive
  std::string type;  // "ipv4", "domain", "hash", ... (intel::ToString(ObservableType))
  std::string feed;  // exact feed name
  int limit = 50;
  std::string cursor;  // from the previous page
};

struct IndicatorItem {
  std::string id;
  std::string value;  // the first atom's value; for several atoms the pattern
  std::string type;   // of the first atom; "pattern" when there are several
  std::string feed;
  std::string name;
  std::string pattern;
  std::string tlp;     // "clear", "green", "amber", "amber+strict", "red", or "" (none given)
  int confidence = -1; // -1: none given
  std::vector<std::string> labels;
  int64_t valid_from_ms = 0;   // 0: none
  int64_t valid_until_ms = 0;  // 0: none
  bool revoked = false;
};

struct IndicatorPage {
  std::vector<IndicatorItem> items;
  std::string next_cursor;  // empty on the last page
};

struct TaxiiSourceView {
  std::string name;
  std::string url;
  std::string collection;  // the collection id (the URL's last segment)
  std::string auth;        // "token", "basic" or "none" (never the secret)
  std::string bookmark;
  std::string last_pull_at;  // RFC 3339 or empty
  std::string last_error;
  uint64_t objects_pulled = 0;
};

struct PullResult {
  uint64_t pages = 0;
  uint64_t objects = 0;
  uint64_t indicators = 0;  // in the stored feed after the pull
};

class IntelControl {
 public:
  virtual ~IntelControl() = default;
  virtual Result<FeedList> Feeds() = 0;
  // Fails (400) on a cursor this object did not issue.
  virtual Result<IndicatorPage> Indicators(const IndicatorQuery& query) = 0;
  virtual Result<std::vector<TaxiiSourceView>> TaxiiSources() = 0;
  // Pulls one source into the store, holding the store's lock as the scheduled pull does;
  // progress in objects on `job`.
  virtual Result<PullResult> Pull(const std::string& name, JobHandle& job) = 0;
};

// Over the indicator store in `store_dir` (which may not exist yet). `indicators` returns
// the index live detection matches (null, or an empty function, when detection is off: the
// store's feeds are then read on first use and again when the store changes).
std::unique_ptr<IntelControl> MakeIntelControl(
    std::string store_dir,
    std::function<std::shared_ptr<const intel::IndicatorIndex>()> indicators = {});

}  // namespace yagura::http

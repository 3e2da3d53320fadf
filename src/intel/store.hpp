// IntelStore: the feeds `yagura intel import` has accepted, kept in one directory.
//
// Layout: DIR/feeds.json lists the feeds (name, where it was imported from, format, when, and
// the counts of that import); DIR/feeds/<name>/ holds a copy of the feed as it was imported
// (the files are kept as given, so a later Yagura re-reads them with its own parsers). A
// feed is replaced only by a complete read of its new version: an import that fails or stops
// half way leaves the stored version untouched. `scan --intel DIR`, `intel list|stats` and
// the service read the store through Sources().
// Writers (imports, TAXII pulls, from the CLI or from `serve`) hold the store's StoreLock.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/diagnostics.hpp"
#include "core/result.hpp"
#include "intel/feed.hpp"
#include "intel/live_indicators.hpp"

namespace yagura::intel {

struct StoredFeed {
  std::string name;
  std::string imported_from;
  std::string format;       // "auto", "stix", "misp", "list"
  std::string imported_at;  // RFC 3339 UTC
  FeedStats stats;
};

struct ImportOutcome {
  std::string name;
  bool stored = false;         // the store now holds this version
  bool kept_previous = false;  // incomplete or failed: the previous version stays
  FeedStats stats;
  std::string error;
};

class IntelStore {
 public:
  // Opens (creating if needed) the store in `dir`.
  [[nodiscard]] static Result<IntelStore> Open(const std::string& dir);
  // $YAGURA_INTEL_STORE, or $XDG_DATA_HOME/yagura/intel, or ~/.local/share/yagura/intel.
  [[nodiscard]] static std::string DefaultDir();
  // Whether `dir` is a store (has feeds.json).
  [[nodiscard]] static bool IsStore(const std::string& dir);

  // Reads and validates `path`, then stores it as feed `name` (empty: the file or directory
  // name). Diagnostics name every entry that was skipped.
  ImportOutcome Import(const std::string& path, const std::string& name, FeedFormat format,
                       Diagnostics& diagnostics);
  // Removes feed `name`; false if there is none.
  bool Remove(const std::string& name);

  [[nodiscard]] const std::vector<StoredFeed>& feeds() const { return feeds_; }
  // The stored feeds as sources for LiveIndicators (feed names as given at import).
  [[nodiscard]] std::vector<FeedSource> Sources() const;
  [[nodiscard]] const std::string& dir() const { return dir_; }

 private:
  Result<void> Save() const;
  std::string dir_;
  std::vector<StoredFeed> feeds_;
};

// An exclusive lock on a store (flock on DIR/.lock), held while feeds or TAXII sources are
// written, so a pull by hand and the service's scheduled pull never interleave.
class StoreLock {
 public:
  // Waits up to `timeout_ms` for the lock; fails naming the store when it stays busy.
  [[nodiscard]] static Result<StoreLock> Acquire(const std::string& dir, int64_t timeout_ms = 60'000);
  StoreLock(StoreLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  StoreLock& operator=(StoreLock&&) = delete;
  StoreLock(const StoreLock&) = delete;
  ~StoreLock();

 private:
  explicit StoreLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

// Feed sources for paths given on a command line: a store directory stands for its feeds,
// anything else is one feed.
[[nodiscard]] std::vector<FeedSource> ExpandFeedPaths(const std::vector<std::string>& paths);

}  // namespace yagura::intel

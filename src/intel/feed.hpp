// Feed loading: what every loader reports, and the entry point that picks the loader.
//
// A loader reads one feed (file, directory, or text), hands each valid indicator to the sink,
// and reports every object, attribute, line or pattern it cannot use to Diagnostics with the
// object id or line number (kWarning for skipped content; kInputUnreadable when the feed
// itself cannot be read). It never stops at the first bad entry: everything valid is delivered.
// A feed that ends early (truncated file, JSON that stops half way) delivers what came before
// the break and is reported with `complete = false`, so a running service keeps the previous
// good version of that feed instead of swapping in a partial one.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/diagnostics.hpp"
#include "core/result.hpp"
#include "intel/indicator.hpp"

namespace yagura::intel {

enum class FeedFormat : uint8_t { kAuto, kStix, kMisp, kList };

// "auto", "stix", "misp", "list": the names commands and the store use.
std::string_view ToString(FeedFormat format);
// The format of a name; kAuto for "auto" and anything unknown.
FeedFormat ParseFeedFormat(std::string_view name);

struct FeedStats {
  uint64_t objects = 0;     // objects, attributes or lines read
  uint64_t indicators = 0;  // indicators delivered to the sink
  uint64_t skipped = 0;     // entries reported and not delivered (bad pattern, unknown type...)
  uint64_t ignored = 0;     // entries that are not indicators (other STIX types, to_ids false)
  bool complete = true;     // false: the feed ended early or could not be parsed to its end
};

// Loads `path` (a file, or a directory: a MISP feed with manifest.json, or else every file in
// it) in `format`, detecting it from the content when kAuto. `feed_name` is written into each
// indicator; empty: the path. Fails only when nothing at all could be read (missing file,
// unknown format); partial feeds succeed with complete = false.
[[nodiscard]] Result<FeedStats> LoadFeed(const std::string& path, FeedFormat format,
                                         std::string_view feed_name, const IndicatorSink& sink,
                                         Diagnostics& diagnostics);

}  // namespace yagura::intel

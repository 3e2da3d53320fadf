// STIX 2.0/2.1 feed loader: indicators from bundles, TAXII envelopes, arrays and single objects.
//
// The JSON is parsed once into a simdjson DOM and read in two passes over its objects: the
// first collects marking definitions (for TLP) and, for each indicator id, which version has
// the latest `modified`; the second builds and delivers those winning versions in feed order.
// When the JSON is truncated or broken, a fallback scanner walks the `objects` array element
// by element (tracking bracket depth outside strings), parses every complete element on its own
// and runs the same two passes over them, so everything before the break is still delivered
// (with complete = false).
//
// What is delivered: indicators with pattern_type "stix" (or none, as in STIX 2.0) whose
// pattern parses and reduces to atoms (stix_pattern.hpp), revoked and expired ones included:
// IndicatorIndex decides by time and uses revocations to retire versions from other feeds.
// What is counted as `ignored`: other object types, superseded versions of an id in the same
// bundle, and other pattern types (sigma, yara, snort, ...; one warning per type). What is
// `skipped` with a kWarning naming the object id: bad or non-indexable patterns, missing or
// malformed required properties.
//
// Thread-safety: the functions keep no state; the sink is called on the caller's thread.
#pragma once

#include <optional>
#include <string_view>

#include "core/diagnostics.hpp"
#include "core/result.hpp"
#include "intel/feed.hpp"
#include "intel/indicator.hpp"

namespace yagura::intel {

// Loads the STIX JSON text `json` ("where" names it in diagnostics, e.g. the file path).
// Fails only when `json` is not STIX JSON at all (not JSON, or neither an object nor an
// array, or a bundle whose `objects` is not an array); broken or truncated JSON succeeds with
// complete = false after delivering what could be read.
[[nodiscard]] Result<FeedStats> LoadStixBundle(std::string_view json, std::string_view feed_name,
                                               std::string_view where, const IndicatorSink& sink,
                                               Diagnostics& diagnostics);

// The TLP of a well-known TLP 1.0 or TLP 2.0 marking-definition id, nullopt for any other id.
[[nodiscard]] std::optional<Tlp> WellKnownTlpMarking(std::string_view marking_id);

}  // namespace yagura::intel

// MISP feeds and events: attributes marked for detection (to_ids) become indicators.
//
// A MISP feed is a directory with manifest.json and one <event uuid>.json per event; an event
// file is {"Event": {...}}. Every attribute with to_ids true, including those inside Object[],
// becomes one indicator whose id is the attribute uuid; to_ids false is counted as ignored.
// Attribute types that name something Yagura can see in an event are mapped by
// MapMispAttribute; the others are counted as skipped and reported once per type and feed.
//
// Thread-safety: the functions keep no state between calls; the sink and diagnostics are
// called on the caller's thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/diagnostics.hpp"
#include "core/result.hpp"
#include "intel/feed.hpp"
#include "intel/indicator.hpp"

namespace yagura::intel {

// Loads a MISP feed directory. Events are read in manifest order (every *.json file but the
// manifest when there is none). A missing, unreadable or broken event file is reported with
// its name and the others are still read; the result then has complete = false. Fails only
// when `dir` is not a readable directory or holds neither a manifest nor any event file.
[[nodiscard]] Result<FeedStats> LoadMispFeedDirectory(const std::string& dir,
                                                      std::string_view feed_name,
                                                      const IndicatorSink& sink,
                                                      Diagnostics& diagnostics);

// Loads one MISP event document: {"Event": {...}}, a bare event object, a JSON array of
// either, or {"response": [...]} as the MISP API returns. `where` names the document in
// diagnostics. JSON that does not parse (a truncated file) is reported and gives
// complete = false; fails when the document parses but holds no MISP event.
[[nodiscard]] Result<FeedStats> LoadMispEvent(std::string_view json, std::string_view feed_name,
                                              std::string_view where, const IndicatorSink& sink,
                                              Diagnostics& diagnostics);

enum class MispMapping : uint8_t {
  kMapped,           // `any_of` holds the conjunctions
  kUnsupportedType,  // not an observable Yagura matches; `reason` says why
  kBadValue,         // the type is matched but the value does not have its shape
};

// The conjunctions a MISP attribute of `type` with `value` stands for, appended to `any_of`.
// Composite types are split at '|': "ip-dst|port" and "hostname|port" are address AND port,
// "filename|sha256" (and "malware-sample") is file name AND hash, "regkey|value" keeps only
// the key, and "domain|ip" is domain OR address (MISP records that the domain resolved to the
// address; either one seen in an event is worth an alert). ip-src / ip-dst become IPv4 or IPv6
// by their content, CIDR ranges included. `reason` (static text) explains kUnsupportedType and
// kBadValue.
MispMapping MapMispAttribute(std::string_view type, std::string_view value,
                             std::vector<Conjunction>& any_of, std::string_view& reason);

// Confidence 0-100 stated by a tag of a MISP confidence taxonomy (osint:certainty,
// misp:confidence-level, admiralty-scale:information-credibility,
// estimative-language:confidence-in-analytic-judgment, estimative-language:likelihood-
// probability); -1 for any other tag.
int ConfidenceFromMispTag(std::string_view tag);

}  // namespace yagura::intel

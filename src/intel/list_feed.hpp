// Indicator lists: plain text (one value per line) and CSV with a header.
//
// Plain text: '#' comment lines and blank lines are skipped; a value may be followed by a
// comment after white space ("192.0.2.0/24 ; SBL123", "evil.example # phishing"), and hosts-file
// lines ("0.0.0.0 evil.example") give their host name. Values may be defanged ("hxxp",
// "[.]") and are typed by DetectType. CSV is recognised by a header line (also as the last
// '#' comment line before the data, as abuse.ch writes it) that names a value column (value,
// indicator, ioc, observable, or a typed one such as url, domain, ip, sha256_hash) and
// optionally type, tlp, source, expiry / valid_until, valid_from / first_seen, confidence,
// comment / description, tags / labels; fields follow RFC 4180 (quotes, doubled quotes, line
// breaks inside quotes); ',' ';' or tab separate them, whichever the header uses.
//
// Thread-safety: the functions keep no state between calls; the sink and diagnostics are
// called on the caller's thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/diagnostics.hpp"
#include "core/result.hpp"
#include "intel/feed.hpp"
#include "intel/indicator.hpp"

namespace yagura::intel {

// Loads a list. Each indicator's id is "<where>:<line>" (the line a CSV record starts on),
// its feed the `source` column or else `feed_name`. Lines that are no recognisable indicator
// are counted as skipped and reported with "<where>:<line>" (the first 20 one by one, then
// one count). A CSV quote left open at the end gives complete = false. Never fails: text
// with no indicator at all is an empty list.
[[nodiscard]] Result<FeedStats> LoadList(std::string_view text, std::string_view feed_name,
                                         std::string_view where, const IndicatorSink& sink,
                                         Diagnostics& diagnostics);

// LoadList on a file's content; `where` is the path. Fails when the file cannot be read.
[[nodiscard]] Result<FeedStats> LoadListFile(const std::string& path, std::string_view feed_name,
                                             const IndicatorSink& sink, Diagnostics& diagnostics);

// A type name as lists write it. `by_content`: an address, IPv4 or IPv6 by the value;
// kHash with kNone: the algorithm by the value.
struct NamedType {
  ObservableType type = ObservableType::kDomain;
  HashAlgorithm algorithm = HashAlgorithm::kNone;
  Direction direction = Direction::kAny;
  bool by_content = false;
};
// Case-insensitive: Yagura's own names (ToString), STIX names and paths ("ipv4-addr",
// "domain-name:value", "file:hashes.'SHA-256'", "file:name"), hash names ("sha256", "SHA-1"),
// the single-value MISP types ("ip-dst", "hostname", "email-src", "filename", "regkey") and
// common column names ("ip", "ip_address", "sha256_hash"). Composite MISP types
// ("ip-dst|port") are not named types: lists hand them to MapMispAttribute.
std::optional<NamedType> ParseObservableTypeName(std::string_view name);

}  // namespace yagura::intel

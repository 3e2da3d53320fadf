// Indicator: one piece of threat intelligence, reduced to what can be matched on an event.
//
// Every feed format (STIX 2.1 bundles, MISP feeds and events, plain and CSV lists) is read into
// this one model. An indicator matches an event when all atoms of at least one of its
// conjunctions hold on that event (disjunctive normal form): a STIX pattern `[a:x = '1' AND
// b:y = '2'] OR [c:z = '3']` becomes {{x=1, y=2}, {z=3}}; a list line or a MISP attribute is one
// conjunction of one atom. Loaders hand over values as written; IndicatorIndex normalises them
// (src/intel/normalise.hpp) and reports the ones that are not valid values of their type.
// Loaders stream indicators to a sink instead of returning a vector: a feed of millions must not
// be held twice in memory.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace yagura::intel {

// What an atom's value is, and so which event fields it is looked for in.
enum class ObservableType : uint8_t {
  kIpv4,          // address or CIDR range, "192.0.2.1" or "192.0.2.0/24"
  kIpv6,          // address or CIDR range
  kDomain,        // host or domain name; also matches its subdomains when configured
  kUrl,           // absolute URL
  kHash,          // file hash; `algorithm` says which
  kEmail,         // e-mail address
  kFileName,      // file name without directory ("evil.exe"); matched case-insensitively
  kProcessName,   // process image name; matched against the base name of image paths
  kRegistryKey,   // registry key path; matched case-insensitively
  kPort,          // TCP/UDP port number; only meaningful beside an address in a conjunction
  kUserAgent,     // HTTP User-Agent header value
};

enum class HashAlgorithm : uint8_t {
  kNone,
  kMd5,
  kSha1,
  kSha256,
  kSha512,
  kSha3_256,
  kSha3_512,
  kSsdeep,
  kTlsh,
  kImphash,
};

// Which end of a connection an address or port must be on: STIX `network-traffic:src_ref` /
// `dst_ref`, MISP `ip-src` / `ip-dst`. kAny matches any address field.
enum class Direction : uint8_t { kAny, kSource, kDestination };

// TLP 2.0. Feeds written with TLP 1.0 (WHITE) are read as CLEAR. kUnset: the feed gave none.
enum class Tlp : uint8_t { kUnset, kClear, kGreen, kAmber, kAmberStrict, kRed };

struct Atom {
  ObservableType type = ObservableType::kDomain;
  HashAlgorithm algorithm = HashAlgorithm::kNone;  // kHash only
  Direction direction = Direction::kAny;
  bool negated = false;  // `!=`: holds when the event has no such value; never indexed alone
  std::string value;     // as written in the feed (the index normalises it)
};

using Conjunction = std::vector<Atom>;

struct Indicator {
  std::string id;          // STIX id, MISP attribute uuid, or "<list file>:<line>"
  std::string feed;        // the feed it came from (file or directory name, or a configured name)
  std::string name;        // STIX name/description, MISP event info, list comment
  std::string pattern;     // the pattern as written (STIX) or "type:value" (MISP, lists)
  Tlp tlp = Tlp::kUnset;
  std::vector<std::string> markings;  // all marking refs or tags as written (TLP included)
  int confidence = -1;                // 0-100; -1 when the feed gave none
  std::optional<int64_t> valid_from;   // milliseconds since the epoch (UTC)
  std::optional<int64_t> valid_until;  // exclusive
  std::optional<int64_t> modified;     // versions of one id: the latest wins
  bool revoked = false;
  std::vector<std::string> labels;  // indicator_types, MISP category and tags, list columns
  std::vector<Conjunction> any_of;  // DNF; never empty for a delivered indicator
};

// Receives each indicator a loader reads, in feed order.
using IndicatorSink = std::function<void(Indicator&&)>;

std::string_view ToString(ObservableType type);
std::string_view ToString(HashAlgorithm algorithm);
std::string_view ToString(Tlp tlp);  // "TLP:CLEAR", ..., "" for kUnset
// "TLP:AMBER+STRICT", "tlp:amber+strict", "amber+strict", "TLP:WHITE" ...; nullopt if not TLP.
std::optional<Tlp> ParseTlp(std::string_view text);
// "MD5", "SHA-256", "sha256", "SHA3-256", "SSDEEP", "TLSH", "imphash" ...
std::optional<HashAlgorithm> ParseHashAlgorithm(std::string_view text);
// The algorithm a hex digest of this length most likely is (32 MD5, 40 SHA-1, 64 SHA-256,
// 128 SHA-512); kNone otherwise.
HashAlgorithm HashAlgorithmForHexLength(size_t length);

}  // namespace yagura::intel

// IndicatorIndex: every active indicator of every loaded feed, ready for lookups per value.
//
// Built from feed snapshots. Versions are resolved across feeds by id (the latest `modified`
// wins; a revoked latest version retires the id), and indicators that are revoked, expired
// (valid_until at or before `now`) or not yet valid are left out. The atoms of the rest go
// into lookup tables keyed by their normalised value:
//   - IPv4 and IPv6 addresses and CIDR ranges: one hash probe per prefix length present,
//     longest first, so an address finds the most specific range that holds it;
//   - domains: the name itself, then (when subdomains match) each parent down to two labels;
//   - registry keys: the key and each parent key (an event names a value under the key);
//   - every other type (URLs, hashes, e-mail, file and process names, user agents, ports):
//     exact lookup of the canonical text.
// Tables are open-addressing arrays of 8-byte slots holding a hash tag and a posting; a
// posting is a run of references (feed snapshot, indicator, conjunction, atom), so a value
// shared by several indicators is stored once. Lookups never allocate.
// Thread-safety: immutable after Build(); share through std::shared_ptr<const IndicatorIndex>.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "intel/feed_snapshot.hpp"
#include "intel/indicator.hpp"
#include "intel/normalise.hpp"

namespace yagura::intel {

struct IndexOptions {
  bool match_subdomains = true;  // an indicator for evil.com also matches www.evil.com
  int64_t now_ms = 0;            // validity is judged at this time; 0: the current time
};

struct IndexStats {
  uint64_t indicators = 0;  // in all snapshots
  uint64_t active = 0;      // in the index
  uint64_t revoked = 0;
  uint64_t expired = 0;
  uint64_t not_yet_valid = 0;
  uint64_t superseded = 0;  // older versions of an id
  uint64_t values = 0;      // distinct (type, value) keys
  size_t memory_bytes = 0;  // tables and postings, without the snapshots
};

// Where an indicator stands at a given time, after versions across feeds are resolved.
enum class IndicatorStatus : uint8_t { kActive, kRevoked, kExpired, kNotYetValid, kSuperseded };
std::string_view ToString(IndicatorStatus status);

// The status of every indicator of every snapshot ([snapshot][indicator]) at `now_ms`: for
// each id the latest `modified` wins (a later snapshot on a tie); the others are superseded.
std::vector<std::vector<IndicatorStatus>> ClassifyIndicators(
    const std::vector<std::shared_ptr<const FeedSnapshot>>& snapshots, int64_t now_ms);
// Milliseconds since the epoch, now.
int64_t CurrentTimeMs();

class IndicatorIndex {
 public:
  // A reference from a value to one atom of one indicator.
  struct Ref {
    uint32_t snapshot = 0;   // index into snapshots()
    uint32_t indicator = 0;  // index into that snapshot
    uint16_t conjunction = 0;
    // Position among the conjunction's positive atoms (255 for a negated atom), and how many
    // positive atoms the conjunction has: it holds when all of them are found on one event and
    // none of its negated ones.
    uint8_t atom_in_conjunction = 0;
    uint8_t atoms_in_conjunction = 0;
    Direction direction = Direction::kAny;
    bool negated = false;
  };
  // Called for each reference a lookup finds.
  class Visitor {
   public:
    virtual void Visit(const Ref& ref) = 0;

   protected:
    ~Visitor() = default;
  };

  [[nodiscard]] static std::shared_ptr<const IndicatorIndex> Build(
      std::vector<std::shared_ptr<const FeedSnapshot>> snapshots, const IndexOptions& options);

  // Lookups of normalised event values; each reports every reference of the matching key.
  // Addresses: the longest prefix (v4 and v6 tables are separate).
  void FindIpv4(uint32_t address, Visitor& visitor) const;
  void FindIpv6(const Ipv6Bytes& address, Visitor& visitor) const;
  // A normalised domain; parents too when the options say so.
  void FindDomain(std::string_view domain, Visitor& visitor) const;
  // A canonical registry key path; parent keys too.
  void FindRegistryKey(std::string_view key, Visitor& visitor) const;
  // Exact lookup of the canonical text of any other type.
  void FindExact(ObservableType type, std::string_view value, Visitor& visitor) const;
  // FindExact in two steps, for a caller with several values at hand: the first starts
  // fetching the value's filter word (a cache miss, with a million indicators), so that the
  // misses of several values overlap; the second looks it up.
  [[nodiscard]] uint64_t PrefetchExact(ObservableType type, std::string_view value) const;
  void FindExact(ObservableType type, std::string_view value, uint64_t prefetched,
                 Visitor& visitor) const;
  void FindPort(uint16_t port, Visitor& visitor) const;

  // Whether any active indicator has an atom of this type (lets the matcher skip work).
  [[nodiscard]] bool Has(ObservableType type) const {
    return (present_types_ >> static_cast<unsigned>(type)) & 1u;
  }
  // Whether some domain indicator ends in the last label of `domain` (a token ending in "exe"
  // or "txt" is not worth normalising and looking up when every domain ends in a real TLD).
  [[nodiscard]] bool HasTopLabel(std::string_view domain) const;
  // Whether some hash indicator's canonical text has this length (most events carry several
  // digests; those of lengths no feed uses are not looked up).
  [[nodiscard]] bool HasHashLength(size_t length) const {
    return length < 256 && ((hash_lengths_[length / 64] >> (length % 64)) & 1u);
  }

  [[nodiscard]] const std::vector<std::shared_ptr<const FeedSnapshot>>& snapshots() const {
    return snapshots_;
  }
  [[nodiscard]] const IndexStats& stats() const { return stats_; }
  // Unique per built index (never 0), so per-thread memories of lookups can tell indexes apart
  // even when a new one is allocated where an old one was.
  [[nodiscard]] uint64_t generation() const { return generation_; }
  [[nodiscard]] const IndexOptions& options() const { return options_; }

  struct Table;  // defined in indicator_index.cpp

  IndicatorIndex();
  ~IndicatorIndex();

 private:
  void Lookup(uint64_t key_hash, uint8_t kind, std::string_view key, Visitor& visitor) const;
  // A blocked Bloom filter over the keys (one 64-bit word per key, three bits): most event
  // values are in no feed, and the filter answers for them from a few megabytes that stay in
  // cache instead of a probe into the much larger table.
  void AddToFilter(uint64_t hash) {
    filter_[(hash >> 40) & filter_mask_] |= FilterBits(hash);
  }
  [[nodiscard]] bool MayContain(uint64_t hash) const {
    uint64_t bits = FilterBits(hash);
    return (filter_[(hash >> 40) & filter_mask_] & bits) == bits;
  }
  static uint64_t FilterBits(uint64_t hash) {
    return uint64_t{1} << (hash & 63) | uint64_t{1} << ((hash >> 6) & 63) |
           uint64_t{1} << ((hash >> 12) & 63);
  }

  std::vector<std::shared_ptr<const FeedSnapshot>> snapshots_;
  IndexOptions options_;
  IndexStats stats_;
  std::unique_ptr<Table> table_;
  std::vector<uint64_t> filter_;
  uint64_t filter_mask_ = 0;
  uint64_t ipv4_prefixes_ = 0;        // bit n: some IPv4 range of prefix length n exists
  // Bit b: some IPv4 key (address or range) covers part of the /24 block b. Most addresses of
  // events lie in no block a feed names: one bit, in 2 MB, answers for them, where the
  // filter is asked once per prefix length. Empty without IPv4 keys.
  std::vector<uint64_t> ipv4_blocks_;
  uint8_t ipv6_prefixes_[17] = {};    // bitmap of IPv6 prefix lengths 0..128
  uint32_t present_types_ = 0;
  uint64_t generation_ = 0;
  uint64_t hash_lengths_[4] = {};
  std::vector<std::string> top_labels_;  // sorted, lower-case
};

}  // namespace yagura::intel

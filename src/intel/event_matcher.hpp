// IntelMatcher: which indicators an event holds, and where.
//
// Event fields are read by role (the table in event_matcher.cpp names them for Windows,
// Sysmon, Zeek, ECS, web servers, proxies and cloud logs): addresses (with the connection
// end when the field says it), ports, domains, URLs, hash lists such as Sysmon's `Hashes`
// ("SHA1=...,MD5=..."), single hashes, e-mail addresses, file and process paths, registry
// keys, user agents, and free text (command lines, script blocks, messages). Values are
// normalised as the feeds' values were and looked up in the IndicatorIndex. Free text is cut
// into tokens at characters that cannot belong to an address, name or hash, so an indicator
// only matches a whole token: `evil.com` is found in "curl http://evil.com/x" and in
// "a.evil.com", never in "notevil.com" or "evil.com.example.net".
// An indicator matches when one of its conjunctions holds: every positive atom found on the
// event and none of its negated atoms. One alert per matching indicator, listing each field
// and value where it was found.
// Thread-safety: Match() is const; each thread uses its own Scratch.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "event/event.hpp"
#include "event/field_catalog.hpp"
#include "intel/indicator_index.hpp"

namespace yagura::intel {

struct IntelHit {
  IndicatorIndex::Ref ref;
  event::FieldId field = event::NO_FIELD;
  std::string_view value;  // the part of the event's value that matched (a view into the event)
};

// One matching indicator. Its hits are scratch.hits()[first_hit, first_hit + hit_count).
struct IntelMatch {
  uint32_t snapshot = 0;
  uint32_t indicator = 0;
  uint32_t first_hit = 0;
  uint32_t hit_count = 0;
};

class IntelMatcher {
 public:
  class Scratch {
   public:
    [[nodiscard]] const std::vector<IntelMatch>& matches() const { return matches_; }
    [[nodiscard]] const std::vector<IntelHit>& hits() const { return hits_; }
    void Clear() {
      raw_hits_.clear();
      hits_.clear();
      matches_.clear();
    }

    // Digests of one hash list looked up together (their cache misses overlap).
    static constexpr size_t HASH_BATCH = 8;

   private:
    friend class IntelMatcher;
    // Field values that found nothing, per index generation (direct-mapped, verified by text).
    struct KnownMiss {
      uint64_t generation = 0;  // 0: empty
      uint64_t hash = 0;
      event::FieldId field = event::NO_FIELD;
      std::string text;
    };
    // Small on purpose: with 8,192 slots (half a megabyte) the memory pushed the rule
    // matcher's own tables out of the cache, and the scan lost more than the memory saved.
    static constexpr size_t MISS_SLOTS = 2048;
    static constexpr size_t MAX_REMEMBERED = 256;
    std::vector<KnownMiss> misses_ = std::vector<KnownMiss>(MISS_SLOTS);
    std::vector<IntelHit> raw_hits_;
    std::vector<IntelHit> hits_;
    std::vector<IntelMatch> matches_;
    std::string buffer_;
    std::string url_buffer_;
    std::array<std::string, HASH_BATCH> hash_buffers_;
    std::vector<uint16_t> present_;  // positions in fields_ of the event's fields
  };

  // Interns the fields the matcher reads; call before the catalog is frozen.
  explicit IntelMatcher(event::FieldCatalog& catalog);

  // Finds the indicators of `index` that `event` holds; results in scratch.matches(), ordered
  // by feed and indicator.
  void Match(const IndicatorIndex& index, const event::Event& event, Scratch& scratch) const;

  // The field names the matcher reads (the table in event_matcher.cpp).
  [[nodiscard]] static std::vector<std::string_view> FieldNames();

 private:
  struct Field {
    event::FieldId id;
    uint8_t role;  // event_matcher.cpp's Role
    Direction direction;
  };
  std::vector<Field> fields_;
  // FieldId -> 1 + its position in fields_, 0 for fields the matcher does not read.
  std::vector<uint16_t> position_of_field_;
};

}  // namespace yagura::intel

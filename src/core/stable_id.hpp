// StableId: a UUID-shaped id that is a pure function of what it identifies.
//
// Live detection must give an alert the same id every time it is produced, so that a replay of
// the spool after a crash inserts nothing twice (docs/architecture.md, decision 3). The id is
// XXH3-128 over the parts (each length-prefixed, so ("ab","c") and ("a","bc") differ), written
// as 8-4-4-4-12 hex with the version nibble 8 ("custom", RFC 9562) and the RFC 4122 variant.
// Ids are stored, so the function may never change: the unit tests pin known values.
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

namespace yagura {

[[nodiscard]] std::string StableId(std::initializer_list<std::string_view> parts);

// The same, but the first 48 bits are `position` (a spool sequence number), as UUIDv7 puts
// time first: ids of things produced in stream order then sort in that order, so a database
// appends them at the end of its indexes instead of writing to a random page per insert.
[[nodiscard]] std::string OrderedStableId(uint64_t position,
                                          std::initializer_list<std::string_view> parts);

// An id's 16 bytes before they are written as text: two ids are equal exactly when their
// bytes are. The detector compares these on its hot path and writes text only for ids it keeps.
struct StableIdBytes {
  std::array<uint8_t, 16> bytes{};

  [[nodiscard]] std::string ToString() const;
  // The last eight bytes: hash bits in every kind of id (an ordered id's first six are its
  // position, shared by many ids).
  [[nodiscard]] uint64_t HashBits() const;
  friend bool operator==(const StableIdBytes&, const StableIdBytes&) = default;
};

[[nodiscard]] StableIdBytes OrderedStableIdBytes(uint64_t position,
                                                 std::initializer_list<std::string_view> parts);

}  // namespace yagura

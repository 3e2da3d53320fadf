// StableId (see stable_id.hpp).
#include "core/stable_id.hpp"

#include <xxhash.h>

#include <cstdint>
#include <cstring>
#include <string>

namespace yagura {

namespace {

// XXH3-128 of the parts, each preceded by its size as a native uint64 (the streaming API over
// the same bytes gives the same hash; one call over a buffer is several times cheaper for the
// short parts ids are made of).
StableIdBytes Hash(std::initializer_list<std::string_view> parts) {
  size_t total = 0;
  for (std::string_view part : parts) total += sizeof(uint64_t) + part.size();
  char stack[512];
  std::string heap;
  char* buffer = stack;
  if (total > sizeof stack) {
    heap.resize(total);
    buffer = heap.data();
  }
  char* out = buffer;
  for (std::string_view part : parts) {
    const uint64_t size = part.size();
    std::memcpy(out, &size, sizeof size);
    out += sizeof size;
    if (!part.empty()) std::memcpy(out, part.data(), part.size());
    out += part.size();
  }
  const XXH128_hash_t hash = XXH3_128bits(buffer, total);
  StableIdBytes id;
  std::memcpy(id.bytes.data(), &hash.high64, 8);
  std::memcpy(id.bytes.data() + 8, &hash.low64, 8);
  id.bytes[6] = static_cast<uint8_t>((id.bytes[6] & 0x0f) | 0x80);  // version 8
  id.bytes[8] = static_cast<uint8_t>((id.bytes[8] & 0x3f) | 0x80);  // variant 10
  return id;
}

}  // namespace

std::string StableIdBytes::ToString() const {
  static constexpr char HEX[] = "0123456789abcdef";
  std::string id(36, '-');
  size_t at = 0;
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) ++at;  // the dashes already there
    id[at++] = HEX[bytes[i] >> 4];
    id[at++] = HEX[bytes[i] & 0x0f];
  }
  return id;
}

uint64_t StableIdBytes::HashBits() const {
  uint64_t bits = 0;
  std::memcpy(&bits, bytes.data() + 8, sizeof bits);
  return bits;
}

StableIdBytes OrderedStableIdBytes(uint64_t position,
                                   std::initializer_list<std::string_view> parts) {
  StableIdBytes id = Hash(parts);
  for (int i = 0; i < 6; ++i) id.bytes[i] = static_cast<uint8_t>(position >> (8 * (5 - i)));
  return id;
}

std::string StableId(std::initializer_list<std::string_view> parts) {
  return Hash(parts).ToString();
}

std::string OrderedStableId(uint64_t position, std::initializer_list<std::string_view> parts) {
  return OrderedStableIdBytes(position, parts).ToString();
}

}  // namespace yagura

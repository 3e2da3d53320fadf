// StableId (see stable_id.hpp).
#include "core/stable_id.hpp"

#define XXH_STATIC_LINKING_ONLY  // XXH3_state_t on the stack
#include <xxhash.h>

#include <cstdint>
#include <cstring>

namespace yagura {

namespace {

void Hash(std::initializer_list<std::string_view> parts, uint8_t (&bytes)[16]) {
  XXH3_state_t state;
  XXH3_128bits_reset(&state);
  for (std::string_view part : parts) {
    uint64_t size = part.size();
    XXH3_128bits_update(&state, &size, sizeof size);
    XXH3_128bits_update(&state, part.data(), part.size());
  }
  XXH128_hash_t hash = XXH3_128bits_digest(&state);
  std::memcpy(bytes, &hash.high64, 8);
  std::memcpy(bytes + 8, &hash.low64, 8);
}

std::string Format(uint8_t (&bytes)[16]) {
  bytes[6] = static_cast<uint8_t>((bytes[6] & 0x0f) | 0x80);  // version 8
  bytes[8] = static_cast<uint8_t>((bytes[8] & 0x3f) | 0x80);  // variant 10
  static constexpr char HEX[] = "0123456789abcdef";
  std::string id;
  id.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) id.push_back('-');
    id.push_back(HEX[bytes[i] >> 4]);
    id.push_back(HEX[bytes[i] & 0x0f]);
  }
  return id;
}

}  // namespace

std::string StableId(std::initializer_list<std::string_view> parts) {
  uint8_t bytes[16];
  Hash(parts, bytes);
  return Format(bytes);
}

std::string OrderedStableId(uint64_t position, std::initializer_list<std::string_view> parts) {
  uint8_t bytes[16];
  Hash(parts, bytes);
  for (int i = 0; i < 6; ++i) bytes[i] = static_cast<uint8_t>(position >> (8 * (5 - i)));
  return Format(bytes);
}

}  // namespace yagura

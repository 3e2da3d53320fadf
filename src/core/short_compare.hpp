// Equality of short byte strings without a call to memcmp.
//
// Hot lookups compare names and values of a few dozen bytes, once or more per field of every
// event; memcmp's call and its dispatch on length cost more than the compare itself (a tenth
// of walking a JSON record's keys). Two overlapping loads of the widest size that fits cover
// any length from 1 to 64 without reading a byte outside either string.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include <immintrin.h>

namespace yagura {

inline constexpr size_t MAX_SHORT_COMPARE = 64;

// Whether a[0, length) equals b[0, length), for length <= MAX_SHORT_COMPARE.
[[gnu::always_inline]] inline bool SameShortBytes(const char* a, const char* b, size_t length) {
  if (length >= 16) {
    if (length >= 32) {
      const auto load = [](const char* at) {
        return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(at));
      };
      const __m256i differ =
          _mm256_or_si256(_mm256_xor_si256(load(a), load(b)),
                          _mm256_xor_si256(load(a + length - 32), load(b + length - 32)));
      return _mm256_testz_si256(differ, differ) != 0;
    }
    const auto load = [](const char* at) {
      return _mm_loadu_si128(reinterpret_cast<const __m128i*>(at));
    };
    const __m128i differ = _mm_or_si128(_mm_xor_si128(load(a), load(b)),
                                        _mm_xor_si128(load(a + length - 16), load(b + length - 16)));
    return _mm_testz_si128(differ, differ) != 0;
  }
  const auto load = [](const char* at, auto word) {
    std::memcpy(&word, at, sizeof word);
    return word;
  };
  if (length >= 8) {
    return ((load(a, uint64_t{}) ^ load(b, uint64_t{})) |
            (load(a + length - 8, uint64_t{}) ^ load(b + length - 8, uint64_t{}))) == 0;
  }
  if (length >= 4) {
    return ((load(a, uint32_t{}) ^ load(b, uint32_t{})) |
            (load(a + length - 4, uint32_t{}) ^ load(b + length - 4, uint32_t{}))) == 0;
  }
  if (length == 0) return true;
  // 1 to 3 bytes: the first, the middle and the last cover them all.
  return a[0] == b[0] && a[length / 2] == b[length / 2] && a[length - 1] == b[length - 1];
}

}  // namespace yagura

// UTF-8 encoding of one code point, for the decoders that produce text (XML character
// references, UTF-16 input, UTF-16LE payloads).
#pragma once

#include <cstdint>

namespace yagura {

// The longest UTF-8 encoding of a code point.
inline constexpr int MAX_UTF8_BYTES = 4;

// Writes `code` (at most 0x10FFFF) as UTF-8 at `out`; returns the position past it.
inline char* WriteUtf8(char* out, uint32_t code) {
  if (code < 0x80) {
    *out++ = static_cast<char>(code);
  } else if (code < 0x800) {
    *out++ = static_cast<char>(0xc0 | (code >> 6));
    *out++ = static_cast<char>(0x80 | (code & 0x3f));
  } else if (code < 0x10000) {
    *out++ = static_cast<char>(0xe0 | (code >> 12));
    *out++ = static_cast<char>(0x80 | ((code >> 6) & 0x3f));
    *out++ = static_cast<char>(0x80 | (code & 0x3f));
  } else {
    *out++ = static_cast<char>(0xf0 | (code >> 18));
    *out++ = static_cast<char>(0x80 | ((code >> 12) & 0x3f));
    *out++ = static_cast<char>(0x80 | ((code >> 6) & 0x3f));
    *out++ = static_cast<char>(0x80 | (code & 0x3f));
  }
  return out;
}

}  // namespace yagura

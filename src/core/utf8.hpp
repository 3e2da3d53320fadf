// UTF-8: encoding one code point, for the decoders that produce text (XML character
// references, UTF-16 input, UTF-16LE payloads), and checking and measuring text people send
// (the API's fields, the centre's records).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

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

// Unicode code points in UTF-8 text (continuation bytes are not counted): the length limits
// of fields are in characters, so that a Japanese title gets as many as an English one.
[[nodiscard]] size_t CodePoints(std::string_view text);
// Well-formed UTF-8: no overlong forms (the classic way to smuggle "/" or "." past a check),
// no surrogates, nothing above U+10FFFF.
[[nodiscard]] bool ValidUtf8(std::string_view text);
// The length of the well-formed UTF-8 sequence at `at` (which must be inside `text`), by the
// rules of ValidUtf8; 0 when none starts there.
[[nodiscard]] size_t Utf8SequenceLength(std::string_view text, size_t at);

}  // namespace yagura

// Case-insensitive comparison of UTF-8 text, one code point at a time.
//
// Sigma compares strings case-insensitively, and SigmaHQ rules carry many non-ASCII values, so
// ASCII-only folding is not enough. We use Unicode *simple* case folding (one code point maps to
// one code point) for Latin-1, Latin Extended-A/B (common letters), Latin Extended Additional,
// Greek, Cyrillic, Armenian, Georgian and full-width Latin; other code points fold to themselves.
// Simple folding keeps the comparison a code-point-by-code-point walk over both strings with no
// buffer, so nothing here allocates. Bytes that are not valid UTF-8 decode to a value outside
// Unicode (0x110000 + byte), which only ever equals the same invalid byte: raw binary values
// (e.g. UTF-16 rule values) still compare exactly.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace yagura::sigma {

inline constexpr uint32_t INVALID_BYTE_BASE = 0x110000;

// Decodes a multi-byte (or invalid) sequence starting at text[*at]; see DecodeUtf8.
uint32_t DecodeUtf8Multibyte(std::string_view text, size_t* at);

// Decodes the code point starting at text[*at] and advances *at past it (at least one byte).
inline uint32_t DecodeUtf8(std::string_view text, size_t* at) {
  auto byte = static_cast<unsigned char>(text[*at]);
  if (byte < 0x80) {
    ++*at;
    return byte;
  }
  return DecodeUtf8Multibyte(text, at);
}

// Whether every byte of `text` is ASCII (32 bytes a step: rules test long values, such as
// script blocks, many times over).
[[nodiscard]] bool IsAscii(std::string_view text);

// The simple case folding of `cp` (lower case for the scripts listed above).
uint32_t FoldCodePoint(uint32_t cp);

// Case-insensitive comparisons (simple folding). None allocates.
[[nodiscard]] bool EqualsFolded(std::string_view a, std::string_view b);
[[nodiscard]] bool StartsWithFolded(std::string_view text, std::string_view prefix);
[[nodiscard]] bool EndsWithFolded(std::string_view text, std::string_view suffix);
[[nodiscard]] bool ContainsFolded(std::string_view text, std::string_view needle);

// Appends the UTF-8 encoding of `cp` to `out` (a std::string or compatible).
template <typename String>
void AppendUtf8(String& out, uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

}  // namespace yagura::sigma

// Simple Unicode case folding by ranges: each script block below either shifts a contiguous run
// of capitals by a constant, or pairs capitals and small letters on alternating code points.
// The table covers the scripts seen in rule values and event data; everything else folds to
// itself, which errs towards "not equal" rather than towards false matches.
#include "sigma/case_fold.hpp"

#include <immintrin.h>

#include <cstring>

namespace yagura::sigma {

namespace {

// Alternating upper/lower pairs: capitals on even (or odd) code points in [first, last].
constexpr uint32_t FoldPair(uint32_t cp, uint32_t first, uint32_t last, bool upper_even) {
  if (cp < first || cp > last) return cp;
  bool even = (cp & 1) == 0;
  return even == upper_even ? cp + 1 : cp;
}

uint32_t FoldNonAscii(uint32_t cp) {
  if (cp < 0x100) {
    if (cp >= 0xC0 && cp <= 0xDE && cp != 0xD7) return cp + 0x20;
    if (cp == 0xB5) return 0x3BC;  // micro sign -> Greek mu
    return cp;
  }
  if (cp < 0x180) {  // Latin Extended-A
    if (cp == 0x130) return 'i';
    if (cp == 0x131 || cp == 0x138 || cp == 0x149) return cp;
    if (cp == 0x178) return 0xFF;
    if (cp == 0x17F) return 's';
    if (cp <= 0x137) return FoldPair(cp, 0x100, 0x137, true);
    if (cp <= 0x148) return FoldPair(cp, 0x139, 0x148, false);
    if (cp <= 0x177) return FoldPair(cp, 0x14A, 0x177, true);
    return FoldPair(cp, 0x179, 0x17E, false);
  }
  if (cp < 0x250) {  // Latin Extended-B: the regular runs and the digraphs
    switch (cp) {
      case 0x1C4:
      case 0x1C5:
        return 0x1C6;
      case 0x1C7:
      case 0x1C8:
        return 0x1C9;
      case 0x1CA:
      case 0x1CB:
        return 0x1CC;
      case 0x1F1:
      case 0x1F2:
        return 0x1F3;
      case 0x1F4:
        return 0x1F5;
      default:
        break;
    }
    if (cp >= 0x1CD && cp <= 0x1DC) return FoldPair(cp, 0x1CD, 0x1DC, false);
    if (cp >= 0x1DE && cp <= 0x1EF) return FoldPair(cp, 0x1DE, 0x1EF, true);
    if (cp >= 0x1F8 && cp <= 0x21F) return FoldPair(cp, 0x1F8, 0x21F, true);
    if (cp >= 0x222 && cp <= 0x233) return FoldPair(cp, 0x222, 0x233, true);
    if (cp >= 0x246 && cp <= 0x24F) return FoldPair(cp, 0x246, 0x24F, true);
    return cp;
  }
  if (cp >= 0x370 && cp < 0x400) {  // Greek
    if (cp == 0x386) return 0x3AC;
    if (cp >= 0x388 && cp <= 0x38A) return cp + 37;
    if (cp == 0x38C) return 0x3CC;
    if (cp == 0x38E || cp == 0x38F) return cp + 63;
    if (cp >= 0x391 && cp <= 0x3AB && cp != 0x3A2) return cp + 32;
    if (cp == 0x3C2) return 0x3C3;  // final sigma folds to sigma
    if (cp >= 0x3D8 && cp <= 0x3EF) return FoldPair(cp, 0x3D8, 0x3EF, true);
    return cp;
  }
  if (cp >= 0x400 && cp < 0x530) {  // Cyrillic and Cyrillic Supplement
    if (cp <= 0x40F) return cp + 80;
    if (cp <= 0x42F) return cp + 32;
    if (cp >= 0x460 && cp <= 0x481) return FoldPair(cp, 0x460, 0x481, true);
    if (cp >= 0x48A && cp <= 0x4BF) return FoldPair(cp, 0x48A, 0x4BF, true);
    if (cp == 0x4C0) return 0x4CF;
    if (cp >= 0x4C1 && cp <= 0x4CE) return FoldPair(cp, 0x4C1, 0x4CE, false);
    if (cp >= 0x4D0 && cp <= 0x52F) return FoldPair(cp, 0x4D0, 0x52F, true);
    return cp;
  }
  if (cp >= 0x531 && cp <= 0x556) return cp + 48;                   // Armenian
  if (cp >= 0x10A0 && cp <= 0x10C5) return cp + (0x2D00 - 0x10A0);  // Georgian
  if (cp >= 0x1E00 && cp < 0x1F00) {                                // Latin Extended Additional
    if (cp == 0x1E9E) return 0xDF;
    if (cp <= 0x1E95) return FoldPair(cp, 0x1E00, 0x1E95, true);
    if (cp >= 0x1EA0) return FoldPair(cp, 0x1EA0, 0x1EFF, true);
    return cp;
  }
  if (cp >= 0x1F00 && cp < 0x1F70) {  // Greek Extended: capitals sit 8 above their small letters
    uint32_t low = cp & 0xF;
    uint32_t row = cp & 0xFFF0;
    bool has_capitals = row == 0x1F00 || row == 0x1F10 || row == 0x1F20 || row == 0x1F30 ||
                        row == 0x1F40 || row == 0x1F60 || row == 0x1F50;
    if (has_capitals && low >= 8) {
      if (row == 0x1F10 || row == 0x1F40) return low <= 0xD ? cp - 8 : cp;
      if (row == 0x1F50) return (low & 1) ? cp - 8 : cp;
      return cp - 8;
    }
    return cp;
  }
  if (cp == 0x2126) return 0x3C9;                    // Ohm sign
  if (cp == 0x212A) return 'k';                      // Kelvin sign
  if (cp == 0x212B) return 0xE5;                     // Angstrom sign
  if (cp >= 0x2160 && cp <= 0x216F) return cp + 16;  // Roman numerals
  if (cp >= 0x24B6 && cp <= 0x24CF) return cp + 26;  // circled Latin letters
  if (cp >= 0xFF21 && cp <= 0xFF3A) return cp + 32;  // full-width Latin
  return cp;
}

}  // namespace

uint32_t DecodeUtf8Multibyte(std::string_view text, size_t* at) {
  size_t i = *at;
  auto b0 = static_cast<unsigned char>(text[i]);
  if (b0 < 0x80) {
    *at = i + 1;
    return b0;
  }
  size_t length;
  uint32_t cp;
  uint32_t min;
  if ((b0 & 0xE0) == 0xC0) {
    length = 2, cp = b0 & 0x1F, min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    length = 3, cp = b0 & 0x0F, min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    length = 4, cp = b0 & 0x07, min = 0x10000;
  } else {
    *at = i + 1;
    return INVALID_BYTE_BASE + b0;
  }
  if (i + length > text.size()) {
    *at = i + 1;
    return INVALID_BYTE_BASE + b0;
  }
  for (size_t k = 1; k < length; ++k) {
    auto b = static_cast<unsigned char>(text[i + k]);
    if ((b & 0xC0) != 0x80) {
      *at = i + 1;
      return INVALID_BYTE_BASE + b0;
    }
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    *at = i + 1;
    return INVALID_BYTE_BASE + b0;
  }
  *at = i + length;
  return cp;
}

uint32_t FoldCodePoint(uint32_t cp) {
  if (cp < 0x80) return (cp >= 'A' && cp <= 'Z') ? cp + 32 : cp;
  if (cp >= INVALID_BYTE_BASE) return cp;
  return FoldNonAscii(cp);
}

namespace {

inline unsigned char AsciiLower(unsigned char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<unsigned char>(c + 32) : c;
}

// Whether text[*ti..] begins with the whole of `pattern` (folded); advances *ti on success.
bool MatchHere(std::string_view text, size_t* ti, std::string_view pattern) {
  size_t t = *ti;
  size_t p = 0;
  while (p < pattern.size()) {
    if (t >= text.size()) return false;
    auto a = static_cast<unsigned char>(text[t]);
    auto b = static_cast<unsigned char>(pattern[p]);
    if ((a | b) < 0x80) {
      if (AsciiLower(a) != AsciiLower(b)) return false;
      ++t, ++p;
      continue;
    }
    if (FoldCodePoint(DecodeUtf8(text, &t)) != FoldCodePoint(DecodeUtf8(pattern, &p))) return false;
  }
  *ti = t;
  return true;
}

}  // namespace

bool EqualsFolded(std::string_view a, std::string_view b) {
  size_t at = 0;
  return MatchHere(a, &at, b) && at == a.size();
}

bool StartsWithFolded(std::string_view text, std::string_view prefix) {
  size_t at = 0;
  return MatchHere(text, &at, prefix);
}

bool EndsWithFolded(std::string_view text, std::string_view suffix) {
  // Folded code points may differ in byte length (Kelvin sign vs 'k'), so try every code point
  // boundary rather than only text.size() - suffix.size().
  for (size_t start = 0; start <= text.size();) {
    size_t at = start;
    if (MatchHere(text, &at, suffix) && at == text.size()) return true;
    if (start == text.size()) break;
    DecodeUtf8(text, &start);
  }
  return false;
}

bool ContainsFolded(std::string_view text, std::string_view needle) {
  for (size_t start = 0; start <= text.size();) {
    size_t at = start;
    if (MatchHere(text, &at, needle)) return true;
    if (start == text.size()) break;
    DecodeUtf8(text, &start);
  }
  return false;
}

bool IsAscii(std::string_view text) {
  const char* p = text.data();
  size_t n = text.size();
  __m256i any = _mm256_setzero_si256();
  for (; n >= 32; p += 32, n -= 32)
    any = _mm256_or_si256(any, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  if (_mm256_movemask_epi8(any) != 0) return false;
  uint64_t acc = 0;
  for (; n >= 8; p += 8, n -= 8) {
    uint64_t word;
    std::memcpy(&word, p, 8);
    acc |= word;
  }
  for (; n > 0; --n) acc |= static_cast<unsigned char>(*p++);
  return (acc & 0x8080808080808080ULL) == 0;
}

}  // namespace yagura::sigma

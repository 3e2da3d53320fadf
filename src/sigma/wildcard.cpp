// Sigma string escaping and glob matching (see wildcard.hpp for the algorithm).
#include "sigma/wildcard.hpp"

#include <immintrin.h>

#include <bit>
#include <cstdio>
#include <cstring>

#include "sigma/case_fold.hpp"

namespace yagura::sigma {

std::vector<GlobToken> ParseSigmaString(std::string_view raw) {
  std::vector<GlobToken> glob;
  std::string literal;
  auto flush = [&] {
    AppendLiteral(glob, literal);
    literal.clear();
  };
  for (size_t i = 0; i < raw.size(); ++i) {
    char c = raw[i];
    if (c == '\\') {
      if (i + 1 < raw.size()) {
        char next = raw[i + 1];
        if (next == '*' || next == '?' || next == '\\') {
          literal.push_back(next);
        } else {
          literal.push_back('\\');
          literal.push_back(next);
        }
        ++i;
      } else {
        literal.push_back('\\');  // a trailing lone backslash stays literal
      }
    } else if (c == '*') {
      flush();
      AppendStar(glob);
    } else if (c == '?') {
      flush();
      AppendOne(glob);
    } else {
      literal.push_back(c);
    }
  }
  flush();
  return glob;
}

void AppendLiteral(std::vector<GlobToken>& glob, std::string_view text) {
  if (text.empty()) return;
  if (!glob.empty() && glob.back().kind == GlobToken::Kind::kLiteral) {
    glob.back().text.append(text);
  } else {
    glob.push_back(GlobToken{GlobToken::Kind::kLiteral, std::string(text)});
  }
}

void AppendStar(std::vector<GlobToken>& glob) {
  if (!glob.empty() && glob.back().kind == GlobToken::Kind::kStar) return;
  glob.push_back(GlobToken{GlobToken::Kind::kStar, {}});
}

void AppendOne(std::vector<GlobToken>& glob) {
  glob.push_back(GlobToken{GlobToken::Kind::kOne, {}});
}

void AppendTokens(std::vector<GlobToken>& glob, const std::vector<GlobToken>& more) {
  for (const GlobToken& token : more) {
    switch (token.kind) {
      case GlobToken::Kind::kLiteral:
        AppendLiteral(glob, token.text);
        break;
      case GlobToken::Kind::kStar:
        AppendStar(glob);
        break;
      case GlobToken::Kind::kOne:
        AppendOne(glob);
        break;
    }
  }
}

bool HasWildcards(const std::vector<GlobToken>& glob) {
  for (const GlobToken& token : glob)
    if (token.kind != GlobToken::Kind::kLiteral) return true;
  return false;
}

bool StartsWithStar(const std::vector<GlobToken>& glob) {
  return !glob.empty() && glob.front().kind == GlobToken::Kind::kStar;
}

bool EndsWithStar(const std::vector<GlobToken>& glob) {
  return !glob.empty() && glob.back().kind == GlobToken::Kind::kStar;
}

std::string LiteralText(const std::vector<GlobToken>& glob) {
  std::string text;
  for (const GlobToken& token : glob)
    if (token.kind == GlobToken::Kind::kLiteral) text += token.text;
  return text;
}

namespace {

inline unsigned char AsciiLower(unsigned char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<unsigned char>(c + 32) : c;
}

// A position in the pattern: token index and byte offset inside a literal token.
struct PatternPos {
  size_t token = 0;
  size_t offset = 0;
};

}  // namespace

// `*literal*` on ASCII text. Candidates are the positions where both the literal's first and
// its last byte occur (either case unless cased), 32 positions at a time; only those are
// compared in full. Most Sigma values have this shape, and on long values (script blocks,
// command lines of real attacks) a literal starting with a common byte (a space, `-`, `e`)
// made a first-byte search stop every few bytes. Caseless, bytes are compared with bit 5 set
// on both sides, which folds ASCII letters and confuses a few punctuation bytes with others
// (`@` and `` ` ``, `[` and `{`): more candidates, never fewer.
bool ContainsAscii(std::string_view value, std::string_view literal, bool cased) {
  const size_t n = literal.size();
  if (n == 0) return true;
  if (n > value.size()) return false;
  const char* text = value.data();
  // The candidate search confuses some bytes, so every byte is compared here.
  auto matches_at = [&](size_t at) {
    for (size_t k = 0; k < n; ++k) {
      char a = text[at + k], b = literal[k];
      if (a != b && (cased || AsciiLower(a) != AsciiLower(b))) return false;
    }
    return true;
  };
  const auto fold = static_cast<char>(cased ? 0 : 0x20);
  const char first = static_cast<char>(literal[0] | fold);
  const char last = static_cast<char>(literal[n - 1] | fold);
  const size_t last_start = value.size() - n;  // the last position the literal can start at
  // Positions [base, base + 32) whose first and last bytes are candidates, as a bit mask.
  const __m256i fold_bits = _mm256_set1_epi8(fold);
  const __m256i first_bytes = _mm256_set1_epi8(first), last_bytes = _mm256_set1_epi8(last);
  auto candidates = [&](size_t base) {
    __m256i head = _mm256_or_si256(
        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(text + base)), fold_bits);
    __m256i tail = _mm256_or_si256(
        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(text + base + n - 1)), fold_bits);
    return static_cast<uint32_t>(_mm256_movemask_epi8(_mm256_and_si256(
        _mm256_cmpeq_epi8(head, first_bytes), _mm256_cmpeq_epi8(tail, last_bytes))));
  };
  auto any_matches = [&](uint32_t mask, size_t base) {
    for (; mask; mask &= mask - 1) {
      if (matches_at(base + static_cast<size_t>(std::countr_zero(mask)))) return true;
    }
    return false;
  };
  size_t at = 0;
  // Both loads of a step end at or before the value's last byte.
  for (; at + 32 <= last_start + 1; at += 32) {
    if (any_matches(candidates(at), at)) return true;
  }
  if (at > last_start) return false;
  if (last_start + 1 >= 32) {
    // The last few positions: one more step over the 32 positions that end at the last start,
    // without those already looked at.
    const size_t base = last_start + 1 - 32;
    return any_matches(candidates(base) & (~uint32_t{0} << (at - base)), base);
  }
  for (; at <= last_start; ++at) {
    if (static_cast<char>(text[at] | fold) == first &&
        static_cast<char>(text[at + n - 1] | fold) == last && matches_at(at)) {
      return true;
    }
  }
  return false;
}

namespace {

// Whether a literal of the pattern holds a code point that no ASCII character can match:
// a byte outside ASCII when cased, else a code point whose folding is outside ASCII (a few
// fold to ASCII letters, such as U+212A KELVIN SIGN). Such a pattern cannot match ASCII text.
bool NeedsNonAscii(const std::vector<GlobToken>& glob, bool cased) {
  for (const GlobToken& token : glob) {
    if (token.kind != GlobToken::Kind::kLiteral || IsAscii(token.text)) continue;
    if (cased) return true;
    for (size_t at = 0; at < token.text.size();) {
      if (FoldCodePoint(DecodeUtf8(token.text, &at)) >= 0x80) return true;
    }
  }
  return false;
}

}  // namespace

bool IsAsciiInfix(const std::vector<GlobToken>& glob) {
  return glob.size() == 3 && glob[0].kind == GlobToken::Kind::kStar &&
         glob[1].kind == GlobToken::Kind::kLiteral && glob[2].kind == GlobToken::Kind::kStar &&
         IsAscii(glob[1].text);
}

bool GlobMatch(const std::vector<GlobToken>& glob, std::string_view value, bool cased) {
  const bool ascii_value = IsAscii(value);
  if (IsAsciiInfix(glob)) {
    if (ascii_value) return ContainsAscii(value, glob[1].text, cased);
    return GlobMatchGeneral(glob, value, cased);
  }
  // The general matcher would compare such a literal with every position, decoding and
  // folding code points, to find nothing.
  if (ascii_value && NeedsNonAscii(glob, cased)) return false;
  return GlobMatchGeneral(glob, value, cased);
}

bool GlobMatchGeneral(const std::vector<GlobToken>& glob, std::string_view value, bool cased) {
  PatternPos p;
  size_t v = 0;
  bool have_star = false;
  PatternPos star_p;
  size_t star_v = 0;
  bool skip_first = false;  // see the kStar case
  unsigned char first = 0;
  const size_t n = glob.size();
  while (true) {
    while (p.token < n && glob[p.token].kind == GlobToken::Kind::kLiteral &&
           p.offset >= glob[p.token].text.size()) {
      ++p.token;
      p.offset = 0;
    }
    bool advanced = false;
    if (p.token == n) {
      if (v == value.size()) return true;
    } else {
      const GlobToken& token = glob[p.token];
      if (token.kind == GlobToken::Kind::kStar) {
        // A trailing star matches the rest of the value, whatever it is.
        if (p.token + 1 == n) return true;
        have_star = true;
        star_p = PatternPos{p.token + 1, 0};
        star_v = v;
        p = star_p;
        // When the star is followed by an ASCII literal, a retry can skip every ASCII byte that
        // cannot start it. Non-ASCII bytes stop the skip: some fold to ASCII (Kelvin sign).
        const GlobToken& next = glob[star_p.token];
        skip_first = next.kind == GlobToken::Kind::kLiteral &&
                     static_cast<unsigned char>(next.text[0]) < 0x80;
        if (skip_first) {
          first = static_cast<unsigned char>(next.text[0]);
          if (!cased) first = AsciiLower(first);
        }
        continue;
      }
      if (v < value.size()) {
        if (token.kind == GlobToken::Kind::kOne) {
          DecodeUtf8(value, &v);
          ++p.token;
          continue;
        }
        auto a = static_cast<unsigned char>(token.text[p.offset]);
        auto b = static_cast<unsigned char>(value[v]);
        if (cased) {
          if (a == b) {
            ++p.offset, ++v;
            advanced = true;
          }
        } else if ((a | b) < 0x80) {
          if (AsciiLower(a) == AsciiLower(b)) {
            ++p.offset, ++v;
            advanced = true;
          }
        } else {
          size_t po = p.offset, vo = v;
          if (FoldCodePoint(DecodeUtf8(token.text, &po)) == FoldCodePoint(DecodeUtf8(value, &vo))) {
            p.offset = po, v = vo;
            advanced = true;
          }
        }
        if (advanced) continue;
      }
    }
    // Mismatch: let the last star swallow one more character, or fail.
    if (!have_star || star_v >= value.size()) return false;
    DecodeUtf8(value, &star_v);
    if (skip_first) {
      while (star_v < value.size()) {
        auto c = static_cast<unsigned char>(value[star_v]);
        if (c >= 0x80 || (cased ? c : AsciiLower(c)) == first) break;
        ++star_v;
      }
    }
    v = star_v;
    p = star_p;
  }
}

std::string GlobToRegex(const std::vector<GlobToken>& glob) {
  std::string out;
  if (glob.size() == 1 && glob[0].kind == GlobToken::Kind::kStar) return ".*";
  size_t begin = 0, end = glob.size();
  if (StartsWithStar(glob)) {
    begin = 1;
  } else {
    out += "\\A";
  }
  bool trailing_star = end > begin && glob[end - 1].kind == GlobToken::Kind::kStar;
  if (trailing_star) --end;
  for (size_t i = begin; i < end; ++i) {
    const GlobToken& token = glob[i];
    switch (token.kind) {
      case GlobToken::Kind::kStar:
        out += ".*";
        break;
      case GlobToken::Kind::kOne:
        out += "(?:[\\x00-\\x7f\\xc0-\\xff][\\x80-\\xbf]*)";
        break;
      case GlobToken::Kind::kLiteral:
        for (char c : token.text) {
          auto u = static_cast<unsigned char>(c);
          if ((u >= '0' && u <= '9') || (u >= 'A' && u <= 'Z') || (u >= 'a' && u <= 'z') ||
              u == '_') {
            out.push_back(c);
          } else if (u >= 0x21 && u < 0x7F) {
            out.push_back('\\');
            out.push_back(c);
          } else {
            char buffer[8];
            std::snprintf(buffer, sizeof buffer, "\\x%02x", u);
            out += buffer;
          }
        }
        break;
    }
  }
  if (!trailing_star) out += "\\z";
  return out;
}

std::string GlobToSigma(const std::vector<GlobToken>& glob) {
  std::string out;
  for (const GlobToken& token : glob) {
    switch (token.kind) {
      case GlobToken::Kind::kStar:
        out += '*';
        break;
      case GlobToken::Kind::kOne:
        out += '?';
        break;
      case GlobToken::Kind::kLiteral:
        for (char c : token.text) {
          if (c == '*' || c == '?' || c == '\\') out += '\\';
          out += c;
        }
        break;
    }
  }
  return out;
}

}  // namespace yagura::sigma

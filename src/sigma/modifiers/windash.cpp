// windash: every `-` or `/` that starts a command-line flag becomes each of `-`, `/`, `–`
// (U+2013), `—` (U+2014) and `―` (U+2015); a value with n such dashes yields the 5^n
// combinations, ORed. "Starts a flag" is pySigma's regex `\B[-/]\b` applied to each literal part
// of the string: the character before is not a word character (or there is none) and the one
// after is. A dash inside a word (`set-mp`) is kept. Word characters are ASCII letters, digits
// and `_`, plus non-ASCII letters (approximated as every code point outside the Latin-1
// symbols, general punctuation and CJK punctuation blocks, since Python's \w is Unicode-aware).
#include "sigma/case_fold.hpp"
#include "sigma/modifiers/modifier.hpp"
#include "sigma/wildcard.hpp"

namespace yagura::sigma::modifiers {

namespace {

constexpr std::string_view DASHES[] = {"-", "/", "\xE2\x80\x93", "\xE2\x80\x94", "\xE2\x80\x95"};

bool IsWordCodePoint(uint32_t cp) {
  if (cp < 0x80) {
    return (cp >= '0' && cp <= '9') || (cp >= 'A' && cp <= 'Z') || (cp >= 'a' && cp <= 'z') ||
           cp == '_';
  }
  if (cp >= INVALID_BYTE_BASE) return false;
  if (cp <= 0xBF)
    return cp == 0xAA || cp == 0xB5 || cp == 0xBA || cp == 0xB2 || cp == 0xB3 || cp == 0xB9 ||
           (cp >= 0xBC && cp <= 0xBE);
  if (cp == 0xD7 || cp == 0xF7) return false;
  if (cp >= 0x2000 && cp <= 0x2BFF) return false;  // punctuation, symbols, arrows, box drawing
  if (cp >= 0x3000 && cp <= 0x303F) return false;  // CJK punctuation
  if (cp >= 0xFE30 && cp <= 0xFE4F) return false;
  if (cp >= 0xFF00 && cp <= 0xFF0F) return false;  // full-width punctuation
  return true;
}

// The code point just before byte offset `at` (at > 0).
uint32_t PreviousCodePoint(std::string_view text, size_t at) {
  size_t start = at - 1;
  while (start > 0 && at - start < 4 && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) {
    --start;
  }
  size_t cursor = start;
  uint32_t cp = DecodeUtf8(text, &cursor);
  if (cursor != at) return INVALID_BYTE_BASE + static_cast<unsigned char>(text[at - 1]);
  return cp;
}

// One literal part cut at its flag dashes: text pieces, with a dash slot between each two.
std::vector<std::string> SplitAtFlagDashes(std::string_view text) {
  std::vector<std::string> pieces(1);
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if ((c == '-' || c == '/') && i + 1 < text.size()) {
      bool before_word = i > 0 && IsWordCodePoint(PreviousCodePoint(text, i));
      size_t next = i + 1;
      bool after_word = IsWordCodePoint(DecodeUtf8(text, &next));
      if (!before_word && after_word) {
        pieces.emplace_back();
        continue;
      }
    }
    pieces.back().push_back(c);
  }
  return pieces;
}

Result<void> ApplyWindash(const ModifierContext& ctx, ValueState& value) {
  if (auto ok = RequireString(ctx, value); !ok) return ok;
  std::vector<std::vector<GlobToken>> expanded;
  for (const auto& glob : value.alternatives) {
    std::vector<std::vector<GlobToken>> partial(1);
    for (const GlobToken& token : glob) {
      if (token.kind != GlobToken::Kind::kLiteral) {
        for (auto& p : partial) AppendTokens(p, {token});
        continue;
      }
      std::vector<std::string> pieces = SplitAtFlagDashes(token.text);
      for (auto& p : partial) AppendLiteral(p, pieces[0]);
      for (size_t k = 1; k < pieces.size(); ++k) {
        if (partial.size() * std::size(DASHES) > MAX_ALTERNATIVES) {
          return TooManyAlternatives(ctx);
        }
        std::vector<std::vector<GlobToken>> next;
        next.reserve(partial.size() * std::size(DASHES));
        for (const auto& p : partial) {
          for (std::string_view dash : DASHES) {
            auto copy = p;
            AppendLiteral(copy, dash);
            AppendLiteral(copy, pieces[k]);
            next.push_back(std::move(copy));
          }
        }
        partial = std::move(next);
      }
    }
    for (auto& p : partial) expanded.push_back(std::move(p));
    if (expanded.size() > MAX_ALTERNATIVES) {
      return TooManyAlternatives(ctx);
    }
  }
  value.alternatives = std::move(expanded);
  value.transformed = true;
  return {};
}

}  // namespace

const Modifier WINDASH{"windash", nullptr, ApplyWindash};

}  // namespace yagura::sigma::modifiers

// Sigma strings: escaping, wildcard tokens and glob matching.
//
// A rule string is turned into GlobTokens once, at load time, by the exact pySigma escaping
// algorithm (docs/sigma-spec.md section 4): a backslash escapes only `*`, `?` and `\`; before any
// other character, or at the end, it is literal. Matching walks the pattern and the value one
// code point at a time with the classic single-backtrack glob algorithm (on a mismatch, resume
// after the last `*` one character further on), which is linear for the common shapes
// (`*x*`, `x*`, `*x`) and never allocates. Comparison is case-insensitive with simple Unicode
// folding (sigma/case_fold.hpp) unless the predicate is |cased; `?` consumes one code point.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "sigma/predicate.hpp"

namespace yagura::sigma {

// Resolves Sigma escaping: `\*` `\?` `\\` are literals, a lone `*` / `?` a wildcard.
[[nodiscard]] std::vector<GlobToken> ParseSigmaString(std::string_view raw);

// Token list builders that keep the list canonical: adjacent literals merged, runs of `*`
// collapsed, no empty literal.
void AppendLiteral(std::vector<GlobToken>& glob, std::string_view text);
void AppendStar(std::vector<GlobToken>& glob);
void AppendOne(std::vector<GlobToken>& glob);
void AppendTokens(std::vector<GlobToken>& glob, const std::vector<GlobToken>& more);

[[nodiscard]] bool HasWildcards(const std::vector<GlobToken>& glob);
[[nodiscard]] bool StartsWithStar(const std::vector<GlobToken>& glob);
[[nodiscard]] bool EndsWithStar(const std::vector<GlobToken>& glob);
// The concatenated literal text (wildcards are skipped).
[[nodiscard]] std::string LiteralText(const std::vector<GlobToken>& glob);

// Whether the whole of `value` matches the pattern.
[[nodiscard]] bool GlobMatch(const std::vector<GlobToken>& glob, std::string_view value,
                             bool cased);
// The general algorithm behind GlobMatch, without its fast path for `*literal*` on ASCII text
// (tests compare the two).
[[nodiscard]] bool GlobMatchGeneral(const std::vector<GlobToken>& glob, std::string_view value,
                                    bool cased);

// Whether the glob is `*literal*` with an ASCII literal (glob[1]): GlobMatch decides it on ASCII
// text by ContainsAscii.
[[nodiscard]] bool IsAsciiInfix(const std::vector<GlobToken>& glob);

// Whether `literal` occurs in `text`, ASCII case-insensitively unless `cased` (other bytes
// compare as they are). GlobMatch's `*literal*` on ASCII text.
[[nodiscard]] bool ContainsAscii(std::string_view text, std::string_view literal, bool cased);

// The pattern as an anchored regular expression for Hyperscan (compile with HS_FLAG_DOTALL, and
// HS_FLAG_CASELESS unless cased). Literal bytes are escaped (non-ASCII as \xHH), `*` is `.*`, and
// `?` is one UTF-8 code point, `(?:[\x00-\x7f\xc0-\xff][\x80-\xbf]*)`, so it agrees with
// GlobMatch on non-ASCII values. The match is anchored with \A and \z; a leading or trailing `*`
// simply drops that anchor (`*x*` becomes `x`). HS_FLAG_CASELESS folds ASCII only: non-ASCII
// letters in a caseless pattern need confirmation with Predicate::TestValue. Patterns that
// match the empty string (`*` gives `.*`, '' gives `\A\z`) need HS_FLAG_ALLOWEMPTY.
[[nodiscard]] std::string GlobToRegex(const std::vector<GlobToken>& glob);

// The pattern written back as a Sigma string (escaped), for messages and tests.
[[nodiscard]] std::string GlobToSigma(const std::vector<GlobToken>& glob);

}  // namespace yagura::sigma

// expand: `%name%` placeholders in the value are replaced by the deployment's values for that
// name (LoadOptions::placeholders), each a Sigma string that may hold wildcards. Several values
// become ORed alternatives; several placeholders in one value give their cartesian product.
// `\%` is a literal percent sign. A placeholder without configured values refuses the rule, as
// the specification requires: silently matching nothing (or everything) would be worse.
#include "sigma/modifiers/modifier.hpp"
#include "sigma/wildcard.hpp"

namespace yagura::sigma::modifiers {

namespace {

bool IsNameChar(char c) {
  return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

// A piece of the value: fixed tokens, or a placeholder to substitute.
struct Segment {
  std::vector<GlobToken> tokens;
  std::string placeholder;  // empty: fixed
};

void AddFixed(std::vector<Segment>& segments, const GlobToken& token) {
  if (segments.empty() || !segments.back().placeholder.empty()) segments.emplace_back();
  AppendTokens(segments.back().tokens, {token});
}

std::vector<Segment> Split(const std::vector<GlobToken>& glob) {
  std::vector<Segment> segments;
  for (const GlobToken& token : glob) {
    if (token.kind != GlobToken::Kind::kLiteral) {
      AddFixed(segments, token);
      continue;
    }
    const std::string& text = token.text;
    std::string literal;
    auto flush = [&] {
      if (!literal.empty()) AddFixed(segments, GlobToken{GlobToken::Kind::kLiteral, literal});
      literal.clear();
    };
    for (size_t i = 0; i < text.size(); ++i) {
      if (text[i] == '\\' && i + 1 < text.size() && text[i + 1] == '%') {
        literal.push_back('%');
        ++i;
        continue;
      }
      if (text[i] == '%') {
        size_t end = i + 1;
        while (end < text.size() && IsNameChar(text[end])) ++end;
        if (end > i + 1 && end < text.size() && text[end] == '%') {
          flush();
          segments.push_back(Segment{{}, text.substr(i + 1, end - i - 1)});
          i = end;
          continue;
        }
      }
      literal.push_back(text[i]);
    }
    flush();
  }
  return segments;
}

Result<void> ApplyExpand(const ModifierContext& ctx, ValueState& value) {
  if (auto ok = RequireString(ctx, value); !ok) return ok;
  std::vector<std::vector<GlobToken>> expanded;
  for (const auto& glob : value.alternatives) {
    std::vector<std::vector<GlobToken>> partial(1);
    for (const Segment& segment : Split(glob)) {
      if (segment.placeholder.empty()) {
        for (auto& p : partial) AppendTokens(p, segment.tokens);
        continue;
      }
      auto it = ctx.options.placeholders.find(segment.placeholder);
      if (it == ctx.options.placeholders.end() || it->second.empty()) {
        return ModifierError(
            ctx, "placeholder '%" + segment.placeholder + "%' has no configured values");
      }
      if (partial.size() * it->second.size() > MAX_ALTERNATIVES) {
        return TooManyAlternatives(ctx);
      }
      std::vector<std::vector<GlobToken>> next;
      for (const auto& p : partial) {
        for (const std::string& replacement : it->second) {
          auto copy = p;
          AppendTokens(copy, ParseSigmaString(replacement));
          next.push_back(std::move(copy));
        }
      }
      partial = std::move(next);
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

const Modifier EXPAND{"expand", nullptr, ApplyExpand};

}  // namespace yagura::sigma::modifiers

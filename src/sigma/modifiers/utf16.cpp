// utf16le / utf16be / utf16 (little-endian with a BOM) / wide (= utf16le): re-encode the literal
// parts of the string; wildcards stay wildcards. Usually followed by base64 or base64offset for
// PowerShell -EncodedCommand payloads. Unlike pySigma, which accepts only ASCII here, any UTF-8
// text is encoded (with surrogate pairs above U+FFFF).
#include "sigma/case_fold.hpp"
#include "sigma/modifiers/modifier.hpp"
#include "sigma/wildcard.hpp"

namespace yagura::sigma::modifiers {

namespace {

void PutUnit(std::string& out, uint16_t unit, bool big_endian) {
  char hi = static_cast<char>(unit >> 8), lo = static_cast<char>(unit & 0xFF);
  if (big_endian) {
    out.push_back(hi);
    out.push_back(lo);
  } else {
    out.push_back(lo);
    out.push_back(hi);
  }
}

std::string ToUtf16(std::string_view text, bool big_endian) {
  std::string out;
  for (size_t at = 0; at < text.size();) {
    uint32_t cp = DecodeUtf8(text, &at);
    if (cp >= INVALID_BYTE_BASE) cp -= INVALID_BYTE_BASE;  // a stray byte: encode it as Latin-1
    if (cp >= 0x10000) {
      cp -= 0x10000;
      PutUnit(out, static_cast<uint16_t>(0xD800 + (cp >> 10)), big_endian);
      PutUnit(out, static_cast<uint16_t>(0xDC00 + (cp & 0x3FF)), big_endian);
    } else {
      PutUnit(out, static_cast<uint16_t>(cp), big_endian);
    }
  }
  return out;
}

Result<void> Reencode(const ModifierContext& ctx, ValueState& value, bool big_endian, bool bom) {
  if (auto ok = RequireString(ctx, value); !ok) return ok;
  for (auto& glob : value.alternatives) {
    std::vector<GlobToken> out;
    if (bom) AppendLiteral(out, "\xFF\xFE");
    for (const GlobToken& token : glob) {
      if (token.kind == GlobToken::Kind::kLiteral) {
        AppendLiteral(out, ToUtf16(token.text, big_endian));
      } else {
        AppendTokens(out, {token});
      }
    }
    glob = std::move(out);
  }
  value.transformed = true;
  return {};
}

Result<void> ApplyUtf16Le(const ModifierContext& ctx, ValueState& value) {
  return Reencode(ctx, value, false, false);
}
Result<void> ApplyUtf16Be(const ModifierContext& ctx, ValueState& value) {
  return Reencode(ctx, value, true, false);
}
Result<void> ApplyUtf16(const ModifierContext& ctx, ValueState& value) {
  return Reencode(ctx, value, false, true);
}

}  // namespace

const Modifier UTF16LE{"utf16le", nullptr, ApplyUtf16Le};
const Modifier UTF16BE{"utf16be", nullptr, ApplyUtf16Be};
const Modifier UTF16{"utf16", nullptr, ApplyUtf16};
const Modifier WIDE{"wide", nullptr, ApplyUtf16Le};

}  // namespace yagura::sigma::modifiers

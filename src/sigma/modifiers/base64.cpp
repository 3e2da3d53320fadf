// base64 / base64offset: encode the value's bytes. base64 gives one standard padded encoding.
// base64offset gives the three forms the value takes inside a longer base64 text, depending on
// its byte offset modulo 3: for i = 0, 1, 2, encode i spaces + value, then drop the first
// {0, 2, 3}[i] characters (they depend on the unknown preceding bytes) and the last
// {0, 3, 2}[(len + i) % 3] characters (they depend on the following bytes); the three are ORed.
// Wildcards cannot be encoded, so a value containing one is refused.
#include "sigma/modifiers/modifier.hpp"
#include "sigma/wildcard.hpp"

namespace yagura::sigma::modifiers {

std::string Base64Encode(std::string_view bytes) {
  static constexpr char ALPHABET[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    uint32_t n = (static_cast<unsigned char>(bytes[i]) << 16) |
                 (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                 static_cast<unsigned char>(bytes[i + 2]);
    out += ALPHABET[(n >> 18) & 63];
    out += ALPHABET[(n >> 12) & 63];
    out += ALPHABET[(n >> 6) & 63];
    out += ALPHABET[n & 63];
  }
  size_t rest = bytes.size() - i;
  if (rest == 1) {
    uint32_t n = static_cast<unsigned char>(bytes[i]) << 16;
    out += ALPHABET[(n >> 18) & 63];
    out += ALPHABET[(n >> 12) & 63];
    out += "==";
  } else if (rest == 2) {
    uint32_t n = (static_cast<unsigned char>(bytes[i]) << 16) |
                 (static_cast<unsigned char>(bytes[i + 1]) << 8);
    out += ALPHABET[(n >> 18) & 63];
    out += ALPHABET[(n >> 12) & 63];
    out += ALPHABET[(n >> 6) & 63];
    out += '=';
  }
  return out;
}

std::vector<std::string> Base64OffsetVariants(std::string_view bytes) {
  static constexpr size_t DROP_FRONT[] = {0, 2, 3};
  static constexpr size_t DROP_BACK[] = {0, 3, 2};
  std::vector<std::string> variants;
  for (size_t i = 0; i < 3; ++i) {
    std::string shifted(i, ' ');
    shifted.append(bytes);
    std::string encoded = Base64Encode(shifted);
    size_t front = DROP_FRONT[i];
    size_t back = DROP_BACK[(bytes.size() + i) % 3];
    if (front + back >= encoded.size()) {
      variants.emplace_back();
    } else {
      variants.push_back(encoded.substr(front, encoded.size() - front - back));
    }
  }
  return variants;
}

namespace {

Result<void> Encode(const ModifierContext& ctx, ValueState& value, bool offsets) {
  if (auto ok = RequireString(ctx, value); !ok) return ok;
  std::vector<std::vector<GlobToken>> encoded;
  for (const auto& glob : value.alternatives) {
    if (HasWildcards(glob)) return ModifierError(ctx, "cannot encode a value with wildcards");
    std::string bytes = LiteralText(glob);
    if (offsets) {
      for (const std::string& variant : Base64OffsetVariants(bytes)) {
        std::vector<GlobToken> out;
        AppendLiteral(out, variant);
        encoded.push_back(std::move(out));
      }
    } else {
      std::vector<GlobToken> out;
      AppendLiteral(out, Base64Encode(bytes));
      encoded.push_back(std::move(out));
    }
  }
  value.alternatives = std::move(encoded);
  value.transformed = true;
  return {};
}

Result<void> ApplyBase64(const ModifierContext& ctx, ValueState& value) {
  return Encode(ctx, value, false);
}
Result<void> ApplyBase64Offset(const ModifierContext& ctx, ValueState& value) {
  return Encode(ctx, value, true);
}

}  // namespace

const Modifier BASE64{"base64", nullptr, ApplyBase64};
const Modifier BASE64OFFSET{"base64offset", nullptr, ApplyBase64Offset};

}  // namespace yagura::sigma::modifiers

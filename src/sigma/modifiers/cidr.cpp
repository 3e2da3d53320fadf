// cidr: the field must hold an IP address inside the network. Networks are IPv4 or IPv6 with a
// prefix length (a bare address means a host network); host bits set after the prefix are an
// error, as in pySigma. Event values are parsed strictly (dotted quad, or RFC 4291 text with
// `::` and an optional embedded IPv4 tail and `%zone`); an IPv4-mapped IPv6 address
// (::ffff:a.b.c.d) is treated as the IPv4 address so either notation matches a v4 network.
#include <charconv>

#include "sigma/modifiers/modifier.hpp"

namespace yagura::sigma::modifiers {

namespace {

bool ParseV4(std::string_view text, uint8_t* out) {
  for (int part = 0; part < 4; ++part) {
    if (part > 0) {
      if (text.empty() || text.front() != '.') return false;
      text.remove_prefix(1);
    }
    size_t digits = 0;
    while (digits < text.size() && digits < 4 && text[digits] >= '0' && text[digits] <= '9')
      ++digits;
    if (digits == 0 || digits > 3) return false;
    unsigned value = 0;
    std::from_chars(text.data(), text.data() + digits, value);
    if (value > 255) return false;
    out[part] = static_cast<uint8_t>(value);
    text.remove_prefix(digits);
  }
  return text.empty();
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool ParseV6(std::string_view text, uint8_t* out) {
  if (auto zone = text.find('%'); zone != std::string_view::npos) text = text.substr(0, zone);
  uint16_t head[8], tail[8];
  int head_count = 0, tail_count = 0;
  bool compressed = false;
  if (text.substr(0, 2) == "::") {
    compressed = true;
    text.remove_prefix(2);
  } else if (text.empty() || text.front() == ':') {
    return false;
  }
  while (!text.empty()) {
    // An embedded IPv4 address ends the text and fills two groups.
    size_t colon = text.find(':');
    std::string_view group = text.substr(0, colon);
    if (colon == std::string_view::npos && group.find('.') != std::string_view::npos) {
      uint8_t v4[4];
      if (!ParseV4(group, v4)) return false;
      uint16_t* groups = compressed ? tail : head;
      int& count = compressed ? tail_count : head_count;
      if (count + 2 > 8) return false;
      groups[count++] = static_cast<uint16_t>(v4[0] << 8 | v4[1]);
      groups[count++] = static_cast<uint16_t>(v4[2] << 8 | v4[3]);
      text = {};
      break;
    }
    if (group.empty() || group.size() > 4) return false;
    uint16_t value = 0;
    for (char c : group) {
      int h = HexValue(c);
      if (h < 0) return false;
      value = static_cast<uint16_t>(value << 4 | h);
    }
    uint16_t* groups = compressed ? tail : head;
    int& count = compressed ? tail_count : head_count;
    if (count >= 8) return false;
    groups[count++] = value;
    if (colon == std::string_view::npos) {
      text = {};
      break;
    }
    text.remove_prefix(colon + 1);
    if (!text.empty() && text.front() == ':') {
      if (compressed) return false;  // a second "::"
      compressed = true;
      text.remove_prefix(1);
    } else if (text.empty()) {
      return false;  // trailing single ':'
    }
  }
  int total = head_count + tail_count;
  if (compressed ? total > 7 : total != 8) return false;
  uint16_t groups[8] = {};
  for (int i = 0; i < head_count; ++i) groups[i] = head[i];
  for (int i = 0; i < tail_count; ++i) groups[8 - tail_count + i] = tail[i];
  for (int i = 0; i < 8; ++i) {
    out[2 * i] = static_cast<uint8_t>(groups[i] >> 8);
    out[2 * i + 1] = static_cast<uint8_t>(groups[i] & 0xFF);
  }
  return true;
}

bool IsV4Mapped(const std::array<uint8_t, 16>& a) {
  for (int i = 0; i < 10; ++i)
    if (a[i] != 0) return false;
  return a[10] == 0xFF && a[11] == 0xFF;
}

Result<void> CheckCidr(const ModifierContext& ctx, ItemFlags&) {
  for (size_t i = 0; i < ctx.index; ++i) {
    if (ctx.chain[i] != "all" && ctx.chain[i] != "neq") {
      return ModifierError(ctx, "must be the first modifier");
    }
  }
  return {};
}

Result<void> ApplyCidr(const ModifierContext& ctx, ValueState& value) {
  if (auto ok = RequireRaw(ctx, value); !ok) return ok;
  auto network = ParseCidr(value.raw);
  if (!network) return ModifierError(ctx, network.error().message);
  value.proto.kind = PredicateKind::kCidr;
  value.proto.network = *network;
  value.alternatives.clear();
  return {};
}

}  // namespace

bool ParseIp(std::string_view text, std::array<uint8_t, 16>* address, bool* v6) {
  address->fill(0);
  if (ParseV4(text, address->data())) {
    *v6 = false;
    return true;
  }
  if (text.find(':') == std::string_view::npos || !ParseV6(text, address->data())) return false;
  if (IsV4Mapped(*address)) {
    std::array<uint8_t, 16> v4{};
    for (int i = 0; i < 4; ++i) v4[i] = (*address)[12 + i];
    *address = v4;
    *v6 = false;
    return true;
  }
  *v6 = true;
  return true;
}

Result<IpNetwork> ParseCidr(std::string_view text) {
  IpNetwork network;
  std::string_view address = text;
  int prefix = -1;
  if (auto slash = text.find('/'); slash != std::string_view::npos) {
    address = text.substr(0, slash);
    std::string_view digits = text.substr(slash + 1);
    int value = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size()) {
      return Fail("invalid network '" + std::string(text) + "': bad prefix length");
    }
    prefix = value;
  }
  if (!ParseIp(address, &network.address, &network.v6)) {
    return Fail("invalid network '" + std::string(text) + "': not an IP address");
  }
  int bits = network.v6 ? 128 : 32;
  if (prefix < 0) prefix = bits;
  if (prefix > bits) {
    return Fail("invalid network '" + std::string(text) + "': prefix longer than the address");
  }
  network.prefix = static_cast<uint8_t>(prefix);
  for (int bit = prefix; bit < bits; ++bit) {
    if (network.address[bit / 8] & (0x80 >> (bit % 8))) {
      return Fail("invalid network '" + std::string(text) + "': host bits are set");
    }
  }
  return network;
}

bool MatchCidr(const Predicate& predicate, const event::FieldValue& value) {
  std::array<uint8_t, 16> address;
  bool v6 = false;
  if (!ParseIp(value.text, &address, &v6) || v6 != predicate.network.v6) return false;
  const IpNetwork& network = predicate.network;
  int full = network.prefix / 8;
  for (int i = 0; i < full; ++i)
    if (address[i] != network.address[i]) return false;
  int rest = network.prefix % 8;
  if (rest == 0) return true;
  auto mask = static_cast<uint8_t>(0xFF << (8 - rest));
  return (address[full] & mask) == network.address[full];
}

const Modifier CIDR{"cidr", CheckCidr, ApplyCidr};

}  // namespace yagura::sigma::modifiers

// Canonical forms of observable values.
//
// Every function is a single left-to-right scan over the input that validates and writes the
// canonical form straight into the caller's buffer: no regular expressions, no temporary
// strings, so after the buffer has grown once the event hot path allocates nothing. URLs are
// first split into borrowed parts (scheme, user info, host, port, path, query) and only then
// written, so DetectType can validate a URL without any buffer at all. IPv6 follows RFC 4291
// section 2.2 for parsing and RFC 5952 for the text written back.
#include "intel/normalise.hpp"

#include <array>

#include <cstring>

namespace yagura::intel {
namespace {

constexpr bool IsDigit(char c) { return c >= '0' && c <= '9'; }
constexpr bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
constexpr bool IsAlnum(char c) { return IsDigit(c) || IsAlpha(c); }
constexpr bool IsNonAscii(char c) { return static_cast<unsigned char>(c) >= 0x80; }
constexpr bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
constexpr char ToLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

constexpr int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
// Lower-case hex digit of each byte, or 0 for bytes that are not hex digits.
constexpr std::array<char, 256> MakeHexLower() {
  std::array<char, 256> table{};
  for (int c = '0'; c <= '9'; ++c) table[c] = static_cast<char>(c);
  for (int c = 'a'; c <= 'f'; ++c) table[c] = static_cast<char>(c);
  for (int c = 'A'; c <= 'F'; ++c) table[c] = static_cast<char>(c + 32);
  return table;
}
constexpr std::array<char, 256> HEX_TO_LOWER = MakeHexLower();
constexpr char HEX_UPPER[] = "0123456789ABCDEF";
constexpr char HEX_LOWER[] = "0123456789abcdef";

std::string_view Trim(std::string_view text) {
  while (!text.empty() && IsSpace(text.front())) text.remove_prefix(1);
  while (!text.empty() && IsSpace(text.back())) text.remove_suffix(1);
  return text;
}

bool AllHex(std::string_view text) {
  for (char c : text) {
    if (HexValue(c) < 0) return false;
  }
  return true;
}

// Decimal prefix length of a CIDR suffix: 1-3 digits, at most `max`.
std::optional<uint8_t> ParsePrefix(std::string_view text, unsigned max) {
  if (text.empty() || text.size() > 3) return std::nullopt;
  unsigned value = 0;
  for (char c : text) {
    if (!IsDigit(c)) return std::nullopt;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (value > max) return std::nullopt;
  return static_cast<uint8_t>(value);
}

// RFC 4291 text form without brackets or zone.
std::optional<Ipv6Bytes> ParseIpv6Bare(std::string_view s) {
  uint16_t groups[8] = {};
  int count = 0;
  int gap = -1;  // number of groups before "::", or -1 without one
  size_t i = 0;
  const size_t n = s.size();
  if (n < 2) return std::nullopt;
  if (s[0] == ':') {
    if (s[1] != ':') return std::nullopt;  // a single leading ':' is not a form
    gap = 0;
    i = 2;
  }
  while (i < n) {
    size_t end = i;
    bool dotted = false;
    while (end < n && s[end] != ':') {
      if (s[end] == '.') dotted = true;
      ++end;
    }
    std::string_view token = s.substr(i, end - i);
    if (dotted) {
      // An embedded IPv4 address takes the last two groups and ends the text.
      if (end != n || count > 6) return std::nullopt;
      auto v4 = ParseIpv4(token);
      if (!v4) return std::nullopt;
      groups[count++] = static_cast<uint16_t>(*v4 >> 16);
      groups[count++] = static_cast<uint16_t>(*v4 & 0xffff);
      i = n;
      break;
    }
    if (token.empty() || token.size() > 4 || count == 8) return std::nullopt;
    unsigned value = 0;
    for (char c : token) {
      int digit = HexValue(c);
      if (digit < 0) return std::nullopt;
      value = value * 16 + static_cast<unsigned>(digit);
    }
    groups[count++] = static_cast<uint16_t>(value);
    i = end;
    if (i == n) break;
    ++i;  // the ':'
    if (i < n && s[i] == ':') {
      if (gap >= 0) return std::nullopt;  // at most one "::"
      gap = count;
      ++i;
    } else if (i == n) {
      return std::nullopt;  // a single trailing ':'
    }
  }
  // "::" stands for at least one zero group, so with it at most seven are written.
  if (gap < 0 ? count != 8 : count > 7) return std::nullopt;
  Ipv6Bytes bytes{};
  int head = gap < 0 ? count : gap;
  int tail = count - head;
  for (int g = 0; g < head; ++g) {
    bytes[2 * g] = static_cast<uint8_t>(groups[g] >> 8);
    bytes[2 * g + 1] = static_cast<uint8_t>(groups[g] & 0xff);
  }
  for (int g = 0; g < tail; ++g) {
    int slot = 8 - tail + g;
    bytes[2 * slot] = static_cast<uint8_t>(groups[head + g] >> 8);
    bytes[2 * slot + 1] = static_cast<uint8_t>(groups[head + g] & 0xff);
  }
  return bytes;
}

// Strips "[...]" and a zone ("%eth0", "%25eth0" in URLs).
std::optional<std::string_view> StripIpv6Decoration(std::string_view text) {
  if (!text.empty() && text.front() == '[') {
    if (text.size() < 2 || text.back() != ']') return std::nullopt;
    text = text.substr(1, text.size() - 2);
  }
  size_t percent = text.find('%');
  if (percent != std::string_view::npos) {
    if (percent + 1 == text.size()) return std::nullopt;  // an empty zone
    text = text.substr(0, percent);
  }
  return text;
}

// ---- Domain names ----------------------------------------------------------------------------

// Validates `text` (already trimmed) as a domain and appends its canonical form to `out`.
bool AppendDomain(std::string_view text, std::string& out) {
  if (!text.empty() && text.back() == '.') text.remove_suffix(1);
  if (text.empty() || text.size() > 253) return false;
  size_t start = out.size();
  int labels = 0;
  size_t label_length = 0;
  bool label_all_digits = true;
  for (char c : text) {
    if (c == '.') {
      if (label_length == 0) {
        out.resize(start);
        return false;
      }
      ++labels;
      label_length = 0;
      label_all_digits = true;
      out.push_back('.');
      continue;
    }
    if (!(IsAlnum(c) || c == '-' || c == '_' || IsNonAscii(c)) || ++label_length > 63) {
      out.resize(start);
      return false;
    }
    if (!IsDigit(c)) label_all_digits = false;
    out.push_back(ToLower(c));
  }
  ++labels;  // the last label is non-empty: the text does not end with '.'
  if (labels < 2 || label_all_digits) {
    out.resize(start);
    return false;
  }
  return true;
}

// ---- URLs ------------------------------------------------------------------------------------

struct UrlParts {
  std::string_view scheme;  // as written; "http" when assumed
  std::string_view userinfo;
  bool has_userinfo = false;
  std::string_view host;  // without a trailing dot; without brackets for IPv6
  bool ipv6_host = false;
  Ipv6Bytes ipv6{};
  uint32_t port = 0;
  bool has_port = false;
  std::string_view path;
  std::string_view query;
  bool has_query = false;
};

// RFC 3986 reg-name characters (unreserved, sub-delims, '%'), plus non-ASCII bytes.
bool IsHostChar(char c) {
  return IsAlnum(c) || IsNonAscii(c) || (c != '\0' && std::strchr("-._~%!$&'()*+,;=", c));
}

bool IsUnreserved(char c) { return IsAlnum(c) || c == '-' || c == '.' || c == '_' || c == '~'; }

// Bytes that cannot appear literally in a URL and that logs nevertheless show decoded.
bool MustEncode(char c) {
  auto u = static_cast<unsigned char>(c);
  if (u <= 0x20 || u >= 0x7f) return true;
  return c == '"' || c == '<' || c == '>' || c == '`' || c == '{' || c == '}';
}

bool SplitUrl(std::string_view text, bool assume_http, UrlParts& parts) {
  text = Trim(text);
  // Scheme: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) followed by "://".
  size_t i = 0;
  if (!text.empty() && IsAlpha(text[0])) {
    i = 1;
    while (i < text.size() &&
           (IsAlnum(text[i]) || text[i] == '+' || text[i] == '-' || text[i] == '.')) {
      ++i;
    }
  }
  std::string_view rest;
  if (i > 0 && text.substr(i, 3) == "://") {
    parts.scheme = text.substr(0, i);
    rest = text.substr(i + 3);
  } else {
    // A "://" after something that is not a scheme is garbage, not a host name.
    if (!assume_http || text.find("://") != std::string_view::npos) return false;
    parts.scheme = "http";
    rest = text;
  }
  size_t authority_end = rest.find_first_of("/?#");
  if (authority_end == std::string_view::npos) authority_end = rest.size();
  std::string_view authority = rest.substr(0, authority_end);
  std::string_view tail = rest.substr(authority_end);

  size_t at = authority.rfind('@');
  if (at != std::string_view::npos) {
    parts.userinfo = authority.substr(0, at);
    parts.has_userinfo = true;
    for (char c : parts.userinfo) {
      if (MustEncode(c) && !IsNonAscii(c)) return false;
    }
    authority = authority.substr(at + 1);
  }
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return false;
    auto stripped = StripIpv6Decoration(authority.substr(0, close + 1));
    if (!stripped) return false;
    auto address = ParseIpv6Bare(*stripped);
    if (!address) return false;
    parts.ipv6_host = true;
    parts.ipv6 = *address;
    parts.host = *stripped;
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return false;
      port = after.substr(1);
      parts.has_port = true;
    }
  } else {
    size_t colon = authority.rfind(':');
    std::string_view host = authority;
    if (colon != std::string_view::npos) {
      host = authority.substr(0, colon);
      port = authority.substr(colon + 1);
      parts.has_port = true;
    }
    if (!host.empty() && host.back() == '.') host.remove_suffix(1);
    if (host.empty()) return false;
    for (char c : host) {
      if (!IsHostChar(c)) return false;
    }
    // An empty label ("a..b", "a.." whose one trailing dot was dropped) names no host, as for
    // domains; and canonical forms must stay canonical when normalised again.
    if (host.front() == '.' || host.back() == '.' || host.find("..") != std::string_view::npos) {
      return false;
    }
    parts.host = host;
  }
  if (parts.has_port) {
    if (port.size() > 5) return false;
    uint32_t value = 0;
    for (char c : port) {
      if (!IsDigit(c)) return false;
      value = value * 10 + static_cast<uint32_t>(c - '0');
    }
    if (value > 65535) return false;
    parts.port = value;
    parts.has_port = !port.empty();  // "host:" means the default port
  }
  size_t fragment = tail.find('#');
  if (fragment != std::string_view::npos) tail = tail.substr(0, fragment);
  size_t question = tail.find('?');
  if (question != std::string_view::npos) {
    parts.path = tail.substr(0, question);
    parts.query = tail.substr(question + 1);
    parts.has_query = true;
  } else {
    parts.path = tail;
  }
  return true;
}

uint32_t DefaultPort(std::string_view lower_scheme) {
  if (lower_scheme == "http" || lower_scheme == "ws") return 80;
  if (lower_scheme == "https" || lower_scheme == "wss") return 443;
  if (lower_scheme == "ftp") return 21;
  return 0;
}

void AppendLower(std::string_view text, std::string& out) {
  for (char c : text) out.push_back(ToLower(c));
}

// Path or query: unreserved escapes decoded, other escapes' hex upper-cased, bytes that must be
// escaped escaped, and a '%' that starts no escape escaped too.
void AppendUrlComponent(std::string_view text, std::string& out) {
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%' && i + 2 < text.size() && HexValue(text[i + 1]) >= 0 &&
        HexValue(text[i + 2]) >= 0) {
      char decoded = static_cast<char>(HexValue(text[i + 1]) * 16 + HexValue(text[i + 2]));
      if (IsUnreserved(decoded)) {
        out.push_back(decoded);
      } else {
        out.push_back('%');
        out.push_back(HEX_UPPER[HexValue(text[i + 1])]);
        out.push_back(HEX_UPPER[HexValue(text[i + 2])]);
      }
      i += 2;
    } else if (c == '%') {
      // A '%' that starts no escape is a percent sign: written as one ("%25"). Left bare, it
      // could start an escape with the bytes decoded after it ("%f%41" gave "%fA").
      out.append("%25");
    } else if (MustEncode(c)) {
      auto u = static_cast<unsigned char>(c);
      out.push_back('%');
      out.push_back(HEX_UPPER[u >> 4]);
      out.push_back(HEX_UPPER[u & 0xf]);
    } else {
      out.push_back(c);
    }
  }
}

void AppendDecimal(uint32_t value, std::string& out) {
  char digits[10];
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value != 0);
  while (n > 0) out.push_back(digits[--n]);
}

// ---- Hashes ----------------------------------------------------------------------------------

size_t HexLength(HashAlgorithm algorithm) {
  switch (algorithm) {
    case HashAlgorithm::kMd5:
      return 32;
    case HashAlgorithm::kSha1:
      return 40;
    case HashAlgorithm::kSha256:
      return 64;
    case HashAlgorithm::kSha512:
      return 128;
    case HashAlgorithm::kSha3_256:
      return 64;
    case HashAlgorithm::kSha3_512:
      return 128;
    case HashAlgorithm::kImphash:
      return 32;
    default:
      return 0;
  }
}

bool IsBase64Char(char c) { return IsAlnum(c) || c == '+' || c == '/'; }

// "blocksize:hash:hash" as the ssdeep tool prints it.
bool IsSsdeep(std::string_view text) {
  size_t first = text.find(':');
  if (first == 0 || first == std::string_view::npos || first > 10) return false;
  for (size_t i = 0; i < first; ++i) {
    if (!IsDigit(text[i])) return false;
  }
  size_t second = text.find(':', first + 1);
  if (second == std::string_view::npos || second == first + 1 || second + 1 == text.size()) {
    return false;
  }
  for (size_t i = first + 1; i < text.size(); ++i) {
    if (i != second && !IsBase64Char(text[i])) return false;
  }
  return true;
}

// TLSH digests: 70 hex digits (128 buckets, 1-byte checksum), 74 (3-byte checksum), 134 or
// 138 (256 buckets); version 4 writes a "T1" in front.
bool IsTlsh(std::string_view text) {
  if (text.size() > 2 && (text[0] == 'T' || text[0] == 't') && text[1] == '1') {
    text.remove_prefix(2);
  }
  size_t n = text.size();
  return (n == 70 || n == 74 || n == 134 || n == 138) && AllHex(text);
}

// ---- Dates -----------------------------------------------------------------------------------

// Days since 1970-01-01 of a proleptic Gregorian date (the classic era-based civil calendar
// computation: 400-year eras of 146097 days).
}  // namespace

std::optional<uint32_t> ParseIpv4(std::string_view text) {
  if (text.size() < 7 || text.size() > 15) return std::nullopt;
  uint32_t result = 0;
  size_t i = 0;
  for (int part = 0; part < 4; ++part) {
    if (part > 0) {
      if (i >= text.size() || text[i] != '.') return std::nullopt;
      ++i;
    }
    size_t start = i;
    unsigned value = 0;
    while (i < text.size() && IsDigit(text[i]) && i - start < 3) {
      value = value * 10 + static_cast<unsigned>(text[i] - '0');
      ++i;
    }
    size_t length = i - start;
    if (length == 0 || value > 255 || (length > 1 && text[start] == '0')) return std::nullopt;
    result = (result << 8) | value;
  }
  if (i != text.size()) return std::nullopt;
  return result;
}

std::optional<Ipv6Bytes> ParseIpv6(std::string_view text) {
  auto bare = StripIpv6Decoration(text);
  if (!bare) return std::nullopt;
  return ParseIpv6Bare(*bare);
}

std::optional<Ipv4Network> ParseIpv4Network(std::string_view text) {
  size_t slash = text.find('/');
  uint8_t prefix = 32;
  if (slash != std::string_view::npos) {
    auto parsed = ParsePrefix(text.substr(slash + 1), 32);
    if (!parsed) return std::nullopt;
    prefix = *parsed;
    text = text.substr(0, slash);
  }
  auto address = ParseIpv4(text);
  if (!address) return std::nullopt;
  uint32_t mask = prefix == 0 ? 0 : ~uint32_t{0} << (32 - prefix);
  return Ipv4Network{*address & mask, prefix};
}

std::optional<Ipv6Network> ParseIpv6Network(std::string_view text) {
  size_t slash = text.find('/');
  uint8_t prefix = 128;
  if (slash != std::string_view::npos) {
    auto parsed = ParsePrefix(text.substr(slash + 1), 128);
    if (!parsed) return std::nullopt;
    prefix = *parsed;
    text = text.substr(0, slash);
  }
  auto address = ParseIpv6(text);
  if (!address) return std::nullopt;
  Ipv6Network network{*address, prefix};
  for (int byte = 0; byte < 16; ++byte) {
    int keep = static_cast<int>(prefix) - byte * 8;  // network bits in this byte
    if (keep >= 8) continue;
    network.address[byte] &= keep <= 0 ? 0 : static_cast<uint8_t>(0xff << (8 - keep));
  }
  return network;
}

void AppendIpv6(const Ipv6Bytes& address, std::string& out) {
  uint16_t groups[8];
  for (int g = 0; g < 8; ++g)
    groups[g] = static_cast<uint16_t>(address[2 * g] << 8 | address[2 * g + 1]);
  // IPv4-mapped addresses keep their dotted tail (RFC 5952 section 5).
  bool mapped = groups[0] == 0 && groups[1] == 0 && groups[2] == 0 && groups[3] == 0 &&
                groups[4] == 0 && groups[5] == 0xffff;
  int group_count = mapped ? 6 : 8;
  // The longest run of two or more zero groups becomes "::", the first one on a tie.
  int best_start = -1;
  int best_length = 1;
  for (int g = 0; g < group_count;) {
    if (groups[g] != 0) {
      ++g;
      continue;
    }
    int start = g;
    while (g < group_count && groups[g] == 0) ++g;
    if (g - start > best_length) {
      best_start = start;
      best_length = g - start;
    }
  }
  for (int g = 0; g < group_count; ++g) {
    if (g == best_start) {
      out += "::";
      g += best_length - 1;
      continue;
    }
    if (g > 0 && g != best_start + best_length) out.push_back(':');
    uint16_t value = groups[g];
    bool started = false;
    for (int shift = 12; shift >= 0; shift -= 4) {
      int digit = (value >> shift) & 0xf;
      if (digit != 0 || started || shift == 0) {
        out.push_back(HEX_LOWER[digit]);
        started = true;
      }
    }
  }
  if (mapped) {
    if (best_start + best_length != group_count) out.push_back(':');
    for (int b = 12; b < 16; ++b) {
      if (b > 12) out.push_back('.');
      AppendDecimal(address[b], out);
    }
  }
}

bool NormaliseDomain(std::string_view text, std::string& out) {
  out.clear();
  return AppendDomain(Trim(text), out);
}

bool NormaliseUrl(std::string_view text, std::string& out, bool assume_http) {
  out.clear();
  UrlParts parts;
  if (!SplitUrl(text, assume_http, parts)) return false;
  AppendLower(parts.scheme, out);
  std::string_view scheme(out.data(), out.size());
  uint32_t default_port = DefaultPort(scheme);
  out += "://";
  if (parts.has_userinfo) {
    out += parts.userinfo;
    out.push_back('@');
  }
  if (parts.ipv6_host) {
    out.push_back('[');
    AppendIpv6(parts.ipv6, out);
    out.push_back(']');
  } else {
    AppendLower(parts.host, out);
  }
  if (parts.has_port && parts.port != default_port) {
    out.push_back(':');
    AppendDecimal(parts.port, out);
  }
  if (parts.path.empty()) {
    out.push_back('/');
  } else {
    AppendUrlComponent(parts.path, out);
  }
  if (parts.has_query) {
    out.push_back('?');
    AppendUrlComponent(parts.query, out);
  }
  return true;
}

bool NormaliseHash(std::string_view text, HashAlgorithm algorithm, std::string& out) {
  out.clear();
  text = Trim(text);
  if (algorithm == HashAlgorithm::kSsdeep) {
    if (!IsSsdeep(text)) return false;
    out.assign(text);
    return true;
  }
  if (algorithm == HashAlgorithm::kTlsh) {
    if (!IsTlsh(text)) return false;
    if (text[0] == 'T' || text[0] == 't') {
      out += "T1";  // the version marker, upper-case as the TLSH tools print it
      text.remove_prefix(2);
    }
    for (char c : text) out.push_back(ToLower(c));
    return true;
  }
  size_t expected =
      algorithm == HashAlgorithm::kNone
          ? (HashAlgorithmForHexLength(text.size()) != HashAlgorithm::kNone ? text.size() : 0)
          : HexLength(algorithm);
  if (expected == 0 || text.size() != expected) return false;
  // One pass over a table: checks and lower-cases each digit (this runs on every hash an
  // event carries).
  out.resize(text.size());
  char all_hex = 1;
  for (size_t i = 0; i < text.size(); ++i) {
    char lower = HEX_TO_LOWER[static_cast<unsigned char>(text[i])];
    out[i] = lower;
    all_hex &= static_cast<char>(lower != 0);
  }
  if (!all_hex) {
    out.clear();
    return false;
  }
  return true;
}

bool NormaliseEmail(std::string_view text, std::string& out) {
  out.clear();
  text = Trim(text);
  size_t at = text.rfind('@');
  if (at == 0 || at == std::string_view::npos || at > 64) return false;
  // Local part: RFC 5322 atext and dots (quoted local parts are not accepted).
  for (size_t i = 0; i < at; ++i) {
    char c = text[i];
    bool ok = IsAlnum(c) || IsNonAscii(c) || std::strchr("!#$%&'*+-/=?^_`{|}~.", c) != nullptr;
    if (!ok || c == '\0') {
      out.clear();
      return false;
    }
    out.push_back(ToLower(c));
  }
  out.push_back('@');
  if (!AppendDomain(text.substr(at + 1), out)) {
    out.clear();
    return false;
  }
  return true;
}

std::optional<DetectedType> DetectType(std::string_view text) {
  text = Trim(text);
  if (text.empty()) return std::nullopt;
  if (ParseIpv4Network(text)) return DetectedType{ObservableType::kIpv4};
  if (text.find(':') != std::string_view::npos && ParseIpv6Network(text)) {
    return DetectedType{ObservableType::kIpv6};
  }
  UrlParts url;
  if (text.find("://") != std::string_view::npos && SplitUrl(text, false, url)) {
    return DetectedType{ObservableType::kUrl};
  }
  size_t at = text.rfind('@');
  if (at != std::string_view::npos) {
    // Validate in place: the local part's rules, then the domain's, without a buffer.
    for (size_t i = 0; i < at; ++i) {
      char c = text[i];
      if (!(IsAlnum(c) || IsNonAscii(c) || std::strchr("!#$%&'*+-/=?^_`{|}~.", c) != nullptr) ||
          c == '\0') {
        return std::nullopt;
      }
    }
    if (at == 0 || at > 64) return std::nullopt;
  }
  if (AllHex(text)) {
    HashAlgorithm algorithm = HashAlgorithmForHexLength(text.size());
    if (algorithm != HashAlgorithm::kNone) return DetectedType{ObservableType::kHash, algorithm};
  }
  if (IsTlsh(text)) return DetectedType{ObservableType::kHash, HashAlgorithm::kTlsh};
  if (IsSsdeep(text)) return DetectedType{ObservableType::kHash, HashAlgorithm::kSsdeep};
  // Domain rules, checked without writing (same rules as AppendDomain).
  std::string_view domain = at == std::string_view::npos ? text : text.substr(at + 1);
  if (!domain.empty() && domain.back() == '.') domain.remove_suffix(1);
  if (domain.empty() || domain.size() > 253) return std::nullopt;
  int labels = 1;
  size_t label_length = 0;
  bool label_all_digits = true;
  for (char c : domain) {
    if (c == '.') {
      if (label_length == 0) return std::nullopt;
      ++labels;
      label_length = 0;
      label_all_digits = true;
      continue;
    }
    if (!(IsAlnum(c) || c == '-' || c == '_' || IsNonAscii(c)) || ++label_length > 63) {
      return std::nullopt;
    }
    if (!IsDigit(c)) label_all_digits = false;
  }
  if (label_length == 0 || labels < 2 || label_all_digits) return std::nullopt;
  return DetectedType{at == std::string_view::npos ? ObservableType::kDomain
                                                   : ObservableType::kEmail};
}

std::string Refang(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  auto starts = [&](size_t i, std::string_view what) {
    if (i + what.size() > text.size()) return false;
    for (size_t k = 0; k < what.size(); ++k) {
      if (ToLower(text[i + k]) != what[k]) return false;
    }
    return true;
  };
  for (size_t i = 0; i < text.size();) {
    // "hxxp"/"hXXp" only where a word starts, so that "shxxp" inside other text stays.
    if ((i == 0 || !IsAlnum(text[i - 1])) && starts(i, "hxxp")) {
      out += "http";
      i += 4;
    } else if (starts(i, "[.]") || starts(i, "(.)") || starts(i, "{.}")) {
      out.push_back('.');
      i += 3;
    } else if (starts(i, "[dot]") || starts(i, "(dot)")) {
      out.push_back('.');
      i += 5;
    } else if (starts(i, "[:]")) {
      out.push_back(':');
      i += 3;
    } else if (starts(i, "[://]")) {
      out += "://";
      i += 5;
    } else if (starts(i, "[@]")) {
      out.push_back('@');
      i += 3;
    } else if (starts(i, "[at]")) {
      out.push_back('@');
      i += 4;
    } else {
      out.push_back(text[i]);
      ++i;
    }
  }
  return out;
}

}  // namespace yagura::intel

// SenderMap and ParseSenderSpec (see sender_map.hpp). Addresses are parsed with inet_pton, so
// this file stays free of Asio; prefixes are stored masked, keyed by their bytes plus length.
#include "pipeline/sender_map.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <optional>

#include "event/logsource.hpp"

namespace yagura::pipeline {
namespace {

constexpr std::string_view CERT_SHA256 = "cert-sha256:";
constexpr std::string_view CERT_CN = "cert-cn:";
constexpr uint8_t MAPPED_PREFIX[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

struct Address {
  std::array<uint8_t, 16> bytes{};
  size_t size = 0;  // 4 or 16
};

std::optional<Address> ParseAddress(std::string_view text) {
  std::string copy(text);  // inet_pton needs a terminated string
  Address address;
  if (inet_pton(AF_INET, copy.c_str(), address.bytes.data()) == 1) {
    address.size = 4;
    return address;
  }
  if (inet_pton(AF_INET6, copy.c_str(), address.bytes.data()) == 1) {
    address.size = 16;
    return address;
  }
  return std::nullopt;
}

bool IsMapped(const uint8_t* bytes) { return std::memcmp(bytes, MAPPED_PREFIX, 12) == 0; }

// The key of `bytes` cut to `length` bits.
std::string PrefixKey(const uint8_t* bytes, size_t size, int length) {
  std::string key(reinterpret_cast<const char*>(bytes), size);
  for (size_t i = 0; i < size; ++i) {
    int bits = std::clamp(length - static_cast<int>(i * 8), 0, 8);
    key[i] = static_cast<char>(static_cast<uint8_t>(key[i]) & static_cast<uint8_t>(0xff00 >> bits));
  }
  key.push_back(static_cast<char>(length));
  return key;
}

// Lower-case hex without separators, or nullopt when not 64 hex digits.
std::optional<std::string> NormaliseFingerprint(std::string_view text) {
  std::string hex;
  for (char c : text) {
    if (c == ':') continue;
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return std::nullopt;
    hex.push_back(c);
  }
  if (hex.size() != 64) return std::nullopt;
  return hex;
}

}  // namespace

Result<std::string> NormaliseConfiguredLogsource(std::string_view text) {
  if (text.empty()) return std::string();
  auto parsed = event::ParseLogsource(text);
  if (!parsed)
    return Fail("invalid logsource '" + std::string(text) + "': " + parsed.error().message);
  std::string normal;
  auto add = [&](std::string_view key, const std::string& value) {
    if (value.empty()) return;
    if (!normal.empty()) normal += ',';
    normal += std::string(key) + "=" + value;
  };
  add("product", parsed->product);
  add("category", parsed->category);
  add("service", parsed->service);
  return normal;
}

namespace {

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

}  // namespace

Result<SyslogSender> ParseSenderSpec(std::string_view spec) {
  SyslogSender sender;
  std::vector<std::string> logsource_parts;
  bool semicolons = spec.find(';') != std::string_view::npos;
  char separator = semicolons ? ';' : ',';
  auto where = std::string(spec);
  size_t start = 0;
  while (start <= spec.size()) {
    size_t end = spec.find(separator, start);
    if (end == std::string_view::npos) end = spec.size();
    std::string_view part = Trim(spec.substr(start, end - start));
    start = end + 1;
    if (part.empty()) continue;
    size_t equals = part.find('=');
    if (equals == std::string_view::npos) {
      return Fail(fmt::format("sender part '{}' is not key=value", part), where);
    }
    std::string_view key = Trim(part.substr(0, equals));
    std::string_view value = Trim(part.substr(equals + 1));
    if (key == "match") {
      sender.match = value;
    } else if (key == "org" || key == "org_id") {
      sender.org_id = value;
    } else if (key == "name") {
      sender.name = value;
    } else if (key == "logsource") {
      if (!value.empty()) logsource_parts.emplace_back(value);
    } else if (!semicolons && (key == "product" || key == "category" || key == "service")) {
      logsource_parts.emplace_back(part);
    } else {
      return Fail(fmt::format("unknown sender key '{}' (match, org, name, logsource)", key), where);
    }
    if (end == spec.size()) break;
  }
  if (sender.match.empty()) return Fail("the sender has no match=", where);
  if (sender.org_id.empty()) return Fail("the sender has no org=", where);
  std::string logsource;
  for (const std::string& part : logsource_parts) {
    if (!logsource.empty()) logsource += ',';
    logsource += part;
  }
  auto normal = NormaliseConfiguredLogsource(logsource);
  if (!normal) return Fail(normal.error().message, where);
  sender.logsource = std::move(*normal);
  if (sender.name.empty()) sender.name = sender.match;
  return sender;
}

Result<SenderMap> SenderMap::Build(std::vector<SyslogSender> senders) {
  SenderMap map;
  std::unordered_map<std::string, size_t> seen;  // normalised match -> index, for duplicates
  for (size_t index = 0; index < senders.size(); ++index) {
    SyslogSender& sender = senders[index];
    std::string where = fmt::format("syslog sender {} ('{}')", index + 1, sender.match);
    sender.match = std::string(Trim(sender.match));
    if (sender.org_id.empty()) return Fail("the sender has no organisation", where);
    if (sender.match.empty()) return Fail("the sender has no match", where);
    auto logsource = NormaliseConfiguredLogsource(sender.logsource);
    if (!logsource) return Fail(logsource.error().message, where);
    sender.logsource = std::move(*logsource);
    if (sender.name.empty()) sender.name = sender.match;

    std::string_view match = sender.match;
    std::string key;  // the normalised match
    if (match.starts_with(CERT_SHA256)) {
      auto hex = NormaliseFingerprint(match.substr(CERT_SHA256.size()));
      if (!hex) return Fail("a cert-sha256 fingerprint must be 64 hex digits", where);
      key = "sha256:" + *hex;
      map.by_fingerprint_.emplace(*hex, index);
    } else if (match.starts_with(CERT_CN)) {
      std::string_view name = match.substr(CERT_CN.size());
      if (name.empty()) return Fail("cert-cn: needs a common name", where);
      key = "cn:" + std::string(name);
      map.by_common_name_.emplace(std::string(name), index);
    } else if (match == "*") {
      key = "*";
      map.catch_all_ = index;
    } else {
      size_t slash = match.find('/');
      auto address = ParseAddress(match.substr(0, slash));
      if (!address) {
        return Fail(fmt::format("'{}' is not an IPv4 or IPv6 address", match.substr(0, slash)),
                    where);
      }
      int length = static_cast<int>(address->size * 8);
      if (slash != std::string_view::npos) {
        std::string_view digits = match.substr(slash + 1);
        int parsed = -1;
        auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), parsed);
        if (error != std::errc() || end != digits.data() + digits.size() || digits.empty() ||
            parsed < 0 || parsed > length) {
          return Fail(fmt::format("invalid prefix length '/{}' (0 to {})", digits, length), where);
        }
        length = parsed;
      }
      const uint8_t* bytes = address->bytes.data();
      size_t size = address->size;
      if (size == 16 && length >= 96 && IsMapped(bytes)) {  // ::ffff:a.b.c.d/len -> a.b.c.d/len-96
        bytes += 12;
        size = 4;
        length -= 96;
      }
      Family& family = size == 4 ? map.v4_ : map.v6_;
      std::string prefix = PrefixKey(bytes, size, length);
      key = (size == 4 ? "v4:" : "v6:") + prefix;
      family.prefixes.emplace(prefix, index);
      if (std::find(family.lengths.begin(), family.lengths.end(), length) == family.lengths.end()) {
        family.lengths.push_back(length);
        std::sort(family.lengths.rbegin(), family.lengths.rend());
      }
    }
    auto [it, inserted] = seen.emplace(key, index);
    if (!inserted) {
      return Fail(fmt::format("the same match as sender {} ('{}')", it->second + 1,
                              senders[it->second].match),
                  where);
    }
  }
  map.senders_ = std::move(senders);
  return map;
}

const SyslogSender* SenderMap::Lookup(const Family& family, const uint8_t* bytes,
                                      size_t size) const {
  for (int length : family.lengths) {
    auto it = family.prefixes.find(PrefixKey(bytes, size, length));
    if (it != family.prefixes.end()) return &senders_[it->second];
  }
  return catch_all_ == SIZE_MAX ? nullptr : &senders_[catch_all_];
}

const SyslogSender* SenderMap::ForAddressBytes(std::span<const uint8_t> address) const {
  if (address.size() == 4) return Lookup(v4_, address.data(), 4);
  if (address.size() == 16) {
    if (IsMapped(address.data())) return Lookup(v4_, address.data() + 12, 4);
    return Lookup(v6_, address.data(), 16);
  }
  return nullptr;
}

const SyslogSender* SenderMap::ForAddress(std::string_view text) const {
  auto address = ParseAddress(text);
  if (!address) return nullptr;
  return ForAddressBytes(std::span<const uint8_t>(address->bytes.data(), address->size));
}

const SyslogSender* SenderMap::ForCertificate(std::string_view sha256_hex,
                                              std::string_view common_name) const {
  if (!sha256_hex.empty() && !by_fingerprint_.empty()) {
    if (auto hex = NormaliseFingerprint(sha256_hex)) {
      auto it = by_fingerprint_.find(*hex);
      if (it != by_fingerprint_.end()) return &senders_[it->second];
    }
  }
  if (!common_name.empty()) {
    auto it = by_common_name_.find(std::string(common_name));
    if (it != by_common_name_.end()) return &senders_[it->second];
  }
  return nullptr;
}

}  // namespace yagura::pipeline

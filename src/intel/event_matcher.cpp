#include "intel/event_matcher.hpp"

// Inlined: every event value looked up is hashed, most of them short.
#define XXH_INLINE_ALL
#include <xxhash.h>

#include <algorithm>
#include <array>

#include "intel/normalise.hpp"
#include "intel/path_forms.hpp"

namespace yagura::intel {
namespace {

enum class Role : uint8_t {
  kAddress,       // an IPv4 or IPv6 address (IPv4-mapped IPv6 read as IPv4)
  kPort,
  kDomain,
  kUrl,           // absolute URL, or host/path written without a scheme
  kHashList,      // "SHA1=...,MD5=...,SHA256=...,IMPHASH=..." (Sysmon)
  kHash,          // one hex digest; the algorithm from its length
  kImphash,
  kEmail,
  kFilePath,      // a file path or name: file-name indicators
  kProcessPath,   // a process image path or name: process-name and file-name indicators
  kRegistryKey,
  kUserAgent,
  kFreeText,      // command lines, script blocks, messages: tokenised
};

struct FieldSpec {
  std::string_view name;
  Role role;
  Direction direction = Direction::kAny;
};

// Field names by role. Names are Sigma's (Windows EventData names, Sysmon), Zeek's, ECS's
// (dotted), W3C/IIS access logs', and CloudTrail's. An address field that says which end of a
// connection it holds carries the direction; indicators that name a direction (STIX src_ref /
// dst_ref, MISP ip-src / ip-dst) match only such fields or fields that do not say.
constexpr std::array FIELD_SPECS = {
    // Addresses
    FieldSpec{"SourceIp", Role::kAddress, Direction::kSource},
    FieldSpec{"DestinationIp", Role::kAddress, Direction::kDestination},
    FieldSpec{"SourceAddress", Role::kAddress, Direction::kSource},
    FieldSpec{"DestAddress", Role::kAddress, Direction::kDestination},
    FieldSpec{"IpAddress", Role::kAddress, Direction::kSource},  // Security logons: the client
    FieldSpec{"ClientAddress", Role::kAddress, Direction::kSource},
    FieldSpec{"ClientIP", Role::kAddress, Direction::kSource},
    FieldSpec{"c-ip", Role::kAddress, Direction::kSource},
    FieldSpec{"s-ip", Role::kAddress, Direction::kDestination},
    FieldSpec{"src_ip", Role::kAddress, Direction::kSource},
    FieldSpec{"dst_ip", Role::kAddress, Direction::kDestination},
    FieldSpec{"src", Role::kAddress, Direction::kSource},
    FieldSpec{"dst", Role::kAddress, Direction::kDestination},
    FieldSpec{"id.orig_h", Role::kAddress, Direction::kSource},
    FieldSpec{"id.resp_h", Role::kAddress, Direction::kDestination},
    FieldSpec{"source.ip", Role::kAddress, Direction::kSource},
    FieldSpec{"destination.ip", Role::kAddress, Direction::kDestination},
    FieldSpec{"client.ip", Role::kAddress, Direction::kSource},
    FieldSpec{"server.ip", Role::kAddress, Direction::kDestination},
    FieldSpec{"sourceIPAddress", Role::kAddress, Direction::kSource},
    FieldSpec{"remote_addr", Role::kAddress, Direction::kSource},
    FieldSpec{"RemoteAddress", Role::kAddress},
    FieldSpec{"host.ip", Role::kAddress},
    FieldSpec{"ip", Role::kAddress},
    FieldSpec{"IPAddress", Role::kAddress},
    FieldSpec{"answers", Role::kAddress},  // Zeek dns.log
    // Ports (only meaningful beside an address in one conjunction)
    FieldSpec{"SourcePort", Role::kPort, Direction::kSource},
    FieldSpec{"DestinationPort", Role::kPort, Direction::kDestination},
    FieldSpec{"DestPort", Role::kPort, Direction::kDestination},
    FieldSpec{"IpPort", Role::kPort, Direction::kSource},
    FieldSpec{"src_port", Role::kPort, Direction::kSource},
    FieldSpec{"dst_port", Role::kPort, Direction::kDestination},
    FieldSpec{"id.orig_p", Role::kPort, Direction::kSource},
    FieldSpec{"id.resp_p", Role::kPort, Direction::kDestination},
    FieldSpec{"source.port", Role::kPort, Direction::kSource},
    FieldSpec{"destination.port", Role::kPort, Direction::kDestination},
    FieldSpec{"s-port", Role::kPort, Direction::kDestination},
    // Domains
    FieldSpec{"QueryName", Role::kDomain},
    FieldSpec{"DestinationHostname", Role::kDomain},
    FieldSpec{"query", Role::kDomain},
    FieldSpec{"server_name", Role::kDomain},
    FieldSpec{"cs-host", Role::kDomain},
    FieldSpec{"cs(Host)", Role::kDomain},
    FieldSpec{"host", Role::kDomain},
    FieldSpec{"dns.question.name", Role::kDomain},
    FieldSpec{"url.domain", Role::kDomain},
    FieldSpec{"destination.domain", Role::kDomain},
    FieldSpec{"rrname", Role::kDomain},
    FieldSpec{"domain", Role::kDomain},
    // URLs
    FieldSpec{"url", Role::kUrl},
    FieldSpec{"url.full", Role::kUrl},
    FieldSpec{"url.original", Role::kUrl},
    FieldSpec{"c-uri", Role::kUrl},
    FieldSpec{"cs-referer", Role::kUrl},
    FieldSpec{"cs(Referer)", Role::kUrl},
    FieldSpec{"referrer", Role::kUrl},
    FieldSpec{"http.url", Role::kUrl},
    // Hashes
    FieldSpec{"Hashes", Role::kHashList},
    FieldSpec{"Hash", Role::kHashList},
    FieldSpec{"md5", Role::kHash},
    FieldSpec{"sha1", Role::kHash},
    FieldSpec{"sha256", Role::kHash},
    FieldSpec{"sha512", Role::kHash},
    FieldSpec{"MD5", Role::kHash},
    FieldSpec{"SHA1", Role::kHash},
    FieldSpec{"SHA256", Role::kHash},
    FieldSpec{"file.hash.md5", Role::kHash},
    FieldSpec{"file.hash.sha1", Role::kHash},
    FieldSpec{"file.hash.sha256", Role::kHash},
    FieldSpec{"process.hash.md5", Role::kHash},
    FieldSpec{"process.hash.sha1", Role::kHash},
    FieldSpec{"process.hash.sha256", Role::kHash},
    FieldSpec{"Imphash", Role::kImphash},
    // E-mail
    FieldSpec{"mailfrom", Role::kEmail},
    FieldSpec{"rcptto", Role::kEmail},
    FieldSpec{"from", Role::kFreeText},
    FieldSpec{"to", Role::kFreeText},
    FieldSpec{"sender", Role::kEmail},
    FieldSpec{"recipient", Role::kEmail},
    // Files and processes
    FieldSpec{"TargetFilename", Role::kFilePath},
    FieldSpec{"ImageLoaded", Role::kFilePath},
    FieldSpec{"OriginalFileName", Role::kFilePath},
    FieldSpec{"FileName", Role::kFilePath},
    FieldSpec{"file.path", Role::kFilePath},
    FieldSpec{"file.name", Role::kFilePath},
    FieldSpec{"ServiceFileName", Role::kFilePath},
    FieldSpec{"Image", Role::kProcessPath},
    FieldSpec{"ParentImage", Role::kProcessPath},
    FieldSpec{"NewProcessName", Role::kProcessPath},
    FieldSpec{"ParentProcessName", Role::kProcessPath},
    FieldSpec{"ProcessName", Role::kProcessPath},
    FieldSpec{"SourceImage", Role::kProcessPath},
    FieldSpec{"TargetImage", Role::kProcessPath},
    FieldSpec{"Application", Role::kProcessPath},
    FieldSpec{"process.executable", Role::kProcessPath},
    FieldSpec{"process.name", Role::kProcessPath},
    FieldSpec{"exe", Role::kProcessPath},
    // Registry
    FieldSpec{"TargetObject", Role::kRegistryKey},
    FieldSpec{"ObjectName", Role::kRegistryKey},
    // User agents
    FieldSpec{"UserAgent", Role::kUserAgent},
    FieldSpec{"user_agent", Role::kUserAgent},
    FieldSpec{"useragent", Role::kUserAgent},
    FieldSpec{"userAgent", Role::kUserAgent},
    FieldSpec{"cs(User-Agent)", Role::kUserAgent},
    FieldSpec{"cs-user-agent", Role::kUserAgent},
    FieldSpec{"c-useragent", Role::kUserAgent},
    FieldSpec{"user_agent.original", Role::kUserAgent},
    FieldSpec{"http.user_agent", Role::kUserAgent},
    // Free text
    FieldSpec{"CommandLine", Role::kFreeText},
    FieldSpec{"ParentCommandLine", Role::kFreeText},
    FieldSpec{"process.command_line", Role::kFreeText},
    FieldSpec{"ScriptBlockText", Role::kFreeText},
    FieldSpec{"Payload", Role::kFreeText},
    FieldSpec{"QueryResults", Role::kFreeText},
    FieldSpec{"Details", Role::kFreeText},
    FieldSpec{"cs-uri-query", Role::kFreeText},
    FieldSpec{"message", Role::kFreeText},
    FieldSpec{"Message", Role::kFreeText},
};

// Collects hits of one field value, dropping those whose direction the field contradicts.
class HitCollector final : public IndicatorIndex::Visitor {
 public:
  HitCollector(std::vector<IntelHit>& hits, event::FieldId field, Direction direction)
      : hits_(hits), field_(field), direction_(direction) {}
  void At(std::string_view value) { value_ = value; }
  void Visit(const IndicatorIndex::Ref& ref) override {
    if (ref.direction != Direction::kAny && direction_ != Direction::kAny &&
        ref.direction != direction_)
      return;
    hits_.push_back({ref, field_, value_});
  }

 private:
  std::vector<IntelHit>& hits_;
  event::FieldId field_;
  Direction direction_;
  std::string_view value_;
};

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '"' || text.front() == '\''))
    text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '"' || text.back() == '\''))
    text.remove_suffix(1);
  return text;
}

bool IsHex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// Characters a free-text token (address, domain, e-mail, hash, file name) is made of.
constexpr std::array<bool, 256> MakeTokenChars() {
  std::array<bool, 256> table{};
  for (int c = 0; c < 256; ++c) {
    table[c] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '.' || c == '-' || c == '_' || c == '@' || c == ':' || c >= 0x80;
  }
  return table;
}
constexpr std::array<bool, 256> TOKEN_CHARS = MakeTokenChars();
inline bool IsTokenChar(char c) { return TOKEN_CHARS[static_cast<unsigned char>(c)]; }

// Characters that end a URL inside free text.
bool EndsUrl(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '"' || c == '\'' || c == '<' ||
         c == '>' || c == '`' || c == '|' || c == '^' || c == '{' || c == '}' || c == '\\';
}

void LookupAddress(const IndicatorIndex& index, std::string_view text, HitCollector& collector) {
  if (text.empty()) return;
  if (index.Has(ObservableType::kIpv4)) {
    if (auto v4 = ParseIpv4(text)) {
      index.FindIpv4(*v4, collector);
      return;
    }
  }
  if (text.find(':') == std::string_view::npos) return;
  auto v6 = ParseIpv6(text);
  if (!v6) return;
  // IPv4-mapped (::ffff:a.b.c.d), as Windows writes client addresses: an IPv4 indicator.
  static constexpr uint8_t MAPPED[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::equal(MAPPED, MAPPED + 12, v6->begin())) {
    if (index.Has(ObservableType::kIpv4))
      index.FindIpv4(uint32_t{(*v6)[12]} << 24 | uint32_t{(*v6)[13]} << 16 |
                         uint32_t{(*v6)[14]} << 8 | (*v6)[15],
                     collector);
    return;
  }
  if (index.Has(ObservableType::kIpv6)) index.FindIpv6(*v6, collector);
}

void LookupDomain(const IndicatorIndex& index, std::string_view text, std::string& buffer,
                  HitCollector& collector) {
  if (!index.Has(ObservableType::kDomain) || !index.HasTopLabel(text)) return;
  if (NormaliseDomain(text, buffer)) index.FindDomain(buffer, collector);
}

void LookupUrl(const IndicatorIndex& index, std::string_view text, bool assume_http,
               std::string& buffer, std::string& host_buffer, HitCollector& collector) {
  if (index.Has(ObservableType::kUrl) && NormaliseUrl(text, buffer, assume_http))
    index.FindExact(ObservableType::kUrl, buffer, collector);
  // The host of the URL: a domain or an address.
  if (!index.Has(ObservableType::kDomain) && !index.Has(ObservableType::kIpv4) &&
      !index.Has(ObservableType::kIpv6))
    return;
  size_t scheme = text.find("://");
  std::string_view rest = scheme == std::string_view::npos
                              ? (assume_http ? text : std::string_view())
                              : text.substr(scheme + 3);
  if (rest.empty()) return;
  size_t end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, end);
  size_t at = authority.rfind('@');
  if (at != std::string_view::npos) authority.remove_prefix(at + 1);
  std::string_view host = authority;
  if (!host.empty() && host.front() == '[') {
    size_t close = host.find(']');
    if (close == std::string_view::npos) return;
    LookupAddress(index, host.substr(1, close - 1), collector);
    return;
  }
  size_t colon = host.rfind(':');
  if (colon != std::string_view::npos) host = host.substr(0, colon);
  if (host.empty()) return;
  if (IsDigit(host.back())) {
    LookupAddress(index, host, collector);
    return;
  }
  LookupDomain(index, host, host_buffer, collector);
}

// The canonical form of a digest in `buffer`; false when no hash indicator could be it (a
// length none has, not a digest of its algorithm).
bool CanonicalHash(const IndicatorIndex& index, std::string_view text, HashAlgorithm algorithm,
                   std::string& buffer) {
  if (!index.Has(ObservableType::kHash) || !index.HasHashLength(Trim(text).size())) return false;
  if (algorithm == HashAlgorithm::kNone) algorithm = HashAlgorithmForHexLength(text.size());
  if (algorithm == HashAlgorithm::kNone) return false;
  return NormaliseHash(text, algorithm, buffer);
}

void LookupHash(const IndicatorIndex& index, std::string_view text, HashAlgorithm algorithm,
                std::string& buffer, HitCollector& collector) {
  if (CanonicalHash(index, text, algorithm, buffer))
    index.FindExact(ObservableType::kHash, buffer, collector);
}

// "SHA1=AB..,MD5=CD..,SHA256=EF..,IMPHASH=01..": the digests are normalised and their filter
// words fetched first, then looked up, so that their cache misses overlap. Lists longer than
// the batch go by batches.
constexpr size_t HASH_BATCH = IntelMatcher::Scratch::HASH_BATCH;

void LookupHashList(const IndicatorIndex& index, std::string_view text,
                    std::array<std::string, HASH_BATCH>& buffers, HitCollector& collector) {
  if (!index.Has(ObservableType::kHash)) return;
  std::array<std::string_view, HASH_BATCH> digests;
  std::array<uint64_t, HASH_BATCH> prefetched;
  while (!text.empty()) {
    size_t count = 0;
    while (!text.empty() && count < HASH_BATCH) {
      size_t comma = text.find(',');
      std::string_view item = text.substr(0, comma);
      text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
      size_t equals = item.find('=');
      std::string_view digest =
          Trim(equals == std::string_view::npos ? item : item.substr(equals + 1));
      HashAlgorithm algorithm = HashAlgorithm::kNone;
      if (equals != std::string_view::npos) {
        auto parsed = ParseHashAlgorithm(Trim(item.substr(0, equals)));
        if (parsed) algorithm = *parsed;
      }
      if (!CanonicalHash(index, digest, algorithm, buffers[count])) continue;
      digests[count] = digest;
      prefetched[count] = index.PrefetchExact(ObservableType::kHash, buffers[count]);
      ++count;
    }
    for (size_t k = 0; k < count; ++k) {
      collector.At(digests[k]);
      index.FindExact(ObservableType::kHash, buffers[k], prefetched[k], collector);
    }
  }
}

void LookupFreeText(const IndicatorIndex& index, std::string_view text, std::string& buffer,
                    std::string& host_buffer, HitCollector& collector) {
  const bool want_url = index.Has(ObservableType::kUrl) || index.Has(ObservableType::kDomain) ||
                        index.Has(ObservableType::kIpv4) || index.Has(ObservableType::kIpv6);
  // URLs first: "scheme://" up to a character that cannot be in a URL written in text. Their
  // host is looked up as a domain or address with them; tokens inside them are not looked up
  // again (the spans are remembered).
  constexpr size_t MAX_SPANS = 8;
  std::pair<size_t, size_t> url_spans[MAX_SPANS];
  size_t span_count = 0;
  if (want_url) {
    for (size_t at = text.find("://"); at != std::string_view::npos;
         at = text.find("://", at + 3)) {
      size_t start = at;
      while (start > 0 && (IsAlpha(text[start - 1]) || IsDigit(text[start - 1]) ||
                           text[start - 1] == '+' || text[start - 1] == '.' ||
                           text[start - 1] == '-'))
        --start;
      if (start == at || !IsAlpha(text[start])) continue;
      size_t end = at + 3;
      while (end < text.size() && !EndsUrl(text[end])) ++end;
      std::string_view url = text.substr(start, end - start);
      while (!url.empty() && (url.back() == '.' || url.back() == ',' || url.back() == ';' ||
                              url.back() == ')'))
        url.remove_suffix(1);
      collector.At(url);
      LookupUrl(index, url, false, buffer, host_buffer, collector);
      if (span_count < MAX_SPANS) url_spans[span_count++] = {start, start + url.size()};
    }
  }
  // Then tokens: whole runs of token characters, trimmed of edge punctuation.
  const bool want_hash = index.Has(ObservableType::kHash);
  const bool want_domain = index.Has(ObservableType::kDomain);
  const bool want_file = index.Has(ObservableType::kFileName) ||
                         index.Has(ObservableType::kProcessName);
  const bool want_email = index.Has(ObservableType::kEmail);
  const bool want_ip = index.Has(ObservableType::kIpv4) || index.Has(ObservableType::kIpv6);
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && !IsTokenChar(text[i])) ++i;
    size_t start = i;
    bool has_dot = false, has_colon = false, has_at = false, has_alpha = false, all_hex = true;
    while (i < text.size() && IsTokenChar(text[i])) {
      char c = text[i];
      has_dot |= c == '.';
      has_colon |= c == ':';
      has_at |= c == '@';
      has_alpha |= IsAlpha(c);
      all_hex &= IsHex(c);
      ++i;
    }
    bool in_url = false;
    for (size_t k = 0; k < span_count; ++k)
      in_url |= start >= url_spans[k].first && start < url_spans[k].second;
    if (in_url) continue;
    std::string_view token = text.substr(start, i - start);
    while (!token.empty() && (token.back() == '.' || token.back() == '-' || token.back() == ':' ||
                              token.back() == '_'))
      token.remove_suffix(1);
    while (!token.empty() && (token.front() == '.' || token.front() == '-' ||
                              token.front() == ':'))
      token.remove_prefix(1);
    // "host:443" and "192.0.2.1:443": the port is not part of the name or address.
    if (has_colon && has_dot) {
      size_t colon = token.rfind(':');
      bool port = colon != std::string_view::npos && colon + 1 < token.size() &&
                  token.find(':') == colon;
      for (size_t k = colon + 1; port && k < token.size(); ++k) port = IsDigit(token[k]);
      if (port) {
        token = token.substr(0, colon);
        has_colon = false;
      }
    }
    if (token.size() < 3) continue;
    collector.At(token);
    if (all_hex && want_hash &&
        (token.size() == 32 || token.size() == 40 || token.size() == 64 || token.size() == 128)) {
      LookupHash(index, token, HashAlgorithm::kNone, buffer, collector);
      continue;
    }
    if (has_at) {
      if (want_email && NormaliseEmail(token, buffer))
        index.FindExact(ObservableType::kEmail, buffer, collector);
      size_t at = token.rfind('@');
      if (want_domain) LookupDomain(index, token.substr(at + 1), buffer, collector);
      continue;
    }
    if (want_ip && (has_dot || has_colon) && (IsDigit(token.front()) || has_colon)) {
      LookupAddress(index, token, collector);
      if (!has_alpha) continue;
    }
    if (has_dot && has_alpha && !has_colon) {
      if (want_domain) LookupDomain(index, token, buffer, collector);
      if (want_file) {
        LowerAscii(token, buffer);
        index.FindExact(ObservableType::kFileName, buffer, collector);
        index.FindExact(ObservableType::kProcessName, buffer, collector);
      }
    }
  }
}

}  // namespace

IntelMatcher::IntelMatcher(event::FieldCatalog& catalog) {
  for (const FieldSpec& spec : FIELD_SPECS) {
    const event::FieldId id = catalog.Intern(spec.name);
    fields_.push_back({id, static_cast<uint8_t>(spec.role), spec.direction});
    if (id >= position_of_field_.size()) position_of_field_.resize(id + 1, 0);
    position_of_field_[id] = static_cast<uint16_t>(fields_.size());
  }
}

std::vector<std::string_view> IntelMatcher::FieldNames() {
  std::vector<std::string_view> names;
  for (const FieldSpec& spec : FIELD_SPECS) names.push_back(spec.name);
  return names;
}

void IntelMatcher::Match(const IndicatorIndex& index, const event::Event& event,
                         Scratch& scratch) const {
  scratch.raw_hits_.clear();
  scratch.hits_.clear();
  scratch.matches_.clear();
  std::string& buffer = scratch.buffer_;
  std::string& host_buffer = scratch.url_buffer_;
  // Roles whose indicator types the index does not hold are not read at all.
  const bool any_address = index.Has(ObservableType::kIpv4) || index.Has(ObservableType::kIpv6);
  const bool any_name = index.Has(ObservableType::kFileName) || index.Has(ObservableType::kProcessName);
  bool active[static_cast<size_t>(Role::kFreeText) + 1];
  active[static_cast<size_t>(Role::kAddress)] = any_address;
  active[static_cast<size_t>(Role::kPort)] = index.Has(ObservableType::kPort);
  active[static_cast<size_t>(Role::kDomain)] = index.Has(ObservableType::kDomain) || any_address;
  active[static_cast<size_t>(Role::kUrl)] =
      index.Has(ObservableType::kUrl) || index.Has(ObservableType::kDomain) || any_address;
  active[static_cast<size_t>(Role::kHashList)] = index.Has(ObservableType::kHash);
  active[static_cast<size_t>(Role::kHash)] = index.Has(ObservableType::kHash);
  active[static_cast<size_t>(Role::kImphash)] = index.Has(ObservableType::kHash);
  active[static_cast<size_t>(Role::kEmail)] = index.Has(ObservableType::kEmail);
  active[static_cast<size_t>(Role::kFilePath)] = index.Has(ObservableType::kFileName);
  active[static_cast<size_t>(Role::kProcessPath)] = any_name;
  active[static_cast<size_t>(Role::kRegistryKey)] = index.Has(ObservableType::kRegistryKey);
  active[static_cast<size_t>(Role::kUserAgent)] = index.Has(ObservableType::kUserAgent);
  active[static_cast<size_t>(Role::kFreeText)] = true;
  // The event's fields that the matcher reads, in the order of FIELD_SPECS (the order hits
  // and alerts come in): an event has a few of the hundred and more names.
  std::vector<uint16_t>& present = scratch.present_;
  present.clear();
  for (event::FieldId id : event.Fields()) {
    if (id < position_of_field_.size() && position_of_field_[id] != 0)
      present.push_back(static_cast<uint16_t>(position_of_field_[id] - 1));
  }
  std::sort(present.begin(), present.end());
  for (uint16_t position : present) {
    const Field& field = fields_[position];
    if (!active[field.role]) continue;
    HitCollector collector(scratch.raw_hits_, field.id, field.direction);
    for (const event::FieldValue& value : event.Values(field.id)) {
      std::string_view text = value.text;
      if (text.empty() || text == "-") continue;
      // Values that found nothing in this index are remembered (images, hashes and names
      // repeat from event to event) and not looked up again.
      Scratch::KnownMiss* miss = nullptr;
      uint64_t miss_hash = 0;
      if (text.size() <= Scratch::MAX_REMEMBERED) {
        miss_hash = XXH3_64bits_withSeed(text.data(), text.size(), field.id);
        miss = &scratch.misses_[miss_hash & (Scratch::MISS_SLOTS - 1)];
        if (miss->generation == index.generation() && miss->hash == miss_hash &&
            miss->field == field.id && miss->text == text)
          continue;
      }
      const size_t hits_before = scratch.raw_hits_.size();
      collector.At(text);
      switch (static_cast<Role>(field.role)) {
        case Role::kAddress:
          if (text.find_first_of(",; ") != std::string_view::npos) {
            LookupFreeText(index, text, buffer, host_buffer, collector);
          } else {
            LookupAddress(index, Trim(text), collector);
          }
          break;
        case Role::kPort: {
          if (!index.Has(ObservableType::kPort) || text.size() > 5) break;
          unsigned port = 0;
          bool digits = true;
          for (char c : text) {
            digits &= IsDigit(c);
            port = port * 10 + static_cast<unsigned>(c - '0');
          }
          if (digits && port <= 65535) index.FindPort(static_cast<uint16_t>(port), collector);
          break;
        }
        case Role::kDomain:
          LookupDomain(index, Trim(text), buffer, collector);
          if (IsDigit(text.back())) LookupAddress(index, Trim(text), collector);
          break;
        case Role::kUrl:
          LookupUrl(index, Trim(text), true, buffer, host_buffer, collector);
          break;
        case Role::kHashList: LookupHashList(index, text, scratch.hash_buffers_, collector); break;
        case Role::kHash:
          LookupHash(index, Trim(text), HashAlgorithm::kNone, buffer, collector);
          break;
        case Role::kImphash:
          LookupHash(index, Trim(text), HashAlgorithm::kImphash, buffer, collector);
          break;
        case Role::kEmail:
          if (index.Has(ObservableType::kEmail) && NormaliseEmail(Trim(text), buffer))
            index.FindExact(ObservableType::kEmail, buffer, collector);
          break;
        case Role::kFilePath:
          if (index.Has(ObservableType::kFileName) && CanonicalFileName(text, buffer))
            index.FindExact(ObservableType::kFileName, buffer, collector);
          break;
        case Role::kProcessPath:
          if ((index.Has(ObservableType::kFileName) || index.Has(ObservableType::kProcessName)) &&
              CanonicalFileName(text, buffer)) {
            index.FindExact(ObservableType::kProcessName, buffer, collector);
            index.FindExact(ObservableType::kFileName, buffer, collector);
          }
          break;
        case Role::kRegistryKey:
          if (index.Has(ObservableType::kRegistryKey) && CanonicalRegistryKey(text, buffer))
            index.FindRegistryKey(buffer, collector);
          break;
        case Role::kUserAgent:
          if (index.Has(ObservableType::kUserAgent))
            index.FindExact(ObservableType::kUserAgent, Trim(text), collector);
          break;
        case Role::kFreeText: LookupFreeText(index, text, buffer, host_buffer, collector); break;
      }
      if (miss != nullptr && scratch.raw_hits_.size() == hits_before) {
        miss->generation = index.generation();
        miss->hash = miss_hash;
        miss->field = field.id;
        miss->text.assign(text);
      }
    }
  }
  if (scratch.raw_hits_.empty()) return;

  // Decide the conjunctions: group hits by indicator and conjunction; a conjunction holds when
  // every positive atom was found and no negated one.
  auto& raw = scratch.raw_hits_;
  std::stable_sort(raw.begin(), raw.end(), [](const IntelHit& a, const IntelHit& b) {
    if (a.ref.snapshot != b.ref.snapshot) return a.ref.snapshot < b.ref.snapshot;
    if (a.ref.indicator != b.ref.indicator) return a.ref.indicator < b.ref.indicator;
    if (a.ref.conjunction != b.ref.conjunction) return a.ref.conjunction < b.ref.conjunction;
    return a.ref.atom_in_conjunction < b.ref.atom_in_conjunction;
  });
  for (size_t i = 0; i < raw.size();) {
    size_t indicator_end = i;
    while (indicator_end < raw.size() && raw[indicator_end].ref.snapshot == raw[i].ref.snapshot &&
           raw[indicator_end].ref.indicator == raw[i].ref.indicator)
      ++indicator_end;
    bool matched = false;
    for (size_t c = i; c < indicator_end && !matched;) {
      size_t conjunction_end = c;
      while (conjunction_end < indicator_end &&
             raw[conjunction_end].ref.conjunction == raw[c].ref.conjunction)
        ++conjunction_end;
      unsigned found = 0;
      bool vetoed = false;
      uint8_t last_position = 255;
      for (size_t h = c; h < conjunction_end; ++h) {
        const auto& ref = raw[h].ref;
        if (ref.negated) {
          vetoed = true;
          continue;
        }
        if (ref.atom_in_conjunction != last_position) {
          ++found;
          last_position = ref.atom_in_conjunction;
        }
      }
      matched = !vetoed && found == raw[c].ref.atoms_in_conjunction;
      c = conjunction_end;
    }
    if (matched) {
      IntelMatch match;
      match.snapshot = raw[i].ref.snapshot;
      match.indicator = raw[i].ref.indicator;
      match.first_hit = static_cast<uint32_t>(scratch.hits_.size());
      for (size_t h = i; h < indicator_end; ++h) {
        if (raw[h].ref.negated) continue;
        // The same field and value can be reached twice (a URL and its host); list it once.
        bool seen = false;
        for (size_t k = match.first_hit; k < scratch.hits_.size(); ++k)
          seen |= scratch.hits_[k].field == raw[h].field && scratch.hits_[k].value == raw[h].value;
        if (!seen) scratch.hits_.push_back(raw[h]);
      }
      match.hit_count = static_cast<uint32_t>(scratch.hits_.size()) - match.first_hit;
      scratch.matches_.push_back(match);
    }
    i = indicator_end;
  }
}

}  // namespace yagura::intel

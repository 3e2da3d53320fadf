// SenderMap: which organisation a syslog sender belongs to, decided by its address or its TLS
// client certificate and never by anything inside the messages (a message's hostname is
// whatever the sender chose to write).
//
// A sender is matched by one of:
//   - an IPv4 or IPv6 address or CIDR prefix: "10.1.0.0/16", "::1", "127.0.0.1/32". The longest
//     matching prefix wins, so a site-wide /16 can carry one organisation and a /32 inside it
//     another. IPv4-mapped IPv6 addresses ("::ffff:10.1.2.3", what a dual-stack socket reports
//     for an IPv4 peer) are looked up as the IPv4 address they carry, and a mapped prefix in
//     the configuration is stored as its IPv4 prefix.
//   - "*": the catch-all, used for any address no prefix covers. "0.0.0.0/0" and "::/0" are
//     also accepted and cover one family each. Without any of them, unknown senders are
//     refused.
//   - "cert-sha256:<hex>": the SHA-256 fingerprint of the client certificate (DER), upper or
//     lower case, with or without ':' separators. Pinning the exact certificate is safe even
//     without a client CA, because the TLS handshake proves the client holds its key.
//   - "cert-cn:<common name>": the subject common name. Only meaningful when a client CA has
//     verified the chain (anyone can write any name into a self-signed certificate), so the
//     server consults it only then (syslog_server.hpp).
// For a TLS connection a certificate match wins over an address match.
//
// Lookups are a hash probe per distinct prefix length, longest first: a handful of probes for
// a typical configuration, cheap enough for one lookup per UDP datagram.
//
// Thread-safety: immutable after Build(); lookups may run on any number of threads.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/result.hpp"

namespace yagura::pipeline {

struct SyslogSender {
  std::string name;       // the sensor name in envelopes and metrics; defaults to `match`
  std::string org_id;     // required
  std::string logsource;  // "product=linux,service=sshd", may be empty (the detector classifies)
  std::string match;      // address, CIDR, "*", "cert-sha256:<hex>" or "cert-cn:<name>"
};

// Reads a sender from its flag / configuration form. Two spellings:
//   - ';'-separated, values verbatim (a common name may contain ',' and '='):
//       "match=10.0.0.0/8;org=ORG;name=NAME;logsource=product=linux,service=sshd"
//   - ','-separated, where the logsource keys (product, category, service) are told apart from
//     the sender keys (match, org, name, logsource) by their names, so the two sets never clash:
//       "match=10.0.0.0/8,org=ORG,logsource=product=linux,service=sshd,name=NAME"
//       "match=10.0.0.0/8,org=ORG,product=linux,service=sshd"
// A spec containing ';' uses the first spelling. `org` may also be written `org_id`. The
// logsource is normalised to "product=..,category=..,service=.." order with lower-case values.
Result<SyslogSender> ParseSenderSpec(std::string_view spec);

// Checks a configured logsource ("service=sshd,product=Linux") and returns it in the one
// spelling envelopes carry ("product=linux,service=sshd"); empty stays empty.
Result<std::string> NormaliseConfiguredLogsource(std::string_view text);

class SenderMap {
 public:
  SenderMap() = default;  // empty: refuses everyone

  // Checks and indexes the senders. Errors name the offending entry: a bad address or prefix
  // length, a bad fingerprint, an empty organisation, an invalid logsource, or two entries with
  // the same match (after normalisation: "10.0.0.1" and "10.0.0.1/32" are the same).
  static Result<SenderMap> Build(std::vector<SyslogSender> senders);

  // The sender for a peer address in text form ("10.1.2.3", "::1", "::ffff:10.1.2.3"); nullptr
  // when none matches or the text is not an address.
  [[nodiscard]] const SyslogSender* ForAddress(std::string_view address) const;
  // The same for raw network-order bytes: 4 (IPv4) or 16 (IPv6, mapped IPv4 included).
  [[nodiscard]] const SyslogSender* ForAddressBytes(std::span<const uint8_t> address) const;
  // The sender for a client certificate: the fingerprint (hex, any case, ':' allowed) first,
  // then the common name; pass an empty name when no CA verified the certificate.
  [[nodiscard]] const SyslogSender* ForCertificate(std::string_view sha256_hex,
                                                   std::string_view common_name) const;

  [[nodiscard]] bool HasCertificateMatches() const {
    return !by_fingerprint_.empty() || !by_common_name_.empty();
  }
  [[nodiscard]] bool empty() const { return senders_.empty(); }
  [[nodiscard]] const std::vector<SyslogSender>& senders() const { return senders_; }

 private:
  // One address family: prefixes keyed by (masked address, length), and the distinct lengths
  // present, longest first.
  struct Family {
    std::unordered_map<std::string, size_t> prefixes;
    std::vector<int> lengths;
  };
  [[nodiscard]] const SyslogSender* Lookup(const Family& family, const uint8_t* bytes,
                                           size_t size) const;

  std::vector<SyslogSender> senders_;
  Family v4_;
  Family v6_;
  size_t catch_all_ = SIZE_MAX;
  std::unordered_map<std::string, size_t> by_fingerprint_;  // lower-case hex without ':'
  std::unordered_map<std::string, size_t> by_common_name_;
};

}  // namespace yagura::pipeline

// Canonical forms of observable values, so that a feed's value and an event's value compare
// equal exactly when they name the same thing.
//
// Used both when indicators are loaded and on the hot path for event values: the functions
// write into a caller-owned buffer (cleared first, capacity kept) and never allocate once that
// buffer has grown. They return false for text that is not a valid value of the type.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/time.hpp"
#include "intel/indicator.hpp"

namespace yagura::intel {

// IPv6 addresses as 16 bytes in network order. IPv4 addresses are also written this way as
// IPv4-mapped addresses (::ffff:a.b.c.d) where one table holds both families.
using Ipv6Bytes = std::array<uint8_t, 16>;

// Dotted quad, exactly four decimal parts 0-255, no leading '+', no octal/hex forms. A part
// with a leading zero ("01.2.3.4") is rejected: some resolvers read it as octal, so it names
// no single address.
std::optional<uint32_t> ParseIpv4(std::string_view text);
// RFC 4291 text forms: full, '::' compression, embedded IPv4 tail; an optional zone ("%eth0")
// is ignored; brackets "[...]" are accepted.
std::optional<Ipv6Bytes> ParseIpv6(std::string_view text);

struct Ipv4Network {
  uint32_t address = 0;  // host bits cleared
  uint8_t prefix = 32;
};
struct Ipv6Network {
  Ipv6Bytes address{};  // host bits cleared
  uint8_t prefix = 128;
};
// "a.b.c.d" or "a.b.c.d/n"; host bits set below the prefix are cleared (as STIX allows).
std::optional<Ipv4Network> ParseIpv4Network(std::string_view text);
std::optional<Ipv6Network> ParseIpv6Network(std::string_view text);

// Lower-case (ASCII), without a trailing dot; labels of 1-63 letters, digits, '-' or '_' (and
// any non-ASCII byte: internationalised names are compared as written), at least two labels,
// at most 253 characters. The last label must not be all digits (that is an IPv4 address, not
// a name). Surrounding ASCII white space is ignored by all the Normalise* functions.
bool NormaliseDomain(std::string_view text, std::string& out);

// scheme://host[:port]/path?query for absolute URLs: scheme and host lower-case, host without a
// trailing dot, the scheme's default port dropped (http 80, https 443, ftp 21, ws 80, wss 443),
// an empty path written "/", percent-escapes of unreserved characters decoded and the others'
// hex digits upper-case, the fragment dropped. User info is kept. Without a scheme, "http://" is
// assumed when `assume_http` (event fields often hold "example.com/path"). An IPv6 literal host
// stays in brackets in its RFC 5952 form; bytes a URL cannot hold literally (controls, space,
// '"', '<', '>', '`', '{', '}', non-ASCII) are percent-encoded in path and query, so a logged
// "/a b" equals "/a%20b", and so is a '%' that starts no escape ("/a%zz" equals "/a%25zz").
// Dot segments are not resolved.
bool NormaliseUrl(std::string_view text, std::string& out, bool assume_http = false);

// Lower-case hex of the right length for the algorithm (MD5 32, SHA-1 40, SHA-256 64,
// SHA-512 128, SHA3-256 64, SHA3-512 128, imphash 32); SSDEEP and TLSH are kept as written
// (trimmed; TLSH upper-cased hex is lower-cased).
bool NormaliseHash(std::string_view text, HashAlgorithm algorithm, std::string& out);

// local@domain with the domain normalised and the whole address lower-case.
bool NormaliseEmail(std::string_view text, std::string& out);

// What a bare value in a list most likely is: IPv4/IPv6 address or network, URL (has a
// scheme), e-mail, hash by hex length, domain. nullopt when it is none of them.
struct DetectedType {
  ObservableType type;
  HashAlgorithm algorithm = HashAlgorithm::kNone;
};
std::optional<DetectedType> DetectType(std::string_view text);

// Undoes the usual defanging of shared indicators: "hxxp" -> "http", "[.]" and "(.)" -> ".",
// "[:]" -> ":", "[@]" -> "@". Leaves other text unchanged.
std::string Refang(std::string_view text);

// Appends the RFC 5952 text form of an IPv6 address ("2001:db8::1", "::ffff:192.0.2.1").
void AppendIpv6(const Ipv6Bytes& address, std::string& out);

// Dates are read by the core's RFC 3339 reader (core/time.hpp).
using yagura::ParseIsoDateTimeMs;

}  // namespace yagura::intel

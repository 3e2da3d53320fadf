// GeoIpDatabases: where an address is, from MaxMind DB files the investigator brings
// (GeoLite2/GeoIP2 City, Country and ASN; DB-IP's lite databases, which share their names;
// IPinfo's Lite and country-and-ASN databases, whose names are read too):
// the country, city and autonomous system of the addresses in alerted events, as Hayabusa's
// --geo-ip gives them. For a national centre the first question about an address is whether
// it is foreign, and whose network it belongs to.
//
// Nothing is fetched: the files are read where they are (libmaxminddb maps them). Several files
// combine: a City (or Country) database gives the place, an ASN database the network, and for
// each the first file that knows the address wins. Lookups happen per alerted record, not per
// event, and are remembered, so a scan with millions of alerts on a few hundred addresses looks
// each up once.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/json_writer.hpp"
#include "core/result.hpp"

namespace yagura::intel {

struct GeoLocation {
  std::string country;       // ISO 3166-1 code, "JP"; the registered country when no other
  std::string country_name;  // in English, "Japan"
  std::string city;          // in English, "Tokyo"
  uint32_t asn = 0;          // 0: unknown
  std::string as_org;        // "KDDI CORPORATION"
};

class GeoIpDatabases {
 public:
  // Opens `paths`: .mmdb files, or directories whose *.mmdb files are opened in name order.
  // Fails, naming the file, on one that is not a MaxMind DB, and when no file is found.
  [[nodiscard]] static Result<GeoIpDatabases> Open(const std::vector<std::string>& paths);
  GeoIpDatabases(GeoIpDatabases&&) noexcept;
  GeoIpDatabases& operator=(GeoIpDatabases&&) noexcept;
  ~GeoIpDatabases();

  // Where `address` is (IPv4, IPv6, IPv4-mapped IPv6 as Windows writes "::ffff:a.b.c.d").
  // nullptr for text that is not an address, for addresses of no place (private, loopback,
  // link-local, shared ranges: RFC 1918, 4193, 6598...) and for addresses no
  // database knows. The pointer stays valid as long as this object.
  [[nodiscard]] const GeoLocation* Lookup(std::string_view address);

  // The files opened, with the database type each names ("GeoLite2-City").
  [[nodiscard]] std::vector<std::pair<std::string, std::string>> Files() const;

 private:
  struct Database;
  GeoIpDatabases() = default;
  std::vector<std::unique_ptr<Database>> databases_;
  std::unordered_map<std::string, std::unique_ptr<GeoLocation>> remembered_;
};

// The location's members as every output writes them, inside an object the caller opened:
// "country", "country_name", "city", "asn" (null when unknown), "as_org".
void WriteLocationMembers(JsonWriter& w, const GeoLocation& where);

// Whether an address (as inet_pton reads it) can have a place: false for private, loopback,
// link-local, multicast, unspecified and CGNAT ranges. nullopt: not an address.
[[nodiscard]] std::optional<bool> IsGlobalAddress(std::string_view address);

}  // namespace yagura::intel

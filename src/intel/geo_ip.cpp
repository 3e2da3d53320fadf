#include "intel/geo_ip.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <maxminddb.h>

#include <algorithm>
#include <cstring>
#include <filesystem>

namespace yagura::intel {
namespace {

// Addresses remembered at most; beyond it the memory starts again (a scan's alerts name a few
// hundred addresses, a sweep of the whole internet a great many).
constexpr size_t MAX_REMEMBERED = size_t{1} << 16;

// A string value of an entry at `path` (a null-terminated list), or "".
std::string StringAt(MMDB_entry_s& entry, const char* const* path) {
  MMDB_entry_data_s data;
  if (MMDB_aget_value(&entry, &data, path) != MMDB_SUCCESS || !data.has_data ||
      data.type != MMDB_DATA_TYPE_UTF8_STRING)
    return {};
  return std::string(data.utf8_string, data.data_size);
}

uint32_t UintAt(MMDB_entry_s& entry, const char* const* path) {
  MMDB_entry_data_s data;
  if (MMDB_aget_value(&entry, &data, path) != MMDB_SUCCESS || !data.has_data) return 0;
  switch (data.type) {
    case MMDB_DATA_TYPE_UINT16:
      return data.uint16;
    case MMDB_DATA_TYPE_UINT32:
      return data.uint32;
    case MMDB_DATA_TYPE_UINT64:
      return static_cast<uint32_t>(data.uint64);
    default:
      return 0;
  }
}

// IPinfo's databases name things their own way. Its Lite database: "country_code" ("JP") and
// "country" (the name); its older country and ASN database: "country" (the code) and
// "country_name". Both: "asn" as text ("AS2516") and "as_name".
void ReadIpinfoCountry(MMDB_entry_s& entry, GeoLocation& location) {
  static const char* const CODE[] = {"country_code", nullptr};
  static const char* const COUNTRY[] = {"country", nullptr};
  static const char* const NAME[] = {"country_name", nullptr};
  std::string code = StringAt(entry, CODE);
  if (!code.empty()) {
    location.country = std::move(code);
    location.country_name = StringAt(entry, COUNTRY);
    return;
  }
  std::string country = StringAt(entry, COUNTRY);
  if (country.size() == 2) {
    location.country = std::move(country);
    location.country_name = StringAt(entry, NAME);
  }
}

void ReadIpinfoNetwork(MMDB_entry_s& entry, GeoLocation& location) {
  static const char* const ASN[] = {"asn", nullptr};
  static const char* const AS_NAME[] = {"as_name", nullptr};
  const std::string asn = StringAt(entry, ASN);
  if (asn.size() < 3 || (asn[0] != 'A' && asn[0] != 'a') || (asn[1] != 'S' && asn[1] != 's'))
    return;
  uint64_t number = 0;
  for (size_t i = 2; i < asn.size(); ++i) {
    if (asn[i] < '0' || asn[i] > '9' || number > 0xffffffffu / 10) return;
    number = number * 10 + static_cast<uint64_t>(asn[i] - '0');
  }
  if (number == 0 || number > 0xffffffffu) return;
  location.asn = static_cast<uint32_t>(number);
  location.as_org = StringAt(entry, AS_NAME);
}

}  // namespace

struct GeoIpDatabases::Database {
  MMDB_s mmdb{};
  std::string path;
  ~Database() { MMDB_close(&mmdb); }
};

GeoIpDatabases::GeoIpDatabases(GeoIpDatabases&&) noexcept = default;
GeoIpDatabases& GeoIpDatabases::operator=(GeoIpDatabases&&) noexcept = default;
GeoIpDatabases::~GeoIpDatabases() = default;

Result<GeoIpDatabases> GeoIpDatabases::Open(const std::vector<std::string>& paths) {
  namespace fs = std::filesystem;
  std::vector<std::string> files;
  for (const std::string& path : paths) {
    std::error_code error;
    if (fs::is_directory(path, error)) {
      std::vector<std::string> found;
      for (const auto& entry : fs::directory_iterator(path, error))
        if (entry.is_regular_file(error) && entry.path().extension() == ".mmdb")
          found.push_back(entry.path().string());
      if (error) return Fail(fmt::format("--geo-ip: {}: {}", path, error.message()));
      std::sort(found.begin(), found.end());
      if (found.empty()) return Fail(fmt::format("--geo-ip: {}: no .mmdb file in it", path));
      files.insert(files.end(), found.begin(), found.end());
    } else if (!fs::exists(path, error)) {
      return Fail(fmt::format("--geo-ip: {}: no such file or directory", path));
    } else {
      files.push_back(path);
    }
  }
  if (files.empty()) return Fail("--geo-ip: no database given");
  GeoIpDatabases opened;
  for (const std::string& file : files) {
    auto database = std::make_unique<Database>();
    database->path = file;
    const int status = MMDB_open(file.c_str(), MMDB_MODE_MMAP, &database->mmdb);
    if (status != MMDB_SUCCESS) {
      const char* reason = status == MMDB_IO_ERROR ? std::strerror(errno) : MMDB_strerror(status);
      return Fail(fmt::format("--geo-ip: {}: {}", file, reason));
    }
    opened.databases_.push_back(std::move(database));
  }
  return opened;
}

std::vector<std::pair<std::string, std::string>> GeoIpDatabases::Files() const {
  std::vector<std::pair<std::string, std::string>> files;
  for (const auto& database : databases_)
    files.emplace_back(database->path, database->mmdb.metadata.database_type != nullptr
                                           ? database->mmdb.metadata.database_type
                                           : "");
  return files;
}

void WriteLocationMembers(JsonWriter& w, const GeoLocation& where) {
  w.Key("country").String(where.country);
  w.Key("country_name").String(where.country_name);
  w.Key("city").String(where.city);
  w.Key("asn");
  if (where.asn != 0)
    w.Uint(where.asn);
  else
    w.Null();
  w.Key("as_org").String(where.as_org);
}

std::optional<bool> IsGlobalAddress(std::string_view text) {
  if (text.empty() || text.size() > INET6_ADDRSTRLEN) return std::nullopt;
  const std::string address(text);
  unsigned char bytes[16];
  if (inet_pton(AF_INET, address.c_str(), bytes) == 1) {
    const unsigned a = bytes[0], b = bytes[1];
    const bool local = a == 0 || a == 10 || a == 127 || (a == 100 && (b & 0xc0) == 64) ||
                       (a == 169 && b == 254) || (a == 172 && (b & 0xf0) == 16) ||
                       (a == 192 && b == 168) || a >= 224;
    return !local;
  }
  if (inet_pton(AF_INET6, address.c_str(), bytes) != 1) return std::nullopt;
  static const unsigned char MAPPED[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(bytes, MAPPED, 12) == 0) {
    char v4[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, bytes + 12, v4, sizeof v4);
    return IsGlobalAddress(v4);
  }
  const bool unspecified_or_loopback =
      std::all_of(bytes, bytes + 15, [](unsigned char c) { return c == 0; }) && bytes[15] <= 1;
  const bool unique_local = (bytes[0] & 0xfe) == 0xfc;
  const bool link_local = bytes[0] == 0xfe && (bytes[1] & 0xc0) == 0x80;
  const bool multicast = bytes[0] == 0xff;
  return !(unspecified_or_loopback || unique_local || link_local || multicast);
}

const GeoLocation* GeoIpDatabases::Lookup(std::string_view text) {
  std::string key(text);
  if (auto known = remembered_.find(key); known != remembered_.end()) return known->second.get();
  if (remembered_.size() >= MAX_REMEMBERED) remembered_.clear();
  std::unique_ptr<GeoLocation> found;
  if (IsGlobalAddress(text).value_or(false)) {
    std::string address(text);
    // Windows writes IPv4 peers of dual-stack sockets as "::ffff:a.b.c.d": looked up as IPv4.
    if (address.size() > 7 && (address.starts_with("::ffff:") || address.starts_with("::FFFF:")) &&
        address.find('.') != std::string::npos)
      address.erase(0, 7);
    GeoLocation location;
    bool any = false;
    for (const auto& database : databases_) {
      int gai_error = 0, mmdb_error = 0;
      MMDB_lookup_result_s result =
          MMDB_lookup_string(&database->mmdb, address.c_str(), &gai_error, &mmdb_error);
      if (gai_error != 0 || mmdb_error != MMDB_SUCCESS || !result.found_entry) continue;
      static const char* const COUNTRY[] = {"country", "iso_code", nullptr};
      static const char* const REGISTERED[] = {"registered_country", "iso_code", nullptr};
      static const char* const COUNTRY_NAME[] = {"country", "names", "en", nullptr};
      static const char* const REGISTERED_NAME[] = {"registered_country", "names", "en", nullptr};
      static const char* const CITY[] = {"city", "names", "en", nullptr};
      static const char* const ASN[] = {"autonomous_system_number", nullptr};
      static const char* const AS_ORG[] = {"autonomous_system_organization", nullptr};
      if (location.country.empty()) {
        location.country = StringAt(result.entry, COUNTRY);
        location.country_name = StringAt(result.entry, COUNTRY_NAME);
        if (location.country.empty()) {
          location.country = StringAt(result.entry, REGISTERED);
          location.country_name = StringAt(result.entry, REGISTERED_NAME);
        }
        if (location.country.empty()) ReadIpinfoCountry(result.entry, location);
      }
      if (location.city.empty()) location.city = StringAt(result.entry, CITY);
      if (location.asn == 0) {
        location.asn = UintAt(result.entry, ASN);
        if (location.asn != 0) location.as_org = StringAt(result.entry, AS_ORG);
        if (location.asn == 0) ReadIpinfoNetwork(result.entry, location);
      }
      any = true;
    }
    if (any && (!location.country.empty() || !location.city.empty() || location.asn != 0))
      found = std::make_unique<GeoLocation>(std::move(location));
  }
  const GeoLocation* pointer = found.get();
  remembered_.emplace(std::move(key), std::move(found));
  return pointer;
}

}  // namespace yagura::intel

// GeoIpDatabases (intel/geo_ip.hpp) over MaxMind DB files written here: City and ASN databases
// combined, IPv4 in IPv6 and IPv4 databases, IPv4-mapped addresses, addresses of no place,
// remembered lookups, and files that are not databases named.
#include "intel/geo_ip.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "test_support/mmdb_writer.hpp"

namespace yagura::intel {
namespace {

namespace fs = std::filesystem;
using test_support::MmdbMap;
using test_support::MmdbWriter;

class GeoIpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("yagura-geoip-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "dbs");
    MmdbWriter city(6, "GeoLite2-City");
    city.Insert("203.0.113.0/24",
                MmdbMap{{"city", MmdbMap{{"names", MmdbMap{{"en", "Tokyo"}, {"ja", "東京"}}}}},
                        {"country", MmdbMap{{"iso_code", "JP"},
                                            {"names", MmdbMap{{"en", "Japan"}, {"ja", "日本"}}}}}});
    city.Insert("198.51.100.0/25",
                MmdbMap{{"registered_country",
                         MmdbMap{{"iso_code", "NL"}, {"names", MmdbMap{{"en", "Netherlands"}}}}}});
    city.Insert(
        "2001:db8:1::/48",
        MmdbMap{{"country", MmdbMap{{"iso_code", "DE"}, {"names", MmdbMap{{"en", "Germany"}}}}}});
    Write(dir_ / "dbs" / "GeoLite2-City.mmdb", city.Bytes());
    MmdbWriter asn(4, "GeoLite2-ASN");
    asn.Insert("203.0.113.0/25", MmdbMap{{"autonomous_system_number", uint64_t{2516}},
                                         {"autonomous_system_organization", "KDDI CORPORATION"}});
    asn.Insert("192.0.2.0/24", MmdbMap{{"autonomous_system_number", uint64_t{64500}},
                                       {"autonomous_system_organization", "Example Transit"}});
    Write(dir_ / "dbs" / "GeoLite2-ASN.mmdb", asn.Bytes());
  }
  void TearDown() override { fs::remove_all(dir_); }
  static void Write(const fs::path& path, const std::string& bytes) {
    std::ofstream(path, std::ios::binary) << bytes;
  }
  fs::path dir_;
};

TEST_F(GeoIpTest, CombinesPlaceAndNetworkFromTheDatabasesOfAFolder) {
  auto databases = GeoIpDatabases::Open({(dir_ / "dbs").string()});
  ASSERT_TRUE(databases) << databases.error().ToString();
  ASSERT_EQ(databases->Files().size(), 2u);
  EXPECT_EQ(databases->Files()[0].second, "GeoLite2-ASN");  // name order
  EXPECT_EQ(databases->Files()[1].second, "GeoLite2-City");

  const GeoLocation* tokyo = databases->Lookup("203.0.113.9");
  ASSERT_NE(tokyo, nullptr);
  EXPECT_EQ(tokyo->country, "JP");
  EXPECT_EQ(tokyo->country_name, "Japan");
  EXPECT_EQ(tokyo->city, "Tokyo");
  EXPECT_EQ(tokyo->asn, 2516u);
  EXPECT_EQ(tokyo->as_org, "KDDI CORPORATION");
  EXPECT_EQ(databases->Lookup("203.0.113.9"), tokyo);  // remembered
  // Outside the ASN database's /25: the place only.
  const GeoLocation* upper = databases->Lookup("203.0.113.200");
  ASSERT_NE(upper, nullptr);
  EXPECT_EQ(upper->city, "Tokyo");
  EXPECT_EQ(upper->asn, 0u);
  // As Windows writes a dual-stack peer.
  const GeoLocation* mapped = databases->Lookup("::ffff:203.0.113.9");
  ASSERT_NE(mapped, nullptr);
  EXPECT_EQ(mapped->asn, 2516u);
  // The registered country when the database has no other.
  const GeoLocation* registered = databases->Lookup("198.51.100.7");
  ASSERT_NE(registered, nullptr);
  EXPECT_EQ(registered->country, "NL");
  EXPECT_EQ(registered->country_name, "Netherlands");
  // The network only; IPv6 from the IPv6 database (the IPv4 one cannot answer it).
  EXPECT_EQ(databases->Lookup("192.0.2.1")->as_org, "Example Transit");
  EXPECT_EQ(databases->Lookup("192.0.2.1")->country, "");
  EXPECT_EQ(databases->Lookup("2001:db8:1::5")->country, "DE");
  // Unknown to both, of no place, not an address.
  EXPECT_EQ(databases->Lookup("8.8.8.8"), nullptr);
  for (const char* none :
       {"10.1.2.3", "192.168.0.1", "172.20.0.1", "127.0.0.1", "100.64.0.1", "169.254.1.1", "::1",
        "fe80::1", "fd00::1", "::ffff:10.0.0.5", "-", "", "WORKSTATION", "203.0.113.9:443"})
    EXPECT_EQ(databases->Lookup(none), nullptr) << none;
}

// IPinfo's databases: the Lite one ("country_code", "country" as the name) and the older
// country-and-ASN one ("country" as the code, "country_name"); "asn" as text in both.
TEST_F(GeoIpTest, ReadsIpinfosNamesToo) {
  MmdbWriter lite(6, "ipinfo lite.mmdb");
  lite.Insert("203.0.113.0/24", MmdbMap{{"asn", "AS2516"},
                                        {"as_name", "KDDI CORPORATION"},
                                        {"country", "Japan"},
                                        {"country_code", "JP"},
                                        {"continent", "Asia"}});
  Write(dir_ / "lite.mmdb", lite.Bytes());
  MmdbWriter older(6, "ipinfo country_asn.mmdb");
  older.Insert("198.51.100.0/24", MmdbMap{{"asn", "as64500"},
                                          {"as_name", "Example"},
                                          {"country", "NL"},
                                          {"country_name", "Netherlands"}});
  older.Insert("192.0.2.0/24", MmdbMap{{"asn", "AS12x"}, {"country", "Atlantis"}});
  Write(dir_ / "older.mmdb", older.Bytes());
  auto databases =
      GeoIpDatabases::Open({(dir_ / "lite.mmdb").string(), (dir_ / "older.mmdb").string()});
  ASSERT_TRUE(databases) << databases.error().ToString();
  const GeoLocation* japan = databases->Lookup("203.0.113.9");
  ASSERT_NE(japan, nullptr);
  EXPECT_EQ(japan->country, "JP");
  EXPECT_EQ(japan->country_name, "Japan");
  EXPECT_EQ(japan->asn, 2516u);
  EXPECT_EQ(japan->as_org, "KDDI CORPORATION");
  const GeoLocation* netherlands = databases->Lookup("198.51.100.7");
  ASSERT_NE(netherlands, nullptr);
  EXPECT_EQ(netherlands->country, "NL");
  EXPECT_EQ(netherlands->country_name, "Netherlands");
  EXPECT_EQ(netherlands->asn, 64500u);
  // Neither a code nor an AS number: nothing is made up.
  EXPECT_EQ(databases->Lookup("192.0.2.1"), nullptr);
}

TEST_F(GeoIpTest, NamesWhatCannotBeOpened) {
  Write(dir_ / "bad.mmdb", "not a database at all");
  auto bad = GeoIpDatabases::Open({(dir_ / "bad.mmdb").string()});
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("bad.mmdb"), std::string::npos) << bad.error().message;
  auto missing = GeoIpDatabases::Open({(dir_ / "missing.mmdb").string()});
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("missing.mmdb"), std::string::npos);
  fs::create_directories(dir_ / "empty");
  auto empty = GeoIpDatabases::Open({(dir_ / "empty").string()});
  ASSERT_FALSE(empty);
  EXPECT_NE(empty.error().message.find("no .mmdb file"), std::string::npos);
}

TEST(GlobalAddress, TellsAddressesOfNoPlace) {
  EXPECT_EQ(IsGlobalAddress("203.0.113.9"), true);
  EXPECT_EQ(IsGlobalAddress("2001:db8::1"), true);
  EXPECT_EQ(IsGlobalAddress("172.32.0.1"), true);
  EXPECT_EQ(IsGlobalAddress("100.128.0.1"), true);
  EXPECT_EQ(IsGlobalAddress("172.31.255.255"), false);
  EXPECT_EQ(IsGlobalAddress("224.0.0.1"), false);
  EXPECT_EQ(IsGlobalAddress("0.0.0.0"), false);
  EXPECT_EQ(IsGlobalAddress("::"), false);
  EXPECT_EQ(IsGlobalAddress("ff02::1"), false);
  EXPECT_EQ(IsGlobalAddress("host.example"), std::nullopt);
}

}  // namespace
}  // namespace yagura::intel

#include "intel/indicator_index.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "intel/live_indicators.hpp"
#include "intel/path_forms.hpp"
#include "intel_test_util.hpp"

namespace yagura::intel {
namespace {

using testing::A;
using testing::One;
using testing::Snapshot;
using OT = ObservableType;

class Collect final : public IndicatorIndex::Visitor {
 public:
  explicit Collect(const IndicatorIndex& index) : index_(index) {}
  void Visit(const IndicatorIndex::Ref& ref) override {
    ids.emplace_back(index_.snapshots()[ref.snapshot]->View(ref.indicator).id);
  }
  std::vector<std::string> ids;

 private:
  const IndicatorIndex& index_;
};

// The ids of the indicators found for an address.
std::vector<std::string> Ipv4Ids(const IndicatorIndex& index, const char* text) {
  Collect collect(index);
  index.FindIpv4(*ParseIpv4(text), collect);
  return collect.ids;
}
std::vector<std::string> Ipv6Ids(const IndicatorIndex& index, const char* text) {
  Collect collect(index);
  index.FindIpv6(*ParseIpv6(text), collect);
  return collect.ids;
}

constexpr int64_t NOW = 1'800'000'000'000;  // 2027-01-15

IndexOptions At(int64_t now = NOW) {
  IndexOptions options;
  options.now_ms = now;
  return options;
}

TEST(IndicatorIndex, Ipv4LongestPrefixWins) {
  auto index = IndicatorIndex::Build({Snapshot({One("net8", A(OT::kIpv4, "10.0.0.0/8")),
                                                One("net16", A(OT::kIpv4, "10.1.0.0/16")),
                                                One("host", A(OT::kIpv4, "10.1.2.3"))})},
                                     At());
  auto find = [&](const char* text) { return Ipv4Ids(*index, text); };
  EXPECT_EQ(find("10.1.2.3"), std::vector<std::string>{"host"});
  EXPECT_EQ(find("10.1.2.4"), std::vector<std::string>{"net16"});
  EXPECT_EQ(find("10.200.0.1"), std::vector<std::string>{"net8"});
  EXPECT_TRUE(find("11.0.0.1").empty());
  EXPECT_EQ(index->stats().active, 3u);
}

// Addresses are first checked against the /24 blocks feeds name: every address of a range
// is found, up to its edges, whatever its prefix length (shorter or longer than /24).
TEST(IndicatorIndex, Ipv4RangesAreFoundUpToTheirEdges) {
  auto index = IndicatorIndex::Build(
      {Snapshot({One("net12", A(OT::kIpv4, "172.16.0.0/12")), One("net28", A(OT::kIpv4, "198.51.100.16/28")),
                 One("host", A(OT::kIpv4, "203.0.113.9"))})},
      At());
  auto find = [&](const char* text) { return Ipv4Ids(*index, text); };
  EXPECT_EQ(find("172.16.0.0"), std::vector<std::string>{"net12"});
  EXPECT_EQ(find("172.31.255.255"), std::vector<std::string>{"net12"});
  EXPECT_TRUE(find("172.15.255.255").empty());
  EXPECT_TRUE(find("172.32.0.0").empty());
  EXPECT_EQ(find("198.51.100.16"), std::vector<std::string>{"net28"});
  EXPECT_EQ(find("198.51.100.31"), std::vector<std::string>{"net28"});
  EXPECT_TRUE(find("198.51.100.15").empty());  // same /24 block, outside the range
  EXPECT_TRUE(find("198.51.100.32").empty());
  EXPECT_EQ(find("203.0.113.9"), std::vector<std::string>{"host"});
  EXPECT_TRUE(find("203.0.113.10").empty());
  EXPECT_TRUE(find("203.0.114.9").empty());

  // A /0 range holds every address.
  auto everything =
      IndicatorIndex::Build({Snapshot({One("all", A(OT::kIpv4, "0.0.0.0/0"))})}, At());
  for (const char* text : {"0.0.0.0", "127.0.0.1", "255.255.255.255"}) {
    EXPECT_EQ(Ipv4Ids(*everything, text), std::vector<std::string>{"all"}) << text;
  }
}

TEST(IndicatorIndex, HostBitsOfARangeAreCleared) {
  auto index = IndicatorIndex::Build({Snapshot({One("r", A(OT::kIpv4, "192.0.2.77/24"))})}, At());
  Collect collect(*index);
  index->FindIpv4(*ParseIpv4("192.0.2.1"), collect);
  EXPECT_EQ(collect.ids, std::vector<std::string>{"r"});
}

TEST(IndicatorIndex, Ipv6RangesAndAddresses) {
  auto index = IndicatorIndex::Build({Snapshot({One("net", A(OT::kIpv6, "2001:db8::/32")),
                                                One("host", A(OT::kIpv6, "2001:DB8::1"))})},
                                     At());
  auto find = [&](const char* text) { return Ipv6Ids(*index, text); };
  EXPECT_EQ(find("2001:db8:0:0::1"), std::vector<std::string>{"host"});
  EXPECT_EQ(find("2001:db8:ffff::5"), std::vector<std::string>{"net"});
  EXPECT_TRUE(find("2001:db9::1").empty());
}

TEST(IndicatorIndex, DomainsMatchTheirSubdomainsButNeverTheTopLevel) {
  auto snapshot = Snapshot({One("d", A(OT::kDomain, "Evil.Example.")),
                            One("tld", A(OT::kDomain, "example"))});
  auto index = IndicatorIndex::Build({snapshot}, At());
  auto find = [&](const IndicatorIndex& in, const char* domain) {
    Collect collect(in);
    in.FindDomain(domain, collect);
    return collect.ids;
  };
  EXPECT_EQ(find(*index, "evil.example"), std::vector<std::string>{"d"});
  EXPECT_EQ(find(*index, "a.b.evil.example"), std::vector<std::string>{"d"});
  EXPECT_TRUE(find(*index, "notevil.example").empty());
  EXPECT_TRUE(find(*index, "evil.example.net").empty());
  IndexOptions exact = At();
  exact.match_subdomains = false;
  auto exact_index = IndicatorIndex::Build({snapshot}, exact);
  EXPECT_TRUE(find(*exact_index, "www.evil.example").empty());
  EXPECT_EQ(find(*exact_index, "evil.example"), std::vector<std::string>{"d"});
}

TEST(IndicatorIndex, VersionsRevocationAndValidity) {
  auto version = [](const char* id, int64_t modified, const char* value, bool revoked = false) {
    Indicator indicator = One(id, A(OT::kDomain, value));
    indicator.modified = modified;
    indicator.revoked = revoked;
    return indicator;
  };
  Indicator expired = One("expired", A(OT::kDomain, "old.example"));
  expired.valid_until = NOW - 1;
  Indicator future = One("future", A(OT::kDomain, "future.example"));
  future.valid_from = NOW + 1000;
  Indicator current = One("current", A(OT::kDomain, "current.example"));
  current.valid_from = NOW - 1000;
  current.valid_until = NOW + 1000;
  // Feed A has v1 of "x"; feed B has v2 (newer, other value) and a revocation of "y".
  auto feed_a = Snapshot({version("x", 1, "v1.example"), version("y", 1, "y.example"),
                          std::move(expired), std::move(future), std::move(current)});
  auto feed_b = Snapshot({version("x", 2, "v2.example"), version("y", 2, "y.example", true)});
  auto index = IndicatorIndex::Build({feed_a, feed_b}, At());
  auto find = [&](const char* domain) {
    Collect collect(*index);
    index->FindDomain(domain, collect);
    return collect.ids;
  };
  EXPECT_TRUE(find("v1.example").empty());
  EXPECT_EQ(find("v2.example"), std::vector<std::string>{"x"});
  EXPECT_TRUE(find("y.example").empty());
  EXPECT_TRUE(find("old.example").empty());
  EXPECT_TRUE(find("future.example").empty());
  EXPECT_EQ(find("current.example"), std::vector<std::string>{"current"});
  const IndexStats& stats = index->stats();
  EXPECT_EQ(stats.indicators, 7u);
  EXPECT_EQ(stats.active, 2u);
  EXPECT_EQ(stats.superseded, 2u);
  EXPECT_EQ(stats.revoked, 1u);
  EXPECT_EQ(stats.expired, 1u);
  EXPECT_EQ(stats.not_yet_valid, 1u);
  // The same feeds, judged later: "current" has expired and "future" has begun.
  auto later = IndicatorIndex::Build({feed_a, feed_b}, At(NOW + 2000));
  EXPECT_EQ(later->stats().active, 2u);
  EXPECT_EQ(later->stats().expired, 2u);
}

TEST(IndicatorIndex, SharedValuesAreStoredOnce) {
  auto index = IndicatorIndex::Build(
      {Snapshot({One("a", A(OT::kIpv4, "198.51.100.7")), One("b", A(OT::kIpv4, "198.51.100.7"))})},
      At());
  EXPECT_EQ(index->stats().values, 1u);
  Collect collect(*index);
  index->FindIpv4(*ParseIpv4("198.51.100.7"), collect);
  EXPECT_EQ(collect.ids, (std::vector<std::string>{"a", "b"}));
}

TEST(IndicatorIndex, InvalidValuesAreReportedWithTheIndicatorId) {
  Diagnostics diagnostics;
  Indicator mixed;
  mixed.id = "indicator--mixed";
  mixed.any_of.push_back({A(OT::kIpv4, "300.1.1.1")});  // dropped
  mixed.any_of.push_back({A(OT::kDomain, "good.example")});
  auto snapshot = Snapshot({One("indicator--bad", A(OT::kIpv4, "not an address")),
                            std::move(mixed), One("port-only", A(OT::kPort, "443"))},
                           &diagnostics);
  EXPECT_EQ(snapshot->size(), 1u);  // only the mixed one, with its good conjunction
  auto kept = diagnostics.Kept();
  ASSERT_EQ(kept.size(), 3u);
  EXPECT_NE(kept[0].message.find("indicator--bad"), std::string::npos);
  EXPECT_NE(kept[1].message.find("indicator--mixed"), std::string::npos);
  EXPECT_NE(kept[2].message.find("port-only"), std::string::npos);
}

TEST(IndicatorIndex, RegistryKeysMatchValuesBelowThem) {
  auto index = IndicatorIndex::Build(
      {Snapshot({One("run", A(OT::kRegistryKey,
                              "HKEY_LOCAL_MACHINE\\Software\\Microsoft\\Windows\\CurrentVersion\\Run"))})},
      At());
  std::string key;
  ASSERT_TRUE(CanonicalRegistryKey(
      "\\REGISTRY\\MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run\\Updater", key));
  Collect collect(*index);
  index->FindRegistryKey(key, collect);
  EXPECT_EQ(collect.ids, std::vector<std::string>{"run"});
  ASSERT_TRUE(CanonicalRegistryKey("HKLM\\Software\\Microsoft\\Windows\\CurrentVersion\\RunOnce",
                                   key));
  Collect none(*index);
  index->FindRegistryKey(key, none);
  EXPECT_TRUE(none.ids.empty());
}

TEST(IndicatorIndex, MemoryPerIndicatorStaysSmall) {
  // 100,000 list-style indicators of mixed types: the compact form and the tables together
  // stay under the 200 bytes per indicator the service budgets.
  std::vector<Indicator> indicators;
  for (int i = 0; i < 100000; ++i) {
    Indicator indicator;
    indicator.id = "feeds/mixed.txt:" + std::to_string(i + 1);
    indicator.feed = "mixed";
    Atom atom;
    switch (i % 4) {
      case 0:
        atom = A(OT::kIpv4, fmt::format("{}.{}.{}.{}", 1 + i % 200, (i >> 8) & 255, i & 255, 7));
        break;
      case 1: atom = A(OT::kDomain, fmt::format("host{}.example{}.com", i, i % 97)); break;
      case 2: atom = A(OT::kUrl, fmt::format("http://site{}.example/path/{}", i % 5000, i)); break;
      default:
        atom = A(OT::kHash, fmt::format("{:064x}", static_cast<uint64_t>(i) * 2654435761u),
                 Direction::kAny, HashAlgorithm::kSha256);
    }
    indicator.pattern = std::string(ToString(atom.type)) + ":" + atom.value;
    indicator.any_of.push_back({std::move(atom)});
    indicators.push_back(std::move(indicator));
  }
  auto snapshot = Snapshot(std::move(indicators));
  auto index = IndicatorIndex::Build({snapshot}, At());
  ASSERT_EQ(index->stats().active, 100000u);
  double per_indicator =
      static_cast<double>(snapshot->MemoryBytes() + index->stats().memory_bytes) / 100000;
  EXPECT_LT(per_indicator, 200.0);
}

}  // namespace
}  // namespace yagura::intel

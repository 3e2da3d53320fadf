// CampaignTracker (one key seen at several organisations) and CampaignKeyFields.
#include "correlate/campaigns.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <deque>
#include <random>

namespace yagura::correlate {
namespace {

constexpr int64_t HOUR = 3600 * 1000LL;

CampaignKey Key(const std::string& value = "203.0.113.7") {
  return {"rule", "9dfc8c97-c892-4113-b1c9-4132bffa1956", value, "SSH Failed Password"};
}

TEST(Campaigns, ThreeOrganisationsWithinTheWindowRaiseOne) {
  CampaignTracker tracker;  // 3 organisations, 24 h
  std::vector<CampaignUpdate> out;
  tracker.Observe(Key(), "org-a", "alert-a1", 0, out);
  tracker.Observe(Key(), "org-b", "alert-b1", 2 * HOUR, out);
  tracker.Observe(Key(), "org-b", "alert-b2", 3 * HOUR, out);
  EXPECT_TRUE(out.empty());
  tracker.Observe(Key(), "org-c", "alert-c1", 5 * HOUR, out);
  ASSERT_EQ(out.size(), 1u);
  const CampaignUpdate& campaign = out[0];
  EXPECT_TRUE(campaign.created);
  EXPECT_EQ(campaign.id.size(), 36u);
  EXPECT_EQ(campaign.key.value, "203.0.113.7");
  EXPECT_EQ(campaign.key.title, "SSH Failed Password");
  ASSERT_EQ(campaign.members.size(), 3u);
  EXPECT_EQ(campaign.members[0].org_id, "org-a");
  EXPECT_EQ(campaign.members[0].alert_id, "alert-a1");
  EXPECT_EQ(campaign.members[1].org_id, "org-b");
  EXPECT_EQ(campaign.members[1].alert_id, "alert-b1") << "the first alert of the organisation";
  EXPECT_EQ(campaign.members[2].org_id, "org-c");
  EXPECT_EQ(campaign.first_time_ms, 0);
  EXPECT_EQ(campaign.last_time_ms, 5 * HOUR);
}

TEST(Campaigns, SameOrganisationTwiceCountsOnce) {
  CampaignTracker tracker;
  std::vector<CampaignUpdate> out;
  for (int i = 0; i < 10; ++i) tracker.Observe(Key(), "org-a", "a" + std::to_string(i), i, out);
  tracker.Observe(Key(), "org-b", "b", 11, out);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(tracker.keys(), 1u);
}

TEST(Campaigns, AFourthOrganisationExtendsTheCampaign) {
  CampaignTracker tracker;
  std::vector<CampaignUpdate> out;
  tracker.Observe(Key(), "org-a", "a", 0, out);
  tracker.Observe(Key(), "org-b", "b", 1000, out);
  tracker.Observe(Key(), "org-c", "c", 2000, out);
  ASSERT_EQ(out.size(), 1u);
  tracker.Observe(Key(), "org-c", "c2", 3000, out);  // already a member: nothing new
  EXPECT_EQ(out.size(), 1u);
  tracker.Observe(Key(), "org-d", "d", 10 * HOUR, out);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_FALSE(out[1].created);
  EXPECT_EQ(out[1].id, out[0].id);
  ASSERT_EQ(out[1].members.size(), 4u);
  EXPECT_EQ(out[1].members[3].org_id, "org-d");
  EXPECT_EQ(out[1].last_time_ms, 10 * HOUR);
}

TEST(Campaigns, OrganisationsOutsideTheWindowDoNotCount) {
  CampaignTracker tracker;
  std::vector<CampaignUpdate> out;
  tracker.Observe(Key(), "org-a", "a", 0, out);
  tracker.Observe(Key(), "org-b", "b", 30 * HOUR, out);
  tracker.Observe(Key(), "org-c", "c", 31 * HOUR, out);
  EXPECT_TRUE(out.empty()) << "org-a was seen more than 24 h before";
  tracker.Observe(Key(), "org-a", "a2", 32 * HOUR, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].members[0].org_id, "org-b");
  EXPECT_EQ(out[0].members[2].org_id, "org-a");
  EXPECT_EQ(out[0].members[2].alert_id, "a2");
}

TEST(Campaigns, DifferentKeysAreDifferentCampaigns) {
  CampaignTracker tracker;
  std::vector<CampaignUpdate> out;
  tracker.Observe(Key("203.0.113.7"), "org-a", "a", 0, out);
  tracker.Observe(Key("203.0.113.8"), "org-b", "b", 0, out);
  tracker.Observe(Key("203.0.113.7"), "org-c", "c", 0, out);
  CampaignKey indicator{"indicator", "indicator--1", "", "Bad domain"};
  tracker.Observe(indicator, "org-b", "b", 0, out);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(tracker.keys(), 3u);
}

TEST(Campaigns, AQuietKeyIsForgottenAndALaterWaveIsANewCampaign) {
  CampaignOptions options;
  options.min_organisations = 2;
  options.window_ms = HOUR;
  CampaignTracker tracker(options);
  std::vector<CampaignUpdate> out;
  tracker.Observe(Key(), "org-a", "a", 0, out);
  tracker.Observe(Key(), "org-b", "b", 1000, out);
  ASSERT_EQ(out.size(), 1u);
  tracker.Observe(Key("198.51.100.1"), "org-a", "x", 5 * HOUR, out);  // moves time on
  EXPECT_EQ(tracker.keys(), 1u) << "the first key expired";
  tracker.Observe(Key(), "org-a", "a", 5 * HOUR, out);
  tracker.Observe(Key(), "org-c", "c", 5 * HOUR + 1, out);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_TRUE(out[1].created);
  EXPECT_NE(out[1].id, out[0].id);
  // Too old to matter any more: ignored.
  tracker.Observe(Key("192.0.2.1"), "org-a", "old", 0, out);
  EXPECT_EQ(tracker.keys(), 2u);
}

TEST(Campaigns, KeysAreBounded) {
  CampaignOptions options;
  options.max_keys = 2;
  CampaignTracker tracker(options);
  std::vector<CampaignUpdate> out;
  tracker.Observe(Key("203.0.113.1"), "org-a", "a", 0, out);
  tracker.Observe(Key("203.0.113.2"), "org-a", "a", 1, out);
  tracker.Observe(Key("203.0.113.3"), "org-a", "a", 2, out);
  EXPECT_EQ(tracker.keys(), 2u);
  EXPECT_EQ(tracker.evicted(), 1u);
}

TEST(Campaigns, DeterministicIds) {
  auto run = [] {
    CampaignTracker tracker;
    std::vector<CampaignUpdate> out;
    for (const char* org : {"x", "y", "z"}) tracker.Observe(Key(), org, org, 42, out);
    return out.at(0).id;
  };
  EXPECT_EQ(run(), run());
}

TEST(Campaigns, SnapshotRoundTrip) {
  auto feed = [](CampaignTracker& tracker, int from, int to, std::vector<CampaignUpdate>& out) {
    for (int i = from; i < to; ++i) {
      std::string org = "org-" + std::to_string(i % 5);
      tracker.Observe(Key("203.0.113." + std::to_string(i % 4)), org, "alert-" + std::to_string(i),
                      i * 3 * HOUR, out);
    }
  };
  CampaignTracker whole;
  std::vector<CampaignUpdate> expected;
  feed(whole, 0, 60, expected);
  ASSERT_FALSE(expected.empty());

  CampaignTracker first;
  std::vector<CampaignUpdate> got;
  feed(first, 0, 23, got);
  std::string snapshot = first.Snapshot();
  CampaignTracker second;
  ASSERT_TRUE(second.Restore(snapshot).has_value());
  EXPECT_EQ(second.Snapshot(), snapshot);
  feed(second, 23, 60, got);
  ASSERT_EQ(got.size(), expected.size());
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].id, expected[i].id);
    EXPECT_EQ(got[i].created, expected[i].created);
    EXPECT_EQ(got[i].members.size(), expected[i].members.size());
  }

  std::string flipped = snapshot;
  flipped[10] ^= 1;
  EXPECT_FALSE(second.Restore(flipped).has_value());
  EXPECT_FALSE(second.Restore("YCMP").has_value());
  EXPECT_FALSE(second.Restore(snapshot.substr(0, snapshot.size() - 1)).has_value());
  std::string before = second.Snapshot();
  EXPECT_FALSE(second.Restore("garbage garbage garbage").has_value());
  EXPECT_EQ(second.Snapshot(), before);
}

class KeyFieldsTest : public ::testing::Test {
 protected:
  KeyFieldsTest() {
    CampaignKeyFields::InternFields(catalog_);
    fields_.emplace(catalog_);
  }
  std::vector<std::pair<std::string, std::string>> Extract(
      const std::vector<std::pair<std::string, std::string>>& values) {
    event_.Reset(catalog_.size());
    for (const auto& [name, value] : values) {
      storage_.push_back(value);
      event_.Add(catalog_.Find(name), {storage_.back(), event::ValueType::kString});
    }
    std::vector<std::pair<std::string, std::string>> out;
    fields_->Extract(event_, out);
    return out;
  }
  event::FieldCatalog catalog_;
  std::optional<CampaignKeyFields> fields_;
  event::Event event_;
  std::deque<std::string> storage_;
};

using Pairs = std::vector<std::pair<std::string, std::string>>;

TEST_F(KeyFieldsTest, PublicAddressesOnly) {
  EXPECT_EQ(Extract({{"IpAddress", "203.0.113.7"}}), (Pairs{{"IpAddress", "203.0.113.7"}}));
  EXPECT_EQ(Extract({{"src_ip", "::ffff:198.51.100.3"}}), (Pairs{{"src_ip", "198.51.100.3"}}));
  EXPECT_EQ(Extract({{"c-ip", "2001:DB8::1"}}), (Pairs{{"c-ip", "2001:db8::1"}}));
  for (const char* inside :
       {"10.1.2.3", "192.168.0.1", "172.16.5.5", "172.31.255.255", "127.0.0.1", "169.254.1.1",
        "0.0.0.0", "::1", "::", "fe80::1", "fd00::5", "::ffff:10.0.0.1", "-", "", "localhost",
        "100.64.0.1", "224.0.0.251", "255.255.255.255"}) {
    EXPECT_TRUE(Extract({{"IpAddress", inside}}).empty()) << inside;
  }
  EXPECT_EQ(Extract({{"SourceIp", "172.32.0.1"}}), (Pairs{{"SourceIp", "172.32.0.1"}}));
}

TEST_F(KeyFieldsTest, AddressesAreWhatTheSystemsParserReads) {
  // Dotted quads in the form inet_ntop writes are taken as they are; anything else goes through
  // inet_pton. Both must agree on what is an address and on its normal form.
  for (const char* refused :
       {"01.2.3.4", "203.0.113.07", "203.0.113", "203.0.113.7.1", "256.0.0.1", "203.0.113.",
        ".203.0.113.7", "203..0.113", "1234.5.6.7", "203.0.113.7x", "203.0.113.-7"}) {
    EXPECT_TRUE(Extract({{"IpAddress", refused}}).empty()) << refused;
  }
  EXPECT_EQ(Extract({{"IpAddress", "203.0.113.7%eth0"}}), (Pairs{{"IpAddress", "203.0.113.7"}}));
  EXPECT_EQ(Extract({{"IpAddress", "[203.0.113.7]"}}), (Pairs{{"IpAddress", "203.0.113.7"}}));
  EXPECT_EQ(Extract({{"IpAddress", "  203.0.113.7 "}}), (Pairs{{"IpAddress", "203.0.113.7"}}));
  EXPECT_EQ(Extract({{"IpAddress", "255.1.0.9"}}), Pairs{});

  std::mt19937 random(7);
  const std::string alphabet = "0123456789.";
  for (int i = 0; i < 20000; ++i) {
    std::string text = "203.";  // a public first octet: an address must come out
    const int length = 1 + static_cast<int>(random() % 12);
    for (int k = 0; k < length; ++k) text += alphabet[random() % alphabet.size()];
    unsigned char bytes[4];
    const bool address = inet_pton(AF_INET, text.c_str(), bytes) == 1;
    auto out = Extract({{"IpAddress", text}});
    if (!address) {
      EXPECT_TRUE(out.empty()) << text;
      continue;
    }
    char written[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, bytes, written, sizeof written);
    EXPECT_EQ(out, (Pairs{{"IpAddress", written}})) << text;
  }
}

TEST_F(KeyFieldsTest, DomainsLowerCasedWithoutInternalNames) {
  EXPECT_EQ(Extract({{"QueryName", "Evil.Example.COM."}}),
            (Pairs{{"QueryName", "evil.example.com"}}));
  EXPECT_TRUE(Extract({{"QueryName", "wpad"}}).empty());
  EXPECT_TRUE(Extract({{"QueryName", "printer.corp"}}).empty());
  EXPECT_TRUE(Extract({{"QueryName", "dc01.ad.local"}}).empty());
  EXPECT_TRUE(Extract({{"QueryName", "1.0.0.127.in-addr.arpa"}}).empty());
  EXPECT_EQ(Extract({{"DestinationHostname", "c2.example.net"}, {"query", "C2.example.net"}}),
            (Pairs{{"DestinationHostname", "c2.example.net"}}))
      << "one value once";
}

TEST_F(KeyFieldsTest, HashListsAreSplit) {
  std::string sha256(64, 'A');
  std::string md5(32, 'b');
  std::string imphash(32, 'c');
  EXPECT_EQ(Extract({{"Hashes", "SHA256=" + sha256 + ",MD5=" + md5 + ",IMPHASH=" + imphash}}),
            (Pairs{{"Hashes", std::string(64, 'a')}, {"Hashes", md5}}));
  EXPECT_EQ(Extract({{"sha256", sha256}}), (Pairs{{"sha256", std::string(64, 'a')}}));
  EXPECT_TRUE(Extract({{"md5", "not a hash"}}).empty());
  EXPECT_TRUE(Extract({{"md5", std::string(32, '0')}}).empty());
}

}  // namespace
}  // namespace yagura::correlate

#include "pipeline/sender_map.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace yagura::pipeline {
namespace {

SyslogSender Sender(std::string name, std::string org, std::string match,
                    std::string logsource = {}) {
  return SyslogSender{std::move(name), std::move(org), std::move(logsource), std::move(match)};
}

SenderMap MustBuild(std::vector<SyslogSender> senders) {
  auto map = SenderMap::Build(std::move(senders));
  EXPECT_TRUE(map) << map.error().ToString();
  return map ? std::move(*map) : SenderMap();
}

std::string NameFor(const SyslogSender* sender) { return sender ? sender->name : "<none>"; }

TEST(SenderMap, LongestPrefixWins) {
  SenderMap map =
      MustBuild({Sender("site", "org-a", "10.1.0.0/16"), Sender("host", "org-b", "10.1.2.3"),
                 Sender("subnet", "org-c", "10.1.2.0/24"), Sender("all10", "org-d", "10.0.0.0/8")});
  EXPECT_EQ(NameFor(map.ForAddress("10.1.2.3")), "host");
  EXPECT_EQ(NameFor(map.ForAddress("10.1.2.4")), "subnet");
  EXPECT_EQ(NameFor(map.ForAddress("10.1.9.9")), "site");
  EXPECT_EQ(NameFor(map.ForAddress("10.200.0.1")), "all10");
  EXPECT_EQ(map.ForAddress("11.0.0.1"), nullptr);
  EXPECT_EQ(map.ForAddress("not an address"), nullptr);
  EXPECT_EQ(map.ForAddress("::1"), nullptr);
  const uint8_t bytes[4] = {10, 1, 2, 3};
  EXPECT_EQ(NameFor(map.ForAddressBytes(bytes)), "host");
  EXPECT_EQ(map.ForAddress("10.1.2.3")->org_id, "org-b");
}

TEST(SenderMap, PrefixBitsInsideAByte) {
  SenderMap map =
      MustBuild({Sender("a", "o", "192.168.0.128/25"), Sender("b", "o", "192.168.0.0/25")});
  EXPECT_EQ(NameFor(map.ForAddress("192.168.0.200")), "a");
  EXPECT_EQ(NameFor(map.ForAddress("192.168.0.127")), "b");
  EXPECT_EQ(map.ForAddress("192.168.1.1"), nullptr);
}

TEST(SenderMap, Ipv6AndMappedIpv4) {
  SenderMap map = MustBuild({Sender("loop6", "o6", "::1"), Sender("net6", "o6", "2001:db8::/32"),
                             Sender("loop4", "o4", "127.0.0.1/32"),
                             Sender("mapped", "o4", "::ffff:192.0.2.0/120")});
  EXPECT_EQ(NameFor(map.ForAddress("::1")), "loop6");
  EXPECT_EQ(NameFor(map.ForAddress("2001:db8:1::5")), "net6");
  EXPECT_EQ(map.ForAddress("2001:db9::5"), nullptr);
  // A dual-stack socket reports IPv4 peers as mapped addresses.
  EXPECT_EQ(NameFor(map.ForAddress("::ffff:127.0.0.1")), "loop4");
  EXPECT_EQ(NameFor(map.ForAddress("192.0.2.77")), "mapped");
  uint8_t mapped[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1};
  EXPECT_EQ(NameFor(map.ForAddressBytes(mapped)), "loop4");
}

TEST(SenderMap, CatchAllAndFamilyWidePrefixes) {
  SenderMap only_v4 = MustBuild({Sender("v4", "o", "0.0.0.0/0")});
  EXPECT_EQ(NameFor(only_v4.ForAddress("8.8.8.8")), "v4");
  EXPECT_EQ(only_v4.ForAddress("::2"), nullptr);
  SenderMap any = MustBuild({Sender("any", "o", "*"), Sender("one", "p", "10.0.0.1")});
  EXPECT_EQ(NameFor(any.ForAddress("10.0.0.1")), "one");
  EXPECT_EQ(NameFor(any.ForAddress("10.0.0.2")), "any");
  EXPECT_EQ(NameFor(any.ForAddress("fe80::1")), "any");
  SenderMap empty;
  EXPECT_EQ(empty.ForAddress("10.0.0.1"), nullptr);
}

TEST(SenderMap, Certificates) {
  std::string hex(64, 'a');
  hex[0] = 'b';
  std::string upper_with_colons;
  for (size_t i = 0; i < hex.size(); i += 2) {
    if (!upper_with_colons.empty()) upper_with_colons += ':';
    upper_with_colons += static_cast<char>(std::toupper(hex[i]));
    upper_with_colons += static_cast<char>(std::toupper(hex[i + 1]));
  }
  SenderMap map = MustBuild({Sender("pinned", "org-a", "cert-sha256:" + upper_with_colons),
                             Sender("named", "org-b", "cert-cn:fw1.example.org"),
                             Sender("addr", "org-c", "10.0.0.0/8")});
  EXPECT_TRUE(map.HasCertificateMatches());
  EXPECT_EQ(NameFor(map.ForCertificate(hex, "")), "pinned");
  EXPECT_EQ(NameFor(map.ForCertificate(upper_with_colons, "fw1.example.org")), "pinned");
  EXPECT_EQ(NameFor(map.ForCertificate(std::string(64, 'c'), "fw1.example.org")), "named");
  EXPECT_EQ(map.ForCertificate(std::string(64, 'c'), ""), nullptr);
  EXPECT_EQ(map.ForCertificate("", "other"), nullptr);
  EXPECT_FALSE(MustBuild({Sender("a", "o", "10.0.0.1")}).HasCertificateMatches());
}

TEST(SenderMap, NormalisesLogsourceAndDefaultsName) {
  SenderMap map = MustBuild({Sender("", "o", "10.0.0.1", "service=sshd,product=Linux")});
  const SyslogSender* sender = map.ForAddress("10.0.0.1");
  ASSERT_NE(sender, nullptr);
  EXPECT_EQ(sender->name, "10.0.0.1");
  EXPECT_EQ(sender->logsource, "product=linux,service=sshd");
}

TEST(SenderMap, BuildErrors) {
  auto error = [](std::vector<SyslogSender> senders) {
    auto map = SenderMap::Build(std::move(senders));
    return map ? std::string("<built>") : map.error().ToString();
  };
  EXPECT_NE(error({Sender("a", "o", "10.0.0.0/33")}).find("prefix length"), std::string::npos);
  EXPECT_NE(error({Sender("a", "o", "10.0.0.0/x")}).find("prefix length"), std::string::npos);
  EXPECT_NE(error({Sender("a", "o", "::/129")}).find("prefix length"), std::string::npos);
  EXPECT_NE(error({Sender("a", "o", "10.0.0.256")}).find("not an IPv4 or IPv6"), std::string::npos);
  EXPECT_NE(error({Sender("a", "o", "host.example")}).find("not an IPv4 or IPv6"),
            std::string::npos);
  EXPECT_NE(error({Sender("a", "", "10.0.0.1")}).find("organisation"), std::string::npos);
  EXPECT_NE(error({Sender("a", "o", "")}).find("no match"), std::string::npos);
  EXPECT_NE(error({Sender("a", "o", "cert-sha256:abc")}).find("64 hex"), std::string::npos);
  EXPECT_NE(error({Sender("a", "o", "cert-cn:")}).find("common name"), std::string::npos);
  EXPECT_NE(error({Sender("a", "o", "10.0.0.1", "vendor=x")}).find("logsource"), std::string::npos);
  // Duplicates are found after normalisation; the message names both entries.
  std::string duplicate = error({Sender("a", "o", "10.0.0.1"), Sender("b", "p", "10.0.0.1/32")});
  EXPECT_NE(duplicate.find("same match as sender 1"), std::string::npos) << duplicate;
  EXPECT_NE(duplicate.find("sender 2"), std::string::npos) << duplicate;
  EXPECT_NE(
      error({Sender("a", "o", "10.0.0.0/8"), Sender("b", "p", "10.9.9.9/8")}).find("same match"),
      std::string::npos);
  EXPECT_NE(error({Sender("a", "o", "cert-sha256:" + std::string(64, 'A')),
                   Sender("b", "o", "cert-sha256:" + std::string(64, 'a'))})
                .find("same match"),
            std::string::npos);
  EXPECT_EQ(error({Sender("a", "o", "10.0.0.0/8"), Sender("b", "p", "10.0.0.0/9")}), "<built>");
}

TEST(SenderSpec, CommaSpellingWithLogsourceKeys) {
  auto sender =
      ParseSenderSpec("match=10.0.0.0/8,org=ORG,logsource=product=linux,service=sshd,name=gateway");
  ASSERT_TRUE(sender) << sender.error().ToString();
  EXPECT_EQ(sender->match, "10.0.0.0/8");
  EXPECT_EQ(sender->org_id, "ORG");
  EXPECT_EQ(sender->name, "gateway");
  EXPECT_EQ(sender->logsource, "product=linux,service=sshd");

  auto bare = ParseSenderSpec("match=::1, org_id=o, service=sshd, product=linux");
  ASSERT_TRUE(bare) << bare.error().ToString();
  EXPECT_EQ(bare->logsource, "product=linux,service=sshd");
  EXPECT_EQ(bare->name, "::1");
}

TEST(SenderSpec, SemicolonSpellingKeepsCommasInValues) {
  auto sender = ParseSenderSpec(
      "match=cert-cn:Acme, Inc. syslog=1;org=o;logsource=category=firewall,product=fortigate");
  ASSERT_TRUE(sender) << sender.error().ToString();
  EXPECT_EQ(sender->match, "cert-cn:Acme, Inc. syslog=1");
  EXPECT_EQ(sender->logsource, "product=fortigate,category=firewall");
  EXPECT_TRUE(SenderMap::Build({*sender}));
}

TEST(SenderSpec, Errors) {
  EXPECT_FALSE(ParseSenderSpec("org=o"));                               // no match
  EXPECT_FALSE(ParseSenderSpec("match=10.0.0.1"));                      // no org
  EXPECT_FALSE(ParseSenderSpec("match=10.0.0.1,org=o,color=red"));      // unknown key
  EXPECT_FALSE(ParseSenderSpec("match=10.0.0.1,org=o,junk"));           // not key=value
  EXPECT_FALSE(ParseSenderSpec("match=10.0.0.1;org=o;product=linux"));  // ';' form: logsource=
  EXPECT_FALSE(ParseSenderSpec("match=10.0.0.1,org=o,logsource=vendor=x"));
  auto error = ParseSenderSpec("match=10.0.0.1,org=o,color=red");
  ASSERT_FALSE(error);
  EXPECT_NE(error.error().ToString().find("color"), std::string::npos);
}

}  // namespace
}  // namespace yagura::pipeline

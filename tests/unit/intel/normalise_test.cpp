#include "intel/normalise.hpp"

#include <gtest/gtest.h>

#include <string>

namespace yagura::intel {
namespace {

uint32_t V4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
  return uint32_t{a} << 24 | uint32_t{b} << 16 | uint32_t{c} << 8 | d;
}

std::string Ipv6Text(std::string_view text) {
  auto parsed = ParseIpv6(text);
  if (!parsed) return "<invalid>";
  std::string out;
  AppendIpv6(*parsed, out);
  return out;
}

std::string Url(std::string_view text, bool assume_http = false) {
  std::string out;
  return NormaliseUrl(text, out, assume_http) ? out : "<invalid>";
}

std::string Domain(std::string_view text) {
  std::string out;
  return NormaliseDomain(text, out) ? out : "<invalid>";
}

std::string Hash(std::string_view text, HashAlgorithm algorithm) {
  std::string out;
  return NormaliseHash(text, algorithm, out) ? out : "<invalid>";
}

std::string Email(std::string_view text) {
  std::string out;
  return NormaliseEmail(text, out) ? out : "<invalid>";
}

TEST(NormaliseIpv4, AcceptsDottedQuads) {
  EXPECT_EQ(ParseIpv4("192.0.2.1"), V4(192, 0, 2, 1));
  EXPECT_EQ(ParseIpv4("0.0.0.0"), 0u);
  EXPECT_EQ(ParseIpv4("255.255.255.255"), 0xffffffffu);
  EXPECT_EQ(ParseIpv4("10.0.0.10"), V4(10, 0, 0, 10));
}

TEST(NormaliseIpv4, RejectsOtherForms) {
  for (std::string_view bad :
       {"",         "1.2.3",    "1.2.3.4.5", "256.1.1.1",  "1.2.3.256", "1.2.3.999", "1.2.3.1000",
        "01.2.3.4",  // leading zero: octal to some resolvers, so ambiguous
        "1.2.3.04", "00.1.2.3", "0x1.2.3.4", "+1.2.3.4",   "1.2.3.-4",  "1..2.3",    ".1.2.3.4",
        "1.2.3.4.", " 1.2.3.4", "1.2.3.4 ",  "1.2.3.4/24", "16909060",  "a.b.c.d"}) {
    EXPECT_FALSE(ParseIpv4(bad).has_value()) << bad;
  }
}

TEST(NormaliseIpv6, ParsesEveryTextForm) {
  Ipv6Bytes loopback{};
  loopback[15] = 1;
  EXPECT_EQ(ParseIpv6("::1"), loopback);
  EXPECT_EQ(ParseIpv6("0:0:0:0:0:0:0:1"), loopback);
  EXPECT_EQ(ParseIpv6("0000:0000:0000:0000:0000:0000:0000:0001"), loopback);
  EXPECT_EQ(ParseIpv6("::"), Ipv6Bytes{});
  Ipv6Bytes one_colons{};
  one_colons[1] = 1;
  EXPECT_EQ(ParseIpv6("1::"), one_colons);
  EXPECT_EQ(Ipv6Text("2001:DB8:0:0:8:800:200C:417A"), "2001:db8::8:800:200c:417a");
  EXPECT_EQ(Ipv6Text("2001:db8::"), "2001:db8::");
  EXPECT_EQ(Ipv6Text("1:2:3:4:5:6:7::"), "1:2:3:4:5:6:7:0");
  EXPECT_EQ(Ipv6Text("::2:3:4:5:6:7:8"), "0:2:3:4:5:6:7:8");
  EXPECT_EQ(Ipv6Text("1:2:3:4:5:6:7:8"), "1:2:3:4:5:6:7:8");
}

TEST(NormaliseIpv6, EmbeddedIpv4BracketsAndZones) {
  auto mapped = ParseIpv6("::ffff:1.2.3.4");
  ASSERT_TRUE(mapped);
  EXPECT_EQ((*mapped)[10], 0xff);
  EXPECT_EQ((*mapped)[11], 0xff);
  EXPECT_EQ((*mapped)[12], 1);
  EXPECT_EQ((*mapped)[15], 4);
  EXPECT_EQ(Ipv6Text("::FFFF:1.2.3.4"), "::ffff:1.2.3.4");
  EXPECT_EQ(Ipv6Text("0:0:0:0:0:ffff:102:304"), "::ffff:1.2.3.4");
  EXPECT_EQ(Ipv6Text("1:2:3:4:5:6:1.2.3.4"), "1:2:3:4:5:6:102:304");
  EXPECT_EQ(Ipv6Text("64:ff9b::192.0.2.33"), "64:ff9b::c000:221");
  EXPECT_EQ(Ipv6Text("[2001:db8::1]"), "2001:db8::1");
  EXPECT_EQ(Ipv6Text("fe80::1%eth0"), "fe80::1");
  EXPECT_EQ(Ipv6Text("[fe80::1%25eth0]"), "fe80::1");
}

TEST(NormaliseIpv6, RejectsInvalidForms) {
  for (std::string_view bad : {"",
                               ":",
                               ":::",
                               "1:::2",
                               "1::2::3",
                               ":1::",
                               "1::2:",
                               ":1:2:3:4:5:6:7",
                               "1:2:3:4:5:6:7",
                               "1:2:3:4:5:6:7:8:9",
                               "1:2:3:4:5:6:7:8::",
                               "::1:2:3:4:5:6:7:8",
                               "12345::",
                               "g::1",
                               "1.2.3.4",
                               "::1.2.3",
                               "::256.1.1.1",
                               "::01.2.3.4",
                               "1.2.3.4::",
                               "::1.2.3.4:5",
                               "1:2:3:4:5:6:7:1.2.3.4",
                               "[::1",
                               "::1]",
                               "fe80::1%",
                               "1 ::2"}) {
    EXPECT_FALSE(ParseIpv6(bad).has_value()) << bad;
  }
}

TEST(NormaliseIpv6, WritesRfc5952Form) {
  EXPECT_EQ(Ipv6Text("2001:db8:0:0:1:0:0:1"), "2001:db8::1:0:0:1");     // first of equal runs
  EXPECT_EQ(Ipv6Text("2001:0:0:1:0:0:0:1"), "2001:0:0:1::1");           // the longest run
  EXPECT_EQ(Ipv6Text("2001:db8:0:1:1:1:1:1"), "2001:db8:0:1:1:1:1:1");  // no "::" for one 0
  EXPECT_EQ(Ipv6Text("::ffff:0.0.0.0"), "::ffff:0.0.0.0");
}

TEST(NormaliseNetwork, Ipv4PrefixesAndHostBits) {
  auto network = ParseIpv4Network("192.0.2.77/24");
  ASSERT_TRUE(network);
  EXPECT_EQ(network->address, V4(192, 0, 2, 0));
  EXPECT_EQ(network->prefix, 24);
  network = ParseIpv4Network("10.1.2.3");
  ASSERT_TRUE(network);
  EXPECT_EQ(network->prefix, 32);
  EXPECT_EQ(network->address, V4(10, 1, 2, 3));
  network = ParseIpv4Network("10.255.2.3/0");
  ASSERT_TRUE(network);
  EXPECT_EQ(network->address, 0u);
  network = ParseIpv4Network("10.255.2.3/9");
  ASSERT_TRUE(network);
  EXPECT_EQ(network->address, V4(10, 128, 0, 0));
  for (std::string_view bad : {"1.2.3.4/33", "1.2.3.4/", "1.2.3.4/-1", "1.2.3.4/a", "/24",
                               "1.2.3.4/24/1", "1.2.3.4/1000", "256.0.0.0/8"}) {
    EXPECT_FALSE(ParseIpv4Network(bad).has_value()) << bad;
  }
}

TEST(NormaliseNetwork, Ipv6PrefixesAndHostBits) {
  auto network = ParseIpv6Network("2001:db8:abcd:ef01::1/36");
  ASSERT_TRUE(network);
  EXPECT_EQ(network->prefix, 36);
  std::string text;
  AppendIpv6(network->address, text);
  EXPECT_EQ(text, "2001:db8:a000::");
  network = ParseIpv6Network("::1");
  ASSERT_TRUE(network);
  EXPECT_EQ(network->prefix, 128);
  network = ParseIpv6Network("ffff::ffff/0");
  ASSERT_TRUE(network);
  EXPECT_EQ(network->address, Ipv6Bytes{});
  network = ParseIpv6Network("[2001:db8::ff]/121");
  ASSERT_TRUE(network);
  EXPECT_EQ(network->address[15], 0x80);
  for (std::string_view bad : {"::1/129", "::1/", "2001:db8::/1x", "1.2.3.4/24", "/64"}) {
    EXPECT_FALSE(ParseIpv6Network(bad).has_value()) << bad;
  }
}

TEST(NormaliseDomain, LowerCasesAndDropsTrailingDot) {
  EXPECT_EQ(Domain("WWW.Example.COM."), "www.example.com");
  EXPECT_EQ(Domain("  evil-site.example  "), "evil-site.example");
  EXPECT_EQ(Domain("_dmarc.example.org"), "_dmarc.example.org");
  EXPECT_EQ(Domain("xn--bcher-kva.example"), "xn--bcher-kva.example");
  EXPECT_EQ(Domain("bücher.example"), "bücher.example");  // non-ASCII compared as written
  EXPECT_EQ(Domain("3com.com"), "3com.com");
}

TEST(NormaliseDomain, RejectsWhatIsNoHostName) {
  for (std::string_view bad :
       {"", ".", "localhost", "example..com", ".example.com", "example.com..", "exa mple.com",
        "ex@mple.com", "1.2.3.4", "http://example.com", "example.com/path", "example.com:80"}) {
    EXPECT_EQ(Domain(bad), "<invalid>") << bad;
  }
  std::string long_label(64, 'a');
  EXPECT_EQ(Domain(long_label + ".com"), "<invalid>");
  EXPECT_EQ(Domain(std::string(63, 'a') + ".com"), std::string(63, 'a') + ".com");
  std::string long_name;
  while (long_name.size() < 250) long_name += "abcdefghi.";
  EXPECT_EQ(Domain(long_name + "com"), long_name + "com");  // 253 characters: the maximum
  EXPECT_EQ(Domain(long_name + "com."), long_name + "com");
  EXPECT_EQ(Domain(long_name + "coms"), "<invalid>");
}

TEST(NormaliseDomain, ReusesTheBufferWithoutGrowing) {
  std::string out;
  out.reserve(128);
  const char* data = out.data();
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(NormaliseDomain("Sub.Example.COM", out));
    ASSERT_TRUE(NormaliseUrl("HTTP://Example.COM:80/a%7e?q=%2f", out));
    ASSERT_TRUE(NormaliseHash("D41D8CD98F00B204E9800998ECF8427E", HashAlgorithm::kMd5, out));
  }
  EXPECT_EQ(out.data(), data);
}

TEST(NormaliseUrl, SchemeHostCaseDefaultPortsAndEmptyPath) {
  EXPECT_EQ(Url("HTTP://WWW.Example.COM"), "http://www.example.com/");
  EXPECT_EQ(Url("http://example.com:80/a"), "http://example.com/a");
  EXPECT_EQ(Url("https://example.com:443/a"), "https://example.com/a");
  EXPECT_EQ(Url("https://example.com:80/a"), "https://example.com:80/a");
  EXPECT_EQ(Url("ftp://example.com:21/"), "ftp://example.com/");
  EXPECT_EQ(Url("ws://example.com:80/"), "ws://example.com/");
  EXPECT_EQ(Url("wss://example.com:443/"), "wss://example.com/");
  EXPECT_EQ(Url("http://example.com:08080/"), "http://example.com:8080/");
  EXPECT_EQ(Url("http://example.com:/x"), "http://example.com/x");
  EXPECT_EQ(Url("http://example.com./x"), "http://example.com/x");
  EXPECT_EQ(Url("http://example.com.:8080/x"), "http://example.com:8080/x");
  EXPECT_EQ(Url("http://example.com?q=1"), "http://example.com/?q=1");
  EXPECT_EQ(Url("http://Example.com/Path/Case"), "http://example.com/Path/Case");
}

TEST(NormaliseUrl, PercentEncodingFragmentsAndUserInfo) {
  EXPECT_EQ(Url("http://example.com/%7euser/%41%2d%5F%2E"), "http://example.com/~user/A-_.");
  EXPECT_EQ(Url("http://example.com/a%2fb%3Fc?x=%2f%3d"), "http://example.com/a%2Fb%3Fc?x=%2F%3D");
  // A '%' that starts no escape is written as the percent sign it is.
  EXPECT_EQ(Url("http://example.com/a%zz%4"), "http://example.com/a%25zz%254");
  EXPECT_EQ(Url("http://example.com/a b\"<>"), "http://example.com/a%20b%22%3C%3E");
  EXPECT_EQ(Url("http://example.com/\xC3\xBC"), "http://example.com/%C3%BC");
  EXPECT_EQ(Url("http://example.com/page#section"), "http://example.com/page");
  EXPECT_EQ(Url("http://example.com/page?q=1#frag?x"), "http://example.com/page?q=1");
  EXPECT_EQ(Url("http://example.com#frag"), "http://example.com/");
  EXPECT_EQ(Url("http://User:Pass@Example.com/"), "http://User:Pass@example.com/");
  EXPECT_EQ(Url("http://a@b@example.com/"), "http://a@b@example.com/");
}

TEST(NormaliseUrl, Ipv6AndIpv4Hosts) {
  EXPECT_EQ(Url("http://[2001:DB8:0:0::1]:8080/x"), "http://[2001:db8::1]:8080/x");
  EXPECT_EQ(Url("http://[::1]/"), "http://[::1]/");
  EXPECT_EQ(Url("https://[::ffff:192.0.2.1]:443"), "https://[::ffff:192.0.2.1]/");
  EXPECT_EQ(Url("http://192.0.2.1:80/a"), "http://192.0.2.1/a");
  EXPECT_EQ(Url("http://[1:::2]/"), "<invalid>");
  EXPECT_EQ(Url("http://[::1/"), "<invalid>");
  EXPECT_EQ(Url("http://[::1]x/"), "<invalid>");
}

TEST(NormaliseUrl, SchemeAssumptionAndInvalidUrls) {
  EXPECT_EQ(Url("example.com/path"), "<invalid>");
  EXPECT_EQ(Url("Example.com/path", true), "http://example.com/path");
  EXPECT_EQ(Url("example.com", true), "http://example.com/");
  EXPECT_EQ(Url("https://example.com/x", true), "https://example.com/x");
  EXPECT_EQ(Url("1http://example.com/", true), "<invalid>");
  for (std::string_view bad :
       {"", "http://", "http:///path", "http://:80/", "http://exa mple.com/",
        "http://example.com:99999/", "http://example.com:8o/", "mailto:someone@example.com",
        "javascript:alert(1)", "http://<x>/", "://example.com/", "http://a..b/",
        "http://example.com../", "http://.example.com/", "http://./"}) {
    EXPECT_EQ(Url(bad), "<invalid>") << bad;
  }
  // A '%' that starts no escape is a percent sign, and cannot start one with what follows.
  EXPECT_EQ(Url("http://example.com/a%zz?q=50%"), "http://example.com/a%25zz?q=50%25");
  EXPECT_EQ(Url("http://example.com/a%25zz"), "http://example.com/a%25zz");
  EXPECT_EQ(Url("http://example.com/?a%f%41=1"), "http://example.com/?a%25fA=1");
  // One trailing dot is dropped; what comes out normalises to itself.
  EXPECT_EQ(Url("http://Example.com./x"), "http://example.com/x");
  EXPECT_EQ(Url("http://example.com/x"), "http://example.com/x");
}

TEST(NormaliseHash, LengthsAndCase) {
  EXPECT_EQ(Hash("D41D8CD98F00B204E9800998ECF8427E", HashAlgorithm::kMd5),
            "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(Hash(" d41d8cd98f00b204e9800998ecf8427e\n", HashAlgorithm::kImphash),
            "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(Hash("da39a3ee5e6b4b0d3255bfef95601890afd80709", HashAlgorithm::kSha1),
            "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  std::string sha256(64, 'A');
  EXPECT_EQ(Hash(sha256, HashAlgorithm::kSha256), std::string(64, 'a'));
  EXPECT_EQ(Hash(sha256, HashAlgorithm::kSha3_256), std::string(64, 'a'));
  EXPECT_EQ(Hash(std::string(128, 'f'), HashAlgorithm::kSha512), std::string(128, 'f'));
  EXPECT_EQ(Hash(std::string(128, 'f'), HashAlgorithm::kSha3_512), std::string(128, 'f'));
  EXPECT_EQ(Hash(sha256, HashAlgorithm::kNone), std::string(64, 'a'));
  EXPECT_EQ(Hash(sha256, HashAlgorithm::kMd5), "<invalid>");
  EXPECT_EQ(Hash(std::string(31, 'a'), HashAlgorithm::kMd5), "<invalid>");
  EXPECT_EQ(Hash(std::string(31, 'a') + "g", HashAlgorithm::kMd5), "<invalid>");
  EXPECT_EQ(Hash(std::string(50, 'a'), HashAlgorithm::kNone), "<invalid>");
}

TEST(NormaliseHash, SsdeepAndTlsh) {
  EXPECT_EQ(Hash(" 96:s4Ud1Lj96tHHlZDrwciQmA+4uy1I0G4HYuL8N3TzS8QsO/"
                 "wqWXLcMSx:sF1LjEtHHlZDrwciQmA+4uy1I0G4HYuL8N3TzS8QsO/wqWXLcMSx ",
                 HashAlgorithm::kSsdeep),
            "96:s4Ud1Lj96tHHlZDrwciQmA+4uy1I0G4HYuL8N3TzS8QsO/"
            "wqWXLcMSx:sF1LjEtHHlZDrwciQmA+4uy1I0G4HYuL8N3TzS8QsO/wqWXLcMSx");
  EXPECT_EQ(Hash("96:abc", HashAlgorithm::kSsdeep), "<invalid>");
  EXPECT_EQ(Hash("x:abc:def", HashAlgorithm::kSsdeep), "<invalid>");
  std::string tlsh_body = "AB12" + std::string(66, 'C');
  EXPECT_EQ(Hash("T1" + tlsh_body, HashAlgorithm::kTlsh), "T1ab12" + std::string(66, 'c'));
  EXPECT_EQ(Hash("t1" + tlsh_body, HashAlgorithm::kTlsh), "T1ab12" + std::string(66, 'c'));
  EXPECT_EQ(Hash(tlsh_body, HashAlgorithm::kTlsh), "ab12" + std::string(66, 'c'));
  EXPECT_EQ(Hash("T1" + std::string(69, 'a'), HashAlgorithm::kTlsh), "<invalid>");
}

TEST(NormaliseEmail, LowerCasesWholeAddress) {
  EXPECT_EQ(Email("John.Doe+tag@Example.COM."), "john.doe+tag@example.com");
  EXPECT_EQ(Email("  a@b.example "), "a@b.example");
  for (std::string_view bad :
       {"", "@example.com", "a@", "a@localhost", "a b@example.com", "\"a\"@example.com",
        "a@exa mple.com", "a@@example.com", "a(b)@example.com"}) {
    EXPECT_EQ(Email(bad), "<invalid>") << bad;
  }
  EXPECT_EQ(Email(std::string(65, 'a') + "@example.com"), "<invalid>");
}

TEST(NormaliseDetectType, RecognisesEachKind) {
  auto type = [](std::string_view text) -> std::string {
    auto detected = DetectType(text);
    if (!detected) return "none";
    std::string out(ToString(detected->type));
    if (detected->algorithm != HashAlgorithm::kNone) {
      out += "/";
      out += ToString(detected->algorithm);
    }
    return out;
  };
  EXPECT_EQ(type("192.0.2.1"), "ipv4");
  EXPECT_EQ(type("192.0.2.0/24"), "ipv4");
  EXPECT_EQ(type("2001:db8::1"), "ipv6");
  EXPECT_EQ(type("2001:db8::/32"), "ipv6");
  EXPECT_EQ(type("http://evil.example/gate.php"), "url");
  EXPECT_EQ(type("hxxp://evil.example/"), "url");  // the scheme is syntactically fine
  EXPECT_EQ(type("phish@evil.example"), "email");
  EXPECT_EQ(type("d41d8cd98f00b204e9800998ecf8427e"), "hash/MD5");
  EXPECT_EQ(type("da39a3ee5e6b4b0d3255bfef95601890afd80709"), "hash/SHA-1");
  EXPECT_EQ(type(std::string(64, 'e')), "hash/SHA-256");
  EXPECT_EQ(type(std::string(128, 'e')), "hash/SHA-512");
  EXPECT_EQ(type("T1" + std::string(70, 'e')), "hash/TLSH");
  EXPECT_EQ(type("3:abc:def"), "hash/SSDEEP");
  EXPECT_EQ(type("evil.example"), "domain");
  EXPECT_EQ(type("Evil.Example."), "domain");
  EXPECT_EQ(type(" evil.example "), "domain");
  for (const char* none :
       {"", "hello", "hello world", "256.1.1.1", "1.2.3", "01.2.3.4", "1.2.3.4:80", "abcdef0123",
        "evil.example/path", "a@b", "@evil.example", "1:::2"}) {
    EXPECT_EQ(type(none), "none") << none;
  }
}

TEST(NormaliseRefang, UndoesCommonDefanging) {
  EXPECT_EQ(Refang("hxxp://evil[.]example/a"), "http://evil.example/a");
  EXPECT_EQ(Refang("hXXps://evil(.)example[:]8080/"), "https://evil.example:8080/");
  EXPECT_EQ(Refang("user[@]evil[.]example"), "user@evil.example");
  EXPECT_EQ(Refang("192[.]0[.]2[.]1"), "192.0.2.1");
  EXPECT_EQ(Refang("evil{.}example"), "evil.example");
  EXPECT_EQ(Refang("evil[dot]example"), "evil.example");
  EXPECT_EQ(Refang("hxxp[://]evil.example"), "http://evil.example");
  EXPECT_EQ(Refang("plain.example"), "plain.example");
  EXPECT_EQ(Refang("washxxp.example"), "washxxp.example");  // not at a word start
  EXPECT_EQ(Refang("[x]"), "[x]");
}

TEST(NormaliseDateTime, IsoFormsToMilliseconds) {
  EXPECT_EQ(ParseIsoDateTimeMs("1970-01-01"), 0);
  EXPECT_EQ(ParseIsoDateTimeMs("2024-05-01"), 1714521600000);
  EXPECT_EQ(ParseIsoDateTimeMs("2024-05-01T12:00:00Z"), 1714564800000);
  EXPECT_EQ(ParseIsoDateTimeMs("2024-05-01 12:00:00"), 1714564800000);
  EXPECT_EQ(ParseIsoDateTimeMs("2024-05-01T14:00:00+02:00"), 1714564800000);
  EXPECT_EQ(ParseIsoDateTimeMs("2024-05-01T10:30:00-0130"), 1714564800000);
  EXPECT_EQ(ParseIsoDateTimeMs("2019-06-02T22:14:28.711954+00:00"), 1559513668711);
  EXPECT_EQ(ParseIsoDateTimeMs("2024-02-29T00:00:00.5Z"), 1709164800500);
  EXPECT_EQ(ParseIsoDateTimeMs("1969-12-31T23:59:59Z"), -1000);
  for (std::string_view bad :
       {"", "2024", "2024-13-01", "2023-02-29", "2024-05-01T25:00:00Z", "2024-05-01T12:00:00X",
        "2024-05-01T12", "yesterday", "2024-05-01T12:00:00.Z"}) {
    EXPECT_FALSE(ParseIsoDateTimeMs(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace yagura::intel

#include "intel/list_feed.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

namespace yagura::intel {
namespace {

struct Loaded {
  FeedStats stats;
  std::vector<Indicator> indicators;
  std::vector<Diagnostic> diagnostics;

  const Indicator* Find(std::string_view id) const {
    for (const Indicator& indicator : indicators) {
      if (indicator.id == id) return &indicator;
    }
    return nullptr;
  }
  // "type[/algorithm][:direction]=value" of a one-atom indicator.
  std::string Atom(std::string_view id) const {
    const Indicator* indicator = Find(id);
    if (indicator == nullptr) return "<none>";
    if (indicator->any_of.size() != 1 || indicator->any_of[0].size() != 1) return "<composite>";
    const auto& atom = indicator->any_of[0][0];
    std::string out(ToString(atom.type));
    if (atom.algorithm != HashAlgorithm::kNone) out += "/" + std::string(ToString(atom.algorithm));
    if (atom.direction == Direction::kSource) out += ":src";
    if (atom.direction == Direction::kDestination) out += ":dst";
    return out + "=" + atom.value;
  }
};

Loaded Load(std::string_view text, std::string_view where = "list.txt") {
  Loaded loaded;
  Diagnostics diagnostics;
  auto stats = LoadList(
      text, "my-feed", where,
      [&](Indicator&& indicator) { loaded.indicators.push_back(std::move(indicator)); },
      diagnostics);
  EXPECT_TRUE(stats.has_value());
  if (stats) loaded.stats = *stats;
  loaded.diagnostics = diagnostics.Kept();
  return loaded;
}

TEST(ListPlain, CommentsBlankLinesDefangedValuesAndBadLines) {
  const Loaded l = Load(
      "\xEF\xBB\xBF# Example block list\n"  // 1
      "\n"                                  // 2
      "192.0.2.1\n"                         // 3
      "198.51.100.0/24 ; SBL123\n"          // 4
      "hxxp://evil[.]example/gate.php\r\n"  // 5
      "   # indented comment\n"             // 6
      "Evil(.)Example  # phishing kit\n"    // 7
      "phish[@]evil[.]example\n"            // 8
      "2001:db8::/32\n"                     // 9
      "d41d8cd98f00b204e9800998ecf8427e\n"  // 10
      "this is not an indicator\n"          // 11
      "0.0.0.0 ads.example\n"               // 12
      "evil.example/path/x.php\n"           // 13
      "256.1.1.1\n"                         // 14
      "   \t\n"                             // 15
      "sub.evil.example\n"                  // 16
      "a/b\n"                               // 17: no host name before the path
      "192.0.2.9:8080/x.sh");               // 18, no final newline
  EXPECT_TRUE(l.stats.complete);
  EXPECT_EQ(l.stats.objects, 14u);
  EXPECT_EQ(l.stats.indicators, 11u);
  EXPECT_EQ(l.stats.skipped, 3u);
  EXPECT_EQ(l.Atom("list.txt:3"), "ipv4=192.0.2.1");
  EXPECT_EQ(l.Atom("list.txt:4"), "ipv4=198.51.100.0/24");
  EXPECT_EQ(l.Find("list.txt:4")->name, "SBL123");
  EXPECT_EQ(l.Atom("list.txt:5"), "url=http://evil.example/gate.php");
  EXPECT_EQ(l.Atom("list.txt:7"), "domain=Evil.Example");
  EXPECT_EQ(l.Find("list.txt:7")->name, "phishing kit");
  EXPECT_EQ(l.Atom("list.txt:8"), "email=phish@evil.example");
  EXPECT_EQ(l.Atom("list.txt:9"), "ipv6=2001:db8::/32");
  EXPECT_EQ(l.Atom("list.txt:10"), "hash/MD5=d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(l.Atom("list.txt:12"), "domain=ads.example");
  EXPECT_EQ(l.Atom("list.txt:13"), "url=http://evil.example/path/x.php");
  EXPECT_EQ(l.Atom("list.txt:16"), "domain=sub.evil.example");
  EXPECT_EQ(l.Atom("list.txt:18"), "url=http://192.0.2.9:8080/x.sh");

  const Indicator* first = l.Find("list.txt:3");
  EXPECT_EQ(first->feed, "my-feed");
  EXPECT_EQ(first->pattern, "ipv4:192.0.2.1");
  EXPECT_EQ(l.Find("list.txt:10")->pattern, "md5:d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(first->tlp, Tlp::kUnset);
  EXPECT_EQ(first->confidence, -1);

  ASSERT_EQ(l.diagnostics.size(), 3u);
  EXPECT_EQ(l.diagnostics[2].where, "list.txt:17");
  EXPECT_EQ(l.diagnostics[0].kind, DiagnosticKind::kWarning);
  EXPECT_EQ(l.diagnostics[0].where, "list.txt:11");
  EXPECT_NE(l.diagnostics[0].message.find("this is not an indicator"), std::string::npos);
  EXPECT_EQ(l.diagnostics[1].where, "list.txt:14");
}

TEST(ListPlain, WarningsAreCappedThenCounted) {
  std::string text;
  for (int i = 0; i < 30; ++i) text += "bad line " + std::to_string(i) + "\n";
  text += "good.example\n";
  const Loaded l = Load(text);
  EXPECT_EQ(l.stats.skipped, 30u);
  EXPECT_EQ(l.stats.indicators, 1u);
  ASSERT_EQ(l.diagnostics.size(), 21u);
  EXPECT_EQ(l.diagnostics[19].where, "list.txt:20");
  EXPECT_EQ(l.diagnostics[20].where, "list.txt");
  EXPECT_NE(l.diagnostics[20].message.find("10 more"), std::string::npos);
}

TEST(ListCsv, ColumnsQuotingAndTypes) {
  const Loaded l = Load(
      "indicator,type,tlp,source,expiry,confidence,comment,tags\n"                          // 1
      "192.0.2.1,ip-dst,TLP:AMBER,partner-a,2030-01-01,80,\"C2, seen twice\",\"c2;apt\"\n"  // 2
      "evil[.]example,domain-name,green,,2030-01-01T12:00:00Z,high,,\n"                     // 3
      "\"say \"\"hi\"\"\",user-agent,,,1893456000,,\"multi\n"                               // 4
      "line comment\",\n"                                                                   // 5
      "D41D8CD98F00B204E9800998ECF8427E,file:hashes.MD5,,,,,,\n"                            // 6
      "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08,"
      "file:hashes.'SHA-256',,,,,,\n"          // 7
      "198.51.100.9|8080,ip-dst|port,,,,,,\n"  // 8
      "CVE-2017-0199,vulnerability,,,,,,\n"    // 9
      "not-an-ip,ipv4-addr,,,,,,\n"            // 10
      "2001:db8::5,,purple,,soon,250,,\n"      // 11
      "# a comment line inside the data\n"     // 12
      "\n"                                     // 13
      "http://evil.example/a,url,,,,,,\n",     // 14
      "iocs.csv");
  EXPECT_TRUE(l.stats.complete);
  EXPECT_EQ(l.stats.objects, 10u);
  EXPECT_EQ(l.stats.indicators, 8u);
  EXPECT_EQ(l.stats.skipped, 2u);

  const Indicator* ip = l.Find("iocs.csv:2");
  ASSERT_NE(ip, nullptr);
  EXPECT_EQ(l.Atom("iocs.csv:2"), "ipv4:dst=192.0.2.1");
  EXPECT_EQ(ip->tlp, Tlp::kAmber);
  EXPECT_EQ(ip->markings, std::vector<std::string>{"TLP:AMBER"});
  EXPECT_EQ(ip->feed, "partner-a");
  EXPECT_EQ(ip->valid_until, 1893456000000);
  EXPECT_EQ(ip->confidence, 80);
  EXPECT_EQ(ip->name, "C2, seen twice");
  EXPECT_EQ(ip->labels, (std::vector<std::string>{"c2", "apt"}));
  EXPECT_EQ(ip->pattern, "ipv4:192.0.2.1");

  const Indicator* domain = l.Find("iocs.csv:3");
  ASSERT_NE(domain, nullptr);
  EXPECT_EQ(l.Atom("iocs.csv:3"), "domain=evil.example");
  EXPECT_EQ(domain->feed, "my-feed");
  EXPECT_EQ(domain->tlp, Tlp::kGreen);
  EXPECT_EQ(domain->valid_until, 1893499200000);
  EXPECT_EQ(domain->confidence, 85);

  const Indicator* agent = l.Find("iocs.csv:4");
  ASSERT_NE(agent, nullptr);
  EXPECT_EQ(l.Atom("iocs.csv:4"), "user-agent=say \"hi\"");
  EXPECT_EQ(agent->name, "multi\nline comment");
  EXPECT_EQ(agent->valid_until, 1893456000000);

  EXPECT_EQ(l.Atom("iocs.csv:6"), "hash/MD5=D41D8CD98F00B204E9800998ECF8427E");
  EXPECT_EQ(l.Atom("iocs.csv:7"),
            "hash/SHA-256=9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08");
  const Indicator* port = l.Find("iocs.csv:8");
  ASSERT_NE(port, nullptr);
  ASSERT_EQ(port->any_of.size(), 1u);
  ASSERT_EQ(port->any_of[0].size(), 2u);
  EXPECT_EQ(port->any_of[0][1].type, ObservableType::kPort);
  EXPECT_EQ(port->any_of[0][1].value, "8080");
  EXPECT_EQ(port->pattern, "ip-dst|port:198.51.100.9|8080");

  // Bad TLP, expiry and confidence are reported but the indicator is kept without them.
  const Indicator* v6 = l.Find("iocs.csv:11");
  ASSERT_NE(v6, nullptr);
  EXPECT_EQ(l.Atom("iocs.csv:11"), "ipv6=2001:db8::5");
  EXPECT_EQ(v6->tlp, Tlp::kUnset);
  EXPECT_FALSE(v6->valid_until.has_value());
  EXPECT_EQ(v6->confidence, -1);
  EXPECT_EQ(l.Atom("iocs.csv:14"), "url=http://evil.example/a");

  std::vector<std::string> wheres;
  for (const Diagnostic& d : l.diagnostics) wheres.push_back(d.where);
  EXPECT_EQ(wheres, (std::vector<std::string>{"iocs.csv:9", "iocs.csv:10", "iocs.csv:11",
                                              "iocs.csv:11", "iocs.csv:11"}));
  EXPECT_NE(l.diagnostics[0].message.find("vulnerability"), std::string::npos);
  EXPECT_NE(l.diagnostics[1].message.find("not-an-ip"), std::string::npos);
}

TEST(ListCsv, CommentHeaderAsAbuseChWritesIt) {
  const Loaded l = Load(
      "################################################################\n"
      "# abuse.ch URLhaus Database Dump (CSV)                         #\n"
      "# Terms Of Use: https://urlhaus.abuse.ch/api/                  #\n"
      "################################################################\n"
      "#\n"
      "# id,dateadded,url,url_status,last_online,threat,tags,urlhaus_link,reporter\n"
      "\"3\",\"2024-05-01 10:00:00\",\"http://198.51.100.4:8080/bins/x86\",\"online\","
      "\"2024-05-01 10:00:00\",\"malware_download\",\"elf,mirai\",\"https://urlhaus/3\",\"r\"\n"
      "\"4\",\"2024-05-01 11:00:00\",\"https://evil.example/a.exe\",\"offline\",\"\","
      "\"malware_download\",\"exe\",\"https://urlhaus/4\",\"r\"\n",
      "urlhaus.csv");
  EXPECT_EQ(l.stats.indicators, 2u);
  EXPECT_EQ(l.stats.skipped, 0u);
  EXPECT_EQ(l.Atom("urlhaus.csv:7"), "url=http://198.51.100.4:8080/bins/x86");
  const Indicator* first = l.Find("urlhaus.csv:7");
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(first->valid_from, 1714557600000);
  EXPECT_EQ(first->labels, (std::vector<std::string>{"malware_download", "elf", "mirai"}));
  EXPECT_EQ(l.Atom("urlhaus.csv:8"), "url=https://evil.example/a.exe");
}

TEST(ListCsv, SemicolonAndTabSeparatorsAndTypedValueColumns) {
  const Loaded semicolon = Load("value;type;comment\nevil.example;domain;a;b\n1.2.3.4;ip;x\n");
  EXPECT_EQ(semicolon.stats.indicators, 2u);
  EXPECT_EQ(semicolon.Atom("list.txt:2"), "domain=evil.example");
  EXPECT_EQ(semicolon.Find("list.txt:2")->name, "a");
  EXPECT_EQ(semicolon.Atom("list.txt:3"), "ipv4=1.2.3.4");

  const Loaded tab = Load(
      "first_seen_utc\tsha256_hash\tmd5_hash\n"
      "2024-01-01\t" +
      std::string(64, 'a') + "\t" + std::string(32, 'b') + "\n2024-01-01\tnot-a-hash\tx\n");
  EXPECT_EQ(tab.stats.indicators, 1u);
  EXPECT_EQ(tab.stats.skipped, 1u);
  EXPECT_EQ(tab.Atom("list.txt:2"), "hash/SHA-256=" + std::string(64, 'a'));
  EXPECT_EQ(tab.Find("list.txt:2")->pattern, "sha256:" + std::string(64, 'a'));
}

TEST(ListCsv, UnclosedQuoteAtTheEndIsIncomplete) {
  const Loaded l = Load("value,comment\nevil.example,\"fine\"\nother.example,\"cut off here");
  EXPECT_FALSE(l.stats.complete);
  EXPECT_EQ(l.stats.indicators, 1u);
  EXPECT_EQ(l.stats.skipped, 1u);
  ASSERT_EQ(l.diagnostics.size(), 1u);
  EXPECT_EQ(l.diagnostics[0].where, "list.txt:3");
}

TEST(ListCsv, ExpiryFormats) {
  const Loaded l = Load(
      "value,valid_until\n"
      "a.example,2030-01-01\n"
      "b.example,2030-01-01 00:00:01\n"
      "c.example,1893456000\n"
      "d.example,1893456000123\n"
      "e.example,2030-01-01T09:00:00+09:00\n");
  EXPECT_EQ(l.Find("list.txt:2")->valid_until, 1893456000000);
  EXPECT_EQ(l.Find("list.txt:3")->valid_until, 1893456001000);
  EXPECT_EQ(l.Find("list.txt:4")->valid_until, 1893456000000);
  EXPECT_EQ(l.Find("list.txt:5")->valid_until, 1893456000123);
  EXPECT_EQ(l.Find("list.txt:6")->valid_until, 1893456000000);
}

TEST(ListTypes, NamesFromMispStixAndColumns) {
  auto name = [](std::string_view text) -> std::string {
    auto named = ParseObservableTypeName(text);
    if (!named) return "none";
    std::string out(ToString(named->type));
    if (named->algorithm != HashAlgorithm::kNone)
      out += "/" + std::string(ToString(named->algorithm));
    if (named->direction == Direction::kSource) out += ":src";
    if (named->direction == Direction::kDestination) out += ":dst";
    if (named->by_content) out += "*";
    return out;
  };
  EXPECT_EQ(name("ip-dst"), "ipv4:dst*");
  EXPECT_EQ(name("ip-src"), "ipv4:src*");
  EXPECT_EQ(name("IPv4-Addr"), "ipv4*");
  EXPECT_EQ(name("ipv6-addr:value"), "ipv4*");
  EXPECT_EQ(name("domain-name"), "domain");
  EXPECT_EQ(name("hostname"), "domain");
  EXPECT_EQ(name("URL"), "url");
  EXPECT_EQ(name("email-addr"), "email");
  EXPECT_EQ(name("email-src"), "email:src");
  EXPECT_EQ(name("md5"), "hash/MD5");
  EXPECT_EQ(name("SHA-1"), "hash/SHA-1");
  EXPECT_EQ(name("sha256_hash"), "hash/SHA-256");
  EXPECT_EQ(name("file:hashes.MD5"), "hash/MD5");
  EXPECT_EQ(name("file:hashes.'SHA-256'"), "hash/SHA-256");
  EXPECT_EQ(name("file:hashes.'SHA3-512'"), "hash/SHA3-512");
  EXPECT_EQ(name("hash"), "hash");
  EXPECT_EQ(name("filename"), "file-name");
  EXPECT_EQ(name("file:name"), "file-name");
  EXPECT_EQ(name("process-name"), "process-name");
  EXPECT_EQ(name("windows-registry-key"), "registry-key");
  EXPECT_EQ(name("user_agent"), "user-agent");
  EXPECT_EQ(name("vulnerability"), "none");
  EXPECT_EQ(name("ip-dst|port"), "none");
  EXPECT_EQ(name(""), "none");
}

TEST(ListPerformance, AMillionLinesLoadQuickly) {
  std::string text;
  text.reserve(40'000'000);
  text += "# generated\n";
  for (int i = 0; i < 1'000'000; ++i) {
    switch (i % 4) {
      case 0:
        text += "10." + std::to_string(i >> 16 & 255) + "." + std::to_string(i >> 8 & 255) + "." +
                std::to_string(i & 255) + "\n";
        break;
      case 1:
        text += "host" + std::to_string(i) + ".evil[.]example\n";
        break;
      case 2:
        text += "http://evil.example/p" + std::to_string(i) + "\n";
        break;
      default:
        text += "d41d8cd98f00b204e9800998ecf8427e\n";
        break;
    }
  }
  uint64_t delivered = 0;
  Diagnostics diagnostics;
  auto stats = LoadList(
      text, "big", "big.txt", [&](Indicator&&) { ++delivered; }, diagnostics);
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->indicators, 1'000'000u);
  EXPECT_EQ(delivered, 1'000'000u);
  EXPECT_EQ(stats->skipped, 0u);
}

}  // namespace
}  // namespace yagura::intel

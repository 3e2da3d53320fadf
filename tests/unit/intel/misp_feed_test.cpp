#include "intel/misp_feed.hpp"

#include <gtest/gtest.h>
#include <simdjson.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace yagura::intel {
namespace {

namespace fs = std::filesystem;

const fs::path FEED_SAMPLE = fs::path(YAGURA_SHARED_DIR) / "data/misp/feed-sample";
const fs::path DESCRIBE_TYPES = fs::path(YAGURA_SHARED_DIR) / "data/misp/core/describeTypes.json";

std::string Direction(Direction direction) {
  switch (direction) {
    case Direction::kSource:
      return "src:";
    case Direction::kDestination:
      return "dst:";
    default:
      return "";
  }
}

// "ipv4:dst:192.0.2.1 & port:dst:80 | domain:evil.example"
std::string Describe(const std::vector<Conjunction>& any_of) {
  std::string out;
  for (size_t c = 0; c < any_of.size(); ++c) {
    if (c > 0) out += " | ";
    for (size_t a = 0; a < any_of[c].size(); ++a) {
      const Atom& atom = any_of[c][a];
      if (a > 0) out += " & ";
      out += ToString(atom.type);
      if (atom.algorithm != HashAlgorithm::kNone) {
        out += "/";
        out += ToString(atom.algorithm);
      }
      out += ":" + Direction(atom.direction) + atom.value;
    }
  }
  return out;
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

void WriteFile(const fs::path& path, std::string_view text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

struct Collected {
  std::vector<Indicator> indicators;
  IndicatorSink Sink() {
    return [this](Indicator&& indicator) { indicators.push_back(std::move(indicator)); };
  }
  const Indicator* Find(std::string_view id) const {
    for (const Indicator& indicator : indicators) {
      if (indicator.id == id) return &indicator;
    }
    return nullptr;
  }
};

std::vector<Diagnostic> OfKind(const Diagnostics& diagnostics, DiagnosticKind kind) {
  std::vector<Diagnostic> out;
  for (const Diagnostic& d : diagnostics.Kept()) {
    if (d.kind == kind) out.push_back(d);
  }
  return out;
}

class MispFeedDirectory : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(FEED_SAMPLE / "manifest.json")) {
      GTEST_SKIP() << "MISP feed sample not found at " << FEED_SAMPLE;
    }
    dir_ = fs::temp_directory_path() /
           ("yagura_misp_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }
  fs::path dir_;
};

// Counts read off the four sample event files: 139 attributes (27 top-level, 112 in objects),
// 92 with to_ids (83 + 5 + 4 + 0), 47 without; every to_ids type is mapped.
TEST_F(MispFeedDirectory, LoadsTheSharedSampleFeed) {
  Collected got;
  Diagnostics diagnostics;
  auto stats = LoadMispFeedDirectory(FEED_SAMPLE.string(), "circl-sample", got.Sink(), diagnostics);
  ASSERT_TRUE(stats) << stats.error().ToString();
  EXPECT_TRUE(stats->complete);
  EXPECT_EQ(stats->objects, 139u);
  EXPECT_EQ(stats->indicators, 92u);
  EXPECT_EQ(stats->ignored, 47u);
  EXPECT_EQ(stats->skipped, 0u);
  EXPECT_EQ(got.indicators.size(), 92u);
  EXPECT_TRUE(diagnostics.Kept().empty()) << diagnostics.Kept().front().message;

  // Manifest order: the Sednit event comes first.
  EXPECT_EQ(got.indicators.front().name, "OSINT - Sednit update: How Fancy Bear Spent the Year");

  const Indicator* md5 = got.Find("57c4448b-454c-4d17-90d1-4d2f950d210f");
  ASSERT_NE(md5, nullptr);
  EXPECT_EQ(md5->feed, "circl-sample");
  EXPECT_EQ(md5->name, "Ransomware - Xorist");
  EXPECT_EQ(md5->pattern, "md5:0749bae92ca336a02c83d126e04ec628");
  EXPECT_EQ(Describe(md5->any_of), "hash/MD5:0749bae92ca336a02c83d126e04ec628");
  EXPECT_EQ(md5->tlp, Tlp::kClear);  // tlp:white
  ASSERT_FALSE(md5->labels.empty());
  EXPECT_EQ(md5->labels.front(), "Payload delivery");
  EXPECT_NE(std::find(md5->markings.begin(), md5->markings.end(), "tlp:white"),
            md5->markings.end());
  EXPECT_NE(
      std::find(md5->labels.begin(), md5->labels.end(), "ms-caro-malware:malware-type=\"Ransom\""),
      md5->labels.end());
  EXPECT_EQ(md5->modified, 1472480395000);
  EXPECT_EQ(md5->valid_from, 1472480395000);
  EXPECT_FALSE(md5->valid_until.has_value());
  EXPECT_EQ(md5->confidence, -1);
  EXPECT_FALSE(md5->revoked);

  const Indicator* regkey = got.Find("57c54b0f-27a4-458b-8e63-4455950d210f");
  ASSERT_NE(regkey, nullptr);
  EXPECT_EQ(Describe(regkey->any_of),
            "registry-key:Software\\Wow6432Node\\Microsoft\\Windows\\CurrentVersion\\Run");

  const Indicator* sample = got.Find("5a4e4fff-407c-40ff-9de5-43dc950d210f");
  ASSERT_NE(sample, nullptr);
  EXPECT_EQ(Describe(sample->any_of),
            "file-name:simple.json & hash/MD5:7637beddacbeac59d44469b2b120b9e6");
  EXPECT_EQ(sample->tlp, Tlp::kUnset);
  EXPECT_TRUE(sample->markings.empty());

  const Indicator* ip = got.Find("5a3ce58a-fcd8-48d5-8b4a-4fd9950d210f");
  ASSERT_NE(ip, nullptr);
  EXPECT_EQ(Describe(ip->any_of), "ipv4:dst:87.236.211.182");
  EXPECT_EQ(ip->tlp, Tlp::kClear);

  int domains = 0;
  for (const Indicator& indicator : got.indicators) {
    ASSERT_FALSE(indicator.any_of.empty()) << indicator.id;
    domains += indicator.any_of.front().front().type == ObservableType::kDomain;
  }
  EXPECT_EQ(domains, 19);
}

TEST_F(MispFeedDirectory, TruncatedAndMissingEventFilesAreReportedAndTheRestLoads) {
  for (const char* name : {"manifest.json", "57c4445b-c548-4654-af0b-4be3950d210f.json",
                           "5a4e4fdd-1eb4-4ff3-9e87-43fa950d210f.json"}) {
    fs::copy_file(FEED_SAMPLE / name, dir_ / name);
  }
  std::string big = ReadFile(FEED_SAMPLE / "5a3c2fcd-8328-42bb-a95e-4f4402de0b81.json");
  WriteFile(dir_ / "5a3c2fcd-8328-42bb-a95e-4f4402de0b81.json", big.substr(0, big.size() / 2));
  // 5758ebf5-....json is listed in the manifest but absent.
  Collected got;
  Diagnostics diagnostics;
  auto stats = LoadMispFeedDirectory(dir_.string(), "feed", got.Sink(), diagnostics);
  ASSERT_TRUE(stats) << stats.error().ToString();
  EXPECT_FALSE(stats->complete);
  EXPECT_EQ(stats->indicators, 9u);  // 5 from Xorist, 4 from the PyMISP test
  EXPECT_EQ(stats->objects, 15u);
  auto broken = OfKind(diagnostics, DiagnosticKind::kRecordSkipped);
  ASSERT_EQ(broken.size(), 1u);
  EXPECT_NE(broken[0].where.find("5a3c2fcd-8328-42bb-a95e-4f4402de0b81.json"), std::string::npos);
  auto missing = OfKind(diagnostics, DiagnosticKind::kInputUnreadable);
  ASSERT_EQ(missing.size(), 1u);
  EXPECT_NE(missing[0].where.find("5758ebf5-c898-48e6-9fe9-5665c0a83866.json"), std::string::npos);
  EXPECT_NE(got.Find("5a4e4fff-8000-49f9-8c3e-4598950d210f"), nullptr);
}

TEST_F(MispFeedDirectory, WithoutManifestEveryEventFileIsRead) {
  fs::copy_file(FEED_SAMPLE / "57c4445b-c548-4654-af0b-4be3950d210f.json",
                dir_ / "57c4445b-c548-4654-af0b-4be3950d210f.json");
  fs::copy_file(FEED_SAMPLE / "5a4e4fdd-1eb4-4ff3-9e87-43fa950d210f.json",
                dir_ / "5a4e4fdd-1eb4-4ff3-9e87-43fa950d210f.json");
  WriteFile(dir_ / "hashes.csv", "0749bae92ca336a02c83d126e04ec628,57c4445b\n");
  Collected got;
  Diagnostics diagnostics;
  auto stats = LoadMispFeedDirectory(dir_.string(), "feed", got.Sink(), diagnostics);
  ASSERT_TRUE(stats);
  EXPECT_TRUE(stats->complete);
  EXPECT_EQ(stats->indicators, 9u);
  // Without manifest tags only the event's own tags count: Xorist's is tlp:white.
  EXPECT_EQ(got.Find("57c4448b-454c-4d17-90d1-4d2f950d210f")->tlp, Tlp::kClear);
}

TEST_F(MispFeedDirectory, ManifestTagsApplyWhenTheEventHasNone) {
  WriteFile(
      dir_ / "manifest.json",
      R"({"11111111-2222-3333-4444-555555555555": {"info": "x", "Tag": [{"name": "tlp:amber"}]}})");
  WriteFile(dir_ / "11111111-2222-3333-4444-555555555555.json",
            R"({"Event": {"info": "tagged in the manifest", "Attribute": [
                {"uuid": "a1", "type": "domain", "value": "evil.example", "to_ids": true,
                 "timestamp": "1700000000", "category": "Network activity"}]}})");
  Collected got;
  Diagnostics diagnostics;
  auto stats = LoadMispFeedDirectory(dir_.string(), "feed", got.Sink(), diagnostics);
  ASSERT_TRUE(stats);
  ASSERT_EQ(got.indicators.size(), 1u);
  EXPECT_EQ(got.indicators[0].tlp, Tlp::kAmber);
  EXPECT_EQ(got.indicators[0].markings, std::vector<std::string>{"tlp:amber"});
}

TEST_F(MispFeedDirectory, UnknownTypesAreReportedOncePerTypeForTheWholeFeed) {
  std::string manifest = "{";
  for (int e = 0; e < 3; ++e) {
    std::string uuid = "0000000" + std::to_string(e) + "-0000-0000-0000-000000000000";
    manifest += (e ? "," : "") + std::string("\"") + uuid + "\": {}";
    std::string attributes;
    for (int a = 0; a < 4; ++a) {
      attributes += std::string(a ? "," : "") + R"({"uuid": "e)" + std::to_string(e) + "a" +
                    std::to_string(a) +
                    R"(", "type": "vulnerability", "value": "CVE-2017-0199", "to_ids": true})";
    }
    attributes += R"(, {"uuid": "m)" + std::to_string(e) +
                  R"(", "type": "mutex", "value": "Global\\x", "to_ids": true})";
    WriteFile(dir_ / (uuid + ".json"),
              R"({"Event": {"info": "e", "Attribute": [)" + attributes + "]}}");
  }
  manifest += "}";
  WriteFile(dir_ / "manifest.json", manifest);
  Collected got;
  Diagnostics diagnostics;
  auto stats = LoadMispFeedDirectory(dir_.string(), "feed", got.Sink(), diagnostics);
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->skipped, 15u);
  EXPECT_EQ(stats->indicators, 0u);
  auto warnings = OfKind(diagnostics, DiagnosticKind::kWarning);
  ASSERT_EQ(warnings.size(), 2u);
  // Ordered by type name: mutex, vulnerability.
  EXPECT_NE(warnings[0].message.find("3 to_ids attributes of type 'mutex'"), std::string::npos)
      << warnings[0].message;
  EXPECT_NE(warnings[1].message.find("12 to_ids attributes of type 'vulnerability'"),
            std::string::npos)
      << warnings[1].message;
  EXPECT_NE(warnings[1].message.find("e0a0"), std::string::npos) << warnings[1].message;
  EXPECT_EQ(warnings[1].where, dir_.string());
}

TEST_F(MispFeedDirectory, MissingOrEmptyDirectoryFails) {
  Collected got;
  Diagnostics diagnostics;
  EXPECT_FALSE(LoadMispFeedDirectory((dir_ / "absent").string(), "f", got.Sink(), diagnostics));
  EXPECT_FALSE(LoadMispFeedDirectory(dir_.string(), "f", got.Sink(), diagnostics));
}

TEST_F(MispFeedDirectory, BrokenManifestFallsBackToTheEventFiles) {
  WriteFile(dir_ / "manifest.json", R"({"57c4445b-c548-4654-af0b-4be3950d210f": {"Orgc":)");
  fs::copy_file(FEED_SAMPLE / "57c4445b-c548-4654-af0b-4be3950d210f.json",
                dir_ / "57c4445b-c548-4654-af0b-4be3950d210f.json");
  Collected got;
  Diagnostics diagnostics;
  auto stats = LoadMispFeedDirectory(dir_.string(), "feed", got.Sink(), diagnostics);
  ASSERT_TRUE(stats);
  EXPECT_FALSE(stats->complete);
  EXPECT_EQ(stats->indicators, 5u);
  EXPECT_EQ(OfKind(diagnostics, DiagnosticKind::kRecordSkipped).size(), 1u);
}

// One event exercising the composite types, tags, timestamps and skips.
constexpr std::string_view MIXED_EVENT = R"({"Event": {
  "info": "Mixed event",
  "Tag": [{"name": "tlp:green"}, {"name": "misp:confidence-level=\"fairly-confident\""}],
  "Attribute": [
    {"uuid": "u-src", "type": "ip-src", "category": "Network activity", "value": "198.51.100.7/24",
     "to_ids": true, "timestamp": 1600000000,
     "Tag": [{"name": "tlp:amber"}, {"name": "osint:certainty=\"93\""}]},
    {"uuid": "u-dstport", "type": "ip-dst|port", "value": "2001:db8::1|443", "to_ids": true,
     "timestamp": "1600000001"},
    {"uuid": "u-domip", "type": "domain|ip", "value": "evil.example|192.0.2.1", "to_ids": true},
    {"uuid": "u-hostport", "type": "hostname|port", "value": "c2.evil.example|8443", "to_ids": true},
    {"uuid": "u-filehash", "type": "filename|sha256", "to_ids": true,
     "value": "odd|name.exe|9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"},
    {"uuid": "u-url", "type": "url", "value": "evil.example/gate.php", "to_ids": true},
    {"uuid": "u-mail", "type": "email-src", "value": "Phish@Evil.example", "to_ids": true,
     "first_seen": "2020-01-02T03:04:05.678+00:00", "last_seen": "2020-02-01T00:00:00+00:00",
     "timestamp": "1600000002"},
    {"uuid": "u-ua", "type": "user-agent", "value": "EvilBot/1.0", "to_ids": true},
    {"uuid": "u-deleted", "type": "sha1", "value": "77b0c41b7d340b8a3d903f21347bbf06aa766b5b",
     "to_ids": true, "deleted": true},
    {"uuid": "u-text", "type": "text", "value": "just words", "to_ids": false},
    {"uuid": "u-uri", "type": "uri", "value": "/gate.php", "to_ids": true},
    {"uuid": "u-vuln1", "type": "vulnerability", "value": "CVE-2017-0199", "to_ids": true},
    {"uuid": "u-vuln2", "type": "vulnerability", "value": "CVE-2017-11882", "to_ids": "1"},
    {"uuid": "u-sha224", "type": "sha224", "value": "abc", "to_ids": true},
    {"uuid": "u-badip", "type": "ip-dst", "value": "999.1.1.1", "to_ids": true},
    {"uuid": "u-noport", "type": "ip-dst|port", "value": "192.0.2.1", "to_ids": true}
  ],
  "Object": [
    {"name": "file", "deleted": true, "Attribute": [
      {"uuid": "u-objmd5", "type": "md5", "value": "0749bae92ca336a02c83d126e04ec628",
       "to_ids": true, "category": "Payload delivery"},
      {"uuid": "u-objsize", "type": "size-in-bytes", "value": "21", "to_ids": false}]}
  ]
}})";

TEST(MispEvent, MapsCompositeTypesTagsAndTimes) {
  Collected got;
  Diagnostics diagnostics;
  auto stats = LoadMispEvent(MIXED_EVENT, "feed", "mixed.json", got.Sink(), diagnostics);
  ASSERT_TRUE(stats) << stats.error().ToString();
  EXPECT_TRUE(stats->complete);
  EXPECT_EQ(stats->objects, 18u);
  EXPECT_EQ(stats->indicators, 10u);
  EXPECT_EQ(stats->ignored, 2u);
  EXPECT_EQ(stats->skipped, 6u);  // uri, 2 vulnerability, sha224, bad ip, no port

  const Indicator* src = got.Find("u-src");
  ASSERT_NE(src, nullptr);
  EXPECT_EQ(Describe(src->any_of), "ipv4:src:198.51.100.7/24");
  EXPECT_EQ(src->tlp, Tlp::kAmber);  // the attribute's tag overrides the event's
  EXPECT_EQ(src->confidence, 93);    // likewise
  EXPECT_EQ(src->modified, 1600000000000);
  EXPECT_EQ(src->name, "Mixed event");
  EXPECT_EQ(src->pattern, "ip-src:198.51.100.7/24");
  EXPECT_EQ(src->labels.front(), "Network activity");
  EXPECT_EQ(src->markings.size(), 4u);

  const Indicator* dstport = got.Find("u-dstport");
  ASSERT_NE(dstport, nullptr);
  EXPECT_EQ(Describe(dstport->any_of), "ipv6:dst:2001:db8::1 & port:dst:443");
  EXPECT_EQ(dstport->tlp, Tlp::kGreen);
  EXPECT_EQ(dstport->confidence, 50);

  EXPECT_EQ(Describe(got.Find("u-domip")->any_of), "domain:evil.example | ipv4:192.0.2.1");
  EXPECT_EQ(Describe(got.Find("u-hostport")->any_of), "domain:c2.evil.example & port:dst:8443");
  EXPECT_EQ(Describe(got.Find("u-filehash")->any_of),
            "file-name:odd|name.exe & "
            "hash/SHA-256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08");
  EXPECT_EQ(Describe(got.Find("u-url")->any_of), "url:http://evil.example/gate.php");
  EXPECT_EQ(Describe(got.Find("u-ua")->any_of), "user-agent:EvilBot/1.0");

  const Indicator* mail = got.Find("u-mail");
  ASSERT_NE(mail, nullptr);
  EXPECT_EQ(Describe(mail->any_of), "email:src:Phish@Evil.example");
  EXPECT_EQ(mail->valid_from, 1577934245678);  // first_seen, not the timestamp
  EXPECT_EQ(mail->modified, 1600000002000);
  EXPECT_FALSE(mail->valid_until.has_value());  // last_seen is no expiry

  EXPECT_TRUE(got.Find("u-deleted")->revoked);
  EXPECT_TRUE(got.Find("u-objmd5")->revoked);  // its object is deleted
  EXPECT_FALSE(got.Find("u-domip")->revoked);
  EXPECT_EQ(got.Find("u-text"), nullptr);
  EXPECT_EQ(got.Find("u-vuln1"), nullptr);

  std::map<std::string, std::string> by_where;
  for (const Diagnostic& d : diagnostics.Kept()) {
    EXPECT_EQ(d.kind, DiagnosticKind::kWarning);
    by_where[d.where] += d.message + "\n";
  }
  EXPECT_NE(by_where["mixed.json attribute u-badip"].find("999.1.1.1"), std::string::npos);
  EXPECT_NE(by_where["mixed.json attribute u-noport"].find("address|port"), std::string::npos);
  const std::string& summary = by_where["mixed.json"];
  EXPECT_NE(summary.find("2 to_ids attributes of type 'vulnerability'"), std::string::npos)
      << summary;
  EXPECT_NE(summary.find("u-vuln1"), std::string::npos) << summary;
  EXPECT_NE(summary.find("1 to_ids attribute of type 'uri' skipped: a relative URI"),
            std::string::npos)
      << summary;
  EXPECT_NE(summary.find("type 'sha224'"), std::string::npos) << summary;
  EXPECT_EQ(diagnostics.Kept().size(), 5u);  // two values, three types
}

TEST(MispEvent, AcceptsBareEventsListsAndApiResponses) {
  constexpr std::string_view ATTRIBUTE =
      R"({"uuid": "x", "type": "domain", "value": "evil.example", "to_ids": true})";
  const std::string bare =
      std::string(R"({"info": "bare", "Attribute": [)") + std::string(ATTRIBUTE) + "]}";
  const std::string wrapped = R"({"Event": )" + bare + "}";
  for (const std::string& json : {bare, wrapped, "[" + wrapped + "," + bare + "]",
                                  R"({"response": [)" + wrapped + "," + wrapped + "]}"}) {
    Collected got;
    Diagnostics diagnostics;
    auto stats = LoadMispEvent(json, "feed", "doc", got.Sink(), diagnostics);
    ASSERT_TRUE(stats) << json;
    size_t expected = json.starts_with("{\"info\"") || json.starts_with("{\"Event\"") ? 1 : 2;
    EXPECT_EQ(stats->indicators, expected) << json;
    for (const Indicator& indicator : got.indicators) EXPECT_EQ(indicator.name, "bare");
  }
}

TEST(MispEvent, InvalidJsonIsIncompleteAndOtherJsonFails) {
  Collected got;
  Diagnostics diagnostics;
  std::string_view truncated = MIXED_EVENT.substr(0, 400);
  auto stats = LoadMispEvent(truncated, "feed", "cut.json", got.Sink(), diagnostics);
  ASSERT_TRUE(stats);
  EXPECT_FALSE(stats->complete);
  EXPECT_EQ(stats->indicators, 0u);
  EXPECT_EQ(diagnostics.Count(DiagnosticKind::kRecordSkipped), 1u);
  EXPECT_FALSE(LoadMispEvent(R"({"type": "bundle", "objects": []})", "feed", "stix.json",
                             got.Sink(), diagnostics));
  EXPECT_FALSE(LoadMispEvent("[]", "feed", "empty.json", got.Sink(), diagnostics));
}

TEST(MispEvent, CapsValueWarningsAndCountsTheRest) {
  std::string json = R"({"Event": {"info": "bad", "Attribute": [)";
  for (int i = 0; i < 25; ++i) {
    json += std::string(i ? "," : "") + R"({"uuid": "b)" + std::to_string(i) +
            R"(", "type": "ip-dst", "value": "not-an-ip", "to_ids": true})";
  }
  json += "]}}";
  Collected got;
  Diagnostics diagnostics;
  auto stats = LoadMispEvent(json, "feed", "bad.json", got.Sink(), diagnostics);
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->skipped, 25u);
  ASSERT_EQ(diagnostics.Kept().size(), 21u);
  EXPECT_NE(diagnostics.Kept().back().message.find("5 more"), std::string::npos);
}

TEST(MispConfidence, TaxonomyTags) {
  EXPECT_EQ(ConfidenceFromMispTag("osint:certainty=\"93\""), 93);
  EXPECT_EQ(ConfidenceFromMispTag("osint:certainty=\"100\""), 100);
  EXPECT_EQ(ConfidenceFromMispTag("osint:certainty=\"101\""), -1);
  EXPECT_EQ(ConfidenceFromMispTag("misp:confidence-level=\"completely-confident\""), 100);
  EXPECT_EQ(ConfidenceFromMispTag("misp:confidence-level=\"confidence-cannot-be-evaluated\""), -1);
  EXPECT_EQ(ConfidenceFromMispTag("admiralty-scale:information-credibility=\"2\""), 80);
  EXPECT_EQ(ConfidenceFromMispTag("admiralty-scale:information-credibility=\"6\""), -1);
  EXPECT_EQ(ConfidenceFromMispTag("estimative-language:confidence-in-analytic-judgment=\"high\""),
            85);
  EXPECT_EQ(ConfidenceFromMispTag("estimative-language:likelihood-probability=\"likely\""), 68);
  EXPECT_EQ(ConfidenceFromMispTag("tlp:green"), -1);
  EXPECT_EQ(ConfidenceFromMispTag("osint:source-type=\"blog-post\""), -1);
}

// Every type of describeTypes.json is either mapped as listed here or skipped with a reason.
TEST(MispTypes, EveryDescribedTypeIsMappedOrSkippedWithAReason) {
  if (!fs::exists(DESCRIBE_TYPES)) GTEST_SKIP() << "describeTypes.json not found";
  const std::map<std::string, std::pair<std::string, std::string>> mapped = {
      {"ip-src", {"192.0.2.1", "ipv4:src:192.0.2.1"}},
      {"ip-dst", {"2001:db8::/32", "ipv6:dst:2001:db8::/32"}},
      {"ip-src|port", {"192.0.2.1|53", "ipv4:src:192.0.2.1 & port:src:53"}},
      {"ip-dst|port", {"192.0.2.1|80", "ipv4:dst:192.0.2.1 & port:dst:80"}},
      {"hostname|port", {"h.example|0080", "domain:h.example & port:dst:80"}},
      {"domain|ip", {"d.example|::1", "domain:d.example | ipv6:::1"}},
      {"domain", {"d.example", "domain:d.example"}},
      {"hostname", {"h.example", "domain:h.example"}},
      {"onion-address", {"abc.onion", "domain:abc.onion"}},
      {"url", {"https://u.example/", "url:https://u.example/"}},
      {"email", {"a@b.example", "email:a@b.example"}},
      {"email-src", {"a@b.example", "email:src:a@b.example"}},
      {"email-dst", {"a@b.example", "email:dst:a@b.example"}},
      {"email-reply-to", {"a@b.example", "email:a@b.example"}},
      {"filename", {"a.exe", "file-name:a.exe"}},
      {"regkey", {"HKLM\\Run", "registry-key:HKLM\\Run"}},
      {"regkey|value", {"HKLM\\Run|x|y", "registry-key:HKLM\\Run"}},
      {"user-agent", {"UA", "user-agent:UA"}},
      {"md5", {"h", "hash/MD5:h"}},
      {"sha1", {"h", "hash/SHA-1:h"}},
      {"sha256", {"h", "hash/SHA-256:h"}},
      {"sha512", {"h", "hash/SHA-512:h"}},
      {"sha3-256", {"h", "hash/SHA3-256:h"}},
      {"sha3-512", {"h", "hash/SHA3-512:h"}},
      {"ssdeep", {"h", "hash/SSDEEP:h"}},
      {"tlsh", {"h", "hash/TLSH:h"}},
      {"imphash", {"h", "hash/IMPHASH:h"}},
      {"malware-sample", {"a.exe|h", "file-name:a.exe & hash/MD5:h"}},
      {"filename|md5", {"a.exe|h", "file-name:a.exe & hash/MD5:h"}},
      {"filename|sha1", {"a.exe|h", "file-name:a.exe & hash/SHA-1:h"}},
      {"filename|sha256", {"a.exe|h", "file-name:a.exe & hash/SHA-256:h"}},
      {"filename|sha512", {"a.exe|h", "file-name:a.exe & hash/SHA-512:h"}},
      {"filename|sha3-256", {"a.exe|h", "file-name:a.exe & hash/SHA3-256:h"}},
      {"filename|sha3-512", {"a.exe|h", "file-name:a.exe & hash/SHA3-512:h"}},
      {"filename|ssdeep", {"a.exe|h", "file-name:a.exe & hash/SSDEEP:h"}},
      {"filename|tlsh", {"a.exe|h", "file-name:a.exe & hash/TLSH:h"}},
      {"filename|imphash", {"a.exe|h", "file-name:a.exe & hash/IMPHASH:h"}},
  };
  simdjson::dom::parser parser;
  simdjson::dom::array types;
  ASSERT_EQ(parser.load(DESCRIBE_TYPES.string())["result"]["types"].get_array().get(types),
            simdjson::SUCCESS);
  std::set<std::string> seen;
  for (simdjson::dom::element element : types) {
    std::string type(element.get_string().value());
    seen.insert(type);
    std::vector<Conjunction> any_of;
    std::string_view reason;
    auto it = mapped.find(type);
    if (it != mapped.end()) {
      ASSERT_EQ(MapMispAttribute(type, it->second.first, any_of, reason), MispMapping::kMapped)
          << type << ": " << reason;
      EXPECT_EQ(Describe(any_of), it->second.second) << type;
    } else {
      EXPECT_EQ(MapMispAttribute(type, "some value", any_of, reason), MispMapping::kUnsupportedType)
          << type;
      EXPECT_FALSE(reason.empty()) << type;
      EXPECT_TRUE(any_of.empty()) << type;
    }
  }
  for (const auto& [type, unused] : mapped) EXPECT_TRUE(seen.count(type)) << type;
}

}  // namespace
}  // namespace yagura::intel

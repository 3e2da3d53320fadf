#include "intel/stix_feed.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace yagura::intel {
namespace {

namespace fs = std::filesystem;

struct Loaded {
  Result<FeedStats> stats = FeedStats{};
  std::vector<Indicator> indicators;
  std::vector<Diagnostic> diagnostics;
  uint64_t unreadable = 0;
  uint64_t warnings = 0;
};

Loaded Load(std::string_view json) {
  Loaded loaded;
  Diagnostics diagnostics;
  loaded.stats = LoadStixBundle(
      json, "test-feed", "feed.json",
      [&](Indicator&& indicator) { loaded.indicators.push_back(std::move(indicator)); },
      diagnostics);
  loaded.diagnostics = diagnostics.Kept();
  loaded.unreadable = diagnostics.Count(DiagnosticKind::kInputUnreadable);
  loaded.warnings = diagnostics.Count(DiagnosticKind::kWarning);
  return loaded;
}

std::string AllDiagnostics(const Loaded& loaded) {
  std::string out;
  for (const Diagnostic& d : loaded.diagnostics) out += d.where + ": " + d.message + "\n";
  return out;
}

bool HasDiagnostic(const Loaded& loaded, std::string_view a, std::string_view b = {}) {
  for (const Diagnostic& d : loaded.diagnostics) {
    const std::string text = d.where + ": " + d.message;
    if (text.find(a) != std::string::npos && text.find(b) != std::string::npos) return true;
  }
  return false;
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

fs::path Shared(const std::string& relative) { return fs::path(YAGURA_SHARED_DIR) / relative; }

// A STIX 2.1 indicator; `extra` is spliced in as more properties.
std::string IndicatorJson(const std::string& id, const std::string& pattern,
                          const std::string& modified = "2026-01-01T00:00:00.000Z",
                          const std::string& extra = "") {
  std::string json = R"({"type":"indicator","spec_version":"2.1","id":")" + id +
                     R"(","created":"2025-01-01T00:00:00.000Z","modified":")" + modified +
                     R"(","pattern":")" + pattern +
                     R"(","pattern_type":"stix","valid_from":"2025-01-01T00:00:00Z")";
  if (!extra.empty()) json += "," + extra;
  return json + "}";
}

std::string Bundle(const std::vector<std::string>& objects) {
  std::string json = R"({"type":"bundle","id":"bundle--1","objects":[)";
  for (size_t i = 0; i < objects.size(); ++i) {
    if (i > 0) json += ",\n";
    json += objects[i];
  }
  return json + "]}";
}

const Indicator* Find(const Loaded& loaded, std::string_view id) {
  for (const Indicator& indicator : loaded.indicators) {
    if (indicator.id == id) return &indicator;
  }
  return nullptr;
}

TEST(StixFeedTest, ReadsEveryIndicatorProperty) {
  const std::string json = Bundle({
      IndicatorJson("indicator--a",
                    "[ipv4-addr:value = '198.51.100.1'] OR [domain-name:value = "
                    "'evil.example' AND url:value = 'http://evil.example/x']",
                    "2026-02-03T04:05:06.789Z",
                    R"("name":"C2 server","description":"ignored when there is a name",)"
                    R"("valid_until":"2027-01-01T00:00:00+09:00","revoked":false,)"
                    R"("confidence":85,"indicator_types":["malicious-activity"],)"
                    R"("labels":["apt"],"object_marking_refs":[)"
                    R"("marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"],)"
                    R"("granular_markings":[{"marking_ref":"marking-definition--x",)"
                    R"("selectors":["description"]}])"),
      IndicatorJson("indicator--b", "[file:hashes.'SHA-256' = 'abc']", "2026-01-01T00:00:00Z",
                    R"("description":"only a description","confidence":"high")"),
  });
  const Loaded loaded = Load(json);
  ASSERT_TRUE(loaded.stats.has_value()) << loaded.stats.error().ToString();
  EXPECT_EQ(loaded.stats->objects, 2u);
  EXPECT_EQ(loaded.stats->indicators, 2u);
  EXPECT_EQ(loaded.stats->skipped, 0u);
  EXPECT_TRUE(loaded.stats->complete);
  EXPECT_TRUE(loaded.diagnostics.empty()) << AllDiagnostics(loaded);
  ASSERT_EQ(loaded.indicators.size(), 2u);

  const Indicator& a = loaded.indicators[0];
  EXPECT_EQ(a.id, "indicator--a");
  EXPECT_EQ(a.feed, "test-feed");
  EXPECT_EQ(a.name, "C2 server");
  EXPECT_EQ(a.pattern,
            "[ipv4-addr:value = '198.51.100.1'] OR [domain-name:value = "
            "'evil.example' AND url:value = 'http://evil.example/x']");
  EXPECT_EQ(a.tlp, Tlp::kGreen);
  EXPECT_EQ(a.markings,
            (std::vector<std::string>{"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
                                      "marking-definition--x"}));
  EXPECT_EQ(a.confidence, 85);
  EXPECT_EQ(a.valid_from, 1735689600000);
  EXPECT_EQ(a.valid_until, 1798729200000);  // 2027-01-01T00:00:00+09:00
  EXPECT_EQ(a.modified, 1770091506789);
  EXPECT_FALSE(a.revoked);
  EXPECT_EQ(a.labels, (std::vector<std::string>{"malicious-activity", "apt"}));
  ASSERT_EQ(a.any_of.size(), 2u);
  ASSERT_EQ(a.any_of[0].size(), 1u);
  EXPECT_EQ(a.any_of[0][0].type, ObservableType::kIpv4);
  EXPECT_EQ(a.any_of[0][0].value, "198.51.100.1");
  ASSERT_EQ(a.any_of[1].size(), 2u);
  EXPECT_EQ(a.any_of[1][0].type, ObservableType::kDomain);
  EXPECT_EQ(a.any_of[1][1].type, ObservableType::kUrl);

  const Indicator& b = loaded.indicators[1];
  EXPECT_EQ(b.name, "only a description");
  EXPECT_EQ(b.confidence, -1);
  EXPECT_EQ(b.tlp, Tlp::kUnset);
  EXPECT_FALSE(b.valid_until.has_value());
  ASSERT_EQ(b.any_of.size(), 1u);
  EXPECT_EQ(b.any_of[0][0].algorithm, HashAlgorithm::kSha256);
}

TEST(StixFeedTest, TlpFromWellKnownAndBundleMarkings) {
  const auto with_marking = [](const std::string& id, const std::string& refs) {
    return IndicatorJson(id, "[domain-name:value = 'x.example']", "2026-01-01T00:00:00Z",
                         R"("object_marking_refs":[)" + refs + "]");
  };
  const std::string json = Bundle({
      with_marking("indicator--white",
                   R"("marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9")"),
      with_marking("indicator--amber1",
                   R"("marking-definition--f88d31f6-486f-44da-b317-01333bde0b82")"),
      with_marking("indicator--red1",
                   R"("marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed")"),
      with_marking("indicator--clear",
                   R"("marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487")"),
      with_marking("indicator--green2",
                   R"("marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb")"),
      with_marking("indicator--strict",
                   R"("marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003")"),
      with_marking("indicator--red2",
                   R"("marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1")"),
      // The most restrictive of several wins.
      with_marking("indicator--both",
                   R"("marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",)"
                   R"("marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421")"),
      // Marking definitions in the same bundle, before and after their use.
      with_marking("indicator--local-tlp1", R"("marking-definition--local-1")"),
      with_marking("indicator--local-ext", R"("marking-definition--local-2")"),
      with_marking("indicator--local-name", R"("marking-definition--local-3")"),
      with_marking("indicator--statement", R"("marking-definition--local-4")"),
      R"({"type":"marking-definition","id":"marking-definition--local-1","definition_type":"tlp",)"
      R"("definition":{"tlp":"amber"}})",
      R"({"type":"marking-definition","id":"marking-definition--local-2","extensions":)"
      R"({"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d":)"
      R"({"tlp_2_0":"amber+strict"}}})",
      R"({"type":"marking-definition","id":"marking-definition--local-3","name":"TLP:RED"})",
      R"({"type":"marking-definition","id":"marking-definition--local-4","definition_type":)"
      R"("statement","definition":{"statement":"Copyright"}})",
  });
  const Loaded loaded = Load(json);
  ASSERT_TRUE(loaded.stats.has_value());
  EXPECT_EQ(loaded.stats->indicators, 12u);
  EXPECT_EQ(loaded.stats->ignored, 4u);
  const std::vector<std::pair<std::string, Tlp>> expected = {
      {"indicator--white", Tlp::kClear},      {"indicator--amber1", Tlp::kAmber},
      {"indicator--red1", Tlp::kRed},         {"indicator--clear", Tlp::kClear},
      {"indicator--green2", Tlp::kGreen},     {"indicator--strict", Tlp::kAmberStrict},
      {"indicator--red2", Tlp::kRed},         {"indicator--both", Tlp::kAmber},
      {"indicator--local-tlp1", Tlp::kAmber}, {"indicator--local-ext", Tlp::kAmberStrict},
      {"indicator--local-name", Tlp::kRed},   {"indicator--statement", Tlp::kUnset},
  };
  for (const auto& [id, tlp] : expected) {
    const Indicator* indicator = Find(loaded, id);
    ASSERT_NE(indicator, nullptr) << id;
    EXPECT_EQ(indicator->tlp, tlp) << id;
    EXPECT_EQ(indicator->markings.size(), id == "indicator--both" ? 2u : 1u) << id;
  }
  EXPECT_EQ(WellKnownTlpMarking("marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"),
            Tlp::kAmberStrict);
  EXPECT_FALSE(WellKnownTlpMarking("marking-definition--local-1").has_value());
}

TEST(StixFeedTest, TlpIdsOfTheSharedMarkingFile) {
  const std::string json =
      ReadFile(Shared("data/stix/examples/tlp-marking-definitions-1.0-and-2.0.json"));
  if (json.empty()) GTEST_SKIP() << "shared TLP marking definitions not found";
  // Every marking definition in the reference file has a hard-coded id with the same TLP.
  size_t checked = 0;
  for (size_t pos = json.find("marking-definition--"); pos != std::string::npos;
       pos = json.find("marking-definition--", pos + 1)) {
    const std::string id = json.substr(pos, json.find('"', pos) - pos);
    const size_t name = json.find("\"name\": \"", pos);
    ASSERT_NE(name, std::string::npos);
    const std::string tlp_name = json.substr(name + 9, json.find('"', name + 9) - name - 9);
    EXPECT_EQ(WellKnownTlpMarking(id), ParseTlp(tlp_name)) << id << " " << tlp_name;
    ++checked;
  }
  EXPECT_EQ(checked, 9u);
  // And the file itself loads as nine ignored objects.
  const Loaded loaded = Load(json);
  ASSERT_TRUE(loaded.stats.has_value());
  EXPECT_EQ(loaded.stats->ignored, 9u);
  EXPECT_TRUE(loaded.diagnostics.empty());
}

TEST(StixFeedTest, OnlyTheLatestVersionOfAnIdIsDelivered) {
  const std::string json = Bundle({
      IndicatorJson("indicator--v", "[domain-name:value = 'v2.example']", "2026-02-01T00:00:00Z"),
      IndicatorJson("indicator--v", "[domain-name:value = 'v3.example']", "2026-03-01T00:00:00Z"),
      IndicatorJson("indicator--other", "[domain-name:value = 'o.example']"),
      IndicatorJson("indicator--v", "[domain-name:value = 'v1.example']", "2026-01-01T00:00:00Z"),
      // The same version twice: the first is kept.
      IndicatorJson("indicator--same", "[domain-name:value = 'first.example']"),
      IndicatorJson("indicator--same", "[domain-name:value = 'second.example']"),
      // The latest version revokes: it is delivered, flagged.
      IndicatorJson("indicator--r", "[domain-name:value = 'r.example']", "2026-01-01T00:00:00Z"),
      IndicatorJson("indicator--r", "[domain-name:value = 'r.example']", "2026-05-01T00:00:00Z",
                    R"("revoked":true)"),
      // Expired indicators are delivered: the index decides by time.
      IndicatorJson("indicator--expired", "[domain-name:value = 'e.example']",
                    "2026-01-01T00:00:00Z", R"("valid_until":"2025-06-01T00:00:00Z")"),
  });
  const Loaded loaded = Load(json);
  ASSERT_TRUE(loaded.stats.has_value());
  EXPECT_EQ(loaded.stats->objects, 9u);
  EXPECT_EQ(loaded.stats->indicators, 5u);
  EXPECT_EQ(loaded.stats->ignored, 4u);
  EXPECT_TRUE(loaded.diagnostics.empty()) << AllDiagnostics(loaded);
  ASSERT_EQ(loaded.indicators.size(), 5u);
  // Feed order of the winners.
  EXPECT_EQ(loaded.indicators[0].id, "indicator--v");
  EXPECT_EQ(loaded.indicators[0].any_of[0][0].value, "v3.example");
  EXPECT_EQ(loaded.indicators[1].id, "indicator--other");
  EXPECT_EQ(Find(loaded, "indicator--same")->any_of[0][0].value, "first.example");
  const Indicator* revoked = Find(loaded, "indicator--r");
  ASSERT_NE(revoked, nullptr);
  EXPECT_TRUE(revoked->revoked);
  EXPECT_EQ(revoked->modified, 1777593600000);
  const Indicator* expired = Find(loaded, "indicator--expired");
  ASSERT_NE(expired, nullptr);
  EXPECT_EQ(expired->valid_until, 1748736000000);
}

TEST(StixFeedTest, OtherPatternTypesAndObjectsAreIgnored) {
  const auto typed = [](const std::string& id, const std::string& type) {
    return R"({"type":"indicator","spec_version":"2.1","id":")" + id +
           R"(","pattern":"title: x","pattern_type":")" + type +
           R"(","valid_from":"2025-01-01T00:00:00Z"})";
  };
  const std::string json = Bundle({
      typed("indicator--s1", "sigma"),
      typed("indicator--s2", "sigma"),
      typed("indicator--y1", "yara"),
      typed("indicator--n1", "snort"),
      R"({"type":"malware","id":"malware--1","name":"x","is_family":true})",
      R"({"type":"relationship","id":"relationship--1","relationship_type":"indicates"})",
      IndicatorJson("indicator--ok", "[domain-name:value = 'ok.example']"),
  });
  const Loaded loaded = Load(json);
  ASSERT_TRUE(loaded.stats.has_value());
  EXPECT_EQ(loaded.stats->objects, 7u);
  EXPECT_EQ(loaded.stats->indicators, 1u);
  EXPECT_EQ(loaded.stats->ignored, 6u);
  EXPECT_EQ(loaded.stats->skipped, 0u);
  // One summary per pattern type, none for the other objects.
  EXPECT_EQ(loaded.warnings, 3u) << AllDiagnostics(loaded);
  EXPECT_TRUE(HasDiagnostic(loaded, "ignored 2 indicator(s) with pattern_type 'sigma'"));
  EXPECT_TRUE(HasDiagnostic(loaded, "ignored 1 indicator(s) with pattern_type 'yara'"));
  EXPECT_TRUE(HasDiagnostic(loaded, "pattern_type 'snort'"));
}

TEST(StixFeedTest, BadEntriesAreReportedWithTheirIdAndTheRestDelivered) {
  const std::string json = Bundle({
      IndicatorJson("indicator--good1", "[domain-name:value = 'good1.example']"),
      IndicatorJson("indicator--syntax", "[domain-name:value = 'x' AND]"),
      IndicatorJson("indicator--sequence",
                    "[file:name = 'a'] FOLLOWEDBY [file:name = 'b'] WITHIN 60 SECONDS"),
      IndicatorJson("indicator--unknown", "[file:size = 5]"),
      R"({"type":"indicator","spec_version":"2.1","id":"indicator--nopattern",)"
      R"("pattern_type":"stix","valid_from":"2025-01-01T00:00:00Z"})",
      R"({"type":"indicator","spec_version":"2.1","id":"indicator--novalidfrom",)"
      R"("pattern":"[domain-name:value = 'x.example']","pattern_type":"stix"})",
      IndicatorJson("indicator--badtime", "[domain-name:value = 'x.example']",
                    "2026-01-01T00:00:00Z", R"("valid_until":"next tuesday")"),
      IndicatorJson("indicator--inverted", "[domain-name:value = 'x.example']",
                    "2026-01-01T00:00:00Z", R"("valid_until":"2024-01-01T00:00:00Z")"),
      R"({"type":"indicator","spec_version":"2.1","pattern":"[domain-name:value = 'x.example']"})",
      R"({"id":"indicator--notype"})",
      R"("a string, not an object")",
      IndicatorJson("indicator--good2", "[domain-name:value = 'good2.example']"),
  });
  const Loaded loaded = Load(json);
  ASSERT_TRUE(loaded.stats.has_value());
  EXPECT_EQ(loaded.stats->objects, 12u);
  EXPECT_EQ(loaded.stats->indicators, 2u);
  EXPECT_EQ(loaded.stats->skipped, 10u);
  EXPECT_TRUE(loaded.stats->complete);
  EXPECT_EQ(loaded.warnings, 10u) << AllDiagnostics(loaded);
  EXPECT_NE(Find(loaded, "indicator--good1"), nullptr);
  EXPECT_NE(Find(loaded, "indicator--good2"), nullptr);
  EXPECT_TRUE(HasDiagnostic(loaded, "feed.json objects[1]",
                            "indicator--syntax: invalid STIX "
                            "pattern: at offset 28"));
  EXPECT_TRUE(HasDiagnostic(loaded, "indicator--sequence", "FOLLOWEDBY"));
  EXPECT_TRUE(HasDiagnostic(loaded, "indicator--unknown", "file:size"));
  EXPECT_TRUE(HasDiagnostic(loaded, "indicator--nopattern", "no \"pattern\""));
  EXPECT_TRUE(HasDiagnostic(loaded, "indicator--novalidfrom", "no \"valid_from\""));
  EXPECT_TRUE(HasDiagnostic(loaded, "indicator--badtime", "valid_until"));
  EXPECT_TRUE(HasDiagnostic(loaded, "indicator--inverted", "not later than valid_from"));
  EXPECT_TRUE(HasDiagnostic(loaded, "objects[8]", "no \"id\""));
  EXPECT_TRUE(HasDiagnostic(loaded, "indicator--notype", "no \"type\""));
  EXPECT_TRUE(HasDiagnostic(loaded, "objects[10]", "not an object"));
}

TEST(StixFeedTest, Stix20IndicatorsNeedNoPatternTypeOrSpecVersion) {
  const std::string json = R"({"type":"bundle","id":"bundle--1","spec_version":"2.0","objects":[
    {"type":"indicator","id":"indicator--20","created":"2017-01-01T00:00:00.000Z",
     "modified":"2017-01-01T00:00:00.000Z","labels":["malicious-activity"],
     "pattern":"[url:value = 'http://x.example/']","valid_from":"2017-01-01T00:00:00Z"},
    {"type":"indicator","id":"indicator--20b","labels":["malicious-activity"],
     "pattern":"[url:value = 'http://y.example/']"}]})";
  const Loaded loaded = Load(json);
  ASSERT_TRUE(loaded.stats.has_value());
  ASSERT_EQ(loaded.indicators.size(), 2u) << AllDiagnostics(loaded);
  EXPECT_EQ(loaded.indicators[0].labels, std::vector<std::string>{"malicious-activity"});
  EXPECT_FALSE(loaded.indicators[1].valid_from.has_value());
  EXPECT_FALSE(loaded.indicators[1].modified.has_value());
}

TEST(StixFeedTest, CreatedStandsInForAMissingModified) {
  const std::string json = Bundle({
      R"({"type":"indicator","id":"indicator--c","created":"2026-03-01T00:00:00Z",)"
      R"("pattern":"[url:value = 'http://new.example/']"})",
      IndicatorJson("indicator--c", "[url:value = 'http://old.example/']", "2026-02-01T00:00:00Z"),
      // modified before created is reported once for the whole feed, and still delivered.
      R"({"type":"indicator","id":"indicator--odd","created":"2026-03-01T00:00:00Z",)"
      R"("modified":"2026-01-01T00:00:00Z","pattern":"[url:value = 'http://odd.example/']"})",
  });
  const Loaded loaded = Load(json);
  ASSERT_TRUE(loaded.stats.has_value());
  ASSERT_EQ(loaded.indicators.size(), 2u);
  EXPECT_EQ(loaded.indicators[0].any_of[0][0].value, "http://new.example/");
  EXPECT_EQ(loaded.indicators[0].modified, 1772323200000);
  EXPECT_EQ(loaded.warnings, 1u);
  EXPECT_TRUE(HasDiagnostic(loaded,
                            "1 indicator(s) have \"modified\" earlier than \"created\" "
                            "(first: indicator--odd)"));
}

TEST(StixFeedTest, AcceptsBundlesEnvelopesArraysAndSingleObjects) {
  const std::string one = IndicatorJson("indicator--1", "[domain-name:value = 'a.example']");
  const std::string two = IndicatorJson("indicator--2", "[domain-name:value = 'b.example']");
  const std::vector<std::pair<std::string, uint64_t>> cases = {
      {Bundle({one, two}), 2},
      {"{\"more\":false,\"objects\":[" + one + "," + two + "]}", 2},  // TAXII envelope
      {"[" + one + "," + two + "]", 2},
      {one, 1},
      {"\xEF\xBB\xBF  " + one + "\n", 1},  // byte order mark
      {R"({"more":false})", 0},            // empty TAXII envelope
      {R"({"type":"bundle","id":"bundle--e"})", 0},
      {R"({"type":"bundle","id":"bundle--e","objects":[]})", 0},
      {"[]", 0},
  };
  for (const auto& [json, expected] : cases) {
    const Loaded loaded = Load(json);
    ASSERT_TRUE(loaded.stats.has_value()) << json << "\n" << loaded.stats.error().ToString();
    EXPECT_EQ(loaded.stats->indicators, expected) << json;
    EXPECT_TRUE(loaded.stats->complete) << json;
    EXPECT_TRUE(loaded.diagnostics.empty()) << json << "\n" << AllDiagnostics(loaded);
  }
}

TEST(StixFeedTest, FailsOnInputThatIsNotStixJson) {
  for (const char* json : {"", "not json at all", "42", "\"text\"", "{\"objects\": 5}",
                           "{\"type\": \"indicator\", \"id\": "}) {
    const Loaded loaded = Load(json);
    EXPECT_FALSE(loaded.stats.has_value()) << json;
    if (!loaded.stats) {
      EXPECT_EQ(loaded.stats.error().where, "feed.json");
    }
  }
}

TEST(StixFeedTest, TruncatedBundleDeliversEverythingBeforeTheBreak) {
  std::vector<std::string> objects;
  for (int i = 0; i < 40; ++i) {
    // Braces, brackets and quotes inside strings must not confuse the fallback scanner.
    objects.push_back(IndicatorJson("indicator--" + std::to_string(i),
                                    "[domain-name:value = 'd" + std::to_string(i) + ".example']",
                                    "2026-01-01T00:00:00Z",
                                    R"("description":"tricky \"}]{[ text \\\" still inside")"));
  }
  const std::string json = Bundle(objects);
  const size_t array_start = json.find('[') + 1;
  // Where each object ends in the full text.
  std::vector<size_t> ends;
  for (size_t pos = json.find("{\"type\":\"indicator\""); pos != std::string::npos;
       pos = json.find("{\"type\":\"indicator\"", pos + 1)) {
    ends.push_back(json.find("\"}", json.find("still inside", pos)) + 2);
  }
  ASSERT_EQ(ends.size(), 40u);
  for (size_t cut = array_start; cut < json.size(); cut += 7) {
    const Loaded loaded = Load(std::string_view(json).substr(0, cut));
    ASSERT_TRUE(loaded.stats.has_value()) << cut;
    const uint64_t complete_objects =
        std::count_if(ends.begin(), ends.end(), [&](size_t end) { return end <= cut; });
    EXPECT_EQ(loaded.stats->indicators, complete_objects) << "cut at " << cut;
    EXPECT_EQ(loaded.stats->objects, complete_objects) << "cut at " << cut;
    EXPECT_FALSE(loaded.stats->complete) << cut;
    EXPECT_EQ(loaded.unreadable, 1u) << cut;
    EXPECT_EQ(loaded.warnings, 0u) << cut << "\n" << AllDiagnostics(loaded);
  }
  // The whole text still loads completely.
  const Loaded whole = Load(json);
  EXPECT_TRUE(whole.stats->complete);
  EXPECT_EQ(whole.stats->indicators, 40u);
  EXPECT_EQ(whole.unreadable, 0u);
}

TEST(StixFeedTest, BrokenObjectInTheMiddleIsSkippedAndTheRestRead) {
  const std::string json = Bundle({
      IndicatorJson("indicator--before", "[domain-name:value = 'a.example']"),
      R"({"type":"indicator","id": indicator--unquoted, "pattern":"[x:y = 'z']"})",
      IndicatorJson("indicator--after", "[domain-name:value = 'b.example']"),
      IndicatorJson("indicator--v", "[domain-name:value = 'old.example']", "2026-01-01T00:00:00Z"),
      IndicatorJson("indicator--v", "[domain-name:value = 'new.example']", "2026-02-01T00:00:00Z"),
  });
  const Loaded loaded = Load(json);
  ASSERT_TRUE(loaded.stats.has_value());
  EXPECT_FALSE(loaded.stats->complete);
  EXPECT_EQ(loaded.stats->objects, 5u);
  EXPECT_EQ(loaded.stats->skipped, 1u);
  EXPECT_EQ(loaded.stats->ignored, 1u);  // the older version of indicator--v
  ASSERT_EQ(loaded.indicators.size(), 3u);
  EXPECT_EQ(loaded.indicators[1].id, "indicator--after");
  EXPECT_EQ(Find(loaded, "indicator--v")->any_of[0][0].value, "new.example");
  EXPECT_EQ(loaded.unreadable, 1u);
  EXPECT_TRUE(HasDiagnostic(loaded, "objects[1]", "not valid JSON"));
}

TEST(StixFeedTest, DamagedInputNeverCrashes) {
  // Byte flips and deletions anywhere: the loader reports, it does not crash or hang.
  const std::string json = Bundle({
      IndicatorJson("indicator--1", "[domain-name:value = 'a.example' OR file:hashes.MD5 = 'x']",
                    "2026-01-01T00:00:00Z", R"("object_marking_refs":["m"],"labels":["l"])"),
      R"({"type":"marking-definition","id":"m","definition_type":"tlp",)"
      R"("definition":{"tlp":"red"}})",
      IndicatorJson("indicator--2", "[network-traffic:dst_ref.value = '10.0.0.1']"),
  });
  const std::string specials = "{}[]\",:\\' 0a\x80";
  uint32_t state = 12345;
  const auto next = [&] { return state = state * 1103515245u + 12345u; };
  for (int round = 0; round < 3000; ++round) {
    std::string damaged = json;
    for (int edits = 1 + next() % 3; edits > 0; --edits) {
      const size_t pos = next() % damaged.size();
      if (next() % 2 == 0) {
        damaged[pos] = specials[next() % specials.size()];
      } else {
        damaged.erase(pos, 1 + next() % 8);
      }
    }
    const Loaded loaded = Load(damaged);
    if (loaded.stats) {
      EXPECT_LE(loaded.stats->indicators, 2u);
      EXPECT_LE(loaded.stats->indicators + loaded.stats->skipped + loaded.stats->ignored,
                loaded.stats->objects);
    }
  }
}

TEST(StixFeedTest, SharedInvalidIndicatorBundle) {
  const std::string json = ReadFile(Shared("data/stix/examples/invalid-indicator-bundle.json"));
  if (json.empty()) GTEST_SKIP() << "shared invalid-indicator-bundle.json not found";
  const Loaded loaded = Load(json);
  ASSERT_TRUE(loaded.stats.has_value());
  EXPECT_EQ(loaded.stats->objects, 1u);
  EXPECT_EQ(loaded.stats->indicators, 0u);
  EXPECT_EQ(loaded.stats->skipped, 1u);
  EXPECT_TRUE(loaded.stats->complete);
  EXPECT_TRUE(HasDiagnostic(loaded, "indicator--bad", "ipv4-addr:value needs a string value"))
      << AllDiagnostics(loaded);
}

TEST(StixFeedTest, SharedOasisExamples) {
  struct Expected {
    std::string file;
    uint64_t objects, indicators, skipped, ignored;
  };
  const std::vector<Expected> files = {
      {"indicator-for-c2-ip-address.json", 1, 1, 0, 0},
      {"indicator-to-campaign-relationship.json", 3, 1, 0, 2},
      {"indicators-for-C2-with-COA.json", 8, 2, 0, 6},
      {"infrastructure.json", 10, 0, 0, 10},
      {"interop-objectmarking-test.json", 1, 0, 0, 1},
      // Subject and attachment-name regexes cannot be looked up.
      {"malicious-email-indicator-with-attachment.json", 6, 0, 2, 4},
      // The two x509-certificate issuer/serial patterns cannot be looked up.
      {"threat-reports/apt1.json", 76, 10, 2, 64},
      {"threat-reports/poisonivy.json", 155, 25, 0, 130},
  };
  const fs::path dir = Shared("data/stix/examples/oasis-cti-stix2-json-schemas");
  if (!fs::exists(dir)) GTEST_SKIP() << "shared STIX examples not found: " << dir;
  for (const Expected& expected : files) {
    const Loaded loaded = Load(ReadFile(dir / expected.file));
    ASSERT_TRUE(loaded.stats.has_value()) << expected.file;
    EXPECT_EQ(loaded.stats->objects, expected.objects) << expected.file;
    EXPECT_EQ(loaded.stats->indicators, expected.indicators) << expected.file;
    EXPECT_EQ(loaded.stats->skipped, expected.skipped) << expected.file;
    EXPECT_EQ(loaded.stats->ignored, expected.ignored) << expected.file;
    EXPECT_TRUE(loaded.stats->complete) << expected.file;
    EXPECT_EQ(loaded.warnings, expected.skipped) << expected.file << "\n" << AllDiagnostics(loaded);
  }
  const Loaded apt1 = Load(ReadFile(dir / "threat-reports/apt1.json"));
  EXPECT_TRUE(HasDiagnostic(apt1, "x509-certificate:issuer"));
  const Indicator* cidr = nullptr;
  for (const Indicator& indicator : apt1.indicators) {
    if (indicator.pattern == "[ipv4-addr:value = '223.166.0.0/15']") cidr = &indicator;
  }
  ASSERT_NE(cidr, nullptr);
  EXPECT_EQ(cidr->any_of[0][0].value, "223.166.0.0/15");
  EXPECT_TRUE(cidr->valid_from.has_value());
}

TEST(StixFeedTest, AttackBundleImportsAsZeroIndicators) {
  const std::string json = ReadFile(Shared("data/attack/enterprise-attack.json"));
  if (json.empty()) GTEST_SKIP() << "shared ATT&CK bundle not found";
  const Loaded loaded = Load(json);
  ASSERT_TRUE(loaded.stats.has_value());
  EXPECT_GT(loaded.stats->objects, 10000u);
  EXPECT_EQ(loaded.stats->indicators, 0u);
  EXPECT_EQ(loaded.stats->ignored, loaded.stats->objects);
  EXPECT_TRUE(loaded.stats->complete);
  EXPECT_TRUE(loaded.diagnostics.empty()) << AllDiagnostics(loaded);

  // Cut in the middle, the fallback reads the objects before the cut one by one.
  const Loaded half = Load(std::string_view(json).substr(0, json.size() / 2));
  ASSERT_TRUE(half.stats.has_value());
  EXPECT_FALSE(half.stats->complete);
  EXPECT_GT(half.stats->objects, loaded.stats->objects / 4);
  EXPECT_LT(half.stats->objects, loaded.stats->objects);
  EXPECT_EQ(half.stats->ignored, half.stats->objects);
  EXPECT_EQ(half.unreadable, 1u);
  EXPECT_EQ(half.warnings, 0u) << AllDiagnostics(half);
}

TEST(StixFeedTest, LargeBundleWithVersions) {
  // 100k indicators, every tenth id in two versions: the dedup map and the DOM must scale.
  std::string json = R"({"type":"bundle","id":"bundle--big","objects":[)";
  constexpr int COUNT = 100000;
  for (int i = 0; i < COUNT; ++i) {
    if (i > 0) json += ",";
    const int id = i % 10 == 9 ? i - 1 : i;  // ids 8, 18, ... appear twice; the second is later
    json += IndicatorJson("indicator--" + std::to_string(id),
                          "[ipv4-addr:value = '10." + std::to_string(i / 65536) + "." +
                              std::to_string(i / 256 % 256) + "." + std::to_string(i % 256) + "']",
                          i % 10 == 9 ? "2026-02-01T00:00:00Z" : "2026-01-01T00:00:00Z");
  }
  json += "]}";
  uint64_t delivered = 0;
  uint64_t second_versions = 0;
  Diagnostics diagnostics;
  auto stats = LoadStixBundle(
      json, "big", "big.json",
      [&](Indicator&& indicator) {
        ++delivered;
        if (indicator.modified == 1769904000000) ++second_versions;  // 2026-02-01
      },
      diagnostics);
  ASSERT_TRUE(stats.has_value());
  EXPECT_EQ(stats->objects, static_cast<uint64_t>(COUNT));
  EXPECT_EQ(delivered, COUNT - COUNT / 10u);
  EXPECT_EQ(second_versions, COUNT / 10u);
  EXPECT_EQ(stats->ignored, COUNT / 10u);
}

}  // namespace
}  // namespace yagura::intel

namespace yagura::intel {
namespace {

// Bundles above 16 MiB are read object by object; the outcome must be that of the whole-document
// parse: everything delivered and complete when well formed, a reported break otherwise.
TEST(StixFeedTest, LargeBundlesAreReadObjectByObject) {
  std::string json = R"({"type":"bundle","id":"bundle--big","objects":[)";
  constexpr int COUNT = 70000;
  const std::string padding(180, 'x');
  for (int i = 0; i < COUNT; ++i) {
    if (i > 0) json += ",\n";
    json += IndicatorJson("indicator--" + std::to_string(i),
                          "[domain-name:value = 'host" + std::to_string(i) + ".example']",
                          "2026-01-01T00:00:00.000Z", R"("description":")" + padding + "\"");
  }
  json += "], \"x_note\": {\"a\": [1, 2]}}\n";
  ASSERT_GT(json.size(), size_t{16} << 20);
  uint64_t delivered = 0;
  Diagnostics diagnostics;
  auto stats = LoadStixBundle(json, "big", "big.json", [&](Indicator&&) { ++delivered; },
                              diagnostics);
  ASSERT_TRUE(stats.has_value());
  EXPECT_TRUE(stats->complete);
  EXPECT_EQ(delivered, static_cast<uint64_t>(COUNT));
  EXPECT_EQ(diagnostics.Kept().size(), 0u);

  // Garbage after the array: not complete, though every object before it is delivered.
  std::string broken = json.substr(0, json.size() - 2) + " trailing";
  delivered = 0;
  Diagnostics broken_diagnostics;
  stats = LoadStixBundle(broken, "big", "big.json", [&](Indicator&&) { ++delivered; },
                         broken_diagnostics);
  ASSERT_TRUE(stats.has_value());
  EXPECT_FALSE(stats->complete);
  EXPECT_EQ(delivered, static_cast<uint64_t>(COUNT));
}

}  // namespace
}  // namespace yagura::intel

#include "event/parser.hpp"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdlib>
#include <map>
#include <new>
#include <regex>
#include <set>

#include "event/evtx_xml.hpp"
#include "event/flatten.hpp"
#include "input_test_util.hpp"

// Counts heap allocations so a test can prove that parsing allocates nothing once warm.
// AddressSanitizer brings its own operator new, so the count is off there.
namespace {
std::atomic<uint64_t> g_allocations{0};
}
#if defined(__SANITIZE_ADDRESS__)
constexpr bool COUNTING_ALLOCATIONS = false;
#else
constexpr bool COUNTING_ALLOCATIONS = true;
// (GCC cannot see that the replaced operator new pairs with free.)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
#endif

namespace yagura::event {
namespace {

namespace fs = std::filesystem;
using testing::ParserFixture;
using testing::ReadAll;
using testing::ReadWholeFile;
using testing::SharedDir;
using Strings = std::vector<std::string>;

// --- JSON ----------------------------------------------------------------------------------

TEST(JsonParser, FlattensNestedKeysArraysAndScalars) {
  ParserFixture p({"a.b.c", "a.b", "arr", "objs.name", "n", "t", "z", "esc", "id.orig_h", "e"});
  ASSERT_TRUE(p.Parse(R"({"a": {"b": {"c": "deep", "d": 1}}, "arr": [1, "two", true, null, [3.5]],
      "objs": [{"name": "x"}, {"other": 1, "name": "y"}], "n": -1.5e3, "t": false, "z": null,
      "esc": "C:\\Windows\\\"q\" \u00e9\n", "id.orig_h": "10.0.0.1", "e": "",
      "unneeded": {"deep": [1, 2, {"x": "y"}]}})"));
  EXPECT_EQ(p.Value("a.b.c"), "deep");
  const FieldValue* object = p.First("a.b");
  ASSERT_NE(object, nullptr);
  EXPECT_EQ(object->type, ValueType::kObject);
  EXPECT_EQ(object->text, R"({"c": "deep", "d": 1})");
  EXPECT_EQ(p.Values("arr"), (Strings{"1", "two", "true", "", "3.5"}));
  std::vector<ValueType> types;
  for (const FieldValue& value : p.event().Values(p.catalog().Find("arr"))) types.push_back(value.type);
  EXPECT_EQ(types, (std::vector<ValueType>{ValueType::kNumber, ValueType::kString, ValueType::kBool,
                                           ValueType::kNull, ValueType::kNumber}));
  EXPECT_EQ(p.Values("objs.name"), (Strings{"x", "y"}));
  EXPECT_EQ(p.Value("n"), "-1.5e3");
  EXPECT_EQ(p.First("n")->type, ValueType::kNumber);
  EXPECT_EQ(p.Value("t"), "false");
  EXPECT_EQ(p.First("t")->type, ValueType::kBool);
  EXPECT_EQ(p.First("z")->type, ValueType::kNull);
  EXPECT_EQ(p.Value("esc"), "C:\\Windows\\\"q\" \xC3\xA9\n");
  EXPECT_EQ(p.Value("id.orig_h"), "10.0.0.1");
  EXPECT_EQ(p.Value("e"), "");
  EXPECT_TRUE(p.event().AllValues().empty());
}

// Keys are read without unescaping unless they hold an escape: short keys by one 32-byte
// compare, longer ones byte by byte. Every length around that window, with an escape (a quote,
// a backslash, a \u escape) before, at and after its edge, as a plain key and as an evtx_dump
// EventData name, gives the key's text.
TEST(JsonParser, KeysOfEveryLengthAroundTheirWindowAreRead) {
  struct Key {
    std::string name;     // as a field
    std::string written;  // as JSON writes it
  };
  std::vector<Key> keys;
  const std::string letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  for (size_t length = 1; length <= 70; ++length) {
    std::string plain;
    for (size_t i = 0; i < length; ++i) plain.push_back(letters[(i * 7 + length) % letters.size()]);
    keys.push_back({plain, plain});
    for (size_t at : {size_t{0}, length / 2, size_t{30}, size_t{31}, size_t{32}, length - 1}) {
      if (at >= length) continue;
      const std::pair<char, std::string> escapes[] = {{'"', "\\\""}, {'\\', "\\\\"}, {'Q', "\\u0051"}};
      for (const auto& [character, escape] : escapes) {
        Key key{plain, plain.substr(0, at) + escape + plain.substr(at + 1)};
        key.name[at] = character;
        keys.push_back(key);
      }
    }
  }
  std::vector<std::string> names;
  for (const Key& key : keys) names.push_back(key.name);
  ParserFixture p(names);
  for (size_t i = 0; i < keys.size(); ++i) {
    const Key& key = keys[i];
    const std::string value = "v" + std::to_string(i);
    ASSERT_TRUE(p.Parse("{\"" + key.written + "\":\"" + value + "\",\"after\":1}")) << key.written;
    EXPECT_EQ(p.Values(key.name), Strings{value}) << key.written;
    ASSERT_TRUE(p.Parse("{\"Event\":{\"EventData\":{\"" + key.written + "\": \"" + value +
                        "\"}}}"))
        << key.written;
    EXPECT_EQ(p.Values(key.name), Strings{value}) << "EventData " << key.written;
  }
}

TEST(JsonParser, LiteralDottedKeysAndNestedObjectsGiveTheSameName) {
  ParserFixture p({"id.orig_h", "id.resp_p"});
  ASSERT_TRUE(p.Parse(R"({"id.orig_h": "10.0.0.1", "id": {"resp_p": 53}})"));
  EXPECT_EQ(p.Value("id.orig_h"), "10.0.0.1");
  EXPECT_EQ(p.Value("id.resp_p"), "53");
  ASSERT_TRUE(p.Parse(R"({"id": {"orig_h": "10.0.0.2"}, "id.resp_p": 80})"));
  EXPECT_EQ(p.Value("id.orig_h"), "10.0.0.2");
  EXPECT_EQ(p.Value("id.resp_p"), "80");
}

TEST(JsonParser, OnlyInternedFieldsAreStoredUnlessAllValuesAreWanted) {
  ParserFixture some({"keep"});
  ASSERT_TRUE(some.Parse(R"({"keep": "k", "drop": "d", "nested": {"x": 1}})"));
  EXPECT_EQ(some.Value("keep"), "k");
  EXPECT_EQ(some.catalog().Find("drop"), NO_FIELD);
  EXPECT_TRUE(some.event().AllValues().empty());

  ParserFixture all({"keep"}, true);
  ASSERT_TRUE(all.Parse(R"({"keep": "k", "drop": "d", "nested": {"x": [1, true, null]}, "o": {}})"));
  Strings values;
  for (const FieldValue& value : all.event().AllValues()) values.emplace_back(value.text);
  EXPECT_EQ(values, (Strings{"k", "d", "1", "true"}));
}

TEST(JsonParser, EventMetadataAndTime) {
  ParserFixture p({"x"});
  ASSERT_TRUE(p.Parse(R"({"timestamp": "t3", "@timestamp": "t2", "x": 1})"));
  EXPECT_EQ(p.event().time, "t2");
  EXPECT_EQ(p.event().time_fallback, "t3");  // the next best, for a time that does not parse
  EXPECT_EQ(p.event().format, RecordFormat::kJson);
  EXPECT_EQ(p.event().record_number, 1u);
  EXPECT_EQ(p.event().raw.substr(0, 14), R"({"timestamp": )");
  ASSERT_TRUE(p.Parse(R"({"Event": {"System": {"TimeCreated": {"#attributes": {"SystemTime": "t0"}}},
                          "EventData": {"UtcTime": "t1"}}})"));
  EXPECT_EQ(p.event().time, "t0");
  EXPECT_EQ(p.event().time_fallback, "t1");
  // The better name coming last, and a third name: the two best are kept, whatever the order.
  ASSERT_TRUE(p.Parse(R"({"timestamp": "t3", "UtcTime": "t1", "@timestamp": "t2",
                          "TimeCreated_SystemTime": "t0"})"));
  EXPECT_EQ(p.event().time, "t0");
  EXPECT_EQ(p.event().time_fallback, "t1");
  ASSERT_TRUE(p.Parse(R"({"UtcTime": "t1", "x": 1})"));
  EXPECT_EQ(p.event().time, "t1");
  EXPECT_EQ(p.event().time_fallback, "");
  ASSERT_TRUE(p.Parse(R"({"x": 1})"));
  EXPECT_EQ(p.event().time, "");
  EXPECT_EQ(p.event().time_fallback, "");
}

TEST(JsonParser, BadJsonFailsWithAReason) {
  ParserFixture p({"a", "b"});
  for (std::string_view bad : {R"({"a": tru})", R"({"a": 1,, "b": 2})", R"({"a": "x" "b": 1})",
                               "{\"a\": \"caf\xC3\"}", "{\"a\": \"\xFF\xFE\"}", R"({"a": [1, 2})",
                               R"({"a": 1} {"b": 2})", R"({"a": 12abc})"}) {
    auto result = p.Parse(bad);
    EXPECT_FALSE(result.has_value()) << bad;
    if (!result) {
      EXPECT_NE(result.error().message.find("JSON"), std::string::npos) << bad;
    }
  }
  auto array = p.Parse("[1, 2]");
  ASSERT_FALSE(array.has_value());
  EXPECT_NE(array.error().message.find("not an object"), std::string::npos);
  // The parser recovers: the next record is fine.
  ASSERT_TRUE(p.Parse(R"({"a": "ok"})"));
  EXPECT_EQ(p.Value("a"), "ok");
}

TEST(JsonParser, FlatWindowsJsonFlattensAsIs) {
  fs::path dir = SharedDir() / "data/logs/otrf/empire_shell_net_local_users";
  YAGURA_REQUIRE_SHARED(dir);
  fs::path file = fs::directory_iterator(dir)->path();
  auto records = ReadAll(file.string());
  ASSERT_GT(records.records.size(), 10u);
  ParserFixture p({"EventID", "Channel", "Hostname", "Image", "tags"});
  ASSERT_TRUE(p.Parse(records.records[0]));
  EXPECT_EQ(p.Value("EventID"), "12");
  EXPECT_EQ(p.Value("Channel"), "Microsoft-Windows-Sysmon/Operational");
  EXPECT_EQ(p.Value("Hostname"), "WORKSTATION5.theshire.local");
  EXPECT_EQ(p.Value("Image"), "C:\\windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe");
  EXPECT_EQ(p.Values("tags"), (Strings{"mordorDataset"}));
  EXPECT_EQ(p.event().time, "2020-09-21 23:26:05.384");  // UtcTime before @timestamp
  EXPECT_TRUE(p.event().logsource.HasCategory("registry_event"));
  for (auto& record : records.records) EXPECT_TRUE(p.Parse(record).has_value());
}

// Winlogbeat's ECS JSON: the winlog object's keys take their Windows names, its event_data
// children their EventData names; its other keys, and the ECS fields around it, keep their
// paths. The JSON walk and simdjson agree.
TEST(JsonParser, WinlogbeatEventsReadAsWindowsEvents) {
  const std::string record =
      R"({"@timestamp":"2026-11-29T10:00:00.123Z","event":{"code":"4625","provider":"x"},)"
      R"("host":{"name":"dc01"},"winlog":{"channel":"Security","event_id":"4625",)"
      R"("provider_name":"Microsoft-Windows-Security-Auditing","computer_name":"DC01","record_id":52001,)"
      R"("task":"Logon","process":{"pid":652},"user_data":{"SubjectUserName":"svc"},)"
      R"("event_data":{"TargetUserName":"administrator","LogonType":"3","Threat Name":"x"}}})";
  for (bool walk : {true, false}) {
    SCOPED_TRACE(walk ? "walk" : "simdjson");
    ParserFixture p({"Channel", "EventID", "Provider_Name", "Computer", "EventRecordID",
                     "TargetUserName", "LogonType", "ThreatName", "SubjectUserName", "winlog.task",
                     "winlog.process.pid", "winlog.channel", "event.code", "host.name"});
    p.parser().SetJsonWalk(walk);
    ASSERT_TRUE(p.Parse(record));
    EXPECT_EQ(p.Value("Channel"), "Security");
    EXPECT_EQ(p.Value("EventID"), "4625");
    EXPECT_EQ(p.Value("Provider_Name"), "Microsoft-Windows-Security-Auditing");
    EXPECT_EQ(p.Value("Computer"), "DC01");
    EXPECT_EQ(p.Value("EventRecordID"), "52001");
    EXPECT_EQ(p.Value("TargetUserName"), "administrator");
    EXPECT_EQ(p.Value("LogonType"), "3");
    EXPECT_EQ(p.Value("ThreatName"), "x");
    EXPECT_EQ(p.Value("SubjectUserName"), "svc");
    EXPECT_EQ(p.Value("winlog.task"), "Logon");
    EXPECT_EQ(p.Value("winlog.process.pid"), "652");
    EXPECT_TRUE(p.Values("winlog.channel").empty()) << "the Windows name, not the path";
    EXPECT_EQ(p.Value("event.code"), "4625");
    EXPECT_EQ(p.Value("host.name"), "dc01");
    EXPECT_EQ(p.event().time, "2026-11-29T10:00:00.123Z");
    EXPECT_EQ(p.event().logsource.product, "windows");
    EXPECT_TRUE(p.event().logsource.HasService("security"));
  }
  // "winlog" below the top level is an ordinary path.
  ParserFixture nested({"a.winlog.channel", "Channel"});
  ASSERT_TRUE(nested.Parse(R"({"a":{"winlog":{"channel":"Security"}}})"));
  EXPECT_EQ(nested.Value("a.winlog.channel"), "Security");
  EXPECT_TRUE(nested.Values("Channel").empty());
}

// --- evtx_dump JSON ------------------------------------------------------------------------

TEST(EvtxDumpJson, SystemEventDataAndAttributes) {
  fs::path path = SharedDir() / "data/sigma/regression/jsonl/file_event_win_anydesk_artefact.jsonl";
  YAGURA_REQUIRE_SHARED(path);
  auto records = ReadAll(path.string());
  ASSERT_FALSE(records.records.empty());
  ParserFixture p({"EventID", "Channel", "Provider_Name", "Provider_Guid", "TimeCreated_SystemTime",
                   "Execution_ProcessID", "Execution_ThreadID", "Security_UserID", "Correlation",
                   "Image", "TargetFilename", "Computer", "Event.System.EventID", "System.EventID"});
  ASSERT_TRUE(p.Parse(records.records[0]));
  EXPECT_EQ(p.Value("EventID"), "11");
  EXPECT_EQ(p.First("EventID")->type, ValueType::kNumber);
  EXPECT_EQ(p.Value("Channel"), "Microsoft-Windows-Sysmon/Operational");
  EXPECT_EQ(p.Value("Provider_Name"), "Microsoft-Windows-Sysmon");
  EXPECT_EQ(p.Value("Provider_Guid"), "5770385F-C22A-43E0-BF4C-06F5698FFBD9");
  EXPECT_EQ(p.Value("TimeCreated_SystemTime"), "2025-10-24T23:34:34.640670Z");
  EXPECT_EQ(p.Value("Execution_ProcessID"), "3308");
  EXPECT_EQ(p.Value("Security_UserID"), "S-1-5-18");
  EXPECT_EQ(p.First("Correlation")->type, ValueType::kNull);
  EXPECT_EQ(p.Value("Image"), "C:\\Users\\Administrator\\Desktop\\AnyDesk.exe");
  EXPECT_EQ(p.Value("Computer"), "ar-win-dc.attackrange.local");
  EXPECT_TRUE(p.Values("Event.System.EventID").empty());  // Windows names, not paths
  EXPECT_EQ(p.event().time, "2025-10-24T23:34:34.640670Z");
  EXPECT_EQ(p.event().logsource.product, "windows");
  EXPECT_TRUE(p.event().logsource.HasCategory("file_event"));
}

TEST(EvtxDumpJson, SystemElementsNoFieldReadsAreSkippedOthersKept) {
  // Without Execution_* or Security_* among the wanted names those elements are passed over
  // whole; the event time (TimeCreated_SystemTime) and EventID's text are read all the same.
  const std::string record =
      R"({"Event": {"System": {"Provider": {"#attributes": {"Name": "P", "Guid": "G"}},)"
      R"( "EventID": {"#text": 4624, "#attributes": {"Qualifiers": 0}},)"
      R"( "TimeCreated": {"#attributes": {"SystemTime": "2026-01-02T03:04:05Z"}},)"
      R"( "Execution": {"#attributes": {"ProcessID": 4, "ThreadID": 8}},)"
      R"( "Security": {"#attributes": {"UserID": "S-1-5-18"}}, "Channel": "Security"},)"
      R"( "EventData": {"TargetUserName": "bob"}}})";
  ParserFixture lean({"EventID", "Provider_Name", "TargetUserName"});
  ASSERT_TRUE(lean.Parse(record));
  EXPECT_EQ(lean.Value("EventID"), "4624");
  EXPECT_EQ(lean.Value("Provider_Name"), "P");
  EXPECT_EQ(lean.Value("TargetUserName"), "bob");
  EXPECT_EQ(lean.event().time, "2026-01-02T03:04:05Z");
  ParserFixture wide({"EventID", "Execution_ThreadID", "Security_UserID"});
  ASSERT_TRUE(wide.Parse(record));
  EXPECT_EQ(wide.Value("Execution_ThreadID"), "8");
  EXPECT_EQ(wide.Value("Security_UserID"), "S-1-5-18");
}

TEST(EvtxDumpJson, SpacesTextAttributesUserDataAndUnnamedData) {
  ParserFixture p({"ThreatName", "EventID", "EventID_Qualifiers", "Data", "Operation", "User",
                   "Binary", "Event.RenderingInfo.Message", "Level", "Item_Kind"});
  ASSERT_TRUE(p.Parse(R"({"Event": {"#attributes": {"xmlns": "x"},
      "System": {"EventID": {"#attributes": {"Qualifiers": 16384}, "#text": 7036}, "Level": 4},
      "EventData": {"Threat Name": "EICAR", "Data": {"#text": ["a", "b"]}, "Binary": "00FF"},
      "RenderingInfo": {"Message": "hello", "Level": "Information"}}})"));
  EXPECT_EQ(p.Value("ThreatName"), "EICAR");
  EXPECT_EQ(p.Value("EventID"), "7036");
  EXPECT_EQ(p.Value("EventID_Qualifiers"), "16384");
  EXPECT_EQ(p.Values("Data"), (Strings{"a", "b"}));
  EXPECT_EQ(p.Value("Binary"), "00FF");
  EXPECT_EQ(p.Value("Event.RenderingInfo.Message"), "hello");
  EXPECT_EQ(p.Values("Level"), (Strings{"4"}));
  ASSERT_TRUE(p.Parse(R"({"Event": {"System": {"EventID": 5858},
      "UserData": {"Operation_ClientFailure": {"#attributes": {"xmlns": "y"},
          "Operation": "Start IWbemServices", "User": "dom\\u",
          "Item": {"#attributes": {"Kind": "k"}, "#text": "t"}}}}})"));
  EXPECT_EQ(p.Value("Operation"), "Start IWbemServices");
  EXPECT_EQ(p.Value("User"), "dom\\u");
  EXPECT_EQ(p.Value("Item_Kind"), "k");
}

// Names are answered from a small table of the names looked up last, two to a set: 1,500
// names, many more than it holds and many sharing a set, looked up in rounds of different
// orders, each answered with its own entry; names of no field are answered with none, and
// the event times' names with their rank whether or not a rule reads them.
TEST(NameTable, AnswersEveryNameWhateverWasLookedUpBefore) {
  FieldCatalog catalog;
  std::vector<std::string> names;
  for (int i = 0; i < 1500; ++i) {
    // Lengths 1 to 40 and names alike but for one byte, so that sets and lengths are shared.
    std::string name(static_cast<size_t>(1 + i % 40), static_cast<char>('a' + i % 7));
    name[name.size() / 2] = static_cast<char>('A' + (i / 40) % 26);
    name.front() = static_cast<char>('0' + i / 1040);
    names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  ASSERT_GT(names.size(), 1000u);
  for (size_t i = 0; i < names.size(); i += 2) catalog.Intern(names[i]);  // every other one
  catalog.Intern("UtcTime");
  NameTable table;
  table.Build(catalog);
  auto check = [&](size_t i) {
    const NameTable::Entry* entry = table.Find(names[i]);
    if (i % 2 != 0) {
      EXPECT_EQ(entry, nullptr) << names[i];
      return;
    }
    ASSERT_NE(entry, nullptr) << names[i];
    EXPECT_EQ(catalog.Name(entry->id), names[i]);
  };
  for (int round = 0; round < 3; ++round) {
    for (size_t i = 0; i < names.size(); ++i) check(i);
    for (size_t i = names.size(); i-- > 0;) check(i);
    for (size_t i = 0; i < names.size(); ++i) check((i * 7919) % names.size());
    for (size_t i = 0; i + 1 < names.size(); i += 2) {  // pairs, back and forth
      check(i);
      check(i + 1);
      check(i);
    }
  }
  const NameTable::Entry* utc = table.Find("UtcTime");
  ASSERT_NE(utc, nullptr);
  EXPECT_EQ(catalog.Name(utc->id), "UtcTime");
  EXPECT_EQ(utc->time_rank, TimeRank("UtcTime"));
  for (std::string_view time_name : {"TimeCreated_SystemTime", "@timestamp", "timestamp",
                                     "TimeCreated"}) {
    const NameTable::Entry* entry = table.Find(time_name);
    ASSERT_NE(entry, nullptr) << time_name;
    EXPECT_EQ(entry->id, NO_FIELD) << time_name;
    EXPECT_EQ(entry->time_rank, TimeRank(time_name)) << time_name;
    EXPECT_GE(entry->time_rank, 0) << time_name;
  }
  EXPECT_EQ(table.Find("timestamps"), nullptr);
  EXPECT_EQ(table.Find(""), nullptr);
}

// --- EVTX XML ------------------------------------------------------------------------------

TEST(EvtxXml, RealRecordFlattensToSigmaNames) {
  fs::path path = SharedDir() / "data/logs/evtx/Command and Control/DE_RDP_Tunneling_4624.evtx";
  YAGURA_REQUIRE_SHARED(path);
  auto records = ReadAll(path.string());
  ASSERT_EQ(records.records.size(), 18u);
  ParserFixture p({"EventID", "Channel", "Provider_Name", "Provider_Guid", "Execution_ProcessID",
                   "TimeCreated_SystemTime", "TargetUserName", "WorkstationName",
                   "LogonProcessName", "EventRecordID", "Correlation", "Security", "LogonType"});
  ASSERT_TRUE(p.Parse(records.records[0]));
  EXPECT_EQ(p.Value("EventID"), "4624");
  EXPECT_EQ(p.Value("Channel"), "Security");
  EXPECT_EQ(p.Value("Provider_Name"), "Microsoft-Windows-Security-Auditing");
  EXPECT_EQ(p.Value("Provider_Guid"), "{54849625-5478-4994-A5BA-3E3B0328C30D}");
  EXPECT_EQ(p.Value("Execution_ProcessID"), "480");
  EXPECT_EQ(p.Value("TimeCreated_SystemTime"), "2019-02-13T15:14:52.409734400Z");
  EXPECT_EQ(p.Value("TargetUserName"), "SYSTEM");
  EXPECT_EQ(p.Value("LogonProcessName"), "Advapi  ");
  EXPECT_EQ(p.Value("EventRecordID"), "5278");
  EXPECT_EQ(p.First("WorkstationName")->type, ValueType::kNull);
  EXPECT_EQ(p.First("Correlation")->type, ValueType::kNull);
  EXPECT_EQ(p.event().time, "2019-02-13T15:14:52.409734400Z");
  EXPECT_EQ(p.event().format, RecordFormat::kEvtx);
  EXPECT_TRUE(p.event().logsource.HasService("security"));
  for (auto& record : records.records) EXPECT_TRUE(p.Parse(record).has_value());
}

// The event time comes from TimeCreated_SystemTime whether or not a rule reads that field, and
// whether the record is read from its XML or from the renderer's outline (where names are
// resolved once, time ranks with them, and records of a shape go by a plan).
TEST(EvtxXml, EventTimesAreTheSameFromOutlinesAsFromXml) {
  fs::path path = SharedDir() / "data/logs/evtx/Command and Control/DE_RDP_Tunneling_4624.evtx";
  YAGURA_REQUIRE_SHARED(path);
  for (const bool field_wanted : {false, true}) {
    ParserFixture from_xml({field_wanted ? "TimeCreated_SystemTime" : "EventID"});
    ParserFixture from_outline({field_wanted ? "TimeCreated_SystemTime" : "EventID"});
    std::vector<std::string> xml_times;
    auto read = ReadAll(path.string());
    for (testing::SavedRecord& record : read.records) {
      ASSERT_TRUE(from_xml.Parse(record));
      xml_times.emplace_back(from_xml.event().time);
    }
    ASSERT_EQ(xml_times.size(), 18u);
    EXPECT_EQ(xml_times[0], "2019-02-13T15:14:52.409734400Z");
    std::vector<std::string> outline_times;
    Diagnostics diagnostics;
    RecordReader reader(InputFormat::kAuto, diagnostics);
    reader.set_evtx_outline_only(true);
    size_t outlines = 0;
    reader.ReadFile(InputFile{path.string()}, 0, [&](const Record& record) {
      outlines += record.outline.empty() ? 0 : 1;
      ASSERT_TRUE(from_outline.parser().Parse(record, from_outline.event()));
      outline_times.emplace_back(from_outline.event().time);
    });
    EXPECT_EQ(outlines, 18u);
    EXPECT_EQ(outline_times, xml_times) << (field_wanted ? "a rule field" : "no rule field");
  }
}

// Text is searched for '&' in blocks of 16 and words of 8 bytes, and byte by byte below 8:
// every length from 0 to 40, with an entity at every place or none, decodes as it should, and
// text without one comes back as itself.
TEST(EvtxXml, EntitiesAreFoundAtEveryPlaceOfEveryLength) {
  Arena arena;
  for (size_t length = 0; length <= 40; ++length) {
    const std::string plain(length, 'x');
    const std::string_view decoded_plain = DecodeXmlText(plain, arena);
    EXPECT_EQ(decoded_plain.data(), plain.data()) << length;
    EXPECT_EQ(decoded_plain, plain);
    // (The shortest reference is four bytes: its '&' can be anywhere up to length - 4.)
    for (size_t at = 0; at + 4 <= length; ++at) {
      std::string raw = plain;
      raw.replace(at, 4, "&lt;");
      std::string expected = plain;
      expected.replace(at, 4, "<");
      EXPECT_EQ(DecodeXmlText(raw, arena), expected) << "length " << length << " at " << at;
    }
  }
}

TEST(EvtxXml, EntitiesUnnamedDataUserDataAndOtherSections) {
  ParserFixture p({"Provider_Name", "EventID", "EventID_Qualifiers", "ThreatName", "Data",
                   "Binary", "SubjectUserName", "LogFileCleared_xmlns", "Event.RenderingInfo.Message",
                   "Param", "Event.RenderingInfo.Keywords.Keyword"});
  std::string xml = R"(<?xml version="1.0"?>
<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event">
  <System>
    <Provider Name="A&amp;B &#x41;&#66;"/>
    <EventID Qualifiers="16384">7036</EventID>
  </System>
  <EventData>
    <Data Name="Threat Name">x &lt;y&gt; &quot;z&quot;</Data>
    <Data>u1</Data>
    <Data>u2</Data>
    <Data><![CDATA[<raw>]]></Data>
    <Binary>00FF</Binary>
  </EventData>
  <UserData>
    <LogFileCleared xmlns="http://manifests.microsoft.com/win/2004/08/windows/eventlog">
      <SubjectUserName>admin01</SubjectUserName>
      <Nested><Param>deep</Param></Nested>
    </LogFileCleared>
  </UserData>
  <RenderingInfo Culture="en-US"><Message>hello</Message>
    <Keywords><Keyword>Audit Success</Keyword><Keyword>Classic</Keyword></Keywords>
  </RenderingInfo>
</Event>)";
  ASSERT_TRUE(p.Parse(xml, RecordFormat::kEvtx));
  EXPECT_EQ(p.Value("Provider_Name"), "A&B AB");
  EXPECT_EQ(p.Value("EventID"), "7036");
  EXPECT_EQ(p.Value("EventID_Qualifiers"), "16384");
  EXPECT_EQ(p.Value("ThreatName"), "x <y> \"z\"");
  EXPECT_EQ(p.Values("Data"), (Strings{"u1", "u2", "<raw>"}));
  EXPECT_EQ(p.Value("Binary"), "00FF");
  EXPECT_EQ(p.Value("SubjectUserName"), "admin01");
  EXPECT_EQ(p.Value("Param"), "deep");
  EXPECT_TRUE(p.Values("LogFileCleared_xmlns").empty());
  EXPECT_EQ(p.Value("Event.RenderingInfo.Message"), "hello");
  EXPECT_EQ(p.Values("Event.RenderingInfo.Keywords.Keyword"), (Strings{"Audit Success", "Classic"}));

  for (std::string_view bad : {"", "<Event><System></Event>", "<Event>", "not xml",
                               "<Event></Event><Event></Event>", "<Event><a b=\"1></Event>"}) {
    EXPECT_FALSE(p.Parse(bad, RecordFormat::kEvtx).has_value()) << bad;
  }
}

// What libevtx and evtx_dump render differently from the same binary record, neither being
// wrong: GUIDs with or without braces, SystemTime with 9 or 6 fraction digits, trailing blanks.
// Case is ignored as Sigma matching ignores it (one case's .json was edited: Explorer.exe).
Strings ToolNeutral(Strings values) {
  static const std::regex TIME("^(\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{6})\\d*Z$");
  for (std::string& value : values) {
    if (value.size() == 38 && value.front() == '{' && value.back() == '}') {
      value = value.substr(1, 36);
    }
    while (!value.empty() && value.back() == ' ') value.pop_back();
    value = std::regex_replace(value, TIME, "$1Z");
    for (char& c : value) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return values;
}

// The SigmaHQ regression cases hold each event twice: as .evtx and as evtx_dump's .json.
// Both paths must give the same fields and values.
TEST(EvtxXml, AgreesWithEvtxDumpJsonOnTheRegressionCases) {
  fs::path root = SharedDir() / "data/sigma/sigmahq/regression_data";
  YAGURA_REQUIRE_SHARED(root);
  class Collect final : public FieldEmitter {
   public:
    void Emit(std::string_view name, FieldValue) override { names.emplace(name); }
    std::set<std::string> names;
  };
  size_t cases = 0;
  size_t compared = 0;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    if (entry.path().extension() != ".evtx") continue;
    fs::path json = entry.path();
    json.replace_extension(".json");
    if (!fs::exists(json)) continue;
    auto evtx_records = ReadAll(entry.path().string());
    auto json_records = ReadAll(json.string());
    if (evtx_records.records.size() != json_records.records.size()) continue;  // a subset exported
    // Every name the XML yields.
    Collect collect;
    EvtxXmlFlattener flattener;
    Arena arena;
    for (auto& record : evtx_records.records) {
      ASSERT_TRUE(flattener.Flatten(record.data, collect, arena).has_value()) << entry.path();
    }
    collect.names.erase("Binary");  // evtx_dump renders binary data differently
    std::vector<std::string> names(collect.names.begin(), collect.names.end());
    ParserFixture xml_side(names);
    ParserFixture json_side(names);
    ++cases;
    for (size_t i = 0; i < evtx_records.records.size(); ++i) {
      ASSERT_TRUE(xml_side.Parse(evtx_records.records[i]).has_value());
      ASSERT_TRUE(json_side.Parse(json_records.records[i]).has_value()) << json;
      for (const auto& name : names) {
        EXPECT_EQ(ToolNeutral(xml_side.Values(name)), ToolNeutral(json_side.Values(name)))
            << name << " in " << entry.path() << " record " << i + 1;
        ++compared;
      }
      EXPECT_EQ(ToolNeutral({std::string(xml_side.event().time)}),
                ToolNeutral({std::string(json_side.event().time)}));
    }
  }
  EXPECT_GT(cases, 100u);
  EXPECT_GT(compared, 5000u);
}

// --- syslog --------------------------------------------------------------------------------

TEST(SyslogParser, Rfc5424WithStructuredData) {
  ParserFixture p({"priority", "facility", "severity", "version", "timestamp", "hostname", "host",
                   "appname", "program", "procid", "pid", "msgid", "sd.exampleSDID@32473.iut",
                   "sd.exampleSDID@32473.eventSource", "sd.origin.ip", "message"});
  ASSERT_TRUE(p.Parse(
      "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 "
      "[exampleSDID@32473 iut=\"3\" eventSource=\"App\\\"li\\]cation\"][origin ip=\"1.2.3.4\"] "
      "\xEF\xBB\xBF"
      "An application event log entry",
      RecordFormat::kSyslog));
  EXPECT_EQ(p.Value("priority"), "165");
  EXPECT_EQ(p.Value("facility"), "20");
  EXPECT_EQ(p.Value("severity"), "5");
  EXPECT_EQ(p.First("facility")->type, ValueType::kNumber);
  EXPECT_EQ(p.Value("version"), "1");
  EXPECT_EQ(p.Value("timestamp"), "2003-10-11T22:14:15.003Z");
  EXPECT_EQ(p.Value("hostname"), "mymachine.example.com");
  EXPECT_EQ(p.Value("host"), "mymachine.example.com");
  EXPECT_EQ(p.Value("appname"), "evntslog");
  EXPECT_TRUE(p.Values("procid").empty());  // "-"
  EXPECT_EQ(p.Value("msgid"), "ID47");
  EXPECT_EQ(p.Value("sd.exampleSDID@32473.iut"), "3");
  EXPECT_EQ(p.Value("sd.exampleSDID@32473.eventSource"), "App\"li]cation");
  EXPECT_EQ(p.Value("sd.origin.ip"), "1.2.3.4");
  EXPECT_EQ(p.Value("message"), "An application event log entry");
  EXPECT_EQ(p.event().time, "2003-10-11T22:14:15.003Z");
  EXPECT_EQ(p.event().logsource.product, "linux");

  ASSERT_TRUE(p.Parse("<34>1 - - su 1234 - - 'su root' failed", RecordFormat::kSyslog));
  EXPECT_EQ(p.Value("program"), "su");
  EXPECT_EQ(p.Value("pid"), "1234");
  EXPECT_EQ(p.Value("message"), "'su root' failed");
  EXPECT_TRUE(p.Values("timestamp").empty());
}

TEST(SyslogParser, Rfc3164WithAndWithoutPri) {
  ParserFixture p({"priority", "timestamp", "hostname", "appname", "program", "pid", "message"});
  ASSERT_TRUE(p.Parse("<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick",
                      RecordFormat::kSyslog));
  EXPECT_EQ(p.Value("priority"), "34");
  EXPECT_EQ(p.Value("timestamp"), "Oct 11 22:14:15");
  EXPECT_EQ(p.Value("hostname"), "mymachine");
  EXPECT_EQ(p.Value("program"), "su");
  EXPECT_TRUE(p.Values("pid").empty());
  EXPECT_EQ(p.Value("message"), "'su root' failed for lonvick");

  ASSERT_TRUE(p.Parse("Jun 14 15:16:01 combo sshd(pam_unix)[19939]: authentication failure; uid=0",
                      RecordFormat::kSyslog));
  EXPECT_TRUE(p.Values("priority").empty());
  EXPECT_EQ(p.Value("appname"), "sshd(pam_unix)");
  EXPECT_EQ(p.Value("program"), "sshd");
  EXPECT_EQ(p.Value("pid"), "19939");
  EXPECT_EQ(p.Value("message"), "authentication failure; uid=0");
  EXPECT_TRUE(p.event().logsource.HasService("sshd"));

  ASSERT_TRUE(p.Parse("Jul  1 09:00:55 host kernel: [  1.0] usb 1-1", RecordFormat::kSyslog));
  EXPECT_EQ(p.Value("timestamp"), "Jul  1 09:00:55");
  EXPECT_EQ(p.Value("program"), "kernel");
  EXPECT_EQ(p.Value("message"), "[  1.0] usb 1-1");

  ASSERT_TRUE(p.Parse("Jun 19 04:09:11 combo syslogd 1.4.1: restart.", RecordFormat::kSyslog));
  EXPECT_EQ(p.Value("program"), "syslogd");
  EXPECT_EQ(p.Value("message"), "1.4.1: restart.");

  ASSERT_TRUE(p.Parse("2021-03-04T05:06:07.123+01:00 web01 nginx[88]: started", RecordFormat::kSyslog));
  EXPECT_EQ(p.Value("timestamp"), "2021-03-04T05:06:07.123+01:00");
  EXPECT_EQ(p.Value("hostname"), "web01");
  EXPECT_EQ(p.Value("program"), "nginx");

  ASSERT_TRUE(p.Parse("<13>Feb  5 17:32:18 myprog[7]: no host here", RecordFormat::kSyslog));
  EXPECT_TRUE(p.Values("hostname").empty());
  EXPECT_EQ(p.Value("program"), "myprog");
  EXPECT_EQ(p.Value("pid"), "7");

  ASSERT_TRUE(p.Parse("not a syslog line at all", RecordFormat::kSyslog));
  EXPECT_EQ(p.Value("message"), "not a syslog line at all");
  EXPECT_TRUE(p.Values("timestamp").empty());
}

// Sysmon for Linux writes each event's XML as the message of a syslog line: the event's fields
// join the syslog header's, and its channel makes it a Sysmon event on Linux, so SigmaHQ's
// Linux process-creation rules see it.
TEST(SyslogParser, SysmonForLinuxEventsInTheMessageAreParsed) {
  const std::string xml =
      R"(<Event><System><Provider Name="Linux-Sysmon" Guid="{ff032593-a8d3-4f13-b0d6-01fc615a0f97}"/>)"
      R"(<EventID>1</EventID><TimeCreated SystemTime="2026-11-29T10:00:02.123456000Z"/>)"
      R"(<EventRecordID>5101</EventRecordID><Channel>Linux-Sysmon/Operational</Channel>)"
      R"(<Computer>web01</Computer><Security UserId="0"/></System><EventData>)"
      R"(<Data Name="Image">/usr/bin/base64</Data><Data Name="CommandLine">base64 -d /tmp/.x &amp;&amp; sh</Data>)"
      R"(<Data Name="User">www-data</Data></EventData></Event>)";
  const std::string line = "Nov 29 10:00:02 web01 sysmon: " + xml;
  ParserFixture p({"Image", "CommandLine", "User", "EventID", "Channel", "host", "program"});
  ASSERT_TRUE(p.Parse(line, RecordFormat::kSyslog));
  EXPECT_EQ(p.Value("Image"), "/usr/bin/base64");
  EXPECT_EQ(p.Value("CommandLine"), "base64 -d /tmp/.x && sh");
  EXPECT_EQ(p.Value("User"), "www-data");
  EXPECT_EQ(p.Value("EventID"), "1");
  EXPECT_EQ(p.Value("host"), "web01");
  EXPECT_EQ(p.Value("program"), "sysmon");
  const LogsourceClass& logsource = p.event().logsource;
  EXPECT_EQ(logsource.product, "linux");
  EXPECT_TRUE(logsource.HasService("sysmon"));
  EXPECT_TRUE(logsource.HasCategory("process_creation"));
  EXPECT_EQ(p.event().time, "2026-11-29T10:00:02.123456000Z")
      << "the event's own time, with its year";
  // The JSON of the record has both.
  const std::string json = p.ToJson(line, RecordFormat::kSyslog);
  EXPECT_NE(json.find(R"("program":"sysmon")"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("Image":"/usr/bin/base64")"), std::string::npos) << json;
  // XML that does not parse leaves the syslog line as it was.
  ASSERT_TRUE(
      p.Parse("Nov 29 10:00:02 web01 sysmon: <Event><System></Event>", RecordFormat::kSyslog));
  EXPECT_EQ(p.Value("program"), "sysmon");
  EXPECT_TRUE(p.Values("Image").empty());
  // A file of such lines is syslog, not XML.
  EXPECT_EQ(DetectInputFormat(line + "\n" + line + "\n", true), InputFormat::kSyslog);
}

TEST(SyslogParser, SshdMessagesYieldTheClientAddressAndUser) {
  ParserFixture p({"src_ip", "user", "message"});
  ASSERT_TRUE(p.Parse("Dec 10 06:55:48 LabSZ sshd[24200]: Failed password for invalid user webmaster "
                      "from 173.234.31.186 port 38926 ssh2",
                      RecordFormat::kSyslog));
  EXPECT_EQ(p.Value("src_ip"), "173.234.31.186");
  EXPECT_EQ(p.Value("user"), "webmaster");
  ASSERT_TRUE(p.Parse("<38>Dec 10 07:02:47 LabSZ sshd[24203]: Failed password for root from "
                      "2001:db8::7 port 38926 ssh2",
                      RecordFormat::kSyslog));
  EXPECT_EQ(p.Value("src_ip"), "2001:db8::7");
  EXPECT_EQ(p.Value("user"), "root");
  ASSERT_TRUE(p.Parse("Dec 10 06:55:46 LabSZ sshd[24200]: Invalid user webmaster from 173.234.31.186",
                      RecordFormat::kSyslog));
  EXPECT_EQ(p.Value("src_ip"), "173.234.31.186");
  EXPECT_EQ(p.Value("user"), "webmaster");
  ASSERT_TRUE(p.Parse("<38>1 2026-11-26T01:00:00Z web1 sshd 411 - - pam_unix(sshd:auth): "
                      "authentication failure; logname= uid=0 euid=0 tty=ssh ruser= "
                      "rhost=173.234.31.186  user=root",
                      RecordFormat::kSyslog));
  EXPECT_EQ(p.Value("src_ip"), "173.234.31.186");
  EXPECT_EQ(p.Value("user"), "root");
  ASSERT_TRUE(p.Parse("Dec 10 06:55:46 LabSZ sshd[24200]: Connection closed by 173.234.31.186 [preauth]",
                      RecordFormat::kSyslog));
  EXPECT_TRUE(p.Values("src_ip").empty());
  // Only sshd's messages are read this way.
  ASSERT_TRUE(p.Parse("Dec 10 06:55:46 LabSZ su[1]: Failed password for root from 10.0.0.1 port 1",
                      RecordFormat::kSyslog));
  EXPECT_TRUE(p.Values("src_ip").empty());
}

TEST(SyslogParser, SshdFieldsAreFoundWhereverTheMarkersStand) {
  // The markers are searched by their rarest byte: a marker at the very start or end of the
  // message, a message shorter than the marker, and the rare byte repeated before a match.
  ParserFixture p({"src_ip", "user", "message"});
  auto parse = [&](const std::string& message) {
    EXPECT_TRUE(p.Parse("Dec 10 06:55:48 LabSZ sshd[1]: " + message, RecordFormat::kSyslog));
  };
  parse("rhost=203.0.113.9");
  EXPECT_EQ(p.Value("src_ip"), "203.0.113.9");
  parse("x from 203.0.113.8");
  EXPECT_EQ(p.Value("src_ip"), "203.0.113.8");
  parse("rhost=");
  EXPECT_TRUE(p.Values("src_ip").empty());
  parse("rhost");
  EXPECT_TRUE(p.Values("src_ip").empty());
  parse("a== b=c rhoxt= rhost=203.0.113.7 user=alice");
  EXPECT_EQ(p.Value("src_ip"), "203.0.113.7");
  EXPECT_EQ(p.Value("user"), "alice");
  parse("Failed none for from 203.0.113.6");  // "from" is no user name
  EXPECT_TRUE(p.Values("user").empty());
  EXPECT_EQ(p.Value("src_ip"), "203.0.113.6");
  parse("x for invalid user");  // the marker needs its trailing space
  EXPECT_TRUE(p.Values("user").empty());
}

TEST(SyslogParser, SshdFieldsOfTheLoghubLogAreThoseTheRulesDescribe) {
  // Every line of the loghub OpenSSH log, against the rules of syslog.cpp written plainly.
  fs::path path = SharedDir() / "data/logs/loghub/OpenSSH_2k.log";
  YAGURA_REQUIRE_SHARED(path);
  auto word_after = [](std::string_view text, std::string_view marker) -> std::string_view {
    size_t at = text.find(marker);
    if (at == std::string_view::npos) return {};
    text.remove_prefix(at + marker.size());
    return text.substr(0, text.find(' '));
  };
  auto address = [](std::string_view text) {
    if (text.empty() || text.size() > 45) return false;
    bool separator = false;
    for (char c : text) {
      if (c == '.' || c == ':')
        separator = true;
      else if (!std::isxdigit(static_cast<unsigned char>(c)))
        return false;
    }
    return separator;
  };
  ParserFixture p({"src_ip", "user", "message"});
  auto records = ReadAll(path.string());
  ASSERT_EQ(records.records.size(), 2000u);
  size_t addresses = 0, users = 0;
  for (auto& record : records.records) {
    ASSERT_TRUE(p.Parse(record).has_value());
    const std::string message = p.Value("message");
    std::string_view ip = word_after(message, " from ");
    if (!address(ip)) ip = word_after(message, "rhost=");
    std::string_view user;
    if (size_t at = message.find(" for invalid user "); at != std::string::npos) {
      user = word_after(std::string_view(message).substr(at), " for invalid user ");
    } else if (message.starts_with("Invalid user ")) {
      user = word_after(message, "Invalid user ");
    } else if (message.starts_with("Failed ") || message.starts_with("Accepted ")) {
      user = word_after(message, " for ");
    } else {
      user = word_after(message, " user=");
    }
    if (address(ip)) {
      EXPECT_EQ(p.Value("src_ip"), ip) << message;
      ++addresses;
    } else {
      EXPECT_TRUE(p.Values("src_ip").empty()) << message;
    }
    if (!user.empty() && user != "from") {
      EXPECT_EQ(p.Value("user"), user) << message;
      ++users;
    } else {
      EXPECT_TRUE(p.Values("user").empty()) << message;
    }
  }
  EXPECT_EQ(addresses, 1613u);
  EXPECT_GT(users, 1000u);
}

TEST(SyslogParser, LoghubFilesParseEveryLine) {
  fs::path path = SharedDir() / "data/logs/loghub/OpenSSH_2k.log";
  YAGURA_REQUIRE_SHARED(path);
  ParserFixture p({"hostname", "program", "pid", "message", "timestamp"});
  auto records = ReadAll(path.string());
  ASSERT_EQ(records.records.size(), 2000u);
  for (auto& record : records.records) {
    ASSERT_TRUE(p.Parse(record).has_value());
    EXPECT_EQ(p.Value("hostname"), "LabSZ") << record.data;
    EXPECT_EQ(p.Value("program"), "sshd") << record.data;
    EXPECT_EQ(p.First("pid")->type, ValueType::kNumber) << record.data;
    EXPECT_FALSE(p.Value("message").empty()) << record.data;
    EXPECT_TRUE(p.event().logsource.HasService("sshd"));
  }
  auto linux_log = ReadAll((SharedDir() / "data/logs/loghub/Linux_2k.log").string());
  std::map<std::string, size_t> programs;
  for (auto& record : linux_log.records) {
    ASSERT_TRUE(p.Parse(record).has_value());
    EXPECT_EQ(p.Value("hostname"), "combo") << record.data;
    EXPECT_EQ(p.Value("timestamp").size(), 15u) << record.data;
    ++programs[p.Value("program")];
  }
  EXPECT_EQ(programs["ftpd"], 916u);
  EXPECT_EQ(programs["sshd"], 677u);
  EXPECT_EQ(programs["su"], 172u);
}

// --- web access ----------------------------------------------------------------------------

TEST(WebParser, CombinedCommonAndQuotedLines) {
  ParserFixture p({"c-ip", "cs-username", "timestamp", "date", "time", "cs-method", "cs-uri",
                   "c-uri", "cs-uri-stem", "cs-uri-query", "cs-version", "sc-status", "sc-bytes",
                   "cs-referer", "cs-user-agent", "c-useragent", "cs-host", "message"});
  ASSERT_TRUE(p.Parse(R"(10.1.2.3 - frank [10/Oct/2000:13:55:36 -0700] "GET /a/b.php?id=1' or 1=1-- HTTP/1.1" 200 2326 "http://ref/" "Mozilla/5.0 (X11) \"q\"")",
                      RecordFormat::kWebAccess));
  EXPECT_EQ(p.Value("c-ip"), "10.1.2.3");
  EXPECT_EQ(p.Value("cs-username"), "frank");
  EXPECT_EQ(p.Value("timestamp"), "10/Oct/2000:13:55:36 -0700");
  EXPECT_EQ(p.Value("date"), "10/Oct/2000");
  EXPECT_EQ(p.Value("time"), "13:55:36");
  EXPECT_EQ(p.Value("cs-method"), "GET");
  EXPECT_EQ(p.Value("cs-uri"), "/a/b.php?id=1' or 1=1--");
  EXPECT_EQ(p.Value("c-uri"), "/a/b.php?id=1' or 1=1--");
  EXPECT_EQ(p.Value("cs-uri-stem"), "/a/b.php");
  EXPECT_EQ(p.Value("cs-uri-query"), "id=1' or 1=1--");
  EXPECT_EQ(p.Value("cs-version"), "HTTP/1.1");
  EXPECT_EQ(p.Value("sc-status"), "200");
  EXPECT_EQ(p.First("sc-status")->type, ValueType::kNumber);
  EXPECT_EQ(p.Value("sc-bytes"), "2326");
  EXPECT_EQ(p.Value("cs-referer"), "http://ref/");
  EXPECT_EQ(p.Value("cs-user-agent"), "Mozilla/5.0 (X11) \\\"q\\\"");
  EXPECT_EQ(p.Value("c-useragent"), p.Value("cs-user-agent"));
  EXPECT_TRUE(p.Values("message").empty());
  EXPECT_EQ(p.event().time, "10/Oct/2000:13:55:36 -0700");
  EXPECT_TRUE(p.event().logsource.HasCategory("webserver"));

  ASSERT_TRUE(p.Parse(R"(192.168.105.83 - - [11/Jul/2018:08:41:28 +0300] "GET /manager HTTP/1.1" 302 -)",
                      RecordFormat::kWebAccess));
  EXPECT_EQ(p.Value("sc-status"), "302");
  EXPECT_EQ(p.Value("sc-bytes"), "-");
  EXPECT_TRUE(p.Values("cs-uri-query").empty());
  EXPECT_TRUE(p.Values("cs-user-agent").empty());

  ASSERT_TRUE(p.Parse(R"("192.168.4.25 - - [22/Dec/2016:16:30:52 +0300] "POST /index.php HTTP/1.1" 303 382 "http://192.168.4.161/DVWA" "w3af.org"")",
                      RecordFormat::kWebAccess));
  EXPECT_EQ(p.Value("c-ip"), "192.168.4.25");
  EXPECT_EQ(p.Value("cs-method"), "POST");
  EXPECT_EQ(p.Value("cs-user-agent"), "w3af.org");

  ASSERT_TRUE(p.Parse(R"(www.example.org:443 10.0.0.9 - - [01/Jan/2020:00:00:00 +0000] "-" 400 0 "-" "-")",
                      RecordFormat::kWebAccess));
  EXPECT_EQ(p.Value("cs-host"), "www.example.org");
  EXPECT_EQ(p.Value("c-ip"), "10.0.0.9");
  EXPECT_TRUE(p.Values("cs-method").empty());

  ASSERT_TRUE(p.Parse("garbage that is not an access line", RecordFormat::kWebAccess));
  EXPECT_EQ(p.Value("message"), "garbage that is not an access line");
}

TEST(WebParser, IisW3cLinesUseTheirFieldsDirective) {
  fs::path path = SharedDir() / "data/logs/web/sbousseaden_Tunna_rdp_tunnel_IIS.log";
  YAGURA_REQUIRE_SHARED(path);
  auto records = ReadAll(path.string());
  ASSERT_FALSE(records.records.empty());
  ParserFixture p({"date", "time", "s-ip", "cs-method", "cs-uri-stem", "cs-uri-query", "c-ip",
                   "cs(User-Agent)", "cs-user-agent", "c-useragent", "sc-status", "time-taken"});
  ASSERT_TRUE(p.Parse(records.records[0]));
  EXPECT_EQ(p.Value("date"), "2019-09-03");
  EXPECT_EQ(p.Value("time"), "10:13:36");
  EXPECT_EQ(p.Value("cs-method"), "GET");
  EXPECT_EQ(p.Value("cs-uri-stem"), "/erp/conn.aspx");
  EXPECT_EQ(p.Value("cs-uri-query"), "proxy&port=3389&ip=127.0.0.1");
  EXPECT_EQ(p.Value("c-ip"), "10.0.2.17");
  EXPECT_EQ(p.Value("cs(User-Agent)"), "-");
  EXPECT_EQ(p.Value("cs-user-agent"), "-");
  EXPECT_EQ(p.Value("sc-status"), "200");
  EXPECT_EQ(p.Value("time-taken"), "7");
  EXPECT_EQ(p.event().time, "2019-09-03 10:13:36");
  EXPECT_TRUE(p.event().logsource.HasCategory("webserver"));
  // Without a directive the IIS default field list applies.
  ASSERT_TRUE(p.Parse("2019-09-03 10:13:44 10.0.2.15 POST /erp/conn.aspx proxy 80 - 10.0.2.17 UA - 200 0 0 4",
                      RecordFormat::kWebAccess));
  EXPECT_EQ(p.Value("cs-method"), "POST");
  EXPECT_EQ(p.Value("c-useragent"), "UA");
  // A custom directive.
  ASSERT_TRUE(p.Parse("GET 10.9.9.9", RecordFormat::kWebAccess, "cs-method c-ip"));
  EXPECT_EQ(p.Value("c-ip"), "10.9.9.9");
}

TEST(TextParser, LineIsTheMessage) {
  ParserFixture p({"message"}, false, Logsource{"acme", "appliance", "fw"});
  ASSERT_TRUE(p.Parse("hello \x01 world", RecordFormat::kText));
  EXPECT_EQ(p.Value("message"), "hello \x01 world");
  EXPECT_EQ(p.event().format, RecordFormat::kText);
  // Not recognised from its content: the declared logsource applies.
  EXPECT_TRUE(p.event().logsource.recognised);
  EXPECT_EQ(p.event().logsource.product, "acme");
  EXPECT_TRUE(p.event().logsource.HasCategory("appliance"));
  EXPECT_TRUE(p.event().logsource.HasService("fw"));
  // Recognised content keeps its own class.
  ASSERT_TRUE(p.Parse(R"({"Channel": "Security", "EventID": 4624})"));
  EXPECT_EQ(p.event().logsource.product, "windows");
}

// --- ToJson --------------------------------------------------------------------------------

simdjson::dom::element ParseJson(simdjson::dom::parser& parser, const std::string& text) {
  simdjson::dom::element element;
  auto error = parser.parse(text).get(element);
  EXPECT_EQ(error, simdjson::SUCCESS) << text;
  return element;
}

TEST(ToJson, JsonRecordsVerbatimOthersAsObjects) {
  ParserFixture p({});
  simdjson::dom::parser dom;
  EXPECT_EQ(p.ToJson("  {\"a\": [1, 2]}\n"), "{\"a\": [1, 2]}");

  std::string syslog = p.ToJson("<13>Jun 14 15:16:01 combo sshd(pam_unix)[19939]: bad \"x\"",
                                RecordFormat::kSyslog);
  auto object = ParseJson(dom, syslog);
  EXPECT_EQ(std::string_view(object["program"]), "sshd");
  EXPECT_EQ(int64_t(object["pid"]), 19939);
  EXPECT_EQ(std::string_view(object["message"]), "bad \"x\"");

  std::string web = p.ToJson(R"(1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" 200 5)",
                             RecordFormat::kWebAccess);
  EXPECT_EQ(int64_t(ParseJson(dom, web)["sc-status"]), 200);

  std::string text = p.ToJson("ctl\x01 tab\t bad\xFF utf8 caf\xC3\xA9", RecordFormat::kText);
  EXPECT_EQ(std::string_view(ParseJson(dom, text)["message"]),
            "ctl\x01 tab\t bad\xEF\xBF\xBD utf8 caf\xC3\xA9");
}

TEST(ToJson, NumbersBeyondWhatParsersHoldBecomeStrings) {
  // A web line's status or size of 20 digits and more is digits all the same, and the grammar
  // of JSON allows it, but simdjson and others refuse integers beyond 64 bits: the record's
  // JSON would not be read back. Those are written as strings; ordinary numbers stay bare.
  ParserFixture p({});
  simdjson::dom::parser dom;
  const std::string huge(90, '6');
  std::string web = p.ToJson(
      "1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] \"GET / HTTP/1.0\" " + huge + " 123456789012345678",
      RecordFormat::kWebAccess);
  simdjson::dom::element object;
  ASSERT_EQ(dom.parse(web).get(object), simdjson::SUCCESS) << web;
  EXPECT_EQ(std::string_view(object["sc-status"]), huge);
  EXPECT_EQ(int64_t(object["sc-bytes"]), 123456789012345678);
  std::string w3c =
      p.ToJson("GET 0001234567890123456789", RecordFormat::kWebAccess, "cs-method sc-status");
  ASSERT_EQ(dom.parse(w3c).get(object), simdjson::SUCCESS) << w3c;
  EXPECT_EQ(std::string_view(object["sc-status"]), "0001234567890123456789");
}

TEST(ToJson, NumbersAreBareOnlyWithinWhatParsersHold) {
  const auto written = [](std::string_view number) {
    std::string out;
    AppendJsonValue(out, FieldValue{number, ValueType::kNumber});
    return out;
  };
  for (std::string_view bare :
       {"0", "-12", "123456789012345678", "1.5", "-0.25e-300", "2E+10", "12345.678e200"}) {
    EXPECT_EQ(written(bare), bare);
  }
  for (std::string_view quoted : {"1234567890123456789", "1e301", "12345678901234567.5e290",
                                  "1e-999", "007", "1.", "+1", "0x10"}) {
    EXPECT_EQ(written(quoted), "\"" + std::string(quoted) + "\"");
  }
}

TEST(ToJson, EvtxInEvtxDumpShape) {
  fs::path path = SharedDir() / "data/logs/evtx/Command and Control/DE_RDP_Tunneling_4624.evtx";
  YAGURA_REQUIRE_SHARED(path);
  auto records = ReadAll(path.string());
  ASSERT_FALSE(records.records.empty());
  ParserFixture p({"TargetUserName", "EventID", "Provider_Name", "WorkstationName"});
  std::string json = p.ToJson(records.records[0].data, RecordFormat::kEvtx);
  simdjson::dom::parser dom;
  auto event = ParseJson(dom, json)["Event"];
  EXPECT_EQ(int64_t(event["System"]["EventID"]), 4624);
  EXPECT_EQ(std::string_view(event["System"]["Provider"]["#attributes"]["Name"]),
            "Microsoft-Windows-Security-Auditing");
  EXPECT_EQ(std::string_view(event["EventData"]["TargetUserName"]), "SYSTEM");
  EXPECT_TRUE(event["EventData"]["WorkstationName"].is_null());
  EXPECT_EQ(std::string_view(event["#attributes"]["xmlns"]),
            "http://schemas.microsoft.com/win/2004/08/events/event");
  // And it flattens to what the XML flattens to.
  ParserFixture q({"TargetUserName", "EventID", "Provider_Name", "WorkstationName"});
  ASSERT_TRUE(q.Parse(json).has_value());
  ASSERT_TRUE(p.Parse(records.records[0]).has_value());
  for (const char* name : {"TargetUserName", "EventID", "Provider_Name"}) {
    EXPECT_EQ(q.Values(name), p.Values(name)) << name;
  }
  EXPECT_EQ(q.First("WorkstationName")->type, ValueType::kNull);

  std::string unnamed = p.ToJson("<Event><EventData><Data>a</Data><Data>b</Data></EventData></Event>",
                                 RecordFormat::kEvtx);
  EXPECT_EQ(unnamed, R"({"Event":{"EventData":{"Data":["a","b"]}}})");
}

TEST(ToJson, AReusedStringGetsWhatAFreshOneGets) {
  fs::path path = SharedDir() / "data/logs/evtx/Command and Control/DE_RDP_Tunneling_4624.evtx";
  YAGURA_REQUIRE_SHARED(path);
  auto records = ReadAll(path.string());
  ASSERT_FALSE(records.records.empty());
  ParserFixture p({});
  // Longest first, so that every later conversion is written over longer leftovers; the
  // unreadable XML fails halfway and falls back to its text.
  const std::vector<std::pair<std::string, RecordFormat>> inputs = {
      {records.records[0].data, RecordFormat::kEvtx},
      {"{\"a\": 1}", RecordFormat::kJson},
      {"<Event><System><EventID>4</EventID></System><Broken>", RecordFormat::kEvtx},
      {"<Event><EventData><Data>a</Data></EventData></Event>", RecordFormat::kEvtx},
      {"<13>Jun 14 15:16:01 combo sshd[1]: x", RecordFormat::kSyslog},
  };
  std::string reused;
  for (const auto& [data, format] : inputs) {
    p.ToJson(data, format, reused);
    EXPECT_EQ(reused, p.ToJson(data, format)) << data;
  }
  EXPECT_EQ(p.ToJson(inputs[2].first, RecordFormat::kEvtx).substr(0, 8), "{\"xml\":\"");
}

// --- allocation --------------------------------------------------------------------------

TEST(ParserAllocation, WarmParsesAllocateNothing) {
  if (!COUNTING_ALLOCATIONS) GTEST_SKIP() << "allocations are not counted under AddressSanitizer";
  fs::path jsonl = SharedDir() / "data/sigma/regression/jsonl/file_event_win_anydesk_artefact.jsonl";
  fs::path evtx = SharedDir() / "data/logs/evtx/Command and Control/DE_RDP_Tunneling_4624.evtx";
  YAGURA_REQUIRE_SHARED(jsonl);
  YAGURA_REQUIRE_SHARED(evtx);
  ParserFixture p({"Image", "TargetFilename", "User", "TargetUserName", "LogonType", "a.b", "a",
                   "sd.x.y", "message", "cs-uri-query", "Data", "id.orig_h"},
                  true);
  std::vector<std::pair<std::string, RecordFormat>> inputs;
  for (auto& r : ReadAll(jsonl.string()).records) inputs.emplace_back(r.data, RecordFormat::kJson);
  for (auto& r : ReadAll(evtx.string()).records) inputs.emplace_back(r.data, RecordFormat::kEvtx);
  inputs.emplace_back(R"({"a": {"b": "c\"d", "e": [1, 2]}, "id": {"orig_h": "x"}})", RecordFormat::kJson);
  inputs.emplace_back("<13>1 - h app - - [x y=\"a\\\"b\"] msg", RecordFormat::kSyslog);
  inputs.emplace_back("Jun 14 15:16:01 combo sshd(pam_unix)[19939]: x", RecordFormat::kSyslog);
  inputs.emplace_back(R"(1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET /?q=1 HTTP/1.0" 200 5 "-" "ua")",
                      RecordFormat::kWebAccess);
  inputs.emplace_back("plain text", RecordFormat::kText);
  for (int round = 0; round < 3; ++round) {
    for (auto& [data, format] : inputs) ASSERT_TRUE(p.Parse(data, format).has_value()) << data;
  }
  // Copy the inputs into padded buffers first: Parse() in the fixture copies, so use records.
  std::vector<std::string> padded;
  for (auto& [data, format] : inputs) padded.push_back(data + std::string(RECORD_PADDING, ' '));
  uint64_t before = g_allocations.load();
  for (int round = 0; round < 20; ++round) {
    for (size_t i = 0; i < inputs.size(); ++i) {
      Record record;
      record.data = std::string_view(padded[i].data(), inputs[i].first.size());
      record.format = inputs[i].second;
      ASSERT_TRUE(p.parser().Parse(record, p.event()).has_value());
    }
  }
  EXPECT_EQ(g_allocations.load() - before, 0u);
}

}  // namespace
}  // namespace yagura::event

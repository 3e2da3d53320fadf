#include "event/logsource_mapping.hpp"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <memory>
#include <fstream>
#include <random>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

namespace yagura::event {
namespace {

using Fields = std::initializer_list<std::pair<std::string_view, std::string_view>>;

class LogsourceMappingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto loaded = LogsourceMapping::LoadDefault();
    ASSERT_TRUE(loaded.has_value()) << loaded.error().ToString();
    mapping_ = std::make_unique<LogsourceMapping>(std::move(*loaded));
    // A rule would intern these; the mapping must cope with them interned before it.
    catalog_.Intern("CommandLine");
    mapping_->InternFields(catalog_);
  }

  FieldId Id(std::string_view name) {
    FieldId id = catalog_.Find(name);
    EXPECT_NE(id, NO_FIELD) << name << " is not interned";
    return id;
  }

  // Builds `event_` from fields as a parser would, then classifies it.
  const LogsourceClass& Classify(Fields fields, RecordFormat format = RecordFormat::kJson) {
    // Fields no rule reads are interned here, as a rule loaded later would.
    for (const auto& field : fields) catalog_.Intern(field.first);
    event_.Reset(catalog_.size());
    event_.format = format;
    for (const auto& [name, value] : fields) event_.Add(catalog_.Find(name), FieldValue{value});
    mapping_->Classify(event_);
    return event_.logsource;
  }

  std::vector<std::string_view> Values(std::string_view name) {
    std::vector<std::string_view> out;
    for (const FieldValue& value : event_.Values(catalog_.Find(name))) out.push_back(value.text);
    return out;
  }

  static Logsource Ls(std::string product, std::string category, std::string service = {}) {
    return Logsource{std::move(product), std::move(category), std::move(service)};
  }

  FieldCatalog catalog_;
  std::unique_ptr<LogsourceMapping> mapping_;
  Event event_;
};

TEST_F(LogsourceMappingTest, InternsTheFieldsItReadsAndWrites) {
  for (const char* name : {"Channel", "EventID", "Provider_Name", "appname", "program", "_path", "cs-method",
                           "NewProcessName", "Image", "ParentProcessName", "ParentImage"})
    EXPECT_NE(catalog_.Find(name), NO_FIELD) << name;
}

TEST_F(LogsourceMappingTest, SysmonProcessCreation) {
  const auto& ls = Classify({{"Channel", "Microsoft-Windows-Sysmon/Operational"}, {"EventID", "1"}});
  EXPECT_TRUE(ls.recognised);
  EXPECT_EQ(ls.product, "windows");
  EXPECT_TRUE(ls.HasService("sysmon"));
  EXPECT_TRUE(ls.HasCategory("process_creation"));
  EXPECT_EQ(ls.category_count, 1);
  EXPECT_TRUE(ls.Admits(Ls("windows", "process_creation")));
  EXPECT_TRUE(ls.Admits(Ls("windows", "", "sysmon")));
  EXPECT_TRUE(ls.Admits(Ls("", "")));
  EXPECT_FALSE(ls.Admits(Ls("linux", "process_creation")));
  EXPECT_FALSE(ls.Admits(Ls("windows", "image_load")));
  EXPECT_FALSE(ls.Admits(Ls("windows", "", "security")));
}

TEST_F(LogsourceMappingTest, SysmonRegistrySetIsAlsoRegistryEvent) {
  const auto& ls = Classify({{"Channel", "Microsoft-Windows-Sysmon/Operational"}, {"EventID", "13"}});
  EXPECT_TRUE(ls.HasCategory("registry_set"));
  EXPECT_TRUE(ls.HasCategory("registry_event"));
  EXPECT_FALSE(ls.HasCategory("registry_add"));
  const auto& twelve = Classify({{"Channel", "Microsoft-Windows-Sysmon/Operational"}, {"EventID", "12"}});
  EXPECT_TRUE(twelve.HasCategory("registry_add"));
  EXPECT_TRUE(twelve.HasCategory("registry_delete"));
  EXPECT_TRUE(twelve.HasCategory("registry_event"));
  EXPECT_FALSE(twelve.HasCategory("registry_set"));
}

TEST_F(LogsourceMappingTest, EverySysmonEventIdHasItsCategory) {
  const std::pair<const char*, const char*> expected[] = {
      {"1", "process_creation"},      {"2", "file_change"},          {"3", "network_connection"},
      {"4", "sysmon_status"},         {"5", "process_termination"},  {"6", "driver_load"},
      {"7", "image_load"},            {"8", "create_remote_thread"}, {"9", "raw_access_thread"},
      {"10", "process_access"},       {"11", "file_event"},          {"14", "registry_rename"},
      {"15", "create_stream_hash"},   {"16", "sysmon_status"},       {"17", "pipe_created"},
      {"18", "pipe_created"},         {"19", "wmi_event"},           {"20", "wmi_event"},
      {"21", "wmi_event"},            {"22", "dns_query"},           {"23", "file_delete"},
      {"24", "clipboard_capture"},    {"25", "process_tampering"},   {"26", "file_delete"},
      {"27", "file_block_executable"}, {"28", "file_block_shredding"}, {"29", "file_executable_detected"},
      {"255", "sysmon_error"}};
  for (const auto& [id, category] : expected) {
    const auto& ls = Classify({{"Channel", "Microsoft-Windows-Sysmon/Operational"}, {"EventID", id}});
    EXPECT_TRUE(ls.HasCategory(category)) << "EventID " << id;
    EXPECT_TRUE(ls.HasService("sysmon")) << "EventID " << id;
  }
}

TEST_F(LogsourceMappingTest, Security4688IsProcessCreationUnderSysmonNames) {
  const auto& ls = Classify({{"Channel", "Security"},
                             {"EventID", "4688"},
                             {"NewProcessName", "C:\\Windows\\System32\\cmd.exe"},
                             {"ParentProcessName", "C:\\Windows\\explorer.exe"}});
  EXPECT_TRUE(ls.Admits(Ls("windows", "process_creation")));
  EXPECT_TRUE(ls.Admits(Ls("windows", "", "security")));
  EXPECT_EQ(Values("Image"), std::vector<std::string_view>{"C:\\Windows\\System32\\cmd.exe"});
  EXPECT_EQ(Values("ParentImage"), std::vector<std::string_view>{"C:\\Windows\\explorer.exe"});
  EXPECT_EQ(Values("NewProcessName"), std::vector<std::string_view>{"C:\\Windows\\System32\\cmd.exe"});
}

TEST_F(LogsourceMappingTest, RenameNeverOverwritesAFieldTheEventHas) {
  Classify({{"Channel", "Security"}, {"EventID", "4688"}, {"NewProcessName", "new.exe"}, {"Image", "own.exe"}});
  EXPECT_EQ(Values("Image"), std::vector<std::string_view>{"own.exe"});
}

TEST_F(LogsourceMappingTest, OtherSecurityEventsAreNotProcessCreation) {
  const auto& ls = Classify({{"Channel", "Security"}, {"EventID", "4624"}, {"NewProcessName", "x.exe"}});
  EXPECT_TRUE(ls.Admits(Ls("windows", "", "security")));
  EXPECT_FALSE(ls.HasCategory("process_creation"));
  EXPECT_TRUE(Values("Image").empty());
}

TEST_F(LogsourceMappingTest, PowerShellChannelsAreCaseInsensitive) {
  const auto& ls = Classify({{"Channel", "microsoft-windows-POWERSHELL/operational"}, {"EventID", "4104"}});
  EXPECT_TRUE(ls.Admits(Ls("windows", "ps_script", "powershell")));
  const auto& module = Classify({{"Channel", "PowerShellCore/Operational"}, {"EventID", "4103"}});
  EXPECT_TRUE(module.Admits(Ls("windows", "ps_module", "powershell")));
  const auto& classic = Classify({{"Channel", "Windows PowerShell"}, {"EventID", "400"}});
  EXPECT_TRUE(classic.Admits(Ls("windows", "ps_classic_start", "powershell-classic")));
  EXPECT_FALSE(classic.Admits(Ls("windows", "", "powershell")));
  const auto& script = Classify({{"Channel", "Windows PowerShell"}, {"EventID", "800"}});
  EXPECT_TRUE(script.HasCategory("ps_classic_script"));
}

TEST_F(LogsourceMappingTest, ProviderIdentifiesEventsWithoutChannel) {
  const auto& ls = Classify({{"Provider_Name", "Microsoft-Windows-Sysmon"}, {"EventID", "10"}});
  EXPECT_TRUE(ls.Admits(Ls("windows", "process_access", "sysmon")));
  // OTRF's flat exports name the provider SourceName.
  const auto& flat = Classify({{"SourceName", "Microsoft-Windows-Security-Auditing"}, {"EventID", "4688"}});
  EXPECT_TRUE(flat.Admits(Ls("windows", "process_creation", "security")));
  // A provider shared by two logs gives both services.
  const auto& print = Classify({{"Provider_Name", "Microsoft-Windows-PrintService"}, {"EventID", "808"}});
  EXPECT_TRUE(print.HasService("printservice-admin"));
  EXPECT_TRUE(print.HasService("printservice-operational"));
  // A provider alone, without an event id, is not enough to call an event Windows.
  EXPECT_FALSE(Classify({{"Provider_Name", "SomethingElse"}}).recognised);
}

TEST_F(LogsourceMappingTest, ChannelWinsOverProvider) {
  const auto& ls = Classify({{"Channel", "System"}, {"Provider_Name", "Microsoft-Windows-Sysmon"}, {"EventID", "1"}});
  EXPECT_TRUE(ls.HasService("system"));
  EXPECT_FALSE(ls.HasService("sysmon"));
  EXPECT_FALSE(ls.HasCategory("process_creation"));
}

TEST_F(LogsourceMappingTest, UnknownChannelIsWindowsWithoutService) {
  const auto& ls = Classify({{"Channel", "Microsoft-Windows-Kernel-Boot/Operational"}, {"EventID", "27"}});
  EXPECT_TRUE(ls.recognised);
  EXPECT_EQ(ls.product, "windows");
  EXPECT_EQ(ls.service_count, 0);
  EXPECT_TRUE(ls.Admits(Ls("windows", "")));
  EXPECT_FALSE(ls.Admits(Ls("windows", "process_creation")));
}

TEST_F(LogsourceMappingTest, ServicesOfTheSigmaHqRules) {
  const std::pair<const char*, const char*> expected[] = {
      {"Microsoft-Windows-TaskScheduler/Operational", "taskscheduler"},
      {"Microsoft-Windows-WMI-Activity/Operational", "wmi"},
      {"Microsoft-Windows-Windows Defender/Operational", "windefend"},
      {"Microsoft-Windows-CodeIntegrity/Operational", "codeintegrity-operational"},
      {"Microsoft-Windows-Windows Firewall With Advanced Security/Firewall", "firewall-as"},
      {"Microsoft-Windows-Bits-Client/Operational", "bits-client"},
      {"Microsoft-Windows-NTLM/Operational", "ntlm"},
      {"Microsoft-Windows-AppLocker/EXE and DLL", "applocker"},
      {"MSExchange Management", "msexchange-management"},
      {"Microsoft-Windows-SmbClient/Security", "smbclient-security"},
      {"Microsoft-Windows-LDAP-Client/Debug", "ldap_debug"},
      {"Microsoft-Windows-LDAP-Client/Debug", "ldap"},
      {"Microsoft-Windows-LSA/Operational", "lsa-server"},
      {"Microsoft-Windows-AppXDeploymentServer/Operational", "appxdeployment-server"},
      {"Microsoft-Windows-Diagnosis-Scripted/Operational", "diagnosis-scripted"},
      {"Microsoft-Windows-Shell-Core/Operational", "shell-core"},
      {"OpenSSH/Operational", "openssh"},
      {"DNS Server", "dns-server"},
      {"Microsoft-Windows-DriverFrameworks-UserMode/Operational", "driver-framework"},
      {"Microsoft-Windows-PrintService/Admin", "printservice-admin"},
      {"Application", "application"},
      {"System", "system"},
  };
  for (const auto& [channel, service] : expected) {
    const auto& ls = Classify({{"Channel", channel}, {"EventID", "1"}});
    EXPECT_TRUE(ls.Admits(Ls("windows", "", service))) << channel;
  }
}

TEST_F(LogsourceMappingTest, AlternatingChannelsAreNotConfusedByTheCache) {
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(Classify({{"Channel", "Microsoft-Windows-Sysmon/Operational"}, {"EventID", "1"}})
                    .HasCategory("process_creation"));
    EXPECT_TRUE(Classify({{"Channel", "Microsoft-Windows-Sysmon/Operational"}, {"EventID", "3"}})
                    .HasCategory("network_connection"));
    EXPECT_TRUE(Classify({{"Provider_Name", "Microsoft-Windows-Sysmon/Operational"}, {"EventID", "3"}})
                    .service_count == 0);
    EXPECT_TRUE(Classify({{"Channel", "Security"}, {"EventID", "3"}}).HasService("security"));
  }
}

// Classes are remembered per channel (or provider) and event id in a small table: far more
// pairs than it has entries, met in different orders, each get the class they got first.
TEST_F(LogsourceMappingTest, ManyInterleavedChannelsKeepTheirClasses) {
  const char* channels[] = {"Microsoft-Windows-Sysmon/Operational", "Security", "System",
                            "Application", "Microsoft-Windows-PowerShell/Operational",
                            "Windows PowerShell", "Microsoft-Windows-TaskScheduler/Operational",
                            "Microsoft-Windows-Windows Defender/Operational", "DNS Server",
                            "Microsoft-Windows-Bits-Client/Operational", "Unknown/Channel"};
  struct Case {
    const char* field;
    const char* name;
    std::string event_id;
  };
  std::vector<Case> cases;
  for (const char* field : {"Channel", "Provider_Name"})
    for (const char* channel : channels)
      for (int id = 1; id <= 30; ++id) {
        cases.push_back({field, channel, std::to_string(id)});
        // Ids 128 apart share the table's entry for a name: the id must tell them apart.
        cases.push_back({field, channel, std::to_string(id + 128)});
      }
  for (const char* channel : channels) cases.push_back({"Channel", channel, "4688"});
  ASSERT_GT(cases.size(), 1200u);
  std::vector<std::string> first_classes;
  for (const Case& c : cases) {
    const auto& ls = Classify({{c.field, c.name}, {"EventID", c.event_id}});
    first_classes.push_back(std::to_string(ls.id) + "/" + std::to_string(ls.recognised));
  }
  std::mt19937 random(7);
  std::vector<size_t> order(cases.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  for (int round = 0; round < 3; ++round) {
    std::shuffle(order.begin(), order.end(), random);
    for (size_t i : order) {
      const auto& ls = Classify({{cases[i].field, cases[i].name}, {"EventID", cases[i].event_id}});
      ASSERT_EQ(std::to_string(ls.id) + "/" + std::to_string(ls.recognised), first_classes[i])
          << cases[i].field << " " << cases[i].name << " " << cases[i].event_id;
    }
  }
}

TEST_F(LogsourceMappingTest, SyslogProgramGivesTheService) {
  const auto& ls = Classify({{"appname", "sshd"}, {"message", "Failed password for root"}}, RecordFormat::kSyslog);
  EXPECT_EQ(ls.product, "linux");
  EXPECT_TRUE(ls.Admits(Ls("linux", "", "sshd")));
  EXPECT_TRUE(ls.Admits(Ls("linux", "", "auth")));
  EXPECT_TRUE(ls.Admits(Ls("linux", "", "syslog")));
  EXPECT_FALSE(ls.Admits(Ls("linux", "", "sudo")));
  EXPECT_FALSE(ls.Admits(Ls("windows", "")));

  EXPECT_TRUE(Classify({{"program", "sshd(pam_unix)"}}, RecordFormat::kSyslog).HasService("sshd"));
  EXPECT_TRUE(Classify({{"program", "/usr/sbin/CRON[123]:"}}, RecordFormat::kSyslog).HasService("cron"));
  EXPECT_TRUE(Classify({{"program", "sudo"}}, RecordFormat::kSyslog).HasService("sudo"));
  EXPECT_TRUE(Classify({{"program", "useradd"}}, RecordFormat::kSyslog).HasService("auth"));

  const auto& other = Classify({{"program", "kernel"}}, RecordFormat::kSyslog);
  EXPECT_TRUE(other.recognised);
  EXPECT_EQ(other.service_count, 1);
  EXPECT_TRUE(other.HasService("syslog"));
}

TEST_F(LogsourceMappingTest, SyslogFieldsInJsonAreNotSyslog) {
  // Only the record format says "syslog": a JSON object with a `program` key is something else.
  EXPECT_FALSE(Classify({{"program", "sshd"}}, RecordFormat::kJson).recognised);
}

TEST_F(LogsourceMappingTest, ZeekLogTypeIsTheService) {
  const auto& ls = Classify({{"_path", "dns"}, {"ts", "1"}, {"uid", "C1"}, {"query", "example.org"}});
  EXPECT_TRUE(ls.Admits(Ls("zeek", "", "dns")));
  EXPECT_FALSE(ls.Admits(Ls("zeek", "", "http")));

  const auto& otrf = Classify({{"@stream", "conn"}, {"ts", "1"}, {"id_orig_h", "10.0.0.1"}});
  EXPECT_TRUE(otrf.Admits(Ls("zeek", "", "conn")));
  EXPECT_EQ(Values("id.orig_h"), std::vector<std::string_view>{"10.0.0.1"});

  const auto& unpathed = Classify({{"ts", "1"}, {"uid", "C1"}, {"id.orig_h", "10.0.0.1"}, {"qtype_name", "A"}});
  EXPECT_TRUE(unpathed.Admits(Ls("zeek", "", "dns")));

  const auto& unknown = Classify({{"_path", "mything"}, {"ts", "1"}});
  EXPECT_TRUE(unknown.Admits(Ls("zeek", "")));
  EXPECT_EQ(unknown.service_count, 0);
}

TEST_F(LogsourceMappingTest, WebAndProxyLogs) {
  // An access line carries both the web server and the proxy names of its fields.
  const auto& web = Classify({{"cs-method", "GET"}, {"cs-uri-stem", "/index.php"}, {"c-uri", "/index.php?a=1"},
                              {"c-useragent", "curl/8"}, {"c-ip", "10.0.0.1"}},
                             RecordFormat::kWebAccess);
  EXPECT_TRUE(web.recognised);
  EXPECT_TRUE(web.Admits(Ls("", "webserver")));
  EXPECT_FALSE(web.Admits(Ls("", "proxy")));
  EXPECT_FALSE(web.Admits(Ls("windows", "webserver")));
  const auto& forward = Classify({{"cs-method", "GET"}, {"cs-uri-stem", "HTTP://example.org/a"},
                                  {"c-uri", "http://example.org/a"}},
                                 RecordFormat::kWebAccess);
  EXPECT_TRUE(forward.Admits(Ls("", "proxy")));
  EXPECT_FALSE(forward.Admits(Ls("", "webserver")));
  const auto& exported = Classify({{"c-uri", "http://example.org/a"}, {"cs-host", "example.org"}});
  EXPECT_TRUE(exported.Admits(Ls("", "proxy")));
}

TEST_F(LogsourceMappingTest, AuditdTextLines) {
  const auto& ls = Classify({{"message", "type=SYSCALL msg=audit(1364481363.243:24287): arch=c000003e"}},
                            RecordFormat::kText);
  EXPECT_TRUE(ls.Admits(Ls("linux", "", "auditd")));
  EXPECT_FALSE(Classify({{"message", "hello"}}, RecordFormat::kText).recognised);
}

TEST_F(LogsourceMappingTest, UnknownEventsAreNotRecognised) {
  const auto& ls = Classify({{"CommandLine", "whoami"}});
  EXPECT_FALSE(ls.recognised);
  EXPECT_FALSE(Classify({}).recognised);
  EXPECT_FALSE(Classify({{"EventID", "1"}}).recognised);
}

TEST(LogsourceMappingLoad, RejectsMistakesWithTheirLine) {
  auto bad_key = LogsourceMapping::LoadText("version: 1\nwindows:\n  logs:\n    - channel: X\n      servise: y\n", "m.yml");
  ASSERT_FALSE(bad_key.has_value());
  EXPECT_NE(bad_key.error().message.find("servise"), std::string::npos);
  EXPECT_EQ(bad_key.error().where, "m.yml:5");

  EXPECT_FALSE(LogsourceMapping::LoadText("version: 1\nsources: [\n", "m.yml").has_value());
  EXPECT_FALSE(LogsourceMapping::LoadText("windows: {}\n", "m.yml").has_value());  // no version
  EXPECT_FALSE(LogsourceMapping::LoadText(
                   "version: 1\nwindows:\n  logs:\n    - channel: X\n      events:\n        - {id: abc}\n", "m.yml")
                   .has_value());
  EXPECT_FALSE(LogsourceMapping::LoadFile("/nonexistent/logsources.yml").has_value());
}

TEST(LogsourceMappingLoad, TwoMappingsOnOneThreadKeepTheirOwnClasses) {
  auto a = LogsourceMapping::LoadText(
      "version: 1\nwindows:\n  logs:\n    - {channel: C, service: first}\n", "a.yml");
  auto b = LogsourceMapping::LoadText(
      "version: 1\nwindows:\n  logs:\n    - {channel: C, service: second}\n", "b.yml");
  ASSERT_TRUE(a.has_value() && b.has_value());
  FieldCatalog catalog;
  a->InternFields(catalog);
  b->InternFields(catalog);
  Event event;
  for (int i = 0; i < 2; ++i) {
    event.Reset(catalog.size());
    event.Add(catalog.Find("Channel"), FieldValue{"C"});
    a->Classify(event);
    EXPECT_TRUE(event.logsource.HasService("first"));
    event.Reset(catalog.size());
    event.Add(catalog.Find("Channel"), FieldValue{"C"});
    b->Classify(event);
    EXPECT_TRUE(event.logsource.HasService("second"));
  }
}

// Routers tell classes apart by id: equal content, equal id, whichever mapping made it.
TEST(LogsourceMappingLoad, ClassesOfEqualContentShareTheirIdAcrossMappings) {
  const char* yaml =
      "version: 1\nwindows:\n  logs:\n    - {channel: C, service: first}\n"
      "    - {channel: D, service: second}\n    - {channel: E, service: first}\n";
  auto a = LogsourceMapping::LoadText(yaml, "a.yml");
  auto b = LogsourceMapping::LoadText(yaml, "b.yml");
  ASSERT_TRUE(a.has_value() && b.has_value());
  FieldCatalog catalog;
  a->InternFields(catalog);
  b->InternFields(catalog);
  auto id_of = [&](const LogsourceMapping& mapping, std::string_view channel) {
    Event event;
    event.Reset(catalog.size());
    event.Add(catalog.Find("Channel"), FieldValue{channel});
    mapping.Classify(event);
    EXPECT_TRUE(event.logsource.recognised) << channel;
    return event.logsource.id;
  };
  const uint32_t first = id_of(*a, "C");
  EXPECT_NE(first, 0u);
  EXPECT_EQ(id_of(*b, "C"), first);
  EXPECT_EQ(id_of(*a, "E"), first);
  EXPECT_NE(id_of(*a, "D"), first);
  EXPECT_EQ(id_of(*b, "D"), id_of(*a, "D"));
  EXPECT_NE(id_of(*a, "unknown channel"), first);
}

// Every SigmaHQ regression case: the rule's logsource must admit the class of the case's events.
TEST(LogsourceMappingData, AdmitsEveryRegressionCase) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::path(YAGURA_SHARED_DIR) / "data/sigma/regression";
  if (!fs::exists(dir / "regression_cases.jsonl")) GTEST_SKIP() << "no regression data in " << dir;

  auto loaded = LogsourceMapping::LoadDefault();
  ASSERT_TRUE(loaded.has_value()) << loaded.error().ToString();
  FieldCatalog catalog;
  loaded->InternFields(catalog);
  const FieldId channel_id = catalog.Find("Channel");
  const FieldId event_id = catalog.Find("EventID");
  const FieldId provider_id = catalog.Find("Provider_Name");

  simdjson::dom::parser parser;
  int cases = 0, passed = 0;
  std::ifstream index(dir / "regression_cases.jsonl");
  std::string line;
  while (std::getline(index, line)) {
    simdjson::dom::element info;
    ASSERT_EQ(parser.parse(line).get(info), simdjson::SUCCESS);
    simdjson::dom::object logsource;
    if (info["logsource"].get(logsource) != simdjson::SUCCESS) continue;  // case without a test
    Logsource rule;
    std::string_view text;
    if (logsource["product"].get(text) == simdjson::SUCCESS) rule.product = text;
    if (logsource["category"].get(text) == simdjson::SUCCESS) rule.category = text;
    if (logsource["service"].get(text) == simdjson::SUCCESS) rule.service = text;
    std::string_view case_name;
    ASSERT_EQ(info["case"].get(case_name), simdjson::SUCCESS);
    const std::string name(case_name);
    ++cases;

    std::ifstream events(dir / "jsonl" / (name + ".jsonl"));
    ASSERT_TRUE(events) << "missing events of " << name;
    bool all_admitted = true;
    int count = 0;
    std::string event_line;
    simdjson::dom::parser event_parser;
    while (std::getline(events, event_line)) {
      if (event_line.empty()) continue;
      simdjson::dom::element root;
      ASSERT_EQ(event_parser.parse(event_line).get(root), simdjson::SUCCESS) << name;
      simdjson::dom::element system = root["Event"]["System"];
      Event event;
      event.Reset(catalog.size());
      std::string_view channel;
      if (system["Channel"].get(channel) == simdjson::SUCCESS) event.Add(channel_id, FieldValue{channel});
      std::string id_text;
      simdjson::dom::element id = system["EventID"];
      if (id.is_object()) id = id["#text"];
      if (uint64_t number; id.get(number) == simdjson::SUCCESS) id_text = std::to_string(number);
      else if (std::string_view s; id.get(s) == simdjson::SUCCESS) id_text = s;
      event.Add(event_id, FieldValue{id_text, ValueType::kNumber});
      std::string_view provider;
      if (system["Provider"]["#attributes"]["Name"].get(provider) == simdjson::SUCCESS)
        event.Add(provider_id, FieldValue{provider});
      loaded->Classify(event);
      ++count;
      if (!event.logsource.Admits(rule)) {
        all_admitted = false;
        ADD_FAILURE() << name << ": " << channel << " " << id_text << " does not admit product="
                      << rule.product << " category=" << rule.category << " service=" << rule.service;
      }
    }
    EXPECT_GT(count, 0) << name;
    if (all_admitted && count > 0) ++passed;
  }
  std::cout << "[ regression ] " << passed << " of " << cases << " cases admitted\n";
  EXPECT_GT(cases, 100);
  EXPECT_EQ(passed, cases);
}

}  // namespace
}  // namespace yagura::event

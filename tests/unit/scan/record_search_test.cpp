// `yagura search` as a library (scan/record_search.hpp): strings and regexes found in any value
// or in named fields, with case or without, any or all of them, in a time range, up to a limit;
// where each match is; bad patterns refused before anything is read; bad records counted while
// the others are still searched.
#include "scan/record_search.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/time.hpp"

namespace yagura::scan {
namespace {

namespace fs = std::filesystem;

struct Found {
  std::string path;
  uint64_t record = 0;
  std::vector<SearchMatch> matches;
  std::optional<int64_t> time_ms;
  std::string json;
};

class RecordSearch : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("yagura-record-search-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    // Sysmon process creations (evtx_dump's JSON shape), a Security logon, and one bad line.
    std::ofstream(dir_ / "events.jsonl")
        << Sysmon("2026-11-26T09:00:00Z", "C:\\Windows\\System32\\whoami.exe", "whoami /all")
        << Sysmon("2026-11-26T10:00:00Z", "C:\\Windows\\System32\\cmd.exe",
                  "cmd /c WHOAMI /priv & net user")
        << Sysmon("2026-11-27T09:00:00Z", "C:\\Tools\\mimikatz.exe",
                  "mimikatz sekurlsa::logonpasswords")
        << "{not json\n"
        << R"({"Event":{"System":{"Provider":{"#attributes":{"Name":"Microsoft-Windows-Security-Auditing"}},)"
        << R"("EventID":4624,"Channel":"Security","Computer":"dc1.example.org",)"
        << R"("TimeCreated":{"#attributes":{"SystemTime":"2026-11-26T11:00:00Z"}}},)"
        << R"("EventData":{"TargetUserName":"alice","IpAddress":"203.0.113.7","LogonType":3}}})"
        << "\n";
  }
  void TearDown() override { fs::remove_all(dir_); }

  static std::string Sysmon(const std::string& time, const std::string& image,
                            const std::string& command_line) {
    auto escape = [](std::string text) {
      std::string out;
      for (char c : text) {
        if (c == '\\') out += '\\';
        out += c;
      }
      return out;
    };
    return R"({"Event":{"System":{"Provider":{"#attributes":{"Name":"Microsoft-Windows-Sysmon"}},)"
           R"("EventID":1,"Channel":"Microsoft-Windows-Sysmon/Operational","Computer":"ws1",)"
           R"("TimeCreated":{"#attributes":{"SystemTime":")" +
           time + R"("}}},"EventData":{"Image":")" + escape(image) + R"(","CommandLine":")" +
           escape(command_line) + R"("}}})" + "\n";
  }

  Result<SearchSummary> Search(SearchOptions options, std::vector<Found>& found) {
    if (options.inputs.empty()) options.inputs = {(dir_ / "events.jsonl").string()};
    found.clear();
    Diagnostics diagnostics(
        [this](const Diagnostic& d) { reported_.push_back(d.where + ": " + d.message); });
    reported_.clear();
    return SearchRecords(options, diagnostics, [&](const FoundRecord& f) {
      found.push_back({f.path, f.record.number, f.matches, f.time_ms, f.json});
    });
  }

  static std::vector<uint64_t> Records(const std::vector<Found>& found) {
    std::vector<uint64_t> out;
    for (const Found& f : found) out.push_back(f.record);
    return out;
  }

  fs::path dir_;
  std::vector<std::string> reported_;
};

TEST_F(RecordSearch, StringsIgnoreCaseAndNameWhereTheyAre) {
  SearchOptions options;
  options.strings = {"whoami"};
  std::vector<Found> found;
  auto summary = Search(options, found);
  ASSERT_TRUE(summary) << summary.error().ToString();
  EXPECT_EQ(Records(found), (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ(summary->records_found, 2u);
  // The bad line is not framed as a record (so the logon is record 4); it is counted as
  // skipped and reported with its place.
  EXPECT_EQ(summary->records_read, 4u);
  EXPECT_EQ(summary->records_skipped, 1u);
  ASSERT_EQ(reported_.size(), 1u);
  EXPECT_NE(reported_[0].find("events.jsonl:4"), std::string::npos) << reported_[0];
  EXPECT_EQ(summary->ExitStatus(), 1);
  ASSERT_EQ(found[0].matches.size(), 2u);
  EXPECT_EQ(found[0].matches[0].field, "Event.EventData.Image");
  EXPECT_EQ(found[0].matches[0].value, "C:\\Windows\\System32\\whoami.exe");
  EXPECT_EQ(found[0].matches[1].field, "Event.EventData.CommandLine");
  ASSERT_EQ(found[1].matches.size(), 1u);
  EXPECT_EQ(found[1].matches[0].value, "cmd /c WHOAMI /priv & net user");
  EXPECT_EQ(found[0].time_ms, ParseIsoDateTimeMs("2026-11-26T09:00:00Z"));
  EXPECT_EQ(found[0].path, (dir_ / "events.jsonl").string());
  EXPECT_NE(found[0].json.find(R"("CommandLine":"whoami /all")"), std::string::npos);

  options.match_case = true;
  ASSERT_TRUE(Search(options, found));
  EXPECT_EQ(Records(found), (std::vector<uint64_t>{1}));
}

TEST_F(RecordSearch, AnyOrAllRegexesFieldsNumbers) {
  SearchOptions options;
  options.strings = {"whoami", "net user"};
  std::vector<Found> found;
  ASSERT_TRUE(Search(options, found));
  EXPECT_EQ(Records(found), (std::vector<uint64_t>{1, 2}));
  options.match_all = true;
  ASSERT_TRUE(Search(options, found));
  EXPECT_EQ(Records(found), (std::vector<uint64_t>{2}));

  // Regexes ignore case too unless asked; numbers are searched as written.
  options = {};
  options.regexes = {R"(sekurlsa::\w+)", "^4624$"};
  ASSERT_TRUE(Search(options, found));
  EXPECT_EQ(Records(found), (std::vector<uint64_t>{3, 4}));
  ASSERT_EQ(found[1].matches.size(), 1u);
  EXPECT_EQ(found[1].matches[0].field, "Event.System.EventID");
  EXPECT_EQ(found[1].matches[0].value, "4624");
  options.regexes = {"SEKURLSA"};
  ASSERT_TRUE(Search(options, found));
  EXPECT_EQ(Records(found), (std::vector<uint64_t>{3}));
  options.match_case = true;
  ASSERT_TRUE(Search(options, found));
  EXPECT_TRUE(found.empty());

  // Only the named fields, named as Sigma rules name them.
  options = {};
  options.strings = {"whoami"};
  options.fields = {"CommandLine"};
  ASSERT_TRUE(Search(options, found));
  EXPECT_EQ(Records(found), (std::vector<uint64_t>{1, 2}));
  ASSERT_EQ(found[0].matches.size(), 1u);
  EXPECT_EQ(found[0].matches[0].field, "CommandLine");
  EXPECT_EQ(found[0].matches[0].value, "whoami /all");
  options.fields = {"Computer"};
  ASSERT_TRUE(Search(options, found));
  EXPECT_TRUE(found.empty());
  options.strings = {"dc1"};
  ASSERT_TRUE(Search(options, found));
  EXPECT_EQ(Records(found), (std::vector<uint64_t>{4}));
}

TEST_F(RecordSearch, SigmaConditionsAllHoldAndNameTheirFields) {
  SearchOptions options;
  options.conditions = {"EventID=4624", "IpAddress|cidr=203.0.113.0/24"};
  std::vector<Found> found;
  auto summary = Search(options, found);
  ASSERT_TRUE(summary) << summary.error().ToString();
  EXPECT_EQ(Records(found), (std::vector<uint64_t>{4}));
  ASSERT_EQ(found[0].matches.size(), 2u);
  EXPECT_EQ(found[0].matches[0].field, "EventID");
  EXPECT_EQ(found[0].matches[0].value, "4624");
  EXPECT_EQ(found[0].matches[1].field, "IpAddress");
  EXPECT_EQ(found[0].matches[1].value, "203.0.113.7");
  options.conditions = {"EventID=4624", "IpAddress|cidr=198.51.100.0/24"};
  ASSERT_TRUE(Search(options, found));
  EXPECT_TRUE(found.empty());

  // One field twice; wildcards as in a rule; a quote in a value.
  options.conditions = {"CommandLine|contains=whoami", "CommandLine|contains=/all"};
  ASSERT_TRUE(Search(options, found));
  EXPECT_EQ(Records(found), (std::vector<uint64_t>{1}));
  options.conditions = {"Image=*\\WHOAMI.exe"};
  ASSERT_TRUE(Search(options, found));
  EXPECT_EQ(Records(found), (std::vector<uint64_t>{1}));
  options.conditions = {"CommandLine|contains=it's"};
  ASSERT_TRUE(Search(options, found));
  EXPECT_TRUE(found.empty());

  // Numbers and booleans where the modifier needs them, as a rule writes them bare.
  options.conditions = {"LogonType|gte=3", "TargetUserName|exists=true"};
  ASSERT_TRUE(Search(options, found));
  EXPECT_EQ(Records(found), (std::vector<uint64_t>{4}));
  options.conditions = {"LogonType|lt=3"};
  ASSERT_TRUE(Search(options, found));
  EXPECT_TRUE(found.empty());
  options.conditions = {"TargetUserName|exists=false"};
  ASSERT_TRUE(Search(options, found));
  EXPECT_EQ(Records(found), (std::vector<uint64_t>{1, 2, 3}));

  // Of a field with several values, only those that held are named.
  const fs::path several = dir_ / "several.jsonl";
  std::ofstream(several) << R"({"IpAddress":["10.0.0.1","203.0.113.9","203.0.113.10"],)"
                         << R"("User":["alice","bob"]})"
                         << "\n";
  SearchOptions values;
  values.inputs = {several.string()};
  values.conditions = {"IpAddress|cidr=203.0.113.0/24", "User|exists=true"};
  auto several_found = Search(values, found);
  ASSERT_TRUE(several_found) << several_found.error().message;
  ASSERT_EQ(found.size(), 1u);
  std::vector<std::string> named;
  for (const SearchMatch& m : found[0].matches) named.push_back(m.field + "=" + m.value);
  EXPECT_EQ(named, (std::vector<std::string>{"IpAddress=203.0.113.9", "IpAddress=203.0.113.10",
                                             "User=alice", "User=bob"}));
  values.conditions = {"IpAddress|endswith=.1"};
  ASSERT_TRUE(Search(values, found));
  ASSERT_EQ(found.size(), 1u);
  ASSERT_EQ(found[0].matches.size(), 1u);
  EXPECT_EQ(found[0].matches[0].value, "10.0.0.1");

  // With strings: both must hold.
  options.conditions = {"CommandLine|contains=/priv"};
  options.strings = {"whoami"};
  ASSERT_TRUE(Search(options, found));
  EXPECT_EQ(Records(found), (std::vector<uint64_t>{2}));
  options.strings = {"mimikatz"};
  ASSERT_TRUE(Search(options, found));
  EXPECT_TRUE(found.empty());

  // Refused before reading, with the reason.
  for (const auto& [condition, reason] : std::vector<std::pair<std::string, std::string>>{
           {"CommandLine", "expected FIELD=VALUE"},
           {"=x", "expected FIELD=VALUE"},
           {"|contains=x", "is not a field name"},
           {"CommandLine|nosuch=x", "unknown modifier 'nosuch'"},
           {"SourceIp|cidr=not-a-network", "--where: "},
           {"LogonType|lt=three", "needs a numeric value"},
           {"TargetUserName|exists=yes", "needs the value true or false"}}) {
    SearchOptions bad;
    bad.conditions = {condition};
    auto refused = Search(bad, found);
    ASSERT_FALSE(refused) << condition;
    EXPECT_NE(refused.error().message.find(reason), std::string::npos)
        << condition << ": " << refused.error().message;
  }
  EXPECT_TRUE(reported_.empty());
}

TEST_F(RecordSearch, TimeRangeAndLimit) {
  SearchOptions options;
  options.regexes = {"."};  // every record with a value
  options.from_ms = ParseIsoDateTimeMs("2026-11-26T09:30:00Z");
  options.to_ms = ParseIsoDateTimeMs("2026-11-26T23:59:59Z");
  std::vector<Found> found;
  auto summary = Search(options, found);
  ASSERT_TRUE(summary);
  EXPECT_EQ(Records(found), (std::vector<uint64_t>{2, 4}));
  EXPECT_EQ(summary->records_outside_time_range, 2u);
  EXPECT_EQ(summary->records_without_time, 0u);

  options = {};
  options.regexes = {"."};
  options.limit = 2;
  summary = Search(options, found);
  ASSERT_TRUE(summary);
  EXPECT_EQ(Records(found), (std::vector<uint64_t>{1, 2}));
  EXPECT_TRUE(summary->stopped_at_limit);
  EXPECT_EQ(summary->records_read, 2u);  // the file ends at the limit

  // A second file after the limit is not read.
  std::ofstream(dir_ / "more.jsonl") << Sysmon("2026-11-28T00:00:00Z", "a.exe", "whoami");
  options.inputs = {(dir_ / "events.jsonl").string(), (dir_ / "more.jsonl").string()};
  summary = Search(options, found);
  ASSERT_TRUE(summary);
  EXPECT_EQ(found.size(), 2u);
  EXPECT_EQ(summary->files_read, 1u);
}

TEST_F(RecordSearch, BadPatternsAreRefusedBeforeReading) {
  std::vector<Found> found;
  SearchOptions options;
  auto summary = Search(options, found);
  ASSERT_FALSE(summary);
  EXPECT_NE(summary.error().message.find("nothing to search for"), std::string::npos);
  EXPECT_NE(summary.error().message.find("--where"), std::string::npos);
  options.strings = {""};
  summary = Search(options, found);
  ASSERT_FALSE(summary);
  EXPECT_NE(summary.error().message.find("empty"), std::string::npos);
  options.strings = {};
  options.regexes = {"(unclosed"};
  summary = Search(options, found);
  ASSERT_FALSE(summary);
  EXPECT_NE(summary.error().message.find("--regex '(unclosed'"), std::string::npos)
      << summary.error().message;
  options.regexes.assign(65, "x");
  ASSERT_FALSE(Search(options, found));
  EXPECT_TRUE(reported_.empty());
}

TEST_F(RecordSearch, SyslogAndMissingInputs) {
  std::ofstream(dir_ / "auth.log")
      << "Nov 26 08:12:03 web01 sshd[811]: Invalid user admin from 203.0.113.45 port 50122\n"
      << "Nov 26 08:13:00 web01 CRON[900]: (root) CMD (run-parts /etc/cron.hourly)\n";
  SearchOptions options;
  options.strings = {"203.0.113.45"};
  options.inputs = {(dir_ / "auth.log").string(), (dir_ / "missing.log").string()};
  std::vector<Found> found;
  auto summary = Search(options, found);
  ASSERT_TRUE(summary);
  EXPECT_EQ(Records(found), (std::vector<uint64_t>{1}));
  EXPECT_EQ(summary->files_failed, 1u);
  EXPECT_EQ(summary->ExitStatus(), 1);
  bool message = false;
  for (const SearchMatch& m : found[0].matches) message |= m.field == "message";
  EXPECT_TRUE(message);
  // The year-less syslog time is placed in the year nearest now.
  ASSERT_TRUE(found[0].time_ms);
  EXPECT_LT(std::llabs(*found[0].time_ms - NowMs()), int64_t{366} * 86'400'000);
}

// The same record found in an EVTX file and in its evtx_dump JSON twin, at the same paths.
TEST(RecordSearchEvtx, EvtxAndItsJsonTwinAgree) {
  const fs::path dir = fs::path(YAGURA_SHARED_DIR) /
                       "data/sigma/sigmahq/regression_data/rules-threat-hunting/windows/"
                       "image_load/image_load_win_werfaultsecure_dbgcore_dbghelp_load";
  const fs::path evtx = dir / "8a2f4b1c-3d5e-4f7a-9b2c-1e4f6d8a9c2b.evtx";
  if (!fs::exists(evtx)) GTEST_SKIP() << "SigmaHQ regression data not found at " << dir;
  auto run = [](const fs::path& path) {
    SearchOptions options;
    options.inputs = {path.string()};
    options.strings = {"werfaultsecure"};
    std::vector<std::pair<uint64_t, std::vector<std::string>>> out;
    Diagnostics diagnostics([](const Diagnostic&) {});
    auto summary = SearchRecords(options, diagnostics, [&](const FoundRecord& f) {
      std::vector<std::string> where;
      for (const SearchMatch& m : f.matches) where.push_back(m.field + "=" + m.value);
      out.emplace_back(f.record.number, where);
    });
    EXPECT_TRUE(summary);
    return out;
  };
  auto from_evtx = run(evtx);
  auto from_json = run(fs::path(evtx).replace_extension(".json"));
  ASSERT_FALSE(from_evtx.empty());
  EXPECT_EQ(from_evtx.size(), from_json.size());
  ASSERT_FALSE(from_evtx[0].second.empty());
  EXPECT_EQ(from_evtx[0].second.front().rfind("Event.EventData.", 0), 0u)
      << from_evtx[0].second.front();
  if (from_evtx.size() == from_json.size()) {
    for (size_t i = 0; i < from_evtx.size(); ++i)
      EXPECT_EQ(from_evtx[i].second, from_json[i].second) << "record " << from_evtx[i].first;
  }
}

}  // namespace
}  // namespace yagura::scan

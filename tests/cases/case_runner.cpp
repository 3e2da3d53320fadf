// Runs one golden case (tests/cases/README.md): scans the case's inputs with `yagura scan`, once
// with the compiled matcher and once with the plain evaluator, and compares the alerts with
// expected.tsv (and expected_records.tsv, expected_exit when present).
//
// usage: yagura_case_runner CASE_DIR YAGURA_BINARY
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <simdjson.h>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

std::vector<std::vector<std::string>> ReadTsv(const fs::path& path) {
  std::vector<std::vector<std::string>> rows;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> cells;
    std::stringstream ss(line);
    std::string cell;
    while (std::getline(ss, cell, '\t')) cells.push_back(cell);
    rows.push_back(cells);
  }
  return rows;
}

std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += "'\\''";
    else out += c;
  }
  return out + "'";
}

struct Outcome {
  int exit_status = -1;
  std::map<std::string, int> counts;             // rule id -> alerts
  std::multiset<std::pair<std::string, uint64_t>> records;  // (rule id, record)
  std::string error;
};

Outcome Scan(const fs::path& case_dir, const std::string& binary, const std::string& engine,
             const fs::path& work) {
  Outcome outcome;
  std::vector<std::string> args = {binary, "scan", "--quiet", "--no-cache", "--engine", engine};
  fs::path rules = case_dir / "rules";
  args.push_back("--rules");
  args.push_back(fs::exists(rules) ? rules.string()
                                   : (case_dir.parent_path().parent_path().parent_path() / "rules")
                                         .string());
  fs::path output = work / ("alerts-" + engine + ".jsonl");
  args.push_back("--output");
  args.push_back(output.string());
  std::ifstream extra(case_dir / "args");
  std::string line;
  while (std::getline(extra, line)) {
    if (!line.empty() && line[0] != '#') args.push_back(line);
  }
  // Indicator feeds: every entry whose name starts with "intel" (a file or a feed directory).
  std::vector<std::string> feeds;
  for (const auto& entry : fs::directory_iterator(case_dir)) {
    if (entry.path().filename().string().rfind("intel", 0) == 0) feeds.push_back(entry.path());
  }
  std::sort(feeds.begin(), feeds.end());
  for (const auto& feed : feeds) {
    args.push_back("--intel");
    args.push_back(feed);
  }
  std::vector<std::string> inputs;
  for (const auto& entry : fs::directory_iterator(case_dir)) {
    if (entry.path().filename().string().rfind("input", 0) == 0) {
      inputs.push_back(entry.path().string());
    }
  }
  std::sort(inputs.begin(), inputs.end());
  if (inputs.empty()) {
    outcome.error = "case has no input* file";
    return outcome;
  }
  args.insert(args.end(), inputs.begin(), inputs.end());

  std::string command;
  for (const auto& a : args) command += Quote(a) + " ";
  command += "2>" + Quote((work / ("stderr-" + engine + ".txt")).string());
  int status = std::system(command.c_str());
  outcome.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;

  simdjson::dom::parser parser;
  std::ifstream alerts(output);
  uint64_t line_number = 0;
  while (std::getline(alerts, line)) {
    ++line_number;
    simdjson::dom::element doc;
    if (parser.parse(line).get(doc)) {
      outcome.error = "alert line " + std::to_string(line_number) + " is not valid JSON";
      return outcome;
    }
    std::string_view id;
    uint64_t record = 0;
    std::string key;
    if (!doc["correlation"]["id"].get(id)) {
      // Correlation alerts are listed by correlation id; their record is the window's first.
      key = "correlation:" + std::string(id);
      simdjson::dom::array records;
      if (doc["records"].get(records) || records.size() == 0 ||
          records.at(0)["record"].get(record)) {
        outcome.error = "correlation alert line " + std::to_string(line_number) + " lacks records";
        return outcome;
      }
      ++outcome.counts[key];
      outcome.records.insert({key, record});
      continue;
    }
    if (!doc["indicator"]["id"].get(id)) {
      key = "indicator:" + std::string(id);  // indicator alerts are listed by indicator id
    } else if (!doc["rule"]["id"].get(id)) {
      key = std::string(id);
    } else {
      outcome.error = "alert line " + std::to_string(line_number) + " lacks rule.id";
      return outcome;
    }
    if (doc["source"]["record"].get(record)) {
      outcome.error = "alert line " + std::to_string(line_number) + " lacks source.record";
      return outcome;
    }
    ++outcome.counts[key];
    outcome.records.insert({key, record});
  }
  return outcome;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: yagura_case_runner CASE_DIR YAGURA_BINARY\n";
    return 2;
  }
  fs::path case_dir = argv[1];
  std::string binary = argv[2];
  fs::path work = fs::temp_directory_path() /
                  ("yagura-case-" + case_dir.filename().string() + "-" + std::to_string(getpid()));
  fs::create_directories(work);

  std::map<std::string, int> expected;
  for (const auto& row : ReadTsv(case_dir / "expected.tsv")) {
    if (row.size() < 2) {
      std::cerr << "expected.tsv: each line must be rule-id<TAB>count\n";
      return 1;
    }
    expected[row[0]] = std::stoi(row[1]);
  }
  std::multiset<std::pair<std::string, uint64_t>> expected_records;
  bool check_records = fs::exists(case_dir / "expected_records.tsv");
  for (const auto& row : ReadTsv(case_dir / "expected_records.tsv")) {
    if (row.size() >= 2) expected_records.insert({row[0], std::stoull(row[1])});
  }
  int expected_exit = 0;
  if (std::ifstream exit_file(case_dir / "expected_exit"); exit_file) exit_file >> expected_exit;

  int failures = 0;
  for (const std::string engine : {"compiled", "plain"}) {
    Outcome outcome = Scan(case_dir, binary, engine, work);
    auto fail = [&](const std::string& what) {
      std::cerr << "[" << engine << "] " << what << "\n";
      ++failures;
    };
    if (!outcome.error.empty()) fail(outcome.error);
    if (outcome.exit_status != expected_exit) {
      fail("exit status " + std::to_string(outcome.exit_status) + ", expected " +
           std::to_string(expected_exit));
      std::ifstream err(work / ("stderr-" + engine + ".txt"));
      std::cerr << err.rdbuf();
    }
    std::set<std::string> ids;
    for (const auto& [id, n] : expected) ids.insert(id);
    for (const auto& [id, n] : outcome.counts) ids.insert(id);
    for (const auto& id : ids) {
      int want = expected.count(id) ? expected.at(id) : 0;
      int got = outcome.counts.count(id) ? outcome.counts.at(id) : 0;
      if (want != got) {
        fail("rule " + id + ": " + std::to_string(got) + " alerts, expected " +
             std::to_string(want));
      }
    }
    if (check_records && outcome.records != expected_records) {
      std::string got;
      for (const auto& [id, record] : outcome.records) got += " " + id + "@" + std::to_string(record);
      fail("alert records differ from expected_records.tsv; got:" + got);
    }
  }
  fs::remove_all(work);
  if (failures) {
    std::cerr << case_dir.filename().string() << ": " << failures << " mismatches\n";
    return 1;
  }
  std::cout << case_dir.filename().string() << ": ok\n";
  return 0;
}

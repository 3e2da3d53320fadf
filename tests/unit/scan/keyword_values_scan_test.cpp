// Keyword searches over records that are not JSON (syslog here, EVTX alike): the values are
// searched for the keywords' literals as they are before being folded and scanned, and only
// the letters that fold to ASCII (U+0130, U+017F, U+212A) make that search give up. The
// compiled matcher must find what the plain evaluator finds.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "scan/scanner.hpp"

namespace yagura::scan {
namespace {

namespace fs = std::filesystem;

std::vector<uint64_t> AlertingLines(const fs::path& rules, const fs::path& input, bool plain) {
  ScanOptions options;
  options.rule_paths = {rules.string()};
  options.plain_evaluator = plain;
  Diagnostics diagnostics;
  ScanSummary summary;
  auto engine = Engine::Prepare(options, diagnostics, summary);
  EXPECT_TRUE(engine) << engine.error().ToString();
  std::vector<uint64_t> lines;
  if (!engine) return lines;
  (*engine)->Scan({input.string()},
                  [&](const sigma::Rule&, const event::Event&, const event::Record& record,
                      const std::string&) { lines.push_back(record.line); },
                  summary);
  return lines;
}

TEST(KeywordValuesScan, KeywordsInPlainValuesAreFoundAsTheEvaluatorFindsThem) {
  fs::path dir = fs::temp_directory_path() / ("yagura-keyword-values-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir / "rules");
  std::ofstream(dir / "rules" / "keywords.yml") << R"(title: Credential dumping keywords
id: 7b6a5c4d-3e2f-4a1b-9c8d-0e1f2a3b4c5d
logsource: {product: linux}
detection:
  keywords: ['sekurlsa::', 'kerberos::golden', 'mimikatz']
  condition: keywords
level: high
)";
  const std::vector<std::string> lines = {
      "<38>Jan 12 10:00:00 host app[1]: run sekurlsa::logonpasswords",         // 1: yes
      "<38>Jan 12 10:00:01 host app[1]: run SEKURLSA::LogonPasswords",         // 2: yes
      "<38>Jan 12 10:00:02 host app[1]: run \xc5\xbf" "ekurlsa::logonpasswords",  // 3: yes (U+017F)
      "<38>Jan 12 10:00:03 host app[1]: \xe2\x84\xaa" "erberos::golden /user",  // 4: yes (U+212A)
      "<38>Jan 12 10:00:04 host app[1]: M\xc4\xb0" "M\xc4\xb0" "KATZ",           // 5: yes (U+0130)
      "<38>Jan 12 10:00:05 host app[1]: caf\xc3\xa9 \xe2\x84\xa2 plain",       // 6: no
      "<38>Jan 12 10:00:06 host app[1]: sekurlsa: one colon",                  // 7: no
      "<38>Jan 12 10:00:07 host app[1]: C:\\users\\public\\kerberos.exe",      // 8: no
  };
  {
    std::ofstream out(dir / "app.log", std::ios::binary);
    for (const std::string& line : lines) out << line << "\n";
  }
  const std::vector<uint64_t> plain = AlertingLines(dir / "rules", dir / "app.log", true);
  EXPECT_EQ(plain, (std::vector<uint64_t>{1, 2, 3, 4, 5}));
  EXPECT_EQ(AlertingLines(dir / "rules", dir / "app.log", false), plain);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace yagura::scan

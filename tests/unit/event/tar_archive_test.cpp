// tar archives as inputs: ustar, GNU and pax headers (long names, a ustar prefix, base-256
// sizes), members read by offset or through one shared decompressing stream (in order, out of
// order, two open at once), links, directories and sparse files left out, damaged and cut
// archives keeping what came before; then a .tar.gz in a folder read as the files it holds,
// EVTX included.
#include "event/tar_archive.hpp"

#include <gtest/gtest.h>

#include <cstdio>
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

using test_support::TarWriter;

std::string Lines(int count, std::string_view tag) {
  std::string text;
  for (int i = 0; i < count; ++i)
    text += R"({"n":)" + std::to_string(i) + R"(,"tag":")" + std::string(tag) + "\"}\n";
  return text;
}

// The member's bytes, read in small pieces, or the error that stopped the read.
std::string ReadMember(std::unique_ptr<ByteSource>& source, std::string* error = nullptr) {
  std::string out;
  char buffer[1000];
  while (true) {
    auto got = source->Read(buffer, sizeof buffer);
    if (!got) {
      if (error) *error = got.error().message;
      return out;
    }
    if (*got == 0) return out;
    out.append(buffer, *got);
  }
}

std::string ReadMember(const TarListing& listing, size_t index, std::string* error = nullptr) {
  auto source = OpenTarMember(listing.archive, listing.members.at(index));
  if (!source) {
    if (error) *error = source.error().ToString();
    return {};
  }
  return ReadMember(*source, error);
}

std::string Gzip(std::string_view data) {
  return test_support::Deflate(data, test_support::GZIP_WINDOW);
}

// Every kind of header a collection's archive holds.
TarWriter MixedArchive() {
  const std::string long_name = "[root]/var/log/" + std::string(120, 'l') + "/auth.json";
  TarWriter tar;
  tar.Header("./", '5', 0)
      .File("./[root]/var/log/syslog.json", Lines(700, "syslog"))
      .Header("./[root]/var/log/link.json", '2', 0)
      .Header("./[root]/var/log/hard.json", '1', 0)
      .Header("././@LongLink", 'L', long_name.size() + 1, TarWriter::Magic::kGnu)
      .Data(long_name + '\0')
      .File("ignored-short-name", Lines(3, "long"), TarWriter::Magic::kGnu)
      .Header("events.json", '0', Lines(5, "prefix").size(), TarWriter::Magic::kPosix,
              "live_response/process")
      .Data(Lines(5, "prefix"))
      .Pax({{"path", "pax/" + std::string(150, 'p') + ".json"}, {"mtime", "1764400000.5"}})
      .File("pax-short", Lines(2, "pax"))
      .Header("big.json", '0', Lines(4, "b256").size(), TarWriter::Magic::kGnu, {}, true)
      .Data(Lines(4, "b256"))
      .Header("sparse.img", 'S', 0, TarWriter::Magic::kGnu)
      .Pax({{"GNU.sparse.major", "1"}, {"GNU.sparse.minor", "0"}})
      .File("disk.img", std::string(512, 'd'))
      .File("empty.log", "")
      .End();
  return tar;
}

TEST(TarArchive, EveryHeaderKindListedAndReadBack) {
  TempDir dir;
  const std::string bytes = MixedArchive().bytes();
  const std::string long_name = "[root]/var/log/" + std::string(120, 'l') + "/auth.json";
  for (const std::string name : {"c.tar", "c.tar.gz", "c.tar.zst"}) {
    SCOPED_TRACE(name);
    const std::string stored = name == "c.tar"      ? bytes
                               : name == "c.tar.gz" ? Gzip(bytes)
                                                    : test_support::Zstd(bytes);
    const fs::path path = dir.Write(name, stored);
    ASSERT_TRUE(IsTarArchive(path.string()));
    auto listing = ListTarArchive(path.string());
    ASSERT_TRUE(listing) << listing.error().ToString();
    EXPECT_EQ(listing->damage, "");
    std::vector<std::string> names;
    for (const TarMember& member : listing->members) names.push_back(member.name);
    EXPECT_EQ(names,
              (std::vector<std::string>{
                  "[root]/var/log/syslog.json", long_name, "live_response/process/events.json",
                  "pax/" + std::string(150, 'p') + ".json", "big.json", "empty.log"}))
        << "directories, links and sparse files are left out, in archive order";
    ASSERT_EQ(listing->not_read.size(), 2u);
    EXPECT_EQ(listing->not_read[0].first, "sparse.img");
    EXPECT_EQ(listing->not_read[1].first, "disk.img");
    EXPECT_NE(listing->not_read[1].second.find("sparse"), std::string::npos);

    // In order, each member goes on from the stream the one before left.
    const std::vector<std::string> expected = {Lines(700, "syslog"), Lines(3, "long"),
                                               Lines(5, "prefix"),   Lines(2, "pax"),
                                               Lines(4, "b256"),     ""};
    for (size_t i = 0; i < expected.size(); ++i) EXPECT_EQ(ReadMember(*listing, i), expected[i]);
    // Out of order: the stream starts again.
    EXPECT_EQ(ReadMember(*listing, 3), expected[3]);
    EXPECT_EQ(ReadMember(*listing, 0), expected[0]);
    // Two open at once: the second gets a stream of its own.
    auto first = OpenTarMember(listing->archive, listing->members[1]);
    auto second = OpenTarMember(listing->archive, listing->members[4]);
    ASSERT_TRUE(first && second);
    EXPECT_EQ(ReadMember(*second), expected[4]);
    EXPECT_EQ(ReadMember(*first), expected[1]);
    // A member left half read hands on a stream that stands inside it.
    {
      auto half = OpenTarMember(listing->archive, listing->members[0]);
      ASSERT_TRUE(half);
      char some[100];
      ASSERT_TRUE((*half)->Read(some, sizeof some));
    }
    EXPECT_EQ(ReadMember(*listing, 2), expected[2]);
  }
  EXPECT_FALSE(IsTarArchive(dir.Write("plain.json", Lines(40, "x")).string()));
  EXPECT_FALSE(IsTarArchive(dir.Write("plain.json.gz", Gzip(Lines(40, "x"))).string()));
  EXPECT_FALSE(IsTarArchive(dir.Write("short", "ustar").string()));
  std::string bad_checksum = bytes.substr(512);  // the first file's header, its sum changed
  bad_checksum[0] ^= 1;
  EXPECT_FALSE(IsTarArchive(dir.Write("bad.tar", bad_checksum).string()));
}

TEST(TarArchive, AGzipFileInsideIsDecompressed) {
  TempDir dir;
  TarWriter tar;
  tar.File("var/log/syslog.2.gz", Gzip(Lines(50, "rotated"))).File("b.json", Lines(1, "b")).End();
  const fs::path path = dir.Write("t.tgz", Gzip(tar.bytes()));
  auto listing = ListTarArchive(path.string());
  ASSERT_TRUE(listing);
  EXPECT_EQ(ReadMember(*listing, 0), Lines(50, "rotated"));
  EXPECT_EQ(ReadMember(*listing, 1), Lines(1, "b"));
}

TEST(TarArchive, DamageEndsTheListingAndKeepsWhatCameBefore) {
  TempDir dir;
  TarWriter tar;
  tar.File("a.json", Lines(10, "a")).File("b.json", Lines(2000, "b")).End();
  const std::string bytes = tar.bytes();

  // A header whose checksum fails after the first member.
  std::string damaged = bytes;
  const size_t second_header = 512 + (Lines(10, "a").size() + 511) / 512 * 512;
  damaged[second_header + 5] ^= 0x20;
  auto listing = ListTarArchive(dir.Write("damaged.tar", damaged).string());
  ASSERT_TRUE(listing);
  ASSERT_EQ(listing->members.size(), 1u);
  EXPECT_NE(listing->damage.find("damaged header at byte " + std::to_string(second_header)),
            std::string::npos)
      << listing->damage;
  EXPECT_EQ(ReadMember(*listing, 0), Lines(10, "a"));

  // Cut inside the second member, compressed and not: it is listed, hands on what is there,
  // and then says the archive ends.
  const std::string cut = bytes.substr(0, second_header + 512 + 40000);
  for (const std::string name : {"cut.tar", "cut.tgz"}) {
    SCOPED_TRACE(name);
    const fs::path path = dir.Write(name, name == "cut.tar" ? cut : Gzip(cut));
    auto cut_listing = ListTarArchive(path.string());
    ASSERT_TRUE(cut_listing);
    ASSERT_EQ(cut_listing->members.size(), 2u);
    EXPECT_EQ(cut_listing->damage, "the archive ends inside b.json");
    std::string error;
    const std::string got = ReadMember(*cut_listing, 1, &error);
    EXPECT_EQ(got, Lines(2000, "b").substr(0, 40000));
    EXPECT_EQ(error, "the archive ends inside the member b.json");
    // The error is said again, not taken for the member's end.
    auto again = OpenTarMember(cut_listing->archive, cut_listing->members[1]);
    ASSERT_TRUE(again);
    ReadMember(*again, &error);
    EXPECT_EQ(error, "the archive ends inside the member b.json");
  }

  // A compressed archive whose compressed bytes are cut: the members before stand.
  const std::string gz = Gzip(bytes);
  auto gz_cut = ListTarArchive(dir.Write("gzcut.tgz", gz.substr(0, gz.size() - 100)).string());
  ASSERT_TRUE(gz_cut);
  EXPECT_NE(gz_cut->damage.find("gzip"), std::string::npos) << gz_cut->damage;
  ASSERT_GE(gz_cut->members.size(), 1u);
  EXPECT_EQ(ReadMember(*gz_cut, 0), Lines(10, "a"));

  // Not a tar archive at all: listing fails.
  auto none = ListTarArchive(dir.Write("none.tar", std::string(1024, 'x')).string());
  ASSERT_FALSE(none);
  EXPECT_NE(none.error().message.find("not a tar archive"), std::string::npos);
  // No end-of-archive blocks: the end of the file ends it.
  TarWriter unended;
  unended.File("a.json", Lines(1, "a"));
  auto open_end = ListTarArchive(dir.Write("unended.tar", unended.bytes()).string());
  ASSERT_TRUE(open_end);
  EXPECT_EQ(open_end->members.size(), 1u);
  EXPECT_EQ(open_end->damage, "");
}

TEST(TarArchive, ACollectionInAFolderIsReadAsTheFilesItHolds) {
  const fs::path evtx =
      SharedDir() / "data/logs/evtx/Lateral Movement/LM_sysmon_psexec_smb_meterpreter.evtx";
  YAGURA_REQUIRE_SHARED(evtx);
  TempDir dir;
  TarWriter tar;
  tar.File("uac/Sysmon.evtx", testing::ReadWholeFile(evtx))
      .File("uac/auth.json", Lines(4, "auth"))
      .Header("uac/sparse.img", 'S', 0, TarWriter::Magic::kGnu)
      .End();
  dir.Write("collection/host1.tar.gz", Gzip(tar.bytes()));
  dir.Write("collection/notes.json", Lines(1, "notes"));
  Diagnostics diagnostics;
  const std::vector<InputFile> inputs =
      ExpandInputs({(dir.path() / "collection").string()}, diagnostics);
  ASSERT_EQ(inputs.size(), 3u);
  const std::string archive = (dir.path() / "collection" / "host1.tar.gz").string();
  EXPECT_EQ(inputs[0].path, archive + "!/uac/Sysmon.evtx");
  EXPECT_EQ(inputs[1].path, archive + "!/uac/auth.json");
  EXPECT_EQ(inputs[2].path, (dir.path() / "collection" / "notes.json").string());
  EXPECT_TRUE(inputs[0].archive_member && inputs[1].archive_member && !inputs[2].archive_member);
  EXPECT_EQ(inputs[1].size, Lines(4, "auth").size());
  ASSERT_EQ(diagnostics.Count(DiagnosticKind::kInputUnreadable), 1u) << "the sparse file";

  const auto read = testing::RecordData;
  const std::vector<std::string> from_tar = read(inputs[0]);
  EXPECT_GE(from_tar.size(), 5u);
  EXPECT_EQ(from_tar, read(InputFile{evtx.string()}));
  EXPECT_EQ(read(inputs[1]).size(), 4u);

  // A damaged archive keeps its members before the damage and is named.
  std::string cut = tar.bytes().substr(0, 512 + 4096);
  dir.Write("collection/host1.tar.gz", Gzip(cut));
  Diagnostics damaged;
  const auto kept = ExpandInputs({(dir.path() / "collection").string()}, damaged);
  ASSERT_EQ(kept.size(), 2u);
  EXPECT_EQ(damaged.Count(DiagnosticKind::kInputUnreadable), 1u);
}

}  // namespace
}  // namespace yagura::event

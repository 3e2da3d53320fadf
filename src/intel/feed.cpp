// LoadFeed: reads a feed file or directory (plain, gzip or zstd) and hands it to the loader of
// its format. Format detection looks at the content, not the name: JSON whose first object
// holds "Event" or "Attribute" is MISP, other JSON is STIX, anything else is a list.
#include "intel/feed.hpp"

#include <algorithm>
#include <filesystem>
#include <system_error>

#include "event/byte_source.hpp"
#include "intel/list_feed.hpp"
#include "intel/misp_feed.hpp"
#include "intel/stix_feed.hpp"

namespace yagura::intel {
namespace {

namespace fs = std::filesystem;

Result<std::string> ReadWhole(const std::string& path) {
  auto source = event::OpenByteSource(path);
  if (!source) return tl::unexpected(source.error());
  std::string text;
  constexpr size_t CHUNK = 1 << 20;
  for (;;) {
    size_t at = text.size();
    text.resize(at + CHUNK);
    auto got = (*source)->Read(text.data() + at, CHUNK);
    if (!got) return tl::unexpected(got.error());
    text.resize(at + *got);
    if (*got == 0) break;
  }
  return text;
}

FeedFormat DetectFormat(std::string_view text) {
  size_t start = text.find_first_not_of(" \t\r\n\xEF\xBB\xBF");
  if (start == std::string_view::npos) return FeedFormat::kList;
  char first = text[start];
  if (first != '{' && first != '[') return FeedFormat::kList;
  // Look at the keys near the start: MISP events open with "Event" (or a list of them, or a
  // "response" wrapper) and hold "Attribute"; STIX has "type" and "spec_version".
  std::string_view head = text.substr(start, 4096);
  size_t misp = std::min(head.find("\"Event\""), head.find("\"Attribute\""));
  size_t stix = std::min(head.find("\"spec_version\""), head.find("\"objects\""));
  if (head.find("\"type\"") != std::string_view::npos) stix = std::min(stix, head.find("\"type\""));
  if (misp != std::string_view::npos && (stix == std::string_view::npos || misp < stix))
    return FeedFormat::kMisp;
  return FeedFormat::kStix;
}

Result<FeedStats> LoadText(std::string_view text, FeedFormat format, std::string_view feed_name,
                           const std::string& where, const IndicatorSink& sink,
                           Diagnostics& diagnostics) {
  if (format == FeedFormat::kAuto) format = DetectFormat(text);
  switch (format) {
    case FeedFormat::kStix: return LoadStixBundle(text, feed_name, where, sink, diagnostics);
    case FeedFormat::kMisp: return LoadMispEvent(text, feed_name, where, sink, diagnostics);
    default: return LoadList(text, feed_name, where, sink, diagnostics);
  }
}

void Add(FeedStats& total, const FeedStats& part) {
  total.objects += part.objects;
  total.indicators += part.indicators;
  total.skipped += part.skipped;
  total.ignored += part.ignored;
  total.complete = total.complete && part.complete;
}

}  // namespace

std::string_view ToString(FeedFormat format) {
  switch (format) {
    case FeedFormat::kStix: return "stix";
    case FeedFormat::kMisp: return "misp";
    case FeedFormat::kList: return "list";
    default: return "auto";
  }
}

FeedFormat ParseFeedFormat(std::string_view name) {
  if (name == "stix") return FeedFormat::kStix;
  if (name == "misp") return FeedFormat::kMisp;
  if (name == "list") return FeedFormat::kList;
  return FeedFormat::kAuto;
}

Result<FeedStats> LoadFeed(const std::string& path, FeedFormat format, std::string_view feed_name,
                           const IndicatorSink& sink, Diagnostics& diagnostics) {
  // The feed's name defaults to its file or directory name, so alerts and ids do not depend
  // on where the feed was read from.
  std::string name(feed_name);
  if (name.empty()) {
    fs::path p(path);
    if (p.filename().empty()) p = p.parent_path();
    name = p.filename().string();
  }
  std::error_code error;
  if (fs::is_directory(path, error)) {
    if ((format == FeedFormat::kAuto || format == FeedFormat::kMisp) &&
        fs::exists(fs::path(path) / "manifest.json", error))
      return LoadMispFeedDirectory(path, name, sink, diagnostics);
    // Any other directory: every regular file in it, in name order, each a feed of its own
    // format; the directory's name is the feed.
    std::vector<fs::path> files;
    for (const auto& entry : fs::recursive_directory_iterator(path, error))
      if (entry.is_regular_file(error)) files.push_back(entry.path());
    if (error) return Fail("cannot read directory: " + error.message(), path);
    std::sort(files.begin(), files.end());
    FeedStats total;
    bool any = false;
    for (const auto& file : files) {
      auto text = ReadWhole(file.string());
      if (!text) {
        diagnostics.Report(DiagnosticKind::kInputUnreadable, file.string(), text.error().message);
        total.complete = false;
        continue;
      }
      auto stats = LoadText(*text, format, name, file.string(), sink, diagnostics);
      if (!stats) {
        diagnostics.Report(DiagnosticKind::kInputUnreadable, file.string(),
                           stats.error().message);
        total.complete = false;
        continue;
      }
      any = true;
      Add(total, *stats);
    }
    if (!any && !files.empty()) return Fail("no file of the feed could be read", path);
    return total;
  }
  auto text = ReadWhole(path);
  if (!text) return tl::unexpected(text.error());
  return LoadText(*text, format, name, path, sink, diagnostics);
}

}  // namespace yagura::intel

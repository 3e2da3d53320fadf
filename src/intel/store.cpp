#include "intel/store.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <simdjson.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>
#include <thread>

#include "core/json_writer.hpp"
#include "intel/feed_snapshot.hpp"

namespace yagura::intel {
namespace {

namespace fs = std::filesystem;

constexpr const char* MANIFEST = "feeds.json";

// Feed names become directory names: keep letters, digits, '.', '-' and '_'.
std::string SafeName(std::string_view name) {
  std::string out;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '-' || c == '_';
    out.push_back(ok ? c : '_');
  }
  while (!out.empty() && out.front() == '.') out.erase(out.begin());
  return out.empty() ? "feed" : out;
}

std::string NowRfc3339() {
  auto now = std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
  return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", now);
}

}  // namespace

std::string IntelStore::DefaultDir() {
  if (const char* dir = std::getenv("YAGURA_INTEL_STORE"); dir && *dir) return dir;
  if (const char* data = std::getenv("XDG_DATA_HOME"); data && *data)
    return std::string(data) + "/yagura/intel";
  const char* home = std::getenv("HOME");
  return std::string(home && *home ? home : ".") + "/.local/share/yagura/intel";
}

bool IntelStore::IsStore(const std::string& dir) {
  std::error_code error;
  return fs::is_regular_file(fs::path(dir) / MANIFEST, error);
}

Result<IntelStore> IntelStore::Open(const std::string& dir) {
  std::error_code error;
  fs::create_directories(fs::path(dir) / "feeds", error);
  if (error) return Fail("cannot create the indicator store: " + error.message(), dir);
  IntelStore store;
  store.dir_ = dir;
  fs::path manifest = fs::path(dir) / MANIFEST;
  if (!fs::exists(manifest, error)) {
    // A new store gets its (empty) list at once, so it is recognised as a store (IsStore)
    // before its first feed arrives.
    if (auto saved = store.Save(); !saved) return tl::unexpected(saved.error());
    return store;
  }
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (auto failure = parser.load(manifest.string()).get(root)) {
    return Fail(std::string("cannot read the store's list of feeds: ") +
                    simdjson::error_message(failure),
                manifest.string());
  }
  simdjson::dom::array feeds;
  if (root["feeds"].get_array().get(feeds))
    return Fail("the store's list of feeds has no \"feeds\" array", manifest.string());
  for (simdjson::dom::element entry : feeds) {
    StoredFeed feed;
    std::string_view text;
    if (!entry["name"].get_string().get(text)) feed.name = text;
    if (!entry["imported_from"].get_string().get(text)) feed.imported_from = text;
    if (!entry["format"].get_string().get(text)) feed.format = text;
    if (!entry["imported_at"].get_string().get(text)) feed.imported_at = text;
    uint64_t number = 0;
    if (!entry["objects"].get_uint64().get(number)) feed.stats.objects = number;
    if (!entry["indicators"].get_uint64().get(number)) feed.stats.indicators = number;
    if (!entry["skipped"].get_uint64().get(number)) feed.stats.skipped = number;
    if (!entry["ignored"].get_uint64().get(number)) feed.stats.ignored = number;
    bool complete = true;
    if (!entry["complete"].get_bool().get(complete)) feed.stats.complete = complete;
    if (!feed.name.empty()) store.feeds_.push_back(std::move(feed));
  }
  return store;
}

Result<void> IntelStore::Save() const {
  std::string out;
  JsonWriter w(out);
  w.BeginObject().Key("version").Uint(1).Key("feeds").BeginArray();
  for (const auto& feed : feeds_) {
    w.BeginObject();
    w.Key("name").String(feed.name).Key("imported_from").String(feed.imported_from);
    w.Key("format").String(feed.format).Key("imported_at").String(feed.imported_at);
    w.Key("objects").Uint(feed.stats.objects).Key("indicators").Uint(feed.stats.indicators);
    w.Key("skipped").Uint(feed.stats.skipped).Key("ignored").Uint(feed.stats.ignored);
    w.Key("complete").Bool(feed.stats.complete);
    w.EndObject();
  }
  w.EndArray().EndObject();
  out.push_back('\n');
  // Written aside and renamed, so a crash leaves the old list or the new one, never half.
  fs::path manifest = fs::path(dir_) / MANIFEST;
  fs::path temporary = fs::path(dir_) / (std::string(MANIFEST) + ".tmp");
  {
    std::ofstream file(temporary, std::ios::binary | std::ios::trunc);
    file << out;
    file.flush();
    if (!file) return Fail("cannot write the store's list of feeds", temporary.string());
  }
  std::error_code error;
  fs::rename(temporary, manifest, error);
  if (error) return Fail("cannot replace the store's list of feeds: " + error.message(), dir_);
  return {};
}

ImportOutcome IntelStore::Import(const std::string& path, const std::string& name,
                                 FeedFormat format, Diagnostics& diagnostics) {
  ImportOutcome outcome;
  fs::path source(path);
  if (source.filename().empty()) source = source.parent_path();  // "dir/"
  outcome.name = SafeName(name.empty() ? source.filename().string() : name);
  auto existing = std::find_if(feeds_.begin(), feeds_.end(),
                               [&](const StoredFeed& feed) { return feed.name == outcome.name; });

  auto snapshot = FeedSnapshot::Load(path, format, outcome.name, diagnostics);
  if (!snapshot) {
    outcome.error = snapshot.error().ToString();
    outcome.kept_previous = existing != feeds_.end();
    return outcome;
  }
  outcome.stats = (*snapshot)->stats();
  if (!outcome.stats.complete && existing != feeds_.end()) {
    outcome.kept_previous = true;
    return outcome;
  }

  // Copy aside, then swap directories, so the stored feed is always a whole version.
  std::error_code error;
  fs::path feeds_dir = fs::path(dir_) / "feeds";
  fs::path staging = feeds_dir / (".import-" + outcome.name);
  fs::remove_all(staging, error);
  fs::create_directories(staging, error);
  if (fs::is_directory(path, error)) {
    fs::copy(path, staging, fs::copy_options::recursive, error);
  } else {
    fs::copy_file(path, staging / source.filename(), error);
  }
  if (error) {
    outcome.error = "cannot copy the feed into the store: " + error.message();
    outcome.kept_previous = existing != feeds_.end();
    fs::remove_all(staging, error);
    return outcome;
  }
  fs::path target = feeds_dir / outcome.name;
  fs::path old = feeds_dir / (".old-" + outcome.name);
  fs::remove_all(old, error);
  if (fs::exists(target, error)) fs::rename(target, old, error);
  fs::rename(staging, target, error);
  if (error) {
    outcome.error = "cannot move the feed into the store: " + error.message();
    if (fs::exists(old)) fs::rename(old, target, error);
    return outcome;
  }
  fs::remove_all(old, error);

  StoredFeed stored;
  stored.name = outcome.name;
  stored.imported_from = fs::absolute(path, error).string();
  stored.format = ToString(format);
  stored.imported_at = NowRfc3339();
  stored.stats = outcome.stats;
  if (existing != feeds_.end())
    *existing = stored;
  else
    feeds_.push_back(stored);
  if (auto saved = Save(); !saved) {
    outcome.error = saved.error().ToString();
    return outcome;
  }
  outcome.stored = true;
  return outcome;
}

bool IntelStore::Remove(const std::string& name) {
  auto it = std::find_if(feeds_.begin(), feeds_.end(),
                         [&](const StoredFeed& feed) { return feed.name == name; });
  if (it == feeds_.end()) return false;
  feeds_.erase(it);
  if (!Save()) return false;
  std::error_code error;
  fs::remove_all(fs::path(dir_) / "feeds" / name, error);
  return true;
}

std::vector<FeedSource> IntelStore::Sources() const {
  std::vector<FeedSource> sources;
  for (const auto& feed : feeds_) {
    sources.push_back({(fs::path(dir_) / "feeds" / feed.name).string(),
                       ParseFeedFormat(feed.format), feed.name});
  }
  return sources;
}

std::vector<FeedSource> ExpandFeedPaths(const std::vector<std::string>& paths) {
  std::vector<FeedSource> sources;
  for (const auto& path : paths) {
    if (IntelStore::IsStore(path)) {
      if (auto store = IntelStore::Open(path)) {
        for (auto& source : store->Sources()) sources.push_back(std::move(source));
        continue;
      }
    }
    sources.push_back({path, FeedFormat::kAuto, {}});
  }
  return sources;
}

Result<StoreLock> StoreLock::Acquire(const std::string& dir, int64_t timeout_ms) {
  std::error_code error;
  fs::create_directories(dir, error);
  std::string path = (fs::path(dir) / ".lock").string();
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return Fail(std::string("cannot open the store's lock: ") + std::strerror(errno), path);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK && errno != EINTR) {
      int failure = errno;
      ::close(fd);
      return Fail(std::string("cannot lock the store: ") + std::strerror(failure), path);
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      ::close(fd);
      return Fail("the indicator store is busy: another import or TAXII pull holds it", dir);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return StoreLock(fd);
}

StoreLock::~StoreLock() {
  if (fd_ >= 0) ::close(fd_);  // closing releases the flock
}

}  // namespace yagura::intel

// Static files of the console: path resolution, an in-memory cache, conditional requests.
//
// Files are read once and kept in memory, keyed by their canonical path and validated on every
// request by stat() (modification time, size, inode): the console is a few megabytes that every
// page load asks for, so a stat per request replaces an open, a read and a SHA-256, while a new
// build written over the directory (Vite's --emptyOutDir) is still served at the next request
// without a restart. Files over MAX_CACHED_FILE_BYTES are read per request; when the cached
// total would pass MAX_CACHE_BYTES (old builds' hashed names accumulating), the cache is emptied
// and refilled by what is asked for next — simpler than an eviction order for a set this small.
//
// Safety: the request path has already been percent-decoded and checked by IsSafePath (no ".."
// or "." segment, backslash or control character), so "%2e%2e" arrives as ".." and is refused
// here too. Segments starting with '.' (hidden files) are never served. The candidate is
// resolved with canonical(), which follows every symbolic link, and must still lie inside the
// canonical root, so a link pointing out of the directory answers 404 instead of the file.
// Only regular files are served: a directory is not listed (it is a client-side route, or 404
// under /assets/), and devices or FIFOs are never opened. The directory itself is trusted to be
// written only by whoever deploys the console; a link swapped in between resolution and open is
// not defended against.
#include "http/static_files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <mutex>
#include <unordered_map>

#include "hub/crypto.hpp"

namespace yagura::http {
namespace {

namespace fs = std::filesystem;

constexpr size_t MAX_CACHED_FILE_BYTES = 8u << 20;
constexpr size_t MAX_CACHE_BYTES = 64u << 20;
constexpr std::string_view IMMUTABLE = "public, max-age=31536000, immutable";
constexpr std::string_view REVALIDATE = "no-cache";
constexpr std::string_view ASSETS_PREFIX = "/assets/";

bool StartsWith(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

// "/api" and "/api/...", not "/apiary".
bool UnderPrefix(std::string_view path, std::string_view prefix) {
  return path == prefix || StartsWith(path, std::string(prefix) + "/");
}

struct FileIdentity {
  int64_t mtime_ns = 0;
  int64_t size = 0;
  uint64_t inode = 0;
  bool operator==(const FileIdentity&) const = default;
};

FileIdentity IdentityOf(const struct stat& info) {
  return {static_cast<int64_t>(info.st_mtim.tv_sec) * 1'000'000'000 + info.st_mtim.tv_nsec,
          static_cast<int64_t>(info.st_size), static_cast<uint64_t>(info.st_ino)};
}

struct CachedFile {
  FileIdentity identity;
  std::shared_ptr<const std::string> content;
  std::string etag;  // quoted strong validator
};

// Weak comparison (RFC 9110 section 13.1.2): If-None-Match matches "*" or any listed tag equal to
// ours once the W/ prefixes are ignored.
bool NoneMatchHits(std::string_view header, std::string_view etag) {
  auto strip_weak = [](std::string_view tag) {
    if (tag.size() >= 2 && (tag[0] == 'W' || tag[0] == 'w') && tag[1] == '/') tag.remove_prefix(2);
    return tag;
  };
  etag = strip_weak(etag);
  while (!header.empty()) {
    size_t comma = header.find(',');
    std::string_view tag = header.substr(0, comma);
    header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
    while (!tag.empty() && (tag.front() == ' ' || tag.front() == '\t')) tag.remove_prefix(1);
    while (!tag.empty() && (tag.back() == ' ' || tag.back() == '\t')) tag.remove_suffix(1);
    if (tag == "*" || (!tag.empty() && strip_weak(tag) == etag)) return true;
  }
  return false;
}

Response NotFound() { return Response::Error(404, "not_found", "no such resource"); }

}  // namespace

const std::vector<std::pair<std::string, std::string>>& SecurityHeaders() {
  static const std::vector<std::pair<std::string, std::string>> headers = {
      {"Content-Security-Policy", std::string(CONTENT_SECURITY_POLICY)},
      {"X-Content-Type-Options", "nosniff"},
      {"X-Frame-Options", "DENY"},
      {"Referrer-Policy", "no-referrer"},
      {"Cross-Origin-Opener-Policy", "same-origin"},
  };
  return headers;
}

bool IsServicePath(std::string_view path) {
  return UnderPrefix(path, "/api") || UnderPrefix(path, "/taxii2") || path == "/healthz" ||
         path == "/metrics";
}

std::string_view ContentTypeFor(std::string_view file_name) {
  static const std::unordered_map<std::string_view, std::string_view> TYPES = {
      {"html", "text/html; charset=utf-8"},
      {"htm", "text/html; charset=utf-8"},
      {"js", "text/javascript; charset=utf-8"},
      {"mjs", "text/javascript; charset=utf-8"},
      {"css", "text/css; charset=utf-8"},
      {"json", "application/json"},
      {"map", "application/json"},
      {"webmanifest", "application/manifest+json"},
      {"txt", "text/plain; charset=utf-8"},
      {"svg", "image/svg+xml"},
      {"png", "image/png"},
      {"jpg", "image/jpeg"},
      {"jpeg", "image/jpeg"},
      {"gif", "image/gif"},
      {"webp", "image/webp"},
      {"avif", "image/avif"},
      {"ico", "image/x-icon"},
      {"woff2", "font/woff2"},
      {"woff", "font/woff"},
      {"ttf", "font/ttf"},
      {"otf", "font/otf"},
      {"wasm", "application/wasm"},
  };
  size_t slash = file_name.rfind('/');
  if (slash != std::string_view::npos) file_name.remove_prefix(slash + 1);
  size_t dot = file_name.rfind('.');
  if (dot == std::string_view::npos || dot == 0) return "application/octet-stream";
  std::string extension(file_name.substr(dot + 1));
  for (char& c : extension) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  auto it = TYPES.find(extension);
  return it == TYPES.end() ? std::string_view("application/octet-stream") : it->second;
}

struct StaticFiles::Impl {
  enum class Lookup { kFound, kMissing, kOutside };

  std::string root;  // canonical, no trailing slash
  mutable std::mutex mutex;
  mutable std::unordered_map<std::string, CachedFile> cache;
  mutable size_t cached_bytes = 0;

  // Resolves the request path to a file of the root. kMissing: no such regular file (a
  // client-side route, or a directory); kOutside: the path or a link leads out of the root.
  Lookup Find(std::string_view path, CachedFile& out) const {
    if (!IsSafePath(path)) return Lookup::kOutside;
    std::string_view rest = path.substr(1);
    if (rest.empty() || rest.back() == '/') return Lookup::kMissing;
    fs::path relative;
    while (!rest.empty()) {
      size_t slash = rest.find('/');
      std::string_view segment = rest.substr(0, slash);
      rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
      if (segment.empty()) return Lookup::kMissing;
      if (segment.front() == '.') return segment == "." || segment == ".." ? Lookup::kOutside
                                                                           : Lookup::kMissing;
      relative /= fs::path(std::string(segment));
    }
    std::error_code ec;
    fs::path resolved = fs::canonical(fs::path(root) / relative, ec);
    if (ec) return Lookup::kMissing;
    std::string canonical = resolved.string();
    if (!StartsWith(canonical, root + "/")) return Lookup::kOutside;
    return Load(canonical, out) ? Lookup::kFound : Lookup::kMissing;
  }

  // The file's current content, from the cache when it has not changed since it was read.
  bool Load(const std::string& canonical, CachedFile& out) const {
    struct stat info {};
    if (::stat(canonical.c_str(), &info) != 0 || !S_ISREG(info.st_mode)) return false;
    FileIdentity identity = IdentityOf(info);
    {
      std::lock_guard lock(mutex);
      auto it = cache.find(canonical);
      if (it != cache.end() && it->second.identity == identity) {
        out = it->second;
        return true;
      }
    }
    int fd = ::open(canonical.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) return false;
    auto content = std::make_shared<std::string>();
    bool ok = ::fstat(fd, &info) == 0 && S_ISREG(info.st_mode);
    if (ok) {
      identity = IdentityOf(info);
      content->reserve(static_cast<size_t>(info.st_size));
      char buffer[65536];
      while (true) {
        ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) ok = false;
        if (n <= 0) break;
        content->append(buffer, static_cast<size_t>(n));
      }
    }
    ::close(fd);
    if (!ok) return false;
    out.identity = identity;
    out.etag = "\"" + hub::Sha256Hex(*content).substr(0, 32) + "\"";
    out.content = std::move(content);
    if (out.content->size() <= MAX_CACHED_FILE_BYTES) {
      std::lock_guard lock(mutex);
      auto it = cache.find(canonical);
      if (it != cache.end()) {
        cached_bytes -= it->second.content->size();
        cache.erase(it);
      }
      if (cached_bytes + out.content->size() > MAX_CACHE_BYTES) {
        cache.clear();
        cached_bytes = 0;
      }
      cached_bytes += out.content->size();
      cache.emplace(canonical, out);
    }
    return true;
  }

  static Response Answer(const Request& request, const CachedFile& file, std::string_view name,
                         std::string_view cache_control) {
    Response response;
    response.headers.Set("ETag", file.etag);
    response.headers.Set("Cache-Control", std::string(cache_control));
    if (auto condition = request.headers.Get("if-none-match");
        condition && NoneMatchHits(*condition, file.etag)) {
      response.status = 304;
      return response;
    }
    response.status = 200;
    response.headers.Set("Content-Type", std::string(ContentTypeFor(name)));
    if (request.method == "HEAD") {
      response.headers.Set("Content-Length", std::to_string(file.content->size()));
    } else {
      response.body = *file.content;
    }
    return response;
  }
};

StaticFiles::StaticFiles(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
StaticFiles::~StaticFiles() = default;

Result<std::shared_ptr<StaticFiles>> StaticFiles::Open(const std::string& root) {
  std::error_code ec;
  fs::path canonical = fs::canonical(root, ec);
  if (ec || !fs::is_directory(canonical, ec)) {
    return Fail("the console directory " + root + " does not exist or is not a directory");
  }
  if (!fs::is_regular_file(canonical / "index.html", ec)) {
    return Fail("the console directory " + root + " has no index.html (build the web target)");
  }
  auto impl = std::make_unique<Impl>();
  impl->root = canonical.string();
  while (impl->root.size() > 1 && impl->root.back() == '/') impl->root.pop_back();
  return std::shared_ptr<StaticFiles>(new StaticFiles(std::move(impl)));
}

const std::string& StaticFiles::root() const { return impl_->root; }

Response StaticFiles::Serve(const Request& request) const {
  if ((request.method != "GET" && request.method != "HEAD") || IsServicePath(request.path)) {
    return NotFound();
  }
  CachedFile file;
  switch (impl_->Find(request.path, file)) {
    case Impl::Lookup::kFound: {
      bool hashed = StartsWith(request.path, ASSETS_PREFIX);
      return Impl::Answer(request, file, request.path, hashed ? IMMUTABLE : REVALIDATE);
    }
    case Impl::Lookup::kOutside:
      return NotFound();
    case Impl::Lookup::kMissing:
      break;
  }
  // A missing hashed asset is a stale page asking for an old build: answering it with HTML
  // would only produce a confusing script error.
  if (UnderPrefix(request.path, "/assets")) return NotFound();
  if (impl_->Find("/index.html", file) != Impl::Lookup::kFound) return NotFound();
  return Impl::Answer(request, file, "index.html", REVALIDATE);
}

void MountConsole(Router& router, std::shared_ptr<const StaticFiles> files) {
  router.SetFallback([files = std::move(files)](Request& request) { return files->Serve(request); });
}

}  // namespace yagura::http

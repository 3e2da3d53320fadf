// Console static files: SPA fallback, caching headers, ETag / 304, content types, traversal and
// symbolic links out of the root, the API's JSON 404s, and the security headers on every kind of
// response of a real server on 127.0.0.1 (port 0). Each test builds its own console directory in
// a temporary folder; nothing depends on timing.
#include "http/static_files.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "http/server.hpp"

namespace yagura::http {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view INDEX = "<!doctype html><title>Yagura</title><div id=app></div>";
constexpr std::string_view SCRIPT = "console.log('app');";
constexpr std::string_view SECRET = "TOP SECRET outside the web root";

void WriteFile(const fs::path& path, std::string_view content) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
}

// A console build: index.html, hashed assets, a few other files; plus a secret file next to
// (outside) the root that no request may reach.
class ConsoleDir {
 public:
  ConsoleDir() {
    base_ = fs::temp_directory_path() /
            ("yagura_static_" + std::to_string(::getpid()) + "_" + std::to_string(counter_++));
    fs::remove_all(base_);
    root_ = base_ / "web";
    WriteFile(root_ / "index.html", INDEX);
    WriteFile(root_ / "assets" / "index-3f2a1b.js", SCRIPT);
    WriteFile(root_ / "assets" / "index-9c8d7e.css", "body{margin:0}");
    WriteFile(root_ / "assets" / "logo-1a2b.svg", "<svg xmlns='http://www.w3.org/2000/svg'/>");
    WriteFile(root_ / "assets" / "font-77.woff2", std::string("wOF2\0\1", 6));
    WriteFile(root_ / "favicon.ico", std::string("\0\0\1\0", 4));
    WriteFile(root_ / "icon.png", std::string("\x89PNG\r\n", 6));
    WriteFile(root_ / "manifest.json", "{}");
    WriteFile(root_ / ".env", "SECRET=1");
    WriteFile(root_ / "docs" / "readme.txt", "docs");
    WriteFile(base_ / "secret.txt", SECRET);
    WriteFile(base_ / "outside" / "secret.txt", SECRET);
  }
  ~ConsoleDir() {
    std::error_code ec;
    fs::remove_all(base_, ec);
  }
  [[nodiscard]] const fs::path& root() const { return root_; }
  [[nodiscard]] const fs::path& base() const { return base_; }

 private:
  static inline int counter_ = 0;
  fs::path base_;
  fs::path root_;
};

Request MakeRequest(std::string method, std::string path, std::string if_none_match = {}) {
  Request request;
  request.method = std::move(method);
  request.target = path;
  request.path = std::move(path);
  if (!if_none_match.empty()) request.headers.Set("If-None-Match", std::move(if_none_match));
  return request;
}

std::string HeaderOf(const Response& response, std::string_view name) {
  auto value = response.headers.Get(name);
  return value ? std::string(*value) : "(absent)";
}

void ExpectJson404(const Response& response, const std::string& what) {
  EXPECT_EQ(response.status, 404) << what;
  EXPECT_EQ(HeaderOf(response, "content-type"), "application/json") << what;
  EXPECT_NE(response.body.find("\"not_found\""), std::string::npos) << what;
}

class StaticFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = StaticFiles::Open(dir_.root().string());
    ASSERT_TRUE(opened) << opened.error().message;
    files_ = *opened;
  }
  Response Get(std::string path, std::string if_none_match = {}) {
    return files_->Serve(MakeRequest("GET", std::move(path), std::move(if_none_match)));
  }
  ConsoleDir dir_;
  std::shared_ptr<StaticFiles> files_;
};

TEST(StaticFilesOpen, RefusesMissingDirectoryAndMissingIndex) {
  ConsoleDir dir;
  EXPECT_FALSE(StaticFiles::Open((dir.base() / "nope").string()));
  EXPECT_FALSE(StaticFiles::Open((dir.base() / "outside").string()));  // no index.html
  fs::create_directories(dir.base() / "dir_index" / "index.html");      // a directory, not a file
  EXPECT_FALSE(StaticFiles::Open((dir.base() / "dir_index").string()));
  auto opened = StaticFiles::Open(dir.root().string() + "/");
  ASSERT_TRUE(opened);
  EXPECT_EQ((*opened)->root(), fs::canonical(dir.root()).string());
}

TEST_F(StaticFilesTest, RootAndClientRoutesAnswerIndexHtml) {
  for (std::string path : {"/", "/incidents", "/incidents/0193f2c4-7a1e-7b3c-9d2e-1f0a2b3c4d5e",
                           "/alerts/", "/docs", "/docs/", "/index.html/extra", "/a//b"}) {
    Response response = Get(path);
    EXPECT_EQ(response.status, 200) << path;
    EXPECT_EQ(response.body, INDEX) << path;
    EXPECT_EQ(HeaderOf(response, "content-type"), "text/html; charset=utf-8") << path;
    EXPECT_EQ(HeaderOf(response, "cache-control"), "no-cache") << path;
    EXPECT_EQ(HeaderOf(response, "etag").front(), '"') << path;
  }
  Response index = Get("/index.html");
  EXPECT_EQ(index.body, INDEX);
  EXPECT_EQ(HeaderOf(index, "cache-control"), "no-cache");
}

TEST_F(StaticFilesTest, HashedAssetsAreImmutableOtherFilesRevalidated) {
  Response script = Get("/assets/index-3f2a1b.js");
  EXPECT_EQ(script.status, 200);
  EXPECT_EQ(script.body, SCRIPT);
  EXPECT_EQ(HeaderOf(script, "cache-control"), "public, max-age=31536000, immutable");
  Response text = Get("/docs/readme.txt");
  EXPECT_EQ(text.body, "docs");
  EXPECT_EQ(HeaderOf(text, "cache-control"), "no-cache");
  EXPECT_EQ(HeaderOf(Get("/favicon.ico"), "cache-control"), "no-cache");
}

TEST_F(StaticFilesTest, MissingAssetsAreJson404NotIndexHtml) {
  ExpectJson404(Get("/assets/index-000000.js"), "missing asset");
  ExpectJson404(Get("/assets/"), "assets directory");
  ExpectJson404(Get("/assets"), "assets directory without slash");
  ExpectJson404(Get("/assets/deeper/missing.css"), "missing nested asset");
}

TEST_F(StaticFilesTest, ContentTypes) {
  EXPECT_EQ(HeaderOf(Get("/assets/index-3f2a1b.js"), "content-type"),
            "text/javascript; charset=utf-8");
  EXPECT_EQ(HeaderOf(Get("/assets/index-9c8d7e.css"), "content-type"), "text/css; charset=utf-8");
  EXPECT_EQ(HeaderOf(Get("/assets/logo-1a2b.svg"), "content-type"), "image/svg+xml");
  EXPECT_EQ(HeaderOf(Get("/assets/font-77.woff2"), "content-type"), "font/woff2");
  EXPECT_EQ(HeaderOf(Get("/favicon.ico"), "content-type"), "image/x-icon");
  EXPECT_EQ(HeaderOf(Get("/icon.png"), "content-type"), "image/png");
  EXPECT_EQ(HeaderOf(Get("/manifest.json"), "content-type"), "application/json");
  EXPECT_EQ(ContentTypeFor("a/b/INDEX.HTML"), "text/html; charset=utf-8");
  EXPECT_EQ(ContentTypeFor("x.mjs"), "text/javascript; charset=utf-8");
  EXPECT_EQ(ContentTypeFor("x.woff"), "font/woff");
  EXPECT_EQ(ContentTypeFor("x.unknown"), "application/octet-stream");
  EXPECT_EQ(ContentTypeFor("Makefile"), "application/octet-stream");
  EXPECT_EQ(ContentTypeFor(".htaccess"), "application/octet-stream");
}

TEST_F(StaticFilesTest, ETagAndIfNoneMatch) {
  Response first = Get("/assets/index-3f2a1b.js");
  std::string etag = HeaderOf(first, "etag");
  ASSERT_GE(etag.size(), 3u);
  EXPECT_EQ(etag.front(), '"');
  EXPECT_EQ(etag.back(), '"');
  EXPECT_EQ(HeaderOf(Get("/assets/index-3f2a1b.js"), "etag"), etag) << "stable for one content";
  EXPECT_NE(HeaderOf(Get("/assets/index-9c8d7e.css"), "etag"), etag);

  for (std::string condition : {etag, "W/" + etag, "\"other\", " + etag, std::string("*")}) {
    Response cached = Get("/assets/index-3f2a1b.js", condition);
    EXPECT_EQ(cached.status, 304) << condition;
    EXPECT_TRUE(cached.body.empty()) << condition;
    EXPECT_EQ(HeaderOf(cached, "etag"), etag) << condition;
    EXPECT_EQ(HeaderOf(cached, "cache-control"), "public, max-age=31536000, immutable");
  }
  Response changed = Get("/assets/index-3f2a1b.js", "\"not-it\"");
  EXPECT_EQ(changed.status, 200);
  EXPECT_EQ(changed.body, SCRIPT);

  // index.html through a client route is revalidated the same way.
  std::string index_etag = HeaderOf(Get("/"), "etag");
  EXPECT_EQ(Get("/incidents/42", index_etag).status, 304);
}

TEST_F(StaticFilesTest, ChangedFileIsServedAndGetsANewETag) {
  std::string before = HeaderOf(Get("/"), "etag");
  // Another size, so the change is seen whatever the file system's timestamp resolution.
  std::string rebuilt = std::string(INDEX) + "<!-- rebuilt -->";
  WriteFile(dir_.root() / "index.html", rebuilt);
  Response after = Get("/");
  EXPECT_EQ(after.body, rebuilt);
  EXPECT_NE(HeaderOf(after, "etag"), before);
  EXPECT_EQ(Get("/", before).status, 200) << "the old validator no longer matches";

  fs::remove(dir_.root() / "assets" / "index-3f2a1b.js");
  ExpectJson404(Get("/assets/index-3f2a1b.js"), "a deleted asset is not served from the cache");
}

TEST_F(StaticFilesTest, HeadHasLengthButNoBody) {
  Response head = files_->Serve(MakeRequest("HEAD", "/assets/index-3f2a1b.js"));
  EXPECT_EQ(head.status, 200);
  EXPECT_TRUE(head.body.empty());
  EXPECT_EQ(HeaderOf(head, "content-length"), std::to_string(SCRIPT.size()));
  Response route = files_->Serve(MakeRequest("HEAD", "/overview"));
  EXPECT_EQ(HeaderOf(route, "content-length"), std::to_string(INDEX.size()));
}

TEST_F(StaticFilesTest, OtherMethodsAndServicePathsAreNotServed) {
  ExpectJson404(files_->Serve(MakeRequest("POST", "/")), "POST /");
  ExpectJson404(files_->Serve(MakeRequest("DELETE", "/index.html")), "DELETE");
  for (std::string path : {"/api", "/api/", "/api/v1/nothing", "/taxii2", "/taxii2/x/",
                           "/healthz", "/metrics"}) {
    ExpectJson404(Get(path), path);
  }
  EXPECT_TRUE(IsServicePath("/api/v1/alerts"));
  EXPECT_TRUE(IsServicePath("/taxii2/"));
  EXPECT_FALSE(IsServicePath("/apiary"));
  EXPECT_FALSE(IsServicePath("/healthz/x"));
  EXPECT_FALSE(IsServicePath("/metrics-dashboard"));
  EXPECT_FALSE(IsServicePath("/"));
}

TEST_F(StaticFilesTest, TraversalIsRefused) {
  // Decoded paths with ".." never reach a handler through the server (DecodeTarget refuses
  // them); the handler refuses them on its own as well.
  for (std::string path : {"/../secret.txt", "/assets/../../secret.txt", "/./index.html",
                           "/assets/..", "/..", "/a\\..\\secret.txt"}) {
    Response response = Get(path);
    EXPECT_EQ(response.status, 404) << path;
    EXPECT_EQ(response.body.find(SECRET), std::string::npos) << path;
  }
  for (std::string target : {"/%2e%2e/secret.txt", "/assets/%2E%2E/%2e%2e/secret.txt",
                             "/%2e%2e%2fsecret.txt", "/..%2fsecret.txt", "/%c0%ae%c0%ae/secret.txt"}) {
    Request request;
    request.method = "GET";
    auto decoded = DecodeTarget(target, request);
    if (decoded) decoded = CheckDecodedText(request);
    EXPECT_FALSE(decoded) << target << " decoded to " << request.path;
    // Served undecoded (as a literal name) it is just a missing file: index.html, not the secret.
    Response response = Get(target);
    EXPECT_EQ(response.body.find(SECRET), std::string::npos) << target;
  }
}

TEST_F(StaticFilesTest, HiddenFilesAreNotServed) {
  Response response = Get("/.env");
  EXPECT_EQ(response.body, INDEX);
  ExpectJson404(Get("/assets/.hidden"), "hidden file under assets");
}

TEST_F(StaticFilesTest, SymlinksOutOfTheRootAre404) {
  fs::create_symlink(dir_.base() / "secret.txt", dir_.root() / "leak.txt");
  fs::create_directory_symlink(dir_.base() / "outside", dir_.root() / "assets" / "out");
  fs::create_directory_symlink(dir_.base(), dir_.root() / "up");
  fs::create_symlink("../../secret.txt", dir_.root() / "assets" / "relative.js");
  for (std::string path : {"/leak.txt", "/assets/out/secret.txt", "/up/secret.txt",
                           "/up/web/../secret.txt", "/assets/relative.js"}) {
    Response response = Get(path);
    EXPECT_EQ(response.status, 404) << path;
    EXPECT_EQ(response.body.find(SECRET), std::string::npos) << path;
  }
  // Links that stay inside the root are fine.
  fs::create_symlink("index-3f2a1b.js", dir_.root() / "assets" / "alias.js");
  Response alias = Get("/assets/alias.js");
  EXPECT_EQ(alias.status, 200);
  EXPECT_EQ(alias.body, SCRIPT);
}

TEST_F(StaticFilesTest, RootReachedThroughASymlinkStillWorks) {
  fs::create_directory_symlink(dir_.root(), dir_.base() / "current");
  auto opened = StaticFiles::Open((dir_.base() / "current").string());
  ASSERT_TRUE(opened);
  EXPECT_EQ((*opened)->Serve(MakeRequest("GET", "/assets/index-3f2a1b.js")).body, SCRIPT);
  EXPECT_EQ((*opened)->Serve(MakeRequest("GET", "/x")).body, INDEX);
}

TEST_F(StaticFilesTest, NoDirectoryListing) {
  for (std::string path : {"/docs", "/docs/", "/"}) {
    Response response = Get(path);
    EXPECT_EQ(response.body, INDEX) << path;
    EXPECT_EQ(response.body.find("readme.txt"), std::string::npos) << path;
  }
}

// --- wired into a router ---------------------------------------------------------------------

Router ApiRouter() {
  Router router;
  router.Add("GET", "/api/v1/things", [](Request&) { return Response::Json(200, "[]"); });
  router.Add("POST", "/api/v1/things", [](Request&) { return Response::Json(201, "{}"); });
  router.Add("GET", "/healthz", [](Request&) { return Response::Json(200, "{\"ok\":true}"); });
  return router;
}

TEST_F(StaticFilesTest, RouterKeepsApiAnswersAndFallsBackToTheConsole) {
  Router router = ApiRouter();
  MountConsole(router, files_);
  auto dispatch = [&](std::string method, std::string path) {
    Request request = MakeRequest(std::move(method), std::move(path));
    return router.Dispatch(request);
  };
  EXPECT_EQ(dispatch("GET", "/api/v1/things").body, "[]");
  EXPECT_EQ(dispatch("GET", "/healthz").status, 200);
  EXPECT_EQ(dispatch("DELETE", "/api/v1/things").status, 405) << "known path, other method";
  for (std::string path : {"/api/v1/nothing", "/api/v1/things/1/x", "/api", "/taxii2/",
                           "/taxii2/collections/x/objects/", "/metrics"}) {
    ExpectJson404(dispatch("GET", path), path);
  }
  ExpectJson404(dispatch("POST", "/api/v1/nothing"), "POST to an unknown API path");
  ExpectJson404(dispatch("POST", "/incidents"), "POST to a console path");
  Response page = dispatch("GET", "/incidents/42");
  EXPECT_EQ(page.status, 200);
  EXPECT_EQ(page.body, INDEX);
  Request head = MakeRequest("HEAD", "/assets/index-3f2a1b.js");
  Response head_response = router.Dispatch(head);
  EXPECT_TRUE(head_response.body.empty());
  EXPECT_EQ(head.route, "") << "no client-chosen path becomes a route label";
}

TEST(RouterFallback, WithoutAConsoleUnknownPathsStay404AndExceptionsBecome500) {
  Router router = ApiRouter();
  Request request = MakeRequest("GET", "/incidents");
  ExpectJson404(router.Dispatch(request), "no fallback");
  router.SetFallback([](Request&) -> Response { throw std::runtime_error("boom"); });
  Request again = MakeRequest("GET", "/incidents");
  EXPECT_EQ(router.Dispatch(again).status, 500);
}

// --- security headers over a real connection ---------------------------------------------------

// Sends raw bytes to 127.0.0.1:port and reads until the server closes the connection (every
// request below says "Connection: close"). The receive timeout only keeps a broken server from
// hanging the test.
std::string Exchange(uint16_t port, const std::string& request) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  timeval timeout{15, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  ::inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
  std::string response;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0) {
    ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
    char buffer[16384];
    ssize_t n;
    while ((n = ::recv(fd, buffer, sizeof buffer, 0)) > 0) response.append(buffer, n);
  }
  ::close(fd);
  return response;
}

std::string RawRequest(std::string_view method, std::string_view target, std::string_view extra = {}) {
  return std::string(method) + " " + std::string(target) +
         " HTTP/1.1\r\nHost: test\r\nConnection: close\r\n" + std::string(extra) + "\r\n";
}

int StatusOf(const std::string& response) {
  return response.size() > 12 ? std::atoi(response.c_str() + 9) : 0;
}

// The value of a response header (first occurrence, case-insensitive name), "(absent)" if none.
std::string WireHeader(const std::string& response, std::string_view name) {
  size_t end = response.find("\r\n\r\n");
  size_t line_start = response.find("\r\n");
  while (line_start != std::string::npos && line_start < end) {
    size_t line_end = response.find("\r\n", line_start + 2);
    std::string line = response.substr(line_start + 2, line_end - line_start - 2);
    size_t colon = line.find(':');
    if (colon == name.size() &&
        std::equal(name.begin(), name.end(), line.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) ==
                 std::tolower(static_cast<unsigned char>(b));
        })) {
      std::string value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      return value;
    }
    line_start = line_end;
  }
  return "(absent)";
}

class SecurityHeadersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    router_ = ApiRouter();
    router_.Add("GET", "/api/v1/download", [](Request&) {
      Response response = Response::Text(200, "bytes", "application/octet-stream");
      response.headers.Set("Content-Security-Policy", "default-src 'none'; sandbox");
      return response;
    });
    router_.Add("GET", "/api/v1/fail", [](Request&) -> Response {
      throw std::runtime_error("handler failure");
    });
    auto files = StaticFiles::Open(dir_.root().string());
    ASSERT_TRUE(files);
    MountConsole(router_, *files);
    ServerOptions options;
    options.listen = "127.0.0.1:0";
    options.threads = 1;
    options.max_body_bytes = 64;
    // As `yagura serve` configures it: API answers are never cached.
    options.default_headers = {{"Cache-Control", "no-store"}};
    server_ = std::make_unique<Server>(options, router_);
    auto port = server_->Start();
    ASSERT_TRUE(port) << port.error().message;
    port_ = *port;
    thread_ = std::thread([this] { server_->Run(); });
  }
  void TearDown() override {
    if (server_) server_->Stop(5);
    if (thread_.joinable()) thread_.join();
  }

  static void ExpectSecurityHeaders(const std::string& response, const std::string& what) {
    ASSERT_FALSE(response.empty()) << what;
    EXPECT_EQ(WireHeader(response, "Content-Security-Policy"), CONTENT_SECURITY_POLICY) << what;
    EXPECT_EQ(WireHeader(response, "X-Content-Type-Options"), "nosniff") << what;
    EXPECT_EQ(WireHeader(response, "X-Frame-Options"), "DENY") << what;
    EXPECT_EQ(WireHeader(response, "Referrer-Policy"), "no-referrer") << what;
    EXPECT_EQ(WireHeader(response, "Cross-Origin-Opener-Policy"), "same-origin") << what;
  }

  ConsoleDir dir_;
  Router router_;
  std::unique_ptr<Server> server_;
  std::thread thread_;
  uint16_t port_ = 0;
};

TEST_F(SecurityHeadersTest, OnApiConsoleAndErrorResponses) {
  EXPECT_EQ(std::string(CONTENT_SECURITY_POLICY),
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
            "form-action 'self'; frame-ancestors 'none'");

  std::string api = Exchange(port_, RawRequest("GET", "/api/v1/things"));
  EXPECT_EQ(StatusOf(api), 200);
  ExpectSecurityHeaders(api, "API 200");
  EXPECT_EQ(WireHeader(api, "Cache-Control"), "no-store");

  std::string health = Exchange(port_, RawRequest("GET", "/healthz"));
  EXPECT_EQ(StatusOf(health), 200);
  ExpectSecurityHeaders(health, "healthz");

  std::string missing = Exchange(port_, RawRequest("GET", "/api/v1/nothing"));
  EXPECT_EQ(StatusOf(missing), 404);
  EXPECT_EQ(WireHeader(missing, "Content-Type"), "application/json");
  ExpectSecurityHeaders(missing, "API 404");

  std::string taxii = Exchange(port_, RawRequest("GET", "/taxii2/"));
  EXPECT_EQ(StatusOf(taxii), 404);
  EXPECT_EQ(WireHeader(taxii, "Content-Type"), "application/json");
  ExpectSecurityHeaders(taxii, "taxii2 404");

  std::string not_allowed = Exchange(port_, RawRequest("DELETE", "/api/v1/things"));
  EXPECT_EQ(StatusOf(not_allowed), 405);
  ExpectSecurityHeaders(not_allowed, "405");

  std::string failed = Exchange(port_, RawRequest("GET", "/api/v1/fail"));
  EXPECT_EQ(StatusOf(failed), 500);
  ExpectSecurityHeaders(failed, "500");

  std::string malformed = Exchange(port_, "GARBAGE\r\n\r\n");
  EXPECT_EQ(StatusOf(malformed), 400);
  ExpectSecurityHeaders(malformed, "malformed request");

  std::string too_large = Exchange(
      port_, RawRequest("POST", "/api/v1/things", "Content-Length: 1000\r\n") + std::string(1000, 'x'));
  EXPECT_EQ(StatusOf(too_large), 413);
  ExpectSecurityHeaders(too_large, "413");

  std::string page = Exchange(port_, RawRequest("GET", "/incidents/42"));
  EXPECT_EQ(StatusOf(page), 200);
  EXPECT_NE(page.find(INDEX), std::string::npos);
  EXPECT_EQ(WireHeader(page, "Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(WireHeader(page, "Cache-Control"), "no-cache") << "the handler's value replaces the default";
  ExpectSecurityHeaders(page, "console page");

  std::string asset = Exchange(port_, RawRequest("GET", "/assets/index-3f2a1b.js"));
  EXPECT_EQ(StatusOf(asset), 200);
  EXPECT_EQ(WireHeader(asset, "Cache-Control"), "public, max-age=31536000, immutable");
  EXPECT_EQ(WireHeader(asset, "Content-Length"), std::to_string(SCRIPT.size()));
  ExpectSecurityHeaders(asset, "asset");

  std::string etag = WireHeader(asset, "ETag");
  std::string not_modified =
      Exchange(port_, RawRequest("GET", "/assets/index-3f2a1b.js", "If-None-Match: " + etag + "\r\n"));
  EXPECT_EQ(StatusOf(not_modified), 304);
  EXPECT_EQ(not_modified.substr(not_modified.find("\r\n\r\n") + 4), "");
  ExpectSecurityHeaders(not_modified, "304");

  std::string head = Exchange(port_, RawRequest("HEAD", "/assets/index-3f2a1b.js"));
  EXPECT_EQ(StatusOf(head), 200);
  EXPECT_EQ(WireHeader(head, "Content-Length"), std::to_string(SCRIPT.size()));
  EXPECT_EQ(head.substr(head.find("\r\n\r\n") + 4), "");

  std::string missing_asset = Exchange(port_, RawRequest("GET", "/assets/gone-123.js"));
  EXPECT_EQ(StatusOf(missing_asset), 404);
  ExpectSecurityHeaders(missing_asset, "missing asset");

  // A handler may tighten the policy for what it serves.
  std::string download = Exchange(port_, RawRequest("GET", "/api/v1/download"));
  EXPECT_EQ(WireHeader(download, "Content-Security-Policy"), "default-src 'none'; sandbox");
  EXPECT_EQ(WireHeader(download, "X-Frame-Options"), "DENY");
}

TEST_F(SecurityHeadersTest, TraversalOverTheWireNeverLeaks) {
  fs::create_directory_symlink(dir_.base(), dir_.root() / "up");
  for (std::string target : {"/%2e%2e/secret.txt", "/assets/%2e%2e/%2e%2e/secret.txt",
                             "/../secret.txt", "/assets/..%2f..%2fsecret.txt", "/up/secret.txt"}) {
    std::string response = Exchange(port_, RawRequest("GET", target));
    int status = StatusOf(response);
    EXPECT_TRUE(status == 400 || status == 404) << target << " -> " << status;
    EXPECT_EQ(response.find(SECRET), std::string::npos) << target;
    ExpectSecurityHeaders(response, target);
  }
}

}  // namespace
}  // namespace yagura::http
